//! The editors' desktop inbox (issue 35), the real app driven through its
//! accessibility tree in a network namespace that has only `lo`: import a
//! folder the real servers made (a classic key, a post-quantum one behind a
//! passphrase asked in the window, and a hardware key whose plugin asks its
//! PIN in the window), read an Arabic message, open
//! a picture decoded in the sandbox, seal a reply that stock `age` opens
//! with the key its codename derives; the app held no socket but local
//! ones; the workspace is one `sealdrop-open` reads.

mod model;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sealdrop_format::reply::{keys, Codename};
use sealdrop_testkit::server::{
    exchange, file_field, login, multipart_body, post_head, submit, text_field, token_in, Server,
};
use sealdrop_testkit::{assert_success, bin, run};

const ARABIC: &str =
    "السلام عليكم، هذه صور من الحاجز عند مدخل المدينة صباح اليوم.\n\nأرجو ألا تنشروا اسمي.";
const ARABIC_PARAGRAPHS: [&str; 2] = [
    "السلام عليكم، هذه صور من الحاجز عند مدخل المدينة صباح اليوم.",
    "أرجو ألا تنشروا اسمي.",
];
const REPLY: &str = "شكراً لك. We received the photo; we will not publish your name.";
const PASSPHRASE: &str = "correct horse battery staple";

fn element_text(page: &str, id: &str) -> String {
    let start = page.find(&format!("id=\"{id}\"")).expect(id);
    let open = start + page[start..].find('>').unwrap() + 1;
    page[open..open + page[open..].find('<').unwrap()].to_owned()
}

/// A Word document (the three parts Word needs), whose words the inbox
/// reads in the sandbox for search.
fn word_document(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
    let parts = [
        ("[Content_Types].xml", r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", format!(r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}officeDocument" Target="word/document.xml"/></Relationships>"#)),
        ("word/document.xml", format!(r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:body></w:document>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A photo with a GPS position and a camera in its EXIF, as phones write.
fn photo(dir: &Path) -> Vec<u8> {
    let path = dir.join("photo.jpg");
    let out = run(Command::new("convert")
        .args(["-size", "320x240", "gradient:navy-orange"])
        .arg(&path));
    assert_success(&out, "convert");
    let out = run(Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-GPSLatitude=36.2021",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1343",
            "-GPSLongitudeRef=E",
            "-Model=Pixel 7",
        ])
        .arg(&path));
    assert_success(&out, "exiftool");
    fs::read(&path).unwrap()
}

/// Writes `identity` protected by `passphrase`, as `age -p` does.
fn protect(identity: &Path, passphrase: &str) -> PathBuf {
    let plain = fs::read(identity).unwrap();
    let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        passphrase.to_owned(),
    ));
    let mut sealed = Vec::new();
    let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
    std::io::Write::write_all(&mut writer, &plain).unwrap();
    writer.finish().unwrap();
    let path = identity.with_extension("age");
    fs::write(&path, sealed).unwrap();
    path
}

const PLUGIN: &str = "age-plugin-sealdroptest";

/// A folder holding the software stand-in for a hardware key's plugin
/// (examples/age-plugin-sealdroptest.rs), for the inbox's PATH, and a new
/// key of it: (folder, identity file, recipient).
fn hardware_key(at: &Path) -> (tempfile::TempDir, PathBuf, String) {
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let built = examples.join(PLUGIN);
    if !built.exists() {
        let out = run(Command::new(env!("CARGO"))
            .args(["build", "--example", PLUGIN])
            .current_dir(env!("CARGO_MANIFEST_DIR")));
        assert_success(&out, "cargo build --example age-plugin-sealdroptest");
    }
    let plugins = tempfile::tempdir().unwrap();
    let out = run(Command::new("install")
        .args(["-m", "0755"])
        .arg(&built)
        .arg(plugins.path().join(PLUGIN)));
    assert_success(&out, "install the test plugin");
    let out = run(Command::new(plugins.path().join(PLUGIN)).args(["--generate", "tag"]));
    assert_success(&out, "generate a test key");
    let text = String::from_utf8(out.stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_owned();
    let identity = at.join("hardware-key.txt");
    fs::write(&identity, &text).unwrap();
    (plugins, identity, recipient)
}

/// The inbox's words in `lang`, read from its own .ftl file (what the
/// window shows and the accessibility tree names).
fn words_in(lang: &str, id: &str) -> String {
    let ftl = fs::read_to_string(
        sealdrop_testkit::workspace_root()
            .join(format!("crates/sealdrop-inbox/locales/{lang}.ftl")),
    )
    .unwrap();
    ftl.lines()
        .find_map(|line| line.strip_prefix(&format!("{id} = ")))
        .unwrap_or_else(|| panic!("{id} in {lang}.ftl"))
        .to_owned()
}

fn words(id: &str) -> String {
    words_in("en", id)
}

/// The name of a source's row in the list, in `lang`.
fn row_name(lang: &str, thread: &str) -> String {
    let chars: String = thread.chars().take(8).collect();
    words_in(lang, "source-name").replace("{ $name }", &format!("{}·{}", &chars[..4], &chars[4..]))
}

/// Runs the inbox on `workspace` in `lang` inside a network namespace with
/// only `lo` (display, session bus and accessibility bus started inside
/// it), driven by drive.py with `config`; what the driver saw.
fn drive(
    dir: &Path,
    lang: &str,
    workspace: &Path,
    outbox: &Path,
    plugins: &Path,
    config: serde_json::Value,
) -> serde_json::Value {
    let result = dir.join(format!("seen-{lang}.json"));
    let mut config = config;
    config["out"] = serde_json::json!(result);
    if let Some(folder) = std::env::var_os("SEALDROP_INBOX_SCREENSHOTS") {
        config["screenshots"] = serde_json::json!(folder.to_string_lossy());
    }
    let config_file = dir.join(format!("drive-{lang}.json"));
    fs::write(&config_file, config.to_string()).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inbox/drive.py");
    let session = format!(
        "ip link set lo up && exec xvfb-run -a -s '-screen 0 1280x860x24' dbus-run-session -- sh -c '\
         /usr/libexec/at-spi-bus-launcher --launch-immediately & \
         GTK_A11Y=atspi {inbox} --workspace {workspace} --outbox {outbox} --lang {lang} & \
         app=$!; /usr/bin/python3 {driver} {config}; status=$?; kill $app; exit $status'",
        inbox = bin("sealdrop-inbox").display(),
        workspace = workspace.display(),
        outbox = outbox.display(),
        driver = driver.display(),
        config = config_file.display(),
    );
    let mut unshare = Command::new("unshare");
    unshare.arg("--net");
    if !sealdrop_testkit::server::running_as_root() {
        unshare.arg("--map-root-user");
    }
    let out = run(unshare
        .args(["sh", "-c", &session])
        .env("HOME", dir)
        .env("PATH", {
            let mut path = plugins.as_os_str().to_owned();
            path.push(":");
            path.push(std::env::var_os("PATH").unwrap_or_default());
            path
        })
        .env("SEALDROPTEST_PIN", "1234")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS"));
    assert_success(
        &out,
        &format!("the inbox in {lang}, driven through its accessibility tree"),
    );
    serde_json::from_slice(&fs::read(&result).unwrap()).unwrap()
}

/// `--self-check` finds the helper beside it and runs the picture job; with
/// no helper it says so and exits 2, before any window.
#[test]
fn the_self_check_runs_the_helper_it_will_use() {
    let out = run(Command::new(bin("sealdrop-inbox")).arg("--self-check"));
    assert_success(&out, "sealdrop-inbox --self-check");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("sealdrop-sandbox") && said.contains("decodes pictures"),
        "{said}"
    );
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("sealdrop-inbox");
    let out = run(Command::new("install")
        .args(["-m", "0755"])
        .arg(bin("sealdrop-inbox"))
        .arg(&copy));
    assert_success(&out, "copy the inbox alone");
    if !Path::new(sealdrop_scrub::sandbox::parent::INSTALLED_HELPER).exists() {
        let out = run(Command::new(&copy).arg("--self-check"));
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("sandbox helper") && said.contains("not found"),
            "{said}"
        );
    }
}

#[test]
fn an_editor_imports_reads_looks_and_replies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let stick = dir.path().join("stick");
    fs::create_dir(&stick).unwrap();

    // The newsroom's two desks' servers: classic keys, and post-quantum keys
    // whose identity file is passphrase-protected.
    let classic = Server::spawn(&[]);
    let pq_identity = dir.path().join("pq-identity.txt");
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "--pq", "-o"])
        .arg(&pq_identity));
    assert_success(&out, "keygen --pq");
    let pq_recipient = String::from_utf8(out.stdout).unwrap();
    let pq = Server::spawn_with_recipients(&pq_recipient, &[]);
    let pq_protected = protect(&pq_identity, PASSPHRASE);
    fs::remove_file(&pq_identity).unwrap();
    let (plugins, hardware_identity, hardware_recipient) = hardware_key(dir.path());
    let hardware = Server::spawn_with_recipients(&format!("{hardware_recipient}\n"), &[]);

    let picture = photo(dir.path());
    let answer = submit(
        classic.addr,
        &[
            text_field("message", ARABIC.as_bytes()),
            file_field("photo.jpg", &picture),
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let codename = Codename::parse(&element_text(&answer.text(), "codename")).unwrap();
    let thread = keys::thread(&codename).to_string();
    let answer = submit(
        pq.addr,
        &[
            text_field("message", b"A second source, in English."),
            file_field(
                "notes.docx",
                &word_document("The quartermaster signed for forty rifles."),
            ),
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let english_codename_text = element_text(&answer.text(), "codename");
    let english_codename = Codename::parse(&english_codename_text).unwrap();
    // She comes back with a follow-up: two submissions in her thread.
    let page = login(pq.addr, "en", &english_codename_text);
    assert_eq!(page.status, 200, "{}", page.text());
    let body = multipart_body(&[
        text_field("token", token_in(&page.text()).as_bytes()),
        text_field("message", b"A follow-up from the second source."),
    ]);
    let mut request = post_head("/en/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    let answer = exchange(pq.addr, &request);
    assert!(answer.status < 400, "the follow-up: {}", answer.text());
    let english_thread = keys::thread(&english_codename).to_string();
    let answer = submit(
        hardware.addr,
        &[text_field("message", b"Sealed to a hardware key.")],
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let hardware_codename = Codename::parse(&element_text(&answer.text(), "codename")).unwrap();
    let hardware_thread = keys::thread(&hardware_codename).to_string();
    for server in [&classic, &pq, &hardware] {
        for sealed in server.sealed_files() {
            fs::copy(&sealed, stick.join(sealed.file_name().unwrap())).unwrap();
        }
    }
    assert_eq!(fs::read_dir(&stick).unwrap().count(), 4);
    // Two files that are not submissions, which must not stop the others: a
    // damaged one, and a real submission renamed after a folder the
    // workspace keeps for itself.
    let damaged = format!("{}.age", "f".repeat(32));
    fs::write(
        stick.join(&damaged),
        b"age-encryption.org/v1\n-> X25519 damaged\n",
    )
    .unwrap();
    fs::copy(&classic.sealed_files()[0], stick.join("outbox.age")).unwrap();

    let workspace = dir.path().join("workspace");
    let outbox = dir.path().join("outbox");
    let reply_bytes = REPLY.len().to_string();
    // The recipient of the export: a key of stock age's own.
    let export_key = dir.path().join("export-key.txt");
    let out = run(Command::new("age-keygen").arg("-o").arg(&export_key));
    assert_success(&out, "age-keygen");
    let export_recipient = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|line| line.strip_prefix("Public key: "))
        .expect("age-keygen names the public key")
        .to_owned();
    let risks = [
        "export-risks",
        "export-risk-malware",
        "export-risk-anonymity",
        "export-risk-plain",
    ]
    .map(words);
    let exports = dir.path().join("exports");
    fs::create_dir(&exports).unwrap();
    // Whether this machine's temporary folder is on a LUKS volume, as
    // util-linux says (the export refuses a folder that is not).
    let device = run(Command::new("findmnt")
        .args(["-n", "-o", "MAJ:MIN", "-T"])
        .arg(&exports));
    let device = String::from_utf8_lossy(&device.stdout).trim().to_owned();
    let kind = run(Command::new("lsblk")
        .args(["-n", "-d", "-o", "TYPE"])
        .arg(format!("/dev/block/{device}")));
    let on_luks = String::from_utf8_lossy(&kind.stdout).trim() == "crypt";
    let word_list = |lang: &str| {
        let ids = [
            "app-title",
            "import-button",
            "import-title",
            "import-folder",
            "identity-files",
            "import-start",
            "passphrase-title",
            "unlock",
            "sources",
            "category-location",
            "picture-title",
            "close",
            "composer",
            "seal-reply",
            "star",
            "junk",
            "not-junk",
            "search",
            "delete",
            "delete-title",
            "delete-anyway",
            "delete-submission",
            "delete-submission-title",
            "export",
            "export-title",
            "export-recipients",
            "export-folder",
            "export-start",
            "export-to-luks",
            "export-to-age",
            "export-pdf",
            "print",
            "cancel",
        ];
        serde_json::Value::Object(
            ids.iter()
                .map(|id| (id.to_string(), serde_json::json!(words_in(lang, id))))
                .collect(),
        )
    };
    let seen = drive(
        dir.path(),
        "en",
        &workspace,
        &outbox,
        plugins.path(),
        serde_json::json!({
            "stick": stick,
            "identities": [classic.identity, pq_protected, hardware_identity],
            "pin": "1234",
            "passphrase": PASSPHRASE,
            "arabic_row": row_name("en", &thread),
            "arabic_paragraphs": ARABIC_PARAGRAPHS,
            "show_picture": words("show-picture"),
            "reply": REPLY,
            "reply_count": format!("{reply_bytes} of 16000 bytes"),
            "reply_first_words": "شكراً لك.",
            // Part 2: the same words typed with other letter forms (teh
            // marbuta as heh, Persian yeh, harakat), an English word, a
            // word of the reply.
            "arabic_query": "المدينه الیوم مَدخل",
            "english_query": "SECOND sourc",
            "reply_query": "publish",
            // A word only in the English source's Word document.
            "document_query": "quartermaster",
            "document_name": "notes.docx",
            "search_file": workspace.join(".sealdrop-inbox/search.sqlite"),
            "search_snapshot": dir.path().join("search-after-one.sqlite"),
            "english_row": row_name("en", &english_thread),
            "hardware_row": row_name("en", &hardware_thread),
            "views": {
                "starred-1": words("show-starred").replace("{ $count }", "1"),
                "all-3": words("show-all").replace("{ $count }", "3"),
                "junk-1": words("show-junk").replace("{ $count }", "1"),
                "all-1": words("show-all").replace("{ $count }", "1"),
            },
            "import_done": "Import finished: 4 imported, 0 already here, 2 failed, 0 attachments not cleaned.",
            "reimport_done": "Import finished: 0 imported, 4 already here, 2 failed, 0 attachments not cleaned.",
            // Part 3.
            "export_risks": risks,
            "export_photo": words("export-file").replace("{ $name }", "photo.jpg"),
            "export_recipient": export_recipient,
            "export_folder": exports,
            "export_done": "Exported to ",
            "luks_refused": (!on_luks).then_some("is not on an unlocked LUKS volume"),
            "pdf_saved": "Saved to ",
            // GTK's own dialog, in GTK's words.
            "print_dialog": "Print",
            "print_cancel": "Cancel",
            "delete_shown": "Delete the source shown…",
            "delete_shown_title": "Delete the source shown?",
            "reply_sealed": "Reply sealed into ",
            "screenshot_name": "inbox-en.png",
            "words": word_list("en"),
        }),
    );

    // What the editor read and saw.
    assert_eq!(
        seen["paragraphs"],
        serde_json::json!(ARABIC_PARAGRAPHS),
        "{seen}"
    );
    let findings = seen["findings"].to_string();
    assert!(
        findings.contains("GPS"),
        "the photo's position is named: {findings}"
    );
    assert!(
        seen["passphrase_prompt"]
            .as_str()
            .unwrap()
            .contains("pq-identity.age"),
        "{seen}"
    );
    assert!(
        seen["pin_prompt"].as_str().unwrap().contains("PIN"),
        "the hardware key's PIN was asked in the window: {seen}"
    );
    let size = &seen["picture_size"];
    assert!(
        size[0].as_i64().unwrap() > 50 && size[1].as_i64().unwrap() > 50,
        "{size}"
    );
    assert_eq!(
        seen["reply_count"].as_str().unwrap(),
        format!("{reply_bytes} of 16000 bytes")
    );

    // Part 2: starred, found in Arabic whatever the letter forms, junk
    // hidden and brought back.
    let arabic_row = row_name("en", &thread);
    let only = |field: &str, row: &str| {
        let rows = seen[field].as_array().unwrap();
        assert!(
            rows.len() == 1 && rows[0].as_str().unwrap().contains(row),
            "{field}: {seen}"
        );
    };
    only("starred_rows", &arabic_row);
    only("search_rows", &arabic_row);
    only("reply_search_rows", &arabic_row);
    only("english_search_rows", &row_name("en", &english_thread));
    only("document_search_rows", &row_name("en", &english_thread));
    only("junk_rows", &row_name("en", &english_thread));
    assert!(!seen["after_junk_rows"]
        .to_string()
        .contains(&row_name("en", &english_thread)));

    // Deleted: its folder, its sealed copy, its words in the search index's
    // file; and importing the stick again does not bring it back (below).
    assert!(!seen["after_delete_rows"]
        .to_string()
        .contains(&row_name("en", &hardware_thread)));
    let hardware_id = hardware.sealed_files()[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(!workspace.join(&hardware_id).exists());
    assert!(!workspace
        .join(".sealdrop-inbox/sealed")
        .join(format!("{hardware_id}.age"))
        .exists());
    assert!(
        !workspace.join("threads").join(&hardware_thread).exists(),
        "the thread's folder went with it"
    );
    let index = fs::read_to_string(workspace.join(".sealdrop-inbox/index.json")).unwrap();
    assert!(
        !index.contains("hardware key"),
        "its preview went from the index"
    );
    assert!(index.contains(&hardware_id), "its id is kept as deleted");
    // No word of what was deleted is left in the search index: not in its
    // vocabulary (read through FTS5), nor anywhere in the file's bytes.
    let search_path = workspace.join(".sealdrop-inbox/search.sqlite");
    let search_file = fs::read(&search_path).unwrap();
    let (search, renewed) =
        sealdrop_inbox::workspace::search::SearchIndex::open_checked(&search_path).unwrap();
    assert!(!renewed, "the search index was left sound");
    let vocabulary = search.vocabulary().unwrap();
    for gone in ["hardware", "quartermaster", "second", "follow", "rifles"] {
        assert!(!vocabulary.contains(gone), "{gone} in {vocabulary:?}");
        assert!(
            !search_file
                .windows(gone.len())
                .any(|w| w == gone.as_bytes()),
            "a deleted word stays in the search index's file: {gone}"
        );
    }
    assert!(
        vocabulary.contains("publish"),
        "the index still holds the others"
    );
    assert_eq!(
        search.threads_matching("publish").unwrap(),
        std::collections::BTreeSet::from([thread.clone()])
    );
    drop(search);

    // Part 3. The risks said before anything leaves.
    assert_eq!(seen["export_risks"].as_array().unwrap().len(), 4, "{seen}");
    // The export, opened with stock age and read with unzip: the
    // conversation as the window shows it, and the photo's cleaned copy,
    // dated 1980 like every entry (the archive says nothing of when it was
    // made).
    let mut exported: Vec<PathBuf> = fs::read_dir(&exports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    exported.sort();
    let sealed_export = exported
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".zip.age"))
        .unwrap_or_else(|| panic!("no sealed export in {exported:?}"));
    let zip_path = dir.path().join("export.zip");
    let out = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&export_key)
        .arg("-o")
        .arg(&zip_path)
        .arg(sealed_export));
    assert_success(&out, "age -d the export");
    let out = run(Command::new("unzip").arg("-Z1").arg(&zip_path));
    assert_success(&out, "unzip -Z1");
    let entries: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0], "conversation.txt");
    assert!(
        entries[1].starts_with("files/") && entries[1].ends_with("-photo.jpg"),
        "{entries:?}"
    );
    let out = run(Command::new("unzip")
        .arg("-p")
        .arg(&zip_path)
        .arg("conversation.txt"));
    assert_success(&out, "unzip -p conversation.txt");
    let conversation = String::from_utf8(out.stdout).unwrap();
    for paragraph in ARABIC_PARAGRAPHS {
        assert!(
            conversation.contains(paragraph),
            "{paragraph} in {conversation}"
        );
    }
    assert!(conversation.contains(REPLY), "{conversation}");
    assert!(
        conversation.contains("GPS position"),
        "the findings are in it: {conversation}"
    );
    // Named, never with their values: the coordinates and the camera that
    // cleaning removed do not leave again in the transcript.
    for value in ["36.2", "37.13", "Pixel 7"] {
        assert!(!conversation.contains(value), "{value} in {conversation}");
    }
    let out = run(Command::new("unzip")
        .arg("-p")
        .arg(&zip_path)
        .arg(&entries[1]));
    let id = classic.sealed_files()[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        out.stdout,
        fs::read(workspace.join(&id).join("cleaned/photo.jpg")).unwrap(),
        "the cleaned copy, byte for byte"
    );
    let out = run(Command::new("zipinfo").arg("-T").arg(&zip_path));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.matches(" 19800101.").count(), 2, "{listing}");
    assert_eq!(listing.matches("-rw-------").count(), 2, "{listing}");
    if !on_luks {
        assert!(seen["luks_status"].as_str().is_some(), "{seen}");
    }
    // The PDF, sealed like the archive, opened with stock age; dated
    // 1980-01-01 (cairo would write when and in which time zone).
    let sealed_pdf = exported
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".pdf.age"))
        .unwrap_or_else(|| panic!("no sealed PDF in {exported:?}"));
    let pdf = &dir.path().join("conversation.pdf");
    let out = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&export_key)
        .arg("-o")
        .arg(pdf)
        .arg(sealed_pdf));
    assert_success(&out, "age -d the PDF");
    let out = run(Command::new("pdfinfo").arg("-isodates").arg(pdf));
    assert_success(&out, "pdfinfo");
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("1980-01-01T00:00:00"), "{info}");
    assert!(!info.contains("ModDate"), "{info}");
    // The PDF, read by Ghostscript's text device: the same words. It gives
    // right-to-left words as drawn, letter by letter from the left, so an
    // Arabic word appears reversed; words with the lam-alef ligature are
    // left out (its two letters come back in logical order inside the
    // reversed word), and those with harakat (drawn, and read, apart).
    // poppler's pdftotext is not the judge here: it splits
    // shaped Arabic words where the glyphs' advances round.
    let out = run(Command::new("gs")
        .args([
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=txtwrite",
            "-sOutputFile=-",
        ])
        .arg(pdf));
    assert_success(&out, "gs -sDEVICE=txtwrite");
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let printed_words: Vec<&str> = printed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut arabic_words = 0;
    for word in ARABIC_PARAGRAPHS
        .iter()
        .chain([&REPLY])
        .flat_map(|p| p.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
    {
        if word.is_ascii() {
            assert!(
                printed_words.contains(&word),
                "{word} not in the PDF: {printed}"
            );
        } else if !word.contains("لا") && !word.contains(|c| ('\u{064B}'..='\u{065F}').contains(&c))
        {
            let drawn: String = word.chars().rev().collect();
            assert!(
                printed_words.contains(&drawn.as_str()),
                "{word} not in the PDF: {printed}"
            );
            arabic_words += 1;
        }
    }
    assert!(arabic_words >= 12, "{arabic_words} Arabic words checked");
    assert!(
        printed.contains("GPS position"),
        "the findings are printed: {printed}"
    );
    for value in ["36.2", "37.13", "Pixel 7"] {
        assert!(!printed.contains(value), "{value} printed: {printed}");
    }
    assert_eq!(seen["print_dialog"], "Print", "{seen}");
    // One submission deleted, the source kept: its words gone from the
    // index (vocabulary and bytes), her follow-up's still there.
    let snapshot = dir.path().join("search-after-one.sqlite");
    let snapshot_bytes = fs::read(&snapshot).unwrap();
    let (after_one, _) =
        sealdrop_inbox::workspace::search::SearchIndex::open_checked(&snapshot).unwrap();
    let words_after_one = after_one.vocabulary().unwrap();
    for gone in ["quartermaster", "rifles"] {
        assert!(
            !words_after_one.contains(gone),
            "{gone} in {words_after_one:?}"
        );
        assert!(
            !snapshot_bytes
                .windows(gone.len())
                .any(|w| w == gone.as_bytes()),
            "{gone}"
        );
    }
    for kept in ["follow", "second"] {
        assert!(
            words_after_one.contains(kept),
            "{kept} not in {words_after_one:?}"
        );
    }
    drop(after_one);
    // Then the whole view.
    assert!(seen["document_search_after_delete"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(seen["after_submission_delete_rows"]
        .to_string()
        .contains(&row_name("en", &english_thread)));
    only("after_bulk_rows", &arabic_row);

    // Each bad file named, with why; the others imported; again, nothing twice.
    let status = seen["import_status"].as_str().unwrap();
    assert!(status.contains(&damaged), "{status}");
    assert!(
        status.contains("outbox.age") && status.contains("not named as sealdrop names submissions"),
        "{status}"
    );
    assert!(seen["reimport_status"].as_str().is_some(), "{seen}");

    // Left to right in English: the list of sources left of the composer.
    let x = |name: &str| {
        seen[name]
            .as_i64()
            .unwrap_or_else(|| panic!("{name}: {seen}"))
    };
    assert!(x("sources_x") < x("composer_x"), "{seen}");

    // Hardened like sealdrop-open: no core dump can hold its keys.
    assert_eq!(seen["core_limit"], "0", "{seen}");

    // Offline: only `lo` in its namespace, no socket but local ones.
    assert_eq!(seen["interfaces"], serde_json::json!(["lo"]), "{seen}");
    let sockets = seen["sockets"].as_array().unwrap();
    assert!(
        !sockets.is_empty(),
        "it talks to its buses over local sockets"
    );
    assert!(sockets.iter().all(|s| s == "unix"), "{sockets:?}");

    // The reply, sealed into the outbox, opens with stock age and the key
    // the source's codename derives, and nothing else does.
    let replies: Vec<PathBuf> = fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(seen["reply_status"]
        .as_str()
        .unwrap()
        .contains(replies[0].file_name().unwrap().to_str().unwrap()));
    let identity = dir.path().join("derived.txt");
    use age::secrecy::ExposeSecret;
    let secret = keys::x25519_identity(&codename).to_string();
    fs::write(&identity, format!("{}\n", secret.expose_secret())).unwrap();
    // After the reply file's clear preamble (docs/FORMAT.md, 7.3): a
    // standard age file.
    let bytes = fs::read(&replies[0]).unwrap();
    let age_part = dir.path().join("reply.age");
    fs::write(
        &age_part,
        &bytes[sealdrop_format::reply::file::PREAMBLE_LEN..],
    )
    .unwrap();
    let out = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity)
        .arg(&age_part));
    assert_success(&out, "stock age opens the reply");
    let plaintext = String::from_utf8_lossy(&out.stdout);
    assert!(plaintext.contains(REPLY), "{plaintext}");

    // The same workspace in Arabic: the window's words, mirrored (the list
    // of sources on the right), the message as it was.
    let seen = drive(
        dir.path(),
        "ar",
        &workspace,
        &outbox,
        plugins.path(),
        serde_json::json!({
            "mode": "read",
            "arabic_row": row_name("ar", &thread),
            "arabic_paragraphs": ARABIC_PARAGRAPHS,
            "screenshot_name": "inbox-ar.png",
            "words": word_list("ar"),
        }),
    );
    assert_eq!(seen["heading"].as_str().unwrap(), "المصادر");
    assert_eq!(
        seen["paragraphs"],
        serde_json::json!(ARABIC_PARAGRAPHS),
        "{seen}"
    );
    let x = |name: &str| {
        seen[name]
            .as_i64()
            .unwrap_or_else(|| panic!("{name}: {seen}"))
    };
    assert!(
        x("sources_x") > x("composer_x"),
        "mirrored: the list of sources right of the composer: {seen}"
    );

    // The workspace: the layout `sealdrop-open` reads, originals sealed.
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["list", "-i"])
        .arg(&classic.identity)
        .arg("--workspace")
        .arg(&workspace)
        .arg(&classic.sealed_files()[0]));
    assert_success(&out, "sealdrop-open list --workspace");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains(&format!("THREAD {thread}")), "{listing}");
    assert!(
        listing.contains("reply sent"),
        "the reply is in the thread: {listing}"
    );
    let id = classic.sealed_files()[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let folder = workspace.join(&id);
    assert!(folder.join("manifest.json").is_file() && folder.join("message.txt").is_file());
    assert!(folder.join("cleaned/photo.jpg").is_file());
    assert!(
        !folder.join("attachments").exists(),
        "no decrypted original is kept"
    );
    assert!(workspace
        .join(".sealdrop-inbox/sealed")
        .join(format!("{id}.age"))
        .is_file());
    assert!(workspace.join(".trackerignore").is_file());
    assert!(
        !workspace.join("outbox/manifest.json").exists(),
        "no submission took the outbox's place"
    );
    // The cleaned copy kept no position.
    let out = run(Command::new("exiftool")
        .args(["-GPSLatitude", "-Model"])
        .arg(folder.join("cleaned/photo.jpg")));
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "{out:?}"
    );
}
