//! The inbox's workspace state, property-tested (issue 35): the list of
//! threads and each conversation against any mix of threads, arrival times
//! and seen flags; and how a stranger's text is cut into paragraphs. Here
//! rather than in the crate, so that the inbox's own tests build it exactly
//! as it ships (scripts/check-offline-deps.sh): proptest would change the
//! features of a crate it links.

use proptest::prelude::*;
use sealdrop_inbox::text::{paragraphs, preview};
use sealdrop_inbox::workspace::{conversation, thread_list, Index, Item, SubmissionRecord};

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
        prop_assert_eq!(list.iter().filter(|t| t.key.starts_with("single:")).count(), singles);
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

proptest! {
    #[test]
    fn paragraphs_keep_every_word_and_no_blank_paragraph(text in "[a-zب-ي \\n]{0,200}") {
        let got = paragraphs(&text);
        let words: Vec<&str> = text.split_whitespace().collect();
        let kept: Vec<String> = got.iter().map(|(p, _)| p.clone()).collect();
        let kept_words: Vec<&str> = kept.iter().flat_map(|p| p.split_whitespace()).collect();
        prop_assert_eq!(words, kept_words);
        prop_assert!(got.iter().all(|(p, _)| !p.trim().is_empty()));
    }

    #[test]
    fn a_preview_is_one_short_line(text in "\\PC{0,400}") {
        let p = preview(&text);
        prop_assert!(!p.contains('\n'));
        prop_assert!(p.chars().count() <= 91, "{} chars", p.chars().count());
    }
}

/// An index with marks: some threads starred, some junk.
fn arb_marked() -> impl Strategy<Value = Index> {
    (
        arb_index(),
        proptest::collection::vec((any::<bool>(), any::<bool>()), 5),
    )
        .prop_map(|(mut index, marks)| {
            let keys: Vec<String> = index
                .submissions
                .iter()
                .map(|(id, r)| r.thread_key(id))
                .collect();
            for (key, (starred, junk)) in keys.iter().zip(marks) {
                index.set_starred(key, starred);
                index.set_junk(key, junk);
            }
            index
        })
}

proptest! {
    #[test]
    fn views_count_and_show_what_they_say(index in arb_marked()) {
        use sealdrop_inbox::workspace::{counts, select, Order, Show};
        let dir = tempfile::tempdir().unwrap();
        let list = thread_list(&index, dir.path());
        let counted = counts(&list);
        prop_assert_eq!(counted.all + counted.junk, list.len());
        let all = select(&list, &Show::All, Order::NewestFirst, None);
        prop_assert_eq!(all.len(), counted.all);
        prop_assert!(all.iter().all(|t| !t.junk), "junk is hidden from All");
        let junk = select(&list, &Show::Junk, Order::NewestFirst, None);
        prop_assert_eq!(junk.len(), counted.junk);
        prop_assert!(junk.iter().all(|t| t.junk));
        let starred = select(&list, &Show::Starred, Order::NewestFirst, None);
        prop_assert_eq!(starred.len(), counted.starred);
        prop_assert!(starred.iter().all(|t| t.starred && !t.junk));
        let unread = select(&list, &Show::Unread, Order::NewestFirst, None);
        prop_assert_eq!(unread.len(), counted.unread);
        prop_assert!(unread.iter().all(|t| t.unseen > 0));
        let oldest = select(&list, &Show::All, Order::OldestFirst, None);
        prop_assert!(oldest.windows(2).all(|w| w[0].latest <= w[1].latest));
        prop_assert_eq!(oldest.len(), all.len());
        // A search narrows a view to what it found, and nothing else.
        let found: std::collections::BTreeSet<String> =
            all.iter().step_by(2).map(|t| t.key.clone()).collect();
        let narrowed = select(&list, &Show::All, Order::NewestFirst, Some(&found));
        prop_assert!(narrowed.iter().all(|t| found.contains(&t.key)));
        prop_assert_eq!(narrowed.len(), found.len());
    }
}

#[test]
fn the_same_file_is_shown_where_it_came_first() {
    use sealdrop_inbox::workspace::{first_copies, AttachmentRecord};
    let attachment = |sha: &str| AttachmentRecord {
        part: 1,
        name: "leak.pdf".into(),
        original_name: None,
        size: 10,
        sha256: sha.into(),
        report: sealdrop_scrub::inspect(b"%PDF-1.4\n", "leak.pdf"),
        cleaned: None,
        not_cleaned: Some("test".into()),
        removed: Vec::new(),
        searched: false,
        not_searched: Vec::new(),
    };
    let mut index = Index::new();
    for (id, thread, at, sha) in [
        ("b", Some("t2"), "2026-12-02T00:00:00Z", "aa"),
        ("a", Some("t1"), "2026-12-01T00:00:00Z", "aa"),
        ("c", None, "2026-12-03T00:00:00Z", "bb"),
    ] {
        let mut r = record(thread, at, false);
        r.attachments.push(attachment(sha));
        index.submissions.insert(id.into(), r);
    }
    let first = first_copies(&index);
    assert_eq!(first["aa"], ("a".to_owned(), "t1".to_owned()));
    assert_eq!(first["bb"], ("c".to_owned(), "single:c".to_owned()));
}

/// Deleting one submission of a thread keeps the thread (its other
/// submissions, its draft and marks); deleting the last one takes those
/// too. Each time the words of what went leave the search index, the ids
/// are kept as deleted, and nothing of another submission whose id begins
/// the same goes with them.
#[test]
fn deleting_submissions_keeps_a_thread_until_its_last_one_goes() {
    use sealdrop_inbox::workspace::Workspace;
    let dir = tempfile::tempdir().unwrap();
    let mut workspace = Workspace::open(dir.path()).unwrap();
    let thread = format!("{:064x}", 7);
    for (id, word, thread) in [
        ("a1", "alpha", Some(thread.as_str())),
        ("a2", "bravo", Some(thread.as_str())),
        ("a", "charlie", None),
    ] {
        let folder = workspace.submission_dir(id);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("message.txt"), word).unwrap();
        workspace
            .index
            .submissions
            .insert(id.to_owned(), record(thread, "2026-12-01T10:00:00Z", true));
        workspace.index_submission(id, &[]).unwrap();
    }
    workspace
        .index
        .drafts
        .insert(thread.clone(), "a draft".into());
    workspace.index.set_starred(&thread, true);
    let found = |workspace: &Workspace, word: &str| workspace.search_threads(word).unwrap();

    // The submission whose id begins the others' goes alone.
    assert_eq!(workspace.delete_submissions(&["a".to_owned()]).unwrap(), 1);
    assert!(found(&workspace, "charlie").is_empty());
    assert_eq!(found(&workspace, "alpha").len(), 1);
    assert_eq!(found(&workspace, "bravo").len(), 1);
    assert!(workspace.submission_dir("a1").exists());
    assert_eq!(workspace.delete_submissions(&["a1".to_owned()]).unwrap(), 1);
    assert!(found(&workspace, "alpha").is_empty());
    assert_eq!(found(&workspace, "bravo").len(), 1);
    assert!(!workspace.submission_dir("a1").exists() && workspace.submission_dir("a2").exists());
    assert!(
        workspace.index.drafts.contains_key(&thread),
        "the thread keeps its draft"
    );
    assert!(workspace.index.marks[&thread].starred);

    assert_eq!(workspace.delete_thread(&thread).unwrap(), 1);
    assert!(found(&workspace, "bravo").is_empty());
    assert!(!workspace.index.drafts.contains_key(&thread));
    assert!(!workspace.index.marks.contains_key(&thread));
    assert_eq!(
        workspace.index.deleted,
        std::collections::BTreeSet::from(["a".to_owned(), "a1".to_owned(), "a2".to_owned()])
    );
    assert!(workspace.index.submissions.is_empty());
    assert!(workspace.search.vocabulary().unwrap().is_empty());
    // Unknown ids are not counted, and nothing fails.
    assert_eq!(workspace.delete_submissions(&["zz".to_owned()]).unwrap(), 0);
}

/// After a crash between the workspace's index and the search index, the
/// next start brings them in step, document by document: words of a
/// submission the index does not have go even though its thread stays,
/// and a submission without words gets them.
#[test]
fn the_search_index_is_brought_in_step_at_start() {
    use sealdrop_inbox::workspace::Workspace;
    let dir = tempfile::tempdir().unwrap();
    let thread = format!("{:064x}", 9);
    {
        let mut workspace = Workspace::open(dir.path()).unwrap();
        for (id, word) in [("b1", "kilo"), ("b2", "lima"), ("b3", "mike")] {
            let folder = workspace.submission_dir(id);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("message.txt"), word).unwrap();
            workspace.index.submissions.insert(
                id.to_owned(),
                record(Some(&thread), "2026-12-01T10:00:00Z", true),
            );
            if id != "b3" {
                workspace.index_submission(id, &[]).unwrap();
            }
        }
        // As a crash leaves it: b2's words indexed but its record lost, b3
        // recorded but never indexed.
        workspace.index.submissions.remove("b2");
        workspace.save().unwrap();
    }
    let workspace = Workspace::open(dir.path()).unwrap();
    let found = |word: &str| workspace.search_threads(word).unwrap().len();
    assert_eq!(found("kilo"), 1);
    assert_eq!(found("lima"), 0, "the lost record's words went");
    assert_eq!(found("mike"), 1, "the unindexed submission was indexed");
    assert!(!workspace.search.vocabulary().unwrap().contains("lima"));
}
