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

    // Warm the heap and the caches first: on this VM, the first large
    // seal of a process runs faster than all later ones.
    for _ in 0..2 {
        let e = age::Encryptor::with_recipients(classic.iter()).unwrap();
        let mut w = e.wrap_output(io::sink()).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_all(&data).unwrap();
        }
        w.finish().unwrap();
    }
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
    let shared: std::sync::Arc<[u8]> = data.clone().into();
    struct Shared(std::sync::Arc<[u8]>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    let parallel = best_of(3, || {
        let mut w = SubmissionWriter::new(&classic, io::sink(), &SealOptions::default()).unwrap();
        w.hash_in_parallel().unwrap();
        w.begin_attachment("data.bin", None).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_part_owned(Box::new(Shared(shared.clone())))
                .unwrap();
        }
        w.end_part().unwrap();
        w.finish().unwrap();
    });
    report(
        "SubmissionWriter, X25519, SHA-256 on a second thread (as the server runs it)",
        parallel,
        age_alone,
    );
    // Alternated, each the best of three: the first seal in a fresh heap runs
    // faster than later ones on this VM, whatever the key type.
    #[cfg(feature = "pq")]
    let pq = Recipients::from_pq_keys(vec![sealdrop::pq::Identity::generate().to_public()]);
    for _ in 0..2 {
        report(
            "SubmissionWriter, X25519, SHA-256 inline",
            seal(&classic),
            age_alone,
        );
        #[cfg(feature = "pq")]
        report("SubmissionWriter, post-quantum", seal(&pq), age_alone);
    }

    // The fixed cost of one submission: header (one stanza per recipient),
    // manifest, padding to the 64 KiB floor, for a one-byte message.
    let fixed = |recipients: &Recipients| {
        let runs = 200;
        let start = Instant::now();
        for _ in 0..runs {
            let mut w =
                SubmissionWriter::new(recipients, Vec::new(), &SealOptions::default()).unwrap();
            w.begin_message().unwrap();
            w.write_part(b"x").unwrap();
            w.end_part().unwrap();
            std::hint::black_box(w.finish().unwrap());
        }
        start.elapsed() / runs
    };
    println!();
    println!("| one 1-byte submission, sealed in memory | time each | sealed size |");
    println!("|---|---|---|");
    let size = |recipients: &Recipients| {
        let mut w = SubmissionWriter::new(recipients, Vec::new(), &SealOptions::default()).unwrap();
        w.begin_message().unwrap();
        w.write_part(b"x").unwrap();
        w.end_part().unwrap();
        w.finish().unwrap().0.len()
    };
    println!(
        "| X25519, 1 recipient | {:.0} µs | {} bytes |",
        fixed(&classic).as_secs_f64() * 1e6,
        size(&classic)
    );
    #[cfg(feature = "pq")]
    {
        println!(
            "| post-quantum, 1 recipient | {:.0} µs | {} bytes |",
            fixed(&pq).as_secs_f64() * 1e6,
            size(&pq)
        );
        let pq3 = Recipients::from_pq_keys(
            (0..3)
                .map(|_| sealdrop::pq::Identity::generate().to_public())
                .collect(),
        );
        println!(
            "| post-quantum, 3 recipients | {:.0} µs | {} bytes |",
            fixed(&pq3).as_secs_f64() * 1e6,
            size(&pq3)
        );
    }
}
