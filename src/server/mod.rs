//! Runs on the online server: `sealdrop serve`. It holds only public keys,
//! seals each submission as it streams in, and keeps nothing that identifies
//! a source.
//!
//! Where to start reading:
//! - [`run`]: start-up and signals, what the binary calls;
//! - [`serve`]: the entry point that takes bound listeners and a shutdown
//!   future (tests start the real server in-process through it);
//! - [`listen`]: connections (timeouts, caps) → [`router`]: the source site →
//!   [`upload`]: a submission's bytes, in the order they flow, down to the
//!   sealed file in the [`store`];
//! - [`problem`]: the one place an outcome becomes a page and is counted;
//! - [`pickup_api`]: the editors' side door, on its own listeners.

pub mod config;
pub mod headers;
pub mod listen;
pub mod logging;
pub mod pages;
pub mod pickup_api;
pub mod problem;
pub mod router;
pub mod run;
pub mod stats;
pub mod store;
pub mod tls;
pub mod upload;

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::{watch, Semaphore};

pub use config::{ConfigError, Limits, ListenAddr, ServeConfig, ServeOptions};
pub use listen::{Listener, Listeners};

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
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What every request of the running server shares.
pub struct App {
    pub limits: Limits,
    pub recipients: Recipients,
    pub store: Store,
    /// One permit per upload being sealed.
    pub uploads: Arc<Semaphore>,
    pub stats: stats::Stats,
    pub pages: pages::FixedPages,
    /// Hashes of the accepted pickup tokens.
    pub pickup_tokens: Vec<crate::pickup::TokenHash>,
}

impl App {
    /// Runs the start-up checks: recipients, store folder, leftovers.
    pub fn new(config: &ServeConfig) -> Result<Arc<App>, StartError> {
        let recipients = Recipients::from_file(&config.recipients)?;
        let store = Store::open(
            &config.store,
            config.limits.min_free_bytes,
            config.limits.store_quota,
        )?;
        Ok(Arc::new(App {
            uploads: Arc::new(Semaphore::new(config.limits.max_concurrent_uploads)),
            pages: pages::FixedPages::new(&config.limits),
            limits: config.limits.clone(),
            recipients,
            store,
            stats: stats::Stats::default(),
            pickup_tokens: config.pickup_token_hashes.clone(),
        }))
    }
}

/// Every `touch_interval`: normalize file times in the store, log aggregate
/// counters.
async fn maintenance(app: Arc<App>) {
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

fn log_summary(app: &App) {
    if let Some(summary) = app.stats.take_summary() {
        tracing::info!("since last report: {summary}");
    }
}

/// Serves the source site on `listeners.source` and the pickup API on
/// `listeners.pickup` until `shutdown` completes, then stops accepting, lets
/// open requests finish for up to `limits.shutdown_grace`, and returns.
pub async fn serve(app: Arc<App>, listeners: Listeners, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let max = app.limits.max_connections;
    let connections = Arc::new(Semaphore::new(max));
    let source = router::router(app.clone());
    let pickup = pickup_api::router(app.clone());
    let routed = listeners
        .source
        .into_iter()
        .map(|l| (l, source.clone()))
        .chain(listeners.pickup.into_iter().map(|l| (l, pickup.clone())));
    for (listener, router) in routed {
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
