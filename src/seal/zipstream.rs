//! A forward-only ZIP writer for stored entries.
//!
//! Hand-written rather than taken from the `zip` crate because Padmé padding needs
//! the archive's final length to be known *before* the central directory is
//! written, to the byte; that requires owning the exact layout. Layout choices
//! (all documented in docs/FORMAT.md):
//! - every entry is stored (method 0), UTF-8 named (flag bit 11) and followed by a
//!   data descriptor (flag bit 3), because sizes and CRCs are unknown until the
//!   source has finished sending;
//! - every local header carries a ZIP64 extra field, so the data descriptor always
//!   has 8-byte sizes and an entry may grow past 4 GiB without being known upfront;
//! - the central directory uses ZIP64 fields only where a value does not fit;
//! - every entry has the same coarse timestamp and Unix mode 0600.

use std::io::{self, Write};

use zeroize::Zeroizing;

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;

const VERSION_NEEDED: u16 = 45; // 4.5: ZIP64
const VERSION_MADE_BY: u16 = (3 << 8) | 45; // Unix host, so external attributes hold a mode
const FLAGS: u16 = (1 << 3) | (1 << 11); // data descriptor, UTF-8 names
const UNIX_MODE_FILE_0600: u32 = 0o100_600;

const LOCAL_HEADER_LEN: u64 = 30;
const LOCAL_ZIP64_EXTRA_LEN: u64 = 20;
const DATA_DESCRIPTOR_LEN: u64 = 24;
const CENTRAL_HEADER_LEN: u64 = 46;
const EOCD_LEN: u64 = 22;
const ZIP64_EOCD_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;

const U32_MAX: u64 = 0xFFFF_FFFF;
const U16_MAX: u64 = 0xFFFF;

/// Longest entry name we accept (the format field is 16 bits).
pub const MAX_NAME_LEN: usize = 0xFFFF;

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

struct CentralEntry {
    name: Zeroizing<String>,
    crc32: u32,
    size: u64,
    offset: u64,
}

impl CentralEntry {
    fn zip64_extra_len(&self) -> u64 {
        zip64_central_extra_len(self.size, self.offset)
    }
}

fn zip64_central_extra_len(size: u64, offset: u64) -> u64 {
    let mut fields = 0;
    if size >= U32_MAX {
        fields += 2; // uncompressed and compressed size
    }
    if offset >= U32_MAX {
        fields += 1;
    }
    if fields == 0 {
        0
    } else {
        4 + 8 * fields
    }
}

struct OpenEntry {
    crc: crc32fast::Hasher,
    size: u64,
}

/// Size and CRC of a finished entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    pub size: u64,
    pub crc32: u32,
}

/// Streams a ZIP archive into `out`. Memory use is one small record per entry.
pub struct ZipStreamWriter<W: Write> {
    out: W,
    offset: u64,
    timestamp: DosDateTime,
    entries: Vec<CentralEntry>,
    open: Option<OpenEntry>,
}

impl<W: Write> ZipStreamWriter<W> {
    pub fn new(out: W, timestamp: DosDateTime) -> Self {
        ZipStreamWriter {
            out,
            offset: 0,
            timestamp,
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

    /// Starts a new entry; the previous one must have been finished.
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        if self.open.is_some() {
            return Err(io::Error::other("zip: previous entry not finished"));
        }
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "zip: bad entry name length",
            ));
        }
        let offset = self.offset;
        let mut header = Vec::with_capacity((LOCAL_HEADER_LEN + LOCAL_ZIP64_EXTRA_LEN) as usize);
        header.extend_from_slice(&LOCAL_HEADER_SIG.to_le_bytes());
        header.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&self.timestamp.time.to_le_bytes());
        header.extend_from_slice(&self.timestamp.date.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes()); // CRC: in the data descriptor
        header.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes()); // sizes: in ZIP64 extra
        header.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&(LOCAL_ZIP64_EXTRA_LEN as u16).to_le_bytes());
        self.put(&header)?;
        self.put(name.as_bytes())?;
        let mut extra = [0u8; LOCAL_ZIP64_EXTRA_LEN as usize];
        extra[0..2].copy_from_slice(&1u16.to_le_bytes());
        extra[2..4].copy_from_slice(&16u16.to_le_bytes());
        self.put(&extra)?;
        self.entries.push(CentralEntry {
            name: Zeroizing::new(name.to_owned()),
            crc32: 0,
            size: 0,
            offset,
        });
        self.open = Some(OpenEntry {
            crc: crc32fast::Hasher::new(),
            size: 0,
        });
        Ok(())
    }

    /// Appends data to the open entry.
    pub fn write_data(&mut self, data: &[u8]) -> io::Result<()> {
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("zip: no open entry"))?;
        open.crc.update(data);
        open.size += data.len() as u64;
        self.out.write_all(data)?;
        self.offset += data.len() as u64;
        Ok(())
    }

    /// Ends the open entry by writing its data descriptor.
    pub fn finish_entry(&mut self) -> io::Result<EntryInfo> {
        let open = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("zip: no open entry"))?;
        let crc32 = open.crc.finalize();
        let mut descriptor = [0u8; DATA_DESCRIPTOR_LEN as usize];
        descriptor[0..4].copy_from_slice(&DATA_DESCRIPTOR_SIG.to_le_bytes());
        descriptor[4..8].copy_from_slice(&crc32.to_le_bytes());
        descriptor[8..16].copy_from_slice(&open.size.to_le_bytes());
        descriptor[16..24].copy_from_slice(&open.size.to_le_bytes());
        self.put(&descriptor)?;
        let entry = self.entries.last_mut().expect("open entry was pushed");
        entry.crc32 = crc32;
        entry.size = open.size;
        Ok(EntryInfo {
            size: open.size,
            crc32,
        })
    }

    /// The archive's total length if one more entry named `name_len` bytes with
    /// `data_len` bytes of data were added and the archive then finished.
    pub fn projected_len_with_entry(&self, name_len: usize, data_len: u64) -> u64 {
        let entry_offset = self.offset;
        let cd_offset = entry_offset
            + LOCAL_HEADER_LEN
            + name_len as u64
            + LOCAL_ZIP64_EXTRA_LEN
            + data_len
            + DATA_DESCRIPTOR_LEN;
        let cd_len = self.central_directory_len()
            + CENTRAL_HEADER_LEN
            + name_len as u64
            + zip64_central_extra_len(data_len, entry_offset);
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
            rec.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
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
        let large_size = entry.size >= U32_MAX;
        let large_offset = entry.offset >= U32_MAX;
        h.extend_from_slice(&CENTRAL_HEADER_SIG.to_le_bytes());
        h.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        h.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        h.extend_from_slice(&FLAGS.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&self.timestamp.time.to_le_bytes());
        h.extend_from_slice(&self.timestamp.date.to_le_bytes());
        h.extend_from_slice(&entry.crc32.to_le_bytes());
        let size32 = entry.size.min(U32_MAX) as u32;
        h.extend_from_slice(&size32.to_le_bytes());
        h.extend_from_slice(&size32.to_le_bytes());
        h.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(entry.zip64_extra_len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // comment
        h.extend_from_slice(&0u16.to_le_bytes()); // disk number start
        h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        h.extend_from_slice(&(UNIX_MODE_FILE_0600 << 16).to_le_bytes());
        h.extend_from_slice(&(entry.offset.min(U32_MAX) as u32).to_le_bytes());
        h.extend_from_slice(entry.name.as_bytes());
        if large_size || large_offset {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&((entry.zip64_extra_len() - 4) as u16).to_le_bytes());
            if large_size {
                h.extend_from_slice(&entry.size.to_le_bytes());
                h.extend_from_slice(&entry.size.to_le_bytes());
            }
            if large_offset {
                h.extend_from_slice(&entry.offset.to_le_bytes());
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

    fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH);
        for (name, data) in entries {
            w.start_entry(name).unwrap();
            w.write_data(data).unwrap();
            w.finish_entry().unwrap();
        }
        w.finish().unwrap()
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

    #[test]
    fn projection_is_exact() {
        for data_len in [0u64, 1, 1000, 65_536, 1 << 20] {
            let mut w = ZipStreamWriter::new(Vec::new(), DosDateTime::EPOCH);
            w.start_entry("manifest.json").unwrap();
            w.write_data(b"{}").unwrap();
            w.finish_entry().unwrap();
            let projected = w.projected_len_with_entry(8, data_len);
            w.start_entry(".padding").unwrap();
            w.write_data(&vec![0u8; data_len as usize]).unwrap();
            w.finish_entry().unwrap();
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
