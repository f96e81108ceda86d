//! Tandem's wire types and their strict byte encodings: account indices, tokens, packed
//! amounts, operations in public data, signed user transactions and forced-withdrawal
//! requests.
//!
//! Every decoder here is strict (one encoding per value; truncated, trailing, unknown or
//! non-canonical input is an error naming the type and the reason) and never panics.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod amount;
mod error;
mod forced;
mod op;
mod primitives;
mod reader;
mod tx;

pub use amount::{PackError, PackedAmount, PackedFee};
pub use error::{DecodeError, DecodeReason};
pub use forced::{is_field_element, ForcedWithdrawalRequest, FIELD_MODULUS_BE};
pub use op::{decode_public_data, encode_public_data, DepositOp, ForcedWithdrawOp, Op, OpType, TransferOp, TransferToNewOp, WithdrawOp};
pub use primitives::{
    hex_lower, AccountIndex, Balance, ChainId, L1Address, Nonce, PackedPubKey, PackedSignature, TokenId, ACCOUNT_INDEX_BITS, MAX_TOKENS,
    TOKEN_BITS,
};
pub use tx::{L1Deposit, SignedTx, TransferTx, Tx, WithdrawTx};
