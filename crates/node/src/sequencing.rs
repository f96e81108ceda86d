//! The sequencing seam: who decides the next block and when. The single sequencer
//! ([`SoloSequencer`]) builds a block from confirmed deposits and the mempool on every block
//! timer tick; a member of the sequencer set ([`crate::member::Member`]) commits what
//! consensus decides. Either commits through [`Node::commit_block`].

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::node::{Node, NodeError};

/// Decides the node's blocks.
pub trait Sequencing: Send + Sync + 'static {
    /// Decides and commits blocks until `stop` turns `true` (then returns `Ok`) or a fatal
    /// error.
    fn run(self: Arc<Self>, node: Arc<Node>, stop: watch::Receiver<bool>) -> impl Future<Output = Result<(), NodeError>> + Send;

    /// Work the sequencing needs from L1 on every L1 poll, before deposit sync (the set
    /// member refreshes its view of the sequencer set and reports evidence).
    fn on_l1_poll(&self) -> impl Future<Output = Result<(), NodeError>> + Send {
        async { Ok(()) }
    }
}

/// One sequencer, this node: every `block_time` it builds a block from the confirmed
/// deposits and the pending transactions, if there is anything to include.
#[derive(Debug, Default, Clone, Copy)]
pub struct SoloSequencer;

impl Sequencing for SoloSequencer {
    async fn run(self: Arc<Self>, node: Arc<Node>, mut stop: watch::Receiver<bool>) -> Result<(), NodeError> {
        let mut tick = tokio::time::interval(node.config.block_time);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return Ok(()),
            }
            let n = node.clone();
            tokio::task::spawn_blocking(move || n.produce_block()).await??;
        }
    }
}
