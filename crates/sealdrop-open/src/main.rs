//! `sealdrop-open`, the offline program of the air-gapped laptop; its logic
//! is the `sealdrop_open` library beside this file.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

fn main() -> std::process::ExitCode {
    // First, before any thread starts and for every subcommand (keygen,
    // reply and list touch keys too): SECURITY.md, "A thief of the
    // air-gapped laptop" and "A hostile source".
    if let Err(e) = sealdrop_format::hardening::harden_offline_process() {
        eprintln!(
            "sealdrop-open: cannot protect its memory from core dumps and other programs \
             ({e}); refusing to touch keys. Run it on Linux as shipped."
        );
        return std::process::ExitCode::from(2);
    }
    sealdrop_open::cli::main()
}
