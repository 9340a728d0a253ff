//! Command line of the `sealdrop` server binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::config::{
    parse_duration, parse_mode, parse_size, FileConfig, Limits, ListenAddr, ServeConfig,
};
use super::{tls, AppInner, StartError};

#[derive(Parser)]
#[command(
    name = "sealdrop",
    version,
    about = "Anonymous source-submission drop: every byte is sealed with age as it arrives."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the submission page and seal what sources send.
    Serve(Box<ServeArgs>),
    /// Create a pickup token: prints the token for the editor and the hash for the server.
    PickupToken {
        /// Also write the token to this file (mode 0600, never overwritten).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Move sealed submissions from the server's pickup API into a folder.
    Pickup(super::pickup_client::PickupArgs),
    /// Try sealdrop locally: throwaway keys and store, served on 127.0.0.1:8080.
    Demo {
        /// Folder for the demo's keys, store and opened submissions.
        #[arg(long, value_name = "DIR", default_value = "sealdrop-demo")]
        dir: PathBuf,
        /// Address to serve on (port 0: a free port, shown in the printed URL).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

/// Flags of `sealdrop serve`; each also has a key in the TOML config file
/// (same name, `_` for `-`). Flags override the file.
#[derive(Args, Default)]
pub struct ServeArgs {
    /// TOML file with any of the options below.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File of newsroom public keys, one per line: all post-quantum (age1pq1…) or all
    /// classic (age1…), never mixed. Required.
    #[arg(long, value_name = "FILE")]
    pub recipients: Option<PathBuf>,
    /// Folder for sealed submissions (mode 0700). Required.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// HOST:PORT or unix:PATH; repeat for several [default: 127.0.0.1:8080]. Port 0 takes
    /// a free port, named in the start-up log line ("serving on …").
    #[arg(long = "listen", value_name = "ADDR")]
    pub listen: Vec<String>,
    /// PEM certificate chain: serve TLS 1.3 on TCP listeners (reloaded on SIGHUP).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mode of Unix sockets, octal [default: 0660].
    #[arg(long, value_name = "MODE")]
    pub socket_mode: Option<String>,
    /// Largest submission, message and files together [default: 500MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_upload_size: Option<String>,
    /// Largest message [default: 1MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_message_size: Option<String>,
    /// Most files in one submission [default: 50].
    #[arg(long, value_name = "N")]
    pub max_attachments: Option<usize>,
    /// Most bytes of multipart headers per part [default: 16KiB].
    #[arg(long, value_name = "SIZE")]
    pub max_part_header_size: Option<String>,
    /// Uploads sealed at once; more get a 503 page [default: 32].
    #[arg(long, value_name = "N")]
    pub max_concurrent_uploads: Option<usize>,
    /// Open connections; more get a 503 and are closed [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Time to send request headers [default: 20s].
    #[arg(long, value_name = "DURATION")]
    pub header_timeout: Option<String>,
    /// Longest pause while a body is sent [default: 2m].
    #[arg(long, value_name = "DURATION")]
    pub body_idle_timeout: Option<String>,
    /// Longest time for one whole upload [default: 4h].
    #[arg(long, value_name = "DURATION")]
    pub upload_deadline: Option<String>,
    /// Free disk space to keep; below it uploads get a 503 page [default: 1GiB].
    #[arg(long, value_name = "SIZE")]
    pub min_free_disk: Option<String>,
    /// Cap on the sealed files kept in the store [default: none].
    #[arg(long, value_name = "SIZE")]
    pub store_quota: Option<String>,
    /// Rounding of the arrival time sealed inside each submission [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub time_granularity: Option<String>,
    /// How often file times in the store are reset to a coarse time [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub touch_interval: Option<String>,
    /// How long shutdown waits for uploads in progress [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub shutdown_grace: Option<String>,
    /// HOST:PORT or unix:PATH for the pickup API; repeatable [default: none, pickup off].
    #[arg(long = "pickup-listen", value_name = "ADDR")]
    pub pickup_listen: Vec<String>,
    /// SHA-256 of an accepted pickup token (from `sealdrop pickup-token`); repeatable.
    #[arg(long = "pickup-token-sha256", value_name = "HEX")]
    pub pickup_token_sha256: Vec<String>,
}

/// Config-file keys of every `serve` flag (for the tests that keep the flags,
/// the file format and the sample config in step).
pub fn serve_option_keys() -> Vec<String> {
    let command = <ServeArgs as clap::Args>::augment_args(clap::Command::new("serve"));
    command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|long| *long != "config" && *long != "help")
        .map(|long| long.replace('-', "_"))
        .collect()
}

fn pick<T>(
    flag: Option<String>,
    file: Option<String>,
    parse: fn(&str) -> Result<T, String>,
    default: T,
) -> Result<T, String> {
    match flag.or(file) {
        Some(s) => parse(&s),
        None => Ok(default),
    }
}

fn positive(d: Duration, name: &str) -> Result<Duration, String> {
    if d.is_zero() {
        Err(format!("{name} must be longer than zero"))
    } else {
        Ok(d)
    }
}

/// Merges flags, the config file and the defaults.
pub fn resolve(args: ServeArgs) -> Result<ServeConfig, String> {
    let file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let d = Limits::default();
    let recipients = args.recipients.or(file.recipients).ok_or(
        "--recipients FILE is required: the newsroom's public keys (age1pq1… or age1…), from `sealdrop-open keygen [--pq]`",
    )?;
    let store = args
        .store
        .or(file.store)
        .ok_or("--store DIR is required: a folder of mode 0700 for sealed submissions")?;
    let listen_raw = if !args.listen.is_empty() {
        args.listen
    } else {
        file.listen
            .unwrap_or_else(|| vec!["127.0.0.1:8080".to_owned()])
    };
    let listen = listen_raw
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<ListenAddr>, _>>()?;
    let limits = Limits {
        max_upload_bytes: pick(
            args.max_upload_size,
            file.max_upload_size,
            parse_size,
            d.max_upload_bytes,
        )?,
        max_message_bytes: pick(
            args.max_message_size,
            file.max_message_size,
            parse_size,
            d.max_message_bytes,
        )?,
        max_attachments: args
            .max_attachments
            .or(file.max_attachments)
            .unwrap_or(d.max_attachments),
        max_part_header_bytes: pick(
            args.max_part_header_size,
            file.max_part_header_size,
            parse_size,
            d.max_part_header_bytes,
        )?,
        max_concurrent_uploads: args
            .max_concurrent_uploads
            .or(file.max_concurrent_uploads)
            .unwrap_or(d.max_concurrent_uploads)
            .max(1),
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(d.max_connections)
            .max(1),
        header_timeout: positive(
            pick(
                args.header_timeout,
                file.header_timeout,
                parse_duration,
                d.header_timeout,
            )?,
            "header-timeout",
        )?,
        body_idle_timeout: positive(
            pick(
                args.body_idle_timeout,
                file.body_idle_timeout,
                parse_duration,
                d.body_idle_timeout,
            )?,
            "body-idle-timeout",
        )?,
        upload_deadline: positive(
            pick(
                args.upload_deadline,
                file.upload_deadline,
                parse_duration,
                d.upload_deadline,
            )?,
            "upload-deadline",
        )?,
        min_free_bytes: pick(
            args.min_free_disk,
            file.min_free_disk,
            parse_size,
            d.min_free_bytes,
        )?,
        store_quota: match args.store_quota.or(file.store_quota) {
            Some(s) => Some(parse_size(&s)?),
            None => None,
        },
        time_granularity: positive(
            pick(
                args.time_granularity,
                file.time_granularity,
                parse_duration,
                d.time_granularity,
            )?,
            "time-granularity",
        )?,
        touch_interval: positive(
            pick(
                args.touch_interval,
                file.touch_interval,
                parse_duration,
                d.touch_interval,
            )?,
            "touch-interval",
        )?,
        shutdown_grace: pick(
            args.shutdown_grace,
            file.shutdown_grace,
            parse_duration,
            d.shutdown_grace,
        )?,
    };
    if limits.header_timeout > Duration::from_secs(30) {
        return Err("header-timeout may not exceed 30s: slow headers are how a few clients hold every connection".into());
    }
    let tls_cert = args.tls_cert.or(file.tls_cert);
    let tls_key = args.tls_key.or(file.tls_key);
    if tls_cert.is_some() != tls_key.is_some() {
        return Err("TLS needs both --tls-cert and --tls-key".into());
    }
    let pickup_raw = if !args.pickup_listen.is_empty() {
        args.pickup_listen
    } else {
        file.pickup_listen.unwrap_or_default()
    };
    let pickup_listen = pickup_raw
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<ListenAddr>, _>>()?;
    let hashes_raw = if !args.pickup_token_sha256.is_empty() {
        args.pickup_token_sha256
    } else {
        file.pickup_token_sha256.unwrap_or_default()
    };
    let pickup_token_hashes = hashes_raw
        .iter()
        .map(|h| super::pickup::parse_token_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    if !pickup_listen.is_empty() && pickup_token_hashes.is_empty() {
        return Err("--pickup-listen needs at least one --pickup-token-sha256; create one with `sealdrop pickup-token`".into());
    }
    if let Some(shared) = pickup_listen.iter().find(|a| listen.contains(a)) {
        return Err(format!(
            "{shared} is both a source and a pickup listener; pickup must have its own address"
        ));
    }
    Ok(ServeConfig {
        pickup_listen,
        pickup_token_hashes,
        recipients,
        store,
        listen,
        tls_cert,
        tls_key,
        socket_mode: pick(args.socket_mode, file.socket_mode, parse_mode, 0o660)?,
        limits,
    })
}

fn pickup_token(token_file: Option<PathBuf>) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let (token, hash) = super::pickup::new_token();
    if let Some(path) = &token_file {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                format!(
                    "cannot create {}: {e} (it is never overwritten)",
                    path.display()
                )
            })?;
        writeln!(file, "{token}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("Wrote the pickup token to {} (mode 0600). Give it to the editor who runs `sealdrop pickup`.", path.display());
    } else {
        eprintln!("Pickup token (give it to the editor; store it in a file only they can read):");
        println!("{token}");
    }
    eprintln!("Add this line to the server's config file (the server keeps only this hash):");
    println!("pickup_token_sha256 = [\"{hash}\"]");
    eprintln!("(or pass --pickup-token-sha256 {hash})");
    Ok(())
}

/// Process hardening that must happen before any secret-adjacent work.
fn harden_process() {
    // No core dumps and no ptrace by other processes of the same user:
    // uploads pass through this process's memory in plaintext.
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        eprintln!("sealdrop: warning: could not make the process non-dumpable: {e}");
    }
    // Room for many open connections: raise the soft file limit to the hard one.
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    if let Some(hard) = limit.maximum {
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        );
    }
}

/// What `demo` prints once the server listens, given the first address it
/// serves on.
pub type Banner = Box<dyn FnOnce(&str) -> String>;

/// Starts the server and runs until SIGTERM/SIGINT.
pub async fn run_serve(config: ServeConfig, banner: Option<Banner>) -> Result<(), StartError> {
    let app = AppInner::new(&config)?;
    let certs = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::CertReloader::new(cert, key)?),
        _ => None,
    };
    let acceptor = certs.clone().map(tls::acceptor).transpose()?;
    let source = super::router::router(app.clone());
    let mut listeners: Vec<_> =
        super::bind_all(&config.listen, config.socket_mode, acceptor.clone())
            .await?
            .into_iter()
            .map(|l| (l, source.clone()))
            .collect();
    // The bound addresses, not the configured ones: port 0 becomes a real port.
    let serving: Vec<String> = listeners
        .iter()
        .zip(&config.listen)
        .map(|((l, _), configured)| {
            l.local_addr()
                .unwrap_or_else(|_| configured.clone())
                .to_string()
        })
        .collect();
    if !config.pickup_listen.is_empty() {
        let pickup = super::pickup::router(super::pickup::PickupState::new(
            app.clone(),
            config.pickup_token_hashes.clone(),
        ));
        for l in super::bind_all(&config.pickup_listen, config.socket_mode, acceptor).await? {
            listeners.push((l, pickup.clone()));
        }
    }
    if let Some(certs) = certs {
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                match certs.reload() {
                    Ok(()) => tracing::info!("TLS certificate reloaded"),
                    Err(e) => {
                        tracing::warn!("TLS certificate not reloaded, keeping the old one: {e}")
                    }
                }
            }
        });
    }
    tracing::info!(
        "sealing to {} {} recipient(s); serving on {}",
        app.recipients.len(),
        app.recipients.kind(),
        serving.join(", ")
    );
    if let (Some(banner), Some(first)) = (banner, serving.first()) {
        println!("{}", banner(first));
    }
    super::serve(listeners, app, super::termination_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    harden_process();
    super::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sealdrop: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => match resolve(*args) {
            Ok(config) => runtime
                .block_on(run_serve(config, None))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        },
        Command::Demo { dir, listen } => runtime.block_on(super::demo::run(dir, listen)),
        Command::PickupToken { token_file } => pickup_token(token_file),
        Command::Pickup(args) => return runtime.block_on(super::pickup_client::main(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealdrop: {e}");
            ExitCode::from(2)
        }
    }
}
