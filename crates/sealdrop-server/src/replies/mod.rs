//! Replies on the source's side (`/<lang>/replies`): she types her codename,
//! the server derives her reply keys, tries them on every reply waiting
//! (`store::replies`), and shows the ones that open, with a follow-up form
//! and a way to delete them. Nothing here is written down: the codename and
//! its keys live for one request; the forms carry a token only this process
//! can read ([`token`]).

pub mod routes;
pub mod token;
pub mod urlencoded;

use std::io;
use std::time::{Duration, SystemTime};

use super::outcome::Problem;
use super::store::replies::{Found, ReplyFolder};
use super::store::Store;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::reply::{keys, Codename};
use sealdrop_format::seal::ReplyBlock;
use token::{FormTokens, TokenError};

/// Logins (and deletions) cost a key agreement per reply waiting: they run
/// on the server's login pool (`workers::Pools::logins`, half the cores),
/// and when every turn is taken the others get a 503 page.
pub struct ReplyChannel {
    pub folder: ReplyFolder,
    pub tokens: FormTokens,
}

impl ReplyChannel {
    pub fn open(store: &Store, retention: Duration) -> io::Result<ReplyChannel> {
        Ok(ReplyChannel {
            folder: ReplyFolder::open(store, retention)?,
            tokens: FormTokens::new(),
        })
    }

    /// The replies for `codename`, newest first (blocking: on the login pool).
    pub fn replies_for(&self, codename: &Codename) -> io::Result<Vec<Found>> {
        let identities = keys::ReplyIdentities::derive(codename);
        let thread = keys::thread(codename);
        let mut found = self.folder.find(identities.iter())?;
        // A reply sealed to her key but naming another thread is an editor's
        // mistake; it is not shown.
        found.retain(|f| f.reply.thread == thread);
        found.sort_by(|a, b| b.reply.sent.cmp(&a.reply.sent));
        Ok(found)
    }

    /// The codename a form's token proves.
    pub fn codename_of(&self, token: &str) -> Result<Codename, Problem> {
        self.tokens
            .open(token, SystemTime::now())
            .map_err(|e| match e {
                TokenError::Unknown | TokenError::Expired => Problem::Expired,
            })
    }

    /// The reply block a follow-up's token stands for.
    pub fn manifest_block_for_token(
        &self,
        token: &str,
        kind: RecipientKind,
    ) -> Result<ReplyBlock, Problem> {
        let codename = self.codename_of(token)?;
        Ok(keys::manifest_block(&codename, kind))
    }
}
