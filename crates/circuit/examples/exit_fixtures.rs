//! Renders the exit verifiers and the forge exit fixture (INSECURE seeded setups):
//! `cargo run --release -p tandem-circuit --example exit_fixtures`
//!
//! - `contracts/src/verifiers/ExitVerifier_D4.sol` (tests) and `ExitVerifier_D24.sol` (the
//!   devnet's default depth), both for chain id 31337001 and seed
//!   [`tandem_circuit::exit::DEVNET_EXIT_SEED`];
//! - `crates/circuit/fixtures/exit_D4.json`: an exit proof for this state (depth 4; the same
//!   exit is proven at depth 24 and timed, for BENCHMARKS.md): account 0
//!   is the fee account (key seed [1;32]), empty; a Deposit of 1 ETH created account 1 (key
//!   seed [2;32]). Account 1 exits its 1 ETH (token 0) to 0x…b0b.

use ark_ff::{BigInteger, PrimeField};
use serde_json::json;
use std::path::Path;
use std::time::Instant;
use tandem_circuit::exit::{exit_solidity_proof, exit_verifier_file, ExitCircuit, ExitKeys, DEVNET_EXIT_SEED};
use tandem_circuit::Fr;
use tandem_crypto::PrivateKey;
use tandem_state::signing::exit_message;
use tandem_state::witness::account_witness;
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::*;

const CHAIN_ID: ChainId = 31_337_001;

fn hex32(x: &Fr) -> String {
    format!("0x{}", hex::encode(x.into_bigint().to_bytes_be()))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let verifiers = root.join("../../contracts/src/verifiers");
    for depth in [4u8, 24] {
        let t = Instant::now();
        let keys = ExitKeys::setup_insecure(depth, CHAIN_ID, DEVNET_EXIT_SEED).unwrap();
        println!("exit setup D={depth}: {:.2?}", t.elapsed());
        let path = verifiers.join(format!("ExitVerifier_D{depth}.sol"));
        std::fs::write(&path, exit_verifier_file(&keys, Some(DEVNET_EXIT_SEED))).unwrap();
        println!("wrote {}", path.display());
        println!("exit circuit D={depth}: {} constraints", ExitCircuit::num_constraints(depth, CHAIN_ID));
        let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: depth, chunk_size: None }).unwrap();
        ledger.create_genesis_account(PrivateKey::from_seed([1; 32]).public_key().pack()).unwrap();
        let owner = PrivateKey::from_seed([2; 32]);
        let amount: Balance = 1_000_000_000_000_000_000;
        let fee_account = AccountIndex::new(0).unwrap();
        let deposit = L1Deposit { to: owner.public_key().pack(), token: TokenId::ETH, amount };
        ledger.apply_batch(&[LedgerOp::Deposit(deposit)], fee_account).unwrap();
        let account = AccountIndex::new(1).unwrap();
        let mut recipient = [0u8; 20];
        recipient[18..].copy_from_slice(&[0x0b, 0x0b]);
        let recipient = L1Address(recipient);
        let signature = owner.sign(exit_message(CHAIN_ID, account, TokenId::ETH, &recipient));
        let circuit =
            ExitCircuit::new(CHAIN_ID, ledger.root(), &account_witness(&ledger, account, TokenId::ETH), recipient, &signature).unwrap();
        let t = Instant::now();
        let proof = keys.prove(circuit, DEVNET_EXIT_SEED).unwrap();
        println!("exit prove D={depth} (satisfaction check, proof, verification): {:.2?}", t.elapsed());
        if depth != 4 {
            continue;
        }
        let fixture = json!({
            "description": "Exit of account 1 (key seed [2;32]; 1 ETH from a Deposit on the devnet genesis, fee account 0 with key seed [1;32]) at D=4, chain id 31337001, to 0x…0b0b. INSECURE keys (seed 2025). Regenerate: cargo run --release -p tandem-circuit --example exit_fixtures",
            "depth": depth,
            "chainId": CHAIN_ID,
            "stateRoot": hex32(&ledger.root()),
            "accountIndex": account.get(),
            "tokenId": 0,
            "amount": amount.to_string(),
            "recipient": format!("0x{}", hex::encode(recipient.0)),
            "proof": exit_solidity_proof(&proof).iter().map(|w| format!("0x{}", hex::encode(w))).collect::<Vec<_>>(),
        });
        let path = root.join("fixtures/exit_D4.json");
        std::fs::write(&path, serde_json::to_string_pretty(&fixture).unwrap() + "\n").unwrap();
        println!("wrote {}", path.display());
    }
}
