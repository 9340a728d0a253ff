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
    // Where to, as chosen: the folder, and sealed to the recipients typed
    // or onto the volume; else what to tell the editor, in her words.
    let chosen_place = {
        let (folder, sealed, recipients) = (folder.clone(), sealed.clone(), recipients.clone());
        move |words: &crate::i18n::Words| -> Result<(PathBuf, Destination), String> {
            let text = folder.text().trim().to_owned();
            if text.is_empty() {
                return Err(words.get("export-no-folder"));
            }
            if !sealed.is_active() {
                return Ok((PathBuf::from(text), Destination::LuksVolume));
            }
            let buffer = recipients.buffer();
            let typed = buffer.text(&buffer.start_iter(), &buffer.end_iter(), false);
            let label = words.get("export-recipients");
            sealdrop_format::keys::Recipients::parse(&typed, std::path::Path::new(&label))
                .map(|recipients| (PathBuf::from(text), Destination::Sealed(recipients)))
                .map_err(|e| words.format("error", &[("reason", &e.to_string())]))
        }
    };
    {
        let weak = Rc::downgrade(inbox);
        let (key, closing) = (key.clone(), window.clone());
        let chosen_place = chosen_place.clone();
        let tell = tell.clone();
        as_pdf.connect_clicked(move |_| {
            let Some(inbox) = weak.upgrade() else { return };
            let words = inbox.words();
            let (folder, destination) = match chosen_place(words) {
                Ok(place) => place,
                Err(text) => return tell(&text),
            };
            let written = pdf_of(&shown_transcript(&inbox, &key)).and_then(|pdf| {
                crate::export::write_pdf(&key, &pdf, &folder, &destination)
                    .map_err(|e| e.to_string())
            });
            match written {
                Ok(path) => {
                    closing.close();
                    inbox.say(&words.format("saved", &[("path", &path.display().to_string())]));
                }
                Err(e) => tell(&words.format("error", &[("reason", &e)])),
            }
        });
    }
    let weak = Rc::downgrade(inbox);
    let closing = window.clone();
    start.connect_clicked(move |_| {
        let Some(inbox) = weak.upgrade() else { return };
        let words = inbox.words();
        let (folder, destination) = match chosen_place(words) {
            Ok(place) => place,
            Err(text) => return tell(&text),
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
    layout: pango::Layout,
    /// Per page: the first line and the last (exclusive).
    pages: Vec<(usize, usize)>,
    /// Per line: its top, in points, from the layout's top.
    tops: Vec<f64>,
    /// Per line: its baseline and left edge, in points.
    origins: Vec<(f64, f64)>,
}

/// Lays `text` out in `layout` (`width` points wide) and cuts it into pages
/// of `height` points.
fn paginate(layout: pango::Layout, text: &str, width: f64, height: f64) -> Paged {
    let scale = f64::from(pango::SCALE);
    layout.set_font_description(Some(&pango::FontDescription::from_string("Sans 10")));
    layout.set_width((width * scale) as i32);
    layout.set_wrap(pango::WrapMode::WordChar);
    layout.set_auto_dir(true);
    layout.set_text(text);
    let (mut tops, mut bottoms, mut origins) = (Vec::new(), Vec::new(), Vec::new());
    let mut lines = layout.iter();
    loop {
        let (_, logical) = lines.line_extents();
        tops.push(f64::from(logical.y()) / scale);
        bottoms.push(f64::from(logical.y() + logical.height()) / scale);
        origins.push((
            f64::from(lines.baseline()) / scale,
            f64::from(logical.x()) / scale,
        ));
        if !lines.next_line() {
            break;
        }
    }
    let mut pages = Vec::new();
    let mut first = 0;
    for (line, bottom) in bottoms.iter().enumerate() {
        if bottom - tops[first] > height && line > first {
            pages.push((first, line));
            first = line;
        }
    }
    pages.push((first, bottoms.len()));
    Paged {
        layout,
        pages,
        tops,
        origins,
    }
}

/// Draws page `page` of `paged` on `cairo`, its top left at the origin.
fn draw_page(paged: &Paged, page: usize, cairo: &gtk::cairo::Context) {
    let Some(&(first, end)) = paged.pages.get(page) else {
        return;
    };
    let top = paged.tops[first];
    for n in first..end {
        let Some(line) = paged.layout.line_readonly(n as i32) else {
            continue;
        };
        let (baseline, left) = paged.origins[n];
        cairo.move_to(left, baseline - top);
        pangocairo::functions::show_layout_line(cairo, &line);
    }
}

/// A print operation of `text`: begin-print lays it out and counts pages,
/// draw-page draws one page's lines.
fn print_operation(text: String) -> gtk::PrintOperation {
    let operation = gtk::PrintOperation::new();
    operation.set_embed_page_setup(true);
    let paged: Rc<RefCell<Option<Paged>>> = Rc::new(RefCell::new(None));
    let state = paged.clone();
    operation.connect_begin_print(move |operation, context| {
        let laid = paginate(
            context.create_pango_layout(),
            &text,
            context.width(),
            context.height(),
        );
        operation.set_n_pages(laid.pages.len() as i32);
        *state.borrow_mut() = Some(laid);
    });
    operation.connect_draw_page(move |_, context, page| {
        if let Some(paged) = paged.borrow().as_ref() {
            draw_page(paged, page as usize, &context.cairo_context());
        }
    });
    operation
}

/// A4 in points, and the margin around the text.
const PAGE: (f64, f64) = (595.0, 842.0);
const MARGIN: f64 = 48.0;

/// The transcript as a PDF, in memory: the same layout as paper, through
/// cairo's PDF surface, dated 1980-01-01 (cairo would write the time and
/// the time zone it was made in).
fn pdf_of(text: &str) -> Result<Vec<u8>, String> {
    use gtk::cairo;
    let failed = |e: cairo::Error| format!("the PDF could not be made: {e}");
    let surface =
        cairo::PdfSurface::for_stream(PAGE.0, PAGE.1, Vec::<u8>::new()).map_err(failed)?;
    surface
        .set_metadata(cairo::PdfMetadata::CreateDate, "1980-01-01T00:00:00Z")
        .map_err(failed)?;
    let context = cairo::Context::new(&surface).map_err(failed)?;
    let paged = paginate(
        pangocairo::functions::create_layout(&context),
        text,
        PAGE.0 - 2.0 * MARGIN,
        PAGE.1 - 2.0 * MARGIN,
    );
    for page in 0..paged.pages.len() {
        context.save().map_err(failed)?;
        context.translate(MARGIN, MARGIN);
        draw_page(&paged, page, &context);
        context.restore().map_err(failed)?;
        context.show_page().map_err(failed)?;
    }
    drop(context);
    surface.finish();
    let stream = surface
        .finish_output_stream()
        .map_err(|e| format!("the PDF could not be made: {}", e.error))?;
    stream
        .downcast::<Vec<u8>>()
        .map(|pdf| *pdf)
        .map_err(|_| "the PDF could not be made".to_owned())
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
