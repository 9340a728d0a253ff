//! Golden files: sealed submissions made by earlier versions of sealdrop and
//! committed under tests/testdata/golden/, with their TEST-ONLY identities.
//! Every later version must open each of them, with the same manifest and
//! byte-identical parts: a change that breaks this breaks the editors' archive.
//!
//! The content is fixed here ([`golden_submission`]); `write_golden_files`
//! (ignored; run it by hand) seals it with the current writer, to add the
//! layout of a new version beside the old ones, never to replace them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sealdrop_format::keys::{load_identity_file, Recipients};
use sealdrop_format::seal::{PartKind, SealOptions, SubmissionReader, SubmissionWriter};

use crate::common::*;

const DIR: &str = "tests/testdata/golden";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR)
}

/// An attachment: (original name, content type, bytes).
type Attachment = (&'static str, &'static str, Vec<u8>);

/// What every golden file holds: a message and attachments.
fn golden_submission() -> (Vec<u8>, Vec<Attachment>) {
    let message = "Golden message. رسالة ذهبية. Золотое сообщение.\n"
        .as_bytes()
        .to_vec();
    let files = vec![
        (
            "report final.pdf",
            "application/pdf",
            // Crosses an age STREAM chunk (64 KiB) and a deflate block.
            (0..150_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
                .collect(),
        ),
        ("empty.txt", "text/plain", Vec::new()),
        (
            "../../etc/\u{202E}fdp.exe",
            "application/octet-stream",
            b"#!/bin/sh\necho hostile name\n".to_vec(),
        ),
    ];
    (message, files)
}

/// The golden files: (sealed file, its identity file, what it is).
fn golden_files() -> Vec<(PathBuf, PathBuf, &'static str)> {
    let dir = golden_dir();
    let mut files = Vec::new();
    for (layout, what) in [
        (
            "stored-zip64",
            "v1 layout of 6e4763a and before: stored entries, ZIP64 local extras",
        ),
        (
            "deflate-stored-blocks",
            "v1 layout since: deflated with stored blocks, classic data descriptors",
        ),
    ] {
        files.push((
            dir.join(format!("v1-{layout}-x25519.age")),
            dir.join("TEST-ONLY-x25519-identity.txt"),
            what,
        ));
        files.push((
            dir.join(format!("v1-{layout}-mlkem768x25519.age")),
            dir.join("TEST-ONLY-mlkem768x25519-identity.txt"),
            what,
        ));
    }
    for (sealed, _, what) in &files {
        assert!(sealed.exists(), "{} ({what}) is missing", sealed.display());
    }
    files
}

fn identities(path: &Path) -> sealdrop_format::keys::Identities {
    load_identity_file(path, NoPrompt).unwrap()
}

#[derive(Clone)]
struct NoPrompt;

impl age::Callbacks for NoPrompt {
    fn display_message(&self, _: &str) {}
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, _: &str) -> Option<age::secrecy::SecretString> {
        None
    }
}

/// Every golden file opens through the library with the manifest and the
/// bytes it was made with.
#[test]
fn every_golden_file_opens_with_its_manifest_and_exact_bytes() {
    let (message, files) = golden_submission();
    for (sealed, identity, what) in golden_files() {
        let ids = identities(&identity);
        let mut reader = SubmissionReader::open(
            fs::File::open(&sealed).unwrap(),
            ids.iter().map(|i| i.as_ref() as &dyn age::Identity),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let manifest = reader.manifest().clone();
        assert_eq!(manifest.format, "sealdrop-submission", "{what}");
        assert_eq!(manifest.version, 1, "{what}");
        assert_eq!(manifest.received_granularity_secs, 3600, "{what}");
        assert_eq!(manifest.received, "2025-11-25T04:00:00Z", "{what}");
        assert_eq!(manifest.parts.len(), 1 + files.len(), "{what}");
        let mut read = |i: usize| {
            let mut data = Vec::new();
            std::io::copy(&mut reader.part_reader(i).unwrap(), &mut data).unwrap();
            data
        };
        assert_eq!(manifest.parts[0].kind, PartKind::Message);
        assert_eq!(manifest.parts[0].path, "message.txt");
        assert_eq!(read(0), message, "{what}");
        let paths = [
            "attachments/report final.pdf",
            "attachments/empty.txt",
            "attachments/fdp.exe",
        ];
        for (i, ((name, content_type, data), path)) in files.iter().zip(paths).enumerate() {
            let part = &manifest.parts[i + 1];
            assert_eq!(part.kind, PartKind::Attachment, "{what}");
            assert_eq!(part.path, path, "{what}");
            assert_eq!(part.original_name.as_deref(), Some(*name), "{what}");
            assert_eq!(part.content_type.as_deref(), Some(*content_type), "{what}");
            assert_eq!(part.size, data.len() as u64, "{what}");
            assert_eq!(part.sha256, sha256_hex(data), "{what}");
            assert_eq!(&read(i + 1), data, "{what}: {path}");
        }
    }
}

/// `sealdrop-open decrypt` writes the same bytes, and stock age + unzip read
/// the classic golden file too.
#[test]
fn golden_files_open_byte_identical_with_sealdrop_open_and_stock_tools() {
    let (message, files) = golden_submission();
    let work = tempfile::tempdir().unwrap();
    for (n, (sealed, identity, what)) in golden_files().into_iter().enumerate() {
        let out = work.path().join(format!("opened-{n}"));
        assert_success(
            &run(Command::new(bin("sealdrop-open"))
                .args(["decrypt", "-i"])
                .arg(&identity)
                .arg("-o")
                .arg(&out)
                .arg(&sealed)),
            what,
        );
        let stem = sealed.file_stem().unwrap().to_str().unwrap().to_owned();
        let folder = out.join(&stem);
        assert_eq!(fs::read(folder.join("message.txt")).unwrap(), message);
        assert_eq!(
            fs::read(folder.join("attachments/report final.pdf")).unwrap(),
            files[0].2
        );
        assert_eq!(
            fs::read(folder.join("attachments/fdp.exe")).unwrap(),
            files[2].2
        );
        if stem.ends_with("x25519") && !stem.contains("mlkem") {
            let zip = work.path().join(format!("{stem}.zip"));
            assert_success(
                &run(Command::new("age")
                    .args(["-d", "-i"])
                    .arg(&identity)
                    .arg("-o")
                    .arg(&zip)
                    .arg(&sealed)),
                "stock age -d",
            );
            let unzipped = work.path().join(format!("unzipped-{n}"));
            assert_success(
                &run(Command::new("unzip")
                    .arg("-q")
                    .arg(&zip)
                    .arg("-d")
                    .arg(&unzipped)),
                "unzip",
            );
            assert_eq!(
                fs::read(unzipped.join("attachments/report final.pdf")).unwrap(),
                files[0].2
            );
        }
    }
}

/// Seals the golden content with the current writer into
/// `$SEALDROP_GOLDEN_OUT/<name>.age`, once for each TEST-ONLY identity. Run
/// by hand when the layout changes, and commit the new files beside the old.
#[test]
#[ignore = "writes new golden files; run by hand"]
fn write_golden_files() {
    let out = PathBuf::from(std::env::var("SEALDROP_GOLDEN_OUT").expect("SEALDROP_GOLDEN_OUT"));
    let name = std::env::var("SEALDROP_GOLDEN_NAME").expect("SEALDROP_GOLDEN_NAME");
    let dir = golden_dir();
    let (message, files) = golden_submission();
    let kinds = [
        ("x25519", dir.join("TEST-ONLY-x25519-identity.txt")),
        (
            "mlkem768x25519",
            dir.join("TEST-ONLY-mlkem768x25519-identity.txt"),
        ),
    ];
    for (kind, identity) in kinds {
        let text = fs::read_to_string(&identity).unwrap();
        let public = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("a public key comment");
        let recipients = Recipients::parse(public, &identity).unwrap();
        let options = SealOptions {
            arrival: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_043_200 + 1234),
            time_granularity_secs: 3600,
            // What the server passes with its default upload limit.
            max_part_size: Some(500 << 20),
        };
        let mut w = SubmissionWriter::new(&recipients, Vec::new(), &options).unwrap();
        w.begin_message().unwrap();
        w.write_part(&message).unwrap();
        w.end_part().unwrap();
        for (name, content_type, data) in &files {
            w.begin_attachment(name, Some(content_type)).unwrap();
            for chunk in data.chunks(16_384) {
                w.write_part(chunk).unwrap();
            }
            w.end_part().unwrap();
        }
        let sealed = w.finish().unwrap().0;
        fs::write(out.join(format!("v1-{name}-{kind}.age")), sealed).unwrap();
    }
}
