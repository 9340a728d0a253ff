//! What both command-line programs show on an editor's terminal: progress
//! bars on large transfers, and text from untrusted sources (names, messages,
//! a hostile server's error text) made safe to print.

use std::io::{self, Read, Seek, SeekFrom};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::seal::names::is_invisible_or_bidi;

pub use crate::bytesize::human as human_size;

/// A byte-count bar on stderr; hidden when stderr is not a terminal.
pub fn progress_bar(total: u64) -> ProgressBar {
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

/// Makes untrusted text safe to print on an editor's terminal: control
/// characters (ANSI escapes, C1 controls such as the 8-bit CSI U+009B), bidi
/// overrides and invisible characters are replaced.
pub fn display_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '\n' || c == '\t' {
                ' '
            } else if c.is_control() || is_invisible_or_bidi(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_safe_neutralizes_terminal_escapes() {
        assert_eq!(display_safe("a\x1b]0;pwn\x07b"), "a\u{FFFD}]0;pwn\u{FFFD}b");
        assert_eq!(display_safe("x\u{202E}y"), "x\u{FFFD}y");
        assert_eq!(display_safe("\u{9b}2J\r"), "\u{FFFD}2J\u{FFFD}");
    }
}
