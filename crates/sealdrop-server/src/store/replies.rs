//! The replies folder of the store (`STORE/replies/`): reply files that
//! editors pushed through the pickup API, waiting for their source
//! (docs/FORMAT.md, section 7.4).
//!
//! The folder keeps no owner: a file is named after a hash of its own bytes
//! (so pushing it twice stores it once), and whose it is can only be found
//! with the codename: a version-2 file's tag verifies under the key the
//! codename derives (one HMAC), a version-1 file opens with its keys. What a
//! login needs is kept in memory (the index: every file's name and
//! preamble, and with an object store the whole file), so that a login
//! reads nothing in the store's listing and makes no request to an object
//! store. A delete only hides files and records tombstones (in memory and
//! in `--runtime-dir`); the next maintenance pass removes them, with the
//! expired ones, and writes the tombstones into the folder, so that nothing
//! under the store dates a login or a delete.
//!
//! With an object store the replies are objects under `PREFIX/replies/`,
//! so that a source finds a reply whichever front she reaches (after that
//! front's next pass, for a reply pushed through another); the store then
//! keeps each one's exact arrival time (SECURITY.md).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::backend::{Backend, Spooled};
use super::{PartialGuard, Store, Usage, PARTIAL_PREFIX, PARTIAL_SUFFIX};
use crate::clock::{day_of, Clock};
use sealdrop_format::id::random_hex;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::reply::file::{self, Preamble, Reply, HEADER_PROBE, REPLY_FILE_LEN};
use sealdrop_format::reply::keys::ReplyIdentities;
use sealdrop_format::reply::Codename;

/// The folder's name inside the store.
pub const REPLIES_DIR: &str = "replies";
/// The ending of a stored reply file (not `.age`: in the store, only
/// submissions end in `.age`).
pub const REPLY_SUFFIX: &str = ".reply";
/// The start of the tombstones' files (objects with an object store) in the
/// folder: `tombstones-<id>`, one per running front, so that fronts never
/// overwrite each other's.
pub const TOMBSTONES: &str = "tombstones-";
/// The tombstones' file in `--runtime-dir`.
const RUNTIME_TOMBSTONES: &str = "reply-tombstones";
/// The most replies a page shows; every login opens exactly this many files.
pub const PAGE_REPLIES: usize = 4;
/// The coarsest time a reply file keeps: the day it arrived.
const MAX_GRANULARITY: Duration = Duration::from_secs(86_400);
/// The longest tombstones file read (a line is 36 bytes at most).
const MAX_TOMBSTONES_BYTES: u64 = 64 * 1024 * 1024;

/// What became of a pushed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    Stored(String),
    /// The same file was pushed before; nothing changed.
    AlreadyThere(String),
    /// Refused for good, for the reason given: its source deleted it, or it
    /// is older than the retention.
    Gone(&'static str),
    /// Refused as it is, for the reason given (the editor can fix it).
    Refused(&'static str),
}

/// A reply that opened with a codename's keys.
pub struct Found {
    /// Its name in the folder (or bucket).
    pub name: String,
    pub reply: Reply,
}

/// What a login knows of one stored file.
struct Entry {
    /// `None` for a version-1 file (no preamble: found by key agreement).
    preamble: Option<Preamble>,
    /// The day it keeps (its coarse arrival), to order version-1 files.
    day: u32,
    /// The whole file, with an object store (so that a login asks it nothing).
    bytes: Option<Arc<Zeroizing<Vec<u8>>>>,
}

#[derive(Default)]
struct State {
    /// Every stored file by name, tombstoned ones included until the pass
    /// removes them.
    entries: BTreeMap<String, Entry>,
    /// Replies their source deleted, and replies that expired: name → the
    /// last day a push of the same file is refused for it (after that, it
    /// is refused as too old anyway).
    tombstones: BTreeMap<String, u32>,
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
    state: RwLock<State>,
    /// `RUNTIME_DIR/private/reply-tombstones`: tombstones not yet written
    /// by a pass survive a restart of the service (not a reboot: it is RAM).
    runtime_file: Option<PathBuf>,
    /// This front's tombstones file in the folder (`tombstones-<random>`).
    own_tombstones: String,
    /// The last pass's time, which the folder's times are set back to after
    /// a push.
    last_pass: Mutex<SystemTime>,
    /// Files sealed at start to a codename only this process knows, opened
    /// when fewer than [`PAGE_REPLIES`] files match, so that every login
    /// does the same work.
    decoys: Vec<Vec<u8>>,
    decoy_identities: ReplyIdentities,
}

/// `RUNTIME_DIR/private/` (mode 0700): the runtime folder itself is shared
/// with tor's group for the sockets; what is in here is the server's alone.
fn private_runtime_dir(runtime: &Path) -> io::Result<PathBuf> {
    let dir = runtime.join("private");
    match sealdrop_format::fsutil::create_private_dir(&dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(dir),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Tombstones as written: one line `<name> <last day>` each, sorted by name.
fn tombstones_text(tombstones: &BTreeMap<String, u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(tombstones.len() * 40);
    for (name, day) in tombstones {
        let _ = writeln!(out, "{name} {day}");
    }
    out
}

/// Reads tombstones as written; lines that are not one are skipped.
fn parse_tombstones(bytes: &[u8], into: &mut BTreeMap<String, u32>) {
    for line in String::from_utf8_lossy(bytes).lines() {
        let mut words = line.split(' ');
        let (Some(name), Some(day), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let valid_name = name.len() == 32 + REPLY_SUFFIX.len()
            && name.ends_with(REPLY_SUFFIX)
            && name[..32].bytes().all(|b| b.is_ascii_hexdigit());
        if let (true, Ok(day)) = (valid_name, day.parse::<u32>()) {
            let kept = into.entry(name.to_owned()).or_insert(day);
            *kept = (*kept).max(day);
        }
    }
}

impl ReplyFolder {
    /// The replies folder of `store` (created, mode 0700, if missing), its
    /// index read, and the tombstones of the folder and of `runtime_dir`.
    pub fn open(
        store: &Store,
        retention: Duration,
        kind: RecipientKind,
        runtime_dir: Option<&Path>,
    ) -> io::Result<ReplyFolder> {
        let dir = store.dir().join(REPLIES_DIR);
        let backend = store.backend().child(REPLIES_DIR)?;
        let mut jitter_key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut jitter_key[..]);
        let decoy_codename = Codename::generate();
        let nobody = sealdrop_format::reply::keys::manifest_block(&decoy_codename, kind);
        let decoys = (0..PAGE_REPLIES)
            .map(|_| file::seal(&nobody, None, time::OffsetDateTime::now_utc(), "-"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io::Error::other)?;
        let decoy_identities = ReplyIdentities::derive(&decoy_codename);
        let folder = ReplyFolder {
            dir,
            retention,
            granularity: (retention / 8).clamp(Duration::from_secs(1), MAX_GRANULARITY),
            jitter_key,
            backend,
            usage: store.usage().clone(),
            state: RwLock::default(),
            runtime_file: runtime_dir
                .map(|d| private_runtime_dir(d).map(|p| p.join(RUNTIME_TOMBSTONES)))
                .transpose()?,
            own_tombstones: format!("{TOMBSTONES}{}", random_hex(8)),
            last_pass: Mutex::new(
                fs::metadata(store.dir().join(REPLIES_DIR))
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|_| SystemTime::now()),
            ),
            decoys,
            decoy_identities,
        };
        folder.read_tombstones(0)?;
        folder.refresh()?;
        folder.usage.add_stored(folder.bytes()?);
        Ok(folder)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the tombstones of the folder (written by every front's pass) and
    /// of the runtime folder (this front's, not yet written) to memory.
    /// Returns the tombstones files in the folder that hold none still
    /// needed on `today`, which the pass may remove.
    fn read_tombstones(&self, today: u32) -> io::Result<Vec<String>> {
        let mut found = BTreeMap::new();
        let mut spent = Vec::new();
        for stored in self.backend.list("")? {
            if !stored.name.starts_with(TOMBSTONES) {
                continue;
            }
            let mut these = BTreeMap::new();
            match self.backend.read_small(&stored.name, MAX_TOMBSTONES_BYTES) {
                Ok(bytes) => parse_tombstones(&bytes, &mut these),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            if these.values().all(|last| *last < today) {
                spent.push(stored.name);
            }
            found.append(&mut these);
        }
        if let Some(path) = &self.runtime_file {
            match fs::read(path) {
                Ok(bytes) => parse_tombstones(&bytes, &mut found),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut state = self.write();
        for (name, day) in found {
            let kept = state.tombstones.entry(name).or_insert(day);
            *kept = (*kept).max(day);
        }
        Ok(spent)
    }

    /// Writes this front's tombstones to the runtime folder (RAM), whole.
    /// Called with the state locked, so that writes land in the order the
    /// tombstones changed.
    fn write_runtime_tombstones(&self, text: &[u8]) -> io::Result<()> {
        let Some(path) = &self.runtime_file else {
            return Ok(());
        };
        let temporary = path.with_extension(format!("new-{}", random_hex(8)));
        let written = sealdrop_format::fsutil::create_new_private_file(&temporary)
            .and_then(|mut f| f.write_all(text))
            .and_then(|()| fs::rename(&temporary, path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    /// Brings the index up to the listing: reads the files it does not know
    /// (stored through another front, or before a restart), forgets those
    /// that are gone.
    fn refresh(&self) -> io::Result<()> {
        // What the index held before the listing: only those may be dropped
        // for being absent from it (a push that commits meanwhile stays).
        let before: std::collections::BTreeSet<String> =
            self.read().entries.keys().cloned().collect();
        let listed = self.backend.list(REPLY_SUFFIX)?;
        let mut added = Vec::new();
        for stored in &listed {
            if before.contains(&stored.name) {
                continue;
            }
            let bytes = match self.backend.read_small(&stored.name, REPLY_FILE_LEN as u64) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let day = day_of(stored.kept.unwrap_or(SystemTime::UNIX_EPOCH));
            added.push((stored.name.clone(), self.entry(bytes, day)));
        }
        let listed: std::collections::BTreeSet<&str> =
            listed.iter().map(|s| s.name.as_str()).collect();
        let mut state = self.write();
        state
            .entries
            .retain(|name, _| !before.contains(name) || listed.contains(name.as_str()));
        for (name, entry) in added {
            state.entries.entry(name).or_insert(entry);
        }
        Ok(())
    }

    fn entry(&self, bytes: Zeroizing<Vec<u8>>, day: u32) -> Entry {
        Entry {
            preamble: Preamble::read(&bytes),
            day,
            bytes: self.backend.is_shared().then(|| Arc::new(bytes)),
        }
    }

    /// Bytes the stored replies take (what the quota counts).
    pub fn bytes(&self) -> io::Result<u64> {
        Ok(self.count()? as u64 * REPLY_FILE_LEN as u64)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many replies are stored (deleted ones until the pass removes them).
    pub fn count(&self) -> io::Result<usize> {
        Ok(self.backend.list(REPLY_SUFFIX)?.len())
    }

    /// From when a push of a reply sealed on `sealed_day` is refused as too
    /// old: the end of that day plus its arrival period and the retention.
    /// By then it would have expired even had it been pushed the moment it
    /// was sealed; one that expired earlier is refused by its tombstone,
    /// which lives until then.
    fn too_old_from(&self, sealed_day: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs((u64::from(sealed_day) + 1) * 86_400)
            + self.granularity
            + self.retention
    }

    /// The last day a tombstone is needed: after it, a push of the file is
    /// refused as too old anyway.
    fn last_day(&self, sealed_day: u32) -> u32 {
        day_of(self.too_old_from(sealed_day))
    }

    /// Stores a pushed reply durably (blocking), unless its source deleted
    /// it or it is too old. The caller has checked its shape
    /// (`reply::file::check_shape`), which gave `preamble`.
    pub fn put(
        &self,
        store: &Store,
        bytes: &[u8],
        preamble: &Preamble,
        now: SystemTime,
    ) -> io::Result<Put> {
        let digest = Sha256::digest(bytes);
        let name = format!(
            "{}{REPLY_SUFFIX}",
            sealdrop_format::hex::encode(&digest[..16])
        );
        {
            let state = self.read();
            if state.tombstones.contains_key(&name) {
                return Ok(Put::Gone(
                    "its source deleted this reply; it is not stored again",
                ));
            }
            if state.entries.contains_key(&name) {
                return Ok(Put::AlreadyThere(name));
            }
        }
        if preamble.sealed_day > day_of(now).saturating_add(1) {
            // A laptop clock running days ahead would keep an expired reply
            // pushable (and its tombstone) for as long.
            return Ok(Put::Refused(
                "this reply is dated after tomorrow: the clock of the laptop that sealed it is wrong; set it and write the reply again",
            ));
        }
        if now >= self.too_old_from(preamble.sealed_day) {
            return Ok(Put::Gone(
                "this reply is older than the server's --reply-retention (it may have expired): write it again",
            ));
        }
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
        let arrived = SystemTime::from(sealdrop_format::seal::coarse_time(
            now,
            self.granularity.as_secs(),
        ));
        let spooled = Spooled {
            spool: store.dir(),
            guard: &mut guard,
            file: out,
        };
        match self.backend.commit(spooled, &name, arrived) {
            Ok(_) => {
                self.usage.add_stored(REPLY_FILE_LEN as u64);
                let entry = self.entry(Zeroizing::new(bytes.to_vec()), day_of(arrived));
                self.write().entries.insert(name.clone(), entry);
                // The folder's access and modification times go back to the
                // pass's: only its change time (which no program can set)
                // says a push happened since.
                self.backend.retouch(&[], *lock(&self.last_pass))?;
                store.restore_folder_times()?;
                Ok(Put::Stored(name))
            }
            // A concurrent push of the same file won: the guard removes ours.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Put::AlreadyThere(name)),
            Err(e) => Err(e),
        }
    }

    /// The files a codename's keys can open, newest first by the day sealed
    /// (ties by name), deleted ones left out (blocking). Version-2 files
    /// cost one HMAC each; version-1 files one key agreement each, until
    /// they expire.
    pub fn matching(
        &self,
        tag_key: &[u8; 32],
        identities: &ReplyIdentities,
    ) -> io::Result<Vec<String>> {
        let mut matched: Vec<(u32, String)> = Vec::new();
        let mut version_one = Vec::new();
        {
            let state = self.read();
            for (name, entry) in &state.entries {
                if state.tombstones.contains_key(name) {
                    continue;
                }
                match &entry.preamble {
                    Some(preamble) => {
                        if preamble.tagged_with(tag_key) {
                            matched.push((preamble.sealed_day, name.clone()));
                        }
                    }
                    None => version_one.push((entry.day, name.clone(), entry.bytes.clone())),
                }
            }
        }
        for (day, name, bytes) in version_one {
            let head = match bytes {
                Some(bytes) => Zeroizing::new(bytes[..bytes.len().min(HEADER_PROBE)].to_vec()),
                None => match self.backend.read_small(&name, HEADER_PROBE as u64) {
                    Ok(head) => head,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                },
            };
            if file::is_for(&head, identities.iter()) {
                matched.push((day, name));
            }
        }
        matched.sort_by(|a, b| b.cmp(a));
        Ok(matched.into_iter().map(|(_, name)| name).collect())
    }

    /// The bytes of a stored file: from memory with an object store, else
    /// read with `O_NOATIME`; `None` if it is gone.
    fn bytes_of(&self, name: &str) -> io::Result<Option<Arc<Zeroizing<Vec<u8>>>>> {
        if let Some(bytes) = self.read().entries.get(name).and_then(|e| e.bytes.clone()) {
            return Ok(Some(bytes));
        }
        match self.backend.read_small(name, REPLY_FILE_LEN as u64) {
            Ok(bytes) => Ok(Some(Arc::new(bytes))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens the first [`PAGE_REPLIES`] of `names` (from [`Self::matching`])
    /// (blocking). Every login does the same work whatever it finds: each of
    /// the [`PAGE_REPLIES`] slots reads one stored file, tries the
    /// codename's keys and the decoys' on one file each, and opens one file
    /// whole (a real reply with her keys, or a decoy with its own), so that
    /// a slot costs two key agreements and one decryption either way.
    pub fn open_page(
        &self,
        names: &[String],
        identities: &ReplyIdentities,
    ) -> io::Result<Vec<Found>> {
        let mut found = Vec::new();
        let mut slots = 0;
        for name in names.iter().take(PAGE_REPLIES) {
            let Some(bytes) = self.bytes_of(name)? else {
                continue; // gone meanwhile: a decoy takes its slot
            };
            slots += 1;
            let _ = file::open(&bytes, self.decoy_identities.iter());
            if let Ok(Some(reply)) = file::open(&bytes, identities.iter()) {
                found.push(Found {
                    name: name.clone(),
                    reply,
                });
            }
        }
        let some_stored = self.read().entries.keys().next().cloned();
        for decoy in &self.decoys[..PAGE_REPLIES - slots] {
            // The same reading as a real slot's (a file of the store).
            if let Some(name) = &some_stored {
                let _ = self.bytes_of(name)?;
            }
            let _ = file::open(decoy, identities.iter());
            let _ = file::open(decoy, self.decoy_identities.iter());
        }
        Ok(found)
    }

    /// A source deleted these replies: hidden from now on, tombstoned in
    /// memory and in the runtime folder; the files go at the next pass.
    /// Nothing under the store changes.
    pub fn delete(&self, names: &[String], now: SystemTime) -> io::Result<usize> {
        let mut state = self.write();
        let mut deleted = 0;
        for name in names {
            let Some(entry) = state.entries.get(name) else {
                continue;
            };
            // A version-1 file says nothing of its day: counted from now.
            let sealed_day = entry.preamble.map_or(day_of(now), |p| p.sealed_day);
            let last = self.last_day(sealed_day);
            if state.tombstones.insert(name.clone(), last).is_none() {
                deleted += 1;
            }
        }
        if deleted > 0 {
            self.write_runtime_tombstones(&tombstones_text(&state.tombstones))?;
        }
        Ok(deleted)
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

    /// The maintenance pass (blocking): takes in the tombstones other fronts
    /// wrote, removes the replies deleted by their sources and those past
    /// their expiry (counted against the store's clock), writes the live
    /// tombstones whole, brings the index up to date, and re-sets the kept
    /// files' times to the coarse arrival they keep, so that their change
    /// times become this pass's; the folder's times become `pass`. Returns
    /// how many expired (not counting deletions).
    pub fn maintain(&self, clock: &Clock, pass: SystemTime) -> io::Result<usize> {
        let now = clock.reading(self.backend.now()?);
        let today = day_of(now);
        let spent = self.read_tombstones(today)?;
        let mut expired = Vec::new();
        let mut deleted = Vec::new();
        let mut kept_times = Vec::new();
        {
            let state = self.read();
            for stored in self.backend.list(REPLY_SUFFIX)? {
                let Some(kept) = stored.kept else {
                    continue;
                };
                if state.tombstones.contains_key(&stored.name) {
                    deleted.push(stored.name);
                } else if now >= self.expiry(&stored.name, kept) {
                    expired.push(stored.name);
                } else {
                    kept_times.push((stored.name, kept));
                }
            }
        }
        // The tombstones are written before any file goes, so that no other
        // front's pass can see a file gone and no tombstone for it. An
        // expired reply is tombstoned too, until a push of it would be
        // refused as too old anyway: it must not come back with a fresh
        // retention. (A version-1 file cannot be pushed again at all.)
        {
            let mut state = self.write();
            for name in &expired {
                if let Some(preamble) = state.entries.get(name).and_then(|e| e.preamble) {
                    let last = self.last_day(preamble.sealed_day);
                    state.tombstones.entry(name.clone()).or_insert(last);
                }
            }
            state.tombstones.retain(|_, last| *last >= today);
            let text = tombstones_text(&state.tombstones);
            if text.is_empty() {
                match self.backend.remove(&self.own_tombstones) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            } else {
                self.backend
                    .replace_small(&self.own_tombstones, &text, pass)?;
            }
            self.write_runtime_tombstones(&text)?;
        }
        self.remove(&deleted)?;
        let removed = self.remove(&expired)?;
        // Other fronts' files whose tombstones all ran out; in a folder
        // (one front at a time) every file but this front's, whose own
        // holds them all now.
        for name in self.backend.list("")? {
            let others = name.name.starts_with(TOMBSTONES) && name.name != self.own_tombstones;
            if others && (!self.backend.is_shared() || spent.contains(&name.name)) {
                match self.backend.remove(&name.name) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        self.refresh()?;
        self.backend.retouch(&kept_times, pass)?;
        *lock(&self.last_pass) = pass;
        Ok(removed)
    }

    /// Removes replies for good (unlink, then sync the folder).
    fn remove(&self, names: &[String]) -> io::Result<usize> {
        let mut removed = 0;
        let result = names
            .iter()
            .try_for_each(|name| match self.backend.remove(name) {
                Ok(_) => {
                    removed += 1;
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            });
        self.usage
            .remove_stored(removed as u64 * REPLY_FILE_LEN as u64);
        let mut state = self.write();
        for name in names {
            state.entries.remove(name);
        }
        result.map(|()| removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdrop_format::reply::keys;
    use std::os::unix::fs::PermissionsExt;

    fn store() -> (tempfile::TempDir, Store) {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let store = Store::open(d.path(), 0, None).unwrap();
        (d, store)
    }

    fn reply_for(codename: &Codename, text: &str) -> Vec<u8> {
        file::seal(
            &keys::manifest_block(codename, RecipientKind::Classic),
            None,
            time::OffsetDateTime::now_utc(),
            text,
        )
        .unwrap()
    }

    fn put(folder: &ReplyFolder, store: &Store, bytes: &[u8]) -> Put {
        let preamble = file::check_shape(bytes).unwrap();
        folder
            .put(store, bytes, &preamble, SystemTime::now())
            .unwrap()
    }

    fn texts(folder: &ReplyFolder, codename: &Codename) -> Vec<String> {
        let ids = keys::ReplyIdentities::derive(codename);
        let names = folder.matching(&keys::tag_key(codename), &ids).unwrap();
        let mut texts: Vec<String> = folder
            .open_page(&names, &ids)
            .unwrap()
            .into_iter()
            .map(|f| f.reply.text.to_string())
            .collect();
        texts.sort();
        texts
    }

    const MONTH: Duration = Duration::from_secs(30 * 86_400);

    #[test]
    fn replies_are_stored_once_found_by_their_codename_only_and_deleted_at_the_pass() {
        let (_d, store) = store();
        let folder = ReplyFolder::open(&store, MONTH, RecipientKind::Classic, None).unwrap();
        let (alice, bob) = (Codename::generate(), Codename::generate());
        let first = reply_for(&alice, "one");
        let Put::Stored(name) = put(&folder, &store, &first) else {
            panic!("not stored")
        };
        assert_eq!(
            put(&folder, &store, &first),
            Put::AlreadyThere(name.clone())
        );
        put(&folder, &store, &reply_for(&alice, "two"));
        put(&folder, &store, &reply_for(&bob, "three"));
        assert_eq!(folder.count().unwrap(), 3);
        // Not in the store's own listing, and no partial file left behind.
        assert!(store.sealed_files().unwrap().is_empty());
        assert!(!fs::read_dir(store.dir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(PARTIAL_PREFIX)));
        assert_eq!(texts(&folder, &alice), ["one", "two"]);
        assert!(texts(&folder, &Codename::generate()).is_empty());
        // A delete hides at once and touches nothing in the folder.
        let ids = keys::ReplyIdentities::derive(&alice);
        let names = folder.matching(&keys::tag_key(&alice), &ids).unwrap();
        assert_eq!(folder.delete(&names, SystemTime::now()).unwrap(), 2);
        assert!(texts(&folder, &alice).is_empty());
        assert_eq!(folder.count().unwrap(), 3, "the files stay until the pass");
        assert!(matches!(put(&folder, &store, &first), Put::Gone(_)));
        let clock = Clock::default();
        assert_eq!(folder.maintain(&clock, SystemTime::now()).unwrap(), 0);
        assert_eq!(folder.count().unwrap(), 1);
        assert_eq!(texts(&folder, &bob), ["three"]);
        // The tombstones are in the folder now: a restart keeps them.
        let written: Vec<_> = fs::read_dir(folder.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TOMBSTONES))
            .collect();
        assert_eq!(written.len(), 1, "{written:?}");
        let tombstones = fs::read_to_string(folder.dir().join(&written[0])).unwrap();
        assert_eq!(tombstones.lines().count(), 2);
        assert!(!tombstones.contains(&keys::thread(&alice).to_string()));
        drop(folder);
        let again = ReplyFolder::open(&store, MONTH, RecipientKind::Classic, None).unwrap();
        assert!(matches!(put(&again, &store, &first), Put::Gone(_)));
    }

    #[test]
    fn files_keep_only_a_coarse_time_and_expire_after_retention_and_jitter() {
        let (_d, store) = store();
        let folder = ReplyFolder::open(&store, MONTH, RecipientKind::Classic, None).unwrap();
        put(&folder, &store, &reply_for(&Codename::generate(), "x"));
        let listed = folder.backend.list(REPLY_SUFFIX).unwrap();
        let path = &folder.dir().join(&listed[0].name);
        let kept = fs::metadata(path).unwrap().modified().unwrap();
        let secs = kept
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs % 86_400, 0, "the day it arrived, not the time");
        let clock = Clock::default();
        let now = SystemTime::now();
        assert_eq!(folder.maintain(&clock, now).unwrap(), 0);
        assert_eq!(
            fs::metadata(path).unwrap().modified().unwrap(),
            kept,
            "kept through a pass"
        );
        let ahead = |t: SystemTime| t.duration_since(SystemTime::now()).unwrap_or_default();
        clock.set_ahead(ahead(
            kept + Duration::from_secs(86_400) + MONTH - Duration::from_secs(60),
        ));
        assert_eq!(folder.maintain(&clock, now).unwrap(), 0);
        clock.set_ahead(ahead(
            kept + Duration::from_secs(86_400) + MONTH + MONTH / 8,
        ));
        assert_eq!(folder.maintain(&clock, now).unwrap(), 1);
        assert_eq!(folder.count().unwrap(), 0);
    }

    proptest::proptest! {
        /// Whatever a tombstones file holds (another front's, damaged), it
        /// reads without panic, keeps only well-formed lines, and what is
        /// written reads back the same.
        #[test]
        fn any_tombstones_file_reads(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut read = BTreeMap::new();
            parse_tombstones(&bytes, &mut read);
            let mut again = BTreeMap::new();
            parse_tombstones(&tombstones_text(&read), &mut again);
            proptest::prop_assert_eq!(read, again);
        }
    }

    #[test]
    fn tombstones_files_are_read_leniently() {
        let mut into = BTreeMap::new();
        let name = format!("{}{REPLY_SUFFIX}", "ab".repeat(16));
        parse_tombstones(
            format!("{name} 20000\n{name} 19000\njunk\n../x.reply 5\n{name} x\n").as_bytes(),
            &mut into,
        );
        assert_eq!(into.len(), 1);
        assert_eq!(into[&name], 20000);
        assert_eq!(
            tombstones_text(&into),
            format!("{name} 20000\n").into_bytes()
        );
    }
}
