//! Full-text search over what sources sent and what was answered: each
//! message, each sealed reply's text, and the words of attachments (plain
//! text, office documents, PDF, read from their cleaned copies in the
//! sandbox), in SQLite's FTS5 through rusqlite (SQLite compiled in, so the
//! package needs no library of its own).
//!
//! The FTS5 table is contentless (`content=''`) and keeps no positions
//! (`detail=none`): the file holds which words each document has, never
//! its text nor the order of its words; a plain table maps each row to its
//! document and thread, so that replacing or deleting a document is a
//! lookup, not a scan. (Every query is words as prefixes, all of which
//! must match: no phrase needs positions.)
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

use rusqlite::{params, Connection, OptionalExtension};

use super::{io_error, WorkspaceError};

/// The search index's file in the inbox's folder.
pub const SEARCH_FILE: &str = "search.sqlite";
/// The layout of the file this version writes (`PRAGMA user_version`);
/// a file of another layout is made again from the workspace.
const LAYOUT: i64 = 3;

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
                    .execute("INSERT INTO words(words) VALUES ('integrity-check')", [])
                    .is_ok();
            if sound {
                return Ok((index, !existed));
            }
        }
        // Overwritten in place (not truncated, which would free the old
        // blocks as they are) and flushed before it is unlinked.
        if let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(path) {
            use std::io::Write;
            let length = file.metadata().map(|m| m.len()).unwrap_or(0);
            let zeros = vec![0u8; 1 << 16];
            let mut left = length;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                if file.write_all(&zeros[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
            let _ = file.sync_all();
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
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(db_error(path))?;
        let layout: i64 = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(db_error(path))?;
        let tables: i64 = db
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(db_error(path))?;
        if tables > 0 && layout != LAYOUT {
            return Err(WorkspaceError::Refused(format!(
                "{}: a search index of another layout ({layout})",
                path.display()
            )));
        }
        db.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS documents (
                 id INTEGER PRIMARY KEY, doc TEXT NOT NULL UNIQUE,
                 thread TEXT NOT NULL, kind TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS documents_thread ON documents (thread);
             CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(
                 body, content = '', contentless_delete = 1, detail = none,
                 tokenize = 'unicode61 remove_diacritics 2'
             );
             PRAGMA user_version = {LAYOUT};"
        ))
        .map_err(db_error(path))?;
        Ok(SearchIndex { db })
    }

    /// Adds `text` as document `doc` (a submission id, a reply file, an
    /// attachment `id/part`) of thread `thread`, replacing what it had.
    pub fn add(&self, thread: &str, doc: &str, kind: Kind, text: &str) -> rusqlite::Result<()> {
        let transaction = self.db.unchecked_transaction()?;
        self.forget(doc)?;
        transaction.execute(
            "INSERT INTO documents (doc, thread, kind) VALUES (?1, ?2, ?3)",
            params![doc, thread, kind.tag()],
        )?;
        let id = transaction.last_insert_rowid();
        transaction.execute(
            "INSERT INTO words (rowid, body) VALUES (?1, ?2)",
            params![id, fold(text)],
        )?;
        transaction.commit()
    }

    /// Removes document `doc`'s words and row, if it has any.
    fn forget(&self, doc: &str) -> rusqlite::Result<()> {
        let id: Option<i64> = self
            .db
            .query_row(
                "SELECT id FROM documents WHERE doc = ?1",
                params![doc],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            self.db
                .execute("DELETE FROM words WHERE rowid = ?1", params![id])?;
            self.db
                .execute("DELETE FROM documents WHERE id = ?1", params![id])?;
        }
        Ok(())
    }

    /// How many documents it holds.
    pub fn len(&self) -> rusqlite::Result<usize> {
        self.db
            .query_row("SELECT count(*) FROM documents", [], |row| {
                row.get::<_, i64>(0)
            })
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
        let mut statement = self.db.prepare(
            "SELECT DISTINCT documents.thread FROM words
             JOIN documents ON documents.id = words.rowid WHERE words MATCH ?1",
        )?;
        let rows = statement.query_map(params![query], |row| row.get::<_, String>(0))?;
        rows.collect()
    }

    /// Removes every document of `thread`. The words stay in the file's
    /// free space until [`SearchIndex::rewrite`].
    pub fn remove_thread(&self, thread: &str) -> rusqlite::Result<()> {
        self.remove_where("thread = ?1", thread)
    }

    /// Removes submission `id`'s documents: its message (`id`) and its
    /// attachments (`id/part`). The words stay in the file's free space
    /// until [`SearchIndex::rewrite`].
    pub fn remove_submission(&self, id: &str) -> rusqlite::Result<()> {
        self.remove_where("doc = ?1 OR substr(doc, 1, length(?1) + 1) = ?1 || '/'", id)
    }

    fn remove_where(&self, condition: &'static str, value: &str) -> rusqlite::Result<()> {
        let transaction = self.db.unchecked_transaction()?;
        transaction.execute(
            &format!(
                "DELETE FROM words WHERE rowid IN (SELECT id FROM documents WHERE {condition})"
            ),
            params![value],
        )?;
        transaction.execute(
            &format!("DELETE FROM documents WHERE {condition}"),
            params![value],
        )?;
        transaction.commit()
    }

    /// Merges the index and rewrites the file, so that no removed word is
    /// left in it (`secure_delete` zeroes the pages freed on the way).
    pub fn rewrite(&self) -> rusqlite::Result<()> {
        self.db
            .execute("INSERT INTO words(words) VALUES ('optimize')", [])?;
        self.db.execute_batch("VACUUM;")
    }

    /// Every term the index holds (folded), as FTS5 keeps them: what a
    /// check that deleted words are gone reads, since the file stores
    /// terms prefix-compressed and a byte search can miss one.
    pub fn vocabulary(&self) -> rusqlite::Result<BTreeSet<String>> {
        self.db.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocabulary USING fts5vocab(main, words, 'row');",
        )?;
        let mut statement = self.db.prepare("SELECT term FROM temp.vocabulary")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect()
    }

    /// Every (thread, document) it holds.
    pub fn documents(&self) -> rusqlite::Result<Vec<(String, String)>> {
        let mut statement = self.db.prepare("SELECT thread, doc FROM documents")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    /// Forgets everything (before a rebuild).
    pub fn clear(&self) -> rusqlite::Result<()> {
        self.db
            .execute_batch("DELETE FROM words; DELETE FROM documents;")?;
        self.rewrite()
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
        // One submission's documents go, and only its own: not those of
        // another whose id it begins.
        index.add("t3", "ab", Kind::Message, "alpha").unwrap();
        index.add("t3", "ab/1", Kind::Attachment, "bravo").unwrap();
        index
            .add("t3", "abc/1", Kind::Attachment, "charlie")
            .unwrap();
        index.remove_submission("ab").unwrap();
        assert!(found("alpha").is_empty() && found("bravo").is_empty());
        assert_eq!(found("charlie"), BTreeSet::from(["t3".to_owned()]));
        // Replacing a document leaves one copy.
        index.add("t3", "abc/1", Kind::Attachment, "delta").unwrap();
        assert!(found("charlie").is_empty());
        assert_eq!(index.len().unwrap(), 3);
        index.remove_thread("t1").unwrap();
        index.rewrite().unwrap();
        assert!(found("المدينه").is_empty());
        // No term of the deleted document is left in the index's
        // vocabulary (a byte search could miss a prefix-compressed term).
        let terms = index.vocabulary().unwrap();
        for word in fold("صورٌ من الحاجز عند مدخل المدينة صباح اليوم").split(' ')
        {
            assert!(!terms.contains(word), "{word} in {terms:?}");
        }
        assert!(terms.contains("maire"), "{terms:?}");
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

    #[test]
    fn an_index_of_another_layout_is_overwritten_and_made_again() {
        // The first layout kept the texts themselves.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SEARCH_FILE);
        {
            let db = Connection::open(&path).unwrap();
            db.execute_batch(
                "CREATE VIRTUAL TABLE docs USING fts5(body, thread UNINDEXED, doc UNINDEXED);
                 INSERT INTO docs VALUES ('the informant lives on Baron Street', 't', 'd');",
            )
            .unwrap();
        }
        assert!(std::fs::read(&path)
            .unwrap()
            .windows(5)
            .any(|w| w == b"Baron"));
        let (index, renewed) = SearchIndex::open_checked(&path).unwrap();
        assert!(renewed, "made again, for the caller to fill");
        assert!(index.is_empty().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(5).any(|w| w == b"Baron"));
    }
}
