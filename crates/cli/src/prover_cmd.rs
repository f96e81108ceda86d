//! `tandem prover`: follows a chain and proves its ZK-lane batches on L1.

use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use tandem_l1::{Address, PrivateKeySigner};
use tandem_prover::{Prover, ProverConfig};
use tandem_types::PackedPubKey;

/// Flags of `tandem prover`.
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
}

/// Runs the prover until SIGINT or SIGTERM.
pub async fn run(args: ProverArgs) -> Result<()> {
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
    };
    let prover = Prover::new(config, keys).map_err(|e| anyhow!("{e}"))?;
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    prover.run(shutdown).await.map_err(|e| anyhow!("prover stopped: {e}"))
}
