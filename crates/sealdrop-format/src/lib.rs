//! The sealed format and everything every sealdrop program shares: it runs
//! on the online server, the editors' transfer laptop and the air-gapped
//! laptop alike, so it has no network code, no async runtime and no features.
//!
//! - the sealed format ([`seal`]): a streamed ZIP with its manifest, padded
//!   and sealed with age ([`agefile`]);
//! - keys ([`keys`]), post-quantum included ([`pq`]), and the reply channel's
//!   keys and files ([`reply`]);
//! - the pickup protocol's wire types and tokens ([`pickup`]);
//! - process hardening every program applies first ([`hardening`]), and
//!   wiping of what we own ([`wipe`]);
//! - small shared pieces: [`fsutil`], [`hex`], [`id`], [`bytesize`], and
//!   [`terminal`] (progress, safe printing) for both command-line programs.
#![forbid(unsafe_code)]

/// Implements serde's `Deserialize` for types written as strings in config
/// files, through their `FromStr` (whose error, a `String`, becomes the
/// config error), so flags and config keys parse alike.
#[macro_export]
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

pub mod agefile;
pub mod bytesize;
pub mod fsutil;
pub mod hardening;
pub mod hex;
pub mod id;
pub mod keys;
pub mod pickup;
pub mod pq;
pub mod reply;
pub mod seal;
pub mod terminal;
pub mod wipe;
