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

pub mod export;
pub mod i18n;
pub mod keys;
pub mod text;
pub mod ui;
pub mod workspace;

/// A picture of two pixels (PNG), made here, for [`self_check`].
const CHECK_PICTURE: [u8; 74] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 2, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 244, 34, 127, 138, 0, 0, 0, 17, 73, 68, 65, 84, 120, 156, 99, 96, 104, 248, 255, 255, 63,
    3, 195, 127, 0, 19, 121, 4, 125, 247, 169, 123, 129, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96,
    130,
];

/// Whether the sandbox helper is there, trusted, confines itself and
/// answers the inbox's picture job (an older helper would not know it):
/// its path, or why not. The window runs it at start too.
pub fn self_check() -> Result<String, String> {
    let sandbox = sealdrop_open::shared::sandbox().map_err(|e| e.to_string())?;
    let cannot = |e: String| {
        format!(
            "the sandbox helper {} cannot decode pictures ({e}); install sealdrop-open of the \
             same version as sealdrop-inbox",
            sandbox.helper().display()
        )
    };
    let pixels = sandbox
        .render(&CHECK_PICTURE, 16)
        .map_err(|e| cannot(e.to_string()))?
        .map_err(|e| cannot(e.0))?;
    if (pixels.width, pixels.height) != (2, 1) || pixels.rgba != [0, 128, 255, 255, 255, 0, 0, 255]
    {
        return Err(format!(
            "the sandbox helper {} decoded a picture wrongly; reinstall sealdrop-open",
            sandbox.helper().display()
        ));
    }
    Ok(sandbox.helper().display().to_string())
}
