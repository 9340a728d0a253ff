//! Listeners and connections: hyper's HTTP/1.1 server with a header-read
//! timeout (axum::serve has none), a cap on open connections, and graceful
//! shutdown that lets in-flight uploads finish.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::sync::Arc;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;

use super::config::{ListenAddr, Policy, ServeConfig};
use super::connections::{Budget, Connection};
use super::{pages, App, StartError};

/// A bound listener, optionally with TLS (TCP only).
pub enum Listener {
    Tcp(TcpListener, Option<tokio_rustls::TlsAcceptor>),
    Unix(UnixListener),
}

impl Listener {
    /// The address actually bound: for port 0, the one the kernel picked.
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        match self {
            Listener::Tcp(l, _) => l.local_addr().map(ListenAddr::Tcp),
            Listener::Unix(l) => l
                .local_addr()?
                .as_pathname()
                .map(|path| ListenAddr::Unix(path.to_owned()))
                .ok_or_else(|| io::Error::other("the Unix socket has no path")),
        }
    }

    /// Binds `addr`. A stale Unix socket file is replaced; any other file at
    /// that path is an error.
    pub async fn bind(
        addr: &ListenAddr,
        tls: Option<tokio_rustls::TlsAcceptor>,
        socket_mode: u32,
    ) -> io::Result<Listener> {
        match addr {
            ListenAddr::Tcp(a) => Ok(Listener::Tcp(TcpListener::bind(a).await?, tls)),
            ListenAddr::Unix(path) => {
                if let Ok(meta) = fs::symlink_metadata(path) {
                    if meta.file_type().is_socket() {
                        fs::remove_file(path)?;
                    } else {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!("{} exists and is not a socket", path.display()),
                        ));
                    }
                }
                let listener = UnixListener::bind(path)?;
                fs::set_permissions(path, fs::Permissions::from_mode(socket_mode))?;
                Ok(Listener::Unix(listener))
            }
        }
    }
}

/// The bound listeners of a server: the source site's, and the pickup API's
/// (which never share an address).
pub struct Listeners {
    pub source: Vec<Listener>,
    pub pickup: Vec<Listener>,
}

impl Listeners {
    /// Binds every configured address (TLS on TCP listeners when given).
    pub async fn bind(
        config: &ServeConfig,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<Listeners, StartError> {
        async fn all(
            addrs: &[ListenAddr],
            socket_mode: u32,
            tls: &Option<tokio_rustls::TlsAcceptor>,
        ) -> Result<Vec<Listener>, StartError> {
            let mut listeners = Vec::new();
            for addr in addrs {
                let listener = Listener::bind(addr, tls.clone(), socket_mode)
                    .await
                    .map_err(|source| StartError::Bind {
                        addr: addr.to_string(),
                        source,
                    })?;
                listeners.push(listener);
            }
            Ok(listeners)
        }
        Ok(Listeners {
            source: all(&config.listen, config.socket_mode, &tls).await?,
            pickup: all(&config.pickup_listen, config.socket_mode, &tls).await?,
        })
    }
}

/// HTTP/1.1 only: sources use Tor Browser over an onion service, where HTTP/2
/// brings attack surface and nothing else.
fn http1(policy: &Policy) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(policy.header_timeout)
        .max_buf_size(64 * 1024)
        .max_headers(100)
        // One request per connection: hyper's read buffer would otherwise
        // keep a finished request's bytes (headers, the tail of a body) for
        // as long as the client keeps the connection open. Closing frees it,
        // and the wiping allocator zeroes it. The stylesheet is inlined in
        // each page, so a page still costs one request.
        .keep_alive(false)
        // A client that half-closes after sending still gets its answer.
        .half_close(true);
    builder
}

async fn serve_connection<IO>(
    io: IO,
    router: Router,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    mut connection: Connection,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handle = connection.handle();
    // Each request carries its connection's handle, so that the handlers
    // can say when its answer is decided (`connections`).
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        handle.serving();
        request.extensions_mut().insert(handle.clone());
        let mut router = router.clone();
        async move { tower_service::Service::call(&mut router, request).await }
    });
    let conn = http1(&app.policy).serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // A newcomer needed the room: the socket closes when `conn` drops.
        _ = &mut connection.closed => {}
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
    drop(connection);
}

/// Resolves once shutdown starts (without holding the watch's lock).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Answer for a connection beyond the cap: a complete 503 page in every
/// language, then close. Built once: refusals happen under load.
fn refusal() -> &'static [u8] {
    static REFUSAL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    REFUSAL.get_or_init(|| {
        let page = pages::busy_in_every_language();
        let mut head = String::from(
            "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: text/html; charset=utf-8\r\n",
        );
        for (name, value) in super::headers::fixed() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", page.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(page.as_bytes());
        bytes
    })
}

async fn refuse<IO: AsyncWrite + Unpin>(mut io: IO, app: &App) {
    let _ = tokio::time::timeout(app.policy.header_timeout, async {
        let _ = io.write_all(refusal()).await;
        let _ = io.shutdown().await;
    })
    .await;
}

pub(super) async fn accept_loop(
    listener: Listener,
    router: Router,
    app: Arc<App>,
    budget: Arc<Budget>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            accepted = accept(&listener) => {
                let Some(conn) = accepted else { continue };
                let (router, app, stop, budget) = (router.clone(), app.clone(), stop.clone(), budget.clone());
                tokio::spawn(async move {
                    match (conn, budget.admit().await) {
                        (Accepted::Plain(io), Some(place)) => serve_connection(io, router, app, stop, place).await,
                        (Accepted::Unix(io), Some(place)) => serve_connection(io, router, app, stop, place).await,
                        (Accepted::Tls(tcp, acceptor), Some(mut place)) => {
                            let handshake = tokio::time::timeout(app.policy.header_timeout, acceptor.accept(tcp));
                            let tls = tokio::select! {
                                done = handshake => done.ok().and_then(Result::ok),
                                // A handshake is opening: it gives way too.
                                _ = &mut place.closed => None,
                            };
                            if let Some(tls) = tls {
                                serve_connection(tls, router, app, stop, place).await;
                            }
                        }
                        (conn, None) => {
                            app.stats.add(super::stats::Counter::ConnectionsRefused);
                            match conn {
                                Accepted::Plain(io) => refuse(io, &app).await,
                                Accepted::Unix(io) => refuse(io, &app).await,
                                Accepted::Tls(..) => {}
                            }
                        }
                    }
                });
            }
        }
    }
}

enum Accepted {
    Plain(tokio::net::TcpStream),
    Tls(tokio::net::TcpStream, tokio_rustls::TlsAcceptor),
    Unix(tokio::net::UnixStream),
}

/// Accepts one connection; transient errors (such as running out of file
/// descriptors) pause briefly instead of spinning.
async fn accept(listener: &Listener) -> Option<Accepted> {
    let result = match listener {
        Listener::Tcp(l, tls) => l.accept().await.map(|(s, _peer)| {
            let _ = s.set_nodelay(true);
            match tls {
                Some(acceptor) => Accepted::Tls(s, acceptor.clone()),
                None => Accepted::Plain(s),
            }
        }),
        Listener::Unix(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    };
    match result {
        Ok(conn) => Some(conn),
        Err(_) => {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            None
        }
    }
}
