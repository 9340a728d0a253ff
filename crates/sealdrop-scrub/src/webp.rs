//! WebP: a RIFF container of chunks. A cleaned WebP keeps the image
//! chunks (lossy, lossless, alpha, animation), copied as they are, and the
//! extended header with its EXIF, XMP and colour-profile flags cleared;
//! EXIF, XMP, ICCP and any other chunk go.

use super::limits::MAX_RECORDS;
use super::{field_text, le32, Category, NotCleaned, Report, Scrubbed};

const KEPT: &[&[u8; 4]] = &[b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"];

/// VP8X flags for an ICC profile, EXIF and XMP.
const METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;

struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
}

fn parse(data: &[u8]) -> Result<(Vec<Chunk<'_>>, usize), NotCleaned> {
    if !data.starts_with(b"RIFF") || data.get(8..12) != Some(b"WEBP") {
        return Err(NotCleaned::new("not a WebP (no RIFF WEBP header)"));
    }
    let riff_size = le32(data, 4).ok_or_else(|| NotCleaned::new("the WebP is cut short"))? as usize;
    let end = riff_size
        .checked_add(8)
        .filter(|end| *end <= data.len())
        .ok_or_else(|| NotCleaned::new("the WebP is cut short (shorter than its header says)"))?;
    let mut chunks = Vec::new();
    let mut at = 12;
    while at < end {
        if chunks.len() >= MAX_RECORDS {
            return Err(NotCleaned::new(format!(
                "the WebP has more than {MAX_RECORDS} chunks"
            )));
        }
        let kind: [u8; 4] = data
            .get(at..at + 4)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| {
                NotCleaned::new("the WebP is damaged: a chunk header runs past the end")
            })?;
        let len = le32(data, at + 4).ok_or_else(|| {
            NotCleaned::new("the WebP is damaged: a chunk header runs past the end")
        })? as usize;
        let body = data
            .get(at + 8..at + 8 + len)
            .filter(|_| at + 8 + len <= end)
            .ok_or_else(|| NotCleaned::new("the WebP is damaged: a chunk runs past the end"))?;
        chunks.push(Chunk { kind, data: body });
        // Chunks are padded to an even length.
        at += 8 + len + (len & 1);
    }
    Ok((chunks, end))
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let (chunks, end) = parse(data)?;
    let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
    let mut removed: Vec<String> = Vec::new();
    let mut images = 0;
    for chunk in &chunks {
        let kept: Option<Vec<u8>> = match &chunk.kind {
            b"VP8X" => {
                let mut header = chunk.data.to_vec();
                let flags = header
                    .first_mut()
                    .ok_or_else(|| NotCleaned::new("the WebP is damaged: an empty VP8X chunk"))?;
                *flags &= !METADATA_FLAGS;
                Some(header)
            }
            kind if KEPT.contains(&kind) => {
                images += usize::from(matches!(kind, b"VP8 " | b"VP8L" | b"ANMF"));
                Some(chunk.data.to_vec())
            }
            b"EXIF" => push_note(&mut removed, "EXIF (camera, GPS position, times)"),
            b"XMP " => push_note(&mut removed, "XMP metadata"),
            b"ICCP" => push_note(
                &mut removed,
                "ICC colour profile (colour-managed viewers may show colours slightly differently)",
            ),
            other => push_note(&mut removed, &format!("{} chunk", field_text(other))),
        };
        if let Some(body) = kept {
            out.extend_from_slice(&chunk.kind);
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&body);
            if body.len() % 2 == 1 {
                out.push(0);
            }
        }
    }
    if images == 0 {
        return Err(NotCleaned::new("the WebP holds no image data"));
    }
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    if end < data.len() {
        let what = format!(
            "data after the end of the image ({} bytes)",
            data.len() - end
        );
        push_note(&mut removed, &what);
    }
    Ok(Scrubbed { data: out, removed })
}

/// Notes what was left out; never a chunk to write.
fn push_note(removed: &mut Vec<String>, what: &str) -> Option<Vec<u8>> {
    if !removed.iter().any(|r| r == what) {
        removed.push(what.to_owned());
    }
    None
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let (chunks, end) = match parse(data) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.unchecked(e.to_string());
            return;
        }
    };
    for chunk in &chunks {
        match &chunk.kind {
            b"EXIF" => {
                // Some writers keep JPEG's "Exif\0\0" prefix.
                let tiff = chunk.data.strip_prefix(b"Exif\0\0").unwrap_or(chunk.data);
                super::exif::inspect(tiff, report, "WebP EXIF");
            }
            b"XMP " => super::xmp::inspect(chunk.data, report, "WebP XMP"),
            b"ICCP" => report.add(
                Category::Device,
                "colour profile",
                format!("{} bytes", chunk.data.len()),
                "WebP ICCP",
            ),
            kind if KEPT.contains(&kind) || kind == b"VP8X" => {}
            other => report.add(
                Category::Hidden,
                "private chunk",
                format!("{} ({} bytes)", field_text(other), chunk.data.len()),
                "WebP",
            ),
        }
    }
    if end < data.len() {
        report.add(
            Category::Hidden,
            "data after the end of the image",
            format!("{} bytes", data.len() - end),
            "after the RIFF container",
        );
    }
}
