//! TEST ONLY: an age plugin that stands in for a hardware key, so that the
//! tests can open files sealed to `age1tag1…` and `age1tagpq1…` recipients
//! without one (tests/format/hardware.rs). Its secret is in its identity
//! line, in software: it protects nothing. Never install it.
//!
//! It speaks the real plugin protocol (age-plugin crate, identity-v1) and
//! unwraps both tag stanza types: `p256tag` (HPKE, DHKEM(P-256)) and
//! `mlkem768p256tag` (HPKE with the MLKEM768-P256 hybrid KEM, written here
//! from the age and HPKE-PQ specifications: age 0.12 seals to it but keeps
//! its KEM private). Like a hardware key it relays a PIN request and a
//! "touch" message; environment variables make it misbehave on purpose:
//!
//! - `SEALDROPTEST_PIN=1234`: asks for a PIN and refuses a wrong one;
//! - `SEALDROPTEST_REMOVED=1`: answers as a plugin whose key was unplugged.
//!
//! `age-plugin-sealdroptest --generate tag|tagpq` prints a new identity line
//! and its recipient.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io;

use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use age_core::primitives::{bech32_encode, hpke_open};
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::recipient::{self, RecipientPluginV1};
use age_plugin::{run_state_machine, Callbacks, PluginHandler};
use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest, Sha256};

const PLUGIN_NAME: &str = "sealdroptest";
const KIND_TAG: u8 = 1;
const KIND_TAGPQ: u8 = 2;
const TAG_STANZA: &str = "p256tag";
const TAG_SALT: &str = "age-encryption.org/p256tag";
const TAGPQ_STANZA: &str = "mlkem768p256tag";
const TAGPQ_SALT: &str = "age-encryption.org/mlkem768p256tag";

/// The hybrid KEM of `age1tagpq1…` recipients, as an HPKE KEM.
mod hybrid {
    use hpke::generic_array::typenum::{self, Unsigned};
    use hpke::{kem::SharedSecret, Deserializable, HpkeError, Serializable};
    use ml_kem::kem::Decapsulate;
    use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
    use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
    use sha3::digest::{ExtendableOutput, Update, XofReader};
    use sha3::{Digest, Sha3_256, Shake256};

    /// HPKE-PQ's combiner label and KEM id for MLKEM768-P256.
    const LABEL: &[u8] = b"MLKEM768-P256";
    const KEM_ID: u16 = 0x0050;
    const EK_PQ: usize = 1184;
    const CT_PQ: usize = 1088;
    const POINT: usize = 65;

    pub(crate) struct Kem;

    #[derive(Clone)]
    pub(crate) struct PrivateKey {
        seed: [u8; 32],
        dk_pq: <MlKem768 as KemCore>::DecapsulationKey,
        ek_pq: <MlKem768 as KemCore>::EncapsulationKey,
        dk_t: p256::SecretKey,
    }

    impl PrivateKey {
        /// The key a 32-byte seed expands to: SHAKE256(seed) gives 64 bytes
        /// for ML-KEM-768's (d, z) and 128 for P-256, whose first 32-byte
        /// window that is a valid scalar is the scalar.
        pub(crate) fn from_seed(seed: [u8; 32]) -> PrivateKey {
            let mut xof = Shake256::default().chain(seed).finalize_xof();
            let (mut d, mut z, mut t) = ([0u8; 32], [0u8; 32], [0u8; 128]);
            xof.read(&mut d);
            xof.read(&mut z);
            xof.read(&mut t);
            let (dk_pq, ek_pq) = MlKem768::generate_deterministic(&d.into(), &z.into());
            let dk_t = t
                .chunks_exact(32)
                .find_map(|window| p256::SecretKey::from_slice(window).ok())
                .expect("a valid scalar in four tries (failure has probability < 2^-128)");
            PrivateKey {
                seed,
                dk_pq,
                ek_pq,
                dk_t,
            }
        }

        /// The recipient's bytes: the ML-KEM key, then the uncompressed point.
        pub(crate) fn public_bytes(&self) -> Vec<u8> {
            let mut out = self.ek_pq.as_bytes().to_vec();
            out.extend_from_slice(self.point().as_bytes());
            out
        }

        pub(crate) fn point(&self) -> p256::EncodedPoint {
            self.dk_t.public_key().to_encoded_point(false)
        }
    }

    impl PartialEq for PrivateKey {
        fn eq(&self, other: &Self) -> bool {
            self.seed == other.seed
        }
    }
    impl Eq for PrivateKey {}

    impl Serializable for PrivateKey {
        type OutputSize = typenum::U32;
        fn write_exact(&self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.seed);
        }
    }

    impl Deserializable for PrivateKey {
        fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
            let seed: [u8; 32] = encoded
                .try_into()
                .map_err(|_| HpkeError::IncorrectInputLength(32, encoded.len()))?;
            Ok(PrivateKey::from_seed(seed))
        }
    }

    /// Only sealing needs the public key, and this plugin never seals.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct PublicKey(Vec<u8>);

    impl Serializable for PublicKey {
        type OutputSize = typenum::Sum<typenum::U1024, typenum::U225>;
        fn write_exact(&self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0);
        }
    }

    impl Deserializable for PublicKey {
        fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
            if encoded.len() != EK_PQ + POINT {
                return Err(HpkeError::IncorrectInputLength(
                    EK_PQ + POINT,
                    encoded.len(),
                ));
            }
            Ok(PublicKey(encoded.to_vec()))
        }
    }

    /// The encapsulation: an ML-KEM ciphertext, then an uncompressed point.
    #[derive(Clone)]
    pub(crate) struct Encapped(Vec<u8>);

    impl Serializable for Encapped {
        type OutputSize = typenum::Sum<typenum::U1024, typenum::U129>;
        fn write_exact(&self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0);
        }
    }

    impl Deserializable for Encapped {
        fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
            if encoded.len() != CT_PQ + POINT {
                return Err(HpkeError::IncorrectInputLength(
                    CT_PQ + POINT,
                    encoded.len(),
                ));
            }
            Ok(Encapped(encoded.to_vec()))
        }
    }

    impl hpke::Kem for Kem {
        type PublicKey = PublicKey;
        type PrivateKey = PrivateKey;
        type EncappedKey = Encapped;
        type NSecret = typenum::U32;
        const KEM_ID: u16 = KEM_ID;

        fn sk_to_pk(sk: &PrivateKey) -> PublicKey {
            PublicKey(sk.public_bytes())
        }

        fn derive_keypair(_ikm: &[u8]) -> (PrivateKey, PublicKey) {
            unimplemented!("this test plugin only opens")
        }

        fn decap(
            sk: &PrivateKey,
            sender: Option<&PublicKey>,
            encapped: &Encapped,
        ) -> Result<SharedSecret<Self>, HpkeError> {
            if sender.is_some() {
                return Err(HpkeError::DecapError);
            }
            let (ct_pq, ct_t) = encapped.0.split_at(CT_PQ);
            let ct_pq: ml_kem::Ciphertext<MlKem768> = <[u8; CT_PQ]>::try_from(ct_pq)
                .expect("split at CT_PQ")
                .into();
            let ss_pq = sk
                .dk_pq
                .decapsulate(&ct_pq)
                .map_err(|()| HpkeError::DecapError)?;
            let point = p256::EncodedPoint::from_bytes(ct_t).map_err(|_| HpkeError::DecapError)?;
            let their = p256::PublicKey::from_encoded_point(&point)
                .into_option()
                .ok_or(HpkeError::DecapError)?;
            let ss_t = p256::ecdh::diffie_hellman(sk.dk_t.to_nonzero_scalar(), their.as_affine());
            // The combiner: SHA3-256(ss_PQ ‖ ss_T ‖ ct_T ‖ ek_T ‖ label).
            let combined = Sha3_256::new()
                .chain_update(ss_pq)
                .chain_update(ss_t.raw_secret_bytes())
                .chain_update(ct_t)
                .chain_update(sk.point().as_bytes())
                .chain_update(LABEL)
                .finalize();
            let mut secret = hpke::generic_array::GenericArray::<u8, typenum::U32>::default();
            secret.copy_from_slice(&combined);
            Ok(SharedSecret(secret))
        }

        fn encap<R: rand::CryptoRng + rand::RngCore>(
            _pk: &PublicKey,
            _sender: Option<(&PrivateKey, &PublicKey)>,
            _rng: &mut R,
        ) -> Result<(SharedSecret<Self>, Encapped), HpkeError> {
            Err(HpkeError::EncapError)
        }
    }

    pub(crate) const ENCAPPED_LEN: usize = CT_PQ + POINT;
    const _: () =
        assert!(<typenum::Sum<typenum::U1024, typenum::U129> as Unsigned>::USIZE == CT_PQ + POINT);
    const _: () =
        assert!(<typenum::Sum<typenum::U1024, typenum::U225> as Unsigned>::USIZE == EK_PQ + POINT);
}

/// One software "hardware key".
enum Key {
    Tag(p256::SecretKey),
    TagPq(Box<hybrid::PrivateKey>),
}

impl Key {
    fn from_identity(bytes: &[u8]) -> Option<Key> {
        match bytes {
            [KIND_TAG, scalar @ ..] => p256::SecretKey::from_slice(scalar).ok().map(Key::Tag),
            [KIND_TAGPQ, seed @ ..] => Some(Key::TagPq(Box::new(hybrid::PrivateKey::from_seed(
                seed.try_into().ok()?,
            )))),
            _ => None,
        }
    }

    /// The stanza tag this key answers to: HKDF-Extract(salt, enc ‖
    /// SHA-256(the recipient's point)[..4])[..4], as age's tag recipients
    /// write it, so that other keys' stanzas are passed over unopened.
    fn tag_for(&self, enc: &[u8]) -> [u8; 4] {
        let (point, salt) = match self {
            Key::Tag(sk) => (sk.public_key().to_encoded_point(true), TAG_SALT),
            Key::TagPq(sk) => (sk.point(), TAGPQ_SALT),
        };
        let mut ikm = enc.to_vec();
        ikm.extend_from_slice(&Sha256::digest(point.as_bytes())[..4]);
        let (prk, _) = Hkdf::<Sha256>::extract(Some(salt.as_bytes()), &ikm);
        prk[..4].try_into().expect("four bytes")
    }

    fn unwrap(&self, stanza: &Stanza) -> Option<Result<FileKey, String>> {
        let (expected_tag, salt) = match self {
            Key::Tag(_) => (TAG_STANZA, TAG_SALT),
            Key::TagPq(_) => (TAGPQ_STANZA, TAGPQ_SALT),
        };
        if stanza.tag != expected_tag || stanza.args.len() != 2 {
            return None;
        }
        let tag = BASE64_STANDARD_NO_PAD.decode(&stanza.args[0]).ok()?;
        let enc = BASE64_STANDARD_NO_PAD.decode(&stanza.args[1]).ok()?;
        if tag != self.tag_for(&enc) {
            return None;
        }
        let opened = match self {
            Key::Tag(sk) => {
                use hpke::Deserializable;
                type Dh = hpke::kem::DhP256HkdfSha256;
                let sk = <Dh as hpke::Kem>::PrivateKey::from_bytes(&sk.to_bytes())
                    .expect("a valid scalar");
                <Dh as hpke::Kem>::EncappedKey::from_bytes(&enc)
                    .map_err(|e| e.to_string())
                    .and_then(|enc| {
                        hpke_open::<Dh>(&enc, &sk, salt.as_bytes(), &stanza.body)
                            .map_err(|e| e.to_string())
                    })
            }
            Key::TagPq(sk) => {
                use hpke::Deserializable;
                if enc.len() != hybrid::ENCAPPED_LEN {
                    return Some(Err("wrong encapsulation length".into()));
                }
                hybrid::Encapped::from_bytes(&enc)
                    .map_err(|e| e.to_string())
                    .and_then(|enc| {
                        hpke_open::<hybrid::Kem>(&enc, sk, salt.as_bytes(), &stanza.body)
                            .map_err(|e| e.to_string())
                    })
            }
        };
        Some(opened.and_then(|key| {
            let key: [u8; FILE_KEY_BYTES] = key
                .try_into()
                .map_err(|_| "the wrapped file key has the wrong length".to_string())?;
            Ok(FileKey::new(Box::new(key)))
        }))
    }
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = NoRecipients;
    type IdentityV1 = Identities;

    fn recipient_v1(self) -> io::Result<NoRecipients> {
        Err(io::Error::other("this test plugin only opens"))
    }

    fn identity_v1(self) -> io::Result<Identities> {
        Ok(Identities(Vec::new()))
    }
}

/// Sealing needs no plugin: age seals to tag recipients natively.
struct NoRecipients;

impl RecipientPluginV1 for NoRecipients {
    fn add_recipient(&mut self, index: usize, _: &str, _: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Recipient {
            index,
            message: "seal to the age1tag1…/age1tagpq1… recipient instead".into(),
        })
    }

    fn add_identity(&mut self, index: usize, _: &str, _: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "this test plugin only opens".into(),
        })
    }

    fn labels(&mut self) -> std::collections::HashSet<String> {
        Default::default()
    }

    fn wrap_file_keys(
        &mut self,
        _: Vec<FileKey>,
        _: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        Err(io::Error::other("this test plugin only opens"))
    }
}

struct Identities(Vec<(usize, Key)>);

impl IdentityPluginV1 for Identities {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        match (plugin_name == PLUGIN_NAME, Key::from_identity(bytes)) {
            (true, Some(key)) => {
                self.0.push((index, key));
                Ok(())
            }
            _ => Err(identity::Error::Identity {
                index,
                message: "not a sealdroptest identity".into(),
            }),
        }
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut results = HashMap::new();
        if std::env::var_os("SEALDROPTEST_REMOVED").is_some() {
            for (file, _) in files.iter().enumerate() {
                let errors = self
                    .0
                    .iter()
                    .map(|(index, _)| identity::Error::Identity {
                        index: *index,
                        message: "the test key is not plugged in".into(),
                    })
                    .collect();
                results.insert(file, Err(errors));
            }
            return Ok(results);
        }
        if let Ok(pin) = std::env::var("SEALDROPTEST_PIN") {
            let typed = callbacks.request_secret("Enter the PIN of the sealdrop test key:")?;
            let typed = match typed {
                Ok(secret) => secret,
                Err(_) => {
                    for (file, _) in files.iter().enumerate() {
                        results.insert(
                            file,
                            Err(vec![identity::Error::Internal {
                                message: "no PIN was given for the sealdrop test key".into(),
                            }]),
                        );
                    }
                    return Ok(results);
                }
            };
            use age_core::secrecy::ExposeSecret;
            if typed.expose_secret() != pin {
                for (file, _) in files.iter().enumerate() {
                    results.insert(
                        file,
                        Err(vec![identity::Error::Internal {
                            message: "wrong PIN for the sealdrop test key".into(),
                        }]),
                    );
                }
                return Ok(results);
            }
        }
        for (file, stanzas) in files.iter().enumerate() {
            'stanzas: for (stanza_index, stanza) in stanzas.iter().enumerate() {
                for (_, key) in &self.0 {
                    match key.unwrap(stanza) {
                        None => continue,
                        Some(Ok(file_key)) => {
                            let _ = callbacks.message("Touched the sealdrop test key")?;
                            results.insert(file, Ok(file_key));
                            break 'stanzas;
                        }
                        Some(Err(message)) => {
                            results.insert(
                                file,
                                Err(vec![identity::Error::Stanza {
                                    file_index: file,
                                    stanza_index,
                                    message,
                                }]),
                            );
                            break 'stanzas;
                        }
                    }
                }
            }
        }
        Ok(results)
    }
}

fn generate(kind: &str) -> io::Result<()> {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let (identity, recipient_hrp, recipient) = match kind {
        "tag" => {
            let sk = loop {
                if let Ok(sk) = p256::SecretKey::from_slice(&secret) {
                    break sk;
                }
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            };
            let point = sk.public_key().to_encoded_point(true);
            let mut identity = vec![KIND_TAG];
            identity.extend_from_slice(&sk.to_bytes());
            (identity, "age1tag", point.as_bytes().to_vec())
        }
        "tagpq" => {
            let key = hybrid::PrivateKey::from_seed(secret);
            let mut identity = vec![KIND_TAGPQ];
            identity.extend_from_slice(&secret);
            (identity, "age1tagpq", key.public_bytes())
        }
        other => {
            return Err(io::Error::other(format!(
                "--generate tag|tagpq, not {other}"
            )))
        }
    };
    let identity_hrp = format!("AGE-PLUGIN-{}-", PLUGIN_NAME.to_uppercase());
    let identity = bech32_encode(bech32::Hrp::parse_unchecked(&identity_hrp), &identity);
    let recipient = bech32_encode(bech32::Hrp::parse_unchecked(recipient_hrp), &recipient);
    println!("# TEST-ONLY software stand-in for a hardware key");
    println!("# recipient: {recipient}");
    println!("{}", identity.to_uppercase());
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag.starts_with("--age-plugin=") => {
            run_state_machine(&flag["--age-plugin=".len()..], Handler)
        }
        [flag, kind] if flag == "--generate" => generate(kind),
        _ => Err(io::Error::other(
            "usage: age-plugin-sealdroptest --generate tag|tagpq (run by age as a plugin otherwise)",
        )),
    }
}
