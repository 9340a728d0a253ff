//! The real server on a real socket: submissions, limits, headers, logging,
//! start-up refusals, interruption and shutdown.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;
use sealdrop_server::pages::{text, Lang};

/// Decrypts every sealed file of `server` with sealdrop-open into a new folder;
/// returns that folder.
fn open_all(server: &Server) -> std::path::PathBuf {
    let out = server.dir.path().join(format!("opened-{}", rand_suffix()));
    let result = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&server.identity)
        .arg("-o")
        .arg(&out)
        .arg(&server.store));
    assert_success(&result, "sealdrop-open decrypt");
    out
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        Instant::now().elapsed().as_nanos()
            ^ std::process::id() as u128
            ^ rand::random::<u64>() as u128
    )
}

/// The single submission folder under `opened`.
fn only_submission(opened: &Path) -> std::path::PathBuf {
    let entries = opened_submissions(opened);
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// Stock age + unzip on one sealed file; returns the unzip folder.
fn open_with_stock_tools(server: &Server, sealed: &Path) -> std::path::PathBuf {
    let zip = server.dir.path().join(format!("{}.zip", rand_suffix()));
    assert_success(
        &run(Command::new("age")
            .args(["-d", "-i"])
            .arg(&server.identity)
            .arg("-o")
            .arg(&zip)
            .arg(sealed)),
        "age -d",
    );
    assert_success(&run(Command::new("unzip").arg("-t").arg(&zip)), "unzip -t");
    let out = server
        .dir
        .path()
        .join(format!("unzipped-{}", rand_suffix()));
    assert_success(
        &run(Command::new("unzip")
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(&out)),
        "unzip",
    );
    out
}

#[test]
fn message_files_and_mixed_submissions_decrypt_byte_identical() {
    let server = Server::start(&[]);
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    type Case<'a> = (Option<&'a [u8]>, Vec<(&'a str, &'a [u8])>);
    let cases: Vec<Case> = vec![
        (Some("Only a message. رسالة فقط".as_bytes()), vec![]),
        (
            None,
            vec![("a.bin", &big[..100_000]), ("b.txt", b"second file")],
        ),
        (
            Some(b"mixed message"),
            vec![("video.mp4", &big[..]), ("empty.dat", b"")],
        ),
    ];
    for (message, files) in &cases {
        let before = server.sealed_files();
        let mut fields = Vec::new();
        if let Some(m) = message {
            fields.push(text_field("message", m));
        }
        for (name, data) in files {
            fields.push(file_field(name, data));
        }
        let response = submit(server.addr, &fields);
        assert_eq!(response.status, RECEIVED, "{}", response.text());
        assert!(
            response.text().contains("id=\"codename\""),
            "the codename is shown"
        );
        assert_eq!(
            response.header("location"),
            None,
            "never a redirect with a codename"
        );
        let after = server.sealed_files();
        assert_eq!(after.len(), before.len() + 1);
        let sealed = after.iter().find(|p| !before.contains(p)).unwrap().clone();

        let unzipped = open_with_stock_tools(&server, &sealed);
        match message {
            Some(m) => assert_eq!(&fs::read(unzipped.join("message.txt")).unwrap(), m),
            None => assert!(!unzipped.join("message.txt").exists()),
        }
        for (name, data) in files {
            assert_eq!(
                &fs::read(unzipped.join("attachments").join(name)).unwrap(),
                data,
                "{name}"
            );
        }
    }
    let opened = open_all(&server);
    let folders = opened_submissions(&opened);
    assert_eq!(folders.len(), 3);
    let mut found_big = false;
    for folder in folders {
        if let Ok(video) = fs::read(folder.join("attachments/video.mp4")) {
            assert_eq!(video, big);
            assert_eq!(
                fs::read(folder.join("message.txt")).unwrap(),
                b"mixed message"
            );
            found_big = true;
        }
    }
    assert!(found_big);
}

fn assert_nowhere(haystack_dir: &Path, needles: &[&str]) {
    for entry in walk(haystack_dir) {
        let data = fs::read(&entry).unwrap();
        let name = entry.to_string_lossy();
        for needle in needles {
            assert!(!name.contains(needle), "{needle:?} in a file name: {name}");
            assert!(
                !data.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} found in plaintext in {name}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn markers_appear_nowhere_on_disk_or_in_logs_even_at_trace_level() {
    let server = Server::spawn_with_env(&[], &[("RUST_LOG", "trace")]);
    let markers = [
        "MSGMARKER7f3a",
        "FILEMARKER9b2c",
        "UAMARKER55d1",
        "XFFMARKER0e8f",
        "CONTENTMARKER3c4d",
    ];
    let body = multipart_body(&[
        text_field("message", b"secret MSGMARKER7f3a text"),
        file_field("FILEMARKER9b2c.pdf", b"file body CONTENTMARKER3c4d"),
    ]);
    let mut request = post_head(
        "/submit",
        body.len(),
        "User-Agent: Mozilla/5.0 UAMARKER55d1\r\nX-Forwarded-For: 203.0.113.9, XFFMARKER0e8f\r\n",
    );
    request.extend_from_slice(&body);
    let mut client = TcpStream::connect(server.addr).unwrap();
    let client_port = client.local_addr().unwrap().port().to_string();
    client.write_all(&request).unwrap();
    let mut raw = Vec::new();
    client.read_to_end(&mut raw).unwrap();
    assert_eq!(parse_response(&raw).unwrap().status, RECEIVED);
    // Also an error path, which must not log the request either.
    let bad = exchange(
        server.addr,
        b"POST /submit HTTP/1.1\r\nHost: x\r\nUser-Agent: UAMARKER55d1\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(server.sealed_files().len(), 1);
    assert_nowhere(&server.store, &markers);
    assert_nowhere(&server.tmp, &markers);
    // Stop the server so that its final report is in the output too.
    server.signal("TERM");
    let mut server = server;
    server
        .wait_exit(Duration::from_secs(20))
        .expect("stops on SIGTERM");
    let output = server.output_text();
    assert!(
        output.contains("sealed=1"),
        "aggregate counters are reported:\n{output}"
    );
    // The start-up line names the server's own address; nothing else may name any.
    let log: String = output
        .lines()
        .filter(|l| !l.contains("serving on"))
        .collect::<Vec<_>>()
        .join("\n");
    for needle in markers.iter().copied().chain([
        "127.0.0.1",
        client_port.as_str(),
        "203.0.113.9",
        "/submit",
        "user-agent",
        "mozilla",
    ]) {
        assert!(
            !log.to_lowercase().contains(&needle.to_lowercase()),
            "{needle:?} in the server output:\n{log}"
        );
    }
    // The content is really in there, sealed.
    let opened = only_submission(&open_all(&server));
    assert_eq!(
        fs::read(opened.join("message.txt")).unwrap(),
        b"secret MSGMARKER7f3a text"
    );
}

#[test]
fn oversize_uploads_get_a_413_page_and_leave_nothing() {
    let server = Server::start(&[
        "--max-upload-size",
        "1MiB",
        "--max-message-size",
        "10KiB",
        "--max-attachments",
        "2",
    ]);
    let big = vec![b'x'; 2 * 1024 * 1024];
    let response = submit(server.addr, &[file_field("big.bin", &big)]);
    assert_eq!(response.status, 413);
    assert!(response
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        response.text().contains("larger than 1 MB"),
        "{}",
        response.text()
    );

    let long = vec![b'm'; 20 * 1024];
    let response = submit(server.addr, &[text_field("message", &long)]);
    assert_eq!(response.status, 413);
    assert!(response.text().contains("Message too long"));

    let response = submit(
        server.addr,
        &[
            file_field("1", b"a"),
            file_field("2", b"b"),
            file_field("3", b"c"),
        ],
    );
    assert_eq!(response.status, 413);
    assert!(response.text().contains("at most 2 files"));

    // Content-Length within reach but the body grows past the limit while
    // streaming (a lying client), and chunked bodies with no length at all.
    let body = multipart_body(&[file_field("big.bin", &big)]);
    let mut request = format!(
        "POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(100_000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let response = exchange(server.addr, &request);
    assert_eq!(response.status, 413);

    assert_eq!(
        server.store_names(),
        Vec::<String>::new(),
        "nothing may be left in the store"
    );
    // The server still serves everyone else.
    assert_eq!(
        submit(server.addr, &[text_field("message", b"fine")]).status,
        RECEIVED
    );
}

#[test]
fn malformed_and_empty_bodies_get_400_pages() {
    let server = Server::start(&[]);
    let cases: Vec<Vec<u8>> = vec![
        b"POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
        b"POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nmessage=x".to_vec(),
        {
            let mut r = post_head("/submit", 30, "");
            r.extend_from_slice(b"--wrong-boundary\r\n\r\nxxxxxxxxxxx");
            r
        },
        {
            // A field that is neither message nor attachment.
            let body = multipart_body(&[text_field("evil", b"x")]);
            let mut r = post_head("/submit", body.len(), "");
            r.extend_from_slice(&body);
            r
        },
    ];
    for request in cases {
        let response = exchange(server.addr, &request);
        assert_eq!(
            response.status,
            400,
            "{}",
            String::from_utf8_lossy(&request[..60])
        );
        assert!(response.text().contains("<html"), "an HTML page");
    }
    // Nothing chosen: browsers send an empty file input.
    let response = submit(
        server.addr,
        &[Field {
            name: "attachment",
            file_name: Some(""),
            content_type: Some("application/octet-stream"),
            data: b"",
        }],
    );
    assert_eq!(response.status, 400);
    assert!(response.text().contains("Nothing to send"));
    assert_eq!(server.store_names(), Vec::<String>::new());
}

#[test]
fn a_connection_that_never_finishes_its_headers_is_closed() {
    let server = Server::start(&["--header-timeout", "1s"]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(8),
        "closed by the timeout, not by the test's read timeout ({waited:?})"
    );
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    // The server is still fine.
    assert_eq!(get(server.addr, "/").status, 200);
}

#[test]
fn at_the_upload_cap_the_server_answers_503_and_serves_others_afterwards() {
    let server = Server::start(&["--max-concurrent-uploads", "1"]);
    // Hold the only upload slot with a body that has not finished.
    let body = multipart_body(&[file_field("slow.bin", &vec![7u8; 100_000])]);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(&post_head("/submit", body.len(), ""))
        .unwrap();
    slow.write_all(&body[..50_000]).unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let response = submit(server.addr, &[text_field("message", b"second")]);
    assert_eq!(response.status, 503);
    assert!(response.text().contains("try again"), "{}", response.text());
    // The busy page shows the form again with the message (tests/server/refused.rs).
    assert!(
        response.text().contains(">\nsecond</textarea>"),
        "{}",
        response.text()
    );
    assert_eq!(get(server.addr, "/").status, 200, "pages are still served");

    // The slow one completes, then the slot is free again.
    slow.write_all(&body[50_000..]).unwrap();
    let mut raw = Vec::new();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = slow.read_to_end(&mut raw);
    assert_eq!(parse_response(&raw).unwrap().status, RECEIVED);
    assert_eq!(
        submit(server.addr, &[text_field("message", b"third")]).status,
        RECEIVED
    );
    assert_eq!(server.sealed_files().len(), 2);
}

const REQUIRED_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", "default-src 'none'"),
    ("content-security-policy", "form-action 'self'"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("content-security-policy", "base-uri 'none'"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("cross-origin-embedder-policy", "require-corp"),
    ("permissions-policy", "camera=()"),
    ("permissions-policy", "geolocation=()"),
];

fn assert_hygiene(response: &Response, what: &str) {
    for (name, needle) in REQUIRED_HEADERS {
        let value = response
            .header(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"));
        assert!(value.contains(needle), "{what}: {name} = {value}");
    }
    for banned in [
        "set-cookie",
        "etag",
        "server",
        "last-modified",
        "x-powered-by",
    ] {
        assert!(response.header(banned).is_none(), "{what}: has {banned}");
    }
    if response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        let page = response.text();
        for external in ["http://", "https://", "<script", "//cdn", "@import"] {
            assert!(!page.contains(external), "{what}: {external} in page");
        }
    }
}

#[test]
fn security_headers_are_on_every_route_including_errors() {
    let server = Server::start(&["--max-upload-size", "1KiB", "--max-concurrent-uploads", "1"]);
    let mut responses = vec![
        ("GET /", get(server.addr, "/")),
        ("GET /en/", get(server.addr, "/en/")),
        ("GET /en", get(server.addr, "/en")),
        ("GET /static/style.css", get(server.addr, "/static/style.css")),
        ("GET /received", get(server.addr, "/received")),
        ("GET /nope (404)", get(server.addr, "/nope")),
        ("GET /xx/ (unknown language)", get(server.addr, "/xx/")),
        ("DELETE / (405)", exchange(server.addr, b"DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
        ("POST /submit 400", exchange(server.addr, b"POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")),
        ("POST /submit 413", submit(server.addr, &[file_field("x", &[0u8; 4096])])),
        ("POST /submit", submit(server.addr, &[text_field("message", b"hi")])),
    ];
    // 503 at the upload cap.
    let body = multipart_body(&[file_field("slow.bin", &[1u8; 500])]);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(&post_head("/submit", body.len(), ""))
        .unwrap();
    slow.write_all(&body[..100]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    responses.push((
        "POST /submit 503",
        submit(server.addr, &[text_field("message", b"x")]),
    ));
    drop(slow);

    let statuses: Vec<u16> = responses.iter().map(|(_, r)| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 308, 200, 200, 404, 404, 405, 400, 413, RECEIVED, 503]
    );
    for (what, response) in &responses {
        assert_hygiene(response, what);
    }
    let css = &responses[3].1;
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    let page = &responses[0].1;
    assert!(
        page.body.len() + css.body.len() < 20_000,
        "page weight {}",
        page.body.len() + css.body.len()
    );
    assert!(
        page.text().contains("name=\"message\"") && page.text().contains("name=\"attachment\"")
    );
    assert!(page.text().contains("multiple"));
}

fn refuse(recipients: &str, store_mode: u32, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("recipients.txt");
    fs::write(&r, recipients).unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    fs::set_permissions(&store, fs::Permissions::from_mode(store_mode)).unwrap();
    let out = run(Command::new(server_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--recipients"])
        .arg(&r)
        .arg("--store")
        .arg(&store));
    assert_eq!(
        out.status.code(),
        Some(2),
        "must refuse: {recipients:?} mode {store_mode:o}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(expect), "expected {expect:?} in: {stderr}");
}

#[test]
fn bad_configurations_are_refused_with_advice() {
    let key = Key::new();
    let public = key.recipient.to_string();
    use age::secrecy::ExposeSecret;
    let secret = key.identity.to_string().expose_secret().to_owned();
    refuse("", 0o700, "holds no recipients");
    refuse("# only a comment\n\n", 0o700, "holds no recipients");
    refuse(
        "age1notakey\n",
        0o700,
        "is not a public key sealdrop seals to",
    );
    refuse(&format!("{public}\n{secret}\n"), 0o700, "SECRET key");
    refuse(&format!("{public}\n"), 0o750, "chmod 0700");
    refuse(&format!("{public}\n"), 0o707, "chmod 0700");
    // The secret key itself never appears in the message.
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.txt");
    fs::write(&r, format!("{secret}\n")).unwrap();
    let out = run(Command::new(server_bin())
        .args(["serve", "--recipients"])
        .arg(&r)
        .args(["--store", "/nonexistent"]));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&secret));
    // A missing store folder.
    let r2 = dir.path().join("ok.txt");
    fs::write(&r2, format!("{public}\n")).unwrap();
    let out = run(Command::new(server_bin())
        .args(["serve", "--recipients"])
        .arg(&r2)
        .args(["--store", "/nonexistent/store"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn an_upload_interrupted_mid_stream_leaves_nothing_and_startup_cleans_leftovers() {
    let server = Server::spawn(&[]);
    let body = multipart_body(&[
        text_field("message", b"partial"),
        file_field("cut.bin", &vec![9u8; 500_000]),
    ]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..300_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.store_names().len(),
        1,
        "a partial file exists while streaming"
    );
    assert!(server.store_names()[0].ends_with(".partial"));
    drop(s);
    let start = Instant::now();
    while !server.store_names().is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        server.store_names(),
        Vec::<String>::new(),
        "the partial file is removed"
    );
    assert_eq!(
        submit(server.addr, &[text_field("message", b"after")]).status,
        RECEIVED
    );

    // A crash (SIGKILL) mid-upload leaves a partial file: the next start removes it.
    let mut server = server;
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..300_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.child().kill().unwrap();
    server.child().wait().unwrap();
    assert!(server.store_names().iter().any(|n| n.ends_with(".partial")));
    let mut restarted = Command::new(server_bin())
        .args([
            "serve",
            "--min-free-disk",
            "1MiB",
            "--listen",
            "127.0.0.1:0",
            "--recipients",
        ])
        .arg(server.dir.path().join("recipients.txt"))
        .arg("--store")
        .arg(&server.store)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_serving(&mut restarted);
    let _ = restarted.kill();
    let _ = restarted.wait();
    let names = server.store_names();
    assert!(names.iter().all(|n| n.ends_with(".age")), "{names:?}");
    assert_eq!(names.len(), 1);
}

#[test]
fn sigterm_lets_an_upload_in_flight_finish() {
    let mut server = Server::spawn(&["--shutdown-grace", "20s"]);
    let body = multipart_body(&[file_field("inflight.bin", &vec![5u8; 400_000])]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..200_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted...
    assert!(
        server.child().try_wait().unwrap().is_none(),
        "still finishing the upload"
    );
    s.write_all(&body[200_000..]).unwrap();
    let mut raw = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.read_to_end(&mut raw);
    assert_eq!(parse_response(&raw).unwrap().status, RECEIVED);
    let status = server
        .wait_exit(Duration::from_secs(20))
        .expect("exits after the upload");
    assert!(status.success());
    assert_eq!(server.sealed_files().len(), 1);
}

#[test]
fn unix_socket_listener_serves_and_seals() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let recipients = dir.path().join("r.txt");
    fs::write(&recipients, format!("{}\n", key.recipient)).unwrap();
    let store = dir.path().join("store");
    private_dir(&store);
    let socket = dir.path().join("sealdrop.sock");
    let mut child = Command::new(server_bin())
        .args(["serve", "--recipients"])
        .arg(&recipients)
        .arg("--store")
        .arg(&store)
        .arg("--listen")
        .arg(format!("unix:{}", socket.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !socket.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let body = multipart_body(&[text_field("message", b"over a unix socket")]);
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(&body);
    let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    s.write_all(&request).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(parse_response(&raw).unwrap().status, RECEIVED);
    let sealed: Vec<_> = store_entries(&store)
        .iter()
        .map(|name| store.join(name))
        .collect();
    assert_eq!(sealed.len(), 1);
    let (message, _) = open(&fs::read(&sealed[0]).unwrap(), &key);
    assert_eq!(message.unwrap(), b"over a unix socket");
    assert_eq!(
        fs::metadata(&socket)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o660),
        0o660
    );
}

#[test]
fn a_stalled_body_gets_a_408_page_and_leaves_nothing() {
    let server = Server::start(&["--body-idle-timeout", "1s"]);
    let body = multipart_body(&[file_field("stall.bin", &vec![3u8; 200_000])]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..100_000]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let start = Instant::now();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert!(start.elapsed() < Duration::from_secs(10));
    let response = parse_response(&raw).expect("an answer, not a reset");
    assert_eq!(response.status, 408);
    assert!(response.text().contains("stalled"));
    assert_eq!(server.store_names(), Vec::<String>::new());
}

#[test]
fn connections_beyond_the_cap_get_a_503_page_and_close() {
    let server = Server::start(&["--max-connections", "2", "--header-timeout", "5s"]);
    // Let the start-up probe's connection close, then hold both slots.
    std::thread::sleep(Duration::from_millis(500));
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let response = get(server.addr, "/");
    assert_eq!(response.status, 503);
    assert!(response.text().contains("try again"));
    assert!(
        response.text().contains("lang=\"ar\" dir=\"rtl\""),
        "in every language: {}",
        response.text()
    );
    assert_hygiene(&response, "connection cap 503");
    drop(idle);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        get(server.addr, "/").status,
        200,
        "slots are freed when connections close"
    );
}

#[test]
fn demo_serves_and_prints_commands_for_the_whole_loop() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(server_bin())
        .current_dir(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let start = Instant::now();
    let mut printed = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&printed).contains("Ctrl-C") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "demo printed: {}",
            String::from_utf8_lossy(&printed)
        );
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "demo exited: {}", String::from_utf8_lossy(&printed));
        printed.extend_from_slice(&buf[..n]);
    }
    let printed = String::from_utf8(printed).unwrap();
    // The banner names the address bound, not port 0.
    let addr: std::net::SocketAddr = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("1. Open http://"))
        .and_then(|rest| rest.split_once('/'))
        .map(|(addr, _)| addr.parse().expect("a TCP address"))
        .expect("the banner names the address");
    assert_ne!(addr.port(), 0);
    let answer = submit(
        addr,
        &[
            text_field("message", b"demo works"),
            file_field("x.txt", b"x"),
        ],
    );
    assert_eq!(answer.status, RECEIVED);
    let page = answer.text();
    let at = page.find("id=\"codename\"").expect("the codename is shown");
    let codename = page[at + page[at..].find('>').unwrap() + 1..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let command = |needle: &str| {
        printed
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} command in {printed}"))
            .trim()
            .to_owned()
    };
    let shell = |command: &str| {
        let out = run(Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir.path()));
        assert_success(&out, command);
    };
    shell(&command(" decrypt -i "));
    let opened = only_submission(&dir.path().join("sealdrop-demo/opened"));
    assert_eq!(fs::read(opened.join("message.txt")).unwrap(), b"demo works");
    // The printed reply and push commands, as an editor would run them.
    fs::write(dir.path().join("reply.txt"), "demo reply").unwrap();
    shell(&command(" reply --to SUBMISSION ").replace("SUBMISSION", opened.to_str().unwrap()));
    shell(&command(" push-replies "));
    let body = format!("codename={}", codename.replace(' ', "+"));
    let login = format!(
        "POST /replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let replies = exchange(addr, login.as_bytes());
    assert!(replies.text().contains("demo reply"), "{}", replies.text());
    let _ = child.kill();
    let _ = child.wait();
    let mode = fs::metadata(dir.path().join("sealdrop-demo/identity.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Waits until `server`'s store holds no partial file.
fn wait_no_partial(server: &Server) {
    let start = Instant::now();
    while server.store_names().iter().any(|n| !n.ends_with(".age"))
        && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every outcome of an upload lands in its own counter of the interval
/// summary, a client that goes away mid-upload included (`aborted=` was
/// always 0 before: its outcome was counted as malformed).
#[test]
fn every_upload_outcome_is_counted_in_the_summary() {
    let server = Server::start(&[
        "--max-upload-size",
        "1MiB",
        "--max-concurrent-uploads",
        "1",
        "--body-idle-timeout",
        "1s",
    ]);
    let app = server.app();
    assert_eq!(
        submit(server.addr, &[text_field("message", b"ok")]).status,
        RECEIVED
    );
    let big = vec![1u8; 2 << 20];
    assert_eq!(submit(server.addr, &[file_field("big", &big)]).status, 413);
    assert_eq!(submit(server.addr, &[text_field("evil", b"x")]).status, 400);

    // Gone mid-upload.
    let body = multipart_body(&[file_field("cut.bin", &vec![9u8; 500_000])]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..200_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    wait_no_partial(&server);

    // Stalled (408) while holding the only slot, and a second upload meanwhile (503).
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(&post_head("/submit", body.len(), ""))
        .unwrap();
    stalled.write_all(&body[..100_000]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        submit(server.addr, &[text_field("message", b"x")]).status,
        503
    );
    let mut raw = Vec::new();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stalled.read_to_end(&mut raw);
    assert_eq!(parse_response(&raw).unwrap().status, 408);

    // The handler counts after its answer is built; give it a moment.
    std::thread::sleep(Duration::from_millis(200));
    let summary = app.stats.take_summary().expect("something was counted");
    for expected in [
        "sealed=1",
        "too_large=1",
        "malformed=1",
        "busy=1",
        "timed_out=1",
        "aborted=1",
        "failed=0",
    ] {
        assert!(summary.contains(expected), "{expected} in {summary}");
    }
}

/// A file name sent only as RFC 8187 `filename*=` (multer sees none), and
/// one with the escapes browsers apply to `"`, CR and LF, are recorded in
/// the manifest as the source gave them, and sanitized for the name on disk.
#[test]
fn file_names_are_recorded_as_the_source_gave_them() {
    let server = Server::start(&[]);
    let part = |disposition: &str, data: &str| {
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; {disposition}\r\nContent-Type: text/plain\r\n\r\n{data}\r\n"
        )
    };
    let body = format!(
        "{}{}--{BOUNDARY}--\r\n",
        part(
            "filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1%20%E2%82%AC.txt",
            "one"
        ),
        part("filename=\"say %22hi%22.txt\"", "two"),
    );
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(body.as_bytes());
    assert_eq!(exchange(server.addr, &request).status, RECEIVED);
    let sealed = fs::read(&server.sealed_files()[0]).unwrap();
    let mut reader = sealdrop_format::seal::SubmissionReader::open(
        std::io::Cursor::new(sealed),
        std::iter::once(&server.key.identity as &dyn age::Identity),
    )
    .unwrap();
    let parts: Vec<(String, String)> = reader
        .manifest()
        .attachments()
        .map(|p| (p.original_name.clone().unwrap(), p.path.clone()))
        .collect();
    assert_eq!(
        parts,
        [
            (
                "تقرير €.txt".to_owned(),
                "attachments/تقرير €.txt".to_owned()
            ),
            (
                "say \"hi\".txt".to_owned(),
                "attachments/say hi.txt".to_owned()
            ),
        ]
    );
    let mut first = Vec::new();
    reader
        .part_reader(0)
        .unwrap()
        .read_to_end(&mut first)
        .unwrap();
    assert_eq!(first, b"one");
}

#[test]
fn pages_no_route_matched_answer_in_the_language_of_the_url() {
    let server = Server::start(&[]);
    let missing = get(server.addr, "/ar/no-such-page");
    assert_eq!(missing.status, 404);
    let page = missing.text();
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"), "{page}");
    assert!(
        page.contains(&text(Lang::Ar, "error-not-found-title", &[])),
        "{page}"
    );
    let wrong_method = exchange(
        server.addr,
        b"PUT /fa/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method
        .text()
        .contains("<html lang=\"fa\" dir=\"rtl\">"));
    // Neither a page language nor a route: English.
    let unknown = get(server.addr, "/xx/no-such-page");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("<html lang=\"en\" dir=\"ltr\">"));
}
