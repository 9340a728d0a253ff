//! Command-line interface of `sealdrop-open`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::examine;
use super::extract::{extract, Outcome};
use super::inputs::{collect, Input};
use super::list::{format_listing, read_listing, Listing, HEADER};
use super::reply::{reply, ReplyRequest};
use super::threads;
use super::ToolError;
use sealdrop_format::keys::{
    load_identity_file, write_new_identity, Identities, KeyKind, TerminalPrompt,
};
use sealdrop_format::reply::ThreadId;
use sealdrop_format::terminal::{display_safe, human_size, progress_bar};

#[derive(Parser)]
#[command(
    name = "sealdrop-open",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SEALDROP_COMMIT"), ")"),
    about = "Opens sealdrop submissions on the air-gapped machine. Never needs a network."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the newsroom's key pair: writes the secret identity file, prints the public key.
    Keygen {
        /// Where to write the identity (never overwritten; mode 0600).
        #[arg(
            short,
            long,
            value_name = "FILE",
            default_value = "sealdrop-identity.txt"
        )]
        output: PathBuf,
        /// Make a post-quantum key pair (age1pq1…, MLKEM768-X25519, age v1.3): recommended for
        /// new newsrooms. Opens with sealdrop-open and age >= 1.3, not with age 1.1.
        #[arg(long)]
        pq: bool,
    },
    /// Decrypt and unpack submissions, each into its own folder under OUTDIR.
    Decrypt {
        /// Identity file (plain or passphrase-protected); repeat for several keys.
        #[arg(short, long = "identity", value_name = "IDENTITY", required = true)]
        identities: Vec<PathBuf>,
        /// Folder that receives one sub-folder per submission (created if missing).
        #[arg(short, long, value_name = "OUTDIR")]
        output: PathBuf,
        /// Sealed files (`<id>.age`) or folders holding them.
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<PathBuf>,
        /// Also write a cleaned copy of each attachment, under the same name, into
        /// the submission's own `cleaned/` folder beside `attachments/` (where no
        /// name a source chooses can reach; see `scrub`), once its hash is verified;
        /// an attachment that cannot be cleaned is reported NOT CLEANED and makes
        /// the exit status non-zero.
        #[arg(long)]
        scrub: bool,
    },
    /// Say what each file reveals about the person who made it (place, device,
    /// people, times, history, hidden content) and what it might do when opened
    /// (macros, scripts, remote content). Reads files and folders `decrypt` wrote.
    Inspect {
        /// One JSON document for tools instead of the report for people.
        #[arg(long)]
        json: bool,
        /// Files, or folders to look through.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a cleaned copy of each file into OUTDIR: rebuilt from what is
    /// needed to show its content, never in place, never overwriting. A file
    /// that cannot be cleaned completely is reported NOT CLEANED, nothing is
    /// written for it, and the exit status is non-zero.
    Scrub {
        /// Folder that receives the cleaned copies (created if missing).
        #[arg(short, long, value_name = "OUTDIR")]
        output: PathBuf,
        /// Files, or folders to clean (their layout is kept under OUTDIR).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Show what each submission holds, without writing anything to disk; a
    /// source's submissions are shown together, by thread.
    List {
        /// Identity file (plain or passphrase-protected); repeat for several keys.
        #[arg(short, long = "identity", value_name = "IDENTITY", required = true)]
        identities: Vec<PathBuf>,
        /// The folder `decrypt -o` writes into: also show the replies sent in each thread.
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Sealed files (`<id>.age`) or folders holding them.
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Answer a source: seal a reply to her, for `sealdrop push-replies`.
    Reply {
        /// Identity file, to read the manifest of a sealed .age SUBMISSION.
        #[arg(short, long = "identity", value_name = "IDENTITY")]
        identities: Vec<PathBuf>,
        /// The submission to answer: its sealed .age file, or the folder `decrypt` wrote.
        #[arg(long, value_name = "SUBMISSION")]
        to: PathBuf,
        /// UTF-8 text file with the reply (at most 16000 bytes).
        #[arg(long, value_name = "FILE")]
        message: PathBuf,
        /// Folder that receives the sealed reply file, to carry to the transfer laptop.
        #[arg(short, long, value_name = "OUTDIR")]
        output: PathBuf,
        /// The folder `decrypt -o` writes into, where the readable copy of the reply is
        /// kept (threads/<thread>/) [default: the folder that holds SUBMISSION].
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every hostile byte these read is parsed by the sandbox helper: without
    // a usable one, refuse before asking for a passphrase or reading a file.
    let parses = matches!(
        cli.command,
        Command::Decrypt { .. }
            | Command::Inspect { .. }
            | Command::Scrub { .. }
            | Command::List { .. }
    );
    if let (true, Err(e)) = (parses, crate::sandboxed::sandbox()) {
        eprintln!("sealdrop-open: {}", display_safe(&e.to_string()));
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Keygen { output, pq } => run_keygen(
            output,
            if pq {
                KeyKind::PostQuantum
            } else {
                KeyKind::Classic
            },
        ),
        Command::Decrypt {
            identities,
            output,
            inputs,
            scrub,
        } => run_decrypt(&identities, output, &inputs, scrub),
        Command::Inspect { json, files } => examine::run_inspect(&files, json).map(exit_code),
        Command::Scrub { output, files } => examine::run_scrub(&files, &output).map(exit_code),
        Command::List {
            identities,
            workspace,
            inputs,
        } => run_list(&identities, workspace.as_deref(), &inputs),
        Command::Reply {
            identities,
            to,
            message,
            output,
            workspace,
        } => run_reply(
            &identities,
            &ReplyRequest {
                to: &to,
                message: &message,
                output: &output,
                workspace: workspace.as_deref(),
            },
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors can carry a file's or the sandboxed reader's words.
            eprintln!("sealdrop-open: {}", display_safe(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

fn exit_code(all_well: bool) -> ExitCode {
    if all_well {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_keygen(output: PathBuf, kind: KeyKind) -> Result<ExitCode, ToolError> {
    let recipient = write_new_identity(&output, kind)?;
    eprintln!(
        "Wrote the newsroom's SECRET key to {} (mode 0600). It never leaves this machine; \
         keep an offline backup.",
        output.display()
    );
    match kind {
        KeyKind::PostQuantum => eprintln!(
            "This is a post-quantum key: a recipients file holds either only age1pq1… keys \
             or only classic age1… keys, never both.\n\
             Put this PUBLIC key (one long line) into the server's recipients file:"
        ),
        KeyKind::Classic => eprintln!("Put this PUBLIC key into the server's recipients file:"),
    }
    println!("{recipient}");
    Ok(ExitCode::SUCCESS)
}

fn load_identities(paths: &[PathBuf]) -> Result<Identities, ToolError> {
    let mut all = Identities::new();
    for path in paths {
        all.extend(load_identity_file(path, TerminalPrompt)?);
    }
    Ok(all)
}

fn report_failures(failures: &[ToolError]) {
    eprintln!("{} failed:", failures.len());
    for failure in failures {
        eprintln!("  {}", display_safe(&failure.to_string()));
    }
}

fn run_decrypt(
    identity_paths: &[PathBuf],
    outdir: PathBuf,
    args: &[PathBuf],
    scrub: bool,
) -> Result<ExitCode, ToolError> {
    let identities = load_identities(identity_paths)?;
    let (inputs, mut failures) = collect(args);
    if outdir.symlink_metadata().is_err() {
        sealdrop_format::fsutil::create_private_dir_all(&outdir).map_err(ToolError::io(&outdir))?;
    } else if !outdir.is_dir() {
        return Err(ToolError::Usage(format!(
            "{} exists and is not a folder",
            outdir.display()
        )));
    }
    let total: u64 = inputs.iter().map(|i| i.len).sum();
    let bar = progress_bar(total);
    let (mut opened, mut skipped, mut bytes) = (0usize, 0usize, 0u64);
    let mut base = 0;
    let mut touched: Vec<ThreadId> = Vec::new();
    let mut not_cleaned = 0usize;
    for input in &inputs {
        match extract(input, &identities, &outdir, &bar, base) {
            Ok(Outcome::Opened { dir, manifest }) => {
                opened += 1;
                touched.extend(threads::thread_of(&manifest));
                bytes += manifest.total_size();
                bar.suspend(|| {
                    eprintln!(
                        "opened   {} -> {} ({} attachment(s){}, {})",
                        display_safe(&input.path.display().to_string()),
                        display_safe(&dir.display().to_string()),
                        manifest.attachments().count(),
                        if manifest.message().is_some() {
                            " and a message"
                        } else {
                            ""
                        },
                        human_size(manifest.total_size())
                    )
                });
                if scrub {
                    // The parts were verified against their hashes before the
                    // folder got its name: clean copies go into its own
                    // `cleaned/`, which no source-chosen name can reach.
                    let cleaned = dir.join(examine::CLEANED_DIR);
                    if let Err(e) = sealdrop_format::fsutil::create_private_dir_all(&cleaned) {
                        bar.suspend(|| {
                            eprintln!("FAILED   cannot make {}: {e}", cleaned.display())
                        });
                    }
                    for part in manifest.attachments() {
                        let original = dir.join(part.output_path());
                        let outcome = examine::clean_into(
                            &original,
                            &examine::cleaned_copy_of(&dir, &original),
                        );
                        if !bar.suspend(|| examine::print_cleaning(&original, &outcome)) {
                            not_cleaned += 1;
                        }
                    }
                }
            }
            Ok(Outcome::AlreadyOpen { dir }) => {
                skipped += 1;
                bar.suspend(|| {
                    eprintln!("skipped  {} (already open in {})", input.id, dir.display())
                });
            }
            Err(e) => {
                bar.suspend(|| eprintln!("FAILED   {}", display_safe(&e.to_string())));
                failures.push(e);
            }
        }
        base += input.len;
        bar.set_position(base);
    }
    bar.finish_and_clear();
    eprintln!(
        "{opened} opened ({}), {skipped} already open, {} failed.",
        human_size(bytes),
        failures.len()
    );
    touched.sort();
    touched.dedup();
    for thread in &touched {
        let text = threads::format_thread(thread, &threads::events(&outdir, thread));
        threads::write_summary(&outdir, thread, &text)?;
        eprint!("{text}");
    }
    if not_cleaned > 0 {
        eprintln!(
            "{not_cleaned} attachment(s) NOT CLEANED: open them only with care, on this machine."
        );
    }
    if failures.is_empty() {
        Ok(exit_code(not_cleaned == 0))
    } else {
        report_failures(&failures);
        Ok(ExitCode::FAILURE)
    }
}

fn run_reply(identity_paths: &[PathBuf], request: &ReplyRequest) -> Result<ExitCode, ToolError> {
    let written = reply(request, || {
        if identity_paths.is_empty() {
            return Err(ToolError::Usage(
                "-i IDENTITY is needed to read a sealed .age submission's manifest".into(),
            ));
        }
        load_identities(identity_paths)
    })?;
    eprintln!(
        "Sealed a reply ({} bytes of text) for thread {} into {}.\n\
         Carry that file to the transfer laptop and run:\n  \
         sealdrop push-replies --to URL --token-file FILE {}\n\
         A readable copy of what you sent is in {}.",
        written.text_bytes,
        written.thread,
        written.sealed.display(),
        request.output.display(),
        written.copy.display()
    );
    println!("{}", written.sealed.display());
    Ok(ExitCode::SUCCESS)
}

fn run_list(
    identity_paths: &[PathBuf],
    workspace: Option<&std::path::Path>,
    args: &[PathBuf],
) -> Result<ExitCode, ToolError> {
    let identities = load_identities(identity_paths)?;
    let (inputs, mut failures) = collect(args);
    let mut listed: Vec<(&Input, Listing)> = Vec::new();
    for input in &inputs {
        match read_listing(input, &identities) {
            Ok(listing) => listed.push((input, listing)),
            Err(e) => failures.push(e),
        }
    }
    println!("{HEADER}");
    // Submissions without a thread first, as they come; then each thread's
    // submissions together, in the order they arrived.
    let (loose, mut threaded): (Vec<_>, Vec<_>) = listed
        .iter()
        .partition(|(_, l)| threads::thread_of(&l.manifest).is_none());
    for (input, listing) in loose {
        print!("{}", format_listing(&input.id, listing));
    }
    threaded.sort_by_key(|(_, l)| (threads::thread_of(&l.manifest), l.manifest.received.clone()));
    let mut current = None;
    for (input, listing) in threaded {
        let thread = threads::thread_of(&listing.manifest);
        if thread != current {
            if let Some(thread) = thread {
                println!("THREAD {thread}: one source's submissions, oldest first");
                if let Some(workspace) = workspace {
                    for event in threads::events(workspace, &thread) {
                        if matches!(event, threads::Event::Sent { .. }) {
                            print!("{}", threads::format_event(&event));
                        }
                    }
                }
            }
            current = thread;
        }
        print!("{}", format_listing(&input.id, listing));
    }
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        report_failures(&failures);
        Ok(ExitCode::FAILURE)
    }
}
