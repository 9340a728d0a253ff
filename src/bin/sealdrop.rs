//! The online server and the transfer laptop's pickup client; all logic lives
//! in `sealdrop::cli`.
#![forbid(unsafe_code)]

/// Every heap block is wiped as it is freed: what a request or a decrypted
/// submission leaves behind is zeros, not plaintext (SECURITY.md).
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> std::process::ExitCode {
    sealdrop::cli::main()
}
