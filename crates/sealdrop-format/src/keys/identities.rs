//! Identity files: the newsroom's secret keys, read only by `sealdrop-open`.
//!
//! We parse them ourselves rather than with `age::IdentityFile`, which knows no
//! post-quantum identities, neither in plain files nor inside
//! passphrase-protected ones.

use std::io::Cursor;
use std::path::Path;

use age::secrecy::ExposeSecret;
use age::DecryptError;

use super::{read_limited, KeyError, MAX_KEY_FILE_BYTES};
use crate::agefile::{read_small, AgeFile, MAX_SCRYPT_WORK_FACTOR};

pub type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

/// Classic identities use the same HRP without the `PQ-` part.
const CLASSIC_HRP: &str = "AGE-SECRET-KEY-";
/// A hardware key's identity, as its plugin prints it
/// (`AGE-PLUGIN-YUBIKEY-1…`): it names the key, the secret stays inside it.
const PLUGIN_PREFIX: &str = "AGE-PLUGIN-";
const PQ_PREFIX: &str = "AGE-SECRET-KEY-PQ-1";

fn is_age_file(data: &[u8]) -> bool {
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    let data = &data[start.unwrap_or(data.len())..];
    data.starts_with(b"age-encryption.org/")
        || data.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

fn starts_with_ignore_case(line: &str, prefix: &str) -> bool {
    line.len() >= prefix.len()
        && line.is_char_boundary(prefix.len())
        && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Parses the text of an identity file: one `AGE-SECRET-KEY-PQ-1…` or
/// classic `AGE-SECRET-KEY-…` identity per line, `#` comments and blank lines ignored. Errors
/// name the line, never its content. Hardware-key identities ask on the terminal.
pub fn parse_identities(text: &str, path: &Path) -> Result<Identities, KeyError> {
    parse_identities_with(text, path, super::TerminalPrompt)
}

/// `parse_identities`, with `prompt` relaying a hardware key's plugin's
/// questions (PIN, "touch the key") to the editor.
pub(super) fn parse_identities_with<C: age::Callbacks>(
    text: &str,
    path: &Path,
    prompt: C,
) -> Result<Identities, KeyError> {
    let bad = |line: usize, reason: String| KeyError::BadIdentity {
        path: path.to_owned(),
        reason: format!("line {line}: {reason}"),
    };
    let mut identities = Identities::new();
    // Hardware-key identities, by plugin, in the order the file names them.
    let mut plugins: Vec<(String, usize, Vec<age::plugin::Identity>)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let line_no = i + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if starts_with_ignore_case(line, PQ_PREFIX) {
            let identity = Box::new(
                line.parse::<crate::pq::Identity>()
                    .map_err(|e| bad(line_no, format!("damaged post-quantum identity: {e}")))?,
            );
            // Its seed lives inline: the pages of the box, out of swap.
            crate::hardening::keep_in_ram(&*identity);
            identities.push(identity);
        } else if starts_with_ignore_case(line, PLUGIN_PREFIX) {
            let identity = line.parse::<age::plugin::Identity>().map_err(|e| {
                bad(
                    line_no,
                    format!("damaged hardware-key (plugin) identity: {e}"),
                )
            })?;
            match plugins
                .iter_mut()
                .find(|(name, _, _)| name == identity.plugin())
            {
                Some((_, _, same)) => same.push(identity),
                None => plugins.push((identity.plugin().to_owned(), line_no, vec![identity])),
            }
        } else if starts_with_ignore_case(line, CLASSIC_HRP) {
            let identity = Box::new(
                line.parse::<age::x25519::Identity>()
                    .map_err(|e| bad(line_no, format!("damaged X25519 identity: {e}")))?,
            );
            crate::hardening::keep_in_ram(&*identity);
            identities.push(identity);
        } else {
            return Err(bad(
                line_no,
                "not an age identity (expected AGE-SECRET-KEY-PQ-1…, AGE-SECRET-KEY-… or a \
                 hardware key's AGE-PLUGIN-…; is this a recipients file?)"
                    .into(),
            ));
        }
    }
    for (name, line_no, keys) in plugins {
        // age runs the plugin it finds on PATH: refuse one that someone else
        // could have put there (PATH holds only absolute folders by now:
        // `hardening::harden_offline_process`).
        // Every candidate on PATH is checked, not only the first: age's own
        // lookup skips files it cannot execute.
        let binary = format!("age-plugin-{name}");
        let candidates: Vec<std::path::PathBuf> = std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(&binary))
                    .filter(|candidate| candidate.exists())
                    .collect()
            })
            .unwrap_or_default();
        for program in &candidates {
            if let Some(why) = crate::hardening::untrusted_program(program) {
                return Err(bad(
                    line_no,
                    format!(
                        "{} is not run as a hardware key's plugin: {why}; only a plugin that \
                         only root or you could have written is run (install it with the \
                         system's packages, e.g. into /usr/bin)",
                        program.display()
                    ),
                ));
            }
        }
        let plugin = age::plugin::IdentityPluginV1::new(&name, &keys, prompt.clone()).map_err(
            |e| match e {
                age::plugin::ResolveError::MissingPlugin { binary_name } => bad(
                    line_no,
                    format!(
                        "a hardware-key identity for {binary_name}, which is not installed: put \
                         {binary_name} on PATH (for YubiKeys, age-plugin-yubikey; see docs/DEPLOY.md, \
                         \"Hardware keys\")"
                    ),
                ),
                other => bad(line_no, other.to_string()),
            },
        )?;
        identities.push(Box::new(plugin));
    }
    if identities.is_empty() {
        return Err(KeyError::NoIdentities {
            path: path.to_owned(),
        });
    }
    Ok(identities)
}

/// Loads the identities of one identity file: a plain identity file, or a
/// passphrase-protected one (an age file made with `age -p`, binary or
/// armored), for which the passphrase is asked through `prompt` right away.
pub fn load_identity_file<C: age::Callbacks>(
    path: &Path,
    prompt: C,
) -> Result<Identities, KeyError> {
    let data = read_limited(path)?;
    // Out of swap (the loaded keys too: `parse_identities_with`). Never
    // unlocked: a page it shares with a key must stay locked.
    crate::hardening::keep_in_ram(&data[..]);
    let bad = |reason: String| KeyError::BadIdentity {
        path: path.to_owned(),
        reason,
    };
    if !is_age_file(&data) {
        let text = std::str::from_utf8(&data)
            .map_err(|_| bad("it is neither UTF-8 text nor an age file".into()))?;
        return parse_identities_with(text, path, prompt);
    }
    let file = AgeFile::open(Cursor::new(&data[..])).map_err(|e| bad(e.to_string()))?;
    if !file.is_passphrase_protected() {
        return Err(bad(
            "it is an age file sealed to keys, not a passphrase-protected identity file".into(),
        ));
    }
    let passphrase = prompt
        .request_passphrase(&format!("Passphrase for {}:", path.display()))
        .ok_or_else(|| {
            bad(
                "no terminal to ask for its passphrase on (run sealdrop-open from a terminal)"
                    .into(),
            )
        })?;
    crate::hardening::keep_in_ram(passphrase.expose_secret().as_bytes());
    let plaintext = file
        .decrypt_with_passphrase(passphrase)
        .map_err(|e| match e {
            DecryptError::DecryptionFailed | DecryptError::NoMatchingKeys => {
                bad("wrong passphrase".into())
            }
            DecryptError::ExcessiveWork { required, .. } => bad(format!(
                "its passphrase protection asks for scrypt work factor {required}, above the \
                 limit of {MAX_SCRYPT_WORK_FACTOR}; re-protect it with `age -p`"
            )),
            e => bad(e.to_string()),
        })?;
    let text = read_small(plaintext, MAX_KEY_FILE_BYTES)
        .map_err(|e| bad(format!("decrypting it failed: {e}")))?;
    crate::hardening::keep_in_ram(&text[..]);
    let text = std::str::from_utf8(&text)
        .map_err(|_| bad("its decrypted content is not UTF-8 text".into()))?;
    parse_identities_with(text, path, prompt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn classic_identities_parse_with_comments() {
        let key = age::x25519::Identity::generate();
        let text = format!(
            "# created: today\n\n  {}  \n",
            key.to_string().expose_secret()
        );
        assert_eq!(parse_identities(&text, Path::new("k")).unwrap().len(), 1);
    }

    #[test]
    fn recipients_file_given_as_identity_is_refused_without_echo() {
        let public = age::x25519::Identity::generate().to_public().to_string();
        let e = parse_identities(&format!("{public}\n"), Path::new("k"))
            .err()
            .unwrap();
        let text = e.to_string();
        assert!(
            text.contains("line 1") && text.contains("recipients file"),
            "{text}"
        );
        assert!(!text.contains(&public));
    }

    #[test]
    fn empty_identity_file_is_refused() {
        let e = parse_identities("# nothing\n", Path::new("k"))
            .err()
            .unwrap();
        assert!(matches!(e, KeyError::NoIdentities { .. }), "{e}");
    }

    #[test]
    fn post_quantum_and_classic_identities_share_a_file_and_damage_is_reported() {
        let pq = crate::pq::Identity::generate().to_secret_string();
        let classic = age::x25519::Identity::generate();
        let text = format!(
            "{}\n{}\n",
            pq.expose_secret(),
            classic.to_string().expose_secret()
        );
        assert_eq!(parse_identities(&text, Path::new("k")).unwrap().len(), 2);

        let mut damaged = pq.expose_secret().to_owned();
        let swap = if damaged.as_bytes()[30] == b'Q' {
            "P"
        } else {
            "Q"
        };
        damaged.replace_range(30..31, swap);
        let e = parse_identities(&damaged, Path::new("k")).err().unwrap();
        let text = e.to_string();
        assert!(text.contains("post-quantum"), "{text}");
        assert!(
            !text.contains(&damaged[20..]),
            "the error must not echo the key"
        );
    }
}
