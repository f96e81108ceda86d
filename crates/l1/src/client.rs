//! A client of the deployed rollup: what the node, the wallet and the devnet call on L1.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use serde::{Deserialize, Serialize};
use tandem_types::{L1Deposit, PackedPubKey, TokenId};

use crate::bindings::staked::StakedRollup;
use crate::bindings::{DevToken, TandemRollup};
use crate::commitments::{to_sol, to_staked_sol};
use crate::revert::ContractRevert;
use tandem_chain::{batch_digest, sort_by_signer, BatchHeader, SignatureSetError};

/// Longest wait for a sent transaction's receipt.
const RECEIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Failures talking to L1. Contract reverts are decoded to the contract's custom error.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The RPC endpoint failed or refused.
    #[error("L1 RPC: {0}")]
    Rpc(String),
    /// The contract reverted with this decoded custom error (match the variant; its
    /// `Display` names the error and its fields).
    #[error("L1 contract reverted: {0}")]
    Reverted(ContractRevert),
    /// A transaction was mined but failed.
    #[error("L1 transaction {0} failed")]
    TxFailed(B256),
    /// An event or value from L1 does not decode as Tandem expects.
    #[error("unexpected L1 data: {0}")]
    Unexpected(String),
    /// A call needs a signer and the client has none.
    #[error("this L1 client has no signing key")]
    NoSigner,
    /// A caller-supplied argument is out of the contract's range; nothing was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The signatures handed to the client cannot authorize the batch (one is refused, or two
    /// recover to the same signer); nothing was sent.
    #[error(transparent)]
    Signatures(#[from] SignatureSetError),
}

/// A failed call to a rollup (or the token): a revert decoded to the custom error
/// ([`ContractRevert::decode`]), anything else an RPC failure.
pub fn contract_error(e: alloy::contract::Error) -> L1Error {
    match e.as_revert_data() {
        Some(data) => L1Error::Reverted(ContractRevert::decode(&data)),
        None => L1Error::Rpc(e.to_string()),
    }
}

/// A failed call to the staking contract: [`contract_error`] decoding with the staking
/// contract's ABI first ([`ContractRevert::decode_staking`]).
pub fn staking_error(e: alloy::contract::Error) -> L1Error {
    match e.as_revert_data() {
        Some(data) => L1Error::Reverted(ContractRevert::decode_staking(&data)),
        None => L1Error::Rpc(e.to_string()),
    }
}

impl From<alloy::contract::Error> for L1Error {
    fn from(e: alloy::contract::Error) -> Self {
        contract_error(e)
    }
}

/// An RPC or transport failure as an [`L1Error`] (its message kept).
pub fn rpc_error(e: impl std::fmt::Display) -> L1Error {
    L1Error::Rpc(e.to_string())
}

/// A deposit read from a `DepositQueued` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedDeposit {
    /// Position in the priority queue.
    pub queue_index: u64,
    /// What L2 must credit.
    pub deposit: L1Deposit,
    /// L1 block that included it.
    pub l1_block: u64,
}

/// A committed batch as the contract stores it (from `BatchCommitted`); what `finalizeBatch`
/// takes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedBatch {
    /// Batch number.
    pub batch_number: u64,
    /// Lane code (0 optimistic).
    pub lane: u8,
    /// L1 timestamp of the commit.
    pub committed_at: u64,
    /// Priority-queue position after the batch.
    pub priority_ops_end: u64,
    /// Withdrawals in the batch.
    pub withdrawal_count: u32,
    /// Header hash.
    pub header_hash: B256,
    /// State root after the batch.
    pub new_state_root: B256,
    /// Root of the withdrawal tree.
    pub withdrawals_root: B256,
}

/// Who committed a batch on L1, and with which signatures (staked mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitOrigin {
    /// The commit transaction.
    pub l1_tx: B256,
    /// Its sender: the sequencer, or the set member that posted the batch.
    pub poster: Address,
    /// On a `StakedRollup`: the `BatchSigned` event of the same transaction.
    pub signed: Option<BatchSigners>,
    /// L1 block of the commit (0 in records written before it was kept). The next batch's
    /// commit is never earlier, so it bounds that batch's log search from below.
    #[serde(default)]
    pub l1_block: u64,
}

/// The stored record a `BatchCommitted` event carries.
fn committed_from_event(e: &TandemRollup::BatchCommitted) -> CommittedBatch {
    CommittedBatch {
        batch_number: e.batchNumber,
        lane: e.lane,
        committed_at: e.committedAt,
        priority_ops_end: e.priorityOpsEnd,
        withdrawal_count: e.withdrawalCount,
        header_hash: e.headerHash,
        new_state_root: e.newStateRoot,
        withdrawals_root: e.withdrawalsRoot,
    }
}

/// The set's signatures over a batch, as `StakedRollup.BatchSigned` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSigners {
    /// The staking epoch whose active set signed.
    pub epoch: u64,
    /// Bit `i` set: member `i` of that epoch's active set (in `activeSet` order) signed.
    pub signer_bitmap: U256,
}

impl CommittedBatch {
    /// The record as the `TandemRollup` binding's `StoredBatch` struct.
    pub fn to_sol(self) -> TandemRollup::StoredBatch {
        crate::commitments::binding_stored!(TandemRollup::StoredBatch, self)
    }
}

/// A connection to L1 and the rollup contract, optionally with a signing key.
#[derive(Clone)]
pub struct RollupClient {
    provider: DynProvider,
    rollup: Address,
    signer: Option<Address>,
}

impl std::fmt::Debug for RollupClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupClient").field("rollup", &self.rollup).field("signer", &self.signer).finish()
    }
}

/// Connects a provider, with `signer` as its wallet if given. Each transaction takes the
/// account's pending nonce from L1 (alloy's simple nonce manager): the default cached one
/// reserves a nonce while gas is estimated concurrently, so a transaction refused at estimation
/// (a revert) would leave a gap that stalls every later transaction of the client.
pub fn connect(rpc_url: &str, signer: Option<PrivateKeySigner>) -> Result<(DynProvider, Option<Address>), L1Error> {
    let url = rpc_url.parse().map_err(|e| L1Error::Rpc(format!("bad L1 RPC URL {rpc_url:?}: {e}")))?;
    Ok(match signer {
        Some(signer) => {
            let address = signer.address();
            let provider = ProviderBuilder::new()
                .disable_recommended_fillers()
                .with_gas_estimation()
                .with_simple_nonce_management()
                .fetch_chain_id()
                .wallet(EthereumWallet::from(signer))
                .connect_http(url);
            (provider.erased(), Some(address))
        }
        None => (ProviderBuilder::new().connect_http(url).erased(), None),
    })
}

/// Waits (at most two minutes) for `pending` to be mined; a mined transaction that failed is
/// [`L1Error::TxFailed`].
pub async fn confirm(
    pending: alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
) -> Result<TransactionReceipt, L1Error> {
    // A transaction that never mines (dropped, replaced, nonce gap after a reorg) must not
    // stall its caller forever.
    let receipt = pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt().await.map_err(rpc_error)?;
    if !receipt.status() {
        return Err(L1Error::TxFailed(receipt.transaction_hash));
    }
    Ok(receipt)
}

/// The first event `E` that `emitter` logged in `receipt` ([`L1Error::Unexpected`] if none:
/// the call that produced the receipt always emits it).
pub(crate) fn receipt_event<E: SolEvent>(receipt: &TransactionReceipt, emitter: Address) -> Result<E, L1Error> {
    receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == emitter)
        .find_map(|log| log.log_decode::<E>().ok())
        .map(|decoded| decoded.inner.data)
        .ok_or_else(|| L1Error::Unexpected(format!("receipt without {}", E::SIGNATURE)))
}

impl RollupClient {
    /// Connects to `rollup` through `rpc_url`; `signer` is needed for transactions.
    pub fn new(rpc_url: &str, rollup: Address, signer: Option<PrivateKeySigner>) -> Result<Self, L1Error> {
        let (provider, signer) = connect(rpc_url, signer)?;
        Ok(Self { provider, rollup, signer })
    }

    pub(crate) fn contract(&self) -> TandemRollup::TandemRollupInstance<DynProvider> {
        TandemRollup::new(self.rollup, self.provider.clone())
    }

    /// The underlying provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The rollup address.
    pub fn rollup(&self) -> Address {
        self.rollup
    }

    /// The signing address, if any.
    pub fn signer(&self) -> Option<Address> {
        self.signer
    }

    /// The rollup's `sequencer` (in staked mode: the staking contract).
    pub async fn sequencer(&self) -> Result<Address, L1Error> {
        self.contract().sequencer().call().await.map_err(contract_error)
    }

    /// Latest L1 block number.
    pub async fn head(&self) -> Result<u64, L1Error> {
        self.provider.get_block_number().await.map_err(rpc_error)
    }

    /// Timestamp of the latest L1 block.
    pub async fn latest_timestamp(&self) -> Result<u64, L1Error> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(rpc_error)?
            .ok_or_else(|| L1Error::Unexpected("no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// Hash of L1 block `number` (for reorg detection), `None` if it does not exist.
    pub async fn block_hash(&self, number: u64) -> Result<Option<B256>, L1Error> {
        let block = self.provider.get_block_by_number(number.into()).await.map_err(rpc_error)?;
        Ok(block.map(|b| b.header.hash))
    }

    /// Deposits queued in L1 blocks `from..=to`, in queue order.
    pub async fn deposits(&self, from: u64, to: u64) -> Result<Vec<QueuedDeposit>, L1Error> {
        let logs = self.contract().DepositQueued_filter().from_block(from).to_block(to).query().await.map_err(contract_error)?;
        let mut out = Vec::with_capacity(logs.len());
        for (event, log) in logs {
            let token = TokenId::new(event.tokenId as u32).map_err(|e| L1Error::Unexpected(e.to_string()))?;
            out.push(QueuedDeposit {
                queue_index: event.queueIndex,
                deposit: L1Deposit { to: PackedPubKey(event.packedKey.0), token, amount: event.amount },
                l1_block: log.block_number.ok_or_else(|| L1Error::Unexpected("log without block".into()))?,
            });
        }
        out.sort_by_key(|d| d.queue_index);
        Ok(out)
    }

    /// Number of the last committed batch.
    pub async fn last_committed_batch(&self) -> Result<u64, L1Error> {
        self.contract().lastCommittedBatch().call().await.map_err(contract_error)
    }

    /// How many times the dispute game reverted batches (`revertCount()`); batch signatures
    /// bind it ([`batch_digest`]).
    pub async fn revert_count(&self) -> Result<u64, L1Error> {
        self.contract().revertCount().call().await.map_err(contract_error)
    }

    /// The record hash the rollup stores for batch `number` (`batchRecordHash`; zero when
    /// it has none).
    pub async fn batch_record_hash(&self, number: u64) -> Result<B256, L1Error> {
        self.contract().batchRecordHash(number).call().await.map_err(contract_error)
    }

    /// Number of the last finalized batch.
    pub async fn last_finalized_batch(&self) -> Result<u64, L1Error> {
        self.contract().lastFinalizedBatch().call().await.map_err(contract_error)
    }

    /// The batch circuit's op slots `S` (`zkSlots()`, 0 without a verifier): the chain's fee
    /// settlement chunk (SPEC §5.2) and the dispute game's chunk size (§17).
    pub async fn zk_slots(&self) -> Result<u32, L1Error> {
        self.contract().zkSlots().call().await.map_err(contract_error)
    }

    /// The challenge window in seconds.
    pub async fn challenge_window(&self) -> Result<u64, L1Error> {
        self.contract().challengeWindow().call().await.map_err(contract_error)
    }

    /// Commits a batch; returns the L1 transaction hash once mined.
    pub async fn commit_batch(&self, header: &BatchHeader, public_data: &[u8]) -> Result<B256, L1Error> {
        self.commit_batch_with_escrow(header, public_data, U256::ZERO).await
    }

    /// Commits a batch sending `escrow` wei along: a non-zero escrow opens the batch's proof
    /// job in the rollup's prover market (SPEC §15; `NoMarket` without one). Returns the L1
    /// transaction hash once mined.
    pub async fn commit_batch_with_escrow(&self, header: &BatchHeader, public_data: &[u8], escrow: U256) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let contract = self.contract();
        let call = contract.commitBatch(to_sol(header), Bytes::copy_from_slice(public_data)).value(escrow);
        let pending = call.send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Commits a batch to a `StakedRollup` with the active set's `signatures` over
    /// [`batch_digest`] of `header` under `revert_count` (the rollup's `revertCount()` the
    /// signers signed for; the caller read it to build the digest) (in any order: they are sorted here by ascending recovered
    /// signer, as the contract requires). Anyone may submit; the contract then needs the
    /// signers to be members of the current epoch holding more than 2/3 of its stake
    /// (`InsufficientSignedStake` otherwise). Returns the L1 transaction hash once mined.
    pub async fn commit_batch_signed(
        &self,
        header: &BatchHeader,
        public_data: &[u8],
        revert_count: u64,
        signatures: Vec<[u8; 65]>,
    ) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let chain_id = self.provider.get_chain_id().await.map_err(rpc_error)?;
        let digest = batch_digest(chain_id, self.rollup, revert_count, header.batch_number, header.hash());
        let sorted: Vec<Bytes> =
            sort_by_signer(digest, signatures).map_err(L1Error::from)?.into_iter().map(|s| Bytes::copy_from_slice(&s)).collect();
        let contract = StakedRollup::new(self.rollup, self.provider.clone());
        let call = contract.commitBatchSigned(to_staked_sol(header), Bytes::copy_from_slice(public_data), sorted);
        let pending = call.send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Batch `number`'s latest `BatchCommitted` event since `from_block`, with its log: the
    /// latest commit of a number wins (earlier ones were reverted).
    async fn latest_commit_log(
        &self,
        number: u64,
        from_block: u64,
    ) -> Result<Option<(TandemRollup::BatchCommitted, alloy::rpc::types::Log)>, L1Error> {
        let logs = self
            .contract()
            .BatchCommitted_filter()
            .topic1(U256::from(number))
            .from_block(from_block)
            .query()
            .await
            .map_err(contract_error)?;
        Ok(logs.into_iter().next_back())
    }

    /// The transaction that finalized batch `number` (its `BatchFinalized` event, searched
    /// from L1 block `from_block`, e.g. the batch's commit block); `None` while not final.
    pub async fn finalize_tx(&self, number: u64, from_block: u64) -> Result<Option<B256>, L1Error> {
        let logs = self
            .contract()
            .BatchFinalized_filter()
            .topic1(U256::from(number))
            .from_block(from_block)
            .query()
            .await
            .map_err(contract_error)?;
        Ok(logs.into_iter().next_back().and_then(|(_, log)| log.transaction_hash))
    }

    /// The stored record of batch `number`, from its `BatchCommitted` event.
    pub async fn committed_batch(&self, number: u64, from_block: u64) -> Result<Option<CommittedBatch>, L1Error> {
        Ok(self.latest_commit_log(number, from_block).await?.map(|(e, _)| committed_from_event(&e)))
    }

    /// Batch `number`'s stored record and who committed it (its latest `BatchCommitted`
    /// event's transaction, block and sender, and on a `StakedRollup` the `BatchSigned` event
    /// of that transaction), from one log search starting at L1 block `from_block`; `None`
    /// while L1 has no commit of it there.
    pub async fn commit_record(&self, number: u64, from_block: u64) -> Result<Option<(CommittedBatch, CommitOrigin)>, L1Error> {
        let Some((event, log)) = self.latest_commit_log(number, from_block).await? else {
            return Ok(None);
        };
        let (Some(l1_tx), Some(block)) = (log.transaction_hash, log.block_number) else {
            return Err(L1Error::Unexpected(format!("BatchCommitted of batch {number} has no transaction or block")));
        };
        let receipt = self
            .provider
            .get_transaction_receipt(l1_tx)
            .await
            .map_err(|e| L1Error::Rpc(e.to_string()))?
            .ok_or_else(|| L1Error::Unexpected(format!("no receipt for the commit {l1_tx} of batch {number}")))?;
        // A plain TandemRollup never emits BatchSigned, so this finds nothing there.
        let signed = StakedRollup::new(self.rollup, self.provider.clone())
            .BatchSigned_filter()
            .topic1(U256::from(number))
            .from_block(block)
            .to_block(block)
            .query()
            .await
            .map_err(contract_error)?
            .into_iter()
            .find(|(_, l)| l.transaction_hash == Some(l1_tx))
            .map(|(e, _)| BatchSigners { epoch: e.epoch, signer_bitmap: e.signerBitmap });
        Ok(Some((committed_from_event(&event), CommitOrigin { l1_tx, poster: receipt.from, signed, l1_block: block })))
    }

    /// Finalizes a committed batch whose window has passed.
    pub async fn finalize_batch(&self, batch: &CommittedBatch) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self.contract().finalizeBatch(batch.to_sol()).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Submits a validity proof of ZK-lane batch `batch_number`; the proof must bind this
    /// client's signing address.
    pub async fn prove_batch(
        &self,
        batch_number: u64,
        prev_state_root: B256,
        new_state_root: B256,
        data_hash: B256,
        proof: [[u8; 32]; 8],
    ) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let words = proof.map(U256::from_be_bytes);
        let contract = self.contract();
        let call = contract.proveBatch(batch_number, prev_state_root, new_state_root, data_hash, words);
        let pending = call.send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Submits a validity proof of optimistic-lane batch `batch`, which makes it final-able
    /// before its window; the header and public data are the ones it was committed with.
    pub async fn prove_optimistic_batch(
        &self,
        batch: &CommittedBatch,
        header: &BatchHeader,
        public_data: &[u8],
        proof: [[u8; 32]; 8],
    ) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let words = proof.map(U256::from_be_bytes);
        let contract = self.contract();
        let call = contract.proveOptimisticBatch(batch.to_sol(), to_sol(header), Bytes::copy_from_slice(public_data), words);
        let pending = call.send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// The rollup's dispute game (`None`: it has none, and its optimistic lane trusts its
    /// signers; SPEC §17).
    pub async fn dispute_game(&self) -> Result<Option<Address>, L1Error> {
        let game = self.contract().disputeGame().call().await.map_err(contract_error)?;
        Ok((game != Address::ZERO).then_some(game))
    }

    /// The rollup's prover market (`None`: it has none).
    pub async fn market(&self) -> Result<Option<Address>, L1Error> {
        let market = self.contract().market().call().await.map_err(contract_error)?;
        Ok((market != Address::ZERO).then_some(market))
    }

    /// Whether batch `batch_number` has a verified validity proof.
    pub async fn is_proven(&self, batch_number: u64) -> Result<bool, L1Error> {
        self.contract().isProven(batch_number).call().await.map_err(contract_error)
    }

    /// Deposits `amount` wei of ETH for the L2 key `(x, y)`; returns the queue index.
    pub async fn deposit_eth(&self, x: U256, y: U256, amount: U256) -> Result<u64, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self.contract().depositETH(x, y).value(amount).send().await.map_err(contract_error)?;
        let receipt = confirm(pending).await?;
        Ok(receipt_event::<TandemRollup::DepositQueued>(&receipt, self.rollup)?.queueIndex)
    }

    /// Approves and deposits `amount` of ERC-20 `token` for the L2 key `(x, y)`.
    pub async fn deposit_erc20(&self, token: Address, x: U256, y: U256, amount: u128) -> Result<u64, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let erc20 = DevToken::new(token, self.provider.clone());
        confirm(erc20.approve(self.rollup, U256::from(amount)).send().await.map_err(contract_error)?).await?;
        let pending = self.contract().depositERC20(token, amount, x, y).send().await.map_err(contract_error)?;
        let receipt = confirm(pending).await?;
        Ok(receipt_event::<TandemRollup::DepositQueued>(&receipt, self.rollup)?.queueIndex)
    }

    /// Claims withdrawal `index` of final batch `batch_number`.
    pub async fn claim_withdrawal(
        &self,
        batch_number: u64,
        index: u32,
        withdrawal: &tandem_types::WithdrawOp,
        proof: Vec<B256>,
    ) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self
            .contract()
            .claimWithdrawal(batch_number, index, withdrawal.token.get(), withdrawal.amount, Address::from(withdrawal.to_l1.0), proof)
            .send()
            .await
            .map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Whether withdrawal `index` of batch `batch_number` was claimed.
    pub async fn is_withdrawal_claimed(&self, batch_number: u64, index: u32) -> Result<bool, L1Error> {
        self.contract().isWithdrawalClaimed(batch_number, U256::from(index)).call().await.map_err(contract_error)
    }

    /// The ERC-20 address of L2 token `token_id` (zero for ETH or unknown ids).
    pub async fn token_address(&self, token_id: u8) -> Result<Address, L1Error> {
        self.contract().tokenAddress(token_id).call().await.map_err(contract_error)
    }

    /// L1 balance of `owner`: ETH for `token == None`, else the ERC-20's.
    pub async fn balance_of(&self, owner: Address, token: Option<Address>) -> Result<U256, L1Error> {
        match token {
            None => self.provider.get_balance(owner).await.map_err(rpc_error),
            Some(t) => DevToken::new(t, self.provider.clone()).balanceOf(owner).call().await.map_err(contract_error),
        }
    }

    /// Transfers devnet tokens from the signer (the DevToken owner mints).
    pub async fn mint_dev_token(&self, token: Address, to: Address, amount: U256) -> Result<(), L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = DevToken::new(token, self.provider.clone()).mint(to, amount).send().await.map_err(contract_error)?;
        confirm(pending).await.map(|_| ())
    }
}

/// The L1 chain id behind `client`.
pub async fn client_chain_id(client: &RollupClient) -> Result<u64, L1Error> {
    client.provider().get_chain_id().await.map_err(rpc_error)
}
