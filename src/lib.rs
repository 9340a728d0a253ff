//! sealdrop: an anonymous source-submission drop. Every byte a source sends is
//! sealed with age to the newsroom's public keys as it streams in; editors open
//! submissions on an air-gapped machine with `sealdrop-open`.
#![forbid(unsafe_code)]

pub mod agefile;
pub mod fsutil;
pub mod keys;
pub mod open;
#[cfg(feature = "pq")]
pub mod pq;
pub mod seal;
#[cfg(feature = "server")]
pub mod server;
