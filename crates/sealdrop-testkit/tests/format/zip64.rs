//! ZIP64: archives past 4 GiB and past 65,535 entries. `--max-upload-size`
//! accepts TiB, so both layouts must hold far beyond what other tests write.
//! The large archives are never kept in memory: a sink records only the
//! small writes (headers, descriptors, deflate block headers, the central
//! directory) and counts the rest, which is all zeros, so an independent
//! reader (the zip crate) can still read the whole archive back.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use sealdrop_format::seal::padme::padme;
use sealdrop_format::seal::zipstream::{DosDateTime, ZipStreamWriter};
use sealdrop_format::seal::{SealOptions, SubmissionReader, SubmissionWriter};

use crate::common::*;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// Counts everything written; keeps, by offset, every write but the
/// zero-filled data.
#[derive(Default)]
struct Sparse {
    len: u64,
    small: BTreeMap<u64, Vec<u8>>,
}

impl Write for Sparse {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Headers, descriptors and the central directory are kept; data is
        // zeros (checked at its ends: a full scan would cost more than the test).
        if buf.len() <= 64 || buf[0] != 0 || buf[buf.len() - 1] != 0 {
            self.small.insert(self.len, buf.to_vec());
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sparse {
    fn reader(&self) -> SparseReader<'_> {
        SparseReader { sink: self, pos: 0 }
    }
}

/// Reads a [`Sparse`] back: recorded bytes where there are some, zeros
/// elsewhere.
struct SparseReader<'a> {
    sink: &'a Sparse,
    pos: u64,
}

impl Read for SparseReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = (self.pos + buf.len() as u64).min(self.sink.len);
        if self.pos >= end {
            return Ok(0);
        }
        let n = (end - self.pos) as usize;
        let out = &mut buf[..n];
        out.fill(0);
        // A recorded write that starts before `pos` may still overlap it.
        let first = self
            .sink
            .small
            .range(..=self.pos)
            .next_back()
            .map_or(self.pos, |(start, _)| *start);
        for (start, bytes) in self.sink.small.range(first..end) {
            for (i, b) in bytes.iter().enumerate() {
                let at = start + i as u64;
                if at >= self.pos && at < end {
                    out[(at - self.pos) as usize] = *b;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl Seek for SparseReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.sink.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
        };
        Ok(self.pos)
    }
}

/// Writes `len` zero bytes into the open entry in 1 MiB pieces.
fn zeros<W: Write>(w: &mut ZipStreamWriter<W>, len: u64) {
    let block = vec![0u8; MIB as usize];
    let mut left = len;
    while left > 0 {
        let n = left.min(MIB);
        w.write_data(&block[..n as usize]).unwrap();
        left -= n;
    }
}

/// Reads every entry back through the zip crate (CRC-32 checked), returns
/// (name, size, compressed size, method).
fn read_back(sink: &Sparse) -> Vec<(String, u64, u64, zip::CompressionMethod)> {
    let mut archive = zip::ZipArchive::new(sink.reader()).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let described = (
            entry.name().unwrap().into_owned(),
            entry.size(),
            entry.compressed_size(),
            entry.compression(),
        );
        let read = io::copy(&mut entry, &mut io::sink()).unwrap();
        assert_eq!(read, described.1, "{}", described.0);
        out.push(described);
    }
    out
}

#[test]
fn entries_whose_offsets_pass_4_gib_keep_the_streaming_layout_and_project_exactly() {
    // A server limit below 4 GiB: every part is deflated with classic data
    // descriptors, yet together they pass 4 GiB, so offsets need ZIP64.
    let mut w = ZipStreamWriter::new(Sparse::default(), DosDateTime::EPOCH, Some(3 * GIB / 2));
    for name in [
        "attachments/a.bin",
        "attachments/b.bin",
        "attachments/c.bin",
    ] {
        w.start_entry(name).unwrap();
        zeros(&mut w, 3 * GIB / 2);
        w.finish_entry().unwrap();
    }
    w.add_known_entry("manifest.json", b"{}").unwrap();
    assert!(w.offset() > 4 * GIB);
    let padding = 12_345;
    let projected = w.projected_len_with_known_entry(".padding".len(), padding);
    w.add_zero_entry(".padding", padding).unwrap();
    let sink = w.finish().unwrap();
    assert_eq!(projected, sink.len, "projected length is exact");
    let entries = read_back(&sink);
    assert_eq!(entries.len(), 5);
    for (name, size, compressed, method) in &entries[..3] {
        assert_eq!(*size, 3 * GIB / 2, "{name}");
        assert_eq!(*method, zip::CompressionMethod::Deflated, "{name}");
        assert!(*compressed < 4 * GIB, "{name}");
    }
    assert_eq!(entries[4].1, padding);
}

#[test]
fn an_entry_larger_than_4_gib_is_zip64_and_projects_exactly() {
    // No bound (a server limit of 4 GiB or more): stored ZIP64 entries.
    let mut w = ZipStreamWriter::new(Sparse::default(), DosDateTime::EPOCH, None);
    w.start_entry("attachments/huge.bin").unwrap();
    zeros(&mut w, 4 * GIB + 100);
    w.finish_entry().unwrap();
    w.start_entry("attachments/small.bin").unwrap();
    zeros(&mut w, 1000);
    w.finish_entry().unwrap();
    w.add_known_entry("manifest.json", b"{}").unwrap();
    // A padding entry past 4 GiB itself needs a ZIP64 extra in its local header.
    let padding = 4 * GIB + 7;
    let projected = w.projected_len_with_known_entry(".padding".len(), padding);
    w.add_zero_entry(".padding", padding).unwrap();
    let sink = w.finish().unwrap();
    assert_eq!(projected, sink.len, "projected length is exact");
    let entries = read_back(&sink);
    assert_eq!(entries[0].1, 4 * GIB + 100);
    assert_eq!(entries[0].3, zip::CompressionMethod::Stored);
    assert_eq!(entries[3].1, 4 * GIB + 7);
}

/// Counts ciphertext; keeps the first bytes, for the age header.
#[derive(Default)]
struct Counting {
    len: u64,
    head: Vec<u8>,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.head.len() < 4096 {
            let n = buf.len().min(4096 - self.head.len());
            self.head.extend_from_slice(&buf[..n]);
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sealed submission past 4 GiB lands exactly on a Padmé bucket: the
/// writer's projection of its archive is exact across the ZIP64 thresholds.
#[test]
fn a_sealed_submission_past_4_gib_is_padded_exactly() {
    let key = Key::new();
    let options = SealOptions {
        max_part_size: Some(3 * GIB / 2),
        ..SealOptions::default()
    };
    let mut w = SubmissionWriter::new(&recipients(&[&key]), Counting::default(), &options).unwrap();
    let block = vec![0u8; MIB as usize];
    for i in 0..3 {
        w.begin_attachment(&format!("part{i}.bin"), None).unwrap();
        for _ in 0..(3 * GIB / 2) / MIB {
            w.write_part(&block).unwrap();
        }
        w.end_part().unwrap();
    }
    let (sink, padded) = w.finish().unwrap();
    assert!(padded > 4 * GIB);
    assert_eq!(padme(padded), padded, "a Padmé bucket");
    let header_end = sink
        .head
        .windows(4)
        .position(|w| w == b"\n---")
        .map(|i| i + 1 + sink.head[i + 1..].iter().position(|b| *b == b'\n').unwrap() + 1)
        .expect("age header");
    let payload = sink.len - header_end as u64;
    let chunks = padded.div_ceil(64 * 1024);
    assert_eq!(
        payload,
        16 + padded + 16 * chunks,
        "archive length is the bucket"
    );
}

/// 65,536 parts: the entry count needs the ZIP64 end records, and both our
/// reader and Python's zipfile read every entry.
#[test]
fn sixty_five_thousand_five_hundred_thirty_six_parts_open() {
    let key = Key::new();
    let options = SealOptions {
        max_part_size: Some(500 * MIB),
        ..SealOptions::default()
    };
    let mut w = SubmissionWriter::new(&recipients(&[&key]), Vec::new(), &options).unwrap();
    w.begin_message().unwrap();
    w.write_part(b"many files").unwrap();
    w.end_part().unwrap();
    for i in 1..65_536u32 {
        w.begin_attachment(&format!("f{i}.txt"), None).unwrap();
        w.write_part(&i.to_le_bytes()).unwrap();
        w.end_part().unwrap();
    }
    let sealed = w.finish().unwrap().0;
    let mut reader = SubmissionReader::open(
        std::io::Cursor::new(&sealed),
        std::iter::once(&key.identity as &dyn age::Identity),
    )
    .unwrap();
    assert_eq!(reader.manifest().parts.len(), 65_536);
    for i in [1usize, 4096, 65_535] {
        let mut data = Vec::new();
        reader
            .part_reader(i)
            .unwrap()
            .read_to_end(&mut data)
            .unwrap();
        assert_eq!(data, (i as u32).to_le_bytes());
    }
    let decryptor = age::Decryptor::new(&sealed[..]).unwrap();
    let mut zip = Vec::new();
    decryptor
        .decrypt(std::iter::once(&key.identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut zip)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.zip");
    std::fs::write(&path, &zip).unwrap();
    let out = run(std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
         assert z.testzip() is None; print(len(z.infolist()))",
        )
        .arg(&path));
    assert_success(&out, "python zipfile");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "65538");
}
