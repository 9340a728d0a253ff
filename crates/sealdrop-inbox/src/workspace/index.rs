//! The inbox's index of a workspace (`.sealdrop-inbox/index.json`, 0600):
//! what each imported submission holds and what `inspect` found in each
//! attachment (so that the conversation view reads no stranger's file to
//! show it), what the editor has seen, the drafts of replies, and the
//! outbox. Written whole and renamed into place: a crash leaves the old
//! index or the new one, never half of one.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{io_error, WorkspaceError};
use sealdrop_format::fsutil::{create_new_private_file, sync_dir};

pub(crate) const INDEX_FILE: &str = "index.json";
/// The index format this version writes and reads.
pub const INDEX_VERSION: u32 = 1;
/// An index larger than this is refused rather than read (about 200,000
/// submissions).
const MAX_INDEX_BYTES: u64 = 512 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub version: u32,
    /// Imported submissions, by id.
    pub submissions: BTreeMap<String, SubmissionRecord>,
    /// Reply drafts, by thread key, kept until sealed.
    #[serde(default)]
    pub drafts: BTreeMap<String, String>,
    /// The outbox the editor chose (the stick `sealdrop push-replies` reads).
    #[serde(default)]
    pub outbox: Option<PathBuf>,
    /// What the editor marked on threads, by thread key.
    #[serde(default)]
    pub marks: BTreeMap<String, Marks>,
    /// Submissions deleted from the workspace, by id (random, so they name
    /// nothing): importing the same stick again does not bring them back.
    #[serde(default)]
    pub deleted: std::collections::BTreeSet<String>,
}

/// An editor's marks on a thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    #[serde(default)]
    pub starred: bool,
    /// Junk: hidden from every view but "Junk", kept, undoable.
    #[serde(default)]
    pub junk: bool,
}

/// One imported submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    /// Its thread (the manifest's reply block), if it has one.
    pub thread: Option<String>,
    pub desk: Option<String>,
    /// Arrival, rounded down as the server keeps it (RFC 3339).
    pub received: String,
    /// Whether it has a message (in `<id>/message.txt`).
    pub has_message: bool,
    /// The message's first words, for the list of threads.
    #[serde(default)]
    pub preview: String,
    /// Whether the source can be answered (a reply block).
    pub can_reply: bool,
    pub attachments: Vec<AttachmentRecord>,
    /// Seen by an editor in the conversation view.
    pub seen: bool,
}

/// One attachment of a submission, as imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// Its index among the manifest's parts.
    pub part: usize,
    /// The name it has in the workspace (sanitized).
    pub name: String,
    /// The name as the source's browser sent it, shown but never used as a path.
    pub original_name: Option<String>,
    pub size: u64,
    /// Its SHA-256 as the manifest gives it (verified at import): the same
    /// file sent twice is shown once.
    #[serde(default)]
    pub sha256: String,
    /// What `inspect` found (in the sandbox).
    pub report: sealdrop_scrub::Report,
    /// The cleaned copy, relative to the submission's folder; `None` when
    /// it could not be cleaned (`not_cleaned` says why).
    pub cleaned: Option<String>,
    pub not_cleaned: Option<String>,
    /// What cleaning removed.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Whether its words were read for search (in the sandbox, from the
    /// cleaned copy: plain text, office documents, PDF).
    #[serde(default)]
    pub searched: bool,
    /// What of its text search does not reach, in the reader's words
    /// (a PDF's pages in fonts without a Unicode map, scans).
    #[serde(default)]
    pub not_searched: Vec<String>,
}

impl SubmissionRecord {
    /// The key of the thread submission `id` is in: its reply channel's
    /// thread, else a thread of its own (`single:<id>`).
    pub fn thread_key(&self, id: &str) -> String {
        self.thread
            .clone()
            .unwrap_or_else(|| format!("{}{id}", super::threads::SINGLE))
    }
}

impl AttachmentRecord {
    /// Whether words can be read from its cleaned copy for search.
    pub fn has_words(&self) -> bool {
        use sealdrop_scrub::Kind;
        self.cleaned.is_some()
            && matches!(
                self.report.kind,
                Kind::Text
                    | Kind::Docx
                    | Kind::Xlsx
                    | Kind::Pptx
                    | Kind::Odt
                    | Kind::Ods
                    | Kind::Odp
                    | Kind::Pdf
            )
    }

    /// Its cleaned copy, `cleaned/<name>`, in the submission's folder `dir`:
    /// joined only in the one shape import writes.
    pub fn cleaned_path(&self, dir: &Path) -> Option<PathBuf> {
        let name = self
            .cleaned
            .as_deref()?
            .strip_prefix("cleaned/")
            .filter(|n| !n.is_empty() && !n.contains('/') && *n != "." && *n != "..")?;
        Some(dir.join("cleaned").join(name))
    }

    /// Whether the inbox can show it as a picture (its cleaned copy).
    pub fn is_picture(&self) -> bool {
        use sealdrop_scrub::Kind;
        self.cleaned.is_some()
            && matches!(
                self.report.kind,
                Kind::Jpeg | Kind::Png | Kind::Gif | Kind::WebP
            )
    }
}

impl Index {
    pub fn new() -> Index {
        Index {
            version: INDEX_VERSION,
            ..Index::default()
        }
    }

    /// The index at `path`, or a new one where there is none yet.
    pub(crate) fn load(path: &Path) -> Result<Index, WorkspaceError> {
        let file = match fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::new()),
            Err(e) => return Err(io_error(path)(e)),
        };
        let mut json = Vec::new();
        file.take(MAX_INDEX_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(io_error(path))?;
        let refused = |reason: String| WorkspaceError::Index {
            path: path.to_owned(),
            reason,
        };
        if json.len() as u64 > MAX_INDEX_BYTES {
            return Err(refused(format!("larger than {MAX_INDEX_BYTES} bytes")));
        }
        let index: Index = serde_json::from_slice(&json).map_err(|e| refused(e.to_string()))?;
        if index.version != INDEX_VERSION {
            return Err(refused(format!("format version {}", index.version)));
        }
        Ok(index)
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), WorkspaceError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let staging = dir.join(format!(
            ".{INDEX_FILE}.{}",
            sealdrop_format::id::random_hex(4)
        ));
        let json = serde_json::to_vec(self).expect("the index serializes");
        let mut file = create_new_private_file(&staging).map_err(io_error(&staging))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(io_error(&staging))?;
        drop(file);
        fs::rename(&staging, path).map_err(io_error(path))?;
        sync_dir(dir).map_err(io_error(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_reads_back_as_written_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INDEX_FILE);
        assert_eq!(Index::load(&path).unwrap(), Index::new());
        let mut index = Index::new();
        index.drafts.insert("t".into(), "مسودة".into());
        index.outbox = Some(dir.path().join("stick"));
        index.save(&path).unwrap();
        assert_eq!(Index::load(&path).unwrap(), index);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        index.version = 2;
        index.save(&path).unwrap();
        let error = Index::load(&path).unwrap_err().to_string();
        assert!(error.contains("format version 2"), "{error}");
        fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            Index::load(&path),
            Err(WorkspaceError::Index { .. })
        ));
    }
}
