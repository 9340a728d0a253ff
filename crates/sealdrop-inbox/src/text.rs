//! What the inbox shows of a stranger's text: one paragraph at a time, each
//! in its own direction (an Arabic paragraph right to left beside an
//! English one), with control characters that could disguise it made
//! visible; and the byte count a reply is held to.

use sealdrop_format::terminal::display_safe;

/// A paragraph's direction, by its first strong letter (the Unicode bidi
/// algorithm's rule P2–P3); a paragraph without one follows the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    LeftToRight,
    RightToLeft,
    Neutral,
}

/// The paragraphs of `text` (split at blank lines; single line breaks
/// kept inside a paragraph), each with its direction.
pub fn paragraphs(text: &str) -> Vec<(String, Direction)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let normalized = text.replace("\r\n", "\n");
    for line in normalized.split('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|p| {
            let shown = visible(&p);
            let direction = direction_of(&shown);
            (shown, direction)
        })
        .collect()
}

/// The direction of a paragraph by its first strong letter.
pub fn direction_of(text: &str) -> Direction {
    match unicode_bidi::get_base_direction(text) {
        unicode_bidi::Direction::Rtl => Direction::RightToLeft,
        unicode_bidi::Direction::Ltr => Direction::LeftToRight,
        unicode_bidi::Direction::Mixed => Direction::Neutral,
    }
}

/// `text` with every control and bidi-override character shown as a
/// visible escape (each line kept), so that a source's text cannot reorder
/// what is around it or hide words.
pub fn visible(text: &str) -> String {
    text.split('\n')
        .map(display_safe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first words of a message for a list, on one line.
pub fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = display_safe(&flat);
    let mut out: String = flat.chars().take(PREVIEW_CHARS).collect();
    if flat.chars().count() > PREVIEW_CHARS {
        out.push('…');
    }
    out
}

const PREVIEW_CHARS: usize = 90;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_paragraph_gets_its_own_direction() {
        let text =
            "مرحبا، هذه رسالة.\nسطر ثانٍ.\n\nHello, this is English.\n\n\n123 — 456\n\nسلام (hello)";
        let got = paragraphs(text);
        let directions: Vec<_> = got.iter().map(|(_, d)| *d).collect();
        assert_eq!(
            directions,
            [
                Direction::RightToLeft,
                Direction::LeftToRight,
                Direction::Neutral,
                Direction::RightToLeft
            ]
        );
        assert_eq!(got[0].0, "مرحبا، هذه رسالة.\nسطر ثانٍ.");
        // Kurdish (Kurmanji) is written in Latin letters: left to right.
        assert_eq!(direction_of("Silav, ev peyam e."), Direction::LeftToRight);
        // Persian.
        assert_eq!(direction_of("«سلام» گفت"), Direction::RightToLeft);
    }

    #[test]
    fn bidi_overrides_and_controls_are_made_visible() {
        let shown = visible("invoice\u{202E}fdp.exe\u{7}");
        assert!(
            !shown.contains('\u{202E}') && !shown.contains('\u{7}'),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn paragraphs_keep_every_word_and_no_blank_paragraph(text in "[a-zب-ي \\n]{0,200}") {
            let got = paragraphs(&text);
            let words: Vec<&str> = text.split_whitespace().collect();
            let kept: Vec<String> = got.iter().map(|(p, _)| p.clone()).collect();
            let kept_words: Vec<&str> = kept.iter().flat_map(|p| p.split_whitespace()).collect();
            prop_assert_eq!(words, kept_words);
            prop_assert!(got.iter().all(|(p, _)| !p.trim().is_empty()));
        }

        #[test]
        fn a_preview_is_one_short_line(text in "\\PC{0,400}") {
            let p = preview(&text);
            prop_assert!(!p.contains('\n'));
            prop_assert!(p.chars().count() <= PREVIEW_CHARS * 8 + 1);
        }
    }
}
