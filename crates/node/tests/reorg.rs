//! L1 reorgs: a deposit whose L1 block is replaced before L2 credits it is never credited;
//! the deposit that replaced it is. Deposits wait for `l1_confirmations` blocks.

mod common;

use alloy::providers::Provider;
use common::*;
use tandem_l1::{RollupClient, U256};
use tandem_types::{AccountIndex, TokenId};

async fn rpc(client: &RollupClient, method: &'static str, params: serde_json::Value) -> serde_json::Value {
    client.provider().raw_request(method.into(), params).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorged_deposit_is_never_credited_and_its_replacement_is() {
    let h = harness().await;
    let alice = l2_key(1);
    let (x, y) = xy(&alice);
    let user = RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    let mut scanned = None;
    h.node.sync_l1(&mut scanned).await.unwrap();

    // Deposit A is seen (no confirmations required in this harness) but not yet in a block
    // when its L1 block is reorged away and replaced by deposit B.
    let snapshot = rpc(&user, "evm_snapshot", serde_json::json!([])).await;
    user.deposit_eth(x, y, U256::from(111u64)).await.unwrap();
    h.node.sync_l1(&mut scanned).await.unwrap();
    let reverted = rpc(&user, "evm_revert", serde_json::json!([snapshot])).await;
    assert_eq!(reverted, serde_json::json!(true));
    // A fresh client: the old one's cached nonce belongs to the abandoned branch.
    let user = RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    user.deposit_eth(x, y, U256::from(222u64)).await.unwrap();
    h.node.sync_l1(&mut scanned).await.unwrap();
    h.node.produce_block().unwrap();
    let balance = h.node.with_ledger(|l, _| l.account(AccountIndex::new(1).unwrap()).map(|a| a.balance(TokenId::ETH)));
    assert_eq!(balance, Some(222), "only the deposit that survived the reorg is credited");

    // The batch with B commits on L1, which checks it against its own queue.
    h.node.post_batches().await.unwrap();
    assert_eq!(user.last_committed_batch().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_wait_for_confirmations() {
    let h = harness_with(|config| config.l1_confirmations = 3).await;
    let alice = l2_key(1);
    let (x, y) = xy(&alice);
    let user = RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    let mut scanned = None;
    user.deposit_eth(x, y, U256::from(5u64)).await.unwrap();
    h.node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(h.node.produce_block().unwrap(), None, "deposit not yet buried under 3 blocks");
    for _ in 0..3 {
        rpc(&user, "evm_mine", serde_json::json!([])).await;
    }
    h.node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(h.node.produce_block().unwrap(), Some(1));
    let balance = h.node.with_ledger(|l, _| l.account(AccountIndex::new(1).unwrap()).map(|a| a.balance(TokenId::ETH)));
    assert_eq!(balance, Some(5));
}
