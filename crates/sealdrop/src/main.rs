//! `sealdrop`: the online server (`serve`, `notify`, from the
//! `sealdrop_server` library), the editors' transfer laptop's commands
//! (`pickup-token`, `pickup`, `push-replies`), and `demo`. This crate is the
//! command line and the pickup client; the rest lives in the libraries.
#![forbid(unsafe_code)]

mod admin;
mod cli;
mod pickup;

#[global_allocator]
static ALLOCATOR: sealdrop_format::hardening::WipingAllocator =
    sealdrop_format::hardening::WIPING_ALLOCATOR;

fn main() -> std::process::ExitCode {
    cli::main()
}
