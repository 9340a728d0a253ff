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
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{urlencoded, ReplyChannel};
use crate::answer::{answer_submission, html, problem_page};
use crate::connections::ConnectionHandle;
use crate::form;
use crate::outcome::{Internal, Problem};
use crate::pages::{self, Lang};
use crate::store::replies::Found;
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
    let result = show_replies(&app, lang, request).await;
    page_or_problem(&app, lang, result)
}

async fn show_replies(app: &Arc<App>, lang: Lang, request: Request) -> Result<Response, Problem> {
    channel(app)?;
    let typed = read_field(app, request, form::CODENAME).await?;
    let codename = Codename::parse(&typed).map_err(|_| Problem::CodenameTypo)?;
    drop(typed);
    replies_page(app, lang, codename).await
}

/// The replies page for a codename: one login turn, every reply tried.
async fn replies_page(app: &Arc<App>, lang: Lang, codename: Codename) -> Result<Response, Problem> {
    let page = on_her_replies(app, codename, move |app, channel, codename, found| {
        let token = channel.tokens.issue(codename, SystemTime::now());
        let shown: Vec<_> = found.iter().map(|f| &f.reply).collect();
        Ok(pages::replies(lang, &shown, &token, &app.policy))
    })
    .await?;
    Ok(html(StatusCode::OK, page))
}

/// Runs `work` on the replies that open with `codename`, on a login turn
/// (refused at once when every turn is taken: each costs a key agreement
/// per reply waiting); a fault of ours is counted by its kind.
async fn on_her_replies<T, F>(app: &Arc<App>, codename: Codename, work: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce(&App, &ReplyChannel, &Codename, Vec<Found>) -> Result<T, Problem> + Send + 'static,
{
    let turn = app.pools.logins.try_turn().ok_or(Problem::LoginBusy)?;
    let job = app.clone();
    app.pools
        .logins
        .run_on_turn(turn, move || {
            let channel = job.replies.as_ref().ok_or(Problem::NotFound)?;
            let found = channel
                .replies_for(&codename)
                .map_err(|_| internal(&job, Internal::RepliesIo))?;
            work(&job, channel, &codename, found)
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
    let codename = channel.codename_of(&token)?;
    on_her_replies(app, codename, |app, channel, _, found| {
        let names: Vec<_> = found.into_iter().map(|f| f.name).collect();
        channel
            .folder
            .remove(&names)
            .map_err(|_| internal(app, Internal::RepliesIo))
    })
    .await?;
    Ok(html(StatusCode::OK, pages::replies_deleted(lang)))
}
