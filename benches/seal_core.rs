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
const ROUNDS: usize = 4;

/// One way of pushing the same 512 MiB through, timed as a whole.
type Variant<'a> = Box<dyn FnMut() + 'a>;

fn timed(f: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn mb_per_s(took: Duration) -> f64 {
    TOTAL as f64 / took.as_secs_f64() / 1e6
}

/// A 64 KiB chunk shared by every write, handed over as an owned chunk the
/// way the server hands over multipart chunks.
struct Shared(std::sync::Arc<[u8]>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn main() {
    let mut data = vec![0u8; CHUNK];
    rand::Rng::fill(&mut rand::thread_rng(), &mut data[..]);
    let shared: std::sync::Arc<[u8]> = data.clone().into();
    let classic = Recipients::from_keys(vec![age::x25519::Identity::generate().to_public()]);
    #[cfg(feature = "pq")]
    let pq = Recipients::from_pq_keys(vec![sealdrop::pq::Identity::generate().to_public()]);

    let age_alone = || {
        let e = age::Encryptor::with_recipients(classic.iter()).unwrap();
        let mut w = e.wrap_output(io::sink()).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_all(&data).unwrap();
        }
        w.finish().unwrap();
    };
    let sha256 = || {
        let mut h = Sha256::new();
        for _ in 0..TOTAL / CHUNK {
            h.update(&data);
        }
        std::hint::black_box(h.finalize());
    };
    let crc32 = || {
        let mut h = crc32fast::Hasher::new();
        for _ in 0..TOTAL / CHUNK {
            h.update(&data);
        }
        std::hint::black_box(h.finalize());
    };
    // The server's options: its upload limit bounds each part, which selects
    // the deflated (stored-block) layout that streaming ZIP readers need.
    let server_options = SealOptions {
        max_part_size: Some(500 << 20),
        ..SealOptions::default()
    };
    let inline = |recipients: &Recipients| {
        let mut w = SubmissionWriter::new(recipients, io::sink(), &server_options).unwrap();
        w.begin_attachment("data.bin", None).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_part(&data).unwrap();
        }
        w.end_part().unwrap();
        w.finish().unwrap();
    };
    let parallel_with = |recipients: &Recipients, options: &SealOptions| {
        let mut w = SubmissionWriter::new(recipients, io::sink(), options).unwrap();
        w.hash_in_parallel().unwrap();
        w.begin_attachment("data.bin", None).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_part_owned(Box::new(Shared(shared.clone())))
                .unwrap();
        }
        w.end_part().unwrap();
        w.finish().unwrap();
    };
    let parallel = |recipients: &Recipients| parallel_with(recipients, &server_options);
    // No bound: every part a ZIP64 stored entry (the layout before 2026-11).
    let unbounded = SealOptions::default();

    let mut variants: Vec<(&str, Variant)> = vec![
        (
            "age crate alone (StreamWriter → sink), the baseline",
            Box::new(age_alone),
        ),
        ("SHA-256 alone", Box::new(sha256)),
        ("CRC-32 alone", Box::new(crc32)),
        (
            "SubmissionWriter, X25519, SHA-256 on a second thread (as the server runs it)",
            Box::new(|| parallel(&classic)),
        ),
        (
            "SubmissionWriter, X25519, SHA-256 inline",
            Box::new(|| inline(&classic)),
        ),
        (
            "SubmissionWriter, X25519, second thread, ZIP64 stored layout (no part bound)",
            Box::new(|| parallel_with(&classic, &unbounded)),
        ),
    ];
    #[cfg(feature = "pq")]
    variants.extend([
        (
            "SubmissionWriter, post-quantum, SHA-256 on a second thread",
            Box::new(|| parallel(&pq)) as Variant,
        ),
        (
            "SubmissionWriter, post-quantum, SHA-256 inline",
            Box::new(|| inline(&pq)),
        ),
    ]);

    // One warm-up round, then rounds in which every variant runs once, so
    // that drift in this VM's speed hits baseline and variants alike; each
    // variant's best round counts.
    for (_, run) in variants.iter_mut() {
        run();
    }
    let mut best = vec![Duration::MAX; variants.len()];
    for _ in 0..ROUNDS {
        for ((_, run), best) in variants.iter_mut().zip(best.iter_mut()) {
            *best = (*best).min(timed(run.as_mut()));
        }
    }
    println!(
        "| in memory, {} MiB in 64 KiB chunks | throughput, best of {ROUNDS} | vs age crate |",
        TOTAL >> 20
    );
    println!("|---|---|---|");
    for ((what, _), took) in variants.iter().zip(&best) {
        println!(
            "| {what} | {:.0} MB/s | {:.2}× |",
            mb_per_s(*took),
            best[0].as_secs_f64() / took.as_secs_f64()
        );
    }
    drop(variants);

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
