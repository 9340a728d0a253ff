#![no_main]
//! A reply file's two readers: the server's shape check on a pushed file,
//! and the plaintext reader on what a source's key decrypts. Any bytes, no
//! panic; an accepted plaintext's text is within its stated length.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::reply::file::{check_shape, parse_plaintext, REPLY_FILE_LEN};

fuzz_target!(|data: &[u8]| {
    if check_shape(data).is_ok() {
        assert_eq!(data.len(), REPLY_FILE_LEN);
    }
    if let Ok(reply) = parse_plaintext(data) {
        assert!(reply.text.len() <= data.len());
    }
});
