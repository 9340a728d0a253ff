//! MP4, MOV and M4A (ISO base media files): a tree of boxes. Metadata lives
//! in user-data (`udta`: the recording place `©xyz`, make, model,
//! software, dates, names), QuickTime's `meta` (keys such as
//! `com.apple.quicktime.location.ISO6709`), XMP in a `uuid` box, and the
//! creation and modification times of the movie, each track and each
//! media.
//!
//! Media samples are found by absolute file offsets (`stco`/`co64`), so a
//! cleaned file keeps every box where it is: boxes the allowlist keeps are
//! copied; every other box becomes a `free` box of the same size, filled
//! with zeros; times are set to zero and handler names blanked. The media
//! data itself (`mdat`) is untouched, so every decoded frame is the
//! original's. Fragmented files and media stored outside the file are NOT
//! CLEANED.

use std::ops::Range;

use super::limits::{MAX_RECORDS, MAX_XML_DEPTH};
use super::{be16, be32, field_text, Category, NotCleaned, Report, Scrubbed};

const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

#[derive(Clone, Debug)]
struct Mp4Box {
    kind: [u8; 4],
    /// The whole box.
    span: Range<usize>,
    /// Its content after the header.
    body: Range<usize>,
}

/// The boxes that fill `range` exactly.
fn children(data: &[u8], range: Range<usize>) -> Result<Vec<Mp4Box>, NotCleaned> {
    let mut found = Vec::new();
    let mut at = range.start;
    let cut = || NotCleaned::new("the file is cut short or damaged (a box runs past its parent)");
    while at < range.end {
        if found.len() >= MAX_RECORDS {
            return Err(NotCleaned::new(format!(
                "more than {MAX_RECORDS} boxes in one place"
            )));
        }
        let size = be32(data, at).ok_or_else(cut)? as usize;
        let kind: [u8; 4] = data
            .get(at + 4..at + 8)
            .ok_or_else(cut)?
            .try_into()
            .expect("four bytes");
        let (len, mut header) = match size {
            0 => (range.end - at, 8),
            1 => {
                let large = data.get(at + 8..at + 16).ok_or_else(cut)?;
                (
                    usize::try_from(u64::from_be_bytes(large.try_into().expect("eight bytes")))
                        .map_err(|_| cut())?,
                    16,
                )
            }
            n => (n, 8),
        };
        if &kind == b"uuid" {
            header += 16;
        }
        let end = at
            .checked_add(len)
            .filter(|end| *end <= range.end && len >= header)
            .ok_or_else(cut)?;
        found.push(Mp4Box {
            kind,
            span: at..end,
            body: at + header..end,
        });
        at = end;
    }
    Ok(found)
}

/// Containers walked by the allowlist, and the boxes kept in each.
fn kept_in(parent: &[u8; 4]) -> &'static [&'static [u8; 4]] {
    match parent {
        b"root" => &[b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"],
        b"moov" => &[b"mvhd", b"trak", b"mvex", b"iods"],
        b"trak" => &[b"tkhd", b"tref", b"edts", b"mdia"],
        b"mdia" => &[b"mdhd", b"hdlr", b"minf"],
        b"minf" => &[
            b"vmhd", b"smhd", b"hmhd", b"nmhd", b"sthd", b"gmhd", b"dinf", b"stbl", b"hdlr",
        ],
        b"stbl" => &[
            b"stsd", b"stts", b"ctts", b"cslg", b"stsc", b"stsz", b"stz2", b"stco", b"co64",
            b"stss", b"stsh", b"sdtp", b"sbgp", b"sgpd", b"subs", b"saiz", b"saio", b"stps",
        ],
        b"dinf" => &[b"dref"],
        b"edts" => &[b"elst"],
        b"mvex" => &[b"mehd", b"trex"],
        _ => &[],
    }
}

fn is_container(kind: &[u8; 4]) -> bool {
    matches!(
        kind,
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"dinf" | b"edts" | b"mvex"
    )
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let mut out = data.to_vec();
    let mut removed: Vec<String> = Vec::new();
    let top = children(data, 0..data.len())?;
    if top.iter().any(|b| &b.kind == b"moof") {
        return Err(NotCleaned::new("fragmented MP4 files are not cleaned yet"));
    }
    if !top.iter().any(|b| &b.kind == b"moov") {
        return Err(NotCleaned::new("the file has no movie header (moov)"));
    }
    clean_children(data, &mut out, &top, b"root", &mut removed, 0)?;
    Ok(Scrubbed { data: out, removed })
}

fn note(removed: &mut Vec<String>, what: String) {
    if !removed.contains(&what) {
        removed.push(what);
    }
}

/// A box turned into a `free` box of the same size, full of zeros.
fn neutralize(out: &mut [u8], b: &Mp4Box) {
    out[b.span.start + 4..b.span.start + 8].copy_from_slice(b"free");
    // A `uuid` box's type extension becomes content, zeroed with the rest.
    let from = b.span.start
        + if out[b.span.start..b.span.start + 4] == [0, 0, 0, 1] {
            16
        } else {
            8
        };
    out[from..b.span.end].fill(0);
}

fn clean_children(
    data: &[u8],
    out: &mut [u8],
    boxes: &[Mp4Box],
    parent: &[u8; 4],
    removed: &mut Vec<String>,
    depth: usize,
) -> Result<(), NotCleaned> {
    if depth > MAX_XML_DEPTH {
        return Err(NotCleaned::new("boxes nested too deep"));
    }
    for b in boxes {
        if !kept_in(parent).contains(&&b.kind) {
            note(
                removed,
                match &b.kind {
                    b"udta" => {
                        "user data (place of recording, make, model, software, dates, names)".into()
                    }
                    b"meta" => {
                        "metadata (QuickTime keys: location, make, model, software, creation date)"
                            .into()
                    }
                    b"uuid" => "XMP and other uuid boxes".into(),
                    other => format!("{} box", field_text(other)),
                },
            );
            neutralize(out, b);
            continue;
        }
        match &b.kind {
            b"free" | b"skip" => out[b.body.clone()].fill(0),
            b"mvhd" | b"tkhd" | b"mdhd" => {
                if let Some(times) = times_range(data, b) {
                    out[times].fill(0);
                    note(removed, "creation and modification times".into());
                }
            }
            b"hdlr" => {
                // version/flags, pre-defined, handler type, 12 reserved, name.
                let name = b.body.start + 24..b.body.end;
                if name.start < name.end {
                    out[name].fill(0);
                }
            }
            b"dref" => check_references(data, b)?,
            kind if is_container(kind) => {
                let inner = children(data, b.body.clone())?;
                clean_children(data, out, &inner, kind, removed, depth + 1)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The bytes of a header's creation and modification times.
fn times_range(data: &[u8], b: &Mp4Box) -> Option<Range<usize>> {
    let version = *data.get(b.body.start)?;
    let start = b.body.start + 4;
    let len = if version == 1 { 16 } else { 8 };
    (start + len <= b.body.end).then_some(start..start + len)
}

/// Data references must all say "in this file": media elsewhere would be
/// fetched from a path or address when the file plays.
fn check_references(data: &[u8], dref: &Mp4Box) -> Result<(), NotCleaned> {
    let entries = children(data, dref.body.start + 8..dref.body.end)?;
    for entry in entries {
        let flags = be32(data, entry.body.start).unwrap_or(0) & 0x00FF_FFFF;
        if flags & 1 == 0 {
            return Err(NotCleaned::new(
                "the file's media is stored elsewhere (an outside data reference)",
            ));
        }
    }
    Ok(())
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    match children(data, 0..data.len()) {
        Ok(top) => walk(data, &top, report, 0),
        Err(e) => report.unchecked(e.to_string()),
    }
}

/// Seconds since 1904 (QuickTime's epoch) as a UTC date.
fn date_1904(seconds: u64) -> String {
    let unix = seconds as i64 - 2_082_844_800;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} s after 1904"))
}

fn walk(data: &[u8], boxes: &[Mp4Box], report: &mut Report, depth: usize) {
    if depth > 32 {
        report.unchecked("boxes nested too deep");
        return;
    }
    for b in boxes {
        let body = &data[b.body.clone()];
        match &b.kind {
            b"mvhd" | b"tkhd" | b"mdhd" => {
                let place = field_text(&b.kind);
                let (created, modified) = match body.first() {
                    Some(1) => (read_u64(body, 4), read_u64(body, 12)),
                    _ => (be32(body, 4).map(u64::from), be32(body, 8).map(u64::from)),
                };
                for (what, value) in [("created", created), ("modified", modified)] {
                    if let Some(seconds) = value.filter(|s| *s != 0) {
                        report.add(Category::Times, what, date_1904(seconds), &place);
                    }
                }
            }
            b"hdlr" => {
                let name = field_text(body.get(24..).unwrap_or_default());
                let name = name.trim_matches(|c: char| c.is_control());
                if !name.is_empty() {
                    report.add(Category::Device, "component name", name.to_owned(), "hdlr");
                }
            }
            b"udta" => user_data(data, b, report),
            b"meta" => quicktime_meta(data, b, report),
            b"uuid" if data.get(b.span.start + 8..b.span.start + 24) == Some(&XMP_UUID[..]) => {
                super::xmp::inspect(body, report, "XMP (uuid box)");
            }
            b"uuid" => report.add(
                Category::Hidden,
                "private box (uuid)",
                format!("{} bytes", body.len()),
                "uuid",
            ),
            b"dref" if check_references(data, b).is_err() => report.add(
                Category::Active,
                "media stored elsewhere",
                "an outside data reference",
                "dref",
            ),
            b"moof" => report.unchecked("a fragmented file: its fragments were not read"),
            kind if is_container(kind) => match children(data, b.body.clone()) {
                Ok(inner) => walk(data, &inner, report, depth + 1),
                Err(e) => report.unchecked(e.to_string()),
            },
            _ => {}
        }
    }
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// QuickTime user data: `©xyz`, `©mak`, … (16-bit length, language, text),
/// 3GPP `loci`, and an iTunes-style `meta` inside.
fn user_data(data: &[u8], udta: &Mp4Box, report: &mut Report) {
    let Ok(items) = children(data, udta.body.clone()) else {
        report.unchecked("user data that could not be read");
        return;
    };
    for item in items {
        let body = &data[item.body.clone()];
        let (category, what) = match &item.kind {
            b"\xA9xyz" | b"loci" => (Category::Location, "place of recording"),
            b"\xA9mak" => (Category::Device, "make"),
            b"\xA9mod" => (Category::Device, "model"),
            b"\xA9swr" | b"\xA9too" | b"\xA9enc" => (Category::Device, "software"),
            b"\xA9day" => (Category::Times, "date"),
            b"\xA9nam" | b"\xA9cmt" | b"\xA9des" | b"\xA9inf" => {
                (Category::People, "text written into the file")
            }
            b"\xA9ART" | b"\xA9aut" | b"\xA9wrt" | b"auth" | b"\xA9cpy" => {
                (Category::People, "author or artist")
            }
            b"meta" => {
                quicktime_meta(data, &item, report);
                continue;
            }
            other => (
                Category::Hidden,
                if other[0] == 0xA9 {
                    "user data"
                } else {
                    "private user data"
                },
            ),
        };
        let text = match be16(body, 0) {
            _ if &item.kind == b"loci" => loci(body),
            Some(len) if item.kind[0] == 0xA9 && len as usize + 4 <= body.len() => {
                field_text(&body[4..4 + len as usize])
            }
            _ => format!("{} ({} bytes)", box_name(&item.kind), body.len()),
        };
        report.add(category, what, text, "udta");
    }
}

/// A box type as text: QuickTime's `©` (0xA9) types included.
fn box_name(kind: &[u8; 4]) -> String {
    if kind[0] == 0xA9 {
        format!("©{}", field_text(&kind[1..]))
    } else {
        field_text(kind)
    }
}

/// 3GPP's `loci`: version and flags, language, a name, a role, then
/// longitude, latitude and altitude as 16.16 fixed-point numbers.
fn loci(body: &[u8]) -> String {
    let rest = body.get(6..).unwrap_or_default();
    let name_end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    let name = field_text(&rest[..name_end]);
    let fixed = |at: usize| be32(rest, at).map(|v| f64::from(v as i32) / 65536.0);
    match (fixed(name_end + 2), fixed(name_end + 6)) {
        (Some(longitude), Some(latitude)) => format!("{latitude:.5}, {longitude:.5} {name}")
            .trim()
            .to_owned(),
        _ => name,
    }
}

/// A `meta` box: QuickTime's (keys + ilst) or ISO's (a full box with an
/// `ilst` of iTunes items).
fn quicktime_meta(data: &[u8], meta: &Mp4Box, report: &mut Report) {
    // ISO's meta is a full box: four bytes of version and flags first.
    let start = if be32(data, meta.body.start) == Some(0) {
        meta.body.start + 4
    } else {
        meta.body.start
    };
    let Ok(items) = children(data, start..meta.body.end) else {
        report.unchecked("a metadata box that could not be read");
        return;
    };
    let mut keys: Vec<String> = Vec::new();
    for item in &items {
        if &item.kind == b"keys" {
            if let Ok(entries) = children(data, item.body.start + 8..item.body.end) {
                keys = entries
                    .iter()
                    .map(|k| field_text(&data[k.body.clone()]))
                    .collect();
            }
        }
    }
    for item in &items {
        if &item.kind != b"ilst" {
            continue;
        }
        let Ok(entries) = children(data, item.body.clone()) else {
            continue;
        };
        for entry in entries {
            let name = match be32(&entry.kind, 0) {
                Some(index)
                    if index >= 1 && (index as usize) <= keys.len() && entry.kind[0] == 0 =>
                {
                    keys[index as usize - 1].clone()
                }
                _ => box_name(&entry.kind),
            };
            let value = children(data, entry.body.clone())
                .ok()
                .and_then(|v| v.into_iter().find(|b| &b.kind == b"data"))
                .map(|d| field_text(data.get(d.body.start + 8..d.body.end).unwrap_or_default()))
                .unwrap_or_default();
            let lower = name.to_ascii_lowercase();
            let category =
                if lower.contains("location") || lower.contains("xyz") || lower.contains("gps") {
                    Category::Location
                } else if lower.contains("make")
                    || lower.contains("model")
                    || lower.contains("software")
                    || lower.contains("too")
                {
                    Category::Device
                } else if lower.contains("date") || lower.contains("day") {
                    Category::Times
                } else {
                    Category::People
                };
            report.add(
                category,
                "metadata item",
                format!("{name}: {value}"),
                "meta",
            );
        }
    }
}
