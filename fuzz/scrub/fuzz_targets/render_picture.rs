#![no_main]
//! Decoding a picture for the inbox (`sealdrop_scrub::render::decode`, run
//! in the sandbox helper): any bytes give pixels no larger than asked, with
//! as many bytes as their size says, or a reason; never a panic, and never
//! more allocation than the decoder limits allow (libFuzzer's -rss_limit_mb).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pixels) = sealdrop_scrub::render::decode(data, 64) {
        assert!(pixels.width >= 1 && pixels.width <= 64);
        assert!(pixels.height >= 1 && pixels.height <= 64);
        assert_eq!(pixels.rgba.len(), 4 * (pixels.width * pixels.height) as usize);
    }
});
