#![no_main]
//! `sealdrop-open inspect` and `scrub` on hostile PNG files: never a
//! panic or a hang; a cleaned copy is a fixed point of cleaning, and
//! `inspect` finds nothing left in it.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

fuzz_target!(|data: &[u8]| {
    // The format's own start, so that every input reaches its parser.
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    file.extend_from_slice(data);
    // Whatever else the bytes turn out to be (text, say) is another target's.
    if scrub::Kind::of(&file) != scrub::Kind::Png {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz.png");
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned copy cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz.png");
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
});
