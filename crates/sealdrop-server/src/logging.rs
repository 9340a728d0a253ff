//! Logging policy, enforced in code: only sealdrop's own events are ever
//! printed, whatever RUST_LOG says. Dependency crates (hyper, h2, rustls,
//! tokio, …) log request heads and addresses at debug and trace level, so they
//! are cut off entirely rather than capped by level. sealdrop's own events never
//! carry a client address, a header, a path with an id or a per-request time.

use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The workspace's crates whose events may be printed (a tracing target is
/// the module path, whose first segment is the crate).
const OWN_CRATES: [&str; 3] = ["sealdrop", "sealdrop_server", "sealdrop_format"];

/// True for events this policy lets through.
pub fn is_own_target(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    OWN_CRATES.contains(&krate)
}

pub fn init() {
    let level = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_filter(level)
        .with_filter(filter_fn(|meta| is_own_target(meta.target())));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
