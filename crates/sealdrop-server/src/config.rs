//! Server configuration, in one place: every option of `sealdrop serve` is
//! declared once, in [`ServeOptions`], which is both the command line (clap)
//! and the TOML file (serde, same names with `_` for `-`). Flags override the
//! file; [`ServeConfig::from_options`] then applies the defaults and refuses
//! what is unsafe. Every default is documented in README.md and
//! deploy/sealdrop.toml; change them together.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches};
use serde::Deserialize;

use super::desks::{DeskSpec, REPLIES_SCOPE};
use sealdrop_format::bytesize::{ByteSize, KIB, MIB};
use sealdrop_format::pickup::TokenHash;

/// A configuration that cannot be used; the message says how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<clap::Error> for ConfigError {
    fn from(e: clap::Error) -> Self {
        ConfigError(e.to_string())
    }
}

/// The options of `sealdrop serve`. Each is a flag and a key of the TOML file
/// given with `--config`; unset ones take the defaults of [`Policy`].
#[derive(Args, Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ServeOptions {
    /// TOML file with any of the options below.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// File of newsroom public keys, one per line: all post-quantum (age1pq1…) or all
    /// classic (age1…), never mixed. Required.
    #[arg(long, value_name = "FILE")]
    pub recipients: Option<PathBuf>,
    /// A desk sources choose on the form: NAME=RECIPIENTS_FILE, repeatable; the first is
    /// the default. Each desk's submissions are sealed to its keys only and kept in
    /// STORE/desks/NAME/. In the config file: a [[desk]] table with name, recipients and
    /// title.LANG. With desks, --recipients is not used [default: no desks].
    #[arg(long = "desk", value_name = "NAME=FILE")]
    pub desk: Vec<DeskSpec>,
    /// Where sealed submissions are kept: a folder (mode 0700), or an S3-compatible
    /// object store, s3://BUCKET[/PREFIX] (then --spool is required; endpoint, region
    /// and credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, or --s3-credentials). Required.
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]")]
    pub store: Option<PathBuf>,
    /// With an object store: a local folder (mode 0700) where ciphertext waits while it
    /// arrives, until the store has accepted all of it [default: none; required with s3://].
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// With an object store: an AWS shared-credentials file (profile AWS_PROFILE, else
    /// [default]) instead of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY [default: the
    /// environment].
    #[arg(long, value_name = "FILE")]
    pub s3_credentials: Option<PathBuf>,
    /// HOST:PORT or unix:PATH; repeat for several [default: 127.0.0.1:8080]. Port 0 takes
    /// a free port, named in the start-up log line ("serving on …").
    #[arg(long = "listen", value_name = "ADDR")]
    pub listen: Vec<ListenAddr>,
    /// PEM certificate chain: serve TLS 1.3 on TCP listeners (reloaded on SIGHUP).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mode of Unix sockets, octal [default: 0660].
    #[arg(long, value_name = "MODE")]
    pub socket_mode: Option<FileMode>,
    /// Largest submission, message and files together [default: 500MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_upload_size: Option<ByteSize>,
    /// Largest message [default: 1MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_message_size: Option<ByteSize>,
    /// Most files in one submission [default: 50].
    #[arg(long, value_name = "N")]
    pub max_attachments: Option<usize>,
    /// Most bytes of multipart headers per part [default: 16KiB].
    #[arg(long, value_name = "SIZE")]
    pub max_part_header_size: Option<ByteSize>,
    /// Uploads in progress at once; beyond, the slowest old one gives way or the
    /// newcomer gets a 503 page [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_concurrent_uploads: Option<usize>,
    /// Open connections on the source listeners; more get a 503 and are closed
    /// [default: 2048].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Time to send request headers [default: 20s].
    #[arg(long, value_name = "DURATION")]
    pub header_timeout: Option<HumanDuration>,
    /// Longest pause while a body is sent; also the window the minimum rate is
    /// averaged over [default: 2m].
    #[arg(long, value_name = "DURATION")]
    pub body_idle_timeout: Option<HumanDuration>,
    /// Least an upload must average, per second, over every body-idle-timeout
    /// window; slower ones get a 408 page [default: 1KiB].
    #[arg(long, value_name = "SIZE")]
    pub min_upload_rate: Option<ByteSize>,
    /// Longest time for one whole upload [default: 4h].
    #[arg(long, value_name = "DURATION")]
    pub upload_deadline: Option<HumanDuration>,
    /// Free disk space to keep; below it uploads get a 503 page [default: 1GiB].
    #[arg(long, value_name = "SIZE")]
    pub min_free_disk: Option<ByteSize>,
    /// Cap on the sealed files kept in the store [default: none].
    #[arg(long, value_name = "SIZE")]
    pub store_quota: Option<ByteSize>,
    /// Rounding of the arrival time sealed inside each submission [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub time_granularity: Option<HumanDuration>,
    /// How often file times in the store are reset to a coarse time [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub touch_interval: Option<HumanDuration>,
    /// Offer sources a reply channel: a codename after a first submission, the
    /// /<lang>/replies page, and pushed replies on the pickup API [default: true].
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub replies: Option<bool>,
    /// How long a pushed reply waits for its source before it is deleted; each
    /// file gets up to an eighth more, at random [default: 30d].
    #[arg(long, value_name = "DURATION")]
    pub reply_retention: Option<HumanDuration>,
    /// Delete sealed submissions nobody picked up within this time, counted from
    /// their file's birth time (to within one touch interval): a seizure then
    /// finds less, and a submission never picked up is lost [default: off].
    #[arg(long, value_name = "DURATION")]
    pub expire_unpicked: Option<HumanDuration>,
    /// Add a field to the submission form hidden from people and screen
    /// readers: a submission that fills it is answered like success and sealed
    /// nowhere (counted as `junk`). A browser add-on that fills every field
    /// would lose a real submission: see DEPLOY.md [default: false].
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub honeypot: Option<bool>,
    /// Refuse a first submission without files whose message has fewer than
    /// N characters (spaces not counted; 400 page, the form again) [default: 0, off].
    #[arg(long, value_name = "N")]
    pub min_message_length: Option<usize>,
    /// How long shutdown waits for uploads in progress [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub shutdown_grace: Option<HumanDuration>,
    /// HOST:PORT or unix:PATH for the pickup API; repeatable [default: none, pickup off].
    #[arg(long = "pickup-listen", value_name = "ADDR")]
    pub pickup_listen: Vec<ListenAddr>,
    /// SHA-256 of an accepted pickup token (from `sealdrop pickup-token`); repeatable.
    /// DESK:HEX limits the token to one desk's submissions (it cannot push replies);
    /// replies:HEX to pushing replies only; a bare HEX sees every desk and pushes.
    #[arg(long = "pickup-token-sha256", value_name = "[DESK:|replies:]HEX")]
    pub pickup_token_sha256: Vec<PickupToken>,
    /// A folder in RAM for what must outlive a restart of the service but never
    /// touch the store: the tombstones of replies deleted since the last pass
    /// (systemd's RuntimeDirectory=) [default: $RUNTIME_DIRECTORY, else none]. Without it they are kept in memory only.
    #[arg(long, value_name = "DIR")]
    pub runtime_dir: Option<PathBuf>,
}

impl ServeOptions {
    /// The options given on a command line (`matches` of the `serve`
    /// subcommand) over those of the file named by `--config`, if any.
    pub fn from_matches(matches: &ArgMatches) -> Result<ServeOptions, ConfigError> {
        let flags = ServeOptions::from_arg_matches(matches)?;
        flags_over_file(matches, flags.config.clone(), flags)
    }

    /// Parses the arguments of `sealdrop serve` (without the program and
    /// subcommand names): for the demo, and for tests that start the real
    /// server in-process.
    pub fn parse_args<I, T>(args: I) -> Result<ServeOptions, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = ServeOptions::augment_args(clap::Command::new("serve").no_binary_name(true));
        let matches = command.try_get_matches_from(args)?;
        ServeOptions::from_matches(&matches)
    }

    /// Config-file keys of every option (for the tests that keep the flags,
    /// the file format and the sample configs in step).
    pub fn keys() -> Vec<String> {
        let command = ServeOptions::augment_args(clap::Command::new("serve"));
        command
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|long| *long != "config" && *long != "help")
            .map(|long| long.replace('-', "_"))
            .collect()
    }
}

/// The options given on a command line (`flags`, parsed from `matches`)
/// over those of the TOML file `config` names, if any: only the flags that
/// were given replace the file's values. For `serve` and `notify`, whose
/// options are both flags and file keys.
pub fn flags_over_file<T>(
    matches: &ArgMatches,
    config: Option<PathBuf>,
    flags: T,
) -> Result<T, ConfigError>
where
    T: FromArgMatches + serde::de::DeserializeOwned,
{
    let Some(path) = config else {
        return Ok(flags);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
    let mut merged: T = toml::from_str(&text)
        .map_err(|e| ConfigError(format!("config {} is invalid: {e}", path.display())))?;
    merged.update_from_arg_matches(matches)?;
    Ok(merged)
}

/// Policy and timeouts.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Largest submission (message plus files), in bytes.
    pub max_upload_bytes: u64,
    /// Largest message, in bytes.
    pub max_message_bytes: u64,
    /// Most attachments in one submission.
    pub max_attachments: usize,
    /// Most bytes of multipart headers (boundary lines and part headers) per part.
    pub max_part_header_bytes: u64,
    /// Uploads in progress at once (see `upload::slots`).
    pub max_concurrent_uploads: usize,
    /// Open connections on the source listeners; more get a 503 and are closed.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Longest pause allowed while a body is being sent, and the window over
    /// which `min_upload_rate` is averaged.
    pub body_idle_timeout: Duration,
    /// Least bytes per second an upload must average over each window.
    pub min_upload_rate: u64,
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
    /// Whether sources get a reply channel.
    pub replies: bool,
    /// How long a reply waits for its source (plus a per-file jitter).
    pub reply_retention: Duration,
    /// How long a sealed submission waits for pickup before it is deleted.
    pub expire_unpicked: Option<Duration>,
    /// What the form offers in its desk choice, the default first (the
    /// pages need only names and titles); empty without desks.
    pub desk_choice: Vec<DeskSpec>,
    /// Whether the submission form has the honeypot field.
    pub honeypot: bool,
    /// Fewest characters (spaces not counted) of a first message sent
    /// without files; 0 for no minimum.
    pub min_message_chars: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_upload_bytes: 500 * MIB,
            max_message_bytes: MIB,
            max_attachments: 50,
            max_part_header_bytes: 16 * KIB,
            max_concurrent_uploads: 1024,
            max_connections: 2048,
            header_timeout: Duration::from_secs(20),
            body_idle_timeout: Duration::from_secs(120),
            min_upload_rate: KIB,
            upload_deadline: Duration::from_secs(4 * 3600),
            min_free_bytes: 1024 * MIB,
            store_quota: None,
            time_granularity: Duration::from_secs(3600),
            touch_interval: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(60),
            replies: true,
            reply_retention: Duration::from_secs(30 * 86_400),
            expire_unpicked: None,
            desk_choice: Vec::new(),
            honeypot: false,
            min_message_chars: 0,
        }
    }
}

/// Where sources connect when no `--listen` is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Mode of Unix sockets when no `--socket-mode` is given.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;
/// The longest header timeout allowed: slow headers are how a few clients
/// hold every connection.
pub const MAX_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything `serve` needs, after merging flags, file and defaults.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The recipients file of a server without desks (with desks, each
    /// has its own: `policy.desk_choice`).
    pub recipients: Option<PathBuf>,
    /// The store folder, or with an object store the spool folder.
    pub store: PathBuf,
    /// The object store sealed files go to, if not the folder.
    pub bucket: Option<super::store::bucket::BucketLocation>,
    /// Credentials file for the object store (else the environment).
    pub s3_credentials: Option<PathBuf>,
    pub listen: Vec<ListenAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Mode of Unix sockets (Tor must be able to connect).
    pub socket_mode: u32,
    pub policy: Policy,
    /// Where the pickup API listens (never on a source listener).
    pub pickup_listen: Vec<ListenAddr>,
    /// The accepted pickup tokens (their SHA-256) and what each may see.
    pub pickup_tokens: Vec<PickupToken>,
    /// Where deleted replies' tombstones wait for the next pass (RAM).
    pub runtime_dir: Option<PathBuf>,
}

fn positive(
    d: Option<HumanDuration>,
    default: Duration,
    name: &str,
) -> Result<Duration, ConfigError> {
    let d = d.map_or(default, |d| d.0);
    if d.is_zero() {
        return Err(ConfigError(format!("{name} must be longer than zero")));
    }
    Ok(d)
}

impl ServeConfig {
    /// Applies the defaults and refuses unsafe or contradictory options.
    pub fn from_options(o: ServeOptions) -> Result<ServeConfig, ConfigError> {
        let d = Policy::default();
        super::desks::check_specs(&o.desk).map_err(ConfigError)?;
        let recipients = match (o.recipients, o.desk.is_empty()) {
            (Some(_), false) => return Err(ConfigError(
                "with desks, each desk has its own recipients file (--desk NAME=FILE): remove --recipients".into(),
            )),
            (None, true) => return Err(ConfigError(
                "--recipients FILE is required: the newsroom's public keys (age1pq1… or age1…), from `sealdrop-open keygen [--pq]` (or give desks: --desk NAME=FILE)".into(),
            )),
            (recipients, _) => recipients,
        };
        let store = o.store.ok_or_else(|| {
            ConfigError(
                "--store DIR is required: a folder of mode 0700 for sealed submissions (or s3://BUCKET[/PREFIX] with --spool DIR)".into(),
            )
        })?;
        let bucket = store
            .to_str()
            .and_then(super::store::bucket::BucketLocation::parse)
            .transpose()
            .map_err(ConfigError)?;
        let (store, bucket) = match (bucket, o.spool) {
            (Some(bucket), Some(spool)) => (spool, Some(bucket)),
            (Some(bucket), None) => {
                return Err(ConfigError(format!(
                    "--store {bucket} needs --spool DIR: a local folder of mode 0700 where uploads wait until the object store has them"
                )))
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "--spool is for an object store (--store s3://…); a folder store spools in itself".into(),
                ))
            }
            (None, None) => (store, None),
        };
        if o.s3_credentials.is_some() && bucket.is_none() {
            return Err(ConfigError(
                "--s3-credentials is for an object store (--store s3://…)".into(),
            ));
        }
        let listen = if o.listen.is_empty() {
            vec![DEFAULT_LISTEN.parse().map_err(ConfigError)?]
        } else {
            o.listen
        };
        let size = |v: Option<ByteSize>, default: u64| v.map_or(default, |s| s.0);
        let policy = Policy {
            max_upload_bytes: size(o.max_upload_size, d.max_upload_bytes),
            max_message_bytes: size(o.max_message_size, d.max_message_bytes),
            max_attachments: o.max_attachments.unwrap_or(d.max_attachments),
            max_part_header_bytes: size(o.max_part_header_size, d.max_part_header_bytes),
            max_concurrent_uploads: o
                .max_concurrent_uploads
                .unwrap_or(d.max_concurrent_uploads)
                .max(1),
            max_connections: o.max_connections.unwrap_or(d.max_connections).max(1),
            header_timeout: positive(o.header_timeout, d.header_timeout, "header-timeout")?,
            body_idle_timeout: positive(
                o.body_idle_timeout,
                d.body_idle_timeout,
                "body-idle-timeout",
            )?,
            min_upload_rate: size(o.min_upload_rate, d.min_upload_rate),
            upload_deadline: positive(o.upload_deadline, d.upload_deadline, "upload-deadline")?,
            min_free_bytes: size(o.min_free_disk, d.min_free_bytes),
            store_quota: o.store_quota.map(|s| s.0),
            time_granularity: positive(o.time_granularity, d.time_granularity, "time-granularity")?,
            touch_interval: positive(o.touch_interval, d.touch_interval, "touch-interval")?,
            shutdown_grace: o.shutdown_grace.map_or(d.shutdown_grace, |g| g.0),
            replies: o.replies.unwrap_or(d.replies),
            reply_retention: positive(o.reply_retention, d.reply_retention, "reply-retention")?,
            expire_unpicked: o
                .expire_unpicked
                .map(|e| positive(Some(e), Duration::ZERO, "expire-unpicked"))
                .transpose()?,
            desk_choice: o.desk,
            honeypot: o.honeypot.unwrap_or(d.honeypot),
            min_message_chars: o.min_message_length.unwrap_or(d.min_message_chars),
        };
        if let Some(expiry) = policy.expire_unpicked {
            if expiry < policy.touch_interval {
                return Err(ConfigError(format!(
                    "expire-unpicked ({}) must be at least touch-interval ({}): a file's age is known only to within one interval",
                    humantime::format_duration(expiry),
                    humantime::format_duration(policy.touch_interval)
                )));
            }
        }
        if policy.header_timeout > MAX_HEADER_TIMEOUT {
            return Err(ConfigError("header-timeout may not exceed 30s: slow headers are how a few clients hold every connection".into()));
        }
        if o.tls_cert.is_some() != o.tls_key.is_some() {
            return Err(ConfigError(
                "TLS needs both --tls-cert and --tls-key".into(),
            ));
        }
        for token in &o.pickup_token_sha256 {
            if let TokenScope::Desk(desk) = &token.scope {
                if !policy.desk_choice.iter().any(|d| d.name == *desk) {
                    return Err(ConfigError(format!(
                        "--pickup-token-sha256 {desk}:…: there is no desk {desk:?} (--desk {desk}=FILE)"
                    )));
                }
            }
        }
        if !o.pickup_listen.is_empty() && o.pickup_token_sha256.is_empty() {
            return Err(ConfigError("--pickup-listen needs at least one --pickup-token-sha256; create one with `sealdrop pickup-token`".into()));
        }
        if let Some(shared) = o.pickup_listen.iter().find(|a| listen.contains(a)) {
            return Err(ConfigError(format!(
                "{shared} is both a source and a pickup listener; pickup must have its own address"
            )));
        }
        Ok(ServeConfig {
            recipients,
            store,
            bucket,
            s3_credentials: o.s3_credentials,
            listen,
            tls_cert: o.tls_cert,
            tls_key: o.tls_key,
            socket_mode: o.socket_mode.map_or(DEFAULT_SOCKET_MODE, |m| m.0),
            policy,
            pickup_listen: o.pickup_listen,
            pickup_tokens: o.pickup_token_sha256,
            runtime_dir: o
                .runtime_dir
                .or_else(|| std::env::var_os("RUNTIME_DIRECTORY").map(PathBuf::from)),
        })
    }
}

/// What a pickup token may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenScope {
    /// List and pick up every desk's submissions, and push replies (`HEX`).
    All,
    /// List and pick up one desk's submissions only (`DESK:HEX`).
    Desk(String),
    /// Push replies only (`replies:HEX`): what a desk's editors push with.
    Replies,
}

/// An accepted pickup token: its hash, and what it may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickupToken {
    pub scope: TokenScope,
    pub hash: TokenHash,
}

impl FromStr for PickupToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().split_once(':') {
            Some((REPLIES_SCOPE, hex)) => Ok(PickupToken {
                scope: TokenScope::Replies,
                hash: hex.parse()?,
            }),
            Some((desk, hex)) => Ok(PickupToken {
                scope: TokenScope::Desk(desk.to_owned()),
                hash: hex.parse()?,
            }),
            None => Ok(PickupToken {
                scope: TokenScope::All,
                hash: s.parse()?,
            }),
        }
    }
}

/// Where to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl FromStr for ListenAddr {
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

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A duration as people write it: "30s", "2h", "1h 30m" (humantime syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        humantime::parse_duration(s.trim())
            .map(HumanDuration)
            .map_err(|e| format!("{s:?} is not a duration (examples: 30s, 10m, 4h): {e}"))
    }
}

/// An octal file mode such as 0660.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl FromStr for FileMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        u32::from_str_radix(s.trim().trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .map(FileMode)
            .ok_or_else(|| format!("{s:?} is not an octal file mode such as 0660"))
    }
}

sealdrop_format::deserialize_from_str!(ListenAddr, HumanDuration, FileMode, PickupToken);

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn desks_come_from_flags_or_tables_and_replace_the_recipients_file() {
        let text = r#"
store = "/s"
[[desk]]
name = "investigations"
recipients = "/etc/sealdrop/investigations.txt"
title = { en = "Investigations", ar = "التحقيقات" }
[[desk]]
name = "politics"
recipients = "/etc/sealdrop/politics.txt"
"#;
        let options: ServeOptions = toml::from_str(text).unwrap();
        let config = ServeConfig::from_options(options).unwrap();
        assert_eq!(config.recipients, None);
        assert_eq!(config.policy.desk_choice.len(), 2);
        assert_eq!(config.policy.desk_choice[0].title["ar"], "التحقيقات");
        let flags =
            ServeOptions::parse_args(["--store", "/s", "--desk", "a=/a.txt", "--desk", "b=/b.txt"])
                .unwrap();
        let config = ServeConfig::from_options(flags).unwrap();
        assert_eq!(config.policy.desk_choice[1].name, "b");
        let both =
            ServeOptions::parse_args(["--store", "/s", "--recipients", "/r", "--desk", "a=/a.txt"])
                .unwrap();
        let err = ServeConfig::from_options(both).unwrap_err().to_string();
        assert!(err.contains("remove --recipients"), "{err}");
        let twice =
            ServeOptions::parse_args(["--store", "/s", "--desk", "a=/a.txt", "--desk", "a=/b.txt"])
                .unwrap();
        assert!(ServeConfig::from_options(twice).is_err());
    }

    /// The annotated sample configs parse, and mention every option.
    #[test]
    fn sample_configs_are_valid_and_complete() {
        for (name, text) in [
            (
                "deploy/sealdrop.toml",
                include_str!("../../../deploy/sealdrop.toml"),
            ),
            (
                "deploy/sealdrop-https.toml",
                include_str!("../../../deploy/sealdrop-https.toml"),
            ),
        ] {
            let parsed: ServeOptions =
                toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(parsed.recipients.is_some() && parsed.store.is_some());
            for key in ServeOptions::keys() {
                // A key whose value is a table per entry ([[desk]]) is
                // documented by its table header.
                assert!(
                    text.contains(&format!("{key} = ")) || text.contains(&format!("[[{key}]]")),
                    "{name} does not document {key}"
                );
            }
        }
        // Every flag has a key in the file, and unknown keys are refused.
        for key in ServeOptions::keys() {
            // `true` is a valid value of some keys and a type error for the
            // others; either way the key itself must be known.
            if let Err(err) = toml::from_str::<ServeOptions>(&format!("{key} = true")) {
                let err = err.to_string();
                assert!(
                    !err.contains("unknown field"),
                    "{key} is a flag but not a config key: {err}"
                );
            }
        }
        let err = toml::from_str::<ServeOptions>("no_such_option = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
        let err = toml::from_str::<ServeOptions>("config = \"x.toml\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn durations_and_modes_parse() {
        assert_eq!(
            "2h".parse::<HumanDuration>().unwrap().0,
            Duration::from_secs(7200)
        );
        assert_eq!("0660".parse::<FileMode>().unwrap().0, 0o660);
        assert!("999".parse::<FileMode>().is_err());
    }

    #[test]
    fn flags_override_the_file_and_the_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "recipients = \"/r\"\nstore = \"/s\"\nmax_upload_size = \"2MiB\"\nmax_attachments = 3\n\
             listen = [\"127.0.0.1:1\"]\nheader_timeout = \"5s\"\nmax_message_size = 4096\n",
        )
        .unwrap();
        let parse = |extra: &[&str]| {
            let mut args = vec!["--config", file.to_str().unwrap()];
            args.extend_from_slice(extra);
            ServeConfig::from_options(ServeOptions::parse_args(args).unwrap()).unwrap()
        };
        let from_file = parse(&[]);
        assert_eq!(from_file.policy.max_upload_bytes, 2 * MIB);
        assert_eq!(from_file.policy.max_attachments, 3);
        assert_eq!(from_file.policy.max_message_bytes, 4096);
        assert_eq!(from_file.policy.header_timeout, Duration::from_secs(5));
        assert_eq!(from_file.listen, vec!["127.0.0.1:1".parse().unwrap()]);
        assert_eq!(
            from_file.policy.touch_interval,
            Policy::default().touch_interval
        );
        let flagged = parse(&[
            "--max-upload-size",
            "1KiB",
            "--listen",
            "127.0.0.1:2",
            "--store",
            "/t",
        ]);
        assert_eq!(flagged.policy.max_upload_bytes, 1024);
        assert_eq!(flagged.policy.max_attachments, 3);
        assert_eq!(flagged.listen, vec!["127.0.0.1:2".parse().unwrap()]);
        assert_eq!(flagged.store, PathBuf::from("/t"));
        assert_eq!(flagged.recipients, Some(PathBuf::from("/r")));
    }

    #[test]
    fn unsafe_or_incomplete_options_are_refused() {
        let refuse = |args: &[&str], expect: &str| {
            let e = ServeOptions::parse_args(args.iter().copied())
                .map_err(|e| e.0)
                .and_then(|o| ServeConfig::from_options(o).map_err(|e| e.0))
                .unwrap_err();
            assert!(e.contains(expect), "{args:?}: {e}");
        };
        refuse(&["--store", "/s"], "--recipients FILE is required");
        refuse(&["--recipients", "/r"], "--store DIR is required");
        let base = ["--recipients", "/r", "--store", "/s"];
        let with = |extra: &[&'static str]| [&base[..], extra].concat();
        refuse(&with(&["--header-timeout", "31s"]), "may not exceed 30s");
        refuse(&with(&["--touch-interval", "0s"]), "longer than zero");
        refuse(
            &with(&["--pickup-listen", "127.0.0.1:9"]),
            "pickup-token-sha256",
        );
        refuse(&with(&["--max-upload-size", "lots"]), "is not a size");
        refuse(&with(&["--listen", "localhost"]), "is not an address");
    }
}
