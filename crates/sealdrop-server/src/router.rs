//! Routes of the source-facing listener; nothing else is served on it. Every
//! page exists at `/…` (English) and `/<lang>/…`: one handler serves both,
//! with the language taken from the URL by the [`Lang`] extractor.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::answer::{answer_submission, html, problem_page};
use super::headers::security_headers;
use super::outcome::Problem;
use super::pages::{self, Lang};
use super::replies::routes as replies;
use super::App;

type AppState = State<Arc<App>>;

/// The page language: the `{lang}` segment of the route, or English on
/// routes without one. An unknown language is a 404 page.
impl FromRequestParts<Arc<App>> for Lang {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Lang, Response> {
        let Ok(Path(params)) =
            Path::<HashMap<String, String>>::from_request_parts(parts, app).await
        else {
            return Ok(Lang::En);
        };
        match params.get("lang") {
            None => Ok(Lang::En),
            Some(tag) => {
                Lang::from_tag(tag).ok_or_else(|| problem_page(app, Lang::En, Problem::NotFound))
            }
        }
    }
}

async fn index(State(app): AppState, lang: Lang) -> Response {
    html(StatusCode::OK, app.pages.index(lang))
}

/// `/ar` → `/ar/`.
async fn lang_root_redirect(lang: Lang) -> Response {
    Redirect::permanent(&format!("{}/", lang.prefix())).into_response()
}

async fn received(State(app): AppState, lang: Lang) -> Response {
    html(StatusCode::OK, app.pages.received(lang))
}

async fn submit(State(app): AppState, lang: Lang, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let outcome = super::upload::ingest(
        app.clone(),
        &parts.headers,
        parts.extensions.get().cloned(),
        Body::new(body),
        super::upload::Form::Submit,
    )
    .await;
    answer_submission(&app, lang, super::upload::Form::Submit, outcome)
}

async fn css() -> Response {
    let mut response = pages::CSS.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

/// The language of a URL no route matched: its first segment when that is
/// a page language (`/ar/no-such-page` is answered in Arabic), else English.
fn language_of_path(path: &str) -> Lang {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .and_then(Lang::from_tag)
        .unwrap_or(Lang::En)
}

async fn not_found(State(app): AppState, uri: Uri) -> Response {
    problem_page(&app, language_of_path(uri.path()), Problem::NotFound)
}

async fn method_not_allowed(State(app): AppState, uri: Uri) -> Response {
    problem_page(
        &app,
        language_of_path(uri.path()),
        Problem::MethodNotAllowed,
    )
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/{lang}/", get(index))
        .route("/{lang}", get(lang_root_redirect))
        .route("/submit", post(submit))
        .route("/{lang}/submit", post(submit))
        .route("/received", get(received))
        .route("/{lang}/received", get(received))
        .route("/replies", get(replies::login_form).post(replies::show))
        .route(
            "/{lang}/replies",
            get(replies::login_form).post(replies::show),
        )
        .route("/replies/followup", post(replies::follow_up))
        .route("/{lang}/replies/followup", post(replies::follow_up))
        .route("/replies/delete", post(replies::delete))
        .route("/{lang}/replies/delete", post(replies::delete))
        .route("/static/style.css", get(css))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}
