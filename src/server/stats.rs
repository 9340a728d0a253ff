//! Aggregate counters. Nothing per request is ever logged: a log line with a
//! time next to a single event would date a submission. Counters are logged
//! only as totals over an interval.

use std::sync::atomic::{AtomicU64, Ordering};

use super::pages::Problem;

#[derive(Default)]
pub struct Stats {
    pub sealed: AtomicU64,
    pub too_large: AtomicU64,
    pub malformed: AtomicU64,
    pub busy: AtomicU64,
    pub full: AtomicU64,
    pub timeout: AtomicU64,
    pub aborted: AtomicU64,
    pub failed: AtomicU64,
    pub connections_refused: AtomicU64,
}

impl Stats {
    pub fn count_rejection(&self, problem: Problem) {
        let counter = match problem {
            Problem::TooLarge | Problem::TooManyFiles | Problem::MessageTooLong => &self.too_large,
            Problem::Malformed | Problem::Empty => &self.malformed,
            Problem::Busy => &self.busy,
            Problem::Full => &self.full,
            Problem::Timeout => &self.timeout,
            Problem::Internal => &self.failed,
            Problem::NotFound | Problem::MethodNotAllowed => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the counts since the last call, as a log-ready summary, or None if
    /// nothing happened.
    pub fn take_summary(&self) -> Option<String> {
        let fields = [
            ("sealed", &self.sealed),
            ("too_large", &self.too_large),
            ("malformed", &self.malformed),
            ("busy", &self.busy),
            ("store_full", &self.full),
            ("timed_out", &self.timeout),
            ("aborted", &self.aborted),
            ("failed", &self.failed),
            ("connections_refused", &self.connections_refused),
        ];
        let counts: Vec<(&str, u64)> = fields
            .iter()
            .map(|(n, c)| (*n, c.swap(0, Ordering::Relaxed)))
            .collect();
        if counts.iter().all(|(_, c)| *c == 0) {
            return None;
        }
        Some(
            counts
                .iter()
                .map(|(n, c)| format!("{n}={c}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}
