//! The pickup path against the real server on real sockets.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;
use sealdrop_format::pickup::new_token;

struct TestDrop {
    server: Server,
    socket: PathBuf,
    token: String,
    token_file: PathBuf,
}

fn start(extra: &[&str]) -> TestDrop {
    let (token, hash) = new_token();
    let hash = hash.to_string();
    let sockets = tempfile::tempdir().unwrap().keep();
    let socket = sockets.join("pickup.sock");
    let listen = format!("unix:{}", socket.display());
    let mut args = vec!["--pickup-listen", &listen, "--pickup-token-sha256", &hash];
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let token_file = server.dir.path().join("pickup.token");
    fs::write(&token_file, format!("{token}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
    TestDrop {
        server,
        socket,
        token,
        token_file,
    }
}

fn api(d: &TestDrop, method: &str, path: &str, token: Option<&str>, body: &str) -> Response {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    unix_exchange(&d.socket, request.as_bytes())
}

fn pickup_cmd(d: &TestDrop, to: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(server_bin());
    cmd.args([
        "pickup",
        "--from",
        &format!("unix:{}", d.socket.display()),
        "--token-file",
    ])
    .arg(&d.token_file)
    .arg("--to")
    .arg(to)
    .args(extra);
    cmd
}

fn submit_n(d: &TestDrop, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let data: Vec<u8> = format!("submission number {i} ")
                .repeat(1000 + i * 500)
                .into_bytes();
            assert_eq!(
                submit(
                    d.server.addr,
                    &[text_field("message", b"m"), file_field("f.txt", &data)]
                )
                .status,
                RECEIVED
            );
            data
        })
        .collect()
}

/// Decrypts every file in `dir` with the drop's key; returns attachment contents.
fn decrypt_dir(d: &TestDrop, dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect();
    files.sort();
    let mut contents: Vec<Vec<u8>> = files
        .iter()
        .map(|f| open(&fs::read(f).unwrap(), &d.server.key).1.remove(0).1)
        .collect();
    contents.sort();
    contents
}

/// Id and SHA-256 of the first pending submission, from the listing.
fn first_pending(d: &TestDrop) -> (String, String) {
    let listing = api(d, "GET", "/v1/submissions", Some(&d.token), "");
    assert_eq!(listing.status, 200);
    let parsed: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let first = &parsed["submissions"][0];
    (
        first["id"].as_str().unwrap().to_owned(),
        first["sha256"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_full_pickup_moves_everything_and_empties_the_store() {
    let d = start(&[]);
    let mut sent = submit_n(&d, 5);
    sent.sort();
    let inbox = d.server.dir.path().join("inbox");
    let out = run(&mut pickup_cmd(&d, &inbox, &[]));
    assert_success(&out, "pickup");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("5 submission(s)") && stderr.contains("5 deleted from the server"),
        "{stderr}"
    );
    assert_eq!(
        d.server.store_names(),
        Vec::<String>::new(),
        "the store is empty"
    );
    assert_eq!(decrypt_dir(&d, &inbox), sent);
    // sealdrop-open reads the folder as it is.
    let opened = d.server.dir.path().join("opened");
    assert_success(
        &run(Command::new(bin("sealdrop-open"))
            .args(["decrypt", "-i"])
            .arg(&d.server.identity)
            .arg("-o")
            .arg(&opened)
            .arg(&inbox)),
        "sealdrop-open decrypt",
    );
    assert_eq!(opened_submissions(&opened).len(), 5);
    // Running again is harmless.
    let out = run(&mut pickup_cmd(&d, &inbox, &[]));
    assert_success(&out, "second pickup");
    assert_eq!(decrypt_dir(&d, &inbox).len(), 5);
}

#[test]
fn keep_leaves_submissions_on_the_server() {
    let d = start(&[]);
    submit_n(&d, 2);
    let inbox = d.server.dir.path().join("inbox");
    assert_success(
        &run(&mut pickup_cmd(&d, &inbox, &["--keep"])),
        "pickup --keep",
    );
    assert_eq!(d.server.sealed_files().len(), 2);
    assert_eq!(decrypt_dir(&d, &inbox).len(), 2);
    // A later pickup recognizes what it already has, then acknowledges.
    let out = run(&mut pickup_cmd(&d, &inbox, &[]));
    assert_success(&out, "pickup");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 already there"));
    assert_eq!(d.server.sealed_files().len(), 0);
}

#[test]
fn a_pickup_killed_mid_download_loses_nothing_and_a_second_run_completes() {
    let d = start(&["--max-upload-size", "200MiB"]);
    let big: Vec<u8> = (0..96u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let body = multipart_body(&[file_field("big.bin", &big)]);
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(&body);
    assert_eq!(exchange(d.server.addr, &request).status, RECEIVED);
    let inbox = d.server.dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();

    let mut caught = false;
    for _attempt in 0..5 {
        let mut child = pickup_cmd(&d, &inbox, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let partial = fs::read_dir(&inbox)
                .unwrap()
                .filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().contains(".partial-"));
            if partial.is_some_and(|p| p.metadata().map(|m| m.len() > 0).unwrap_or(false)) {
                child.kill().unwrap();
                caught = true;
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
        }
        let _ = child.wait();
        if caught {
            break;
        }
    }
    assert!(caught, "never caught the client mid-download");
    assert_eq!(
        d.server.sealed_files().len(),
        1,
        "nothing was deleted on the server"
    );
    assert!(fs::read_dir(&inbox).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".age")));

    let out = run(&mut pickup_cmd(&d, &inbox, &[]));
    assert_success(&out, "second pickup");
    assert_eq!(d.server.sealed_files().len(), 0);
    let names: Vec<String> = fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains(".partial-")),
        "leftovers cleaned: {names:?}"
    );
    assert_eq!(decrypt_dir(&d, &inbox), vec![big]);
}

#[test]
fn wrong_missing_or_old_tokens_get_401_and_learn_nothing() {
    let d = start(&[]);
    submit_n(&d, 1);
    let listing = api(&d, "GET", "/v1/submissions", Some(&d.token), "");
    assert_eq!(listing.status, 200);
    let parsed: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    let id = parsed["submissions"][0]["id"].as_str().unwrap().to_owned();
    let sha = parsed["submissions"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        parsed["submissions"][0].as_object().unwrap().len(),
        3,
        "id, size and sha256 only"
    );

    let (old_token, _) = new_token(); // valid shape, not configured (revoked or never issued)
    let routes = [
        ("GET", "/v1/submissions".to_owned(), String::new()),
        ("GET", format!("/v1/submissions/{id}"), String::new()),
        (
            "GET",
            "/v1/submissions/00000000000000000000000000000000".to_owned(),
            String::new(),
        ),
        (
            "POST",
            format!("/v1/submissions/{id}/ack"),
            format!("{{\"sha256\":\"{sha}\"}}"),
        ),
        ("GET", "/v1/nothing-here".to_owned(), String::new()),
    ];
    let mut bodies = std::collections::BTreeSet::new();
    let start = Instant::now();
    for (method, path, body) in &routes {
        for token in [
            None,
            Some("wrong"),
            Some(old_token.as_str()),
            Some(&d.token[..d.token.len() - 1]),
        ] {
            let r = api(&d, method, path, token, body);
            assert_eq!(r.status, 401, "{method} {path} with {token:?}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            bodies.insert(r.body.clone());
        }
    }
    assert_eq!(bodies.len(), 1, "every refusal is identical");
    assert!(
        start.elapsed() >= Duration::from_secs(20),
        "failures are slowed down ({:?})",
        start.elapsed()
    );
    assert_eq!(d.server.sealed_files().len(), 1, "nothing was deleted");
    // A token file with a wrong token makes the client stop with advice.
    fs::write(&d.token_file, "wrong\n").unwrap();
    let out = run(&mut pickup_cmd(&d, &d.server.dir.path().join("x"), &[]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the token"));
}

#[test]
fn the_source_listener_never_answers_pickup_routes() {
    let d = start(&[]);
    submit_n(&d, 1);
    let (id, _) = first_pending(&d);
    let auth = format!("Authorization: Bearer {}\r\n", d.token);
    for (method, path) in [
        ("GET", "/v1/submissions".to_owned()),
        ("GET", format!("/v1/submissions/{id}")),
        ("POST", format!("/v1/submissions/{id}/ack")),
    ] {
        let r = exchange(
            d.server.addr,
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: 0\r\n\r\n").as_bytes(),
        );
        assert!(
            r.status == 404 || r.status == 405,
            "{method} {path}: {}",
            r.status
        );
        assert!(!r.text().contains(&id));
    }
    assert_eq!(d.server.sealed_files().len(), 1);
}

#[test]
fn an_acknowledgement_with_a_wrong_hash_deletes_nothing() {
    let d = start(&[]);
    submit_n(&d, 1);
    let (id, sha) = first_pending(&d);
    let wrong = format!(
        "{}{}",
        if sha.starts_with('0') { "1" } else { "0" },
        &sha[1..]
    );
    for body in [
        format!("{{\"sha256\":\"{wrong}\"}}"),
        "{}".to_owned(),
        "not json".to_owned(),
    ] {
        let r = api(
            &d,
            "POST",
            &format!("/v1/submissions/{id}/ack"),
            Some(&d.token),
            &body,
        );
        assert!(r.status == 409 || r.status == 400, "{body}: {}", r.status);
        assert_eq!(d.server.sealed_files().len(), 1);
    }
    // The download matches the listed hash, and the right hash deletes.
    let download = api(
        &d,
        "GET",
        &format!("/v1/submissions/{id}"),
        Some(&d.token),
        "",
    );
    assert_eq!(sha256_hex(&download.body), sha);
    let r = api(
        &d,
        "POST",
        &format!("/v1/submissions/{id}/ack"),
        Some(&d.token),
        &format!("{{\"sha256\":\"{sha}\"}}"),
    );
    assert_eq!(r.status, 204);
    assert_eq!(d.server.store_names(), Vec::<String>::new());
    let r = api(
        &d,
        "POST",
        &format!("/v1/submissions/{id}/ack"),
        Some(&d.token),
        &format!("{{\"sha256\":\"{sha}\"}}"),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn two_pickups_at_once_neither_lose_nor_duplicate() {
    let d = start(&[]);
    let mut sent = submit_n(&d, 12);
    sent.sort();
    let inbox = d.server.dir.path().join("inbox");
    let children: Vec<_> = (0..2)
        .map(|_| {
            pickup_cmd(&d, &inbox, &[])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(d.server.store_names(), Vec::<String>::new());
    let names: Vec<String> = fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".age")).count(),
        12,
        "{names:?}"
    );
    assert_eq!(decrypt_dir(&d, &inbox), sent);
}

/// A hostile (seized or impersonated) pickup server answers with text made to
/// take over the editor's terminal: a title change, a screen clear, a fake
/// "all verified" line, an OSC 52 clipboard write, the 8-bit CSI, a bidi
/// override. None of it may reach the terminal as such.
#[test]
fn a_hostile_servers_text_cannot_drive_the_editors_terminal() {
    use std::io::{Read, Write};
    let evil = "\x1b]0;owned\x07\x1b[2J\x1b[H\rAll 12 submissions verified.\x1b]52;c;cm0gLXJmIH4=\x07\u{9b}31m\u{202e}exe.pdf\u{7}";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        // An error answer, then a "listing" that is not one.
        for body in [
            format!("{{\"error\": \"{}\"}}", evil.replace('\\', "\\\\")),
            format!("{{\"submissions\": \"{evil}\"}}"),
        ] {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let status = if body.contains("error") {
                "500 Oops"
            } else {
                "200 OK"
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    fs::write(&token, "sealdrop-pickup-v1-00\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&token, fs::Permissions::from_mode(0o600)).unwrap();
    for _ in 0..2 {
        let out = run(Command::new(server_bin())
            .args([
                "pickup",
                "--from",
                &format!("http://{addr}"),
                "--token-file",
            ])
            .arg(&token)
            .arg("--to")
            .arg(dir.path().join("to")));
        assert_eq!(out.status.code(), Some(2));
        let printed = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        for c in ['\x1b', '\x07', '\r', '\u{9b}', '\u{202e}'] {
            assert!(
                !printed.contains(c),
                "U+{:04X} reached the terminal: {printed:?}",
                c as u32
            );
        }
        assert!(printed.contains("sealdrop pickup:"), "{printed}");
    }
    server.join().unwrap();
}

/// Clients held at the pickup API's slowed-down token check have a budget of
/// their own: they cannot take the sources' connection slots. (Before, 64
/// bad-token requests gave sources the 503 page for 23 s.)
#[test]
fn bad_token_floods_cannot_take_the_sources_slots() {
    let d = start(&["--max-connections", "8"]);
    let request = b"GET /v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nConnection: close\r\n\r\n";
    let held: Vec<_> = (0..16)
        .map(|_| {
            let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
            std::io::Write::write_all(&mut s, request).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        assert_eq!(
            get(d.server.addr, "/").status,
            200,
            "a source is served while bad tokens queue at the pickup API"
        );
    }
    drop(held);
}
