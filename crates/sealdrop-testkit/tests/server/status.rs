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

fn status(config: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(server_bin())
        .args(["status", "--json", "--config"])
        .arg(config)
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), report)
}

#[test]
fn status_counts_what_waits_and_changes_no_time_in_the_store() {
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("store");
    private_dir(&store);
    let runtime = root.path().join("run");
    fs::create_dir(&runtime).unwrap();
    let server = Server::spawn(&[
        "--store",
        store.to_str().unwrap(),
        "--runtime-dir",
        runtime.to_str().unwrap(),
        "--touch-interval",
        "1s",
    ]);
    for message in ["first", "second"] {
        let answer = submit(server.addr, &[text_field("message", message.as_bytes())]);
        assert_eq!(answer.status, RECEIVED);
    }
    // A pass after the arrivals records what waits, in the RAM folder.
    let record = runtime.join("private/last-pass.json");
    let since = std::time::Instant::now();
    loop {
        let counted = fs::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|r| r["inboxes"][0]["waiting"].clone());
        if counted == Some(serde_json::json!(2)) {
            break;
        }
        assert!(
            since.elapsed().as_secs() < 30,
            "no pass counted the arrivals"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let recipients = root.path().join("recipients.txt");
    fs::copy(server.dir.path().join("recipients.txt"), &recipients).unwrap();
    let config = root.path().join("status.toml");
    fs::write(
        &config,
        format!(
            "recipients = {recipients:?}\nstore = {store:?}\nlisten = [\"{}\"]\nruntime_dir = {runtime:?}\ntouch_interval = \"1s\"\n",
            server.addr
        ),
    )
    .unwrap();

    // By default the counts are the last pass's, never a live listing.
    let (code, report) = status(&config, &[]);
    assert_eq!(report["census"]["counted"], "pass", "{report:#}");
    let inbox = &report["census"]["inboxes"][0];
    assert_eq!(inbox["waiting"], 2, "{report:#}");
    let sealed: u64 = store_entries(&store)
        .iter()
        .filter(|n| n.ends_with(".age"))
        .map(|n| fs::metadata(store.join(n)).unwrap().len())
        .sum();
    assert_eq!(inbox["bytes"], sealed);
    assert_eq!(inbox["oldest_days"], 0);
    assert_eq!(report["census"]["last_pass"]["ok"], true, "{report:#}");
    let listener = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "source listener")
        .unwrap();
    assert_eq!(listener["level"], "ok", "{report:#}");
    // The exit status is the worst finding's level.
    let expected = match report["level"].as_str().unwrap() {
        "ok" => 0,
        "attention" => 1,
        _ => 2,
    };
    assert_eq!(code, Some(expected), "{report:#}");
    // --live lists the store now: the same two, and the pool as it lies.
    let (_, live) = status(&config, &["--live"]);
    assert_eq!(live["census"]["counted"], "live");
    assert_eq!(live["census"]["inboxes"][0]["waiting"], 2);
    let pool = fs::read_dir(&store)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".pool-")
        })
        .count();
    assert_eq!(live["census"]["inboxes"][0]["pool"], pool as u64);
    // Nothing of a submission in the record.
    let kept = fs::read_to_string(&record).unwrap();
    assert!(!kept.contains("first") && !kept.contains(".age"), "{kept}");

    // With the server stopped (its passes set the store's times), status,
    // recorded and live, changes none of them; and nothing listens: exit 2.
    drop(server);
    // Access times older than the change times, as a pass leaves them: a
    // plain read would now set them (relatime), and so show.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let times = fs::FileTimes::new().set_accessed(old).set_modified(old);
    for entry in fs::read_dir(&store).unwrap() {
        fs::File::open(entry.unwrap().path())
            .unwrap()
            .set_times(times)
            .unwrap();
    }
    fs::File::open(&store).unwrap().set_times(times).unwrap();
    let before = store_times(&store);
    let (code, report) = status(&config, &[]);
    let (live_code, _) = status(&config, &["--live"]);
    assert_eq!(
        store_times(&store),
        before,
        "status changed a time the store keeps"
    );
    assert_eq!((code, live_code), (Some(2), Some(2)), "{report:#}");
}
