//! Runs on the air-gapped laptop, on files from strangers: what a file
//! reveals about the person who made it and what it might do when opened
//! (`sealdrop-open inspect`), and a cleaned copy of it (`sealdrop-open
//! scrub`, `decrypt --scrub`).
//!
//! Each format has its own module, which both reports and cleans. Cleaning
//! rebuilds the file from an allowlist of what is needed to show its
//! content (a JPEG keeps its quantization and Huffman tables, its frame and
//! its scans, and nothing else); it never deletes known-bad fields from a
//! copy. Anything a module cannot clean completely is refused as NOT
//! CLEANED, with the reason, and nothing is written for it.
//!
//! Every parser here reads hostile input: sizes, entries, nesting and
//! decompressed bytes are capped ([`limits`]), and a file that trips a cap is
//! NOT CLEANED, never a crash or a hang. Each has a fuzz target.

mod exif;
mod gif;
mod iptc;
mod jpeg;
pub mod limits;
mod mp3;
mod mp4;
mod odf;
mod ooxml;
mod pdf;
mod png;
pub mod render;
pub mod sandbox;
mod searchable;
mod sniff;
mod text;
mod tiff;
mod webp;
mod xmlfilter;
mod xmlread;
mod xmp;
mod zipdoc;

use serde::{Deserialize, Serialize};

pub use searchable::{searchable, Searchable};
pub use sniff::Kind;

/// What a finding is about, in the order a journalist reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// GPS positions and place names.
    Location,
    /// Make, model, serial numbers, software.
    Device,
    /// Author, last editor, company, comments' authors.
    People,
    /// Creation, modification, capture.
    Times,
    /// Revisions, tracked changes, incremental updates, hidden sheets.
    History,
    /// Embedded files, thumbnails, data after the end, text outside the page.
    Hidden,
    /// Macros, scripts, remote templates, anything that loads on opening.
    Active,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Location,
        Category::Device,
        Category::People,
        Category::Times,
        Category::History,
        Category::Hidden,
        Category::Active,
    ];

    /// The heading an editor reads.
    pub fn heading(self) -> &'static str {
        match self {
            Category::Location => "Location",
            Category::Device => "Device",
            Category::People => "People",
            Category::Times => "Times",
            Category::History => "History",
            Category::Hidden => "Hidden content",
            Category::Active => "Active content and tracking",
        }
    }
}

/// One thing a file reveals or might do, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    /// What it is ("GPS position", "camera model").
    pub what: String,
    /// Its value as found (untrusted text: print with `display_safe`).
    pub value: String,
    /// Where in the file (`EXIF`, `XMP`, `word/settings.xml`).
    pub place: String,
}

/// What `inspect` learned about one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The type by content.
    pub kind: Kind,
    /// The type the file's name claims, when it differs from its content.
    pub name_claims: Option<Kind>,
    pub findings: Vec<Finding>,
    /// What could not be checked (a format not understood, a part over a
    /// cap, content that no parser here reads).
    pub unchecked: Vec<String>,
}

impl Report {
    fn new(kind: Kind) -> Report {
        Report {
            kind,
            name_claims: None,
            findings: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// Adds each attribute of an XML element that `wanted` names (its name,
    /// what it reveals), where the element has it.
    fn add_attributes(
        &mut self,
        attributes: &[(String, String)],
        place: &str,
        wanted: &[(&str, Category, &str)],
    ) {
        for &(name, category, what) in wanted {
            if let Some(value) = xmlread::attribute(attributes, name) {
                self.add(category, what, field_text(value.as_bytes()), place);
            }
        }
    }

    fn add(&mut self, category: Category, what: &str, value: impl Into<String>, place: &str) {
        let finding = Finding {
            category,
            what: what.to_owned(),
            value: value.into(),
            place: place.to_owned(),
        };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn unchecked(&mut self, what: impl Into<String>) {
        self.unchecked.push(what.into());
    }
}

/// Why a file was not cleaned; nothing is written for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotCleaned(pub String);

impl NotCleaned {
    fn new(reason: impl Into<String>) -> NotCleaned {
        NotCleaned(reason.into())
    }
}

/// A cleaned copy, and what was left out of it.
#[derive(Debug)]
pub struct Scrubbed {
    pub data: Vec<u8>,
    /// What the copy no longer has, in plain words.
    pub removed: Vec<String>,
}

/// Looks at `data` (a file whose name was `name`) and says what it reveals
/// and what it might do.
pub fn inspect(data: &[u8], name: &str) -> Report {
    let kind = Kind::of(data);
    let mut report = Report::new(kind);
    let claimed = Kind::claimed_by_name(name);
    if claimed.is_some_and(|claimed| !claimed.same_family(kind)) {
        report.name_claims = claimed;
    }
    match kind {
        Kind::Jpeg => jpeg::inspect(data, &mut report),
        Kind::Png => png::inspect(data, &mut report),
        Kind::Gif => gif::inspect(data, &mut report),
        Kind::WebP => webp::inspect(data, &mut report),
        Kind::Text => text::inspect(data, &mut report),
        Kind::Docx | Kind::Xlsx | Kind::Pptx => ooxml::inspect(data, &mut report),
        Kind::Odt | Kind::Ods | Kind::Odp => odf::inspect(data, &mut report),
        Kind::Mp3 => mp3::inspect(data, &mut report),
        Kind::Mp4 | Kind::Mov | Kind::M4a => mp4::inspect(data, &mut report),
        Kind::Tiff => tiff::inspect(data, &mut report),
        Kind::Pdf => pdf::inspect(data, &mut report),
        other => report.unchecked(format!(
            "{}: sealdrop-open does not read this type yet; treat the file as unchecked",
            other.describe()
        )),
    }
    report
}

/// A cleaned copy of `data`, or why there is none.
pub fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    if data.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(NotCleaned::new(format!(
            "larger than {} bytes, the most sealdrop-open cleans",
            limits::MAX_FILE_BYTES
        )));
    }
    match Kind::of(data) {
        Kind::Jpeg => jpeg::scrub(data),
        Kind::Png => png::scrub(data),
        Kind::Gif => gif::scrub(data),
        Kind::WebP => webp::scrub(data),
        Kind::Text => text::scrub(data),
        kind @ (Kind::Docx | Kind::Xlsx | Kind::Pptx) => ooxml::scrub(data, kind),
        kind @ (Kind::Odt | Kind::Ods | Kind::Odp) => odf::scrub(data, kind),
        Kind::Mp3 => mp3::scrub(data),
        Kind::Mp4 | Kind::Mov | Kind::M4a => mp4::scrub(data),
        Kind::Tiff => tiff::scrub(data),
        Kind::Pdf => pdf::scrub(data),
        other => Err(NotCleaned::new(format!(
            "{}: sealdrop-open cannot clean this type yet",
            other.describe()
        ))),
    }
}

/// A big-endian u16 at `at`, if the data reaches that far.
fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// A big-endian u32 at `at`, if the data reaches that far.
fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// A little-endian u32 at `at`, if the data reaches that far.
fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Text from a metadata field: lossy UTF-8, trailing NULs and spaces cut,
/// at most 200 characters (a finding names a value, it does not dump it).
fn field_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\0', ' ']).trim_start();
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// A picture inside a document, inspected with its place named. Only
/// pictures: a document inside a document is reported, never followed (a
/// ZIP can contain itself).
pub(crate) fn nested_picture(data: &[u8], name: &str, report: &mut Report) {
    if !matches!(
        Kind::of(data),
        Kind::Jpeg | Kind::Png | Kind::Gif | Kind::WebP
    ) {
        report.add(
            Category::Hidden,
            "embedded file",
            format!("{name} ({})", Kind::of(data).describe()),
            name,
        );
        return;
    }
    let mut inner = inspect(data, name);
    for finding in inner.findings.drain(..) {
        report.add(
            finding.category,
            &finding.what,
            finding.value,
            &format!("{name}: {}", finding.place),
        );
    }
    for what in inner.unchecked {
        report.unchecked(format!("{name}: {what}"));
    }
}

/// A JPEG inside another file's metadata (an EXIF thumbnail, which may show
/// the picture before it was cropped): inspected as a file of its own, to a
/// bounded depth. The formats that embed each other (a JPEG holds EXIF, EXIF
/// holds a JPEG) reach each other through here, not by importing each other.
pub(crate) fn inspect_embedded_jpeg(data: &[u8], report: &mut Report, place: &str, depth: usize) {
    jpeg::inspect_embedded(data, report, place, depth);
}
