//! `sealdrop-open`, the offline program of the air-gapped laptop; its logic
//! is the `sealdrop_open` library beside this file.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

fn main() -> std::process::ExitCode {
    sealdrop_open::cli::main()
}
