//! Tandem's L1 side: typed bindings to the rollup contracts (from the committed forge
//! artifacts) and the clients the node, the wallet and the devnet call: deposits, batch commit
//! and finalization, withdrawal claims; and the staked mode ([`staking`]): the digests
//! sequencers sign, staking, epochs, active sets, rewards, slashing evidence and signed
//! commits. Contract reverts come back decoded from the ABI ([`ContractRevert`]). Deploying
//! and running devnets (anvil, solc) is `tandem-devnet`'s job.
//!
//! Commitments that L1 and L2 must compute identically (batch header hash, withdrawal
//! tree, intermediate-roots commitment) live in [`commitments`], next to the bindings.

#![warn(missing_docs)]

pub mod bindings;
pub mod client;
pub mod commitments;
pub mod revert;
pub mod staking;

pub use alloy::primitives::{Address, B256, U256};
pub use alloy::signers::local::PrivateKeySigner;
pub use client::{
    client_chain_id, confirm, connect, contract_error, staking_error, CommittedBatch, L1Error, QueuedDeposit, RollupClient,
};
pub use revert::ContractRevert;
pub use commitments::{
    intermediate_roots_root, withdrawal_leaf, withdrawal_proof, withdrawals_root, zk_data_hash, zk_public_data, BatchHeader, Lane,
    ZK_RECORD_BYTES,
};
pub use staking::{
    batch_digest, recover_signer, sign_digest, sort_by_signer, vote_digest, ActiveSet, Member, MemberPeer, SignatureError, SlashReport,
    StakerInfo, StakingClient, VoteType,
};
