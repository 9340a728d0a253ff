#![no_main]
//! The manifest parser must accept or reject any JSON without panicking, and what
//! it accepts must survive a round trip.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = serde_json::from_slice::<Manifest>(data) {
        let again: Manifest = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
        assert_eq!(again, m);
    }
});
