//! EXIF (a TIFF structure inside JPEG, PNG and WebP files): read with
//! kamadak-exif for `inspect`; never copied into a cleaned file, which gets
//! at most a new EXIF block holding only the picture's orientation.

use exif::{Context, In, Value};

use super::{field_text, Category, Report};

/// What an EXIF tag reveals: its category and plain name; `None` for tags
/// that only describe the picture (size, exposure, colour).
fn meaning(context: Context, number: u16) -> Option<(Category, &'static str)> {
    use Category::*;
    Some(match (context, number) {
        (Context::Gps, 0x0007) => (Times, "GPS time"),
        (Context::Gps, 0x001D) => (Times, "GPS date"),
        (Context::Gps, 0x0001..=0x0004) => (Location, "GPS coordinate"),
        (Context::Gps, 0x0005 | 0x0006) => (Location, "GPS altitude"),
        (Context::Gps, 0x0011 | 0x0010) => (Location, "direction the camera faced"),
        (Context::Gps, 0x001B) => (Location, "GPS positioning method"),
        (Context::Gps, 0x001C) => (Location, "GPS area information"),
        (Context::Gps, 0x0000) => return None,
        (Context::Gps, _) => (Location, "GPS data"),
        (Context::Tiff, 0x010F) => (Device, "camera make"),
        (Context::Tiff, 0x0110) => (Device, "camera model"),
        (Context::Tiff, 0x0131) => (Device, "software"),
        (Context::Tiff, 0x013C) => (Device, "host computer"),
        (Context::Tiff, 0x013B) => (People, "artist"),
        (Context::Tiff, 0x8298) => (People, "copyright"),
        (Context::Tiff, 0x010E) => (People, "image description"),
        (Context::Tiff, 0x9C9B) => (People, "Windows title"),
        (Context::Tiff, 0x9C9C) => (People, "Windows comment"),
        (Context::Tiff, 0x9C9D) => (People, "Windows author"),
        (Context::Tiff, 0x9C9E) => (People, "Windows keywords"),
        (Context::Tiff, 0x9C9F) => (People, "Windows subject"),
        (Context::Tiff, 0x0132) => (Times, "date and time changed"),
        (Context::Exif, 0x9003) => (Times, "date and time taken"),
        (Context::Exif, 0x9004) => (Times, "date and time digitized"),
        (Context::Exif, 0x9010..=0x9012) => (Times, "time zone"),
        (Context::Exif, 0x9286) => (People, "user comment"),
        (Context::Exif, 0xA420) => (History, "unique image id (links copies of this picture)"),
        (Context::Exif, 0xA430) => (People, "camera owner's name"),
        (Context::Exif, 0xA431) => (Device, "camera serial number"),
        (Context::Exif, 0xA433) => (Device, "lens make"),
        (Context::Exif, 0xA434) => (Device, "lens model"),
        (Context::Exif, 0xA435) => (Device, "lens serial number"),
        (Context::Exif, 0x927C) => (
            Device,
            "maker note (the camera maker's own data: may hold serial numbers)",
        ),
        _ => return None,
    })
}

/// Reports what the EXIF block `tiff` (starting at its TIFF header)
/// reveals; `place` says where it was found.
pub(crate) fn inspect(tiff: &[u8], report: &mut Report, place: &str) {
    inspect_at(tiff, report, place, 0);
}

/// `inspect` for an EXIF block inside a picture `depth` levels down (a
/// thumbnail's own EXIF is read too, to a limit).
pub(crate) fn inspect_at(tiff: &[u8], report: &mut Report, place: &str, depth: usize) {
    let exif = match exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|e| e.distill_partial_result(|_| {}))
    {
        Ok(exif) => exif,
        Err(e) => {
            report.add(
                Category::Hidden,
                "EXIF block that could not be read",
                e.to_string(),
                place,
            );
            report.unchecked(format!("{place}: an unreadable EXIF block ({e})"));
            return;
        }
    };
    // A whole position is told as one; a partial one (a latitude alone)
    // field by field below.
    let mut positioned = Vec::new();
    for in_ in [In::PRIMARY, In::THUMBNAIL] {
        let where_ = if in_ == In::PRIMARY {
            place.to_owned()
        } else {
            format!("{place}, thumbnail's own tags")
        };
        if let Some(position) = gps_position(&exif, in_) {
            report.add(Category::Location, "GPS position", position, &where_);
            positioned.push(in_);
        }
    }
    let mut thumbnail = false;
    for field in exif.fields() {
        if field.ifd_num == In::THUMBNAIL
            && matches!(field.tag.number(), 0x0201 | 0x0111)
            && field.tag.context() == Context::Tiff
        {
            thumbnail = true;
        }
        let Some((category, what)) = meaning(field.tag.context(), field.tag.number()) else {
            continue;
        };
        if what == "GPS coordinate" && positioned.contains(&field.ifd_num) {
            continue;
        }
        let where_ = if field.ifd_num == In::PRIMARY {
            place.to_owned()
        } else {
            format!("{place}, thumbnail's own tags")
        };
        let value = match &field.value {
            Value::Ascii(parts) => parts
                .iter()
                .map(|p| field_text(p))
                .collect::<Vec<_>>()
                .join(" "),
            Value::Byte(bytes) | Value::Undefined(bytes, _)
                if field.tag.number() >= 0x9C9B && field.tag.number() <= 0x9C9F =>
            {
                utf16le(bytes)
            }
            Value::Undefined(bytes, _) if field.tag.number() == 0x927C => {
                format!("{} bytes", bytes.len())
            }
            _ => field_text(
                field
                    .display_value()
                    .with_unit(&exif)
                    .to_string()
                    .as_bytes(),
            ),
        };
        report.add(category, what, value, &where_);
    }
    if thumbnail {
        report.add(
            Category::Hidden,
            "thumbnail",
            "a small copy of the picture, which may show it before it was cropped or edited",
            place,
        );
        // A JPEG thumbnail is a file of its own, with its own metadata.
        let at = |tag| {
            exif.get_field(tag, In::THUMBNAIL)
                .and_then(|f| f.value.get_uint(0))
                .map(|v| v as usize)
        };
        let embedded = at(exif::Tag::JPEGInterchangeFormat).and_then(|offset| {
            let len = at(exif::Tag::JPEGInterchangeFormatLength)?;
            tiff.get(offset..offset.checked_add(len)?)
        });
        if let Some(jpeg) = embedded.filter(|j| j.starts_with(b"\xFF\xD8")) {
            if depth < super::limits::MAX_NESTED_IMAGES {
                crate::inspect_embedded_jpeg(
                    jpeg,
                    report,
                    &format!("{place} thumbnail: "),
                    depth + 1,
                );
            } else {
                report.unchecked(format!("{place}: a thumbnail nested deeper than this"));
            }
        }
    }
}

/// Windows' XP* tags are UTF-16LE.
fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    field_text(String::from_utf16_lossy(&units).as_bytes())
}

/// "48.858370 N, 2.294481 E" from the GPS tags of one IFD.
fn gps_position(exif: &exif::Exif, in_: In) -> Option<String> {
    let degrees = |tag| -> Option<f64> {
        match &exif.get_field(tag, in_)?.value {
            Value::Rational(parts) if parts.len() == 3 => {
                Some(parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0)
            }
            _ => None,
        }
    };
    let reference = |tag| -> String {
        exif.get_field(tag, in_)
            .map(|f| f.display_value().to_string())
            .unwrap_or_default()
    };
    let latitude = degrees(exif::Tag::GPSLatitude)?;
    let longitude = degrees(exif::Tag::GPSLongitude)?;
    Some(format!(
        "{latitude:.6} {}, {longitude:.6} {}",
        reference(exif::Tag::GPSLatitudeRef),
        reference(exif::Tag::GPSLongitudeRef)
    ))
}

/// The picture's orientation (EXIF tag 0x0112, 1 to 8) from the primary
/// IFD, when it is not the default: a cleaned photo must still stand up.
pub(crate) fn orientation(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|e| e.distill_partial_result(|_| {}))
        .ok()?;
    let value = exif
        .get_field(exif::Tag::Orientation, In::PRIMARY)?
        .value
        .get_uint(0)?;
    u16::try_from(value).ok().filter(|v| (2..=8).contains(v))
}

/// A new EXIF block (TIFF structure, big-endian) holding only an
/// orientation: one IFD with one entry, nothing else.
pub(crate) fn orientation_only(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0*");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // the IFD follows the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orientation_only_block_reads_back_and_holds_nothing_else() {
        let block = orientation_only(6);
        assert_eq!(orientation(&block), Some(6));
        let exif = exif::Reader::new().read_raw(block).unwrap();
        assert_eq!(exif.fields().count(), 1);
    }
}
