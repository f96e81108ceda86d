//! The Malachite context: heights, addresses, block ids, proposals, votes, proposal parts,
//! validators and the stake-weighted proposer rotation.

use std::fmt;

use alloy::primitives::{keccak256, Address as EthAddress, B256};
use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::{self as core, NilOrVal, Round, SignedExtension, VoteType, VotingPower};

use crate::signing::Secp256k1;

/// A consensus height. Height `h` decides the `h`-th consensus block; heights start at 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the Ethereum address of its registered secp256k1 signing key, so a
/// consensus signature recovers to exactly the key L1's staking contract knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub EthAddress);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::Address for Address {}

impl BorshSerialize for Address {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        writer.write_all(self.0.as_slice())
    }
}

impl BorshDeserialize for Address {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let mut bytes = [0u8; 20];
        reader.read_exact(&mut bytes)?;
        Ok(Address(EthAddress::from(bytes)))
    }
}

/// What consensus decides on: the keccak-256 hash of a block's payload bytes. The payload
/// itself travels in proposal parts and is opaque to this crate; the value id is the value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(pub B256);

impl BlockId {
    /// The id of `payload`.
    pub fn of(payload: &[u8]) -> Self {
        BlockId(keccak256(payload))
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::Value for BlockId {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        *self
    }
}

impl BorshSerialize for BlockId {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        writer.write_all(self.0.as_slice())
    }
}

impl BorshDeserialize for BlockId {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let mut bytes = [0u8; 32];
        reader.read_exact(&mut bytes)?;
        Ok(BlockId(B256::from(bytes)))
    }
}

/// A proposal for `value` at (`height`, `round`) by `proposer`; `pol_round` is the round of
/// the polka it re-proposes (`Round::Nil` for a fresh value).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed block id.
    pub value: BlockId,
    /// Proof-of-lock round.
    pub pol_round: Round,
    /// Proposer.
    pub proposer: Address,
}

impl core::Proposal<TandemContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockId {
        &self.value
    }
    fn take_value(self) -> BlockId {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A prevote or precommit for a block id (or nil). Vote extensions are not used: the
/// extension slot exists only because the engine's vote type requires it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockId>,
    /// The voter.
    pub validator: Address,
    /// Always `None` (extensions are disabled).
    pub extension: Option<SignedExtension<TandemContext>>,
}

impl core::Vote<TandemContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<BlockId> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<BlockId> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.vote_type
    }
    fn validator_address(&self) -> &Address {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<TandemContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<TandemContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<TandemContext>) -> Self {
        Self { extension: Some(extension), ..self }
    }
}

/// The one proposal part of a proposal: the whole block payload, signed by the proposer over
/// [`crate::signing::part_digest`] so a relay cannot substitute another payload.
///
/// Invariant (checked on receipt): `signature` recovers to `proposer`, and the payload's
/// [`BlockId`] is what the part's digest covers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalPart {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Proof-of-lock round of the proposal (`Round::Nil` for a fresh value).
    pub pol_round: Round,
    /// Proposer.
    pub proposer: Address,
    /// The block payload (opaque to consensus).
    pub payload: Vec<u8>,
    /// 65-byte r|s|v signature of the proposer.
    pub signature: crate::signing::Signature,
}

impl core::ProposalPart<TandemContext> for ProposalPart {
    fn is_first(&self) -> bool {
        true
    }
    fn is_last(&self) -> bool {
        true
    }
}

/// A member of the active set: its signing-key address and voting power (its L1 stake in
/// gwei, see [`voting_power_of_stake`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// Signing-key address (also its public key: signatures are recoverable).
    pub address: Address,
    /// Voting power (> 0).
    pub voting_power: VotingPower,
}

impl core::Validator<TandemContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }
    fn public_key(&self) -> &Address {
        &self.address
    }
    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Converts an L1 stake (token base units, 18 decimals) to voting power: whole gwei, so a
/// u64 holds stakes up to ~1.8e10 tokens. Saturates above that.
pub fn voting_power_of_stake(stake: alloy::primitives::U256) -> VotingPower {
    let gwei = stake / alloy::primitives::U256::from(1_000_000_000u64);
    u64::try_from(gwei).unwrap_or(u64::MAX)
}

/// Errors building a validator set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidatorSetError {
    /// No validator.
    #[error("validator set is empty")]
    Empty,
    /// A validator with no voting power.
    #[error("validator {0} has zero voting power")]
    ZeroPower(EthAddress),
    /// The same address twice.
    #[error("validator {0} appears twice")]
    Duplicate(EthAddress),
    /// Total power does not fit a u64.
    #[error("total voting power overflows u64")]
    Overflow,
}

/// The validators of a height, sorted by descending power then ascending address (the order
/// every node derives independently from the same L1 set).
///
/// Invariants: non-empty, no duplicate address, every power > 0, total fits a u64.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total: VotingPower,
}

impl ValidatorSet {
    /// Builds a set, sorting it canonically.
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        validators.sort_by(|a, b| b.voting_power.cmp(&a.voting_power).then(a.address.cmp(&b.address)));
        let mut total: VotingPower = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.voting_power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.address.0));
            }
            if validators[..i].iter().any(|w| w.address == v.address) {
                return Err(ValidatorSetError::Duplicate(v.address.0));
            }
            total = total.checked_add(v.voting_power).ok_or(ValidatorSetError::Overflow)?;
        }
        Ok(Self { validators, total })
    }

    /// The validators, in canonical order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The proposer of (`height`, `round`): a stake-weighted draw, deterministic in the set
    /// and the position. `keccak256(height ‖ round)` as a big-endian integer, reduced modulo
    /// the total power, picks the validator whose cumulative-power interval contains it, so
    /// over many heights each validator proposes in proportion to its stake, and every node
    /// computes the same proposer with no shared state.
    pub fn proposer(&self, height: Height, round: Round) -> &Validator {
        let mut seed = [0u8; 16];
        seed[..8].copy_from_slice(&height.0.to_be_bytes());
        seed[8..].copy_from_slice(&round.as_i64().to_be_bytes());
        let draw = keccak256(seed);
        let x = alloy::primitives::U256::from_be_bytes(draw.0) % alloy::primitives::U256::from(self.total);
        // x < total <= u64::MAX.
        let mut point = x.to::<u64>();
        for v in &self.validators {
            if point < v.voting_power {
                return v;
            }
            point -= v.voting_power;
        }
        // Unreachable while the invariant (total = sum of powers) holds.
        &self.validators[self.validators.len() - 1]
    }
}

impl core::ValidatorSet<TandemContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> VotingPower {
        self.total
    }
    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// The context: which L1 deployment the signatures are bound to. Every digest signed in
/// consensus includes the L1 chain id and the rollup address, so a signature can never be
/// replayed on another chain or deployment (and L1 can check them, see `SequencerStaking`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TandemContext {
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// The rollup contract.
    pub rollup: EthAddress,
}

impl core::Context for TandemContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = core::LinearTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = Vec<u8>;
    type SigningScheme = Secp256k1;

    fn select_proposer<'a>(&self, validator_set: &'a ValidatorSet, height: Height, round: Round) -> &'a Validator {
        validator_set.proposer(height, round)
    }

    fn new_proposal(&self, height: Height, round: Round, value: BlockId, pol_round: Round, address: Address) -> Proposal {
        Proposal { height, round, value, pol_round, proposer: address }
    }

    fn new_prevote(&self, height: Height, round: Round, value_id: NilOrVal<BlockId>, address: Address) -> Vote {
        Vote { vote_type: VoteType::Prevote, height, round, value: value_id, validator: address, extension: None }
    }

    fn new_precommit(&self, height: Height, round: Round, value_id: NilOrVal<BlockId>, address: Address) -> Vote {
        Vote { vote_type: VoteType::Precommit, height, round, value: value_id, validator: address, extension: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(byte: u8, power: u64) -> Validator {
        Validator { address: Address(EthAddress::repeat_byte(byte)), voting_power: power }
    }

    #[test]
    fn set_is_sorted_by_power_then_address() {
        let set = ValidatorSet::new(vec![v(3, 1), v(1, 4), v(2, 4)]).expect("valid");
        let order: Vec<u8> = set.validators().iter().map(|x| x.address.0 .0[0]).collect();
        assert_eq!(order, vec![1, 2, 3]);
        assert_eq!(set.total, 9);
    }

    #[test]
    fn invalid_sets_are_refused() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        assert!(matches!(ValidatorSet::new(vec![v(1, 0)]), Err(ValidatorSetError::ZeroPower(_))));
        assert!(matches!(ValidatorSet::new(vec![v(1, 1), v(1, 2)]), Err(ValidatorSetError::Duplicate(_))));
        assert_eq!(ValidatorSet::new(vec![v(1, u64::MAX), v(2, 1)]), Err(ValidatorSetError::Overflow));
    }

    #[test]
    fn proposer_frequency_follows_stake() {
        let set = ValidatorSet::new(vec![v(1, 4), v(2, 3), v(3, 2), v(4, 1)]).expect("valid");
        let mut counts = [0u32; 5];
        for h in 1..=20_000u64 {
            counts[set.proposer(Height(h), Round::new(0)).address.0 .0[0] as usize] += 1;
        }
        // Expected 8000/6000/4000/2000; allow 5% of the total for sampling noise.
        for (byte, expected) in [(1usize, 8000i64), (2, 6000), (3, 4000), (4, 2000)] {
            assert!((counts[byte] as i64 - expected).abs() < 1000, "validator {byte}: {} proposals", counts[byte]);
        }
    }

    #[test]
    fn proposer_is_deterministic_and_rounds_rotate() {
        let set = ValidatorSet::new(vec![v(1, 1), v(2, 1), v(3, 1), v(4, 1)]).expect("valid");
        let again = ValidatorSet::new(vec![v(4, 1), v(3, 1), v(2, 1), v(1, 1)]).expect("valid");
        let mut distinct = std::collections::BTreeSet::new();
        for r in 0..16 {
            let p = set.proposer(Height(7), Round::new(r));
            assert_eq!(p, again.proposer(Height(7), Round::new(r)));
            distinct.insert(p.address);
        }
        assert!(distinct.len() > 1, "a stalled proposer must be replaced in later rounds");
    }

    #[test]
    fn voting_power_is_stake_in_gwei() {
        let one_token = alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18));
        assert_eq!(voting_power_of_stake(one_token * alloy::primitives::U256::from(1000)), 1_000_000_000_000);
        assert_eq!(voting_power_of_stake(alloy::primitives::U256::MAX), u64::MAX);
    }
}
