//! The newsroom's public keys, as the server seals to them.

use std::fmt;
use std::path::Path;

use super::{contains_secret_key, read_limited, KeyError};

/// The two kinds of recipient sealdrop seals to. One file holds one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKind {
    /// X25519 (`age1…`), or a hardware key's P-256 tag recipient
    /// (`age1tag1…`): classic elliptic-curve keys.
    Classic,
    /// MLKEM768-X25519 (`age1pq1…`), or a hardware key's MLKEM768-P256 tag
    /// recipient (`age1tagpq1…`): hybrid post-quantum keys, age ≥ 1.3.
    PostQuantum,
}

impl fmt::Display for RecipientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecipientKind::Classic => "classic (X25519, P-256 tag)",
            RecipientKind::PostQuantum => "post-quantum (mlkem768x25519, mlkem768p256tag)",
        })
    }
}

#[derive(Clone)]
enum RecipientKey {
    Classic(age::x25519::Recipient),
    /// A hardware key (YubiKey, TPM, Secure Enclave) through its P-256 tag
    /// recipient: anyone can seal to it; opening needs the key's plugin.
    Tag(age::tag::Recipient),
    /// Boxed: an ML-KEM encapsulation key is 1.2 KB.
    TagPq(Box<age::tagpq::Recipient>),
    /// Boxed: an expanded ML-KEM key is 1.6 KB.
    PostQuantum(Box<crate::pq::Recipient>),
}

impl RecipientKey {
    fn parse(line: &str) -> Result<Self, String> {
        // The part before the last '1' is the Bech32 prefix: it says the type.
        let prefix = line.rfind('1').map_or("", |at| &line[..at]);
        match prefix {
            "age1tag" => {
                return line
                    .parse::<age::tag::Recipient>()
                    .map(RecipientKey::Tag)
                    .map_err(|e| format!("hardware-key (P-256 tag) recipient: {e}"))
            }
            "age1tagpq" => {
                return line
                    .parse::<age::tagpq::Recipient>()
                    .map(|k| RecipientKey::TagPq(Box::new(k)))
                    .map_err(|e| format!("hardware-key post-quantum (tagpq) recipient: {e}"))
            }
            "age" | "age1pq" => {}
            plugin if plugin.starts_with("age1") && plugin.len() > 4 => {
                let name = &plugin[4..];
                return Err(format!(
                    "a recipient of the age-plugin-{name} plugin; the server never runs plugins. \
                     Give the hardware key's tag recipient instead (age1tag1… or, post-quantum, \
                     age1tagpq1…): anyone can seal to those without the plugin (docs/DEPLOY.md, \
                     \"Hardware keys\")"
                ));
            }
            _ => {}
        }
        if line.starts_with("age1pq1") {
            return line
                .parse::<crate::pq::Recipient>()
                .map(|k| RecipientKey::PostQuantum(Box::new(k)))
                .map_err(|e| format!("post-quantum key: {e}"));
        }
        line.parse::<age::x25519::Recipient>()
            .map(RecipientKey::Classic)
            .map_err(|e| e.to_string())
    }

    fn kind(&self) -> RecipientKind {
        match self {
            RecipientKey::Classic(_) | RecipientKey::Tag(_) => RecipientKind::Classic,
            RecipientKey::TagPq(_) => RecipientKind::PostQuantum,
            RecipientKey::PostQuantum(_) => RecipientKind::PostQuantum,
        }
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match self {
            RecipientKey::Classic(k) => k,
            RecipientKey::Tag(k) => k,
            RecipientKey::TagPq(k) => k.as_ref(),
            RecipientKey::PostQuantum(k) => k.as_ref(),
        }
    }
}

impl fmt::Display for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientKey::Classic(k) => k.fmt(f),
            RecipientKey::Tag(k) => k.fmt(f),
            RecipientKey::TagPq(k) => k.fmt(f),
            RecipientKey::PostQuantum(k) => k.fmt(f),
        }
    }
}

/// A non-empty set of recipients, all of one [`RecipientKind`].
#[derive(Clone)]
pub struct Recipients {
    keys: Vec<RecipientKey>,
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| k.to_string()))
            .finish()
    }
}

impl Recipients {
    /// Parses a recipients file: one `age1pq1…` or `age1…` key per line; blank
    /// lines and lines starting with `#` are ignored. A secret key anywhere,
    /// or a mix of post-quantum and classic keys, is an error.
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
            let key = RecipientKey::parse(line).map_err(|reason| KeyError::BadRecipient {
                path: path.to_owned(),
                line: line_no,
                reason,
            })?;
            keys.push((line_no, key));
        }
        if let (Some(pq_line), Some(classic_line)) = (
            first_line_of(RecipientKind::PostQuantum, &keys),
            first_line_of(RecipientKind::Classic, &keys),
        ) {
            return Err(KeyError::MixedRecipients {
                path: path.to_owned(),
                pq_line,
                classic_line,
            });
        }
        if keys.is_empty() {
            return Err(KeyError::NoRecipients {
                path: path.to_owned(),
            });
        }
        Ok(Recipients {
            keys: keys.into_iter().map(|(_, k)| k).collect(),
        })
    }

    /// One recipient written as text (`age1pq1…` or `age1…`), such as the
    /// reply recipient a submission's manifest names.
    pub fn parse_one(text: &str) -> Result<Self, String> {
        let key = RecipientKey::parse(text.trim())?;
        Ok(Recipients { keys: vec![key] })
    }

    pub fn from_keys(keys: Vec<age::x25519::Recipient>) -> Self {
        Recipients {
            keys: keys.into_iter().map(RecipientKey::Classic).collect(),
        }
    }

    pub fn from_pq_keys(keys: Vec<crate::pq::Recipient>) -> Self {
        Recipients {
            keys: keys
                .into_iter()
                .map(|k| RecipientKey::PostQuantum(Box::new(k)))
                .collect(),
        }
    }

    /// The kind every key in the set has.
    pub fn kind(&self) -> RecipientKind {
        self.keys
            .first()
            .map_or(RecipientKind::Classic, RecipientKey::kind)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn age::Recipient> {
        self.keys.iter().map(RecipientKey::as_dyn)
    }
}

fn first_line_of(kind: RecipientKind, keys: &[(usize, RecipientKey)]) -> Option<usize> {
    keys.iter()
        .find(|(_, k)| k.kind() == kind)
        .map(|(line, _)| *line)
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
        assert_eq!(r.kind(), RecipientKind::Classic);
    }

    #[test]
    fn keys_example_is_a_valid_post_quantum_recipients_file() {
        let text = include_str!("../../../../keys.example");
        let r = Recipients::parse(text, Path::new("keys.example")).unwrap();
        assert_eq!((r.len(), r.kind()), (2, RecipientKind::PostQuantum));
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

    #[test]
    fn post_quantum_keys_parse_and_mixing_is_refused_with_both_lines() {
        use age::secrecy::ExposeSecret;
        let pq = crate::pq::Identity::generate().to_public().to_string();
        let pq2 = crate::pq::Identity::generate().to_public().to_string();
        let r = Recipients::parse(&format!("# desk\n{pq}\n{pq2}\n"), Path::new("r")).unwrap();
        assert_eq!((r.len(), r.kind()), (2, RecipientKind::PostQuantum));

        let e = Recipients::parse(&format!("{pq}\n\n{PUBLIC}\n"), Path::new("r")).unwrap_err();
        match &e {
            KeyError::MixedRecipients {
                pq_line,
                classic_line,
                ..
            } => assert_eq!((*pq_line, *classic_line), (1, 3)),
            e => panic!("unexpected {e}"),
        }
        assert!(e.to_string().contains("keygen --pq"), "{e}");

        let secret = crate::pq::Identity::generate().to_secret_string();
        let e = Recipients::parse(
            &format!("{pq}\n# {}\n", secret.expose_secret()),
            Path::new("r"),
        )
        .unwrap_err();
        assert!(
            matches!(e, KeyError::SecretKeyInRecipients { line: 2, .. }),
            "{e}"
        );
    }

    #[test]
    fn damaged_post_quantum_key_names_the_line_and_the_kind() {
        let pq = crate::pq::Identity::generate().to_public().to_string();
        let last = if pq.ends_with('q') { 'p' } else { 'q' };
        let damaged = format!("{}{last}", &pq[..pq.len() - 1]);
        let e = Recipients::parse(&format!("{pq}\n{damaged}\n"), Path::new("r")).unwrap_err();
        match e {
            KeyError::BadRecipient { line, reason, .. } => {
                assert_eq!(line, 2);
                assert!(reason.starts_with("post-quantum key"), "{reason}");
            }
            e => panic!("unexpected {e}"),
        }
    }
}
