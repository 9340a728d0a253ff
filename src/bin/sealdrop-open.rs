//! The offline tool; all logic lives in `sealdrop::open`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealdrop::open::cli::main()
}
