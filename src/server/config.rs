//! Server configuration: command-line flags, an optional TOML file mirroring
//! them (flags win), and the defaults that matter under attack.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Limits and timeouts. Every default is documented in README.md and
/// deploy/sealdrop.toml; change both together.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest submission (message plus files), in bytes.
    pub max_upload_bytes: u64,
    /// Largest message, in bytes.
    pub max_message_bytes: u64,
    /// Most attachments in one submission.
    pub max_attachments: usize,
    /// Most bytes of multipart headers (boundary lines and part headers) per part.
    pub max_part_header_bytes: u64,
    /// Uploads being sealed at once; more get a 503 page.
    pub max_concurrent_uploads: usize,
    /// Open connections at once; more get a 503 and are closed.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Longest pause allowed while a body is being sent.
    pub body_idle_timeout: Duration,
    /// Longest time one upload may take in all.
    pub upload_deadline: Duration,
    /// Free disk space the store must keep; below it uploads get a 503 page.
    pub min_free_bytes: u64,
    /// Optional cap on the bytes of sealed files in the store.
    pub store_quota: Option<u64>,
    /// Rounding of the arrival time recorded inside each submission.
    pub time_granularity: Duration,
    /// How often file times in the store are normalized (and stats logged).
    pub touch_interval: Duration,
    /// How long shutdown waits for in-flight uploads.
    pub shutdown_grace: Duration,
}

pub const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 500 * MIB,
            max_message_bytes: MIB,
            max_attachments: 50,
            max_part_header_bytes: 16 * 1024,
            max_concurrent_uploads: 32,
            max_connections: 1024,
            header_timeout: Duration::from_secs(20),
            body_idle_timeout: Duration::from_secs(120),
            upload_deadline: Duration::from_secs(4 * 3600),
            min_free_bytes: 1024 * MIB,
            store_quota: None,
            time_granularity: Duration::from_secs(3600),
            touch_interval: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(60),
        }
    }
}

/// Where to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::str::FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a path, as in unix:/run/sealdrop/sealdrop.sock".into());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        s.parse::<SocketAddr>().map(ListenAddr::Tcp).map_err(|_| {
            format!(
                "{s:?} is not an address: use IP:PORT (127.0.0.1:8080, [::1]:8080) or unix:PATH"
            )
        })
    }
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// Everything `serve` needs, after merging flags, file and defaults.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub recipients: PathBuf,
    pub store: PathBuf,
    pub listen: Vec<ListenAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Mode of Unix sockets (Tor must be able to connect).
    pub socket_mode: u32,
    pub limits: Limits,
    /// Where the pickup API listens (never on a source listener).
    pub pickup_listen: Vec<ListenAddr>,
    /// SHA-256 hashes of the accepted pickup tokens.
    pub pickup_token_hashes: Vec<[u8; 32]>,
}

/// The TOML file: the same names as the flags, with `-` written as `_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub recipients: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub listen: Option<Vec<String>>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub socket_mode: Option<String>,
    pub max_upload_size: Option<String>,
    pub max_message_size: Option<String>,
    pub max_attachments: Option<usize>,
    pub max_part_header_size: Option<String>,
    pub max_concurrent_uploads: Option<usize>,
    pub max_connections: Option<usize>,
    pub header_timeout: Option<String>,
    pub body_idle_timeout: Option<String>,
    pub upload_deadline: Option<String>,
    pub min_free_disk: Option<String>,
    pub store_quota: Option<String>,
    pub time_granularity: Option<String>,
    pub touch_interval: Option<String>,
    pub shutdown_grace: Option<String>,
    pub pickup_listen: Option<Vec<String>>,
    pub pickup_token_sha256: Option<Vec<String>>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config {} is invalid: {e}", path.display()))
    }
}

/// Parses "500MiB", "1 GiB", "64k", "1048576" into bytes (binary units; KB/MB/GB
/// are decimal).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 500MiB, 2GiB, 65536)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "{s:?}: unknown size unit (use B, KiB, MiB, GiB, TiB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Parses "30s", "2h", "1h 30m" (humantime syntax).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration (examples: 30s, 10m, 4h): {e}"))
}

pub fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim().trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{s:?} is not an octal file mode such as 0660"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("500MiB").unwrap(), 500 * MIB);
        assert_eq!(parse_size("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("65536").unwrap(), 65536);
        assert_eq!(parse_size("2MB").unwrap(), 2_000_000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn listen_addresses_parse() {
        assert_eq!(
            "unix:/run/s.sock".parse::<ListenAddr>().unwrap(),
            ListenAddr::Unix("/run/s.sock".into())
        );
        assert!(matches!(
            "[::1]:8080".parse::<ListenAddr>().unwrap(),
            ListenAddr::Tcp(_)
        ));
        assert!("localhost".parse::<ListenAddr>().is_err());
    }

    /// The annotated sample configs parse, and mention every option.
    #[test]
    fn sample_configs_are_valid_and_complete() {
        for (name, text) in [
            (
                "deploy/sealdrop.toml",
                include_str!("../../deploy/sealdrop.toml"),
            ),
            (
                "deploy/sealdrop-https.toml",
                include_str!("../../deploy/sealdrop-https.toml"),
            ),
        ] {
            let parsed: FileConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(parsed.recipients.is_some() && parsed.store.is_some());
            for key in super::super::cli::serve_option_keys() {
                assert!(
                    text.contains(&format!("{key} = ")),
                    "{name} does not document {key}"
                );
            }
        }
        // Every flag has a key in the file, and unknown keys are refused.
        for key in super::super::cli::serve_option_keys() {
            let err = toml::from_str::<FileConfig>(&format!("{key} = true"))
                .unwrap_err()
                .to_string();
            assert!(
                !err.contains("unknown field"),
                "{key} is a flag but not a config key: {err}"
            );
        }
        let err = toml::from_str::<FileConfig>("no_such_option = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn durations_and_modes_parse() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_mode("0660").unwrap(), 0o660);
        assert!(parse_mode("999").is_err());
    }
}
