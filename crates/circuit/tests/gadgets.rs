//! Differential tests of the gadgets against the Rust reference (tandem-crypto,
//! tandem-state), with constraint counts printed (`cargo test -p tandem-circuit -- --nocapture`).

use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
use rand::{rngs::StdRng, Rng, SeedableRng};
use tandem_circuit::gadgets::{eddsa, merkle, num, poseidon, Bool, FVar, F};
use tandem_crypto::{PrivateKey, Signature};
use tandem_state::SparseMerkleTree;

fn new_cs() -> ConstraintSystemRef<F> {
    ConstraintSystem::<F>::new_ref()
}

fn witness(cs: &ConstraintSystemRef<F>, v: F) -> FVar {
    FVar::new_witness(cs.clone(), || Ok(v)).unwrap()
}

fn bits(cs: &ConstraintSystemRef<F>, index: u32, n: usize) -> Vec<Bool> {
    (0..n).map(|i| Bool::new_witness(cs.clone(), || Ok((index >> i) & 1 == 1)).unwrap()).collect()
}

#[test]
fn poseidon_matches_circomlib_reference_for_arities_2_4_5_9() {
    let mut rng = StdRng::seed_from_u64(1);
    for arity in [2usize, 4, 5, 9] {
        for _ in 0..3 {
            let cs = new_cs();
            let inputs: Vec<F> = (0..arity).map(|_| F::rand(&mut rng)).collect();
            let vars: Vec<FVar> = inputs.iter().map(|v| witness(&cs, *v)).collect();
            let out = poseidon::poseidon(&vars).unwrap();
            assert_eq!(out.value().unwrap(), tandem_crypto::poseidon(&inputs), "arity {arity}");
            assert!(cs.is_satisfied().unwrap());
            println!("constraints: poseidon({arity}) = {}", cs.num_constraints());
            if arity == 2 {
                assert_eq!(cs.num_constraints(), 240);
            }
        }
    }
    // A wrong claimed output is refused.
    let cs = new_cs();
    let a = witness(&cs, F::from(1u64));
    let b = witness(&cs, F::from(2u64));
    let out = poseidon::hash2(&a, &b).unwrap();
    let claimed = witness(&cs, F::from(3u64));
    out.enforce_equal(&claimed).unwrap();
    assert!(!cs.is_satisfied().unwrap());
}

#[test]
fn account_tree_paths_match_sparse_merkle_tree_proofs() {
    let mut rng = StdRng::seed_from_u64(2);
    for depth in [4u8, 8] {
        let mut tree = SparseMerkleTree::new(depth);
        let leaves: Vec<(u32, F)> = (0..6).map(|_| (rng.gen_range(0..(1u32 << depth)), F::rand(&mut rng))).collect();
        tree.update(&leaves);
        for &(index, _) in &leaves {
            let proof = tree.proof(index);
            let new_leaf = F::rand(&mut rng);
            let mut updated = tree.clone();
            updated.update(&[(index, new_leaf)]);

            let cs = new_cs();
            let root = witness(&cs, tree.root());
            let leaf = witness(&cs, tree.leaf(index));
            let new = witness(&cs, new_leaf);
            let index_bits = bits(&cs, index, depth as usize);
            let siblings: Vec<FVar> = proof.siblings.iter().map(|s| witness(&cs, *s)).collect();
            merkle::verify_path(&root, &leaf, &index_bits, &siblings).unwrap();
            let new_root = merkle::update_path(&Bool::TRUE, &root, &leaf, &new, &index_bits, &siblings).unwrap();
            assert_eq!(new_root.value().unwrap(), updated.root());
            assert!(cs.is_satisfied().unwrap());
            println!("constraints: account path verify+update, depth {depth} = {}", cs.num_constraints());

            // A tampered sibling or a wrong index no longer reaches the root.
            let cs = new_cs();
            let root = witness(&cs, tree.root());
            let leaf = witness(&cs, tree.leaf(index));
            let mut bad = proof.siblings.clone();
            bad[depth as usize / 2] += F::from(1u64);
            let siblings: Vec<FVar> = bad.iter().map(|s| witness(&cs, *s)).collect();
            merkle::verify_path(&root, &leaf, &bits(&cs, index, depth as usize), &siblings).unwrap();
            assert!(!cs.is_satisfied().unwrap());

            let cs = new_cs();
            let root = witness(&cs, tree.root());
            let leaf = witness(&cs, tree.leaf(index));
            let siblings: Vec<FVar> = proof.siblings.iter().map(|s| witness(&cs, *s)).collect();
            merkle::verify_path(&root, &leaf, &bits(&cs, index ^ 1, depth as usize), &siblings).unwrap();
            assert!(!cs.is_satisfied().unwrap() || tree.leaf(index) == tree.leaf(index ^ 1));
        }
    }
}

#[test]
fn balance_tree_paths_match_account_balance_roots() {
    use tandem_state::Account;
    use tandem_types::TokenId;
    let mut account = Account::new(PrivateKey::from_seed([3; 32]).public_key());
    let mut tree = SparseMerkleTree::new(5);
    for (t, b) in [(0u32, 5u128), (7, 1 << 90), (31, u128::MAX)] {
        account.set_balance(TokenId::new(t).unwrap(), b);
        tree.update(&[(t, F::from(b))]);
    }
    assert_eq!(account.balance_root(), tree.root());
    for token in [0u32, 7, 12, 31] {
        let cs = new_cs();
        let root = witness(&cs, account.balance_root());
        let leaf = witness(&cs, F::from(account.balance(TokenId::new(token).unwrap())));
        let siblings: Vec<FVar> = tree.proof(token).siblings.iter().map(|s| witness(&cs, *s)).collect();
        let new = witness(&cs, F::from(42u64));
        let new_root = merkle::update_path(&Bool::TRUE, &root, &leaf, &new, &bits(&cs, token, 5), &siblings).unwrap();
        let mut after = account.clone();
        after.set_balance(TokenId::new(token).unwrap(), 42);
        assert_eq!(new_root.value().unwrap(), after.balance_root());
        assert!(cs.is_satisfied().unwrap());
        println!("constraints: balance path verify+update (depth 5) = {}", cs.num_constraints());
    }
}

struct SigCase {
    key: tandem_crypto::PublicKey,
    message: F,
    r8: taceo_ark_babyjubjub::EdwardsAffine,
    s_bits: Vec<bool>,
}

fn eddsa_satisfied(case: &SigCase) -> (bool, usize) {
    let cs = new_cs();
    let key = eddsa::alloc_point(cs.clone(), Some(*case.key.point())).unwrap();
    let r8 = eddsa::alloc_point(cs.clone(), Some(case.r8)).unwrap();
    let s = eddsa::alloc_scalar_bits(cs.clone(), Some(case.s_bits.clone())).unwrap();
    let m = witness(&cs, case.message);
    eddsa::verify(&Bool::TRUE, &key, &r8, &s, &m).unwrap();
    (cs.is_satisfied().unwrap(), cs.num_constraints())
}

fn case(seed: u8, message: F) -> SigCase {
    let key = PrivateKey::from_seed([seed; 32]);
    let sig: Signature = key.sign(message);
    assert!(tandem_crypto::verify(&key.public_key(), message, &sig));
    SigCase { key: key.public_key(), message, r8: *sig.r8(), s_bits: sig.s().into_bigint().to_bits_le() }
}

#[test]
fn eddsa_accepts_valid_signatures_and_refuses_tampering() {
    let mut rng = StdRng::seed_from_u64(4);
    for seed in [1u8, 2] {
        let message = F::rand(&mut rng);
        let good = case(seed, message);
        let (ok, n) = eddsa_satisfied(&good);
        assert!(ok, "a valid signature satisfies the gadget");
        println!("constraints: eddsa verify (with point and S allocation) = {n}");

        let other_message = SigCase { message: message + F::from(1u64), ..case(seed, message) };
        assert!(!eddsa_satisfied(&other_message).0, "tampered message");

        let mut bad_s = case(seed, message);
        bad_s.s_bits[3] = !bad_s.s_bits[3];
        assert!(!eddsa_satisfied(&bad_s).0, "tampered S");

        let bad_r8 = SigCase { r8: eddsa::fixed_base(taceo_ark_babyjubjub::Fr::from(5u64)), ..case(seed, message) };
        assert!(!eddsa_satisfied(&bad_r8).0, "tampered R8");

        let other_key = SigCase { key: PrivateKey::from_seed([seed + 10; 32]).public_key(), ..case(seed, message) };
        assert!(!eddsa_satisfied(&other_key).0, "other key");

        // S + l is the same residue but not canonical: refused as the Rust unpacking does.
        let mut s_plus_l = case(seed, message);
        let s = num_bigint::BigUint::from_bytes_le(&bits_to_bytes(&s_plus_l.s_bits));
        let l = num_bigint::BigUint::from_bytes_le(&taceo_ark_babyjubjub::Fr::MODULUS.to_bytes_le());
        let big = s + l;
        if big.bits() <= eddsa::SCALAR_BITS as u64 {
            s_plus_l.s_bits = (0..eddsa::SCALAR_BITS).map(|i| big.bit(i as u64)).collect();
            assert!(!eddsa_satisfied(&s_plus_l).0, "non-canonical S");
        }
    }
    // Disabled: anything passes when both points are the identity.
    let cs = new_cs();
    let id = eddsa::alloc_point(cs.clone(), Some(eddsa::identity())).unwrap();
    let s = eddsa::alloc_scalar(cs.clone(), Some(Default::default())).unwrap();
    let m = witness(&cs, F::from(9u64));
    eddsa::verify(&Bool::FALSE, &id, &id, &s, &m).unwrap();
    assert!(cs.is_satisfied().unwrap());
}

fn bits_to_bytes(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |a, (i, b)| a | ((*b as u8) << i))).collect()
}

#[test]
fn range_checks_and_checked_arithmetic_on_balances() {
    let check = |value: F| {
        let cs = new_cs();
        let v = witness(&cs, value);
        num::range_check(&v, 128).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    };
    let max = F::from(u128::MAX);
    let (ok, n) = check(max);
    assert!(ok);
    println!("constraints: range check 128 bits = {n}");
    assert!(check(F::from(0u64)).0);
    assert!(!check(max + F::from(1u64)).0, "2^128");
    assert!(!check(-F::from(1u64)).0, "p - 1");

    let op = |a: u128, b: u128, add: bool| {
        let cs = new_cs();
        let (x, y) = (witness(&cs, F::from(a)), witness(&cs, F::from(b)));
        let r = if add { num::checked_add(&x, &y, 128) } else { num::checked_sub(&x, &y, 128) }.unwrap();
        (cs.is_satisfied().unwrap(), r.value().unwrap())
    };
    assert_eq!(op(5, 3, false), (true, F::from(2u64)));
    assert_eq!(op(3, 3, false), (true, F::from(0u64)));
    assert!(!op(3, 5, false).0, "underflow");
    assert_eq!(op(u128::MAX - 1, 1, true), (true, max));
    assert!(!op(u128::MAX, 1, true).0, "overflow");

    let nonzero = |value: u64, enabled: bool| {
        let cs = new_cs();
        let v = witness(&cs, F::from(value));
        let e = Bool::new_witness(cs.clone(), || Ok(enabled)).unwrap();
        num::enforce_nonzero_if(&v, &e).unwrap();
        cs.is_satisfied().unwrap()
    };
    assert!(nonzero(7, true) && nonzero(0, false) && nonzero(7, false));
    assert!(!nonzero(0, true));
}

/// Keys with a small-order component (anyone can register one with a deposit): checking
/// `S·B8 = R8 + ((8·c) mod l)·A` would accept this signature while circomlib, SPEC.md §2 and
/// this gadget (`S·B8 = R8 + c·(8·A)`) refuse it, and a batch containing it could never be
/// proven. Pins that the Rust verifier and the circuit agree: both refuse it.
#[test]
fn rust_and_circuit_agree_on_keys_with_a_small_order_component() {
    use ark_ec::{CurveGroup, PrimeGroup};
    use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
    use tandem_crypto::babyjubjub::pack_point;
    let torsion = EdwardsAffine::new_unchecked(F::from(0u64), -F::from(1u64)); // order 2
    let a0 = Scalar::from(123_456_789u64);
    let key_point = (EdwardsProjective::generator() * a0 + torsion).into_affine();
    let key = tandem_crypto::PublicKey::unpack(&tandem_types::PackedPubKey(pack_point(&key_point))).unwrap();
    let r = Scalar::from(987_654_321u64);
    let r8 = (EdwardsProjective::generator() * r + torsion).into_affine();
    for m in 0u64.. {
        let message = F::from(m);
        let c = tandem_crypto::poseidon(&[r8.x, r8.y, key.x(), key.y(), message]);
        let k = Scalar::from_le_bytes_mod_order(&c.into_bigint().to_bytes_le()) * Scalar::from(8u64);
        if k.into_bigint().is_even() {
            continue;
        }
        let s = r + k * a0;
        let mut packed = [0u8; 64];
        packed[..32].copy_from_slice(&pack_point(&r8));
        packed[32..].copy_from_slice(&s.into_bigint().to_bytes_le());
        let sig = Signature::unpack(&tandem_types::PackedSignature(packed)).unwrap();
        assert!(!tandem_crypto::verify(&key, message, &sig), "Rust refuses, as circomlib does");
        let case = SigCase { key, message, r8, s_bits: s.into_bigint().to_bits_le() };
        assert!(!eddsa_satisfied(&case).0, "the circuit (circomlib's equation) refuses");
        return;
    }
}
