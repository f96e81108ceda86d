//! The challenger role (SPEC §17): a watcher that makes the optimistic lane a rollup. It
//! follows L1, reads every committed batch's header and public data from its commit
//! transaction (checked against the rollup's record, as restore does), and judges it on its
//! own replica of the state:
//!
//! - every rule of SPEC §5.1 except signatures, from public data alone, and the committed
//!   intermediate and final roots against its own re-execution;
//! - the signatures, from the signed transactions the sequencer (or a set member) serves
//!   for that block: they must be exactly the committed ops and verify.
//!
//! A chunk that breaks a rule, or whose signed transactions are not served within
//! `data_timeout`, cannot be proven by anyone honest: it is challenged (with the game's
//! bond). A challenge left unanswered past its response window is turned into a revert of
//! the batch and everything after it (`revertUnanswered`), which returns the bond (plus the
//! reporter share of a staked set's slashing); the challenger then reclaims its bonds on the
//! other chunks of that batch and withdraws. An answered challenge means the chunk was
//! provable: its bond paid the prover. A ZK-lane batch that breaks a rule has no challenge;
//! it is reverted once its proof deadline passes (`revertUnprovenZkBatch`); so is a valid
//! ZK-lane batch that nobody proved by then, since finality cannot pass it.
//!
//! The replica only takes batches judged valid, so it always stands at the last batch
//! before a fault. It keeps a snapshot per unfinal batch and rolls back when L1 reverts one
//! of them (a revert someone else caused). With a data directory, the state after the last
//! final batch it checked is kept on disk (`replica.redb`, written atomically with that
//! batch's number and record hash), so a restart re-judges only the batches that may still
//! be reverted instead of the whole chain.

use alloy::consensus::Transaction as _;
use alloy::providers::Provider;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_api::TandemApiClient;
use tandem_chain::{chunk_count, genesis_ledger, intermediate_roots_root, BatchHeader, BlockInput, GenesisError, Lane};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_l1::{
    record_hash, Address, CommittedBatch, ContractRevert, DisputeClient, GameParams, L1Error, PrivateKeySigner, RollupClient, B256,
};
use tandem_state::redb::{self, TableDefinition};
use tandem_state::{Ledger, LedgerConfig, LedgerOp, PersistentLedger};
use tandem_types::{decode_public_data, AccountIndex, Op, PackedPubKey};
use tracing::{error, info, warn};

/// Everything the challenger needs.
#[derive(Debug, Clone)]
pub struct ChallengerConfig {
    /// L1 JSON-RPC URL.
    pub l1_rpc: String,
    /// The rollup (it must have a dispute game).
    pub rollup: Address,
    /// L1 block of the rollup's deployment (where log searches start).
    pub deploy_block: u64,
    /// An L2 JSON-RPC that serves each block's signed transactions (a sequencer or set
    /// member); `None`: none is asked, so every chunk with a signed op counts as withheld.
    pub l2_rpc: Option<String>,
    /// The challenger's L1 key: pays the bonds and receives them back.
    pub key: PrivateKeySigner,
    /// Chain id of the L2.
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Owner key of account 0 at genesis.
    pub genesis_fee_pubkey: PackedPubKey,
    /// How long a batch's signed transactions may stay unserved before its chunks with
    /// signed ops are challenged.
    pub data_timeout: Duration,
    /// Polling interval of [`Challenger::run`].
    pub poll_interval: Duration,
    /// Where the replica of the last final checked batch is kept (`replica.redb`); `None`:
    /// memory only, a restart judges the chain from genesis again.
    pub data_dir: Option<PathBuf>,
}

/// The challenger's own table beside the replica's: which batch the stored state is after.
const PROGRESS: TableDefinition<&str, &[u8]> = TableDefinition::new("challenger");
/// The rollup the data directory belongs to (20 bytes).
const PROGRESS_ROLLUP: &str = "rollup";
/// The final batch the stored state is after (u64 big-endian) and its record hash (32 bytes).
const PROGRESS_FINAL: &str = "final_batch";

/// Why the challenger stopped or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum ChallengerError {
    /// L1 failed or refused.
    #[error("L1: {0}")]
    L1(#[from] L1Error),
    /// The rollup has no dispute game: nothing to challenge with.
    #[error("rollup {0} has no dispute game")]
    NoGame(Address),
    /// The chain's genesis state cannot be built from the configuration.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// A commit transaction cannot be read back as the rollup recorded it.
    #[error("reading the commit: {0}")]
    Commit(#[from] tandem_restore::RestoreError),
    /// The L2 RPC URL is unusable.
    #[error("L2 RPC: {0}")]
    Rpc(String),
    /// The data directory cannot be used (unreadable, or another rollup's).
    #[error("data directory: {0}")]
    Store(String),
    /// L1 and the replica disagree in a way the challenger cannot act on (a batch it found
    /// faulty was proven or finalized).
    #[error("batch {batch}: {reason}")]
    Diverged {
        /// The batch.
        batch: u64,
        /// What happened.
        reason: String,
    },
}

/// What the challenger concluded about a committed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every rule holds, signatures included (or the batch has no signed op).
    Valid,
    /// The commitment is false: these chunks cannot be proven.
    Faulty {
        /// Chunks to challenge.
        chunks: Vec<u32>,
        /// What is wrong, for the log.
        reason: String,
    },
    /// Public data and roots are consistent, but the signed transactions behind these
    /// chunks were not served (or were not the committed ones).
    Withheld {
        /// Chunks with signed ops.
        chunks: Vec<u32>,
    },
}

/// The challenger's tally (logs and status).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengerStatus {
    /// The last batch judged valid (the replica's height).
    pub checked: u64,
    /// Challenges posted.
    pub challenges: u64,
    /// Challenges a prover answered (bonds lost).
    pub answered: u64,
    /// Reverts this challenger caused.
    pub reverts: u64,
    /// Bonds reclaimed from other chunks of reverted batches.
    pub bonds_reclaimed: u64,
}

impl ChallengerStatus {
    /// The tally in Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        for (name, help, value) in [
            ("tandem_challenger_checked_batch", "Last batch judged valid (the replica's height).", self.checked),
            ("tandem_challenger_challenges_total", "Chunk challenges posted.", self.challenges),
            ("tandem_challenger_answered_total", "Challenges a prover answered (bonds lost).", self.answered),
            ("tandem_challenger_reverts_total", "Reverts this challenger caused.", self.reverts),
            ("tandem_challenger_bonds_reclaimed_total", "Bonds reclaimed from reverted batches.", self.bonds_reclaimed),
        ] {
            out += &format!(
                "# HELP {name} {help}\n# TYPE {name} {}\n{name} {value}\n",
                if name.ends_with("_total") { "counter" } else { "gauge" }
            );
        }
        out
    }
}

/// Why the status endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("status endpoint on {addr}: {source}")]
pub struct StatusServerError {
    /// The address asked for.
    pub addr: SocketAddr,
    /// The cause.
    pub source: std::io::Error,
}

/// Serves `GET /status` (the tally as JSON) and `GET /metrics` (Prometheus) of a running
/// challenger on `addr`; returns the bound address. Read-only.
pub async fn serve_status(status: Arc<Mutex<ChallengerStatus>>, addr: SocketAddr) -> Result<SocketAddr, StatusServerError> {
    let read = move || status.lock().map(|s| s.clone()).unwrap_or_default();
    let for_json = read.clone();
    let app = axum::Router::new()
        .route("/status", axum::routing::get(move || std::future::ready(axum::Json(for_json()))))
        .route("/metrics", axum::routing::get(move || std::future::ready(read().render_metrics())));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StatusServerError { addr, source })?;
    let local = listener.local_addr().map_err(|source| StatusServerError { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            error!(error = %e, "challenger status server stopped");
        }
    });
    Ok(local)
}

/// The progress record: final batch `number` (u64 big-endian) and its record hash.
fn progress_value(number: u64, record: B256) -> Vec<u8> {
    [number.to_be_bytes().as_slice(), record.as_slice()].concat()
}

fn store_error(e: impl std::fmt::Display) -> ChallengerError {
    ChallengerError::Store(e.to_string())
}

/// Opens the replica in `dir`, starting it at genesis (whose record hash is
/// `genesis_record`) when the directory is new. Returns it with the final batch it stands
/// after and that batch's record hash (the caller checks it against L1). Refuses a directory
/// of another rollup, or a progress record that does not parse.
fn open_store(
    dir: &std::path::Path,
    ledger_config: LedgerConfig,
    rollup: Address,
    genesis_fee_pubkey: PackedPubKey,
    genesis_record: B256,
) -> Result<(PersistentLedger, u64, B256), ChallengerError> {
    std::fs::create_dir_all(dir).map_err(|e| ChallengerError::Store(format!("{}: {e}", dir.display())))?;
    let mut store = PersistentLedger::open(&dir.join("replica.redb"), ledger_config).map_err(store_error)?;
    let progress = {
        let read = store.database().begin_read().map_err(store_error)?;
        match read.open_table(PROGRESS) {
            Ok(table) => {
                let get = |name: &str| -> Result<Option<Vec<u8>>, ChallengerError> {
                    Ok(table.get(name).map_err(store_error)?.map(|v| v.value().to_vec()))
                };
                Some((get(PROGRESS_ROLLUP)?, get(PROGRESS_FINAL)?))
            }
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(store_error(e)),
        }
    };
    let Some((stored_rollup, last_final)) = progress else {
        // New (or never got past this point): genesis, with the progress record in the same
        // transaction.
        store.create_genesis_account(genesis_fee_pubkey).map_err(|e| store_error(format!("genesis: {e}")))?;
        let value = progress_value(0, genesis_record);
        store
            .persist_with(|txn| {
                let mut table = txn.open_table(PROGRESS)?;
                table.insert(PROGRESS_ROLLUP, rollup.as_slice())?;
                table.insert(PROGRESS_FINAL, value.as_slice())?;
                Ok(())
            })
            .map_err(store_error)?;
        return Ok((store, 0, genesis_record));
    };
    if stored_rollup.as_deref() != Some(rollup.as_slice()) {
        return Err(ChallengerError::Store(format!("{} holds another rollup's replica, not {rollup}'s", dir.display())));
    }
    let last_final = last_final
        .filter(|v| v.len() == 40)
        .ok_or_else(|| ChallengerError::Store(format!("{}: progress record is not 40 bytes", dir.display())))?;
    let number = u64::from_be_bytes(last_final[..8].try_into().expect("40 bytes"));
    Ok((store, number, B256::from_slice(&last_final[8..])))
}

/// The first batch judged not valid, while the challenger acts on it.
struct Suspect {
    batch: CommittedBatch,
    header: BatchHeader,
    ops: Vec<Op>,
    public_data: Vec<u8>,
    verdict: Verdict,
    first_seen: Instant,
    /// Chunks challenged (by this challenger or, already, by someone else).
    challenged: Vec<u32>,
}

/// The challenger's state: its replica, the batch it pursues, its connections.
pub struct Challenger {
    config: ChallengerConfig,
    l1: RollupClient,
    game: DisputeClient,
    params: GameParams,
    slots: usize,
    l2: Option<HttpClient>,
    ledger: Ledger,
    /// The state after each checked batch that may still be reverted (and the last final
    /// one), with the record hash it was checked under.
    snapshots: BTreeMap<u64, (B256, Ledger)>,
    /// The replica of the last final checked batch on disk, and that batch's number.
    store: Option<(PersistentLedger, u64)>,
    /// Checked ZK-lane batches not yet seen proven: past its proof deadline, the oldest is
    /// reverted (finality cannot pass an unproven ZK batch).
    unproven_zk: BTreeMap<u64, CommittedBatch>,
    suspect: Option<Suspect>,
    status: ChallengerStatus,
    /// `status` as of the last step, for the status endpoint.
    published: Arc<Mutex<ChallengerStatus>>,
}

impl Challenger {
    /// Connects, finds the rollup's game and starts a replica at genesis.
    pub async fn new(config: ChallengerConfig) -> Result<Self, ChallengerError> {
        let l1 = RollupClient::new(&config.l1_rpc, config.rollup, Some(config.key.clone()))?;
        let game = l1.dispute_game().await?.ok_or(ChallengerError::NoGame(config.rollup))?;
        let game = DisputeClient::new(&config.l1_rpc, game, Some(config.key.clone()))?;
        let params = game.params().await?;
        let slots = l1.zk_slots().await? as usize;
        let ledger_config =
            LedgerConfig { chain_id: config.chain_id, tree_depth: config.tree_depth, chunk_size: std::num::NonZeroUsize::new(slots) };
        let genesis_record = record_hash(&l1.stored_record(0, config.deploy_block).await?);
        let (ledger, start, start_record, store) = match &config.data_dir {
            None => (genesis_ledger(ledger_config, config.genesis_fee_pubkey)?, 0, genesis_record, None),
            Some(dir) => {
                let (store, start, record) = open_store(dir, ledger_config, config.rollup, config.genesis_fee_pubkey, genesis_record)?;
                if start > 0 && record_hash(&l1.stored_record(start, config.deploy_block).await?) != record {
                    return Err(ChallengerError::Store(format!(
                        "{}: its batch {start} is not L1's (another deployment at the same address?)",
                        dir.display()
                    )));
                }
                (Ledger::clone(&store), start, record, Some((store, start)))
            }
        };
        let l2 = config
            .l2_rpc
            .as_deref()
            .map(|url| HttpClientBuilder::default().max_response_size(64 * 1024 * 1024).build(url))
            .transpose()
            .map_err(|e| ChallengerError::Rpc(e.to_string()))?;
        info!(game = %game.address(), bond = %params.challenge_bond, response_window = params.response_window, slots, "challenger watching");
        if start > 0 {
            info!(batch = start, "replica restored from the data directory");
        }
        let mut snapshots = BTreeMap::new();
        snapshots.insert(start, (start_record, ledger.clone()));
        Ok(Self {
            config,
            l1,
            game,
            params,
            slots,
            l2,
            ledger,
            snapshots,
            store,
            unproven_zk: BTreeMap::new(),
            suspect: None,
            status: ChallengerStatus { checked: start, ..ChallengerStatus::default() },
            published: Arc::default(),
        })
    }

    /// The current tally.
    pub fn status(&self) -> ChallengerStatus {
        self.status.clone()
    }

    /// A handle on the tally as of the last step (for [`serve_status`]).
    pub fn status_handle(&self) -> Arc<Mutex<ChallengerStatus>> {
        self.published.clone()
    }

    /// The replica (the state after the last batch judged valid).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// One round: follows reverts, then either pursues the suspect batch or judges the next
    /// committed one. Returns whether anything moved.
    pub async fn step(&mut self) -> Result<bool, ChallengerError> {
        let moved = self.step_once().await;
        if let Ok(mut published) = self.published.lock() {
            *published = self.status.clone();
        }
        moved
    }

    async fn step_once(&mut self) -> Result<bool, ChallengerError> {
        if self.follow_reverts().await? || self.revert_overdue_zk().await? {
            return Ok(true);
        }
        if self.suspect.is_some() {
            return self.pursue().await;
        }
        let number = self.status.checked + 1;
        if number > self.l1.last_committed_batch().await? {
            return Ok(false);
        }
        let Some((batch, origin)) = self.l1.commit_record(number, self.config.deploy_block).await? else { return Ok(false) };
        if record_hash(&batch) != self.l1.batch_record_hash(number).await? {
            // Reverted and not yet committed again: the next round sees the new commit.
            return Ok(false);
        }
        let tx = self
            .l1
            .provider()
            .get_transaction_by_hash(origin.l1_tx)
            .await
            .map_err(|e| L1Error::Rpc(e.to_string()))?
            .ok_or_else(|| L1Error::Unexpected(format!("commit {} of batch {number} not found", origin.l1_tx)))?;
        let (header, public_data) =
            tandem_restore::decode_commit(number, origin.l1_tx, self.config.rollup, tx.to(), tx.input(), &batch.to_sol())?;
        let ops = decode_public_data(&public_data).map_err(|e| ChallengerError::Diverged {
            batch: number,
            reason: format!("L1 accepted public data that does not decode: {e}"),
        })?;
        let verdict = self.judge(&header, &ops, &public_data).await;
        match verdict {
            Verdict::Valid => self.accept(&batch, &header, &ops)?,
            verdict => {
                warn!(batch = number, ?verdict, "batch is not valid: pursuing it");
                self.suspect =
                    Some(Suspect { batch, header, ops, public_data, verdict, first_seen: Instant::now(), challenged: Vec::new() });
            }
        }
        Ok(true)
    }

    /// Runs until `shutdown` resolves; L1 and L2 failures are retried.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), ChallengerError> {
        tokio::pin!(shutdown);
        loop {
            let moved = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                r = self.step() => match r {
                    Ok(moved) => moved,
                    Err(e @ (ChallengerError::L1(L1Error::Rpc(_)) | ChallengerError::Rpc(_))) => {
                        warn!(error = %e, "retrying");
                        false
                    }
                    Err(e) => return Err(e),
                },
            };
            if !moved {
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                }
            }
        }
    }

    /// Judges a committed batch against the replica (which stands right before it).
    pub async fn judge(&self, header: &BatchHeader, ops: &[Op], public_data: &[u8]) -> Verdict {
        let chunk_of = |index: usize| (index / self.slots.max(1)) as u32;
        let all: Vec<u32> = (0..chunk_count(ops.len(), self.slots.max(1)) as u32).collect();
        let Ok(fee_account) = AccountIndex::new(header.fee_account) else {
            return Verdict::Faulty { chunks: all, reason: format!("fee account {} out of range", header.fee_account) };
        };
        // Every rule but signatures, from public data alone.
        let outcome = match self.ledger.clone().apply_public_batch(ops, fee_account) {
            Ok(outcome) => outcome,
            Err(e) => return Verdict::Faulty { chunks: vec![chunk_of(e.index)], reason: format!("op {}: {}", e.index, e.error) },
        };
        let roots: Vec<B256> = outcome.intermediate_roots.iter().map(|r| B256::from(fr_to_be_bytes(r))).collect();
        let new_root = B256::from(fr_to_be_bytes(&outcome.root));
        if intermediate_roots_root(&roots) != header.intermediate_roots_root || new_root != header.new_state_root {
            let block = self.fetch_block(header.batch_number).await;
            // The committed roots are wrong somewhere. With the leaves (if the sequencer serves
            // the ones it committed), the first chunk ending at a wrong root is the one that
            // cannot be proven; without them, every chunk is challenged.
            let leaves = block
                .as_ref()
                .map(|b| &b.intermediate_roots)
                .filter(|l| l.len() == roots.len() && intermediate_roots_root(l) == header.intermediate_roots_root);
            let chunks = match leaves {
                Some(leaves) => {
                    let first_wrong = (0..roots.len()).find(|&i| leaves[i] != roots[i]).unwrap_or(roots.len().saturating_sub(1));
                    vec![chunk_of(first_wrong)]
                }
                None => all,
            };
            return Verdict::Faulty { chunks, reason: format!("committed roots differ from re-execution (new root {new_root})") };
        }
        // The signatures: the served block must be exactly the committed ops, and verify.
        let signed: Vec<u32> = {
            let mut chunks: Vec<u32> = ops
                .iter()
                .enumerate()
                .filter(|(_, op)| matches!(op, Op::Transfer(_) | Op::TransferToNew(_) | Op::Withdraw(_)))
                .map(|(i, _)| chunk_of(i))
                .collect();
            chunks.dedup();
            chunks
        };
        if signed.is_empty() {
            return Verdict::Valid;
        }
        // Only a batch with signed ops needs the served block.
        let block = self.fetch_block(header.batch_number).await;
        let Some(block) = block.filter(|b| b.public_data == public_data) else { return Verdict::Withheld { chunks: signed } };
        let inputs: Vec<LedgerOp> = block.inputs.iter().map(BlockInput::to_ledger_op).collect();
        match self.ledger.clone().apply_batch(&inputs, fee_account) {
            Ok(signed_outcome) if signed_outcome.ops == ops => Verdict::Valid,
            Ok(_) => Verdict::Withheld { chunks: signed },
            Err(e) => Verdict::Faulty { chunks: vec![chunk_of(e.index)], reason: format!("signed op {}: {}", e.index, e.error) },
        }
    }

    async fn fetch_block(&self, number: u64) -> Option<tandem_chain::BlockRecord> {
        let l2 = self.l2.as_ref()?;
        match l2.block(number).await {
            Ok(view) => view.map(|v| v.block),
            Err(e) => {
                warn!(batch = number, error = %e, "L2 RPC did not serve the block");
                None
            }
        }
    }

    /// Applies a valid batch to the replica and snapshots it.
    fn accept(&mut self, batch: &CommittedBatch, header: &BatchHeader, ops: &[Op]) -> Result<(), ChallengerError> {
        let number = batch.batch_number;
        let diverged = |reason: String| ChallengerError::Diverged { batch: number, reason };
        let fee_account = AccountIndex::new(header.fee_account).map_err(|e| diverged(e.to_string()))?;
        let outcome = self.ledger.apply_public_batch(ops, fee_account).map_err(|e| diverged(e.to_string()))?;
        let root = B256::from(fr_to_be_bytes(&outcome.root));
        if root != header.new_state_root {
            return Err(diverged(format!("replica root {root}, committed {}", header.new_state_root)));
        }
        self.snapshots.insert(number, (record_hash(batch), self.ledger.clone()));
        if header.lane == Lane::Zk {
            self.unproven_zk.insert(number, *batch);
        }
        self.status.checked = number;
        info!(batch = number, ops = ops.len(), "batch checked: valid");
        Ok(())
    }

    /// Rolls the replica back when L1 reverted a batch it had checked; prunes snapshots of
    /// final batches. Returns whether it rolled back.
    async fn follow_reverts(&mut self) -> Result<bool, ChallengerError> {
        let last_committed = self.l1.last_committed_batch().await?;
        let mut rolled = false;
        while self.status.checked > 0 {
            let checked = self.status.checked;
            let record = self.snapshots.get(&checked).map(|(r, _)| *r);
            if checked <= last_committed && record == Some(self.l1.batch_record_hash(checked).await?) {
                break;
            }
            self.snapshots.remove(&checked);
            self.status.checked -= 1;
            rolled = true;
        }
        if rolled {
            let checked = self.status.checked;
            self.unproven_zk.retain(|&n, _| n <= checked);
            let (_, ledger) = self
                .snapshots
                .get(&checked)
                .ok_or_else(|| ChallengerError::Diverged { batch: checked, reason: "L1 reverted below the last final batch".into() })?;
            self.ledger = ledger.clone();
            warn!(back_to = checked, "L1 reverted checked batches: replica rolled back");
            return Ok(true);
        }
        let last_final = self.l1.last_finalized_batch().await?.min(self.status.checked);
        self.snapshots = self.snapshots.split_off(&last_final);
        self.save_final(last_final)?;
        Ok(false)
    }

    /// Writes the state after final batch `number` to the data directory, if it has moved.
    fn save_final(&mut self, number: u64) -> Result<(), ChallengerError> {
        let Some((store, saved)) = self.store.as_mut() else { return Ok(()) };
        let Some((record, ledger)) = self.snapshots.get(&number).filter(|_| number > *saved) else { return Ok(()) };
        // Every snapshot descends from the stored state, so its dirty sets cover every
        // change since the last write.
        **store = ledger.clone();
        let value = progress_value(number, *record);
        store
            .persist_with(|txn| {
                txn.open_table(PROGRESS)?.insert(PROGRESS_FINAL, value.as_slice())?;
                Ok(())
            })
            .map_err(store_error)?;
        *saved = number;
        Ok(())
    }

    /// Acts on the suspect batch: waits for its data, challenges, reverts, or accepts it.
    async fn pursue(&mut self) -> Result<bool, ChallengerError> {
        let Some(suspect) = self.suspect.as_mut() else { return Ok(false) };
        let batch = suspect.batch;
        let number = batch.batch_number;
        let live = number <= self.l1.last_committed_batch().await? && self.l1.batch_record_hash(number).await? == record_hash(&batch);
        if !live {
            info!(batch = number, "the suspect batch is no longer committed");
            self.reclaim_bonds().await?;
            self.suspect = None;
            return Ok(true);
        }
        let now = self.l1.latest_timestamp().await?;
        if suspect.header.lane == Lane::Zk {
            if self.l1.is_proven(number).await? {
                return Err(ChallengerError::Diverged { batch: number, reason: "a ZK batch judged not valid was proven".into() });
            }
            if now < batch.committed_at + self.params.zk_proof_deadline {
                return Ok(false);
            }
            self.revert_unproven_zk(&batch).await?;
            self.suspect = None;
            return Ok(true);
        }
        if suspect.challenged.is_empty() {
            if let Verdict::Withheld { .. } = suspect.verdict {
                let (header, ops, public_data) = (suspect.header, suspect.ops.clone(), suspect.public_data.clone());
                let verdict = self.judge(&header, &ops, &public_data).await;
                let Some(suspect) = self.suspect.as_mut() else { return Ok(false) };
                match verdict {
                    Verdict::Valid => {
                        self.suspect = None;
                        self.accept(&batch, &header, &ops)?;
                        return Ok(true);
                    }
                    Verdict::Withheld { .. } if suspect.first_seen.elapsed() < self.config.data_timeout => return Ok(false),
                    verdict => suspect.verdict = verdict,
                }
            }
            return self.challenge_suspect().await;
        }
        // Challenged: revert on the first unanswered challenge past its deadline.
        let challenged = suspect.challenged.clone();
        let mut answered = 0;
        for &chunk in &challenged {
            let challenge = self.game.challenge_of(&batch, chunk).await?;
            if challenge.answered {
                answered += 1;
            } else if challenge.is_open() && now > challenge.deadline {
                let last_kept = self.l1.stored_record(number - 1, self.config.deploy_block).await?;
                let tx = self.game.revert_unanswered(&batch, &last_kept, chunk).await?;
                self.status.reverts += 1;
                info!(batch = number, chunk, l1_tx = %tx, "unanswered: reverted the batch and everything after it");
                self.reclaim_bonds().await?;
                self.suspect = None;
                return Ok(true);
            }
        }
        if answered == challenged.len() {
            self.status.answered += answered as u64;
            let Some(suspect) = self.suspect.take() else { return Ok(false) };
            return match suspect.verdict {
                // Withheld, yet proven: someone had the transactions. The batch stands.
                Verdict::Withheld { .. } => {
                    warn!(batch = number, "every challenged chunk was proven: accepting the batch");
                    self.accept(&batch, &suspect.header, &suspect.ops)?;
                    Ok(true)
                }
                _ => Err(ChallengerError::Diverged { batch: number, reason: "a chunk judged faulty was proven".into() }),
            };
        }
        Ok(false)
    }

    /// Reverts the oldest checked ZK-lane batch still unproven past its proof deadline, with
    /// everything after it (`follow_reverts` then rolls the replica back); forgets proven ones.
    async fn revert_overdue_zk(&mut self) -> Result<bool, ChallengerError> {
        let Some((&number, &batch)) = self.unproven_zk.first_key_value() else { return Ok(false) };
        if self.l1.is_proven(number).await? {
            self.unproven_zk.remove(&number);
            return Ok(true);
        }
        if self.l1.latest_timestamp().await? < batch.committed_at + self.params.zk_proof_deadline {
            return Ok(false);
        }
        warn!(batch = number, deadline = self.params.zk_proof_deadline, "a valid ZK batch went unproven past its deadline");
        self.revert_unproven_zk(&batch).await?;
        self.unproven_zk.remove(&number);
        Ok(true)
    }

    /// Reverts ZK-lane `batch` (past its proof deadline, unproven) and every batch after it.
    async fn revert_unproven_zk(&mut self, batch: &CommittedBatch) -> Result<(), ChallengerError> {
        let number = batch.batch_number;
        let last_kept = self.l1.stored_record(number - 1, self.config.deploy_block).await?;
        let tx = self.game.revert_unproven_zk_batch(batch, &last_kept).await?;
        self.status.reverts += 1;
        info!(batch = number, l1_tx = %tx, "reverted the unproven ZK batch and everything after it");
        Ok(())
    }

    /// Challenges the suspect's chunks (those nobody challenged or proved yet).
    async fn challenge_suspect(&mut self) -> Result<bool, ChallengerError> {
        let Some(suspect) = self.suspect.as_mut() else { return Ok(false) };
        let batch = suspect.batch;
        let chunks = match &suspect.verdict {
            Verdict::Faulty { chunks, .. } | Verdict::Withheld { chunks } => chunks.clone(),
            Verdict::Valid => Vec::new(),
        };
        for chunk in chunks {
            let existing = self.game.challenge_of(&batch, chunk).await?;
            if existing.challenger != Address::ZERO {
                suspect.challenged.push(chunk);
                continue;
            }
            if self.game.chunk_proven(&batch, chunk).await? {
                continue;
            }
            match self.game.challenge(&batch, &suspect.header, chunk, self.params.challenge_bond).await {
                Ok(deadline) => {
                    self.status.challenges += 1;
                    suspect.challenged.push(chunk);
                    info!(batch = batch.batch_number, chunk, deadline, "challenged");
                }
                Err(L1Error::Reverted(ContractRevert::Game(e))) => {
                    error!(batch = batch.batch_number, chunk, error = ?e, "challenge refused");
                    return Err(ChallengerError::Diverged {
                        batch: batch.batch_number,
                        reason: format!("challenge of chunk {chunk} refused: {e:?}"),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// Reclaims this challenger's unanswered bonds on the suspect batch (once it is no
    /// longer live) and withdraws what the game owes it.
    async fn reclaim_bonds(&mut self) -> Result<(), ChallengerError> {
        let me = self.config.key.address();
        if let Some(suspect) = &self.suspect {
            for &chunk in &suspect.challenged {
                let c = self.game.challenge_of(&suspect.batch, chunk).await?;
                if c.challenger == me && !c.answered && !c.refunded {
                    self.game.reclaim_bond(&suspect.batch, chunk).await?;
                    self.status.bonds_reclaimed += 1;
                }
            }
        }
        if self.game.owed(me).await? > tandem_l1::U256::ZERO {
            let tx = self.game.withdraw().await?;
            info!(l1_tx = %tx, "withdrew the bonds owed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LedgerConfig {
        LedgerConfig { chain_id: 5, tree_depth: 4, chunk_size: std::num::NonZeroUsize::new(2) }
    }

    fn fee_key() -> PackedPubKey {
        tandem_crypto::PrivateKey::from_seed([4; 32]).public_key().pack()
    }

    #[test]
    fn a_new_directory_starts_at_genesis_and_reopens_there() {
        let dir = tempfile::tempdir().unwrap();
        let rollup = Address::repeat_byte(1);
        let genesis = B256::repeat_byte(2);
        let (store, number, record) = open_store(dir.path(), config(), rollup, fee_key(), genesis).unwrap();
        assert_eq!((number, record), (0, genesis));
        let root = store.root();
        assert_eq!(root, genesis_ledger(config(), fee_key()).unwrap().root(), "the genesis state");
        drop(store);
        let (store, number, record) = open_store(dir.path(), config(), rollup, fee_key(), B256::repeat_byte(9)).unwrap();
        assert_eq!((number, record, store.root()), (0, genesis, root), "reopened as stored, not started again");
    }

    #[test]
    fn another_rollups_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open_store(dir.path(), config(), Address::repeat_byte(1), fee_key(), B256::ZERO).unwrap());
        let refused = open_store(dir.path(), config(), Address::repeat_byte(3), fee_key(), B256::ZERO).map(|_| ()).unwrap_err();
        assert!(refused.to_string().contains("another rollup's replica"), "{refused}");
    }

    #[test]
    fn a_directory_of_another_chain_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open_store(dir.path(), config(), Address::repeat_byte(1), fee_key(), B256::ZERO).unwrap());
        let other = LedgerConfig { chain_id: 6, ..config() };
        let refused = open_store(dir.path(), other, Address::repeat_byte(1), fee_key(), B256::ZERO).map(|_| ()).unwrap_err();
        assert!(refused.to_string().contains("chain id"), "{refused}");
    }
}
