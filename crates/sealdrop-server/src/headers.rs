//! Security headers on every response, errors included, and removal of
//! anything that could track or fingerprint a source.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy: nothing may load or run but the stylesheet inlined in each
/// page, allowed by its hash (so a page is one request, and no other style,
/// and no script at all, can apply).
pub(crate) fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        let css_hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(super::pages::CSS));
        format!(
            "default-src 'none'; style-src 'self' 'sha256-{css_hash}'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

pub(crate) const PERMISSIONS_POLICY: &str = "accelerometer=(), ambient-light-sensor=(), autoplay=(), \
battery=(), browsing-topics=(), camera=(), display-capture=(), document-domain=(), encrypted-media=(), \
fullscreen=(), geolocation=(), gyroscope=(), hid=(), interest-cohort=(), magnetometer=(), \
microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), \
screen-wake-lock=(), serial=(), sync-xhr=(), usb=(), xr-spatial-tracking=()";

/// The fixed headers, as (name, value) pairs; also used for the canned 503
/// written to connections beyond the cap.
pub(crate) fn fixed() -> [(&'static str, &'static str); 10] {
    [
        ("content-security-policy", content_security_policy()),
        ("cache-control", "no-store, max-age=0"),
        ("pragma", "no-cache"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-embedder-policy", "require-corp"),
        ("cross-origin-resource-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
    ]
}

pub(crate) fn apply(headers: &mut HeaderMap) {
    for (name, value) in fixed() {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    for name in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::SERVER,
        header::SET_COOKIE,
        header::VARY,
    ] {
        headers.remove(name);
    }
}

/// Middleware: `axum::middleware::map_response(security_headers)`.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    apply(response.headers_mut());
    response
}
