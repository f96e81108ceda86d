//! A client of the node's JSON-RPC (SPEC §7), with errors that say what to do next.
//!
//! Results are read leniently from JSON values (numbers may come as JSON numbers or decimal
//! strings) so that the wallet does not depend on the node crate's Rust types.

use anyhow::{anyhow, bail, Context, Result};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;
use std::time::Duration;

/// The node's JSON-RPC, over HTTP.
pub struct L2Client {
    url: String,
    client: HttpClient,
}

/// `tandem_chainParams`.
#[derive(Debug, Clone)]
pub struct ChainParams {
    /// L2 chain id.
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u64,
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// Rollup contract.
    pub rollup: String,
    /// Deployment block.
    pub deploy_block: u64,
    /// Challenge window (seconds).
    pub challenge_window: u64,
    /// Fee account index.
    pub fee_account: u64,
    /// Block time.
    pub block_time_ms: u64,
    /// Everything, as returned.
    pub raw: Value,
}

/// `tandem_getAccount`.
#[derive(Debug, Clone)]
pub struct Account {
    /// Account index.
    pub index: u32,
    /// Packed owner key.
    pub public_key: String,
    /// Nonce in the latest block.
    pub nonce: u32,
    /// Nonce after the account's pending transactions.
    pub pending_nonce: u32,
    /// Token id → balance.
    pub balances: Vec<(u8, u128)>,
    /// Everything, as returned.
    pub raw: Value,
}

impl Account {
    /// Balance of `token` (0 if none).
    pub fn balance(&self, token: u8) -> u128 {
        self.balances.iter().find(|(t, _)| *t == token).map(|(_, b)| *b).unwrap_or(0)
    }
}

/// Reads field `key` of `v` as an unsigned integer (JSON number, decimal or 0x-hex string).
pub fn uint(v: &Value, key: &str) -> Result<u128> {
    let field = v.get(key).ok_or_else(|| anyhow!("node answer has no field {key:?}: {v}"))?;
    value_uint(field).ok_or_else(|| anyhow!("node answer field {key:?} is not an unsigned integer: {field}"))
}

/// An unsigned integer from a JSON number or a decimal / 0x-hex string.
pub fn value_uint(v: &Value) -> Option<u128> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::String(s) => {
            if let Some(h) = s.strip_prefix("0x") {
                u128::from_str_radix(h, 16).ok()
            } else {
                s.parse().ok()
            }
        }
        _ => None,
    }
}

/// Optional unsigned field.
pub fn opt_uint(v: &Value, key: &str) -> Option<u128> {
    v.get(key).filter(|f| !f.is_null()).and_then(value_uint)
}

/// Field `key` as a string (numbers are shown as they are).
pub fn string(v: &Value, key: &str) -> Result<String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => bail!("node answer has no string field {key:?}: {v}"),
    }
}

/// Optional string field.
pub fn opt_string(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl L2Client {
    /// A client of the node at `url` (no request is made yet).
    pub fn new(url: &str) -> Result<Self> {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(url)
            .with_context(|| format!("bad node RPC URL {url:?}: give --rpc http://host:port"))?;
        Ok(Self { url: url.to_string(), client })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with positional `params`.
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value> {
        let mut p = ArrayParams::new();
        for v in params {
            p.insert(v).expect("JSON values serialize");
        }
        match self.client.request::<Value, _>(method, p).await {
            Ok(v) => Ok(v),
            Err(jsonrpsee::core::ClientError::Call(e)) => {
                if e.code() == -32601 {
                    bail!("the node at {} does not know {method}: is it a Tandem node of this version?", self.url)
                }
                bail!("the node refused {method}: {}", e.message())
            }
            Err(jsonrpsee::core::ClientError::Transport(e)) => {
                bail!("node unreachable at {}: is `tandem devnet` (or `tandem node`) running? ({e})", self.url)
            }
            Err(jsonrpsee::core::ClientError::RequestTimeout) => {
                bail!("node at {} did not answer {method} within 30 s: is it overloaded or stuck?", self.url)
            }
            Err(e) => bail!("calling {method} on {}: {e}", self.url),
        }
    }

    /// `tandem_chainParams`.
    pub async fn chain_params(&self) -> Result<ChainParams> {
        let v = self.call("tandem_chainParams", vec![]).await?;
        Ok(ChainParams {
            chain_id: uint(&v, "chainId")? as u64,
            tree_depth: uint(&v, "treeDepth")? as u64,
            l1_chain_id: uint(&v, "l1ChainId")? as u64,
            rollup: string(&v, "rollup")?,
            deploy_block: opt_uint(&v, "deployBlock").unwrap_or(0) as u64,
            challenge_window: opt_uint(&v, "challengeWindow").unwrap_or(0) as u64,
            fee_account: opt_uint(&v, "feeAccount").unwrap_or(0) as u64,
            block_time_ms: opt_uint(&v, "blockTimeMs").unwrap_or(0) as u64,
            raw: v,
        })
    }

    /// `tandem_getAccount` by packed key (`0x…`) or index (`#n`).
    pub async fn account(&self, who: &str) -> Result<Option<Account>> {
        let v = self.call("tandem_getAccount", vec![Value::String(who.to_string())]).await?;
        if v.is_null() {
            return Ok(None);
        }
        let mut balances = Vec::new();
        if let Some(Value::Object(map)) = v.get("balances") {
            for (token, amount) in map {
                let token: u8 = token.parse().with_context(|| format!("node answer: balance token id {token:?}"))?;
                let amount = value_uint(amount).ok_or_else(|| anyhow!("node answer: balance {amount} is not an amount"))?;
                balances.push((token, amount));
            }
        }
        balances.sort();
        let nonce = uint(&v, "nonce")? as u32;
        Ok(Some(Account {
            index: uint(&v, "index")? as u32,
            public_key: opt_string(&v, "publicKey").unwrap_or_default(),
            nonce,
            pending_nonce: opt_uint(&v, "pendingNonce").map(|n| n as u32).unwrap_or(nonce),
            balances,
            raw: v,
        }))
    }

    /// `tandem_sendTransaction`; returns the hash.
    pub async fn send_transaction(&self, encoded: &[u8]) -> Result<String> {
        let v = self.call("tandem_sendTransaction", vec![Value::String(format!("0x{}", hex::encode(encoded)))]).await?;
        string(&v, "hash")
    }

    /// `tandem_getTransaction`.
    pub async fn transaction(&self, hash: &str) -> Result<Option<Value>> {
        let v = self.call("tandem_getTransaction", vec![Value::String(hash.to_string())]).await?;
        Ok((!v.is_null()).then_some(v))
    }

    /// `tandem_getBatch`.
    pub async fn batch(&self, number: u64) -> Result<Option<Value>> {
        let v = self.call("tandem_getBatch", vec![Value::from(number)]).await?;
        Ok((!v.is_null()).then_some(v))
    }

    /// `tandem_getWithdrawal`.
    pub async fn withdrawal(&self, batch: u64, index: u32) -> Result<Option<Value>> {
        let v = self.call("tandem_getWithdrawal", vec![Value::from(batch), Value::from(index)]).await?;
        Ok((!v.is_null()).then_some(v))
    }

    /// `tandem_blockNumber`.
    pub async fn block_number(&self) -> Result<u64> {
        let v = self.call("tandem_blockNumber", vec![]).await?;
        value_uint(&v).map(|n| n as u64).ok_or_else(|| anyhow!("tandem_blockNumber answered {v}"))
    }
}
