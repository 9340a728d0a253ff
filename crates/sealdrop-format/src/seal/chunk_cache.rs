//! A small cache of decrypted chunks between the ZIP reader and age's
//! seekable stream.
//!
//! age decrypts in 64 KiB chunks, and seeking to another chunk decrypts it
//! anew. Reading a ZIP archive jumps between each entry's local header and
//! wherever the reader was before (the central directory, the previous
//! entry): without a cache every entry cost two chunk decryptions, and an
//! archive of 100,000 tiny entries took minutes to check. With the last few
//! chunks kept, checking is linear. Large sequential reads go straight
//! through, without a copy.

use std::io::{self, Read, Seek, SeekFrom};

use crate::wipe::WipedVec;

/// age's plaintext chunk size: cache blocks line up with age's chunks, so
/// that each miss decrypts exactly one.
const BLOCK: u64 = 64 * 1024;
/// Blocks kept (most recently used last): enough for a header, the data
/// after it, the central directory and the manifest.
const KEPT: usize = 4;

pub(super) struct ChunkCache<R> {
    inner: R,
    /// Where the next read starts, in the plaintext.
    pos: u64,
    /// Where `inner` is positioned.
    inner_pos: u64,
    /// Cached blocks: (block index, its bytes; shorter than BLOCK only at the end).
    blocks: Vec<(u64, WipedVec)>,
}

impl<R: Read + Seek> ChunkCache<R> {
    pub(super) fn new(mut inner: R) -> io::Result<Self> {
        let inner_pos = inner.stream_position()?;
        Ok(ChunkCache {
            inner,
            pos: inner_pos,
            inner_pos,
            blocks: Vec::with_capacity(KEPT),
        })
    }

    fn seek_inner(&mut self, to: u64) -> io::Result<()> {
        if self.inner_pos != to {
            self.inner.seek(SeekFrom::Start(to))?;
            self.inner_pos = to;
        }
        Ok(())
    }

    /// The cached block `index`, reading it if needed.
    fn block(&mut self, index: u64) -> io::Result<&[u8]> {
        if let Some(at) = self.blocks.iter().position(|(i, _)| *i == index) {
            let hit = self.blocks.remove(at);
            self.blocks.push(hit);
        } else {
            self.seek_inner(index * BLOCK)?;
            let mut data = WipedVec::new(vec![0u8; BLOCK as usize]);
            let mut filled = 0;
            while filled < data.len() {
                match self.inner.read(&mut data[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.inner_pos += filled as u64;
            data.truncate(filled);
            if self.blocks.len() == KEPT {
                self.blocks.remove(0);
            }
            self.blocks.push((index, data));
        }
        Ok(&self.blocks.last().expect("just pushed").1)
    }
}

impl<R: Read + Seek> Read for ChunkCache<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let index = self.pos / BLOCK;
        let offset = (self.pos % BLOCK) as usize;
        let cached = self.blocks.iter().any(|(i, _)| *i == index);
        // A large read from a block boundary goes straight through.
        if !cached && offset == 0 && buf.len() as u64 >= BLOCK {
            self.seek_inner(self.pos)?;
            let n = self.inner.read(buf)?;
            self.inner_pos += n as u64;
            self.pos += n as u64;
            return Ok(n);
        }
        let pos = self.pos;
        let block = self.block(index)?;
        if offset >= block.len() {
            return Ok(0);
        }
        let n = buf.len().min(block.len() - offset);
        buf[..n].copy_from_slice(&block[offset..offset + n]);
        self.pos = pos + n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for ChunkCache<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "seek before the start")
            })?,
            SeekFrom::End(d) => {
                self.inner_pos = self.inner.seek(SeekFrom::End(d))?;
                self.inner_pos
            }
        };
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Counts the reads the inner reader serves.
    struct Counting {
        inner: Cursor<Vec<u8>>,
        reads: usize,
    }

    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            self.inner.read(buf)
        }
    }

    impl Seek for Counting {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn reads_anywhere_match_the_source_and_alternating_reads_hit_the_cache() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let mut c = ChunkCache::new(Counting {
            inner: Cursor::new(data.clone()),
            reads: 0,
        })
        .unwrap();
        for (at, len) in [
            (0u64, 10usize),
            (65_530, 20),
            (299_990, 100),
            (131_072, 70_000),
            (5, 1),
        ] {
            c.seek(SeekFrom::Start(at)).unwrap();
            let mut buf = vec![0u8; len];
            let mut got = 0;
            while got < len {
                let n = c.read(&mut buf[got..]).unwrap();
                if n == 0 {
                    break;
                }
                got += n;
            }
            let end = (at as usize + len).min(data.len());
            assert_eq!(&buf[..got], &data[at as usize..end], "at {at}");
        }
        // Back and forth between two blocks: read once each.
        let before = c.inner.reads;
        for _ in 0..100 {
            for at in [70_000u64, 250_000] {
                c.seek(SeekFrom::Start(at)).unwrap();
                let mut b = [0u8; 30];
                c.read_exact(&mut b).unwrap();
            }
        }
        assert!(
            c.inner.reads - before <= 4,
            "{} reads",
            c.inner.reads - before
        );
        assert_eq!(c.seek(SeekFrom::End(0)).unwrap(), data.len() as u64);
        assert_eq!(c.read(&mut [0u8; 8]).unwrap(), 0);
    }
}
