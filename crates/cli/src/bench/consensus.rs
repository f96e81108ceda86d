//! `tandem bench consensus`: commit latency of the set's consensus alone as the set grows,
//! measured with real processes and extended by a calibrated model to sizes this machine
//! cannot run.
//!
//! Measured: N validators, each a child `tandem bench consensus --member i` process running
//! the real engine and driver ([`tandem_consensus::run`]: secp256k1 votes, TCP on loopback)
//! over an in-memory app with tiny payloads, so no ledger and no L1. Each child prints
//! `decided <height> <round> <unix ns>` when it commits; the parent takes the first commit
//! of each height across the set and reports the time per height after a warm-up, the
//! spread until all had committed, rounds above 0, and the CPU the children used (/proc).
//!
//! Modelled ([`super::consensus_model`]): the measured CPU per validator per height is fitted
//! as `fixed + per_message × (2N − 1)`, and the discrete-event simulation replays the
//! measured sizes with those costs on this machine's cores (each measured size is also
//! predicted from a fit that leaves it out, the model's check) and then the `--simulate`
//! sizes, both on this machine's cores and as a deployment with one core per validator and a
//! WAN delay.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{keccak256, Address as EthAddress};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use tandem_consensus::{
    run, timeouts_for, Address, AppError, ConsensusApp, DoubleVote, EngineConfig, Multiaddr, PayloadRefused, TandemContext, Validator,
    ValidatorSet,
};

use super::consensus_model::{fit_costs, simulate, SimParams};
use super::set::{all_cpu, machine_jiffies, Percentiles};

/// Largest set run as processes on one machine.
pub const MAX_MEASURED: usize = 64;
/// Largest simulated set.
pub const MAX_SIMULATED: usize = 1_000;

/// How stake is spread over the validators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StakeShape {
    /// n, n − 1, …, 1 (4/3/2/1 for four).
    Unequal,
    /// 1 each.
    Equal,
}

/// `tandem bench consensus`.
#[derive(Debug, Clone, Args)]
pub struct ConsensusBenchArgs {
    /// Set sizes run as processes on this machine (2..=64 each).
    #[arg(long, value_delimiter = ',', default_value = "4,10,20")]
    pub sizes: Vec<usize>,
    /// Heights measured per size, after the warm-up.
    #[arg(long, default_value_t = 20)]
    pub heights: u64,
    /// Heights decided before measuring.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// The engine's target time per height (10 ms measures raw commit latency; production
    /// uses 1,000).
    #[arg(long, default_value_t = 10)]
    pub block_time_ms: u64,
    /// Propose timeout of round 0.
    #[arg(long, default_value_t = 3_000)]
    pub propose_timeout_ms: u64,
    /// How stake is spread.
    #[arg(long, value_enum, default_value_t = StakeShape::Unequal)]
    pub stakes: StakeShape,
    /// Give up on a size after this long.
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
    /// Set sizes to simulate with the costs fitted on the measured sizes (empty: none).
    #[arg(long, value_delimiter = ',', default_value = "50,100")]
    pub simulate: Vec<usize>,
    /// One-way delay between validators on loopback, for the model of this machine.
    #[arg(long, default_value_t = 0.1)]
    pub loopback_delay_ms: f64,
    /// One-way delay between validators in the modelled deployment (one core each).
    #[arg(long, default_value_t = 50.0)]
    pub wan_delay_ms: f64,
    /// Print the report as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Write an SVG of time per height against set size here.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Child mode: run validator i of --n (set by the parent).
    #[arg(long, hide = true)]
    pub member: Option<usize>,
    /// Child mode: the set size.
    #[arg(long, hide = true, default_value_t = 0)]
    pub n: usize,
    /// Child mode: every validator's port.
    #[arg(long, hide = true, value_delimiter = ',')]
    pub ports: Vec<u16>,
    /// Child mode: the engine's home directory.
    #[arg(long, hide = true)]
    pub home: Option<PathBuf>,
}

/// One measured set size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeasuredRow {
    /// Validators.
    pub n: usize,
    /// Time per height (gap between first commits), ms.
    pub per_height_ms: Percentiles,
    /// Mean time per height, ms.
    pub mean_ms: f64,
    /// Heights decided per second.
    pub heights_per_s: f64,
    /// From the first to the last validator committing a height: p50, p99 in ms.
    pub spread_ms: [f64; 2],
    /// Heights (of those measured) that needed a round above 0.
    pub late_rounds: usize,
    /// Heights measured.
    pub heights: usize,
    /// CPU of all validators, in cores.
    pub set_cpu_cores: f64,
    /// CPU per validator per height, ms (what the model is fitted on).
    pub cpu_per_validator_height_ms: f64,
    /// Share of the machine busy (all processes), 0..=1.
    pub machine_busy: f64,
}

/// The fitted costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCosts {
    /// CPU per validator per height independent of the set size, ms.
    pub fixed_ms: f64,
    /// CPU per received consensus message, ms.
    pub per_message_ms: f64,
}

/// The model replaying a measured size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCheck {
    /// Validators.
    pub n: usize,
    /// Measured p50 time per height, ms.
    pub measured_p50_ms: f64,
    /// Simulated p50 with the costs fitted on every measured size, ms.
    pub fitted_p50_ms: f64,
    /// Simulated p50 with costs fitted on the other measured sizes (a prediction), ms;
    /// `None` with fewer than three measured sizes.
    pub predicted_p50_ms: Option<f64>,
    /// (predicted or fitted − measured) / measured, percent.
    pub error_pct: f64,
}

/// One simulated size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulatedRow {
    /// Validators.
    pub n: usize,
    /// Cores shared by the set.
    pub cores: usize,
    /// One-way delay, ms.
    pub delay_ms: f64,
    /// Time per height: p50, p99 in ms.
    pub per_height_ms: [f64; 2],
    /// Heights per second.
    pub heights_per_s: f64,
    /// Share of the cores busy.
    pub busy: f64,
}

/// What `tandem bench consensus` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusBenchReport {
    /// Cores of this machine.
    pub cores: usize,
    /// The engine's target time per height, ms.
    pub block_time_ms: u64,
    /// Stake shape.
    pub stakes: StakeShape,
    /// Measured sizes.
    pub measured: Vec<MeasuredRow>,
    /// Costs fitted on every measured size (`None` with fewer than two).
    pub costs: Option<ModelCosts>,
    /// The model against each measured size.
    pub checks: Vec<ModelCheck>,
    /// Simulated sizes: on this machine's cores, then one core per validator with the WAN
    /// delay.
    pub simulated: Vec<SimulatedRow>,
}

fn validate(args: &ConsensusBenchArgs) -> Result<()> {
    if args.sizes.is_empty() {
        bail!("--sizes: give at least one set size");
    }
    if let Some(n) = args.sizes.iter().find(|n| !(2..=MAX_MEASURED).contains(*n)) {
        bail!("--sizes: {n} is out of range (2..={MAX_MEASURED} processes on one machine)");
    }
    if let Some(n) = args.simulate.iter().find(|n| !(2..=MAX_SIMULATED).contains(*n)) {
        bail!("--simulate: {n} is out of range (2..={MAX_SIMULATED})");
    }
    if args.heights < 2 {
        bail!("--heights: at least 2");
    }
    if args.warmup == 0 {
        bail!("--warmup: at least 1 (the first height includes connecting)");
    }
    for (name, ms) in [("--loopback-delay-ms", args.loopback_delay_ms), ("--wan-delay-ms", args.wan_delay_ms)] {
        if !(0.0..=10_000.0).contains(&ms) {
            bail!("{name}: {ms} is out of range (0..=10000)");
        }
    }
    Ok(())
}

fn stakes(n: usize, shape: StakeShape) -> Vec<u64> {
    match shape {
        StakeShape::Equal => vec![1; n],
        StakeShape::Unequal => (1..=n as u64).rev().collect(),
    }
}

fn key(i: usize) -> Result<PrivateKeySigner> {
    PrivateKeySigner::from_bytes(&keccak256(format!("tandem.bench.consensus.validator.{i}"))).map_err(|e| anyhow!("validator key {i}: {e}"))
}

fn validator_set(n: usize, shape: StakeShape) -> Result<ValidatorSet> {
    let validators = stakes(n, shape)
        .iter()
        .enumerate()
        .map(|(i, s)| Ok(Validator { address: Address(key(i)?.address()), voting_power: *s }))
        .collect::<Result<Vec<_>>>()?;
    ValidatorSet::new(validators).map_err(|e| anyhow!("validator set: {e}"))
}

fn unix_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Decided heights: payload and certificate.
type Decided = BTreeMap<u64, (Vec<u8>, Vec<u8>)>;

/// The child's app: payload `h<height>:<proposer>`; a commit prints the decision.
struct MemoryApp {
    me: EthAddress,
    set: ValidatorSet,
    committed: Mutex<Decided>,
}

impl MemoryApp {
    fn committed(&self) -> std::sync::MutexGuard<'_, Decided> {
        self.committed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ConsensusApp for MemoryApp {
    fn last_committed_height(&self) -> u64 {
        self.committed().keys().last().copied().unwrap_or(0)
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
        self.committed().insert(height, (payload.to_vec(), certificate.to_vec()));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "decided {height} {round} {t}");
        let _ = out.flush();
        Ok(())
    }
    fn decided(&self, height: u64) -> Result<Option<(Vec<u8>, Vec<u8>)>, AppError> {
        Ok(self.committed().get(&height).cloned())
    }
    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        eprintln!("unexpected evidence: {evidence:?}");
    }
}

fn loopback(port: u16) -> Result<Multiaddr> {
    format!("/ip4/127.0.0.1/tcp/{port}").parse().map_err(|e| anyhow!("multiaddr for port {port}: {e}"))
}

/// Child mode: runs validator `i` until the parent closes stdin.
async fn child(args: &ConsensusBenchArgs, i: usize) -> Result<()> {
    // The parent closing our stdin (or dying) ends us.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    if args.ports.len() != args.n || i >= args.n {
        bail!("child {i}: {} ports for a set of {}", args.ports.len(), args.n);
    }
    let signing_key = key(i)?;
    let app =
        Arc::new(MemoryApp { me: signing_key.address(), set: validator_set(args.n, args.stakes)?, committed: Mutex::new(BTreeMap::new()) });
    let peers = args.ports.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| loopback(*p)).collect::<Result<Vec<_>>>()?;
    let config = EngineConfig {
        moniker: format!("v{i}"),
        home: args.home.clone().context("--home")?,
        listen: loopback(args.ports[i])?,
        peers,
        ctx: TandemContext { l1_chain_id: 31337, rollup: EthAddress::repeat_byte(0x42) },
        signing_key,
        timeouts: timeouts_for(Duration::from_millis(args.propose_timeout_ms)),
        block_time: Duration::from_millis(args.block_time_ms),
        byzantine: None,
    };
    run(config, app).await.map_err(|e| anyhow!("validator {i}: engine stopped: {e}"))?;
    bail!("validator {i}: engine stopped")
}

fn process_cpu_s(procs: &HashMap<u32, (String, f64)>, pid: u32) -> f64 {
    procs.get(&pid).map_or(0.0, |p| p.1)
}

/// Runs `n` validator processes and measures them.
fn measure(args: &ConsensusBenchArgs, n: usize) -> Result<MeasuredRow> {
    let exe = std::env::current_exe().context("the tandem binary's path")?;
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let ports = (0..n).map(|_| tandem_devnet::free_port().map_err(|e| anyhow!("a free port: {e}"))).collect::<Result<Vec<u16>>>()?;
    let ports_arg = ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
    let (tx, rx) = mpsc::channel::<(usize, u64, u32, u128)>();
    let mut children: Vec<Child> = Vec::new();
    let stop = |children: Vec<Child>| {
        for mut c in children {
            drop(c.stdin.take());
            let _ = c.kill();
            let _ = c.wait();
        }
    };
    for i in 0..n {
        let home = dir.path().join(format!("v{i}"));
        let spawned = Command::new(&exe)
            .args(["bench", "consensus", "--member", &i.to_string(), "--n", &n.to_string(), "--ports", &ports_arg])
            .arg("--home")
            .arg(&home)
            .args(["--block-time-ms", &args.block_time_ms.to_string(), "--propose-timeout-ms", &args.propose_timeout_ms.to_string()])
            .args(["--stakes", if args.stakes == StakeShape::Equal { "equal" } else { "unequal" }])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                stop(children);
                bail!("starting validator {i}: {e}");
            }
        };
        let Some(stdout) = child.stdout.take() else {
            stop(children);
            bail!("validator {i} has no stdout");
        };
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let ["decided", h, r, t] = line.split_whitespace().collect::<Vec<_>>().as_slice() {
                    if let (Ok(h), Ok(r), Ok(t)) = (h.parse(), r.parse(), t.parse()) {
                        let _ = tx.send((i, h, r, t));
                    }
                }
            }
        });
        children.push(child);
    }
    drop(tx);
    let last = args.warmup + args.heights;
    let mut seen: BTreeMap<u64, HashMap<usize, (u32, u128)>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let mut cpu_start: Option<(Vec<f64>, (f64, f64), Instant)> = None;
    let waited = loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break Err(anyhow!("timed out after {} s at height {:?}", args.timeout_s, seen.keys().last()));
        };
        match rx.recv_timeout(left.min(Duration::from_secs(1))) {
            Ok((i, h, r, t)) => {
                seen.entry(h).or_default().insert(i, (r, t));
                if cpu_start.is_none() && h >= args.warmup {
                    let procs = all_cpu();
                    cpu_start = Some((pids.iter().map(|p| process_cpu_s(&procs, *p)).collect(), machine_jiffies(), Instant::now()));
                }
                if seen.get(&last).is_some_and(|m| m.len() == n) {
                    break Ok(());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err(anyhow!("the validators exited")),
        }
    };
    let procs = all_cpu();
    let cpu_end: Vec<f64> = pids.iter().map(|p| process_cpu_s(&procs, *p)).collect();
    let machine_end = machine_jiffies();
    stop(children);
    waited?;
    let (cpu0, machine0, t0) = cpu_start.context("no height reached the warm-up")?;
    let wall_s = t0.elapsed().as_secs_f64().max(1e-9);
    let commit_times = |h: u64| seen.get(&h).map(|m| m.values().map(|(_, t)| *t).collect::<Vec<_>>()).unwrap_or_default();
    let first = |h: u64| commit_times(h).into_iter().min();
    let mut per_height_s = Vec::new();
    let mut spread_s = Vec::new();
    let mut late_rounds = 0;
    for h in args.warmup + 1..=last {
        let (Some(a), Some(b)) = (first(h - 1), first(h)) else { bail!("height {h} or its predecessor was never committed") };
        per_height_s.push(b.saturating_sub(a) as f64 / 1e9);
        let all = commit_times(h).into_iter().max().unwrap_or(b);
        spread_s.push(all.saturating_sub(b) as f64 / 1e9);
        if seen.get(&h).is_some_and(|m| m.values().any(|(r, _)| *r > 0)) {
            late_rounds += 1;
        }
    }
    let set_cpu_cores: f64 = cpu0.iter().zip(&cpu_end).map(|(a, b)| (b - a) / wall_s).sum();
    let total_s: f64 = per_height_s.iter().sum();
    let spread = Percentiles::of_seconds(&spread_s).context("no height measured")?;
    Ok(MeasuredRow {
        n,
        per_height_ms: Percentiles::of_seconds(&per_height_s).context("no height measured")?,
        mean_ms: 1e3 * total_s / per_height_s.len() as f64,
        heights_per_s: per_height_s.len() as f64 / total_s.max(1e-9),
        spread_ms: [spread.p50, spread.p99],
        late_rounds,
        heights: per_height_s.len(),
        set_cpu_cores,
        cpu_per_validator_height_ms: 1e3 * set_cpu_cores * (total_s / per_height_s.len() as f64) / n as f64,
        machine_busy: (machine_end.0 - machine0.0) / (machine_end.1 - machine0.1).max(1.0),
    })
}

/// Simulates `n` validators with `costs` on `cores` cores; the p50 and p99 time per height
/// and the busy share.
fn simulated(args: &ConsensusBenchArgs, n: usize, cores: usize, delay_ms: f64, costs: ModelCosts) -> Result<SimulatedRow> {
    let params = SimParams {
        stakes: stakes(n, args.stakes),
        cores,
        fixed_s: costs.fixed_ms / 1e3,
        per_message_s: costs.per_message_ms / 1e3,
        delay_s: delay_ms / 1e3,
        block_time_s: args.block_time_ms as f64 / 1e3,
        heights: args.warmup + args.heights,
    };
    let result = simulate(&params).with_context(|| format!("simulating {n} validators on {cores} cores did not finish"))?;
    let per = result.per_height_s(args.warmup);
    let p = Percentiles::of_seconds(&per).context("no simulated height")?;
    let total: f64 = per.iter().sum();
    Ok(SimulatedRow {
        n,
        cores,
        delay_ms,
        per_height_ms: [p.p50, p.p99],
        heights_per_s: per.len() as f64 / total.max(1e-9),
        busy: result.busy_fraction,
    })
}

fn costs_of(rows: &[&MeasuredRow]) -> Option<ModelCosts> {
    let points: Vec<(usize, f64)> = rows.iter().map(|r| (r.n, r.cpu_per_validator_height_ms / 1e3)).collect();
    fit_costs(&points).map(|(fixed, per_message)| ModelCosts { fixed_ms: fixed * 1e3, per_message_ms: per_message * 1e3 })
}

/// Runs `tandem bench consensus` (or, with `--member`, one validator of it).
pub async fn run_consensus(args: &ConsensusBenchArgs) -> Result<Option<ConsensusBenchReport>> {
    if let Some(i) = args.member {
        child(args, i).await?;
        return Ok(None);
    }
    validate(args)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut measured = Vec::new();
    for &n in &args.sizes {
        eprintln!("measuring {n} validators ({} heights after {} warm-up)…", args.heights, args.warmup);
        let a = args.clone();
        measured.push(tokio::task::spawn_blocking(move || measure(&a, n)).await.context("the measurement thread")??);
    }
    let all: Vec<&MeasuredRow> = measured.iter().collect();
    let costs = costs_of(&all);
    let mut checks = Vec::new();
    let mut simulated_rows = Vec::new();
    if let Some(costs) = costs {
        for row in &measured {
            let fitted = simulated(args, row.n, cores, args.loopback_delay_ms, costs)?;
            let others: Vec<&MeasuredRow> = measured.iter().filter(|r| r.n != row.n).collect();
            let predicted = match (others.len() >= 2).then(|| costs_of(&others)).flatten() {
                Some(c) => Some(simulated(args, row.n, cores, args.loopback_delay_ms, c)?.per_height_ms[0]),
                None => None,
            };
            let model = predicted.unwrap_or(fitted.per_height_ms[0]);
            checks.push(ModelCheck {
                n: row.n,
                measured_p50_ms: row.per_height_ms.p50,
                fitted_p50_ms: fitted.per_height_ms[0],
                predicted_p50_ms: predicted,
                error_pct: 100.0 * (model - row.per_height_ms.p50) / row.per_height_ms.p50.max(1e-9),
            });
        }
        let mut sizes: Vec<usize> = args.sizes.iter().chain(&args.simulate).copied().collect();
        sizes.sort_unstable();
        sizes.dedup();
        for &n in &sizes {
            eprintln!("simulating {n} validators…");
            simulated_rows.push(simulated(args, n, cores, args.loopback_delay_ms, costs)?);
        }
        for &n in &sizes {
            simulated_rows.push(simulated(args, n, n, args.wan_delay_ms, costs)?);
        }
    }
    Ok(Some(ConsensusBenchReport {
        cores,
        block_time_ms: args.block_time_ms,
        stakes: args.stakes,
        measured,
        costs,
        checks,
        simulated: simulated_rows,
    }))
}

/// The report as Markdown tables.
pub fn consensus_table(r: &ConsensusBenchReport) -> String {
    let mut out = format!(
        "consensus alone: block time {} ms, {} stakes, {} cores\n\n| N | p50 / p99 per height | mean | heights/s | all committed after first, p50 / p99 | rounds > 0 | set CPU (cores) | CPU per validator per height | machine busy |\n|---|---|---|---|---|---|---|---|---|\n",
        r.block_time_ms,
        if r.stakes == StakeShape::Equal { "equal" } else { "unequal (N, N − 1, …, 1)" },
        r.cores
    );
    for m in &r.measured {
        out += &format!(
            "| {} | {:.0} / {:.0} ms | {:.0} ms | {:.1} | {:.0} / {:.0} ms | {} of {} | {:.2} | {:.1} ms | {:.0}% |\n",
            m.n,
            m.per_height_ms.p50,
            m.per_height_ms.p99,
            m.mean_ms,
            m.heights_per_s,
            m.spread_ms[0],
            m.spread_ms[1],
            m.late_rounds,
            m.heights,
            m.set_cpu_cores,
            m.cpu_per_validator_height_ms,
            100.0 * m.machine_busy
        );
    }
    let Some(c) = r.costs else {
        return out + "\n(one measured size: no model fitted)\n";
    };
    out += &format!(
        "\nmodel: CPU per validator per height = {:.2} ms + {:.3} ms × (2N − 1) messages\n\n| N | measured p50 | model (fitted on all) | model (fitted on the others) | error |\n|---|---|---|---|---|\n",
        c.fixed_ms, c.per_message_ms
    );
    for k in &r.checks {
        out += &format!(
            "| {} | {:.0} ms | {:.0} ms | {} | {:+.0}% |\n",
            k.n,
            k.measured_p50_ms,
            k.fitted_p50_ms,
            k.predicted_p50_ms.map_or("—".into(), |p| format!("{p:.0} ms")),
            k.error_pct
        );
    }
    out += "\n| N (simulated) | cores | one-way delay | p50 / p99 per height | heights/s | cores busy |\n|---|---|---|---|---|---|\n";
    for s in &r.simulated {
        out += &format!(
            "| {} | {} | {} ms | {:.0} / {:.0} ms | {:.2} | {:.0}% |\n",
            s.n,
            s.cores,
            s.delay_ms,
            s.per_height_ms[0],
            s.per_height_ms[1],
            s.heights_per_s,
            100.0 * s.busy
        );
    }
    out
}
