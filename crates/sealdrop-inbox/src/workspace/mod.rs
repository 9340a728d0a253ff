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
pub mod search;
mod threads;

use std::path::{Path, PathBuf};

pub use import::{
    default_save_folder, import_folder, save_original, ImportEvent, ImportSummary, Progress,
};
pub use index::{AttachmentRecord, Index, Marks, SubmissionRecord, INDEX_VERSION};
pub use outbox::{reply_state, seal_reply, ReplyState, REPLY_LIMIT};
pub use threads::{
    conversation, counts, first_copies, select, short_name, thread_list, Counts, Item, Order, Show,
    ThreadKey, ThreadSummary,
};

use sealdrop_format::fsutil::{create_new_private_file, create_private_dir_all};

/// The most of one message or file that is indexed for search.
pub const MAX_INDEXED_BYTES: u64 = 4 << 20;

/// The words of an attachment for search, from its cleaned copy in the
/// submission's folder `dir`: plain text read as it is, office documents
/// and PDF read in the sandbox helper; `None` for a file without words,
/// else the words with what was not read, or why none could be.
pub fn read_words(
    dir: &Path,
    attachment: &AttachmentRecord,
) -> Option<Result<sealdrop_scrub::Searchable, String>> {
    use std::io::Read;
    if !attachment.has_words() {
        return None;
    }
    let path = attachment.cleaned_path(dir)?;
    if attachment.report.kind == sealdrop_scrub::Kind::Text {
        let mut bytes = Vec::new();
        let read = std::fs::File::open(&path)
            .and_then(|file| file.take(MAX_INDEXED_BYTES + 1).read_to_end(&mut bytes));
        let cut = bytes.len() as u64 > MAX_INDEXED_BYTES;
        bytes.truncate(MAX_INDEXED_BYTES as usize);
        return Some(match read {
            Ok(_) => Ok(sealdrop_scrub::Searchable {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                missed: if cut {
                    vec![format!(
                        "only the first {MAX_INDEXED_BYTES} bytes are searched"
                    )]
                } else {
                    Vec::new()
                },
            }),
            Err(e) => Err(format!("{}: {e}", path.display())),
        });
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
    };
    let sandbox = match sealdrop_open::shared::sandbox() {
        Ok(sandbox) => sandbox,
        Err(e) => return Some(Err(e.to_string())),
    };
    Some(match sandbox.words(&bytes, MAX_INDEXED_BYTES) {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(reason)) => Err(reason.0),
        Err(e) => Err(e.to_string()),
    })
}

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

fn search_failed(e: rusqlite::Error) -> WorkspaceError {
    WorkspaceError::Refused(format!("the search index: {e}"))
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
    /// Full-text search over it (`.sealdrop-inbox/search.sqlite`).
    pub search: search::SearchIndex,
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
        let (search, renewed) =
            search::SearchIndex::open_checked(&inbox.join(search::SEARCH_FILE))?;
        let workspace = Workspace {
            root: root.to_owned(),
            index,
            search,
            _lock: lock,
        };
        if renewed && !workspace.index.submissions.is_empty() {
            // Made by an older version, lost or broken: made again.
            workspace.rebuild_search()?;
        } else {
            workspace.reconcile_search()?;
        }
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

    /// Adds submission `id` to the search index: its message, and the words
    /// of its attachments, as import read them (`words`, by part) or read
    /// again now from the cleaned copies.
    pub fn index_submission(
        &self,
        id: &str,
        words: &[(usize, String)],
    ) -> Result<(), WorkspaceError> {
        use search::Kind;
        use std::io::Read;
        let Some(record) = self.index.submissions.get(id) else {
            return Ok(());
        };
        let thread = record.thread_key(id);
        let read = |path: PathBuf, cap: u64| -> Option<String> {
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .ok()?
                .take(cap)
                .read_to_end(&mut bytes)
                .ok()?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        };
        let folder = self.submission_dir(id);
        if record.has_message {
            if let Some(text) = read(
                folder.join(sealdrop_format::seal::manifest::MESSAGE_PATH),
                MAX_INDEXED_BYTES,
            ) {
                self.search
                    .add(&thread, id, Kind::Message, &text)
                    .map_err(search_failed)?;
            }
        }
        // An attachment imported before its words were read (by an older
        // version) is read now, unless reading them failed then.
        let wanted =
            |a: &&AttachmentRecord| a.searched || (a.has_words() && a.not_searched.is_empty());
        for attachment in record.attachments.iter().filter(wanted) {
            let text = match words.iter().find(|(part, _)| *part == attachment.part) {
                Some((_, text)) => Some(text.clone()),
                None => match read_words(&folder, attachment) {
                    Some(Ok(found)) => Some(found.text),
                    _ => None,
                },
            };
            if let Some(text) = text {
                let doc = format!("{id}/{}", attachment.part);
                self.search
                    .add(&thread, &doc, Kind::Attachment, &text)
                    .map_err(search_failed)?;
            }
        }
        Ok(())
    }

    /// Adds the replies sent in thread `key` to the search index.
    pub fn index_replies(&self, key: &str) -> Result<(), WorkspaceError> {
        let Ok(thread) = key.parse() else {
            return Ok(());
        };
        for event in sealdrop_open::shared::replies_sent(&self.root, &thread) {
            if let sealdrop_open::shared::Event::Sent { file, text, .. } = event {
                self.search
                    .add(key, &format!("reply:{file}"), search::Kind::Reply, &text)
                    .map_err(|e| WorkspaceError::Refused(format!("the search index: {e}")))?;
            }
        }
        Ok(())
    }

    /// Brings the search index in step with the index after a crash between
    /// the two, document by document: words of a submission the index does
    /// not have go, and replies' words of a thread it no longer has (the
    /// file is then rewritten); a submission whose message or read file has
    /// no words in it is indexed again.
    fn reconcile_search(&self) -> Result<(), WorkspaceError> {
        use std::collections::BTreeSet;
        let documents = self.search.documents().map_err(search_failed)?;
        let threads: BTreeSet<String> = self
            .index
            .submissions
            .iter()
            .map(|(id, record)| record.thread_key(id))
            .collect();
        let mut stale_submissions = BTreeSet::new();
        let mut stale_threads = BTreeSet::new();
        for (thread, doc) in &documents {
            if doc.starts_with("reply:") {
                if !threads.contains(thread) {
                    stale_threads.insert(thread);
                }
                continue;
            }
            let id = doc.split('/').next().unwrap_or(doc);
            if !self.index.submissions.contains_key(id) {
                stale_submissions.insert(id);
            }
        }
        for id in &stale_submissions {
            self.search.remove_submission(id).map_err(search_failed)?;
        }
        for thread in &stale_threads {
            self.search.remove_thread(thread).map_err(search_failed)?;
        }
        if !stale_submissions.is_empty() || !stale_threads.is_empty() {
            self.search.rewrite().map_err(search_failed)?;
        }
        let indexed: BTreeSet<&str> = documents.iter().map(|(_, doc)| doc.as_str()).collect();
        for (id, record) in &self.index.submissions {
            let missing = (record.has_message && !indexed.contains(id.as_str()))
                || record
                    .attachments
                    .iter()
                    .any(|a| a.searched && !indexed.contains(format!("{id}/{}", a.part).as_str()));
            if missing {
                self.index_submission(id, &[])?;
            }
        }
        Ok(())
    }

    /// Makes the search index again from the workspace.
    pub fn rebuild_search(&self) -> Result<(), WorkspaceError> {
        self.search.clear().map_err(search_failed)?;
        let mut threads = std::collections::BTreeSet::new();
        for (id, record) in &self.index.submissions {
            self.index_submission(id, &[])?;
            threads.extend(record.thread.clone());
        }
        for thread in threads {
            self.index_replies(&thread)?;
        }
        Ok(())
    }

    /// The threads whose messages, replies or plain-text files match what
    /// was typed.
    pub fn search_threads(
        &self,
        typed: &str,
    ) -> Result<std::collections::BTreeSet<String>, WorkspaceError> {
        self.search
            .threads_matching(typed)
            .map_err(|e| WorkspaceError::Refused(format!("the search index: {e}")))
    }

    /// Deletes thread `key` from the workspace: each of its submissions,
    /// with what [`Workspace::delete_submissions`] deletes of a thread left
    /// empty. Returns how many submissions went. The caller saves the index.
    pub fn delete_thread(&mut self, key: &str) -> Result<usize, WorkspaceError> {
        let ids: Vec<String> = self
            .index
            .submissions
            .iter()
            .filter(|(id, record)| record.thread_key(id) == key)
            .map(|(id, _)| id.clone())
            .collect();
        self.delete_submissions(&ids)
    }

    /// Deletes submissions `ids` from the workspace: their words in the
    /// search index first (the file is then rewritten so that none of them
    /// stays in it), then each one's folder and sealed copy, then their
    /// records, keeping their ids as deleted so that importing the same
    /// stick again does not bring them back. A thread left with no
    /// submission loses the rest too: the readable copies of the replies
    /// sent in it, their words, its draft and marks. Returns how many
    /// submissions went. The caller saves the index. On flash storage,
    /// removing a file cannot promise that its blocks are erased.
    pub fn delete_submissions(&mut self, ids: &[String]) -> Result<usize, WorkspaceError> {
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| self.index.submissions.contains_key(*id))
            .cloned()
            .collect();
        let threads: std::collections::BTreeSet<String> = ids
            .iter()
            .map(|id| self.index.submissions[id].thread_key(id))
            .collect();
        let emptied: Vec<String> = threads
            .into_iter()
            .filter(|key| {
                self.index
                    .submissions
                    .iter()
                    .all(|(id, record)| ids.contains(id) || record.thread_key(id) != *key)
            })
            .collect();
        // The words first: if anything fails, the submissions are still
        // listed and the editor can delete them again.
        for id in &ids {
            self.search.remove_submission(id).map_err(search_failed)?;
        }
        for key in &emptied {
            self.search.remove_thread(key).map_err(search_failed)?;
        }
        self.search.rewrite().map_err(search_failed)?;
        let mut paths: Vec<PathBuf> = ids
            .iter()
            .flat_map(|id| [self.submission_dir(id), self.sealed_original(id)])
            .collect();
        paths.extend(
            emptied
                .iter()
                .filter_map(|key| key.parse().ok())
                .map(|thread| sealdrop_open::shared::thread_dir(&self.root, &thread)),
        );
        for path in paths {
            match path.symlink_metadata() {
                Ok(meta) if meta.is_dir() => {
                    std::fs::remove_dir_all(&path).map_err(io_error(&path))?
                }
                Ok(_) => std::fs::remove_file(&path).map_err(io_error(&path))?,
                Err(_) => {}
            }
        }
        // The records last.
        for id in &ids {
            self.index.submissions.remove(id);
            self.index.deleted.insert(id.clone());
        }
        for key in &emptied {
            self.index.drafts.remove(key);
            self.index.marks.remove(key);
        }
        sealdrop_format::fsutil::sync_dir(&self.root).map_err(io_error(&self.root))?;
        Ok(ids.len())
    }

    /// The outbox: the one the editor chose, else `outbox/` in the workspace.
    pub fn outbox(&self) -> PathBuf {
        self.index
            .outbox
            .clone()
            .unwrap_or_else(|| self.root.join("outbox"))
    }
}
