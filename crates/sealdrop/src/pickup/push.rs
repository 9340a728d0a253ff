//! Runs on the editors' transfer laptop: `sealdrop push-replies`, which
//! takes the reply files `sealdrop-open reply` wrote on the air-gapped
//! machine and hands each to the server's pickup API (`POST /v1/replies`).
//! Files are checked before anything is sent (only sealdrop reply files go
//! out); pushing a file twice is harmless, so an interrupted run is simply
//! run again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hyper::{Method, StatusCode};

use super::client::{io_err, read_token, Client, Payload, PickupError, Target};
use sealdrop_format::pickup::{Pushed, REPLIES_PATH};
use sealdrop_format::reply::file::{check_shape, REPLY_FILE_LEN};
use sealdrop_format::terminal::display_safe;

#[derive(clap::Args)]
pub(crate) struct PushArgs {
    /// The pickup API: http://HOST:PORT (an onion address through torsocks) or unix:PATH.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// File holding the pickup token (from `sealdrop pickup-token`).
    #[arg(long, value_name = "FILE")]
    pub token_file: PathBuf,
    /// Folder of reply files (`*.age`, from `sealdrop-open reply -o DIR`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// The reply files in `dir`, sorted by name; anything else there that ends
/// in `.age` is an error, so that no other file is ever sent.
fn reply_files(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, PickupError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        if path.extension().is_none_or(|e| e != "age") || !path.is_file() {
            continue;
        }
        let len = fs::metadata(&path).map_err(io_err(&path))?.len();
        if len != REPLY_FILE_LEN as u64 {
            return Err(PickupError::Usage(format!(
                "{} is not a reply file (every reply file is {REPLY_FILE_LEN} bytes; this is {len}); \
                 keep only the files `sealdrop-open reply` wrote in {}",
                path.display(),
                dir.display()
            )));
        }
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        check_shape(&bytes).map_err(|e| PickupError::Usage(format!("{}: {e}", path.display())))?;
        files.push((path, bytes));
    }
    files.sort();
    Ok(files)
}

pub(crate) struct Summary {
    pub stored: usize,
    pub already_there: usize,
}

pub(crate) async fn run(args: &PushArgs) -> Result<Summary, PickupError> {
    let files = reply_files(&args.dir)?;
    if files.is_empty() {
        return Err(PickupError::Usage(format!(
            "{} holds no reply files (*.age from `sealdrop-open reply`)",
            args.dir.display()
        )));
    }
    let client = Client {
        target: Target::parse(&args.to)?,
        token: read_token(&args.token_file)?,
    };
    let mut summary = Summary {
        stored: 0,
        already_there: 0,
    };
    for (path, bytes) in files {
        let payload = Payload {
            bytes,
            content_type: "application/octet-stream",
        };
        let response = client
            .send(Method::POST, REPLIES_PATH, Some(payload))
            .await?;
        let status = response.status();
        let pushed: Pushed = Client::json(response).await?;
        if status == StatusCode::CREATED {
            summary.stored += 1;
        } else {
            summary.already_there += 1;
        }
        eprintln!(
            "{} {}",
            if pushed.new { "pushed " } else { "already" },
            display_safe(&path.display().to_string())
        );
    }
    Ok(summary)
}

pub(crate) async fn main(args: PushArgs) -> ExitCode {
    match run(&args).await {
        Ok(summary) => {
            eprintln!(
                "{} reply file(s) now wait on the server: {} pushed, {} already there. \
                 They stay in {} (sealed to their sources; delete them when you like).",
                summary.stored + summary.already_there,
                summary.stored,
                summary.already_there,
                args.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sealdrop push-replies: {}", display_safe(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
