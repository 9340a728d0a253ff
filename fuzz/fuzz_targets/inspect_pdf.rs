#![no_main]
//! `inspect` on hostile PDF files (the key scan, string decoding, stream
//! inflation under caps), and `scrub`, which must refuse them: never a
//! panic or a hang.

use libfuzzer_sys::fuzz_target;
use sealdrop::open::scrub;

fuzz_target!(|data: &[u8]| {
    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend_from_slice(data);
    let report = scrub::inspect(&file, "fuzz.pdf");
    assert_eq!(report.kind, scrub::Kind::Pdf);
    assert!(scrub::scrub(&file).is_err(), "PDF is not cleaned yet");
});
