//! What the node stores beside the ledger, in the same redb database: blocks (JSON of
//! `tandem_chain::BlockRecord`), batches, transaction statuses, the persisted mempool and the
//! deposit cursor.

use serde::{Deserialize, Serialize};
use tandem_chain::TxHash;
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
    let read = db.begin_read().map_err(db_err)?;
    let table = match read.open_table(TXS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(db_err(e)),
    };
    let Some(value) = table.get(hash.as_bytes()).map_err(db_err)? else {
        return Ok(None);
    };
    serde_json::from_slice(value.value()).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
}
