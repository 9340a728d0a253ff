//! Aggregate counters. Nothing per request is ever logged: a log line with a
//! time next to a single event would date a submission. Counters are logged
//! only as totals over an interval.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::outcome::{Internal, Problem};

/// What the interval summary counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Sealed,
    TooLarge,
    Malformed,
    Busy,
    StoreFull,
    TimedOut,
    Evicted,
    Aborted,
    Failed,
    ConnectionsRefused,
    /// Sealed submissions deleted unpicked (`--expire-unpicked`).
    Expired,
    /// Submissions that filled the honeypot field: answered like success,
    /// sealed nowhere.
    Junk,
    InternalPoolEmpty,
    InternalStoreIo,
    InternalSeal,
    InternalJobLost,
    InternalIncomplete,
    InternalRepliesIo,
    InternalPickupIo,
}

impl Counter {
    pub const ALL: [Counter; 19] = [
        Counter::Sealed,
        Counter::TooLarge,
        Counter::Malformed,
        Counter::Busy,
        Counter::StoreFull,
        Counter::TimedOut,
        Counter::Evicted,
        Counter::Aborted,
        Counter::Failed,
        Counter::ConnectionsRefused,
        Counter::Expired,
        Counter::Junk,
        Counter::InternalPoolEmpty,
        Counter::InternalStoreIo,
        Counter::InternalSeal,
        Counter::InternalJobLost,
        Counter::InternalIncomplete,
        Counter::InternalRepliesIo,
        Counter::InternalPickupIo,
    ];

    /// The name in the summary line (`sealed=3 too_large=1 …`).
    pub fn name(self) -> &'static str {
        match self {
            Counter::Sealed => "sealed",
            Counter::TooLarge => "too_large",
            Counter::Malformed => "malformed",
            Counter::Busy => "busy",
            Counter::StoreFull => "store_full",
            Counter::TimedOut => "timed_out",
            Counter::Evicted => "evicted",
            Counter::Aborted => "aborted",
            Counter::Failed => "failed",
            Counter::ConnectionsRefused => "connections_refused",
            Counter::Expired => "expired_unpicked",
            Counter::Junk => "junk",
            Counter::InternalPoolEmpty => "internal_pool_empty",
            Counter::InternalStoreIo => "internal_store_io",
            Counter::InternalSeal => "internal_seal",
            Counter::InternalJobLost => "internal_job_lost",
            Counter::InternalIncomplete => "internal_incomplete",
            Counter::InternalRepliesIo => "internal_replies_io",
            Counter::InternalPickupIo => "internal_pickup_io",
        }
    }

    /// The counter of an internal error's kind.
    pub fn of_internal(kind: Internal) -> Counter {
        match kind {
            Internal::PoolEmpty => Counter::InternalPoolEmpty,
            Internal::StoreIo => Counter::InternalStoreIo,
            Internal::Seal => Counter::InternalSeal,
            Internal::JobLost => Counter::InternalJobLost,
            Internal::Incomplete => Counter::InternalIncomplete,
            Internal::RepliesIo => Counter::InternalRepliesIo,
            Internal::PickupIo => Counter::InternalPickupIo,
        }
    }
}

#[derive(Default)]
pub struct Stats {
    counts: [AtomicU64; Counter::ALL.len()],
}

impl Stats {
    pub fn add(&self, counter: Counter) {
        self.counts[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an internal error (the 500 page) by its kind.
    pub fn internal(&self, kind: Internal) {
        self.add(Counter::of_internal(kind));
    }

    /// Takes the counts since the last call, as a log-ready summary, or None if
    /// nothing happened.
    pub fn take_summary(&self) -> Option<String> {
        let counts: Vec<(&str, u64)> = Counter::ALL
            .iter()
            .map(|&c| (c.name(), self.counts[c as usize].swap(0, Ordering::Relaxed)))
            .collect();
        if counts.iter().all(|(_, n)| *n == 0) {
            return None;
        }
        Some(
            counts
                .iter()
                .map(|(name, n)| format!("{name}={n}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

/// The counter of an outcome in the interval summary; requests that never
/// reached an upload are not counted.
pub(crate) fn counter_of(problem: Problem) -> Option<Counter> {
    Some(match problem {
        Problem::TooLarge | Problem::TooManyFiles | Problem::MessageTooLong => Counter::TooLarge,
        Problem::Malformed | Problem::Empty | Problem::TooShort => Counter::Malformed,
        Problem::Aborted => Counter::Aborted,
        Problem::Busy => Counter::Busy,
        Problem::Full => Counter::StoreFull,
        Problem::Timeout => Counter::TimedOut,
        Problem::Evicted => Counter::Evicted,
        Problem::Internal => Counter::Failed,
        Problem::NotFound
        | Problem::MethodNotAllowed
        | Problem::CodenameTypo
        | Problem::FieldTooLong
        | Problem::LoginBusy => return None,
        // A follow-up refused for its token is an upload that was not sealed.
        Problem::Expired => Counter::Malformed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_reported_once_and_reset() {
        let stats = Stats::default();
        assert_eq!(stats.take_summary(), None);
        for (i, &c) in Counter::ALL.iter().enumerate() {
            assert_eq!(c as usize, i, "ALL is in declaration order");
            for _ in 0..=i {
                stats.add(c);
            }
        }
        let summary = stats.take_summary().unwrap();
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert!(
                summary.contains(&format!("{}={}", c.name(), i + 1)),
                "{summary}"
            );
        }
        assert_eq!(stats.take_summary(), None);
    }

    /// Every outcome of an upload has a counter, and the ones that share a
    /// counter are the ones meant to.
    #[test]
    fn every_upload_outcome_is_counted() {
        for &p in Problem::ALL {
            let counted = counter_of(p);
            match p {
                // Not uploads: pages of the site and of the replies login.
                Problem::NotFound
                | Problem::MethodNotAllowed
                | Problem::CodenameTypo
                | Problem::FieldTooLong
                | Problem::LoginBusy => assert_eq!(counted, None),
                Problem::Aborted => assert_eq!(counted, Some(Counter::Aborted)),
                _ => assert!(counted.is_some(), "{p:?} is not counted"),
            }
        }
    }
}
