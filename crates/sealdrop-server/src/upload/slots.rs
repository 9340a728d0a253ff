//! Upload slots that nobody can squat.
//!
//! At most `--max-concurrent-uploads` uploads run at once. Each measures how
//! fast its body arrives, in buckets over a sliding window (the
//! `--body-idle-timeout`, 2 minutes by default):
//! - an upload that averages less than `--min-upload-rate` over a whole window
//!   loses its slot (a 408 page), whether or not others wait: a trickle of a
//!   byte every few seconds no longer holds a slot for hours;
//! - when every slot is taken, a new upload takes the slot of the slowest one
//!   that has run for at least a window and averaged less than
//!   [`EVICTABLE_BELOW`] over its last window, which gets the 408 page; only
//!   when no upload is that slow does the newcomer get the 503 page.
//!
//! A source in danger may have one chance: the server prefers her to
//! whoever holds a slot while sending almost nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::time::Instant;

use tokio::sync::oneshot;

/// Uploads slower than this over their last window may be evicted for a
/// newcomer when every slot is taken. Honest sources behind Tor send from
/// about 100 KB/s up; 16 KiB/s leaves room for bad circuits and phones.
pub const EVICTABLE_BELOW: u64 = 16 * 1024;

/// Buckets per window: the rate is measured over the last window to within
/// one bucket.
const BUCKETS: usize = 8;

/// How fast an upload's body arrives, over the last window.
pub struct RateMeter {
    started: Instant,
    bucket_len: Duration,
    /// Bytes per bucket, a ring indexed by bucket number since `started`.
    buckets: [u64; BUCKETS],
    /// The bucket number the ring's newest entry belongs to.
    newest: u64,
}

impl RateMeter {
    pub fn new(window: Duration, now: Instant) -> RateMeter {
        RateMeter {
            started: now,
            bucket_len: (window / BUCKETS as u32).max(Duration::from_millis(1)),
            buckets: [0; BUCKETS],
            newest: 0,
        }
    }

    fn bucket_of(&self, now: Instant) -> u64 {
        (now.duration_since(self.started).as_nanos() / self.bucket_len.as_nanos()) as u64
    }

    /// Moves the ring forward to `now`, emptying the buckets passed over.
    fn advance(&mut self, now: Instant) {
        let current = self.bucket_of(now);
        let steps = current.saturating_sub(self.newest).min(BUCKETS as u64);
        for i in 1..=steps {
            self.buckets[((self.newest + i) % BUCKETS as u64) as usize] = 0;
        }
        self.newest = self.newest.max(current);
    }

    pub fn record(&mut self, bytes: u64, now: Instant) {
        self.advance(now);
        self.buckets[(self.newest % BUCKETS as u64) as usize] += bytes;
    }

    /// Whether a whole window has passed since the upload started.
    pub fn has_full_window(&self, now: Instant) -> bool {
        self.bucket_of(now) >= BUCKETS as u64
    }

    /// Bytes received over the last window (the current bucket included).
    pub fn window_bytes(&mut self, now: Instant) -> u64 {
        self.advance(now);
        self.buckets.iter().sum()
    }

    /// Average rate over the last window, in bytes per second.
    pub fn rate(&mut self, now: Instant) -> u64 {
        let window = self.bucket_len * BUCKETS as u32;
        (self.window_bytes(now) as f64 / window.as_secs_f64()) as u64
    }
}

struct Active {
    meter: Arc<Mutex<RateMeter>>,
    /// Tells the upload it was evicted; taken when used.
    evict: Option<oneshot::Sender<()>>,
}

/// The slots of one server.
pub struct Slots {
    max: usize,
    window: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    active: HashMap<u64, Active>,
}

/// An upload's slot: its meter, the signal that it was evicted, and its
/// place in the registry, given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
    pub meter: Arc<Mutex<RateMeter>>,
    evicted: Option<oneshot::Receiver<()>>,
}

impl Slot {
    /// The signal that this upload was evicted (once).
    pub fn take_evicted(&mut self) -> Option<oneshot::Receiver<()>> {
        self.evicted.take()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().active.remove(&self.id);
    }
}

fn lock_meter(meter: &Mutex<RateMeter>) -> std::sync::MutexGuard<'_, RateMeter> {
    meter.lock().unwrap_or_else(|p| p.into_inner())
}

impl Slots {
    pub fn new(max: usize, window: Duration) -> Arc<Slots> {
        Arc::new(Slots {
            max: max.max(1),
            window,
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Uploads holding a slot now.
    pub fn in_use(&self) -> usize {
        self.lock().active.len()
    }

    /// A slot for a new upload: a free one, or the slot of the slowest
    /// evictable upload (which is told to stop); None when every slot is
    /// held by an upload that is not slow.
    pub fn acquire(self: &Arc<Self>) -> Option<Slot> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at(self: &Arc<Self>, now: Instant) -> Option<Slot> {
        let mut inner = self.lock();
        if inner.active.len() >= self.max {
            let slowest = inner
                .active
                .iter_mut()
                .filter(|(_, a)| a.evict.is_some())
                .filter_map(|(id, a)| {
                    let mut meter = lock_meter(&a.meter);
                    if !meter.has_full_window(now) {
                        return None;
                    }
                    let rate = meter.rate(now);
                    (rate < EVICTABLE_BELOW).then_some((rate, *id))
                })
                .min()?;
            let victim = inner.active.get_mut(&slowest.1).expect("just found");
            if let Some(evict) = victim.evict.take() {
                let _ = evict.send(());
            }
        }
        inner.next += 1;
        let id = inner.next;
        let meter = Arc::new(Mutex::new(RateMeter::new(self.window, now)));
        let (evict, evicted) = oneshot::channel();
        inner.active.insert(
            id,
            Active {
                meter: meter.clone(),
                evict: Some(evict),
            },
        );
        Some(Slot {
            slots: self.clone(),
            id,
            meter,
            evicted: Some(evicted),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_averages_over_the_last_window() {
        let start = Instant::now();
        let mut m = RateMeter::new(Duration::from_secs(8), start);
        let at = |s: u64| start + Duration::from_secs(s);
        for s in 0..8 {
            m.record(1000, at(s));
        }
        assert!(!m.has_full_window(at(7)));
        assert!(m.has_full_window(at(8)));
        assert_eq!(m.window_bytes(at(7)), 8000);
        assert_eq!(m.rate(at(7)), 1000);
        // Silence: the old buckets fall out of the window one by one.
        assert_eq!(m.window_bytes(at(11)), 4000);
        assert_eq!(m.window_bytes(at(30)), 0);
        m.record(5, at(30));
        assert_eq!(m.window_bytes(at(30)), 5);
    }

    #[test]
    fn a_full_server_evicts_only_the_slowest_old_upload() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let slots = Slots::new(2, Duration::from_secs(8));
        let mut fast = slots.acquire_at(at(0)).unwrap();
        let mut slow = slots.acquire_at(at(0)).unwrap();
        // Young uploads are never evicted.
        assert!(slots.acquire_at(at(1)).is_none());
        for s in 1..=9 {
            lock_meter(&fast.meter).record(64 * 1024, at(s));
            lock_meter(&slow.meter).record(1, at(s));
        }
        let newcomer = slots.acquire_at(at(9)).expect("the slowest gives way");
        assert!(
            slow.take_evicted().unwrap().try_recv().is_ok(),
            "the slow one is told"
        );
        assert!(
            fast.take_evicted().unwrap().try_recv().is_err(),
            "the fast one is not"
        );
        drop(slow);
        assert_eq!(slots.in_use(), 2);
        // Nobody left that is slow enough: the next one is refused.
        assert!(slots.acquire_at(at(10)).is_none());
        drop(newcomer);
        assert!(slots.acquire_at(at(10)).is_some());
    }
}
