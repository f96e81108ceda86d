//! Renders the devnet Solidity verifiers and the forge proof fixtures (INSECURE seeded setups):
//! `cargo run --release -p tandem-circuit --example fixtures [-- --skip-devnet]`
//!
//! - `contracts/src/verifiers/BatchVerifier_S2_D4.sol` and the fixtures
//!   `crates/circuit/fixtures/proof_S2_D4.json` (prover 0x1000…0001) and
//!   `proof_S2_D4_prover2.json` (prover 0x2000…0002) for the same batch;
//! - `contracts/src/verifiers/BatchVerifier_S4_D24.sol` (the devnet shape; about a minute of
//!   setup on two cores, skipped with `--skip-devnet`).
//!
//! Both use chain id 31337001 (the devnet's default) and seed 2024, so that
//! `tandem setup --slots S --depth D --chain-id 31337001 --seed 2024` renders the same files.
//!
//! The fixture batch, batch number 1 on top of the devnet genesis (depth 4): account 0 is the
//! fee account, owned by `PrivateKey::from_seed([1; 32])`, with no balance. Then
//! 1. `Deposit` of 1 ETH (10^18 wei, token 0) creating account 1 for
//!    `PrivateKey::from_seed([2; 32])` (the first priority-queue entry);
//! 2. `TransferToNew` from account 1 (nonce 0) of 0.25 ETH with a fee of 0.001 ETH, creating
//!    account 2 for `PrivateKey::from_seed([3; 32])`.
//!
//! The fee is credited to account 0 at settlement.

use ark_ff::{BigInteger, PrimeField};
use serde_json::json;
use sha2::Digest;
use std::path::Path;
use std::time::Instant;
use tandem_circuit::prover::{prove_batch_with, solidity_verifier_file, CpuBackend, ProvingKeys};
use tandem_circuit::Fr;
use tandem_crypto::PrivateKey;
use tandem_state::signing::sign_tx;
use tandem_state::witness::batch_witness;
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::*;

const CHAIN_ID: ChainId = 31_337_001;
const SEED: u64 = 2024;

fn key(seed: u8) -> PrivateKey {
    PrivateKey::from_seed([seed; 32])
}

fn hex32(x: &Fr) -> String {
    let be = x.into_bigint().to_bytes_be();
    format!("0x{}", hex::encode(be))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let skip_devnet = std::env::args().any(|a| a == "--skip-devnet");
    // The generated verifiers go straight where forge compiles them (one copy).
    let verifiers = root.join("../../contracts/src/verifiers");
    std::fs::create_dir_all(&verifiers).unwrap();
    std::fs::create_dir_all(root.join("fixtures")).unwrap();

    let (slots, depth) = (2usize, 4u8);
    let t = Instant::now();
    let keys = ProvingKeys::setup_insecure(slots, depth, CHAIN_ID, SEED).unwrap();
    println!("setup S={slots} D={depth}: {:.2?}", t.elapsed());
    let verifier = format!("contracts/src/verifiers/BatchVerifier_S{slots}_D{depth}.sol");
    std::fs::write(verifiers.join(format!("BatchVerifier_S{slots}_D{depth}.sol")), solidity_verifier_file(&keys, Some(SEED))).unwrap();

    // Genesis as the devnet makes it: the fee account 0, empty.
    let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: depth, chunk_size: None }).unwrap();
    ledger.create_genesis_account(key(1).public_key().pack()).unwrap();
    let fee_account = AccountIndex::new(0).unwrap();
    let depositor = key(2).public_key();
    let deposit_amount: Balance = 1_000_000_000_000_000_000;
    let transfer = TransferTx {
        from: AccountIndex::new(1).unwrap(),
        to: key(3).public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(250_000_000_000_000_000).unwrap(),
        fee: PackedFee::new(1_000_000_000_000_000).unwrap(),
        nonce: 0,
    };
    let ops = vec![
        LedgerOp::Deposit(L1Deposit { to: depositor.pack(), token: TokenId::ETH, amount: deposit_amount }),
        LedgerOp::Tx(sign_tx(&key(2), CHAIN_ID, Tx::Transfer(transfer)).unwrap()),
    ];
    let (witness, outcome) = batch_witness(&ledger, &ops, fee_account, slots).unwrap();
    assert!(matches!(outcome.ops[1], Op::TransferToNew(_)));

    let public_data: Vec<u8> = outcome.ops.iter().flat_map(|op| op.encode()).collect();
    let roots: Vec<tandem_chain::B256> = outcome.intermediate_roots.iter().map(|r| tandem_chain::B256::from(fr_be(r))).collect();
    let intermediate_roots_root = tandem_chain::intermediate_roots_root(&roots);
    let data_hash = tandem_chain::zk_data_hash(fee_account.get(), &outcome.ops, slots).unwrap();
    let zk_public_data = tandem_chain::zk_public_data(fee_account.get(), &outcome.ops, slots).unwrap();
    let priority_ops = outcome.ops.iter().filter(|op| matches!(op, Op::Deposit(_))).count();

    for (name, prover) in [
        ("proof_S2_D4.json", L1Address(hex_addr("1000000000000000000000000000000000000001"))),
        ("proof_S2_D4_prover2.json", L1Address(hex_addr("2000000000000000000000000000000000000002"))),
    ] {
        let t = Instant::now();
        let proof = prove_batch_with(&CpuBackend, &keys, &witness, prover, Some(SEED)).unwrap();
        println!("prove S={slots} D={depth} ({name}): {:.2?}", t.elapsed());
        let [prev, new, dh, _] = proof.public_inputs;
        assert_eq!(hex32(&dh), format!("0x{}", hex::encode(data_hash.as_slice())));
        let fixture = json!({
            "description": "Batch 1 on the devnet genesis at S=2, D=4, chain id 31337001: Deposit of 1 ETH creating account 1 (key seed [2;32]), then TransferToNew of 0.25 ETH (fee 0.001 ETH) from account 1 creating account 2 (key seed [3;32]); fee account 0 (key seed [1;32]). INSECURE keys (seed 2024). Regenerate: cargo run --release -p tandem-circuit --example fixtures",
            "slots": slots,
            "depth": depth,
            "chainId": CHAIN_ID,
            "batchNumber": 1,
            "lane": 1,
            "prevRoot": hex32(&prev),
            "newRoot": hex32(&new),
            "dataHash": hex32(&dh),
            "feeAccount": fee_account.get(),
            "publicData": format!("0x{}", hex::encode(&public_data)),
            "publicDataHash": format!("0x{}", hex::encode(sha2::Sha256::digest(&public_data))),
            "zkPublicData": format!("0x{}", hex::encode(&zk_public_data)),
            "intermediateRoots": roots.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "intermediateRootsRoot": intermediate_roots_root.to_string(),
            "opCount": outcome.ops.len(),
            "priorityOpsCount": priority_ops,
            "deposits": [{
                "pubX": hex32(&depositor.x()),
                "pubY": hex32(&depositor.y()),
                "packedKey": format!("0x{}", hex::encode(depositor.pack().0)),
                "token": 0,
                "amount": deposit_amount.to_string(),
            }],
            "prover": format!("0x{}", hex::encode(prover.0)),
            "proof": proof.words_decimal(),
            "publicInputs": proof.inputs_be().iter().map(|w| num_bigint::BigUint::from_bytes_be(w).to_string()).collect::<Vec<_>>(),
            "verifierSource": verifier,
        });
        let path = root.join("fixtures").join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&fixture).unwrap() + "\n").unwrap();
        println!("wrote {}", path.display());
    }

    if !skip_devnet {
        let (slots, depth) = (4usize, 24u8);
        let t = Instant::now();
        let keys = ProvingKeys::setup_insecure(slots, depth, CHAIN_ID, SEED).unwrap();
        println!("setup S={slots} D={depth}: {:.2?}", t.elapsed());
        let path = verifiers.join(format!("BatchVerifier_S{slots}_D{depth}.sol"));
        std::fs::write(&path, solidity_verifier_file(&keys, Some(SEED))).unwrap();
        println!("wrote {}", path.display());
    }
}

fn fr_be(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    let be = x.into_bigint().to_bytes_be();
    out[32 - be.len()..].copy_from_slice(&be);
    out
}

fn hex_addr(s: &str) -> [u8; 20] {
    hex::decode(s).unwrap().try_into().unwrap()
}
