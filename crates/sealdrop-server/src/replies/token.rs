//! The proof of a codename that the replies page's two forms (follow-up,
//! delete) carry in a hidden field, so that the source need not type it
//! again and nothing needs a cookie or a session on the server.
//!
//! A token is the codename and an expiry, sealed with XChaCha20-Poly1305
//! under a key drawn at start-up that exists only in this process's memory:
//! only this process can read a token, and none survives a restart. Nothing
//! about tokens is stored.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::prelude::{Engine, BASE64_URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use sealdrop_format::reply::codename::{Codename, DIGITS};

/// How long a replies page's forms work.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 3600);
const NONCE_LEN: usize = 24;
const PLAINTEXT_LEN: usize = DIGITS + 8;
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

    /// A token for `codename`, valid for [`TOKEN_LIFETIME`] from `now`.
    pub fn issue(&self, codename: &Codename, now: SystemTime) -> String {
        let expiry = (now + TOKEN_LIFETIME)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_LEN]);
        plaintext[..DIGITS].copy_from_slice(codename.ascii());
        plaintext[DIGITS..].copy_from_slice(&expiry.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), &plaintext[..])
            .expect("XChaCha20-Poly1305 seals any 40 bytes");
        let mut token = Vec::with_capacity(NONCE_LEN + sealed.len());
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        BASE64_URL_SAFE_NO_PAD.encode(token)
    }

    /// The codename in `token`, if this process made it and it is still valid.
    pub fn open(&self, token: &str, now: SystemTime) -> Result<Codename, TokenError> {
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
        let expiry = u64::from_be_bytes(plaintext[DIGITS..].try_into().expect("8 bytes"));
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if now > expiry {
            return Err(TokenError::Expired);
        }
        let digits = std::str::from_utf8(&plaintext[..DIGITS]).map_err(|_| TokenError::Unknown)?;
        Codename::parse(digits).map_err(|_| TokenError::Unknown)
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
        let token = tokens.issue(&codename, now);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(!token.contains(std::str::from_utf8(&codename.ascii()[..8]).unwrap()));
        assert_eq!(tokens.open(&token, now).unwrap().ascii(), codename.ascii());
        assert_eq!(
            tokens
                .open(&token, now + TOKEN_LIFETIME + Duration::from_secs(1))
                .unwrap_err(),
            TokenError::Expired
        );
        // Another process (a restart) has another key.
        assert_eq!(
            FormTokens::new().open(&token, now).unwrap_err(),
            TokenError::Unknown
        );
        let mut damaged = token.into_bytes();
        damaged[40] = if damaged[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            tokens
                .open(std::str::from_utf8(&damaged).unwrap(), now)
                .unwrap_err(),
            TokenError::Unknown
        );
        for junk in ["", "!!", "AAAA", &"A".repeat(10_000)] {
            assert_eq!(tokens.open(junk, now).unwrap_err(), TokenError::Unknown);
        }
    }
}
