//! The name a client gave an uploaded file, from the part's
//! `Content-Disposition` header, as the source gave it.
//!
//! multer reads only a plain `filename="…"` (and none at all when a
//! `filename*` comes first), so the header is read again here:
//! - `filename*=charset'lang'value` (RFC 8187, UTF-8 or ISO-8859-1,
//!   percent-encoded) wins over `filename`, as RFC 6266 says;
//! - in `filename="…"`, backslash escapes are undone, and so are the escapes
//!   browsers apply by the HTML standard's form encoding: `"` sent as `%22`,
//!   CR as `%0D`, LF as `%0A` (only these: browsers do not escape `%`
//!   itself, so no other sequence is decoded).
//!
//! The result is untrusted text: it goes into the manifest as
//! `original_name` and through the sanitizer for the name on disk.

/// The longest header this looks into; browsers send a few hundred bytes
/// (multer bounds the part headers anyway).
const MAX_HEADER: usize = 64 * 1024;

/// The file name in a `Content-Disposition` header value, if it has one.
pub fn file_name(header: &[u8]) -> Option<String> {
    if header.len() > MAX_HEADER {
        return None;
    }
    let mut plain = None;
    let mut extended = None;
    for (key, value) in parameters(header) {
        if key.eq_ignore_ascii_case(b"filename*") {
            extended = extended.or_else(|| decode_ext_value(&value));
        } else if key.eq_ignore_ascii_case(b"filename") {
            plain = plain.or_else(|| Some(undo_form_escapes(&String::from_utf8_lossy(&value))));
        }
    }
    extended.or(plain)
}

/// The `key=value` parameters after the disposition type; quoted values
/// are unquoted (backslash escapes undone).
fn parameters(header: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = header;
    // Skip the disposition type.
    match rest.iter().position(|b| *b == b';') {
        Some(i) => rest = &rest[i + 1..],
        None => return out,
    }
    loop {
        rest = trim_start(rest);
        if rest.is_empty() {
            return out;
        }
        let key_end = rest
            .iter()
            .position(|b| *b == b'=' || *b == b';')
            .unwrap_or(rest.len());
        let key = trim_end(&rest[..key_end]).to_vec();
        if key_end == rest.len() {
            return out;
        }
        if rest[key_end] == b';' {
            rest = &rest[key_end + 1..];
            continue;
        }
        rest = trim_start(&rest[key_end + 1..]);
        let value;
        if let Some(quoted) = rest.strip_prefix(b"\"") {
            let mut unquoted = Vec::new();
            let mut i = 0;
            while i < quoted.len() && quoted[i] != b'"' {
                if quoted[i] == b'\\' && i + 1 < quoted.len() {
                    i += 1;
                }
                unquoted.push(quoted[i]);
                i += 1;
            }
            value = unquoted;
            rest = quoted.get(i + 1..).unwrap_or_default();
            // Whatever follows a quoted value up to the next ';' is ignored.
            rest = match rest.iter().position(|b| *b == b';') {
                Some(j) => &rest[j + 1..],
                None => &[],
            };
        } else {
            let end = rest.iter().position(|b| *b == b';').unwrap_or(rest.len());
            value = trim_end(&rest[..end]).to_vec();
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        out.push((key, value));
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[i..]
}

fn trim_end(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &b[..i]
}

/// RFC 8187 `charset'[language]'value-chars`, for UTF-8 and ISO-8859-1.
fn decode_ext_value(value: &[u8]) -> Option<String> {
    let mut fields = value.splitn(3, |b| *b == b'\'');
    let charset = fields.next()?;
    let _language = fields.next()?;
    let encoded = fields.next()?;
    let bytes = percent_decode(encoded)?;
    if charset.eq_ignore_ascii_case(b"utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case(b"iso-8859-1") {
        Some(bytes.iter().map(|b| char::from(*b)).collect())
    } else {
        None
    }
}

fn percent_decode(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let pair = encoded.get(i + 1..i + 3)?;
            out.push(sealdrop_format::hex::decode::<1>(std::str::from_utf8(pair).ok()?)?[0]);
            i += 3;
        } else {
            out.push(encoded[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Undoes the three escapes of the HTML standard's multipart/form-data
/// encoding of names (any case of the hex digits).
fn undo_form_escapes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escaped = rest.get(i..i + 3).map(str::to_ascii_uppercase);
        match escaped.as_deref() {
            Some("%22") => out.push('"'),
            Some("%0D") => out.push('\r'),
            Some("%0A") => out.push('\n'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(header: &str) -> Option<String> {
        file_name(header.as_bytes())
    }

    #[test]
    fn plain_extended_and_escaped_names() {
        assert_eq!(
            name(r#"form-data; name="attachment"; filename="report.pdf""#).as_deref(),
            Some("report.pdf")
        );
        // RFC 8187 alone (multer gives nothing), and winning over a plain one.
        assert_eq!(
            name("form-data; name=\"attachment\"; filename*=UTF-8''%E2%82%AC%20rates.pdf")
                .as_deref(),
            Some("€ rates.pdf")
        );
        assert_eq!(
            name("form-data; filename*=utf-8'ar'%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.pdf; filename=\"fallback.pdf\"")
                .as_deref(),
            Some("تقرير.pdf")
        );
        assert_eq!(
            name("form-data; filename=\"fallback.pdf\"; filename*=iso-8859-1'en'%A3%20rates")
                .as_deref(),
            Some("£ rates")
        );
        // A broken extended value falls back to the plain one.
        assert_eq!(
            name("form-data; filename*=UTF-8''%ZZ; filename=\"plain.txt\"").as_deref(),
            Some("plain.txt")
        );
        // What browsers do to ", CR and LF; nothing else is decoded.
        assert_eq!(
            name(r#"form-data; name="attachment"; filename="say %22hi%22%0D%0A.txt""#).as_deref(),
            Some("say \"hi\"\r\n.txt")
        );
        assert_eq!(
            name(r#"form-data; filename="100%25 %41.txt""#).as_deref(),
            Some("100%25 %41.txt")
        );
        assert_eq!(
            name(r#"form-data; filename="a\"b.txt""#).as_deref(),
            Some("a\"b.txt")
        );
        assert_eq!(
            name(r#"form-data; filename="a; b.txt""#).as_deref(),
            Some("a; b.txt")
        );
        assert_eq!(name("form-data; name=\"message\""), None);
        assert_eq!(name("form-data"), None);
        assert_eq!(
            name("form-data; filename=bare.txt; name=x").as_deref(),
            Some("bare.txt")
        );
    }

    proptest! {
        /// Whatever the header, parsing neither panics nor invents text: a
        /// quoted plain name comes back as given (with the three escapes
        /// undone).
        #[test]
        fn any_header_parses_and_quoted_names_round_trip(
            raw in proptest::collection::vec(any::<u8>(), 0..300),
            given in "[^\"\\\\%\r\n]{0,40}",
        ) {
            let _ = file_name(&raw);
            let header = format!("form-data; name=\"attachment\"; filename=\"{given}\"");
            prop_assert_eq!(name(&header), Some(given));
        }
    }
}
