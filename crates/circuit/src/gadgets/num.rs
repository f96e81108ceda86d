//! Range checks and checked arithmetic on balances (unsigned 128-bit integers held in field
//! elements).
//!
//! A range check allocates the value's bits and enforces their weighted sum equals it: `n`
//! boolean constraints and one equality. Checked addition and subtraction compute in the
//! field and range-check the result: for operands below `2^128`, `a + b` fits 128 bits iff
//! it does not overflow, and `a - b` fits iff `a ≥ b` (otherwise it wraps to `p - (b - a)`,
//! far above `2^128`).

use ark_ff::{BigInteger, Field, PrimeField};
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;

use super::{Bool, FVar};

/// Bits of a balance.
pub const BALANCE_BITS: usize = 128;

/// Enforces `0 ≤ x < 2^bits` and returns the bits, little-endian.
pub fn range_check(x: &FVar, bits: usize) -> Result<Vec<Bool>, SynthesisError> {
    assert!(bits < 253, "range checks are for values well below the modulus");
    let cs = x.cs();
    let value = x.value().ok().map(|v| v.into_bigint().to_bits_le());
    let out: Vec<Bool> = (0..bits)
        .map(|i| {
            if cs.is_none() {
                Ok(Bool::constant(value.as_ref().expect("constant has a value")[i]))
            } else {
                Bool::new_witness(cs.clone(), || value.as_ref().map(|v| v[i]).ok_or(SynthesisError::AssignmentMissing))
            }
        })
        .collect::<Result<_, _>>()?;
    Bool::le_bits_to_fp(&out)?.enforce_equal(x)?;
    Ok(out)
}

/// `a + b`, enforcing that it fits `bits` bits (operands must already be range-checked).
pub fn checked_add(a: &FVar, b: &FVar, bits: usize) -> Result<FVar, SynthesisError> {
    let sum = a + b;
    range_check(&sum, bits)?;
    Ok(sum)
}

/// `a - b`, enforcing `a ≥ b` (operands must already be range-checked below `2^bits`).
pub fn checked_sub(a: &FVar, b: &FVar, bits: usize) -> Result<FVar, SynthesisError> {
    let diff = a - b;
    range_check(&diff, bits)?;
    Ok(diff)
}

/// Enforces `x ≠ 0` when `enabled` (one inverse witness, one constraint).
pub fn enforce_nonzero_if(x: &FVar, enabled: &Bool) -> Result<(), SynthesisError> {
    let cs = x.cs().or(enabled.cs());
    let inverse = FVar::new_witness(cs, || {
        let on = enabled.value()?;
        let v = x.value()?;
        Ok(if on { v.inverse().unwrap_or_default() } else { Default::default() })
    })?;
    (x * &inverse).enforce_equal(&FVar::from(enabled.clone()))
}
