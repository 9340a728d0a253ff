//! Streaming sealer: parts and chunks go in as they arrive, age ciphertext comes
//! out. Memory use does not depend on the submission's size: one age chunk
//! (64 KiB) plus a small record per part.

use std::io::Write;
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

struct OpenPart {
    kind: PartKind,
    path: String,
    original_name: Option<String>,
    content_type: Option<String>,
    sha256: Sha256,
    size: u64,
}

/// Seals one submission into `W`. Call [`SubmissionWriter::finish`] to complete
/// it; dropping it unfinished leaves a truncated, undecryptable file.
pub struct SubmissionWriter<W: Write> {
    zip: ZipStreamWriter<age::stream::StreamWriter<W>>,
    manifest: Manifest,
    names: UniqueNames,
    open: Option<OpenPart>,
    has_message: bool,
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
        })
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
        let part = self
            .open
            .as_mut()
            .ok_or(SealError::State("no part is open"))?;
        part.sha256.update(data);
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
        self.manifest.parts.push(Part {
            kind: part.kind,
            path: part.path,
            original_name: part.original_name,
            content_type: part.content_type,
            size,
            sha256: hex(&part.sha256.finalize()),
        });
        Ok(size)
    }

    /// Records the desk the submission was sent to in the manifest.
    pub fn set_desk(&mut self, desk: &str) {
        self.manifest.desk = Some(desk.to_owned());
    }

    /// Records the source's reply channel in the manifest.
    pub fn set_reply(&mut self, reply: super::ReplyBlock) {
        self.manifest.reply = Some(reply);
    }

    /// Writes the manifest, the padding and the archive trailer, then finishes
    /// the age stream. Returns the output writer, which the caller must still
    /// flush and sync, and the padded plaintext's length (a Padmé bucket).
    pub fn finish(mut self) -> Result<(W, u64), SealError> {
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
        Ok((output, padded_plaintext_bytes))
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
