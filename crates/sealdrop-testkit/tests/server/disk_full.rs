//! The store on a small file system that fills up: sources get the 503 page,
//! nothing partial remains, and the server recovers by itself once space is
//! freed. Needs root to mount a tmpfs (CI runs as root).

use std::fs;
use std::path::Path;

use crate::common::server::*;
use crate::common::*;

fn partials(store: &Path) -> Vec<String> {
    store_entries(store)
        .into_iter()
        .filter(|n| !n.ends_with(".age"))
        .collect()
}

/// Fills the store until a 503; returns how many were sealed first.
fn fill(server: &Server, file: &[u8]) -> usize {
    let mut sealed = 0;
    loop {
        let response = submit(server.addr, &[file_field("fill.bin", file)]);
        match response.status {
            RECEIVED => sealed += 1,
            503 => {
                assert!(
                    response.text().contains("try again later"),
                    "{}",
                    response.text()
                );
                return sealed;
            }
            other => panic!("unexpected {other}: {}", response.text()),
        }
        assert!(sealed < 100, "the small file system never filled up");
    }
}

#[test]
fn a_full_disk_gets_503_leaves_nothing_partial_and_recovers() {
    let outer = tempfile::tempdir().unwrap();
    let mount = Mount::tmpfs(&outer.path().join("fs"), "3m");
    let store = mount.path().join("store");
    private_dir(&store);
    // No free-space floor: the writes themselves hit ENOSPC mid-upload.
    let server = Server::start(&["--store", store.to_str().unwrap(), "--min-free-disk", "0"]);
    let file = vec![0x5au8; 700 * 1024];
    let sealed = fill(&server, &file);
    assert!(sealed >= 2, "sealed {sealed} before filling up");
    assert_eq!(
        partials(&store),
        Vec::<String>::new(),
        "no partial file after ENOSPC"
    );
    assert_eq!(get(server.addr, "/").status, 200, "pages are still served");
    // Free space as a pickup would, and the next upload goes through.
    for f in server.sealed_files().iter().take(2) {
        fs::remove_file(f).unwrap();
    }
    assert_eq!(
        submit(server.addr, &[file_field("after.bin", &file)]).status,
        RECEIVED,
        "recovered by itself"
    );
    let newest = server.sealed_files();
    for f in &newest {
        let (_, files) = open(&fs::read(f).unwrap(), &server.key);
        assert_eq!(files[0].1, file);
    }
}

#[test]
fn the_free_space_floor_refuses_before_the_disk_is_full() {
    let outer = tempfile::tempdir().unwrap();
    let mount = Mount::tmpfs(&outer.path().join("fs"), "4m");
    let store = mount.path().join("store");
    private_dir(&store);
    let server = Server::start(&[
        "--store",
        store.to_str().unwrap(),
        "--min-free-disk",
        "2MiB",
    ]);
    let file = vec![1u8; 600 * 1024];
    let sealed = fill(&server, &file);
    assert!(sealed >= 1);
    assert_eq!(partials(&store), Vec::<String>::new());
    let st = rustix::fs::statvfs(&store).unwrap();
    assert!(
        st.f_bavail * st.f_frsize >= 1024 * 1024,
        "the floor kept space free"
    );
}
