//! Runs on the air-gapped laptop: what leaves the workspace on purpose.
//! A conversation as text (the transcript, which printing lays out too),
//! and an export of it with the cleaned files the editor chose: a ZIP
//! sealed with age to the recipients she names, or written plainly onto a
//! folder of an unlocked LUKS volume (the encrypted USB sticks Tails
//! makes), which is checked, not assumed. Originals never leave this way:
//! only cleaned copies ("Save original" is its own warning). No GTK here.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::i18n::Words;
use crate::text::{moment, visible};
use crate::workspace::{
    conversation, io_error, short_name, AttachmentRecord, Item, ReplyState, Workspace,
    WorkspaceError,
};
use sealdrop_format::keys::Recipients;
use sealdrop_format::terminal::human_size;
use sealdrop_scrub::Category;

/// The most of one message the transcript holds (as the window shows).
const MAX_MESSAGE_BYTES: u64 = 4 << 20;

fn category_word(words: &Words, category: Category) -> String {
    words.get(match category {
        Category::Location => "category-location",
        Category::Device => "category-device",
        Category::People => "category-people",
        Category::Times => "category-times",
        Category::History => "category-history",
        Category::Hidden => "category-hidden",
        Category::Active => "category-active",
    })
}

/// Whether the findings' values are said, or only what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// On this machine's screen: "GPS position: 36.2 N, 37.1 E".
    Shown,
    /// In whatever leaves it (an export, a PDF, paper): "GPS position".
    /// The values are what cleaning removed because they identify the
    /// source; a transcript must not carry them out again.
    Withheld,
}

/// What `inspect` found, in plain words, one line each.
pub fn findings_lines(words: &Words, attachment: &AttachmentRecord, values: Values) -> Vec<String> {
    let report = &attachment.report;
    let visible = crate::text::visible;
    let mut lines = vec![words.format("file-kind", &[("kind", report.kind.describe())])];
    if let Some(claimed) = report.name_claims {
        lines.push(words.format(
            "name-claims",
            &[
                ("claimed", claimed.describe()),
                ("kind", report.kind.describe()),
            ],
        ));
    }
    for category in Category::ALL {
        let found: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .map(|f| match values {
                Values::Shown => format!("{}: {}", visible(&f.what), visible(&f.value)),
                Values::Withheld => visible(&f.what),
            })
            .collect();
        if !found.is_empty() {
            lines.push(format!(
                "{}: {}",
                category_word(words, category),
                found.join("; ")
            ));
        }
    }
    if !report.unchecked.is_empty() {
        let unchecked: Vec<String> = report.unchecked.iter().map(|u| visible(u)).collect();
        lines.push(format!(
            "{}: {}",
            words.get("not-checked"),
            unchecked.join("; ")
        ));
    }
    if report.findings.is_empty() && report.unchecked.is_empty() {
        lines.push(words.get("nothing-found"));
    }
    if !attachment.not_searched.is_empty() {
        lines.push(words.format(
            "not-searched",
            &[("what", &visible(&attachment.not_searched.join("; ")))],
        ));
    }
    lines.push(match (&attachment.cleaned, &attachment.not_cleaned) {
        (Some(_), _) if attachment.removed.is_empty() => words.get("cleaned"),
        (Some(_), _) => words.format(
            "cleaned-removed",
            &[("removed", &visible(&attachment.removed.join("; ")))],
        ),
        (None, reason) => words.format(
            "not-cleaned",
            &[("reason", &visible(reason.as_deref().unwrap_or("")))],
        ),
    });
    lines
}

/// The source's name in the transcript and the export's file name.
fn source_name(words: &Words, key: &str) -> String {
    words.format("source-name", &[("name", &short_name(key))])
}

/// Thread `key`'s conversation as text, oldest first: each submission with
/// its message and its files (what `inspect` found, named without its
/// values, and whether it was cleaned), each reply sent with its state; in
/// the window's language.
/// Strangers' text is made visible (control and direction-override
/// characters shown as `�`), as the window shows it.
pub fn transcript(workspace: &Workspace, key: &str, outbox: &Path, words: &Words) -> String {
    let mut out = String::new();
    out.push_str(&source_name(words, key));
    out.push_str("\n\n");
    for item in conversation(&workspace.index, workspace.root(), key, outbox) {
        match item {
            Item::NewSinceLastTime => continue,
            Item::Received { id, record } => {
                let mut heading = words.format("received", &[("time", &moment(&record.received))]);
                if let Some(desk) = &record.desk {
                    heading = format!(
                        "{heading} · {}",
                        words.format("desk", &[("desk", &visible(desk))])
                    );
                }
                out.push_str(&heading);
                out.push('\n');
                let message = record
                    .has_message
                    .then(|| {
                        let path = workspace
                            .submission_dir(&id)
                            .join(sealdrop_format::seal::manifest::MESSAGE_PATH);
                        let mut bytes = Vec::new();
                        std::fs::File::open(path)
                            .and_then(|f| f.take(MAX_MESSAGE_BYTES).read_to_end(&mut bytes))
                            .ok()?;
                        Some(String::from_utf8_lossy(&bytes).into_owned())
                    })
                    .flatten();
                match message {
                    Some(text) => out.push_str(&visible(&text)),
                    None => out.push_str(&words.get("message-none")),
                }
                out.push('\n');
                for attachment in &record.attachments {
                    out.push_str(&words.format(
                        "file-line",
                        &[
                            ("name", &visible(&attachment.name)),
                            ("size", &human_size(attachment.size)),
                        ],
                    ));
                    out.push('\n');
                    for line in findings_lines(words, attachment, Values::Withheld) {
                        out.push_str("    ");
                        out.push_str(&line);
                        out.push('\n');
                    }
                }
            }
            Item::Sent {
                at, text, state, ..
            } => {
                let state = words.get(match state {
                    ReplyState::Written => "reply-written",
                    ReplyState::Pushed => "reply-pushed",
                    ReplyState::Refused => "reply-refused",
                    ReplyState::NotInOutbox => "reply-missing",
                });
                out.push_str(&format!(
                    "{} · {state}\n",
                    words.format("reply-sent", &[("time", &moment(&at))])
                ));
                out.push_str(&visible(&text));
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

/// Where an export goes.
pub enum Destination {
    /// A ZIP sealed with age to these recipients (`.zip.age`).
    Sealed(Recipients),
    /// A plain ZIP on a folder of an unlocked LUKS volume (`.zip`).
    LuksVolume,
}

/// What an export holds: the transcript, and the cleaned copies of the
/// attachments chosen (submission id and part).
pub struct Export {
    pub transcript: Option<String>,
    pub files: Vec<(String, usize)>,
}

/// Writes `export` of thread `key` into `folder` as `destination` says,
/// as `sealdrop-export-<source>.zip[.age]` (see [`write_out`]); returns
/// its path.
pub fn write_export(
    workspace: &Workspace,
    key: &str,
    export: &Export,
    folder: &Path,
    destination: &Destination,
) -> Result<PathBuf, WorkspaceError> {
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for (id, part) in &export.files {
        let attachment: &AttachmentRecord = workspace
            .index
            .submissions
            .get(id)
            .and_then(|record| record.attachments.iter().find(|a| a.part == *part))
            .ok_or_else(|| WorkspaceError::Refused(format!("no file {part} in submission {id}")))?;
        let path = attachment
            .cleaned_path(&workspace.submission_dir(id))
            .ok_or_else(|| {
                WorkspaceError::Refused(format!(
                    "{} has no cleaned copy: only cleaned copies are exported",
                    attachment.name
                ))
            })?;
        // The part number first: two files of one name stay two.
        entries.push((format!("files/{part}-{}", attachment.name), path));
    }
    write_out(
        folder,
        &stem("sealdrop-export", key),
        ".zip",
        destination,
        |out| write_zip(out, export.transcript.as_deref(), &entries),
    )
}

/// Writes the PDF of thread `key`'s conversation into `folder` as
/// `destination` says, as `sealdrop-conversation-<source>.pdf[.age]`.
pub fn write_pdf(
    key: &str,
    pdf: &[u8],
    folder: &Path,
    destination: &Destination,
) -> Result<PathBuf, WorkspaceError> {
    write_out(
        folder,
        &stem("sealdrop-conversation", key),
        ".pdf",
        destination,
        |out| out.write_all(pdf),
    )
}

/// `<what>-<source>`, in ASCII letters and digits only.
fn stem(what: &str, key: &str) -> String {
    format!(
        "{what}-{}",
        short_name(key).replace(|c: char| !c.is_ascii_alphanumeric(), "")
    )
}

/// Writes what `body` writes into a new file (0600, never replacing one)
/// in `folder`: sealed with age to the recipients (`.age` added), or plain
/// once the file itself is found on an unlocked LUKS volume (its device,
/// not the folder's name, whatever is mounted or linked where). A file cut
/// short or refused is removed.
fn write_out(
    folder: &Path,
    stem: &str,
    extension: &str,
    destination: &Destination,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf, WorkspaceError> {
    if !folder.is_absolute() {
        return Err(WorkspaceError::Refused(format!(
            "{}: give the folder as a full path, from / (for example /media/amnesia/…)",
            visible(&folder.display().to_string())
        )));
    }
    let suffix = match destination {
        Destination::Sealed(_) => format!("{extension}.age"),
        Destination::LuksVolume => extension.to_owned(),
    };
    let (path, file) = new_file(folder, stem, &suffix)?;
    let written = (|| -> Result<(), WorkspaceError> {
        let io = io_error(&path);
        match destination {
            Destination::Sealed(recipients) => {
                let encryptor = age::Encryptor::with_recipients(recipients.iter())
                    .map_err(|e| WorkspaceError::Refused(e.to_string()))?;
                let mut sealed = encryptor.wrap_output(&file).map_err(io_error(&path))?;
                body(&mut sealed).map_err(io_error(&path))?;
                sealed.finish().map_err(io_error(&path))?;
            }
            Destination::LuksVolume => {
                luks_file_check(&file, folder)?;
                body(&mut &file).map_err(io_error(&path))?;
            }
        }
        file.sync_all().map_err(io)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    sealdrop_format::fsutil::sync_dir(folder).map_err(io_error(folder))?;
    Ok(path)
}

/// A new file (0600) in `folder` named `stem` + `suffix`, or with `-2`,
/// `-3`… before the suffix when taken.
pub(crate) fn new_file(
    folder: &Path,
    stem: &str,
    suffix: &str,
) -> Result<(PathBuf, std::fs::File), WorkspaceError> {
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{stem}{suffix}")
        } else {
            format!("{stem}-{n}{suffix}")
        };
        let path = folder.join(name);
        match sealdrop_format::fsutil::create_new_private_file(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(WorkspaceError::Io { path, source: e }),
        }
    }
    Err(WorkspaceError::Refused(format!(
        "{} holds 999 exports of this source already; choose another folder",
        folder.display()
    )))
}

/// The ZIP of an export, streamed into `out`.
fn write_zip(
    out: &mut dyn Write,
    transcript: Option<&str>,
    files: &[(String, PathBuf)],
) -> std::io::Result<()> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o600)
        .large_file(true);
    let mut zip = zip::ZipWriter::new_stream(out);
    if let Some(text) = transcript {
        zip.start_file("conversation.txt", options)?;
        zip.write_all(text.as_bytes())?;
    }
    for (name, path) in files {
        zip.start_file(name.as_str(), options)?;
        let mut file = std::fs::File::open(path)?;
        std::io::copy(&mut file, &mut zip)?;
    }
    zip.finish()?;
    Ok(())
}

/// A mounted file system, as `/proc/self/mountinfo` gives it.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    /// The device's major:minor numbers.
    device: String,
    point: PathBuf,
    fstype: String,
    source: String,
}

/// The mounts of `mountinfo`'s text (mount points unescaped).
fn mounts(mountinfo: &str) -> Vec<Mount> {
    let unescape = |field: &str| -> String {
        let bytes = field.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let octal = bytes
                .get(i + 1..i + 4)
                .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
            match octal {
                Some(d) => {
                    out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                    i += 4;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let mut after = after.split(' ');
            Some(Mount {
                device: fields.get(2)?.to_string(),
                point: PathBuf::from(unescape(fields.get(4)?)),
                fstype: after.next()?.to_owned(),
                source: unescape(after.next()?),
            })
        })
        .collect()
}

/// The mount `path` is on: the last one (a later mount hides an earlier)
/// whose point is the longest prefix of it.
fn mount_of<'m>(mounts: &'m [Mount], path: &Path) -> Option<&'m Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.point))
        .max_by_key(|(n, m)| (m.point.components().count(), *n))
        .map(|(_, m)| m)
}

/// Whether block device `major:minor` is an open LUKS volume: a
/// device-mapper device whose UUID device-mapper gives as `CRYPT-LUKS…`
/// (what cryptsetup, udisks and Tails name them).
fn is_luks(sys: &Path, device: &str) -> bool {
    std::fs::read_to_string(sys.join("dev/block").join(device).join("dm/uuid"))
        .is_ok_and(|uuid| uuid.starts_with("CRYPT-LUKS"))
}

/// Refuses a file that is not on an unlocked LUKS volume (by its device,
/// as the kernel has it), saying what `folder` is on instead.
fn luks_file_check(file: &std::fs::File, folder: &Path) -> Result<(), WorkspaceError> {
    let stat = rustix::fs::fstat(file).map_err(|e| WorkspaceError::Io {
        path: folder.to_owned(),
        source: e.into(),
    })?;
    let device = format!(
        "{}:{}",
        rustix::fs::major(stat.st_dev),
        rustix::fs::minor(stat.st_dev)
    );
    if is_luks(Path::new("/sys"), &device) {
        return Ok(());
    }
    let on = std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|info| {
            let mounts = mounts(&info);
            let folder = folder.canonicalize().ok()?;
            mount_of(&mounts, &folder).map(|m| format!("{}, {}", m.source, m.fstype))
        })
        .unwrap_or_else(|| format!("device {device}"));
    Err(WorkspaceError::Refused(format!(
        "{} is not on an unlocked LUKS volume (it is on {}): unlock an encrypted USB stick \
         (in Tails: plug it in and unlock it in Files), choose a folder on it, or export an \
         encrypted archive instead",
        visible(&folder.display().to_string()),
        visible(&on)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_volume_of_a_folder_is_its_longest_mount_and_luks_is_read_from_device_mapper() {
        let info = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
                    40 22 0:35 / /tmp rw shared:2 - tmpfs tmpfs rw\n\
                    51 22 253:3 / /media/amnesia/My\\040Stick rw,nosuid shared:9 - ext4 /dev/mapper/luks-0a1b rw\n\
                    52 22 253:4 / /media/amnesia/My rw shared:10 - vfat /dev/sdb1 rw\n";
        let mounts = mounts(info);
        assert_eq!(mounts.len(), 4);
        let on = |path: &str| mount_of(&mounts, Path::new(path)).map(|m| m.device.as_str());
        assert_eq!(on("/media/amnesia/My Stick/exports"), Some("253:3"));
        assert_eq!(on("/media/amnesia/My/exports"), Some("253:4"));
        assert_eq!(on("/media/amnesia/My Stickers"), Some("254:1"));
        assert_eq!(on("/tmp/x"), Some("0:35"));
        let sys = tempfile::tempdir().unwrap();
        for (device, uuid) in [
            ("253:3", "CRYPT-LUKS2-0a1b-luks-0a1b\n"),
            ("253:4", "LVM-abc\n"),
        ] {
            let dir = sys.path().join("dev/block").join(device).join("dm");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("uuid"), uuid).unwrap();
        }
        assert!(is_luks(sys.path(), "253:3"));
        assert!(!is_luks(sys.path(), "253:4"));
        assert!(!is_luks(sys.path(), "254:1"));
        // A folder of this machine, against util-linux's answer (findmnt
        // for its device, lsblk for what that device is).
        let here = std::env::temp_dir();
        let findmnt = std::process::Command::new("findmnt")
            .args(["-n", "-o", "MAJ:MIN", "-T"])
            .arg(&here)
            .output()
            .unwrap();
        let device = String::from_utf8(findmnt.stdout).unwrap().trim().to_owned();
        let lsblk = std::process::Command::new("lsblk")
            .args(["-n", "-d", "-o", "TYPE"])
            .arg(format!("/dev/block/{device}"))
            .output()
            .unwrap();
        let crypt = String::from_utf8_lossy(&lsblk.stdout).trim() == "crypt";
        let probe = tempfile::NamedTempFile::new_in(&here).unwrap();
        match luks_file_check(probe.as_file(), &here) {
            Ok(()) => assert!(crypt, "{device} taken for a LUKS volume"),
            Err(e) => {
                assert!(!crypt, "{device}: {e}");
                assert!(
                    e.to_string().contains("is not on an unlocked LUKS volume"),
                    "{e}"
                );
            }
        }
    }
}
