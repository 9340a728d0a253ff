//! JPEG: marker segments, then scans of entropy-coded data, then the end of
//! image. Metadata lives in APPn and COM segments and after the end (a
//! phone's second image, appended files). A cleaned JPEG keeps the
//! segments a decoder needs (tables, frame, scans) byte for byte, so its
//! pixels are exactly the original's, plus at most two segments written
//! anew: an EXIF block holding only the orientation, and Adobe's colour
//! transform flag (CMYK and YCCK pictures need it).

use std::ops::Range;

use super::limits::{MAX_NESTED_IMAGES, MAX_RECORDS};
use super::{be16, be32, field_text, Category, NotCleaned, Report, Scrubbed};

const SOI: &[u8] = b"\xFF\xD8";
const EXIF: &[u8] = b"Exif\0\0";
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";
const ICC: &[u8] = b"ICC_PROFILE\0";
const MPF: &[u8] = b"MPF\0";
const ADOBE: &[u8] = b"Adobe";

/// One segment: its marker, the whole of it in the file (a scan includes
/// its entropy-coded data), and its content after the length field.
struct Segment {
    marker: u8,
    span: Range<usize>,
    body: Range<usize>,
}

/// The segments up to the end of image, and the offset just after it; or
/// the segments read before the file turned out damaged, and why.
struct Parsed {
    segments: Vec<Segment>,
    end: Result<usize, NotCleaned>,
}

fn parse(data: &[u8]) -> Parsed {
    let mut segments = Vec::new();
    let end = walk(data, &mut segments);
    Parsed { segments, end }
}

fn walk(data: &[u8], segments: &mut Vec<Segment>) -> Result<usize, NotCleaned> {
    let truncated = || NotCleaned::new("the JPEG is cut short (no end-of-image marker)");
    if !data.starts_with(SOI) {
        return Err(NotCleaned::new("not a JPEG (no start-of-image marker)"));
    }
    let mut at = SOI.len();
    for _ in 0..MAX_RECORDS {
        if data.get(at) != Some(&0xFF) {
            return Err(if at >= data.len() {
                truncated()
            } else {
                NotCleaned::new(format!("the JPEG is damaged: no marker at byte {at}"))
            });
        }
        // Fill bytes: any number of 0xFF before the marker itself.
        let start = at;
        while data.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *data.get(at).ok_or_else(truncated)?;
        at += 1;
        match marker {
            0xD9 => {
                segments.push(Segment {
                    marker,
                    span: start..at,
                    body: at..at,
                });
                return Ok(at);
            }
            0xD0..=0xD7 | 0x01 => segments.push(Segment {
                marker,
                span: start..at,
                body: at..at,
            }),
            0x00 | 0xD8 => {
                return Err(NotCleaned::new(format!(
                    "the JPEG is damaged: marker 0x{marker:02X} at byte {start}"
                )))
            }
            _ => {
                let len = be16(data, at).ok_or_else(truncated)? as usize;
                if len < 2 {
                    return Err(NotCleaned::new(format!(
                        "the JPEG is damaged: a segment of length {len} at byte {start}"
                    )));
                }
                let body = at + 2..at + len;
                if body.end > data.len() {
                    return Err(truncated());
                }
                at = body.end;
                if marker == 0xDA {
                    at = end_of_scan(data, at).ok_or_else(truncated)?;
                }
                segments.push(Segment {
                    marker,
                    span: start..at,
                    body,
                });
            }
        }
    }
    Err(NotCleaned::new(format!(
        "the JPEG has more than {MAX_RECORDS} segments"
    )))
}

/// Where a scan's entropy-coded data ends: at the first marker that is not
/// a stuffed zero, a restart marker or a fill byte.
fn end_of_scan(data: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += data.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match *data.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

/// A start-of-frame marker (baseline, progressive, lossless, arithmetic).
fn is_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Segments a decoder needs, copied as they are.
fn is_kept(marker: u8) -> bool {
    is_frame(marker)
        || matches!(
            marker,
            0xC4 | 0xCC | 0xDB | 0xDD | 0xDA | 0xD0..=0xD7 | 0xDC | 0xDE | 0xDF | 0xD9
        )
}

/// What a left-out segment was, in plain words.
fn left_out(marker: u8, body: &[u8]) -> String {
    match marker {
        0xE0 if body.starts_with(b"JFIF\0") || body.starts_with(b"JFXX\0") => {
            "JFIF header (and any thumbnail in it)".into()
        }
        0xE1 if body.starts_with(EXIF) => "EXIF (camera, GPS position, times, thumbnail)".into(),
        0xE1 if body.starts_with(XMP) || body.starts_with(XMP_EXTENSION) => "XMP metadata".into(),
        0xE2 if body.starts_with(ICC) => {
            "ICC colour profile (colour-managed viewers may show colours slightly differently)"
                .into()
        }
        0xE2 if body.starts_with(MPF) => "multi-picture index (MPF)".into(),
        0xED => "Photoshop resources and IPTC (captions, bylines, places)".into(),
        0xFE => "comment".into(),
        0x01 => "TEM marker".into(),
        m => format!("APP{} block ({})", m.wrapping_sub(0xE0), identifier(body)),
    }
}

/// The printable start of an APPn segment, which names its writer.
fn identifier(body: &[u8]) -> String {
    let printable: Vec<u8> = body
        .iter()
        .take(24)
        .take_while(|b| b.is_ascii_graphic() || **b == b' ')
        .copied()
        .collect();
    if printable.is_empty() {
        "unnamed".into()
    } else {
        field_text(&printable)
    }
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let parsed = parse(data);
    let end = parsed.end?;
    let mut removed: Vec<String> = Vec::new();
    let mut note = |what: String| {
        if !removed.contains(&what) {
            removed.push(what);
        }
    };
    let mut orientation = None;
    let mut adobe_transform = None;
    let (mut frames, mut scans) = (0, 0);
    for segment in &parsed.segments {
        let body = &data[segment.body.clone()];
        match segment.marker {
            0xE1 if body.starts_with(EXIF) && orientation.is_none() => {
                orientation = super::exif::orientation(&body[EXIF.len()..]);
            }
            0xEE if body.starts_with(ADOBE) && body.len() >= 12 => adobe_transform = Some(body[11]),
            0xF7 | 0xF8 => return Err(NotCleaned::new(
                "JPEG-LS pictures are not cleaned (their extension segments are not understood)",
            )),
            m if is_frame(m) => frames += 1,
            0xDA => scans += 1,
            _ => {}
        }
    }
    if frames != 1 || scans == 0 {
        return Err(NotCleaned::new(format!(
            "the JPEG has {frames} frame headers and {scans} scans, not one frame with scans"
        )));
    }
    let mut out = Vec::with_capacity(end);
    out.extend_from_slice(SOI);
    if let Some(orientation) = orientation {
        let mut body = EXIF.to_vec();
        body.extend(super::exif::orientation_only(orientation));
        push_segment(&mut out, 0xE1, &body);
    }
    if let Some(transform) = adobe_transform {
        // "Adobe", version 100, no flags, the transform: nothing else.
        let body = [b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, transform];
        push_segment(&mut out, 0xEE, &body);
    }
    for segment in &parsed.segments {
        let body = &data[segment.body.clone()];
        if is_kept(segment.marker) {
            out.extend_from_slice(&data[segment.span.clone()]);
        } else if matches!(segment.marker, 0xE0..=0xEF | 0xFE | 0x01) {
            if segment.marker == 0xEE && body.starts_with(ADOBE) {
                continue; // rebuilt above
            }
            note(left_out(segment.marker, body));
        } else {
            return Err(NotCleaned::new(format!(
                "the JPEG holds a segment (marker 0x{:02X}) sealdrop-open does not know",
                segment.marker
            )));
        }
    }
    if end < data.len() {
        let what = if data[end..].windows(3).any(|w| w == b"\xFF\xD8\xFF") {
            "another image after the end of this one"
        } else {
            "data after the end of the image"
        };
        note(format!("{what} ({} bytes)", data.len() - end));
    }
    if orientation.is_some() {
        note("everything in EXIF but the orientation".into());
    }
    Ok(Scrubbed { data: out, removed })
}

fn push_segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    inspect_embedded(data, report, "", 0);
}

/// `inspect` for a JPEG inside another file (a thumbnail, an image after
/// an image), `depth` levels down; `prefix` starts the places it reports.
pub(crate) fn inspect_embedded(data: &[u8], report: &mut Report, prefix: &str, depth: usize) {
    let parsed = parse(data);
    let place = |what: &str| format!("{prefix}{what}");
    let mut icc = Vec::new();
    let mut xmp_extension = Vec::new();
    for segment in &parsed.segments {
        let body = &data[segment.body.clone()];
        match segment.marker {
            0xE1 if body.starts_with(EXIF) => {
                super::exif::inspect_at(&body[EXIF.len()..], report, &place("EXIF"), depth);
            }
            0xE1 if body.starts_with(XMP) => {
                super::xmp::inspect(&body[XMP.len()..], report, &place("XMP"));
            }
            // Extended XMP: a GUID, the full length and this chunk's offset,
            // then a piece of the packet.
            0xE1 if body.starts_with(XMP_EXTENSION) => {
                xmp_extension
                    .extend_from_slice(body.get(XMP_EXTENSION.len() + 40..).unwrap_or_default());
            }
            0xED if body.starts_with(PHOTOSHOP) => {
                super::iptc::inspect_resources(
                    &body[PHOTOSHOP.len()..],
                    report,
                    &place("Photoshop"),
                );
            }
            0xE2 if body.starts_with(ICC) => {
                icc.extend_from_slice(body.get(ICC.len() + 2..).unwrap_or_default())
            }
            0xE2 if body.starts_with(MPF) => report.add(
                Category::Hidden,
                "multi-picture index (MPF)",
                "the file holds more pictures than the one shown",
                &place("APP2"),
            ),
            0xE0 if body.starts_with(b"JFIF\0")
                && body.len() >= 14
                && body[12] > 0
                && body[13] > 0 =>
            {
                report.add(
                    Category::Hidden,
                    "thumbnail",
                    "a JFIF thumbnail",
                    &place("JFIF"),
                );
            }
            0xE0 if body.starts_with(b"JFXX\0") => {
                report.add(
                    Category::Hidden,
                    "thumbnail",
                    "a JFIF extension thumbnail",
                    &place("JFXX"),
                );
            }
            0xE0 if body.starts_with(b"JFIF\0") => {}
            0xEE if body.starts_with(ADOBE) => {}
            0xFE => report.add(Category::Hidden, "comment", field_text(body), &place("COM")),
            m @ 0xE0..=0xEF => report.add(
                Category::Hidden,
                "application block",
                format!(
                    "APP{} ({}), {} bytes",
                    m - 0xE0,
                    identifier(body),
                    body.len()
                ),
                &place("JPEG"),
            ),
            _ => {}
        }
    }
    if !xmp_extension.is_empty() {
        super::xmp::inspect(&xmp_extension, report, &place("extended XMP"));
    }
    if !icc.is_empty() {
        let description = icc_description(&icc).unwrap_or_else(|| "no description".into());
        report.add(
            Category::Device,
            "colour profile",
            description,
            &place("ICC profile"),
        );
    }
    match parsed.end {
        Ok(end) if end < data.len() => {
            let rest = &data[end..];
            let nested = rest.windows(3).position(|w| w == b"\xFF\xD8\xFF");
            let what = if nested.is_some() {
                "another image after the end of this one"
            } else {
                "data after the end of the image"
            };
            report.add(
                Category::Hidden,
                what,
                format!("{} bytes", rest.len()),
                &place("after the end"),
            );
            if let Some(at) = nested {
                if depth < MAX_NESTED_IMAGES {
                    inspect_embedded(&rest[at..], report, &place("second image: "), depth + 1);
                } else {
                    report.unchecked(place("images nested deeper than this"));
                }
            }
        }
        Ok(_) => {}
        Err(e) => report.unchecked(place(&e.to_string())),
    }
}

/// The description an ICC profile gives itself (`desc` tag, ICC v2 text or
/// v4 multi-language), which can name a device.
fn icc_description(icc: &[u8]) -> Option<String> {
    let count = be32(icc, 128)? as usize;
    for i in 0..count.min(100) {
        let entry = 132 + 12 * i;
        if icc.get(entry..entry + 4)? != b"desc" {
            continue;
        }
        let offset = be32(icc, entry + 4)? as usize;
        let tag = icc.get(offset..)?;
        return match tag.get(..4)? {
            b"desc" => {
                let len = be32(tag, 8)? as usize;
                Some(field_text(tag.get(12..12 + len.min(200))?))
            }
            b"mluc" => {
                let len = be32(tag, 20)? as usize;
                let at = be32(tag, 24)? as usize;
                let units: Vec<u16> = tag
                    .get(at..at + len.min(400))?
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                Some(field_text(String::from_utf16_lossy(&units).as_bytes()))
            }
            _ => None,
        };
    }
    None
}
