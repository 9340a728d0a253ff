//! The bounded pool that CPU-heavy work runs on: sealing (encryption,
//! hashing, padding) and the store's blocking steps. An upload that waits for
//! the network holds no thread: only its state, a few buffers. Its work comes
//! here in jobs, at most `size` at a time, on tokio's blocking threads, whose
//! number the runtime bounds (`MAX_BLOCKING_THREADS`).

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Blocking threads the runtime may start, for the pool's jobs and the rare
/// other blocking step (file system maintenance, pickup hashing).
pub const MAX_BLOCKING_THREADS: usize = 16;

pub struct Workers {
    permits: Arc<Semaphore>,
    size: usize,
}

/// The job panicked or the runtime is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("a sealing job did not complete")]
pub struct JobFailed;

impl Workers {
    /// A pool of one job per core (at least two: hashing and encryption of
    /// one large upload run side by side).
    pub fn for_this_machine() -> Workers {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Workers::new(cores.max(2))
    }

    pub fn new(size: usize) -> Workers {
        Workers {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `job` on a blocking thread once a slot of the pool is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, JobFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| JobFailed)?;
        blocking(job).await.map_err(|_| JobFailed)
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
/// request's calls left in stack frames does not outlive it, and at most
/// [`MAX_BLOCKING_THREADS`] blocking threads.
pub fn runtime(worker_threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = worker_threads {
        builder.worker_threads(n);
    }
    builder
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .on_thread_park(sealdrop_format::wipe::stack)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_size_jobs_run_at_once() {
        let workers = Arc::new(Workers::new(2));
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
