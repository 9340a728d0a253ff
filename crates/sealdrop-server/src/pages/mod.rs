//! Server-rendered pages. No JavaScript, no external resources, one small CSS
//! file. Language comes from the URL (`/en/`), never from cookies or headers.

mod fixed;
mod i18n;

use std::fmt::Write as _;

use super::config::Policy;
use crate::form::{self, KeptMessage};
use crate::outcome::Problem;
use sealdrop_format::bytesize::MIB;
use sealdrop_format::reply::codename::{self, Codename};
use sealdrop_format::reply::Reply;

pub use fixed::FixedPages;
pub use i18n::{message_ids, number_in, text, Lang};

pub const CSS: &str = include_str!("../../../../static/style.css");

/// Page templates: markup only; every word comes from the message files
/// (`{t:message-id}`), the rest from `{name}` values computed here.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../../../static/templates/layout.html"),
    ),
    (
        "index.html",
        include_str!("../../../../static/templates/index.html"),
    ),
    (
        "received.html",
        include_str!("../../../../static/templates/received.html"),
    ),
    (
        "form.html",
        include_str!("../../../../static/templates/form.html"),
    ),
    (
        "error.html",
        include_str!("../../../../static/templates/error.html"),
    ),
    (
        "error-back.html",
        include_str!("../../../../static/templates/error-back.html"),
    ),
    (
        "advice.html",
        include_str!("../../../../static/templates/advice.html"),
    ),
    (
        "index-replies.html",
        include_str!("../../../../static/templates/index-replies.html"),
    ),
    (
        "codename.html",
        include_str!("../../../../static/templates/codename.html"),
    ),
    (
        "codename-western.html",
        include_str!("../../../../static/templates/codename-western.html"),
    ),
    (
        "replies-login.html",
        include_str!("../../../../static/templates/replies-login.html"),
    ),
    (
        "replies.html",
        include_str!("../../../../static/templates/replies.html"),
    ),
    (
        "reply.html",
        include_str!("../../../../static/templates/reply.html"),
    ),
    (
        "replies-delete.html",
        include_str!("../../../../static/templates/replies-delete.html"),
    ),
    (
        "replies-deleted.html",
        include_str!("../../../../static/templates/replies-deleted.html"),
    ),
];

fn template(name: &str) -> &'static str {
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("known template")
}

use fluent_bundle::FluentValue;

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

/// Escaped text with Fluent's bidi isolates turned into `<bdi>` elements.
pub fn html_text(text: &str) -> String {
    escape(text)
        .replace('\u{2068}', "<bdi>")
        .replace('\u{2069}', "</bdi>")
}

/// Text for places where markup is not allowed (`<title>`).
fn plain_text(text: &str) -> String {
    escape(&text.replace(['\u{2068}', '\u{2069}'], ""))
}

/// Fills `{t:id}` with escaped translations and `{name}` with `values`
/// (already HTML).
fn render(template: &str, lang: Lang, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        if let Some(id) = key.strip_prefix("t:") {
            out.push_str(&html_text(&text(lang, id, &[])));
        } else if let Some((_, value)) = values.iter().find(|(k, _)| *k == key) {
            out.push_str(value);
        } else {
            panic!("template placeholder {{{key}}} has no value");
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A size as people read it, in the page's language ("500 MB", "500 ميغابايت").
fn size_for_people(lang: Lang, bytes: u64) -> String {
    if bytes >= MIB {
        let n = if bytes % MIB == 0 {
            format!("{}", bytes / MIB)
        } else {
            format!("{:.1}", bytes as f64 / MIB as f64)
        };
        text(
            lang,
            "size-mb",
            &[("n", FluentValue::from(number_in(lang, &n)))],
        )
    } else {
        text(
            lang,
            "size-kb",
            &[(
                "n",
                FluentValue::from(number_in(lang, &bytes.div_ceil(1024).to_string())),
            )],
        )
    }
}

fn layout(lang: Lang, title: &str, body: &str) -> String {
    let mut languages = String::new();
    for l in Lang::ALL {
        let current = if *l == lang {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            languages,
            "<li><a href=\"{}/\" lang=\"{}\" hreflang=\"{}\" dir=\"{}\"{current}>{}</a></li>",
            l.prefix(),
            l.tag(),
            l.tag(),
            l.dir(),
            escape(l.native_name())
        );
    }
    render(
        template("layout.html"),
        lang,
        &[
            ("lang", lang.tag()),
            ("dir", lang.dir()),
            ("title", &plain_text(title)),
            ("css", CSS),
            ("body", body),
            ("languages", &languages),
        ],
    )
}

/// Where a form with a message box and files goes: the submission form, or
/// the replies page's follow-up form with the token that proves its
/// codename.
#[derive(Clone, Copy, Debug)]
pub enum FormTarget<'a> {
    Submit,
    /// `desk`: the thread's desk, when a reply named one (the follow-up goes
    /// there; the form shows it alone); else the source chooses.
    FollowUp {
        token: &'a str,
        desk: Option<&'a str>,
    },
}

/// The form with a message box and a file input (`message`, `attachment`):
/// empty, or the retry form of a refused upload, filled again with what the
/// source typed and chose, and telling her to choose the files again.
fn upload_form(lang: Lang, target: FormTarget, policy: &Policy, retry: Option<&Retry>) -> String {
    let message = retry.and_then(|r| r.kept).map_or("", |k| k.text.as_str());
    let prefix = lang.prefix();
    let (action, token) = match target {
        FormTarget::Submit => (format!("{prefix}/submit"), String::new()),
        FormTarget::FollowUp { token, .. } => (
            format!("{prefix}/replies/followup"),
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                form::TOKEN,
                escape(token)
            ),
        ),
    };
    let (files_again, files_described) = if retry.is_some() {
        (
            format!(
                "<p id=\"files-again\" class=\"hint\"><strong>{}</strong></p>\n",
                html_text(&text(lang, "files-again", &[]))
            ),
            "files-again limit",
        )
    } else {
        (String::new(), "limit")
    };
    let chosen = retry.and_then(|r| r.desk);
    let desks = match target {
        FormTarget::Submit => desk_choice(lang, policy, DeskChoice::DefaultChecked(chosen)),
        FormTarget::FollowUp {
            desk: Some(thread), ..
        } => desk_choice(lang, policy, DeskChoice::Thread(thread)),
        FormTarget::FollowUp { desk: None, .. } => {
            desk_choice(lang, policy, DeskChoice::SourceChooses(chosen))
        }
    };
    let trap = match target {
        FormTarget::Submit if policy.honeypot => trap_field(lang),
        _ => String::new(),
    };
    let message_described = if message.is_empty() {
        ""
    } else {
        " aria-describedby=\"kept\""
    };
    render(
        template("form.html"),
        lang,
        &[
            ("action", &action),
            ("token", &token),
            ("desks", &desks),
            ("trap", &trap),
            ("message", &escape(message)),
            ("message-described", message_described),
            ("files-again", &files_again),
            ("files-described", files_described),
            ("limit-hint", &html_text(&limit_hint(lang, policy))),
        ],
    )
}

/// The honeypot (`--honeypot`): moved off screen by the stylesheet, hidden
/// from screen readers, out of the tab order, never autofilled; its label
/// asks anyone who does see it (a text browser) to leave it empty.
fn trap_field(lang: Lang) -> String {
    format!(
        "<div class=\"trap\" aria-hidden=\"true\"><label for=\"{name}\">{label}</label> \
         <input id=\"{name}\" type=\"text\" name=\"{name}\" value=\"\" autocomplete=\"off\" tabindex=\"-1\"></div>\n",
        name = form::TRAP,
        label = html_text(&text(lang, "trap-label", &[])),
    )
}

/// Which desk a form's radio group offers and checks.
#[derive(Clone, Copy)]
enum DeskChoice<'a> {
    /// A first submission: the chosen desk, else the first, checked.
    DefaultChecked(Option<&'a str>),
    /// A follow-up in a thread whose desk a reply named: that desk alone.
    Thread(&'a str),
    /// A follow-up with no reply yet: every desk, none checked unless the
    /// source chose one; the browser asks for a choice (`required`).
    SourceChooses(Option<&'a str>),
}

/// The desks as a radio group named `desk` (no JavaScript); nothing
/// without desks.
fn desk_choice(lang: Lang, policy: &Policy, choice: DeskChoice) -> String {
    let Some(default) = policy.desk_choice.first() else {
        return String::new();
    };
    let known = |name: &str| policy.desk_choice.iter().any(|d| d.name == name);
    let (checked, only, required) = match choice {
        DeskChoice::DefaultChecked(chosen) => (
            Some(chosen.filter(|c| known(c)).unwrap_or(&default.name)),
            None,
            false,
        ),
        DeskChoice::Thread(thread) if known(thread) => (Some(thread), Some(thread), false),
        DeskChoice::Thread(_) => (None, None, true),
        DeskChoice::SourceChooses(chosen) => (chosen.filter(|c| known(c)), None, true),
    };
    let mut out = format!(
        "<fieldset id=\"desks\"><legend>{}</legend>\n",
        html_text(&text(lang, "desk-legend", &[]))
    );
    for desk in &policy.desk_choice {
        if only.is_some_and(|only| only != desk.name) {
            continue;
        }
        let title = desk
            .title
            .get(lang.tag())
            .or_else(|| desk.title.get("en"))
            .unwrap_or(&desk.name);
        let _ = writeln!(
            out,
            "<label><input type=\"radio\" name=\"{}\" value=\"{}\"{}{}> <span dir=\"auto\">{}</span></label>",
            form::DESK,
            escape(&desk.name),
            if Some(desk.name.as_str()) == checked { " checked" } else { "" },
            if required { " required" } else { "" },
            escape(title)
        );
    }
    out.push_str("</fieldset>\n");
    out
}

/// The submission form.
pub fn index(lang: Lang, policy: &Policy) -> String {
    let prefix = lang.prefix();
    let replies_link = if policy.replies {
        render(template("index-replies.html"), lang, &[("prefix", &prefix)])
    } else {
        String::new()
    };
    let form = upload_form(lang, FormTarget::Submit, policy, None);
    // The advice appears twice: open beside the form where the screen has
    // room, folded into a <details> on a phone so that the message box is on
    // the first screen. The stylesheet shows one of them.
    let advice = render(template("advice.html"), lang, &[]);
    let body = render(
        template("index.html"),
        lang,
        &[
            ("advice", &advice),
            ("form", &form),
            ("replies-link", &replies_link),
        ],
    );
    layout(lang, &text(lang, "page-title", &[]), &body)
}

/// "Up to 500 MB in total, at most 50 files."
fn limit_hint(lang: Lang, policy: &Policy) -> String {
    text(
        lang,
        "limit-hint",
        &[
            (
                "size",
                FluentValue::from(size_for_people(lang, policy.max_upload_bytes)),
            ),
            (
                "files",
                FluentValue::from(number_in(lang, &policy.max_attachments.to_string())),
            ),
        ],
    )
}

/// Shown after a submission was sealed and stored, when there is no
/// codename to show (replies off, or a follow-up).
pub fn received(lang: Lang) -> String {
    let next = format!("<p>{}</p>", html_text(&text(lang, "received-next", &[])));
    received_page(lang, &next)
}

fn received_page(lang: Lang, next: &str) -> String {
    let body = render(
        template("received.html"),
        lang,
        &[("prefix", &lang.prefix()), ("next", next)],
    );
    layout(lang, &text(lang, "received-title", &[]), &body)
}

/// The digits a codename is shown in: the page's own script.
fn codename_digits(lang: Lang) -> [char; 10] {
    match lang {
        Lang::Ar => codename::ARABIC_INDIC,
        Lang::Fa => codename::PERSIAN,
        _ => codename::WESTERN,
    }
}

/// Shown after a first submission: "received", and the codename, once.
pub fn received_with_codename(lang: Lang, codename: &Codename) -> String {
    let prefix = lang.prefix();
    let digits = codename_digits(lang);
    let shown = codename.grouped_in(digits);
    // Pages in another script also show the Western digits, for a keyboard
    // without the page's own.
    let western = if digits == codename::WESTERN {
        String::new()
    } else {
        render(
            template("codename-western.html"),
            lang,
            &[("codename", &codename.grouped_in(codename::WESTERN))],
        )
    };
    let section = render(
        template("codename.html"),
        lang,
        &[
            ("prefix", &prefix),
            ("codename", &shown),
            ("western", &western),
        ],
    );
    received_page(lang, &section)
}

/// The replies page's login form.
pub fn replies_login(lang: Lang) -> String {
    let body = render(
        template("replies-login.html"),
        lang,
        &[("prefix", &lang.prefix())],
    );
    layout(lang, &text(lang, "replies-title", &[]), &body)
}

/// A reply's time as the page shows it: "2026-11-30 14:05 UTC".
fn sent_for_people(sent: &str) -> String {
    let parsed = time::OffsetDateTime::parse(sent, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => sent.chars().take(32).collect(),
    }
}

/// What a replies page shows: the replies opened for a codename (newest
/// first), whether more wait, and the thread's desk (a name) if one of
/// them named it.
pub struct RepliesShown<'a> {
    pub replies: &'a [&'a Reply],
    pub more: bool,
    pub desk: Option<&'a str>,
}

/// Escapes a reply's text for the page with bounded growth: `&`, `<` and
/// `>` only (text content needs no more), so that its length is
/// `reply::file::escaped_len`.
fn escape_reply_text(text: &str) -> String {
    let mut out = String::with_capacity(sealdrop_format::reply::file::escaped_len(text));
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The replies for a codename (newest first), the follow-up form and, when
/// there are replies, the delete form; `token` proves the codename to both
/// forms. Every answer to a login is then padded to one size
/// ([`replies_answer_size`]).
pub fn replies(lang: Lang, shown: &RepliesShown, token: &str, policy: &Policy) -> String {
    let prefix = lang.prefix();
    let mut list = if shown.replies.is_empty() {
        format!(
            "<p role=\"status\">{}</p>",
            html_text(&text(lang, "replies-none", &[]))
        )
    } else {
        let mut items = String::from("<ol class=\"replies\">");
        for reply in shown.replies {
            let sent = text(
                lang,
                "reply-sent",
                &[(
                    "date",
                    FluentValue::from(number_in(lang, &sent_for_people(&reply.sent))),
                )],
            );
            items.push_str(&render(
                template("reply.html"),
                lang,
                &[
                    ("sent", &html_text(&sent)),
                    ("text", &escape_reply_text(&reply.text)),
                ],
            ));
        }
        items.push_str("</ol>");
        items
    };
    if shown.more {
        let _ = write!(
            list,
            "<p role=\"status\" id=\"replies-more\">{}</p>",
            html_text(&text(lang, "replies-more", &[]))
        );
    }
    let delete = if shown.replies.is_empty() {
        String::new()
    } else {
        render(
            template("replies-delete.html"),
            lang,
            &[("prefix", &prefix), ("token", token)],
        )
    };
    let days = policy.reply_retention.as_secs().div_ceil(86_400).max(1);
    let expiry = text(lang, "replies-expiry", &[("days", FluentValue::from(days))]);
    let target = FormTarget::FollowUp {
        token,
        desk: shown.desk,
    };
    let form = upload_form(lang, target, policy, None);
    let body = render(
        template("replies.html"),
        lang,
        &[
            ("list", &list),
            ("form", &form),
            ("delete", &delete),
            ("expiry", &html_text(&expiry)),
        ],
    );
    layout(lang, &text(lang, "replies-title", &[]), &body)
}

/// The one length of every answer to a login (`POST /<lang>/replies`), in
/// bytes: the largest page this configuration can make (a full page of
/// replies, the "more" notice, every desk, in every language, with a form
/// token of `token_chars`), with room to spare, rounded up to 4 KiB. Fixed
/// at start.
pub fn replies_answer_size(policy: &Policy, token_chars: usize) -> usize {
    use sealdrop_format::reply::file::MAX_ESCAPED_BYTES;
    use sealdrop_format::reply::keys::ThreadId;
    let per_reply = MAX_ESCAPED_BYTES / crate::store::replies::PAGE_REPLIES;
    let sample: Vec<Reply> = (0..crate::store::replies::PAGE_REPLIES)
        .map(|_| Reply {
            thread: ThreadId([0; 16]),
            sent: "2026-12-31T23:59:00Z".into(),
            text: zeroize::Zeroizing::new("x".repeat(per_reply)),
            desk: None,
        })
        .collect();
    let refs: Vec<&Reply> = sample.iter().collect();
    let token = "T".repeat(token_chars);
    let largest = Lang::ALL
        .iter()
        .map(|&lang| {
            let shown = RepliesShown {
                replies: &refs,
                more: true,
                desk: None,
            };
            replies(lang, &shown, &token, policy).len()
        })
        .max()
        .unwrap_or(0);
    (largest + 2048).div_ceil(4096) * 4096
}

/// `page` padded with white space after its end to exactly `size` bytes
/// (a page already as long is left as it is).
pub fn padded(mut page: String, size: usize) -> String {
    if page.len() < size {
        page.push('\n');
        let rest = size - page.len();
        page.extend(std::iter::repeat_n(' ', rest));
    }
    page
}

/// Shown after the source deleted her replies.
pub fn replies_deleted(lang: Lang) -> String {
    let body = render(
        template("replies-deleted.html"),
        lang,
        &[("prefix", &lang.prefix())],
    );
    layout(lang, &text(lang, "deleted-title", &[]), &body)
}

/// What an error page says: its message (`<id>-title` and `<id>-body` in the
/// message files) and the size limit it names.
#[derive(Clone, Copy, Debug)]
pub struct ErrorText<'a> {
    pub message_id: &'a str,
    pub size_limit: u64,
    /// Link back to the replies page rather than the submission form.
    pub back_to_replies: bool,
}

/// The retry form: a refused upload's form, shown again under its error.
#[derive(Clone, Copy)]
pub struct Retry<'a> {
    pub target: FormTarget<'a>,
    /// What the source typed, when the request may be shown it again.
    pub kept: Option<&'a KeptMessage>,
    /// The size that went over `size_limit`, when it is known.
    pub measured: Option<u64>,
    /// The desk the source had chosen.
    pub desk: Option<&'a str>,
}

/// An error page: its title and explanation, then either a link back or,
/// for a refused upload, its form again.
pub fn error(lang: Lang, what: ErrorText, policy: &Policy, retry: Option<Retry>) -> String {
    let size = size_for_people(lang, what.size_limit);
    let args = [
        ("size", FluentValue::from(size)),
        (
            "files",
            FluentValue::from(number_in(lang, &policy.max_attachments.to_string())),
        ),
        (
            "min",
            FluentValue::from(number_in(lang, &policy.min_message_chars.to_string())),
        ),
    ];
    let id = what.message_id;
    let title = text(lang, &format!("{id}-title"), &args);
    let mut detail = html_text(&text(lang, &format!("{id}-body"), &args));
    let after = match retry {
        Some(retry) => {
            if let Some(actual) = retry.measured.filter(|n| *n > what.size_limit) {
                let over = text(
                    lang,
                    "error-over-by",
                    &[
                        ("actual", FluentValue::from(size_for_people(lang, actual))),
                        (
                            "over",
                            FluentValue::from(size_for_people(lang, actual - what.size_limit)),
                        ),
                    ],
                );
                detail.push(' ');
                detail.push_str(&html_text(&over));
            }
            retry_form(lang, policy, retry)
        }
        None => {
            let (back_href, back) = if what.back_to_replies {
                (format!("{}/replies", lang.prefix()), "back-to-replies")
            } else {
                (format!("{}/", lang.prefix()), "back-to-form")
            };
            render(
                template("error-back.html"),
                lang,
                &[
                    ("back-href", &back_href),
                    ("back", &html_text(&text(lang, back, &[]))),
                ],
            )
        }
    };
    let body = render(
        template("error.html"),
        lang,
        &[
            ("title", &html_text(&title)),
            ("detail", &detail),
            ("after", &after),
        ],
    );
    layout(lang, &title, &body)
}

/// The note about the kept message, then the form filled again.
fn retry_form(lang: Lang, policy: &Policy, retry: Retry) -> String {
    let note = match retry.kept {
        Some(kept) if !kept.text.is_empty() => {
            let note = if kept.cut {
                text(
                    lang,
                    "kept-message-cut",
                    &[(
                        "kept",
                        FluentValue::from(size_for_people(lang, kept.text.len() as u64)),
                    )],
                )
            } else {
                text(lang, "kept-message", &[])
            };
            format!("<p id=\"kept\">{}</p>\n", html_text(&note))
        }
        _ => String::new(),
    };
    note + &upload_form(lang, retry.target, policy, Some(&retry))
}

/// The "busy" page in every language at once, for connections beyond the cap,
/// which are answered before any URL (and so any language) is known.
pub fn busy_in_every_language() -> String {
    let mut body = String::new();
    for &lang in Lang::ALL {
        let _ = writeln!(
            body,
            "<section lang=\"{}\" dir=\"{}\"><h1>{}</h1><p>{}</p></section>",
            lang.tag(),
            lang.dir(),
            html_text(&text(lang, "error-busy-title", &[])),
            html_text(&text(lang, "error-busy-body", &[]))
        );
    }
    layout(Lang::En, &text(Lang::En, "error-busy-title", &[]), &body)
}

/// What a problem's page says.
pub fn error_text(problem: Problem, policy: &Policy) -> ErrorText<'static> {
    ErrorText {
        message_id: problem.message_id(),
        size_limit: match problem {
            Problem::MessageTooLong => policy.max_message_bytes,
            _ => policy.max_upload_bytes,
        },
        back_to_replies: matches!(
            problem,
            Problem::CodenameTypo | Problem::FieldTooLong | Problem::LoginBusy | Problem::Expired
        ),
    }
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
    fn numbers_use_the_digits_of_arabic_and_persian_pages() {
        let policy = Policy::default();
        let hint = |lang| limit_hint(lang, &policy);
        // 500 MB and 50 files by default.
        assert!(hint(Lang::En).contains("500") && hint(Lang::En).contains("50"));
        let ar = hint(Lang::Ar);
        assert!(ar.contains("٥٠٠") && ar.contains("٥٠"), "{ar}");
        let fa = hint(Lang::Fa);
        assert!(fa.contains("۵۰۰") && fa.contains("۵۰"), "{fa}");
        for text in [&ar, &fa] {
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        }
        assert_eq!(number_in(Lang::Ar, "1.5"), "١٫٥");
        assert_eq!(number_in(Lang::Fr, "1.5"), "1.5");
        // Numbers Fluent formats itself, such as the days a reply waits.
        let days = text(
            Lang::Fa,
            "replies-expiry",
            &[("days", FluentValue::from(30))],
        );
        assert!(days.contains("۳۰") && !days.contains("30"), "{days}");
        let days = text(
            Lang::Ar,
            "replies-expiry",
            &[("days", FluentValue::from(30))],
        );
        assert!(days.contains("٣٠") && !days.contains("30"), "{days}");
    }

    #[test]
    fn page_with_css_is_small_and_scriptless() {
        let page = index(Lang::En, &Policy::default());
        assert!(
            page.len() + CSS.len() < 20_000,
            "{} bytes",
            page.len() + CSS.len()
        );
        assert!(!page.to_lowercase().contains("<script"));
        assert!(page.contains("500 MB"));
        // The stylesheet is inlined (its braces are CSS); nowhere else may a
        // brace of an unfilled placeholder remain.
        let inlined = format!("<style>{CSS}</style>");
        assert!(page.contains(&inlined), "the stylesheet is inlined");
        assert!(
            !page.replace(&inlined, "").contains('{'),
            "unfilled placeholder"
        );
    }
}

/// Completeness of the translations and of the templates (issue: a test fails
/// when any message id is missing from a shipped language, or a template holds
/// text not taken from the message files).
#[cfg(test)]
mod completeness {
    use super::*;

    #[test]
    fn every_language_has_exactly_the_reference_messages() {
        let mut reference = message_ids(Lang::En);
        reference.sort();
        assert!(reference.len() >= 40);
        for &lang in Lang::ALL {
            let mut ids = message_ids(lang);
            ids.sort();
            assert_eq!(
                ids,
                reference,
                "{}.ftl differs from en.ftl in its message ids",
                lang.tag()
            );
        }
    }

    #[test]
    fn every_message_formats_without_fluent_errors_in_every_language() {
        use fluent_bundle::{FluentArgs, FluentResource};
        for &lang in Lang::ALL {
            let resource = FluentResource::try_new(lang.source().to_owned()).unwrap();
            let mut bundle = fluent_bundle::FluentBundle::new(vec![lang.tag().parse().unwrap()]);
            bundle.add_resource(resource).unwrap();
            let mut args = FluentArgs::new();
            for name in [
                "size", "files", "n", "days", "date", "actual", "over", "kept", "min",
            ] {
                args.set(name, "1");
            }
            for id in message_ids(lang) {
                let pattern = bundle.get_message(&id).and_then(|m| m.value()).unwrap();
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{}: {id}: {errors:?}", lang.tag());
                assert!(!text.trim().is_empty(), "{}: {id} is empty", lang.tag());
            }
        }
    }

    #[test]
    fn templates_hold_no_text_of_their_own() {
        for (name, template) in TEMPLATES {
            let mut visible = String::new();
            let mut depth_tag = false;
            let mut depth_placeholder = false;
            for c in template.chars() {
                match c {
                    '<' if !depth_placeholder => depth_tag = true,
                    '>' if depth_tag => depth_tag = false,
                    '{' if !depth_tag => depth_placeholder = true,
                    '}' if depth_placeholder => depth_placeholder = false,
                    c if !depth_tag && !depth_placeholder => visible.push(c),
                    _ => {}
                }
            }
            assert!(
                !visible.chars().any(char::is_alphanumeric),
                "{name} has text outside the message files: {:?}",
                visible.split_whitespace().collect::<Vec<_>>()
            );
        }
    }

    fn assert_page(lang: Lang, page: &str, what: &str) {
        assert!(
            page.contains(&format!(
                "<html lang=\"{}\" dir=\"{}\">",
                lang.tag(),
                lang.dir()
            )),
            "{what}"
        );
        for other in Lang::ALL {
            assert!(
                page.contains(&format!("href=\"/{}/\"", other.tag())),
                "{what}: no link to {}",
                other.tag()
            );
        }
        assert!(
            !page.contains("{t:") && !page.contains('\u{2068}'),
            "{what}: unfilled or raw isolate"
        );
        assert!(
            page.len() + CSS.len() < 20_000,
            "{what}: {} bytes with CSS",
            page.len() + CSS.len()
        );
        assert!(!page.to_lowercase().contains("<script"));
    }

    #[test]
    fn each_language_renders_every_page() {
        let policy = Policy::default();
        for &lang in Lang::ALL {
            assert_page(
                lang,
                &index(lang, &policy),
                &format!("{} index", lang.tag()),
            );
            assert_page(lang, &received(lang), &format!("{} received", lang.tag()));
            for &problem in Problem::ALL {
                let page = error(lang, error_text(problem, &policy), &policy, None);
                assert_page(lang, &page, &format!("{} {problem:?}", lang.tag()));
                if lang != Lang::En {
                    assert_ne!(
                        page,
                        error(Lang::En, error_text(problem, &policy), &policy, None),
                        "{} {problem:?} is not translated",
                        lang.tag()
                    );
                }
            }
            // A refused upload's page with its form filled again: escaped,
            // the cut told, the files to choose again, the size over told.
            let typed = "</textarea><script>x</script>\n\u{202E}سلام";
            for (target, cut) in [
                (FormTarget::Submit, false),
                (
                    FormTarget::FollowUp {
                        token: "tok\"en",
                        desk: None,
                    },
                    true,
                ),
            ] {
                let kept = KeptMessage {
                    text: zeroize::Zeroizing::new(typed.to_owned()),
                    cut,
                    message_bytes: typed.len() as u64,
                };
                let retry = Retry {
                    target,
                    kept: Some(&kept),
                    measured: Some(policy.max_upload_bytes + 3 * MIB),
                    desk: None,
                };
                let page = error(
                    lang,
                    error_text(Problem::TooLarge, &policy),
                    &policy,
                    Some(retry),
                );
                let what = format!("{} retry {target:?}", lang.tag());
                assert_page(lang, &page, &what);
                assert!(
                    page.contains(
                        "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;\n\u{202E}سلام</textarea>"
                    ),
                    "{what}"
                );
                assert!(page.contains("id=\"files-again\"") && page.contains("id=\"kept\""));
                let note = if cut {
                    "kept-message-cut"
                } else {
                    "kept-message"
                };
                let note = text(
                    lang,
                    note,
                    &[(
                        "kept",
                        FluentValue::from(size_for_people(lang, typed.len() as u64)),
                    )],
                );
                assert!(page.contains(&html_text(&note)), "{what}");
                let over = size_for_people(lang, 3 * MIB);
                assert!(page.contains(&html_text(&over)), "{what}: {over}");
                if let FormTarget::FollowUp { .. } = target {
                    assert!(page.contains("value=\"tok&quot;en\""), "{what}");
                    assert!(page.contains("/replies/followup\""), "{what}");
                }
            }
        }
        // The reply channel's pages, with and without replies.
        let codename = Codename::generate();
        let reply = Reply {
            thread: sealdrop_format::reply::keys::thread(&codename),
            sent: "2026-11-30T14:05:00Z".into(),
            text: zeroize::Zeroizing::new("<script>alert(1)</script>\n\u{202E}txt.exe".into()),
            desk: None,
        };
        let token = "T".repeat(107);
        for &lang in Lang::ALL {
            let with = received_with_codename(lang, &codename);
            assert_page(lang, &with, &format!("{} codename", lang.tag()));
            assert!(with.contains("id=\"codename\""));
            assert_page(lang, &replies_login(lang), &format!("{} login", lang.tag()));
            assert_page(
                lang,
                &replies_deleted(lang),
                &format!("{} deleted", lang.tag()),
            );
            let nothing = RepliesShown {
                replies: &[],
                more: false,
                desk: None,
            };
            let none = replies(lang, &nothing, &token, &policy);
            assert_page(lang, &none, &format!("{} no replies", lang.tag()));
            assert!(!none.contains("class=\"reply\"") && !none.contains("/replies/delete"));
            let one = [&reply];
            let shown = RepliesShown {
                replies: &one,
                more: true,
                desk: None,
            };
            let some = replies(lang, &shown, &token, &policy);
            assert!(some.contains("id=\"replies-more\""));
            assert!(some.contains("class=\"reply\" dir=\"auto\""));
            assert!(some.contains("&lt;script&gt;") && !some.contains("<script"));
            assert!(some.contains("/replies/delete") && some.contains("/replies/followup"));
            assert!(some.contains(&number_in(lang, "2026-11-30 14:05 UTC")));
        }
        // The codename in the page's own digits, with Western ones beside
        // them where the script differs.
        let western = codename.grouped_in(codename::WESTERN);
        let ar = received_with_codename(Lang::Ar, &codename);
        assert!(ar.contains(codename.grouped_in(codename::ARABIC_INDIC).as_str()));
        assert!(ar.contains(western.as_str()) && ar.contains("id=\"codename-western\""));
        let fa = received_with_codename(Lang::Fa, &codename);
        assert!(fa.contains(codename.grouped_in(codename::PERSIAN).as_str()));
        let en = received_with_codename(Lang::En, &codename);
        assert!(en.contains(western.as_str()) && !en.contains("id=\"codename-western\""));
        // Right-to-left pages isolate the size inside Arabic text, written
        // in Arabic-Indic digits.
        let ar = index(Lang::Ar, &policy);
        assert!(
            ar.contains("<bdi>٥٠٠ ميغابايت</bdi>")
                || ar.contains("<bdi><bdi>٥٠٠</bdi> ميغابايت</bdi>"),
            "{ar}"
        );
    }
}
