//! In-memory throughput of the sealing core, against the age crate alone on
//! the same data: where a byte's time goes before any HTTP or disk is involved.
//! `cargo bench --bench seal_core` (bench/run.sh reports it too).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use sealdrop_format::keys::Recipients;
use sealdrop_format::seal::{SealOptions, SubmissionWriter};
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

fn main() {
    let mut data = vec![0u8; CHUNK];
    rand::Rng::fill(&mut rand::thread_rng(), &mut data[..]);
    let classic = Recipients::from_keys(vec![age::x25519::Identity::generate().to_public()]);
    let pq = Recipients::from_pq_keys(vec![sealdrop_format::pq::Identity::generate().to_public()]);

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
        max_part_size: Some(TOTAL as u64),
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
    // No bound: every part a ZIP64 stored entry (the layout before 2026-11).
    let unbounded = SealOptions::default();
    let inline_with = |recipients: &Recipients, options: &SealOptions| {
        let mut w = SubmissionWriter::new(recipients, io::sink(), options).unwrap();
        w.begin_attachment("data.bin", None).unwrap();
        for _ in 0..TOTAL / CHUNK {
            w.write_part(&data).unwrap();
        }
        w.end_part().unwrap();
        w.finish().unwrap();
    };

    let mut variants: Vec<(&str, Variant)> = vec![
        (
            "age crate alone (StreamWriter → sink), the baseline",
            Box::new(age_alone),
        ),
        ("SHA-256 alone", Box::new(sha256)),
        ("CRC-32 alone", Box::new(crc32)),
        (
            "SubmissionWriter, X25519 (as the server runs it: SHA-256, deflate framing)",
            Box::new(|| inline(&classic)),
        ),
        (
            "SubmissionWriter, X25519, ZIP64 stored layout (no part bound)",
            Box::new(|| inline_with(&classic, &unbounded)),
        ),
    ];
    variants.extend([(
        "SubmissionWriter, post-quantum",
        Box::new(|| inline(&pq)) as Variant,
    )]);

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
    {
        println!(
            "| post-quantum, 1 recipient | {:.0} µs | {} bytes |",
            fixed(&pq).as_secs_f64() * 1e6,
            size(&pq)
        );
        let pq3 = Recipients::from_pq_keys(
            (0..3)
                .map(|_| sealdrop_format::pq::Identity::generate().to_public())
                .collect(),
        );
        println!(
            "| post-quantum, 3 recipients | {:.0} µs | {} bytes |",
            fixed(&pq3).as_secs_f64() * 1e6,
            size(&pq3)
        );
    }
}
