//! Process hardening of the running server.

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::process::Stdio;

use crate::common::server::{
    running_as_root, uid_and_proc_owner, unprivileged_fixture, unprivileged_server, wait_serving,
};

/// proc(5): the files under /proc/PID are owned by root:root when the process
/// is not dumpable, and by the process's user otherwise. Run the server as an
/// unprivileged user (dropping from root with setpriv when the test runs as
/// root) and look at who owns its /proc entry.
#[test]
fn the_server_makes_itself_non_dumpable() {
    let (dir, recipients, store) = unprivileged_fixture();
    if running_as_root() {
        chown(&store, Some(65534), Some(65534)).unwrap();
    }
    let mut cmd = unprivileged_server(dir.path());
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
    let (uid, owner) = uid_and_proc_owner(child.id());
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
    let (dir, recipients, store) = unprivileged_fixture();
    if !running_as_root() {
        fs::set_permissions(&store, fs::Permissions::from_mode(0o500)).unwrap();
    }
    let mut cmd = unprivileged_server(dir.path());
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
