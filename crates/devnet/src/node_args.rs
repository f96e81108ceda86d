//! The one typed builder of `tandem node` arguments (the flags of the CLI's `node_cmd`):
//! `tandem devnet`, the end-to-end tests and the benchmarks all start nodes through it.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use tandem_types::PackedPubKey;

/// `0x`-prefixed lowercase hex.
fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The validity lane of a single sequencer (`--zk-slots`, `--fast-withdrawal-fee`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkArgs {
    /// Op slots of the circuit the rollup's verifier was generated for.
    pub slots: usize,
    /// Fee (token base units) from which a withdrawal is fast.
    pub fast_withdrawal_fee: u128,
    /// `--escrow-proof-fees`: escrow each ZK batch's ETH fees in the prover market.
    pub escrow_proof_fees: bool,
}

/// Sequencer-set membership (`--staking` and the consensus flags).
#[derive(Debug, Clone)]
pub struct MemberArgs {
    /// The `SequencerStaking` contract.
    pub staking: Address,
    /// The registered consensus and batch signing key.
    pub signing_key: PrivateKeySigner,
    /// Consensus P2P listen port on 127.0.0.1 (the one registered on L1).
    pub p2p_port: u16,
    /// The epoch whose set decides the first height.
    pub genesis_epoch: u64,
    /// `--post-timeout-ms` (the node's default when `None`).
    pub post_timeout_ms: Option<u64>,
    /// `--propose-timeout-ms` (the node's default when `None`).
    pub propose_timeout_ms: Option<u64>,
    /// TEST ONLY: `--byzantine-equivocate`.
    pub byzantine_equivocate: bool,
    /// TEST ONLY: `--withhold-batches`.
    pub withhold_batches: bool,
}

impl MemberArgs {
    /// The multiaddr of the P2P listener.
    pub fn p2p_multiaddr(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)
    }
}

/// Everything `tandem node` is started with. Optional fields left `None` are not passed, so
/// the node's defaults apply.
#[derive(Debug, Clone)]
pub struct NodeCommand {
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--chain-id`.
    pub chain_id: u64,
    /// `--tree-depth`.
    pub tree_depth: u8,
    /// `--genesis-fee-pubkey`: owner of account 0 at genesis.
    pub genesis_fee_pubkey: PackedPubKey,
    /// `--l1-rpc`.
    pub l1_rpc: String,
    /// `--rollup`.
    pub rollup: Address,
    /// `--deploy-block`.
    pub deploy_block: u64,
    /// `--sequencer-key`: the L1 account that commits and finalizes batches.
    pub sequencer_key: PrivateKeySigner,
    /// `--rpc-addr`.
    pub rpc_addr: SocketAddr,
    /// `--metrics-addr`.
    pub metrics_addr: SocketAddr,
    /// `--dashboard-addr` (no dashboard when `None`).
    pub dashboard_addr: Option<SocketAddr>,
    /// `--block-time-ms`.
    pub block_time_ms: Option<u64>,
    /// `--l1-confirmations`.
    pub l1_confirmations: Option<u64>,
    /// `--max-block-ops`.
    pub max_block_ops: Option<usize>,
    /// `--l1-poll-ms`.
    pub l1_poll_ms: Option<u64>,
    /// `--log-json`.
    pub log_json: bool,
    /// The validity lane (single sequencer).
    pub zk: Option<ZkArgs>,
    /// Sequencer-set membership; `None` runs a single sequencer.
    pub member: Option<MemberArgs>,
    /// `--test-censor-forced-from` (TEST ONLY: a censoring sequencer).
    pub test_censor_forced_from: Option<PackedPubKey>,
    /// `--forced-inbox`: the rollup's forced-withdrawal inbox.
    pub forced_inbox: Option<Address>,
}

impl NodeCommand {
    /// A node with the required flags and the node's defaults for the rest.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        data_dir: &Path,
        chain_id: u64,
        tree_depth: u8,
        genesis_fee_pubkey: PackedPubKey,
        l1_rpc: &str,
        rollup: Address,
        deploy_block: u64,
        sequencer_key: PrivateKeySigner,
        rpc_addr: SocketAddr,
        metrics_addr: SocketAddr,
    ) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            chain_id,
            tree_depth,
            genesis_fee_pubkey,
            l1_rpc: l1_rpc.to_string(),
            rollup,
            deploy_block,
            sequencer_key,
            rpc_addr,
            metrics_addr,
            dashboard_addr: None,
            block_time_ms: None,
            l1_confirmations: None,
            max_block_ops: None,
            l1_poll_ms: None,
            log_json: false,
            zk: None,
            member: None,
            test_censor_forced_from: None,
            forced_inbox: None,
        }
    }

    /// The node's JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// The arguments after `tandem node`.
    pub fn argv(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--data-dir".into(),
            self.data_dir.display().to_string(),
            "--chain-id".into(),
            self.chain_id.to_string(),
            "--tree-depth".into(),
            self.tree_depth.to_string(),
            "--genesis-fee-pubkey".into(),
            hex0x(&self.genesis_fee_pubkey.0),
            "--l1-rpc".into(),
            self.l1_rpc.clone(),
            "--rollup".into(),
            self.rollup.to_string(),
            "--deploy-block".into(),
            self.deploy_block.to_string(),
            "--sequencer-key".into(),
            hex0x(self.sequencer_key.to_bytes().as_slice()),
            "--rpc-addr".into(),
            self.rpc_addr.to_string(),
            "--metrics-addr".into(),
            self.metrics_addr.to_string(),
        ];
        let mut optional = |flag: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(flag.into());
                args.push(value);
            }
        };
        optional("--dashboard-addr", self.dashboard_addr.map(|a| a.to_string()));
        optional("--block-time-ms", self.block_time_ms.map(|v| v.to_string()));
        optional("--l1-confirmations", self.l1_confirmations.map(|v| v.to_string()));
        optional("--max-block-ops", self.max_block_ops.map(|v| v.to_string()));
        optional("--l1-poll-ms", self.l1_poll_ms.map(|v| v.to_string()));
        if let Some(zk) = &self.zk {
            optional("--zk-slots", Some(zk.slots.to_string()));
            optional("--fast-withdrawal-fee", Some(zk.fast_withdrawal_fee.to_string()));
        }
        if let Some(m) = &self.member {
            optional("--staking", Some(m.staking.to_string()));
            optional("--signing-key", Some(hex0x(m.signing_key.to_bytes().as_slice())));
            optional("--p2p-listen", Some(m.p2p_multiaddr()));
            optional("--genesis-epoch", Some(m.genesis_epoch.to_string()));
            optional("--post-timeout-ms", m.post_timeout_ms.map(|v| v.to_string()));
            optional("--propose-timeout-ms", m.propose_timeout_ms.map(|v| v.to_string()));
            if m.byzantine_equivocate {
                args.push("--byzantine-equivocate".into());
            }
            if m.withhold_batches {
                args.push("--withhold-batches".into());
            }
        }
        if self.zk.as_ref().is_some_and(|zk| zk.escrow_proof_fees) {
            args.push("--escrow-proof-fees".into());
        }
        if self.log_json {
            args.push("--log-json".into());
        }
        if let Some(inbox) = &self.forced_inbox {
            args.push("--forced-inbox".into());
            args.push(inbox.to_string());
        }
        if let Some(key) = &self.test_censor_forced_from {
            args.push("--test-censor-forced-from".into());
            args.push(hex0x(&key.0));
        }
        args
    }

    /// `tandem node …` from the `tandem` executable `exe`.
    pub fn command(&self, exe: &Path) -> Command {
        let mut cmd = Command::new(exe);
        cmd.arg("node").args(self.argv());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&alloy::primitives::B256::repeat_byte(byte)).expect("scalar")
    }

    #[test]
    fn optional_flags_appear_only_when_set() {
        let mut node = NodeCommand::new(
            Path::new("/tmp/n"),
            7,
            12,
            PackedPubKey([0xab; 32]),
            "http://127.0.0.1:8545",
            Address::repeat_byte(1),
            3,
            key(2),
            "127.0.0.1:1000".parse().expect("addr"),
            "127.0.0.1:1001".parse().expect("addr"),
        );
        let plain = node.argv();
        assert_eq!(plain.len(), 20);
        assert!(!plain.iter().any(|a| a == "--staking" || a == "--zk-slots" || a == "--block-time-ms" || a == "--dashboard-addr"));
        assert_eq!(plain[plain.iter().position(|a| a == "--sequencer-key").expect("flag") + 1], format!("0x{}", "02".repeat(32)));
        node.block_time_ms = Some(500);
        node.member = Some(MemberArgs {
            staking: Address::repeat_byte(9),
            signing_key: key(3),
            p2p_port: 27001,
            genesis_epoch: 4,
            post_timeout_ms: None,
            propose_timeout_ms: Some(2000),
            byzantine_equivocate: true,
            withhold_batches: false,
        });
        let args = node.argv();
        let value = |flag: &str| args.iter().position(|a| a == flag).map(|i| args[i + 1].clone());
        assert_eq!(value("--block-time-ms").as_deref(), Some("500"));
        assert_eq!(value("--p2p-listen").as_deref(), Some("/ip4/127.0.0.1/tcp/27001"));
        assert_eq!(value("--genesis-epoch").as_deref(), Some("4"));
        assert_eq!(value("--propose-timeout-ms").as_deref(), Some("2000"));
        assert_eq!(value("--post-timeout-ms"), None);
        assert!(args.contains(&"--byzantine-equivocate".to_string()) && !args.contains(&"--withhold-batches".to_string()));
    }
}
