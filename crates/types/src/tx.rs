//! Transactions as users sign and submit them, and deposits as L1 queues them.
//!
//! A user transaction names its recipient by public key (transfers) or L1 address
//! (withdrawals); the sequencer turns it into an [`Op`](crate::Op) by resolving the
//! recipient's account index. Wire format: the same header byte as ops (type in the high
//! 3 bits, token in the low 5), the body, then the 64-byte packed signature.

use crate::reader::Reader;
use crate::{
    AccountIndex, Balance, DecodeError, DecodeReason, L1Address, Nonce, OpType, PackedAmount, PackedFee, PackedPubKey, PackedSignature,
    TokenId,
};

/// A transfer as signed by the owner of `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferTx {
    /// Sender account.
    pub from: AccountIndex,
    /// Recipient owner key; its account is created if it has none.
    pub to: PackedPubKey,
    /// Token moved and paid as fee.
    pub token: TokenId,
    /// Amount credited to the recipient.
    pub amount: PackedAmount,
    /// Fee paid to the block's fee account.
    pub fee: PackedFee,
    /// The sender's current nonce.
    pub nonce: Nonce,
}

/// A withdrawal as signed by the owner of `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WithdrawTx {
    /// Account debited.
    pub from: AccountIndex,
    /// L1 recipient.
    pub to_l1: L1Address,
    /// Token withdrawn and paid as fee.
    pub token: TokenId,
    /// Exact amount paid on L1.
    pub amount: Balance,
    /// Fee paid to the block's fee account.
    pub fee: PackedFee,
    /// The account's current nonce.
    pub nonce: Nonce,
}

/// A user transaction, before its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tx {
    /// See [`TransferTx`].
    Transfer(TransferTx),
    /// See [`WithdrawTx`].
    Withdraw(WithdrawTx),
}

impl Tx {
    /// The signing account.
    pub fn from(&self) -> AccountIndex {
        match self {
            Tx::Transfer(t) => t.from,
            Tx::Withdraw(w) => w.from,
        }
    }

    /// The nonce the transaction claims.
    pub fn nonce(&self) -> Nonce {
        match self {
            Tx::Transfer(t) => t.nonce,
            Tx::Withdraw(w) => w.nonce,
        }
    }

    /// The token moved.
    pub fn token(&self) -> TokenId {
        match self {
            Tx::Transfer(t) => t.token,
            Tx::Withdraw(w) => w.token,
        }
    }

    /// The fee, paid in [`Tx::token`] to the block's fee account.
    pub fn fee(&self) -> PackedFee {
        match self {
            Tx::Transfer(t) => t.fee,
            Tx::Withdraw(w) => w.fee,
        }
    }
}

/// A transaction with its EdDSA-Poseidon signature, as submitted over RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignedTx {
    /// What was signed.
    pub tx: Tx,
    /// Signature over the tx's signing message (see SPEC.md).
    pub signature: PackedSignature,
}

impl SignedTx {
    /// Encoded size of a signed transfer.
    pub const TRANSFER_LEN: usize = 1 + 3 + 32 + PackedAmount::SIZE + PackedFee::SIZE + 4 + 64;
    /// Encoded size of a signed withdrawal.
    pub const WITHDRAW_LEN: usize = 1 + 3 + 20 + 16 + PackedFee::SIZE + 4 + 64;

    /// Canonical wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::TRANSFER_LEN.max(Self::WITHDRAW_LEN));
        match &self.tx {
            Tx::Transfer(t) => {
                out.push(((OpType::Transfer as u8) << 5) | t.token.get());
                out.extend_from_slice(&t.from.to_bytes());
                out.extend_from_slice(&t.to.0);
                out.extend_from_slice(&t.amount.to_bytes());
                out.extend_from_slice(&t.fee.to_bytes());
                out.extend_from_slice(&t.nonce.to_be_bytes());
            }
            Tx::Withdraw(w) => {
                out.push(((OpType::Withdraw as u8) << 5) | w.token.get());
                out.extend_from_slice(&w.from.to_bytes());
                out.extend_from_slice(&w.to_l1.0);
                out.extend_from_slice(&w.amount.to_be_bytes());
                out.extend_from_slice(&w.fee.to_bytes());
                out.extend_from_slice(&w.nonce.to_be_bytes());
            }
        }
        out.extend_from_slice(&self.signature.0);
        out
    }

    /// Strictly decodes one signed transaction occupying all of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        const TY: &str = "SignedTx";
        let first = *bytes.first().ok_or(DecodeError::new(TY, DecodeReason::Truncated { needed: 1, got: 0 }))?;
        let token = TokenId::new((first & 0x1f) as u32)?;
        let mut r = Reader::new(TY, bytes);
        let tx = match first >> 5 {
            code if code == OpType::Transfer as u8 => {
                let need = Self::TRANSFER_LEN;
                r.array::<1>(need)?;
                Tx::Transfer(TransferTx {
                    from: AccountIndex::from_bytes(r.array(need)?),
                    to: PackedPubKey(r.array(need)?),
                    token,
                    amount: PackedAmount::from_bytes(r.array(need)?)?,
                    fee: PackedFee::from_bytes(r.array(need)?)?,
                    nonce: u32::from_be_bytes(r.array(need)?),
                })
            }
            code if code == OpType::Withdraw as u8 => {
                let need = Self::WITHDRAW_LEN;
                r.array::<1>(need)?;
                Tx::Withdraw(WithdrawTx {
                    from: AccountIndex::from_bytes(r.array(need)?),
                    to_l1: L1Address(r.array(need)?),
                    token,
                    amount: u128::from_be_bytes(r.array(need)?),
                    fee: PackedFee::from_bytes(r.array(need)?)?,
                    nonce: u32::from_be_bytes(r.array(need)?),
                })
            }
            other => return Err(DecodeError::new(TY, DecodeReason::UnknownTag(other))),
        };
        let need = r.position() + 64;
        let signature = PackedSignature(r.array(need)?);
        r.finish()?;
        Ok(Self { tx, signature })
    }
}

/// A deposit as the L1 priority queue records it: the L2 owner key, token and amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L1Deposit {
    /// Owner key of the credited L2 account (created if it has none).
    pub to: PackedPubKey,
    /// Token deposited.
    pub token: TokenId,
    /// Exact amount locked on L1.
    pub amount: Balance,
}
