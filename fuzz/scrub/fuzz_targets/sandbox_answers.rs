#![no_main]
//! The parent's reading of what a sandboxed child answers (the child may be
//! compromised): the confinement, an `inspect` report, a cleaned copy, a
//! picture's pixels and a file's words for search (the inbox's), and
//! the two-way archive job with its requests for plaintext, in each of its
//! three modes. Never a panic or a hang; a cleaned copy within its cap; an
//! archive read only with a manifest whose paths are safe, and no part
//! delivered beyond its declared size.

use std::io::{self, Cursor};

use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::reader::is_safe_relative_path;
use sealdrop_format::seal::Manifest;
use sealdrop_scrub::sandbox::archive::{answer_archive, ArchiveOutcome};
use sealdrop_scrub::sandbox::{wire, ArchiveSink, Deliver};

/// Holds what the parent would write, and checks it as it comes.
#[derive(Default)]
struct Checked {
    sizes: Vec<u64>,
    delivered: Vec<u64>,
}

impl ArchiveSink for Checked {
    fn manifest(&mut self, manifest: &Manifest) -> io::Result<()> {
        assert!(manifest.parts.iter().all(|p| is_safe_relative_path(&p.path)));
        self.sizes = manifest.parts.iter().map(|p| p.size).collect();
        self.delivered = vec![0; self.sizes.len()];
        Ok(())
    }
    fn part(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        self.delivered[index] += bytes.len() as u64;
        assert!(self.delivered[index] <= self.sizes[index]);
        Ok(())
    }
    fn part_end(&mut self, index: usize) -> io::Result<()> {
        assert_eq!(self.delivered[index], self.sizes[index]);
        Ok(())
    }
    fn part_discard(&mut self, index: usize) -> io::Result<()> {
        self.delivered[index] = 0;
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, answer)) = data.split_first() else {
        return;
    };
    let mut from = Cursor::new(answer);
    match which % 8 {
        7 => {
            if let Ok(Ok(words)) = wire::read_words(&mut from, 256) {
                assert!(words.text.len() <= 256);
                assert!(words.missed.len() <= 16);
            }
        }
        6 => {
            if let Ok(Ok(pixels)) = wire::read_pixels(&mut from, 64) {
                assert!(pixels.width >= 1 && pixels.width <= 64);
                assert!(pixels.height >= 1 && pixels.height <= 64);
                assert_eq!(pixels.rgba.len(), 4 * (pixels.width * pixels.height) as usize);
            }
        }
        0 => drop(wire::read_confinement(&mut from)),
        1 => drop(wire::read_report(&mut from)),
        2 => {
            if let Ok(Ok(cleaned)) = wire::read_scrubbed(&mut from, 1 << 16) {
                assert!(cleaned.data.len() <= 1 << 16);
            }
        }
        mode => {
            let deliver = match mode {
                3 => Deliver::Everything,
                4 => Deliver::Manifest,
                _ => Deliver::MessageHead { bytes: 64 },
            };
            let mut plaintext = Cursor::new(vec![0x5au8; 4096]);
            let mut sink = Checked::default();
            let result = answer_archive(
                &mut from,
                &mut io::sink(),
                &mut plaintext,
                4096,
                deliver,
                &mut sink,
            );
            if let Ok(ArchiveOutcome::Read(manifest)) = result {
                if deliver == Deliver::Everything {
                    assert_eq!(sink.delivered.len(), manifest.parts.len());
                }
            }
        }
    }
});
