//! Runs on a benchmark machine, for `bench/inbox.py`: the desktop inbox's
//! work without its window, one measurement per run, each printing one line
//! of JSON. Copied beside `sealdrop-sandbox` (as the inbox is installed),
//! so that it finds the helper it would use.
//!
//!   inbox_bench import WORKSPACE STICK IDENTITY   import, then index, timed apart
//!   inbox_bench synthetic WORKSPACE THREADS       a workspace of one message per thread
//!   inbox_bench list WORKSPACE                    open it and make the list the window shows
//!   inbox_bench rows WORKSPACE                    the same, as the window's GTK rows, shown
//!   inbox_bench rows-all WORKSPACE                every thread as a GTK row, shown
//!   inbox_bench search WORKSPACE WORD…            each search, 25 times
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use sealdrop_inbox::workspace::{
    counts, import_folder, select, thread_list, ImportEvent, Order, Show, SubmissionRecord,
    Workspace,
};

/// Identity files in a benchmark have no passphrase: nothing to ask.
#[derive(Clone)]
struct NoQuestions;

impl age::Callbacks for NoQuestions {
    fn display_message(&self, _: &str) {}
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, _: &str) -> Option<age::secrecy::SecretString> {
        None
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workspace = Path::new(args.get(1).expect("a workspace folder"));
    match args[0].as_str() {
        "import" => import(workspace, Path::new(&args[2]), Path::new(&args[3])),
        "synthetic" => synthetic(workspace, args[2].parse().expect("a number of threads")),
        "list" => list(workspace),
        "rows" => rows(workspace, sealdrop_inbox::ui::LIST_PAGE),
        "rows-all" => rows(workspace, usize::MAX),
        "search" => search(workspace, &args[2..]),
        other => panic!("no measurement {other}"),
    }
}

fn import(root: &Path, stick: &Path, identity: &Path) {
    let mut workspace = Workspace::open(root).expect("the workspace opens");
    let identities =
        sealdrop_format::keys::load_identity_file(identity, NoQuestions).expect("the identity");
    let progress = indicatif::ProgressBar::hidden();
    let mut imported = Vec::new();
    let mut failed = 0;
    let start = Instant::now();
    let summary = import_folder(
        root,
        stick,
        &identities,
        &BTreeSet::new(),
        &progress,
        &|| true,
        &mut |event| match event {
            ImportEvent::Imported { id, record, words } => imported.push((id, record, words)),
            ImportEvent::Failed { .. } => failed += 1,
            _ => {}
        },
    );
    let import_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let searched_files = imported
        .iter()
        .map(|(_, record, _)| record.attachments.iter().filter(|a| a.searched).count())
        .sum::<usize>();
    for (id, record, words) in imported {
        workspace.index.submissions.insert(id.clone(), *record);
        workspace.index_submission(&id, &words).expect("indexed");
    }
    workspace.save().expect("the index is written");
    let index_seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"imported\": {}, \"failed\": {failed}, \"not_cleaned\": {}, \"searched_files\": {searched_files}, \
         \"import_seconds\": {import_seconds}, \"index_seconds\": {index_seconds}}}",
        summary.imported, summary.not_cleaned
    );
}

/// Words of messages, Arabic and English, drawn in a fixed order.
const WORDS: &[&str] = &[
    "الحاجز",
    "المدينة",
    "صباح",
    "اليوم",
    "القافلة",
    "الشاحنات",
    "الشمال",
    "المستشفى",
    "الجسر",
    "مدخل",
    "صور",
    "شهود",
    "الليل",
    "الجنود",
    "convoy",
    "checkpoint",
    "trucks",
    "north",
    "bridge",
    "hospital",
    "soldiers",
    "witnesses",
    "photos",
    "morning",
    "night",
    "market",
    "school",
    "road",
];

fn synthetic(root: &Path, threads: usize) {
    let mut workspace = Workspace::open(root).expect("the workspace opens");
    // A fixed linear congruential sequence: the same workspace every run.
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let start = Instant::now();
    for n in 0..threads {
        let id = format!("{:032x}", n + 1);
        let folder = workspace.submission_dir(&id);
        std::fs::create_dir_all(&folder).expect("a folder");
        let message: Vec<&str> = (0..60).map(|_| WORDS[next() % WORDS.len()]).collect();
        let message = format!("{} {n}", message.join(" "));
        std::fs::write(folder.join("message.txt"), &message).expect("a message");
        let minute = next() % (60 * 24 * 90);
        workspace.index.submissions.insert(
            id.clone(),
            SubmissionRecord {
                thread: Some(format!("{:064x}", n + 1)),
                desk: (n % 3 == 0).then(|| "investigations".to_owned()),
                received: format!(
                    "2026-{:02}-{:02}T{:02}:{:02}:00Z",
                    9 + minute / (60 * 24 * 30),
                    1 + (minute / (60 * 24)) % 28,
                    (minute / 60) % 24,
                    minute % 60
                ),
                has_message: true,
                preview: sealdrop_inbox::text::preview(&message),
                can_reply: true,
                attachments: Vec::new(),
                seen: n % 2 == 0,
            },
        );
        workspace.index_submission(&id, &[]).expect("indexed");
    }
    workspace.save().expect("the index is written");
    println!(
        "{{\"threads\": {threads}, \"index_seconds\": {}}}",
        start.elapsed().as_secs_f64()
    );
}

fn list(root: &Path) {
    let start = Instant::now();
    let workspace = Workspace::open(root).expect("the workspace opens");
    let open_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let everything = thread_list(&workspace.index, workspace.root());
    let counted = counts(&everything);
    let shown = select(&everything, &Show::All, Order::NewestFirst, None);
    let list_seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"threads\": {}, \"all\": {}, \"open_seconds\": {open_seconds}, \"list_seconds\": {list_seconds}}}",
        shown.len(),
        counted.all
    );
}

/// The list as the window builds it: at most `limit` GTK rows in a list
/// box, in a window shown, until GTK has nothing left to do (laid out and
/// drawn).
fn rows(root: &Path, limit: usize) {
    use gtk4::prelude::*;
    let start = Instant::now();
    gtk4::init().expect("a display (run under xvfb-run)");
    let workspace = Workspace::open(root).expect("the workspace opens");
    let everything = thread_list(&workspace.index, workspace.root());
    let shown = select(&everything, &Show::All, Order::NewestFirst, None);
    let words = sealdrop_inbox::i18n::Words::new(sealdrop_inbox::i18n::Lang::En);
    let list = gtk4::ListBox::new();
    for thread in shown.iter().take(limit) {
        list.append(&sealdrop_inbox::ui::thread_row(&words, thread));
    }
    let window = gtk4::Window::builder()
        .default_width(1150)
        .default_height(760)
        .child(
            &gtk4::ScrolledWindow::builder()
                .child(&list)
                .vexpand(true)
                .build(),
        )
        .build();
    window.present();
    let context = gtk4::glib::MainContext::default();
    let drawn = std::rc::Rc::new(std::cell::Cell::new(false));
    {
        let drawn = drawn.clone();
        window.add_tick_callback(move |_, _| {
            drawn.set(true);
            gtk4::glib::ControlFlow::Break
        });
    }
    while !drawn.get() || context.pending() {
        context.iteration(true);
    }
    println!(
        "{{\"threads\": {}, \"rows\": {}, \"shown_seconds\": {}}}",
        shown.len(),
        shown.len().min(limit),
        start.elapsed().as_secs_f64()
    );
}

fn search(root: &Path, queries: &[String]) {
    let workspace = Workspace::open(root).expect("the workspace opens");
    let mut results = Vec::new();
    for query in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..25 {
            let start = Instant::now();
            found = workspace.search_threads(query).expect("searched").len();
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        results.push(format!(
            "{{\"query\": {:?}, \"found\": {found}, \"median_seconds\": {}, \"max_seconds\": {}}}",
            query,
            times[times.len() / 2],
            times[times.len() - 1]
        ));
    }
    println!("[{}]", results.join(", "));
}
