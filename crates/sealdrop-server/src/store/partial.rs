//! Writing a partial file so that its fsync is short.
//!
//! The fsync at commit must not have to push a whole large upload to disk
//! while the source waits: a store-wide flusher thread asks the kernel to
//! write each partial file out every few MiB while it grows. The disk then
//! works during the upload, and the final fsync finds little left to do.
//! (A writer thread per upload was tried as well; it gained nothing here,
//! where memory bandwidth, not the write path, is the limit: see
//! docs/BENCHMARKS.md.)

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread;

/// Request writeback after this many bytes.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;
/// Writeback requests waiting for the flusher; more are dropped (a later
/// request, or the fsync at commit, covers their bytes).
const FLUSH_QUEUE: usize = 64;

/// One thread per store that flushes growing partial files to disk with
/// `fdatasync` on a handle of its own.
///
/// That handle is a separate open of the file, not a `dup`: Linux reports a
/// writeback error once per open file description, and the commit's fsync
/// must still see any error the flusher's `fdatasync` met.
pub(super) struct Flusher {
    requests: mpsc::SyncSender<Arc<File>>,
}

impl Flusher {
    pub(super) fn start() -> io::Result<Flusher> {
        let (requests, queue) = mpsc::sync_channel::<Arc<File>>(FLUSH_QUEUE);
        thread::Builder::new()
            .name("sealdrop-flush".into())
            .spawn(move || {
                for file in queue {
                    // Errors surface at the commit's fsync.
                    let _ = file.sync_data();
                }
            })?;
        Ok(Flusher { requests })
    }
}

/// A partial file being written (ciphertext only), with writeback requested
/// every `WRITEBACK_STEP` bytes.
pub struct PartialFile {
    file: File,
    path: PathBuf,
    /// Opened at the first writeback request: a small upload never needs
    /// it, and so costs one file descriptor, not two.
    flush_handle: Option<Arc<File>>,
    flusher: mpsc::SyncSender<Arc<File>>,
    written: u64,
    requested_at: u64,
}

impl PartialFile {
    pub(super) fn start(file: File, path: &Path, flusher: &Flusher) -> io::Result<PartialFile> {
        Ok(PartialFile {
            file,
            path: path.to_owned(),
            flush_handle: None,
            flusher: flusher.requests.clone(),
            written: 0,
            requested_at: 0,
        })
    }

    /// The file, for the commit's fsync and rename.
    pub fn into_file(self) -> File {
        self.file
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.requested_at >= WRITEBACK_STEP {
            self.requested_at = self.written;
            if self.flush_handle.is_none() {
                self.flush_handle = Some(Arc::new(File::open(&self.path)?));
            }
            if let Some(handle) = &self.flush_handle {
                let _ = self.flusher.try_send(handle.clone());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
