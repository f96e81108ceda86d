//! Signature verification at Baby Jubjub's small-order points, exactly as circomlib (and so the
//! circuit) decides: an `R8` with a small-order component is refused, a public key with one is
//! accepted (circomlib multiplies `A` by 8, which removes it), and an `S` off by one is refused.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField, Zero};
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
use tandem_crypto::babyjubjub::{pack_point, unpack_point};
use tandem_crypto::field::fr_to_le_bytes;
use tandem_crypto::{poseidon, verify, Fr, PrivateKey, PublicKey, Signature};
use tandem_types::{PackedPubKey, PackedSignature};

fn key(i: u64) -> PrivateKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&i.to_le_bytes());
    PrivateKey::from_seed(seed)
}

/// A point of order exactly 8: the torsion part `l·P` of curve points until one has order 8.
fn order_8_point() -> EdwardsAffine {
    let l = Scalar::MODULUS;
    for y in 2u64.. {
        let mut packed = [0u8; 32];
        packed[..8].copy_from_slice(&y.to_le_bytes());
        let Ok(point) = unpack_point(&packed) else { continue };
        let torsion = EdwardsProjective::from(point);
        let torsion = ark_ec::twisted_edwards::TECurveConfig::mul_projective(&torsion, l.as_ref());
        let four = torsion.double().double();
        if !four.is_zero() {
            return torsion.into_affine();
        }
    }
    unreachable!("the loop over y is unbounded and order-8 points are common")
}

/// `signature` with `R8` moved by `offset` (the S half kept).
fn shift_r8(signature: &Signature, offset: EdwardsAffine) -> Signature {
    let r8 = (*signature.r8() + offset).into_affine();
    let mut packed = signature.pack().0;
    packed[..32].copy_from_slice(&pack_point(&r8));
    Signature::unpack(&PackedSignature(packed)).unwrap()
}

fn honest(n: u64) -> Vec<(PublicKey, Fr, Signature)> {
    (0..n)
        .map(|i| {
            let k = key(i);
            let m = Fr::from(1000 + i);
            (k.public_key(), m, k.sign(m))
        })
        .collect()
}

#[test]
fn r8_with_a_small_order_component_is_refused() {
    let t8 = order_8_point();
    let order_2 = EdwardsAffine::new_unchecked(Fr::from(0u64), -Fr::from(1u64));
    for offset in [t8, order_2, (t8 + t8).into_affine()] {
        let mut items = honest(4);
        items[2].2 = shift_r8(&items[2].2, offset);
        let verdicts: Vec<bool> = items.iter().map(|(k, m, s)| verify(k, *m, s)).collect();
        assert_eq!(verdicts, vec![true, true, false, true]);
    }
}

/// A signature on `message` under the key `x·B8 + torsion`, built by hand: `S = r + c·8x`
/// with `c` the challenge of the shifted key. circomlib multiplies `A` by 8, which removes
/// the torsion, so single verification accepts it.
fn signature_for_shifted_key(x: Scalar, torsion: EdwardsAffine, message: Fr) -> (PublicKey, Signature) {
    let base = EdwardsAffine::generator();
    let public = (base * x + torsion).into_affine();
    let public = PublicKey::unpack(&PackedPubKey(pack_point(&public))).unwrap();
    let r = Scalar::from(123_456_789u64);
    let r8 = (base * r).into_affine();
    let c = poseidon(&[r8.x, r8.y, public.x(), public.y(), message]);
    let c = Scalar::from_le_bytes_mod_order(&fr_to_le_bytes(&c));
    let s = r + c * Scalar::from(8u64) * x;
    let mut packed = [0u8; 64];
    packed[..32].copy_from_slice(&pack_point(&r8));
    packed[32..].copy_from_slice(&s.into_bigint().to_bytes_le());
    (public, Signature::unpack(&PackedSignature(packed)).unwrap())
}

#[test]
fn public_key_with_a_small_order_component_is_accepted_as_circomlib_does() {
    let m = Fr::from(5u64);
    let (shifted, sig) = signature_for_shifted_key(Scalar::from(987_654_321u64), order_8_point(), m);
    assert!(verify(&shifted, m, &sig));
    // The same signature under another message is refused.
    assert!(!verify(&shifted, m + Fr::from(1u64), &sig));
}

#[test]
fn s_half_off_by_one_is_refused() {
    let mut items = honest(8);
    let mut packed = items[0].2.pack().0;
    let s = Scalar::from_le_bytes_mod_order(&packed[32..]) + Scalar::from(1u64);
    packed[32..].copy_from_slice(&s.into_bigint().to_bytes_le());
    items[0].2 = Signature::unpack(&PackedSignature(packed)).unwrap();
    let verdicts: Vec<bool> = items.iter().map(|(k, m, s)| verify(k, *m, s)).collect();
    assert!(!verdicts[0]);
    assert!(verdicts[1..].iter().all(|v| *v));
}
