//! `sealdrop-open`: the offline tool for the air-gapped machine. It must never
//! depend on a network stack (checked in CI with `cargo tree`).

pub mod cli;
pub mod extract;
pub mod inputs;
pub mod keygen;
pub mod list;
pub mod progress;

use std::io;
use std::path::PathBuf;

use crate::keys::KeyError;
use crate::seal::OpenError;

/// Errors of the offline tool, each naming the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{path}: {source}")]
    Open { path: PathBuf, source: OpenError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Usage(String),
}

impl ToolError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> ToolError {
        let path = path.into();
        move |source| ToolError::Io { path, source }
    }
}

/// "1.5 MiB"-style size for people.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
