//! Replies on the source's side (`/<lang>/replies`): she types her codename,
//! the server derives her tag key and reply keys, finds her replies in the
//! in-memory index (`store::replies`), opens a page of them, and shows them
//! with a follow-up form and a way to delete them. Nothing here is written
//! down: the codename and its keys live for one request; the forms carry a
//! token only this process can read ([`token`]). The design is in
//! docs/FORMAT.md, section 7.4.

pub mod routes;
pub mod token;
pub mod urlencoded;

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::outcome::Problem;
use super::store::replies::{Found, ReplyFolder};
use super::store::Store;
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::reply::file::MAX_ESCAPED_BYTES;
use sealdrop_format::reply::{file, keys, Codename};
use sealdrop_format::seal::ReplyBlock;
use token::{FormTokens, Proof, TokenError};

/// Logins cost one HMAC per waiting reply and a page's openings: they run on
/// the server's login pool (`workers::Pools::logins`, half the cores), with
/// a short queue.
pub struct ReplyChannel {
    pub folder: ReplyFolder,
    pub tokens: FormTokens,
}

/// A page of a source's replies.
pub struct Page {
    /// Newest first by the time sent; at most `PAGE_REPLIES`, and at most
    /// `MAX_ESCAPED_BYTES` of escaped text in all.
    pub shown: Vec<Found>,
    /// Whether more wait (shown once these are deleted).
    pub more: bool,
    /// The thread's desk, named by the newest reply that names one.
    pub desk: Option<String>,
}

/// Cuts `text` at a character boundary so that, with a closing ellipsis,
/// its escaped length is at most `budget`.
fn cut_to_escaped(text: &mut String, budget: usize) {
    const MORE: char = '…';
    let room = budget.saturating_sub(MORE.len_utf8());
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        let cost = match c {
            '&' => 5,
            '<' | '>' => 4,
            c => c.len_utf8(),
        };
        if used + cost > room {
            break;
        }
        used += cost;
        end = at + c.len_utf8();
    }
    text.truncate(end);
    text.push(MORE);
}

impl ReplyChannel {
    pub fn open(
        store: &Store,
        retention: Duration,
        kind: RecipientKind,
        runtime_dir: Option<&Path>,
    ) -> io::Result<ReplyChannel> {
        Ok(ReplyChannel {
            folder: ReplyFolder::open(store, retention, kind, runtime_dir)?,
            tokens: FormTokens::new(),
        })
    }

    /// The page of replies for `codename` (blocking: on the login pool).
    pub fn page_for(&self, codename: &Codename) -> io::Result<Page> {
        let identities = keys::ReplyIdentities::derive(codename);
        let tag_key = keys::tag_key(codename);
        let thread = keys::thread(codename);
        let names = self.folder.matching(&tag_key, &identities)?;
        let mut opened = self.folder.open_page(&names, &identities)?;
        // A reply sealed to her key but naming another thread is an editor's
        // mistake; it is not shown.
        opened.retain(|f| f.reply.thread == thread);
        opened.sort_by(|a, b| b.reply.sent.cmp(&a.reply.sent));
        // The newest first, as many as fit the page's text budget (always
        // one: a single reply's escaped text fits it by the format's rule).
        let mut budget = MAX_ESCAPED_BYTES;
        let mut shown = Vec::new();
        for mut found in opened {
            let cost = file::escaped_len(&found.reply.text);
            if !shown.is_empty() && cost > budget {
                break;
            }
            if cost > budget {
                // Only a file `sealdrop-open reply` did not write (version
                // 1, or made by hand) can be this long: cut, so that no page
                // outgrows the one size every answer has.
                cut_to_escaped(&mut found.reply.text, budget);
            }
            budget = budget.saturating_sub(file::escaped_len(&found.reply.text));
            shown.push(found);
        }
        let desk = shown.iter().find_map(|f| f.reply.desk.clone());
        let more = names.len() > shown.len();
        Ok(Page { shown, more, desk })
    }

    /// What a form's token proves.
    pub fn proof_of(&self, token: &str, now: SystemTime) -> Result<Proof, Problem> {
        self.tokens.open(token, now).map_err(|e| match e {
            TokenError::Unknown | TokenError::Expired => Problem::Expired,
        })
    }

    /// The reply block a follow-up's token stands for, and its thread's desk
    /// (by index), if a reply named one.
    pub fn follow_up_for_token(
        &self,
        token: &str,
        kind: RecipientKind,
        now: SystemTime,
    ) -> Result<(ReplyBlock, Option<usize>), Problem> {
        let proof = self.proof_of(token, now)?;
        Ok((keys::manifest_block(&proof.codename, kind), proof.desk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_reply_is_cut_to_the_page_budget() {
        for text in ["&".repeat(16_000), "x<".repeat(8_000), "ش".repeat(12_000)] {
            let mut cut = text.clone();
            cut_to_escaped(&mut cut, MAX_ESCAPED_BYTES);
            assert!(file::escaped_len(&cut) <= MAX_ESCAPED_BYTES);
            assert!(
                file::escaped_len(&cut) > MAX_ESCAPED_BYTES - 8,
                "cut no shorter than needed"
            );
            assert!(cut.ends_with('…'));
            assert!(text.starts_with(cut.trim_end_matches('…')));
        }
    }
}
