//! The proof of a codename that the replies page's two forms (follow-up,
//! delete) carry in a hidden field, so that the source need not type it
//! again and nothing needs a cookie or a session on the server.
//!
//! A token is the codename, an expiry, the thread's desk and the names of
//! the replies the page showed (so that "delete" deletes exactly those),
//! sealed with XChaCha20-Poly1305
//! under a key drawn at start-up that exists only in this process's memory:
//! only this process can read a token, and none survives a restart. Nothing
//! about tokens is stored.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::store::replies::REPLY_SUFFIX;
use sealdrop_format::reply::codename::{Codename, DIGITS};

/// How long a replies page's forms work.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 3600);
const NONCE_LEN: usize = 24;
/// The most reply names a token carries (a page's replies).
pub const MAX_SHOWN: usize = crate::store::replies::PAGE_REPLIES;
/// Codename, expiry, desk, count of names, the names (16 bytes each).
const PLAINTEXT_LEN: usize = DIGITS + 8 + 1 + 1 + MAX_SHOWN * 16;
/// The desk byte of a token whose thread has no desk yet.
const NO_DESK: u8 = u8::MAX;
/// The length of every token, in characters (base64url of nonce, sealed
/// codename and expiry, tag): pages with a token are all the same length.
pub const TOKEN_CHARS: usize = ((NONCE_LEN + PLAINTEXT_LEN + 16) * 4).div_ceil(3);

/// Why a token was refused; the source sees one page for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not made by this process (forged, damaged, or from before a restart).
    Unknown,
    /// Older than [`TOKEN_LIFETIME`].
    Expired,
}

/// What a token proves.
pub struct Proof {
    pub codename: Codename,
    /// The thread's desk (index in the server's desks), if a reply named one.
    pub desk: Option<usize>,
    /// The reply files the page showed, by name (`<32 hex>.reply`).
    pub shown: Vec<String>,
}

pub struct FormTokens {
    cipher: XChaCha20Poly1305,
}

impl FormTokens {
    /// A new key, from the OS generator.
    pub fn new() -> FormTokens {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut key[..]);
        FormTokens {
            cipher: XChaCha20Poly1305::new((&*key).into()),
        }
    }

    /// A token for `proof`, valid for [`TOKEN_LIFETIME`] from `now`.
    pub fn issue(&self, proof: &Proof, now: SystemTime) -> String {
        let expiry = (now + TOKEN_LIFETIME)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_LEN]);
        plaintext[..DIGITS].copy_from_slice(proof.codename.ascii());
        plaintext[DIGITS..DIGITS + 8].copy_from_slice(&expiry.to_be_bytes());
        plaintext[DIGITS + 8] = proof
            .desk
            .and_then(|d| u8::try_from(d).ok())
            .filter(|d| *d != NO_DESK)
            .unwrap_or(NO_DESK);
        let names: Vec<[u8; 16]> = proof
            .shown
            .iter()
            .filter_map(|n| n.strip_suffix(REPLY_SUFFIX))
            .filter_map(sealdrop_format::hex::decode::<16>)
            .take(MAX_SHOWN)
            .collect();
        plaintext[DIGITS + 9] = names.len() as u8;
        for (i, name) in names.iter().enumerate() {
            let at = DIGITS + 10 + i * 16;
            plaintext[at..at + 16].copy_from_slice(name);
        }
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), &plaintext[..])
            .expect("XChaCha20-Poly1305 seals any short plaintext");
        let mut token = Vec::with_capacity(NONCE_LEN + sealed.len());
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        BASE64_URL_SAFE_NO_PAD.encode(token)
    }

    /// What `token` proves, if this process made it and it is still valid.
    pub fn open(&self, token: &str, now: SystemTime) -> Result<Proof, TokenError> {
        let token = token.trim();
        if token.len() > 2 * TOKEN_CHARS {
            return Err(TokenError::Unknown);
        }
        let raw = BASE64_URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Unknown)?;
        if raw.len() <= NONCE_LEN {
            return Err(TokenError::Unknown);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plaintext = Zeroizing::new(
            self.cipher
                .decrypt(XNonce::from_slice(nonce), sealed)
                .map_err(|_| TokenError::Unknown)?,
        );
        if plaintext.len() != PLAINTEXT_LEN {
            return Err(TokenError::Unknown);
        }
        let expiry = u64::from_be_bytes(plaintext[DIGITS..DIGITS + 8].try_into().expect("8 bytes"));
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if now > expiry {
            return Err(TokenError::Expired);
        }
        let digits = std::str::from_utf8(&plaintext[..DIGITS]).map_err(|_| TokenError::Unknown)?;
        let codename = Codename::parse(digits).map_err(|_| TokenError::Unknown)?;
        let desk = Some(plaintext[DIGITS + 8])
            .filter(|d| *d != NO_DESK)
            .map(usize::from);
        let count = usize::from(plaintext[DIGITS + 9]).min(MAX_SHOWN);
        let shown = (0..count)
            .map(|i| {
                let at = DIGITS + 10 + i * 16;
                format!(
                    "{}{REPLY_SUFFIX}",
                    sealdrop_format::hex::encode(&plaintext[at..at + 16])
                )
            })
            .collect();
        Ok(Proof {
            codename,
            desk,
            shown,
        })
    }
}

impl Default for FormTokens {
    fn default() -> Self {
        FormTokens::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_in_this_process_only_and_expire() {
        let tokens = FormTokens::new();
        let codename = Codename::generate();
        let now = SystemTime::now();
        let shown = vec![format!("{}{REPLY_SUFFIX}", "0f".repeat(16))];
        let proof = |desk, shown: &Vec<String>| Proof {
            codename: Codename::parse(std::str::from_utf8(codename.ascii()).unwrap()).unwrap(),
            desk,
            shown: shown.clone(),
        };
        let token = tokens.issue(&proof(Some(2), &shown), now);
        assert_eq!(token.len(), TOKEN_CHARS);
        // Every token the same length, whatever it carries.
        assert_eq!(
            tokens.issue(&proof(None, &Vec::new()), now).len(),
            TOKEN_CHARS
        );
        assert!(!token.contains(std::str::from_utf8(&codename.ascii()[..8]).unwrap()));
        let opened = tokens.open(&token, now).unwrap();
        assert_eq!(opened.codename.ascii(), codename.ascii());
        assert_eq!(opened.desk, Some(2));
        assert_eq!(opened.shown, shown);
        assert_eq!(
            tokens
                .open(&token, now + TOKEN_LIFETIME + Duration::from_secs(1))
                .err(),
            Some(TokenError::Expired)
        );
        // Another process (a restart) has another key.
        assert_eq!(
            FormTokens::new().open(&token, now).err(),
            Some(TokenError::Unknown)
        );
        let mut damaged = token.into_bytes();
        damaged[40] = if damaged[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            tokens
                .open(std::str::from_utf8(&damaged).unwrap(), now)
                .err(),
            Some(TokenError::Unknown)
        );
        for junk in ["", "!!", "AAAA", &"A".repeat(10_000)] {
            assert_eq!(tokens.open(junk, now).err(), Some(TokenError::Unknown));
        }
    }
}
