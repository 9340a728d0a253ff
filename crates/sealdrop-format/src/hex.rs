//! Lowercase hexadecimal, the one spelling sealdrop uses for hashes, ids and
//! tokens (on disk, on the wire and in manifests).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xF) as usize] as char);
    }
    s
}

/// True if `text` is exactly `len` bytes of lowercase hex digits.
pub fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| DIGITS.contains(&b))
}

/// Decodes exactly `N` bytes written as `2 * N` hex digits (either case).
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// The value of one hex digit (from_str_radix would also take a sign).
fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let bytes = [0x00, 0x9f, 0xa0, 0xff];
        assert_eq!(encode(&bytes), "009fa0ff");
        assert_eq!(decode::<4>("009fa0ff"), Some(bytes));
        assert_eq!(decode::<4>("009FA0FF"), Some(bytes));
        assert_eq!(decode::<4>("009fa0f"), None);
        assert_eq!(decode::<4>("009fa0fg"), None);
        assert_eq!(decode::<2>("+1+1"), None);
        assert_eq!(decode::<2>("éé"), None);
        assert!(is_lower_hex("009fa0ff", 8));
        assert!(!is_lower_hex("009FA0FF", 8));
        assert!(!is_lower_hex("009fa0f", 8));
    }
}
