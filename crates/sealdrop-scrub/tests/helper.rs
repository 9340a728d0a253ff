//! The helper program as its parent meets it: `sealdrop-sandbox` started
//! on its own, spoken to over its pipes frame by frame. (This test also
//! makes Cargo build the helper before any test of the workspace runs:
//! `sealdrop-open`'s tests find it beside their binary.)

use std::io::Write;
use std::process::{Command, Stdio};

use sealdrop_scrub::sandbox::wire::{self, Job, Tag};

#[test]
fn the_helper_confines_itself_answers_one_job_and_exits() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealdrop-sandbox"))
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let text = "a note, ملاحظة\n".as_bytes();
    let job = Job::Inspect {
        name: "note.txt".into(),
        size: text.len() as u64,
    };
    let mut to = child.stdin.take().unwrap();
    wire::send_file(&mut to, &job, text).unwrap();
    to.flush().unwrap();
    drop(to);
    let mut from = child.stdout.take().unwrap();
    let confinement = wire::read_confinement(&mut from).unwrap();
    assert!(confinement.landlock_abi > 0 || !confinement.lacks.is_empty());
    let report = wire::read_report(&mut from).unwrap();
    assert_eq!(report.kind, sealdrop_scrub::Kind::Text);
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        serde_json::to_value(sealdrop_scrub::inspect(text, "note.txt")).unwrap()
    );
    assert!(child.wait().unwrap().success());

    // A job it does not know: it says so, and exits with an error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealdrop-sandbox"))
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to = child.stdin.take().unwrap();
    wire::write_frame(&mut to, Tag::Job, br#"{"job":"format_the_disk"}"#).unwrap();
    drop(to);
    let mut from = child.stdout.take().unwrap();
    wire::read_confinement(&mut from).unwrap();
    let mut payload = Vec::new();
    assert_eq!(
        wire::expect_frame(&mut from, &mut payload).unwrap(),
        Tag::Failed
    );
    assert!(String::from_utf8_lossy(&payload).contains("unreadable job"));
    assert_eq!(child.wait().unwrap().code(), Some(1));
}
