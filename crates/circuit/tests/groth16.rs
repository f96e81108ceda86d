//! Real Groth16 on BN254 for a small batch circuit (S = 2, D = 4): insecure local setup,
//! proof of a real batch, verification; tampered public inputs fail; the Solidity verifier
//! renders with four public inputs.

mod common;

use common::*;
use rand::{rngs::StdRng, SeedableRng};
use std::time::Instant;
use tandem_circuit::prover::{prove, setup_insecure, solidity_proof, solidity_verifier, verify};
use tandem_circuit::{BatchCircuit, Fr};
use tandem_state::witness::batch_witness;

#[test]
fn groth16_proves_a_real_batch_and_refuses_tampered_inputs() {
    let mut rng = StdRng::seed_from_u64(2024);
    let (slots, depth) = (2, 4);
    let t = Instant::now();
    let (pk, vk) = setup_insecure(slots, depth, CHAIN_ID, &mut rng).unwrap();
    println!("groth16 S={slots} D={depth}: setup {:?}", t.elapsed());

    let ledger = genesis(depth);
    let ops = vec![transfer(1, idx(1), 2, 0, 1_000, 5, 0), withdraw(2, idx(2), 1, 10, 1, 0)];
    let (w, outcome) = batch_witness(&ledger, &ops, idx(0), slots).unwrap();
    let circuit = BatchCircuit::new(&w, PROVER);
    let inputs = circuit.public_inputs();
    assert_eq!(inputs[..2], [ledger.root(), outcome.root]);
    let t = Instant::now();
    let proof = prove(&pk, circuit, &mut rng).unwrap();
    println!("groth16 S={slots} D={depth}: prove {:?}", t.elapsed());
    let t = Instant::now();
    assert!(verify(&vk, &inputs, &proof));
    println!("groth16 S={slots} D={depth}: verify {:?}", t.elapsed());

    for i in 0..inputs.len() {
        let mut tampered = inputs.clone();
        tampered[i] += Fr::from(1u64);
        assert!(!verify(&vk, &tampered, &proof), "tampered public input {i} must fail");
    }
    // Another prover's address (a proof copied from the mempool) fails.
    let mut stolen = inputs.clone();
    stolen[3] = Fr::from(0xdeadu64);
    assert!(!verify(&vk, &stolen, &proof));

    let sol = solidity_verifier(&vk);
    assert!(sol.contains("function verifyProof(") && sol.contains("uint256[4] calldata input"));
    assert_eq!(solidity_proof(&proof).len(), 8);
}
