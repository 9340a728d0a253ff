//! OpenDocument (ODT, ODS, ODP): a ZIP with `mimetype` first, a manifest,
//! and XML parts (`content.xml`, `styles.xml`, `meta.xml`, `settings.xml`).
//! `inspect` reads the metadata (authors, dates, editing time and cycles,
//! the software, the printer), tracked changes and annotations with their
//! authors, author fields, hidden text, macros, pictures that load from
//! outside, links and embedded objects.
//!
//! `scrub` rebuilds the package from `mimetype`, `content.xml`,
//! `styles.xml` and the pictures, each cleaned (tracked changes accepted:
//! the record of deletions and the change marks go; annotations, author
//! fields, event listeners and pictures from outside go; elements in
//! namespaces OpenDocument does not use go), with a manifest written anew.
//! Everything else (metadata, settings, thumbnails, macros, configuration)
//! is never written. A document with embedded objects (charts, formulas)
//! or encrypted parts is NOT CLEANED.

use std::collections::HashSet;

use super::xmlfilter::{self, Action, Element, Rules};
use super::xmlread::{self, attribute, Node};
use super::zipdoc::{self, Part};
use super::{field_text, Category, Kind, NotCleaned, Report, Scrubbed};

const ODF_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:";
const XLINK: &str = "http://www.w3.org/1999/xlink";

/// Namespaces OpenDocument content is written in (OASIS's family, and the
/// W3C and LibreOffice vocabularies it uses).
fn odf_namespace(namespace: &str) -> bool {
    const EXACT: &[&str] = &[
        XLINK,
        "http://purl.org/dc/elements/1.1/",
        "http://www.w3.org/1998/Math/MathML",
        "http://www.w3.org/2001/xml-events",
        "http://www.w3.org/2002/xforms",
        "http://www.w3.org/2001/XMLSchema",
        "http://www.w3.org/2001/XMLSchema-instance",
        "http://www.w3.org/1999/xhtml",
        "http://www.w3.org/XML/1998/namespace",
        "http://www.w3.org/TR/css3-text/",
        "http://openoffice.org/2004/office",
        "http://openoffice.org/2004/writer",
        "http://openoffice.org/2004/calc",
        "http://openoffice.org/2009/office",
        "http://openoffice.org/2009/table",
        "http://openoffice.org/2010/draw",
        "http://www.w3.org/2003/g/data-view#",
    ];
    const FAMILIES: &[&str] = &[ODF_NS, "urn:org:documentfoundation:names:experimental:"];
    EXACT.contains(&namespace) || FAMILIES.iter().any(|f| namespace.starts_with(f))
}

struct OdfRules;

impl Rules for OdfRules {
    fn element(&self, element: &Element) -> Action {
        if !odf_namespace(element.namespace) {
            return Action::Drop;
        }
        // By local name in every namespace kept, as `inspect` reads them.
        match element.local {
            "tracked-changes" | "change-start" | "change-end" | "change" | "author-name"
            | "author-initials" | "creator" | "creation-date" | "creation-time"
            | "modification-date" | "modification-time" | "editing-cycles" | "editing-duration"
            | "printed-by" | "print-date" | "print-time" | "annotation" | "annotation-end"
            | "event-listeners" | "event-listener" | "scripts" | "script" | "hidden-text"
            | "hidden-paragraph" | "notes" => Action::Drop,
            "image" | "object" | "object-ole" | "plugin" | "applet" | "floating-frame" => {
                // Only pictures kept inside the package; anything fetched
                // from an outside address (or run) goes.
                let href = element
                    .attributes
                    .iter()
                    .find(|(ns, l, _)| ns == XLINK && l == "href")
                    .map(|(_, _, v)| v.as_str())
                    .unwrap_or_default();
                if element.local == "image" && is_inside(href) {
                    Action::Keep
                } else {
                    Action::Drop
                }
            }
            _ => Action::Keep,
        }
    }

    fn keep_attribute(&self, _: &Element, namespace: &str, _: &str) -> bool {
        namespace.is_empty() || odf_namespace(namespace)
    }
}

/// A reference to a part of the package ("Pictures/x.png", "./Pictures/…").
fn is_inside(href: &str) -> bool {
    let href = href.trim_start_matches("./");
    !href.is_empty() && !href.contains(':') && !href.starts_with('/') && !href.starts_with("..")
}

/// Visits elements (local name, attributes) and texts (the element they
/// are in, the text), through the shared reader.
fn walk(
    xml: &[u8],
    mut visit: impl FnMut(&str, &[(String, String)], Option<&str>),
) -> Result<(), String> {
    xmlread::walk(xml, |node| match node {
        Node::Open { local, attributes } => visit(local, attributes, None),
        Node::Text { inside, text, .. } => visit(inside, &[], Some(text)),
    })
}

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let parts = match zipdoc::read_parts(data) {
        Ok(parts) => parts,
        Err(e) => {
            report.unchecked(e.to_string());
            return;
        }
    };
    let mut objects = HashSet::new();
    for part in &parts {
        let name = part.name.as_str();
        let mut failed = None;
        match name {
            "meta.xml" => {
                let mut property = String::new();
                failed = walk(&part.data, |local, attributes, text| {
                    if local == "user-defined" && text.is_none() {
                        property = attribute(attributes, "name").unwrap_or_default().to_owned();
                    }
                    if local == "template" {
                        if let Some(href) = attribute(attributes, "href") {
                            report.add(
                                Category::History,
                                "template",
                                field_text(href.as_bytes()),
                                name,
                            );
                        }
                    }
                    let Some(text) = text else { return };
                    let (category, what) = match local {
                        "initial-creator" => (Category::People, "author"),
                        "creator" => (Category::People, "last edited by"),
                        "printed-by" => (Category::People, "printed by"),
                        "creation-date" => (Category::Times, "created"),
                        "date" => (Category::Times, "modified"),
                        "print-date" => (Category::Times, "last printed"),
                        "editing-cycles" => (Category::History, "times saved"),
                        "editing-duration" => (Category::History, "editing time"),
                        "generator" => (Category::Device, "software"),
                        "title" | "subject" | "description" | "keyword" => {
                            (Category::People, "text written into the properties")
                        }
                        "user-defined" => {
                            report.add(
                                Category::People,
                                "custom property",
                                format!("{property}: {}", field_text(text.as_bytes())),
                                name,
                            );
                            return;
                        }
                        _ => return,
                    };
                    report.add(category, what, field_text(text.as_bytes()), name);
                })
                .err();
            }
            "settings.xml" => {
                let mut item = String::new();
                failed = walk(&part.data, |local, attributes, text| {
                    if local == "config-item" && text.is_none() {
                        item = attribute(attributes, "name").unwrap_or_default().to_owned();
                    }
                    if let (Some(text), "PrinterName") = (text, item.as_str()) {
                        report.add(
                            Category::Device,
                            "printer",
                            field_text(text.as_bytes()),
                            name,
                        );
                    }
                })
                .err();
            }
            "content.xml" | "styles.xml" => {
                let mut in_change = 0usize;
                failed = xmlread::walk(&part.data, |node| match node {
                    Node::Open { local, attributes } => match local {
                        "changed-region" => in_change += 1,
                        "annotation" => report.add(
                            Category::Hidden,
                            "annotation (comment)",
                            "a comment in the margin",
                            name,
                        ),
                        "notes" => report.add(
                            Category::Hidden,
                            "speaker notes",
                            "notes beside a slide",
                            name,
                        ),
                        "hidden-text" | "hidden-paragraph" => report.add(
                            Category::Hidden,
                            "hidden text",
                            "text set not to show",
                            name,
                        ),
                        "event-listener" => report.add(
                            Category::Active,
                            "event handler (runs a macro or script)",
                            attribute(attributes, "event-name")
                                .unwrap_or_default()
                                .to_owned(),
                            name,
                        ),
                        "image" | "object" | "object-ole" | "floating-frame" | "plugin"
                        | "applet" => {
                            if let Some(href) = attribute(attributes, "href") {
                                if !is_inside(href) {
                                    report.add(
                                        Category::Active,
                                        "outside content, fetched when the document opens",
                                        super::ooxml::host_of(href),
                                        name,
                                    );
                                }
                            }
                        }
                        "a" => {
                            if let Some(href) =
                                attribute(attributes, "href").filter(|h| h.contains(':'))
                            {
                                report.add(
                                    Category::Active,
                                    "link (opens only when clicked)",
                                    super::ooxml::host_of(href),
                                    name,
                                );
                            }
                        }
                        _ => {}
                    },
                    Node::Text {
                        inside,
                        ancestors,
                        text,
                    } => {
                        // A `text:date` outside a change record or an
                        // annotation is a date field of the content.
                        let recorded = ancestors
                            .iter()
                            .any(|a| a == "change-info" || a == "annotation");
                        let (category, what) = match inside {
                            "creator" => {
                                (Category::People, "author of a tracked change or annotation")
                            }
                            "date" if recorded => {
                                (Category::Times, "date of a tracked change or annotation")
                            }
                            "author-name" | "author-initials" => {
                                (Category::People, "author field in the text")
                            }
                            _ => return,
                        };
                        report.add(category, what, field_text(text.as_bytes()), name);
                    }
                })
                .err();
                if in_change > 0 {
                    report.add(
                        Category::History,
                        "tracked changes",
                        format!("{in_change} recorded changes, with their authors"),
                        name,
                    );
                }
            }
            n if n.starts_with("Basic/") || n.starts_with("Scripts/") => report.add(
                Category::Active,
                "macros",
                format!("{n} ({} bytes)", part.data.len()),
                n,
            ),
            n if n.starts_with("Thumbnails/") => {
                report.add(
                    Category::Hidden,
                    "thumbnail",
                    "a picture of the first page, maybe of an earlier version",
                    n,
                );
                crate::nested_picture(&part.data, n, report);
            }
            n if n.starts_with("Pictures/") => crate::nested_picture(&part.data, n, report),
            n if n.starts_with("Object ") => {
                objects.insert(n.split('/').next().unwrap_or_default().to_owned());
            }
            _ => {}
        }
        if let Some(e) = failed {
            report.unchecked(format!("{name}: {e}"));
        }
    }
    for object in objects {
        report.add(Category::Hidden, "embedded object", object.clone(), &object);
    }
}

/// The manifest anew: the package, and each kept part with its media type.
fn manifest_xml(mimetype: &str, kept: &[(String, String)]) -> Vec<u8> {
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.2\" manifest:media-type=\"{}\"/>",
        escape(mimetype)
    );
    for (path, media_type) in kept {
        xml.push_str(&format!(
            "<manifest:file-entry manifest:full-path=\"{}\" manifest:media-type=\"{}\"/>",
            escape(path),
            escape(media_type)
        ));
    }
    xml.push_str("</manifest:manifest>");
    xml.into_bytes()
}

pub(crate) fn scrub(data: &[u8], kind: Kind) -> Result<Scrubbed, NotCleaned> {
    let parts = zipdoc::read_parts(data)?;
    let find = |name: &str| parts.iter().find(|p| p.name == name);
    let mimetype =
        find("mimetype").ok_or_else(|| NotCleaned::new("the document has no mimetype"))?;
    let mimetype = String::from_utf8_lossy(&mimetype.data).trim().to_owned();
    if let Some(manifest) = find("META-INF/manifest.xml") {
        if String::from_utf8_lossy(&manifest.data).contains("encryption-data") {
            return Err(NotCleaned::new("the document is encrypted"));
        }
    }
    if parts
        .iter()
        .any(|p| p.name.starts_with("Object ") || p.name.starts_with("ObjectReplacements/"))
    {
        return Err(NotCleaned::new(
            "the document has embedded objects (charts, formulas), which sealdrop-open does not clean yet",
        ));
    }
    let mut removed: Vec<String> = Vec::new();
    let mut note = |what: &str| {
        if !removed.iter().any(|r| r == what) {
            removed.push(what.to_owned());
        }
    };
    let mut package = vec![Part {
        name: "mimetype".into(),
        data: mimetype.clone().into_bytes(),
    }];
    let mut manifest = Vec::new();
    for part in &parts {
        let name = part.name.as_str();
        match name {
            "mimetype" | "META-INF/manifest.xml" => {}
            "content.xml" | "styles.xml" => {
                let text = String::from_utf8_lossy(&part.data);
                if text.contains("tracked-changes") {
                    note("tracked changes (insertions kept, deletions applied) and their authors");
                }
                if text.contains("annotation") {
                    note("annotations (comments) and their authors");
                }
                if text.contains("event-listener") {
                    note("event handlers that run macros");
                }
                if text.contains("author-name") || text.contains("author-initials") {
                    note("author fields");
                }
                if text.contains("hidden-text") || text.contains("hidden-paragraph") {
                    note("hidden text");
                }
                if text.contains(":notes") {
                    note("speaker notes");
                }
                let cleaned = xmlfilter::filter(&part.data, &OdfRules).map_err(|e| NotCleaned::new(format!("{name}: {e}")))?;
                manifest.push((name.to_owned(), "text/xml".to_owned()));
                package.push(Part { name: name.to_owned(), data: cleaned });
            }
            n if n.starts_with("Pictures/") => {
                let cleaned = match Kind::of(&part.data) {
                    Kind::Jpeg | Kind::Png | Kind::Gif | Kind::WebP => super::scrub(&part.data)
                        .map_err(|e| NotCleaned::new(format!("the picture {n}: {e}")))?,
                    other => {
                        return Err(NotCleaned::new(format!(
                            "{n} is {}, which sealdrop-open cannot check inside a document",
                            other.describe()
                        )))
                    }
                };
                if cleaned.removed.iter().any(|r| !r.starts_with("nothing")) {
                    note("metadata of pictures inside the document");
                }
                let media_type = match Kind::of(&cleaned.data) {
                    Kind::Jpeg => "image/jpeg",
                    Kind::Png => "image/png",
                    Kind::Gif => "image/gif",
                    _ => "image/webp",
                };
                manifest.push((name.to_owned(), media_type.to_owned()));
                package.push(Part { name: name.to_owned(), data: cleaned.data });
            }
            "meta.xml" => note("document properties (author, last editor, dates, editing time and cycles, software)"),
            "settings.xml" => note("settings (printer name, view)"),
            n if n.starts_with("Thumbnails/") => note("thumbnail"),
            n if n.starts_with("Basic/") || n.starts_with("Scripts/") => note("macros"),
            n if n.starts_with("Configurations2/") => note("user-interface configuration"),
            "manifest.rdf" => note("RDF metadata"),
            n => note(&format!("{n} (not needed to show the content)")),
        }
    }
    if !package.iter().any(|p| p.name == "content.xml") {
        return Err(NotCleaned::new(format!(
            "the {} has no content.xml",
            kind.describe()
        )));
    }
    package.push(Part {
        name: "META-INF/manifest.xml".into(),
        data: manifest_xml(&mimetype, &manifest),
    });
    Ok(Scrubbed {
        data: zipdoc::write_parts(&package, &["mimetype"])?,
        removed,
    })
}
