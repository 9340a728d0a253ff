//! What the store's file system says about when sources arrived. After the
//! maintenance pass that follows some arrivals, no time the file system
//! keeps, for any file in the store or for the store folder (access,
//! modification, change and birth time, read with statx), may lie within a
//! second of any arrival, and the sealed files' inode numbers must not follow
//! the order of arrival. Checked on ext4 in a loop-mounted image and on
//! tmpfs, both of which record birth times. Needs root (CI runs as root).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{statx, AtFlags, StatxFlags, StatxTimestamp, CWD};

use crate::common::server::*;
use crate::common::*;

const INTERVAL_SECS: u64 = 10;

fn nanos(t: SystemTime) -> i128 {
    t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128
}

fn stamp(t: StatxTimestamp) -> i128 {
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

/// (what, time) for each of the four times of `path`.
fn times_of(path: &Path) -> Vec<(String, i128)> {
    let st = statx(
        CWD,
        path,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::ATIME | StatxFlags::MTIME | StatxFlags::CTIME | StatxFlags::BTIME,
    )
    .unwrap();
    assert!(
        StatxFlags::from_bits_retain(st.stx_mask).contains(StatxFlags::BTIME),
        "this file system records no birth time; the test needs one that does"
    );
    let name = path.display();
    vec![
        (format!("{name} atime"), stamp(st.stx_atime)),
        (format!("{name} mtime"), stamp(st.stx_mtime)),
        (format!("{name} ctime"), stamp(st.stx_ctime)),
        (format!("{name} btime"), stamp(st.stx_btime)),
    ]
}

/// Sleeps until the wall clock is `offset` seconds into an interval of the
/// grid that starts at least `after` from now.
fn sleep_until_grid(offset: f64, after: Duration) {
    let step = INTERVAL_SECS as f64;
    let now = nanos(SystemTime::now()) as f64 / 1e9;
    let earliest = now + after.as_secs_f64();
    let mut target = (earliest / step).floor() * step + offset;
    if target < earliest {
        target += step;
    }
    std::thread::sleep(Duration::from_secs_f64(target - now));
}

fn no_time_dates_an_arrival(mount: Mount) {
    let store = mount.path().join("store");
    private_dir(&store);
    // Created, then a pause, so the folder's own birth is no arrival's.
    let server = Server::start(&[
        "--store",
        store.to_str().unwrap(),
        "--touch-interval",
        &format!("{INTERVAL_SECS}s"),
    ]);
    // Arrivals from 2 s into an interval, well after start-up and well
    // before the next pass.
    sleep_until_grid(2.0, Duration::from_secs(2));
    let mut arrivals = Vec::new();
    for i in 0..8 {
        let sent = SystemTime::now();
        let response = submit(
            server.addr,
            &[text_field("message", format!("arrival {i}").as_bytes())],
        );
        assert_eq!(
            response.status,
            RECEIVED,
            "{:?}",
            response
                .text()
                .split("<title>")
                .nth(1)
                .map(|t| t.split('<').next())
        );
        arrivals.push((nanos(sent), nanos(SystemTime::now())));
    }
    let last = arrivals.last().unwrap().1;
    let second = 1_000_000_000i128;
    let assert_dates_nothing = |checked: &[(String, i128)]| {
        for (what, t) in checked {
            for (i, (sent, received)) in arrivals.iter().enumerate() {
                assert!(
                    *t < sent - second || *t > received + second,
                    "{what} is within a second of arrival {i}: it dates the submission"
                );
            }
        }
    };
    // Even before the pass, a sealed file's access, modification and birth
    // times date nothing (its change time does, until the pass: the kernel
    // sets it on every write and rename). The server reads each file back
    // for its hash right after the answer; give it time to.
    std::thread::sleep(Duration::from_millis(500));
    for name in store_entries(&store).iter().filter(|n| n.ends_with(".age")) {
        let early: Vec<_> = times_of(&store.join(name))
            .into_iter()
            .filter(|(what, _)| !what.ends_with("ctime"))
            .collect();
        assert_dates_nothing(&early);
    }
    // The next pass runs at the next multiple of the interval; look after it.
    sleep_until_grid(1.5, Duration::from_secs(1));
    assert!(
        nanos(SystemTime::now()) - last > 4_000_000_000,
        "the arrivals took too long for this test's timing"
    );

    let mut checked = times_of(&store);
    let names = store_entries(&store);
    let sealed: Vec<_> = names.iter().filter(|n| n.ends_with(".age")).collect();
    assert_eq!(sealed.len(), 8);
    for entry in fs::read_dir(&store).unwrap() {
        checked.extend(times_of(&entry.unwrap().path()));
    }
    assert_dates_nothing(&checked);

    // Inode numbers in arrival order would date submissions relative to
    // each other.
    let mut by_arrival: Vec<(usize, u64)> = sealed
        .iter()
        .map(|name| {
            let path = store.join(name);
            let (message, _) = open(&fs::read(&path).unwrap(), &server.key);
            let text = String::from_utf8(message.unwrap()).unwrap();
            let index: usize = text.strip_prefix("arrival ").unwrap().parse().unwrap();
            (index, fs::metadata(&path).unwrap().ino())
        })
        .collect();
    by_arrival.sort();
    let inodes: Vec<u64> = by_arrival.iter().map(|(_, ino)| *ino).collect();
    let mut ascending = inodes.clone();
    ascending.sort();
    let mut descending = ascending.clone();
    descending.reverse();
    // 8 random picks in either order by chance: 1 in 20,160.
    assert!(
        inodes != ascending && inodes != descending,
        "inode numbers follow arrival order: {inodes:?}"
    );
}

#[test]
fn on_ext4_no_file_time_dates_an_arrival() {
    let outer = tempfile::tempdir().unwrap();
    no_time_dates_an_arrival(Mount::ext4(&outer.path().join("fs"), 64));
}

#[test]
fn on_tmpfs_no_file_time_dates_an_arrival() {
    let outer = tempfile::tempdir().unwrap();
    no_time_dates_an_arrival(Mount::tmpfs(&outer.path().join("fs"), "64m"));
}
