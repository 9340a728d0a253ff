//! Runs on the air-gapped laptop: `sealdrop-open`, which makes the newsroom's
//! keys, decrypts, lists and unpacks sealed submissions, seals replies to
//! sources (grouped with their submissions by thread), and says what a
//! stranger's file reveals and cleans it (`inspect`, `scrub`). It must never
//! depend on a network stack (checked in CI by scripts/check-offline-deps.sh).

pub mod cli;
mod examine;
mod extract;
mod inputs;
mod list;
mod reply;
mod sandboxed;

mod threads;

/// What the editors' desktop inbox (`sealdrop-inbox`) builds on: the very
/// code paths of `decrypt --scrub`, `inspect`, `reply` and the threads of
/// `list --workspace`, so that a workspace the inbox fills is one these
/// commands read, and the other way round.
pub mod shared {
    pub use super::examine::{clean_into, cleaned_copy_of, inspect_file, Cleaning, CLEANED_DIR};
    pub use super::extract::{extract, Outcome};
    pub use super::inputs::{collect, Input};
    pub use super::reply::{seal_reply, Answering, ReplyFailure, Written};
    pub use super::sandboxed::sandbox;
    pub use super::threads::{
        events, format_thread, opened_manifest, replies_sent, thread_dir, thread_of, write_summary,
        Event, THREADS_DIR,
    };
}

use std::io;
use std::path::PathBuf;

use sealdrop_format::keys::KeyError;
use sealdrop_format::seal::OpenError;

/// Errors of the offline tool, each naming the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{path}: {source}")]
    Open { path: PathBuf, source: OpenError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// The sandboxed reader refused the archive (the reason as the format
    /// crate words it), or could not read it.
    #[error("{path}: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
}

impl ToolError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> ToolError {
        let path = path.into();
        move |source| ToolError::Io { path, source }
    }
}
