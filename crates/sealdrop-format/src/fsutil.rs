//! File-system steps shared by the server, the pickup client and
//! `sealdrop-open`: private folders and files, atomic placement without
//! overwriting, durable folders, and file hashes.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Creates a folder only its owner can enter (mode 0700), with any missing
/// parents (also 0700). An existing folder is left as it is.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// Creates one new folder of mode 0700; fails if anything exists at `path`.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(0o700).create(path)
}

/// Creates a new file only its owner can read (mode 0600), for writing; fails
/// (EEXIST) rather than touch anything already at `path`.
pub fn create_new_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

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

/// SHA-256 of everything `reader` yields.
pub fn sha256_of(mut reader: impl Read) -> io::Result<[u8; 32]> {
    let mut sha256 = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha256.update(&buf[..n]);
    }
    Ok(sha256.finalize().into())
}

/// SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    sha256_of(File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_and_folders_have_private_modes_and_never_replace() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("a/b");
        create_private_dir_all(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&d.path().join("a")), 0o700);
        assert!(create_private_dir(&dir).is_err());
        let file = dir.join("f");
        drop(create_new_private_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            create_new_private_file(&file).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(
            crate::hex::encode(&sha256_file(&file).unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let other = dir.join("g");
        std::fs::write(&other, b"x").unwrap();
        assert!(rename_no_replace(&file, &other).is_err());
        assert_eq!(std::fs::read(&other).unwrap(), b"x");
    }
}
