//! Through real Tor: the server behind the onion services of `deploy/torrc`
//! on a private Tor network (`common::tornet`), reached only by onion
//! address through a Tor client's SOCKS port or torsocks.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::marionette::Firefox;
use crate::common::server::*;
use crate::common::tornet::{network, TorNet};
use crate::common::*;
use sealdrop_format::pickup::new_token;

/// How long an onion service may take to become reachable once its server
/// listens (descriptor published, introduction points set up).
const REACHABLE_BOUND: Duration = Duration::from_secs(180);

/// The server on the network's sockets, with the pickup token's file.
struct OnionDrop {
    server: Server,
    token_file: PathBuf,
}

fn start(net: &TorNet, env: &[(&str, &str)]) -> OnionDrop {
    let (token, hash) = new_token();
    let hash = hash.to_string();
    for socket in [&net.source_socket, &net.pickup_socket] {
        let _ = fs::remove_file(socket);
    }
    let source = format!("unix:{}", net.source_socket.display());
    let pickup = format!("unix:{}", net.pickup_socket.display());
    let server = Server::spawn_custom(
        None,
        &[
            "--listen",
            &source,
            "--pickup-listen",
            &pickup,
            "--pickup-token-sha256",
            &hash,
        ],
        env,
    );
    let start = Instant::now();
    while !(net.source_socket.exists() && net.pickup_socket.exists()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "sockets not made"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let token_file = server.dir.path().join("pickup.token");
    fs::write(&token_file, format!("{token}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
    OnionDrop { server, token_file }
}

/// curl through a Tor client's SOCKS port, the host name resolved by Tor.
fn curl(net: &TorNet, editor: bool, args: &[&str]) -> Output {
    let socks = if editor {
        net.editor_socks
    } else {
        net.source_socks
    };
    run(Command::new("curl")
        .args(["-sS", "--max-time", "120", "--socks5-hostname"])
        .arg(socks.to_string())
        .args(args))
}

/// Waits until the source service answers `GET /` through Tor.
fn wait_reachable(net: &TorNet) {
    let start = Instant::now();
    let url = format!("http://{}/", net.source_onion);
    loop {
        let out = curl(net, false, &["-o", "/dev/null", "-w", "%{http_code}", &url]);
        if out.stdout == b"200" {
            return;
        }
        assert!(
            start.elapsed() < REACHABLE_BOUND,
            "the source onion service did not answer within {REACHABLE_BOUND:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            net.log_tails()
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `sealdrop pickup` through torsocks and the editor's (or a source's) client.
fn pickup_over_tor(net: &TorNet, d: &OnionDrop, editor: bool, inbox: &Path) -> Output {
    run(Command::new("torsocks")
        .env("TORSOCKS_CONF_FILE", net.torsocks_conf(editor))
        .arg(server_bin())
        .args(["pickup", "--from"])
        .arg(format!("http://{}", net.pickup_onion))
        .arg("--token-file")
        .arg(&d.token_file)
        .arg("--to")
        .arg(inbox))
}

#[test]
fn a_source_submits_through_tor_and_only_the_editors_key_reaches_pickup() {
    let _cores = cores_to_myself();
    let net = network();
    let _turn = net.turn();
    let d = start(net, &[("RUST_LOG", "trace")]);
    wait_reachable(net);
    let work = d.server.dir.path().join("work");
    fs::create_dir(&work).unwrap();

    // A source submits a message and two files to the .onion address.
    let marker = format!("{:016x}", rand::random::<u64>());
    let document: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let document_path = work.join("report.pdf");
    fs::write(&document_path, &document).unwrap();
    let notes_path = work.join("notes.txt");
    fs::write(&notes_path, format!("notes {marker}-file")).unwrap();
    let page = work.join("answer.html");
    let out = curl(
        net,
        false,
        &[
            "-o",
            page.to_str().unwrap(),
            "-w",
            "%{http_code}",
            "-F",
            &format!("message=tip over tor {marker}-message"),
            "-F",
            &format!(
                "attachment=@{};filename=report.pdf",
                document_path.display()
            ),
            "-F",
            &format!(
                "attachment=@{};filename=notes-{marker}.txt",
                notes_path.display()
            ),
            &format!("http://{}/submit", net.source_onion),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        RECEIVED.to_string(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fs::read_to_string(&page)
        .unwrap()
        .contains("id=\"codename\""));

    // Without the editor's client-authorization key the pickup service
    // cannot even be reached: no connection, so no token is ever sent.
    let denied = curl(
        net,
        false,
        &[
            "-o",
            "/dev/null",
            &format!("http://{}/v1/submissions", net.pickup_onion),
        ],
    );
    assert_eq!(
        denied.status.code(),
        Some(97),
        "curl without the key: {}",
        String::from_utf8_lossy(&denied.stderr)
    );
    let refused_inbox = work.join("refused");
    let refused = pickup_over_tor(net, &d, false, &refused_inbox);
    assert!(
        !refused.status.success(),
        "pickup without the key succeeded"
    );
    assert!(store_entries(&refused_inbox)
        .iter()
        .all(|n| !n.ends_with(".age")));
    assert_eq!(d.server.sealed_files().len(), 1, "nothing left the server");

    // With it, sealdrop pickup over torsocks moves everything off.
    let inbox = work.join("inbox");
    let picked = pickup_over_tor(net, &d, true, &inbox);
    assert_success(
        &picked,
        "sealdrop pickup over torsocks with the editor's key",
    );
    assert!(
        d.server.sealed_files().is_empty(),
        "the server still holds files"
    );
    let opened = work.join("opened");
    decrypt(&d, &inbox, &opened);
    let submissions = opened_submissions(&opened);
    assert_eq!(submissions.len(), 1);
    let folder = &submissions[0];
    assert_eq!(
        fs::read_to_string(folder.join("message.txt")).unwrap(),
        format!("tip over tor {marker}-message")
    );
    assert_eq!(
        fs::read(folder.join("attachments/report.pdf")).unwrap(),
        document
    );
    assert_eq!(
        fs::read_to_string(folder.join(format!("attachments/notes-{marker}.txt"))).unwrap(),
        format!("notes {marker}-file")
    );

    // With Tor in front, the server's trace output and its store still hold
    // nothing that names the source or her submission.
    let output = d.server.output_text();
    for needle in [
        marker.as_str(),
        net.source_onion.as_str(),
        net.pickup_onion.as_str(),
        "curl",
        "/submit",
        "report.pdf",
    ] {
        assert!(
            !output.contains(needle),
            "{needle:?} in the server's output"
        );
    }
    for entry in walk(&d.server.store) {
        let bytes = fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "marker in {entry:?}"
        );
    }
}

/// `sealdrop-open decrypt` of what pickup moved into `inbox`.
fn decrypt(d: &OnionDrop, inbox: &Path, opened: &Path) {
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&d.server.identity)
        .arg("-o")
        .arg(opened)
        .arg(inbox));
    assert_success(&out, "sealdrop-open decrypt");
}

/// `sealdrop` through torsocks and the editor's client.
fn editor_over_tor(net: &TorNet, args: &[&str], paths: &[&Path]) -> Output {
    run(Command::new("torsocks")
        .env("TORSOCKS_CONF_FILE", net.torsocks_conf(true))
        .arg(server_bin())
        .args(args)
        .args(paths))
}

/// The text of the element with `id`, and the first hidden `token` value.
fn element_text(page: &str, id: &str) -> String {
    let start = page.find(&format!("id=\"{id}\"")).expect(id);
    let open = start + page[start..].find('>').unwrap() + 1;
    page[open..open + page[open..].find('<').unwrap()].to_owned()
}

fn token_in(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a token field") + 20;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[test]
fn the_reply_loop_runs_over_the_onion_addresses() {
    let _cores = cores_to_myself();
    let net = network();
    let _turn = net.turn();
    let d = start(net, &[]);
    wait_reachable(net);
    let work = d.server.dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let onion = |path: &str| format!("http://{}{path}", net.source_onion);
    let marker = format!("{:016x}", rand::random::<u64>());

    // A first submission: the answer carries the codename.
    let page = work.join("received.html");
    let out = curl(
        net,
        false,
        &[
            "-o",
            page.to_str().unwrap(),
            "-F",
            &format!("message=first {marker}"),
            &onion("/en/submit"),
        ],
    );
    assert_success(&out, "submit over Tor");
    let codename = element_text(&fs::read_to_string(&page).unwrap(), "codename");

    // The editor picks it up, answers it, and pushes the reply, all over Tor.
    let (inbox, opened, outbox) = (work.join("inbox"), work.join("opened"), work.join("outbox"));
    let from = format!("http://{}", net.pickup_onion);
    let out = pickup_over_tor(net, &d, true, &inbox);
    assert_success(&out, "pickup over Tor");
    decrypt(&d, &inbox, &opened);
    let submission = opened_submissions(&opened).remove(0);
    let answer = work.join("answer.txt");
    fs::write(&answer, format!("We read it. Page 2? {marker}-reply")).unwrap();
    let out = run(Command::new(bin("sealdrop-open"))
        .arg("reply")
        .arg("--to")
        .arg(&submission)
        .arg("--message")
        .arg(&answer)
        .arg("-o")
        .arg(&outbox));
    assert_success(&out, "sealdrop-open reply");
    let out = editor_over_tor(
        net,
        &["push-replies", "--to", &from, "--token-file"],
        &[&d.token_file, &outbox],
    );
    assert_success(&out, "push-replies over Tor");

    // The source logs in with her codename and reads it.
    let replies_page = work.join("replies.html");
    let login_over_tor = || {
        let out = curl(
            net,
            false,
            &[
                "-o",
                replies_page.to_str().unwrap(),
                "--data-urlencode",
                &format!("codename={codename}"),
                &onion("/en/replies"),
            ],
        );
        assert_success(&out, "login over Tor");
        fs::read_to_string(&replies_page).unwrap()
    };
    let replies = login_over_tor();
    assert!(replies.contains(&format!("{marker}-reply")), "{replies}");

    // A follow-up with a file lands in the same thread.
    let token = token_in(&replies);
    let evidence = work.join("page2.txt");
    fs::write(&evidence, format!("page 2 {marker}")).unwrap();
    let out = curl(
        net,
        false,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-F",
            &format!("token={token}"),
            "-F",
            "message=here it is",
            "-F",
            &format!("attachment=@{}", evidence.display()),
            &onion("/en/replies/followup"),
        ],
    );
    assert!(
        out.stdout == b"200" || out.stdout == b"303",
        "follow-up: {:?} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pickup_over_tor(net, &d, true, &inbox);
    assert_success(&out, "second pickup over Tor");
    decrypt(&d, &inbox, &opened);
    let thread_of = |folder: &Path| {
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(folder.join("manifest.json")).unwrap()).unwrap();
        manifest["reply"]["thread"].as_str().unwrap().to_owned()
    };
    let all = opened_submissions(&opened);
    assert_eq!(all.len(), 2);
    assert_eq!(thread_of(&all[0]), thread_of(&all[1]));

    // She deletes the replies: they are gone from her page at once (the
    // files go at the next maintenance pass: meet.rs).
    let out = curl(
        net,
        false,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-urlencode",
            &format!("token={token}"),
            &onion("/en/replies/delete"),
        ],
    );
    assert_eq!(
        out.stdout,
        b"200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replies = login_over_tor();
    assert!(!replies.contains(&format!("{marker}-reply")), "{replies}");
}

#[test]
fn firefox_esr_without_javascript_submits_the_persian_form_over_tor() {
    let _cores = cores_to_myself();
    let net = network();
    let _turn = net.turn();
    let d = start(net, &[]);
    wait_reachable(net);
    let work = d.server.dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let marker = format!("{:016x}", rand::random::<u64>());
    let photo: Vec<u8> = (0..40_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let photo_path = work.join("عکس.jpg");
    fs::write(&photo_path, &photo).unwrap();
    let message = format!("سلام، این سند را ببینید {marker}");

    let mut firefox = Firefox::start(net.source_socks);
    firefox.goto(&format!("http://{}/fa/", net.source_onion));
    let field = firefox.find("#message");
    firefox.send_keys(&field, &message);
    let input = firefox.find("#attachment");
    firefox.choose_file(&input, &photo_path);
    let button = firefox.find("button[type=submit]");
    firefox.click(&button);
    let start = Instant::now();
    let codename = loop {
        if firefox.page_source().contains("id=\"codename\"") {
            let element = firefox.find("#codename");
            break firefox.text(&element);
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no received page: {}",
            firefox.page_source()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    drop(firefox);
    assert!(
        sealdrop_format::reply::Codename::parse(&codename).is_ok(),
        "codename shown: {codename:?}"
    );

    let sealed = d.server.sealed_files();
    assert_eq!(sealed.len(), 1);
    let (got_message, files) = open(&fs::read(&sealed[0]).unwrap(), &d.server.key);
    assert_eq!(got_message.unwrap(), message.as_bytes());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "attachments/عکس.jpg");
    assert_eq!(files[0].1, photo);
}

/// Not a check: keeps the private Tor network up, for a person trying a
/// deployment without the public network and for bench/bench.py
/// (`scripts/tor-testnet.sh` runs it). Prints one line `TORNET {json}` with
/// the addresses, then waits until its standard input closes.
#[test]
#[ignore = "keeps a Tor network up until stdin closes: run it with scripts/tor-testnet.sh"]
fn private_tor_network_for_people_and_benchmarks() {
    use std::io::Read;
    let net = network();
    let info = serde_json::json!({
        "source_onion": net.source_onion,
        "pickup_onion": net.pickup_onion,
        "source_socket": net.source_socket,
        "pickup_socket": net.pickup_socket,
        "source_socks": net.source_socks.to_string(),
        "editor_socks": net.editor_socks.to_string(),
        "torsocks_editor": net.torsocks_conf(true),
        "started_in_secs": net.started_in.as_secs_f64(),
        "dir": net.dir,
    });
    println!("TORNET {info}");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
