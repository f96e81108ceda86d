//! `tandem bench set`: a staked sequencer set under offered load.
//!
//! It starts anvil (prague), deploys the staked mode and stakes `--members N` members as the
//! devnet does (member i: (N - i) × 100 tokens, its own L1 account and signing key), moves L1
//! to the epoch whose set they are, starts N `tandem node --staking …` processes (`--tandem
//! PATH`, default: this executable) and funds `--accounts` L2 accounts by L1 deposits. Before
//! the set starts, on the quiet machine, it measures the execution ceiling: one ledger
//! applying 1,000 transfers on one core (`tandem bench ledger`'s workload at the same
//! accounts and depth), times the cores, divided by the members; it measures it again after
//! each rate's drain with the members and anvil paused, and holds each rate against the mean
//! of the measurements before and after it. Then,
//! for each offered rate (`--rates`, `--repeat` times): it pre-signs `rate × duration`
//! transfers (each from the next account in turn to a pseudo-random other one, as in the
//! ledger bench; each account's nonces in order) and submits them on
//! schedule (transfer k at `k / rate` s; each account always to the same member, accounts
//! spread round-robin over the members, at most `--concurrency` requests in flight per
//! member, one per account; or, with `--submit-batch N`, what is due to a member at most N
//! per `tandem_sendTransactions` call, one call in flight per member). For every transaction
//! it records the time from sending its request to the moment the member it was sent to has
//! the block containing it ("included": decided by the set and executed there). Block arrival is seen by a
//! `tandem_waitForBlock` call kept waiting on every member (answered as the block commits
//! there, so the members are not polled) and reading each block's `txHashes` once;
//! after each rate a sample of transactions is cross-checked with `tandem_getTransaction` on
//! their member.
//!
//! Reported per rate ([`SetBenchRow`]): offered and achieved submit rate, refusals, included
//! throughput in the steady window (`--warm-s` after the start to the end of submission),
//! measured from the first block committed in it to the last (the ops of the blocks after
//! the first over the time between the two commits), and its share of the execution ceiling,
//! backlog at the end, latency p50/p90/p99/max of transactions sent in the steady window,
//! submit RPC latency, blocks and ops per block, consensus heights per second, the CPU used by
//! each member, anvil, this generator and everything else on the machine (from /proc), and
//! the members' pipeline from their JSON logs. After all rates: for a rate measured more
//! than once (`--repeat`), the spread of its share of the ceiling and the medians; the L1 gas
//! of the transfer-only batches the set committed.

use crate::devnet::set::{member_l1_key, member_signing_key, STAKE_STEP_TOKENS};
use alloy::consensus::Transaction as _;
use alloy::node_bindings::AnvilInstance;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::sol_types::SolCall;
use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::Args;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::{anvil_binary, repo_root, spawn_anvil, AnvilOptions};
use tandem_devnet::{
    bootstrap_staked_set, tail, MemberArgs, NodeCommand, StakedDeployment, StakedMember, StakedParams, StakedSetSpec, Supervised,
};
use tandem_l1::{PrivateKeySigner, RollupClient, U256};
use tandem_state::signing::sign_tx;
use tandem_types::{AccountIndex, PackedAmount, PackedFee, PackedPubKey, TokenId, TransferTx, Tx, ACCOUNT_INDEX_BITS};

/// Largest active set the staking contract allows (`SequencerStaking.MAX_SET_SIZE`).
pub const MAX_SET_SIZE: usize = 128;
/// L2 chain id of the benchmark's chain.
const CHAIN_ID: u64 = 778;
/// One staking token (18 decimals).
const TOKEN: u128 = 1_000_000_000_000_000_000;
/// L1 accounts (anvil dev accounts 1..=DEPOSITORS) that send the funding deposits in parallel.
const DEPOSITORS: usize = 32;
/// ETH (wei) each member's L1 account gets for its batch commits.
const MEMBER_ETH_WEI: u128 = 10_000 * TOKEN;
/// Most transfers one phase pre-signs and holds in memory.
const MAX_PHASE_TXS: u64 = 2_000_000;
/// Most funded L2 accounts.
const MAX_ACCOUNTS: usize = 100_000;
/// How long the members have to decide their first heights.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a deposit may take to be credited on every member.
const CREDIT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a phase waits for the previous phase's backlog to clear.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

/// Parameters of `tandem bench set`.
#[derive(Debug, Clone, Args)]
pub struct SetBenchArgs {
    /// Members of the set (member i stakes (N - i) × 100 tokens).
    #[arg(long, default_value_t = 4)]
    pub members: usize,
    /// Offered rates in transactions per second, comma-separated (0: an idle baseline).
    #[arg(long, value_delimiter = ',', default_value = "100,200,400")]
    pub rates: Vec<u64>,
    /// Seconds of submission per rate.
    #[arg(long, default_value_t = 30)]
    pub duration_s: u64,
    /// Seconds after the start of a rate before the steady window (latency, throughput) opens.
    #[arg(long, default_value_t = 5)]
    pub warm_s: u64,
    /// Most seconds to wait after a rate for its last transactions to be included.
    #[arg(long, default_value_t = 90)]
    pub drain_s: u64,
    /// Funded L2 accounts the transfers move between.
    #[arg(long, default_value_t = 512)]
    pub accounts: usize,
    /// Most ops per L2 block (`tandem node --max-block-ops`).
    #[arg(long, default_value_t = tandem_node::config::DEFAULT_MAX_BLOCK_OPS)]
    pub max_block_ops: usize,
    /// Target L2 block time in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub block_time_ms: u64,
    /// Consensus propose timeout in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub propose_timeout_ms: u64,
    /// Depth of the account tree (24 in production).
    #[arg(long, default_value_t = 24)]
    pub tree_depth: u8,
    /// How many times the whole list of rates runs.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Most submit requests in flight per member (with `--submit-batch 1`).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Transactions per submit request: 1 sends each alone with `tandem_sendTransaction`; N > 1
    /// sends what is due to a member together with `tandem_sendTransactions`, at most N per
    /// call and one call in flight per member (which keeps each account's nonces in order), as
    /// a service submitting for many users would.
    #[arg(long, default_value_t = 1)]
    pub submit_batch: usize,
    /// How often the members poll L1, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub l1_poll_ms: u64,
    /// The `tandem` executable the members run (default: this one).
    #[arg(long)]
    pub tandem: Option<PathBuf>,
    /// The anvil executable (default: the repository's npm anvil).
    #[arg(long)]
    pub anvil: Option<PathBuf>,
    /// Print JSON instead of the table (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Also write an SVG of latency p50/p90/p99 and included throughput against offered load.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Keep the members' data directories and logs (their path is printed). Kept without it
    /// too when a rate lost consensus rounds, so that the members' logs can say why.
    #[arg(long)]
    pub keep: bool,
    /// Transfers in the block the one-core ledger applies to measure the execution ceiling
    /// (median of three timed applications, before the set starts and after each rate).
    #[arg(long, default_value_t = 1_000)]
    pub ceiling_transfers: usize,
}

impl Default for SetBenchArgs {
    fn default() -> Self {
        Self {
            members: 4,
            rates: vec![100, 200, 400],
            duration_s: 30,
            warm_s: 5,
            drain_s: 90,
            accounts: 512,
            max_block_ops: tandem_node::config::DEFAULT_MAX_BLOCK_OPS,
            block_time_ms: 1000,
            propose_timeout_ms: 3000,
            tree_depth: 24,
            repeat: 1,
            concurrency: 32,
            submit_batch: 1,
            l1_poll_ms: 1000,
            tandem: None,
            anvil: None,
            json: false,
            plot: None,
            keep: false,
            ceiling_transfers: 1_000,
        }
    }
}

/// Refuses parameters the run cannot use, before anything starts.
pub fn validate(args: &SetBenchArgs) -> Result<()> {
    ensure!(args.members >= 1, "--members must be at least 1");
    ensure!(
        args.members <= MAX_SET_SIZE,
        "--members {}: the staking contract's active set holds at most {MAX_SET_SIZE} members (MAX_SET_SIZE)",
        args.members
    );
    ensure!(!args.rates.is_empty(), "--rates needs at least one rate");
    ensure!((1..=3_600).contains(&args.duration_s), "--duration-s must be in 1..=3600");
    ensure!(
        args.warm_s < args.duration_s,
        "--warm-s {} must be less than --duration-s {}: the steady window would be empty",
        args.warm_s,
        args.duration_s
    );
    for &rate in &args.rates {
        ensure!(
            rate.saturating_mul(args.duration_s) <= MAX_PHASE_TXS,
            "--rates {rate} × --duration-s {} is more than {MAX_PHASE_TXS} transfers in one phase",
            args.duration_s
        );
    }
    ensure!(args.drain_s <= 3_600, "--drain-s must be at most 3600");
    ensure!((1..=ACCOUNT_INDEX_BITS as u8).contains(&args.tree_depth), "--tree-depth must be in 1..={ACCOUNT_INDEX_BITS}");
    ensure!(
        (2..=MAX_ACCOUNTS).contains(&args.accounts),
        "--accounts must be in 2..={MAX_ACCOUNTS} (every transfer goes to another account)"
    );
    // Index 0 is the fee account.
    ensure!(
        (args.accounts as u64) < 1u64 << args.tree_depth,
        "--accounts {} and the fee account do not fit a tree of depth {} ({} leaves)",
        args.accounts,
        args.tree_depth,
        1u64 << args.tree_depth
    );
    ensure!(args.max_block_ops >= 1, "--max-block-ops must be at least 1");
    ensure!(args.block_time_ms >= 1, "--block-time-ms must be at least 1");
    ensure!(args.propose_timeout_ms >= 1, "--propose-timeout-ms must be at least 1");
    ensure!((1..=100).contains(&args.repeat), "--repeat must be in 1..=100");
    ensure!((1..=100_000).contains(&args.ceiling_transfers), "--ceiling-transfers must be in 1..=100000");
    ensure!((1..=4_096).contains(&args.concurrency), "--concurrency must be in 1..=4096");
    ensure!(
        (1..=tandem_api::MAX_SEND_BATCH).contains(&args.submit_batch),
        "--submit-batch must be in 1..={} (tandem_sendTransactions' bound)",
        tandem_api::MAX_SEND_BATCH
    );
    ensure!(args.l1_poll_ms >= 1, "--l1-poll-ms must be at least 1");
    Ok(())
}

/// Member i's stake in whole tokens: (N - i) × 100, as `tandem devnet --sequencers N` stakes.
pub fn stakes_tokens(members: usize) -> Vec<u64> {
    (0..members).map(|i| STAKE_STEP_TOKENS * (members - i) as u64).collect()
}

// ---------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------

/// A run of `tandem bench set`: its parameters, one row per rate and repeat, and the L1 gas
/// of the set's batches. Invariant: the table ([`set_table`]), the JSON and the plot are
/// all drawn from this value alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetBenchReport {
    /// Members of the set.
    pub members: usize,
    /// Their stakes in whole tokens, member 0 first.
    pub stakes_tokens: Vec<u64>,
    /// Cores of this machine (what the members, anvil and the generator share).
    pub cores: usize,
    /// `--max-block-ops`.
    pub max_block_ops: usize,
    /// `--block-time-ms`.
    pub block_time_ms: u64,
    /// `--propose-timeout-ms`.
    pub propose_timeout_ms: u64,
    /// `--tree-depth`.
    pub tree_depth: u8,
    /// `--accounts`.
    pub accounts: usize,
    /// `--duration-s`.
    pub duration_s: u64,
    /// `--warm-s`.
    pub warm_s: u64,
    /// `--concurrency`.
    pub concurrency: usize,
    /// `--submit-batch`.
    pub submit_batch: usize,
    /// One ledger on one core, measured by this run before the set starts (each row carries
    /// the ceiling measured around it, `SetBenchRow::ceiling_tx_s`): transfers/s
    /// applying a block of 1,000 signed transfers between pseudo-random pairs of the same
    /// number of accounts at the same depth (`tandem bench ledger`'s workload, which the
    /// generator's transfers follow).
    pub ledger_one_core_tx_s: f64,
    /// The set's execution ceiling, `cores × ledger_one_core_tx_s / members`: what the
    /// members could include if each executed every transaction once and did nothing else.
    pub execution_ceiling_tx_s: f64,
    /// One row per offered rate, in the order run (rates × repeat).
    pub rows: Vec<SetBenchRow>,
    /// Transfer-only batches committed on L1, grouped by signers and size.
    pub l1_batches: Vec<BatchGasRow>,
}

/// Percentiles of a sample, in milliseconds (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `seconds` (in any order), in milliseconds; `None` for no sample.
    pub fn of_seconds(seconds: &[f64]) -> Option<Self> {
        let mut v = seconds.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |p: f64| v.get(((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize - 1).map(|s| s * 1e3);
        Some(Self { p50: at(50.0)?, p90: at(90.0)?, p99: at(99.0)?, max: v.last()? * 1e3 })
    }
}

/// CPU used during a phase's submission, in cores (1.0 = one core busy all the time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuUse {
    /// Per member, member 0 first.
    pub members: Vec<f64>,
    /// The members together.
    pub members_total: f64,
    /// anvil.
    pub anvil: f64,
    /// This process (signing is done before the phase; this is submission and tracking).
    pub generator: f64,
    /// Every other process on the machine.
    pub others_total: f64,
    /// The busiest other processes by command name (at least 0.02 cores), busiest first.
    pub others: Vec<OtherCpu>,
    /// Share of the whole machine busy (0..=1).
    pub machine_busy: f64,
}

/// Another process's CPU during a phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherCpu {
    /// Its command name (`/proc/<pid>/stat`).
    pub name: String,
    /// Cores it used.
    pub cores: f64,
}

/// What the members' logs say about a phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineSummary {
    /// Proposals that carried inputs.
    pub proposals_with_inputs: usize,
    /// "proposing" (with inputs) → the proposer's next "block produced": p50, p90 ms.
    pub propose_to_commit_ms: Option<[f64; 2]>,
    /// Per block, the last member's "block produced" − the first member's: p50, p90 ms.
    pub commit_spread_ms: Option<[f64; 2]>,
    /// Time between consecutive "proposing" events of any member: p50, p90 ms.
    pub height_interval_ms: Option<[f64; 2]>,
    /// "new round" events (rounds above 0).
    pub late_rounds: usize,
}

/// The measurement at one offered rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetBenchRow {
    /// Offered rate, transactions per second (0: idle baseline).
    pub offered_tx_s: u64,
    /// Which pass over `--rates` (0-based).
    pub round: usize,
    /// Transfers offered (`rate × duration`).
    pub offered_txs: usize,
    /// Transfers the members accepted.
    pub sent: usize,
    /// Transfers refused (an account stops at its first refusal).
    pub refused: usize,
    /// The first refusal, for the reader.
    pub refusal_sample: Option<String>,
    /// Accepted transfers per second of submission.
    pub submit_tx_s: f64,
    /// Largest delay of a send behind its schedule, seconds.
    pub max_lag_s: f64,
    /// Transfers included per second in the steady window, from block commit to block commit
    /// ([`rate_between_commits`]); counting the transactions whose block arrived in the window
    /// over its length instead moves by a whole block (±7 % at one block a second in 15 s)
    /// with where the window's edges fall. Falls back to `included_in_window_tx_s` when fewer
    /// than two blocks committed in the window.
    pub included_tx_s: f64,
    /// Transfers whose block arrived at their member within the steady window, over the
    /// window's length (this bench's estimator before 2026-12-07, kept for comparison).
    pub included_in_window_tx_s: f64,
    /// The execution ceiling this rate is held against: `cores × ledger / members`, with
    /// `ledger` the mean of the one-core ledger measured just before this rate and just after
    /// its drain (the members and anvil paused meanwhile). Measured around each rate because
    /// a shared VM's speed drifts by ±10 % over minutes.
    pub ceiling_tx_s: f64,
    /// `included_tx_s` as a share of `ceiling_tx_s` (0..; 1.0 = the ceiling).
    pub of_ceiling: f64,
    /// Accepted transfers not yet included when submission ended.
    pub backlog_at_end: usize,
    /// Accepted transfers still not included after the drain.
    pub missing_after_drain: usize,
    /// Seconds the drain took.
    pub drain_s: f64,
    /// Submit → included on the member it was sent to, of transfers sent in the steady window.
    pub latency_ms: Option<Percentiles>,
    /// `tandem_sendTransaction` round trip.
    pub submit_rpc_ms: Option<Percentiles>,
    /// Blocks produced during submission (seen at member 0).
    pub blocks: usize,
    /// Mean ops per block.
    pub mean_ops: f64,
    /// Most ops in one block.
    pub max_ops: u64,
    /// Consensus heights decided per second.
    pub heights_per_s: f64,
    /// CPU per process.
    pub cpu: CpuUse,
    /// The members' CPU per included transfer, all members together, ms.
    pub member_cpu_ms_per_tx: Option<f64>,
    /// Transfers cross-checked with `tandem_getTransaction`.
    pub checked: usize,
    /// Of those, the ones their member reports included in the block the tracker saw.
    pub checked_ok: usize,
    /// From the members' logs.
    pub pipeline: PipelineSummary,
}

/// L1 `commitBatchSigned` receipts of transfer-only batches with the same signers and size bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchGasRow {
    /// Signatures on the batch.
    pub signers: usize,
    /// Ops per batch, at most (16, 128, 512 or 2048).
    pub ops_up_to: u64,
    /// Batches in the group.
    pub batches: u64,
    /// Mean ops per batch.
    pub mean_ops: f64,
    /// Mean `gasUsed`.
    pub mean_gas_used: u64,
}

fn ms(x: f64) -> String {
    format!("{x:.0}")
}

fn opt_pair(x: Option<[f64; 2]>) -> String {
    x.map_or("-".into(), |[a, b]| format!("{} / {}", ms(a), ms(b)))
}

/// For each offered rate measured more than once (`--repeat`), the spread of its runs: share
/// of the ceiling min / median / max, and the medians of included throughput and members' CPU
/// per transaction. Empty when no rate repeats. Why: on a shared machine one run's share moves
/// by several per cent, so a goal is judged on the median of runs, not on one.
fn repeat_summary(rows: &[SetBenchRow]) -> String {
    let mut by_rate: BTreeMap<u64, Vec<&SetBenchRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.offered_tx_s > 0) {
        by_rate.entry(row.offered_tx_s).or_default().push(row);
    }
    let median = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let mut out = String::new();
    for (rate, runs) in by_rate.iter().filter(|(_, runs)| runs.len() > 1) {
        let shares: Vec<f64> = runs.iter().map(|r| 100.0 * r.of_ceiling).collect();
        let (low, high) = shares.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
        let cpu: Vec<f64> = runs.iter().filter_map(|r| r.member_cpu_ms_per_tx).collect();
        out += &format!(
            "rate {rate}, {} runs: of ceiling {low:.1} / {:.1} / {high:.1} % (min / median / max); included {:.0} tx/s, member CPU per tx {} (medians)\n",
            runs.len(),
            median(shares.clone()),
            median(runs.iter().map(|r| r.included_tx_s).collect()),
            if cpu.is_empty() { "-".to_string() } else { format!("{:.2} ms", median(cpu)) },
        );
    }
    out
}

/// The report as a Markdown table (one row per rate), the pipeline per rate, the spread of
/// repeated rates, and the L1 gas.
pub fn set_table(r: &SetBenchReport) -> String {
    let stakes: Vec<String> = r.stakes_tokens.iter().map(u64::to_string).collect();
    let mut out = format!(
        "tandem bench set: {} members (stakes {}), {} cores, max block ops {}, block time {} ms, propose timeout {} ms, tree depth {}, {} accounts, {} s per rate (steady window from {} s), concurrency {} per member, {} transactions per submit request at most\n\n",
        r.members,
        stakes.join("/"),
        r.cores,
        r.max_block_ops,
        r.block_time_ms,
        r.propose_timeout_ms,
        r.tree_depth,
        r.accounts,
        r.duration_s,
        r.warm_s,
        r.concurrency,
        r.submit_batch
    );
    out += &format!(
        "execution ceiling: {} cores x {:.0} transfers/s (one ledger, one core, same accounts and depth) / {} members = {:.0} tx/s before the set started; each rate is held against the ceiling measured around it (`of ceiling`)\n\n",
        r.cores, r.ledger_one_core_tx_s, r.members, r.execution_ceiling_tx_s
    );
    out += "| offered tx/s | sent (refused) | submit tx/s | included tx/s (steady, block to block) | of ceiling | backlog at end | latency p50 / p90 / p99 / max ms | submit RPC p50 / p99 ms | blocks, mean / max ops | heights/s | members' CPU (cores) | anvil | generator | others | machine busy | member CPU per tx | checked |\n";
    out += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for row in &r.rows {
        let latency = row.latency_ms.map_or("-".into(), |l| format!("{} / {} / {} / {}", ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max)));
        let rpc = row.submit_rpc_ms.map_or("-".into(), |l| format!("{} / {}", ms(l.p50), ms(l.p99)));
        let per_member: Vec<String> = row.cpu.members.iter().map(|c| format!("{c:.2}")).collect();
        out += &format!(
            "| {} | {} ({}) | {:.0} | {:.0} | {:.0}% of {:.0} | {} | {} | {} | {}, {:.0} / {} | {:.2} | {} = {:.2} | {:.2} | {:.2} | {:.2} | {:.0}% | {} | {}/{} |\n",
            row.offered_tx_s,
            row.sent,
            row.refused,
            row.submit_tx_s,
            row.included_tx_s,
            100.0 * row.of_ceiling,
            row.ceiling_tx_s,
            row.backlog_at_end,
            latency,
            rpc,
            row.blocks,
            row.mean_ops,
            row.max_ops,
            row.heights_per_s,
            per_member.join(" + "),
            row.cpu.members_total,
            row.cpu.anvil,
            row.cpu.generator,
            row.cpu.others_total,
            100.0 * row.cpu.machine_busy,
            row.member_cpu_ms_per_tx.map_or("-".into(), |c| format!("{c:.1} ms")),
            row.checked_ok,
            row.checked,
        );
    }
    out += "\n";
    for row in &r.rows {
        let p = &row.pipeline;
        let others: Vec<String> = row.cpu.others.iter().take(5).map(|o| format!("{} {:.2}", o.name, o.cores)).collect();
        out += &format!(
            "rate {}: {} proposals with inputs; propose -> committed at the proposer p50 / p90 {} ms; block committed at all members within p50 / p90 {} ms of the first; rounds > 0: {}; height interval p50 / p90 {} ms\n",
            row.offered_tx_s,
            p.proposals_with_inputs,
            opt_pair(p.propose_to_commit_ms),
            opt_pair(p.commit_spread_ms),
            p.late_rounds,
            opt_pair(p.height_interval_ms),
        );
        out += &format!(
            "rate {}: {} offered, {} sent, {} refused{}, {} not included after a {:.0} s drain, send lag <= {:.1} s; other processes: {}\n",
            row.offered_tx_s,
            row.offered_txs,
            row.sent,
            row.refused,
            row.refusal_sample.as_ref().map(|s| format!(" (e.g. {s})")).unwrap_or_default(),
            row.missing_after_drain,
            row.drain_s,
            row.max_lag_s,
            if others.is_empty() { "none".into() } else { others.join(", ") }
        );
    }
    out += &repeat_summary(&r.rows);
    let batches: u64 = r.l1_batches.iter().map(|b| b.batches).sum();
    out += &format!("\nL1 commitBatchSigned receipts, transfer-only batches ({batches} batches):\n");
    for b in &r.l1_batches {
        out += &format!(
            "  {} signers, <= {} ops (mean {:.0} ops): {} batches, mean gasUsed {}\n",
            b.signers, b.ops_up_to, b.mean_ops, b.batches, b.mean_gas_used
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// /proc accounting
// ---------------------------------------------------------------------------------------

/// pid -> (command name, utime + stime in seconds) of every process.
pub(super) fn all_cpu() -> HashMap<u32, (String, f64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    // Clock ticks per second: 100 on Linux (USER_HZ).
    let hz = 100.0;
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat.get(close + 2..).unwrap_or_default().split_whitespace().collect();
        let ticks = fields.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
        out.insert(pid, (comm, ticks / hz));
    }
    out
}

/// (busy, total) jiffies of the machine.
pub(super) fn machine_jiffies() -> (f64, f64) {
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

fn cpu_between(a: &CpuSnapshot, b: &CpuSnapshot, members: &[Option<u32>], anvil: u32) -> CpuUse {
    let wall = (b.at - a.at).as_secs_f64().max(1e-9);
    let used = |pid: u32| -> f64 {
        let end = b.procs.get(&pid).map_or(0.0, |x| x.1);
        let start = a.procs.get(&pid).map_or(0.0, |x| x.1);
        (end - start) / wall
    };
    let me = std::process::id();
    let mut others: BTreeMap<String, f64> = BTreeMap::new();
    for (pid, (comm, _)) in &b.procs {
        if *pid == me || *pid == anvil || members.contains(&Some(*pid)) {
            continue;
        }
        let u = used(*pid);
        if u > 0.0 {
            *others.entry(comm.clone()).or_default() += u;
        }
    }
    let others_total = others.values().sum();
    let mut others: Vec<OtherCpu> = others.into_iter().filter(|(_, u)| *u >= 0.02).map(|(name, cores)| OtherCpu { name, cores }).collect();
    others.sort_by(|x, y| y.cores.total_cmp(&x.cores));
    let members: Vec<f64> = members.iter().map(|p| p.map_or(0.0, used)).collect();
    CpuUse {
        members_total: members.iter().sum(),
        members,
        anvil: used(anvil),
        generator: used(me),
        others_total,
        others,
        machine_busy: (b.machine.0 - a.machine.0) / (b.machine.1 - a.machine.1).max(1.0),
    }
}

// ---------------------------------------------------------------------------------------
// The set
// ---------------------------------------------------------------------------------------

struct MemberProc {
    rpc: HttpClient,
    child: Supervised,
}

struct SetNet {
    members: Vec<MemberProc>,
    anvil: AnvilInstance,
    url: String,
    depositors: Vec<PrivateKeySigner>,
    deployment: StakedDeployment,
    dir: tempfile::TempDir,
}

async fn rpc<T: serde::de::DeserializeOwned>(client: &HttpClient, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Option<T> {
    client.request(method, params).await.ok()
}

/// The anvil to run: `--anvil`, else the npm anvil of the repository this was built in or of
/// the current directory.
fn find_anvil(args: &SetBenchArgs) -> Result<PathBuf> {
    if let Some(a) = &args.anvil {
        ensure!(a.exists(), "--anvil {} does not exist", a.display());
        return Ok(a.clone());
    }
    let candidates = [anvil_binary(&repo_root()), anvil_binary(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))];
    candidates
        .iter()
        .find(|a| a.exists())
        .cloned()
        .ok_or_else(|| anyhow!("anvil not found at {}: run `npm ci` in the Tandem repository, or pass --anvil", candidates[0].display()))
}

fn free_port() -> Result<u16> {
    tandem_devnet::free_port().map_err(|e| anyhow!("finding a free port: {e}"))
}

impl SetNet {
    async fn start(args: &SetBenchArgs, tandem: &Path) -> Result<SetNet> {
        let n = args.members;
        let anvil_bin = find_anvil(args)?;
        let anvil = spawn_anvil(&anvil_bin, &AnvilOptions { block_time: None, accounts: Some(1 + DEPOSITORS as u32) })
            .map_err(|e| anyhow!("starting anvil: {e}"))?;
        let url = anvil.endpoint();
        let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
        ensure!(keys.len() > DEPOSITORS, "anvil made {} dev accounts, not {}", keys.len(), DEPOSITORS + 1);
        let fee_key = PrivateKey::from_seed([60; 32]);
        let genesis =
            tandem_chain::genesis_root(CHAIN_ID, args.tree_depth, fee_key.public_key().pack()).map_err(|e| anyhow!("genesis: {e}"))?;
        // No epoch change during a run: one long epoch.
        let epoch_length = 86_400;
        let stakes = stakes_tokens(n);
        let params = StakedParams {
            treasury: alloy::primitives::Address::repeat_byte(0x7e),
            min_stake: tokens(10),
            max_stake: tokens(stakes[0].max(10_000)),
            epoch_length,
            unbonding_delay: epoch_length + 1,
            max_active: n as u16,
            max_stakers: n as u32,
            slash_bps: 1_000,
            reporter_bps: 3_000,
            challenge_window: 1,
            emission_per_batch: U256::ZERO,
        };
        let mut ports = Vec::with_capacity(n);
        for _ in 0..n {
            ports.push((free_port()?, free_port()?, free_port()?));
        }
        let stakers: Vec<StakedMember> = (0..n)
            .map(|i| StakedMember::local(member_l1_key(i), member_signing_key(i).address(), tokens(stakes[i]), ports[i].0, ports[i].1))
            .collect();
        let exodus = tandem_devnet::ExodusParams::unexercised();
        let spec = StakedSetSpec {
            deployer: keys[0].clone(),
            genesis_root: genesis,
            params: &params,
            exodus: &exodus,
            token_supply: tokens(stakes.iter().sum::<u64>() + 1_000),
            members: &stakers,
            member_eth: Some(U256::from(MEMBER_ETH_WEI)),
            fault_proofs: None,
        };
        let set = bootstrap_staked_set(&url, &spec).await.map_err(|e| anyhow!("bootstrapping the staked set: {e}"))?;
        let (deployment, genesis_epoch) = (set.deployment, set.genesis_epoch);
        let dir = tempfile::tempdir().context("creating a directory for the members")?;
        let mut members = Vec::with_capacity(n);
        for (i, (p2p, rpc_port, metrics_port)) in ports.into_iter().enumerate() {
            let mut node = NodeCommand::new(
                &dir.path().join(format!("member{i}")),
                CHAIN_ID,
                args.tree_depth,
                fee_key.public_key().pack(),
                &url,
                deployment.rollup,
                deployment.deploy_block,
                member_l1_key(i),
                ([127, 0, 0, 1], rpc_port).into(),
                ([127, 0, 0, 1], metrics_port).into(),
            );
            node.block_time_ms = Some(args.block_time_ms);
            node.max_block_ops = Some(args.max_block_ops);
            node.l1_confirmations = Some(0);
            node.l1_poll_ms = Some(args.l1_poll_ms);
            node.log_json = true;
            node.member = Some(MemberArgs {
                staking: deployment.staking,
                signing_key: member_signing_key(i),
                p2p_port: p2p,
                genesis_epoch,
                post_timeout_ms: Some(5000),
                propose_timeout_ms: Some(args.propose_timeout_ms),
                byzantine_equivocate: false,
                withhold_batches: false,
            });
            let log_path = dir.path().join(format!("member{i}.log"));
            let child = Supervised::spawn(format!("member {i}"), node.command(tandem), &log_path)
                .map_err(|e| anyhow!("starting member {i}: {e}"))?;
            let rpc = HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(120))
                .build(format!("http://127.0.0.1:{rpc_port}"))
                .context("member RPC client")?;
            members.push(MemberProc { rpc, child });
        }
        let depositors = keys[1..=DEPOSITORS].to_vec();
        Ok(SetNet { members, anvil, url, depositors, deployment, dir })
    }

    async fn consensus_height(&self, m: usize) -> Option<u64> {
        let set: Value = rpc(&self.members[m].rpc, "tandem_sequencerSet", rpc_params![]).await?;
        set["consensusHeight"].as_u64()
    }

    async fn wait_height(&mut self, h: u64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut ok = true;
            for m in 0..self.members.len() {
                ok &= self.consensus_height(m).await.is_some_and(|x| x >= h);
            }
            if ok {
                return Ok(());
            }
            for m in &mut self.members {
                if let Err(e) = m.child.check_alive() {
                    bail!("{e}\n{}", self.logs_tail());
                }
            }
            if Instant::now() > deadline {
                bail!("the members did not reach consensus height {h} within {} s\n{}", timeout.as_secs(), self.logs_tail());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn logs_tail(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("----- {} (last 20 lines of {}) -----\n{}", m.child.name(), m.child.log().display(), tail(m.child.log(), 20)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn pids(&self) -> Vec<Option<u32>> {
        self.members.iter().map(|m| m.child.pid()).collect()
    }

    fn anvil_pid(&self) -> u32 {
        self.anvil.child().id()
    }

    /// Runs `f` with the members and anvil stopped (SIGSTOP, then SIGCONT even if `f` fails),
    /// so that it has the machine to itself.
    fn paused<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let pids: Vec<String> = self.pids().into_iter().flatten().chain([self.anvil_pid()]).map(|p| p.to_string()).collect();
        let signal = |sig: &str| -> Result<()> {
            let status = std::process::Command::new("kill").arg(sig).args(&pids).status().with_context(|| format!("kill {sig}"))?;
            ensure!(status.success(), "kill {sig} {} failed: {status}", pids.join(" "));
            Ok(())
        };
        signal("-STOP")?;
        let result = f();
        signal("-CONT")?;
        result
    }
}

/// One ledger on one core applying 1,000 transfers between the bench's accounts at its depth
/// (`tandem bench ledger`'s workload), transfers per second, median of 3.
fn ledger_one_core(args: &SetBenchArgs) -> Result<f64> {
    let ledger = super::ledger::run_ledger(&super::ledger::LedgerBenchArgs {
        transfers: args.ceiling_transfers,
        accounts: u32::try_from(args.accounts)? + 1,
        depth: args.tree_depth,
        threads: vec![1],
        repeat: 3,
        json: false,
    })?;
    Ok(ledger.first().context("the ledger bench measured nothing")?.transfers_per_s)
}

// ---------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------

struct User {
    key: PrivateKey,
    packed: PackedPubKey,
    index: AccountIndex,
}

async fn fund_accounts(net: &SetNet, n: usize) -> Result<Vec<User>> {
    let keys: Vec<PrivateKey> =
        (0..n).map(|i| PrivateKey::from_seed(alloy::primitives::keccak256(format!("tandem.bench-set.user.{i}")).0)).collect();
    let started = Instant::now();
    let mut lanes = tokio::task::JoinSet::new();
    for (lane, depositor) in net.depositors.iter().enumerate() {
        let client = RollupClient::new(&net.url, net.deployment.rollup, Some(depositor.clone())).map_err(|e| anyhow!("{e}"))?;
        let mine: Vec<(U256, U256)> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| i % net.depositors.len() == lane)
            .map(|(_, k)| {
                let pk = k.public_key();
                (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())))
            })
            .collect();
        lanes.spawn(async move {
            for (x, y) in mine {
                client.deposit_eth(x, y, U256::from(TOKEN)).await.map_err(|e| anyhow!("deposit: {e}"))?;
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(r) = lanes.join_next().await {
        r.context("deposit lane")??;
    }
    eprintln!("{n} deposits on L1 in {:.1} s", started.elapsed().as_secs_f64());
    let mut users = Vec::with_capacity(n);
    let deadline = Instant::now() + CREDIT_TIMEOUT;
    for key in keys {
        let packed = key.public_key().pack();
        let hex_key = format!("0x{}", hex::encode(packed.0));
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
            ensure!(
                Instant::now() < deadline,
                "the deposit for {hex_key} was not credited on every member within {} s",
                CREDIT_TIMEOUT.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let index = u32::try_from(index)
            .ok()
            .and_then(|i| AccountIndex::new(i).ok())
            .ok_or_else(|| anyhow!("account index {index} out of range"))?;
        users.push(User { key, packed, index });
    }
    eprintln!("{n} accounts credited on every member after {:.1} s", started.elapsed().as_secs_f64());
    Ok(users)
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

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a tracking task panicked; the data is still the best known.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long one `tandem_waitForBlock` call of the block trackers waits, in milliseconds.
const BLOCK_WAIT_MS: u64 = 10_000;

/// Starts the block trackers; they run until the returned set is dropped.
fn start_tracking(net: &SetNet) -> (Shared<Tracker>, tokio::task::JoinSet<()>) {
    let tracker = Arc::new(Mutex::new(Tracker { seen: vec![BTreeMap::new(); net.members.len()], ..Default::default() }));
    let mut tasks = tokio::task::JoinSet::new();
    for (m, member) in net.members.iter().enumerate() {
        let client = member.rpc.clone();
        let t = tracker.clone();
        tasks.spawn(async move {
            let mut last = 0u64;
            loop {
                // Answered as soon as the member commits a block past `last`: exact arrival
                // times without polling the members (whose CPU the bench measures).
                match rpc::<u64>(&client, "tandem_waitForBlock", rpc_params![last, BLOCK_WAIT_MS]).await {
                    Some(n) if n > last => {
                        let now = Instant::now();
                        let mut t = lock(&t);
                        for b in last + 1..=n {
                            t.seen[m].insert(b, now);
                        }
                        last = n;
                    }
                    Some(_) => {}
                    None => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
    }
    let clients: Vec<HttpClient> = net.members.iter().map(|m| m.rpc.clone()).collect();
    let t = tracker.clone();
    tasks.spawn(async move {
        let mut fetched = 0u64;
        loop {
            let next = fetched + 1;
            let from = {
                let t = lock(&t);
                (0..clients.len()).find(|m| t.seen[*m].contains_key(&next))
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
            let mut t = lock(&t);
            t.ops.insert(next, block["opCount"].as_u64().unwrap_or(0));
            for h in hashes {
                t.tx_block.insert(h, next);
            }
            fetched = next;
        }
    });
    (tracker, tasks)
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

/// The recipient of the `k`-th transfer, sent by `sender` among `accounts` users:
/// pseudo-random and never the sender, as in `tandem bench ledger`, so that the set executes
/// the same kind of block as the ledger its ceiling is measured on (neighbouring accounts
/// would share most of their Merkle paths and hash less).
fn recipient(k: usize, sender: usize, accounts: usize) -> usize {
    // splitmix64: a fixed, well-mixed sequence, so runs are comparable.
    let mut z = (k as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let other = (z % (accounts.max(2) as u64 - 1)) as usize;
    if other >= sender {
        other + 1
    } else {
        other
    }
}

/// Signs `count` transfers: transfer k is from account k % A (to [`recipient`]`(k, …)`) with
/// the account's next nonce, due at `k / rate` s. Returns each account's list in time order.
fn presign(users: &[User], nonces: &[u32], count: usize, rate: u64) -> Result<Vec<Vec<(Duration, String)>>> {
    let a = users.len();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let jobs: Vec<usize> = (0..count).collect();
    let signed: Vec<Result<Vec<(usize, usize, String)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(count.div_ceil(threads).max(1))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|&k| {
                            let acct = k % a;
                            let nonce = u32::try_from(k / a)
                                .ok()
                                .and_then(|d| nonces[acct].checked_add(d))
                                .ok_or_else(|| anyhow!("nonce overflow"))?;
                            let tx = Tx::Transfer(TransferTx {
                                from: users[acct].index,
                                to: users[recipient(k, acct, a)].packed,
                                token: TokenId::ETH,
                                amount: PackedAmount::new(1_000)?,
                                fee: PackedFee::new(1)?,
                                nonce,
                            });
                            let bytes = sign_tx(&users[acct].key, CHAIN_ID, tx)?.encode();
                            Ok((acct, k, format!("0x{}", hex::encode(bytes))))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a signing thread panicked")))).collect()
    });
    let mut per_account: Vec<Vec<(Duration, String)>> = vec![Vec::new(); a];
    for chunk in signed {
        for (acct, k, hex) in chunk? {
            per_account[acct].push((Duration::from_secs_f64(k as f64 / rate as f64), hex));
        }
    }
    for list in &mut per_account {
        list.sort_by_key(|(t, _)| *t);
    }
    Ok(per_account)
}

/// Each account's next nonce on the member it sends to, once no account has pending
/// transactions there (or after [`IDLE_TIMEOUT`]).
async fn idle_nonces(net: &SetNet, users: &[User], rate: u64) -> Result<Vec<u32>> {
    let deadline = Instant::now() + IDLE_TIMEOUT;
    loop {
        let mut nonces = Vec::with_capacity(users.len());
        let mut pending = 0u64;
        for (a, u) in users.iter().enumerate() {
            let member = &net.members[a % net.members.len()];
            let acct: Value = member
                .rpc
                .request("tandem_getAccount", rpc_params![format!("#{}", u.index.get())])
                .await
                .with_context(|| format!("tandem_getAccount #{} on {}", u.index.get(), member.child.name()))?;
            let field = |name: &str| acct[name].as_u64().ok_or_else(|| anyhow!("tandem_getAccount answered without {name}: {acct}"));
            let (next, applied) = (field("pendingNonce")?, field("nonce")?);
            pending += next.saturating_sub(applied);
            nonces.push(u32::try_from(next).context("nonce beyond u32")?);
        }
        if pending == 0 || Instant::now() > deadline {
            if pending > 0 {
                eprintln!("  rate {rate}/s: starting with {pending} transactions of the previous phase still pending");
            }
            return Ok(nonces);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn pairs(v: &[f64]) -> Option<[f64; 2]> {
    Percentiles::of_seconds(v).map(|p| [p.p50, p.p90])
}

/// The senders' clock and where they record what they sent and what was refused.
struct SendLog {
    /// The schedule's zero: transfer k is due at `t0 + k / rate`.
    t0: tokio::time::Instant,
    sent: Shared<Vec<Sent>>,
    refusals: Shared<Vec<String>>,
}

/// Submits each account's schedule (from [`presign`]) one transaction per
/// `tandem_sendTransaction` call, a task per account, at most `concurrency` calls in flight per
/// member. An account's first refusal ends its sending (its later nonces would be gaps).
fn send_one_by_one(
    tasks: &mut tokio::task::JoinSet<()>,
    net: &SetNet,
    schedule: Vec<Vec<(Duration, String)>>,
    concurrency: usize,
    log: &SendLog,
) {
    let n = net.members.len();
    let semaphores: Vec<Arc<tokio::sync::Semaphore>> = (0..n).map(|_| Arc::new(tokio::sync::Semaphore::new(concurrency))).collect();
    for (a, list) in schedule.into_iter().enumerate() {
        let member = a % n;
        let client = net.members[member].rpc.clone();
        let sem = semaphores[member].clone();
        let (t0, sent, refusals) = (log.t0, log.sent.clone(), log.refusals.clone());
        tasks.spawn(async move {
            for (at, hex) in list {
                tokio::time::sleep_until(t0 + at).await;
                let Ok(_permit) = sem.acquire().await else { return };
                let start = Instant::now();
                let result: Result<Value, _> = client.request("tandem_sendTransaction", rpc_params![hex]).await;
                let acked = Instant::now();
                match result.map(|r| r["hash"].as_str().map(String::from)) {
                    Ok(Some(hash)) => lock(&sent).push(Sent { hash, member, sched: at, sent: start, acked }),
                    other => {
                        lock(&refusals).push(format!("{other:?}"));
                        return;
                    }
                }
            }
        });
    }
}

/// Submits the schedule (from [`presign`]) with `tandem_sendTransactions`: a task per member
/// sends everything due to it, at most `batch` per call, one call at a time (so each account's
/// nonces arrive in order), then what fell due meanwhile. An account's first refusal ends its
/// sending; a failed call ends the member's.
fn send_batched(tasks: &mut tokio::task::JoinSet<()>, net: &SetNet, schedule: Vec<Vec<(Duration, String)>>, batch: usize, log: &SendLog) {
    let n = net.members.len();
    let mut per_member: Vec<Vec<(Duration, usize, String)>> = vec![Vec::new(); n];
    for (a, list) in schedule.into_iter().enumerate() {
        per_member[a % n].extend(list.into_iter().map(|(at, hex)| (at, a, hex)));
    }
    for (member, mut list) in per_member.into_iter().enumerate() {
        // Stable: an account's transfers keep their nonce order.
        list.sort_by_key(|(at, _, _)| *at);
        let client = net.members[member].rpc.clone();
        let (t0, sent, refusals) = (log.t0, log.sent.clone(), log.refusals.clone());
        tasks.spawn(async move {
            let mut stopped = std::collections::HashSet::new();
            let mut next = 0;
            while next < list.len() {
                tokio::time::sleep_until(t0 + list[next].0).await;
                let now = tokio::time::Instant::now();
                let due = list[next..].iter().take(batch).take_while(|(at, _, _)| t0 + *at <= now).count().max(1);
                let (schedule, txs): (Vec<(Duration, usize)>, Vec<String>) = list[next..next + due]
                    .iter_mut()
                    .filter(|(_, a, _)| !stopped.contains(a))
                    .map(|(at, a, hex)| ((*at, *a), std::mem::take(hex)))
                    .unzip();
                next += due;
                if txs.is_empty() {
                    continue;
                }
                let start = Instant::now();
                let result: Result<Vec<tandem_api::SendOutcome>, _> = client.request("tandem_sendTransactions", rpc_params![txs]).await;
                let acked = Instant::now();
                let outcomes = match result {
                    Ok(outcomes) if outcomes.len() == schedule.len() => outcomes,
                    other => {
                        lock(&refusals).push(format!("a tandem_sendTransactions call failed: {other:?}"));
                        return;
                    }
                };
                for ((sched, account), outcome) in schedule.into_iter().zip(outcomes) {
                    match outcome {
                        tandem_api::SendOutcome::Accepted(tx) => {
                            lock(&sent).push(Sent { hash: tx.hash.to_string(), member, sched, sent: start, acked })
                        }
                        tandem_api::SendOutcome::Refused { error } => {
                            lock(&refusals).push(format!("{error:?}"));
                            stopped.insert(account);
                        }
                    }
                }
            }
        });
    }
}

/// Ops per second committed between the first and the last block that committed within
/// `[from, to]` (`commits`: block → when it committed at one member; `ops`: block → its op
/// count): the ops of the blocks after the first over the time between the two commits.
/// Block-aligned, so the count never gains or loses a block to where the window's edges fall.
/// `None` with fewer than two blocks in the window.
fn rate_between_commits(commits: &BTreeMap<u64, Instant>, ops: &BTreeMap<u64, u64>, from: Instant, to: Instant) -> Option<f64> {
    let mut inside = commits.iter().filter(|(_, at)| **at >= from && **at <= to);
    let ((first, first_at), (last, last_at)) = (inside.next()?, inside.last()?);
    let elapsed = last_at.checked_duration_since(*first_at)?.as_secs_f64();
    if elapsed <= 0.0 {
        return None;
    }
    let committed: u64 = ops.range(first + 1..=*last).map(|(_, n)| n).sum();
    Some(committed as f64 / elapsed)
}

/// One rate; its `ceiling_tx_s` and `of_ceiling` are left at 0 for the caller, which measures
/// the ledger after the drain.
async fn phase(
    net: &SetNet,
    args: &SetBenchArgs,
    users: &[User],
    tracker: &Shared<Tracker>,
    rate: u64,
    round: usize,
) -> Result<SetBenchRow> {
    let nonces = idle_nonces(net, users, rate).await?;
    let count = (rate * args.duration_s) as usize;
    let schedule = if rate > 0 {
        let signing = Instant::now();
        let schedule = presign(users, &nonces, count, rate)?;
        eprintln!("  rate {rate}/s: pre-signed {count} transfers in {:.1} s", signing.elapsed().as_secs_f64());
        schedule
    } else {
        vec![]
    };

    let sent: Shared<Vec<Sent>> = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let refusals: Shared<Vec<String>> = Arc::new(Mutex::new(vec![]));
    let h0 = net.consensus_height(0).await.unwrap_or(0);
    let wall0 = SystemTime::now();
    let b0 = lock(tracker).seen[0].keys().last().copied().unwrap_or(0);
    let cpu0 = snapshot();
    let t0 = tokio::time::Instant::now() + Duration::from_millis(200);
    let t0_std = t0.into_std();
    let mut tasks = tokio::task::JoinSet::new();
    let log = SendLog { t0, sent: sent.clone(), refusals: refusals.clone() };
    if args.submit_batch == 1 {
        send_one_by_one(&mut tasks, net, schedule, args.concurrency, &log);
    } else {
        send_batched(&mut tasks, net, schedule, args.submit_batch, &log);
    }
    if rate == 0 {
        // Idle baseline: the set deciding empty heights, nothing submitted.
        tokio::time::sleep(Duration::from_secs(args.duration_s)).await;
    }
    while let Some(r) = tasks.join_next().await {
        r.context("a sender task")?;
    }
    let t_end = Instant::now();
    let cpu1 = snapshot();
    let h1 = net.consensus_height(0).await.unwrap_or(h0);
    let sent = std::mem::take(&mut *lock(&sent));
    let refusals = std::mem::take(&mut *lock(&refusals));

    let inclusion = |t: &Tracker, s: &Sent| -> Option<Instant> { t.tx_block.get(&s.hash).and_then(|b| t.seen[s.member].get(b)).copied() };
    let backlog_at_end = {
        let t = lock(tracker);
        sent.iter().filter(|s| inclusion(&t, s).is_none_or(|i| i > t_end)).count()
    };
    let drain_deadline = Instant::now() + Duration::from_secs(args.drain_s);
    let missing_after_drain = loop {
        let missing = {
            let t = lock(tracker);
            sent.iter().filter(|s| inclusion(&t, s).is_none()).count()
        };
        if missing == 0 || Instant::now() > drain_deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let drain_s = (Instant::now() - t_end).as_secs_f64();
    let pipeline = pipeline(net, wall0, SystemTime::now());

    let warm = t0_std + Duration::from_secs(args.warm_s);
    let window = (t_end - warm).as_secs_f64().max(1e-9);
    let submit_rpc: Vec<f64> = sent.iter().map(|s| (s.acked - s.sent).as_secs_f64()).collect();
    let max_lag_s = sent.iter().map(|s| s.sent.saturating_duration_since(t0_std + s.sched).as_secs_f64()).fold(0.0, f64::max);
    let last_send = sent.iter().map(|s| s.sent).max().unwrap_or(t0_std);
    let submit_tx_s =
        if sent.is_empty() { 0.0 } else { sent.len() as f64 / last_send.saturating_duration_since(t0_std).as_secs_f64().max(1e-9) };
    // Read under the tracker's lock, released before the cross-check's RPC calls below.
    let (in_window, latency, block_ops) = {
        let t = lock(tracker);
        let in_window = sent.iter().filter(|s| inclusion(&t, s).is_some_and(|i| i >= warm && i <= t_end)).count();
        let latency: Vec<f64> =
            sent.iter().filter(|s| s.sent >= warm).filter_map(|s| inclusion(&t, s).map(|i| (i - s.sent).as_secs_f64())).collect();
        let b1 = t.seen[0].iter().filter(|(_, at)| **at <= t_end).map(|(b, _)| *b).max().unwrap_or(b0);
        // `range` panics on an empty inclusive range (b1 == b0: no block in the phase, e.g. rate 0).
        let block_ops: Vec<u64> = t.ops.range(b0 + 1..).take_while(|(b, _)| **b <= b1).map(|(_, o)| *o).collect();
        (in_window, latency, block_ops)
    };
    let blocks = block_ops.len();
    let included_in_window_tx_s = if rate == 0 { 0.0 } else { in_window as f64 / window };
    let included_tx_s = match rate {
        0 => 0.0,
        _ => {
            let t = lock(tracker);
            rate_between_commits(&t.seen[0], &t.ops, warm, t_end).unwrap_or(included_in_window_tx_s)
        }
    };
    let cpu = cpu_between(&cpu0, &cpu1, &net.pids(), net.anvil_pid());

    // Cross-check a sample with tandem_getTransaction on the member each was sent to.
    let (mut checked, mut checked_ok) = (0, 0);
    for s in sent.iter().step_by((sent.len() / 100).max(1)) {
        let r: Option<Value> = rpc(&net.members[s.member].rpc, "tandem_getTransaction", rpc_params![s.hash.clone()]).await;
        checked += 1;
        let block = lock(tracker).tx_block.get(&s.hash).copied();
        if r.as_ref().is_some_and(|r| r["status"] == "included" && r["block"].as_u64() == block) {
            checked_ok += 1;
        }
    }
    Ok(SetBenchRow {
        offered_tx_s: rate,
        round,
        offered_txs: count,
        sent: sent.len(),
        refused: refusals.len(),
        refusal_sample: refusals.first().cloned(),
        submit_tx_s,
        max_lag_s,
        included_tx_s,
        included_in_window_tx_s,
        ceiling_tx_s: 0.0,
        of_ceiling: 0.0,
        backlog_at_end,
        missing_after_drain,
        drain_s,
        latency_ms: Percentiles::of_seconds(&latency),
        submit_rpc_ms: Percentiles::of_seconds(&submit_rpc),
        blocks,
        mean_ops: block_ops.iter().sum::<u64>() as f64 / blocks.max(1) as f64,
        max_ops: block_ops.iter().copied().max().unwrap_or(0),
        heights_per_s: h1.saturating_sub(h0) as f64 / (cpu1.at - cpu0.at).as_secs_f64().max(1e-9),
        member_cpu_ms_per_tx: (included_tx_s > 0.0).then(|| 1e3 * cpu.members_total / included_tx_s),
        cpu,
        checked,
        checked_ok,
        pipeline,
    })
}

// ---------------------------------------------------------------------------------------
// The members' logs (JSON lines)
// ---------------------------------------------------------------------------------------

/// Seconds since the Unix epoch of an RFC 3339 UTC timestamp ("2026-12-01T20:53:41.031646Z").
fn parse_ts(ts: &str) -> Option<f64> {
    let (date, time) = ts.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm, ss) = (t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hh * 3600.0 + mm * 60.0 + ss)
}

fn pipeline(net: &SetNet, from: SystemTime, to: SystemTime) -> PipelineSummary {
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let (from, to) = (secs(from), secs(to));
    let mut propose_to_commit = vec![];
    let mut late_rounds = 0;
    let mut proposals: Vec<f64> = vec![];
    let mut produced: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for m in &net.members {
        let text = std::fs::read_to_string(m.child.log()).unwrap_or_default();
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
                        propose_to_commit.push(t - p);
                    }
                    if let Some(b) = f["block"].as_u64() {
                        produced.entry(b).or_default().push(t);
                    }
                }
                msg if msg.starts_with("new round") => late_rounds += 1,
                _ => {}
            }
        }
    }
    let spread: Vec<f64> = produced
        .values()
        .filter(|t| t.len() == net.members.len())
        .map(|times| times.iter().copied().fold(f64::MIN, f64::max) - times.iter().copied().fold(f64::MAX, f64::min))
        .collect();
    proposals.sort_by(f64::total_cmp);
    let intervals: Vec<f64> = proposals.windows(2).map(|w| w[1] - w[0]).collect();
    PipelineSummary {
        proposals_with_inputs: propose_to_commit.len(),
        propose_to_commit_ms: pairs(&propose_to_commit),
        commit_spread_ms: pairs(&spread),
        height_interval_ms: pairs(&intervals),
        late_rounds,
    }
}

// ---------------------------------------------------------------------------------------
// L1 batches
// ---------------------------------------------------------------------------------------

/// The gas of the set's transfer-only `commitBatchSigned` transactions, grouped by signers
/// and size bucket (deposit batches, the accounts' funding, cost more per op; left out).
async fn batch_gas(net: &SetNet) -> Result<Vec<BatchGasRow>> {
    let provider = ProviderBuilder::new().connect_http(net.url.parse().context("anvil URL")?);
    let rollup = tandem_l1::bindings::TandemRollup::new(net.deployment.rollup, provider.clone());
    let events = rollup.BatchCommitted_filter().from_block(net.deployment.deploy_block).query().await.context("BatchCommitted events")?;
    // (signers, bucket) -> (batches, total ops, total gas)
    let mut by_size: BTreeMap<(usize, u64), (u64, u64, u64)> = BTreeMap::new();
    for (_, log) in events {
        let Some(hash) = log.transaction_hash else { continue };
        let Some(receipt) = provider.get_transaction_receipt(hash).await.context("a batch receipt")? else { continue };
        let Some(tx) = provider.get_transaction_by_hash(hash).await.context("a batch transaction")? else { continue };
        let Ok(call) = tandem_l1::bindings::staked::StakedRollup::commitBatchSignedCall::abi_decode(tx.input()) else { continue };
        if call.header.priorityOpsCount > 0 {
            continue;
        }
        let ops = u64::from(call.header.opCount);
        let bucket = match ops {
            0..=16 => 16,
            17..=128 => 128,
            129..=512 => 512,
            _ => 2048,
        };
        let e = by_size.entry((call.signatures.len(), bucket)).or_default();
        e.0 += 1;
        e.1 += ops;
        e.2 += receipt.gas_used;
    }
    Ok(by_size
        .into_iter()
        .map(|((signers, ops_up_to), (batches, ops, gas))| BatchGasRow {
            signers,
            ops_up_to,
            batches,
            mean_ops: ops as f64 / batches as f64,
            mean_gas_used: gas / batches,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------

/// Runs the set benchmark (see the module doc).
pub async fn run_set(args: &SetBenchArgs) -> Result<SetBenchReport> {
    validate(args)?;
    let tandem = match &args.tandem {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("finding this executable to run the members")?,
    };
    ensure!(tandem.exists(), "--tandem {} does not exist", tandem.display());
    if let Some(path) = &args.plot {
        // Refuse a plot path in no directory before the minutes of measuring, not after.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        ensure!(dir.is_dir(), "--plot {}: the directory {} does not exist", path.display(), dir.display());
    }
    eprintln!("tandem bench set: {args:?}");
    // The ceiling is measured first, on the quiet machine, with the generator's workload.
    let ledger_one_core_tx_s = ledger_one_core(args)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let ceiling = |ledger: f64| cores as f64 * ledger / args.members as f64;
    let execution_ceiling_tx_s = ceiling(ledger_one_core_tx_s);
    eprintln!(
        "one ledger on one core: {ledger_one_core_tx_s:.0} transfers/s; execution ceiling {cores} x that / {} members = {execution_ceiling_tx_s:.0} tx/s",
        args.members
    );
    let started = Instant::now();
    let mut net = SetNet::start(args, &tandem).await?;
    net.wait_height(2, READY_TIMEOUT).await?;
    eprintln!(
        "{} members at consensus height 2 after {:.1} s (logs in {})",
        args.members,
        started.elapsed().as_secs_f64(),
        net.dir.path().display()
    );
    let (tracker, _pollers) = start_tracking(&net);
    let users = fund_accounts(&net, args.accounts).await?;
    let mut rows = Vec::with_capacity(args.rates.len() * args.repeat);
    let mut ledger_before = ledger_one_core_tx_s;
    for round in 0..args.repeat {
        for &rate in &args.rates {
            let mut row = phase(&net, args, &users, &tracker, rate, round).await?;
            let ledger_after = net.paused(|| ledger_one_core(args))?;
            row.ceiling_tx_s = ceiling((ledger_before + ledger_after) / 2.0);
            row.of_ceiling = row.included_tx_s / row.ceiling_tx_s;
            eprintln!(
                "  rate {rate}/s: included {:.0} tx/s block to block ({:.0} counted in the window) = {:.1} % of the ceiling (one-core ledger {ledger_before:.0} before, {ledger_after:.0} after), latency p50 {} ms, members' CPU {:.2} cores",
                row.included_tx_s,
                row.included_in_window_tx_s,
                100.0 * row.of_ceiling,
                row.latency_ms.map_or("-".into(), |l| ms(l.p50)),
                row.cpu.members_total
            );
            ledger_before = ledger_after;
            rows.push(row);
        }
    }
    // Let the batches of the last blocks reach L1.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let l1_batches = batch_gas(&net).await?;
    let late_rounds: usize = rows.iter().map(|row| row.pipeline.late_rounds).sum();
    if args.keep || late_rounds > 0 {
        let kept = net.dir.keep();
        let why = if late_rounds > 0 { format!(" ({late_rounds} rounds > 0: the members' logs say why)") } else { String::new() };
        eprintln!("kept the members' data and logs in {}{why}", kept.display());
    }
    Ok(SetBenchReport {
        members: args.members,
        stakes_tokens: stakes_tokens(args.members),
        cores,
        max_block_ops: args.max_block_ops,
        block_time_ms: args.block_time_ms,
        propose_timeout_ms: args.propose_timeout_ms,
        tree_depth: args.tree_depth,
        accounts: args.accounts,
        duration_s: args.duration_s,
        warm_s: args.warm_s,
        concurrency: args.concurrency,
        submit_batch: args.submit_batch,
        ledger_one_core_tx_s,
        execution_ceiling_tx_s,
        rows,
        l1_batches,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn row(rate: u64, latency_s: &[f64], included: f64, members_cpu: &[f64]) -> SetBenchRow {
        let members_total = members_cpu.iter().sum();
        SetBenchRow {
            offered_tx_s: rate,
            round: 0,
            offered_txs: (rate * 15) as usize,
            sent: ((rate * 15) as usize).saturating_sub(3),
            refused: ((rate * 15) as usize).min(3),
            refusal_sample: Some("Err(nonce too low)".into()),
            submit_tx_s: rate as f64 * 0.99,
            max_lag_s: 0.25,
            included_tx_s: included,
            included_in_window_tx_s: included * 1.05,
            ceiling_tx_s: 590.0,
            of_ceiling: included / 590.0,
            backlog_at_end: 17,
            missing_after_drain: 0,
            drain_s: 2.5,
            latency_ms: Percentiles::of_seconds(latency_s),
            submit_rpc_ms: Percentiles::of_seconds(&[0.002, 0.004, 0.011]),
            blocks: 14,
            mean_ops: included,
            max_ops: 300,
            heights_per_s: 0.97,
            member_cpu_ms_per_tx: (included > 0.0).then(|| 1e3 * members_total / included),
            cpu: CpuUse {
                members: members_cpu.to_vec(),
                members_total,
                anvil: 0.05,
                generator: 0.12,
                others_total: 0.31,
                others: vec![OtherCpu { name: "cargo".into(), cores: 0.3 }],
                machine_busy: 0.87,
            },
            checked: 30,
            checked_ok: 30,
            pipeline: PipelineSummary {
                proposals_with_inputs: 12,
                propose_to_commit_ms: Some([410.0, 730.0]),
                commit_spread_ms: Some([12.0, 40.0]),
                height_interval_ms: Some([1000.0, 1200.0]),
                late_rounds: 0,
            },
        }
    }

    /// A report as a run of rates 0, 50, 100, 200 with four members would give.
    pub(crate) fn sample_report() -> SetBenchReport {
        SetBenchReport {
            members: 4,
            stakes_tokens: stakes_tokens(4),
            cores: 2,
            max_block_ops: 512,
            block_time_ms: 1000,
            propose_timeout_ms: 3000,
            tree_depth: 24,
            accounts: 512,
            duration_s: 15,
            warm_s: 5,
            concurrency: 32,
            submit_batch: 1,
            ledger_one_core_tx_s: 1200.0,
            execution_ceiling_tx_s: 600.0,
            rows: vec![
                row(0, &[], 0.0, &[0.02, 0.02, 0.02, 0.02]),
                row(50, &[0.61, 0.72, 0.9, 1.3, 0.8], 50.2, &[0.1, 0.09, 0.1, 0.11]),
                row(100, &[0.7, 0.95, 1.1, 1.4, 2.0], 99.6, &[0.2, 0.21, 0.19, 0.2]),
                row(200, &[5.5, 9.0, 12.5, 14.0, 15.2], 151.4, &[0.41, 0.4, 0.39, 0.38]),
            ],
            l1_batches: vec![BatchGasRow { signers: 4, ops_up_to: 128, batches: 9, mean_ops: 47.0, mean_gas_used: 159_718 }],
        }
    }

    #[test]
    fn repeated_rates_are_summarized_by_their_spread_and_medians() {
        let once = sample_report();
        assert_eq!(repeat_summary(&once.rows), "", "no rate repeats");
        let mut rows = once.rows.clone();
        rows.push(row(100, &[0.8], 110.0, &[0.2, 0.2, 0.2, 0.2]));
        rows.push(row(100, &[0.8], 80.0, &[0.2, 0.2, 0.2, 0.2]));
        rows.push(row(0, &[], 0.0, &[0.02, 0.02, 0.02, 0.02]));
        let summary = repeat_summary(&rows);
        // Shares 99.6, 110 and 80 of 590; included median 99.6; CPU per tx 8.0, 7.27, 10.0 ms.
        assert_eq!(
            summary,
            "rate 100, 3 runs: of ceiling 13.6 / 16.9 / 18.6 % (min / median / max); included 100 tx/s, member CPU per tx 8.03 ms (medians)\n"
        );
        assert!(set_table(&SetBenchReport { rows, ..sample_report() }).contains(&summary));
    }

    fn numbers(cell: &str) -> Vec<f64> {
        cell.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn table_and_json_carry_the_same_numbers() {
        let report = sample_report();
        let table = set_table(&report);
        let json: Value = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
        let rows: Vec<Vec<&str>> = table
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| offered"))
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        assert_eq!(rows.len(), 4);
        for (cells, j) in rows.iter().zip(json["rows"].as_array().unwrap()) {
            assert_eq!(cells.len(), 17, "{cells:?}");
            let close = |cell: &str, values: &[f64], decimals: i32| {
                let got = numbers(cell);
                assert_eq!(got.len(), values.len(), "{cell} vs {values:?}");
                for (g, v) in got.iter().zip(values) {
                    assert!((g - v).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-9, "{cell}: {g} vs {v}");
                }
            };
            let f = |v: &Value| v.as_f64().unwrap();
            close(cells[0], &[f(&j["offered_tx_s"])], 0);
            close(cells[1], &[f(&j["sent"]), f(&j["refused"])], 0);
            close(cells[2], &[f(&j["submit_tx_s"])], 0);
            close(cells[3], &[f(&j["included_tx_s"])], 0);
            close(cells[4], &[100.0 * f(&j["of_ceiling"]), f(&j["ceiling_tx_s"])], 0);
            close(cells[5], &[f(&j["backlog_at_end"])], 0);
            let l = &j["latency_ms"];
            if l.is_null() {
                assert_eq!(cells[6], "-");
            } else {
                close(cells[6], &[f(&l["p50"]), f(&l["p90"]), f(&l["p99"]), f(&l["max"])], 0);
            }
            close(cells[7], &[f(&j["submit_rpc_ms"]["p50"]), f(&j["submit_rpc_ms"]["p99"])], 0);
            close(cells[8], &[f(&j["blocks"]), f(&j["mean_ops"]), f(&j["max_ops"])], 0);
            close(cells[9], &[f(&j["heights_per_s"])], 2);
            let mut cpu: Vec<f64> = j["cpu"]["members"].as_array().unwrap().iter().map(f).collect();
            cpu.push(f(&j["cpu"]["members_total"]));
            close(cells[10], &cpu, 2);
            close(cells[11], &[f(&j["cpu"]["anvil"])], 2);
            close(cells[12], &[f(&j["cpu"]["generator"])], 2);
            close(cells[13], &[f(&j["cpu"]["others_total"])], 2);
            close(cells[14], &[100.0 * f(&j["cpu"]["machine_busy"])], 0);
            match j["member_cpu_ms_per_tx"].as_f64() {
                Some(c) => close(cells[15], &[c], 1),
                None => assert_eq!(cells[15], "-"),
            }
            close(cells[16], &[f(&j["checked_ok"]), f(&j["checked"])], 0);
        }
        assert!(table.contains("4 members (stakes 400/300/200/100), 2 cores"));
        assert!(table.contains(
            "execution ceiling: 2 cores x 1200 transfers/s (one ledger, one core, same accounts and depth) / 4 members = 600 tx/s"
        ));
        assert_eq!((json["ledger_one_core_tx_s"].as_f64(), json["execution_ceiling_tx_s"].as_f64()), (Some(1200.0), Some(600.0)));
        assert!(table.contains("4 signers, <= 128 ops (mean 47 ops): 9 batches, mean gasUsed 159718"));
        assert_eq!(json["l1_batches"][0]["mean_gas_used"], 159_718);
    }

    #[test]
    fn recipients_are_spread_and_never_the_sender() {
        let accounts = 512;
        let mut seen = std::collections::HashSet::new();
        for k in 0..10_000 {
            let sender = k % accounts;
            let to = recipient(k, sender, accounts);
            assert!(to < accounts && to != sender, "transfer {k}: {sender} -> {to}");
            seen.insert(to);
        }
        assert!(seen.len() > 500, "only {} distinct recipients", seen.len());
        assert_eq!(recipient(7, 0, 2), 1);
    }

    #[test]
    fn the_included_rate_runs_from_block_commit_to_block_commit() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Blocks 1..=6 commit each second from 0.5 s with 100 ops each; block 4 has 400.
        let commits: BTreeMap<u64, Instant> = (1..=6).map(|b| (b, at(500 + 1000 * (b - 1)))).collect();
        let ops: BTreeMap<u64, u64> = (1..=6).map(|b| (b, if b == 4 { 400 } else { 100 })).collect();
        // The window [1 s, 5 s] holds the commits of blocks 2..=5 (1.5 s to 4.5 s): the ops of
        // blocks 3, 4 and 5 over the 3 s between the commits of 2 and 5, whatever the edges.
        let rate = rate_between_commits(&commits, &ops, at(1000), at(5000)).expect("four blocks inside");
        assert!((rate - 600.0 / 3.0).abs() < 1e-9, "{rate}");
        let shifted = rate_between_commits(&commits, &ops, at(1400), at(4900)).expect("four blocks inside");
        assert!((shifted - rate).abs() < 1e-9, "{shifted} against {rate}");
        // One block or none inside: no rate to give.
        assert_eq!(rate_between_commits(&commits, &ops, at(1000), at(2000)), None);
        assert_eq!(rate_between_commits(&commits, &ops, at(7000), at(9000)), None);
    }

    #[test]
    fn percentiles_are_nearest_rank_in_ms() {
        let p = Percentiles::of_seconds(&[0.5, 0.1, 0.4, 0.2, 0.3]).unwrap();
        assert_eq!((p.p50, p.p90, p.p99, p.max), (300.0, 500.0, 500.0, 500.0));
        let many: Vec<f64> = (1..=100).rev().map(|i| i as f64 / 1e3).collect();
        let p = Percentiles::of_seconds(&many).unwrap();
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(Percentiles::of_seconds(&[]), None);
    }

    #[test]
    fn log_timestamps_parse_to_unix_seconds() {
        assert_eq!(parse_ts("1970-01-01T00:00:00Z"), Some(0.0));
        let t = parse_ts("2026-12-01T20:53:41.5Z").unwrap();
        assert!((t - 1_796_158_421.5).abs() < 1e-6, "{t}");
        assert_eq!(parse_ts("yesterday"), None);
    }

    #[test]
    fn max_set_size_is_the_staking_contracts() {
        let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/src/SequencerStaking.sol")).unwrap();
        assert!(source.contains(&format!("uint256 public constant MAX_SET_SIZE = {MAX_SET_SIZE};")));
    }

    #[test]
    fn stakes_step_down_by_a_hundred() {
        assert_eq!(stakes_tokens(4), vec![400, 300, 200, 100]);
        assert_eq!(stakes_tokens(1), vec![100]);
        assert_eq!(stakes_tokens(MAX_SET_SIZE)[0], 12_800);
    }

    #[tokio::test]
    async fn refuses_unusable_parameters() {
        let base = SetBenchArgs::default();
        let cases: Vec<(SetBenchArgs, &str)> = vec![
            (SetBenchArgs { members: 0, ..base.clone() }, "--members must be at least 1"),
            (SetBenchArgs { members: MAX_SET_SIZE + 1, ..base.clone() }, "at most 128 members (MAX_SET_SIZE)"),
            (SetBenchArgs { rates: vec![], ..base.clone() }, "--rates needs at least one rate"),
            (SetBenchArgs { warm_s: 30, ..base.clone() }, "--warm-s 30 must be less than --duration-s 30"),
            (SetBenchArgs { warm_s: 31, ..base.clone() }, "must be less than --duration-s"),
            (SetBenchArgs { duration_s: 0, warm_s: 0, ..base.clone() }, "--duration-s must be in"),
            (SetBenchArgs { rates: vec![100, 100_000], ..base.clone() }, "transfers in one phase"),
            (SetBenchArgs { accounts: 1, ..base.clone() }, "--accounts must be in"),
            (SetBenchArgs { ceiling_transfers: 0, ..base.clone() }, "--ceiling-transfers must be in 1..=100000"),
            (SetBenchArgs { accounts: 64, tree_depth: 6, ..base.clone() }, "do not fit a tree of depth 6"),
            (SetBenchArgs { tree_depth: 0, ..base.clone() }, "--tree-depth"),
            (SetBenchArgs { tree_depth: 25, ..base.clone() }, "--tree-depth"),
            (SetBenchArgs { max_block_ops: 0, ..base.clone() }, "--max-block-ops"),
            (SetBenchArgs { repeat: 0, ..base.clone() }, "--repeat"),
            (SetBenchArgs { concurrency: 0, ..base.clone() }, "--concurrency"),
            (SetBenchArgs { submit_batch: 0, ..base.clone() }, "--submit-batch must be in 1..=256"),
            (SetBenchArgs { submit_batch: 257, ..base.clone() }, "--submit-batch must be in 1..=256"),
            (SetBenchArgs { tandem: Some("/nonexistent/tandem".into()), ..base.clone() }, "--tandem /nonexistent/tandem does not exist"),
            (SetBenchArgs { plot: Some("/nonexistent/dir/p.svg".into()), ..base.clone() }, "the directory /nonexistent/dir does not exist"),
        ];
        for (args, message) in cases {
            // Refused before anvil or any member starts.
            let error = run_set(&args).await.unwrap_err().to_string();
            assert!(error.contains(message), "{error:?} should mention {message:?}");
        }
        assert!(validate(&SetBenchArgs { accounts: 63, tree_depth: 6, ..base.clone() }).is_ok());
        assert!(validate(&SetBenchArgs { members: MAX_SET_SIZE, ..base }).is_ok());
    }

    #[test]
    fn clap_parses_the_documented_flags() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            set: SetBenchArgs,
        }
        let cli = Cli::try_parse_from([
            "set",
            "--members",
            "10",
            "--rates",
            "20,50,100",
            "--duration-s",
            "15",
            "--warm-s",
            "5",
            "--plot",
            "x.svg",
            "--json",
        ])
        .unwrap();
        assert_eq!((cli.set.members, cli.set.rates.clone(), cli.set.duration_s, cli.set.warm_s), (10, vec![20, 50, 100], 15, 5));
        assert_eq!(cli.set.plot.as_deref(), Some(Path::new("x.svg")));
        assert!(cli.set.json);
        let defaults = Cli::try_parse_from(["set"]).unwrap().set;
        let d = SetBenchArgs::default();
        assert_eq!(
            (defaults.members, defaults.rates, defaults.duration_s, defaults.warm_s, defaults.accounts, defaults.max_block_ops),
            (d.members, d.rates, d.duration_s, d.warm_s, d.accounts, d.max_block_ops)
        );
        assert!(Cli::try_parse_from(["set", "--members", "-1"]).is_err());
    }
}
