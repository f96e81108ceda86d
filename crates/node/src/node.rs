//! The running node: shared state, block planning and commit, L1 deposit sync, and the run
//! function that drives a [`Sequencing`] and a [`Posting`] strategy.

use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tandem_chain::{BlockInput, BlockRecord, ConsensusInfo, Lane, TxHash, FEE_ACCOUNT};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PublicKey;
use tandem_l1::{ForcedClient, RollupClient, B256};
use tandem_state::redb::{self, ReadableTable};
use tandem_state::signing::{verification_chunk, TxSignature};
use tandem_state::{BlockOutcome, Ledger, LedgerOp, PersistentLedger, StfError, StoreError};
use tandem_types::{encode_public_data, AccountIndex, SignedTx};
use tracing::{debug, error, info, warn};

use crate::config::NodeConfig;
use crate::mempool::{Mempool, MempoolError};
use crate::metrics::Metrics;
use crate::pool_log::{PoolLog, PoolLogError};
use crate::posting::Posting;
use crate::recent_txs::{included_in_table, inclusions, RecentTxs};
use crate::records::*;
use crate::sequencing::Sequencing;

/// Most pending transactions.
const MEMPOOL_CAPACITY: usize = 20_000;
/// The persisted mempool's file in the data directory (SPEC §9).
const POOL_LOG_FILE: &str = "mempool.log";
/// Widest L1 block range of one log query.
const MAX_LOG_RANGE: u64 = 5_000;

/// Fatal node errors.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// L1 failed in a way the node cannot go on from.
    #[error("L1: {0}")]
    L1(#[from] tandem_l1::L1Error),
    /// The data directory cannot be created.
    #[error("data dir: {0}")]
    DataDir(#[source] std::io::Error),
    /// The persisted mempool cannot be read or written.
    #[error(transparent)]
    PoolLog(#[from] PoolLogError),
    /// The genesis fee account cannot be created (e.g. the fee key is not a curve point).
    #[error("genesis fee account: {0}")]
    Genesis(#[source] StfError),
    /// A deposit from L1 could not be applied (cannot happen with the contract's checks).
    #[error("deposit {queue_index} cannot be applied: {reason}")]
    DepositRefused {
        /// Priority-queue index.
        queue_index: u64,
        /// Why.
        reason: StfError,
    },
    /// The node's ZK-lane slots differ from the rollup's `zkSlots` (its ZK batches would be
    /// refused, and its fee chunks would not be the chain's).
    #[error("--zk-slots {configured:?} but rollup {rollup} has zkSlots {on_l1} (0: no validity lane)")]
    ZkSlotsMismatch {
        /// The node's `--zk-slots`.
        configured: Option<usize>,
        /// The rollup's `zkSlots()`.
        on_l1: u32,
        /// The rollup.
        rollup: tandem_l1::Address,
    },
    /// The node is told to escrow proof fees but the rollup has no prover market (every ZK
    /// commit would revert `NoMarket`).
    #[error("--escrow-proof-fees needs a prover market, and rollup {0} has none")]
    NoMarket(tandem_l1::Address),
    /// A block (and its batch) this node committed is missing from storage.
    #[error("block {0} missing from storage")]
    MissingBlock(u64),
    /// A batch marked posted has no L1 commit record.
    #[error("batch {0} has no L1 commit record")]
    NoL1Record(u64),
    /// A node task panicked or was cancelled.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The consensus engine stopped.
    #[error("consensus: {0}")]
    Consensus(#[from] tandem_consensus::EngineError),
    /// A server (JSON-RPC or metrics) could not bind or read its address.
    #[error("{what} server on {addr}: {source}")]
    Server {
        /// Which server.
        what: &'static str,
        /// Where it was to listen.
        addr: std::net::SocketAddr,
        /// Why it could not.
        #[source]
        source: std::io::Error,
    },
    /// The dashboard could not start.
    #[error(transparent)]
    Dashboard(#[from] tandem_dashboard::DashboardError),
    /// A thread of the node's own could not be started.
    #[error("could not start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The RPC methods of the node and the member clash.
    #[error("RPC methods: {0}")]
    RpcMethods(#[from] jsonrpsee::core::RegisterMethodError),
    /// A decided block does not apply: a deposit or the fee settlement is refused (a
    /// transaction never refuses a block; it is skipped).
    #[error("block {number} does not apply at op {index}: {reason}")]
    BlockRefused {
        /// Block number.
        number: u64,
        /// Op index.
        index: usize,
        /// Why.
        reason: StfError,
    },
}

/// The inputs chosen for a block. Nothing in it has been executed: an input that turns out
/// invalid is skipped when the block is applied (deferred execution).
#[derive(Debug, Clone)]
pub struct BlockPlan {
    /// Finality lane.
    pub lane: Lane,
    /// Deposits (queue order) then transactions.
    pub inputs: Vec<BlockInput>,
}

/// A block ready to commit: its number and time, its inputs, and, in sequencer-set mode, the
/// consensus height that decided it.
#[derive(Debug, Clone)]
pub struct DecidedBlock {
    /// Block number: the latest block + 1.
    pub number: u64,
    /// Unix time the block carries.
    pub timestamp: u64,
    /// Its lane and inputs.
    pub plan: BlockPlan,
    /// The decided height it came from (`None` for the single sequencer).
    pub consensus: Option<DecidedHeight>,
}

/// A decided consensus height, persisted with the block it produced (if any).
#[derive(Debug, Clone)]
pub struct DecidedHeight {
    /// Where the block came from.
    pub info: ConsensusInfo,
    /// The decided payload and its commit certificate, as stored (see `CONSENSUS`).
    pub stored: Vec<u8>,
}

impl DecidedHeight {
    /// Writes the height's record and the height cursor.
    pub fn write(&self, txn: &redb::WriteTransaction) -> Result<(), StoreError> {
        txn.open_table(CONSENSUS).map_err(db_err)?.insert(self.info.height, self.stored.as_slice()).map_err(db_err)?;
        txn.open_table(NODE_META).map_err(db_err)?.insert(META_CONSENSUS_HEIGHT, self.info.height).map_err(db_err)?;
        Ok(())
    }
}

/// How an admission batch is written (`Node::submit_batch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A client's transactions: synced to disk before anyone is told they are accepted, since
    /// this node may hold the only copy.
    Durable,
    /// Transactions another member forwarded after making them durable there: written
    /// without a disk sync of their own. They become durable with this node's next synced
    /// commit (the next client admission or committed block); a crash before that loses only
    /// this node's copy, and the member that forwarded them still holds and proposes them.
    Forwarded,
}

/// A refusal of a submitted transaction, for RPC.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Bytes that do not decode as a signed transaction.
    #[error("{0}")]
    Malformed(#[from] tandem_types::DecodeError),
    /// Refused by the mempool or the rules.
    #[error("{0}")]
    Refused(#[from] MempoolError),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl SubmitError {
    /// The answer for a transaction admission left without a verdict (its batch panicked or
    /// returned too few results): an internal failure, never a refusal by the rules.
    pub fn no_verdict() -> Self {
        SubmitError::Store(StoreError::Database("admission returned no verdict for this transaction".into()))
    }
}

/// State shared by the node's tasks and RPC handlers.
pub struct Node {
    /// Configuration.
    pub config: NodeConfig,
    pub(crate) ledger: Mutex<PersistentLedger>,
    pub(crate) db: Arc<redb::Database>,
    pub(crate) mempool: Mutex<Mempool>,
    /// Records of transactions included since the last merge into `TXS` (changed only by
    /// `commit_block`, after its commit).
    recent_txs: Mutex<RecentTxs>,
    /// The persisted mempool. Locked only while holding `mempool`, so the log and the pool
    /// change together.
    pool_log: Mutex<PoolLog>,
    /// Confirmed priority ops (deposits, forced withdrawals) not yet included, in queue order.
    pub(crate) deposits: Mutex<VecDeque<QueuedPriorityOp>>,
    /// The forced-withdrawal inbox, if the rollup has one.
    forced: Option<ForcedClient>,
    pub(crate) l1: RollupClient,
    /// Metrics.
    pub metrics: Metrics,
    /// The latest block number, for callers waiting on the next block (`tandem_waitForBlock`).
    /// Invariant: equals `latest_block()` once a block's commit has returned.
    blocks: tokio::sync::watch::Sender<u64>,
    pub(crate) l1_chain_id: u64,
    pub(crate) challenge_window: u64,
    /// The rollup's prover market (read from L1 at start; fixed at the rollup's deployment).
    pub(crate) market: Option<tandem_l1::Address>,
    /// The rollup's dispute game (read from L1 at start; fixed at the rollup's deployment).
    pub(crate) dispute_game: Option<tandem_l1::Address>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("config", &self.config).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere poisoned the lock; the data is still consistent at our commit points.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Unix seconds by this machine's clock (the clock of block timestamps).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Opens the pool log at `path` and rebuilds the mempool from it (SPEC §9). A logged
/// transaction recorded `included` left the pool with its block; one recorded `rejected` is
/// pending again only if it passes admission now (it may have been submitted again after
/// its rejection); the rest are pending as logged, in arrival order. Transactions of the
/// mempool table that earlier versions kept in the database are moved into the log first.
fn reload_mempool(
    path: &std::path::Path,
    db: &redb::Database,
    recent: &RecentTxs,
    ledger: &Ledger,
) -> Result<(PoolLog, Mempool), NodeError> {
    let (mut log, recovered) = PoolLog::open(path)?;
    if recovered.torn_bytes > 0 {
        warn!(bytes = recovered.torn_bytes, "pool log: cut off a torn tail (an append a crash interrupted, never acknowledged)");
    }
    let mut entries = recovered.entries;
    let legacy = {
        let read = db.begin_read().map_err(db_err)?;
        match read.open_table(MEMPOOL) {
            Ok(table) => Some(
                table
                    .iter()
                    .map_err(db_err)?
                    .map(|entry| {
                        let (seq, bytes) = entry.map_err(db_err)?;
                        let tx = SignedTx::decode(bytes.value()).map_err(|e| StoreError::Corrupt(format!("mempool table: {e}")))?;
                        Ok((seq.value(), tx))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?,
            ),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(db_err(e).into()),
        }
    };
    if let Some(legacy) = legacy {
        // A crash during an earlier move left some of them in the log already.
        let logged_through = entries.last().map(|(seq, _)| *seq);
        let rest: Vec<(u64, SignedTx)> = legacy.into_iter().filter(|(seq, _)| logged_through.is_none_or(|t| *seq > t)).collect();
        log.append(rest.iter().map(|(seq, tx)| (*seq, tx)), true)?;
        entries.extend(rest);
        let write = db.begin_write().map_err(db_err)?;
        write.delete_table(MEMPOOL).map_err(db_err)?;
        write.commit().map_err(db_err)?;
    }
    let verified = ledger.verified_signatures();
    let mut mempool = Mempool::new(MEMPOOL_CAPACITY);
    if let Some(next) = log.next_seq() {
        mempool.number_from(next);
    }
    let mut left = 0usize;
    for (seq, tx) in entries {
        let hash = TxHash::of(&tx);
        if mempool.contains(&hash) {
            continue;
        }
        match recent.read(db, std::slice::from_ref(&hash))?.pop().flatten() {
            Some(record) if record.status == "included" => {
                left += 1;
                continue;
            }
            Some(_) if mempool.check(ledger, &tx, |signer| verified.verify(&tx, signer)).is_err() => {
                left += 1;
                continue;
            }
            _ => mempool.insert(seq, hash, tx),
        }
    }
    info!(pending = mempool.len(), left_the_pool = left, log_bytes = log.len(), "mempool reloaded from the pool log");
    Ok((log, mempool))
}

impl Node {
    /// Opens the node's storage (creating the genesis state on first start), reloads the
    /// persisted mempool, and connects to L1.
    pub async fn open(config: NodeConfig) -> Result<Arc<Self>, NodeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(NodeError::DataDir)?;
        let path = config.data_dir.join("tandem.redb");
        let l1 = RollupClient::new(&config.l1_rpc, config.rollup, Some(config.sequencer_key.clone()))?;
        // The rollup's slots are the chain's fee chunk: every replica must use them.
        let zk_slots = l1.zk_slots().await?;
        let configured = config.zk_lane.map(|z| z.slots);
        if configured.is_some_and(|s| s as u64 != zk_slots as u64) {
            return Err(NodeError::ZkSlotsMismatch { configured, on_l1: zk_slots, rollup: config.rollup });
        }
        let ledger_config = tandem_state::LedgerConfig {
            chain_id: config.chain_id,
            tree_depth: config.tree_depth,
            chunk_size: std::num::NonZeroUsize::new(zk_slots as usize),
        };
        let mut ledger = PersistentLedger::open(&path, ledger_config)?;
        if ledger.account_count() == 0 {
            ledger.create_genesis_account(config.genesis_fee_pubkey).map_err(NodeError::Genesis)?;
            ledger.persist()?;
        }
        let db = ledger.database();
        let recent_txs = RecentTxs::load(&db, config.tx_records_merge)?;
        let (pool_log, mempool) = reload_mempool(&config.data_dir.join(POOL_LOG_FILE), &db, &recent_txs, &ledger)?;
        let forced = config.forced_inbox.map(|inbox| ForcedClient::new(&config.l1_rpc, inbox, None)).transpose()?;
        let l1_chain_id = tandem_l1::client_chain_id(&l1).await?;
        let challenge_window = l1.challenge_window().await?;
        let market = l1.market().await?;
        let dispute_game = l1.dispute_game().await?;
        if market.is_none() && config.zk_lane.is_some_and(|zk| zk.escrow_proof_fees) {
            return Err(NodeError::NoMarket(config.rollup));
        }
        let node = Self {
            metrics: Metrics::default(),
            blocks: tokio::sync::watch::Sender::new(read_meta(&db, META_LATEST_BLOCK)?.unwrap_or(0)),
            ledger: Mutex::new(ledger),
            db,
            mempool: Mutex::new(mempool),
            recent_txs: Mutex::new(recent_txs),
            pool_log: Mutex::new(pool_log),
            deposits: Mutex::new(VecDeque::new()),
            forced,
            l1,
            l1_chain_id,
            challenge_window,
            market,
            dispute_game,
            config,
        };
        node.metrics.latest_block.store(node.latest_block()?, Ordering::Relaxed);
        node.metrics.mempool_size.store(lock(&node.mempool).len() as u64, Ordering::Relaxed);
        Ok(Arc::new(node))
    }

    /// The latest block number (0 before the first block).
    pub fn latest_block(&self) -> Result<u64, StoreError> {
        Ok(read_meta(&self.db, META_LATEST_BLOCK)?.unwrap_or(0))
    }

    /// The latest block number, updated as each block commits.
    pub fn watch_blocks(&self) -> tokio::sync::watch::Receiver<u64> {
        self.blocks.subscribe()
    }

    /// Runs `f` with the ledger locked (reads for RPC).
    pub fn with_ledger<T>(&self, f: impl FnOnce(&Ledger, &Mempool) -> T) -> T {
        let ledger = lock(&self.ledger);
        let mempool = lock(&self.mempool);
        f(&ledger, &mempool)
    }

    /// Validates and durably accepts a transaction; returns its hash. Clients' submissions
    /// come through the RPC's admission queue instead ([`crate::rpc::AdmissionQueue`]),
    /// which admits concurrent ones together with [`Node::submit_batch`].
    pub fn submit(&self, bytes: &[u8]) -> Result<TxHash, SubmitError> {
        self.submit_batch(&[bytes], Admission::Durable).pop().unwrap_or_else(|| Err(SubmitError::no_verdict()))
    }

    /// Validates and accepts transactions, in order, each as if submitted alone (a later one
    /// sees the earlier ones pending); one result per input, in input order. What is accepted
    /// is written as `admission` says before this returns.
    ///
    /// Why a batch: the signatures are verified in parallel before the ledger is locked
    /// (block application waits on that lock), and everything accepted is persisted in one
    /// database transaction, one write for the batch instead of one per transaction. If
    /// persisting fails, nothing of the batch is accepted.
    pub fn submit_batch(&self, inputs: &[&[u8]], admission: Admission) -> Vec<Result<TxHash, SubmitError>> {
        let decoded: Vec<Result<(SignedTx, TxHash), SubmitError>> =
            inputs.iter().map(|bytes| SignedTx::decode(bytes).map(|tx| (tx, TxHash::of(&tx))).map_err(SubmitError::from)).collect();
        // Signers are immutable once an account exists, so the verdicts stay right after the
        // lock is released; a nonce already used is refused below before any cryptography.
        // The recipient's key comes unpacked from its account when it has one (saves the
        // check a square root per transfer).
        type Candidate = Option<(SignedTx, TxHash)>;
        type Keys = Option<(PublicKey, Option<PublicKey>)>;
        let (verified, signers, nonce_used): (_, Vec<Keys>, Vec<bool>) = {
            let ledger = lock(&self.ledger);
            let (signers, nonce_used) = decoded
                .iter()
                .map(|d| {
                    let Ok((tx, _)) = d else { return (None, false) };
                    let Some(account) = ledger.account(tx.tx.from()) else { return (None, false) };
                    let fresh = tx.tx.nonce() >= account.nonce;
                    (fresh.then(|| (account.pubkey, ledger.recipient_key(&tx.tx))), !fresh)
                })
                .unzip();
            (ledger.verified_signatures(), signers, nonce_used)
        };
        // Only a transaction whose nonce is used can have been included (a nonce is used once,
        // in the commit that writes the record), so only those are looked up: an included one
        // is "already known", the rest get the nonce refusal below. One read transaction.
        let used: Vec<TxHash> = decoded
            .iter()
            .zip(&nonce_used)
            .filter(|(_, used)| **used)
            .filter_map(|(d, _)| d.as_ref().ok().map(|(_, hash)| *hash))
            .collect();
        let mut records = lock(&self.recent_txs).read(&self.db, &used).map(Vec::into_iter);
        let mut results: Vec<Result<TxHash, SubmitError>> = Vec::with_capacity(inputs.len());
        let mut candidates: Vec<Candidate> = Vec::with_capacity(inputs.len());
        for (decoded, used) in decoded.into_iter().zip(nonce_used) {
            let checked = decoded.and_then(|(tx, hash)| match &mut records {
                _ if !used => Ok((tx, hash)),
                Ok(records) => match records.next().flatten() {
                    Some(r) if r.status != "rejected" => Err(MempoolError::AlreadyKnown(hash).into()),
                    _ => Ok((tx, hash)),
                },
                Err(e) => Err(SubmitError::Store(StoreError::Database(e.to_string()))),
            });
            candidates.push(checked.as_ref().ok().copied());
            results.push(checked.map(|(_, hash)| hash));
        }
        let verify_chunk = |(candidates, signers): (&[Candidate], &[Keys])| {
            let items: Vec<Option<TxSignature<'_>>> = candidates
                .iter()
                .zip(signers)
                .map(|(c, keys)| {
                    let (signer, recipient) = keys.as_ref()?;
                    Some(TxSignature::new(&c.as_ref()?.0, signer).with_recipient(recipient.as_ref()))
                })
                .collect();
            let fresh: Vec<TxSignature<'_>> = items.iter().flatten().copied().collect();
            let mut verdicts = verified.verify_many(&fresh).into_iter();
            items.iter().map(|item| item.map(|item| (*item.signer, verdicts.next().expect("one verdict per item")))).collect::<Vec<_>>()
        };
        let chunk = verification_chunk(candidates.len());
        // One chunk (a client's call, usually) is verified on this thread: handing it to the
        // rayon pool would only add two thread switches.
        let verdicts: Vec<Option<(PublicKey, Result<(), StfError>)>> = if candidates.len() <= chunk {
            verify_chunk((&candidates, &signers))
        } else {
            candidates.par_chunks(chunk).zip(signers.par_chunks(chunk)).flat_map_iter(verify_chunk).collect()
        };
        let ledger = lock(&self.ledger);
        let mut mempool = lock(&self.mempool);
        let mut accepted: Vec<(usize, u64, TxHash, SignedTx)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, candidate) in candidates.iter().enumerate() {
            let Some((tx, hash)) = candidate else { continue };
            if !seen.insert(*hash) || mempool.contains(hash) {
                results[i] = Err(MempoolError::AlreadyKnown(*hash).into());
                continue;
            }
            let check = mempool.check(&ledger, tx, |signer| match &verdicts[i] {
                Some((pk, verdict)) if pk == signer => verdict.clone(),
                _ => verified.verify(tx, signer),
            });
            match check {
                Ok(seq) => {
                    mempool.insert(seq, *hash, *tx);
                    accepted.push((i, seq, *hash, *tx));
                }
                Err(e) => results[i] = Err(e.into()),
            }
        }
        if accepted.is_empty() {
            return results;
        }
        // Durable before we say yes: an accepted transaction survives a crash.
        if let Err(e) = self.persist_pending(&accepted, admission) {
            for (i, seq, _, _) in &accepted {
                mempool.remove(*seq);
                results[*i] = Err(SubmitError::Store(StoreError::Database(e.to_string())));
            }
            return results;
        }
        self.metrics.mempool_size.store(mempool.len() as u64, Ordering::Relaxed);
        self.metrics.txs_accepted.fetch_add(accepted.len() as u64, Ordering::Relaxed);
        results
    }

    /// Appends accepted transactions to the persisted mempool ([`PoolLog`]), synced to disk
    /// if `admission` is durable. Called with the mempool locked. No transaction record is
    /// written: a pending transaction's status comes from the mempool ([`Node::transaction`]),
    /// which a restart rebuilds from the log, so each transaction costs one random-key record
    /// (when its block commits).
    fn persist_pending(&self, accepted: &[(usize, u64, TxHash, SignedTx)], admission: Admission) -> Result<(), PoolLogError> {
        let entries = accepted.iter().map(|(_, seq, _, tx)| (*seq, tx));
        lock(&self.pool_log).append(entries, admission == Admission::Durable)
    }

    /// After a block's commit (mempool locked): syncs transactions forwarded since the last
    /// sync (SPEC §9: they become durable with the next synced write), and rewrites the log
    /// without the transactions that left the pool once it has grown enough. A failure here
    /// loses nothing already durable, so it is logged, not fatal.
    fn tidy_pool_log(&self, mempool: &Mempool) {
        let mut log = lock(&self.pool_log);
        if let Err(e) = log.sync() {
            warn!(error = %e, "could not sync forwarded transactions");
        }
        if log.needs_rewrite(mempool.len()) {
            let live = mempool.take_candidates(usize::MAX);
            let before = log.len();
            match log.rewrite(live.iter().map(|(seq, _, tx)| (*seq, tx))) {
                Ok(()) => info!(before, after = log.len(), pending = live.len(), "pool log rewritten without included transactions"),
                Err(e) => warn!(error = %e, "could not rewrite the pool log; keeping the longer one"),
            }
        }
    }

    /// Produces the next block from confirmed deposits and pending transactions, if there is
    /// anything to include. Returns its number, or `None` when nothing was pending or every
    /// pending transaction was skipped.
    pub fn produce_block(&self) -> Result<Option<u64>, NodeError> {
        let mut ledger = lock(&self.ledger);
        let mut mempool = lock(&self.mempool);
        let mut deposits = lock(&self.deposits);
        let number = read_meta(&self.db, META_LATEST_BLOCK)?.unwrap_or(0) + 1;
        let plan = self.plan_block(&mempool, &mut deposits, Duration::ZERO)?;
        if plan.inputs.is_empty() {
            return Ok(None);
        }
        let block = DecidedBlock { number, timestamp: unix_now(), plan, consensus: None };
        self.commit_block(&mut ledger, &mut mempool, &mut deposits, block)
    }

    /// Chooses the next block's inputs: confirmed priority ops (deposits, forced withdrawals)
    /// in queue order, then pending transactions in arrival order, up to the lane's limit. A
    /// priority op this node learned less than `min_age` ago waits for a later block, and so
    /// does every op queued after it (the queue is consumed in order): a set member proposes
    /// only what the other members have had time to see on L1 too, since a member that has not
    /// seen a proposed deposit must vote against the block. Executes nothing: the block runs
    /// once, when it is committed. Changes nothing but dropping deposits already taken.
    pub(crate) fn plan_block(
        &self,
        mempool: &Mempool,
        deposits: &mut VecDeque<QueuedPriorityOp>,
        min_age: Duration,
    ) -> Result<BlockPlan, NodeError> {
        let next_deposit = read_meta(&self.db, META_NEXT_DEPOSIT)?.unwrap_or(0);
        while deposits.front().is_some_and(|d| d.queue_index < next_deposit) {
            deposits.pop_front();
        }
        let settled = settled_prefix(deposits, min_age);
        let (lane, max) = self.block_lane(settled, mempool);
        let mut inputs: Vec<BlockInput> = deposits.iter().take(settled.min(max)).map(|d| d.input.clone()).collect();
        let room = max - inputs.len();
        inputs.extend(mempool.take_candidates(room).into_iter().map(|(_, _, tx)| BlockInput::Tx { encoded: tx }));
        Ok(BlockPlan { lane, inputs })
    }

    /// Applies `block` once and persists the result with everything that goes with it
    /// (rejections' records, a merge of included ones when due ([`crate::recent_txs`]), the
    /// deposit cursor, the decided consensus height) in one database transaction. A
    /// transaction that breaks a rule is skipped (deferred execution: every member skips the
    /// same ones) and recorded as rejected with its reason, unless the same transaction was
    /// already included (a replay must not hide the original).
    /// Returns the new block's number, or `None` when no input applied.
    pub(crate) fn commit_block(
        &self,
        ledger: &mut PersistentLedger,
        mempool: &mut Mempool,
        deposits: &mut VecDeque<QueuedPriorityOp>,
        block: DecidedBlock,
    ) -> Result<Option<u64>, NodeError> {
        let DecidedBlock { number, timestamp, plan: BlockPlan { lane, inputs }, consensus } = block;
        let ops: Vec<LedgerOp> = inputs.iter().map(BlockInput::to_ledger_op).collect();
        let BlockOutcome { batch: outcome, applied, skipped } = ledger
            .apply_block(&ops, AccountIndex::new(FEE_ACCOUNT).expect("0 is an index"))
            .map_err(|e| NodeError::BlockRefused { number, index: e.index, reason: e.error })?;
        let skipped: Vec<(TxHash, String)> = skipped
            .iter()
            .filter_map(|(i, error)| match &inputs[*i] {
                BlockInput::Tx { encoded } => Some((TxHash::of(encoded), error.to_string())),
                BlockInput::Deposit { .. } | BlockInput::ForcedWithdrawal { .. } => None,
            })
            .collect();
        for (hash, reason) in &skipped {
            warn!(block = number, tx = %hash, reason, "skipping transaction");
        }
        let inputs: Vec<BlockInput> = applied.iter().map(|i| inputs[*i].clone()).collect();
        let deposit_count = inputs.iter().filter(|i| i.queue_index().is_some()).count();
        let produced = !outcome.ops.is_empty();
        let included_txs = inclusions(number, &outcome.ops, &inputs);
        let record = BlockRecord {
            number,
            timestamp,
            prev_state_root: B256::from(fr_to_be_bytes(&outcome.prev_root)),
            state_root: B256::from(fr_to_be_bytes(&outcome.root)),
            intermediate_roots: outcome.intermediate_roots.iter().map(|r| B256::from(fr_to_be_bytes(r))).collect(),
            public_data: encode_public_data(&outcome.ops),
            op_count: outcome.ops.len() as u32,
            priority_ops: deposit_count as u32,
            tx_hashes: included_txs.iter().map(|(h, _)| *h).collect(),
            lane,
            inputs,
            consensus: consensus.as_ref().map(|c| c.info.clone()),
        };
        let batch = BatchRecord::produced(&record);
        let done: std::collections::HashSet<TxHash> = included_txs.iter().map(|(h, _)| *h).chain(skipped.iter().map(|(h, _)| *h)).collect();
        let done_seqs = mempool.seqs_of_hashes(&done);
        let next_deposit = read_meta(&self.db, META_NEXT_DEPOSIT)?.unwrap_or(0);
        let new_next_deposit = next_deposit + deposit_count as u64;
        // The skipped transactions that an earlier block included keep that record (a replay
        // must not hide the original); those merged into the table are checked in the commit.
        let (merged, to_reject) = {
            let recent = lock(&self.recent_txs);
            let to_reject: Vec<&(TxHash, String)> = if skipped.is_empty() {
                Vec::new()
            } else {
                let in_this_block: std::collections::HashSet<&TxHash> = included_txs.iter().map(|(h, _)| h).collect();
                skipped.iter().filter(|(h, _)| !in_this_block.contains(h) && !recent.contains(h)).collect()
            };
            ((produced && recent.merge_due(number, included_txs.len())).then(|| recent.to_merge(&included_txs)), to_reject)
        };
        let commit_started = Instant::now();
        let persisted = ledger.persist_with(|txn| {
            let mut txs = txn.open_table(TXS).map_err(db_err)?;
            for (hash, record) in merged.iter().flatten() {
                txs.insert(hash.as_bytes(), record.as_slice()).map_err(db_err)?;
            }
            if produced {
                txn.open_table(BLOCKS).map_err(db_err)?.insert(number, record.encode().as_slice()).map_err(db_err)?;
                txn.open_table(BATCHES).map_err(db_err)?.insert(number, to_json(&batch).as_slice()).map_err(db_err)?;
            }
            for (hash, reason) in &to_reject {
                if included_in_table(&txs, hash)? {
                    continue;
                }
                txs.insert(hash.as_bytes(), TxRecord::rejected(reason.clone()).encode().as_slice()).map_err(db_err)?;
            }
            if let Some(decided) = &consensus {
                decided.write(txn)?;
            }
            let mut meta = txn.open_table(NODE_META).map_err(db_err)?;
            meta.insert(META_NEXT_DEPOSIT, new_next_deposit).map_err(db_err)?;
            if produced {
                meta.insert(META_LATEST_BLOCK, number).map_err(db_err)?;
            }
            if merged.is_some() {
                meta.insert(META_TXS_MERGED_THROUGH, number).map_err(db_err)?;
            }
            Ok(())
        });
        if let Err(e) = persisted {
            // Memory is ahead of disk now; stop, and the restart resumes from disk.
            error!(block = number, error = %e, "could not persist block; stopping");
            return Err(e.into());
        }
        let included_count = included_txs.len();
        if let Some(merged) = &merged {
            let commit_ms = commit_started.elapsed().as_millis() as u64;
            info!(block = number, records = merged.len(), commit_ms, "included transactions' records merged into the records table");
        }
        lock(&self.recent_txs).committed(merged.is_some(), number, included_txs);
        for seq in &done_seqs {
            mempool.remove(*seq);
        }
        self.tidy_pool_log(mempool);
        while deposits.front().is_some_and(|d| d.queue_index < new_next_deposit) {
            deposits.pop_front();
        }
        let m = &self.metrics;
        m.txs_dropped.fetch_add(skipped.len() as u64, Ordering::Relaxed);
        m.mempool_size.store(mempool.len() as u64, Ordering::Relaxed);
        if !produced {
            return Ok(None);
        }
        m.blocks_produced.fetch_add(1, Ordering::Relaxed);
        m.txs_included.fetch_add(included_count as u64, Ordering::Relaxed);
        m.deposits_included.fetch_add(deposit_count as u64, Ordering::Relaxed);
        m.latest_block.store(number, Ordering::Relaxed);
        self.blocks.send_replace(number);
        info!(block = number, ops = record.op_count, deposits = record.priority_ops, lane = ?lane, root = %record.state_root, "block produced");
        Ok(Some(number))
    }

    /// The lane of the next block and its op limit: a ZK-lane block (at most the circuit's
    /// slots) when a fast withdrawal fits in it after `priority_ops` queued ops, else an
    /// optimistic one.
    fn block_lane(&self, priority_ops: usize, mempool: &Mempool) -> (Lane, usize) {
        let max = self.config.max_block_ops;
        let Some(zk) = self.config.zk_lane else {
            return (Lane::Optimistic, max);
        };
        let deposits_in = priority_ops.min(zk.slots);
        let fast_fits = mempool
            .take_candidates(zk.slots - deposits_in)
            .iter()
            .any(|(_, _, tx)| matches!(tx.tx, tandem_types::Tx::Withdraw(w) if w.fee.value() >= zk.fast_withdrawal_fee));
        if fast_fits {
            (Lane::Zk, zk.slots.min(max))
        } else {
            (Lane::Optimistic, max)
        }
    }

    /// Scans L1 for newly confirmed deposits (from `*scanned + 1` to head − confirmations),
    /// rewinding after a reorg of scanned blocks.
    pub async fn sync_l1(&self, scanned: &mut Option<(u64, B256)>) -> Result<(), NodeError> {
        let head = self.l1.head().await?;
        self.metrics.l1_head.store(head, Ordering::Relaxed);
        let safe = head.saturating_sub(self.config.l1_confirmations);
        if let Some((number, hash)) = *scanned {
            if self.l1.block_hash(number).await? != Some(hash) {
                // Blocks we scanned were replaced: forget deposits not yet included from the
                // rewound range and scan it again.
                let rewind_to = number.saturating_sub(self.config.l1_confirmations + 1).max(self.config.deploy_block);
                warn!(from = number, to = rewind_to, "L1 reorg detected; rescanning deposits");
                lock(&self.deposits).retain(|d| d.l1_block <= rewind_to);
                *scanned = Some((rewind_to, self.l1.block_hash(rewind_to).await?.unwrap_or_default()));
            }
        }
        let mut from = scanned.map_or(self.config.deploy_block, |(n, _)| n + 1);
        while from <= safe {
            let to = safe.min(from + MAX_LOG_RANGE - 1);
            let mut found: Vec<QueuedPriorityOp> = self
                .l1
                .deposits(from, to)
                .await?
                .into_iter()
                .map(|d| QueuedPriorityOp {
                    queue_index: d.queue_index,
                    input: BlockInput::deposit(d.queue_index, &d.deposit),
                    l1_block: d.l1_block,
                    seen_at: Instant::now(),
                })
                .collect();
            if let Some(forced) = &self.forced {
                found.extend(forced.requests(from, to).await?.into_iter().map(|f| QueuedPriorityOp {
                    queue_index: f.queue_index,
                    input: BlockInput::ForcedWithdrawal { queue_index: f.queue_index, request: f.request },
                    l1_block: f.l1_block,
                    seen_at: Instant::now(),
                }));
                found.sort_by_key(|d| d.queue_index);
            }
            // TEST ONLY (read before the queue lock: the ledger is always locked first).
            let censored_account = self.config.test_censor_forced_from.as_ref().and_then(|key| lock(&self.ledger).index_of(key));
            {
                let next_included = read_meta(&self.db, META_NEXT_DEPOSIT)?.unwrap_or(0);
                let mut queue = lock(&self.deposits);
                for d in found {
                    let expected = next_included.max(queue.back().map_or(0, |b| b.queue_index + 1));
                    if d.queue_index < expected {
                        continue;
                    }
                    if self.config.test_censor_forced_from.is_some() {
                        // TEST ONLY: the censored request and every later entry (the queue is
                        // consumed in order) are never included.
                        let from_censored = matches!(&d.input,
                            BlockInput::ForcedWithdrawal { request, .. } if Some(request.account) == censored_account);
                        if from_censored || d.queue_index > expected {
                            warn!(queue_index = d.queue_index, "TEST ONLY: censoring the priority op");
                            continue;
                        }
                    }
                    if d.queue_index != expected {
                        return Err(NodeError::L1(tandem_l1::L1Error::Unexpected(format!(
                            "priority queue gap: expected index {expected}, found {} (a forced withdrawal without --forced-inbox?)",
                            d.queue_index
                        ))));
                    }
                    queue.push_back(d);
                }
            }
            *scanned = Some((to, self.l1.block_hash(to).await?.unwrap_or_default()));
            from = to + 1;
        }
        Ok(())
    }

    /// Batch record `number` with everything a record of an earlier version lacks filled in
    /// from its block ([`BatchRecord::with_block`]); a current record is read alone.
    pub fn batch_summary(&self, number: u64) -> Result<Option<BatchRecord>, NodeError> {
        let Some(record) = self.batch(number)? else { return Ok(None) };
        if record.header_hash.is_some() {
            return Ok(Some(record));
        }
        let block = self.block(number)?.ok_or(NodeError::MissingBlock(number))?;
        Ok(Some(record.with_block(&block)))
    }

    /// Writes `record` and moves the `NODE_META` cursor `cursor` to its number, atomically.
    pub(crate) fn write_batch_at(&self, record: &BatchRecord, cursor: &str) -> Result<(), NodeError> {
        let write = self.db.begin_write().map_err(db_err)?;
        write.open_table(BATCHES).map_err(db_err)?.insert(record.number, to_json(record).as_slice()).map_err(db_err)?;
        write.open_table(NODE_META).map_err(db_err)?.insert(cursor, record.number).map_err(db_err)?;
        write.commit().map_err(db_err)?;
        Ok(())
    }

    /// Sets one `NODE_META` value.
    pub(crate) fn write_meta(&self, name: &str, value: u64) -> Result<(), NodeError> {
        let write = self.db.begin_write().map_err(db_err)?;
        write.open_table(NODE_META).map_err(db_err)?.insert(name, value).map_err(db_err)?;
        write.commit().map_err(db_err)?;
        Ok(())
    }

    /// Marks batches `first..=posted` unposted (L1 reverted them) and moves the posted cursor
    /// back before them, in one database transaction.
    pub(crate) fn unpost(&self, first: u64, posted: u64) -> Result<(), NodeError> {
        let mut records = Vec::new();
        for number in first..=posted {
            let mut record = self.batch(number)?.ok_or(NodeError::MissingBlock(number))?;
            record.status = BatchStatus::Soft;
            record.committed = None;
            record.origin = None;
            record.l1_commit_tx = None;
            records.push(record);
        }
        let write = self.db.begin_write().map_err(db_err)?;
        {
            let mut batches = write.open_table(BATCHES).map_err(db_err)?;
            for record in &records {
                batches.insert(record.number, to_json(record).as_slice()).map_err(db_err)?;
            }
            write.open_table(NODE_META).map_err(db_err)?.insert(META_POSTED_THROUGH, first - 1).map_err(db_err)?;
        }
        write.commit().map_err(db_err)?;
        Ok(())
    }

    pub(crate) fn write_batch(&self, record: &BatchRecord) -> Result<(), NodeError> {
        let write = self.db.begin_write().map_err(db_err)?;
        write.open_table(BATCHES).map_err(db_err)?.insert(record.number, to_json(record).as_slice()).map_err(db_err)?;
        write.commit().map_err(db_err)?;
        Ok(())
    }

    /// Batch record `number`.
    pub fn batch(&self, number: u64) -> Result<Option<BatchRecord>, StoreError> {
        read_json(&self.db, BATCHES, number)
    }

    /// Block record `number`.
    pub fn block(&self, number: u64) -> Result<Option<BlockRecord>, StoreError> {
        read_block(&self.db, number)
    }

    /// Transaction record by hash: pending while the mempool holds it (a transaction
    /// rejected before may have been submitted again), else its stored record.
    pub fn transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, StoreError> {
        if lock(&self.mempool).contains(hash) {
            return Ok(Some(TxRecord { status: "pending".into(), block: None, reason: None, withdrawal: None }));
        }
        Ok(lock(&self.recent_txs).read(&self.db, std::slice::from_ref(hash))?.pop().flatten())
    }
}

/// Runs `node` until `shutdown` resolves: serves `methods` over JSON-RPC and the metrics,
/// runs `sequencing` (which decides and commits blocks), and the L1 loop: `sequencing`'s L1
/// duties, deposit sync, batch posting with `posting`, and finalization.
pub async fn run_node<C, S, P>(
    node: Arc<Node>,
    methods: jsonrpsee::RpcModule<C>,
    sequencing: Arc<S>,
    posting: Arc<P>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), NodeError>
where
    C: Send + Sync + 'static,
    S: Sequencing,
    P: Posting,
{
    let dashboard_methods = jsonrpsee::Methods::clone(&methods);
    let (rpc, rpc_addr) = crate::rpc::serve_module(methods, node.config.rpc_addr).await?;
    let metrics_addr = crate::rpc::serve_metrics(node.clone(), node.config.metrics_addr).await?;
    info!(rpc = %format!("http://{rpc_addr}"), metrics = %format!("http://{metrics_addr}/metrics"), rollup = %node.config.rollup, "node running");
    if let Some(addr) = node.config.dashboard_addr {
        let dashboard = tandem_dashboard::serve(dashboard_methods, addr).await?;
        info!(dashboard = %format!("http://{dashboard}/"), "dashboard running (read-only)");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let blocks = tokio::spawn(sequencing.clone().run(node.clone(), stop_rx.clone()));
    let l1 = tokio::spawn(l1_loop(node, sequencing, posting, stop_rx));
    tokio::pin!(shutdown);
    tokio::pin!(blocks);
    tokio::pin!(l1);
    let result = tokio::select! {
        _ = &mut shutdown => Ok(()),
        r = &mut blocks => r.map_err(NodeError::from).and_then(|r| r),
        r = &mut l1 => r.map_err(NodeError::from).and_then(|r| r),
    };
    // Let a block or an L1 call in flight finish before returning.
    let _ = stop_tx.send(true);
    let stopped = async {
        if !blocks.is_finished() {
            blocks.await??;
        }
        if !l1.is_finished() {
            l1.await??;
        }
        Ok::<(), NodeError>(())
    };
    let result = result.and(stopped.await);
    let _ = rpc.stop();
    if let Err(e) = &result {
        error!(error = %e, "node stopped");
    }
    result
}

/// Every `l1_poll_interval`: `sequencing`'s L1 duties, deposit sync, batch posting and
/// finalization; L1 failures are counted and retried, others stop the node.
async fn l1_loop<S: Sequencing, P: Posting>(
    node: Arc<Node>,
    sequencing: Arc<S>,
    posting: Arc<P>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), NodeError> {
    let mut scanned = None;
    let mut exodus_seen = false;
    let mut last_errors: [Option<String>; 4] = Default::default();
    let mut tick = tokio::time::interval(node.config.l1_poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return Ok(()),
        }
        // Exodus is final: L1 takes no more batches, proofs or finalizations, so this node's
        // L1 duties end (it keeps running and serving reads); users leave with
        // `tandem wallet exit`.
        if exodus_seen {
            continue;
        }
        match node.l1.exodus_active().await {
            Ok(true) => {
                error!("exodus is active on L1: the rollup takes no more batches; L1 duties stopped");
                exodus_seen = true;
                continue;
            }
            Ok(false) => {}
            Err(e) => {
                Metrics::inc(&node.metrics.l1_errors);
                warn!(error = %e, "reading the exodus state failed; retrying");
                continue;
            }
        }
        for (duty, (what, result)) in [
            ("sequencing L1 duties", sequencing.on_l1_poll().await),
            ("deposit sync", node.sync_l1(&mut scanned).await),
            ("batch posting", node.post_batches_with(&*posting).await),
            ("finalization", node.finalize_batches_with(&*posting).await),
        ]
        .into_iter()
        .enumerate()
        {
            match result {
                Ok(()) => last_errors[duty] = None,
                Err(NodeError::L1(e)) => {
                    Metrics::inc(&node.metrics.l1_errors);
                    // The same refusal every poll (e.g. signatures short of 2/3 until the
                    // epoch ends) is logged once, then at debug level until it changes.
                    let message = e.to_string();
                    if last_errors[duty].as_deref() == Some(message.as_str()) {
                        debug!(error = %message, "{what} failed again; retrying");
                    } else {
                        warn!(error = %message, "{what} failed; retrying");
                        last_errors[duty] = Some(message);
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }
}

/// How many priority ops at the front of `queue` this node has known for at least `min_age`
/// (the queue is consumed in order, so one too young holds back every op behind it).
fn settled_prefix(queue: &VecDeque<QueuedPriorityOp>, min_age: Duration) -> usize {
    queue.iter().take_while(|d| d.seen_at.elapsed() >= min_age).count()
}

/// A confirmed priority-queue entry not yet included: a deposit or a forced withdrawal, as
/// the block input that includes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPriorityOp {
    /// Position in the priority queue.
    pub queue_index: u64,
    /// The input (`BlockInput::Deposit` or `BlockInput::ForcedWithdrawal`).
    pub input: BlockInput,
    /// L1 block that queued it (forgotten on a reorg of that block).
    pub l1_block: u64,
    /// When this node first saw it confirmed (a set member proposes it only some time later).
    pub seen_at: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_crypto::PrivateKey;
    use tandem_state::signing::sign_tx;
    use tandem_types::{L1Deposit, PackedAmount, PackedFee, TokenId, TransferTx, Tx};

    fn key(i: u8) -> PrivateKey {
        PrivateKey::from_seed([i; 32])
    }

    fn transfer(from: u32, signer: u8, amount: u128, nonce: u32) -> SignedTx {
        let tx = Tx::Transfer(TransferTx {
            from: AccountIndex::new(from).unwrap(),
            to: key(9).public_key().pack(),
            token: TokenId::ETH,
            amount: PackedAmount::new(amount).unwrap(),
            fee: PackedFee::new(0).unwrap(),
            nonce,
        });
        sign_tx(&key(signer), 5, tx).unwrap()
    }

    /// Writes `tx`'s record: `included` in this version's encoding, any other status as JSON,
    /// as earlier versions wrote every record (a restart must read both).
    fn record(db: &redb::Database, tx: &SignedTx, status: &str) {
        let write = db.begin_write().unwrap();
        let rec = TxRecord { status: status.into(), block: (status == "included").then_some(1), reason: None, withdrawal: None };
        let bytes = if status == "included" { rec.encode() } else { to_json(&rec) };
        assert_eq!(bytes[0] == b'{', status != "included");
        write.open_table(TXS).unwrap().insert(TxHash::of(tx).as_bytes(), bytes.as_slice()).unwrap();
        write.commit().unwrap();
    }

    #[test]
    fn a_priority_op_seen_too_recently_holds_back_itself_and_every_later_one() {
        let op = |queue_index: u64, age_s: u64| QueuedPriorityOp {
            queue_index,
            input: BlockInput::deposit(queue_index, &L1Deposit { to: key(1).public_key().pack(), token: TokenId::ETH, amount: 1 }),
            l1_block: 1,
            seen_at: Instant::now().checked_sub(Duration::from_secs(age_s)).expect("the clock runs longer than a minute"),
        };
        let queue: VecDeque<QueuedPriorityOp> = [op(0, 60), op(1, 30), op(2, 0), op(3, 60)].into();
        assert_eq!(settled_prefix(&queue, Duration::ZERO), 4, "no minimum age: everything");
        assert_eq!(settled_prefix(&queue, Duration::from_secs(10)), 2, "the fresh op and the one behind it wait");
        assert_eq!(settled_prefix(&queue, Duration::from_secs(45)), 1);
        assert_eq!(settled_prefix(&queue, Duration::from_secs(120)), 0);
        assert_eq!(settled_prefix(&VecDeque::new(), Duration::from_secs(1)), 0);
    }

    /// What a restart keeps of the pool log: pending transactions as logged, included ones
    /// dropped, rejected ones only if admissible again, copies once; the mempool table of
    /// earlier versions moved into the log; new arrival numbers above every logged one.
    #[test]
    fn a_restart_rebuilds_the_pool_from_the_log_and_the_transaction_records() {
        let dir = tempfile::tempdir().unwrap();
        let config = tandem_state::LedgerConfig { chain_id: 5, tree_depth: 8, chunk_size: None };
        let mut ledger = PersistentLedger::open(&dir.path().join("tandem.redb"), config).unwrap();
        ledger.create_genesis_account(key(0).public_key().pack()).unwrap();
        let deposit = |i: u8| LedgerOp::Deposit(L1Deposit { to: key(i).public_key().pack(), token: TokenId::ETH, amount: 1_000 });
        let included = transfer(1, 1, 10, 0);
        let outcome = ledger.apply_block(&[deposit(1), deposit(2), LedgerOp::Tx(included)], AccountIndex::new(0).unwrap()).unwrap();
        assert!(outcome.skipped.is_empty());
        ledger.persist().unwrap();
        let db = ledger.database();

        let pending = transfer(1, 1, 10, 1);
        // Rejected in a block, then valid again: account 2 still has nonce 0 and the funds.
        let resubmitted = transfer(2, 2, 10, 0);
        // Rejected and still invalid: more than account 2 holds after the one above.
        let hopeless = transfer(2, 2, 5_000, 1);
        for (tx, status) in [(&included, "included"), (&resubmitted, "rejected"), (&hopeless, "rejected")] {
            record(&db, tx, status);
        }
        let path = dir.path().join(POOL_LOG_FILE);
        let (mut log, _) = PoolLog::open(&path).unwrap();
        log.append([(0, &included), (1, &pending), (2, &resubmitted), (3, &pending)], true).unwrap();
        drop(log);
        // A data directory of an earlier version: its pool in the database table.
        let write = db.begin_write().unwrap();
        write.open_table(MEMPOOL).unwrap().insert(7u64, hopeless.encode().as_slice()).unwrap();
        write.commit().unwrap();

        let recent = RecentTxs::load(&db, crate::recent_txs::DEFAULT_TX_RECORDS_MERGE).unwrap();
        let (log, mempool) = reload_mempool(&path, &db, &recent, &ledger).unwrap();
        let kept: Vec<(u64, TxHash)> = mempool.take_candidates(10).iter().map(|(seq, hash, _)| (*seq, *hash)).collect();
        assert_eq!(kept, vec![(1, TxHash::of(&pending)), (2, TxHash::of(&resubmitted))]);
        assert_eq!(log.next_seq(), Some(8), "the table's transaction moved into the log");
        assert!(db.begin_read().unwrap().open_table(MEMPOOL).is_err(), "the table is gone");
        let next = mempool.check(&ledger, &transfer(1, 1, 10, 2), |_| Ok(())).unwrap();
        assert_eq!(next, 8, "new arrivals are numbered above the log");
        drop(log);
        let (_, again) = reload_mempool(&path, &db, &recent, &ledger).unwrap();
        assert_eq!(again.len(), 2, "a second restart finds the same pool");
    }
}
