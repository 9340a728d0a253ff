//! The reply channel's formats, checked against independent readers: a reply
//! file opens with stock age (classic) and with the TypeScript age (classic
//! and post-quantum) given only the identity its codename derives; and
//! `sealdrop-open reply`, `list` and `decrypt` on sealed submissions.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::ExposeSecret;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::reply::{file, keys, Codename};
use sealdrop_format::seal::{SealOptions, SubmissionWriter};

use crate::common::*;

fn sent() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// The TypeScript age's decrypt, from tests/interop/age-ts (`npm ci` there,
/// which scripts/test.sh does).
fn typescript_age(identity: &Path, sealed: &Path) -> std::process::Output {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/age-ts");
    assert!(
        dir.join("node_modules/age-encryption").is_dir(),
        "the TypeScript age is not installed: run scripts/test.sh (npm ci --prefix tests/interop/age-ts)"
    );
    run(Command::new("node")
        .arg(dir.join("decrypt.mjs"))
        .arg(identity)
        .arg(sealed))
}

/// The plaintext's JSON line and text, checked against what was sealed.
fn assert_reply_plaintext(plaintext: &[u8], codename: &Codename, text: &str) {
    let newline = plaintext.iter().position(|&b| b == b'\n').unwrap();
    let header: serde_json::Value = serde_json::from_slice(&plaintext[..newline]).unwrap();
    assert_eq!(header["format"], "sealdrop-reply");
    assert_eq!(header["version"], 2);
    assert_eq!(header["thread"], keys::thread(codename).to_string());
    assert_eq!(header["length"], text.len());
    assert_eq!(
        &plaintext[newline + 1..newline + 1 + text.len()],
        text.as_bytes()
    );
    assert!(
        plaintext[newline + 1 + text.len()..]
            .iter()
            .all(|&b| b == 0),
        "zero padding"
    );
}

#[test]
fn reply_files_open_with_stock_and_typescript_age_given_only_the_derived_identity() {
    let dir = tempfile::tempdir().unwrap();
    let codename = Codename::generate();
    let text = "نعم، أرسل الصفحة الثانية من فضلك. Yes, page two please.";
    let kinds = [RecipientKind::Classic, RecipientKind::PostQuantum];
    for kind in kinds {
        let sealed = dir.path().join(format!("{kind:?}.age"));
        let bytes = file::seal(&keys::manifest_block(&codename, kind), None, sent(), text).unwrap();
        assert_eq!(bytes.len(), file::REPLY_FILE_LEN);
        assert_tag_verifies_in_python(&bytes, &codename);
        // After the clear preamble (docs/FORMAT.md, 7.3): a standard age file.
        fs::write(&sealed, &bytes[file::PREAMBLE_LEN..]).unwrap();
        let identity = dir.path().join(format!("{kind:?}-identity.txt"));
        let secret = match kind {
            RecipientKind::Classic => keys::x25519_identity(&codename).to_string(),
            RecipientKind::PostQuantum => keys::pq_identity(&codename).to_secret_string(),
        };
        fs::write(&identity, format!("{}\n", secret.expose_secret())).unwrap();
        if kind == RecipientKind::Classic {
            let out = run(Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(&identity)
                .arg(&sealed));
            assert_success(&out, "stock age -d");
            assert_reply_plaintext(&out.stdout, &codename, text);
        }
        let out = typescript_age(&identity, &sealed);
        assert_success(&out, &format!("TypeScript age, {kind:?}"));
        assert_reply_plaintext(&out.stdout, &codename, text);
        // Another codename's identity opens nothing.
        let other = dir.path().join("other.txt");
        let secret = keys::x25519_identity(&Codename::generate()).to_string();
        fs::write(&other, format!("{}\n", secret.expose_secret())).unwrap();
        assert!(!typescript_age(&other, &sealed).status.success());
    }
}

/// The preamble's tag, recomputed from docs/FORMAT.md alone with Python's
/// hmac and hashlib (HKDF-SHA256 written out), from the codename's digits.
fn assert_tag_verifies_in_python(file: &[u8], codename: &Codename) {
    let script = r#"
import hashlib, hmac, sys
digits, path = sys.argv[1].encode(), sys.argv[2]
data = open(path, "rb").read()
prk = hmac.new(b"sealdrop-reply-v1", digits, hashlib.sha256).digest()
tag_key = hmac.new(prk, b"sealdrop reply tag key" + b"\x01", hashlib.sha256).digest()
assert len(data) == 20480 and data[:8] == b"sdreply2", "magic"
mac = hmac.new(tag_key, data[:28] + hashlib.sha256(data[44:]).digest(), hashlib.sha256).digest()
assert hmac.compare_digest(mac[:16], data[28:44]), "tag"
print(int.from_bytes(data[8:12], "big"))
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reply.bin");
    fs::write(&path, file).unwrap();
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(std::str::from_utf8(codename.ascii()).unwrap())
        .arg(&path));
    assert_success(&out, "the tag, checked in Python");
    let day: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(
        day,
        sent().unix_timestamp().div_euclid(86_400),
        "the sealed day"
    );
}

/// A sealed submission with (or without) a reply block, as the server makes it.
fn sealed_submission(
    key: &Key,
    codename: Option<&Codename>,
    message: &str,
    received: &str,
) -> Vec<u8> {
    let arrival =
        time::OffsetDateTime::parse(received, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let options = SealOptions {
        arrival: arrival.into(),
        ..SealOptions::default()
    };
    let mut w = SubmissionWriter::new(&recipients(&[key]), Vec::new(), &options).unwrap();
    w.begin_message().unwrap();
    w.write_part(message.as_bytes()).unwrap();
    w.end_part().unwrap();
    if let Some(codename) = codename {
        w.set_reply(keys::manifest_block(codename, RecipientKind::Classic));
    }
    w.finish().unwrap().0
}

fn open_cli(args: &[&str], paths: &[&Path]) -> std::process::Output {
    run(Command::new(bin("sealdrop-open")).args(args).args(paths))
}

#[test]
fn sealdrop_open_replies_to_sealed_files_and_opened_folders_and_shows_threads() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let identity = dir.path().join("identity.txt");
    key.write_identity(&identity);
    let codename = Codename::generate();
    let thread = keys::thread(&codename).to_string();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let first = inbox.join("11111111111111111111111111111111.age");
    let follow_up = inbox.join("22222222222222222222222222222222.age");
    let loose = inbox.join("33333333333333333333333333333333.age");
    fs::write(
        &first,
        sealed_submission(&key, Some(&codename), "first", "2026-11-20T10:00:00Z"),
    )
    .unwrap();
    fs::write(
        &follow_up,
        sealed_submission(&key, Some(&codename), "second", "2026-11-25T10:00:00Z"),
    )
    .unwrap();
    fs::write(
        &loose,
        sealed_submission(&key, None, "one way", "2026-11-21T10:00:00Z"),
    )
    .unwrap();
    let message = dir.path().join("reply.txt");
    fs::write(&message, "Thank you. Can you send page two?\n").unwrap();
    let (outbox, workspace) = (dir.path().join("outbox"), dir.path().join("opened"));

    // From a sealed file, the readable copy needs a workspace.
    let out = open_cli(
        &["reply", "-i"],
        &[
            &identity,
            Path::new("--to"),
            &first,
            Path::new("--message"),
            &message,
            Path::new("-o"),
            &outbox,
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--workspace"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !outbox.exists() || fs::read_dir(&outbox).unwrap().next().is_none(),
        "nothing sealed"
    );
    let out = open_cli(
        &["reply", "-i"],
        &[
            &identity,
            Path::new("--to"),
            &first,
            Path::new("--message"),
            &message,
            Path::new("-o"),
            &outbox,
            Path::new("--workspace"),
            &workspace,
        ],
    );
    assert_success(&out, "reply to a sealed file");
    let sealed = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(
        fs::metadata(&sealed).unwrap().len(),
        file::REPLY_FILE_LEN as u64
    );
    let bytes = fs::read(&sealed).unwrap();
    let mine = keys::ReplyIdentities::derive(&codename);
    let reply = file::open(&bytes, mine.iter()).unwrap().unwrap();
    assert_eq!(
        reply.text.as_str(),
        "Thank you. Can you send page two?",
        "the editor's final newline is dropped"
    );
    // The server cannot read it; only her keys can.
    assert!(
        file::open(&bytes, std::iter::once(&key.identity as &dyn age::Identity))
            .unwrap()
            .is_none()
    );

    // decrypt groups the thread and lists the reply sent.
    let out = open_cli(
        &["decrypt", "-i"],
        &[&identity, Path::new("-o"), &workspace, &inbox],
    );
    assert_success(&out, "decrypt");
    let summary =
        fs::read_to_string(workspace.join("threads").join(&thread).join("thread.txt")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines[0], format!("thread {thread}"));
    assert!(
        lines[1].contains("2026-11-20T10:00:00Z")
            && lines[1].contains("received")
            && lines[1].contains("1111"),
        "{summary}"
    );
    assert!(
        lines[2].contains("2026-11-25T10:00:00Z") && lines[2].contains("2222"),
        "{summary}"
    );
    assert!(
        lines[3].contains("reply sent") && lines[3].contains("Thank you"),
        "{summary}"
    );
    assert_eq!(lines.len(), 4, "{summary}");

    // From an opened folder, the copy goes to the folder that holds it.
    let opened_follow_up = workspace.join("22222222222222222222222222222222");
    let out = open_cli(
        &["reply", "--to"],
        &[
            &opened_follow_up,
            Path::new("--message"),
            &message,
            Path::new("-o"),
            &outbox,
        ],
    );
    assert_success(&out, "reply to an opened folder (no identity needed)");
    let copies = fs::read_dir(workspace.join("threads").join(&thread))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("-reply-")
        })
        .count();
    assert_eq!(copies, 2);

    // list: the loose submission, then the thread in order with its replies.
    let out = open_cli(
        &["list", "-i"],
        &[&identity, Path::new("--workspace"), &workspace, &inbox],
    );
    assert_success(&out, "list");
    let listed = String::from_utf8(out.stdout).unwrap();
    let at = |needle: &str| {
        listed
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {listed}"))
    };
    assert!(at("3333") < at("THREAD"));
    assert!(
        at("THREAD") < at("1111") && at("1111") < at("2222"),
        "{listed}"
    );
    assert_eq!(listed.matches("reply sent").count(), 2, "{listed}");

    // What cannot be answered, and what cannot be sent, is refused clearly.
    let opened_loose = workspace.join("33333333333333333333333333333333");
    let out = open_cli(
        &["reply", "--to"],
        &[
            &opened_loose,
            Path::new("--message"),
            &message,
            Path::new("-o"),
            &outbox,
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without a reply channel"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let long = dir.path().join("long.txt");
    fs::write(&long, "x".repeat(file::MAX_REPLY_BYTES + 1)).unwrap();
    let out = open_cli(
        &["reply", "--to"],
        &[
            &opened_follow_up,
            Path::new("--message"),
            &long,
            Path::new("-o"),
            &outbox,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("16000 bytes"),
        "{stderr}"
    );
    let binary = dir.path().join("binary.txt");
    fs::write(&binary, [0xffu8, 0xfe, 0x00]).unwrap();
    let out = open_cli(
        &["reply", "--to"],
        &[
            &opened_follow_up,
            Path::new("--message"),
            &binary,
            Path::new("-o"),
            &outbox,
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not UTF-8"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_dir(&outbox).unwrap().count(),
        2,
        "only the two good replies were sealed"
    );
}
