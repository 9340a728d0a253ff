//! The ZIP container of office documents (OOXML, OpenDocument): read whole
//! into named parts under caps (entries, bytes per part, bytes in all), and
//! written back plainly (no extra fields, every time 1980-01-01, the order
//! given).

use crate::limits::{MAX_ARCHIVE_ENTRIES, OFFICE_MAX_DOCUMENT_BYTES, OFFICE_MAX_PART_BYTES};
use std::io::{Cursor, Read, Write};

use super::NotCleaned;

pub(crate) struct Part {
    pub name: String,
    pub data: Vec<u8>,
}

/// Every file entry of the archive, decompressed.
pub(crate) fn read_parts(data: &[u8]) -> Result<Vec<Part>, NotCleaned> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| {
        NotCleaned::new(format!("the document's ZIP container cannot be read ({e})"))
    })?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(NotCleaned::new(format!(
            "the document has {} parts, more than the {MAX_ARCHIVE_ENTRIES} sealdrop-open reads",
            archive.len()
        )));
    }
    let mut parts: Vec<Part> = Vec::with_capacity(archive.len());
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| NotCleaned::new(format!("a part of the document cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        if entry.encrypted() {
            return Err(NotCleaned::new("the document is encrypted"));
        }
        let name = entry
            .name()
            .map_err(|e| NotCleaned::new(format!("a part has an unreadable name ({e})")))?
            .into_owned();
        // Part names are case-insensitive in both formats: two that differ
        // only in case would be read differently by different programs.
        if parts.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
            return Err(NotCleaned::new(format!(
                "the document has two parts named {name}"
            )));
        }
        // The declared size as a first reservation, so that an honest part
        // takes one allocation; a part that lies grows the buffer by
        // doubling up to the cap (at most twice the cap in memory).
        let mut part = Vec::with_capacity(entry.size().min(OFFICE_MAX_PART_BYTES + 1) as usize);
        (&mut entry)
            .take(OFFICE_MAX_PART_BYTES + 1)
            .read_to_end(&mut part)
            .map_err(|e| {
                NotCleaned::new(format!("the part {name} cannot be decompressed ({e})"))
            })?;
        if part.len() as u64 > OFFICE_MAX_PART_BYTES {
            return Err(NotCleaned::new(format!(
                "the part {name} decompresses to more than {OFFICE_MAX_PART_BYTES} bytes"
            )));
        }
        total += part.len() as u64;
        if total > OFFICE_MAX_DOCUMENT_BYTES {
            return Err(NotCleaned::new(format!(
                "the document decompresses to more than {OFFICE_MAX_DOCUMENT_BYTES} bytes"
            )));
        }
        parts.push(Part { name, data: part });
    }
    Ok(parts)
}

/// A ZIP of `parts`, in order; `stored` names parts kept uncompressed
/// (OpenDocument's `mimetype` must be).
pub(crate) fn write_parts(parts: &[Part], stored: &[&str]) -> Result<Vec<u8>, NotCleaned> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let failed = |e: &dyn std::fmt::Display| {
        NotCleaned::new(format!("the cleaned document could not be written ({e})"))
    };
    for part in parts {
        let method = if stored.contains(&part.name.as_str()) {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        writer
            .start_file(part.name.as_str(), options)
            .map_err(|e| failed(&e))?;
        writer.write_all(&part.data).map_err(|e| failed(&e))?;
    }
    Ok(writer.finish().map_err(|e| failed(&e))?.into_inner())
}
