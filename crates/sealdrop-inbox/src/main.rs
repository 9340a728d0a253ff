//! `sealdrop-inbox`, the editors' desktop app on the air-gapped laptop; its
//! logic is the `sealdrop_inbox` library beside this file.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

#[derive(Parser)]
#[command(
    name = "sealdrop-inbox",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SEALDROP_COMMIT"), ")"),
    about = "The editors' inbox on the air-gapped laptop: import sealed submissions, read each \
             source's conversation, look at cleaned files, seal replies. Never needs a network."
)]
struct Cli {
    /// The workspace folder (on Tails, in the Persistent Storage) [default:
    /// ~/Persistent/sealdrop-inbox where ~/Persistent exists, else ~/sealdrop-inbox].
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// The outbox folder for `sealdrop push-replies` (the stick) [default: the one
    /// chosen last in this workspace, else WORKSPACE/outbox].
    #[arg(long, value_name = "DIR")]
    outbox: Option<PathBuf>,
    /// Forget the keys after this many minutes without use (they are always
    /// forgotten when the screen locks).
    #[arg(long, value_name = "MINUTES", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
    forget_keys_after: u64,
    /// The window's language: en, ar, fa, ku, tr, fr, es, ru [default: from
    /// LANGUAGE, LC_ALL, LC_MESSAGES or LANG, else en].
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Check, without a window, that the sandbox helper this inbox runs every
    /// stranger's file in is installed, trusted and speaks its protocol (it
    /// decodes a picture made here); exit 0 if so, 2 with the reason if not.
    #[arg(long)]
    self_check: bool,
}

fn default_workspace() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let persistent = home.join("Persistent");
    if persistent.is_dir() {
        persistent.join("sealdrop-inbox")
    } else {
        home.join("sealdrop-inbox")
    }
}

fn main() -> std::process::ExitCode {
    // First, before GTK starts a thread: SECURITY.md, "A thief of the
    // air-gapped laptop".
    if let Err(e) = sealdrop_format::hardening::harden_offline_process() {
        eprintln!(
            "sealdrop-inbox: cannot protect its memory from core dumps and other programs \
             ({e}); refusing to touch keys. Run it on Linux as shipped."
        );
        return std::process::ExitCode::from(2);
    }
    let cli = Cli::parse();
    if cli.self_check {
        return match sealdrop_inbox::self_check() {
            Ok(helper) => {
                println!("ok: the sandbox helper {helper} confines itself and decodes pictures");
                std::process::ExitCode::SUCCESS
            }
            Err(reason) => {
                eprintln!("sealdrop-inbox: {reason}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let lang = match cli.lang.as_deref() {
        None => sealdrop_inbox::i18n::Lang::from_environment(),
        Some(tag) => match sealdrop_inbox::i18n::Lang::from_tag(tag) {
            Some(lang) => lang,
            None => {
                eprintln!(
                    "sealdrop-inbox: --lang {tag}: not one of en, ar, fa, ku, tr, fr, es, ru"
                );
                return std::process::ExitCode::from(2);
            }
        },
    };
    let settings = sealdrop_inbox::ui::Settings {
        workspace: cli.workspace.unwrap_or_else(default_workspace),
        outbox: cli.outbox,
        words: sealdrop_inbox::i18n::Words::new(lang),
        forget_keys_after: Duration::from_secs(cli.forget_keys_after * 60),
    };
    let code = sealdrop_inbox::ui::run(settings);
    std::process::ExitCode::from(code.get() as u8)
}
