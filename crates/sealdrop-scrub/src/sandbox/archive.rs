//! A sealed submission's ZIP archive read in the sandbox. The parent holds
//! the keys and decrypts; the child reads the archive's structure and the
//! manifest, asking for plaintext piece by piece ([`Tag::Want`]), checks
//! every part against the manifest, and streams the verified parts back;
//! the parent writes them. The ZIP and the manifest are the server's work,
//! so a child made to lie about them learns nothing and claims nothing a
//! compromised server could not; the parent still checks every path, size
//! and order it is told before it writes a byte.

use std::cell::RefCell;
use std::io::{self, Read, Seek, SeekFrom, Write};

use sealdrop_format::fsutil::read_up_to;
use sealdrop_format::seal::reader::{check_parts, parse_manifest};
use sealdrop_format::seal::{Manifest, SubmissionReader};

use super::parent::{Sandbox, SandboxError};
use super::wire::{self, expect_frame, unexpected, write_frame, Job, Tag, WireError, MAX_FRAME};

/// Where the parent puts what the child read.
pub trait ArchiveSink {
    /// The submission's manifest, checked (safe paths, each in its place);
    /// parts follow in its order.
    fn manifest(&mut self, manifest: &Manifest) -> io::Result<()>;
    /// More bytes of part `index`.
    fn part(&mut self, index: usize, bytes: &[u8]) -> io::Result<()>;
    /// Part `index` is complete, and the child verified its SHA-256.
    fn part_end(&mut self, index: usize) -> io::Result<()>;
}

/// What came of reading an archive.
#[derive(Debug)]
pub enum ArchiveOutcome {
    /// Every part was delivered; the manifest.
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
    /// The parent's own writing (or decrypting) failed.
    #[error("{0}")]
    Parent(io::Error),
}

impl Sandbox {
    /// Reads the ZIP archive of `size` bytes in `plaintext` in a child, into
    /// `sink`.
    pub fn read_archive<P: Read + Seek>(
        &self,
        plaintext: &mut P,
        size: u64,
        sink: &mut dyn ArchiveSink,
    ) -> Result<ArchiveOutcome, ArchiveError> {
        let mut parent_failed = None;
        let result = self.run_talking(|to, from| {
            let job = serde_json::to_vec(&Job::Archive { size }).expect("jobs serialize");
            write_frame(to, Tag::Job, &job)?;
            to.flush()?;
            answer_archive(from, to, plaintext, size, sink).map_err(|e| match e {
                Answering::Wire(e) => e,
                Answering::Parent(e) => {
                    parent_failed = Some(e);
                    WireError::Protocol("was stopped".into())
                }
            })
        });
        match (result, parent_failed) {
            (_, Some(e)) => Err(ArchiveError::Parent(e)),
            (Ok(outcome), None) => Ok(outcome),
            (Err(e), None) => Err(e.into()),
        }
    }
}

/// What stopped the parent's side of the conversation.
pub enum Answering {
    Wire(WireError),
    Parent(io::Error),
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
    sink: &mut dyn ArchiveSink,
) -> Result<ArchiveOutcome, Answering> {
    let mut payload = Vec::new();
    let mut manifest: Option<Manifest> = None;
    // The part being delivered, and how many of its bytes came.
    let mut current = 0usize;
    let mut delivered = 0u64;
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
                    .map_err(Answering::Parent)?;
                let got = read_up_to(plaintext, &mut buffer).map_err(Answering::Parent)?;
                write_frame(to, Tag::Bytes, &buffer[..got]).map_err(WireError::from)?;
                to.flush().map_err(WireError::from)?;
                // Plaintext of a submission: wiped where this buffer lived.
                buffer.iter_mut().for_each(|b| *b = 0);
            }
            Tag::Manifest if manifest.is_none() => {
                let parsed = parse_manifest(&payload)
                    .and_then(|m| check_parts(&m).map(|()| m))
                    .map_err(|e| broke(format!("sent a manifest the parent refuses: {e}")))?;
                sink.manifest(&parsed).map_err(Answering::Parent)?;
                manifest = Some(parsed);
            }
            Tag::Part => {
                let Some(manifest) = &manifest else {
                    return Err(broke("sent a part before the manifest"));
                };
                let (index, bytes) = part_frame(&payload)?;
                let part = manifest
                    .parts
                    .get(current)
                    .filter(|_| index == current)
                    .ok_or_else(|| broke("sent parts out of order"))?;
                delivered += bytes.len() as u64;
                if delivered > part.size {
                    return Err(broke("sent more of a part than its manifest declares"));
                }
                sink.part(index, bytes).map_err(Answering::Parent)?;
            }
            Tag::PartEnd => {
                let Some(manifest) = &manifest else {
                    return Err(broke("ended a part before the manifest"));
                };
                let (index, rest) = part_frame(&payload)?;
                let part = manifest.parts.get(current).filter(|_| index == current);
                if !rest.is_empty() || part.is_none_or(|part| delivered != part.size) {
                    return Err(broke("ended a part that was not complete"));
                }
                sink.part_end(index).map_err(Answering::Parent)?;
                current += 1;
                delivered = 0;
            }
            Tag::Failed => {
                let reason = String::from_utf8_lossy(&payload[..payload.len().min(4096)]);
                let reason = reason.into_owned();
                wire::expect_done(from)?;
                return Ok(ArchiveOutcome::Refused(reason));
            }
            Tag::Done if payload.is_empty() => {
                let Some(manifest) = manifest else {
                    return Err(broke("finished without a manifest"));
                };
                if current != manifest.parts.len() {
                    return Err(broke("finished before every part"));
                }
                if wire::read_frame(from, &mut payload)?.is_some() {
                    return Err(broke("more after its answer"));
                }
                return Ok(ArchiveOutcome::Read(manifest));
            }
            other => return Err(unexpected(other, &payload).into()),
        }
    }
}

fn part_frame(payload: &[u8]) -> Result<(usize, &[u8]), Answering> {
    match payload {
        [a, b, c, d, rest @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]) as usize, rest)),
        _ => Err(broke("a malformed part")),
    }
}

/// The child's view of the plaintext: each read asks the parent.
struct RemotePlaintext<'a, I, O> {
    input: I,
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
        let tag = expect_frame(&mut self.input, &mut self.payload).map_err(io::Error::other)?;
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
pub(super) fn serve(
    size: u64,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<(), WireError> {
    let output = RefCell::new(output);
    let plaintext = RemotePlaintext {
        input,
        output: &output,
        size,
        position: 0,
        payload: Vec::new(),
    };
    let refuse = |reason: String| -> Result<(), WireError> {
        write_frame(&mut *output.borrow_mut(), Tag::Failed, reason.as_bytes())?;
        Ok(())
    };
    let mut reader = match SubmissionReader::from_plaintext(plaintext) {
        Ok(reader) => reader,
        Err(e) => return refuse(e.to_string()),
    };
    let manifest = serde_json::to_vec(reader.manifest()).expect("manifests serialize");
    write_frame(&mut *output.borrow_mut(), Tag::Manifest, &manifest)?;
    let mut frame = vec![0u8; MAX_FRAME];
    for index in 0..reader.manifest().parts.len() {
        let mut part = match reader.part_reader(index) {
            Ok(part) => part,
            Err(e) => return refuse(e.to_string()),
        };
        frame[..4].copy_from_slice(&(index as u32).to_be_bytes());
        loop {
            let n = match read_up_to(&mut part, &mut frame[4..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return refuse(format!("a part failed verification: {e}"))
                }
                Err(e) => return Err(e.into()),
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
