//! Batch posting: one path finds the next batch L1 lacks, hands it to a [`Posting`] strategy
//! to commit, and marks batches posted from L1's `BatchCommitted` events. The single
//! sequencer commits directly ([`DirectPosting`]); a set member collects the set's
//! signatures and commits when it is its turn (`member::Member`).
//!
//! Posting and finalization run from cursors in `NODE_META` (`META_POSTED_THROUGH`,
//! `META_FINALIZED_THROUGH`), written in the same database transaction as the batch record
//! they advance past; the number to post next is always L1's last committed batch + 1, so a
//! restart never posts a batch twice.
//!
//! The node marks a batch posted only when L1's commit of its number carries the header of
//! the node's own block: a batch someone else committed under the sequencer's authority (a
//! forged one) is never taken for the node's. When the dispute game reverts batches (SPEC
//! §17), the node sees the rollup's `revertCount` change, marks its reverted batches
//! unposted again and re-posts them on top of the last kept one: its own state never
//! included a batch it did not produce.

use std::future::Future;

use tandem_chain::Lane;
use tandem_l1::B256;
use tracing::{info, warn};

use crate::metrics::Metrics;
use crate::node::{Node, NodeError};
use crate::records::*;

/// How a batch gets committed on L1.
pub trait Posting: Send + Sync + 'static {
    /// Commits `batch` (which L1 does not have yet) and returns the L1 transaction, or
    /// `None` when this node does not commit it now (not its turn, or not enough signatures
    /// yet). Reads the batch's block only to commit it: the poll that declines stays cheap.
    fn commit(&self, node: &Node, batch: &BatchRecord) -> impl Future<Output = Result<Option<B256>, NodeError>> + Send;

    /// Whether this node sends the finalization of `batch` now that L1 allows it.
    /// `finalizeBatch` is permissionless, but only the first call succeeds: nodes that all
    /// call it at once pay for reverted transactions. The single sequencer always does; a set
    /// member when it is its turn.
    fn finalizes(&self, _batch: &BatchRecord) -> bool {
        true
    }
}

/// The single sequencer's strategy: commit with the sequencer key (`commitBatch`).
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectPosting;

impl Posting for DirectPosting {
    async fn commit(&self, node: &Node, batch: &BatchRecord) -> Result<Option<B256>, NodeError> {
        let number = batch.number;
        let block = node.block(number)?.ok_or(NodeError::MissingBlock(number))?;
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
    /// With a dispute game, warns when this single sequencer holds less than the game's
    /// `sequencerBond`: L1 refuses its commits (`SequencerBondTooLow`) until it posts one
    /// (`tandem bond post`). The node runs on (blocks are produced; posting resumes once
    /// bonded). Returns whether the bond suffices (true without a game).
    pub async fn check_sequencer_bond(&self) -> Result<bool, NodeError> {
        let Some(game) = self.dispute_game else { return Ok(true) };
        let game = tandem_l1::DisputeClient::new(&self.config.l1_rpc, game, None)?;
        let required = game.params().await?.sequencer_bond;
        let me = self.config.sequencer_key.address();
        let bond = game.sequencer_bond_of(me).await?;
        let ok = bond.amount >= required && bond.unlock_at == 0;
        if !ok {
            warn!(
                sequencer = %me, held_wei = %bond.amount, required_wei = %required, leaving = bond.unlock_at != 0,
                "no active sequencer bond in the dispute game: L1 refuses this node's commits until one is posted (`tandem bond post`)"
            );
        }
        Ok(ok)
    }

    /// Posts the produced batches L1 does not have yet, in order, directly (single sequencer).
    pub async fn post_batches(&self) -> Result<(), NodeError> {
        self.post_batches_with(&DirectPosting).await
    }

    /// Marks the batches L1 has as posted, then offers each next batch L1 lacks to `posting`
    /// until it declines. Never offers a number L1 already has.
    pub async fn post_batches_with<P: Posting>(&self, posting: &P) -> Result<(), NodeError> {
        let on_l1 = self.l1.last_committed_batch().await?;
        self.follow_reverts(on_l1).await?;
        let latest = self.latest_block()?;
        self.mark_posted(on_l1.min(latest)).await?;
        for number in on_l1 + 1..=latest {
            let mut record = self.batch_summary(number)?.ok_or(NodeError::MissingBlock(number))?;
            let Some(tx) = posting.commit(self, &record).await? else { return Ok(()) };
            Metrics::inc(&self.metrics.batches_posted);
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
            let mut record = self.batch_summary(number)?.ok_or(NodeError::MissingBlock(number))?;
            if record.status == BatchStatus::Soft {
                let Some((committed, origin)) = self.l1.commit_record(number, from_block).await? else { return Ok(()) };
                let ours = record.header_hash.ok_or(NodeError::MissingBlock(number))?;
                if committed.header_hash != ours {
                    warn!(batch = number, l1_header = %committed.header_hash, ours = %ours, "L1 holds a batch this node did not produce: waiting for its revert");
                    return Ok(());
                }
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

    /// After the rollup's `revertCount` changed: marks the posted batches L1 no longer holds
    /// (number above `on_l1`, or another record there) unposted again, from the first one on,
    /// so that posting commits them anew.
    async fn follow_reverts(&self, on_l1: u64) -> Result<(), NodeError> {
        let revert_count = self.l1.revert_count().await?;
        if read_meta(&self.db, META_REVERT_COUNT)?.unwrap_or(0) == revert_count {
            return Ok(());
        }
        let posted = read_meta(&self.db, META_POSTED_THROUGH)?.unwrap_or(0);
        let finalized = read_meta(&self.db, META_FINALIZED_THROUGH)?.unwrap_or(0);
        let mut first_lost = None;
        for number in finalized + 1..=posted {
            let record = self.batch(number)?.ok_or(NodeError::MissingBlock(number))?;
            let held = match record.committed {
                Some(committed) if number <= on_l1 => self.l1.batch_record_hash(number).await? == tandem_l1::record_hash(&committed),
                _ => false,
            };
            if !held {
                first_lost = Some(number);
                break;
            }
        }
        if let Some(first) = first_lost {
            warn!(from = first, through = posted, revert_count, "L1 reverted batches this node posted: posting them again");
            self.unpost(first, posted)?;
        }
        self.write_meta(META_REVERT_COUNT, revert_count)?;
        Ok(())
    }

    /// Finalizes posted batches in order from the finalized cursor once final-able
    /// (optimistic: window passed; ZK lane: proven on L1); marks batches L1 already finalized.
    pub async fn finalize_batches(&self) -> Result<(), NodeError> {
        self.finalize_batches_with(&DirectPosting).await
    }

    /// [`Node::finalize_batches`], sending a finalization only when `posting` says this node
    /// is due to; batches someone else finalized are marked final all the same.
    pub async fn finalize_batches_with<P: Posting>(&self, posting: &P) -> Result<(), NodeError> {
        let final_on_l1 = self.l1.last_finalized_batch().await?;
        let now = self.l1.latest_timestamp().await?;
        let posted_through = read_meta(&self.db, META_POSTED_THROUGH)?.unwrap_or(0);
        let mut number = read_meta(&self.db, META_FINALIZED_THROUGH)?.unwrap_or(0) + 1;
        while number <= posted_through {
            let mut record = self.batch_summary(number)?.ok_or(NodeError::MissingBlock(number))?;
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
                if !posting.finalizes(&record) {
                    break;
                }
                let tx = self.l1.finalize_batch(&committed).await?;
                record.l1_finalize_tx = Some(tx.to_string());
                Metrics::inc(&self.metrics.batches_finalized);
                info!(batch = number, l1_tx = %tx, "batch finalized on L1");
            } else if record.status == BatchStatus::Posted && record.l1_finalize_tx.is_none() {
                // Final on L1 by someone else's transaction (another member's turn): take it
                // from the event, as members that did not post take the commit's.
                let from = record.origin.as_ref().map_or(self.config.deploy_block, |o| o.l1_block);
                record.l1_finalize_tx = self.l1.finalize_tx(number, from).await?.map(|tx| tx.to_string());
            }
            record.status = BatchStatus::Final;
            record.finalized_at = Some(crate::node::unix_now());
            self.write_batch_at(&record, META_FINALIZED_THROUGH)?;
            number += 1;
        }
        Ok(())
    }
}
