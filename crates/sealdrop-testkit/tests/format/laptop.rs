//! `sealdrop-open` hardened on the air-gapped laptop (issue 33, findings 1
//! and 3): no core dump and no same-user ptrace while it holds keys, and no
//! hardware-key plugin run from the folder it was started in or from a file
//! someone else could have written.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::server::{running_as_root, uid_and_proc_owner};
use crate::common::*;

fn sealed_sample(dir: &Path, key: &Key) -> std::path::PathBuf {
    let sealed = dir.join("sample.age");
    let sub = Submission {
        message: Some(b"a tip".to_vec()),
        files: Vec::new(),
    };
    fs::write(&sealed, seal(&sub, &[key], 4096)).unwrap();
    sealed
}

/// A folder anyone may enter (the tests' temporary folders are private).
fn open_folder(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
}

/// proc(5): a process's /proc entries belong to root when it is not
/// dumpable. Run as `nobody`, `sealdrop-open decrypt` blocks reading its
/// identity from a FIFO: by then it must be non-dumpable with no core size.
#[test]
fn sealdrop_open_is_non_dumpable_while_it_waits_for_its_identity() {
    assert!(
        running_as_root(),
        "this test runs sealdrop-open as nobody and needs root (CI runs as root)"
    );
    let dir = tempfile::tempdir().unwrap();
    open_folder(dir.path());
    let key = Key::new();
    let sealed = sealed_sample(dir.path(), &key);
    fs::set_permissions(&sealed, fs::Permissions::from_mode(0o644)).unwrap();
    let fifo = dir.path().join("identity.fifo");
    assert_success(
        &run(Command::new("mkfifo").arg("-m").arg("0600").arg(&fifo)),
        "mkfifo",
    );
    chown(&fifo, Some(65534), Some(65534)).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    chown(&out, Some(65534), Some(65534)).unwrap();
    let child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&fifo)
        .arg("-o")
        .arg(&out)
        .arg(&sealed)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs sealdrop-open");
    let pid = child.id();
    // Waiting on the FIFO: the kernel shows it asleep in the open.
    let start = Instant::now();
    loop {
        let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        let syscall = fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let opening =
            wchan.contains("fifo") || wchan.contains("pipe") || syscall.starts_with("257 ");
        if opening || start.elapsed() > Duration::from_secs(5) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (uid, owner) = uid_and_proc_owner(pid);
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_owned();
    // Give it its identity: it goes on and decrypts.
    let mut writer = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writeln!(
        writer,
        "{}",
        age::secrecy::ExposeSecret::expose_secret(&key.identity.to_string())
    )
    .unwrap();
    drop(writer);
    let done = child.wait_with_output().unwrap();
    assert_eq!(uid, 65534, "it runs as nobody");
    assert_eq!(
        owner, 0,
        "/proc/{pid} belongs to its user: sealdrop-open is dumpable"
    );
    assert_eq!(
        core.split_whitespace().filter(|w| *w == "0").count(),
        2,
        "{core}"
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// The loaded keys are locked in RAM (never swapped): run as nobody (so
/// under the default `RLIMIT_MEMLOCK`, without root's `CAP_IPC_LOCK`),
/// `sealdrop-open decrypt` has its identities loaded and waits to open its
/// input, a FIFO; its locked memory (`VmLck`) then holds their pages.
#[test]
fn sealdrop_open_keeps_its_keys_out_of_swap() {
    assert!(
        running_as_root(),
        "this test runs sealdrop-open as nobody and needs root (CI runs as root)"
    );
    let dir = tempfile::tempdir().unwrap();
    open_folder(dir.path());
    let key = Key::new();
    let identity = dir.path().join("identity.txt");
    key.write_identity(&identity);
    chown(&identity, Some(65534), Some(65534)).unwrap();
    let input = dir.path().join("waiting.age");
    assert_success(
        &run(Command::new("mkfifo").arg("-m").arg("0644").arg(&input)),
        "mkfifo",
    );
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    chown(&out, Some(65534), Some(65534)).unwrap();
    let mut child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    let locked_kib = loop {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let syscall = fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let locked: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        // Blocked opening the FIFO: the identities are loaded.
        let opening =
            wchan.contains("fifo") || wchan.contains("pipe") || syscall.starts_with("257 ");
        if opening || start.elapsed() > Duration::from_secs(5) {
            break locked;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        locked_kib >= 4,
        "VmLck {locked_kib} kB: the keys can be swapped out"
    );
}

/// A hardware-key identity (`AGE-PLUGIN-YUBIKEY-1…`) for a plugin of the
/// given name, as its plugin prints it.
fn plugin_identity(dir: &Path) -> std::path::PathBuf {
    let identity = age::plugin::Identity::default_for_plugin("yubikey").unwrap();
    let path = dir.join("yubikey.txt");
    fs::write(&path, format!("{identity}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A planted `age-plugin-yubikey` that leaves a mark when it runs.
fn planted_plugin(folder: &Path, mark: &Path) -> std::path::PathBuf {
    let plugin = folder.join("age-plugin-yubikey");
    fs::write(
        &plugin,
        format!("#!/bin/sh\ntouch {}\nexit 1\n", mark.display()),
    )
    .unwrap();
    fs::set_permissions(&plugin, fs::Permissions::from_mode(0o755)).unwrap();
    plugin
}

/// Run from a folder on a USB stick with `.` on PATH, age would run the
/// `age-plugin-yubikey` it finds there: sealdrop-open keeps only PATH's
/// absolute folders, so the planted one never runs.
#[test]
fn a_plugin_in_the_folder_it_runs_from_is_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let stick = dir.path().join("stick");
    fs::create_dir(&stick).unwrap();
    let mark = dir.path().join("planted-plugin-ran");
    planted_plugin(&stick, &mark);
    let identity = plugin_identity(dir.path());
    let sealed = sealed_sample(&stick, &Key::new());
    for path in [
        ".:/usr/bin:/bin",
        ":/usr/bin:/bin",
        "/usr/bin::/bin",
        ".",
        "",
    ] {
        let out = run(Command::new(bin("sealdrop-open"))
            .current_dir(&stick)
            .env("PATH", path)
            .args(["decrypt", "-i"])
            .arg(&identity)
            .arg("-o")
            .arg(dir.path().join("out"))
            .arg(&sealed));
        assert!(!mark.exists(), "PATH={path}: the planted plugin ran");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("age-plugin-yubikey") && stderr.contains("not installed"),
            "{stderr}"
        );
    }
}

/// A plugin on an absolute PATH folder that another user owns (or could
/// write) is refused, saying which file and why; it never runs.
#[test]
fn a_plugin_another_user_could_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    open_folder(dir.path());
    let bin_dir = dir.path().join("bin");
    fs::create_dir(&bin_dir).unwrap();
    let mark = dir.path().join("plugin-ran");
    let plugin = planted_plugin(&bin_dir, &mark);
    let identity = plugin_identity(dir.path());
    let sealed = sealed_sample(dir.path(), &Key::new());
    // Someone else's file: another user's when the test runs as root, else
    // one everybody may write.
    if running_as_root() {
        chown(&plugin, Some(65534), Some(65534)).unwrap();
    } else {
        fs::set_permissions(&plugin, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out = run(Command::new(bin("sealdrop-open"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .args(["decrypt", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg(&sealed));
    assert!(!mark.exists(), "the plugin ran");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&plugin.display().to_string())
            && stderr.contains("not run as a hardware key's plugin"),
        "{stderr}"
    );
    assert!(
        stderr.contains("user 65534") || stderr.contains("every user"),
        "{stderr}"
    );
}
