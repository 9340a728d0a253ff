//! The workspace: a folder on the encrypted persistent volume that holds
//! what was imported, in the layout `sealdrop-open decrypt -o` writes (one
//! folder per submission with its `manifest.json` and `message.txt`,
//! `cleaned/` beside them, `threads/<thread>/` with the readable copies of
//! replies), so that `sealdrop-open reply --workspace` and `list
//! --workspace` work on it; and the inbox's own folder, `.sealdrop-inbox/`,
//! with the index and the sealed originals.
//!
//! Originals stay sealed: a submission's `attachments/` is not kept
//! decrypted (no file browser, indexer or thumbnailer can reach a
//! stranger's file there); its sealed file is kept instead, and an original
//! is decrypted again only when the editor saves it out.

mod import;
mod index;
mod outbox;
mod threads;

use std::path::{Path, PathBuf};

pub use import::{
    default_save_folder, import_folder, save_original, ImportEvent, ImportSummary, Progress,
};
pub use index::{AttachmentRecord, Index, SubmissionRecord, INDEX_VERSION};
pub use outbox::{reply_state, seal_reply, ReplyState, REPLY_LIMIT};
pub use threads::{conversation, thread_list, Item, ThreadKey, ThreadSummary};

use sealdrop_format::fsutil::{create_new_private_file, create_private_dir_all};

/// The inbox's own folder inside a workspace.
pub const INBOX_DIR: &str = ".sealdrop-inbox";
/// Where sealed originals are kept, in the inbox's folder.
pub const SEALED_DIR: &str = "sealed";
/// Where a submission is opened before it gets its place.
pub const IMPORTING_DIR: &str = "importing";

/// Errors of the workspace, each naming the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not an index this version of sealdrop-inbox reads ({reason}); keep it, and open the workspace with the version that wrote it")]
    Index { path: PathBuf, reason: String },
    #[error(transparent)]
    Tool(#[from] sealdrop_open::ToolError),
    #[error("{0}")]
    Refused(String),
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// An open workspace: its folder and its index, locked for as long as it
/// is open (one inbox at a time: a second would clear the first's imports
/// and write over its index).
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    pub index: Index,
    _lock: std::fs::File,
}

impl Workspace {
    /// Opens the workspace at `root`, making the folder (0700) and its
    /// inbox folder if need be, with the files that keep GNOME's indexer
    /// out of it.
    pub fn open(root: &Path) -> Result<Workspace, WorkspaceError> {
        let inbox = root.join(INBOX_DIR);
        create_private_dir_all(&inbox).map_err(io_error(&inbox))?;
        let lock_path = inbox.join("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            return Err(WorkspaceError::Refused(format!(
                "{} is open in another sealdrop-inbox; close that one first",
                root.display()
            )));
        }
        // What an import cut short left (decrypted originals among it):
        // never trusted, and no import runs yet.
        let importing = inbox.join(IMPORTING_DIR);
        if importing.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(&importing).map_err(io_error(&importing))?;
        }
        // Tracker (GNOME's file indexer) skips a folder holding either.
        for marker in [".trackerignore", ".nomedia"] {
            let path = root.join(marker);
            if path.symlink_metadata().is_err() {
                create_new_private_file(&path).map_err(io_error(&path))?;
            }
        }
        let index = Index::load(&inbox.join(index::INDEX_FILE))?;
        let workspace = Workspace {
            root: root.to_owned(),
            index,
            _lock: lock,
        };
        if workspace.index.outbox.is_none() {
            // Made now, so that no submission can ever take its name.
            let outbox = workspace.outbox();
            create_private_dir_all(&outbox).map_err(io_error(&outbox))?;
        }
        Ok(workspace)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes the index (whole, then renamed into place).
    pub fn save(&self) -> Result<(), WorkspaceError> {
        self.index
            .save(&self.root.join(INBOX_DIR).join(index::INDEX_FILE))
    }

    /// The folder of an imported submission.
    pub fn submission_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// The sealed original of an imported submission.
    pub fn sealed_original(&self, id: &str) -> PathBuf {
        self.root
            .join(INBOX_DIR)
            .join(SEALED_DIR)
            .join(format!("{id}.age"))
    }

    /// The outbox: the one the editor chose, else `outbox/` in the workspace.
    pub fn outbox(&self) -> PathBuf {
        self.index
            .outbox
            .clone()
            .unwrap_or_else(|| self.root.join("outbox"))
    }
}
