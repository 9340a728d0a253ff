//! Server-rendered pages. No JavaScript, no external resources, one small CSS
//! file. Language comes from the URL (`/en/`), never from cookies or headers.

use std::fmt::Write as _;

use axum::http::StatusCode;

use super::config::Limits;

const PAGE: &str = include_str!("../../static/page.html");
pub const CSS: &str = include_str!("../../static/style.css");

/// A language the pages are available in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
}

impl Lang {
    pub const ALL: &'static [Lang] = &[Lang::En];

    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.iter().copied().find(|l| l.tag() == tag)
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
        }
    }

    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
        }
    }

    pub fn is_rtl(self) -> bool {
        false
    }

    /// URL prefix of this language's pages ("" for the default language).
    pub fn prefix(self) -> String {
        format!("/{}", self.tag())
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn size_for_people(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn layout(lang: Lang, title: &str, body: &str) -> String {
    let mut languages = String::new();
    for l in Lang::ALL {
        let _ = write!(
            languages,
            "<li><a href=\"{}/\" lang=\"{}\" hreflang=\"{}\">{}</a></li>",
            l.prefix(),
            l.tag(),
            l.tag(),
            escape(l.native_name())
        );
    }
    PAGE.replace("{lang}", lang.tag())
        .replace("{dir}", if lang.is_rtl() { "rtl" } else { "ltr" })
        .replace("{title}", &escape(title))
        .replace("{languages_label}", "Languages")
        .replace("{languages}", &languages)
        .replace("{body}", body)
}

/// The submission form.
pub fn index(lang: Lang, limits: &Limits) -> String {
    let limit = size_for_people(limits.max_upload_bytes);
    let body = format!(
        "<h1>Send us information safely</h1>\n\
<p>Your message and files are encrypted the moment they reach us. Only our editors, on a computer \
that is never connected to the internet, can read them. We do not record who you are.</p>\n\
<div class=\"box\"><p><strong>Before you send</strong></p><ul>\n\
<li>Photos, videos and documents can contain hidden details: the place a photo was taken, \
the phone or computer used, the author's name. Remove them first, for example by taking a \
screenshot of a photo or document and sending the screenshot instead.</li>\n\
<li>Do not write your name or anything that identifies you unless you want us to know it.</li>\n\
<li>Nothing is stored in your browser. To send more later, come back to this address.</li>\n\
</ul></div>\n\
<form method=\"post\" action=\"{prefix}/submit\" enctype=\"multipart/form-data\" accept-charset=\"utf-8\">\n\
<label for=\"message\">Your message</label>\n\
<textarea id=\"message\" name=\"message\" rows=\"10\"></textarea>\n\
<label for=\"attachment\">Files (optional)</label>\n\
<input id=\"attachment\" type=\"file\" name=\"attachment\" multiple aria-describedby=\"limit\">\n\
<p id=\"limit\" class=\"hint\">Up to {limit} in total, at most {files} files.</p>\n\
<button type=\"submit\">Send securely</button>\n\
</form>\n",
        prefix = lang.prefix(),
        files = limits.max_attachments,
    );
    layout(lang, "Send us information safely", &body)
}

/// Shown after a submission was sealed and stored.
pub fn received(lang: Lang) -> String {
    let body = format!(
        "<h1>Received</h1>\n\
<p>Your submission was received and encrypted. Thank you.</p>\n\
<p>Nothing about it is stored in your browser. You can close this page now, \
or <a href=\"{}/\">send something else</a>.</p>\n",
        lang.prefix()
    );
    layout(lang, "Received", &body)
}

/// What went wrong, for an error page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    TooLarge,
    TooManyFiles,
    MessageTooLong,
    Malformed,
    Empty,
    Busy,
    Full,
    Timeout,
    NotFound,
    MethodNotAllowed,
    Internal,
}

impl Problem {
    pub fn status(self) -> StatusCode {
        match self {
            Problem::TooLarge | Problem::TooManyFiles | Problem::MessageTooLong => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Problem::Malformed | Problem::Empty => StatusCode::BAD_REQUEST,
            Problem::Busy | Problem::Full => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Timeout => StatusCode::REQUEST_TIMEOUT,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn text(self, limits: &Limits) -> (String, String) {
        let (title, detail) = match self {
            Problem::TooLarge => (
                "Too large".to_owned(),
                format!(
                    "Your submission is larger than {}. Nothing was kept. Please send fewer or smaller files, or split them over several submissions.",
                    size_for_people(limits.max_upload_bytes)
                ),
            ),
            Problem::TooManyFiles => (
                "Too many files".to_owned(),
                format!(
                    "You can send at most {} files at once. Nothing was kept. Please send the rest in another submission.",
                    limits.max_attachments
                ),
            ),
            Problem::MessageTooLong => (
                "Message too long".to_owned(),
                format!(
                    "Your message is longer than {}. Nothing was kept. Please attach long texts as a file.",
                    size_for_people(limits.max_message_bytes)
                ),
            ),
            Problem::Malformed => (
                "Something went wrong".to_owned(),
                "Your browser sent something we could not read. Nothing was kept. Please go back and try again.".to_owned(),
            ),
            Problem::Empty => (
                "Nothing to send".to_owned(),
                "Please write a message or choose at least one file.".to_owned(),
            ),
            Problem::Busy => (
                "Busy, please try again".to_owned(),
                "Too many people are sending at this moment. Nothing was kept. Please try again in a few minutes.".to_owned(),
            ),
            Problem::Full => (
                "Please try again later".to_owned(),
                "We cannot accept submissions right now. Nothing was kept. Please try again in a few hours.".to_owned(),
            ),
            Problem::Timeout => (
                "Connection too slow".to_owned(),
                "The upload stalled for too long. Nothing was kept. Please try again, perhaps with smaller files.".to_owned(),
            ),
            Problem::NotFound => ("Page not found".to_owned(), "There is no page at this address.".to_owned()),
            Problem::MethodNotAllowed => ("Not allowed".to_owned(), "This page cannot be used that way.".to_owned()),
            Problem::Internal => (
                "Something went wrong".to_owned(),
                "Your submission could not be stored. Nothing was kept. Please try again later.".to_owned(),
            ),
        };
        (title, detail)
    }
}

/// An error page.
pub fn error(lang: Lang, problem: Problem, limits: &Limits) -> String {
    let (title, detail) = problem.text(limits);
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"{}/\">Back to the form</a></p>\n",
        escape(&title),
        escape(&detail),
        lang.prefix()
    );
    layout(lang, &title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn page_with_css_is_small_and_scriptless() {
        let page = index(Lang::En, &Limits::default());
        assert!(
            page.len() + CSS.len() < 20_000,
            "{} bytes",
            page.len() + CSS.len()
        );
        assert!(!page.to_lowercase().contains("<script"));
        assert!(page.contains("500 MB"));
        assert!(!page.contains('{'), "unfilled placeholder");
    }
}
