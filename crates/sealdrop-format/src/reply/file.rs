//! A reply file: what `sealdrop-open reply` writes and the server shows the
//! source (docs/FORMAT.md, section 7.3). Version 2 is a clear preamble (the
//! day it was sealed, a nonce and a tag the server checks with a key derived
//! from the codename) followed by an age file sealed only to the source's
//! reply recipient, whose plaintext is one JSON line, the reply's text and
//! zero padding:
//!
//! ```text
//! "sdreply2" | sealed day (u32 BE) | nonce (16) | tag (16) | age file
//! {"format":"sealdrop-reply","version":2,"thread":"<32 hex>","sent":"<RFC 3339>","length":N,"desk":"…"}\n
//! <N bytes of UTF-8 text><zeros up to the fixed size>
//! ```
//!
//! Every reply file is exactly [`REPLY_FILE_LEN`] bytes whatever its text and
//! key kind, so that its size says nothing about what it says or whom it is for.
//! Version 1 (the age file alone) is still read.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::keys::ThreadId;
use crate::keys::Recipients;
use crate::seal::ReplyBlock;

/// The size of every reply file, in bytes.
pub const REPLY_FILE_LEN: usize = 20 * 1024;
/// The longest reply text, in bytes of UTF-8 (16,000 Latin letters, about
/// 8,000 Arabic or Cyrillic ones).
pub const MAX_REPLY_BYTES: usize = 16_000;
/// The longest reply text once escaped for HTML ([`escaped_len`]): what
/// lets every replies page be padded to one size.
pub const MAX_ESCAPED_BYTES: usize = 20_000;
/// Value of the `format` field.
pub const FORMAT_NAME: &str = "sealdrop-reply";
/// Current version; readers accept every version up to this one.
pub const FORMAT_VERSION: u32 = 2;
/// The first bytes of a version-2 file.
pub const MAGIC: &[u8; 8] = b"sdreply2";
/// Magic, sealed day, nonce, tag.
pub const PREAMBLE_LEN: usize = 8 + 4 + 16 + 16;
/// The bytes of the preamble the tag covers (all but the tag).
const TAGGED_LEN: usize = 8 + 4 + 16;
/// The start of an age file that holds its whole header (and the payload
/// nonce) for either key kind: enough to tell whose it is.
pub const HEADER_PROBE: usize = 4096;
/// The longest JSON line a reader accepts.
const MAX_HEADER_LINE: usize = 1024;
/// The tag of the payload's one chunk.
const CHUNK_TAG_LEN: usize = 16;
/// The age stanza types a reply may be sealed with: the two kinds of reply
/// recipient a codename derives.
const REPLY_STANZAS: [&str; 2] = ["X25519", crate::pq::STANZA_TAG];

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    thread: String,
    sent: String,
    length: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    desk: Option<String>,
}

/// An opened reply.
pub struct Reply {
    pub thread: ThreadId,
    /// When the editor sealed it (RFC 3339, UTC, to the minute).
    pub sent: String,
    pub text: Zeroizing<String>,
    /// The desk of the submission it answers (version 2, on a server with desks).
    pub desk: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(
        "the reply is {len} bytes long; the longest a reply can be is {MAX_REPLY_BYTES} bytes \
         of UTF-8 (about 16,000 Latin or 8,000 Arabic letters): shorten it, or send it as two replies"
    )]
    TooLong { len: usize },
    #[error(
        "the reply has too many of the characters & < > for one page: escaped for the web page \
         it is {len} bytes, at most {MAX_ESCAPED_BYTES} fit; write fewer of them (\"and\" for &), \
         or send it as two replies"
    )]
    TooManyMarkupCharacters { len: usize },
    #[error("the reply is empty: write the text to send into the --message file")]
    Empty,
    #[error("the reply recipient {0}")]
    Recipient(String),
    #[error(
        "this submission came from a server older than reply files version 2 (its manifest has \
         no tag key), so no reply to it can be delivered: answer her next follow-up instead"
    )]
    NoTagKey,
    #[error("sealing the reply failed: {0}")]
    Seal(String),
    #[error("not a sealdrop reply file: {0}")]
    NotReply(&'static str),
}

/// The length of `text` once escaped for the replies page: `&` becomes
/// `&amp;`, `<` and `>` become `&lt;` and `&gt;`, nothing else changes.
pub fn escaped_len(text: &str) -> usize {
    text.len()
        + text
            .bytes()
            .map(|b| match b {
                b'&' => 4,
                b'<' | b'>' => 3,
                _ => 0,
            })
            .sum::<usize>()
}

/// The clear start of a version-2 reply file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preamble {
    /// Days since 1970-01-01 UTC of the day the editor sealed it.
    pub sealed_day: u32,
    tagged: [u8; TAGGED_LEN],
    tag: [u8; 16],
    /// SHA-256 of the age file after the preamble, which the tag covers.
    age_sha256: [u8; 32],
}

impl Preamble {
    /// The preamble of a whole reply file, or `None` for a version-1 file
    /// (or one of another length).
    pub fn read(file: &[u8]) -> Option<Preamble> {
        if file.len() != REPLY_FILE_LEN || !file.starts_with(MAGIC) {
            return None;
        }
        let mut tagged = [0u8; TAGGED_LEN];
        tagged.copy_from_slice(&file[..TAGGED_LEN]);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&file[TAGGED_LEN..PREAMBLE_LEN]);
        Some(Preamble {
            sealed_day: u32::from_be_bytes(file[8..12].try_into().expect("4 bytes")),
            tagged,
            tag,
            age_sha256: Sha256::digest(&file[PREAMBLE_LEN..]).into(),
        })
    }

    /// Whether this file's tag was made with `tag_key` (constant time).
    pub fn tagged_with(&self, tag_key: &[u8; 32]) -> bool {
        tag_mac(tag_key, &self.tagged, &self.age_sha256)
            .verify_truncated_left(&self.tag)
            .is_ok()
    }
}

fn tag_mac(tag_key: &[u8; 32], tagged: &[u8], age_sha256: &[u8; 32]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(tag_key).expect("HMAC takes any key");
    mac.update(tagged);
    mac.update(age_sha256);
    mac
}

/// Counts the bytes written through it, readable while the age writer owns it.
struct Counting {
    out: Vec<u8>,
    written: Arc<AtomicUsize>,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        self.written.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Seals `text` as a reply to the submission whose manifest holds `block`
/// (its thread, reply recipient and tag key) and, on a server with desks,
/// was sent to `desk`; sent at `sent`. Exactly [`REPLY_FILE_LEN`] bytes.
pub fn seal(
    block: &ReplyBlock,
    desk: Option<&str>,
    sent: time::OffsetDateTime,
    text: &str,
) -> Result<Vec<u8>, ReplyError> {
    if text.trim().is_empty() {
        return Err(ReplyError::Empty);
    }
    if text.len() > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong { len: text.len() });
    }
    if escaped_len(text) > MAX_ESCAPED_BYTES {
        return Err(ReplyError::TooManyMarkupCharacters {
            len: escaped_len(text),
        });
    }
    let thread: ThreadId = block.thread.parse().map_err(ReplyError::Recipient)?;
    let tag_key = block
        .tag_key
        .as_deref()
        .and_then(crate::hex::decode::<32>)
        .map(Zeroizing::new)
        .ok_or(ReplyError::NoTagKey)?;
    let recipients = Recipients::parse_one(&block.recipient)
        .map_err(|e| ReplyError::Recipient(format!("{:?} is not usable: {e}", block.recipient)))?;
    let sent = sent
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .map_err(|e| ReplyError::Seal(e.to_string()))?;
    let sealed_day = u32::try_from(sent.unix_timestamp().div_euclid(86_400))
        .map_err(|_| ReplyError::Seal("the clock is before 1970".into()))?;
    let header = serde_json::to_vec(&Header {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        thread: thread.to_string(),
        sent: sent
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| ReplyError::Seal(e.to_string()))?,
        length: text.len(),
        desk: desk.filter(|d| !d.is_empty()).map(str::to_owned),
    })
    .map_err(|e| ReplyError::Seal(e.to_string()))?;

    let age_len = REPLY_FILE_LEN - PREAMBLE_LEN;
    let written = Arc::new(AtomicUsize::new(0));
    let output = Counting {
        out: Vec::with_capacity(REPLY_FILE_LEN),
        written: written.clone(),
    };
    let seal_err = |e: &dyn std::fmt::Display| ReplyError::Seal(e.to_string());
    let encryptor = age::Encryptor::with_recipients(recipients.iter()).map_err(|e| seal_err(&e))?;
    let mut stream = encryptor.wrap_output(output).map_err(|e| seal_err(&e))?;
    // The age header and the payload nonce are written by now; the header's
    // length depends on the key kind.
    let header_len = written.load(Ordering::Relaxed);
    let plaintext_len = age_len
        .checked_sub(header_len + CHUNK_TAG_LEN)
        .filter(|room| *room >= header.len() + 1 + text.len())
        .ok_or(ReplyError::TooLong { len: text.len() })?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(plaintext_len));
    plaintext.extend_from_slice(&header);
    plaintext.push(b'\n');
    plaintext.extend_from_slice(text.as_bytes());
    plaintext.resize(plaintext_len, 0);
    stream.write_all(&plaintext).map_err(|e| seal_err(&e))?;
    let age_file = stream.finish().map_err(|e| seal_err(&e))?.out;
    if age_file.len() != age_len {
        return Err(ReplyError::Seal(format!(
            "sealed {} bytes instead of {age_len}",
            age_file.len()
        )));
    }
    let mut tagged = [0u8; TAGGED_LEN];
    tagged[..8].copy_from_slice(MAGIC);
    tagged[8..12].copy_from_slice(&sealed_day.to_be_bytes());
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut tagged[12..]);
    let age_sha256: [u8; 32] = Sha256::digest(&age_file).into();
    let tag = tag_mac(&tag_key, &tagged, &age_sha256)
        .finalize()
        .into_bytes();
    let mut file = Vec::with_capacity(REPLY_FILE_LEN);
    file.extend_from_slice(&tagged);
    file.extend_from_slice(&tag[..16]);
    file.extend_from_slice(&age_file);
    Ok(file)
}

/// The age stanza types in the header of an age file, in order; an error if
/// the header is not one (age's own parser checks the rest).
fn stanza_types(age_file: &[u8]) -> Result<Vec<&str>, ReplyError> {
    let head = &age_file[..age_file.len().min(HEADER_PROBE)];
    let mut lines = head.split(|&b| b == b'\n');
    if lines.next() != Some(b"age-encryption.org/v1".as_slice()) {
        return Err(ReplyError::NotReply("it does not start with an age header"));
    }
    let mut types = Vec::new();
    for line in lines {
        if line.starts_with(b"---") {
            return Ok(types);
        }
        if let Some(stanza) = line.strip_prefix(b"-> ") {
            let kind = stanza.split(|&b| b == b' ').next().unwrap_or_default();
            types.push(
                std::str::from_utf8(kind)
                    .map_err(|_| ReplyError::NotReply("its age header is damaged"))?,
            );
        }
    }
    Err(ReplyError::NotReply("its age header does not end"))
}

/// What the server checks before it stores a pushed reply: that it is what
/// `sealdrop-open reply` writes (size, version-2 preamble, an age header
/// with exactly one stanza of a reply recipient's type). It cannot check
/// more: it holds no key.
pub fn check_shape(file: &[u8]) -> Result<Preamble, ReplyError> {
    if file.len() != REPLY_FILE_LEN {
        return Err(ReplyError::NotReply("a reply file is exactly 20480 bytes"));
    }
    let preamble = Preamble::read(file).ok_or(ReplyError::NotReply(
        "it is not a version-2 reply file (write it again with this version of sealdrop-open)",
    ))?;
    let age_file = &file[PREAMBLE_LEN..];
    // age adds one "grease" stanza to every file it writes (a random type
    // ending in `-grease`, which no identity tries): allowed, once.
    let (grease, recipients): (Vec<&str>, Vec<&str>) = stanza_types(age_file)?
        .into_iter()
        .partition(|t| t.ends_with("-grease"));
    match recipients.as_slice() {
        [one] if REPLY_STANZAS.contains(one) && grease.len() <= 1 => {}
        [one] if !REPLY_STANZAS.contains(one) => {
            return Err(ReplyError::NotReply(
                "it is sealed to a key of another kind than a reply recipient",
            ))
        }
        _ => {
            return Err(ReplyError::NotReply(
                "a reply file is sealed to exactly one recipient",
            ))
        }
    }
    age::Decryptor::new_buffered(age_file)
        .map(|_| preamble)
        .map_err(|_| ReplyError::NotReply("its age header is damaged"))
}

/// The age file inside a reply file of either version.
fn age_part(file: &[u8]) -> &[u8] {
    if file.starts_with(MAGIC) {
        &file[PREAMBLE_LEN.min(file.len())..]
    } else {
        file
    }
}

/// Whether `head` (the first [`HEADER_PROBE`] bytes of a version-1 reply
/// file) opens with one of `identities`: one key agreement, nothing else read.
pub fn is_for<'a>(head: &[u8], identities: impl Iterator<Item = &'a dyn age::Identity>) -> bool {
    match age::Decryptor::new_buffered(head) {
        Ok(decryptor) => decryptor.decrypt(identities).is_ok(),
        Err(_) => false,
    }
}

/// Opens a whole reply file (either version); `None` if it is not for
/// `identities`.
pub fn open<'a>(
    file: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> Result<Option<Reply>, ReplyError> {
    let decryptor = age::Decryptor::new_buffered(age_part(file))
        .map_err(|_| ReplyError::NotReply("it does not start with an age header"))?;
    let mut reader = match decryptor.decrypt(identities) {
        Ok(reader) => reader,
        Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
        Err(_) => return Err(ReplyError::NotReply("its age header is damaged")),
    };
    let mut plaintext = Zeroizing::new(Vec::with_capacity(REPLY_FILE_LEN));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|_| ReplyError::NotReply("its ciphertext is damaged"))?;
    parse_plaintext(&plaintext).map(Some)
}

/// Reads a decrypted reply file: its JSON line and its text.
pub fn parse_plaintext(plaintext: &[u8]) -> Result<Reply, ReplyError> {
    let newline = plaintext
        .iter()
        .take(MAX_HEADER_LINE)
        .position(|&b| b == b'\n')
        .ok_or(ReplyError::NotReply("no header line"))?;
    let header: Header = serde_json::from_slice(&plaintext[..newline])
        .map_err(|_| ReplyError::NotReply("its header line is not valid"))?;
    if header.format != FORMAT_NAME || header.version == 0 || header.version > FORMAT_VERSION {
        return Err(ReplyError::NotReply(
            "its header names another format or version",
        ));
    }
    let thread = header
        .thread
        .parse()
        .map_err(|_| ReplyError::NotReply("its thread id is not valid"))?;
    let text = plaintext
        .get(newline + 1..newline + 1 + header.length)
        .ok_or(ReplyError::NotReply("its text is shorter than it says"))?;
    let text =
        std::str::from_utf8(text).map_err(|_| ReplyError::NotReply("its text is not UTF-8"))?;
    Ok(Reply {
        thread,
        sent: header.sent,
        text: Zeroizing::new(text.to_owned()),
        desk: header.desk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::RecipientKind;
    use crate::reply::{keys, Codename};

    fn sent() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_796_000_123).unwrap()
    }

    fn block(codename: &Codename, kind: RecipientKind) -> ReplyBlock {
        keys::manifest_block(codename, kind)
    }

    #[test]
    fn every_reply_file_has_the_same_size_and_opens_for_its_source_only() {
        let codename = Codename::generate();
        let thread = keys::thread(&codename);
        let identities = keys::ReplyIdentities::derive(&codename);
        let tag_key = keys::tag_key(&codename);
        let stranger = Codename::generate();
        let strangers = keys::ReplyIdentities::derive(&stranger);
        for kind in [RecipientKind::Classic, RecipientKind::PostQuantum] {
            for text in [
                "ok",
                "شكراً، هل يمكنك إرسال الصفحة الثانية؟",
                &"x".repeat(MAX_REPLY_BYTES),
            ] {
                let file = seal(&block(&codename, kind), Some("health"), sent(), text).unwrap();
                assert_eq!(file.len(), REPLY_FILE_LEN, "{kind}");
                let preamble = check_shape(&file).unwrap();
                assert_eq!(preamble.sealed_day, 1_796_000_123 / 86_400);
                assert!(preamble.tagged_with(&tag_key));
                assert!(!preamble.tagged_with(&keys::tag_key(&stranger)));
                assert!(is_for(
                    &file[PREAMBLE_LEN..PREAMBLE_LEN + HEADER_PROBE],
                    identities.iter()
                ));
                let reply = open(&file, identities.iter()).unwrap().unwrap();
                assert_eq!(reply.text.as_str(), text);
                assert_eq!(reply.thread, thread);
                assert_eq!(reply.sent, "2026-11-30T00:55:00Z");
                assert_eq!(reply.desk.as_deref(), Some("health"));
                assert!(open(&file, strangers.iter()).unwrap().is_none());
            }
        }
    }

    /// Tags link nothing: two files of one codename have unrelated tags, and
    /// a preamble copied onto another file does not verify.
    #[test]
    fn tags_are_unlinkable_and_bound_to_their_file() {
        let codename = Codename::generate();
        let key = keys::tag_key(&codename);
        let b = block(&codename, RecipientKind::Classic);
        let one = seal(&b, None, sent(), "one").unwrap();
        let two = seal(&b, None, sent(), "one").unwrap();
        assert_ne!(one[TAGGED_LEN..PREAMBLE_LEN], two[TAGGED_LEN..PREAMBLE_LEN]);
        assert_ne!(one[12..28], two[12..28], "a fresh nonce each time");
        let mut forged = two.clone();
        forged[..PREAMBLE_LEN].copy_from_slice(&one[..PREAMBLE_LEN]);
        assert!(!Preamble::read(&forged).unwrap().tagged_with(&key));
        assert!(Preamble::read(&one).unwrap().tagged_with(&key));
    }

    /// What the server refuses at push: another size, version 1, no
    /// preamble, more than one stanza, a stanza of another type.
    #[test]
    fn only_what_sealdrop_open_writes_passes_the_push_check() {
        let codename = Codename::generate();
        let b = block(&codename, RecipientKind::Classic);
        let good = seal(&b, None, sent(), "hi").unwrap();
        assert!(check_shape(&good).is_ok());
        let mut longer = good.clone();
        longer.push(0);
        assert!(check_shape(&longer).is_err());
        assert!(check_shape(&[0u8; REPLY_FILE_LEN]).is_err());
        // An age file of many stanzas, padded to the size behind a preamble.
        let many: Vec<Box<dyn age::Recipient + Send>> = (0..20)
            .map(|_| {
                Box::new(age::x25519::Identity::generate().to_public())
                    as Box<dyn age::Recipient + Send>
            })
            .collect();
        let crafted = |recipients: Vec<Box<dyn age::Recipient + Send>>| {
            let encryptor = age::Encryptor::with_recipients(
                recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient),
            )
            .unwrap();
            let mut out = Vec::new();
            let mut w = encryptor.wrap_output(&mut out).unwrap();
            w.write_all(&[0u8; 8000]).unwrap();
            w.finish().unwrap();
            let mut file = good[..PREAMBLE_LEN].to_vec();
            file.extend_from_slice(&out);
            file.resize(REPLY_FILE_LEN, 0);
            file
        };
        let e = check_shape(&crafted(many)).unwrap_err().to_string();
        assert!(e.contains("exactly one recipient"), "{e}");
        let scrypt: Box<dyn age::Recipient + Send> = Box::new(age::scrypt::Recipient::new(
            age::secrecy::SecretString::from("x".to_owned()),
        ));
        let e = check_shape(&crafted(vec![scrypt])).unwrap_err().to_string();
        assert!(e.contains("another kind"), "{e}");
        // Version 1: an age file alone, still read, no longer pushed.
        let e = check_shape(&good[PREAMBLE_LEN..]).unwrap_err().to_string();
        assert!(e.contains("20480"), "{e}");
    }

    /// A version-1 file (written before the preamble existed) still opens.
    #[test]
    fn version_one_files_still_open() {
        let codename = Codename::generate();
        let recipient = keys::recipient(&codename, RecipientKind::Classic);
        let r = Recipients::parse_one(&recipient).unwrap();
        let header = format!(
            "{{\"format\":\"sealdrop-reply\",\"version\":1,\"thread\":\"{}\",\"sent\":\"2026-11-30T00:55:00Z\",\"length\":5}}\nhello",
            keys::thread(&codename)
        );
        let encryptor = age::Encryptor::with_recipients(r.iter()).unwrap();
        let mut out = Vec::new();
        let mut w = encryptor.wrap_output(&mut out).unwrap();
        w.write_all(header.as_bytes()).unwrap();
        w.finish().unwrap();
        assert!(Preamble::read(&out).is_none());
        let reply = open(&out, keys::ReplyIdentities::derive(&codename).iter())
            .unwrap()
            .unwrap();
        assert_eq!(reply.text.as_str(), "hello");
        assert_eq!(reply.desk, None);
    }

    #[test]
    fn long_empty_and_malformed_replies_are_refused() {
        let codename = Codename::generate();
        let b = block(&codename, RecipientKind::Classic);
        assert!(matches!(
            seal(&b, None, sent(), &"x".repeat(MAX_REPLY_BYTES + 1)),
            Err(ReplyError::TooLong { len }) if len == MAX_REPLY_BYTES + 1
        ));
        // 16,000 bytes of which 1,500 are ampersands: 22,000 once escaped.
        let marked = format!("{}{}", "&".repeat(1500), "x".repeat(14_500));
        assert_eq!(escaped_len(&marked), 22_000);
        assert!(matches!(
            seal(&b, None, sent(), &marked),
            Err(ReplyError::TooManyMarkupCharacters { len: 22_000 })
        ));
        assert!(matches!(
            seal(&b, None, sent(), " \n"),
            Err(ReplyError::Empty)
        ));
        let mut bad = b.clone();
        bad.recipient = "age1nope".into();
        assert!(matches!(
            seal(&bad, None, sent(), "hi"),
            Err(ReplyError::Recipient(_))
        ));
        let mut old = b.clone();
        old.tag_key = None;
        assert!(matches!(
            seal(&old, None, sent(), "hi"),
            Err(ReplyError::NoTagKey)
        ));
    }

    proptest::proptest! {
        /// Whatever a decrypted plaintext holds, reading it never panics.
        #[test]
        fn any_plaintext_reads_or_is_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_plaintext(&bytes);
        }

        /// Whatever a pushed file holds, the push check never panics.
        #[test]
        fn any_pushed_file_is_checked_without_panic(head in proptest::collection::vec(proptest::num::u8::ANY, 0..600), magic in proptest::bool::ANY) {
            let mut file = if magic { MAGIC.to_vec() } else { Vec::new() };
            file.extend_from_slice(&[0u8; 36][..if magic { 36 } else { 0 }]);
            file.extend_from_slice(b"age-encryption.org/v1\n");
            file.extend_from_slice(&head);
            file.resize(REPLY_FILE_LEN, b'\n');
            let _ = check_shape(&file);
        }
    }
}
