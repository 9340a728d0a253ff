//! Photoshop's image resources (`8BIM` blocks in a JPEG's APP13 segment) and
//! the IPTC-IIM records inside them: captions, bylines, places, which news
//! photos carry. Read for `inspect`; never copied into a cleaned file.

use super::limits::MAX_RECORDS;
use super::{be16, be32, field_text, Category, Report};

/// Reports what Photoshop resources (after the "Photoshop 3.0\0" header)
/// reveal.
pub(crate) fn inspect_resources(data: &[u8], report: &mut Report, place: &str) {
    let mut at = 0;
    for _ in 0..MAX_RECORDS {
        if at + 12 > data.len() || &data[at..at + 4] != b"8BIM" {
            return;
        }
        let Some(id) = be16(data, at + 4) else { return };
        // A Pascal-string name, padded to an even length with its length byte.
        let name_len = data[at + 6] as usize;
        let after_name = at + 6 + ((name_len + 2) & !1);
        let Some(size) = be32(data, after_name).map(|s| s as usize) else {
            return;
        };
        let start = after_name + 4;
        let Some(resource) = data.get(start..start.saturating_add(size)) else {
            report.unchecked(format!(
                "{place}: a Photoshop resource that runs past its segment"
            ));
            return;
        };
        match id {
            0x0404 => inspect_iim(resource, report, &format!("{place}, IPTC")),
            0x0409 | 0x040C => report.add(
                Category::Hidden,
                "thumbnail",
                "a Photoshop thumbnail: a small copy of the picture, maybe before editing",
                place,
            ),
            0x0422 => super::exif::inspect(resource, report, &format!("{place}, EXIF copy")),
            0x0424 => super::xmp::inspect(resource, report, &format!("{place}, XMP copy")),
            _ => {}
        }
        at = start + ((size + 1) & !1);
    }
    report.unchecked(format!(
        "{place}: more than {MAX_RECORDS} Photoshop resources"
    ));
}

fn iim_meaning(record: u8, dataset: u8) -> Option<(Category, &'static str)> {
    use Category::*;
    Some(match (record, dataset) {
        (2, 80) => (People, "byline (photographer or writer)"),
        (2, 85) => (People, "byline title"),
        (2, 110) => (People, "credit"),
        (2, 115) => (People, "source"),
        (2, 116) => (People, "copyright notice"),
        (2, 118) => (People, "contact"),
        (2, 122) => (People, "caption writer"),
        (2, 120) => (People, "caption"),
        (2, 5) => (People, "title"),
        (2, 25) => (People, "keywords"),
        (2, 90) => (Location, "city"),
        (2, 92) => (Location, "sub-location"),
        (2, 95) => (Location, "province or state"),
        (2, 100) => (Location, "country code"),
        (2, 101) => (Location, "country"),
        (2, 55) => (Times, "date created"),
        (2, 60) => (Times, "time created"),
        (2, 62) => (Times, "date digitized"),
        (2, 65) => (Device, "program"),
        (2, 70) => (Device, "program version"),
        _ => return None,
    })
}

/// IPTC-IIM datasets: 0x1C, record, dataset, length, value.
pub(super) fn inspect_iim(data: &[u8], report: &mut Report, place: &str) {
    let mut at = 0;
    for _ in 0..MAX_RECORDS {
        if at + 5 > data.len() || data[at] != 0x1C {
            return;
        }
        let (record, dataset) = (data[at + 1], data[at + 2]);
        let Some(len) = be16(data, at + 3) else {
            return;
        };
        if len & 0x8000 != 0 {
            // Extended lengths are for binary objects, not text fields.
            report.unchecked(format!("{place}: an extended IPTC dataset"));
            return;
        }
        let start = at + 5;
        let Some(value) = data.get(start..start + len as usize) else {
            return;
        };
        if let Some((category, what)) = iim_meaning(record, dataset) {
            report.add(category, what, field_text(value), place);
        }
        at = start + len as usize;
    }
}
