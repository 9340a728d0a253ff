//! PDF objects read from a stranger's file, for the cleaner in `clean.rs`.
//!
//! The file is read the way a repairing reader reads it: from its first
//! byte to its last, every `N G obj … endobj` in order, a later definition
//! of a number replacing an earlier one (which is what an incremental
//! update does), then the objects packed in object streams. The cross-
//! reference tables are not trusted: a hostile or damaged table could point
//! anywhere, and the cleaner keeps only what the pages reach anyway.
//!
//! Hand-written because no PDF crate fits the offline tool: `lopdf`, the
//! well-kept one, brings a second crypto stack, a random number generator
//! and brotli into `sealdrop-open`, and it recurses without a bound on
//! nesting. Here nesting, values, objects and inflated bytes are capped
//! (NOT CLEANED beyond them), and nothing follows a reference while reading,
//! so a reference loop cannot hang it.

use crate::limits::{
    PDF_MAX_NESTING, PDF_MAX_OBJECTS, PDF_MAX_OBJECT_STREAMS_TOTAL, PDF_MAX_OBJECT_STREAM_BYTES,
    PDF_MAX_VALUES,
};
use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;

use super::super::NotCleaned;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Object {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    String(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(u32),
}

/// A dictionary, in the order it was written.
pub(super) type Dict = Vec<(Vec<u8>, Object)>;

pub(super) fn get<'d>(dict: &'d Dict, key: &[u8]) -> Option<&'d Object> {
    dict.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// An object as the file defines it under its number.
#[derive(Debug)]
pub(super) enum Indirect {
    Plain(Object),
    /// A stream: its dictionary, and where its (still encoded) bytes lie
    /// in the file.
    Stream(Dict, Range<usize>),
}

/// Every object of a file, the last definition of each number, and the
/// trailer that names the document's root.
pub(super) struct Document<'a> {
    pub file: &'a [u8],
    pub objects: HashMap<u32, Indirect>,
    /// The latest trailer dictionary (or cross-reference stream dictionary)
    /// that names a root.
    pub trailer: Dict,
}

/// Where a definition was found, so that a later one wins.
type Position = usize;

impl<'a> Document<'a> {
    pub(super) fn read(file: &'a [u8]) -> Result<Document<'a>, NotCleaned> {
        let mut lexer = Lexer {
            data: file,
            at: 0,
            values: 0,
        };
        let mut objects: HashMap<u32, (Position, Indirect)> = HashMap::new();
        let mut trailers: Vec<(Position, Dict)> = Vec::new();
        let mut object_streams: Vec<(Position, u32)> = Vec::new();
        // The two integers before `obj`.
        let mut recent: [Option<i64>; 2] = [None, None];
        while let Some(token) = lexer.token()? {
            match token {
                Token::Int(n) => {
                    recent = [recent[1], Some(n)];
                    continue;
                }
                Token::Keyword(b"obj") => {
                    let (Some(number), Some(_generation)) = (recent[0], recent[1]) else {
                        recent = [None, None];
                        continue;
                    };
                    let position = lexer.at;
                    let value = lexer.object(0)?;
                    let indirect = match (value, lexer.stream_follows()) {
                        (Object::Dict(dict), true) => {
                            let data = lexer.stream_data(&dict)?;
                            Indirect::Stream(dict, data)
                        }
                        (value, _) => Indirect::Plain(value),
                    };
                    let Ok(number) = u32::try_from(number) else {
                        recent = [None, None];
                        continue;
                    };
                    if is_object_stream(&indirect) {
                        object_streams.push((position, number));
                    }
                    if let Indirect::Stream(dict, _) = &indirect {
                        if matches!(get(dict, b"Type"), Some(Object::Name(n)) if n == b"XRef") {
                            trailers.push((position, dict.clone()));
                        }
                    }
                    objects.insert(number, (position, indirect));
                    if objects.len() > PDF_MAX_OBJECTS {
                        return Err(NotCleaned::new(format!(
                            "PDF with more than {PDF_MAX_OBJECTS} objects"
                        )));
                    }
                }
                Token::Keyword(b"trailer") => {
                    let position = lexer.at;
                    if let Object::Dict(dict) = lexer.object(0)? {
                        trailers.push((position, dict));
                    }
                }
                Token::Keyword(b"stream") => lexer.skip_stray_stream(),
                _ => {}
            }
            recent = [None, None];
        }
        let mut inflated_total = 0u64;
        object_streams.sort_unstable();
        for (position, number) in object_streams {
            let Some((_, Indirect::Stream(dict, range))) = objects.get(&number) else {
                continue;
            };
            let (dict, range) = (dict.clone(), range.clone());
            let packed = inflate_object_stream(&dict, &file[range], &mut inflated_total)?;
            let dict = &dict;
            let first = match get(dict, b"First") {
                Some(Object::Int(n)) => usize::try_from(*n).unwrap_or(usize::MAX),
                _ => continue,
            };
            let count = match get(dict, b"N") {
                Some(Object::Int(n)) => usize::try_from(*n).unwrap_or(0),
                _ => continue,
            };
            let mut inner = Lexer {
                data: &packed,
                at: 0,
                values: lexer.values,
            };
            let mut offsets = Vec::new();
            for _ in 0..count.min(PDF_MAX_OBJECTS) {
                match (inner.token()?, inner.token()?) {
                    (Some(Token::Int(number)), Some(Token::Int(offset))) => {
                        offsets.push((number, offset))
                    }
                    _ => break,
                }
            }
            for (number, offset) in offsets {
                let (Ok(number), Ok(offset)) = (u32::try_from(number), usize::try_from(offset))
                else {
                    continue;
                };
                let Some(at) = first.checked_add(offset).filter(|at| *at < packed.len()) else {
                    continue;
                };
                inner.at = at;
                let value = inner.object(0)?;
                // An object stream's objects are as new as the stream: a
                // later plain definition still replaces them.
                if objects.get(&number).is_none_or(|(p, _)| *p < position) {
                    objects.insert(number, (position, Indirect::Plain(value)));
                }
            }
            lexer.values = inner.values;
            if objects.len() > PDF_MAX_OBJECTS {
                return Err(NotCleaned::new(format!(
                    "PDF with more than {PDF_MAX_OBJECTS} objects"
                )));
            }
        }
        trailers.sort_by_key(|(position, _)| *position);
        let trailer = trailers
            .into_iter()
            .rev()
            .map(|(_, dict)| dict)
            .find(|dict| get(dict, b"Root").is_some())
            .ok_or_else(|| NotCleaned::new("PDF without a trailer naming its root"))?;
        let mut objects: HashMap<u32, Indirect> =
            objects.into_iter().map(|(n, (_, o))| (n, o)).collect();
        fix_indirect_lengths(&mut objects, file);
        Ok(Document {
            file,
            objects,
            trailer,
        })
    }

    /// What a reference (or a direct value) stands for; a reference to
    /// nothing is null, as the format says.
    pub(super) fn resolve<'o>(&'o self, value: &'o Object) -> &'o Object {
        match value {
            Object::Ref(number) => match self.objects.get(number) {
                Some(Indirect::Plain(object)) => object,
                _ => &Object::Null,
            },
            other => other,
        }
    }
}

fn is_object_stream(indirect: &Indirect) -> bool {
    matches!(indirect, Indirect::Stream(dict, _)
        if matches!(get(dict, b"Type"), Some(Object::Name(n)) if n == b"ObjStm"))
}

fn inflate_object_stream(
    dict: &Dict,
    encoded: &[u8],
    inflated_total: &mut u64,
) -> Result<Vec<u8>, NotCleaned> {
    let filter_is_flate = match get(dict, b"Filter") {
        Some(Object::Name(name)) => name == b"FlateDecode",
        Some(Object::Array(names)) => {
            names.len() == 1 && names[0] == Object::Name(b"FlateDecode".to_vec())
        }
        None => return Ok(encoded.to_vec()),
        _ => false,
    };
    if !filter_is_flate || get(dict, b"DecodeParms").is_some() {
        return Err(NotCleaned::new(
            "PDF object stream in an encoding sealdrop-open does not read",
        ));
    }
    let mut packed = Vec::new();
    let _ = flate2::read::ZlibDecoder::new(encoded)
        .take(PDF_MAX_OBJECT_STREAM_BYTES + 1)
        .read_to_end(&mut packed);
    if packed.len() as u64 > PDF_MAX_OBJECT_STREAM_BYTES {
        return Err(NotCleaned::new(format!(
            "PDF object stream inflating beyond {PDF_MAX_OBJECT_STREAM_BYTES} bytes"
        )));
    }
    *inflated_total += packed.len() as u64;
    if *inflated_total > PDF_MAX_OBJECT_STREAMS_TOTAL {
        return Err(NotCleaned::new(format!(
            "PDF object streams inflating beyond {PDF_MAX_OBJECT_STREAMS_TOTAL} bytes in all"
        )));
    }
    Ok(packed)
}

/// A stream whose `/Length` is a reference was cut at the first
/// `endstream`; where the length it names ends just before that (the
/// end-of-line before `endstream` is not data), it is believed.
fn fix_indirect_lengths(objects: &mut HashMap<u32, Indirect>, file: &[u8]) {
    let lengths: HashMap<u32, usize> = objects
        .iter()
        .filter_map(|(number, object)| match object {
            Indirect::Plain(Object::Int(n)) => Some((*number, usize::try_from(*n).ok()?)),
            _ => None,
        })
        .collect();
    for object in objects.values_mut() {
        let Indirect::Stream(dict, range) = object else {
            continue;
        };
        let Some(Object::Ref(number)) = get(dict, b"Length") else {
            continue;
        };
        let Some(length) = lengths.get(number) else {
            continue;
        };
        let end = range.start.saturating_add(*length);
        if end > range.end && end - range.end <= 2 && end <= file.len() {
            *range = range.start..end;
        }
    }
}

#[derive(Debug, PartialEq)]
pub(super) enum Token<'a> {
    Int(i64),
    Real(f64),
    String(Vec<u8>),
    Name(Vec<u8>),
    ArrayOpen,
    ArrayClose,
    DictOpen,
    DictClose,
    Keyword(&'a [u8]),
}

pub(super) struct Lexer<'a> {
    pub(super) data: &'a [u8],
    pub(super) at: usize,
    values: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer over a content stream or a CMap (no objects in it).
    pub(super) fn over(data: &'a [u8]) -> Lexer<'a> {
        Lexer {
            data,
            at: 0,
            values: 0,
        }
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(byte: u8) -> bool {
    !is_space(byte) && !is_delimiter(byte)
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

impl<'a> Lexer<'a> {
    fn skip_space_and_comments(&mut self) {
        while let Some(&byte) = self.data.get(self.at) {
            if is_space(byte) {
                self.at += 1;
            } else if byte == b'%' {
                while self
                    .data
                    .get(self.at)
                    .is_some_and(|b| *b != b'\n' && *b != b'\r')
                {
                    self.at += 1;
                }
            } else {
                break;
            }
        }
    }

    fn count_value(&mut self) -> Result<(), NotCleaned> {
        self.values += 1;
        if self.values > PDF_MAX_VALUES {
            return Err(NotCleaned::new(format!(
                "PDF with more than {PDF_MAX_VALUES} values"
            )));
        }
        Ok(())
    }

    /// The next token; `None` at the end of the data. Bytes that begin no
    /// token (a stray `)`) are passed over, one at a time.
    pub(super) fn token(&mut self) -> Result<Option<Token<'a>>, NotCleaned> {
        loop {
            self.skip_space_and_comments();
            let Some(&byte) = self.data.get(self.at) else {
                return Ok(None);
            };
            let start = self.at;
            self.at += 1;
            let token = match byte {
                b'[' => Token::ArrayOpen,
                b']' => Token::ArrayClose,
                b'<' if self.data.get(self.at) == Some(&b'<') => {
                    self.at += 1;
                    Token::DictOpen
                }
                b'>' if self.data.get(self.at) == Some(&b'>') => {
                    self.at += 1;
                    Token::DictClose
                }
                b'<' => Token::String(self.hex_string()),
                b'(' => Token::String(self.literal_string()),
                b'/' => Token::Name(self.name()),
                b'+' | b'-' | b'.' | b'0'..=b'9' => {
                    while self.data.get(self.at).is_some_and(|b| is_regular(*b)) {
                        self.at += 1;
                    }
                    match number(&self.data[start..self.at]) {
                        Some(token) => token,
                        None => Token::Keyword(&self.data[start..self.at]),
                    }
                }
                b')' | b'>' | b'{' | b'}' => continue,
                _ => {
                    while self.data.get(self.at).is_some_and(|b| is_regular(*b)) {
                        self.at += 1;
                    }
                    Token::Keyword(&self.data[start..self.at])
                }
            };
            return Ok(Some(token));
        }
    }

    fn hex_string(&mut self) -> Vec<u8> {
        let mut digits = Vec::new();
        while let Some(&byte) = self.data.get(self.at) {
            self.at += 1;
            if byte == b'>' {
                break;
            }
            if let Some(value) = hex_value(byte) {
                digits.push(value);
            } else if !is_space(byte) {
                // Not a hex string after all: stop here rather than read
                // the rest of the file as one.
                self.at -= 1;
                break;
            }
        }
        digits
            .chunks(2)
            .map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0))
            .collect()
    }

    fn literal_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(&byte) = self.data.get(self.at) {
            self.at += 1;
            match byte {
                b'\\' => {
                    let Some(&escaped) = self.data.get(self.at) else {
                        break;
                    };
                    self.at += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.data.get(self.at) == Some(&b'\n') {
                                self.at += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut value = u32::from(escaped - b'0');
                            for _ in 0..2 {
                                match self.data.get(self.at) {
                                    Some(d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.at += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(value as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'(' => {
                    depth += 1;
                    out.push(byte);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(byte);
                }
                _ => out.push(byte),
            }
        }
        out
    }

    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(&byte) = self.data.get(self.at).filter(|b| is_regular(**b)) {
            self.at += 1;
            if byte == b'#' {
                let pair = self.data.get(self.at..self.at + 2);
                if let Some(&[high, low]) = pair {
                    if let (Some(h), Some(l)) = (hex_value(high), hex_value(low)) {
                        out.push(h << 4 | l);
                        self.at += 2;
                        continue;
                    }
                }
            }
            out.push(byte);
        }
        out
    }

    /// One object, with `depth` containers around it.
    fn object(&mut self, depth: usize) -> Result<Object, NotCleaned> {
        if depth > PDF_MAX_NESTING {
            return Err(NotCleaned::new(format!(
                "PDF objects nested more than {PDF_MAX_NESTING} deep"
            )));
        }
        self.count_value()?;
        let Some(token) = self.token()? else {
            return Ok(Object::Null);
        };
        Ok(match token {
            Token::Int(n) => {
                // `N G R` is a reference.
                let before = self.at;
                if let (Some(Token::Int(_)), Ok(number)) = (self.token()?, u32::try_from(n)) {
                    if let Some(Token::Keyword(b"R")) = self.token()? {
                        return Ok(Object::Ref(number));
                    }
                }
                self.at = before;
                Object::Int(n)
            }
            Token::Real(r) => Object::Real(r),
            Token::String(s) => Object::String(s),
            Token::Name(n) => Object::Name(n),
            Token::Keyword(b"true") => Object::Bool(true),
            Token::Keyword(b"false") => Object::Bool(false),
            Token::ArrayOpen => {
                let mut items = Vec::new();
                loop {
                    let before = self.at;
                    match self.token()? {
                        None | Some(Token::ArrayClose) => break,
                        Some(Token::DictClose | Token::Keyword(b"endobj" | b"stream")) => {
                            // A broken array: leave the keyword to the caller.
                            self.at = before;
                            break;
                        }
                        Some(_) => {
                            self.at = before;
                            items.push(self.object(depth + 1)?);
                        }
                    }
                }
                Object::Array(items)
            }
            Token::DictOpen => {
                let mut dict = Dict::new();
                loop {
                    let before = self.at;
                    match self.token()? {
                        None | Some(Token::DictClose) => break,
                        Some(Token::Name(key)) => {
                            let value = self.object(depth + 1)?;
                            // The format says a later duplicate key is an
                            // error; keep the first, as readers do.
                            if get(&dict, &key).is_none() {
                                dict.push((key, value));
                            }
                        }
                        Some(Token::ArrayClose | Token::Keyword(b"endobj" | b"stream")) => {
                            self.at = before;
                            break;
                        }
                        Some(_) => {}
                    }
                }
                Object::Dict(dict)
            }
            // `null`, a keyword out of place, a stray `]` or `>>`.
            _ => Object::Null,
        })
    }

    fn stream_follows(&mut self) -> bool {
        let before = self.at;
        self.skip_space_and_comments();
        if self.data[self.at..].starts_with(b"stream")
            && self.data.get(self.at + 6).is_none_or(|b| !is_regular(*b))
        {
            self.at += 6;
            true
        } else {
            self.at = before;
            false
        }
    }

    /// A stream's bytes, just after the `stream` keyword: `/Length` of them
    /// when `endstream` follows there, else up to the first `endstream`.
    fn stream_data(&mut self, dict: &Dict) -> Result<Range<usize>, NotCleaned> {
        match self.data.get(self.at) {
            Some(b'\r') if self.data.get(self.at + 1) == Some(&b'\n') => self.at += 2,
            Some(b'\r' | b'\n') => self.at += 1,
            _ => {}
        }
        let start = self.at;
        if let Some(Object::Int(length)) = get(dict, b"Length") {
            if let Some(end) = usize::try_from(*length)
                .ok()
                .and_then(|l| start.checked_add(l))
                .filter(|end| *end <= self.data.len())
            {
                let mut after = end;
                while self.data.get(after).is_some_and(|b| is_space(*b)) {
                    after += 1;
                }
                if self.data[after..].starts_with(b"endstream") {
                    self.at = after + 9;
                    return Ok(start..end);
                }
            }
        }
        let Some(found) = memchr::memmem::find(&self.data[start..], b"endstream") else {
            return Err(NotCleaned::new("PDF stream without its end"));
        };
        let mut end = start + found;
        self.at = end + 9;
        if end > start && self.data[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && self.data[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(start..end)
    }

    /// `stream` where no dictionary came before it: its bytes are not
    /// tokens, so they are stepped over.
    fn skip_stray_stream(&mut self) {
        self.at = memchr::memmem::find(&self.data[self.at..], b"endstream")
            .map_or(self.data.len(), |p| self.at + p + 9);
    }
}

fn number(text: &[u8]) -> Option<Token<'_>> {
    let text = std::str::from_utf8(text).ok()?;
    if !text.contains('.') {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Token::Int(n));
        }
    }
    let digits = text.trim_start_matches(['+', '-']);
    if digits.is_empty()
        || digits.matches('.').count() > 1
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || digits == "."
    {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    Some(Token::Real(if value.is_finite() { value } else { 0.0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Object {
        Lexer {
            data: text,
            at: 0,
            values: 0,
        }
        .object(0)
        .unwrap()
    }

    #[test]
    fn values_read_as_the_format_writes_them() {
        assert_eq!(
            parse(b"<< /A#20B (x\\(y\\)\\101) /C [1 -2.5 .5 3 0 R <4142 3>] /D true >>"),
            Object::Dict(vec![
                (b"A B".to_vec(), Object::String(b"x(y)A".to_vec())),
                (
                    b"C".to_vec(),
                    Object::Array(vec![
                        Object::Int(1),
                        Object::Real(-2.5),
                        Object::Real(0.5),
                        Object::Ref(3),
                        Object::String(b"AB0".to_vec()),
                    ])
                ),
                (b"D".to_vec(), Object::Bool(true)),
            ])
        );
    }

    #[test]
    fn nesting_beyond_the_cap_is_refused_not_recursed() {
        let deep = [b"[".repeat(100_000), b"]".repeat(100_000)].concat();
        let mut lexer = Lexer {
            data: &deep,
            at: 0,
            values: 0,
        };
        assert!(lexer.object(0).is_err());
    }

    #[test]
    fn a_later_definition_replaces_an_earlier_one() {
        let file = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n2 0 obj (old) endobj\ntrailer << /Root 1 0 R >>\n2 0 obj (new) endobj\ntrailer << /Root 1 0 R /Prev 0 >>\n";
        let doc = Document::read(file).unwrap();
        assert!(
            matches!(doc.objects.get(&2), Some(Indirect::Plain(Object::String(s))) if s == b"new")
        );
        assert!(get(&doc.trailer, b"Prev").is_some());
    }
}
