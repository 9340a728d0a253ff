//! The one sandbox of a run: every byte a stranger wrote (a submission's
//! archive, an attachment to inspect or clean) is parsed in
//! `sealdrop-sandbox`, the helper installed beside this program
//! (`sealdrop_scrub::sandbox`). This program decrypts and writes; it never
//! parses a hostile format itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use sealdrop_scrub::sandbox::Sandbox;

use super::ToolError;

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// The helper beside this program, found and checked once.
pub fn sandbox() -> Result<&'static Sandbox, ToolError> {
    if let Some(sandbox) = SANDBOX.get() {
        return Ok(sandbox);
    }
    let program = std::env::current_exe().map_err(|e| {
        ToolError::Usage(format!(
            "cannot find where sealdrop-open is installed ({e}), so not its sandbox helper either"
        ))
    })?;
    let found = Sandbox::beside(&program).map_err(|e| ToolError::Usage(e.to_string()))?;
    Ok(SANDBOX.get_or_init(|| found))
}

/// Says once per run what the sandbox lacks on this kernel (an older
/// Landlock), after the first job showed it.
pub(crate) fn tell_what_it_lacks(sandbox: &Sandbox) {
    static TOLD: AtomicBool = AtomicBool::new(false);
    let Some(confinement) = sandbox.confinement() else {
        return;
    };
    if confinement.lacks.is_empty() || TOLD.swap(true, Ordering::Relaxed) {
        return;
    }
    for lack in &confinement.lacks {
        eprintln!("sealdrop-open: note: on this kernel the parsers' sandbox lacks {lack}");
    }
}
