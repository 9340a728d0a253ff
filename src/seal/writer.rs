//! Streaming sealer: parts and chunks go in as they arrive, age ciphertext comes
//! out. Memory use does not depend on the submission's size: one age chunk
//! (64 KiB) plus a small record per part.

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::manifest::{
    Manifest, Part, PartKind, ATTACHMENTS_DIR, MANIFEST_PATH, MESSAGE_CONTENT_TYPE, MESSAGE_PATH,
    PADDING_PATH,
};
use super::names::UniqueNames;
use super::padme::padded_len;
use super::zipstream::{DosDateTime, ZipStreamWriter};
use super::{coarse_time, SealError};
use crate::hex::encode as hex;
use crate::keys::Recipients;

/// Default granularity of the arrival time recorded in the manifest.
pub const DEFAULT_TIME_GRANULARITY_SECS: u64 = 3600;

/// Longest content type kept in the manifest; browsers send short ones.
const MAX_CONTENT_TYPE_LEN: usize = 255;
/// Longest original name kept in the manifest (the sanitized name is shorter).
const MAX_ORIGINAL_NAME_LEN: usize = 4096;

#[derive(Clone, Debug)]
pub struct SealOptions {
    /// When the submission arrived; only a coarse version of it is stored.
    pub arrival: SystemTime,
    /// Rounding of the stored arrival time, in seconds (at least 1).
    pub time_granularity_secs: u64,
    /// The most bytes any one part may hold (the server's upload limit). A
    /// bound below 4 GiB lets every part be written so that streaming ZIP
    /// readers (Java's `ZipInputStream`) read it; without one, parts are ZIP64
    /// entries. Writing past it fails.
    pub max_part_size: Option<u64>,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            arrival: SystemTime::now(),
            time_granularity_secs: DEFAULT_TIME_GRANULARITY_SECS,
            max_part_size: None,
        }
    }
}

/// Summary of a sealed submission, safe to log in aggregate (no names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealSummary {
    pub parts: usize,
    pub content_bytes: u64,
    pub padded_plaintext_bytes: u64,
}

struct OpenPart {
    kind: PartKind,
    path: String,
    original_name: Option<String>,
    content_type: Option<String>,
    /// The inline hasher; unused while a [`HashHelper`] hashes this part.
    sha256: Sha256,
    size: u64,
}

/// A plaintext chunk handed over with ownership, for
/// [`SubmissionWriter::write_part_owned`]. Its `Drop` should wipe it: the
/// writer drops it as soon as it is both encrypted and hashed.
pub type OwnedChunk = Box<dyn AsRef<[u8]> + Send>;

/// Chunks queued for the helper: with 64 KiB chunks, 256 KiB per upload.
const HASH_QUEUE: usize = 4;

enum HashJob {
    Data(OwnedChunk),
    EndPart(mpsc::SyncSender<[u8; 32]>),
}

/// Computes the open part's SHA-256 on its own thread, so that hashing and
/// encryption of a large upload use two cores. Chunks reach it after they
/// were encrypted: it is then their only owner and drops (wipes) them.
struct HashHelper {
    jobs: Option<mpsc::SyncSender<HashJob>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl HashHelper {
    fn start() -> Result<Self, SealError> {
        let (jobs, queue) = mpsc::sync_channel::<HashJob>(HASH_QUEUE);
        let thread = thread::Builder::new()
            .name("sealdrop-hash".into())
            .spawn(move || {
                let mut sha256 = Sha256::new();
                for job in queue {
                    match job {
                        HashJob::Data(chunk) => sha256.update((*chunk).as_ref()),
                        HashJob::EndPart(reply) => {
                            let _ = reply.send(sha256.finalize_reset().into());
                        }
                    }
                }
            })
            .map_err(|e| SealError::Internal(format!("starting the hashing thread: {e}")))?;
        Ok(HashHelper {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn send(&self, job: HashJob) -> Result<(), SealError> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| SealError::Internal("the hashing thread stopped".into()))
    }

    fn end_part(&self) -> Result<[u8; 32], SealError> {
        let (reply, digest) = mpsc::sync_channel(1);
        self.send(HashJob::EndPart(reply))?;
        digest
            .recv()
            .map_err(|_| SealError::Internal("the hashing thread stopped".into()))
    }
}

impl Drop for HashHelper {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Seals one submission into `W`. Call [`SubmissionWriter::finish`] to complete
/// it; dropping it unfinished leaves a truncated, undecryptable file.
pub struct SubmissionWriter<W: Write> {
    zip: ZipStreamWriter<age::stream::StreamWriter<W>>,
    manifest: Manifest,
    names: UniqueNames,
    open: Option<OpenPart>,
    has_message: bool,
    helper: Option<HashHelper>,
}

fn truncate_chars(s: &str, max_bytes: usize) -> String {
    let mut end = max_bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl<W: Write> SubmissionWriter<W> {
    pub fn new(
        recipients: &Recipients,
        output: W,
        options: &SealOptions,
    ) -> Result<Self, SealError> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter())?;
        let stream = encryptor.wrap_output(output)?;
        let arrival = coarse_time(options.arrival, options.time_granularity_secs);
        let received = arrival
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| SealError::Internal(format!("formatting time: {e}")))?;
        let mut names = UniqueNames::new();
        // Nothing else lives in the attachments folder, but reserving keeps the
        // folder layout unambiguous if a reader flattens it.
        names.reserve(MANIFEST_PATH);
        names.reserve(MESSAGE_PATH);
        Ok(SubmissionWriter {
            zip: ZipStreamWriter::new(
                stream,
                DosDateTime::from_utc(arrival),
                options.max_part_size,
            ),
            manifest: Manifest::new(received, options.time_granularity_secs.max(1)),
            names,
            open: None,
            has_message: false,
            helper: None,
        })
    }

    /// Hashes parts written with [`Self::write_part_owned`] on a helper
    /// thread from now on (the server's choice; the default is inline).
    pub fn hash_in_parallel(&mut self) -> Result<(), SealError> {
        if self.open.is_some() {
            return Err(SealError::State("a part is still open"));
        }
        if self.helper.is_none() {
            self.helper = Some(HashHelper::start()?);
        }
        Ok(())
    }

    fn begin(&mut self, part: OpenPart) -> Result<(), SealError> {
        if self.open.is_some() {
            return Err(SealError::State("a part is still open"));
        }
        self.zip.start_entry(&part.path)?;
        self.open = Some(part);
        Ok(())
    }

    /// Starts the message part (at most one per submission).
    pub fn begin_message(&mut self) -> Result<(), SealError> {
        if self.has_message {
            return Err(SealError::State("a submission has at most one message"));
        }
        self.begin(OpenPart {
            kind: PartKind::Message,
            path: MESSAGE_PATH.to_owned(),
            original_name: None,
            content_type: Some(MESSAGE_CONTENT_TYPE.to_owned()),
            sha256: Sha256::new(),
            size: 0,
        })?;
        self.has_message = true;
        Ok(())
    }

    /// Starts an attachment; returns its sanitized path inside the archive.
    pub fn begin_attachment(
        &mut self,
        original_name: &str,
        content_type: Option<&str>,
    ) -> Result<String, SealError> {
        if self.open.is_some() {
            return Err(SealError::State("a part is still open"));
        }
        let name = self.names.assign(original_name);
        let path = format!("{ATTACHMENTS_DIR}/{name}");
        self.begin(OpenPart {
            kind: PartKind::Attachment,
            path: path.clone(),
            original_name: Some(truncate_chars(original_name, MAX_ORIGINAL_NAME_LEN)),
            content_type: content_type.map(|t| truncate_chars(t, MAX_CONTENT_TYPE_LEN)),
            sha256: Sha256::new(),
            size: 0,
        })?;
        Ok(path)
    }

    /// Appends bytes to the open part.
    pub fn write_part(&mut self, data: &[u8]) -> Result<(), SealError> {
        if self.helper.is_some() {
            return Err(SealError::State(
                "parallel hashing takes chunks through write_part_owned",
            ));
        }
        self.append(data, true)
    }

    /// Appends an owned chunk to the open part: encrypted here, hashed on the
    /// helper thread if [`Self::hash_in_parallel`] was called, then dropped.
    pub fn write_part_owned(&mut self, chunk: OwnedChunk) -> Result<(), SealError> {
        self.append((*chunk).as_ref(), self.helper.is_none())?;
        match &self.helper {
            Some(helper) => helper.send(HashJob::Data(chunk)),
            None => Ok(()),
        }
    }

    /// Encrypts `data` into the open part, hashing it here if `hash_here`.
    fn append(&mut self, data: &[u8], hash_here: bool) -> Result<(), SealError> {
        let part = self
            .open
            .as_mut()
            .ok_or(SealError::State("no part is open"))?;
        if hash_here {
            part.sha256.update(data);
        }
        part.size += data.len() as u64;
        self.zip.write_data(data)?;
        Ok(())
    }

    /// Closes the open part; returns its size.
    pub fn end_part(&mut self) -> Result<u64, SealError> {
        let part = self
            .open
            .take()
            .ok_or(SealError::State("no part is open"))?;
        self.zip.finish_entry()?;
        let size = part.size;
        let sha256 = match &self.helper {
            Some(helper) => helper.end_part()?,
            None => part.sha256.finalize().into(),
        };
        self.manifest.parts.push(Part {
            kind: part.kind,
            path: part.path,
            original_name: part.original_name,
            content_type: part.content_type,
            size,
            sha256: hex(&sha256),
        });
        Ok(size)
    }

    /// Number of parts finished so far.
    pub fn parts(&self) -> usize {
        self.manifest.parts.len()
    }

    /// Writes the manifest, the padding and the archive trailer, then finishes
    /// the age stream. Returns the output writer; the caller must still flush and
    /// sync it.
    pub fn finish(mut self) -> Result<(W, SealSummary), SealError> {
        if self.open.is_some() {
            return Err(SealError::State("a part is still open"));
        }
        let manifest_json = Zeroizing::new(
            serde_json::to_vec_pretty(&self.manifest)
                .map_err(|e| SealError::Internal(format!("encoding manifest: {e}")))?,
        );
        self.zip.add_known_entry(MANIFEST_PATH, &manifest_json)?;

        let padding = padding_len(&self.zip);
        let padded_plaintext_bytes = self
            .zip
            .projected_len_with_known_entry(PADDING_PATH.len(), padding);
        self.zip.add_zero_entry(PADDING_PATH, padding)?;
        let stream = self.zip.finish()?;
        let output = stream.finish()?;
        let summary = SealSummary {
            parts: self.manifest.parts.len(),
            content_bytes: self.manifest.total_size(),
            padded_plaintext_bytes,
        };
        Ok((output, summary))
    }
}

/// Length of the padding entry's data so that the whole archive ends exactly on
/// a Padmé bucket boundary.
fn padding_len<W: Write>(zip: &ZipStreamWriter<W>) -> u64 {
    let name_len = PADDING_PATH.len();
    let mut target = padded_len(zip.projected_len_with_known_entry(name_len, 0));
    loop {
        // The trailer can grow by a few bytes when the padding pushes a field past
        // a 32-bit limit; converge on the exact figure, or move to the next bucket.
        let mut data = target - zip.projected_len_with_known_entry(name_len, 0);
        for _ in 0..4 {
            let total = zip.projected_len_with_known_entry(name_len, data);
            if total == target {
                return data;
            }
            match total.checked_sub(target) {
                Some(excess) if excess <= data => data -= excess,
                _ => break,
            }
        }
        target = padded_len(target + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::SubmissionReader;
    use std::io::{Cursor, Read};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A chunk that counts its drops, to show the writer lets go of each one.
    struct Counted(Vec<u8>, Arc<AtomicUsize>);

    impl AsRef<[u8]> for Counted {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn seal(
        parallel: bool,
        parts: &[Vec<Vec<u8>>],
        drops: &Arc<AtomicUsize>,
    ) -> (Vec<u8>, Manifest) {
        let identity = age::x25519::Identity::generate();
        let recipients = Recipients::from_keys(vec![identity.to_public()]);
        let mut w =
            SubmissionWriter::new(&recipients, Vec::new(), &SealOptions::default()).unwrap();
        if parallel {
            w.hash_in_parallel().unwrap();
            assert!(matches!(
                w.begin_message().and_then(|_| w.write_part(b"x")),
                Err(SealError::State(_))
            ));
            w.end_part().unwrap();
        }
        for (i, chunks) in parts.iter().enumerate() {
            w.begin_attachment(&format!("part{i}.bin"), None).unwrap();
            for chunk in chunks {
                w.write_part_owned(Box::new(Counted(chunk.clone(), drops.clone())))
                    .unwrap();
            }
            w.end_part().unwrap();
        }
        let sealed = w.finish().unwrap().0;
        let mut r = SubmissionReader::open(
            Cursor::new(&sealed),
            std::iter::once(&identity as &dyn age::Identity),
        )
        .unwrap();
        let manifest = r.manifest().clone();
        for i in 0..manifest.parts.len() {
            // Reading through verifies each part's size and SHA-256.
            let mut sink = Vec::new();
            r.part_reader(i).unwrap().read_to_end(&mut sink).unwrap();
        }
        (sealed, manifest)
    }

    #[test]
    fn parallel_hashing_gives_the_inline_digests_and_drops_every_chunk() {
        let parts: Vec<Vec<Vec<u8>>> = vec![
            (0..40u8).map(|i| vec![i; 65_536]).collect(),
            vec![],
            vec![b"tail".to_vec(); 3],
        ];
        let chunk_count: usize = parts.iter().map(Vec::len).sum();
        let drops = Arc::new(AtomicUsize::new(0));
        let (_, inline) = seal(false, &parts, &drops);
        assert_eq!(drops.load(Ordering::SeqCst), chunk_count);
        let (_, parallel) = seal(true, &parts, &drops);
        assert_eq!(drops.load(Ordering::SeqCst), 2 * chunk_count);
        let digests = |m: &Manifest| {
            m.parts
                .iter()
                .filter(|p| p.kind == PartKind::Attachment)
                .map(|p| (p.size, p.sha256.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(digests(&inline), digests(&parallel));
        assert_eq!(
            inline.parts[0].sha256,
            hex(&Sha256::digest(parts[0].concat()))
        );
    }
}
