//! Step 3 of an upload: the sealer. It takes what the multipart stage sends
//! and runs it in bursts on the server's sealing pool (`server::workers`):
//! the age+ZIP writer (`sealdrop_format::seal`) hashes and encrypts into a partial file
//! of the store; at the end the store's commit makes the file durable (fsync,
//! rename, fsync the folder). Between bursts an upload holds no thread.
//! Nothing is created before the first byte of real content, and the partial
//! file is removed on every failure path.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::outcome::Internal;
use crate::store::{PartialFile, PartialGuard};
use crate::App;
use sealdrop_format::bytesize::MIB;
use sealdrop_format::id::SubmissionId;
use sealdrop_format::seal::{ReplyBlock, SealError, SealOptions, SubmissionWriter};

/// Re-check free disk space after this many bytes.
const CAPACITY_CHECK_EVERY: u64 = 16 * MIB;
/// A burst on the pool ends after this much data (or when nothing more is
/// waiting), so that one fast upload does not keep a thread from others.
const BURST_BYTES: usize = MIB as usize;

/// What the multipart stage tells the sealer.
pub(super) enum Command {
    /// The source's reply channel, for the manifest (before any part).
    Reply(ReplyBlock),
    /// The desk the source chose, by index (before any part; without it,
    /// the default desk).
    Desk(usize),
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
#[derive(Clone, Copy, Debug)]
pub(super) enum SealFailure {
    /// Finished without any content.
    Empty,
    /// The disk or the quota is full.
    Full,
    /// The object store did not take the submission (unreachable, slow,
    /// refusing): the source may try again later.
    StoreDown,
    /// A fault of ours: the 500 page, counted by kind.
    Failed(Internal),
}

fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == rustix::io::Errno::NOSPC.raw_os_error() || code == rustix::io::Errno::DQUOT.raw_os_error())
}

impl From<io::Error> for SealFailure {
    fn from(e: io::Error) -> Self {
        if is_disk_full(&e) {
            SealFailure::Full
        } else if crate::store::bucket::is_unavailable(&e) {
            tracing::warn!("a submission was refused because the store failed: {e}");
            SealFailure::StoreDown
        } else if crate::store::is_pool_exhausted(&e) {
            SealFailure::Failed(Internal::PoolEmpty)
        } else {
            SealFailure::Failed(Internal::StoreIo)
        }
    }
}

impl From<SealError> for SealFailure {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Io(e) => e.into(),
            _ => SealFailure::Failed(Internal::Seal),
        }
    }
}

/// The sealed file being written, and the guard that removes it unless it
/// is committed.
struct Sealing {
    writer: SubmissionWriter<PartialFile>,
    guard: PartialGuard,
    since_capacity_check: u64,
    /// The desk whose keys it is sealed to and whose folder it goes into.
    desk: usize,
}

/// What a sealer holds between bursts: the file once a part began, and the
/// reply block until the manifest is written.
#[derive(Default)]
struct State {
    sealing: Option<Sealing>,
    reply: Option<ReplyBlock>,
    desk: usize,
}

/// Applies one command to the sealed file, creating it at the first part.
fn apply(
    app: &App,
    arrival: SystemTime,
    state: &mut State,
    command: Command,
) -> Result<(), SealFailure> {
    match command {
        Command::Reply(block) => {
            state.reply = Some(block);
            return Ok(());
        }
        Command::Desk(index) => {
            state.desk = index;
            return Ok(());
        }
        _ => {}
    }
    let desk = app.desks.get(state.desk);
    let sealing = &mut state.sealing;
    if sealing.is_none()
        && matches!(
            command,
            Command::BeginMessage | Command::BeginAttachment { .. }
        )
    {
        desk.store.check_disk(0).map_err(|_| SealFailure::Full)?;
        let (file, guard) = desk.store.create_partial()?;
        let options = SealOptions {
            arrival,
            time_granularity_secs: app.policy.time_granularity.as_secs().max(1),
            max_part_size: Some(app.policy.max_upload_bytes),
        };
        let writer = SubmissionWriter::new(&desk.recipients, file, &options)?;
        *sealing = Some(Sealing {
            writer,
            guard,
            since_capacity_check: 0,
            desk: state.desk,
        });
    }
    let open = sealing
        .as_mut()
        .ok_or(SealFailure::Failed(Internal::Incomplete));
    match command {
        Command::Reply(_) | Command::Desk(_) => {}
        Command::BeginMessage => open?.writer.begin_message()?,
        Command::BeginAttachment { name, content_type } => {
            open?
                .writer
                .begin_attachment(&name, content_type.as_deref())?;
        }
        Command::Data(chunk) => {
            let state = open?;
            state.writer.write_part(&chunk)?;
            state.since_capacity_check += chunk.len() as u64;
            if state.since_capacity_check >= CAPACITY_CHECK_EVERY {
                state.since_capacity_check = 0;
                desk.store.check_disk(0).map_err(|_| SealFailure::Full)?;
            }
        }
        Command::EndPart => {
            open?.writer.end_part()?;
        }
        Command::Finish => {}
    }
    Ok(())
}

/// What one burst of work on the pool hands back.
struct Burst {
    commands: mpsc::Receiver<Command>,
    state: State,
    result: Result<(), SealFailure>,
    finished: bool,
}

/// Applies `first` and whatever else is already waiting, up to
/// `BURST_BYTES`, on a thread of the pool: a fast upload keeps a thread busy
/// without a round trip per chunk, a slow one gives it back as soon as its
/// queue is empty, and none keeps it for longer than a burst while others
/// wait.
fn burst(
    app: &App,
    arrival: SystemTime,
    first: Command,
    mut commands: mpsc::Receiver<Command>,
    mut state: State,
) -> Burst {
    let mut next = Some(first);
    let mut bytes = 0;
    let mut finished = false;
    let result = (|| {
        while let Some(command) = next.take() {
            match &command {
                Command::Finish => {
                    finished = true;
                    return Ok(());
                }
                Command::Data(chunk) => bytes += chunk.len(),
                _ => {}
            }
            apply(app, arrival, &mut state, command)?;
            if bytes < BURST_BYTES {
                next = commands.try_recv().ok();
            }
        }
        Ok(())
    })();
    Burst {
        commands,
        state,
        result,
        finished,
    }
}

/// Takes commands until `Finish` and returns the stored id, or fails when
/// the multipart stage stops without `Finish` (its own error is what the
/// source is told; the partial file is removed).
pub(super) async fn seal(
    app: Arc<App>,
    commands: mpsc::Receiver<Command>,
) -> Result<SubmissionId, SealFailure> {
    let mut state = State::default();
    let result = seal_into(&app, commands, &mut state).await;
    if let Some(abandoned) = state.sealing {
        // Removing the partial file waits on the disk (unlink, fsync of the
        // folder): not on the async threads. It is gone before the answer.
        let _ = app.pools.disk.run(move || drop(abandoned)).await;
    }
    result
}

async fn seal_into(
    app: &Arc<App>,
    mut commands: mpsc::Receiver<Command>,
    state: &mut State,
) -> Result<SubmissionId, SealFailure> {
    let arrival = SystemTime::now();
    loop {
        // Waiting for the network holds no thread.
        let Some(first) = commands.recv().await else {
            return Err(SealFailure::Failed(Internal::Incomplete));
        };
        let (job_app, held) = (app.clone(), std::mem::take(state));
        let done = app
            .pools
            .sealing
            .run(move || burst(&job_app, arrival, first, commands, held))
            .await
            .map_err(|_| SealFailure::Failed(Internal::JobLost))?;
        commands = done.commands;
        *state = done.state;
        done.result?;
        if done.finished {
            let mut sealing = state.sealing.take().ok_or(SealFailure::Empty)?;
            if let Some(block) = state.reply.take() {
                sealing.writer.set_reply(block);
            }
            // The desk in the manifest, so that a reply names it and the
            // source's follow-ups go to the same desk.
            if let Some(desk) = app.desks.named_at(sealing.desk) {
                sealing.writer.set_desk(&desk.name);
            }
            return finish_and_commit(app, sealing).await;
        }
    }
}

/// Writes the manifest, the padding and the trailer (CPU: on the pool), then
/// commits: fsync, rename, fsync the folder (waiting on the disk: on a
/// the disk pool, not the sealing pool, so a slow disk does not stall others'
/// encryption).
async fn finish_and_commit(app: &Arc<App>, state: Sealing) -> Result<SubmissionId, SealFailure> {
    let Sealing {
        writer,
        guard,
        desk,
        ..
    } = state;
    let finished = app
        .pools
        .sealing
        .run(move || writer.finish().map(|(file, _padded_len)| file))
        .await;
    let file = match finished {
        Ok(Ok(file)) => file,
        failed => {
            let _ = app.pools.disk.run(move || drop(guard)).await;
            return Err(match failed {
                Ok(Err(e)) => e.into(),
                _ => SealFailure::Failed(Internal::JobLost),
            });
        }
    };
    let job_app = app.clone();
    app.pools
        .disk
        .run(move || {
            let app = job_app;
            let coarse = sealdrop_format::seal::coarse_time(
                SystemTime::now(),
                app.policy.touch_interval.as_secs(),
            );
            app.desks.get(desk).store.commit(file, guard, coarse.into())
        })
        .await
        .map_err(|_| SealFailure::Failed(Internal::JobLost))?
        .map_err(SealFailure::from)
}
