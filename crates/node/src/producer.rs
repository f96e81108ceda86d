//! The seam between "what goes into the next block" and the rest of the node.
//!
//! The single sequencer orders the candidates as they come (deposits first, then
//! transactions in arrival order). In sequencer-set mode the proposer plans its block the same
//! way, and what the set decides reaches the node through `member::Member`'s
//! `ConsensusApp` implementation instead.

use tandem_state::LedgerOp;

/// Decides the contents of block `height` from the candidate ops.
pub trait BlockProducer: Send + Sync {
    /// The ops block `height` will contain, in order (a subset and permutation of the
    /// candidates; deposits must stay in queue order and come before transactions).
    fn order(&self, height: u64, candidates: Vec<LedgerOp>) -> Vec<LedgerOp>;
}

/// One sequencer, this node: takes the candidates as they are.
#[derive(Debug, Default, Clone, Copy)]
pub struct SoloSequencer;

impl BlockProducer for SoloSequencer {
    fn order(&self, _height: u64, candidates: Vec<LedgerOp>) -> Vec<LedgerOp> {
        candidates
    }
}
