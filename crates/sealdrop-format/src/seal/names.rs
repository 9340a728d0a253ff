//! Attachment names come from anonymous strangers and end up as file names on an
//! editor's laptop (Linux, macOS or Windows) and in terminal output. This module
//! turns any string into one safe path component, and makes names unique.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

/// Upper bound for a sanitized name, in bytes of UTF-8. Well below the 255-byte
/// limit of common file systems, leaving room for a " (NN)" uniqueness suffix.
pub const MAX_NAME_BYTES: usize = 120;

/// Name used when nothing usable is left of the original.
pub const FALLBACK_NAME: &str = "attachment";

const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// Characters that would reorder or hide text: bidi embeddings, overrides and
/// isolates (the U+202E "gnp.exe" trick), marks, and invisible joiners/BOM.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{180E}' | '\u{034F}' | '\u{115F}' | '\u{1160}'
        | '\u{3164}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

/// Characters no file name may contain on any platform we care about.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || is_invisible_or_bidi(c)
        || matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
        || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        || c == '\u{FFFD}'
}

/// Strips everything before the last `/` or `\`: browsers and old clients may send
/// a full client-side path, which is both useless and identifying.
fn last_component(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Turns `original` into a single safe file name component.
///
/// Guarantees: non-empty; at most [`MAX_NAME_BYTES`] bytes; no path separators,
/// NUL, control, bidi or invisible characters; not `.`/`..`, no leading dot or
/// dash, no trailing dot or space; not a Windows reserved device name. The result
/// is a fixed point: `sanitize_name(&sanitize_name(x)) == sanitize_name(x)`.
pub fn sanitize_name(original: &str) -> String {
    let base = last_component(original);
    let mut cleaned: String = base
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !is_forbidden(*c))
        .collect();
    // Collapse runs of spaces.
    while cleaned.contains("  ") {
        cleaned = cleaned.replace("  ", " ");
    }
    let trimmed = cleaned.trim_matches(|c: char| c == ' ' || c == '.');
    let trimmed = trimmed.trim_start_matches(['-', ' ', '.']);
    let mut name = if trimmed.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        trimmed.to_owned()
    };
    if is_windows_reserved(&name) {
        name.insert(0, '_');
    }
    truncate_keeping_extension(&name, MAX_NAME_BYTES)
}

fn is_windows_reserved(name: &str) -> bool {
    // Windows treats "CON.txt" and "con .tar.gz" like "CON".
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(stem))
}

/// Splits "report.final.pdf" into ("report.final", ".pdf"); an extension is kept
/// only if it is short and plain, so truncation never cuts into it.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 => {
            let ext = &name[dot..];
            if ext.len() <= 16 && ext[1..].chars().all(|c| c.is_alphanumeric()) {
                (&name[..dot], ext)
            } else {
                (name, "")
            }
        }
        _ => (name, ""),
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    let keep = floor_char_boundary(stem, max - ext.len());
    let stem = stem[..keep].trim_end_matches([' ', '.']);
    let stem = if stem.is_empty() { FALLBACK_NAME } else { stem };
    format!("{stem}{ext}")
}

/// The key under which two names count as the same: names that differ only
/// in case or in Unicode normalization (NFC/NFD) look identical to an
/// editor, and macOS and Windows file systems store them as one file.
pub fn lookalike_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// Hands out names that are unique within one submission, compared by
/// [`lookalike_key`].
#[derive(Default)]
pub struct UniqueNames {
    taken: HashSet<String>,
}

impl UniqueNames {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserves a name; used for names the format itself puts beside attachments.
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(lookalike_key(name));
    }

    /// Sanitizes `original` and makes it unique: "a.txt", "a (2).txt", …
    pub fn assign(&mut self, original: &str) -> String {
        let base = sanitize_name(original);
        if self.taken.insert(lookalike_key(&base)) {
            return base;
        }
        let (stem, ext) = split_extension(&base);
        for n in 2u64.. {
            let suffix = format!(" ({n}){ext}");
            let keep = floor_char_boundary(stem, MAX_NAME_BYTES - suffix.len());
            let candidate = format!("{}{suffix}", &stem[..keep]);
            if self.taken.insert(lookalike_key(&candidate)) {
                return candidate;
            }
        }
        unreachable!("u64 names exhausted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_traversal_is_removed() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name(".."), FALLBACK_NAME);
        assert_eq!(sanitize_name("."), FALLBACK_NAME);
        assert_eq!(sanitize_name("/etc/shadow"), "shadow");
        assert_eq!(sanitize_name("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(
            sanitize_name("C:\\Users\\me\\Desktop\\leak.pdf"),
            "leak.pdf"
        );
        assert_eq!(sanitize_name("dir/"), FALLBACK_NAME);
    }

    #[test]
    fn control_characters_and_nul_are_removed() {
        assert_eq!(sanitize_name("a\0b.txt"), "ab.txt");
        assert_eq!(sanitize_name("evil\x1b[31mred.txt"), "evil[31mred.txt");
        assert_eq!(sanitize_name("line\nbreak.txt"), "line break.txt");
        assert_eq!(sanitize_name("\u{85}x\u{9f}"), "x");
    }

    #[test]
    fn bidi_overrides_are_removed() {
        // Displays as "photo_gnp.exe" reversed: "photo_exe.png".
        assert_eq!(sanitize_name("photo_\u{202E}gnp.exe"), "photo_gnp.exe");
        assert_eq!(sanitize_name("a\u{2066}b\u{2069}\u{200F}.pdf"), "ab.pdf");
        assert_eq!(sanitize_name("\u{FEFF}\u{200B}x.txt"), "x.txt");
    }

    #[test]
    fn windows_reserved_names_are_defused() {
        assert_eq!(sanitize_name("CON"), "_CON");
        assert_eq!(sanitize_name("con.txt"), "_con.txt");
        assert_eq!(sanitize_name("lpt9.tar.gz"), "_lpt9.tar.gz");
        assert_eq!(sanitize_name("COM¹"), "_COM¹");
        assert_eq!(sanitize_name("nul "), "_nul");
        assert_eq!(sanitize_name("console.txt"), "console.txt");
        assert_eq!(sanitize_name("a:b|c?.txt"), "abc.txt");
    }

    #[test]
    fn hidden_and_option_like_names_are_defused() {
        assert_eq!(sanitize_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_name("-rf"), "rf");
        assert_eq!(sanitize_name("trailing. . ."), "trailing");
    }

    #[test]
    fn length_is_bounded_and_extension_kept() {
        let long = format!("{}.pdf", "a".repeat(500));
        let s = sanitize_name(&long);
        assert!(s.len() <= MAX_NAME_BYTES);
        assert!(s.ends_with(".pdf"));
        let arabic = "ملف".repeat(100) + ".jpg";
        let s = sanitize_name(&arabic);
        assert!(s.len() <= MAX_NAME_BYTES && s.ends_with(".jpg"));
    }

    #[test]
    fn names_are_unique_within_a_submission() {
        let mut names = UniqueNames::new();
        names.reserve("manifest.json");
        assert_eq!(names.assign("a.txt"), "a.txt");
        assert_eq!(names.assign("A.TXT"), "A (2).TXT");
        assert_eq!(names.assign("dir/a.txt"), "a (3).txt");
        assert_eq!(names.assign(""), "attachment");
        assert_eq!(names.assign(".."), "attachment (2)");
        let long = "b".repeat(300);
        let first = names.assign(&long);
        let second = names.assign(&long);
        assert_ne!(first, second);
        assert!(second.len() <= MAX_NAME_BYTES);
        // The same name in NFC and in NFD looks identical: not two files.
        assert_eq!(names.assign("caf\u{e9}.txt"), "caf\u{e9}.txt");
        assert_eq!(names.assign("cafe\u{301}.txt"), "cafe\u{301} (2).txt");
    }
}
