//! A client of the `DisputeGame` (SPEC §17): what a challenger and a prover send (a chunk
//! challenge with its bond, a chunk proof, a revert of an unanswered challenge, a payout) and
//! what they read back (challenges, proven chunks, what is owed).

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use tandem_chain::{BatchHeader, ChunkBoundary};

use crate::bindings::dispute::{DisputeGame, TandemRollup as GameAbi};
use crate::client::{confirm, connect, receipt_event, CommittedBatch, L1Error};
use crate::commitments::{binding_stored, to_game_sol};
use crate::revert::ContractRevert;

/// A failed call to the game: a revert decoded with the game's ABI first.
fn contract_error(e: alloy::contract::Error) -> L1Error {
    match e.as_revert_data() {
        Some(data) => L1Error::Reverted(ContractRevert::decode_game(&data)),
        None => L1Error::Rpc(e.to_string()),
    }
}

/// The game's immutable parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameParams {
    /// Wei a challenge locks (exactly).
    pub challenge_bond: U256,
    /// Seconds a challenged chunk has for its proof.
    pub response_window: u64,
    /// Seconds after commit from which an unproven ZK-lane batch may be reverted.
    pub zk_proof_deadline: u64,
    /// Wei a single sequencer must hold in the game to commit; 0 for a staked rollup (the
    /// set's stake is slashed instead).
    pub sequencer_bond: U256,
}

/// A sequencer's bond in the game (the contract's `SequencerBondAccount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequencerBond {
    /// Wei held.
    pub amount: U256,
    /// 0 while it authorizes commits; else the L1 second from which it may be withdrawn.
    pub unlock_at: u64,
}

/// One chunk's challenge (the contract's `Challenge`); `challenger` zero: none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkChallenge {
    /// Who posted the bond.
    pub challenger: Address,
    /// Last L1 second a proof answers it.
    pub deadline: u64,
    /// Answered by a proof (the bond went to the prover).
    pub answered: bool,
    /// Bond returned to the challenger (the batch was reverted).
    pub refunded: bool,
}

impl ChunkChallenge {
    /// Whether a challenge exists and no proof answered it yet.
    pub fn is_open(&self) -> bool {
        self.challenger != Address::ZERO && !self.answered && !self.refunded
    }
}

/// The game's key for a committed batch: `keccak256(abi.encode(StoredBatch))`, as the
/// rollup's `batchRecordHash`.
pub fn record_hash(batch: &CommittedBatch) -> B256 {
    keccak256(batch.to_sol().abi_encode())
}

/// A client of one deployed `DisputeGame`.
#[derive(Clone)]
pub struct DisputeClient {
    provider: DynProvider,
    game: Address,
}

impl std::fmt::Debug for DisputeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DisputeClient").field("game", &self.game).finish()
    }
}

impl DisputeClient {
    /// Connects to `game` through `rpc_url`; `signer` is needed for transactions.
    pub fn new(rpc_url: &str, game: Address, signer: Option<PrivateKeySigner>) -> Result<Self, L1Error> {
        let (provider, _) = connect(rpc_url, signer)?;
        Ok(Self { provider, game })
    }

    fn contract(&self) -> DisputeGame::DisputeGameInstance<DynProvider> {
        DisputeGame::new(self.game, self.provider.clone())
    }

    /// The game's address.
    pub fn address(&self) -> Address {
        self.game
    }

    /// The rollup the game serves.
    pub async fn rollup(&self) -> Result<Address, L1Error> {
        self.contract().rollup().call().await.map_err(contract_error)
    }

    /// The game's parameters.
    pub async fn params(&self) -> Result<GameParams, L1Error> {
        let c = self.contract();
        Ok(GameParams {
            challenge_bond: c.challengeBond().call().await.map_err(contract_error)?,
            response_window: c.responseWindow().call().await.map_err(contract_error)?,
            zk_proof_deadline: c.zkProofDeadline().call().await.map_err(contract_error)?,
            sequencer_bond: c.sequencerBond().call().await.map_err(contract_error)?,
        })
    }

    /// Adds `amount` wei to the sender's sequencer bond (single-sequencer mode).
    pub async fn post_sequencer_bond(&self, amount: U256) -> Result<B256, L1Error> {
        let contract = self.contract();
        let call = contract.postSequencerBond().value(amount);
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// Stops the sender's bond from authorizing commits and starts its release; returns the
    /// L1 second from which it may be withdrawn.
    pub async fn request_sequencer_bond_withdrawal(&self) -> Result<u64, L1Error> {
        let contract = self.contract();
        let receipt = confirm(contract.requestSequencerBondWithdrawal().send().await.map_err(contract_error)?).await?;
        Ok(receipt_event::<DisputeGame::SequencerBondWithdrawalRequested>(&receipt, self.game)?.unlockAt)
    }

    /// Pays the sender its whole sequencer bond, once released.
    pub async fn withdraw_sequencer_bond(&self) -> Result<B256, L1Error> {
        let contract = self.contract();
        Ok(confirm(contract.withdrawSequencerBond().send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// `sequencer`'s bond in the game.
    pub async fn sequencer_bond_of(&self, sequencer: Address) -> Result<SequencerBond, L1Error> {
        let b = self.contract().sequencerBonds(sequencer).call().await.map_err(contract_error)?;
        Ok(SequencerBond { amount: U256::from(b.amount), unlock_at: b.unlockAt })
    }

    /// Wei of slashed sequencer bonds burned (not paid to challengers).
    pub async fn burned_sequencer_bonds(&self) -> Result<U256, L1Error> {
        self.contract().burnedSequencerBonds().call().await.map_err(contract_error)
    }

    /// Challenges chunk `chunk` of committed optimistic batch `batch` (`header`: its commit's
    /// header), paying `bond` (the game's exact `challengeBond`). Returns the response
    /// deadline from the `ChunkChallenged` event.
    pub async fn challenge(&self, batch: &CommittedBatch, header: &BatchHeader, chunk: u32, bond: U256) -> Result<u64, L1Error> {
        let contract = self.contract();
        let call = contract.challenge(binding_stored!(GameAbi::StoredBatch, *batch), to_game_sol(header), chunk).value(bond);
        let receipt = confirm(call.send().await.map_err(contract_error)?).await?;
        Ok(receipt_event::<DisputeGame::ChunkChallenged>(&receipt, self.game)?.deadline)
    }

    /// Proves chunk `chunk` of committed optimistic batch `batch` with `proof` (bound to the
    /// sender) for the chunk's `boundary`; `public_data` is the commit's. Returns the L1
    /// transaction hash.
    pub async fn prove_chunk(
        &self,
        batch: &CommittedBatch,
        header: &BatchHeader,
        public_data: &[u8],
        chunk: u32,
        boundary: &ChunkBoundary,
        proof: [[u8; 32]; 8],
    ) -> Result<B256, L1Error> {
        let boundary = DisputeGame::ChunkBoundary {
            startRoot: boundary.start_root,
            startPath: boundary.start_path.clone(),
            endRoot: boundary.end_root,
            endPath: boundary.end_path.clone(),
        };
        let contract = self.contract();
        let call = contract.proveChunk(
            binding_stored!(GameAbi::StoredBatch, *batch),
            to_game_sol(header),
            Bytes::copy_from_slice(public_data),
            chunk,
            boundary,
            proof.map(U256::from_be_bytes),
        );
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// Reverts `batch` and every later batch after its challenge of `chunk` went unanswered
    /// past the deadline; `last_kept` is the batch before it.
    pub async fn revert_unanswered(&self, batch: &CommittedBatch, last_kept: &CommittedBatch, chunk: u32) -> Result<B256, L1Error> {
        let contract = self.contract();
        let call = contract.revertUnanswered(
            binding_stored!(GameAbi::StoredBatch, *batch),
            binding_stored!(GameAbi::StoredBatch, *last_kept),
            chunk,
        );
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// Credits the bond of the unanswered challenge of `chunk` of `batch` back to its
    /// challenger, once the batch is no longer live (reverted).
    pub async fn reclaim_bond(&self, batch: &CommittedBatch, chunk: u32) -> Result<B256, L1Error> {
        let contract = self.contract();
        let call = contract.reclaimBond(binding_stored!(GameAbi::StoredBatch, *batch), chunk);
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// Pays the sender everything the game owes it.
    pub async fn withdraw(&self) -> Result<B256, L1Error> {
        let contract = self.contract();
        let call = contract.withdraw();
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// Reverts ZK-lane `batch` and every later batch once it is past its proof deadline
    /// unproven; `last_kept` is the batch before it.
    pub async fn revert_unproven_zk_batch(&self, batch: &CommittedBatch, last_kept: &CommittedBatch) -> Result<B256, L1Error> {
        let contract = self.contract();
        let call = contract
            .revertUnprovenZkBatch(binding_stored!(GameAbi::StoredBatch, *batch), binding_stored!(GameAbi::StoredBatch, *last_kept));
        Ok(confirm(call.send().await.map_err(contract_error)?).await?.transaction_hash)
    }

    /// The challenge of chunk `chunk` of `batch` (zero challenger: none).
    pub async fn challenge_of(&self, batch: &CommittedBatch, chunk: u32) -> Result<ChunkChallenge, L1Error> {
        let c = self.contract().challenges(record_hash(batch), U256::from(chunk)).call().await.map_err(contract_error)?;
        Ok(ChunkChallenge { challenger: c.challenger, deadline: c.deadline, answered: c.answered, refunded: c.refunded })
    }

    /// Whether chunk `chunk` of `batch` is proven.
    pub async fn chunk_proven(&self, batch: &CommittedBatch, chunk: u32) -> Result<bool, L1Error> {
        self.contract().chunkProven(record_hash(batch), U256::from(chunk)).call().await.map_err(contract_error)
    }

    /// Number of chunks of a batch of `op_count` ops, as the game counts them.
    pub async fn chunk_count(&self, op_count: u32) -> Result<u64, L1Error> {
        let count = self.contract().chunkCount(op_count).call().await.map_err(contract_error)?;
        u64::try_from(count).map_err(|_| L1Error::Unexpected(format!("chunk count {count}")))
    }

    /// Wei `account` may withdraw (bonds earned or returned).
    pub async fn owed(&self, account: Address) -> Result<U256, L1Error> {
        self.contract().owed(account).call().await.map_err(contract_error)
    }
}
