//! What the node stores beside the ledger, in the same redb database: blocks (JSON of
//! `tandem_chain::BlockRecord`), batches, transaction statuses, the persisted mempool and the
//! deposit cursor.

use serde::{Deserialize, Serialize};
use tandem_chain::{BlockRecord, ConsensusInfo, TxHash, B256};
use tandem_l1::{CommitOrigin, CommittedBatch};
use tandem_state::redb::{self, TableDefinition};
use tandem_state::StoreError;

/// Block number → JSON `tandem_chain::BlockRecord`.
pub const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("node_blocks");
/// Batch number → JSON [`BatchRecord`].
pub const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("node_batches");
/// Transaction hash → JSON [`TxRecord`].
pub const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("node_txs");
/// Arrival sequence number → encoded signed transaction: the persisted mempool of data
/// directories written before the pool log (`crate::pool_log`), moved into the log at start.
pub const MEMPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("node_mempool");
/// Name → value.
pub const NODE_META: TableDefinition<&str, u64> = TableDefinition::new("node_meta");

/// `NODE_META` key: the next priority-queue index to include.
pub const META_NEXT_DEPOSIT: &str = "next_deposit_index";
/// `NODE_META` key: the latest block number.
pub const META_LATEST_BLOCK: &str = "latest_block";
/// `NODE_META` key: every batch up to this number is marked posted (or final) here.
pub const META_POSTED_THROUGH: &str = "posted_through";
/// `NODE_META` key: the rollup's `revertCount` when posting last looked (SPEC §17): a change
/// sends the node back over its posted batches to find those L1 reverted.
pub const META_REVERT_COUNT: &str = "revert_count";
/// `NODE_META` key: every batch up to this number is marked final here.
pub const META_FINALIZED_THROUGH: &str = "finalized_through";
/// Sequencer-set mode: every decided consensus height, payload and commit certificate
/// (`u32 BE payload length | payload | certificate`), also the heights without an L2 block.
pub const CONSENSUS: TableDefinition<u64, &[u8]> = TableDefinition::new("node_consensus");
/// Meta key: highest committed consensus height.
pub const META_CONSENSUS_HEIGHT: &str = "consensus_height";

/// Where a batch stands on L1 (defined with the RPC that reports it).
pub use tandem_api::BatchStatus;

/// A batch and its L1 progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecord {
    /// Batch number (= block number in this version).
    pub number: u64,
    /// Status.
    pub status: BatchStatus,
    /// The commit transaction.
    pub l1_commit_tx: Option<String>,
    /// The finalize transaction.
    pub l1_finalize_tx: Option<String>,
    /// The stored record from `BatchCommitted`.
    pub committed: Option<CommittedBatch>,
    /// Unix time (this node's clock, like block timestamps) at which this node saw the batch
    /// final; `None` before, and for batches a node of an earlier version marked final.
    #[serde(default)]
    pub finalized_at: Option<u64>,
    /// Who committed it on L1 and, in sequencer-set mode, which members signed it; recorded
    /// with `committed` (`None` before, and for batches an earlier version marked posted).
    #[serde(default)]
    pub origin: Option<CommitOrigin>,
    /// The hash of the batch header this node produced (what L1's commit must carry for the
    /// batch to be this node's), so that posting, finalizing and signing need not read the
    /// whole block; `None` in records of an earlier version ([`BatchRecord::with_block`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_hash: Option<B256>,
    /// Sequencer-set mode: who decided the block (its proposer is the first to post and to
    /// finalize the batch); `None` for a single sequencer's batch and in records of an
    /// earlier version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusInfo>,
}

impl BatchRecord {
    /// The record of a block this node just produced: soft, nothing on L1 yet.
    pub fn produced(block: &BlockRecord) -> Self {
        Self {
            number: block.number,
            status: BatchStatus::Soft,
            l1_commit_tx: None,
            l1_finalize_tx: None,
            committed: None,
            finalized_at: None,
            origin: None,
            header_hash: None,
            consensus: None,
        }
        .with_block(block)
    }

    /// Fills in what the record lacks of what its `block` determines (a record of an earlier
    /// version has neither).
    pub fn with_block(mut self, block: &BlockRecord) -> Self {
        self.header_hash.get_or_insert_with(|| block.batch_header().hash());
        if self.consensus.is_none() {
            self.consensus = block.consensus.clone();
        }
        self
    }
}

/// A user transaction's fate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxRecord {
    /// `pending`, `included` or `rejected`.
    pub status: String,
    /// Including block.
    pub block: Option<u64>,
    /// Why it was dropped.
    pub reason: Option<String>,
    /// For withdrawals: (batch, index in the batch's withdrawal list).
    pub withdrawal: Option<(u64, u32)>,
}

/// Reads and decodes one JSON record.
pub fn read_json<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    db: &redb::Database,
    table: TableDefinition<K, &[u8]>,
    key: impl std::borrow::Borrow<K::SelfType<'static>>,
) -> Result<Option<T>, StoreError> {
    let read = db.begin_read().map_err(|e| StoreError::Database(e.to_string()))?;
    let table = match read.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(StoreError::Database(e.to_string())),
    };
    let Some(value) = table.get(key).map_err(|e| StoreError::Database(e.to_string()))? else {
        return Ok(None);
    };
    serde_json::from_slice(value.value()).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a `NODE_META` value.
pub fn read_meta(db: &redb::Database, name: &str) -> Result<Option<u64>, StoreError> {
    let read = db.begin_read().map_err(|e| StoreError::Database(e.to_string()))?;
    let table = match read.open_table(NODE_META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(StoreError::Database(e.to_string())),
    };
    Ok(table.get(name).map_err(|e| StoreError::Database(e.to_string()))?.map(|v| v.value()))
}

/// Encodes a record for storage.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialize")
}

/// Maps any redb error into a [`StoreError`].
pub fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Reads a transaction record.
pub fn read_tx(db: &redb::Database, hash: &TxHash) -> Result<Option<TxRecord>, StoreError> {
    Ok(read_txs(db, std::slice::from_ref(hash))?.pop().flatten())
}

/// The records of `hashes`, in order (`None` for an unknown one), read in one transaction.
pub fn read_txs(db: &redb::Database, hashes: &[TxHash]) -> Result<Vec<Option<TxRecord>>, StoreError> {
    let read = db.begin_read().map_err(db_err)?;
    let table = match read.open_table(TXS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(hashes.iter().map(|_| None).collect()),
        Err(e) => return Err(db_err(e)),
    };
    hashes
        .iter()
        .map(|hash| match table.get(hash.as_bytes()).map_err(db_err)? {
            Some(value) => serde_json::from_slice(value.value()).map(Some).map_err(|e| StoreError::Corrupt(e.to_string())),
            None => Ok(None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_chain::{Lane, B256};

    fn block(consensus: Option<ConsensusInfo>) -> BlockRecord {
        BlockRecord {
            number: 5,
            timestamp: 1_700_000_000,
            prev_state_root: B256::repeat_byte(1),
            state_root: B256::repeat_byte(2),
            intermediate_roots: vec![B256::repeat_byte(2)],
            public_data: vec![0; 9],
            op_count: 1,
            priority_ops: 0,
            tx_hashes: vec![],
            lane: Lane::Optimistic,
            inputs: vec![],
            consensus,
        }
    }

    /// A produced batch carries what posting, finalizing and signing need (its header's hash,
    /// who decided it), so they never read the block for it; the record round-trips as JSON.
    #[test]
    fn a_produced_batch_carries_its_header_hash_and_proposer() {
        let info = ConsensusInfo { height: 7, round: 0, proposer: tandem_chain::Address::repeat_byte(0xaa), epoch: 3 };
        let block = block(Some(info.clone()));
        let record = BatchRecord::produced(&block);
        assert_eq!(record.number, 5);
        assert_eq!(record.status, BatchStatus::Soft);
        assert_eq!(record.header_hash, Some(block.batch_header().hash()));
        assert_eq!(record.consensus, Some(info));
        let read: BatchRecord = serde_json::from_slice(&to_json(&record)).unwrap();
        assert_eq!(read.header_hash, record.header_hash);
        assert_eq!(read.consensus, record.consensus);
    }

    /// A record written before these fields existed still reads (both `None`), and
    /// `with_block` takes them from the block; a single sequencer's batch has no consensus.
    #[test]
    fn a_record_of_an_earlier_version_gets_both_from_its_block() {
        let old = r#"{"number":5,"status":"posted","l1CommitTx":"0x01","l1FinalizeTx":null,"committed":null}"#;
        let record: BatchRecord = serde_json::from_str(old).unwrap();
        assert_eq!((record.header_hash, record.consensus.clone()), (None, None));
        assert!(!String::from_utf8(to_json(&record)).unwrap().contains("headerHash"), "absent fields stay absent");
        let single = block(None);
        let filled = record.with_block(&single);
        assert_eq!(filled.header_hash, Some(single.batch_header().hash()));
        assert_eq!(filled.consensus, None);
        assert_eq!(filled.l1_commit_tx.as_deref(), Some("0x01"), "the rest is kept");
    }
}
