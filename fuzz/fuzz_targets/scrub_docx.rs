#![no_main]
//! `inspect` and `scrub` on hostile Word documents. The first byte chooses
//! how the input is used: as the whole file (seeded with a real document),
//! or as `word/document.xml` inside a fixed package, so that mutations reach
//! the XML rewriting rather than die on ZIP checksums. Never a panic or a
//! hang; a cleaned document cleans again to itself, and `inspect` finds in
//! it nothing but links and hidden text (kept: see docs/SCRUBBING.md).

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sealdrop::open::scrub;

const CONTENT_TYPES: &str = r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

fn package(document: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", ROOT_RELS.as_bytes()),
        ("word/document.xml", document),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let file = if mode % 2 == 0 { package(rest) } else { rest.to_vec() };
    if scrub::Kind::of(&file) != scrub::Kind::Docx {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz.docx");
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned document cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz.docx");
        for finding in &report.findings {
            assert!(
                matches!(finding.what.as_str(), "link (opens only when clicked)" | "hidden text"),
                "{finding:?}"
            );
        }
    }
});
