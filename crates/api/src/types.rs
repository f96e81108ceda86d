//! Params and results of the API, in SPEC §7's JSON form.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use alloy::primitives::{Address, FixedBytes, B256, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tandem_chain::{BlockRecord, Lane, TxHash};

/// An L2 amount in a token's base units; a decimal string in JSON (128-bit values do not
/// fit a JSON number exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub u128);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map(Amount).map_err(|_| serde::de::Error::custom(format!("amount {text:?} is not a decimal u128")))
    }
}

/// An L1 stake in the staking token's base units; a decimal string in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stake(pub U256);

impl Serialize for Stake {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Stake {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        U256::from_str_radix(&text, 10).map(Stake).map_err(|_| serde::de::Error::custom(format!("stake {text:?} is not a decimal u256")))
    }
}

/// Addresses a user reads (contracts, members) go out EIP-55 checksummed.
mod checksummed {
    use super::*;

    pub fn serialize<S: Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&address.to_checksum(None))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        Address::deserialize(deserializer)
    }
}

/// `tandem_chainParams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainParams {
    /// L2 chain id (part of every signed message).
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// The rollup contract on L1.
    #[serde(with = "checksummed")]
    pub rollup: Address,
    /// L1 block of the rollup's deployment (where log scans start).
    pub deploy_block: u64,
    /// Optimistic challenge window, seconds.
    pub challenge_window: u64,
    /// The account that collects fees.
    pub fee_account: u32,
    /// Target block time, milliseconds.
    pub block_time_ms: u64,
    /// ZK lane: proof slots per batch; `null` when the node runs no ZK lane.
    pub zk_slots: Option<u64>,
    /// ZK lane: the withdrawal fee from which a withdrawal's block goes to the ZK lane;
    /// `null` when the node runs no ZK lane.
    pub fast_withdrawal_fee: Option<Amount>,
    /// The rollup's prover market (SPEC §15); `null` when it has none.
    #[serde(default, with = "checksummed_option")]
    pub market: Option<Address>,
    /// The rollup's dispute game (SPEC §17); `null` when it has none (its optimistic lane
    /// then trusts its sequencer or set).
    #[serde(default, with = "checksummed_option")]
    pub dispute_game: Option<Address>,
}

/// Where a submitted transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// Accepted, waiting for a block.
    Pending,
    /// In a block.
    Included,
    /// Dropped at block production; `reason` says why.
    Rejected,
}

impl fmt::Display for TxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TxStatus::Pending => "pending",
            TxStatus::Included => "included",
            TxStatus::Rejected => "rejected",
        })
    }
}

/// `tandem_sendTransaction`'s result: the hash (`0x` sha256 of the encoding), always
/// [`TxStatus::Pending`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedTx {
    /// The transaction's hash.
    pub hash: TxHash,
    /// [`TxStatus::Pending`].
    pub status: TxStatus,
}

/// One transaction's outcome in `tandem_sendTransactions`, serialized as
/// `tandem_sendTransaction`'s result (`{"hash", "status"}`) or as its error
/// (`{"error": {"code", "message"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SendOutcome {
    /// Accepted: pending, with its hash.
    Accepted(SubmittedTx),
    /// Refused or malformed, with the error `tandem_sendTransaction` returns for it.
    Refused {
        /// The JSON-RPC error.
        error: ErrorView,
    },
}

/// A JSON-RPC error object inside a result: its code (`ApiError`'s) and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorView {
    /// `-32602`, `-32000` or `-32603`, as [`crate::ApiError::code`].
    pub code: i32,
    /// What is wrong.
    pub message: String,
}

impl From<crate::ApiError> for ErrorView {
    fn from(e: crate::ApiError) -> Self {
        ErrorView { code: e.code(), message: e.to_string() }
    }
}

/// A withdrawal's place: batch and index in the batch's withdrawal list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRef {
    /// Batch number.
    pub batch: u64,
    /// Index in the batch's withdrawals.
    pub index: u32,
}

/// `tandem_getTransaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    /// The hash asked for.
    pub hash: TxHash,
    /// Where it stands.
    pub status: TxStatus,
    /// Including block (when included).
    pub block: Option<u64>,
    /// Its batch (= block in this version).
    pub batch: Option<u64>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// For an included withdrawal: where to claim it.
    pub withdrawal: Option<WithdrawalRef>,
}

/// How `tandem_getAccount` names an account: `"#<index>"` or the owner's packed public key
/// as `0x` hex (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountRef {
    /// By account index.
    Index(u32),
    /// By packed owner key.
    Key(B256),
}

/// Why a text is not an [`AccountRef`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefParseError {
    /// `#` not followed by a `u32`.
    #[error("account index must be #<number>")]
    BadIndex,
    /// Neither `#…` nor `0x…`.
    #[error("public key must be 0x-prefixed hex")]
    NotHex,
    /// `0x…` but not 32 bytes of hex.
    #[error("public key must be 32 bytes (packed)")]
    BadKey,
}

impl FromStr for AccountRef {
    type Err = AccountRefParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(number) = text.strip_prefix('#') {
            return number.parse().map(AccountRef::Index).map_err(|_| AccountRefParseError::BadIndex);
        }
        let digits = text.strip_prefix("0x").ok_or(AccountRefParseError::NotHex)?;
        if digits.len() != 64 {
            return Err(AccountRefParseError::BadKey);
        }
        digits.parse().map(AccountRef::Key).map_err(|_| AccountRefParseError::BadKey)
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::Index(i) => write!(f, "#{i}"),
            AccountRef::Key(k) => write!(f, "{k}"),
        }
    }
}

impl Serialize for AccountRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `tandem_getAccount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Account index.
    pub index: u32,
    /// Packed owner key.
    pub public_key: B256,
    /// Nonce in the latest block.
    pub nonce: u32,
    /// Nonce after the account's pending transactions (what the next one must carry).
    pub pending_nonce: Option<u32>,
    /// Token id → balance (JSON object keys are the decimal token ids).
    pub balances: BTreeMap<u8, Amount>,
}

impl AccountView {
    /// Balance of `token` (0 if none).
    pub fn balance(&self, token: u8) -> u128 {
        self.balances.get(&token).map_or(0, |a| a.0)
    }
}

/// `tandem_getBlock`: the stored block and its ops in readable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The block, as stored.
    #[serde(flatten)]
    pub block: BlockRecord,
    /// The ops decoded from its public data, one readable line each.
    pub ops: Vec<String>,
}

/// Where a batch stands on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Committed by the sequencer on L2 only.
    Soft,
    /// Committed on L1, not yet final.
    Posted,
    /// Final on L1.
    Final,
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BatchStatus::Soft => "soft",
            BatchStatus::Posted => "posted",
            BatchStatus::Final => "final",
        })
    }
}

/// `tandem_getBatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// Batch number (= block number in this version).
    pub number: u64,
    /// Its finality lane.
    pub lane: Lane,
    /// Where it stands.
    pub status: BatchStatus,
    /// What it waits for, in words.
    pub waiting_for: String,
    /// Its blocks.
    pub blocks: Vec<u64>,
    /// The L1 commit transaction.
    pub l1_commit_tx: Option<B256>,
    /// The L1 finalize transaction.
    pub l1_finalize_tx: Option<B256>,
    /// L1 time of the commit.
    pub committed_at: Option<u64>,
    /// Optimistic lane: the L1 time from which it can be finalized.
    pub finalizable_at: Option<u64>,
    /// Unix time (the node's clock, like block timestamps) at which the node saw it final
    /// (`null` before): its block's `timestamp` to this is its time to finality.
    pub finalized_at: Option<u64>,
    /// Withdrawals in the batch (once committed).
    pub withdrawal_count: Option<u32>,
    /// The L1 account that committed it (the sequencer, or the set member that posted it).
    #[serde(default, with = "checksummed_option")]
    pub poster: Option<Address>,
    /// Sequencer-set mode: the members whose signatures committed it.
    pub signers: Option<BatchSignersView>,
}

/// The set's signatures over a committed batch (`StakedRollup.BatchSigned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSignersView {
    /// The staking epoch whose active set signed.
    pub epoch: u64,
    /// Bit `i` set: member `i` of that epoch's set (`tandem_sequencerSet` order) signed;
    /// `0x` hex.
    pub signer_bitmap: U256,
}

/// An optional address, EIP-55 checksummed.
mod checksummed_option {
    use super::*;

    pub fn serialize<S: Serializer>(address: &Option<Address>, serializer: S) -> Result<S::Ok, S::Error> {
        match address {
            Some(a) => serializer.collect_str(&a.to_checksum(None)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Address>, D::Error> {
        Option::<Address>::deserialize(deserializer)
    }
}

/// `tandem_getWithdrawal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalView {
    /// Batch number.
    pub batch: u64,
    /// Index in the batch's withdrawals.
    pub index: u32,
    /// Token.
    pub token_id: u8,
    /// Amount paid out on L1.
    pub amount: Amount,
    /// L1 recipient.
    pub recipient: Address,
    /// L2 account debited.
    pub l2_from: u32,
    /// Its batch's status.
    pub status: BatchStatus,
    /// Whether `claimWithdrawal` can pay it now (its batch is final).
    pub claimable: bool,
    /// The Merkle proof `claimWithdrawal` takes.
    pub proof: Vec<B256>,
}

/// A member's 65-byte secp256k1 signature (`r ‖ s ‖ v`) over a batch digest.
pub type BatchSignature = FixedBytes<65>;

/// `tandem_forwardTransactions`' result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardReceipt {
    /// Transactions in the call.
    pub received: u32,
    /// Of those, admitted to this member's mempool.
    pub accepted: u32,
}

/// One member of an epoch's set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetMemberView {
    /// The staker (owner of the stake).
    #[serde(with = "checksummed")]
    pub staker: Address,
    /// The key that signs votes and batches.
    #[serde(with = "checksummed")]
    pub signing_key: Address,
    /// Stake.
    pub stake: Stake,
}

/// One L1 epoch's set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochSetView {
    /// L1 staking epoch.
    pub epoch: u64,
    /// Sum of the members' stakes.
    pub total_stake: Stake,
    /// The members.
    pub members: Vec<SetMemberView>,
}

/// `tandem_sequencerSet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequencerSetView {
    /// This member's signing key.
    #[serde(with = "checksummed")]
    pub me: Address,
    /// Highest committed consensus height.
    pub consensus_height: u64,
    /// Decided heights this member proposed.
    pub heights_proposed: u64,
    /// Equivocations this member reported and got slashed.
    pub slashings_reported: u64,
    /// The current L1 staking epoch.
    pub l1_epoch: u64,
    /// The latest (up to) two epochs' sets, newest first.
    pub sets: Vec<EpochSetView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_refs_round_trip_and_bad_ones_say_why() {
        let key = AccountRef::Key(B256::repeat_byte(0xab));
        assert_eq!(key.to_string().parse::<AccountRef>(), Ok(key));
        assert_eq!("#7".parse::<AccountRef>(), Ok(AccountRef::Index(7)));
        assert_eq!("#x".parse::<AccountRef>(), Err(AccountRefParseError::BadIndex));
        assert_eq!("ab".parse::<AccountRef>(), Err(AccountRefParseError::NotHex));
        assert_eq!("0xabcd".parse::<AccountRef>(), Err(AccountRefParseError::BadKey));
        assert_eq!(format!("0x{}", "zz".repeat(32)).parse::<AccountRef>(), Err(AccountRefParseError::BadKey));
    }

    #[test]
    fn json_is_spec_7s() {
        let account = AccountView {
            index: 2,
            public_key: B256::repeat_byte(1),
            nonce: 1,
            pending_nonce: Some(2),
            balances: BTreeMap::from([(0, Amount(u128::MAX))]),
        };
        let json = serde_json::to_value(&account).unwrap();
        assert_eq!(json["balances"]["0"], u128::MAX.to_string());
        assert_eq!(json["pendingNonce"], 2);
        assert_eq!(serde_json::from_value::<AccountView>(json).unwrap(), account);

        let rollup: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3".parse().unwrap();
        let params = ChainParams {
            chain_id: 1,
            tree_depth: 12,
            l1_chain_id: 31337,
            rollup,
            deploy_block: 0,
            challenge_window: 60,
            fee_account: 0,
            block_time_ms: 500,
            zk_slots: None,
            fast_withdrawal_fee: None,
            market: None,
            dispute_game: None,
        };
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["rollup"], "0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert!(json["zkSlots"].is_null() && json["market"].is_null() && json["disputeGame"].is_null());
        assert_eq!(serde_json::from_value::<ChainParams>(json).unwrap(), params);
        let with_market = ChainParams { market: Some(rollup), dispute_game: Some(rollup), ..params };
        let json = serde_json::to_value(&with_market).unwrap();
        assert_eq!(json["market"], "0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert_eq!(json["disputeGame"], "0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert_eq!(serde_json::from_value::<ChainParams>(json).unwrap(), with_market);

        let stake = Stake(U256::from(10).pow(U256::from(30)));
        let json = serde_json::to_value(stake).unwrap();
        assert_eq!(json, format!("1{}", "0".repeat(30)));
        assert_eq!(serde_json::from_value::<Stake>(json).unwrap(), stake);
        assert_eq!(serde_json::to_value(BatchStatus::Posted).unwrap(), "posted");
        assert_eq!(serde_json::to_value(TxStatus::Rejected).unwrap(), "rejected");
    }

    #[test]
    fn send_outcomes_are_a_result_or_an_error_object() {
        let accepted = SendOutcome::Accepted(SubmittedTx { hash: TxHash([0xab; 32]), status: TxStatus::Pending });
        let json = serde_json::to_value(&accepted).unwrap();
        assert_eq!(json, serde_json::json!({"hash": format!("0x{}", "ab".repeat(32)), "status": "pending"}));
        assert_eq!(serde_json::from_value::<SendOutcome>(json).unwrap(), accepted);
        let refused = SendOutcome::Refused { error: crate::ApiError::Refused("nonce 3 already used".into()).into() };
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(json, serde_json::json!({"error": {"code": crate::REFUSED, "message": "nonce 3 already used"}}));
        assert_eq!(serde_json::from_value::<SendOutcome>(json).unwrap(), refused);
        assert!(serde_json::from_value::<SendOutcome>(serde_json::json!({"hash": "0x12"})).is_err(), "a short hash is neither");
        assert!(serde_json::from_value::<SendOutcome>(serde_json::json!({"status": "pending"})).is_err(), "no hash, no error");
    }
}
