//! Runs on the air-gapped laptop: every hostile file is parsed in a child
//! process that can do nothing but read its stdin and write its stdout.
//!
//! Rust makes memory bugs in our parsers and their crates (flate2, zip,
//! quick-xml, kamadak-exif) unlikely, not impossible. So `inspect`, `scrub`
//! and the reading of each submission's ZIP archive run in
//! `sealdrop-sandbox`, one child per file, started by its absolute path:
//!
//! - before it reads a byte it limits itself ([`crate::limits`]: CPU time,
//!   address space, no file writes, no core dump), makes itself
//!   non-dumpable, restricts itself with Landlock (no file, no TCP port, no
//!   signal out) and installs a system-call allow-list (no `open`, `socket`,
//!   `execve`, `clone`, `ptrace`, nor executable memory);
//! - the parent (`sealdrop-open`, the inbox) decrypts, sends bytes on a
//!   pipe, reads the answer under caps ([`wire`]), ends a child that takes
//!   too long, and writes every file itself, never overwriting;
//! - a child that crashes, hangs or breaks the protocol leaves its file NOT
//!   CLEANED (or unchecked), with the reason.
//!
//! In order of the bytes: [`parent`] starts a child and feeds it, [`child`]
//! confines itself and does the job, [`wire`] is what they say, and
//! [`archive`] is the two-way job of reading a submission.

pub mod archive;
pub mod child;
pub mod parent;
mod self_test;
pub mod wire;

pub use crate::render::Pixels;
pub use archive::{ArchiveError, ArchiveOutcome, ArchiveSink};
pub use parent::MAX_RENDER_SIDE;
pub use parent::{Sandbox, SandboxError};
pub use wire::{Confinement, Deliver, Misbehaviour, SelfTestFindings};
