//! The C2SP CCTV age test vectors (tests/testdata/cctv-age, see SOURCE.md there)
//! run through sealdrop's own decrypt path: identities parsed by
//! `sealdrop_format::keys::parse_identities`, files opened by `sealdrop_format::agefile`,
//! the layer under both `sealdrop-open decrypt` and passphrase-protected
//! identity files.
//!
//! Every vector runs. Where the outcome differs from the vector's
//! expectation, the difference must be one of `KNOWN_DIFFERENCES` below, each
//! with its reason; a new difference, or a listed one that goes away, fails.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sealdrop_format::agefile::AgeFile;
use sealdrop_format::keys::{parse_identities, Identities};
use sha2::{Digest, Sha256};

const VECTORS: &str = "tests/testdata/cctv-age";

/// Vectors whose outcome differs from their expectation, with what we get
/// and why. Both sides still refuse in every "armor failure" case here.
const KNOWN_DIFFERENCES: &[(&str, Outcome, &str)] = &[
    (
        "stanza_missing_body",
        Outcome::Success,
        "the age crate accepts a stanza without its final short line, for files from early age \
         versions; the header MAC still authenticates every byte of the header",
    ),
    (
        "stanza_missing_final_line",
        Outcome::Success,
        "as stanza_missing_body",
    ),
    (
        "armor_garbage_leading",
        Outcome::HeaderFailure,
        "age detects armor by its exact first line; text before it makes the file a \
         (broken) binary age file, refused as a header failure instead of an armor failure",
    ),
    (
        "armor_lowercase",
        Outcome::HeaderFailure,
        "as armor_garbage_leading: a lowercase begin line is not recognised as armor",
    ),
    (
        "armor_whitespace_begin",
        Outcome::HeaderFailure,
        "as armor_garbage_leading: `----- BEGIN` is not recognised as armor",
    ),
    (
        "armor_wrong_type",
        Outcome::HeaderFailure,
        "as armor_garbage_leading: another PEM type is not recognised as armor",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    NoMatch,
    HmacFailure,
    HeaderFailure,
    PayloadFailure,
    ArmorFailure,
}

struct Vector {
    name: String,
    expect: Outcome,
    /// SHA-256 of the plaintext released before success or failure.
    payload: Option<[u8; 32]>,
    identities: Vec<String>,
    passphrase: Option<String>,
    age_file: Vec<u8>,
}

fn hex32(s: &str) -> [u8; 32] {
    assert_eq!(s.len(), 64, "{s}");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// Parses one vector; `Err` names a header key we do not know, which per
/// SOURCE.md means "skip this vector".
fn parse(path: &Path) -> Result<Vector, String> {
    let raw = fs::read(path).unwrap();
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("a header and a body");
    let header = std::str::from_utf8(&raw[..split]).unwrap();
    let body = &raw[split + 2..];
    let mut vector = Vector {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        expect: Outcome::Success,
        payload: None,
        identities: Vec::new(),
        passphrase: None,
        age_file: Vec::new(),
    };
    let mut compressed = false;
    for line in header.lines() {
        let (key, value) = line.split_once(": ").expect("key: value");
        match key {
            "expect" => {
                vector.expect = match value {
                    "success" => Outcome::Success,
                    "no match" => Outcome::NoMatch,
                    "HMAC failure" => Outcome::HmacFailure,
                    "header failure" => Outcome::HeaderFailure,
                    "payload failure" => Outcome::PayloadFailure,
                    "armor failure" => Outcome::ArmorFailure,
                    other => return Err(format!("expect: {other}")),
                }
            }
            "payload" => vector.payload = Some(hex32(value)),
            "identity" => vector.identities.push(value.to_owned()),
            "passphrase" => vector.passphrase = Some(value.to_owned()),
            "compressed" if value == "zlib" => compressed = true,
            "file key" | "comment" | "armored" => {}
            other => return Err(format!("unknown header key {other:?}")),
        }
    }
    vector.age_file = if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        body.to_vec()
    };
    Ok(vector)
}

fn is_armor_error(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<age::armor::ArmoredReadError>())
}

fn classify_header_error(e: age::DecryptError) -> Outcome {
    use age::DecryptError as E;
    match e {
        E::NoMatchingKeys | E::DecryptionFailed => Outcome::NoMatch,
        E::InvalidMac => Outcome::HmacFailure,
        E::Io(ref io) if is_armor_error(io) => Outcome::ArmorFailure,
        _ => Outcome::HeaderFailure,
    }
}

/// Runs one vector through sealdrop's decrypt path; returns the outcome and
/// the SHA-256 of whatever plaintext was released.
fn run(vector: &Vector) -> (Outcome, [u8; 32]) {
    let released_nothing: [u8; 32] = Sha256::digest(b"").into();
    let identities: Identities = if vector.identities.is_empty() {
        Identities::new()
    } else {
        parse_identities(
            &vector.identities.join("\n"),
            Path::new(&format!("{}: identity", vector.name)),
        )
        .unwrap_or_else(|e| {
            panic!(
                "{}: the project cannot parse its identity: {e}",
                vector.name
            )
        })
    };
    let file = match AgeFile::open(&vector.age_file[..]) {
        Ok(file) => file,
        Err(e) => return (classify_header_error(e), released_nothing),
    };
    let decrypted = if file.is_passphrase_protected() {
        let passphrase = vector
            .passphrase
            .clone()
            .unwrap_or_else(|| panic!("{}: scrypt file without passphrase", vector.name));
        file.decrypt_with_passphrase(passphrase.into())
    } else {
        file.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
    };
    let mut plaintext = match decrypted {
        Ok(p) => p,
        Err(e) => return (classify_header_error(e), released_nothing),
    };
    let mut released = Vec::new();
    let result = plaintext.read_to_end(&mut released);
    let hash: [u8; 32] = Sha256::digest(&released).into();
    match result {
        Ok(_) => (Outcome::Success, hash),
        Err(e) if is_armor_error(&e) => (Outcome::ArmorFailure, hash),
        Err(_) => (Outcome::PayloadFailure, hash),
    }
}

fn vector_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(VECTORS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_cctv_vector_gives_its_expected_result() {
    let paths = vector_paths();
    assert_eq!(paths.len(), 143, "SOURCE.md promises 143 vectors");
    let known: BTreeMap<&str, (Outcome, &str)> = KNOWN_DIFFERENCES
        .iter()
        .map(|(name, outcome, why)| (*name, (*outcome, *why)))
        .collect();
    let mut failures = Vec::new();
    let mut differences_seen = Vec::new();
    let mut ran = 0;
    for path in &paths {
        let vector = match parse(path) {
            Ok(v) => v,
            Err(why) => {
                failures.push(format!("{}: cannot be run ({why})", path.display()));
                continue;
            }
        };
        ran += 1;
        let (outcome, hash) = run(&vector);
        if let Some((expected_difference, _)) = known.get(vector.name.as_str()) {
            if outcome == *expected_difference {
                differences_seen.push(vector.name.clone());
                continue;
            }
        }
        if outcome != vector.expect {
            failures.push(format!(
                "{}: expected {:?}, got {outcome:?}",
                vector.name, vector.expect
            ));
            continue;
        }
        if let Some(expected) = vector.payload {
            if hash != expected {
                failures.push(format!(
                    "{}: {outcome:?} but the released plaintext differs",
                    vector.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(ran, 143);
    let listed: Vec<String> = known.keys().map(|k| k.to_string()).collect();
    differences_seen.sort();
    assert_eq!(
        differences_seen, listed,
        "a listed difference no longer occurs: remove it from KNOWN_DIFFERENCES"
    );
}

#[test]
fn all_nineteen_hybrid_vectors_are_present_and_post_quantum() {
    let hybrid: Vec<Vector> = vector_paths()
        .iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("hybrid") || name == "armor_hybrid"
        })
        .map(|p| parse(p).unwrap())
        .collect();
    assert_eq!(hybrid.len(), 19);
    for v in &hybrid {
        assert!(
            v.identities
                .iter()
                .any(|i| i.starts_with("AGE-SECRET-KEY-PQ-1")),
            "{} has no post-quantum identity",
            v.name
        );
        let (outcome, _) = run(v);
        assert_eq!(outcome, v.expect, "{}", v.name);
    }
}
