//! Errors of the state transition function and of storage.

use tandem_crypto::{PointError, SignatureError};
use tandem_types::{AccountIndex, Balance, Nonce, TokenId};

/// Why an operation is invalid. Every variant names what is wrong, so the message can be
/// returned to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StfError {
    /// The index does not fit the chain's tree depth.
    #[error("account index {index} is outside the tree (depth {depth} holds indices below {capacity})")]
    IndexOutOfRange {
        /// The index named.
        index: AccountIndex,
        /// The chain's tree depth.
        depth: u8,
        /// `2^depth`.
        capacity: u64,
    },
    /// No account at this index.
    #[error("account {0} does not exist")]
    AccountNotFound(AccountIndex),
    /// A new account was to be created at an index already in use.
    #[error("account {0} already exists; a new account needs an empty slot")]
    AccountExists(AccountIndex),
    /// Every index of the tree is taken.
    #[error("the state tree is full ({capacity} accounts)")]
    TreeFull {
        /// `2^depth`.
        capacity: u64,
    },
    /// A deposit named an existing account owned by another key.
    #[error("account {index} is owned by another public key")]
    PubKeyMismatch {
        /// The account named.
        index: AccountIndex,
    },
    /// The recipient key is not a valid Baby Jubjub point.
    #[error("recipient public key is invalid: {0}")]
    InvalidPubKey(PointError),
    /// The signature bytes are malformed.
    #[error("malformed signature: {0}")]
    MalformedSignature(SignatureError),
    /// The signature does not verify for this transaction, chain and signer.
    #[error(
        "signature does not verify for account {from} on chain {chain_id} (wrong key, tampered transaction, or signed for another chain)"
    )]
    BadSignature {
        /// The signing account.
        from: AccountIndex,
        /// This chain's id.
        chain_id: u64,
    },
    /// A user operation without a signature.
    #[error("operation of account {0} carries no signature")]
    MissingSignature(AccountIndex),
    /// The nonce is not the account's current one (replayed or out of order).
    #[error("nonce mismatch for account {from}: expected {expected}, got {got} (a lower nonce is a replay)")]
    NonceMismatch {
        /// The signing account.
        from: AccountIndex,
        /// The account's current nonce.
        expected: Nonce,
        /// The nonce in the transaction.
        got: Nonce,
    },
    /// The account's nonce cannot be incremented again.
    #[error("account {0} has used every nonce")]
    NonceExhausted(AccountIndex),
    /// Amount plus fee exceeds the balance.
    #[error("insufficient balance in account {index} for token {token}: has {balance}, needs {needed}")]
    InsufficientBalance {
        /// The debited account.
        index: AccountIndex,
        /// The token.
        token: u8,
        /// Current balance.
        balance: Balance,
        /// Amount plus fee.
        needed: Balance,
    },
    /// Amount plus fee does not fit 128 bits.
    #[error("amount plus fee overflows 128 bits")]
    AmountOverflow,
    /// A credit would push a balance past 2^128 - 1.
    #[error("balance of account {index} for token {token} would overflow 128 bits")]
    BalanceOverflow {
        /// The credited account.
        index: AccountIndex,
        /// The token.
        token: u8,
    },
    /// Sender and recipient are the same account.
    #[error("account {0} cannot transfer to itself")]
    SelfTransfer(AccountIndex),
    /// The block's fee account does not exist.
    #[error("fee account {0} does not exist")]
    FeeAccountMissing(AccountIndex),
    /// A deposit of nothing.
    #[error("deposit amount must be positive")]
    ZeroDeposit,
    /// A forced-withdrawal request with a signature word at or above the field modulus (L1
    /// refuses such requests, so a queue never holds one).
    #[error("forced-withdrawal request for account {0} has a signature word at or above the field modulus")]
    MalformedForcedRequest(AccountIndex),
}

impl StfError {
    pub(crate) fn insufficient(index: AccountIndex, token: TokenId, balance: Balance, needed: Balance) -> Self {
        Self::InsufficientBalance { index, token: token.get(), balance, needed }
    }
}

/// A batch was refused: the op at `index` is invalid, and nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("op {index} of the batch is invalid: {error}")]
pub struct BatchError {
    /// Position of the first invalid op in the batch.
    pub index: usize,
    /// Why it is invalid.
    pub error: StfError,
}

/// Chain parameters the ledger cannot work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerConfigError {
    /// The account tree depth is outside `1..=24`.
    #[error("tree depth {0} outside 1..=24")]
    TreeDepth(u8),
}

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded database failed.
    #[error("database: {0}")]
    Database(String),
    /// Stored bytes do not decode (corruption, or a database of another format).
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The store was created with different chain parameters.
    #[error("store belongs to another chain configuration: {0}")]
    ConfigMismatch(String),
    /// The chain parameters the store is opened with are unusable.
    #[error("chain parameters: {0}")]
    InvalidConfig(#[from] LedgerConfigError),
}

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Database(e.to_string()) }
        }
    )*};
}
db_error!(redb::Error, redb::DatabaseError, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);
