//! The sealed format and the offline tool: what editors rely on. These tests
//! need no network code (`cargo test --no-default-features --features pq`
//! runs them), except the post-quantum round trips through the real server.

use sealdrop_testkit as common;

mod cctv;
mod format;
mod golden;
mod interop;
mod laptop;
mod open_cli;
mod pq;
mod readme;
mod replies;
mod sandbox;
mod scrub;
mod zip64;
