//! Cleaning an Office Open XML package, the same way for the three formats:
//! the package is rebuilt from its main part outward, following only the
//! relationships the format's [`Profile`] says its content needs, and each
//! part reached is rewritten by that profile's rules (an element in a
//! namespace the format does not use goes, and so does an element that
//! refers to a relationship left behind; a picture's description that is
//! its file name on the author's disk goes too). What is not reached that way
//! (document properties, thumbnails, comments, people, custom XML, macros,
//! embedded files, printer settings) is never written. Pictures and media
//! inside are cleaned like any file of their type.

use std::collections::{HashSet, VecDeque};

use super::{host_of, part, relationships, rels_of, resolve, Relationship, CONTENT_TYPES, R};
use crate::xmlfilter::{self, Action, Element, Rules};
use crate::xmlread::{attribute, walk, Node};
use crate::zipdoc::{self, Part};
use crate::{Kind, NotCleaned, Scrubbed};

/// What one format keeps, and how its parts are rewritten.
pub(super) struct Profile {
    /// Relationship types (the last segment of the type URI) whose targets
    /// the content needs. Outside targets are kept only for hyperlinks,
    /// which open when clicked, never on their own.
    pub relationships: &'static [&'static str],
    /// Namespaces the format's content is written in.
    pub namespace: fn(&str) -> bool,
    /// What becomes of an element in one of those namespaces, in a part.
    pub element: fn(&Element, &str) -> Action,
    /// Whether an attribute of a kept element, in one of those namespaces
    /// (or none), stays.
    pub attribute: fn(&Element, &str, &str) -> bool,
    /// Why a part cannot be cleaned because opening the file would fetch
    /// something from outside (a Word field, a spreadsheet function).
    pub fetches: fn(&[u8]) -> Option<String>,
    /// What cleaning a part's text takes away, in words for the editor.
    pub notes: fn(&str) -> Vec<&'static str>,
    /// The main part's macro-enabled content type, and the plain one it
    /// becomes (its macros are gone).
    pub macro_enabled: (&'static str, &'static str),
}

/// A profile's rules for one part, with the relationships that part lost.
pub(super) struct PackageRules<'a> {
    pub profile: &'a Profile,
    /// Relationship ids this part no longer has: what refers to them goes.
    pub dropped: &'a HashSet<String>,
    pub part: &'a str,
}

impl Rules for PackageRules<'_> {
    fn element(&self, element: &Element) -> Action {
        if !(self.profile.namespace)(element.namespace) {
            return Action::Drop;
        }
        if element
            .attributes
            .iter()
            .any(|(ns, _, value)| ns == R && self.dropped.contains(value))
        {
            return Action::Drop;
        }
        (self.profile.element)(element, self.part)
    }

    fn keep_attribute(&self, element: &Element, namespace: &str, local: &str) -> bool {
        // Only the attribute that holds the file name: a title beside a
        // file-name description is the author's words.
        let pairs = element
            .attributes
            .iter()
            .filter(|(_, l, _)| l == local)
            .map(|(_, l, v)| (l.as_str(), v.as_str()));
        let original_file_name = super::picture_file_name(element.local, pairs).is_some();
        (namespace.is_empty() || (self.profile.namespace)(namespace))
            && !original_file_name
            && (self.profile.attribute)(element, namespace, local)
    }
}

/// What leaving a relationship behind removes, in words.
fn left_behind(rel: &Relationship) -> String {
    match (rel.kind.as_str(), rel.external) {
        ("attachedTemplate", true) => format!("remote template ({})", host_of(&rel.target)),
        ("attachedTemplate", false) => "template link".into(),
        (_, true) => format!("outside {} ({})", rel.kind, host_of(&rel.target)),
        (
            "comments" | "commentsExtended" | "commentsIds" | "commentsExtensible" | "people"
            | "commentAuthors" | "authors" | "threadedComment" | "person" | "vmlDrawing",
            _,
        ) => "comments and their authors".into(),
        ("notesSlide" | "notesMaster" | "handoutMaster", _) => "speaker notes and handouts".into(),
        ("vbaProject" | "wordVbaData" | "keyMapCustomizations" | "macrosheet", _) => {
            "macros".into()
        }
        ("customXml" | "customXmlProps" | "tags", _) => "custom XML data and tags".into(),
        ("printerSettings", _) => "printer settings (they name the printer)".into(),
        ("externalLink", _) => "links to other workbooks".into(),
        ("connections" | "queryTable", _) => "data connections".into(),
        ("pivotCacheDefinition" | "pivotTable" | "pivotCacheRecords", _) => {
            "pivot tables and their caches (who refreshed them)".into()
        }
        ("oleObject" | "package" | "control" | "font" | "glossaryDocument", _) => {
            format!("embedded {}", rel.kind)
        }
        (other, _) => format!("{other} part"),
    }
}

/// Escapes text for an XML attribute value.
fn xml_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('>', "&gt;")
}

/// A relationship part holding only `kept`, written anew.
fn rels_xml(kept: &[Relationship]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for rel in kept {
        xml.push_str(&format!(
            "<Relationship Id=\"{}\" Type=\"{}\" Target=\"{}\"{}/>",
            xml_attribute(&rel.id),
            xml_attribute(&rel.type_uri),
            xml_attribute(&rel.target),
            if rel.external {
                " TargetMode=\"External\""
            } else {
                ""
            }
        ));
    }
    xml.push_str("</Relationships>");
    xml.into_bytes()
}

/// `[Content_Types].xml` anew: its defaults, and the overrides of kept parts
/// (a macro-enabled main part becomes a plain one: its macros are gone).
fn content_types_xml(
    original: &[u8],
    kept: &HashSet<String>,
    profile: &Profile,
) -> Result<Vec<u8>, NotCleaned> {
    let mut defaults = Vec::new();
    let mut overrides = Vec::new();
    walk(original, |node| {
        if let Node::Open { local, attributes } = node {
            let content_type = attribute(attributes, "ContentType").unwrap_or_default();
            let content_type =
                content_type.replace(profile.macro_enabled.0, profile.macro_enabled.1);
            match local {
                "Default" => defaults.push((
                    attribute(attributes, "Extension")
                        .unwrap_or_default()
                        .to_owned(),
                    content_type,
                )),
                "Override" => {
                    let name = attribute(attributes, "PartName").unwrap_or_default();
                    if kept.contains(&name.trim_start_matches('/').to_ascii_lowercase()) {
                        overrides.push((name.to_owned(), content_type));
                    }
                }
                _ => {}
            }
        }
    })
    .map_err(|e| NotCleaned::new(format!("[Content_Types].xml: {e}")))?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
    );
    for (extension, content_type) in defaults {
        xml.push_str(&format!(
            "<Default Extension=\"{}\" ContentType=\"{}\"/>",
            xml_attribute(&extension),
            xml_attribute(&content_type)
        ));
    }
    for (name, content_type) in overrides {
        xml.push_str(&format!(
            "<Override PartName=\"{}\" ContentType=\"{}\"/>",
            xml_attribute(&name),
            xml_attribute(&content_type)
        ));
    }
    xml.push_str("</Types>");
    Ok(xml.into_bytes())
}

pub(crate) fn scrub(data: &[u8], kind: Kind) -> Result<Scrubbed, NotCleaned> {
    let profile = match kind {
        Kind::Docx => &super::word::PROFILE,
        Kind::Xlsx => &super::sheet::PROFILE,
        Kind::Pptx => &super::slide::PROFILE,
        other => {
            return Err(NotCleaned::new(format!(
                "{}: not an Office Open XML document",
                other.describe()
            )))
        }
    };
    let parts = zipdoc::read_parts(data)?;
    let missing = |name: &str| NotCleaned::new(format!("the document has no {name}"));
    let root_rels = relationships(
        &part(&parts, "_rels/.rels")
            .ok_or_else(|| missing("_rels/.rels"))?
            .data,
    )
    .map_err(|e| NotCleaned::new(format!("_rels/.rels: {e}")))?;
    let main = root_rels
        .iter()
        .find(|r| r.kind == "officeDocument" && !r.external)
        .ok_or_else(|| missing("main document relationship"))?
        .clone();
    let main_name = resolve("", &main.target);
    let mut removed: Vec<String> = Vec::new();
    let mut note = |what: String| {
        if !removed.contains(&what) {
            removed.push(what);
        }
    };
    if parts.iter().any(|p| p.name.starts_with("docProps/")) {
        note(
            "document properties (author, company, times, editing time, template, thumbnail)"
                .into(),
        );
    }
    let mut written: Vec<Part> = Vec::new();
    let mut kept_names: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = VecDeque::from([main_name.clone()]);
    let mut seen: HashSet<String> = HashSet::from([main_name.to_ascii_lowercase()]);
    while let Some(name) = queue.pop_front() {
        let source = part(&parts, &name).ok_or_else(|| {
            NotCleaned::new(format!("the document refers to a missing part, {name}"))
        })?;
        let mut dropped: HashSet<String> = HashSet::new();
        if let Some(rels_part) = part(&parts, &rels_of(&name)) {
            let rels = relationships(&rels_part.data)
                .map_err(|e| NotCleaned::new(format!("{}: {e}", rels_part.name)))?;
            let mut kept = Vec::new();
            for rel in rels {
                let needed = profile.relationships.contains(&rel.kind.as_str())
                    && (rel.external == (rel.kind == "hyperlink"));
                if !needed {
                    note(left_behind(&rel));
                    dropped.insert(rel.id.clone());
                    continue;
                }
                if !rel.external {
                    let target = resolve(&name, &rel.target);
                    if part(&parts, &target).is_none() {
                        dropped.insert(rel.id.clone());
                        continue;
                    }
                    if seen.insert(target.to_ascii_lowercase()) {
                        queue.push_back(target);
                    }
                }
                kept.push(rel);
            }
            if !kept.is_empty() {
                let rels_name = rels_of(&name);
                kept_names.insert(rels_name.to_ascii_lowercase());
                written.push(Part {
                    name: rels_name,
                    data: rels_xml(&kept),
                });
            }
        }
        let cleaned = if name.to_ascii_lowercase().ends_with(".xml") {
            if let Some(reason) = (profile.fetches)(&source.data) {
                return Err(NotCleaned::new(format!("{name} {reason}")));
            }
            for what in (profile.notes)(&String::from_utf8_lossy(&source.data)) {
                note(what.into());
            }
            let rules = PackageRules {
                profile,
                dropped: &dropped,
                part: &name,
            };
            xmlfilter::filter(&source.data, &rules)
                .map_err(|e| NotCleaned::new(format!("{name}: {e}")))?
        } else {
            match Kind::of(&source.data) {
                Kind::Jpeg
                | Kind::Png
                | Kind::Gif
                | Kind::WebP
                | Kind::Tiff
                | Kind::Mp3
                | Kind::Mp4
                | Kind::Mov
                | Kind::M4a => {
                    let inner = crate::scrub(&source.data)
                        .map_err(|e| NotCleaned::new(format!("{name}: {e}")))?;
                    if inner.removed.iter().any(|r| !r.starts_with("nothing")) {
                        note("metadata of pictures and media inside the document".into());
                    }
                    inner.data
                }
                other => {
                    return Err(NotCleaned::new(format!(
                        "{name} is {}, which sealdrop-open cannot check inside a document",
                        other.describe()
                    )))
                }
            }
        };
        kept_names.insert(name.to_ascii_lowercase());
        written.push(Part {
            name,
            data: cleaned,
        });
    }
    for part in &parts {
        if !kept_names.contains(&part.name.to_ascii_lowercase())
            && !part.name.ends_with(".rels")
            && part.name != CONTENT_TYPES
        {
            if part.name.ends_with("vbaProject.bin") {
                note("macros".into());
            } else if part.name.contains("/embeddings/") {
                note("embedded files".into());
            }
        }
    }
    let content_types = part(&parts, CONTENT_TYPES).ok_or_else(|| missing(CONTENT_TYPES))?;
    let mut package = vec![Part {
        name: CONTENT_TYPES.to_owned(),
        data: content_types_xml(&content_types.data, &kept_names, profile)?,
    }];
    let root = Relationship {
        id: main.id.clone(),
        kind: main.kind.clone(),
        type_uri: main.type_uri.clone(),
        target: main_name.clone(),
        external: false,
    };
    package.push(Part {
        name: "_rels/.rels".into(),
        data: rels_xml(&[root]),
    });
    package.extend(written);
    Ok(Scrubbed {
        data: zipdoc::write_parts(&package, &[])?,
        removed,
    })
}
