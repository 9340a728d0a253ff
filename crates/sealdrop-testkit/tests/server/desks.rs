//! Desks end to end: the form offers them, a submission is sealed only to
//! its desk's keys (stock age with the other desk's identity cannot open
//! it) and lands in that desk's folder, and a pickup token of one desk can
//! neither list, fetch nor delete another desk's files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::*;
use sealdrop_format::pickup::new_token;

struct Newsroom {
    server: Server,
    socket: PathBuf,
    investigations: Key,
    politics: Key,
    /// Tokens: investigations only, politics only, every desk.
    tokens: [String; 3],
    keys_dir: tempfile::TempDir,
}

fn start() -> Newsroom {
    let keys_dir = tempfile::tempdir().unwrap();
    let (investigations, politics) = (Key::new(), Key::new());
    let mut desk_args = Vec::new();
    for (name, key) in [("investigations", &investigations), ("politics", &politics)] {
        let file = keys_dir.path().join(format!("{name}.txt"));
        fs::write(&file, format!("{}\n", key.recipient)).unwrap();
        key.write_identity(&keys_dir.path().join(format!("{name}.key")));
        desk_args.push(format!("{name}={}", file.display()));
    }
    let (t_inv, h_inv) = new_token();
    let (t_pol, h_pol) = new_token();
    let (t_all, h_all) = new_token();
    let socket = keys_dir.path().join("pickup.sock");
    let listen = format!("unix:{}", socket.display());
    let hashes = [
        format!("investigations:{h_inv}"),
        format!("politics:{h_pol}"),
        h_all.to_string(),
    ];
    let mut args: Vec<&str> = vec!["--desk", &desk_args[0], "--desk", &desk_args[1]];
    args.extend(["--pickup-listen", &listen]);
    for hash in &hashes {
        args.extend(["--pickup-token-sha256", hash]);
    }
    let server = Server::start(&args);
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    Newsroom {
        server,
        socket,
        investigations,
        politics,
        tokens: [t_inv, t_pol, t_all],
        keys_dir,
    }
}

fn api(n: &Newsroom, method: &str, path: &str, token: &str, body: &str) -> Response {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    unix_exchange(&n.socket, request.as_bytes())
}

fn listed(n: &Newsroom, token: &str) -> Vec<(String, String)> {
    let listing = api(n, "GET", "/v1/submissions", token, "");
    assert_eq!(listing.status, 200);
    let mut ids: Vec<(String, String)> = parse_listing(&listing.body);
    ids.sort();
    ids
}

fn sealed_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect();
    files.sort();
    files
}

/// Stock age with one identity: the plaintext ZIP, or its refusal.
fn stock_age(identity: &Path, file: &Path) -> std::process::Output {
    run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(file))
}

#[test]
fn each_desk_gets_only_what_was_sent_to_it() {
    let n = start();
    // The form offers both desks, the first checked.
    let page = get(n.server.addr, "/").text();
    assert!(
        page.contains(r#"<input type="radio" name="desk" value="investigations" checked>"#)
            && page.contains(r#"<input type="radio" name="desk" value="politics">"#)
            && page.contains("Who should read this?"),
        "{page}"
    );
    assert!(
        page.find("name=\"desk\"").unwrap() < page.find("name=\"message\"").unwrap(),
        "the desk comes before the message, so it is known before any content"
    );

    let to_politics = submit(
        n.server.addr,
        &[
            text_field("desk", b"politics"),
            text_field("message", b"for the politics desk"),
        ],
    );
    assert_eq!(to_politics.status, RECEIVED, "{}", to_politics.text());
    let default = submit(
        n.server.addr,
        &[text_field("message", b"for whoever reads first")],
    );
    assert_eq!(default.status, RECEIVED);

    let desks = n.server.store.join("desks");
    let politics_files = sealed_in(&desks.join("politics"));
    let investigations_files = sealed_in(&desks.join("investigations"));
    assert_eq!((politics_files.len(), investigations_files.len()), (1, 1));
    assert!(
        sealed_in(&n.server.store).is_empty(),
        "nothing in the store's root"
    );
    // Sealed to the politics desk's key only.
    let (message, _) = open(&fs::read(&politics_files[0]).unwrap(), &n.politics);
    assert_eq!(message.as_deref(), Some(&b"for the politics desk"[..]));
    let (message, _) = open(
        &fs::read(&investigations_files[0]).unwrap(),
        &n.investigations,
    );
    assert_eq!(message.as_deref(), Some(&b"for whoever reads first"[..]));
    let keys = n.keys_dir.path();
    assert_success(
        &stock_age(&keys.join("politics.key"), &politics_files[0]),
        "stock age, politics key, politics file",
    );
    let refused = stock_age(&keys.join("investigations.key"), &politics_files[0]);
    assert!(
        !refused.status.success(),
        "the other desk's key opens nothing"
    );
    let refused = stock_age(&keys.join("politics.key"), &investigations_files[0]);
    assert!(
        !refused.status.success(),
        "the other desk's key opens nothing"
    );

    // Out of order, or a desk that does not exist: refused, nothing stored.
    let late = submit(
        n.server.addr,
        &[text_field("message", b"m"), text_field("desk", b"politics")],
    );
    assert_eq!(late.status, 400);
    let unknown = submit(
        n.server.addr,
        &[text_field("desk", b"sports"), text_field("message", b"m")],
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(sealed_in(&desks.join("politics")).len(), 1);
    assert_eq!(sealed_in(&desks.join("investigations")).len(), 1);

    // A refused upload's form keeps the chosen desk.
    let too_long = vec![b'x'; 2 << 20];
    let refused = submit(
        n.server.addr,
        &[
            text_field("desk", b"politics"),
            text_field("message", &too_long),
        ],
    );
    assert_eq!(refused.status, 413);
    assert!(
        refused
            .text()
            .contains(r#"<input type="radio" name="desk" value="politics" checked>"#),
        "{}",
        refused.text()
    );

    // Pickup: each desk's token sees its own desk only; a bare token both.
    let [investigations_token, politics_token, every_desk_token] = &n.tokens;
    let politics_listed = listed(&n, politics_token);
    let investigations_listed = listed(&n, investigations_token);
    assert_eq!((politics_listed.len(), investigations_listed.len()), (1, 1));
    assert_eq!(listed(&n, every_desk_token).len(), 2);
    let (politics_id, politics_hash) = &politics_listed[0];
    // The investigations token can neither fetch nor delete it.
    let fetch = api(
        &n,
        "GET",
        &format!("/v1/submissions/{politics_id}"),
        investigations_token,
        "",
    );
    assert_eq!(fetch.status, 404);
    let ack = api(
        &n,
        "POST",
        &format!("/v1/submissions/{politics_id}/ack"),
        investigations_token,
        &format!("{{\"sha256\":\"{politics_hash}\"}}"),
    );
    assert_eq!(ack.status, 404);
    assert_eq!(sealed_in(&desks.join("politics")).len(), 1, "not deleted");
    // Its own token can.
    let fetch = api(
        &n,
        "GET",
        &format!("/v1/submissions/{politics_id}"),
        politics_token,
        "",
    );
    assert_eq!(fetch.status, 200);
    assert_eq!(fetch.body, fs::read(&politics_files[0]).unwrap());
    let ack = api(
        &n,
        "POST",
        &format!("/v1/submissions/{politics_id}/ack"),
        politics_token,
        &format!("{{\"sha256\":\"{politics_hash}\"}}"),
    );
    assert_eq!(ack.status, 204);
    assert!(sealed_in(&desks.join("politics")).is_empty());
}

#[test]
fn a_desk_scope_must_name_a_desk_and_desks_refuse_mixed_key_kinds() {
    let (_, hash) = new_token();
    let out = Command::new(server_bin())
        .args(["serve", "--store", "/nonexistent", "--desk", "a=/a.txt"])
        .args(["--pickup-token-sha256", &format!("b:{hash}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("there is no desk \"b\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One desk post-quantum, one classic: a codename's reply keys are of one
    // kind, made before the desk is known, so the server refuses to start.
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "--pq", "-o"])
        .arg(dir.path().join("pq.key")));
    assert_success(&out, "keygen --pq");
    let pq = dir.path().join("pq.txt");
    fs::write(&pq, &out.stdout).unwrap();
    let classic = dir.path().join("classic.txt");
    fs::write(&classic, format!("{}\n", Key::new().recipient)).unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new(server_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(&store)
        .arg("--desk")
        .arg(format!("secure={}", pq.display()))
        .arg("--desk")
        .arg(format!("general={}", classic.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mix post-quantum and classic keys"),
        "{stderr}"
    );
}

/// In Chromium (JavaScript off): the desk choice passes axe in English and
/// Arabic, and a source who picks the second desk reaches it.
#[test]
fn a_browser_sends_to_the_desk_it_chose() {
    let keys_dir = tempfile::tempdir().unwrap();
    let (first, second) = (Key::new(), Key::new());
    let config = keys_dir.path().join("sealdrop.toml");
    let mut text = String::new();
    for (name, key, arabic) in [
        ("investigations", &first, "التحقيقات"),
        ("politics", &second, "السياسة"),
    ] {
        let file = keys_dir.path().join(format!("{name}.txt"));
        fs::write(&file, format!("{}\n", key.recipient)).unwrap();
        text.push_str(&format!(
            "[[desk]]\nname = \"{name}\"\nrecipients = \"{}\"\ntitle = {{ en = \"The {name} desk\", ar = \"{arabic}\" }}\n",
            file.display()
        ));
    }
    fs::write(&config, text).unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let driver = crate::common::webdriver::Driver::start();
    let axe = crate::common::axe::source();
    let mut violations = Vec::new();
    for tag in ["en", "ar"] {
        driver.goto(&format!("http://{}/{tag}/", server.addr));
        violations.extend(driver.accessibility_violations(&axe));
    }
    assert!(violations.is_empty(), "{violations:?}");
    let page = get(server.addr, "/ar/").text();
    assert!(
        page.contains("السياسة") && page.contains("من يجب أن يقرأ هذا؟"),
        "{page}"
    );
    driver.goto(&format!("http://{}/", server.addr));
    driver.click(&driver.find("input[name=desk][value=politics]"));
    driver.send_keys(&driver.find("#message"), "chosen in a browser");
    driver.click(&driver.find("button[type=submit]"));
    crate::browser::wait_for(&driver, "#codename");
    let politics = sealed_in(&server.store.join("desks/politics"));
    assert_eq!(politics.len(), 1);
    let (message, _) = open(&fs::read(&politics[0]).unwrap(), &second);
    assert_eq!(message.as_deref(), Some(&b"chosen in a browser"[..]));
    assert!(sealed_in(&server.store.join("desks/investigations")).is_empty());
}
