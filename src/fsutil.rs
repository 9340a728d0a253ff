//! File-system steps shared by the server, the pickup client and
//! `sealdrop-open`: atomic placement without overwriting, and durable folders.

use std::fs::File;
use std::io;
use std::path::Path;

/// Renames `from` to `to`, failing (EEXIST) instead of replacing whatever is
/// at `to`: nothing is ever overwritten, even by a race.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(io::Error::from)
}

/// Makes a folder's entries (new, renamed or removed files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
