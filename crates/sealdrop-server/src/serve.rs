//! The running server: connections on every listener, the periodic
//! maintenance, and a graceful stop.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::census::PassRecord;
use super::connections::Budget;
use super::{listen, pickup_api, router, App, Listeners};

/// At start-up, then on the wall-clock grid of `touch_interval` (on the hour
/// by default): delete submissions left unpicked too long (when asked),
/// refill the store's file pool, normalize its file times, delete expired
/// replies, log aggregate counters (on the grid only: the start-up pass
/// would log the first moments' activity, dated by the start and racing the
/// first requests). On the grid, every time the store holds (the coarse
/// times set, the change and birth times of the pass itself) falls on the
/// same few instants of each interval, whenever sources arrived.
async fn maintenance(app: Arc<App>) {
    let interval = app.policy.touch_interval;
    let mut on_the_grid = false;
    loop {
        let coarse = sealdrop_format::seal::coarse_time(SystemTime::now(), interval.as_secs());
        let app2 = app.clone();
        let touched = app
            .pools
            .maintenance
            .run(move || {
                let (record, error) = pass_with_record(&app2, coarse.into());
                // For `sealdrop status`, in RAM only (census::PASS_RECORD).
                if let Some(dir) = &app2.runtime_dir {
                    record.keep(dir);
                }
                (record, error)
            })
            .await;
        app.passes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        match touched {
            Ok((record, None)) if record.expired_replies > 0 => {
                tracing::info!("{} expired replies deleted", record.expired_replies)
            }
            Ok((_, Some(e))) => {
                tracing::warn!("could not maintain the store (file times, replies): {e}")
            }
            _ => {}
        }
        if on_the_grid {
            log_summary(&app);
        }
        tokio::time::sleep(until_next_multiple(SystemTime::now(), interval)).await;
        on_the_grid = true;
    }
}

/// One maintenance pass (blocking), with `pass` as the time it sets on
/// what it touches: expiry of unpicked submissions, the pools, file times,
/// the quota's count, then the replies (deleted and expired ones removed,
/// tombstones written, the index brought up to date). Returns how many
/// replies expired. Tests run it directly to live through a pass.
pub fn maintenance_pass(app: &App, pass: SystemTime) -> std::io::Result<usize> {
    match pass_with_record(app, pass) {
        (_, Some(e)) => Err(e),
        (record, None) => Ok(record.expired_replies as usize),
    }
}

/// One maintenance pass, with what it did for `sealdrop status` and the
/// first error it met (every step runs whatever an earlier one met).
fn pass_with_record(app: &App, pass: SystemTime) -> (PassRecord, Option<std::io::Error>) {
    let mut record = PassRecord {
        time: pass
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ..PassRecord::default()
    };
    let interval = app.policy.touch_interval;
    let stores = super::app::stores(&app.store, &app.desks);
    // Each step runs whatever an earlier one met: the first error is
    // returned (and logged) at the end. The pools first, so that no
    // arrival ever takes a file older than the pass is late.
    let mut first_error = None;
    let mut note = |result: std::io::Result<()>| {
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    };
    for store in &stores {
        note(store.renew_pool());
    }
    for store in &stores {
        if let Some(older_than) = app.policy.expire_unpicked {
            note(
                store
                    .expire(&app.clock, older_than, interval)
                    .map(|(files, _bytes)| {
                        record.expired_unpicked += files as u64;
                        for _ in 0..files {
                            app.stats.add(super::stats::Counter::Expired);
                        }
                    }),
            );
        }
        note(
            store
                .normalize_times(pass)
                .map(|n| record.files_retouched += n as u64),
        );
    }
    if let Some(replies) = &app.replies {
        note(
            replies
                .folder
                .maintain(&app.clock, pass)
                .map(|n| record.expired_replies = n as u64),
        );
    }
    if app.store.backend().is_shared() {
        // Other fronts store and pick up too: the quota counts the
        // bucket, not this front's own doings.
        note((|| {
            let mut total = 0;
            for store in &stores {
                total += store.sealed_bytes()?;
            }
            if let Some(replies) = &app.replies {
                total += replies.folder.bytes()?;
            }
            app.store.set_stored_bytes(total);
            Ok(())
        })());
    }
    match super::census::count_at_pass(app, pass) {
        Ok(inboxes) => record.inboxes = inboxes,
        Err(e) => {
            first_error.get_or_insert(e);
        }
    }
    record.ok = first_error.is_none();
    record.error = first_error.as_ref().map(|e| e.kind().to_string());
    (record, first_error)
}

/// How long from `now` to the next multiple of `interval` since the epoch.
fn until_next_multiple(now: SystemTime, interval: Duration) -> Duration {
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let step = interval.as_nanos().max(1);
    let into = since_epoch.as_nanos() % step;
    Duration::from_nanos((step - into) as u64)
}

fn log_summary(app: &App) {
    if let Some(summary) = app.stats.take_summary() {
        tracing::info!("since last report: {summary}");
    }
}

/// Open connections the pickup listeners take at most, apart from the
/// sources' `--max-connections`: pickup clients are a few editors.
pub(crate) const PICKUP_CONNECTIONS: usize = 64;

/// Serves the source site on `listeners.source` and the pickup API on
/// `listeners.pickup` until `shutdown` completes, then stops accepting, lets
/// open requests finish for up to `policy.shutdown_grace`, and returns.
pub async fn serve(app: Arc<App>, listeners: Listeners, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each side has its own connection budget: clients held at the pickup
    // API's slowed-down token check must never take the sources' slots.
    let sources = Budget::new(app.policy.max_connections);
    let pickups = Budget::new(PICKUP_CONNECTIONS);
    let source = router::router(app.clone());
    let pickup = pickup_api::router(app.clone());
    let routed = listeners
        .source
        .into_iter()
        .map(|l| (l, source.clone(), sources.clone()))
        .chain(
            listeners
                .pickup
                .into_iter()
                .map(|l| (l, pickup.clone(), pickups.clone())),
        );
    for (listener, router, budget) in routed {
        tokio::spawn(listen::accept_loop(
            listener,
            router,
            app.clone(),
            budget,
            stop_rx.clone(),
        ));
    }
    let maintenance = tokio::spawn(maintenance(app.clone()));
    shutdown.await;
    let _ = stop_tx.send(true);
    let drained = async {
        sources.all_closed().await;
        pickups.all_closed().await;
    };
    if tokio::time::timeout(app.policy.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing connections still open");
    }
    maintenance.abort();
    log_summary(&app);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_fall_on_the_grid() {
        let at = |secs: u64, nanos: u32| SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
        let hour = Duration::from_secs(3600);
        assert_eq!(until_next_multiple(at(7200, 0), hour), hour);
        assert_eq!(
            until_next_multiple(at(7201, 500_000_000), hour),
            Duration::new(3598, 500_000_000)
        );
        assert_eq!(
            until_next_multiple(at(10, 0), Duration::from_secs(4)),
            Duration::from_secs(2)
        );
    }
}
