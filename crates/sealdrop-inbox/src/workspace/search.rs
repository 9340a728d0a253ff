//! Full-text search over what sources sent and what was answered: each
//! message, each sealed reply's text, and the text of attachments that are
//! plain text (their cleaned copies), in SQLite's FTS5 through rusqlite
//! (SQLite compiled in, so the package needs no library of its own).
//!
//! Arabic and Persian are matched as people type them: both the index and
//! every query are folded the same way first ([`fold`]), like Lucene's
//! Arabic and Persian normalizers and a little further: the hamza and madda
//! forms of alef to bare alef, alef maksura, Persian yeh and yeh with hamza
//! to yeh, waw with hamza to waw, keheh to kaf, teh marbuta to heh, tatweel
//! and harakat removed, Arabic-Indic and Persian digits to Western ones;
//! then FTS5's `unicode61` tokenizer folds case and Latin diacritics.
//!
//! Deleted text must not stay in the file: `secure_delete` overwrites
//! freed pages with zeros, the journal is kept in memory, and a deletion
//! merges FTS5's segments (`optimize`) and rewrites the file (`VACUUM`).
//! With the journal in memory a crash can break the file: an index that
//! does not open or fails its integrity checks is overwritten with zeros,
//! removed and made again from the workspace. None of this can promise
//! erasure on flash storage or a copy-on-write file system, which keep old
//! blocks whatever a program writes.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{params, Connection};

use super::{io_error, WorkspaceError};

/// The search index's file in the inbox's folder.
pub const SEARCH_FILE: &str = "search.sqlite";

/// A document's kind, kept beside its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Message,
    Reply,
    Attachment,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Reply => "reply",
            Kind::Attachment => "attachment",
        }
    }
}

/// Folds `text` for matching: the same for what is indexed and what is
/// typed (see the module's comment).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c {
            // Tatweel, harakat (fathatan to sukun, and the extended marks),
            // superscript alef, Quranic annotation marks.
            '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}' => continue,
            'أ' | 'إ' | 'آ' | 'ٱ' | 'ٲ' | 'ٳ' => 'ا',
            // Alef maksura, Persian (farsi) yeh, and yeh with hamza.
            'ى' | 'ی' | 'ې' | 'ئ' => 'ي',
            // Keheh (Persian kaf) and swash kaf.
            'ک' | 'ڪ' => 'ك',
            'ة' | 'ۀ' => 'ه',
            'ؤ' => 'و',
            '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
            '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
            c => c,
        };
        out.extend(folded.to_lowercase());
    }
    out
}

/// The FTS5 query for what an editor typed: each word folded, quoted (so
/// that nothing typed is FTS5 syntax), as a prefix; all words must match.
fn query_of(typed: &str) -> Option<String> {
    let words: Vec<String> = fold(typed)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The search index of one workspace.
pub struct SearchIndex {
    db: Connection,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchIndex")
    }
}

fn db_error(path: &Path) -> impl FnOnce(rusqlite::Error) -> WorkspaceError + '_ {
    move |e| WorkspaceError::Refused(format!("{}: the search index: {e}", path.display()))
}

impl SearchIndex {
    /// Opens the index at `path`, checked; one that does not open or fails
    /// its checks is overwritten with zeros, removed and made anew. The
    /// flag says it was made anew (empty: the caller fills it again).
    pub fn open_checked(path: &Path) -> Result<(SearchIndex, bool), WorkspaceError> {
        let existed = path.symlink_metadata().is_ok();
        if let Ok(index) = SearchIndex::open(path) {
            let sound = index
                .db
                .query_row("PRAGMA quick_check", [], |row| row.get::<_, String>(0))
                .is_ok_and(|answer| answer == "ok")
                && index
                    .db
                    .execute("INSERT INTO docs(docs) VALUES ('integrity-check')", [])
                    .is_ok();
            if sound {
                return Ok((index, !existed));
            }
        }
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::write(path, vec![0u8; meta.len() as usize]);
        }
        std::fs::remove_file(path).map_err(io_error(path))?;
        Ok((SearchIndex::open(path)?, true))
    }

    /// Opens (or makes, 0600) the index at `path`.
    fn open(path: &Path) -> Result<SearchIndex, WorkspaceError> {
        if path.symlink_metadata().is_err() {
            sealdrop_format::fsutil::create_new_private_file(path).map_err(io_error(path))?;
        }
        let db = Connection::open(path).map_err(db_error(path))?;
        db.execute_batch(
            "PRAGMA secure_delete = ON;
             PRAGMA journal_mode = MEMORY;
             PRAGMA temp_store = MEMORY;
             CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(
                 body, thread UNINDEXED, doc UNINDEXED, kind UNINDEXED,
                 tokenize = 'unicode61 remove_diacritics 2'
             );",
        )
        .map_err(db_error(path))?;
        Ok(SearchIndex { db })
    }

    /// Adds `text` as document `doc` (a submission id, a reply file, an
    /// attachment `id/part`) of thread `thread`, replacing what it had.
    pub fn add(&self, thread: &str, doc: &str, kind: Kind, text: &str) -> rusqlite::Result<()> {
        self.db
            .execute("DELETE FROM docs WHERE doc = ?1", params![doc])?;
        self.db.execute(
            "INSERT INTO docs (body, thread, doc, kind) VALUES (?1, ?2, ?3, ?4)",
            params![fold(text), thread, doc, kind.tag()],
        )?;
        Ok(())
    }

    /// How many documents it holds.
    pub fn len(&self) -> rusqlite::Result<usize> {
        self.db
            .query_row("SELECT count(*) FROM docs", [], |row| row.get::<_, i64>(0))
            .map(|n| n as usize)
    }

    pub fn is_empty(&self) -> rusqlite::Result<bool> {
        self.len().map(|n| n == 0)
    }

    /// The threads with a document that matches what was typed (every
    /// word, each as the start of a word).
    pub fn threads_matching(&self, typed: &str) -> rusqlite::Result<BTreeSet<String>> {
        let Some(query) = query_of(typed) else {
            return Ok(BTreeSet::new());
        };
        let mut statement = self
            .db
            .prepare("SELECT DISTINCT thread FROM docs WHERE docs MATCH ?1")?;
        let rows = statement.query_map(params![query], |row| row.get::<_, String>(0))?;
        rows.collect()
    }

    /// Removes every document of `thread` (or only `doc`), then merges the
    /// index and rewrites the file so that the text is not left in it.
    pub fn remove(&self, thread: &str, doc: Option<&str>) -> rusqlite::Result<()> {
        match doc {
            Some(doc) => self
                .db
                .execute("DELETE FROM docs WHERE doc = ?1", params![doc])?,
            None => self
                .db
                .execute("DELETE FROM docs WHERE thread = ?1", params![thread])?,
        };
        self.db
            .execute("INSERT INTO docs(docs) VALUES ('optimize')", [])?;
        self.db.execute_batch("VACUUM;")
    }

    /// Every (thread, document) it holds.
    pub fn documents(&self) -> rusqlite::Result<Vec<(String, String)>> {
        let mut statement = self.db.prepare("SELECT DISTINCT thread, doc FROM docs")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    /// Forgets everything (before a rebuild).
    pub fn clear(&self) -> rusqlite::Result<()> {
        self.db.execute("DELETE FROM docs", [])?;
        self.db
            .execute("INSERT INTO docs(docs) VALUES ('optimize')", [])?;
        self.db.execute_batch("VACUUM;")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_and_persian_letter_forms_fold_together() {
        // The same words as typed in Arabic and Persian, with and without
        // harakat and tatweel, hamza forms and teh marbuta.
        assert_eq!(fold("مَدِينَة"), fold("مدينه"));
        assert_eq!(fold("الیوم"), fold("اليوم"));
        assert_eq!(fold("کتاب"), fold("كتاب"));
        assert_eq!(fold("أحمد"), fold("احمد"));
        assert_eq!(fold("إسلام"), fold("اسلام"));
        assert_eq!(fold("آمنة"), fold("امنه"));
        assert_eq!(fold("مـــدخل"), fold("مدخل"));
        assert_eq!(fold("٢٠٢٦"), "2026");
        assert_eq!(fold("۱۴۰۵"), "1405");
        assert_eq!(fold("Ümit"), "ümit");
    }

    #[test]
    fn a_search_finds_the_thread_whatever_the_letter_forms_and_forgets_deleted_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SEARCH_FILE);
        let index = SearchIndex::open(&path).unwrap();
        index
            .add(
                "t1",
                "a",
                Kind::Message,
                "صورٌ من الحاجز عند مدخل المدينة صباح اليوم",
            )
            .unwrap();
        index
            .add("t2", "b", Kind::Message, "Le maire a signé le contrat")
            .unwrap();
        let found = |typed: &str| index.threads_matching(typed).unwrap();
        assert_eq!(found("المدينه"), BTreeSet::from(["t1".to_owned()]));
        assert_eq!(found("مَدخل الیوم"), BTreeSet::from(["t1".to_owned()]));
        assert_eq!(found("MAIRE sign"), BTreeSet::from(["t2".to_owned()]));
        // What is typed is never FTS5 syntax: quotes and operators are words.
        assert!(index.threads_matching("\"contrat* OR NOT(").is_ok());
        assert!(
            found("maire OR zzzz").is_empty(),
            "OR is a word, not an operator"
        );
        assert_eq!(found("contrat"), BTreeSet::from(["t2".to_owned()]));
        assert!(found("").is_empty());
        index.remove("t1", None).unwrap();
        assert!(found("المدينه").is_empty());
        // No term of the deleted document is left in the index's
        // vocabulary (a byte search could miss a prefix-compressed term).
        index
            .db
            .execute_batch("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, docs, 'row');")
            .unwrap();
        let mut statement = index.db.prepare("SELECT term FROM temp.words").unwrap();
        let terms: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        drop(statement);
        for word in fold("صورٌ من الحاجز عند مدخل المدينة صباح اليوم").split(' ')
        {
            assert!(!terms.contains(&word.to_owned()), "{word} in {terms:?}");
        }
        assert!(terms.contains(&"maire".to_owned()), "{terms:?}");
        let bytes = std::fs::read(&path).unwrap();
        let needle = fold("الحاجز");
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "deleted text stays in the index file"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
