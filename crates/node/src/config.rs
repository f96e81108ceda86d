//! Node configuration (the genesis state is `tandem_chain::genesis`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tandem_l1::{Address, PrivateKeySigner};
use tandem_types::PackedPubKey;

/// The default most ops per block. At one block per second the block size must not be what
/// caps the set's throughput: 1,024 ops capped a 4-member set on a 2-core machine with
/// AVX-512 IFMA at ~1,024 tx/s while it executes ~1,700, and a block after a slow height must
/// catch up above the mean (BENCHMARKS.md, issue 13). The bound above it is L1's: a batch's
/// public data goes in the commit's calldata, at most 52 bytes per op (SPEC §4.2), and 2,048
/// such ops (~104 KiB with the header and signatures) still fit geth's 128 KiB transaction
/// limit. A batch of 2,048 transfers is ~24 KiB of calldata and ~0.7M gas (BENCHMARKS.md).
pub const DEFAULT_MAX_BLOCK_OPS: usize = 2048;

/// Everything a node needs to run.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where the node keeps its database.
    pub data_dir: PathBuf,
    /// L2 chain id (part of every signed message).
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Owner key of account 0, created at genesis; it receives the fees.
    pub genesis_fee_pubkey: PackedPubKey,
    /// L1 JSON-RPC URL.
    pub l1_rpc: String,
    /// Rollup contract.
    pub rollup: Address,
    /// L1 block of the rollup's deployment (event scans start there).
    pub deploy_block: u64,
    /// L1 key that commits and finalizes batches.
    pub sequencer_key: PrivateKeySigner,
    /// JSON-RPC listen address.
    pub rpc_addr: SocketAddr,
    /// Prometheus metrics listen address.
    pub metrics_addr: SocketAddr,
    /// Web dashboard listen address (`tandem_dashboard`, read-only); `None` serves none.
    pub dashboard_addr: Option<SocketAddr>,
    /// Target time between blocks.
    pub block_time: Duration,
    /// L1 blocks a deposit must be buried under before L2 credits it (reorg safety).
    pub l1_confirmations: u64,
    /// Most ops per block (and so per batch). In a sequencer set every member must use the
    /// same value: a member votes nil on a larger proposal (SPEC §11).
    pub max_block_ops: usize,
    /// How often L1 is polled.
    pub l1_poll_interval: Duration,
    /// The validity lane, if this chain has one.
    pub zk_lane: Option<ZkLaneConfig>,
    /// TEST ONLY: never include a forced withdrawal from the account this key owns, nor any
    /// priority op queued after it (a censoring sequencer, for exodus tests). `None` in every real deployment.
    pub test_censor_forced_from: Option<PackedPubKey>,
    /// The rollup's forced-withdrawal inbox (SPEC §4.5): its requests are included with the
    /// deposits, in queue order. `None` for a rollup deployed without one.
    pub forced_inbox: Option<Address>,
    /// Included transactions whose records wait in memory before they are written to the
    /// records table together, in key order ([`crate::recent_txs`], SPEC §9); at least 1.
    /// [`crate::recent_txs::DEFAULT_TX_RECORDS_MERGE`] unless a test wants merges sooner.
    pub tx_records_merge: usize,
}

/// Parameters of the validity (ZK) lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZkLaneConfig {
    /// Op slots of the circuit: a ZK-lane batch has at most this many ops.
    pub slots: usize,
    /// A withdrawal paying at least this fee (in its token's base units) asks for fast
    /// finality: the sequencer puts it in a ZK-lane batch.
    pub fast_withdrawal_fee: u128,
    /// Escrow each ZK-lane batch's ETH fees in the rollup's prover market with its commit
    /// (SPEC §15): the fast-lane fees users paid on L2 become the batch's proof reward on L1,
    /// paid by the poster. The rollup must have a market.
    pub escrow_proof_fees: bool,
}
