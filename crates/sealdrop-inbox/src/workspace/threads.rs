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

const SINGLE: &str = "single:";

fn key_of(id: &str, record: &SubmissionRecord) -> ThreadKey {
    record
        .thread
        .clone()
        .unwrap_or_else(|| format!("{SINGLE}{id}"))
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
    let mut list: Vec<ThreadSummary> = threads.into_values().collect();
    list.sort_by(|a, b| b.latest.cmp(&a.latest).then_with(|| a.key.cmp(&b.key)));
    list
}

fn short_name(key: &str) -> String {
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

impl Index {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(thread: Option<&str>, received: &str, seen: bool) -> SubmissionRecord {
        SubmissionRecord {
            thread: thread.map(str::to_owned),
            desk: None,
            received: received.to_owned(),
            has_message: true,
            preview: format!("message of {received}"),
            can_reply: thread.is_some(),
            attachments: Vec::new(),
            seen,
        }
    }

    fn arb_index() -> impl Strategy<Value = Index> {
        let thread = prop_oneof![Just(None), (0u8..4).prop_map(|t| Some(format!("{t:064x}")))];
        let one = (thread, 0u32..50, any::<bool>());
        proptest::collection::vec(one, 0..30).prop_map(|records| {
            let mut index = Index::new();
            for (n, (thread, minute, seen)) in records.into_iter().enumerate() {
                let received = format!("2026-12-01T10:{minute:02}:00Z");
                index.submissions.insert(
                    format!("{n:032x}"),
                    record(thread.as_deref(), &received, seen),
                );
            }
            index
        })
    }

    proptest! {
        #[test]
        fn the_list_is_newest_first_and_counts_every_submission(index in arb_index()) {
            let dir = tempfile::tempdir().unwrap();
            let list = thread_list(&index, dir.path());
            prop_assert!(list.windows(2).all(|w| w[0].latest >= w[1].latest));
            prop_assert_eq!(list.iter().map(|t| t.submissions).sum::<usize>(), index.submissions.len());
            prop_assert_eq!(
                list.iter().map(|t| t.unseen).sum::<usize>(),
                index.submissions.values().filter(|r| !r.seen).count()
            );
            // A submission without a thread is a thread of its own.
            let singles = index.submissions.values().filter(|r| r.thread.is_none()).count();
            prop_assert_eq!(list.iter().filter(|t| t.key.starts_with(SINGLE)).count(), singles);
        }

        #[test]
        fn the_divider_comes_before_the_first_unseen_and_seeing_clears_it(mut index in arb_index()) {
            let dir = tempfile::tempdir().unwrap();
            for summary in thread_list(&index.clone(), dir.path()) {
                let items = conversation(&index, dir.path(), &summary.key, dir.path());
                let received: Vec<&SubmissionRecord> = items.iter().filter_map(|i| match i {
                    Item::Received { record, .. } => Some(&**record),
                    _ => None,
                }).collect();
                prop_assert_eq!(received.len(), summary.submissions);
                prop_assert!(received.windows(2).all(|w| w[0].received <= w[1].received));
                let dividers = items.iter().filter(|i| **i == Item::NewSinceLastTime).count();
                prop_assert!(dividers <= 1);
                if let Some(at) = items.iter().position(|i| *i == Item::NewSinceLastTime) {
                    prop_assert!(at > 0);
                    let unseen = |i: &Item| matches!(i, Item::Received { record, .. } if !record.seen);
                    prop_assert!(unseen(&items[at + 1]), "the divider precedes an unseen submission");
                    prop_assert!(!items[..at].iter().any(unseen), "nothing unseen before the divider");
                }
                index.mark_seen(&summary.key);
                let after = conversation(&index, dir.path(), &summary.key, dir.path());
                prop_assert!(!after.contains(&Item::NewSinceLastTime));
                prop_assert!(!index.mark_seen(&summary.key));
            }
            prop_assert!(thread_list(&index, dir.path()).iter().all(|t| t.unseen == 0));
        }
    }
}
