//! `tandem prover`: a miner in the prover market. It follows a chain, prices the proof jobs
//! of its batches, locks what pays, proves and submits on L1; `tandem prover status` prints a
//! running miner's tally.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tandem_l1::PrivateKeySigner;
use tandem_prover::miner::{MinerPolicy, MinerStatus};
use tandem_prover::{Prover, ProverConfig};

use crate::chain_args::ChainArgs;

/// `tandem prover`: run the miner (flags below), or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ProverCli {
    /// A subcommand instead of running the miner.
    #[command(subcommand)]
    pub command: Option<ProverCommand>,
    /// The chain the miner proves (a separate flatten: clap cannot tell a nested one apart
    /// when the whole is optional).
    #[command(flatten)]
    pub chain: Option<ChainArgs>,
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
    /// L1 private key (0x hex) that submits proofs; the proofs are bound to its address.
    #[arg(long, env = "TANDEM_PROVER_KEY", hide_env_values = true)]
    pub prover_key: String,
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
    match (cli.command, cli.chain, cli.run) {
        (Some(ProverCommand::Status { url, json }), _, _) => status(&url, json).await,
        (None, Some(chain), Some(args)) => run_miner(chain, args).await,
        _ => bail!("give the miner's flags (see `tandem prover --help`) or a subcommand"),
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
        "prover              {}\n\
         mode                {}\n\
         seconds per proof   {:.2} (measured at start)\n\
         uptime              {:.0} s\n\
         proofs/hour         {:.1}\n\
         wins                {}\n\
         losses              {losses} (wasted proofs {}, locks lost {}, own locks expired {})\n\
         proofs computed     {} ({:.1} s proving)\n\
         locks taken         {}\n\
         earnings            {} wei\n\
         collateral at risk  {} wei\n",
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
async fn run_miner(chain: ChainArgs, args: ProverArgs) -> Result<()> {
    let prover_key: PrivateKeySigner =
        args.prover_key.trim_start_matches("0x").parse().context("prover key is not a 32-byte hex private key")?;
    tracing::info!(keys = %args.keys.display(), "loading the proving key");
    let keys = tandem_circuit::prover::ProvingKeys::load(&args.keys)
        .with_context(|| format!("loading keys from {} (create them with `tandem setup`)", args.keys.display()))?;
    tracing::info!(slots = keys.slots, depth = keys.depth, prover = %prover_key.address(), "prover running");
    let config = ProverConfig {
        l2_rpc: args.l2_rpc,
        l1_rpc: chain.l1_rpc,
        rollup: chain.rollup,
        prover_key,
        chain_id: chain.chain_id,
        tree_depth: chain.tree_depth,
        genesis_fee_pubkey: chain.genesis_fee_pubkey,
        prove_optimistic: args.prove_optimistic,
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        policy: MinerPolicy { wei_per_second: args.wei_per_second, lock: !args.no_lock },
        test_stall_after_lock: args.test_stall_after_lock,
    };
    tracing::info!("measuring this machine's proving speed (one proof)");
    let prover = Prover::new(config, keys).await.map_err(|e| anyhow!("{e}"))?;
    let status_addr = tandem_prover::status::serve_status(prover.books(), args.status_addr).await?;
    tracing::info!(status = %format!("http://{status_addr}/status"), metrics = %format!("http://{status_addr}/metrics"), "miner running");
    prover.run(crate::shutdown_signal()).await.map_err(|e| anyhow!("prover stopped: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        prover: ProverCli,
    }

    fn parse(args: &[&str]) -> Result<ProverCli, String> {
        Cli::try_parse_from(std::iter::once("prover").chain(args.iter().copied())).map(|c| c.prover).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_the_miner_and_the_status_subcommand() {
        let fee = tandem_crypto::PrivateKey::from_seed([3; 32]).public_key().pack();
        let fee = format!("0x{}", hex::encode(fee.0));
        let rollup = "0x0101010101010101010101010101010101010101";
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let miner = ["--keys", "k", "--chain-id", "3", "--genesis-fee-pubkey", &fee, "--rollup", rollup, "--prover-key", key];
        let cli = parse(&miner).expect("miner flags");
        assert!(cli.command.is_none());
        let (chain, run) = (cli.chain.expect("chain flags seen"), cli.run.expect("miner flags seen"));
        assert_eq!((chain.chain_id, run.keys.display().to_string(), run.no_lock), (3, "k".to_string(), false));
        let status = parse(&["status", "--url", "http://127.0.0.1:9"]).expect("status");
        assert!(matches!(status.command, Some(ProverCommand::Status { ref url, json: false }) if url == "http://127.0.0.1:9"));
        let missing = parse(&["--keys", "k"]).unwrap_err();
        assert!(missing.contains("--chain-id"), "{missing}");
    }

    #[test]
    fn the_status_table_names_every_number() {
        let s = MinerStatus {
            prover: "0xabc".into(),
            locking: true,
            wins: 7,
            wasted: 1,
            locks_lost: 2,
            earned_wei: "5".into(),
            ..MinerStatus::default()
        };
        let text = render_status(&s);
        assert!(text.contains("wins                7"), "{text}");
        assert!(text.contains("losses              3 (wasted proofs 1, locks lost 2, own locks expired 0)"), "{text}");
        assert!(text.contains("earnings            5 wei") && text.contains("locks jobs before proving"), "{text}");
        // Every line starts with its label, unindented.
        assert!(text.lines().all(|l| l.starts_with(|c: char| c.is_ascii_lowercase())), "{text}");
        assert_eq!(text.lines().count(), 11, "{text}");
    }
}
