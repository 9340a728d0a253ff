//! Where a store keeps what it holds once it is durable: the store folder
//! itself ([`Folder`]), or an object store shared by several fronts
//! ([`BucketBackend`], over [`super::bucket::Bucket`]). One is chosen at
//! start-up (`App::new`) and the rest of the store never asks which: the
//! sealed submissions ([`super::Store`]) and the replies
//! ([`super::replies::ReplyFolder`]) are written against [`Backend`].
//!
//! Whichever it is, a file arrives in the spool folder first (a pool file,
//! renamed, written, synced); [`Backend::commit`] then makes it durable
//! under its final name, and only then is anyone told it was stored.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Seek};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sealdrop_format::fsutil::{create_private_dir, read_up_to, rename_no_replace, sync_dir};
use zeroize::Zeroizing;

use super::bucket::Bucket;
use super::{birth_time, open_unseen, PartialGuard, PARTIAL_PREFIX, PARTIAL_SUFFIX, SENDING};

/// A stored file as a listing shows it.
pub struct Stored {
    pub name: String,
    pub size: u64,
    /// The time it keeps: the coarse time written on it (a folder), or when
    /// the object store made it (exact: the store records it).
    pub kept: Option<SystemTime>,
}

/// A finished file in the spool folder, with the guard that removes it
/// unless it is committed.
pub struct Spooled<'a> {
    pub spool: &'a Path,
    pub guard: &'a mut PartialGuard,
    pub file: File,
}

/// A stored file's bytes as a stream, with its length (for pickup).
pub type Download = (u64, BoxStream<'static, io::Result<Bytes>>);

pub trait Backend: Send + Sync {
    /// Where, for messages and logs.
    fn describe(&self) -> String;

    /// Whether other fronts store and delete here too, so that counts kept
    /// by this process (the quota's) must be taken again from the listing.
    fn is_shared(&self) -> bool;

    /// The place named `name` under this one (a desk's, the replies'); a
    /// folder is made (mode 0700) if missing.
    fn child(&self, name: &str) -> io::Result<Box<dyn Backend>>;

    /// Clean-up of what a crash or an abandoned transfer left: at start-up
    /// with the names this front was sending when it died, and at every
    /// maintenance pass with none. Returns how many things it removed.
    fn clean_up(&self, unfinished: &[String]) -> io::Result<usize>;

    /// The stored files whose names end in `suffix`.
    fn list(&self, suffix: &str) -> io::Result<Vec<Stored>>;

    /// Makes a finished spool file durable as `name`, with `times` as its
    /// access and change times where the backend keeps ours. What its guard
    /// still holds when this returns is a spool file nobody needs any more
    /// (the caller drops the guard, which removes it). Returns the bytes'
    /// SHA-256 when the transfer computed it on the way.
    fn commit(
        &self,
        spooled: Spooled,
        name: &str,
        times: SystemTime,
    ) -> io::Result<Option<[u8; 32]>>;

    fn exists(&self, name: &str) -> io::Result<bool>;

    /// A small stored file's bytes, at most `max` (a reply file).
    fn read_small(&self, name: &str, max: u64) -> io::Result<Zeroizing<Vec<u8>>>;

    /// SHA-256 of a stored file's bytes (blocking: may read all of it).
    fn sha256(&self, name: &str) -> io::Result<[u8; 32]>;

    /// A stored file, streamed (async).
    fn download(&self, name: &str) -> BoxFuture<'static, io::Result<Download>>;

    /// Deletes a stored file for good; its length. NotFound if it is gone.
    fn remove(&self, name: &str) -> io::Result<u64>;

    /// The latest moment `stored` can have arrived, for expiry that must
    /// never come early: a folder dates a file by its birth time (a pool
    /// file made at a pass and taken within `interval` after it); an object
    /// store knows the moment exactly.
    fn latest_arrival(&self, stored: &Stored, interval: Duration) -> io::Result<SystemTime>;

    /// Whether arrivals are dated by file birth times, which the spool's
    /// pool must then renew at every pass (`--expire-unpicked`).
    fn dates_by_birth_time(&self) -> bool;

    /// Sets each file's access and modification times again to the given
    /// time, so that its change time becomes this pass's; the folder itself
    /// gets `folder`. An object store keeps its own times: nothing to do.
    fn retouch(&self, files: &[(String, SystemTime)], folder: SystemTime) -> io::Result<usize>;

    /// Stores a small file whole under `name`, replacing what was there
    /// (the reply folder's tombstones); `times` as for [`Backend::commit`].
    fn replace_small(&self, name: &str, bytes: &[u8], times: SystemTime) -> io::Result<()>;

    /// The time by the clock that dates stored files: this machine's for a
    /// folder, the object store's own (the `Date` of its answer) for a
    /// bucket, so that an age is never counted against a front's clock
    /// running ahead of the store's.
    fn now(&self) -> io::Result<SystemTime> {
        Ok(SystemTime::now())
    }

    /// `retouch` of every file ending in `suffix`, and the folder, to `t`.
    fn retouch_all(&self, suffix: &str, t: SystemTime) -> io::Result<usize> {
        let files: Vec<(String, SystemTime)> = self
            .list(suffix)?
            .into_iter()
            .map(|s| (s.name, t))
            .collect();
        self.retouch(&files, t)
    }
}

/// The store folder itself.
pub struct Folder {
    dir: PathBuf,
    /// SHA-256 of stored files by name, for pickup listings: computed once
    /// (a file never changes), forgotten when it is removed.
    hashes: Mutex<HashMap<String, [u8; 32]>>,
}

impl Folder {
    pub fn new(dir: &Path) -> Folder {
        Folder {
            dir: dir.to_owned(),
            hashes: Mutex::default(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Backend for Folder {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn is_shared(&self) -> bool {
        false
    }

    fn child(&self, name: &str) -> io::Result<Box<dyn Backend>> {
        let dir = self.dir.join(name);
        match create_private_dir(&dir) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(e),
        }
        Ok(Box::new(Folder::new(&dir)))
    }

    fn clean_up(&self, _unfinished: &[String]) -> io::Result<usize> {
        // The spool is this folder: the store removes partial files itself.
        Ok(0)
    }

    fn list(&self, suffix: &str) -> io::Result<Vec<Stored>> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(suffix) || name.starts_with('.') {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                // Removed meanwhile (picked up, expired).
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            files.push(Stored {
                name,
                size: meta.len(),
                kept: meta.modified().ok(),
            });
        }
        Ok(files)
    }

    fn commit(
        &self,
        spooled: Spooled,
        name: &str,
        times: SystemTime,
    ) -> io::Result<Option<[u8; 32]>> {
        let Spooled { spool, guard, file } = spooled;
        file.set_times(fs::FileTimes::new().set_accessed(times).set_modified(times))?;
        file.sync_all()?;
        drop(file);
        let partial = guard
            .path
            .clone()
            .expect("guard holds a path until committed");
        rename_no_replace(&partial, &self.path(name))?;
        guard.path = None;
        sync_dir(&self.dir)?;
        if spool != self.dir {
            sync_dir(spool)?;
        }
        Ok(None)
    }

    fn exists(&self, name: &str) -> io::Result<bool> {
        Ok(self.path(name).exists())
    }

    fn read_small(&self, name: &str, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
        let mut file = open_unseen(&self.path(name))?;
        let len = file.metadata()?.len().min(max);
        let mut bytes = Zeroizing::new(vec![0u8; len as usize]);
        let got = read_up_to(&mut file, &mut bytes)?;
        bytes.truncate(got);
        Ok(bytes)
    }

    fn sha256(&self, name: &str) -> io::Result<[u8; 32]> {
        let path = self.path(name);
        if let Some(hash) = lock(&self.hashes).get(name) {
            // Removed meanwhile by another pickup: not an answer.
            if path.exists() {
                return Ok(*hash);
            }
        }
        let hash = sealdrop_format::fsutil::sha256_of(open_unseen(&path)?)?;
        lock(&self.hashes).insert(name.to_owned(), hash);
        Ok(hash)
    }

    fn download(&self, name: &str) -> BoxFuture<'static, io::Result<Download>> {
        use futures_util::{FutureExt, StreamExt};
        let path = self.path(name);
        async move {
            let file = tokio::fs::File::from_std(open_unseen(&path)?);
            let len = file.metadata().await?.len();
            let stream = futures_util::stream::unfold(file, |mut file| async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 64 * 1024];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), file))
                    }
                    Err(e) => Some((Err(e), file)),
                }
            });
            Ok((len, stream.boxed()))
        }
        .boxed()
    }

    fn remove(&self, name: &str) -> io::Result<u64> {
        let path = self.path(name);
        let len = fs::metadata(&path)?.len();
        fs::remove_file(&path)?;
        sync_dir(&self.dir)?;
        lock(&self.hashes).remove(name);
        Ok(len)
    }

    fn latest_arrival(&self, stored: &Stored, interval: Duration) -> io::Result<SystemTime> {
        Ok(birth_time(&self.path(&stored.name))? + interval)
    }

    /// A new file beside it, fsynced, renamed over it; the folder's own
    /// times set back to `times` (the pass's).
    fn replace_small(&self, name: &str, bytes: &[u8], times: SystemTime) -> io::Result<()> {
        use std::io::Write;
        let temporary = self.dir.join(format!(
            "{PARTIAL_PREFIX}{}{PARTIAL_SUFFIX}",
            sealdrop_format::id::random_hex(16)
        ));
        let mut file = sealdrop_format::fsutil::create_new_private_file(&temporary)?;
        let written = file
            .write_all(bytes)
            .and_then(|()| {
                file.set_times(fs::FileTimes::new().set_accessed(times).set_modified(times))
            })
            .and_then(|()| file.sync_all())
            .and_then(|()| fs::rename(&temporary, self.path(name)));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written?;
        sync_dir(&self.dir)?;
        File::open(&self.dir)?
            .set_times(fs::FileTimes::new().set_accessed(times).set_modified(times))
    }

    fn dates_by_birth_time(&self) -> bool {
        true
    }

    fn retouch(&self, files: &[(String, SystemTime)], folder: SystemTime) -> io::Result<usize> {
        let mut touched = 0;
        for (name, t) in files {
            match File::open(self.path(name)) {
                Ok(f) => {
                    f.set_times(fs::FileTimes::new().set_accessed(*t).set_modified(*t))?;
                    touched += 1;
                }
                // Picked up, expired or deleted meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&self.dir)?.set_times(
            fs::FileTimes::new()
                .set_accessed(folder)
                .set_modified(folder),
        )?;
        Ok(touched)
    }
}

/// An object store's bucket (under a prefix), shared by every front.
pub struct BucketBackend {
    bucket: Bucket,
    /// SHA-256 of objects by name: objects never change, so an entry is
    /// only ever stale for an object that is gone (picked up elsewhere).
    hashes: Mutex<HashMap<String, [u8; 32]>>,
}

impl BucketBackend {
    pub fn new(bucket: Bucket) -> BucketBackend {
        BucketBackend {
            bucket,
            hashes: Mutex::default(),
        }
    }
}

impl Backend for BucketBackend {
    fn describe(&self) -> String {
        self.bucket.describe()
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn child(&self, name: &str) -> io::Result<Box<dyn Backend>> {
        Ok(Box::new(BucketBackend::new(self.bucket.child(name))))
    }

    fn clean_up(&self, unfinished: &[String]) -> io::Result<usize> {
        self.bucket.abort_incomplete(unfinished, SystemTime::now())
    }

    fn list(&self, suffix: &str) -> io::Result<Vec<Stored>> {
        Ok(self
            .bucket
            .list()?
            .into_iter()
            .filter(|o| o.name.ends_with(suffix))
            .map(|o| Stored {
                name: o.name,
                size: o.size,
                kept: Some(o.created),
            })
            .collect())
    }

    /// The spool file is renamed after the object first, so that if this
    /// process dies during the transfer, its next start aborts the
    /// incomplete upload ([`Backend::clean_up`]).
    fn commit(
        &self,
        spooled: Spooled,
        name: &str,
        _times: SystemTime,
    ) -> io::Result<Option<[u8; 32]>> {
        let Spooled {
            spool,
            guard,
            mut file,
        } = spooled;
        let len = file.metadata()?.len();
        let named = spool.join(format!("{PARTIAL_PREFIX}{SENDING}{name}{PARTIAL_SUFFIX}"));
        let partial = guard
            .path
            .take()
            .expect("guard holds a path until committed");
        match rename_no_replace(&partial, &named) {
            Ok(()) => guard.path = Some(named),
            Err(e) => {
                guard.path = Some(partial);
                return Err(e);
            }
        }
        file.seek(io::SeekFrom::Start(0))?;
        let hash = self.bucket.put_file(name, &mut file, len)?;
        lock(&self.hashes).insert(name.to_owned(), hash);
        // The spool file goes: the object holds it all.
        drop(file);
        Ok(Some(hash))
    }

    fn exists(&self, name: &str) -> io::Result<bool> {
        self.bucket.exists(name)
    }

    fn read_small(&self, name: &str, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
        self.bucket.get_bytes(name, max).map(Zeroizing::new)
    }

    fn sha256(&self, name: &str) -> io::Result<[u8; 32]> {
        if let Some(hash) = lock(&self.hashes).get(name) {
            return Ok(*hash);
        }
        let hash = self.bucket.sha256_of(name)?;
        lock(&self.hashes).insert(name.to_owned(), hash);
        Ok(hash)
    }

    fn download(&self, name: &str) -> BoxFuture<'static, io::Result<Download>> {
        let bucket = self.bucket.clone();
        let name = name.to_owned();
        Box::pin(async move { bucket.stream(&name).await })
    }

    fn remove(&self, name: &str) -> io::Result<u64> {
        let len = self.bucket.size_of(name)?;
        self.bucket.delete(name)?;
        lock(&self.hashes).remove(name);
        Ok(len)
    }

    fn latest_arrival(&self, stored: &Stored, _interval: Duration) -> io::Result<SystemTime> {
        stored
            .kept
            .ok_or_else(|| io::Error::other("the object store gave no creation time"))
    }

    fn dates_by_birth_time(&self) -> bool {
        false
    }

    fn retouch(&self, _files: &[(String, SystemTime)], _folder: SystemTime) -> io::Result<usize> {
        Ok(0)
    }

    fn replace_small(&self, name: &str, bytes: &[u8], _times: SystemTime) -> io::Result<()> {
        self.bucket.put_bytes(name, bytes.to_vec())
    }

    fn now(&self) -> io::Result<SystemTime> {
        self.bucket.clock()
    }

    /// Nothing to list: an object store keeps its own times.
    fn retouch_all(&self, _suffix: &str, _t: SystemTime) -> io::Result<usize> {
        Ok(0)
    }
}
