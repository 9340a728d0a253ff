//! Where the features meet (issue 32): replies with desks, deletes with
//! pushes, restarts and passes, logins under a flood, desks turned on over a
//! store that already holds submissions. One test per finding; each failed
//! on the code before the redesign (docs/FORMAT.md, section 7.4).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::Digest;

use crate::common::server::*;
use crate::common::*;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::pickup::new_token;
use sealdrop_format::reply::codename::WESTERN;
use sealdrop_format::reply::{file, keys, Codename};

/// A newsroom with two desks (health, the default, and investigations) and
/// three pickup tokens: unscoped, health's, push-only.
pub(crate) struct Newsroom {
    pub server: Server,
    pub socket: PathBuf,
    pub investigations: Key,
    pub all: String,
    pub health_token: String,
    pub push_only: String,
    _keys: tempfile::TempDir,
}

pub(crate) fn newsroom(store: &Path, extra: &[&str]) -> Newsroom {
    let keys_dir = tempfile::tempdir().unwrap();
    let (health, investigations) = (Key::new(), Key::new());
    let mut desk_args = Vec::new();
    for (name, key) in [("health", &health), ("investigations", &investigations)] {
        let file = keys_dir.path().join(format!("{name}.txt"));
        fs::write(&file, format!("{}\n", key.recipient)).unwrap();
        desk_args.push(format!("{name}={}", file.display()));
    }
    let (all, h_all) = new_token();
    let (health_token, h_health) = new_token();
    let (push_only, h_push) = new_token();
    let socket = keys_dir.path().join("pickup.sock");
    let listen = format!("unix:{}", socket.display());
    let hashes = [
        h_all.to_string(),
        format!("health:{h_health}"),
        format!("replies:{h_push}"),
    ];
    let store_arg = store.display().to_string();
    let mut args: Vec<&str> = vec!["--desk", &desk_args[0], "--desk", &desk_args[1]];
    args.extend(["--store", &store_arg, "--pickup-listen", &listen]);
    for hash in &hashes {
        args.extend(["--pickup-token-sha256", hash]);
    }
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    wait_for_socket(&socket);
    Newsroom {
        server,
        socket,
        investigations,
        all,
        health_token,
        push_only,
        _keys: keys_dir,
    }
}

fn wait_for_socket(socket: &Path) {
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn private_store(parent: &Path) -> PathBuf {
    let store = parent.join("store");
    fs::create_dir(&store).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    store
}

pub(crate) fn api(socket: &Path, method: &str, path: &str, token: &str, body: &[u8]) -> Response {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
        if path.ends_with("/ack") {
            "application/json"
        } else {
            "application/octet-stream"
        },
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    unix_exchange(socket, &request)
}

pub(crate) fn push(socket: &Path, token: &str, reply: &[u8]) -> u16 {
    api(socket, "POST", "/v1/replies", token, reply).status
}

pub(crate) fn reply_to(codename: &Codename, desk: Option<&str>, text: &str) -> Vec<u8> {
    file::seal(
        &keys::manifest_block(codename, RecipientKind::Classic),
        desk,
        time::OffsetDateTime::now_utc(),
        text,
    )
    .unwrap()
}

/// The texts of the replies a page shows, in page order.
pub(crate) fn shown(page: &str) -> Vec<String> {
    page.split("<p class=\"reply-text\"><bdi>")
        .skip(1)
        .map(|rest| rest[..rest.find("</bdi>").unwrap()].to_owned())
        .collect()
}

pub(crate) fn follow_up(
    addr: std::net::SocketAddr,
    token: &str,
    desk: Option<&str>,
    message: &str,
) -> Response {
    let mut fields = vec![text_field("token", token.as_bytes())];
    if let Some(desk) = desk {
        fields.push(text_field("desk", desk.as_bytes()));
    }
    fields.push(text_field("message", message.as_bytes()));
    let body = multipart_body(&fields);
    let mut request = post_head("/en/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    exchange(addr, &request)
}

pub(crate) fn delete(addr: std::net::SocketAddr, token: &str) -> Response {
    post_form(
        addr,
        "/en/replies/delete",
        &format!("token={}", percent_encode(token)),
    )
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

fn codename_of(answer: &Response) -> Codename {
    Codename::parse(&element_text(&answer.text(), "codename").expect("a codename")).unwrap()
}

/// Finding 1: a follow-up goes to the desk of its thread (the one the
/// reply names, copied from the submission's manifest), whatever the form
/// says; with no reply yet, the source chooses and nothing is pre-checked.
#[test]
fn a_follow_up_goes_to_the_desk_of_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let n = newsroom(&store, &[]);
    let addr = n.server.addr;
    let first = submit(
        addr,
        &[
            text_field("desk", b"investigations"),
            text_field("message", b"the first tip"),
        ],
    );
    assert_eq!(first.status, RECEIVED);
    let codename = codename_of(&first);
    let grouped = codename.grouped_in(WESTERN).to_string();

    // No reply yet: every desk offered, none checked, a choice required.
    let page = login(addr, "en", &grouped).text();
    assert!(
        page.contains("value=\"health\" required>")
            && page.contains("value=\"investigations\" required>"),
        "{page}"
    );
    assert!(!page.contains(" checked"), "nothing pre-checked: {page}");

    // A form that names no desk (the browser asks for one) is refused, not
    // sent to the first desk.
    let unchosen = follow_up(addr, &token_in(&page), None, "no desk chosen");
    assert_eq!(unchosen.status, 400);
    assert!(sealed_in(&store.join("desks/health")).is_empty());

    // The editor answers the submission as `sealdrop-open reply` does: the
    // reply block and the desk from its manifest.
    let inbox = store.join("desks/investigations");
    let sealed = sealed_in(&inbox);
    assert_eq!(sealed.len(), 1);
    let manifest = manifest_of(&fs::read(&sealed[0]).unwrap(), &n.investigations);
    assert_eq!(manifest.desk.as_deref(), Some("investigations"));
    let block = manifest.reply.clone().expect("a reply block");
    assert!(block.tag_key.is_some());
    let reply = file::seal(
        &block,
        manifest.desk.as_deref(),
        time::OffsetDateTime::now_utc(),
        "which documents?",
    )
    .unwrap();
    assert_eq!(push(&n.socket, &n.push_only, &reply), 201);

    // Her page offers that desk alone, checked.
    let page = login(addr, "en", &grouped).text();
    assert_eq!(shown(&page), ["which documents?"]);
    assert!(page.contains("value=\"investigations\" checked>"), "{page}");
    assert!(!page.contains("value=\"health\""), "{page}");
    // A follow-up naming the default desk (a stale or crafted form) still
    // goes to the thread's desk.
    let answer = follow_up(addr, &token_in(&page), Some("health"), "the second tip");
    assert!(answer.status < 400, "{}", answer.status);
    assert_eq!(sealed_in(&inbox).len(), 2);
    assert!(sealed_in(&store.join("desks/health")).is_empty());
    let newest = sealed_in(&inbox)
        .into_iter()
        .find(|p| *p != sealed[0])
        .unwrap();
    let second = manifest_of(&fs::read(newest).unwrap(), &n.investigations);
    assert_eq!(second.desk.as_deref(), Some("investigations"));
    assert_eq!(second.reply.unwrap().thread, block.thread);
}

/// Finding 2: a reply the source deleted never shows again and is never
/// stored again, through pushes, restarts and passes; an expired one pushed
/// again is refused; a reboot before the pass (the RAM folder lost) shows
/// the deleted replies again, as SECURITY.md says.
#[test]
fn deleted_and_expired_replies_never_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let runtime = dir.path().join("run");
    fs::create_dir(&runtime).unwrap();
    let runtime_arg = runtime.display().to_string();
    let extra = ["--runtime-dir", runtime_arg.as_str()];
    let n = newsroom(&store, &extra);
    let codename = Codename::generate();
    let grouped = codename.grouped_in(WESTERN).to_string();
    let (a, b) = (
        reply_to(&codename, None, "reply A"),
        reply_to(&codename, None, "reply B"),
    );
    assert_eq!(push(&n.socket, &n.all, &a), 201);
    assert_eq!(push(&n.socket, &n.all, &b), 201);
    let page = login(n.server.addr, "en", &grouped).text();
    assert_eq!(shown(&page).len(), 2);
    assert_eq!(delete(n.server.addr, &token_in(&page)).status, 200);
    assert!(shown(&login(n.server.addr, "en", &grouped).text()).is_empty());
    let again = api(&n.socket, "POST", "/v1/replies", &n.all, &a);
    assert_eq!(again.status, 410, "{}", again.text());
    assert!(again.text().contains("deleted"), "{}", again.text());

    // A restart of the service before the pass: the RAM folder keeps them.
    drop(n);
    let n = newsroom(&store, &extra);
    assert!(shown(&login(n.server.addr, "en", &grouped).text()).is_empty());
    assert_eq!(push(&n.socket, &n.all, &b), 410);
    // The pass removes the files and writes the tombstones into the store.
    sealdrop_server::maintenance_pass(n.server.app(), SystemTime::now()).unwrap();
    let replies = store.join("replies");
    assert!(fs::read_dir(&replies).unwrap().all(|e| !e
        .unwrap()
        .path()
        .to_string_lossy()
        .ends_with(".reply")));
    let tombstones: Vec<PathBuf> = fs::read_dir(&replies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("tombstones-")
        })
        .collect();
    assert_eq!(tombstones.len(), 1, "one front, one file: {tombstones:?}");
    assert_eq!(
        fs::read_to_string(&tombstones[0]).unwrap().lines().count(),
        2
    );
    // The RAM folder is the server's alone (tor's group shares its parent).
    use std::os::unix::fs::PermissionsExt;
    let private = fs::metadata(runtime.join("private"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(private & 0o777, 0o700);
    // A reboot after the pass (a new, empty RAM folder): the store's
    // tombstones still refuse them.
    drop(n);
    fs::remove_dir_all(&runtime).unwrap();
    fs::create_dir(&runtime).unwrap();
    let n = newsroom(&store, &extra);
    assert_eq!(push(&n.socket, &n.all, &a), 410);
    assert!(shown(&login(n.server.addr, "en", &grouped).text()).is_empty());

    // An expired reply pushed again is refused: too old.
    let c = reply_to(&codename, None, "reply C");
    assert_eq!(push(&n.socket, &n.all, &c), 201);
    let app = n.server.app();
    app.clock.set_ahead(Duration::from_secs(40 * 86_400));
    sealdrop_server::maintenance_pass(app, SystemTime::now()).unwrap();
    assert!(shown(&login(n.server.addr, "en", &grouped).text()).is_empty());
    let again = api(&n.socket, "POST", "/v1/replies", &n.all, &c);
    assert_eq!(again.status, 410, "{}", again.text());
    assert!(again.text().contains("older than"), "{}", again.text());
    app.clock.set_ahead(Duration::ZERO);

    // A reboot before the pass loses the tombstones not yet written: the
    // deleted reply shows again (stated in SECURITY.md and FORMAT.md 7.4).
    let d = reply_to(&codename, None, "reply D");
    assert_eq!(push(&n.socket, &n.all, &d), 201);
    let page = login(n.server.addr, "en", &grouped).text();
    assert_eq!(shown(&page), ["reply D"]);
    assert_eq!(delete(n.server.addr, &token_in(&page)).status, 200);
    drop(n);
    fs::remove_dir_all(&runtime).unwrap();
    fs::create_dir(&runtime).unwrap();
    let n = newsroom(&store, &extra);
    assert_eq!(
        shown(&login(n.server.addr, "en", &grouped).text()),
        ["reply D"]
    );
}

/// Finding 3: submissions that waited in the store before desks were
/// turned on are listed and picked up by an unscoped token, not by a desk's.
#[test]
fn submissions_from_before_desks_are_picked_up_by_an_unscoped_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let store_arg = store.display().to_string();
    let before = Server::start(&["--store", &store_arg]);
    assert_eq!(
        submit(before.addr, &[text_field("message", b"before desks")]).status,
        RECEIVED
    );
    drop(before);
    let waiting = sealed_in(&store);
    assert_eq!(waiting.len(), 1);
    let id = waiting[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let n = newsroom(&store, &[]);
    let listed =
        |token: &str| parse_listing(&api(&n.socket, "GET", "/v1/submissions", token, b"").body);
    assert!(
        listed(&n.health_token).is_empty(),
        "a desk's token sees its desk only"
    );
    let all = listed(&n.all);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, id);
    assert_eq!(
        api(&n.socket, "GET", "/v1/submissions", &n.push_only, b"").status,
        403
    );
    let download = api(
        &n.socket,
        "GET",
        &format!("/v1/submissions/{id}"),
        &n.all,
        b"",
    );
    assert_eq!(download.status, 200);
    let ack = format!("{{\"sha256\":\"{}\"}}", sha256_hex(&download.body));
    let acked = api(
        &n.socket,
        "POST",
        &format!("/v1/submissions/{id}/ack"),
        &n.all,
        ack.as_bytes(),
    );
    assert_eq!(acked.status, 204);
    assert!(sealed_in(&store).is_empty());

    // The other way: desks turned off while a desk's submission waits. The
    // server refuses to start and says what waits and how to get it.
    assert_eq!(
        submit(n.server.addr, &[text_field("message", b"to a desk")]).status,
        RECEIVED
    );
    drop(n);
    let recipients = dir.path().join("r.txt");
    fs::write(&recipients, format!("{}\n", Key::new().recipient)).unwrap();
    let options = sealdrop_server::ServeOptions::parse_args([
        "--recipients",
        recipients.to_str().unwrap(),
        "--store",
        &store_arg,
    ])
    .unwrap();
    let config = sealdrop_server::ServeConfig::from_options(options).unwrap();
    let refused = sealdrop_server::App::new(&config).err().expect("refused");
    let said = refused.to_string();
    assert!(
        said.contains("1 in ") && said.contains("desks/health") && said.contains("unscoped"),
        "{said}"
    );
}

/// Finding 4: "delete these replies" deletes the replies the page showed,
/// not one pushed between the login and the click.
#[test]
fn delete_removes_exactly_what_was_shown() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let n = newsroom(&store, &[]);
    let codename = Codename::generate();
    let grouped = codename.grouped_in(WESTERN).to_string();
    assert_eq!(
        push(&n.socket, &n.all, &reply_to(&codename, None, "seen")),
        201
    );
    let page = login(n.server.addr, "en", &grouped).text();
    assert_eq!(shown(&page), ["seen"]);
    assert_eq!(
        push(
            &n.socket,
            &n.all,
            &reply_to(&codename, None, "pushed meanwhile")
        ),
        201
    );
    assert_eq!(delete(n.server.addr, &token_in(&page)).status, 200);
    assert_eq!(
        shown(&login(n.server.addr, "en", &grouped).text()),
        ["pushed meanwhile"]
    );
}

type Times = (i64, i64, i64, i64, i64, i64);

/// Everything under `root` (reading folders sets their access times: call
/// this before the times are set, and [`times_of`] after).
fn paths_under(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
        all.push(path);
    }
    all.sort();
    all
}

/// Every time the file system keeps for `paths`, read without reading any
/// folder (which would set its access time).
fn times_of(paths: &[PathBuf]) -> BTreeMap<PathBuf, Times> {
    use std::os::unix::fs::MetadataExt;
    paths
        .iter()
        .map(|path| {
            let m = fs::symlink_metadata(path).unwrap();
            let times = (
                m.atime(),
                m.atime_nsec(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            );
            (path.clone(), times)
        })
        .collect()
}

/// Finding 5: a login (right or wrong codename) and a delete change no time
/// of anything under the store; an arrival leaves the store folder's access
/// and modification times at the last pass's.
#[test]
fn logins_and_deletes_leave_no_time_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let n = newsroom(&store, &[]);
    let codename = Codename::generate();
    let grouped = codename.grouped_in(WESTERN).to_string();
    assert_eq!(
        push(&n.socket, &n.all, &reply_to(&codename, None, "one")),
        201
    );
    assert_eq!(
        push(&n.socket, &n.all, &reply_to(&codename, None, "two")),
        201
    );
    // A pass (which refills the pools), the listing, then a pass again (which
    // sets the folders' access times the listing moved): what a seizure
    // after a pass would find.
    let pass = SystemTime::now() - Duration::from_secs(7200);
    sealdrop_server::maintenance_pass(n.server.app(), pass).unwrap();
    let paths = paths_under(&store);
    sealdrop_server::maintenance_pass(n.server.app(), pass).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let before = times_of(&paths);
    let page = login(n.server.addr, "en", &grouped).text();
    assert_eq!(shown(&page).len(), 2);
    assert!(shown(
        &login(
            n.server.addr,
            "en",
            &Codename::generate().grouped_in(WESTERN)
        )
        .text()
    )
    .is_empty());
    assert_eq!(delete(n.server.addr, &token_in(&page)).status, 200);
    assert!(shown(&login(n.server.addr, "en", &grouped).text()).is_empty());
    let after = times_of(&paths);
    for (path, t) in &before {
        assert_eq!(
            &after[path],
            t,
            "{} changed at a login or a delete",
            path.display()
        );
    }
    assert!(
        paths_under(&store) == paths,
        "something was made or removed under the store"
    );

    // An arrival: the desk folder's access and modification times stay the pass's.
    let inbox = store.join("desks/health");
    let folder_times = |p: &Path| {
        let t = times_of(&[p.to_owned()])[p];
        (t.0, t.1, t.2, t.3)
    };
    let folder_before = {
        let t = before[&inbox];
        (t.0, t.1, t.2, t.3)
    };
    assert_eq!(
        submit(n.server.addr, &[text_field("message", b"an arrival")]).status,
        RECEIVED
    );
    assert_eq!(folder_times(&inbox), folder_before);
    assert_eq!(sealed_in(&inbox).len(), 1);
}

/// A version-1 reply file (the age file alone, its JSON line version 1), as
/// servers before reply files version 2 stored them.
fn version_one_reply(codename: &Codename, text: &str) -> Vec<u8> {
    let recipient: age::x25519::Recipient = keys::recipient(codename, RecipientKind::Classic)
        .parse()
        .unwrap();
    let plaintext = format!(
        "{{\"format\":\"sealdrop-reply\",\"version\":1,\"thread\":\"{}\",\"sent\":\"2026-11-30T00:55:00Z\",\"length\":{}}}\n{text}",
        keys::thread(codename),
        text.len()
    );
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    std::io::Write::write_all(&mut w, plaintext.as_bytes()).unwrap();
    w.finish().unwrap();
    out
}

/// Finding 7: whatever a codename finds (nothing, a wrong codename, one
/// short reply, one of 16,000 bytes, eight replies), the answer has one
/// length; a page shows at most four, and deleting them shows the next.
#[test]
fn the_replies_page_is_one_size_whatever_the_codename_finds() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let (short, long, many) = (
        Codename::generate(),
        Codename::generate(),
        Codename::generate(),
    );
    server.push_reply(&reply_to(&short, None, "ok"));
    server.push_reply(&reply_to(&long, None, &"ش".repeat(8000)));
    for i in 0..8 {
        server.push_reply(&reply_to(&many, None, &format!("reply number {i}")));
    }
    // The most markup a reply may hold: 20,000 bytes once escaped.
    let marked = Codename::generate();
    let marked_text = format!("{}{}", "&".repeat(1000), "x".repeat(15_000));
    server.push_reply(&reply_to(&marked, None, &marked_text));
    // A version-1 file (still read until it expires) has no such cap: 16,000
    // ampersands, 80,000 bytes escaped. Put in the folder as an older
    // server stored it; the pass indexes it.
    let old_style = Codename::generate();
    let v1 = version_one_reply(&old_style, &"&".repeat(16_000));
    let name = sealdrop_format::hex::encode(&sha2::Sha256::digest(&v1)[..16]);
    fs::write(
        server.store.join("replies").join(format!("{name}.reply")),
        v1,
    )
    .unwrap();
    sealdrop_server::maintenance_pass(server.app(), SystemTime::now()).unwrap();
    let cut = shown(&login(addr, "en", &old_style.grouped_in(WESTERN)).text());
    assert_eq!(cut.len(), 1);
    assert!(
        cut[0].ends_with('…') && cut[0].len() <= 20_000,
        "cut to the page's budget"
    );

    let mut lengths = BTreeMap::new();
    for (what, codename) in [
        ("a wrong codename", Codename::generate()),
        ("one short reply", short),
        ("one 16,000-byte reply", long),
        ("one reply of 20,000 escaped bytes", marked),
        ("a version-1 reply of 16,000 ampersands", old_style),
    ] {
        for lang in ["en", "ar", "fa"] {
            let page = login(addr, lang, &codename.grouped_in(WESTERN));
            assert_eq!(page.status, 200);
            lengths.insert(format!("{what} ({lang})"), page.body.len());
        }
    }
    let typo = login(addr, "en", "1234 5678");
    lengths.insert("a typo".into(), typo.body.len());
    let grouped = many.grouped_in(WESTERN).to_string();
    let mut seen = Vec::new();
    for page_number in 0..3 {
        let page = login(addr, "en", &grouped);
        lengths.insert(
            format!("eight replies, page {page_number}"),
            page.body.len(),
        );
        let texts = shown(&page.text());
        assert_eq!(texts.len(), [4, 4, 0][page_number], "{texts:?}");
        assert_eq!(
            page.text().contains("id=\"replies-more\""),
            page_number == 0
        );
        seen.extend(texts);
        if page_number < 2 {
            assert_eq!(delete(addr, &token_in(&page.text())).status, 200);
        }
    }
    seen.sort();
    let mut expected: Vec<String> = (0..8).map(|i| format!("reply number {i}")).collect();
    expected.sort();
    assert_eq!(seen, expected, "every reply shown once, across two pages");
    let sizes: std::collections::BTreeSet<usize> = lengths.values().copied().collect();
    assert_eq!(sizes.len(), 1, "{lengths:#?}");
    eprintln!("every answer to a login: {} bytes", sizes.first().unwrap());
}

/// Finding 8: four clients logging in back to back with random codenames
/// do not keep a source with 300 replies waiting from her page.
#[test]
fn a_flood_of_random_codenames_delays_a_source_by_seconds() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let source = Codename::generate();
    for i in 0..300 {
        server.push_reply(&reply_to(&source, None, &format!("reply {i}")));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let flood: Vec<_> = (0..4)
        .map(|_| {
            let (stop, sent, busy) = (stop.clone(), sent.clone(), busy.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let page = login(addr, "en", &Codename::generate().grouped_in(WESTERN));
                    sent.fetch_add(1, Ordering::Relaxed);
                    if page.status == 503 {
                        busy.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let page = login(addr, "en", &source.grouped_in(WESTERN));
    let waited = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for client in flood {
        client.join().unwrap();
    }
    eprintln!(
        "under a flood of {} random logins ({} busy): the source's page in {waited:?}",
        sent.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed)
    );
    assert_eq!(
        page.status, 200,
        "the source reads her page at the first try"
    );
    assert_eq!(shown(&page.text()).len(), 4);
}

/// Finding 8 (push): only what `sealdrop-open reply` writes is stored, and
/// token scopes hold: a desk's token cannot push, a push-only token can
/// only push.
#[test]
fn pushes_take_only_what_sealdrop_open_writes_and_scopes_hold() {
    let dir = tempfile::tempdir().unwrap();
    let store = private_store(dir.path());
    let n = newsroom(&store, &[]);
    let codename = Codename::generate();
    let good = reply_to(&codename, None, "hello");
    let refused = api(&n.socket, "POST", "/v1/replies", &n.health_token, &good);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("replies:"), "{}", refused.text());
    assert_eq!(push(&n.socket, &n.push_only, &good), 201);
    assert_eq!(push(&n.socket, &n.all, &good), 200);
    assert_eq!(
        api(&n.socket, "GET", "/v1/submissions", &n.push_only, b"").status,
        403
    );
    // Forty stanzas behind a valid preamble: each would cost a login a key
    // agreement before; refused now.
    let recipients: Vec<age::x25519::Recipient> = (0..40)
        .map(|_| age::x25519::Identity::generate().to_public())
        .collect();
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .unwrap();
    let mut age_file = Vec::new();
    let mut w = encryptor.wrap_output(&mut age_file).unwrap();
    std::io::Write::write_all(&mut w, &[0u8; 4000]).unwrap();
    w.finish().unwrap();
    let mut crafted = good[..file::PREAMBLE_LEN].to_vec();
    crafted.extend_from_slice(&age_file);
    crafted.resize(file::REPLY_FILE_LEN, 0);
    let answer = api(&n.socket, "POST", "/v1/replies", &n.all, &crafted);
    assert_eq!(answer.status, 400, "{}", answer.text());
    // A reply dated after tomorrow (a laptop clock running ahead) is refused
    // as it is: it would stay pushable, and its tombstone alive, too long.
    let ahead = file::seal(
        &keys::manifest_block(&codename, RecipientKind::Classic),
        None,
        time::OffsetDateTime::now_utc() + time::Duration::days(3),
        "from the future",
    )
    .unwrap();
    let answer = api(&n.socket, "POST", "/v1/replies", &n.all, &ahead);
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(answer.text().contains("clock"), "{}", answer.text());
    // A version-1 file (no preamble) is no longer taken.
    let mut v1 = good[file::PREAMBLE_LEN..].to_vec();
    v1.resize(file::REPLY_FILE_LEN, 0);
    assert_eq!(push(&n.socket, &n.all, &v1), 400);
    let stored = fs::read_dir(store.join("replies")).unwrap().count();
    assert_eq!(stored, 1, "only the good file");
}
