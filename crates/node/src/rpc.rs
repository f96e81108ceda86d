//! The node's JSON-RPC API (SPEC.md §7) and the metrics endpoint.

use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tandem_types::{AccountIndex, PackedPubKey};

use tandem_chain::{Lane, TxHash, FEE_ACCOUNT};

use crate::node::{hex0x, Node, NodeError, SubmitError};
use crate::records::BatchStatus;

/// Largest accepted request body.
pub const MAX_REQUEST_BYTES: u32 = 128 * 1024;

const INVALID_PARAMS: i32 = -32602;
const REFUSED: i32 = -32000;
const INTERNAL: i32 = -32603;

fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, message)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(INTERNAL, format!("internal error: {e}"))
}

pub(crate) fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let digits = text.strip_prefix("0x").ok_or_else(|| err(INVALID_PARAMS, format!("{what} must be 0x-prefixed hex")))?;
    hex::decode(digits).map_err(|e| err(INVALID_PARAMS, format!("{what} is not valid hex: {e}")))
}

fn hash_param(text: &str) -> Result<TxHash, ErrorObjectOwned> {
    text.parse().map_err(|e: tandem_chain::TxHashParseError| err(INVALID_PARAMS, e.to_string()))
}

/// `tandem_sendTransaction`: decodes the 0x hex parameter and hands it to `submit`.
pub(crate) fn send_transaction(
    params: jsonrpsee::types::Params<'_>,
    node: &Node,
    submit: impl FnOnce(&[u8]) -> Result<TxHash, SubmitError>,
) -> Result<Value, ErrorObjectOwned> {
    let text: String = params.one()?;
    let result = decode_hex(&text, "transaction").and_then(|bytes| {
        submit(&bytes).map_err(|e| match e {
            SubmitError::Malformed(m) => err(INVALID_PARAMS, m),
            SubmitError::Refused(r) => err(REFUSED, r.to_string()),
            SubmitError::Store(s) => internal(s),
        })
    });
    match result {
        Ok(hash) => Ok(json!({ "hash": hash, "status": "pending" })),
        Err(e) => {
            crate::metrics::Metrics::inc(&node.metrics.txs_refused);
            Err(e)
        }
    }
}

/// Builds the RPC module over `node`.
pub fn module(node: Arc<Node>) -> RpcModule<Arc<Node>> {
    let mut m = RpcModule::new(node);
    m.register_method("tandem_chainParams", |_, node, _| {
        let c = &node.config;
        Ok::<Value, ErrorObjectOwned>(json!({
            "chainId": c.chain_id,
            "treeDepth": c.tree_depth,
            "l1ChainId": node.l1_chain_id,
            "rollup": c.rollup.to_string(),
            "deployBlock": c.deploy_block,
            "challengeWindow": node.challenge_window,
            "feeAccount": FEE_ACCOUNT,
            "blockTimeMs": c.block_time.as_millis() as u64,
            "zkSlots": c.zk_lane.map(|z| z.slots),
            "fastWithdrawalFee": c.zk_lane.map(|z| z.fast_withdrawal_fee.to_string()),
        }))
    })
    .expect("unique method name");
    m.register_method("tandem_sendTransaction", |params, node, _| send_transaction(params, node, |b| node.submit(b)))
        .expect("unique method name");
    m.register_method("tandem_getTransaction", |params, node, _| {
        let text: String = params.one()?;
        let hash = hash_param(&text)?;
        let Some(record) = node.transaction(&hash).map_err(internal)? else { return Ok(Value::Null) };
        Ok::<Value, ErrorObjectOwned>(json!({
            "hash": text,
            "status": record.status,
            "block": record.block,
            "batch": record.block,
            "reason": record.reason,
            "withdrawal": record.withdrawal.map(|(b, i)| json!({ "batch": b, "index": i })),
        }))
    })
    .expect("unique method name");
    m.register_method("tandem_getAccount", |params, node, _| {
        let who: String = params.one()?;
        node.with_ledger(|ledger, mempool| {
            let index = if let Some(number) = who.strip_prefix('#') {
                let n: u32 = number.parse().map_err(|_| err(INVALID_PARAMS, "account index must be #<number>"))?;
                AccountIndex::new(n).map_err(|e| err(INVALID_PARAMS, e.to_string()))?
            } else {
                let bytes: [u8; 32] = decode_hex(&who, "public key")?
                    .try_into()
                    .map_err(|_| err(INVALID_PARAMS, "public key must be 32 bytes (packed)"))?;
                match ledger.index_of(&PackedPubKey(bytes)) {
                    Some(i) => i,
                    None => return Ok(Value::Null),
                }
            };
            let Some(account) = ledger.account(index) else { return Ok(Value::Null) };
            let balances: serde_json::Map<String, Value> =
                account.balances().map(|(t, b)| (t.get().to_string(), Value::String(b.to_string()))).collect();
            Ok::<Value, ErrorObjectOwned>(json!({
                "index": index.get(),
                "publicKey": hex0x(&account.pubkey.pack().0),
                "nonce": account.nonce,
                "pendingNonce": mempool.pending_nonce(ledger, index),
                "balances": balances,
            }))
        })
    })
    .expect("unique method name");
    m.register_method("tandem_blockNumber", |_, node, _| node.latest_block().map_err(internal))
        .expect("unique method name");
    m.register_method("tandem_getBlock", |params, node, _| {
        let number: u64 = params.one()?;
        let Some(block) = node.block(number).map_err(internal)? else { return Ok(Value::Null) };
        let ops = tandem_types::decode_public_data(&block.public_data)
            .map_err(internal)?
            .iter()
            .map(|op| format!("{op:?}"))
            .collect::<Vec<_>>();
        let mut value = serde_json::to_value(&block).map_err(internal)?;
        value["ops"] = json!(ops);
        Ok::<Value, ErrorObjectOwned>(value)
    })
    .expect("unique method name");
    m.register_method("tandem_getBatch", |params, node, _| {
        let number: u64 = params.one()?;
        let Some(batch) = node.batch(number).map_err(internal)? else { return Ok(Value::Null) };
        let lane = node.block(number).map_err(internal)?.map(|b| b.lane).unwrap_or(Lane::Optimistic);
        let finalizable_at = match lane {
            Lane::Optimistic => batch.committed.map(|c| c.committed_at + node.challenge_window),
            Lane::Zk => None,
        };
        let waiting_for = match (batch.status, lane) {
            (BatchStatus::Soft, _) => "posting to L1".to_string(),
            (BatchStatus::Posted, Lane::Optimistic) => format!(
                "challenge window (optimistic lane) until L1 time {}, and the previous batch",
                finalizable_at.unwrap_or_default()
            ),
            (BatchStatus::Posted, Lane::Zk) => "a validity proof (ZK lane), and the previous batch".to_string(),
            (BatchStatus::Final, _) => "nothing: final".to_string(),
        };
        Ok::<Value, ErrorObjectOwned>(json!({
            "number": batch.number,
            "lane": lane,
            "status": batch.status,
            "waitingFor": waiting_for,
            "blocks": [batch.number],
            "l1CommitTx": batch.l1_commit_tx,
            "l1FinalizeTx": batch.l1_finalize_tx,
            "committedAt": batch.committed.map(|c| c.committed_at),
            "finalizableAt": finalizable_at,
            "withdrawalCount": batch.committed.map(|c| c.withdrawal_count),
        }))
    })
    .expect("unique method name");
    m.register_method("tandem_getWithdrawal", |params, node, _| {
        let mut seq = params.sequence();
        let batch_number: u64 = seq.next()?;
        let index: u32 = seq.next()?;
        let Some(block) = node.block(batch_number).map_err(internal)? else { return Ok(Value::Null) };
        let ops = tandem_types::decode_public_data(&block.public_data).map_err(internal)?;
        let withdrawals = tandem_chain::withdrawals(&ops);
        let Some(w) = withdrawals.get(index as usize) else { return Ok(Value::Null) };
        let proof = tandem_chain::withdrawal_proof(&withdrawals, index as usize).unwrap_or_default();
        let status = node.batch(batch_number).map_err(internal)?.map(|b| b.status).unwrap_or(BatchStatus::Soft);
        Ok::<Value, ErrorObjectOwned>(json!({
            "batch": batch_number,
            "index": index,
            "tokenId": w.token.get(),
            "amount": w.amount.to_string(),
            "recipient": w.to_l1.to_string(),
            "l2From": w.from.get(),
            "status": status,
            "claimable": status == BatchStatus::Final,
            "proof": proof.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        }))
    })
    .expect("unique method name");
    m
}

/// Starts the JSON-RPC server.
pub async fn serve_rpc(node: Arc<Node>, addr: SocketAddr) -> Result<(ServerHandle, SocketAddr), NodeError> {
    serve_module(module(node), addr).await
}

/// Starts the JSON-RPC server with `methods`.
pub async fn serve_module<C: Send + Sync + 'static>(
    methods: RpcModule<C>,
    addr: SocketAddr,
) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(16 * 1024 * 1024)
        .build();
    let server = Server::builder()
        .set_config(config)
        .build(addr)
        .await
        .map_err(|e| NodeError::Server(format!("RPC on {addr}: {e}")))?;
    let local = server.local_addr().map_err(|e| NodeError::Server(e.to_string()))?;
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
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| NodeError::Server(format!("metrics on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| NodeError::Server(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(local)
}
