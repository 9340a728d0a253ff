//! Runs on the editors' transfer laptop: `sealdrop pickup`, the client side
//! of the pickup API. Downloads every pending submission into a folder
//! (temporary name, fsync, SHA-256 verified, atomic rename), and only then
//! acknowledges it so the server deletes it. Safe to interrupt and to run
//! again; a lock serializes runs into one folder.

use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use sealdrop_format::hex;
use sealdrop_format::id::{random_hex, SubmissionId};
use sealdrop_format::pickup::{ack_path, download_path, Ack, Listing, Pending, LIST_PATH};
use sealdrop_format::terminal::{display_safe, human_size, progress_bar};

/// The most of a server's error text shown to the editor.
const SERVER_TEXT_CHARS: usize = 300;

/// What a server said, as text fit for the editor's terminal: it may be
/// hostile (a seized or impersonated server), so terminal controls, bidi
/// overrides and invisible characters are neutralized and the length is
/// capped. Every error that can carry server text is printed through
/// `display_safe` as well.
pub(super) fn server_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut shown: String = display_safe(&text)
        .chars()
        .take(SERVER_TEXT_CHARS)
        .collect();
    if text.chars().count() > SERVER_TEXT_CHARS {
        shown.push('…');
    }
    shown
}

/// Marks a download in progress: `.<id>.age.partial-<random>`. Such files are
/// never complete and are removed by the next run.
const PARTIAL_MARK: &str = ".age.partial-";

#[derive(clap::Args)]
pub(crate) struct PickupArgs {
    /// The pickup API: http://HOST:PORT (an onion address through torsocks) or unix:PATH.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// File holding the pickup token (from `sealdrop pickup-token`).
    #[arg(long, value_name = "FILE")]
    pub token_file: PathBuf,
    /// Folder that receives the sealed `<id>.age` files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Leave the submissions on the server after downloading them.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PickupError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the pickup API at {target}: {source} (is the server running, and the address right?)")]
    Connect { target: String, source: io::Error },
    #[error("HTTP error talking to the pickup API: {0}")]
    Http(String),
    #[error(
        "the server refused the token (401): check --token-file, or ask the admin for a new token"
    )]
    Unauthorized,
    #[error("the server answered {status}: {message}")]
    Status { status: StatusCode, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{id}: the download does not match the server's SHA-256 or size; it was discarded and will be fetched again next time")]
    Corrupt { id: String },
    #[error("{path} already exists with different content; move it away and run again")]
    Clash { path: PathBuf },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PickupError + '_ {
    move |source| PickupError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(super) enum Target {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Target, PickupError> {
        if let Some(path) = url.strip_prefix("unix:") {
            return Ok(Target::Unix(PathBuf::from(path)));
        }
        if url.starts_with("https://") {
            return Err(PickupError::Usage(
                "https:// pickup is not supported by this client yet: use the pickup onion service \
                 (torsocks sealdrop pickup --from http://….onion …) or a Unix socket through SSH"
                    .into(),
            ));
        }
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            PickupError::Usage(format!("{url:?}: use http://HOST:PORT or unix:PATH"))
        })?;
        let authority = rest.trim_end_matches('/');
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']').to_owned(),
                p.parse()
                    .map_err(|_| PickupError::Usage(format!("{url:?}: bad port")))?,
            ),
            _ => (authority.to_owned(), 80),
        };
        Ok(Target::Tcp { host, port })
    }

    fn describe(&self) -> String {
        match self {
            Target::Tcp { host, port } => format!("{host}:{port}"),
            Target::Unix(p) => format!("unix:{}", p.display()),
        }
    }

    fn host_header(&self) -> String {
        match self {
            Target::Tcp { host, port } => format!("{host}:{port}"),
            Target::Unix(_) => "localhost".to_owned(),
        }
    }
}

pub(super) struct Client {
    pub(super) target: Target,
    pub(super) token: String,
}

pub(super) type Incoming = hyper::Response<hyper::body::Incoming>;

async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Incoming, PickupError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| PickupError::Http(e.to_string()))?;
    tokio::spawn(conn);
    sender
        .send_request(request)
        .await
        .map_err(|e| PickupError::Http(e.to_string()))
}

/// A request body and its content type.
pub(super) struct Payload {
    pub(super) bytes: Vec<u8>,
    pub(super) content_type: &'static str,
}

impl Payload {
    pub(super) fn json(bytes: Vec<u8>) -> Payload {
        Payload {
            bytes,
            content_type: "application/json",
        }
    }
}

impl Client {
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Payload>,
    ) -> Result<Incoming, PickupError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.target.host_header())
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            );
        if let Some(payload) = &body {
            builder = builder.header(hyper::header::CONTENT_TYPE, payload.content_type);
        }
        let request = builder
            .body(Full::new(Bytes::from(
                body.map(|p| p.bytes).unwrap_or_default(),
            )))
            .map_err(|e| PickupError::Http(e.to_string()))?;
        let connect_err = |source| PickupError::Connect {
            target: self.target.describe(),
            source,
        };
        let response = match &self.target {
            Target::Tcp { host, port } => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(connect_err)?;
                exchange(stream, request).await?
            }
            Target::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(connect_err)?;
                exchange(stream, request).await?
            }
        };
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(PickupError::Unauthorized);
        }
        Ok(response)
    }

    pub(super) async fn json<T: serde::de::DeserializeOwned>(
        response: Incoming,
    ) -> Result<T, PickupError> {
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), 64 * 1024 * 1024)
            .collect()
            .await
            .map_err(|e| PickupError::Http(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(PickupError::Status {
                status,
                message: server_text(&body),
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| PickupError::Http(format!("unexpected answer: {e}")))
    }
}

async fn file_sha256(path: &Path) -> io::Result<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        sealdrop_format::fsutil::sha256_file(&path).map(|h| hex::encode(&h))
    })
    .await
    .map_err(io::Error::other)?
}

/// A pending submission whose id is well formed (the server's listing is
/// not trusted: an id becomes a file name here).
struct Item {
    id: SubmissionId,
    size: u64,
    sha256: String,
}

/// What became of one pending submission.
enum Fetched {
    Downloaded,
    AlreadyHere,
}

async fn fetch(
    client: &Client,
    dir: &Path,
    item: &Item,
    bar: &indicatif::ProgressBar,
) -> Result<Fetched, PickupError> {
    let final_path = dir.join(item.id.file_name());
    if final_path.exists() {
        let existing = file_sha256(&final_path)
            .await
            .map_err(io_err(&final_path))?;
        return if existing == item.sha256 {
            bar.inc(item.size);
            Ok(Fetched::AlreadyHere)
        } else {
            Err(PickupError::Clash { path: final_path })
        };
    }
    let partial = dir.join(format!(".{}{PARTIAL_MARK}{}", item.id, random_hex(8)));
    let result = download_to(client, &partial, item, bar).await;
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    match sealdrop_format::fsutil::rename_no_replace(&partial, &final_path) {
        Ok(()) => {
            sealdrop_format::fsutil::sync_dir(dir).map_err(io_err(dir))?;
            Ok(Fetched::Downloaded)
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(PickupError::Io {
                path: final_path,
                source: e,
            })
        }
    }
}

async fn download_to(
    client: &Client,
    partial: &Path,
    item: &Item,
    bar: &indicatif::ProgressBar,
) -> Result<(), PickupError> {
    let response = client
        .send(Method::GET, &download_path(&item.id), None)
        .await?;
    if !response.status().is_success() {
        return Client::json::<serde_json::Value>(response)
            .await
            .map(|_| ());
    }
    let mut out = tokio::fs::File::from_std(
        sealdrop_format::fsutil::create_new_private_file(partial).map_err(io_err(partial))?,
    );
    let mut body = response.into_body();
    let mut sha = Sha256::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| PickupError::Http(format!("download of {} broke off: {e}", item.id)))?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > item.size {
                return Err(PickupError::Corrupt {
                    id: item.id.to_string(),
                });
            }
            sha.update(&data);
            out.write_all(&data).await.map_err(io_err(partial))?;
            bar.inc(data.len() as u64);
        }
    }
    out.flush().await.map_err(io_err(partial))?;
    out.sync_all().await.map_err(io_err(partial))?;
    if size != item.size || hex::encode(&sha.finalize()) != item.sha256 {
        return Err(PickupError::Corrupt {
            id: item.id.to_string(),
        });
    }
    Ok(())
}

async fn acknowledge(client: &Client, item: &Item) -> Result<bool, PickupError> {
    let body = serde_json::to_vec(&Ack {
        sha256: item.sha256.clone(),
    })
    .map_err(|e| PickupError::Http(e.to_string()))?;
    let response = client
        .send(Method::POST, &ack_path(&item.id), Some(Payload::json(body)))
        .await?;
    match response.status() {
        StatusCode::NO_CONTENT => Ok(true),
        // Another pickup acknowledged it first: it is gone, and we hold a verified copy.
        StatusCode::NOT_FOUND => Ok(false),
        _ => Client::json::<serde_json::Value>(response)
            .await
            .map(|_| false),
    }
}

pub(super) fn read_token(path: &Path) -> Result<String, PickupError> {
    let meta = fs::metadata(path).map_err(io_err(path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        eprintln!(
            "sealdrop: warning: {} is readable by other users; run chmod 600 on it",
            path.display()
        );
    }
    let token = fs::read_to_string(path)
        .map_err(io_err(path))?
        .trim()
        .to_owned();
    if token.is_empty() {
        return Err(PickupError::Usage(format!(
            "{} is empty; it should hold the pickup token",
            path.display()
        )));
    }
    Ok(token)
}

/// Takes an exclusive lock on DIR, waiting for another pickup into it.
async fn lock_dir(dir: &Path) -> Result<fs::File, PickupError> {
    let path = dir.join(".sealdrop-pickup.lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(&path))?;
    if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
        return Ok(file);
    }
    eprintln!(
        "Another pickup into {} is running; waiting for it to finish…",
        dir.display()
    );
    tokio::task::spawn_blocking(move || {
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map(|()| file)
    })
    .await
    .map_err(|e| PickupError::Io {
        path: path.clone(),
        source: io::Error::other(e),
    })?
    .map_err(|e| PickupError::Io {
        path,
        source: e.into(),
    })
}

pub(crate) struct Summary {
    pub downloaded: usize,
    pub already_here: usize,
    pub acknowledged: usize,
    pub bytes: u64,
    pub failures: Vec<PickupError>,
}

pub(crate) async fn run(args: &PickupArgs) -> Result<Summary, PickupError> {
    let client = Client {
        target: Target::parse(&args.from)?,
        token: read_token(&args.token_file)?,
    };
    sealdrop_format::fsutil::create_private_dir_all(&args.to).map_err(io_err(&args.to))?;
    let _lock = lock_dir(&args.to).await?;
    // Leftovers of an interrupted run (we hold the lock, so they are not live).
    for entry in fs::read_dir(&args.to).map_err(io_err(&args.to))?.flatten() {
        if entry.file_name().to_string_lossy().contains(PARTIAL_MARK) {
            let _ = fs::remove_file(entry.path());
        }
    }
    let listing: Listing = Client::json(client.send(Method::GET, LIST_PATH, None).await?).await?;
    let pending: Vec<Item> = listing
        .submissions
        .into_iter()
        .filter_map(|Pending { id, size, sha256 }| {
            SubmissionId::parse(&id).map(|id| Item { id, size, sha256 })
        })
        .collect();
    let total: u64 = pending.iter().map(|p| p.size).sum();
    let bar = progress_bar(total);
    let mut summary = Summary {
        downloaded: 0,
        already_here: 0,
        acknowledged: 0,
        bytes: 0,
        failures: Vec::new(),
    };
    for item in &pending {
        match fetch(&client, &args.to, item, &bar).await {
            Ok(fetched) => {
                match fetched {
                    Fetched::Downloaded => summary.downloaded += 1,
                    Fetched::AlreadyHere => summary.already_here += 1,
                }
                summary.bytes += item.size;
                if !args.keep {
                    match acknowledge(&client, item).await {
                        Ok(true) => summary.acknowledged += 1,
                        Ok(false) => {}
                        Err(e) => summary.failures.push(e),
                    }
                }
            }
            Err(e @ (PickupError::Unauthorized | PickupError::Connect { .. })) => return Err(e),
            Err(e) => {
                bar.suspend(|| eprintln!("FAILED {}", display_safe(&e.to_string())));
                summary.failures.push(e);
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

pub(crate) async fn main(args: PickupArgs) -> ExitCode {
    match run(&args).await {
        Ok(summary) => {
            eprintln!(
                "{} submission(s) ({}) now in {}: {} downloaded, {} already there; {}.",
                summary.downloaded + summary.already_here,
                human_size(summary.bytes),
                args.to.display(),
                summary.downloaded,
                summary.already_here,
                if args.keep {
                    "left on the server (--keep)".to_owned()
                } else {
                    format!("{} deleted from the server", summary.acknowledged)
                }
            );
            if summary.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!("{} failed:", summary.failures.len());
                for f in &summary.failures {
                    eprintln!("  {}", display_safe(&f.to_string()));
                }
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("sealdrop pickup: {}", display_safe(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
