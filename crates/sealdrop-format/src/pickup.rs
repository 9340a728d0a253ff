//! The pickup protocol (docs/PICKUP.md), which moves sealed files from the
//! server to the editors' transfer laptop. This module is what both sides
//! share: the wire types and routes, and the tokens. The server side is
//! `sealdrop_server::pickup_api`; the client, `sealdrop pickup`, is in the
//! `sealdrop` crate.
//!
//! `GET /v1/submissions` lists pending files (id, size, SHA-256 of the
//! ciphertext; nothing else); `GET /v1/submissions/{id}` streams one;
//! `POST /v1/submissions/{id}/ack` with `{"sha256": "…"}` deletes it, only if
//! the hash matches; `POST /v1/replies` with a reply file as the body stores
//! it for its source. Every route needs a bearer token.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hex;
use crate::id::SubmissionId;

/// The listing route.
pub const LIST_PATH: &str = "/v1/submissions";

/// The route that takes one reply file (`sealdrop push-replies`).
pub const REPLIES_PATH: &str = "/v1/replies";

/// The answer to a pushed reply.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The name the server stored it under (a hash of its bytes).
    pub stored: String,
    /// False when the same file had been pushed before.
    pub new: bool,
}

/// The route that streams one sealed file.
pub fn download_path(id: &SubmissionId) -> String {
    format!("{LIST_PATH}/{id}")
}

/// The route that acknowledges (and so deletes) one sealed file.
pub fn ack_path(id: &SubmissionId) -> String {
    format!("{LIST_PATH}/{id}/ack")
}

/// One sealed file waiting on the server.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the sealed file's bytes.
    pub sha256: String,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Listing {
    pub submissions: Vec<Pending>,
}

/// Body of an acknowledgement: the hash of the copy the client holds.
#[derive(Serialize, Deserialize, Debug)]
pub struct Ack {
    pub sha256: String,
}

/// Tokens look like `sealdrop-pickup-v1-<64 hex digits>` (256 random bits).
pub const TOKEN_PREFIX: &str = "sealdrop-pickup-v1-";

/// The SHA-256 of a pickup token: all the server ever keeps of one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", hex::encode(&self.0))
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl FromStr for TokenHash {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        hex::decode::<32>(text).map(TokenHash).ok_or_else(|| {
            format!(
                "{text:?} is not a pickup token hash (64 hex digits from `sealdrop pickup-token`)"
            )
        })
    }
}

crate::deserialize_from_str!(TokenHash);

/// A new token, for the editor, and its hash, for the server.
pub fn new_token() -> (String, TokenHash) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(&bytes));
    let hash = TokenHash::of(&token);
    (token, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_as_printed() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(
            hash.to_string().parse::<TokenHash>().unwrap().0,
            <[u8; 32]>::from(Sha256::digest(a.as_bytes()))
        );
        assert!("abc".parse::<TokenHash>().is_err());
        assert!("g".repeat(64).parse::<TokenHash>().is_err());
    }
}
