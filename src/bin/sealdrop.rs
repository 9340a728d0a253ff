//! The online server and the transfer laptop's pickup client; all logic lives
//! in `sealdrop::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealdrop::cli::main()
}
