//! A file's type by its content, never by its name: a name is whatever the
//! source (or someone who wants the editor to open a file the wrong way)
//! chose.

use serde::{Deserialize, Serialize};

use super::limits::MAX_ARCHIVE_ENTRIES;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    WebP,
    Tiff,
    Heic,
    Avif,
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Zip,
    Mp4,
    Mov,
    M4a,
    Mp3,
    Text,
    Unknown,
}

impl Kind {
    /// The type of `data` by its content.
    pub fn of(data: &[u8]) -> Kind {
        let starts = |magic: &[u8]| data.starts_with(magic);
        if starts(b"\xFF\xD8\xFF") {
            Kind::Jpeg
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            Kind::Png
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Kind::Gif
        } else if starts(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
            Kind::WebP
        } else if starts(b"II*\0") || starts(b"MM\0*") {
            Kind::Tiff
        } else if data[..data.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            Kind::Pdf
        } else if starts(b"PK\x03\x04") {
            zip_kind(data)
        } else if data.get(4..8) == Some(b"ftyp") {
            match data.get(8..12).unwrap_or_default() {
                b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                    Kind::Heic
                }
                b"avif" | b"avis" => Kind::Avif,
                b"qt  " => Kind::Mov,
                b"M4A " | b"M4B " | b"M4P " => Kind::M4a,
                _ => Kind::Mp4,
            }
        } else if starts(b"ID3") || is_mpeg_audio_frame(data) {
            Kind::Mp3
        } else if is_text(data) {
            Kind::Text
        } else {
            Kind::Unknown
        }
    }

    /// The type a file name's extension claims.
    pub fn claimed_by_name(name: &str) -> Option<Kind> {
        let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" => Kind::Jpeg,
            "png" => Kind::Png,
            "gif" => Kind::Gif,
            "webp" => Kind::WebP,
            "tif" | "tiff" => Kind::Tiff,
            "heic" | "heif" => Kind::Heic,
            "avif" => Kind::Avif,
            "pdf" => Kind::Pdf,
            "docx" | "docm" | "dotx" | "dotm" => Kind::Docx,
            "xlsx" | "xlsm" | "xltx" | "xltm" => Kind::Xlsx,
            "pptx" | "pptm" | "potx" | "potm" => Kind::Pptx,
            "odt" => Kind::Odt,
            "ods" => Kind::Ods,
            "odp" => Kind::Odp,
            "zip" => Kind::Zip,
            "mp4" | "m4v" => Kind::Mp4,
            "mov" => Kind::Mov,
            "m4a" | "m4b" => Kind::M4a,
            "mp3" => Kind::Mp3,
            "txt" | "text" | "md" | "csv" | "log" => Kind::Text,
            _ => return None,
        })
    }

    /// Whether a name claiming `self` fits content of kind `actual` (an MP4
    /// container named `.m4a` is no surprise).
    pub fn same_family(self, actual: Kind) -> bool {
        use Kind::*;
        self == actual
            || matches!(
                (self, actual),
                (Mp4 | Mov | M4a, Mp4 | Mov | M4a) | (Heic, Avif)
            )
    }

    /// The type as an editor reads it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Jpeg => "JPEG image",
            Kind::Png => "PNG image",
            Kind::Gif => "GIF image",
            Kind::WebP => "WebP image",
            Kind::Tiff => "TIFF image",
            Kind::Heic => "HEIC/HEIF image",
            Kind::Avif => "AVIF image",
            Kind::Pdf => "PDF document",
            Kind::Docx => "Word document (DOCX)",
            Kind::Xlsx => "Excel workbook (XLSX)",
            Kind::Pptx => "PowerPoint presentation (PPTX)",
            Kind::Odt => "OpenDocument text (ODT)",
            Kind::Ods => "OpenDocument spreadsheet (ODS)",
            Kind::Odp => "OpenDocument presentation (ODP)",
            Kind::Zip => "ZIP archive",
            Kind::Mp4 => "MP4 video",
            Kind::Mov => "QuickTime video (MOV)",
            Kind::M4a => "MPEG-4 audio (M4A)",
            Kind::Mp3 => "MP3 audio",
            Kind::Text => "plain text",
            Kind::Unknown => "a type sealdrop-open does not recognize",
        }
    }
}

/// OOXML and OpenDocument files are ZIP archives; their entries say which.
fn zip_kind(data: &[u8]) -> Kind {
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(data)) else {
        return Kind::Zip;
    };
    // Sniffing only looks up names; the reader itself refuses archives over
    // the cap, with that reason.
    if archive.len() > 100 * MAX_ARCHIVE_ENTRIES {
        return Kind::Zip;
    }
    let has = |archive: &zip::ZipArchive<_>, name: &str| archive.index_for_name(name).is_some();
    if has(&archive, "[Content_Types].xml") {
        if has(&archive, "word/document.xml") {
            return Kind::Docx;
        }
        if has(&archive, "xl/workbook.xml") {
            return Kind::Xlsx;
        }
        if has(&archive, "ppt/presentation.xml") {
            return Kind::Pptx;
        }
    }
    let mimetype = archive.by_name("mimetype").ok().and_then(|mut entry| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(&mut entry, 128), &mut text).ok()?;
        Some(text)
    });
    match mimetype.as_deref().map(str::trim) {
        Some("application/vnd.oasis.opendocument.text") => Kind::Odt,
        Some("application/vnd.oasis.opendocument.spreadsheet") => Kind::Ods,
        Some("application/vnd.oasis.opendocument.presentation") => Kind::Odp,
        _ => Kind::Zip,
    }
}

/// An MPEG audio frame header at the start (sync, layer III, a valid
/// bitrate and sample rate).
fn is_mpeg_audio_frame(data: &[u8]) -> bool {
    match data {
        [0xFF, b1, b2, ..] => {
            b1 & 0xE0 == 0xE0
                && (b1 >> 1) & 3 == 1
                && (b2 >> 4) != 0xF
                && (b2 >> 4) != 0
                && (b2 >> 2) & 3 != 3
        }
        _ => false,
    }
}

/// Text: valid UTF-8 with no control characters but line breaks, tabs and
/// form feeds.
fn is_text(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_content_not_names() {
        assert_eq!(Kind::of(b"\xFF\xD8\xFF\xE0rest"), Kind::Jpeg);
        assert_eq!(Kind::of(b"\x89PNG\r\n\x1a\n...."), Kind::Png);
        assert_eq!(Kind::of(b"GIF89a..."), Kind::Gif);
        assert_eq!(Kind::of(b"RIFF\0\0\0\0WEBPVP8 "), Kind::WebP);
        assert_eq!(Kind::of(b"%PDF-1.7\n"), Kind::Pdf);
        assert_eq!(Kind::of(b"\0\0\0\x18ftypheic"), Kind::Heic);
        assert_eq!(Kind::of(b"\0\0\0\x18ftypqt  "), Kind::Mov);
        assert_eq!(Kind::of(b"ID3\x04\0"), Kind::Mp3);
        assert_eq!(Kind::of("نص عادي\nplain".as_bytes()), Kind::Text);
        assert_eq!(Kind::of(b"text with \x1b[31m escape"), Kind::Unknown);
        assert_eq!(Kind::of(b""), Kind::Unknown);
        assert_eq!(Kind::claimed_by_name("IMG_0001.JPG"), Some(Kind::Jpeg));
        assert_eq!(Kind::claimed_by_name("notes"), None);
        assert!(Kind::M4a.same_family(Kind::Mp4));
        assert!(!Kind::Pdf.same_family(Kind::Jpeg));
    }
}
