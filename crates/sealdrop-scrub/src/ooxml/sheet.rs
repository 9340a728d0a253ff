//! Excel (XLSX): what a workbook needs to show its sheets, and the rules its
//! parts are rewritten by. Kept: the workbook, its sheets and chart sheets,
//! shared strings, styles, theme, tables, drawings with their pictures and
//! charts, hyperlinks. Left behind: comments and threaded comments with
//! their people, printer settings (the printer's name), the calculation
//! chain, links to other workbooks, data connections and queries, pivot
//! caches (which record who refreshed them), custom XML, macros and macro
//! sheets, embedded objects and form controls. Inside the workbook, the
//! folder it was saved in (`x15ac:absPath`), who reserved it
//! (`fileSharing`), personal views and revision ids go.

use crate::zipdoc::Part;
use crate::{Category, Report};

use super::clean::Profile;
use super::{MC, R, XML};
use crate::field_text;
use crate::xmlfilter::{Action, Element};
use crate::xmlread::{walk, Node};

const SML: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

const SHEET_RELATIONSHIPS: &[&str] = &[
    "worksheet",
    "chartsheet",
    "sharedStrings",
    "styles",
    "theme",
    "table",
    "sheetMetadata",
    "drawing",
    "image",
    "chart",
    "chartStyle",
    "chartColorStyle",
    "chartUserShapes",
    "themeOverride",
    "hyperlink",
];

/// Namespaces a workbook's content is written in. Not among them: Excel's
/// revision namespaces (`xr:uid` and its kin, ids that follow a workbook
/// through its edits) and `x15ac`, which holds the folder it was saved in.
fn sheet_namespace(namespace: &str) -> bool {
    const EXACT: &[&str] = &[
        SML,
        R,
        MC,
        XML,
        "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
        "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac",
        "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
        "http://schemas.microsoft.com/office/excel/2006/main",
    ];
    EXACT.contains(&namespace) || super::drawing_namespace(namespace)
}

fn element(element: &Element, part: &str) -> Action {
    match element.local {
        "fileSharing"
        | "fileVersion"
        | "fileRecoveryPr"
        | "workbookProtection"
        | "customWorkbookViews"
        | "customSheetViews"
        | "externalReferences"
        | "pivotCaches"
        | "smartTagPr"
        | "smartTagTypes"
        | "smartTags"
        | "webPublishing"
        | "webPublishObjects"
        | "webPublishItems"
        | "oleSize"
        | "oleObjects"
        | "controls"
        | "legacyDrawing"
        | "legacyDrawingHF"
        | "cellWatches" => Action::Drop,
        // By local name in any namespace kept, as `inspect` reads them.
        "absPath" | "revisionPtr" | "customWorkbookView" | "customSheetView" => Action::Drop,
        // Alternate content carries the saved-in folder in a workbook, and
        // controls and objects in a sheet: none of it is kept.
        "AlternateContent" => Action::Drop,
        "extLst" if part.ends_with("workbook.xml") => Action::Drop,
        _ => Action::Keep,
    }
}

/// Revision ids go under any namespace (found by the scrub_ooxml fuzz
/// target: an unprefixed `uid` survived the namespace rule).
fn attribute(_: &Element, _namespace: &str, local: &str) -> bool {
    !matches!(local, "uid" | "documentId" | "revIDLastSave")
}

/// Spreadsheet functions that fetch from outside when the workbook
/// recalculates.
const FETCHING_FUNCTIONS: &[&str] = &["WEBSERVICE(", "RTD(", "_XLFN.WEBSERVICE("];

pub(super) fn fetching_formula(formula: &str) -> bool {
    let upper = formula.to_ascii_uppercase();
    FETCHING_FUNCTIONS.iter().any(|f| upper.contains(f))
}

fn fetches(xml: &[u8]) -> Option<String> {
    let mut found = None;
    let _ = walk(xml, |node| {
        if let Node::Text {
            inside: "f", text, ..
        } = node
        {
            if fetching_formula(text) {
                found = Some(text.to_owned());
            }
        }
    });
    found.map(|formula| {
        format!(
            "has a formula that fetches from outside when it recalculates ({})",
            field_text(formula.as_bytes())
        )
    })
}

fn notes(text: &str) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if text.contains("absPath") {
        notes.push("the folder the workbook was saved in");
    }
    if text.contains("fileSharing") {
        notes.push("who reserved the workbook (file sharing)");
    }
    if text.contains("customWorkbookViews") || text.contains("customSheetViews") {
        notes.push("personal views");
    }
    if text.contains("xr:uid") || text.contains("revisionPtr") {
        notes.push("revision ids");
    }
    notes
}

pub(super) const PROFILE: Profile = Profile {
    relationships: SHEET_RELATIONSHIPS,
    namespace: sheet_namespace,
    element,
    attribute,
    fetches,
    notes,
    macro_enabled: (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
};

/// What a SpreadsheetML (XLSX) part reveals, for `inspect`; false for a part that is
/// not one of this format's (the caller then looks at it as a shared part).
pub(super) fn inspect_part(part: &Part, report: &mut Report, on_xml: &mut super::OnXml) -> bool {
    let name = part.name.as_str();
    let place = name;
    match name {
        "xl/workbook.xml" => on_xml(&mut |node| match node {
            Node::Open {
                local: "absPath",
                attributes,
            } => report.add(
                Category::Device,
                "folder the workbook was saved in",
                field_text(
                    crate::xmlread::attribute(attributes, "url")
                        .unwrap_or_default()
                        .as_bytes(),
                ),
                place,
            ),
            Node::Open {
                local: "fileSharing",
                attributes,
            } => {
                report.add_attributes(
                    attributes,
                    place,
                    &[("userName", Category::People, "reserved by")],
                );
            }
            Node::Open {
                local: "customWorkbookView",
                attributes,
            } => report.add(
                Category::People,
                "personal view",
                field_text(
                    crate::xmlread::attribute(attributes, "name")
                        .unwrap_or_default()
                        .as_bytes(),
                ),
                place,
            ),
            Node::Open {
                local: "revisionPtr",
                attributes,
            } => report.add(
                Category::History,
                "revision id",
                field_text(
                    crate::xmlread::attribute(attributes, "documentId")
                        .unwrap_or_default()
                        .as_bytes(),
                ),
                place,
            ),
            Node::Open {
                local: "sheet",
                attributes,
            } => {
                if let Some(state) =
                    crate::xmlread::attribute(attributes, "state").filter(|s| *s != "visible")
                {
                    report.add(
                        Category::History,
                        "hidden sheet",
                        format!(
                            "{} ({state})",
                            field_text(
                                crate::xmlread::attribute(attributes, "name")
                                    .unwrap_or_default()
                                    .as_bytes()
                            )
                        ),
                        place,
                    );
                }
            }
            _ => {}
        }),
        n if n.starts_with("xl/worksheets/") && n.ends_with(".xml") => {
            on_xml(&mut |node| match node {
                Node::Text {
                    inside: "f", text, ..
                } if fetching_formula(text) => report.add(
                    Category::Active,
                    "formula that fetches from outside when it recalculates",
                    field_text(text.as_bytes()),
                    place,
                ),
                Node::Open {
                    local: "worksheet",
                    attributes,
                } => {
                    report.add_attributes(
                        attributes,
                        place,
                        &[("uid", Category::History, "revision id")],
                    );
                }
                _ => {}
            })
        }
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
        n if n.starts_with("xl/externalLinks/") && n.ends_with(".xml") => report.add(
            Category::Active,
            "link to another workbook",
            "updated from elsewhere when the workbook opens",
            place,
        ),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::ooxml::clean::PackageRules;
    use crate::xmlfilter;

    #[test]
    fn revision_ids_and_the_saved_in_folder_go_under_any_namespace() {
        let dropped = HashSet::new();
        let rules = PackageRules {
            profile: &PROFILE,
            dropped: &dropped,
            part: "xl/worksheets/sheet1.xml",
        };
        let xml = format!(
            r#"<worksheet xmlns="{SML}" uid="{{8F3A}}"><absPath url="C:\Users\Hasan"/><revisionPtr documentId="{{8F3B}}"/><sheetData/></worksheet>"#
        );
        let out = String::from_utf8(xmlfilter::filter(xml.as_bytes(), &rules).unwrap()).unwrap();
        assert!(
            !out.contains("8F3") && !out.contains("Hasan") && out.contains("sheetData"),
            "{out}"
        );
    }
}
