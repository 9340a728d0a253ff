//! `sealdrop-sandbox`: the confined child that parses one hostile file for
//! `sealdrop-open` and the inbox (see `sealdrop_scrub::sandbox`). It is
//! started by them, over pipes; run by hand it waits for a job on stdin.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

fn main() -> std::process::ExitCode {
    // The one argument it takes, for an admin checking what is installed;
    // sealdrop-open starts it with none.
    if std::env::args_os().nth(1).is_some_and(|a| a == "--version") {
        println!(
            "sealdrop-sandbox {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            env!("SEALDROP_COMMIT")
        );
        return std::process::ExitCode::SUCCESS;
    }
    sealdrop_scrub::sandbox::child::main()
}
