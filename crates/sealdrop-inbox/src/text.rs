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

/// A time as the manifest or a reply's copy records it (RFC 3339, UTC),
/// shown to the minute ("2026-12-06 17:00 UTC"), isolated left to right so
/// that an Arabic or Persian sentence around it cannot reorder its digits;
/// anything else is shown as it is, made visible.
pub fn moment(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(at) = time::OffsetDateTime::parse(rfc3339, &Rfc3339) else {
        return visible(rfc3339);
    };
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "\u{2066}{:04}-{:02}-{:02} {:02}:{:02} UTC\u{2069}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn times_are_shown_to_the_minute_and_isolated() {
        assert_eq!(
            moment("2026-12-06T17:04:59Z"),
            "\u{2066}2026-12-06 17:04 UTC\u{2069}"
        );
        assert_eq!(moment("soon\u{202E}"), "soon\u{FFFD}");
    }

    #[test]
    fn bidi_overrides_and_controls_are_made_visible() {
        let shown = visible("invoice\u{202E}fdp.exe\u{7}");
        assert!(
            !shown.contains('\u{202E}') && !shown.contains('\u{7}'),
            "{shown}"
        );
    }
}
