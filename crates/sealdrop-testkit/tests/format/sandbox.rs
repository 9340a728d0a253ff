//! The parsers' sandbox (issue 33, finding 5): `sealdrop-sandbox` cannot
//! open a file, a socket or a program; a child that crashes, spins, hangs,
//! runs out of memory or floods its parent leaves its file NOT CLEANED; an
//! older kernel's Landlock is named with what it lacks; and what comes back
//! is what the parsers say in-process.

use std::fs;

use sealdrop_scrub::sandbox::{Misbehaviour, Sandbox, SandboxError};

use crate::common::*;

fn sandbox() -> Sandbox {
    Sandbox::at(bin("sealdrop-sandbox")).expect("the helper built beside the tests is trusted")
}

#[test]
fn the_child_can_open_no_file_no_socket_and_no_program() {
    let dir = tempfile::tempdir().unwrap();
    // A file the test's own user may read and write: whatever stops the
    // child, it is not the file's mode.
    let readable = dir.path().join("readable.txt");
    fs::write(&readable, b"a secret beside the submission").unwrap();
    let sandbox = sandbox();
    let findings = sandbox.self_test(&readable).unwrap();
    assert_eq!(findings.attempts.len(), 6, "{findings:?}");
    for (attempt, stopped) in &findings.attempts {
        let why = stopped
            .as_deref()
            .unwrap_or_else(|| panic!("the sandboxed child could {attempt}"));
        assert!(
            why.contains("not permitted") || why.contains("denied"),
            "{attempt}: stopped by {why:?}, not by the sandbox"
        );
    }
    assert!(!dir.path().join("readable.txt.sandbox-test").exists());
    // This machine's kernel: Landlock in force, or said to be missing.
    let confinement = sandbox.confinement().unwrap();
    if confinement.landlock_abi == 0 {
        assert!(
            confinement.lacks.iter().any(|l| l.contains("Landlock")),
            "{confinement:?}"
        );
    } else {
        assert!(confinement.lacks.is_empty(), "{confinement:?}");
    }
}

#[test]
fn an_older_kernels_landlock_is_named_with_what_it_lacks() {
    let sandbox = sandbox().with_landlock_abi(2);
    let dir = tempfile::tempdir().unwrap();
    let readable = dir.path().join("readable.txt");
    fs::write(&readable, b"x").unwrap();
    // Still closed with ABI 2 (Tails 6, Linux 6.1): the system-call filter
    // does not depend on Landlock.
    let findings = sandbox.self_test(&readable).unwrap();
    assert!(findings
        .attempts
        .iter()
        .all(|(_, stopped)| stopped.is_some()));
    let confinement = sandbox.confinement().unwrap();
    if confinement.landlock_abi == 0 {
        // A kernel without Landlock: the first case covers it.
        return;
    }
    assert_eq!(confinement.landlock_abi, 2, "{confinement:?}");
    let lacks = confinement.lacks.join("\n");
    for missing in ["ABI 3", "ABI 4", "ABI 5", "ABI 6"] {
        assert!(lacks.contains(missing), "{lacks}");
    }
    assert!(!lacks.contains("ABI 2"), "{lacks}");
}

fn assert_ends(result: Result<(), SandboxError>, expected: fn(&SandboxError) -> bool) {
    match result {
        Err(e) if expected(&e) => {}
        other => panic!("unexpected: {other:?}"),
    }
}

#[test]
fn a_child_that_crashes_runs_out_of_memory_or_floods_is_stopped() {
    let sandbox = sandbox();
    assert_ends(sandbox.misbehave(Misbehaviour::Crash), |e| {
        matches!(e, SandboxError::Crashed { signal: 6, .. })
    });
    // Past the address-space limit the allocation fails and the child
    // aborts, saying so on stderr.
    assert_ends(
        sandbox.misbehave(Misbehaviour::Allocate),
        |e| matches!(e, SandboxError::Crashed { signal: 6, detail } if detail.contains("memory allocation")),
    );
    assert_ends(sandbox.misbehave(Misbehaviour::Flood), |e| {
        e.to_string().contains("over 67108864 bytes")
    });
}

#[test]
fn a_child_that_spins_or_hangs_is_stopped_by_its_limits() {
    let sandbox = sandbox().with_time_limits(1, 4);
    assert_ends(sandbox.misbehave(Misbehaviour::Spin), |e| {
        matches!(e, SandboxError::Cpu(1))
    });
    assert_ends(sandbox.misbehave(Misbehaviour::Hang), |e| {
        matches!(e, SandboxError::Clock(4))
    });
}

/// What comes back through the pipes is what the parsers say in-process,
/// for files that clean and for one that does not.
#[test]
fn answers_through_the_sandbox_are_the_parsers_answers() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut files = crate::scrub::corpus(dir.path());
    let refused = dir.path().join("refused.bin");
    fs::write(&refused, b"\x00\x01 not a format anyone cleans").unwrap();
    let text = dir.path().join("note.txt");
    fs::write(&text, "بيان\nplain text\n").unwrap();
    files.extend([refused, text]);
    for path in &files {
        let data = fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let here = sealdrop_scrub::inspect(&data, &name);
        let there = sandbox.inspect(&data, &name).unwrap();
        assert_eq!(
            serde_json::to_value(&here).unwrap(),
            serde_json::to_value(&there).unwrap(),
            "{name}"
        );
        match (sealdrop_scrub::scrub(&data), sandbox.scrub(&data).unwrap()) {
            (Ok(here), Ok(there)) => {
                assert_eq!(here.data, there.data, "{name}");
                assert_eq!(here.removed, there.removed, "{name}");
            }
            (Err(here), Err(there)) => assert_eq!(here, there, "{name}"),
            (here, there) => panic!(
                "{name}: {:?} in-process, {:?} sandboxed",
                here.map(|s| s.removed),
                there.map(|s| s.removed)
            ),
        }
    }
    assert!(files.len() >= 5, "{files:?}");
}
