//! sealdrop: an anonymous source-submission drop. Every byte a source sends is
//! sealed with age to the newsroom's public keys as it streams in; editors open
//! submissions on an air-gapped machine with `sealdrop-open`.
//!
//! Where each part runs:
//! - both programs: the sealed format ([`seal`]), keys ([`keys`], [`pq`]),
//!   the age layer ([`agefile`]), the reply channel's format ([`reply`]) and
//!   small shared pieces ([`fsutil`], [`hex`],
//!   [`id`], [`bytesize`]);
//! - both command-line programs: [`terminal`] (progress, safe printing);
//! - the online server: [`server`] (behind the `server` feature);
//! - the transfer laptop: [`pickup`] (the protocol; its client needs the
//!   `server` feature's network stack);
//! - the air-gapped laptop: [`open`], which never links a network crate;
//! - the `sealdrop` command line: [`cli`]. Binaries in `src/bin/` are thin.
#![forbid(unsafe_code)]

/// Implements serde's `Deserialize` for types written as strings in config
/// files, through their `FromStr` (whose error, a `String`, becomes the
/// config error), so flags and config keys parse alike.
macro_rules! deserialize_from_str {
    ($($t:ty),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}
pub(crate) use deserialize_from_str;

pub mod agefile;
pub mod bytesize;
#[cfg(feature = "server")]
pub mod cli;
pub mod fsutil;
pub mod hex;
pub mod id;
pub mod keys;
#[cfg(feature = "server")]
pub mod notify;
pub mod open;
pub mod pickup;
#[cfg(feature = "pq")]
pub mod pq;
pub mod reply;
pub mod seal;
#[cfg(feature = "server")]
pub mod server;
pub mod terminal;
pub mod wipe;
