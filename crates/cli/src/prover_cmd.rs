//! `tandem prover`: a miner in the prover market. It follows a chain, prices the proof jobs
//! of its batches, locks what pays, proves and submits on L1; `tandem prover status` prints a
//! running miner's tally.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tandem_l1::{Address, PrivateKeySigner};
use tandem_prover::miner::{MinerPolicy, MinerStatus};
use tandem_prover::{Prover, ProverConfig};
use tandem_types::PackedPubKey;

/// `tandem prover`: run the miner (flags below), or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ProverCli {
    /// A subcommand instead of running the miner.
    #[command(subcommand)]
    pub command: Option<ProverCommand>,
    /// The miner's flags.
    #[command(flatten)]
    pub run: Option<ProverArgs>,
}

/// Subcommands of `tandem prover`.
#[derive(Debug, Subcommand)]
pub enum ProverCommand {
    /// Prints a running miner's tally: proofs/hour, wins, losses, earnings, collateral at risk.
    Status {
        /// The miner's status endpoint (its `--status-addr`).
        #[arg(long, default_value = "http://127.0.0.1:8790")]
        url: String,
        /// Print the JSON as served.
        #[arg(long)]
        json: bool,
    },
}

/// Flags of `tandem prover` (the miner).
#[derive(Debug, Args)]
pub struct ProverArgs {
    /// Directory with the proving key (`tandem setup --out DIR`).
    #[arg(long, env = "TANDEM_KEYS")]
    pub keys: PathBuf,
    /// Sequencer JSON-RPC URL (serves each block's signed inputs).
    #[arg(long, env = "TANDEM_RPC", default_value = "http://127.0.0.1:8645")]
    pub l2_rpc: String,
    /// L1 JSON-RPC URL.
    #[arg(long, env = "TANDEM_L1_RPC", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc: String,
    /// Rollup contract address.
    #[arg(long, env = "TANDEM_ROLLUP")]
    pub rollup: Address,
    /// L1 private key (0x hex) that submits proofs; the proofs are bound to its address.
    #[arg(long, env = "TANDEM_PROVER_KEY", hide_env_values = true)]
    pub prover_key: String,
    /// L2 chain id.
    #[arg(long, env = "TANDEM_CHAIN_ID")]
    pub chain_id: u64,
    /// Account tree depth.
    #[arg(long, env = "TANDEM_TREE_DEPTH", default_value_t = 24)]
    pub tree_depth: u8,
    /// Packed public key (0x hex) owning account 0 at genesis.
    #[arg(long, env = "TANDEM_GENESIS_FEE_PUBKEY")]
    pub genesis_fee_pubkey: String,
    /// Also prove optimistic batches that fit the circuit (final before their window, so fast
    /// withdrawals after them do not wait).
    #[arg(long)]
    pub prove_optimistic: bool,
    /// Polling interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// What one second of this machine's proving time costs you, in wei: the miner takes a
    /// market job once its price covers this times its measured proof time, plus gas.
    #[arg(long, default_value_t = 20_000_000_000_000)]
    pub wei_per_second: u128,
    /// Race for jobs without locking them first (no collateral; work may be wasted when
    /// another prover is faster or locks the job meanwhile).
    #[arg(long)]
    pub no_lock: bool,
    /// TEST ONLY: hold the first lock taken without proving (for testing a prover killed
    /// while it holds a lock).
    #[arg(long, hide = true)]
    pub test_stall_after_lock: bool,
    /// Status endpoint (`/status` JSON, `/metrics` Prometheus).
    #[arg(long, env = "TANDEM_PROVER_STATUS_ADDR", default_value = "127.0.0.1:8790")]
    pub status_addr: SocketAddr,
}

/// Runs `tandem prover` (the miner, or a subcommand).
pub async fn run(cli: ProverCli) -> Result<()> {
    match (cli.command, cli.run) {
        (Some(ProverCommand::Status { url, json }), _) => status(&url, json).await,
        (None, Some(args)) => run_miner(args).await,
        (None, None) => bail!("give the miner's flags (see `tandem prover --help`) or a subcommand"),
    }
}

/// Reads a miner's `/status` and prints it.
async fn status(url: &str, json: bool) -> Result<()> {
    let endpoint = format!("{}/status", url.trim_end_matches('/'));
    let body = reqwest::get(&endpoint)
        .await
        .with_context(|| format!("no miner answers at {endpoint} (is `tandem prover` running with this --status-addr?)"))?
        .error_for_status()
        .with_context(|| format!("{endpoint} refused"))?
        .text()
        .await
        .with_context(|| format!("reading {endpoint}"))?;
    let status: MinerStatus = serde_json::from_str(&body).with_context(|| format!("{endpoint} did not serve a miner status"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    print!("{}", render_status(&status));
    Ok(())
}

/// The human-readable tally.
pub fn render_status(s: &MinerStatus) -> String {
    let losses = s.wasted + s.locks_lost + s.locks_expired;
    format!(
        "prover              {}
         mode                {}
         seconds per proof   {:.2} (measured at start)
         uptime              {:.0} s
         proofs/hour         {:.1}
         wins                {}
         losses              {losses} (wasted proofs {}, locks lost {}, own locks expired {})
         proofs computed     {} ({:.1} s proving)
         locks taken         {}
         earnings            {} wei
         collateral at risk  {} wei
",
        s.prover,
        if s.locking { "locks jobs before proving" } else { "races without locks" },
        s.seconds_per_proof,
        s.uptime_seconds,
        s.proofs_per_hour,
        s.wins,
        s.wasted,
        s.locks_lost,
        s.locks_expired,
        s.proofs_computed,
        s.proving_seconds,
        s.locks_taken,
        s.earned_wei,
        s.collateral_at_risk_wei,
    )
}

/// Runs the miner until SIGINT or SIGTERM.
async fn run_miner(args: ProverArgs) -> Result<()> {
    let prover_key: PrivateKeySigner =
        args.prover_key.trim_start_matches("0x").parse().context("prover key is not a 32-byte hex private key")?;
    let fee: [u8; 32] = hex::decode(args.genesis_fee_pubkey.trim_start_matches("0x"))
        .context("genesis fee public key is not hex")?
        .try_into()
        .map_err(|_| anyhow!("genesis fee public key must be 32 bytes (packed)"))?;
    tracing::info!(keys = %args.keys.display(), "loading the proving key");
    let keys = tandem_circuit::prover::ProvingKeys::load(&args.keys)
        .with_context(|| format!("loading keys from {} (create them with `tandem setup`)", args.keys.display()))?;
    tracing::info!(slots = keys.slots, depth = keys.depth, prover = %prover_key.address(), "prover running");
    let config = ProverConfig {
        l2_rpc: args.l2_rpc,
        l1_rpc: args.l1_rpc,
        rollup: args.rollup,
        prover_key,
        chain_id: args.chain_id,
        tree_depth: args.tree_depth,
        genesis_fee_pubkey: PackedPubKey(fee),
        prove_optimistic: args.prove_optimistic,
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        policy: MinerPolicy { wei_per_second: args.wei_per_second, lock: !args.no_lock },
        test_stall_after_lock: args.test_stall_after_lock,
    };
    tracing::info!("measuring this machine's proving speed (one proof)");
    let prover = Prover::new(config, keys).await.map_err(|e| anyhow!("{e}"))?;
    let status_addr = tandem_prover::status::serve_status(prover.books(), args.status_addr).await?;
    tracing::info!(status = %format!("http://{status_addr}/status"), metrics = %format!("http://{status_addr}/metrics"), "miner running");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    prover.run(shutdown).await.map_err(|e| anyhow!("prover stopped: {e}"))
}
