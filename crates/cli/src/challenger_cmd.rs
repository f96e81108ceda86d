//! `tandem challenger`: watches a rollup with a dispute game, re-executes every committed
//! batch, challenges the chunks that are wrong or whose signed transactions are withheld,
//! and reverts those nobody can answer (SPEC §17).

use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;
use tandem_challenger::{Challenger, ChallengerConfig};
use tandem_l1::PrivateKeySigner;

use crate::chain_args::ChainArgs;

/// Flags of `tandem challenger`.
#[derive(Debug, Args)]
pub struct ChallengerArgs {
    /// The chain to watch.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// L1 block of the rollup's deployment (where log searches start).
    #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
    pub deploy_block: u64,
    /// An L2 JSON-RPC that serves each block's signed transactions (a sequencer or set
    /// member). Without one, every batch with signed ops counts as withheld.
    #[arg(long, env = "TANDEM_RPC")]
    pub l2_rpc: Option<String>,
    /// L1 private key (0x hex) that posts the bonds and receives them back.
    #[arg(long, env = "TANDEM_CHALLENGER_KEY", hide_env_values = true)]
    pub key: String,
    /// Seconds a batch's signed transactions may stay unserved before its chunks with
    /// signed ops are challenged.
    #[arg(long, default_value_t = 10)]
    pub data_timeout: u64,
    /// Polling interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// Directory for the replica of the last final checked batch, so a restart re-judges
    /// only batches that may still be reverted.
    #[arg(long, env = "TANDEM_CHALLENGER_DATA_DIR", default_value = "./tandem-challenger")]
    pub data_dir: std::path::PathBuf,
    /// Status endpoint (`/status` JSON, `/metrics` Prometheus).
    #[arg(long, env = "TANDEM_CHALLENGER_STATUS_ADDR", default_value = "127.0.0.1:8791")]
    pub status_addr: SocketAddr,
}

/// Runs the challenger until SIGINT or SIGTERM.
pub async fn run(args: ChallengerArgs) -> Result<()> {
    let key: PrivateKeySigner = args.key.trim_start_matches("0x").parse().context("challenger key is not a 32-byte hex private key")?;
    let config = ChallengerConfig {
        l1_rpc: args.chain.l1_rpc,
        rollup: args.chain.rollup,
        deploy_block: args.deploy_block,
        l2_rpc: args.l2_rpc,
        key,
        chain_id: args.chain.chain_id,
        tree_depth: args.chain.tree_depth,
        genesis_fee_pubkey: args.chain.genesis_fee_pubkey,
        data_timeout: Duration::from_secs(args.data_timeout),
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        data_dir: Some(args.data_dir),
    };
    let challenger = Challenger::new(config).await.map_err(|e| anyhow!("{e}"))?;
    let addr = tandem_challenger::serve_status(challenger.status_handle(), args.status_addr).await?;
    tracing::info!(status = %format!("http://{addr}/status"), metrics = %format!("http://{addr}/metrics"), "challenger running");
    challenger.run(crate::shutdown_signal()).await.map_err(|e| anyhow!("challenger stopped: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        challenger: ChallengerArgs,
    }

    #[test]
    fn parses_the_flags_and_requires_a_key() {
        let fee = tandem_crypto::PrivateKey::from_seed([3; 32]).public_key().pack();
        let fee = format!("0x{}", hex::encode(fee.0));
        let rollup = "0x0101010101010101010101010101010101010101";
        let base = ["c", "--chain-id", "3", "--genesis-fee-pubkey", &fee, "--rollup", rollup];
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let args = Cli::try_parse_from(base.iter().copied().chain(["--key", key, "--data-timeout", "3"])).unwrap().challenger;
        assert_eq!((args.data_timeout, args.l2_rpc, args.deploy_block), (3, None, 0));
        let missing = Cli::try_parse_from(base).unwrap_err().to_string();
        assert!(missing.contains("--key"), "{missing}");
    }
}
