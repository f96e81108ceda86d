//! Groth16 over BN254 for [`BatchCircuit`]: key generation, proving, verification, and the
//! Solidity verifier rendered from the verifying key (taceo-groth16-sol, gnark's template).
//!
//! [`setup_insecure`] generates the keys locally from an RNG: whoever ran it knows the
//! toxic waste and can forge proofs. It is for devnets and tests only; production keys
//! come from a multi-party phase-2 ceremony.

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use rand::{rngs::StdRng, CryptoRng, RngCore, SeedableRng};
use tandem_types::ChainId;

use crate::batch::BatchCircuit;
use crate::gadgets::F;

pub use ark_groth16::{Proof, ProvingKey, VerifyingKey};

/// Why proving failed.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// Synthesis or the proving algorithm failed (e.g. a witness that does not satisfy).
    #[error("groth16: {0}")]
    Groth16(#[from] ark_relations::gr1cs::SynthesisError),
}

/// INSECURE local key generation for `slots` op slots over a tree of `depth` (devnets and
/// tests only: the caller's RNG is the toxic waste).
pub fn setup_insecure<R: RngCore + CryptoRng>(
    slots: usize,
    depth: u8,
    chain_id: ChainId,
    rng: &mut R,
) -> Result<(ProvingKey<Bn254>, VerifyingKey<Bn254>), ProverError> {
    setup_with(slots, depth, chain_id, &mut StdRng::from_rng(rng).expect("rng"))
}

// The heavy generic code is instantiated here, in this crate (built with opt-level 3 in the
// dev profile too), not in callers: the public functions only seed a StdRng.
fn setup_with(
    slots: usize,
    depth: u8,
    chain_id: ChainId,
    rng: &mut StdRng,
) -> Result<(ProvingKey<Bn254>, VerifyingKey<Bn254>), ProverError> {
    Ok(Groth16::<Bn254>::circuit_specific_setup(BatchCircuit::blank(slots, depth, chain_id), rng)?)
}

/// Proves `circuit` (whose witness must satisfy it).
pub fn prove<R: RngCore + CryptoRng>(
    pk: &ProvingKey<Bn254>,
    circuit: BatchCircuit,
    rng: &mut R,
) -> Result<Proof<Bn254>, ProverError> {
    prove_with(pk, circuit, &mut StdRng::from_rng(rng).expect("rng"))
}

fn prove_with(pk: &ProvingKey<Bn254>, circuit: BatchCircuit, rng: &mut StdRng) -> Result<Proof<Bn254>, ProverError> {
    Ok(Groth16::<Bn254>::prove(pk, circuit, rng)?)
}

/// Verifies `proof` against the public inputs `[prev_root, new_root, prover]`.
pub fn verify(vk: &VerifyingKey<Bn254>, public_inputs: &[F], proof: &Proof<Bn254>) -> bool {
    Groth16::<Bn254>::verify(vk, public_inputs, proof).unwrap_or(false)
}

/// The Solidity verifier contract for `vk`: `verifyProof(uint256[8] proof, uint256[N] input)`
/// with `N` = number of public inputs; proofs are passed as [`solidity_proof`] prepares them.
pub fn solidity_verifier(vk: &VerifyingKey<Bn254>) -> String {
    use taceo_groth16_sol::askama::Template;
    let context = taceo_groth16_sol::SolidityVerifierContext {
        vk: vk.clone(),
        config: taceo_groth16_sol::SolidityVerifierConfig { pragma_version: "^0.8.24".to_string() },
    };
    let mut out = context.render().expect("the template renders any verifying key");
    out.push('\n');
    out
}

/// The proof as the Solidity verifier's `uint256[8]`, as big-endian 32-byte words (A, B with
/// Ethereum's G2 limb order, C).
pub fn solidity_proof(proof: &Proof<Bn254>) -> [[u8; 32]; 8] {
    taceo_groth16_sol::prepare_uncompressed_proof(proof).map(|w| w.to_be_bytes::<32>())
}
