//! Opening a sealed submission: decrypts as a stream (age's seekable reader, so
//! the ZIP's central directory can be read without holding the file in memory)
//! and refuses anything that does not match its manifest.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, Write};
use std::sync::mpsc;
use std::thread;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::chunk_cache::ChunkCache;
use super::manifest::{
    Manifest, Part, PartKind, ATTACHMENTS_DIR, FORMAT_NAME, FORMAT_VERSION, MANIFEST_PATH,
    MAX_MANIFEST_BYTES, MESSAGE_PATH, PADDING_PATH,
};
use super::names::{lookalike_key, sanitize_name};
use crate::fsutil::read_up_to;
use crate::hex::encode as hex;

/// Deflate cannot expand data by more than 1032:1; a larger claim is a bomb.
pub const MAX_DEFLATE_RATIO: u64 = 1032;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("none of the given identities can open it (was it sealed to another newsroom key?)")]
    NoMatchingIdentity,
    #[error("it is not a valid age file or is damaged: {0}")]
    Decrypt(age::DecryptError),
    #[error(
        "the hardware key's plugin could not open it: {0}. Check that the key is plugged in \
         (and its PIN), then try again"
    )]
    HardwareKey(String),
    #[error("reading it failed: {0}")]
    Io(#[from] io::Error),
    #[error("its content is not a valid ZIP archive: {0}")]
    Archive(#[from] zip::result::ZipError),
    #[error("its manifest.json is missing or invalid: {0}")]
    Manifest(String),
    #[error("it was made by a newer sealdrop (format version {0}); upgrade sealdrop-open")]
    NewerVersion(u32),
    #[error("it names an unsafe path {0:?} (path traversal or hostile name); refused")]
    UnsafePath(String),
    #[error("its archive holds an entry not listed in its manifest: {0:?}; refused")]
    UnexpectedEntry(String),
    #[error("part {path:?} failed verification: {reason}")]
    Integrity { path: String, reason: String },
    #[error("its ZIP structure is inconsistent ({0}): entries overlap, or a local header disagrees with the central directory, as in a zip bomb or a smuggled path; refused")]
    Inconsistent(String),
}

impl From<age::DecryptError> for OpenError {
    fn from(e: age::DecryptError) -> Self {
        match e {
            age::DecryptError::NoMatchingKeys => OpenError::NoMatchingIdentity,
            age::DecryptError::Plugin(errors) => OpenError::HardwareKey(
                errors
                    .iter()
                    // age's messages wrap names in Unicode isolation marks
                    // (for right-to-left text), which a terminal shows as junk.
                    .map(|e| e.to_string().replace(['\u{2068}', '\u{2069}'], ""))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            e => OpenError::Decrypt(e),
        }
    }
}

use crate::agefile::{AgeFile, Plaintext};

/// An open sealed submission. Nothing is written anywhere; parts are read on
/// demand and verified against the manifest as they are read. `P` is the
/// plaintext: age's decrypting reader, or (in the laptop's sandbox) bytes the
/// decrypting parent sends on request.
pub struct SubmissionReader<P: Read + Seek> {
    archive: zip::ZipArchive<ChunkCache<P>>,
    manifest: Manifest,
}

/// True if `path` is a relative path whose every component is already a
/// sanitized name: no `..`, no absolute path, no backslash, no control or bidi
/// characters, no Windows device names.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && sanitize_name(c) == c)
}

impl<R: Read + Seek> SubmissionReader<Plaintext<R>> {
    /// Decrypts `input` with the first identity that matches and checks the
    /// archive against its manifest.
    pub fn open<'a>(
        input: R,
        identities: impl Iterator<Item = &'a dyn age::Identity>,
    ) -> Result<Self, OpenError> {
        let file = AgeFile::open(input)?;
        if file.is_passphrase_protected() {
            return Err(OpenError::Manifest(
                "it is passphrase-encrypted, not a sealdrop submission".into(),
            ));
        }
        SubmissionReader::from_plaintext(file.decrypt(identities)?)
    }
}

impl<P: Read + Seek> SubmissionReader<P> {
    /// Reads the ZIP archive in `plaintext` (already decrypted) and checks
    /// it against its manifest.
    pub fn from_plaintext(plaintext: P) -> Result<Self, OpenError> {
        let mut archive = zip::ZipArchive::new(ChunkCache::new(plaintext)?)?;
        let manifest = read_manifest(&mut archive)?;
        check_archive(&mut archive, &manifest)?;
        Ok(SubmissionReader { archive, manifest })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Streams part `index` of the manifest. The reader fails with
    /// `InvalidData` if the bytes do not match the manifest's size and SHA-256.
    pub fn part_reader(&mut self, index: usize) -> Result<PartReader<'_, P>, OpenError> {
        let part = self
            .manifest
            .parts
            .get(index)
            .ok_or_else(|| OpenError::Manifest(format!("no part number {index}")))?;
        let declared = Declared {
            path: part.path.clone(),
            size: part.size,
            sha256: part.sha256.clone(),
        };
        let file = self.archive.by_name(&declared.path)?;
        Ok(PartReader {
            inner: file.take(declared.size + 1),
            declared,
            hasher: Sha256::new(),
            read: 0,
            verified: false,
        })
    }

    /// Copies part `index` into `out` and verifies it like [`PartReader`]
    /// (`InvalidData` on any mismatch); see [`copy_verified`]. Returns the
    /// part's size.
    pub fn copy_part<W: Write + Send>(&mut self, index: usize, out: &mut W) -> io::Result<u64> {
        let reader = self
            .part_reader(index)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        let PartReader {
            inner, declared, ..
        } = reader;
        copy_verified(inner, out, &declared.path, declared.size, &declared.sha256)
    }

    /// How part `index`'s bytes lie in the plaintext (see [`PartLayout`]).
    /// The archive was checked at opening: entries apart, local headers
    /// matching the central directory, sizes as declared.
    pub fn part_layout(&mut self, index: usize) -> Result<PartLayout, OpenError> {
        let part = self
            .manifest
            .parts
            .get(index)
            .ok_or_else(|| OpenError::Manifest(format!("no part number {index}")))?;
        let mut entry = self.archive.by_name_raw(part.path.as_bytes())?;
        let Some(offset) = entry.data_start() else {
            return Ok(PartLayout::Compressed);
        };
        if entry.encrypted() {
            return Ok(PartLayout::Compressed);
        }
        match entry.compression() {
            zip::CompressionMethod::Stored => Ok(PartLayout::Stored { offset }),
            zip::CompressionMethod::Deflated => {
                let length = entry.compressed_size();
                let mut first = [0u8; 1];
                let read = entry.read(&mut first)?;
                // BTYPE 00: a stored block, its bytes as they are.
                Ok(if read == 1 && (first[0] >> 1) & 0b11 == 0 {
                    PartLayout::StoredBlocks { offset, length }
                } else {
                    PartLayout::Compressed
                })
            }
            _ => Ok(PartLayout::Compressed),
        }
    }
}

/// How a part's bytes lie in a submission's plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartLayout {
    /// Stored: the part's bytes, as they are, from `offset`.
    Stored { offset: u64 },
    /// Deflated, beginning with a stored block (sealdrop's server writes
    /// nothing but stored blocks, for Java's streaming reader): `length`
    /// bytes of deflate stream from `offset`, whose blocks carry the part's
    /// bytes as they are behind a 5-byte header each. A later block that is
    /// compressed makes it [`PartLayout::Compressed`] after all.
    StoredBlocks { offset: u64, length: u64 },
    /// Compressed: only inflating gives its bytes.
    Compressed,
}

/// Copies `size` bytes of `input` into `out` and verifies them against the
/// part `path`'s declared size and SHA-256 (`InvalidData` on any mismatch,
/// more bytes than declared refused at once). Decrypting (reading),
/// writing and hashing each cost about as much on a large part, so each
/// has a thread: buffers go from this one to a writer, then to a hasher,
/// then back. A small part is copied here, with a buffer of its size:
/// threads and large buffers per part would make many tiny parts slow.
/// Returns the size copied.
pub fn copy_verified<W: Write + Send>(
    input: impl Read,
    out: &mut W,
    path: &str,
    size: u64,
    sha256: &str,
) -> io::Result<u64> {
    let declared = Declared {
        path: path.to_owned(),
        size,
        sha256: sha256.to_owned(),
    };
    // One byte more than declared is read, to see a part that is longer.
    let mut inner = input.take(size.saturating_add(1));
    if size < SMALL_PART {
        let mut buf = crate::wipe::WipedVec::new(vec![0u8; size as usize + 1]);
        let mut hasher = Sha256::new();
        let mut copied = 0u64;
        loop {
            let n = inner.read(&mut buf)?;
            if n == 0 {
                declared.check_end(copied, hasher)?;
                return Ok(copied);
            }
            copied += n as u64;
            declared.check_so_far(copied)?;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
    }
    let (to_writer, writer_queue) = mpsc::sync_channel::<Vec<u8>>(COPY_QUEUE);
    let (to_hasher, hasher_queue) = mpsc::sync_channel::<Vec<u8>>(COPY_QUEUE);
    let (give_back, spare) = mpsc::sync_channel::<Vec<u8>>(2 * COPY_QUEUE + 2);
    thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<()> {
            for buf in writer_queue {
                out.write_all(&buf)?;
                if to_hasher.send(buf).is_err() {
                    break;
                }
            }
            out.flush()
        });
        let hasher = scope.spawn(move || {
            let mut sha256 = Sha256::new();
            for buf in hasher_queue {
                sha256.update(&buf);
                let _ = give_back.try_send(buf);
            }
            sha256
        });
        let mut copied = 0u64;
        let read = (|| -> io::Result<()> {
            loop {
                let mut buf = spare.try_recv().unwrap_or_default();
                buf.resize(COPY_BUFFER, 0);
                let n = read_up_to(&mut inner, &mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                copied += n as u64;
                declared.check_so_far(copied)?;
                buf.truncate(n);
                if to_writer.send(buf).is_err() {
                    // The writer stopped; its error is reported below.
                    return Ok(());
                }
            }
        })();
        drop(to_writer);
        let written = writer
            .join()
            .map_err(|_| io::Error::other("the writing thread panicked"))?;
        let sha256 = hasher
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        read?;
        written?;
        declared.check_end(copied, sha256)?;
        Ok(copied)
    })
}

/// Buffers passed between the threads of [`copy_verified`].
const COPY_BUFFER: usize = 256 * 1024;
/// Parts smaller than this are copied on the calling thread.
const SMALL_PART: u64 = 1024 * 1024;
const COPY_QUEUE: usize = 4;

fn read_manifest<R: Read + Seek>(archive: &mut zip::ZipArchive<R>) -> Result<Manifest, OpenError> {
    let entry = archive
        .by_name(MANIFEST_PATH)
        .map_err(|_| OpenError::Manifest("the archive has no manifest.json".into()))?;
    if entry.size() > MAX_MANIFEST_BYTES {
        return Err(OpenError::Manifest(
            "manifest.json is implausibly large".into(),
        ));
    }
    let mut json = Zeroizing::new(Vec::new());
    entry.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut json)?;
    parse_manifest(&json)
}

/// A manifest from its JSON, checked for its format and version (not yet
/// against an archive: see [`check_parts`]).
pub fn parse_manifest(json: &[u8]) -> Result<Manifest, OpenError> {
    if json.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(OpenError::Manifest(
            "manifest.json is implausibly large".into(),
        ));
    }
    let manifest: Manifest =
        serde_json::from_slice(json).map_err(|e| OpenError::Manifest(e.to_string()))?;
    if manifest.format != FORMAT_NAME {
        return Err(OpenError::Manifest(format!(
            "format is {:?}, expected {FORMAT_NAME:?}",
            manifest.format
        )));
    }
    if manifest.version == 0 {
        return Err(OpenError::Manifest("version 0 does not exist".into()));
    }
    if manifest.version > FORMAT_VERSION {
        return Err(OpenError::NewerVersion(manifest.version));
    }
    Ok(manifest)
}

/// Each part of `manifest` has a safe path in its place, unlike any other's
/// (case and Unicode normalization folded), and a well-formed hash: what
/// makes writing the parts out safe, whoever read the archive.
pub fn check_parts(manifest: &Manifest) -> Result<(), OpenError> {
    let mut listed_folded = HashSet::with_capacity(manifest.parts.len());
    for part in &manifest.parts {
        if !is_safe_relative_path(&part.path) {
            return Err(OpenError::UnsafePath(part.path.clone()));
        }
        check_layout(part)?;
        // Two paths that differ only in case or Unicode normalization would
        // be two files that look the same (or one, on macOS and Windows).
        let folded = lookalike_key(&part.path);
        if folded == MANIFEST_PATH || folded == PADDING_PATH || !listed_folded.insert(folded) {
            return Err(OpenError::Manifest(format!(
                "part path {:?} is reserved, repeated, or looks the same as another part's",
                part.path
            )));
        }
        if !crate::hex::is_lower_hex(&part.sha256, 64) {
            return Err(OpenError::Manifest(format!(
                "part {:?} has a malformed sha256",
                part.path
            )));
        }
    }
    Ok(())
}

fn check_archive<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    manifest: &Manifest,
) -> Result<(), OpenError> {
    check_parts(manifest)?;
    // Parts by path; every lookup below is a hash lookup, so the check is
    // linear in the number of entries.
    let mut listed: HashMap<&str, &Part> = manifest
        .parts
        .iter()
        .map(|p| (p.path.as_str(), p))
        .collect();

    let mut seen = HashSet::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i)?;
        let name = entry.name()?.into_owned();
        if !seen.insert(name.clone()) {
            return Err(OpenError::UnexpectedEntry(format!(
                "{name} (appears twice)"
            )));
        }
        if name == MANIFEST_PATH || name == PADDING_PATH {
            continue;
        }
        let Some(part) = listed.remove(name.as_str()) else {
            if !is_safe_relative_path(&name) {
                return Err(OpenError::UnsafePath(name));
            }
            return Err(OpenError::UnexpectedEntry(name));
        };
        if entry.encrypted() {
            return Err(OpenError::Integrity {
                path: name,
                reason: "ZIP-level encryption is not allowed".into(),
            });
        }
        if entry.size() != part.size {
            return Err(OpenError::Integrity {
                path: name,
                reason: format!(
                    "archive says {} bytes, manifest says {}",
                    entry.size(),
                    part.size
                ),
            });
        }
        let plausible = match entry.compression() {
            zip::CompressionMethod::Stored => entry.compressed_size() == part.size,
            zip::CompressionMethod::Deflated => {
                part.size
                    <= entry
                        .compressed_size()
                        .saturating_mul(MAX_DEFLATE_RATIO)
                        .saturating_add(64)
            }
            other => {
                return Err(OpenError::Integrity {
                    path: name,
                    reason: format!("compression method {other:?} is not allowed"),
                })
            }
        };
        if !plausible {
            return Err(OpenError::Integrity {
                path: name,
                reason: "compressed size does not fit the declared size".into(),
            });
        }
    }
    if let Some(missing) = listed.into_keys().next() {
        return Err(OpenError::Integrity {
            path: missing.to_owned(),
            reason: "listed in the manifest but missing from the archive".into(),
        });
    }
    // Every local header must match its central record (name, method,
    // sizes), no two entries may share bytes, none may reach into the central
    // directory, and no local header may hide between entries. Without this,
    // many central records pointing at one compressed block make a few KB
    // expand to gigabytes, and a local header can carry a path that the
    // central directory does not show.
    archive
        .validate_header_consistency()
        .map_err(|e| OpenError::Inconsistent(e.to_string()))?;
    // With entries apart, what the parts may expand to is bounded by the
    // archive's own size.
    let declared: u64 = manifest.parts.iter().map(|p| p.size).sum();
    let honest = archive
        .central_directory_start()
        .saturating_mul(MAX_DEFLATE_RATIO)
        .saturating_add(64 * manifest.parts.len() as u64);
    if declared > honest {
        return Err(OpenError::Inconsistent(format!(
            "its parts claim {declared} bytes, more than its {} bytes of archive can hold",
            archive.central_directory_start()
        )));
    }
    Ok(())
}

/// Each kind of part has its place: the message at `message.txt`, each
/// attachment directly in `attachments/`. Parts of other kinds may be
/// anywhere safe; they are written under `unknown-parts/`.
fn check_layout(part: &Part) -> Result<(), OpenError> {
    let fits = match part.kind {
        PartKind::Message => part.path == MESSAGE_PATH,
        PartKind::Attachment => part
            .path
            .strip_prefix(ATTACHMENTS_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.contains('/')),
        PartKind::Other => true,
    };
    if fits {
        Ok(())
    } else {
        Err(OpenError::Manifest(format!(
            "a part of kind {:?} at {:?}, outside its place",
            part.kind, part.path
        )))
    }
}

/// Reads one part and verifies it. A read that ends early, goes past the
/// declared size, or whose SHA-256 differs returns an `InvalidData` error instead
/// of end-of-file.
pub struct PartReader<'a, P: Read + Seek> {
    inner: io::Take<zip::read::ZipFile<'a, ChunkCache<P>>>,
    declared: Declared,
    hasher: Sha256,
    read: u64,
    verified: bool,
}

/// A part's path, size and SHA-256 as its manifest declares them, and the
/// checks of what was read against them (`InvalidData` on any mismatch).
struct Declared {
    path: String,
    size: u64,
    sha256: String,
}

impl Declared {
    fn mismatch(&self, what: std::fmt::Arguments) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", self.path))
    }

    /// After each read: more than declared is refused at once.
    fn check_so_far(&self, read: u64) -> io::Result<()> {
        if read > self.size {
            return Err(self.mismatch(format_args!("more data than the manifest declares")));
        }
        Ok(())
    }

    /// At the end of the part.
    fn check_end(&self, read: u64, sha256: Sha256) -> io::Result<()> {
        if read != self.size {
            return Err(self.mismatch(format_args!(
                "size {read} differs from the manifest's {}",
                self.size
            )));
        }
        if hex(&sha256.finalize()) != self.sha256 {
            return Err(self.mismatch(format_args!("SHA-256 differs from the manifest")));
        }
        Ok(())
    }
}

impl<R: Read + Seek> PartReader<'_, R> {
    pub fn path(&self) -> &str {
        &self.declared.path
    }
}

impl<R: Read + Seek> Read for PartReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.verified || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.declared
                .check_end(self.read, std::mem::take(&mut self.hasher))?;
            self.verified = true;
            return Ok(0);
        }
        self.read += n as u64;
        self.declared.check_so_far(self.read)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
