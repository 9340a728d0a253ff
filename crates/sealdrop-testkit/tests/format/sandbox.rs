//! The parsers' sandbox (issue 33, finding 5): `sealdrop-sandbox` cannot
//! open a file, a socket or a program; a child that crashes, spins, hangs,
//! runs out of memory or floods its parent leaves its file NOT CLEANED; an
//! older kernel's Landlock is named with what it lacks; and what comes back
//! is what the parsers say in-process.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sealdrop_scrub::sandbox::{Misbehaviour, Sandbox, SandboxError};

use crate::common::*;

pub(crate) fn sandbox() -> Sandbox {
    Sandbox::at(bin("sealdrop-sandbox")).expect("the helper built beside the tests is trusted")
}

#[test]
fn the_child_can_open_no_file_no_socket_and_no_program() {
    let dir = tempfile::tempdir().unwrap();
    // A file the test's own user may read and write: whatever stops the
    // child, it is not the file's mode.
    let readable = dir.path().join("readable.txt");
    fs::write(&readable, b"a secret beside the submission").unwrap();
    let sandbox = sandbox();
    let findings = sandbox.self_test(&readable).unwrap();
    assert_eq!(findings.attempts.len(), 6, "{findings:?}");
    for (attempt, stopped) in &findings.attempts {
        let why = stopped
            .as_deref()
            .unwrap_or_else(|| panic!("the sandboxed child could {attempt}"));
        assert!(
            why.contains("not permitted") || why.contains("denied"),
            "{attempt}: stopped by {why:?}, not by the sandbox"
        );
    }
    assert!(!dir.path().join("readable.txt.sandbox-test").exists());
    // This machine's kernel: Landlock in force, or said to be missing.
    let confinement = sandbox.confinement().unwrap();
    if confinement.landlock_abi == 0 {
        assert!(
            confinement.lacks.iter().any(|l| l.contains("Landlock")),
            "{confinement:?}"
        );
    } else {
        assert!(confinement.lacks.is_empty(), "{confinement:?}");
    }
}

#[test]
fn an_older_kernels_landlock_is_named_with_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let readable = dir.path().join("readable.txt");
    fs::write(&readable, b"x").unwrap();
    // This kernel's own Landlock: below ABI 2 there is nothing to lower.
    let native = sandbox();
    native.self_test(&readable).unwrap();
    let kernel_abi = native.confinement().unwrap().landlock_abi;
    let sandbox = sandbox().with_landlock_abi(2);
    // Still closed with ABI 2 (Tails 6, Linux 6.1): the system-call filter
    // does not depend on Landlock.
    let findings = sandbox.self_test(&readable).unwrap();
    assert!(findings
        .attempts
        .iter()
        .all(|(_, stopped)| stopped.is_some()));
    let confinement = sandbox.confinement().unwrap();
    if kernel_abi < 2 {
        // A kernel without Landlock or with its first ABI: the first case
        // covers it.
        return;
    }
    assert_eq!(confinement.landlock_abi, 2, "{confinement:?}");
    let lacks = confinement.lacks.join("\n");
    for missing in ["ABI 3", "ABI 4", "ABI 5", "ABI 6"] {
        assert!(lacks.contains(missing), "{lacks}");
    }
    assert!(!lacks.contains("ABI 2"), "{lacks}");
}

fn assert_ends(result: Result<(), SandboxError>, expected: fn(&SandboxError) -> bool) {
    match result {
        Err(e) if expected(&e) => {}
        other => panic!("unexpected: {other:?}"),
    }
}

#[test]
fn a_child_that_crashes_runs_out_of_memory_or_floods_is_stopped() {
    let sandbox = sandbox();
    assert_ends(sandbox.misbehave(Misbehaviour::Crash), |e| {
        matches!(e, SandboxError::Crashed { signal: 6, .. })
    });
    // Past the address-space limit the allocation fails and the child
    // aborts, saying so on stderr.
    assert_ends(
        sandbox.misbehave(Misbehaviour::Allocate),
        |e| matches!(e, SandboxError::Crashed { signal: 6, detail } if detail.contains("memory allocation")),
    );
    assert_ends(sandbox.misbehave(Misbehaviour::Flood), |e| {
        e.to_string().contains("over 67108864 bytes")
    });
}

#[test]
fn a_child_that_spins_or_hangs_is_stopped_by_its_limits() {
    let sandbox = sandbox().with_time_limits(1, 4);
    assert_ends(sandbox.misbehave(Misbehaviour::Spin), |e| {
        matches!(e, SandboxError::Cpu(1))
    });
    assert_ends(sandbox.misbehave(Misbehaviour::Hang), |e| {
        matches!(e, SandboxError::Clock(4))
    });
}

/// What comes back through the pipes is what the parsers say in-process,
/// for files that clean and for one that does not.
#[test]
fn answers_through_the_sandbox_are_the_parsers_answers() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut files = crate::scrub::corpus(dir.path());
    let refused = dir.path().join("refused.bin");
    fs::write(&refused, b"\x00\x01 not a format anyone cleans").unwrap();
    let text = dir.path().join("note.txt");
    fs::write(&text, "بيان\nplain text\n").unwrap();
    files.extend([refused, text]);
    for path in &files {
        let data = fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let here = sealdrop_scrub::inspect(&data, &name);
        let there = sandbox.inspect(&data, &name).unwrap();
        assert_eq!(
            serde_json::to_value(&here).unwrap(),
            serde_json::to_value(&there).unwrap(),
            "{name}"
        );
        match (sealdrop_scrub::scrub(&data), sandbox.scrub(&data).unwrap()) {
            (Ok(here), Ok(there)) => {
                assert_eq!(here.data, there.data, "{name}");
                assert_eq!(here.removed, there.removed, "{name}");
            }
            (Err(here), Err(there)) => assert_eq!(here, there, "{name}"),
            (here, there) => panic!(
                "{name}: {:?} in-process, {:?} sandboxed",
                here.map(|s| s.removed),
                there.map(|s| s.removed)
            ),
        }
    }
    assert!(files.len() >= 5, "{files:?}");
}

/// The inbox's pictures (issue 35): decoded in the child, scaled to fit,
/// the same pixels as in-process; a picture that claims more pixels than
/// the limit, or a file that is no picture, comes back as an error.
#[test]
fn pictures_are_decoded_in_the_child_and_only_pictures() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut shown = 0;
    for path in crate::scrub::corpus(dir.path()) {
        let data = fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match (
            sealdrop_scrub::render::decode(&data, 64),
            sandbox.render(&data, 64).unwrap(),
        ) {
            (Ok(here), Ok(there)) => {
                assert_eq!(here, there, "{name}");
                assert!(there.width <= 64 && there.height <= 64, "{name}");
                shown += 1;
            }
            (Err(here), Err(there)) => assert_eq!(here, there.0, "{name}"),
            (here, there) => panic!(
                "{name}: {:?} in-process, {:?} sandboxed",
                here.map(|p| (p.width, p.height)),
                there.map(|p| (p.width, p.height))
            ),
        }
    }
    assert!(shown >= 3, "only {shown} pictures decoded");
    // A PNG whose header claims 60000 × 60000 pixels (14 GB of RGBA).
    let mut bomb = fs::read(
        crate::scrub::corpus(dir.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "png"))
            .expect("the corpus has a PNG"),
    )
    .unwrap();
    bomb[16..24].copy_from_slice(&[0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60]);
    let error = sandbox.render(&bomb, 64).unwrap().expect_err("refused");
    assert!(error.0.contains("could not be decoded"), "{error:?}");
    let error = sandbox
        .render(b"%PDF-1.4\n", 64)
        .unwrap()
        .expect_err("refused");
    assert!(error.0.contains("not a picture"), "{error:?}");
}

/// `sealdrop-open` in a folder of its own, with `helper` (a file's bytes and
/// mode) beside it as `sealdrop-sandbox`, or none.
fn open_beside(dir: &Path, helper: Option<(&[u8], u32)>) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let program = dir.join("sealdrop-open");
    fs::copy(bin("sealdrop-open"), &program).unwrap();
    fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
    if let Some((bytes, mode)) = helper {
        let path = dir.join("sealdrop-sandbox");
        fs::write(&path, bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
    program
}

/// The archive of every submission, `inspect` and `scrub` all go through
/// the helper: with a helper that only fails, nothing is opened, inspected
/// or cleaned, and each says why; with none, or one others could have
/// written, sealdrop-open refuses to parse anything.
#[test]
fn sealdrop_open_parses_nothing_itself() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let sealed = dir.path().join("sample.age");
    let sub = Submission {
        message: Some(b"a tip".to_vec()),
        files: vec![("photo.txt".into(), b"just text".to_vec())],
    };
    fs::write(&sealed, seal(&sub, &[&key], 4096)).unwrap();
    let identity = dir.path().join("key.txt");
    key.write_identity(&identity);
    let plain = dir.path().join("note.txt");
    fs::write(&plain, b"plain text").unwrap();

    let failing = dir.path().join("failing");
    fs::create_dir(&failing).unwrap();
    let program = open_beside(&failing, Some((b"#!/bin/sh\nexit 3\n", 0o755)));
    let out = failing.join("out");
    let decrypt = run(Command::new(&program)
        .args(["decrypt", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(&out)
        .arg(&sealed));
    let stderr = String::from_utf8_lossy(&decrypt.stderr);
    assert!(!decrypt.status.success(), "{stderr}");
    assert!(
        stderr.contains("not opened: the sandboxed reader failed (exit status 3)"),
        "{stderr}"
    );
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing is written");
    let inspect = run(Command::new(&program).arg("inspect").arg(&plain));
    let stdout = String::from_utf8_lossy(&inspect.stdout);
    assert!(!inspect.status.success());
    assert!(
        stdout.contains("not checked: the sandboxed reader failed"),
        "{stdout}"
    );
    let scrub = run(Command::new(&program)
        .args(["scrub", "-o"])
        .arg(failing.join("clean"))
        .arg(&plain));
    let stderr = String::from_utf8_lossy(&scrub.stderr);
    assert!(!scrub.status.success());
    assert!(stderr.contains("NOT CLEANED"), "{stderr}");
    assert!(!failing.join("clean/note.txt").exists());

    let list = run(Command::new(&program)
        .args(["list", "-i"])
        .arg(&identity)
        .arg(&sealed));
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert!(!list.status.success(), "{stderr}");
    assert!(
        stderr.contains("not opened: the sandboxed reader failed"),
        "{stderr}"
    );
    let message = failing.join("reply.txt");
    fs::write(&message, "thank you").unwrap();
    let reply = run(Command::new(&program)
        .args(["reply", "-i"])
        .arg(&identity)
        .arg("--to")
        .arg(&sealed)
        .arg("--message")
        .arg(&message)
        .arg("-o")
        .arg(failing.join("outbox"))
        .arg("--workspace")
        .arg(failing.join("ws")));
    let stderr = String::from_utf8_lossy(&reply.stderr);
    assert_eq!(reply.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not opened: the sandboxed reader failed"),
        "{stderr}"
    );

    let writable = dir.path().join("writable");
    fs::create_dir(&writable).unwrap();
    let real = fs::read(bin("sealdrop-sandbox")).unwrap();
    let program = open_beside(&writable, Some((&real, 0o777)));
    let inspect = run(Command::new(&program).arg("inspect").arg(&plain));
    let stderr = String::from_utf8_lossy(&inspect.stderr);
    assert_eq!(inspect.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not safe to run") && stderr.contains("can be written by"),
        "{stderr}"
    );

    if !Path::new(sealdrop_scrub::sandbox::parent::INSTALLED_HELPER).exists() {
        let alone = dir.path().join("alone");
        fs::create_dir(&alone).unwrap();
        let program = open_beside(&alone, None);
        let inspect = run(Command::new(&program).arg("inspect").arg(&plain));
        let stderr = String::from_utf8_lossy(&inspect.stderr);
        assert_eq!(inspect.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("was not found beside"), "{stderr}");
    }

    // And the real one, for contrast: the same files open and clean.
    let good = dir.path().join("good");
    fs::create_dir(&good).unwrap();
    let program = open_beside(&good, Some((&real, 0o755)));
    let decrypt = run(Command::new(&program)
        .args(["decrypt", "--scrub", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(good.join("out"))
        .arg(&sealed));
    assert_success(&decrypt, "decrypt --scrub with the real helper");
    assert_eq!(
        fs::read(good.join("out/sample/attachments/photo.txt")).unwrap(),
        b"just text"
    );
    assert_eq!(
        fs::read(good.join("out/sample/message.txt")).unwrap(),
        b"a tip"
    );
    assert!(good.join("out/sample/cleaned/photo.txt").exists());
}

/// Run as Tails 6 would run it (Linux 6.1, Landlock ABI 2), sealdrop-open
/// says once what its sandbox lacks there, and still cleans.
#[test]
fn sealdrop_open_says_what_an_older_kernel_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("note.txt");
    fs::write(&plain, b"plain text").unwrap();
    let second = dir.path().join("other.txt");
    fs::write(&second, b"more text").unwrap();
    let scrub = run(Command::new(bin("sealdrop-open"))
        .env("SEALDROP_SANDBOX_LANDLOCK_ABI", "2")
        .args(["scrub", "-o"])
        .arg(dir.path().join("clean"))
        .arg(&plain)
        .arg(&second));
    assert_success(&scrub, "scrub with Landlock ABI 2");
    let stderr = String::from_utf8_lossy(&scrub.stderr);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("note: on this kernel"))
        .collect();
    if stderr.contains("this kernel does not have it")
        || stderr.contains("not enabled")
        || stderr.contains("moving and linking files")
    {
        // No Landlock, or only its first ABI: nothing to lower to 2.
        return;
    }
    assert_eq!(
        notes.len(),
        4,
        "once per missing rule, once per run:\n{stderr}"
    );
    assert!(
        notes[0].contains("truncating files (ABI 3, Linux 6.2)"),
        "{stderr}"
    );
    assert!(
        notes[3].contains("ABI 6") && notes[3].contains("refuses it anyway"),
        "{stderr}"
    );
    let plain_run = run(Command::new(bin("sealdrop-open"))
        .args(["scrub", "-o"])
        .arg(dir.path().join("clean2"))
        .arg(&plain));
    assert!(!String::from_utf8_lossy(&plain_run.stderr).contains("note:"));
}

/// A submission whose parts are damaged is refused through the sandbox with
/// the reader's own words, whichever side finds it: a deflated part whose
/// stream is broken (the child inflates it), and a stored part whose bytes
/// are not the manifest's (the parent copies and hashes it).
#[test]
fn damaged_parts_are_refused_in_the_readers_words() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let identity = dir.path().join("key.txt");
    key.write_identity(&identity);
    let text = b"a message long enough to deflate, a message long enough to deflate".to_vec();
    let mut broken = deflate_raw(&text);
    let middle = broken.len() / 2;
    broken[middle] ^= 0xff;
    broken.truncate(middle + 2);
    let deflated = RawZip::new()
        .entry(
            "message.txt",
            8,
            &broken,
            text.len() as u32,
            crc32fast::hash(&text),
        )
        .stored(
            "manifest.json",
            &manifest_json(&[("message", "message.txt", &text)]),
        )
        .finish();
    let tampered = RawZip::new()
        .stored("message.txt", b"0riginal")
        .stored(
            "manifest.json",
            &manifest_json(&[("message", "message.txt", b"original")]),
        )
        .finish();
    for (name, zip, expected) in [
        ("deflated", deflated, "failed verification"),
        ("tampered", tampered, "SHA-256 differs from the manifest"),
    ] {
        let sealed = dir.path().join(format!("{name}.age"));
        fs::write(&sealed, age_encrypt(&zip, &key)).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let decrypt = run(Command::new(bin("sealdrop-open"))
            .args(["decrypt", "-i"])
            .arg(&identity)
            .arg("-o")
            .arg(&out)
            .arg(&sealed));
        let stderr = String::from_utf8_lossy(&decrypt.stderr);
        assert_eq!(decrypt.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("protocol"), "{name}: {stderr}");
        assert_eq!(
            fs::read_dir(&out).unwrap().count(),
            0,
            "{name}: nothing is left"
        );
    }
}

/// A deflate stream that starts with a stored block and ends with a
/// compressed one (as zlib may write a file whose start does not compress):
/// the parent copies the stored block, meets the compressed one, and hands
/// the part back to the child to inflate; it opens whole.
#[test]
fn a_part_mixing_stored_and_compressed_blocks_opens_whole() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let identity = dir.path().join("key.txt");
    key.write_identity(&identity);
    let text = b"hello ";
    let mut mixed = vec![0u8];
    mixed.extend_from_slice(&(text.len() as u16).to_le_bytes());
    mixed.extend_from_slice(&(!(text.len() as u16)).to_le_bytes());
    mixed.extend_from_slice(text);
    mixed.extend_from_slice(&[0x03, 0x00]); // an empty, final fixed-Huffman block
    let zip = RawZip::new()
        .entry(
            "message.txt",
            8,
            &mixed,
            text.len() as u32,
            crc32fast::hash(text),
        )
        .stored(
            "manifest.json",
            &manifest_json(&[("message", "message.txt", text)]),
        )
        .finish();
    let sealed = dir.path().join("mixed.age");
    fs::write(&sealed, age_encrypt(&zip, &key)).unwrap();
    let out = dir.path().join("out");
    let decrypt = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(&out)
        .arg(&sealed));
    assert_success(&decrypt, "decrypt of a part mixing block types");
    assert_eq!(fs::read(out.join("mixed/message.txt")).unwrap(), text);
}

fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, data).unwrap();
    encoder.finish().unwrap()
}
