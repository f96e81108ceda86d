//! `tandem devnet` end to end through the binary: start it on free ports, run the wallet
//! flow from its printed dev keys (deposit, transfer, withdraw, claim), then SIGTERM it and
//! expect exit 0 with no child left; the same with `--sequencers 4` (a staked set), whose
//! output must name each block's proposer and each batch's poster, and whose dashboard is
//! driven in headless Chromium (`tests/browser/dashboard.mjs`): the members and their stakes,
//! a wallet transfer, its batch turning final, clear messages for bad input, no console error.

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod devnet_process;
use devnet_process::*;

#[test]
fn devnet_runs_the_wallet_flow_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    // A small tree keeps the validity lane's (insecure, local) setup and proofs quick.
    let mut devnet = start_devnet(&data, &["--challenge-window", "2", "--block-time-ms", "200", "--tree-depth", "4", "--zk-slots", "2"]);
    let info = devnet_info(&mut devnet, &data);
    let key = info["devAccounts"][0]["privateKey"].as_str().unwrap().to_string();
    let l1_address = info["devAccounts"][0]["address"].as_str().unwrap().to_string();
    let d = dir.path();

    ok(wallet(d, &info, "alice.json", &["new"]));
    let bob = ok(wallet(d, &info, "bob.json", &["new"]))["publicKey"].as_str().unwrap().to_string();
    ok(wallet(d, &info, "alice.json", &["--l1-key", &key, "deposit", "--amount", "3"]));
    ok(wallet(d, &info, "alice.json", &["--l1-key", &key, "deposit", "--amount", "50", "--token", "dev", "--wait"]));
    eventually("the deposits on L2", Duration::from_secs(60), || {
        let b = ok(wallet(d, &info, "alice.json", &["balance"]));
        (b["balances"]["1"] == "50000000000000000000").then_some(b)
    });

    let t = ok(wallet(d, &info, "alice.json", &["transfer", "--to", &bob, "--amount", "1.25", "--fee", "0.01", "--wait"]));
    assert_eq!(t["status"], "included");
    // The single sequencer's dashboard in the browser: the transfer, its batch final.
    let block = t["transaction"]["block"].as_u64().unwrap();
    let market = info["zkLane"]["market"].as_str().expect("the single-sequencer devnet deploys a prover market");
    let browser = browser_check(info["dashboard"].as_str().unwrap(), t["hash"].as_str().unwrap(), block, "", market, None);
    assert!(browser.contains("single sequencer shown") && browser.contains("all dashboard checks passed"), "{browser}");
    assert!(browser.contains(&format!("prover market {market} shown")), "{browser}");
    let t = ok(wallet(d, &info, "alice.json", &["transfer", "--to", &bob, "--amount", "5", "--token", "dev", "--wait"]));
    assert_eq!(t["status"], "included");
    let b = ok(wallet(d, &info, "bob.json", &["balance"]));
    assert_eq!(b["balances"]["0"], "1250000000000000000");
    assert_eq!(b["balances"]["1"], "5000000000000000000");

    let w = ok(wallet(d, &info, "alice.json", &["withdraw", "--to", &l1_address, "--amount", "0.5", "--wait"]));
    assert_eq!(w["status"], "included");
    let hash = w["hash"].as_str().unwrap().to_string();
    let a = ok(wallet(d, &info, "alice.json", &["balance"]));
    assert_eq!(a["balances"]["0"], "1240000000000000000"); // 3 - 1.25 - 0.01 - 0.5
    assert_eq!(a["nonce"], 3);

    let status = eventually("a claimable withdrawal", Duration::from_secs(60), || {
        let s = ok(wallet(d, &info, "alice.json", &["status", &hash]));
        (s["withdrawal"]["claimable"] == true).then_some(s)
    });
    let batch = status["withdrawal"]["batch"].as_u64().unwrap().to_string();
    let index = status["withdrawal"]["index"].as_u64().unwrap().to_string();
    let c = ok(wallet(d, &info, "alice.json", &["--l1-key", &key, "claim", "--batch", &batch, "--index", &index]));
    assert_eq!(c["amount"], "500000000000000000");
    let again = wallet(d, &info, "alice.json", &["--l1-key", &key, "claim", "--batch", &batch, "--index", &index]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already claimed"));

    // The restore command the devnet prints rebuilds the state from L1 alone.
    let restore = info["examples"].as_array().unwrap().iter().filter_map(|e| e.as_str()).find(|e| e.contains(" restore ")).unwrap();
    let out = std::process::Command::new("sh").arg("-c").arg(restore).current_dir(d).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{restore}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("every batch checked") && text.contains("account #1"), "{text}");

    // A fast withdrawal goes into a ZK-lane batch, final on L1 through the prover's proof.
    let f = ok(wallet(d, &info, "alice.json", &["withdraw", "--to", &l1_address, "--amount", "0.1", "--fast", "--wait"]));
    assert_eq!(f["status"], "included");
    let fast_hash = f["hash"].as_str().unwrap().to_string();
    let s = eventually("the fast withdrawal final by proof", Duration::from_secs(180), || {
        let s = ok(wallet(d, &info, "alice.json", &["status", &fast_hash]));
        (s["withdrawal"]["claimable"] == true).then_some(s)
    });
    assert_eq!(s["batch"]["lane"], "zk");

    // The sequencer's bond, as an operator reads and manages it (`tandem bond`).
    let game = info["disputeGame"]["address"].as_str().expect("the single-sequencer devnet deploys a dispute game");
    let seq_key = info["sequencer"]["privateKey"].as_str().unwrap();
    let b = ok(bond(&info, game, &["status"]));
    assert_eq!(b["sequencer"], info["sequencer"]["address"], "defaults to the rollup's sequencer");
    assert_eq!(
        (b["isRollupSequencer"].as_bool(), b["held"].as_str(), b["unlockAt"].as_u64()),
        (Some(true), Some("10000000000000000000"), Some(0))
    );
    assert_eq!(b["required"], info["disputeGame"]["sequencerBond"]);
    let refused = bond(&info, game, &["--l1-key", seq_key, "withdraw"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SequencerBondNotLeaving"), "{refused:?}");
    let refused = bond(&info, game, &["post", "--amount", "1"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --l1-key"), "{refused:?}");
    let refused = bond(&info, game, &["--l1-key", &key, "post", "--amount", "0"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("more than 0 ETH"), "{refused:?}");
    let posted = ok(bond(&info, game, &["--l1-key", &key, "post", "--amount", "2.5"]));
    // ... and as the devnet prints it.
    let printed = info["examples"].as_array().unwrap().iter().filter_map(|e| e.as_str()).find(|e| e.contains(" bond ")).unwrap();
    let out = Command::new("sh").arg("-c").arg(printed).current_dir(d).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("(the rollup's sequencer): holds 10 ETH: may commit"),
        "{printed}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(posted["held"], "2500000000000000000", "anyone may post, for itself");

    // SIGTERM: children stopped, exit 0
    let pids = info["pids"].clone();
    unsafe { libc::kill(devnet.0.id() as i32, libc::SIGTERM) };
    let status = devnet.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let provers = pids["provers"].as_array().unwrap();
    assert_eq!(provers.len(), 2, "the devnet runs two provers by default");
    let named = ["node", "anvil"].iter().map(|name| (name.to_string(), pids[*name].clone()));
    let provers = provers.iter().enumerate().map(|(i, pid)| (format!("prover {i}"), pid.clone()));
    for (name, pid) in named.chain(provers) {
        let pid = pid.as_i64().unwrap() as i32;
        // signal 0: does the process still exist? (it was reaped by the devnet)
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "{name} still running");
    }
}

/// `tandem bond --json --game GAME` against the devnet's L1.
fn bond(info: &Value, game: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .env_remove("TANDEM_L1_KEY")
        .args(["bond", "--json", "--game", game, "--l1-rpc", info["l1Rpc"].as_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

/// Runs `tests/browser/dashboard.mjs` (npm playwright-core driving Debian's Chromium) against
/// the dashboard at `url`; panics with its output unless every check passed. Returns its stdout.
fn browser_check(url: &str, tx_hash: &str, tx_block: u64, stakes: &str, market: &str, screenshots: Option<&Path>) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg("tests/browser/dashboard.mjs")
        .env("DASHBOARD_URL", url)
        .env("TX_HASH", tx_hash)
        .env("TX_BLOCK", tx_block.to_string())
        .env("EXPECT_STAKES", stakes)
        .env("EXPECT_MARKET", market)
        .env("FINAL_TIMEOUT_MS", "60000");
    if let Some(dir) = screenshots {
        cmd.env("SCREENSHOT_DIR", dir);
    }
    let out = cmd.output().expect("running node (Node.js >= 20; ./scripts/test.sh installs the npm packages and Chromium)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "the dashboard failed in the browser:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Prints the end of the devnet's output when the test fails.
struct DumpOnFailure(Vec<std::path::PathBuf>);

impl Drop for DumpOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for path in &self.0 {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                eprintln!("----- {} (last 40 lines) -----\n{}", path.display(), lines[lines.len().saturating_sub(40)..].join("\n"));
            }
        }
    }
}

#[test]
fn staked_devnet_of_four_names_proposers_and_posters_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let out_path = dir.path().join("devnet.out");
    let err_path = dir.path().join("devnet.err");
    let _dump = DumpOnFailure(vec![err_path.clone(), out_path.clone(), data.join("member0.log")]);
    let mut devnet = DevnetGuard(
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["devnet", "--sequencers", "4", "--data-dir"])
            .arg(&data)
            .args(["--l1-port", &free_port().to_string()])
            .args(["--rpc-port", &free_ports(4).to_string()])
            .args(["--metrics-port", &free_ports(4).to_string()])
            .args(["--dashboard-port", &free_ports(4).to_string()])
            .args(["--p2p-port", &free_ports(4).to_string()])
            .args(["--challenge-window", "2", "--block-time-ms", "500", "--tree-depth", "8", "--epoch-length", "600"])
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let info = devnet_info(&mut devnet, &data);
    assert_eq!(info["mode"], "sequencerSet");
    let stakes: Vec<&str> = info["members"].as_array().unwrap().iter().map(|m| m["stake"].as_str().unwrap()).collect();
    assert_eq!(stakes, ["400000000000000000000", "300000000000000000000", "200000000000000000000", "100000000000000000000"]);
    assert_eq!(info["l2Rpc"], info["members"][0]["rpc"]);
    assert!(info["zkLane"].is_null());

    let key = info["devAccounts"][0]["privateKey"].as_str().unwrap().to_string();
    let d = dir.path();
    ok(wallet(d, &info, "alice.json", &["new"]));
    let bob = ok(wallet(d, &info, "bob.json", &["new"]))["publicKey"].as_str().unwrap().to_string();
    ok(wallet(d, &info, "alice.json", &["--l1-key", &key, "deposit", "--amount", "3", "--wait"]));
    let t = ok(wallet(d, &info, "alice.json", &["transfer", "--to", &bob, "--amount", "1.25", "--wait"]));
    assert_eq!(t["status"], "included");
    let hash = t["hash"].as_str().unwrap().to_string();
    let block = t["transaction"]["block"].as_u64().unwrap();
    eventually("the transfer's batch committed on L1", Duration::from_secs(60), || {
        let s = ok(wallet(d, &info, "alice.json", &["status", &hash]));
        (s["batch"]["status"] == "posted" || s["batch"]["status"] == "final").then_some(s)
    });
    let out = eventually("the devnet naming the proposer and the poster", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        let proposed =
            text.lines().any(|l| l.starts_with(&format!("[L2] block {block}: 1 transaction")) && l.contains("proposed by member"));
        let posted =
            text.lines().any(|l| l.starts_with(&format!("[L1] batch {block} committed by member")) && l.contains("signed by members"));
        (proposed && posted).then_some(Value::String(text))
    });
    assert!(out.as_str().unwrap().contains("Tandem devnet is running: a staked sequencer set of 4 members"));
    assert_eq!(info["dashboard"], info["members"][0]["dashboard"]);

    // The dashboard in a real browser: the set, the transfer, its batch final, bad input.
    let shots = std::env::var_os("TANDEM_DASHBOARD_SCREENSHOTS").map(std::path::PathBuf::from);
    let browser = browser_check(info["dashboard"].as_str().unwrap(), &hash, block, "400,300,200,100", "", shots.as_deref());
    assert!(browser.contains("no prover market shown"), "{browser}");
    for line in ["members and stakes shown: 400, 300, 200, 100", &format!("batch {block} final on the page"), "all dashboard checks passed"]
    {
        assert!(browser.contains(line), "the browser check did not report {line:?}:\n{browser}");
    }

    // SIGTERM: every member and anvil stopped, exit 0.
    let pids = info["pids"].clone();
    unsafe { libc::kill(devnet.0.id() as i32, libc::SIGTERM) };
    let status = devnet.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut children: Vec<i64> = pids["members"].as_array().unwrap().iter().map(|p| p.as_i64().unwrap()).collect();
    children.push(pids["anvil"].as_i64().unwrap());
    for pid in children {
        assert_ne!(unsafe { libc::kill(pid as i32, 0) }, 0, "child {pid} still running");
    }
}
