//! Every cap on what the parsers of hostile files will do, in one place
//! (docs/SCRUBBING.md lists them). A file over any of them is NOT CLEANED
//! (and `inspect` says what it could not check): a stranger's file must not
//! make the editor's laptop crash, hang or run out of memory.

/// The largest file `scrub` cleans (it is read whole into memory).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Segments, chunks, blocks or records in one file.
pub const MAX_RECORDS: usize = 100_000;

/// Entries in a ZIP-based document.
pub const MAX_ARCHIVE_ENTRIES: usize = 10_000;

/// XML nesting, and XML events read from one part.
pub const MAX_XML_DEPTH: usize = 256;
pub const MAX_XML_EVENTS: usize = 2_000_000;

/// A second image inside an image (a JPEG after a JPEG's end) is inspected
/// to this depth.
pub const MAX_NESTED_IMAGES: usize = 2;

/// PNG: one compressed text chunk, inflated; and all of them in one file:
/// thousands of small compressed chunks must not add up to gigabytes.
pub const PNG_MAX_TEXT_CHUNK: usize = 1 << 20;
pub const PNG_MAX_INFLATED_TEXT: usize = 16 << 20;

/// TIFF: pages (image directories) in one file.
pub const TIFF_MAX_PAGES: usize = 1000;
/// TIFF: entries in one directory (real files have a few dozen).
pub const TIFF_MAX_DIRECTORY_ENTRIES: usize = 1000;

/// TIFF: the most bytes the values and pixel data of a file may add up to,
/// counted as read (twice the file, plus 1 MiB): a small file whose entries
/// all point at the same large block would otherwise be copied thousands of
/// times over.
pub fn tiff_amplification_cap(data: &[u8]) -> usize {
    data.len().saturating_mul(2).saturating_add(1 << 20)
}

/// Office documents (DOCX, XLSX, PPTX, ODF): the most one part may
/// decompress to, and all parts together; every part is held in memory
/// while the document is rebuilt.
pub const OFFICE_MAX_PART_BYTES: u64 = 128 << 20;
pub const OFFICE_MAX_DOCUMENT_BYTES: u64 = 512 << 20;

/// PDF: nesting of arrays and dictionaries inside one object.
pub const PDF_MAX_NESTING: usize = 64;
/// PDF: values (numbers, names, strings…) kept from one file: each costs
/// about 40 bytes of memory, so this bounds it near 200 MiB.
pub const PDF_MAX_VALUES: usize = 5_000_000;
/// PDF: indirect objects in one file (each costs about 450 bytes with its
/// map entry).
pub const PDF_MAX_OBJECTS: usize = 500_000;
/// PDF (cleaning): what one object stream may inflate to, and all of them
/// together.
pub const PDF_MAX_OBJECT_STREAM_BYTES: u64 = 64 << 20;
pub const PDF_MAX_OBJECT_STREAMS_TOTAL: u64 = 256 << 20;
/// PDF (cleaning): how deep a page tree may go.
pub const PDF_MAX_PAGE_TREE_DEPTH: usize = 64;
/// PDF (cleaning): what one content stream is inflated to when looking in
/// it for inline JPEG pictures, and all of them together.
pub const PDF_MAX_CONTENT_STREAM_BYTES: u64 = 64 << 20;
pub const PDF_MAX_CONTENT_TOTAL: u64 = 512 << 20;
/// PDF (`inspect`'s scan): the most one stream is inflated to, and all of
/// them together.
pub const PDF_INSPECT_MAX_STREAM_BYTES: u64 = 16 << 20;
pub const PDF_INSPECT_MAX_INFLATED_TOTAL: u64 = 64 << 20;
/// PDF (`inspect`'s scan): how far before `stream` its dictionary is looked for.
pub const PDF_INSPECT_DICTIONARY_LOOKBACK: usize = 4096;

/// PDF, `inspect`: JPEG pictures whose metadata is read, in one file.
pub const PDF_INSPECT_MAX_PICTURES: usize = 1000;

/// The sandbox (`sealdrop-sandbox`, one child per file): processor time a
/// child may use. A 1 GiB file cleans in well under this on the reference
/// laptop; a parser made to loop is stopped here and its file is NOT
/// CLEANED.
pub const SANDBOX_CPU_SECONDS: u64 = 60;
/// The sandbox: how long a child may keep the parent waiting on it (for
/// its answer, or to take what the parent writes) at a stretch before it is
/// killed, for one that sleeps or waits instead of spinning. The parent's
/// own work (decrypting, writing parts to a slow stick) does not count.
pub const SANDBOX_WALL_SECONDS: u64 = 2 * SANDBOX_CPU_SECONDS;
/// The sandbox: a child's address space. It holds the file (at most
/// [`MAX_FILE_BYTES`]), its cleaned copy (at most as much), and what the
/// parsers keep under the caps above (an office document's parts, a PDF's
/// objects); past this an allocation fails and the child ends.
pub const SANDBOX_ADDRESS_SPACE_BYTES: u64 = 4 * MAX_FILE_BYTES;
/// The sandbox: the largest `inspect` report the parent reads back.
pub const SANDBOX_MAX_REPORT_BYTES: usize = 64 << 20;

#[cfg(test)]
mod tests {
    /// docs/SCRUBBING.md's table of caps names every cap here, so that what
    /// editors and auditors read is what the code does.
    #[test]
    fn the_caps_table_names_every_cap() {
        let doc = include_str!("../../../docs/SCRUBBING.md");
        let table = &doc[doc
            .find("## Caps on hostile files")
            .expect("the caps section")..];
        let table = &table[..table.find("\nMeasured").unwrap_or(table.len())];
        let source = include_str!("limits.rs");
        let source = &source[..source.find("#[cfg(test)]").unwrap()];
        for line in source.lines() {
            let name = line
                .strip_prefix("pub const ")
                .or_else(|| line.strip_prefix("pub fn "))
                .and_then(|rest| rest.split([':', '(']).next());
            if let Some(name) = name {
                assert!(
                    table.contains(&format!("`{name}`")),
                    "docs/SCRUBBING.md's caps table does not name {name}"
                );
            }
        }
    }
}
