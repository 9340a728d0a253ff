//! Office Open XML (DOCX, XLSX, PPTX): a ZIP of XML parts tied together by
//! relationship files. `inspect` reads every part for what it reveals
//! (document properties, comments and their authors, tracked changes,
//! revision-save ids, hidden text, sheets and slides, macros, embedded
//! files, and relationships to outside addresses such as a remote template,
//! which Word fetches on opening).
//!
//! `scrub` cleans DOCX: it rebuilds the package from the main document
//! outward, following only relationships a document needs to show its
//! content (styles, numbering, fonts, theme, headers, footers, footnotes,
//! images, hyperlinks) and rewriting each part (tracked insertions
//! accepted, deletions applied, comments, revision ids, document variables
//! and template links removed); everything not reached that way (document
//! properties, thumbnails, comments, people, custom XML, macros, embedded
//! files) is simply never written. Images inside are cleaned like any
//! picture. XLSX and PPTX are inspected but not yet cleaned.

use std::collections::{HashSet, VecDeque};

use super::xmlfilter::{self, Action, Element, Rules};
use super::xmlread::{attribute, walk, Node};
use super::zipdoc::{self, Part};
use super::{field_text, Category, Kind, NotCleaned, Report, Scrubbed};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const W14: &str = "http://schemas.microsoft.com/office/word/2010/wordml";
const MATH: &str = "http://schemas.openxmlformats.org/officeDocument/2006/math";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const CONTENT_TYPES: &str = "[Content_Types].xml";

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

pub fn inspect(data: &[u8], kind: Kind, report: &mut Report) {
    let parts = match zipdoc::read_parts(data) {
        Ok(parts) => parts,
        Err(e) => {
            report.unchecked(e.to_string());
            return;
        }
    };
    let mut changes = 0usize;
    let mut comments = 0usize;
    let mut rsids = 0usize;
    let mut notes = 0usize;
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
                nested_picture(&part.data, name, report);
            }
            "word/comments.xml" | "word/commentsExtended.xml" => on_xml(&mut |node| {
                if let Node::Open {
                    local: "comment",
                    attributes,
                } = node
                {
                    comments += 1;
                    if let Some(author) = attribute(attributes, "author") {
                        report.add(
                            Category::People,
                            "comment by",
                            field_text(author.as_bytes()),
                            place,
                        );
                    }
                    if let Some(date) = attribute(attributes, "date") {
                        report.add(
                            Category::Times,
                            "comment written",
                            field_text(date.as_bytes()),
                            place,
                        );
                    }
                }
            }),
            "word/people.xml" => on_xml(&mut |node| {
                if let Node::Open {
                    local: "person",
                    attributes,
                } = node
                {
                    if let Some(author) = attribute(attributes, "author") {
                        report.add(
                            Category::People,
                            "person who commented or edited",
                            field_text(author.as_bytes()),
                            place,
                        );
                    }
                }
            }),
            "word/settings.xml" => on_xml(&mut |node| match node {
                Node::Open { local: "rsid", .. } => rsids += 1,
                Node::Open {
                    local: "docVar",
                    attributes,
                } => report.add(
                    Category::Hidden,
                    "document variable",
                    format!(
                        "{}: {}",
                        attribute(attributes, "name").unwrap_or_default(),
                        field_text(attribute(attributes, "val").unwrap_or_default().as_bytes())
                    ),
                    place,
                ),
                Node::Open {
                    local: "trackRevisions",
                    ..
                } => report.add(
                    Category::History,
                    "tracking changes",
                    "edits are recorded as tracked changes",
                    place,
                ),
                _ => {}
            }),
            n if n.starts_with("word/") && n.ends_with(".xml") => on_xml(&mut |node| match node {
                Node::Open {
                    local: "ins" | "del" | "moveFrom" | "moveTo",
                    attributes,
                } => {
                    if let Some(author) = attribute(attributes, "author") {
                        changes += 1;
                        report.add(
                            Category::People,
                            "tracked change by",
                            field_text(author.as_bytes()),
                            place,
                        );
                        if let Some(date) = attribute(attributes, "date") {
                            report.add(
                                Category::Times,
                                "tracked change made",
                                field_text(date.as_bytes()),
                                place,
                            );
                        }
                    }
                }
                Node::Open {
                    local: "vanish", ..
                } => report.add(
                    Category::Hidden,
                    "hidden text",
                    "text formatted not to show",
                    place,
                ),
                Node::Open {
                    local: "fldSimple",
                    attributes,
                } => {
                    if let Some(instruction) =
                        attribute(attributes, "instr").filter(|i| remote_field(i))
                    {
                        report.add(
                            Category::Active,
                            "field that fetches outside content",
                            field_text(instruction.as_bytes()),
                            place,
                        );
                    }
                }
                Node::Text {
                    inside: "instrText",
                    text,
                    ..
                } if remote_field(text) => report.add(
                    Category::Active,
                    "field that fetches outside content",
                    field_text(text.as_bytes()),
                    place,
                ),
                _ => {}
            }),
            "xl/workbook.xml" => on_xml(&mut |node| {
                if let Node::Open {
                    local: "sheet",
                    attributes,
                } = node
                {
                    if let Some(state) = attribute(attributes, "state").filter(|s| *s != "visible")
                    {
                        report.add(
                            Category::History,
                            "hidden sheet",
                            format!(
                                "{} ({state})",
                                field_text(
                                    attribute(attributes, "name").unwrap_or_default().as_bytes()
                                )
                            ),
                            place,
                        );
                    }
                }
            }),
            n if n.starts_with("xl/comments") => on_xml(&mut |node| {
                if let Node::Text {
                    inside: "author",
                    text,
                    ..
                } = node
                {
                    report.add(
                        Category::People,
                        "comment by",
                        field_text(text.as_bytes()),
                        place,
                    );
                }
            }),
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
            n if n.starts_with("xl/externalLinks/") && n.ends_with(".xml") => report.add(
                Category::Active,
                "link to another workbook",
                "updated from elsewhere when the workbook opens",
                place,
            ),
            n if n.starts_with("ppt/comments/") => comments += 1,
            n if n.starts_with("ppt/notesSlides/") && n.ends_with(".xml") => notes += 1,
            n if n.starts_with("ppt/slides/slide") && n.ends_with(".xml") => on_xml(&mut |node| {
                if let Node::Open {
                    local: "sld",
                    attributes,
                } = node
                {
                    if attribute(attributes, "show") == Some("0") {
                        report.add(Category::History, "hidden slide", name.to_owned(), place);
                    }
                }
            }),
            n if n.contains("/media/") => nested_picture(&part.data, name, report),
            _ => {}
        }
        if let Some(e) = failed {
            report.unchecked(format!("{name}: {e}"));
        }
    }
    if changes > 0 {
        report.add(
            Category::History,
            "tracked changes",
            format!("{changes} insertions, deletions or moves, with their authors"),
            "word/",
        );
    }
    if comments > 0 {
        report.add(
            Category::Hidden,
            "comments",
            format!("{comments}"),
            "comments parts",
        );
    }
    if rsids > 0 {
        report.add(
            Category::History,
            "revision-save ids",
            format!("{rsids}: they tie the document to the editing sessions that made it"),
            "word/settings.xml",
        );
    }
    if notes > 0 {
        report.add(
            Category::Hidden,
            "speaker notes",
            format!("{notes} slides have notes"),
            "ppt/notesSlides/",
        );
    }
    if kind != Kind::Docx {
        report.unchecked(format!(
            "{}: inspected, but `scrub` does not clean this type yet",
            kind.describe()
        ));
    }
}

/// A picture inside a document, inspected with its place named. Only
/// pictures: a document inside a document is reported, never followed (a
/// ZIP can contain itself).
pub(super) fn nested_picture(data: &[u8], name: &str, report: &mut Report) {
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
    let mut inner = super::inspect(data, name);
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

/// Relationship types a Word document needs to show its content.
const WORD_RELATIONSHIPS: &[&str] = &[
    "styles",
    "stylesWithEffects",
    "settings",
    "webSettings",
    "fontTable",
    "theme",
    "numbering",
    "image",
    "header",
    "footer",
    "footnotes",
    "endnotes",
    "hyperlink",
];

/// Rules for the parts of a Word document's content.
struct WordRules<'a> {
    /// Relationship ids this part no longer has: what refers to them goes.
    dropped: &'a HashSet<String>,
    settings: bool,
}

/// The settings a document needs to look as it did; everything else in
/// `word/settings.xml` goes (revision ids, variables, template, mail merge
/// sources, document ids, change tracking).
const KEPT_SETTINGS: &[&str] = &[
    "zoom",
    "view",
    "removePersonalInformation",
    "removeDateAndTime",
    "displayBackgroundShape",
    "mirrorMargins",
    "gutterAtTop",
    "defaultTabStop",
    "autoHyphenation",
    "consecutiveHyphenLimit",
    "hyphenationZone",
    "doNotHyphenateCaps",
    "evenAndOddHeaders",
    "bookFoldPrinting",
    "characterSpacingControl",
    "footnotePr",
    "endnotePr",
    "compat",
    "themeFontLang",
    "clrSchemeMapping",
    "decimalSymbol",
    "listSeparator",
    "defaultTableStyle",
];

/// Namespaces a Word document's content is written in. An element in any
/// other is dropped: Word would not show it, and a hostile document could
/// bind a familiar prefix to an unfamiliar namespace to carry, say, a
/// tracked change's author past the rules below.
fn word_namespace(namespace: &str) -> bool {
    const EXACT: &[&str] = &[
        W,
        R,
        MATH,
        "http://schemas.openxmlformats.org/markup-compatibility/2006",
        "urn:schemas-microsoft-com:vml",
        "urn:schemas-microsoft-com:office:office",
        "urn:schemas-microsoft-com:office:word",
        "http://www.w3.org/XML/1998/namespace",
    ];
    // Word's own extensions, by year.
    const WORD_EXTENSIONS: &[&str] = &[
        W14,
        "http://schemas.microsoft.com/office/word/2012/wordml",
        "http://schemas.microsoft.com/office/word/2015/wordml/symex",
        "http://schemas.microsoft.com/office/word/2016/wordml/cid",
        "http://schemas.microsoft.com/office/word/2018/wordml",
        "http://schemas.microsoft.com/office/word/2018/wordml/cex",
        "http://schemas.microsoft.com/office/word/2020/wordml/sdtdatahash",
        "http://schemas.microsoft.com/office/word/2023/wordml/word16du",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingDrawing",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingInk",
        "http://schemas.microsoft.com/office/word/2006/wordml",
    ];
    // DrawingML's parts (pictures, charts, diagrams) and Office's drawing
    // extensions: shapes, not text or people.
    const DRAWING_FAMILIES: &[&str] = &[
        "http://schemas.openxmlformats.org/drawingml/2006/",
        "http://schemas.microsoft.com/office/drawing/20",
    ];
    EXACT.contains(&namespace)
        || WORD_EXTENSIONS.contains(&namespace)
        || DRAWING_FAMILIES
            .iter()
            .any(|family| namespace.starts_with(family))
}

impl Rules for WordRules<'_> {
    fn element(&self, element: &Element) -> Action {
        if !word_namespace(element.namespace) {
            return Action::Drop;
        }
        if element
            .attributes
            .iter()
            .any(|(ns, _, value)| ns == R && self.dropped.contains(value))
        {
            return Action::Drop;
        }
        if self.settings && element.depth == 1 {
            let kept = (element.namespace == W && KEPT_SETTINGS.contains(&element.local))
                || (element.namespace == MATH && element.local == "mathPr");
            return if kept { Action::Keep } else { Action::Drop };
        }
        // By local name in every namespace this keeps, as `inspect` reads
        // them: only Word's own namespace defines these names, and a file
        // that puts them elsewhere is read the way it would be misread.
        match element.local {
            "del"
            | "moveFrom"
            | "rPrChange"
            | "pPrChange"
            | "sectPrChange"
            | "tblPrChange"
            | "tblPrExChange"
            | "tblGridChange"
            | "trPrChange"
            | "tcPrChange"
            | "numberingChange"
            | "commentRangeStart"
            | "commentRangeEnd"
            | "commentReference"
            | "annotationRef"
            | "permStart"
            | "permEnd"
            | "moveFromRangeStart"
            | "moveFromRangeEnd"
            | "moveToRangeStart"
            | "moveToRangeEnd"
            | "customXmlInsRangeStart"
            | "customXmlInsRangeEnd"
            | "customXmlDelRangeStart"
            | "customXmlDelRangeEnd"
            | "customXmlMoveFromRangeStart"
            | "customXmlMoveFromRangeEnd"
            | "customXmlMoveToRangeStart"
            | "customXmlMoveToRangeEnd"
            | "dataBinding"
            | "customXmlPr"
            | "smartTagPr"
            | "attachedTemplate"
            | "docVars"
            | "rsids" => Action::Drop,
            "ins" | "moveTo" | "customXml" | "smartTag" => Action::Unwrap,
            _ => Action::Keep,
        }
    }

    fn keep_attribute(&self, _: &Element, namespace: &str, local: &str) -> bool {
        (namespace.is_empty() || word_namespace(namespace))
            && !local.starts_with("rsid")
            && !matches!(
                local,
                "paraId" | "textId" | "durableId" | "author" | "initials"
            )
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
fn content_types_xml(original: &[u8], kept: &HashSet<String>) -> Result<Vec<u8>, NotCleaned> {
    let mut defaults = Vec::new();
    let mut overrides = Vec::new();
    walk(original, |node| {
        if let Node::Open { local, attributes } = node {
            let content_type = attribute(attributes, "ContentType").unwrap_or_default();
            let content_type = content_type.replace(
                "application/vnd.ms-word.document.macroEnabled.main+xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            );
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

pub fn scrub(data: &[u8], kind: Kind) -> Result<Scrubbed, NotCleaned> {
    if kind != Kind::Docx {
        return Err(NotCleaned::new(format!(
            "{}: sealdrop-open cannot clean this type yet (`inspect` shows what it holds)",
            kind.describe()
        )));
    }
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
    for part in &parts {
        let name = part.name.as_str();
        if name.starts_with("docProps/") {
            note(
                "document properties (author, company, times, editing time, template, thumbnail)"
                    .into(),
            );
        }
    }
    let mut written: Vec<Part> = Vec::new();
    let mut kept_names: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = VecDeque::from([main_name.clone()]);
    let mut seen: HashSet<String> = HashSet::from([main_name.to_ascii_lowercase()]);
    while let Some(name) = queue.pop_front() {
        let source = part(&parts, &name).ok_or_else(|| {
            NotCleaned::new(format!("the document refers to a missing part, {name}"))
        })?;
        // Its relationships: only those a document needs, external ones only
        // for hyperlinks (which open when clicked, never on their own).
        let mut dropped: HashSet<String> = HashSet::new();
        if let Some(rels_part) = part(&parts, &rels_of(&name)) {
            let rels = relationships(&rels_part.data)
                .map_err(|e| NotCleaned::new(format!("{}: {e}", rels_part.name)))?;
            let mut kept = Vec::new();
            for rel in rels {
                let needed = WORD_RELATIONSHIPS.contains(&rel.kind.as_str())
                    && (rel.external == (rel.kind == "hyperlink"));
                if !needed {
                    note(match (rel.kind.as_str(), rel.external) {
                        ("attachedTemplate", true) => {
                            format!("remote template ({})", host_of(&rel.target))
                        }
                        ("attachedTemplate", false) => "template link".into(),
                        (_, true) => format!("outside {} ({})", rel.kind, host_of(&rel.target)),
                        (
                            "comments" | "commentsExtended" | "commentsIds" | "commentsExtensible"
                            | "people",
                            _,
                        ) => "comments and their authors".into(),
                        ("vbaProject" | "wordVbaData" | "keyMapCustomizations", _) => {
                            "macros".into()
                        }
                        ("customXml", _) => "custom XML data".into(),
                        ("oleObject" | "package" | "control" | "font" | "glossaryDocument", _) => {
                            format!("embedded {}", rel.kind)
                        }
                        (other, _) => format!("{other} part"),
                    });
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
            let text = String::from_utf8_lossy(&source.data);
            if text.contains("instrText") || text.contains("fldSimple") {
                let mut remote = None;
                let _ = walk(&source.data, |node| match node {
                    Node::Text {
                        inside: "instrText",
                        text,
                        ..
                    } if remote_field(text) => remote = Some(text.to_owned()),
                    Node::Open {
                        local: "fldSimple",
                        attributes,
                    } => {
                        if let Some(i) = attribute(attributes, "instr").filter(|i| remote_field(i))
                        {
                            remote = Some(i.to_owned());
                        }
                    }
                    _ => {}
                });
                if let Some(field) = remote {
                    return Err(NotCleaned::new(format!(
                        "{name} has a field that fetches outside content ({})",
                        field_text(field.as_bytes())
                    )));
                }
            }
            let rules = WordRules {
                dropped: &dropped,
                settings: name.eq_ignore_ascii_case("word/settings.xml"),
            };
            if text.contains("w:ins ") || text.contains("w:del ") {
                note(
                    "tracked changes (insertions accepted, deletions applied) and their authors"
                        .into(),
                );
            }
            if text.contains("rsid") {
                note("revision-save ids".into());
            }
            xmlfilter::filter(&source.data, &rules)
                .map_err(|e| NotCleaned::new(format!("{name}: {e}")))?
        } else {
            match Kind::of(&source.data) {
                Kind::Jpeg | Kind::Png | Kind::Gif | Kind::WebP => {
                    let inner = super::scrub(&source.data)
                        .map_err(|e| NotCleaned::new(format!("the picture {name}: {e}")))?;
                    if inner.removed.iter().any(|r| !r.starts_with("nothing")) {
                        note("metadata of pictures inside the document".into());
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
        data: content_types_xml(&content_types.data, &kept_names)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_namespaces_under_familiar_prefixes_are_dropped() {
        // Found by the scrub_docx fuzz target: "w" bound to another
        // namespace carried a tracked change's author through.
        let dropped = HashSet::new();
        let rules = WordRules {
            dropped: &dropped,
            settings: false,
        };
        let xml = format!(
            r#"<w:document xmlns:w="{W}"><w:body><x:ins xmlns:x="urn:evil" x:author="Hasan"><w:p><w:r><w:t>t</w:t></w:r></w:p></x:ins><w:p w:rsidR="1" xmlns:y="urn:evil" y:tag="Hasan"/></w:body></w:document>"#
        );
        let out = String::from_utf8(xmlfilter::filter(xml.as_bytes(), &rules).unwrap()).unwrap();
        assert!(!out.contains("Hasan") && !out.contains("rsid"), "{out}");
        let foreign = r#"<w:document xmlns:w="urn:not-word"><w:body/></w:document>"#;
        assert!(xmlfilter::filter(foreign.as_bytes(), &rules).is_err());
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
