//! `tandem bench ledger` times `Ledger::apply_batch` on one block of signed ETH transfers
//! between existing accounts (signature checks, nonce and balance rules, the state root
//! after every op, fee settlement), once per thread count, on a dedicated rayon pool.

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;
use tandem_crypto::PrivateKey;
use tandem_state::signing::sign_tx;
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::{AccountIndex, ChainId, L1Deposit, PackedAmount, PackedFee, TokenId, TransferTx, Tx, ACCOUNT_INDEX_BITS};

/// Parameters of `tandem bench ledger`.
#[derive(Debug, Clone, Args)]
pub struct LedgerBenchArgs {
    /// Signed transfers in the block.
    #[arg(long, default_value_t = 1_000)]
    pub transfers: usize,
    /// Funded accounts the transfers move ETH between (index 0 is the fee account).
    #[arg(long, default_value_t = 2_048)]
    pub accounts: u32,
    /// Depth of the account tree (24 in production).
    #[arg(long, default_value_t = LedgerConfig::DEFAULT_TREE_DEPTH)]
    pub depth: u8,
    /// Thread counts to measure, comma-separated (each gets its own rayon pool).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Timed applications of the block per thread count (after one untimed warm-up).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// The measurement at one thread count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerBenchRow {
    /// Size of the rayon pool the block was applied on.
    pub threads: usize,
    /// Transfers in the block.
    pub transfers: usize,
    /// Funded accounts.
    pub accounts: u32,
    /// Account tree depth.
    pub depth: u8,
    /// Timed applications.
    pub repeat: usize,
    /// Median, fastest and slowest time to apply the block, in milliseconds.
    pub median_ms: f64,
    /// Fastest application.
    pub min_ms: f64,
    /// Slowest application.
    pub max_ms: f64,
    /// `transfers / median`.
    pub transfers_per_s: f64,
    /// `transfers_per_s / threads`.
    pub transfers_per_s_per_thread: f64,
}

const CHAIN_ID: ChainId = 1;

/// The key of bench account `i` (deterministic, so runs are comparable).
fn bench_key(i: u32) -> PrivateKey {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    seed[4..8].copy_from_slice(b"bnch");
    PrivateKey::from_seed(seed)
}

fn validate(args: &LedgerBenchArgs) -> Result<()> {
    ensure!(args.transfers >= 1, "--transfers must be at least 1");
    ensure!(args.accounts >= 3, "--accounts must be at least 3 (the fee account and two parties)");
    ensure!((1..=ACCOUNT_INDEX_BITS as u8).contains(&args.depth), "--depth must be in 1..={ACCOUNT_INDEX_BITS}");
    ensure!(
        u64::from(args.accounts) <= 1u64 << args.depth,
        "--accounts {} do not fit a tree of depth {} ({} leaves)",
        args.accounts,
        args.depth,
        1u64 << args.depth
    );
    ensure!(!args.threads.is_empty(), "--threads needs at least one count");
    ensure!(args.threads.iter().all(|t| (1..=1024).contains(t)), "--threads counts must be in 1..=1024");
    ensure!((1..=1_000).contains(&args.repeat), "--repeat must be in 1..=1000");
    Ok(())
}

/// A ledger holding `accounts` funded accounts, and their keys.
fn funded_ledger(args: &LedgerBenchArgs) -> Result<(Ledger, Vec<PrivateKey>)> {
    let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: args.depth, chunk_size: None })?;
    let keys: Vec<PrivateKey> = (0..args.accounts).map(bench_key).collect();
    let deposits: Vec<LedgerOp> = keys
        .iter()
        .map(|k| LedgerOp::Deposit(L1Deposit { to: k.public_key().pack(), token: TokenId::ETH, amount: 10u128.pow(24) }))
        .collect();
    ledger.apply_batch(&deposits, AccountIndex::new(0)?).map_err(|e| anyhow::anyhow!("funding deposit {}: {}", e.index, e.error))?;
    Ok((ledger, keys))
}

/// `transfers` signed transfers between pseudo-random pairs of accounts `1..accounts`.
fn transfer_block(ledger: &Ledger, keys: &[PrivateKey], transfers: usize) -> Result<Vec<LedgerOp>> {
    let parties = keys.len() as u64 - 1;
    let mut nonces: HashMap<u32, u32> = HashMap::new();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % parties) as u32 + 1
    };
    let mut block = Vec::with_capacity(transfers);
    for _ in 0..transfers {
        let from = next();
        let mut to = next();
        if to == from {
            to = from % parties as u32 + 1;
        }
        let from_index = AccountIndex::new(from)?;
        let account = ledger.account(from_index).context("bench account missing after funding")?;
        let nonce = nonces.entry(from).or_insert(account.nonce);
        let tx = Tx::Transfer(TransferTx {
            from: from_index,
            to: keys[to as usize].public_key().pack(),
            token: TokenId::ETH,
            amount: PackedAmount::new(12_345_000_000)?,
            fee: PackedFee::new(10u128.pow(12))?,
            nonce: *nonce,
        });
        *nonce += 1;
        block.push(LedgerOp::Tx(sign_tx(&keys[from as usize], CHAIN_ID, tx)?));
    }
    Ok(block)
}

/// Runs the ledger benchmark: one row per thread count.
pub fn run_ledger(args: &LedgerBenchArgs) -> Result<Vec<LedgerBenchRow>> {
    validate(args)?;
    let (ledger, keys) = funded_ledger(args)?;
    let block = transfer_block(&ledger, &keys, args.transfers)?;
    let fee_account = AccountIndex::new(0)?;
    let mut rows = Vec::with_capacity(args.threads.len());
    let mut expected_root = None;
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        let mut times = Vec::with_capacity(args.repeat);
        for round in 0..=args.repeat {
            let mut copy = ledger.clone();
            let start = Instant::now();
            let outcome = pool
                .install(|| copy.apply_batch(&block, fee_account))
                .map_err(|e| anyhow::anyhow!("bench block refused at op {}: {}", e.index, e.error))?;
            let elapsed = start.elapsed();
            // Every run must reach the same state, whatever the thread count.
            if *expected_root.get_or_insert(outcome.root) != outcome.root {
                bail!("the block reached a different root with {threads} threads");
            }
            if round > 0 {
                times.push(elapsed.as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        let median_ms = if times.len().is_multiple_of(2) {
            (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2.0
        } else {
            times[times.len() / 2]
        };
        let transfers_per_s = args.transfers as f64 / (median_ms / 1e3);
        rows.push(LedgerBenchRow {
            threads,
            transfers: args.transfers,
            accounts: args.accounts,
            depth: args.depth,
            repeat: args.repeat,
            median_ms,
            min_ms: times[0],
            max_ms: times[times.len() - 1],
            transfers_per_s,
            transfers_per_s_per_thread: transfers_per_s / threads as f64,
        });
    }
    Ok(rows)
}

/// The rows as a terminal table.
pub fn ledger_table(rows: &[LedgerBenchRow]) -> String {
    let mut out = String::from("threads  transfers  accounts  depth  repeat  median ms     min ms     max ms  transfers/s  per thread\n");
    for r in rows {
        out.push_str(&format!(
            "{:>7}  {:>9}  {:>8}  {:>5}  {:>6}  {:>9.1}  {:>9.1}  {:>9.1}  {:>11.0}  {:>10.0}\n",
            r.threads,
            r.transfers,
            r.accounts,
            r.depth,
            r.repeat,
            r.median_ms,
            r.min_ms,
            r.max_ms,
            r.transfers_per_s,
            r.transfers_per_s_per_thread
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> LedgerBenchArgs {
        LedgerBenchArgs { transfers: 12, accounts: 6, depth: 6, threads: vec![1, 2], repeat: 2, json: false }
    }

    #[test]
    fn ledger_bench_measures_every_thread_count() {
        let rows = run_ledger(&small()).unwrap();
        assert_eq!(rows.iter().map(|r| r.threads).collect::<Vec<_>>(), vec![1, 2]);
        for r in &rows {
            assert!(r.min_ms > 0.0 && r.min_ms <= r.median_ms && r.median_ms <= r.max_ms);
            assert!((r.transfers_per_s - 12.0 / (r.median_ms / 1e3)).abs() < 1e-6);
            assert!((r.transfers_per_s_per_thread * r.threads as f64 - r.transfers_per_s).abs() < 1e-6);
        }
        let table = ledger_table(&rows);
        assert_eq!(table.lines().count(), 3);
        let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&rows).unwrap()).unwrap();
        assert_eq!(json[1]["threads"], 2);
        assert_eq!(json[0]["transfers"], 12);
    }

    #[test]
    fn block_is_valid_and_moves_nonces() {
        let args = small();
        let (ledger, keys) = funded_ledger(&args).unwrap();
        let block = transfer_block(&ledger, &keys, args.transfers).unwrap();
        let mut applied = ledger.clone();
        let outcome = applied.apply_batch(&block, AccountIndex::new(0).unwrap()).unwrap();
        assert_eq!(outcome.ops.len(), 12);
        let nonces: u32 = applied.accounts().map(|(_, a)| a.nonce).sum();
        assert_eq!(nonces, 12);
    }

    #[test]
    fn refuses_unusable_parameters() {
        let cases: Vec<(LedgerBenchArgs, &str)> = vec![
            (LedgerBenchArgs { transfers: 0, ..small() }, "--transfers"),
            (LedgerBenchArgs { accounts: 2, ..small() }, "--accounts must be"),
            (LedgerBenchArgs { depth: 0, ..small() }, "--depth"),
            (LedgerBenchArgs { depth: 25, ..small() }, "--depth"),
            (LedgerBenchArgs { accounts: 65, ..small() }, "do not fit"),
            (LedgerBenchArgs { threads: vec![], ..small() }, "--threads"),
            (LedgerBenchArgs { threads: vec![1, 0], ..small() }, "--threads"),
            (LedgerBenchArgs { repeat: 0, ..small() }, "--repeat"),
        ];
        for (args, message) in cases {
            let error = run_ledger(&args).unwrap_err().to_string();
            assert!(error.contains(message), "{error} should mention {message}");
        }
    }
}
