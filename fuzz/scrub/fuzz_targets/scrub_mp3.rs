#![no_main]
//! `inspect` and `scrub` on hostile MP3 files (ID3v2 frames, ID3v1, APEv2,
//! the frame walk). The first byte chooses whether an ID3v2.3 header is put
//! in front of the rest. Never a panic or a hang; a cleaned file is its
//! audio frames, cleans again to itself, and `inspect` finds nothing in it
//! but the encoder named in a VBR header frame.

use libfuzzer_sys::fuzz_target;
use sealdrop_scrub as scrub;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut file = if mode % 2 == 0 { b"ID3\x03\x00\x00".to_vec() } else { Vec::new() };
    file.extend_from_slice(rest);
    if scrub::Kind::of(&file) != scrub::Kind::Mp3 {
        return;
    }
    let _ = scrub::inspect(&file, "fuzz.mp3");
    if let Ok(cleaned) = scrub::scrub(&file) {
        assert!(cleaned.data.len() <= file.len());
        if scrub::Kind::of(&cleaned.data) == scrub::Kind::Mp3 {
            let again = scrub::scrub(&cleaned.data).expect("a cleaned file cleans again");
            assert_eq!(again.data, cleaned.data, "cleaning is idempotent");
            let report = scrub::inspect(&cleaned.data, "fuzz.mp3");
            for finding in &report.findings {
                assert!(finding.what.starts_with("encoder (in the VBR header"), "{finding:?}");
            }
        }
    }
});
