//! Helpers shared by the fault-proof tests (challenger, dispute game, fast withdrawals, the
//! staked set): the verifier from an insecure setup, the single sequencer's node, L1 key
//! coordinates, state roots as L1 sees them, forged ops, anvil time, the single sequencer's
//! bond, and stepping the challenger.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;
use tandem_challenger::Challenger;
use tandem_circuit::prover::{solidity_verifier, ProvingKeys};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::repo_root;
use tandem_devnet::{deploy_bytecode, Deployment};
use tandem_l1::{Address, DisputeClient, PrivateKeySigner, B256, U256};
use tandem_node::NodeConfig;
use tandem_state::Ledger;
use tandem_types::{AccountIndex, Op, PackedAmount, PackedFee, TokenId, TransferOp};

/// Proving keys for batches of `slots` ops at `depth` from an insecure local setup, and the
/// address of the verifier rendered from them, compiled and deployed on L1 by `deployer`.
pub async fn deploy_insecure_verifier(
    l1_url: &str,
    deployer: &PrivateKeySigner,
    slots: usize,
    depth: u8,
    chain_id: u64,
) -> (ProvingKeys, Address) {
    let keys = ProvingKeys::setup_insecure(slots, depth, chain_id, 1).unwrap();
    let code = tandem_devnet::solc::compile(&repo_root(), &solidity_verifier(keys.vk()), "Verifier").unwrap();
    let verifier = deploy_bytecode(l1_url, deployer.clone(), code.into()).await.unwrap();
    (keys, verifier)
}

/// The single sequencer's node in these tests: `sequencer` posting to `deployment`, a block
/// and an L1 poll every 100 ms, at most 64 ops a block, no confirmations to wait for, RPC and
/// metrics on ports of their own, no validity lane (set `zk_lane` over it for one).
pub fn single_sequencer_config(
    data_dir: &Path,
    l1_url: &str,
    deployment: &Deployment,
    sequencer: PrivateKeySigner,
    fee_key: &PrivateKey,
    chain_id: u64,
    depth: u8,
) -> NodeConfig {
    NodeConfig {
        data_dir: data_dir.to_path_buf(),
        chain_id,
        tree_depth: depth,
        genesis_fee_pubkey: fee_key.public_key().pack(),
        l1_rpc: l1_url.to_string(),
        rollup: deployment.rollup,
        deploy_block: deployment.deploy_block,
        sequencer_key: sequencer,
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        dashboard_addr: None,
        block_time: Duration::from_millis(100),
        l1_confirmations: 0,
        max_block_ops: 64,
        l1_poll_interval: Duration::from_millis(100),
        zk_lane: None,
        test_censor_forced_from: None,
        forced_inbox: None,
        tx_records_merge: tandem_node::recent_txs::DEFAULT_TX_RECORDS_MERGE,
    }
}

/// The L2 key's coordinates as a deposit names its owner on L1.
pub fn xy(key: &PrivateKey) -> (U256, U256) {
    let pk = key.public_key();
    (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())))
}

/// The ledger's root as L1 stores it (big-endian).
pub fn root_of(ledger: &Ledger) -> B256 {
    B256::from(fr_to_be_bytes(&ledger.root()))
}

/// A public transfer of `amount` wei of ETH with no fee: what a forger puts in a batch (L1
/// never sees that no signature exists).
pub fn fee_free_transfer(from: AccountIndex, to: AccountIndex, amount: u128) -> Op {
    Op::Transfer(TransferOp { from, to, token: TokenId::ETH, amount: PackedAmount::new(amount).unwrap(), fee: PackedFee::new(0).unwrap() })
}

/// Moves anvil's clock at least `seconds` past its latest block.
pub async fn pass_time(l1_url: &str, seconds: u64) {
    tandem_devnet::advance_time_by(l1_url, seconds).await.unwrap();
}

/// The single sequencer's bond in the tests' dispute games: 1 ETH.
pub const SEQUENCER_BOND: u128 = 10u128.pow(18);

/// Posts `SEQUENCER_BOND` from `sequencer` in `game`: a single sequencer commits nothing
/// without it.
pub async fn bond_sequencer(l1_url: &str, game: Address, sequencer: &PrivateKeySigner) {
    DisputeClient::new(l1_url, game, Some(sequencer.clone())).unwrap().post_sequencer_bond(U256::from(SEQUENCER_BOND)).await.unwrap();
}

/// Steps the challenger until `done` holds (each step must move, or time must pass).
pub async fn step_until(challenger: &mut Challenger, mut done: impl FnMut(&Challenger) -> bool) {
    for _ in 0..200 {
        if done(challenger) {
            return;
        }
        if !challenger.step().await.unwrap() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("the challenger did not get there: {:?}", challenger.status());
}
