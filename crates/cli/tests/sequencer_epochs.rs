//! Membership changes at epoch boundaries: a new staker joins the set at the next epoch and
//! starts proposing; a member that unstakes leaves the set at that boundary (the chain goes on
//! without it) and can withdraw its stake only once the unbonding delay has passed.

mod common;

use common::*;
use std::time::Duration;
use tandem_api::SequencerSetView;
use tandem_l1::bindings::SequencerStaking::SequencerStakingErrors;
use tandem_l1::{Address, ContractRevert, L1Error};

const LONG: Duration = Duration::from_secs(120);

/// Signing keys of the newest epoch's set.
fn members_of(set: &SequencerSetView) -> Vec<Address> {
    set.sets.first().map_or(vec![], |s| s.members.iter().map(|m| m.signing_key).collect())
}

/// The newest epoch `set` knows.
fn newest_epoch(set: &SequencerSetView) -> Option<u64> {
    set.sets.first().map(|s| s.epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stakers_join_and_leave_at_epoch_boundaries() {
    let mut net = SetDevnet::start(SetOptions {
        stakes: vec![400, 300, 200, 100],
        epoch_length: 600,
        challenge_window: 1,
        byzantine: None,
        withhold: None,
    })
    .await;
    net.wait_height(2, LONG).await;
    let first_epoch = net.genesis_epoch;

    // During the epoch: a newcomer stakes 250, member 3 unstakes everything.
    let (p2p, rpc) = (free_port(), free_port());
    net.stake(4, tokens(250), &format!("/ip4/127.0.0.1/tcp/{p2p}"), &format!("http://127.0.0.1:{rpc}")).await;
    net.add_member(4, p2p, rpc, false);
    net.members[4].start();
    let leaver = net.staking(4);
    leaver.unstake(tokens(100)).await.expect("unstake");
    let info = leaver.staker_info(net.keys[4].address()).await.expect("info");
    assert_eq!(info.unbonding, tokens(100));

    // Still the old set for the rest of the epoch.
    let h = net.members[0].consensus_height().await.expect("height");
    net.wait_height(h + 2, LONG).await;
    let set = net.members[0].set().await.expect("set");
    assert_eq!(newest_epoch(&set), Some(first_epoch));
    assert!(members_of(&set).contains(&signing_key(3).address()));

    // The newcomer follows the chain without being a member.
    let target = net.members[0].consensus_height().await.expect("height");
    wait_for("newcomer syncs", LONG, async || (net.members[4].consensus_height().await? >= target).then_some(())).await;

    // Next epoch: the members see the new set and switch to it at the next height.
    let second_epoch = net.next_epoch().await;
    let newcomer = signing_key(4).address();
    let leaver_key = signing_key(3).address();
    wait_for("members use the new epoch's set", LONG, async || {
        let set = net.members[0].set().await?;
        (newest_epoch(&set) == Some(second_epoch)).then_some(())
    })
    .await;
    let set = net.members[0].set().await.expect("set");
    let members = members_of(&set);
    assert!(members.contains(&newcomer), "newcomer in the set of epoch {second_epoch}: {members:?}");
    assert!(!members.contains(&leaver_key), "leaver out of the set of epoch {second_epoch}: {members:?}");

    // The newcomer proposes (stake 250 of 1150: expected every ~5 heights).
    wait_for("newcomer proposes", LONG, async || {
        let s = net.members[4].set().await?;
        (s.heights_proposed > 0).then_some(())
    })
    .await;

    // The leaver, still running, follows the chain but proposes nothing in the new epoch: once
    // it has every height up to one decided under the new set, its count of proposed heights
    // never moves again.
    let proposed_heights = async |m: &Member| m.set().await.map(|s| s.heights_proposed);
    let h = net.members[0].consensus_height().await.expect("height");
    wait_for("the leaver follows the new epoch", LONG, async || (net.members[3].consensus_height().await? >= h).then_some(())).await;
    let proposed_by_leaver = proposed_heights(&net.members[3]).await.expect("count");
    net.wait_height(h + 4, LONG).await;
    assert_eq!(
        proposed_heights(&net.members[3]).await,
        Some(proposed_by_leaver),
        "the leaver proposed a height after leaving the set at epoch {second_epoch}"
    );
    // Nor is any block of the new epoch its proposal.
    let latest = net.members[0].block_number().await.expect("blocks");
    for b in 1..=latest {
        let consensus = net.members[0].block(b).await.expect("block").consensus.expect("a set's block has consensus info");
        if consensus.epoch == second_epoch {
            assert_ne!(consensus.proposer, leaver_key, "block {b}");
        }
    }

    // The leaver's process can go: 1150 of 1150 stake remains among the others.
    net.members[3].kill();
    let h = net.members[0].consensus_height().await.expect("height");
    net.wait_height(h + 3, LONG).await;
    let alice = tandem_crypto::PrivateKey::from_seed([5; 32]);
    net.deposit(&alice, 10u128.pow(15)).await;
    for m in net.members.iter().filter(|m| m.child.is_some()) {
        wait_for("deposit credited under the new set", LONG, async || account(m, &alice).await).await;
    }
    let blocks = net.members[0].block_number().await.expect("blocks");
    net.wait_final(blocks, LONG).await;

    // Withdrawal waits for the unbonding delay (epoch + window after the unstake).
    let refused = leaver.withdraw().await;
    assert!(
        matches!(&refused, Err(L1Error::Reverted(ContractRevert::Staking(SequencerStakingErrors::UnbondingNotOver(_))))),
        "early withdraw: {refused:?}"
    );
    net.advance_to(info.unbonding_end).await;
    leaver.withdraw().await.expect("withdraw after the delay");
    assert_eq!(leaver.token_balance(net.keys[4].address()).await.expect("balance"), tokens(100));
    let again = leaver.withdraw().await;
    assert!(
        matches!(&again, Err(L1Error::Reverted(ContractRevert::Staking(SequencerStakingErrors::NothingToWithdraw(_))))),
        "second withdraw: {again:?}"
    );
}
