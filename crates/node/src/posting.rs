//! Batch posting: one path finds the next batch L1 lacks, hands it to a [`Posting`] strategy
//! to commit, and marks batches posted from L1's `BatchCommitted` events. The single
//! sequencer commits directly ([`DirectPosting`]); a set member collects the set's
//! signatures and commits when it is its turn (`member::Member`).
//!
//! Posting and finalization run from cursors in `NODE_META` (`META_POSTED_THROUGH`,
//! `META_FINALIZED_THROUGH`), written in the same database transaction as the batch record
//! they advance past; the number to post next is always L1's last committed batch + 1, so a
//! restart never posts a batch twice.

use std::future::Future;

use tandem_chain::{BlockRecord, Lane};
use tandem_l1::B256;
use tracing::info;

use crate::metrics::Metrics;
use crate::node::{Node, NodeError};
use crate::records::*;

/// How a batch gets committed on L1.
pub trait Posting: Send + Sync + 'static {
    /// Commits batch `number` (the batch of `block`, which L1 does not have yet) and returns
    /// the L1 transaction, or `None` when this node does not commit it now (not its turn, or
    /// not enough signatures yet).
    fn commit(&self, node: &Node, number: u64, block: &BlockRecord) -> impl Future<Output = Result<Option<B256>, NodeError>> + Send;
}

/// The single sequencer's strategy: commit with the sequencer key (`commitBatch`).
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectPosting;

impl Posting for DirectPosting {
    async fn commit(&self, node: &Node, number: u64, block: &BlockRecord) -> Result<Option<B256>, NodeError> {
        let header = block.batch_header();
        let escrow = match node.config.zk_lane {
            Some(zk) if zk.escrow_proof_fees && block.lane == Lane::Zk => block.fees_in(tandem_types::TokenId::ETH),
            _ => 0,
        };
        let tx = node.l1.commit_batch_with_escrow(&header, &block.public_data, tandem_l1::U256::from(escrow)).await?;
        info!(batch = number, l1_tx = %tx, ops = header.op_count, proof_escrow_wei = escrow, "batch committed on L1");
        Ok(Some(tx))
    }
}

impl Node {
    /// Posts the produced batches L1 does not have yet, in order, directly (single sequencer).
    pub async fn post_batches(&self) -> Result<(), NodeError> {
        self.post_batches_with(&DirectPosting).await
    }

    /// Marks the batches L1 has as posted, then offers each next batch L1 lacks to `posting`
    /// until it declines. Never offers a number L1 already has.
    pub async fn post_batches_with<P: Posting>(&self, posting: &P) -> Result<(), NodeError> {
        let on_l1 = self.l1.last_committed_batch().await?;
        let latest = self.latest_block()?;
        self.mark_posted(on_l1.min(latest)).await?;
        for number in on_l1 + 1..=latest {
            let block = self.block(number)?.ok_or(NodeError::MissingBlock(number))?;
            let Some(tx) = posting.commit(self, number, &block).await? else { return Ok(()) };
            Metrics::inc(&self.metrics.batches_posted);
            let mut record = self.batch(number)?.ok_or(NodeError::MissingBlock(number))?;
            record.l1_commit_tx = Some(tx.to_string());
            self.write_batch(&record)?;
            self.mark_posted(number).await?;
        }
        Ok(())
    }

    /// Advances the posted cursor through `through`, recording each batch's L1 commit record;
    /// stops at the first whose `BatchCommitted` event this node cannot see yet. One log
    /// search per batch, from the previous batch's commit block (a batch is committed after
    /// its predecessor, also after a revert), so the cost does not grow with the chain's age.
    async fn mark_posted(&self, through: u64) -> Result<(), NodeError> {
        let mut number = read_meta(&self.db, META_POSTED_THROUGH)?.unwrap_or(0) + 1;
        let mut from_block = match number.checked_sub(1).filter(|n| *n > 0) {
            Some(previous) => self.batch(previous)?.and_then(|r| r.origin).map_or(0, |o| o.l1_block),
            None => 0,
        }
        .max(self.config.deploy_block);
        while number <= through {
            let mut record = self.batch(number)?.ok_or(NodeError::MissingBlock(number))?;
            if record.status == BatchStatus::Soft {
                let Some((committed, origin)) = self.l1.commit_record(number, from_block).await? else { return Ok(()) };
                record.committed = Some(committed);
                // Members that did not post learn the commit transaction here.
                record.l1_commit_tx.get_or_insert_with(|| origin.l1_tx.to_string());
                record.origin = Some(origin);
                record.status = BatchStatus::Posted;
            }
            if let Some(origin) = &record.origin {
                from_block = from_block.max(origin.l1_block);
            }
            self.write_batch_at(&record, META_POSTED_THROUGH)?;
            number += 1;
        }
        Ok(())
    }

    /// Finalizes posted batches in order from the finalized cursor once final-able
    /// (optimistic: window passed; ZK lane: proven on L1); marks batches L1 already finalized.
    pub async fn finalize_batches(&self) -> Result<(), NodeError> {
        let final_on_l1 = self.l1.last_finalized_batch().await?;
        let now = self.l1.latest_timestamp().await?;
        let posted_through = read_meta(&self.db, META_POSTED_THROUGH)?.unwrap_or(0);
        let mut number = read_meta(&self.db, META_FINALIZED_THROUGH)?.unwrap_or(0) + 1;
        while number <= posted_through {
            let mut record = self.batch(number)?.ok_or(NodeError::MissingBlock(number))?;
            if record.status == BatchStatus::Soft {
                break;
            }
            if record.status == BatchStatus::Posted && number > final_on_l1 {
                let committed = record.committed.ok_or(NodeError::NoL1Record(number))?;
                let ready = match Lane::from_code(committed.lane) {
                    Some(Lane::Zk) => self.l1.is_proven(number).await?,
                    _ => now >= committed.committed_at + self.challenge_window || self.l1.is_proven(number).await?,
                };
                if !ready {
                    break;
                }
                let tx = self.l1.finalize_batch(&committed).await?;
                record.l1_finalize_tx = Some(tx.to_string());
                Metrics::inc(&self.metrics.batches_finalized);
                info!(batch = number, l1_tx = %tx, "batch finalized on L1");
            }
            record.status = BatchStatus::Final;
            record.finalized_at = Some(crate::node::unix_now());
            self.write_batch_at(&record, META_FINALIZED_THROUGH)?;
            number += 1;
        }
        Ok(())
    }
}
