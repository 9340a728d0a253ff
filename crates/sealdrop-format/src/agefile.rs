//! Runs in `sealdrop-open` (and the tests): the age layer that every reader in
//! sealdrop goes through: sealed submissions
//! in `sealdrop-open`, and passphrase-protected identity files. One path, so
//! that the CCTV test vectors (crates/sealdrop-testkit/tests/format/cctv.rs) check the code editors run.
//!
//! Input may be binary or ASCII-armored (RFC 7468 strict PEM). Whitespace
//! before an armored file is skipped, as the age spec allows.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use age::armor::ArmoredReader;
use age::secrecy::SecretString;
use age::{DecryptError, Decryptor};

/// The highest scrypt work factor (log2 N) we spend on a passphrase: 2^22
/// means 4 GiB of memory and several seconds. `age -p` uses 18, rage adapts to
/// about one second; anything above this is a damaged or hostile file.
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 22;

const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// Enough for the header's lines; smaller than an age chunk, so that age's
/// 64 KiB chunk reads bypass it instead of being copied through it.
const INPUT_BUFFER: usize = 8 * 1024;

/// The file as age reads it: binary files straight from one buffer; armored
/// ones through age's armor decoder, which costs time on every byte and is
/// therefore not in the way of the (usual) binary files.
pub enum AgeInput<R> {
    Binary(BufReader<R>),
    Armored(ArmoredReader<BufReader<BufReader<R>>>),
}

pub type Plaintext<R> = age::stream::StreamReader<AgeInput<R>>;

impl<R: Read> Read for AgeInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            AgeInput::Binary(r) => r.read(buf),
            AgeInput::Armored(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for AgeInput<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            AgeInput::Binary(r) => r.fill_buf(),
            AgeInput::Armored(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            AgeInput::Binary(r) => r.consume(amt),
            AgeInput::Armored(r) => r.consume(amt),
        }
    }
}

impl<R: Read + Seek> Seek for AgeInput<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            AgeInput::Binary(r) => r.seek(pos),
            AgeInput::Armored(r) => r.seek(pos),
        }
    }
}

/// An age file whose header has been read and checked, not yet decrypted.
pub struct AgeFile<R: Read> {
    decryptor: Decryptor<AgeInput<R>>,
}

impl<R: Read> AgeFile<R> {
    pub fn open(input: R) -> Result<Self, DecryptError> {
        let mut input = BufReader::with_capacity(INPUT_BUFFER, input);
        let input = if skip_whitespace_before_armor(&mut input)? {
            AgeInput::Armored(ArmoredReader::new(input))
        } else {
            AgeInput::Binary(input)
        };
        let decryptor = Decryptor::new_buffered(input)?;
        Ok(AgeFile { decryptor })
    }

    /// True if the file is sealed with a passphrase (an scrypt stanza, which
    /// age requires to be the only one), not to public keys.
    pub fn is_passphrase_protected(&self) -> bool {
        self.decryptor.is_scrypt()
    }

    /// Decrypts with the first identity that unwraps a stanza.
    pub fn decrypt<'a>(
        self,
        identities: impl Iterator<Item = &'a dyn age::Identity>,
    ) -> Result<Plaintext<R>, DecryptError> {
        self.decryptor.decrypt(identities)
    }

    /// Decrypts a passphrase-protected file.
    pub fn decrypt_with_passphrase(
        self,
        passphrase: SecretString,
    ) -> Result<Plaintext<R>, DecryptError> {
        let mut identity = age::scrypt::Identity::new(passphrase);
        identity.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
        self.decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
    }
}

/// Reads a whole decrypted stream into zeroized memory, for small plaintexts
/// (identity files) only: `limit` bounds it.
pub fn read_small<R: Read>(
    mut plaintext: R,
    limit: u64,
) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    let mut out = zeroize::Zeroizing::new(Vec::new());
    (&mut plaintext).take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("more than {limit} bytes"),
        ));
    }
    Ok(out)
}

/// Returns true if the input is armored (starts with the armor's begin line,
/// after optional whitespace, which is then skipped). A binary age file never
/// starts with whitespace, so nothing is skipped unless the armor follows.
fn skip_whitespace_before_armor<R: BufRead>(input: &mut R) -> io::Result<bool> {
    let buf = input.fill_buf()?;
    let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if buf[blank..].starts_with(ARMOR_BEGIN) {
        input.consume(blank);
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_skipped_only_before_armor() {
        let mut armored = &b"\n \t-----BEGIN AGE ENCRYPTED FILE-----\n"[..];
        assert!(skip_whitespace_before_armor(&mut armored).unwrap());
        assert!(armored.starts_with(ARMOR_BEGIN));

        let mut binary = &b"\nage-encryption.org/v1\n"[..];
        assert!(!skip_whitespace_before_armor(&mut binary).unwrap());
        assert_eq!(binary, b"\nage-encryption.org/v1\n");
    }

    #[test]
    fn read_small_refuses_more_than_the_limit() {
        assert_eq!(&read_small(&b"12345"[..], 5).unwrap()[..], b"12345");
        assert!(read_small(&b"123456"[..], 5).is_err());
    }
}
