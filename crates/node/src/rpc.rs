//! The node's side of the JSON-RPC API (`tandem_api::TandemApi`, SPEC §7) and the metrics
//! endpoint.

use jsonrpsee::core::RpcResult;
use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use std::net::SocketAddr;
use std::sync::Arc;
use tandem_api::{
    AccountRef, AccountView, Amount, ApiError, BatchSignersView, BatchView, BlockView, ChainParams, SendOutcome, SubmittedTx,
    TandemApiServer, TransactionView, TxStatus, WithdrawalRef, WithdrawalView, MAX_BLOCK_WAIT_MS, MAX_SEND_BATCH,
};
use tandem_chain::{Lane, TxHash, FEE_ACCOUNT};
use tandem_l1::{Address, B256};
use tandem_state::StoreError;
use tandem_types::{AccountIndex, PackedPubKey};

use crate::batch_queue::{BatchQueue, DEFAULT_MAX_BATCH};
use crate::node::{Admission, Node, NodeError, SubmitError};
use crate::records::BatchStatus;

/// Largest accepted request body.
pub const MAX_REQUEST_BYTES: u32 = 128 * 1024;

/// Decodes `0x` hex `text`; `what` names it in the error.
fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    let digits = text.strip_prefix("0x").ok_or_else(|| ApiError::InvalidParams(format!("{what} must be 0x-prefixed hex")))?;
    hex::decode(digits).map_err(|e| ApiError::InvalidParams(format!("{what} is not valid hex: {e}")))
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Malformed(e) => ApiError::InvalidParams(e.to_string()),
            SubmitError::Refused(r) => ApiError::Refused(r.to_string()),
            SubmitError::Store(s) => ApiError::internal(s),
        }
    }
}

/// Client submissions waiting for admission: `tandem_sendTransaction` queues each decoded
/// transaction here, and the queue's thread admits them in batches ([`BatchQueue`]), so N
/// concurrent clients cost one disk sync and each gets the verdict it would have got alone.
pub type AdmissionQueue = BatchQueue<Vec<u8>, Result<TxHash, SubmitError>>;

/// Admits a batch of submissions for its owner: one verdict per input, in order.
pub type AdmitBatch<T> = fn(&T, &[&[u8]]) -> Vec<Result<TxHash, SubmitError>>;

/// An [`AdmissionQueue`] whose batches `admit` admits for `owner` (the node, or a set member
/// that also forwards what it accepts). The queue's thread holds `owner` weakly, so the queue
/// never keeps a node (and its open database) alive; a batch that finds it gone is refused.
pub fn admission_queue<T: Send + Sync + 'static>(owner: &Arc<T>, admit: AdmitBatch<T>) -> Result<AdmissionQueue, NodeError> {
    let owner = Arc::downgrade(owner);
    let refused = |why: &str| SubmitError::Store(StoreError::Database(why.into()));
    BatchQueue::start(
        "tandem-admission",
        DEFAULT_MAX_BATCH,
        move |batch: Vec<Vec<u8>>| {
            // The strong reference lives for this batch only: dropped before the answers go out.
            let Some(owner) = owner.upgrade() else {
                return batch.iter().map(|_| Err(refused("the node is shutting down"))).collect();
            };
            let inputs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            admit(&owner, &inputs)
        },
        || Err(SubmitError::no_verdict()),
    )
    .map_err(|source| NodeError::Thread { what: "admission", source })
}

/// The server of [`TandemApiServer`] over a node.
pub struct NodeRpc {
    node: Arc<Node>,
    admission: AdmissionQueue,
}

impl NodeRpc {
    /// The API of `node`; transactions go to its mempool ([`Node::submit_batch`]).
    pub fn new(node: Arc<Node>) -> Result<Self, NodeError> {
        let admission = admission_queue(&node, |node, inputs| node.submit_batch(inputs, Admission::Durable))?;
        Ok(Self { node, admission })
    }

    /// The API of `node`, admitting transactions through `admission` instead.
    pub fn with_admission(node: Arc<Node>, admission: AdmissionQueue) -> Self {
        Self { node, admission }
    }
}

/// An [`ApiError::Internal`] (storage failed, or holds something it should not).
pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// Decodes `0x` hex `tx_hex` and admits it through `admission`; a refusal counts in the
/// node's `txs_refused` metric.
async fn submit_hex(node: &Node, tx_hex: &str, admission: &AdmissionQueue) -> Result<SubmittedTx, ApiError> {
    let verdict = match decode_hex(tx_hex, "transaction") {
        Ok(bytes) => admitted(admission.submit(bytes).await),
        Err(e) => Err(e),
    };
    counted(node, verdict)
}

/// The admission queue's verdict as the API's; `None` (no verdict) is internal.
fn admitted(verdict: Option<Result<TxHash, SubmitError>>) -> Result<TxHash, ApiError> {
    match verdict {
        Some(verdict) => verdict.map_err(ApiError::from),
        None => Err(internal("the admission thread is gone")),
    }
}

/// A submission's answer; a refusal counts in the node's `txs_refused` metric.
fn counted(node: &Node, verdict: Result<TxHash, ApiError>) -> Result<SubmittedTx, ApiError> {
    match verdict {
        Ok(hash) => Ok(SubmittedTx { hash, status: TxStatus::Pending }),
        Err(e) => {
            crate::metrics::Metrics::inc(&node.metrics.txs_refused);
            Err(e)
        }
    }
}

#[jsonrpsee::core::async_trait]
impl TandemApiServer for NodeRpc {
    fn chain_params(&self) -> RpcResult<ChainParams> {
        let node = &self.node;
        let c = &node.config;
        Ok(ChainParams {
            chain_id: c.chain_id,
            tree_depth: c.tree_depth,
            l1_chain_id: node.l1_chain_id,
            rollup: c.rollup,
            deploy_block: c.deploy_block,
            challenge_window: node.challenge_window,
            fee_account: FEE_ACCOUNT,
            block_time_ms: c.block_time.as_millis() as u64,
            zk_slots: c.zk_lane.map(|z| z.slots as u64),
            fast_withdrawal_fee: c.zk_lane.map(|z| Amount(z.fast_withdrawal_fee)),
            market: node.market,
            dispute_game: node.dispute_game,
        })
    }

    async fn send_transaction(&self, tx_hex: String) -> RpcResult<SubmittedTx> {
        Ok(submit_hex(&self.node, &tx_hex, &self.admission).await?)
    }

    async fn send_transactions(&self, txs: Vec<String>) -> RpcResult<Vec<SendOutcome>> {
        if txs.len() > MAX_SEND_BATCH {
            return Err(ApiError::InvalidParams(format!("at most {MAX_SEND_BATCH} transactions per call, got {}", txs.len())).into());
        }
        let mut well_formed = Vec::with_capacity(txs.len());
        let malformed: Vec<Option<ApiError>> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| decode_hex(tx, &format!("transaction {i}")).map(|bytes| well_formed.push(bytes)).err())
            .collect();
        let mut verdicts = self.admission.submit_all(well_formed).await.into_iter();
        Ok(malformed
            .into_iter()
            .map(|malformed| {
                let verdict = match malformed {
                    Some(e) => Err(e),
                    None => admitted(verdicts.next().flatten()),
                };
                match counted(&self.node, verdict) {
                    Ok(submitted) => SendOutcome::Accepted(submitted),
                    Err(e) => SendOutcome::Refused { error: e.into() },
                }
            })
            .collect())
    }

    fn transaction(&self, hash: TxHash) -> RpcResult<Option<TransactionView>> {
        let Some(record) = self.node.transaction(&hash).map_err(internal)? else { return Ok(None) };
        let status = match record.status.as_str() {
            "pending" => TxStatus::Pending,
            "included" => TxStatus::Included,
            "rejected" => TxStatus::Rejected,
            other => return Err(internal(format!("stored transaction {hash} has status {other:?}")).into()),
        };
        Ok(Some(TransactionView {
            hash,
            status,
            block: record.block,
            batch: record.block,
            reason: record.reason,
            withdrawal: record.withdrawal.map(|(batch, index)| WithdrawalRef { batch, index }),
        }))
    }

    fn account(&self, who: AccountRef) -> RpcResult<Option<AccountView>> {
        let view = self.node.with_ledger(|ledger, mempool| {
            let index = match who {
                AccountRef::Index(n) => AccountIndex::new(n).map_err(|e| ApiError::InvalidParams(e.to_string()))?,
                AccountRef::Key(key) => match ledger.index_of(&PackedPubKey(key.0)) {
                    Some(i) => i,
                    None => return Ok(None),
                },
            };
            let Some(account) = ledger.account(index) else { return Ok(None) };
            Ok::<_, ApiError>(Some(AccountView {
                index: index.get(),
                public_key: B256::from(account.pubkey.pack().0),
                nonce: account.nonce,
                pending_nonce: mempool.pending_nonce(ledger, index),
                balances: account.balances().map(|(t, b)| (t.get(), Amount(b))).collect(),
            }))
        })?;
        Ok(view)
    }

    fn block_number(&self) -> RpcResult<u64> {
        Ok(self.node.latest_block().map_err(internal)?)
    }

    async fn wait_for_block(&self, after: u64, timeout_ms: u64) -> RpcResult<u64> {
        if timeout_ms > MAX_BLOCK_WAIT_MS {
            return Err(ApiError::InvalidParams(format!("timeoutMs {timeout_ms} is above the most, {MAX_BLOCK_WAIT_MS}")).into());
        }
        let mut blocks = self.node.watch_blocks();
        // A timeout is an answer too: the latest block, still `<= after`.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(timeout_ms), blocks.wait_for(|n| *n > after)).await;
        Ok(self.node.latest_block().map_err(internal)?)
    }

    fn block(&self, number: u64) -> RpcResult<Option<BlockView>> {
        let Some(block) = self.node.block(number).map_err(internal)? else { return Ok(None) };
        let ops = tandem_types::decode_public_data(&block.public_data).map_err(internal)?.iter().map(|op| format!("{op:?}")).collect();
        Ok(Some(BlockView { block, ops }))
    }

    fn batch(&self, number: u64) -> RpcResult<Option<BatchView>> {
        let node = &self.node;
        let Some(batch) = node.batch(number).map_err(internal)? else { return Ok(None) };
        let lane = node.block(number).map_err(internal)?.map(|b| b.lane).unwrap_or(Lane::Optimistic);
        let finalizable_at = match lane {
            Lane::Optimistic => batch.committed.map(|c| c.committed_at + node.challenge_window),
            Lane::Zk => None,
        };
        let waiting_for = match (batch.status, lane) {
            (BatchStatus::Soft, _) => "posting to L1".to_string(),
            (BatchStatus::Posted, Lane::Optimistic) => {
                format!("challenge window (optimistic lane) until L1 time {}, and the previous batch", finalizable_at.unwrap_or_default())
            }
            (BatchStatus::Posted, Lane::Zk) => "a validity proof (ZK lane), and the previous batch".to_string(),
            (BatchStatus::Final, _) => "nothing: final".to_string(),
        };
        let l1_tx = |tx: &Option<String>| -> Result<Option<B256>, ApiError> {
            tx.as_deref()
                .map(|t| t.parse::<B256>().map_err(|e| internal(format!("stored L1 transaction {t:?} of batch {number}: {e}"))))
                .transpose()
        };
        Ok(Some(BatchView {
            number: batch.number,
            lane,
            status: batch.status,
            waiting_for,
            blocks: vec![batch.number],
            l1_commit_tx: l1_tx(&batch.l1_commit_tx)?,
            l1_finalize_tx: l1_tx(&batch.l1_finalize_tx)?,
            committed_at: batch.committed.map(|c| c.committed_at),
            finalizable_at,
            finalized_at: batch.finalized_at,
            withdrawal_count: batch.committed.map(|c| c.withdrawal_count),
            poster: batch.origin.map(|o| o.poster),
            signers: batch.origin.and_then(|o| o.signed).map(|s| BatchSignersView { epoch: s.epoch, signer_bitmap: s.signer_bitmap }),
        }))
    }

    fn withdrawal(&self, batch: u64, index: u32) -> RpcResult<Option<WithdrawalView>> {
        let node = &self.node;
        let Some(block) = node.block(batch).map_err(internal)? else { return Ok(None) };
        let ops = tandem_types::decode_public_data(&block.public_data).map_err(internal)?;
        let withdrawals = tandem_chain::block_withdrawals(&ops, &block.inputs)
            .ok_or_else(|| internal(format!("block {batch} has a forced withdrawal without its request")))?;
        let Some(w) = withdrawals.get(index as usize) else { return Ok(None) };
        let proof = tandem_chain::withdrawal_proof(&withdrawals, index as usize).unwrap_or_default();
        let status = node.batch(batch).map_err(internal)?.map(|b| b.status).unwrap_or(BatchStatus::Soft);
        Ok(Some(WithdrawalView {
            batch,
            index,
            token_id: w.token.get(),
            amount: Amount(w.amount),
            recipient: Address::from(w.to_l1.0),
            l2_from: w.from.get(),
            status,
            claimable: status == BatchStatus::Final,
            proof,
        }))
    }
}

/// The RPC module of `node` alone.
pub fn module(node: Arc<Node>) -> Result<RpcModule<NodeRpc>, NodeError> {
    Ok(NodeRpc::new(node)?.into_rpc())
}

/// Starts the JSON-RPC server.
pub async fn serve_rpc(node: Arc<Node>, addr: SocketAddr) -> Result<(ServerHandle, SocketAddr), NodeError> {
    serve_module(module(node)?, addr).await
}

/// Starts the JSON-RPC server with `methods`.
pub async fn serve_module<C: Send + Sync + 'static>(
    methods: RpcModule<C>,
    addr: SocketAddr,
) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let config = ServerConfig::builder().max_request_body_size(MAX_REQUEST_BYTES).max_response_body_size(16 * 1024 * 1024).build();
    let server =
        Server::builder().set_config(config).build(addr).await.map_err(|source| NodeError::Server { what: "JSON-RPC", addr, source })?;
    let local = server.local_addr().map_err(|source| NodeError::Server { what: "JSON-RPC", addr, source })?;
    Ok((server.start(methods), local))
}

/// Starts the Prometheus endpoint (`GET /metrics`).
pub async fn serve_metrics(node: Arc<Node>, addr: SocketAddr) -> Result<SocketAddr, NodeError> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let node = node.clone();
            async move { node.metrics.render() }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| NodeError::Server { what: "metrics", addr, source })?;
    let local = listener.local_addr().map_err(|source| NodeError::Server { what: "metrics", addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(local)
}
