//! Four `tandem node` members with stakes 4/3/2/1 on anvil, over real TCP: transactions sent
//! to any member are decided and batches signed by more than 2/3 of the stake finalize on L1;
//! with the smallest member killed the chain goes on and the member catches up after a
//! restart; with members holding >= 1/3 of the stake down it halts (no member's height moves
//! over a measured interval) without forking and resumes when they return. Every block is
//! proposed by a member of the set, more than one member proposes, and all members hold
//! identical blocks at every height. A forced withdrawal requested on L1 is included by the
//! set, committed with its signatures, and its fee goes to the staking treasury once final.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tandem_api::{TandemApiClient, TxStatus};
use tandem_chain::TxHash;
use tandem_crypto::PrivateKey;
use tandem_l1::{ForcedClient, U256};
use tandem_types::{AccountIndex, L1Address, TokenId};

const LONG: Duration = Duration::from_secs(120);
/// A member whose height has not moved for this long has stopped deciding.
const SETTLED: Duration = Duration::from_secs(3);
/// How long the halted set is watched for any height moving.
const HALT_WATCH: Duration = Duration::from_secs(10);

async fn send(member: &Member, tx: String) -> TxHash {
    member.rpc.send_transaction(tx).await.expect("accepted").hash
}

async fn included_everywhere(net: &SetDevnet, hash: TxHash) {
    for m in net.members.iter().filter(|m| m.child.is_some()) {
        wait_for(&format!("{hash} included at member {}", m.index), LONG, async || {
            let t = m.rpc.transaction(hash).await.ok()??;
            (t.status == TxStatus::Included).then_some(())
        })
        .await;
    }
}

/// Every running member has the same blocks 1..=n (identical records: roots, public data,
/// transactions, consensus height, round, proposer and epoch).
async fn same_chain(net: &SetDevnet) -> u64 {
    let running: Vec<&Member> = net.members.iter().filter(|m| m.child.is_some()).collect();
    let n = {
        let mut least = u64::MAX;
        for m in &running {
            least = least.min(m.block_number().await.expect("block number"));
        }
        least
    };
    for b in 1..=n {
        let reference = running[0].block(b).await.expect("block");
        for m in &running[1..] {
            let other = m.block(b).await.expect("block");
            assert_eq!(reference, other, "block {b}: member {} differs from member {}", m.index, running[0].index);
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_members_stay_live_with_one_down_and_halt_safely_without_a_third() {
    let mut net = SetDevnet::start(SetOptions {
        stakes: vec![400, 300, 200, 100],
        epoch_length: 3_600,
        challenge_window: 1,
        byzantine: None,
        withhold: None,
    })
    .await;
    let result = tokio::time::timeout(Duration::from_secs(900), scenario(&mut net)).await;
    if !matches!(result, Ok(())) {
        net.dump_logs();
        panic!("scenario failed or timed out: {result:?}");
    }
}

async fn scenario(net: &mut SetDevnet) {
    net.wait_height(2, LONG).await;
    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    net.deposit(&alice, 10u128.pow(16)).await;
    for m in &net.members {
        wait_for("deposit credited", LONG, async || account(m, &alice).await).await;
    }

    // Sent to each member in turn (the smallest first): forwarded to whoever proposes,
    // decided, executed by all.
    let mut nonce = 0u32;
    for member in [3usize, 0, 2, 1] {
        let h = send(&net.members[member], transfer(&alice, 1, &bob, 1_000, nonce)).await;
        nonce += 1;
        included_everywhere(net, h).await;
    }
    let blocks = same_chain(net).await;
    assert!(blocks >= 2, "deposit and transfers in blocks");

    // Batches are committed with the set's signatures and finalize.
    let rollup = net.rollup(None);
    net.wait_final(blocks, LONG).await;
    // Each block's proposer is a member of the set.
    let set_keys: BTreeSet<tandem_l1::Address> = (0..4).map(|i| signing_key(i).address()).collect();
    for b in 1..=blocks {
        let proposer = net.members[0].proposer(b).await.expect("a block with a consensus proposer");
        assert!(set_keys.contains(&proposer), "block {b} proposed by {proposer}, not a member of {set_keys:?}");
    }
    // More than one member proposes (the stake-weighted draw over the heights decided so far,
    // empty ones included; within the deadline this fails only if one member always proposes).
    let proposers = wait_for("a second member to propose", LONG, async || {
        let mut proposed = vec![];
        for m in &net.members {
            if m.set().await?.heights_proposed > 0 {
                proposed.push(m.index);
            }
        }
        (proposed.len() > 1).then_some(proposed)
    })
    .await;
    eprintln!("members {proposers:?} proposed heights");

    // A forced withdrawal requested on L1: every member executes it, the set commits it with
    // its signatures (commitBatchSigned), and once final its fee is credited to the treasury.
    let view = account(&net.members[0], &alice).await.expect("alice's account");
    let eth = TokenId::new(0).expect("eth");
    let request = tandem_state::signing::sign_forced_withdrawal(
        &alice,
        CHAIN_ID,
        AccountIndex::new(view.index).expect("index"),
        eth,
        L1Address([0x27; 20]),
        5_000,
        1,
    );
    let forced =
        ForcedClient::new(&net.url, net.deployment.forced_inbox.expect("the set's rollup has an inbox"), Some(net.keys[9].clone()))
            .expect("client");
    let queue_index = forced.request(&request).await.expect("forced withdrawal queued");
    for m in &net.members {
        wait_for("forced withdrawal executed", LONG, async || {
            (account(m, &alice).await?.balance(0) == view.balance(0) - 5_000).then_some(())
        })
        .await;
    }
    let forced_batch = wait_for("forced withdrawal committed", LONG, async || {
        let past = rollup.oldest_pending_priority_op().await.ok()?.is_none_or(|p| p.queue_index > queue_index);
        if past {
            rollup.last_committed_batch().await.ok()
        } else {
            None
        }
    })
    .await;
    net.wait_final(forced_batch, LONG).await;
    let record = rollup.committed_batch(forced_batch, net.deployment.deploy_block).await.expect("record").expect("committed");
    forced.pay_fee(queue_index, &record).await.expect("fee paid once final");
    assert_eq!(forced.fees_owed(TREASURY).await.expect("owed"), U256::from(10u64.pow(15)), "the 0.001 ETH fee goes to the treasury");
    assert!(forced.pay_fee(queue_index, &record).await.is_err(), "a fee is paid once");

    // The smallest member (1/10 of the stake) dies: blocks and batches go on.
    net.members[3].kill();
    let before = net.members[0].consensus_height().await.expect("height");
    let h = send(&net.members[1], transfer(&alice, 1, &bob, 1_000, nonce)).await;
    nonce += 1;
    included_everywhere(net, h).await;
    net.wait_height(before + 3, LONG).await;
    let blocks = same_chain(net).await;
    net.wait_final(blocks, LONG).await;

    // It restarts and catches up.
    net.members[3].start();
    let target = net.members[0].consensus_height().await.expect("height");
    wait_for("restarted member catches up", LONG, async || (net.members[3].consensus_height().await? >= target).then_some(())).await;
    let h = send(&net.members[3], transfer(&alice, 1, &bob, 1_000, nonce)).await;
    nonce += 1;
    included_everywhere(net, h).await;
    same_chain(net).await;

    // Members 1 and 3 (3 + 1 = 4/10 of the stake) die: nothing can be decided. A height in
    // flight may still complete, so wait until both survivors' heights have settled.
    net.members[1].kill();
    net.members[3].kill();
    let survivors = [0usize, 2];
    let stalled = wait_for("the survivors to stop deciding", LONG, async || {
        let first = survivor_heights(net, &survivors).await?;
        tokio::time::sleep(SETTLED).await;
        (survivor_heights(net, &survivors).await? == first).then_some(first)
    })
    .await;
    let pending = send(&net.members[0], transfer(&alice, 1, &bob, 1_000, nonce)).await;
    // Watched over an interval, with a transaction waiting: no survivor's height moves.
    let watch_end = Instant::now() + HALT_WATCH;
    let mut samples = 0;
    while Instant::now() < watch_end {
        let now = survivor_heights(net, &survivors).await.expect("survivors answer");
        assert_eq!(now, stalled, "decided without 2/3 of the stake (heights of members {survivors:?})");
        samples += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(samples >= 10, "the halt was watched {samples} times only");
    same_chain(net).await;

    // They return: the chain resumes, the pending transaction is included, no fork.
    net.members[1].start();
    net.members[3].start();
    included_everywhere(net, pending).await;
    net.wait_height(stalled.iter().max().expect("survivors") + 2, LONG).await;
    let blocks = same_chain(net).await;
    net.wait_final(blocks, LONG).await;

    // Every batch is committed exactly once, in order.
    let events = tandem_l1::bindings::TandemRollup::new(net.deployment.rollup, rollup.provider().clone())
        .BatchCommitted_filter()
        .from_block(net.deployment.deploy_block)
        .query()
        .await
        .expect("events");
    let numbers: Vec<u64> = events.iter().map(|(e, _)| e.batchNumber).collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>(), "each batch committed once, in order");
}

/// Consensus heights of `members` (all must answer).
async fn survivor_heights(net: &SetDevnet, members: &[usize]) -> Option<Vec<u64>> {
    let mut heights = Vec::with_capacity(members.len());
    for &i in members {
        heights.push(net.members[i].consensus_height().await?);
    }
    Some(heights)
}
