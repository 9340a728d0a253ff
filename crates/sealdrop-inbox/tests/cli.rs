//! The command line of `sealdrop-inbox`, before any window: what it says of
//! itself and what it refuses. (Its window is driven through the
//! accessibility tree in sealdrop-testkit's `inbox` test; this test also
//! has `cargo test --workspace` build the program that test runs.)

use std::process::Command;

fn inbox(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sealdrop-inbox"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("sealdrop-inbox runs")
}

#[test]
fn version_names_the_commit_and_help_every_option() {
    let out = inbox(&["--version"]);
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(version.starts_with("sealdrop-inbox 0."), "{version}");
    assert!(version.contains("(commit "), "{version}");
    let out = inbox(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for option in ["--workspace", "--outbox", "--forget-keys-after", "--lang"] {
        assert!(help.contains(option), "{option} in {help}");
    }
}

#[test]
fn an_unknown_language_or_idle_time_is_refused_before_any_window() {
    let out = inbox(&["--lang", "de"]);
    assert_eq!(out.status.code(), Some(2));
    let error = String::from_utf8(out.stderr).unwrap();
    assert!(error.contains("en, ar, fa, ku, tr, fr, es, ru"), "{error}");
    let out = inbox(&["--forget-keys-after", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
