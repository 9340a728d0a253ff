//! The alert to a webhook: one HTTP/1.1 POST of a fixed JSON body,
//! `{"text": "…"}` (what ntfy, Matrix hookshot and Mattermost hooks read),
//! over TLS verified against Mozilla's roots and any `--ca-file`; plain HTTP
//! only to a loopback address (a relay on the same machine).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::NotifyError;

/// How long one webhook call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Webhook {
    uri: Uri,
    host: String,
    port: u16,
    tls: bool,
}

impl Webhook {
    pub fn parse(url: &str) -> Result<Webhook, NotifyError> {
        let bad = |why: &str| NotifyError(format!("--webhook {url:?}: {why}"));
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("write https://HOST/PATH")),
        };
        let host = uri.host().ok_or_else(|| bad("no host"))?.to_owned();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(bad("no user or password in the URL, please"));
        }
        let bare = host.trim_matches(['[', ']']);
        let loopback =
            bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !tls && !loopback {
            return Err(bad(
                "plain http:// only to this machine (127.0.0.1, ::1, localhost); use https://",
            ));
        }
        Ok(Webhook {
            port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            host: bare.to_owned(),
            uri,
            tls,
        })
    }

    /// The URL without its path and query (which may hold a secret token).
    pub fn describe(&self) -> String {
        format!(
            "{}://{}:{}",
            if self.tls { "https" } else { "http" },
            self.host,
            self.port
        )
    }

    pub async fn post(
        &self,
        text: &str,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<(), String> {
        tokio::time::timeout(TIMEOUT, self.post_now(text, extra_roots))
            .await
            .map_err(|_| format!("no answer within {}s", TIMEOUT.as_secs()))?
    }

    async fn post_now(
        &self,
        text: &str,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<(), String> {
        let body =
            serde_json::to_vec(&serde_json::json!({ "text": text })).map_err(|e| e.to_string())?;
        let path = self
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let host_header = match self.uri.port_u16() {
            Some(port) => format!("{}:{port}", self.uri.host().unwrap_or_default()),
            None => self.uri.host().unwrap_or_default().to_owned(),
        };
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(hyper::header::HOST, host_header)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let status = if self.tls {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            for root in extra_roots {
                roots
                    .add(root.clone())
                    .map_err(|e| format!("--ca-file: {e}"))?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            let name = ServerName::try_from(self.host.clone()).map_err(|e| e.to_string())?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            exchange(stream, request).await?
        } else {
            exchange(tcp, request).await?
        };
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {status}"))
        }
    }
}

async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<hyper::StatusCode, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    // Read (and drop) what it says, so the exchange ends cleanly.
    let _ = response.into_body().collect().await;
    Ok(status)
}
