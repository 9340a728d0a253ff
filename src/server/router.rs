//! Routes of the source-facing listener. Nothing else is served on it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::headers::security_headers;
use super::pages::{self, Lang, Problem};
use super::AppInner;

type App = State<Arc<AppInner>>;

fn html(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The one place a problem becomes a response: a readable page in the
/// source's language, with the matching status.
pub fn problem_page(app: &AppInner, lang: Lang, problem: Problem) -> Response {
    html(problem.status(), pages::error(lang, problem, &app.limits))
}

fn unknown_language(app: &AppInner) -> Response {
    problem_page(app, Lang::En, Problem::NotFound)
}

async fn index(State(app): App) -> Response {
    html(StatusCode::OK, app.pages.index(Lang::En))
}

async fn index_lang(State(app): App, Path(tag): Path<String>) -> Response {
    match Lang::from_tag(&tag) {
        Some(lang) => html(StatusCode::OK, app.pages.index(lang)),
        None => unknown_language(&app),
    }
}

async fn lang_root_redirect(State(app): App, Path(tag): Path<String>) -> Response {
    match Lang::from_tag(&tag) {
        Some(lang) => Redirect::permanent(&format!("{}/", lang.prefix())).into_response(),
        None => unknown_language(&app),
    }
}

async fn received(State(app): App) -> Response {
    html(StatusCode::OK, app.pages.received(Lang::En))
}

async fn received_lang(State(app): App, Path(tag): Path<String>) -> Response {
    match Lang::from_tag(&tag) {
        Some(lang) => html(StatusCode::OK, app.pages.received(lang)),
        None => unknown_language(&app),
    }
}

async fn submit_in(app: Arc<AppInner>, lang: Lang, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    match super::upload::ingest(app.clone(), &parts.headers, Body::new(body)).await {
        // Post/Redirect/Get: reloading the "received" page never resubmits.
        Ok(()) => Redirect::to(&format!("{}/received", lang.prefix())).into_response(),
        Err(problem) => {
            app.stats.count_rejection(problem);
            problem_page(&app, lang, problem)
        }
    }
}

async fn submit(State(app): App, request: Request) -> Response {
    submit_in(app, Lang::En, request).await
}

async fn submit_lang(State(app): App, Path(tag): Path<String>, request: Request) -> Response {
    match Lang::from_tag(&tag) {
        Some(lang) => submit_in(app, lang, request).await,
        None => unknown_language(&app),
    }
}

async fn css() -> Response {
    let mut response = pages::CSS.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

async fn not_found(State(app): App) -> Response {
    problem_page(&app, Lang::En, Problem::NotFound)
}

async fn method_not_allowed(State(app): App) -> Response {
    problem_page(&app, Lang::En, Problem::MethodNotAllowed)
}

pub fn router(app: Arc<AppInner>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/submit", post(submit))
        .route("/received", get(received))
        .route("/static/style.css", get(css))
        .route("/{lang}", get(lang_root_redirect))
        .route("/{lang}/", get(index_lang))
        .route("/{lang}/submit", post(submit_lang))
        .route("/{lang}/received", get(received_lang))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}
