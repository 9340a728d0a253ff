#![no_main]
//! `inspect` and `scrub` on hostile PDF files: the key scan and its stream
//! inflation, and the cleaner's object reader (strings, names, numbers,
//! nesting, streams and their lengths, object streams, trailers) and its
//! rebuild from the page tree. Never a panic or a hang; a cleaned file
//! cleans again to the same bytes. The words read for search
//! (`searchable`: content streams, fonts' `/ToUnicode` maps) stay within
//! their cap.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

/// The words read for search: never more than asked, whatever the file.
fn words_within_cap(file: &[u8]) {
    if let Ok(words) = scrub::searchable(file, 4096) {
        assert!(words.text.len() <= 4096);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend_from_slice(data);
    let report = scrub::inspect(&file, "fuzz.pdf");
    assert_eq!(report.kind, scrub::Kind::Pdf);
    words_within_cap(&file);
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned file cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
    }
});
