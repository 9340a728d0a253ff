//! Post-quantum sealing (age v1.3 `mlkem768x25519`): the spec's known answer,
//! every rejection rule, mixing refused, round trips in memory and through the
//! real server and `sealdrop-open`, passphrase-protected PQ identities, and
//! what stock `age` makes of PQ files.

use std::collections::HashSet;
use std::fs;
use std::io::Cursor;
use std::process::Command;

use age::secrecy::{ExposeSecret, SecretString};
use age::{DecryptError, Identity as _, Recipient as _};
use age_core::format::{FileKey, Stanza};
use age_core::primitives::{bech32_decode, bech32_encode};
use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
use proptest::prelude::*;
use sealdrop_format::keys::{load_identity_file, Recipients};
use sealdrop_format::pq::{self, PqKeyError};
use sealdrop_format::seal::{SealOptions, SubmissionReader, SubmissionWriter};

use crate::common::*;

const ENC_LEN: usize = 1120;
const MLKEM_CT_LEN: usize = 1088;
const PUBLIC_KEY_LEN: usize = 1216;

fn spec_example() -> (String, String) {
    let text = include_str!("../testdata/c2sp-age/pq-example.txt");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap()
            .to_owned()
    };
    (field("identity"), field("recipient"))
}

fn recipient_bytes(recipient: &str) -> Vec<u8> {
    bech32_decode(
        recipient,
        |_| (),
        |_| Ok(()),
        |_, bytes| Ok::<_, ()>(bytes.collect()),
    )
    .unwrap()
}

fn encode_recipient(bytes: &[u8]) -> String {
    bech32_encode(bech32::Hrp::parse_unchecked("age1pq"), bytes)
}

#[test]
fn the_spec_example_key_pair_is_a_known_answer() {
    let (identity_text, recipient_text) = spec_example();
    let identity: pq::Identity = identity_text.parse().unwrap();
    assert_eq!(identity.to_public().to_string(), recipient_text);
    assert_eq!(identity.to_secret_string().expose_secret(), identity_text);
    let recipient: pq::Recipient = recipient_text.parse().unwrap();
    assert_eq!(recipient.to_string(), recipient_text);
    assert_eq!(recipient_bytes(&recipient_text).len(), PUBLIC_KEY_LEN);
}

#[test]
fn malformed_recipients_are_refused_each_for_its_reason() {
    let (_, good) = spec_example();
    let bytes = recipient_bytes(&good);
    let parse = |s: &str| s.parse::<pq::Recipient>().err();

    let classic = age::x25519::Identity::generate().to_public().to_string();
    assert_eq!(parse(&classic), Some(PqKeyError::Prefix("age1pq1")));

    let mut typo = good.clone();
    let at = typo.len() / 2;
    let swap = if &typo[at..=at] == "q" { "p" } else { "q" };
    typo.replace_range(at..=at, swap);
    assert_eq!(parse(&typo), Some(PqKeyError::Bech32));

    let mixed_case = format!("{}{}", &good[..10].to_uppercase(), &good[10..]);
    assert_eq!(parse(&mixed_case), Some(PqKeyError::Bech32));

    for len in [PUBLIC_KEY_LEN - 1, PUBLIC_KEY_LEN + 1, 32] {
        let mut b = bytes.clone();
        b.resize(len, 0);
        assert_eq!(
            parse(&encode_recipient(&b)),
            Some(PqKeyError::Length {
                expected: PUBLIC_KEY_LEN,
                got: len
            })
        );
    }

    // FIPS 203 modulus check: the first 12-bit coefficient set to q = 3329.
    let mut b = bytes.clone();
    b[0] = 0x01;
    b[1] = (b[1] & 0xf0) | 0x0d;
    assert_eq!(parse(&encode_recipient(&b)), Some(PqKeyError::MlKemModulus));
    // ... and a coefficient of 4095 in the middle of the vector.
    let mut b = bytes.clone();
    b[600] = 0xff;
    b[601] |= 0x0f;
    assert_eq!(parse(&encode_recipient(&b)), Some(PqKeyError::MlKemModulus));

    // A low-order X25519 half (here the point 0) would contribute nothing.
    let mut b = bytes.clone();
    b[1184..].fill(0);
    assert_eq!(
        parse(&encode_recipient(&b)),
        Some(PqKeyError::X25519LowOrder)
    );

    assert!(parse(&encode_recipient(&bytes)).is_none());
}

#[test]
fn malformed_identities_are_refused_each_for_its_reason() {
    let (good, _) = spec_example();
    let parse = |s: &str| s.parse::<pq::Identity>().err();
    let hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");
    for len in [31, 33, 64] {
        let encoded = bech32_encode(hrp, &vec![7u8; len]).to_uppercase();
        assert_eq!(
            parse(&encoded),
            Some(PqKeyError::Length {
                expected: 32,
                got: len
            })
        );
    }
    let classic = age::x25519::Identity::generate();
    assert_eq!(
        parse(classic.to_string().expose_secret()),
        Some(PqKeyError::Prefix("AGE-SECRET-KEY-PQ-1"))
    );
    let mut typo = good.clone();
    let swap = if &typo[30..31] == "Q" { "P" } else { "Q" };
    typo.replace_range(30..31, swap);
    assert_eq!(parse(&typo), Some(PqKeyError::Bech32));
    assert!(parse(&good).is_none());
}

fn file_key() -> FileKey {
    FileKey::new(Box::new(*b"sixteen byte key"))
}

/// A genuine stanza for `identity`'s recipient.
fn stanza_for(identity: &pq::Identity) -> Stanza {
    let (mut stanzas, labels) = identity.to_public().wrap_file_key(&file_key()).unwrap();
    assert_eq!(labels, HashSet::from(["postquantum".to_owned()]));
    assert_eq!(stanzas.len(), 1);
    stanzas.pop().unwrap()
}

fn enc_of(stanza: &Stanza) -> Vec<u8> {
    BASE64_STANDARD_NO_PAD.decode(&stanza.args[0]).unwrap()
}

fn copy(stanza: &Stanza) -> Stanza {
    Stanza {
        tag: stanza.tag.clone(),
        args: stanza.args.clone(),
        body: stanza.body.clone(),
    }
}

fn with_enc(stanza: &Stanza, enc: &[u8]) -> Stanza {
    Stanza {
        tag: stanza.tag.clone(),
        args: vec![BASE64_STANDARD_NO_PAD.encode(enc)],
        body: stanza.body.clone(),
    }
}

fn is_header_failure(result: Option<Result<FileKey, DecryptError>>) -> bool {
    matches!(result, Some(Err(DecryptError::InvalidHeader)))
}

#[test]
fn a_genuine_stanza_unwraps_and_has_the_spec_shape() {
    let identity = pq::Identity::generate();
    let stanza = stanza_for(&identity);
    assert_eq!(stanza.tag, "mlkem768x25519");
    assert_eq!(stanza.args.len(), 1);
    assert_eq!(enc_of(&stanza).len(), ENC_LEN);
    assert_eq!(stanza.body.len(), 32);
    let key = identity.unwrap_stanza(&stanza).unwrap().unwrap();
    assert_eq!(key.expose_secret(), file_key().expose_secret());
}

#[test]
fn every_stanza_rejection_rule_holds() {
    let identity = pq::Identity::generate();
    let stanza = stanza_for(&identity);

    // Other types are ignored, including the tag in upper case.
    for tag in ["X25519", "MLKEM768X25519", "mlkem768p256tag"] {
        let other = Stanza {
            tag: tag.into(),
            ..stanza_for(&identity)
        };
        assert!(identity.unwrap_stanza(&other).is_none(), "{tag}");
    }

    // Exactly one argument after the type.
    let mut extra = stanza_for(&identity);
    extra.args.push("AAAA".into());
    assert!(is_header_failure(identity.unwrap_stanza(&extra)));
    let mut none = stanza_for(&identity);
    none.args.clear();
    assert!(is_header_failure(identity.unwrap_stanza(&none)));

    // Canonical base64 only: 1120 bytes leave 4 unused bits in the last
    // character; setting one of them, or adding `=` padding, is refused.
    let arg = &stanza.args[0];
    let last = arg.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = alphabet.find(last).unwrap();
    assert_eq!(
        value & 0b1111,
        0,
        "canonical encoding has zero trailing bits"
    );
    let mut not_canonical = copy(&stanza);
    not_canonical.args[0] = format!(
        "{}{}",
        &arg[..arg.len() - 1],
        alphabet.chars().nth(value | 1).unwrap()
    );
    assert!(is_header_failure(identity.unwrap_stanza(&not_canonical)));
    let mut padded = copy(&stanza);
    padded.args[0] = format!("{arg}==");
    assert!(is_header_failure(identity.unwrap_stanza(&padded)));

    // enc must be exactly 1120 bytes.
    let enc = enc_of(&stanza);
    for len in [ENC_LEN - 1, ENC_LEN + 1, 32] {
        let mut e = enc.clone();
        e.resize(len, 0);
        assert!(
            is_header_failure(identity.unwrap_stanza(&with_enc(&stanza, &e))),
            "enc of {len} bytes"
        );
    }

    // The body length is checked before decryption: a wrong length is a
    // malformed file, not "not for me" (which an AEAD failure would give).
    for len in [0, 31, 33, 48] {
        let mut short = copy(&stanza);
        short.body.resize(len, 0);
        assert!(
            is_header_failure(identity.unwrap_stanza(&short)),
            "body of {len} bytes"
        );
    }

    // A non-contributory X25519 share (identity point, low-order point) is refused.
    let order_eight = BASE64_STANDARD_NO_PAD
        .decode("4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA")
        .unwrap();
    for share in [vec![0u8; 32], order_eight] {
        let mut e = enc.clone();
        e[MLKEM_CT_LEN..].copy_from_slice(&share);
        assert!(is_header_failure(
            identity.unwrap_stanza(&with_enc(&stanza, &e))
        ));
    }

    // A body that does not authenticate, or another newsroom's stanza, is
    // "not for this identity": age then tries the other stanzas.
    let mut tampered = copy(&stanza);
    tampered.body[0] ^= 1;
    assert!(identity.unwrap_stanza(&tampered).is_none());
    assert!(pq::Identity::generate().unwrap_stanza(&stanza).is_none());
    let mut e = enc.clone();
    e[10] ^= 1;
    assert!(identity.unwrap_stanza(&with_enc(&stanza, &e)).is_none());
}

#[test]
fn age_refuses_to_mix_post_quantum_and_classic_recipients() {
    let pq_recipient = pq::Identity::generate().to_public();
    let classic = age::x25519::Identity::generate().to_public();
    for order in [
        vec![&pq_recipient as &dyn age::Recipient, &classic],
        vec![&classic as &dyn age::Recipient, &pq_recipient],
    ] {
        let refused = age::Encryptor::with_recipients(order.into_iter());
        assert!(
            matches!(
                refused,
                Err(age::EncryptError::IncompatibleRecipients { .. })
            ),
            "mixing must be refused"
        );
    }
}

fn seal_pq(recipients: &Recipients, message: &[u8], file: &[u8]) -> Vec<u8> {
    let mut w = SubmissionWriter::new(recipients, Vec::new(), &SealOptions::default()).unwrap();
    w.begin_message().unwrap();
    w.write_part(message).unwrap();
    w.end_part().unwrap();
    w.begin_attachment("leak.bin", Some("application/octet-stream"))
        .unwrap();
    w.write_part(file).unwrap();
    w.end_part().unwrap();
    w.finish().unwrap().0
}

/// The header stanzas of an age file, as (first line, size in bytes).
fn stanzas(sealed: &[u8]) -> Vec<(String, usize)> {
    let end = sealed.windows(4).position(|w| w == b"\n---").unwrap();
    let header = std::str::from_utf8(&sealed[..end + 1]).unwrap();
    let mut out: Vec<(String, usize)> = Vec::new();
    for line in header.lines().skip(1) {
        if line.starts_with("-> ") {
            out.push((line.split(' ').nth(1).unwrap().to_owned(), 0));
        }
        out.last_mut().unwrap().1 += line.len() + 1;
    }
    out
}

#[test]
fn pq_sealed_submissions_open_with_each_of_several_identities() {
    let identities: Vec<pq::Identity> = (0..3).map(|_| pq::Identity::generate()).collect();
    let recipients = Recipients::from_pq_keys(identities.iter().map(|i| i.to_public()).collect());
    let file: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sealed = seal_pq(&recipients, b"quantum-safe tip", &file);

    let kinds = stanzas(&sealed);
    let pq_stanzas: Vec<_> = kinds
        .iter()
        .filter(|(t, _)| t == "mlkem768x25519")
        .collect();
    assert_eq!(pq_stanzas.len(), 3, "{kinds:?}");
    assert!(!kinds.iter().any(|(t, _)| t == "X25519"), "{kinds:?}");
    // The header cost per recipient that FORMAT.md and SECURITY.md quote:
    // "-> mlkem768x25519 " + 1494 base64 characters + LF, then a 43-character body line + LF.
    for (_, size) in &pq_stanzas {
        assert_eq!(*size, 18 + 1494 + 1 + 43 + 1);
    }

    for identity in &identities {
        let mut r = SubmissionReader::open(
            Cursor::new(&sealed),
            std::iter::once(identity as &dyn age::Identity),
        )
        .unwrap();
        let manifest = r.manifest().clone();
        let mut got = Vec::new();
        for (i, _) in manifest.parts.iter().enumerate() {
            let mut data = Vec::new();
            std::io::copy(&mut r.part_reader(i).unwrap(), &mut data).unwrap();
            got.push(data);
        }
        assert_eq!(got, vec![b"quantum-safe tip".to_vec(), file.clone()]);
    }
    let stranger = pq::Identity::generate();
    assert!(matches!(
        SubmissionReader::open(
            Cursor::new(&sealed),
            std::iter::once(&stranger as &dyn age::Identity)
        ),
        Err(sealdrop_format::seal::OpenError::NoMatchingIdentity)
    ));
}

/// Answers the passphrase prompt with a fixed passphrase.
#[derive(Clone)]
struct FixedPassphrase(&'static str);

impl age::Callbacks for FixedPassphrase {
    fn display_message(&self, _: &str) {}
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, _: &str) -> Option<SecretString> {
        Some(SecretString::from(self.0.to_owned()))
    }
}

#[test]
fn passphrase_protected_pq_identity_files_open_pq_submissions() {
    let dir = tempfile::tempdir().unwrap();
    let identity = pq::Identity::generate();
    let text = format!(
        "# created: test\n{}\n",
        identity.to_secret_string().expose_secret()
    );
    let sealed = seal_pq(
        &Recipients::from_pq_keys(vec![identity.to_public()]),
        b"behind a passphrase",
        b"",
    );
    for armored in [false, true] {
        let mut encryptor_out = Vec::new();
        {
            let format = if armored {
                age::armor::Format::AsciiArmor
            } else {
                age::armor::Format::Binary
            };
            let armor = age::armor::ArmoredWriter::wrap_output(&mut encryptor_out, format).unwrap();
            let mut w = age::Encryptor::with_user_passphrase(SecretString::from(
                "correct horse".to_owned(),
            ))
            .wrap_output(armor)
            .unwrap();
            std::io::Write::write_all(&mut w, text.as_bytes()).unwrap();
            w.finish().unwrap().finish().unwrap();
        }
        let path = dir.path().join(format!("identity-{armored}.age"));
        fs::write(&path, &encryptor_out).unwrap();

        let wrong = load_identity_file(&path, FixedPassphrase("wrong horse"))
            .err()
            .unwrap();
        assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");

        let loaded = load_identity_file(&path, FixedPassphrase("correct horse")).unwrap();
        assert_eq!(loaded.len(), 1);
        let r = SubmissionReader::open(
            Cursor::new(&sealed),
            loaded.iter().map(|i| i.as_ref() as &dyn age::Identity),
        )
        .unwrap();
        assert_eq!(r.manifest().parts.len(), 2);
    }
}

#[test]
fn keygen_pq_writes_a_private_identity_and_prints_its_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newsroom.txt");
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "--pq", "-o"])
        .arg(&path));
    assert_success(&out, "sealdrop-open keygen --pq");
    let printed = String::from_utf8(out.stdout).unwrap();
    let printed = printed.trim();
    assert!(printed.starts_with("age1pq1") && !printed.contains('\n'));
    let recipient: pq::Recipient = printed.parse().unwrap();

    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-PQ-1"))
        .expect("a PQ identity line");
    let identity: pq::Identity = line.parse().unwrap();
    assert_eq!(identity.to_public(), recipient);
    assert!(String::from_utf8_lossy(&out.stderr).contains("post-quantum"));

    let again = run(Command::new(bin("sealdrop-open"))
        .args(["keygen", "--pq", "-o"])
        .arg(&path));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

/// Packs 768 twelve-bit coefficients and a 32-byte seed into an ML-KEM-768
/// encapsulation key, as FIPS 203 ByteEncode12 does.
fn pack_ek(coefficients: &[u16], rho: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(1184);
    for pair in coefficients.chunks(2) {
        let (a, b) = (pair[0], pair[1]);
        out.push(a as u8);
        out.push(((a >> 8) as u8 & 0x0f) | ((b as u8 & 0x0f) << 4));
        out.push((b >> 4) as u8);
    }
    out.extend(std::iter::repeat_n(rho, 32));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn modulus_check_passes_exactly_when_every_coefficient_is_below_q(
        coefficients in proptest::collection::vec(
            prop_oneof![4 => 0u16..3329, 1 => 3329u16..4096], 768),
        rho in any::<u8>(),
    ) {
        let ek = pack_ek(&coefficients, rho);
        prop_assert_eq!(ek.len(), 1184);
        prop_assert_eq!(
            pq::mlkem_ek_passes_modulus_check(&ek),
            coefficients.iter().all(|&c| c < 3329)
        );
    }

    #[test]
    fn arbitrary_stanzas_never_panic_and_never_unwrap(
        args in proptest::collection::vec("[A-Za-z0-9+/=]{0,1600}", 0..3),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let identity = pq::Identity::generate();
        let stanza = Stanza { tag: "mlkem768x25519".into(), args, body };
        prop_assert!(!matches!(identity.unwrap_stanza(&stanza), Some(Ok(_))));
    }
}

mod through_the_server {
    use super::*;
    use crate::common::server::*;
    use std::path::Path;

    fn keygen_pq(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
        let path = dir.join(name);
        let out = run(Command::new(bin("sealdrop-open"))
            .args(["keygen", "--pq", "-o"])
            .arg(&path));
        assert_success(&out, "keygen --pq");
        (
            path,
            String::from_utf8(out.stdout).unwrap().trim().to_owned(),
        )
    }

    fn decrypt(identity: &Path, store: &Path, out: &Path) -> Vec<u8> {
        let result = run(Command::new(bin("sealdrop-open"))
            .args(["decrypt", "-i"])
            .arg(identity)
            .arg("-o")
            .arg(out)
            .arg(store));
        assert_success(&result, "sealdrop-open decrypt");
        let folders = opened_submissions(out);
        assert_eq!(folders.len(), 1, "{folders:?}");
        fs::read(folders[0].join("message.txt")).unwrap()
    }

    #[test]
    fn the_server_seals_to_one_and_to_several_pq_recipients() {
        for count in [1usize, 3] {
            let keys = tempfile::tempdir().unwrap();
            let pairs: Vec<_> = (0..count)
                .map(|i| keygen_pq(keys.path(), &format!("editor-{i}.txt")))
                .collect();
            let recipients_text = pairs
                .iter()
                .map(|(_, r)| format!("{r}\n"))
                .collect::<String>();
            let server = Server::spawn_with_recipients(&recipients_text, &[]);
            let message = format!("sealed for {count} post-quantum keys");
            let response = submit(
                server.addr,
                &[
                    text_field("message", message.as_bytes()),
                    file_field("evidence.pdf", b"%PDF-1.7 not really"),
                ],
            );
            assert!(
                response.status == 200 || response.status == 303,
                "{}",
                response.status
            );
            let sealed = server.sealed_files();
            assert_eq!(sealed.len(), 1);
            let header = stanzas(&fs::read(&sealed[0]).unwrap());
            let pq_count = header.iter().filter(|(t, _)| t == "mlkem768x25519").count();
            assert_eq!(pq_count, count, "{header:?}");
            assert!(!header.iter().any(|(t, _)| t == "X25519"));

            for (i, (identity, _)) in pairs.iter().enumerate() {
                let out = keys.path().join(format!("opened-{i}"));
                assert_eq!(decrypt(identity, &server.store, &out), message.as_bytes());
            }
            let listed = run(Command::new(bin("sealdrop-open"))
                .args(["list", "-i"])
                .arg(&pairs[0].0)
                .arg(&server.store));
            assert_success(&listed, "sealdrop-open list");
            assert!(String::from_utf8_lossy(&listed.stdout).contains("evidence.pdf"));
            assert!(
                server.output_text().contains("post-quantum"),
                "{}",
                server.output_text()
            );
        }
    }

    #[test]
    fn the_server_refuses_a_recipients_file_that_mixes_pq_and_classic_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pq_recipient) = keygen_pq(dir.path(), "pq.txt");
        let classic = Key::new().recipient.to_string();
        let recipients = dir.path().join("recipients.txt");
        fs::write(
            &recipients,
            format!("{pq_recipient}\n# old key\n{classic}\n"),
        )
        .unwrap();
        let store = dir.path().join("store");
        private_dir(&store);
        let out = run(Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--recipients"])
            .arg(&recipients)
            .arg("--store")
            .arg(&store));
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "mixes post-quantum (age1pq1… or age1tagpq1…, line 1) and classic (age1… or age1tag1…, line 3)"
            ) && stderr.contains("keygen --pq"),
            "{stderr}"
        );
    }

    /// Debian's age 1.1 predates the hybrid type and cannot open PQ files, as
    /// the docs say; age >= 1.3 must open them byte for byte.
    #[test]
    fn stock_age_opens_pq_files_only_from_version_1_3() {
        let version = run(Command::new("age").arg("--version"));
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        let numbers: Vec<u32> = version
            .trim_start_matches('v')
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        let supports_pq = numbers.as_slice() >= [1, 3].as_slice();

        let dir = tempfile::tempdir().unwrap();
        let (identity, recipient) = keygen_pq(dir.path(), "pq.txt");
        let server = Server::start_with_recipients(&format!("{recipient}\n"), &[]);
        submit(server.addr, &[text_field("message", b"for age 1.3")]);
        let sealed = &server.sealed_files()[0];
        let zip = dir.path().join("out.zip");
        let out = run(Command::new("age")
            .args(["-d", "-i"])
            .arg(&identity)
            .arg("-o")
            .arg(&zip)
            .arg(sealed));
        if supports_pq {
            assert_success(&out, "age -d (>= 1.3)");
            assert_success(&run(Command::new("unzip").arg("-t").arg(&zip)), "unzip -t");
        } else {
            assert!(
                !out.status.success(),
                "age {version} unexpectedly opened a PQ file"
            );
        }
    }
}
