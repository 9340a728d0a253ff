//! Process hardening that every sealdrop program applies before it touches
//! a secret or a source's bytes: the server (uploads pass through its memory
//! in plaintext) and the laptop programs (keys and decrypted submissions).

/// The global allocator of every sealdrop binary: each heap block is wiped
/// as it is freed, so freed buffers keep no plaintext, names or headers
/// (SECURITY.md, "What stays in memory"). 1Password's small wrapper around the
/// system allocator; its unsafe code is the `GlobalAlloc` impl itself.
pub type WipingAllocator = zeroizing_alloc::ZeroAlloc<std::alloc::System>;

/// The value a binary declares as its `#[global_allocator]`.
pub const WIPING_ALLOCATOR: WipingAllocator = zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// No core dumps and no ptrace by other processes of the same user. Returns
/// the error so that each program decides how loudly to say it.
pub fn make_non_dumpable() -> std::io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(std::io::Error::from)
}

/// Locks the memory pages that hold `value` in RAM for as long as the
/// process lives, so that they are never written to swap, where
/// `RLIMIT_MEMLOCK` allows (8 MiB for a user by default; a few pages are
/// used). Returns whether it could. Nothing is ever unlocked: locks are
/// per page, not per value, and a page a passphrase shared with a key must
/// stay locked for the key.
pub fn keep_in_ram<T: ?Sized>(value: &T) -> bool {
    let len = std::mem::size_of_val(value);
    if len == 0 {
        return true;
    }
    match region::lock((value as *const T).cast::<u8>(), len) {
        Ok(guard) => {
            std::mem::forget(guard);
            true
        }
        Err(_) => false,
    }
}

/// What the laptop programs do first, before any thread starts and before
/// any key or hostile byte is touched: no core dump and no ptrace by other
/// processes of the same user (`PR_SET_DUMPABLE` 0, `RLIMIT_CORE` 0), and a
/// `PATH` of absolute folders only, so that a hardware key's plugin is never
/// found in the folder the program runs from (a `.` or empty entry, on a USB
/// stick a source's file came in on). Returns what failed, for the program
/// to refuse to go on.
pub fn harden_offline_process() -> std::io::Result<()> {
    make_non_dumpable()?;
    let none = rustix::process::Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    rustix::process::setrlimit(rustix::process::Resource::Core, none)
        .map_err(std::io::Error::from)?;
    if let Some(path) = std::env::var_os("PATH") {
        let absolute = absolute_path_entries(&path);
        // Edition 2021: safe; called before the program starts any thread.
        std::env::set_var("PATH", absolute);
    }
    Ok(())
}

/// `path` (a `PATH` value) with only its absolute entries, in order; the
/// system's folders when none is left (an empty `PATH` means the current
/// folder to the program lookup age uses).
pub fn absolute_path_entries(path: &std::ffi::OsStr) -> std::ffi::OsString {
    let kept: Vec<std::path::PathBuf> = std::env::split_paths(path)
        .filter(|entry| entry.is_absolute())
        .collect();
    match std::env::join_paths(kept) {
        Ok(joined) if !joined.is_empty() => joined,
        _ => std::ffi::OsString::from("/usr/bin:/bin"),
    }
}

/// Why `program` may not be run as a hardware key's plugin: a file or a
/// folder above it that someone other than root or this user owns, or that
/// its group or everyone may write (folders with the sticky bit, such as
/// `/tmp`, excepted for their entries' renaming, not for the file itself).
/// `None` when only root or this user could have put it there.
pub fn untrusted_program(program: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let check = |path: &std::path::Path, is_file: bool| -> Option<String> {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => return Some(format!("{} cannot be checked: {e}", path.display())),
        };
        if meta.uid() != 0 && meta.uid() != me {
            return Some(format!(
                "{} belongs to user {}, not to root or you",
                path.display(),
                meta.uid()
            ));
        }
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.mode() & 0o022 != 0 && (is_file || !sticky) {
            return Some(format!(
                "{} can be written by {}",
                path.display(),
                if meta.mode() & 0o002 != 0 {
                    "every user"
                } else {
                    "its group"
                }
            ));
        }
        None
    };
    // The path as found, every link it goes through (whoever can change a
    // link's folder can point it elsewhere), and the file it ends at.
    let mut paths = vec![program.to_owned()];
    let mut hop = program.to_owned();
    for _ in 0..40 {
        match std::fs::read_link(&hop) {
            Ok(target) => {
                hop = hop.parent().map_or(target.clone(), |p| p.join(&target));
                paths.push(hop.clone());
            }
            Err(_) => break,
        }
    }
    if let Ok(real) = std::fs::canonicalize(program) {
        paths.push(real);
    }
    for path in paths {
        if let Some(why) = check(&path, true) {
            return Some(why);
        }
        for folder in path.ancestors().skip(1) {
            if folder.as_os_str().is_empty() {
                continue;
            }
            if let Some(why) = check(folder, false) {
                return Some(why);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_empty_path_entries_are_dropped() {
        let path = std::ffi::OsStr::new(".:/opt/bin::bin:/bin:./x");
        assert_eq!(absolute_path_entries(path), "/opt/bin:/bin");
        for nothing_absolute in [".", "", "bin:.:"] {
            assert_eq!(
                absolute_path_entries(std::ffi::OsStr::new(nothing_absolute)),
                "/usr/bin:/bin"
            );
        }
    }

    #[test]
    fn programs_others_could_write_are_untrusted() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let program = d.path().join("age-plugin-x");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // tempdir's parent (/tmp) is sticky and world-writable: allowed.
        assert_eq!(untrusted_program(&program), None);
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(untrusted_program(&program).unwrap().contains("every user"));
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(untrusted_program(&program).unwrap().contains("its group"));
        // A link through a folder its group may write: whoever is in that
        // group can point the link elsewhere.
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let links = d.path().join("links");
        std::fs::create_dir(&links).unwrap();
        std::os::unix::fs::symlink(&program, links.join("yk")).unwrap();
        std::fs::set_permissions(&links, std::fs::Permissions::from_mode(0o775)).unwrap();
        let entry = d.path().join("entry");
        std::fs::create_dir(&entry).unwrap();
        std::os::unix::fs::symlink(links.join("yk"), entry.join("age-plugin-x")).unwrap();
        let why = untrusted_program(&entry.join("age-plugin-x")).unwrap();
        assert!(why.contains("links") && why.contains("its group"), "{why}");
    }
}
