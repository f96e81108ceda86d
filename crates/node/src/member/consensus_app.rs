//! The member's side of consensus: payload checks, proposals, and committing decided heights.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tandem_chain::{BlockInput, ConsensusInfo, ConsensusPayload, Lane, FEE_ACCOUNT};
use tandem_consensus::{AppError, ConsensusApp, DoubleVote, PayloadRefused, ValidatorSet};
use tandem_l1::Address;
use tandem_state::{LedgerOp, StoreError};
use tracing::info;

use super::{app_err, lock, unix_now, Member};
use crate::metrics::Metrics;
use crate::node::{BlockPlan, DecidedBlock, DecidedHeight};
use crate::records::*;

/// Stored form of a decided height: `u32 BE payload length | payload | certificate`.
fn encode_decided(payload: &[u8], certificate: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len() + certificate.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(certificate);
    out
}

fn decode_decided(stored: &[u8]) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let corrupt = || StoreError::Corrupt("decided height record truncated".into());
    let len_bytes: [u8; 4] = stored.get(..4).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let payload = stored.get(4..4 + len).ok_or_else(corrupt)?.to_vec();
    Ok((payload, stored[4 + len..].to_vec()))
}

impl Member {
    pub(super) fn stored_height(&self, height: u64) -> Result<Option<(ConsensusPayload, Vec<u8>, Vec<u8>)>, StoreError> {
        let read = self.node.db.begin_read().map_err(db_err)?;
        let Ok(table) = read.open_table(CONSENSUS) else { return Ok(None) };
        let Some(entry) = table.get(height).map_err(db_err)? else { return Ok(None) };
        let (payload, cert) = decode_decided(entry.value())?;
        let decoded = ConsensusPayload::decode(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((decoded, payload, cert)))
    }

    /// Turns payload inputs into ledger ops, checking deposits against the confirmed L1 queue.
    fn check_inputs(&self, payload: &ConsensusPayload) -> Result<Vec<LedgerOp>, String> {
        let next_deposit = read_meta(&self.node.db, META_NEXT_DEPOSIT).map_err(|e| e.to_string())?.unwrap_or(0);
        let deposits = lock(&self.node.deposits);
        let mut ops = Vec::with_capacity(payload.inputs.len());
        let mut seen_tx = false;
        for (i, input) in payload.inputs.iter().enumerate() {
            let op = input.to_ledger_op();
            match input {
                BlockInput::Deposit { queue_index, .. } => {
                    if seen_tx {
                        return Err(format!("input {i}: deposit after a transaction"));
                    }
                    let expected = next_deposit + i as u64;
                    if *queue_index != expected {
                        return Err(format!("input {i}: deposit {queue_index} out of order (expected {expected})"));
                    }
                    let known = deposits.iter().find(|d| d.queue_index == expected);
                    match (known, &op) {
                        (Some(d), LedgerOp::Deposit(dep)) if d.deposit == *dep => {}
                        (Some(_), _) => return Err(format!("input {i}: deposit {expected} differs from L1")),
                        (None, _) => return Err(format!("input {i}: deposit {expected} not confirmed on L1 here yet")),
                    }
                }
                BlockInput::Tx { .. } => seen_tx = true,
            }
            ops.push(op);
        }
        Ok(ops)
    }

    fn check(&self, height: u64, bytes: &[u8]) -> Result<ConsensusPayload, String> {
        let payload = ConsensusPayload::decode(bytes).map_err(|e| e.to_string())?;
        let last = read_meta(&self.node.db, META_CONSENSUS_HEIGHT).map_err(|e| e.to_string())?.unwrap_or(0);
        if height != last + 1 {
            return Err(format!("height {height} is not next (last committed {last})"));
        }
        let (prev_epoch, prev_time) = self.epoch_and_time_of(last).map_err(|e| e.to_string())?;
        if payload.epoch < prev_epoch {
            return Err(format!("epoch {} goes back from {prev_epoch}", payload.epoch));
        }
        if payload.epoch != prev_epoch {
            self.active_set(payload.epoch).map_err(|e| e.to_string())?;
        }
        if payload.timestamp < prev_time || payload.timestamp > unix_now() + 10 {
            return Err(format!("timestamp {} outside [{prev_time}, now + 10 s]", payload.timestamp));
        }
        let max = match (payload.lane, self.node.config.zk_lane) {
            (Lane::Zk, Some(zk)) => zk.slots.min(self.node.config.max_block_ops),
            (Lane::Zk, None) => return Err("ZK lane on a chain without one".into()),
            _ => self.node.config.max_block_ops,
        };
        if payload.inputs.len() > max {
            return Err(format!("{} inputs exceed the {max} the lane allows", payload.inputs.len()));
        }
        let ops = self.check_inputs(&payload)?;
        if !ops.is_empty() {
            let ledger = lock(&self.node.ledger);
            ledger
                .check_batch(&ops, tandem_types::AccountIndex::new(FEE_ACCOUNT).expect("0 is an index"))
                .map_err(|e| format!("op {}: {}", e.index, e.error))?;
        }
        Ok(payload)
    }
}

impl ConsensusApp for Member {
    fn last_committed_height(&self) -> u64 {
        read_meta(&self.node.db, META_CONSENSUS_HEIGHT).ok().flatten().unwrap_or(0)
    }

    fn validator_set(&self, height: u64) -> Result<ValidatorSet, AppError> {
        let (epoch, _) = self.epoch_and_time_of(height.saturating_sub(1)).map_err(app_err)?;
        Self::consensus_set(&self.active_set(epoch)?)
    }

    fn build_payload(&self, height: u64, _budget: Duration) -> Result<Vec<u8>, AppError> {
        let last = self.last_committed_height();
        let (prev_epoch, prev_time) = self.epoch_and_time_of(last).map_err(app_err)?;
        let epoch = self.proposal_epoch(prev_epoch);
        let plan = {
            let ledger = lock(&self.node.ledger);
            let mempool = lock(&self.node.mempool);
            let mut deposits = lock(&self.node.deposits);
            let number = self.node.latest_block().map_err(app_err)? + 1;
            self.node.plan_block(&ledger, &mempool, &mut deposits, number).map_err(app_err)?
        };
        if !plan.rejected.is_empty() {
            let mut mempool = lock(&self.node.mempool);
            self.node.drop_rejected(&mut mempool, &plan.rejected).map_err(app_err)?;
        }
        let payload = ConsensusPayload { epoch, timestamp: unix_now().max(prev_time), lane: plan.lane, inputs: plan.inputs };
        info!(height, epoch, inputs = payload.inputs.len(), "proposing");
        Ok(payload.encode())
    }

    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), PayloadRefused> {
        self.check(height, payload).map(|_| ()).map_err(PayloadRefused::new)
    }

    fn commit(&self, height: u64, round: u32, proposer: Address, bytes: &[u8], certificate: &[u8]) -> Result<(), AppError> {
        let payload = ConsensusPayload::decode(bytes).map_err(app_err)?;
        let decided = DecidedHeight {
            info: ConsensusInfo { height, round, proposer, epoch: payload.epoch },
            stored: encode_decided(bytes, certificate),
        };
        if payload.inputs.is_empty() {
            let write = self.node.db.begin_write().map_err(app_err)?;
            decided.write(&write).map_err(app_err)?;
            write.commit().map_err(app_err)?;
        } else {
            let mut ledger = lock(&self.node.ledger);
            let mut mempool = lock(&self.node.mempool);
            let mut deposits = lock(&self.node.deposits);
            let number = self.node.latest_block().map_err(app_err)? + 1;
            let block = DecidedBlock {
                number,
                timestamp: payload.timestamp,
                plan: BlockPlan { lane: payload.lane, inputs: payload.inputs, rejected: vec![] },
                consensus: Some(decided),
            };
            self.node.commit_block(&mut ledger, &mut mempool, &mut deposits, block).map_err(app_err)?;
            lock(&self.committed_at).insert(number, std::time::Instant::now());
        }
        self.node.metrics.consensus_height.store(height, Ordering::Relaxed);
        if proposer == self.address() {
            Metrics::inc(&self.node.metrics.blocks_proposed);
        }
        Ok(())
    }

    fn decided(&self, height: u64) -> Result<Option<(Vec<u8>, Vec<u8>)>, AppError> {
        Ok(self.stored_height(height).map_err(app_err)?.map(|(_, p, c)| (p, c)))
    }

    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        lock(&self.evidence).extend(evidence);
    }

    fn on_round(&self, height: u64, round: u32, proposer: Address) {
        if round > 0 {
            info!(height, round, proposer = %proposer, "new round (the previous proposer stalled or was refused)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decided_record_round_trips() {
        let stored = encode_decided(b"payload", b"cert");
        assert_eq!(decode_decided(&stored).expect("decodes"), (b"payload".to_vec(), b"cert".to_vec()));
        assert!(decode_decided(&[0, 0, 0, 9, 1]).is_err());
    }
}
