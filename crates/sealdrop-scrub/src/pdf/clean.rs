//! A PDF rebuilt from what its pages draw, and nothing else.
//!
//! The new file has one revision: a catalog naming only the page tree, one
//! flat page tree, and each page with the keys that place and draw it
//! (boxes, rotation, resources, content, transparency group). Everything the
//! pages reach is copied through an allowlist of the keys that drawing needs
//! (fonts, pictures, forms, colour, shading, patterns, functions, graphics
//! states); any other key is left out. So the document information, XMP,
//! earlier revisions, JavaScript and actions, annotations (comments, links,
//! form fields), embedded files, bookmarks, thumbnails, application data,
//! the structure tree and the file identifier all stay behind without being
//! named one by one. JPEG pictures inside are cleaned by the JPEG cleaner.
//!
//! Objects are numbered in the order the pages reach them, so cleaning a
//! cleaned file gives the same bytes.

use crate::limits::{
    MAX_RECORDS, PDF_MAX_CONTENT_STREAM_BYTES, PDF_MAX_CONTENT_TOTAL, PDF_MAX_PAGE_TREE_DEPTH,
};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io::Read;

use super::object::{get, Dict, Document, Indirect, Object};
use crate::{jpeg, NotCleaned, Scrubbed};

/// Keys of the dictionaries pages draw with (fonts and their descriptors,
/// encodings and CMaps, pictures, forms and groups, graphics states and soft
/// masks, colour spaces, patterns, shadings, functions, stream filters and
/// optional content). Anything else is not needed to draw and is left out.
const DRAWING_KEYS: &[&[u8]] = &[
    // Any dictionary, any stream.
    b"Type",
    b"Subtype",
    b"Length",
    b"Filter",
    b"DecodeParms",
    // Fonts.
    b"BaseFont",
    b"FirstChar",
    b"LastChar",
    b"Widths",
    b"FontDescriptor",
    b"Encoding",
    b"ToUnicode",
    b"DescendantFonts",
    b"CIDSystemInfo",
    b"Registry",
    b"Ordering",
    b"Supplement",
    b"DW",
    b"W",
    b"DW2",
    b"W2",
    b"CIDToGIDMap",
    b"FontBBox",
    b"FontMatrix",
    b"Name",
    b"BaseEncoding",
    b"Differences",
    b"CMapName",
    b"UseCMap",
    b"WMode",
    b"FontName",
    b"FontFamily",
    b"FontStretch",
    b"FontWeight",
    b"Flags",
    b"ItalicAngle",
    b"Ascent",
    b"Descent",
    b"Leading",
    b"CapHeight",
    b"XHeight",
    b"StemV",
    b"StemH",
    b"AvgWidth",
    b"MaxWidth",
    b"MissingWidth",
    b"FontFile",
    b"FontFile2",
    b"FontFile3",
    b"CharSet",
    b"Style",
    b"Lang",
    b"FD",
    b"CIDSet",
    b"Length1",
    b"Length2",
    b"Length3",
    // Pictures and forms.
    b"Width",
    b"Height",
    b"ColorSpace",
    b"BitsPerComponent",
    b"Intent",
    b"ImageMask",
    b"Mask",
    b"Decode",
    b"Interpolate",
    b"SMask",
    b"SMaskInData",
    b"Matte",
    b"FormType",
    b"BBox",
    b"Matrix",
    b"Group",
    b"S",
    b"CS",
    b"I",
    b"K",
    // Graphics states and soft masks.
    b"LW",
    b"LC",
    b"LJ",
    b"ML",
    b"D",
    b"RI",
    b"OP",
    b"op",
    b"OPM",
    b"Font",
    b"BG",
    b"BG2",
    b"UCR",
    b"UCR2",
    b"TR",
    b"TR2",
    b"HT",
    b"FL",
    b"SM",
    b"SA",
    b"BM",
    b"CA",
    b"ca",
    b"AIS",
    b"TK",
    b"G",
    b"BC",
    b"HalftoneType",
    b"Frequency",
    b"Angle",
    b"SpotFunction",
    b"AccurateScreens",
    b"TransferFunction",
    // Colour spaces.
    b"N",
    b"Alternate",
    b"Range",
    b"WhitePoint",
    b"BlackPoint",
    b"Gamma",
    b"Process",
    b"Components",
    // Patterns, shadings, functions.
    b"PatternType",
    b"PaintType",
    b"TilingType",
    b"XStep",
    b"YStep",
    b"Shading",
    b"ExtGState",
    b"ShadingType",
    b"Background",
    b"AntiAlias",
    b"Coords",
    b"Domain",
    b"Function",
    b"Extend",
    b"BitsPerCoordinate",
    b"BitsPerFlag",
    b"VerticesPerRow",
    b"FunctionType",
    b"Size",
    b"BitsPerSample",
    b"Order",
    b"Encode",
    b"C0",
    b"C1",
    b"Functions",
    b"Bounds",
    // Filter parameters.
    b"Predictor",
    b"Colors",
    b"Columns",
    b"EarlyChange",
    b"EndOfLine",
    b"EncodedByteAlign",
    b"Rows",
    b"EndOfBlock",
    b"BlackIs1",
    b"DamagedRowsBeforeError",
    b"JBIG2Globals",
    b"ColorTransform",
    // Optional content a page's marked content names.
    b"OCGs",
    b"P",
    b"VE",
];

/// What a resource dictionary may hold.
const RESOURCE_KINDS: &[&[u8]] = &[
    b"ExtGState",
    b"ColorSpace",
    b"Pattern",
    b"Shading",
    b"XObject",
    b"Font",
    b"ProcSet",
    b"Properties",
];

/// Keys a page keeps: where it is drawn and with what. (`Resources`,
/// `MediaBox`, `CropBox` and `Rotate` may be inherited from the page tree.)
const PAGE_KEYS: &[&[u8]] = &[
    b"MediaBox",
    b"CropBox",
    b"BleedBox",
    b"TrimBox",
    b"ArtBox",
    b"Rotate",
    b"UserUnit",
    b"Resources",
    b"Contents",
    b"Group",
];
const INHERITED: &[&[u8]] = &[b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// Catalog entries left out that [`Rebuild::removed`] names in words (the
/// rest are listed by key).
const NAMED_IN_CATALOG: &[&[u8]] = &[
    b"Type",
    b"Pages",
    b"Metadata",
    b"OpenAction",
    b"AA",
    b"Names",
    b"AcroForm",
    b"Outlines",
    b"StructTreeRoot",
];

/// How a value's dictionaries are filtered, by where it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mode {
    /// A dictionary pages draw with: [`DRAWING_KEYS`] only.
    Drawing,
    /// A resource dictionary: [`RESOURCE_KINDS`], each a map of names.
    Resources,
    /// A map of names the content uses (`/F1`, `/Im0`): every name kept,
    /// the values drawn with.
    Names,
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    let doc = Document::read(data)?;
    if get(&doc.trailer, b"Encrypt").is_some() {
        return Err(NotCleaned::new(
            "encrypted PDF: sealdrop-open does not decrypt PDF; if it opens without a \
             password, print it to a new PDF on this machine and clean that",
        ));
    }
    let catalog = match doc.resolve(get(&doc.trailer, b"Root").unwrap_or(&Object::Null)) {
        Object::Dict(dict) => dict,
        _ => return Err(NotCleaned::new("PDF whose root is missing")),
    };
    let pages = collect_pages(&doc, catalog)?;
    let mut rebuild = Rebuild {
        doc: &doc,
        numbers: HashMap::new(),
        queue: VecDeque::new(),
        next: 3 + pages.len() as u32,
        left_out: BTreeSet::new(),
        pictures_cleaned: 0,
        content_inflated: 0,
    };
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<</Type/Catalog/Pages 2 0 R>>".to_vec());
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", i + 3)).collect();
    objects.push(
        format!(
            "<</Type/Pages/Kids[{}]/Count {}>>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    for (key, _) in catalog {
        if !NAMED_IN_CATALOG.contains(&key.as_slice()) {
            rebuild.leave_out(key);
        }
    }
    let mut annotated_pages = 0;
    for page in &pages {
        if page.get(&b"Annots"[..]).is_some() {
            annotated_pages += 1;
        }
        for key in page.keys() {
            if !PAGE_KEYS.contains(key) && !matches!(*key, b"Type" | b"Parent" | b"Annots") {
                rebuild.leave_out(key);
            }
        }
        let mut dict: Dict = vec![
            (b"Type".to_vec(), Object::Name(b"Page".to_vec())),
            (b"Parent".to_vec(), Object::Ref(2)),
        ];
        // Letter, what readers assume, where a page does not say.
        let letter = Object::Array([0, 0, 612, 792].map(Object::Int).to_vec());
        for key in PAGE_KEYS {
            let value = match page.get(*key) {
                Some(value) => *value,
                None if *key == b"MediaBox" => &letter,
                None => continue,
            };
            let mode = if *key == b"Resources" {
                Mode::Resources
            } else {
                Mode::Drawing
            };
            dict.push((key.to_vec(), rebuild.copy(value, mode)));
        }
        let mut text = Vec::new();
        write_dict(&dict, &mut text);
        objects.push(text);
    }
    while let Some((old, mode, new)) = rebuild.queue.pop_front() {
        let text = rebuild.copy_object(old, mode)?;
        debug_assert_eq!(new as usize, objects.len() + 1);
        objects.push(text);
    }
    let removed = rebuild.removed(data, catalog, &doc, annotated_pages);
    Ok(Scrubbed {
        data: write_file(version(data), &objects),
        removed,
    })
}

/// A page's entries by key.
pub(super) type Page<'d> = HashMap<&'d [u8], &'d Object>;

/// Each page's own keys, with the attributes it inherits from the tree
/// filled in, in reading order.
pub(super) fn collect_pages<'d>(
    doc: &'d Document,
    catalog: &'d Dict,
) -> Result<Vec<Page<'d>>, NotCleaned> {
    let mut pages = Vec::new();
    let mut visited = HashSet::new();
    let root = get(catalog, b"Pages").unwrap_or(&Object::Null);
    let mut stack: Vec<(&Object, Page, usize)> = vec![(root, HashMap::new(), 0)];
    while let Some((node, inherited, depth)) = stack.pop() {
        if let Object::Ref(number) = node {
            if !visited.insert(*number) {
                return Err(NotCleaned::new("PDF page tree that loops back on itself"));
            }
        }
        if depth > PDF_MAX_PAGE_TREE_DEPTH {
            return Err(NotCleaned::new(format!(
                "PDF page tree deeper than {PDF_MAX_PAGE_TREE_DEPTH}"
            )));
        }
        let Object::Dict(dict) = doc.resolve(node) else {
            continue;
        };
        let mut own = inherited;
        for (key, value) in dict {
            own.insert(key.as_slice(), value);
        }
        match get(dict, b"Kids") {
            Some(kids) if !matches!(get(dict, b"Type"), Some(Object::Name(t)) if t == b"Page") => {
                let Object::Array(kids) = doc.resolve(kids) else {
                    continue;
                };
                let passed: Page = own
                    .iter()
                    .filter(|(key, _)| INHERITED.contains(key))
                    .map(|(k, v)| (*k, *v))
                    .collect();
                for kid in kids.iter().rev() {
                    stack.push((kid, passed.clone(), depth + 1));
                }
            }
            _ if matches!(get(dict, b"Type"), Some(Object::Name(t)) if t == b"Pages") => {}
            _ => {
                pages.push(own);
                if pages.len() > MAX_RECORDS {
                    return Err(NotCleaned::new(format!(
                        "PDF with more than {MAX_RECORDS} pages"
                    )));
                }
            }
        }
    }
    if pages.is_empty() {
        return Err(NotCleaned::new("PDF without pages"));
    }
    Ok(pages)
}

struct Rebuild<'d, 'f> {
    doc: &'d Document<'f>,
    /// An object of the file, reached as what, and its new number.
    numbers: HashMap<(u32, Mode), u32>,
    queue: VecDeque<(u32, Mode, u32)>,
    next: u32,
    /// Keys found and not copied, to tell the editor.
    left_out: BTreeSet<String>,
    pictures_cleaned: usize,
    content_inflated: u64,
}

impl Rebuild<'_, '_> {
    fn copy(&mut self, value: &Object, mode: Mode) -> Object {
        match value {
            Object::Ref(old) => {
                if !self.doc.objects.contains_key(old) {
                    return Object::Null;
                }
                let next = &mut self.next;
                let queue = &mut self.queue;
                let new = *self.numbers.entry((*old, mode)).or_insert_with(|| {
                    let new = *next;
                    *next += 1;
                    queue.push_back((*old, mode, new));
                    new
                });
                Object::Ref(new)
            }
            Object::Array(items) => {
                Object::Array(items.iter().map(|item| self.copy(item, mode)).collect())
            }
            Object::Dict(dict) => Object::Dict(self.copy_dict(dict, mode)),
            other => other.clone(),
        }
    }

    fn copy_dict(&mut self, dict: &Dict, mode: Mode) -> Dict {
        let mut out = Dict::new();
        for (key, value) in dict {
            let key_mode = match mode {
                Mode::Names => Some(Mode::Drawing),
                Mode::Resources => {
                    RESOURCE_KINDS
                        .contains(&key.as_slice())
                        .then_some(if key == b"ProcSet" {
                            Mode::Drawing
                        } else {
                            Mode::Names
                        })
                }
                Mode::Drawing => match key.as_slice() {
                    b"Resources" => Some(Mode::Resources),
                    b"CharProcs" | b"Colorants" => Some(Mode::Names),
                    other if DRAWING_KEYS.contains(&other) => Some(Mode::Drawing),
                    _ => None,
                },
            };
            match key_mode {
                Some(key_mode) => {
                    let value = self.copy(value, key_mode);
                    out.push((key.clone(), value));
                }
                None => self.leave_out(key),
            }
        }
        out
    }

    fn leave_out(&mut self, key: &[u8]) {
        if self.left_out.len() < 40 {
            self.left_out
                .insert(String::from_utf8_lossy(key).into_owned());
        }
    }

    fn copy_object(&mut self, old: u32, mode: Mode) -> Result<Vec<u8>, NotCleaned> {
        let mut text = Vec::new();
        match &self.doc.objects[&old] {
            Indirect::Plain(object) => write_object(&self.copy(object, mode), &mut text),
            Indirect::Stream(original, range) => {
                let mut data = &self.doc.file[range.clone()];
                let cleaned;
                // The filters as readers resolve them, written back direct
                // and spelled out: a picture's encoding is decided on what
                // poppler, MuPDF and pdf.js would decode, not on its spelling.
                let names = resolved_filters(self.doc, original).ok_or_else(|| {
                    NotCleaned::new("a stream whose /Filter is not a name or a list of names")
                })?;
                // pdf.js and MuPDF take `/F` and `/DP` for `/Filter` and
                // `/DecodeParms` (or for an external file): a stream that
                // says it two ways is not read one way here.
                if get(original, b"F").is_some() || get(original, b"DP").is_some() {
                    return Err(NotCleaned::new(
                        "a stream whose filter is also given as /F or /DP (readers disagree on it)",
                    ));
                }
                // `/Filter` and `/Length` are written anew: copied, an
                // indirect one would number an object nothing refers to,
                // and the cleaned file would not clean to itself.
                let rewritten: Dict = original
                    .iter()
                    .filter(|(key, _)| key != b"Filter" && key != b"Length")
                    .cloned()
                    .collect();
                let mut dict = self.copy_dict(&rewritten, mode);
                match names.as_slice() {
                    [] => {}
                    [one] => dict.push((b"Filter".to_vec(), Object::Name(one.clone()))),
                    many => dict.push((
                        b"Filter".to_vec(),
                        Object::Array(many.iter().cloned().map(Object::Name).collect()),
                    )),
                }
                match filters(&dict).as_slice() {
                    [] | [b"FlateDecode"] => self.refuse_inline_jpeg(original, &dict, data)?,
                    // Pictures in encodings that carry no metadata.
                    [b"CCITTFaxDecode"] | [b"JBIG2Decode"] => {}
                    [b"DCTDecode"] => {
                        cleaned = jpeg::scrub(data).map_err(|e| {
                            NotCleaned::new(format!("a JPEG picture inside the PDF: {e}"))
                        })?;
                        if cleaned.data != data {
                            self.pictures_cleaned += 1;
                        }
                        data = &cleaned.data;
                    }
                    list if list.iter().any(|f| f == b"DCTDecode" || f == b"JPXDecode") => {
                        return Err(NotCleaned::new(
                            "a picture inside the PDF in an encoding whose metadata \
                             sealdrop-open cannot clean (JPEG 2000, or JPEG compressed again)",
                        ))
                    }
                    // ASCII, LZW and run-length encodings, or filters in a
                    // chain: a page's content in them could not be read for
                    // an inline JPEG here, whatever the stream says it is.
                    _ => {
                        return Err(NotCleaned::new(
                            "a stream in an encoding sealdrop-open does not read (ASCII, LZW, \
                             run-length, or filters in a chain): an inline picture could hide in it",
                        ))
                    }
                }
                dict.push((b"Length".to_vec(), Object::Int(data.len() as i64)));
                write_dict(&dict, &mut text);
                text.extend_from_slice(b"\nstream\n");
                text.extend_from_slice(data);
                text.extend_from_slice(b"\nendstream");
            }
        }
        Ok(text)
    }

    /// A content stream can draw a picture inline (`BI … ID … EI`), and an
    /// inline JPEG carries its EXIF with it; such a document is refused
    /// rather than rewritten operator by operator. Every stream is looked
    /// at, pictures included: readers ignore `/Subtype` on a page's content,
    /// so it proves nothing. Names are read with their `#xx` escapes
    /// decoded (`/D#43T` is `/DCT`).
    fn refuse_inline_jpeg(
        &mut self,
        original: &Dict,
        dict: &Dict,
        data: &[u8],
    ) -> Result<(), NotCleaned> {
        let inflated;
        let content = if filters(dict).is_empty() {
            data
        } else {
            let mut out = Vec::new();
            let _ = flate2::read::ZlibDecoder::new(data)
                .take(PDF_MAX_CONTENT_STREAM_BYTES)
                .read_to_end(&mut out);
            self.content_inflated += out.len() as u64;
            if self.content_inflated > PDF_MAX_CONTENT_TOTAL {
                return Err(NotCleaned::new(format!(
                    "PDF whose streams inflate beyond {PDF_MAX_CONTENT_TOTAL} bytes"
                )));
            }
            // A predictor (PNG's or TIFF's) scrambles the bytes until it is
            // undone, as readers undo it.
            inflated = undo_predictor(self.doc, original, out);
            &inflated
        };
        let unescaped;
        let content = if content.contains(&b'#') {
            unescaped = decode_name_escapes(content);
            &unescaped
        } else {
            content
        };
        if memchr::memmem::find(content, b"/DCT").is_some() {
            return Err(NotCleaned::new(
                "a JPEG picture drawn inline in a page's content (its metadata would stay)",
            ));
        }
        Ok(())
    }

    fn removed(
        &self,
        data: &[u8],
        catalog: &Dict,
        doc: &Document,
        annotated: usize,
    ) -> Vec<String> {
        let mut removed = Vec::new();
        let has = |key: &[u8]| get(catalog, key).is_some();
        if get(&doc.trailer, b"Info").is_some() {
            removed.push("document information (author, title, dates, software)".to_owned());
        }
        if has(b"Metadata") {
            removed.push("XMP metadata".to_owned());
        }
        let updates = memchr::memmem::find_iter(data, b"%%EOF").count();
        if updates > 1 {
            removed.push(format!(
                "{} earlier versions (incremental updates)",
                updates - 1
            ));
        }
        if has(b"OpenAction") || has(b"AA") {
            removed.push("actions run on opening".to_owned());
        }
        if has(b"Names") {
            removed.push("named JavaScript, embedded files and destinations".to_owned());
        }
        if annotated > 0 {
            removed.push(format!(
                "annotations (comments, links, form fields) on {annotated} pages"
            ));
        }
        if has(b"AcroForm") {
            removed.push("the interactive form".to_owned());
        }
        if has(b"Outlines") {
            removed.push("bookmarks".to_owned());
        }
        if has(b"StructTreeRoot") {
            removed.push("the structure tree (accessibility tags go with it)".to_owned());
        }
        if get(&doc.trailer, b"ID").is_some() {
            removed.push("the file identifier".to_owned());
        }
        if self.pictures_cleaned > 0 {
            removed.push(format!(
                "metadata of {} JPEG pictures inside",
                self.pictures_cleaned
            ));
        }
        if !self.left_out.is_empty() {
            let keys: Vec<&str> = self.left_out.iter().map(String::as_str).collect();
            removed.push(format!(
                "other keys not needed to draw: {}",
                keys.join(", ")
            ));
        }
        removed
    }
}

/// A Flate stream's bytes with its `/DecodeParms` predictor undone (TIFF's
/// 2 for 8-bit components, PNG's 10–15 with each row's own filter), as
/// readers undo it; the bytes as they are without one.
fn undo_predictor(doc: &Document, original: &Dict, data: Vec<u8>) -> Vec<u8> {
    let Some(Object::Dict(parms)) = get(original, b"DecodeParms").map(|p| doc.resolve(p)) else {
        return data;
    };
    let int = |key: &[u8], default: i64| match get(parms, key).map(|v| doc.resolve(v)) {
        Some(Object::Int(n)) => *n,
        _ => default,
    };
    let predictor = int(b"Predictor", 1);
    let colors = int(b"Colors", 1).clamp(1, 32) as usize;
    let bits = int(b"BitsPerComponent", 8).clamp(1, 16) as usize;
    let columns = int(b"Columns", 1).clamp(1, 1 << 24) as usize;
    let step = (colors * bits).div_ceil(8).max(1);
    let row = (columns * colors * bits).div_ceil(8).max(1);
    match predictor {
        2 if bits == 8 => {
            let mut out = data;
            for line in out.chunks_mut(row) {
                for i in step..line.len() {
                    line[i] = line[i].wrapping_add(line[i - step]);
                }
            }
            out
        }
        10..=15 => {
            let mut out = Vec::with_capacity(data.len());
            let mut above = vec![0u8; row];
            for chunk in data.chunks(row + 1) {
                let Some((&kind, bytes)) = chunk.split_first() else {
                    break;
                };
                let mut line = bytes.to_vec();
                for i in 0..line.len() {
                    let left = if i >= step { line[i - step] } else { 0 };
                    let up = above[i];
                    let up_left = if i >= step { above[i - step] } else { 0 };
                    line[i] = line[i].wrapping_add(match kind {
                        1 => left,
                        2 => up,
                        3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                        4 => paeth(left, up, up_left),
                        _ => 0,
                    });
                }
                above[..line.len()].copy_from_slice(&line);
                out.extend_from_slice(&line);
            }
            out
        }
        _ => data,
    }
}

/// PNG's Paeth predictor.
fn paeth(left: u8, up: u8, up_left: u8) -> u8 {
    let p = i16::from(left) + i16::from(up) - i16::from(up_left);
    let (pa, pb, pc) = (
        (p - i16::from(left)).abs(),
        (p - i16::from(up)).abs(),
        (p - i16::from(up_left)).abs(),
    );
    if pa <= pb && pa <= pc {
        left
    } else if pb <= pc {
        up
    } else {
        up_left
    }
}

/// `bytes` with every `#xx` (two hex digits) replaced by its byte, as a
/// name's escapes are read.
fn decode_name_escapes(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A filter's full name: the abbreviations of inline pictures (`/DCT`,
/// `/Fl`, …), which poppler, MuPDF and pdf.js also accept on streams,
/// spelled out.
fn full_filter_name(name: &[u8]) -> &[u8] {
    match name {
        b"AHx" => b"ASCIIHexDecode",
        b"A85" => b"ASCII85Decode",
        b"LZW" => b"LZWDecode",
        b"Fl" => b"FlateDecode",
        b"RL" => b"RunLengthDecode",
        b"CCF" => b"CCITTFaxDecode",
        b"DCT" => b"DCTDecode",
        other => other,
    }
}

/// A stream's filters in order, as readers resolve them: an indirect
/// `/Filter`, and indirect names in its array, followed; abbreviations
/// spelled out. `None` when one is not a name (nothing a reader decodes).
fn resolved_filters(doc: &Document, dict: &Dict) -> Option<Vec<Vec<u8>>> {
    let Some(filter) = get(dict, b"Filter") else {
        return Some(Vec::new());
    };
    let name = |value: &Object| match doc.resolve(value) {
        Object::Name(n) => Some(full_filter_name(n).to_vec()),
        _ => None,
    };
    match doc.resolve(filter) {
        // A reference to nothing is null: no filter, as readers take it.
        Object::Null => Some(Vec::new()),
        Object::Name(_) => name(filter).map(|n| vec![n]),
        Object::Array(items) => items.iter().map(name).collect(),
        _ => None,
    }
}

/// A stream's filters by name, in order (on a dictionary whose filters
/// [`resolved_filters`] wrote back).
fn filters(dict: &Dict) -> Vec<&[u8]> {
    match get(dict, b"Filter") {
        Some(Object::Name(name)) => vec![name.as_slice()],
        Some(Object::Array(names)) => names
            .iter()
            .map(|n| match n {
                Object::Name(n) => n.as_slice(),
                _ => b"?",
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The file's version (`1.7` from `%PDF-1.7`), kept because it says which
/// features the pages use; 1.7 when it says nothing readable.
fn version(data: &[u8]) -> String {
    match data.get(5..8) {
        Some([major @ b'1'..=b'2', b'.', minor @ b'0'..=b'9']) => {
            format!("{}.{}", *major as char, *minor as char)
        }
        _ => "1.7".to_owned(),
    }
}

fn write_file(version: String, objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("%PDF-{version}\n%\u{e2}\u{e3}\n").into_bytes();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn write_object(object: &Object, out: &mut Vec<u8>) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(true) => out.extend_from_slice(b"true"),
        Object::Bool(false) => out.extend_from_slice(b"false"),
        Object::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Object::Real(r) => {
            // A real stays a real when read again ("-0" would be an integer).
            let text = r.to_string();
            out.extend_from_slice(text.as_bytes());
            if !text.contains('.') {
                out.extend_from_slice(b".0");
            }
        }
        Object::String(bytes) => {
            out.push(b'(');
            for &byte in bytes {
                match byte {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
                    0x20..=0x7E => out.push(byte),
                    _ => out.extend_from_slice(format!("\\{byte:03o}").as_bytes()),
                }
            }
            out.push(b')');
        }
        Object::Name(name) => write_name(name, out),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(item, out);
            }
            out.push(b']');
        }
        Object::Dict(dict) => write_dict(dict, out),
        Object::Ref(number) => out.extend_from_slice(format!("{number} 0 R").as_bytes()),
    }
}

fn write_dict(dict: &Dict, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict {
        write_name(key, out);
        out.push(b' ');
        write_object(value, out);
    }
    out.extend_from_slice(b">>");
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &byte in name {
        if byte.is_ascii_graphic() && !b"#()<>[]{}/%".contains(&byte) {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("#{byte:02X}").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_a_media_box_cleans_to_the_same_bytes_twice() {
        // Found by the scrub_pdf fuzz target: the box a page lacked was
        // written after its other keys, and in its place the second time.
        let file = b"%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n2 0 obj <</Type/Pages/Kids[3 0 R]>> endobj\n3 0 obj <</Type/Page/Resources null>> endobj\ntrailer <</Root 1 0 R>>\n";
        let once = scrub(file).unwrap().data;
        assert_eq!(scrub(&once).unwrap().data, once);
        assert!(memchr::memmem::find(&once, b"/MediaBox [0 0 612 792]").is_some());
    }

    #[test]
    fn an_indirect_filter_or_length_leaves_no_object_behind() {
        // Found by the scrub_pdf fuzz target: `/Filter 6 0 R` (a null
        // object) was copied, numbering object 6, then dropped from the
        // dictionary; the cleaned file held an object nothing referred to,
        // and cleaning it again gave other bytes.
        let file = b"%PDF-1.7\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n2 0 obj <</Type/Pages/Kids[3 0 R]>> endobj\n3 0 obj <</Type/Page/Contents 4 0 R>> endobj\n4 0 obj <</Filter 6 0 R/Length 7 0 R>>\nstream\nq Q\nendstream\nendobj\n6 0 obj null endobj\n7 0 obj 3 endobj\ntrailer <</Root 1 0 R>>\n";
        let once = scrub(file).unwrap().data;
        assert_eq!(scrub(&once).unwrap().data, once);
        let objects = memchr::memmem::find_iter(&once, b" 0 obj").count();
        assert_eq!(objects, 4, "{}", String::from_utf8_lossy(&once));
    }

    #[test]
    fn reals_stay_reals_and_names_and_strings_are_escaped() {
        let mut out = Vec::new();
        write_object(
            &Object::Array(vec![
                Object::Real(-0.0),
                Object::Real(2.5),
                Object::Name(b"A B#".to_vec()),
                Object::String(b"(x)\\\n".to_vec()),
            ]),
            &mut out,
        );
        assert_eq!(out, b"[-0.0 2.5 /A#20B#23 (\\(x\\)\\\\\\012)]");
    }

    /// Each PNG row filter, and TIFF's predictor, undone as readers undo
    /// them: rows encoded here by the PNG rules come back as they were.
    #[test]
    fn predictors_are_undone_as_readers_undo_them() {
        let original: Vec<u8> = (0..96u32).map(|i| (i * 37 % 251) as u8).collect();
        let (columns, step) = (12usize, 3usize);
        for kind in 0u8..=4 {
            let mut encoded = Vec::new();
            let mut above = vec![0u8; columns];
            for line in original.chunks(columns) {
                encoded.push(kind);
                for i in 0..line.len() {
                    let left = if i >= step { line[i - step] } else { 0 };
                    let up_left = if i >= step { above[i - step] } else { 0 };
                    let guess = match kind {
                        1 => left,
                        2 => above[i],
                        3 => ((u16::from(left) + u16::from(above[i])) / 2) as u8,
                        4 => paeth(left, above[i], up_left),
                        _ => 0,
                    };
                    encoded.push(line[i].wrapping_sub(guess));
                }
                above[..line.len()].copy_from_slice(line);
            }
            let file = format!(
                "1 0 obj << /DecodeParms << /Predictor 15 /Colors 3 /Columns {} >> >> endobj",
                columns / step
            );
            let bytes = format!("%PDF-1.7\n{file}\ntrailer <</Root 1 0 R>>\n");
            let doc = Document::read(bytes.as_bytes()).unwrap();
            let Some(Indirect::Plain(Object::Dict(dict))) = doc.objects.get(&1) else {
                panic!("the test's dictionary")
            };
            assert_eq!(
                undo_predictor(&doc, dict, encoded),
                original,
                "PNG filter {kind}"
            );
        }
    }
}
