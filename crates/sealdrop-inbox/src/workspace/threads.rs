//! Threads as the editor sees them: one per source (the thread id her
//! submissions' manifests share; a submission without a reply channel is a
//! thread of its own), newest activity first, with what she has not seen;
//! and one thread's conversation in time order, with a divider before what
//! is new since the editor last looked.

use std::collections::BTreeMap;
use std::path::Path;

use super::outbox::{reply_state, ReplyState};
use super::{Index, SubmissionRecord};
use sealdrop_open::shared::{replies_sent, Event};

/// A thread's key: its thread id, or `single:<submission id>`.
pub type ThreadKey = String;

/// How the key of a submission's thread of its own begins.
pub(super) const SINGLE: &str = "single:";

fn key_of(id: &str, record: &SubmissionRecord) -> ThreadKey {
    record.thread_key(id)
}

/// One line of the list of threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadSummary {
    pub key: ThreadKey,
    /// A short name for the source: the thread id's first characters.
    pub short_name: String,
    pub desk: Option<String>,
    pub submissions: usize,
    pub replies: usize,
    pub unseen: usize,
    /// The newest activity, received or sent (RFC 3339).
    pub latest: String,
    /// The newest message's first words.
    pub preview: String,
    pub can_reply: bool,
    pub starred: bool,
    pub junk: bool,
}

/// Which threads the list shows. Junk threads show only under `Junk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Show {
    All,
    Unread,
    Starred,
    Junk,
    Desk(String),
}

/// The list's order, by each thread's newest activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// How many threads each view holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub all: usize,
    pub unread: usize,
    pub starred: usize,
    pub junk: usize,
    /// Per desk, by name.
    pub desks: BTreeMap<String, usize>,
}

impl Show {
    fn admits(&self, thread: &ThreadSummary) -> bool {
        match self {
            Show::Junk => thread.junk,
            _ if thread.junk => false,
            Show::All => true,
            Show::Unread => thread.unseen > 0,
            Show::Starred => thread.starred,
            Show::Desk(desk) => thread.desk.as_deref() == Some(desk),
        }
    }
}

/// The counts of each view over `list`.
pub fn counts(list: &[ThreadSummary]) -> Counts {
    let mut counts = Counts::default();
    for thread in list {
        if thread.junk {
            counts.junk += 1;
            continue;
        }
        counts.all += 1;
        counts.unread += usize::from(thread.unseen > 0);
        counts.starred += usize::from(thread.starred);
        if let Some(desk) = &thread.desk {
            *counts.desks.entry(desk.clone()).or_default() += 1;
        }
    }
    counts
}

/// The threads of `list` that `show` admits (and, with a search, that it
/// found), in `order` (`list` is newest first).
pub fn select(
    list: &[ThreadSummary],
    show: &Show,
    order: Order,
    found: Option<&std::collections::BTreeSet<ThreadKey>>,
) -> Vec<ThreadSummary> {
    let mut out: Vec<ThreadSummary> = list
        .iter()
        .filter(|t| show.admits(t) && found.is_none_or(|f| f.contains(&t.key)))
        .cloned()
        .collect();
    if order == Order::OldestFirst {
        out.sort_by(|a, b| a.latest.cmp(&b.latest).then_with(|| a.key.cmp(&b.key)));
    }
    out
}

/// Every thread, newest activity first (then by key, for a stable order).
pub fn thread_list(index: &Index, root: &Path) -> Vec<ThreadSummary> {
    let mut threads: BTreeMap<ThreadKey, ThreadSummary> = BTreeMap::new();
    for (id, record) in &index.submissions {
        let key = key_of(id, record);
        let entry = threads.entry(key.clone()).or_insert_with(|| ThreadSummary {
            short_name: short_name(&key),
            key,
            desk: None,
            submissions: 0,
            replies: 0,
            unseen: 0,
            latest: String::new(),
            preview: String::new(),
            can_reply: false,
            starred: false,
            junk: false,
        });
        entry.submissions += 1;
        entry.unseen += usize::from(!record.seen);
        entry.can_reply |= record.can_reply;
        if record.received >= entry.latest {
            entry.latest = record.received.clone();
            if !record.preview.is_empty() {
                entry.preview = record.preview.clone();
            }
            if record.desk.is_some() {
                entry.desk = record.desk.clone();
            }
        }
    }
    for summary in threads.values_mut() {
        let Ok(thread) = summary.key.parse() else {
            continue;
        };
        for event in replies_sent(root, &thread) {
            if let Event::Sent { at, .. } = event {
                summary.replies += 1;
                if at > summary.latest {
                    summary.latest = at;
                }
            }
        }
    }
    for summary in threads.values_mut() {
        let marks = index.marks.get(&summary.key).copied().unwrap_or_default();
        summary.starred = marks.starred;
        summary.junk = marks.junk;
    }
    let mut list: Vec<ThreadSummary> = threads.into_values().collect();
    list.sort_by(|a, b| b.latest.cmp(&a.latest).then_with(|| a.key.cmp(&b.key)));
    list
}

/// A short name for the source of thread `key`: its id's first eight letters.
pub fn short_name(key: &str) -> String {
    let id = key.strip_prefix(SINGLE).unwrap_or(key);
    let chars: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!(
        "{}·{}",
        &chars[..chars.len().min(4)],
        &chars[chars.len().min(4)..]
    )
}

/// One item of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// What follows arrived since the editor last looked.
    NewSinceLastTime,
    /// A submission (or follow-up) from the source.
    Received {
        id: String,
        record: Box<SubmissionRecord>,
    },
    /// A reply sealed to her.
    Sent {
        at: String,
        file: String,
        text: String,
        state: ReplyState,
    },
}

/// The conversation of thread `key`, oldest first: submissions and sent
/// replies (same instant: what came in before what went out), with the
/// divider before the first submission not yet seen when something seen
/// or sent comes before it.
pub fn conversation(index: &Index, root: &Path, key: &str, outbox: &Path) -> Vec<Item> {
    let mut items: Vec<(String, u8, Item)> = index
        .submissions
        .iter()
        .filter(|(id, record)| key_of(id, record) == key)
        .map(|(id, record)| {
            (
                record.received.clone(),
                0,
                Item::Received {
                    id: id.clone(),
                    record: Box::new(record.clone()),
                },
            )
        })
        .collect();
    if let Ok(thread) = key.parse() {
        for event in replies_sent(root, &thread) {
            if let Event::Sent { at, file, text, .. } = event {
                let state = reply_state(outbox, &file);
                items.push((
                    at.clone(),
                    1,
                    Item::Sent {
                        at,
                        file,
                        text,
                        state,
                    },
                ));
            }
        }
    }
    items.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out: Vec<Item> = items.into_iter().map(|(_, _, item)| item).collect();
    let first_unseen = out
        .iter()
        .position(|item| matches!(item, Item::Received { record, .. } if !record.seen));
    if let Some(position) = first_unseen.filter(|&p| p > 0) {
        out.insert(position, Item::NewSinceLastTime);
    }
    out
}

/// Where each attachment (by SHA-256) was first received: the submission
/// and its thread. The same file in a later submission, of any thread, is
/// shown once, there.
pub fn first_copies(index: &Index) -> BTreeMap<String, (String, ThreadKey)> {
    let mut by_time: Vec<(&String, &SubmissionRecord)> = index.submissions.iter().collect();
    by_time.sort_by(|a, b| (&a.1.received, a.0).cmp(&(&b.1.received, b.0)));
    let mut first = BTreeMap::new();
    for (id, record) in by_time {
        for attachment in &record.attachments {
            if !attachment.sha256.is_empty() {
                first
                    .entry(attachment.sha256.clone())
                    .or_insert_with(|| (id.clone(), key_of(id, record)));
            }
        }
    }
    first
}

impl Index {
    /// Stars or unstars thread `key`.
    pub fn set_starred(&mut self, key: &str, starred: bool) {
        self.marks.entry(key.to_owned()).or_default().starred = starred;
    }

    /// Marks thread `key` as junk, or not.
    pub fn set_junk(&mut self, key: &str, junk: bool) {
        self.marks.entry(key.to_owned()).or_default().junk = junk;
    }

    /// Marks every submission of thread `key` seen; whether any was not.
    pub fn mark_seen(&mut self, key: &str) -> bool {
        let mut changed = false;
        for (id, record) in self.submissions.iter_mut() {
            if !record.seen && key_of(id, record) == key {
                record.seen = true;
                changed = true;
            }
        }
        changed
    }
}
