//! Forced withdrawals end to end on anvil with an honest sequencer (SPEC §4.5, §16): a user
//! asks L1 for a withdrawal with `tandem wallet force-withdraw` (no L2 node involved), the
//! sequencer includes it before its deadline, and once the batch is final it is claimed like
//! any withdrawal: the recipient gets exactly the amount on L1 and the L2 balance falls by it.

mod devnet_process;

use devnet_process::*;
use std::time::Duration;
use tandem_l1::{Address, RollupClient, U256};

#[test]
fn an_honest_sequencer_includes_a_forced_withdrawal_before_its_deadline_and_it_is_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("devnet");
    let args = ["--tree-depth", "4", "--zk-slots", "0", "--challenge-window", "20", "--block-time-ms", "500", "--priority-deadline", "120"];
    let mut devnet = start_devnet(&data, &args);
    let info = devnet_info(&mut devnet, &data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rollup: Address = info["rollup"].as_str().unwrap().parse().unwrap();
    let inbox = info["forcedInbox"].as_str().expect("the devnet deploys the forced-withdrawal inbox").to_string();
    let l1 = RollupClient::new(info["l1Rpc"].as_str().unwrap(), rollup, None).unwrap();
    let alice_l1 = info["devAccounts"][0]["privateKey"].as_str().unwrap().to_string();
    let eth = |n: u128| n * 10u128.pow(18);

    ok(wallet(d, &info, "alice.json", &["new"]));
    ok(wallet(d, &info, "alice.json", &["--l1-key", &alice_l1, "deposit", "--amount", "5", "--wait"]));
    eventually("the deposit committed", Duration::from_secs(60), || {
        rt.block_on(l1.oldest_pending_priority_op()).unwrap().is_none().then_some(())
    });

    let recipient = "0x2727272727272727272727272727272727272727";
    let (chain_id, deploy_block) = (info["chainId"].to_string(), info["deployBlock"].to_string());
    let requested = ok(wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &[
            "force-withdraw",
            "--inbox",
            &inbox,
            "--amount",
            "2",
            "--to",
            recipient,
            "--chain-id",
            &chain_id,
            "--tree-depth",
            "4",
            "--genesis-fee-pubkey",
            info["feeCollector"]["publicKey"].as_str().unwrap(),
            "--deploy-block",
            &deploy_block,
        ],
    ));
    let queue_index = requested["queueIndex"].as_u64().expect("force-withdraw prints its queue index");
    let deadline = requested["deadline"].as_u64().expect("and its deadline");

    // Included before the deadline: the queue head moves past it while L1 time is below it.
    let batch = eventually("the forced withdrawal committed", Duration::from_secs(60), || {
        rt.block_on(async {
            let head_past = l1.oldest_pending_priority_op().await.unwrap().is_none_or(|p| p.queue_index > queue_index);
            head_past.then_some((l1.last_committed_batch().await.unwrap(), l1.latest_timestamp().await.unwrap()))
        })
    });
    assert!(batch.1 <= deadline, "included at L1 time {} after the deadline {deadline}", batch.1);
    let balance = ok(wallet(d, &info, "alice.json", &["balance"]));
    assert_eq!(
        balance["balances"]["0"].as_str().or(balance["balances"]["eth"].as_str()).map(str::to_string),
        Some(eth(3).to_string()),
        "{balance}"
    );

    // Claimed like any withdrawal once final: exactly 2 ETH to the recipient.
    eventually("the batch final", Duration::from_secs(120), || (rt.block_on(l1.last_finalized_batch()).unwrap() >= batch.0).then_some(()));
    let to: Address = recipient.parse().unwrap();
    let before = rt.block_on(l1.balance_of(to, None)).unwrap();
    // The wallet asks the node whether the batch is final; the node may learn it a poll later.
    let claimed = eventually("the claim accepted", Duration::from_secs(30), || {
        let out = wallet(d, &info, "alice.json", &["--l1-key", &alice_l1, "claim", "--batch", &batch.0.to_string(), "--index", "0"]);
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    });
    let after = rt.block_on(l1.balance_of(to, None)).unwrap();
    assert_eq!(after - before, U256::from(eth(2)), "{claimed}");
}
