//! `sealdrop status` beside a live server: it counts what waits from the
//! store's listing, shows the last maintenance pass the server keeps in RAM,
//! and changes no time the file system keeps for the store or its files
//! (access, modification, change, birth; read with statx before and after).

use std::fs;
use std::path::Path;
use std::process::Command;

use rustix::fs::{statx, AtFlags, StatxFlags, CWD};

use crate::common::server::*;
use crate::common::*;

/// Every time of the store folder and of each entry in it. The folder is
/// listed with `O_NOATIME` (the test owns it): a plain listing would itself
/// set the folder's access time and hide one set by `status`.
fn store_times(store: &Path) -> Vec<(String, [(i64, u32); 4])> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        store,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOATIME,
        Mode::empty(),
    )
    .unwrap();
    let mut paths = vec![store.to_owned()];
    let mut entries: Vec<_> = rustix::fs::Dir::read_from(&fd)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "." && name != "..")
        .map(|name| store.join(name))
        .collect();
    entries.sort();
    paths.extend(entries);
    paths
        .iter()
        .map(|p| {
            let st = statx(
                CWD,
                p,
                AtFlags::SYMLINK_NOFOLLOW,
                StatxFlags::ATIME | StatxFlags::MTIME | StatxFlags::CTIME | StatxFlags::BTIME,
            )
            .unwrap();
            let t = |s: rustix::fs::StatxTimestamp| (s.tv_sec, s.tv_nsec);
            (
                p.display().to_string(),
                [
                    t(st.stx_atime),
                    t(st.stx_mtime),
                    t(st.stx_ctime),
                    t(st.stx_btime),
                ],
            )
        })
        .collect()
}

#[test]
fn status_counts_what_waits_and_changes_no_time_in_the_store() {
    let runtime = tempfile::tempdir().unwrap();
    let server = Server::spawn(&["--runtime-dir", runtime.path().to_str().unwrap()]);
    for message in ["first", "second"] {
        let answer = submit(server.addr, &[text_field("message", message.as_bytes())]);
        assert_eq!(answer.status, RECEIVED);
    }
    // The start-up pass leaves its record in the RAM folder, not the store.
    let record = runtime.path().join("private/last-pass.json");
    let since = std::time::Instant::now();
    while !record.exists() {
        assert!(since.elapsed().as_secs() < 30, "no pass record");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("status.toml");
    fs::write(
        &config,
        format!(
            "recipients = {:?}\nstore = {:?}\nlisten = [\"{}\"]\nruntime_dir = {:?}\n",
            server.dir.path().join("recipients.txt"),
            server.store,
            server.addr,
            runtime.path()
        ),
    )
    .unwrap();
    let before = store_times(&server.store);
    let mut outputs = Vec::new();
    for _ in 0..2 {
        outputs.push(
            Command::new(server_bin())
                .args(["status", "--json", "--config"])
                .arg(&config)
                .output()
                .unwrap(),
        );
    }
    assert_eq!(
        store_times(&server.store),
        before,
        "status changed a time the store keeps"
    );

    let out = &outputs[0];
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let inbox = &report["census"]["inboxes"][0];
    assert_eq!(inbox["waiting"], 2, "{report:#}");
    let sealed: u64 = store_entries(&server.store)
        .iter()
        .filter(|n| n.ends_with(".age"))
        .map(|n| fs::metadata(server.store.join(n)).unwrap().len())
        .sum();
    assert_eq!(inbox["bytes"], sealed);
    let pool = fs::read_dir(&server.store)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".pool-")
        })
        .count();
    assert_eq!(inbox["pool"], pool as u64);
    assert_eq!(inbox["oldest_days"], 0);
    let pass = &report["census"]["last_pass"];
    assert_eq!(pass["ok"], true, "{report:#}");
    assert_eq!(
        pass["time"].as_u64().unwrap() % 3600,
        0,
        "the pass's time is on its grid"
    );
    let listener = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "source listener")
        .unwrap();
    assert_eq!(listener["level"], "ok", "{report:#}");
    // The exit status is the worst finding's level.
    let level = report["level"].as_str().unwrap();
    let expected = match level {
        "ok" => 0,
        "attention" => 1,
        _ => 2,
    };
    assert_eq!(out.status.code(), Some(expected), "{report:#}");
    // Nothing of a submission in the record, and nothing but the record there.
    let kept = fs::read_to_string(&record).unwrap();
    assert!(!kept.contains("first") && !kept.contains(".age"), "{kept}");

    // A stopped server is broken (exit 2): nothing listens.
    drop(server);
    let out = Command::new(server_bin())
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("source listener"));
}
