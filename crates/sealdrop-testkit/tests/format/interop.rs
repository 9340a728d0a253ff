//! Independent ZIP readers on the plaintext the server seals: Info-ZIP
//! `unzip`, `bsdtar` (libarchive), 7-Zip (`7zz`), Python's `zipfile`, and the
//! JDK's `ZipFile` and streaming `ZipInputStream` (the reader that refuses a
//! data descriptor after a stored entry). Each must list every entry with its
//! exact bytes and pass its own integrity test. .ci/run installs them all.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use sealdrop_format::seal::{SealOptions, SubmissionWriter};

use crate::common::*;

/// The server's default upload limit, which selects the layout it writes.
const SERVER_DEFAULT_MAX: u64 = 500 << 20;

type Listing = BTreeMap<String, (u64, String)>;

/// Seals a submission the way the server does and returns the ZIP inside.
fn server_like_archive(key: &Key) -> Vec<u8> {
    let options = SealOptions {
        max_part_size: Some(SERVER_DEFAULT_MAX),
        ..SealOptions::default()
    };
    let mut w = SubmissionWriter::new(&recipients(&[key]), Vec::new(), &options).unwrap();
    w.begin_message().unwrap();
    w.write_part("A message. رسالة.\n".as_bytes()).unwrap();
    w.end_part().unwrap();
    let big: Vec<u8> = (0..250_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let files: [(&str, &[u8], usize); 4] = [
        ("report final.pdf", &big, 1000),
        ("تقرير.txt", b"Arabic name", 3),
        ("empty.bin", b"", 1),
        ("large chunks.bin", &big, 70_000),
    ];
    for (name, data, chunk) in files {
        w.begin_attachment(name, None).unwrap();
        for piece in data.chunks(chunk) {
            w.write_part(piece).unwrap();
        }
        w.end_part().unwrap();
    }
    let sealed = w.finish().unwrap().0;
    let decryptor = age::Decryptor::new(&sealed[..]).unwrap();
    let mut zip = Vec::new();
    decryptor
        .decrypt(std::iter::once(&key.identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut zip)
        .unwrap();
    zip
}

/// What the archive holds, by the zip crate.
fn expected(zip: &[u8]) -> Listing {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut listing = Listing::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        listing.insert(
            entry.name().unwrap().into_owned(),
            (data.len() as u64, sha256_hex(&data)),
        );
    }
    assert!(listing.contains_key("manifest.json") && listing.contains_key(".padding"));
    assert_eq!(listing.len(), 7);
    listing
}

fn parse_listing(what: &str, out: &std::process::Output) -> Listing {
    assert_success(out, what);
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next().unwrap().to_owned();
            let size = fields.next().unwrap().parse().unwrap();
            let sha = fields.next().unwrap().to_owned();
            (name, (size, sha))
        })
        .collect()
}

/// Every file under `dir`, as a listing.
fn extracted(dir: &Path) -> Listing {
    tree(dir)
        .into_iter()
        .map(|name| {
            let data = fs::read(dir.join(&name)).unwrap();
            (name, (data.len() as u64, sha256_hex(&data)))
        })
        .collect()
}

fn interop_script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

#[test]
fn seven_zip_readers_read_what_the_server_seals() {
    let key = Key::new();
    let zip = server_like_archive(&key);
    let want = expected(&zip);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("submission.zip");
    fs::write(&archive, &zip).unwrap();

    for mode in ["stream", "file"] {
        let out = run(Command::new("java")
            .arg(interop_script("ZipRead.java"))
            .arg(mode)
            .arg(&archive));
        assert_eq!(
            parse_listing(&format!("java ZipRead {mode}"), &out),
            want,
            "JDK {mode}"
        );
    }
    let out = run(Command::new("python3")
        .arg(interop_script("zipread.py"))
        .arg(&archive));
    assert_eq!(parse_listing("python zipfile", &out), want);

    type Extract = fn(&Path, &Path) -> Command;
    let extractors: [(&str, Extract, Extract); 3] = [
        (
            "unzip",
            |zip, _| {
                let mut c = Command::new("unzip");
                c.arg("-tq").arg(zip);
                c
            },
            |zip, to| {
                let mut c = Command::new("unzip");
                c.arg("-q").arg(zip).arg("-d").arg(to);
                c
            },
        ),
        (
            "bsdtar",
            |zip, _| {
                let mut c = Command::new("bsdtar");
                c.arg("-tf").arg(zip);
                c
            },
            |zip, to| {
                let mut c = Command::new("bsdtar");
                c.arg("-xf").arg(zip).arg("-C").arg(to);
                c
            },
        ),
        (
            "7zz",
            |zip, _| {
                let mut c = Command::new("7zz");
                c.arg("t").arg(zip);
                c
            },
            |zip, to| {
                let mut c = Command::new("7zz");
                c.arg("x").arg(format!("-o{}", to.display())).arg(zip);
                c
            },
        ),
    ];
    for (name, test, extract) in extractors {
        let to = dir.path().join(name);
        fs::create_dir(&to).unwrap();
        assert_success(&run(&mut test(&archive, &to)), &format!("{name} test"));
        assert_success(
            &run(&mut extract(&archive, &to)),
            &format!("{name} extract"),
        );
        assert_eq!(extracted(&to), want, "{name}");
    }
}
