//! Decrypting one sealed file into its own folder, verified, never overwriting.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use super::inputs::Input;
use super::ToolError;
use sealdrop_format::fsutil::{
    create_new_private_file, create_private_dir, create_private_dir_all,
};
use sealdrop_format::keys::Identities;
use sealdrop_format::seal::manifest::MANIFEST_PATH;
use sealdrop_format::seal::{Manifest, SubmissionReader};
use sealdrop_format::terminal::ProgressReader;

/// What happened to one input.
#[derive(Debug)]
pub(crate) enum Outcome {
    Opened { dir: PathBuf, manifest: Manifest },
    AlreadyOpen { dir: PathBuf },
}

/// Buffer between the decrypting reader and the file system.
const IO_BUFFER: usize = 256 * 1024;

/// Opens `input` into `outdir/<id>/`. Works in a hidden staging folder and
/// renames it into place only when every part has been verified, so a folder
/// named after a submission is always complete; on failure nothing is left.
pub(crate) fn extract(
    input: &Input,
    identities: &Identities,
    outdir: &Path,
    bar: &ProgressBar,
    base: u64,
) -> Result<Outcome, ToolError> {
    if input.id == super::threads::THREADS_DIR {
        return Err(ToolError::Usage(format!(
            "{}: the name \"{}\" is kept for conversation threads in {}; rename the file",
            input.path.display(),
            super::threads::THREADS_DIR,
            outdir.display()
        )));
    }
    let dir = outdir.join(&input.id);
    if dir.symlink_metadata().is_ok() {
        return Ok(Outcome::AlreadyOpen { dir });
    }
    let staging = outdir.join(format!(".{}.opening", input.id));
    if staging.symlink_metadata().is_ok() {
        // Left by an interrupted run; its content was never verified.
        fs::remove_dir_all(&staging).map_err(ToolError::io(&staging))?;
    }
    create_private_dir(&staging).map_err(ToolError::io(&staging))?;
    let result = extract_into(input, identities, &staging, bar, base).and_then(|manifest| {
        sealdrop_format::fsutil::rename_no_replace(&staging, &dir).map_err(|e| ToolError::Io {
            path: dir.clone(),
            source: e,
        })?;
        Ok(manifest)
    });
    match result {
        Ok(manifest) => Ok(Outcome::Opened { dir, manifest }),
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn extract_into(
    input: &Input,
    identities: &Identities,
    staging: &Path,
    bar: &ProgressBar,
    base: u64,
) -> Result<Manifest, ToolError> {
    let open_err = |source| ToolError::Open {
        path: input.path.clone(),
        source,
    };
    let file = fs::File::open(&input.path).map_err(ToolError::io(&input.path))?;
    // Unbuffered here: the age layer buffers, and copies nothing it need not.
    let reader = ProgressReader::new(file, base, bar.clone());
    let mut submission = SubmissionReader::open(
        reader,
        identities.iter().map(|i| i.as_ref() as &dyn age::Identity),
    )
    .map_err(open_err)?;
    let manifest = submission.manifest().clone();
    for (index, part) in manifest.parts.iter().enumerate() {
        // The reader has checked that every component is a sanitized name;
        // parts of unknown kinds go under unknown-parts/, never to the top.
        let target = staging.join(part.output_path());
        if let Some(parent) = target.parent() {
            if parent != staging && parent.symlink_metadata().is_err() {
                create_private_dir_all(parent).map_err(ToolError::io(parent))?;
            }
        }
        let out = create_new_private_file(&target).map_err(ToolError::io(&target))?;
        let capacity = (part.size as usize).clamp(1, IO_BUFFER);
        let mut out = BufWriter::with_capacity(capacity, out);
        submission.copy_part(index, &mut out).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData {
                ToolError::Open {
                    path: input.path.clone(),
                    source: sealdrop_format::seal::OpenError::Integrity {
                        path: part.path.clone(),
                        reason: e.to_string(),
                    },
                }
            } else {
                ToolError::Io {
                    path: target.clone(),
                    source: e,
                }
            }
        })?;
        out.flush().map_err(ToolError::io(&target))?;
    }
    let manifest_path = staging.join(MANIFEST_PATH);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| ToolError::Usage(e.to_string()))?;
    let mut out = create_new_private_file(&manifest_path).map_err(ToolError::io(&manifest_path))?;
    out.write_all(&json)
        .map_err(ToolError::io(&manifest_path))?;
    Ok(manifest)
}
