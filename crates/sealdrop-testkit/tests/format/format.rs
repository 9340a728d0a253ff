//! The sealed format: round trips, padding buckets, hostile archives.

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};

use crate::common::*;
use proptest::prelude::*;
use sealdrop_format::seal::names::{sanitize_name, MAX_NAME_BYTES};
use sealdrop_format::seal::padme::{padme, MIN_PADDED_LEN};
use sealdrop_format::seal::{OpenError, SubmissionReader};

fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._-]{0,40}",
        Just("../../../etc/passwd".to_owned()),
        Just("..\\..\\boot.ini".to_owned()),
        Just("/abs/path.txt".to_owned()),
        Just("photo_\u{202E}gnp.exe".to_owned()),
        Just("CON.txt".to_owned()),
        Just("a\0b\x1b[2Jc".to_owned()),
        Just("x".repeat(400)),
        Just("تقرير سري.pdf".to_owned()),
        any::<String>(),
    ]
}

fn submission() -> impl Strategy<Value = Submission> {
    // Sizes straddle the 64 KiB age chunk and typical read-buffer boundaries.
    let size = prop_oneof![
        Just(0usize),
        1usize..300,
        Just(65_535usize),
        Just(65_536usize),
        Just(65_537usize),
        60_000usize..140_000,
    ];
    let data = size.prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n));
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..3000)),
        proptest::collection::vec((hostile_name(), data), 0..4),
    )
        .prop_filter("a submission has a message or a file", |(m, f)| {
            m.is_some() || !f.is_empty()
        })
        .prop_map(|(message, files)| Submission { message, files })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_for_every_recipient(sub in submission(), n_keys in 1usize..4, chunk in prop_oneof![Just(1usize), 7usize..70_000]) {
        let keys: Vec<Key> = (0..n_keys).map(|_| Key::new()).collect();
        let refs: Vec<&Key> = keys.iter().collect();
        let sealed = seal(&sub, &refs, chunk);
        for key in &keys {
            let (message, files) = open(&sealed, key);
            prop_assert_eq!(&message, &sub.message);
            prop_assert_eq!(files.len(), sub.files.len());
            let mut seen = std::collections::HashSet::new();
            for ((path, data), (original, sent)) in files.iter().zip(&sub.files) {
                prop_assert_eq!(data, sent);
                let name = path.strip_prefix("attachments/").unwrap();
                prop_assert!(name.len() <= MAX_NAME_BYTES);
                prop_assert!(!name.contains('/') && !name.contains('\\') && name != ".." && !name.starts_with('.'));
                prop_assert!(seen.insert(name.to_lowercase()), "duplicate name {}", name);
                if original.len() < 100 && sanitize_name(original) == *original {
                    // A harmless name survives, unless it collided with an earlier one.
                    prop_assert!(name == original.as_str() || name.contains(" ("));
                }
            }
        }
    }

    #[test]
    fn sanitizer_is_idempotent_and_safe(name in any::<String>()) {
        let once = sanitize_name(&name);
        prop_assert_eq!(sanitize_name(&once), once.clone());
        prop_assert!(!once.is_empty() && once.len() <= MAX_NAME_BYTES);
        prop_assert!(!once.chars().any(|c| c.is_control() || c == '/' || c == '\\'));
        prop_assert!(!once.starts_with('.') && !once.ends_with('.') && !once.ends_with(' '));
    }
}

#[test]
fn a_non_recipient_cannot_open() {
    let key = Key::new();
    let other = Key::new();
    let sealed = seal(
        &Submission {
            message: Some(b"hi".to_vec()),
            files: vec![],
        },
        &[&key],
        1024,
    );
    let err = SubmissionReader::open(
        BufReader::new(Cursor::new(&sealed)),
        std::iter::once(&other.identity as &dyn age::Identity),
    )
    .err()
    .expect("must fail");
    assert!(matches!(err, OpenError::NoMatchingIdentity), "{err}");
}

/// Length of the age header: up to the end of the "--- <mac>" line. The age crate
/// adds a random "grease" stanza, so header sizes vary independently of content.
fn header_len(sealed: &[u8]) -> u64 {
    let mac = sealed.windows(5).position(|w| w == b"\n--- ").unwrap() + 1;
    (mac + sealed[mac..].iter().position(|&b| b == b'\n').unwrap() + 1) as u64
}

/// Plaintext length of a sealed file (decrypting with a seek to the end).
fn plaintext_len(sealed: &[u8], key: &Key) -> u64 {
    let d = age::Decryptor::new_buffered(BufReader::new(Cursor::new(sealed))).unwrap();
    let mut r = d
        .decrypt(std::iter::once(&key.identity as &dyn age::Identity))
        .unwrap();
    r.seek(SeekFrom::End(0)).unwrap()
}

#[test]
fn sizes_fall_in_documented_padme_buckets() {
    let key = Key::new();
    let mut distinct = std::collections::BTreeSet::new();
    let sizes: Vec<usize> = (0..40)
        .map(|i| i * 997)
        .chain((0..60).map(|i| 100_000 + i * 1733))
        .collect();
    for size in sizes {
        let sub = Submission {
            message: Some(vec![b'x'; 5]),
            files: vec![("f.bin".into(), vec![7u8; size])],
        };
        let sealed = seal(&sub, &[&key], 8192);
        let plain = plaintext_len(&sealed, &key);
        // FORMAT.md: the plaintext length is max(padme(L), 64 KiB), a Padmé fixed point.
        assert!(plain >= MIN_PADDED_LEN, "{size}: {plain}");
        assert_eq!(
            padme(plain),
            plain,
            "{size}: {plain} is not a bucket boundary"
        );
        assert!(plain as f64 <= (size as f64 + 2048.0) * 1.125 + MIN_PADDED_LEN as f64);
        // Ciphertext = header + plaintext + 16-byte tag per started 64 KiB chunk.
        let chunks = plain.div_ceil(65_536).max(1);
        let payload = sealed.len() as u64 - header_len(&sealed);
        assert_eq!(
            payload,
            16 + plain + 16 * chunks,
            "payload = nonce + plaintext + tags"
        );
        distinct.insert(payload);
    }
    // 100 different sizes collapse to a few buckets.
    assert!(
        distinct.len() <= 45,
        "{} distinct ciphertext sizes",
        distinct.len()
    );
}

#[test]
fn small_submissions_are_indistinguishable_by_size() {
    let key = Key::new();
    let a = seal(
        &Submission {
            message: Some(b"yes".to_vec()),
            files: vec![],
        },
        &[&key],
        64,
    );
    let b = seal(
        &Submission {
            message: Some(vec![b'z'; 20_000]),
            files: vec![("photo.jpg".into(), vec![1; 30_000])],
        },
        &[&key],
        4096,
    );
    assert_eq!(
        a.len() as u64 - header_len(&a),
        b.len() as u64 - header_len(&b)
    );
}

/// Opens a hand-built archive through both ways of reading parts (the
/// streaming `PartReader`, and `copy_part` as `sealdrop-open decrypt` uses
/// it), which must agree; returns the first's result.
fn open_raw(zip: Vec<u8>, key: &Key) -> Result<(), OpenError> {
    let sealed = age_encrypt(&zip, key);
    let open = || {
        SubmissionReader::open(
            BufReader::new(Cursor::new(sealed.clone())),
            std::iter::once(&key.identity as &dyn age::Identity),
        )
    };
    let streamed = (|| {
        let mut r = open()?;
        for i in 0..r.manifest().parts.len() {
            let mut sink = Vec::new();
            r.part_reader(i)?
                .read_to_end(&mut sink)
                .map_err(OpenError::Io)?;
        }
        Ok::<(), OpenError>(())
    })();
    let copied = (|| {
        let mut r = open()?;
        for i in 0..r.manifest().parts.len() {
            r.copy_part(i, &mut Vec::new()).map_err(OpenError::Io)?;
        }
        Ok::<(), OpenError>(())
    })();
    match (&streamed, &copied) {
        (Ok(()), Ok(())) => {}
        (Err(a), Err(b)) => {
            for phrase in ["SHA-256", "more data than", "size"] {
                if a.to_string().contains(phrase) {
                    assert!(b.to_string().contains(phrase), "{a} / {b}");
                }
            }
        }
        _ => panic!("the two ways of reading disagree: {streamed:?} / {copied:?}"),
    }
    streamed
}

#[test]
fn entries_escaping_the_output_folder_are_refused() {
    let key = Key::new();
    for evil in [
        "../escape.txt",
        "/tmp/abs.txt",
        "attachments/../../x",
        "..\\win.txt",
        "a/\u{202E}txt.exe",
    ] {
        // Listed in the manifest...
        let data = b"pwned";
        let zip = RawZip::new()
            .stored(evil, data)
            .stored(
                "manifest.json",
                &manifest_json(&[("attachment", evil, data)]),
            )
            .finish();
        let err = open_raw(zip, &key).unwrap_err();
        assert!(matches!(err, OpenError::UnsafePath(_)), "{evil}: {err}");
        // ...or smuggled beside it.
        let zip = RawZip::new()
            .stored(evil, data)
            .stored("manifest.json", &manifest_json(&[]))
            .finish();
        let err = open_raw(zip, &key).unwrap_err();
        assert!(matches!(err, OpenError::UnsafePath(_)), "{evil}: {err}");
    }
}

#[test]
fn unlisted_and_duplicate_entries_are_refused() {
    let key = Key::new();
    let zip = RawZip::new()
        .stored("extra.txt", b"x")
        .stored("manifest.json", &manifest_json(&[]))
        .finish();
    assert!(matches!(
        open_raw(zip, &key).unwrap_err(),
        OpenError::UnexpectedEntry(_)
    ));
    let data = b"one";
    let zip = RawZip::new()
        .stored("message.txt", data)
        .stored("message.txt", b"two")
        .stored(
            "manifest.json",
            &manifest_json(&[("message", "message.txt", data)]),
        )
        .finish();
    assert!(open_raw(zip, &key).is_err());
}

#[test]
fn tampered_content_fails_verification() {
    let key = Key::new();
    let zip = RawZip::new()
        .stored("message.txt", b"original")
        .stored(
            "manifest.json",
            &manifest_json(&[("message", "message.txt", b"0riginal")]),
        )
        .finish();
    let err = open_raw(zip, &key).unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn zip_bombs_are_capped_at_the_manifest_size() {
    let key = Key::new();
    // 8 MiB of zeros deflate to a few KiB; the headers and manifest claim 100 bytes.
    let big = vec![0u8; 8 << 20];
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &big).unwrap();
    let deflated = enc.finish().unwrap();
    let claimed = &big[..100];
    let zip = RawZip::new()
        .entry(
            "attachments/bomb.bin",
            8,
            &deflated,
            100,
            crc32fast::hash(claimed),
        )
        .stored(
            "manifest.json",
            &manifest_json(&[("attachment", "attachments/bomb.bin", claimed)]),
        )
        .finish();
    let err = open_raw(zip, &key).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("more data than the manifest declares")
            || msg.contains("larger than its declared"),
        "{msg}"
    );
    // Declaring a size beyond deflate's 1032:1 limit is refused before reading.
    let claimed_size: u64 = 1 << 30;
    let manifest = serde_json::json!({
        "format": "sealdrop-submission", "version": 1, "received": "2026-11-25T04:00:00Z",
        "received_granularity_secs": 3600,
        "parts": [{"kind": "attachment", "path": "attachments/bomb.bin", "size": claimed_size,
                   "sha256": "0".repeat(64)}]
    });
    let zip = RawZip::new()
        .entry("attachments/bomb.bin", 8, &deflated, claimed_size as u32, 0)
        .stored("manifest.json", &serde_json::to_vec(&manifest).unwrap())
        .finish();
    let err = open_raw(zip, &key).unwrap_err();
    assert!(
        err.to_string().contains("does not fit the declared size"),
        "{err}"
    );
}

#[test]
fn newer_major_version_is_refused_with_advice() {
    let key = Key::new();
    let manifest = String::from_utf8(manifest_json(&[]))
        .unwrap()
        .replace("\"version\":1", "\"version\":2");
    let zip = RawZip::new()
        .stored("manifest.json", manifest.as_bytes())
        .finish();
    let err = open_raw(zip, &key).unwrap_err();
    assert!(matches!(err, OpenError::NewerVersion(2)), "{err}");
    assert!(err.to_string().contains("upgrade"));
}

/// Deflates `data` as a stock zip tool would.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, data).unwrap();
    enc.finish().unwrap()
}

/// The "better zip bomb": many central records pointing at one compressed
/// block, each listed with an honest size and hash. Before, 87 KB made
/// `sealdrop-open decrypt` write 6.2 GiB.
#[test]
fn entries_that_overlap_are_refused() {
    let key = Key::new();
    let part = vec![0u8; 1 << 20];
    let deflated = deflate(&part);
    let names: Vec<String> = (0..50).map(|i| format!("attachments/a{i}.bin")).collect();
    let mut zip = RawZip::new();
    zip.entry(
        &names[0],
        8,
        &deflated,
        part.len() as u32,
        crc32fast::hash(&part),
    );
    for name in &names[1..] {
        zip.alias(name, 0);
    }
    let listed: Vec<(&str, &str, &[u8])> = names
        .iter()
        .map(|n| ("attachment", n.as_str(), &part[..]))
        .collect();
    zip.stored("manifest.json", &manifest_json(&listed));
    let err = open_raw(zip.finish(), &key).unwrap_err();
    assert!(matches!(err, OpenError::Inconsistent(_)), "{err}");
    assert!(err.to_string().contains("overlap"), "{err}");
}

/// A local header may not carry another path than the central directory
/// shows: readers that stream local headers would write it there.
#[test]
fn a_local_header_with_another_name_is_refused() {
    let key = Key::new();
    let data = b"payload";
    for local in ["../../../../tmp/evil.sh", "attachments/other.txt"] {
        let zip = RawZip::new()
            .entry_named(
                "attachments/doc.txt",
                local,
                0,
                data,
                data.len() as u32,
                crc32fast::hash(data),
            )
            .stored(
                "manifest.json",
                &manifest_json(&[("attachment", "attachments/doc.txt", data)]),
            )
            .finish();
        let err = open_raw(zip, &key).unwrap_err();
        assert!(matches!(err, OpenError::Inconsistent(_)), "{local}: {err}");
    }
}

/// Two parts whose paths differ only in Unicode normalization or case would
/// be two files that look the same (or clash on macOS and Windows).
#[test]
fn lookalike_part_names_are_refused() {
    let key = Key::new();
    for (a, b) in [
        ("attachments/caf\u{e9}.txt", "attachments/cafe\u{301}.txt"),
        ("attachments/Report.pdf", "attachments/report.PDF"),
    ] {
        let zip = RawZip::new()
            .stored(a, b"one")
            .stored(b, b"two")
            .stored(
                "manifest.json",
                &manifest_json(&[("attachment", a, b"one"), ("attachment", b, b"two")]),
            )
            .finish();
        let err = open_raw(zip, &key).unwrap_err();
        assert!(
            err.to_string().contains("looks the same"),
            "{a} / {b}: {err}"
        );
    }
}

/// Each kind of part has its place; an attachment may not sit at the top of
/// the submission's folder (an `autorun.inf` beside the message).
#[test]
fn parts_outside_their_place_are_refused() {
    let key = Key::new();
    for (kind, path) in [
        ("attachment", "autorun.inf"),
        ("attachment", "attachments/sub/x.txt"),
        ("message", "attachments/message.txt"),
    ] {
        let zip = RawZip::new()
            .stored(path, b"x")
            .stored("manifest.json", &manifest_json(&[(kind, path, b"x")]))
            .finish();
        let err = open_raw(zip, &key).unwrap_err();
        assert!(
            err.to_string().contains("outside its place"),
            "{kind} {path}: {err}"
        );
    }
}
