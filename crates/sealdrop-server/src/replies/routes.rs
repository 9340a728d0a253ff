//! The replies page's routes on the source listener. Each answers in the
//! source's language; none sets a cookie or puts a codename in a URL.
//!
//! - `GET /<lang>/replies`: the codename form;
//! - `POST /<lang>/replies` (`codename`): the replies, the follow-up form,
//!   the delete form;
//! - `POST /<lang>/replies/followup` (multipart: `token`, `message`,
//!   `attachment`): a submission in the same thread, through `upload`;
//! - `POST /<lang>/replies/delete` (`token`): removes the replies shown.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::token::Proof;
use super::{urlencoded, ReplyChannel};
use crate::answer::{answer_submission, html, problem_page, problem_text};
use crate::connections::ConnectionHandle;
use crate::form;
use crate::outcome::{Internal, Problem};
use crate::pages::{self, Lang};
use crate::upload::{self, Form};
use crate::App;
use sealdrop_format::reply::Codename;

type AppState = State<Arc<App>>;

fn channel(app: &App) -> Result<&ReplyChannel, Problem> {
    app.replies.as_ref().ok_or(Problem::NotFound)
}

/// A fault of ours: counted by kind, answered with the 500 page.
fn internal(app: &App, kind: Internal) -> Problem {
    app.stats.internal(kind);
    Problem::Internal
}

fn page_or_problem(app: &App, lang: Lang, result: Result<Response, Problem>) -> Response {
    result.unwrap_or_else(|problem| problem_page(app, lang, problem))
}

pub async fn login_form(State(app): AppState, lang: Lang) -> Response {
    let result = channel(&app).map(|_| html(StatusCode::OK, app.pages.replies_login(lang)));
    page_or_problem(&app, lang, result)
}

/// The form's field `name` read as a codename or a token, in that order of
/// checks: size, then shape (a typo is told before any costly work).
async fn read_field(
    app: &App,
    request: Request,
    name: &str,
) -> Result<zeroize::Zeroizing<String>, Problem> {
    // A form of a few hundred bytes: while it arrives, the connection gives
    // way like one still sending its headers (`connections`).
    let connection = request.extensions().get::<ConnectionHandle>().cloned();
    if let Some(connection) = &connection {
        connection.reading_form();
    }
    let body = urlencoded::read(request.into_body(), app.policy.header_timeout).await;
    if let Some(connection) = &connection {
        connection.serving();
    }
    let body = body?;
    Ok(urlencoded::field(&body, name).unwrap_or_default())
}

pub async fn show(State(app): AppState, lang: Lang, request: Request) -> Response {
    let (status, page) = match show_replies(&app, lang, request).await {
        Ok(page) => (StatusCode::OK, page),
        Err(problem) => (problem.status(), problem_text(&app, lang, problem)),
    };
    // Every answer to a login has one length, whatever the codename found.
    html(status, pages::padded(page, app.replies_answer_size))
}

async fn show_replies(app: &Arc<App>, lang: Lang, request: Request) -> Result<String, Problem> {
    channel(app)?;
    let typed = read_field(app, request, form::CODENAME).await?;
    let codename = Codename::parse(&typed).map_err(|_| Problem::CodenameTypo)?;
    drop(typed);
    replies_page(app, lang, codename).await
}

/// How many logins may wait for a turn of the login pool; more get the busy
/// page at once.
pub const LOGIN_QUEUE: usize = 64;

/// The replies page for a codename: one login turn, one page of replies.
async fn replies_page(app: &Arc<App>, lang: Lang, codename: Codename) -> Result<String, Problem> {
    let turn = app
        .pools
        .logins
        .queued_turn(LOGIN_QUEUE)
        .await
        .ok_or(Problem::LoginBusy)?;
    let job = app.clone();
    app.pools
        .logins
        .run_on_turn(turn, move || {
            let channel = job.replies.as_ref().ok_or(Problem::NotFound)?;
            let page = channel
                .page_for(&codename)
                .map_err(|_| internal(&job, Internal::RepliesIo))?;
            let desk = page
                .desk
                .as_deref()
                .and_then(|name| job.desks.position(name));
            let proof = Proof {
                codename,
                desk,
                shown: page.shown.iter().map(|f| f.name.clone()).collect(),
            };
            let token = channel.tokens.issue(&proof, job.clock.now());
            let replies: Vec<_> = page.shown.iter().map(|f| &f.reply).collect();
            let shown = pages::RepliesShown {
                replies: &replies,
                more: page.more,
                desk: desk
                    .and_then(|d| job.desks.named_at(d))
                    .map(|d| d.name.as_str()),
            };
            Ok(pages::replies(lang, &shown, &token, &job.policy))
        })
        .await
        .map_err(|_| internal(app, Internal::JobLost))?
}

pub async fn follow_up(State(app): AppState, lang: Lang, request: Request) -> Response {
    if let Err(problem) = channel(&app) {
        return problem_page(&app, lang, problem);
    }
    let (parts, body) = request.into_parts();
    let connection = parts.extensions.get().cloned();
    let outcome = upload::ingest(
        app.clone(),
        &parts.headers,
        connection,
        body,
        Form::FollowUp,
    )
    .await;
    answer_submission(&app, lang, Form::FollowUp, outcome)
}

pub async fn delete(State(app): AppState, lang: Lang, request: Request) -> Response {
    let result = delete_replies(&app, lang, request).await;
    page_or_problem(&app, lang, result)
}

async fn delete_replies(app: &Arc<App>, lang: Lang, request: Request) -> Result<Response, Problem> {
    let channel = channel(app)?;
    let token = read_field(app, request, form::TOKEN).await?;
    let proof = channel.proof_of(&token, app.clock.now())?;
    // Exactly the replies the page showed: none pushed since is touched.
    // Only memory and the runtime folder change; the files go at the pass.
    let job = app.clone();
    app.pools
        .logins
        .run(move || {
            let channel = job.replies.as_ref().ok_or(Problem::NotFound)?;
            channel
                .folder
                .delete(&proof.shown, job.clock.now())
                .map_err(|_| internal(&job, Internal::RepliesIo))
        })
        .await
        .map_err(|_| internal(app, Internal::JobLost))??;
    Ok(html(StatusCode::OK, pages::replies_deleted(lang)))
}
