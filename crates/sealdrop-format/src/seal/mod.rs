//! Runs in both programs: the sealed submission format, written by the server
//! and read by `sealdrop-open`.
//!
//! A submission is one age file whose plaintext is a ZIP archive holding
//! `message.txt`, `attachments/…`, `manifest.json` and a Padmé padding entry.
//! docs/FORMAT.md is the specification; this module is its reference.

mod chunk_cache;
pub mod manifest;
pub mod names;
pub mod padme;
pub mod reader;
pub mod writer;
pub mod zipstream;

use std::time::{SystemTime, UNIX_EPOCH};

pub use manifest::{Manifest, Part, PartKind, ReplyBlock};
pub use reader::{OpenError, PartReader, SubmissionReader};
pub use writer::{SealOptions, SubmissionWriter};

/// Errors while sealing a submission.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("writing the sealed file failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the recipients cannot be used together: {0}")]
    Encrypt(#[from] age::EncryptError),
    #[error("sealer used out of order: {0}")]
    State(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

/// `t` rounded down to a multiple of `granularity_secs` (UTC).
pub fn coarse_time(t: SystemTime, granularity_secs: u64) -> time::OffsetDateTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let g = granularity_secs.max(1);
    let rounded = secs - secs % g;
    time::OffsetDateTime::from_unix_timestamp(rounded as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn coarse_time_rounds_down() {
        let t = UNIX_EPOCH + Duration::from_secs(1_764_045_599); // 2025-11-25T04:39:59Z
        assert_eq!(coarse_time(t, 3600).unix_timestamp(), 1_764_043_200);
        assert_eq!(coarse_time(t, 86_400).unix_timestamp(), 1_764_028_800);
        assert_eq!(coarse_time(t, 0).unix_timestamp(), 1_764_045_599);
    }
}
