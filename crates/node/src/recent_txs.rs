//! Records of the transactions included since the last merge: held in memory and written to
//! the records table ([`TXS`](crate::records::TXS)) together, sorted by hash, once enough have
//! gathered (SPEC §9).
//!
//! Why: the table is keyed by transaction hash, i.e. at random. Written block by block, each
//! of a block's transactions lands in its own leaf page as soon as the table has more leaves
//! than the block has transactions, so every transaction cost a page copied, checksummed and
//! written (4 KiB), and its insert grew costlier with the table (measured 5 µs at 50,000
//! records, 10 µs at 400,000). Written many blocks at a time in key order, neighbouring records
//! share their pages.
//!
//! Invariant: the table holds the records of every transaction included in blocks up to
//! [`META_TXS_MERGED_THROUGH`] (and every rejection, which is written at once: they are rare);
//! [`RecentTxs`] holds those of the blocks after it. Both change only in a block's commit, the
//! table first, so a reader that looks here before the table never misses a record. After a
//! restart the blocks after the mark are read again to rebuild the memory.

use std::collections::HashMap;

use tandem_chain::{BlockInput, TxHash};
use tandem_state::redb::{self, ReadableTable};
use tandem_state::StoreError;
use tandem_types::{decode_public_data, Op};

use crate::records::{db_err, read_block, read_meta, read_txs, TxRecord, META_LATEST_BLOCK, META_TXS_MERGED_THROUGH, NODE_META};

/// Included transactions held in memory before they are merged into the table
/// ([`crate::config::NodeConfig::tx_records_merge`]'s default): ~20 s of a saturated
/// 4-member set on 2 cores, ~3 MiB of memory, a merge of ~0.1 s.
pub const DEFAULT_TX_RECORDS_MERGE: usize = 32_768;

/// Blocks after the merge mark at which a commit merges however few records are held, so that a
/// restart reads at most this many blocks to rebuild them (a chain of few transactions would
/// otherwise leave the mark behind for good). About an hour of blocks at one a second.
pub const MAX_UNMERGED_BLOCKS: u64 = 4_096;

/// Where an included transaction went: its block, and a withdrawal's (batch, index) in the
/// batch's withdrawal list. Its [`TxRecord`] is [`Inclusion::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inclusion {
    /// The including block.
    pub block: u64,
    /// A withdrawal's (batch, index); `None` for any other transaction.
    pub withdrawal: Option<(u64, u32)>,
}

impl Inclusion {
    /// The `included` record.
    pub fn record(self) -> TxRecord {
        TxRecord::included(self.block, self.withdrawal)
    }
}

/// Where the transactions included after [`META_TXS_MERGED_THROUGH`] went, by hash.
#[derive(Debug)]
pub struct RecentTxs {
    records: HashMap<TxHash, Inclusion>,
    merge_at: usize,
    /// The merge mark as stored ([`META_TXS_MERGED_THROUGH`]).
    merged_through: u64,
}

impl RecentTxs {
    /// Rebuilds the records of the blocks after the merge mark from their block records. A
    /// data directory without the mark (written before records were merged, or fresh) holds
    /// every record in the table: the mark is set to its latest block.
    pub fn load(db: &redb::Database, merge_at: usize) -> Result<Self, StoreError> {
        let latest = read_meta(db, META_LATEST_BLOCK)?.unwrap_or(0);
        let mut recent = Self { records: HashMap::new(), merge_at: merge_at.max(1), merged_through: latest };
        let Some(merged) = read_meta(db, META_TXS_MERGED_THROUGH)? else {
            let write = db.begin_write().map_err(db_err)?;
            write.open_table(NODE_META).map_err(db_err)?.insert(META_TXS_MERGED_THROUGH, latest).map_err(db_err)?;
            write.commit().map_err(db_err)?;
            return Ok(recent);
        };
        recent.merged_through = merged;
        for number in merged + 1..=latest {
            let block =
                read_block(db, number)?.ok_or_else(|| StoreError::Corrupt(format!("block {number} is missing (latest is {latest})")))?;
            let ops =
                decode_public_data(&block.public_data).map_err(|e| StoreError::Corrupt(format!("block {number}'s public data: {e}")))?;
            recent.records.extend(inclusions(number, &ops, &block.inputs));
        }
        Ok(recent)
    }

    /// Whether `hash` was included after the merge mark.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.records.contains_key(hash)
    }

    /// The records of `hashes`, in order (`None` for an unknown one): from memory, the rest
    /// from the table in one read transaction.
    pub fn read(&self, db: &redb::Database, hashes: &[TxHash]) -> Result<Vec<Option<TxRecord>>, StoreError> {
        let mut found: Vec<Option<TxRecord>> = hashes.iter().map(|h| self.records.get(h).map(|i| i.record())).collect();
        let missing: Vec<TxHash> = hashes.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(h, _)| *h).collect();
        let mut stored = read_txs(db, &missing)?.into_iter();
        for slot in found.iter_mut().filter(|f| f.is_none()) {
            *slot = stored.next().flatten();
        }
        Ok(found)
    }

    /// Whether the commit of block `block`, adding `incoming` records, merges (writes them all
    /// to the table and moves the mark to `block`): at the threshold of records, or
    /// [`MAX_UNMERGED_BLOCKS`] after the mark.
    pub fn merge_due(&self, block: u64, incoming: usize) -> bool {
        self.records.len() + incoming >= self.merge_at || block.saturating_sub(self.merged_through) >= MAX_UNMERGED_BLOCKS
    }

    /// The held records and `incoming`, encoded and in key order: what a merging commit writes
    /// to the table (taken before the commit, so readers are not held up while it writes).
    pub fn to_merge(&self, incoming: &[(TxHash, Inclusion)]) -> Vec<(TxHash, Vec<u8>)> {
        let mut all: Vec<(TxHash, Vec<u8>)> =
            self.records.iter().chain(incoming.iter().map(|(h, i)| (h, i))).map(|(h, i)| (*h, i.record().encode())).collect();
        all.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        all
    }

    /// After block `block`'s commit: the records it merged leave memory (and the mark is at
    /// `block`); otherwise `incoming` joins them.
    pub fn committed(&mut self, merged: bool, block: u64, incoming: Vec<(TxHash, Inclusion)>) {
        if merged {
            self.records.clear();
            self.merged_through = block;
        } else {
            self.records.extend(incoming);
        }
    }
}

/// Where block `number`'s transactions went, in order: `ops` are the block's applied ops and
/// `inputs` their inputs. A withdrawal gets its index in the batch's withdrawal list, which
/// executed forced withdrawals share.
pub fn inclusions(number: u64, ops: &[Op], inputs: &[BlockInput]) -> Vec<(TxHash, Inclusion)> {
    let mut withdrawal_index = 0u32;
    let mut records = Vec::with_capacity(inputs.len());
    for (op, input) in ops.iter().zip(inputs) {
        if matches!(op, Op::ForcedWithdraw(f) if f.withdrawn > 0) {
            // An executed forced withdrawal takes the next leaf of the batch's tree.
            withdrawal_index += 1;
        }
        if let BlockInput::Tx { encoded } = input {
            let withdrawal = matches!(op, Op::Withdraw(_)).then(|| {
                withdrawal_index += 1;
                (number, withdrawal_index - 1)
            });
            records.push((TxHash::of(encoded), Inclusion { block: number, withdrawal }));
        }
    }
    records
}

/// Whether the table holds an `included` record for `hash` (read in `table`'s transaction).
pub fn included_in_table(table: &redb::Table<'_, &'static [u8; 32], &'static [u8]>, hash: &TxHash) -> Result<bool, StoreError> {
    Ok(match table.get(hash.as_bytes()).map_err(db_err)? {
        Some(bytes) => TxRecord::decode(bytes.value()).is_ok_and(|r| r.status == "included"),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::TXS;
    use proptest::prelude::*;

    fn db() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    fn set_meta(db: &redb::Database, name: &str, value: u64) {
        let write = db.begin_write().unwrap();
        write.open_table(NODE_META).unwrap().insert(name, value).unwrap();
        write.commit().unwrap();
    }

    #[test]
    fn a_data_directory_without_the_mark_gets_it_at_its_latest_block() {
        let (_dir, db) = db();
        set_meta(&db, META_LATEST_BLOCK, 7);
        let recent = RecentTxs::load(&db, 10).unwrap();
        assert!(recent.records.is_empty(), "an earlier version wrote every record already");
        assert_eq!(read_meta(&db, META_TXS_MERGED_THROUGH).unwrap(), Some(7));
    }

    #[test]
    fn a_missing_block_after_the_mark_is_corruption() {
        let (_dir, db) = db();
        set_meta(&db, META_LATEST_BLOCK, 3);
        set_meta(&db, META_TXS_MERGED_THROUGH, 1);
        let e = RecentTxs::load(&db, 10).unwrap_err();
        assert!(matches!(&e, StoreError::Corrupt(m) if m == "block 2 is missing (latest is 3)"), "{e:?}");
    }

    #[test]
    fn held_records_merge_encoded_in_key_order_then_leave_memory() {
        let (_dir, db) = db();
        let mut recent = RecentTxs::load(&db, 3).unwrap();
        let (a, b, c) = (TxHash([9; 32]), TxHash([1; 32]), TxHash([5; 32]));
        let withdrawal = Inclusion { block: 2, withdrawal: Some((2, 0)) };
        recent.committed(false, 2, vec![(a, Inclusion { block: 1, withdrawal: None }), (b, withdrawal)]);
        assert!(recent.contains(&a) && recent.contains(&b) && !recent.contains(&c));
        assert!(!recent.merge_due(3, 0) && recent.merge_due(3, 1), "two held, a merge at three");
        // Held records read from memory, the rest from the table (empty here).
        let read = recent.read(&db, &[b, c]).unwrap();
        assert_eq!(read[0].as_ref().map(|r| (r.status.as_str(), r.block, r.withdrawal)), Some(("included", Some(2), Some((2, 0)))));
        assert!(read[1].is_none());
        let incoming = [(c, Inclusion { block: 3, withdrawal: None })];
        let merged = recent.to_merge(&incoming);
        let keys: Vec<TxHash> = merged.iter().map(|(h, _)| *h).collect();
        assert_eq!(keys, vec![b, c, a], "in key order");
        assert_eq!(merged[0].1, withdrawal.record().encode());
        assert_eq!(TxRecord::decode(&merged[1].1).unwrap().block, Some(3));
        recent.committed(true, 3, incoming.to_vec());
        assert!(!recent.contains(&a) && !recent.contains(&c), "merged records leave memory");
        assert!(!recent.merge_due(4, 2));
        // Few transactions: the mark still follows the chain, so a restart reads few blocks.
        assert!(!recent.merge_due(3 + MAX_UNMERGED_BLOCKS - 1, 0));
        assert!(recent.merge_due(3 + MAX_UNMERGED_BLOCKS, 0), "merged at block 3");
    }

    proptest! {
        // Each case creates a database and commits up to a dozen times.
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Blocks of random transactions committed as `commit_block` does (a merge when due,
        /// written to the table, then `committed`): every transaction included so far reads
        /// back its inclusion whichever side of a merge it is on, and nothing else is known.
        #[test]
        fn every_inclusion_reads_back_across_merges(
            merge_at in 1usize..8,
            blocks in proptest::collection::vec(proptest::collection::vec((any::<[u8; 32]>(), any::<Option<u32>>()), 0..6), 1..12),
        ) {
            let (_dir, db) = db();
            let mut recent = RecentTxs::load(&db, merge_at).unwrap();
            let mut model: HashMap<TxHash, Inclusion> = HashMap::new();
            for (i, txs) in blocks.into_iter().enumerate() {
                let block = i as u64 + 1;
                let incoming: Vec<(TxHash, Inclusion)> =
                    txs.into_iter().map(|(h, w)| (TxHash(h), Inclusion { block, withdrawal: w.map(|w| (block, w)) })).collect();
                let merged = (!incoming.is_empty() && recent.merge_due(block, incoming.len())).then(|| recent.to_merge(&incoming));
                let write = db.begin_write().unwrap();
                {
                    let mut table = write.open_table(TXS).unwrap();
                    for (hash, record) in merged.iter().flatten() {
                        table.insert(hash.as_bytes(), record.as_slice()).unwrap();
                    }
                }
                write.commit().unwrap();
                model.extend(incoming.iter().copied());
                recent.committed(merged.is_some(), block, incoming);
                prop_assert!(recent.records.len() < merge_at, "a merge empties memory once the threshold is reached");
                let hashes: Vec<TxHash> = model.keys().copied().chain([TxHash([0xee; 32])]).collect();
                let read = recent.read(&db, &hashes).unwrap();
                for (hash, record) in hashes.iter().zip(read) {
                    let want = model.get(hash).map(|i| i.record().encode());
                    prop_assert_eq!(record.map(|r| r.encode()), want, "{}", hash);
                }
            }
        }
    }
}
