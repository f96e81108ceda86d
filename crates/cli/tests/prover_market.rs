//! The prover market end to end on anvil, with real Groth16 proofs: `tandem devnet --provers 3`
//! (threads 2, 1, 1 on two cores), fast withdrawals whose ZK batches escrow their fees as proof
//! jobs, and the miners competing for them.
//!
//! 1. Every job is proven and settled; no job is proven by anyone but its locker and no
//!    proof is wasted; each prover's earnings read with `cast` equal the prices and shares in
//!    the market's events. (Which prover is fastest is measured in the release benchmark
//!    below: in a debug build witness generation, not the threaded FFTs and MSMs, dominates a
//!    small circuit's proof, so the thread counts barely change the speeds.)
//! 2. A prover killed while it holds a lock: the lock expires (anvil's clock moved past it),
//!    its collateral is slashed (half burned), another prover proves the job and receives the
//!    other half.
//!
//! `TANDEM_MARKET_JOBS` (default 6) sets how many jobs; `market_fifty_jobs_locks_against_a_race`
//! (ignored: run it for BENCHMARKS.md) prints proofs/hour and wasted work for 50 jobs with
//! locks and 50 in a pure race.

mod devnet_process;

use devnet_process::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tandem_l1::{Address, JobStatus, MarketClient, RollupClient, U256};

fn jobs_from_env() -> usize {
    std::env::var("TANDEM_MARKET_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(6)
}

/// `cast call MARKET "earned(address)(uint256)" WHO`: the earnings as any user reads them.
fn cast_earned(l1_rpc: &str, market: &str, who: &str) -> U256 {
    let cast = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/cast");
    let out = Command::new(cast)
        .args(["call", market, "earned(address)(uint256)", who, "--rpc-url", l1_rpc])
        .output()
        .expect("cast (npm @foundry-rs/cast; ./scripts/test.sh installs it)");
    assert!(out.status.success(), "cast: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// A miner's tally through `tandem prover status --json`.
fn prover_status(url: &str) -> Value {
    ok(Command::new(env!("CARGO_BIN_EXE_tandem")).args(["prover", "status", "--json", "--url", url]).output().unwrap())
}

/// Sends `n` fast withdrawals (one ZK-lane batch each); returns their batch numbers.
fn fast_withdrawals(d: &Path, info: &Value, n: usize) -> Vec<u64> {
    let to = info["devAccounts"][0]["address"].as_str().unwrap();
    (0..n)
        .map(|_| {
            let w = ok(wallet(d, info, "alice.json", &["withdraw", "--to", to, "--amount", "0.01", "--fast", "--wait"]));
            assert_eq!(w["status"], "included");
            w["transaction"]["batch"].as_u64().unwrap()
        })
        .collect()
}

struct Market {
    rt: tokio::runtime::Runtime,
    market: MarketClient,
    rollup: RollupClient,
    l1_rpc: String,
    address: String,
}

impl Market {
    fn new(info: &Value) -> Self {
        let l1_rpc = info["l1Rpc"].as_str().unwrap().to_string();
        let address = info["zkLane"]["market"].as_str().expect("the devnet deploys a market").to_string();
        let rollup = RollupClient::new(&l1_rpc, info["rollup"].as_str().unwrap().parse().unwrap(), None).unwrap();
        let market = MarketClient::new(&l1_rpc, address.parse().unwrap(), None).unwrap();
        Self { rt: tokio::runtime::Runtime::new().unwrap(), market, rollup, l1_rpc, address }
    }

    /// Waits until every batch in `batches` has a fulfilled job and a proof on L1.
    fn wait_all_settled(&self, batches: &[u64], timeout: Duration) {
        eventually("every job fulfilled", timeout, || {
            self.rt.block_on(async {
                for &b in batches {
                    let job = self.market.job(b).await.unwrap()?;
                    if job.status != JobStatus::Fulfilled || !self.rollup.is_proven(b).await.unwrap() {
                        return None;
                    }
                }
                Some(())
            })
        });
    }
}

/// Runs the market phase: `jobs` fast withdrawals with 3 provers; checks what the module doc
/// says (with `fastest_wins`, also that prover 0, the one with the most threads, wins at
/// least as many jobs as any other); returns each prover's status.
fn market_phase(d: &Path, info: &Value, market: &Market, jobs: usize, race: bool, fastest_wins: bool) -> Vec<Value> {
    let batches = fast_withdrawals(d, info, jobs);
    market.wait_all_settled(&batches, Duration::from_secs(120 + 20 * jobs as u64));
    let provers: Vec<Value> = info["zkLane"]["provers"].as_array().unwrap().clone();
    let addresses: Vec<Address> = provers.iter().map(|p| p["address"].as_str().unwrap().parse().unwrap()).collect();

    let (fulfilled, locks) =
        market.rt.block_on(async { (market.market.fulfillments(0).await.unwrap(), market.market.locks(0).await.unwrap()) });
    let mut wins: BTreeMap<Address, u64> = BTreeMap::new();
    let mut paid: BTreeMap<Address, U256> = BTreeMap::new();
    for &b in &batches {
        let f: Vec<_> = fulfilled.iter().filter(|f| f.batch == b).collect();
        assert_eq!(f.len(), 1, "batch {b} settled once: {f:?}");
        let f = f[0];
        assert!(addresses.contains(&f.prover), "batch {b} paid to a devnet prover");
        if !race {
            let lock = locks.iter().find(|l| l.batch == b).unwrap_or_else(|| panic!("batch {b} was locked before its proof"));
            assert_eq!(lock.prover, f.prover, "batch {b}: proven by its locker");
            assert_eq!(lock.price, f.price, "batch {b}: paid the price fixed by the lock");
        }
        *wins.entry(f.prover).or_default() += 1;
    }
    for f in &fulfilled {
        *paid.entry(f.prover).or_default() += f.price + f.collateral_reward;
    }
    let mut statuses = Vec::new();
    for (i, p) in provers.iter().enumerate() {
        let a = p["address"].as_str().unwrap();
        let earned = cast_earned(&market.l1_rpc, &market.address, a);
        let events = paid.get(&addresses[i]).copied().unwrap_or_default();
        assert_eq!(earned, events, "prover {i}: earnings on L1 equal the market's events");
        // The status re-reads earnings every idle round, so it catches up within a poll.
        let s = eventually(&format!("prover {i}: its status shows the L1 earnings {earned}"), Duration::from_secs(30), || {
            let s = prover_status(p["status"].as_str().unwrap());
            (s["earnedWei"].as_str() == Some(earned.to_string().as_str())).then_some(s)
        });
        println!(
            "prover {i} ({} threads): {:.2} s/proof measured, {} wins, {} proofs computed, {} wasted, {} locks lost, earned {} wei",
            p["threads"],
            s["secondsPerProof"].as_f64().unwrap(),
            wins.get(&addresses[i]).copied().unwrap_or(0),
            s["proofsComputed"],
            s["wasted"],
            s["locksLost"],
            earned
        );
        statuses.push(s);
    }
    let wins: Vec<u64> = addresses.iter().map(|a| wins.get(a).copied().unwrap_or(0)).collect();
    assert_eq!(wins.iter().sum::<u64>(), jobs as u64);
    if fastest_wins {
        assert!(wins[1..].iter().all(|w| wins[0] >= *w), "the fastest prover (0) wins the most: {wins:?}");
    }
    if !race {
        let wasted: u64 = statuses.iter().map(|s| s["wasted"].as_u64().unwrap()).sum();
        assert_eq!(wasted, 0, "with locks no proof is wasted: {statuses:?}");
    }
    statuses
}

/// The devnet market's longest lock: ample for an honest proof (a few seconds here), and
/// passed on anvil's clock, not waited for, once the staller holds its lock.
const LOCK_TIMEOUT_SECS: u64 = 45;

fn start_market_devnet(data: &Path, race: bool, depth: &str) -> (DevnetGuard, Value) {
    let mut args = vec!["--provers", "3", "--challenge-window", "600", "--block-time-ms", "200", "--tree-depth", depth, "--zk-slots", "2"];
    let lock_timeout = LOCK_TIMEOUT_SECS.to_string();
    args.extend(["--market-lock-timeout", &lock_timeout]);
    if race {
        args.push("--provers-race");
    }
    let mut devnet = start_devnet(data, &args);
    let info = devnet_info(&mut devnet, data);
    (devnet, info)
}

fn fund_alice(d: &Path, info: &Value) {
    let key = info["devAccounts"][0]["privateKey"].as_str().unwrap().to_string();
    ok(wallet(d, info, "alice.json", &["new"]));
    ok(wallet(d, info, "alice.json", &["--l1-key", &key, "deposit", "--amount", "5", "--wait"]));
}

#[test]
fn provers_compete_for_jobs_and_a_killed_lock_holder_is_slashed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("devnet");
    let (_devnet, info) = start_market_devnet(&data, false, "4");
    fund_alice(d, &info);
    let market = Market::new(&info);
    market_phase(d, &info, &market, jobs_from_env(), false, false);

    // A fourth prover that locks at the floor (it prices its time at zero) and then holds the
    // lock without proving (TEST ONLY flag) until we kill it.
    let zk = &info["zkLane"];
    let staller_key = tandem_cli::devnet::ANVIL_KEYS[9];
    let staller: Address = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720".parse().unwrap();
    let status_port = free_port();
    let log = std::fs::File::create(d.join("staller.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["prover", "--keys", zk["keys"].as_str().unwrap()])
        .args(["--l2-rpc", info["l2Rpc"].as_str().unwrap(), "--l1-rpc", info["l1Rpc"].as_str().unwrap()])
        .args(["--rollup", info["rollup"].as_str().unwrap(), "--prover-key", staller_key])
        .args(["--chain-id", &info["chainId"].to_string(), "--tree-depth", &info["treeDepth"].to_string()])
        .args(["--genesis-fee-pubkey", info["feeCollector"]["publicKey"].as_str().unwrap()])
        .args(["--wei-per-second", "0", "--test-stall-after-lock", "--status-addr", &format!("127.0.0.1:{status_port}")])
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let staller_url = format!("http://127.0.0.1:{status_port}");
    eventually("the staller measured its speed", Duration::from_secs(120), || {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["prover", "status", "--url", &staller_url])
            .output()
            .ok()
            .filter(|o| o.status.success())
    });
    let batch = fast_withdrawals(d, &info, 1)[0];
    let lock = eventually("the staller's lock", Duration::from_secs(60), || {
        market.rt.block_on(market.market.locks(0)).unwrap().into_iter().find(|l| l.batch == batch && l.prover == staller)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let burned_before = market.rt.block_on(market.market.total_burned()).unwrap();
    // The lock runs out on L1's clock: move it on past the lock's deadline.
    market.rt.block_on(tandem_devnet::advance_time_by(&market.l1_rpc, LOCK_TIMEOUT_SECS + 1)).unwrap();

    market.wait_all_settled(&[batch], Duration::from_secs(120));
    let (fulfilled, slashes) =
        market.rt.block_on(async { (market.market.fulfillments(0).await.unwrap(), market.market.slashes(0).await.unwrap()) });
    let f = fulfilled.iter().find(|f| f.batch == batch).unwrap();
    assert_ne!(f.prover, staller);
    let slash = slashes.iter().find(|s| s.batch == batch).expect("the expired lock was slashed");
    assert_eq!((slash.prover, slash.collateral), (staller, lock.collateral));
    let burned = lock.collateral * U256::from(5_000u64) / U256::from(10_000u64);
    assert_eq!(f.collateral_reward, lock.collateral - burned, "the next prover gets the unburned half");
    assert_eq!(market.rt.block_on(market.market.total_burned()).unwrap() - burned_before, burned);
    assert_eq!(cast_earned(&market.l1_rpc, &market.address, &staller.to_string()), U256::ZERO);
    let winner_paid: U256 = fulfilled.iter().filter(|x| x.prover == f.prover).map(|x| x.price + x.collateral_reward).sum();
    assert_eq!(cast_earned(&market.l1_rpc, &market.address, &f.prover.to_string()), winner_paid);
    println!(
        "killed lock holder: collateral {} wei, burned {burned}, paid to {} with the job's price {}",
        lock.collateral, f.prover, f.price
    );
}

/// For BENCHMARKS.md: 50 jobs with locks, then 50 in a pure race, on fresh devnets of the
/// default shape (S = 2, D = 24), where the FFTs and MSMs dominate a proof.
#[test]
#[ignore = "benchmark (minutes): cargo test --release -p tandem --test prover_market -- --ignored --nocapture"]
fn market_fifty_jobs_locks_against_a_race() {
    for race in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (_devnet, info) = start_market_devnet(&d.join("devnet"), race, "24");
        fund_alice(d, &info);
        let market = Market::new(&info);
        let started = std::time::Instant::now();
        let statuses = market_phase(d, &info, &market, 50, race, true);
        let computed: u64 = statuses.iter().map(|s| s["proofsComputed"].as_u64().unwrap()).sum();
        let wasted: u64 = statuses.iter().map(|s| s["wasted"].as_u64().unwrap()).sum();
        println!(
            "{}: 50 jobs in {:.0} s, {computed} proofs computed, {wasted} wasted ({:.1}% of proving work)",
            if race { "pure race" } else { "with locks" },
            started.elapsed().as_secs_f64(),
            100.0 * wasted as f64 / computed.max(1) as f64
        );
        for (i, s) in statuses.iter().enumerate() {
            println!("  prover {i}: {:.1} proofs/hour", s["proofsPerHour"].as_f64().unwrap());
        }
    }
}
