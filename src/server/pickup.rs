//! The pickup API, served only on its own listener (docs/PICKUP.md).
//!
//! `GET /v1/submissions` lists pending files (id, size, SHA-256 of the
//! ciphertext; nothing else); `GET /v1/submissions/{id}` streams one;
//! `POST /v1/submissions/{id}/ack` with `{"sha256": "…"}` deletes it, only if
//! the hash matches. Every route, unknown ones included, needs the bearer
//! token; the server keeps only SHA-256 hashes of tokens and compares them in
//! constant time. Failed attempts are serialized and slowed down globally.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::store::SEALED_SUFFIX;
use super::AppInner;
use crate::seal::writer::hex;

/// Tokens look like `sealdrop-pickup-v1-<64 hex digits>` (256 random bits).
pub const TOKEN_PREFIX: &str = "sealdrop-pickup-v1-";
/// Each failed authentication holds the global gate this long.
pub const FAILURE_DELAY: Duration = Duration::from_secs(1);

/// A new token and the hex SHA-256 that the server stores.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex(&bytes));
    let hash = hex(&Sha256::digest(token.as_bytes()));
    (token, hash)
}

/// Parses a configured token hash (64 hex digits).
pub fn parse_token_hash(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bad = || {
        format!("{text:?} is not a pickup token hash (64 hex digits from `sealdrop pickup-token`)")
    };
    if text.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub struct PickupState {
    pub app: Arc<AppInner>,
    token_hashes: Vec<[u8; 32]>,
    failures: tokio::sync::Mutex<()>,
}

impl PickupState {
    pub fn new(app: Arc<AppInner>, token_hashes: Vec<[u8; 32]>) -> Arc<Self> {
        Arc::new(PickupState {
            app,
            token_hashes,
            failures: tokio::sync::Mutex::new(()),
        })
    }

    fn accepts(&self, presented: Option<&str>) -> bool {
        let Some(token) = presented else { return false };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare against every hash, without early exit.
        self.token_hashes
            .iter()
            .fold(subtle::Choice::from(0u8), |found, known| {
                found | known.ct_eq(&digest)
            })
            .into()
    }
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
    if state.accepts(presented) {
        return next.run(request).await;
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

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Listing {
    pub submissions: Vec<Pending>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Ack {
    pub sha256: String,
}

fn file_name(id: &str) -> String {
    format!("{id}{SEALED_SUFFIX}")
}

async fn list(State(state): State<Arc<PickupState>>) -> Response {
    let app = state.app.clone();
    let listed = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<Pending>> {
        let mut pending = Vec::new();
        for (name, size) in app.store.sealed_files()? {
            match app.store.sealed_sha256(&name) {
                Ok(hash) => pending.push(Pending {
                    id: name.trim_end_matches(SEALED_SUFFIX).to_owned(),
                    size,
                    sha256: hex(&hash),
                }),
                // Removed by a concurrent acknowledgement.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
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

async fn download(State(state): State<Arc<PickupState>>, Path(id): Path<String>) -> Response {
    let Some(path) = state.app.store.path_of(&file_name(&id)) else {
        return json_error(StatusCode::NOT_FOUND, "no such submission");
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return json_error(StatusCode::NOT_FOUND, "no such submission"),
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => return json_error(StatusCode::NOT_FOUND, "no such submission"),
    };
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
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
    Path(id): Path<String>,
    body: Result<Json<Ack>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(ack)) = body else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "send {\"sha256\": \"<hex>\"} as JSON",
        );
    };
    let name = file_name(&id);
    let app = state.app.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<(), (StatusCode, &'static str)> {
        let actual = app
            .store
            .sealed_sha256(&name)
            .map_err(|_| (StatusCode::NOT_FOUND, "no such submission"))?;
        if !hex(&actual).eq_ignore_ascii_case(ack.sha256.trim()) {
            return Err((
                StatusCode::CONFLICT,
                "sha256 does not match; nothing was deleted",
            ));
        }
        app.store.remove_sealed(&name).map_err(|e| match e.kind() {
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

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "no such route")
}

pub fn router(state: Arc<PickupState>) -> Router {
    Router::new()
        .route("/v1/submissions", get(list))
        .route("/v1/submissions/{id}", get(download))
        .route("/v1/submissions/{id}/ack", post(acknowledge))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .layer(axum::middleware::map_response(
            super::headers::security_headers,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_as_printed() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(
            parse_token_hash(&hash).unwrap(),
            <[u8; 32]>::from(Sha256::digest(a.as_bytes()))
        );
        assert!(parse_token_hash("abc").is_err());
        assert!(parse_token_hash(&"g".repeat(64)).is_err());
    }
}
