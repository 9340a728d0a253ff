//! What can go wrong for a source, and the one place where the outcome of a
//! request becomes the page the source sees and the count the server logs.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::config::Limits;
use super::pages::{self, ErrorText, FormTarget, KeptText, Lang, Retry};
use super::stats::Counter;
use super::upload::typed::Typed;
use super::upload::{Form, Refused};
use super::App;

/// Every error a source can meet, each with its own localized page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    TooLarge,
    TooManyFiles,
    MessageTooLong,
    Malformed,
    Empty,
    /// The client went away before its upload was complete (nobody sees the
    /// page; the outcome is counted).
    Aborted,
    Busy,
    Full,
    Timeout,
    /// A slow upload whose slot a newcomer took, when every slot was taken.
    Evicted,
    NotFound,
    MethodNotAllowed,
    Internal,
    /// A typed codename that cannot be one (wrong length, not digits, check
    /// digits that do not match): told before any costly work.
    CodenameTypo,
    /// A replies form far larger than a codename.
    FieldTooLong,
    /// Every login turn is taken.
    LoginBusy,
    /// A replies form whose token this process cannot read: too old, or
    /// from before a restart.
    Expired,
}

impl Problem {
    pub const ALL: &'static [Problem] = &[
        Problem::TooLarge,
        Problem::TooManyFiles,
        Problem::MessageTooLong,
        Problem::Malformed,
        Problem::Empty,
        Problem::Aborted,
        Problem::Busy,
        Problem::Full,
        Problem::Timeout,
        Problem::Evicted,
        Problem::NotFound,
        Problem::MethodNotAllowed,
        Problem::Internal,
        Problem::CodenameTypo,
        Problem::FieldTooLong,
        Problem::LoginBusy,
        Problem::Expired,
    ];

    pub fn status(self) -> StatusCode {
        match self {
            Problem::TooLarge
            | Problem::TooManyFiles
            | Problem::MessageTooLong
            | Problem::FieldTooLong => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::Malformed | Problem::Empty | Problem::Aborted | Problem::CodenameTypo => {
                StatusCode::BAD_REQUEST
            }
            Problem::Busy | Problem::Full | Problem::LoginBusy => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Expired => StatusCode::FORBIDDEN,
            Problem::Timeout | Problem::Evicted => StatusCode::REQUEST_TIMEOUT,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What this problem's page says.
    pub fn page_text(self, limits: &Limits) -> ErrorText<'static> {
        ErrorText {
            message_id: self.message_id(),
            size_limit: match self {
                Problem::MessageTooLong => limits.max_message_bytes,
                _ => limits.max_upload_bytes,
            },
            back_to_replies: matches!(
                self,
                Problem::CodenameTypo
                    | Problem::FieldTooLong
                    | Problem::LoginBusy
                    | Problem::Expired
            ),
        }
    }

    /// Whether this problem's page answers an upload form, which it then
    /// shows again (the page of an aborted upload is never seen; a
    /// follow-up whose token failed goes back to the codename form).
    pub fn shows_the_form_again(self) -> bool {
        matches!(
            self,
            Problem::TooLarge
                | Problem::TooManyFiles
                | Problem::MessageTooLong
                | Problem::Malformed
                | Problem::Empty
                | Problem::Busy
                | Problem::Full
                | Problem::Timeout
                | Problem::Evicted
                | Problem::Internal
        )
    }

    /// The message id of this problem's page (`<id>-title`, `<id>-body`).
    fn message_id(self) -> &'static str {
        match self {
            Problem::TooLarge => "error-too-large",
            Problem::TooManyFiles => "error-too-many-files",
            Problem::MessageTooLong => "error-message-too-long",
            Problem::Malformed | Problem::Aborted => "error-malformed",
            Problem::Empty => "error-empty",
            Problem::Busy => "error-busy",
            Problem::Full => "error-full",
            Problem::Timeout | Problem::Evicted => "error-timeout",
            Problem::NotFound => "error-not-found",
            Problem::MethodNotAllowed => "error-method",
            Problem::Internal => "error-internal",
            Problem::CodenameTypo => "error-codename-typo",
            Problem::FieldTooLong => "error-field-too-long",
            Problem::LoginBusy => "error-login-busy",
            Problem::Expired => "error-expired",
        }
    }

    /// The counter of this outcome in the interval summary; requests that
    /// never reached an upload are not counted.
    pub fn counter(self) -> Option<Counter> {
        Some(match self {
            Problem::TooLarge | Problem::TooManyFiles | Problem::MessageTooLong => {
                Counter::TooLarge
            }
            Problem::Malformed | Problem::Empty => Counter::Malformed,
            Problem::Aborted => Counter::Aborted,
            Problem::Busy => Counter::Busy,
            Problem::Full => Counter::StoreFull,
            Problem::Timeout => Counter::TimedOut,
            Problem::Evicted => Counter::Evicted,
            Problem::Internal => Counter::Failed,
            Problem::NotFound
            | Problem::MethodNotAllowed
            | Problem::CodenameTypo
            | Problem::FieldTooLong
            | Problem::LoginBusy => return None,
            // A follow-up refused for its token is an upload that was not sealed.
            Problem::Expired => Counter::Malformed,
        })
    }
}

pub(crate) fn html(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A problem's page in the source's language, with its status.
pub(crate) fn problem_page(app: &App, lang: Lang, problem: Problem) -> Response {
    html(
        problem.status(),
        pages::error(lang, problem.page_text(&app.limits), &app.limits, None),
    )
}

/// A refused upload's page: its problem, then (where the problem allows)
/// the form again, with the message the source typed when the request may
/// be shown it. What it shows exists only in this answer.
fn refused_page(app: &App, lang: Lang, form: Form, refused: &Refused) -> Response {
    let problem = refused.problem;
    let limits = &app.limits;
    let kept = refused.typed.as_ref().map(Typed::kept_message);
    let target = match form {
        Form::Submit => Some(FormTarget::Submit),
        // Without its token a follow-up form cannot be shown again.
        Form::FollowUp => refused
            .typed
            .as_ref()
            .and_then(Typed::token)
            .map(|token| FormTarget::FollowUp { token }),
    };
    let retry = target
        .filter(|_| problem.shows_the_form_again())
        .map(|target| Retry {
            target,
            kept: kept.as_ref().map(|k| KeptText {
                message: &k.text,
                cut: k.cut,
            }),
            measured: refused.typed.as_ref().and_then(|typed| match problem {
                Problem::TooLarge => typed.request_bytes,
                Problem::MessageTooLong => Some(typed.message_bytes()),
                _ => None,
            }),
            desk: refused.typed.as_ref().and_then(Typed::desk),
        });
    let mut text = problem.page_text(limits);
    text.back_to_replies |= form == Form::FollowUp;
    html(problem.status(), pages::error(lang, text, limits, retry))
}

/// The answer to a submission, counted: a first submission's "received"
/// page with its codename (the one time it is shown, so not by redirect), or
/// without one (replies off, or a follow-up) by Post/Redirect/Get, so that
/// reloading it never resubmits; or the problem's page.
pub(crate) fn answer_submission(
    app: &App,
    lang: Lang,
    form: Form,
    outcome: Result<Option<sealdrop_format::reply::Codename>, Refused>,
) -> Response {
    match outcome {
        Ok(Some(codename)) => {
            app.stats.add(Counter::Sealed);
            html(
                StatusCode::OK,
                pages::received_with_codename(lang, &codename),
            )
        }
        Ok(None) => {
            app.stats.add(Counter::Sealed);
            Redirect::to(&format!("{}/received", lang.prefix())).into_response()
        }
        Err(refused) => {
            if let Some(counter) = refused.problem.counter() {
                app.stats.add(counter);
            }
            refused_page(app, lang, form, &refused)
        }
    }
}
