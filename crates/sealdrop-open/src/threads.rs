//! Threads: a source's submissions and follow-ups, which share the thread id
//! of their manifests' reply block, and the replies the newsroom sent in it.
//! Readable copies of sent replies are kept in the workspace (the folder
//! `decrypt -o` writes into) under `threads/<thread>/`; `decrypt` writes a
//! `thread.txt` beside them that lists the whole conversation in order.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::ToolError;
use sealdrop_format::fsutil::{create_new_private_file, create_private_dir_all};
use sealdrop_format::reply::ThreadId;
use sealdrop_format::seal::manifest::{MANIFEST_PATH, MAX_MANIFEST_BYTES};
use sealdrop_format::seal::Manifest;
use sealdrop_format::terminal::display_safe;

/// The folder of a workspace that holds the threads.
pub const THREADS_DIR: &str = "threads";
/// The summary `decrypt` writes in each thread's folder.
pub(crate) const THREAD_SUMMARY: &str = "thread.txt";
/// First line of a readable copy of a sent reply.
const COPY_MAGIC: &str = "sealdrop reply (readable copy; it never leaves this machine)";

/// A thread's folder in a workspace.
pub fn thread_dir(workspace: &Path, thread: &ThreadId) -> PathBuf {
    workspace.join(THREADS_DIR).join(thread.to_string())
}

/// One event in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A submission (or follow-up) from the source, opened into `folder`.
    Received {
        id: String,
        at: String,
        summary: String,
    },
    /// A reply the newsroom sealed.
    Sent {
        at: String,
        file: String,
        preview: String,
        /// The whole text sent, as the readable copy keeps it.
        text: String,
    },
}

impl Event {
    fn at(&self) -> &str {
        match self {
            Event::Received { at, .. } | Event::Sent { at, .. } => at,
        }
    }
}

/// What a readable copy of a sent reply records.
pub(crate) struct SentCopy<'a> {
    pub thread: ThreadId,
    pub sent: &'a str,
    pub submission: &'a str,
    pub sealed_file: &'a str,
    pub text: &'a str,
}

/// Keeps a readable copy of a sent reply in the thread's folder; returns its path.
pub(crate) fn keep_copy(workspace: &Path, copy: &SentCopy) -> Result<PathBuf, ToolError> {
    let dir = thread_dir(workspace, &copy.thread);
    create_private_dir_all(&dir).map_err(ToolError::io(&dir))?;
    let stamp: String = copy.sent.chars().filter(char::is_ascii_digit).collect();
    let path = dir.join(format!(
        "{stamp}-reply-{}.txt",
        sealdrop_format::id::random_hex(4)
    ));
    let body = format!(
        "{COPY_MAGIC}\nthread: {}\nsent: {}\nin answer to: {}\nsealed file: {}\n\n{}\n",
        copy.thread, copy.sent, copy.submission, copy.sealed_file, copy.text
    );
    use std::io::Write;
    let mut file = create_new_private_file(&path).map_err(ToolError::io(&path))?;
    file.write_all(body.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(ToolError::io(&path))?;
    Ok(path)
}

/// The replies sent in `thread`, as its folder in `workspace` records them
/// (unordered).
pub fn replies_sent(workspace: &Path, thread: &ThreadId) -> Vec<Event> {
    sent_replies(&thread_dir(workspace, thread))
}

/// The sent replies recorded in a thread's folder.
fn sent_replies(dir: &Path) -> Vec<Event> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for path in entries.flatten().map(|e| e.path()) {
        let is_copy = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("-reply-"));
        if !is_copy {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let mut lines = text.lines();
        if lines.next() != Some(COPY_MAGIC) {
            continue;
        }
        let (mut at, mut file) = (String::new(), String::new());
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("sent: ") {
                at = v.to_owned();
            } else if let Some(v) = line.strip_prefix("sealed file: ") {
                file = v.to_owned();
            }
        }
        let body: Vec<&str> = lines.collect();
        let text = body.join("\n");
        events.push(Event::Sent {
            at,
            file,
            preview: preview(&body.join(" ")),
            text: text.strip_suffix('\n').unwrap_or(&text).to_owned(),
        });
    }
    events
}

fn preview(text: &str) -> String {
    let flat = display_safe(text.trim());
    let mut out: String = flat.chars().take(60).collect();
    if flat.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// The manifest `decrypt` wrote into an opened submission's folder.
pub fn opened_manifest(folder: &Path) -> Option<Manifest> {
    let file = fs::File::open(folder.join(MANIFEST_PATH)).ok()?;
    let mut json = Vec::new();
    file.take(MAX_MANIFEST_BYTES).read_to_end(&mut json).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The thread id of a manifest's reply block, if it has a valid one.
pub fn thread_of(manifest: &Manifest) -> Option<ThreadId> {
    manifest.reply.as_ref()?.thread.parse().ok()
}

fn received_summary(manifest: &Manifest) -> String {
    let files = manifest.attachments().count();
    format!(
        "{} file(s){}",
        files,
        if manifest.message().is_some() {
            " and a message"
        } else {
            ""
        }
    )
}

/// A thread's events in a workspace, in time order: every opened
/// submission of the thread and every reply sent in it.
pub fn events(workspace: &Path, thread: &ThreadId) -> Vec<Event> {
    let mut events = Vec::new();
    if let Ok(entries) = fs::read_dir(workspace) {
        for entry in entries.flatten() {
            let folder = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == THREADS_DIR || name.starts_with('.') || !folder.is_dir() {
                continue;
            }
            if let Some(manifest) = opened_manifest(&folder) {
                if thread_of(&manifest).as_ref() == Some(thread) {
                    events.push(Event::Received {
                        id: name,
                        at: manifest.received.clone(),
                        summary: received_summary(&manifest),
                    });
                }
            }
        }
    }
    events.extend(sent_replies(&thread_dir(workspace, thread)));
    // Same instant: what came in before what went out (received times are
    // rounded down).
    events.sort_by(|a, b| {
        a.at()
            .cmp(b.at())
            .then_with(|| matches!(a, Event::Sent { .. }).cmp(&matches!(b, Event::Sent { .. })))
    });
    events
}

/// One event as a line of text.
pub(crate) fn format_event(event: &Event) -> String {
    match event {
        Event::Received { id, at, summary } => format!(
            "  {:<22} received   {}  ({summary})\n",
            display_safe(at),
            display_safe(id)
        ),
        Event::Sent {
            at, file, preview, ..
        } => format!(
            "  {:<22} reply sent {}  \"{preview}\"\n",
            display_safe(at),
            display_safe(file)
        ),
    }
}

/// A thread as lines of text.
pub fn format_thread(thread: &ThreadId, events: &[Event]) -> String {
    let mut out = format!("thread {thread}\n");
    for event in events {
        out.push_str(&format_event(event));
    }
    out
}

/// Writes (or rewrites) a thread's `thread.txt` in the workspace.
pub fn write_summary(workspace: &Path, thread: &ThreadId, text: &str) -> Result<(), ToolError> {
    let dir = thread_dir(workspace, thread);
    create_private_dir_all(&dir).map_err(ToolError::io(&dir))?;
    let path = dir.join(THREAD_SUMMARY);
    let staging = dir.join(format!(
        ".{THREAD_SUMMARY}.{}",
        sealdrop_format::id::random_hex(4)
    ));
    use std::io::Write;
    let mut file = create_new_private_file(&staging).map_err(ToolError::io(&staging))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(ToolError::io(&staging))?;
    fs::rename(&staging, &path).map_err(ToolError::io(&path))
}
