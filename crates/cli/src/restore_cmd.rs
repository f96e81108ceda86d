//! `tandem restore`: rebuilds the L2 state from L1 alone (no L2 node) and prints its root,
//! optionally some accounts, and optionally writes the restored ledger to a file.

use crate::chain_args::ChainArgs;
use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use tandem_restore::{restore, RestoreParams, RestoreProgress, Restored, DEFAULT_LOG_RANGE};
use tandem_state::{PersistentLedger, StoreError};
use tandem_types::AccountIndex;

/// Flags of `tandem restore` (the chain parameters take the node's environment variables).
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The chain and its rollup on L1.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// L1 block of the rollup deployment (logs are read from here).
    #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
    pub deploy_block: u64,
    /// L1 blocks per eth_getLogs request.
    #[arg(long, default_value_t = DEFAULT_LOG_RANGE)]
    pub log_range: u64,
    /// Also apply committed batches that are not final yet (NOT guaranteed by L1: a fraud
    /// proof can still revert them).
    #[arg(long)]
    pub include_unfinal: bool,
    /// Print these accounts (by index) of the restored state.
    #[arg(long = "account")]
    pub accounts: Vec<u32>,
    /// Write the restored ledger to this new database file (refused if it exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the result as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// Runs `tandem restore`.
pub async fn run(args: RestoreArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        if out.exists() {
            bail!("{} exists: restore writes a new ledger file only", out.display());
        }
    }
    let params = RestoreParams {
        chain_id: args.chain.chain_id,
        tree_depth: args.chain.tree_depth,
        genesis_fee_pubkey: args.chain.genesis_fee_pubkey,
        deploy_block: args.deploy_block,
        log_range: args.log_range,
        include_unfinal: args.include_unfinal,
    };
    let (provider, _) = tandem_l1::connect(&args.chain.l1_rpc, None)?;
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    let mut report = |p: RestoreProgress| {
        // Progress is best effort: a closed stderr must not stop the restore.
        let _ = match p {
            RestoreProgress::Logs { from, to, head } => writeln!(stderr, "logs: L1 blocks {from}..={to} of {head}"),
            RestoreProgress::Batch { number, last } if number == last || number % 50 == 0 => {
                writeln!(stderr, "batches: {number}/{last} applied, roots match")
            }
            RestoreProgress::Batch { .. } => Ok(()),
        };
    };
    let restored = restore(&provider, args.chain.rollup, params, &mut report).await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if let Some(out) = &args.out {
        write_ledger(out, &restored).with_context(|| format!("writing {}", out.display()))?;
    }
    let summary = summary(&restored, &args.accounts, elapsed_ms)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_human(&summary, &restored);
    }
    Ok(())
}

/// Writes `restored`'s ledger to a new database at `path` and reopens it (which checks the
/// stored root against the stored tree).
fn write_ledger(path: &std::path::Path, restored: &Restored) -> Result<(), StoreError> {
    let config = *restored.ledger.config();
    let mut stored = PersistentLedger::open(path, config)?;
    *stored = restored.ledger.clone();
    stored.persist()?;
    drop(stored);
    let reopened = PersistentLedger::open(path, config)?;
    if reopened.root() != restored.ledger.root() {
        return Err(StoreError::Corrupt("the written ledger reopens with another root".into()));
    }
    Ok(())
}

fn summary(restored: &Restored, accounts: &[u32], elapsed_ms: u64) -> anyhow::Result<Value> {
    let unfinal = restored.batches.iter().filter(|b| !b.is_final).count();
    let mut listed = Vec::with_capacity(accounts.len());
    for &index in accounts {
        let index = AccountIndex::new(index).map_err(|e| anyhow::anyhow!("account {index}: {e}"))?;
        listed.push(match restored.ledger.account(index) {
            None => json!({"index": index.get(), "exists": false}),
            Some(a) => {
                let balances: serde_json::Map<String, Value> =
                    a.balances().map(|(t, b)| (t.get().to_string(), json!(b.to_string()))).collect();
                json!({"index": index.get(), "exists": true, "publicKey": format!("0x{}", hex::encode(a.pubkey.pack().0)), "nonce": a.nonce, "balances": balances})
            }
        });
    }
    Ok(json!({
        "l1Block": restored.l1_block,
        "lastFinalBatch": restored.last_final_batch,
        "lastBatch": restored.last_batch(),
        "unfinalBatches": unfinal,
        "stateRoot": restored.root().to_string(),
        "accountCount": restored.ledger.account_count(),
        "ops": restored.batches.iter().map(|b| b.ops).sum::<usize>(),
        "elapsedMs": elapsed_ms,
        "accounts": listed,
    }))
}

fn print_human(summary: &Value, restored: &Restored) {
    println!("restored from L1 block {} (L1 alone, every batch checked)", restored.l1_block);
    println!("  final batches:   1..={}", restored.last_final_batch);
    let unfinal = summary["unfinalBatches"].as_u64().unwrap_or(0);
    if unfinal > 0 {
        println!("  NOT FINAL:       {unfinal} committed batch(es) after {} also applied (revertible)", restored.last_final_batch);
    }
    println!("  state root:      {}", summary["stateRoot"].as_str().unwrap_or_default());
    println!("  accounts:        {}", restored.ledger.account_count());
    println!("  took:            {} ms", summary["elapsedMs"]);
    for account in summary["accounts"].as_array().into_iter().flatten() {
        println!("  account #{}: {}", account["index"], account);
    }
}
