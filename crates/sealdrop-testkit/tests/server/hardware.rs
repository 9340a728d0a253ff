//! Hardware keys without hardware: the server seals to `age1tag1…` and
//! `age1tagpq1…` recipients natively, and `sealdrop-open` opens through the
//! key's age plugin. The plugin here is examples/age-plugin-sealdroptest.rs,
//! a software stand-in that speaks the real plugin protocol (docs/DEPLOY.md,
//! "Hardware keys", says which parts only it covers).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::server::*;
use crate::common::*;

const PLUGIN: &str = "age-plugin-sealdroptest";

/// A folder holding the test plugin under its plugin name, for PATH.
fn plugin_dir() -> tempfile::TempDir {
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let built = examples.join(PLUGIN);
    if !built.exists() {
        // `cargo test` builds examples; `cargo test --test server` alone does not.
        let out = run(Command::new(env!("CARGO"))
            .args(["build", "--example", PLUGIN])
            .current_dir(env!("CARGO_MANIFEST_DIR")));
        assert_success(&out, "cargo build --example age-plugin-sealdroptest");
    }
    let dir = tempfile::tempdir().unwrap();
    // A copy made by `install` in a process of its own (see unprivileged_server:
    // a descriptor open for writing here would make exec fail with ETXTBSY).
    let out = run(Command::new("install")
        .arg("-m")
        .arg("0755")
        .arg(&built)
        .arg(dir.path().join(PLUGIN)));
    assert_success(&out, "install the test plugin");
    dir
}

/// A new software "hardware key": (identity file, recipient).
fn hardware_key(plugins: &Path, kind: &str, at: &Path) -> (PathBuf, String) {
    let out = run(Command::new(plugins.join(PLUGIN)).args(["--generate", kind]));
    assert_success(&out, "generate a test key");
    let text = String::from_utf8(out.stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_owned();
    let identity = at.join(format!("{kind}-hardware.txt"));
    fs::write(&identity, &text).unwrap();
    (identity, recipient)
}

fn path_with(plugins: &Path) -> std::ffi::OsString {
    let mut path = plugins.as_os_str().to_owned();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

/// `sealdrop-open decrypt` of `sealed` with `identity`; (exit code, output,
/// the message if it opened).
fn open_with(
    identity: &Path,
    sealed: &Path,
    out: &Path,
    path: &std::ffi::OsStr,
    env: &[(&str, &str)],
) -> (i32, String, Option<Vec<u8>>) {
    let mut cmd = Command::new(bin("sealdrop-open"));
    cmd.args(["decrypt", "-i"])
        .arg(identity)
        .arg("-o")
        .arg(out)
        .arg(sealed)
        .env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let result = run(&mut cmd);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    let stem = sealed.file_stem().unwrap();
    let message = fs::read(out.join(stem).join("message.txt")).ok();
    (result.status.code().unwrap_or(-1), said, message)
}

fn submit_one(server: &Server, text: &[u8]) -> PathBuf {
    let before = server.sealed_files();
    let answer = submit(server.addr, &[text_field("message", text)]);
    assert_eq!(answer.status, RECEIVED, "{}", answer.text());
    server
        .sealed_files()
        .into_iter()
        .find(|f| !before.contains(f))
        .expect("a new sealed file")
}

#[test]
fn submissions_sealed_to_hardware_recipients_open_through_the_plugin() {
    let plugins = plugin_dir();
    let path = path_with(plugins.path());
    let keys = tempfile::tempdir().unwrap();
    let (tag_id, tag) = hardware_key(plugins.path(), "tag", keys.path());
    let (tagpq_id, tagpq) = hardware_key(plugins.path(), "tagpq", keys.path());
    assert!(tag.starts_with("age1tag1") && tagpq.starts_with("age1tagpq1"));

    // Classic: a YubiKey's P-256 tag recipient beside a software X25519 key.
    let software = Key::new();
    let software_id = keys.path().join("software.txt");
    software.write_identity(&software_id);
    let server = Server::start_with_recipients(
        &format!(
            "# editor A, hardware\n{tag}\n# editor B\n{}\n",
            software.recipient
        ),
        &[],
    );
    let sealed = submit_one(&server, b"for the hardware key and the laptop key");
    for (who, identity) in [("hardware", &tag_id), ("software", &software_id)] {
        let out = keys.path().join(format!("classic-{who}"));
        let (code, said, message) = open_with(identity, &sealed, &out, &path, &[]);
        assert_eq!(code, 0, "{who}: {said}");
        assert_eq!(
            message.as_deref(),
            Some(&b"for the hardware key and the laptop key"[..])
        );
        if who == "hardware" {
            assert!(said.contains("Touched the sealdrop test key"), "{said}");
        }
    }
    // The post-quantum key cannot open what was sealed to the classic ones.
    let (code, _, message) = open_with(&tagpq_id, &sealed, &keys.path().join("nope"), &path, &[]);
    assert_ne!(code, 0);
    assert!(message.is_none());

    // Post-quantum: the hardware key's MLKEM768-P256 recipient beside a
    // software mlkem768x25519 key.
    let pq_software_id = keys.path().join("pq-software.txt");
    let keygen = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "--pq", "-o"])
        .arg(&pq_software_id));
    assert_success(&keygen, "keygen --pq");
    let pq_software = String::from_utf8(keygen.stdout).unwrap().trim().to_owned();
    let server = Server::start_with_recipients(&format!("{tagpq}\n{pq_software}\n"), &[]);
    let sealed = submit_one(&server, b"sealed for a quantum future");
    let text = String::from_utf8_lossy(&fs::read(&sealed).unwrap()[..200]).into_owned();
    assert!(text.contains("-> mlkem768p256tag "), "{text}");
    for (who, identity) in [("hardware", &tagpq_id), ("software", &pq_software_id)] {
        let out = keys.path().join(format!("pq-{who}"));
        let (code, said, message) = open_with(identity, &sealed, &out, &path, &[]);
        assert_eq!(code, 0, "{who}: {said}");
        assert_eq!(
            message.as_deref(),
            Some(&b"sealed for a quantum future"[..])
        );
    }
}

#[test]
fn recipients_files_keep_their_rules_with_hardware_keys() {
    let plugins = plugin_dir();
    let keys = tempfile::tempdir().unwrap();
    let (_, tag) = hardware_key(plugins.path(), "tag", keys.path());
    let (_, tagpq) = hardware_key(plugins.path(), "tagpq", keys.path());
    let software = Key::new();
    let check = |text: &str| {
        sealdrop_format::keys::Recipients::parse(text, Path::new("recipients.txt"))
            .map(|r| r.kind())
            .map_err(|e| e.to_string())
    };
    use sealdrop_format::keys::RecipientKind::{Classic, PostQuantum};
    assert_eq!(
        check(&format!("{tag}\n{}\n", software.recipient)),
        Ok(Classic)
    );
    assert_eq!(check(&format!("{tagpq}\n")), Ok(PostQuantum));
    // Tag and tagpq do not mix, as X25519 and mlkem768x25519 do not.
    let mixed = check(&format!("{tag}\n{tagpq}\n")).unwrap_err();
    assert!(
        mixed.contains("mixes post-quantum") && mixed.contains("line 2"),
        "{mixed}"
    );
    // A recipient that needs its plugin to seal is refused, with advice.
    let plugin_only =
        check("age1yubikey1qfsqqw2nzzq58vhqn8ynhmcgwfp6vu3ksl0d6yr2p6q3wxr2k2e2sw36dzf\n")
            .unwrap_err();
    assert!(
        plugin_only.contains("age-plugin-yubikey")
            && plugin_only.contains("never runs plugins")
            && plugin_only.contains("age1tag1"),
        "{plugin_only}"
    );
    // No secret key, hardware or not, on the server.
    let (tag_id, _) = hardware_key(plugins.path(), "tag", keys.path());
    let identity_line = fs::read_to_string(tag_id)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-PLUGIN-"))
        .unwrap()
        .to_owned();
    assert!(check(&format!("{identity_line}\n")).is_err());
}

#[test]
fn a_missing_a_removed_and_a_pin_protected_key_are_told_clearly() {
    let plugins = plugin_dir();
    let keys = tempfile::tempdir().unwrap();
    let (tag_id, tag) = hardware_key(plugins.path(), "tag", keys.path());
    let server = Server::start_with_recipients(&format!("{tag}\n"), &[]);
    let sealed = submit_one(&server, b"behind a PIN");

    // The plugin is not installed.
    let (code, said, _) = open_with(
        &tag_id,
        &sealed,
        &keys.path().join("a"),
        std::ffi::OsStr::new("/usr/bin:/bin"),
        &[],
    );
    assert_ne!(code, 0);
    assert!(
        said.contains("age-plugin-sealdroptest") && said.contains("not installed"),
        "{said}"
    );
    // The key was pulled out.
    let path = path_with(plugins.path());
    let (code, said, message) = open_with(
        &tag_id,
        &sealed,
        &keys.path().join("b"),
        &path,
        &[("SEALDROPTEST_REMOVED", "1")],
    );
    assert_ne!(code, 0);
    assert!(message.is_none());
    assert!(said.contains("not plugged in"), "{said}");

    // A PIN asked for on the terminal: a wrong one refused, the right one opens.
    let run_with_pin = |pin: &str, out: &Path| {
        run_on_terminal(
            Command::new(bin("sealdrop-open"))
                .args(["decrypt", "-i"])
                .arg(&tag_id)
                .arg("-o")
                .arg(out)
                .arg(&sealed)
                .env("PATH", &path)
                .env("SEALDROPTEST_PIN", "1234"),
            "PIN",
            pin,
        )
    };
    let (code, said) = run_with_pin("0000", &keys.path().join("c"));
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("Enter the PIN") && said.contains("wrong PIN"),
        "{said}"
    );
    let out = keys.path().join("d");
    let (code, said) = run_with_pin("1234", &out);
    assert_eq!(code, 0, "{said}");
    let stem = sealed.file_stem().unwrap();
    assert_eq!(
        fs::read(out.join(stem).join("message.txt")).unwrap(),
        b"behind a PIN"
    );
}

#[test]
fn tag_recipients_agree_with_the_typescript_age_and_stock_age() {
    // An independent sealer (the TypeScript age, with its own tag recipient
    // code) and an independent plugin client (stock age runs the plugin):
    // the test plugin opens what the one sealed when the other asks.
    let plugins = plugin_dir();
    let path = path_with(plugins.path());
    let keys = tempfile::tempdir().unwrap();
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/age-ts");
    for kind in ["tag", "tagpq"] {
        let (identity, recipient) = hardware_key(plugins.path(), kind, keys.path());
        let sealed = keys.path().join(format!("{kind}.age"));
        let mut child = Command::new("node")
            .arg(interop.join("encrypt.mjs"))
            .arg(&recipient)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("sealed by the TypeScript age to {kind}").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "node encrypt.mjs {kind}");
        fs::write(&sealed, &out.stdout).unwrap();
        let opened = run(Command::new("age")
            .args(["-d", "-i"])
            .arg(&identity)
            .arg(&sealed)
            .env("PATH", &path));
        assert_success(
            &opened,
            &format!("stock age -d through the plugin ({kind})"),
        );
        assert_eq!(
            opened.stdout,
            format!("sealed by the TypeScript age to {kind}").into_bytes()
        );
    }
}
