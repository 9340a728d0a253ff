//! Process hardening that every sealdrop program applies before it touches
//! a secret or a source's bytes: the server (uploads pass through its memory
//! in plaintext) and the laptop programs (keys and decrypted submissions).

/// The global allocator of every sealdrop binary: each heap block is wiped
/// as it is freed, so freed buffers keep no plaintext, names or headers
/// (SECURITY.md, "What stays in memory"). 1Password's small wrapper around the
/// system allocator; its unsafe code is the `GlobalAlloc` impl itself.
pub type WipingAllocator = zeroizing_alloc::ZeroAlloc<std::alloc::System>;

/// The value a binary declares as its `#[global_allocator]`.
pub const WIPING_ALLOCATOR: WipingAllocator = zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// No core dumps and no ptrace by other processes of the same user. Returns
/// the error so that each program decides how loudly to say it.
pub fn make_non_dumpable() -> std::io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(std::io::Error::from)
}
