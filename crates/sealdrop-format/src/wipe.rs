//! Wiping what secrets leave behind: a byte buffer that is wiped when
//! dropped, at memset speed ([`WipedVec`]), and the stack below the caller
//! ([`stack`]).
//!
//! `zeroize::Zeroizing<Vec<u8>>` wipes a vector element by element with a
//! volatile write each, which costs more than the work on a large buffer
//! (and far more in debug builds). This wipes the buffer's bytes with
//! zeroize's bulk slice wipe instead. Only `len` bytes are wiped: the users
//! below wipe on every `clear`, so no earlier content lies beyond `len`;
//! both binaries' allocator wipes every block as it is freed anyway.

use std::ops::{Deref, DerefMut};

use zeroize::Zeroize;

/// How much of a thread's stack [`stack`] wipes: deeper than any call path
/// of a request (hashing, key derivation, page rendering) reaches.
pub const STACK_WIPE_BYTES: usize = 128 * 1024;

/// Zeroes the [`STACK_WIPE_BYTES`] of stack just below the caller's frame,
/// where the frames of the calls it made lived.
///
/// Values moved or copied by value (a codename's digits, a hash function's
/// block buffer, a key being derived) leave copies in stack frames that no
/// destructor wipes, and a freed stack frame is not freed memory: the
/// zeroing allocator never sees it. The server calls this when a thread of
/// its runtime goes idle and after every blocking job, so that a request's
/// frames do not outlive it (SECURITY.md, "What stays in memory").
#[inline(never)]
pub fn stack() {
    let mut frame = [0u8; STACK_WIPE_BYTES];
    // Wiped as a slice: zeroize's array impl writes element by element
    // (20 µs for 128 KiB, on every park of every runtime thread), its slice
    // impl in bulk (2 µs). Then seen as used: the compiler may elide neither.
    frame.as_mut_slice().zeroize();
    std::hint::black_box(&frame);
}

#[derive(Default)]
pub struct WipedVec(Vec<u8>);

impl WipedVec {
    pub fn new(bytes: Vec<u8>) -> WipedVec {
        WipedVec(bytes)
    }

    /// Wipes the content and empties the buffer, keeping its allocation.
    pub fn wipe_and_clear(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.clear();
    }
}

impl Deref for WipedVec {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for WipedVec {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for WipedVec {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipes_on_clear_and_keeps_the_allocation() {
        let mut v = WipedVec::new(b"secret".to_vec());
        let capacity = v.capacity();
        v.wipe_and_clear();
        assert!(v.is_empty());
        assert_eq!(v.capacity(), capacity);
        v.extend_from_slice(b"again");
        assert_eq!(&v[..], b"again");
    }
}
