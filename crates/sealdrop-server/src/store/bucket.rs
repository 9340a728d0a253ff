//! An S3-compatible bucket as the place sealed files are kept
//! (`--store s3://BUCKET[/PREFIX]`); the local store folder then only spools
//! ciphertext while it arrives (`--spool`).
//!
//! Everything here runs on the server's blocking threads (upload commits,
//! pickup, maintenance) and waits for the S3 client on the runtime that
//! started the server. A submission is one object, `PREFIX/<id>.age`, that
//! exists only once the store has accepted all of it: a single PUT up to
//! [`PART_SIZE`], above it a multipart upload that is completed, or aborted
//! on any failure. An upload the process could not abort (it was killed) is
//! aborted later: at the next start by the front that began it (its spool
//! still names it), or by any front once it is [`ABANDONED_AFTER`] old.

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer};
use object_store::client::{ClientOptions, HttpClient, HttpConnector, ReqwestConnector};
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;

/// Bytes of ciphertext per request part: one part of one upload is in
/// memory at a time (S3 wants at least 5 MiB for every part but the last).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Commits sending to the store at once, per front; more wait their turn.
/// Each holds one part in memory, so this bounds what commits take
/// (about 8 MiB each, plus the client's buffers), however many sources
/// finish at the same moment.
pub const TRANSFERS_AT_ONCE: usize = 4;
/// An incomplete multipart upload older than this was left by a front that
/// died during a commit; any front aborts it. A commit's transfer takes
/// seconds to minutes; an hour leaves room for a slow link.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(3600);
/// How long one request may take, and how long the client keeps retrying a
/// failing store before the source gets the "busy" page.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_FOR: Duration = Duration::from_secs(15);

/// Where the store is: `s3://BUCKET[/PREFIX]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketLocation {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl BucketLocation {
    /// `s3://BUCKET[/PREFIX]`, or `None` for anything else (a folder).
    pub fn parse(s: &str) -> Option<Result<BucketLocation, String>> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Some(Err(format!(
                "{s:?}: a bucket name is 3-63 of a-z, 0-9, '-' and '.' (s3://BUCKET[/PREFIX])"
            )));
        }
        let prefix_ok = prefix.split('/').all(|segment| {
            segment.is_empty() && prefix.is_empty()
                || !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
        if !prefix_ok {
            return Some(Err(format!(
                "{s:?}: the prefix may hold only a-z, A-Z, 0-9, '-', '_', '.' and '/' between names"
            )));
        }
        Some(Ok(BucketLocation {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        }))
    }
}

impl fmt::Display for BucketLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// Why the bucket cannot be used; each message says what to check.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("object store {0}: {1}")]
    Config(String, String),
    #[error(
        "object store {location} at {endpoint}: cannot write a test object: {reason}. Check that \
         the endpoint is reachable (AWS_ENDPOINT_URL), the region (AWS_REGION), that the bucket \
         exists, and that the key (AWS_ACCESS_KEY_ID, or --s3-credentials) may read, write and \
         delete in it"
    )]
    NotWritable {
        location: String,
        endpoint: String,
        reason: String,
    },
}

/// A store failure that is not the request's fault: unreachable, slow,
/// refusing. Carried inside an `io::Error` so that the upload path can
/// tell it from a full disk.
#[derive(Debug, thiserror::Error)]
#[error("object store {location}: {reason}")]
pub struct Unavailable {
    location: String,
    reason: String,
}

/// An object directly under a bucket store's prefix.
pub struct Object {
    pub name: String,
    pub size: u64,
    /// When the store made it (exact: the store records it, we cannot blur it).
    pub created: SystemTime,
}

/// An incomplete multipart upload under the prefix.
struct Incomplete {
    key: String,
    upload_id: String,
    initiated: Option<SystemTime>,
}

struct Shared {
    s3: AmazonS3,
    /// For the one request object_store does not make (listing incomplete
    /// multipart uploads), signed with its own SigV4 code.
    http: HttpClient,
    /// Path-style URL of the bucket.
    bucket_url: String,
    region: String,
    location: BucketLocation,
    runtime: Handle,
    /// Turns for [`Bucket::put_file`] ([`TRANSFERS_AT_ONCE`]).
    transfers: tokio::sync::Semaphore,
}

/// A bucket and the prefix one store keeps its objects under.
#[derive(Clone)]
pub struct Bucket {
    shared: Arc<Shared>,
    /// `PREFIX`, `PREFIX/desks/NAME`, … without a trailing `/`.
    prefix: String,
}

/// Credentials from an AWS shared-credentials file (`[PROFILE]` sections of
/// `key = value` lines). Hand-written: object_store reads only the
/// environment, and the format is a handful of lines.
fn credentials_from_file(path: &FsPath) -> Result<(String, String, Option<String>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read credentials file {}: {e}", path.display()))?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let section = section.trim();
            in_profile = section == profile || section == format!("profile {profile}");
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_owned();
            match key.trim() {
                "aws_access_key_id" => id = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                "aws_session_token" => token = Some(value),
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) => Ok((id, secret, token)),
        _ => Err(format!(
            "credentials file {} has no aws_access_key_id and aws_secret_access_key in profile [{profile}]",
            path.display()
        )),
    }
}

/// Whether an endpoint URL names this machine (plain HTTP is allowed there).
fn is_loopback(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Bucket {
    /// Connects to `location` with the endpoint, region and credentials of
    /// the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or of `credentials_file`,
    /// and checks that it can write, read and delete there. Call on a
    /// blocking thread of the server's runtime.
    pub fn connect(
        location: &BucketLocation,
        credentials_file: Option<&FsPath>,
    ) -> Result<Bucket, BucketError> {
        let config_err = |m: String| BucketError::Config(location.to_string(), m);
        // reqwest is built without a crypto provider of its own: it takes
        // the process's, ring, as the server's TLS does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = Handle::try_current()
            .map_err(|_| config_err("internal: no runtime to run the S3 client on".into()))?;
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".into());
        let allow_http = endpoint.as_deref().is_some_and(is_loopback)
            || std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v == "true");
        if let Some(e) = &endpoint {
            if e.starts_with("http://") && !allow_http {
                return Err(config_err(format!(
                    "AWS_ENDPOINT_URL {e} is plain HTTP to another machine: use https://, or set AWS_ALLOW_HTTP=true for a private network you trust"
                )));
            }
        }
        let options = ClientOptions::new()
            .with_timeout(REQUEST_TIMEOUT)
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_allow_http(allow_http);
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: RETRY_FOR,
            ..Default::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(&region)
            .with_client_options(options.clone())
            .with_retry(retry);
        if let Some(e) = &endpoint {
            builder = builder.with_endpoint(e);
        }
        let (id, secret, token) = match credentials_file {
            Some(path) => credentials_from_file(path).map_err(config_err)?,
            None => match (
                std::env::var("AWS_ACCESS_KEY_ID"),
                std::env::var("AWS_SECRET_ACCESS_KEY"),
            ) {
                (Ok(id), Ok(secret)) => (id, secret, std::env::var("AWS_SESSION_TOKEN").ok()),
                _ => {
                    return Err(config_err(
                        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (systemd: LoadCredential or EnvironmentFile), or give --s3-credentials FILE".into(),
                    ))
                }
            },
        };
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
        if let Some(token) = token {
            builder = builder.with_token(token);
        }
        let endpoint_shown = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let s3 = builder.build().map_err(|e| config_err(e.to_string()))?;
        let http = ReqwestConnector::default()
            .connect(&options)
            .map_err(|e| config_err(e.to_string()))?;
        let bucket = Bucket {
            shared: Arc::new(Shared {
                s3,
                http,
                bucket_url: format!(
                    "{}/{}",
                    endpoint_shown.trim_end_matches('/'),
                    location.bucket
                ),
                region,
                location: location.clone(),
                runtime,
                transfers: tokio::sync::Semaphore::new(TRANSFERS_AT_ONCE),
            }),
            prefix: location.prefix.clone(),
        };
        bucket
            .check_writable()
            .map_err(|reason| BucketError::NotWritable {
                location: location.to_string(),
                endpoint: endpoint_shown,
                reason,
            })?;
        Ok(bucket)
    }

    /// The store under `PREFIX/name` (a desk's, the replies').
    pub fn child(&self, name: &str) -> Bucket {
        Bucket {
            shared: self.shared.clone(),
            prefix: self.key(name),
        }
    }

    /// `s3://BUCKET/PREFIX` of this store, for messages.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.shared.location.bucket, self.prefix)
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn path(&self, name: &str) -> Path {
        Path::from(self.key(name))
    }

    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.shared.runtime.block_on(future)
    }

    fn unavailable(&self, e: impl fmt::Display) -> io::Error {
        io::Error::other(Unavailable {
            location: self.describe(),
            reason: e.to_string(),
        })
    }

    fn io_error(&self, e: object_store::Error) -> io::Error {
        match e {
            object_store::Error::NotFound { .. } => {
                io::Error::new(io::ErrorKind::NotFound, "no such object")
            }
            other => self.unavailable(other),
        }
    }

    /// Writes, reads back and deletes a small object whose name never
    /// looks like a submission.
    fn check_writable(&self) -> Result<(), String> {
        let name = format!(".probe-{}", sealdrop_format::id::random_hex(8));
        let path = self.path(&name);
        let s3 = &self.shared.s3;
        self.wait(async {
            s3.put(&path, PutPayload::from_static(b"sealdrop probe"))
                .await
                .map_err(|e| e.to_string())?;
            let back = s3.get(&path).await.map_err(|e| e.to_string())?;
            back.bytes().await.map_err(|e| e.to_string())?;
            s3.delete(&path).await.map_err(|e| e.to_string())
        })
    }

    /// The objects directly under this store's prefix.
    pub fn list(&self) -> io::Result<Vec<Object>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let listed = self
            .wait(self.shared.s3.list_with_delimiter(prefix.as_ref()))
            .map_err(|e| self.io_error(e))?;
        Ok(listed
            .objects
            .into_iter()
            .filter_map(|meta| {
                Some(Object {
                    name: meta.location.filename()?.to_owned(),
                    size: meta.size,
                    created: meta.last_modified.into(),
                })
            })
            .collect())
    }

    /// Stores the `len` bytes of `file` as `name` and returns their SHA-256;
    /// on return the store has accepted all of them. Up to [`PART_SIZE`] in
    /// one PUT, above in a multipart upload, aborted if any part fails.
    pub fn put_file(&self, name: &str, file: &mut File, len: u64) -> io::Result<[u8; 32]> {
        let path = self.path(name);
        let s3 = &self.shared.s3;
        let _turn = self
            .wait(self.shared.transfers.acquire())
            .map_err(|e| self.unavailable(e))?;
        let mut hasher = Sha256::new();
        let mut next_part = |file: &mut File| -> io::Result<Vec<u8>> {
            let mut part = Vec::with_capacity(PART_SIZE);
            file.take(PART_SIZE as u64).read_to_end(&mut part)?;
            hasher.update(&part);
            Ok(part)
        };
        if len <= PART_SIZE as u64 {
            let whole = next_part(file)?;
            self.wait(s3.put(&path, PutPayload::from(whole)))
                .map_err(|e| self.io_error(e))?;
        } else {
            let mut upload = self
                .wait(s3.put_multipart(&path))
                .map_err(|e| self.io_error(e))?;
            let sent = self.wait(async {
                loop {
                    let part = next_part(file).map_err(|e| e.to_string())?;
                    if part.is_empty() {
                        break;
                    }
                    upload
                        .put_part(PutPayload::from(part))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                upload.complete().await.map_err(|e| e.to_string())
            });
            if let Err(reason) = sent {
                // Best effort: an upload not aborted now is aborted later
                // (see the module's comment).
                let _ = self.wait(upload.abort());
                return Err(self.unavailable(reason));
            }
        }
        Ok(hasher.finalize().into())
    }

    /// Stores a small object whole.
    pub fn put_bytes(&self, name: &str, bytes: Vec<u8>) -> io::Result<()> {
        self.wait(
            self.shared
                .s3
                .put(&self.path(name), PutPayload::from(bytes)),
        )
        .map(drop)
        .map_err(|e| self.io_error(e))
    }

    /// A small object's bytes (at most `max`).
    pub fn get_bytes(&self, name: &str, max: u64) -> io::Result<Vec<u8>> {
        let s3 = &self.shared.s3;
        let path = self.path(name);
        self.wait(async {
            let got = s3.get(&path).await?;
            if got.meta.size > max {
                return Ok(None);
            }
            got.bytes().await.map(|b| Some(b.to_vec()))
        })
        .map_err(|e| self.io_error(e))?
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "object larger than expected"))
    }

    /// SHA-256 of an object, read as a stream.
    pub fn sha256_of(&self, name: &str) -> io::Result<[u8; 32]> {
        let s3 = &self.shared.s3;
        let path = self.path(name);
        self.wait(async {
            let mut stream = s3.get(&path).await?.into_stream();
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.next().await {
                hasher.update(chunk?);
            }
            Ok::<_, object_store::Error>(hasher.finalize().into())
        })
        .map_err(|e| self.io_error(e))
    }

    /// An object's length and bytes, streamed (for the pickup API; async).
    pub async fn stream(
        &self,
        name: &str,
    ) -> io::Result<(u64, BoxStream<'static, io::Result<Bytes>>)> {
        let got = self
            .shared
            .s3
            .get(&self.path(name))
            .await
            .map_err(|e| self.io_error(e))?;
        let len = got.meta.size;
        let this = self.clone();
        let stream = got.into_stream().map_err(move |e| this.io_error(e)).boxed();
        Ok((len, stream))
    }

    /// An object's length (NotFound if there is none).
    pub fn size_of(&self, name: &str) -> io::Result<u64> {
        self.wait(self.shared.s3.head(&self.path(name)))
            .map(|meta| meta.size)
            .map_err(|e| self.io_error(e))
    }

    pub fn exists(&self, name: &str) -> io::Result<bool> {
        match self.size_of(name) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn delete(&self, name: &str) -> io::Result<()> {
        self.wait(self.shared.s3.delete(&self.path(name)))
            .map_err(|e| self.io_error(e))
    }

    /// Aborts the incomplete multipart uploads under this store's prefix
    /// that are [`ABANDONED_AFTER`] old, or whose object is one of `names`
    /// (uploads this front began and could not finish). Returns how many.
    pub fn abort_incomplete(&self, names: &[String], now: SystemTime) -> io::Result<usize> {
        let keys: Vec<String> = names.iter().map(|n| self.key(n)).collect();
        let mut aborted = 0;
        for upload in self.incomplete_uploads()? {
            // Deeper prefixes (desks, replies) belong to other stores.
            let Some(rest) = upload
                .key
                .strip_prefix(&self.key(""))
                .filter(|r| !r.contains('/'))
            else {
                continue;
            };
            let abandoned = upload.initiated.is_some_and(|t| {
                now.duration_since(t)
                    .is_ok_and(|age| age >= ABANDONED_AFTER)
            });
            if abandoned || keys.contains(&upload.key) {
                self.wait(
                    self.shared
                        .s3
                        .abort_multipart(&self.path(rest), &upload.upload_id),
                )
                .map_err(|e| self.io_error(e))?;
                aborted += 1;
            }
        }
        Ok(aborted)
    }

    /// ListMultipartUploads under this store's prefix, every page.
    fn incomplete_uploads(&self) -> io::Result<Vec<Incomplete>> {
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut query = format!(
                "uploads=&prefix={}",
                percent_encoding::utf8_percent_encode(&self.key(""), QUERY_VALUE)
            );
            if let Some((key, id)) = &markers {
                query.push_str(&format!(
                    "&key-marker={}&upload-id-marker={}",
                    percent_encoding::utf8_percent_encode(key, QUERY_VALUE),
                    percent_encoding::utf8_percent_encode(id, QUERY_VALUE)
                ));
            }
            let url = format!("{}?{query}", self.shared.bucket_url);
            let body = self.signed_get(&url).map_err(|e| self.unavailable(e))?;
            let page = parse_uploads(&body).map_err(|e| self.unavailable(e))?;
            uploads.extend(page.uploads);
            match page.next {
                Some(next) => markers = Some(next),
                None => return Ok(uploads),
            }
        }
    }

    /// The store's own time: the `Date` of its answer to a small signed
    /// listing (one incomplete upload at most). Expiry counts ages against
    /// it, because objects are dated by this clock, not a front's.
    pub fn clock(&self) -> io::Result<SystemTime> {
        let url = format!(
            "{}?uploads=&max-uploads=1&prefix={}",
            self.shared.bucket_url,
            percent_encoding::utf8_percent_encode(&self.key(""), QUERY_VALUE)
        );
        let (_, date) = self
            .signed_get_dated(&url)
            .map_err(|e| self.unavailable(e))?;
        date.ok_or_else(|| self.unavailable("the object store's answer has no valid Date header"))
    }

    fn signed_get(&self, url: &str) -> Result<Vec<u8>, String> {
        self.signed_get_dated(url).map(|(body, _)| body)
    }

    /// A signed GET: the body, and the answer's `Date` if it has a valid one.
    fn signed_get_dated(&self, url: &str) -> Result<(Vec<u8>, Option<SystemTime>), String> {
        let shared = &self.shared;
        self.wait(async {
            let credential = shared
                .s3
                .credentials()
                .get_credential()
                .await
                .map_err(|e| e.to_string())?;
            let mut request = axum::http::Request::get(url)
                .body(object_store::client::HttpRequestBody::from(Vec::new()))
                .map_err(|e| e.to_string())?;
            AwsAuthorizer::new(&credential, "s3", &shared.region)
                .try_authorize(&mut request, None)
                .map_err(|e| e.to_string())?;
            let response = shared
                .http
                .execute(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let date = response
                .headers()
                .get(axum::http::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok());
            let body = response
                .into_body()
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!(
                    "listing incomplete uploads: HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
            Ok((body.to_vec(), date))
        })
    }
}

/// Characters escaped in a query value (SigV4 wants RFC 3986 unreserved
/// characters only).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

struct UploadsPage {
    uploads: Vec<Incomplete>,
    /// The markers of the next page, if the listing was truncated.
    next: Option<(String, String)>,
}

/// Reads a ListMultipartUploadsResult document.
fn parse_uploads(xml: &[u8]) -> Result<UploadsPage, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut uploads = Vec::new();
    let mut current: Option<Incomplete> = None;
    let (mut truncated, mut next_key, mut next_id) = (false, String::new(), String::new());
    let mut buf = Vec::new();
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?
        {
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_owned();
                if name == "Upload" && path.len() == 1 {
                    current = Some(Incomplete {
                        key: String::new(),
                        upload_id: String::new(),
                        initiated: None,
                    });
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(t.as_ref()),
            // Entities come apart from the text around them.
            Event::GeneralRef(r) => match r.resolve_char_ref().map_err(|e| e.to_string())? {
                Some(c) => text.push(c),
                None => {
                    let name: &str = r.as_ref();
                    let c = quick_xml::escape::resolve_xml_entity(name)
                        .ok_or_else(|| format!("unknown entity &{name};"))?;
                    text.push_str(c);
                }
            },
            Event::End(_) => {
                let here: Vec<&str> = path.iter().map(String::as_str).collect();
                let value = std::mem::take(&mut text);
                match (here.as_slice(), current.as_mut()) {
                    ([_, "Upload", "Key"], Some(u)) => u.key = value,
                    ([_, "Upload", "UploadId"], Some(u)) => u.upload_id = value,
                    ([_, "Upload", "Initiated"], Some(u)) => {
                        u.initiated = time::OffsetDateTime::parse(
                            value.trim(),
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                        .map(SystemTime::from)
                    }
                    ([_, "Upload"], _) => uploads.extend(current.take()),
                    ([_, "IsTruncated"], _) => truncated = value.trim() == "true",
                    ([_, "NextKeyMarker"], _) => next_key = value,
                    ([_, "NextUploadIdMarker"], _) => next_id = value,
                    _ => {}
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let next = (truncated && !next_key.is_empty()).then_some((next_key, next_id));
    Ok(UploadsPage { uploads, next })
}

/// Whether an error from a store operation is the store's failure
/// (unreachable, refusing, slow) rather than the local disk's.
pub fn is_unavailable(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Unavailable>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_refuse_what_is_not_one() {
        let parsed = BucketLocation::parse("s3://drop/newsroom/front")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.bucket, "drop");
        assert_eq!(parsed.prefix, "newsroom/front");
        assert_eq!(parsed.to_string(), "s3://drop/newsroom/front");
        let root = BucketLocation::parse("s3://drop-1/").unwrap().unwrap();
        assert_eq!(root.prefix, "");
        assert!(BucketLocation::parse("/srv/sealdrop").is_none());
        for bad in [
            "s3://",
            "s3://A",
            "s3://ok-bucket/../x",
            "s3://ok-bucket/a//b",
            "s3://ok-bucket/a b",
        ] {
            assert!(BucketLocation::parse(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_may_be_plain_http() {
        for yes in [
            "http://127.0.0.1:3900",
            "http://[::1]:3900/",
            "http://localhost:9000",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "https://127.0.0.1:3900",
            "http://10.0.0.2:3900",
            "http://example.org",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }

    #[test]
    fn incomplete_upload_listings_are_read_with_their_markers() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>drop</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>p/b.age</NextKeyMarker><NextUploadIdMarker>id-2</NextUploadIdMarker>
  <Prefix>p/</Prefix><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>p/a.age</Key><UploadId>id-1</UploadId><Initiated>2026-11-30T10:00:00.000Z</Initiated></Upload>
  <Upload><Key>p/b&amp;.age</Key><UploadId>id-2</UploadId><Initiated>bad</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let page = parse_uploads(xml).unwrap();
        assert_eq!(page.uploads.len(), 2);
        assert_eq!(page.uploads[0].key, "p/a.age");
        assert_eq!(page.uploads[0].upload_id, "id-1");
        assert_eq!(
            page.uploads[0].initiated,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_032_800))
        );
        assert_eq!(page.uploads[1].key, "p/b&.age");
        assert_eq!(page.uploads[1].initiated, None);
        assert_eq!(page.next, Some(("p/b.age".into(), "id-2".into())));
    }

    #[test]
    fn credentials_files_are_read_by_profile() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("credentials");
        std::fs::write(
            &f,
            "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n\n# comment\n[default]\naws_access_key_id=GKabc\naws_secret_access_key = s3cr3t\n",
        )
        .unwrap();
        let (id, secret, token) = credentials_from_file(&f).unwrap();
        assert_eq!(
            (id.as_str(), secret.as_str(), token),
            ("GKabc", "s3cr3t", None)
        );
        std::fs::write(&f, "[default]\naws_access_key_id=GKabc\n").unwrap();
        assert!(credentials_from_file(&f)
            .unwrap_err()
            .contains("aws_secret_access_key"));
    }
}
