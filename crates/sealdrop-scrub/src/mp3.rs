//! MP3: MPEG audio frames, with tags around them: ID3v2 at the start (title,
//! artist, comments, dates, the encoder, attached pictures, private frames),
//! APEv2 and ID3v1 at the end. A cleaned MP3 is the audio frames alone,
//! byte for byte, checked frame by frame from the first to the last: data
//! hidden between frames, or anything after them that is not a known tag,
//! makes the file NOT CLEANED. (A VBR header frame, which names the encoder
//! that made it, is an audio frame and stays; `inspect` names it.)

use super::limits::MAX_RECORDS;
use super::{be32, field_text, Category, NotCleaned, Report, Scrubbed};

/// The length of an MPEG audio frame starting with `header`, or `None` if
/// it is not a frame header sealdrop-open can walk (free bitrate included).
fn frame_length(header: &[u8]) -> Option<usize> {
    let [0xFF, b1, b2, ..] = *header else {
        return None;
    };
    if b1 & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (b1 >> 1) & 3; // 1: III, 2: II, 3: I
    let bitrate_index = (b2 >> 4) as usize;
    let rate_index = ((b2 >> 2) & 3) as usize;
    let padding = ((b2 >> 1) & 1) as usize;
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1_L1: [usize; 15] = [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ];
    const V1_L2: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ];
    const V1_L3: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2_L1: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ];
    const V2_L23: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let kbps = match (version, layer) {
        (3, 3) => V1_L1,
        (3, 2) => V1_L2,
        (3, 1) => V1_L3,
        (_, 3) => V2_L1,
        _ => V2_L23,
    }[bitrate_index];
    let rate = [44_100, 48_000, 32_000][rate_index]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let bits = kbps * 1000;
    Some(match layer {
        3 => (12 * bits / rate + padding) * 4,
        2 => 144 * bits / rate + padding,
        _ if version == 3 => 144 * bits / rate + padding,
        _ => 72 * bits / rate + padding,
    })
}

/// The size of the ID3v2 tag at the start of `data` (0 if none).
fn id3v2_len(data: &[u8]) -> Option<usize> {
    if !data.starts_with(b"ID3") || data.len() < 10 {
        return Some(0);
    }
    let size = syncsafe(&data[6..10])?;
    let footer = if data[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

fn syncsafe(bytes: &[u8]) -> Option<usize> {
    if bytes.iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    Some(bytes.iter().fold(0usize, |n, b| (n << 7) | *b as usize))
}

/// Where the audio ends: before an ID3v1 tag (and its extension) and an
/// APEv2 tag at the end. Also says whether there was an APEv2 tag.
fn audio_end(data: &[u8], start: usize) -> (usize, bool) {
    let mut end = data.len();
    if end >= start + 128 && &data[end - 128..end - 125] == b"TAG" {
        end -= 128;
        if end >= start + 227 && &data[end - 227..end - 223] == b"TAG+" {
            end -= 227;
        }
    }
    if end >= start + 32 && &data[end - 32..end - 24] == b"APETAGEX" {
        let size =
            u32::from_le_bytes(data[end - 20..end - 16].try_into().expect("four bytes")) as usize;
        let header = if data[end - 9] & 0x80 != 0 { 32 } else { 0 };
        if let Some(tag_start) = end.checked_sub(size + header).filter(|s| *s >= start) {
            return (tag_start, true);
        }
    }
    (end, false)
}

/// The audio frames between the tags: their range, after walking them all.
fn frames(data: &[u8]) -> Result<(usize, usize), NotCleaned> {
    let mut start = 0;
    // Some writers stack several ID3v2 tags.
    for _ in 0..8 {
        let len = id3v2_len(&data[start..])
            .ok_or_else(|| NotCleaned::new("the ID3 tag's size is damaged"))?;
        if len == 0 {
            break;
        }
        start = start
            .checked_add(len)
            .filter(|s| *s <= data.len())
            .ok_or_else(|| NotCleaned::new("the ID3 tag runs past the end"))?;
    }
    let (end, _) = audio_end(data, start);
    let mut at = start;
    let mut count = 0;
    while at < end {
        let Some(len) = data.get(at..end).and_then(frame_length) else {
            return Err(NotCleaned::new(format!(
                "the MP3 has data that is not an audio frame at byte {at} (hidden data, or a tag sealdrop-open does not know)"
            )));
        };
        if at + len > end {
            // The last frame cut short: it stays as it is.
            break;
        }
        at += len;
        count += 1;
        if count > MAX_RECORDS * 100 {
            return Err(NotCleaned::new("the MP3 has too many frames"));
        }
    }
    if count == 0 {
        return Err(NotCleaned::new("the MP3 has no audio frames"));
    }
    Ok((start, end))
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let (start, end) = frames(data)?;
    let mut removed = Vec::new();
    if start > 0 {
        removed.push(
            "ID3v2 tag (title, artist, comments, dates, encoder, pictures, private data)"
                .to_owned(),
        );
    }
    if end < data.len() {
        removed.push("tags at the end (ID3v1, APEv2)".to_owned());
    }
    Ok(Scrubbed {
        data: data[start..end].to_vec(),
        removed,
    })
}

fn frame_meaning(id: &str) -> Option<(Category, &'static str)> {
    use Category::*;
    Some(match id {
        "TPE1" | "TPE2" | "TPE3" | "TPE4" | "TCOM" | "TEXT" | "TOLY" | "TOPE" | "TCOP" | "TPUB"
        | "TOWN" => (People, "artist, author or owner"),
        "TIT1" | "TIT2" | "TIT3" | "TALB" | "COMM" | "USLT" => {
            (People, "text written into the file")
        }
        "TXXX" => (People, "user-defined text"),
        "TENC" | "TSSE" => (Device, "encoder"),
        "TDRC" | "TDRL" | "TDEN" | "TDTG" | "TDOR" | "TYER" | "TDAT" | "TIME" | "TORY" => {
            (Times, "date")
        }
        "APIC" => (Hidden, "attached picture"),
        "GEOB" => (Hidden, "embedded file"),
        "PRIV" => (Hidden, "private data"),
        "UFID" => (History, "unique file id"),
        id if id.starts_with('W') => (Active, "address"),
        _ => return None,
    })
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let tag_len = id3v2_len(data).unwrap_or(0).min(data.len());
    if tag_len > 0 {
        inspect_id3v2(&data[..tag_len], report);
    }
    let (end, ape) = audio_end(data, tag_len);
    if end + 128 <= data.len() && &data[data.len() - 128..data.len() - 125] == b"TAG" {
        let v1 = &data[data.len() - 128..];
        for (what, range) in [
            ("title", 3..33),
            ("artist", 33..63),
            ("album", 63..93),
            ("comment", 97..127),
        ] {
            let text = field_text(&v1[range]);
            if !text.is_empty() {
                report.add(Category::People, what, text, "ID3v1");
            }
        }
        let year = field_text(&v1[93..97]);
        if !year.is_empty() {
            report.add(Category::Times, "year", year, "ID3v1");
        }
    }
    // Found by the scrub_mp3 fuzz target: "APETAGEX" bytes inside the
    // audio were taken for a tag; only a tag that ends the file is one.
    if ape {
        report.add(
            Category::Hidden,
            "APEv2 tag",
            "a tag at the end of the file",
            "APE",
        );
    }
    if let Some(at) = data
        .get(tag_len..end.min(tag_len + 4096))
        .and_then(|d| d.windows(4).position(|w| w == b"Xing" || w == b"Info"))
    {
        let encoder = data
            .get(tag_len + at + 120..tag_len + at + 129)
            .map(field_text)
            .unwrap_or_default();
        if !encoder.is_empty() && encoder.chars().all(|c| c.is_ascii_graphic()) {
            report.add(
                Category::Device,
                "encoder (in the VBR header, kept: it is an audio frame)",
                encoder,
                "first frame",
            );
        }
    }
    if let Err(e) = frames(data) {
        report.unchecked(e.to_string());
    }
}

fn inspect_id3v2(tag: &[u8], report: &mut Report) {
    let version = tag[3];
    let place = format!("ID3v2.{version}");
    if tag[5] & 0x80 != 0 {
        report.unchecked(format!("{place}: an unsynchronised tag, read as it is"));
    }
    let mut at = 10;
    if tag[5] & 0x40 != 0 {
        // An extended header: its size, then skip it.
        let Some(size) = be32(tag, 10) else { return };
        at += if version == 4 {
            syncsafe(&tag[10..14]).unwrap_or(size as usize)
        } else {
            size as usize + 4
        };
    }
    for _ in 0..MAX_RECORDS {
        let (id_len, header_len) = if version == 2 { (3, 6) } else { (4, 10) };
        let Some(header) = tag.get(at..at + header_len) else {
            return;
        };
        if header[0] == 0 {
            return; // padding
        }
        let id = String::from_utf8_lossy(&header[..id_len]).into_owned();
        let size = match version {
            2 => (header[3] as usize) << 16 | (header[4] as usize) << 8 | header[5] as usize,
            4 => match syncsafe(&header[4..8]) {
                Some(size) => size,
                None => return,
            },
            _ => be32(header, 4).unwrap_or(0) as usize,
        };
        let Some(body) = tag.get(at + header_len..at + header_len + size) else {
            report.unchecked(format!("{place}: the frame {id} runs past the tag"));
            return;
        };
        let id4 = match id.as_str() {
            "TP1" => "TPE1",
            "TT2" => "TIT2",
            "COM" => "COMM",
            "PIC" => "APIC",
            "TYE" => "TYER",
            "TEN" => "TENC",
            "TSS" => "TSSE",
            "TXX" => "TXXX",
            other => other,
        };
        if let Some((category, what)) = frame_meaning(id4) {
            let value = match id4 {
                "APIC" => {
                    let picture = picture_of(body);
                    if let Some(picture) = picture {
                        crate::nested_picture(picture, &format!("{place} {id}"), report);
                    }
                    format!("{} bytes", body.len())
                }
                "GEOB" | "PRIV" => format!("{} bytes", body.len()),
                _ => text_of(body),
            };
            report.add(category, what, format!("{id}: {value}"), &place);
        }
        at += header_len + size;
    }
}

/// A text frame's text: encoding byte, then text (descriptions and values
/// separated by NULs are joined with " / ").
fn text_of(body: &[u8]) -> String {
    let Some((&encoding, text)) = body.split_first() else {
        return String::new();
    };
    let decoded = match encoding {
        1 | 2 => {
            let units: Vec<u16> = text
                .chunks_exact(2)
                .map(|c| {
                    if encoding == 2 {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .filter(|u| *u != 0xFEFF && *u != 0xFFFE)
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    let parts: Vec<&str> = decoded.split('\0').filter(|p| !p.is_empty()).collect();
    field_text(parts.join(" / ").as_bytes())
}

/// The picture inside an APIC frame (after encoding, MIME type, picture
/// type and description), found by its signature.
fn picture_of(body: &[u8]) -> Option<&[u8]> {
    let start = body
        .windows(4)
        .position(|w| w.starts_with(b"\xFF\xD8\xFF") || w == b"\x89PNG")?;
    Some(&body[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_measured_as_decoders_do() {
        // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes, 418 padded.
        assert_eq!(frame_length(&[0xFF, 0xFB, 0x90, 0x00]), Some(417));
        assert_eq!(frame_length(&[0xFF, 0xFB, 0x92, 0x00]), Some(418));
        // MPEG-2 Layer III, 64 kbit/s, 22.05 kHz: 208 bytes.
        assert_eq!(frame_length(&[0xFF, 0xF3, 0x80, 0x00]), Some(208));
        assert_eq!(
            frame_length(&[0xFF, 0xFB, 0x00, 0x00]),
            None,
            "free bitrate"
        );
        assert_eq!(frame_length(b"TAG"), None);
    }

    #[test]
    fn tag_bytes_inside_the_audio_are_no_tag() {
        let mut frame = vec![0u8; 417];
        frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        frame[400..408].copy_from_slice(b"APETAGEX");
        let mut report = Report::new(super::super::Kind::Mp3);
        inspect(&frame, &mut report);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(scrub(&frame).unwrap().data, frame);
    }
}
