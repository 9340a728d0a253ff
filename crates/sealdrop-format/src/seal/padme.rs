//! Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019).
//!
//! A length `L` is rounded up so that only its top `floor(log2(floor(log2 L))) + 1`
//! bits stay significant: the overhead is at most ~12% and the padded length leaks
//! O(log log L) bits about `L`.

/// Smallest plaintext a sealed submission is padded to: one age STREAM chunk, so
/// every short tip (message only, small file) has the same ciphertext size.
pub const MIN_PADDED_LEN: u64 = 64 * 1024;

/// The Padmé bucket that `len` falls into (`padme(len) >= len`).
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let exponent = 63 - u64::from(len.leading_zeros()); // floor(log2 len), >= 1
    let exponent_bits = 64 - exponent.leading_zeros() as u64; // floor(log2 exponent) + 1
    let low_bits = exponent - exponent_bits;
    let mask = (1u64 << low_bits) - 1;
    // Saturate instead of overflowing for lengths within 2^low_bits of u64::MAX;
    // no real submission gets there.
    len.checked_add(mask).map_or(u64::MAX, |l| l & !mask)
}

/// The padded plaintext length of a sealed submission whose unpadded archive
/// would be `len` bytes long.
pub fn padded_len(len: u64) -> u64 {
    padme(len).max(MIN_PADDED_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_values() {
        // Values computed with the reference algorithm from the paper.
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (9, 10),
            (100, 104),
            (1000, 1024),
            (1025, 1088),
            (65_536, 65_536),
            (65_537, 67_584),
            (1_000_000, 1_015_808),
            (1 << 30, 1 << 30),
            ((1 << 30) + 1, (1 << 30) + (1 << 25)),
        ];
        for (len, want) in cases {
            assert_eq!(padme(len), want, "padme({len})");
        }
    }

    #[test]
    fn overhead_is_bounded_and_monotonic() {
        let mut prev = 0;
        for len in (1u64..200_000)
            .step_by(7)
            .chain((20..40).map(|e| (1u64 << e) + 12345))
        {
            let p = padme(len);
            assert!(p >= len);
            assert!(p >= prev, "not monotonic at {len}");
            // The paper's bound: overhead <= 1/2^(floor(log2 floor(log2 L))+1) <= ~12%.
            if len >= 256 {
                assert!((p - len) as f64 / len as f64 <= 0.125, "overhead at {len}");
            }
            assert_eq!(padme(p), p, "bucket of {len} is not a fixed point");
            prev = p;
        }
    }
}
