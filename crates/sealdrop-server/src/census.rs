//! What `sealdrop status` tells an admin about the store, read without
//! touching a submission: file names, sizes and birth times from the
//! listing (never a file's bytes), the free disk, and the record the last
//! maintenance pass left in RAM. Runs beside a live server: it opens no
//! [`Store`](crate::store::Store) (that would take the server's lock and
//! its pool files) and changes no time on any file or folder (folders are
//! read with `O_NOATIME` where the caller may).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::config::ServeConfig;
use crate::desks::DESKS_DIR;
use crate::store::backend::{Backend, BucketBackend};
use crate::store::{POOL_PREFIX, POOL_SIZE};
use sealdrop_format::id::SEALED_SUFFIX;

/// The file the maintenance pass leaves in `runtime_dir/private/` (RAM:
/// systemd's RuntimeDirectory, a tmpfs). Never under the store.
pub const PASS_RECORD: &str = "last-pass.json";

/// What one maintenance pass did: its time (on the pass's grid, the same
/// instant every file it touched carries), counts, and whether it met an
/// error (its kind only: an error's message can name a file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassRecord {
    /// Seconds since the epoch, a multiple of `touch_interval`.
    pub time: u64,
    pub ok: bool,
    /// The kind of the first error (`permission denied`, …), if any.
    pub error: Option<String>,
    pub expired_unpicked: u64,
    pub expired_replies: u64,
    pub files_retouched: u64,
    /// What waited in each inbox when the pass ran. `status` reports these,
    /// not a live listing: counts read at the pass's grid time date no
    /// arrival more finely than the store's own file times do, however
    /// often a monitoring system asks.
    #[serde(default)]
    pub inboxes: Vec<Inbox>,
}

impl PassRecord {
    /// Writes the record into `runtime_dir/private/` (the server's own 0700
    /// folder), replacing the last one; a failure is only logged: status
    /// then says the record is missing.
    pub fn keep(&self, runtime_dir: &Path) {
        let result = (|| {
            let dir = runtime_dir.join("private");
            match sealdrop_format::fsutil::create_private_dir(&dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            let json = serde_json::to_vec(self).map_err(io::Error::other)?;
            let tmp = dir.join(format!(".{PASS_RECORD}.tmp"));
            std::fs::write(&tmp, json)?;
            std::fs::rename(&tmp, dir.join(PASS_RECORD))
        })();
        if let Err(e) = result {
            tracing::warn!(
                "could not keep the maintenance pass's record for `sealdrop status`: {e}"
            );
        }
    }

    /// The record the last pass left, if any.
    pub fn read(runtime_dir: &Path) -> io::Result<Option<PassRecord>> {
        match std::fs::read(runtime_dir.join("private").join(PASS_RECORD)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One inbox: a desk's folder, the store itself without desks, or the
/// submissions from before desks were turned on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    /// The desk's name; "" for a server without desks; "(before desks)".
    pub desk: String,
    pub waiting: u64,
    pub bytes: u64,
    /// Whole days since the oldest waiting file arrived, where the store
    /// can say (a folder's birth time, an object's creation); else None.
    pub oldest_days: Option<u64>,
    /// Empty files kept ready for uploads (a folder only).
    pub pool: Option<u64>,
}

/// The store, as `sealdrop status` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Census {
    /// The folder or `s3://…` location.
    pub store: String,
    /// "pass": the counts the last maintenance pass recorded (at its grid
    /// time); "live": listed now (`--live`, or no pass recorded).
    pub counted: &'static str,
    pub inboxes: Vec<Inbox>,
    /// Sealed bytes waiting, every inbox together.
    pub stored_bytes: u64,
    pub quota_bytes: Option<u64>,
    /// Free bytes for the store's folder (the spool with an object store).
    pub disk_free_bytes: Option<u64>,
    pub disk_total_bytes: Option<u64>,
    /// `min_free_disk`: below it sources are told to try later.
    pub min_free_bytes: u64,
    /// How many empty files a pass keeps ready in each folder.
    pub pool_target: u64,
    pub last_pass: Option<PassRecord>,
    /// Why the pass record could not be read (not "none yet").
    pub last_pass_unreadable: Option<String>,
    pub touch_interval_secs: u64,
}

/// Counts what waits in the store of `config`. With an object store the
/// counts come from the bucket's listing (through the environment's
/// credentials, as the server's); call on a blocking thread of a runtime.
pub fn census(config: &ServeConfig, now: SystemTime, live: bool) -> Result<Census, String> {
    let policy = &config.policy;
    let (last_pass, last_pass_unreadable) = match &config.runtime_dir {
        None => (None, None),
        Some(dir) => match PassRecord::read(dir) {
            Ok(record) => (record, None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let store_name = match &config.bucket {
        None => config.store.display().to_string(),
        Some(location) => location.to_string(),
    };
    let recorded = last_pass
        .as_ref()
        .filter(|_| !live)
        .map(|p| p.inboxes.clone());
    let counted = if recorded.is_some() { "pass" } else { "live" };
    let inboxes = match recorded {
        Some(inboxes) => inboxes,
        None => live_inboxes(config, now, &store_name)?,
    };
    let (disk_free_bytes, disk_total_bytes) = match rustix::fs::statvfs(&config.store) {
        Ok(st) => (
            Some(st.f_bavail.saturating_mul(st.f_frsize)),
            Some(st.f_blocks.saturating_mul(st.f_frsize)),
        ),
        Err(_) => (None, None),
    };
    Ok(Census {
        store: store_name,
        counted,
        stored_bytes: inboxes.iter().map(|i| i.bytes).sum(),
        inboxes,
        quota_bytes: policy.store_quota,
        disk_free_bytes,
        disk_total_bytes,
        min_free_bytes: policy.min_free_bytes,
        pool_target: POOL_SIZE as u64,
        last_pass,
        last_pass_unreadable,
        touch_interval_secs: policy.touch_interval.as_secs(),
    })
}

/// What waits now, from the store's listing (folders or bucket).
fn live_inboxes(
    config: &ServeConfig,
    now: SystemTime,
    store_name: &str,
) -> Result<Vec<Inbox>, String> {
    let policy = &config.policy;
    let mut inboxes = Vec::new();
    match &config.bucket {
        None => {
            // The store itself must be there; a desk's folder appears with
            // its first submission.
            if !config.store.is_dir() {
                return Err(format!(
                    "the store folder {} is missing",
                    config.store.display()
                ));
            }
            let mut folders: Vec<(String, PathBuf)> = Vec::new();
            if config.recipients.is_some() {
                folders.push((String::new(), config.store.clone()));
            } else {
                for desk in &policy.desk_choice {
                    folders.push((
                        desk.name.clone(),
                        config.store.join(DESKS_DIR).join(&desk.name),
                    ));
                }
                folders.push((BEFORE_DESKS.into(), config.store.clone()));
            }
            for (desk, dir) in folders {
                inboxes.push(
                    count_folder(desk, &dir, now)
                        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?,
                );
            }
        }
        Some(location) => {
            let bucket =
                crate::store::bucket::Bucket::connect(location, config.s3_credentials.as_deref())
                    .map_err(|e| e.to_string())?;
            let mut buckets = Vec::new();
            if config.recipients.is_some() {
                buckets.push((String::new(), bucket));
            } else {
                for desk in &policy.desk_choice {
                    buckets.push((desk.name.clone(), bucket.child(DESKS_DIR).child(&desk.name)));
                }
                buckets.push((BEFORE_DESKS.into(), bucket));
            }
            for (desk, bucket) in buckets {
                inboxes.push(
                    count_listing(desk, &BucketBackend::new(bucket), now)
                        .map_err(|e| format!("cannot list {store_name}: {e}"))?,
                );
            }
        }
    }
    Ok(without_empty_before_desks(inboxes))
}

/// The inbox name of submissions from before desks were turned on.
const BEFORE_DESKS: &str = "(before desks)";

/// The counts a maintenance pass records: each store the server writes to,
/// listed as `status --live` lists it.
pub(crate) fn count_at_pass(app: &crate::App, now: SystemTime) -> io::Result<Vec<Inbox>> {
    let mut inboxes = Vec::new();
    let named: Vec<(String, &crate::store::Store)> = if app.desks.iter().any(|d| !d.name.is_empty())
    {
        let mut named: Vec<(String, &crate::store::Store)> = app
            .desks
            .iter()
            .map(|d| (d.name.clone(), &*d.store))
            .collect();
        named.push((BEFORE_DESKS.into(), &*app.store));
        named
    } else {
        vec![(String::new(), &*app.store)]
    };
    for (desk, store) in named {
        inboxes.push(if store.backend().is_shared() {
            count_listing(desk, store.backend(), now)?
        } else {
            count_folder(desk, store.dir(), now)?
        });
    }
    Ok(without_empty_before_desks(inboxes))
}

/// Submissions from before desks are an inbox only when there are some.
fn without_empty_before_desks(mut inboxes: Vec<Inbox>) -> Vec<Inbox> {
    inboxes.retain(|i| i.desk != BEFORE_DESKS || i.waiting > 0);
    inboxes
}

/// One inbox from a folder of the store: its sealed files and its pool.
fn count_folder(desk: String, dir: &Path, now: SystemTime) -> io::Result<Inbox> {
    Ok(inbox(desk, &list_folder(dir)?, now))
}

/// One inbox from an object store's listing (it has no pool).
fn count_listing(desk: String, backend: &dyn Backend, now: SystemTime) -> io::Result<Inbox> {
    let files: Vec<Listed> = backend
        .list(SEALED_SUFFIX)?
        .into_iter()
        .map(|s| Listed {
            size: s.size,
            born: s.kept,
            pool: false,
        })
        .collect();
    Ok(Inbox {
        pool: None,
        ..inbox(desk, &files, now)
    })
}

struct Listed {
    size: u64,
    born: Option<SystemTime>,
    pool: bool,
}

fn inbox(desk: String, files: &[Listed], now: SystemTime) -> Inbox {
    let sealed = files.iter().filter(|f| !f.pool);
    let oldest = sealed.clone().filter_map(|f| f.born).min();
    Inbox {
        desk,
        waiting: sealed.clone().count() as u64,
        bytes: sealed.map(|f| f.size).sum(),
        oldest_days: oldest
            .map(|born| now.duration_since(born).unwrap_or(Duration::ZERO).as_secs() / 86_400),
        pool: Some(files.iter().filter(|f| f.pool).count() as u64),
    }
}

/// The sealed and pool files of one folder: names, sizes, birth times.
/// A missing folder (a desk nobody wrote to yet) is empty.
fn list_folder(dir: &Path) -> io::Result<Vec<Listed>> {
    use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    // O_NOATIME: the owner or root may read a folder without dating it.
    let fd = match rustix::fs::open(dir, flags | OFlags::NOATIME, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::PERM) => rustix::fs::open(dir, flags, Mode::empty())?,
        Err(rustix::io::Errno::NOENT) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut files = Vec::new();
    for entry in rustix::fs::Dir::read_from(&fd)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy();
        let pool = name.starts_with(POOL_PREFIX);
        if !pool && (name.starts_with('.') || !name.ends_with(SEALED_SUFFIX)) {
            continue;
        }
        let st = match rustix::fs::statx(
            &fd,
            entry.file_name(),
            AtFlags::SYMLINK_NOFOLLOW,
            StatxFlags::SIZE | StatxFlags::BTIME | StatxFlags::TYPE,
        ) {
            Ok(st) => st,
            // Picked up or expired meanwhile.
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        let born = (st.stx_mask & StatxFlags::BTIME.bits() != 0).then(|| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(st.stx_btime.tv_sec.max(0) as u64)
        });
        files.push(Listed {
            size: st.stx_size,
            born,
            pool,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_record_reads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(PassRecord::read(dir.path()).unwrap(), None);
        let record = PassRecord {
            time: 1_800_000_000,
            ok: false,
            error: Some("permission denied".into()),
            expired_unpicked: 2,
            expired_replies: 3,
            files_retouched: 4,
            inboxes: vec![Inbox {
                desk: "tips".into(),
                waiting: 5,
                bytes: 6,
                oldest_days: Some(7),
                pool: Some(8),
            }],
        };
        record.keep(dir.path());
        assert_eq!(PassRecord::read(dir.path()).unwrap(), Some(record));
    }

    #[test]
    fn a_folder_is_counted_by_its_sealed_files_and_pool() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.age"), b"12345").unwrap();
        std::fs::write(dir.path().join("b.age"), b"123").unwrap();
        std::fs::write(dir.path().join(format!("{POOL_PREFIX}1")), b"").unwrap();
        std::fs::write(dir.path().join(".incoming-x.partial"), b"999999").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"999999").unwrap();
        let files = list_folder(dir.path()).unwrap();
        let counted = inbox(
            String::new(),
            &files,
            SystemTime::now() + Duration::from_secs(3 * 86_400 + 5),
        );
        assert_eq!(counted.waiting, 2);
        assert_eq!(counted.bytes, 8);
        assert_eq!(counted.pool, Some(1));
        // tmpfs and ext4 record birth times; a file system without them says None.
        if let Some(days) = counted.oldest_days {
            assert_eq!(days, 3);
        }
        assert!(list_folder(&dir.path().join("missing")).unwrap().is_empty());
    }
}
