//! Operations as they appear in a batch's public data, and their canonical encoding.
//!
//! Every op starts with one header byte: the op type in the high 3 bits and the token id
//! in the low 5 bits. Multi-byte integers are big-endian. Each op has exactly one
//! encoding; decoding refuses unknown types, truncated or trailing bytes and non-canonical
//! packed numbers.

use crate::reader::Reader;
use crate::{AccountIndex, Balance, DecodeError, DecodeReason, L1Address, PackedAmount, PackedFee, PackedPubKey, TokenId};

/// Type codes of the op header byte (high 3 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpType {
    /// Padding.
    Noop = 0,
    /// L1 deposit credited to an account.
    Deposit = 1,
    /// Transfer between existing accounts.
    Transfer = 2,
    /// Transfer that creates the recipient's account.
    TransferToNew = 3,
    /// Withdrawal to an L1 address.
    Withdraw = 4,
    /// Forced withdrawal requested on L1 (executed or a recorded no-op).
    ForcedWithdraw = 5,
}

impl OpType {
    /// Decodes the high 3 bits of a header byte.
    pub fn from_code(code: u8) -> Result<Self, DecodeError> {
        Ok(match code {
            0 => Self::Noop,
            1 => Self::Deposit,
            2 => Self::Transfer,
            3 => Self::TransferToNew,
            4 => Self::Withdraw,
            5 => Self::ForcedWithdraw,
            other => return Err(DecodeError::new("Op", DecodeReason::UnknownTag(other))),
        })
    }

    /// Encoded size in bytes of an op of this type, header byte included.
    pub const fn encoded_len(self) -> usize {
        match self {
            Self::Noop => 1,
            // header, index, packed pubkey, amount (u128)
            Self::Deposit => 1 + 3 + 32 + 16,
            // header, from, to, packed amount, packed fee
            Self::Transfer => 1 + 3 + 3 + PackedAmount::SIZE + PackedFee::SIZE,
            // header, from, to, recipient packed pubkey, packed amount, packed fee
            Self::TransferToNew => 1 + 3 + 3 + 32 + PackedAmount::SIZE + PackedFee::SIZE,
            // header, from, amount (u128), packed fee, L1 address
            Self::Withdraw => 1 + 3 + 16 + PackedFee::SIZE + 20,
            // header, account, withdrawn amount (u128), request hash
            Self::ForcedWithdraw => 1 + 3 + 16 + 32,
        }
    }
}

/// L1 deposit credited to account `to`, which is created with `pubkey` if empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DepositOp {
    /// Account credited.
    pub to: AccountIndex,
    /// Owner key named by the L1 depositor; must match the account if it exists.
    pub pubkey: PackedPubKey,
    /// Token deposited.
    pub token: TokenId,
    /// Exact amount locked on L1.
    pub amount: Balance,
}

/// Transfer from `from` to the existing account `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferOp {
    /// Sender (signer) account.
    pub from: AccountIndex,
    /// Recipient account; must exist.
    pub to: AccountIndex,
    /// Token moved and paid as fee.
    pub token: TokenId,
    /// Amount credited to `to`.
    pub amount: PackedAmount,
    /// Fee paid to the block's fee account.
    pub fee: PackedFee,
}

/// Transfer from `from` that creates account `to` owned by `to_pubkey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferToNewOp {
    /// Sender (signer) account.
    pub from: AccountIndex,
    /// Index of the account created; must be empty.
    pub to: AccountIndex,
    /// Owner key of the created account.
    pub to_pubkey: PackedPubKey,
    /// Token moved and paid as fee.
    pub token: TokenId,
    /// Amount credited to `to`.
    pub amount: PackedAmount,
    /// Fee paid to the block's fee account.
    pub fee: PackedFee,
}

/// Withdrawal of `amount` from `from`, paid on L1 to `to_l1` once the batch is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WithdrawOp {
    /// Account debited (signer).
    pub from: AccountIndex,
    /// Token withdrawn and paid as fee.
    pub token: TokenId,
    /// Exact amount paid out on L1.
    pub amount: Balance,
    /// Fee paid to the block's fee account.
    pub fee: PackedFee,
    /// L1 recipient.
    pub to_l1: L1Address,
}

/// A forced withdrawal from the L1 priority queue, as executed: `withdrawn` of `token` left
/// `account` for the recipient L1 stored with the request (0: the request was a no-op, see
/// SPEC.md §5.1). `request_hash` (big-endian, below the field modulus) binds the op to its
/// queue entry and so to the signed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForcedWithdrawOp {
    /// Account debited.
    pub account: AccountIndex,
    /// Token withdrawn.
    pub token: TokenId,
    /// Amount paid out on L1; 0 for a no-op.
    pub withdrawn: Balance,
    /// `H(M, R8.x, R8.y, S)` of the request (SPEC.md §4.5).
    pub request_hash: [u8; 32],
}

/// One operation of a batch, in the form that goes to L1 as public data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Padding; changes nothing.
    Noop,
    /// See [`DepositOp`].
    Deposit(DepositOp),
    /// See [`TransferOp`].
    Transfer(TransferOp),
    /// See [`TransferToNewOp`].
    TransferToNew(TransferToNewOp),
    /// See [`WithdrawOp`].
    Withdraw(WithdrawOp),
    /// See [`ForcedWithdrawOp`].
    ForcedWithdraw(ForcedWithdrawOp),
}

fn header(ty: OpType, token: TokenId) -> u8 {
    ((ty as u8) << 5) | token.get()
}

impl Op {
    /// The op's type code.
    pub fn op_type(&self) -> OpType {
        match self {
            Op::Noop => OpType::Noop,
            Op::Deposit(_) => OpType::Deposit,
            Op::Transfer(_) => OpType::Transfer,
            Op::TransferToNew(_) => OpType::TransferToNew,
            Op::Withdraw(_) => OpType::Withdraw,
            Op::ForcedWithdraw(_) => OpType::ForcedWithdraw,
        }
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Op::Noop => out.push(header(OpType::Noop, TokenId::ETH)),
            Op::Deposit(d) => {
                out.push(header(OpType::Deposit, d.token));
                out.extend_from_slice(&d.to.to_bytes());
                out.extend_from_slice(&d.pubkey.0);
                out.extend_from_slice(&d.amount.to_be_bytes());
            }
            Op::Transfer(t) => {
                out.push(header(OpType::Transfer, t.token));
                out.extend_from_slice(&t.from.to_bytes());
                out.extend_from_slice(&t.to.to_bytes());
                out.extend_from_slice(&t.amount.to_bytes());
                out.extend_from_slice(&t.fee.to_bytes());
            }
            Op::TransferToNew(t) => {
                out.push(header(OpType::TransferToNew, t.token));
                out.extend_from_slice(&t.from.to_bytes());
                out.extend_from_slice(&t.to.to_bytes());
                out.extend_from_slice(&t.to_pubkey.0);
                out.extend_from_slice(&t.amount.to_bytes());
                out.extend_from_slice(&t.fee.to_bytes());
            }
            Op::Withdraw(w) => {
                out.push(header(OpType::Withdraw, w.token));
                out.extend_from_slice(&w.from.to_bytes());
                out.extend_from_slice(&w.amount.to_be_bytes());
                out.extend_from_slice(&w.fee.to_bytes());
                out.extend_from_slice(&w.to_l1.0);
            }
            Op::ForcedWithdraw(f) => {
                out.push(header(OpType::ForcedWithdraw, f.token));
                out.extend_from_slice(&f.account.to_bytes());
                out.extend_from_slice(&f.withdrawn.to_be_bytes());
                out.extend_from_slice(&f.request_hash);
            }
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.op_type().encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Decodes exactly one op occupying all of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (op, used) = Self::decode_prefix(bytes)?;
        if used != bytes.len() {
            return Err(DecodeError::new("Op", DecodeReason::TrailingBytes(bytes.len() - used)));
        }
        Ok(op)
    }

    /// Decodes one op from the front of `bytes`, returning it and the bytes it used.
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Self, usize), DecodeError> {
        let first = *bytes.first().ok_or(DecodeError::new("Op", DecodeReason::Truncated { needed: 1, got: 0 }))?;
        let ty = OpType::from_code(first >> 5)?;
        // Token ids always fit the 5 low bits, so this cannot fail.
        let token = TokenId::new((first & 0x1f) as u32)?;
        let need = ty.encoded_len();
        let mut r = Reader::new("Op", bytes);
        r.array::<1>(need)?;
        let op = match ty {
            OpType::Noop => {
                if token != TokenId::ETH {
                    return Err(DecodeError::new("Op", DecodeReason::ReservedBitsSet("noop header must be 0x00")));
                }
                Op::Noop
            }
            OpType::Deposit => Op::Deposit(DepositOp {
                to: AccountIndex::from_bytes(r.array(need)?),
                pubkey: PackedPubKey(r.array(need)?),
                token,
                amount: u128::from_be_bytes(r.array(need)?),
            }),
            OpType::Transfer => Op::Transfer(TransferOp {
                from: AccountIndex::from_bytes(r.array(need)?),
                to: AccountIndex::from_bytes(r.array(need)?),
                token,
                amount: PackedAmount::from_bytes(r.array(need)?)?,
                fee: PackedFee::from_bytes(r.array(need)?)?,
            }),
            OpType::TransferToNew => Op::TransferToNew(TransferToNewOp {
                from: AccountIndex::from_bytes(r.array(need)?),
                to: AccountIndex::from_bytes(r.array(need)?),
                to_pubkey: PackedPubKey(r.array(need)?),
                token,
                amount: PackedAmount::from_bytes(r.array(need)?)?,
                fee: PackedFee::from_bytes(r.array(need)?)?,
            }),
            OpType::Withdraw => Op::Withdraw(WithdrawOp {
                from: AccountIndex::from_bytes(r.array(need)?),
                token,
                amount: u128::from_be_bytes(r.array(need)?),
                fee: PackedFee::from_bytes(r.array(need)?)?,
                to_l1: L1Address(r.array(need)?),
            }),
            OpType::ForcedWithdraw => {
                let op = ForcedWithdrawOp {
                    account: AccountIndex::from_bytes(r.array(need)?),
                    token,
                    withdrawn: u128::from_be_bytes(r.array(need)?),
                    request_hash: r.array(need)?,
                };
                if !crate::is_field_element(&op.request_hash) {
                    return Err(DecodeError::new("Op", DecodeReason::OutOfRange("request hash at or above the field modulus")));
                }
                Op::ForcedWithdraw(op)
            }
        };
        Ok((op, r.position()))
    }
}

/// Encodes a sequence of ops as the public data of a batch.
pub fn encode_public_data(ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ops.iter().map(|o| o.op_type().encoded_len()).sum());
    for op in ops {
        op.encode_into(&mut out);
    }
    out
}

/// Strictly decodes a batch's public data into its ops.
pub fn decode_public_data(mut bytes: &[u8]) -> Result<Vec<Op>, DecodeError> {
    let mut ops = Vec::new();
    while !bytes.is_empty() {
        let (op, used) = Op::decode_prefix(bytes)?;
        ops.push(op);
        bytes = &bytes[used..];
    }
    Ok(ops)
}
