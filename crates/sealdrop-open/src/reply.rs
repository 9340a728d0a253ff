//! `sealdrop-open reply`: answers a source, on the air-gapped machine. The
//! reply is sealed only to the reply recipient her submission's manifest
//! names, padded to the one size every reply file has, and written into
//! OUTDIR for `sealdrop push-replies`. A readable copy stays in the
//! workspace, in the thread's folder.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::threads::{keep_copy, SentCopy};
use super::ToolError;
use sealdrop_format::fsutil::{create_new_private_file, create_private_dir_all, sync_dir};
use sealdrop_format::keys::Identities;
use sealdrop_format::reply::file::{ReplyError, MAX_REPLY_BYTES};
use sealdrop_format::reply::ThreadId;
use sealdrop_format::seal::Manifest;
use sealdrop_scrub::sandbox::{ArchiveSink, Deliver};

use super::extract::{read_sealed, Sealed};

pub(crate) struct ReplyRequest<'a> {
    /// A sealed `.age` file, or a folder `decrypt` wrote.
    pub to: &'a Path,
    pub message: &'a Path,
    pub output: &'a Path,
    /// Where the readable copy goes (the folder `decrypt -o` writes into);
    /// by default, the folder that holds `to` when `to` is a folder.
    pub workspace: Option<&'a Path>,
}

/// What was written.
pub struct Written {
    pub sealed: PathBuf,
    pub copy: PathBuf,
    pub thread: ThreadId,
    pub text_bytes: usize,
}

/// The manifest of the submission being answered, and its id.
fn manifest_of(
    to: &Path,
    identities: impl FnOnce() -> Result<Identities, ToolError>,
) -> Result<(Manifest, String), ToolError> {
    let id = to
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if to.is_dir() {
        let manifest = super::threads::opened_manifest(to).ok_or_else(|| {
            ToolError::Usage(format!(
                "{} holds no readable manifest.json: give a folder that `sealdrop-open decrypt` \
                 wrote, or the sealed .age file",
                to.display()
            ))
        })?;
        return Ok((manifest, id));
    }
    let identities = identities()?;
    let file = File::open(to).map_err(ToolError::io(to))?;
    // Only the manifest comes back from the sandbox that reads the archive.
    let manifest = read_sealed(
        to,
        BufReader::new(file),
        &identities,
        Deliver::Manifest,
        &mut NothingButTheManifest,
    )
    .map_err(|e| match e {
        Sealed::Tool(e) => e,
        Sealed::Writing(e) => ToolError::io(to)(e),
    })?;
    Ok((manifest, id))
}

fn read_message(path: &Path) -> Result<String, ToolError> {
    let file = File::open(path).map_err(ToolError::io(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_REPLY_BYTES as u64 * 4 + 1)
        .read_to_end(&mut bytes)
        .map_err(ToolError::io(path))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ToolError::Usage(format!(
            "{} is not UTF-8 text; save the reply as plain UTF-8 text",
            path.display()
        ))
    })?;
    // A text editor's final newline is not part of what the source reads.
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

pub(crate) fn reply(
    request: &ReplyRequest,
    identities: impl FnOnce() -> Result<Identities, ToolError>,
) -> Result<Written, ToolError> {
    let (manifest, submission) = manifest_of(request.to, identities)?;
    let workspace = match (request.workspace, request.to.is_dir()) {
        (Some(w), _) => w.to_owned(),
        (None, true) => request
            .to
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_owned),
        (None, false) => {
            return Err(ToolError::Usage(
                "--workspace DIR is needed when --to is a sealed .age file: the folder you open \
                 submissions into (`decrypt -o DIR`), where the readable copy of this reply is kept"
                    .into(),
            ))
        }
    };
    let text = read_message(request.message)?;
    seal_reply(
        &Answering {
            manifest: &manifest,
            submission: &submission,
            named: request.to,
        },
        &text,
        request.output,
        &workspace,
    )
    .map_err(|e| match e {
        ReplyFailure::Text(e) => ToolError::Usage(format!("{}: {e}", request.message.display())),
        ReplyFailure::Tool(e) => e,
    })
}

/// The submission a reply answers: its manifest (read back from the folder
/// `decrypt` wrote, or from the sealed file), its id, and the path that
/// names it in messages.
pub struct Answering<'a> {
    pub manifest: &'a Manifest,
    pub submission: &'a str,
    pub named: &'a Path,
}

/// Why [`seal_reply`] wrote nothing: the text (too long, not shown to the
/// source as it is), or anything else.
#[derive(Debug, thiserror::Error)]
pub enum ReplyFailure {
    #[error("{0}")]
    Text(ReplyError),
    #[error(transparent)]
    Tool(#[from] ToolError),
}

/// Seals `text` as a reply to the source of `to`, into a new file of
/// `output` (the outbox `sealdrop push-replies` reads), and keeps its
/// readable copy in the thread's folder of `workspace`.
pub fn seal_reply(
    to: &Answering,
    text: &str,
    output: &Path,
    workspace: &Path,
) -> Result<Written, ReplyFailure> {
    let block = to.manifest.reply.as_ref().ok_or_else(|| {
        ToolError::Usage(format!(
            "{} came without a reply channel (it was sent while the server had --replies false, \
             or by an older sealdrop): there is no way to answer this source",
            to.named.display()
        ))
    })?;
    let thread: ThreadId = block.thread.parse().map_err(ToolError::Usage)?;
    let desk = to.manifest.desk.as_deref();
    let now = time::OffsetDateTime::now_utc();
    let sealed =
        sealdrop_format::reply::file::seal(block, desk, now, text).map_err(|e| match e {
            ReplyError::NoTagKey => {
                ReplyFailure::Tool(ToolError::Usage(format!("{}: {e}", to.named.display())))
            }
            e => ReplyFailure::Text(e),
        })?;

    create_private_dir_all(output).map_err(ToolError::io(output))?;
    let name = format!("{}.age", sealdrop_format::id::random_hex(16));
    let sealed_path = output.join(&name);
    let mut out = create_new_private_file(&sealed_path).map_err(ToolError::io(&sealed_path))?;
    out.write_all(&sealed)
        .and_then(|()| out.sync_all())
        .map_err(ToolError::io(&sealed_path))?;
    sync_dir(output).map_err(ToolError::io(output))?;

    let sent = now
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let copy = keep_copy(
        workspace,
        &SentCopy {
            thread,
            sent: &sent,
            submission: to.submission,
            sealed_file: &name,
            text,
        },
    )
    .inspect_err(|_| {
        // Without its copy, the editor would not know what was sent.
        let _ = fs::remove_file(&sealed_path);
    })?;
    Ok(Written {
        sealed: sealed_path,
        copy,
        thread,
        text_bytes: text.len(),
    })
}

/// `reply` asks the sandbox for the manifest alone.
struct NothingButTheManifest;

impl ArchiveSink for NothingButTheManifest {
    fn manifest(&mut self, _: &Manifest) -> std::io::Result<()> {
        Ok(())
    }

    fn part(&mut self, _: usize, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("no part was asked for"))
    }

    fn part_end(&mut self, _: usize) -> std::io::Result<()> {
        Err(std::io::Error::other("no part was asked for"))
    }

    fn part_discard(&mut self, _: usize) -> std::io::Result<()> {
        Err(std::io::Error::other("no part was asked for"))
    }
}
