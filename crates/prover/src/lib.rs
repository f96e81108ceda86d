//! The prover role: follows the chain block by block from a sequencer's RPC (which serves
//! each block's signed inputs), keeps its own replica of the state, and for every ZK-lane
//! batch committed on L1 builds the circuit witness from its replica, proves it, and submits
//! the proof with its own L1 key (the proof binds that address).
//!
//! The proving core ([`prove_batch`]: ledger state + block inputs → Solidity-ready proof) is
//! a library function so that the prover market can reuse it.

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tandem_api::TandemApiClient;
use std::time::{Duration, Instant};
use tandem_circuit::prover::ProvingKeys;
use tandem_chain::{BlockInput, BlockRecord, GenesisError, Lane, FEE_ACCOUNT};
use tandem_l1::{Address, PrivateKeySigner, RollupClient, B256};
use tandem_state::{Ledger, LedgerOp};
use tandem_types::{AccountIndex, L1Address};
use tracing::{info, warn};

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
    /// Also prove optimistic batches that fit the circuit, so that they are final before
    /// their window (and fast withdrawals after them need not wait).
    pub prove_optimistic: bool,
    /// Polling interval.
    pub poll_interval: Duration,
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
    let start = Instant::now();
    let (witness, _) =
        tandem_state::witness::batch_witness(ledger, inputs, fee_account, keys.slots).map_err(|e| ProveError::Witness(e.to_string()))?;
    let proof = tandem_circuit::prover::prove_batch(keys, &witness, prover).map_err(|e| ProveError::Proof(e.to_string()))?;
    let [prev_root, new_root, data_hash, _] = proof.inputs_be().map(B256::from);
    Ok(BatchProof { words: proof.words, prev_root, new_root, data_hash, elapsed: start.elapsed() })
}

/// The prover's state: its replica and connections.
pub struct Prover {
    config: ProverConfig,
    keys: ProvingKeys,
    ledger: Ledger,
    l2: HttpClient,
    l1: RollupClient,
}

impl Prover {
    /// Connects and starts a replica at genesis.
    pub fn new(config: ProverConfig, keys: ProvingKeys) -> Result<Self, ProverError> {
        if keys.chain_id != config.chain_id || keys.depth != config.tree_depth {
            return Err(ProverError::Config(format!(
                "keys are for chain {} depth {}, the chain is {} depth {}",
                keys.chain_id, keys.depth, config.chain_id, config.tree_depth
            )));
        }
        let ledger = tandem_chain::genesis_ledger(config.chain_id, config.tree_depth, config.genesis_fee_pubkey)?;
        let l2 = HttpClientBuilder::default()
            .max_response_size(64 * 1024 * 1024)
            .build(&config.l2_rpc)?;
        let l1 = RollupClient::new(&config.l1_rpc, config.rollup, Some(config.prover_key.clone()))?;
        Ok(Self { config, keys, ledger, l2, l1 })
    }

    /// Number of blocks the replica has applied.
    pub fn height(&self) -> u64 {
        self.ledger.batches_applied()
    }

    async fn fetch_block(&self, number: u64) -> Result<Option<BlockRecord>, ProverError> {
        Ok(self.l2.block(number).await?.map(|view| view.block))
    }

    /// Follows one step: applies the next block if there is one, proving it first if it is
    /// a ZK-lane batch that L1 has committed and nobody has proven. Returns whether it
    /// advanced.
    pub async fn step(&mut self) -> Result<bool, ProverError> {
        let number = self.height() + 1;
        let Some(block) = self.fetch_block(number).await? else { return Ok(false) };
        let inputs: Vec<LedgerOp> = block.inputs.iter().map(BlockInput::to_ledger_op).collect();
        let fee_account = AccountIndex::new(FEE_ACCOUNT).expect("0 is an index");
        let wanted = match block.lane {
            Lane::Zk => true,
            // Proving an optimistic batch makes it final before its window: what keeps a
            // later fast withdrawal from waiting for an older window.
            Lane::Optimistic => self.config.prove_optimistic && block.op_count as usize <= self.keys.slots,
        };
        if wanted {
            if self.l1.last_committed_batch().await? < number {
                return Ok(false);
            }
            // What L1 committed is what gets proven: the sequencer's block must agree with it.
            let committed = self.l1.committed_batch(number, 0).await?.ok_or_else(|| ProverError::Diverged {
                block: number,
                reason: "L1 says committed but has no BatchCommitted event".into(),
            })?;
            if committed.new_state_root != block.state_root {
                return Err(ProverError::Diverged {
                    block: number,
                    reason: format!("L1 committed root {}, the sequencer's block says {}", committed.new_state_root, block.state_root),
                });
            }
            if self.l1.is_proven(number).await? || self.l1.last_finalized_batch().await? >= number {
                info!(batch = number, "already proven or final");
            } else {
                let prover = L1Address(self.config.prover_key.address().0 .0);
                let ledger = self.ledger.clone();
                let keys = self.keys.clone();
                let batch_inputs = inputs.clone();
                let proof = tokio::task::spawn_blocking(move || prove_batch(&keys, &ledger, &batch_inputs, fee_account, prover))
                    .await
                    .map_err(|e| ProverError::Proving { batch: number, reason: e.to_string() })?
                    .map_err(|e| ProverError::Proving { batch: number, reason: e.to_string() })?;
                info!(batch = number, lane = ?block.lane, seconds = proof.elapsed.as_secs_f64(), "proved");
                let submitted = match block.lane {
                    Lane::Zk => self.l1.prove_batch(number, proof.prev_root, proof.new_root, proof.data_hash, proof.words).await,
                    Lane::Optimistic => {
                        self.l1.prove_optimistic_batch(&committed, &block.batch_header(), &block.public_data, proof.words).await
                    }
                };
                match submitted {
                    Ok(tx) => info!(batch = number, l1_tx = %tx, "proof accepted on L1"),
                    Err(e) if self.l1.is_proven(number).await.unwrap_or(false) => {
                        info!(batch = number, error = %e, "another prover was first")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let outcome = self
            .ledger
            .apply_batch(&inputs, fee_account)
            .map_err(|e| ProverError::Diverged { block: number, reason: e.to_string() })?;
        let root = B256::from(tandem_crypto::field::fr_to_be_bytes(&outcome.root));
        if root != block.state_root {
            return Err(ProverError::Diverged { block: number, reason: format!("root {root}, block says {}", block.state_root) });
        }
        Ok(true)
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
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                }
            }
        }
    }
}
