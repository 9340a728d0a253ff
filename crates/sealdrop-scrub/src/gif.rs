//! GIF: a header and screen descriptor, then images and extension blocks,
//! each a series of length-prefixed sub-blocks, then a trailer. A cleaned
//! GIF keeps the header, colour tables, images, their timing and
//! transparency (graphic control) and the animation loop count, copied as
//! they are; comments, text blocks, XMP and any other application block go.

use std::ops::Range;

use super::limits::MAX_RECORDS;
use super::{field_text, Category, NotCleaned, Report, Scrubbed};

/// Application blocks a player needs: the loop count.
const KEPT_APPLICATIONS: &[&[u8]] = &[b"NETSCAPE2.0", b"ANIMEXTS1.0"];

enum Block {
    /// Kept as is (header, image, graphic control, loop count).
    Kept(Range<usize>),
    Comment(Range<usize>),
    PlainText(Range<usize>),
    Application {
        id: Vec<u8>,
        data: Range<usize>,
    },
    /// An extension with a label GIF does not define.
    Unknown(u8),
}

/// The end of a run of sub-blocks starting at `at` (after its zero length).
fn sub_blocks_end(data: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..MAX_RECORDS * 10 {
        let len = *data.get(at)? as usize;
        at += 1;
        if len == 0 {
            return Some(at);
        }
        at += len;
    }
    None
}

fn parse(data: &[u8]) -> (Vec<Block>, Result<usize, NotCleaned>) {
    let mut blocks = Vec::new();
    let cut = || NotCleaned::new("the GIF is cut short or damaged");
    let result = (|| {
        let packed = *data.get(10).ok_or_else(cut)?;
        let mut at = 13;
        if packed & 0x80 != 0 {
            at += 3 << ((packed & 7) + 1);
        }
        if at > data.len() {
            return Err(cut());
        }
        blocks.push(Block::Kept(0..at));
        for _ in 0..MAX_RECORDS {
            let start = at;
            match *data.get(at).ok_or_else(cut)? {
                0x3B => {
                    blocks.push(Block::Kept(at..at + 1));
                    return Ok(at + 1);
                }
                0x2C => {
                    let packed = *data.get(at + 9).ok_or_else(cut)?;
                    at += 10;
                    if packed & 0x80 != 0 {
                        at += 3 << ((packed & 7) + 1);
                    }
                    // The LZW minimum code size, then the image data.
                    at = sub_blocks_end(data, at + 1).ok_or_else(cut)?;
                    blocks.push(Block::Kept(start..at));
                }
                0x21 => {
                    let label = *data.get(at + 1).ok_or_else(cut)?;
                    at = sub_blocks_end(data, at + 2).ok_or_else(cut)?;
                    let whole = start..at;
                    blocks.push(match label {
                        0xF9 => Block::Kept(whole),
                        0xFE => Block::Comment(whole),
                        0x01 => Block::PlainText(whole),
                        0xFF => {
                            let id = data.get(start + 3..start + 14).unwrap_or_default().to_vec();
                            if KEPT_APPLICATIONS.contains(&id.as_slice()) {
                                Block::Kept(whole)
                            } else {
                                // A first sub-block shorter than an
                                // application id leaves no data.
                                Block::Application {
                                    id,
                                    data: (start + 14).min(at)..at,
                                }
                            }
                        }
                        other => Block::Unknown(other),
                    });
                }
                other => {
                    return Err(NotCleaned::new(format!(
                        "the GIF is damaged: block 0x{other:02X} at byte {at}"
                    )))
                }
            }
        }
        Err(NotCleaned::new(format!(
            "the GIF has more than {MAX_RECORDS} blocks"
        )))
    })();
    (blocks, result)
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let (blocks, end) = parse(data);
    let end = end?;
    let mut out = Vec::with_capacity(end);
    let mut removed: Vec<String> = Vec::new();
    let mut note = |what: String| {
        if !removed.contains(&what) {
            removed.push(what);
        }
    };
    for block in &blocks {
        match block {
            Block::Kept(range) => out.extend_from_slice(&data[range.clone()]),
            Block::Comment(_) => note("comments".into()),
            Block::PlainText(_) => note("plain-text blocks (which no common viewer shows)".into()),
            Block::Application { id, .. } if id.starts_with(b"XMP Data") => {
                note("XMP metadata".into())
            }
            Block::Application { id, .. } => {
                note(format!("application block ({})", field_text(id)))
            }
            Block::Unknown(label) => {
                return Err(NotCleaned::new(format!(
                    "the GIF has an extension sealdrop-open does not know (0x{label:02X})"
                )))
            }
        }
    }
    if end < data.len() {
        note(format!(
            "data after the end of the image ({} bytes)",
            data.len() - end
        ));
    }
    Ok(Scrubbed { data: out, removed })
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let (blocks, end) = parse(data);
    for block in &blocks {
        match block {
            Block::Comment(range) => {
                report.add(
                    Category::Hidden,
                    "comment",
                    sub_block_text(&data[range.start + 2..range.end]),
                    "GIF comment",
                );
            }
            Block::PlainText(range) => {
                // 12 bytes of grid geometry precede the text.
                let text = data.get(range.start + 15..range.end).unwrap_or_default();
                report.add(
                    Category::Hidden,
                    "plain-text block",
                    sub_block_text(text),
                    "GIF",
                );
            }
            Block::Application { id, data: range } if id.starts_with(b"XMP Data") => {
                // XMP is stored raw (its bytes double as sub-block lengths),
                // followed by a "magic trailer": the packet ends at its last '>'.
                let raw = &data[range.clone()];
                let end = raw.iter().rposition(|b| *b == b'>').map_or(0, |e| e + 1);
                super::xmp::inspect(&raw[..end], report, "GIF XMP");
            }
            Block::Application { id, data: range } => report.add(
                Category::Hidden,
                "application block",
                format!("{} ({} bytes)", field_text(id), range.len()),
                "GIF",
            ),
            Block::Unknown(label) => report.unchecked(format!("GIF extension 0x{label:02X}")),
            Block::Kept(_) => {}
        }
    }
    match end {
        Ok(end) if end < data.len() => report.add(
            Category::Hidden,
            "data after the end of the image",
            format!("{} bytes", data.len() - end),
            "after the GIF trailer",
        ),
        Ok(_) => {}
        Err(e) => report.unchecked(e.to_string()),
    }
}

/// The text of a run of sub-blocks (length bytes dropped).
fn sub_block_text(mut data: &[u8]) -> String {
    let mut text = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        if len == 0 || rest.len() < len as usize || text.len() > 4096 {
            break;
        }
        text.extend_from_slice(&rest[..len as usize]);
        data = &rest[len as usize..];
    }
    field_text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 GIF: header, screen, a graphic-control block, `extra`, an
    /// image, the trailer.
    fn gif_with(extra: &[u8]) -> Vec<u8> {
        let mut gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
        gif.extend_from_slice(b"\x21\xF9\x04\x00\x00\x00\x00\x00");
        gif.extend_from_slice(extra);
        gif.extend_from_slice(b"\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
        gif.push(0x3B);
        gif
    }

    #[test]
    fn comments_and_foreign_blocks_go_and_the_rest_stays() {
        let comment = b"\x21\xFEsecret".to_vec();
        let mut comment_block = vec![0x21, 0xFE, 6];
        comment_block.extend_from_slice(&comment[2..]);
        comment_block.push(0);
        let plain = gif_with(&[]);
        let commented = gif_with(&comment_block);
        let cleaned = scrub(&commented).unwrap();
        assert_eq!(cleaned.data, plain);
        assert_eq!(cleaned.removed, vec!["comments".to_owned()]);
        let mut report = Report::new(super::super::Kind::Gif);
        inspect(&commented, &mut report);
        assert_eq!(report.findings[0].value, "secret");
    }

    #[test]
    fn an_application_block_shorter_than_its_id_is_no_panic() {
        // Found by the scrub_gif fuzz target: a first sub-block of 2 bytes.
        let odd = gif_with(b"\x21\xFF\x02AB\x00");
        let mut report = Report::new(super::super::Kind::Gif);
        inspect(&odd, &mut report);
        assert_eq!(scrub(&odd).unwrap().data, gif_with(&[]));
    }
}
