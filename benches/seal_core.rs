//! In-memory throughput of the sealing core, against the age crate alone on
//! the same data: where a byte's time goes before any HTTP or disk is involved.
//! `cargo bench --bench seal_core` (bench/run.sh reports it too).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use sealdrop::keys::Recipients;
use sealdrop::seal::{SealOptions, SubmissionWriter};
use sha2::{Digest, Sha256};

const TOTAL: usize = 512 << 20;
const CHUNK: usize = 64 << 10;

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn report(what: &str, took: Duration, baseline: Duration) {
    println!(
        "| {what} | {:.0} MB/s | {:.2}× |",
        TOTAL as f64 / took.as_secs_f64() / 1e6,
        baseline.as_secs_f64() / took.as_secs_f64()
    );
}

fn main() {
    let mut data = vec![0u8; CHUNK];
    rand::Rng::fill(&mut rand::thread_rng(), &mut data[..]);
    let classic = Recipients::from_keys(vec![age::x25519::Identity::generate().to_public()]);

    let age_alone = best_of(3, || {
        let e = age::Encryptor::with_recipients(classic.iter()).unwrap();
        let mut w = e.wrap_output(io::sink()).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_all(&data).unwrap();
        }
        w.finish().unwrap();
    });
    let sha256 = best_of(3, || {
        let mut h = Sha256::new();
        for _ in 0..TOTAL / CHUNK {
            h.update(&data);
        }
        std::hint::black_box(h.finalize());
    });
    let crc32 = best_of(3, || {
        let mut h = crc32fast::Hasher::new();
        for _ in 0..TOTAL / CHUNK {
            h.update(&data);
        }
        std::hint::black_box(h.finalize());
    });
    let seal = |recipients: &Recipients| {
        best_of(3, || {
            let mut w =
                SubmissionWriter::new(recipients, io::sink(), &SealOptions::default()).unwrap();
            w.begin_attachment("data.bin", None).unwrap();
            for _ in 0..TOTAL / CHUNK {
                w.write_part(&data).unwrap();
            }
            w.end_part().unwrap();
            w.finish().unwrap();
        })
    };
    println!(
        "| in memory, {} MiB in 64 KiB chunks | throughput | vs age crate |",
        TOTAL >> 20
    );
    println!("|---|---|---|");
    report(
        "age crate alone (StreamWriter → sink), the baseline",
        age_alone,
        age_alone,
    );
    report("SHA-256 alone", sha256, age_alone);
    report("CRC-32 alone", crc32, age_alone);
    // Alternated, each the best of three: the first seal in a fresh heap runs
    // faster than later ones on this VM, whatever the key type.
    #[cfg(feature = "pq")]
    let pq = Recipients::from_pq_keys(vec![sealdrop::pq::Identity::generate().to_public()]);
    for _ in 0..2 {
        report("SubmissionWriter, X25519", seal(&classic), age_alone);
        #[cfg(feature = "pq")]
        report("SubmissionWriter, post-quantum", seal(&pq), age_alone);
    }
}
