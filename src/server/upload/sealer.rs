//! Step 3 of an upload: the sealer, on a blocking thread. It feeds the
//! streaming age+ZIP writer (`crate::seal`) with what the multipart stage
//! sends, writing ciphertext into a partial file of the store, and at the end
//! hands the file to the store's commit (fsync, rename, fsync the folder).
//! Nothing is created before the first byte of real content, and the partial
//! file is removed on every failure path.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::plaintext::PlainChunk;
use crate::bytesize::MIB;
use crate::id::SubmissionId;
use crate::seal::{SealError, SealOptions, SubmissionWriter};
use crate::server::App;

/// Re-check free disk space after this many bytes.
const CAPACITY_CHECK_EVERY: u64 = 16 * MIB;

/// What the multipart stage tells the sealer.
pub enum Command {
    BeginMessage,
    BeginAttachment {
        name: String,
        content_type: Option<String>,
    },
    Data(Bytes),
    EndPart,
    /// The request is complete: seal and commit.
    Finish,
}

/// Why sealing failed.
pub enum SealFailure {
    /// Finished without any content.
    Empty,
    /// The disk or the quota is full.
    Full,
    Failed,
}

fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == rustix::io::Errno::NOSPC.raw_os_error() || code == rustix::io::Errno::DQUOT.raw_os_error())
}

impl From<io::Error> for SealFailure {
    fn from(e: io::Error) -> Self {
        if is_disk_full(&e) {
            SealFailure::Full
        } else {
            SealFailure::Failed
        }
    }
}

impl From<SealError> for SealFailure {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Io(e) => e.into(),
            _ => SealFailure::Failed,
        }
    }
}

/// Runs on a blocking thread until `Finish` (returns the stored id) or until
/// the multipart stage stops sending (its error is the one that counts; the
/// guard removes the partial file).
pub fn seal_worker(
    app: Arc<App>,
    mut commands: mpsc::Receiver<Command>,
) -> Result<SubmissionId, SealFailure> {
    let mut current = None;
    let mut since_check = 0u64;
    let arrival = SystemTime::now();
    while let Some(command) = commands.blocking_recv() {
        if current.is_none()
            && matches!(
                command,
                Command::BeginMessage | Command::BeginAttachment { .. }
            )
        {
            app.store.check_capacity(0).map_err(|_| SealFailure::Full)?;
            let (file, guard) = app.store.create_partial()?;
            let options = SealOptions {
                arrival,
                time_granularity_secs: app.limits.time_granularity.as_secs().max(1),
                max_part_size: Some(app.limits.max_upload_bytes),
            };
            let mut writer = SubmissionWriter::new(&app.recipients, file, &options)?;
            writer.hash_in_parallel()?;
            current = Some((writer, guard));
        }
        match command {
            Command::BeginMessage => current
                .as_mut()
                .ok_or(SealFailure::Failed)?
                .0
                .begin_message()?,
            Command::BeginAttachment { name, content_type } => {
                current
                    .as_mut()
                    .ok_or(SealFailure::Failed)?
                    .0
                    .begin_attachment(&name, content_type.as_deref())?;
            }
            Command::Data(chunk) => {
                let writer = &mut current.as_mut().ok_or(SealFailure::Failed)?.0;
                since_check += chunk.len() as u64;
                writer.write_part_owned(Box::new(PlainChunk(chunk)))?;
                if since_check >= CAPACITY_CHECK_EVERY {
                    since_check = 0;
                    app.store.check_capacity(0).map_err(|_| SealFailure::Full)?;
                }
            }
            Command::EndPart => {
                current.as_mut().ok_or(SealFailure::Failed)?.0.end_part()?;
            }
            Command::Finish => {
                let (writer, guard) = current.take().ok_or(SealFailure::Empty)?;
                let (file, _summary) = writer.finish()?;
                let coarse = crate::seal::coarse_time(
                    SystemTime::now(),
                    app.limits.touch_interval.as_secs(),
                );
                return Ok(app.store.commit(file, guard, coarse.into())?);
            }
        }
    }
    // The multipart stage stopped without Finish: its own error is what the
    // source is told. The guard removes the partial file.
    Err(SealFailure::Failed)
}
