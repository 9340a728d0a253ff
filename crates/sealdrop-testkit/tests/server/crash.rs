//! Crash consistency: uploads in flight while the server is killed with
//! SIGKILL at random moments, then restarted on the same store. Every upload
//! that got "received" must decrypt and match; no corrupt or partial `*.age`
//! may exist; leftovers must be gone after the restart.
//!
//! CI runs `SEALDROP_CRASH_POINTS` kill points (default 200); set
//! `SEALDROP_LONG_TESTS=1` for 2000.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;
use rand::Rng;

fn kill_points() -> usize {
    if std::env::var("SEALDROP_LONG_TESTS").is_ok_and(|v| v == "1") {
        return 2000;
    }
    std::env::var("SEALDROP_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Starts a server on `listen` and returns it with the address it bound.
fn spawn(recipients: &Path, store: &Path, listen: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(server_bin())
        .args([
            "serve",
            "--min-free-disk",
            "1MiB",
            "--listen",
            listen,
            "--recipients",
        ])
        .arg(recipients)
        .arg("--store")
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = wait_serving(&mut child);
    (child, addr)
}

/// One upload, sent in slices with pauses so that a kill can land in the
/// headers, the body, the sealing or around the rename. Returns the content
/// if the server answered "received".
fn upload(
    addr: SocketAddr,
    marker: String,
    size: usize,
    pause: Duration,
) -> Option<(String, Vec<u8>)> {
    let data: Vec<u8> = (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect();
    let body = multipart_body(&[
        text_field("message", marker.as_bytes()),
        file_field("f.bin", &data),
    ]);
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(&body);
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    for slice in request.chunks(request.len().div_ceil(4).max(1)) {
        s.write_all(slice).ok()?;
        std::thread::sleep(pause);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let response = parse_response(&raw)?;
    (response.status == RECEIVED).then_some((marker, data))
}

/// Decrypts every sealed file not checked yet; panics on any corrupt one.
fn check_store(
    store: &Path,
    key: &Key,
    checked: &mut HashSet<PathBuf>,
    found: &mut HashMap<String, Vec<u8>>,
) {
    for name in store_entries(store) {
        let path = store.join(&name);
        assert!(
            name.ends_with(".age"),
            "a leftover survived the restart: {name}"
        );
        if !checked.insert(path.clone()) {
            continue;
        }
        let (message, files) = open(&fs::read(&path).unwrap(), key);
        let marker = String::from_utf8(message.expect("every upload has a message")).unwrap();
        found.insert(marker, files.into_iter().next().expect("one file").1);
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_that_was_received() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let recipients = dir.path().join("recipients.txt");
    fs::write(&recipients, format!("{}\n", key.recipient)).unwrap();
    let store = dir.path().join("store");
    private_dir(&store);
    // The first start picks a free port; restarts take the same one, as a
    // restarted service would.
    let (first, addr) = spawn(&recipients, &store, "127.0.0.1:0");
    let mut first = Some(first);

    let received: Arc<Mutex<Files>> = Arc::default();
    let mut checked = HashSet::new();
    let mut found = HashMap::new();
    let mut rng = rand::thread_rng();
    let mut leftovers_seen = 0;
    let points = kill_points();
    let started = Instant::now();
    for point in 0..points {
        let mut child = match first.take() {
            Some(child) => child,
            None => spawn(&recipients, &store, &addr.to_string()).0,
        };
        // The restart must have removed whatever the last kill left.
        check_store(&store, &key, &mut checked, &mut found);
        let clients: Vec<_> = (0..3)
            .map(|c| {
                let received = received.clone();
                let size = [0usize, 10, 70_000, 300_000, 1_500_000][(point + c) % 5];
                let pause = Duration::from_millis(rng.gen_range(0..6));
                let marker = format!("upload-{point}-{c}");
                std::thread::spawn(move || {
                    if let Some(ok) = upload(addr, marker, size, pause) {
                        received.lock().unwrap().push(ok);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..40_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        leftovers_seen += store_entries(&store)
            .iter()
            .filter(|name| !name.ends_with(".age"))
            .count();
    }
    let (mut child, _) = spawn(&recipients, &store, &addr.to_string());
    check_store(&store, &key, &mut checked, &mut found);
    child.kill().unwrap();
    child.wait().unwrap();

    let received = received.lock().unwrap();
    for (marker, data) in received.iter() {
        let stored = found
            .get(marker)
            .unwrap_or_else(|| panic!("{marker} was received but is not in the store"));
        assert!(stored == data, "{marker} differs");
    }
    eprintln!(
        "crash harness: {points} kill points in {:?}; {} uploads received and verified, {} sealed files in all, \
         {leftovers_seen} partial files left by kills and removed at restart",
        started.elapsed(),
        received.len(),
        found.len()
    );
    // The harness must have exercised both outcomes to mean anything.
    assert!(!received.is_empty(), "no upload ever completed");
    assert!(leftovers_seen > 0, "no kill ever landed mid-upload");
}
