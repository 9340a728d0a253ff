//! PDF. For `inspect`, the file's bytes, and the inflated content
//! of its compressed streams (object streams hide dictionaries there), are
//! scanned for the keys that reveal people and devices (`/Author`,
//! `/Creator`, `/Producer`, dates, annotations' `/T`), XMP packets, and
//! what acts on its own (`/JavaScript`, `/OpenAction`, `/AA`, `/Launch`,
//! `/SubmitForm`, links and the hosts they name, embedded files). Every
//! `%%EOF` after the first marks an incremental update: an earlier version
//! of the document is still inside, whatever the last one shows.
//!
//! A stream whose bytes are a JPEG (a picture, whatever its `/Filter` is
//! called or however it is reached) is inspected as one: its EXIF, XMP and
//! IPTC are reported as the picture's, numbered in the file's order.
//!
//! The scan follows no object reference, so a reference loop cannot hang
//! it; streams are inflated under caps. Cleaning rebuilds the file from
//! what its pages draw ([`clean`]), on objects read by [`object`].

mod clean;
mod object;
mod text;

use crate::limits::{
    MAX_RECORDS, PDF_INSPECT_DICTIONARY_LOOKBACK, PDF_INSPECT_MAX_INFLATED_TOTAL,
    PDF_INSPECT_MAX_PICTURES, PDF_INSPECT_MAX_STREAM_BYTES,
};
use std::io::Read;

pub(crate) use clean::scrub;
pub(crate) use text::searchable;

use super::{field_text, Category, Report};

/// Dictionary keys and what their value reveals.
const KEYS: &[(&[u8], Category, &str)] = &[
    (b"/Author", Category::People, "author"),
    (
        b"/Creator",
        Category::Device,
        "software that made the original",
    ),
    (b"/Producer", Category::Device, "software that made the PDF"),
    (b"/CreationDate", Category::Times, "created"),
    (b"/ModDate", Category::Times, "modified"),
    (b"/Title", Category::People, "title"),
    (b"/Subject", Category::People, "subject"),
    (b"/Keywords", Category::People, "keywords"),
    (b"/T", Category::People, "annotation or form field author"),
    (b"/URI", Category::Active, "link"),
    (b"/F", Category::Hidden, "file name inside the document"),
];

/// Keys whose mere presence matters.
const MARKERS: &[(&[u8], Category, &str, &str)] = &[
    (
        b"/JavaScript",
        Category::Active,
        "JavaScript",
        "runs when the document or a page opens, or on an action",
    ),
    (
        b"/JS",
        Category::Active,
        "JavaScript",
        "runs when the document or a page opens, or on an action",
    ),
    (
        b"/OpenAction",
        Category::Active,
        "action on opening",
        "something happens as soon as the document opens",
    ),
    (
        b"/AA",
        Category::Active,
        "automatic actions",
        "actions on opening pages or fields",
    ),
    (
        b"/Launch",
        Category::Active,
        "launch action",
        "starts a program or opens a file",
    ),
    (
        b"/SubmitForm",
        Category::Active,
        "form that sends data",
        "a form that submits to an address",
    ),
    (
        b"/GoToR",
        Category::Active,
        "link to another file",
        "opens another document",
    ),
    (
        b"/GoToE",
        Category::Active,
        "link to an embedded file",
        "opens an embedded document",
    ),
    (
        b"/RichMedia",
        Category::Active,
        "rich media",
        "embedded Flash or video",
    ),
    (
        b"/XFA",
        Category::Active,
        "XFA form",
        "a dynamic form, which can run scripts",
    ),
    (
        b"/EmbeddedFile",
        Category::Hidden,
        "embedded file",
        "a file carried inside the document",
    ),
    (
        b"/Annot",
        Category::Hidden,
        "annotations",
        "notes, highlights or comments on the pages",
    ),
    (
        b"/PieceInfo",
        Category::Hidden,
        "application data",
        "private data of the program that made it (often a whole editable copy)",
    ),
];

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    // Finding it would mean drawing every page; said, not guessed.
    report.unchecked(
        "PDF: text drawn outside the page, in white or under a picture is not looked for \
         (it stays in a cleaned copy: it is content)",
    );
    let updates = count(data, b"%%EOF");
    if updates > 1 {
        report.add(
            Category::History,
            "incremental updates",
            format!(
                "{}: earlier versions of the document are still inside it",
                updates - 1
            ),
            "file structure",
        );
    }
    scan(data, report, "PDF");
    let mut inflated_total = 0u64;
    let mut pictures = 0usize;
    let mut at = 0;
    for _ in 0..MAX_RECORDS {
        let Some(start) = find(&data[at..], b"stream").map(|p| at + p + 6) else {
            return;
        };
        let body_start = match data.get(start..start + 2) {
            Some(b"\r\n") => start + 2,
            Some([b'\n', _]) => start + 1,
            _ => {
                at = start;
                continue;
            }
        };
        let Some(end) = find(&data[body_start..], b"endstream").map(|p| body_start + p) else {
            report.unchecked("a stream without its end");
            return;
        };
        at = end + 9;
        // A JPEG is known by its bytes, not by the name its dictionary
        // gives its filter (`/DCTDecode`, `/DCT`, `6 0 R`, an array).
        if data[body_start..end].starts_with(JPEG) {
            // The end of line before `endstream` is the file's, not the
            // picture's.
            let body = &data[body_start..end];
            let body = body
                .strip_suffix(b"\r\n")
                .or_else(|| body.strip_suffix(b"\n"))
                .or_else(|| body.strip_suffix(b"\r"))
                .unwrap_or(body);
            inspect_picture(body, &mut pictures, report);
            continue;
        }
        let window = start.saturating_sub(PDF_INSPECT_DICTIONARY_LOOKBACK);
        let dictionary_start = window
            + data[window..start]
                .windows(2)
                .rposition(|w| w == b"<<")
                .unwrap_or(0);
        if !contains(&data[dictionary_start..start], b"/FlateDecode") {
            continue;
        }
        let mut inflated = Vec::new();
        let read = flate2::read::ZlibDecoder::new(&data[body_start..end])
            .take(PDF_INSPECT_MAX_STREAM_BYTES + 1)
            .read_to_end(&mut inflated);
        if read.is_err() && inflated.is_empty() {
            continue;
        }
        if inflated.len() as u64 > PDF_INSPECT_MAX_STREAM_BYTES {
            report.unchecked(format!(
                "a compressed stream larger than {PDF_INSPECT_MAX_STREAM_BYTES} bytes"
            ));
            continue;
        }
        inflated_total += inflated.len() as u64;
        if inflated_total > PDF_INSPECT_MAX_INFLATED_TOTAL {
            report.unchecked(format!(
                "compressed streams beyond {PDF_INSPECT_MAX_INFLATED_TOTAL} bytes in all"
            ));
            return;
        }
        // A JPEG compressed again (`[/FlateDecode /DCTDecode]`).
        if inflated.starts_with(JPEG) {
            inspect_picture(&inflated, &mut pictures, report);
            continue;
        }
        scan(&inflated, report, "PDF, inside a compressed stream");
    }
    report.unchecked(format!("more than {MAX_RECORDS} streams"));
}

/// How a JPEG's bytes begin.
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The metadata of the next picture inside the PDF, under the cap on how
/// many are read (each one's findings are its own, numbered: many tiny
/// pictures must not make `inspect` slow).
fn inspect_picture(jpeg: &[u8], pictures: &mut usize, report: &mut Report) {
    *pictures += 1;
    if *pictures > PDF_INSPECT_MAX_PICTURES {
        if *pictures == PDF_INSPECT_MAX_PICTURES + 1 {
            report.unchecked(format!(
                "pictures after the first {PDF_INSPECT_MAX_PICTURES}: their metadata is not read"
            ));
        }
        return;
    }
    let place = format!("picture {pictures} inside the PDF: ");
    crate::inspect_embedded_jpeg(jpeg, report, &place, 1);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// A name ends where a delimiter or white space begins.
fn ends_name(byte: Option<&u8>) -> bool {
    byte.is_none_or(|b| b" \t\r\n\x0c\0/<>[]()%{}".contains(b))
}

fn scan(text: &[u8], report: &mut Report, place: &str) {
    for (key, category, what, value) in MARKERS {
        let mut at = 0;
        while let Some(p) = find(&text[at..], key) {
            let after = at + p + key.len();
            if ends_name(text.get(after)) || (*key == b"/Annot" && text.get(after) == Some(&b's')) {
                report.add(*category, what, *value, place);
                break;
            }
            at = after;
        }
    }
    for (key, category, what) in KEYS {
        let mut at = 0;
        let mut seen = 0;
        while let Some(p) = find(&text[at..], key) {
            let after = at + p + key.len();
            at = after;
            if !ends_name(text.get(after)) {
                continue;
            }
            seen += 1;
            if seen > 1000 {
                break;
            }
            if let Some(value) = string_after(&text[after..]) {
                let value = if *category == Category::Active {
                    super::ooxml::host_of(&value)
                } else {
                    value
                };
                if !value.is_empty() {
                    report.add(*category, what, value, place);
                }
            }
        }
    }
    let mut at = 0;
    for _ in 0..100 {
        let Some(p) = find(&text[at..], b"<x:xmpmeta") else {
            break;
        };
        let start = at + p;
        let end = find(&text[start..], b"</x:xmpmeta>").map_or(text.len(), |e| start + e + 12);
        super::xmp::inspect(&text[start..end], report, &format!("{place}, XMP"));
        at = end;
    }
}

/// The PDF string after a key (white space skipped): a literal `( … )`
/// with escapes and nested parentheses, or a hex string `< … >`; UTF-16
/// with a byte-order mark decoded.
fn string_after(text: &[u8]) -> Option<String> {
    let start = text.iter().position(|b| !b" \t\r\n\x0c\0".contains(b))?;
    let rest = &text[start..];
    let bytes = match rest.first()? {
        b'(' => {
            let mut out = Vec::new();
            let mut depth = 1usize;
            let mut i = 1;
            while i < rest.len() && out.len() < 4096 {
                match rest[i] {
                    b'\\' => {
                        i += 1;
                        match rest.get(i) {
                            Some(b'n') => out.push(b'\n'),
                            Some(b'r') => out.push(b'\r'),
                            Some(b't') => out.push(b'\t'),
                            Some(d @ b'0'..=b'7') => {
                                let mut value = u32::from(d - b'0');
                                for _ in 0..2 {
                                    match rest.get(i + 1) {
                                        Some(d @ b'0'..=b'7') => {
                                            value = value * 8 + u32::from(d - b'0');
                                            i += 1;
                                        }
                                        _ => break,
                                    }
                                }
                                out.push(value as u8);
                            }
                            Some(other) => out.push(*other),
                            None => break,
                        }
                    }
                    b'(' => {
                        depth += 1;
                        out.push(b'(');
                    }
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        out.push(b')');
                    }
                    other => out.push(other),
                }
                i += 1;
            }
            out
        }
        b'<' if rest.get(1) != Some(&b'<') => {
            let end = rest.iter().position(|b| *b == b'>')?;
            let digits: Vec<u8> = rest[1..end]
                .iter()
                .copied()
                .filter(u8::is_ascii_hexdigit)
                .collect();
            digits
                .chunks(2)
                .map(|pair| {
                    let text = std::str::from_utf8(pair).unwrap_or("0");
                    u8::from_str_radix(&format!("{text:0<2}"), 16).unwrap_or(0)
                })
                .collect()
        }
        _ => return None,
    };
    if let Some(utf16) = bytes.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return Some(field_text(String::from_utf16_lossy(&units).as_bytes()));
    }
    Some(field_text(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_as_pdf_writes_them() {
        assert_eq!(
            string_after(b" (Hasan \\(K.\\) \\101)").as_deref(),
            Some("Hasan (K.) A")
        );
        assert_eq!(string_after(b"<48617361 6E>").as_deref(), Some("Hasan"));
        assert_eq!(string_after(b"<FEFF0048>").as_deref(), Some("H"));
        assert_eq!(string_after(b"<< /A 1 >>"), None);
    }
}
