//! The server's store under pressure (disk floor, quota), its time
//! normalization, and native TLS with certificate reload.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;

#[test]
fn below_the_disk_floor_sources_get_a_503_page_and_pages_still_load() {
    let server = Server::start(&["--min-free-disk", "100000TiB"]);
    let response = submit(server.addr, &[text_field("message", b"no room")]);
    assert_eq!(response.status, 503);
    assert!(
        response.text().contains("try again later"),
        "{}",
        response.text()
    );
    assert_eq!(get(server.addr, "/").status, 200);
    assert_eq!(server.store_names(), Vec::<String>::new());
}

#[test]
fn past_the_store_quota_sources_get_a_503_page() {
    // Each upload holds room for its largest sealed size from admission: a
    // message's is 64 KiB padded plus age's header room (96 KiB in all);
    // the first fits, the second does not once the first is stored.
    let server = Server::start(&["--store-quota", "128KiB"]);
    assert_eq!(
        submit(server.addr, &[text_field("message", b"first")]).status,
        RECEIVED
    );
    let response = submit(server.addr, &[text_field("message", b"second")]);
    assert_eq!(response.status, 503);
    assert_eq!(server.sealed_files().len(), 1);
}

fn whole_seconds(path: &Path) -> bool {
    fs::metadata(path).unwrap().mtime_nsec() == 0
}

#[test]
fn file_times_in_the_store_are_coarse_and_renormalized() {
    let server = Server::start(&["--touch-interval", "2s"]);
    assert_eq!(
        submit(server.addr, &[text_field("message", b"timing")]).status,
        RECEIVED
    );
    let sealed = server.sealed_files().pop().unwrap();
    let meta = fs::metadata(&sealed).unwrap();
    assert!(
        whole_seconds(&sealed) && meta.mtime() % 2 == 0,
        "mtime is rounded down to the interval"
    );
    let ctime_at_arrival = (meta.ctime(), meta.ctime_nsec());
    // Within two intervals, the maintenance pass re-touches file and folder.
    let start = Instant::now();
    loop {
        let meta = fs::metadata(&sealed).unwrap();
        if (meta.ctime(), meta.ctime_nsec()) > ctime_at_arrival && whole_seconds(&server.store) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no normalization pass within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(fs::metadata(&server.store).unwrap().mtime() % 2, 0);
}

fn make_cert(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let out = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    assert_success(&out, "openssl req");
    (cert, key)
}

fn curl_ok(url: &str, ca: &Path, extra: &[&str]) -> bool {
    Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(ca)
        .args(extra)
        .arg(url)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout) == "200")
        .unwrap_or(false)
}

#[test]
fn tls_13_only_and_the_certificate_reloads_on_sighup() {
    let certs = tempfile::tempdir().unwrap();
    let (cert1, key1) = make_cert(certs.path(), "one");
    let (cert2, key2) = make_cert(certs.path(), "two");
    let live_cert = certs.path().join("live.crt");
    let live_key = certs.path().join("live.key");
    fs::copy(&cert1, &live_cert).unwrap();
    fs::copy(&key1, &live_key).unwrap();
    let server = Server::spawn(&[
        "--tls-cert",
        live_cert.to_str().unwrap(),
        "--tls-key",
        live_key.to_str().unwrap(),
    ]);
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    assert!(
        curl_ok(&url, &cert1, &[]),
        "TLS 1.3 with the first certificate"
    );
    assert!(
        !curl_ok(&url, &cert1, &["--tls-max", "1.2"]),
        "TLS 1.2 must be refused"
    );
    assert!(!curl_ok(&url, &cert2, &[]));

    fs::copy(&cert2, &live_cert).unwrap();
    fs::copy(&key2, &live_key).unwrap();
    server.signal("HUP");
    let start = Instant::now();
    while !curl_ok(&url, &cert2, &[]) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "certificate not reloaded:\n{}",
            server.output_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!curl_ok(&url, &cert1, &[]), "the old certificate is gone");

    // A broken certificate on reload keeps the working one.
    fs::write(&live_cert, "not a certificate").unwrap();
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(curl_ok(&url, &cert2, &[]));
    assert!(server.output_text().contains("keeping the old one"));

    // A submission over TLS is sealed like any other.
    let out = run(Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&cert2)
        .args(["-F", "message=over tls", &format!("{url}submit")]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), RECEIVED.to_string());
    let (message, _) = open(
        &fs::read(server.sealed_files().pop().unwrap()).unwrap(),
        &server.key,
    );
    assert_eq!(message.unwrap(), b"over tls");
}

/// `--expire-unpicked`: a sealed submission nobody picked up is deleted once
/// it is old enough, counted from its file's birth time, and never before:
/// born at a maintenance pass, it may have arrived up to one touch interval
/// later, so it goes only when its birth lies `expire + interval` back.
#[test]
fn unpicked_submissions_expire_and_never_early() {
    let server = Server::spawn(&["--touch-interval", "1s", "--expire-unpicked", "3s"]);
    let response = submit(server.addr, &[text_field("message", b"old news")]);
    assert_eq!(response.status, 200, "{}", response.text());
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), 1);
    let born = sealdrop_server::store::birth_time(&sealed[0]).unwrap();
    let start = Instant::now();
    while !server.sealed_files().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never expired: {:?}",
            server.store_names()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let age = std::time::SystemTime::now().duration_since(born).unwrap();
    assert!(
        age >= Duration::from_secs(4),
        "deleted {age:?} after its birth: before 3s + one 1s interval"
    );
    let start = Instant::now();
    while !server.output_text().contains("expired_unpicked=1") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not counted in the summary: {}",
            server.output_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn expiry_shorter_than_the_touch_interval_is_refused() {
    let out = Command::new(server_bin())
        .args([
            "serve",
            "--recipients",
            "/nonexistent",
            "--store",
            "/nonexistent",
        ])
        .args(["--touch-interval", "1h", "--expire-unpicked", "30m"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("expire-unpicked (30m) must be at least touch-interval (1h)"),
        "{stderr}"
    );
}
