//! Contract reverts decoded from the ABI: [`ContractRevert`] holds the `sol!`-generated error
//! enum of whichever Tandem contract raised the error, so callers match the variant (and its
//! fields) instead of reading text, and [`std::fmt::Display`] prints it by name with its fields.

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::JsonAbi;
use alloy::primitives::Bytes;
use alloy::sol_types::SolInterface;

use crate::bindings::dispute::DisputeGame;
use crate::bindings::staked::StakedRollup;
use crate::bindings::{DevToken, ProverMarket, SequencerStaking, TandemRollup};

/// A decoded custom error of a Tandem contract. Errors are told apart by their selector, and a
/// few (`ZeroAmount()`, `ZeroAddress()`, the OpenZeppelin ones) are declared by several
/// contracts with the same selector: the contract that was called decodes first (the staked
/// rollup inherits the rollup's errors and bubbles the staking contract's up unchanged; both
/// move the token).
#[derive(Debug)]
pub enum ContractRevert {
    /// An error of `TandemRollup` (also raised by `StakedRollup`, which inherits it).
    Rollup(TandemRollup::TandemRollupErrors),
    /// An error only `StakedRollup` declares.
    StakedRollup(StakedRollup::StakedRollupErrors),
    /// An error of `SequencerStaking`.
    Staking(SequencerStaking::SequencerStakingErrors),
    /// An error of the `DevToken` ERC-20.
    Token(DevToken::DevTokenErrors),
    /// An error of the `ProverMarket` (also bubbled up through a rollup's proof calls).
    Market(ProverMarket::ProverMarketErrors),
    /// An error of the `DisputeGame`.
    Game(DisputeGame::DisputeGameErrors),
    /// Revert data no Tandem ABI decodes (a `require` string, a panic code, another contract).
    Unknown(Bytes),
}

impl ContractRevert {
    /// Decodes revert `data` (selector and arguments) of a call to a rollup: against the
    /// rollup's ABI, then the staked rollup's, the staking contract's, the market's, the
    /// dispute game's (a single sequencer's commit checks its bond there) and the token's.
    pub fn decode(data: &[u8]) -> Self {
        Self::rollup(data)
            .or_else(|| Self::staking(data))
            .or_else(|| Self::market(data))
            .or_else(|| Self::game(data))
            .or_else(|| Self::token(data))
            .unwrap_or_else(|| Self::unknown(data))
    }

    /// Decodes revert `data` of a call to the prover market: against its ABI, then the
    /// rollup's.
    pub fn decode_market(data: &[u8]) -> Self {
        Self::market(data).or_else(|| Self::rollup(data)).unwrap_or_else(|| Self::unknown(data))
    }

    /// Decodes revert `data` of a call to the dispute game: against its ABI, then the
    /// rollup's, the staking contract's and the market's (a game call that proves or reverts
    /// a batch calls them, and their errors bubble up unchanged).
    pub fn decode_game(data: &[u8]) -> Self {
        Self::game(data)
            .or_else(|| Self::rollup(data))
            .or_else(|| Self::staking(data))
            .or_else(|| Self::market(data))
            .unwrap_or_else(|| Self::unknown(data))
    }

    fn game(data: &[u8]) -> Option<Self> {
        DisputeGame::DisputeGameErrors::abi_decode(data).map(Self::Game).ok()
    }

    fn market(data: &[u8]) -> Option<Self> {
        ProverMarket::ProverMarketErrors::abi_decode(data).map(Self::Market).ok()
    }

    /// Decodes revert `data` of a call to the staking contract: against its ABI, then the
    /// token's and the rollups'.
    pub fn decode_staking(data: &[u8]) -> Self {
        Self::staking(data).or_else(|| Self::token(data)).or_else(|| Self::rollup(data)).unwrap_or_else(|| Self::unknown(data))
    }

    fn rollup(data: &[u8]) -> Option<Self> {
        TandemRollup::TandemRollupErrors::abi_decode(data)
            .map(Self::Rollup)
            .or_else(|_| StakedRollup::StakedRollupErrors::abi_decode(data).map(Self::StakedRollup))
            .ok()
    }

    fn staking(data: &[u8]) -> Option<Self> {
        SequencerStaking::SequencerStakingErrors::abi_decode(data).map(Self::Staking).ok()
    }

    fn token(data: &[u8]) -> Option<Self> {
        DevToken::DevTokenErrors::abi_decode(data).map(Self::Token).ok()
    }

    fn unknown(data: &[u8]) -> Self {
        Self::Unknown(Bytes::copy_from_slice(data))
    }

    /// The custom error's name (`None` for undecoded data).
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::Rollup(e) => TandemRollup::TandemRollupErrors::name_by_selector(e.selector()),
            Self::StakedRollup(e) => StakedRollup::StakedRollupErrors::name_by_selector(e.selector()),
            Self::Staking(e) => SequencerStaking::SequencerStakingErrors::name_by_selector(e.selector()),
            Self::Token(e) => DevToken::DevTokenErrors::name_by_selector(e.selector()),
            Self::Market(e) => ProverMarket::ProverMarketErrors::name_by_selector(e.selector()),
            Self::Game(e) => DisputeGame::DisputeGameErrors::name_by_selector(e.selector()),
            Self::Unknown(_) => None,
        }
    }

    /// The ABI that declares the error and its arguments (without the selector).
    fn abi_and_arguments(&self) -> Option<(JsonAbi, [u8; 4], Vec<u8>)> {
        match self {
            Self::Rollup(e) => Some((TandemRollup::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::StakedRollup(e) => Some((StakedRollup::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::Staking(e) => Some((SequencerStaking::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::Token(e) => Some((DevToken::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::Market(e) => Some((ProverMarket::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::Game(e) => Some((DisputeGame::abi::contract(), e.selector(), e.abi_encode_raw_vec())),
            Self::Unknown(_) => None,
        }
    }
}

/// Encodes the arguments of a decoded error (what follows the selector).
trait EncodeRaw {
    fn abi_encode_raw_vec(&self) -> Vec<u8>;
}

impl<T: SolInterface> EncodeRaw for T {
    fn abi_encode_raw_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.abi_encoded_size());
        self.abi_encode_raw(&mut out);
        out
    }
}

fn show_value(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => format!("0x{}", alloy::hex::encode(&word[..*size])),
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Bytes(b) => format!("0x{}", alloy::hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!("[{}]", items.iter().map(show_value).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// `Name` for an error without arguments, `Name { field: value, … }` otherwise; undecoded data
/// as hex.
impl std::fmt::Display for ContractRevert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Self::Unknown(data) = self {
            return write!(f, "revert data 0x{}", alloy::hex::encode(data));
        }
        let Some((abi, selector, arguments)) = self.abi_and_arguments() else {
            return write!(f, "{}", self.name().unwrap_or("unknown error"));
        };
        let Some(error) = abi.errors().find(|e| e.selector() == selector) else {
            // The generated enum and its own ABI come from the same artifact.
            return write!(f, "{}", self.name().unwrap_or("unknown error"));
        };
        let values = error.abi_decode_input(&arguments).unwrap_or_default();
        if error.inputs.is_empty() || values.len() != error.inputs.len() {
            return write!(f, "{}", error.name);
        }
        let fields: Vec<String> =
            error.inputs.iter().zip(&values).map(|(param, value)| format!("{}: {}", param.name, show_value(value))).collect();
        write!(f, "{} {{ {} }}", error.name, fields.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;
    use alloy::sol_types::SolError;

    #[test]
    fn staking_errors_decode_to_their_variant_and_print_by_name_with_fields() {
        let staker = Address::repeat_byte(0xac);
        let data = SequencerStaking::NotMember { epoch: 7, staker }.abi_encode();
        let revert = ContractRevert::decode(&data);
        assert!(
            matches!(&revert, ContractRevert::Staking(SequencerStaking::SequencerStakingErrors::NotMember(e)) if e.epoch == 7 && e.staker == staker),
            "{revert:?}"
        );
        assert_eq!(revert.to_string(), format!("NotMember {{ epoch: 7, staker: {staker} }}"));
        // Declared by the rollup and the staking contract alike: the called contract decodes it.
        let data = SequencerStaking::ZeroAmount {}.abi_encode();
        assert!(matches!(
            ContractRevert::decode_staking(&data),
            ContractRevert::Staking(SequencerStaking::SequencerStakingErrors::ZeroAmount(_))
        ));
        assert!(matches!(ContractRevert::decode(&data), ContractRevert::Rollup(TandemRollup::TandemRollupErrors::ZeroAmount(_))));
        assert_eq!(ContractRevert::decode_staking(&data).to_string(), "ZeroAmount");
        assert_eq!(ContractRevert::decode(&data).name(), Some("ZeroAmount"));
    }

    #[test]
    fn market_errors_decode_from_the_market_and_through_the_rollup() {
        let locker = Address::repeat_byte(0x11);
        // A proof refused during another prover's lock: raised by the market, bubbled up by
        // the rollup's proveBatch.
        let data = crate::bindings::ProverMarket::LockedByAnotherProver { batchNumber: 4, locker, lockDeadline: 99 }.abi_encode();
        let revert = ContractRevert::decode(&data);
        assert!(matches!(&revert, ContractRevert::Market(_)), "{revert:?}");
        assert_eq!(revert.to_string(), format!("LockedByAnotherProver {{ batchNumber: 4, locker: {locker}, lockDeadline: 99 }}"));
        let data = crate::bindings::ProverMarket::JobAlreadyLocked { batchNumber: 4, locker, lockDeadline: 99 }.abi_encode();
        assert_eq!(ContractRevert::decode_market(&data).name(), Some("JobAlreadyLocked"));
    }

    #[test]
    fn unknown_data_stays_raw() {
        let revert = ContractRevert::decode(&[0xde, 0xad, 0xbe, 0xef]);
        assert!(matches!(&revert, ContractRevert::Unknown(d) if d.as_ref() == [0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(revert.to_string(), "revert data 0xdeadbeef");
    }
}
