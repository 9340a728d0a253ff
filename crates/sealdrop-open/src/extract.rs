//! Decrypting one sealed file into its own folder, verified, never overwriting.

use std::fs;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use super::inputs::Input;
use super::{sandboxed, ToolError};
use sealdrop_format::agefile::AgeFile;
use sealdrop_format::fsutil::{
    create_new_private_file, create_private_dir, create_private_dir_all,
};
use sealdrop_format::keys::Identities;
use sealdrop_format::seal::manifest::MANIFEST_PATH;
use sealdrop_format::seal::{Manifest, OpenError};
use sealdrop_format::terminal::ProgressReader;
use sealdrop_scrub::sandbox::{ArchiveError, ArchiveOutcome, ArchiveSink, Deliver};

/// What happened to one input.
#[derive(Debug)]
pub enum Outcome {
    Opened { dir: PathBuf, manifest: Manifest },
    AlreadyOpen { dir: PathBuf },
}

/// Buffer between the decrypting reader and the file system.
const IO_BUFFER: usize = 256 * 1024;

/// Opens `input` into `outdir/<id>/`. Works in a hidden staging folder and
/// renames it into place only when every part has been verified, so a folder
/// named after a submission is always complete; on failure nothing is left.
pub fn extract(
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
    let file = fs::File::open(&input.path).map_err(ToolError::io(&input.path))?;
    // Unbuffered here: the age layer buffers, and copies nothing it need not.
    let reader = ProgressReader::new(file, base, bar.clone());
    let mut sink = Staging {
        staging,
        parts: Vec::new(),
        current: 0,
        open: None,
    };
    let manifest = read_sealed(
        &input.path,
        reader,
        identities,
        Deliver::Everything,
        &mut sink,
    )
    .map_err(|e| match e {
        Sealed::Tool(e) => e,
        Sealed::Writing(e) => sink.failed(e),
    })?;
    let manifest_path = staging.join(MANIFEST_PATH);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| ToolError::Usage(e.to_string()))?;
    let mut out = create_new_private_file(&manifest_path).map_err(ToolError::io(&manifest_path))?;
    out.write_all(&json)
        .map_err(ToolError::io(&manifest_path))?;
    Ok(manifest)
}

/// Why [`read_sealed`] failed: the file, or writing what it held.
pub(crate) enum Sealed {
    Tool(ToolError),
    Writing(io::Error),
}

impl From<ToolError> for Sealed {
    fn from(e: ToolError) -> Self {
        Sealed::Tool(e)
    }
}

/// Decrypts the sealed file `path` (read through `reader`) here, where the
/// keys are, and has its archive read in the sandbox: the structure, the
/// manifest and every part are parsed by the helper, which asks for
/// plaintext piece by piece and sends back what `deliver` names, verified.
pub(crate) fn read_sealed<R: io::Read + Seek>(
    path: &Path,
    reader: R,
    identities: &Identities,
    deliver: Deliver,
    sink: &mut (dyn ArchiveSink + Send),
) -> Result<Manifest, Sealed> {
    let open_err = |source| ToolError::Open {
        path: path.to_owned(),
        source,
    };
    let sealed = AgeFile::open(reader).map_err(|e| open_err(e.into()))?;
    if sealed.is_passphrase_protected() {
        return Err(open_err(OpenError::Manifest(
            "it is passphrase-encrypted, not a sealdrop submission".into(),
        ))
        .into());
    }
    let mut plaintext = sealed
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| open_err(e.into()))?;
    let size = plaintext
        .seek(SeekFrom::End(0))
        .and_then(|size| plaintext.seek(SeekFrom::Start(0)).map(|_| size))
        .map_err(|e| open_err(OpenError::Io(e)))?;
    let sandbox = sandboxed::sandbox()?;
    let outcome = sandbox.read_archive(&mut plaintext, size, deliver, sink);
    sandboxed::tell_what_it_lacks(sandbox);
    match outcome {
        Ok(ArchiveOutcome::Read(manifest)) => Ok(manifest),
        Ok(ArchiveOutcome::Refused(reason)) => Err(ToolError::Refused {
            path: path.to_owned(),
            reason,
        }
        .into()),
        Err(ArchiveError::Sink(e)) => Err(Sealed::Writing(e)),
        Err(ArchiveError::Plaintext(e)) => Err(open_err(OpenError::Io(e)).into()),
        Err(ArchiveError::Sandbox(e)) => Err(ToolError::Refused {
            path: path.to_owned(),
            reason: format!("not opened: {e}"),
        }
        .into()),
    }
}

/// Where the verified parts land: each in its own new file of the staging
/// folder, at the path its (checked) manifest gives.
struct Staging<'a> {
    staging: &'a Path,
    /// Each part's file, by index.
    parts: Vec<PathBuf>,
    /// The part being written, and its file once made.
    current: usize,
    open: Option<BufWriter<fs::File>>,
}

impl Staging<'_> {
    /// The parent's own failure, named by the file it was writing.
    fn failed(&self, e: io::Error) -> ToolError {
        ToolError::Io {
            path: self
                .parts
                .get(self.current)
                .cloned()
                .unwrap_or_else(|| self.staging.to_owned()),
            source: e,
        }
    }
}

impl Staging<'_> {
    fn create(&mut self, index: usize) -> io::Result<BufWriter<fs::File>> {
        self.current = index;
        let target = &self.parts[index];
        if let Some(parent) = target.parent() {
            if parent != self.staging && parent.symlink_metadata().is_err() {
                create_private_dir_all(parent)?;
            }
        }
        let out = create_new_private_file(target)?;
        Ok(BufWriter::with_capacity(IO_BUFFER, out))
    }
}

impl ArchiveSink for Staging<'_> {
    fn manifest(&mut self, manifest: &Manifest) -> io::Result<()> {
        // The paths were checked (safe components, each kind in its place);
        // parts of unknown kinds go under unknown-parts/, never to the top.
        self.parts = manifest
            .parts
            .iter()
            .map(|part| self.staging.join(part.output_path()))
            .collect();
        Ok(())
    }

    fn part(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        if self.open.is_none() {
            let out = self.create(index)?;
            self.open = Some(out);
        }
        self.open.as_mut().expect("made above").write_all(bytes)
    }

    fn part_end(&mut self, index: usize) -> io::Result<()> {
        match self.open.take() {
            Some(mut out) => out.flush(),
            // An empty part: no bytes came, its file is made here.
            None => self.create(index)?.flush(),
        }
    }

    fn part_discard(&mut self, index: usize) -> io::Result<()> {
        self.open = None;
        match fs::remove_file(&self.parts[index]) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
