//! `manifest.json`: the sealed description of a submission (docs/FORMAT.md).
//!
//! Readers ignore fields they do not know, so later versions can add fields (a
//! reply channel, say) without breaking older `sealdrop-open` builds. A reader
//! refuses a manifest whose `version` is newer than it understands only when the
//! major meaning changed, which is what bumping `version` signals.

use serde::{Deserialize, Serialize};

/// Value of the `format` field.
pub const FORMAT_NAME: &str = "sealdrop-submission";
/// Current manifest version; readers accept every version up to this one.
pub const FORMAT_VERSION: u32 = 1;
/// Path of the manifest inside the archive.
pub const MANIFEST_PATH: &str = "manifest.json";
/// Path of the message inside the archive.
pub const MESSAGE_PATH: &str = "message.txt";
/// Folder of the attachments inside the archive.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// Folder that `sealdrop-open` writes parts of unknown kinds into (from a
/// newer version, or hostile), so that none lands at the top of a
/// submission's folder beside what the editor expects.
pub const UNKNOWN_PARTS_DIR: &str = "unknown-parts";
/// Path of the Padmé padding entry (zeros; not listed in the manifest).
pub const PADDING_PATH: &str = ".padding";
/// Content type recorded for the message.
pub const MESSAGE_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// Largest manifest a reader will parse.
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// Arrival time rounded down to `received_granularity_secs`, RFC 3339 UTC.
    pub received: String,
    pub received_granularity_secs: u64,
    pub parts: Vec<Part>,
    /// The source's reply channel, if the server offered one. A block that
    /// does not have this shape (hostile, or from a newer version) reads as
    /// none, so that it never hides the submission itself.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_reply"
    )]
    pub reply: Option<ReplyBlock>,
    /// The desk the source sent it to, on a server with desks; a reply
    /// copies it so that her follow-ups go to the same desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<String>,
}

/// `"reply": {"thread": "<32 hex>", "recipient": "<age recipient>"}`: the
/// thread that groups a source's submissions and the newsroom's replies, and
/// the key replies are sealed to. Both derive from the source's codename
/// (`crate::reply::keys`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyBlock {
    pub thread: String,
    pub recipient: String,
    /// The key of the reply files' tags (64 lowercase hex), so that the
    /// server finds a source's replies without a key agreement per file
    /// (docs/FORMAT.md, section 7.3). Absent from submissions made before
    /// reply files version 2: those cannot be answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_key: Option<String>,
}

impl Drop for ReplyBlock {
    /// The tag key lets whoever holds it find the source's replies; the
    /// thread ties her submissions together.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.thread);
        if let Some(key) = &mut self.tag_key {
            zeroize::Zeroize::zeroize(key);
        }
    }
}

fn lenient_reply<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ReplyBlock>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    Message,
    Attachment,
    /// A kind from a newer version; listed and extracted, never interpreted.
    #[serde(other)]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub kind: PartKind,
    /// Sanitized path of the entry inside the archive ("attachments/x.pdf").
    pub path: String,
    /// The name exactly as the source's browser sent it (attachments only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_name: Option<String>,
    /// The content type as the source's browser declared it; never trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub size: u64,
    /// Lowercase hex SHA-256 of the part's bytes.
    pub sha256: String,
}

impl Part {
    /// Where `sealdrop-open` writes this part, relative to the submission's
    /// folder: its path, or for a part of unknown kind, its path under
    /// [`UNKNOWN_PARTS_DIR`].
    pub fn output_path(&self) -> String {
        match self.kind {
            PartKind::Message | PartKind::Attachment => self.path.clone(),
            PartKind::Other => format!("{UNKNOWN_PARTS_DIR}/{}", self.path),
        }
    }
}

impl Manifest {
    pub fn new(received: String, received_granularity_secs: u64) -> Self {
        Manifest {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            received,
            received_granularity_secs,
            parts: Vec::new(),
            reply: None,
            desk: None,
        }
    }

    pub fn message(&self) -> Option<&Part> {
        self.parts.iter().find(|p| p.kind == PartKind::Message)
    }

    pub fn attachments(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(|p| p.kind == PartKind::Attachment)
    }

    pub fn total_size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_kinds_do_not_break_reading() {
        let json = r#"{
            "format": "sealdrop-submission", "version": 1,
            "received": "2026-11-25T04:00:00Z", "received_granularity_secs": 3600,
            "reply": {"channel": "future"}, "desk": "x",
            "parts": [
                {"kind": "message", "path": "message.txt", "size": 2, "sha256": "00", "lang": "ar"},
                {"kind": "voice-note", "path": "voice/x.ogg", "size": 1, "sha256": "11"}
            ]
        }"#;
        let m: Manifest = serde_json::from_str(json).unwrap();
        assert_eq!(m.parts[1].kind, PartKind::Other);
        assert_eq!(
            m.reply, None,
            "a reply block of another shape reads as none"
        );
        assert_eq!(m.message().unwrap().size, 2);
    }
}
