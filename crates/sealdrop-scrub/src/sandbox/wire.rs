//! What the parent and the sandboxed child say to each other over the
//! child's stdin and stdout: frames of a one-byte tag, a four-byte length
//! (big-endian) and at most [`MAX_FRAME`] bytes.
//!
//! The parent reads what a possibly compromised child writes, so every
//! reader here is capped and checks each frame's order; the `sandbox_answers`
//! fuzz target feeds it arbitrary bytes.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_FILE_BYTES, SANDBOX_MAX_REPORT_BYTES};
use crate::render::Pixels;
use crate::{NotCleaned, Report, Scrubbed};

/// The most one frame carries: file bytes go in frames of this size.
pub const MAX_FRAME: usize = 1 << 20;

/// A frame's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    // Parent to child.
    /// The job (JSON), first.
    Job,
    /// A piece of the file to read.
    Data,
    /// The file's end.
    End,
    /// Plaintext the child asked for with [`Tag::Want`].
    Bytes,
    /// The answer to a [`Tag::Span`]: 0 placed (or refused), 1 "inflate it
    /// yourself".
    Placed,
    // Child to parent.
    /// How the child is confined (JSON), its first frame.
    Confined,
    /// An `inspect` report (JSON).
    Report,
    /// A piece of a cleaned copy.
    Cleaned,
    /// The cleaned copy's end, with what was removed (JSON).
    CleanedEnd,
    /// Why the file is not cleaned.
    NotCleaned,
    /// The child wants plaintext: offset and length, 8 + 4 bytes.
    Want,
    /// A submission's verified manifest (JSON).
    Manifest,
    /// A piece of a submission's part: its index (4 bytes), then bytes.
    Part,
    /// The part whose index follows (4 bytes) is complete and verified.
    PartEnd,
    /// Where a part lies in the plaintext: its index (4 bytes), the offset
    /// and length of its bytes (8 + 8), and 1 if they are framed in
    /// deflate's stored blocks (else 0); the parent copies and verifies it.
    Span,
    /// A picture decoded for showing: width and height (4 + 4 bytes, big
    /// endian), then its pixels, RGBA, row by row.
    Pixels,
    /// A file's words for search, and what was not read (JSON).
    Words,
    /// The job failed (a person-readable reason).
    Failed,
    /// The self-test's findings (JSON).
    SelfTest,
    /// The job is done.
    Done,
}

impl Tag {
    fn byte(self) -> u8 {
        match self {
            Tag::Job => b'J',
            Tag::Data => b'D',
            Tag::End => b'E',
            Tag::Bytes => b'B',
            Tag::Placed => b'Y',
            Tag::Confined => b'S',
            Tag::Report => b'R',
            Tag::Cleaned => b'C',
            Tag::CleanedEnd => b'K',
            Tag::NotCleaned => b'N',
            Tag::Want => b'W',
            Tag::Manifest => b'M',
            Tag::Part => b'P',
            Tag::PartEnd => b'Q',
            Tag::Span => b'L',
            Tag::Pixels => b'G',
            Tag::Words => b'Z',
            Tag::Failed => b'F',
            Tag::SelfTest => b'T',
            Tag::Done => b'X',
        }
    }

    fn from_byte(byte: u8) -> Option<Tag> {
        Some(match byte {
            b'J' => Tag::Job,
            b'D' => Tag::Data,
            b'E' => Tag::End,
            b'B' => Tag::Bytes,
            b'Y' => Tag::Placed,
            b'S' => Tag::Confined,
            b'R' => Tag::Report,
            b'C' => Tag::Cleaned,
            b'K' => Tag::CleanedEnd,
            b'N' => Tag::NotCleaned,
            b'W' => Tag::Want,
            b'M' => Tag::Manifest,
            b'P' => Tag::Part,
            b'Q' => Tag::PartEnd,
            b'L' => Tag::Span,
            b'G' => Tag::Pixels,
            b'Z' => Tag::Words,
            b'F' => Tag::Failed,
            b'T' => Tag::SelfTest,
            b'X' => Tag::Done,
            _ => return None,
        })
    }
}

/// What the other side sent that breaks the protocol: from the child, the
/// sign of a compromised (or crashed) reader.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the pipe failed: {0}")]
    Io(#[from] io::Error),
    #[error("it broke the protocol: {0}")]
    Protocol(String),
}

fn protocol(what: impl Into<String>) -> WireError {
    WireError::Protocol(what.into())
}

/// Writes one frame.
pub fn write_frame(out: &mut impl Write, tag: Tag, payload: &[u8]) -> io::Result<()> {
    debug_assert!(payload.len() <= MAX_FRAME + 16);
    out.write_all(&[tag.byte()])?;
    out.write_all(&(payload.len() as u32).to_be_bytes())?;
    out.write_all(payload)
}

/// Writes `data` as frames of `tag`, at most [`MAX_FRAME`] bytes each,
/// `prefix` (a part's index) leading each.
pub fn write_chunks(out: &mut impl Write, tag: Tag, prefix: &[u8], data: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(prefix.len() + MAX_FRAME.min(data.len()));
    for chunk in data.chunks(MAX_FRAME) {
        frame.clear();
        frame.extend_from_slice(prefix);
        frame.extend_from_slice(chunk);
        write_frame(out, tag, &frame)?;
    }
    Ok(())
}

/// Writes `bytes` as one message of `tag`, however long: frames of
/// [`MAX_FRAME`] bytes and a last, shorter one (empty if need be), so that
/// the reader knows where it ends.
pub fn write_message(out: &mut impl Write, tag: Tag, bytes: &[u8]) -> io::Result<()> {
    write_chunks(out, tag, &[], bytes)?;
    if bytes.len() % MAX_FRAME == 0 {
        write_frame(out, tag, &[])?;
    }
    Ok(())
}

/// The rest of a message of `tag` whose first frame was `first`, at most
/// `cap` bytes in all.
pub fn read_message(
    input: &mut impl Read,
    tag: Tag,
    first: &[u8],
    cap: usize,
) -> Result<Vec<u8>, WireError> {
    if first.len() > cap {
        return Err(protocol(format!("a {tag:?} message over {cap} bytes")));
    }
    let mut message = first.to_vec();
    let mut last = first.len();
    let mut payload = Vec::new();
    while last == MAX_FRAME {
        if expect_frame(input, &mut payload)? != tag {
            return Err(protocol(format!("a {tag:?} message cut by another")));
        }
        if message.len() + payload.len() > cap {
            return Err(protocol(format!("a {tag:?} message over {cap} bytes")));
        }
        message.extend_from_slice(&payload);
        last = payload.len();
    }
    Ok(message)
}

/// The reason in a child's `Failed` message, whose first frame was
/// `first`: at most 4096 bytes of it are kept.
pub fn read_failure(input: &mut impl Read, first: &[u8]) -> Result<String, WireError> {
    let reason = read_message(input, Tag::Failed, first, 64 * 1024)?;
    Ok(String::from_utf8_lossy(&reason[..reason.len().min(4096)]).into_owned())
}

/// Reads one frame into `payload`; `None` at the end of the stream before a
/// frame starts.
pub fn read_frame(input: &mut impl Read, payload: &mut Vec<u8>) -> Result<Option<Tag>, WireError> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(protocol("a frame cut short")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let tag = Tag::from_byte(head[0])
        .ok_or_else(|| protocol(format!("an unknown frame kind {:#04x}", head[0])))?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME + 16 {
        return Err(protocol(format!("a frame of {len} bytes")));
    }
    payload.clear();
    payload.resize(len, 0);
    input.read_exact(payload).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            protocol("a frame cut short")
        } else {
            e.into()
        }
    })?;
    Ok(Some(tag))
}

/// Reads the next frame, which must exist.
pub fn expect_frame(input: &mut impl Read, payload: &mut Vec<u8>) -> Result<Tag, WireError> {
    read_frame(input, payload)?.ok_or_else(|| protocol("it ended before answering"))
}

/// What the parent asks of one child (each child does one job and exits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case", deny_unknown_fields)]
pub enum Job {
    /// `inspect` the file that follows, whose name was `name`.
    Inspect { name: String, size: u64 },
    /// Clean the file that follows.
    Scrub { size: u64 },
    /// Read a submission's ZIP archive, of `size` bytes of plaintext that
    /// the child asks for piece by piece: check it against its manifest,
    /// send the manifest, then what `deliver` asks for.
    Archive { size: u64, deliver: Deliver },
    /// Decode the picture that follows (PNG, JPEG, GIF's first frame,
    /// WebP) and send its pixels, scaled down to fit `max_side` pixels a
    /// side: what the desktop inbox shows.
    Render { size: u64, max_side: u32 },
    /// Read the words of the file that follows (plain text, office
    /// documents, PDF), at most `cap` bytes of them: what the desktop inbox
    /// searches.
    Words { size: u64, cap: u64 },
    /// Try what the sandbox must refuse: read `path`, make a file beside
    /// it, open a socket, start a program, signal process `pid` (the
    /// parent); say what happened to each.
    SelfTest { path: String, pid: u32 },
    /// Misbehave as a compromised reader would, so that tests can watch the
    /// parent cope; harmless, since the parent asked.
    Misbehave { how: Misbehaviour },
}

/// What [`Job::Archive`] sends after the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Deliver {
    /// Every part, each verified against its size and SHA-256 (`decrypt`):
    /// where it is stored uncompressed, as where it lies in the plaintext,
    /// for the parent to copy and verify; else its bytes, verified.
    Everything,
    /// The manifest alone (`reply` reading a sealed submission).
    Manifest,
    /// The first `bytes` of the message, unverified (`list`'s preview).
    MessageHead { bytes: u64 },
}

/// The ways [`Job::Misbehave`] misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misbehaviour {
    /// Abort, as a detected memory error does.
    Crash,
    /// Spin forever (the CPU-time limit ends it).
    Spin,
    /// Sleep forever in a futex (the parent's clock ends it).
    Hang,
    /// Allocate until the address-space limit refuses.
    Allocate,
    /// Answer with endless cleaned bytes (the parent's caps end it).
    Flood,
}

/// How the child confined itself, its first frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// The Landlock ABI in force (0: none).
    pub landlock_abi: u8,
    /// What the sandbox lacks on this kernel, in plain words (empty when
    /// nothing).
    pub lacks: Vec<String>,
}

/// The self-test's findings: each attempt and what stopped it, or `None`
/// where it succeeded (a hole).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestFindings {
    pub attempts: Vec<(String, Option<String>)>,
}

/// Sends a whole file to the child after its job.
pub fn send_file(out: &mut impl Write, job: &Job, data: &[u8]) -> io::Result<()> {
    let job = serde_json::to_vec(job).expect("jobs serialize");
    write_frame(out, Tag::Job, &job)?;
    write_chunks(out, Tag::Data, &[], data)?;
    write_frame(out, Tag::End, &[])?;
    out.flush()
}

/// Receives a whole file from the parent, up to `size` bytes (which the job
/// gave, itself capped).
pub fn receive_file(input: &mut impl Read, size: u64) -> Result<Vec<u8>, WireError> {
    if size > MAX_FILE_BYTES {
        return Err(protocol(format!("a file of {size} bytes")));
    }
    let mut data = Vec::with_capacity(size as usize);
    let mut payload = Vec::new();
    loop {
        match expect_frame(input, &mut payload)? {
            Tag::Data if data.len() + payload.len() <= size as usize => {
                data.extend_from_slice(&payload)
            }
            Tag::Data => return Err(protocol("more bytes than the file's size")),
            Tag::End if data.len() == size as usize => return Ok(data),
            other => return Err(protocol(format!("{other:?} inside a file"))),
        }
    }
}

fn json<'a, T: Deserialize<'a>>(payload: &'a [u8], what: &str) -> Result<T, WireError> {
    serde_json::from_slice(payload).map_err(|e| protocol(format!("its {what} is not valid: {e}")))
}

/// The child's first frame.
pub fn read_confinement(input: &mut impl Read) -> Result<Confinement, WireError> {
    let mut payload = Vec::new();
    match expect_frame(input, &mut payload)? {
        Tag::Confined => json(
            &read_message(input, Tag::Confined, &payload, 64 * 1024)?,
            "confinement",
        ),
        Tag::Failed => Err(protocol(format!(
            "it could not confine itself: {}",
            read_failure(input, &payload)?
        ))),
        other => Err(protocol(format!("{other:?} before its confinement"))),
    }
}

/// The answer to [`Job::Inspect`].
pub fn read_report(input: &mut impl Read) -> Result<Report, WireError> {
    let mut payload = Vec::new();
    let report: Report = match expect_frame(input, &mut payload)? {
        Tag::Report => json(
            &read_message(input, Tag::Report, &payload, SANDBOX_MAX_REPORT_BYTES)?,
            "report",
        )?,
        other => return Err(unexpected(input, other, &payload)),
    };
    expect_done(input)?;
    Ok(report)
}

/// The answer to [`Job::Scrub`]: a cleaned copy (at most `cap` bytes), or
/// why not.
pub fn read_scrubbed(
    input: &mut impl Read,
    cap: u64,
) -> Result<Result<Scrubbed, NotCleaned>, WireError> {
    let mut payload = Vec::new();
    let mut data = Vec::new();
    loop {
        match expect_frame(input, &mut payload)? {
            Tag::Cleaned if (data.len() + payload.len()) as u64 <= cap => {
                data.extend_from_slice(&payload)
            }
            Tag::Cleaned => return Err(protocol(format!("a cleaned copy over {cap} bytes"))),
            Tag::CleanedEnd => {
                let removed = read_message(input, Tag::CleanedEnd, &payload, 16 << 20)?;
                let removed: Vec<String> = json(&removed, "list of what was removed")?;
                expect_done(input)?;
                return Ok(Ok(Scrubbed { data, removed }));
            }
            Tag::NotCleaned if data.is_empty() => return refusal(input, &payload).map(Err),
            other => return Err(unexpected(input, other, &payload)),
        }
    }
}

/// Why the child would not do the job ([`Tag::NotCleaned`], whose first
/// frame is `payload`), and the end of its answer.
fn refusal(input: &mut impl Read, payload: &[u8]) -> Result<NotCleaned, WireError> {
    let reason = read_message(input, Tag::NotCleaned, payload, 64 * 1024)?;
    let reason = String::from_utf8_lossy(&reason).into_owned();
    expect_done(input)?;
    Ok(NotCleaned(reason))
}

/// The answer to [`Job::Render`] with `max_side`: a picture no wider or
/// taller than that, with exactly as many bytes as its size says, or why
/// the child would not decode it.
pub fn read_pixels(
    input: &mut impl Read,
    max_side: u32,
) -> Result<Result<Pixels, NotCleaned>, WireError> {
    let mut payload = Vec::new();
    let tag = expect_frame(input, &mut payload)?;
    if tag == Tag::NotCleaned {
        return refusal(input, &payload).map(Err);
    }
    if tag != Tag::Pixels {
        return Err(unexpected(input, tag, &payload));
    }
    // The parent asks for at most MAX_RENDER_SIDE a side; a larger request
    // is clamped here too, so the cap below cannot overflow.
    let max_side = max_side.clamp(1, super::parent::MAX_RENDER_SIDE);
    let cap = 8 + 4 * (max_side as usize) * (max_side as usize);
    let message = read_message(input, Tag::Pixels, &payload, cap)?;
    let (size, rgba) = message
        .split_first_chunk::<8>()
        .ok_or_else(|| protocol("a picture without its size"))?;
    let width = u32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    let height = u32::from_be_bytes([size[4], size[5], size[6], size[7]]);
    if width == 0 || height == 0 || width > max_side || height > max_side {
        return Err(protocol(format!(
            "a picture of {width}×{height} pixels, asked for at most {max_side} a side"
        )));
    }
    if rgba.len() != 4 * width as usize * height as usize {
        return Err(protocol(format!(
            "{} bytes of pixels for a picture of {width}×{height}",
            rgba.len()
        )));
    }
    let rgba = rgba.to_vec();
    expect_done(input)?;
    Ok(Ok(Pixels {
        width,
        height,
        rgba,
    }))
}

/// The answer to [`Job::Words`] with `cap`: at most `cap` bytes of text
/// and a short list of what was not read, or why there is no text.
pub fn read_words(
    input: &mut impl Read,
    cap: u64,
) -> Result<Result<crate::Searchable, NotCleaned>, WireError> {
    let mut payload = Vec::new();
    let tag = expect_frame(input, &mut payload)?;
    if tag == Tag::NotCleaned {
        return refusal(input, &payload).map(Err);
    }
    if tag != Tag::Words {
        return Err(unexpected(input, tag, &payload));
    }
    // JSON writes a control character in six bytes.
    let message_cap = usize::try_from(cap.saturating_mul(6))
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let message = read_message(input, Tag::Words, &payload, message_cap)?;
    let words: crate::Searchable = json(&message, "text for search")?;
    if words.text.len() as u64 > cap
        || words.missed.len() > crate::searchable::MAX_NOTES
        || words
            .missed
            .iter()
            .any(|note| note.len() > crate::searchable::MAX_NOTE_BYTES)
    {
        return Err(protocol(format!(
            "{} bytes of text and {} notes, asked for at most {cap} bytes",
            words.text.len(),
            words.missed.len()
        )));
    }
    expect_done(input)?;
    Ok(Ok(words))
}

/// The answer to [`Job::SelfTest`].
pub fn read_self_test(input: &mut impl Read) -> Result<SelfTestFindings, WireError> {
    let mut payload = Vec::new();
    match expect_frame(input, &mut payload)? {
        Tag::SelfTest => {
            let findings = json(
                &read_message(input, Tag::SelfTest, &payload, 64 * 1024)?,
                "self-test",
            )?;
            expect_done(input)?;
            Ok(findings)
        }
        other => Err(unexpected(input, other, &payload)),
    }
}

/// A frame out of place; a `Failed` message's reason is kept.
pub fn unexpected(input: &mut impl Read, tag: Tag, payload: &[u8]) -> WireError {
    match tag {
        Tag::Failed => match read_failure(input, payload) {
            Ok(reason) => protocol(format!("it failed: {reason}")),
            Err(e) => e,
        },
        other => protocol(format!("{other:?} where it was not expected")),
    }
}

/// The end of an answer: `Done`, then nothing.
pub fn expect_done(input: &mut impl Read) -> Result<(), WireError> {
    let mut payload = Vec::new();
    match expect_frame(input, &mut payload)? {
        Tag::Done if payload.is_empty() => {}
        other => return Err(unexpected(input, other, &payload)),
    }
    match read_frame(input, &mut payload)? {
        None => Ok(()),
        Some(_) => Err(protocol("more after its answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Messages of any length cross as frames and come back whole, and
    /// one over its cap is refused, whatever frame it crosses in.
    #[test]
    fn messages_of_any_length_cross_whole_and_caps_hold() {
        for len in [
            0,
            1,
            MAX_FRAME - 1,
            MAX_FRAME,
            MAX_FRAME + 1,
            3 * MAX_FRAME + 5,
        ] {
            let message: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut stream = Vec::new();
            write_message(&mut stream, Tag::Report, &message).unwrap();
            write_frame(&mut stream, Tag::Done, &[]).unwrap();
            let mut input = Cursor::new(stream);
            let mut first = Vec::new();
            assert_eq!(expect_frame(&mut input, &mut first).unwrap(), Tag::Report);
            let read = read_message(&mut input, Tag::Report, &first, 4 * MAX_FRAME).unwrap();
            assert_eq!(read, message, "{len}");
            assert_eq!(expect_frame(&mut input, &mut first).unwrap(), Tag::Done);
            if len > 0 {
                let mut input = Cursor::new(input.into_inner());
                let mut first = Vec::new();
                expect_frame(&mut input, &mut first).unwrap();
                assert!(read_message(&mut input, Tag::Report, &first, len - 1).is_err());
            }
        }
        // A message cut by a frame of another kind is refused.
        let mut stream = Vec::new();
        write_frame(&mut stream, Tag::Report, &vec![0u8; MAX_FRAME]).unwrap();
        write_frame(&mut stream, Tag::Done, &[]).unwrap();
        let mut input = Cursor::new(stream);
        let mut first = Vec::new();
        expect_frame(&mut input, &mut first).unwrap();
        assert!(read_message(&mut input, Tag::Report, &first, usize::MAX).is_err());
    }
}
