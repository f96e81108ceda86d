//! Consensus of Tandem's sequencer set: Malachite (Tendermint) with the set's L1 stakes as
//! voting power, a stake-weighted proposer rotation, and secp256k1 signatures over keccak
//! digests that the L1 staking contract recomputes (so engine evidence is L1 evidence).
//!
//! The node plugs in through [`ConsensusApp`]: it builds, checks and commits block payloads
//! (opaque bytes here) and supplies each height's validator set.

#![warn(missing_docs)]

pub mod codec;
pub mod engine;
pub mod signing;
pub mod types;

pub use engine::{
    proposer_of, run, run_supervised, timeouts_for, AppError, ByzantineConfig, ConsensusApp, DecidedBytes, DoubleVote, EngineConfig,
    EngineError, PayloadRefused, Trigger,
};
pub use malachitebft_app_channel::app::net::Multiaddr;
pub use malachitebft_app_channel::app::types::core::LinearTimeouts;
pub use signing::{recover_signer, sign_digest, vote_digest, ConsensusSigner, Signature, SignatureError};
pub use types::{voting_power_of_stake, Address, BlockId, Height, TandemContext, Validator, ValidatorSet, ValidatorSetError};
