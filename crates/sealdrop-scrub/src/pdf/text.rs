//! The words a PDF's pages show, for the desktop inbox's search: read from
//! the text operators of each page's content (`Tj`, `TJ`, `'`, `"`) through
//! the font that draws them. Only text that is plainly encoded is read: a
//! font with a `/ToUnicode` map (what word processors write, and what every
//! Arabic PDF needs), or a simple font whose codes are Latin letters
//! (WinAnsi, MacRoman, Standard or none). Everything else is said, not
//! guessed: text in fonts without a map (codes that are glyph numbers),
//! pages that draw no text (scans, drawings), contents in an encoding other
//! than Flate, and text inside form objects (`Do`) and annotations, which
//! this reader does not follow.

use std::collections::HashMap;
use std::io::Read;

use super::clean::{collect_pages, Page};
use super::object::{get, Document, Indirect, Lexer, Object, Token};
use crate::limits::{PDF_MAX_CONTENT_STREAM_BYTES, PDF_MAX_CONTENT_TOTAL, PDF_MAX_VALUES};
use crate::{NotCleaned, Searchable};

/// The most code-to-text entries one `/ToUnicode` map may give (a font of
/// every Unicode character has 150,000).
const MAX_MAP_ENTRIES: usize = 200_000;
/// The most codes one map's ranges may walk through in all, rewrites of the
/// same codes included: a map is read in bounded time whatever it repeats.
const MAX_MAP_STEPS: usize = 1_000_000;
/// The most UTF-16 units one code may stand for (a ligature is two or
/// three; an honest map never needs more).
const MAX_MAPPED_UNITS: usize = 64;

/// How a font's codes become text.
enum Decoder {
    /// A `/ToUnicode` map: codes of `width` bytes.
    Map {
        width: usize,
        codes: HashMap<u32, String>,
    },
    /// A simple font whose codes are WinAnsi-like Latin letters.
    Latin,
    /// Codes that say nothing readable (glyph numbers without a map).
    Unreadable,
}

impl Decoder {
    fn of(doc: &Document, font: &Object, read_so_far: &mut u64) -> Decoder {
        let Object::Dict(font) = doc.resolve(font) else {
            return Decoder::Unreadable;
        };
        if let Some(map) = get(font, b"ToUnicode") {
            if let Some(data) = stream_bytes(doc, map, read_so_far) {
                if let Some(decoder) = read_to_unicode(&data) {
                    return decoder;
                }
            }
        }
        let simple = matches!(
            get(font, b"Subtype").map(|s| doc.resolve(s)),
            Some(Object::Name(n)) if matches!(n.as_slice(), b"Type1" | b"TrueType" | b"MMType1")
        );
        let encoding_plain = match get(font, b"Encoding").map(|e| doc.resolve(e)) {
            None => true,
            Some(Object::Name(name)) => matches!(
                name.as_slice(),
                b"WinAnsiEncoding" | b"MacRomanEncoding" | b"StandardEncoding"
            ),
            // A base encoding with `/Differences`: letters may be renamed;
            // read as Latin, as most such fonts only add a few glyphs.
            Some(Object::Dict(_)) => true,
            Some(_) => false,
        };
        if simple && encoding_plain {
            Decoder::Latin
        } else {
            Decoder::Unreadable
        }
    }

    /// The text of a string shown in this font; `None` when unreadable.
    fn decode(&self, bytes: &[u8]) -> Option<String> {
        match self {
            Decoder::Unreadable => None,
            Decoder::Latin => Some(bytes.iter().map(|b| latin(*b)).collect()),
            Decoder::Map { width, codes } => {
                let mut text = String::new();
                for code in bytes.chunks((*width).max(1)) {
                    let code = code.iter().fold(0u32, |n, b| n << 8 | u32::from(*b));
                    match codes.get(&code) {
                        Some(mapped) => text.push_str(mapped),
                        None => text.push('\u{FFFD}'),
                    }
                }
                Some(text)
            }
        }
    }
}

/// WinAnsi's letters: Latin-1, with its own 0x80–0x9F.
fn latin(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[(byte - 0x80) as usize],
        _ => byte as char,
    }
}

/// An operand of a CMap or content-stream operator.
enum Operand {
    Str(Vec<u8>),
    Name(Vec<u8>),
    Number(f64),
    /// An array: strings and numbers (`TJ`'s kerning, `bfrange`'s list).
    Array(Vec<Operand>),
}

/// Reads the operands and operators of a CMap or a content stream, within
/// the cap on values, and hands each operator its operands.
fn operators(data: &[u8], mut visit: impl FnMut(&[u8], &[Operand], &mut Lexer) -> bool) {
    let mut lexer = Lexer::over(data);
    let mut operands: Vec<Operand> = Vec::new();
    let mut arrays: Vec<Vec<Operand>> = Vec::new();
    let mut values = 0usize;
    while let Ok(Some(token)) = lexer.token() {
        values += 1;
        if values > PDF_MAX_VALUES || arrays.len() > 8 {
            return;
        }
        let operand = match token {
            Token::String(s) => Operand::Str(s),
            Token::Name(n) => Operand::Name(n),
            Token::Int(n) => Operand::Number(n as f64),
            Token::Real(n) => Operand::Number(n),
            Token::ArrayOpen => {
                arrays.push(Vec::new());
                continue;
            }
            Token::ArrayClose => match arrays.pop() {
                Some(items) => Operand::Array(items),
                None => continue,
            },
            Token::DictOpen | Token::DictClose => continue,
            Token::Keyword(keyword) => {
                if arrays.is_empty() {
                    if !visit(keyword, &operands, &mut lexer) {
                        return;
                    }
                    operands.clear();
                }
                continue;
            }
        };
        match arrays.last_mut() {
            Some(array) => array.push(operand),
            None => operands.push(operand),
        }
    }
}

fn code_of(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0u32, |n, b| n << 8 | u32::from(*b))
}

fn utf16(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
        .collect()
}

/// A `/ToUnicode` CMap's `bfchar` and `bfrange` entries; `None` when it
/// maps nothing.
fn read_to_unicode(data: &[u8]) -> Option<Decoder> {
    let mut codes: HashMap<u32, String> = HashMap::new();
    let mut width = 0usize;
    let mut steps = 0usize;
    let text_of =
        |units: &[u16]| String::from_utf16_lossy(&units[..units.len().min(MAX_MAPPED_UNITS)]);
    operators(data, |operator, operands, _| {
        match operator {
            b"endbfchar" => {
                for pair in operands.chunks(2) {
                    if let [Operand::Str(from), Operand::Str(to)] = pair {
                        if (1..=4).contains(&from.len()) {
                            width = width.max(from.len());
                            codes.insert(code_of(from), text_of(&utf16(to)));
                        }
                    }
                }
            }
            b"endbfrange" => {
                for triple in operands.chunks(3) {
                    let [Operand::Str(low), Operand::Str(high), to] = triple else {
                        continue;
                    };
                    if !(1..=4).contains(&low.len()) {
                        continue;
                    }
                    let (first, last) = (code_of(low), code_of(high));
                    let count = (last.saturating_sub(first) as usize).saturating_add(1);
                    if last < first || count > MAX_MAP_ENTRIES - codes.len().min(MAX_MAP_ENTRIES) {
                        continue;
                    }
                    steps += count;
                    if steps > MAX_MAP_STEPS {
                        return false;
                    }
                    width = width.max(low.len());
                    match to {
                        // The last UTF-16 unit counts up through the range.
                        Operand::Str(start) if !start.is_empty() => {
                            let mut units = utf16(start);
                            units.truncate(MAX_MAPPED_UNITS);
                            for code in first..=last {
                                codes.insert(code, String::from_utf16_lossy(&units));
                                if let Some(unit) = units.last_mut() {
                                    *unit = unit.wrapping_add(1);
                                }
                            }
                        }
                        // One destination per code.
                        Operand::Array(each) => {
                            for (code, to) in (first..=last).zip(each) {
                                if let Operand::Str(to) = to {
                                    codes.insert(code, text_of(&utf16(to)));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        codes.len() < MAX_MAP_ENTRIES
    });
    (!codes.is_empty()).then_some(Decoder::Map { width, codes })
}

/// A stream's decoded bytes (no filter, or Flate), within the caps; `None`
/// for anything else.
fn stream_bytes(doc: &Document, value: &Object, read_so_far: &mut u64) -> Option<Vec<u8>> {
    let Object::Ref(number) = value else {
        return None;
    };
    let Some(Indirect::Stream(dict, range)) = doc.objects.get(number) else {
        return None;
    };
    let data = doc.file.get(range.clone())?;
    let filter = get(dict, b"Filter").map(|f| doc.resolve(f));
    let flate = match filter {
        None | Some(Object::Null) => false,
        Some(Object::Name(n)) if n == b"FlateDecode" || n == b"Fl" => true,
        Some(Object::Array(list)) => match list.as_slice() {
            [] => false,
            [one] if matches!(doc.resolve(one), Object::Name(n) if n == b"FlateDecode" || n == b"Fl") => {
                true
            }
            _ => return None,
        },
        _ => return None,
    };
    let room = PDF_MAX_CONTENT_TOTAL
        .saturating_sub(*read_so_far)
        .min(PDF_MAX_CONTENT_STREAM_BYTES);
    let mut out = Vec::new();
    if flate {
        // A stream cut short still gives what it inflated.
        let _ = flate2::read::ZlibDecoder::new(data)
            .take(room)
            .read_to_end(&mut out);
    } else {
        out.extend_from_slice(&data[..data.len().min(room as usize)]);
    }
    *read_so_far += out.len() as u64;
    Some(out)
}

/// What reading the pages found besides their text.
#[derive(Default)]
struct Tally {
    pages: usize,
    without_text: usize,
    unreadable_fonts: usize,
    unread_contents: usize,
}

/// The text of every page, in page order, and what was not read.
pub(crate) fn searchable(data: &[u8], cap: usize) -> Result<Searchable, NotCleaned> {
    let doc = Document::read(data)?;
    if get(&doc.trailer, b"Encrypt").is_some() {
        return Err(NotCleaned::new(
            "encrypted PDF: its text cannot be read without decrypting it",
        ));
    }
    let catalog = match doc.resolve(get(&doc.trailer, b"Root").unwrap_or(&Object::Null)) {
        Object::Dict(dict) => dict,
        _ => return Err(NotCleaned::new("PDF whose root is missing")),
    };
    let pages = collect_pages(&doc, catalog)?;
    let mut text = String::new();
    let mut tally = Tally::default();
    let mut read_so_far = 0u64;
    // Fonts are shared between pages: each read once.
    let mut fonts: HashMap<u32, Decoder> = HashMap::new();
    for page in &pages {
        if text.len() >= cap {
            break;
        }
        tally.pages += 1;
        let before = text.len();
        let page_fonts = page_fonts(&doc, page);
        let mut direct: HashMap<&[u8], Decoder> = HashMap::new();
        for (name, font) in &page_fonts {
            match font {
                Object::Ref(number) => {
                    if !fonts.contains_key(number) {
                        let decoder = Decoder::of(&doc, font, &mut read_so_far);
                        fonts.insert(*number, decoder);
                    }
                }
                _ => {
                    direct.insert(name, Decoder::of(&doc, font, &mut read_so_far));
                }
            }
        }
        let decoder_of = |name: &[u8]| -> Option<&Decoder> {
            match page_fonts.get(name)? {
                Object::Ref(number) => fonts.get(number),
                _ => direct.get(name),
            }
        };
        let mut unreadable = false;
        let mut unread = false;
        for content in contents(&doc, page) {
            let Some(bytes) = stream_bytes(&doc, content, &mut read_so_far) else {
                tally.unread_contents += 1;
                unread = true;
                continue;
            };
            unreadable |= show_text(&bytes, &decoder_of, &mut text, cap);
        }
        if unreadable {
            tally.unreadable_fonts += 1;
        }
        if text[before..].trim().is_empty() && !unreadable && !unread {
            tally.without_text += 1;
        }
        text.push('\n');
    }
    let text = reading_order(&text);
    let mut missed = Vec::new();
    if tally.unreadable_fonts > 0 {
        missed.push(format!(
            "{} of {} pages have text in fonts without a Unicode map: that text is not searched",
            tally.unreadable_fonts, tally.pages
        ));
    }
    if tally.without_text > 0 {
        missed.push(format!(
            "{} of {} pages draw no text (scans or drawings): nothing on them is searched",
            tally.without_text, tally.pages
        ));
    }
    if tally.unread_contents > 0 {
        missed.push(format!(
            "{} page contents in an encoding this reader does not decode are not searched",
            tally.unread_contents
        ));
    }
    if pages.len() > tally.pages || text.len() >= cap {
        missed.push(format!("only the first {cap} bytes of text are searched"));
    }
    missed.push("text in form objects, annotations and form fields is not searched".to_owned());
    Ok(Searchable { text, missed })
}

/// The text of each line in reading order, unshaped: a page draws
/// right-to-left words in visual order, often in Arabic presentation
/// forms (`ﺔﻨﻳﺪﻤﻟا` for `المدينة`). Reordering a visual line with the bidi
/// algorithm gives back the logical one for all but nested embeddings;
/// each line takes the direction of most of its letters. NFKC then
/// replaces presentation forms and ligatures by their letters.
fn reading_order(text: &str) -> String {
    use unicode_bidi::{bidi_class, BidiClass, BidiInfo, Level};
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (line, newline) = match line.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (line, ""),
        };
        let (mut rtl, mut ltr) = (0usize, 0usize);
        for c in line.chars() {
            match bidi_class(c) {
                BidiClass::R | BidiClass::AL => rtl += 1,
                BidiClass::L => ltr += 1,
                _ => {}
            }
        }
        if rtl == 0 {
            out.extend(line.nfkc());
        } else {
            let base = if rtl >= ltr {
                Level::rtl()
            } else {
                Level::ltr()
            };
            let info = BidiInfo::new(line, Some(base));
            for paragraph in &info.paragraphs {
                out.extend(info.reorder_line(paragraph, paragraph.range.clone()).nfkc());
            }
        }
        out.push_str(newline);
    }
    out
}

/// A page's fonts by resource name.
fn page_fonts<'d>(doc: &'d Document, page: &Page<'d>) -> HashMap<Vec<u8>, &'d Object> {
    let mut fonts = HashMap::new();
    let Some(Object::Dict(resources)) = page.get(&b"Resources"[..]).map(|r| doc.resolve(r)) else {
        return fonts;
    };
    if let Some(Object::Dict(list)) = get(resources, b"Font").map(|f| doc.resolve(f)) {
        for (name, font) in list {
            fonts.insert(name.clone(), font);
        }
    }
    fonts
}

/// A page's content streams, in order.
fn contents<'d>(doc: &'d Document, page: &Page<'d>) -> Vec<&'d Object> {
    match page.get(&b"Contents"[..]) {
        Some(reference @ Object::Ref(_)) => match doc.resolve(reference) {
            Object::Array(items) => items.iter().collect(),
            _ => vec![*reference],
        },
        Some(Object::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Appends the text a content stream shows to `text` (up to about `cap`
/// bytes); true when some of it was in a font that could not be read.
fn show_text<'d>(
    content: &[u8],
    decoder_of: &impl Fn(&[u8]) -> Option<&'d Decoder>,
    text: &mut String,
    cap: usize,
) -> bool {
    let mut font: Option<&Decoder> = None;
    let mut unreadable = false;
    let mut show = |font: Option<&Decoder>, shown: &[u8], text: &mut String| {
        // One string can stand for far more text than its bytes: checked
        // before it is decoded, not only after.
        if shown.is_empty() || text.len() >= cap {
            return;
        }
        match font.and_then(|f| f.decode(shown)) {
            Some(words) => text.push_str(&words),
            None => unreadable = true,
        }
    };
    let space = |text: &mut String| {
        if !text.is_empty() && !text.ends_with([' ', '\n']) {
            text.push(' ');
        }
    };
    let line_break = |text: &mut String| {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    };
    let mut line_y: Option<f64> = None;
    operators(content, |operator, operands, lexer| {
        match (operator, operands) {
            (b"Tf", [Operand::Name(name), ..]) => font = decoder_of(name),
            (b"Tj", [.., Operand::Str(shown)]) => show(font, shown, text),
            (b"'" | b"\"", [.., Operand::Str(shown)]) => {
                line_break(text);
                show(font, shown, text);
            }
            (b"TJ", [.., Operand::Array(items)]) => {
                for item in items {
                    match item {
                        Operand::Str(shown) => show(font, shown, text),
                        // A gap wider than about a fifth of the type's
                        // size is a space between words.
                        Operand::Number(gap) if *gap < -180.0 => space(text),
                        _ => {}
                    }
                }
            }
            // A move down starts a new line; a move along, a new word.
            (b"Td" | b"TD", [.., Operand::Number(_), Operand::Number(down)]) => {
                if *down != 0.0 {
                    line_break(text)
                } else {
                    space(text)
                }
            }
            (b"Tm", [.., Operand::Number(_), Operand::Number(y)]) => {
                if line_y.is_some_and(|before| before != *y) {
                    line_break(text)
                } else {
                    space(text)
                }
                line_y = Some(*y);
            }
            (b"T*", _) => line_break(text),
            // Browsers put each word in a text object of its own: the end
            // of one is not the end of a line.
            (b"ET", _) => space(text),
            (b"BI", _) => skip_inline_picture(lexer),
            _ => {}
        }
        text.len() < cap
    });
    unreadable
}

/// Moves past an inline picture's data (`ID` … `EI`), which is not PDF
/// syntax and would otherwise be read as operators.
fn skip_inline_picture(lexer: &mut Lexer) {
    let data = lexer.data;
    let Some(id) = find(data, lexer.at, b"ID") else {
        lexer.at = data.len();
        return;
    };
    let mut at = id + 2;
    while let Some(end) = find(data, at, b"EI") {
        let before = end.checked_sub(1).map(|i| data[i]);
        let after = data.get(end + 2).copied();
        if before.is_some_and(|b| b.is_ascii_whitespace())
            && after.is_none_or(|b| b.is_ascii_whitespace())
        {
            lexer.at = end + 2;
            return;
        }
        at = end + 2;
    }
    lexer.at = data.len();
}

fn find(data: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    memchr::memmem::find(data.get(from..)?, what).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_maps_give_text_by_char_and_by_range() {
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
            1 begincodespacerange <0000> <FFFF> endcodespacerange
            2 beginbfchar <0003> <0020> <0011> <002E> endbfchar
            2 beginbfrange <0044> <005D> <0061> <1000> <1001> [<0627> <FEFB>] endbfrange
            endcmap end end";
        let decoder = read_to_unicode(cmap).expect("a map");
        assert_eq!(
            decoder.decode(&[0, 0x44, 0, 0x45, 0, 3, 0x10, 0, 0x10, 1, 0, 0x11, 0x99, 0x99]),
            Some("ab \u{627}\u{FEFB}.\u{FFFD}".to_owned())
        );
        assert!(read_to_unicode(b"begincmap endcmap").is_none());
    }

    #[test]
    fn right_to_left_lines_drawn_in_visual_order_read_in_logical_order() {
        // As Chromium draws "غادرت القافلة 12": shaped forms, right to left.
        assert_eq!(reading_order("12 ﺔﻠﻓﺎﻘﻟا تردﺎﻏ"), "غادرت القافلة 12");
        assert_eq!(reading_order("fine ﬁsh\nx"), "fine fish\nx");
    }
}
