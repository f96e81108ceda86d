//! The Tandem sequencer node: mempool with per-account nonce ordering, block production
//! behind the [`producer::BlockProducer`] trait, an L1 watcher for deposits, the batcher
//! and the finalizer, crash-safe storage shared with the ledger, JSON-RPC and Prometheus
//! metrics; in sequencer-set mode ([`member`]) blocks come from consensus among the staked
//! members instead.

pub mod config;
pub mod member;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod producer;
pub mod records;
pub mod rpc;

pub use config::{NodeConfig, ZkLaneConfig};
/// Kept here for the devnet and CLI tests that build a chain's genesis through the node.
pub use tandem_chain::genesis_root;
pub use node::{Node, NodeError};

use tracing::info;

/// Runs a single-sequencer node until `shutdown` resolves: opens storage, starts RPC and
/// metrics, and runs the block, L1-sync, batcher and finalizer loops.
pub async fn run(config: NodeConfig, shutdown: impl std::future::Future<Output = ()>) -> Result<(), NodeError> {
    let node = Node::open(config, Box::new(producer::SoloSequencer)).await?;
    let (rpc, rpc_addr) = rpc::serve_rpc(node.clone(), node.config.rpc_addr).await?;
    let metrics_addr = rpc::serve_metrics(node.clone(), node.config.metrics_addr).await?;
    info!(rpc = %format!("http://{rpc_addr}"), metrics = %format!("http://{metrics_addr}/metrics"), rollup = %node.config.rollup, "node running");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let loops = tokio::spawn(node.clone().run_loops(stop_rx));
    tokio::pin!(shutdown);
    tokio::pin!(loops);
    let result = tokio::select! {
        _ = &mut shutdown => {
            let _ = stop_tx.send(true);
            loops.await.map_err(|e| NodeError::Server(e.to_string())).and_then(|r| r)
        }
        r = &mut loops => r.map_err(|e| NodeError::Server(e.to_string())).and_then(|r| r),
    };
    let _ = rpc.stop();
    result
}
