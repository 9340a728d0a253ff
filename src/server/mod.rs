//! The online server. Holds only public keys; seals each submission as it
//! streams in; keeps nothing that identifies a source.

pub mod cli;
pub mod config;
pub mod demo;
pub mod headers;
pub mod i18n;
pub mod listen;
pub mod logging;
pub mod pages;
pub mod partial;
pub mod pickup;
pub mod pickup_client;
pub mod rendered;
pub mod router;
pub mod stats;
pub mod store;
pub mod tls;
pub mod upload;

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::{watch, Semaphore};

pub use config::{Limits, ListenAddr, ServeConfig};
pub use listen::Listener;

use crate::keys::{KeyError, Recipients};
use store::{Store, StoreError};

/// Why the server refuses to start; each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// Shared state of the source-facing server.
pub struct AppInner {
    pub limits: Limits,
    pub recipients: Recipients,
    pub store: Store,
    pub uploads: Arc<Semaphore>,
    pub stats: stats::Stats,
    pub pages: rendered::Rendered,
}

impl AppInner {
    /// Runs the start-up checks: recipients, store folder, leftovers.
    pub fn new(config: &ServeConfig) -> Result<Arc<AppInner>, StartError> {
        let recipients = Recipients::from_file(&config.recipients)?;
        let store = Store::open(
            &config.store,
            config.limits.min_free_bytes,
            config.limits.store_quota,
        )?;
        Ok(Arc::new(AppInner {
            uploads: Arc::new(Semaphore::new(config.limits.max_concurrent_uploads)),
            pages: rendered::Rendered::new(&config.limits),
            limits: config.limits.clone(),
            recipients,
            store,
            stats: stats::Stats::default(),
        }))
    }
}

/// Binds `addrs` (TLS on TCP listeners when configured).
pub async fn bind_all(
    addrs: &[ListenAddr],
    socket_mode: u32,
    tls: Option<tokio_rustls::TlsAcceptor>,
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

/// Every `touch_interval`: normalize file times in the store, log aggregate
/// counters.
async fn maintenance(app: Arc<AppInner>) {
    let mut ticks = tokio::time::interval(app.limits.touch_interval);
    loop {
        ticks.tick().await;
        let coarse =
            crate::seal::coarse_time(SystemTime::now(), app.limits.touch_interval.as_secs());
        let app2 = app.clone();
        let touched =
            tokio::task::spawn_blocking(move || app2.store.normalize_times(coarse.into())).await;
        if let Ok(Err(e)) = touched {
            tracing::warn!("could not normalize file times in the store: {e}");
        }
        log_summary(&app);
    }
}

fn log_summary(app: &AppInner) {
    if let Some(summary) = app.stats.take_summary() {
        tracing::info!("since last report: {summary}");
    }
}

/// Serves each listener with its router (the source site, or the pickup API
/// on its own listeners) until `shutdown` completes, then stops accepting,
/// lets open requests finish for up to `limits.shutdown_grace`, and returns.
pub async fn serve(
    listeners: Vec<(Listener, axum::Router)>,
    app: Arc<AppInner>,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let max = app.limits.max_connections;
    let connections = Arc::new(Semaphore::new(max));
    for (listener, router) in listeners {
        tokio::spawn(listen::accept_loop(
            listener,
            router,
            app.clone(),
            connections.clone(),
            stop_rx.clone(),
        ));
    }
    let maintenance = tokio::spawn(maintenance(app.clone()));
    shutdown.await;
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(app.limits.shutdown_grace, connections.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing connections still open");
    }
    maintenance.abort();
    log_summary(&app);
}

/// Resolves on SIGTERM or SIGINT.
pub async fn termination_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
