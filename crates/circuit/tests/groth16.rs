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
    assert!(sol.contains(") public view returns (bool) {") && sol.trim_end().ends_with("return true;\n    }\n}"));
    assert_eq!(solidity_proof(&proof).len(), 8);
}

#[test]
fn prover_api_saves_loads_and_proves_with_the_backend() {
    use ark_serialize::CanonicalSerialize;
    use tandem_circuit::prover::{prove_batch, ProverError, ProvingKeys};
    let (slots, depth) = (2, 4);
    let keys = ProvingKeys::setup_insecure(slots, depth, CHAIN_ID, 7).unwrap();
    let dir = std::env::temp_dir().join(format!("tandem-circuit-keys-{}", std::process::id()));
    let saved = keys.save(&dir).unwrap();
    assert!(saved.proving_key.1 > saved.verifying_key.1);
    let loaded = ProvingKeys::load(&dir).unwrap();
    assert_eq!((loaded.slots, loaded.depth, loaded.chain_id), (slots, depth, CHAIN_ID));
    assert_eq!(loaded.vk(), keys.vk());
    assert!(loaded.pk == keys.pk, "the proving key reads back whole");
    let (s, d, c, vk) = ProvingKeys::load_verifying_key(&dir).unwrap();
    assert_eq!((s, d, c, &vk), (slots, depth, CHAIN_ID, keys.vk()));

    // A proving key of the first format (TNDMPK01: points compressed) still reads.
    let pk_path = dir.join(tandem_circuit::prover::PROVING_KEY_FILE);
    let current = std::fs::read(&pk_path).unwrap();
    assert_eq!(&current[..8], b"TNDMPK02");
    let mut first_format = b"TNDMPK01".to_vec();
    first_format.extend_from_slice(&current[8..21]);
    keys.pk.serialize_compressed(&mut first_format).unwrap();
    assert!(first_format.len() < current.len(), "compressed is the smaller file");
    std::fs::write(&pk_path, &first_format).unwrap();
    assert!(ProvingKeys::load(&dir).unwrap().pk == keys.pk, "a compressed key reads back whole");

    // A file of another kind, or cut short, is refused with the path and the reason.
    let mut foreign = current.clone();
    foreign[..8].copy_from_slice(b"TNDMVK01");
    std::fs::write(&pk_path, &foreign).unwrap();
    let e = ProvingKeys::load(&dir).err().expect("a verifying key's magic is refused").to_string();
    assert!(e.contains("proving_key.bin") && e.contains("not a tandem key file of this kind"), "{e}");
    std::fs::write(&pk_path, &current[..current.len() / 2]).unwrap();
    let e = ProvingKeys::load(&dir).err().expect("a truncated key is refused").to_string();
    assert!(e.contains("proving_key.bin"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();

    let ledger = genesis(depth);
    let ops = vec![deposit(3, 2, 9_999), transfer(2, idx(2), 4, 1, 5_000, 1, 0)];
    let (w, outcome) = batch_witness(&ledger, &ops, idx(0), slots).unwrap();
    let t = Instant::now();
    let proof = prove_batch(&loaded, &w, PROVER).unwrap();
    println!("prove_batch S={slots} D={depth}: {:?}", t.elapsed());
    let expected = BatchCircuit::new(&w, PROVER).public_inputs();
    assert_eq!(proof.public_inputs.to_vec(), expected);
    assert_eq!(proof.public_inputs[..2], [ledger.root(), outcome.root]);
    assert!(verify(keys.vk(), &expected, &proof.proof));
    assert_eq!(proof.words, solidity_proof(&proof.proof));
    assert!(proof.words_decimal().iter().all(|w| w.chars().all(|c| c.is_ascii_digit())));
    let mut other = expected.clone();
    other[3] = Fr::from(1u64);
    assert!(!verify(keys.vk(), &other, &proof.proof));

    // A witness of another shape is refused before proving.
    let (w3, _) = batch_witness(&ledger, &ops, idx(0), 3).unwrap();
    assert!(matches!(prove_batch(&loaded, &w3, PROVER), Err(ProverError::Shape(_))));
}
