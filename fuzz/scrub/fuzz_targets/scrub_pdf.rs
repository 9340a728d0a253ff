#![no_main]
//! `inspect` and `scrub` on hostile PDF files: the key scan and its stream
//! inflation, and the cleaner's object reader (strings, names, numbers,
//! nesting, streams and their lengths, object streams, trailers) and its
//! rebuild from the page tree. Never a panic or a hang; a cleaned file
//! cleans again to the same bytes.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

fuzz_target!(|data: &[u8]| {
    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend_from_slice(data);
    let report = scrub::inspect(&file, "fuzz.pdf");
    assert_eq!(report.kind, scrub::Kind::Pdf);
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned file cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
    }
});
