//! Replies, sealed from the conversation view into the outbox folder that
//! `sealdrop push-replies` reads (on the stick that goes to the transfer
//! laptop), by the code of `sealdrop-open reply`; and what became of each
//! as `push-replies` records it in that folder: a file it sent is moved
//! into `pushed/`, one the server refused for good into `refused/`.

use std::path::Path;

use super::WorkspaceError;
use sealdrop_format::reply::file::MAX_REPLY_BYTES;
use sealdrop_open::shared::{self as open, Answering, ReplyFailure, Written};

/// Where a sealed reply is now, as the outbox shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyState {
    /// In the outbox, waiting for `push-replies`.
    Written,
    /// `push-replies` handed it to the server.
    Pushed,
    /// The server refused it for good (the source deleted the reply, or it
    /// is past the retention).
    Refused,
    /// Not in this outbox (another stick, or removed).
    NotInOutbox,
}

/// The state of the reply file `file` (its name) in `outbox`.
pub fn reply_state(outbox: &Path, file: &str) -> ReplyState {
    if file.is_empty() || file.contains('/') || file.starts_with('.') {
        return ReplyState::NotInOutbox;
    }
    if outbox.join(file).is_file() {
        ReplyState::Written
    } else if outbox.join("pushed").join(file).is_file() {
        ReplyState::Pushed
    } else if outbox.join("refused").join(file).is_file() {
        ReplyState::Refused
    } else {
        ReplyState::NotInOutbox
    }
}

/// The most a reply may hold, in bytes of UTF-8.
pub const REPLY_LIMIT: usize = MAX_REPLY_BYTES;

/// Seals `text` as a reply to the source of submission `id` of the
/// workspace at `root`, into `outbox`.
pub fn seal_reply(
    root: &Path,
    id: &str,
    text: &str,
    outbox: &Path,
) -> Result<Written, WorkspaceError> {
    if outbox
        .join(sealdrop_format::seal::manifest::MANIFEST_PATH)
        .exists()
    {
        // What goes to the transfer laptop must never be a submission's folder.
        return Err(WorkspaceError::Refused(format!(
            "{} holds an opened submission: choose an empty folder on the stick as the outbox",
            outbox.display()
        )));
    }
    let folder = root.join(id);
    let manifest = open::opened_manifest(&folder).ok_or_else(|| {
        WorkspaceError::Refused(format!(
            "{} holds no readable manifest.json",
            folder.display()
        ))
    })?;
    open::seal_reply(
        &Answering {
            manifest: &manifest,
            submission: id,
            named: &folder,
        },
        text,
        outbox,
        root,
    )
    .map_err(|e| match e {
        ReplyFailure::Text(e) => WorkspaceError::Refused(e.to_string()),
        ReplyFailure::Tool(e) => WorkspaceError::Tool(e),
    })
}
