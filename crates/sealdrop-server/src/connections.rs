//! The open connections of one side of the server (the sources' listeners,
//! or the pickup API's): a fixed budget, and who gives way when it is spent.
//!
//! Every connection is in one of four phases:
//! - **opening**: the TLS handshake and the request's headers (closed by
//!   `--header-timeout` in any case), or a small form's body (a codename, a
//!   token) being read;
//! - **uploading**: an upload holding a slot, ranked by its meter as the
//!   slot rule of `upload::slots` ranks it;
//! - **serving**: any other request being answered;
//! - **refused**: the answer is decided and the connection only lingers so
//!   that an honest browser reads it instead of a reset (the body of a
//!   refused upload being drained, a wrong pickup token waiting out its
//!   delay).
//!
//! When a new connection finds the budget spent, one connection gives way
//! (it is closed at once): a refused one first, the one whose drain is
//! slowest; else the one that has been opening longest, if that is more
//! than [`OPENING_GRACE`] (2 s: an honest client, over Tor too, sends its
//! headers and a small form in about a second); else the upload the slot
//! rule would displace first (past its probation, averaging under
//! 16 KiB/s, the lowest). Only when every other connection is serving a
//! request, opening within its grace or uploading above that does the
//! newcomer get the busy page.
//! So lingering costs nothing while nobody waits, and nothing lets a
//! client keep the room it holds by sending almost nothing (SECURITY.md,
//! claim 20).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::rate::{RateMeter, EVICTABLE_BELOW};

/// How long a newcomer waits for the room a closed connection gives back
/// (its task ends at its next poll; this bounds a scheduler hiccup).
const ROOM_WAIT: Duration = Duration::from_secs(2);

/// How long a connection may spend on its TLS handshake and headers before
/// a newcomer may take its place (`--header-timeout` still closes it).
pub const OPENING_GRACE: Duration = Duration::from_secs(2);

/// A refused connection's drain is measured over at least this long, so
/// that one that has just begun (no bytes yet) is not taken for the slowest
/// ahead of one that has trickled for minutes.
const DRAIN_RATE_FLOOR_TIME: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Phase {
    Opening { since: Instant },
    Uploading { meter: Arc<Mutex<RateMeter>> },
    Serving,
    Refused { since: Instant, drained: u64 },
}

struct Entry {
    opened: Instant,
    phase: Phase,
    /// Closes the connection; taken when used.
    close: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Entry>,
}

/// The connection budget of one side.
pub struct Budget {
    permits: Arc<Semaphore>,
    max: usize,
    table: Mutex<Table>,
}

/// A connection's place in the budget, held by its task; dropping it gives
/// the place back.
pub struct Connection {
    handle: ConnectionHandle,
    _permit: OwnedSemaphorePermit,
    /// Fires when the connection must give way.
    pub closed: oneshot::Receiver<()>,
}

impl Connection {
    pub fn handle(&self) -> ConnectionHandle {
        self.handle.clone()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.handle.budget.lock().open.remove(&self.handle.id);
    }
}

/// What a request's handlers know of their connection (a request
/// extension): they say when its answer is decided.
#[derive(Clone)]
pub struct ConnectionHandle {
    budget: Arc<Budget>,
    id: u64,
}

impl ConnectionHandle {
    fn set(&self, phase: Phase) {
        if let Some(entry) = self.budget.lock().open.get_mut(&self.id) {
            entry.phase = phase;
        }
    }

    /// The request's headers are complete: it is being answered.
    pub fn serving(&self) {
        self.set(Phase::Serving);
    }

    /// A small form's body is being read: it gives way like a connection
    /// still sending its headers, once past the grace.
    pub fn reading_form(&self) {
        self.set(Phase::Opening {
            since: Instant::now(),
        });
    }

    /// An upload holds a slot: it gives way as the slot rule would have it
    /// displaced.
    pub fn uploading(&self, meter: Arc<Mutex<RateMeter>>) {
        self.set(Phase::Uploading { meter });
    }

    /// The answer is decided: what the connection still does is lingering,
    /// and it gives way to a newcomer.
    pub fn refused(&self) {
        self.set(Phase::Refused {
            since: Instant::now(),
            drained: 0,
        });
    }

    /// Bytes of a refused request read and discarded.
    pub fn drained(&self, bytes: u64) {
        if let Some(Entry {
            phase: Phase::Refused { drained, .. },
            ..
        }) = self.budget.lock().open.get_mut(&self.id)
        {
            *drained += bytes;
        }
    }
}

impl Budget {
    pub fn new(max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            permits: Arc::new(Semaphore::new(max)),
            max,
            table: Mutex::new(Table::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Resolves once every connection has closed (for a graceful stop).
    pub async fn all_closed(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.permits.acquire_many(all).await;
    }

    /// A place for a new connection: a free one, or the place of the
    /// connection that gives way (see the module); None when every
    /// connection is serving a request.
    pub async fn admit(self: &Arc<Self>) -> Option<Connection> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(self.register(permit));
        }
        if !self.close_one(Instant::now()) {
            return None;
        }
        let permit = tokio::time::timeout(ROOM_WAIT, self.permits.clone().acquire_owned()).await;
        match permit {
            Ok(Ok(permit)) => Some(self.register(permit)),
            _ => None,
        }
    }

    fn register(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Connection {
        let (close, closed) = oneshot::channel();
        let mut table = self.lock();
        table.next += 1;
        let id = table.next;
        let now = Instant::now();
        table.open.insert(
            id,
            Entry {
                opened: now,
                phase: Phase::Opening { since: now },
                close: Some(close),
            },
        );
        Connection {
            handle: ConnectionHandle {
                budget: self.clone(),
                id,
            },
            _permit: permit,
            closed,
        }
    }

    /// Closes the connection that gives way, if any; whether one did.
    pub(crate) fn close_one(&self, now: Instant) -> bool {
        let mut table = self.lock();
        let chosen = table
            .open
            .iter()
            .filter(|(_, e)| e.close.is_some())
            .filter_map(|(id, e)| rank(e, now).map(|rank| (rank, *id)))
            .min()
            .map(|(_, id)| id);
        let Some(id) = chosen else { return false };
        let entry = table.open.get_mut(&id).expect("just found");
        if let Some(close) = entry.close.take() {
            let _ = close.send(());
        }
        true
    }
}

/// Who gives way first (the smallest rank): refused connections, slowest
/// drain first; then opening ones past their grace, oldest first; then
/// uploads the slot rule would displace, lowest average first. Serving
/// ones never.
fn rank(entry: &Entry, now: Instant) -> Option<(u8, u64, Instant)> {
    match &entry.phase {
        Phase::Refused { since, drained } => {
            let over = now.duration_since(*since).max(DRAIN_RATE_FLOOR_TIME);
            let rate = (*drained as f64 / over.as_secs_f64()) as u64;
            Some((0, rate, entry.opened))
        }
        Phase::Opening { since } if now.duration_since(*since) >= OPENING_GRACE => {
            Some((1, 0, *since))
        }
        Phase::Opening { .. } | Phase::Serving => None,
        Phase::Uploading { meter } => {
            let meter = meter.lock().unwrap_or_else(|p| p.into_inner());
            let rate = meter.average_since_admission(now);
            (!meter.in_probation(now) && rate < EVICTABLE_BELOW).then_some((2, rate, entry.opened))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connections_give_way_first_slowest_first_then_opening_ones_past_their_grace() {
        let budget = Budget::new(4);
        let mut serving = budget.admit().await.unwrap();
        serving.handle().serving();
        let mut opening = budget.admit().await.unwrap();
        let mut fast = budget.admit().await.unwrap();
        let mut slow = budget.admit().await.unwrap();
        fast.handle().refused();
        slow.handle().refused();
        fast.handle().drained(1 << 20);
        slow.handle().drained(1);
        assert_eq!(budget.open(), 4);

        // The slowest drain goes first; its place is given back when its
        // task drops it.
        let take = |c: &mut Connection| c.closed.try_recv().is_ok();
        let admitting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.admit().await })
        };
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(take(&mut slow), "the slow drain is closed");
        assert!(!take(&mut fast) && !take(&mut opening) && !take(&mut serving));
        drop(slow);
        let newcomer = admitting.await.unwrap().expect("room made");
        newcomer.handle().serving();

        // Then the faster drain, then the opening connection.
        let admitting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.admit().await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(take(&mut fast));
        drop(fast);
        let second = admitting.await.unwrap().unwrap();
        second.handle().serving();
        // An opening connection within its grace holds its place: the
        // newcomer is refused. Past the grace it gives way.
        assert!(budget.admit().await.is_none());
        assert!(!take(&mut opening));
        assert!(budget.close_one(Instant::now() + OPENING_GRACE));
        assert!(take(&mut opening));
        drop(opening);
        let last = budget.admit().await.unwrap();
        last.handle().serving();
        // Everyone serves: the next one is refused.
        assert!(budget.admit().await.is_none());
        assert!(!take(&mut serving));
    }
}
