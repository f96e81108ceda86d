//! Exodus end to end on anvil (SPEC §16): a devnet whose sequencer censors every deposit to
//! bob's key (`--test-censor-deposits-to`, TEST ONLY), with a 20 s priority deadline.
//!
//! 1. Alice's 5 ETH deposit is included and its batch becomes final.
//! 2. Bob's 1 ETH deposit is censored; `tandem wallet exodus` is refused before its deadline
//!    and accepted after it; the node stops its L1 duties.
//! 3. Alice exits her whole balance with `tandem wallet exit`, from L1 alone (the L2 RPC URL it
//!    is given is dead): the recipient's L1 balance grows by exactly 5 ETH; a second exit is
//!    refused.
//! 4. `tandem wallet refunds` pays bob's deposit back to the L1 account that made it, once.

mod devnet_process;

use devnet_process::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use tandem_l1::{Address, RollupClient, U256};

const DEADLINE_SECS: &str = "20";

/// `tandem wallet --json` with only L1 flags: `--rpc` names a port nothing listens on.
fn wallet_l1_only(dir: &Path, info: &Value, file: &str, l1_key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(dir)
        .env_remove("TANDEM_L1_KEY")
        .env_remove("TANDEM_ROLLUP")
        .args([
            "wallet",
            "--json",
            "--wallet",
            file,
            "--rpc",
            "http://127.0.0.1:9",
        ])
        .args([
            "--l1-rpc",
            info["l1Rpc"].as_str().unwrap(),
            "--rollup",
            info["rollup"].as_str().unwrap(),
            "--l1-key",
            l1_key,
        ])
        .args(args)
        .output()
        .unwrap()
}

fn stderr_of(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a refusal, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_censored_user_triggers_exodus_exits_from_l1_and_deposits_are_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Bob's key exists before the devnet so that the sequencer can be told to censor it.
    let bob = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(d)
        .args(["wallet", "--json", "--wallet", "bob.json", "new"])
        .output()
        .unwrap();
    let bob_key = ok(bob)["publicKey"]
        .as_str()
        .expect("packed key")
        .to_string();

    let data = d.join("devnet");
    let args = [
        "--tree-depth",
        "4",
        "--zk-slots",
        "0",
        "--challenge-window",
        "4",
        "--block-time-ms",
        "500",
        "--priority-deadline",
        DEADLINE_SECS,
        "--test-censor-deposits-to",
        &bob_key,
    ];
    let mut devnet = start_devnet(&data, &args);
    let info = devnet_info(&mut devnet, &data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rollup: Address = info["rollup"].as_str().unwrap().parse().unwrap();
    let l1 = RollupClient::new(info["l1Rpc"].as_str().unwrap(), rollup, None).unwrap();

    // 1. Alice's deposit is included, and final.
    let alice_l1 = info["devAccounts"][0]["privateKey"]
        .as_str()
        .unwrap()
        .to_string();
    ok(wallet(d, &info, "alice.json", &["new"]));
    ok(wallet(
        d,
        &info,
        "alice.json",
        &["--l1-key", &alice_l1, "deposit", "--amount", "5", "--wait"],
    ));
    let committed = eventually(
        "alice's deposit committed on L1",
        Duration::from_secs(60),
        || {
            rt.block_on(async {
                (l1.oldest_pending_priority_op().await.unwrap().is_none())
                    .then_some(l1.last_committed_batch().await.unwrap())
            })
        },
    );
    eventually("alice's batch final", Duration::from_secs(60), || {
        (rt.block_on(l1.last_finalized_batch()).unwrap() >= committed).then_some(())
    });

    // 2. Bob's deposit is censored; exodus only after its deadline.
    let bob_l1_key = info["devAccounts"][1]["privateKey"]
        .as_str()
        .unwrap()
        .to_string();
    let bob_l1: Address = info["devAccounts"][1]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let queued = ok(wallet(
        d,
        &info,
        "bob.json",
        &["--l1-key", &bob_l1_key, "deposit", "--amount", "1"],
    ));
    let bob_queue_index = queued["queueIndex"]
        .as_u64()
        .expect("deposit prints its queue index");
    let early = stderr_of(&wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &["exodus"],
    ));
    assert!(early.contains("not expired"), "{early}");
    let activated = eventually(
        "exodus activated after the deadline",
        Duration::from_secs(90),
        || {
            let out = wallet_l1_only(d, &info, "alice.json", &alice_l1, &["exodus"]);
            out.status
                .success()
                .then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap())
        },
    );
    assert_eq!(
        activated["refundableFrom"].as_u64(),
        Some(bob_queue_index),
        "bob's deposit was never consumed: {activated}"
    );
    let again = stderr_of(&wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &["exodus"],
    ));
    assert!(again.contains("already active"), "{again}");
    eventually(
        "the node stopped its L1 duties",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(data.join("node.log"))
                .ok()
                .filter(|log| log.contains("exodus is active on L1"))
                .map(drop)
        },
    );

    // 3. Alice exits from L1 alone, once.
    let recipient: Address = "0x1717171717171717171717171717171717171717"
        .parse()
        .unwrap();
    let before = rt.block_on(l1.balance_of(recipient, None)).unwrap();
    let chain = [
        "--chain-id",
        &info["chainId"].to_string(),
        "--tree-depth",
        "4",
        "--genesis-fee-pubkey",
        info["feeCollector"]["publicKey"].as_str().unwrap(),
        "--deploy-block",
        &info["deployBlock"].to_string(),
    ];
    let mut exit_args = vec!["exit", "--to", "0x1717171717171717171717171717171717171717"];
    exit_args.extend(chain);
    let exited = ok(wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &exit_args,
    ));
    let five_eth = U256::from(5u128 * 10u128.pow(18));
    assert_eq!(
        exited["amount"].as_str(),
        Some(five_eth.to_string().as_str()),
        "{exited}"
    );
    let after = rt.block_on(l1.balance_of(recipient, None)).unwrap();
    assert_eq!(
        after - before,
        five_eth,
        "the recipient got exactly alice's L2 balance"
    );
    let twice = stderr_of(&wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &exit_args,
    ));
    assert!(twice.contains("already exited"), "{twice}");
    // Bob owns no account in the final state: nothing to exit.
    let nothing = stderr_of(&wallet_l1_only(
        d,
        &info,
        "bob.json",
        &bob_l1_key,
        &exit_args,
    ));
    assert!(nothing.contains("owns no account"), "{nothing}");

    // 4. Bob's censored deposit goes back to the account that made it, once.
    let bob_before = rt.block_on(l1.balance_of(bob_l1, None)).unwrap();
    let refunds = ok(wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &["refunds"],
    ));
    let refunded = refunds["refunded"].as_array().unwrap();
    assert_eq!(refunded.len(), 1, "{refunds}");
    assert_eq!(refunded[0]["queueIndex"].as_u64(), Some(bob_queue_index));
    assert_eq!(
        refunded[0]["depositor"].as_str().unwrap().to_lowercase(),
        bob_l1.to_string().to_lowercase()
    );
    let bob_after = rt.block_on(l1.balance_of(bob_l1, None)).unwrap();
    assert_eq!(
        bob_after - bob_before,
        U256::from(10u128.pow(18)),
        "bob got his 1 ETH back (alice paid the gas)"
    );
    let none_left = ok(wallet_l1_only(
        d,
        &info,
        "alice.json",
        &alice_l1,
        &["refunds"],
    ));
    assert_eq!(
        none_left["refunded"].as_array().map(Vec::len),
        Some(0),
        "{none_left}"
    );
}
