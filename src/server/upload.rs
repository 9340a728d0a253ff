//! `POST /submit`: multipart in, sealed file out, nothing in plaintext on disk.
//!
//! Three stages, joined by small bounded channels so that memory per upload
//! stays constant whatever its size:
//! 1. the *pump* reads the request body with idle and total deadlines; once the
//!    outcome is decided it keeps reading and discarding (up to a cap), so that
//!    the browser gets its 413/503 page instead of a connection reset;
//! 2. *multer* parses the multipart stream; we count every byte ourselves
//!    because axum's extractor does not pass per-field limits through;
//! 3. the *sealer*, on a blocking thread, feeds the streaming age+ZIP writer and
//!    commits the file atomically. Nothing is created before the first byte of
//!    real content, and the partial file is removed on every failure path.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use zeroize::Zeroize;

use super::pages::Problem;
use super::AppInner;
use crate::seal::{SealError, SealOptions, SubmissionWriter};

/// Chunks queued between stages; with hyper's 64 KiB read buffer this keeps a
/// few hundred KiB per upload in flight at most.
const QUEUE: usize = 4;
/// Multipart framing allowed beyond the content: boundaries and part headers.
const FRAMING_BASE: u64 = 1024 * 1024;
/// Re-check free disk space after this many bytes.
const CAPACITY_CHECK_EVERY: u64 = 16 * 1024 * 1024;

enum Command {
    BeginMessage,
    BeginAttachment {
        name: String,
        content_type: Option<String>,
    },
    Data(Bytes),
    EndPart,
    Finish,
}

enum SealFailure {
    Empty,
    Full,
    Aborted,
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

/// Zeroizes a plaintext chunk if we hold the only reference to its memory.
fn wipe(chunk: Bytes) {
    if let Ok(mut owned) = chunk.try_into_mut() {
        owned.as_mut().zeroize();
    }
}

/// A plaintext chunk handed to the sealer, wiped when the sealer is done with it.
struct PlainChunk(Bytes);

impl AsRef<[u8]> for PlainChunk {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for PlainChunk {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}

/// The sealer stage, on a blocking thread. Returns the stored id.
fn seal_worker(
    app: Arc<AppInner>,
    mut commands: mpsc::Receiver<Command>,
) -> Result<String, SealFailure> {
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
    // The request ended without Finish: the guard removes the partial file.
    Err(SealFailure::Aborted)
}

/// How the pump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    Complete,
    TimedOut,
    ClientGone,
    DrainCapReached,
}

const TIMEOUT_MARK: &str = "sealdrop: request body timed out";

/// Reads the body into `tx`; after `tx` closes, reads and discards the rest.
async fn pump(
    body: Body,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    app: Arc<AppInner>,
) -> PumpEnd {
    let limits = &app.limits;
    let deadline = Instant::now() + limits.upload_deadline;
    let drain_cap = limits
        .max_upload_bytes
        .saturating_add(framing_allowance(limits));
    let mut stream = body.into_data_stream();
    let mut drained = 0u64;
    let mut draining = false;
    loop {
        let wake = deadline.min(Instant::now() + limits.body_idle_timeout);
        let next = match tokio::time::timeout_at(wake, stream.next()).await {
            Ok(next) => next,
            Err(_) => {
                if !draining {
                    let _ = tx
                        .send(Err(io::Error::new(io::ErrorKind::TimedOut, TIMEOUT_MARK)))
                        .await;
                }
                return PumpEnd::TimedOut;
            }
        };
        match next {
            None => return PumpEnd::Complete,
            Some(Err(_)) => {
                if !draining {
                    let _ = tx
                        .send(Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "client went away",
                        )))
                        .await;
                }
                return PumpEnd::ClientGone;
            }
            Some(Ok(chunk)) if draining => {
                drained += chunk.len() as u64;
                wipe(chunk);
                if drained > drain_cap {
                    return PumpEnd::DrainCapReached;
                }
            }
            Some(Ok(chunk)) => {
                if let Err(mpsc::error::SendError(Ok(chunk))) = tx.send(Ok(chunk)).await {
                    draining = true;
                    drained += chunk.len() as u64;
                    wipe(chunk);
                }
            }
        }
    }
}

fn framing_allowance(limits: &super::config::Limits) -> u64 {
    FRAMING_BASE + (limits.max_attachments as u64 + 2) * limits.max_part_header_bytes
}

/// Byte accounting shared between multer's input and our field loop: multer's
/// buffer holds at most `pulled - consumed` bytes, which must stay within the
/// framing allowance of the fields seen so far.
#[derive(Default)]
struct Framing {
    consumed: AtomicU64,
    fields: AtomicU64,
}

#[derive(Debug)]
enum FeedError {
    Problem(Problem),
    /// The sealer stopped; its result says why.
    SealerGone,
}

impl From<Problem> for FeedError {
    fn from(p: Problem) -> Self {
        FeedError::Problem(p)
    }
}

fn multer_problem(e: multer::Error) -> Problem {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            Problem::TooLarge
        }
        multer::Error::StreamReadFailed(inner) => match inner.downcast_ref::<io::Error>() {
            Some(io) if io.kind() == io::ErrorKind::TimedOut => Problem::Timeout,
            _ => Problem::Malformed,
        },
        _ => Problem::Malformed,
    }
}

async fn send(tx: &mpsc::Sender<Command>, command: Command) -> Result<(), FeedError> {
    tx.send(command).await.map_err(|_| FeedError::SealerGone)
}

/// Walks the multipart fields, enforcing every limit while streaming.
async fn feed(
    app: &AppInner,
    mut multipart: multer::Multipart<'static>,
    framing: &Framing,
    tx: &mpsc::Sender<Command>,
) -> Result<(), FeedError> {
    let limits = &app.limits;
    let mut content = 0u64;
    let mut attachments = 0usize;
    let mut fields = 0usize;
    let mut has_message = false;
    while let Some(mut field) = multipart.next_field().await.map_err(multer_problem)? {
        fields += 1;
        framing.fields.store(fields as u64, Ordering::Relaxed);
        // A message, the attachments, and one empty file input.
        if fields > limits.max_attachments + 2 {
            return Err(Problem::TooManyFiles.into());
        }
        // Multer has already buffered these headers (the framing cap bounds
        // that memory); a part whose headers exceed the limit is refused.
        let header_bytes: usize = field
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum();
        if header_bytes as u64 > limits.max_part_header_bytes {
            return Err(Problem::Malformed.into());
        }
        let is_message = match field.name() {
            Some("message") if !has_message && field.file_name().is_none() => true,
            Some("attachment") => false,
            _ => return Err(Problem::Malformed.into()),
        };
        has_message |= is_message;
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(|m| m.to_string());
        let mut begin = Some(if is_message {
            Command::BeginMessage
        } else {
            Command::BeginAttachment {
                name: file_name.clone(),
                content_type,
            }
        });
        let mut part_bytes = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(multer_problem)? {
            if chunk.is_empty() {
                continue;
            }
            let len = chunk.len() as u64;
            framing.consumed.fetch_add(len, Ordering::Relaxed);
            part_bytes += len;
            content += len;
            if is_message && part_bytes > limits.max_message_bytes {
                return Err(Problem::MessageTooLong.into());
            }
            if content > limits.max_upload_bytes {
                return Err(Problem::TooLarge.into());
            }
            if let Some(command) = begin.take() {
                if !is_message {
                    attachments += 1;
                    if attachments > limits.max_attachments {
                        return Err(Problem::TooManyFiles.into());
                    }
                }
                send(tx, command).await?;
            }
            send(tx, Command::Data(chunk)).await?;
        }
        // An empty file the source chose on purpose still counts; the empty
        // file input a browser sends when no file was chosen does not.
        if let Some(command) = begin.take() {
            if !is_message && !file_name.is_empty() {
                attachments += 1;
                if attachments > limits.max_attachments {
                    return Err(Problem::TooManyFiles.into());
                }
                send(tx, command).await?;
                send(tx, Command::EndPart).await?;
            }
        } else {
            send(tx, Command::EndPart).await?;
        }
    }
    Ok(())
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Seals one submission from a request. On success the file is durable under
/// its final name.
pub async fn ingest(app: Arc<AppInner>, headers: &HeaderMap, body: Body) -> Result<(), Problem> {
    let (body_tx, body_rx) = mpsc::channel(QUEUE);
    let mut pump_task = Some(tokio::spawn(pump(body, body_tx, app.clone())));
    let result = ingest_stream(app.clone(), headers, body_rx, &mut pump_task).await;
    // The receiving side is gone now, so the pump drains whatever the client
    // still sends; waiting for it lets the client read our answer.
    if let Some(task) = pump_task {
        let _ = task.await;
    }
    result
}

async fn ingest_stream(
    app: Arc<AppInner>,
    headers: &HeaderMap,
    body_rx: mpsc::Receiver<Result<Bytes, io::Error>>,
    pump_task: &mut Option<tokio::task::JoinHandle<PumpEnd>>,
) -> Result<(), Problem> {
    let limits = &app.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or(Problem::Malformed)?;
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(Problem::Malformed);
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| Problem::Malformed)?;
    let allowance = framing_allowance(limits);
    if declared_length(headers).is_some_and(|n| n > limits.max_upload_bytes + allowance) {
        return Err(Problem::TooLarge);
    }
    let _permit = app
        .uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| Problem::Busy)?;
    app.store.check_capacity(0).map_err(|_| Problem::Full)?;

    let framing = Arc::new(Framing::default());
    let input = {
        let framing = framing.clone();
        let per_field = limits.max_part_header_bytes;
        futures_util::stream::unfold((body_rx, 0u64), move |(mut rx, mut pulled)| {
            let framing = framing.clone();
            async move {
                let item = rx.recv().await?;
                if let Ok(chunk) = &item {
                    pulled += chunk.len() as u64;
                    let allowed = framing.consumed.load(Ordering::Relaxed)
                        + FRAMING_BASE
                        + (framing.fields.load(Ordering::Relaxed) + 1) * per_field;
                    if pulled > allowed {
                        let err = io::Error::new(
                            io::ErrorKind::InvalidData,
                            "multipart framing too large",
                        );
                        return Some((Err(err), (rx, pulled)));
                    }
                }
                Some((item, (rx, pulled)))
            }
        })
    };
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["message", "attachment"])
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_upload_bytes + allowance));
    let multipart = multer::Multipart::with_constraints(input, boundary, constraints);

    let (tx, rx) = mpsc::channel(QUEUE);
    let worker = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || seal_worker(app, rx))
    };
    let fed = feed(&app, multipart, &framing, &tx).await;
    // The multipart stream is complete; the HTTP request must be too (a
    // client that stops short of its Content-Length or final chunk is not a
    // complete submission, whatever its multipart framing says).
    let fed = match fed {
        Ok(()) => {
            let end = match pump_task.take() {
                Some(task) => task.await.unwrap_or(PumpEnd::ClientGone),
                None => PumpEnd::ClientGone,
            };
            match end {
                PumpEnd::Complete => send(&tx, Command::Finish).await,
                PumpEnd::TimedOut => Err(FeedError::Problem(Problem::Timeout)),
                PumpEnd::ClientGone | PumpEnd::DrainCapReached => {
                    Err(FeedError::Problem(Problem::Malformed))
                }
            }
        }
        Err(e) => Err(e),
    };
    drop(tx);
    let sealed = worker.await.unwrap_or(Err(SealFailure::Failed));
    match (fed, sealed) {
        (Ok(()), Ok(id)) => {
            app.stats.sealed.fetch_add(1, Ordering::Relaxed);
            // The ciphertext hash serves pickup only: compute it after the
            // source has its answer, while the file is still in the page cache.
            let app = app.clone();
            tokio::task::spawn_blocking(move || {
                let _ = app.store.sealed_sha256(&super::store::sealed_name(&id));
            });
            Ok(())
        }
        (Err(FeedError::Problem(problem)), _) => Err(problem),
        (_, Err(SealFailure::Empty)) => Err(Problem::Empty),
        (_, Err(SealFailure::Full)) => Err(Problem::Full),
        (_, Err(SealFailure::Aborted)) => {
            app.stats.aborted.fetch_add(1, Ordering::Relaxed);
            Err(Problem::Malformed)
        }
        (_, Err(SealFailure::Failed)) | (Err(FeedError::SealerGone), Ok(_)) => {
            Err(Problem::Internal)
        }
    }
}
