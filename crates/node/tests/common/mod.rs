//! Shared setup of the node tests: anvil, a deployed rollup, a node, and L2 keys.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;
use tandem_chain::genesis_root;
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::{deploy_devnet, Deployment};
use tandem_l1::{Address, PrivateKeySigner, U256};
use tandem_node::{Node, NodeConfig};
use tandem_state::signing::sign_tx;
use tandem_types::*;

pub const CHAIN_ID: u64 = 4242;
pub const WINDOW: u64 = 100;

pub fn l2_key(i: u8) -> PrivateKey {
    PrivateKey::from_seed([i; 32])
}

pub fn xy(key: &PrivateKey) -> (U256, U256) {
    let pk = key.public_key();
    (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())))
}

pub fn transfer(key: &PrivateKey, from: u32, to: &PrivateKey, token: u32, amount: u128, fee: u128, nonce: u32) -> Vec<u8> {
    let tx = Tx::Transfer(TransferTx {
        from: AccountIndex::new(from).unwrap(),
        to: to.public_key().pack(),
        token: TokenId::new(token).unwrap(),
        amount: PackedAmount::new(amount).unwrap(),
        fee: PackedFee::new(fee).unwrap(),
        nonce,
    });
    sign_tx(key, CHAIN_ID, tx).unwrap().encode()
}

pub fn withdraw(key: &PrivateKey, from: u32, to: Address, token: u32, amount: u128, fee: u128, nonce: u32) -> Vec<u8> {
    let tx = Tx::Withdraw(WithdrawTx {
        from: AccountIndex::new(from).unwrap(),
        to_l1: L1Address(to.0 .0),
        token: TokenId::new(token).unwrap(),
        amount,
        fee: PackedFee::new(fee).unwrap(),
        nonce,
    });
    sign_tx(key, CHAIN_ID, tx).unwrap().encode()
}

pub async fn open(config: &NodeConfig) -> Arc<Node> {
    Node::open(config.clone()).await.unwrap()
}

/// Anvil with a deployed rollup and an opened node.
pub struct Harness {
    pub anvil: alloy::node_bindings::AnvilInstance,
    pub url: String,
    pub keys: Vec<PrivateKeySigner>,
    pub deployment: Deployment,
    pub config: NodeConfig,
    pub node: Arc<Node>,
    pub fee_key: PrivateKey,
    pub dir: tempfile::TempDir,
}

/// Deposits `amount` wei on L1 for each of `keys` (accounts 1, 2, … in order) and credits them
/// in block 1.
pub async fn fund(h: &Harness, keys: &[&PrivateKey], amount: u128) {
    let user_l1 = tandem_l1::RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    for key in keys {
        let (x, y) = xy(key);
        user_l1.deposit_eth(x, y, U256::from(amount)).await.unwrap();
    }
    h.node.sync_l1(&mut None).await.unwrap();
    assert_eq!(h.node.produce_block().unwrap(), Some(1));
}

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

/// Like [`harness`], with the node configuration adjusted before the node opens.
pub async fn harness_with(adjust: impl FnOnce(&mut NodeConfig)) -> Harness {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let fee_key = l2_key(100);
    let genesis = genesis_root(CHAIN_ID, 10, fee_key.public_key().pack()).unwrap();
    let deployment = deploy_devnet(&url, keys[0].clone(), keys[1].address(), genesis, WINDOW, U256::from(10u128.pow(24))).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig {
        data_dir: dir.path().to_path_buf(),
        chain_id: CHAIN_ID,
        tree_depth: 10,
        genesis_fee_pubkey: fee_key.public_key().pack(),
        l1_rpc: url.clone(),
        rollup: deployment.rollup,
        deploy_block: deployment.deploy_block,
        sequencer_key: keys[1].clone(),
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
    };
    adjust(&mut config);
    let node = open(&config).await;
    Harness { anvil, url, keys, deployment, config, node, fee_key, dir }
}
