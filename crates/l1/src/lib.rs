//! Tandem's L1 side: typed bindings to the rollup contracts (from the committed forge
//! artifacts) and the clients the node, the wallet and the devnet call: deposits, batch commit
//! and finalization, withdrawal claims; and the staked mode ([`staking`]): staking, epochs, active sets, rewards, slashing evidence and signed
//! commits; the prover market ([`market`]); the dispute game ([`dispute`]); exodus, exits and refunds ([`exodus`]). Contract reverts come back decoded from the ABI ([`ContractRevert`]). Deploying
//! and running devnets (anvil, solc) is `tandem-devnet`'s job.
//!
//! Commitments that L1 and L2 must compute identically (batch header hash, withdrawal
//! tree, intermediate-roots commitment) and the digests the set signs are `tandem_chain`'s;
//! [`commitments`] converts the header into the binding structs.

#![warn(missing_docs)]

pub mod bindings;
pub mod client;
pub mod commitments;
pub mod dispute;
pub mod exodus;
pub mod forced;
pub mod market;
pub mod revert;
pub mod staking;

pub use alloy::primitives::{Address, B256, U256};
pub use alloy::signers::local::PrivateKeySigner;
pub use client::{
    client_chain_id, confirm, connect, contract_error, rpc_error, staking_error, BatchSigners, CommitOrigin, CommittedBatch, L1Error,
    QueuedDeposit, RollupClient,
};
pub use commitments::{to_sol, to_staked_sol};
pub use dispute::{record_hash, ChunkChallenge, DisputeClient, GameParams, SequencerBond};
pub use exodus::{ExodusState, PendingPriorityOp};
pub use forced::{ForcedClient, QueuedForcedWithdrawal};
pub use market::{Fulfillment, JobStatus, LockEvent, MarketClient, MarketJob, MarketParams, SlashEvent};
pub use revert::ContractRevert;
pub use staking::{ActiveSet, Member, MemberPeer, SlashReport, StakerInfo, StakingClient};
