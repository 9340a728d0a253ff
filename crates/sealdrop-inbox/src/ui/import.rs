//! The import window: the folder of sealed files (typed, or chosen), the
//! identity files (unless keys are held), then the import on a worker with
//! its progress in the main window. A file that fails is listed; the rest
//! go on.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::rc::Rc;

use gtk::prelude::*;
use gtk4 as gtk;

use super::{Inbox, Report};
use crate::keys::{load, WindowPrompt};
use crate::workspace::{import_folder, ImportSummary};

pub(crate) fn open_dialog(inbox: &Rc<Inbox>) {
    if inbox.import_progress.borrow().is_some() {
        return;
    }
    let words = inbox.words();
    let window = gtk::Window::builder()
        .title(words.get("import-title"))
        .modal(true)
        .transient_for(&inbox.window)
        .default_width(600)
        .build();
    let content = gtk::Box::new(gtk::Orientation::Vertical, 8);
    content.set_margin_top(16);
    content.set_margin_bottom(16);
    content.set_margin_start(16);
    content.set_margin_end(16);
    window.set_child(Some(&content));

    let folder_label = gtk::Label::new(Some(&words.get("import-folder")));
    folder_label.set_xalign(0.0);
    let folder: gtk::Entry = super::named("GtkEntry", &words.get("import-folder"));
    let choose_folder = gtk::Button::with_label(&words.get("choose-folder"));
    let folder_row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    folder.set_hexpand(true);
    folder_row.append(&folder);
    folder_row.append(&choose_folder);
    content.append(&folder_label);
    content.append(&folder_row);

    let identity_label = gtk::Label::new(Some(&words.get("identity-files")));
    identity_label.set_xalign(0.0);
    let identities: gtk::TextView = super::named("GtkTextView", &words.get("identity-files"));
    identities.set_accepts_tab(false);
    let identities_scroller = gtk::ScrolledWindow::builder()
        .child(&identities)
        .min_content_height(60)
        .build();
    identities_scroller.add_css_class("frame");
    let add_identity = gtk::Button::with_label(&words.get("choose-file"));
    add_identity.set_halign(gtk::Align::Start);
    content.append(&identity_label);
    content.append(&identities_scroller);
    content.append(&add_identity);
    if inbox.keys.is_held() {
        let held = gtk::Label::new(Some(&words.get("identity-held")));
        held.set_xalign(0.0);
        held.set_wrap(true);
        content.append(&held);
    } else {
        let files: Vec<String> = inbox
            .keys
            .files()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        identities.buffer().set_text(&files.join("\n"));
    }

    let cancel = gtk::Button::with_label(&words.get("cancel"));
    let start = gtk::Button::with_label(&words.get("import-start"));
    start.add_css_class("suggested-action");
    let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 8);
    buttons.set_halign(gtk::Align::End);
    buttons.append(&cancel);
    buttons.append(&start);
    content.append(&buttons);

    {
        let (window, folder) = (window.clone(), folder.clone());
        choose_folder.connect_clicked(move |_| {
            let chooser = gtk::FileChooserNative::new(
                None::<&str>,
                Some(&window),
                gtk::FileChooserAction::SelectFolder,
                None,
                None,
            );
            let folder = folder.clone();
            super::dialogs::choose(chooser, move |path| {
                folder.set_text(&path.display().to_string())
            });
        });
    }
    {
        let (window, identities) = (window.clone(), identities.clone());
        add_identity.connect_clicked(move |_| {
            let chooser = gtk::FileChooserNative::new(
                None::<&str>,
                Some(&window),
                gtk::FileChooserAction::Open,
                None,
                None,
            );
            let identities = identities.clone();
            super::dialogs::choose(chooser, move |path| {
                let buffer = identities.buffer();
                let mut end = buffer.end_iter();
                let prefix = if buffer.char_count() > 0 { "\n" } else { "" };
                buffer.insert(&mut end, &format!("{prefix}{}", path.display()));
            });
        });
    }
    {
        let closing = window.clone();
        cancel.connect_clicked(move |_| closing.close());
    }
    {
        let weak = Rc::downgrade(inbox);
        let (window, folder, identities) = (window.clone(), folder.clone(), identities.clone());
        start.connect_clicked(move |_| {
            let Some(inbox) = weak.upgrade() else { return };
            let buffer = identities.buffer();
            let files: Vec<PathBuf> = buffer
                .text(&buffer.start_iter(), &buffer.end_iter(), false)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect();
            let folder = PathBuf::from(folder.text().trim());
            window.close();
            start_import(&inbox, folder, files);
        });
    }
    window.present();
    folder.grab_focus();
}

fn start_import(inbox: &Rc<Inbox>, folder: PathBuf, files: Vec<PathBuf>) {
    let progress = indicatif::ProgressBar::hidden();
    *inbox.import_progress.borrow_mut() = Some(progress.clone());
    inbox.progress.set_fraction(0.0);
    inbox.progress.set_visible(true);
    let held = if files.is_empty() {
        inbox.keys.get()
    } else {
        None
    };
    let keys = inbox.keys.clone();
    let prompt = WindowPrompt::new(inbox.questions.clone());
    let reports = inbox.reports.clone();
    let root = inbox.workspace.borrow().root().to_owned();
    let known: BTreeSet<String> = inbox
        .workspace
        .borrow()
        .index
        .submissions
        .keys()
        .chain(&inbox.workspace.borrow().index.deleted)
        .cloned()
        .collect();
    std::thread::spawn(move || {
        let identities = match held {
            Some(identities) => identities,
            None => match load(&files, &prompt) {
                Ok(identities) if !identities.is_empty() => keys.hold(identities, files),
                Ok(_) => {
                    let _ = reports.send(Report::KeysFailed("no identity file given".into()));
                    return;
                }
                Err(e) => {
                    let _ = reports.send(Report::KeysFailed(e.to_string()));
                    return;
                }
            },
        };
        let generation = keys.generation();
        let summary = import_folder(
            &root,
            &folder,
            &identities,
            &known,
            &progress,
            &|| keys.still(generation),
            &mut |event| {
                let _ = reports.send(Report::Import(event));
            },
        );
        drop(identities);
        let _ = reports.send(Report::ImportDone(summary));
    });
}

pub(crate) fn failed(inbox: &Inbox, name: &str, reason: &str) {
    let text = inbox.words().format(
        "import-failed",
        &[
            ("name", &crate::text::visible(name)),
            ("reason", &crate::text::visible(reason)),
        ],
    );
    inbox.say(&text);
    inbox.failures.borrow_mut().push(text);
}

pub(crate) fn done(inbox: &Rc<Inbox>, summary: &ImportSummary) {
    inbox.progress.set_visible(false);
    let mut text = inbox.words().format(
        "import-done",
        &[
            ("imported", &summary.imported.to_string()),
            ("skipped", &summary.skipped.to_string()),
            ("failed", &summary.failed.to_string()),
            ("notcleaned", &summary.not_cleaned.to_string()),
        ],
    );
    let failures = std::mem::take(&mut *inbox.failures.borrow_mut());
    for failure in &failures {
        text.push('\n');
        text.push_str(failure);
    }
    inbox.say(&text);
}
