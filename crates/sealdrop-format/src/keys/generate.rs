//! New newsroom key pairs: `sealdrop-open keygen` on the air-gapped machine,
//! and the throwaway pair of `sealdrop demo`.

use std::io::Write;
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::KeyError;

/// Which kind of key pair to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// X25519: opens with every age, not safe against a future quantum computer.
    Classic,
    /// MLKEM768-X25519 (age v1.3): safe against a future quantum computer.
    PostQuantum,
}

fn generate(kind: KeyKind) -> Result<(String, SecretString), KeyError> {
    match kind {
        KeyKind::Classic => {
            let identity = age::x25519::Identity::generate();
            Ok((identity.to_public().to_string(), identity.to_string()))
        }
        KeyKind::PostQuantum => {
            let identity = crate::pq::Identity::generate();
            Ok((
                identity.to_public().to_string(),
                identity.to_secret_string(),
            ))
        }
    }
}

/// Writes a new identity to `path` (mode 0600, refusing to overwrite) in the
/// standard age identity-file format; returns the public recipient.
pub fn write_new_identity(path: &Path, kind: KeyKind) -> Result<String, KeyError> {
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
    let io_err = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = crate::fsutil::create_new_private_file(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::IdentityExists {
            path: path.to_owned(),
        },
        _ => io_err(e),
    })?;
    file.write_all(contents.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(recipient)
}
