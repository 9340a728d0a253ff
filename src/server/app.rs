//! What every request of the running server shares, and the start-up checks
//! that build it.

use std::sync::Arc;

use super::config::{ConfigError, Limits, ServeConfig};
use super::store::{Store, StoreError};
use super::{pages, stats, tls};
use crate::keys::{KeyError, Recipients};

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
}

/// What every request of the running server shares.
pub struct App {
    pub limits: Limits,
    pub recipients: Recipients,
    pub store: Store,
    /// Upload slots (`upload::slots`).
    pub slots: Arc<super::upload::slots::Slots>,
    /// The bounded pool sealing work runs on.
    pub workers: super::workers::Workers,
    pub stats: stats::Stats,
    pub pages: pages::FixedPages,
    /// Hashes of the accepted pickup tokens.
    pub pickup_tokens: Vec<crate::pickup::TokenHash>,
    /// The reply channel, unless `--replies false`.
    pub replies: Option<super::replies::ReplyChannel>,
}

impl App {
    /// Runs the start-up checks: recipients, store folder, leftovers.
    pub fn new(config: &ServeConfig) -> Result<Arc<App>, StartError> {
        let recipients = Recipients::from_file(&config.recipients)?;
        let store = Store::open(
            &config.store,
            config.limits.min_free_bytes,
            config.limits.store_quota,
        )?;
        if config.limits.expire_unpicked.is_some() {
            store.count_ages_from_birth().map_err(|e| {
                ConfigError(format!(
                    "--expire-unpicked counts a submission's age from its file's birth time, \
                         and the store folder {} cannot give one: {e}",
                    config.store.display()
                ))
            })?;
        }
        let replies = if config.limits.replies {
            let channel = super::replies::ReplyChannel::open(&store, config.limits.reply_retention)
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
                config.limits.max_concurrent_uploads,
                config.limits.body_idle_timeout,
            ),
            workers: super::workers::Workers::for_this_machine(),
            pages: pages::FixedPages::new(&config.limits),
            limits: config.limits.clone(),
            recipients,
            store,
            stats: stats::Stats::default(),
            pickup_tokens: config.pickup_token_hashes.clone(),
        }))
    }
}
