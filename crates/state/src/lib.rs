//! Tandem's account state: the Poseidon sparse Merkle tree of accounts (each with a
//! balance sub-tree), the state transition function that validates and applies ops
//! atomically per batch while recording the root after every op, and crash-safe
//! persistence in an embedded database (redb).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod error;
pub mod ledger;
pub mod signing;
pub mod store;
pub mod tree;
pub mod verified;
pub mod witness;

pub use account::Account;
pub use error::{BatchError, LedgerConfigError, StfError, StoreError};
pub use ledger::{BatchOutcome, BlockOutcome, Ledger, LedgerConfig, LedgerOp};
/// The embedded database, re-exported so that callers of [`PersistentLedger::persist_with`] use the same version.
pub use redb;
pub use store::PersistentLedger;
pub use tree::{MerkleProof, SparseMerkleTree};
pub use verified::VerifiedSignatures;
