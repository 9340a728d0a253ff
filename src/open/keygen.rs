//! `sealdrop-open keygen`: a new newsroom key pair.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::ToolError;

/// Writes a new X25519 identity to `path` (mode 0600, refusing to overwrite)
/// in the standard age identity-file format; returns the public recipient.
pub fn keygen(path: &Path) -> Result<String, ToolError> {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let secret = identity.to_string();
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
