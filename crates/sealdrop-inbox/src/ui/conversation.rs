//! One source's conversation: what she sent and what was answered, oldest
//! first, each paragraph in its own direction; each file with what
//! `inspect` found in plain words and what can be done with it; and the
//! composer that seals a reply into the outbox.

use std::path::PathBuf;
use std::rc::Rc;

use gtk::prelude::*;
use gtk4 as gtk;

use super::{dialogs, Inbox};
use crate::i18n::Words;
use crate::text::{paragraphs, Direction};
use crate::workspace::{conversation, AttachmentRecord, Item, ReplyState, SubmissionRecord};
use sealdrop_format::reply::file::MAX_REPLY_BYTES;
use sealdrop_format::terminal::human_size;

/// The most of a message file the window reads (messages are far shorter).
const MAX_MESSAGE_SHOWN: u64 = 4 << 20;

/// The reply composer below the conversation.
pub(crate) struct Composer {
    pub frame: gtk::Box,
    pub text: gtk::TextView,
    pub count: gtk::Label,
    pub send: gtk::Button,
    pub outbox: gtk::Entry,
    pub note: gtk::Label,
}

impl Composer {
    pub(crate) fn new(words: &Words) -> Composer {
        let frame = gtk::Box::new(gtk::Orientation::Vertical, 4);
        frame.set_margin_start(12);
        frame.set_margin_end(12);
        frame.set_margin_bottom(8);
        let heading = gtk::Label::new(Some(&words.get("composer")));
        heading.set_xalign(0.0);
        heading.add_css_class("heading");
        let text: gtk::TextView = super::named("GtkTextView", &words.get("composer"));
        text.set_wrap_mode(gtk::WrapMode::WordChar);
        text.set_accepts_tab(false);
        let text_scroller = gtk::ScrolledWindow::builder()
            .child(&text)
            .min_content_height(90)
            .max_content_height(200)
            .build();
        text_scroller.add_css_class("frame");
        let count = gtk::Label::new(None);
        count.set_xalign(0.0);
        count.set_hexpand(true);
        let send = gtk::Button::with_label(&words.get("seal-reply"));
        send.set_action_name(Some("win.send"));
        let outbox_label = gtk::Label::new(Some(&words.get("outbox")));
        let outbox: gtk::Entry = super::named("GtkEntry", &words.get("outbox"));
        outbox.set_hexpand(true);
        let outbox_row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        outbox_row.append(&outbox_label);
        outbox_row.append(&outbox);
        let actions = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        actions.append(&count);
        actions.append(&send);
        let note = gtk::Label::new(None);
        note.set_xalign(0.0);
        note.set_wrap(true);
        note.set_visible(false);
        frame.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        frame.append(&heading);
        frame.append(&note);
        frame.append(&text_scroller);
        frame.append(&outbox_row);
        frame.append(&actions);
        frame.set_sensitive(false);
        Composer {
            frame,
            text,
            count,
            send,
            outbox,
            note,
        }
    }

    fn text(&self) -> String {
        let buffer = self.text.buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }

    fn set_text(&self, text: &str) {
        self.text.buffer().set_text(text);
    }
}

/// The byte count as the editor types, and the draft kept in the index.
pub(crate) fn connect_composer(inbox: &Rc<Inbox>) {
    update_count(inbox);
    let weak = Rc::downgrade(inbox);
    inbox.composer.text.buffer().connect_changed(move |_| {
        let Some(inbox) = weak.upgrade() else { return };
        update_count(&inbox);
        let Some(key) = inbox.selected.borrow().clone() else {
            return;
        };
        let text = inbox.composer.text();
        let mut workspace = inbox.workspace.borrow_mut();
        let drafts = &mut workspace.index.drafts;
        if text.is_empty() {
            drafts.remove(&key);
        } else {
            drafts.insert(key, text);
        }
    });
    // Drafts are written when the editor leaves the composer, not at every key.
    let weak = Rc::downgrade(inbox);
    let focus = gtk::EventControllerFocus::new();
    focus.connect_leave(move |_| {
        if let Some(inbox) = weak.upgrade() {
            inbox.save();
        }
    });
    inbox.composer.text.add_controller(focus);
    let weak = Rc::downgrade(inbox);
    inbox.composer.outbox.connect_changed(move |entry| {
        if let Some(inbox) = weak.upgrade() {
            let text = entry.text().to_string();
            inbox.workspace.borrow_mut().index.outbox =
                (!text.trim().is_empty()).then(|| PathBuf::from(text.trim()));
        }
    });
}

fn update_count(inbox: &Inbox) {
    let bytes = inbox.composer.text().len();
    let words = inbox.words();
    let text = if bytes > MAX_REPLY_BYTES {
        words.format(
            "reply-over",
            &[("over", &(bytes - MAX_REPLY_BYTES).to_string())],
        )
    } else {
        words.format(
            "reply-count",
            &[
                ("bytes", &bytes.to_string()),
                ("limit", &MAX_REPLY_BYTES.to_string()),
            ],
        )
    };
    inbox.composer.count.set_text(&text);
    inbox
        .composer
        .send
        .set_sensitive(bytes > 0 && bytes <= MAX_REPLY_BYTES);
}

fn clear(container: &gtk::Box) {
    while let Some(child) = container.first_child() {
        container.remove(&child);
    }
}

pub(crate) fn show_placeholder(inbox: &Inbox, text: &str) {
    clear(&inbox.conversation);
    let label = gtk::Label::new(Some(text));
    label.set_wrap(true);
    label.set_vexpand(true);
    inbox.conversation.append(&label);
    inbox.composer.frame.set_sensitive(false);
}

/// A label of a stranger's text, one paragraph, in its own direction.
fn paragraph_label(text: &str, direction: Direction) -> gtk::Label {
    let label = gtk::Label::new(Some(text));
    label.set_wrap(true);
    label.set_wrap_mode(gtk::pango::WrapMode::WordChar);
    label.set_selectable(true);
    label.set_xalign(0.0);
    label.set_halign(gtk::Align::Fill);
    match direction {
        Direction::RightToLeft => label.set_direction(gtk::TextDirection::Rtl),
        Direction::LeftToRight => label.set_direction(gtk::TextDirection::Ltr),
        Direction::Neutral => {}
    }
    label
}

fn append_text(container: &gtk::Box, text: &str) {
    for (paragraph, direction) in paragraphs(text) {
        container.append(&paragraph_label(&paragraph, direction));
    }
}

fn read_message(inbox: &Inbox, id: &str) -> Option<String> {
    use std::io::Read;
    let path = inbox
        .workspace
        .borrow()
        .submission_dir(id)
        .join(sealdrop_format::seal::manifest::MESSAGE_PATH);
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_MESSAGE_SHOWN).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Shows thread `key`; `fresh` when another thread was shown before (the
/// composer then takes this thread's draft).
pub(crate) fn show(inbox: &Rc<Inbox>, key: &str, fresh: bool) {
    clear(&inbox.conversation);
    let items = {
        let workspace = inbox.workspace.borrow();
        conversation(
            &workspace.index,
            workspace.root(),
            key,
            &PathBuf::from(inbox.composer.outbox.text().as_str()),
        )
    };
    let words = inbox.words();
    inbox.conversation.append(&marks_row(inbox, key));
    let first_copies = crate::workspace::first_copies(&inbox.workspace.borrow().index);
    let mut can_reply = false;
    for item in &items {
        match item {
            Item::NewSinceLastTime => {
                let divider = gtk::Box::new(gtk::Orientation::Horizontal, 8);
                let line = gtk::Separator::new(gtk::Orientation::Horizontal);
                line.set_hexpand(true);
                line.set_valign(gtk::Align::Center);
                let label = gtk::Label::new(Some(&words.get("new-since")));
                label.add_css_class("accent");
                divider.append(&label);
                divider.append(&line);
                inbox.conversation.append(&divider);
            }
            Item::Received { id, record } => {
                can_reply |= record.can_reply;
                inbox
                    .conversation
                    .append(&received(inbox, id, record, &first_copies));
            }
            Item::Sent {
                at, text, state, ..
            } => inbox.conversation.append(&sent(words, at, text, *state)),
        }
    }
    inbox.composer.frame.set_sensitive(can_reply);
    inbox.composer.note.set_visible(!can_reply);
    inbox.composer.note.set_text(&words.get("cannot-reply"));
    if fresh {
        let draft = inbox
            .workspace
            .borrow()
            .index
            .drafts
            .get(key)
            .cloned()
            .unwrap_or_default();
        inbox.composer.set_text(&draft);
    }
}

fn card() -> gtk::Box {
    let card = gtk::Box::new(gtk::Orientation::Vertical, 6);
    card.add_css_class("card");
    card.set_margin_bottom(4);
    card
}

fn padded(child: &gtk::Box) {
    child.set_margin_top(10);
    child.set_margin_bottom(10);
    child.set_margin_start(12);
    child.set_margin_end(12);
}

/// The thread's marks, as two buttons that say what they do.
fn marks_row(inbox: &Rc<Inbox>, key: &str) -> gtk::Box {
    let words = inbox.words();
    let marks = inbox
        .workspace
        .borrow()
        .index
        .marks
        .get(key)
        .copied()
        .unwrap_or_default();
    let row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    row.set_halign(gtk::Align::End);
    let star = gtk::Button::with_label(&words.get(if marks.starred { "unstar" } else { "star" }));
    star.set_action_name(Some("win.star"));
    let junk = gtk::Button::with_label(&words.get(if marks.junk { "not-junk" } else { "junk" }));
    junk.set_action_name(Some("win.junk"));
    if marks.junk {
        let note = gtk::Label::new(Some(&words.get("junk-note")));
        note.set_wrap(true);
        note.set_hexpand(true);
        note.set_xalign(0.0);
        row.set_halign(gtk::Align::Fill);
        row.append(&note);
    }
    let export = gtk::Button::with_label(&words.get("export"));
    export.set_action_name(Some("win.export"));
    let print = gtk::Button::with_label(&words.get("print"));
    print.set_action_name(Some("win.print"));
    let delete = gtk::Button::with_label(&words.get("delete"));
    delete.set_action_name(Some("win.delete"));
    row.append(&star);
    row.append(&junk);
    row.append(&export);
    row.append(&print);
    row.append(&delete);
    row
}

fn received(
    inbox: &Rc<Inbox>,
    id: &str,
    record: &SubmissionRecord,
    first_copies: &std::collections::BTreeMap<String, (String, String)>,
) -> gtk::Box {
    let words = inbox.words();
    let card = card();
    padded(&card);
    let mut heading = words.format(
        "received",
        &[("time", &crate::text::moment(&record.received))],
    );
    if let Some(desk) = &record.desk {
        heading = format!(
            "{heading} · {}",
            words.format("desk", &[("desk", &crate::text::visible(desk))])
        );
    }
    let title = gtk::Label::new(Some(&heading));
    title.set_xalign(0.0);
    title.add_css_class("heading");
    card.append(&title);
    match record
        .has_message
        .then(|| read_message(inbox, id))
        .flatten()
    {
        Some(text) => append_text(&card, &text),
        None => {
            let none = gtk::Label::new(Some(&words.get("message-none")));
            none.set_xalign(0.0);
            none.add_css_class("dim-label");
            card.append(&none);
        }
    }
    for attachment in &record.attachments {
        match first_copies.get(&attachment.sha256) {
            // The same file came earlier (in this thread or another): said
            // once here, shown there.
            Some((first, thread)) if first != id && !attachment.sha256.is_empty() => {
                card.append(&same_file(inbox, attachment, first, thread));
            }
            _ => card.append(&file_box(inbox, id, attachment)),
        }
    }
    let delete = gtk::Button::with_label(&words.get("delete-submission"));
    delete.set_halign(gtk::Align::End);
    let weak = Rc::downgrade(inbox);
    let id = id.to_owned();
    delete.connect_clicked(move |_| {
        if let Some(inbox) = weak.upgrade() {
            dialogs::delete_submission(&inbox, &id);
        }
    });
    card.append(&delete);
    card
}

/// One line for a file already received: which source sent it first, when.
fn same_file(
    inbox: &Rc<Inbox>,
    attachment: &AttachmentRecord,
    first: &str,
    thread: &str,
) -> gtk::Label {
    let words = inbox.words();
    let workspace = inbox.workspace.borrow();
    let when = workspace
        .index
        .submissions
        .get(first)
        .map(|r| crate::text::moment(&r.received))
        .unwrap_or_default();
    let source = crate::workspace::thread_list(&workspace.index, workspace.root())
        .into_iter()
        .find(|t| t.key == thread)
        .map(|t| t.short_name)
        .unwrap_or_default();
    let shown_name = crate::text::visible(
        attachment
            .original_name
            .as_deref()
            .unwrap_or(&attachment.name),
    );
    let label = gtk::Label::new(Some(&words.format(
        "same-file",
        &[("name", &shown_name), ("source", &source), ("time", &when)],
    )));
    label.set_xalign(0.0);
    label.set_wrap(true);
    label.add_css_class("dim-label");
    label
}

fn file_box(inbox: &Rc<Inbox>, id: &str, attachment: &AttachmentRecord) -> gtk::Box {
    let words = inbox.words();
    let shown_name = crate::text::visible(
        attachment
            .original_name
            .as_deref()
            .unwrap_or(&attachment.name),
    );
    let frame = gtk::Box::new(gtk::Orientation::Vertical, 4);
    frame.add_css_class("frame");
    frame.set_margin_top(4);
    let inner = gtk::Box::new(gtk::Orientation::Vertical, 4);
    padded(&inner);
    frame.append(&inner);
    let title = gtk::Label::new(Some(&words.format(
        "file-line",
        &[
            ("name", &shown_name),
            ("size", &human_size(attachment.size)),
        ],
    )));
    title.set_xalign(0.0);
    title.add_css_class("heading");
    inner.append(&title);
    for line in crate::export::findings_lines(words, attachment, crate::export::Values::Shown) {
        let label = gtk::Label::new(Some(&line));
        label.set_xalign(0.0);
        label.set_wrap(true);
        label.set_wrap_mode(gtk::pango::WrapMode::WordChar);
        label.set_selectable(true);
        inner.append(&label);
    }
    let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    // The index is ours, but a path from it is joined only in the one shape
    // import writes: cleaned/<one name>.
    let cleaned = attachment
        .cleaned
        .as_deref()
        .and_then(|relative| relative.strip_prefix("cleaned/"))
        .filter(|name| !name.is_empty() && !name.contains('/') && *name != "." && *name != "..")
        .map(|name| {
            inbox
                .workspace
                .borrow()
                .submission_dir(id)
                .join(sealdrop_open::shared::CLEANED_DIR)
                .join(name)
        });
    if attachment.is_picture() {
        if let Some(path) = cleaned.clone() {
            let button = gtk::Button::with_label(&words.get("show-picture"));
            let weak = Rc::downgrade(inbox);
            button.connect_clicked(move |_| {
                if let Some(inbox) = weak.upgrade() {
                    dialogs::render_picture(&inbox, path.clone());
                }
            });
            buttons.append(&button);
        }
    }
    if let Some(path) = cleaned {
        let button = gtk::Button::with_label(&words.get("save-cleaned"));
        let weak = Rc::downgrade(inbox);
        let name = attachment.name.clone();
        let source = path.clone();
        button.connect_clicked(move |_| {
            if let Some(inbox) = weak.upgrade() {
                dialogs::save_cleaned(&inbox, source.clone(), &name);
            }
        });
        buttons.append(&button);
        let button = gtk::Button::with_label(&words.get("open-with"));
        let weak = Rc::downgrade(inbox);
        let kind = attachment.report.kind;
        button.connect_clicked(move |_| {
            if let Some(inbox) = weak.upgrade() {
                dialogs::open_with(&inbox, path.clone(), kind);
            }
        });
        buttons.append(&button);
    }
    let button = gtk::Button::with_label(&words.get("save-original"));
    let weak = Rc::downgrade(inbox);
    let (id, part, name) = (id.to_owned(), attachment.part, attachment.name.clone());
    button.connect_clicked(move |_| {
        if let Some(inbox) = weak.upgrade() {
            dialogs::save_original(&inbox, &id, part, &name);
        }
    });
    buttons.append(&button);
    inner.append(&buttons);
    frame
}

fn sent(words: &Words, at: &str, text: &str, state: ReplyState) -> gtk::Box {
    let card = card();
    padded(&card);
    card.set_margin_start(48);
    let state = words.get(match state {
        ReplyState::Written => "reply-written",
        ReplyState::Pushed => "reply-pushed",
        ReplyState::Refused => "reply-refused",
        ReplyState::NotInOutbox => "reply-missing",
    });
    let title = gtk::Label::new(Some(&format!(
        "{} · {state}",
        words.format("reply-sent", &[("time", &crate::text::moment(at))])
    )));
    title.set_xalign(0.0);
    title.add_css_class("heading");
    card.append(&title);
    append_text(&card, text);
    card
}

/// Seals the composer's text to the selected source, into the outbox.
pub(crate) fn send_reply(inbox: &Rc<Inbox>) {
    let Some(key) = inbox.selected.borrow().clone() else {
        return;
    };
    let text = inbox.composer.text();
    if text.is_empty() || text.len() > MAX_REPLY_BYTES || !inbox.composer.frame.is_sensitive() {
        return;
    }
    let outbox = PathBuf::from(inbox.composer.outbox.text().trim());
    // The newest submission of the thread that has a reply channel.
    let answered = {
        let workspace = inbox.workspace.borrow();
        workspace
            .index
            .submissions
            .iter()
            .filter(|(id, r)| r.can_reply && r.thread_key(id) == key)
            .max_by(|a, b| a.1.received.cmp(&b.1.received))
            .map(|(id, _)| id.clone())
    };
    let Some(id) = answered else { return };
    let root = inbox.workspace.borrow().root().to_owned();
    match crate::workspace::seal_reply(&root, &id, &text, &outbox) {
        Ok(written) => {
            inbox.composer.set_text("");
            inbox.workspace.borrow_mut().index.drafts.remove(&key);
            inbox.save();
            let file = written
                .sealed
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            inbox.say(&inbox.words().format("reply-sealed", &[("file", &file)]));
            if let Err(e) = inbox.workspace.borrow().index_replies(&key) {
                inbox.say(&e.to_string());
            }
            inbox.refresh_threads();
            show(inbox, &key, false);
        }
        Err(e) => {
            let text = inbox.words().format("error", &[("reason", &e.to_string())]);
            inbox.say(&text);
            dialogs::error(inbox, &text);
        }
    }
}
