//! Exodus end to end on anvil (SPEC §16): a devnet whose sequencer censors every forced
//! withdrawal from alice's account and every priority op after it (`--test-censor-forced-from`,
//! TEST ONLY), with a 15 s priority deadline and a 40 s challenge window, which the test
//! passes by moving anvil's clock on (`evm_increaseTime`) rather than by waiting.
//!
//! 1. Alice's 5 ETH deposit is included and its batch becomes final.
//! 2. Carol's 2 ETH deposit is included in a batch that is committed but not final yet; then
//!    alice's forced withdrawal (`tandem wallet force-withdraw`, from L1 alone) is censored,
//!    and so is bob's 1 ETH deposit queued after it. `tandem wallet exodus` is refused before
//!    the forced withdrawal's deadline and accepted after it (carol's batch is dropped); the
//!    node stops its L1 duties.
//! 3. With the node stopped (SIGSTOP), alice exits her whole balance with `tandem wallet
//!    exit`, from L1 alone (the L2 RPC URL it is given is dead): the recipient's L1 balance grows by exactly 5 ETH; a second exit is
//!    refused; bob and carol own no account in the final state.
//! 4. `tandem wallet refunds` pays carol's deposit (consumed only by the dropped batch) and
//!    bob's (still queued) back to the L1 accounts that made them, exactly once, and gives
//!    alice her forced withdrawal's fee back.

mod devnet_process;

use devnet_process::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use tandem_l1::{Address, RollupClient, U256};

const DEADLINE_SECS: u64 = 15;
const WINDOW_SECS: u64 = 40;

/// A process paused with SIGSTOP, continued when dropped (so that the devnet can stop it).
struct StoppedProcess(String);

impl StoppedProcess {
    fn stop(pid: u64) -> Self {
        let pid = pid.to_string();
        assert!(Command::new("kill").args(["-STOP", &pid]).status().unwrap().success(), "SIGSTOP {pid}");
        let stopped = || std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().filter(|s| s.split_whitespace().nth(2) == Some("T"));
        eventually("the node stopped", Duration::from_secs(5), stopped);
        Self(pid)
    }
}

impl Drop for StoppedProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

fn stderr_of(out: &Output) -> String {
    assert!(!out.status.success(), "expected a refusal, got: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn new_wallet(dir: &Path, file: &str) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_tandem")).current_dir(dir).args(["wallet", "--json", "--wallet", file, "new"]).output().unwrap();
    ok(out)["publicKey"].as_str().expect("packed key").to_string()
}

#[test]
fn a_censored_user_triggers_exodus_exits_from_l1_and_deposits_are_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Alice's key exists before the devnet so that the sequencer can be told to censor it.
    let alice_key = new_wallet(d, "alice.json");
    new_wallet(d, "bob.json");
    new_wallet(d, "carol.json");
    let data = d.join("devnet");
    let (window, deadline) = (WINDOW_SECS.to_string(), DEADLINE_SECS.to_string());
    let args = [
        "--tree-depth",
        "4",
        "--zk-slots",
        "0",
        "--challenge-window",
        &window,
        "--block-time-ms",
        "500",
        "--priority-deadline",
        &deadline,
        "--test-censor-forced-from",
        &alice_key,
    ];
    let mut devnet = start_devnet(&data, &args);
    let info = devnet_info(&mut devnet, &data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rollup: Address = info["rollup"].as_str().unwrap().parse().unwrap();
    let l1 = RollupClient::new(info["l1Rpc"].as_str().unwrap(), rollup, None).unwrap();
    let all_consumed = || {
        eventually("every queued deposit committed on L1", Duration::from_secs(60), || {
            rt.block_on(async {
                l1.oldest_pending_priority_op().await.unwrap().is_none().then_some(l1.last_committed_batch().await.unwrap())
            })
        })
    };
    let dev = |i: usize| -> (String, Address) {
        let a = &info["devAccounts"][i];
        (a["privateKey"].as_str().unwrap().to_string(), a["address"].as_str().unwrap().parse().unwrap())
    };
    let ((alice_l1, _), (bob_l1_key, bob_l1), (carol_l1_key, carol_l1)) = (dev(0), dev(1), dev(2));
    let l1_url = info["l1Rpc"].as_str().unwrap();
    let pass_time = |seconds: u64| rt.block_on(tandem_devnet::advance_time_by(l1_url, seconds)).unwrap();

    // 1. Alice's deposit is included, and final.
    ok(wallet(d, &info, "alice.json", &["--l1-key", &alice_l1, "deposit", "--amount", "5", "--wait"]));
    let alice_batch = all_consumed();
    pass_time(WINDOW_SECS + 1);
    eventually("alice's batch final", Duration::from_secs(60), || {
        (rt.block_on(l1.last_finalized_batch()).unwrap() >= alice_batch).then_some(())
    });

    // 2. Carol's deposit is committed (not final); bob's is censored; exodus after bob's deadline.
    let carol = ok(wallet(d, &info, "carol.json", &["--l1-key", &carol_l1_key, "deposit", "--amount", "2", "--wait"]));
    let carol_queue_index = carol["queueIndex"].as_u64().expect("deposit prints its queue index");
    let carol_batch = all_consumed();
    let (chain_id, deploy_block) = (info["chainId"].to_string(), info["deployBlock"].to_string());
    let inbox = info["forcedInbox"].as_str().expect("the devnet deploys the forced-withdrawal inbox").to_string();
    let chain_args = [
        "--chain-id",
        &chain_id,
        "--tree-depth",
        "4",
        "--genesis-fee-pubkey",
        info["feeCollector"]["publicKey"].as_str().unwrap(),
        "--deploy-block",
        &deploy_block,
    ];
    let forced = ok(wallet_l1_only(d, &info, "alice.json", &alice_l1, &[&["force-withdraw", "--inbox", &inbox][..], &chain_args].concat()));
    let forced_queue_index = forced["queueIndex"].as_u64().expect("force-withdraw prints its queue index");
    let queued = ok(wallet(d, &info, "bob.json", &["--l1-key", &bob_l1_key, "deposit", "--amount", "1"]));
    let bob_queue_index = queued["queueIndex"].as_u64().expect("deposit prints its queue index");
    let waiting = ok(wallet(d, &info, "alice.json", &["status"]));
    assert_eq!(waiting["exodus"]["active"], false, "{waiting}");
    assert_eq!(waiting["exodus"]["oldestPending"]["queueIndex"].as_u64(), Some(forced_queue_index), "{waiting}");
    assert_eq!(bob_queue_index, forced_queue_index + 1, "bob's deposit is queued behind the censored request");
    let early = stderr_of(&wallet_l1_only(d, &info, "alice.json", &alice_l1, &["exodus"]));
    assert!(early.contains("not expired"), "{early}");
    // Past the deadline, still inside carol's batch's challenge window.
    pass_time(DEADLINE_SECS + 1);
    let activated = eventually("exodus activated after the deadline", Duration::from_secs(60), || {
        let out = wallet_l1_only(d, &info, "alice.json", &alice_l1, &["exodus"]);
        out.status.success().then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap())
    });
    assert!(rt.block_on(l1.last_finalized_batch()).unwrap() < carol_batch, "carol's batch {carol_batch} was dropped, not final");
    assert_eq!(activated["refundableFrom"].as_u64(), Some(carol_queue_index), "{activated}");
    let shown = ok(wallet(d, &info, "alice.json", &["status"]));
    assert_eq!(shown["exodus"]["active"], true, "{shown}");
    let again = stderr_of(&wallet_l1_only(d, &info, "alice.json", &alice_l1, &["exodus"]));
    assert!(again.contains("already active"), "{again}");
    eventually("the node stopped its L1 duties", Duration::from_secs(30), || {
        std::fs::read_to_string(data.join("node.log")).ok().filter(|log| log.contains("exodus is active on L1")).map(drop)
    });

    // 3. Alice exits from L1 alone, once; bob and carol have nothing under the final root.
    // The node is stopped (SIGSTOP: the devnet supervisor would tear anvil down with an
    // exited node) until the end of the test.
    let _stopped = StoppedProcess::stop(info["pids"]["node"].as_u64().expect("node pid"));
    let recipient: Address = "0x1717171717171717171717171717171717171717".parse().unwrap();
    let before = rt.block_on(l1.balance_of(recipient, None)).unwrap();
    let exit_args = [
        "exit",
        "--to",
        "0x1717171717171717171717171717171717171717",
        "--chain-id",
        &chain_id,
        "--tree-depth",
        "4",
        "--genesis-fee-pubkey",
        info["feeCollector"]["publicKey"].as_str().unwrap(),
        "--deploy-block",
        &deploy_block,
    ];
    let exited = ok(wallet_l1_only(d, &info, "alice.json", &alice_l1, &exit_args));
    let eth = |n: u128| U256::from(n * 10u128.pow(18));
    assert_eq!(exited["amount"].as_str(), Some(eth(5).to_string().as_str()), "{exited}");
    let after = rt.block_on(l1.balance_of(recipient, None)).unwrap();
    assert_eq!(after - before, eth(5), "the recipient got exactly alice's L2 balance");
    let shown = cast_balance(info["l1Rpc"].as_str().unwrap(), "0x1717171717171717171717171717171717171717");
    assert_eq!(U256::from(shown), after, "cast shows the same balance");
    assert_eq!(before, U256::ZERO, "the recipient held nothing before, so cast shows exactly the 5 ETH");
    let twice = stderr_of(&wallet_l1_only(d, &info, "alice.json", &alice_l1, &exit_args));
    assert!(twice.contains("already exited"), "{twice}");
    for (file, key) in [("bob.json", &bob_l1_key), ("carol.json", &carol_l1_key)] {
        let nothing = stderr_of(&wallet_l1_only(d, &info, file, key, &exit_args));
        assert!(nothing.contains("owns no account"), "{file}: {nothing}");
    }

    // 4. Carol's and bob's deposits go back to the accounts that made them, once.
    let balances = || rt.block_on(async { (l1.balance_of(carol_l1, None).await.unwrap(), l1.balance_of(bob_l1, None).await.unwrap()) });
    let (carol_before, bob_before) = balances();
    let refunds = ok(wallet_l1_only(d, &info, "alice.json", &alice_l1, &["refunds", "--inbox", &inbox]));
    let refunded: Vec<(u64, String)> = refunds["refunded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["queueIndex"].as_u64().unwrap(), r["depositor"].as_str().unwrap().to_lowercase()))
        .collect();
    let expected = vec![(carol_queue_index, carol_l1.to_string().to_lowercase()), (bob_queue_index, bob_l1.to_string().to_lowercase())];
    assert_eq!(refunded, expected, "{refunds}");
    let (carol_after, bob_after) = balances();
    assert_eq!((carol_after - carol_before, bob_after - bob_before), (eth(2), eth(1)), "refunds are exact (alice paid the gas)");
    let fees = &refunds["forcedFees"];
    let credited: Vec<u64> = fees["credited"].as_array().unwrap().iter().map(|c| c["queueIndex"].as_u64().unwrap()).collect();
    assert_eq!(credited, vec![forced_queue_index], "{refunds}");
    assert_eq!(fees["paid"].as_str(), Some("1000000000000000"), "alice gets her 0.001 ETH request fee back: {refunds}");
    let none_left = ok(wallet_l1_only(d, &info, "alice.json", &alice_l1, &["refunds", "--inbox", &inbox]));
    assert_eq!(none_left["refunded"].as_array().map(Vec::len), Some(0), "{none_left}");
    assert_eq!(none_left["forcedFees"]["credited"].as_array().map(Vec::len), Some(0), "{none_left}");
    assert_eq!(none_left["forcedFees"]["paid"].as_str(), Some("0"), "{none_left}");
}
