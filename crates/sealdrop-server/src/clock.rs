//! The server's notion of "now" for the decisions that count time (expiry
//! of replies and of unpicked submissions, tokens, tombstones): the
//! system's clock, moved forward by an offset that only tests set, so that
//! a test can live through days of retention in seconds. File birth times
//! stay real, as the kernel stamps them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub struct Clock {
    ahead_secs: AtomicU64,
}

impl Clock {
    pub fn now(&self) -> SystemTime {
        self.reading(SystemTime::now())
    }

    /// What another clock's reading `t` (an object store's) is on this one.
    pub fn reading(&self, t: SystemTime) -> SystemTime {
        t + Duration::from_secs(self.ahead_secs.load(Ordering::Relaxed))
    }

    /// Moves this clock `by` ahead of the system's (tests only).
    pub fn set_ahead(&self, by: Duration) {
        self.ahead_secs.store(by.as_secs(), Ordering::Relaxed);
    }
}

/// Days since 1970-01-01 UTC.
pub fn day_of(t: SystemTime) -> u32 {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u32::try_from(secs / 86_400).unwrap_or(u32::MAX)
}
