//! Importing a folder of sealed files (the USB stick) into the workspace,
//! one submission after another, in the order the bytes go: the sealed
//! file is copied off the stick once (everything after reads the copy, so
//! a stick cannot show the decryption one file and the archive another);
//! the copy is decrypted here (the keys never leave this process) and its
//! archive read in the sandbox helper (`sealdrop_open::shared::extract`,
//! the code of `decrypt`), into a staging folder; each attachment is
//! inspected and cleaned in the sandbox; the decrypted originals are then
//! removed and the sealed copy kept in their place; the folder gets its
//! name last, so that a submission in the workspace is always complete.
//! Only files named as the server names submissions (`<32 hex>.age`) are
//! taken: a file called `outbox.age` or `threads.age` could otherwise take
//! the place of a folder the workspace keeps for itself.
//!
//! Runs on a worker thread and never touches the index: each submission's
//! record goes back to the window as an event, and the window, the index's
//! one writer, merges it.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use super::{
    io_error, AttachmentRecord, SubmissionRecord, WorkspaceError, IMPORTING_DIR, INBOX_DIR,
    SEALED_DIR,
};
use sealdrop_format::fsutil::{
    create_new_private_file, create_private_dir_all, rename_no_replace, sha256_file, sync_dir,
};
use sealdrop_format::id::SubmissionId;
use sealdrop_format::keys::Identities;
use sealdrop_format::seal::manifest::{ATTACHMENTS_DIR, UNKNOWN_PARTS_DIR};
use sealdrop_format::seal::{Manifest, PartKind};
use sealdrop_open::shared::{self as open, Cleaning, Outcome};

/// How far an import has come, in bytes of sealed files read: an
/// invisible progress bar the worker moves and the window reads.
pub type Progress = ProgressBar;

/// A submission as import left it: its record, how many of its
/// attachments could not be cleaned, and their words for search by part.
type Imported = (SubmissionRecord, usize, Vec<(usize, String)>);

/// What happened, file by file.
#[derive(Debug)]
pub enum ImportEvent {
    /// The sealed files found, and their size in all.
    Found { files: usize, bytes: u64 },
    /// A submission imported, with its record for the index.
    Imported {
        id: String,
        record: Box<SubmissionRecord>,
        /// The words of its attachments for search, by part, read in the
        /// sandbox here so that the window only indexes them.
        words: Vec<(usize, String)>,
    },
    /// Already in the workspace.
    Skipped { id: String },
    /// A file that could not be imported, and why (the rest go on).
    Failed { name: String, reason: String },
}

/// What an import did in all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Attachments that could not be cleaned.
    pub not_cleaned: usize,
}

/// Imports every `*.age` file directly in `folder` into the workspace at
/// `root`; `known` are skipped: the ids the index has, and those the editor
/// deleted (which importing the same stick again must not bring back).
/// `keys_still_held` is
/// asked before each file: once the editor (or the idle time, or the
/// screen lock) has forgotten the keys, the import stops there.
pub fn import_folder(
    root: &Path,
    folder: &Path,
    identities: &Identities,
    known: &BTreeSet<String>,
    progress: &Progress,
    keys_still_held: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(ImportEvent),
) -> ImportSummary {
    let mut summary = ImportSummary::default();
    let (inputs, errors) = open::collect(&[folder.to_owned()]);
    for error in errors {
        summary.failed += 1;
        on_event(ImportEvent::Failed {
            name: folder.display().to_string(),
            reason: error.to_string(),
        });
    }
    let total: u64 = inputs.iter().map(|i| i.len).sum();
    progress.set_length(total);
    progress.set_position(0);
    on_event(ImportEvent::Found {
        files: inputs.len(),
        bytes: total,
    });
    let mut touched = BTreeSet::new();
    let mut base = 0;
    for (n, input) in inputs.iter().enumerate() {
        if !keys_still_held() {
            summary.failed += inputs.len() - n;
            on_event(ImportEvent::Failed {
                name: format!("{} file(s)", inputs.len() - n),
                reason: "the keys were forgotten, so the import stopped; import again".into(),
            });
            break;
        }
        if known.contains(&input.id) {
            summary.skipped += 1;
            on_event(ImportEvent::Skipped {
                id: input.id.clone(),
            });
        } else {
            match import_one(root, input, identities, progress, base) {
                Ok((record, not_cleaned, words)) => {
                    summary.imported += 1;
                    summary.not_cleaned += not_cleaned;
                    if let Some(thread) = &record.thread {
                        touched.insert(thread.clone());
                    }
                    on_event(ImportEvent::Imported {
                        id: input.id.clone(),
                        record: Box::new(record),
                        words,
                    });
                }
                Err(e) => {
                    summary.failed += 1;
                    on_event(ImportEvent::Failed {
                        name: input
                            .path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        base += input.len;
        progress.set_position(base);
    }
    // The threads' summaries `decrypt` keeps (thread.txt), for the
    // command line's sake.
    for thread in touched {
        if let Ok(thread) = thread.parse() {
            let text = open::format_thread(&thread, &open::events(root, &thread));
            let _ = open::write_summary(root, &thread, &text);
        }
    }
    summary
}

fn import_one(
    root: &Path,
    input: &open::Input,
    identities: &Identities,
    progress: &Progress,
    base: u64,
) -> Result<Imported, WorkspaceError> {
    let id = SubmissionId::parse(&input.id).ok_or_else(|| {
        WorkspaceError::Refused(format!(
            "{} is not named as sealdrop names submissions (32 hexadecimal digits, then \
             .age); give it back the name it had on the server",
            input.path.display()
        ))
    })?;
    let id = id.as_str();
    let importing = root.join(INBOX_DIR).join(IMPORTING_DIR);
    create_private_dir_all(&importing).map_err(io_error(&importing))?;
    let incoming = importing.join(format!("{id}.age"));
    let opened = importing.join("opened");
    create_private_dir_all(&opened).map_err(io_error(&opened))?;
    for leftover in [incoming.clone(), opened.join(id)] {
        // An import stopped halfway: never trusted, done again.
        remove_any(&leftover)?;
    }
    copy_new(&input.path, &incoming)?;
    let copy = open::Input {
        path: incoming.clone(),
        id: id.to_owned(),
        len: input.len,
    };
    let result = match open::extract(&copy, identities, &opened, progress, base) {
        Ok(Outcome::Opened { dir, manifest }) => {
            let finished = finish(root, id, &incoming, &dir, &manifest);
            if finished.is_err() {
                let _ = fs::remove_dir_all(&dir);
            }
            finished
        }
        Ok(Outcome::AlreadyOpen { dir }) => Err(WorkspaceError::Refused(format!(
            "{} is in the way; remove it and import again",
            dir.display()
        ))),
        Err(e) => Err(e.into()),
    };
    let _ = remove_any(&incoming);
    result
}

/// Removes a file or a folder, if there is one.
fn remove_any(path: &Path) -> Result<(), WorkspaceError> {
    match path.symlink_metadata() {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path).map_err(io_error(path)),
        Ok(_) => fs::remove_file(path).map_err(io_error(path)),
        Err(_) => Ok(()),
    }
}

/// Inspects and cleans each attachment, keeps the sealed copy in place of
/// the decrypted originals, and gives the folder its name (taking the place
/// of a folder of the same id the index does not know: an import cut short
/// before the window recorded it, or `sealdrop-open decrypt` into the
/// workspace).
fn finish(
    root: &Path,
    id: &str,
    incoming: &Path,
    dir: &Path,
    manifest: &Manifest,
) -> Result<Imported, WorkspaceError> {
    let mut attachments = Vec::new();
    let mut words = Vec::new();
    let mut not_cleaned = 0;
    for (part_index, part) in manifest.parts.iter().enumerate() {
        if part.kind != PartKind::Attachment {
            continue;
        }
        let original = dir.join(part.output_path());
        let name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let report = open::inspect_file(&original, part.original_name.as_deref().unwrap_or(&name))?;
        let destination = open::cleaned_copy_of(dir, &original);
        let (cleaned, reason, removed) = match open::clean_into(&original, &destination)? {
            Cleaning::Cleaned { removed, .. } => {
                (Some(format!("{}/{name}", open::CLEANED_DIR)), None, removed)
            }
            Cleaning::NotCleaned(reason) => {
                not_cleaned += 1;
                (None, Some(reason.0), Vec::new())
            }
        };
        let mut record = AttachmentRecord {
            part: part_index,
            name,
            original_name: part.original_name.clone(),
            size: part.size,
            sha256: part.sha256.clone(),
            report,
            cleaned,
            not_cleaned: reason,
            removed,
            searched: false,
            not_searched: Vec::new(),
        };
        match super::read_words(dir, &record) {
            Some(Ok(found)) => {
                record.searched = true;
                record.not_searched = found.missed;
                words.push((part_index, found.text));
            }
            Some(Err(reason)) => record.not_searched = vec![reason],
            None => {}
        }
        attachments.push(record);
    }
    // The sealed copy first, then the decrypted originals go: at every
    // moment one of the two exists.
    let sealed_dir = root.join(INBOX_DIR).join(SEALED_DIR);
    create_private_dir_all(&sealed_dir).map_err(io_error(&sealed_dir))?;
    let sealed = sealed_dir.join(format!("{id}.age"));
    if sealed.symlink_metadata().is_ok() {
        // Kept by an import cut short after this point: the same file, or
        // refused (another file under the same id).
        let same = sha256_file(&sealed).map_err(io_error(&sealed))?
            == sha256_file(incoming).map_err(io_error(incoming))?;
        if !same {
            return Err(WorkspaceError::Refused(format!(
                "another sealed file with the id {id} is kept already ({}); this one is not \
                 imported",
                sealed.display()
            )));
        }
    } else {
        fs::hard_link(incoming, &sealed)
            .or_else(|_| fs::copy(incoming, &sealed).map(drop))
            .map_err(io_error(&sealed))?;
        sync_dir(&sealed_dir).map_err(io_error(&sealed_dir))?;
    }
    for originals in [ATTACHMENTS_DIR, UNKNOWN_PARTS_DIR] {
        remove_any(&dir.join(originals))?;
    }
    let place = root.join(id);
    if place.symlink_metadata().is_ok() {
        let aside = root
            .join(INBOX_DIR)
            .join(IMPORTING_DIR)
            .join(format!("{id}.replaced"));
        remove_any(&aside)?;
        fs::rename(&place, &aside).map_err(io_error(&place))?;
        rename_no_replace(dir, &place).map_err(io_error(&place))?;
        remove_any(&aside)?;
    } else {
        rename_no_replace(dir, &place).map_err(io_error(&place))?;
    }
    sync_dir(root).map_err(io_error(root))?;
    let block = manifest.reply.as_ref();
    let preview = manifest
        .message()
        .and_then(|part| fs::read(place.join(part.output_path())).ok())
        .map(|bytes| crate::text::preview(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default();
    Ok((
        SubmissionRecord {
            thread: open::thread_of(manifest).map(|t| t.to_string()),
            desk: manifest.desk.clone(),
            received: manifest.received.clone(),
            has_message: manifest.message().is_some(),
            preview,
            // Answerable only with a valid thread and the replies' tag key
            // (submissions from before reply files version 2 have none).
            can_reply: open::thread_of(manifest).is_some()
                && block.is_some_and(|b| b.tag_key.is_some()),
            attachments,
            seen: false,
        },
        not_cleaned,
        words,
    ))
}

/// Copies `from` into the new file `to` (never replacing), synced.
fn copy_new(from: &Path, to: &Path) -> Result<(), WorkspaceError> {
    let mut source = fs::File::open(from).map_err(io_error(from))?;
    let mut out = create_new_private_file(to).map_err(io_error(to))?;
    std::io::copy(&mut source, &mut out)
        .and_then(|_| out.flush())
        .and_then(|()| out.sync_all())
        .map_err(io_error(to))?;
    Ok(())
}

/// Decrypts a submission's sealed original again and writes attachment
/// `part` into the new file `destination`: only when the editor asks, for
/// one file, through the same verified path as the import.
pub fn save_original(
    root: &Path,
    id: &str,
    part: usize,
    identities: &Identities,
    destination: &Path,
) -> Result<(), WorkspaceError> {
    let sealed = root
        .join(INBOX_DIR)
        .join(SEALED_DIR)
        .join(format!("{id}.age"));
    let len = fs::metadata(&sealed).map_err(io_error(&sealed))?.len();
    let scratch = root
        .join(INBOX_DIR)
        .join(IMPORTING_DIR)
        .join(format!("original-{}", sealdrop_format::id::random_hex(8)));
    create_private_dir_all(&scratch).map_err(io_error(&scratch))?;
    let input = open::Input {
        path: sealed.clone(),
        id: id.to_owned(),
        len,
    };
    let result = (|| {
        let Outcome::Opened { dir, manifest } =
            open::extract(&input, identities, &scratch, &ProgressBar::hidden(), 0)?
        else {
            return Err(WorkspaceError::Refused("opened twice".into()));
        };
        let wanted = manifest
            .parts
            .get(part)
            .filter(|p| p.kind == PartKind::Attachment)
            .ok_or_else(|| WorkspaceError::Refused(format!("{id} has no attachment {part}")))?;
        copy_new_strict(&dir.join(wanted.output_path()), destination)
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn copy_new_strict(from: &Path, to: &Path) -> Result<(), WorkspaceError> {
    let mut source = fs::File::open(from).map_err(io_error(from))?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io_error(to))?;
    std::io::copy(&mut source, &mut out)
        .and_then(|_| out.sync_all())
        .map_err(io_error(to))?;
    Ok(())
}

/// Where [`save_original`] and the cleaned copies are offered to go by
/// default: the editor's own folder, never the workspace.
pub fn default_save_folder() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}
