//! What stays in the live server's memory after a request: read as root
//! (what a seizure of a running machine gets) through /proc/PID/maps and
//! /proc/PID/mem, 2 s after the answer. No copy of the message, the file
//! name or the request headers may remain, and at most 1% of the file's
//! content (in 48-byte probes, one per KiB). The server runs as `nobody` and
//! is not dumpable; root reads it anyway. Needs root (CI runs as root).

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{chown, FileExt};
use std::process::{Child, Stdio};
use std::time::Duration;

use aho_corasick::AhoCorasick;

use crate::common::server::*;

/// Every readable byte of process `pid`, regions separated by zeros so that
/// no match spans two of them.
fn memory_of(pid: u32) -> Vec<u8> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mem = fs::File::open(format!("/proc/{pid}/mem"))
        .expect("reading another process's memory needs root");
    let mut out = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let range = fields.next().unwrap();
        let perms = fields.next().unwrap();
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut region = vec![0u8; (end - start) as usize];
        // Some regions (guard pages) cannot be read; what can is kept.
        let mut filled = 0;
        while filled < region.len() {
            match mem.read_at(&mut region[filled..], start + filled as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        out.extend_from_slice(&region[..filled]);
        out.extend_from_slice(&[0u8; 64]);
    }
    out
}

/// Counts the occurrences of each pattern in `memory`.
fn occurrences(memory: &[u8], patterns: &[Vec<u8>]) -> Vec<usize> {
    let finder = AhoCorasick::new(patterns).unwrap();
    let mut counts = vec![0; patterns.len()];
    for m in finder.find_overlapping_iter(memory) {
        counts[m.pattern().as_usize()] += 1;
    }
    counts
}

struct Spawned {
    child: Child,
    addr: std::net::SocketAddr,
    store: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_as_nobody() -> Spawned {
    assert!(
        running_as_root(),
        "this test reads the server's memory as root and needs root (CI runs as root)"
    );
    let (dir, recipients, store) = unprivileged_fixture();
    chown(&store, Some(65534), Some(65534)).unwrap();
    let mut child = unprivileged_server(dir.path())
        .args([
            "serve",
            "--min-free-disk",
            "1MiB",
            "--listen",
            "127.0.0.1:0",
            // A reply a test puts in the folder by hand is indexed at the
            // next pass, as one pushed through another front would be.
            "--touch-interval",
            "1s",
            "--recipients",
        ])
        .arg(&recipients)
        .arg("--store")
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let addr = wait_serving(&mut child);
    Spawned {
        child,
        addr,
        store,
        _dir: dir,
    }
}

/// Deterministic content that cannot occur by chance in the server's memory.
fn content(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn marker(what: &str) -> String {
    format!("{what}-{:016x}", rand::random::<u64>())
}

/// Reads one response (head and `content-length` body) without waiting for
/// the connection to close.
fn read_one_response(s: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed before a whole response");
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if raw.len() >= end + 4 + len {
                return parse_response(&raw).unwrap();
            }
        }
    }
}

/// Submits over one connection with a message, optionally a file, and
/// identifying headers; then reads the server's memory 2 s after the answer
/// and asserts that nothing of the request is left. With `keep_alive` the
/// client asks to keep the connection open and does not close it. The
/// answer must have status `expected` (a refused upload's page shows the
/// message again).
fn nothing_remains_after(
    file_len: Option<usize>,
    message_len: usize,
    keep_alive: bool,
    expected: u16,
) {
    let server = spawn_as_nobody();
    let message_marker = marker("MSGMARK");
    let mut message = message_marker.clone().into_bytes();
    message.extend(
        content(7, message_len.saturating_sub(message.len()))
            .iter()
            .map(|b| b'a' + b % 26),
    );
    let name_marker = marker("FILENAMEMARK");
    let file_name = format!("{name_marker}.pdf");
    let ua_marker = marker("UAMARK");
    let header_marker = marker("HDRMARK");
    let data = file_len.map(|len| content(0x5eed ^ len as u64, len));
    let mut fields = vec![text_field("message", &message)];
    if let Some(data) = &data {
        fields.push(file_field(&file_name, data));
    }
    let body = multipart_body(&fields);
    let extra = format!("User-Agent: Mozilla/5.0 {ua_marker}\r\nX-Custom: {header_marker}\r\n");
    let mut request = post_head("/submit", body.len(), &extra);
    if keep_alive {
        let head = String::from_utf8(request).unwrap();
        request = head
            .replace("Connection: close", "Connection: keep-alive")
            .into_bytes();
    }
    request.extend_from_slice(&body);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&request).unwrap();
    let response = read_one_response(&mut s);
    assert_eq!(response.status, expected);
    if expected != RECEIVED {
        assert!(
            response.text().contains(&message_marker),
            "the refused upload's page shows the message again"
        );
    }
    drop(response);
    drop(request);
    std::thread::sleep(Duration::from_secs(2));

    let mut patterns: Vec<Vec<u8>> = [&message_marker, &name_marker, &ua_marker, &header_marker]
        .iter()
        .map(|m| m.as_bytes().to_vec())
        .collect();
    // The whole message, if long, in 48-byte probes too.
    let probes = |data: &[u8]| -> Vec<Vec<u8>> {
        data.chunks(1024)
            .filter(|c| c.len() >= 48)
            .map(|c| c[..48].to_vec())
            .collect()
    };
    let message_probes = probes(&message);
    let file_probes = data.as_deref().map(probes).unwrap_or_default();
    patterns.extend(message_probes.iter().cloned());
    patterns.extend(file_probes.iter().cloned());
    let memory = memory_of(server.child.id());
    let counts = occurrences(&memory, &patterns);
    let names = ["message marker", "file name", "User-Agent", "custom header"];
    let message_found = counts[4..4 + message_probes.len()]
        .iter()
        .filter(|c| **c > 0)
        .count();
    let file_found = counts[4 + message_probes.len()..]
        .iter()
        .filter(|c| **c > 0)
        .count();
    let report = format!(
        "{} MiB read; {}; message probes found {message_found}/{}; file probes (48 bytes per KiB) found {file_found}/{}",
        memory.len() >> 20,
        names
            .iter()
            .zip(&counts)
            .map(|(name, count)| format!("{name}: {count} copies"))
            .collect::<Vec<_>>()
            .join(", "),
        message_probes.len(),
        file_probes.len()
    );
    eprintln!("{report}");
    drop(s);
    assert!(counts[..4].iter().all(|c| *c == 0), "{report}");
    assert_eq!(message_found, 0, "{report}");
    assert!(
        file_found * 100 <= file_probes.len(),
        "more than 1% of the file remains: {report}"
    );
}

#[test]
fn nothing_of_a_message_only_submission_remains_in_memory() {
    nothing_remains_after(None, 4096, false, RECEIVED);
}

#[test]
fn nothing_of_a_small_file_submission_remains_in_memory() {
    nothing_remains_after(Some(400 * 1000), 200, false, RECEIVED);
}

#[test]
fn nothing_of_a_large_file_submission_remains_in_memory() {
    nothing_remains_after(Some(24 << 20), 200, false, RECEIVED);
}

/// A client that keeps its connection open after the answer (as browsers
/// do) must not keep the finished request's bytes in the server's buffers.
#[test]
fn nothing_of_a_submission_remains_on_a_connection_kept_open() {
    nothing_remains_after(Some(100 * 1000), 2000, true, RECEIVED);
}

/// A message over the limit (1 MiB by default) is refused with its first
/// 64 KiB shown again in the page; once that page is sent, neither the
/// message nor the page is left in memory.
#[test]
fn nothing_of_a_refused_submission_shown_again_remains_in_memory() {
    nothing_remains_after(Some(50 * 1000), (1 << 20) + 100_000, false, 413);
}

/// A first submission shows a codename; the source then reads a reply with
/// it. Afterwards no form of the codename (any digits, any spacing, half of
/// it), no key derived from it, no thread id and no reply text is left in
/// the server's memory.
#[test]
fn nothing_of_a_codename_or_its_replies_remains_in_memory() {
    use crate::common::codename_needles;
    use sealdrop_format::keys::RecipientKind;
    use sealdrop_format::reply::codename::{ARABIC_INDIC, PERSIAN, WESTERN};
    use sealdrop_format::reply::{file, keys, Codename};

    let server = spawn_as_nobody();
    let body = multipart_body(&[text_field("message", b"a tip")]);
    let mut request = post_head("/ar/submit", body.len(), "");
    request.extend_from_slice(&body);
    let answer = exchange(server.addr, &request);
    assert_eq!(answer.status, RECEIVED);
    let page = answer.text();
    let at = page.find("id=\"codename\"").expect("a codename");
    let shown = &page[at + page[at..].find('>').unwrap() + 1..];
    let shown = &shown[..shown.find('<').unwrap()];
    let codename = Codename::parse(shown).unwrap();
    drop(answer);

    let reply_marker = marker("REPLYMARK");
    let reply = file::seal(
        &keys::manifest_block(&codename, RecipientKind::Classic),
        None,
        time::OffsetDateTime::now_utc(),
        &format!("{reply_marker} please send page two"),
    )
    .unwrap();
    let stored = server
        .store
        .join("replies")
        .join("0123456789abcdef0123456789abcdef.reply");
    fs::write(&stored, &reply).unwrap();
    chown(&stored, Some(65534), Some(65534)).unwrap();
    // Indexed at the next pass (every second here).
    std::thread::sleep(Duration::from_millis(2500));
    let form = format!(
        "codename={}",
        shown
            .replace(' ', "+")
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b == b'+' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let login = format!(
        "POST /ar/replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let page = exchange(server.addr, login.as_bytes());
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&reply_marker), "the reply is shown");
    drop(page);
    std::thread::sleep(Duration::from_secs(2));

    // Every whole form, both halves of its digits, and the grouped form's
    // first half in each script, as typed or shown.
    let mut patterns = codename_needles(&codename);
    for (script, digits) in [
        ("Western", WESTERN),
        ("Arabic-Indic", ARABIC_INDIC),
        ("Persian", PERSIAN),
    ] {
        let half: String = codename.grouped_in(digits).chars().take(19).collect();
        patterns.push((format!("half a codename ({script})"), half.into_bytes()));
    }
    let percent: String = shown
        .bytes()
        .take(24)
        .map(|b| format!("%{b:02X}"))
        .collect();
    patterns.push((
        "the codename as the form sent it".into(),
        percent.into_bytes(),
    ));
    patterns.push((
        "the thread id".into(),
        keys::thread(&codename).to_string().into_bytes(),
    ));
    patterns.push((
        "the thread id's bytes".into(),
        keys::thread(&codename).0.to_vec(),
    ));
    patterns.push(("the reply key".into(), {
        use age::secrecy::ExposeSecret;
        keys::x25519_identity(&codename)
            .to_string()
            .expose_secret()
            .as_bytes()
            .to_vec()
    }));
    patterns.push(("the reply text".into(), reply_marker.clone().into_bytes()));
    // The raw secrets of the derivation: HKDF's pseudorandom key and the
    // X25519 reply key's 32 bytes.
    let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(keys::SALT), codename.ascii());
    patterns.push(("HKDF's pseudorandom key".into(), prk.to_vec()));
    let secret = {
        use age::secrecy::ExposeSecret;
        let text = keys::x25519_identity(&codename).to_string();
        let (_, data) = bech32::decode(text.expose_secret()).unwrap();
        data
    };
    patterns.push(("the X25519 reply key's bytes".into(), secret));
    let memory = memory_of(server.child.id());
    let needles: Vec<Vec<u8>> = patterns.iter().map(|(_, p)| p.clone()).collect();
    let counts = occurrences(&memory, &needles);
    let report = patterns
        .iter()
        .zip(&counts)
        .map(|((name, _), count)| format!("{name}: {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!("{} MiB read; {report}", memory.len() >> 20);
    assert!(counts.iter().all(|c| *c == 0), "{report}");
}
