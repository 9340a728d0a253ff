//! `sealdrop-sandbox`: the confined child that parses one hostile file for
//! `sealdrop-open` and the inbox (see `sealdrop_scrub::sandbox`). It is
//! started by them, over pipes; run by hand it waits for a job on stdin.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

fn main() -> std::process::ExitCode {
    sealdrop_scrub::sandbox::child::main()
}
