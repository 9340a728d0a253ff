//! PowerPoint (PPTX): what a presentation needs to show its slides, and the
//! rules its parts are rewritten by. Kept: the presentation, its slides,
//! layouts, masters, themes, table styles and presentation properties,
//! pictures, charts, diagrams, media inside the file (cleaned like any
//! file of their type) and hyperlinks. Left behind: speaker notes and
//! handouts, comments and their authors, tags, custom XML, macros, embedded
//! objects and fonts, the view settings, outside media. Inside the parts,
//! every extension list goes (slide and shape creation ids, section
//! names), and so do links that start a program or a macro.

use super::Tally;
use crate::xmlread::Node;
use crate::zipdoc::Part;
use crate::{field_text, Category, Report};

use super::clean::Profile;
use super::{MATH, MC, R, XML};
use crate::xmlfilter::{Action, Element};

const PML: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";

const SLIDE_RELATIONSHIPS: &[&str] = &[
    "slide",
    "slideMaster",
    "slideLayout",
    "theme",
    "presProps",
    "tableStyles",
    "image",
    "media",
    "video",
    "audio",
    "chart",
    "chartStyle",
    "chartColorStyle",
    "chartUserShapes",
    "themeOverride",
    "diagramData",
    "diagramLayout",
    "diagramQuickStyle",
    "diagramColors",
    "diagramDrawing",
    "hyperlink",
];

fn slide_namespace(namespace: &str) -> bool {
    const EXACT: &[&str] = &[
        PML,
        R,
        MC,
        MATH,
        XML,
        "http://schemas.microsoft.com/office/powerpoint/2010/main",
        "http://schemas.microsoft.com/office/powerpoint/2012/main",
    ];
    EXACT.contains(&namespace) || super::drawing_namespace(namespace)
}

fn element(element: &Element, _part: &str) -> Action {
    match element.local {
        "extLst" | "custDataLst" | "modifyVerifier" | "embeddedFontLst" | "notesMasterIdLst"
        | "handoutMasterIdLst" => Action::Drop,
        "hlinkClick" | "hlinkMouseOver" | "hlinkHover"
            if element.attributes.iter().any(|(_, local, value)| {
                local == "action" && (value.contains("program") || value.contains("macro"))
            }) =>
        {
            Action::Drop
        }
        _ => Action::Keep,
    }
}

fn attribute(_: &Element, _namespace: &str, _local: &str) -> bool {
    true
}

fn fetches(_: &[u8]) -> Option<String> {
    None
}

fn notes(text: &str) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if text.contains("creationId") || text.contains("modId") {
        notes.push("slide and shape creation ids");
    }
    if text.contains("custDataLst") {
        notes.push("custom XML data and tags");
    }
    if text.contains("ppaction://program") || text.contains("ppaction://macro") {
        notes.push("links that start a program or a macro");
    }
    notes
}

pub(super) const PROFILE: Profile = Profile {
    relationships: SLIDE_RELATIONSHIPS,
    namespace: slide_namespace,
    element,
    attribute,
    fetches,
    notes,
    macro_enabled: (
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
};

/// What a PresentationML (PPTX) part reveals, for `inspect`; false for a part that is
/// not one of this format's (the caller then looks at it as a shared part).
pub(super) fn inspect_part(
    part: &Part,
    report: &mut Report,
    tally: &mut Tally,
    on_xml: &mut super::OnXml,
) -> bool {
    let name = part.name.as_str();
    let place = name;
    match name {
        n if n.starts_with("ppt/tags/") => on_xml(&mut |node| {
            if let Node::Open {
                local: "tag",
                attributes,
            } = node
            {
                report.add(
                    Category::Hidden,
                    "tag",
                    format!(
                        "{}: {}",
                        field_text(
                            crate::xmlread::attribute(attributes, "name")
                                .unwrap_or_default()
                                .as_bytes()
                        ),
                        field_text(
                            crate::xmlread::attribute(attributes, "val")
                                .unwrap_or_default()
                                .as_bytes()
                        )
                    ),
                    place,
                );
            }
        }),
        n if n.starts_with("ppt/comments/") => tally.comments += 1,
        n if n.starts_with("ppt/notesSlides/") && n.ends_with(".xml") => tally.notes += 1,
        n if n.starts_with("ppt/slides/slide") && n.ends_with(".xml") => on_xml(&mut |node| {
            if let Node::Open {
                local: "sld",
                attributes,
            } = node
            {
                if crate::xmlread::attribute(attributes, "show") == Some("0") {
                    report.add(Category::History, "hidden slide", name.to_owned(), place);
                }
            }
        }),
        _ => return false,
    }
    true
}
