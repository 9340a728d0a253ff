//! A forward-only ZIP writer.
//!
//! Hand-written rather than taken from the `zip` crate because Padmé padding
//! needs the archive's final length to be known *before* the central directory
//! is written, to the byte; that requires owning the exact layout. The layout
//! (docs/FORMAT.md §2) serves streaming readers as well as ones that read the
//! central directory:
//! - content streamed in (message, attachments) whose size cannot reach
//!   4 GiB is *deflated* with stored (uncompressed) deflate blocks, followed by
//!   a classic 16-byte data descriptor: sizes and CRC are unknown until the
//!   source has finished sending, and Java's `ZipInputStream` reads a data
//!   descriptor only after a deflated entry, never after a stored one;
//! - content that may exceed 4 GiB (a server configured for such uploads) is
//!   stored, with a ZIP64 extra in its local header and a 24-byte ZIP64 data
//!   descriptor;
//! - entries whose bytes are known before they are written (the manifest and
//!   the padding) are stored with their sizes and CRC in the local header;
//! - the central directory and end records use ZIP64 fields only where a value
//!   does not fit;
//! - every entry has the same coarse timestamp and Unix mode 0600.

use std::io::{self, Write};

use zeroize::Zeroizing;

use crate::wipe::WipedVec;

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;

const VERSION_CLASSIC: u16 = 20; // 2.0: deflate, folders
const VERSION_ZIP64: u16 = 45; // 4.5: ZIP64
const VERSION_MADE_BY: u16 = (3 << 8) | 45; // Unix host, so external attributes hold a mode
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
const UNIX_MODE_FILE_0600: u32 = 0o100_600;

const LOCAL_HEADER_LEN: u64 = 30;
const LOCAL_ZIP64_EXTRA_LEN: u64 = 20;
const ZIP64_DATA_DESCRIPTOR_LEN: u64 = 24;
const CENTRAL_HEADER_LEN: u64 = 46;
const EOCD_LEN: u64 = 22;
const ZIP64_EOCD_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;

const U32_MAX: u64 = 0xFFFF_FFFF;
const U16_MAX: u64 = 0xFFFF;

/// The most data one stored deflate block holds.
const DEFLATE_BLOCK_MAX: usize = 0xFFFF;
/// Each deflate block costs this much: a header byte, LEN and NLEN.
const DEFLATE_BLOCK_HEADER_LEN: u64 = 5;
/// Chunks at least this long become blocks of their own, written without a
/// copy; shorter ones are gathered into full blocks. So every block but the
/// last holds at least this much, which bounds the overhead (0.06%).
const DEFLATE_DIRECT_MIN: usize = 8 * 1024;
/// The final, empty deflate block that ends every deflated entry.
const DEFLATE_END: [u8; 5] = [0x01, 0x00, 0x00, 0xFF, 0xFF];

/// Longest entry name we accept (the format field is 16 bits).
pub const MAX_NAME_LEN: usize = 0xFFFF;

/// The most bytes a deflated entry of `size` bytes can take in the archive.
fn deflated_len_bound(size: u64) -> u64 {
    size.saturating_add(
        DEFLATE_BLOCK_HEADER_LEN.saturating_mul(size / DEFLATE_DIRECT_MIN as u64 + 2),
    )
}

/// An MS-DOS date and time pair as stored in ZIP headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosDateTime {
    pub date: u16,
    pub time: u16,
}

impl DosDateTime {
    /// 1980-01-01 00:00:00, the earliest time the format can express.
    pub const EPOCH: DosDateTime = DosDateTime {
        date: (1 << 5) | 1,
        time: 0,
    };

    pub fn from_utc(t: time::OffsetDateTime) -> DosDateTime {
        let t = t.to_offset(time::UtcOffset::UTC);
        if t.year() < 1980 || t.year() > 2107 {
            return DosDateTime::EPOCH;
        }
        let date = ((t.year() - 1980) as u16) << 9
            | (u16::from(u8::from(t.month()))) << 5
            | u16::from(t.day());
        let time =
            u16::from(t.hour()) << 11 | u16::from(t.minute()) << 5 | u16::from(t.second() / 2);
        DosDateTime { date, time }
    }
}

/// How an entry is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Streamed, cannot reach 4 GiB: stored deflate blocks, 16-byte descriptor.
    Deflated,
    /// Streamed, may exceed 4 GiB: stored, ZIP64 local extra, 24-byte descriptor.
    Zip64Stored,
    /// Known before it is written: stored, sizes and CRC in the local header.
    Known,
}

impl Layout {
    fn method(self) -> u16 {
        match self {
            Layout::Deflated => METHOD_DEFLATED,
            Layout::Zip64Stored | Layout::Known => METHOD_STORED,
        }
    }

    fn flags(self) -> u16 {
        match self {
            Layout::Deflated | Layout::Zip64Stored => FLAG_DATA_DESCRIPTOR | FLAG_UTF8,
            Layout::Known => FLAG_UTF8,
        }
    }
}

struct CentralEntry {
    name: Zeroizing<String>,
    layout: Layout,
    crc32: u32,
    size: u64,
    compressed_size: u64,
    offset: u64,
}

impl CentralEntry {
    fn zip64_extra_len(&self) -> u64 {
        zip64_central_extra_len(self.size, self.compressed_size, self.offset)
    }

    fn version_needed(&self) -> u16 {
        if self.layout == Layout::Zip64Stored || self.zip64_extra_len() > 0 {
            VERSION_ZIP64
        } else {
            VERSION_CLASSIC
        }
    }
}

fn zip64_central_extra_len(size: u64, compressed_size: u64, offset: u64) -> u64 {
    let fields = [size, compressed_size, offset]
        .iter()
        .filter(|v| **v >= U32_MAX)
        .count() as u64;
    if fields == 0 {
        0
    } else {
        4 + 8 * fields
    }
}

/// A streamed entry being written.
struct OpenEntry {
    layout: Layout,
    crc: crc32fast::Hasher,
    size: u64,
    compressed_size: u64,
    /// Data waiting to fill a deflate block (deflated entries only).
    pending: WipedVec,
}

/// Size and CRC of a finished entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    pub size: u64,
    pub crc32: u32,
}

/// Streams a ZIP archive into `out`. Memory use is one small record per entry
/// and at most one deflate block of pending data.
pub struct ZipStreamWriter<W: Write> {
    out: W,
    offset: u64,
    timestamp: DosDateTime,
    /// The layout of streamed entries.
    streamed: Layout,
    /// The most data a streamed entry may hold, if bounded.
    max_streamed: Option<u64>,
    entries: Vec<CentralEntry>,
    open: Option<OpenEntry>,
}

impl<W: Write> ZipStreamWriter<W> {
    /// `max_entry_size` bounds the data of every streamed entry: when it keeps
    /// entries below 4 GiB they are deflated (readable by streaming readers
    /// such as Java's `ZipInputStream`); without a bound, or with a larger
    /// one, they are ZIP64 stored entries. Writing past the bound fails.
    pub fn new(out: W, timestamp: DosDateTime, max_entry_size: Option<u64>) -> Self {
        let streamed = match max_entry_size {
            Some(max) if deflated_len_bound(max) < U32_MAX => Layout::Deflated,
            _ => Layout::Zip64Stored,
        };
        ZipStreamWriter {
            out,
            offset: 0,
            timestamp,
            streamed,
            max_streamed: max_entry_size,
            entries: Vec::new(),
            open: None,
        }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn check_name(&self, name: &str) -> io::Result<()> {
        if self.open.is_some() {
            return Err(io::Error::other("zip: previous entry not finished"));
        }
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "zip: bad entry name length",
            ));
        }
        Ok(())
    }

    /// Writes a local header; `known` carries (crc, size) for known entries.
    fn local_header(
        &mut self,
        name: &str,
        layout: Layout,
        known: Option<(u32, u64)>,
    ) -> io::Result<()> {
        let (crc, size) = known.unwrap_or((0, 0));
        let zip64_extra = match layout {
            Layout::Zip64Stored => true,
            Layout::Known => size >= U32_MAX,
            Layout::Deflated => false,
        };
        let size32 = if zip64_extra {
            0xFFFF_FFFF
        } else {
            size as u32
        };
        let mut header = Vec::with_capacity((LOCAL_HEADER_LEN + LOCAL_ZIP64_EXTRA_LEN) as usize);
        header.extend_from_slice(&LOCAL_HEADER_SIG.to_le_bytes());
        let version = if zip64_extra {
            VERSION_ZIP64
        } else {
            VERSION_CLASSIC
        };
        header.extend_from_slice(&version.to_le_bytes());
        header.extend_from_slice(&layout.flags().to_le_bytes());
        header.extend_from_slice(&layout.method().to_le_bytes());
        header.extend_from_slice(&self.timestamp.time.to_le_bytes());
        header.extend_from_slice(&self.timestamp.date.to_le_bytes());
        header.extend_from_slice(&crc.to_le_bytes());
        header.extend_from_slice(&size32.to_le_bytes()); // compressed
        header.extend_from_slice(&size32.to_le_bytes()); // uncompressed
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let extra_len = if zip64_extra {
            LOCAL_ZIP64_EXTRA_LEN
        } else {
            0
        };
        header.extend_from_slice(&(extra_len as u16).to_le_bytes());
        self.put(&header)?;
        self.put(name.as_bytes())?;
        if zip64_extra {
            let mut extra = [0u8; LOCAL_ZIP64_EXTRA_LEN as usize];
            extra[0..2].copy_from_slice(&1u16.to_le_bytes());
            extra[2..4].copy_from_slice(&16u16.to_le_bytes());
            extra[4..12].copy_from_slice(&size.to_le_bytes());
            extra[12..20].copy_from_slice(&size.to_le_bytes());
            self.put(&extra)?;
        }
        Ok(())
    }

    /// Starts a streamed entry; the previous one must have been finished.
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        self.check_name(name)?;
        let offset = self.offset;
        let layout = self.streamed;
        self.local_header(name, layout, None)?;
        self.entries.push(CentralEntry {
            name: Zeroizing::new(name.to_owned()),
            layout,
            crc32: 0,
            size: 0,
            compressed_size: 0,
            offset,
        });
        self.open = Some(OpenEntry {
            layout,
            crc: crc32fast::Hasher::new(),
            size: 0,
            compressed_size: 0,
            pending: WipedVec::default(),
        });
        Ok(())
    }

    /// Appends data to the open entry.
    pub fn write_data(&mut self, mut data: &[u8]) -> io::Result<()> {
        let mut open = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("zip: no open entry"))?;
        let result = (|| {
            open.size += data.len() as u64;
            if self.max_streamed.is_some_and(|max| open.size > max) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "zip: entry larger than the bound it was made for",
                ));
            }
            open.crc.update(data);
            if open.layout != Layout::Deflated {
                open.compressed_size += data.len() as u64;
                return self.put(data);
            }
            while !data.is_empty() {
                if open.pending.is_empty() && data.len() >= DEFLATE_DIRECT_MIN {
                    let n = data.len().min(DEFLATE_BLOCK_MAX);
                    open.compressed_size += self.deflate_block(&data[..n])?;
                    data = &data[n..];
                } else {
                    if open.pending.capacity() == 0 {
                        open.pending.reserve_exact(DEFLATE_BLOCK_MAX);
                    }
                    let n = data.len().min(DEFLATE_BLOCK_MAX - open.pending.len());
                    open.pending.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    if open.pending.len() == DEFLATE_BLOCK_MAX {
                        open.compressed_size += self.deflate_block(&open.pending)?;
                        // Wipes the plaintext and keeps the allocation.
                        open.pending.wipe_and_clear();
                    }
                }
            }
            Ok(())
        })();
        self.open = Some(open);
        result
    }

    /// Writes one stored, non-final deflate block; returns the bytes written.
    fn deflate_block(&mut self, data: &[u8]) -> io::Result<u64> {
        debug_assert!(data.len() <= DEFLATE_BLOCK_MAX);
        let len = data.len() as u16;
        let mut header = [0u8; DEFLATE_BLOCK_HEADER_LEN as usize];
        header[1..3].copy_from_slice(&len.to_le_bytes());
        header[3..5].copy_from_slice(&(!len).to_le_bytes());
        self.put(&header)?;
        self.put(data)?;
        Ok(DEFLATE_BLOCK_HEADER_LEN + data.len() as u64)
    }

    /// Ends the open entry by writing its data descriptor.
    pub fn finish_entry(&mut self) -> io::Result<EntryInfo> {
        let mut open = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("zip: no open entry"))?;
        if open.layout == Layout::Deflated {
            if !open.pending.is_empty() {
                open.compressed_size += self.deflate_block(&open.pending)?;
            }
            self.put(&DEFLATE_END)?;
            open.compressed_size += DEFLATE_END.len() as u64;
        }
        let crc32 = open.crc.finalize();
        let mut descriptor = Vec::with_capacity(ZIP64_DATA_DESCRIPTOR_LEN as usize);
        descriptor.extend_from_slice(&DATA_DESCRIPTOR_SIG.to_le_bytes());
        descriptor.extend_from_slice(&crc32.to_le_bytes());
        if open.layout == Layout::Deflated {
            descriptor.extend_from_slice(&(open.compressed_size as u32).to_le_bytes());
            descriptor.extend_from_slice(&(open.size as u32).to_le_bytes());
        } else {
            descriptor.extend_from_slice(&open.compressed_size.to_le_bytes());
            descriptor.extend_from_slice(&open.size.to_le_bytes());
        }
        self.put(&descriptor)?;
        let entry = self.entries.last_mut().expect("open entry was pushed");
        entry.crc32 = crc32;
        entry.size = open.size;
        entry.compressed_size = open.compressed_size;
        Ok(EntryInfo {
            size: open.size,
            crc32,
        })
    }

    /// Adds a stored entry whose whole content is `data`.
    pub fn add_known_entry(&mut self, name: &str, data: &[u8]) -> io::Result<EntryInfo> {
        let crc32 = crc32fast::hash(data);
        self.known_entry(name, crc32, data.len() as u64, |w| w.put(data))
    }

    /// Adds a stored entry of `len` zero bytes.
    pub fn add_zero_entry(&mut self, name: &str, len: u64) -> io::Result<EntryInfo> {
        let zeros = [0u8; 16 * 1024];
        let mut crc = crc32fast::Hasher::new();
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            crc.update(&zeros[..n]);
            left -= n as u64;
        }
        self.known_entry(name, crc.finalize(), len, |w| {
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                w.put(&zeros[..n])?;
                left -= n as u64;
            }
            Ok(())
        })
    }

    fn known_entry(
        &mut self,
        name: &str,
        crc32: u32,
        size: u64,
        write: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> io::Result<EntryInfo> {
        self.check_name(name)?;
        let offset = self.offset;
        self.local_header(name, Layout::Known, Some((crc32, size)))?;
        write(self)?;
        self.entries.push(CentralEntry {
            name: Zeroizing::new(name.to_owned()),
            layout: Layout::Known,
            crc32,
            size,
            compressed_size: size,
            offset,
        });
        Ok(EntryInfo { size, crc32 })
    }

    /// The archive's total length if one more known entry named `name_len`
    /// bytes with `data_len` bytes of data were added and the archive then
    /// finished.
    pub fn projected_len_with_known_entry(&self, name_len: usize, data_len: u64) -> u64 {
        let entry_offset = self.offset;
        let local_extra = if data_len >= U32_MAX {
            LOCAL_ZIP64_EXTRA_LEN
        } else {
            0
        };
        let cd_offset = entry_offset + LOCAL_HEADER_LEN + name_len as u64 + local_extra + data_len;
        let cd_len = self.central_directory_len()
            + CENTRAL_HEADER_LEN
            + name_len as u64
            + zip64_central_extra_len(data_len, data_len, entry_offset);
        cd_offset + cd_len + end_records_len(self.entries.len() as u64 + 1, cd_len, cd_offset)
    }

    fn central_directory_len(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| CENTRAL_HEADER_LEN + e.name.len() as u64 + e.zip64_extra_len())
            .sum()
    }

    /// Writes the central directory and end records; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.open.is_some() {
            return Err(io::Error::other("zip: entry not finished"));
        }
        let cd_offset = self.offset;
        let entries = std::mem::take(&mut self.entries);
        for entry in &entries {
            self.write_central_header(entry)?;
        }
        let cd_len = self.offset - cd_offset;
        let count = entries.len() as u64;
        if needs_zip64_end(count, cd_len, cd_offset) {
            let zip64_eocd_offset = self.offset;
            let mut rec = Vec::with_capacity((ZIP64_EOCD_LEN + ZIP64_LOCATOR_LEN) as usize);
            rec.extend_from_slice(&ZIP64_EOCD_SIG.to_le_bytes());
            rec.extend_from_slice(&(ZIP64_EOCD_LEN - 12).to_le_bytes());
            rec.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
            rec.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
            rec.extend_from_slice(&0u32.to_le_bytes()); // this disk
            rec.extend_from_slice(&0u32.to_le_bytes()); // disk with central directory
            rec.extend_from_slice(&count.to_le_bytes());
            rec.extend_from_slice(&count.to_le_bytes());
            rec.extend_from_slice(&cd_len.to_le_bytes());
            rec.extend_from_slice(&cd_offset.to_le_bytes());
            rec.extend_from_slice(&ZIP64_LOCATOR_SIG.to_le_bytes());
            rec.extend_from_slice(&0u32.to_le_bytes());
            rec.extend_from_slice(&zip64_eocd_offset.to_le_bytes());
            rec.extend_from_slice(&1u32.to_le_bytes()); // total disks
            self.put(&rec)?;
        }
        let mut eocd = Vec::with_capacity(EOCD_LEN as usize);
        eocd.extend_from_slice(&EOCD_SIG.to_le_bytes());
        eocd.extend_from_slice(&0u16.to_le_bytes());
        eocd.extend_from_slice(&0u16.to_le_bytes());
        let count16 = count.min(U16_MAX) as u16;
        eocd.extend_from_slice(&count16.to_le_bytes());
        eocd.extend_from_slice(&count16.to_le_bytes());
        eocd.extend_from_slice(&(cd_len.min(U32_MAX) as u32).to_le_bytes());
        eocd.extend_from_slice(&(cd_offset.min(U32_MAX) as u32).to_le_bytes());
        eocd.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.put(&eocd)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_central_header(&mut self, entry: &CentralEntry) -> io::Result<()> {
        let mut h = Zeroizing::new(Vec::with_capacity(
            (CENTRAL_HEADER_LEN + entry.name.len() as u64 + 28) as usize,
        ));
        let clamp = |v: u64| v.min(U32_MAX) as u32;
        h.extend_from_slice(&CENTRAL_HEADER_SIG.to_le_bytes());
        h.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        h.extend_from_slice(&entry.version_needed().to_le_bytes());
        h.extend_from_slice(&entry.layout.flags().to_le_bytes());
        h.extend_from_slice(&entry.layout.method().to_le_bytes());
        h.extend_from_slice(&self.timestamp.time.to_le_bytes());
        h.extend_from_slice(&self.timestamp.date.to_le_bytes());
        h.extend_from_slice(&entry.crc32.to_le_bytes());
        h.extend_from_slice(&clamp(entry.compressed_size).to_le_bytes());
        h.extend_from_slice(&clamp(entry.size).to_le_bytes());
        h.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(entry.zip64_extra_len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // comment
        h.extend_from_slice(&0u16.to_le_bytes()); // disk number start
        h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        h.extend_from_slice(&(UNIX_MODE_FILE_0600 << 16).to_le_bytes());
        h.extend_from_slice(&clamp(entry.offset).to_le_bytes());
        h.extend_from_slice(entry.name.as_bytes());
        if entry.zip64_extra_len() > 0 {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&((entry.zip64_extra_len() - 4) as u16).to_le_bytes());
            // APPNOTE order: uncompressed, compressed, offset; only those that
            // did not fit.
            for value in [entry.size, entry.compressed_size, entry.offset] {
                if value >= U32_MAX {
                    h.extend_from_slice(&value.to_le_bytes());
                }
            }
        }
        self.put(&h)
    }
}

fn needs_zip64_end(count: u64, cd_len: u64, cd_offset: u64) -> bool {
    count >= U16_MAX || cd_len >= U32_MAX || cd_offset >= U32_MAX
}

fn end_records_len(count: u64, cd_len: u64, cd_offset: u64) -> u64 {
    if needs_zip64_end(count, cd_len, cd_offset) {
        ZIP64_EOCD_LEN + ZIP64_LOCATOR_LEN + EOCD_LEN
    } else {
        EOCD_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    /// Builds an archive of streamed entries, writing each in `chunk`-byte
    /// pieces, with the layout a bound of `max` selects.
    fn build_with(entries: &[(&str, &[u8])], max: Option<u64>, chunk: usize) -> Vec<u8> {
        let mut w = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH, max);
        for (name, data) in entries {
            w.start_entry(name).unwrap();
            for piece in data.chunks(chunk.max(1)) {
                w.write_data(piece).unwrap();
            }
            w.finish_entry().unwrap();
        }
        w.finish().unwrap()
    }

    fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
        build_with(entries, Some(1 << 30), 1 << 20)
    }

    #[test]
    fn zip_crate_reads_what_we_write() {
        let bytes = build(&[
            ("a.txt", b"hello"),
            ("dir/b.bin", &[0u8; 70_000]),
            ("empty", b""),
        ]);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        let mut s = String::new();
        archive
            .by_name("a.txt")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");
        let mut v = Vec::new();
        archive
            .by_name("dir/b.bin")
            .unwrap()
            .read_to_end(&mut v)
            .unwrap();
        assert_eq!(v.len(), 70_000);
        assert_eq!(archive.by_name("empty").unwrap().size(), 0);
    }

    /// Both layouts, written in pieces of every awkward size, read back
    /// exactly; deflated entries cost at most the stated overhead.
    #[test]
    fn both_layouts_read_back_whatever_the_write_sizes() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for max in [Some(1 << 20), None] {
            for chunk in [1, 7, 8191, 8192, 65_535, 65_536, 100_000, 300_000] {
                let bytes = build_with(&[("x.bin", &data), ("e", b"")], max, chunk);
                let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
                let mut v = Vec::new();
                let mut entry = archive.by_name("x.bin").unwrap();
                let method = entry.compression();
                let compressed = entry.compressed_size();
                entry.read_to_end(&mut v).unwrap();
                assert_eq!(v, data, "max {max:?} chunk {chunk}");
                if max.is_some() {
                    assert_eq!(method, zip::CompressionMethod::Deflated);
                    assert!(compressed <= deflated_len_bound(data.len() as u64));
                } else {
                    assert_eq!(method, zip::CompressionMethod::Stored);
                    assert_eq!(compressed, data.len() as u64);
                }
            }
        }
    }

    #[test]
    fn the_bound_picks_the_layout_and_is_enforced() {
        let under =
            ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH, Some(U32_MAX - 10_000_000));
        assert_eq!(under.streamed, Layout::Deflated);
        let over = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH, Some(U32_MAX - 1000));
        assert_eq!(over.streamed, Layout::Zip64Stored);
        let mut w = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH, Some(4));
        w.start_entry("a").unwrap();
        w.write_data(b"1234").unwrap();
        assert!(w.write_data(b"5").is_err());
    }

    #[test]
    fn projection_is_exact() {
        for data_len in [0u64, 1, 1000, 65_536, 1 << 20] {
            let mut w = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH, Some(1 << 30));
            w.start_entry("message.txt").unwrap();
            w.write_data(b"hi").unwrap();
            w.finish_entry().unwrap();
            w.add_known_entry("manifest.json", b"{}").unwrap();
            let projected = w.projected_len_with_known_entry(8, data_len);
            w.add_zero_entry(".padding", data_len).unwrap();
            let out = w.finish().unwrap();
            assert_eq!(projected, out.len() as u64);
        }
    }

    #[test]
    fn dos_time_of_known_instant() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_764_043_200).unwrap(); // 2025-11-25T04:00:00Z
        let d = DosDateTime::from_utc(t);
        assert_eq!(d.date >> 9, 2025 - 1980);
        assert_eq!((d.date >> 5) & 0xF, 11);
        assert_eq!(d.date & 0x1F, 25);
        assert_eq!(d.time >> 11, 4);
        assert_eq!(
            DosDateTime::from_utc(time::OffsetDateTime::UNIX_EPOCH),
            DosDateTime::EPOCH
        );
    }
}
