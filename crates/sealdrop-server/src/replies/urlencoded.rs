//! The replies page's small forms (`application/x-www-form-urlencoded`): a
//! codename or a token, a few hundred bytes. Read whole, with a cap and a
//! deadline, and wiped when dropped.

use std::time::Duration;

use axum::body::Body;
use futures_util::StreamExt;
use zeroize::Zeroizing;

use crate::outcome::Problem;

/// The largest form accepted: a codename typed with generous spacing in
/// Arabic-Indic digits (two bytes each, percent-encoded to six) fits.
pub const MAX_FORM_BYTES: usize = 4096;
/// After the cap, this much more is read and discarded, so that a browser
/// gets the 413 page rather than a reset; beyond it the connection closes.
const DRAIN_BYTES: usize = 1 << 20;

/// A form's body, all of it. A body over [`MAX_FORM_BYTES`] is
/// `FieldTooLong`; one not complete within `within`, `Timeout`.
pub async fn read(body: Body, within: Duration) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let mut stream = body.into_data_stream();
    let mut form = Zeroizing::new(Vec::new());
    let mut seen = 0usize;
    let reading = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| Problem::Aborted)?;
            seen += chunk.len();
            if seen <= MAX_FORM_BYTES {
                form.extend_from_slice(&chunk);
            } else if seen > MAX_FORM_BYTES + DRAIN_BYTES {
                break;
            }
        }
        Ok(())
    };
    tokio::time::timeout(within, reading)
        .await
        .map_err(|_| Problem::Timeout)??;
    if seen > MAX_FORM_BYTES {
        return Err(Problem::FieldTooLong);
    }
    Ok(form)
}

/// The value of field `name`, decoded (`+` is a space), if the form has it.
pub fn field(form: &[u8], name: &str) -> Option<Zeroizing<String>> {
    form.split(|&b| b == b'&').find_map(|pair| {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        if key != name.as_bytes() {
            return None;
        }
        let plus_as_space: Zeroizing<Vec<u8>> = Zeroizing::new(
            value
                .iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        );
        let decoded: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
        Some(Zeroizing::new(String::from_utf8(decoded).unwrap_or_else(
            |e| String::from_utf8_lossy(e.as_bytes()).into_owned(),
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_like_browsers_encode() {
        let form = b"codename=%D9%A1%D9%A2+34&other=x";
        assert_eq!(field(form, "codename").unwrap().as_str(), "١٢ 34");
        assert_eq!(field(form, "other").unwrap().as_str(), "x");
        assert!(field(form, "missing").is_none());
        assert_eq!(field(b"codename", "codename").unwrap().as_str(), "");
        assert_eq!(
            field(b"codename=%FF", "codename").unwrap().as_str(),
            "\u{FFFD}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_form_decodes_or_is_absent(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = field(&bytes, "codename");
        }
    }
}
