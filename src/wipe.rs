//! A byte buffer that is wiped when dropped, at memset speed.
//!
//! `zeroize::Zeroizing<Vec<u8>>` wipes a vector element by element with a
//! volatile write each, which costs more than the work on a large buffer
//! (and far more in debug builds). This wipes the buffer's bytes with
//! zeroize's bulk slice wipe instead. Only `len` bytes are wiped: the users
//! below wipe on every `clear`, so no earlier content lies beyond `len`;
//! both binaries' allocator wipes every block as it is freed anyway.

use std::ops::{Deref, DerefMut};

use zeroize::Zeroize;

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
