//! Progress on large inputs: a bar on a terminal, nothing otherwise.

use std::io::{self, Read, Seek, SeekFrom};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count bar on stderr; hidden when stderr is not a terminal.
pub fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Reports how far into a file its reader has got.
pub struct ProgressReader<R> {
    inner: R,
    base: u64,
    pos: u64,
    bar: ProgressBar,
}

impl<R> ProgressReader<R> {
    /// `base` is where this file starts in the bar's total.
    pub fn new(inner: R, base: u64, bar: ProgressBar) -> Self {
        ProgressReader {
            inner,
            base,
            pos: 0,
            bar,
        }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        self.bar.set_position(self.base + self.pos);
        Ok(n)
    }
}

impl<R: Seek> Seek for ProgressReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}
