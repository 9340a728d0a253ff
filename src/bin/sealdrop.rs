//! The online server; all logic lives in `sealdrop::server`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealdrop::server::cli::main()
}
