//! Commit latency of the sequencer set's consensus as the set grows: N validators, each its
//! own OS process running one Malachite engine (the real [`tandem_consensus::run`] driver,
//! secp256k1 votes, TCP on loopback) over an in-memory app with tiny payloads, so what is
//! measured is consensus alone (no ledger, no L1).
//!
//! ```text
//! cargo run --release -p tandem-consensus --example commit_latency -- \
//!     [--sizes 4,10,20] [--heights 30] [--warmup 5] [--block-time-ms 10] [--stakes unequal|equal]
//! ```
//!
//! The parent re-executes this binary once per validator with `--member i`; each child prints
//! `decided <height> <round> <unix ns>` on stdout when it commits a height. The parent takes
//! the first commit time of each height across the set, and reports the time per height
//! (gap between consecutive heights' first commits) over `--heights` heights after
//! `--warmup`, the spread until every validator had committed it, the rounds above 0, and
//! the CPU the children used (from /proc) against the machine's cores.
//!
//! `--block-time-ms` is the engine's target time per height (it waits out the rest after a
//! decision): ~0 (10 ms) measures raw commit latency; 1000 is the production configuration.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{keccak256, Address as EthAddress};
use alloy::signers::local::PrivateKeySigner;
use tandem_consensus::{
    run, Address, AppError, ConsensusApp, PayloadRefused, DoubleVote, EngineConfig, LinearTimeouts, Multiaddr, TandemContext, Validator,
    ValidatorSet,
};

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Args {
    sizes: Vec<usize>,
    heights: u64,
    warmup: u64,
    block_time_ms: u64,
    propose_timeout_ms: u64,
    stakes: String,
    threads: usize,
    timeout_s: u64,
    // Child only.
    member: Option<usize>,
    n: usize,
    ports: Vec<u16>,
    home: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        sizes: vec![4, 10, 20],
        heights: 30,
        warmup: 5,
        block_time_ms: 10,
        propose_timeout_ms: 3000,
        stakes: "unequal".into(),
        threads: 2,
        timeout_s: 600,
        member: None,
        n: 0,
        ports: vec![],
        home: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let flag = argv[i].as_str();
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        let list = |v: &str| -> Vec<u64> { v.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().expect("number")).collect() };
        match flag {
            "--sizes" => a.sizes = list(&value).into_iter().map(|x| x as usize).collect(),
            "--heights" => a.heights = value.parse().expect("--heights"),
            "--warmup" => a.warmup = value.parse().expect("--warmup"),
            "--block-time-ms" => a.block_time_ms = value.parse().expect("--block-time-ms"),
            "--propose-timeout-ms" => a.propose_timeout_ms = value.parse().expect("--propose-timeout-ms"),
            "--stakes" => a.stakes = value.clone(),
            "--threads" => a.threads = value.parse().expect("--threads"),
            "--timeout-s" => a.timeout_s = value.parse().expect("--timeout-s"),
            "--member" => a.member = Some(value.parse().expect("--member")),
            "--n" => a.n = value.parse().expect("--n"),
            "--ports" => a.ports = list(&value).into_iter().map(|x| x as u16).collect(),
            "--home" => a.home = Some(PathBuf::from(&value)),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

// ---------------------------------------------------------------------------------------
// The set (computed identically by every process)
// ---------------------------------------------------------------------------------------

fn key(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256(format!("tandem.commit-latency.validator.{i}"))).expect("scalar")
}

/// Stakes: `unequal` = n, n-1, ..., 1 (4/3/2/1 for four); `equal` = 1 each.
fn stakes(n: usize, kind: &str) -> Vec<u64> {
    match kind {
        "equal" => vec![1; n],
        "unequal" => (1..=n as u64).rev().collect(),
        other => panic!("--stakes {other}: equal or unequal"),
    }
}

fn validator_set(n: usize, kind: &str) -> ValidatorSet {
    ValidatorSet::new(
        stakes(n, kind).iter().enumerate().map(|(i, s)| Validator { address: Address(key(i).address()), voting_power: *s }).collect(),
    )
    .expect("valid set")
}

fn ctx() -> TandemContext {
    TandemContext { l1_chain_id: 31337, rollup: EthAddress::repeat_byte(0x42) }
}

fn unix_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos()
}

// ---------------------------------------------------------------------------------------
// Child: one validator
// ---------------------------------------------------------------------------------------

/// In-memory app: payload = "h<height>:<proposer>"; commit prints the decision.
struct MemoryApp {
    me: EthAddress,
    set: ValidatorSet,
    committed: Mutex<BTreeMap<u64, (Vec<u8>, Vec<u8>)>>,
}

impl ConsensusApp for MemoryApp {
    fn last_committed_height(&self) -> u64 {
        self.committed.lock().expect("lock").keys().last().copied().unwrap_or(0)
    }
    fn validator_set(&self, _height: u64) -> Result<ValidatorSet, AppError> {
        Ok(self.set.clone())
    }
    fn build_payload(&self, height: u64, _budget: Duration) -> Result<Vec<u8>, AppError> {
        Ok(format!("h{height}:{}", self.me).into_bytes())
    }
    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), PayloadRefused> {
        let text = std::str::from_utf8(payload).map_err(PayloadRefused::new)?;
        if !text.starts_with(&format!("h{height}:")) {
            return Err(PayloadRefused::new(format!("payload for another height: {text}")));
        }
        Ok(())
    }
    fn commit(&self, height: u64, round: u32, _proposer: EthAddress, payload: &[u8], certificate: &[u8]) -> Result<(), AppError> {
        let t = unix_ns();
        self.committed.lock().expect("lock").insert(height, (payload.to_vec(), certificate.to_vec()));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "decided {height} {round} {t}");
        let _ = out.flush();
        Ok(())
    }
    fn decided(&self, height: u64) -> Result<Option<(Vec<u8>, Vec<u8>)>, AppError> {
        Ok(self.committed.lock().expect("lock").get(&height).cloned())
    }
    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        eprintln!("unexpected evidence: {evidence:?}");
    }
}

fn addr(port: u16) -> Multiaddr {
    format!("/ip4/127.0.0.1/tcp/{port}").parse().expect("multiaddr")
}

fn timeouts(propose_ms: u64) -> LinearTimeouts {
    let propose = Duration::from_millis(propose_ms);
    let step = Duration::from_millis((propose_ms / 3).max(100));
    LinearTimeouts {
        propose,
        propose_delta: propose / 2,
        prevote: step,
        prevote_delta: step / 2,
        precommit: step,
        precommit_delta: step / 2,
        rebroadcast: propose + step * 2,
        max_timeout: Duration::from_secs(30),
    }
}

fn child(args: Args) {
    let i = args.member.expect("member");
    // The parent closing our stdin (or dying) ends us.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let set = validator_set(args.n, &args.stakes);
    let signing_key = key(i);
    let app = Arc::new(MemoryApp { me: signing_key.address(), set, committed: Mutex::new(BTreeMap::new()) });
    let config = EngineConfig {
        moniker: format!("v{i}"),
        home: args.home.clone().expect("--home"),
        listen: addr(args.ports[i]),
        peers: args.ports.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| addr(*p)).collect(),
        ctx: ctx(),
        signing_key,
        timeouts: timeouts(args.propose_timeout_ms),
        block_time: Duration::from_millis(args.block_time_ms),
        byzantine: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build().expect("runtime");
    let result = runtime.block_on(run(config, app));
    eprintln!("validator {i}: engine stopped: {result:?}");
    std::process::exit(1);
}

// ---------------------------------------------------------------------------------------
// Parent: spawn, collect, report
// ---------------------------------------------------------------------------------------

fn free_port() -> u16 {
    // Never a port another parallel test process is handed (bind-0-then-close races).
    tandem_ports::free_port().expect("a free port")
}

/// utime + stime of a process, in seconds.
fn process_cpu_s(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let after = &stat[stat.rfind(')').map_or(0, |p| p + 2)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    100.0 // USER_HZ on Linux
}

/// (busy, total) jiffies of the whole machine.
fn machine_jiffies() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let v: Vec<f64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

struct Report {
    n: usize,
    per_height_ms: Vec<f64>,
    spread_ms: Vec<f64>,
    late_rounds: usize,
    cpu_per_process: Vec<f64>,
    machine_busy: f64,
    wall_s: f64,
}

fn measure(args: &Args, n: usize) -> Result<Report, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let ports_arg = ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
    let (tx, rx) = mpsc::channel::<(usize, u64, u32, u128)>();
    let mut children: Vec<Child> = Vec::new();
    for i in 0..n {
        let mut child = Command::new(&exe)
            .args(["--member", &i.to_string(), "--n", &n.to_string(), "--ports", &ports_arg])
            .args(["--home", dir.path().join(format!("v{i}")).to_str().expect("utf8")])
            .args(["--block-time-ms", &args.block_time_ms.to_string()])
            .args(["--propose-timeout-ms", &args.propose_timeout_ms.to_string()])
            .args(["--stakes", &args.stakes, "--threads", &args.threads.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let stdout = child.stdout.take().expect("stdout");
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let parts: Vec<&str> = line.split_whitespace().collect();
                if let ["decided", h, r, t] = parts.as_slice() {
                    let _ = tx.send((i, h.parse().unwrap_or(0), r.parse().unwrap_or(0), t.parse().unwrap_or(0)));
                }
            }
        });
        children.push(child);
    }
    drop(tx);
    let last = args.warmup + args.heights;
    // height -> member -> (round, t)
    let mut seen: BTreeMap<u64, HashMap<usize, (u32, u128)>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    let mut cpu_start: Option<(Vec<f64>, (f64, f64), Instant)> = None;
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let result = loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break Err(format!("timed out; heights reached: {:?}", seen.keys().last()));
        };
        match rx.recv_timeout(left.min(Duration::from_secs(1))) {
            Ok((i, h, r, t)) => {
                seen.entry(h).or_default().insert(i, (r, t));
                if cpu_start.is_none() && h >= args.warmup {
                    cpu_start = Some((pids.iter().map(|p| process_cpu_s(*p)).collect(), machine_jiffies(), Instant::now()));
                }
                if seen.get(&last).is_some_and(|m| m.len() == n) {
                    break Ok(());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err("children exited".into()),
        }
    };
    let cpu_end: Vec<f64> = pids.iter().map(|p| process_cpu_s(*p)).collect();
    let machine_end = machine_jiffies();
    for mut c in children {
        drop(c.stdin.take());
        let _ = c.kill();
        let _ = c.wait();
    }
    result?;
    let (cpu0, machine0, t0) = cpu_start.expect("warm-up reached");
    let wall_s = t0.elapsed().as_secs_f64();
    let first = |h: u64| seen[&h].values().map(|(_, t)| *t).min().expect("someone committed");
    let all = |h: u64| seen[&h].values().map(|(_, t)| *t).max().expect("someone committed");
    let mut per_height_ms = Vec::new();
    let mut spread_ms = Vec::new();
    let mut late_rounds = 0;
    for h in args.warmup + 1..=last {
        per_height_ms.push((first(h) - first(h - 1)) as f64 / 1e6);
        spread_ms.push((all(h) - first(h)) as f64 / 1e6);
        if seen[&h].values().any(|(r, _)| *r > 0) {
            late_rounds += 1;
        }
    }
    let cpu_per_process = cpu0.iter().zip(&cpu_end).map(|(a, b)| (b - a) / wall_s).collect();
    let machine_busy = (machine_end.0 - machine0.0) / (machine_end.1 - machine0.1).max(1.0);
    Ok(Report { n, per_height_ms, spread_ms, late_rounds, cpu_per_process, machine_busy, wall_s })
}

fn main() {
    let args = parse_args();
    if args.member.is_some() {
        child(args);
        return;
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "commit latency: block time {} ms, {} stakes, {} heights after {} warm-up, {} runtime threads per validator, {cores} cores",
        args.block_time_ms, args.stakes, args.heights, args.warmup, args.threads
    );
    println!("| N | p50 per height | p99 per height | mean | max | heights/s | all N committed, p50 / p99 after first | rounds > 0 | CPU per validator | set CPU (cores) | machine busy |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &args.sizes {
        match measure(&args, n) {
            Ok(r) => {
                let mut per = r.per_height_ms.clone();
                per.sort_by(f64::total_cmp);
                let mut spread = r.spread_ms.clone();
                spread.sort_by(f64::total_cmp);
                let mean = per.iter().sum::<f64>() / per.len() as f64;
                let set_cpu: f64 = r.cpu_per_process.iter().sum();
                println!(
                    "| {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} | {:.0} / {:.0} ms | {} of {} | {:.0}% | {:.2} of {cores} | {:.0}% |",
                    r.n,
                    percentile(&per, 50.0),
                    percentile(&per, 99.0),
                    mean,
                    per.last().copied().unwrap_or(f64::NAN),
                    per.len() as f64 / (r.per_height_ms.iter().sum::<f64>() / 1e3),
                    percentile(&spread, 50.0),
                    percentile(&spread, 99.0),
                    r.late_rounds,
                    per.len(),
                    100.0 * set_cpu / r.n as f64,
                    set_cpu,
                    100.0 * r.machine_busy,
                );
                eprintln!("  N = {}: measured over {:.1} s; per-height ms: {:?}", r.n, r.wall_s, r.per_height_ms.iter().map(|x| x.round() as u64).collect::<Vec<_>>());
            }
            Err(e) => println!("| {n} | failed: {e} |"),
        }
    }
}
