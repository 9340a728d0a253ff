//! The GTK 4 windows (API of GTK 4.8 at most: Debian 12 and Tails 6). The
//! window owns the workspace's index and is its one writer; slow work
//! (loading keys, importing, decoding a picture in the sandbox) runs on
//! worker threads that report back through a channel the window polls.
//! Every control has a name screen readers announce (its label, or an
//! accessible label where it shows none), and every action a shortcut
//! (listed under F1).

/// How many sources the list shows at first, and adds at each "Show more".
pub const LIST_PAGE: usize = 250;

mod conversation;
mod dialogs;
mod export;
mod import;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use gtk::prelude::*;
use gtk::{gio, glib};
use gtk4 as gtk;

use crate::i18n::Words;
use crate::keys::{KeyRing, Question};
use crate::workspace::{
    counts, select, thread_list, ImportEvent, ImportSummary, Order, Show, ThreadSummary, Workspace,
};

/// What the inbox is started with (the command line's options).
pub struct Settings {
    pub workspace: PathBuf,
    pub outbox: Option<PathBuf>,
    pub words: Words,
    /// Identities are forgotten after this long without use.
    pub forget_keys_after: Duration,
}

/// What a worker thread reports to the window.
pub(crate) enum Report {
    Import(ImportEvent),
    ImportDone(ImportSummary),
    KeysFailed(String),
    Picture(Result<sealdrop_scrub::sandbox::Pixels, String>),
    Saved(Result<PathBuf, String>),
}

/// The window's state.
pub(crate) struct Inbox {
    pub settings: Settings,
    pub workspace: RefCell<Workspace>,
    pub keys: Arc<KeyRing>,
    pub reports: mpsc::Sender<Report>,
    pub questions: mpsc::Sender<Question>,
    pub window: gtk::ApplicationWindow,
    pub thread_rows: gtk::ListBox,
    pub threads: RefCell<Vec<ThreadSummary>>,
    pub selected: RefCell<Option<String>>,
    /// Set while the list is rebuilt, so that reselecting the row shown
    /// does not show it again.
    pub refreshing: std::cell::Cell<bool>,
    pub conversation: gtk::Box,
    pub composer: conversation::Composer,
    pub status: gtk::Label,
    pub keys_status: gtk::Label,
    pub progress: gtk::ProgressBar,
    pub import_progress: RefCell<Option<crate::workspace::Progress>>,
    /// The files the running import could not take, listed when it ends.
    pub failures: RefCell<Vec<String>>,
    /// What the list shows: the search typed, the view chosen, the order.
    pub search_entry: gtk::SearchEntry,
    /// The views, as buttons with their counts.
    pub show_choice: gtk::FlowBox,
    /// Its buttons, kept while the views stay the same (so that the one
    /// with the keyboard focus keeps it when the counts change).
    pub view_buttons: RefCell<Vec<(Show, gtk::ToggleButton)>>,
    /// Deletes every source the list shows, after a warning.
    pub delete_shown: gtk::Button,
    /// How many rows the list shows ([`LIST_PAGE`] more at each press of
    /// `show_more`); back to one page when the view or the search changes.
    pub rows_shown: std::cell::Cell<usize>,
    pub show_more: gtk::Button,
    pub showing: RefCell<Show>,
    pub oldest_first: gtk::ToggleButton,
}

impl Inbox {
    pub(crate) fn words(&self) -> &Words {
        &self.settings.words
    }

    /// Says `text` in the status line (announced by screen readers).
    pub(crate) fn say(&self, text: &str) {
        self.status.set_text(text);
    }

    /// Writes the index; a failure is said, the window goes on.
    pub(crate) fn save(&self) {
        if let Err(e) = self.workspace.borrow().save() {
            self.say(&self.words().format("error", &[("reason", &e.to_string())]));
        }
    }

    fn update_keys_status(&self) {
        let minutes = (self.settings.forget_keys_after.as_secs() / 60)
            .max(1)
            .to_string();
        let text = if self.keys.is_held() {
            self.words().format("keys-held", &[("minutes", &minutes)])
        } else {
            self.words().get("keys-none")
        };
        if self.keys_status.text() != text {
            self.keys_status.set_text(&text);
        }
    }

    /// Rebuilds the list of threads, keeping the selection.
    pub(crate) fn refresh_threads(self: &Rc<Self>) {
        let everything = {
            let workspace = self.workspace.borrow();
            thread_list(&workspace.index, workspace.root())
        };
        let show = self.update_show_choice(&everything);
        let typed = self.search_entry.text().to_string();
        let found = if typed.trim().is_empty() {
            None
        } else {
            let result = self.workspace.borrow().search_threads(&typed);
            match result {
                Ok(found) => Some(found),
                Err(e) => {
                    // Nothing found rather than everything: "Delete the
                    // sources shown" must never reach what a failed
                    // search did not choose.
                    self.say(&e.to_string());
                    Some(Default::default())
                }
            }
        };
        let order = if self.oldest_first.is_active() {
            Order::OldestFirst
        } else {
            Order::NewestFirst
        };
        let list = select(&everything, &show, order, found.as_ref());
        while let Some(row) = self.thread_rows.row_at_index(0) {
            self.thread_rows.remove(&row);
        }
        let selected = self.selected.borrow().clone();
        let mut select = None;
        // A page of rows at a time: GTK lays out every row of a list box,
        // and ten thousand would take seconds.
        let limit = self.rows_shown.get().max(LIST_PAGE);
        let more = list.len().saturating_sub(limit);
        self.show_more.set_label(
            &self
                .words()
                .format("show-more", &[("count", &more.min(LIST_PAGE).to_string())]),
        );
        self.show_more.set_visible(more > 0);
        for (n, thread) in list.iter().take(limit).enumerate() {
            let row = thread_row(self.words(), thread);
            self.thread_rows.append(&row);
            if selected.as_deref() == Some(thread.key.as_str()) {
                select = Some(n);
            }
        }
        self.delete_shown.set_label(
            &self
                .words()
                .format("delete-shown", &[("count", &list.len().to_string())]),
        );
        self.delete_shown.set_sensitive(!list.is_empty());
        *self.threads.borrow_mut() = list;
        if let Some(n) = select {
            let row = self.thread_rows.row_at_index(n as i32);
            // Only the highlight: selecting the row again must not show the
            // thread again, which would mark seen what just arrived in it.
            self.refreshing.set(true);
            self.thread_rows.select_row(row.as_ref());
            self.refreshing.set(false);
        }
        if everything.is_empty() {
            conversation::show_placeholder(self, &self.words().get("empty"));
        }
    }

    /// Offers the views with their counts (All, Unread, Starred, each
    /// desk, Junk) as a row of buttons of which one is pressed, keeping the
    /// one chosen; the view to show.
    fn update_show_choice(self: &Rc<Self>, everything: &[ThreadSummary]) -> Show {
        let counts = counts(everything);
        let words = self.words();
        let mut options = vec![
            (
                Show::All,
                words.format("show-all", &[("count", &counts.all.to_string())]),
            ),
            (
                Show::Unread,
                words.format("show-unread", &[("count", &counts.unread.to_string())]),
            ),
            (
                Show::Starred,
                words.format("show-starred", &[("count", &counts.starred.to_string())]),
            ),
        ];
        for (desk, count) in &counts.desks {
            options.push((
                Show::Desk(desk.clone()),
                words.format(
                    "show-desk",
                    &[
                        ("desk", &crate::text::visible(desk)),
                        ("count", &count.to_string()),
                    ],
                ),
            ));
        }
        options.push((
            Show::Junk,
            words.format("show-junk", &[("count", &counts.junk.to_string())]),
        ));
        let current = self.showing.borrow().clone();
        let current = if options.iter().any(|(show, _)| *show == current) {
            current
        } else {
            Show::All
        };
        *self.showing.borrow_mut() = current.clone();
        {
            let buttons = self.view_buttons.borrow();
            let same = buttons.len() == options.len()
                && buttons.iter().zip(&options).all(|((a, _), (b, _))| a == b);
            if same {
                for ((show, button), (_, label)) in buttons.iter().zip(&options) {
                    button.set_label(label);
                    if *show == current && !button.is_active() {
                        button.set_active(true);
                    }
                }
                return current;
            }
        }
        self.view_buttons.borrow_mut().clear();
        while let Some(child) = self.show_choice.first_child() {
            self.show_choice.remove(&child);
        }
        let mut first: Option<gtk::ToggleButton> = None;
        for (show, label) in options {
            let kept = show.clone();
            let button = gtk::ToggleButton::with_label(&label);
            if let Some(first) = &first {
                button.set_group(Some(first));
            }
            button.set_active(show == current);
            let weak = Rc::downgrade(self);
            button.connect_toggled(move |button| {
                let Some(inbox) = weak.upgrade() else { return };
                if button.is_active() && *inbox.showing.borrow() != show {
                    *inbox.showing.borrow_mut() = show.clone();
                    inbox.rows_shown.set(LIST_PAGE);
                    inbox.refresh_threads();
                }
            });
            self.show_choice.insert(&button, -1);
            self.view_buttons.borrow_mut().push((kept, button.clone()));
            first.get_or_insert(button);
        }
        current
    }

    /// Stars or unstars (`star`), or marks as junk or not, the thread shown.
    pub(crate) fn toggle_mark(self: &Rc<Self>, star: bool) {
        let Some(key) = self.selected.borrow().clone() else {
            return;
        };
        {
            let mut workspace = self.workspace.borrow_mut();
            let marks = workspace.index.marks.get(&key).copied().unwrap_or_default();
            if star {
                workspace.index.set_starred(&key, !marks.starred);
            } else {
                workspace.index.set_junk(&key, !marks.junk);
            }
        }
        self.save();
        self.refresh_threads();
        conversation::show(self, &key, false);
    }

    /// Shows thread `key` and marks what it holds seen.
    pub(crate) fn show_thread(self: &Rc<Self>, key: &str) {
        let changed = self.selected.borrow().as_deref() != Some(key);
        *self.selected.borrow_mut() = Some(key.to_owned());
        conversation::show(self, key, changed);
        let newly_seen = self.workspace.borrow_mut().index.mark_seen(key);
        if newly_seen {
            self.save();
            // The row loses its bold and its count; the conversation keeps
            // its divider until the editor comes back to it.
            self.refresh_threads();
        }
    }

    fn select_neighbour(self: &Rc<Self>, step: i32) {
        let current = self.thread_rows.selected_row().map_or(-1, |r| r.index());
        let next = (current + step).max(0);
        if let Some(row) = self.thread_rows.row_at_index(next) {
            self.thread_rows.select_row(Some(&row));
            row.grab_focus();
        }
    }

    /// Handles what workers reported since the last look.
    fn drain(
        self: &Rc<Self>,
        reports: &mpsc::Receiver<Report>,
        questions: &mpsc::Receiver<Question>,
    ) {
        while let Ok(question) = questions.try_recv() {
            dialogs::ask(self, question);
        }
        let mut changed = false;
        while let Ok(report) = reports.try_recv() {
            match report {
                Report::Import(ImportEvent::Imported { id, record, words }) => {
                    let mut workspace = self.workspace.borrow_mut();
                    workspace.index.submissions.insert(id.clone(), *record);
                    if let Err(e) = workspace.index_submission(&id, &words) {
                        drop(workspace);
                        self.say(&e.to_string());
                    }
                    changed = true;
                }
                Report::Import(ImportEvent::Failed { name, reason }) => {
                    import::failed(self, &name, &reason);
                }
                Report::Import(ImportEvent::Found { .. } | ImportEvent::Skipped { .. }) => {}
                Report::ImportDone(summary) => {
                    import::done(self, &summary);
                    *self.import_progress.borrow_mut() = None;
                }
                Report::KeysFailed(reason) => {
                    *self.import_progress.borrow_mut() = None;
                    self.progress.set_visible(false);
                    let text = self.words().format("keys-failed", &[("reason", &reason)]);
                    self.say(&text);
                    dialogs::error(self, &text);
                }
                Report::Picture(result) => {
                    // The reason may be the sandboxed reader's own words.
                    dialogs::picture(self, result.map_err(|e| crate::text::visible(&e)))
                }
                Report::Saved(Ok(path)) => self.say(
                    &self
                        .words()
                        .format("saved", &[("path", &path.display().to_string())]),
                ),
                Report::Saved(Err(reason)) => {
                    let text = self.words().format("error", &[("reason", &reason)]);
                    self.say(&text);
                    dialogs::error(self, &text);
                }
            }
        }
        if changed {
            self.save();
            self.refresh_threads();
            if let Some(key) = self.selected.borrow().clone() {
                conversation::show(self, &key, false);
            }
        }
        if let Some(progress) = self.import_progress.borrow().as_ref() {
            let total = progress.length().unwrap_or(0).max(1);
            self.progress
                .set_fraction(progress.position() as f64 / total as f64);
            self.progress.set_text(Some(&self.words().format(
                "importing",
                &[
                    ("done", &progress.position().to_string()),
                    ("total", &total.to_string()),
                ],
            )));
        }
    }
}

fn row_label(words: &Words, thread: &ThreadSummary) -> String {
    let mut label = words.format("source-name", &[("name", &thread.short_name)]);
    if thread.starred {
        label = format!("★ {label}");
    }
    if thread.unseen > 0 {
        label.push_str(", ");
        label.push_str(&words.format("unseen", &[("count", &thread.unseen.to_string())]));
    }
    label
}

fn thread_row_content(words: &Words, thread: &ThreadSummary) -> gtk::Box {
    let content = gtk::Box::new(gtk::Orientation::Vertical, 2);
    content.set_margin_top(6);
    content.set_margin_bottom(6);
    content.set_margin_start(8);
    content.set_margin_end(8);
    let title = gtk::Label::new(None);
    let star = if thread.starred { "★ " } else { "" };
    let name = format!(
        "{star}{}",
        words.format("source-name", &[("name", &thread.short_name)])
    );
    if thread.unseen > 0 {
        let unseen = words.format("unseen", &[("count", &thread.unseen.to_string())]);
        title.set_markup(&format!(
            "<b>{}</b>  <b>({})</b>",
            glib::markup_escape_text(&name),
            glib::markup_escape_text(&unseen)
        ));
    } else {
        title.set_text(&name);
    }
    title.set_xalign(0.0);
    content.append(&title);
    let mut details = words.format(
        "thread-counts",
        &[
            ("submissions", &thread.submissions.to_string()),
            ("replies", &thread.replies.to_string()),
        ],
    );
    if let Some(desk) = &thread.desk {
        details = format!(
            "{} · {details}",
            words.format("desk", &[("desk", &crate::text::visible(desk))])
        );
    }
    let details = gtk::Label::new(Some(&details));
    details.set_xalign(0.0);
    details.add_css_class("dim-label");
    content.append(&details);
    let time = gtk::Label::new(Some(&crate::text::moment(&thread.latest)));
    time.set_xalign(0.0);
    time.add_css_class("dim-label");
    content.append(&time);
    if !thread.preview.is_empty() {
        let preview = gtk::Label::new(Some(&thread.preview));
        preview.set_xalign(0.0);
        preview.set_ellipsize(gtk::pango::EllipsizeMode::End);
        preview.set_max_width_chars(40);
        content.append(&preview);
    }
    content
}

/// One row of the list of sources (the benchmark builds the list with it).
pub fn thread_row(words: &Words, thread: &ThreadSummary) -> gtk::ListBoxRow {
    let row: gtk::ListBoxRow = named("GtkListBoxRow", &row_label(words, thread));
    row.set_child(Some(&thread_row_content(words, thread)));
    row
}

/// Runs the app until its window closes.
pub fn run(settings: Settings) -> glib::ExitCode {
    let app = gtk::Application::builder()
        .application_id("org.sealdrop.Inbox")
        .flags(gio::ApplicationFlags::NON_UNIQUE)
        .build();

    // Asks the session whether the screen is locked (screensaver-active).
    app.set_register_session(true);
    let settings = RefCell::new(Some(settings));
    app.connect_activate(move |app| {
        let Some(settings) = settings.borrow_mut().take() else {
            return;
        };
        build(app, settings);
    });
    // GTK parses no option of ours.
    app.run_with_args(&["sealdrop-inbox"])
}

fn build(app: &gtk::Application, settings: Settings) {
    // Arabic and Persian mirror the whole window: before any widget is made
    // (and after GTK is up, which it is only now).
    if settings.words.lang.is_rtl() {
        gtk::Widget::set_default_direction(gtk::TextDirection::Rtl);
    }
    let words_title = settings.words.get("app-title");
    let window = gtk::ApplicationWindow::builder()
        .application(app)
        .title(&words_title)
        .default_width(1150)
        .default_height(760)
        .build();
    let workspace = match Workspace::open(&settings.workspace) {
        Ok(workspace) => workspace,
        Err(e) => {
            dialogs::fatal(&window, &settings.words, &e.to_string());
            return;
        }
    };
    // Every stranger's file goes through the helper: without one that works
    // (and knows the picture job), nothing starts.
    if let Err(reason) = crate::self_check() {
        dialogs::fatal(&window, &settings.words, &reason);
        return;
    }
    let (reports, reports_in) = mpsc::channel();
    let (questions, questions_in) = mpsc::channel();

    let header = gtk::HeaderBar::new();
    let import_button = gtk::Button::with_label(&settings.words.get("import-button"));
    import_button.set_action_name(Some("win.import"));
    header.pack_start(&import_button);
    let forget_button = gtk::Button::with_label(&settings.words.get("forget-keys"));
    forget_button.set_action_name(Some("win.forget-keys"));
    header.pack_start(&forget_button);
    let help_button = gtk::Button::with_label(&settings.words.get("shortcuts"));
    help_button.set_action_name(Some("win.shortcuts"));
    header.pack_end(&help_button);
    window.set_titlebar(Some(&header));

    let thread_rows: gtk::ListBox = named("GtkListBox", &settings.words.get("sources"));
    thread_rows.set_selection_mode(gtk::SelectionMode::Single);
    let threads_scroller = gtk::ScrolledWindow::builder()
        .child(&thread_rows)
        .hscrollbar_policy(gtk::PolicyType::Never)
        .min_content_width(300)
        .vexpand(true)
        .build();
    let threads_heading = gtk::Label::new(Some(&settings.words.get("sources")));
    threads_heading.add_css_class("heading");
    threads_heading.set_margin_top(6);
    let search_entry: gtk::SearchEntry = named("GtkSearchEntry", &settings.words.get("search"));
    search_entry.set_placeholder_text(Some(&settings.words.get("search")));
    let show_choice: gtk::FlowBox = named("GtkFlowBox", &settings.words.get("show"));
    show_choice.set_selection_mode(gtk::SelectionMode::None);
    show_choice.set_max_children_per_line(3);
    let oldest_first = gtk::ToggleButton::with_label(&settings.words.get("oldest-first"));
    oldest_first.set_halign(gtk::Align::Start);
    let view_row = gtk::Box::new(gtk::Orientation::Vertical, 4);
    view_row.append(&show_choice);
    view_row.append(&oldest_first);
    let threads_pane = gtk::Box::new(gtk::Orientation::Vertical, 4);
    threads_pane.set_margin_start(6);
    threads_pane.set_margin_end(6);
    threads_pane.append(&threads_heading);
    threads_pane.append(&search_entry);
    threads_pane.append(&view_row);
    threads_pane.append(&threads_scroller);
    let show_more = gtk::Button::with_label("");
    show_more.set_visible(false);
    threads_pane.append(&show_more);
    let delete_shown =
        gtk::Button::with_label(&settings.words.format("delete-shown", &[("count", "0")]));
    delete_shown.set_action_name(Some("win.delete-shown"));
    delete_shown.set_halign(gtk::Align::Start);
    threads_pane.append(&delete_shown);

    let conversation = gtk::Box::new(gtk::Orientation::Vertical, 12);
    conversation.set_margin_top(12);
    conversation.set_margin_bottom(12);
    conversation.set_margin_start(12);
    conversation.set_margin_end(12);
    let conversation_scroller = gtk::ScrolledWindow::builder()
        .child(&conversation)
        .hscrollbar_policy(gtk::PolicyType::Never)
        .vexpand(true)
        .hexpand(true)
        .build();
    let composer = conversation::Composer::new(&settings.words);
    let reading_pane = gtk::Box::new(gtk::Orientation::Vertical, 0);
    reading_pane.append(&conversation_scroller);
    reading_pane.append(&composer.frame);

    let panes = gtk::Paned::new(gtk::Orientation::Horizontal);
    panes.set_start_child(Some(&threads_pane));
    panes.set_end_child(Some(&reading_pane));
    panes.set_position(330);
    panes.set_vexpand(true);

    let status = gtk::Label::builder()
        .accessible_role(gtk::AccessibleRole::Status)
        .xalign(0.0)
        .wrap(true)
        .build();
    let keys_status = gtk::Label::new(None);
    keys_status.set_xalign(0.0);
    let progress = gtk::ProgressBar::new();
    progress.set_show_text(true);
    progress.set_visible(false);
    let footer = gtk::Box::new(gtk::Orientation::Vertical, 4);
    footer.set_margin_start(8);
    footer.set_margin_end(8);
    footer.set_margin_bottom(6);
    footer.append(&progress);
    footer.append(&status);
    footer.append(&keys_status);
    if settings.words.lang != crate::i18n::Lang::En {
        let note = gtk::Label::new(Some(&settings.words.get("machine-made")));
        note.set_xalign(0.0);
        note.add_css_class("dim-label");
        footer.append(&note);
    }

    let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
    root.append(&panes);
    root.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
    root.append(&footer);
    window.set_child(Some(&root));

    if let Some(outbox) = &settings.outbox {
        composer.outbox.set_text(&outbox.display().to_string());
    } else {
        composer
            .outbox
            .set_text(&workspace.outbox().display().to_string());
    }
    let inbox = Rc::new(Inbox {
        settings,
        workspace: RefCell::new(workspace),
        keys: Arc::new(KeyRing::default()),
        reports,
        questions,
        window: window.clone(),
        thread_rows: thread_rows.clone(),
        threads: RefCell::new(Vec::new()),
        selected: RefCell::new(None),
        refreshing: std::cell::Cell::new(false),
        conversation,
        composer,
        status,
        keys_status,
        progress,
        import_progress: RefCell::new(None),
        failures: RefCell::new(Vec::new()),
        search_entry: search_entry.clone(),
        show_choice: show_choice.clone(),
        view_buttons: RefCell::new(Vec::new()),
        delete_shown,
        rows_shown: std::cell::Cell::new(LIST_PAGE),
        show_more: show_more.clone(),
        showing: RefCell::new(Show::All),
        oldest_first: oldest_first.clone(),
    });
    {
        let weak = Rc::downgrade(&inbox);
        search_entry.connect_search_changed(move |_| {
            if let Some(inbox) = weak.upgrade() {
                inbox.rows_shown.set(LIST_PAGE);
                inbox.refresh_threads();
            }
        });
        let weak = Rc::downgrade(&inbox);
        show_more.connect_clicked(move |_| {
            if let Some(inbox) = weak.upgrade() {
                inbox.rows_shown.set(inbox.rows_shown.get() + LIST_PAGE);
                inbox.refresh_threads();
            }
        });
        let weak = Rc::downgrade(&inbox);
        oldest_first.connect_toggled(move |_| {
            if let Some(inbox) = weak.upgrade() {
                inbox.refresh_threads();
            }
        });
    }
    conversation::connect_composer(&inbox);

    {
        let inbox = inbox.clone();
        thread_rows.connect_row_selected(move |_, row| {
            let Some(row) = row else { return };
            if inbox.refreshing.get() {
                return;
            }
            let key = inbox
                .threads
                .borrow()
                .get(row.index() as usize)
                .map(|t| t.key.clone());
            if let Some(key) = key {
                inbox.show_thread(&key);
            }
        });
    }

    add_action(&inbox, "import", &["<Control>i"], |inbox| {
        import::open_dialog(inbox)
    });
    add_action(&inbox, "forget-keys", &["<Control>l"], |inbox| {
        inbox.keys.forget();
        inbox.update_keys_status();
        inbox.say(&inbox.words().get("keys-forgotten"));
    });
    add_action(&inbox, "send", &["<Control>Return"], |inbox| {
        conversation::send_reply(inbox)
    });
    add_action(&inbox, "next", &["<Control>Page_Down"], |inbox| {
        inbox.select_neighbour(1)
    });
    add_action(&inbox, "previous", &["<Control>Page_Up"], |inbox| {
        inbox.select_neighbour(-1)
    });
    add_action(&inbox, "shortcuts", &["F1"], |inbox| {
        dialogs::shortcuts(inbox)
    });
    add_action(&inbox, "find", &["<Control>f"], |inbox| {
        inbox.search_entry.grab_focus();
    });
    add_action(&inbox, "star", &["<Control>s"], |inbox| {
        inbox.toggle_mark(true)
    });
    add_action(&inbox, "junk", &["<Control>j"], |inbox| {
        inbox.toggle_mark(false)
    });
    add_action(&inbox, "delete", &["<Control>Delete"], |inbox| {
        dialogs::delete_thread(inbox)
    });
    add_action(&inbox, "export", &["<Control>e"], export::open);
    add_action(&inbox, "print", &["<Control>p"], export::print);
    add_action(&inbox, "delete-shown", &[], dialogs::delete_shown);
    add_action(&inbox, "quit", &["<Control>q"], |inbox| {
        inbox.window.close()
    });

    // Any key or click is activity: the keys' idle time starts again.
    let activity_keys = gtk::EventControllerKey::new();
    activity_keys.set_propagation_phase(gtk::PropagationPhase::Capture);
    {
        let keys = inbox.keys.clone();
        activity_keys.connect_key_pressed(move |_, _, _, _| {
            keys.touch();
            glib::Propagation::Proceed
        });
    }
    window.add_controller(activity_keys);
    let activity_clicks = gtk::GestureClick::new();
    activity_clicks.set_propagation_phase(gtk::PropagationPhase::Capture);
    {
        let keys = inbox.keys.clone();
        activity_clicks.connect_pressed(move |_, _, _, _| keys.touch());
    }
    window.add_controller(activity_clicks);

    // The screen locked: the keys go at once.
    {
        let inbox = inbox.clone();
        app.connect_screensaver_active_notify(move |app| {
            if app.is_screensaver_active() && inbox.keys.forget() {
                inbox.update_keys_status();
                inbox.say(&inbox.words().get("keys-forgotten"));
            }
        });
    }

    {
        let inbox = inbox.clone();
        glib::timeout_add_local(Duration::from_millis(100), move || {
            inbox.drain(&reports_in, &questions_in);
            if inbox.keys.forget_if_idle(inbox.settings.forget_keys_after) {
                inbox.say(&inbox.words().get("keys-forgotten"));
            }
            inbox.update_keys_status();
            glib::ControlFlow::Continue
        });
    }

    // The draft being typed and the outbox chosen survive closing the window.
    {
        let inbox = inbox.clone();
        window.connect_close_request(move |_| {
            inbox.save();
            glib::Propagation::Proceed
        });
    }

    inbox.refresh_threads();
    if !inbox.threads.borrow().is_empty() {
        conversation::show_placeholder(&inbox, &inbox.words().get("no-source"));
    }
    inbox.update_keys_status();
    window.present();
}

/// A widget of GTK class `class` with `name` as the name screen readers
/// announce. GTK 4.8's accessible properties are set here through
/// GtkBuilder's `<accessibility>` element: gtk4-rs binds
/// `gtk_accessible_update_property` only from GTK 4.10 on.
pub(crate) fn named<T: IsA<glib::Object>>(class: &str, name: &str) -> T {
    built(class, "", "label", name)
}

/// A widget of `class` with the object properties `properties` (GtkBuilder
/// XML) and the accessible property `accessible` set to `value`.
fn built<T: IsA<glib::Object>>(class: &str, properties: &str, accessible: &str, value: &str) -> T {
    let xml = format!(
        "<interface><object class=\"{class}\" id=\"widget\">{properties}<accessibility>\
         <property name=\"{accessible}\">{}</property></accessibility></object></interface>",
        glib::markup_escape_text(value)
    );
    gtk::Builder::from_string(&xml)
        .object::<T>("widget")
        .expect("the builder makes the widget it names")
}

fn add_action(inbox: &Rc<Inbox>, name: &str, accels: &[&str], run: impl Fn(&Rc<Inbox>) + 'static) {
    let action = gio::SimpleAction::new(name, None);
    let weak = Rc::downgrade(inbox);
    action.connect_activate(move |_, _| {
        if let Some(inbox) = weak.upgrade() {
            run(&inbox);
        }
    });
    inbox.window.add_action(&action);
    if let Some(app) = inbox.window.application() {
        app.set_accels_for_action(&format!("win.{name}"), accels);
    }
}
