//! Load test of the staked sequencer set: four `tandem node` member processes (stakes
//! 4/3/2/1) on anvil, transfers submitted at a steady offered rate spread over the members,
//! soft-confirmation latency per transaction and sustained throughput.
//!
//! ```text
//! cargo build --release -p tandem
//! cargo run --release -p tandem --example set_load -- \
//!     [--rates 100,200,400] [--duration-s 30] [--warm-s 5] [--accounts 512] \
//!     [--max-block-ops 512] [--block-time-ms 1000] [--tree-depth 24] [--repeat 2]
//! ```
//!
//! What it does: starts anvil (prague, more dev accounts than the default), deploys the
//! staked mode, stakes four members with 400/300/200/100 tokens, moves to the epoch whose set
//! they are, starts four `tandem node --staking ...` processes (`--tandem PATH`, default
//! `target/release/tandem`), funds `--accounts` L2 accounts by L1 deposits, then for each
//! offered rate: pre-signs `rate x duration` transfers (account a -> account a+1, each
//! account's nonces in order), submits them on schedule (transfer k at `k / rate` s; each
//! account always to the same member, accounts spread round-robin over the four members, at
//! most `--concurrency` requests in flight per member, one per account), and records for
//! every transaction the time from sending `tandem_sendTransaction` to the moment the
//! member it was sent to has the block containing it ("included": a block decided by the
//! set and executed there). Block arrival is detected by polling `tandem_blockNumber` of
//! every member every 20 ms and reading each block's `txHashes` once; at the end a sample
//! of transactions is cross-checked with `tandem_getTransaction` on their member.
//!
//! Reported per phase: offered and achieved submit rate, refusals, included throughput over
//! the steady window (`--warm-s` after the start to the end of submission), backlog at the
//! end, latency p50/p90/p99/max of transactions sent in the steady window, submit RPC
//! latency, blocks and ops per block, consensus heights per second, and the CPU used by each
//! member, anvil, this generator and everything else on the machine (from /proc).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::node_bindings::AnvilInstance;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::sol_types::SolCall;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::{anvil_binary, repo_root, spawn_anvil, AnvilOptions};
use tandem_devnet::{bootstrap_staked_set, MemberArgs, NodeCommand, StakedDeployment, StakedMember, StakedParams, StakedSetSpec, Supervised};
use tandem_l1::{PrivateKeySigner, RollupClient, U256};
use tandem_state::signing::sign_tx;
use tandem_types::*;

const CHAIN_ID: u64 = 778;
const TOKEN: u128 = 1_000_000_000_000_000_000;
const STAKES: [u64; 4] = [400, 300, 200, 100];
/// First anvil dev account used for deposits (0 deploys, 1..=4 are the members).
const FIRST_DEPOSITOR: usize = 8;
const DEPOSITORS: usize = 32;

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Opts {
    tandem: PathBuf,
    accounts: usize,
    rates: Vec<u64>,
    duration_s: u64,
    warm_s: u64,
    drain_s: u64,
    repeat: usize,
    max_block_ops: usize,
    block_time_ms: u64,
    propose_timeout_ms: u64,
    tree_depth: u8,
    l1_poll_ms: u64,
    concurrency: usize,
    keep: bool,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        tandem: repo_root().join("target/release/tandem"),
        accounts: 512,
        rates: vec![100, 200, 400],
        duration_s: 30,
        warm_s: 5,
        drain_s: 90,
        repeat: 1,
        max_block_ops: 512,
        block_time_ms: 1000,
        propose_timeout_ms: 3000,
        tree_depth: 24,
        l1_poll_ms: 1000,
        concurrency: 32,
        keep: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        let num = |what: &str| -> u64 { v.parse().unwrap_or_else(|_| panic!("{what} needs a number, got {v:?}")) };
        match argv[i].as_str() {
            "--tandem" => o.tandem = PathBuf::from(&v),
            "--accounts" => o.accounts = num("--accounts") as usize,
            "--rates" => o.rates = v.split(',').map(|r| r.parse().expect("--rates: numbers")).collect(),
            "--duration-s" => o.duration_s = num("--duration-s"),
            "--warm-s" => o.warm_s = num("--warm-s"),
            "--drain-s" => o.drain_s = num("--drain-s"),
            "--repeat" => o.repeat = num("--repeat") as usize,
            "--max-block-ops" => o.max_block_ops = num("--max-block-ops") as usize,
            "--block-time-ms" => o.block_time_ms = num("--block-time-ms"),
            "--propose-timeout-ms" => o.propose_timeout_ms = num("--propose-timeout-ms"),
            "--tree-depth" => o.tree_depth = num("--tree-depth") as u8,
            "--l1-poll-ms" => o.l1_poll_ms = num("--l1-poll-ms"),
            "--concurrency" => o.concurrency = num("--concurrency") as usize,
            "--keep" => {
                o.keep = true;
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    o
}

// ---------------------------------------------------------------------------------------
// /proc accounting
// ---------------------------------------------------------------------------------------

/// pid -> (command name, utime + stime in seconds) of every process.
fn all_cpu() -> HashMap<u32, (String, f64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = fields.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
        out.insert(pid, (comm, ticks / 100.0));
    }
    out
}

/// (busy, total) jiffies of the machine.
fn machine_jiffies() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: f64 = v.iter().take(8).sum();
    (total - v.get(3).copied().unwrap_or(0.0) - v.get(4).copied().unwrap_or(0.0), total)
}

struct CpuSnapshot {
    procs: HashMap<u32, (String, f64)>,
    machine: (f64, f64),
    at: Instant,
}

fn snapshot() -> CpuSnapshot {
    CpuSnapshot { procs: all_cpu(), machine: machine_jiffies(), at: Instant::now() }
}

struct CpuUse {
    members: Vec<f64>,
    anvil: f64,
    generator: f64,
    others: Vec<(String, f64)>,
    machine_busy: f64,
}

fn cpu_between(a: &CpuSnapshot, b: &CpuSnapshot, members: &[u32], anvil: u32) -> CpuUse {
    let wall = (b.at - a.at).as_secs_f64().max(1e-9);
    let used = |pid: u32| -> f64 {
        let end = b.procs.get(&pid).map_or(0.0, |x| x.1);
        let start = a.procs.get(&pid).map_or(0.0, |x| x.1);
        (end - start) / wall
    };
    let me = std::process::id();
    let mut others: BTreeMap<String, f64> = BTreeMap::new();
    for (pid, (comm, _)) in &b.procs {
        if *pid == me || *pid == anvil || members.contains(pid) {
            continue;
        }
        let u = used(*pid);
        if u > 0.0 {
            *others.entry(comm.clone()).or_default() += u;
        }
    }
    let mut others: Vec<(String, f64)> = others.into_iter().filter(|(_, u)| *u >= 0.02).collect();
    others.sort_by(|x, y| y.1.total_cmp(&x.1));
    CpuUse {
        members: members.iter().map(|p| used(*p)).collect(),
        anvil: used(anvil),
        generator: used(me),
        others,
        machine_busy: (b.machine.0 - a.machine.0) / (b.machine.1 - a.machine.1).max(1.0),
    }
}

// ---------------------------------------------------------------------------------------
// The set
// ---------------------------------------------------------------------------------------

fn free_port() -> u16 {
    tandem_devnet::free_port().expect("a free port")
}

fn signing_key(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy::primitives::keccak256(format!("tandem.set-load.member.{i}"))).expect("scalar")
}

struct MemberProc {
    rpc: HttpClient,
    child: Supervised,
    log: PathBuf,
}

struct SetNet {
    members: Vec<MemberProc>,
    anvil: AnvilInstance,
    url: String,
    keys: Vec<PrivateKeySigner>,
    deployment: StakedDeployment,
    dir: tempfile::TempDir,
}

async fn rpc<T: serde::de::DeserializeOwned>(client: &HttpClient, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Option<T> {
    client.request(method, params).await.ok()
}

impl SetNet {
    async fn start(o: &Opts) -> SetNet {
        assert!(o.tandem.exists(), "{} not found: run `cargo build --release -p tandem` (or pass --tandem)", o.tandem.display());
        let accounts = Some((FIRST_DEPOSITOR + DEPOSITORS) as u32);
        let anvil = spawn_anvil(&anvil_binary(&repo_root()), &AnvilOptions { block_time: None, accounts }).expect("anvil (run `npm ci`)");
        let url = anvil.endpoint();
        let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
        let fee_key = PrivateKey::from_seed([60; 32]);
        let genesis = tandem_chain::genesis_root(CHAIN_ID, o.tree_depth, fee_key.public_key().pack()).expect("genesis");
        let epoch_length = 86_400;
        // From JSON, so that fields added later with a serde default keep their defaults.
        let params: StakedParams = serde_json::from_value(serde_json::json!({
            "treasury": alloy::primitives::Address::repeat_byte(0x7e),
            "min_stake": tokens(10),
            "max_stake": tokens(10_000),
            "epoch_length": epoch_length,
            "unbonding_delay": epoch_length + 1,
            "max_active": 8,
            "max_stakers": 16,
            "slash_bps": 1_000,
            "reporter_bps": 3_000,
            "challenge_window": 1,
        }))
        .expect("staked params");
        let ports: Vec<(u16, u16)> = STAKES.iter().map(|_| (free_port(), free_port())).collect();
        let stakers: Vec<StakedMember> = STAKES
            .iter()
            .zip(&ports)
            .enumerate()
            .map(|(i, (stake, (p2p, rpc_port)))| StakedMember::local(keys[i + 1].clone(), signing_key(i).address(), tokens(*stake), *p2p, *rpc_port))
            .collect();
        let spec = StakedSetSpec {
            deployer: keys[0].clone(),
            genesis_root: genesis,
            params: &params,
            token_supply: tokens(1_000_000),
            members: &stakers,
            member_eth: None,
        };
        let set = bootstrap_staked_set(&url, &spec).await.expect("staked set");
        let (deployment, genesis_epoch) = (set.deployment, set.genesis_epoch);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut members = vec![];
        for (i, (p2p, rpc_port)) in ports.into_iter().enumerate() {
            let mut node = NodeCommand::new(
                &dir.path().join(format!("member{i}")),
                CHAIN_ID,
                o.tree_depth,
                fee_key.public_key().pack(),
                &url,
                deployment.rollup,
                deployment.deploy_block,
                keys[i + 1].clone(),
                ([127, 0, 0, 1], rpc_port).into(),
                ([127, 0, 0, 1], free_port()).into(),
            );
            node.block_time_ms = Some(o.block_time_ms);
            node.max_block_ops = Some(o.max_block_ops);
            node.l1_confirmations = Some(0);
            node.l1_poll_ms = Some(o.l1_poll_ms);
            node.log_json = true;
            node.member = Some(MemberArgs {
                staking: deployment.staking,
                signing_key: signing_key(i),
                p2p_port: p2p,
                genesis_epoch,
                post_timeout_ms: Some(5000),
                propose_timeout_ms: Some(o.propose_timeout_ms),
                byzantine_equivocate: false,
                withhold_batches: false,
            });
            let log_path = dir.path().join(format!("member{i}.log"));
            let child = Supervised::spawn(format!("member {i}"), node.command(&o.tandem), &log_path).expect("spawn tandem node");
            let rpc = HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(120))
                .build(format!("http://127.0.0.1:{rpc_port}"))
                .expect("client");
            members.push(MemberProc { rpc, child, log: log_path });
        }
        SetNet { members, anvil, url, keys, deployment, dir }
    }

    async fn consensus_height(&self, m: usize) -> Option<u64> {
        let set: Value = rpc(&self.members[m].rpc, "tandem_sequencerSet", rpc_params![]).await?;
        set["consensusHeight"].as_u64()
    }

    async fn wait_height(&self, h: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let mut ok = true;
            for m in 0..self.members.len() {
                ok &= self.consensus_height(m).await.is_some_and(|x| x >= h);
            }
            if ok {
                return;
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members did not reach consensus height {h}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn dump_logs(&self) {
        for (i, m) in self.members.iter().enumerate() {
            let text = std::fs::read_to_string(&m.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("----- member {i} (last 30 lines of {}) -----", m.log.display());
            for l in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{l}");
            }
        }
    }

    fn pids(&self) -> Vec<u32> {
        self.members.iter().filter_map(|m| m.child.pid()).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------

struct User {
    key: PrivateKey,
    packed: PackedPubKey,
    index: AccountIndex,
}

async fn fund_accounts(net: &SetNet, n: usize) -> Vec<User> {
    let keys: Vec<PrivateKey> =
        (0..n).map(|i| PrivateKey::from_seed(alloy::primitives::keccak256(format!("tandem.set-load.user.{i}")).0)).collect();
    let started = Instant::now();
    let mut lanes = tokio::task::JoinSet::new();
    for lane in 0..DEPOSITORS {
        let client = RollupClient::new(&net.url, net.deployment.rollup, Some(net.keys[FIRST_DEPOSITOR + lane].clone())).expect("client");
        let mine: Vec<(U256, U256)> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| i % DEPOSITORS == lane)
            .map(|(_, k)| {
                let pk = k.public_key();
                (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())))
            })
            .collect();
        lanes.spawn(async move {
            for (x, y) in mine {
                client.deposit_eth(x, y, U256::from(10u128.pow(18))).await.expect("deposit");
            }
        });
    }
    while let Some(r) = lanes.join_next().await {
        r.expect("deposit lane");
    }
    eprintln!("{n} deposits on L1 in {:.1} s", started.elapsed().as_secs_f64());
    let mut users = Vec::with_capacity(n);
    for key in keys {
        let packed = key.public_key().pack();
        let hex_key = format!("0x{}", hex::encode(packed.0));
        let deadline = Instant::now() + Duration::from_secs(300);
        let index = loop {
            let mut found = None;
            for m in &net.members {
                let a: Option<Value> = rpc(&m.rpc, "tandem_getAccount", rpc_params![hex_key.clone()]).await;
                found = a.as_ref().and_then(|a| a["index"].as_u64());
                if found.is_none() {
                    break;
                }
            }
            if let Some(i) = found {
                break i;
            }
            assert!(Instant::now() < deadline, "deposit for {hex_key} never credited");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        users.push(User { key, packed, index: AccountIndex::new(index as u32).expect("index") });
    }
    eprintln!("{n} accounts credited on every member after {:.1} s", started.elapsed().as_secs_f64());
    users
}

// ---------------------------------------------------------------------------------------
// Block tracking
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Tracker {
    /// Per member: block number -> when it was first seen there.
    seen: Vec<BTreeMap<u64, Instant>>,
    /// Transaction hash -> block.
    tx_block: HashMap<String, u64>,
    /// Block -> op count.
    ops: BTreeMap<u64, u64>,
}

fn start_tracking(net: &SetNet) -> Arc<Mutex<Tracker>> {
    let tracker = Arc::new(Mutex::new(Tracker { seen: vec![BTreeMap::new(); net.members.len()], ..Default::default() }));
    for (m, member) in net.members.iter().enumerate() {
        let client = member.rpc.clone();
        let t = tracker.clone();
        tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                if let Some(n) = rpc::<u64>(&client, "tandem_blockNumber", rpc_params![]).await {
                    let now = Instant::now();
                    if n > last {
                        let mut t = t.lock().expect("lock");
                        for b in last + 1..=n {
                            t.seen[m].insert(b, now);
                        }
                        last = n;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    let clients: Vec<HttpClient> = net.members.iter().map(|m| m.rpc.clone()).collect();
    let t = tracker.clone();
    tokio::spawn(async move {
        let mut fetched = 0u64;
        loop {
            let (next, from) = {
                let t = t.lock().expect("lock");
                let next = fetched + 1;
                (next, (0..clients.len()).find(|m| t.seen[*m].contains_key(&next)))
            };
            let Some(from) = from else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let Some(block) = rpc::<Value>(&clients[from], "tandem_getBlock", rpc_params![next]).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let hashes: Vec<String> =
                block["txHashes"].as_array().map(|a| a.iter().filter_map(|h| h.as_str().map(String::from)).collect()).unwrap_or_default();
            let mut t = t.lock().expect("lock");
            t.ops.insert(next, block["opCount"].as_u64().unwrap_or(0));
            for h in hashes {
                t.tx_block.insert(h, next);
            }
            fetched = next;
        }
    });
    tracker
}

// ---------------------------------------------------------------------------------------
// One phase at one offered rate
// ---------------------------------------------------------------------------------------

struct Sent {
    hash: String,
    member: usize,
    sched: Duration,
    sent: Instant,
    acked: Instant,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Signs `count` transfers: transfer k is from account k % A with the account's next nonce.
fn presign(users: &[User], nonces: &[u32], count: usize, rate: u64) -> Vec<Vec<(Duration, String)>> {
    let a = users.len();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut per_account: Vec<Vec<(Duration, String)>> = vec![Vec::new(); a];
    let jobs: Vec<(usize, usize)> = (0..count).map(|k| (k % a, k)).collect();
    let chunks: Vec<Vec<(usize, usize)>> = jobs.chunks(count.div_ceil(threads).max(1)).map(|c| c.to_vec()).collect();
    let signed: Vec<Vec<(usize, usize, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(acct, k)| {
                            let to = &users[(acct + 1) % a];
                            let tx = Tx::Transfer(TransferTx {
                                from: users[acct].index,
                                to: to.packed,
                                token: TokenId::ETH,
                                amount: PackedAmount::new(1_000).expect("amount"),
                                fee: PackedFee::new(1).expect("fee"),
                                nonce: nonces[acct] + (k / a) as u32,
                            });
                            let bytes = sign_tx(&users[acct].key, CHAIN_ID, tx).expect("sign").encode();
                            (acct, k, format!("0x{}", hex::encode(bytes)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("signer thread")).collect()
    });
    for (acct, k, hex) in signed.into_iter().flatten() {
        per_account[acct].push((Duration::from_secs_f64(k as f64 / rate as f64), hex));
    }
    for list in &mut per_account {
        list.sort_by_key(|(t, _)| *t);
    }
    per_account
}

struct PhaseResult {
    rate: u64,
    offered_txs: usize,
    accepted: usize,
    refused: usize,
    refusal_sample: Option<String>,
    submit_rate: f64,
    max_lag_s: f64,
    steady_throughput: f64,
    backlog_at_end: usize,
    missing_after_drain: usize,
    drain_s: f64,
    latency: Vec<f64>,
    submit_rpc: Vec<f64>,
    blocks: usize,
    mean_ops: f64,
    max_ops: u64,
    heights_per_s: f64,
    cpu: CpuUse,
    checked: (usize, usize),
    pipeline: Pipeline,
}

async fn phase(net: &SetNet, o: &Opts, users: &[User], tracker: &Arc<Mutex<Tracker>>, rate: u64) -> PhaseResult {
    // Wait for the previous phase's backlog to clear (every account's pending nonce = its
    // applied nonce on the member it sends to), then take each account's next nonce.
    let idle_deadline = Instant::now() + Duration::from_secs(300);
    let nonces = loop {
        let mut nonces = Vec::with_capacity(users.len());
        let mut pending = 0usize;
        for (a, u) in users.iter().enumerate() {
            let acct: Value =
                rpc(&net.members[a % 4].rpc, "tandem_getAccount", rpc_params![format!("#{}", u.index.get())]).await.expect("account");
            let next = acct["pendingNonce"].as_u64().expect("pendingNonce");
            pending += (next - acct["nonce"].as_u64().expect("nonce")) as usize;
            nonces.push(next as u32);
        }
        if pending == 0 || Instant::now() > idle_deadline {
            if pending > 0 {
                eprintln!("  rate {rate}/s: starting with {pending} transactions of the previous phase still pending");
            }
            break nonces;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let count = (rate * o.duration_s) as usize;
    if rate == 0 {
        // Idle baseline: the set deciding empty heights, nothing submitted.
        let cpu0 = snapshot();
        let h0 = net.consensus_height(0).await.unwrap_or(0);
        let wall0 = std::time::SystemTime::now();
        tokio::time::sleep(Duration::from_secs(o.duration_s)).await;
        let cpu1 = snapshot();
        let h1 = net.consensus_height(0).await.unwrap_or(h0);
        return PhaseResult {
            rate,
            offered_txs: 0,
            accepted: 0,
            refused: 0,
            refusal_sample: None,
            submit_rate: 0.0,
            max_lag_s: 0.0,
            steady_throughput: 0.0,
            backlog_at_end: 0,
            missing_after_drain: 0,
            drain_s: 0.0,
            latency: vec![],
            submit_rpc: vec![],
            blocks: 0,
            mean_ops: 0.0,
            max_ops: 0,
            heights_per_s: h1.saturating_sub(h0) as f64 / (cpu1.at - cpu0.at).as_secs_f64(),
            cpu: cpu_between(&cpu0, &cpu1, &net.pids(), net.anvil.child().id()),
            checked: (0, 0),
            pipeline: pipeline(net, wall0, std::time::SystemTime::now()),
        };
    }
    let signing = Instant::now();
    let schedule = presign(users, &nonces, count, rate);
    eprintln!("  rate {rate}/s: pre-signed {count} transfers in {:.1} s", signing.elapsed().as_secs_f64());

    let semaphores: Vec<Arc<tokio::sync::Semaphore>> = (0..4).map(|_| Arc::new(tokio::sync::Semaphore::new(o.concurrency))).collect();
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let refusals: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(vec![]));
    let h0 = net.consensus_height(0).await.unwrap_or(0);
    let wall0 = std::time::SystemTime::now();
    let b0 = tracker.lock().expect("lock").seen[0].keys().last().copied().unwrap_or(0);
    let cpu0 = snapshot();
    let t0 = tokio::time::Instant::now() + Duration::from_millis(200);
    let t0_std = t0.into_std();
    let mut tasks = tokio::task::JoinSet::new();
    for (a, list) in schedule.into_iter().enumerate() {
        let member = a % 4;
        let client = net.members[member].rpc.clone();
        let sem = semaphores[member].clone();
        let sent = sent.clone();
        let refusals = refusals.clone();
        tasks.spawn(async move {
            for (at, hex) in list {
                tokio::time::sleep_until(t0 + at).await;
                let _permit = sem.acquire().await.expect("semaphore");
                let start = Instant::now();
                let result: Result<Value, _> = client.request("tandem_sendTransaction", rpc_params![hex]).await;
                let acked = Instant::now();
                match result.map(|r| r["hash"].as_str().map(String::from)) {
                    Ok(Some(hash)) => sent.lock().expect("lock").push(Sent { hash, member, sched: at, sent: start, acked }),
                    other => {
                        refusals.lock().expect("lock").push(format!("{other:?}"));
                        // Later nonces of this account would be gaps.
                        return;
                    }
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("sender task");
    }
    let t_end = Instant::now();
    let cpu1 = snapshot();
    let h1 = net.consensus_height(0).await.unwrap_or(h0);
    let sent = std::mem::take(&mut *sent.lock().expect("lock"));
    let refusals = std::mem::take(&mut *refusals.lock().expect("lock"));

    let inclusion = |t: &Tracker, s: &Sent| -> Option<Instant> { t.tx_block.get(&s.hash).and_then(|b| t.seen[s.member].get(b)).copied() };
    let backlog_at_end = {
        let t = tracker.lock().expect("lock");
        sent.iter().filter(|s| inclusion(&t, s).is_none_or(|i| i > t_end)).count()
    };
    // Drain.
    let drain_deadline = Instant::now() + Duration::from_secs(o.drain_s);
    let missing_after_drain = loop {
        let missing = {
            let t = tracker.lock().expect("lock");
            sent.iter().filter(|s| inclusion(&t, s).is_none()).count()
        };
        if missing == 0 || Instant::now() > drain_deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let drain_s = (Instant::now() - t_end).as_secs_f64();
    let pipeline = pipeline(net, wall0, std::time::SystemTime::now());

    let t = tracker.lock().expect("lock");
    let warm = t0_std + Duration::from_secs(o.warm_s);
    let window = (t_end - warm).as_secs_f64().max(1e-9);
    let in_window = sent.iter().filter(|s| inclusion(&t, s).is_some_and(|i| i >= warm && i <= t_end)).count();
    let latency: Vec<f64> =
        sent.iter().filter(|s| s.sent >= warm).filter_map(|s| inclusion(&t, s).map(|i| (i - s.sent).as_secs_f64())).collect();
    let submit_rpc: Vec<f64> = sent.iter().map(|s| (s.acked - s.sent).as_secs_f64()).collect();
    let max_lag_s = sent.iter().map(|s| (s.sent - (t0_std + s.sched)).as_secs_f64()).fold(0.0, f64::max);
    let last_send = sent.iter().map(|s| s.sent).max().unwrap_or(t0_std);
    let submit_rate = sent.len() as f64 / (last_send - t0_std).as_secs_f64().max(1e-9);
    let b1 = t.seen[0].iter().filter(|(_, at)| **at <= t_end).map(|(b, _)| *b).max().unwrap_or(b0);
    let block_ops: Vec<u64> = t.ops.range(b0 + 1..=b1).map(|(_, o)| *o).collect();
    let blocks = block_ops.len();
    let mean_ops = block_ops.iter().sum::<u64>() as f64 / blocks.max(1) as f64;
    let max_ops = block_ops.iter().copied().max().unwrap_or(0);
    drop(t);

    // Cross-check a sample with tandem_getTransaction on the member each was sent to.
    let mut checked = (0, 0);
    for s in sent.iter().step_by((sent.len() / 100).max(1)) {
        let r: Option<Value> = rpc(&net.members[s.member].rpc, "tandem_getTransaction", rpc_params![s.hash.clone()]).await;
        checked.0 += 1;
        let block = tracker.lock().expect("lock").tx_block.get(&s.hash).copied();
        if r.as_ref().is_some_and(|r| r["status"] == "included" && r["block"].as_u64() == block) {
            checked.1 += 1;
        }
    }
    PhaseResult {
        rate,
        offered_txs: count,
        accepted: sent.len(),
        refused: refusals.len(),
        refusal_sample: refusals.first().cloned(),
        submit_rate,
        max_lag_s,
        steady_throughput: in_window as f64 / window,
        backlog_at_end,
        missing_after_drain,
        drain_s,
        latency: sorted(latency),
        submit_rpc: sorted(submit_rpc),
        blocks,
        mean_ops,
        max_ops,
        heights_per_s: (h1.saturating_sub(h0)) as f64 / (cpu1.at - cpu0.at).as_secs_f64(),
        cpu: cpu_between(&cpu0, &cpu1, &net.pids(), net.anvil.child().id()),
        checked,
        pipeline,
    }
}

// ---------------------------------------------------------------------------------------
// The members' logs (JSON lines)
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Pipeline {
    /// "proposing" (inputs > 0) -> the proposer's next "block produced", seconds.
    propose_to_commit: Vec<f64>,
    /// Per block: last member's "block produced" - first member's, seconds.
    commit_spread: Vec<f64>,
    /// Consecutive "proposing" events (any member), seconds.
    height_interval: Vec<f64>,
    /// "new round" events.
    late_rounds: usize,
}

/// Seconds since the Unix epoch of an RFC 3339 UTC timestamp ("2026-12-01T20:53:41.031646Z").
fn parse_ts(ts: &str) -> Option<f64> {
    let (date, time) = ts.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm, ss) = (t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?);
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hh * 3600.0 + mm * 60.0 + ss)
}

fn pipeline(net: &SetNet, from: std::time::SystemTime, to: std::time::SystemTime) -> Pipeline {
    let secs = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let (from, to) = (secs(from), secs(to));
    let mut out = Pipeline::default();
    let mut proposals: Vec<f64> = vec![];
    let mut produced: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for m in &net.members {
        let text = std::fs::read_to_string(&m.log).unwrap_or_default();
        let mut pending: Option<f64> = None;
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
            let Some(t) = v["timestamp"].as_str().and_then(parse_ts) else { continue };
            if t < from || t > to {
                continue;
            }
            let f = &v["fields"];
            match f["message"].as_str().unwrap_or_default() {
                "proposing" => {
                    proposals.push(t);
                    pending = (f["inputs"].as_u64().unwrap_or(0) > 0).then_some(t);
                }
                "block produced" => {
                    if let Some(p) = pending.take() {
                        out.propose_to_commit.push(t - p);
                    }
                    if let Some(b) = f["block"].as_u64() {
                        produced.entry(b).or_default().push(t);
                    }
                }
                msg if msg.starts_with("new round") => out.late_rounds += 1,
                _ => {}
            }
        }
    }
    for times in produced.values().filter(|t| t.len() == net.members.len()) {
        let lo = times.iter().copied().fold(f64::MAX, f64::min);
        let hi = times.iter().copied().fold(f64::MIN, f64::max);
        out.commit_spread.push(hi - lo);
    }
    proposals.sort_by(f64::total_cmp);
    out.height_interval = proposals.windows(2).map(|w| w[1] - w[0]).collect();
    out.propose_to_commit.sort_by(f64::total_cmp);
    out.commit_spread.sort_by(f64::total_cmp);
    out.height_interval.sort_by(f64::total_cmp);
    out
}

// ---------------------------------------------------------------------------------------
// L1 batches
// ---------------------------------------------------------------------------------------

async fn batch_gas(net: &SetNet) -> Vec<(u64, u64, usize, u64)> {
    let provider = ProviderBuilder::new().connect_http(net.url.parse().expect("url"));
    let rollup = tandem_l1::bindings::TandemRollup::new(net.deployment.rollup, provider.clone());
    let Ok(events) = rollup.BatchCommitted_filter().from_block(net.deployment.deploy_block).query().await else { return vec![] };
    let mut out = vec![];
    for (event, log) in events {
        let Some(hash) = log.transaction_hash else { continue };
        let Ok(Some(receipt)) = provider.get_transaction_receipt(hash).await else { continue };
        let Ok(Some(tx)) = provider.get_transaction_by_hash(hash).await else { continue };
        use alloy::consensus::Transaction as _;
        let Ok(call) = tandem_l1::bindings::staked::StakedRollup::commitBatchSignedCall::abi_decode(tx.input()) else { continue };
        if call.header.priorityOpsCount > 0 {
            // Deposit batches (the accounts' funding) cost more per op; left out.
            continue;
        }
        out.push((event.batchNumber, call.header.opCount as u64, call.signatures.len(), receipt.gas_used));
    }
    out
}

// ---------------------------------------------------------------------------------------

fn print_header() {
    println!("| offered tx/s | sent (refused) | submit rate | included tx/s (steady) | backlog at end | latency p50 / p90 / p99 / max | submit RPC p50 / p99 | blocks, mean / max ops | heights/s | CPU members (cores) | anvil | generator | others | machine busy | checked |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn print_row(r: &PhaseResult) {
    let ms = |x: f64| if x.is_nan() { "-".to_string() } else { format!("{:.0}", x * 1e3) };
    let members: Vec<String> = r.cpu.members.iter().map(|c| format!("{c:.2}")).collect();
    let member_sum: f64 = r.cpu.members.iter().sum();
    let others: f64 = 0.0 + r.cpu.others.iter().map(|o| o.1).sum::<f64>();
    println!(
        "| {} | {} ({}) | {:.0}/s (lag ≤ {:.1} s) | **{:.0}** | {} | {} / {} / {} / {} ms | {} / {} ms | {}, {:.0} / {} | {:.2} | {} = {:.2} | {:.2} | {:.2} | {:.2} | {:.0}% | {}/{} |",
        r.rate,
        r.accepted,
        r.refused,
        r.submit_rate,
        r.max_lag_s,
        r.steady_throughput,
        r.backlog_at_end,
        ms(percentile(&r.latency, 50.0)),
        ms(percentile(&r.latency, 90.0)),
        ms(percentile(&r.latency, 99.0)),
        ms(r.latency.last().copied().unwrap_or(f64::NAN)),
        ms(percentile(&r.submit_rpc, 50.0)),
        ms(percentile(&r.submit_rpc, 99.0)),
        r.blocks,
        r.mean_ops,
        r.max_ops,
        r.heights_per_s,
        members.join(" + "),
        member_sum,
        r.cpu.anvil,
        r.cpu.generator,
        others,
        100.0 * r.cpu.machine_busy,
        r.checked.1,
        r.checked.0,
    );
    let top: Vec<String> = r.cpu.others.iter().take(5).map(|(c, u)| format!("{c} {u:.2}")).collect();
    let p = &r.pipeline;
    if r.steady_throughput > 0.0 {
        eprintln!(
            "    rate {}: member CPU per included transaction {:.1} ms (all four members together)",
            r.rate,
            1e3 * r.cpu.members.iter().sum::<f64>() / r.steady_throughput
        );
    }
    let p_ms = |v: &[f64], q: f64| format!("{:.0}", percentile(v, q) * 1e3);
    eprintln!(
        "    rate {}: from the members' logs: {} proposals with inputs; propose -> committed at the proposer p50 {} / p90 {} ms; block committed at all 4 members within p50 {} / p90 {} ms of the first; rounds > 0: {}; height interval p50 {} / p90 {} ms",
        r.rate,
        p.propose_to_commit.len(),
        p_ms(&p.propose_to_commit, 50.0),
        p_ms(&p.propose_to_commit, 90.0),
        p_ms(&p.commit_spread, 50.0),
        p_ms(&p.commit_spread, 90.0),
        p.late_rounds,
        p_ms(&p.height_interval, 50.0),
        p_ms(&p.height_interval, 90.0),
    );
    eprintln!(
        "    rate {}: {} offered, {} sent, {} refused{}, {} not included after a {:.0} s drain; other processes: {}",
        r.rate,
        r.offered_txs,
        r.accepted,
        r.refused,
        r.refusal_sample.as_ref().map(|s| format!(" (e.g. {s})")).unwrap_or_default(),
        r.missing_after_drain,
        r.drain_s,
        if top.is_empty() { "none".into() } else { top.join(", ") }
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let o = parse_opts();
    eprintln!("set_load: {o:?}");
    let started = Instant::now();
    let net = SetNet::start(&o).await;
    net.wait_height(2, Duration::from_secs(120)).await;
    eprintln!("4 members at consensus height 2 after {:.1} s (logs in {})", started.elapsed().as_secs_f64(), net.dir.path().display());
    let tracker = start_tracking(&net);
    let users = fund_accounts(&net, o.accounts).await;
    println!(
        "set_load: 4 members (stakes 4/3/2/1), max block ops {}, block time {} ms, propose timeout {} ms, tree depth {}, {} accounts, {} s per rate (steady window from {} s), concurrency {} per member",
        o.max_block_ops, o.block_time_ms, o.propose_timeout_ms, o.tree_depth, o.accounts, o.duration_s, o.warm_s, o.concurrency
    );
    print_header();
    for _ in 0..o.repeat {
        for &rate in &o.rates {
            let r = phase(&net, &o, &users, &tracker, rate).await;
            print_row(&r);
        }
    }
    // Let the batches of the last blocks reach L1.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let gas = batch_gas(&net).await;
    let bucket = |ops: u64| match ops {
        0..=16 => 16,
        17..=128 => 128,
        129..=512 => 512,
        _ => 2048,
    };
    // (signers, bucket) -> (batches, total ops, total gas)
    let mut by_size: BTreeMap<(usize, u64), (u64, u64, u64)> = BTreeMap::new();
    for (_, ops, signers, g) in &gas {
        let e = by_size.entry((*signers, bucket(*ops))).or_default();
        e.0 += 1;
        e.1 += ops;
        e.2 += g;
    }
    println!("L1 commitBatchSigned receipts, transfer-only batches ({} batches):", gas.len());
    for ((signers, b), (n, ops, total)) in by_size {
        println!("  {signers} signers, <= {b} ops (mean {:.0} ops): {n} batches, mean gasUsed {}", ops as f64 / n as f64, total / n);
    }
    if o.keep {
        let kept = net.dir.path().to_path_buf();
        std::mem::forget(net.dir);
        eprintln!("kept {}", kept.display());
    }
}
