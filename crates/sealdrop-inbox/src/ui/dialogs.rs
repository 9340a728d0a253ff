//! The inbox's smaller windows: questions while keys load (passphrase,
//! hardware key), errors, the list of shortcuts, a picture, and the
//! warnings before a file leaves the inbox. Plain modal windows (GTK 4.8
//! has no GtkAlertDialog), each closed by Escape.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use gtk::prelude::*;
use gtk::{gdk, gio, glib};
use gtk4 as gtk;

use super::{Inbox, Report};
use crate::i18n::Words;
use crate::keys::Question;

/// The largest side of a picture shown (pixels come back from the sandbox
/// at this size at most).
const PICTURE_SIDE: u32 = 2048;

pub(crate) fn modal(parent: &impl IsA<gtk::Window>, title: &str) -> (gtk::Window, gtk::Box) {
    let window = gtk::Window::builder()
        .title(title)
        .modal(true)
        .transient_for(parent)
        .default_width(520)
        .build();
    let content = gtk::Box::new(gtk::Orientation::Vertical, 10);
    content.set_margin_top(16);
    content.set_margin_bottom(16);
    content.set_margin_start(16);
    content.set_margin_end(16);
    window.set_child(Some(&content));
    let escape = gtk::EventControllerKey::new();
    let closing = window.clone();
    escape.connect_key_pressed(move |_, key, _, _| {
        if key == gdk::Key::Escape {
            closing.close();
            glib::Propagation::Stop
        } else {
            glib::Propagation::Proceed
        }
    });
    window.add_controller(escape);
    (window, content)
}

pub(crate) fn wrapped(text: &str) -> gtk::Label {
    let label = gtk::Label::new(Some(text));
    label.set_wrap(true);
    label.set_xalign(0.0);
    label.set_max_width_chars(60);
    label
}

pub(crate) fn button_row(buttons: &[&gtk::Button]) -> gtk::Box {
    let row = gtk::Box::new(gtk::Orientation::Horizontal, 8);
    row.set_halign(gtk::Align::End);
    for button in buttons {
        row.append(*button);
    }
    row
}

/// An error the editor must read; the window goes on.
pub(crate) fn error(inbox: &Inbox, text: &str) {
    let (window, content) = modal(&inbox.window, &inbox.words().get("app-title"));
    content.append(&wrapped(text));
    let close = gtk::Button::with_label(&inbox.words().get("close"));
    let closing = window.clone();
    close.connect_clicked(move |_| closing.close());
    content.append(&button_row(&[&close]));
    window.present();
    close.grab_focus();
}

/// An error that stops the inbox before it starts (no workspace, no
/// sandbox helper): said, then the app ends with the window.
pub(crate) fn fatal(window: &gtk::ApplicationWindow, words: &Words, text: &str) {
    eprintln!("sealdrop-inbox: {text}");
    let content = gtk::Box::new(gtk::Orientation::Vertical, 10);
    content.set_margin_top(24);
    content.set_margin_start(24);
    content.set_margin_end(24);
    content.append(&wrapped(text));
    let close = gtk::Button::with_label(&words.get("close"));
    let closing = window.clone();
    close.connect_clicked(move |_| closing.close());
    content.append(&button_row(&[&close]));
    window.set_child(Some(&content));
    window.present();
}

/// The one answer a question window gives, taken by whichever comes first:
/// a button, or closing the window, which answers `None` (the load then
/// fails with "no passphrase") so that the waiting worker never hangs.
type Answer<T> = Rc<std::cell::RefCell<Option<std::sync::mpsc::Sender<Option<T>>>>>;

fn answered_once<T: 'static>(
    window: &gtk::Window,
    answer: std::sync::mpsc::Sender<Option<T>>,
) -> Answer<T> {
    let answer = Rc::new(std::cell::RefCell::new(Some(answer)));
    let on_close = answer.clone();
    window.connect_close_request(move |_| {
        if let Some(answer) = on_close.borrow_mut().take() {
            let _ = answer.send(None);
        }
        glib::Propagation::Proceed
    });
    answer
}

/// A question from the keys being loaded, answered here; the worker waits.
pub(crate) fn ask(inbox: &Rc<Inbox>, question: Question) {
    let words = inbox.words();
    match question {
        Question::Message(text) => inbox.say(&crate::text::visible(&text)),
        Question::Passphrase {
            description,
            answer,
        } => {
            let (window, content) = modal(&inbox.window, &words.get("passphrase-title"));
            let prompt = crate::text::visible(&description);
            content.append(&wrapped(
                &words.format("passphrase-for", &[("what", &prompt)]),
            ));
            let entry: gtk::PasswordEntry = super::named("GtkPasswordEntry", &prompt);
            entry.set_show_peek_icon(false);
            content.append(&entry);
            let unlock = gtk::Button::with_label(&words.get("unlock"));
            let cancel = gtk::Button::with_label(&words.get("cancel"));
            content.append(&button_row(&[&cancel, &unlock]));
            let answer = answered_once(&window, answer);
            let submit = {
                let (window, entry, answer) = (window.clone(), entry.clone(), answer.clone());
                move || {
                    if let Some(answer) = answer.borrow_mut().take() {
                        let text = entry.text().to_string();
                        entry.set_text("");
                        let _ = answer.send(Some(age::secrecy::SecretString::from(text)));
                    }
                    window.close();
                }
            };
            let on_click = submit.clone();
            unlock.connect_clicked(move |_| on_click());
            entry.connect_activate(move |_| submit());
            let closing = window.clone();
            cancel.connect_clicked(move |_| closing.close());
            window.present();
            entry.grab_focus();
        }
        Question::Confirm {
            message,
            yes,
            no,
            answer,
        } => {
            let (window, content) = modal(&inbox.window, &words.get("plugin-title"));
            content.append(&wrapped(&crate::text::visible(&message)));
            let answer = answered_once(&window, answer);
            let mut buttons = Vec::new();
            for (text, value) in [(no.clone(), false), (Some(yes), true)] {
                let Some(text) = text else { continue };
                let button = gtk::Button::with_label(&crate::text::visible(&text));
                let (window, answer) = (window.clone(), answer.clone());
                button.connect_clicked(move |_| {
                    if let Some(answer) = answer.borrow_mut().take() {
                        let _ = answer.send(Some(value));
                    }
                    window.close();
                });
                buttons.push(button);
            }
            content.append(&button_row(&buttons.iter().collect::<Vec<_>>()));
            window.present();
        }
        Question::Text {
            description,
            answer,
        } => {
            let (window, content) = modal(&inbox.window, &words.get("plugin-title"));
            let prompt = crate::text::visible(&description);
            content.append(&wrapped(&prompt));
            let entry: gtk::Entry = super::named("GtkEntry", &prompt);
            content.append(&entry);
            let ok = gtk::Button::with_label(&words.get("plugin-answer"));
            content.append(&button_row(&[&ok]));
            let answer = answered_once(&window, answer);
            let submit = {
                let (window, entry, answer) = (window.clone(), entry.clone(), answer.clone());
                move || {
                    if let Some(answer) = answer.borrow_mut().take() {
                        let _ = answer.send(Some(entry.text().to_string()));
                    }
                    window.close();
                }
            };
            let on_click = submit.clone();
            ok.connect_clicked(move |_| on_click());
            entry.connect_activate(move |_| submit());
            window.present();
            entry.grab_focus();
        }
    }
}

/// The list of shortcuts (F1).
pub(crate) fn shortcuts(inbox: &Rc<Inbox>) {
    let words = inbox.words();
    let (window, content) = modal(&inbox.window, &words.get("shortcuts"));
    for id in [
        "shortcut-import",
        "shortcut-forget",
        "shortcut-send",
        "shortcut-next",
        "shortcut-find",
        "shortcut-star",
        "shortcut-junk",
        "shortcut-delete",
        "shortcut-export",
        "shortcut-print",
        "shortcut-help",
        "shortcut-quit",
    ] {
        content.append(&wrapped(&words.get(id)));
    }
    let close = gtk::Button::with_label(&words.get("close"));
    let closing = window.clone();
    close.connect_clicked(move |_| closing.close());
    content.append(&button_row(&[&close]));
    window.present();
    close.grab_focus();
}

/// Decodes a cleaned picture in the sandbox, on a worker; shown by
/// [`picture`] when it comes back.
pub(crate) fn render_picture(inbox: &Rc<Inbox>, path: PathBuf) {
    let reports = inbox.reports.clone();
    std::thread::spawn(move || {
        let result = (|| {
            let data = read_capped(&path)?;
            let sandbox = sealdrop_open::shared::sandbox().map_err(|e| e.to_string())?;
            sandbox
                .render(&data, PICTURE_SIDE)
                .map_err(|e| e.to_string())?
                .map_err(|e| e.0)
        })();
        let _ = reports.send(Report::Picture(result));
    });
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = sealdrop_scrub::limits::MAX_FILE_BYTES;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut data = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if data.len() as u64 > limit {
        return Err(format!("{}: larger than {limit} bytes", path.display()));
    }
    Ok(data)
}

/// Shows pixels the sandbox decoded (never a file handed to GTK's loaders).
pub(crate) fn picture(inbox: &Rc<Inbox>, result: Result<sealdrop_scrub::sandbox::Pixels, String>) {
    let words = inbox.words();
    let pixels = match result {
        Ok(pixels) => pixels,
        Err(reason) => {
            let text = words.format("error", &[("reason", &reason)]);
            inbox.say(&text);
            error(inbox, &text);
            return;
        }
    };
    let (window, content) = modal(&inbox.window, &words.get("picture-title"));
    window.set_default_size(
        (pixels.width as i32 + 40).clamp(320, 1200),
        (pixels.height as i32 + 110).clamp(240, 900),
    );
    let stride = pixels.width as usize * 4;
    let texture = gdk::MemoryTexture::new(
        pixels.width as i32,
        pixels.height as i32,
        gdk::MemoryFormat::R8g8b8a8,
        &glib::Bytes::from_owned(pixels.rgba),
        stride,
    );
    let picture: gtk::Picture = super::named("GtkPicture", &words.get("picture-title"));
    picture.set_paintable(Some(&texture));
    picture.set_vexpand(true);
    content.append(&picture);
    let close = gtk::Button::with_label(&words.get("close"));
    let closing = window.clone();
    close.connect_clicked(move |_| closing.close());
    content.append(&button_row(&[&close]));
    window.present();
    close.grab_focus();
}

/// A warning, then `go` if the editor agrees.
pub(crate) fn warn_then(
    inbox: &Rc<Inbox>,
    title: &str,
    text: &str,
    agree: &str,
    go: impl Fn() + 'static,
) {
    let words = inbox.words();
    let (window, content) = modal(&inbox.window, title);
    let heading = wrapped(title);
    heading.add_css_class("title-4");
    content.append(&heading);
    content.append(&wrapped(text));
    let cancel = gtk::Button::with_label(&words.get("cancel"));
    let proceed = gtk::Button::with_label(agree);
    proceed.add_css_class("destructive-action");
    let closing = window.clone();
    cancel.connect_clicked(move |_| closing.close());
    let closing = window.clone();
    proceed.connect_clicked(move |_| {
        closing.close();
        go();
    });
    content.append(&button_row(&[&cancel, &proceed]));
    window.present();
    // The safe choice has the focus.
    cancel.grab_focus();
}

/// Shows `chooser` and calls `accepted` with the path chosen. The chooser is
/// held only until it answers (a chooser kept by its own handler would
/// never be freed, nor anything its handler holds).
pub(crate) fn choose(chooser: gtk::FileChooserNative, accepted: impl Fn(PathBuf) + 'static) {
    let held = Rc::new(std::cell::RefCell::new(Some(chooser.clone())));
    chooser.connect_response(move |chooser, response| {
        let path = chooser.file().and_then(|f| f.path());
        held.borrow_mut().take();
        if response == gtk::ResponseType::Accept {
            if let Some(path) = path {
                accepted(path);
            }
        }
    });
    chooser.show();
}

/// Asks where to save a file named `name`, then `save(destination)`.
fn choose_destination(
    inbox: &Rc<Inbox>,
    title: &str,
    name: &str,
    save: impl Fn(PathBuf) + 'static,
) {
    let chooser = gtk::FileChooserNative::new(
        Some(title),
        Some(&inbox.window),
        gtk::FileChooserAction::Save,
        None,
        None,
    );
    chooser.set_current_name(name);
    let _ = chooser.set_current_folder(Some(&gio::File::for_path(
        crate::workspace::default_save_folder(),
    )));
    choose(chooser, save);
}

/// Saves a cleaned copy out of the workspace (never replacing a file).
pub(crate) fn save_cleaned(inbox: &Rc<Inbox>, source: PathBuf, name: &str) {
    let reports = inbox.reports.clone();
    choose_destination(inbox, &inbox.words().get("save-cleaned"), name, move |to| {
        let result = std::fs::File::open(&source)
            .and_then(|mut from| {
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&to)?;
                std::io::copy(&mut from, &mut out)?;
                out.sync_all()
            })
            .map(|()| to.clone())
            .map_err(|e| format!("{}: {e}", to.display()));
        let _ = reports.send(Report::Saved(result));
    });
}

/// The content type of what `inspect` found a file to be, whatever its
/// name says: the program chosen for it is the desktop's program for that
/// type, never one a source picks with a file name.
fn content_type(kind: sealdrop_scrub::Kind) -> Option<&'static str> {
    use sealdrop_scrub::Kind;
    Some(match kind {
        Kind::Jpeg => "image/jpeg",
        Kind::Png => "image/png",
        Kind::Gif => "image/gif",
        Kind::WebP => "image/webp",
        Kind::Tiff => "image/tiff",
        Kind::Heic => "image/heic",
        Kind::Avif => "image/avif",
        Kind::Pdf => "application/pdf",
        Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Kind::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Kind::Odt => "application/vnd.oasis.opendocument.text",
        Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
        Kind::Odp => "application/vnd.oasis.opendocument.presentation",
        Kind::Zip => "application/zip",
        Kind::Mp4 => "video/mp4",
        Kind::Mov => "video/quicktime",
        Kind::M4a => "audio/mp4",
        Kind::Mp3 => "audio/mpeg",
        Kind::Text => "text/plain",
        Kind::Unknown => return None,
    })
}

/// Opens a cleaned copy with the desktop's program for its real type,
/// after saying what that program can do.
pub(crate) fn open_with(inbox: &Rc<Inbox>, path: PathBuf, kind: sealdrop_scrub::Kind) {
    let words = inbox.words();
    let weak = Rc::downgrade(inbox);
    warn_then(
        inbox,
        &words.get("open-title"),
        &words.get("open-warning"),
        &words.get("open-anyway"),
        move || {
            let Some(inbox) = weak.upgrade() else { return };
            let program = content_type(kind)
                .and_then(|content_type| gio::AppInfo::default_for_type(content_type, false));
            let launched = match program {
                Some(program) => program
                    .launch(
                        &[gio::File::for_path(&path)],
                        None::<&gio::AppLaunchContext>,
                    )
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "no program on this computer opens {}; save the cleaned copy instead",
                    kind.describe()
                )),
            };
            if let Err(e) = launched {
                let text = inbox.words().format("error", &[("reason", &e)]);
                inbox.say(&text);
                error(&inbox, &text);
            }
        },
    );
}

/// Deletes the thread shown, after asking.
pub(crate) fn delete_thread(inbox: &Rc<Inbox>) {
    let Some(key) = inbox.selected.borrow().clone() else {
        return;
    };
    let words = inbox.words();
    delete_after_warning(
        inbox,
        &words.get("delete-title"),
        &words.get("delete-warning"),
        move |workspace| workspace.delete_thread(&key),
    );
}

/// Deletes one submission of the thread shown, after a warning.
pub(crate) fn delete_submission(inbox: &Rc<Inbox>, id: &str) {
    let words = inbox.words();
    let ids = vec![id.to_owned()];
    delete_after_warning(
        inbox,
        &words.get("delete-submission-title"),
        &words.get("delete-submission-warning"),
        move |workspace| workspace.delete_submissions(&ids),
    );
}

/// Deletes every source the list shows (the view and search chosen),
/// after a warning that counts them.
pub(crate) fn delete_shown(inbox: &Rc<Inbox>) {
    let keys: Vec<String> = inbox
        .threads
        .borrow()
        .iter()
        .map(|t| t.key.clone())
        .collect();
    if keys.is_empty() {
        return;
    }
    let words = inbox.words();
    let count = keys.len().to_string();
    delete_after_warning(
        inbox,
        &words.format("delete-shown-title", &[("count", &count)]),
        &words.format("delete-shown-warning", &[("count", &count)]),
        move |workspace| {
            let ids: Vec<String> = workspace
                .index
                .submissions
                .iter()
                .filter(|(id, record)| keys.contains(&record.thread_key(id)))
                .map(|(id, _)| id.clone())
                .collect();
            workspace.delete_submissions(&ids)
        },
    );
}

/// Asks, then deletes with `delete` and says how many submissions went.
fn delete_after_warning(
    inbox: &Rc<Inbox>,
    title: &str,
    warning: &str,
    delete: impl Fn(&mut crate::workspace::Workspace) -> Result<usize, crate::workspace::WorkspaceError>
        + 'static,
) {
    if inbox.import_progress.borrow().is_some() {
        // An import running could bring back what is deleted now.
        inbox.say(&inbox.words().get("delete-after-import"));
        return;
    }
    let words = inbox.words();
    let weak = Rc::downgrade(inbox);
    warn_then(
        inbox,
        title,
        warning,
        &words.get("delete-anyway"),
        move || {
            let Some(inbox) = weak.upgrade() else { return };
            let deleted = delete(&mut inbox.workspace.borrow_mut());
            match deleted {
                Ok(count) => {
                    inbox.save();
                    inbox.say(
                        &inbox
                            .words()
                            .format("deleted", &[("count", &count.to_string())]),
                    );
                    let still_there = inbox.selected.borrow().clone().filter(|key| {
                        let workspace = inbox.workspace.borrow();
                        workspace
                            .index
                            .submissions
                            .iter()
                            .any(|(id, record)| record.thread_key(id) == *key)
                    });
                    inbox.refresh_threads();
                    match still_there {
                        Some(key) => super::conversation::show(&inbox, &key, false),
                        None => {
                            *inbox.selected.borrow_mut() = None;
                            inbox.composer.text.buffer().set_text("");
                            super::conversation::show_placeholder(
                                &inbox,
                                &inbox.words().get("no-source"),
                            );
                        }
                    }
                }
                Err(e) => {
                    let text = inbox.words().format("error", &[("reason", &e.to_string())]);
                    inbox.say(&text);
                    error(&inbox, &text);
                }
            }
        },
    );
}

/// Decrypts an original again and saves it out, after the warning. The
/// keys are taken from the ring only once a destination is chosen, and
/// only for the worker's time: nothing of this dialog holds them.
pub(crate) fn save_original(inbox: &Rc<Inbox>, id: &str, part: usize, name: &str) {
    let words = inbox.words();
    let weak = Rc::downgrade(inbox);
    let (id, name) = (id.to_owned(), name.to_owned());
    warn_then(
        inbox,
        &words.get("original-title"),
        &words.get("original-warning"),
        &words.get("original-anyway"),
        move || {
            let Some(inbox) = weak.upgrade() else { return };
            if !inbox.keys.is_held() {
                let text = inbox.words().get("keys-none");
                inbox.say(&text);
                error(
                    &inbox,
                    &format!("{text} ({})", inbox.words().get("shortcut-import")),
                );
                return;
            }
            let weak = Rc::downgrade(&inbox);
            let id = id.clone();
            choose_destination(
                &inbox,
                &inbox.words().get("save-original"),
                &name,
                move |to| {
                    let Some(inbox) = weak.upgrade() else { return };
                    let Some(identities) = inbox.keys.get() else {
                        inbox.say(&inbox.words().get("keys-none"));
                        return;
                    };
                    let root = inbox.workspace.borrow().root().to_owned();
                    let reports = inbox.reports.clone();
                    let id = id.clone();
                    std::thread::spawn(move || {
                        let result =
                            crate::workspace::save_original(&root, &id, part, &identities, &to)
                                .map(|()| to.clone())
                                .map_err(|e| e.to_string());
                        drop(identities);
                        let _ = reports.send(Report::Saved(result));
                    });
                },
            );
        },
    );
}
