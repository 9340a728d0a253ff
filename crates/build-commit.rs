//! Build script shared by the crates that make programs (sealdrop,
//! sealdrop-open, sealdrop-scrub's sandbox helper): names the commit a
//! binary was built from, so that `--version` says which source it is and
//! two reproducible builds can be told apart from two releases.
//!
//! `SEALDROP_COMMIT` in the environment wins (a build from a source tarball
//! has no `.git`); else `git rev-parse HEAD`; else "unknown". Only the commit
//! is named: a build from a work tree with uncommitted changes says the
//! commit it started from (scripts/build-packages.sh refuses such a tree, and
//! sets `SEALDROP_COMMIT`: its target folder is shared between checkouts).

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=SEALDROP_COMMIT");
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    let commit = match std::env::var("SEALDROP_COMMIT") {
        Ok(commit) if !commit.is_empty() => commit,
        _ => {
            // Rebuild when HEAD moves: HEAD itself, the branch it names,
            // and packed refs (where a branch lives after `git gc`).
            for file in ["HEAD", "packed-refs"] {
                if let Some(path) = git(
                    dir,
                    &["rev-parse", "--path-format=absolute", "--git-path", file],
                ) {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
                if let Some(path) = git(
                    dir,
                    &["rev-parse", "--path-format=absolute", "--git-path", &branch],
                ) {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            git(dir, &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=SEALDROP_COMMIT={commit}");
}
