//! What the source typed into the form, kept while an upload runs so that a
//! refused upload's page can show the message again (a source who hit a
//! limit must not have to write it all again, perhaps with little time).
//!
//! It lives only in this upload's memory and in the one answer that shows
//! it: nothing of it is stored, and the allocator wipes it when it is freed.
//! The files are never kept: a browser cannot be given a file back.

use axum::http::HeaderMap;
use zeroize::Zeroizing;

use crate::form::KeptMessage;

use sealdrop_format::bytesize::KIB;

/// The most of a message kept to show again. It bounds the memory a waiting
/// upload holds for it (the message limit itself is 1 MiB by default); a
/// longer message is shown cut, and the page says so.
pub const MAX_KEPT_MESSAGE_BYTES: u64 = 64 * KIB;

/// The message and the follow-up token as they came, and what was counted
/// of the rest.
#[derive(Default)]
pub struct Typed {
    message: Zeroizing<Vec<u8>>,
    /// Every message byte seen, kept or not.
    message_bytes: u64,
    /// Every message byte was read (the field ended).
    message_complete: bool,
    token: Option<Zeroizing<String>>,
    /// The desk chosen on the form (one of the configured names).
    desk: Option<String>,
    /// The desk of the follow-up's thread (by index), as its token says.
    thread_desk: Option<usize>,
    /// Bytes the request declared (`Content-Length`), if it did.
    pub request_bytes: Option<u64>,
}

impl Typed {
    /// Nothing typed yet, for a request that declared `request_bytes`.
    pub fn new(request_bytes: Option<u64>) -> Typed {
        Typed {
            request_bytes,
            ..Typed::default()
        }
    }

    /// Keeps `chunk` of the message, as much as fits under `keep_at_most`.
    pub fn add_message(&mut self, chunk: &[u8], keep_at_most: u64) {
        self.message_bytes += chunk.len() as u64;
        let room = usize::try_from(keep_at_most.min(MAX_KEPT_MESSAGE_BYTES))
            .unwrap_or(usize::MAX)
            .saturating_sub(self.message.len());
        let take = room.min(chunk.len());
        // The blocks a growing Vec leaves behind are wiped by the allocator
        // as they are freed; reserving the whole room up front instead would
        // hold 64 KiB for every waiting upload with a one-line message.
        self.message.extend_from_slice(&chunk[..take]);
    }

    /// Counts message bytes that are read but not kept.
    pub fn count_message(&mut self, bytes: u64) {
        self.message_bytes += bytes;
    }

    pub fn end_message(&mut self) {
        self.message_complete = true;
    }

    pub fn message_bytes(&self) -> u64 {
        self.message_bytes
    }

    pub fn set_token(&mut self, token: &str) {
        self.token = Some(Zeroizing::new(token.to_owned()));
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref().map(String::as_str)
    }

    pub fn set_desk(&mut self, desk: &str) {
        self.desk = Some(desk.to_owned());
    }

    pub fn desk(&self) -> Option<&str> {
        self.desk.as_deref()
    }

    pub fn set_thread_desk(&mut self, desk: Option<usize>) {
        self.thread_desk = desk;
    }

    pub fn thread_desk(&self) -> Option<usize> {
        self.thread_desk
    }

    /// The kept message as text: cut at a character boundary, with any
    /// invalid UTF-8 replaced (what a browser sent is UTF-8; anything else
    /// is not worth refusing the page over).
    pub fn kept_message(&self) -> KeptMessage {
        let bytes: &[u8] = &self.message;
        let mut cut = !self.message_complete || self.message_bytes > bytes.len() as u64;
        let valid = match std::str::from_utf8(bytes) {
            Ok(_) => bytes,
            Err(e) if e.error_len().is_none() => {
                // Only the end is a partial character: the cut went through it.
                cut = true;
                &bytes[..e.valid_up_to()]
            }
            Err(_) => bytes,
        };
        KeptMessage {
            text: Zeroizing::new(String::from_utf8_lossy(valid).into_owned()),
            cut: cut && !bytes.is_empty(),
            message_bytes: self.message_bytes,
        }
    }
}

/// Whether this request may have what it typed shown back. A page of
/// another site could post a form to the drop (no JavaScript needed), and
/// have the drop's own page show text of its choosing as if the source had
/// typed it. Browsers say where a request comes from in `Sec-Fetch-Site`
/// (the `Origin` header is "null" on our pages, whose referrer policy is
/// `no-referrer`); a request that says it comes from elsewhere gets its
/// error page with an empty form. A client that sends no such header
/// (curl, an old browser) is shown what it sent.
pub fn may_show_again(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        None => true,
        Some(site) => {
            site.eq_ignore_ascii_case(b"same-origin") || site.eq_ignore_ascii_case(b"none")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_fits_and_cuts_at_a_character() {
        let mut typed = Typed::default();
        typed.add_message("aé".as_bytes(), 2);
        typed.end_message();
        let kept = typed.kept_message();
        assert_eq!(kept.text.as_str(), "a");
        assert!(kept.cut);
        assert_eq!(kept.message_bytes, 3);

        let mut typed = Typed::default();
        typed.add_message("سلام".as_bytes(), 1024);
        typed.end_message();
        let kept = typed.kept_message();
        assert_eq!(kept.text.as_str(), "سلام");
        assert!(!kept.cut);
    }

    #[test]
    fn never_keeps_more_than_the_cap() {
        let mut typed = Typed::default();
        let chunk = vec![b'x'; 40 * 1024];
        for _ in 0..4 {
            typed.add_message(&chunk, u64::MAX);
        }
        typed.end_message();
        let kept = typed.kept_message();
        assert_eq!(kept.text.len() as u64, MAX_KEPT_MESSAGE_BYTES);
        assert!(kept.cut);
        assert_eq!(kept.message_bytes, 160 * 1024);
    }

    #[test]
    fn a_message_stopped_midway_is_cut() {
        let mut typed = Typed::default();
        typed.add_message(b"half a sen", 1024);
        assert!(typed.kept_message().cut);
        let empty = Typed::default();
        assert!(!empty.kept_message().cut);
    }

    proptest::proptest! {
        /// Whatever the chunks and the limit, the kept text is a prefix of
        /// the message as text, within the cap, and "cut" says whether any
        /// of the message is missing from it.
        #[test]
        fn kept_text_is_a_prefix_within_the_cap(
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            cuts in proptest::collection::vec(0usize..3000, 0..6),
            keep in 0u64..4000,
        ) {
            let mut typed = Typed::default();
            let mut at = 0;
            let mut cuts = cuts;
            cuts.push(message.len());
            cuts.sort_unstable();
            for cut in cuts {
                let cut = cut.min(message.len());
                typed.add_message(&message[at..cut], keep);
                at = at.max(cut);
            }
            typed.end_message();
            let kept = typed.kept_message();
            proptest::prop_assert_eq!(kept.message_bytes, message.len() as u64);
            let whole = String::from_utf8_lossy(&message);
            if std::str::from_utf8(&message).is_ok() {
                proptest::prop_assert!(whole.starts_with(kept.text.as_str()));
                proptest::prop_assert!(kept.text.len() as u64 <= keep);
                proptest::prop_assert_eq!(kept.cut, kept.text.len() < message.len());
            }
        }
    }

    #[test]
    fn cross_site_requests_are_not_shown_what_they_sent() {
        let mut headers = HeaderMap::new();
        assert!(may_show_again(&headers));
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(may_show_again(&headers));
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!may_show_again(&headers));
        headers.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(!may_show_again(&headers));
    }
}
