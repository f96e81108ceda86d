//! The member's side of consensus: payload checks, proposals, and committing decided heights.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tandem_chain::{ConsensusInfo, ConsensusPayload, Lane};
use tandem_consensus::{AppError, ConsensusApp, DecidedBytes, DoubleVote, PayloadRefused, ValidatorSet};
use tandem_l1::Address;
use tandem_state::StoreError;
use tracing::{error, info};

use super::{app_err, lock, unix_now, Member};
use crate::metrics::Metrics;
use crate::node::{BlockPlan, DecidedBlock, DecidedHeight};
use crate::records::*;

/// L1 polls a member waits, after it first sees a deposit or forced withdrawal confirmed,
/// before proposing it: every member polls L1 at its own moment, and one that has not seen a
/// proposed priority op yet must vote against the block (a round lost, and that member left
/// behind until it syncs the block). Two polls cover any phase difference between members
/// polling at the same interval.
pub(crate) const PRIORITY_OP_SETTLE_POLLS: u32 = 2;

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

/// Why a proposed payload is refused.
#[derive(Debug, thiserror::Error)]
pub enum PayloadCheckError {
    /// The bytes do not decode.
    #[error(transparent)]
    Decode(#[from] tandem_chain::PayloadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The height is not the one after the last committed.
    #[error("height {height} is not next (last committed {last})")]
    NotNext {
        /// Proposed height.
        height: u64,
        /// Last committed height.
        last: u64,
    },
    /// The epoch is older than the previous height's.
    #[error("epoch {epoch} goes back from {previous}")]
    EpochBack {
        /// Proposed epoch.
        epoch: u64,
        /// The previous height's epoch.
        previous: u64,
    },
    /// The new epoch's set is not available (not materialized on L1, or L1 unreachable).
    #[error("epoch {epoch}: {source}")]
    Epoch {
        /// Proposed epoch.
        epoch: u64,
        /// Why its set is not available.
        source: AppError,
    },
    /// The timestamp goes back or runs ahead of this node's clock.
    #[error("timestamp {timestamp} outside [{previous}, now + 10 s]")]
    Timestamp {
        /// Proposed timestamp.
        timestamp: u64,
        /// The previous height's timestamp.
        previous: u64,
    },
    /// A ZK-lane block on a chain without the lane.
    #[error("ZK lane on a chain without one")]
    NoZkLane,
    /// More inputs than the lane allows.
    #[error("{count} inputs exceed the {max} the lane allows")]
    TooManyInputs {
        /// Inputs in the payload.
        count: usize,
        /// The lane's limit.
        max: usize,
    },
    /// A deposit after a transaction.
    #[error("input {input}: deposit after a transaction")]
    DepositAfterTx {
        /// Input position.
        input: usize,
    },
    /// A deposit out of queue order.
    #[error("input {input}: deposit {queue_index} out of order (expected {expected})")]
    DepositOutOfOrder {
        /// Input position.
        input: usize,
        /// Its queue index.
        queue_index: u64,
        /// The next queue index.
        expected: u64,
    },
    /// A deposit that differs from L1's.
    #[error("input {input}: deposit {queue_index} differs from L1")]
    DepositDiffers {
        /// Input position.
        input: usize,
        /// Its queue index.
        queue_index: u64,
    },
    /// A deposit this node has not seen confirmed on L1 yet.
    #[error("input {input}: deposit {queue_index} not confirmed on L1 here yet")]
    DepositUnconfirmed {
        /// Input position.
        input: usize,
        /// Its queue index.
        queue_index: u64,
    },
}

/// A decided height as stored: its payload, decoded and as decided, and its certificate.
pub(super) struct StoredHeight {
    /// The payload, decoded.
    pub(super) payload: ConsensusPayload,
    /// The payload bytes the set decided.
    pub(super) bytes: Vec<u8>,
    /// The commit certificate.
    pub(super) certificate: Vec<u8>,
}

impl Member {
    /// Decided height `height`, if this member has it.
    pub(super) fn stored_height(&self, height: u64) -> Result<Option<StoredHeight>, StoreError> {
        let read = self.node.db.begin_read().map_err(db_err)?;
        let Ok(table) = read.open_table(CONSENSUS) else { return Ok(None) };
        let Some(entry) = table.get(height).map_err(db_err)? else { return Ok(None) };
        let (bytes, certificate) = decode_decided(entry.value())?;
        let payload = ConsensusPayload::decode(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(StoredHeight { payload, bytes, certificate }))
    }

    /// Checks the payload's priority ops (deposits, forced withdrawals) against the confirmed
    /// L1 queue: in order, first, and equal to L1's.
    fn check_inputs(&self, payload: &ConsensusPayload) -> Result<(), PayloadCheckError> {
        let next_deposit = read_meta(&self.node.db, META_NEXT_DEPOSIT)?.unwrap_or(0);
        let deposits = lock(&self.node.deposits);
        let mut seen_tx = false;
        for (i, input) in payload.inputs.iter().enumerate() {
            let Some(queue_index) = input.queue_index() else {
                seen_tx = true;
                continue;
            };
            if seen_tx {
                return Err(PayloadCheckError::DepositAfterTx { input: i });
            }
            let expected = next_deposit + i as u64;
            if queue_index != expected {
                return Err(PayloadCheckError::DepositOutOfOrder { input: i, queue_index, expected });
            }
            match deposits.iter().find(|d| d.queue_index == expected) {
                Some(known) if known.input == *input => {}
                Some(_) => return Err(PayloadCheckError::DepositDiffers { input: i, queue_index: expected }),
                None => return Err(PayloadCheckError::DepositUnconfirmed { input: i, queue_index: expected }),
            }
        }
        Ok(())
    }

    fn check(&self, height: u64, bytes: &[u8]) -> Result<ConsensusPayload, PayloadCheckError> {
        let payload = ConsensusPayload::decode(bytes)?;
        let last = read_meta(&self.node.db, META_CONSENSUS_HEIGHT)?.unwrap_or(0);
        if height != last + 1 {
            return Err(PayloadCheckError::NotNext { height, last });
        }
        let (prev_epoch, prev_time) = self.epoch_and_time_of(last)?;
        if payload.epoch < prev_epoch {
            return Err(PayloadCheckError::EpochBack { epoch: payload.epoch, previous: prev_epoch });
        }
        if payload.epoch != prev_epoch {
            self.active_set(payload.epoch).map_err(|source| PayloadCheckError::Epoch { epoch: payload.epoch, source })?;
        }
        if payload.timestamp < prev_time || payload.timestamp > unix_now() + 10 {
            return Err(PayloadCheckError::Timestamp { timestamp: payload.timestamp, previous: prev_time });
        }
        let max = match (payload.lane, self.node.config.zk_lane) {
            (Lane::Zk, Some(zk)) => zk.slots.min(self.node.config.max_block_ops),
            (Lane::Zk, None) => return Err(PayloadCheckError::NoZkLane),
            _ => self.node.config.max_block_ops,
        };
        if payload.inputs.len() > max {
            return Err(PayloadCheckError::TooManyInputs { count: payload.inputs.len(), max });
        }
        // Deposits are checked against L1 here; transactions are not executed: the block runs
        // once, on commit, where every member skips the same invalid ones.
        self.check_inputs(&payload)?;
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
            let mempool = lock(&self.node.mempool);
            let mut deposits = lock(&self.node.deposits);
            let settle = self.node.config.l1_poll_interval * PRIORITY_OP_SETTLE_POLLS;
            self.node.plan_block(&mempool, &mut deposits, settle).map_err(app_err)?
        };
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
                plan: BlockPlan { lane: payload.lane, inputs: payload.inputs },
                consensus: Some(decided),
            };
            if let Some(number) = self.node.commit_block(&mut ledger, &mut mempool, &mut deposits, block).map_err(app_err)? {
                lock(&self.committed_at).insert(number, std::time::Instant::now());
            }
        }
        self.node.metrics.consensus_height.store(height, Ordering::Relaxed);
        if proposer == self.address() {
            Metrics::inc(&self.node.metrics.blocks_proposed);
        }
        Ok(())
    }

    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, AppError> {
        Ok(self.stored_height(height).map_err(app_err)?.map(|s| (s.bytes, s.certificate)))
    }

    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        let (own, others) = split_own(self.address(), evidence);
        if let Some(e) = own.first() {
            // An honest member never signs two votes: another process runs with this key.
            error!(count = own.len(), height = e.height, round = e.round, signing_key = %e.signer, "the engine saw this member's own key sign conflicting votes (is another process using it?); not reported");
        }
        lock(&self.evidence).extend(others);
    }

    fn on_round(&self, height: u64, round: u32, proposer: Address) {
        if round > 0 {
            info!(height, round, proposer = %proposer, "new round (the previous proposer stalled or was refused)");
        }
    }
}

/// Splits `evidence` into the double votes of `me` and of the others. A member reports only the
/// others': reporting itself would pay its own L1 account the reporter's share of its slash.
fn split_own(me: Address, evidence: Vec<DoubleVote>) -> (Vec<DoubleVote>, Vec<DoubleVote>) {
    evidence.into_iter().partition(|e| e.signer == me)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_never_reports_its_own_double_vote() {
        let vote = |signer: u8| DoubleVote {
            signer: Address::repeat_byte(signer),
            height: 1,
            round: 0,
            vote_type: 0,
            first: (tandem_l1::B256::repeat_byte(1), tandem_consensus::Signature([1; 65])),
            second: (tandem_l1::B256::repeat_byte(2), tandem_consensus::Signature([2; 65])),
        };
        let (own, others) = split_own(Address::repeat_byte(7), vec![vote(7), vote(8), vote(9), vote(7)]);
        assert_eq!(own.iter().map(|e| e.signer).collect::<Vec<_>>(), vec![Address::repeat_byte(7); 2]);
        assert_eq!(others.iter().map(|e| e.signer).collect::<Vec<_>>(), vec![Address::repeat_byte(8), Address::repeat_byte(9)]);
    }

    #[test]
    fn decided_record_round_trips() {
        let stored = encode_decided(b"payload", b"cert");
        assert_eq!(decode_decided(&stored).expect("decodes"), (b"payload".to_vec(), b"cert".to_vec()));
        assert!(decode_decided(&[0, 0, 0, 9, 1]).is_err());
    }
}
