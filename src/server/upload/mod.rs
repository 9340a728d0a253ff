//! `POST /submit`: multipart in, sealed file out, nothing in plaintext on
//! disk. A submission's bytes flow through these steps, in this order:
//!
//! 1. [`body`]: the request body off the socket, with deadlines;
//! 2. [`multipart`]: the form, parsed while it streams, every limit enforced;
//! 3. [`sealer`]: age + ZIP into a partial file of the store;
//! 4. the store's commit: fsync, rename to `<id>.age`, fsync the folder;
//! 5. the outcome, which the router turns into the answer
//!    (`problem::answer_submission`).
//!
//! The steps are joined by small bounded channels, so that memory per upload
//! stays constant whatever its size.

mod body;
pub mod disposition;
mod multipart;
mod plaintext;
mod sealer;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use tokio::sync::mpsc;

use body::PumpEnd;
use multipart::{framing_allowance, FeedError, Framing};
use sealer::{Command, SealFailure};

use super::problem::Problem;
use super::App;

/// Chunks queued between steps; with hyper's 64 KiB read buffer this keeps a
/// few hundred KiB per upload in flight at most.
const QUEUE: usize = 4;

/// Seals one submission from a request. On success the file is durable under
/// its final name.
pub async fn ingest(app: Arc<App>, headers: &HeaderMap, body: Body) -> Result<(), Problem> {
    let (body_tx, body_rx) = mpsc::channel(QUEUE);
    let mut pump_task = Some(tokio::spawn(body::pump(body, body_tx, app.clone())));
    let result = ingest_stream(app.clone(), headers, body_rx, &mut pump_task).await;
    // The receiving side is gone now, so the pump drains whatever the client
    // still sends; waiting for it lets the client read our answer.
    if let Some(task) = pump_task {
        let _ = task.await;
    }
    result
}

/// The multipart boundary of a `multipart/form-data` request.
fn boundary(headers: &HeaderMap) -> Result<String, Problem> {
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
    multer::parse_boundary(content_type).map_err(|_| Problem::Malformed)
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

async fn ingest_stream(
    app: Arc<App>,
    headers: &HeaderMap,
    body_rx: mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
    pump_task: &mut Option<tokio::task::JoinHandle<PumpEnd>>,
) -> Result<(), Problem> {
    let limits = &app.limits;
    let boundary = boundary(headers)?;
    if declared_length(headers)
        .is_some_and(|n| n > limits.max_upload_bytes + framing_allowance(limits))
    {
        return Err(Problem::TooLarge);
    }
    let _permit = app
        .uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| Problem::Busy)?;
    app.store.check_capacity(0).map_err(|_| Problem::Full)?;

    let framing = Arc::new(Framing::default());
    let form = multipart::parser(body_rx, boundary, limits, framing.clone());
    let (tx, rx) = mpsc::channel(QUEUE);
    let worker = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || sealer::seal_worker(app, rx))
    };
    let fed = multipart::feed(limits, form, &framing, &tx).await;
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
                PumpEnd::Complete => tx
                    .send(Command::Finish)
                    .await
                    .map_err(|_| FeedError::SealerGone),
                PumpEnd::TimedOut => Err(FeedError::Problem(Problem::Timeout)),
                PumpEnd::ClientGone => Err(FeedError::Problem(Problem::Aborted)),
                PumpEnd::DrainCapReached => Err(FeedError::Problem(Problem::Malformed)),
            }
        }
        Err(e) => Err(e),
    };
    drop(tx);
    let sealed = worker.await.unwrap_or(Err(SealFailure::Failed));
    match (fed, sealed) {
        (Ok(()), Ok(id)) => {
            // The ciphertext hash serves pickup only: compute it after the
            // source has its answer, while the file is still in the page cache.
            let app = app.clone();
            tokio::task::spawn_blocking(move || {
                let _ = app.store.sealed_sha256(&id);
            });
            Ok(())
        }
        (Err(FeedError::Problem(problem)), _) => Err(problem),
        (_, Err(SealFailure::Empty)) => Err(Problem::Empty),
        (_, Err(SealFailure::Full)) => Err(Problem::Full),
        (_, Err(SealFailure::Failed)) | (Err(FeedError::SealerGone), Ok(_)) => {
            Err(Problem::Internal)
        }
    }
}
