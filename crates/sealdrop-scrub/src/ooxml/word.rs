//! Word (DOCX): what a document needs to show its content, and the rules
//! its parts are rewritten by.

use super::Tally;
use crate::zipdoc::Part;
use crate::{Category, Report};

use super::clean::Profile;
use super::{remote_field, MATH, MC, R, W, W14, XML};
use crate::field_text;
use crate::xmlfilter::{Action, Element};
use crate::xmlread::{self, walk, Node};

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
        MC,
        "urn:schemas-microsoft-com:vml",
        "urn:schemas-microsoft-com:office:office",
        "urn:schemas-microsoft-com:office:word",
        XML,
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
    EXACT.contains(&namespace)
        || WORD_EXTENSIONS.contains(&namespace)
        || super::drawing_namespace(namespace)
}

/// Word's rules for an element in one of its namespaces, by local name (as
/// `inspect` reads them: only Word's own namespace defines these names, and
/// a file that puts them elsewhere is read the way it would be misread).
fn element(element: &Element, part: &str) -> Action {
    if element.depth == 1 && part.eq_ignore_ascii_case("word/settings.xml") {
        let kept = (element.namespace == W && KEPT_SETTINGS.contains(&element.local))
            || (element.namespace == MATH && element.local == "mathPr");
        return if kept { Action::Keep } else { Action::Drop };
    }
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

fn attribute(_: &Element, _namespace: &str, local: &str) -> bool {
    !local.starts_with("rsid")
        && !matches!(
            local,
            "paraId" | "textId" | "durableId" | "author" | "initials"
        )
}

/// A field that fetches outside content when fields update.
fn fetches(xml: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(xml);
    if !text.contains("instrText") && !text.contains("fldSimple") {
        return None;
    }
    let mut remote = None;
    let _ = walk(xml, |node| match node {
        Node::Text {
            inside: "instrText",
            text,
            ..
        } if remote_field(text) => remote = Some(text.to_owned()),
        Node::Open {
            local: "fldSimple",
            attributes,
        } => {
            if let Some(i) = xmlread::attribute(attributes, "instr").filter(|i| remote_field(i)) {
                remote = Some(i.to_owned());
            }
        }
        _ => {}
    });
    remote.map(|field| {
        format!(
            "has a field that fetches outside content ({})",
            field_text(field.as_bytes())
        )
    })
}

fn notes(text: &str) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if text.contains("w:ins ") || text.contains("w:del ") {
        notes.push("tracked changes (insertions accepted, deletions applied) and their authors");
    }
    if text.contains("rsid") {
        notes.push("revision-save ids");
    }
    notes
}

pub(super) const PROFILE: Profile = Profile {
    relationships: WORD_RELATIONSHIPS,
    namespace: word_namespace,
    element,
    attribute,
    fetches,
    notes,
    macro_enabled: (
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
};

/// What a WordprocessingML (DOCX) part reveals, for `inspect`; false for a part that is
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
        "word/comments.xml" | "word/commentsExtended.xml" => on_xml(&mut |node| {
            if let Node::Open {
                local: "comment",
                attributes,
            } = node
            {
                tally.comments += 1;
                report.add_attributes(
                    attributes,
                    place,
                    &[
                        ("author", Category::People, "comment by"),
                        ("date", Category::Times, "comment written"),
                    ],
                );
            }
        }),
        "word/people.xml" => on_xml(&mut |node| {
            if let Node::Open {
                local: "person",
                attributes,
            } = node
            {
                report.add_attributes(
                    attributes,
                    place,
                    &[("author", Category::People, "person who commented or edited")],
                );
            }
        }),
        "word/settings.xml" => on_xml(&mut |node| match node {
            Node::Open { local: "rsid", .. } => tally.rsids += 1,
            Node::Open {
                local: "docVar",
                attributes,
            } => report.add(
                Category::Hidden,
                "document variable",
                format!(
                    "{}: {}",
                    crate::xmlread::attribute(attributes, "name").unwrap_or_default(),
                    field_text(
                        crate::xmlread::attribute(attributes, "val")
                            .unwrap_or_default()
                            .as_bytes()
                    )
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
                if let Some(author) = crate::xmlread::attribute(attributes, "author") {
                    tally.changes += 1;
                    report.add(
                        Category::People,
                        "tracked change by",
                        field_text(author.as_bytes()),
                        place,
                    );
                    report.add_attributes(
                        attributes,
                        place,
                        &[("date", Category::Times, "tracked change made")],
                    );
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
                    crate::xmlread::attribute(attributes, "instr").filter(|i| remote_field(i))
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
    fn foreign_namespaces_under_familiar_prefixes_are_dropped() {
        // Found by the scrub_docx fuzz target: "w" bound to another
        // namespace carried a tracked change's author through.
        let dropped = HashSet::new();
        let rules = PackageRules {
            profile: &PROFILE,
            dropped: &dropped,
            part: "word/document.xml",
        };
        let xml = format!(
            r#"<w:document xmlns:w="{W}"><w:body><x:ins xmlns:x="urn:evil" x:author="Hasan"><w:p><w:r><w:t>t</w:t></w:r></w:p></x:ins><w:p w:rsidR="1" xmlns:y="urn:evil" y:tag="Hasan"/></w:body></w:document>"#
        );
        let out = String::from_utf8(xmlfilter::filter(xml.as_bytes(), &rules).unwrap()).unwrap();
        assert!(!out.contains("Hasan") && !out.contains("rsid"), "{out}");
        let foreign = r#"<w:document xmlns:w="urn:not-word"><w:body/></w:document>"#;
        assert!(xmlfilter::filter(foreign.as_bytes(), &rules).is_err());
    }
}
