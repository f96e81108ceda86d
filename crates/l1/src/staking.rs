//! The staked mode on L1 (`SequencerStaking` + `StakedRollup`, contracts/README.md "Staked
//! mode"): [`StakingClient`] for staking, epochs, active sets, rewards (funded pools and the
//! per-batch emission reserve) and slashing evidence. The digests sequencers sign and their
//! signature format are `tandem_chain::signing`.

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use tandem_chain::VoteType;

use crate::bindings::{DevToken, SequencerStaking};
use crate::client::{confirm, connect, receipt_event, rpc_error, staking_error, L1Error};

/// One member of an epoch's active set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The staking address (owns the stake, claims rewards).
    pub staker: Address,
    /// Address of the secp256k1 key that signs batches and votes for it.
    pub signing_key: Address,
    /// Its stake in the epoch (frozen for a materialized epoch).
    pub stake: U256,
}

/// An epoch's active set in the contract's rank order (stake descending, ties by lower
/// staker address): `members[i]` is bit `i` of signer bitmaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSet {
    /// The epoch.
    pub epoch: u64,
    /// Members, ranked.
    pub members: Vec<Member>,
    /// Sum of the members' stakes; a signature quorum needs more than 2/3 of it.
    pub total_stake: U256,
}

/// A member's identity and where to reach it (the address it registered on L1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPeer {
    /// The staking address.
    pub staker: Address,
    /// Its signing key's address.
    pub signing_key: Address,
    /// The network address it registered (e.g. `host:port`), as stored (may be empty).
    pub network_address: Vec<u8>,
}

/// Everything the contract stores about a staker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakerInfo {
    /// Registered signing key (zero if it never staked).
    pub signing_key: Address,
    /// Active stake (counts for the sets of later epochs).
    pub active_stake: U256,
    /// Stake leaving (still slashable), withdrawable at `unbonding_end`.
    pub unbonding: U256,
    /// L1 timestamp from which `withdraw` pays `unbonding`.
    pub unbonding_end: u64,
    /// In the registry (candidate for later sets).
    pub registered: bool,
    /// Registered network address.
    pub network_address: Vec<u8>,
}

/// The result of accepted slashing evidence (from the contract's `Slashed` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashReport {
    /// The slashed staker (owner of the equivocating key).
    pub staker: Address,
    /// Amount taken from its bonded stake.
    pub slashed: U256,
    /// Part of `slashed` paid to the reporter (`reporterBps`); the rest went to the treasury.
    pub reporter_reward: U256,
    /// The L1 transaction.
    pub tx: B256,
}

/// A connection to the `SequencerStaking` contract, optionally with a signing key (the
/// staker's L1 account, which pays for transactions; not its batch signing key).
#[derive(Clone)]
pub struct StakingClient {
    provider: DynProvider,
    staking: Address,
    signer: Option<Address>,
}

impl std::fmt::Debug for StakingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StakingClient").field("staking", &self.staking).field("signer", &self.signer).finish()
    }
}

impl StakingClient {
    /// Connects to the staking contract at `staking` through `rpc_url`; `signer` is needed
    /// for transactions.
    pub fn new(rpc_url: &str, staking: Address, signer: Option<PrivateKeySigner>) -> Result<Self, L1Error> {
        let (provider, signer) = connect(rpc_url, signer)?;
        Ok(Self { provider, staking, signer })
    }

    fn contract(&self) -> SequencerStaking::SequencerStakingInstance<DynProvider> {
        SequencerStaking::new(self.staking, self.provider.clone())
    }

    fn sender(&self) -> Result<Address, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)
    }

    /// The staking contract's address.
    pub fn address(&self) -> Address {
        self.staking
    }

    /// The account that sends this client's transactions, if any.
    pub fn signer(&self) -> Option<Address> {
        self.signer
    }

    /// The ERC-20 that is staked, slashed and paid as rewards.
    pub async fn staking_token(&self) -> Result<Address, L1Error> {
        self.contract().stakingToken().call().await.map_err(staking_error)
    }

    /// Balance of `owner` in the staking token.
    pub async fn token_balance(&self, owner: Address) -> Result<U256, L1Error> {
        let token = DevToken::new(self.staking_token().await?, self.provider.clone());
        token.balanceOf(owner).call().await.map_err(staking_error)
    }

    async fn approve(&self, amount: U256) -> Result<(), L1Error> {
        let token = DevToken::new(self.staking_token().await?, self.provider.clone());
        confirm(token.approve(self.staking, amount).send().await.map_err(staking_error)?).await.map(|_| ())
    }

    /// Approves and stakes `amount` from the signer. The first stake registers `signing_key`
    /// (permanent); later ones pass the same key or zero. A non-empty `network_address`
    /// replaces the stored one. Counts from the next epoch.
    pub async fn stake(&self, amount: U256, signing_key: Address, network_address: &[u8]) -> Result<B256, L1Error> {
        self.sender()?;
        self.approve(amount).await?;
        let contract = self.contract();
        let call = contract.stake(amount, signing_key, Bytes::copy_from_slice(network_address));
        Ok(confirm(call.send().await.map_err(staking_error)?).await?.transaction_hash)
    }

    /// Moves `amount` of the signer's active stake to unbonding (the whole unbonding balance
    /// becomes withdrawable `unbondingDelay` from now).
    pub async fn unstake(&self, amount: U256) -> Result<B256, L1Error> {
        self.sender()?;
        Ok(confirm(self.contract().unstake(amount).send().await.map_err(staking_error)?).await?.transaction_hash)
    }

    /// Pays the signer's unbonding balance; refused (`UnbondingNotOver`) before its end.
    pub async fn withdraw(&self) -> Result<B256, L1Error> {
        self.sender()?;
        Ok(confirm(self.contract().withdraw().send().await.map_err(staking_error)?).await?.transaction_hash)
    }

    /// Materializes the current epoch's set if it is not stored yet; returns the epoch of
    /// the block that included the transaction (the one it materialized).
    pub async fn sync_epoch(&self) -> Result<u64, L1Error> {
        self.sender()?;
        let receipt = confirm(self.contract().syncEpoch().send().await.map_err(staking_error)?).await?;
        let block = receipt.block_number.ok_or_else(|| L1Error::Unexpected("syncEpoch receipt without a block".into()))?;
        self.contract().currentEpoch().call().block(BlockId::number(block)).await.map_err(staking_error)
    }

    /// The epoch of the latest L1 block.
    pub async fn current_epoch(&self) -> Result<u64, L1Error> {
        self.contract().currentEpoch().call().await.map_err(staking_error)
    }

    /// Whether `epoch`'s active set is stored on L1 (then it never changes again).
    pub async fn is_materialized(&self, epoch: u64) -> Result<bool, L1Error> {
        self.contract().isMaterialized(epoch).call().await.map_err(staking_error)
    }

    /// L1 timestamp at which `epoch` starts.
    pub async fn epoch_start(&self, epoch: u64) -> Result<u64, L1Error> {
        let start = self.contract().epochStart(epoch).call().await.map_err(staking_error)?;
        u64::try_from(start).map_err(|_| L1Error::Unexpected(format!("epoch {epoch} starts at {start}, beyond u64")))
    }

    /// Epoch length in L1 seconds.
    pub async fn epoch_length(&self) -> Result<u64, L1Error> {
        self.contract().epochLength().call().await.map_err(staking_error)
    }

    /// The active set of `epoch` (its snapshot if materialized; for the current or a future
    /// epoch not stored yet, what the live stakes give). Reverts for a past epoch never
    /// materialized.
    pub async fn active_set(&self, epoch: u64) -> Result<ActiveSet, L1Error> {
        self.active_set_at(epoch, BlockId::latest()).await
    }

    async fn active_set_at(&self, epoch: u64, block: BlockId) -> Result<ActiveSet, L1Error> {
        let set = self.contract().activeSet(epoch).call().block(block).await.map_err(staking_error)?;
        let n = set.stakers.len();
        if set.signingKeys.len() != n || set.stakes.len() != n {
            return Err(L1Error::Unexpected(format!("activeSet({epoch}) returned arrays of different lengths")));
        }
        let members = (0..n).map(|i| Member { staker: set.stakers[i], signing_key: set.signingKeys[i], stake: set.stakes[i] }).collect();
        Ok(ActiveSet { epoch, members, total_stake: set.totalStake })
    }

    /// What the contract stores about `staker`.
    pub async fn staker_info(&self, staker: Address) -> Result<StakerInfo, L1Error> {
        self.staker_info_at(staker, BlockId::latest()).await
    }

    async fn staker_info_at(&self, staker: Address, block: BlockId) -> Result<StakerInfo, L1Error> {
        let info = self.contract().stakerInfo(staker).call().block(block).await.map_err(staking_error)?;
        Ok(StakerInfo {
            signing_key: info.signingKey,
            active_stake: info.activeStake,
            unbonding: info.unbonding,
            unbonding_end: info.unbondingEnd,
            registered: info.registered,
            network_address: info.networkAddress.to_vec(),
        })
    }

    /// Staker, signing key and registered network address of every member of `epoch`'s set,
    /// in rank order, all read at one L1 block.
    pub async fn member_peers(&self, epoch: u64) -> Result<Vec<MemberPeer>, L1Error> {
        let block = BlockId::number(self.provider.get_block_number().await.map_err(rpc_error)?);
        let set = self.active_set_at(epoch, block).await?;
        let mut peers = Vec::with_capacity(set.members.len());
        for member in set.members {
            let info = self.staker_info_at(member.staker, block).await?;
            peers.push(MemberPeer { staker: member.staker, signing_key: member.signing_key, network_address: info.network_address });
        }
        Ok(peers)
    }

    /// Approves and adds `amount` to the current epoch's reward pool; returns that epoch.
    pub async fn fund_rewards(&self, amount: U256) -> Result<u64, L1Error> {
        self.sender()?;
        self.approve(amount).await?;
        let receipt = confirm(self.contract().fundRewards(amount).send().await.map_err(staking_error)?).await?;
        Ok(receipt_event::<SequencerStaking::RewardsFunded>(&receipt, self.staking)?.epoch)
    }

    /// Claims the signer's share of `epoch`'s pool (after the epoch, once); returns the amount.
    pub async fn claim_reward(&self, epoch: u64) -> Result<U256, L1Error> {
        self.sender()?;
        let receipt = confirm(self.contract().claimReward(epoch).send().await.map_err(staking_error)?).await?;
        Ok(receipt_event::<SequencerStaking::RewardClaimed>(&receipt, self.staking)?.amount)
    }

    /// The reward pool of `epoch` (funded rewards plus the emission its batches accrued;
    /// claims do not reduce it).
    pub async fn reward_pool(&self, epoch: u64) -> Result<U256, L1Error> {
        self.contract().rewardPool(epoch).call().await.map_err(staking_error)
    }

    /// Approves and adds `amount` to the emission reserve, from which every signed commit
    /// moves up to `emissionPerBatch` into the signing epoch's pool; returns the new reserve.
    /// Refused (`EmissionDisabled`) when the deployment has no emission.
    pub async fn fund_emission(&self, amount: U256) -> Result<U256, L1Error> {
        self.sender()?;
        self.approve(amount).await?;
        let receipt = confirm(self.contract().fundEmission(amount).send().await.map_err(staking_error)?).await?;
        Ok(receipt_event::<SequencerStaking::EmissionFunded>(&receipt, self.staking)?.reserve)
    }

    /// Emission funded and not yet accrued to a pool.
    pub async fn emission_reserve(&self) -> Result<U256, L1Error> {
        Ok(U256::from(self.contract().emissionReserve().call().await.map_err(staking_error)?))
    }

    /// Emission accrued per committed batch (zero: no emission).
    pub async fn emission_per_batch(&self) -> Result<U256, L1Error> {
        self.contract().emissionPerBatch().call().await.map_err(staking_error)
    }

    /// Share of `epoch`'s pool still due to `staker` (0 if not a member or already claimed).
    pub async fn pending_reward(&self, epoch: u64, staker: Address) -> Result<U256, L1Error> {
        self.contract().pendingReward(epoch, staker).call().await.map_err(staking_error)
    }

    /// Submits batch double-sign evidence: one key's signatures over `batch_digest` of the
    /// same revert count and batch number with two different header hashes. The signer is the
    /// reporter.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_double_sign(
        &self,
        revert_count: u64,
        batch_number: u64,
        header_hash_a: B256,
        signature_a: &[u8; 65],
        header_hash_b: B256,
        signature_b: &[u8; 65],
    ) -> Result<SlashReport, L1Error> {
        self.sender()?;
        let contract = self.contract();
        let call = contract.reportDoubleSign(
            revert_count,
            batch_number,
            header_hash_a,
            Bytes::copy_from_slice(signature_a),
            header_hash_b,
            Bytes::copy_from_slice(signature_b),
        );
        let receipt = confirm(call.send().await.map_err(staking_error)?).await?;
        self.slash_report(&receipt)
    }

    /// Submits consensus double-vote evidence: one key's signatures over `vote_digest` of the
    /// same `(height, round, vote_type)` with two different value ids. The signer is the reporter.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_double_vote(
        &self,
        height: u64,
        round: u32,
        vote_type: VoteType,
        value_id_a: B256,
        signature_a: &[u8; 65],
        value_id_b: B256,
        signature_b: &[u8; 65],
    ) -> Result<SlashReport, L1Error> {
        self.sender()?;
        let contract = self.contract();
        let call = contract.reportDoubleVote(
            height,
            round,
            vote_type as u8,
            value_id_a,
            Bytes::copy_from_slice(signature_a),
            value_id_b,
            Bytes::copy_from_slice(signature_b),
        );
        let receipt = confirm(call.send().await.map_err(staking_error)?).await?;
        self.slash_report(&receipt)
    }

    fn slash_report(&self, receipt: &TransactionReceipt) -> Result<SlashReport, L1Error> {
        let slashed = receipt_event::<SequencerStaking::Slashed>(receipt, self.staking)?;
        Ok(SlashReport {
            staker: slashed.staker,
            slashed: slashed.amount,
            reporter_reward: slashed.reporterReward,
            tx: receipt.transaction_hash,
        })
    }
}
