//! The words of a file, for the desktop inbox's search, read in the sandbox
//! like everything else a stranger's file holds: plain text as it is, the
//! text runs of office documents (OOXML's `<t>` elements; OpenDocument's
//! paragraphs and headings), and the text a PDF's pages show where it is
//! plainly encoded ([`crate::pdf`]). What is not read is said, so that the
//! editor knows a search that finds nothing has not looked everywhere.

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_XML_DEPTH, MAX_XML_EVENTS};
use crate::zipdoc::{read_parts, Part};
use crate::{Kind, NotCleaned};

/// The text of a file, and what of it was not read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Searchable {
    pub text: String,
    /// What was not read, in plain words (empty when everything was).
    pub missed: Vec<String>,
}

/// The most notes of what was not read one file gets, and the longest.
pub(crate) const MAX_NOTES: usize = 16;
pub(crate) const MAX_NOTE_BYTES: usize = 512;

/// The text of `data`, at most about `cap` bytes of it, or why there is none.
pub fn searchable(data: &[u8], cap: usize) -> Result<Searchable, NotCleaned> {
    let kind = Kind::of(data);
    let mut found = match kind {
        Kind::Text => Searchable {
            text: String::from_utf8_lossy(&data[..data.len().min(cap)]).into_owned(),
            missed: Vec::new(),
        },
        Kind::Docx | Kind::Pptx | Kind::Xlsx => office(data, cap, ooxml_text_part, ooxml_text)?,
        Kind::Odt | Kind::Odp | Kind::Ods => office(data, cap, |n| n == "content.xml", odf_text)?,
        Kind::Pdf => crate::pdf::searchable(data, cap)?,
        other => {
            return Err(NotCleaned::new(format!(
                "{}: no text sealdrop-open can read for search",
                other.describe()
            )))
        }
    };
    if found.text.len() > cap {
        let mut end = cap;
        while !found.text.is_char_boundary(end) {
            end -= 1;
        }
        found.text.truncate(end);
    }
    if data.len() > cap && kind == Kind::Text {
        found
            .missed
            .push(format!("only the first {cap} bytes are searched"));
    }
    // The notes are few and short, as the parent reads them.
    found.missed.truncate(MAX_NOTES);
    for note in &mut found.missed {
        if note.len() > MAX_NOTE_BYTES {
            let mut end = MAX_NOTE_BYTES;
            while !note.is_char_boundary(end) {
                end -= 1;
            }
            note.truncate(end);
        }
    }
    Ok(found)
}

/// The parts of an OOXML document that hold what it says: the body,
/// headers, footers, notes and comments (Word), slides and their notes
/// (PowerPoint), shared strings (Excel).
fn ooxml_text_part(name: &str) -> bool {
    let xml = name.ends_with(".xml");
    xml && (name == "word/document.xml"
        || name.starts_with("word/header")
        || name.starts_with("word/footer")
        || matches!(
            name,
            "word/footnotes.xml" | "word/endnotes.xml" | "word/comments.xml"
        )
        || (name.starts_with("ppt/slides/slide") && !name.contains("/_rels/"))
        || (name.starts_with("ppt/notesSlides/") && !name.contains("/_rels/"))
        || name == "xl/sharedStrings.xml")
}

/// Reads the document's text parts, in the order the container lists them
/// (Word's body first: it is what a person reads first).
fn office(
    data: &[u8],
    cap: usize,
    is_text_part: impl Fn(&str) -> bool,
    read: fn(&[u8], &mut String) -> Result<(), String>,
) -> Result<Searchable, NotCleaned> {
    let parts: Vec<Part> = read_parts(data)?;
    let mut found = Searchable::default();
    let mut text_parts: Vec<&Part> = parts.iter().filter(|p| is_text_part(&p.name)).collect();
    text_parts.sort_by_key(|p| (p.name != "word/document.xml", p.name.clone()));
    for part in text_parts {
        if found.text.len() >= cap {
            found
                .missed
                .push(format!("only the first {cap} bytes of text are searched"));
            break;
        }
        if let Err(e) = read(&part.data, &mut found.text) {
            found
                .missed
                .push(format!("{}: not read to its end ({e})", part.name));
        }
        found.text.push('\n');
    }
    Ok(found)
}

/// A text event's characters, entity references resolved.
fn text_of(event: &Event) -> Option<String> {
    match event {
        Event::Text(text) => Some(text.xml10_content().into_owned()),
        Event::CData(data) => Some(data.xml10_content().into_owned()),
        Event::GeneralRef(reference) => {
            if let Ok(Some(c)) = reference.resolve_char_ref() {
                return Some(c.to_string());
            }
            let name = reference.xml10_content();
            quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
        }
        _ => None,
    }
}

/// Walks `xml`, within the caps, handing each start (true) and end (false)
/// of an element by local name, and each run of characters, to `visit`.
fn walk(
    xml: &[u8],
    mut visit: impl FnMut(Option<(&str, bool)>, Option<String>),
) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut depth = 0usize;
    let mut buf = Vec::new();
    for _ in 0..MAX_XML_EVENTS {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match &event {
            Event::Start(start) => {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(format!("nested deeper than {MAX_XML_DEPTH} levels"));
                }
                visit(Some((start.local_name().as_ref(), true)), None);
            }
            Event::Empty(start) => {
                visit(Some((start.local_name().as_ref(), true)), None);
                visit(Some((start.local_name().as_ref(), false)), None);
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                visit(Some((end.local_name().as_ref(), false)), None);
            }
            Event::Eof => return Ok(()),
            other => {
                if let Some(text) = text_of(other) {
                    visit(None, Some(text));
                }
            }
        }
    }
    Err(format!("more than {MAX_XML_EVENTS} XML events"))
}

/// OOXML: the characters of `<t>` elements (`w:t`, `a:t`, a shared
/// string's `t`), tabs and breaks as spaces, a paragraph (`p`, `si`) ending
/// in a line break. Runs of one word split by formatting join up again.
fn ooxml_text(xml: &[u8], out: &mut String) -> Result<(), String> {
    let mut in_t = 0usize;
    walk(xml, |element, text| match (element, text) {
        (Some(("t", true)), _) => in_t += 1,
        (Some(("t", false)), _) => in_t = in_t.saturating_sub(1),
        (Some(("tab" | "br" | "cr", true)), _) => out.push(' '),
        (Some(("p" | "si", false)), _) => out.push('\n'),
        (None, Some(text)) if in_t > 0 => out.push_str(&text),
        _ => {}
    })
}

/// OpenDocument: every character inside `office:body`, with `text:s` and
/// `text:tab` as spaces and paragraphs, headings and cells ending in a line
/// break.
fn odf_text(xml: &[u8], out: &mut String) -> Result<(), String> {
    let mut in_body = 0usize;
    walk(xml, |element, text| match (element, text) {
        (Some(("body", true)), _) => in_body += 1,
        (Some(("body", false)), _) => in_body = in_body.saturating_sub(1),
        (Some(("s" | "tab" | "line-break", true)), _) if in_body > 0 => out.push(' '),
        (Some(("p" | "h" | "table-cell", false)), _) if in_body > 0 => out.push('\n'),
        (None, Some(text)) if in_body > 0 => out.push_str(&text),
        _ => {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_runs_join_and_paragraphs_break() {
        let xml = br#"<w:document xmlns:w="w"><w:body>
            <w:p><w:r><w:t xml:space="preserve">Hel</w:t></w:r><w:r><w:t>lo &amp; </w:t></w:r><w:r><w:tab/><w:t>world</w:t></w:r></w:p>
            <w:p><w:r><w:t>&#1575;&#1604;&#1605;&#1583;&#1610;&#1606;&#1577;</w:t></w:r><w:r><w:instrText>HYPERLINK x</w:instrText></w:r></w:p>
        </w:body></w:document>"#;
        let mut out = String::new();
        ooxml_text(xml, &mut out).unwrap();
        assert_eq!(out, "Hello &  world\nالمدينة\n");
    }

    #[test]
    fn opendocument_body_only() {
        let xml = br#"<office:document-content xmlns:office="o" xmlns:text="t">
            <office:automatic-styles><style:style>not text</style:style></office:automatic-styles>
            <office:body><office:text><text:h>Title</text:h><text:p>one<text:s/>two<text:span>three</text:span></text:p></office:text></office:body>
        </office:document-content>"#;
        let mut out = String::new();
        odf_text(xml, &mut out).unwrap();
        assert_eq!(
            out.split_whitespace().collect::<Vec<_>>(),
            ["Title", "one", "twothree"]
        );
        assert!(!out.contains("not text"));
    }

    #[test]
    fn files_without_text_say_so() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(searchable(png, 1000).is_err());
        let found = searchable("plain words, كلمات".as_bytes(), 1000).unwrap();
        assert_eq!(found.text, "plain words, كلمات");
        assert!(found.missed.is_empty());
        let cut = searchable(&b"word ".repeat(100), 12).unwrap();
        assert_eq!(cut.text, "word word wo");
        assert_eq!(cut.missed.len(), 1);
    }
}
