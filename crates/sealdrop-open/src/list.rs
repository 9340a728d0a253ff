//! `sealdrop-open list`: what is in each submission, without writing anything.

use std::fs;
use std::io::BufReader;

use super::inputs::Input;
use super::ToolError;
use sealdrop_format::keys::Identities;
use sealdrop_format::seal::{Manifest, PartKind};
use sealdrop_scrub::sandbox::{ArchiveSink, Deliver};

use super::extract::{read_sealed, Sealed};
use sealdrop_format::terminal::{display_safe, human_size};

const PREVIEW_CHARS: usize = 60;

pub(crate) struct Listing {
    pub manifest: Manifest,
    pub preview: Option<String>,
}

/// Decrypts the manifest and the start of the message; all in memory. The
/// archive is read in the sandbox, which sends only those.
pub(crate) fn read_listing(input: &Input, identities: &Identities) -> Result<Listing, ToolError> {
    let file = fs::File::open(&input.path).map_err(ToolError::io(&input.path))?;
    let mut head = MessageHead::default();
    let manifest = read_sealed(
        &input.path,
        BufReader::new(file),
        identities,
        Deliver::MessageHead {
            bytes: PREVIEW_CHARS as u64 * 4,
        },
        &mut head,
    )
    .map_err(|e| match e {
        Sealed::Tool(e) => e,
        Sealed::Writing(e) => ToolError::io(&input.path)(e),
    })?;
    let preview = manifest
        .message()
        .map(|_| preview(&String::from_utf8_lossy(&head.bytes)));
    Ok(Listing { manifest, preview })
}

/// The start of the message, kept in memory only.
#[derive(Default)]
struct MessageHead {
    bytes: zeroize::Zeroizing<Vec<u8>>,
}

impl ArchiveSink for MessageHead {
    fn manifest(&mut self, _: &Manifest) -> std::io::Result<()> {
        Ok(())
    }

    fn part(&mut self, _: usize, bytes: &[u8]) -> std::io::Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn part_end(&mut self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn part_discard(&mut self, _: usize) -> std::io::Result<()> {
        self.bytes.clear();
        Ok(())
    }
}

fn preview(text: &str) -> String {
    let flat = display_safe(text.trim());
    let mut out: String = flat.chars().take(PREVIEW_CHARS).collect();
    if flat.chars().count() > PREVIEW_CHARS {
        out.push('…');
    }
    out
}

/// Formats one submission as table rows.
pub(crate) fn format_listing(id: &str, listing: &Listing) -> String {
    let m = &listing.manifest;
    let attachments: Vec<_> = m.attachments().collect();
    let mut out = format!(
        "{:<34} {:<22} {:>5} {:>10}  {}\n",
        display_safe(id),
        display_safe(&m.received),
        attachments.len(),
        human_size(m.total_size()),
        listing
            .preview
            .as_deref()
            .map(|p| format!("\"{p}\""))
            .unwrap_or_else(|| "(no message)".into()),
    );
    for part in attachments {
        let original = part
            .original_name
            .as_deref()
            .map(display_safe)
            .unwrap_or_default();
        out.push_str(&format!(
            "    {}  {}  {}  (sent as \"{}\")\n",
            display_safe(&part.path),
            human_size(part.size),
            display_safe(part.content_type.as_deref().unwrap_or("unknown type")),
            original
        ));
    }
    // decrypt writes these too (under unknown-parts/): list shows them.
    for part in m.parts.iter().filter(|p| p.kind == PartKind::Other) {
        out.push_str(&format!(
            "    {}  {}  (a part of a kind this sealdrop-open does not know)\n",
            display_safe(&part.output_path()),
            human_size(part.size),
        ));
    }
    out
}

pub(crate) const HEADER: &str =
    "ID                                 RECEIVED (UTC, rounded) FILES       SIZE  MESSAGE";
