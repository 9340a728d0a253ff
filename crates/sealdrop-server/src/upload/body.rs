//! Step 1 of an upload: the request body as it comes off the socket.
//!
//! The *pump* reads the body with an idle timeout, a total deadline and a
//! minimum rate (see `slots`), and hands each chunk on. It also ends the
//! upload when the slot is taken by a newcomer. Once the outcome is decided
//! (the next stage stopped taking chunks), it keeps reading and discarding,
//! up to a cap, so that the browser gets its 413/503 page instead of a
//! connection reset.

use std::io;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::multipart::framing_allowance;
use super::slots::{RateMeter, Slot};
use crate::connections::ConnectionHandle;
use crate::outcome::Problem;
use crate::App;

/// How the pump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PumpEnd {
    Complete,
    /// The body stalled, took longer than the deadline, or came slower than
    /// the minimum rate over a window.
    TimedOut,
    /// A newcomer took the slot of this (slow) upload.
    Evicted,
    ClientGone,
    DrainCapReached,
}

/// Why the pump stopped the body early, carried to the multipart stage
/// inside the I/O error it reads (`multipart::multer_problem`).
#[derive(Debug)]
pub(super) struct Stopped(pub Problem);

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the upload was stopped: {:?}", self.0)
    }
}

impl std::error::Error for Stopped {}

/// Reads the body into `tx`; after `tx` closes, reads and discards the rest.
/// With a `slot`, enforces the minimum rate and ends on eviction. Without
/// one, the request is already refused: all of it is lingering, which the
/// connection budget may cut short for a newcomer (`connections`).
///
/// A refused request is drained at no less than `--min-upload-rate` over
/// each window (like an upload), for no longer than `--upload-deadline`
/// and no more than the largest upload: an honest browser sending a file
/// too large reads the 413 page, and whoever only trickles bytes loses the
/// connection after a window, or at once when someone else needs it.
pub(super) async fn pump(
    body: Body,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    app: Arc<App>,
    mut slot: Option<Slot>,
    connection: Option<ConnectionHandle>,
    mut refused_early: Option<tokio::sync::oneshot::Receiver<()>>,
) -> PumpEnd {
    let policy = &app.policy;
    let deadline = Instant::now() + policy.upload_deadline;
    let window = policy.body_idle_timeout;
    let min_window_bytes = (policy.min_upload_rate as f64 * window.as_secs_f64()) as u64;
    let drain_cap = policy
        .max_upload_bytes
        .saturating_add(framing_allowance(policy));
    let meter = slot.as_ref().map(|s| s.meter.clone());
    let mut evicted = slot.as_mut().and_then(Slot::take_evicted);
    let mut stream = body.into_data_stream();
    let mut drained = 0u64;
    let mut draining = false;
    // What a refused request sends, measured for the rate floor.
    let mut refusal: Option<RateMeter> = None;
    let refuse = |refusal: &mut Option<RateMeter>| {
        if refusal.is_none() {
            *refusal = Some(RateMeter::new(window, std::time::Instant::now()));
            if let Some(connection) = &connection {
                connection.refused();
            }
        }
    };
    if slot.is_none() {
        refuse(&mut refusal);
    }
    // The rate is looked at a few times per window.
    let mut rate_checks = tokio::time::interval_at(Instant::now() + window / 8, window / 8);
    let stop = |tx: &mpsc::Sender<_>, problem: Problem, kind: io::ErrorKind| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(Err(io::Error::new(kind, Stopped(problem)))).await;
        }
    };
    loop {
        let wake = deadline.min(Instant::now() + policy.body_idle_timeout);
        let eviction = async {
            match evicted.as_mut() {
                Some(signal) if !draining => {
                    // A dropped sender (the registry gone) is no eviction.
                    if signal.await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        let next = tokio::select! {
            next = tokio::time::timeout_at(wake, stream.next()) => next,
            () = eviction => {
                stop(&tx, Problem::Evicted, io::ErrorKind::TimedOut).await;
                return PumpEnd::Evicted;
            }
            // The upload was refused (a bad token, a limit) while the client
            // sends nothing: the slot is free and the rest is lingering from
            // now, not from its next byte.
            told = async { refused_early.as_mut().expect("guarded").await }, if !draining && refused_early.is_some() => {
                refused_early = None;
                if told.is_ok() {
                    draining = true;
                    drop(slot.take());
                    refuse(&mut refusal);
                }
                continue;
            }
            _ = rate_checks.tick() => {
                let now = std::time::Instant::now();
                let too_slow = |meter: &mut RateMeter| {
                    meter.has_full_window(now) && meter.window_bytes(now) < min_window_bytes
                };
                let too_slow = match (&mut refusal, &meter) {
                    (Some(refusal), _) => too_slow(refusal),
                    (None, Some(meter)) => too_slow(&mut meter.lock().unwrap_or_else(|p| p.into_inner())),
                    (None, None) => false,
                };
                if too_slow {
                    if !draining {
                        stop(&tx, Problem::Timeout, io::ErrorKind::TimedOut).await;
                    }
                    return PumpEnd::TimedOut;
                }
                continue;
            }
        };
        let next = match next {
            Ok(next) => next,
            Err(_) => {
                if !draining {
                    stop(&tx, Problem::Timeout, io::ErrorKind::TimedOut).await;
                }
                return PumpEnd::TimedOut;
            }
        };
        let chunk = match next {
            None => return PumpEnd::Complete,
            Some(Err(_)) => {
                if !draining {
                    stop(&tx, Problem::Aborted, io::ErrorKind::ConnectionAborted).await;
                }
                return PumpEnd::ClientGone;
            }
            Some(Ok(chunk)) => chunk,
        };
        let len = chunk.len() as u64;
        if let Some(refusal) = &mut refusal {
            refusal.record(len, std::time::Instant::now());
            if let Some(connection) = &connection {
                connection.drained(len);
            }
        }
        if draining {
            drained += len;
            if drained > drain_cap {
                return PumpEnd::DrainCapReached;
            }
            continue;
        }
        if let Some(meter) = &meter {
            meter
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record(len, std::time::Instant::now());
        }
        let queued = std::time::Instant::now();
        match tx.send(Ok(chunk)).await {
            Ok(()) => {
                // Time spent waiting for our own stages (sealing) is not the
                // client's slowness.
                if let Some(meter) = &meter {
                    meter
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .held_back(queued.elapsed());
                }
            }
            Err(_) => {
                // The outcome is decided: the slot is free for others, and
                // the rest is lingering.
                draining = true;
                drained += len;
                drop(slot.take());
                if refusal.is_none() {
                    refuse(&mut refusal);
                    // The chunk that found the door closed counts too.
                    if let (Some(refusal), Some(connection)) = (&mut refusal, &connection) {
                        refusal.record(len, std::time::Instant::now());
                        connection.drained(len);
                    }
                }
            }
        }
    }
}
