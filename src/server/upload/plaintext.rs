//! Plaintext buffers of an upload: every chunk a source sends is wiped as
//! soon as the last stage that needs it is done with it.

use bytes::Bytes;
use zeroize::Zeroize;

/// Zeroizes a plaintext chunk if we hold the only reference to its memory.
pub fn wipe(chunk: Bytes) {
    if let Ok(mut owned) = chunk.try_into_mut() {
        owned.as_mut().zeroize();
    }
}

/// A plaintext chunk handed to the sealer, wiped when the sealer is done with it.
pub struct PlainChunk(pub Bytes);

impl AsRef<[u8]> for PlainChunk {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for PlainChunk {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}
