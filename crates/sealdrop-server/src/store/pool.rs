//! Files made ahead of time, so that no file's birth time dates an arrival.
//!
//! The kernel stamps a file's birth time (statx btime: ext4, XFS, btrfs, and
//! on current kernels tmpfs and ext2/3 too) when it is created, and nothing
//! can change it afterwards. So sealed files are never created when a source
//! arrives: the store keeps a pool of empty files, made in batches at the
//! maintenance pass (on the touch-interval grid), and an upload takes one at
//! random and renames it (renaming keeps the inode and its birth time). A
//! file's birth time then says only that it arrived after some earlier pass,
//! and neither inode numbers nor creation order follow arrival order.
//!
//! If uploads take the pool below its low-water mark between two passes, it
//! is topped up at once, in a batch: such a refill shows that many uploads
//! started since the last pass, not when any one of them arrived
//! (SECURITY.md).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rand::Rng;

use sealdrop_format::fsutil::{create_new_private_file, rename_no_replace, sync_dir};
use sealdrop_format::id::random_hex;

/// How late a pass may renew the pool before its files count as too old to
/// take: expiry counts a sealed file's arrival as at most one touch
/// interval and this grace after its birth. A twelfth of the interval, at
/// most 5 minutes (an hour's interval: 5 minutes).
pub(super) fn late_pass_grace(interval: Duration) -> Duration {
    (interval / 12).min(Duration::from_secs(300))
}

/// Prefix of pool files; they never end in `.age`.
pub(crate) const POOL_PREFIX: &str = ".pool-";

/// The file pool could not give a file; what went wrong is its source.
#[derive(Debug, thiserror::Error)]
#[error("the store's file pool could not give a file: {0}")]
pub(super) struct PoolExhausted(#[source] io::Error);

/// Whether `e` is the pool's [`PoolExhausted`].
pub fn is_pool_exhausted(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<PoolExhausted>())
}

/// A pool of empty files in one folder.
pub(super) struct FilePool {
    dir: PathBuf,
    /// Each waiting file with the time it was made (the wall clock, as
    /// birth times are; a file from before a restart counts as made at the
    /// start).
    names: Mutex<Vec<(String, SystemTime)>>,
    target: usize,
    low_water: usize,
    /// With `--expire-unpicked`: a file older than this (one touch interval
    /// and [`late_pass_grace`]) is never taken, so that its birth time never
    /// dates an arrival earlier than expiry assumes (a pass that failed or
    /// ran late).
    age_limit: Mutex<Option<Duration>>,
}

impl FilePool {
    /// The pool of `dir`: keeps the empty pool files a previous run made,
    /// removes any that are not empty, and fills up to `target`.
    pub(super) fn open(dir: &Path, target: usize) -> io::Result<FilePool> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(POOL_PREFIX) {
                continue;
            }
            if entry.metadata()?.len() == 0 {
                names.push((name, SystemTime::now()));
            } else {
                fs::remove_file(entry.path())?;
            }
        }
        let pool = FilePool {
            dir: dir.to_owned(),
            names: Mutex::new(names),
            target: target.max(1),
            low_water: (target / 4).max(1),
            age_limit: Mutex::new(None),
        };
        pool.refill()?;
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, SystemTime)>> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on, files older than `limit` are never taken.
    pub(super) fn set_age_limit(&self, limit: Duration) {
        let limit = limit + late_pass_grace(limit);
        *self.age_limit.lock().unwrap_or_else(|p| p.into_inner()) = Some(limit);
    }

    /// Creates files until the pool holds its target; returns how many.
    pub(super) fn refill(&self) -> io::Result<usize> {
        let mut names = self.lock();
        let missing = self.target.saturating_sub(names.len());
        for _ in 0..missing {
            let name = format!("{POOL_PREFIX}{}", random_hex(16));
            drop(create_new_private_file(&self.dir.join(&name))?);
            names.push((name, SystemTime::now()));
        }
        if missing > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(missing)
    }

    /// Replaces every waiting file with a new one, so that each file's birth
    /// time is this pass's. With `--expire-unpicked` a sealed file's birth
    /// time is what its age is counted from: a pool file kept for days would
    /// make a fresh submission look old.
    pub(super) fn renew(&self) -> io::Result<()> {
        let mut names = self.lock();
        for (name, _) in names.drain(..) {
            match fs::remove_file(self.dir.join(&name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        drop(names);
        self.refill()?;
        Ok(())
    }

    /// Takes a file at random and renames it to `to` (same folder): an empty
    /// file whose birth time is that of a refill made before this upload
    /// began. When the take leaves the pool at its low-water mark, it is
    /// topped up after the take, in a batch that only later uploads draw
    /// from. Only when every file is gone or too old (a pass that could not
    /// renew the pool) does this upload get a file made now. A pool file
    /// that is gone (removed by hand, say) is passed over. Every failure is a
    /// [`PoolExhausted`] error, so that it is counted as such.
    pub(super) fn take(&self, to: &Path) -> io::Result<()> {
        // A full disk stays itself (the "store full" page), not a fault.
        let exhausted = |e: io::Error| {
            let full = [rustix::io::Errno::NOSPC, rustix::io::Errno::DQUOT]
                .iter()
                .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()));
            if full {
                e
            } else {
                io::Error::new(e.kind(), PoolExhausted(e))
            }
        };
        let age_limit = *self.age_limit.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..=self.target {
            let (name, left) = {
                let mut names = self.lock();
                if let Some(limit) = age_limit {
                    let now = SystemTime::now();
                    let too_old =
                        |made: &SystemTime| now.duration_since(*made).unwrap_or_default() > limit;
                    let stale: Vec<String> = names
                        .iter()
                        .filter(|(_, made)| too_old(made))
                        .map(|(n, _)| n.clone())
                        .collect();
                    if !stale.is_empty() {
                        tracing::warn!(
                            "the file pool of {} was not renewed by the last maintenance pass: \
                             {} files too old to date an arrival are replaced now",
                            self.dir.display(),
                            stale.len()
                        );
                        names.retain(|(_, made)| !too_old(made));
                        for name in stale {
                            match fs::remove_file(self.dir.join(&name)) {
                                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                                    return Err(exhausted(e))
                                }
                                _ => {}
                            }
                        }
                    }
                }
                if names.is_empty() {
                    drop(names);
                    self.refill().map_err(exhausted)?;
                    names = self.lock();
                }
                if names.is_empty() {
                    return Err(exhausted(io::Error::other("no file left after a refill")));
                }
                let pick = rand::thread_rng().gen_range(0..names.len());
                let name = names.swap_remove(pick).0;
                (name, names.len())
            };
            match rename_no_replace(&self.dir.join(name), to) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
                Ok(()) => {
                    if left <= self.low_water {
                        self.refill().map_err(exhausted)?;
                    }
                    return Ok(());
                }
            }
        }
        Err(exhausted(io::Error::other(
            "every pool file taken was gone from the folder",
        )))
    }

    /// How many files wait in the pool.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn takes_are_random_keep_the_inode_and_refill_in_batches() {
        let d = tempfile::tempdir().unwrap();
        let pool = FilePool::open(d.path(), 16).unwrap();
        assert_eq!(pool.len(), 16);
        let inodes: HashSet<u64> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().ino())
            .collect();
        let mut taken = Vec::new();
        for i in 0..10 {
            let to = d.path().join(format!("taken-{i}"));
            pool.take(&to).unwrap();
            let ino = fs::metadata(&to).unwrap().ino();
            assert!(inodes.contains(&ino), "a pool file, not a new one");
            taken.push(ino);
        }
        let mut sorted = taken.clone();
        sorted.sort();
        // 10 random picks in creation order by chance: 1 in 3.6 million.
        assert_ne!(taken, sorted, "taken in random order");
        assert_eq!(pool.len(), 6);
        // A take that leaves the pool at its low-water mark (4) tops it up
        // after itself, in a batch.
        pool.take(&d.path().join("taken-10")).unwrap();
        assert_eq!(pool.len(), 5);
        pool.take(&d.path().join("taken-11")).unwrap();
        assert_eq!(pool.len(), 16);
        // A restart keeps empty pool files and drops written ones.
        let to = d.path().join("written");
        pool.take(&to).unwrap();
        let before = pool.len();
        fs::write(d.path().join(format!("{POOL_PREFIX}stale")), b"x").unwrap();
        let again = FilePool::open(d.path(), 16).unwrap();
        assert_eq!(again.len(), 16.max(before));
        assert!(!d.path().join(format!("{POOL_PREFIX}stale")).exists());
    }

    /// A file older than the age limit is never taken: the pool is renewed
    /// in a batch first (what a failed or late pass would otherwise leave).
    #[test]
    fn files_older_than_their_age_limit_are_never_taken() {
        let d = tempfile::tempdir().unwrap();
        let pool = FilePool::open(d.path(), 8).unwrap();
        let names = |d: &Path| -> HashSet<String> {
            fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let old = names(d.path());
        // The limit is the interval plus the grace for a late pass.
        *pool.age_limit.lock().unwrap() = Some(Duration::from_millis(200));
        std::thread::sleep(Duration::from_millis(300));
        let after_the_limit = std::time::SystemTime::now() - Duration::from_millis(50);
        let to = d.path().join("taken");
        pool.take(&to).unwrap();
        // Only a pool no pass renewed gives a file made at the arrival
        // (logged as a warning); never one older than the limit.
        if let Ok(born) = super::super::birth_time(&to) {
            assert!(born >= after_the_limit, "not a file older than the limit");
        }
        // None of the old ones is left to be taken later.
        assert!(names(d.path()).is_disjoint(&old));
        assert_eq!(pool.len(), 7);
    }

    /// Pool files removed under the pool are passed over; a pool that
    /// cannot refill says so with its own error.
    #[test]
    fn vanished_files_are_passed_over_and_exhaustion_is_recognised() {
        let d = tempfile::tempdir().unwrap();
        let pool = FilePool::open(d.path(), 8).unwrap();
        // Every other pool file removed behind the pool's back.
        for entry in fs::read_dir(d.path()).unwrap().step_by(2) {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for i in 0..20 {
            pool.take(&d.path().join(format!("taken-{i}"))).unwrap();
        }
        let gone = d.path().join("gone");
        let pool = FilePool::open(d.path(), 4).unwrap();
        fs::remove_dir_all(d.path()).unwrap();
        let e = pool.take(&gone).unwrap_err();
        assert!(is_pool_exhausted(&e), "{e}");
    }
}
