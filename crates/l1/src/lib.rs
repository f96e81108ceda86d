//! Tandem's L1 side: typed bindings to the rollup contracts (from the committed forge
//! artifacts), deployment for devnets, and the calls and event queries the node, the
//! wallet and the devnet make: deposits, batch commit and finalization, withdrawal claims;
//! and the staked mode ([`staking`]): the digests sequencers sign, staking, epochs, active
//! sets, rewards, slashing evidence and signed commits.
//!
//! Commitments that L1 and L2 must compute identically (batch header hash, withdrawal
//! tree, intermediate-roots commitment) and the digests the set signs are `tandem_chain`'s;
//! [`commitments`] converts the header into the binding structs.

#![warn(missing_docs)]

pub mod anvil;
pub mod bindings;
pub mod client;
pub mod commitments;
pub mod solc;
pub mod staking;

pub use alloy::primitives::{Address, B256, U256};
pub use alloy::signers::local::PrivateKeySigner;
pub use client::{
    client_chain_id, connect, deploy_bytecode, deploy_devnet, deploy_staked_devnet, CommittedBatch, Deployment, L1Error, QueuedDeposit,
    RollupClient, StakedDeployment, StakedParams,
};
pub use commitments::{to_sol, to_staked_sol};
pub use staking::{ActiveSet, Member, MemberPeer, SlashReport, StakerInfo, StakingClient};
