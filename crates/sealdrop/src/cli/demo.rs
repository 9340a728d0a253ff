//! `sealdrop demo`: a working drop in one command, with throwaway keys.

use std::fs;
use std::path::{Path, PathBuf};

use sealdrop_format::keys::{write_new_identity, KeyKind};
use sealdrop_server::{run, ServeConfig, ServeOptions};

fn private_dir(path: &Path) -> Result<(), String> {
    sealdrop_format::fsutil::create_private_dir_all(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// The command that runs `sealdrop-open`: the binary beside this one if it
/// was built, otherwise through cargo.
fn open_command() -> String {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("sealdrop-open")))
        .filter(|p| p.is_file());
    match beside {
        Some(p) => p.display().to_string(),
        None => "cargo run --release --bin sealdrop-open --".to_owned(),
    }
}

/// The command that runs this `sealdrop`.
fn sealdrop_command() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "sealdrop".to_owned())
}

/// The demo's pickup token: made once, kept in the demo folder.
fn pickup_token(path: &Path) -> Result<sealdrop_format::pickup::TokenHash, String> {
    if let Ok(token) = fs::read_to_string(path) {
        return Ok(sealdrop_format::pickup::TokenHash::of(token.trim()));
    }
    let (token, hash) = sealdrop_format::pickup::new_token();
    let mut file = sealdrop_format::fsutil::create_new_private_file(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    use std::io::Write;
    writeln!(file, "{token}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(hash)
}

/// The demo shows what we recommend for new newsrooms.
const DEMO_KEY_KIND: KeyKind = KeyKind::PostQuantum;

pub(crate) async fn run(dir: PathBuf, listen: String) -> Result<(), String> {
    private_dir(&dir)?;
    let identity = dir.join("identity.txt");
    let recipients = dir.join("recipients.txt");
    let store = dir.join("store");
    if !identity.exists() {
        let recipient = write_new_identity(&identity, DEMO_KEY_KIND).map_err(|e| e.to_string())?;
        fs::write(
            &recipients,
            format!("# demo key, made by `sealdrop demo`\n{recipient}\n"),
        )
        .map_err(|e| format!("cannot write {}: {e}", recipients.display()))?;
    }
    private_dir(&store)?;
    let token_file = dir.join("pickup.token");
    let socket = dir.join("pickup.sock");
    let pickup_listen = format!("unix:{}", socket.display());
    let config = ServeConfig::from_options(ServeOptions {
        recipients: Some(recipients),
        store: Some(store.clone()),
        listen: vec![listen.parse()?],
        pickup_listen: vec![pickup_listen.parse()?],
        pickup_token_sha256: vec![sealdrop_server::config::PickupToken {
            scope: sealdrop_server::config::TokenScope::All,
            hash: pickup_token(&token_file)?,
        }],
        ..ServeOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let opened = dir.join("opened");
    let outbox = dir.join("outbox");
    let banner = move |serving: &str| {
        [
            String::new(),
            format!(
                "sealdrop demo: a throwaway drop with keys in {} {}",
                dir.display(),
                "(never use them for real sources)."
            ),
            String::new(),
            format!("  1. Open http://{serving}/ in a browser and send a message or files."),
            "     The answer page shows a codename: copy it.".to_owned(),
            "  2. Decrypt what arrived, as an editor would on the air-gapped machine:".to_owned(),
            String::new(),
            format!(
                "     {} decrypt -i {} -o {} {}",
                open_command(),
                identity.display(),
                opened.display(),
                store.display()
            ),
            String::new(),
            "  3. Answer the source: write a reply into reply.txt, then seal it to her".to_owned(),
            "     (SUBMISSION is the folder step 2 printed) and push it to the server:".to_owned(),
            String::new(),
            format!(
                "     {} reply --to SUBMISSION --message reply.txt -o {}",
                open_command(),
                outbox.display()
            ),
            format!(
                "     {} push-replies --to {pickup_listen} --token-file {} {}",
                sealdrop_command(),
                token_file.display(),
                outbox.display()
            ),
            String::new(),
            format!(
                "  4. Read the reply as the source: http://{serving}/replies, with the codename."
            ),
            String::new(),
            "Stop with Ctrl-C.".to_owned(),
        ]
        .join("\n")
    };
    run::run(config, Some(Box::new(banner)))
        .await
        .map_err(|e| e.to_string())
}
