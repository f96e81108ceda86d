//! EdDSA-Poseidon verification over circomlib's Baby Jubjub (SPEC.md §2), as a gadget:
//! `S < l`, `R8` on the curve, and `S·B8 = R8 + c·(8·A)` with `c = H(R8.x, R8.y, A.x, A.y, M)`
//! decomposed strictly into 254 bits (circomlib's `EdDSAPoseidonVerifier`).
//!
//! Cost: the fixed-base product `S·B8` uses 2-bit lookups into precomputed multiples of
//! `B8`; the variable-base product is double-and-add over the 254 bits of `c`.

use ark_ec::{twisted_edwards::TECurveConfig, CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, Field, PrimeField};
use ark_r1cs_std::groups::CurveVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use std::sync::OnceLock;
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsConfig, EdwardsProjective, Fr as Scalar};

use super::poseidon::poseidon;
use super::{Bool, FVar, PointVar, F};

/// Bits of a signature's `S` (the subgroup order `l` has 251 bits).
pub const SCALAR_BITS: usize = 251;

/// `2^i·B8` for `i < SCALAR_BITS`.
fn base_multiples() -> &'static [EdwardsProjective] {
    static BASES: OnceLock<Vec<EdwardsProjective>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut p = EdwardsProjective::generator();
        (0..SCALAR_BITS)
            .map(|_| {
                let out = p;
                p = p + p;
                out
            })
            .collect()
    })
}

/// Allocates a point as a witness, enforcing the curve equation only (no subgroup check: the
/// Rust reference accepts any curve point as a key or `R8`).
pub fn alloc_point(cs: ConstraintSystemRef<F>, point: Option<EdwardsAffine>) -> Result<PointVar, SynthesisError> {
    PointVar::new_variable_omit_prime_order_check(
        cs,
        || point.map(EdwardsProjective::from).ok_or(SynthesisError::AssignmentMissing),
        AllocationMode::Witness,
    )
}

/// A point from coordinates already in the circuit, without any check.
pub fn point_from_coords(x: FVar, y: FVar) -> PointVar {
    PointVar::new(x, y)
}

/// Enforces `a·x² + y² = 1 + d·x²·y²` when `enabled` (4 constraints).
pub fn enforce_on_curve_if(x: &FVar, y: &FVar, enabled: &Bool) -> Result<(), SynthesisError> {
    let x2 = x.square()?;
    let y2 = y.square()?;
    let x2y2 = &x2 * &y2;
    let lhs = &x2 * EdwardsConfig::COEFF_A + &y2;
    let rhs = x2y2 * EdwardsConfig::COEFF_D + F::ONE;
    lhs.conditional_enforce_equal(&rhs, enabled)
}

/// Allocates `S`'s 251 bits (little-endian) and enforces `S < l`.
pub fn alloc_scalar(cs: ConstraintSystemRef<F>, s: Option<Scalar>) -> Result<Vec<Bool>, SynthesisError> {
    alloc_scalar_bits(cs, s.map(|s| s.into_bigint().to_bits_le()))
}

/// [`alloc_scalar`] from raw little-endian bits (at least [`SCALAR_BITS`]; the rest ignored),
/// so that tests can present a non-canonical `S ≥ l`.
pub fn alloc_scalar_bits(cs: ConstraintSystemRef<F>, bits: Option<Vec<bool>>) -> Result<Vec<Bool>, SynthesisError> {
    let out: Vec<Bool> = (0..SCALAR_BITS)
        .map(|i| Bool::new_witness(cs.clone(), || bits.as_ref().map(|b| b[i]).ok_or(SynthesisError::AssignmentMissing)))
        .collect::<Result<_, _>>()?;
    let mut l_minus_one = Scalar::MODULUS;
    l_minus_one.sub_with_borrow(&1u64.into());
    Bool::enforce_smaller_or_equal_than_le(&out, l_minus_one)?;
    Ok(out)
}

/// Enforces, when `enabled`, that (`r8`, `s_bits`) is a valid EdDSA-Poseidon signature of
/// `message` by `key`. `r8` and `key` must be curve points (see [`alloc_point`]) and
/// `s_bits` come from [`alloc_scalar`]. When not `enabled`, pass the identity `(0, 1)` for
/// both points so that the (unenforced) arithmetic stays well defined.
pub fn verify(enabled: &Bool, key: &PointVar, r8: &PointVar, s_bits: &[Bool], message: &FVar) -> Result<(), SynthesisError> {
    let (left, right) = verification_sides(key, r8, s_bits, message)?;
    left.x.conditional_enforce_equal(&right.x, enabled)?;
    left.y.conditional_enforce_equal(&right.y, enabled)
}

/// Whether (`r8`, `s_bits`) is a valid signature of `message` by `key`, as a boolean the
/// circuit can branch on (a forced withdrawal with a bad signature is a no-op, not an
/// unprovable batch). Same preconditions as [`verify`].
pub fn is_valid(key: &PointVar, r8: &PointVar, s_bits: &[Bool], message: &FVar) -> Result<Bool, SynthesisError> {
    let (left, right) = verification_sides(key, r8, s_bits, message)?;
    Ok(left.x.is_eq(&right.x)? & left.y.is_eq(&right.y)?)
}

/// `(S·B8, R8 + c·(8·A))` with `c = H(R8.x, R8.y, A.x, A.y, M)` decomposed strictly.
fn verification_sides(key: &PointVar, r8: &PointVar, s_bits: &[Bool], message: &FVar) -> Result<(PointVar, PointVar), SynthesisError> {
    assert_eq!(s_bits.len(), SCALAR_BITS);
    let c = poseidon(&[r8.x.clone(), r8.y.clone(), key.x.clone(), key.y.clone(), message.clone()])?;
    let c_bits = c.to_bits_le()?;
    let mut key8 = key.clone();
    for _ in 0..3 {
        key8.double_in_place()?;
    }
    let right = key8.scalar_mul_le(c_bits.iter())? + r8;
    let mut left = PointVar::zero();
    left.precomputed_base_scalar_mul_le(s_bits.iter().zip(base_multiples()))?;
    Ok((left, right))
}

/// The identity point `(0, 1)`.
pub fn identity() -> EdwardsAffine {
    EdwardsAffine::zero()
}

/// Native helper: `S·B8` (for tests).
pub fn fixed_base(s: Scalar) -> EdwardsAffine {
    (EdwardsProjective::generator() * s).into_affine()
}
