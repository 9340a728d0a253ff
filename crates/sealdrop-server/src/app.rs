//! What every request of the running server shares, and the start-up checks
//! that build it.

use std::path::Path;
use std::sync::Arc;

use super::config::{ConfigError, Policy, ServeConfig};
use super::desks::{Desk, Desks, DESKS_DIR};
use super::store::backend::{Backend, BucketBackend};
use super::store::{Store, StoreError};
use super::{pages, stats, tls};
use sealdrop_format::keys::{KeyError, Recipients};

/// Why the server refuses to start; each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Bucket(#[from] super::store::bucket::BucketError),
}

/// What every request of the running server shares.
pub struct App {
    pub policy: Policy,
    /// Where submissions go, each desk with its recipients and folder; a
    /// server without desks has one, whose folder is `store`.
    pub desks: Desks,
    /// The store folder itself: the reply channel's files, and the
    /// submissions of a server without desks.
    pub store: Arc<Store>,
    /// Upload slots (`upload::slots`).
    pub slots: Arc<super::upload::slots::Slots>,
    /// The bounded pools blocking work runs on, one per kind.
    pub pools: super::workers::Pools,
    pub stats: stats::Stats,
    pub pages: pages::FixedPages,
    /// Hashes of the accepted pickup tokens.
    pub pickup_tokens: Vec<super::config::PickupToken>,
    /// The reply channel, unless `--replies false`.
    pub replies: Option<super::replies::ReplyChannel>,
    /// The one length of every answer to a login (`pages::replies_answer_size`).
    pub replies_answer_size: usize,
    /// "Now" for expiry, tokens and tombstones (tests move it forward).
    pub clock: super::clock::Clock,
    /// Maintenance passes finished since start (tests wait for the first).
    pub passes: std::sync::atomic::AtomicU64,
    /// RAM the server may keep state in across restarts (`runtime_dir`):
    /// replies' tombstones, the last pass's record for `sealdrop status`.
    pub runtime_dir: Option<std::path::PathBuf>,
}

impl App {
    /// Runs the start-up checks: recipients, store folder (or object store
    /// and spool), leftovers. Blocking: call on a blocking thread of the
    /// runtime (an object store's client runs on it).
    pub fn new(config: &ServeConfig) -> Result<Arc<App>, StartError> {
        let policy = &config.policy;
        let stored_bytes = Arc::default();
        let bucket = config
            .bucket
            .as_ref()
            .map(|location| {
                super::store::bucket::Bucket::connect(location, config.s3_credentials.as_deref())
            })
            .transpose()?;
        // The one place the backend is chosen: the object store when one is
        // configured (the folders then only spool), else the folders.
        let open = |dir: &Path, desk: Option<&str>| {
            let backend = bucket.as_ref().map(|b| {
                let b = match desk {
                    Some(name) => b.child(DESKS_DIR).child(name),
                    None => b.clone(),
                };
                Box::new(BucketBackend::new(b)) as Box<dyn Backend>
            });
            Store::open_counted(
                dir,
                policy.min_free_bytes,
                policy.store_quota,
                Arc::clone(&stored_bytes),
                backend,
            )
        };
        let store = Arc::new(open(&config.store, None)?);
        if config.recipients.is_some() && bucket.is_none() {
            refuse_stranded_desks(&config.store)?;
        }
        let desks = match &config.recipients {
            Some(recipients) => vec![Desk {
                name: String::new(),
                recipients: Recipients::from_file(recipients)?,
                store: store.clone(),
            }],
            None => {
                let parent = config.store.join(DESKS_DIR);
                private_dir(&parent)?;
                let mut desks = Vec::new();
                for spec in &config.policy.desk_choice {
                    let recipients = Recipients::from_file(&spec.recipients)
                        .map_err(|e| ConfigError(format!("desk {:?}: {e}", spec.name)))?;
                    let dir = parent.join(&spec.name);
                    private_dir(&dir)?;
                    desks.push(Desk {
                        name: spec.name.clone(),
                        recipients,
                        store: Arc::new(open(&dir, Some(&spec.name))?),
                    });
                }
                // A codename's reply keys are of one kind, made before the
                // source's desk is known.
                if let Some(odd) = desks
                    .iter()
                    .find(|d| d.recipients.kind() != desks[0].recipients.kind())
                {
                    return Err(ConfigError(format!(
                        "desks {:?} and {:?} mix post-quantum and classic keys: all desks must be one or the other",
                        desks[0].name, odd.name
                    ))
                    .into());
                }
                desks
            }
        };
        let desks = Desks::new(desks);
        if policy.expire_unpicked.is_some() {
            for store in stores(&store, &desks) {
                store
                    .count_ages_from_birth(policy.touch_interval)
                    .map_err(|e| {
                        ConfigError(format!(
                        "--expire-unpicked counts a submission's age from its file's birth time, \
                         and the store folder {} cannot give one: {e}",
                        store.describe()
                    ))
                    })?;
            }
        }
        if config.recipients.is_none() {
            // Submissions from before desks were turned on: an unscoped
            // pickup token lists them (`pickup_api::stores_in`).
            let waiting = store.sealed_files().map_or(0, |files| files.len());
            if waiting > 0 {
                tracing::warn!(
                    "{waiting} submission(s) from before desks wait in {}: an unscoped pickup token (a bare HEX) picks them up",
                    store.describe()
                );
            }
        }
        let replies = if config.policy.replies {
            let channel = super::replies::ReplyChannel::open(
                &store,
                config.policy.reply_retention,
                desks.default_desk().recipients.kind(),
                config.runtime_dir.as_deref(),
            )
            .map_err(|source| StoreError::Io {
                path: config.store.join(super::store::replies::REPLIES_DIR),
                source,
            })?;
            Some(channel)
        } else {
            None
        };
        Ok(Arc::new(App {
            replies,
            slots: super::upload::slots::Slots::new(
                config.policy.max_concurrent_uploads,
                config.policy.body_idle_timeout,
            ),
            pools: super::workers::Pools::for_this_machine(),
            pages: pages::FixedPages::new(&config.policy),
            policy: config.policy.clone(),
            desks,
            store,
            stats: stats::Stats::default(),
            pickup_tokens: config.pickup_tokens.clone(),
            replies_answer_size: pages::replies_answer_size(
                &config.policy,
                super::replies::token::TOKEN_CHARS,
            ),
            clock: super::clock::Clock::default(),
            passes: std::sync::atomic::AtomicU64::new(0),
            runtime_dir: config.runtime_dir.clone(),
        }))
    }
}

/// Without desks, submissions that wait in a desk's folder (desks were
/// turned off) would be listed by no token and expire unread: the server
/// refuses to start and says what waits and how to get it.
fn refuse_stranded_desks(store: &Path) -> Result<(), StartError> {
    let Ok(desks) = std::fs::read_dir(store.join(DESKS_DIR)) else {
        return Ok(());
    };
    let mut waiting = Vec::new();
    for desk in desks.flatten() {
        let count = std::fs::read_dir(desk.path())
            .map(|files| {
                files
                    .flatten()
                    .filter(|f| f.file_name().to_string_lossy().ends_with(".age"))
                    .count()
            })
            .unwrap_or(0);
        if count > 0 {
            waiting.push(format!("{count} in {}", desk.path().display()));
        }
    }
    if waiting.is_empty() {
        return Ok(());
    }
    Err(ConfigError(format!(
        "submissions wait in desks' folders ({}), and this server has no desks: no pickup token would \
         list them. Start it with its desks (--desk, or [[desk]] in the config) and pick them up with \
         an unscoped token, then turn desks off",
        waiting.join(", ")
    ))
    .into())
}

/// Creates a folder of mode 0700 unless it exists (the store checks its mode).
fn private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(StoreError::Io {
            path: dir.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Every store folder once: the root, then each desk's (a server without
/// desks has its one desk in the root).
pub(crate) fn stores<'a>(root: &'a Arc<Store>, desks: &'a Desks) -> Vec<&'a Arc<Store>> {
    let mut all = vec![root];
    all.extend(
        desks
            .iter()
            .map(|d| &d.store)
            .filter(|s| !Arc::ptr_eq(s, root)),
    );
    all
}
