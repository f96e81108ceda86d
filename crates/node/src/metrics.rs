//! Prometheus metrics of the node, served as text at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and gauges. Invariant: counters only increase.
#[derive(Debug, Default)]
pub struct Metrics {
    /// L2 blocks produced.
    pub blocks_produced: AtomicU64,
    /// Transactions accepted into the mempool.
    pub txs_accepted: AtomicU64,
    /// Transactions refused at submission.
    pub txs_refused: AtomicU64,
    /// Transactions included in blocks.
    pub txs_included: AtomicU64,
    /// Accepted transactions dropped at block production.
    pub txs_dropped: AtomicU64,
    /// L1 deposits credited.
    pub deposits_included: AtomicU64,
    /// Batches committed on L1 by this node.
    pub batches_posted: AtomicU64,
    /// Batches finalized on L1 by this node.
    pub batches_finalized: AtomicU64,
    /// L1 calls that failed.
    pub l1_errors: AtomicU64,
    /// Gauge: pending transactions.
    pub mempool_size: AtomicU64,
    /// Gauge: latest L2 block.
    pub latest_block: AtomicU64,
    /// Gauge: latest L1 block seen.
    pub l1_head: AtomicU64,
    /// Gauge: highest committed consensus height (sequencer-set mode).
    pub consensus_height: AtomicU64,
    /// Blocks this member proposed that were decided (sequencer-set mode).
    pub blocks_proposed: AtomicU64,
    /// Equivocations this member reported and L1 slashed (sequencer-set mode).
    pub slashings_reported: AtomicU64,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 15] = [
            ("tandem_blocks_produced_total", "counter", "L2 blocks produced", &self.blocks_produced),
            ("tandem_txs_accepted_total", "counter", "transactions accepted into the mempool", &self.txs_accepted),
            ("tandem_txs_refused_total", "counter", "transactions refused at submission", &self.txs_refused),
            ("tandem_txs_included_total", "counter", "transactions included in blocks", &self.txs_included),
            ("tandem_txs_dropped_total", "counter", "accepted transactions dropped at block production", &self.txs_dropped),
            ("tandem_deposits_included_total", "counter", "L1 deposits credited on L2", &self.deposits_included),
            ("tandem_batches_posted_total", "counter", "batches committed on L1", &self.batches_posted),
            ("tandem_batches_finalized_total", "counter", "batches finalized on L1", &self.batches_finalized),
            ("tandem_l1_errors_total", "counter", "failed L1 calls", &self.l1_errors),
            ("tandem_mempool_size", "gauge", "pending transactions", &self.mempool_size),
            ("tandem_latest_block", "gauge", "latest L2 block number", &self.latest_block),
            ("tandem_l1_head", "gauge", "latest L1 block seen", &self.l1_head),
            ("tandem_consensus_height", "gauge", "highest committed consensus height", &self.consensus_height),
            ("tandem_blocks_proposed_total", "counter", "decided blocks this member proposed", &self.blocks_proposed),
            ("tandem_slashings_reported_total", "counter", "equivocations reported and slashed on L1", &self.slashings_reported),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n", value.load(Ordering::Relaxed)));
        }
        out
    }
}
