//! PNG: a signature, then chunks (length, type, data, CRC). A cleaned PNG
//! keeps the chunks that decide its pixels and how they are shown (header,
//! palette, image data, transparency, gamma and colour space, animation
//! frames), checked and copied byte for byte, and nothing else: no text,
//! EXIF, time, colour profile or private chunk.

use super::{be32, field_text, Category, NotCleaned, Report, Scrubbed};
use crate::limits::{MAX_RECORDS, PNG_MAX_INFLATED_TEXT, PNG_MAX_TEXT_CHUNK};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Chunks that decide the pixels or how they are shown.
const KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"pHYs", b"hIST", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
];

struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk as stored (length, type, data, CRC).
    stored: &'a [u8],
}

/// The chunks up to IEND, and the offset after it; or why the file is not
/// a PNG this module can trust, with the chunks read before.
fn parse(data: &[u8]) -> (Vec<Chunk<'_>>, Result<usize, NotCleaned>) {
    let mut chunks = Vec::new();
    if !data.starts_with(SIGNATURE) {
        return (chunks, Err(NotCleaned::new("not a PNG (no signature)")));
    }
    let mut at = SIGNATURE.len();
    for _ in 0..MAX_RECORDS {
        let Some(len) = be32(data, at).map(|l| l as usize) else {
            return (
                chunks,
                Err(NotCleaned::new("the PNG is cut short (no IEND chunk)")),
            );
        };
        let end = at.checked_add(12).and_then(|e| e.checked_add(len));
        let Some(stored) = end.and_then(|end| data.get(at..end)) else {
            return (
                chunks,
                Err(NotCleaned::new("the PNG is cut short inside a chunk")),
            );
        };
        let kind: [u8; 4] = stored[4..8].try_into().expect("four bytes");
        let body = &stored[8..8 + len];
        let crc = u32::from_be_bytes(stored[8 + len..].try_into().expect("four bytes"));
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(body);
        if hasher.finalize() != crc {
            return (
                chunks,
                Err(NotCleaned::new(format!(
                    "the PNG is damaged: the {} chunk's checksum is wrong",
                    field_text(&kind)
                ))),
            );
        }
        at += stored.len();
        chunks.push(Chunk {
            kind,
            data: body,
            stored,
        });
        if &kind == b"IEND" {
            return (chunks, Ok(at));
        }
    }
    (
        chunks,
        Err(NotCleaned::new(format!(
            "the PNG has more than {MAX_RECORDS} chunks"
        ))),
    )
}

/// A critical chunk (upper-case first letter) must be understood by a
/// decoder; one not in the allowlist cannot be dropped safely.
fn is_critical(kind: &[u8; 4]) -> bool {
    kind[0].is_ascii_uppercase()
}

fn left_out(kind: &[u8; 4]) -> String {
    match kind {
        b"tEXt" | b"zTXt" | b"iTXt" => "text chunks (author, software, comments, XMP)".into(),
        b"eXIf" => "EXIF (camera, GPS position, times)".into(),
        b"tIME" => "last-modification time".into(),
        b"iCCP" => {
            "ICC colour profile (colour-managed viewers may show colours slightly differently)"
                .into()
        }
        other => format!("{} chunk", field_text(other)),
    }
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let (chunks, end) = parse(data);
    let end = end?;
    let mut out = Vec::with_capacity(end);
    let mut removed: Vec<String> = Vec::new();
    out.extend_from_slice(SIGNATURE);
    for chunk in &chunks {
        if KEPT.contains(&&chunk.kind) {
            out.extend_from_slice(chunk.stored);
        } else if is_critical(&chunk.kind) {
            return Err(NotCleaned::new(format!(
                "the PNG has a critical chunk sealdrop-open does not know ({})",
                field_text(&chunk.kind)
            )));
        } else {
            let what = left_out(&chunk.kind);
            if !removed.contains(&what) {
                removed.push(what);
            }
        }
    }
    if end < data.len() {
        removed.push(format!(
            "data after the end of the image ({} bytes)",
            data.len() - end
        ));
    }
    Ok(Scrubbed { data: out, removed })
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let (chunks, end) = parse(data);
    let mut inflated = 0usize;
    for chunk in &chunks {
        match &chunk.kind {
            b"zTXt" | b"iTXt" if inflated > PNG_MAX_INFLATED_TEXT => {
                report.unchecked(format!(
                    "compressed text beyond {PNG_MAX_INFLATED_TEXT} bytes in all"
                ));
                break;
            }
            b"tEXt" | b"zTXt" | b"iTXt" => inflated += text_chunk(&chunk.kind, chunk.data, report),
            b"eXIf" => super::exif::inspect(chunk.data, report, "PNG eXIf"),
            b"tIME" if chunk.data.len() == 7 => {
                let d = chunk.data;
                let year = u16::from_be_bytes([d[0], d[1]]);
                report.add(
                    Category::Times,
                    "last modified",
                    format!(
                        "{year:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                        d[2], d[3], d[4], d[5], d[6]
                    ),
                    "PNG tIME",
                );
            }
            b"iCCP" => {
                let name_end = chunk
                    .data
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(chunk.data.len());
                report.add(
                    Category::Device,
                    "colour profile",
                    field_text(&chunk.data[..name_end]),
                    "PNG iCCP",
                );
            }
            kind if !KEPT.contains(&kind) && !is_critical(kind) => report.add(
                Category::Hidden,
                "private chunk",
                format!("{} ({} bytes)", field_text(kind), chunk.data.len()),
                "PNG",
            ),
            _ => {}
        }
    }
    match end {
        Ok(end) if end < data.len() => report.add(
            Category::Hidden,
            "data after the end of the image",
            format!("{} bytes", data.len() - end),
            "after IEND",
        ),
        Ok(_) => {}
        Err(e) => report.unchecked(e.to_string()),
    }
}

/// A text chunk: keyword, then text (compressed in zTXt, maybe in iTXt).
/// Returns how many bytes of text it held.
fn text_chunk(kind: &[u8; 4], data: &[u8], report: &mut Report) -> usize {
    let Some(keyword_end) = data.iter().position(|b| *b == 0) else {
        return 0;
    };
    let keyword = field_text(&data[..keyword_end]);
    let rest = &data[keyword_end + 1..];
    let text: Option<Vec<u8>> = match kind {
        b"tEXt" => Some(rest.to_vec()),
        // Compression method byte, then zlib.
        b"zTXt" => inflate_capped(rest.get(1..).unwrap_or_default()),
        _ => {
            // Compression flag, method, language tag\0, translated keyword\0, text.
            let (flag, after) = (
                rest.first().copied().unwrap_or(0),
                rest.get(2..).unwrap_or_default(),
            );
            let mut parts = after.splitn(3, |b| *b == 0);
            let (_, _, text) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
            if flag == 1 {
                inflate_capped(text)
            } else {
                Some(text.to_vec())
            }
        }
    };
    let Some(text) = text else {
        report.unchecked(format!(
            "PNG {}: compressed text over the size cap",
            field_text(kind)
        ));
        return PNG_MAX_TEXT_CHUNK;
    };
    let place = format!("PNG {} \"{keyword}\"", field_text(kind));
    if keyword == "XML:com.adobe.xmp" {
        super::xmp::inspect(&text, report, &place);
        return text.len();
    }
    // ImageMagick and others store EXIF as hex text ("Raw profile type exif").
    let category = match keyword.to_ascii_lowercase().as_str() {
        "author" | "copyright" | "disclaimer" | "title" | "description" | "comment" => {
            Category::People
        }
        "software" | "source" => Category::Device,
        "creation time" => Category::Times,
        k if k.contains("date") || k.contains("time") => Category::Times,
        k if k.starts_with("raw profile type") => Category::Hidden,
        _ => Category::Hidden,
    };
    report.add(
        category,
        "text",
        format!("{keyword}: {}", field_text(&text)),
        &place,
    );
    text.len()
}

/// zlib data inflated up to [`PNG_MAX_TEXT_CHUNK`]; `None` when it is larger or damaged.
fn inflate_capped(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(PNG_MAX_TEXT_CHUNK as u64)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}
