//! The replies folder of the store (`STORE/replies/`): reply files that
//! editors pushed through the pickup API, waiting for their source.
//!
//! The folder keeps no index and no owner: a file is named after a hash of
//! its own bytes (so pushing it twice stores it once), and whose it is can
//! only be found by trying a codename's keys on every file. Its times say
//! only the day it arrived (`granularity`), and it is removed after the
//! retention, plus a jitter that is never written down.
//!
//! With an object store the replies are objects under `PREFIX/replies/`,
//! so that a source finds a reply whichever front she reaches; the store
//! then keeps each one's exact arrival time (SECURITY.md).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::backend::{Backend, Spooled};
use super::{PartialGuard, Store, Usage, PARTIAL_PREFIX, PARTIAL_SUFFIX};
use sealdrop_format::id::random_hex;
use sealdrop_format::reply::file::{self, Reply, HEADER_PROBE, REPLY_FILE_LEN};

/// The folder's name inside the store.
pub const REPLIES_DIR: &str = "replies";
/// The ending of a stored reply file (not `.age`: in the store, only
/// submissions end in `.age`).
pub const REPLY_SUFFIX: &str = ".reply";
/// The coarsest time a reply file keeps: the day it arrived.
const MAX_GRANULARITY: Duration = Duration::from_secs(86_400);

/// What became of a pushed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    Stored(String),
    /// The same file was pushed before; nothing changed.
    AlreadyThere(String),
}

/// A reply that opened with a codename's keys.
pub struct Found {
    /// Its name in the folder (or bucket).
    pub name: String,
    pub reply: Reply,
}

pub struct ReplyFolder {
    dir: PathBuf,
    retention: Duration,
    granularity: Duration,
    /// Keys the per-file expiry jitter; lives only in memory, so nothing on
    /// disk tells when a file will go.
    jitter_key: Zeroizing<[u8; 32]>,
    /// Where the replies are: the folder, or the object store's `replies/`.
    backend: Box<dyn Backend>,
    /// Replies count under `--store-quota` with the sealed files.
    usage: Arc<Usage>,
}

impl ReplyFolder {
    /// The replies folder of `store` (created, mode 0700, if missing).
    pub fn open(store: &Store, retention: Duration) -> io::Result<ReplyFolder> {
        let dir = store.dir().join(REPLIES_DIR);
        let backend = store.backend().child(REPLIES_DIR)?;
        let mut jitter_key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut jitter_key[..]);
        let folder = ReplyFolder {
            dir,
            retention,
            granularity: (retention / 8).clamp(Duration::from_secs(1), MAX_GRANULARITY),
            jitter_key,
            backend,
            usage: store.usage().clone(),
        };
        folder.usage.add_stored(folder.bytes()?);
        Ok(folder)
    }

    /// Bytes the stored replies take (what the quota counts).
    pub fn bytes(&self) -> io::Result<u64> {
        Ok(self.count()? as u64 * REPLY_FILE_LEN as u64)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored replies, by name, with the time each keeps.
    fn files(&self) -> io::Result<Vec<(String, Option<SystemTime>)>> {
        Ok(self
            .backend
            .list(REPLY_SUFFIX)?
            .into_iter()
            .map(|s| (s.name, s.kept))
            .collect())
    }

    /// How many replies are stored.
    pub fn count(&self) -> io::Result<usize> {
        Ok(self.files()?.len())
    }

    /// Stores a pushed reply durably (blocking). The caller has checked its
    /// shape (`reply::file::check_shape`).
    pub fn put(&self, store: &Store, bytes: &[u8]) -> io::Result<Put> {
        let digest = Sha256::digest(bytes);
        let name = format!(
            "{}{REPLY_SUFFIX}",
            sealdrop_format::hex::encode(&digest[..16])
        );
        if self.backend.exists(&name)? {
            return Ok(Put::AlreadyThere(name));
        }
        // A pool file, so that in a folder the reply's birth time is that
        // of a refill; its times say only the day it arrived.
        let partial = store.dir().join(format!(
            "{PARTIAL_PREFIX}{}{PARTIAL_SUFFIX}",
            random_hex(16)
        ));
        store.pool.take(&partial)?;
        let mut guard = PartialGuard {
            path: Some(partial.clone()),
        };
        let mut out = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&partial)?;
        out.write_all(bytes)?;
        let arrived =
            sealdrop_format::seal::coarse_time(SystemTime::now(), self.granularity.as_secs());
        let spooled = Spooled {
            spool: store.dir(),
            guard: &mut guard,
            file: out,
        };
        match self
            .backend
            .commit(spooled, &name, SystemTime::from(arrived))
        {
            Ok(_) => {
                self.usage.add_stored(REPLY_FILE_LEN as u64);
                Ok(Put::Stored(name))
            }
            // A concurrent push of the same file won: the guard removes ours.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Put::AlreadyThere(name)),
            Err(e) => Err(e),
        }
    }

    /// Every reply that opens with `identities`, trying them on every file
    /// (blocking). The work is the same whoever asks: one key agreement per
    /// file on its header; only the files that open are read further.
    pub fn find<'a>(
        &self,
        identities: impl Iterator<Item = &'a dyn age::Identity> + Clone,
    ) -> io::Result<Vec<Found>> {
        let mut found = Vec::new();
        for (name, _) in self.files()? {
            // Every file is read whole whoever asks: the same work for
            // everyone (and one request each from an object store).
            let whole = match self.backend.read_small(&name, REPLY_FILE_LEN as u64) {
                Ok(bytes) => bytes,
                // Removed meanwhile (expired, or deleted by its source).
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if !file::is_for(&whole[..whole.len().min(HEADER_PROBE)], identities.clone()) {
                continue;
            }
            if let Ok(Some(reply)) = file::open(&whole, identities.clone()) {
                found.push(Found { name, reply });
            }
        }
        Ok(found)
    }

    /// Removes replies for good (unlink, then sync the folder).
    pub fn remove(&self, names: &[String]) -> io::Result<usize> {
        let mut removed = 0;
        for name in names {
            match self.backend.remove(name) {
                Ok(_) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    self.usage
                        .remove_stored(removed as u64 * REPLY_FILE_LEN as u64);
                    return Err(e);
                }
            }
        }
        self.usage
            .remove_stored(removed as u64 * REPLY_FILE_LEN as u64);
        Ok(removed)
    }

    /// When a file stored with times `kept` goes: after the retention, counted
    /// from the end of its arrival period, plus its jitter.
    fn expiry(&self, name: &str, kept: SystemTime) -> SystemTime {
        let spread = (self.retention / 8).as_secs().max(1);
        let mut h = Sha256::new();
        h.update(&self.jitter_key[..]);
        h.update(name.as_bytes());
        let digest = h.finalize();
        let jitter = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")) % spread;
        kept + self.granularity + self.retention + Duration::from_secs(jitter)
    }

    /// The maintenance pass (blocking): removes the replies past their
    /// expiry, and re-sets the others' times to the coarse arrival they
    /// keep, so that their change times become this pass's; the folder's
    /// times become `pass`. Returns how many were removed.
    pub fn maintain(&self, now: SystemTime, pass: SystemTime) -> io::Result<usize> {
        let mut expired = Vec::new();
        let mut kept_times = Vec::new();
        for (name, kept) in self.files()? {
            let Some(kept) = kept else {
                continue;
            };
            if now >= self.expiry(&name, kept) {
                expired.push(name);
            } else {
                kept_times.push((name, kept));
            }
        }
        let removed = if expired.is_empty() {
            0
        } else {
            self.remove(&expired)?
        };
        self.backend.retouch(&kept_times, pass)?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdrop_format::keys::RecipientKind;
    use sealdrop_format::reply::{keys, Codename};
    use std::os::unix::fs::PermissionsExt;

    fn store() -> (tempfile::TempDir, Store) {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let store = Store::open(d.path(), 0, None).unwrap();
        (d, store)
    }

    fn reply_for(codename: &Codename, text: &str) -> Vec<u8> {
        file::seal(
            &keys::recipient(codename, RecipientKind::Classic),
            keys::thread(codename),
            time::OffsetDateTime::now_utc(),
            text,
        )
        .unwrap()
    }

    #[test]
    fn replies_are_stored_once_found_by_their_keys_only_and_removed() {
        let (_d, store) = store();
        let folder = ReplyFolder::open(&store, Duration::from_secs(30 * 86_400)).unwrap();
        let (alice, bob) = (Codename::generate(), Codename::generate());
        let first = reply_for(&alice, "one");
        let name = match folder.put(&store, &first).unwrap() {
            Put::Stored(name) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            folder.put(&store, &first).unwrap(),
            Put::AlreadyThere(name.clone())
        );
        folder.put(&store, &reply_for(&alice, "two")).unwrap();
        folder.put(&store, &reply_for(&bob, "three")).unwrap();
        assert_eq!(folder.count().unwrap(), 3);
        // Not in the store's own listing, and no partial file left behind.
        assert!(store.sealed_files().unwrap().is_empty());
        assert!(!fs::read_dir(store.dir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(PARTIAL_PREFIX)));
        let mine = keys::ReplyIdentities::derive(&alice);
        let found = folder.find(mine.iter()).unwrap();
        let mut texts: Vec<&str> = found.iter().map(|f| f.reply.text.as_str()).collect();
        texts.sort();
        assert_eq!(texts, ["one", "two"]);
        let stranger = keys::ReplyIdentities::derive(&Codename::generate());
        assert!(folder.find(stranger.iter()).unwrap().is_empty());
        let names: Vec<String> = found.into_iter().map(|f| f.name).collect();
        assert_eq!(folder.remove(&names).unwrap(), 2);
        assert_eq!(folder.count().unwrap(), 1);
    }

    #[test]
    fn files_keep_only_a_coarse_time_and_expire_after_retention_and_jitter() {
        let (_d, store) = store();
        let retention = Duration::from_secs(30 * 86_400);
        let folder = ReplyFolder::open(&store, retention).unwrap();
        folder
            .put(&store, &reply_for(&Codename::generate(), "x"))
            .unwrap();
        let path = &folder.dir().join(&folder.files().unwrap()[0].0);
        let kept = fs::metadata(path).unwrap().modified().unwrap();
        let secs = kept
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs % 86_400, 0, "the day it arrived, not the time");
        let now = SystemTime::now();
        assert_eq!(folder.maintain(now, now).unwrap(), 0);
        assert_eq!(
            fs::metadata(path).unwrap().modified().unwrap(),
            kept,
            "kept through a pass"
        );
        let just_before = kept + Duration::from_secs(86_400) + retention - Duration::from_secs(1);
        assert_eq!(folder.maintain(just_before, now).unwrap(), 0);
        let after_jitter = kept + Duration::from_secs(86_400) + retention + retention / 8;
        assert_eq!(folder.maintain(after_jitter, now).unwrap(), 1);
        assert_eq!(folder.count().unwrap(), 0);
    }
}
