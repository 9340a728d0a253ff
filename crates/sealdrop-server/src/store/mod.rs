//! The store: sealed files only, written atomically.
//!
//! A submission is written to `.incoming-<random>.partial` in the store
//! folder (a name that never ends in `.age`; the file is a pool file made at
//! an earlier pass), synced, and then made durable as `<id>.age` by the
//! store's [`Backend`]: renamed in the folder and the folder synced
//! ([`backend::Folder`]), or sent whole to an object store, the folder then
//! only spooling ([`backend::BucketBackend`]). Only then is the source told
//! it was received. A guard removes the partial file on every failure path,
//! including a client that disconnects; start-up removes what a crash left.
//! Pickup hashes a file when it is first listed (an object store's while it
//! is sent) and remembers the hash.

pub mod backend;
pub mod bucket;
mod partial;
mod pool;
pub mod replies;

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backend::{Backend, Download, Folder, Spooled};
use partial::Flusher;
pub use partial::PartialFile;
pub use pool::is_pool_exhausted;
use pool::FilePool;
pub(crate) use pool::POOL_PREFIX;
use sealdrop_format::fsutil::create_new_private_file;
use sealdrop_format::id::{random_hex, SubmissionId};

/// Empty files kept ready for uploads (see `pool`): enough for this many
/// uploads between two maintenance passes before a batch refill.
pub(crate) const POOL_SIZE: usize = 64;

/// The ending of a sealed submission's name (`<id>.age`).
const SEALED_SUFFIX: &str = ".age";
const PARTIAL_PREFIX: &str = ".incoming-";
const PARTIAL_SUFFIX: &str = ".partial";
/// Marks a spool file being sent to an object store: `.incoming-to-<id>.partial`
/// names the object it becomes.
const SENDING: &str = "to-";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store folder {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("store folder {0} does not exist: create it with `install -d -m 0700 {0}`")]
    Missing(PathBuf),
    #[error("store {0} is not a folder")]
    NotADir(PathBuf),
    #[error(
        "store folder {path} can be read or written by other users (mode {mode:o}); \
         run `chmod 0700 {path}`"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("store folder {path} is not writable by this user: {source}; make it owned by the user sealdrop runs as")]
    NotWritable { path: PathBuf, source: io::Error },
    #[error("store folder {0} is in use by another sealdrop server: a store folder (or, with an object store, a --spool folder) takes one server at a time; stop the other one first, or give each front a --spool of its own (docs/SCALE-OUT.md)")]
    InUse(PathBuf),
}

/// Why the store cannot take an upload right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Free disk space is below the configured floor.
    Disk,
    /// The store quota is reached.
    Quota,
}

/// What `--store-quota` counts: one count for every desk's store and the
/// replies. Uploads in flight hold a [`Reservation`] from admission, so
/// that many uploads started together cannot overshoot the quota.
#[derive(Default)]
pub struct Usage {
    /// Bytes of sealed files and replies kept, up to date as files arrive
    /// or leave.
    stored: AtomicU64,
    /// Bytes reserved by uploads in flight.
    reserved: AtomicU64,
}

impl Usage {
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    pub fn reserved(&self) -> u64 {
        self.reserved.load(Ordering::Relaxed)
    }

    pub(crate) fn add_stored(&self, bytes: u64) {
        self.stored.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn remove_stored(&self, bytes: u64) {
        let _ = self
            .stored
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(bytes))
            });
    }
}

/// Room held under the quota for an upload in flight; given back when
/// dropped (after the commit has counted the file itself, or on failure).
pub struct Reservation {
    usage: Arc<Usage>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.usage.reserved.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

pub struct Store {
    dir: PathBuf,
    min_free_bytes: u64,
    quota: Option<u64>,
    /// What the quota counts, shared with every desk's store.
    usage: Arc<Usage>,
    flusher: Flusher,
    pool: FilePool,
    /// The last pass's time: what the folder's access and modification
    /// times are set back to after an upload takes a pool file and after it
    /// is committed, so that only its change time (which no program can
    /// set) says an arrival happened since the pass.
    last_pass: std::sync::Mutex<SystemTime>,
    /// Whether each pass renews the pool (`count_ages_from_birth`).
    renew_pool: AtomicBool,
    /// Where sealed files are kept once durable: this folder, or an object
    /// store (the folder then only spools uploads in progress).
    backend: Box<dyn Backend>,
    /// The folder, locked (`flock`) for as long as this store is open: a
    /// second server on the same folder would take this one's pool files
    /// and remove its uploads in progress as a crash's leftovers.
    _lock: fs::File,
}

impl Store {
    /// Checks the folder and removes partial files left by a crash; sealed
    /// files are kept in the folder itself.
    pub fn open(dir: &Path, min_free_bytes: u64, quota: Option<u64>) -> Result<Store, StoreError> {
        Store::open_counted(dir, min_free_bytes, quota, Arc::default(), None)
    }

    /// `open`, adding this store's sealed bytes to `usage`, a count shared
    /// with other stores (the desks') under one quota. With a
    /// `backend`, sealed files go there and `dir` is the spool; without,
    /// into `dir` itself.
    pub fn open_counted(
        dir: &Path,
        min_free_bytes: u64,
        quota: Option<u64>,
        usage: Arc<Usage>,
        backend: Option<Box<dyn Backend>>,
    ) -> Result<Store, StoreError> {
        let io_err = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        let meta = match fs::metadata(dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::Missing(dir.to_owned()))
            }
            Err(e) => return Err(io_err(e)),
        };
        if !meta.is_dir() {
            return Err(StoreError::NotADir(dir.to_owned()));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::TooOpen {
                path: dir.to_owned(),
                mode,
            });
        }
        let probe = dir.join(format!(
            "{PARTIAL_PREFIX}probe-{}{PARTIAL_SUFFIX}",
            random_hex(8)
        ));
        create_new_private_file(&probe).map_err(|source| StoreError::NotWritable {
            path: dir.to_owned(),
            source,
        })?;
        fs::remove_file(&probe).map_err(io_err)?;
        let lock = fs::File::open(dir).map_err(io_err)?;
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(StoreError::InUse(dir.to_owned())),
            // Some FUSE and network file systems have no locks: nothing then
            // stops a second server, which the operator is told.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => tracing::warn!(
                "the store folder {} cannot be locked on this file system: make sure no other \
                 sealdrop server uses it",
                dir.display()
            ),
            Err(e) => return Err(io_err(e.into())),
        }

        let store = Store {
            dir: dir.to_owned(),
            min_free_bytes,
            quota,
            usage,
            flusher: Flusher::start().map_err(io_err)?,
            pool: FilePool::open(dir, POOL_SIZE).map_err(io_err)?,
            renew_pool: AtomicBool::new(false),
            last_pass: std::sync::Mutex::new(
                fs::metadata(dir)
                    .and_then(|m| m.modified())
                    .map_err(io_err)?,
            ),
            backend: backend.unwrap_or_else(|| Box::new(Folder::new(dir))),
            _lock: lock,
        };
        // A commit this front could not finish (killed during a transfer)
        // left its spool file named after what it was sending.
        let unfinished = store.unfinished_commits().map_err(io_err)?;
        let cleaned = store.backend.clean_up(&unfinished).map_err(io_err)?;
        if cleaned > 0 {
            tracing::info!(
                "{cleaned} incomplete uploads aborted in {}",
                store.backend.describe()
            );
        }
        store.remove_partials().map_err(io_err)?;
        let total = store.sealed_bytes().map_err(io_err)?;
        store.usage.add_stored(total);
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where sealed files are kept, for messages: the folder or the bucket.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Where sealed files are kept once durable.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// What spool files of commits that did not finish were being sent as.
    fn unfinished_commits(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(sending) = name
                .strip_prefix(PARTIAL_PREFIX)
                .and_then(|n| n.strip_prefix(SENDING))
                .and_then(|n| n.strip_suffix(PARTIAL_SUFFIX))
            {
                names.push(sending.to_owned());
            }
        }
        Ok(names)
    }

    /// Removes every in-progress file; returns how many there were.
    pub fn remove_partials(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(PARTIAL_PREFIX) && name.ends_with(PARTIAL_SUFFIX) {
                fs::remove_file(self.dir.join(&*name))?;
                removed += 1;
            }
        }
        if removed > 0 {
            self.sync_dir()?;
        }
        Ok(removed)
    }

    /// Sealed files as (id, length), sorted by id.
    pub fn sealed_files(&self) -> io::Result<Vec<(SubmissionId, u64)>> {
        let mut files: Vec<_> = self
            .backend
            .list(SEALED_SUFFIX)?
            .into_iter()
            .filter_map(|s| Some((SubmissionId::from_file_name(&s.name)?, s.size)))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Bytes of this store's sealed files, counted afresh.
    pub fn sealed_bytes(&self) -> io::Result<u64> {
        Ok(self.sealed_files()?.iter().map(|(_, len)| len).sum())
    }

    /// Bytes of sealed files and replies the quota counts.
    pub fn stored_bytes(&self) -> u64 {
        self.usage.stored()
    }

    /// The count shared by every desk's store and the replies.
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Sets the count shared by every desk's store: with an object store,
    /// the maintenance pass counts again what every front stored.
    pub fn set_stored_bytes(&self, total: u64) {
        self.usage.stored.store(total, Ordering::Relaxed);
    }

    /// Holds `bytes` under the quota for an upload about to be read, or
    /// says the store is full (counting what is stored and every other
    /// upload's reservation), and checks the disk floor.
    pub fn reserve(&self, bytes: u64) -> Result<Reservation, Full> {
        if let Some(quota) = self.quota {
            let usage = &self.usage;
            usage
                .reserved
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |reserved| {
                    let after = usage
                        .stored()
                        .saturating_add(reserved)
                        .saturating_add(bytes);
                    (after <= quota).then_some(reserved + bytes)
                })
                .map_err(|_| Full::Quota)?;
        } else {
            self.usage.reserved.fetch_add(bytes, Ordering::Relaxed);
        }
        let reservation = Reservation {
            usage: self.usage.clone(),
            bytes,
        };
        self.check_disk(0)?;
        Ok(reservation)
    }

    /// How many bytes beyond the quota `bytes` more would take, counting
    /// what is stored and reserved (0 when it fits or there is no quota).
    pub fn shortfall(&self, bytes: u64) -> u64 {
        self.quota.map_or(0, |quota| {
            (self.usage.stored() + self.usage.reserved() + bytes).saturating_sub(quota)
        })
    }

    /// Whether `bytes` would fit under the quota if no upload were in
    /// flight (so that giving up others' reservations can make room).
    pub fn fits_when_nothing_in_flight(&self, bytes: u64) -> bool {
        self.quota
            .is_some_and(|quota| self.usage.stored().saturating_add(bytes) <= quota)
    }

    /// Whether `more` bytes can still be written without crossing the disk
    /// floor (an upload in flight checks only this: its room under the
    /// quota was reserved at admission).
    pub fn check_disk(&self, more: u64) -> Result<(), Full> {
        match rustix::fs::statvfs(&self.dir) {
            Ok(st) => {
                let free = st.f_bavail.saturating_mul(st.f_frsize);
                if free < self.min_free_bytes.saturating_add(more) {
                    return Err(Full::Disk);
                }
                Ok(())
            }
            // If the file system cannot say, writing will tell (ENOSPC).
            Err(_) => Ok(()),
        }
    }

    /// A new partial file, removed when the guard drops uncommitted. It is a
    /// pool file made at an earlier maintenance pass, never a file created now.
    pub fn create_partial(&self) -> io::Result<(PartialFile, PartialGuard)> {
        let path = self.dir.join(format!(
            "{PARTIAL_PREFIX}{}{PARTIAL_SUFFIX}",
            random_hex(16)
        ));
        self.pool.take(&path)?;
        let guard = PartialGuard { path: Some(path) };
        self.restore_folder_times()?;
        // Readable too: with an object store, the commit reads it back.
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(guard.path.as_deref().expect("just set"))?;
        let partial = PartialFile::start(
            file,
            guard.path.as_deref().expect("just set"),
            &self.flusher,
        )?;
        Ok((partial, guard))
    }

    /// Makes a finished partial file durable and gives it its final name.
    /// Its times are set to `coarse_time` so they do not record the arrival.
    /// With an object store, the source is told once the store has it all.
    pub fn commit(
        &self,
        written: PartialFile,
        mut guard: PartialGuard,
        coarse_time: SystemTime,
    ) -> io::Result<SubmissionId> {
        let file = written.into_file();
        let len = file.metadata()?.len();
        let id = SubmissionId::random();
        let spooled = Spooled {
            spool: &self.dir,
            guard: &mut guard,
            file,
        };
        self.backend.commit(spooled, &id.file_name(), coarse_time)?;
        drop(guard);
        self.usage.add_stored(len);
        self.restore_folder_times()?;
        Ok(id)
    }

    /// Sets the folder's access and modification times back to the last
    /// pass's (after an arrival renamed files in it).
    pub(crate) fn restore_folder_times(&self) -> io::Result<()> {
        let t = *self.last_pass.lock().unwrap_or_else(|p| p.into_inner());
        File::open(&self.dir)?.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
    }

    /// SHA-256 of a sealed file's bytes (blocking: may read the whole file).
    pub fn sealed_sha256(&self, id: &SubmissionId) -> io::Result<[u8; 32]> {
        self.backend.sha256(&id.file_name())
    }

    /// Whether sealed submission `id` is in this store (blocking).
    pub fn holds(&self, id: &SubmissionId) -> io::Result<bool> {
        self.backend.exists(&id.file_name())
    }

    /// A sealed submission's length and bytes, streamed (for pickup).
    pub async fn read_sealed(&self, id: &SubmissionId) -> io::Result<Download> {
        self.backend.download(&id.file_name()).await
    }

    /// Where sealed submission `id` is (or would be) stored in the folder.
    pub fn path_of(&self, id: &SubmissionId) -> PathBuf {
        self.dir.join(id.file_name())
    }

    fn sync_dir(&self) -> io::Result<()> {
        sealdrop_format::fsutil::sync_dir(&self.dir)
    }

    /// Deletes a sealed file for good (unlink, then sync the folder).
    pub fn remove_sealed(&self, id: &SubmissionId) -> io::Result<()> {
        let len = self.backend.remove(&id.file_name())?;
        self.usage.remove_stored(len);
        Ok(())
    }

    /// The pass's first step, before anything else can fail: renews the file
    /// pool (with `--expire-unpicked`) or tops it up, so that its files get
    /// this pass's birth time.
    pub fn renew_pool(&self) -> io::Result<()> {
        if self.renew_pool.load(Ordering::Relaxed) {
            self.pool.renew()
        } else {
            self.pool.refill().map(drop)
        }
    }

    /// The maintenance pass, after [`Store::renew_pool`]: sets the access and modification times of
    /// every sealed file, pool file and the folder to `t`. The kernel stamps
    /// the change time with "now" as it does so, which overwrites the exact
    /// arrival time it held since the last pass. Returns the files touched.
    pub fn normalize_times(&self, t: SystemTime) -> io::Result<usize> {
        let times = fs::FileTimes::new().set_accessed(t).set_modified(t);
        let mut touched = 0;
        let pool_files = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(POOL_PREFIX))
            });
        // Transfers abandoned by fronts that died.
        self.backend.clean_up(&[])?;
        touched += self.backend.retouch_all(SEALED_SUFFIX, t)?;
        for path in pool_files {
            match File::open(&path) {
                Ok(f) => {
                    f.set_times(times)?;
                    touched += 1;
                }
                // Picked up (or taken from the pool) meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&self.dir)?.set_times(times)?;
        *self.last_pass.lock().unwrap_or_else(|p| p.into_inner()) = t;
        Ok(touched)
    }

    /// With `--expire-unpicked`: from now on every maintenance pass renews
    /// the file pool (see [`FilePool::renew`]), so that a sealed file's birth
    /// time dates its arrival to within one pass. Refuses a file system that
    /// records no birth time.
    pub fn count_ages_from_birth(&self, interval: Duration) -> io::Result<()> {
        if !self.backend.dates_by_birth_time() {
            // The object store dates each object itself, exactly.
            return Ok(());
        }
        let probe = self.dir.join(format!(
            "{PARTIAL_PREFIX}probe-{}{PARTIAL_SUFFIX}",
            random_hex(8)
        ));
        drop(create_new_private_file(&probe)?);
        let born = birth_time(&probe);
        fs::remove_file(&probe)?;
        born?;
        self.pool.set_age_limit(interval);
        self.pool.renew()?;
        self.renew_pool.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Deletes (unlink, then sync the folder) every sealed file born at least
    /// `older_than + interval` before `now`: born at a pass, it arrived
    /// within one interval after, so none goes before it waited `older_than`.
    /// Returns the files and bytes deleted.
    pub fn expire(
        &self,
        clock: &crate::clock::Clock,
        older_than: Duration,
        interval: Duration,
    ) -> io::Result<(usize, u64)> {
        // By the clock that dated the files: an object store's own, so that
        // a front whose clock runs ahead deletes nothing early.
        let now = clock.reading(self.backend.now()?);
        let (mut files, mut bytes) = (0, 0);
        for stored in self.backend.list(SEALED_SUFFIX)? {
            let Some(id) = SubmissionId::from_file_name(&stored.name) else {
                continue;
            };
            // A pool file may be taken up to a late pass's grace after
            // its interval (`pool::late_pass_grace`).
            let latest = match self
                .backend
                .latest_arrival(&stored, interval + pool::late_pass_grace(interval))
            {
                Ok(t) => t,
                // Picked up meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if now.duration_since(latest).unwrap_or_default() >= older_than {
                match self.remove_sealed(&id) {
                    Ok(()) => {
                        files += 1;
                        bytes += stored.size;
                    }
                    // Picked up meanwhile.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((files, bytes))
    }
}

/// Opens a stored file for reading without updating its access time
/// (O_NOATIME), so that reading a file back (its hash, a pickup download)
/// does not stamp it with the exact moment. Falls back to a plain open for a
/// file the server's user does not own (only the owner may ask for
/// O_NOATIME); the store's own files are always its own.
pub fn open_unseen(path: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOATIME | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(File::from(fd)),
        Err(rustix::io::Errno::PERM) => File::open(path),
        Err(e) => Err(e.into()),
    }
}

/// A file's birth time (statx btime); an error where the file system
/// records none.
pub fn birth_time(path: &Path) -> io::Result<SystemTime> {
    use rustix::fs::{statx, AtFlags, StatxFlags, CWD};
    let st = statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::BTIME)?;
    if !StatxFlags::from_bits_retain(st.stx_mask).contains(StatxFlags::BTIME) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system records no birth time (ext4, XFS, btrfs and tmpfs do)",
        ));
    }
    let since_epoch = Duration::new(
        u64::try_from(st.stx_btime.tv_sec).unwrap_or(0),
        st.stx_btime.tv_nsec,
    );
    Ok(SystemTime::UNIX_EPOCH + since_epoch)
}

/// Removes a partial file unless it was committed.
pub struct PartialGuard {
    path: Option<PathBuf>,
}

impl Drop for PartialGuard {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(&path);
            if let Some(dir) = path.parent() {
                let _ = sealdrop_format::fsutil::sync_dir(dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::io::Write;

    /// The folder's names without the (empty) pool files.
    fn not_pool(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(POOL_PREFIX))
            .collect()
    }

    fn private_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
        d
    }

    #[test]
    fn refuses_an_open_folder() {
        let d = private_dir();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o750)).unwrap();
        assert!(matches!(
            Store::open(d.path(), 0, None),
            Err(StoreError::TooOpen { .. })
        ));
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o703)).unwrap();
        assert!(matches!(
            Store::open(d.path(), 0, None),
            Err(StoreError::TooOpen { .. })
        ));
        assert!(matches!(
            Store::open(&d.path().join("nope"), 0, None),
            Err(StoreError::Missing(_))
        ));
    }

    /// An object store as a front sees it whose clock runs behind the
    /// front's: objects dated exactly by the store's clock (here: their
    /// modification time), and the store's "now" (the `Date` it answers).
    struct StoreBehind {
        folder: backend::Folder,
        store_now: SystemTime,
    }

    impl Backend for StoreBehind {
        fn describe(&self) -> String {
            self.folder.describe()
        }
        fn is_shared(&self) -> bool {
            true
        }
        fn child(&self, name: &str) -> io::Result<Box<dyn Backend>> {
            self.folder.child(name)
        }
        fn clean_up(&self, unfinished: &[String]) -> io::Result<usize> {
            self.folder.clean_up(unfinished)
        }
        fn list(&self, suffix: &str) -> io::Result<Vec<backend::Stored>> {
            self.folder.list(suffix)
        }
        fn commit(
            &self,
            spooled: Spooled,
            name: &str,
            times: SystemTime,
        ) -> io::Result<Option<[u8; 32]>> {
            self.folder.commit(spooled, name, times)
        }
        fn exists(&self, name: &str) -> io::Result<bool> {
            self.folder.exists(name)
        }
        fn read_small(&self, name: &str, max: u64) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
            self.folder.read_small(name, max)
        }
        fn sha256(&self, name: &str) -> io::Result<[u8; 32]> {
            self.folder.sha256(name)
        }
        fn download(
            &self,
            name: &str,
        ) -> futures_util::future::BoxFuture<'static, io::Result<Download>> {
            self.folder.download(name)
        }
        fn remove(&self, name: &str) -> io::Result<u64> {
            self.folder.remove(name)
        }
        fn latest_arrival(
            &self,
            stored: &backend::Stored,
            _interval: Duration,
        ) -> io::Result<SystemTime> {
            stored.kept.ok_or_else(|| io::Error::other("no time"))
        }
        fn dates_by_birth_time(&self) -> bool {
            false
        }
        fn retouch(&self, files: &[(String, SystemTime)], folder: SystemTime) -> io::Result<usize> {
            self.folder.retouch(files, folder)
        }
        fn replace_small(&self, name: &str, bytes: &[u8], times: SystemTime) -> io::Result<()> {
            self.folder.replace_small(name, bytes, times)
        }
        fn now(&self) -> io::Result<SystemTime> {
            Ok(self.store_now)
        }
    }

    /// A front whose clock runs two days ahead of the object store deletes
    /// nothing early: ages are counted against the store's clock.
    #[test]
    fn expiry_counts_against_the_object_stores_clock() {
        let d = private_dir();
        let day = Duration::from_secs(86_400);
        let store_now = SystemTime::now() - 2 * day;
        let backend = StoreBehind {
            folder: backend::Folder::new(d.path()),
            store_now,
        };
        let store = Store::open_counted(d.path(), 0, None, Arc::default(), Some(Box::new(backend)))
            .unwrap();
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(b"sealed").unwrap();
        // Created one day ago by the store's clock (three by the front's).
        let id = store.commit(f, guard, store_now - day).unwrap();
        let clock = crate::clock::Clock::default();
        let hour = Duration::from_secs(3600);
        assert_eq!(store.expire(&clock, 3 * day, hour).unwrap(), (0, 0));
        assert!(
            store.path_of(&id).exists(),
            "one day old by the store's clock"
        );
        // Two more days by the store's clock: now three days old.
        clock.set_ahead(2 * day);
        assert_eq!(store.expire(&clock, 3 * day, hour).unwrap().0, 1);
    }

    #[test]
    fn expiry_counts_from_birth_and_never_takes_a_file_early() {
        let d = private_dir();
        let store = Store::open(d.path(), 0, None).unwrap();
        let hour = Duration::from_secs(3600);
        store.count_ages_from_birth(hour).unwrap();
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(b"sealed").unwrap();
        let id = store.commit(f, guard, SystemTime::now()).unwrap();
        let born = birth_time(&store.path_of(&id)).unwrap();
        let day = 24 * hour;
        let clock = crate::clock::Clock::default();
        let at = |t: SystemTime| {
            clock.set_ahead(t.duration_since(SystemTime::now()).unwrap_or_default());
            &clock
        };
        // Born now: it may have arrived up to an interval (and a late pass's
        // grace) later, so it stays until a day, an interval and the grace
        // have passed since its birth.
        let latest = born + day + hour + pool::late_pass_grace(hour);
        let s5 = Duration::from_secs(5);
        assert_eq!(store.expire(at(latest - s5), day, hour).unwrap(), (0, 0));
        assert!(store.path_of(&id).exists());
        assert_eq!(store.expire(at(latest + s5), day, hour).unwrap(), (1, 6));
        assert!(!store.path_of(&id).exists());
        assert_eq!(store.stored_bytes(), 0);
    }

    #[test]
    fn partial_files_never_end_in_age_and_vanish_on_drop() {
        let d = private_dir();
        let store = Store::open(d.path(), 0, None).unwrap();
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(b"ciphertext").unwrap();
        let names = not_pool(d.path());
        assert_eq!(names.len(), 1);
        assert!(!names[0].ends_with(".age"));
        drop(guard);
        assert_eq!(not_pool(d.path()).len(), 0);
    }

    #[test]
    fn commit_renames_and_startup_cleans_leftovers() {
        let d = private_dir();
        let store = Store::open(d.path(), 0, None).unwrap();
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(b"sealed").unwrap();
        let coarse = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_043_200);
        let id = store.commit(f, guard, coarse).unwrap();
        let expected: [u8; 32] = Sha256::digest(b"sealed").into();
        assert_eq!(store.sealed_sha256(&id).unwrap(), expected);
        let path = d.path().join(format!("{id}.age"));
        assert_eq!(fs::read(&path).unwrap(), b"sealed");
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), coarse);
        assert_eq!(store.stored_bytes(), 6);
        // A crash leaves a partial file behind: the next start removes it.
        let (_f, guard) = store.create_partial().unwrap();
        std::mem::forget(guard);
        // One server per store folder: the next one opens it once this one
        // has closed it.
        assert!(matches!(
            Store::open(d.path(), 0, None),
            Err(StoreError::InUse(_))
        ));
        drop(store);
        let store = Store::open(d.path(), 0, None).unwrap();
        assert_eq!(store.sealed_files().unwrap().len(), 1);
        assert_eq!(not_pool(d.path()).len(), 1);
        assert_eq!(store.stored_bytes(), 6);
        assert_eq!(
            store.sealed_sha256(&id).unwrap(),
            expected,
            "recomputed after a restart"
        );
        assert_eq!(store.reserve(10).map(drop), Ok(()));
        drop(store);
        let store = Store::open(d.path(), 0, Some(10)).unwrap();
        assert_eq!(store.reserve(5).map(drop), Err(Full::Quota));
        store.remove_sealed(&id).unwrap();
        assert_eq!(store.stored_bytes(), 0);
        assert_eq!(store.reserve(5).map(drop), Ok(()));
        assert!(store.sealed_sha256(&id).is_err());
    }

    /// Uploads in flight hold room under the quota from admission: a
    /// reservation counts until dropped, and the committed file after.
    #[test]
    fn reservations_count_under_the_quota_until_given_back() {
        let d = private_dir();
        let store = Store::open(d.path(), 0, Some(100)).unwrap();
        let first = store.reserve(60).unwrap();
        assert_eq!(store.reserve(60).err(), Some(Full::Quota), "60 + 60 > 100");
        let second = store.reserve(40).unwrap();
        assert_eq!(store.reserve(1).map(drop), Err(Full::Quota));
        drop(second);
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(&[0; 50]).unwrap();
        store.commit(f, guard, SystemTime::UNIX_EPOCH).unwrap();
        drop(first);
        assert_eq!((store.stored_bytes(), store.usage().reserved()), (50, 0));
        assert!(store.reserve(50).is_ok());
        assert_eq!(store.reserve(51).err(), Some(Full::Quota));
    }
}
