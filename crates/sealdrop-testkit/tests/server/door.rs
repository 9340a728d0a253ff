//! Holding the door (issue 31): the cheap ways to keep sources out, each
//! tried against the real server. Bounds here are generous against each
//! attack's own cycle; what each attack costs is measured in `bench/`
//! (docs/BENCHMARKS.md, "What keeping sources out costs").

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::pickup::{TokenHash, LIST_PATH};
use sealdrop_format::reply::{file, keys, Codename};

/// Writes `head` (and the first bytes of a body), then one byte every
/// `every` until `stop`; the connection is never finished.
fn trickle(addr: SocketAddr, head: Vec<u8>, every: Duration, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        if s.write_all(&head).is_err() {
            return;
        }
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(every);
            if s.write_all(b"x").is_err() {
                return;
            }
        }
    });
}

/// Sends `request`'s head at once and its body in `piece`-byte writes, one
/// every `every`, then reads the answer; returns it.
fn send_paced(addr: SocketAddr, request: &[u8], piece: usize, every: Duration) -> Option<Response> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    s.write_all(&request[..head_end]).ok()?;
    for chunk in request[head_end..].chunks(piece) {
        if s.write_all(chunk).is_err() {
            break;
        }
        std::thread::sleep(every);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

fn upload_request(fields: &[Field]) -> Vec<u8> {
    let body = multipart_body(fields);
    let mut request = post_head("/submit", body.len(), "");
    request.extend_from_slice(&body);
    request
}

/// Finding 1. Every connection held by a refused request that trickles a
/// byte every 2 s (half not multipart, chunked; half multipart declaring
/// 900 MB): sources still get in, each taking the place of one of them.
#[test]
fn trickled_refusals_give_way_to_sources() {
    let server = Server::start(&["--max-connections", "16"]);
    let stop = Arc::new(AtomicBool::new(false));
    for i in 0..16 {
        let head = if i % 2 == 0 {
            b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
              Transfer-Encoding: chunked\r\n\r\n1000\r\nx"
                .to_vec()
        } else {
            b"POST /submit HTTP/1.1\r\nHost: x\r\n\
              Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 900000000\r\n\r\n\
              --b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nx"
                .to_vec()
        };
        trickle(server.addr, head, Duration::from_secs(2), stop.clone());
    }
    std::thread::sleep(Duration::from_secs(1));
    for i in 0..4 {
        let started = Instant::now();
        let answer = submit(
            server.addr,
            &[text_field("message", format!("source {i}").as_bytes())],
        );
        assert_eq!(answer.status, RECEIVED, "source {i}: {}", answer.text());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(server.sealed_files().len(), 4);
}

/// Beside finding 1: connections that never finish their headers hold
/// their place for 2 s, not for the whole `--header-timeout`, when
/// someone else needs it.
#[test]
fn slow_headers_give_way_after_their_grace() {
    let server = Server::start(&["--max-connections", "4"]);
    let slow: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(get(server.addr, "/").status, 200);
    drop(slow);
}

/// Connections the budget would otherwise leave alone: replies logins whose
/// small form never arrives, and header-only uploads holding every slot.
/// Past their 2 s, both give way: a source gets a connection, then a slot.
#[test]
fn stalled_logins_and_slot_squatters_together_give_way() {
    let server = Server::start(&["--max-connections", "4", "--max-concurrent-uploads", "2"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(&post_head("/submit", 4 << 20, "")).unwrap();
        held.push(s);
    }
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(
            b"POST /en/replies HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
        )
        .unwrap();
        held.push(s);
    }
    std::thread::sleep(Duration::from_secs(4));
    let answer = submit(server.addr, &[text_field("message", b"through")]);
    assert_eq!(answer.status, RECEIVED, "{}", answer.text());
    drop(held);
}

/// Finding 1, the pickup side: its 64 connections all held by wrong tokens
/// waiting their turn at the failure delay (a minute's queue); an editor
/// with the right token is still served.
#[test]
fn wrong_pickup_tokens_waiting_their_turn_give_way_to_an_editor() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("pickup.sock");
    let token = sealdrop_format::id::random_hex(32);
    let hash = TokenHash::of(&token).to_string();
    let listen = format!("unix:{}", socket.display());
    let _server = Server::start(&["--pickup-listen", &listen, "--pickup-token-sha256", &hash]);
    let wrong: Vec<UnixStream> = (0..64)
        .map(|_| {
            let mut s = UnixStream::connect(&socket).unwrap();
            s.write_all(
                format!(
                    "GET {LIST_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let listing = unix_exchange(
        &socket,
        format!(
            "GET {LIST_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(listing.status, 200, "{}", listing.text());
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(wrong);
}

/// Sends `request` paced as `send_paced` does; a 503 (busy) answer is tried
/// again after a moment, as the page asks, up to `tries` times.
fn send_paced_retrying(
    addr: SocketAddr,
    request: &[u8],
    piece: usize,
    every: Duration,
    tries: usize,
) -> Option<Response> {
    for _ in 1..tries {
        match send_paced(addr, request, piece, every) {
            Some(r) if r.status == 503 => std::thread::sleep(Duration::from_millis(250)),
            other => return other,
        }
    }
    send_paced(addr, request, piece, every)
}

/// Finding 2. Eight squatters for eight slots that send headers and nothing
/// else, each reconnecting just before its window ends (staggered over the
/// window, as connections renewed one by one are): an honest phone at
/// 8 KiB/s admitted among them finishes, and a source arriving mid-attack
/// is received before the attack ends. (Renewing every slot at once, within
/// the 2 s probation, is the one way left to displace the honest upload;
/// bench/attacks.py prices it.)
#[test]
fn reconnecting_header_only_squatters_neither_keep_a_source_out_nor_cut_a_slow_upload() {
    let server = Server::start(&["--max-concurrent-uploads", "8", "--body-idle-timeout", "4s"]);
    let addr = server.addr;
    const CYCLES: u32 = 5;
    let hold = Duration::from_millis(3500);
    let attack_started = Instant::now();
    let attack_ends = hold * (CYCLES + 1);
    let squatters: Vec<_> = (0..8u32)
        .map(|i| {
            std::thread::spawn(move || {
                std::thread::sleep(hold * i / 8);
                let head = post_head("/submit", 4 << 20, "");
                for _ in 0..CYCLES {
                    let cycle = Instant::now();
                    if let Ok(mut s) = TcpStream::connect(addr) {
                        let _ = s.write_all(&head);
                        std::thread::sleep(hold.saturating_sub(cycle.elapsed()));
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + hold * 2;
    while server.app().slots.in_use() < 8 {
        assert!(
            Instant::now() < deadline,
            "the squatters never held every slot"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // 96 KiB at 8 KiB/s: 12 s, three windows, under attack all along.
    let video = (0..96 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let honest_request = upload_request(&[file_field("clip.mp4", &video)]);
    let honest = std::thread::spawn(move || {
        send_paced_retrying(addr, &honest_request, 1024, Duration::from_millis(125), 20)
    });

    std::thread::sleep(Duration::from_secs(4));
    let source_request = upload_request(&[text_field("message", b"got in mid-attack")]);
    let source =
        send_paced_retrying(addr, &source_request, 1 << 20, Duration::ZERO, 20).expect("an answer");
    assert_eq!(source.status, RECEIVED, "{}", source.text());
    assert!(
        attack_started.elapsed() < attack_ends,
        "the source got in before the attack ended"
    );

    let honest = honest.join().unwrap().expect("an answer");
    assert_eq!(
        honest.status,
        RECEIVED,
        "the slow upload: {}",
        honest.text()
    );
    assert!(
        attack_started.elapsed() < attack_ends,
        "the slow upload finished under attack"
    );
    for s in squatters {
        s.join().unwrap();
    }
    let mut sizes: Vec<usize> = server
        .sealed_files()
        .iter()
        .map(|f| {
            let (message, files) = open(&std::fs::read(f).unwrap(), &server.key);
            message.map_or(0, |m| m.len()) + files.iter().map(|(_, d)| d.len()).sum::<usize>()
        })
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec!["got in mid-attack".len(), video.len()]);
    let summary = server.app().stats.take_summary().unwrap();
    assert!(summary.contains("evicted="), "{summary}");
}

/// Finding 3. Four uploads of 8 MiB started together under a 20 MiB quota:
/// each holds its room from admission, so two are taken and two get the 503
/// page, and the store never holds more than the quota.
#[test]
fn uploads_in_flight_count_under_the_quota() {
    let server = Server::start(&["--store-quota", "20MiB"]);
    let addr = server.addr;
    let start = Arc::new(Barrier::new(4));
    let uploads: Vec<_> = (0..4u8)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                let data = vec![i; 8 << 20];
                let request = upload_request(&[file_field("big.bin", &data)]);
                start.wait();
                // About 2 s each, so that all four are in flight together.
                send_paced(addr, &request, 64 << 10, Duration::from_millis(15))
                    .map_or(0, |r| r.status)
            })
        })
        .collect();
    let mut statuses: Vec<u16> = uploads.into_iter().map(|u| u.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![RECEIVED, RECEIVED, 503, 503]);
    let stored: u64 = server
        .sealed_files()
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        stored <= 20 << 20,
        "{stored} bytes stored under a 20 MiB quota"
    );
}

/// Finding 3, replies: they count under the quota too.
#[test]
fn replies_count_under_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("pickup.sock");
    let token = sealdrop_format::id::random_hex(32);
    let hash = TokenHash::of(&token).to_string();
    let listen = format!("unix:{}", socket.display());
    let server = Server::start(&[
        "--store-quota",
        "160KiB",
        "--pickup-listen",
        &listen,
        "--pickup-token-sha256",
        &hash,
    ]);
    for i in 0..4 {
        let codename = Codename::generate();
        let reply = file::seal(
            &keys::manifest_block(&codename, RecipientKind::Classic),
            None,
            time::OffsetDateTime::now_utc(),
            &format!("reply {i}"),
        )
        .unwrap();
        let mut request = format!(
            "POST /v1/replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        )
        .into_bytes();
        request.extend_from_slice(&reply);
        assert_eq!(unix_exchange(&socket, &request).status, 201);
    }
    // 80 KiB of replies; a message needs room for its smallest sealed size
    // (64 KiB padded, plus age's header): over 160 KiB.
    let answer = submit(server.addr, &[text_field("message", b"no room")]);
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(server.sealed_files().is_empty());
}

/// Finding 4: the honeypot, and the minimum length of a first message.
#[test]
fn a_filled_honeypot_is_answered_like_success_and_sealed_nowhere() {
    let server = Server::start(&["--honeypot", "true", "--min-message-length", "20"]);
    let page = get(server.addr, "/").text();
    let trap = page
        .split("<div class=\"trap\"")
        .nth(1)
        .expect("the form has the honeypot");
    let trap = &trap[..trap.find("</div>").unwrap()];
    for hidden in [
        "aria-hidden=\"true\"",
        "autocomplete=\"off\"",
        "tabindex=\"-1\"",
        "name=\"sd_trap\"",
    ] {
        assert!(trap.contains(hidden), "{hidden} in {trap}");
    }
    let message = b"a message long enough for the minimum";
    let junk = submit(
        server.addr,
        &[
            text_field("sd_trap", b"http://spam.example"),
            text_field("message", message),
        ],
    );
    assert_eq!(junk.status, RECEIVED);
    assert!(
        element_text(&junk.text(), "codename").is_some(),
        "answered like success"
    );
    assert!(server.sealed_files().is_empty(), "sealed nowhere");
    assert_eq!(
        server.store_names(),
        Vec::<String>::new(),
        "nothing partial either"
    );

    let real = submit(
        server.addr,
        &[text_field("sd_trap", b""), text_field("message", message)],
    );
    assert_eq!(real.status, RECEIVED);
    assert_eq!(server.sealed_files().len(), 1);

    // Too short without a file: the form again, with the message; spaces
    // are not counted. With a file, any message will do.
    let short = submit(
        server.addr,
        &[text_field("message", b"help    me    now     ")],
    );
    assert_eq!(short.status, 400);
    let text = short.text();
    assert!(text.contains("at least 20 characters"), "{text}");
    assert!(
        text.contains("help    me    now"),
        "the message is shown again"
    );
    let with_file = submit(
        server.addr,
        &[
            text_field("message", b"see"),
            file_field("a.pdf", b"%PDF-1.4"),
        ],
    );
    assert_eq!(with_file.status, RECEIVED);
    assert_eq!(server.sealed_files().len(), 2);
    let summary = server.app().stats.take_summary().unwrap();
    assert!(summary.contains("junk=1"), "{summary}");
}

/// Both are off by default: no trap in the form, and a one-word message is
/// taken. A page loaded while the honeypot was on still sends the field:
/// with the honeypot off it is ignored, filled or not.
#[test]
fn the_honeypot_and_the_minimum_length_are_off_by_default() {
    let server = Server::start(&[]);
    assert!(!get(server.addr, "/").text().contains("sd_trap"));
    let answer = submit(server.addr, &[text_field("message", b"hi")]);
    assert_eq!(answer.status, RECEIVED);
    let trap = submit(
        server.addr,
        &[text_field("sd_trap", b"x"), text_field("message", b"hi")],
    );
    assert_eq!(trap.status, RECEIVED);
    assert_eq!(server.sealed_files().len(), 2);
}

/// Finding 5, the 500 explained: a second server started on a store folder
/// in use took the first one's pool files and removed its upload in
/// progress as a crash's leftover (that upload then failed with the 500
/// page). A store folder now takes one server at a time.
#[test]
fn a_second_server_on_a_store_in_use_is_refused_and_the_first_keeps_its_upload() {
    let first = Server::spawn(&[]);
    let addr = first.addr;
    let data = (0..512 * 1024)
        .map(|i| (i % 253) as u8)
        .collect::<Vec<u8>>();
    let request = upload_request(&[file_field("slow.bin", &data)]);
    // About 4 s in flight.
    let upload = std::thread::spawn(move || {
        send_paced(addr, &request, 16 << 10, Duration::from_millis(125)).map(|r| r.status)
    });
    std::thread::sleep(Duration::from_secs(1));
    let recipients = first.dir.path().join("recipients.txt");
    let mut second = std::process::Command::new(server_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--min-free-disk",
            "1MiB",
        ])
        .arg("--recipients")
        .arg(&recipients)
        .arg("--store")
        .arg(&first.store)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let refused = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(100));
        second.try_wait().unwrap()
    });
    if refused.is_none() {
        let _ = second.kill();
    }
    let mut said = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(
        refused.is_some_and(|status| !status.success()),
        "the second server started on a store in use: {said}"
    );
    assert!(said.contains("in use by another sealdrop server"), "{said}");
    assert_eq!(upload.join().unwrap(), Some(RECEIVED));
    let sealed = first.sealed_files();
    assert_eq!(sealed.len(), 1);
    let (_, files) = open(&std::fs::read(&sealed[0]).unwrap(), &first.key);
    assert_eq!(files[0].1, data);
}
