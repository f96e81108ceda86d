//! The prover role, a miner in the prover market: follows the chain block by block from a
//! sequencer's RPC (which serves each block's signed inputs), keeps its own replica of the
//! state, and for every batch committed on L1 that it proves (ZK lane, optionally optimistic
//! batches that fit the circuit) decides from the market's price whether the job pays its
//! cost ([`miner`]), locks it with collateral, builds the witness from the state before the
//! batch, proves it, and submits the proof with its own L1 key (the proof binds that
//! address, and the market pays that address).
//!
//! On a rollup with a dispute game (SPEC §17) optimistic batches are proven chunk by chunk
//! through the game: the prover answers every open challenge of a chunk it can prove (an
//! honest batch's; the challenger's bond pays it), and with `prove_optimistic` proves every
//! chunk of every optimistic batch, which makes it final before its window.
//!
//! The proving core ([`prove_batch`]: ledger state + block inputs → Solidity-ready proof) is
//! a library function; [`measure_proving`] times it at start.

pub mod miner;
pub mod status;

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_api::TandemApiClient;
use tandem_chain::{chunk_boundary, chunk_count, BlockInput, BlockRecord, GenesisError, Lane, FEE_ACCOUNT};
use tandem_circuit::prover::{CpuBackend, ObservedBackend, ProverBackend, ProvingKeys, ProvingStage, MSMS_PER_PROOF};
use tandem_l1::{
    Address, CommittedBatch, ContractRevert, DisputeClient, L1Error, MarketClient, PrivateKeySigner, RollupClient, B256, U256,
};
use tandem_state::{Ledger, LedgerOp};
use tandem_types::{AccountIndex, L1Address};
use tracing::{info, warn};

use crate::miner::{job_cost, job_standing, JobStanding, MinerBooks, MinerPolicy, MinerStatus};

/// Why the prover stopped or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The sequencer RPC failed, or served something that is not a block.
    #[error("L2 RPC: {0}")]
    Rpc(#[from] jsonrpsee::core::ClientError),
    /// L1 failed.
    #[error("L1: {0}")]
    L1(#[from] tandem_l1::L1Error),
    /// The block's inputs do not apply to our replica, or lead to another root.
    #[error("replica diverged at block {block}: {reason}")]
    Diverged {
        /// Block number.
        block: u64,
        /// What differed.
        reason: String,
    },
    /// Witness or proof generation failed.
    #[error("proving batch {batch}: {reason}")]
    Proving {
        /// Batch number.
        batch: u64,
        /// What failed.
        reason: String,
    },
    /// Bad configuration or key files.
    #[error("configuration: {0}")]
    Config(String),
    /// The chain's genesis state cannot be built from the configuration.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
}

/// Why the proving core failed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The inputs do not apply to the ledger, or do not fit the circuit.
    #[error("witness: {0}")]
    Witness(String),
    /// Groth16 proving failed.
    #[error("proof: {0}")]
    Proof(String),
}

/// Everything the prover needs.
#[derive(Debug, Clone)]
pub struct ProverConfig {
    /// Sequencer JSON-RPC URL (block inputs).
    pub l2_rpc: String,
    /// L1 JSON-RPC URL.
    pub l1_rpc: String,
    /// Rollup contract.
    pub rollup: Address,
    /// The prover's L1 key (pays for and is bound into its proofs).
    pub prover_key: PrivateKeySigner,
    /// Chain id, tree depth and genesis fee key of the chain (its genesis state).
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Owner key of account 0 at genesis.
    pub genesis_fee_pubkey: tandem_types::PackedPubKey,
    /// Also prove optimistic batches, so that they are final before their window (and fast
    /// withdrawals after them need not wait): through the dispute game chunk by chunk where
    /// the rollup has one, else those that fit the circuit.
    pub prove_optimistic: bool,
    /// Polling interval.
    pub poll_interval: Duration,
    /// How the miner prices and takes market jobs.
    pub policy: MinerPolicy,
    /// TEST ONLY: after taking a lock, stop working (hold the lock until killed), so a test
    /// can kill a prover that holds a lock.
    pub test_stall_after_lock: bool,
}

/// A proof ready for `proveBatch`: the circuit's proof and public inputs as L1 takes them.
#[derive(Debug, Clone)]
pub struct BatchProof {
    /// `uint256[8]` words, big-endian.
    pub words: [[u8; 32]; 8],
    /// State root before the batch (big-endian).
    pub prev_root: B256,
    /// State root after the batch.
    pub new_root: B256,
    /// The data commitment (SPEC §10).
    pub data_hash: B256,
    /// Wall time of witness generation plus proving.
    pub elapsed: Duration,
}

/// The proving core: proves the batch made of `inputs` applied to `ledger` (not modified),
/// for `prover`, with `keys`.
pub fn prove_batch(
    keys: &ProvingKeys,
    ledger: &Ledger,
    inputs: &[LedgerOp],
    fee_account: AccountIndex,
    prover: L1Address,
) -> Result<BatchProof, ProveError> {
    prove_batch_observed(keys, ledger, inputs, fee_account, prover, &|_, _| {})
}

/// [`prove_batch`] reporting each finished stage (witness, FFTs, each MSM) to `on_stage`.
pub fn prove_batch_observed(
    keys: &ProvingKeys,
    ledger: &Ledger,
    inputs: &[LedgerOp],
    fee_account: AccountIndex,
    prover: L1Address,
    on_stage: &(dyn Fn(ProofProgress, Duration) + Sync),
) -> Result<BatchProof, ProveError> {
    let start = Instant::now();
    let (witness, _) =
        tandem_state::witness::batch_witness(ledger, inputs, fee_account, keys.slots).map_err(|e| ProveError::Witness(e.to_string()))?;
    on_stage(ProofProgress::Witness, start.elapsed());
    let forward = |stage, elapsed| on_stage(ProofProgress::Groth16(stage), elapsed);
    let backend = ObservedBackend::new(&CpuBackend, &forward);
    let proof =
        tandem_circuit::prover::prove_batch_with(&backend, keys, &witness, prover, None).map_err(|e| ProveError::Proof(e.to_string()))?;
    let [prev_root, new_root, data_hash, _] = proof.inputs_be().map(B256::from);
    Ok(BatchProof { words: proof.words, prev_root, new_root, data_hash, elapsed: start.elapsed() })
}

/// A finished step of one proof (for the live progress line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofProgress {
    /// The circuit witness was built from the replica.
    Witness,
    /// A Groth16 stage (FFTs, or one of the MSMs).
    Groth16(ProvingStage),
}

impl std::fmt::Display for ProofProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Witness => write!(f, "witness"),
            Self::Groth16(ProvingStage::Ffts) => write!(f, "FFTs"),
            Self::Groth16(ProvingStage::Msm { done }) => write!(f, "MSM {done}/{MSMS_PER_PROOF}"),
        }
    }
}

/// Times one proof of an empty batch on the genesis state of the keys' chain: the miner's
/// measured proving speed. The circuit has a fixed number of op slots, so every job of these
/// keys costs the same proving time whatever its op count.
pub fn measure_proving(keys: &ProvingKeys, genesis: &Ledger, prover: L1Address) -> Result<Duration, ProveError> {
    let fee_account = AccountIndex::new(FEE_ACCOUNT).expect("0 is an index");
    Ok(prove_batch(keys, genesis, &[], fee_account, prover)?.elapsed)
}

/// A batch this prover may prove: the state before it, its inputs, and what L1 committed.
#[derive(Clone)]
struct PendingJob {
    number: u64,
    block: BlockRecord,
    inputs: Vec<LedgerOp>,
    before: Ledger,
    committed: CommittedBatch,
}

/// Batches kept waiting for a proof at most (locked by others, or not paying yet); the
/// replica stops following until one is settled.
const MAX_PENDING: usize = 64;

/// What to do with one pending job now.
enum Action {
    /// Prove it (no market job, our lock, or a race start).
    Prove,
    /// Lock it with this collateral, then prove it.
    Lock(U256),
    /// Prove these chunks of an optimistic batch through the dispute game.
    ProveChunks(Vec<u32>),
    /// Leave it for now.
    Wait,
    /// Someone proved it or it is final: forget it.
    Drop,
}

/// The prover's state: its replica, pending jobs, connections and books.
pub struct Prover {
    config: ProverConfig,
    keys: ProvingKeys,
    ledger: Ledger,
    pending: VecDeque<PendingJob>,
    l2: HttpClient,
    l1: RollupClient,
    market: Option<(MarketClient, tandem_l1::MarketParams)>,
    /// The rollup's dispute game, if it has one.
    game: Option<DisputeClient>,
    seconds_per_proof: f64,
    books: Arc<Mutex<MinerBooks>>,
    /// Market job ids whose lock of ours expired unproven (counted once each).
    expired_locks: HashSet<u64>,
}

impl Prover {
    /// Connects, finds the rollup's market, starts a replica at genesis and measures the
    /// proving speed with one proof.
    pub async fn new(config: ProverConfig, keys: ProvingKeys) -> Result<Self, ProverError> {
        if keys.chain_id != config.chain_id || keys.depth != config.tree_depth {
            return Err(ProverError::Config(format!(
                "keys are for chain {} depth {}, the chain is {} depth {}",
                keys.chain_id, keys.depth, config.chain_id, config.tree_depth
            )));
        }
        CpuBackend.prepare(&keys).map_err(|e| ProverError::Config(e.to_string()))?;
        let l2 = HttpClientBuilder::default().max_response_size(64 * 1024 * 1024).build(&config.l2_rpc)?;
        let l1 = RollupClient::new(&config.l1_rpc, config.rollup, Some(config.prover_key.clone()))?;
        let zk_slots = l1.zk_slots().await?;
        if zk_slots as usize != keys.slots {
            return Err(ProverError::Config(format!("keys have {} slots, the rollup's verifier {zk_slots}", keys.slots)));
        }
        let ledger = tandem_chain::genesis_ledger(keys.ledger_config(), config.genesis_fee_pubkey)?;
        let market = match l1.market().await? {
            Some(address) => {
                let client = MarketClient::new(&config.l1_rpc, address, Some(config.prover_key.clone()))?;
                let params = client.params().await?;
                info!(market = %address, ?params, "the rollup has a prover market");
                Some((client, params))
            }
            None => None,
        };
        let me = L1Address(config.prover_key.address().0 .0);
        let (k, g) = (keys.clone(), ledger.clone());
        let elapsed = tokio::task::spawn_blocking(move || measure_proving(&k, &g, me))
            .await
            .map_err(|e| ProverError::Proving { batch: 0, reason: e.to_string() })?
            .map_err(|e| ProverError::Proving {
                batch: 0,
                reason: format!("measuring the proving speed on an empty batch (which only keys of another circuit fail): {e}"),
            })?;
        let game = match l1.dispute_game().await? {
            Some(address) => {
                info!(game = %address, "the rollup has a dispute game: answering chunk challenges");
                Some(DisputeClient::new(&config.l1_rpc, address, Some(config.prover_key.clone()))?)
            }
            None => None,
        };
        let seconds_per_proof = elapsed.as_secs_f64();
        info!(seconds_per_proof, slots = keys.slots, threads = rayon_threads(), "measured proving speed");
        let mut books = MinerBooks::new(config.prover_key.address().to_string(), config.policy.lock && market.is_some());
        books.status.seconds_per_proof = seconds_per_proof;
        books.status.earned_wei = "0".into();
        books.status.collateral_at_risk_wei = "0".into();
        Ok(Self {
            config,
            keys,
            ledger,
            pending: VecDeque::new(),
            l2,
            l1,
            market,
            game,
            seconds_per_proof,
            books: Arc::new(Mutex::new(books)),
            expired_locks: HashSet::new(),
        })
    }

    /// Number of blocks the replica has applied.
    pub fn height(&self) -> u64 {
        self.ledger.batches_applied()
    }

    /// Batches waiting for a proof (by this prover or another).
    pub fn pending_jobs(&self) -> usize {
        self.pending.len()
    }

    /// A handle on the miner's books, for the status endpoint.
    pub fn books(&self) -> Arc<Mutex<MinerBooks>> {
        self.books.clone()
    }

    /// The current tally.
    pub fn status(&self) -> MinerStatus {
        self.books.lock().map(|b| b.snapshot()).unwrap_or_default()
    }

    fn tally(&self, update: impl FnOnce(&mut MinerStatus)) {
        if let Ok(mut books) = self.books.lock() {
            update(&mut books.status);
        }
    }

    async fn fetch_block(&self, number: u64) -> Result<Option<BlockRecord>, ProverError> {
        Ok(self.l2.block(number).await?.map(|view| view.block))
    }

    fn wants(&self, block: &BlockRecord) -> bool {
        match block.lane {
            Lane::Zk => true,
            // With a game, every optimistic batch may be challenged until it is final.
            Lane::Optimistic if self.game.is_some() => true,
            // Proving an optimistic batch makes it final before its window: what keeps a
            // later fast withdrawal from waiting for an older window.
            Lane::Optimistic => self.config.prove_optimistic && block.op_count as usize <= self.keys.slots,
        }
    }

    /// The chunks of optimistic batch `job` to prove through the game now: every unproven
    /// one with `prove_optimistic`, else those with an open challenge still answerable.
    async fn chunks_to_prove(&self, game: &DisputeClient, job: &PendingJob) -> Result<Vec<u32>, ProverError> {
        let count = chunk_count(job.block.op_count as usize, self.keys.slots) as u32;
        let now = self.l1.latest_timestamp().await?;
        let mut chunks = Vec::new();
        for chunk in 0..count {
            if game.chunk_proven(&job.committed, chunk).await? {
                continue;
            }
            let challenge = game.challenge_of(&job.committed, chunk).await?;
            if self.config.prove_optimistic || (challenge.is_open() && now <= challenge.deadline) {
                chunks.push(chunk);
            }
        }
        Ok(chunks)
    }

    /// Applies the next block to the replica; a batch this prover wants becomes a pending
    /// job first (with the state before it), once L1 has committed it. Returns whether it
    /// advanced.
    async fn follow(&mut self) -> Result<bool, ProverError> {
        if self.pending.len() >= MAX_PENDING {
            return Ok(false);
        }
        let number = self.height() + 1;
        let Some(block) = self.fetch_block(number).await? else { return Ok(false) };
        let inputs: Vec<LedgerOp> = block.inputs.iter().map(BlockInput::to_ledger_op).collect();
        let fee_account = AccountIndex::new(FEE_ACCOUNT).expect("0 is an index");
        if self.wants(&block) {
            if self.l1.last_committed_batch().await? < number {
                return Ok(false);
            }
            // What L1 committed is what gets proven: the sequencer's block must agree with it.
            let committed = self.l1.committed_batch(number, 0).await?.ok_or_else(|| ProverError::Diverged {
                block: number,
                reason: "L1 says committed but has no BatchCommitted event".into(),
            })?;
            if committed.header_hash != block.batch_header().hash() {
                // Someone committed another batch of this number under the sequencer's
                // authority (a forged one): the dispute game reverts it, then the sequencer
                // commits its own again.
                warn!(batch = number, "L1 holds a batch the sequencer did not produce: waiting for its revert");
                return Ok(false);
            }
            if committed.new_state_root != block.state_root {
                return Err(ProverError::Diverged {
                    block: number,
                    reason: format!("L1 committed root {}, the sequencer's block says {}", committed.new_state_root, block.state_root),
                });
            }
            self.pending.push_back(PendingJob {
                number,
                block: block.clone(),
                inputs: inputs.clone(),
                before: self.ledger.clone(),
                committed,
            });
        }
        let outcome =
            self.ledger.apply_batch(&inputs, fee_account).map_err(|e| ProverError::Diverged { block: number, reason: e.to_string() })?;
        let root = B256::from(tandem_crypto::field::fr_to_be_bytes(&outcome.root));
        if root != block.state_root {
            return Err(ProverError::Diverged { block: number, reason: format!("root {root}, block says {}", block.state_root) });
        }
        Ok(true)
    }

    /// What to do with pending batch `number` now (reads L1 and the market).
    async fn decide(&mut self, index: usize) -> Result<Action, ProverError> {
        let number = self.pending[index].number;
        if self.l1.last_finalized_batch().await? >= number {
            return Ok(Action::Drop);
        }
        if self.l1.batch_record_hash(number).await? != tandem_l1::record_hash(&self.pending[index].committed) {
            // Reverted: once the sequencer commits this block again, prove that commit.
            let ours = self.pending[index].block.batch_header().hash();
            match self.l1.committed_batch(number, 0).await? {
                Some(again) if again.header_hash == ours && self.l1.last_committed_batch().await? >= number => {
                    info!(batch = number, "committed again after a revert");
                    self.pending[index].committed = again;
                }
                _ => return Ok(Action::Wait),
            }
        }
        if self.l1.is_proven(number).await? {
            return Ok(Action::Drop);
        }
        if let (Lane::Optimistic, Some(game)) = (self.pending[index].block.lane, &self.game) {
            let chunks = self.chunks_to_prove(game, &self.pending[index]).await?;
            return Ok(if chunks.is_empty() { Action::Wait } else { Action::ProveChunks(chunks) });
        }
        let Some((market, params)) = &self.market else { return Ok(Action::Prove) };
        let me = self.config.prover_key.address();
        let Some(market_job) = market.job(number).await? else { return Ok(Action::Prove) };
        let now = self.l1.latest_timestamp().await?;
        let standing = job_standing(&market_job, me, now);
        if matches!(standing, JobStanding::Expired | JobStanding::Lockable)
            && market_job.locker == me
            && self.expired_locks.insert(market_job.job_id)
        {
            // Our own lock ran out before the proof landed: its collateral is lost.
            self.tally(|s| s.locks_expired += 1);
        }
        match standing {
            JobStanding::Settled => return Ok(Action::Drop),
            JobStanding::Unpaid | JobStanding::Expired | JobStanding::OurLock => return Ok(Action::Prove),
            JobStanding::TheirLock => return Ok(Action::Wait),
            JobStanding::Lockable => {}
        }
        let gas_price = market.gas_price().await?;
        let collateral = market.required_collateral(number).await?;
        let lock_window = Duration::from_secs(params.lock_timeout.min(market_job.deadline.saturating_sub(now)));
        let cost = job_cost(&self.config.policy, self.seconds_per_proof, gas_price, collateral, lock_window);
        if self.config.policy.lock {
            let price = market.price_at(number, now).await?;
            Ok(if price >= cost { Action::Lock(collateral) } else { Action::Wait })
        } else {
            let finish = now + self.seconds_per_proof.ceil() as u64;
            let price = market.price_at(number, finish).await?;
            Ok(if price >= cost { Action::Prove } else { Action::Wait })
        }
    }

    /// Works on the pending jobs in order: drops the settled ones and proves at most one.
    /// Returns whether it proved or dropped something.
    async fn work(&mut self) -> Result<bool, ProverError> {
        let mut index = 0;
        let mut changed = false;
        while index < self.pending.len() {
            let number = self.pending[index].number;
            match self.decide(index).await? {
                Action::Drop => {
                    self.pending.remove(index);
                    changed = true;
                    continue;
                }
                Action::Wait => index += 1,
                Action::ProveChunks(chunks) => {
                    let job = self.pending[index].clone();
                    self.prove_chunks(&job, &chunks).await?;
                    return Ok(true);
                }
                Action::Prove => {
                    // The job (with its replica state) is copied only to prove it.
                    let job = self.pending[index].clone();
                    self.prove_and_submit(&job).await?;
                    return Ok(true);
                }
                Action::Lock(collateral) => {
                    let Some((market, _)) = &self.market else { return Ok(changed) };
                    match market.lock(number, collateral).await {
                        Ok(tx) => {
                            info!(batch = number, collateral = %collateral, l1_tx = %tx, "locked the job");
                            self.tally(|s| {
                                s.locks_taken += 1;
                                s.collateral_at_risk_wei = collateral.to_string();
                            });
                            if self.config.test_stall_after_lock {
                                warn!(batch = number, "TEST ONLY: holding the lock without proving");
                                std::future::pending::<()>().await;
                            }
                            let job = self.pending[index].clone();
                            self.prove_and_submit(&job).await?;
                            return Ok(true);
                        }
                        Err(L1Error::Reverted(ContractRevert::Market(e))) => {
                            info!(batch = number, error = ?e, "lock lost to another prover");
                            self.tally(|s| s.locks_lost += 1);
                            index += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(changed)
    }

    async fn prove_and_submit(&mut self, job: &PendingJob) -> Result<(), ProverError> {
        let number = job.number;
        let prover = L1Address(self.config.prover_key.address().0 .0);
        let (keys, ledger, inputs) = (self.keys.clone(), job.before.clone(), job.inputs.clone());
        let fee_account = AccountIndex::new(FEE_ACCOUNT).expect("0 is an index");
        let started = Instant::now();
        let proof = tokio::task::spawn_blocking(move || {
            let progress = move |stage: ProofProgress, elapsed: Duration| {
                info!(batch = number, stage = %stage, seconds = elapsed.as_secs_f64(), "proving");
            };
            prove_batch_observed(&keys, &ledger, &inputs, fee_account, prover, &progress)
        })
        .await
        .map_err(|e| ProverError::Proving { batch: number, reason: e.to_string() })?
        .map_err(|e| ProverError::Proving { batch: number, reason: e.to_string() })?;
        let seconds = started.elapsed().as_secs_f64();
        self.tally(|s| {
            s.proofs_computed += 1;
            s.proving_seconds += seconds;
        });
        info!(batch = number, lane = ?job.block.lane, seconds, "proved");
        let submitted = match job.block.lane {
            Lane::Zk => self.l1.prove_batch(number, proof.prev_root, proof.new_root, proof.data_hash, proof.words).await,
            Lane::Optimistic => {
                self.l1.prove_optimistic_batch(&job.committed, &job.block.batch_header(), &job.block.public_data, proof.words).await
            }
        };
        match submitted {
            Ok(tx) => {
                info!(batch = number, l1_tx = %tx, "proof accepted on L1");
                self.tally(|s| {
                    s.wins += 1;
                    s.collateral_at_risk_wei = "0".into();
                });
            }
            Err(L1Error::Reverted(e)) => {
                warn!(batch = number, error = %e, "proof refused: the work is wasted");
                self.tally(|s| {
                    s.wasted += 1;
                    s.collateral_at_risk_wei = "0".into();
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.refresh_earnings().await;
        Ok(())
    }

    /// Proves `chunks` of optimistic batch `job` and submits each to the dispute game: the
    /// state at a chunk's start is the batch's first `k·S` inputs applied to the state
    /// before it (the chain settles fees per chunk, so it is exactly the committed
    /// intermediate root there, checked).
    async fn prove_chunks(&mut self, job: &PendingJob, chunks: &[u32]) -> Result<(), ProverError> {
        let Some(game) = self.game.clone() else { return Ok(()) };
        let number = job.number;
        let slots = self.keys.slots;
        let prover = L1Address(self.config.prover_key.address().0 .0);
        let fee_account = AccountIndex::new(FEE_ACCOUNT).expect("0 is an index");
        let header = job.block.batch_header();
        // The state at the next chunk's start, advanced chunk by chunk (`chunks` ascend), so
        // the batch's inputs are applied once however many chunks are proven.
        let (mut state, mut applied) = (job.before.clone(), 0);
        for &chunk in chunks {
            let diverged = |reason: String| ProverError::Diverged { block: number, reason };
            let boundary = chunk_boundary(job.block.prev_state_root, &job.block.intermediate_roots, chunk as usize, slots)
                .ok_or_else(|| diverged(format!("chunk {chunk} out of range")))?;
            let first = chunk as usize * slots;
            let last = (first + slots).min(job.inputs.len());
            // Only the inputs from the state's position to the chunk's end go to the task;
            // the chunk is `rest[skip..]`.
            let (keys, rest, skip) = (self.keys.clone(), job.inputs[applied..last].to_vec(), first - applied);
            let started = Instant::now();
            let (at_chunk, proof) = tokio::task::spawn_blocking(move || {
                if skip > 0 {
                    state.apply_batch(&rest[..skip], fee_account).map_err(|e| ProveError::Witness(e.to_string()))?;
                }
                let progress = move |stage: ProofProgress, elapsed: Duration| {
                    info!(batch = number, chunk, stage = %stage, seconds = elapsed.as_secs_f64(), "proving");
                };
                let proof = prove_batch_observed(&keys, &state, &rest[skip..], fee_account, prover, &progress)?;
                Ok::<_, ProveError>((state, proof))
            })
            .await
            .map_err(|e| ProverError::Proving { batch: number, reason: e.to_string() })?
            .map_err(|e| ProverError::Proving { batch: number, reason: format!("chunk {chunk}: {e}") })?;
            (state, applied) = (at_chunk, first);
            if (proof.prev_root, proof.new_root) != (boundary.start_root, boundary.end_root) {
                return Err(diverged(format!(
                    "chunk {chunk} goes from {} to {}, the committed roots are {} and {}",
                    proof.prev_root, proof.new_root, boundary.start_root, boundary.end_root
                )));
            }
            let seconds = started.elapsed().as_secs_f64();
            self.tally(|s| {
                s.proofs_computed += 1;
                s.proving_seconds += seconds;
            });
            info!(batch = number, chunk, seconds, "proved chunk");
            match game.prove_chunk(&job.committed, &header, &job.block.public_data, chunk, &boundary, proof.words).await {
                Ok(tx) => {
                    info!(batch = number, chunk, l1_tx = %tx, "chunk proof accepted by the dispute game");
                    self.tally(|s| s.wins += 1);
                }
                Err(L1Error::Reverted(e)) => {
                    warn!(batch = number, chunk, error = %e, "chunk proof refused: the work is wasted");
                    self.tally(|s| s.wasted += 1);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn refresh_earnings(&self) {
        if let Some((market, _)) = &self.market {
            match market.earned(self.config.prover_key.address()).await {
                Ok(earned) => self.tally(|s| s.earned_wei = earned.to_string()),
                Err(e) => warn!(error = %e, "reading earnings"),
            }
        }
    }

    /// One round: follows the chain as far as it can, then works on the pending jobs.
    /// Returns whether anything moved.
    pub async fn step(&mut self) -> Result<bool, ProverError> {
        let mut advanced = false;
        while self.follow().await? {
            advanced = true;
        }
        Ok(self.work().await? || advanced)
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), ProverError> {
        tokio::pin!(shutdown);
        loop {
            let advanced = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                r = self.step() => match r {
                    Ok(a) => a,
                    Err(e @ (ProverError::Rpc(_) | ProverError::L1(_))) => {
                        warn!(error = %e, "retrying");
                        false
                    }
                    Err(e) => return Err(e),
                },
            };
            if !advanced {
                // Earnings also change without our own proof landing in this process (a
                // receipt that timed out, a slashed lock's pool): idle rounds re-read them.
                self.refresh_earnings().await;
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                }
            }
        }
    }
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}
