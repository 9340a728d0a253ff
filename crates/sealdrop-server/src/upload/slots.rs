//! Upload slots that nobody can squat.
//!
//! At most `--max-concurrent-uploads` uploads run at once. Two rules keep
//! them for sources (SECURITY.md, claim 20):
//!
//! 1. **The minimum rate, per window.** An upload that averages less than
//!    `--min-upload-rate` over a whole `--body-idle-timeout` window (2
//!    minutes by default) loses its slot (a 408 page), whether or not others
//!    wait: a stalled Tor circuit or a trickle of a byte every few seconds
//!    does not hold a slot for hours.
//! 2. **Displacement by rank after a short probation.** When every slot is
//!    taken, a newcomer takes the slot of the upload with the lowest
//!    *average rate since admission* (ties: the one admitted first) among
//!    those past their [`PROBATION`] (2 s), if that average is below
//!    [`EVICTABLE_BELOW`] (16 KiB/s); that upload gets the 408 page. When
//!    no upload past its probation averages less, the newcomer gets the 503
//!    page.
//!
//! The average counts only the time the server waited for the client (not
//! the time its own sealing held the upload back, so that a busy server
//! does not make its uploads look slow), and is taken over at least the
//! probation, so that a few bytes sent at once do not rank as a fast
//! upload. What this gives:
//! - a squatter that sends headers and nothing else ranks 0 once its 2 s
//!   are over, and is the first to go; squatters that reconnect before each
//!   window ends no longer hold slots for free, and no longer leave only
//!   honest slow uploads to displace;
//! - an upload averaging r is displaced only when every other slot past its
//!   probation is held by an upload averaging more than r: an honest phone
//!   at 8 KiB/s finishes while squatters come and go around it;
//! - holding every slot against newcomers costs 16 KiB/s per slot, as
//!   before (about 17 MB/s for the default 1024 slots), or keeping every
//!   slot in its probation: reconnecting every slot every 2 s (512 new
//!   connections a second for 1024 slots; docs/BENCHMARKS.md prices both).
//!
//! The probation is what a newcomer needs: a source whose upload has just
//! begun is not displaced by the next connection to arrive. It is also the
//! one opening left: an attacker who renews every other slot within 2 s can
//! displace the one honest upload past its probation; SECURITY.md states
//! that price.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::time::Instant;

use tokio::sync::oneshot;

pub use crate::rate::{RateMeter, EVICTABLE_BELOW, PROBATION};

struct Active {
    /// Admission order: the first admitted goes first among equals.
    admitted: u64,
    /// Bytes it holds under the quota.
    reserved: u64,
    /// The average below which this upload gives up its room under the
    /// quota (`displace_for_room`): what it must send to finish the length
    /// it reserved within `--upload-deadline`, and at least
    /// [`EVICTABLE_BELOW`].
    room_rate: u64,
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

pub(crate) fn lock_meter(meter: &Mutex<RateMeter>) -> std::sync::MutexGuard<'_, RateMeter> {
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

    /// A slot for a new upload: a free one, or the slot of the upload past
    /// its probation that ranks lowest below [`EVICTABLE_BELOW`] (rule 2;
    /// it is told to stop); None when there is none.
    pub fn acquire(self: &Arc<Self>) -> Option<Slot> {
        self.acquire_at(Instant::now())
    }

    /// The uploads that may be displaced (rule 2), other than `except`:
    /// past their probation and averaging below [`EVICTABLE_BELOW`] (with
    /// `for_room`, below their own `room_rate`), as (average, admission
    /// order, id, bytes reserved).
    fn displaceable(
        inner: &Inner,
        now: Instant,
        except: Option<u64>,
        for_room: bool,
    ) -> impl Iterator<Item = (u64, u64, u64, u64)> + '_ {
        inner
            .active
            .iter()
            .filter(move |(id, a)| a.evict.is_some() && Some(**id) != except)
            .filter_map(move |(id, a)| {
                let meter = lock_meter(&a.meter);
                if meter.in_probation(now) {
                    return None;
                }
                let rate = meter.average_since_admission(now);
                let below = if for_room {
                    a.room_rate
                } else {
                    EVICTABLE_BELOW
                };
                (rate < below).then_some((rate, a.admitted, *id, a.reserved))
            })
    }

    /// Tells the lowest of the displaceable uploads (the first admitted
    /// among equals) to stop; whether there was one.
    fn displace_lowest(
        inner: &mut Inner,
        now: Instant,
        except: Option<u64>,
        for_room: bool,
    ) -> bool {
        let lowest = Self::displaceable(inner, now, except, for_room).min();
        let Some((_, _, id, _)) = lowest else {
            return false;
        };
        let victim = inner.active.get_mut(&id).expect("just found");
        if let Some(evict) = victim.evict.take() {
            let _ = evict.send(());
        }
        true
    }

    /// Room under `--store-quota` that uploads in flight hold is given up
    /// by the rule of slots, with a bar that grows with the room held: the
    /// upload past its probation that ranks lowest below its `room_rate`
    /// (what finishing its reserved length within `--upload-deadline`
    /// takes, at least [`EVICTABLE_BELOW`]), other than `newcomer`, is told
    /// to stop; its reservation goes when it has stopped. Whether there was
    /// one. Holding the quota with reservations thus costs sending the
    /// quota within the deadline.
    /// Nobody is displaced when all the displaceable uploads' rooms
    /// together could not cover `shortfall`.
    pub fn displace_for_room(&self, newcomer: &Slot, shortfall: u64) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        let could_free: u64 = Self::displaceable(&inner, now, Some(newcomer.id), true)
            .map(|(_, _, _, reserved)| reserved)
            .sum();
        could_free >= shortfall && Self::displace_lowest(&mut inner, now, Some(newcomer.id), true)
    }

    /// Sets the bar below which `slot` gives up its room under the quota:
    /// `reserved` bytes to finish within `deadline`.
    pub fn set_reserved(&self, slot: &Slot, reserved: u64, deadline: Duration) {
        let rate = (reserved as f64 / deadline.as_secs_f64().max(1.0)) as u64;
        if let Some(active) = self.lock().active.get_mut(&slot.id) {
            active.room_rate = rate.max(EVICTABLE_BELOW);
            active.reserved = reserved;
        }
    }

    fn acquire_at(self: &Arc<Self>, now: Instant) -> Option<Slot> {
        let mut inner = self.lock();
        if inner.active.len() >= self.max && !Self::displace_lowest(&mut inner, now, None, false) {
            return None;
        }
        inner.next += 1;
        let id = inner.next;
        let meter = Arc::new(Mutex::new(RateMeter::new(self.window, now)));
        let (evict, evicted) = oneshot::channel();
        inner.active.insert(
            id,
            Active {
                admitted: id,
                reserved: 0,
                room_rate: EVICTABLE_BELOW,
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
    fn a_newcomer_is_safe_for_its_probation_only() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let slots = Slots::new(1, Duration::from_secs(8));
        let mut silent = slots.acquire_at(at(0)).unwrap();
        let mut told = silent.take_evicted().unwrap();
        assert!(
            slots.acquire_at(at(1999)).is_none(),
            "young: the newcomer gets 503"
        );
        assert!(told.try_recv().is_err());
        assert!(
            slots.acquire_at(at(2000)).is_some(),
            "then it ranks 0 and goes"
        );
        assert!(told.try_recv().is_ok());
    }

    /// Rule 2 past the probation: header-only squatters go first (oldest
    /// first); an upload at r goes when every other upload past its
    /// probation ranks above r.
    #[test]
    fn a_full_server_displaces_the_lowest_average_past_the_probation() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let slots = Slots::new(3, Duration::from_secs(8));
        let mut honest = slots.acquire_at(at(0)).unwrap();
        for s in 1..=20 {
            lock_meter(&honest.meter).record(8 * 1024, at(s));
        }
        let mut squatter_a = slots.acquire_at(at(20)).unwrap();
        let mut squatter_b = slots.acquire_at(at(21)).unwrap();
        let told = |slot: &mut Slot| slot.take_evicted().unwrap();
        let (mut honest_told, mut a_told, mut b_told) = (
            told(&mut honest),
            told(&mut squatter_a),
            told(&mut squatter_b),
        );
        let newcomer = slots.acquire_at(at(23)).expect("a squatter gives way");
        assert!(a_told.try_recv().is_ok(), "the oldest squatter");
        assert!(b_told.try_recv().is_err() && honest_told.try_recv().is_err());
        drop(squatter_a);
        lock_meter(&newcomer.meter).record(1 << 20, at(24));
        let _next = slots.acquire_at(at(25)).expect("the other squatter");
        assert!(b_told.try_recv().is_ok());
        assert!(honest_told.try_recv().is_err());
        drop(squatter_b);
        // Left: the honest upload (8 KiB/s), the fast newcomer, and one in
        // its probation: the honest upload ranks lowest and goes.
        let _last = slots
            .acquire_at(at(26))
            .expect("the slowest past its probation");
        assert!(honest_told.try_recv().is_ok());
    }

    #[test]
    fn an_upload_at_r_goes_only_when_every_other_ranks_above_r() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let slots = Slots::new(3, Duration::from_secs(8));
        let mut slow = slots.acquire_at(at(0)).unwrap();
        let faster = slots.acquire_at(at(0)).unwrap();
        let silent = slots.acquire_at(at(0)).unwrap();
        let mut slow_told = slow.take_evicted().unwrap();
        for s in 1..=10 {
            lock_meter(&slow.meter).record(8 * 1024, at(s));
            lock_meter(&faster.meter).record(12 * 1024, at(s));
        }
        let _first = slots.acquire_at(at(10)).unwrap();
        assert!(slow_told.try_recv().is_err(), "the silent one went first");
        drop(silent);
        let _second = slots.acquire_at(at(10)).unwrap();
        assert!(slow_told.try_recv().is_ok(), "then the slowest");
    }

    /// Room under the quota: an upload that reserved 500 MiB must average
    /// what finishing it within the deadline takes (36 KB/s over 4 h), not
    /// just 16 KiB/s, to keep it; a slot it keeps at 20 KiB/s.
    #[test]
    fn room_is_given_up_below_what_finishing_the_reserved_length_takes() {
        let slots = Slots::new(3, Duration::from_secs(8));
        let mut big = slots.acquire().unwrap();
        let newcomer = slots.acquire().unwrap();
        let mut told = big.take_evicted().unwrap();
        slots.set_reserved(&big, 500 << 20, Duration::from_secs(4 * 3600));
        // 30 s at 20 KiB/s: past its probation, above the slot floor.
        *lock_meter(&big.meter) = RateMeter::new(
            Duration::from_secs(8),
            Instant::now() - Duration::from_secs(30),
        );
        lock_meter(&big.meter).record(30 * 20 * 1024, Instant::now());
        assert!(slots.acquire().is_some(), "a free slot: nobody displaced");
        assert!(told.try_recv().is_err());
        assert!(
            !slots.displace_for_room(&newcomer, 501 << 20),
            "could not make room"
        );
        assert!(told.try_recv().is_err());
        assert!(
            slots.displace_for_room(&newcomer, 100 << 20),
            "below 36 KB/s"
        );
        assert!(told.try_recv().is_ok());
        drop(big);
    }

    #[test]
    fn uploads_at_the_floor_rate_are_never_displaced() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let slots = Slots::new(2, Duration::from_secs(8));
        let a = slots.acquire_at(at(0)).unwrap();
        let b = slots.acquire_at(at(0)).unwrap();
        lock_meter(&a.meter).record(16 * 1024 * 10, at(1));
        lock_meter(&b.meter).record(16 * 1024 * 10, at(1));
        assert!(slots.acquire_at(at(10)).is_none(), "both at 16 KiB/s");
        assert_eq!(slots.in_use(), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Time passes (ms).
        Advance(u64),
        /// Upload `i` (modulo the uploads in flight) receives bytes.
        Send(usize, u64),
        /// Upload `i` ends.
        Leave(usize),
        /// A newcomer asks for a slot.
        Arrive,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..3000).prop_map(Op::Advance),
            (0usize..8, 0u64..200_000).prop_map(|(i, n)| Op::Send(i, n)),
            (0usize..8).prop_map(Op::Leave),
            Just(Op::Arrive),
            Just(Op::Arrive),
        ]
    }

    proptest::proptest! {
        /// Rule 2 against a model: whatever the sequence, a newcomer at a
        /// full server displaces exactly the upload past its probation with
        /// the lowest average below 16 KiB/s (the first admitted among
        /// equals), or none and is refused; a free slot displaces nobody;
        /// no more uploads than slots ever hold one.
        #[test]
        fn displacement_follows_the_rule(ops in proptest::collection::vec(op(), 1..150)) {
            const MAX: usize = 4;
            let start = Instant::now();
            let at = |ms: u64| start + Duration::from_millis(ms);
            let slots = Slots::new(MAX, Duration::from_secs(8));
            // Each upload: its slot, its eviction signal, admission (ms), bytes.
            let mut live: Vec<(Slot, oneshot::Receiver<()>, u64, u64)> = Vec::new();
            let mut now = 0u64;
            let average = |admitted: u64, bytes: u64, now: u64| {
                let waited = Duration::from_millis(now - admitted).max(PROBATION);
                (bytes as f64 / waited.as_secs_f64()) as u64
            };
            for op in ops {
                match op {
                    Op::Advance(ms) => now += ms,
                    Op::Send(i, n) if !live.is_empty() => {
                        let k = i % live.len();
                        lock_meter(&live[k].0.meter).record(n, at(now));
                        live[k].3 += n;
                    }
                    Op::Leave(i) if !live.is_empty() => {
                        let k = i % live.len();
                        live.remove(k);
                    }
                    Op::Send(..) | Op::Leave(_) => {}
                    Op::Arrive => {
                        let full = live.len() >= MAX;
                        // Admission order is the order in `live`.
                        let expected = live
                            .iter()
                            .enumerate()
                            .filter(|(_, u)| now - u.2 >= PROBATION.as_millis() as u64)
                            .map(|(k, u)| (average(u.2, u.3, now), k))
                            .filter(|(rate, _)| *rate < EVICTABLE_BELOW)
                            .min();
                        let got = slots.acquire_at(at(now));
                        let told: Vec<usize> = live
                            .iter_mut()
                            .enumerate()
                            .filter_map(|(k, u)| u.1.try_recv().is_ok().then_some(k))
                            .collect();
                        match (full, expected) {
                            (false, _) => {
                                proptest::prop_assert!(got.is_some());
                                proptest::prop_assert!(told.is_empty());
                            }
                            (true, None) => {
                                proptest::prop_assert!(got.is_none());
                                proptest::prop_assert!(told.is_empty());
                            }
                            (true, Some((_, k))) => {
                                proptest::prop_assert!(got.is_some());
                                proptest::prop_assert_eq!(told, vec![k]);
                                live.remove(k);
                            }
                        }
                        if let Some(mut slot) = got {
                            let signal = slot.take_evicted().unwrap();
                            live.push((slot, signal, now, 0));
                        }
                        proptest::prop_assert!(slots.in_use() <= MAX);
                        proptest::prop_assert_eq!(slots.in_use(), live.len());
                    }
                }
            }
        }
    }
}
