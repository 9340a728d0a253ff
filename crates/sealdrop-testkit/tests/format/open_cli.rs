//! `sealdrop-open` end to end, and interoperability with Debian's stock `age`,
//! `unzip` and `zip` (installed by .ci/run).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::*;

fn open_cmd() -> Command {
    Command::new(bin("sealdrop-open"))
}

fn sample() -> Submission {
    Submission {
        message: Some("Meet at the usual place. مرحبا\n".as_bytes().to_vec()),
        files: vec![
            (
                "report.pdf".into(),
                (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect(),
            ),
            ("empty.txt".into(), Vec::new()),
            (
                "../../etc/evil.sh".into(),
                b"#!/bin/sh\necho pwned\n".to_vec(),
            ),
        ],
    }
}

#[test]
fn keygen_output_is_accepted_by_stock_age() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("newsroom.key");
    let out = run(open_cmd().args(["keygen", "-o"]).arg(&key));
    assert_success(&out, "keygen");
    let recipient = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = fs::read_to_string(&key).unwrap();
    assert!(text.contains(&format!("# public key: {recipient}")));

    let plain = dir.path().join("plain.txt");
    fs::write(&plain, "interop check").unwrap();
    let sealed = dir.path().join("x.age");
    assert_success(
        &run(Command::new("age")
            .args(["-e", "-r", &recipient, "-o"])
            .arg(&sealed)
            .arg(&plain)),
        "age -e",
    );
    let out = run(Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(&sealed));
    assert_success(&out, "age -d with keygen's identity");
    assert_eq!(out.stdout, b"interop check");

    // Never overwrites.
    let before = fs::read(&key).unwrap();
    let out = run(open_cmd().args(["keygen", "-o"]).arg(&key));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites"));
    assert_eq!(fs::read(&key).unwrap(), before);
}

#[test]
fn stock_age_and_unzip_open_sealed_output_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let key_path = dir.path().join("key.txt");
    key.write_identity(&key_path);
    let sub = sample();
    let sealed = dir.path().join("sub.age");
    fs::write(&sealed, seal(&sub, &[&key], 4096)).unwrap();

    let zip = dir.path().join("sub.zip");
    assert_success(
        &run(Command::new("age")
            .args(["-d", "-i"])
            .arg(&key_path)
            .arg("-o")
            .arg(&zip)
            .arg(&sealed)),
        "age -d",
    );
    assert_success(&run(Command::new("unzip").arg("-t").arg(&zip)), "unzip -t");
    let out = dir.path().join("out");
    assert_success(
        &run(Command::new("unzip")
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(&out)),
        "unzip",
    );
    assert_eq!(
        fs::read(out.join("message.txt")).unwrap(),
        sub.message.clone().unwrap()
    );
    assert_eq!(
        fs::read(out.join("attachments/report.pdf")).unwrap(),
        sub.files[0].1
    );
    assert_eq!(fs::read(out.join("attachments/empty.txt")).unwrap(), b"");
    assert_eq!(
        fs::read(out.join("attachments/evil.sh")).unwrap(),
        sub.files[2].1
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["parts"][3]["original_name"], "../../etc/evil.sh");
    assert_eq!(manifest["parts"][3]["path"], "attachments/evil.sh");
    assert_eq!(manifest["parts"][1]["sha256"], sha256_hex(&sub.files[0].1));
    // unzip must not have written anything outside its folder.
    assert_eq!(
        tree(&out),
        [
            ".padding",
            "attachments/empty.txt",
            "attachments/evil.sh",
            "attachments/report.pdf",
            "manifest.json",
            "message.txt"
        ]
    );
}

#[test]
fn decrypt_opens_a_folder_continues_past_bad_files_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (Key::new(), Key::new());
    let (id1, id2) = (dir.path().join("k1.txt"), dir.path().join("k2.txt"));
    k1.write_identity(&id1);
    k2.write_identity(&id2);
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    let sub = sample();
    fs::write(store.join("aaaa.age"), seal(&sub, &[&k1], 1000)).unwrap();
    fs::write(
        store.join("bbbb.age"),
        seal(
            &Submission {
                message: Some(b"only text".to_vec()),
                files: vec![],
            },
            &[&k2],
            3,
        ),
    )
    .unwrap();
    fs::write(store.join("cccc.age"), b"this is not an age file").unwrap();
    fs::write(store.join("ignored.txt"), b"not .age").unwrap();
    let outdir = dir.path().join("opened");

    let decrypt = || {
        run(open_cmd()
            .args(["decrypt", "-i"])
            .arg(&id1)
            .arg("-i")
            .arg(&id2)
            .arg("-o")
            .arg(&outdir)
            .arg(&store))
    };
    let out = decrypt();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cccc.age"), "{stderr}");
    assert!(
        stderr.contains("2 opened") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(outdir.join("aaaa/message.txt")).unwrap(),
        sub.message.clone().unwrap()
    );
    assert_eq!(
        fs::read(outdir.join("aaaa/attachments/report.pdf")).unwrap(),
        sub.files[0].1
    );
    assert_eq!(
        fs::read(outdir.join("bbbb/message.txt")).unwrap(),
        b"only text"
    );
    assert!(outdir.join("aaaa/manifest.json").exists());
    assert!(
        !outdir.join("cccc").exists(),
        "a failed file leaves no folder"
    );
    assert_eq!(
        fs::read_dir(&outdir).unwrap().count(),
        2,
        "no staging leftovers"
    );
    let mode = fs::metadata(outdir.join("aaaa/attachments/report.pdf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "plaintext is private to the editor");

    // A second run skips what is open and overwrites nothing.
    fs::write(outdir.join("aaaa/message.txt"), b"editor's notes").unwrap();
    fs::remove_file(store.join("cccc.age")).unwrap();
    let out = decrypt();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 opened") && stderr.contains("2 already open"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(outdir.join("aaaa/message.txt")).unwrap(),
        b"editor's notes"
    );
}

#[test]
fn decrypt_opens_a_zip_built_by_stock_zip_and_age() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let key_path = dir.path().join("key.txt");
    key.write_identity(&key_path);
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("attachments")).unwrap();
    let message = b"hand-built message\n".repeat(50);
    let doc: Vec<u8> = b"compressible text ".repeat(20_000);
    fs::write(src.join("message.txt"), &message).unwrap();
    fs::write(src.join("attachments/doc.txt"), &doc).unwrap();
    fs::write(
        src.join("manifest.json"),
        manifest_json(&[
            ("message", "message.txt", &message),
            ("attachment", "attachments/doc.txt", &doc),
        ]),
    )
    .unwrap();
    // Info-ZIP `zip` deflates; the reader accepts stored and deflated entries.
    let zip = dir.path().join("hand.zip");
    assert_success(
        &run(Command::new("zip")
            .current_dir(&src)
            .arg("-q")
            .arg(&zip)
            .args(["manifest.json", "message.txt", "attachments/doc.txt"])),
        "zip",
    );
    let sealed = dir.path().join("inbox/hand.age");
    fs::create_dir(dir.path().join("inbox")).unwrap();
    assert_success(
        &run(Command::new("age")
            .args(["-e", "-r", &key.recipient.to_string(), "-o"])
            .arg(&sealed)
            .arg(&zip)),
        "age -e",
    );
    let outdir = dir.path().join("out");
    let out = run(open_cmd()
        .args(["decrypt", "-i"])
        .arg(&key_path)
        .arg("-o")
        .arg(&outdir)
        .arg(&sealed));
    assert_success(&out, "sealdrop-open decrypt");
    assert_eq!(fs::read(outdir.join("hand/message.txt")).unwrap(), message);
    assert_eq!(
        fs::read(outdir.join("hand/attachments/doc.txt")).unwrap(),
        doc
    );
}

#[test]
fn decrypt_refuses_an_entry_escaping_outdir_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let key_path = dir.path().join("key.txt");
    key.write_identity(&key_path);
    let data = b"#!/bin/sh\nrm -rf ~\n";
    let zip = RawZip::new()
        .stored("../escaped.sh", data)
        .stored(
            "manifest.json",
            &manifest_json(&[("attachment", "../escaped.sh", data)]),
        )
        .finish();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let sealed = work.join("evil.age");
    fs::write(&sealed, age_encrypt(&zip, &key)).unwrap();
    let outdir = work.join("out");
    let out = run(open_cmd()
        .args(["decrypt", "-i"])
        .arg(&key_path)
        .arg("-o")
        .arg(&outdir)
        .arg(&sealed));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsafe path"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tree(&work), ["evil.age"], "nothing written anywhere");
}

#[test]
fn list_shows_submissions_safely_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let key_path = dir.path().join("key.txt");
    key.write_identity(&key_path);
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    let sub = Submission {
        message: Some(b"Secret tip \x1b[2J\x1b]0;owned\x07 with escapes".to_vec()),
        files: vec![("photo_\u{202E}gpj.exe".into(), vec![1, 2, 3])],
    };
    fs::write(store.join("0123abcd.age"), seal(&sub, &[&key], 5)).unwrap();
    let before = tree(dir.path());
    let out = run(open_cmd()
        .current_dir(dir.path())
        .args(["list", "-i"])
        .arg(&key_path)
        .arg(&store));
    assert_success(&out, "list");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("0123abcd"), "{stdout}");
    assert!(stdout.contains("Secret tip"), "{stdout}");
    assert!(stdout.contains("attachments/photo_gpj.exe"), "{stdout}");
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\u{202E}') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert_eq!(tree(dir.path()), before, "list writes nothing");
}

#[test]
fn passphrase_protected_identity_is_prompted_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let plain_identity = dir.path().join("plain.txt");
    key.write_identity(&plain_identity);
    // What `age -p -o key.age key.txt` produces.
    let enc = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        "correct horse".to_owned(),
    ));
    let mut protected = Vec::new();
    let mut w = enc.wrap_output(&mut protected).unwrap();
    std::io::Write::write_all(&mut w, &fs::read(&plain_identity).unwrap()).unwrap();
    w.finish().unwrap();
    fs::remove_file(&plain_identity).unwrap();
    let identity = dir.path().join("identity.age");
    fs::write(&identity, protected).unwrap();
    let sealed = dir.path().join("feed.age");
    fs::write(
        &sealed,
        seal(
            &Submission {
                message: Some(b"via passphrase".to_vec()),
                files: vec![],
            },
            &[&key],
            100,
        ),
    )
    .unwrap();
    let outdir = dir.path().join("out");
    let bin = bin("sealdrop-open");
    let args = |o: &Path| -> Vec<std::ffi::OsString> {
        vec![
            bin.clone().into(),
            "decrypt".into(),
            "-i".into(),
            identity.clone().into(),
            "-o".into(),
            o.into(),
            sealed.clone().into(),
        ]
    };
    let wrong = args(&dir.path().join("wrong"));
    let (code, output) = run_on_terminal(
        Command::new(&wrong[0]).args(&wrong[1..]),
        "assphrase",
        "wrong horse",
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("wrong passphrase"), "{output}");
    let right = args(&outdir);
    let (code, output) = run_on_terminal(
        Command::new(&right[0]).args(&right[1..]),
        "assphrase",
        "correct horse",
    );
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        fs::read(outdir.join("feed/message.txt")).unwrap(),
        b"via passphrase"
    );
}

/// A part of a kind this version does not know (from a newer writer, or an
/// `autorun.inf` from a hostile one) is written under `unknown-parts/`,
/// never beside the message, and `list` shows it as well as `decrypt`
/// writes it. An overlapping archive (zip bomb) writes nothing.
#[test]
fn unknown_parts_are_kept_apart_and_listed_and_bombs_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let key_path = dir.path().join("key.txt");
    key.write_identity(&key_path);
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();

    let zip = RawZip::new()
        .stored("message.txt", b"hello")
        .stored("autorun.inf", b"[autorun]\nopen=evil.exe\n")
        .stored(
            "manifest.json",
            &manifest_json(&[
                ("message", "message.txt", b"hello"),
                ("autorun", "autorun.inf", b"[autorun]\nopen=evil.exe\n"),
            ]),
        )
        .finish();
    fs::write(inputs.join("unknown.age"), age_encrypt(&zip, &key)).unwrap();
    let out = dir.path().join("out");
    assert_success(
        &run(open_cmd()
            .args(["decrypt", "-i"])
            .arg(&key_path)
            .arg("-o")
            .arg(&out)
            .arg(inputs.join("unknown.age"))),
        "decrypt",
    );
    assert_eq!(
        tree(&out.join("unknown")),
        ["manifest.json", "message.txt", "unknown-parts/autorun.inf"]
    );
    let listed = run(open_cmd()
        .args(["list", "-i"])
        .arg(&key_path)
        .arg(inputs.join("unknown.age")));
    assert_success(&listed, "list");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("unknown-parts/autorun.inf"), "{text}");

    let part = vec![0u8; 1 << 20];
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &part).unwrap();
    let deflated = enc.finish().unwrap();
    let mut bomb = RawZip::new();
    bomb.entry(
        "attachments/a0.bin",
        8,
        &deflated,
        part.len() as u32,
        crc32fast::hash(&part),
    );
    let names: Vec<String> = (1..30).map(|i| format!("attachments/a{i}.bin")).collect();
    for name in &names {
        bomb.alias(name, 0);
    }
    let mut listed_parts = vec![("attachment", "attachments/a0.bin", &part[..])];
    listed_parts.extend(names.iter().map(|n| ("attachment", n.as_str(), &part[..])));
    bomb.stored("manifest.json", &manifest_json(&listed_parts));
    fs::write(inputs.join("bomb.age"), age_encrypt(&bomb.finish(), &key)).unwrap();
    let bombed = dir.path().join("bombed");
    let result = run(open_cmd()
        .args(["decrypt", "-i"])
        .arg(&key_path)
        .arg("-o")
        .arg(&bombed)
        .arg(inputs.join("bomb.age")));
    assert_eq!(result.status.code(), Some(1), "the bomb fails");
    assert!(String::from_utf8_lossy(&result.stderr).contains("overlap"));
    assert_eq!(tree(&bombed), Vec::<String>::new(), "nothing written");
}
