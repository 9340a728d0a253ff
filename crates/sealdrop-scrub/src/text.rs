//! Plain text: nothing hides in it but what it says. The cleaned copy is
//! the same bytes; `inspect` says so, and flags characters that change how
//! text reads (bidi overrides, invisible characters), which can disguise
//! what a file says or what it is called.

use super::{Category, NotCleaned, Report, Scrubbed};

pub(crate) fn inspect(data: &[u8], report: &mut Report) {
    let text = String::from_utf8_lossy(data);
    let tricky = text
        .chars()
        .filter(|c| sealdrop_format::seal::names::is_invisible_or_bidi(*c))
        .count();
    if tricky > 0 {
        report.add(
            Category::Hidden,
            "invisible or direction-changing characters",
            format!("{tricky} of them: the text may read differently from what it holds"),
            "text",
        );
    }
}

pub(crate) fn scrub(data: &[u8]) -> Result<Scrubbed, NotCleaned> {
    Ok(Scrubbed {
        data: data.to_vec(),
        removed: vec!["nothing: plain text holds no metadata (the words themselves may still identify the writer)".into()],
    })
}
