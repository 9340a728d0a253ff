//! A real replicated object store for the tests: a Garage cluster of three
//! nodes on loopback, replication factor 3 (two of three must answer), one
//! bucket and one key. The Garage binary is built once per machine by
//! scripts/build-garage.sh (SEALDROP_GARAGE names another).

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{assert_success, run};

pub const BUCKET: &str = "sealdrop";
pub const REGION: &str = "garage";
/// The test key (Garage key ids are GK and 24 hex digits; secrets 64).
pub const KEY_ID: &str = "GK0123456789abcdef01234567";
pub const SECRET: &str = "5ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70900";

pub fn garage_bin() -> PathBuf {
    if let Ok(path) = std::env::var("SEALDROP_GARAGE") {
        return PathBuf::from(path);
    }
    // scripts/build-garage.sh builds it once per machine into a cache
    // outside the clone and prints its path.
    let script = super::workspace_root().join("scripts/build-garage.sh");
    let out = run(&mut Command::new(&script));
    assert_success(&out, "scripts/build-garage.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let built = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    assert!(
        built.is_file(),
        "scripts/build-garage.sh printed no Garage binary (got {stdout:?})"
    );
    built
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    config: PathBuf,
    s3_port: u16,
    rpc_port: u16,
    child: Option<Child>,
    log: PathBuf,
}

pub struct Garage {
    _dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl Garage {
    /// Three nodes, one zone each, replication factor 3; a bucket and a key
    /// that may read and write it.
    pub fn start() -> Garage {
        let dir = tempfile::tempdir().unwrap();
        let secret = "0f".repeat(32);
        let mut nodes = Vec::new();
        for i in 0..3 {
            let home = dir.path().join(format!("node{i}"));
            fs::create_dir_all(&home).unwrap();
            let (s3_port, rpc_port, admin_port) = (free_port(), free_port(), free_port());
            let config = home.join("garage.toml");
            fs::write(
                &config,
                format!(
                    r#"bootstrap_peers = []
metadata_dir = "{home}/meta"
data_dir = "{home}/data"
db_engine = "lmdb"
# Sealed files are ciphertext: compressing them only costs CPU.
compression_level = "none"
replication_factor = 3
# A block a node missed is fetched 2 × this after its metadata arrives
# (Garage's default, 300 s, would keep a test waiting ten minutes).
rpc_timeout_msec = 5000
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
"#,
                    home = home.display()
                ),
            )
            .unwrap();
            nodes.push(Node {
                config,
                s3_port,
                rpc_port,
                child: None,
                log: home.join("log"),
            });
        }
        let mut garage = Garage { _dir: dir, nodes };
        for i in 0..3 {
            garage.run_node(i);
        }
        let ids: Vec<String> = (0..3)
            .map(|i| {
                let out = garage.cli_retrying(i, &["node", "id", "-q"]);
                out.trim().to_owned()
            })
            .collect();
        for id in &ids[1..] {
            garage.cli_retrying(0, &["node", "connect", id]);
        }
        // A node started again must find the others by itself, as a real
        // deployment's nodes do: every config names every peer.
        let peers = format!(
            "bootstrap_peers = [{}]",
            ids.iter()
                .map(|id| format!("{id:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for node in &garage.nodes {
            let text = fs::read_to_string(&node.config).unwrap();
            fs::write(&node.config, text.replace("bootstrap_peers = []", &peers)).unwrap();
        }
        for (i, id) in ids.iter().enumerate() {
            let short = id.split('@').next().unwrap();
            garage.cli(
                0,
                &[
                    "layout",
                    "assign",
                    "-z",
                    &format!("dc{i}"),
                    "-c",
                    "1G",
                    short,
                ],
            );
        }
        garage.cli(0, &["layout", "apply", "--version", "1"]);
        garage.cli_retrying(0, &["bucket", "create", BUCKET]);
        garage.cli(
            0,
            &["key", "import", "--yes", "-n", "sealdrop", KEY_ID, SECRET],
        );
        garage.cli(
            0,
            &[
                "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_ID,
            ],
        );
        // The bucket and the key reach every node through the cluster's
        // metadata: wait until each node's S3 endpoint lists the bucket.
        for i in 0..3 {
            garage.wait_s3_ready(i);
        }
        garage
    }

    /// Waits until node `i` answers a signed ListObjectsV2 with 200 (curl
    /// signs with SigV4 itself).
    fn wait_s3_ready(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let url = format!("{}/{BUCKET}?list-type=2", self.endpoint(i));
            if signed_get(&url, Path::new("/dev/null")) == "200" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {i} does not serve the bucket"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn run_node(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .unwrap();
        let child = Command::new(garage_bin())
            .args(["-c", node.config.to_str().unwrap(), "server"])
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start garage");
        node.child = Some(child);
        wait_port(node.s3_port);
        wait_port(node.rpc_port);
    }

    /// Runs the garage CLI against node `i`; its standard output.
    pub fn cli(&self, i: usize, args: &[&str]) -> String {
        let out = run(Command::new(garage_bin())
            .args(["-c", self.nodes[i].config.to_str().unwrap()])
            .args(args));
        assert_success(&out, &format!("garage {}", args.join(" ")));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cli`, retried while the cluster is still forming.
    fn cli_retrying(&self, i: usize, args: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = run(Command::new(garage_bin())
                .args(["-c", self.nodes[i].config.to_str().unwrap()])
                .args(args));
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            assert!(
                Instant::now() < deadline,
                "garage {} kept failing: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The S3 endpoint of node `i`.
    pub fn endpoint(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.nodes[i].s3_port)
    }

    /// The environment a front needs to use node `i` as its endpoint.
    pub fn env(&self, i: usize) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint(i)),
            ("AWS_REGION".into(), REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET.into()),
        ]
    }

    /// SIGKILL: the node dies mid-whatever, as a machine losing power.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts stopped nodes again, and waits until each serves the bucket
    /// (which takes a quorum in the default consistency mode: hence all
    /// of them at once).
    pub fn restart(&mut self, nodes: &[usize]) {
        for &i in nodes {
            assert!(self.nodes[i].child.is_none(), "node {i} is running");
            self.run_node(i);
        }
        for &i in nodes {
            self.wait_s3_ready(i);
        }
    }

    /// Garage's `consistency_mode` for node `i` from its next start:
    /// "consistent" (the default: quorums of two of three), or "degraded"
    /// (reads from one node, so that a node alone can be asked what it holds).
    pub fn set_consistency(&mut self, i: usize, mode: &str) {
        let config = &self.nodes[i].config;
        let text = fs::read_to_string(config).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("consistency_mode"))
            .collect();
        fs::write(
            config,
            format!("consistency_mode = {mode:?}\n{}\n", kept.join("\n")),
        )
        .unwrap();
    }

    /// Object `key` of the bucket, read through node `i`'s S3 endpoint with
    /// a signed GET (curl signs with SigV4 itself): its bytes, or what the
    /// node answered instead.
    pub fn get_object(&self, i: usize, key: &str) -> Result<Vec<u8>, String> {
        let body = tempfile::NamedTempFile::new().unwrap();
        let status = signed_get(&format!("{}/{BUCKET}/{key}", self.endpoint(i)), body.path());
        if status == "200" {
            Ok(fs::read(body.path()).unwrap())
        } else {
            Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&fs::read(body.path()).unwrap_or_default())
            ))
        }
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// A GET signed with the test key (curl signs with SigV4 itself), its body
/// written to `body`; the HTTP status.
fn signed_get(url: &str, body: &Path) -> String {
    let out = run(Command::new("curl")
        .args(["-s", "--max-time", "60", "-w", "%{http_code}", "-o"])
        .arg(body)
        // The SHA-256 of the empty body, which S3 wants named.
        .args(["-H", "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
        .arg("--aws-sigv4")
        .arg(format!("aws:amz:{REGION}:s3"))
        .arg("--user")
        .arg(format!("{KEY_ID}:{SECRET}"))
        .arg(url));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "garage did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
