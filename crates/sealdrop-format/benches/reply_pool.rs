//! Fills a replies folder for the login benchmark (bench/bench.py, section
//! 8): COUNT reply files, each sealed to the reply key of its own random
//! codename, of the newsroom key KIND (`classic` or `pq`), named as the server
//! names pushed replies. Prints the codename of the last one, so that a login
//! can be timed with a codename that has one reply, and one that has none.
//! `one` seals all COUNT to a single codename (a source with many replies
//! waiting: bench/logins.py); `bare` writes each file without its version-2
//! preamble, the age file alone, as a server from before reply files
//! version 2 reads them (one key agreement per file at every login), for
//! measuring such a server.
//!
//! `cargo bench --bench reply_pool -- DIR COUNT KIND [one] [bare]`

use std::path::PathBuf;

use sealdrop_format::keys::RecipientKind;
use sealdrop_format::reply::codename::WESTERN;
use sealdrop_format::reply::{file, keys, Codename};
use sha2::{Digest, Sha256};

fn main() {
    // `cargo bench` appends `--bench`; only positional arguments count.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (one, bare) = (
        args.iter().any(|a| a == "one"),
        args.iter().any(|a| a == "bare"),
    );
    let args: Vec<&String> = args
        .iter()
        .filter(|a| *a != "one" && *a != "bare")
        .collect();
    let [dir, count, kind] = args[..] else {
        eprintln!("usage: cargo bench --bench reply_pool -- DIR COUNT classic|pq [one] [bare]");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    let count: usize = count.parse().expect("COUNT is a number");
    let kind = match kind.as_str() {
        "classic" => RecipientKind::Classic,
        "pq" => RecipientKind::PostQuantum,
        other => panic!("KIND is classic or pq, not {other}"),
    };
    std::fs::create_dir_all(&dir).expect("the replies folder can be made");
    let sent = time::OffsetDateTime::now_utc();
    let mut last = None;
    let single = Codename::generate();
    for i in 0..count {
        let codename = if one {
            Codename::parse(std::str::from_utf8(single.ascii()).expect("ASCII digits"))
                .expect("a codename parses")
        } else {
            Codename::generate()
        };
        let text = format!("Reply {i} of the benchmark pool: thank you, we received it.");
        let sealed = file::seal(&keys::manifest_block(&codename, kind), None, sent, &text)
            .expect("a short reply seals");
        let sealed = if bare {
            sealed[file::PREAMBLE_LEN..].to_vec()
        } else {
            sealed
        };
        let name = format!(
            "{}.reply",
            sealdrop_format::hex::encode(&Sha256::digest(&sealed)[..16])
        );
        std::fs::write(dir.join(name), &sealed).expect("the reply file is written");
        last = Some(codename);
    }
    if let Some(codename) = last {
        println!("{}", codename.grouped_in(WESTERN).as_str());
    }
}
