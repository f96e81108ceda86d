//! A client of the node's JSON-RPC (`tandem_api`, SPEC §7), with errors that say what to do
//! next.

use anyhow::{anyhow, Context, Result};
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::time::Duration;
use tandem_api::{
    AccountRef, AccountView, BatchView, BlockView, ChainParams, MemberApiClient, SequencerSetView, TandemApiClient, TransactionView,
    WithdrawalView,
};
use tandem_chain::TxHash;

/// The node's JSON-RPC, over HTTP.
pub struct L2Client {
    url: String,
    client: HttpClient,
}

impl L2Client {
    /// A client of the node at `url` (no request is made yet).
    pub fn new(url: &str) -> Result<Self> {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .max_response_size(64 * 1024 * 1024)
            .build(url)
            .with_context(|| format!("bad node RPC URL {url:?}: give --rpc http://host:port"))?;
        Ok(Self { url: url.to_string(), client })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Turns a failed call of `method` into an error that says what to do next.
    fn explain(&self, method: &str, e: ClientError) -> anyhow::Error {
        match e {
            ClientError::Call(e) if e.code() == -32601 => {
                anyhow!("the node at {} does not know {method}: is it a Tandem node of this version?", self.url)
            }
            ClientError::Call(e) => match e.data() {
                Some(data) => anyhow!("the node refused {method}: {} ({})", e.message(), data.get()),
                None => anyhow!("the node refused {method}: {}", e.message()),
            },
            ClientError::Transport(e) => {
                anyhow!("node unreachable at {}: is `tandem devnet` (or `tandem node`) running? ({e})", self.url)
            }
            ClientError::RequestTimeout => {
                anyhow!("node at {} did not answer {method} within 30 s: is it overloaded or stuck?", self.url)
            }
            ClientError::ParseError(e) => {
                anyhow!("the node at {} answered {method} in another format ({e}): is it a Tandem node of this version?", self.url)
            }
            e => anyhow!("calling {method} on {}: {e}", self.url),
        }
    }

    /// `tandem_chainParams`.
    pub async fn chain_params(&self) -> Result<ChainParams> {
        self.client.chain_params().await.map_err(|e| self.explain("tandem_chainParams", e))
    }

    /// `tandem_getAccount`.
    pub async fn account(&self, who: AccountRef) -> Result<Option<AccountView>> {
        self.client.account(who).await.map_err(|e| self.explain("tandem_getAccount", e))
    }

    /// `tandem_sendTransaction` of the encoded transaction; returns its hash.
    pub async fn send_transaction(&self, encoded: &[u8]) -> Result<TxHash> {
        let submitted = self
            .client
            .send_transaction(format!("0x{}", hex::encode(encoded)))
            .await
            .map_err(|e| self.explain("tandem_sendTransaction", e))?;
        Ok(submitted.hash)
    }

    /// `tandem_getTransaction`.
    pub async fn transaction(&self, hash: TxHash) -> Result<Option<TransactionView>> {
        self.client.transaction(hash).await.map_err(|e| self.explain("tandem_getTransaction", e))
    }

    /// `tandem_getBatch`.
    pub async fn batch(&self, number: u64) -> Result<Option<BatchView>> {
        TandemApiClient::batch(&self.client, number).await.map_err(|e| self.explain("tandem_getBatch", e))
    }

    /// `tandem_getBlock`.
    pub async fn block(&self, number: u64) -> Result<Option<BlockView>> {
        TandemApiClient::block(&self.client, number).await.map_err(|e| self.explain("tandem_getBlock", e))
    }

    /// `tandem_getWithdrawal`.
    pub async fn withdrawal(&self, batch: u64, index: u32) -> Result<Option<WithdrawalView>> {
        self.client.withdrawal(batch, index).await.map_err(|e| self.explain("tandem_getWithdrawal", e))
    }

    /// `tandem_blockNumber`.
    pub async fn block_number(&self) -> Result<u64> {
        self.client.block_number().await.map_err(|e| self.explain("tandem_blockNumber", e))
    }

    /// `tandem_sequencerSet` (set members only).
    pub async fn sequencer_set(&self) -> Result<SequencerSetView> {
        self.client.sequencer_set().await.map_err(|e| self.explain("tandem_sequencerSet", e))
    }
}
