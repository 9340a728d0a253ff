//! The MLKEM768-X25519 hybrid KEM ("X-Wing", draft-connolly-cfrg-xwing-kem; the
//! same construction as MLKEM768-X25519 in draft-ietf-hpke-pq), as an HPKE KEM
//! for the `hpke` 0.12 crate that `age` 0.12 already depends on.
//!
//! Built on ml-kem 0.2 (FIPS 203), x25519-dalek 2 and SHA-3, the versions already
//! in age's dependency tree, so no second copy of any primitive is compiled in.

use hpke::generic_array::typenum;
use hpke::{kem::SharedSecret, Deserializable, HpkeError, Serializable};
use ml_kem::kem::Decapsulate;
use ml_kem::{EncapsulateDeterministic, EncodedSizeUser, KemCore, MlKem768, B32};
use rand::{CryptoRng, RngCore};
use sha3::digest::{ExtendableOutput, Update};
use sha3::{Digest, Sha3_256, Shake256};
use std::sync::OnceLock;
use x25519_dalek::{x25519, X25519_BASEPOINT_BYTES};
use zeroize::{Zeroize, Zeroizing};

/// The combiner's domain separator, `\.//^\` (X-Wing §5.3).
const LABEL: &[u8; 6] = b"\\.//^\\";

pub(super) const SEED_LEN: usize = 32;
const MLKEM_EK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;
const X25519_LEN: usize = 32;
pub(super) const PUBLIC_KEY_LEN: usize = MLKEM_EK_LEN + X25519_LEN;
pub(super) const ENC_LEN: usize = MLKEM_CT_LEN + X25519_LEN;
/// ML-KEM's modulus q (FIPS 203 §2.4).
const MLKEM_Q: u16 = 3329;

type EncapsulationKey = <MlKem768 as KemCore>::EncapsulationKey;
type DecapsulationKey = <MlKem768 as KemCore>::DecapsulationKey;
type MlKemCiphertext = ml_kem::Ciphertext<MlKem768>;

/// Why a public key is not a valid MLKEM768-X25519 encapsulation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    Length(usize),
    /// FIPS 203 §7.2 input check: a 12-bit coefficient is not below q.
    MlKemModulus,
    /// The X25519 half is a low-order point: every shared secret with it would
    /// be all zeros, so the hybrid would rest on ML-KEM alone.
    X25519LowOrder,
}

/// The FIPS 203 §7.2 modulus check: ByteEncode12(ByteDecode12(t)) == t, that
/// is, every packed 12-bit coefficient of the 1152-byte vector t is below q.
pub fn mlkem_ek_passes_modulus_check(ek: &[u8]) -> bool {
    let t_len = MLKEM_EK_LEN - 32; // the rest is the 32-byte seed rho
    ek.len() == MLKEM_EK_LEN
        && ek[..t_len].chunks_exact(3).all(|b| {
            let c0 = u16::from(b[0]) | (u16::from(b[1] & 0x0f) << 8);
            let c1 = u16::from(b[1] >> 4) | (u16::from(b[2]) << 4);
            c0 < MLKEM_Q && c1 < MLKEM_Q
        })
}

/// Looks at every byte (no early exit): it is also applied to shared secrets.
fn is_all_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc | b) == 0
}

/// The decapsulation key is its 32-byte seed. The rest (ML-KEM's expanded
/// key, the X25519 secret) is expanded on first use and kept, on the heap,
/// for as long as the key lives: a source's login tries one key on every
/// reply waiting, and expanding it for each file doubled the cost. It is
/// wiped when the key is dropped (ML-KEM's key zeroizes itself, the rest is
/// `Zeroizing`).
pub(super) struct PrivateKey {
    seed: Zeroizing<[u8; SEED_LEN]>,
    expanded: OnceLock<Box<Expanded>>,
}

impl PrivateKey {
    pub(super) fn from_seed(seed: Zeroizing<[u8; SEED_LEN]>) -> Self {
        PrivateKey {
            seed,
            expanded: OnceLock::new(),
        }
    }

    pub(super) fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    fn expanded(&self) -> &Expanded {
        self.expanded.get_or_init(|| Box::new(expand(&self.seed)))
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey::from_seed(self.seed.clone())
    }
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.seed[..] == other.seed[..]
    }
}

impl Eq for PrivateKey {}

impl Serializable for PrivateKey {
    type OutputSize = typenum::U32;

    fn write_exact(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&self.seed[..]);
    }
}

impl Deserializable for PrivateKey {
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        let seed: [u8; SEED_LEN] = encoded
            .try_into()
            .map_err(|_| HpkeError::IncorrectInputLength(SEED_LEN, encoded.len()))?;
        Ok(PrivateKey::from_seed(Zeroizing::new(seed)))
    }
}

#[derive(Clone, Debug)]
pub(super) struct PublicKey {
    ek_m: EncapsulationKey,
    pk_x: [u8; X25519_LEN],
}

impl PublicKey {
    /// Parses and validates an encapsulation key (ML-KEM-768 ek ‖ X25519 pk).
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, KeyCheck> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(KeyCheck::Length(bytes.len()));
        }
        let (ek_bytes, pk_x) = bytes.split_at(MLKEM_EK_LEN);
        if !mlkem_ek_passes_modulus_check(ek_bytes) {
            return Err(KeyCheck::MlKemModulus);
        }
        let pk_x: [u8; X25519_LEN] = pk_x.try_into().expect("split at a fixed length");
        // A clamped scalar is a multiple of the cofactor, so any scalar maps a
        // low-order point (and only such a point) to the all-zero output.
        if is_all_zero(&x25519([1; 32], pk_x)) {
            return Err(KeyCheck::X25519LowOrder);
        }
        let ek_m = EncapsulationKey::from_bytes(ek_bytes.try_into().expect("length checked"));
        Ok(PublicKey { ek_m, pk_x })
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.pk_x == other.pk_x && self.ek_m.as_bytes() == other.ek_m.as_bytes()
    }
}

impl Eq for PublicKey {}

impl Serializable for PublicKey {
    type OutputSize = typenum::Sum<typenum::U1024, typenum::U192>;

    fn write_exact(&self, buf: &mut [u8]) {
        buf[..MLKEM_EK_LEN].copy_from_slice(&self.ek_m.as_bytes());
        buf[MLKEM_EK_LEN..].copy_from_slice(&self.pk_x);
    }
}

impl Deserializable for PublicKey {
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        PublicKey::parse(encoded).map_err(|e| match e {
            KeyCheck::Length(n) => HpkeError::IncorrectInputLength(PUBLIC_KEY_LEN, n),
            _ => HpkeError::ValidationError,
        })
    }
}

#[derive(Clone)]
pub(super) struct EncappedKey {
    ct_m: MlKemCiphertext,
    ct_x: [u8; X25519_LEN],
}

impl Serializable for EncappedKey {
    type OutputSize = typenum::Sum<typenum::U1024, typenum::U96>;

    fn write_exact(&self, buf: &mut [u8]) {
        buf[..MLKEM_CT_LEN].copy_from_slice(&self.ct_m);
        buf[MLKEM_CT_LEN..].copy_from_slice(&self.ct_x);
    }
}

impl Deserializable for EncappedKey {
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        if encoded.len() != ENC_LEN {
            return Err(HpkeError::IncorrectInputLength(ENC_LEN, encoded.len()));
        }
        let (ct_m, ct_x) = encoded.split_at(MLKEM_CT_LEN);
        Ok(EncappedKey {
            ct_m: MlKemCiphertext::try_from(ct_m).expect("length checked"),
            ct_x: ct_x.try_into().expect("length checked"),
        })
    }
}

struct Expanded {
    dk_m: DecapsulationKey,
    sk_x: Zeroizing<[u8; X25519_LEN]>,
    pk: PublicKey,
}

/// X-Wing's expandDecapsulationKey: SHAKE256(seed, 96) gives ML-KEM's (d, z)
/// and the X25519 secret.
fn expand(seed: &[u8; SEED_LEN]) -> Expanded {
    let mut wide = Zeroizing::new([0u8; 96]);
    Shake256::default()
        .chain(seed)
        .finalize_xof_into(&mut wide[..]);
    let mut d = B32::try_from(&wide[..32]).expect("32 bytes");
    let mut z = B32::try_from(&wide[32..64]).expect("32 bytes");
    let (dk_m, ek_m) = MlKem768::generate_deterministic(&d, &z);
    d[..].zeroize();
    z[..].zeroize();
    let mut sk_x = Zeroizing::new([0u8; X25519_LEN]);
    sk_x.copy_from_slice(&wide[64..]);
    let pk_x = x25519(*sk_x, X25519_BASEPOINT_BYTES);
    Expanded {
        dk_m,
        sk_x,
        pk: PublicKey { ek_m, pk_x },
    }
}

/// SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ label) (X-Wing §5.3).
fn combine(ss_m: &[u8], ss_x: &[u8], ct_x: &[u8], pk_x: &[u8]) -> SharedSecret<XWing> {
    let digest = Sha3_256::new()
        .chain_update(ss_m)
        .chain_update(ss_x)
        .chain_update(ct_x)
        .chain_update(pk_x)
        .chain_update(LABEL)
        .finalize();
    let mut ss = SharedSecret::<XWing>::default();
    ss.0.copy_from_slice(&digest);
    ss
}

/// X-Wing's EncapsulateDerand: eseed[..32] is ML-KEM's message m, eseed[32..]
/// the X25519 ephemeral secret.
fn encapsulate_derand(pk: &PublicKey, eseed: &[u8; 64]) -> (SharedSecret<XWing>, EncappedKey) {
    let mut ek_x = Zeroizing::new([0u8; X25519_LEN]);
    ek_x.copy_from_slice(&eseed[32..]);
    let ct_x = x25519(*ek_x, X25519_BASEPOINT_BYTES);
    let ss_x = Zeroizing::new(x25519(*ek_x, pk.pk_x));
    let mut m = B32::try_from(&eseed[..32]).expect("32 bytes");
    let (ct_m, mut ss_m) = pk
        .ek_m
        .encapsulate_deterministic(&m)
        .expect("ML-KEM encapsulation has no failure case");
    m[..].zeroize();
    let ss = combine(&ss_m, &ss_x[..], &ct_x, &pk.pk_x);
    ss_m[..].zeroize();
    (ss, EncappedKey { ct_m, ct_x })
}

/// The MLKEM768-X25519 HPKE KEM (id 0x647a).
pub(super) struct XWing;

impl hpke::Kem for XWing {
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;
    type EncappedKey = EncappedKey;
    type NSecret = typenum::U32;

    const KEM_ID: u16 = 0x647a;

    fn sk_to_pk(sk: &PrivateKey) -> PublicKey {
        sk.expanded().pk.clone()
    }

    /// X-Wing §5.4: the seed is SHAKE256(ikm, 32). age never derives keys
    /// from input keying material; this is here because HPKE's trait needs it.
    fn derive_keypair(ikm: &[u8]) -> (PrivateKey, PublicKey) {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        Shake256::default()
            .chain(ikm)
            .finalize_xof_into(&mut seed[..]);
        let pk = expand(&seed).pk;
        (PrivateKey::from_seed(seed), pk)
    }

    fn encap<R: CryptoRng + RngCore>(
        pk_recip: &PublicKey,
        sender_id_keypair: Option<(&PrivateKey, &PublicKey)>,
        csprng: &mut R,
    ) -> Result<(SharedSecret<Self>, EncappedKey), HpkeError> {
        // HPKE's Auth modes do not exist for a KEM; age uses Base mode only.
        if sender_id_keypair.is_some() {
            return Err(HpkeError::EncapError);
        }
        let mut eseed = Zeroizing::new([0u8; 64]);
        csprng.fill_bytes(&mut eseed[..]);
        Ok(encapsulate_derand(pk_recip, &eseed))
    }

    fn decap(
        sk_recip: &PrivateKey,
        pk_sender_id: Option<&PublicKey>,
        encapped_key: &EncappedKey,
    ) -> Result<SharedSecret<Self>, HpkeError> {
        if pk_sender_id.is_some() {
            return Err(HpkeError::DecapError);
        }
        let expanded = sk_recip.expanded();
        let ss_x = Zeroizing::new(x25519(*expanded.sk_x, encapped_key.ct_x));
        // A low-order share makes the X25519 half contribute nothing: refuse
        // it as age's X25519 recipient does, rather than rest on ML-KEM alone.
        if is_all_zero(&ss_x[..]) {
            return Err(HpkeError::DecapError);
        }
        let mut ss_m = expanded
            .dk_m
            .decapsulate(&encapped_key.ct_m)
            .map_err(|()| HpkeError::DecapError)?;
        let ss = combine(&ss_m, &ss_x[..], &encapped_key.ct_x, &expanded.pk.pk_x);
        ss_m[..].zeroize();
        Ok(ss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hpke::generic_array::typenum::Unsigned;
    use hpke::Kem;

    fn seed(byte: u8) -> PrivateKey {
        PrivateKey::from_seed(Zeroizing::new([byte; SEED_LEN]))
    }

    #[test]
    fn encap_decap_agree() {
        let sk = seed(7);
        let pk = XWing::sk_to_pk(&sk);
        let (ss, enc) = XWing::encap(&pk, None, &mut rand::rngs::OsRng).unwrap();
        let round = EncappedKey::from_bytes(&enc.to_bytes()).unwrap();
        assert_eq!(XWing::decap(&sk, None, &round).unwrap().0, ss.0);
        // Another key gets another secret (ML-KEM's implicit rejection).
        assert_ne!(XWing::decap(&seed(8), None, &round).unwrap().0, ss.0);
    }

    #[test]
    fn public_key_round_trips_and_is_checked() {
        let pk = XWing::sk_to_pk(&seed(1));
        let bytes = pk.to_bytes();
        assert_eq!(bytes.len(), PUBLIC_KEY_LEN);
        assert_eq!(PublicKey::parse(&bytes).unwrap(), pk);
        assert_eq!(
            PublicKey::parse(&bytes[1..]),
            Err(KeyCheck::Length(PUBLIC_KEY_LEN - 1))
        );

        // The first coefficient set to q = 3329 (0xD01): out of range.
        let mut bad = bytes.to_vec();
        bad[0] = 0x01;
        bad[1] = (bad[1] & 0xf0) | 0x0d;
        assert_eq!(PublicKey::parse(&bad), Err(KeyCheck::MlKemModulus));
        // q - 1 is fine.
        bad[0] = 0x00;
        assert!(PublicKey::parse(&bad).is_ok());
        // The last coefficient of t (upper 12 bits of byte 1149..1152) = 0xFFF.
        let mut bad = bytes.to_vec();
        bad[1150] |= 0xf0;
        bad[1151] = 0xff;
        assert_eq!(PublicKey::parse(&bad), Err(KeyCheck::MlKemModulus));

        // Low-order X25519 points: 0, 1, and the order-8 point.
        for low in [
            [0u8; 32],
            {
                let mut one = [0u8; 32];
                one[0] = 1;
                one
            },
            hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
                .try_into()
                .unwrap(),
        ] {
            let mut bad = bytes.to_vec();
            bad[MLKEM_EK_LEN..].copy_from_slice(&low);
            assert_eq!(PublicKey::parse(&bad), Err(KeyCheck::X25519LowOrder));
        }
    }

    #[test]
    fn low_order_share_is_refused_on_decap() {
        let sk = seed(3);
        let pk = XWing::sk_to_pk(&sk);
        let (_, enc) = XWing::encap(&pk, None, &mut rand::rngs::OsRng).unwrap();
        let mut bytes = enc.to_bytes().to_vec();
        bytes[MLKEM_CT_LEN..].fill(0);
        let bad = EncappedKey::from_bytes(&bytes).unwrap();
        assert!(matches!(
            XWing::decap(&sk, None, &bad),
            Err(HpkeError::DecapError)
        ));
    }

    #[test]
    fn lengths_are_exact() {
        assert_eq!(
            <PublicKey as Serializable>::OutputSize::USIZE,
            PUBLIC_KEY_LEN
        );
        assert_eq!(<EncappedKey as Serializable>::OutputSize::USIZE, ENC_LEN);
        assert!(EncappedKey::from_bytes(&[0; ENC_LEN + 1]).is_err());
        assert!(EncappedKey::from_bytes(&[0; ENC_LEN - 1]).is_err());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// draft-connolly-cfrg-xwing-kem-08, appendix C, vector 1: key expansion,
    /// derandomized encapsulation and decapsulation give the published bytes.
    #[test]
    fn known_answer_from_the_x_wing_draft() {
        let text = include_str!("../../testdata/xwing/draft-connolly-cfrg-xwing-kem-08-C1.txt");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
                .map(hex)
                .unwrap()
        };
        let seed: [u8; SEED_LEN] = field("sk").try_into().unwrap();
        let sk = PrivateKey::from_seed(Zeroizing::new(seed));
        let pk = XWing::sk_to_pk(&sk);
        assert_eq!(pk.to_bytes().to_vec(), field("pk"));
        assert_eq!(PublicKey::parse(&field("pk")).unwrap(), pk);

        let eseed: [u8; 64] = field("eseed").try_into().unwrap();
        let (ss, ct) = encapsulate_derand(&pk, &eseed);
        assert_eq!(ct.to_bytes().to_vec(), field("ct"));
        assert_eq!(ss.0.to_vec(), field("ss"));

        let ct = EncappedKey::from_bytes(&field("ct")).unwrap();
        assert_eq!(
            XWing::decap(&sk, None, &ct).unwrap().0.to_vec(),
            field("ss")
        );
    }
}
