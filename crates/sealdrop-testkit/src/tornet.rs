//! A private Tor network on 127.0.0.1, for tests that send real bytes
//! through real onion circuits (the public network is out of reach here).
//!
//! One directory authority and six relays (`TestingTorNetwork 1`, keys from
//! `tor-gencert`, the way Tor's own test networks are made), the newsroom's
//! onion services run from `deploy/torrc` as shipped (only its paths and log
//! destination are rewritten, and each rewrite must match, so a change to the
//! file admins copy is a change to the file under test), and two clients: one
//! a source would use, and the editor's, which holds the pickup service's
//! client-authorization key.
//!
//! The network starts once per test binary ([`network`]) and every tor
//! process is told to exit with it (`__OwningControllerProcess`), so nothing
//! outlives a run. A start that does not finish within its bounds fails with
//! the tor log lines that say why.

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Relays besides the authority. Onion service circuits need distinct
/// relays for guard, layer-2 vanguard, middle and intro or rendezvous point;
/// with fewer, tor keeps failing "to find node for hop #2" for minutes.
const RELAYS: usize = 6;
/// How long the authority may take to publish a consensus that lists every
/// relay with the flags onion services need.
const CONSENSUS_BOUND: Duration = Duration::from_secs(120);
/// How long a client may take to bootstrap after that.
const BOOTSTRAP_BOUND: Duration = Duration::from_secs(90);

/// Settings every process of the network shares: a testing network with a
/// fast voting schedule, and flags voted for every relay regardless of uptime.
const TESTING: &str = "\
TestingTorNetwork 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
ShutdownWaitLength 0
SafeLogging 0
";

/// The authority's voting schedule (seconds): a consensus every 10 s, the
/// first after 5. `SEALDROP_TORNET_VOTING=20` votes every 20 s instead, the
/// schedule onionbalance's `--is-testnet` assumes (chutney's), for running
/// deploy/scale-out/ through this network by hand (docs/SCALE-OUT.md).
fn authority_schedule() -> String {
    let voting: u32 = std::env::var("SEALDROP_TORNET_VOTING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    format!(
        "AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirVoteStableGuaranteeMinUptime 0
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval {voting}
V3AuthVoteDelay 2
V3AuthDistDelay 2
"
    )
}

pub struct TorNet {
    pub dir: PathBuf,
    /// The SOCKS port of the client a source uses (no client-auth key).
    pub source_socks: SocketAddr,
    /// The SOCKS port of the editor's client (holds the pickup key).
    pub editor_socks: SocketAddr,
    /// `<56 chars>.onion` of the source service.
    pub source_onion: String,
    /// `<56 chars>.onion` of the pickup service.
    pub pickup_onion: String,
    /// Where the source service forwards (`deploy/torrc`'s
    /// `/run/sealdrop/source.sock`, rewritten).
    pub source_socket: PathBuf,
    pub pickup_socket: PathBuf,
    /// From the first tor process started to every client bootstrapped.
    pub started_in: Duration,
    children: Mutex<Vec<Child>>,
    /// Held by each test that runs a server on the network's sockets.
    turn: Mutex<()>,
}

static NETWORK: OnceLock<TorNet> = OnceLock::new();

/// The network of this test binary, started on first use.
pub fn network() -> &'static TorNet {
    NETWORK.get_or_init(TorNet::start)
}

impl TorNet {
    /// The network's sockets are fixed paths, so one test at a time serves on
    /// them.
    pub fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A torsocks configuration that routes through the editor's client
    /// (`editor = true`) or a source's.
    pub fn torsocks_conf(&self, editor: bool) -> PathBuf {
        let socks = if editor {
            self.editor_socks
        } else {
            self.source_socks
        };
        let path = self.dir.join(format!(
            "torsocks-{}.conf",
            if editor { "editor" } else { "source" }
        ));
        fs::write(
            &path,
            format!("TorAddress {}\nTorPort {}\n", socks.ip(), socks.port()),
        )
        .unwrap();
        path
    }

    /// The last lines of every tor log, for a failure message.
    pub fn log_tails(&self) -> String {
        log_tails(&self.dir)
    }

    fn start() -> TorNet {
        // One folder per test process, so that a network kept up by
        // scripts/tor-testnet.sh and a test run do not meet; folders of
        // processes that are gone are removed.
        let tmp = super::target_tmpdir();
        for entry in fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("tornet-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = tmp.join(format!("tornet-{}", std::process::id()));
        assert!(
            dir.as_os_str().len() < 80,
            "{dir:?} is too long for the Unix sockets under it (108 bytes at most): \
             build in a shorter folder (CARGO_TARGET_DIR)"
        );
        private_dirs(&dir);
        let ports = free_ports(2 * (RELAYS + 1) + 2);
        let owner = std::process::id().to_string();
        let started = Instant::now();
        let mut children = Vec::new();

        // The authority's v3 key, then every relay's identity.
        let nodes: Vec<Node> = (0..=RELAYS)
            .map(|i| Node {
                name: format!("relay{i}"),
                dir: dir.join(format!("relay{i}")),
                or_port: ports[2 * i],
                dir_port: ports[2 * i + 1],
            })
            .collect();
        let authority = &nodes[0];
        let keys = authority.dir.join("keys");
        private_dirs(&keys);
        let out = Command::new("tor-gencert")
            .args(["--create-identity-key", "-m", "12", "-a"])
            .arg(format!("127.0.0.1:{}", authority.dir_port))
            .arg("-i")
            .arg(keys.join("authority_identity_key"))
            .arg("-s")
            .arg(keys.join("authority_signing_key"))
            .arg("-c")
            .arg(keys.join("authority_certificate"))
            .args(["--passphrase-fd", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(b"\n")?;
                child.wait_with_output()
            })
            .expect("tor-gencert runs (Debian package tor; scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "tor-gencert: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let certificate = fs::read_to_string(keys.join("authority_certificate")).unwrap();
        let v3ident = certificate
            .lines()
            .find_map(|l| l.strip_prefix("fingerprint "))
            .expect("the certificate names its fingerprint")
            .trim()
            .to_owned();
        let fingerprints: Vec<String> = nodes.iter().map(Node::fingerprint).collect();
        let dir_authority = format!(
            "DirAuthority {} orport={} no-v2 v3ident={v3ident} 127.0.0.1:{} {}\n",
            authority.name, authority.or_port, authority.dir_port, fingerprints[0]
        );
        let common = format!("{TESTING}{dir_authority}__OwningControllerProcess {owner}\n");

        for (i, node) in nodes.iter().enumerate() {
            let torrc = format!(
                "{common}DataDirectory {dir}\nNickname {name}\nAddress 127.0.0.1\n\
                 ORPort 127.0.0.1:{or}\nDirPort 127.0.0.1:{dirport}\nSocksPort 0\n\
                 AssumeReachable 1\nExitRelay 1\nExitPolicy accept *:*\nExitPolicyRejectPrivate 0\n\
                 ContactInfo relay{i}@sealdrop.test\nLog notice file {dir}/notice.log\n{auth}",
                dir = node.dir.display(),
                name = node.name,
                or = node.or_port,
                dirport = node.dir_port,
                auth = if i == 0 {
                    authority_schedule()
                } else {
                    String::new()
                },
            );
            children.push(run_tor(&node.dir, &torrc));
        }
        let consensus = authority.dir.join("cached-consensus");
        wait_until(
            &dir,
            CONSENSUS_BOUND,
            "a consensus listing every relay",
            || {
                let text = fs::read_to_string(&consensus).unwrap_or_default();
                let flags: Vec<&str> = text.lines().filter(|l| l.starts_with("s ")).collect();
                flags.len() == nodes.len()
                    && flags.iter().all(|l| {
                        ["Guard", "HSDir", "Stable", "Exit"]
                            .iter()
                            .all(|f| l.contains(f))
                    })
            },
        );

        // The newsroom's onion services, from deploy/torrc as shipped.
        let service = dir.join("service");
        private_dirs(&service);
        let run_dir = dir.join("run");
        private_dirs(&run_dir);
        let editor_key = ClientKey::generate(&dir);
        let authorized = dir.join("hs-pickup").join("authorized_clients");
        private_dirs(&authorized);
        fs::write(
            authorized.join("editor.auth"),
            format!("descriptor:x25519:{}\n", editor_key.public),
        )
        .unwrap();
        let shipped =
            fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/torrc"))
                .expect("deploy/torrc");
        let deployed = rewrite(
            &shipped,
            &[
                (
                    "Log notice syslog",
                    &format!("Log notice file {}/notice.log", service.display()),
                ),
                (
                    "/var/lib/tor/sealdrop-pickup/",
                    &format!("{}/hs-pickup/", dir.display()),
                ),
                (
                    "/var/lib/tor/sealdrop/",
                    &format!("{}/hs-source/", dir.display()),
                ),
                ("/run/sealdrop/", &format!("{}/", run_dir.display())),
            ],
        );
        let service_torrc = format!(
            "{common}DataDirectory {}\nSocksPort 0\n\n# deploy/torrc, paths rewritten:\n{deployed}",
            service.display()
        );
        children.push(run_tor(&service, &service_torrc));

        let hostname = |service: &str| dir.join(service).join("hostname");
        wait_until(&dir, BOOTSTRAP_BOUND, "both onion addresses", || {
            hostname("hs-source").exists() && hostname("hs-pickup").exists()
        });
        let read_host = |service: &str| {
            fs::read_to_string(hostname(service))
                .unwrap()
                .trim()
                .to_owned()
        };
        let (source_onion, pickup_onion) = (read_host("hs-source"), read_host("hs-pickup"));

        // The clients: a source's, and the editor's with the pickup key
        // (written before it starts: tor reads its key folder at start).
        let ports_left = &ports[2 * (RELAYS + 1)..];
        let mut clients = Vec::new();
        for (name, port) in [("source", ports_left[0]), ("editor", ports_left[1])] {
            let client = dir.join(format!("client-{name}"));
            private_dirs(&client);
            let auth_dir = client.join("onion-auth");
            private_dirs(&auth_dir);
            if name == "editor" {
                let key_file = auth_dir.join("pickup.auth_private");
                fs::write(
                    &key_file,
                    format!(
                        "{}:descriptor:x25519:{}\n",
                        pickup_onion.trim_end_matches(".onion"),
                        editor_key.private
                    ),
                )
                .unwrap();
                fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).unwrap();
            }
            let torrc = format!(
                "{common}DataDirectory {d}\nSocksPort 127.0.0.1:{port}\nClientOnionAuthDir {a}\n\
                 Log notice file {d}/notice.log\n",
                d = client.display(),
                a = auth_dir.display(),
            );
            children.push(run_tor(&client, &torrc));
            clients.push((client, SocketAddr::from(([127, 0, 0, 1], port))));
        }
        wait_until(&dir, BOOTSTRAP_BOUND, "both clients bootstrapped", || {
            clients.iter().all(|(client, _)| {
                fs::read_to_string(client.join("notice.log"))
                    .unwrap_or_default()
                    .contains("Bootstrapped 100%")
            })
        });

        let watcher = reap_when_gone(&owner, &children);
        children.push(watcher);

        TorNet {
            source_socks: clients[0].1,
            editor_socks: clients[1].1,
            source_onion,
            pickup_onion,
            source_socket: run_dir.join("source.sock"),
            pickup_socket: run_dir.join("pickup.sock"),
            started_in: started.elapsed(),
            dir,
            children: Mutex::new(children),
            turn: Mutex::new(()),
        }
    }
}

impl Drop for TorNet {
    fn drop(&mut self) {
        for child in self.children.get_mut().unwrap().iter_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Kills every tor of the network once this test process is gone. Tor exits
/// by itself when its owning process vanishes, and logs so, but was seen
/// hanging in that exit (three threads waiting on a futex an hour later):
/// a watcher outside this process makes sure, 5 s after tor's own attempt.
fn reap_when_gone(owner: &str, children: &[Child]) -> Child {
    let pids: Vec<String> = children.iter().map(|c| c.id().to_string()).collect();
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 2; done; sleep 5; kill -9 {} 2>/dev/null; exit 0",
        pids.join(" ")
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh runs")
}

struct Node {
    name: String,
    dir: PathBuf,
    or_port: u16,
    dir_port: u16,
}

impl Node {
    /// Makes the relay's identity key and returns its fingerprint.
    fn fingerprint(&self) -> String {
        private_dirs(&self.dir);
        let out = Command::new("tor")
            .arg("--list-fingerprint")
            .arg("--DataDirectory")
            .arg(&self.dir)
            .args(["--ORPort", &self.or_port.to_string()])
            .args([
                "--Nickname",
                &self.name,
                "--Address",
                "127.0.0.1",
                "--quiet",
            ])
            .output()
            .expect("tor runs (Debian package tor; scripts/test.sh installs it)");
        assert!(out.status.success(), "tor --list-fingerprint: {out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect()
    }
}

/// An x25519 key pair for onion client authorization, base32 as tor wants
/// it, made with openssl (no crate of ours needed for a test fixture).
struct ClientKey {
    public: String,
    private: String,
}

impl ClientKey {
    fn generate(dir: &Path) -> ClientKey {
        let der = dir.join("editor-key.der");
        let out = Command::new("openssl")
            .args(["genpkey", "-algorithm", "X25519", "-outform", "DER", "-out"])
            .arg(&der)
            .output()
            .expect("openssl runs");
        assert!(out.status.success(), "openssl genpkey: {out:?}");
        let public = Command::new("openssl")
            .args([
                "pkey", "-inform", "DER", "-pubout", "-outform", "DER", "-in",
            ])
            .arg(&der)
            .output()
            .expect("openssl runs");
        assert!(public.status.success(), "openssl pkey: {public:?}");
        let private = fs::read(&der).unwrap();
        fs::remove_file(&der).unwrap();
        // Both DER forms end with the raw 32-byte key.
        ClientKey {
            public: base32(&public.stdout[public.stdout.len() - 32..]),
            private: base32(&private[private.len() - 32..]),
        }
    }
}

/// RFC 4648 base32 without padding, as tor's key files use it.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// `text` with each `(from, to)` replaced; every `from` must occur.
fn rewrite(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in replacements {
        assert!(
            out.contains(from),
            "deploy/torrc no longer contains {from:?}: update the Tor test network (src/tornet.rs)"
        );
        out = out.replace(from, to);
    }
    out
}

fn run_tor(dir: &Path, torrc: &str) -> Child {
    let path = dir.join("torrc");
    fs::write(&path, format!("{torrc}PidFile {}/tor.pid\n", dir.display())).unwrap();
    Command::new("tor")
        .arg("-f")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tor runs (Debian package tor; scripts/test.sh installs it)")
}

fn private_dirs(path: &Path) {
    fs::create_dir_all(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).unwrap();
}

/// `count` TCP ports that are free now, below the kernel's range for
/// ephemeral ports (32768 and up), so that no port 0 bind of another test
/// can take one before tor binds it.
fn free_ports(count: usize) -> Vec<u16> {
    let mut base = 20_000 + (std::process::id() % 500) as u16 * 20;
    loop {
        let ports: Vec<u16> = (base..base + count as u16).collect();
        if ports
            .iter()
            .all(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        {
            return ports;
        }
        base += count as u16;
        assert!(
            base < 32_000,
            "no {count} free ports between 20000 and 32000"
        );
    }
}

fn wait_until(dir: &Path, bound: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < bound,
            "the Tor test network did not reach {what} within {bound:?}:\n{}",
            log_tails(dir)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The last lines of every tor log under `dir`.
fn log_tails(dir: &Path) -> String {
    let mut out = String::new();
    let mut logs: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("notice.log"))
        .filter(|p| p.exists())
        .collect();
    logs.sort();
    for log in logs {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!("== {}\n", log.display()));
        for line in &lines[lines.len().saturating_sub(12)..] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
