//! Starting the real `sealdrop` binary on a real socket, and a raw HTTP/1.1
//! client that can also send what no polite client would.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{assert_success, run, Key};

/// Tests whose outcome depends on having the machine's cores (the load test,
/// which counts how many uploads a server under pressure accepts) and tests
/// that take them (the Tor network, and every browser: `Driver` and
/// `Firefox` hold it while they live) take turns: each holds this while it
/// runs.
pub fn cores_to_myself() -> std::sync::MutexGuard<'static, ()> {
    static CORES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CORES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn server_bin() -> PathBuf {
    super::bin("sealdrop")
}

/// A running server with a fresh key and store. `start` runs it in this
/// process (through `sealdrop_server::serve`, on a runtime of its own);
/// `spawn` runs the `sealdrop` binary, for tests that need a process: signals,
/// crashes, logging, memory, the environment.
pub struct Server {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
    pub tmp: PathBuf,
    pub key: Key,
    pub identity: PathBuf,
    running: Running,
}

enum Running {
    Process {
        child: Child,
        output: Arc<Mutex<Vec<u8>>>,
    },
    InProcess {
        app: Arc<sealdrop_server::App>,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        runtime: Option<tokio::runtime::Runtime>,
    },
}

/// The first address in the server's start-up line ("… serving on ADDR, …"),
/// which names the addresses actually bound. Servers in tests listen on port
/// 0 and are found through this line: a port picked by the test and then
/// freed could be taken by another test's server, and polling it with
/// `connect` could reach that server (or the client itself, by a TCP
/// self-connect) before the right one listens.
pub fn serving_addr(output: &str) -> Option<String> {
    let rest = output
        .lines()
        .find_map(|line| line.split_once("serving on ").map(|(_, rest)| rest))?;
    rest.split(", ").next().map(|a| a.trim().to_owned())
}

/// Collects what `child` writes to its piped stdout and stderr (whichever
/// are piped), in the background.
pub fn collect_output(child: &mut Child) -> Arc<Mutex<Vec<u8>>> {
    let output = Arc::new(Mutex::new(Vec::new()));
    let stdout = child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    let stderr = child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    for mut stream in stdout.into_iter().chain(stderr) {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    output
}

fn text(output: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&output.lock().unwrap()).into_owned()
}

/// Waits until `output` (see `collect_output`) holds the start-up line and
/// returns the TCP address it names. Panics with the output if `child` exits
/// first or nothing comes within 20 s.
pub fn wait_serving_line(child: &mut Child, output: &Mutex<Vec<u8>>) -> SocketAddr {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let seen = text(output);
        // Only whole lines: a line still being read could end mid-port.
        let whole_lines = &seen[..seen.rfind('\n').map_or(0, |end| end + 1)];
        if let Some(addr) = serving_addr(whole_lines) {
            return addr.parse().expect("a TCP address");
        }
        if child.try_wait().unwrap().is_some() {
            std::thread::sleep(Duration::from_millis(100));
            panic!("server exited at start: {}", text(output));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("server did not start within 20 s: {}", text(output));
}

/// `wait_serving_line` for a child whose output the caller does not keep.
pub fn wait_serving(child: &mut Child) -> SocketAddr {
    let output = collect_output(child);
    wait_serving_line(child, &output)
}

/// A private folder, as the server requires for its store.
pub fn private_dir(path: &Path) {
    fs::create_dir_all(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).unwrap();
}

/// What a test server is made of before it runs.
struct Fixture {
    dir: tempfile::TempDir,
    key: Key,
    identity: PathBuf,
    recipients: PathBuf,
    store: PathBuf,
    tmp: PathBuf,
}

impl Fixture {
    fn new(recipients_text: Option<&str>, extra: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new();
        let identity = dir.path().join("identity.txt");
        key.write_identity(&identity);
        let recipients = dir.path().join("recipients.txt");
        let text = match recipients_text {
            Some(text) => text.to_owned(),
            None => format!("# test key\n{}\n", key.recipient),
        };
        fs::write(&recipients, text).unwrap();
        // A test may bring its own store (`--store DIR` in `extra`).
        let store = match extra.iter().position(|a| *a == "--store") {
            Some(i) => PathBuf::from(extra[i + 1]),
            None => {
                let store = dir.path().join("store");
                private_dir(&store);
                store
            }
        };
        let tmp = dir.path().join("tmp");
        private_dir(&tmp);
        Fixture {
            dir,
            key,
            identity,
            recipients,
            store,
            tmp,
        }
    }

    /// The arguments of `sealdrop serve` for this fixture plus `extra`.
    fn serve_args(&self, extra: &[&str]) -> Vec<String> {
        // A server with desks has their recipients files instead, and a
        // test that brings a config file brings its keys in it.
        let mut args: Vec<String> = if extra.contains(&"--desk") || extra.contains(&"--config") {
            Vec::new()
        } else {
            vec!["--recipients".into(), path_arg(&self.recipients)]
        };
        if !extra.contains(&"--store") {
            args.extend(["--store".into(), path_arg(&self.store)]);
        }
        args.extend(["--listen".into(), "127.0.0.1:0".into()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        if !extra.contains(&"--min-free-disk") {
            // Test machines may have little free disk; the floor has its own test.
            args.extend(["--min-free-disk".into(), "1MiB".into()]);
        }
        args
    }

    fn into_server(self, addr: SocketAddr, running: Running) -> Server {
        Server {
            addr,
            dir: self.dir,
            store: self.store,
            tmp: self.tmp,
            key: self.key,
            identity: self.identity,
            running,
        }
    }
}

fn path_arg(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_owned()
}

impl Server {
    /// Starts the real server in this process with a fresh key and store plus
    /// `extra` flags of `sealdrop serve`.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_in_process(Fixture::new(None, extra), extra)
    }

    /// Starts a server in this process whose recipients file is `recipients`
    /// (for example post-quantum keys) instead of the generated classic `key`.
    pub fn start_with_recipients(recipients: &str, extra: &[&str]) -> Server {
        Self::start_in_process(Fixture::new(Some(recipients), extra), extra)
    }

    /// Runs the `sealdrop serve` binary with a fresh key and store.
    pub fn spawn(extra: &[&str]) -> Server {
        Self::spawn_with_env(extra, &[])
    }

    pub fn spawn_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_fixture(Fixture::new(None, extra), extra, env)
    }

    /// `spawn` with `recipients` as the recipients file.
    pub fn spawn_with_recipients(recipients: &str, extra: &[&str]) -> Server {
        Self::spawn_fixture(Fixture::new(Some(recipients), extra), extra, &[])
    }

    /// `spawn` with every choice: a recipients file's text (or the generated
    /// classic key), flags and environment.
    pub fn spawn_custom(recipients: Option<&str>, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_fixture(Fixture::new(recipients, extra), extra, env)
    }

    fn spawn_fixture(fixture: Fixture, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(server_bin());
        cmd.arg("serve")
            .args(fixture.serve_args(extra))
            .env("TMPDIR", &fixture.tmp)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start sealdrop");
        let output = collect_output(&mut child);
        let addr = wait_serving_line(&mut child, &output);
        fixture.into_server(addr, Running::Process { child, output })
    }

    fn start_in_process(fixture: Fixture, extra: &[&str]) -> Server {
        use sealdrop_server::{run, serve, ServeConfig, ServeOptions};
        let options = ServeOptions::parse_args(fixture.serve_args(extra)).expect("valid flags");
        let config = ServeConfig::from_options(options).expect("valid configuration");
        let runtime = sealdrop_server::workers::runtime(Some(2)).unwrap();
        let started = runtime
            .block_on(run::start(&config))
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let addr = match started.listeners.source[0].local_addr().unwrap() {
            sealdrop_server::ListenAddr::Tcp(addr) => addr,
            other => panic!("test servers listen on TCP, not {other}"),
        };
        let app = started.app.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(serve(started.app, started.listeners, async move {
            let _ = stopped.await;
        }));
        // The start-up pass has run: a test's own steps never race it.
        let since = std::time::Instant::now();
        while app.passes.load(std::sync::atomic::Ordering::Acquire) == 0 {
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "no maintenance pass"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        fixture.into_server(
            addr,
            Running::InProcess {
                app,
                stop: Some(stop),
                runtime: Some(runtime),
            },
        )
    }

    /// The server's process (for servers run with `spawn`).
    pub fn child(&mut self) -> &mut Child {
        match &mut self.running {
            Running::Process { child, .. } => child,
            Running::InProcess { .. } => panic!("an in-process server has no child: use spawn"),
        }
    }

    pub fn pid(&self) -> u32 {
        match &self.running {
            Running::Process { child, .. } => child.id(),
            Running::InProcess { .. } => panic!("an in-process server has no pid: use spawn"),
        }
    }

    /// The running server's shared state (for servers run with `start`).
    pub fn app(&self) -> &sealdrop_server::App {
        match &self.running {
            Running::InProcess { app, .. } => app,
            Running::Process { .. } => panic!("a spawned server's state is in its own process"),
        }
    }

    /// Stores a reply file as a push through the pickup API would (for
    /// servers run with `start`, which need no pickup listener for it).
    pub fn push_reply(&self, bytes: &[u8]) -> sealdrop_server::store::replies::Put {
        let app = self.app();
        let preamble = sealdrop_format::reply::file::check_shape(bytes).expect("a reply file");
        app.replies
            .as_ref()
            .expect("replies on")
            .folder
            .put(&app.store, bytes, &preamble, app.clock.now())
            .expect("stored")
    }

    /// What a spawned server printed so far.
    pub fn output_text(&self) -> String {
        match &self.running {
            Running::Process { output, .. } => text(output),
            Running::InProcess { .. } => panic!("an in-process server prints nothing: use spawn"),
        }
    }

    /// Names of everything in the store folder.
    pub fn store_names(&self) -> Vec<String> {
        super::store_entries(&self.store)
    }

    pub fn sealed_files(&self) -> Vec<PathBuf> {
        self.store_names()
            .into_iter()
            .filter(|n| n.ends_with(".age"))
            .map(|n| self.store.join(n))
            .collect()
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args(["-s", sig, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child().try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.running {
            Running::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::InProcess { stop, runtime, .. } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                // Connections a test left open must not hold the test up.
                if let Some(runtime) = runtime.take() {
                    runtime.shutdown_timeout(Duration::from_millis(200));
                }
            }
        }
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

/// Writes `request` and reads the answer until the peer closes.
fn exchange_over<S: Read + Write>(mut s: S, request: &[u8]) -> Response {
    // The server may answer early and close; a failed write is not the test's concern.
    let _ = s.write_all(request);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
        .unwrap_or_else(|| panic!("no HTTP response in {:?}", String::from_utf8_lossy(&raw)))
}

/// Sends raw bytes and reads the answer until the server closes.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    exchange_over(s, request)
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// One multipart field: name, optional file name and content type, data.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub data: &'a [u8],
}

pub fn text_field<'a>(name: &'a str, data: &'a [u8]) -> Field<'a> {
    Field {
        name,
        file_name: None,
        content_type: None,
        data,
    }
}

pub fn file_field<'a>(file_name: &'a str, data: &'a [u8]) -> Field<'a> {
    Field {
        name: "attachment",
        file_name: Some(file_name),
        content_type: Some("application/octet-stream"),
        data,
    }
}

pub const BOUNDARY: &str = "----sealdroptestboundary7MA4YWxkTrZu0gW";

pub fn multipart_body(fields: &[Field]) -> Vec<u8> {
    let mut body = Vec::new();
    for f in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", f.name);
        if let Some(file_name) = f.file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = f.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(f.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The head of a multipart POST with `extra` header lines.
pub fn post_head(path: &str, body_len: usize, extra: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {body_len}\r\n{extra}\r\n"
    )
    .into_bytes()
}

pub fn submit_with(addr: SocketAddr, fields: &[Field], extra_headers: &str) -> Response {
    let body = multipart_body(fields);
    let mut request = post_head("/submit", body.len(), extra_headers);
    request.extend_from_slice(&body);
    exchange(addr, &request)
}

/// The status of the answer to a first submission: the "received" page with
/// the source's codename (replies are on by default), which is never a
/// redirect, since the codename is in no URL.
pub const RECEIVED: u16 = 200;

pub fn submit(addr: SocketAddr, fields: &[Field]) -> Response {
    submit_with(addr, fields, "")
}

/// Sends raw bytes over a Unix socket and reads the answer until close.
pub fn unix_exchange(path: &Path, request: &[u8]) -> Response {
    let s = std::os::unix::net::UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    exchange_over(s, request)
}

/// A world-traversable folder with a recipients file and an empty store, for
/// a server run as nobody (chown the store to 65534 when root).
pub fn unprivileged_fixture() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let key = Key::new();
    let recipients = dir.path().join("r.txt");
    fs::write(&recipients, format!("{}\n", key.recipient)).unwrap();
    fs::set_permissions(&recipients, fs::Permissions::from_mode(0o644)).unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    fs::set_permissions(&store, fs::Permissions::from_mode(0o700)).unwrap();
    (dir, recipients, store)
}

pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Who a running process is (its real uid), and who owns its /proc entry:
/// proc(5) gives that entry to root when the process is not dumpable.
pub fn uid_and_proc_owner(pid: u32) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap();
    let owner = std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid();
    (uid, owner)
}

/// The server binary, run as nobody (via setpriv) when the test runs as root.
pub fn unprivileged_server(dir: &std::path::Path) -> Command {
    if running_as_root() {
        // The binary must be reachable by nobody, so it is copied out of a
        // target folder nobody may not enter. The copy is made by `install`,
        // in a process of its own: had this process opened the copy for
        // writing, a child forked meanwhile by another test thread would
        // inherit that descriptor until its own exec, and running the copy
        // would fail with ETXTBSY ("Text file busy").
        let bin = dir.join("sealdrop");
        assert_success(
            &run(Command::new("install")
                .args(["-m", "0755"])
                .arg(server_bin())
                .arg(&bin)),
            "install the server binary",
        );
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        c
    } else {
        Command::new(server_bin())
    }
}

/// The text of the element with `id` in a page.
pub fn element_text(page: &str, id: &str) -> Option<String> {
    let start = page.find(&format!("id=\"{id}\""))?;
    let open = start + page[start..].find('>')? + 1;
    let close = open + page[open..].find('<')?;
    Some(page[open..close].to_owned())
}

/// The value of the first hidden `token` field in a page.
pub fn token_in(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a token field") + 20;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn post_form(addr: std::net::SocketAddr, path: &str, body: &str) -> Response {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, request.as_bytes())
}

pub fn login(addr: std::net::SocketAddr, lang: &str, codename: &str) -> Response {
    post_form(
        addr,
        &format!("/{lang}/replies"),
        &format!("codename={}", percent_encode(codename)),
    )
}
