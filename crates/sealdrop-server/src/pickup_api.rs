//! The server side of the pickup protocol (`sealdrop_format::pickup`, docs/PICKUP.md),
//! served only on its own listeners. Every route, unknown ones included,
//! needs the bearer token; the server keeps only SHA-256 hashes of tokens and
//! compares them in constant time. Failed attempts are serialized and slowed
//! down globally.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use subtle::ConstantTimeEq;

use super::connections::ConnectionHandle;
use super::App;
use crate::config::TokenScope;
use crate::store::replies::Put;
use crate::store::Store;
use sealdrop_format::hex;
use sealdrop_format::id::SubmissionId;
use sealdrop_format::pickup::{Ack, Listing, Pending, Pushed, TokenHash, LIST_PATH, REPLIES_PATH};
use sealdrop_format::reply::file::{check_shape, REPLY_FILE_LEN};

/// Each failed authentication holds the global gate this long.
pub const FAILURE_DELAY: Duration = Duration::from_secs(1);

pub struct PickupState {
    pub app: Arc<App>,
    failures: tokio::sync::Mutex<()>,
}

impl PickupState {
    /// The scope of the presented token, if it is one the server accepts.
    fn accepts(&self, presented: Option<&str>) -> Option<TokenScope> {
        let token = presented?;
        let digest = TokenHash::of(token);
        // Compare against every hash, without early exit.
        let matched: Vec<bool> = self
            .app
            .pickup_tokens
            .iter()
            .map(|known| known.hash.0.ct_eq(&digest.0).into())
            .collect();
        let index = matched.iter().position(|m| *m)?;
        Some(self.app.pickup_tokens[index].scope.clone())
    }
}

/// The store folders whose submissions a token's scope covers: one desk's,
/// or for an unscoped token every desk's and the store's own, where
/// submissions from before desks were turned on still wait (`STORE/*.age`,
/// `PREFIX/*.age`); none for a push-only token.
fn stores_in<'a>(app: &'a App, scope: &'a TokenScope) -> Vec<&'a Arc<Store>> {
    match scope {
        TokenScope::All => crate::app::stores(&app.store, &app.desks),
        TokenScope::Desk(name) => app
            .desks
            .iter()
            .filter(|desk| desk.name == *name)
            .map(|desk| &desk.store)
            .collect(),
        TokenScope::Replies => Vec::new(),
    }
}

/// The store in scope that holds submission `id` (blocking: with an object
/// store, it asks the store).
fn store_holding<'a>(
    app: &'a App,
    scope: &'a TokenScope,
    id: &SubmissionId,
) -> Option<&'a Arc<Store>> {
    stores_in(app, scope)
        .into_iter()
        .find(|store| store.holds(id).unwrap_or(false))
}

/// A push-only token's answer on the routes that read submissions.
fn push_only() -> Response {
    json_error(
        StatusCode::FORBIDDEN,
        "this token (replies:…) can only push replies; pick up with a desk's or an unscoped token",
    )
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn authenticate(
    State(state): State<Arc<PickupState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(scope) = state.accepts(presented) {
        let mut request = request;
        request.extensions_mut().insert(scope);
        return next.run(request).await;
    }
    // The answer is decided: while it waits its turn, this connection gives
    // way to any newcomer (an editor with the right token) when the
    // pickup side's connections are all taken (`connections`).
    if let Some(connection) = request.extensions().get::<ConnectionHandle>() {
        connection.refused();
    }
    // One failure at a time, each taking FAILURE_DELAY: guessing is slowed
    // globally, whatever the number of connections; valid tokens never wait.
    let gate = state.failures.lock().await;
    tokio::time::sleep(FAILURE_DELAY).await;
    drop(gate);
    let mut response = json_error(StatusCode::UNAUTHORIZED, "unauthorized");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn list(
    State(state): State<Arc<PickupState>>,
    Extension(scope): Extension<TokenScope>,
) -> Response {
    if scope == TokenScope::Replies {
        return push_only();
    }
    let app = state.app.clone();
    let listed = state
        .app
        .pools
        .pickup
        .run(move || -> std::io::Result<Vec<Pending>> {
            let mut pending = Vec::new();
            for store in stores_in(&app, &scope) {
                for (id, size) in store.sealed_files()? {
                    match store.sealed_sha256(&id) {
                        Ok(hash) => pending.push(Pending {
                            id: id.to_string(),
                            size,
                            sha256: hex::encode(&hash),
                        }),
                        // Removed by a concurrent acknowledgement.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(pending)
        })
        .await;
    match listed {
        Ok(Ok(submissions)) => Json(Listing { submissions }).into_response(),
        _ => json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store"),
    }
}

async fn download(
    State(state): State<Arc<PickupState>>,
    Extension(scope): Extension<TokenScope>,
    Path(id): Path<String>,
) -> Response {
    if scope == TokenScope::Replies {
        return push_only();
    }
    let Some(id) = SubmissionId::parse(&id) else {
        return json_error(StatusCode::NOT_FOUND, "no such submission");
    };
    // Another desk's submission is, for this token, no submission at all.
    let app = state.app.clone();
    let looked_up = id.clone();
    let desk = state
        .app
        .pools
        .pickup
        .run(move || store_holding(&app, &scope, &looked_up).cloned())
        .await;
    let Ok(Some(store)) = desk else {
        return json_error(StatusCode::NOT_FOUND, "no such submission");
    };
    let (len, stream) = match store.read_sealed(&id).await {
        Ok(found) => found,
        Err(_) => return json_error(StatusCode::NOT_FOUND, "no such submission"),
    };
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}

async fn acknowledge(
    State(state): State<Arc<PickupState>>,
    Extension(scope): Extension<TokenScope>,
    Path(id): Path<String>,
    body: Result<Json<Ack>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if scope == TokenScope::Replies {
        return push_only();
    }
    let Ok(Json(ack)) = body else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "send {\"sha256\": \"<hex>\"} as JSON",
        );
    };
    let Some(id) = SubmissionId::parse(&id) else {
        return json_error(StatusCode::NOT_FOUND, "no such submission");
    };
    let app = state.app.clone();
    let result = state
        .app
        .pools
        .pickup
        .run(move || -> Result<(), (StatusCode, &'static str)> {
            let store = store_holding(&app, &scope, &id)
                .ok_or((StatusCode::NOT_FOUND, "no such submission"))?;
            let actual = store
                .sealed_sha256(&id)
                .map_err(|_| (StatusCode::NOT_FOUND, "no such submission"))?;
            if !hex::encode(&actual).eq_ignore_ascii_case(ack.sha256.trim()) {
                return Err((
                    StatusCode::CONFLICT,
                    "sha256 does not match; nothing was deleted",
                ));
            }
            store.remove_sealed(&id).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => (StatusCode::NOT_FOUND, "no such submission"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "could not delete"),
            })
        })
        .await;
    match result {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err((status, message))) => json_error(status, message),
        Err(_) => json_error(StatusCode::INTERNAL_SERVER_ERROR, "could not delete"),
    }
}

/// Stores a pushed reply for its source: only what `sealdrop-open reply`
/// writes is taken; nothing touches the folder before that check. A
/// desk-scoped token cannot push (desk editors get a `replies:` token).
async fn push_reply(
    State(state): State<Arc<PickupState>>,
    Extension(scope): Extension<TokenScope>,
    body: Body,
) -> Response {
    if let TokenScope::Desk(_) = scope {
        return json_error(
            StatusCode::FORBIDDEN,
            "a desk's pickup token cannot push replies: push with a replies:… token (sealdrop pickup-token, then --pickup-token-sha256 replies:HEX)",
        );
    }
    if state.app.replies.is_none() {
        return json_error(
            StatusCode::NOT_FOUND,
            "replies are turned off on this server (--replies false)",
        );
    }
    let bytes = match axum::body::to_bytes(body, REPLY_FILE_LEN + 1).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a reply file is exactly 20480 bytes; this is not one",
            )
        }
    };
    let preamble = match check_shape(&bytes) {
        Ok(preamble) => preamble,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    // Replies count under the quota, and each waits for its turn like an
    // upload (the reservation is given back once the file is counted).
    let Ok(reservation) = state.app.store.reserve(bytes.len() as u64) else {
        return json_error(
            StatusCode::INSUFFICIENT_STORAGE,
            "the server's disk or its --store-quota is too full to store replies",
        );
    };
    let app = state.app.clone();
    let stored = state
        .app
        .pools
        .pickup
        .run(move || {
            let channel = app
                .replies
                .as_ref()
                .ok_or_else(|| std::io::Error::other("replies off"))?;
            let put = channel
                .folder
                .put(&app.store, &bytes, &preamble, app.clock.now());
            drop(reservation);
            put
        })
        .await;
    match stored {
        Ok(Ok(Put::Stored(name))) => (
            StatusCode::CREATED,
            Json(Pushed {
                stored: name,
                new: true,
            }),
        )
            .into_response(),
        Ok(Ok(Put::AlreadyThere(name))) => (
            StatusCode::OK,
            Json(Pushed {
                stored: name,
                new: false,
            }),
        )
            .into_response(),
        Ok(Ok(Put::Gone(why))) => json_error(StatusCode::GONE, why),
        Ok(Ok(Put::Refused(why))) => json_error(StatusCode::BAD_REQUEST, why),
        _ => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not store the reply",
        ),
    }
}

/// Every 500 of the pickup API, counted in the interval summary.
async fn count_failures(
    State(state): State<Arc<PickupState>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        state.app.stats.internal(crate::outcome::Internal::PickupIo);
    }
    response
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "no such route")
}

pub fn router(app: Arc<App>) -> Router {
    let state = Arc::new(PickupState {
        app,
        failures: tokio::sync::Mutex::new(()),
    });
    Router::new()
        .route(LIST_PATH, get(list))
        .route(&format!("{LIST_PATH}/{{id}}"), get(download))
        .route(&format!("{LIST_PATH}/{{id}}/ack"), post(acknowledge))
        .route(REPLIES_PATH, post(push_reply))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_failures,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .layer(axum::middleware::map_response(
            super::headers::security_headers,
        ))
        .with_state(state)
}
