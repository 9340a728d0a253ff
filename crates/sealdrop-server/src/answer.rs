//! The one place where the outcome of a source's request becomes the page
//! she sees and the count the server logs.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::outcome::Problem;
use super::pages::{self, FormTarget, Lang, Retry};
use super::stats::{counter_of, Counter};
use super::upload::typed::Typed;
use super::upload::{Accepted, Form, Refused};
use super::App;

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
    html(problem.status(), problem_text(app, lang, problem))
}

/// A problem's page as text (to be padded, say).
pub(crate) fn problem_text(app: &App, lang: Lang, problem: Problem) -> String {
    pages::error(
        lang,
        pages::error_text(problem, &app.policy),
        &app.policy,
        None,
    )
}

/// A refused upload's page: its problem, then (where the problem allows)
/// the form again, with the message the source typed when the request may
/// be shown it. What it shows exists only in this answer.
fn refused_page(app: &App, lang: Lang, form: Form, refused: &Refused) -> Response {
    let problem = refused.problem;
    let policy = &app.policy;
    let kept = refused.typed.as_ref().map(Typed::kept_message);
    let target = match form {
        Form::Submit => Some(FormTarget::Submit),
        // Without its token a follow-up form cannot be shown again.
        Form::FollowUp => {
            refused
                .typed
                .as_ref()
                .and_then(Typed::token)
                .map(|token| FormTarget::FollowUp {
                    token,
                    desk: refused
                        .typed
                        .as_ref()
                        .and_then(Typed::thread_desk)
                        .and_then(|d| app.desks.named_at(d))
                        .map(|d| d.name.as_str()),
                })
        }
    };
    let retry = target
        .filter(|_| problem.offers_retry())
        .map(|target| Retry {
            target,
            kept: kept.as_ref(),
            measured: refused.typed.as_ref().and_then(|typed| match problem {
                Problem::TooLarge => typed.request_bytes,
                Problem::MessageTooLong => Some(typed.message_bytes()),
                _ => None,
            }),
            desk: refused.typed.as_ref().and_then(Typed::desk),
        });
    let mut text = pages::error_text(problem, policy);
    text.back_to_replies |= form == Form::FollowUp;
    html(problem.status(), pages::error(lang, text, policy, retry))
}

/// The answer to a submission, counted: a first submission's "received"
/// page with its codename (the one time it is shown, so not by redirect), or
/// without one (replies off, or a follow-up) by Post/Redirect/Get, so that
/// reloading it never resubmits; or the problem's page.
pub(crate) fn answer_submission(
    app: &App,
    lang: Lang,
    form: Form,
    outcome: Result<Accepted, Refused>,
) -> Response {
    match outcome {
        Ok(Accepted::Sealed(Some(codename))) => {
            app.stats.add(Counter::Sealed);
            html(
                StatusCode::OK,
                pages::received_with_codename(lang, &codename),
            )
        }
        Ok(Accepted::Sealed(None)) => {
            app.stats.add(Counter::Sealed);
            Redirect::to(&format!("{}/received", lang.prefix())).into_response()
        }
        // Junk gets exactly what a source would have got (a codename that
        // opens nothing, when a first submission would show one), so that
        // whoever fills the trap learns nothing from the answer.
        Ok(Accepted::Junk) => {
            app.stats.add(Counter::Junk);
            if form == Form::Submit && app.replies.is_some() {
                let decoy = sealdrop_format::reply::Codename::generate();
                html(StatusCode::OK, pages::received_with_codename(lang, &decoy))
            } else {
                Redirect::to(&format!("{}/received", lang.prefix())).into_response()
            }
        }
        Err(refused) => {
            if let Some(counter) = counter_of(refused.problem) {
                app.stats.add(counter);
            }
            refused_page(app, lang, form, &refused)
        }
    }
}
