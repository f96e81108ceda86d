//! A member made to equivocate (it signs conflicting votes, through Malachite's byzantine
//! network proxy) is reported by the honest members from the engine's evidence and slashed
//! on L1 by `reportDoubleVote`; the reporter is paid its share, the treasury the rest, and
//! the chain stays live.

mod common;

use common::*;
use std::time::Duration;
use tandem_l1::bindings::SequencerStaking;
use tandem_l1::U256;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equivocating_member_is_slashed_on_l1_and_the_reporter_paid() {
    let net = SetDevnet::start(SetOptions {
        stakes: vec![400, 300, 200, 100],
        epoch_length: 3_600,
        challenge_window: 1,
        byzantine: Some(3),
        withhold: None,
    })
    .await;
    let byzantine_staker = net.keys[4].address();
    let staking = net.staking(0);
    let before = staking.staker_info(byzantine_staker).await.expect("info");
    assert_eq!(before.active_stake, tokens(100));

    let events = SequencerStaking::new(net.deployment.staking, net.rollup(None).provider().clone());
    let slashes = wait_for("a double vote slashed on L1", Duration::from_secs(180), async || {
        let found = events.DoubleVoteSlashed_filter().from_block(net.deployment.deploy_block).query().await.ok()?;
        (!found.is_empty()).then_some(found)
    })
    .await;
    for (e, _) in &slashes {
        assert_eq!(e.staker, byzantine_staker, "only the equivocating member is slashed");
        assert_ne!(e.valueIdA, e.valueIdB);
    }

    // Every slash paid its reporter (an honest member's L1 account) exactly reporterBps, and
    // the honest members held no tokens before (they staked all they had).
    let paid = events.Slashed_filter().from_block(net.deployment.deploy_block).query().await.expect("Slashed events");
    let honest: Vec<_> = (1..=3).map(|i| net.keys[i].address()).collect();
    let mut slashed_total = U256::ZERO;
    let mut rewards = std::collections::BTreeMap::new();
    for (e, _) in &paid {
        assert_eq!(e.staker, byzantine_staker);
        assert!(honest.contains(&e.reporter), "reporter {} is not an honest member", e.reporter);
        assert_eq!(e.reporterReward, e.amount * U256::from(3_000) / U256::from(10_000));
        slashed_total += e.amount;
        *rewards.entry(e.reporter).or_insert(U256::ZERO) += e.reporterReward;
    }
    for (reporter, reward) in &rewards {
        assert_eq!(staking.token_balance(*reporter).await.expect("balance"), *reward, "reporter {reporter} paid its rewards");
    }
    let after = staking.staker_info(byzantine_staker).await.expect("info");
    assert_eq!(after.active_stake + after.unbonding + slashed_total, tokens(100), "slashed stake accounted for");
    assert!(after.active_stake < tokens(100));
    let treasury = alloy::primitives::Address::repeat_byte(0x7e);
    let to_reporters: U256 = rewards.values().copied().fold(U256::ZERO, |a, b| a + b);
    assert_eq!(staking.token_balance(treasury).await.expect("balance"), slashed_total - to_reporters);

    // The honest 9/10 of the stake keep deciding.
    let h = net.members[0].consensus_height().await.expect("height");
    net.wait_height(h + 3, Duration::from_secs(60)).await;
}
