//! Tandem's cryptography: Poseidon over BN254 and EdDSA-Poseidon over Baby Jubjub, both
//! with circomlib's parameters so that circom circuits, circomlibjs and Solidity agree.
//!
//! Compatibility is pinned by reference vectors produced with circomlibjs
//! (`tools/vectors/generate.js`, output in `tests/vectors/`).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod babyjubjub;
pub mod eddsa;
pub mod field;
pub mod poseidon;

pub use ark_bn254::Fr;
pub use babyjubjub::PointError;
pub use eddsa::{verify, verify_many, PrivateKey, PublicKey, Signature, SignatureError};
pub use field::FieldError;
pub use poseidon::{hash2, poseidon, poseidon_many};
