//! Restore from L1 alone (the `tandem restore` command and, later, exits that need no L2
//! node): rebuilds the L2 state from the rollup's events and the calldata of
//! its commit transactions, trusting no L2 node (SPEC §14).
//!
//! Everything read is checked against what the contract itself stores, at one pinned L1
//! block: the genesis root (`genesisStateRoot`), each batch's `BatchCommitted` record against
//! `batchRecordHash` (so a reverted commit of the same number is never used), the commit
//! transaction's header against the record's header hash, the public data against the
//! header's `sha256`, its deposits against the `DepositQueued` events of the queue range the
//! record consumed, and, after applying the public ops ([`Ledger::apply_public_batch`]), the
//! state root against the header's `newStateRoot`. Any mismatch is a [`RestoreError`] naming
//! the batch.

use alloy::consensus::Transaction as _;
use alloy::eips::BlockId;
use alloy::primitives::{keccak256, Address, Bytes, B256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolValue};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use tandem_chain::{genesis_ledger, BatchHeader, GenesisError, Lane};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_state::{BatchError, Ledger, LedgerConfig};
use tandem_types::{decode_public_data, AccountIndex, DecodeError, L1Deposit, Op, PackedPubKey, TokenId};

use tandem_l1::bindings::staked::StakedRollup;
use tandem_l1::bindings::TandemRollup;
use tandem_l1::{contract_error, rpc_error, L1Error};

/// Batches fetched ahead of the one being applied (record hash and commit transaction): that
/// many RPC round trips overlap, and at most that many fetched batches wait in memory.
const PREFETCH: usize = 8;

/// Default number of L1 blocks per `eth_getLogs` request (public endpoints cap the range).
pub const DEFAULT_LOG_RANGE: u64 = 2_000;

/// What restore needs besides L1: the chain parameters fixed at genesis (checked against the
/// contract's genesis root) and how to read the logs.
#[derive(Debug, Clone, Copy)]
pub struct RestoreParams {
    /// L2 chain id.
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Owner of the genesis fee account.
    pub genesis_fee_pubkey: PackedPubKey,
    /// L1 block of the rollup deployment (logs are read from here).
    pub deploy_block: u64,
    /// L1 blocks per `eth_getLogs` request, at least 1.
    pub log_range: u64,
    /// Also apply committed batches that are not final yet (the result is then not what L1
    /// guarantees: such a batch can still be reverted by a fraud proof).
    pub include_unfinal: bool,
}

/// How far restore got, reported as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreProgress {
    /// Logs of L1 blocks `from..=to` read, of `..=head`.
    Logs {
        /// First block of the range.
        from: u64,
        /// Last block of the range.
        to: u64,
        /// The pinned L1 block restore reads up to.
        head: u64,
    },
    /// Batch `number` of `last` applied and checked.
    Batch {
        /// The batch applied.
        number: u64,
        /// The last batch restore will apply.
        last: u64,
    },
}

/// One batch as restore applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoredBatch {
    /// Batch number.
    pub number: u64,
    /// State root after it (equal to its committed `newStateRoot`).
    pub root: B256,
    /// Whether it was final at the pinned L1 block.
    pub is_final: bool,
    /// Ops in its public data.
    pub ops: usize,
    /// The L1 transaction that committed it.
    pub commit_tx: B256,
}

/// The state rebuilt from L1.
#[derive(Debug)]
pub struct Restored {
    /// The ledger after the last applied batch.
    pub ledger: Ledger,
    /// The L1 block every read was pinned to.
    pub l1_block: u64,
    /// Last final batch at that block (`0`: only genesis).
    pub last_final_batch: u64,
    /// Every applied batch in order (final ones first, then, if asked for, the others).
    pub batches: Vec<RestoredBatch>,
}

impl Restored {
    /// The state root (big-endian), equal to the last applied batch's committed root.
    pub fn root(&self) -> B256 {
        B256::from(fr_to_be_bytes(&self.ledger.root()))
    }

    /// Number of the last applied batch (`0`: only genesis).
    pub fn last_batch(&self) -> u64 {
        self.batches.last().map_or(0, |b| b.number)
    }
}

/// Why restore stopped. Every check failure names the batch; nothing is applied past it.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Reading L1 failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The genesis state cannot be built from the parameters.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The parameters' genesis root is not the contract's: wrong rollup address or wrong
    /// chain id, tree depth or fee key.
    #[error("genesis root {ours} (from the chain id, tree depth and fee key) is not the rollup's genesis root {contract}: wrong rollup or parameters")]
    GenesisRootMismatch {
        /// `genesisStateRoot` of the contract.
        contract: B256,
        /// The root of the genesis built here.
        ours: B256,
    },
    /// The log range is zero.
    #[error("the log range must be at least one block")]
    ZeroLogRange,
    /// No `BatchCommitted` event for a batch the contract has.
    #[error("batch {batch}: no BatchCommitted event between L1 blocks {from} and {to}")]
    MissingCommit {
        /// The batch.
        batch: u64,
        /// First block read.
        from: u64,
        /// Last block read.
        to: u64,
    },
    /// The batch's latest `BatchCommitted` event does not hash to the contract's record.
    #[error("batch {batch}: its BatchCommitted event does not match the contract's stored record")]
    RecordMismatch {
        /// The batch.
        batch: u64,
    },
    /// The commit transaction is not a commit of this batch to this rollup (e.g. sent through
    /// another contract, so its calldata is not the commit call).
    #[error("batch {batch}: commit transaction {tx}: {reason}")]
    CommitTransaction {
        /// The batch.
        batch: u64,
        /// The L1 transaction.
        tx: B256,
        /// What is wrong with it.
        reason: String,
    },
    /// The calldata's public data does not hash to the header's `publicDataHash`.
    #[error("batch {batch}: public data hash {got} is not the header's {expected}")]
    PublicDataHash {
        /// The batch.
        batch: u64,
        /// The header's hash.
        expected: B256,
        /// The data's hash.
        got: B256,
    },
    /// The public data does not parse (SPEC §4.2).
    #[error("batch {batch}: public data: {source}")]
    PublicData {
        /// The batch.
        batch: u64,
        /// Why it does not parse.
        source: DecodeError,
    },
    /// The header's previous root is not the restored state's root.
    #[error("batch {batch}: header's previous root {header} is not the restored root {restored}")]
    PrevRootMismatch {
        /// The batch.
        batch: u64,
        /// The header's `prevStateRoot`.
        header: B256,
        /// The restored state's root.
        restored: B256,
    },
    /// A deposit op is not the priority-queue entry it consumes (or the entry is missing).
    #[error("batch {batch}: deposit op {op} is not DepositQueued entry {queue_index}")]
    DepositMismatch {
        /// The batch.
        batch: u64,
        /// The op's position in the batch.
        op: usize,
        /// The queue entry it consumes.
        queue_index: u64,
    },
    /// The batch's deposit count is not the queue range its record consumed.
    #[error("batch {batch}: {ops} deposit ops but the record consumes queue entries {start}..{end}")]
    DepositCount {
        /// The batch.
        batch: u64,
        /// Deposit ops in the public data.
        ops: usize,
        /// Queue position before the batch.
        start: u64,
        /// Queue position after it.
        end: u64,
    },
    /// An op breaks a state-transition rule.
    #[error("batch {batch}: {source}")]
    Stf {
        /// The batch.
        batch: u64,
        /// The first invalid op.
        source: BatchError,
    },
    /// Applying the batch gave another root than the committed one.
    #[error("batch {batch}: restored root {restored} is not the committed root {committed}")]
    RootMismatch {
        /// The batch.
        batch: u64,
        /// The header's `newStateRoot`.
        committed: B256,
        /// The root after applying the public data.
        restored: B256,
    },
}

/// A `BatchCommitted` event: the stored record and the transaction that emitted it.
#[derive(Debug, Clone)]
struct CommitEvent {
    record: TandemRollup::StoredBatch,
    tx: B256,
}

/// Rebuilds the state from L1 alone up to the last final batch (or, with
/// `include_unfinal`, the last committed one) at L1's current head, calling `progress` as it
/// goes. See the module doc for what is checked.
pub async fn restore(
    provider: &alloy::providers::DynProvider,
    rollup: Address,
    params: RestoreParams,
    progress: &mut dyn FnMut(RestoreProgress),
) -> Result<Restored, RestoreError> {
    if params.log_range == 0 {
        return Err(RestoreError::ZeroLogRange);
    }
    let contract = TandemRollup::new(rollup, provider.clone());
    let head = provider.get_block_number().await.map_err(rpc_error)?;
    let at = BlockId::number(head);

    // The rollup's circuit slots are the chain's fee-settlement chunk (SPEC §5.2).
    let zk_slots = contract.zkSlots().call().block(at).await.map_err(contract_error)?;
    let config = LedgerConfig {
        chain_id: params.chain_id,
        tree_depth: params.tree_depth,
        chunk_size: std::num::NonZeroUsize::new(zk_slots as usize),
    };
    let mut ledger = genesis_ledger(config, params.genesis_fee_pubkey)?;
    let ours = B256::from(fr_to_be_bytes(&ledger.root()));
    let contract_genesis = contract.genesisStateRoot().call().block(at).await.map_err(contract_error)?;
    if contract_genesis != ours {
        return Err(RestoreError::GenesisRootMismatch { contract: contract_genesis, ours });
    }
    let last_final = contract.lastFinalizedBatch().call().block(at).await.map_err(contract_error)?;
    let last =
        if params.include_unfinal { contract.lastCommittedBatch().call().block(at).await.map_err(contract_error)? } else { last_final };

    // Every commit and deposit event up to the pinned head, in bounded ranges. The latest
    // commit of a number is the candidate (earlier ones were reverted); the record check
    // below decides.
    let mut commits: HashMap<u64, CommitEvent> = HashMap::new();
    let mut deposits: BTreeMap<u64, QueueEntry> = BTreeMap::new();
    let mut from = params.deploy_block;
    while from <= head {
        let to = from.saturating_add(params.log_range - 1).min(head);
        let mut committed = contract.BatchCommitted_filter().from_block(from).to_block(to).query().await.map_err(contract_error)?;
        committed.sort_by_key(|(_, log)| (log.block_number, log.log_index));
        for (event, log) in committed {
            let tx = log.transaction_hash.ok_or_else(|| L1Error::Unexpected("BatchCommitted log without a transaction".into()))?;
            let record = TandemRollup::StoredBatch {
                batchNumber: event.batchNumber,
                lane: event.lane,
                committedAt: event.committedAt,
                priorityOpsEnd: event.priorityOpsEnd,
                withdrawalCount: event.withdrawalCount,
                headerHash: event.headerHash,
                newStateRoot: event.newStateRoot,
                withdrawalsRoot: event.withdrawalsRoot,
            };
            commits.insert(event.batchNumber, CommitEvent { record, tx });
        }
        for (event, _) in contract.DepositQueued_filter().from_block(from).to_block(to).query().await.map_err(contract_error)? {
            let token = TokenId::new(event.tokenId as u32).map_err(|e| L1Error::Unexpected(e.to_string()))?;
            deposits.insert(
                event.queueIndex,
                QueueEntry::Deposit(L1Deposit { to: PackedPubKey(event.packedKey.0), token, amount: event.amount }),
            );
        }
        for (event, _) in contract.ForcedWithdrawalQueued_filter().from_block(from).to_block(to).query().await.map_err(contract_error)? {
            let token = TokenId::new(event.tokenId as u32).map_err(|e| L1Error::Unexpected(e.to_string()))?;
            let account = AccountIndex::new(event.account).map_err(|e| L1Error::Unexpected(e.to_string()))?;
            deposits.insert(event.queueIndex, QueueEntry::Forced { account, token, request_hash: event.requestHash.0 });
        }
        progress(RestoreProgress::Logs { from, to, head });
        match to.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }

    // Sized by what L1 showed, not by the number the RPC answered (which could be anything).
    let mut batches = Vec::with_capacity(commits.len());
    let mut queue_position = 0u64;
    // Each batch's stored record hash and commit transaction are fetched up to PREFETCH
    // batches ahead of the one being applied (in order), so the round trips overlap.
    let fetches = futures::stream::iter(1..=last)
        .map(|number| {
            let event = commits.remove(&number);
            let (contract, provider) = (contract.clone(), provider.clone());
            async move {
                let event = event.ok_or(RestoreError::MissingCommit { batch: number, from: params.deploy_block, to: head })?;
                let stored = contract.batchRecordHash(number).call().block(at).await.map_err(contract_error)?;
                let tx = provider.get_transaction_by_hash(event.tx).await.map_err(rpc_error)?;
                Ok::<_, RestoreError>((number, event, stored, tx))
            }
        })
        .buffered(PREFETCH);
    futures::pin_mut!(fetches);
    while let Some(fetched) = fetches.next().await {
        let (number, event, stored, tx) = fetched?;
        check_record(number, &event.record, stored)?;
        let tx = tx.ok_or_else(|| RestoreError::CommitTransaction { batch: number, tx: event.tx, reason: "not found".into() })?;
        let (header, public_data) = decode_commit(number, event.tx, rollup, tx.to(), tx.input(), &event.record)?;
        let ops = decode_public_data(&public_data).map_err(|source| RestoreError::PublicData { batch: number, source })?;
        check_deposits(number, &ops, &deposits, queue_position, event.record.priorityOpsEnd)?;
        queue_position = event.record.priorityOpsEnd;

        let restored = B256::from(fr_to_be_bytes(&ledger.root()));
        if header.prev_state_root != restored {
            return Err(RestoreError::PrevRootMismatch { batch: number, header: header.prev_state_root, restored });
        }
        let fee_account = AccountIndex::new(header.fee_account).map_err(|e| RestoreError::CommitTransaction {
            batch: number,
            tx: event.tx,
            reason: format!("fee account: {e}"),
        })?;
        let outcome = ledger.apply_public_batch(&ops, fee_account).map_err(|source| RestoreError::Stf { batch: number, source })?;
        let root = B256::from(fr_to_be_bytes(&outcome.root));
        if root != header.new_state_root {
            return Err(RestoreError::RootMismatch { batch: number, committed: header.new_state_root, restored: root });
        }
        batches.push(RestoredBatch { number, root, is_final: number <= last_final, ops: ops.len(), commit_tx: event.tx });
        progress(RestoreProgress::Batch { number, last });
    }
    Ok(Restored { ledger, l1_block: head, last_final_batch: last_final, batches })
}

/// The header and public data of batch `batch`'s commit transaction `tx` (sent `to`, with
/// calldata `input`), checked against the contract's `record` of the batch: a direct
/// `commitBatch` or `commitBatchSigned` call to `rollup`, whose header hashes to the
/// record's header hash and whose public data hashes to the header's `publicDataHash`.
pub fn decode_commit(
    batch: u64,
    tx: B256,
    rollup: Address,
    to: Option<Address>,
    input: &Bytes,
    record: &TandemRollup::StoredBatch,
) -> Result<(BatchHeader, Vec<u8>), RestoreError> {
    let refuse = |reason: String| RestoreError::CommitTransaction { batch, tx, reason };
    if to != Some(rollup) {
        return Err(refuse(format!(
            "sent to {to:?}, not to the rollup {rollup} (a commit through another contract cannot be read from its calldata)"
        )));
    }
    let (header, public_data) = if let Ok(call) = TandemRollup::commitBatchCall::abi_decode(input) {
        let h = call.header;
        let fields = (
            h.batchNumber,
            h.prevStateRoot,
            h.newStateRoot,
            h.publicDataHash,
            h.intermediateRootsRoot,
            h.priorityOpsCount,
            h.lane,
            h.opCount,
            h.feeAccount,
        );
        (fields, call.publicData)
    } else if let Ok(call) = StakedRollup::commitBatchSignedCall::abi_decode(input) {
        let h = call.header;
        let fields = (
            h.batchNumber,
            h.prevStateRoot,
            h.newStateRoot,
            h.publicDataHash,
            h.intermediateRootsRoot,
            h.priorityOpsCount,
            h.lane,
            h.opCount,
            h.feeAccount,
        );
        (fields, call.publicData)
    } else {
        return Err(refuse("calldata is neither commitBatch nor commitBatchSigned".into()));
    };
    let (
        batch_number,
        prev_state_root,
        new_state_root,
        public_data_hash,
        intermediate_roots_root,
        priority_ops_count,
        lane,
        op_count,
        fee_account,
    ) = header;
    let lane = Lane::from_code(lane).ok_or_else(|| refuse(format!("unknown lane {lane}")))?;
    let header = BatchHeader {
        batch_number,
        prev_state_root,
        new_state_root,
        public_data_hash,
        intermediate_roots_root,
        priority_ops_count,
        lane,
        op_count,
        fee_account,
    };
    if header.batch_number != batch || header.hash() != record.headerHash {
        return Err(refuse(format!("its header (batch {}) is not the one the contract recorded", header.batch_number)));
    }
    let got = B256::from(<[u8; 32]>::from(Sha256::digest(&public_data)));
    if got != header.public_data_hash {
        return Err(RestoreError::PublicDataHash { batch, expected: header.public_data_hash, got });
    }
    Ok((header, public_data.to_vec()))
}

/// Checks that `record` (from a `BatchCommitted` event of batch `batch`) is the one the
/// contract stores: `keccak256(abi.encode(record)) == stored` (`batchRecordHash(batch)`).
fn check_record(batch: u64, record: &TandemRollup::StoredBatch, stored: B256) -> Result<(), RestoreError> {
    if record.batchNumber != batch || keccak256(record.abi_encode()) != stored {
        return Err(RestoreError::RecordMismatch { batch });
    }
    Ok(())
}

/// A priority-queue entry as its event reports it: what the op consuming it must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueueEntry {
    /// `DepositQueued`.
    Deposit(L1Deposit),
    /// `ForcedWithdrawalQueued` (the request hash binds the rest of the request).
    Forced { account: AccountIndex, token: TokenId, request_hash: [u8; 32] },
}

/// Checks that the priority ops (deposits, forced withdrawals) of batch `batch` are, in
/// order, the queue entries `start..end` the contract's record says it consumed.
fn check_deposits(batch: u64, ops: &[Op], queue: &BTreeMap<u64, QueueEntry>, start: u64, end: u64) -> Result<(), RestoreError> {
    let mut queue_index = start;
    let mut count = 0usize;
    for (op, public) in ops.iter().enumerate() {
        let consumed = match public {
            Op::Deposit(d) => QueueEntry::Deposit(L1Deposit { to: d.pubkey, token: d.token, amount: d.amount }),
            Op::ForcedWithdraw(f) => QueueEntry::Forced { account: f.account, token: f.token, request_hash: f.request_hash },
            _ => continue,
        };
        let expected = queue.get(&queue_index);
        if queue_index >= end || expected != Some(&consumed) {
            return Err(RestoreError::DepositMismatch { batch, op, queue_index });
        }
        queue_index += 1;
        count += 1;
    }
    if queue_index != end {
        return Err(RestoreError::DepositCount { batch, ops: count, start, end });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_l1::{to_sol, to_staked_sol};
    use tandem_types::{encode_public_data, DepositOp, PackedAmount, PackedFee, TransferOp};

    const ROLLUP: Address = Address::repeat_byte(0x42);
    const TX: B256 = B256::repeat_byte(0x07);

    fn deposit_op(amount: u128) -> Op {
        Op::Deposit(DepositOp { to: AccountIndex::new(1).unwrap(), pubkey: PackedPubKey([9; 32]), token: TokenId::new(0).unwrap(), amount })
    }

    fn batch() -> (BatchHeader, Vec<u8>, TandemRollup::StoredBatch) {
        let transfer = Op::Transfer(TransferOp {
            from: AccountIndex::new(1).unwrap(),
            to: AccountIndex::new(0).unwrap(),
            token: TokenId::new(0).unwrap(),
            amount: PackedAmount::new(5).unwrap(),
            fee: PackedFee::new(0).unwrap(),
        });
        let data = encode_public_data(&[deposit_op(10), transfer]);
        let header = BatchHeader {
            batch_number: 3,
            prev_state_root: B256::repeat_byte(1),
            new_state_root: B256::repeat_byte(2),
            public_data_hash: B256::from(<[u8; 32]>::from(Sha256::digest(&data))),
            intermediate_roots_root: B256::repeat_byte(3),
            priority_ops_count: 1,
            lane: Lane::Optimistic,
            op_count: 2,
            fee_account: 0,
        };
        let record = TandemRollup::StoredBatch {
            batchNumber: 3,
            lane: 0,
            committedAt: 100,
            priorityOpsEnd: 1,
            withdrawalCount: 0,
            headerHash: header.hash(),
            newStateRoot: header.new_state_root,
            withdrawalsRoot: B256::ZERO,
        };
        (header, data, record)
    }

    fn commit_input(header: &BatchHeader, data: &[u8]) -> Bytes {
        TandemRollup::commitBatchCall { header: to_sol(header), publicData: Bytes::copy_from_slice(data) }.abi_encode().into()
    }

    #[test]
    fn a_matching_commit_decodes_in_both_modes() {
        let (header, data, record) = batch();
        let got = decode_commit(3, TX, ROLLUP, Some(ROLLUP), &commit_input(&header, &data), &record).unwrap();
        assert_eq!(got, (header, data.clone()));
        let signed: Bytes = StakedRollup::commitBatchSignedCall {
            header: to_staked_sol(&header),
            publicData: Bytes::copy_from_slice(&data),
            signatures: vec![Bytes::from(vec![1u8; 65])],
        }
        .abi_encode()
        .into();
        assert_eq!(decode_commit(3, TX, ROLLUP, Some(ROLLUP), &signed, &record).unwrap(), (header, data));
    }

    #[test]
    fn a_transaction_to_another_address_is_refused() {
        let (header, data, record) = batch();
        let e = decode_commit(3, TX, ROLLUP, Some(Address::repeat_byte(0x43)), &commit_input(&header, &data), &record).unwrap_err();
        assert!(matches!(e, RestoreError::CommitTransaction { batch: 3, .. }), "{e}");
        let e = decode_commit(3, TX, ROLLUP, None, &commit_input(&header, &data), &record).unwrap_err();
        assert!(matches!(e, RestoreError::CommitTransaction { batch: 3, .. }), "{e}");
    }

    #[test]
    fn calldata_that_is_no_commit_is_refused() {
        let (_, _, record) = batch();
        let e = decode_commit(3, TX, ROLLUP, Some(ROLLUP), &Bytes::from(vec![0xde, 0xad, 0xbe, 0xef, 0]), &record).unwrap_err();
        assert!(e.to_string().contains("neither commitBatch nor commitBatchSigned"), "{e}");
    }

    #[test]
    fn a_header_other_than_the_recorded_one_is_refused() {
        let (header, data, record) = batch();
        let forged = BatchHeader { new_state_root: B256::repeat_byte(9), ..header };
        let e = decode_commit(3, TX, ROLLUP, Some(ROLLUP), &commit_input(&forged, &data), &record).unwrap_err();
        assert!(e.to_string().contains("not the one the contract recorded"), "{e}");
        // The right header for another batch number is refused as well.
        let e = decode_commit(4, TX, ROLLUP, Some(ROLLUP), &commit_input(&header, &data), &record).unwrap_err();
        assert!(matches!(e, RestoreError::CommitTransaction { batch: 4, .. }), "{e}");
    }

    #[test]
    fn public_data_not_matching_the_header_hash_is_refused() {
        let (header, mut data, record) = batch();
        let last = data.len() - 1;
        data[last] ^= 1;
        let e = decode_commit(3, TX, ROLLUP, Some(ROLLUP), &commit_input(&header, &data), &record).unwrap_err();
        assert!(matches!(e, RestoreError::PublicDataHash { batch: 3, expected, .. } if expected == header.public_data_hash), "{e}");
    }

    /// The record hash is the contract's (golden vector `every-op-type` of vectors/batches.json,
    /// checked against the contract by GoldenVectors.t.sol); any other record is refused.
    #[test]
    fn only_the_stored_record_is_accepted() {
        let b = |hex: &str| hex.parse::<B256>().unwrap();
        let record = TandemRollup::StoredBatch {
            batchNumber: 1,
            lane: 0,
            committedAt: 1_700_000_000,
            priorityOpsEnd: 2,
            withdrawalCount: 3,
            headerHash: b("0xdc093722e401f194c9fc7bbe6c42255c7d610229ed2998d76f571c8b7cf2407d"),
            newStateRoot: b("0x0012d67bf7d3eca7f7810e028c053f8e8664bf086e153edcb55073a4b38557d3"),
            withdrawalsRoot: b("0x1f1b5f34b4cffe55b86652b03aac4718423676b31d3597a5084493afc64f43f5"),
        };
        let stored = b("0xde993fb4e18bfd4a81259fd6dba30026c1ca8900ccf9ddab4ce21a01d936c29f");
        check_record(1, &record, stored).unwrap();
        // A reverted commit of the same number (another record) is refused.
        let reverted = TandemRollup::StoredBatch { committedAt: 1_700_000_001, ..record.clone() };
        assert!(matches!(check_record(1, &reverted, stored), Err(RestoreError::RecordMismatch { batch: 1 })));
        assert!(matches!(check_record(2, &record, stored), Err(RestoreError::RecordMismatch { batch: 2 })));
    }

    #[test]
    fn deposits_must_be_the_consumed_queue_entries() {
        let entry = |amount| QueueEntry::Deposit(L1Deposit { to: PackedPubKey([9; 32]), token: TokenId::new(0).unwrap(), amount });
        let queue: BTreeMap<u64, QueueEntry> = [(0, entry(7)), (1, entry(10)), (2, entry(11))].into();
        let ops = [Op::Noop, deposit_op(10), deposit_op(11)];
        check_deposits(5, &ops, &queue, 1, 3).unwrap();
        let e = check_deposits(5, &ops, &queue, 0, 2).unwrap_err();
        assert!(matches!(e, RestoreError::DepositMismatch { batch: 5, op: 1, queue_index: 0 }), "{e}");
        let e = check_deposits(5, &ops, &queue, 1, 4).unwrap_err();
        assert!(matches!(e, RestoreError::DepositCount { batch: 5, ops: 2, start: 1, end: 4 }), "{e}");
        let e = check_deposits(5, &ops, &queue, 1, 2).unwrap_err();
        assert!(matches!(e, RestoreError::DepositMismatch { batch: 5, op: 2, queue_index: 2 }), "{e}");
        // An entry the events never showed is a mismatch too.
        let e = check_deposits(5, &ops, &BTreeMap::new(), 1, 3).unwrap_err();
        assert!(matches!(e, RestoreError::DepositMismatch { batch: 5, op: 1, queue_index: 1 }), "{e}");
    }
}
