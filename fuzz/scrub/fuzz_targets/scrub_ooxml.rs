#![no_main]
//! `inspect` and `scrub` on hostile Office Open XML documents (DOCX, XLSX,
//! PPTX). The first byte chooses how the input is used: as the whole file
//! (seeded with a real document of each type), or as the main XML part of a
//! fixed Word, Excel or PowerPoint package (`word/document.xml`, a
//! worksheet, a slide), so that mutations reach the XML rewriting rather
//! than die on ZIP checksums. Never a panic or a hang; a cleaned document
//! cleans again to itself, and `inspect` finds in it nothing but what is
//! kept on purpose (links, hidden text, hidden sheets and slides: see
//! docs/SCRUBBING.md). The words read for search stay within their cap.

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";

fn rels(kind: &str, target: &str) -> String {
    format!(r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}{kind}" Target="{target}"/></Relationships>"#)
}

fn content_types(part: &str, content_type: &str) -> String {
    format!(r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.{content_type}"/></Types>"#)
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn word(document: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", content_types("word/document.xml", "wordprocessingml.document.main+xml").as_bytes()),
        ("_rels/.rels", rels("officeDocument", "word/document.xml").as_bytes()),
        ("word/document.xml", document),
    ])
}

fn excel(sheet: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", content_types("xl/workbook.xml", "spreadsheetml.sheet.main+xml").as_bytes()),
        ("_rels/.rels", rels("officeDocument", "xl/workbook.xml").as_bytes()),
        ("xl/workbook.xml", br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ("xl/_rels/workbook.xml.rels", rels("worksheet", "worksheets/sheet1.xml").as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

fn powerpoint(slide: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", content_types("ppt/presentation.xml", "presentationml.presentation.main+xml").as_bytes()),
        ("_rels/.rels", rels("officeDocument", "ppt/presentation.xml").as_bytes()),
        ("ppt/presentation.xml", br#"<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>"#),
        ("ppt/_rels/presentation.xml.rels", rels("slide", "slides/slide1.xml").as_bytes()),
        ("ppt/slides/slide1.xml", slide),
    ])
}

/// The words read for search: never more than asked, whatever the file.
fn words_within_cap(file: &[u8]) {
    if let Ok(words) = scrub::searchable(file, 4096) {
        assert!(words.text.len() <= 4096);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let file = match mode % 4 {
        0 => word(rest),
        1 => rest.to_vec(),
        2 => excel(rest),
        _ => powerpoint(rest),
    };
    let kind = scrub::Kind::of(&file);
    if !matches!(kind, scrub::Kind::Docx | scrub::Kind::Xlsx | scrub::Kind::Pptx) {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz");
    words_within_cap(&file);
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned document cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz");
        for finding in &report.findings {
            assert!(
                matches!(
                    finding.what.as_str(),
                    "link (opens only when clicked)" | "hidden text" | "hidden sheet" | "hidden slide"
                ),
                "{finding:?}"
            );
        }
    }
});
