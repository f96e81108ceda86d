//! Batch verification of EdDSA-Poseidon signatures accepts exactly what single verification
//! accepts: honest batches pass, and any batch holding a signature that `verify` refuses
//! fails, including signatures built around Baby Jubjub's small-order points.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField, Zero};
use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
use tandem_crypto::babyjubjub::{pack_point, unpack_point};
use tandem_crypto::field::fr_to_le_bytes;
use tandem_crypto::{poseidon, verify, verify_batch, Fr, PreparedSignature, PrivateKey, PublicKey, Signature};
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

/// The batch verdict and, as a caller would, the per-signature verdicts found by falling
/// back to single verification when the batch fails.
fn batch_then_locate(items: &[(PublicKey, Fr, Signature)], rng: &mut StdRng) -> Vec<bool> {
    let prepared: Vec<Option<PreparedSignature>> =
        items.iter().map(|(k, m, s)| PreparedSignature::new(k, *m, s)).collect();
    let ready: Vec<PreparedSignature> = prepared.iter().flatten().copied().collect();
    if ready.len() == items.len() && verify_batch(&ready, rng) {
        return vec![true; items.len()];
    }
    prepared.iter().map(|p| p.is_some_and(|p| p.verify())).collect()
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
fn honest_batch_verifies_and_empty_batch_verifies() {
    let mut rng = StdRng::seed_from_u64(1);
    let items = honest(16);
    let prepared: Vec<PreparedSignature> =
        items.iter().map(|(k, m, s)| PreparedSignature::new(k, *m, s).unwrap()).collect();
    assert!(verify_batch(&prepared, &mut rng));
    assert!(verify_batch(&[], &mut rng));
}

#[test]
fn one_wrong_message_fails_the_batch_and_is_located() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut items = honest(16);
    items[9].1 += Fr::from(1u64);
    let prepared: Vec<PreparedSignature> =
        items.iter().map(|(k, m, s)| PreparedSignature::new(k, *m, s).unwrap()).collect();
    assert!(!verify_batch(&prepared, &mut rng));
    let verdicts = batch_then_locate(&items, &mut rng);
    let expected: Vec<bool> = items.iter().map(|(k, m, s)| verify(k, *m, s)).collect();
    assert_eq!(verdicts, expected);
    assert_eq!(verdicts.iter().filter(|v| !**v).count(), 1);
    assert!(!verdicts[9]);
}

#[test]
fn r8_with_a_small_order_component_is_refused_by_both() {
    let mut rng = StdRng::seed_from_u64(3);
    let t8 = order_8_point();
    let order_2 = EdwardsAffine::new_unchecked(Fr::from(0u64), -Fr::from(1u64));
    for offset in [t8, order_2, (t8 + t8).into_affine()] {
        let mut items = honest(4);
        items[2].2 = shift_r8(&items[2].2, offset);
        assert!(!verify(&items[2].0, items[2].1, &items[2].2));
        assert!(PreparedSignature::new(&items[2].0, items[2].1, &items[2].2).is_none());
        let verdicts = batch_then_locate(&items, &mut rng);
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
fn public_key_with_a_small_order_component_is_treated_as_single_verification_does() {
    let mut rng = StdRng::seed_from_u64(4);
    let m = Fr::from(5u64);
    let (shifted, sig) = signature_for_shifted_key(Scalar::from(987_654_321u64), order_8_point(), m);
    assert!(verify(&shifted, m, &sig));
    let prepared = PreparedSignature::new(&shifted, m, &sig).unwrap();
    assert!(prepared.verify());
    let mut batch = honest(3);
    batch.push((shifted, m, sig));
    assert_eq!(batch_then_locate(&batch, &mut rng), vec![true; 4]);
    let all: Vec<PreparedSignature> =
        batch.iter().map(|(k, m, s)| PreparedSignature::new(k, *m, s).unwrap()).collect();
    assert!(verify_batch(&all, &mut rng));
    // The same signature under another message fails in the batch as it does alone.
    batch[3].1 += Fr::from(1u64);
    assert_eq!(batch_then_locate(&batch, &mut rng), vec![true, true, true, false]);
}

#[test]
fn s_half_off_by_one_is_found() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut items = honest(8);
    let mut packed = items[0].2.pack().0;
    let s = Scalar::from_le_bytes_mod_order(&packed[32..]) + Scalar::from(1u64);
    packed[32..].copy_from_slice(&s.into_bigint().to_bytes_le());
    items[0].2 = Signature::unpack(&PackedSignature(packed)).unwrap();
    let verdicts = batch_then_locate(&items, &mut rng);
    assert!(!verdicts[0]);
    assert!(verdicts[1..].iter().all(|v| *v));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// On random mixes of good signatures, wrong messages, wrong keys and torsion-shifted
    /// R8, the batch-then-locate verdicts equal single verification's, one by one.
    #[test]
    fn batch_then_locate_equals_single_verification(
        faults in prop::collection::vec(0u8..7, 1..10),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let t8 = order_8_point();
        let items: Vec<(PublicKey, Fr, Signature)> = faults
            .iter()
            .enumerate()
            .map(|(i, fault)| {
                let k = key(seed.wrapping_add(i as u64));
                let m = Fr::from(seed) + Fr::from(i as u64);
                let sig = k.sign(m);
                match fault {
                    0 => (k.public_key(), m + Fr::from(1u64), sig),
                    1 => (key(seed ^ 0xabcdef).public_key(), m, sig),
                    2 => (k.public_key(), m, shift_r8(&sig, t8)),
                    3 => {
                        let (shifted, sig) = signature_for_shifted_key(Scalar::from(seed | 1), t8, m);
                        (shifted, m, sig)
                    }
                    _ => (k.public_key(), m, sig),
                }
            })
            .collect();
        let expected: Vec<bool> = items.iter().map(|(k, m, s)| verify(k, *m, s)).collect();
        prop_assert_eq!(batch_then_locate(&items, &mut rng), expected);
    }
}
