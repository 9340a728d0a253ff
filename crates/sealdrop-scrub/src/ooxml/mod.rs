//! Office Open XML (DOCX, XLSX, PPTX): a ZIP of XML parts tied together by
//! relationship files. `inspect` reads every part for what it reveals
//! (document properties, comments and their authors, tracked changes,
//! revision-save ids, hidden text, sheets and slides, macros, embedded
//! files, and relationships to outside addresses such as a remote template,
//! which Word fetches on opening).
//!
//! `scrub` ([`clean`]) rebuilds the package from the main part outward
//! along the relationships each format needs ([`word`], [`sheet`],
//! [`slide`]), rewriting every part it reaches.

mod clean;
mod sheet;
mod slide;
mod word;

pub(crate) use clean::scrub;

use super::xmlread::{attribute, walk, Node};
use super::zipdoc::{self, Part};
use super::{field_text, Category, Report};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const W14: &str = "http://schemas.microsoft.com/office/word/2010/wordml";
const MATH: &str = "http://schemas.openxmlformats.org/officeDocument/2006/math";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const MC: &str = "http://schemas.openxmlformats.org/markup-compatibility/2006";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const CONTENT_TYPES: &str = "[Content_Types].xml";

/// DrawingML's parts (pictures, charts, diagrams) and Office's drawing
/// extensions: shapes, not text or people. All three formats draw with them.
fn drawing_namespace(namespace: &str) -> bool {
    const DRAWING_FAMILIES: &[&str] = &[
        "http://schemas.openxmlformats.org/drawingml/2006/",
        "http://schemas.microsoft.com/office/drawing/20",
    ];
    DRAWING_FAMILIES
        .iter()
        .any(|family| namespace.starts_with(family))
}

/// One relationship of a part.
#[derive(Clone, Debug)]
struct Relationship {
    id: String,
    /// The last segment of its type URI ("image", "attachedTemplate").
    kind: String,
    type_uri: String,
    target: String,
    external: bool,
}

fn relationships(xml: &[u8]) -> Result<Vec<Relationship>, String> {
    let mut found = Vec::new();
    walk(xml, |node| {
        if let Node::Open {
            local: "Relationship",
            attributes,
        } = node
        {
            let type_uri = attribute(attributes, "Type").unwrap_or_default().to_owned();
            found.push(Relationship {
                id: attribute(attributes, "Id").unwrap_or_default().to_owned(),
                kind: type_uri.rsplit('/').next().unwrap_or_default().to_owned(),
                type_uri,
                target: attribute(attributes, "Target")
                    .unwrap_or_default()
                    .to_owned(),
                external: attribute(attributes, "TargetMode")
                    .is_some_and(|m| m.eq_ignore_ascii_case("External")),
            });
        }
    })?;
    Ok(found)
}

/// The relationship part of `part` ("word/_rels/document.xml.rels").
fn rels_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/_rels/{name}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// A relationship's target as a part name, relative to the part that holds it.
fn resolve(from: &str, target: &str) -> String {
    let target = target.split(['#', '?']).next().unwrap_or_default();
    let mut segments: Vec<&str> = if let Some(absolute) = target.strip_prefix('/') {
        return normalize(absolute.split('/').collect());
    } else {
        from.rsplit_once('/')
            .map(|(dir, _)| dir.split('/').collect())
            .unwrap_or_default()
    };
    segments.extend(target.split('/'));
    normalize(segments)
}

fn normalize(segments: Vec<&str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in segments {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// Where an outside address points: its host, or what kind of path it is.
pub(super) fn host_of(target: &str) -> String {
    let lower = target.to_ascii_lowercase();
    if let Some(rest) = lower.split_once("://").map(|(_, rest)| rest) {
        if lower.starts_with("file:") {
            return format!("a file path ({})", field_text(target.as_bytes()));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        return field_text(host.as_bytes());
    }
    if let Some(unc) = target.strip_prefix("\\\\") {
        return format!(
            "{} (a Windows network share)",
            field_text(unc.split('\\').next().unwrap_or_default().as_bytes())
        );
    }
    format!("a path ({})", field_text(target.as_bytes()))
}

fn part<'a>(parts: &'a [Part], name: &str) -> Option<&'a Part> {
    parts.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Field instructions that fetch content from elsewhere when fields update.
fn remote_field(instruction: &str) -> bool {
    let upper = instruction.trim_start().to_ascii_uppercase();
    [
        "INCLUDEPICTURE",
        "INCLUDETEXT",
        "DDEAUTO",
        "DDE ",
        "LINK ",
        "IMPORT ",
    ]
    .iter()
    .any(|k| upper.starts_with(k))
}

/// Walks the part at hand with a visitor, recording a parse failure.
type OnXml<'a> = dyn FnMut(&mut dyn FnMut(Node)) + 'a;

/// Counts of things reported once per document, not per part.
#[derive(Default)]
struct Tally {
    changes: usize,
    comments: usize,
    rsids: usize,
    notes: usize,
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let parts = match zipdoc::read_parts(data) {
        Ok(parts) => parts,
        Err(e) => {
            report.unchecked(e.to_string());
            return;
        }
    };
    let mut tally = Tally::default();
    for part in &parts {
        let name = part.name.as_str();
        let place = name;
        let mut failed = None;
        let mut on_xml = |visit: &mut dyn FnMut(Node)| {
            if let Err(e) = walk(&part.data, visit) {
                failed = Some(e);
            }
        };
        match name {
            "docProps/core.xml" => on_xml(&mut |node| {
                if let Node::Text { inside, text, .. } = node {
                    let (category, what) = match inside {
                        "creator" => (Category::People, "author"),
                        "lastModifiedBy" => (Category::People, "last edited by"),
                        "created" => (Category::Times, "created"),
                        "modified" => (Category::Times, "modified"),
                        "lastPrinted" => (Category::Times, "last printed"),
                        "revision" => (Category::History, "revision number"),
                        "title" | "subject" | "description" | "keywords" | "category"
                        | "contentStatus" => (Category::People, "text written into the properties"),
                        _ => return,
                    };
                    report.add(category, what, field_text(text.as_bytes()), place);
                }
            }),
            "docProps/app.xml" => on_xml(&mut |node| {
                if let Node::Text { inside, text, .. } = node {
                    let (category, what) = match inside {
                        "Application" => (Category::Device, "software"),
                        "AppVersion" => (Category::Device, "software version"),
                        "Company" => (Category::People, "company"),
                        "Manager" => (Category::People, "manager"),
                        "TotalTime" => (Category::History, "minutes spent editing"),
                        "Template" => (Category::History, "template"),
                        "HyperlinkBase" => (Category::Active, "base address of links"),
                        _ => return,
                    };
                    report.add(category, what, field_text(text.as_bytes()), place);
                }
            }),
            "docProps/custom.xml" => {
                let mut property = String::new();
                on_xml(&mut |node| match node {
                    Node::Open {
                        local: "property",
                        attributes,
                    } => property = attribute(attributes, "name").unwrap_or_default().to_owned(),
                    Node::Text { text, .. } => report.add(
                        Category::People,
                        "custom property",
                        format!("{property}: {}", field_text(text.as_bytes())),
                        place,
                    ),
                    _ => {}
                });
            }
            n if n.ends_with(".rels") => match relationships(&part.data) {
                Ok(rels) => {
                    for rel in rels.iter().filter(|r| r.external) {
                        let (category, what) = match rel.kind.as_str() {
                            "attachedTemplate" => (
                                Category::Active,
                                "remote template, fetched when the document opens",
                            ),
                            "image" => (
                                Category::Active,
                                "outside image, fetched when the document opens",
                            ),
                            "oleObject" | "package" | "frame" | "subDocument"
                            | "externalLinkPath" | "externalLink" => (
                                Category::Active,
                                "outside content, fetched when the document opens or updates",
                            ),
                            "hyperlink" => (Category::Active, "link (opens only when clicked)"),
                            _ => (Category::Active, "outside address"),
                        };
                        report.add(category, what, host_of(&rel.target), place);
                    }
                }
                Err(e) => failed = Some(e),
            },
            n if n.ends_with("vbaProject.bin") => report.add(
                Category::Active,
                "macros (VBA)",
                format!(
                    "{} bytes of macro code, which can run when the document opens",
                    part.data.len()
                ),
                place,
            ),
            n if n.contains("/activeX/") && n.ends_with(".xml") => report.add(
                Category::Active,
                "ActiveX control",
                "a control that runs code",
                place,
            ),
            n if n.contains("/embeddings/") => report.add(
                Category::Hidden,
                "embedded file",
                format!(
                    "{} ({} bytes)",
                    n.rsplit('/').next().unwrap_or_default(),
                    part.data.len()
                ),
                place,
            ),
            n if n.starts_with("customXml/item") && !n.contains("Props") => report.add(
                Category::Hidden,
                "custom XML data",
                format!("{} bytes", part.data.len()),
                place,
            ),
            n if n.starts_with("docProps/thumbnail") => {
                report.add(
                    Category::Hidden,
                    "thumbnail",
                    "a picture of the first page, maybe of an earlier version",
                    place,
                );
                crate::nested_picture(&part.data, name, report);
            }
            _ if word::inspect_part(part, report, &mut tally, &mut on_xml)
                || sheet::inspect_part(part, report, &mut on_xml)
                || slide::inspect_part(part, report, &mut tally, &mut on_xml) => {}
            n if n.contains("/printerSettings/") => report.add(
                Category::Device,
                "printer settings",
                printer_name(&part.data),
                place,
            ),
            n if n.starts_with("xl/persons/") || n == "ppt/commentAuthors.xml" => {
                on_xml(&mut |node| {
                    if let Node::Open { attributes, .. } = node {
                        if let Some(name) =
                            attribute(attributes, "displayName").or(attribute(attributes, "name"))
                        {
                            report.add(
                                Category::People,
                                "person who commented",
                                field_text(name.as_bytes()),
                                place,
                            );
                        }
                    }
                })
            }
            n if n.contains("/media/") => crate::nested_picture(&part.data, name, report),
            _ => {}
        }
        if let Some(e) = failed {
            report.unchecked(format!("{name}: {e}"));
        }
        // A picture's description, which Word, PowerPoint and python-pptx
        // fill with the file's name on the author's disk.
        let content = ["word/", "xl/", "ppt/"].iter().any(|d| name.starts_with(d));
        if content && name.ends_with(".xml") {
            let _ = walk(&part.data, |node| {
                if let Node::Open { local, attributes } = node {
                    let pairs = attributes.iter().map(|(l, v)| (l.as_str(), v.as_str()));
                    if let Some(file) = picture_file_name(local, pairs) {
                        report.add(
                            Category::Hidden,
                            "a picture's original file name",
                            field_text(file.as_bytes()),
                            place,
                        );
                    }
                }
            });
        }
    }
    if tally.changes > 0 {
        report.add(
            Category::History,
            "tracked changes",
            format!(
                "{} insertions, deletions or moves, with their authors",
                tally.changes
            ),
            "word/",
        );
    }
    if tally.comments > 0 {
        report.add(
            Category::Hidden,
            "comments",
            format!("{}", tally.comments),
            "comments parts",
        );
    }
    if tally.rsids > 0 {
        report.add(
            Category::History,
            "revision-save ids",
            format!(
                "{}: they tie the document to the editing sessions that made it",
                tally.rsids
            ),
            "word/settings.xml",
        );
    }
    if tally.notes > 0 {
        report.add(
            Category::Hidden,
            "speaker notes",
            format!("{} slides have notes", tally.notes),
            "ppt/notesSlides/",
        );
    }
}

/// The description of a drawing (`docPr`, `cNvPr`) when it is a file name or
/// a path, as Office and python-pptx write it when a picture is inserted:
/// `IMG_20261102_061000.jpg` names the phone and the moment.
/// `attributes` are (local name, value).
pub(super) fn picture_file_name<'a>(
    element: &str,
    mut attributes: impl Iterator<Item = (&'a str, &'a str)>,
) -> Option<&'a str> {
    if element != "docPr" && element != "cNvPr" {
        return None;
    }
    attributes
        .find(|(local, value)| matches!(*local, "descr" | "title") && looks_like_a_file(value))
        .map(|(_, value)| value)
}

fn looks_like_a_file(text: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "jpg", "jpeg", "png", "gif", "tif", "tiff", "heic", "heif", "bmp", "webp", "emf", "wmf",
        "svg", "jfif", "avif", "dng",
    ];
    let text = text.trim();
    let extension_of_a_file = text.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    });
    extension_of_a_file || text.contains('\\') || text.starts_with('/') || text.contains(":/")
}

/// The printer a printer-settings part names: Windows writes a DEVMODE
/// whose first 32 UTF-16 characters are the device name; anything else is
/// shown as its text up to the first zero byte.
fn printer_name(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .take(32)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    // UTF-16 of a name in any script has zero high bytes at least now and
    // then; ASCII read as UTF-16 never does.
    let wide = String::from_utf16_lossy(&units);
    if units.len() > 2 && units.iter().any(|u| *u < 0x100) && !wide.contains(char::is_control) {
        return field_text(wide.as_bytes());
    }
    let narrow: Vec<u8> = data
        .iter()
        .copied()
        .take_while(|b| *b != 0)
        .take(64)
        .collect();
    format!("{} ({} bytes)", field_text(&narrow), data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_described_by_its_file_name_is_found() {
        let find = |element: &str, attributes: &[(&'static str, &'static str)]| {
            picture_file_name(element, attributes.iter().copied())
        };
        let path = "C:\\Users\\Hasan\\IMG_2041.JPG";
        assert_eq!(
            find("docPr", &[("name", "Picture 1"), ("descr", path)]),
            Some(path)
        );
        let phone = "IMG_20261102_061000.heic";
        assert_eq!(find("cNvPr", &[("descr", phone)]), Some(phone));
        assert_eq!(find("cNvPr", &[("descr", "A convoy on a road")]), None);
        assert_eq!(find("cNvPr", &[("descr", "Picture")]), None);
        assert_eq!(find("cNvPr", &[("descr", ".jpg")]), None);
        assert_eq!(find("p", &[("descr", "x.jpg")]), None);
    }

    #[test]
    fn targets_resolve_and_hosts_are_named() {
        assert_eq!(
            resolve("word/document.xml", "media/image1.png"),
            "word/media/image1.png"
        );
        assert_eq!(
            resolve("word/document.xml", "../customXml/item1.xml"),
            "customXml/item1.xml"
        );
        assert_eq!(resolve("", "/word/document.xml"), "word/document.xml");
        assert_eq!(rels_of("word/document.xml"), "word/_rels/document.xml.rels");
        assert_eq!(
            host_of("https://canary.example.org/t/abc.dotx"),
            "canary.example.org"
        );
        assert_eq!(
            host_of("http://user@evil.example:8080/x"),
            "evil.example:8080"
        );
        assert!(host_of("\\\\fileserver\\templates\\normal.dotm").starts_with("fileserver"));
        assert!(remote_field(" INCLUDEPICTURE \"http://x/y.png\" \\d"));
        assert!(!remote_field(" PAGE "));
    }
}
