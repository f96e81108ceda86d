//! The persisted mempool: an append-only log of admitted transactions.
//!
//! Why a log and not a database table: every client admission must be on disk before the
//! node answers, and a B-tree commit rewrites a leaf, its branches, the database's own
//! trees and its header for a handful of entries (~15 pages of 4 KiB each on redb, measured
//! in BENCHMARKS.md). An append writes the entries' bytes and nothing else.
//!
//! Layout (SPEC §9): the 8-byte magic `TDMPOOL1`, then records
//! `u32 BE length ‖ u32 BE CRC-32 of the payload ‖ payload`, the payload being
//! `u64 BE sequence number ‖ SignedTx encoding` (SPEC §4.3). Removals are not logged: a
//! transaction leaves the pool when its block commits, and that commit's durable records say
//! so; [`PoolLog::rewrite`] drops what left once the log has grown to several times what is
//! live.
//!
//! Invariants: records are only appended, and the file is only replaced whole (a new file
//! written, synced and renamed over it), so a crash leaves either complete records or a torn
//! tail, which [`PoolLog::open`] cuts off (an append is acknowledged only after its sync, so
//! a torn tail was never acknowledged as durable). A failed append is cut off again before
//! the error is returned, so no later record follows a partial one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tandem_types::SignedTx;

/// First bytes of a pool log (format version 1).
pub const MAGIC: &[u8; 8] = b"TDMPOOL1";

/// Largest payload a record may declare: a sequence number and the longest transaction
/// encoding, with room to spare. Anything larger is a torn or foreign record.
pub const MAX_PAYLOAD: usize = 8 + 512;

/// The log is rewritten only once it is at least this large…
pub const REWRITE_MIN_BYTES: u64 = 8 << 20;
/// …and holds at least this many records per live transaction.
pub const REWRITE_RATIO: u64 = 4;

/// Why the pool log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PoolLogError {
    /// The file system refused.
    #[error("pool log {path}: {source}")]
    Io {
        /// The log's path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a pool log, or a complete record does not decode.
    #[error("pool log {path}: {reason}")]
    Corrupt {
        /// The log's path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What [`PoolLog::open`] read back.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every complete record, in file order (sequence numbers increase along the file).
    pub entries: Vec<(u64, SignedTx)>,
    /// Bytes of a torn tail that were cut off (0 after a clean stop).
    pub torn_bytes: u64,
}

/// An open pool log, positioned at its end.
#[derive(Debug)]
pub struct PoolLog {
    path: PathBuf,
    file: File,
    /// File length: the end of the last complete record.
    len: u64,
    /// Records in the file.
    records: u64,
    /// The arrival number after the last record's, if any record was ever written by this
    /// handle or read back (appends must stay above it).
    next_seq: Option<u64>,
    /// Whether records were appended since the last sync.
    unsynced: bool,
}

/// Appends one record to `out`.
fn push_record(out: &mut Vec<u8>, seq: u64, tx: &SignedTx) {
    let header = out.len();
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&tx.encode());
    let payload = &out[header + 8..];
    let (length, crc) = ((payload.len() as u32).to_be_bytes(), crc32fast::hash(payload).to_be_bytes());
    out[header..header + 4].copy_from_slice(&length);
    out[header + 4..header + 8].copy_from_slice(&crc);
}

/// Appends one record per entry to `out`; arrival numbers must increase and be at least
/// `floor`. Returns the count and the number after the last one, or the offending number.
fn push_records<'a>(
    out: &mut Vec<u8>,
    entries: impl IntoIterator<Item = (u64, &'a SignedTx)>,
    floor: Option<u64>,
) -> Result<(u64, Option<u64>), u64> {
    let (mut count, mut next) = (0u64, floor);
    for (seq, tx) in entries {
        if next.is_some_and(|n| seq < n) {
            return Err(seq);
        }
        push_record(out, seq, tx);
        next = Some(seq + 1);
        count += 1;
    }
    Ok((count, next))
}

#[cfg(test)]
fn record(seq: u64, tx: &SignedTx) -> Vec<u8> {
    let mut out = Vec::new();
    push_record(&mut out, seq, tx);
    out
}

/// Splits `bytes` (the file after its magic) into complete records; returns them and the
/// offset where the first incomplete or damaged one starts (the torn tail), if any.
fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<(u64, SignedTx)>, usize), PoolLogError> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 8) else { break };
        let length = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(header[4..].try_into().expect("4 bytes"));
        if !(9..=MAX_PAYLOAD).contains(&length) {
            break;
        }
        let Some(payload) = bytes.get(at + 8..at + 8 + length) else { break };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let seq = u64::from_be_bytes(payload[..8].try_into().expect("8 bytes"));
        // A record whose checksum holds was written whole: if it does not decode, the file
        // is not ours (or a bug wrote it), and cutting it off would hide that.
        let tx = SignedTx::decode(&payload[8..]).map_err(|e| PoolLogError::Corrupt {
            path: path.to_owned(),
            reason: format!("record at byte {}: transaction does not decode: {e}", MAGIC.len() + at),
        })?;
        if entries.last().is_some_and(|(last, _)| *last >= seq) {
            return Err(PoolLogError::Corrupt {
                path: path.to_owned(),
                reason: format!("record at byte {}: sequence number {seq} does not increase", MAGIC.len() + at),
            });
        }
        entries.push((seq, tx));
        at += 8 + length;
    }
    Ok((entries, at))
}

impl PoolLog {
    /// Opens the log at `path` (creating an empty one), reads every complete record back and
    /// cuts off a torn tail. Fails on a file that is not a pool log or on a complete record
    /// that does not decode.
    pub fn open(path: &Path) -> Result<(Self, Recovered), PoolLogError> {
        let io = |source| PoolLogError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        if bytes.is_empty() {
            file.write_all(MAGIC).map_err(io)?;
            file.sync_all().map_err(io)?;
            sync_dir(path)?;
            let log = Self { path: path.to_owned(), file, len: MAGIC.len() as u64, records: 0, next_seq: None, unsynced: false };
            return Ok((log, Recovered::default()));
        }
        if !bytes.starts_with(MAGIC) {
            return Err(PoolLogError::Corrupt { path: path.to_owned(), reason: "does not start with the pool log magic".into() });
        }
        let (entries, end) = parse(path, &bytes[MAGIC.len()..])?;
        let len = (MAGIC.len() + end) as u64;
        let torn_bytes = bytes.len() as u64 - len;
        if torn_bytes > 0 {
            file.set_len(len).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len)).map_err(io)?;
        let records = entries.len() as u64;
        let next_seq = entries.last().map(|(seq, _)| seq + 1);
        Ok((Self { path: path.to_owned(), file, len, records, next_seq, unsynced: false }, Recovered { entries, torn_bytes }))
    }

    /// Appends one record per entry (sequence numbers must increase, and exceed every one
    /// already in the log: else nothing is written and the call fails); synced to disk before
    /// returning if `sync`, so that the entries survive a crash of the machine. On failure
    /// the log is as before the call.
    pub fn append<'a>(&mut self, entries: impl IntoIterator<Item = (u64, &'a SignedTx)>, sync: bool) -> Result<(), PoolLogError> {
        let mut bytes = Vec::new();
        let (count, next_seq) = push_records(&mut bytes, entries, self.next_seq).map_err(|seq| PoolLogError::Corrupt {
            path: self.path.clone(),
            reason: format!("refused to append arrival number {seq}: the log is already at {}", self.next_seq.unwrap_or(0)),
        })?;
        let written = self.file.write_all(&bytes).and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        if let Err(source) = written {
            // Cut back to the last complete record, so the next append does not follow a
            // partial one; the caller refuses the entries.
            use std::io::Seek;
            let _ = self.file.set_len(self.len).and_then(|()| self.file.seek(std::io::SeekFrom::Start(self.len)));
            return Err(PoolLogError::Io { path: self.path.clone(), source });
        }
        self.len += bytes.len() as u64;
        self.records += count;
        self.next_seq = next_seq;
        self.unsynced = !sync && (self.unsynced || count > 0);
        Ok(())
    }

    /// Syncs records appended without a sync, if any.
    pub fn sync(&mut self) -> Result<(), PoolLogError> {
        if self.unsynced {
            self.file.sync_data().map_err(|source| PoolLogError::Io { path: self.path.clone(), source })?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Whether the log has grown enough beyond the `live` transactions still pending that
    /// [`PoolLog::rewrite`] should drop the rest.
    pub fn needs_rewrite(&self, live: usize) -> bool {
        self.len >= REWRITE_MIN_BYTES && self.records >= REWRITE_RATIO * (live as u64).max(1)
    }

    /// Replaces the log by one holding only `live` (increasing sequence numbers): written to
    /// a new file, synced, and renamed over the old one, so a crash leaves one or the other.
    pub fn rewrite<'a>(&mut self, live: impl IntoIterator<Item = (u64, &'a SignedTx)>) -> Result<(), PoolLogError> {
        let io = |source| PoolLogError::Io { path: self.path.clone(), source };
        let tmp = self.path.with_extension("rewrite");
        let mut bytes = MAGIC.to_vec();
        let (records, live_next) = push_records(&mut bytes, live, None).map_err(|seq| PoolLogError::Corrupt {
            path: self.path.clone(),
            reason: format!("refused to rewrite: arrival number {seq} does not increase"),
        })?;
        // The high-water mark stays: later appends continue above everything ever logged.
        let next_seq = self.next_seq.max(live_next);
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&tmp).map_err(io)?;
        file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        sync_dir(&self.path)?;
        self.file = file;
        self.len = bytes.len() as u64;
        self.records = records;
        self.next_seq = next_seq;
        self.unsynced = false;
        Ok(())
    }

    /// The arrival number after the last one this log holds or was given, if any: a
    /// restarted node numbers new transactions from here.
    pub fn next_seq(&self) -> Option<u64> {
        self.next_seq
    }

    /// Length of the log in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// Makes a rename or creation in `path`'s directory durable.
fn sync_dir(path: &Path) -> Result<(), PoolLogError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(|source| PoolLogError::Io { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_crypto::PrivateKey;
    use tandem_state::signing::sign_tx;
    use tandem_types::{AccountIndex, PackedAmount, PackedFee, TokenId, TransferTx, Tx};

    fn tx(nonce: u32) -> SignedTx {
        let key = PrivateKey::from_seed([3; 32]);
        let tx = Tx::Transfer(TransferTx {
            from: AccountIndex::new(1).unwrap(),
            to: PrivateKey::from_seed([4; 32]).public_key().pack(),
            token: TokenId::new(0).unwrap(),
            amount: PackedAmount::new(5).unwrap(),
            fee: PackedFee::new(1).unwrap(),
            nonce,
        });
        sign_tx(&key, 7, tx).unwrap()
    }

    fn seqs(recovered: &Recovered) -> Vec<u64> {
        recovered.entries.iter().map(|(s, _)| *s).collect()
    }

    #[test]
    fn appended_records_read_back_in_order_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let (mut log, recovered) = PoolLog::open(&path).unwrap();
        assert!(recovered.entries.is_empty() && log.is_empty());
        let (a, b, c) = (tx(0), tx(1), tx(2));
        log.append([(3, &a), (5, &b)], true).unwrap();
        log.append([(9, &c)], false).unwrap();
        log.sync().unwrap();
        drop(log);
        let (log, recovered) = PoolLog::open(&path).unwrap();
        assert_eq!(seqs(&recovered), vec![3, 5, 9]);
        assert_eq!(recovered.entries[2].1, c);
        assert_eq!(recovered.torn_bytes, 0);
        assert_eq!(log.len(), std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_appends_go_on_after_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let (mut log, _) = PoolLog::open(&path).unwrap();
        log.append([(1, &tx(0)), (2, &tx(1))], true).unwrap();
        let whole = log.len();
        drop(log);
        // A crash in the middle of the next append: half a record, then a record whose
        // payload was not all written (its checksum fails).
        let mut torn = record(3, &tx(2));
        torn.truncate(torn.len() / 2);
        let mut damaged = record(3, &tx(2));
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        for tail in [torn, damaged, vec![0; 5]] {
            std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&tail).unwrap();
            let (mut log, recovered) = PoolLog::open(&path).unwrap();
            assert_eq!(seqs(&recovered), vec![1, 2]);
            assert_eq!(recovered.torn_bytes, tail.len() as u64);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
            log.append([(4, &tx(3))], true).unwrap();
            drop(log);
            let (log, recovered) = PoolLog::open(&path).unwrap();
            assert_eq!(seqs(&recovered), vec![1, 2, 4]);
            log_truncate(&path, whole);
            drop(log);
        }
    }

    fn log_truncate(path: &Path, len: u64) {
        OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_pool_log_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        std::fs::write(&path, b"SQLite format 3\0").unwrap();
        let err = PoolLog::open(&path).unwrap_err().to_string();
        assert!(err.contains("magic"), "{err}");
    }

    #[test]
    fn a_whole_record_that_does_not_decode_is_corruption_not_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let mut payload = 1u64.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0xee; 40]);
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
        bytes.extend_from_slice(&payload);
        std::fs::write(&path, &bytes).unwrap();
        let err = PoolLog::open(&path).unwrap_err().to_string();
        assert!(err.contains("does not decode"), "{err}");
        // A sequence number that goes back is refused the same way.
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&record(5, &tx(0)));
        bytes.extend_from_slice(&record(5, &tx(1)));
        std::fs::write(&path, &bytes).unwrap();
        let err = PoolLog::open(&path).unwrap_err().to_string();
        assert!(err.contains("does not increase"), "{err}");
    }

    #[test]
    fn a_rewrite_keeps_exactly_the_live_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let (mut log, _) = PoolLog::open(&path).unwrap();
        let txs: Vec<SignedTx> = (0..10).map(tx).collect();
        log.append(txs.iter().enumerate().map(|(i, t)| (i as u64, t)), true).unwrap();
        assert!(!log.needs_rewrite(2), "below the size floor");
        log.rewrite([(4, &txs[4]), (7, &txs[7])]).unwrap();
        log.append([(10, &txs[0])], true).unwrap();
        drop(log);
        let (_, recovered) = PoolLog::open(&path).unwrap();
        assert_eq!(seqs(&recovered), vec![4, 7, 10]);
        assert_eq!(recovered.entries[1].1, txs[7]);
        assert!(!path.with_extension("rewrite").exists());
    }

    #[test]
    fn an_append_below_the_logged_arrival_numbers_is_refused_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let (mut log, _) = PoolLog::open(&path).unwrap();
        log.append([(5, &tx(0)), (6, &tx(1))], true).unwrap();
        // Rewritten without 6: the mark stays above it, in this handle and after reopening.
        log.rewrite([(5, &tx(0))]).unwrap();
        assert_eq!(log.next_seq(), Some(7));
        let len = log.len();
        let err = log.append([(7, &tx(2)), (6, &tx(3))], true).unwrap_err().to_string();
        assert!(err.contains("arrival number 6"), "{err}");
        assert_eq!(log.len(), len);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len, "nothing of the refused batch written");
        drop(log);
        let (log, recovered) = PoolLog::open(&path).unwrap();
        assert_eq!(seqs(&recovered), vec![5]);
        assert_eq!(log.next_seq(), Some(6), "a reopened log knows only what it holds");
    }

    #[test]
    fn the_log_asks_for_a_rewrite_once_large_and_mostly_dead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.log");
        let (mut log, _) = PoolLog::open(&path).unwrap();
        let t = tx(0);
        let per_record = record(0, &t).len() as u64;
        let count = REWRITE_MIN_BYTES / per_record + 1;
        for chunk in (0..count).collect::<Vec<_>>().chunks(4096) {
            log.append(chunk.iter().map(|s| (*s, &t)), false).unwrap();
        }
        assert!(log.needs_rewrite(100));
        assert!(!log.needs_rewrite(count as usize / 2), "half the records still live");
    }

    proptest::proptest! {
        /// Any bytes after a whole record: the record and a cut tail, or a refusal naming
        /// the reason; never a panic.
        #[test]
        fn arbitrary_bytes_after_the_magic_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("pool.log");
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&record(1, &tx(0)));
            bytes.extend_from_slice(&tail);
            std::fs::write(&path, &bytes).unwrap();
            match PoolLog::open(&path) {
                Ok((_, recovered)) => proptest::prop_assert_eq!(recovered.entries[0].0, 1),
                Err(e) => proptest::prop_assert!(matches!(e, PoolLogError::Corrupt { .. }), "{}", e),
            }
        }
    }
}
