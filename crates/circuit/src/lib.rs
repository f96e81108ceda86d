//! Tandem's validity circuit: the state transition function of SPEC.md §5 as an R1CS over
//! BN254, proven with Groth16 (arkworks 0.6).
//!
//! - [`gadgets`]: circom-compatible Poseidon, Merkle path verification and update, EdDSA-
//!   Poseidon over circomlib's Baby Jubjub, 128-bit range checks and checked arithmetic.
//! - [`batch`]: [`BatchCircuit`], `S` op slots padded with Noop, then fee settlement, chaining
//!   the state root from `prev_root` to `new_root`; its witness comes from
//!   `tandem_state::witness`.
//! - [`exit`]: [`exit::ExitCircuit`], the exodus exit proof (an account's balance under the
//!   last final root, and its key's consent to the L1 recipient).
//! - [`public_data`]: the data commitment (SPEC.md §10), natively and in the circuit
//!   (SHA-256 over the fee account and fixed-size op records).
//! - [`prover`]: Groth16 setup (local, insecure: devnets and tests only), proving,
//!   verification, and the Solidity verifier rendered from the verifying key.
//!
//! The Rust STF in `tandem-state` is the reference; this circuit is a second
//! implementation of the same function, kept equal by differential tests.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod exit;
pub mod gadgets;
pub mod prover;
pub mod public_data;

pub use ark_bn254::Fr;
pub use batch::{BatchCircuit, SlotPublicData};
