//! The keys of a reply channel, all derived from the codename with
//! HKDF-SHA256 (RFC 5869), so that nothing about a source needs storing:
//!
//! ```text
//! PRK      = HKDF-Extract(salt = "sealdrop-reply-v1", IKM = the 32 ASCII digits)
//! thread   = HKDF-Expand(PRK, "sealdrop reply thread", 16)             → 32 lowercase hex
//! x25519   = HKDF-Expand(PRK, "sealdrop reply x25519 identity", 32)     → a classic age identity
//! pq seed  = HKDF-Expand(PRK, "sealdrop reply mlkem768x25519 seed", 32) → a post-quantum age identity
//! tag key  = HKDF-Expand(PRK, "sealdrop reply tag key", 32)             → the reply files' tags
//! ```
//!
//! The derived secrets are ordinary age identities: a source (or a test)
//! holding the codename can open her replies with stock age. A fast KDF is
//! enough because the codename carries 99.7 random bits (SECURITY.md, "Replies").

use std::fmt;
use std::str::FromStr;

use age_core::primitives::bech32_encode;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::codename::Codename;
use crate::keys::RecipientKind;

/// HKDF salt: names the scheme and its version.
pub const SALT: &[u8] = b"sealdrop-reply-v1";
/// HKDF info labels, one per derived value.
pub const INFO_THREAD: &[u8] = b"sealdrop reply thread";
pub const INFO_X25519: &[u8] = b"sealdrop reply x25519 identity";
pub const INFO_PQ_SEED: &[u8] = b"sealdrop reply mlkem768x25519 seed";
pub const INFO_TAG_KEY: &[u8] = b"sealdrop reply tag key";

/// The id that ties a source's submissions and the newsroom's replies
/// together, inside ciphertext only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId(pub [u8; 16]);

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.0))
    }
}

impl fmt::Debug for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ThreadId({self})")
    }
}

impl FromStr for ThreadId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() != 32 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "{s:?} is not a thread id (32 lowercase hex digits)"
            ));
        }
        crate::hex::decode::<16>(s)
            .map(ThreadId)
            .ok_or_else(|| format!("{s:?} is not a thread id (32 lowercase hex digits)"))
    }
}

fn expand<const N: usize>(codename: &Codename, info: &[u8]) -> Zeroizing<[u8; N]> {
    let hkdf = Hkdf::<Sha256>::new(Some(SALT), codename.ascii());
    let mut out = Zeroizing::new([0u8; N]);
    hkdf.expand(info, &mut out[..])
        .expect("HKDF-SHA256 yields up to 8160 bytes");
    out
}

/// The thread id of a codename.
pub fn thread(codename: &Codename) -> ThreadId {
    ThreadId(*expand::<16>(codename, INFO_THREAD))
}

/// The key of a codename's reply tags (docs/FORMAT.md, section 7.3).
pub fn tag_key(codename: &Codename) -> Zeroizing<[u8; 32]> {
    expand::<32>(codename, INFO_TAG_KEY)
}

/// The classic reply identity of a codename.
pub fn x25519_identity(codename: &Codename) -> age::x25519::Identity {
    let secret = expand::<32>(codename, INFO_X25519);
    let hrp = bech32::Hrp::parse_unchecked("age-secret-key-");
    let text = Zeroizing::new(bech32_encode(hrp, &secret[..]).to_uppercase());
    text.parse()
        .expect("32 bytes under the age secret key prefix are an X25519 identity")
}

/// The post-quantum reply identity of a codename.
pub fn pq_identity(codename: &Codename) -> crate::pq::Identity {
    crate::pq::Identity::from_seed(expand::<32>(codename, INFO_PQ_SEED))
}

/// The reply recipient of a codename, of the kind the newsroom's own keys
/// are: a post-quantum newsroom gets post-quantum replies.
pub fn recipient(codename: &Codename, kind: RecipientKind) -> String {
    match kind {
        RecipientKind::Classic => x25519_identity(codename).to_public().to_string(),
        RecipientKind::PostQuantum => pq_identity(codename).to_public().to_string(),
    }
}

/// The manifest's reply block for a codename: its thread, and the reply
/// recipient of the newsroom's key kind.
pub fn manifest_block(codename: &Codename, kind: RecipientKind) -> crate::seal::ReplyBlock {
    crate::seal::ReplyBlock {
        thread: thread(codename).to_string(),
        recipient: recipient(codename, kind),
        tag_key: Some(crate::hex::encode(&tag_key(codename)[..])),
    }
}

/// Both reply identities of one codename, for trying on the replies waiting:
/// a reply file's stanza says which kind it needs, so each file costs one
/// key agreement whatever its kind.
pub struct ReplyIdentities {
    x25519: age::x25519::Identity,
    pq: crate::pq::Identity,
}

impl ReplyIdentities {
    pub fn derive(codename: &Codename) -> ReplyIdentities {
        ReplyIdentities {
            x25519: x25519_identity(codename),
            pq: pq_identity(codename),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> + Clone {
        let classic = std::iter::once(&self.x25519 as &dyn age::Identity);
        classic.chain(std::iter::once(&self.pq as &dyn age::Identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    /// Fixed vectors, so that the derivation documented in docs/FORMAT.md
    /// cannot drift: recomputed independently with Python's hmac/hashlib
    /// (crates/sealdrop-testkit/tests/format/replies.rs checks the recipient with stock age).
    #[test]
    fn derivation_is_stable() {
        let codename = Codename::parse("1234 5678 9012 3456 7890 1234 5678 9039").unwrap();
        let t = thread(&codename);
        assert_eq!(t.to_string(), "5f36bb651d92c93d8612fdde6a00dcd7");
        assert_eq!(t.to_string().parse::<ThreadId>().unwrap(), t);
        let again = Codename::parse("12345678901234567890123456789039").unwrap();
        assert_eq!(thread(&again), t);
        assert_eq!(
            x25519_identity(&again).to_string().expose_secret(),
            x25519_identity(&codename).to_string().expose_secret()
        );
        let other = Codename::generate();
        assert_ne!(thread(&other), t);
        assert!(recipient(&codename, RecipientKind::Classic).starts_with("age1"));
        assert!(recipient(&codename, RecipientKind::PostQuantum).starts_with("age1pq1"));
    }

    #[test]
    fn thread_ids_parse_strictly() {
        assert!("00".parse::<ThreadId>().is_err());
        assert!("G".repeat(32).parse::<ThreadId>().is_err());
        assert!("AB".repeat(16).parse::<ThreadId>().is_err());
        assert!("ab".repeat(16).parse::<ThreadId>().is_ok());
    }
}
