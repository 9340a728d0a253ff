//! Several fronts on one replicated object store (docs/SCALE-OUT.md): real
//! `sealdrop serve` processes on a three-node Garage cluster on loopback,
//! with nodes and fronts killed by SIGKILL while sources upload.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::garage::{self, Garage};
use crate::common::server::*;
use crate::common::*;
use sealdrop_format::pickup::new_token;

const STORE: &str = "s3://sealdrop/newsroom";

/// A front: a `sealdrop serve` process whose store is the bucket, through
/// Garage node `node`, spooling in a folder of its own.
struct Front {
    server: Server,
    spool: PathBuf,
}

struct Newsroom {
    key: Key,
    recipients: String,
    token: String,
    token_hash: String,
    dir: tempfile::TempDir,
}

impl Newsroom {
    fn new() -> Newsroom {
        let key = Key::new();
        let recipients = format!("{}\n", key.recipient);
        let (token, hash) = new_token();
        Newsroom {
            key,
            recipients,
            token,
            token_hash: hash.to_string(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts front `name` on Garage node `node` (its spool is kept across
    /// restarts of the same name); the first front serves pickup.
    fn front(&self, garage: &Garage, node: usize, name: &str) -> Front {
        self.front_with(garage, node, name, &[])
    }

    /// `front`, with more flags of `sealdrop serve`.
    fn front_with(&self, garage: &Garage, node: usize, name: &str, extra: &[&str]) -> Front {
        let spool = self.dir.path().join(format!("spool-{name}"));
        private_dir(&spool);
        let socket = self.pickup_socket(name);
        let _ = fs::remove_file(&socket);
        let listen = format!("unix:{}", socket.display());
        let spool_arg = spool.to_str().unwrap().to_owned();
        let mut args = vec![
            "--store",
            STORE,
            "--spool",
            &spool_arg,
            "--pickup-listen",
            &listen,
            "--pickup-token-sha256",
            &self.token_hash,
        ];
        args.extend_from_slice(extra);
        let env = garage.env(node);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = Server::spawn_custom(Some(&self.recipients), &args, &env);
        Front { server, spool }
    }

    /// `sealdrop status --json` for `front` (the store is the bucket, counted
    /// from its listing through Garage node `node`, as an admin runs it
    /// with the unit's environment).
    fn status(&self, garage: &Garage, node: usize, front: &Front, name: &str) -> serde_json::Value {
        let recipients = self.dir.path().join("status-recipients.txt");
        fs::write(&recipients, &self.recipients).unwrap();
        let config = self.dir.path().join(format!("status-{name}.toml"));
        fs::write(
            &config,
            format!(
                "recipients = {:?}\nstore = {STORE:?}\nspool = {:?}\nlisten = [\"{}\"]\n",
                recipients, front.spool, front.server.addr
            ),
        )
        .unwrap();
        let out = Command::new(server_bin())
            .args(["status", "--json", "--live", "--config"])
            .arg(&config)
            .envs(garage.env(node))
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    fn pickup_socket(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("pickup-{name}.sock"))
    }

    /// The submissions waiting in the bucket, as a front's pickup API lists them.
    fn listed(&self, front: &str) -> Vec<String> {
        self.listed_with_hashes(front)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// `listed`, with the SHA-256 of each sealed file.
    fn listed_with_hashes(&self, front: &str) -> Vec<(String, String)> {
        let request = format!(
            "GET /v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
            self.token
        );
        let answer = unix_exchange(&self.pickup_socket(front), request.as_bytes());
        assert_eq!(answer.status, 200, "{}", answer.text());
        parse_listing(&answer.body)
    }

    /// Picks everything up through `front` with `sealdrop pickup` (which
    /// checks each file's hash before the server deletes it) and decrypts
    /// it: the attachments' contents, sorted.
    fn pick_up(&self, front: &str) -> Vec<Vec<u8>> {
        let token_file = self.dir.path().join("pickup.token");
        fs::write(&token_file, format!("{}\n", self.token)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
        let inbox = self
            .dir
            .path()
            .join(format!("inbox-{}", sealdrop_format::id::random_hex(4)));
        let out = run(Command::new(server_bin())
            .args(["pickup", "--from"])
            .arg(format!("unix:{}", self.pickup_socket(front).display()))
            .arg("--token-file")
            .arg(&token_file)
            .arg("--to")
            .arg(&inbox));
        assert_success(&out, "sealdrop pickup");
        let mut contents: Vec<Vec<u8>> = fs::read_dir(&inbox)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "age"))
            .map(|p| open(&fs::read(p).unwrap(), &self.key).1.remove(0).1)
            .collect();
        contents.sort();
        contents
    }
}

/// A file of `len` bytes that says which upload it is.
fn upload_body(i: usize, len: usize) -> Vec<u8> {
    let line = format!("upload {i} of the scale-out test\n");
    line.repeat(len / line.len() + 1).into_bytes()[..len].to_vec()
}

fn submit_file(addr: std::net::SocketAddr, data: &[u8]) -> u16 {
    submit(
        addr,
        &[text_field("message", b"tip"), file_field("doc.txt", data)],
    )
    .status
}

/// Spool files other than the empty pool files.
fn spool_partials(spool: &Path) -> Vec<String> {
    fs::read_dir(spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".incoming-"))
        .collect()
}

/// Unfinished multipart uploads in the bucket, as Garage counts them (it
/// prints the line only when there are some).
fn unfinished_uploads(garage: &Garage) -> u64 {
    let info = garage.cli(0, &["bucket", "info", garage::BUCKET]);
    assert!(
        info.contains("Objects:"),
        "not a bucket's information:\n{info}"
    );
    info.lines()
        .find(|l| l.starts_with("Unfinished uploads:") && l.contains("multipart"))
        .map(|l| {
            l.split(':')
                .nth(1)
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("unreadable count in {l:?}"))
        })
        .unwrap_or(0)
}

/// Stops every node but `alone`, restarts it in Garage's degraded mode
/// (reads from one node), reads each listed object through it, then brings
/// the cluster back as it was. The ids it could not read; a read that
/// returns other bytes than the listing's hash fails the test at once.
fn node_alone_serves(
    garage: &mut Garage,
    alone: usize,
    listing: &[(String, String)],
) -> Vec<String> {
    use sha2::{Digest, Sha256};
    for i in 0..3 {
        garage.kill(i);
    }
    garage.set_consistency(alone, "degraded");
    garage.restart(&[alone]);
    let prefix = STORE.strip_prefix("s3://sealdrop/").unwrap();
    let mut unreadable = Vec::new();
    for (id, sha256) in listing {
        match garage.get_object(alone, &format!("{prefix}/{id}.age")) {
            Ok(bytes) => assert_eq!(
                &sealdrop_format::hex::encode(&Sha256::digest(&bytes)),
                sha256,
                "node {alone} serves other bytes for {id}"
            ),
            Err(answer) => {
                eprintln!("{id}: {answer}");
                unreadable.push(id.clone());
            }
        }
    }
    garage.kill(alone);
    garage.set_consistency(alone, "consistent");
    garage.restart(&[0, 1, 2]);
    unreadable
}

fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn three_fronts_share_the_store_and_a_node_killed_mid_run_loses_nothing() {
    let _cores = cores_to_myself();
    let mut garage = Garage::start();
    let newsroom = Newsroom::new();
    // Fronts use nodes 0 and 1 as their endpoints; node 2 is the one that dies.
    let fronts = Arc::new([
        newsroom.front(&garage, 0, "a"),
        newsroom.front(&garage, 1, "b"),
        newsroom.front(&garage, 0, "c"),
    ]);
    // Sizes cross the single-PUT limit: 20 MiB goes as a multipart upload.
    let sizes = [
        1_000,
        300_000,
        20 * 1024 * 1024,
        5_000,
        9 * 1024 * 1024,
        70_000,
        2_000_000,
        100,
        12_000,
        800_000,
        4_000,
        16 * 1024 * 1024,
        33_000,
        640_000,
        7,
    ];
    let done = Arc::new(AtomicUsize::new(0));
    let uploader = {
        let (fronts, done) = (fronts.clone(), done.clone());
        std::thread::spawn(move || {
            let mut outcomes = Vec::new();
            for (i, len) in sizes.iter().enumerate() {
                let data = upload_body(i, *len);
                let status = submit_file(fronts[i % 3].server.addr, &data);
                outcomes.push((status, data));
                done.fetch_add(1, Ordering::SeqCst);
            }
            outcomes
        })
    };
    wait_for("five uploads", Duration::from_secs(120), || {
        done.load(Ordering::SeqCst) >= 5
    });
    garage.kill(2);
    let outcomes = uploader.join().unwrap();
    let accepted: Vec<Vec<u8>> = outcomes
        .iter()
        .filter(|(status, _)| *status == RECEIVED)
        .map(|(_, data)| data.clone())
        .collect();
    // Two of three nodes are a quorum: every upload goes on.
    assert_eq!(
        accepted.len(),
        sizes.len(),
        "statuses: {:?}",
        outcomes.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    // Every front lists every submission, whichever front took it.
    for name in ["a", "b", "c"] {
        assert_eq!(newsroom.listed(name).len(), sizes.len(), "front {name}");
    }
    // `sealdrop status` counts them from the bucket's listing, too.
    let report = newsroom.status(&garage, 0, &fronts[0], "a");
    assert_eq!(report["census"]["store"], STORE, "{report:#}");
    let inbox = &report["census"]["inboxes"][0];
    assert_eq!(inbox["waiting"], sizes.len(), "{report:#}");
    assert_eq!(inbox["oldest_days"], 0);
    assert!(inbox["pool"].is_null(), "no pool in a bucket");

    // The node comes back and catches up. What must hold is not Garage's
    // resync counter but the data: with the other two nodes stopped (so that
    // Garage cannot fetch a missing block from a peer), node 2 alone serves
    // every object byte-identically. Garage's anti-entropy would bring the
    // metadata and blocks within minutes; an operator (and this test) asks
    // for both at once, then checks the property, and asks again until it
    // holds.
    garage.restart(&[2]);
    let listing = newsroom.listed_with_hashes("b");
    assert_eq!(listing.len(), sizes.len());
    let deadline = Instant::now() + Duration::from_secs(300);
    for attempt in 1.. {
        garage.cli(2, &["repair", "--all-nodes", "--yes", "tables"]);
        garage.cli(2, &["repair", "--all-nodes", "--yes", "blocks"]);
        // Room for the resync to run before the others stop (a block a node
        // missed is fetched 2 × rpc_timeout after its metadata arrives).
        std::thread::sleep(Duration::from_secs(12));
        let unreadable = node_alone_serves(&mut garage, 2, &listing);
        eprintln!("attempt {attempt}: node 2 alone cannot serve {unreadable:?}");
        if unreadable.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 2 alone still cannot serve {unreadable:?} after {attempt} repairs"
        );
    }

    let mut sent = accepted;
    sent.sort();
    let picked = newsroom.pick_up("b");
    let lost = sent.iter().filter(|d| !picked.contains(d)).count();
    eprintln!(
        "node fault run: uploads {}, accepted {}, picked up {}, lost {lost}",
        sizes.len(),
        sent.len(),
        picked.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(picked, sent, "byte-identical, none extra");
    assert!(newsroom.listed("a").is_empty(), "pickup deleted them all");
    for front in fronts.iter() {
        assert!(
            spool_partials(&front.spool).is_empty(),
            "spools hold nothing"
        );
    }
}

#[test]
fn a_front_killed_mid_upload_leaves_nothing_and_the_others_keep_serving() {
    let _cores = cores_to_myself();
    let garage = Garage::start();
    let newsroom = Newsroom::new();
    let a = newsroom.front(&garage, 0, "a");
    let mut b = newsroom.front(&garage, 1, "b");

    // Killed while the source is still sending: her connection fails.
    let data = upload_body(1, 4 * 1024 * 1024);
    let body = multipart_body(&[text_field("message", b"half"), file_field("doc.txt", &data)]);
    let mut conn = std::net::TcpStream::connect(b.server.addr).unwrap();
    conn.write_all(&post_head("/submit", body.len(), ""))
        .unwrap();
    conn.write_all(&body[..body.len() / 2]).unwrap();
    wait_for(
        "the upload to reach the spool",
        Duration::from_secs(30),
        || !spool_partials(&b.spool).is_empty(),
    );
    b.server.child().kill().unwrap();
    b.server.child().wait().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "a killed front cannot have said received"
    );
    // The others serve on; nothing of the killed upload is a submission.
    let kept = upload_body(2, 50_000);
    assert_eq!(submit_file(a.server.addr, &kept), RECEIVED);
    assert_eq!(newsroom.listed("a").len(), 1);

    // Killed while it sends a finished upload to the store: a multipart
    // upload is left open. Started again on the same spool, the front
    // aborts it, and the source (who saw a failure) has no submission.
    let mut b = newsroom.front(&garage, 1, "b");
    assert!(
        spool_partials(&b.spool).is_empty(),
        "start-up cleaned the spool"
    );
    let big = upload_body(3, 200 * 1024 * 1024);
    let addr = b.server.addr;
    let sender = std::thread::spawn(move || {
        let body = multipart_body(&[text_field("message", b"big"), file_field("big.bin", &big)]);
        let mut request = post_head("/submit", body.len(), "");
        request.extend_from_slice(&body);
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        let _ = conn.write_all(&request);
        let mut answer = Vec::new();
        let _ = conn.read_to_end(&mut answer);
        answer
    });
    wait_for(
        "a multipart upload under way",
        Duration::from_secs(120),
        || {
            spool_partials(&b.spool)
                .iter()
                .any(|n| n.starts_with(".incoming-to-"))
                && unfinished_uploads(&garage) > 0
        },
    );
    b.server.child().kill().unwrap();
    b.server.child().wait().unwrap();
    let answer = sender.join().unwrap();
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    assert!(unfinished_uploads(&garage) > 0, "left open by the kill");
    let b = newsroom.front(&garage, 1, "b");
    assert_eq!(unfinished_uploads(&garage), 0, "aborted at start-up");
    assert!(spool_partials(&b.spool).is_empty());
    assert_eq!(
        newsroom.listed("b").len(),
        1,
        "only the one the other front took"
    );
    assert_eq!(newsroom.pick_up("b"), vec![kept]);
}

#[test]
fn an_unreachable_store_gives_busy_pages_and_service_returns_by_itself() {
    let _cores = cores_to_myself();
    let mut garage = Garage::start();
    let newsroom = Newsroom::new();
    let mut a = newsroom.front(&garage, 0, "a");
    assert_eq!(
        submit_file(a.server.addr, &upload_body(1, 10_000)),
        RECEIVED
    );

    garage.kill(0);
    let page = submit(
        a.server.addr,
        &[
            text_field("message", b"while down"),
            file_field("d.txt", &upload_body(2, 10_000)),
        ],
    );
    assert_eq!(page.status, 503, "{}", page.text());
    assert!(page.text().contains("<html"), "a page, not a bare error");
    assert!(
        a.server.child().try_wait().unwrap().is_none(),
        "still running"
    );
    assert!(
        spool_partials(&a.spool).is_empty(),
        "the refused upload left nothing"
    );
    let log = a.server.output_text();
    assert!(
        log.contains("refused because the store failed") && log.contains(STORE),
        "{log}"
    );

    garage.restart(&[0]);
    wait_for(
        "uploads to be accepted again",
        Duration::from_secs(60),
        || submit_file(a.server.addr, &upload_body(3, 10_000)) == RECEIVED,
    );
    let picked = newsroom.pick_up("a");
    assert!(picked.contains(&upload_body(1, 10_000)) && picked.contains(&upload_body(3, 10_000)));
    assert!(!picked.contains(&upload_body(2, 10_000)));
}

#[test]
fn start_up_refuses_a_store_it_cannot_write() {
    let garage = Garage::start();
    let newsroom = Newsroom::new();
    let recipients = newsroom.dir.path().join("recipients.txt");
    fs::write(&recipients, &newsroom.recipients).unwrap();
    let spool = newsroom.dir.path().join("spool");
    private_dir(&spool);
    let serve = |store: &str, secret: &str| {
        let mut cmd = Command::new(server_bin());
        cmd.arg("serve")
            .arg("--recipients")
            .arg(&recipients)
            .args(["--store", store, "--spool"])
            .arg(&spool)
            .args(["--listen", "127.0.0.1:0"]);
        for (k, v) in garage.env(0) {
            cmd.env(
                k,
                if v == garage::SECRET {
                    secret.to_owned()
                } else {
                    v
                },
            );
        }
        run(&mut cmd)
    };
    let wrong_secret = serve(STORE, &"0".repeat(64));
    let said = String::from_utf8_lossy(&wrong_secret.stderr).into_owned();
    assert!(!wrong_secret.status.success());
    assert!(
        said.contains("cannot write a test object") && said.contains("AWS_ACCESS_KEY_ID"),
        "{said}"
    );
    let no_bucket = serve("s3://no-such-bucket", garage::SECRET);
    let said = String::from_utf8_lossy(&no_bucket.stderr).into_owned();
    assert!(!no_bucket.status.success());
    assert!(said.contains("bucket exists"), "{said}");
    // Secrets are never flags: without the environment's, it says where they go.
    let out = run(Command::new(server_bin())
        .arg("serve")
        .arg("--recipients")
        .arg(&recipients)
        .args(["--store", STORE, "--spool"])
        .arg(&spool)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--s3-credentials"));
}

#[test]
fn a_reply_pushed_through_one_front_is_read_through_another() {
    use sealdrop_format::keys::RecipientKind;
    use sealdrop_format::reply::{file, keys, Codename};
    let _cores = cores_to_myself();
    let garage = Garage::start();
    let newsroom = Newsroom::new();
    let a = newsroom.front(&garage, 0, "a");
    // Each front reads what other fronts pushed at its maintenance pass
    // (docs/SCALE-OUT.md, "Replies across fronts"): every second here.
    let b = newsroom.front_with(&garage, 1, "b", &["--touch-interval", "1s"]);
    let first = submit(a.server.addr, &[text_field("message", b"first contact")]);
    assert_eq!(first.status, RECEIVED);
    let typed = element_text(&first.text(), "codename").expect("a codename");
    let codename = Codename::parse(&typed).unwrap();

    let reply = file::seal(
        &keys::manifest_block(&codename, RecipientKind::Classic),
        None,
        time::OffsetDateTime::now_utc(),
        "we read it: send the rest through any front",
    )
    .unwrap();
    let mut request = format!(
        "POST /v1/replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        newsroom.token,
        reply.len()
    )
    .into_bytes();
    request.extend_from_slice(&reply);
    let pushed = unix_exchange(&newsroom.pickup_socket("a"), &request);
    assert_eq!(pushed.status, 201, "{}", pushed.text());

    // The source comes back through the other front and finds it there,
    // once that front's pass has read the bucket.
    let found = |page: &Response| {
        page.text()
            .contains("we read it: send the rest through any front")
    };
    wait_for(
        "the reply to be read through the other front",
        Duration::from_secs(15),
        || found(&login(b.server.addr, "en", &typed)),
    );
    let stranger = Codename::generate().grouped_in(sealdrop_format::reply::codename::WESTERN);
    let other = login(b.server.addr, "en", stranger.as_ref());
    assert!(!other.text().contains("we read it"));
}

#[test]
fn unpicked_submissions_expire_from_the_bucket_and_never_early() {
    let _cores = cores_to_myself();
    let garage = Garage::start();
    let newsroom = Newsroom::new();
    let a = newsroom.front_with(
        &garage,
        0,
        "a",
        &["--touch-interval", "1s", "--expire-unpicked", "3s"],
    );
    let sent_before = Instant::now();
    assert_eq!(submit_file(a.server.addr, &upload_body(1, 1000)), RECEIVED);
    assert_eq!(newsroom.listed("a").len(), 1);
    wait_for(
        "the unpicked submission to expire",
        Duration::from_secs(60),
        || newsroom.listed("a").is_empty(),
    );
    // The store dates the object when it accepted it, after `sent_before`.
    assert!(
        sent_before.elapsed() >= Duration::from_secs(3),
        "deleted before it waited its 3 s"
    );
    wait_for(
        "the expiry in the interval summary",
        Duration::from_secs(10),
        || a.server.output_text().contains("expired_unpicked=1"),
    );
}
