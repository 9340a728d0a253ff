#![no_main]
//! The mlkem768x25519 stanza checks and the PQ key parsers must refuse any
//! input without panicking. Input: the stanza's arguments after the type
//! (space-separated), a newline, then the raw body. The identity is the one
//! of the CCTV `hybrid` vector, so the seed (that vector's stanza) reaches
//! the decryption path; whatever unwraps must be that vector's file key.

use std::sync::OnceLock;

use age::Identity as _;
use age_core::format::Stanza;
use age_core::secrecy::ExposeSecret;
use libfuzzer_sys::fuzz_target;
use sealdrop_format::pq;

const VECTOR: &[u8] = include_bytes!("../../../crates/sealdrop-testkit/tests/testdata/cctv-age/hybrid");
const FILE_KEY: &[u8; 16] = b"YELLOW SUBMARINE";

fn identity() -> &'static pq::Identity {
    static IDENTITY: OnceLock<pq::Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let text = std::str::from_utf8(&VECTOR[..VECTOR.windows(2).position(|w| w == b"\n\n").unwrap()]).unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("identity: ")).unwrap();
        line.parse().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let (args, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let args = String::from_utf8_lossy(args);
    let stanza = Stanza {
        tag: pq::STANZA_TAG.to_owned(),
        args: args.split(' ').map(str::to_owned).collect(),
        body: body.to_vec(),
    };
    if let Some(Ok(key)) = identity().unwrap_stanza(&stanza) {
        assert_eq!(key.expose_secret(), FILE_KEY);
    }

    // The same bytes as key strings: what parses must print back as it was read.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(recipient) = text.parse::<pq::Recipient>() {
            assert_eq!(recipient.to_string(), text.to_ascii_lowercase());
        }
        if let Ok(identity) = text.parse::<pq::Identity>() {
            assert_eq!(identity.to_secret_string().expose_secret(), text.to_ascii_uppercase());
        }
    }
});
