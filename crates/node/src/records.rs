//! What the node stores beside the ledger, in the same redb database: blocks (in
//! `tandem_chain::BlockRecord`'s binary encoding), batches, transaction statuses, the persisted
//! mempool and the deposit cursor.

use serde::{Deserialize, Serialize};
use tandem_chain::{BlockRecord, ConsensusInfo, TxHash, B256};
use tandem_l1::{CommitOrigin, CommittedBatch};
use tandem_state::redb::{self, TableDefinition};
use tandem_state::StoreError;

/// Block number → `tandem_chain::BlockRecord::encode` (JSON in data directories of earlier
/// versions; [`read_block`] reads both).
pub const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("node_blocks");
/// Batch number → JSON [`BatchRecord`].
pub const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("node_batches");
/// Transaction hash → [`TxRecord::encode`] (JSON in data directories of earlier versions).
/// Included transactions' records arrive in merges of many blocks (`crate::recent_txs`).
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
/// `NODE_META` key: `TXS` holds the records of every transaction included up to this block;
/// those of later blocks wait in memory for the next merge (`crate::recent_txs`).
pub const META_TXS_MERGED_THROUGH: &str = "txs_merged_through";
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

/// First byte of an `included` record's storage encoding.
const TX_INCLUDED: u8 = 1;
/// First byte of a `rejected` record's storage encoding.
const TX_REJECTED: u8 = 2;

impl TxRecord {
    /// The record of a transaction included in `block`; a withdrawal's (batch, index).
    pub fn included(block: u64, withdrawal: Option<(u64, u32)>) -> Self {
        Self { status: "included".into(), block: Some(block), reason: None, withdrawal }
    }

    /// The record of a transaction a decided block skipped, and why.
    pub fn rejected(reason: String) -> Self {
        Self { status: "rejected".into(), block: None, reason: Some(reason), withdrawal: None }
    }

    /// The stored bytes (SPEC §9). Every committed block writes one record per transaction at
    /// a random key, so the encoding is compact: `01 ‖ u64 BE block ‖ 00` or `01 ‖ u64 BE
    /// block ‖ 01 ‖ u64 BE batch ‖ u32 BE index` (included; the second for a withdrawal),
    /// `02 ‖ UTF-8 reason` (rejected). A record that is neither (only "pending", which is never
    /// stored, could be) keeps the JSON form of earlier versions, which [`TxRecord::decode`]
    /// also reads.
    pub fn encode(&self) -> Vec<u8> {
        match (self.status.as_str(), self.block, &self.reason) {
            ("included", Some(block), None) => {
                let mut out = Vec::with_capacity(22);
                out.push(TX_INCLUDED);
                out.extend_from_slice(&block.to_be_bytes());
                match self.withdrawal {
                    None => out.push(0),
                    Some((batch, index)) => {
                        out.push(1);
                        out.extend_from_slice(&batch.to_be_bytes());
                        out.extend_from_slice(&index.to_be_bytes());
                    }
                }
                out
            }
            ("rejected", None, Some(reason)) if self.withdrawal.is_none() => {
                let mut out = Vec::with_capacity(1 + reason.len());
                out.push(TX_REJECTED);
                out.extend_from_slice(reason.as_bytes());
                out
            }
            _ => to_json(self),
        }
    }

    /// Reads [`TxRecord::encode`]'s bytes, or a JSON record of an earlier version; anything
    /// else is [`StoreError::Corrupt`], naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let corrupt = |why: String| StoreError::Corrupt(format!("transaction record: {why}"));
        let u64_at = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
        match bytes.first() {
            None => Err(corrupt("empty".into())),
            Some(b'{') => serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string())),
            Some(&TX_INCLUDED) => match (bytes.len(), bytes.get(9)) {
                (10, Some(0)) => Ok(Self::included(u64_at(1), None)),
                (22, Some(1)) => {
                    let index = u32::from_be_bytes(bytes[18..22].try_into().expect("four bytes"));
                    Ok(Self::included(u64_at(1), Some((u64_at(10), index))))
                }
                (len, flag) => Err(corrupt(format!("an included record of {len} bytes with withdrawal flag {flag:?}"))),
            },
            Some(&TX_REJECTED) => match std::str::from_utf8(&bytes[1..]) {
                Ok(reason) => Ok(Self::rejected(reason.to_string())),
                Err(e) => Err(corrupt(format!("a rejection reason that is not UTF-8: {e}"))),
            },
            Some(tag) => Err(corrupt(format!("unknown first byte {tag:#04x}"))),
        }
    }
}

/// Decodes a stored block: the binary encoding, or the JSON of an earlier version (first byte
/// `{`, which the binary encoding's version byte never is); anything else is
/// [`StoreError::Corrupt`], naming the block and what is wrong.
pub fn decode_block(number: u64, bytes: &[u8]) -> Result<BlockRecord, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(format!("block {number}: {why}"));
    let block = match bytes.first() {
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?,
        _ => BlockRecord::decode(bytes).map_err(|e| corrupt(e.to_string()))?,
    };
    if block.number != number {
        return Err(corrupt(format!("stored under the wrong number (it says {})", block.number)));
    }
    Ok(block)
}

/// Reads block `number` ([`decode_block`]).
pub fn read_block(db: &redb::Database, number: u64) -> Result<Option<BlockRecord>, StoreError> {
    read_decoded(db, BLOCKS, number, |bytes| decode_block(number, bytes))
}

/// Reads and decodes one JSON record.
pub fn read_json<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    db: &redb::Database,
    table: TableDefinition<K, &[u8]>,
    key: impl std::borrow::Borrow<K::SelfType<'static>>,
) -> Result<Option<T>, StoreError> {
    read_decoded(db, table, key, |bytes| serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string())))
}

/// Reads the value at `key` and decodes it with `decode`; `None` when the table or the key is
/// absent.
fn read_decoded<K: redb::Key + 'static, T>(
    db: &redb::Database,
    table: TableDefinition<K, &[u8]>,
    key: impl std::borrow::Borrow<K::SelfType<'static>>,
    decode: impl FnOnce(&[u8]) -> Result<T, StoreError>,
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
    decode(value.value()).map(Some)
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

/// The records of `hashes`, in order (`None` for an unknown one), read in one transaction
/// (none when there is nothing to read: admission calls this for most batches with no hash).
pub fn read_txs(db: &redb::Database, hashes: &[TxHash]) -> Result<Vec<Option<TxRecord>>, StoreError> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let read = db.begin_read().map_err(db_err)?;
    let table = match read.open_table(TXS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(hashes.iter().map(|_| None).collect()),
        Err(e) => return Err(db_err(e)),
    };
    hashes
        .iter()
        .map(|hash| match table.get(hash.as_bytes()).map_err(db_err)? {
            Some(value) => TxRecord::decode(value.value()).map(Some),
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

    /// Every stored shape round-trips through the compact encoding, in the bytes SPEC §9
    /// gives; a JSON record of an earlier version still reads.
    #[test]
    fn transaction_records_round_trip_compactly_and_old_json_still_reads() {
        let cases = [
            (TxRecord::included(7, None), {
                let mut b = vec![1];
                b.extend_from_slice(&7u64.to_be_bytes());
                b.push(0);
                b
            }),
            (TxRecord::included(u64::MAX, Some((9, 3))), {
                let mut b = vec![1];
                b.extend_from_slice(&u64::MAX.to_be_bytes());
                b.push(1);
                b.extend_from_slice(&9u64.to_be_bytes());
                b.extend_from_slice(&3u32.to_be_bytes());
                b
            }),
            (TxRecord::rejected("balance of 1 is short of 5 (token 0)".into()), {
                let mut b = vec![2];
                b.extend_from_slice(b"balance of 1 is short of 5 (token 0)");
                b
            }),
            (TxRecord::rejected(String::new()), vec![2]),
        ];
        for (record, bytes) in cases {
            assert_eq!(record.encode(), bytes, "{record:?}");
            let read = TxRecord::decode(&bytes).unwrap();
            assert_eq!(
                (read.status, read.block, read.reason, read.withdrawal),
                (record.status, record.block, record.reason, record.withdrawal)
            );
        }
        let old = br#"{"status":"included","block":12,"reason":null,"withdrawal":[12,0]}"#;
        let read = TxRecord::decode(old).unwrap();
        assert_eq!((read.status.as_str(), read.block, read.withdrawal), ("included", Some(12), Some((12, 0))));
        let pending = TxRecord { status: "pending".into(), block: None, reason: None, withdrawal: None };
        assert_eq!(TxRecord::decode(&pending.encode()).unwrap().status, "pending", "a status never stored keeps JSON");
    }

    /// A block is stored in its binary encoding; one an earlier version stored as JSON reads
    /// the same; bytes that are neither, or a block under another number, are refused as
    /// corruption naming the block.
    #[test]
    fn blocks_read_binary_or_old_json_and_refuse_anything_else() {
        let info = ConsensusInfo { height: 8, round: 0, proposer: tandem_chain::Address::repeat_byte(3), epoch: 1 };
        for stored in [block(None), block(Some(info))] {
            let binary = stored.encode();
            assert_eq!(binary[0], tandem_chain::BLOCK_RECORD_VERSION);
            assert_eq!(decode_block(5, &binary).unwrap(), stored);
            assert_eq!(decode_block(5, &to_json(&stored)).unwrap(), stored, "a JSON block of an earlier version");
            assert!(binary.len() < to_json(&stored).len());
        }
        let refusals: [(u64, Vec<u8>, &str); 5] = [
            (5, vec![], "block 5: invalid BlockRecord: truncated: need 1 bytes, got 0"),
            (5, vec![7, 0], "block 5: invalid BlockRecord: unknown version 7"),
            (5, block(None).encode()[..40].to_vec(), "block 5: invalid BlockRecord: truncated"),
            (5, b"{\"number\":".to_vec(), "block 5: EOF"),
            (6, block(None).encode(), "block 6: stored under the wrong number (it says 5)"),
        ];
        for (number, bytes, expected) in refusals {
            match decode_block(number, &bytes) {
                Err(StoreError::Corrupt(message)) => assert!(message.starts_with(expected), "{bytes:?}: {message}"),
                other => panic!("{bytes:?} gave {other:?}"),
            }
        }
    }

    /// Malformed stored bytes are refused with what is wrong, never a panic.
    #[test]
    fn malformed_transaction_records_are_refused_with_the_reason() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "empty"),
            (&[1, 0, 0, 0, 0, 0, 0, 0, 7], "included record of 9 bytes"),
            (&[1, 0, 0, 0, 0, 0, 0, 0, 7, 2], "withdrawal flag Some(2)"),
            (&[1, 0, 0, 0, 0, 0, 0, 0, 7, 1], "included record of 10 bytes with withdrawal flag Some(1)"),
            (&[2, 0xff, 0xfe], "not UTF-8"),
            (&[9, 1], "unknown first byte 0x09"),
            (b"{\"status\":", "transaction record: EOF"),
        ];
        for (bytes, expected) in cases {
            match TxRecord::decode(bytes) {
                Err(StoreError::Corrupt(message)) => assert!(message.contains(expected), "{bytes:?}: {message}"),
                other => panic!("{bytes:?} gave {other:?}"),
            }
        }
    }

    proptest::proptest! {
        /// Any bytes: a record or a refusal, never a panic; a decoded record encodes back to
        /// bytes that decode to the same record.
        #[test]
        fn any_bytes_decode_or_are_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            if let Ok(record) = TxRecord::decode(&bytes) {
                let again = TxRecord::decode(&record.encode()).unwrap();
                proptest::prop_assert_eq!((again.status, again.block, again.reason, again.withdrawal), (record.status, record.block, record.reason, record.withdrawal));
            }
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
