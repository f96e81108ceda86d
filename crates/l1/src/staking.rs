//! The staked mode on L1 (`SequencerStaking` + `StakedRollup`, contracts/README.md "Staked
//! mode"): the digests sequencers sign (batches and consensus votes), signing and recovery in
//! the contract's exact signature format, and [`StakingClient`] for staking, epochs, active
//! sets, rewards (funded pools and the per-batch emission reserve) and slashing evidence.
//!
//! Signatures are 65 bytes `r ‖ s ‖ v` with `v ∈ {27, 28}` and `s ≤ secp256k1n / 2`, raw
//! ECDSA over the digest (no EIP-191 prefix), exactly what the contract's `_recover` accepts.

use alloy::eips::BlockId;
use alloy::primitives::{keccak256, Address, Bytes, Signature, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::{SolEvent, SolValue};

use crate::bindings::{DevToken, SequencerStaking};
use crate::client::{confirm, connect, rpc_error, staking_error, L1Error};

/// Domain tag of the batch digest (`SequencerStaking.BATCH_DOMAIN_TAG`).
pub const BATCH_DOMAIN: &[u8] = b"tandem.batch.v1";
/// Domain tag of the consensus vote digest (`SequencerStaking.VOTE_DOMAIN_TAG`).
pub const VOTE_DOMAIN: &[u8] = b"tandem.vote.v1";

/// The digest the active set signs to authorize batch `batch_number` with header hash
/// `header_hash` on `rollup` (chain `l1_chain_id`): `keccak256(abi.encode(keccak256(BATCH_DOMAIN),
/// uint256 chainid, rollup, uint64 batchNumber, headerHash))`, equal to the contract's
/// `batchDigest(batchNumber, headerHash)`.
pub fn batch_digest(l1_chain_id: u64, rollup: Address, batch_number: u64, header_hash: B256) -> B256 {
    keccak256((keccak256(BATCH_DOMAIN), U256::from(l1_chain_id), rollup, batch_number, header_hash).abi_encode_params())
}

/// A consensus vote's type, as the contract numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum VoteType {
    /// First voting step of a round (code 0).
    Prevote = 0,
    /// Second voting step; a value with >2/3 precommits is decided (code 1).
    Precommit = 1,
}

/// The digest a member signs for a consensus vote: `keccak256(abi.encode(keccak256(VOTE_DOMAIN),
/// uint256 chainid, rollup, uint64 height, uint32 round, uint8 voteType, bytes32 valueId))`,
/// equal to the contract's `voteDigest`. `value_id = B256::ZERO` is a nil vote.
pub fn vote_digest(l1_chain_id: u64, rollup: Address, height: u64, round: u32, vote_type: VoteType, value_id: B256) -> B256 {
    // abi.encode pads every static value to a 32-byte word: a uint8 is encoded as a uint256.
    keccak256(
        (keccak256(VOTE_DOMAIN), U256::from(l1_chain_id), rollup, height, round, U256::from(vote_type as u8), value_id).abi_encode_params(),
    )
}

/// Why a 65-byte signature is refused (the contract refuses the same ones).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The last byte is not 27 or 28.
    #[error("signature v is {0}, must be 27 or 28")]
    InvalidV(u8),
    /// `s` is above secp256k1n / 2 (the malleable twin of a valid signature).
    #[error("signature s is above secp256k1n/2")]
    HighS,
    /// No public key recovers (r or s zero or out of range, r not an x coordinate).
    #[error("signature does not recover: {0}")]
    Unrecoverable(String),
}

/// Signs `digest` with `signer` in the contract's format: `r ‖ s ‖ v`, `v ∈ {27, 28}`, low `s`
/// (RFC 6979 deterministic: the same bytes as `cast wallet sign --no-hash` and forge's `vm.sign`).
pub fn sign_digest(signer: &PrivateKeySigner, digest: B256) -> [u8; 65] {
    // A k256 key signing a 32-byte prehash cannot fail (RFC 6979 retries internally).
    signer.sign_hash_sync(&digest).expect("secp256k1 signing of a 32-byte digest").as_bytes()
}

/// The address whose key produced `signature` over `digest`; refuses exactly what the
/// contract refuses (v other than 27/28, high s, unrecoverable).
pub fn recover_signer(digest: B256, signature: &[u8; 65]) -> Result<Address, SignatureError> {
    let v = signature[64];
    if v != 27 && v != 28 {
        return Err(SignatureError::InvalidV(v));
    }
    let sig = Signature::from_raw_array(signature).map_err(|e| SignatureError::Unrecoverable(e.to_string()))?;
    if sig.normalize_s().is_some() {
        return Err(SignatureError::HighS);
    }
    sig.recover_address_from_prehash(&digest).map_err(|e| SignatureError::Unrecoverable(e.to_string()))
}

/// `signatures` over `digest` ordered by strictly ascending recovered signer, as
/// `commitBatchSigned` requires. Fails on a signature that does not recover (its index in
/// `signatures`) or on two signatures of the same signer.
pub fn sort_by_signer(digest: B256, signatures: Vec<[u8; 65]>) -> Result<Vec<[u8; 65]>, L1Error> {
    let mut signed = Vec::with_capacity(signatures.len());
    for (index, signature) in signatures.into_iter().enumerate() {
        let signer = recover_signer(digest, &signature).map_err(|source| L1Error::InvalidSignature { index, source })?;
        signed.push((signer, signature));
    }
    signed.sort_by_key(|(signer, _)| *signer);
    if let Some(pair) = signed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(L1Error::DuplicateSigner(pair[0].0));
    }
    Ok(signed.into_iter().map(|(_, signature)| signature).collect())
}

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
        Ok(self.event::<SequencerStaking::RewardsFunded>(&receipt)?.epoch)
    }

    /// Claims the signer's share of `epoch`'s pool (after the epoch, once); returns the amount.
    pub async fn claim_reward(&self, epoch: u64) -> Result<U256, L1Error> {
        self.sender()?;
        let receipt = confirm(self.contract().claimReward(epoch).send().await.map_err(staking_error)?).await?;
        Ok(self.event::<SequencerStaking::RewardClaimed>(&receipt)?.amount)
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
        Ok(self.event::<SequencerStaking::EmissionFunded>(&receipt)?.reserve)
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
    /// same batch number with two different header hashes. The signer is the reporter.
    pub async fn report_double_sign(
        &self,
        batch_number: u64,
        header_hash_a: B256,
        signature_a: &[u8; 65],
        header_hash_b: B256,
        signature_b: &[u8; 65],
    ) -> Result<SlashReport, L1Error> {
        self.sender()?;
        let contract = self.contract();
        let call = contract.reportDoubleSign(
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
        let slashed = self.event::<SequencerStaking::Slashed>(receipt)?;
        Ok(SlashReport {
            staker: slashed.staker,
            slashed: slashed.amount,
            reporter_reward: slashed.reporterReward,
            tx: receipt.transaction_hash,
        })
    }

    /// The first event `E` the staking contract emitted in `receipt`.
    fn event<E: SolEvent>(&self, receipt: &TransactionReceipt) -> Result<E, L1Error> {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.staking)
            .find_map(|log| log.log_decode::<E>().ok())
            .map(|decoded| decoded.inner.data)
            .ok_or_else(|| L1Error::Unexpected(format!("receipt without {}", E::SIGNATURE)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, hex};

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&keccak256([i])).expect("valid secp256k1 scalar")
    }

    const SECP256K1_N: U256 = alloy::primitives::uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

    fn key_one() -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::with_last_byte(1)).expect("1 is a valid scalar")
    }

    /// The vectors pinned by the forge tests (`test_batchDigest_matchesOffChainVector`,
    /// `test_voteDigest_matchesOffChainVector`, both computed with `cast`).
    #[test]
    fn digests_and_signatures_match_the_contract_vectors() {
        let rollup = address!("00000000000000000000000000000000000000aa");
        assert_eq!(
            batch_digest(31337, rollup, 1, keccak256("tandem.header")),
            b256!("9e5f294d24d31290d886ebe368627eb76e7f3af1e1af0df10046e4eb19597862")
        );
        let vote = vote_digest(31337, rollup, 7, 2, VoteType::Precommit, keccak256("tandem.value"));
        assert_eq!(vote, b256!("49149354867eb55afd4df45362d58c97055d42e4a0a63f674b6361c3874c3818"));
        assert_eq!(
            vote_digest(31337, rollup, 7, 2, VoteType::Prevote, B256::ZERO),
            b256!("92a362801588f9941bada588ba52224899dc61911890ec89942f45228d6629c4")
        );
        assert_eq!(
            sign_digest(&key_one(), vote),
            hex!("ad0a61fbe7550dbbce2074a91789a856861e503889d2d5a903f1abd34eb6d18464315518af8c28f95c4ab7edd9fe80f25382c1dafc86d0f1fc3ad19ad583edc11b")
        );
        let batch = batch_digest(31337, rollup, 1, keccak256("tandem.header"));
        assert_eq!(
            sign_digest(&key_one(), batch),
            hex!("a6331f577841e5d82bd0ac29127946a92019d795f71bacb8add1fb4dac5732122dbd7408c614d2dad175ab4ad62fd16ee26bf24fd27d55bb40e4b817da49d9b61b")
        );
    }

    #[test]
    fn signatures_are_low_s_and_recover_to_the_signer() {
        for i in 0..64u8 {
            let signer = key(i);
            let digest = keccak256([i, 0xd1]);
            let signature = sign_digest(&signer, digest);
            assert!(signature[64] == 27 || signature[64] == 28);
            assert_eq!(recover_signer(digest, &signature), Ok(signer.address()), "key {i}");
        }
    }

    #[test]
    fn recovery_refuses_the_malleable_twin_bad_v_and_garbage() {
        let digest = keccak256("digest");
        let signature = sign_digest(&key(1), digest);
        // The twin (n - s, parity flipped) is a valid ECDSA signature of the same key: refused.
        let sig = Signature::from_raw_array(&signature).expect("valid");
        let twin = Signature::new(sig.r(), SECP256K1_N - sig.s(), !sig.v()).as_bytes();
        assert_eq!(recover_signer(digest, &twin), Err(SignatureError::HighS));
        for v in [0u8, 1, 26, 29, 37] {
            let mut bad = signature;
            bad[64] = v;
            assert_eq!(recover_signer(digest, &bad), Err(SignatureError::InvalidV(v)));
        }
        let mut zero_r = signature;
        zero_r[..32].fill(0);
        assert!(matches!(recover_signer(digest, &zero_r), Err(SignatureError::Unrecoverable(_))));
    }

    #[test]
    fn sort_by_signer_orders_ascending_and_refuses_duplicates_and_bad_signatures() {
        let digest = keccak256("batch");
        let keys: Vec<PrivateKeySigner> = (0..6).map(key).collect();
        let signatures: Vec<[u8; 65]> = keys.iter().map(|k| sign_digest(k, digest)).collect();
        let sorted = sort_by_signer(digest, signatures.clone()).expect("valid signatures");
        let signers: Vec<Address> = sorted.iter().map(|s| recover_signer(digest, s).expect("valid")).collect();
        let mut expected: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        expected.sort();
        assert_eq!(signers, expected);

        let mut twice = signatures.clone();
        twice.push(signatures[2]);
        assert!(matches!(sort_by_signer(digest, twice), Err(L1Error::DuplicateSigner(a)) if a == keys[2].address()));

        let mut bad = signatures;
        bad[4][64] = 29;
        assert!(matches!(sort_by_signer(digest, bad), Err(L1Error::InvalidSignature { index: 4, source: SignatureError::InvalidV(29) })));
    }
}
