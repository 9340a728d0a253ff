//! Runs in both programs: recipients files (public keys, used by the server)
//! and identity files (secret keys, used only by `sealdrop-open` on the
//! air-gapped machine), and making new key pairs. Both accept
//! classic X25519 keys and, with the `pq` feature, age v1.3's post-quantum
//! hybrid keys (`age1pq1…`).

mod generate;
mod identities;
mod recipients;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

pub use generate::{write_new_identity, KeyKind};
pub use identities::{load_identity_file, parse_identities, Identities};
pub use recipients::{RecipientKind, Recipients};

/// Identity and recipients files are tiny; refuse to read anything large.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is larger than 1 MiB; it is not a key file")]
    TooLarge { path: PathBuf },
    #[error(
        "{path} holds no recipients: add at least one public key (a line starting with age1pq1…, age1tagpq1…, age1… or age1tag1…)"
    )]
    NoRecipients { path: PathBuf },
    #[error(
        "line {line} of {path} is a SECRET key (AGE-SECRET-KEY-…). The server must hold only public keys: \
         delete that line, keep the secret key on the air-gapped machine, and put its public key (age1…, \
         printed by `sealdrop-open keygen`) here instead. Treat that secret key as exposed"
    )]
    SecretKeyInRecipients { path: PathBuf, line: usize },
    #[error(
        "line {line} of {path} is not a public key sealdrop seals to (expected age1pq1…, age1tagpq1…, age1… or age1tag1…): {reason}"
    )]
    BadRecipient {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error(
        "{path} mixes post-quantum (age1pq1… or age1tagpq1…, line {pq_line}) and classic (age1… or age1tag1…, \
         line {classic_line}) recipients. A file sealed to both is no stronger against a future quantum computer \
         than the classic key alone, so age refuses the mix. Use only post-quantum keys (recommended: every editor \
         runs `sealdrop-open keygen --pq`, hardware keys give age1tagpq1…) or only classic ones; see \
         docs/DEPLOY.md, \"Moving to post-quantum keys\""
    )]
    MixedRecipients {
        path: PathBuf,
        pq_line: usize,
        classic_line: usize,
    },
    #[error("{path} holds no identity: expected lines starting with AGE-SECRET-KEY-PQ-1… or AGE-SECRET-KEY-… (from `sealdrop-open keygen`)")]
    NoIdentities { path: PathBuf },
    #[error("cannot use identity file {path}: {reason}")]
    BadIdentity { path: PathBuf, reason: String },
    #[error("{path} already exists; keygen never overwrites a key. Choose another name with -o")]
    IdentityExists { path: PathBuf },
}

fn read_limited(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let io_err = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let mut data = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(io_err)?;
    if data.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(data)
}

/// True if `line` holds something shaped like an age secret key
/// (the `AGE-SECRET-KEY-` prefix, classic or post-quantum, then a long Bech32 body), even inside a comment; a
/// mere mention of the prefix is not one.
fn contains_secret_key(line: &str) -> bool {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .any(|token| token.len() >= 40 && token.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-"))
}

/// A line typed on the controlling terminal (not standard input, which may
/// carry a file being opened).
fn read_terminal_line() -> Option<String> {
    use std::io::BufRead;
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let mut line = String::new();
    std::io::BufReader::new(tty).read_line(&mut line).ok()?;
    Some(line)
}

/// Asks for passphrases on the terminal (never on stdin or in arguments).
#[derive(Clone, Copy)]
pub struct TerminalPrompt;

impl age::Callbacks for TerminalPrompt {
    fn display_message(&self, message: &str) {
        eprintln!("{message}");
    }

    /// A hardware key's plugin asking to go on (for example after "insert
    /// the key"): answered on the terminal.
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let choices = match no {
            Some(no) => format!("[{yes}/{no}]"),
            None => format!("[{yes}]"),
        };
        eprint!("{message} {choices} ");
        let answer = read_terminal_line()?;
        let answer = answer.trim();
        Some(answer.is_empty() || answer.eq_ignore_ascii_case(yes) || no.is_none())
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        eprint!("{description} ");
        Some(read_terminal_line()?.trim().to_owned())
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        rpassword::prompt_password(format!("{description} "))
            .ok()
            .map(SecretString::from)
    }
}
