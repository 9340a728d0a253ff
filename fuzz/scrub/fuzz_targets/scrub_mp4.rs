#![no_main]
//! `inspect` and `scrub` on hostile MP4 files: an `ftyp` box, then the
//! input as the boxes that follow. Never a panic or a hang; a cleaned file
//! keeps its size, cleans again to itself, and `inspect` finds nothing in it.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

fuzz_target!(|data: &[u8]| {
    let mut file = b"\0\0\0\x14ftypisom\0\0\0\0isom".to_vec();
    file.extend_from_slice(data);
    if scrub::Kind::of(&file) != scrub::Kind::Mp4 {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz.mp4");
    if let Ok(cleaned) = scrub::scrub(&file) {
        assert_eq!(cleaned.data.len(), file.len(), "boxes stay where they were");
        let again = scrub::scrub(&cleaned.data).expect("a cleaned file cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz.mp4");
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
});
