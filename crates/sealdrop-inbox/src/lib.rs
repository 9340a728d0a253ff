//! Runs on the air-gapped laptop (Tails or a Debian desktop, offline):
//! `sealdrop-inbox`, the editors' desktop app. It imports a folder of sealed
//! submissions into a workspace (verified, decrypted, inspected and cleaned
//! by the same code as `sealdrop-open decrypt --scrub`, every stranger's
//! byte parsed in the sandbox helper), shows each source's conversation,
//! the cleaned files and what they reveal, and seals replies into an outbox
//! for `sealdrop push-replies`. It names no network crate
//! (scripts/check-offline-deps.sh).
//!
//! The order of the code follows the editor's day: `workspace` (the folder
//! and its index, no GTK: import, threads, outbox), `keys` (identities held
//! in memory and forgotten), `text` and `i18n` (what is shown, in which
//! direction and language), then `ui` (the GTK windows over all of it).

pub mod i18n;
pub mod keys;
pub mod text;
pub mod ui;
pub mod workspace;
