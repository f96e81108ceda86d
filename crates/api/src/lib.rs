//! The one definition of Tandem's JSON-RPC (SPEC §7 and §11 "RPC"): the methods as jsonrpsee
//! traits, and their params and results as typed serde structs.
//!
//! [`TandemApiServer`] / [`TandemApiClient`] are the node's methods, [`MemberApiServer`] /
//! [`MemberApiClient`] the extra methods of a sequencer-set member. The node implements the
//! server traits; the wallet, the prover, the members (towards each other) and the tests
//! call the generated clients (`TandemApiClient` is implemented for every jsonrpsee client,
//! e.g. `jsonrpsee::http_client::HttpClient`). The JSON is SPEC §7's: camelCase fields,
//! amounts as decimal strings, hashes and byte strings as `0x` hex, absent values as `null`.
//!
//! Errors are JSON-RPC error objects with the stable codes of [`ApiError`]: `-32602`
//! (invalid params), `-32000` (refused by the rules, the message says which rule) and
//! `-32603` (internal).

use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;

mod errors;
mod types;

pub use errors::{ApiError, INTERNAL, INVALID_PARAMS, REFUSED};
pub use types::{
    AccountRef, AccountRefParseError, AccountView, Amount, BatchSignature, BatchSignersView, BatchStatus, BatchView, BlockView,
    ChainParams, EpochSetView, ErrorView, ForwardReceipt, SendOutcome, SequencerSetView, SetMemberView, Stake, SubmittedTx,
    TransactionView, TxStatus, WithdrawalRef, WithdrawalView,
};

/// Longest wait `tandem_waitForBlock` accepts, in milliseconds: a waiting call holds one of
/// the server's connections, so it must end.
pub const MAX_BLOCK_WAIT_MS: u64 = 30_000;

/// Most transactions one `tandem_sendTransactions` call may carry. Why a bound: the call's
/// answer waits for all of them, and 256 transfers (109 bytes each: ~57 KB of JSON) stay well
/// inside the server's 128 KiB request limit.
pub const MAX_SEND_BATCH: usize = 256;

/// The node's JSON-RPC methods (namespace `tandem`, SPEC §7).
#[rpc(server, client, namespace = "tandem")]
pub trait TandemApi {
    /// `tandem_chainParams`: the chain's parameters. Errors: none.
    #[method(name = "chainParams")]
    fn chain_params(&self) -> RpcResult<ChainParams>;

    /// `tandem_sendTransaction`: submits a signed transaction, `0x` hex of its SPEC §4.3
    /// encoding. Errors: `-32602` when the text is not `0x` hex or the bytes are not a
    /// transaction (the message says which); `-32000` when the rules refuse it (bad
    /// signature, nonce, balance, unknown account, already known; the message is the reason);
    /// `-32603` when the store fails. The answer waits for the disk sync that makes the
    /// transaction durable (shared by concurrent calls: the node admits them in batches).
    #[method(name = "sendTransaction")]
    async fn send_transaction(&self, tx_hex: String) -> RpcResult<SubmittedTx>;

    /// `tandem_sendTransactions`: submits up to [`MAX_SEND_BATCH`] signed transactions in one
    /// call, each `0x` hex as for `tandem_sendTransaction`, for clients that send many (a
    /// wallet service, a bridge, a load generator): one request instead of one per
    /// transaction. They are admitted in order, each as if sent alone right after the ones
    /// before it (so one account's consecutive nonces may share a call). One outcome per
    /// transaction, in order: its hash, or the error `tandem_sendTransaction` would have
    /// returned for it. Errors: `-32602` for more than [`MAX_SEND_BATCH`] transactions. The
    /// answer waits for the disk sync that makes the accepted ones durable.
    #[method(name = "sendTransactions")]
    async fn send_transactions(&self, txs: Vec<String>) -> RpcResult<Vec<SendOutcome>>;

    /// `tandem_getTransaction`: a transaction's fate, `null` if unknown. Errors: `-32602`
    /// for a malformed hash, `-32603` when the store fails.
    #[method(name = "getTransaction")]
    fn transaction(&self, hash: tandem_chain::TxHash) -> RpcResult<Option<TransactionView>>;

    /// `tandem_getAccount`: an account by `"#<index>"` or packed public key, `null` if none.
    /// Errors: `-32602` for a malformed reference or an index out of range.
    #[method(name = "getAccount")]
    fn account(&self, who: AccountRef) -> RpcResult<Option<AccountView>>;

    /// `tandem_blockNumber`: the latest L2 block (0 = genesis). Errors: `-32603` when the
    /// store fails.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<u64>;

    /// `tandem_waitForBlock`: the latest L2 block as soon as it is past `after`; if none comes
    /// within `timeoutMs` (at most [`MAX_BLOCK_WAIT_MS`]), the latest block then (so `<= after`).
    /// Lets a client wait for the next block without polling. Errors: `-32602` for a timeout
    /// above the most.
    #[method(name = "waitForBlock")]
    async fn wait_for_block(&self, after: u64, timeout_ms: u64) -> RpcResult<u64>;

    /// `tandem_getBlock`: block `number`, `null` if there is none. Errors: `-32602` for a
    /// number that is not a `u64`, `-32603` when the store fails.
    #[method(name = "getBlock")]
    fn block(&self, number: u64) -> RpcResult<Option<BlockView>>;

    /// `tandem_getBatch`: batch `number` and where it stands on L1, `null` if there is none.
    /// Errors: `-32602` for a number that is not a `u64`, `-32603` when the store fails.
    #[method(name = "getBatch")]
    fn batch(&self, number: u64) -> RpcResult<Option<BatchView>>;

    /// `tandem_getWithdrawal`: withdrawal `index` of batch `batch` with its inclusion proof,
    /// `null` if there is none. Errors: `-32602` for params of the wrong type, `-32603` when
    /// the store fails.
    #[method(name = "getWithdrawal")]
    fn withdrawal(&self, batch: u64, index: u32) -> RpcResult<Option<WithdrawalView>>;
}

/// The extra methods of a sequencer-set member (namespace `tandem`, SPEC §11 "RPC").
#[rpc(server, client, namespace = "tandem")]
pub trait MemberApi {
    /// `tandem_batchSignature`: this member's signature over batch `number`'s digest, `null`
    /// while it has not decided that block. Errors: `-32603` when the store fails.
    #[method(name = "batchSignature")]
    fn batch_signature(&self, number: u64) -> RpcResult<Option<BatchSignature>>;

    /// `tandem_forwardTransactions`: transactions another member accepted (`0x` hex of their
    /// encodings), admitted here as if submitted; refused ones are counted, not reported.
    /// Errors: `-32602` for more transactions than the member's forwarding chunk.
    /// Runs on the blocking pool (signature checks and a disk sync).
    #[method(name = "forwardTransactions", blocking)]
    fn forward_transactions(&self, txs: Vec<alloy::primitives::Bytes>) -> RpcResult<ForwardReceipt>;

    /// `tandem_sequencerSet`: this member, its consensus progress and the latest two L1
    /// epochs' sets. Errors: none.
    #[method(name = "sequencerSet")]
    fn sequencer_set(&self) -> RpcResult<SequencerSetView>;
}
