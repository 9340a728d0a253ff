//! Turns the INPUT arguments into a list of sealed files.

use std::fs;
use std::path::{Path, PathBuf};

use super::ToolError;

/// A sealed file to open and its submission id (file name without `.age`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub id: String,
    pub len: u64,
}

/// Expands folders to the `*.age` files directly inside them (sorted); a file
/// argument is taken as it is. Errors are returned per argument so that one bad
/// path does not stop the rest.
pub fn collect(args: &[PathBuf]) -> (Vec<Input>, Vec<ToolError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        match expand(arg) {
            Ok(mut found) => inputs.append(&mut found),
            Err(e) => errors.push(e),
        }
    }
    (inputs, errors)
}

fn expand(arg: &Path) -> Result<Vec<Input>, ToolError> {
    let meta = fs::metadata(arg).map_err(ToolError::io(arg))?;
    if meta.is_dir() {
        let mut found = Vec::new();
        for entry in fs::read_dir(arg).map_err(ToolError::io(arg))? {
            let entry = entry.map_err(ToolError::io(arg))?;
            let path = entry.path();
            let is_age = path.extension().is_some_and(|e| e == "age");
            let meta = entry.metadata().map_err(ToolError::io(&path))?;
            if is_age && meta.is_file() {
                found.push(input(path, meta.len()));
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    } else {
        Ok(vec![input(arg.to_owned(), meta.len())])
    }
}

fn input(path: PathBuf, len: u64) -> Input {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The id names the output folder, so it gets the same treatment as any
    // untrusted name.
    let id = sealdrop_format::seal::names::sanitize_name(&stem);
    Input { path, id, len }
}
