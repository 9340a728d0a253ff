//! The store folder: sealed files only, written atomically.
//!
//! A submission is written to `.incoming-<random>.partial` (a name that never ends
//! in `.age`), synced, renamed to `<id>.age`, and the folder synced, before the
//! source is told it was received. A guard removes the partial file on every
//! failure path, including a client that disconnects; start-up removes what a
//! crash left.
//!
//! With an object store (`bucket`), the folder is only the spool: the
//! partial file is written the same way, then sent to the bucket as one
//! object, and the source is told only once the bucket has accepted it all.

pub mod bucket;
mod partial;
mod pool;
pub mod replies;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bucket::Bucket;
use partial::Flusher;
pub use partial::PartialFile;
use pool::{FilePool, POOL_PREFIX};
use sealdrop_format::fsutil::create_new_private_file;
use sealdrop_format::id::{random_hex, SubmissionId};

/// Empty files kept ready for uploads (see `pool`): enough for this many
/// uploads between two maintenance passes before a batch refill.
const POOL_SIZE: usize = 64;

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
}

/// Why the store cannot take an upload right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Free disk space is below the configured floor.
    Disk,
    /// The store quota is reached.
    Quota,
}

pub struct Store {
    dir: PathBuf,
    min_free_bytes: u64,
    quota: Option<u64>,
    /// Bytes of sealed files, kept up to date as files arrive or leave; one
    /// count for every desk's folder, which the quota applies to.
    stored_bytes: Arc<AtomicU64>,
    /// SHA-256 of sealed files (ciphertext), by file name, for pickup: computed
    /// in the background right after a commit (off the source's critical path),
    /// or on first request for files from before a restart.
    hashes: Mutex<HashMap<SubmissionId, [u8; 32]>>,
    flusher: Flusher,
    pool: FilePool,
    /// Whether each pass renews the pool (`count_ages_from_birth`).
    renew_pool: AtomicBool,
    /// Where sealed files are kept when the store is an object store; the
    /// folder then only spools uploads in progress.
    bucket: Option<Bucket>,
}

impl Store {
    /// Checks the folder and removes partial files left by a crash.
    pub fn open(dir: &Path, min_free_bytes: u64, quota: Option<u64>) -> Result<Store, StoreError> {
        Store::open_counted(dir, min_free_bytes, quota, Arc::default(), None)
    }

    /// `open`, adding this store's sealed bytes to `stored_bytes`, a count
    /// shared with other stores (the desks') under one quota. With `bucket`,
    /// sealed files go there and `dir` is the spool.
    pub fn open_counted(
        dir: &Path,
        min_free_bytes: u64,
        quota: Option<u64>,
        stored_bytes: Arc<AtomicU64>,
        bucket: Option<Bucket>,
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

        let store = Store {
            dir: dir.to_owned(),
            min_free_bytes,
            quota,
            stored_bytes,
            hashes: Mutex::new(HashMap::new()),
            flusher: Flusher::start().map_err(io_err)?,
            pool: FilePool::open(dir, POOL_SIZE).map_err(io_err)?,
            renew_pool: AtomicBool::new(false),
            bucket,
        };
        if let Some(bucket) = &store.bucket {
            // A commit this front could not finish (killed during the
            // transfer) left its spool file named after the object.
            let unfinished = store.unfinished_commits().map_err(io_err)?;
            let aborted = bucket
                .abort_incomplete(&unfinished, SystemTime::now())
                .map_err(io_err)?;
            if aborted > 0 {
                tracing::info!(
                    "{aborted} incomplete uploads aborted in {}",
                    bucket.describe()
                );
            }
        }
        store.remove_partials().map_err(io_err)?;
        let total = store.sealed_bytes().map_err(io_err)?;
        store.stored_bytes.fetch_add(total, Ordering::Relaxed);
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where sealed files are kept, for messages: the folder or the bucket.
    pub fn describe(&self) -> String {
        match &self.bucket {
            Some(bucket) => bucket.describe(),
            None => self.dir.display().to_string(),
        }
    }

    /// The bucket sealed files go to, if the store is an object store.
    pub fn bucket(&self) -> Option<&Bucket> {
        self.bucket.as_ref()
    }

    /// Objects named by spool files of commits that did not finish.
    fn unfinished_commits(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_prefix(PARTIAL_PREFIX)
                .and_then(|n| n.strip_prefix(SENDING))
                .and_then(|n| n.strip_suffix(PARTIAL_SUFFIX))
                .and_then(SubmissionId::parse)
            {
                names.push(id.file_name());
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
        if let Some(bucket) = &self.bucket {
            let mut files: Vec<_> = bucket
                .list()?
                .into_iter()
                .filter_map(|o| Some((SubmissionId::from_file_name(&o.name)?, o.size)))
                .collect();
            files.sort();
            return Ok(files);
        }
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if let Some(id) = SubmissionId::from_file_name(&entry.file_name().to_string_lossy()) {
                files.push((id, entry.metadata()?.len()));
            }
        }
        files.sort();
        Ok(files)
    }

    /// Bytes of this store's sealed files, counted afresh.
    pub fn sealed_bytes(&self) -> io::Result<u64> {
        Ok(self.sealed_files()?.iter().map(|(_, len)| len).sum())
    }

    pub fn stored_bytes(&self) -> u64 {
        self.stored_bytes.load(Ordering::Relaxed)
    }

    /// Sets the count shared by every desk's store: with an object store,
    /// the maintenance pass counts again what every front stored.
    pub fn set_stored_bytes(&self, total: u64) {
        self.stored_bytes.store(total, Ordering::Relaxed);
    }

    /// Whether `more` bytes can still be written without crossing the disk
    /// floor or the quota.
    pub fn check_capacity(&self, more: u64) -> Result<(), Full> {
        if let Some(quota) = self.quota {
            if self.stored_bytes().saturating_add(more) > quota {
                return Err(Full::Quota);
            }
        }
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
    pub fn commit(
        &self,
        written: PartialFile,
        mut guard: PartialGuard,
        coarse_time: SystemTime,
    ) -> io::Result<SubmissionId> {
        if let Some(bucket) = &self.bucket {
            return self.commit_to_bucket(bucket, written, guard);
        }
        let file = written.into_file();
        let times = fs::FileTimes::new()
            .set_accessed(coarse_time)
            .set_modified(coarse_time);
        file.set_times(times)?;
        file.sync_all()?;
        let len = file.metadata()?.len();
        drop(file);
        let partial = guard
            .path
            .clone()
            .expect("guard holds a path until committed");
        let id = SubmissionId::random();
        let final_path = self.path_of(&id);
        sealdrop_format::fsutil::rename_no_replace(&partial, &final_path)?;
        guard.path = None;
        self.sync_dir()?;
        self.stored_bytes.fetch_add(len, Ordering::Relaxed);
        Ok(id)
    }

    /// Sends a finished spool file to the bucket as `<id>.age`; the source
    /// is told once the bucket has all of it. The spool file is renamed
    /// after the object first, so that if this process dies during the
    /// transfer, its next start aborts the incomplete upload.
    fn commit_to_bucket(
        &self,
        bucket: &Bucket,
        written: PartialFile,
        mut guard: PartialGuard,
    ) -> io::Result<SubmissionId> {
        use std::io::Seek;
        let mut file = written.into_file();
        let len = file.metadata()?.len();
        let id = SubmissionId::random();
        let named = self.dir.join(format!(
            "{PARTIAL_PREFIX}{SENDING}{}{PARTIAL_SUFFIX}",
            id.as_str()
        ));
        let partial = guard
            .path
            .take()
            .expect("guard holds a path until committed");
        match sealdrop_format::fsutil::rename_no_replace(&partial, &named) {
            Ok(()) => guard.path = Some(named),
            Err(e) => {
                guard.path = Some(partial);
                return Err(e);
            }
        }
        file.seek(io::SeekFrom::Start(0))?;
        let hash = bucket.put_file(&id.file_name(), &mut file, len)?;
        drop(file);
        drop(guard);
        self.stored_bytes.fetch_add(len, Ordering::Relaxed);
        self.lock_hashes().insert(id.clone(), hash);
        Ok(id)
    }

    fn lock_hashes(&self) -> std::sync::MutexGuard<'_, HashMap<SubmissionId, [u8; 32]>> {
        self.hashes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// SHA-256 of a sealed file's bytes (blocking: may read the whole file).
    pub fn sealed_sha256(&self, id: &SubmissionId) -> io::Result<[u8; 32]> {
        if let Some(bucket) = &self.bucket {
            // Objects never change; a stale entry (picked up through
            // another front) only answers for an object that is gone.
            if let Some(hash) = self.lock_hashes().get(id) {
                return Ok(*hash);
            }
            let hash = bucket.sha256_of(&id.file_name())?;
            self.lock_hashes().insert(id.clone(), hash);
            return Ok(hash);
        }
        let path = self.path_of(id);
        if let Some(hash) = self.lock_hashes().get(id) {
            // The file may have been removed by another pickup meanwhile.
            if path.exists() {
                return Ok(*hash);
            }
        }
        let hash = sealdrop_format::fsutil::sha256_of(open_unseen(&path)?)?;
        self.lock_hashes().insert(id.clone(), hash);
        Ok(hash)
    }

    /// Whether sealed submission `id` is in this store (blocking).
    pub fn holds(&self, id: &SubmissionId) -> io::Result<bool> {
        match &self.bucket {
            Some(bucket) => bucket.exists(&id.file_name()),
            None => Ok(self.path_of(id).exists()),
        }
    }

    /// A sealed submission's length and bytes, streamed (for pickup).
    pub async fn read_sealed(
        &self,
        id: &SubmissionId,
    ) -> io::Result<(
        u64,
        futures_util::stream::BoxStream<'static, io::Result<bytes::Bytes>>,
    )> {
        use futures_util::StreamExt;
        if let Some(bucket) = &self.bucket {
            return bucket.stream(&id.file_name()).await;
        }
        let file = tokio::fs::File::from_std(open_unseen(&self.path_of(id))?);
        let len = file.metadata().await?.len();
        let stream = futures_util::stream::unfold(file, |mut file| async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        });
        Ok((len, stream.boxed()))
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
        let len = match &self.bucket {
            Some(bucket) => {
                let len = bucket.size_of(&id.file_name())?;
                bucket.delete(&id.file_name())?;
                len
            }
            None => {
                let path = self.path_of(id);
                let len = fs::metadata(&path)?.len();
                fs::remove_file(&path)?;
                self.sync_dir()?;
                len
            }
        };
        self.lock_hashes().remove(id);
        let _ = self
            .stored_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(len))
            });
        Ok(())
    }

    /// The maintenance pass: refills the file pool (new files get this
    /// pass's birth time), then sets the access and modification times of
    /// every sealed file, pool file and the folder to `t`. The kernel stamps
    /// the change time with "now" as it does so, which overwrites the exact
    /// arrival time it held since the last pass. Returns the files touched.
    pub fn normalize_times(&self, t: SystemTime) -> io::Result<usize> {
        if self.renew_pool.load(Ordering::Relaxed) {
            self.pool.renew()?;
        } else {
            self.pool.refill()?;
        }
        let times = fs::FileTimes::new().set_accessed(t).set_modified(t);
        let mut touched = 0;
        let pool_files = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(POOL_PREFIX))
            });
        let sealed: Vec<PathBuf> = match &self.bucket {
            // An object store keeps its own times; what this pass can do
            // there is abort uploads abandoned by fronts that died.
            Some(bucket) => {
                bucket.abort_incomplete(&[], SystemTime::now())?;
                Vec::new()
            }
            None => self
                .sealed_files()?
                .iter()
                .map(|(id, _)| self.path_of(id))
                .collect(),
        };
        for path in sealed.into_iter().chain(pool_files) {
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
        Ok(touched)
    }

    /// With `--expire-unpicked`: from now on every maintenance pass renews
    /// the file pool (see [`FilePool::renew`]), so that a sealed file's birth
    /// time dates its arrival to within one pass. Refuses a file system that
    /// records no birth time.
    pub fn count_ages_from_birth(&self) -> io::Result<()> {
        if self.bucket.is_some() {
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
        now: SystemTime,
        older_than: Duration,
        interval: Duration,
    ) -> io::Result<(usize, u64)> {
        let (mut files, mut bytes) = (0, 0);
        if let Some(bucket) = &self.bucket {
            for object in bucket.list()? {
                let Some(id) = SubmissionId::from_file_name(&object.name) else {
                    continue;
                };
                let age = now.duration_since(object.created).unwrap_or_default();
                if age >= older_than {
                    match self.remove_sealed(&id) {
                        Ok(()) => {
                            files += 1;
                            bytes += object.size;
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            return Ok((files, bytes));
        }
        for (id, len) in self.sealed_files()? {
            let born = match birth_time(&self.path_of(&id)) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let age = now.duration_since(born).unwrap_or_default();
            if age >= older_than.saturating_add(interval) {
                match self.remove_sealed(&id) {
                    Ok(()) => {
                        files += 1;
                        bytes += len;
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

    #[test]
    fn expiry_counts_from_birth_and_never_takes_a_file_early() {
        let d = private_dir();
        let store = Store::open(d.path(), 0, None).unwrap();
        store.count_ages_from_birth().unwrap();
        let (mut f, guard) = store.create_partial().unwrap();
        f.write_all(b"sealed").unwrap();
        let id = store.commit(f, guard, SystemTime::now()).unwrap();
        let born = birth_time(&store.path_of(&id)).unwrap();
        let hour = Duration::from_secs(3600);
        let day = 24 * hour;
        // Born now: it may have arrived up to an interval later, so it stays
        // until a day and an interval have passed since its birth.
        assert_eq!(store.expire(born + day, day, hour).unwrap(), (0, 0));
        assert!(store.path_of(&id).exists());
        assert_eq!(store.expire(born + day + hour, day, hour).unwrap(), (1, 6));
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
        let store = Store::open(d.path(), 0, None).unwrap();
        assert_eq!(store.sealed_files().unwrap().len(), 1);
        assert_eq!(not_pool(d.path()).len(), 1);
        assert_eq!(store.stored_bytes(), 6);
        assert_eq!(
            store.sealed_sha256(&id).unwrap(),
            expected,
            "recomputed after a restart"
        );
        assert_eq!(store.check_capacity(10), Ok(()));
        let store = Store::open(d.path(), 0, Some(10)).unwrap();
        assert_eq!(store.check_capacity(5), Err(Full::Quota));
        store.remove_sealed(&id).unwrap();
        assert_eq!(store.stored_bytes(), 0);
        assert_eq!(store.check_capacity(5), Ok(()));
        assert!(store.sealed_sha256(&id).is_err());
    }
}
