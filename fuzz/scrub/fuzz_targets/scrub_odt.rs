#![no_main]
//! `inspect` and `scrub` on hostile OpenDocument files. The first byte
//! chooses how the input is used: as the whole file (seeded with a planted
//! one), or as `content.xml` inside a fixed package. Never a panic or a
//! hang; a cleaned document cleans again to itself, and `inspect` finds in
//! it nothing but links; the words read for search stay within their cap.

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

const STYLES: &str = r#"<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:styles/></office:document-styles>"#;

fn package(content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [
        ("mimetype", &b"application/vnd.oasis.opendocument.text"[..]),
        ("content.xml", content),
        ("styles.xml", STYLES.as_bytes()),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The words read for search: never more than asked, whatever the file.
fn words_within_cap(file: &[u8]) {
    if let Ok(words) = scrub::searchable(file, 4096) {
        assert!(words.text.len() <= 4096);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let file = if mode % 2 == 0 { package(rest) } else { rest.to_vec() };
    if scrub::Kind::of(&file) != scrub::Kind::Odt {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz.odt");
    words_within_cap(&file);
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned document cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz.odt");
        for finding in &report.findings {
            assert_eq!(finding.what, "link (opens only when clicked)", "{finding:?}");
        }
    }
});
