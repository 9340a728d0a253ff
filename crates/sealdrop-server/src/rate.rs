//! How fast a client sends: the meter that upload slots (`upload::slots`)
//! and the connection budget (`connections`) rank clients by, and the
//! thresholds of that ranking (SECURITY.md, claim 20).

use std::time::{Duration, Instant};

/// Uploads that average less than this since admission may be displaced by
/// a newcomer when every slot is taken. Honest sources behind Tor send from
/// about 100 KB/s up; 16 KiB/s leaves room for bad circuits and phones.
pub const EVICTABLE_BELOW: u64 = 16 * 1024;

/// How long a newcomer cannot be displaced; an upload's average rate is
/// also taken over at least this long.
pub const PROBATION: Duration = Duration::from_secs(2);

/// Buckets per window: the rate is measured over the last window to within
/// one bucket.
const BUCKETS: usize = 8;

/// How fast an upload's body arrives: over the last window, and since
/// admission.
pub struct RateMeter {
    started: Instant,
    bucket_len: Duration,
    /// Bytes per bucket, a ring indexed by bucket number since `started`.
    buckets: [u64; BUCKETS],
    /// The bucket number the ring's newest entry belongs to.
    newest: u64,
    /// Bytes since admission.
    total: u64,
    /// Time the body waited for the server's own stages (a full queue to
    /// the sealer), which is not the client's slowness.
    held_back: Duration,
}

impl RateMeter {
    pub fn new(window: Duration, now: Instant) -> RateMeter {
        RateMeter {
            started: now,
            bucket_len: (window / BUCKETS as u32).max(Duration::from_millis(1)),
            buckets: [0; BUCKETS],
            newest: 0,
            total: 0,
            held_back: Duration::ZERO,
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

    /// Starts afresh at `now` (an upload admitted after waiting for room:
    /// the wait is not its own).
    pub fn restart(&mut self, now: Instant) {
        *self = RateMeter::new(self.bucket_len * BUCKETS as u32, now);
    }

    pub fn record(&mut self, bytes: u64, now: Instant) {
        self.advance(now);
        self.buckets[(self.newest % BUCKETS as u64) as usize] += bytes;
        self.total += bytes;
    }

    /// The body waited `waited` for the server's own stages.
    pub fn held_back(&mut self, waited: Duration) {
        self.held_back += waited;
    }

    /// Whether the upload is still in its probation (rule 2).
    pub fn in_probation(&self, now: Instant) -> bool {
        now.duration_since(self.started) < PROBATION
    }

    /// The rank of rule 2: bytes since admission over the time the server
    /// waited for the client, that time taken as at least [`PROBATION`].
    pub fn average_since_admission(&self, now: Instant) -> u64 {
        let waited_for_client = now
            .duration_since(self.started)
            .saturating_sub(self.held_back)
            .max(PROBATION);
        (self.total as f64 / waited_for_client.as_secs_f64()) as u64
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
    fn the_average_since_admission_counts_at_least_the_probation_and_not_our_own_delays() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut m = RateMeter::new(Duration::from_secs(8), start);
        assert!(m.in_probation(at(1999)) && !m.in_probation(at(2000)));
        // 20 KiB in the first half second: ranked over 2 s, not over 0.5 s.
        m.record(20 * 1024, at(500));
        assert_eq!(m.average_since_admission(at(500)), 10 * 1024);
        // Past the probation, over the time itself.
        m.record(180 * 1024, at(20_000));
        assert_eq!(m.average_since_admission(at(20_000)), 10 * 1024);
        // Time spent waiting for the sealer does not count against it.
        m.held_back(Duration::from_secs(10));
        assert_eq!(m.average_since_admission(at(20_000)), 20 * 1024);
    }
}
