//! Dev-only: helpers that run the real sealdrop programs end to end (the
//! server in-process or as a process on a real socket, the offline program,
//! independent tools as oracles), shared by the test binaries in `tests/`.
//! Nothing here ships.

pub mod axe;
pub mod garage;
pub mod marionette;
pub mod server;
pub mod tornet;
pub mod webdriver;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use age::secrecy::ExposeSecret;
use sealdrop_format::keys::Recipients;
use sealdrop_format::seal::{SealOptions, SubmissionReader, SubmissionWriter};

/// What the browser tests do in either browser: Chromium over WebDriver,
/// Firefox ESR over Marionette.
pub trait Browser {
    fn goto(&mut self, url: &str);
    fn find(&mut self, css: &str) -> String;
    fn try_find(&mut self, css: &str) -> Option<String>;
    fn send_keys(&mut self, element: &str, text: &str);
    fn click(&mut self, element: &str);
    fn property(&mut self, element: &str, name: &str) -> serde_json::Value;
    fn url(&mut self) -> String;

    /// Waits up to 30 s for an element to appear (the answer to a form).
    fn wait_for(&mut self, css: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            if let Some(element) = self.try_find(css) {
                return element;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "no {css} at {}",
                self.url()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

pub struct Key {
    pub identity: age::x25519::Identity,
    pub recipient: age::x25519::Recipient,
}

impl Default for Key {
    fn default() -> Self {
        Self::new()
    }
}

impl Key {
    pub fn new() -> Key {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        Key {
            identity,
            recipient,
        }
    }

    /// Writes the identity in age's identity-file format.
    pub fn write_identity(&self, path: &Path) {
        std::fs::write(
            path,
            format!("{}\n", self.identity.to_string().expose_secret()),
        )
        .unwrap();
    }
}

pub fn recipients(keys: &[&Key]) -> Recipients {
    Recipients::from_keys(keys.iter().map(|k| k.recipient.clone()).collect())
}

/// What a source sends: an optional message and named files.
#[derive(Clone, Debug)]
pub struct Submission {
    pub message: Option<Vec<u8>>,
    pub files: Files,
}

/// Seals `sub` in chunks of `chunk` bytes, the way the server feeds the sealer.
pub fn seal(sub: &Submission, keys: &[&Key], chunk: usize) -> Vec<u8> {
    let mut w =
        SubmissionWriter::new(&recipients(keys), Vec::new(), &SealOptions::default()).unwrap();
    if let Some(message) = &sub.message {
        w.begin_message().unwrap();
        for c in message.chunks(chunk.max(1)) {
            w.write_part(c).unwrap();
        }
        w.end_part().unwrap();
    }
    for (name, data) in &sub.files {
        w.begin_attachment(name, Some("application/octet-stream"))
            .unwrap();
        for c in data.chunks(chunk.max(1)) {
            w.write_part(c).unwrap();
        }
        w.end_part().unwrap();
    }
    w.finish().unwrap().0
}

/// Files as (sanitized path inside the archive, content).
pub type Files = Vec<(String, Vec<u8>)>;

/// Opens a sealed file with `key`: (message, files).
pub fn open(sealed: &[u8], key: &Key) -> (Option<Vec<u8>>, Files) {
    let mut r = SubmissionReader::open(
        std::io::BufReader::new(Cursor::new(sealed)),
        std::iter::once(&key.identity as &dyn age::Identity),
    )
    .unwrap();
    let manifest = r.manifest().clone();
    let mut message = None;
    let mut files = Vec::new();
    for (i, part) in manifest.parts.iter().enumerate() {
        let mut data = Vec::new();
        std::io::copy(&mut r.part_reader(i).unwrap(), &mut data).unwrap();
        match part.kind {
            sealdrop_format::seal::PartKind::Message => message = Some(data),
            _ => files.push((part.path.clone(), data)),
        }
    }
    (message, files)
}

/// The manifest of a sealed file, opened with `key`.
pub fn manifest_of(sealed: &[u8], key: &Key) -> sealdrop_format::seal::Manifest {
    SubmissionReader::open(
        std::io::BufReader::new(Cursor::new(sealed)),
        std::iter::once(&key.identity as &dyn age::Identity),
    )
    .unwrap()
    .manifest()
    .clone()
}

/// One of the workspace's programs (`sealdrop`, `sealdrop-open`,
/// `sealdrop-sandbox`), as the
/// test run built it: beside the test executable's `deps/` folder. The
/// programs live in other packages of the workspace, so Cargo's
/// `CARGO_BIN_EXE_*` cannot name them; `cargo test --workspace` (what
/// scripts/test.sh runs) builds them before any test starts, through each
/// package's own integration tests. Run alone, a test builds a missing one.
pub fn bin(name: &str) -> PathBuf {
    let package = match name {
        "sealdrop" => name,
        // sealdrop-open runs every hostile file's parser in the helper
        // beside it.
        "sealdrop-open" => {
            bin("sealdrop-sandbox");
            name
        }
        "sealdrop-sandbox" => "sealdrop-scrub",
        // The desktop inbox runs the same helper.
        "sealdrop-inbox" => {
            bin("sealdrop-sandbox");
            name
        }
        other => panic!("unknown binary {other}"),
    };
    let path = profile_dir().join(name);
    if !path.exists() {
        let out = run(Command::new(env!("CARGO"))
            .args(["build", "--locked", "-p", package, "--bin", name])
            .current_dir(env!("CARGO_MANIFEST_DIR")));
        assert_success(&out, &format!("cargo build -p {package} --bin {name}"));
    }
    path
}

/// `<target>/<profile>`, from the test executable's place in `deps/`.
fn profile_dir() -> PathBuf {
    std::env::current_exe()
        .expect("the test executable's path")
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in <target>/<profile>/deps")
        .to_path_buf()
}

/// `<target>/tmp`, Cargo's folder for tests' scratch files (what
/// `CARGO_TARGET_TMPDIR` names in a test target, which a library cannot see).
pub fn target_tmpdir() -> PathBuf {
    let dir = profile_dir()
        .parent()
        .expect("<target>/<profile> has a parent")
        .join("tmp");
    std::fs::create_dir_all(&dir).expect("create <target>/tmp");
    dir
}

/// The workspace's root folder (docs, deploy files, static assets).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/sealdrop-testkit sits two folders below the root")
        .to_path_buf()
}

/// Runs a command, panicking with its output if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (is it installed? .ci/run installs it)")
    })
}

pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A minimal ZIP builder that writes whatever it is told, for hostile archives:
/// entries with local sizes known upfront, no validation of names or sizes.
pub struct RawZip {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u16,
    /// Each entry's central record without its name, to make aliases of.
    records: Vec<Vec<u8>>,
}

impl Default for RawZip {
    fn default() -> Self {
        Self::new()
    }
}

impl RawZip {
    pub fn new() -> Self {
        RawZip {
            out: Vec::new(),
            central: Vec::new(),
            count: 0,
            records: Vec::new(),
        }
    }

    /// `method` 0 = stored, 8 = deflated; `declared` is the uncompressed size
    /// written in the headers, `crc` the CRC written in the headers.
    pub fn entry(
        &mut self,
        name: &str,
        method: u16,
        data: &[u8],
        declared: u32,
        crc: u32,
    ) -> &mut Self {
        self.entry_named(name, name, method, data, declared, crc)
    }

    /// An entry whose local header carries `local_name` while the central
    /// directory says `name`.
    pub fn entry_named(
        &mut self,
        name: &str,
        local_name: &str,
        method: u16,
        data: &[u8],
        declared: u32,
        crc: u32,
    ) -> &mut Self {
        let offset = self.out.len() as u32;
        let mut h = Vec::new();
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(&(1u16 << 11).to_le_bytes());
        h.extend_from_slice(&method.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0x21u16.to_le_bytes());
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&declared.to_le_bytes());
        h.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(local_name.as_bytes());
        self.out.extend_from_slice(&h);
        self.out.extend_from_slice(data);
        let record_start = self.central.len();
        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&(1u16 << 11).to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&0x21u16.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&declared.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0u8; 12]); // extra len, comment len, disk, internal attrs, external attrs
        c.extend_from_slice(&offset.to_le_bytes());
        let record = c[record_start..].to_vec();
        c.extend_from_slice(name.as_bytes());
        self.records.push(record);
        self.count += 1;
        self
    }

    /// A second central record named `name` for entry number `of`: the same
    /// data, reachable under two names (the overlapping "better zip bomb").
    pub fn alias(&mut self, name: &str, of: usize) -> &mut Self {
        let mut record = self.records[of].clone();
        record[28..30].copy_from_slice(&(name.len() as u16).to_le_bytes());
        self.central.extend_from_slice(&record);
        self.central.extend_from_slice(name.as_bytes());
        self.records.push(record);
        self.count += 1;
        self
    }

    /// A stored entry with honest sizes and CRC.
    pub fn stored(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(name, 0, data, data.len() as u32, crc32fast::hash(data))
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.out.clone();
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A manifest.json listing `parts` as (kind, path, data).
pub fn manifest_json(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let parts: Vec<_> = parts
        .iter()
        .map(|(kind, path, data)| {
            serde_json::json!({"kind": kind, "path": path, "size": data.len(), "sha256": sha256_hex(data)})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "format": "sealdrop-submission", "version": 1,
        "received": "2026-11-25T04:00:00Z", "received_granularity_secs": 3600,
        "parts": parts,
    }))
    .unwrap()
}

/// Encrypts `plaintext` to `key` with the age crate (as a stock `age -e` would).
pub fn age_encrypt(plaintext: &[u8], key: &Key) -> Vec<u8> {
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&key.recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plaintext).unwrap();
    w.finish().unwrap();
    out
}

/// The names in a server's store folder, sorted, without the pool of empty
/// files the server makes ahead of time (`.pool-*`, so that no file's birth
/// time dates an arrival). Each pool file is checked to be empty: no data
/// can hide among them. The replies folder is listed as `replies/<name>` for
/// each file in it (nothing when it is empty).
pub fn store_entries(store: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(store).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "replies" && entry.file_type().unwrap().is_dir() {
            for reply in std::fs::read_dir(entry.path()).unwrap() {
                let reply = reply.unwrap().file_name().to_string_lossy().into_owned();
                names.push(format!("replies/{reply}"));
            }
        } else if name.starts_with(".pool-") {
            // The server renews its pool at every pass: a pool file listed a
            // moment ago may be gone (taken, or replaced) by now.
            match entry.metadata() {
                Ok(meta) => assert_eq!(meta.len(), 0, "pool file {name} holds data"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("pool file {name}: {e}"),
            }
        } else {
            names.push(name);
        }
    }
    names.sort();
    names
}

/// The submission folders `sealdrop-open decrypt` wrote into `opened`,
/// sorted, without its `threads` folder (one folder per conversation, each
/// with its `thread.txt`, checked here).
pub fn opened_submissions(opened: &Path) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(opened).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "threads") {
            for thread in std::fs::read_dir(&path).unwrap() {
                let thread = thread.unwrap().path();
                assert!(thread.join("thread.txt").is_file(), "{thread:?}");
            }
        } else {
            folders.push(path);
        }
    }
    folders.sort();
    folders
}

/// A file system mounted for a test, unmounted when dropped. Mounting needs
/// root (CI runs as root).
pub struct Mount {
    at: PathBuf,
    image: Option<PathBuf>,
}

impl Mount {
    fn mount(at: &Path, args: &[&str], what: &str) -> PathBuf {
        std::fs::create_dir_all(at).unwrap();
        let out = run(Command::new("mount").args(args).arg(at));
        assert!(
            out.status.success(),
            "this test mounts {what} and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        at.to_owned()
    }

    /// A tmpfs of `size` (such as "3m") at `at`, mode 0700.
    pub fn tmpfs(at: &Path, size: &str) -> Mount {
        let options = format!("size={size},mode=0700");
        Mount {
            at: Self::mount(at, &["-t", "tmpfs", "-o", &options, "tmpfs"], "a tmpfs"),
            image: None,
        }
    }

    /// A fresh ext4 file system of `mib` MiB in an image file beside `at`,
    /// loop-mounted at `at`.
    pub fn ext4(at: &Path, mib: u64) -> Mount {
        let image = at.with_extension("ext4.img");
        let file = std::fs::File::create(&image).unwrap();
        file.set_len(mib << 20).unwrap();
        drop(file);
        assert_success(
            &run(Command::new("mkfs.ext4").arg("-q").arg(&image)),
            "mkfs.ext4",
        );
        let source = image.to_str().unwrap().to_owned();
        Mount {
            at: Self::mount(at, &["-o", "loop", &source], "a loop device"),
            image: Some(image),
        }
    }
}

impl Mount {
    pub fn path(&self) -> &Path {
        &self.at
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
        if let Some(image) = &self.image {
            let _ = std::fs::remove_file(image);
        }
    }
}

/// Lists every file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// A codename in every form a server could leak it in.
pub fn codename_needles(codename: &sealdrop_format::reply::Codename) -> Vec<(String, Vec<u8>)> {
    let mut needles = Vec::new();
    use sealdrop_format::reply::codename::{ARABIC_INDIC, PERSIAN, WESTERN};
    for (script, digits) in [
        ("Western", WESTERN),
        ("Arabic-Indic", ARABIC_INDIC),
        ("Persian", PERSIAN),
    ] {
        let grouped = codename.grouped_in(digits).to_string();
        let joined: String = grouped.chars().filter(|c| *c != ' ').collect();
        needles.push((
            format!("the codename ({script}, grouped)"),
            grouped.into_bytes(),
        ));
        needles.push((format!("the codename ({script})"), joined.into_bytes()));
    }
    // Half of it is enough to tell: a partial copy is a leak too.
    needles.push((
        "16 digits of the codename".into(),
        codename.ascii()[..16].to_vec(),
    ));
    needles.push((
        "the codename's last 16 digits".into(),
        codename.ascii()[16..].to_vec(),
    ));
    // The key of her replies' tags finds them all: as bytes and as the hex
    // the manifest carries (inside ciphertext only).
    let tag_key = sealdrop_format::reply::keys::tag_key(codename);
    needles.push(("the tag key".into(), tag_key[..].to_vec()));
    needles.push((
        "the tag key (hex)".into(),
        sealdrop_format::hex::encode(&tag_key[..]).into_bytes(),
    ));
    needles
}

/// Runs `cmd` (its program, arguments and environment) under a pseudo-terminal,
/// typing `answer` once its output shows `prompt`; returns its exit code and
/// everything it wrote to the terminal. For what asks on the terminal, never
/// on standard input: passphrases, a hardware key's PIN.
pub fn run_on_terminal(cmd: &mut Command, prompt: &str, answer: &str) -> (i32, String) {
    let script = r#"
import os, pty, sys
prompt, answer = sys.argv[1].encode(), sys.argv[2].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
out, sent = b"", False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and prompt in out:
        os.write(fd, answer)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut python = Command::new("python3");
    python
        .arg("-c")
        .arg(script)
        .arg(prompt)
        .arg(answer)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => python.env(key, value),
            None => python.env_remove(key),
        };
    }
    let out = run(&mut python);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A pickup listing (`GET /v1/submissions`) as (id, SHA-256) pairs.
pub fn parse_listing(body: &[u8]) -> Vec<(String, String)> {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap();
    parsed["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
