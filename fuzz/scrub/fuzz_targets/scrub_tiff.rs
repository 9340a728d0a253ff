#![no_main]
//! `inspect` and `scrub` on hostile TIFF files (the directory chain, values,
//! strips and tiles). The first byte chooses the byte order of the header
//! put in front of the rest. Never a panic or a hang; a cleaned file cleans
//! again to itself, and `inspect` finds nothing in it but its pages.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut file = if mode % 2 == 0 { b"II*\0".to_vec() } else { b"MM\0*".to_vec() };
    file.extend_from_slice(rest);
    let _ = scrub::inspect(&file, "fuzz.tif");
    if let Ok(cleaned) = scrub::scrub(&file) {
        let again = scrub::scrub(&cleaned.data).expect("a cleaned file cleans again");
        assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
        let report = scrub::inspect(&cleaned.data, "fuzz.tif");
        for finding in &report.findings {
            assert_eq!(finding.what, "pages", "{finding:?}");
        }
    }
});
