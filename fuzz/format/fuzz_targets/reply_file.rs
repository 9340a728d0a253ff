#![no_main]
//! A reply file's readers: the server's push check (size, version-2
//! preamble, the age header's stanzas), the preamble reader, and the
//! plaintext reader on what a source's key decrypts. The input is tried as
//! it is and framed as a version-2 file (magic, a preamble, the input as
//! its age file, padded to the size), so that the stanza parser is reached.
//! Any bytes, no panic; what is accepted has the shape it must.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::reply::file::{
    check_shape, parse_plaintext, Preamble, MAGIC, PREAMBLE_LEN, REPLY_FILE_LEN,
};

fuzz_target!(|data: &[u8]| {
    if check_shape(data).is_ok() {
        assert_eq!(data.len(), REPLY_FILE_LEN);
    }
    let mut framed = MAGIC.to_vec();
    framed.resize(PREAMBLE_LEN, 0);
    framed.extend_from_slice(&data[..data.len().min(REPLY_FILE_LEN - PREAMBLE_LEN)]);
    framed.resize(REPLY_FILE_LEN, 0);
    let preamble = Preamble::read(&framed).expect("a framed file has a preamble");
    let _ = preamble.tagged_with(&[7; 32]);
    if check_shape(&framed).is_ok() {
        assert!(framed.starts_with(MAGIC));
    }
    if let Ok(reply) = parse_plaintext(data) {
        assert!(reply.text.len() <= data.len());
    }
});
