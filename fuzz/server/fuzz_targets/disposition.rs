#![no_main]
//! The Content-Disposition reader that recovers file names (RFC 8187
//! `filename*`, the browsers' escapes): any header, no panic, and a name
//! that comes out is valid text the sanitizer can take.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::names::sanitize_name;
use sealdrop_server::upload::disposition::file_name;

fuzz_target!(|header: &[u8]| {
    if let Some(name) = file_name(header) {
        let safe = sanitize_name(&name);
        assert!(!safe.is_empty());
    }
});
