//! The `sealdrop` command line. Its commands run in three places: `serve`,
//! `setup` and `status` on the online server, `pickup-token`, `pickup` and `push-replies` on the
//! editors' transfer laptop, and `demo` on anyone's machine to try it out.

pub(crate) mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::pickup::client::PickupArgs;
use sealdrop_server::{run, ServeConfig, ServeOptions};

#[derive(Parser)]
#[command(
    name = "sealdrop",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SEALDROP_COMMIT"), ")"),
    about = "Anonymous source-submission drop: every byte is sealed with age as it arrives."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the submission page and seal what sources send.
    Serve(Box<ServeOptions>),
    /// Create a pickup token: prints the token for the editor and the hash for the server.
    PickupToken {
        /// Also write the token to this file (mode 0600, never overwritten).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Move sealed submissions from the server's pickup API into a folder.
    Pickup(PickupArgs),
    /// Send the replies `sealdrop-open reply` wrote to the server, for their sources.
    PushReplies(crate::pickup::push::PushArgs),
    /// Send the periodic alert (by mail and webhooks): the same fixed text every time,
    /// nothing about what arrived. Run by a timer in its own unit (docs/DEPLOY.md).
    Notify(Box<sealdrop_server::notify::NotifyOptions>),
    /// First run on a server installed from the package: the newsroom's keys,
    /// a pickup token, tor's config and group, starting it; then what is still
    /// missing. Run again at any time; `--check` changes nothing.
    Setup(crate::admin::setup::SetupArgs),
    /// How the server is doing, for admins and monitoring: what waited per desk
    /// at the last maintenance pass (counts only), quota, disk, sockets and tor.
    /// Exit 0 fine, 1 attention, 2 broken.
    Status(crate::admin::status::StatusArgs),
    /// Try sealdrop locally: throwaway keys and store, served on 127.0.0.1:8080.
    Demo {
        /// Folder for the demo's keys, store and opened submissions.
        #[arg(long, value_name = "DIR", default_value = "sealdrop-demo")]
        dir: PathBuf,
        /// Address to serve on (port 0: a free port, shown in the printed URL).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

fn pickup_token(token_file: Option<PathBuf>) -> Result<(), String> {
    use std::io::Write;
    let (token, hash) = sealdrop_format::pickup::new_token();
    if let Some(path) = &token_file {
        let mut file = sealdrop_format::fsutil::create_new_private_file(path).map_err(|e| {
            format!(
                "cannot create {}: {e} (it is never overwritten)",
                path.display()
            )
        })?;
        writeln!(file, "{token}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("Wrote the pickup token to {} (mode 0600). Give it to the editor who runs `sealdrop pickup`.", path.display());
    } else {
        eprintln!("Pickup token (give it to the editor; store it in a file only they can read):");
        println!("{token}");
    }
    eprintln!("Add this line to the server's config file (the server keeps only this hash):");
    println!("pickup_token_sha256 = [\"{hash}\"]");
    eprintln!("(or pass --pickup-token-sha256 {hash})");
    Ok(())
}

/// The serve options: flags over the `--config` file.
fn serve_config(matches: &clap::ArgMatches) -> Result<ServeConfig, String> {
    let (_, serve) = matches
        .subcommand()
        .ok_or_else(|| "no subcommand".to_owned())?;
    let options = ServeOptions::from_matches(serve).map_err(|e| e.to_string())?;
    ServeConfig::from_options(options).map_err(|e| e.to_string())
}

pub(crate) fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    run::harden_process();
    sealdrop_server::logging::init();
    // Threads are bounded: the async workers (one per core) and at most
    // a blocking thread for each bounded pool's every job (workers::blocking_threads);
    // uploads hold none of their own.
    let runtime = match sealdrop_server::workers::runtime(None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sealdrop: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(_) => serve_config(&matches).and_then(|config| {
            runtime
                .block_on(run::run(config, None))
                .map_err(|e| e.to_string())
        }),
        Command::Demo { dir, listen } => runtime.block_on(demo::run(dir, listen)),
        Command::PickupToken { token_file } => pickup_token(token_file),
        Command::Setup(args) => return crate::admin::setup::main(args),
        Command::Status(args) => return runtime.block_on(crate::admin::status::main(args)),
        Command::Pickup(args) => return runtime.block_on(crate::pickup::client::main(args)),
        Command::PushReplies(args) => return runtime.block_on(crate::pickup::push::main(args)),
        Command::Notify(_) => {
            let Some((_, notify)) = matches.subcommand() else {
                return ExitCode::from(2);
            };
            return runtime.block_on(sealdrop_server::notify::main(notify));
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealdrop: {e}");
            ExitCode::from(2)
        }
    }
}
