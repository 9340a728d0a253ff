//! Runs on the online server: `sealdrop serve`. It holds only public keys,
//! seals each submission as it streams in, and keeps nothing that identifies
//! a source.
//!
//! Where to start reading:
//! - [`run`]: start-up and signals, what the binary calls;
//! - [`serve`]: the entry point that takes bound listeners and a shutdown
//!   future (tests start the real server in-process through it);
//! - [`listen`]: connections (timeouts, caps) → [`router`]: the source site →
//!   [`upload`]: a submission's bytes, in the order they flow, down to the
//!   sealed file in the [`store`];
//! - [`replies`]: the source's side of the reply channel (codename in,
//!   replies out, follow-ups into [`upload`]);
//! - [`outcome`]: how a request can end badly, and [`answer`]: the one
//!   place an outcome becomes a page and is counted; [`form`]: the forms'
//!   field names;
//! - [`pickup_api`]: the editors' side door, on its own listeners (pickup of
//!   sealed files, push of replies);
//! - [`census`]: what `sealdrop status` reads of the store, touching no
//!   submission.

mod answer;
mod app;
pub mod census;
pub mod clock;
pub mod config;
pub mod connections;
mod desks;
pub mod form;
mod headers;
mod listen;
pub mod logging;
pub mod notify;
mod outcome;
pub mod pages;
pub mod pickup_api;
mod rate;
pub mod replies;
pub mod router;
pub mod run;
mod serve;
mod stats;
pub mod store;
mod tls;
pub mod upload;
pub mod workers;

pub use app::{App, StartError};
pub use config::{ConfigError, ListenAddr, Policy, ServeConfig, ServeOptions};
pub use desks::{check_specs as check_desks, DeskSpec};
pub use listen::{Listener, Listeners};
pub use serve::{maintenance_pass, serve};
