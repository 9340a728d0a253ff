#![no_main]
//! The reader on arbitrary archives: the fuzz input is the ZIP plaintext, sealed
//! to a fixed key, so the fuzzer explores the archive and manifest parsers rather
//! than bouncing off age's authentication. It must never panic, and a part it
//! accepts must match the manifest.

use std::io::{BufReader, Cursor, Read, Write};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::SubmissionReader;

fn key() -> &'static age::x25519::Identity {
    static KEY: OnceLock<age::x25519::Identity> = OnceLock::new();
    KEY.get_or_init(age::x25519::Identity::generate)
}

fuzz_target!(|zip: &[u8]| {
    let recipient = key().to_public();
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
    let mut sealed = Vec::new();
    let mut w = encryptor.wrap_output(&mut sealed).unwrap();
    w.write_all(zip).unwrap();
    w.finish().unwrap();
    let Ok(mut reader) = SubmissionReader::open(
        BufReader::new(Cursor::new(sealed)),
        std::iter::once(key() as &dyn age::Identity),
    ) else {
        return;
    };
    let manifest = reader.manifest().clone();
    for (i, part) in manifest.parts.iter().enumerate() {
        assert!(sealdrop_format::seal::reader::is_safe_relative_path(&part.path));
        let Ok(mut r) = reader.part_reader(i) else { continue };
        let mut total = 0u64;
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) => {
                    assert_eq!(total, part.size);
                    break;
                }
                Ok(n) => {
                    total += n as u64;
                    assert!(total <= part.size);
                }
                Err(_) => break,
            }
        }
    }
});
