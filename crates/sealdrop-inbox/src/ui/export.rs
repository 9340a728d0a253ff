//! Taking a conversation out of the workspace: the export window (the
//! risks first, in the manner of SecureDrop's export wizard; then what to
//! take and where), and printing, through GTK's own print dialog or
//! straight into a PDF file. The archive itself is written by
//! [`crate::export`].

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use gtk::prelude::*;
use gtk4 as gtk;
use gtk4::pango;

use super::{dialogs, Inbox};
use crate::export::{transcript, write_export, Destination, Export};
use crate::workspace::Item;

/// The transcript of the thread shown, in the window's language.
fn shown_transcript(inbox: &Inbox, key: &str) -> String {
    let outbox = PathBuf::from(inbox.composer.outbox.text().as_str());
    transcript(&inbox.workspace.borrow(), key, &outbox, inbox.words())
}

/// The export window for the thread shown.
pub(crate) fn open(inbox: &Rc<Inbox>) {
    let Some(key) = inbox.selected.borrow().clone() else {
        return;
    };
    let words = inbox.words();
    let (window, content) = dialogs::modal(&inbox.window, &words.get("export-title"));
    window.set_default_width(640);
    let heading = dialogs::wrapped(&words.get("export-title"));
    heading.add_css_class("title-4");
    content.append(&heading);
    let risks = dialogs::wrapped(&words.get("export-risks"));
    risks.add_css_class("heading");
    content.append(&risks);
    for risk in [
        "export-risk-malware",
        "export-risk-anonymity",
        "export-risk-plain",
    ] {
        content.append(&dialogs::wrapped(&words.get(risk)));
    }
    content.append(&gtk::Separator::new(gtk::Orientation::Horizontal));

    // What to take: the conversation, and each cleaned file of the thread.
    let with_transcript = gtk::CheckButton::with_label(&words.get("export-transcript"));
    with_transcript.set_active(true);
    content.append(&with_transcript);
    let mut file_choices: Vec<(gtk::CheckButton, String, usize)> = Vec::new();
    {
        let workspace = inbox.workspace.borrow();
        let outbox = PathBuf::from(inbox.composer.outbox.text().as_str());
        for item in
            crate::workspace::conversation(&workspace.index, workspace.root(), &key, &outbox)
        {
            if let Item::Received { id, record } = item {
                for attachment in record.attachments.iter().filter(|a| a.cleaned.is_some()) {
                    let check = gtk::CheckButton::with_label(&words.format(
                        "export-file",
                        &[("name", &crate::text::visible(&attachment.name))],
                    ));
                    content.append(&check);
                    file_choices.push((check, id.clone(), attachment.part));
                }
            }
        }
    }

    // Where: sealed to recipients, or onto an unlocked LUKS volume.
    let sealed = gtk::CheckButton::with_label(&words.get("export-to-age"));
    sealed.set_active(true);
    let luks = gtk::CheckButton::with_label(&words.get("export-to-luks"));
    luks.set_group(Some(&sealed));
    let recipients: gtk::TextView = super::named("GtkTextView", &words.get("export-recipients"));
    recipients.set_accepts_tab(false);
    let recipients_scroller = gtk::ScrolledWindow::builder()
        .child(&recipients)
        .min_content_height(50)
        .build();
    recipients_scroller.add_css_class("frame");
    let recipients_label = dialogs::wrapped(&words.get("export-recipients"));
    content.append(&sealed);
    content.append(&recipients_label);
    content.append(&recipients_scroller);
    content.append(&luks);
    {
        let (label, scroller) = (recipients_label.clone(), recipients_scroller.clone());
        sealed.connect_toggled(move |sealed| {
            label.set_sensitive(sealed.is_active());
            scroller.set_sensitive(sealed.is_active());
        });
    }

    let folder_label = dialogs::wrapped(&words.get("export-folder"));
    let folder: gtk::Entry = super::named("GtkEntry", &words.get("export-folder"));
    folder.set_hexpand(true);
    let choose_folder = gtk::Button::with_label(&words.get("choose-folder"));
    let folder_row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    folder_row.append(&folder);
    folder_row.append(&choose_folder);
    content.append(&folder_label);
    content.append(&folder_row);
    {
        let (parent, folder) = (window.clone(), folder.clone());
        let title = words.get("export-folder");
        choose_folder.connect_clicked(move |_| {
            let chooser = gtk::FileChooserNative::new(
                Some(&title),
                Some(&parent),
                gtk::FileChooserAction::SelectFolder,
                None,
                None,
            );
            let folder = folder.clone();
            dialogs::choose(chooser, move |path| {
                folder.set_text(&path.display().to_string())
            });
        });
    }
    content.append(&dialogs::wrapped(&words.get("print-note")));

    // What went wrong is said here, where the editor can correct it, and
    // in the status line (which screen readers announce).
    let problem = dialogs::wrapped("");
    problem.add_css_class("error");
    problem.set_visible(false);
    content.append(&problem);
    let tell = {
        let problem = problem.clone();
        let weak = Rc::downgrade(inbox);
        move |text: &str| {
            problem.set_text(text);
            problem.set_visible(true);
            if let Some(inbox) = weak.upgrade() {
                inbox.say(text);
            }
        }
    };
    let cancel = gtk::Button::with_label(&words.get("cancel"));
    let as_pdf = gtk::Button::with_label(&words.get("export-pdf"));
    let start = gtk::Button::with_label(&words.get("export-start"));
    start.add_css_class("suggested-action");
    content.append(&dialogs::button_row(&[&cancel, &as_pdf, &start]));
    {
        let closing = window.clone();
        cancel.connect_clicked(move |_| closing.close());
    }
    let chosen_folder = {
        let folder = folder.clone();
        move || -> Option<PathBuf> {
            let text = folder.text().trim().to_owned();
            (!text.is_empty()).then(|| PathBuf::from(text))
        }
    };
    {
        let weak = Rc::downgrade(inbox);
        let (key, closing, chosen_folder) = (key.clone(), window.clone(), chosen_folder.clone());
        let tell = tell.clone();
        as_pdf.connect_clicked(move |_| {
            let Some(inbox) = weak.upgrade() else { return };
            let Some(folder) = chosen_folder() else {
                tell(&inbox.words().get("export-no-folder"));
                return;
            };
            closing.close();
            save_pdf(&inbox, &key, &folder);
        });
    }
    let weak = Rc::downgrade(inbox);
    let closing = window.clone();
    start.connect_clicked(move |_| {
        let Some(inbox) = weak.upgrade() else { return };
        let words = inbox.words();
        let Some(folder) = chosen_folder() else {
            tell(&words.get("export-no-folder"));
            return;
        };
        let destination = if sealed.is_active() {
            let buffer = recipients.buffer();
            let typed = buffer.text(&buffer.start_iter(), &buffer.end_iter(), false);
            match sealdrop_format::keys::Recipients::parse(
                &typed,
                std::path::Path::new(&words.get("export-recipients")),
            ) {
                Ok(recipients) => Destination::Sealed(recipients),
                Err(e) => {
                    tell(&words.format("error", &[("reason", &e.to_string())]));
                    return;
                }
            }
        } else {
            Destination::LuksVolume
        };
        let export = Export {
            transcript: with_transcript
                .is_active()
                .then(|| shown_transcript(&inbox, &key)),
            files: file_choices
                .iter()
                .filter(|(check, _, _)| check.is_active())
                .map(|(_, id, part)| (id.clone(), *part))
                .collect(),
        };
        if export.transcript.is_none() && export.files.is_empty() {
            tell(&words.get("export-nothing"));
            return;
        }
        let written = write_export(
            &inbox.workspace.borrow(),
            &key,
            &export,
            &folder,
            &destination,
        );
        match written {
            Ok(path) => {
                closing.close();
                inbox.say(&words.format("export-done", &[("path", &path.display().to_string())]));
            }
            Err(e) => tell(&words.format("error", &[("reason", &e.to_string())])),
        }
    });
    window.present();
    // The safe choice has the focus.
    cancel.grab_focus();
}

/// The transcript laid out for paper: one Pango layout the width of the
/// page, each paragraph in its own direction, cut into pages between
/// lines.
struct Paged {
    layout: Option<pango::Layout>,
    /// Per page: the first line and the last (exclusive).
    pages: Vec<(usize, usize)>,
    /// Per line: its top, in points, from the layout's top.
    tops: Vec<f64>,
    /// Per line: its baseline and left edge, in points.
    origins: Vec<(f64, f64)>,
}

/// A print operation of `text`: begin-print lays it out and counts pages,
/// draw-page draws one page's lines.
fn print_operation(text: String) -> gtk::PrintOperation {
    let operation = gtk::PrintOperation::new();
    operation.set_embed_page_setup(true);
    let paged = Rc::new(RefCell::new(Paged {
        layout: None,
        pages: Vec::new(),
        tops: Vec::new(),
        origins: Vec::new(),
    }));
    let state = paged.clone();
    operation.connect_begin_print(move |operation, context| {
        let layout = context.create_pango_layout();
        layout.set_font_description(Some(&pango::FontDescription::from_string("Sans 10")));
        layout.set_width((context.width() * f64::from(pango::SCALE)) as i32);
        layout.set_wrap(pango::WrapMode::WordChar);
        layout.set_auto_dir(true);
        layout.set_text(&text);
        let mut paged = state.borrow_mut();
        paged.tops.clear();
        paged.origins.clear();
        paged.pages.clear();
        let scale = f64::from(pango::SCALE);
        let mut lines = layout.iter();
        let mut bottoms = Vec::new();
        loop {
            let (_, logical) = lines.line_extents();
            paged.tops.push(f64::from(logical.y()) / scale);
            bottoms.push(f64::from(logical.y() + logical.height()) / scale);
            paged.origins.push((
                f64::from(lines.baseline()) / scale,
                f64::from(logical.x()) / scale,
            ));
            if !lines.next_line() {
                break;
            }
        }
        let height = context.height();
        let mut first = 0;
        for (line, bottom) in bottoms.iter().enumerate() {
            if bottom - paged.tops[first] > height && line > first {
                paged.pages.push((first, line));
                first = line;
            }
        }
        paged.pages.push((first, bottoms.len()));
        operation.set_n_pages(paged.pages.len() as i32);
        paged.layout = Some(layout);
    });
    operation.connect_draw_page(move |_, context, page| {
        let paged = paged.borrow();
        let (Some(layout), Some(&(first, end))) = (&paged.layout, paged.pages.get(page as usize))
        else {
            return;
        };
        let cairo = context.cairo_context();
        let top = paged.tops[first];
        for n in first..end {
            let Some(line) = layout.line_readonly(n as i32) else {
                continue;
            };
            let (baseline, left) = paged.origins[n];
            cairo.move_to(left, baseline - top);
            pangocairo::functions::show_layout_line(&cairo, &line);
        }
    });
    operation
}

/// GTK's print dialog for the thread shown (on an air-gapped Tails
/// without a printer, its "Print to File" writes a PDF).
pub(crate) fn print(inbox: &Rc<Inbox>) {
    let Some(key) = inbox.selected.borrow().clone() else {
        return;
    };
    let operation = print_operation(shown_transcript(inbox, &key));
    if let Err(e) = operation.run(gtk::PrintOperationAction::PrintDialog, Some(&inbox.window)) {
        let text = inbox.words().format("error", &[("reason", &e.to_string())]);
        inbox.say(&text);
    }
}

/// The transcript of thread `key` printed into a new PDF file in `folder`
/// (never replacing one), through the same layout as paper.
fn save_pdf(inbox: &Rc<Inbox>, key: &str, folder: &std::path::Path) {
    let words = inbox.words();
    let stem = format!(
        "sealdrop-conversation-{}",
        crate::workspace::short_name(key).replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let reserved = crate::export::new_file(folder, &stem, ".pdf");
    let path = match reserved {
        Ok((path, _)) => path,
        Err(e) => {
            dialogs::error(inbox, &words.format("error", &[("reason", &e.to_string())]));
            return;
        }
    };
    let operation = print_operation(shown_transcript(inbox, key));
    operation.set_export_filename(&path);
    match operation.run(gtk::PrintOperationAction::Export, Some(&inbox.window)) {
        Ok(_) => inbox.say(&words.format("saved", &[("path", &path.display().to_string())])),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            let text = words.format("error", &[("reason", &e.to_string())]);
            inbox.say(&text);
            dialogs::error(inbox, &text);
        }
    }
}
