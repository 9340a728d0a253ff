//! A reply file: what `sealdrop-open reply` writes and the server shows the
//! source. An age file sealed only to the source's reply recipient, whose
//! plaintext is one JSON line, the reply's text and zero padding:
//!
//! ```text
//! {"format":"sealdrop-reply","version":1,"thread":"<32 hex>","sent":"<RFC 3339>","length":N}\n
//! <N bytes of UTF-8 text><zeros up to the fixed size>
//! ```
//!
//! Every reply file is exactly [`REPLY_FILE_LEN`] bytes whatever its text and
//! key kind, so that its size says nothing about what it says or whom it is for.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keys::ThreadId;
use crate::keys::Recipients;

/// The size of every reply file, in bytes.
pub const REPLY_FILE_LEN: usize = 20 * 1024;
/// The longest reply text, in bytes of UTF-8 (16,000 Latin letters, about
/// 8,000 Arabic or Cyrillic ones).
pub const MAX_REPLY_BYTES: usize = 16_000;
/// Value of the `format` field.
pub const FORMAT_NAME: &str = "sealdrop-reply";
/// Current version; readers accept every version up to this one.
pub const FORMAT_VERSION: u32 = 1;
/// The start of a reply file that holds its whole age header (and the
/// payload nonce) for either key kind: enough to tell whose it is.
pub const HEADER_PROBE: usize = 4096;
/// The longest JSON line a reader accepts.
const MAX_HEADER_LINE: usize = 1024;
/// The tag of the payload's one chunk.
const CHUNK_TAG_LEN: usize = 16;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    thread: String,
    sent: String,
    length: usize,
}

/// An opened reply.
pub struct Reply {
    pub thread: ThreadId,
    /// When the editor sealed it (RFC 3339, UTC, to the minute).
    pub sent: String,
    pub text: Zeroizing<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(
        "the reply is {len} bytes long; the longest a reply can be is {MAX_REPLY_BYTES} bytes \
         of UTF-8 (about 16,000 Latin or 8,000 Arabic letters): shorten it, or send it as two replies"
    )]
    TooLong { len: usize },
    #[error("the reply is empty: write the text to send into the --message file")]
    Empty,
    #[error("the reply recipient {0}")]
    Recipient(String),
    #[error("sealing the reply failed: {0}")]
    Seal(String),
    #[error("not a sealdrop reply file: {0}")]
    NotReply(&'static str),
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

/// Seals `text` to `recipient` (as a manifest's reply block names it), for
/// `thread`, sent at `sent`: exactly [`REPLY_FILE_LEN`] bytes.
pub fn seal(
    recipient: &str,
    thread: ThreadId,
    sent: time::OffsetDateTime,
    text: &str,
) -> Result<Vec<u8>, ReplyError> {
    if text.trim().is_empty() {
        return Err(ReplyError::Empty);
    }
    if text.len() > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong { len: text.len() });
    }
    let recipients = Recipients::parse_one(recipient)
        .map_err(|e| ReplyError::Recipient(format!("{recipient:?} is not usable: {e}")))?;
    let sent = sent
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .map_err(|e| ReplyError::Seal(e.to_string()))?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| ReplyError::Seal(e.to_string()))?;
    let header = serde_json::to_vec(&Header {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        thread: thread.to_string(),
        sent,
        length: text.len(),
    })
    .map_err(|e| ReplyError::Seal(e.to_string()))?;

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
    let plaintext_len = REPLY_FILE_LEN
        .checked_sub(header_len + CHUNK_TAG_LEN)
        .filter(|room| *room >= header.len() + 1 + text.len())
        .ok_or(ReplyError::TooLong { len: text.len() })?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(plaintext_len));
    plaintext.extend_from_slice(&header);
    plaintext.push(b'\n');
    plaintext.extend_from_slice(text.as_bytes());
    plaintext.resize(plaintext_len, 0);
    stream.write_all(&plaintext).map_err(|e| seal_err(&e))?;
    let sealed = stream.finish().map_err(|e| seal_err(&e))?.out;
    if sealed.len() != REPLY_FILE_LEN {
        return Err(ReplyError::Seal(format!(
            "sealed {} bytes instead of {REPLY_FILE_LEN}",
            sealed.len()
        )));
    }
    Ok(sealed)
}

/// What the server checks before it stores a pushed reply: the size, and an
/// age header it can parse. It cannot check more: it holds no key.
pub fn check_shape(file: &[u8]) -> Result<(), ReplyError> {
    if file.len() != REPLY_FILE_LEN {
        return Err(ReplyError::NotReply("a reply file is exactly 20480 bytes"));
    }
    age::Decryptor::new_buffered(file)
        .map(|_| ())
        .map_err(|_| ReplyError::NotReply("it does not start with an age header"))
}

/// Whether `head` (the first [`HEADER_PROBE`] bytes of a reply file) opens
/// with one of `identities`: one key agreement per file, nothing else read.
pub fn is_for<'a>(head: &[u8], identities: impl Iterator<Item = &'a dyn age::Identity>) -> bool {
    match age::Decryptor::new_buffered(head) {
        Ok(decryptor) => decryptor.decrypt(identities).is_ok(),
        Err(_) => false,
    }
}

/// Opens a whole reply file; `None` if it is not for `identities`.
pub fn open<'a>(
    file: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> Result<Option<Reply>, ReplyError> {
    let decryptor = age::Decryptor::new_buffered(file)
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{keys, Codename};

    fn sent() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_796_000_123).unwrap()
    }

    #[test]
    fn every_reply_file_has_the_same_size_and_opens_for_its_source_only() {
        let codename = Codename::generate();
        let thread = keys::thread(&codename);
        let identities = keys::ReplyIdentities::derive(&codename);
        let stranger = keys::ReplyIdentities::derive(&Codename::generate());
        let kinds = [
            crate::keys::RecipientKind::Classic,
            crate::keys::RecipientKind::PostQuantum,
        ];
        for kind in kinds {
            let recipient = keys::recipient(&codename, kind);
            for text in [
                "ok",
                "شكراً، هل يمكنك إرسال الصفحة الثانية؟",
                &"x".repeat(MAX_REPLY_BYTES),
            ] {
                let file = seal(&recipient, thread, sent(), text).unwrap();
                assert_eq!(file.len(), REPLY_FILE_LEN, "{kind}");
                check_shape(&file).unwrap();
                assert!(is_for(&file[..HEADER_PROBE], identities.iter()));
                assert!(!is_for(&file[..HEADER_PROBE], stranger.iter()));
                let reply = open(&file, identities.iter()).unwrap().unwrap();
                assert_eq!(reply.text.as_str(), text);
                assert_eq!(reply.thread, thread);
                assert_eq!(reply.sent, "2026-11-30T00:55:00Z");
                assert!(open(&file, stranger.iter()).unwrap().is_none());
            }
        }
    }

    #[test]
    fn long_empty_and_malformed_replies_are_refused() {
        let codename = Codename::generate();
        let recipient = keys::recipient(&codename, crate::keys::RecipientKind::Classic);
        let thread = keys::thread(&codename);
        assert!(matches!(
            seal(&recipient, thread, sent(), &"x".repeat(MAX_REPLY_BYTES + 1)),
            Err(ReplyError::TooLong { len }) if len == MAX_REPLY_BYTES + 1
        ));
        assert!(matches!(
            seal(&recipient, thread, sent(), " \n"),
            Err(ReplyError::Empty)
        ));
        assert!(matches!(
            seal("age1nope", thread, sent(), "hi"),
            Err(ReplyError::Recipient(_))
        ));
        assert!(check_shape(&[0u8; REPLY_FILE_LEN]).is_err());
        assert!(check_shape(b"age-encryption.org/v1\n").is_err());
        let mut file = seal(&recipient, thread, sent(), "hi").unwrap();
        file.push(0);
        assert!(check_shape(&file).is_err());
    }

    proptest::proptest! {
        /// Whatever a decrypted plaintext holds, reading it never panics.
        #[test]
        fn any_plaintext_reads_or_is_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_plaintext(&bytes);
        }
    }
}
