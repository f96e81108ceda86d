//! Tandem's protocol values that every role shares (node, prover, consensus, L1 client,
//! circuit): the genesis state and chain parameters, the transaction hash, typed blocks and
//! their inputs, the batch header with the commitments L1 recomputes (header hash, withdrawal
//! tree, intermediate-roots root), the digests the sequencer set signs and their signature
//! format, the validity proof's data commitment, and the canonical consensus payload.
//!
//! One implementation of each: roles take them from here, so they cannot drift apart.

#![warn(missing_docs)]

pub mod batch;
pub mod block;
pub mod block_encoding;
pub mod genesis;
pub mod payload;
pub mod signing;
pub mod tx_hash;
pub mod zk_data;

pub use alloy::primitives::{Address, B256};
pub use batch::{
    block_withdrawals, chunk_boundary, chunk_count, intermediate_roots_root, withdrawal_leaf, withdrawal_proof, withdrawals,
    withdrawals_root, BatchHeader, ChunkBoundary, Lane,
};
pub use block::{BlockInput, BlockRecord, ConsensusInfo};
pub use block_encoding::BLOCK_RECORD_VERSION;
pub use genesis::{genesis_ledger, genesis_root, GenesisError, FEE_ACCOUNT};
pub use payload::{ConsensusPayload, PayloadError, PayloadReason, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_INPUTS, PAYLOAD_VERSION};
pub use signing::{
    batch_digest, recover_signer, sign_digest, sort_by_signer, vote_digest, SignatureError, SignatureSetError, VoteType, BATCH_DOMAIN,
    VOTE_DOMAIN,
};
pub use tx_hash::{TxHash, TxHashParseError};
pub use zk_data::{zk_data_hash, zk_public_data, ZK_RECORD_BYTES};
