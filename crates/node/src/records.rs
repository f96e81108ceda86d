//! What the node stores beside the ledger, in the same redb database: blocks, batches,
//! transaction statuses, the persisted mempool and the deposit cursor.

use serde::{Deserialize, Serialize};
use tandem_l1::CommittedBatch;
use tandem_state::redb::{self, TableDefinition};
use tandem_state::StoreError;

/// Block number → JSON [`BlockRecord`].
pub const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("node_blocks");
/// Batch number → JSON [`BatchRecord`].
pub const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("node_batches");
/// Transaction hash → JSON [`TxRecord`].
pub const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("node_txs");
/// Arrival sequence number → encoded signed transaction, for accepted transactions not yet
/// in a block.
pub const MEMPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("node_mempool");
/// Name → value.
pub const NODE_META: TableDefinition<&str, u64> = TableDefinition::new("node_meta");

/// `NODE_META` key: the next priority-queue index to include.
pub const META_NEXT_DEPOSIT: &str = "next_deposit_index";
/// `NODE_META` key: the latest block number.
pub const META_LATEST_BLOCK: &str = "latest_block";
/// Sequencer-set mode: every decided consensus height, payload and commit certificate
/// (`u32 BE payload length | payload | certificate`), also the heights without an L2 block.
pub const CONSENSUS: TableDefinition<u64, &[u8]> = TableDefinition::new("node_consensus");
/// Meta key: highest committed consensus height.
pub const META_CONSENSUS_HEIGHT: &str = "consensus_height";

/// An L2 block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRecord {
    /// Number, from 1.
    pub number: u64,
    /// Unix seconds when produced.
    pub timestamp: u64,
    /// Root before (0x big-endian).
    pub prev_state_root: String,
    /// Root after, fees settled.
    pub state_root: String,
    /// Root after each op.
    pub intermediate_roots: Vec<String>,
    /// Public data (SPEC §4.2), 0x hex.
    pub public_data: String,
    /// Ops in the block.
    pub op_count: u32,
    /// Deposits in the block.
    pub priority_ops: u32,
    /// Hashes of the user transactions, in block order.
    pub tx_hashes: Vec<String>,
    /// The finality lane of the block's batch.
    #[serde(default = "optimistic")]
    pub lane: tandem_l1::Lane,
    /// The block's inputs in order (deposits and signed transactions): what a prover or a
    /// follower replays to rebuild the state and the circuit witness.
    #[serde(default)]
    pub inputs: Vec<BlockInput>,
    /// Sequencer-set mode: who decided this block, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusInfo>,
}

/// Where a block came from in sequencer-set mode.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsensusInfo {
    /// Consensus height that decided it.
    pub height: u64,
    /// Round it was decided in.
    pub round: u32,
    /// Signing-key address of its proposer (the first in line to post its batch).
    pub proposer: String,
    /// L1 staking epoch whose set signs its batch (and decides the next heights).
    pub epoch: u64,
}

impl BlockRecord {
    /// The block's batch header as L1 takes it (batch number = block number, fee account
    /// [`crate::FEE_ACCOUNT`]), with the public data it commits to.
    pub fn batch_header(&self) -> Result<(tandem_l1::BatchHeader, Vec<u8>), StoreError> {
        use sha2::Digest;
        let public_data = parse_hex(&self.public_data)?;
        let roots: Vec<tandem_l1::B256> = self.intermediate_roots.iter().map(|r| parse_b256(r)).collect::<Result<_, _>>()?;
        let header = tandem_l1::BatchHeader {
            batch_number: self.number,
            prev_state_root: parse_b256(&self.prev_state_root)?,
            new_state_root: parse_b256(&self.state_root)?,
            public_data_hash: tandem_l1::B256::from(<[u8; 32]>::from(sha2::Sha256::digest(&public_data))),
            intermediate_roots_root: tandem_l1::intermediate_roots_root(&roots),
            priority_ops_count: self.priority_ops,
            lane: self.lane,
            op_count: self.op_count,
            fee_account: crate::FEE_ACCOUNT,
        };
        Ok((header, public_data))
    }
}

fn parse_hex(text: &str) -> Result<Vec<u8>, StoreError> {
    hex::decode(text.trim_start_matches("0x")).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_b256(text: &str) -> Result<tandem_l1::B256, StoreError> {
    let bytes = parse_hex(text)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(tandem_l1::B256::from)
        .map_err(|_| StoreError::Corrupt("root is not 32 bytes".into()))
}

fn optimistic() -> tandem_l1::Lane {
    tandem_l1::Lane::Optimistic
}

/// One input of a block.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum BlockInput {
    /// An L1 deposit.
    Deposit {
        /// Priority-queue index.
        queue_index: u64,
        /// Packed owner key, 0x hex.
        to: String,
        /// Token id.
        token: u8,
        /// Amount, decimal.
        amount: String,
    },
    /// A signed transaction, 0x hex of its SPEC §4.3 encoding.
    Tx {
        /// The encoding.
        encoded: String,
    },
}

impl BlockInput {
    /// The ledger input it stands for.
    pub fn to_ledger_op(&self) -> Result<tandem_state::LedgerOp, String> {
        let bytes = |text: &str| hex::decode(text.trim_start_matches("0x")).map_err(|e| e.to_string());
        Ok(match self {
            BlockInput::Deposit { to, token, amount, .. } => {
                let key: [u8; 32] = bytes(to)?.try_into().map_err(|_| "deposit key must be 32 bytes".to_string())?;
                tandem_state::LedgerOp::Deposit(tandem_types::L1Deposit {
                    to: tandem_types::PackedPubKey(key),
                    token: tandem_types::TokenId::new(*token as u32).map_err(|e| e.to_string())?,
                    amount: amount.parse().map_err(|e| format!("deposit amount: {e}"))?,
                })
            }
            BlockInput::Tx { encoded } => {
                tandem_state::LedgerOp::Tx(tandem_types::SignedTx::decode(&bytes(encoded)?).map_err(|e| e.to_string())?)
            }
        })
    }
}

/// Where a batch stands on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Committed by the sequencer on L2 only.
    Soft,
    /// Committed on L1, challenge window running.
    Posted,
    /// Final on L1.
    Final,
}

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
pub fn read_tx(db: &redb::Database, hash: &[u8; 32]) -> Result<Option<TxRecord>, StoreError> {
    let read = db.begin_read().map_err(db_err)?;
    let table = match read.open_table(TXS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(db_err(e)),
    };
    let Some(value) = table.get(hash).map_err(db_err)? else {
        return Ok(None);
    };
    serde_json::from_slice(value.value()).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
}
