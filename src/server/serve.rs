//! The running server: connections on every listener, the periodic
//! maintenance, and a graceful stop.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::{watch, Semaphore};

use super::{listen, pickup_api, router, App, Listeners};

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
