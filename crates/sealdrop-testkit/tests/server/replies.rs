//! The reply channel against the real server: the whole loop in headless
//! Chromium with JavaScript off, in Arabic, typed with Arabic-Indic digits
//! (classic and post-quantum newsroom keys); what a seized server and its
//! logs hold afterwards; wrong, right and mistyped codenames; logins at
//! once; restarts; pushed files that are not replies; expiry.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use crate::browser::wait_for;
use crate::common::server::*;
use crate::common::webdriver::Driver;
use crate::common::*;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::pickup::new_token;
use sealdrop_format::reply::codename::{ARABIC_INDIC, PERSIAN, WESTERN};
use sealdrop_format::reply::{file, keys, Codename};
use sealdrop_server::pages::{text, Lang};
use sealdrop_server::replies::routes::LOGIN_QUEUE;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NewsroomKeys {
    Classic,
    PostQuantum,
}

/// A spawned server with a pickup listener, and the editor's identity file.
struct ReplyDrop {
    server: Server,
    socket: PathBuf,
    token_file: PathBuf,
    identity: PathBuf,
    _keys: tempfile::TempDir,
}

fn start(kind: NewsroomKeys, extra: &[&str], env: &[(&str, &str)]) -> ReplyDrop {
    let (token, hash) = new_token();
    let hash = hash.to_string();
    let keys_dir = tempfile::tempdir().unwrap();
    let socket = keys_dir.path().join("pickup.sock");
    let listen = format!("unix:{}", socket.display());
    let mut args = vec!["--pickup-listen", &listen, "--pickup-token-sha256", &hash];
    args.extend_from_slice(extra);
    let (recipients, pq_identity) = match kind {
        NewsroomKeys::Classic => (None, None),
        NewsroomKeys::PostQuantum => {
            let identity = keys_dir.path().join("pq-identity.txt");
            let out = run(Command::new(bin("sealdrop-open"))
                .args(["keygen", "--pq", "-o"])
                .arg(&identity));
            assert_success(&out, "keygen --pq");
            let recipient = String::from_utf8(out.stdout).unwrap().trim().to_owned();
            (Some(format!("{recipient}\n")), Some(identity))
        }
    };
    let server = Server::spawn_custom(recipients.as_deref(), &args, env);
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let token_file = keys_dir.path().join("pickup.token");
    fs::write(&token_file, format!("{token}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
    let identity = pq_identity.unwrap_or_else(|| server.identity.clone());
    ReplyDrop {
        server,
        socket,
        token_file,
        identity,
        _keys: keys_dir,
    }
}

fn sealdrop(args: &[&str], paths: &[&Path]) -> Output {
    run(Command::new(server_bin()).args(args).args(paths))
}

fn pickup(d: &ReplyDrop, inbox: &Path) {
    let from = format!("unix:{}", d.socket.display());
    let out = run(Command::new(server_bin())
        .args(["pickup", "--from", &from, "--token-file"])
        .arg(&d.token_file)
        .arg("--to")
        .arg(inbox));
    assert_success(&out, "sealdrop pickup");
}

fn decrypt(d: &ReplyDrop, inbox: &Path, opened: &Path) -> String {
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "-i"])
        .arg(&d.identity)
        .arg("-o")
        .arg(opened)
        .arg(inbox));
    assert_success(&out, "sealdrop-open decrypt");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn push(d: &ReplyDrop, outbox: &Path) -> Output {
    let to = format!("unix:{}", d.socket.display());
    sealdrop(
        &["push-replies", "--to", &to, "--token-file"],
        &[&d.token_file, outbox],
    )
}

/// `sealdrop-open reply` with `text`; returns the sealed file it wrote.
fn reply(d: &ReplyDrop, to: &Path, text: &str, outbox: &Path, extra: &[&str]) -> PathBuf {
    let message = d
        .server
        .dir
        .path()
        .join(format!("reply-{}.txt", rand::random::<u32>()));
    fs::write(&message, format!("{text}\n")).unwrap();
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["reply", "-i"])
        .arg(&d.identity)
        .arg("--to")
        .arg(to)
        .arg("--message")
        .arg(&message)
        .arg("-o")
        .arg(outbox)
        .args(extra));
    assert_success(&out, "sealdrop-open reply");
    fs::remove_file(&message).unwrap();
    let sealed = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(
        fs::metadata(&sealed).unwrap().len(),
        file::REPLY_FILE_LEN as u64
    );
    sealed
}

/// Every file under `dir`, recursively: names and contents.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(data) = fs::read(&path) {
            out.push((path, data));
        }
    }
    out
}

/// Fails if any needle is in a file's name or content under `dirs`, or in `output`.
fn assert_nowhere(needles: &[(String, Vec<u8>)], dirs: &[&Path], output: &str) {
    for dir in dirs {
        for (path, data) in files_under(dir) {
            let name = path.to_string_lossy();
            for (what, needle) in needles {
                assert!(
                    !data.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{what} found in {path:?}"
                );
                assert!(
                    !name
                        .as_bytes()
                        .windows(needle.len())
                        .any(|w| w == needle.as_slice()),
                    "{what} in the name {name}"
                );
            }
        }
    }
    for (what, needle) in needles {
        assert!(
            !output
                .as_bytes()
                .windows(needle.len())
                .any(|w| w == needle.as_slice()),
            "{what} found in the server's output"
        );
    }
}

fn whole_loop_in_arabic(kind: NewsroomKeys) {
    let d = start(kind, &[], &[("RUST_LOG", "trace")]);
    let driver = Driver::start();
    let work = d.server.dir.path().join("editor");
    fs::create_dir(&work).unwrap();
    let (inbox, opened, outbox) = (work.join("inbox"), work.join("opened"), work.join("outbox"));
    let base = format!("http://{}/ar", d.server.addr);
    let marker = format!("{:016x}", rand::random::<u64>());

    // 1. A first submission: the answer shows the codename in Arabic-Indic digits.
    let first_message = format!("وثائق عن الصفقة {marker}-first");
    let evidence = work.join("evidence.txt");
    fs::write(&evidence, format!("evidence {marker}-file")).unwrap();
    driver.goto(&format!("{base}/"));
    driver.send_keys(&driver.find("#message"), &first_message);
    driver.send_keys(&driver.find("#attachment"), &evidence.display().to_string());
    driver.click(&driver.find("button[type=submit]"));
    let shown = wait_for(&driver, "#codename");
    assert!(
        shown.chars().all(|c| c == ' ' || ARABIC_INDIC.contains(&c)),
        "{shown}"
    );
    let codename = Codename::parse(&shown).unwrap();
    let western = driver.text(&driver.find("#codename-western"));
    assert_eq!(Codename::parse(&western).unwrap().ascii(), codename.ascii());
    let thread = keys::thread(&codename).to_string();

    // 2. The editor picks it up and opens it: the manifest has the reply block.
    pickup(&d, &inbox);
    decrypt(&d, &inbox, &opened);
    let first = opened_submissions(&opened);
    assert_eq!(first.len(), 1);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(first[0].join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["reply"]["thread"], thread.as_str());
    let recipient = manifest["reply"]["recipient"].as_str().unwrap();
    match kind {
        NewsroomKeys::Classic => {
            assert!(recipient.starts_with("age1") && !recipient.starts_with("age1pq1"))
        }
        NewsroomKeys::PostQuantum => assert!(recipient.starts_with("age1pq1"), "{recipient}"),
    }
    assert_eq!(
        fs::read_to_string(first[0].join("message.txt")).unwrap(),
        first_message
    );

    // 3. Two replies: one from the opened folder, one from the sealed file.
    let reply_one = format!("شكراً. هل يمكنك إرسال الصفحة الثانية؟ {marker}-reply-one");
    let reply_two = format!("<b>ليس</b> HTML & \u{202E}txt.exe {marker}-reply-two");
    reply(&d, &first[0], &reply_one, &outbox, &[]);
    let sealed_input = inbox.join(format!(
        "{}.age",
        first[0].file_name().unwrap().to_string_lossy()
    ));
    let workspace = opened.display().to_string();
    reply(
        &d,
        &sealed_input,
        &reply_two,
        &outbox,
        &["--workspace", &workspace],
    );
    let copies: Vec<_> = fs::read_dir(opened.join("threads").join(&thread))
        .unwrap()
        .collect();
    assert_eq!(copies.len(), 3, "two readable copies and thread.txt");

    // 4. Pushed through the pickup API; pushing again changes nothing.
    let out = push(&d, &outbox);
    assert_success(&out, "push-replies");
    // What was sent is marked: moved into outbox/pushed/.
    let pushed = outbox.join("pushed");
    assert_eq!(fs::read_dir(&pushed).unwrap().count(), 2);
    assert!(!fs::read_dir(&outbox).unwrap().any(|e| e
        .unwrap()
        .path()
        .extension()
        .is_some_and(|x| x == "age")));
    assert_success(&push(&d, &outbox), "push-replies with nothing new");
    // The same files pushed again change nothing.
    let again = push(&d, &pushed);
    assert_success(&again, "push-replies again");
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 pushed, 2 already there"));
    let stored: Vec<_> = d
        .server
        .store_names()
        .into_iter()
        .filter(|n| n.starts_with("replies/"))
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored.iter().all(|n| n.ends_with(".reply")),
        "in the store only submissions end in .age"
    );

    // 5. The source comes back and types her codename in Arabic-Indic digits.
    driver.goto(&format!("{base}/replies"));
    driver.send_keys(&driver.find("#codename-input"), &shown);
    driver.click(&driver.find("button[type=submit]"));
    wait_for(&driver, "form[action$='/replies/followup']");
    let replies: Vec<String> = driver
        .find_all(".reply")
        .iter()
        .map(|e| driver.text(e))
        .collect();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(
        replies.iter().any(|r| r.contains(&reply_one)),
        "{replies:?}"
    );
    assert!(
        replies.iter().any(|r| r.contains(&reply_two)),
        "escaped and shown as text: {replies:?}"
    );

    // 6. A follow-up with a file, from the replies page.
    let follow_up = format!("هذه الصفحة الثانية {marker}-follow-up");
    let page_two = work.join("page-2.txt");
    fs::write(&page_two, format!("page two {marker}-file-two")).unwrap();
    driver.send_keys(&driver.find("#message"), &follow_up);
    driver.send_keys(&driver.find("#attachment"), &page_two.display().to_string());
    driver.click(&driver.find("form[action$='/replies/followup'] button[type=submit]"));
    let start = Instant::now();
    while driver.title() != text(Lang::Ar, "received-title", &[]) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no received page: {}",
            driver.url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        driver.try_find("#codename").is_none(),
        "a follow-up shows no new codename"
    );

    // 7. The editor sees it in the same thread, after the replies sent.
    pickup(&d, &inbox);
    let told = decrypt(&d, &inbox, &opened);
    assert!(told.contains(&format!("thread {thread}")), "{told}");
    let both = opened_submissions(&opened);
    assert_eq!(both.len(), 2);
    let second = both.iter().find(|f| **f != first[0]).unwrap();
    assert_eq!(
        fs::read_to_string(second.join("message.txt")).unwrap(),
        follow_up
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(second.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["reply"]["thread"], thread.as_str());
    let summary =
        fs::read_to_string(opened.join("threads").join(&thread).join("thread.txt")).unwrap();
    assert_eq!(summary.matches(" received ").count(), 2, "{summary}");
    assert_eq!(summary.matches(" reply sent ").count(), 2, "{summary}");
    let listed = run(Command::new(bin("sealdrop-open"))
        .args(["list", "-i"])
        .arg(&d.identity)
        .arg("--workspace")
        .arg(&opened)
        .arg(&inbox));
    assert_success(&listed, "sealdrop-open list");
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        listed.matches(&format!("THREAD {thread}")).count(),
        1,
        "{listed}"
    );
    let after = &listed[listed.find("THREAD").unwrap()..];
    for folder in [&first[0], second] {
        assert!(
            after.contains(&*folder.file_name().unwrap().to_string_lossy()),
            "{listed}"
        );
    }
    assert_eq!(after.matches("reply sent").count(), 2, "{listed}");

    // 8. The source deletes the replies: they are hidden at once, and the
    // store does not change (the files go at the next pass: meet.rs).
    let before_delete = d.server.store_names();
    driver.goto(&format!("{base}/replies"));
    driver.send_keys(&driver.find("#codename-input"), &shown);
    driver.click(&driver.find("button[type=submit]"));
    wait_for(&driver, "form[action$='/replies/delete']");
    driver.click(&driver.find("form[action$='/replies/delete'] button[type=submit]"));
    let start = Instant::now();
    while driver.title() != text(Lang::Ar, "deleted-title", &[]) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no deleted page: {}",
            driver.url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.server.store_names(), before_delete);
    let again = login(d.server.addr, "ar", &shown);
    assert_eq!(again.status, 200);
    assert!(!again.text().contains("class=\"reply\""));

    // 9. What the server kept: no codename in any script, no reply text, no
    // thread id, in the store, its TMPDIR, or its output at RUST_LOG=trace.
    let mut needles = codename_needles(&codename);
    for (what, text) in [
        ("the first reply", reply_one.as_str()),
        ("the second reply", reply_two.as_str()),
        ("the follow-up", follow_up.as_str()),
    ] {
        needles.push((what.into(), text.as_bytes().to_vec()));
    }
    needles.push(("a marker".into(), format!("{marker}-").into_bytes()));
    needles.push(("the thread id".into(), thread.clone().into_bytes()));
    needles.push((
        "the thread id (upper case)".into(),
        thread.to_uppercase().into_bytes(),
    ));
    let output = d.server.output_text();
    assert!(
        output.contains("TRACE") || output.contains("DEBUG") || output.contains("INFO"),
        "{output}"
    );
    assert_nowhere(&needles, &[&d.server.store, &d.server.tmp], &output);
}

#[test]
fn the_whole_loop_in_arabic_without_javascript_with_classic_keys() {
    whole_loop_in_arabic(NewsroomKeys::Classic);
}

#[test]
fn the_whole_loop_in_arabic_without_javascript_with_post_quantum_keys() {
    whole_loop_in_arabic(NewsroomKeys::PostQuantum);
}

/// A reply sealed for `codename` without going through a submission.
fn reply_file(codename: &Codename, text: &str, kind: RecipientKind) -> Vec<u8> {
    file::seal(
        &keys::manifest_block(codename, kind),
        None,
        time::OffsetDateTime::now_utc(),
        text,
    )
    .unwrap()
}

fn push_raw(d: &ReplyDrop, body: &[u8], token: Option<&str>) -> Response {
    let token = token
        .map(str::to_owned)
        .unwrap_or_else(|| fs::read_to_string(&d.token_file).unwrap().trim().to_owned());
    let mut request = format!(
        "POST /v1/replies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    unix_exchange(&d.socket, &request)
}

#[test]
fn a_wrong_codename_and_a_right_one_without_replies_look_the_same_and_typos_are_told() {
    let server = Server::start(&[]);
    let answer = submit(server.addr, &[text_field("message", b"first")]);
    assert_eq!(answer.status, RECEIVED);
    let right = element_text(&answer.text(), "codename").unwrap();
    let wrong = Codename::generate().grouped_in(WESTERN).to_string();
    let right_page = login(server.addr, "en", &right);
    let wrong_page = login(server.addr, "en", &wrong);
    assert_eq!(right_page.status, 200);
    assert_eq!(wrong_page.status, right_page.status);
    assert_eq!(wrong_page.body.len(), right_page.body.len());
    assert!(right_page
        .text()
        .contains(&text(Lang::En, "replies-none", &[])));
    assert_ne!(token_in(&right_page.text()), token_in(&wrong_page.text()));

    // Typos are told before any work: one digit changed, two swapped, too
    // short, letters.
    let digits: String = right.chars().filter(char::is_ascii_digit).collect();
    let mut changed = digits.clone().into_bytes();
    changed[5] = if changed[5] == b'9' {
        b'0'
    } else {
        changed[5] + 1
    };
    let mut swapped = digits.clone().into_bytes();
    let i = (0..31).find(|&i| swapped[i] != swapped[i + 1]).unwrap();
    swapped.swap(i, i + 1);
    let typo_title = text(Lang::Fr, "error-codename-typo-title", &[]);
    for typo in [
        String::from_utf8(changed).unwrap(),
        String::from_utf8(swapped).unwrap(),
        digits[..30].to_owned(),
        "hello world".to_owned(),
        String::new(),
        "١٢٣".repeat(11),
    ] {
        let page = login(server.addr, "fr", &typo);
        assert_eq!(page.status, 400, "{typo}");
        assert!(page.text().contains(&typo_title), "{typo}: {}", page.text());
        assert!(
            page.text().contains("href=\"/fr/replies\""),
            "links back to the replies page"
        );
    }
    // Huge fields get the 413 page; the site keeps answering.
    let huge = format!("codename={}", "1".repeat(200_000));
    let page = post_form(server.addr, "/en/replies", &huge);
    assert_eq!(page.status, 413);
    assert!(page
        .text()
        .contains(&text(Lang::En, "error-field-too-long-title", &[])));
    assert_eq!(get(server.addr, "/").status, 200);
    // The codename is accepted in any digits, with any spacing.
    let codename = Codename::parse(&right).unwrap();
    for typed in [
        codename.grouped_in(PERSIAN).to_string(),
        format!("  {}  ", digits),
        codename.grouped_in(ARABIC_INDIC).replace(' ', "-"),
    ] {
        let page = login(server.addr, "fa", &typed);
        assert_eq!(page.status, 200, "{typed}");
    }
}

#[test]
fn with_replies_off_there_is_no_codename_and_no_replies_page() {
    let server = Server::start(&["--replies", "false"]);
    let answer = submit(server.addr, &[text_field("message", b"one way")]);
    assert_eq!(
        answer.status, 303,
        "Post/Redirect/Get when there is no codename to show"
    );
    assert_eq!(answer.header("location"), Some("/en/received"));
    let received = get(server.addr, "/en/received");
    assert!(!received.text().contains("id=\"codename\""));
    assert_eq!(get(server.addr, "/en/replies").status, 404);
    assert_eq!(
        login(server.addr, "en", &Codename::generate().grouped_in(WESTERN)).status,
        404
    );
    assert!(!get(server.addr, "/en/").text().contains("/replies"));
    assert!(!server.store.join("replies").exists());
    let sealed = server.sealed_files();
    assert_eq!(
        manifest_of(&fs::read(&sealed[0]).unwrap(), &server.key).reply,
        None
    );
}

#[test]
fn pushed_files_must_be_replies_and_pushing_twice_is_harmless() {
    let d = start(NewsroomKeys::Classic, &[], &[]);
    let codename = Codename::generate();
    let good = reply_file(&codename, "hello", RecipientKind::Classic);
    assert_eq!(
        push_raw(&d, &good, Some("sealdrop-pickup-v1-wrong")).status,
        401
    );
    for (what, body) in [
        ("empty", Vec::new()),
        ("short", good[..1000].to_vec()),
        ("long", [good.as_slice(), b"x"].concat()),
        (
            "random bytes of the right size",
            (0..file::REPLY_FILE_LEN)
                .map(|i| (i * 7 % 251) as u8)
                .collect(),
        ),
        (
            "not age",
            [b"age-encryption.org/v2\n".as_slice(), &good[22..]].concat(),
        ),
    ] {
        let response = push_raw(&d, &body, None);
        assert!(
            matches!(response.status, 400 | 413),
            "{what}: {}",
            response.status
        );
        assert!(
            d.server
                .store_names()
                .iter()
                .all(|n| !n.starts_with("replies/")),
            "{what} touched the replies folder"
        );
    }
    let first = push_raw(&d, &good, None);
    assert_eq!(first.status, 201, "{}", first.text());
    let again = push_raw(&d, &good, None);
    assert_eq!(again.status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&again.body).unwrap();
    assert_eq!(answer["new"], false);
    assert_eq!(
        d.server
            .store_names()
            .iter()
            .filter(|n| n.starts_with("replies/"))
            .count(),
        1
    );
    // sealdrop push-replies refuses to send anything that is not a reply.
    let outbox = d.server.dir.path().join("outbox");
    fs::create_dir(&outbox).unwrap();
    fs::write(
        outbox.join("submission.age"),
        b"age-encryption.org/v1\nnot a reply",
    )
    .unwrap();
    let out = push(&d, &outbox);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a reply file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn replies_survive_a_restart_and_tokens_from_before_it_are_refused() {
    let mut d = start(NewsroomKeys::Classic, &[], &[]);
    let codename = Codename::generate();
    let typed = codename.grouped_in(WESTERN).to_string();
    assert_eq!(
        push_raw(
            &d,
            &reply_file(&codename, "kept across restarts", RecipientKind::Classic),
            None
        )
        .status,
        201
    );
    let page = login(d.server.addr, "en", &typed);
    assert!(page.text().contains("kept across restarts"));
    let old_token = token_in(&page.text());

    // The same store, a new process, once the old one has stopped (a
    // store takes one server at a time).
    d.server.signal("TERM");
    assert!(d.server.wait_exit(Duration::from_secs(60)).is_some());
    let store = d.server.store.clone();
    let recipients = fs::read_to_string(d.server.dir.path().join("recipients.txt")).unwrap();
    let store_arg = store.display().to_string();
    let restarted = Server::spawn_custom(Some(&recipients), &["--store", &store_arg], &[]);
    let page = login(restarted.addr, "en", &typed);
    assert!(
        page.text().contains("kept across restarts"),
        "{}",
        page.text()
    );
    let expired_title = text(Lang::En, "error-expired-title", &[]);
    let delete = post_form(
        restarted.addr,
        "/en/replies/delete",
        &format!("token={old_token}"),
    );
    assert_eq!(delete.status, 403);
    assert!(delete.text().contains(&expired_title));
    assert!(
        login(restarted.addr, "en", &typed)
            .text()
            .contains("kept across restarts"),
        "nothing was deleted"
    );
    let body = multipart_body(&[
        text_field("token", old_token.as_bytes()),
        text_field("message", b"late follow-up"),
    ]);
    let mut request = post_head("/en/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    let follow_up = exchange(restarted.addr, &request);
    assert_eq!(
        follow_up.status,
        403,
        "{}\nserver log:\n{}",
        follow_up.text(),
        restarted.output_text()
    );
    assert!(follow_up.text().contains(&expired_title));
    assert!(restarted.sealed_files().is_empty(), "nothing was sealed");
    // A follow-up without its token, or with the token after the content, is malformed.
    let body = multipart_body(&[text_field("message", b"no token")]);
    let mut request = post_head("/en/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    assert_eq!(exchange(restarted.addr, &request).status, 400);
    // With a fresh token, a follow-up is sealed in her thread.
    let token = token_in(&login(restarted.addr, "en", &typed).text());
    let body = multipart_body(&[
        text_field("token", token.as_bytes()),
        text_field("message", b"in time"),
    ]);
    let mut request = post_head("/en/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    let answer = exchange(restarted.addr, &request);
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(answer.header("location"), Some("/en/received"));
    let sealed = restarted.sealed_files();
    assert_eq!(sealed.len(), 1);
    // Sealed to the first process's key: the recipients file it was given.
    let (message, _) = open(&fs::read(&sealed[0]).unwrap(), &d.server.key);
    assert_eq!(message.unwrap(), b"in time");
}

/// Resident memory of a process: (now, peak), in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The bound this test holds the server to during 128 logins at once over
/// 4,000 replies: the index holds about 100 bytes per reply.
const LOGIN_BURST_RSS_LIMIT_KIB: u64 = 48 * 1024;

/// Logins sent at once: more than one turn and its queue can hold.
const BURST: usize = 128;

#[test]
fn a_burst_of_logins_is_queued_bounded_and_the_site_keeps_answering() {
    // A store that already holds 4,000 replies (files, as pushes leave them).
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    let replies = store.join("replies");
    fs::create_dir(&replies).unwrap();
    let someone = Codename::generate();
    let one = reply_file(&someone, "for someone", RecipientKind::Classic);
    for i in 0..4000u32 {
        // Distinct files cost a key agreement each, like real ones; their
        // content matters not.
        let mut data = one.clone();
        let last = data.len() - 1;
        data[last - 4..last].copy_from_slice(&i.to_le_bytes());
        fs::write(replies.join(format!("{i:032x}.reply")), data).unwrap();
    }
    let store_arg = store.display().to_string();
    let server = Server::spawn_custom(None, &["--store", &store_arg], &[]);
    let (before, _) = rss_kib(server.pid());
    let addr = server.addr;
    let started = Instant::now();
    let logins: Vec<_> = (0..BURST)
        .map(|_| {
            std::thread::spawn(move || login(addr, "tr", &Codename::generate().grouped_in(WESTERN)))
        })
        .collect();
    // The site answers while the logins run.
    let mut pages = 0;
    while logins.iter().any(|l| !l.is_finished()) {
        assert_eq!(get(addr, "/").status, 200);
        pages += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let answers: Vec<Response> = logins.into_iter().map(|l| l.join().unwrap()).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let busy_title = text(Lang::Tr, "error-login-busy-title", &[]);
    for answer in answers.iter().filter(|a| a.status == 503) {
        assert!(
            answer.text().contains(&busy_title),
            "the busy page, in Turkish"
        );
    }
    let (_, peak) = rss_kib(server.pid());
    let served = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    eprintln!(
        "{BURST} logins over 4000 replies: {served} served, {busy} busy, in {:?}; {pages} pages served meanwhile; RSS {before} KiB before, peak {peak} KiB",
        started.elapsed()
    );
    assert_eq!(served + busy, BURST, "{statuses:?}");
    // One turn runs and up to LOGIN_QUEUE wait: at least that many served.
    assert!(served > LOGIN_QUEUE, "{statuses:?}");
    let lengths: std::collections::BTreeSet<usize> = answers.iter().map(|a| a.body.len()).collect();
    assert_eq!(lengths.len(), 1, "every answer one length: {lengths:?}");
    assert!(pages >= 1);
    assert!(peak < LOGIN_BURST_RSS_LIMIT_KIB, "peak RSS {peak} KiB");
    let page = login(addr, "en", &Codename::generate().grouped_in(WESTERN));
    assert_eq!(page.status, 200, "a login after the burst is served");
}

#[test]
fn replies_expire_after_their_retention() {
    let d = start(
        NewsroomKeys::Classic,
        &["--reply-retention", "2s", "--touch-interval", "1s"],
        &[],
    );
    let codename = Codename::generate();
    assert_eq!(
        push_raw(
            &d,
            &reply_file(&codename, "soon gone", RecipientKind::Classic),
            None
        )
        .status,
        201
    );
    let stored = d.server.store.join("replies");
    let file = fs::read_dir(&stored)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let kept = fs::metadata(&file).unwrap().modified().unwrap();
    let kept_secs = kept
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(
        kept_secs.fract(),
        0.0,
        "a coarse time, not the moment it arrived"
    );
    let start = Instant::now();
    while file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the reply did not expire"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Not before its retention (2 s) plus its arrival period (granularity 1 s).
    assert!(SystemTime::now().duration_since(kept).unwrap() >= Duration::from_secs(3));
    let page = login(d.server.addr, "en", &codename.grouped_in(WESTERN));
    assert!(!page.text().contains("soon gone"));
}
