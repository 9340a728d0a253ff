//! Upload slots under slow and hostile clients: hundreds of slow uploads at
//! once with idle connections beside them (no thread per upload), squatters
//! that trickle bytes (they lose their slots), and a file-descriptor limit
//! too low for the configuration (refused at start).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;

fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Sends `request`'s head at once and its body in `piece`-byte writes, one
/// every `every`, for at most `limit`, then reads the answer; returns its
/// status (0 if none).
fn send_slowly(
    addr: SocketAddr,
    request: &[u8],
    piece: usize,
    every: Duration,
    limit: Duration,
) -> u16 {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    s.write_all(&request[..head_end]).unwrap();
    for chunk in request[head_end..].chunks(piece) {
        if s.write_all(chunk).is_err() || started.elapsed() > limit {
            break;
        }
        std::thread::sleep(every);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw).map_or(0, |r| r.status)
}

fn content(id: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31).wrapping_add(id * 7919) % 251) as u8)
        .collect()
}

/// 300 uploads at once, each sending 24 KiB at about 8 KB/s in 1 KiB
/// writes (a Tor circuit's pace), with 100 idle connections beside them:
/// all are accepted and sealed intact, while the server's threads stay
/// bounded (an upload waiting for the network holds no thread).
#[test]
fn hundreds_of_slow_uploads_at_once_hold_no_thread_each() {
    let server = Server::spawn(&["--header-timeout", "30s"]);
    let addr = server.addr;
    let pid = server.pid();
    let idle: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let uploads = 300;
    let most_threads = Arc::new(Mutex::new(threads_of(pid)));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (most, done) = (most_threads.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let now = threads_of(pid);
                let mut most = most.lock().unwrap();
                *most = (*most).max(now);
                drop(most);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let clients: Vec<_> = (0..uploads)
        .map(|id| {
            std::thread::spawn(move || {
                let body = multipart_body(&[
                    text_field("message", format!("slow-{id}").as_bytes()),
                    file_field("slow.bin", &content(id, 24 * 1024)),
                ]);
                let mut request = post_head("/submit", body.len(), "");
                request.extend_from_slice(&body);
                send_slowly(
                    addr,
                    &request,
                    1024,
                    Duration::from_millis(125),
                    Duration::from_secs(120),
                )
            })
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    drop(idle);
    assert!(
        statuses.iter().all(|s| *s == RECEIVED),
        "every slow upload is accepted: {:?}",
        statuses
            .iter()
            .filter(|s| **s != RECEIVED)
            .collect::<Vec<_>>()
    );
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), uploads);
    for file in sealed {
        let (message, files) = open(&std::fs::read(&file).unwrap(), &server.key);
        let id: usize = String::from_utf8(message.unwrap())
            .unwrap()
            .strip_prefix("slow-")
            .unwrap()
            .parse()
            .unwrap();
        assert!(files[0].1 == content(id, 24 * 1024), "upload {id} differs");
    }
    let most = *most_threads.lock().unwrap();
    eprintln!("{uploads} slow uploads at once: at most {most} server threads");
    // Async workers (one per core), the bounded blocking pool (16), the
    // store's flusher and the main thread: never one per upload.
    assert!(most <= 24, "{most} threads for {uploads} uploads");
}

/// As many squatters as slots, each sending just above the minimum rate:
/// once they have run a window, a real source arriving takes the slowest
/// one's slot and is received within the bound this test states; the
/// squatter gets the 408 page. Squatters below the minimum rate lose their
/// slot whether or not anyone waits.
#[test]
fn squatters_cannot_keep_a_source_out() {
    let server = Server::start(&[
        "--max-concurrent-uploads",
        "8",
        "--body-idle-timeout",
        "3s",
        "--min-upload-rate",
        "1KiB",
    ]);
    let addr = server.addr;
    let squatter = |piece: usize| {
        move || {
            let body = multipart_body(&[file_field("never.bin", &vec![b'x'; 4 << 20])]);
            let mut request = post_head("/submit", body.len(), "");
            request.extend_from_slice(&body);
            // 8 pieces a second: 2 KiB/s (above the minimum, far below what
            // may be evicted) or 8 B/s (below the minimum), for 8 s; then
            // silence, which the idle timeout ends.
            send_slowly(
                addr,
                &request,
                piece,
                Duration::from_millis(125),
                Duration::from_secs(8),
            )
        }
    };
    let squatters: Vec<_> = (0..8).map(|_| std::thread::spawn(squatter(256))).collect();
    // Let them run a whole window and hold every slot.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        server.app().slots.in_use(),
        8,
        "the squatters hold every slot"
    );
    let started = Instant::now();
    let response = submit(server.addr, &[text_field("message", b"a real source")]);
    let waited = started.elapsed();
    assert_eq!(response.status, RECEIVED, "{}", response.text());
    assert!(
        waited < Duration::from_secs(5),
        "the source waited {waited:?} (bound: 5 s)"
    );
    // The squatters end one way or another: evicted or too slow, never
    // received.
    let ended: Vec<u16> = squatters.into_iter().map(|s| s.join().unwrap()).collect();
    assert!(ended.iter().all(|s| *s == 408), "{ended:?}");
    assert_eq!(server.sealed_files().len(), 1);
    let summary = server.app().stats.take_summary().unwrap();
    assert!(summary.contains("evicted=1"), "{summary}");

    // Trickling below the minimum rate: the slot is lost after a window,
    // though nobody else wants it.
    let trickler = std::thread::spawn(squatter(1));
    let status = trickler.join().unwrap();
    assert_eq!(status, 408);
    assert_eq!(server.store_names().len(), 1, "nothing partial remains");
}

/// A file-descriptor limit below what the configuration needs is refused at
/// start, with the figure and the advice.
#[test]
fn a_file_limit_too_low_for_the_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new();
    let recipients = dir.path().join("r.txt");
    std::fs::write(&recipients, format!("{}\n", key.recipient)).unwrap();
    let store = dir.path().join("store");
    private_dir(&store);
    let out = run(Command::new("prlimit")
        .arg("--nofile=256:256")
        .arg(server_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--recipients"])
        .arg(&recipients)
        .arg("--store")
        .arg(&store));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LimitNOFILE"), "{stderr}");
    assert!(stderr.contains("may open 256 files"), "{stderr}");
}
