//! `POST /submit` (and the replies page's follow-up form): multipart in,
//! sealed file out, nothing in plaintext on disk. A submission's bytes flow
//! through these steps, in this order:
//!
//! 0. [`slots`]: a slot among `--max-concurrent-uploads`, which slow uploads
//!    lose;
//! 1. [`body`]: the request body off the socket, with deadlines and a
//!    minimum rate;
//! 2. [`multipart`]: the form, parsed while it streams, every limit enforced;
//! 3. [`sealer`]: age + ZIP into a partial file of the store, in batches on
//!    the server's bounded pool;
//! 4. the store's commit: fsync, rename to `<id>.age`, fsync the folder;
//! 5. the outcome, which the router turns into the answer
//!    (`answer::answer_submission`); a refused upload's answer shows again
//!    what the source typed ([`typed`]).
//!
//! The steps are async tasks joined by small bounded channels: an upload
//! waiting for the network holds a few small buffers and no thread, and
//! memory per upload stays constant whatever its size.

mod body;
pub mod disposition;
mod multipart;
mod sealer;
pub mod slots;
pub mod typed;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use tokio::sync::mpsc;

use body::PumpEnd;
use multipart::{framing_allowance, FeedError, Framing};
use sealer::{Command, SealFailure};
use typed::Typed;

use super::connections::ConnectionHandle;
use super::outcome::{Internal, Problem};
use super::store::{Full, Reservation};
use super::App;
use sealdrop_format::reply::Codename;
use slots::Slot;

/// Which form an upload comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The submission form: a first submission, which gets a new codename
    /// when replies are on.
    Submit,
    /// The replies page's follow-up form: its token names the thread.
    FollowUp,
}

/// Chunks queued between steps; with hyper's 64 KiB read buffer this keeps a
/// few hundred KiB per upload in flight at most.
const QUEUE: usize = 4;

/// An upload taken: sealed (with a first submission's codename when replies
/// are on), or junk (the honeypot filled: sealed nowhere, answered alike).
pub enum Accepted {
    Sealed(Option<Codename>),
    Junk,
}

/// An upload that was not sealed: why, and what the source typed (when the
/// request may be shown it again, see [`typed::may_show_again`]).
pub struct Refused {
    pub problem: Problem,
    pub typed: Option<Typed>,
}

/// Seals one submission from a request. On success the file is durable under
/// its final name, and a first submission's codename is returned for the
/// answer page (it exists nowhere else).
pub async fn ingest(
    app: Arc<App>,
    headers: &HeaderMap,
    connection: Option<ConnectionHandle>,
    body: Body,
    form: Form,
) -> Result<Accepted, Refused> {
    let mut typed = Typed::new(declared_length(headers));
    let show_again = typed::may_show_again(headers);
    let refused = |problem, typed| Refused {
        problem,
        typed: show_again.then_some(typed),
    };
    let Ok(boundary) = boundary(headers) else {
        // Not a form we can read: drained, so that the client reads this
        // answer instead of a reset.
        let (body_tx, body_rx) = mpsc::channel(QUEUE);
        drop(body_rx);
        let _ = body::pump(body, body_tx, app, None, connection, None).await;
        return Err(refused(Problem::Malformed, typed));
    };
    // What needs no content is decided before any is read, a slot included.
    let admitted = admit(&app, headers).await;
    let (body_tx, body_rx) = mpsc::channel(QUEUE);
    match admitted {
        // The reservation is held until the outcome: committed files are
        // counted by then.
        Ok((slot, _reservation)) => {
            if let Some(connection) = &connection {
                connection.uploading(slot.meter.clone());
            }
            let (refused_early, refusal_told) = tokio::sync::oneshot::channel();
            let pump = tokio::spawn(body::pump(
                body,
                body_tx,
                app.clone(),
                Some(slot),
                connection,
                Some(refusal_told),
            ));
            let codename = (form == Form::Submit && app.replies.is_some()).then(Codename::generate);
            let pump = Pump {
                task: pump,
                refused_early,
            };
            let sealed = ingest_stream(
                &app,
                boundary,
                body_rx,
                pump,
                form,
                codename.as_ref(),
                &mut typed,
            )
            .await;
            match sealed {
                Ok(Taken::Sealed) => Ok(Accepted::Sealed(codename)),
                Ok(Taken::Junk) => Ok(Accepted::Junk),
                Err(problem) => Err(refused(problem, typed)),
            }
        }
        Err(problem) => {
            // No content is wanted: only the message is read, to show it
            // again, and the pump drains the rest, so that the client reads
            // this answer instead of a reset.
            let pump = tokio::spawn(body::pump(
                body,
                body_tx,
                app.clone(),
                None,
                connection,
                None,
            ));
            if show_again {
                read_typed_only(&app, boundary, body_rx, form, &mut typed).await;
            } else {
                drop(body_rx);
            }
            let _ = pump.await;
            Err(refused(problem, typed))
        }
    }
}

/// A slot and room under the quota for an upload, or why not.
async fn admit(app: &App, headers: &HeaderMap) -> Result<(Slot, Reservation), Problem> {
    too_large_by_declaration(app, headers)?;
    let slot = app.slots.acquire().ok_or(Problem::Busy)?;
    let room = reservation_for(&app.policy, declared_length(headers));
    let reservation = reserve_room(app, &slot, room).await?;
    app.slots
        .set_reserved(&slot, room, app.policy.upload_deadline);
    // Time spent waiting for room was not the client's: its probation and
    // its average start now.
    slots::lock_meter(&slot.meter).restart(std::time::Instant::now());
    Ok((slot, reservation))
}

/// How many uploads in flight may give up their room for one newcomer.
const ROOM_DISPLACEMENTS: usize = 4;
/// How long a newcomer waits for a displaced upload's room.
const ROOM_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Room under `--store-quota` for `room` bytes. When what is stored leaves
/// room but uploads in flight have reserved it, slow ones give it up
/// (`slots::Slots::displace_for_room`): holding the quota "full" with
/// reservations costs sending the quota within `--upload-deadline`.
async fn reserve_room(app: &App, slot: &Slot, room: u64) -> Result<Reservation, Problem> {
    for _ in 0..ROOM_DISPLACEMENTS {
        match app.store.reserve(room) {
            Ok(reservation) => return Ok(reservation),
            Err(Full::Quota)
                if app.store.fits_when_nothing_in_flight(room)
                    && app.slots.displace_for_room(slot, app.store.shortfall(room)) =>
            {
                let deadline = tokio::time::Instant::now() + ROOM_WAIT;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                    if let Ok(reservation) = app.store.reserve(room) {
                        return Ok(reservation);
                    }
                }
            }
            Err(_) => break,
        }
    }
    Err(Problem::Full)
}

/// Refuses a request whose declared length is already over the limit.
fn too_large_by_declaration(app: &App, headers: &HeaderMap) -> Result<(), Problem> {
    let policy = &app.policy;
    match declared_length(headers) {
        Some(n) if n > policy.max_upload_bytes + framing_allowance(policy) => {
            Err(Problem::TooLarge)
        }
        _ => Ok(()),
    }
}

/// Room an upload holds under `--store-quota` from admission: the most its
/// sealed file can take, from the declared length (for a body without one,
/// the largest upload): that length's Padmé bucket, plus age's 16-byte tag
/// per 64 KiB chunk and room for the header's stanzas.
fn reservation_for(policy: &crate::config::Policy, declared: Option<u64>) -> u64 {
    const AGE_HEADER_ROOM: u64 = 32 * 1024;
    let len = declared.unwrap_or(policy.max_upload_bytes + framing_allowance(policy));
    let padded = sealdrop_format::seal::padme::padded_len(len);
    padded + padded.div_ceil(64 * 1024) * 16 + AGE_HEADER_ROOM
}

/// The token and message of a request refused before its content was
/// wanted, read for its page within the time a client has for its headers
/// (a refused request holds no slot, so it gets no longer than that).
async fn read_typed_only(
    app: &App,
    boundary: String,
    body_rx: mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
    form: Form,
    typed: &mut Typed,
) {
    let policy = &app.policy;
    let framing = Arc::new(Framing::default());
    let follow_up = form == Form::FollowUp;
    let parser = multipart::parser(body_rx, boundary, policy, framing.clone(), follow_up);
    let reading = multipart::read_typed_only(policy, parser, &framing, follow_up, typed);
    let _ = tokio::time::timeout(policy.header_timeout, reading).await;
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

/// What became of a complete upload.
enum Taken {
    Sealed,
    /// The honeypot was filled: the sealer was stopped, nothing kept.
    Junk,
}

/// The body's pump (step 1), and the way to tell it the upload is refused.
struct Pump {
    task: tokio::task::JoinHandle<PumpEnd>,
    refused_early: tokio::sync::oneshot::Sender<()>,
}

async fn ingest_stream(
    app: &Arc<App>,
    boundary: String,
    body_rx: mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
    pump: Pump,
    form: Form,
    codename: Option<&Codename>,
    typed: &mut Typed,
) -> Result<Taken, Problem> {
    let policy = &app.policy;
    let framing = Arc::new(Framing::default());
    let follow_up = form == Form::FollowUp;
    let parser = multipart::parser(body_rx, boundary, policy, framing.clone(), follow_up);
    let (tx, rx) = mpsc::channel(QUEUE);
    let sealing = tokio::spawn(sealer::seal(app.clone(), rx));
    // Every desk's keys are of one kind (checked at start).
    let kind = app.desks.default_desk().recipients.kind();
    if let Some(codename) = codename {
        // The first command, before any content: the sealer only holds it.
        let block = sealdrop_format::reply::keys::manifest_block(codename, kind);
        let _ = tx.send(Command::Reply(block)).await;
    }
    let check_token = |token: &str| match &app.replies {
        Some(replies) => replies.follow_up_for_token(token, kind, app.clock.now()),
        None => Err(Problem::NotFound),
    };
    let token_check: Option<multipart::TokenCheck> = follow_up.then_some(&check_token);
    let fed = multipart::feed(policy, parser, &framing, &tx, token_check, typed).await;
    // The multipart stream is complete; the HTTP request must be too (a
    // client that stops short of its Content-Length or final chunk is not a
    // complete submission, whatever its multipart framing says). On an early
    // answer the pump, no longer read from, drains the rest.
    let fed = match fed {
        Ok(fed) => match pump.task.await.unwrap_or(PumpEnd::ClientGone) {
            // Junk, or too short: the sealer is stopped without `Finish`,
            // which removes what it wrote.
            PumpEnd::Complete if fed.junk => {
                drop(tx);
                let _ = sealing.await;
                return Ok(Taken::Junk);
            }
            PumpEnd::Complete if too_short(policy, form, &fed) => {
                drop(tx);
                let _ = sealing.await;
                return Err(Problem::TooShort);
            }
            PumpEnd::Complete => tx
                .send(Command::Finish)
                .await
                .map_err(|_| FeedError::SealerGone),
            PumpEnd::TimedOut => Err(FeedError::Problem(Problem::Timeout)),
            PumpEnd::Evicted => Err(FeedError::Problem(Problem::Evicted)),
            PumpEnd::ClientGone => Err(FeedError::Problem(Problem::Aborted)),
            PumpEnd::DrainCapReached => Err(FeedError::Problem(Problem::Malformed)),
        },
        Err(e) => {
            let _ = pump.refused_early.send(());
            drop(tx);
            let sealed = sealing.await;
            let _ = pump.task.await;
            let sealed = sealed.unwrap_or(Err(SealFailure::Failed(Internal::JobLost)));
            return outcome(app, Err(e), sealed).map(|()| Taken::Sealed);
        }
    };
    drop(tx);
    let sealed = sealing
        .await
        .unwrap_or(Err(SealFailure::Failed(Internal::JobLost)));
    outcome(app, fed, sealed).map(|()| Taken::Sealed)
}

/// A first submission without files whose message is under
/// `--min-message-length` (follow-ups are never held to it).
fn too_short(policy: &crate::config::Policy, form: Form, fed: &multipart::Fed) -> bool {
    form == Form::Submit && fed.attachments == 0 && fed.message_chars < policy.min_message_chars
}

/// The outcome of an upload from what feeding and sealing returned: the
/// multipart stage's own problem first, then the sealer's. A fault of ours
/// is counted by its kind.
fn outcome(
    app: &App,
    fed: Result<(), FeedError>,
    sealed: Result<sealdrop_format::id::SubmissionId, SealFailure>,
) -> Result<(), Problem> {
    match (fed, sealed) {
        // The ciphertext hash that pickup needs is computed when pickup asks
        // for it (`Store::sealed_sha256`), not on the source's time.
        (Ok(()), Ok(_id)) => Ok(()),
        (Err(FeedError::Problem(problem)), _) => Err(problem),
        (_, Err(SealFailure::Empty)) => Err(Problem::Empty),
        (_, Err(SealFailure::Full)) => Err(Problem::Full),
        (_, Err(SealFailure::StoreDown)) => Err(Problem::Busy),
        (_, Err(SealFailure::Failed(kind))) => {
            app.stats.internal(kind);
            Err(Problem::Internal)
        }
        (Err(FeedError::SealerGone), Ok(_)) => {
            app.stats.internal(Internal::Incomplete);
            Err(Problem::Internal)
        }
    }
}
