//! TIFF: a header, then a chain of image file directories (one per page),
//! each a list of tagged values pointing at the pixel data. Camera and
//! scanner metadata are tags too (make, model, software, dates, artist,
//! EXIF and GPS directories, XMP, IPTC, Photoshop data, ICC profiles,
//! previews in sub-directories).
//!
//! A cleaned TIFF is written anew: the same byte order, every page, each
//! with only the tags that describe its pixels, and its strips or tiles
//! copied byte for byte. BigTIFF and old-style JPEG compression are NOT
//! CLEANED.

use super::{field_text, Category, NotCleaned, Report, Scrubbed};
use crate::limits::{
    tiff_amplification_cap, MAX_RECORDS, TIFF_MAX_DIRECTORY_ENTRIES, TIFF_MAX_PAGES,
};

/// Tags that say how to read and show the pixels.
const KEPT_TAGS: &[u16] = &[
    254, 256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 282, 283, 284, 296, 297, 317, 318,
    319, 320, 322, 323, 324, 325, 338, 339, 347, 529, 530, 531, 532,
];
const STRIP_OFFSETS: u16 = 273;
const STRIP_BYTE_COUNTS: u16 = 279;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;

#[derive(Clone, Copy)]
struct Order(bool); // true: little-endian ("II")

impl Order {
    fn u16(self, data: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = data.get(at..at + 2)?.try_into().ok()?;
        Some(if self.0 {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }
    fn u32(self, data: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if self.0 {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn put16(self, out: &mut Vec<u8>, v: u16) {
        out.extend(if self.0 {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        });
    }
    fn put32(self, out: &mut Vec<u8>, v: u32) {
        out.extend(if self.0 {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        });
    }
}

/// One entry of a directory, with its value's bytes.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

fn type_size(kind: u16) -> Option<usize> {
    Some(match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => return None,
    })
}

fn damaged(what: &str) -> NotCleaned {
    NotCleaned::new(format!("the TIFF is damaged or cut short ({what})"))
}

/// The header's byte order and the directories, each with its entries.
fn parse(data: &[u8]) -> Result<(Order, Vec<Vec<Entry>>), NotCleaned> {
    let order = match data.get(..4) {
        Some(b"II*\0") => Order(true),
        Some(b"MM\0*") => Order(false),
        Some(b"II+\0") | Some(b"MM\0+") => {
            return Err(NotCleaned::new("BigTIFF files are not cleaned yet"))
        }
        _ => return Err(NotCleaned::new("not a TIFF")),
    };
    let mut pages = Vec::new();
    let mut next = order.u32(data, 4).ok_or_else(|| damaged("header"))? as usize;
    let mut seen = std::collections::HashSet::new();
    let mut copied = 0usize;
    while next != 0 {
        if !seen.insert(next) {
            return Err(damaged("a directory chain that loops"));
        }
        if pages.len() >= TIFF_MAX_PAGES {
            return Err(NotCleaned::new(format!(
                "the TIFF has more than {TIFF_MAX_PAGES} pages"
            )));
        }
        let count = order.u16(data, next).ok_or_else(|| damaged("directory"))? as usize;
        if count > TIFF_MAX_DIRECTORY_ENTRIES {
            return Err(NotCleaned::new(format!(
                "a TIFF directory with more than {TIFF_MAX_DIRECTORY_ENTRIES} entries"
            )));
        }
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = next + 2 + 12 * i;
            let tag = order.u16(data, at).ok_or_else(|| damaged("entry"))?;
            let kind = order.u16(data, at + 2).ok_or_else(|| damaged("entry"))?;
            let count = order.u32(data, at + 4).ok_or_else(|| damaged("entry"))?;
            let Some(size) = type_size(kind) else {
                if KEPT_TAGS.contains(&tag) {
                    return Err(damaged("a value of unknown type"));
                }
                continue;
            };
            let len = size
                .checked_mul(count as usize)
                .filter(|l| *l <= data.len())
                .ok_or_else(|| damaged("a value's length"))?;
            copied += len;
            if copied > tiff_amplification_cap(data) {
                return Err(damaged("values that add up to more than the file holds"));
            }
            let value = if len <= 4 {
                data.get(at + 8..at + 8 + len)
                    .ok_or_else(|| damaged("entry"))?
                    .to_vec()
            } else {
                let offset = order.u32(data, at + 8).ok_or_else(|| damaged("entry"))? as usize;
                data.get(offset..offset + len)
                    .ok_or_else(|| damaged("a value past the end"))?
                    .to_vec()
            };
            entries.push(Entry {
                tag,
                kind,
                count,
                value,
            });
        }
        pages.push(entries);
        next = order
            .u32(data, next + 2 + 12 * count)
            .ok_or_else(|| damaged("directory"))? as usize;
    }
    if pages.is_empty() {
        return Err(damaged("no image"));
    }
    Ok((order, pages))
}

/// The numbers of a SHORT or LONG value.
fn numbers(order: Order, entry: &Entry) -> Vec<u32> {
    match entry.kind {
        3 => entry
            .value
            .chunks_exact(2)
            .map(|c| u32::from(order.u16(c, 0).unwrap_or(0)))
            .collect(),
        4 => entry
            .value
            .chunks_exact(4)
            .map(|c| order.u32(c, 0).unwrap_or(0))
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let (order, pages) = parse(data)?;
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..4]);
    order.put32(&mut out, 0); // the first directory's offset, filled in below
    let mut removed: Vec<String> = Vec::new();
    let mut link_at = 4usize;
    for entries in &pages {
        if entries
            .iter()
            .any(|e| e.tag == 259 && numbers(order, e).first() == Some(&6))
        {
            return Err(NotCleaned::new(
                "old-style JPEG compression in a TIFF is not cleaned",
            ));
        }
        for entry in entries.iter().filter(|e| !KEPT_TAGS.contains(&e.tag)) {
            let what = match entry.tag {
                271 | 272 => "camera make and model".into(),
                305 | 316 => "software and host computer".into(),
                306 => "date and time".into(),
                315 | 33432 | 270 | 269 | 285 => "artist, copyright, description and names".into(),
                34665 | 34853 => "EXIF and GPS directories".into(),
                700 => "XMP".into(),
                33723 | 34377 => "IPTC and Photoshop data".into(),
                34675 => "ICC colour profile".into(),
                330 => "previews and thumbnails (sub-directories)".into(),
                tag => format!("tag {tag}"),
            };
            if !removed.contains(&what) {
                removed.push(what);
            }
        }
        // Pixel data first: each strip or tile copied, its new offset noted.
        let (offsets_tag, counts_tag) = if entries.iter().any(|e| e.tag == TILE_OFFSETS) {
            (TILE_OFFSETS, TILE_BYTE_COUNTS)
        } else {
            (STRIP_OFFSETS, STRIP_BYTE_COUNTS)
        };
        let find = |tag| entries.iter().find(|e| e.tag == tag);
        let offsets = find(offsets_tag)
            .map(|e| numbers(order, e))
            .ok_or_else(|| damaged("no pixel data"))?;
        let counts = find(counts_tag)
            .map(|e| numbers(order, e))
            .ok_or_else(|| damaged("no pixel data sizes"))?;
        if offsets.len() != counts.len() || offsets.len() > MAX_RECORDS * 10 {
            return Err(damaged("pixel data offsets and sizes that do not match"));
        }
        let mut new_offsets = Vec::with_capacity(offsets.len());
        for (offset, count) in offsets.iter().zip(&counts) {
            if out.len().saturating_add(*count as usize) > tiff_amplification_cap(data) {
                return Err(damaged("pixel data that repeats or overlaps"));
            }
            let chunk = data
                .get(*offset as usize..*offset as usize + *count as usize)
                .ok_or_else(|| damaged("pixel data past the end"))?;
            new_offsets.push(
                u32::try_from(out.len())
                    .map_err(|_| NotCleaned::new("the TIFF is larger than 4 GiB"))?,
            );
            out.extend_from_slice(chunk);
            if out.len() % 2 == 1 {
                out.push(0);
            }
        }
        // Then the values that do not fit in an entry.
        let mut kept: Vec<(u16, u16, u32, Vec<u8>)> = Vec::new();
        for entry in entries.iter().filter(|e| KEPT_TAGS.contains(&e.tag)) {
            if entry.tag == offsets_tag {
                let mut value = Vec::new();
                for offset in &new_offsets {
                    order.put32(&mut value, *offset);
                }
                kept.push((entry.tag, 4, new_offsets.len() as u32, value));
            } else {
                kept.push((entry.tag, entry.kind, entry.count, entry.value.clone()));
            }
        }
        kept.sort_by_key(|(tag, ..)| *tag);
        let mut placed: Vec<[u8; 4]> = Vec::new();
        for (_, _, _, value) in &kept {
            if value.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..value.len()].copy_from_slice(value);
                placed.push(inline);
            } else {
                let mut offset = Vec::new();
                order.put32(&mut offset, out.len() as u32);
                placed.push(offset.try_into().expect("four bytes"));
                out.extend_from_slice(value);
                if out.len() % 2 == 1 {
                    out.push(0);
                }
            }
        }
        // The directory, linked from the previous one.
        let directory = out.len() as u32;
        let mut link = Vec::new();
        order.put32(&mut link, directory);
        out[link_at..link_at + 4].copy_from_slice(&link);
        order.put16(&mut out, kept.len() as u16);
        for ((tag, kind, count, _), value) in kept.iter().zip(&placed) {
            order.put16(&mut out, *tag);
            order.put16(&mut out, *kind);
            order.put32(&mut out, *count);
            out.extend_from_slice(value);
        }
        link_at = out.len();
        order.put32(&mut out, 0);
    }
    Ok(Scrubbed { data: out, removed })
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    super::exif::inspect(data, report, "TIFF");
    let (order, pages) = match parse(data) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.unchecked(e.to_string());
            return;
        }
    };
    if pages.len() > 1 {
        // The EXIF reader takes a second page for a thumbnail.
        report
            .findings
            .retain(|f| !(f.what == "thumbnail" && f.place == "TIFF"));
        report.add(
            Category::Hidden,
            "pages",
            format!(
                "{} pages (only the first may show in a viewer)",
                pages.len()
            ),
            "TIFF",
        );
    }
    for (page, entries) in pages.iter().enumerate() {
        let place = format!("TIFF page {}", page + 1);
        for entry in entries {
            match entry.tag {
                700 => super::xmp::inspect(&entry.value, report, &format!("{place}, XMP")),
                33723 => super::iptc::inspect_iim(&entry.value, report, &format!("{place}, IPTC")),
                34377 => super::iptc::inspect_resources(
                    &entry.value,
                    report,
                    &format!("{place}, Photoshop"),
                ),
                34675 => report.add(
                    Category::Device,
                    "colour profile",
                    format!("{} bytes", entry.value.len()),
                    &place,
                ),
                330 => report.add(
                    Category::Hidden,
                    "previews or thumbnails",
                    format!("{} sub-directories", numbers(order, entry).len().max(1)),
                    &place,
                ),
                269 | 285 if page > 0 => report.add(
                    Category::People,
                    "page or document name",
                    field_text(&entry.value),
                    &place,
                ),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the scrub_tiff fuzz target, as slowness: entries that all
    /// point at the same large block were each copied, so a 40 KB file
    /// took seconds, and a crafted one could take hours.
    #[test]
    fn values_pointing_at_one_block_again_and_again_are_refused() {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        let entries = 900u16;
        tiff.extend(entries.to_le_bytes());
        for i in 0..entries {
            tiff.extend((40_000 + i).to_le_bytes()); // private tags
            tiff.extend(7u16.to_le_bytes()); // UNDEFINED
            tiff.extend(30_000u32.to_le_bytes());
            tiff.extend(8u32.to_le_bytes());
        }
        tiff.extend(0u32.to_le_bytes());
        tiff.resize(40_000, 0);
        let refused = scrub(&tiff).unwrap_err();
        assert!(refused.0.contains("add up"), "{refused}");
    }
}
