//! Recipients files (public keys, used by the server) and identity files (secret
//! keys, used only by `sealdrop-open` on the air-gapped machine).

use std::fmt;
use std::fs;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

/// Identity and recipients files are tiny; refuse to read anything large.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is larger than 1 MiB; it is not a key file")]
    TooLarge { path: PathBuf },
    #[error(
        "{path} holds no recipients: add at least one public key (a line starting with age1…)"
    )]
    NoRecipients { path: PathBuf },
    #[error(
        "line {line} of {path} is a SECRET key (AGE-SECRET-KEY-…). The server must hold only public keys: \
         delete that line, keep the secret key on the air-gapped machine, and put its public key (age1…, \
         printed by `sealdrop-open keygen`) here instead. Treat that secret key as exposed"
    )]
    SecretKeyInRecipients { path: PathBuf, line: usize },
    #[error("line {line} of {path} is not an age public key (expected age1…): {reason}")]
    BadRecipient {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path} holds no identity: expected lines starting with AGE-SECRET-KEY- (from `sealdrop-open keygen`)")]
    NoIdentities { path: PathBuf },
    #[error("cannot use identity file {path}: {reason}")]
    BadIdentity { path: PathBuf, reason: String },
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

/// The newsroom's public keys, as the server seals to them.
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| k.to_string()))
            .finish()
    }
}

impl Recipients {
    /// Parses a recipients file: one `age1…` key per line; blank lines and lines
    /// starting with `#` are ignored. A secret key anywhere is an error.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let data = read_limited(path)?;
        let text = std::str::from_utf8(&data).map_err(|_| KeyError::BadRecipient {
            path: path.to_owned(),
            line: 0,
            reason: "the file is not UTF-8 text".into(),
        })?;
        Self::parse(text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let line_no = i + 1;
            // Checked before comments are skipped: a commented-out secret key is
            // still a secret key on the server.
            if contains_secret_key(line) {
                return Err(KeyError::SecretKeyInRecipients {
                    path: path.to_owned(),
                    line: line_no,
                });
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key =
                line.parse::<age::x25519::Recipient>()
                    .map_err(|e| KeyError::BadRecipient {
                        path: path.to_owned(),
                        line: line_no,
                        reason: e.to_string(),
                    })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(KeyError::NoRecipients {
                path: path.to_owned(),
            });
        }
        Ok(Recipients { keys })
    }

    pub fn from_keys(keys: Vec<age::x25519::Recipient>) -> Self {
        Recipients { keys }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn age::Recipient> {
        self.keys.iter().map(|k| k as &dyn age::Recipient)
    }
}

/// Asks for passphrases on the terminal (never on stdin or in arguments).
#[derive(Clone, Copy)]
pub struct TerminalPrompt;

impl age::Callbacks for TerminalPrompt {
    fn display_message(&self, message: &str) {
        eprintln!("{message}");
    }

    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        rpassword::prompt_password(format!("{description} "))
            .ok()
            .map(SecretString::from)
    }
}

pub type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

fn is_age_file(data: &[u8]) -> bool {
    data.starts_with(b"age-encryption.org/")
        || data.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Loads the identities of one identity file: a plain age identity file or a
/// passphrase-protected one (an age file encrypted with `age -p`), for which the
/// passphrase is asked on the terminal right away.
pub fn load_identity_file<C: age::Callbacks>(
    path: &Path,
    prompt: C,
) -> Result<Identities, KeyError> {
    let data = read_limited(path)?;
    let bad = |reason: String| KeyError::BadIdentity {
        path: path.to_owned(),
        reason,
    };
    let identities = if is_age_file(&data) {
        let reader = age::armor::ArmoredReader::new(Cursor::new(data.to_vec()));
        let decryptor = age::Decryptor::new(reader).map_err(|e| bad(e.to_string()))?;
        let encrypted = age::encrypted::EncryptedIdentity::new(decryptor, prompt, None)
            .ok_or_else(|| bad("it is an age file but not passphrase-protected".into()))?;
        let display = path.display().to_string();
        let file = encrypted.decrypt(Some(&display)).map_err(|e| match e {
            age::DecryptError::KeyDecryptionFailed => {
                bad("wrong passphrase, or no terminal to ask for one on (run sealdrop-open from a terminal)".into())
            }
            e => bad(e.to_string()),
        })?;
        file.into_identities().map_err(|e| bad(e.to_string()))?
    } else {
        age::IdentityFile::from_buffer(Cursor::new(&data[..]))
            .map_err(|e| bad(e.to_string()))?
            .into_identities()
            .map_err(|e| bad(e.to_string()))?
    };
    if identities.is_empty() {
        return Err(KeyError::NoIdentities {
            path: path.to_owned(),
        });
    }
    Ok(identities)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn recipients_file_with_comments_parses() {
        let text = format!("# newsroom key, 2026\n\n  {PUBLIC}  \n# old: age1xyz\n");
        let r = Recipients::parse(&text, Path::new("r.txt")).unwrap();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn keys_example_is_a_valid_recipients_file() {
        let text = include_str!("../keys.example");
        assert_eq!(
            Recipients::parse(text, Path::new("keys.example"))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn empty_recipients_are_refused() {
        let e = Recipients::parse("# nothing\n\n", Path::new("r.txt")).unwrap_err();
        assert!(matches!(e, KeyError::NoRecipients { .. }), "{e}");
    }

    #[test]
    fn secret_key_is_refused_even_commented_out() {
        let secret = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let line = secret.to_string().expose_secret().to_owned();
        for text in [
            format!("{PUBLIC}\n{line}\n"),
            format!("# {line}\n{PUBLIC}\n"),
        ] {
            let e = Recipients::parse(&text, Path::new("r.txt")).unwrap_err();
            assert!(matches!(e, KeyError::SecretKeyInRecipients { .. }), "{e}");
            assert!(
                !e.to_string().contains(&line),
                "the error must not echo the key"
            );
        }
    }

    #[test]
    fn garbage_recipient_is_refused_with_line_number() {
        let e =
            Recipients::parse(&format!("{PUBLIC}\nage1nope\n"), Path::new("r.txt")).unwrap_err();
        match e {
            KeyError::BadRecipient { line, .. } => assert_eq!(line, 2),
            e => panic!("unexpected {e}"),
        }
    }
}
