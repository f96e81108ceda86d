//! The Tandem sequencer node: mempool with per-account nonce ordering (persisted in the
//! append-only [`pool_log`]), block production
//! behind the [`sequencing::Sequencing`] seam, an L1 watcher for deposits, the batcher
//! (one path, with a [`posting::Posting`] strategy) and the finalizer, crash-safe storage
//! shared with the ledger, JSON-RPC, Prometheus metrics and the read-only web dashboard
//! (`tandem_dashboard`, on its own port when [`NodeConfig::dashboard_addr`] is set). The
//! single sequencer runs [`sequencing::SoloSequencer`] with [`posting::DirectPosting`]; in
//! sequencer-set mode ([`member`]) blocks come from consensus among the staked members and
//! batches carry their signatures.

pub mod batch_queue;
pub mod config;
pub mod member;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod pool_log;
pub mod posting;
pub mod recent_txs;
pub mod records;
pub mod rpc;
pub mod sequencing;

pub use config::{NodeConfig, ZkLaneConfig};
/// Kept here for the devnet and CLI tests that build a chain's genesis through the node.
pub use node::{Node, NodeError};

use std::sync::Arc;

/// Runs a single-sequencer node until `shutdown` resolves: opens storage, warns if it lacks
/// a sequencer bond (`Node::check_sequencer_bond`), serves RPC and metrics, and runs the [`sequencing::SoloSequencer`] with [`posting::DirectPosting`].
pub async fn run(config: NodeConfig, shutdown: impl std::future::Future<Output = ()>) -> Result<(), NodeError> {
    let node = Node::open(config).await?;
    node.check_sequencer_bond().await?;
    let methods = rpc::module(node.clone())?;
    node::run_node(node, methods, Arc::new(sequencing::SoloSequencer), Arc::new(posting::DirectPosting), shutdown).await
}
