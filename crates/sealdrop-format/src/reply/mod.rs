//! Runs in both programs: the reply channel's format (docs/FORMAT.md, "Replies").
//!
//! - [`codename`]: what the source is given after a first submission, and
//!   types back to read replies (server only);
//! - [`keys`]: what is derived from it: the thread id and the reply key pair
//!   (the server derives them; the recipient travels sealed in the manifest);
//! - [`file`]: a reply as `sealdrop-open reply` seals it and the server reads
//!   it for the source, padded so that every reply file has the same size.

pub mod codename;
pub mod file;
pub mod keys;

pub use codename::{Codename, CodenameError};
pub use file::{Reply, ReplyError, MAX_REPLY_BYTES, REPLY_FILE_LEN};
pub use keys::{ReplyIdentities, ThreadId};
