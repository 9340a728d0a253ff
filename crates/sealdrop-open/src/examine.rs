//! `inspect` and `scrub` over the files and folders an editor names, and
//! the cleaned copies `decrypt --scrub` writes beside what it opened. The
//! formats themselves are in [`sealdrop_scrub`].

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{sandboxed, ToolError};
use sealdrop_format::fsutil::{create_new_private_file, create_private_dir_all};
use sealdrop_format::seal::names::sanitize_name;
use sealdrop_format::terminal::display_safe;
use sealdrop_scrub::{self as scrub, limits::MAX_FILE_BYTES, Category, NotCleaned, Report};

/// A file to look at, and the path under an output folder its cleaned copy
/// gets (its name for a file argument, its place inside a folder argument).
#[derive(Debug)]
pub(crate) struct Target {
    pub path: PathBuf,
    pub relative: PathBuf,
}

/// Files named directly, and every regular file inside named folders
/// (recursively, sorted; symbolic links are not followed).
pub(crate) fn targets(args: &[PathBuf]) -> (Vec<Target>, Vec<ToolError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        match fs::symlink_metadata(arg) {
            Ok(meta) if meta.is_dir() => walk(arg, Path::new(""), &mut found, &mut errors, 0),
            Ok(meta) if meta.is_file() => {
                let name = arg
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                found.push(Target {
                    path: arg.clone(),
                    relative: PathBuf::from(sanitize_name(&name)),
                });
            }
            Ok(_) => errors.push(ToolError::Usage(format!(
                "{}: not a regular file or folder (links are not followed)",
                arg.display()
            ))),
            Err(e) => errors.push(ToolError::Io {
                path: arg.clone(),
                source: e,
            }),
        }
    }
    (found, errors)
}

fn walk(
    dir: &Path,
    relative: &Path,
    found: &mut Vec<Target>,
    errors: &mut Vec<ToolError>,
    depth: usize,
) {
    if depth > 32 {
        errors.push(ToolError::Usage(format!(
            "{}: folders nested too deep",
            dir.display()
        )));
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(ToolError::Io {
                path: dir.to_owned(),
                source: e,
            });
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = sanitize_name(&entry.file_name().to_string_lossy());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, &relative.join(&name), found, errors, depth + 1);
        } else if kind.is_file() {
            found.push(Target {
                path,
                relative: relative.join(name),
            });
        }
    }
}

/// A file read whole, up to the cap that `scrub` enforces.
fn read_capped(path: &Path) -> Result<Vec<u8>, ToolError> {
    let file = fs::File::open(path).map_err(ToolError::io(path))?;
    let mut data = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(ToolError::io(path))?;
    Ok(data)
}

/// The report of one file, for people (`inspect` without `--json`).
pub(crate) fn format_report(name: &str, report: &Report) -> String {
    let mut out = format!("{}: {}\n", display_safe(name), report.kind.describe());
    if let Some(claimed) = report.name_claims {
        out.push_str(&format!(
            "  ! its name says {}, but its content is {}: open it as what it is\n",
            claimed.describe(),
            report.kind.describe()
        ));
    }
    for category in Category::ALL {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .collect();
        if findings.is_empty() {
            continue;
        }
        out.push_str(&format!("  {}\n", category.heading()));
        for finding in findings {
            out.push_str(&format!(
                "    {}: {}  [{}]\n",
                finding.what,
                display_safe(&finding.value),
                display_safe(&finding.place)
            ));
        }
    }
    if !report.unchecked.is_empty() {
        out.push_str("  Not checked\n");
        for what in &report.unchecked {
            out.push_str(&format!("    {}\n", display_safe(what)));
        }
    }
    if report.findings.is_empty() && report.unchecked.is_empty() {
        out.push_str(if report.kind == scrub::Kind::Text {
            "  plain text: nothing hides in it but what it says\n"
        } else {
            "  nothing found\n"
        });
    }
    out
}

/// The report on `data` (a file called `name`) from the sandbox, and
/// whether it could be read at all: a file too large, or one the sandbox
/// gave up on, gets a report that says so and that nothing was checked.
fn inspect_bytes(data: &[u8], name: &str) -> Result<(Report, bool), ToolError> {
    if data.len() as u64 > MAX_FILE_BYTES {
        let mut report = scrub::inspect(&[], name);
        report
            .unchecked
            .push(format!("larger than {MAX_FILE_BYTES} bytes: not read"));
        return Ok((report, true));
    }
    let sandbox = sandboxed::sandbox()?;
    let inspected = sandbox.inspect(data, name);
    sandboxed::tell_what_it_lacks(sandbox);
    Ok(match inspected {
        Ok(report) => (report, true),
        Err(e) => {
            // Nothing of the file is parsed here: an empty report that
            // says why, with what the name claims.
            let mut report = scrub::inspect(&[], name);
            report
                .unchecked
                .push(format!("not checked: {e}; treat the file as unchecked"));
            (report, false)
        }
    })
}

/// What `inspect` says of the file at `path`, shown as `name` (the name a
/// source gave it: what it claims to be is part of the report).
pub fn inspect_file(path: &Path, name: &str) -> Result<Report, ToolError> {
    let data = read_capped(path)?;
    Ok(inspect_bytes(&data, name)?.0)
}

/// `sealdrop-open inspect`: a report per file, or JSON for tools.
pub(crate) fn run_inspect(args: &[PathBuf], json: bool) -> Result<bool, ToolError> {
    let (targets, errors) = targets(args);
    let mut reports = Vec::new();
    let mut all_read = errors.is_empty();
    for target in &targets {
        let data = match read_capped(&target.path) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("sealdrop-open: {}", display_safe(&e.to_string()));
                all_read = false;
                continue;
            }
        };
        let name = target.path.display().to_string();
        let (report, checked) = inspect_bytes(&data, &name)?;
        all_read &= checked;
        if json {
            reports.push(serde_json::json!({"file": name, "report": report}));
        } else {
            print!("{}", format_report(&name, &report));
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        );
    }
    for error in &errors {
        eprintln!("sealdrop-open: {}", display_safe(&error.to_string()));
    }
    Ok(all_read)
}

/// What happened to one file in `scrub`.
pub enum Cleaning {
    Cleaned {
        written: PathBuf,
        removed: Vec<String>,
    },
    NotCleaned(NotCleaned),
}

/// Cleans `source` into the new file `destination` (never overwriting).
pub fn clean_into(source: &Path, destination: &Path) -> Result<Cleaning, ToolError> {
    let data = read_capped(source)?;
    let sandbox = sandboxed::sandbox()?;
    let scrubbed = sandbox.scrub(&data);
    sandboxed::tell_what_it_lacks(sandbox);
    let scrubbed = match scrubbed {
        Ok(Ok(scrubbed)) => scrubbed,
        Ok(Err(reason)) => return Ok(Cleaning::NotCleaned(reason)),
        Err(e) => return Ok(Cleaning::NotCleaned(NotCleaned(e.to_string()))),
    };
    if let Some(parent) = destination.parent() {
        create_private_dir_all(parent).map_err(ToolError::io(parent))?;
    }
    let mut file = create_new_private_file(destination).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ToolError::Usage(format!(
                "{} exists: sealdrop-open never overwrites; choose another OUTDIR",
                destination.display()
            ))
        } else {
            ToolError::Io {
                path: destination.to_owned(),
                source: e,
            }
        }
    })?;
    file.write_all(&scrubbed.data)
        .and_then(|()| file.sync_all())
        .map_err(ToolError::io(destination))?;
    Ok(Cleaning::Cleaned {
        written: destination.to_owned(),
        removed: scrubbed.removed,
    })
}

/// Prints one file's outcome; returns whether it was cleaned.
pub(crate) fn print_cleaning(source: &Path, outcome: &Result<Cleaning, ToolError>) -> bool {
    let name = display_safe(&source.display().to_string());
    match outcome {
        Ok(Cleaning::Cleaned { written, removed }) => {
            eprintln!(
                "cleaned      {name} -> {}",
                display_safe(&written.display().to_string())
            );
            for what in removed {
                eprintln!("               removed: {}", display_safe(what));
            }
            true
        }
        Ok(Cleaning::NotCleaned(reason)) => {
            eprintln!("NOT CLEANED  {name}: {}", display_safe(&reason.to_string()));
            false
        }
        Err(e) => {
            eprintln!("FAILED       {}", display_safe(&e.to_string()));
            false
        }
    }
}

/// `sealdrop-open scrub -o OUTDIR`: a cleaned copy of every file, or NOT
/// CLEANED and nothing written. Returns whether every file was cleaned.
pub(crate) fn run_scrub(args: &[PathBuf], outdir: &Path) -> Result<bool, ToolError> {
    let (targets, errors) = targets(args);
    create_private_dir_all(outdir).map_err(ToolError::io(outdir))?;
    let mut all_clean = errors.is_empty();
    for error in &errors {
        eprintln!("FAILED       {}", display_safe(&error.to_string()));
    }
    let (mut cleaned, mut refused) = (0, 0);
    for target in &targets {
        let outcome = clean_into(&target.path, &outdir.join(&target.relative));
        if print_cleaning(&target.path, &outcome) {
            cleaned += 1;
        } else {
            refused += 1;
            all_clean = false;
        }
    }
    eprintln!("{cleaned} cleaned, {refused} NOT CLEANED or failed.");
    Ok(all_clean)
}

/// The folder of a submission's cleaned copies (`OUTDIR/<id>/cleaned/`):
/// beside `attachments/`, where the source's names live, so that no name
/// she chooses can sit among them or take one's place.
pub const CLEANED_DIR: &str = "cleaned";

/// Where `decrypt --scrub` writes the cleaned copy of `attachment` (a file
/// of `<folder>/attachments/`): `<folder>/cleaned/<the same name>`.
pub fn cleaned_copy_of(folder: &Path, attachment: &Path) -> PathBuf {
    folder
        .join(CLEANED_DIR)
        .join(attachment.file_name().unwrap_or_default())
}
