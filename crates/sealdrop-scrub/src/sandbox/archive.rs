//! A sealed submission's ZIP archive read in the sandbox. The parent holds
//! the keys and decrypts; the child reads the archive's structure and the
//! manifest, asking for plaintext piece by piece ([`Tag::Want`]), and
//! checks every entry against the manifest. A part stored uncompressed (as
//! the server stores every part) comes back as where its bytes lie
//! ([`Tag::Span`]): the parent copies them from its own plaintext and
//! checks their SHA-256 itself, so that the bulk of a submission never
//! crosses the pipes and hashing keeps its own thread. A compressed part
//! (another ZIP writer's) is inflated in the child and streamed back,
//! verified. The ZIP and the manifest are the server's work,
//! so a child made to lie about them learns nothing and claims nothing a
//! compromised server could not; the parent still checks every path, size
//! and order it is told before it writes a byte.

use std::cell::RefCell;
use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use sealdrop_format::fsutil::read_up_to;
use sealdrop_format::hex::encode as hex;
use sealdrop_format::seal::reader::{
    check_parts, copy_verified, parse_manifest, PartLayout, MAX_DEFLATE_RATIO,
};
use sealdrop_format::seal::{Manifest, SubmissionReader};

use super::parent::{Sandbox, SandboxError};
use super::wire::{
    self, expect_frame, unexpected, write_frame, Deliver, Job, Tag, WireError, MAX_FRAME,
};

/// The most manifest JSON the parent reads back: the format's own cap.
const MANIFEST_CAP: usize = sealdrop_format::seal::manifest::MAX_MANIFEST_BYTES as usize;

/// Where the parent puts what the child read.
pub trait ArchiveSink {
    /// The submission's manifest, checked (safe paths, each in its place);
    /// parts follow in its order.
    fn manifest(&mut self, manifest: &Manifest) -> io::Result<()>;
    /// More bytes of part `index`.
    fn part(&mut self, index: usize, bytes: &[u8]) -> io::Result<()>;
    /// Part `index` is complete, and its SHA-256 verified.
    fn part_end(&mut self, index: usize) -> io::Result<()>;
    /// Forget what came of part `index`: it comes again, from the start.
    fn part_discard(&mut self, index: usize) -> io::Result<()>;
}

/// What came of reading an archive.
#[derive(Debug)]
pub enum ArchiveOutcome {
    /// What was asked for was delivered; the manifest.
    Read(Manifest),
    /// The archive is not a valid submission (the reason, as the reader of
    /// `sealdrop-format` words it).
    Refused(String),
}

/// Why an archive was not read, beyond the archive's own fault.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Decrypting the plaintext the child asked for failed (a damaged
    /// file): the file's fault, found by the parent.
    #[error("decrypting it failed: {0}")]
    Plaintext(io::Error),
    /// The sink failed (writing a part out): the parent's own.
    #[error("{0}")]
    Sink(io::Error),
}

impl Sandbox {
    /// Reads the ZIP archive of `size` bytes in `plaintext` in a child, and
    /// hands what `deliver` asks for to `sink`.
    pub fn read_archive<P: Read + Seek>(
        &self,
        plaintext: &mut P,
        size: u64,
        deliver: Deliver,
        sink: &mut (dyn ArchiveSink + Send),
    ) -> Result<ArchiveOutcome, ArchiveError> {
        let mut parent_failed = None;
        let result = self.run_talking(|to, from| {
            let job = serde_json::to_vec(&Job::Archive { size, deliver }).expect("jobs serialize");
            write_frame(to, Tag::Job, &job)?;
            to.flush()?;
            answer_archive(from, to, plaintext, size, deliver, sink).map_err(|e| match e {
                Answering::Wire(e) => e,
                Answering::Plaintext(e) => {
                    parent_failed = Some(ArchiveError::Plaintext(e));
                    WireError::Protocol("was stopped".into())
                }
                Answering::Sink(e) => {
                    parent_failed = Some(ArchiveError::Sink(e));
                    WireError::Protocol("was stopped".into())
                }
            })
        });
        match (result, parent_failed) {
            (_, Some(e)) => Err(e),
            (Ok(outcome), None) => Ok(outcome),
            (Err(e), None) => Err(e.into()),
        }
    }
}

/// What stopped the parent's side of the conversation.
pub enum Answering {
    Wire(WireError),
    Plaintext(io::Error),
    Sink(io::Error),
}

impl From<WireError> for Answering {
    fn from(e: WireError) -> Self {
        Answering::Wire(e)
    }
}

fn broke(what: impl Into<String>) -> Answering {
    Answering::Wire(WireError::Protocol(what.into()))
}

/// The parent's side of [`Job::Archive`], after the job was sent: answers
/// each request for plaintext, checks and hands on the manifest and parts.
/// Public for the `sandbox_answers` fuzz target.
pub fn answer_archive<P: Read + Seek>(
    from: &mut impl Read,
    to: &mut impl Write,
    plaintext: &mut P,
    size: u64,
    deliver: Deliver,
    sink: &mut (dyn ArchiveSink + Send),
) -> Result<ArchiveOutcome, Answering> {
    let mut payload = Vec::new();
    // A part whose bytes the parent found wrong: the submission is refused,
    // the child told to stop, and nothing more is delivered.
    let mut refused: Option<String> = None;
    // The part the child was told to inflate: it may not place it again.
    let mut inflating: Option<usize> = None;
    // Placed bytes in all: an honest child's placements are apart (the
    // archive's entries were checked to be), so they never add up to more
    // than the plaintext; a lying one could otherwise make the parent write
    // the same bytes again and again.
    let mut placed_total = 0u64;
    let mut manifest: Option<Manifest> = None;
    // The part being delivered, how many of its bytes came, and their hash.
    let mut current = 0usize;
    let mut delivered = 0u64;
    let mut streamed = Sha256::new();
    let mut buffer = Vec::new();
    loop {
        match expect_frame(from, &mut payload)? {
            Tag::Want => {
                let [o0, o1, o2, o3, o4, o5, o6, o7, l0, l1, l2, l3] = payload[..] else {
                    return Err(broke("a malformed request"));
                };
                let offset = u64::from_be_bytes([o0, o1, o2, o3, o4, o5, o6, o7]);
                let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
                if offset > size || len > MAX_FRAME {
                    return Err(broke("a request outside the plaintext"));
                }
                let len = len.min((size - offset) as usize);
                buffer.resize(len, 0);
                plaintext
                    .seek(SeekFrom::Start(offset))
                    .map_err(Answering::Plaintext)?;
                let got = read_up_to(plaintext, &mut buffer).map_err(Answering::Plaintext)?;
                write_frame(to, Tag::Bytes, &buffer[..got]).map_err(WireError::from)?;
                to.flush().map_err(WireError::from)?;
                // Plaintext of a submission: wiped where this buffer lived.
                buffer.iter_mut().for_each(|b| *b = 0);
            }
            Tag::Manifest if manifest.is_none() => {
                let json = wire::read_message(from, Tag::Manifest, &payload, MANIFEST_CAP)?;
                let parsed = parse_manifest(&json)
                    .and_then(|m| check_parts(&m).map(|()| m))
                    .map_err(|e| broke(format!("sent a manifest the parent refuses: {e}")))?;
                // As the format's reader bounds it: entries apart, what the
                // parts may add up to is bounded by the plaintext's size.
                let declared = parsed
                    .parts
                    .iter()
                    .try_fold(0u64, |sum, part| sum.checked_add(part.size));
                let holdable = size
                    .saturating_mul(MAX_DEFLATE_RATIO)
                    .saturating_add(64 * parsed.parts.len() as u64);
                if declared.is_none_or(|declared| declared > holdable) {
                    return Err(broke(
                        "sent a manifest declaring more than the file can hold",
                    ));
                }
                sink.manifest(&parsed).map_err(Answering::Sink)?;
                manifest = Some(parsed);
            }
            Tag::Part => {
                let Some(manifest) = &manifest else {
                    return Err(broke("sent a part before the manifest"));
                };
                let (index, bytes) = part_frame(&payload)?;
                if let Deliver::MessageHead { .. } = deliver {
                    // Only the message's part, from its start.
                    current = message_index(manifest)
                        .ok_or_else(|| broke("sent a message the manifest does not list"))?;
                }
                let part = manifest
                    .parts
                    .get(current)
                    .filter(|_| index == current && deliver != Deliver::Manifest)
                    .ok_or_else(|| broke("sent parts out of order, or not asked for"))?;
                delivered += bytes.len() as u64;
                let cap = match deliver {
                    Deliver::MessageHead { bytes } => part.size.min(bytes),
                    _ => part.size,
                };
                if delivered > cap {
                    return Err(broke("sent more of a part than its manifest declares"));
                }
                streamed.update(bytes);
                if refused.is_none() {
                    sink.part(index, bytes).map_err(Answering::Sink)?;
                }
            }
            Tag::PartEnd => {
                let Some(manifest) = &manifest else {
                    return Err(broke("ended a part before the manifest"));
                };
                let (index, rest) = part_frame(&payload)?;
                let part = manifest
                    .parts
                    .get(current)
                    .filter(|_| index == current && deliver == Deliver::Everything);
                if !rest.is_empty() || part.is_none_or(|part| delivered != part.size) {
                    return Err(broke("ended a part that was not complete"));
                }
                // The child verified it; the parent checks again what it
                // writes, so that even a lying child cannot change a file.
                let hash = hex(&std::mem::take(&mut streamed).finalize());
                if refused.is_none() && part.is_some_and(|part| hash != part.sha256) {
                    return Err(broke("sent a part whose bytes are not the manifest's"));
                }
                inflating = None;
                if refused.is_none() {
                    sink.part_end(index).map_err(Answering::Sink)?;
                }
                current += 1;
                delivered = 0;
            }
            Tag::Span => {
                let Some(manifest) = &manifest else {
                    return Err(broke("placed a part before the manifest"));
                };
                let placement = Placement::read(&payload)?;
                let index = placement.index;
                let part = manifest
                    .parts
                    .get(current)
                    .filter(|_| index == current && delivered == 0)
                    .filter(|_| deliver == Deliver::Everything)
                    .ok_or_else(|| broke("placed parts out of order, or not asked for"))?;
                if inflating == Some(index) {
                    return Err(broke("placed again a part it was told to inflate"));
                }
                let fits = placement.length == part.size || placement.framed;
                if !fits || placement.end().is_none_or(|end| end > size) {
                    return Err(broke("placed a part outside the plaintext"));
                }
                placed_total = placed_total.saturating_add(placement.length);
                if placed_total > size {
                    return Err(broke("placed more bytes than the plaintext holds"));
                }
                let answer = if refused.is_some() {
                    STOP
                } else {
                    match copy_placed(plaintext, &placement, part, sink)? {
                        Copied::Whole => {
                            sink.part_end(index).map_err(Answering::Sink)?;
                            PLACED
                        }
                        Copied::Wrong(reason) => {
                            refused = Some(reason);
                            STOP
                        }
                        // A compressed block after stored ones: what was
                        // copied goes, and the child inflates the part.
                        Copied::Compressed => {
                            sink.part_discard(index).map_err(Answering::Sink)?;
                            inflating = Some(index);
                            INFLATE_IT
                        }
                    }
                };
                if answer != INFLATE_IT {
                    current += 1;
                }
                write_frame(to, Tag::Placed, &[answer]).map_err(WireError::from)?;
                to.flush().map_err(WireError::from)?;
            }
            Tag::Failed => {
                // The child's refusal: the archive's fault, in the words of
                // the format's reader. Its end is checked, but a child that
                // stopped after saying why has still said why.
                let reason = wire::read_failure(from, &payload)?;
                let _ = wire::expect_done(from);
                // The parent's own finding, if it made one, comes first.
                return Ok(ArchiveOutcome::Refused(refused.unwrap_or(reason)));
            }
            Tag::Done if payload.is_empty() => {
                let Some(manifest) = manifest else {
                    return Err(broke("finished without a manifest"));
                };
                if let Some(reason) = refused {
                    let _ = wire::read_frame(from, &mut payload);
                    return Ok(ArchiveOutcome::Refused(reason));
                }
                if deliver == Deliver::Everything && current != manifest.parts.len() {
                    return Err(broke("finished before every part"));
                }
                if wire::read_frame(from, &mut payload)?.is_some() {
                    return Err(broke("more after its answer"));
                }
                return Ok(ArchiveOutcome::Read(manifest));
            }
            other => return Err(unexpected(from, other, &payload).into()),
        }
    }
}

/// A part's bytes on their way from the plaintext to the sink (on the
/// copying thread of [`copy_verified`]); the sink's own failure is kept
/// apart from the plaintext's.
struct SinkWriter<'a> {
    sink: &'a mut (dyn ArchiveSink + Send),
    index: usize,
    failed: Option<io::Error>,
}

impl Write for SinkWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self.sink.part(self.index, bytes) {
            Ok(()) => Ok(bytes.len()),
            Err(e) => {
                let told = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(told)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The parent's answers to a [`Tag::Span`]: copied; "inflate it yourself"
/// when a compressed block turned up; stop, the submission is refused.
const PLACED: u8 = 0;
const INFLATE_IT: u8 = 1;
const STOP: u8 = 2;

/// Where a part lies in the plaintext, as the child says: its index, the
/// offset and length of its bytes, and whether they are framed in deflate's
/// stored blocks.
struct Placement {
    index: usize,
    offset: u64,
    length: u64,
    framed: bool,
}

impl Placement {
    const LEN: usize = 4 + 8 + 8 + 1;

    fn write(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..4].copy_from_slice(&(self.index as u32).to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.to_be_bytes());
        out[12..20].copy_from_slice(&self.length.to_be_bytes());
        out[20] = u8::from(self.framed);
        out
    }

    fn read(payload: &[u8]) -> Result<Placement, Answering> {
        let bytes: &[u8; Self::LEN] = payload
            .try_into()
            .map_err(|_| broke("a malformed part placement"))?;
        let u64_at =
            |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
        Ok(Placement {
            index: u32::from_be_bytes(bytes[..4].try_into().expect("four bytes")) as usize,
            offset: u64_at(4),
            length: u64_at(12),
            framed: match bytes[20] {
                0 => false,
                1 => true,
                _ => return Err(broke("a malformed part placement")),
            },
        })
    }

    fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.length)
    }
}

/// What came of copying a placed part.
enum Copied {
    Whole,
    /// Its bytes are not the manifest's (the reason, as the format's reader
    /// words it).
    Wrong(String),
    Compressed,
}

/// Copies a placed part from the parent's own plaintext into the sink,
/// unframing deflate's stored blocks where it is framed, and checks its
/// size and SHA-256 against the manifest ([`copy_verified`]: reading,
/// writing and hashing on threads of their own).
fn copy_placed<P: Read + Seek>(
    plaintext: &mut P,
    placement: &Placement,
    part: &sealdrop_format::seal::Part,
    sink: &mut (dyn ArchiveSink + Send),
) -> Result<Copied, Answering> {
    plaintext
        .seek(SeekFrom::Start(placement.offset))
        .map_err(Answering::Plaintext)?;
    // Exactly the placed bytes: what follows them is not more of the part.
    // Decryption failures are kept apart (age calls them InvalidData too):
    // a damaged file is not a part whose bytes are wrong.
    let mut source = Decrypting {
        inner: (&mut *plaintext).take(placement.length),
        failed: None,
    };
    let mut out = SinkWriter {
        sink,
        index: placement.index,
        failed: None,
    };
    let copied = if placement.framed {
        copy_verified(
            StoredBlocks::new(&mut source),
            &mut out,
            &part.path,
            part.size,
            &part.sha256,
        )
    } else {
        copy_verified(&mut source, &mut out, &part.path, part.size, &part.sha256)
    };
    if let Some(e) = source.failed {
        return Err(Answering::Plaintext(e));
    }
    match (copied, out.failed) {
        (_, Some(e)) => Err(Answering::Sink(e)),
        (Ok(_), None) => Ok(Copied::Whole),
        (Err(e), None) if e.kind() == io::ErrorKind::Unsupported => Ok(Copied::Compressed),
        (Err(e), None) if e.kind() == io::ErrorKind::InvalidData => Ok(Copied::Wrong(
            sealdrop_format::seal::OpenError::Integrity {
                path: part.path.clone(),
                reason: e.to_string(),
            }
            .to_string(),
        )),
        (Err(e), None) => Err(Answering::Plaintext(e)),
    }
}

/// The parent's plaintext, keeping its own failure apart.
struct Decrypting<R> {
    inner: R,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Decrypting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failed = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }
}

/// The bytes inside a deflate stream made of stored blocks (RFC 1951,
/// 3.2.4): each block a header byte (BFINAL, BTYPE 00, padding), LEN and
/// its complement NLEN, then LEN bytes as they are. A compressed block is
/// `Unsupported` (it must be inflated, in the sandbox); a damaged header or
/// a stream that ends before its final block is `InvalidData`. The one
/// framing the parent reads itself: five bytes a block, checked, so that a
/// submission's bulk never crosses the pipes.
struct StoredBlocks<R> {
    inner: R,
    /// Bytes left in the current block.
    left: u16,
    finished: bool,
}

impl<R: Read> StoredBlocks<R> {
    fn new(inner: R) -> StoredBlocks<R> {
        StoredBlocks {
            inner,
            left: 0,
            finished: false,
        }
    }
}

impl<R: Read> Read for StoredBlocks<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.left == 0 {
            if self.finished {
                return Ok(0);
            }
            let cut_short = |e: io::Error| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "its deflate stream is cut short",
                    )
                } else {
                    e
                }
            };
            // The block's type first: a compressed block (as short as two
            // bytes) is not a damaged stored one.
            let mut header = [0u8; 5];
            self.inner.read_exact(&mut header[..1]).map_err(cut_short)?;
            if (header[0] >> 1) & 0b11 != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a compressed deflate block",
                ));
            }
            self.inner.read_exact(&mut header[1..]).map_err(cut_short)?;
            let len = u16::from_le_bytes([header[1], header[2]]);
            let nlen = u16::from_le_bytes([header[3], header[4]]);
            if len != !nlen {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a damaged stored deflate block",
                ));
            }
            self.finished = header[0] & 1 == 1;
            self.left = len;
        }
        let want = buf.len().min(usize::from(self.left));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "its deflate stream is cut short",
            ));
        }
        self.left -= n as u16;
        Ok(n)
    }
}

fn message_index(manifest: &Manifest) -> Option<usize> {
    manifest
        .parts
        .iter()
        .position(|p| p.kind == sealdrop_format::seal::PartKind::Message)
}

fn part_frame(payload: &[u8]) -> Result<(usize, &[u8]), Answering> {
    match payload {
        [a, b, c, d, rest @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]) as usize, rest)),
        _ => Err(broke("a malformed part")),
    }
}

/// The child's view of the plaintext: each read asks the parent.
struct RemotePlaintext<'a, I, O> {
    input: &'a RefCell<I>,
    output: &'a RefCell<O>,
    size: u64,
    position: u64,
    payload: Vec<u8>,
}

impl<I: Read, O: Write> Read for RemotePlaintext<'_, I, O> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64)
            .min(MAX_FRAME as u64)
            .min(self.size - self.position);
        let mut request = [0u8; 12];
        request[..8].copy_from_slice(&self.position.to_be_bytes());
        request[8..].copy_from_slice(&(want as u32).to_be_bytes());
        {
            let mut output = self.output.borrow_mut();
            write_frame(&mut *output, Tag::Want, &request)?;
            output.flush()?;
        }
        let tag = expect_frame(&mut *self.input.borrow_mut(), &mut self.payload)
            .map_err(io::Error::other)?;
        if tag != Tag::Bytes || self.payload.len() as u64 > want || self.payload.is_empty() {
            return Err(io::Error::other("the parent sent no plaintext"));
        }
        let n = self.payload.len();
        buf[..n].copy_from_slice(&self.payload);
        self.position += n as u64;
        Ok(n)
    }
}

impl<I, O> Seek for RemotePlaintext<'_, I, O> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(by) => self.size.checked_add_signed(by),
            SeekFrom::Current(by) => self.position.checked_add_signed(by),
        };
        self.position =
            position.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before 0"))?;
        Ok(self.position)
    }
}

/// The child's side of [`Job::Archive`].
pub(super) fn serve<I: Read, O: Write>(
    size: u64,
    deliver: Deliver,
    input: &mut I,
    output: &mut O,
) -> Result<(), WireError> {
    let output = RefCell::new(output);
    let input = RefCell::new(input);
    let plaintext = RemotePlaintext {
        input: &input,
        output: &output,
        size,
        position: 0,
        payload: Vec::new(),
    };
    let refuse = |reason: String| -> Result<(), WireError> {
        wire::write_message(&mut *output.borrow_mut(), Tag::Failed, reason.as_bytes())?;
        Ok(())
    };
    let mut reader = match SubmissionReader::from_plaintext(plaintext) {
        Ok(reader) => reader,
        Err(e) => return refuse(e.to_string()),
    };
    let manifest = serde_json::to_vec(reader.manifest()).expect("manifests serialize");
    wire::write_message(&mut *output.borrow_mut(), Tag::Manifest, &manifest)?;
    let mut frame = vec![0u8; MAX_FRAME];
    let wanted: Vec<usize> = match deliver {
        Deliver::Everything => (0..reader.manifest().parts.len()).collect(),
        Deliver::Manifest => Vec::new(),
        Deliver::MessageHead { .. } => message_index(reader.manifest()).into_iter().collect(),
    };
    for index in wanted {
        let path = reader.manifest().parts[index].path.clone();
        frame[..4].copy_from_slice(&(index as u32).to_be_bytes());
        if let Deliver::MessageHead { bytes } = deliver {
            let part = match reader.part_reader(index) {
                Ok(part) => part,
                Err(e) => return refuse(e.to_string()),
            };
            let mut head = part.take(bytes);
            let n = match read_up_to(&mut head, &mut frame[4..]) {
                Ok(n) => n,
                Err(e) => {
                    return refuse(
                        sealdrop_format::seal::OpenError::Integrity {
                            path,
                            reason: e.to_string(),
                        }
                        .to_string(),
                    )
                }
            };
            if n > 0 {
                write_frame(&mut *output.borrow_mut(), Tag::Part, &frame[..4 + n])?;
            }
            return Ok(());
        }
        let placement = match reader.part_layout(index) {
            Ok(PartLayout::Stored { offset }) => Some(Placement {
                index,
                offset,
                length: reader.manifest().parts[index].size,
                framed: false,
            }),
            Ok(PartLayout::StoredBlocks { offset, length }) => Some(Placement {
                index,
                offset,
                length,
                framed: true,
            }),
            Ok(PartLayout::Compressed) => None,
            Err(e) => return refuse(e.to_string()),
        };
        if let Some(placement) = placement {
            {
                let mut output = output.borrow_mut();
                write_frame(&mut *output, Tag::Span, &placement.write())?;
                output.flush()?;
            }
            let mut answer = Vec::new();
            match expect_frame(&mut *input.borrow_mut(), &mut answer)? {
                Tag::Placed if answer == [PLACED] => continue,
                Tag::Placed if answer == [INFLATE_IT] => {}
                // The parent refuses the submission: nothing more to read.
                Tag::Placed if answer == [STOP] => return Ok(()),
                other => {
                    return Err(WireError::Protocol(format!(
                        "the parent answered a placement with {other:?}"
                    )))
                }
            }
        }
        let mut part = match reader.part_reader(index) {
            Ok(part) => part,
            Err(e) => return refuse(e.to_string()),
        };
        loop {
            // Any failure to read a part (a damaged deflate stream, a
            // wrong hash, or the parent's plaintext ending) is the
            // archive's, said in the reader's words.
            let n = match read_up_to(&mut part, &mut frame[4..]) {
                Ok(n) => n,
                Err(e) => {
                    return refuse(
                        sealdrop_format::seal::OpenError::Integrity {
                            path,
                            reason: e.to_string(),
                        }
                        .to_string(),
                    )
                }
            };
            if n == 0 {
                break;
            }
            write_frame(&mut *output.borrow_mut(), Tag::Part, &frame[..4 + n])?;
        }
        write_frame(&mut *output.borrow_mut(), Tag::PartEnd, &frame[..4])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The parent facing a compromised child: every answer below is what a
    //! child could write; the parent must refuse all but the honest one
    //! before its sink writes anything it should not.

    use super::*;
    use sealdrop_format::seal::{Part, PartKind};
    use std::io::Cursor;

    #[derive(Default)]
    struct Recorded {
        manifests: usize,
        bytes: Vec<(usize, Vec<u8>)>,
        ended: Vec<usize>,
        discarded: Vec<usize>,
    }

    impl ArchiveSink for Recorded {
        fn manifest(&mut self, _: &Manifest) -> io::Result<()> {
            self.manifests += 1;
            Ok(())
        }
        fn part(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
            self.bytes.push((index, bytes.to_vec()));
            Ok(())
        }
        fn part_end(&mut self, index: usize) -> io::Result<()> {
            self.ended.push(index);
            Ok(())
        }
        fn part_discard(&mut self, index: usize) -> io::Result<()> {
            self.bytes.retain(|(i, _)| *i != index);
            self.discarded.push(index);
            Ok(())
        }
    }

    fn manifest_hashed(path: &str, size: u64, sha256: String) -> Vec<u8> {
        let mut manifest = Manifest::new("2026-12-06T00:00:00Z".into(), 3600);
        manifest.parts.push(Part {
            kind: PartKind::Attachment,
            path: path.into(),
            original_name: None,
            content_type: None,
            size,
            sha256,
        });
        serde_json::to_vec(&manifest).unwrap()
    }

    /// A placement of part `index`: `length` bytes from `offset`, framed in
    /// stored deflate blocks or not.
    fn placed(index: usize, offset: u64, length: u64, framed: bool) -> Vec<u8> {
        Placement {
            index,
            offset,
            length,
            framed,
        }
        .write()
        .to_vec()
    }

    /// Two parts: three bytes of 7s, and a large one.
    fn manifest_two_parts() -> Vec<u8> {
        let mut manifest = Manifest::new("2026-12-06T00:00:00Z".into(), 3600);
        for (path, size) in [("attachments/a.txt", 3), ("attachments/b.txt", 90)] {
            manifest.parts.push(Part {
                kind: PartKind::Attachment,
                path: path.into(),
                original_name: None,
                content_type: None,
                size,
                sha256: sevens(),
            });
        }
        serde_json::to_vec(&manifest).unwrap()
    }

    fn span(index: usize, offset: u64) -> Vec<u8> {
        placed(index, offset, 3, false)
    }

    fn sha_hex(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    /// Three bytes of the test plaintext (all 7s), as SHA-256 hex.
    fn sevens() -> String {
        sha_hex(&[7u8; 3])
    }

    #[test]
    fn a_placed_part_is_copied_from_the_parents_plaintext_and_verified_there() {
        let manifest = || {
            (
                Tag::Manifest,
                manifest_hashed("attachments/a.txt", 3, sevens()),
            )
        };
        let (result, sink) = answer(
            &[
                manifest(),
                (Tag::Span, span(0, 10)),
                (Tag::Done, Vec::new()),
            ],
            Deliver::Everything,
        );
        assert!(matches!(result, Ok(ArchiveOutcome::Read(_))), "{result:?}");
        assert_eq!(sink.bytes.concat_bytes(), vec![7u8; 3]);
        assert_eq!(sink.ended, vec![0]);
        // Bytes that do not hash to the manifest's: refused, nothing ended.
        let (result, sink) = answer(
            &[
                (Tag::Manifest, manifest_with("attachments/a.txt", 3)),
                (Tag::Span, span(0, 10)),
                (Tag::Done, Vec::new()),
            ],
            Deliver::Everything,
        );
        match result {
            Ok(ArchiveOutcome::Refused(reason)) => {
                assert!(reason.contains("SHA-256 differs"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(sink.ended.is_empty());
        for (lie, frames) in [
            (
                "past the plaintext's end",
                vec![manifest(), (Tag::Span, span(0, 98))],
            ),
            (
                "a part that is not next",
                vec![manifest(), (Tag::Span, span(1, 0))],
            ),
            (
                "placed twice",
                vec![manifest(), (Tag::Span, span(0, 0)), (Tag::Span, span(0, 0))],
            ),
            ("before the manifest", vec![(Tag::Span, span(0, 0))]),
        ] {
            let (result, sink) = answer(&frames, Deliver::Everything);
            assert!(result.is_err(), "{lie}: {result:?}");
            assert!(sink.ended.len() <= 1, "{lie}");
        }
        let (result, _) = answer(&[manifest(), (Tag::Span, span(0, 0))], Deliver::Manifest);
        assert!(
            result.is_err(),
            "a placement when only the manifest was asked for"
        );
    }

    /// A deflate stream of stored blocks holding `blocks`, the last final.
    fn stored_blocks(blocks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, block) in blocks.iter().enumerate() {
            out.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(block);
        }
        out
    }

    #[test]
    fn parts_framed_in_stored_deflate_blocks_are_unframed_by_the_parent() {
        let stream = stored_blocks(&[b"hello ", b"", b"world"]);
        let whole = b"hello world";
        let manifest = || {
            (
                Tag::Manifest,
                manifest_hashed("attachments/a.txt", whole.len() as u64, sha_hex(whole)),
            )
        };
        let length = stream.len() as u64;
        let (result, sink) = answer_with(
            &[
                manifest(),
                (Tag::Span, placed(0, 0, length, true)),
                (Tag::Done, Vec::new()),
            ],
            Deliver::Everything,
            stream.clone(),
        );
        assert!(matches!(result, Ok(ArchiveOutcome::Read(_))), "{result:?}");
        assert_eq!(sink.bytes.concat_bytes(), whole.to_vec());
        assert_eq!(sink.ended, vec![0]);

        // A compressed block after a stored one: the parent discards what
        // it copied, and the child's inflated bytes are the part.
        let mut mixed = stored_blocks(&[b"hello "])[..11].to_vec();
        mixed[0] = 0; // not final
        mixed.extend_from_slice(&[0b011, 0]); // an empty final fixed-Huffman block
        let (result, sink) = answer_with(
            &[
                manifest(),
                (Tag::Span, placed(0, 0, mixed.len() as u64, true)),
                (Tag::Part, part(0, whole)),
                (Tag::PartEnd, part(0, b"")),
                (Tag::Done, Vec::new()),
            ],
            Deliver::Everything,
            mixed,
        );
        assert!(matches!(result, Ok(ArchiveOutcome::Read(_))), "{result:?}");
        assert_eq!(sink.discarded, vec![0]);
        assert_eq!(sink.bytes.concat_bytes(), whole.to_vec());
        assert_eq!(sink.ended, vec![0]);

        // A damaged block header, and a stream cut before its final block.
        let mut damaged = stream.clone();
        damaged[3] ^= 1;
        let mut cut = stream.clone();
        cut.truncate(8);
        for (what, bytes) in [("damaged", damaged), ("cut", cut)] {
            let (result, sink) = answer_with(
                &[
                    manifest(),
                    (Tag::Span, placed(0, 0, bytes.len() as u64, true)),
                    (Tag::Done, Vec::new()),
                ],
                Deliver::Everything,
                bytes,
            );
            assert!(
                matches!(&result, Ok(ArchiveOutcome::Refused(r)) if r.contains("failed verification")),
                "{what}: {result:?}"
            );
            assert!(sink.ended.is_empty(), "{what}");
        }
        // Unframed, a placement must be exactly the part's size.
        let (result, _) = answer_with(
            &[manifest(), (Tag::Span, placed(0, 0, 5, false))],
            Deliver::Everything,
            stream,
        );
        assert!(result.is_err(), "{result:?}");
    }

    trait Concat {
        fn concat_bytes(&self) -> Vec<u8>;
    }

    impl Concat for Vec<(usize, Vec<u8>)> {
        fn concat_bytes(&self) -> Vec<u8> {
            self.iter().flat_map(|(_, b)| b.clone()).collect()
        }
    }

    fn manifest_with(path: &str, size: u64) -> Vec<u8> {
        let mut manifest = Manifest::new("2026-12-06T00:00:00Z".into(), 3600);
        manifest.parts.push(Part {
            kind: PartKind::Attachment,
            path: path.into(),
            original_name: None,
            content_type: None,
            size,
            sha256: "0".repeat(64),
        });
        serde_json::to_vec(&manifest).unwrap()
    }

    /// What a child sends, frame by frame.
    type Frames = Vec<(Tag, Vec<u8>)>;

    fn frame(tag: Tag, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, tag, payload).unwrap();
        out
    }

    fn part(index: u32, bytes: &[u8]) -> Vec<u8> {
        let mut payload = index.to_be_bytes().to_vec();
        payload.extend_from_slice(bytes);
        payload
    }

    fn answer(
        frames: &[(Tag, Vec<u8>)],
        deliver: Deliver,
    ) -> (Result<ArchiveOutcome, String>, Recorded) {
        answer_with(frames, deliver, vec![7u8; 100])
    }

    fn answer_with(
        frames: &[(Tag, Vec<u8>)],
        deliver: Deliver,
        plaintext: Vec<u8>,
    ) -> (Result<ArchiveOutcome, String>, Recorded) {
        let stream: Vec<u8> = frames.iter().flat_map(|(t, p)| frame(*t, p)).collect();
        let mut sink = Recorded::default();
        let size = plaintext.len() as u64;
        let mut plaintext = Cursor::new(plaintext);
        let result = answer_archive(
            &mut Cursor::new(stream),
            &mut Vec::new(),
            &mut plaintext,
            size,
            deliver,
            &mut sink,
        )
        .map_err(|e| match e {
            Answering::Wire(e) => e.to_string(),
            Answering::Plaintext(e) | Answering::Sink(e) => e.to_string(),
        });
        (result, sink)
    }

    #[test]
    fn an_honest_answer_is_delivered() {
        let (result, sink) = answer(
            &[
                (
                    Tag::Want,
                    [0u64.to_be_bytes().to_vec(), 10u32.to_be_bytes().to_vec()].concat(),
                ),
                (
                    Tag::Manifest,
                    manifest_hashed("attachments/a.txt", 3, sha_hex(b"abc")),
                ),
                (Tag::Part, part(0, b"abc")),
                (Tag::PartEnd, part(0, b"")),
                (Tag::Done, Vec::new()),
            ],
            Deliver::Everything,
        );
        assert!(matches!(result, Ok(ArchiveOutcome::Read(_))), "{result:?}");
        assert_eq!(sink.bytes, vec![(0, b"abc".to_vec())]);
        assert_eq!(sink.ended, vec![0]);
    }

    #[test]
    fn lies_of_a_compromised_child_are_refused() {
        let manifest = || (Tag::Manifest, manifest_with("attachments/a.txt", 3));
        let lies: Vec<(&str, Frames, Deliver)> = vec![
            (
                "a path out of the folder",
                vec![(Tag::Manifest, manifest_with("../../.bashrc", 3))],
                Deliver::Everything,
            ),
            (
                "an attachment outside attachments/",
                vec![(Tag::Manifest, manifest_with("a.txt", 3))],
                Deliver::Everything,
            ),
            (
                "more bytes than declared",
                vec![manifest(), (Tag::Part, part(0, b"abcd"))],
                Deliver::Everything,
            ),
            (
                "a part that does not exist",
                vec![manifest(), (Tag::Part, part(1, b"a"))],
                Deliver::Everything,
            ),
            (
                "a part before the manifest",
                vec![(Tag::Part, part(0, b"a"))],
                Deliver::Everything,
            ),
            (
                "a part ended early",
                vec![
                    manifest(),
                    (Tag::Part, part(0, b"ab")),
                    (Tag::PartEnd, part(0, b"")),
                ],
                Deliver::Everything,
            ),
            (
                "streamed bytes that are not the manifest's",
                vec![
                    manifest(),
                    (Tag::Part, part(0, b"abc")),
                    (Tag::PartEnd, part(0, b"")),
                ],
                Deliver::Everything,
            ),
            (
                "parts adding up to more than the file can hold",
                vec![(
                    Tag::Manifest,
                    manifest_with("attachments/a.txt", 100 * 1032 + 65),
                )],
                Deliver::Everything,
            ),
            (
                "placed again after being told to inflate it",
                vec![
                    (
                        Tag::Manifest,
                        manifest_hashed("attachments/a.txt", 3, sevens()),
                    ),
                    (Tag::Span, placed(0, 0, 7, true)),
                    (Tag::Span, placed(0, 0, 7, true)),
                ],
                Deliver::Everything,
            ),
            (
                "placements adding up to more than the plaintext",
                vec![
                    (Tag::Manifest, manifest_two_parts()),
                    (Tag::Span, placed(0, 0, 3, false)),
                    (Tag::Span, placed(1, 0, 98, true)),
                ],
                Deliver::Everything,
            ),
            (
                "done before every part",
                vec![manifest(), (Tag::Done, Vec::new())],
                Deliver::Everything,
            ),
            (
                "a second manifest",
                vec![manifest(), manifest()],
                Deliver::Everything,
            ),
            (
                "a part when only the manifest was asked for",
                vec![manifest(), (Tag::Part, part(0, b"a"))],
                Deliver::Manifest,
            ),
            (
                "plaintext beyond its end",
                vec![(
                    Tag::Want,
                    [101u64.to_be_bytes().to_vec(), 1u32.to_be_bytes().to_vec()].concat(),
                )],
                Deliver::Everything,
            ),
            (
                "a request larger than a frame",
                vec![(
                    Tag::Want,
                    [
                        0u64.to_be_bytes().to_vec(),
                        (MAX_FRAME as u32 + 1).to_be_bytes().to_vec(),
                    ]
                    .concat(),
                )],
                Deliver::Everything,
            ),
            (
                "a parent's frame kind",
                vec![(Tag::Bytes, Vec::new())],
                Deliver::Everything,
            ),
            ("silence", vec![], Deliver::Everything),
        ];
        for (lie, frames, deliver) in lies {
            let (result, sink) = answer(&frames, deliver);
            assert!(result.is_err(), "{lie}: {result:?}");
            // Only an honest part placed before the lie may have ended.
            let honest_first = lie.starts_with("placements adding up");
            assert_eq!(
                sink.ended,
                if honest_first { vec![0] } else { vec![] },
                "{lie}"
            );
            assert!(sink.bytes.iter().all(|(_, b)| b.len() <= 3), "{lie}");
            if lie.contains("path") || lie.contains("outside") {
                assert_eq!(sink.manifests, 0, "{lie}");
            }
        }
    }
}
