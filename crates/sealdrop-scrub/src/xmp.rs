//! XMP, Adobe's XML metadata, which JPEG, PNG, GIF, WebP, PDF and office
//! files can all carry: read with quick-xml for `inspect` (never copied into
//! a cleaned file). Properties are told apart by their local name, so that
//! the same finding comes out whatever prefix a writer chose.

use super::xmlread::{self, Node};
use super::{field_text, Category, Report};

/// Structure elements of RDF, which hold no meaning of their own.
const STRUCTURE: &[&str] = &["li", "Seq", "Bag", "Alt", "Description", "RDF", "xmpmeta"];

/// What a property reveals, by its local name.
fn meaning(name: &str) -> Option<(Category, &'static str)> {
    use Category::*;
    Some(match name {
        n if n.starts_with("GPS") => (Location, "GPS data"),
        "City" | "Country" | "CountryCode" | "CountryName" | "State" | "ProvinceState"
        | "Location" | "Sublocation" | "LocationCreated" | "LocationShown" | "WorldRegion" => {
            (Location, "place name")
        }
        "Make" | "Model" | "LensModel" | "LensMake" | "Lens" | "LensInfo" => (Device, "device"),
        "SerialNumber" | "BodySerialNumber" | "LensSerialNumber" | "CameraSerialNumber"
        | "ImageNumber" => (Device, "serial number"),
        "CreatorTool" | "Software" | "softwareAgent" | "HostComputer" | "Producer" => {
            (Device, "software")
        }
        "creator" | "Author" | "Artist" | "Owner" | "OwnerName" | "CameraOwnerName" | "Credit"
        | "CaptionWriter" | "AuthorsPosition" | "contributor" | "publisher" | "rights"
        | "Copyright" | "LastModifiedBy" | "Company" | "Manager" => {
            (People, "person or organization")
        }
        "CiEmailWork" | "CiTelWork" | "CiAdrExtadr" | "CiAdrCity" | "CiAdrCtry" | "CiUrlWork" => {
            (People, "contact details")
        }
        "description" | "title" | "subject" | "Headline" | "Keywords" | "Instructions"
        | "UserComment" => (People, "text written into the file"),
        "CreateDate" | "ModifyDate" | "MetadataDate" | "DateTimeOriginal" | "DateTimeDigitized"
        | "DateCreated" | "DateTime" | "when" => (Times, "date"),
        "History" | "DerivedFrom" | "DocumentID" | "InstanceID" | "OriginalDocumentID"
        | "Ingredients" | "Pantry" | "action" | "changed" => (History, "editing history"),
        "Thumbnails" | "image" => (Hidden, "thumbnail inside the XMP"),
        _ => return None,
    })
}

/// Reports what the XMP packet `xml` reveals; `place` says where it was found.
pub(crate) fn inspect(xml: &[u8], report: &mut Report, place: &str) {
    let walked = xmlread::walk(xml, |node| match node {
        // XMP writes simple properties as attributes of `rdf:Description`.
        Node::Open { local, attributes } => {
            for (key, value) in attributes {
                if let Some((category, what)) = meaning(key) {
                    report.add(
                        category,
                        what,
                        format!("{key}: {}", field_text(value.as_bytes())),
                        place,
                    );
                }
            }
            // A property whose value is structured (a history list, a
            // thumbnail) is worth naming even without text of its own.
            if let Some((category @ (Category::History | Category::Hidden), what)) = meaning(local)
            {
                report.add(category, what, local.to_owned(), place);
            }
        }
        // A value belongs to the nearest element that is not RDF's own
        // structure (`rdf:li` in a `dc:creator` sequence, say).
        Node::Text {
            ancestors, text, ..
        } => {
            let Some(property) = ancestors
                .iter()
                .rev()
                .find(|n| !STRUCTURE.contains(&n.as_str()))
            else {
                return;
            };
            if let Some((category, what)) = meaning(property) {
                let value = field_text(text.as_bytes());
                if !value.is_empty() && category != Category::Hidden {
                    report.add(category, what, format!("{property}: {value}"), place);
                }
            }
        }
    });
    if let Err(e) = walked {
        report.unchecked(format!("{place}: XMP that could not be read ({e})"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_XML_DEPTH;
    use crate::Kind as FileKind;

    #[test]
    fn names_what_a_photo_editors_xmp_reveals() {
        let xml = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 exif:GPSLatitude="33,30.5N" xmp:CreatorTool="Camera FV-5" photoshop:City="Aleppo">
<dc:creator><rdf:Seq><rdf:li>Hasan K.</rdf:li></rdf:Seq></dc:creator>
<xmp:CreateDate>2026-11-02T06:10:00+03:00</xmp:CreateDate>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let mut report = Report::new(FileKind::Jpeg);
        inspect(xml, &mut report, "XMP");
        let said: Vec<String> = report.findings.iter().map(|f| f.value.clone()).collect();
        for expected in [
            "GPSLatitude: 33,30.5N",
            "CreatorTool: Camera FV-5",
            "City: Aleppo",
            "creator: Hasan K.",
            "CreateDate: 2026-11-02T06:10:00+03:00",
        ] {
            assert!(said.iter().any(|s| s == expected), "{expected} in {said:?}");
        }
        assert!(report.unchecked.is_empty());
    }

    #[test]
    fn deep_or_broken_xml_is_reported_unchecked() {
        let deep = "<a>".repeat(MAX_XML_DEPTH + 5);
        let mut report = Report::new(FileKind::Jpeg);
        inspect(deep.as_bytes(), &mut report, "XMP");
        assert_eq!(report.unchecked.len(), 1, "{:?}", report.unchecked);
        let mut report = Report::new(FileKind::Jpeg);
        inspect(b"<a><b></a>", &mut report, "XMP");
        assert_eq!(report.unchecked.len(), 1, "{:?}", report.unchecked);
    }
}
