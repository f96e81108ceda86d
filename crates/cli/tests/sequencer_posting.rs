//! Batch posting duty: a block's proposer posts its batch; when it stalls (here: the largest
//! member never posts), the next member in rotation posts it after the post timeout, and no
//! batch is committed twice.

mod common;

use alloy::providers::Provider;
use common::*;
use std::collections::BTreeMap;
use std::time::Duration;
use tandem_api::TandemApiClient;

const LONG: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_poster_is_replaced_by_the_next_member() {
    let net = SetDevnet::start(SetOptions {
        stakes: vec![400, 300, 200, 100],
        epoch_length: 3_600,
        challenge_window: 1,
        byzantine: None,
        withhold: Some(0),
    })
    .await;
    net.wait_height(2, LONG).await;
    let alice = tandem_crypto::PrivateKey::from_seed([7; 32]);
    let bob = tandem_crypto::PrivateKey::from_seed([8; 32]);
    net.deposit(&alice, 10u128.pow(16)).await;
    wait_for("deposit credited", LONG, async || account(&net.members[1], &alice).await).await;

    // Keep transactions coming until member 0 (40% of the stake) has proposed a few blocks.
    let withholder = signing_key(0).address();
    let mut nonce = 0u32;
    let proposed_by_withholder = wait_for("blocks proposed by the withholding member", Duration::from_secs(240), async || {
        let tx = transfer(&alice, 1, &bob, 1_000, nonce);
        let sent = net.members[1].rpc.send_transaction(tx).await;
        if sent.is_ok() {
            nonce += 1;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        let latest = net.members[1].block_number().await?;
        let mut mine = vec![];
        for b in 1..=latest {
            if net.members[1].proposer(b).await? == withholder {
                mine.push(b);
            }
        }
        (mine.len() >= 2).then_some(mine)
    })
    .await;
    let last = *proposed_by_withholder.iter().max().expect("some");
    net.wait_final(last, LONG).await;

    // Who sent each commit: never member 0's L1 account; each batch exactly once.
    let rollup = net.rollup(None);
    let events = tandem_l1::bindings::TandemRollup::new(net.deployment.rollup, rollup.provider().clone())
        .BatchCommitted_filter()
        .from_block(net.deployment.deploy_block)
        .query()
        .await
        .expect("events");
    let mut poster_of = BTreeMap::new();
    for (e, log) in &events {
        let hash = log.transaction_hash.expect("mined");
        let tx = rollup.provider().get_transaction_by_hash(hash).await.expect("rpc").expect("tx");
        assert!(poster_of.insert(e.batchNumber, tx.inner.signer()).is_none(), "batch {} committed twice", e.batchNumber);
    }
    let withholder_l1 = net.keys[1].address();
    for b in &proposed_by_withholder {
        let poster = poster_of.get(b).copied().expect("committed");
        assert_ne!(poster, withholder_l1, "batch {b} posted by the member that withholds");
        eprintln!("batch {b}: proposed by member 0, posted by {poster}");
    }
    assert!(poster_of.values().all(|p| *p != withholder_l1));

    // Members take turns to finalize; every member reports the one transaction that did it,
    // whoever sent it.
    let finalized = tandem_l1::bindings::TandemRollup::new(net.deployment.rollup, rollup.provider().clone())
        .BatchFinalized_filter()
        .topic1(alloy::primitives::U256::from(last))
        .from_block(net.deployment.deploy_block)
        .query()
        .await
        .expect("events");
    let [(_, log)] = finalized.as_slice() else { panic!("batch {last} finalized {} times", finalized.len()) };
    let finalize_tx = log.transaction_hash.expect("mined");
    for (i, member) in net.members.iter().enumerate() {
        let reported = wait_for(&format!("member {i} sees batch {last} final"), LONG, async || {
            let batch = member.rpc.batch(last).await.ok()??;
            (batch.status == tandem_api::BatchStatus::Final).then_some(batch.l1_finalize_tx)
        })
        .await;
        assert_eq!(reported, Some(finalize_tx), "member {i}'s finalize transaction of batch {last}");
    }

    // Restore from L1 alone reads the set's signed commits (`commitBatchSigned` calldata) and
    // reaches the members' root of the last final batch.
    let params = tandem_restore::RestoreParams {
        chain_id: CHAIN_ID,
        tree_depth: DEPTH,
        genesis_fee_pubkey: net.fee_key.public_key().pack(),
        deploy_block: net.deployment.deploy_block,
        log_range: tandem_restore::DEFAULT_LOG_RANGE,
        include_unfinal: false,
    };
    let restored = tandem_restore::restore(rollup.provider(), net.deployment.rollup, params, &mut |_| {}).await.expect("restore");
    assert!(restored.last_final_batch >= last);
    let block = net.members[1].block(restored.last_final_batch).await.expect("the last final block");
    assert_eq!(restored.root(), block.state_root, "restored root of batch {}", restored.last_final_batch);
}
