//! Submission ids: 128 random bits, written as 32 lowercase hex digits. An id
//! names a sealed file in the store (`<id>.age`), in the pickup API and on the
//! transfer laptop; it says nothing about the submission.

use std::fmt;

use rand::RngCore;

/// Suffix of every sealed submission file; nothing else in a store ends in it.
pub const SEALED_SUFFIX: &str = ".age";

const ID_BYTES: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubmissionId(String);

impl SubmissionId {
    /// A new id from the OS random generator.
    pub fn random() -> SubmissionId {
        SubmissionId(random_hex(ID_BYTES))
    }

    /// `text` if it is a well-formed id (exactly 32 lowercase hex digits).
    pub fn parse(text: &str) -> Option<SubmissionId> {
        crate::hex::is_lower_hex(text, 2 * ID_BYTES).then(|| SubmissionId(text.to_owned()))
    }

    /// The id of a sealed file name (`<id>.age`), if it is one.
    pub fn from_file_name(name: &str) -> Option<SubmissionId> {
        name.strip_suffix(SEALED_SUFFIX).and_then(Self::parse)
    }

    /// The name of this submission's sealed file.
    pub fn file_name(&self) -> String {
        format!("{}{SEALED_SUFFIX}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubmissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `bytes` random bytes from the OS generator, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    crate::hex::encode(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_well_formed_and_parsed_strictly() {
        let a = SubmissionId::random();
        assert_ne!(a, SubmissionId::random());
        assert_eq!(SubmissionId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(
            SubmissionId::from_file_name(&a.file_name()),
            Some(a.clone())
        );
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdeF",
            "0123456789abcdef0123456789abcdeg",
            "../23456789abcdef0123456789abcdef",
        ] {
            assert_eq!(SubmissionId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            SubmissionId::from_file_name("0123456789abcdef0123456789abcdef.partial"),
            None
        );
    }
}
