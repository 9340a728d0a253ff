//! The codename a source gets after a first submission: the only key to her
//! reply channel. 30 random decimal digits from the OS generator (99.7 bits)
//! and two check digits (ISO 7064 MOD 97-10, as in IBANs: every single-digit
//! mistake and almost every swap of two digits is caught), shown in eight
//! groups of four. Digits, not words: a source who reads only Arabic, Persian
//! or Kurdish can write them down and type them back in her own script;
//! Western, Arabic-Indic (٠–٩) and Persian (۰–۹) digits are all accepted, with
//! any spacing.

use std::fmt;

use rand::Rng;
use zeroize::{Zeroize, Zeroizing};

/// Random digits in a codename.
pub const RANDOM_DIGITS: usize = 30;
/// All digits, the check digits included.
pub const DIGITS: usize = RANDOM_DIGITS + 2;

/// A well-formed codename: its 32 ASCII digits, on the heap (so that moving
/// a codename copies a pointer, never the digits) and wiped when dropped.
pub struct Codename(Box<[u8; DIGITS]>);

/// What is wrong with a typed codename. Every case is shown to the source
/// as "this codename has a mistake", before any costly work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodenameError {
    #[error("no codename was typed")]
    Empty,
    #[error("a codename holds only digits")]
    NotDigits,
    #[error("a codename has {DIGITS} digits, this one {0}")]
    WrongLength(usize),
    #[error("the check digits do not match: a digit was mistyped")]
    Typo,
}

/// ISO 7064 MOD 97-10 check value of `digits` (ASCII).
fn mod97(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |acc, d| (acc * 10 + u32::from(d - b'0')) % 97)
}

/// The value of a digit in any script sealdrop accepts.
fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{0660}'..='\u{0669}' => Some((c as u32 - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => Some((c as u32 - 0x06F0) as u8),
        _ => None,
    }
}

/// Characters a source may put between digits: spaces of any kind, dashes,
/// dots, and the invisible marks that right-to-left keyboards insert.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '_' | '\u{200B}'..='\u{200F}' | '\u{061C}' | '\u{2066}'..='\u{2069}'
        )
}

impl Codename {
    /// A new codename from the OS random generator.
    pub fn generate() -> Codename {
        let mut digits = Box::new([0u8; DIGITS]);
        let mut rng = rand::rngs::OsRng;
        for d in digits.iter_mut().take(RANDOM_DIGITS) {
            *d = b'0' + rng.gen_range(0..10u8);
        }
        let check = 98 - (mod97(&digits[..RANDOM_DIGITS]) * 100) % 97;
        digits[RANDOM_DIGITS] = b'0' + (check / 10) as u8;
        digits[RANDOM_DIGITS + 1] = b'0' + (check % 10) as u8;
        Codename(digits)
    }

    /// Reads a codename as a source typed it.
    pub fn parse(typed: &str) -> Result<Codename, CodenameError> {
        let mut digits = Box::new([0u8; DIGITS]);
        let mut count = 0usize;
        for c in typed.chars() {
            if is_separator(c) {
                continue;
            }
            let value = digit_value(c).ok_or(CodenameError::NotDigits)?;
            if count < DIGITS {
                digits[count] = b'0' + value;
            }
            count += 1;
        }
        let result = match count {
            0 => Err(CodenameError::Empty),
            DIGITS if mod97(&digits[..]) == 1 => return Ok(Codename(digits)),
            DIGITS => Err(CodenameError::Typo),
            n => Err(CodenameError::WrongLength(n)),
        };
        digits.zeroize();
        result
    }

    /// The 32 digits as ASCII, the input of the key derivation.
    pub fn ascii(&self) -> &[u8] {
        &self.0[..]
    }

    /// The codename in groups of four, with `digits[0..10]` as the digits of
    /// the script to show it in.
    pub fn grouped_in(&self, digits: [char; 10]) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(DIGITS * 3));
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(digits[usize::from(d - b'0')]);
        }
        out
    }
}

impl fmt::Debug for Codename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Codename(…)")
    }
}

impl Drop for Codename {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Western digits.
pub const WESTERN: [char; 10] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/// Arabic-Indic digits (Arabic).
pub const ARABIC_INDIC: [char; 10] = ['٠', '١', '٢', '٣', '٤', '٥', '٦', '٧', '٨', '٩'];
/// Extended Arabic-Indic digits (Persian).
pub const PERSIAN: [char; 10] = ['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codenames_check_and_read_back_in_every_script() {
        let c = Codename::generate();
        assert_eq!(mod97(c.ascii()), 1);
        for script in [WESTERN, ARABIC_INDIC, PERSIAN] {
            let shown = c.grouped_in(script);
            assert_eq!(shown.chars().filter(|c| *c == ' ').count(), 7);
            assert_eq!(Codename::parse(&shown).unwrap().ascii(), c.ascii());
        }
        // Any spacing, dashes, and right-to-left marks.
        let western = c.grouped_in(WESTERN);
        let squashed: String = western.chars().filter(|c| *c != ' ').collect();
        let messy = format!(" \u{200F}{}-{} \t", &squashed[..10], &squashed[10..]);
        assert_eq!(Codename::parse(&messy).unwrap().ascii(), c.ascii());
        assert_ne!(Codename::generate().ascii(), c.ascii());
    }

    #[test]
    fn mistakes_are_told_apart() {
        let c = Codename::generate();
        let good: String = c.grouped_in(WESTERN).to_string();
        assert_eq!(Codename::parse("").unwrap_err(), CodenameError::Empty);
        assert_eq!(Codename::parse("  ").unwrap_err(), CodenameError::Empty);
        assert_eq!(
            Codename::parse("hello").unwrap_err(),
            CodenameError::NotDigits
        );
        assert_eq!(
            Codename::parse(&good[..10]).unwrap_err(),
            CodenameError::WrongLength(8)
        );
        assert_eq!(
            Codename::parse(&format!("{good}1")).unwrap_err(),
            CodenameError::WrongLength(33)
        );
    }

    proptest! {
        /// Every single-digit mistake and every swap of two neighbouring
        /// different digits is caught by the check digits.
        #[test]
        fn single_typos_and_swaps_are_caught(at in 0usize..DIGITS, to in 0u8..10, swap in 0usize..DIGITS - 1) {
            let c = Codename::generate();
            let mut typo = *c.0.clone();
            let wrong = b'0' + to;
            prop_assume!(typo[at] != wrong);
            typo[at] = wrong;
            prop_assert_eq!(
                Codename::parse(std::str::from_utf8(&typo).unwrap()).unwrap_err(),
                CodenameError::Typo
            );
            let mut swapped = *c.0.clone();
            prop_assume!(swapped[swap] != swapped[swap + 1]);
            swapped.swap(swap, swap + 1);
            prop_assert_eq!(
                Codename::parse(std::str::from_utf8(&swapped).unwrap()).unwrap_err(),
                CodenameError::Typo
            );
        }

        /// Whatever is typed, parsing never panics.
        #[test]
        fn any_input_parses_or_is_refused(typed in "\\PC{0,80}") {
            let _ = Codename::parse(&typed);
        }
    }
}
