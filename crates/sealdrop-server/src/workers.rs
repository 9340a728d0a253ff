//! The bounded pools that blocking work runs on, one per kind, so that no
//! kind can take the threads another needs: sealing (encryption, hashing,
//! padding), the replies page's logins (a key agreement per reply waiting),
//! the store's disk steps (commits, removals), the pickup API's store
//! requests, and the maintenance pass. An upload that waits for the network
//! holds no thread: only its state, a few buffers. Each pool runs at most
//! its size of jobs at once, on tokio's blocking threads, and the runtime
//! has a thread for every pool's every job at once
//! ([`blocking_threads`]): a flood of logins or a slow disk leaves sealing
//! its threads, so honest uploads do not stall into the rate check.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The size of each pool on a machine with `cores` cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSizes {
    /// One job per core, at least two (hashing and encryption of one large
    /// upload run side by side).
    pub sealing: usize,
    /// Half the cores, at least one: logins cost CPU, and sealing keeps the
    /// rest whatever the number of login attempts.
    pub logins: usize,
    /// Commits wait on fsync, not on the CPU.
    pub disk: usize,
    pub pickup: usize,
    pub maintenance: usize,
}

/// Blocking threads kept beyond the pools, for start-up and alerts.
const SPARE_THREADS: usize = 2;

impl PoolSizes {
    pub fn for_cores(cores: usize) -> PoolSizes {
        PoolSizes {
            sealing: cores.max(2),
            logins: (cores / 2).max(1),
            disk: 4,
            pickup: 2,
            maintenance: 1,
        }
    }

    pub fn for_this_machine() -> PoolSizes {
        PoolSizes::for_cores(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    fn total(self) -> usize {
        self.sealing + self.logins + self.disk + self.pickup + self.maintenance
    }
}

/// Blocking threads the runtime may start: every pool full at once, plus a
/// spare few.
pub fn blocking_threads() -> usize {
    PoolSizes::for_this_machine().total() + SPARE_THREADS
}

/// The server's pools.
pub struct Pools {
    pub sealing: Pool,
    pub logins: Pool,
    pub disk: Pool,
    pub pickup: Pool,
    pub maintenance: Pool,
}

impl Pools {
    pub fn new(sizes: PoolSizes) -> Pools {
        Pools {
            sealing: Pool::new(sizes.sealing),
            logins: Pool::new(sizes.logins),
            disk: Pool::new(sizes.disk),
            pickup: Pool::new(sizes.pickup),
            maintenance: Pool::new(sizes.maintenance),
        }
    }

    pub fn for_this_machine() -> Pools {
        Pools::new(PoolSizes::for_this_machine())
    }
}

/// One bounded pool.
pub struct Pool {
    permits: Arc<Semaphore>,
    size: usize,
    /// Jobs waiting for a turn in [`Pool::queued_turn`].
    waiting: std::sync::atomic::AtomicUsize,
}

/// The job panicked or the runtime is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("a blocking job did not complete")]
pub struct JobFailed;

impl Pool {
    pub fn new(size: usize) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(size)),
            size,
            waiting: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `job` on a blocking thread once a place in the pool is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, JobFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let turn = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| JobFailed)?;
        self.run_on_turn(turn, job).await
    }

    /// A turn, waiting for one behind at most `max_waiting` others: `None`
    /// at once when the queue is full (a short queue, so that a flood is
    /// refused cheaply while a real client waits only a few jobs' time).
    pub async fn queued_turn(&self, max_waiting: usize) -> Option<OwnedSemaphorePermit> {
        use std::sync::atomic::Ordering;
        if let Some(turn) = self.try_turn() {
            return Some(turn);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        // Decremented however the wait ends, the request dropped included.
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            }
        }
        let _waiting = Waiting(&self.waiting);
        self.permits.clone().acquire_owned().await.ok()
    }

    /// A place in the pool if one is free now.
    pub fn try_turn(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Runs `job` on a blocking thread in the place `turn` holds.
    pub async fn run_on_turn<T, F>(
        &self,
        turn: OwnedSemaphorePermit,
        job: F,
    ) -> Result<T, JobFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // The turn goes with the job, not with this future: a request
        // dropped while its job runs does not give the place back early.
        blocking(move || {
            let _turn = turn;
            job()
        })
        .await
        .map_err(|_| JobFailed)
    }
}

/// Runs `job` on one of the runtime's blocking threads and wipes the stack
/// its calls used (`wipe::stack`) before the thread takes other work: every
/// blocking job that touches a secret goes through here.
pub async fn blocking<T, F>(job: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let result = job();
        sealdrop_format::wipe::stack();
        result
    })
    .await
}

/// The runtime every server runs on (the binary's and the tests'): async
/// workers that wipe their stack whenever they go idle, so that what a
/// request's calls left in stack frames does not outlive it, and a blocking
/// thread for every pool's every job ([`blocking_threads`]).
pub fn runtime(worker_threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = worker_threads {
        builder.worker_threads(n);
    }
    builder
        .max_blocking_threads(blocking_threads())
        .on_thread_park(sealdrop_format::wipe::stack)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_runtime_has_a_thread_for_every_pools_every_job() {
        for cores in [1, 2, 8, 64] {
            let sizes = PoolSizes::for_cores(cores);
            assert!(sizes.sealing >= 2 && sizes.logins >= 1);
            assert!(
                sizes.logins < sizes.sealing,
                "logins never outnumber sealing"
            );
        }
        assert_eq!(
            blocking_threads(),
            PoolSizes::for_this_machine().total() + SPARE_THREADS
        );
    }

    /// A pool full of stuck jobs (logins, say) leaves another pool's jobs
    /// (sealing) their threads.
    #[test]
    fn a_full_pool_does_not_hold_up_another() {
        let runtime = runtime(Some(1)).unwrap();
        runtime.block_on(async {
            let pools = Arc::new(Pools::for_this_machine());
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let wait = Arc::new(std::sync::Mutex::new(wait));
            let mut stuck = Vec::new();
            for _ in 0..pools.logins.size() {
                let turn = pools.logins.try_turn().unwrap();
                let (pools, wait) = (pools.clone(), wait.clone());
                stuck.push(tokio::spawn(async move {
                    pools
                        .logins
                        .run_on_turn(turn, move || {
                            let _ = wait.lock().unwrap().recv();
                        })
                        .await
                }));
            }
            assert!(pools.logins.try_turn().is_none(), "every login turn taken");
            let sealed =
                tokio::time::timeout(std::time::Duration::from_secs(10), pools.sealing.run(|| 42))
                    .await;
            assert_eq!(sealed.unwrap().unwrap(), 42);
            for _ in &stuck {
                release.send(()).unwrap();
            }
            for job in stuck {
                job.await.unwrap().unwrap();
            }
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_size_jobs_run_at_once() {
        let workers = Arc::new(Pool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let (workers, running, most) = (workers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    workers
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
