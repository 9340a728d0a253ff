//! Runs in both programs: age v1.3's hybrid post-quantum recipient type
//! `mlkem768x25519`
//! (C2SP age spec, "The MLKEM768-X25519 hybrid post-quantum recipient type"):
//! recipients `age1pq1…`, identities `AGE-SECRET-KEY-PQ-1…`, sealed with HPKE
//! base mode over the X-Wing KEM, HKDF-SHA256 and ChaCha20-Poly1305.
//!
//! When to delete this module: `age` 0.12.1 (the newest release when this was
//! written) ships only the tagged `mlkem768p256tag` type. Once a release of the
//! `age` crate exports an `mlkem768x25519` recipient and identity, switch
//! `keys.rs` to them, keep `crates/sealdrop-testkit/tests/format/cctv.rs` and the KATs below as the proof of
//! equivalence, and remove this module and the `pq` feature's extra crates.

mod xwing;

use std::collections::HashSet;
use std::fmt;

use age::{DecryptError, EncryptError};
use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use age_core::primitives::{
    bech32_decode, bech32_encode, bech32_encode_to_fmt, hpke_open, hpke_seal,
};
use age_core::secrecy::{ExposeSecret, SecretString};
use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
use bech32::Hrp;
use hpke::{HpkeError, Serializable};
use rand::RngCore;
use zeroize::Zeroizing;

pub use xwing::mlkem_ek_passes_modulus_check;
use xwing::{EncappedKey, KeyCheck, PrivateKey, PublicKey, XWing};

pub const STANZA_TAG: &str = "mlkem768x25519";
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
const RECIPIENT_HRP: Hrp = Hrp::parse_unchecked("age1pq");
const IDENTITY_HRP: Hrp = Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");
/// The textual prefix of every recipient of this type.
pub const RECIPIENT_PREFIX: &str = "age1pq1";
/// The textual prefix of every identity of this type.
pub const IDENTITY_PREFIX: &str = "AGE-SECRET-KEY-PQ-1";
/// The label that makes age refuse to mix this type with classic recipients.
pub const POSTQUANTUM_LABEL: &str = "postquantum";
/// ChaCha20-Poly1305 over the 16-byte file key.
const BODY_LEN: usize = FILE_KEY_BYTES + 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PqKeyError {
    #[error("not a valid Bech32 string (a character is mistyped or missing?)")]
    Bech32,
    #[error("wrong prefix: expected {0}")]
    Prefix(&'static str),
    #[error("wrong length: {got} bytes where {expected} were expected (truncated or damaged key)")]
    Length { expected: usize, got: usize },
    #[error("its ML-KEM-768 key fails the FIPS 203 modulus check: it is damaged or malicious")]
    MlKemModulus,
    #[error("its X25519 key is a low-order point: it is damaged or malicious")]
    X25519LowOrder,
}

impl From<KeyCheck> for PqKeyError {
    fn from(check: KeyCheck) -> Self {
        match check {
            KeyCheck::Length(got) => PqKeyError::Length {
                expected: xwing::PUBLIC_KEY_LEN,
                got,
            },
            KeyCheck::MlKemModulus => PqKeyError::MlKemModulus,
            KeyCheck::X25519LowOrder => PqKeyError::X25519LowOrder,
        }
    }
}

/// An `age1pq1…` recipient: an X-Wing encapsulation key (1216 bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient(PublicKey);

impl std::str::FromStr for Recipient {
    type Err = PqKeyError;

    fn from_str(s: &str) -> Result<Self, PqKeyError> {
        bech32_decode(
            s,
            |_| PqKeyError::Bech32,
            |hrp| {
                (hrp == RECIPIENT_HRP)
                    .then_some(())
                    .ok_or(PqKeyError::Prefix(RECIPIENT_PREFIX))
            },
            |_, bytes| {
                let bytes: Vec<u8> = bytes.collect();
                Ok(Recipient(PublicKey::parse(&bytes)?))
            },
        )
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bech32_encode_to_fmt(f, RECIPIENT_HRP, &self.0.to_bytes())
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let (enc, body) = hpke_seal::<XWing, _>(
            &self.0,
            HPKE_INFO,
            file_key.expose_secret(),
            &mut rand::rngs::OsRng,
        );
        let stanza = Stanza {
            tag: STANZA_TAG.to_owned(),
            args: vec![BASE64_STANDARD_NO_PAD.encode(enc.to_bytes())],
            body,
        };
        Ok((vec![stanza], HashSet::from([POSTQUANTUM_LABEL.to_owned()])))
    }
}

/// An `AGE-SECRET-KEY-PQ-1…` identity: a 32-byte seed, zeroized on drop. Not
/// `Clone`, so that no stray copies of the secret are made.
pub struct Identity(PrivateKey);

impl Identity {
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; xwing::SEED_LEN]);
        rand::rngs::OsRng.fill_bytes(&mut seed[..]);
        Identity(PrivateKey::from_seed(seed))
    }

    /// The identity of a 32-byte seed (the form an identity file holds):
    /// for keys derived rather than drawn, such as a source's reply key.
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> Self {
        Identity(PrivateKey::from_seed(seed))
    }

    pub fn to_public(&self) -> Recipient {
        Recipient(<XWing as hpke::Kem>::sk_to_pk(&self.0))
    }

    /// The identity's text form, for an identity file only.
    pub fn to_secret_string(&self) -> SecretString {
        let lower = Zeroizing::new(bech32_encode(IDENTITY_HRP, self.0.seed()));
        SecretString::from(lower.to_uppercase())
    }
}

impl std::str::FromStr for Identity {
    type Err = PqKeyError;

    fn from_str(s: &str) -> Result<Self, PqKeyError> {
        bech32_decode(
            s,
            |_| PqKeyError::Bech32,
            |hrp| {
                (hrp == IDENTITY_HRP)
                    .then_some(())
                    .ok_or(PqKeyError::Prefix(IDENTITY_PREFIX))
            },
            |_, bytes| {
                let mut seed = Zeroizing::new([0u8; xwing::SEED_LEN]);
                let mut got = 0;
                for byte in bytes {
                    if got < seed.len() {
                        seed[got] = byte;
                    }
                    got += 1;
                }
                if got != seed.len() {
                    return Err(PqKeyError::Length {
                        expected: seed.len(),
                        got,
                    });
                }
                Ok(Identity(PrivateKey::from_seed(seed)))
            },
        )
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        unwrap_checked(&self.0, stanza).transpose()
    }
}

/// The spec's checks, in its order: exactly one argument after the type, a
/// canonical base64 encoding of exactly 1120 bytes, a body of exactly 32 bytes
/// before any decryption (no partitioning oracle). A body that does not
/// authenticate means "not for this identity" (`Ok(None)`: age then tries the
/// other stanzas and identities); a non-contributory X25519 share means a
/// malformed file.
fn unwrap_checked(sk: &PrivateKey, stanza: &Stanza) -> Result<Option<FileKey>, DecryptError> {
    let [enc_b64] = stanza.args.as_slice() else {
        return Err(DecryptError::InvalidHeader);
    };
    // This engine refuses `=` padding and non-zero trailing bits, so only the
    // canonical encoding decodes.
    let enc = BASE64_STANDARD_NO_PAD
        .decode(enc_b64)
        .map_err(|_| DecryptError::InvalidHeader)?;
    if enc.len() != xwing::ENC_LEN || stanza.body.len() != BODY_LEN {
        return Err(DecryptError::InvalidHeader);
    }
    let enc = <EncappedKey as hpke::Deserializable>::from_bytes(&enc)
        .map_err(|_| DecryptError::InvalidHeader)?;
    match hpke_open::<XWing>(&enc, sk, HPKE_INFO, &stanza.body) {
        Ok(plaintext) => {
            let plaintext = Zeroizing::new(plaintext);
            if plaintext.len() != FILE_KEY_BYTES {
                return Err(DecryptError::InvalidHeader);
            }
            Ok(Some(FileKey::init_with_mut(|key| {
                key.copy_from_slice(&plaintext)
            })))
        }
        Err(HpkeError::OpenError) => Ok(None),
        Err(_) => Err(DecryptError::InvalidHeader),
    }
}
