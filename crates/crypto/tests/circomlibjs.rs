//! Agreement with the reference JavaScript implementation (circomlibjs 0.1.7): Poseidon
//! hashes, key derivation and signatures reproduced byte for byte from committed vectors,
//! reference signatures verified here, and our signatures verified by circomlibjs itself.

use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tandem_crypto::field::{fr_from_decimal, fr_to_decimal};
use tandem_crypto::{poseidon, verify, Fr, PrivateKey, PublicKey, Signature};
use tandem_types::{PackedPubKey, PackedSignature};

#[derive(Deserialize)]
struct Vectors {
    poseidon: Vec<PoseidonVector>,
    eddsa: Vec<EddsaVector>,
}

#[derive(Deserialize)]
struct PoseidonVector {
    inputs: Vec<String>,
    output: String,
}

#[derive(Deserialize)]
struct Point {
    x: String,
    y: String,
}

#[derive(Deserialize)]
struct PubKeyVector {
    x: String,
    y: String,
    packed: String,
}

#[derive(Deserialize)]
struct EddsaVector {
    private_key: String,
    public_key: PubKeyVector,
    message: String,
    r8: Point,
    s: String,
    packed_signature: String,
}

fn vectors() -> Vectors {
    let text = include_str!("vectors/circomlibjs.json");
    serde_json::from_str(text).expect("committed vector file parses")
}

fn fr(text: &str) -> Fr {
    fr_from_decimal(text).expect("vector holds a canonical field element")
}

fn bytes<const N: usize>(hex_text: &str) -> [u8; N] {
    hex::decode(hex_text).expect("hex").try_into().expect("length")
}

#[test]
fn poseidon_matches_circomlibjs_for_every_arity() {
    let v = vectors();
    assert!(v.poseidon.len() >= 24);
    for vector in &v.poseidon {
        let inputs: Vec<Fr> = vector.inputs.iter().map(|s| fr(s)).collect();
        assert_eq!(fr_to_decimal(&poseidon(&inputs)), vector.output, "arity {}", inputs.len());
    }
}

#[test]
fn keys_and_signatures_match_circomlibjs_byte_for_byte() {
    for vector in vectors().eddsa {
        let key = PrivateKey::from_seed(bytes(&vector.private_key));
        let public = key.public_key();
        assert_eq!(fr_to_decimal(&public.x()), vector.public_key.x);
        assert_eq!(fr_to_decimal(&public.y()), vector.public_key.y);
        assert_eq!(public.pack().0, bytes::<32>(&vector.public_key.packed));

        let sig = key.sign(fr(&vector.message));
        assert_eq!(fr_to_decimal(&sig.r8().x), vector.r8.x);
        assert_eq!(fr_to_decimal(&sig.r8().y), vector.r8.y);
        assert_eq!(sig.s().to_string(), vector.s);
        assert_eq!(sig.pack().0, bytes::<64>(&vector.packed_signature));
    }
}

#[test]
fn reference_signatures_verify_and_tampered_ones_do_not() {
    for vector in vectors().eddsa {
        let public = PublicKey::unpack(&PackedPubKey(bytes(&vector.public_key.packed))).unwrap();
        let packed = PackedSignature(bytes(&vector.packed_signature));
        let sig = Signature::unpack(&packed).unwrap();
        let msg = fr(&vector.message);
        assert!(verify(&public, msg, &sig));
        assert!(!verify(&public, msg + Fr::from(1u64), &sig), "other message must fail");

        // Flip one bit of S (keeping it canonical): must not verify.
        let mut tampered = packed;
        tampered.0[32] ^= 1;
        if let Ok(bad) = Signature::unpack(&tampered) {
            assert!(!verify(&public, msg, &bad));
        }
    }
}

#[test]
fn non_canonical_signature_s_is_refused() {
    let v = vectors();
    let mut packed = PackedSignature(bytes(&v.eddsa[0].packed_signature));
    // S = 2^256 - 1 is far above the subgroup order.
    packed.0[32..].copy_from_slice(&[0xff; 32]);
    assert!(Signature::unpack(&packed).is_err());
}

#[test]
fn circomlibjs_verifies_our_signatures() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tools/vectors/verify.js");
    assert!(
        root.join("node_modules/circomlibjs").exists(),
        "circomlibjs is missing: run `npm ci` at the repository root (the README's test command does)"
    );
    // Fresh keys and messages the reference has never seen, plus one tampered signature that
    // it must reject (so this test can fail).
    let mut items = Vec::new();
    for i in 0..6u8 {
        let key = PrivateKey::from_seed([i.wrapping_mul(37).wrapping_add(11); 32]);
        let msg = poseidon(&[Fr::from(i as u64), Fr::from(1_000_003u64)]);
        let sig = key.sign(msg);
        items.push(serde_json::json!({
            "public_key": hex::encode(key.public_key().pack().0),
            "message": fr_to_decimal(&msg),
            "signature": hex::encode(sig.pack().0),
        }));
    }
    let key = PrivateKey::from_seed([99; 32]);
    let sig = key.sign(Fr::from(5u64));
    items.push(serde_json::json!({
        "public_key": hex::encode(key.public_key().pack().0),
        "message": "6",
        "signature": hex::encode(sig.pack().0),
    }));

    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is installed");
    child.stdin.take().unwrap().write_all(serde_json::to_string(&items).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    let mut expected = vec!["ok".to_string(); 6];
    expected.push("bad".to_string());
    assert_eq!(lines, expected);
}
