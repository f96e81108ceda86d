//! R1CS gadgets over the BN254 scalar field, each checked against the Rust reference.

pub mod eddsa;
pub mod merkle;
pub mod num;
pub mod poseidon;

/// Field of every constraint here: BN254's scalar field (Baby Jubjub's base field).
pub type F = ark_bn254::Fr;
/// A field variable.
pub type FVar = ark_r1cs_std::fields::fp::FpVar<F>;
/// A boolean variable.
pub type Bool = ark_r1cs_std::boolean::Boolean<F>;
/// A Baby Jubjub point variable (circomlib's curve form).
pub type PointVar = taceo_ark_babyjubjub::constraints::EdwardsVar;
