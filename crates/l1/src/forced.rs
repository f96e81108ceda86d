//! Forced withdrawals on L1 (SPEC §4.5, §16): the request inbox `ForcedWithdrawals`, which
//! queues a signed request next to the deposits, and its fee (paid to the sequencer side
//! once a final batch consumed the request, refunded if exodus dropped it).

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use tandem_types::{AccountIndex, ForcedWithdrawalRequest, L1Address, TokenId};

use crate::bindings::forced::{ForcedWithdrawals, TandemRollup as ForcedAbi};
use crate::client::{confirm, connect, contract_error, receipt_event, CommittedBatch, L1Error};
use crate::commitments::binding_stored;

/// A request read from a `ForcedWithdrawalRequested` event: what the sequencer must include
/// at `queue_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedForcedWithdrawal {
    /// Position in the priority queue (shared with deposits).
    pub queue_index: u64,
    /// The signed request.
    pub request: ForcedWithdrawalRequest,
    /// L1 block that included it.
    pub l1_block: u64,
}

/// A client of one inbox.
#[derive(Debug, Clone)]
pub struct ForcedClient {
    provider: DynProvider,
    inbox: Address,
}

impl ForcedClient {
    /// Connects to `inbox` through `rpc_url`; `signer` is needed for transactions.
    pub fn new(rpc_url: &str, inbox: Address, signer: Option<PrivateKeySigner>) -> Result<Self, L1Error> {
        let (provider, _) = connect(rpc_url, signer)?;
        Ok(Self { provider, inbox })
    }

    fn contract(&self) -> ForcedWithdrawals::ForcedWithdrawalsInstance<DynProvider> {
        ForcedWithdrawals::new(self.inbox, self.provider.clone())
    }

    /// The fee a request must carry, in wei (fixed at deployment).
    pub async fn request_fee(&self) -> Result<U256, L1Error> {
        self.contract().requestFee().call().await.map_err(contract_error)
    }

    /// Sends `request` with the fee; returns its priority-queue index.
    pub async fn request(&self, request: &ForcedWithdrawalRequest) -> Result<u64, L1Error> {
        let fee = self.request_fee().await?;
        let contract = self.contract();
        let call = contract
            .requestForcedWithdrawal(
                request.account.get(),
                request.token.get(),
                Address::from(request.to_l1.0),
                request.amount,
                request.request_id,
                U256::from_be_bytes(request.r8x),
                U256::from_be_bytes(request.r8y),
                U256::from_be_bytes(request.s),
            )
            .value(fee);
        let receipt = confirm(call.send().await.map_err(contract_error)?).await?;
        Ok(receipt_event::<ForcedWithdrawals::ForcedWithdrawalRequested>(&receipt, self.inbox)?.queueIndex)
    }

    /// The requests queued in L1 blocks `from..=to`, in log order.
    pub async fn requests(&self, from: u64, to: u64) -> Result<Vec<QueuedForcedWithdrawal>, L1Error> {
        let logs =
            self.contract().ForcedWithdrawalRequested_filter().from_block(from).to_block(to).query().await.map_err(contract_error)?;
        let mut out = Vec::with_capacity(logs.len());
        for (event, log) in logs {
            let unexpected = |e: tandem_types::DecodeError| L1Error::Unexpected(e.to_string());
            out.push(QueuedForcedWithdrawal {
                queue_index: event.queueIndex,
                request: ForcedWithdrawalRequest {
                    account: AccountIndex::new(event.account).map_err(unexpected)?,
                    token: TokenId::new(event.token as u32).map_err(unexpected)?,
                    to_l1: L1Address(event.recipient.into_array()),
                    amount: event.amount,
                    request_id: event.requestId,
                    r8x: event.r8x.to_be_bytes(),
                    r8y: event.r8y.to_be_bytes(),
                    s: event.s.to_be_bytes(),
                },
                l1_block: log.block_number.ok_or_else(|| L1Error::Unexpected("log without block".into()))?,
            });
        }
        Ok(out)
    }

    /// Credits request `queue_index`'s fee to the sequencer side; `final_batch` is a final
    /// batch that consumed it.
    pub async fn pay_fee(&self, queue_index: u64, final_batch: &CommittedBatch) -> Result<B256, L1Error> {
        let stored = binding_stored!(ForcedAbi::StoredBatch, final_batch);
        let pending = self.contract().payFee(queue_index, stored).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Refunds request `queue_index`'s fee to its requester (exodus dropped it).
    pub async fn refund_fee(&self, queue_index: u64) -> Result<B256, L1Error> {
        let pending = self.contract().refundFee(queue_index).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Whether request `queue_index`'s fee was paid out or refunded already.
    pub async fn is_fee_settled(&self, queue_index: u64) -> Result<bool, L1Error> {
        self.contract().isFeeSettled(queue_index).call().await.map_err(contract_error)
    }

    /// Wei the inbox owes `account` (credited fees not yet withdrawn).
    pub async fn fees_owed(&self, account: Address) -> Result<U256, L1Error> {
        self.contract().feesOwed(account).call().await.map_err(contract_error)
    }

    /// Pays the signer what the inbox owes it.
    pub async fn withdraw_fees(&self) -> Result<B256, L1Error> {
        let pending = self.contract().withdrawFees().send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }
}
