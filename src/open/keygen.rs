//! `sealdrop-open keygen`: a new newsroom key pair.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::ToolError;

/// Which kind of key pair to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// X25519: opens with every age, not safe against a future quantum computer.
    Classic,
    /// MLKEM768-X25519 (age v1.3): safe against a future quantum computer.
    PostQuantum,
}

fn generate(kind: KeyKind) -> Result<(String, SecretString), ToolError> {
    match kind {
        KeyKind::Classic => {
            let identity = age::x25519::Identity::generate();
            Ok((identity.to_public().to_string(), identity.to_string()))
        }
        #[cfg(feature = "pq")]
        KeyKind::PostQuantum => {
            let identity = crate::pq::Identity::generate();
            Ok((
                identity.to_public().to_string(),
                identity.to_secret_string(),
            ))
        }
        #[cfg(not(feature = "pq"))]
        KeyKind::PostQuantum => Err(ToolError::Usage(
            "this build of sealdrop-open has no post-quantum support; rebuild it with the \
             default `pq` feature"
                .into(),
        )),
    }
}

/// Writes a new identity to `path` (mode 0600, refusing to overwrite) in the
/// standard age identity-file format; returns the public recipient.
pub fn keygen(path: &Path, kind: KeyKind) -> Result<String, ToolError> {
    let (recipient, secret) = generate(kind)?;
    let created = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let contents = Zeroizing::new(format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        secret.expose_secret()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => ToolError::Usage(format!(
                "{} already exists; keygen never overwrites a key. Choose another name with -o",
                path.display()
            )),
            _ => ToolError::Io {
                path: path.to_owned(),
                source: e,
            },
        })?;
    file.write_all(contents.as_bytes())
        .map_err(ToolError::io(path))?;
    file.sync_all().map_err(ToolError::io(path))?;
    Ok(recipient)
}
