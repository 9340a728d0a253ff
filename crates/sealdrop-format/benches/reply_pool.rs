//! Fills a replies folder for the login benchmark (bench/bench.py, section
//! 8): COUNT reply files, each sealed to the reply key of its own random
//! codename, of the newsroom key KIND (`classic` or `pq`), named as the server
//! names pushed replies. Prints the codename of the last one, so that a login
//! can be timed with a codename that has one reply, and one that has none.
//!
//! `cargo bench --bench reply_pool -- DIR COUNT KIND`

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
    let [dir, count, kind] = &args[..] else {
        eprintln!("usage: cargo bench --bench reply_pool -- DIR COUNT classic|pq");
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
    for i in 0..count {
        let codename = Codename::generate();
        let text = format!("Reply {i} of the benchmark pool: thank you, we received it.");
        let sealed = file::seal(&keys::manifest_block(&codename, kind), None, sent, &text)
            .expect("a short reply seals");
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
