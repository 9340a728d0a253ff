//! Command-line interface of `sealdrop-open`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::extract::{extract, Outcome};
use super::inputs::{collect, Input};
use super::list::{format_listing, read_listing, HEADER};
use super::ToolError;
use crate::keys::{load_identity_file, write_new_identity, Identities, KeyKind, TerminalPrompt};
use crate::terminal::{display_safe, human_size, progress_bar};

#[derive(Parser)]
#[command(
    name = "sealdrop-open",
    version,
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
    },
    /// Show what each submission holds, without writing anything to disk.
    List {
        /// Identity file (plain or passphrase-protected); repeat for several keys.
        #[arg(short, long = "identity", value_name = "IDENTITY", required = true)]
        identities: Vec<PathBuf>,
        /// Sealed files (`<id>.age`) or folders holding them.
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
        } => run_decrypt(&identities, output, &inputs),
        Command::List { identities, inputs } => run_list(&identities, &inputs),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sealdrop-open: {e}");
            ExitCode::from(2)
        }
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
) -> Result<ExitCode, ToolError> {
    let identities = load_identities(identity_paths)?;
    let (inputs, mut failures) = collect(args);
    if outdir.symlink_metadata().is_err() {
        crate::fsutil::create_private_dir_all(&outdir).map_err(ToolError::io(&outdir))?;
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
    for input in &inputs {
        match extract(input, &identities, &outdir, &bar, base) {
            Ok(Outcome::Opened { dir, manifest }) => {
                opened += 1;
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
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        report_failures(&failures);
        Ok(ExitCode::FAILURE)
    }
}

fn run_list(identity_paths: &[PathBuf], args: &[PathBuf]) -> Result<ExitCode, ToolError> {
    let identities = load_identities(identity_paths)?;
    let (inputs, mut failures) = collect(args);
    println!("{HEADER}");
    for input in &inputs {
        let Input { id, .. } = input;
        match read_listing(input, &identities) {
            Ok(listing) => print!("{}", format_listing(id, &listing)),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        report_failures(&failures);
        Ok(ExitCode::FAILURE)
    }
}
