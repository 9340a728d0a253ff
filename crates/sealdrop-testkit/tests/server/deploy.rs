//! The admin's path from docs/DEPLOY.md, scripted: keys made with
//! sealdrop-open, the shipped sample config with local paths, the server on a
//! Unix socket, a submission, a pickup over the pickup socket, and decryption.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;

#[test]
fn deploy_guide_path_works_on_unix_sockets() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // Key ceremony.
    let keygen = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "-o"])
        .arg(r.join("newsroom.key")));
    assert_success(&keygen, "keygen");
    let public = String::from_utf8(keygen.stdout).unwrap();
    fs::write(
        r.join("recipients.txt"),
        format!("# newsroom key\n{public}"),
    )
    .unwrap();
    // Store and token.
    private_dir(&r.join("store"));
    let token_out = run(Command::new(server_bin())
        .args(["pickup-token", "--token-file"])
        .arg(r.join("pickup.token")));
    assert_success(&token_out, "pickup-token");
    let hash_line = String::from_utf8(token_out.stdout).unwrap();
    assert!(hash_line.starts_with("pickup_token_sha256 = "));
    assert_eq!(
        fs::metadata(r.join("pickup.token"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // The sample config, with this test's paths.
    let source_sock = r.join("source.sock");
    let pickup_sock = r.join("pickup.sock");
    let config = include_str!("../../../../deploy/sealdrop.toml")
        .replace(
            "/etc/sealdrop/recipients.txt",
            r.join("recipients.txt").to_str().unwrap(),
        )
        .replace("/var/lib/sealdrop/store", r.join("store").to_str().unwrap())
        .replace("/run/sealdrop/source.sock", source_sock.to_str().unwrap())
        .replace("/run/sealdrop/pickup.sock", pickup_sock.to_str().unwrap())
        .replace("min_free_disk = \"1GiB\"", "min_free_disk = \"1MiB\"")
        .lines()
        .map(|l| {
            if l.starts_with("pickup_token_sha256") {
                hash_line.trim()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(r.join("sealdrop.toml"), config).unwrap();
    let mut server = Command::new(server_bin())
        .args(["serve", "--config"])
        .arg(r.join("sealdrop.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !(source_sock.exists() && pickup_sock.exists()) {
        if start.elapsed() > Duration::from_secs(15) || server.try_wait().unwrap().is_some() {
            let _ = server.kill();
            let mut err = String::new();
            server
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("server did not come up: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        fs::metadata(&source_sock).unwrap().permissions().mode() & 0o777,
        0o660
    );
    // A source submits through the socket tor forwards to.
    let body = multipart_body(&[
        text_field("message", b"via the onion socket"),
        file_field("doc.pdf", b"%PDF-1.4 ..."),
    ]);
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(&body);
    let mut s = std::os::unix::net::UnixStream::connect(&source_sock).unwrap();
    s.write_all(&request).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    assert_eq!(parse_response(&raw).unwrap().status, RECEIVED);
    // An editor picks up, then opens on the "air-gapped" side.
    let inbox = r.join("usb/inbox");
    let out = run(Command::new(server_bin())
        .args([
            "pickup",
            "--from",
            &format!("unix:{}", pickup_sock.display()),
            "--token-file",
        ])
        .arg(r.join("pickup.token"))
        .arg("--to")
        .arg(&inbox));
    assert_success(&out, "pickup");
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(r.join("newsroom.key"))
        .arg("-o")
        .arg(r.join("opened"))
        .arg(&inbox));
    assert_success(&out, "decrypt");
    let opened = opened_submissions(&r.join("opened"));
    assert_eq!(opened.len(), 1);
    assert_eq!(
        fs::read(opened[0].join("message.txt")).unwrap(),
        b"via the onion socket"
    );
    assert_eq!(
        fs::read(opened[0].join("attachments/doc.pdf")).unwrap(),
        b"%PDF-1.4 ..."
    );
    assert_eq!(store_entries(&r.join("store")), Vec::<String>::new());
    let _ = server.kill();
    let _ = server.wait();
}
