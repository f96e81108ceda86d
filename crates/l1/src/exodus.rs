//! Exodus on L1 (SPEC §16): the priority deadline, the escape hatch's state, starting it,
//! exits with an exit proof, and refunds of deposits that no final batch consumed.

use alloy::primitives::{Address, B256, U256};

use crate::bindings::TandemRollup;
use crate::client::{confirm, contract_error, CommittedBatch, L1Error, QueuedDeposit, RollupClient};

/// The rollup's exodus state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExodusState {
    /// Whether exodus was activated (commits, proofs, finalization and deposits have stopped).
    pub active: bool,
    /// The last final state root, frozen at activation (zero before).
    pub state_root: B256,
    /// Priority-queue position after the last final batch at activation: deposits from here
    /// on are refundable.
    pub priority_end: u64,
}

/// The oldest priority op no committed batch consumed, and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingPriorityOp {
    /// Its queue index (the queue head).
    pub queue_index: u64,
    /// L1 timestamp after which exodus may be activated.
    pub deadline: u64,
}

impl RollupClient {
    /// The exodus state.
    pub async fn exodus_state(&self) -> Result<ExodusState, L1Error> {
        let c = self.contract();
        Ok(ExodusState {
            active: c.exodusActive().call().await.map_err(contract_error)?,
            state_root: c.exodusStateRoot().call().await.map_err(contract_error)?,
            priority_end: c.exodusPriorityEnd().call().await.map_err(contract_error)?,
        })
    }

    /// Whether exodus is active (one call: what a node polls).
    pub async fn exodus_active(&self) -> Result<bool, L1Error> {
        self.contract().exodusActive().call().await.map_err(contract_error)
    }

    /// Seconds a priority op may wait (fixed at deployment).
    pub async fn priority_deadline(&self) -> Result<u64, L1Error> {
        self.contract().priorityDeadline().call().await.map_err(contract_error)
    }

    /// L1 timestamp after which queue entry `queue_index` counts as expired.
    pub async fn priority_op_deadline(&self, queue_index: u64) -> Result<u64, L1Error> {
        self.contract().priorityOpDeadline(queue_index).call().await.map_err(contract_error)
    }

    /// The queue head and its deadline; `None` when nothing is pending.
    pub async fn oldest_pending_priority_op(&self) -> Result<Option<PendingPriorityOp>, L1Error> {
        let c = self.contract();
        let head = c.priorityHead().call().await.map_err(contract_error)?;
        let tail = c.priorityTail().call().await.map_err(contract_error)?;
        if head >= tail {
            return Ok(None);
        }
        let deadline = c.priorityOpDeadline(head).call().await.map_err(contract_error)?;
        Ok(Some(PendingPriorityOp { queue_index: head, deadline }))
    }

    /// The stored record of the last final batch (genesis's from `Initialized`), searching
    /// logs from L1 block `from_block`.
    pub async fn last_final_record(&self, from_block: u64) -> Result<CommittedBatch, L1Error> {
        let number = self.last_finalized_batch().await?;
        self.stored_record(number, from_block).await
    }

    /// The stored record of committed batch `number` (0: genesis's, from `Initialized`),
    /// searching logs from L1 block `from_block`.
    pub async fn stored_record(&self, number: u64, from_block: u64) -> Result<CommittedBatch, L1Error> {
        if number > 0 {
            return self
                .committed_batch(number, from_block)
                .await?
                .ok_or_else(|| L1Error::Unexpected(format!("batch {number} has no BatchCommitted event")));
        }
        let logs = self.contract().Initialized_filter().from_block(from_block).query().await.map_err(contract_error)?;
        let (event, _) = logs.into_iter().next().ok_or_else(|| L1Error::Unexpected("no Initialized event: wrong deploy block?".into()))?;
        let g: TandemRollup::StoredBatch = event.genesisRecord;
        Ok(CommittedBatch {
            batch_number: g.batchNumber,
            lane: g.lane,
            committed_at: g.committedAt,
            priority_ops_end: g.priorityOpsEnd,
            withdrawal_count: g.withdrawalCount,
            header_hash: g.headerHash,
            new_state_root: g.newStateRoot,
            withdrawals_root: g.withdrawalsRoot,
        })
    }

    /// Activates exodus (anyone may, once the queue head is past its deadline); returns the
    /// L1 transaction. Refused by L1 before the deadline (`NoExpiredPriorityOp`) and when
    /// already active (`ExodusActive`).
    pub async fn activate_exodus(&self, from_block: u64) -> Result<B256, L1Error> {
        self.signer().ok_or(L1Error::NoSigner)?;
        let record = self.last_final_record(from_block).await?;
        let pending = self.contract().activateExodus(record.to_sol()).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Exits `amount` of `token` from account `account` to `recipient` with an exit proof
    /// (`tandem_circuit::exit`, as `uint256[8]` big-endian words). Anyone may send it: the
    /// proof binds the recipient.
    pub async fn exit(&self, account: u32, token: u8, amount: u128, recipient: Address, proof: [[u8; 32]; 8]) -> Result<B256, L1Error> {
        self.signer().ok_or(L1Error::NoSigner)?;
        let words = proof.map(U256::from_be_bytes);
        let pending = self.contract().exit(account, token, amount, recipient, words).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Whether (account, token) already exited.
    pub async fn is_exited(&self, account: u32, token: u8) -> Result<bool, L1Error> {
        self.contract().isExited(account, token).call().await.map_err(contract_error)
    }

    /// Refunds queued deposit `deposit` to its L1 depositor (anyone may send it, during
    /// exodus, for deposits no final batch consumed).
    pub async fn refund_deposit(&self, deposit: &QueuedDeposit) -> Result<B256, L1Error> {
        self.signer().ok_or(L1Error::NoSigner)?;
        let d = &deposit.deposit;
        let contract = self.contract();
        let pending = contract
            .refundDeposit(deposit.queue_index, B256::from(d.to.0), d.token.get(), d.amount)
            .send()
            .await
            .map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Whether queue entry `queue_index` was refunded.
    pub async fn is_deposit_refunded(&self, queue_index: u64) -> Result<bool, L1Error> {
        self.contract().isDepositRefunded(queue_index).call().await.map_err(contract_error)
    }

    /// The L1 address that queued entry `queue_index` (zero if none).
    pub async fn depositor_of(&self, queue_index: u64) -> Result<Address, L1Error> {
        self.contract().depositorOf(queue_index).call().await.map_err(contract_error)
    }
}
