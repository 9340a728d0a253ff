//! Step 1 of an upload: the request body as it comes off the socket.
//!
//! The *pump* reads the body with idle and total deadlines and hands each
//! chunk on. Once the outcome is decided (the next stage stopped taking
//! chunks), it keeps reading and discarding, up to a cap, so that the browser
//! gets its 413/503 page instead of a connection reset.

use std::io;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::multipart::framing_allowance;
use super::plaintext::wipe;
use crate::server::App;

/// How the pump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpEnd {
    Complete,
    TimedOut,
    ClientGone,
    DrainCapReached,
}

/// Reads the body into `tx`; after `tx` closes, reads and discards the rest.
pub async fn pump(
    body: Body,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    app: Arc<App>,
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
                        .send(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "request body timed out",
                        )))
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
