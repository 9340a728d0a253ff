//! Caps on what the parsers of hostile files will do. A file over any of
//! them is NOT CLEANED (and `inspect` says what it could not check): a
//! stranger's file must not make the editor's laptop crash, hang or run out
//! of memory.

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
