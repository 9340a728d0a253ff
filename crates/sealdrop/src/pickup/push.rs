//! Runs on the editors' transfer laptop: `sealdrop push-replies`, which
//! takes the reply files `sealdrop-open reply` wrote on the air-gapped
//! machine and hands each to the server's pickup API (`POST /v1/replies`).
//! Files are checked before anything is sent (only sealdrop reply files go
//! out); pushing a file twice is harmless, so an interrupted run is simply
//! run again. Each file the server holds is then moved into `DIR/pushed/`,
//! and each it refuses for good (the source deleted that reply, or it is
//! older than the retention: `410`) into `DIR/refused/`, so that the
//! editor's laptop can show what became of every reply and the next run
//! sends only new ones.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hyper::{Method, StatusCode};

use super::client::{io_err, read_token, Client, Payload, PickupError, Target};
use sealdrop_format::fsutil::{create_private_dir_all, rename_no_replace, sync_dir};
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
    /// Folder of reply files (`*.age`, from `sealdrop-open reply -o DIR`); each
    /// file sent is moved into DIR/pushed/, each the server refuses for good
    /// (deleted by its source, or too old) into DIR/refused/.
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
    pub refused: usize,
}

/// Where a file goes once the server has answered for it for good.
const PUSHED_DIR: &str = "pushed";
const REFUSED_DIR: &str = "refused";

/// Moves `path` into `dir/sub/` (kept under the same name, never replacing).
fn file_away(dir: &Path, sub: &str, path: &Path) -> Result<(), PickupError> {
    let to_dir = dir.join(sub);
    create_private_dir_all(&to_dir).map_err(io_err(&to_dir))?;
    let to = to_dir.join(path.file_name().unwrap_or_default());
    rename_no_replace(path, &to).map_err(io_err(&to))?;
    sync_dir(&to_dir).map_err(io_err(&to_dir))?;
    sync_dir(dir).map_err(io_err(dir))
}

pub(crate) async fn run(args: &PushArgs) -> Result<Summary, PickupError> {
    let files = reply_files(&args.dir)?;
    if files.is_empty() {
        // Everything was pushed before (it is in DIR/pushed/), or nothing
        // was written yet: nothing to do, which is not an error.
        eprintln!(
            "{} holds no new reply files (*.age from `sealdrop-open reply`); those already pushed are in {}/{PUSHED_DIR}/",
            args.dir.display(),
            args.dir.display()
        );
    }
    let client = Client {
        target: Target::parse(&args.to)?,
        token: read_token(&args.token_file)?,
    };
    let mut summary = Summary {
        stored: 0,
        already_there: 0,
        refused: 0,
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
        if status == StatusCode::GONE {
            let why = match Client::json::<Pushed>(response).await {
                Err(PickupError::Status { message, .. }) => message,
                _ => String::new(),
            };
            eprintln!(
                "refused {} ({}): moved to {REFUSED_DIR}/",
                display_safe(&path.display().to_string()),
                display_safe(&why)
            );
            file_away(&args.dir, REFUSED_DIR, &path)?;
            summary.refused += 1;
            continue;
        }
        let pushed: Pushed = Client::json(response).await?;
        if status == StatusCode::CREATED {
            summary.stored += 1;
        } else {
            summary.already_there += 1;
        }
        file_away(&args.dir, PUSHED_DIR, &path)?;
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
                "{} reply file(s) now wait on the server: {} pushed, {} already there; \
                 they are in {}/{PUSHED_DIR}/ (sealed to their sources; delete them when you like). \
                 {} refused for good (deleted by the source, or older than the retention), in {REFUSED_DIR}/.",
                summary.stored + summary.already_there,
                summary.stored,
                summary.already_there,
                args.dir.display(),
                summary.refused
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sealdrop push-replies: {}", display_safe(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
