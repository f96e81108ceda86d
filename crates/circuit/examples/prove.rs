//! Times INSECURE local setup, proving and verification of a real batch, and renders the
//! Solidity verifier: `cargo run --release -p tandem-circuit --example prove -- S D [out.sol]`.

use rand::{rngs::StdRng, SeedableRng};
use std::time::Instant;
use tandem_circuit::prover::{prove, setup_insecure, solidity_verifier, verify};
use tandem_circuit::BatchCircuit;
use tandem_crypto::PrivateKey;
use tandem_state::signing::sign_tx;
use tandem_state::witness::batch_witness;
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::*;

const CHAIN_ID: ChainId = 7;

fn key(i: u8) -> PrivateKey {
    PrivateKey::from_seed([i + 1; 32])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let slots: usize = args.get(1).map_or(2, |s| s.parse().expect("S"));
    let depth: u8 = args.get(2).map_or(4, |s| s.parse().expect("D"));
    let mut rng = StdRng::seed_from_u64(2024);

    println!("S={slots} D={depth}: {} constraints", BatchCircuit::num_constraints(slots, depth, CHAIN_ID));
    let t = Instant::now();
    let (pk, vk) = setup_insecure(slots, depth, CHAIN_ID, &mut rng).unwrap();
    println!("setup (INSECURE, local): {:.2?}", t.elapsed());

    // A ledger with a fee account and one funded sender; a batch of `slots` transfers, each
    // creating a new account.
    let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: depth, chunk_size: None }).unwrap();
    let fee = AccountIndex::new(0).unwrap();
    for k in 0..2u8 {
        let deposit = L1Deposit { to: key(k).public_key().pack(), token: TokenId::ETH, amount: 1_000_000 };
        ledger.apply(LedgerOp::Deposit(deposit), fee).unwrap();
    }
    let from = AccountIndex::new(1).unwrap();
    let ops: Vec<LedgerOp> = (0..slots as u32)
        .map(|n| {
            let tx = Tx::Transfer(TransferTx {
                from,
                to: key(10 + n as u8).public_key().pack(),
                token: TokenId::ETH,
                amount: PackedAmount::new(1_000).unwrap(),
                fee: PackedFee::new(3).unwrap(),
                nonce: n,
            });
            LedgerOp::Tx(sign_tx(&key(1), CHAIN_ID, tx).unwrap())
        })
        .collect();
    let t = Instant::now();
    let (w, _) = batch_witness(&ledger, &ops, fee, slots).unwrap();
    println!("witness: {:.2?}", t.elapsed());
    let circuit = BatchCircuit::new(&w, L1Address([0x42; 20]));
    let inputs = circuit.public_inputs();
    let t = Instant::now();
    let proof = prove(&pk, circuit, &mut rng).unwrap();
    println!("prove: {:.2?}", t.elapsed());
    let t = Instant::now();
    assert!(verify(&vk, &inputs, &proof));
    println!("verify: {:.2?}", t.elapsed());

    if let Some(path) = args.get(3) {
        let header = format!(
            "// Groth16 verifier of Tandem's BatchCircuit (S = {slots}, D = {depth}, chain id {CHAIN_ID}),\n\
             // rendered by taceo-groth16-sol from the verifying key of an INSECURE local setup\n\
             // (StdRng seed 2024): for devnets and tests only. Public inputs: prev_root, new_root,\n\
             // data_hash, prover address. Regenerate: cargo run --release -p tandem-circuit --example prove -- {slots} {depth} <path>\n"
        );
        let sol = header + &solidity_verifier(&vk);
        std::fs::write(path, &sol).unwrap();
        println!("solidity verifier: {path} ({} bytes)", sol.len());
    }
}
