//! `tandem node`: runs a sequencer node from flags (or `TANDEM_*` environment variables).

use anyhow::{anyhow, Context};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tandem_cli::chain_args::ChainArgs;
use tandem_l1::{Address, PrivateKeySigner};
use tandem_node::NodeConfig;
use tandem_types::PackedPubKey;

/// Flags of `tandem node`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Where the node keeps its database.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = ".tandem-node")]
    pub data_dir: PathBuf,
    /// The chain and its rollup on L1.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// L1 block of the rollup deployment.
    #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
    pub deploy_block: u64,
    /// L1 private key (0x hex) that commits and finalizes batches.
    #[arg(long, env = "TANDEM_SEQUENCER_KEY", hide_env_values = true)]
    pub sequencer_key: String,
    /// JSON-RPC listen address.
    #[arg(long, env = "TANDEM_RPC_ADDR", default_value = "127.0.0.1:8645")]
    pub rpc_addr: SocketAddr,
    /// Prometheus metrics listen address.
    #[arg(long, env = "TANDEM_METRICS_ADDR", default_value = "127.0.0.1:9645")]
    pub metrics_addr: SocketAddr,
    /// Web dashboard listen address (a read-only page of blocks, batches, finality and the
    /// sequencer set); no dashboard when absent.
    #[arg(long, env = "TANDEM_DASHBOARD_ADDR")]
    pub dashboard_addr: Option<SocketAddr>,
    /// Target block time in milliseconds.
    #[arg(long, env = "TANDEM_BLOCK_TIME_MS", default_value_t = 1000)]
    pub block_time_ms: u64,
    /// L1 confirmations before a deposit is credited.
    #[arg(long, env = "TANDEM_L1_CONFIRMATIONS", default_value_t = 1)]
    pub l1_confirmations: u64,
    /// Most ops per block (and per L1 batch).
    #[arg(long, env = "TANDEM_MAX_BLOCK_OPS", default_value_t = tandem_node::config::DEFAULT_MAX_BLOCK_OPS)]
    pub max_block_ops: usize,
    /// L1 polling interval in milliseconds.
    #[arg(long, env = "TANDEM_L1_POLL_MS", default_value_t = 1000)]
    pub l1_poll_ms: u64,
    /// Op slots of the validity circuit; enables the ZK lane (fast withdrawals). The rollup
    /// must have a verifier for this many slots.
    #[arg(long, env = "TANDEM_ZK_SLOTS")]
    pub zk_slots: Option<usize>,
    /// Fee (token base units) from which a withdrawal is fast (ZK lane).
    #[arg(long, env = "TANDEM_FAST_WITHDRAWAL_FEE", default_value_t = 1_000_000_000_000_000)]
    pub fast_withdrawal_fee: u128,
    /// Escrow each ZK-lane batch's ETH fees in the rollup's prover market with its commit (the
    /// batch's proof reward; the rollup must have a market).
    #[arg(long, env = "TANDEM_ESCROW_PROOF_FEES")]
    pub escrow_proof_fees: bool,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "TANDEM_LOG_JSON")]
    pub log_json: bool,
    /// Sequencer-set mode: the staking contract. The node then runs consensus with the
    /// staked members instead of sequencing alone (needs --signing-key and --p2p-listen).
    #[arg(long, env = "TANDEM_STAKING")]
    pub staking: Option<Address>,
    /// Registered secp256k1 signing key (0x hex) for consensus votes and batch signatures.
    #[arg(long, env = "TANDEM_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Consensus P2P listen address (multiaddr), e.g. /ip4/127.0.0.1/tcp/27000.
    #[arg(long, env = "TANDEM_P2P_LISTEN")]
    pub p2p_listen: Option<String>,
    /// The L1 staking epoch whose active set decides the first consensus height.
    #[arg(long, env = "TANDEM_GENESIS_EPOCH", default_value_t = 0)]
    pub genesis_epoch: u64,
    /// Milliseconds the member due to post a batch has before the next one posts it.
    #[arg(long, env = "TANDEM_POST_TIMEOUT_MS", default_value_t = 5000)]
    pub post_timeout_ms: u64,
    /// Consensus propose timeout in milliseconds (round 0; grows by half of it per round).
    #[arg(long, env = "TANDEM_PROPOSE_TIMEOUT_MS", default_value_t = 3000)]
    pub propose_timeout_ms: u64,
    /// TEST/DEMO ONLY: this member equivocates (signs conflicting votes) so that the others
    /// report it and L1 slashes it.
    #[arg(long, env = "TANDEM_BYZANTINE_EQUIVOCATE", hide = true)]
    pub byzantine_equivocate: bool,
    /// TEST/DEMO ONLY: this member never posts batches when due, so the next member in
    /// rotation posts them after --post-timeout-ms.
    #[arg(long, env = "TANDEM_WITHHOLD_BATCHES", hide = true)]
    pub withhold_batches: bool,
    /// TEST/DEMO ONLY: never include a forced withdrawal from the account of this packed L2
    /// key, nor any priority op queued after it (a censoring sequencer, to exercise exodus).
    #[arg(long, hide = true, value_parser = parse_censored_key)]
    pub test_censor_forced_from: Option<PackedPubKey>,
    /// The rollup's forced-withdrawal inbox (printed by `tandem devnet`): its requests are
    /// included with the deposits, in queue order. Required when the rollup has one.
    #[arg(long, env = "TANDEM_FORCED_INBOX")]
    pub forced_inbox: Option<Address>,
}

fn parse_censored_key(text: &str) -> Result<PackedPubKey, String> {
    tandem_cli::wallet::parse_packed_key(text).map_err(|e| e.to_string())
}

impl NodeArgs {
    fn config(&self) -> anyhow::Result<NodeConfig> {
        let sequencer_key: PrivateKeySigner =
            self.sequencer_key.trim_start_matches("0x").parse().context("sequencer key is not a 32-byte hex private key")?;
        if self.max_block_ops == 0 {
            anyhow::bail!("max block ops must be positive");
        }
        Ok(NodeConfig {
            data_dir: self.data_dir.clone(),
            chain_id: self.chain.chain_id,
            tree_depth: self.chain.tree_depth,
            genesis_fee_pubkey: self.chain.genesis_fee_pubkey,
            l1_rpc: self.chain.l1_rpc.clone(),
            rollup: self.chain.rollup,
            deploy_block: self.deploy_block,
            sequencer_key,
            rpc_addr: self.rpc_addr,
            metrics_addr: self.metrics_addr,
            dashboard_addr: self.dashboard_addr,
            block_time: Duration::from_millis(self.block_time_ms.max(10)),
            l1_confirmations: self.l1_confirmations,
            max_block_ops: self.max_block_ops,
            l1_poll_interval: Duration::from_millis(self.l1_poll_ms.max(10)),
            zk_lane: self.zk_slots.map(|slots| tandem_node::ZkLaneConfig {
                slots,
                fast_withdrawal_fee: self.fast_withdrawal_fee,
                escrow_proof_fees: self.escrow_proof_fees,
            }),
            test_censor_forced_from: self.test_censor_forced_from,
            forced_inbox: self.forced_inbox,
            tx_records_merge: tandem_node::recent_txs::DEFAULT_TX_RECORDS_MERGE,
        })
    }
}

impl NodeArgs {
    fn member_config(&self) -> anyhow::Result<Option<tandem_node::member::MemberConfig>> {
        let Some(staking) = self.staking else {
            return Ok(None);
        };
        let key_text = self.signing_key.as_deref().ok_or_else(|| anyhow!("--staking needs --signing-key"))?;
        let signing_key: PrivateKeySigner =
            key_text.trim_start_matches("0x").parse().context("signing key is not a 32-byte hex private key")?;
        let listen = self.p2p_listen.as_deref().ok_or_else(|| anyhow!("--staking needs --p2p-listen"))?;
        let p2p_listen = listen.parse().map_err(|e| anyhow!("--p2p-listen {listen:?} is not a multiaddr: {e}"))?;
        Ok(Some(tandem_node::member::MemberConfig {
            staking,
            signing_key,
            p2p_listen,
            genesis_epoch: self.genesis_epoch,
            post_timeout: Duration::from_millis(self.post_timeout_ms.max(100)),
            timeouts: tandem_consensus::timeouts_for(Duration::from_millis(self.propose_timeout_ms)),
            posts_batches: !self.withhold_batches,
            byzantine: self.byzantine_equivocate.then(|| tandem_node::member::ByzantineConfig {
                equivocate_votes: tandem_node::member::Trigger::Always,
                ..Default::default()
            }),
        }))
    }
}

/// Runs the node until SIGINT or SIGTERM.
pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,arc_malachitebft=warn,libp2p=warn".into())
        .add_directive(tandem_cli::GR1CS_SPANS_OFF.parse().expect("valid directive"));
    if args.log_json {
        let _ = tracing_subscriber::fmt().json().with_env_filter(filter).try_init();
    } else {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    }
    let config = args.config()?;
    let member = args.member_config()?;
    let shutdown = async {
        tandem_cli::shutdown_signal().await;
        tracing::info!("shutting down");
    };
    match member {
        Some(member) => tandem_node::member::run_member(config, member, shutdown).await,
        None => tandem_node::run(config, shutdown).await,
    }
    .map_err(|e| anyhow!("node stopped: {e}"))
}

#[cfg(test)]
mod tests {
    use super::NodeArgs;
    use clap::Parser;
    use tandem_devnet::{MemberArgs, NodeCommand, ZkArgs};
    use tandem_l1::{Address, PrivateKeySigner};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn key(byte: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&tandem_l1::B256::repeat_byte(byte)).expect("scalar")
    }

    /// The devnet's builder produces exactly the flags `tandem node` parses, into the values
    /// it was given.
    #[test]
    fn the_devnet_node_builder_speaks_these_flags() {
        let fee = tandem_crypto::PrivateKey::from_seed([3; 32]).public_key().pack();
        let mut node = NodeCommand::new(
            std::path::Path::new("/tmp/member0"),
            778,
            12,
            fee,
            "http://127.0.0.1:8545",
            Address::repeat_byte(1),
            9,
            key(2),
            "127.0.0.1:20001".parse().expect("addr"),
            "127.0.0.1:20002".parse().expect("addr"),
        );
        node.block_time_ms = Some(500);
        node.l1_confirmations = Some(0);
        node.max_block_ops = Some(64);
        node.l1_poll_ms = Some(300);
        node.zk = Some(ZkArgs { slots: 2, fast_withdrawal_fee: 7, escrow_proof_fees: true });
        node.member = Some(MemberArgs {
            staking: Address::repeat_byte(4),
            signing_key: key(5),
            p2p_port: 20003,
            genesis_epoch: 6,
            post_timeout_ms: Some(3000),
            propose_timeout_ms: Some(2000),
            byzantine_equivocate: false,
            withhold_batches: true,
        });
        node.log_json = true;
        node.dashboard_addr = Some("127.0.0.1:20004".parse().expect("addr"));
        let argv = std::iter::once("node".to_string()).chain(node.argv());
        let args = Cli::try_parse_from(argv).expect("tandem node accepts the builder's flags").node;
        let config = args.config().expect("valid config");
        assert_eq!(config.data_dir, node.data_dir);
        assert_eq!((config.chain_id, config.tree_depth, config.genesis_fee_pubkey), (778, 12, fee));
        assert_eq!((config.rollup, config.deploy_block), (Address::repeat_byte(1), 9));
        assert_eq!(config.sequencer_key.address(), key(2).address());
        assert_eq!((config.rpc_addr, config.metrics_addr), (node.rpc_addr, node.metrics_addr));
        assert_eq!(config.dashboard_addr, node.dashboard_addr);
        assert_eq!((config.block_time.as_millis(), config.l1_confirmations, config.max_block_ops), (500, 0, 64));
        assert_eq!(config.l1_poll_interval.as_millis(), 300);
        assert!(matches!(&config.zk_lane, Some(z) if z.slots == 2 && z.fast_withdrawal_fee == 7 && z.escrow_proof_fees));
        assert!(args.log_json);
        let member = args.member_config().expect("valid member config").expect("member mode");
        assert_eq!((member.staking, member.signing_key.address(), member.genesis_epoch), (Address::repeat_byte(4), key(5).address(), 6));
        assert_eq!(member.p2p_listen.to_string(), "/ip4/127.0.0.1/tcp/20003");
        assert_eq!(member.post_timeout.as_millis(), 3000);
        assert!(!member.posts_batches && member.byzantine.is_none());
    }
}
