//! Process hardening of the running server.

use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use crate::common::server::{server_bin, wait_serving};
use crate::common::{assert_success, run, Key};

/// A world-traversable folder with a recipients file and an empty store.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let key = Key::new();
    let recipients = dir.path().join("r.txt");
    fs::write(&recipients, format!("{}\n", key.recipient)).unwrap();
    fs::set_permissions(&recipients, fs::Permissions::from_mode(0o644)).unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    (dir, recipients, store)
}

fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The server binary, run as nobody (via setpriv) when the test runs as root.
fn server_command(dir: &std::path::Path) -> Command {
    if running_as_root() {
        // The binary must be reachable by nobody, so it is copied out of a
        // target folder nobody may not enter. The copy is made by `install`,
        // in a process of its own: had this process opened the copy for
        // writing, a child forked meanwhile by another test thread would
        // inherit that descriptor until its own exec, and running the copy
        // would fail with ETXTBSY ("Text file busy").
        let bin = dir.join("sealdrop");
        assert_success(
            &run(Command::new("install")
                .args(["-m", "0755"])
                .arg(server_bin())
                .arg(&bin)),
            "install the server binary",
        );
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        c
    } else {
        Command::new(server_bin())
    }
}

/// proc(5): the files under /proc/PID are owned by root:root when the process
/// is not dumpable, and by the process's user otherwise. Run the server as an
/// unprivileged user (dropping from root with setpriv when the test runs as
/// root) and look at who owns its /proc entry.
#[test]
fn the_server_makes_itself_non_dumpable() {
    let (dir, recipients, store) = fixture();
    if running_as_root() {
        chown(&store, Some(65534), Some(65534)).unwrap();
    }
    let mut cmd = server_command(dir.path());
    let mut child = cmd
        .args([
            "serve",
            "--min-free-disk",
            "1MiB",
            "--listen",
            "127.0.0.1:0",
            "--recipients",
        ])
        .arg(&recipients)
        .arg("--store")
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server (setpriv is in util-linux)");
    wait_serving(&mut child);
    let status = fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap();
    let owner = fs::metadata(format!("/proc/{}/status", child.id()))
        .unwrap()
        .uid();
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(uid, 0, "the server must run unprivileged for this check");
    assert_eq!(
        owner, 0,
        "/proc entry owned by the process's user (uid {uid}): the process is dumpable"
    );
}

/// A store folder the server's user cannot write is refused at start-up with
/// advice. As root (CI) the server runs as nobody against a root-owned folder;
/// otherwise the folder is made read-only for its owner.
#[test]
fn an_unwritable_store_is_refused() {
    let (dir, recipients, store) = fixture();
    if !running_as_root() {
        fs::set_permissions(&store, fs::Permissions::from_mode(0o500)).unwrap();
    }
    let mut cmd = server_command(dir.path());
    let out = cmd
        .args(["serve", "--listen", "127.0.0.1:0", "--recipients"])
        .arg(&recipients)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not writable by this user"), "{stderr}");
}
