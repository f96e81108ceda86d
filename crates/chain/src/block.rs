//! Typed L2 blocks and their inputs, as the node stores them and serves them over RPC
//! (`tandem_getBlock`), and as a prover or follower replays them.
//!
//! The JSON form is the RPC's: roots and public data as `0x` hex, transaction hashes as
//! [`TxHash`] text, deposit amounts as decimal strings, signed transactions as `0x` hex of
//! their SPEC §4.3 encoding, the proposer as a checksummed address. Decoding is strict: every
//! field is parsed into its type when read, so a record that deserializes is well-formed.

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use tandem_state::LedgerOp;
use tandem_types::{Balance, ForcedWithdrawalRequest, L1Deposit, PackedPubKey, SignedTx, TokenId};

use crate::batch::{BatchHeader, Lane};
use crate::genesis::FEE_ACCOUNT;
use crate::tx_hash::TxHash;

/// An L2 block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRecord {
    /// Number, from 1.
    pub number: u64,
    /// Unix seconds when produced.
    pub timestamp: u64,
    /// Root before (big-endian field element).
    pub prev_state_root: B256,
    /// Root after, fees settled.
    pub state_root: B256,
    /// Root after each op.
    pub intermediate_roots: Vec<B256>,
    /// Public data (SPEC §4.2).
    #[serde(with = "hex0x")]
    pub public_data: Vec<u8>,
    /// Ops in the block.
    pub op_count: u32,
    /// Deposits in the block.
    pub priority_ops: u32,
    /// Hashes of the user transactions, in block order.
    pub tx_hashes: Vec<TxHash>,
    /// The finality lane of the block's batch.
    #[serde(default = "optimistic")]
    pub lane: Lane,
    /// The block's inputs in order (deposits and signed transactions): what a prover or a
    /// follower replays to rebuild the state and the circuit witness.
    #[serde(default)]
    pub inputs: Vec<BlockInput>,
    /// Sequencer-set mode: who decided this block, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusInfo>,
}

fn optimistic() -> Lane {
    Lane::Optimistic
}

/// Where a block came from in sequencer-set mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusInfo {
    /// Consensus height that decided it.
    pub height: u64,
    /// Round it was decided in.
    pub round: u32,
    /// Signing-key address of its proposer (the first in line to post its batch).
    #[serde(with = "checksummed")]
    pub proposer: Address,
    /// L1 staking epoch whose set signs its batch (and decides the next heights).
    pub epoch: u64,
}

impl BlockRecord {
    /// Sum of the fees the block's transactions pay in `token` (what the fee account collects
    /// from this block in that token). Saturates: it is never more than the tokens that exist.
    pub fn fees_in(&self, token: tandem_types::TokenId) -> u128 {
        self.inputs
            .iter()
            .filter_map(|input| match input {
                BlockInput::Tx { encoded } if encoded.tx.token() == token => Some(encoded.tx.fee().value()),
                _ => None,
            })
            .fold(0u128, u128::saturating_add)
    }

    /// The block's batch header as L1 takes it (batch number = block number, fee account
    /// [`FEE_ACCOUNT`]); it commits to [`BlockRecord::public_data`].
    pub fn batch_header(&self) -> BatchHeader {
        BatchHeader::new(
            self.number,
            self.prev_state_root,
            self.state_root,
            &self.intermediate_roots,
            &self.public_data,
            self.op_count,
            self.priority_ops,
            self.lane,
            FEE_ACCOUNT,
        )
    }
}

/// One input of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum BlockInput {
    /// An L1 deposit.
    Deposit {
        /// Priority-queue index.
        queue_index: u64,
        /// Packed owner key.
        #[serde(with = "packed_key")]
        to: PackedPubKey,
        /// Token.
        #[serde(with = "token_id")]
        token: TokenId,
        /// Amount in the token's base units (a decimal string in JSON).
        #[serde(with = "decimal")]
        amount: Balance,
    },
    /// A forced-withdrawal request from the L1 priority queue (executed or a recorded no-op).
    ForcedWithdrawal {
        /// Priority-queue index.
        queue_index: u64,
        /// The request (`0x` hex of its SPEC §4.5 wire form in JSON).
        #[serde(with = "forced_request")]
        request: ForcedWithdrawalRequest,
    },
    /// A signed transaction.
    Tx {
        /// The transaction (`0x` hex of its SPEC §4.3 encoding in JSON).
        #[serde(with = "signed_tx")]
        encoded: SignedTx,
    },
}

impl BlockInput {
    /// The input of a confirmed L1 deposit with priority-queue index `queue_index`.
    pub fn deposit(queue_index: u64, deposit: &L1Deposit) -> Self {
        BlockInput::Deposit { queue_index, to: deposit.to, token: deposit.token, amount: deposit.amount }
    }

    /// The ledger input it stands for (every field is typed, so this cannot fail).
    pub fn to_ledger_op(&self) -> LedgerOp {
        match self {
            BlockInput::Deposit { to, token, amount, .. } => LedgerOp::Deposit(L1Deposit { to: *to, token: *token, amount: *amount }),
            BlockInput::Tx { encoded } => LedgerOp::Tx(*encoded),
            BlockInput::ForcedWithdrawal { request, .. } => LedgerOp::ForcedWithdrawal(*request),
        }
    }

    /// The priority-queue index of a deposit or forced withdrawal; `None` for a transaction.
    pub fn queue_index(&self) -> Option<u64> {
        match self {
            BlockInput::Deposit { queue_index, .. } | BlockInput::ForcedWithdrawal { queue_index, .. } => Some(*queue_index),
            BlockInput::Tx { .. } => None,
        }
    }
}

/// `0x` hex of bytes; decoding requires the prefix.
mod hex0x {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    // alloy's hex (const-hex): a block record's inputs are most of the bytes a committed
    // block writes, and the `hex` crate's encoder goes character by character.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&alloy::hex::encode_prefixed(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if !text.starts_with("0x") {
            return Err(D::Error::custom("expected 0x-prefixed hex"));
        }
        // The decoder strips exactly one `0x`, so "0x0x…" stays an error.
        alloy::hex::decode(text.as_bytes()).map_err(D::Error::custom)
    }
}

mod packed_key {
    use serde::{de::Error, Deserializer, Serializer};
    use tandem_types::PackedPubKey;

    pub fn serialize<S: Serializer>(key: &PackedPubKey, serializer: S) -> Result<S::Ok, S::Error> {
        super::hex0x::serialize(&key.0, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PackedPubKey, D::Error> {
        let bytes = super::hex0x::deserialize(deserializer)?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| D::Error::custom(format!("packed key must be 32 bytes, got {}", b.len())))?;
        Ok(PackedPubKey(key))
    }
}

mod token_id {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use tandem_types::TokenId;

    pub fn serialize<S: Serializer>(token: &TokenId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(token.get())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TokenId, D::Error> {
        TokenId::new(u8::deserialize(deserializer)? as u32).map_err(D::Error::custom)
    }
}

/// A `u128` as a canonical decimal string (digits only, no leading zeros).
mod decimal {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let canonical = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text.len() == 1 || !text.starts_with('0'));
        if !canonical {
            return Err(D::Error::custom(format!("amount {text:?} is not a canonical decimal")));
        }
        text.parse().map_err(|e| D::Error::custom(format!("amount {text:?}: {e}")))
    }
}

mod signed_tx {
    use serde::{de::Error, Deserializer, Serializer};
    use tandem_types::SignedTx;

    pub fn serialize<S: Serializer>(tx: &SignedTx, serializer: S) -> Result<S::Ok, S::Error> {
        super::hex0x::serialize(&tx.encode(), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SignedTx, D::Error> {
        SignedTx::decode(&super::hex0x::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

mod forced_request {
    use serde::{de::Error, Deserializer, Serializer};
    use tandem_types::ForcedWithdrawalRequest;

    pub fn serialize<S: Serializer>(request: &ForcedWithdrawalRequest, serializer: S) -> Result<S::Ok, S::Error> {
        super::hex0x::serialize(&request.encode(), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ForcedWithdrawalRequest, D::Error> {
        ForcedWithdrawalRequest::decode(&super::hex0x::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// An address as its EIP-55 checksummed text (what `Address`'s `Display` writes).
mod checksummed {
    use alloy::primitives::Address;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(address)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::intermediate_roots_root;
    use sha2::{Digest, Sha256};
    use tandem_types::{AccountIndex, PackedAmount, PackedFee, PackedSignature, TransferTx, Tx};

    fn tx() -> SignedTx {
        SignedTx {
            tx: Tx::Transfer(TransferTx {
                from: AccountIndex::new(1).unwrap(),
                to: PackedPubKey([2; 32]),
                token: TokenId::new(0).unwrap(),
                amount: PackedAmount::new(1_200).unwrap(),
                fee: PackedFee::new(5).unwrap(),
                nonce: 3,
            }),
            signature: PackedSignature([9; 64]),
        }
    }

    fn record() -> BlockRecord {
        BlockRecord {
            number: 4,
            timestamp: 1_700_000_000,
            prev_state_root: B256::repeat_byte(1),
            state_root: B256::repeat_byte(2),
            intermediate_roots: vec![B256::repeat_byte(3), B256::repeat_byte(2)],
            public_data: vec![0xde, 0xad],
            op_count: 2,
            priority_ops: 1,
            tx_hashes: vec![TxHash::of(&tx())],
            lane: Lane::Zk,
            inputs: vec![
                BlockInput::Deposit { queue_index: 7, to: PackedPubKey([0xab; 32]), token: TokenId::new(1).unwrap(), amount: 5_000 },
                BlockInput::Tx { encoded: tx() },
            ],
            consensus: Some(ConsensusInfo {
                height: 9,
                round: 1,
                proposer: "0x00000000000000000000000000000000000000aa".parse().unwrap(),
                epoch: 2,
            }),
        }
    }

    /// The JSON the node wrote before blocks were typed (hex strings everywhere, the proposer
    /// checksummed) still reads, and writing gives the same text back.
    #[test]
    fn json_shape_is_the_rpc_shape() {
        let r = record();
        let json = serde_json::to_value(&r).unwrap();
        let expected = serde_json::json!({
            "number": 4,
            "timestamp": 1_700_000_000u64,
            "prevStateRoot": format!("0x{}", "01".repeat(32)),
            "stateRoot": format!("0x{}", "02".repeat(32)),
            "intermediateRoots": [format!("0x{}", "03".repeat(32)), format!("0x{}", "02".repeat(32))],
            "publicData": "0xdead",
            "opCount": 2,
            "priorityOps": 1,
            "txHashes": [TxHash::of(&tx()).to_string()],
            "lane": "zk",
            "inputs": [
                {"kind": "deposit", "queue_index": 7, "to": format!("0x{}", "ab".repeat(32)), "token": 1, "amount": "5000"},
                {"kind": "tx", "encoded": format!("0x{}", hex::encode(tx().encode()))},
            ],
            "consensus": {"height": 9, "round": 1, "proposer": "0x00000000000000000000000000000000000000AA", "epoch": 2},
        });
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_value::<BlockRecord>(expected).unwrap(), r);
    }

    #[test]
    fn malformed_fields_are_refused_when_read() {
        let good = serde_json::to_value(record()).unwrap();
        let cases: Vec<(&str, serde_json::Value)> = vec![
            ("/stateRoot", serde_json::json!("0x02")),
            ("/publicData", serde_json::json!("dead")),
            ("/publicData", serde_json::json!("0x0xdead")),
            ("/publicData", serde_json::json!("0Xdead")),
            ("/publicData", serde_json::json!("0xdea")),
            ("/publicData", serde_json::json!("0xdeag")),
            ("/txHashes/0", serde_json::json!("0x12")),
            ("/inputs/0/to", serde_json::json!("0xabab")),
            ("/inputs/0/token", serde_json::json!(32)),
            ("/inputs/0/amount", serde_json::json!("+5")),
            ("/inputs/0/amount", serde_json::json!("05")),
            ("/inputs/0/amount", serde_json::json!("340282366920938463463374607431768211456")),
            ("/inputs/1/encoded", serde_json::json!("0x00")),
            ("/consensus/proposer", serde_json::json!("0x1234")),
        ];
        for (pointer, bad) in cases {
            let mut value = good.clone();
            *value.pointer_mut(pointer).unwrap() = bad.clone();
            assert!(serde_json::from_value::<BlockRecord>(value).is_err(), "{pointer} = {bad} was accepted");
        }
    }

    #[test]
    fn inputs_map_to_ledger_ops_and_the_header_commits_to_the_block() {
        let r = record();
        let ops: Vec<LedgerOp> = r.inputs.iter().map(BlockInput::to_ledger_op).collect();
        let deposit = L1Deposit { to: PackedPubKey([0xab; 32]), token: TokenId::new(1).unwrap(), amount: 5_000 };
        assert_eq!(ops, vec![LedgerOp::Deposit(deposit), LedgerOp::Tx(tx())]);
        assert_eq!(BlockInput::deposit(7, &deposit), r.inputs[0]);
        let header = r.batch_header();
        assert_eq!(header.batch_number, 4);
        assert_eq!(header.public_data_hash, B256::from(<[u8; 32]>::from(Sha256::digest([0xde, 0xad]))));
        assert_eq!(header.intermediate_roots_root, intermediate_roots_root(&r.intermediate_roots));
        assert_eq!((header.lane, header.op_count, header.priority_ops_count, header.fee_account), (Lane::Zk, 2, 1, FEE_ACCOUNT));
    }
}
