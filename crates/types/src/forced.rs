//! Forced withdrawals: the request a user files on L1 when the sequencer will not serve it
//! (SPEC.md §4.5, §16), as the L1 inbox records it.

use crate::reader::Reader;
use crate::{AccountIndex, Balance, DecodeError, DecodeReason, L1Address, TokenId};

/// The BN254 scalar field modulus `p`, big-endian: every 32-byte word of a request and the
/// request hash of a [`crate::ForcedWithdrawOp`] lies below it (L1 refuses others).
pub const FIELD_MODULUS_BE: [u8; 32] = [
    0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9,
    0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x01,
];

/// Whether the big-endian word is below the field modulus.
pub fn is_field_element(word: &[u8; 32]) -> bool {
    word < &FIELD_MODULUS_BE
}

/// A forced-withdrawal request as the L1 inbox queued it: the owner of `account` asks that
/// `amount` of `token` (0: the whole balance) leave to `to_l1`, signed by the account key over
/// the message of SPEC.md §4.4 with `request_id`.
///
/// Invariants checked by L1 before queuing (and by [`ForcedWithdrawalRequest::decode`] for
/// the words): `r8x`, `r8y` are the coordinates of a Baby Jubjub point, `s` is below the
/// subgroup order, all three big-endian. The signature itself is checked only by L2: a bad
/// one makes the request a no-op, never a stuck queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForcedWithdrawalRequest {
    /// Account to debit.
    pub account: AccountIndex,
    /// Token withdrawn.
    pub token: TokenId,
    /// L1 recipient.
    pub to_l1: L1Address,
    /// Amount requested; 0 asks for the whole balance.
    pub amount: Balance,
    /// Chosen by the user; L1 queues each (account, request id) at most once.
    pub request_id: u64,
    /// Signature `R8.x`, big-endian.
    pub r8x: [u8; 32],
    /// Signature `R8.y`, big-endian.
    pub r8y: [u8; 32],
    /// Signature `S`, big-endian.
    pub s: [u8; 32],
}

impl ForcedWithdrawalRequest {
    /// Encoded size: account (3) ‖ token (1) ‖ to_l1 (20) ‖ amount (16) ‖ request id (8) ‖
    /// R8.x (32) ‖ R8.y (32) ‖ S (32).
    pub const SIZE: usize = 3 + 1 + 20 + 16 + 8 + 96;

    /// The canonical encoding (consensus payloads, persisted blocks).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        out[..3].copy_from_slice(&self.account.to_bytes());
        out[3] = self.token.get();
        out[4..24].copy_from_slice(&self.to_l1.0);
        out[24..40].copy_from_slice(&self.amount.to_be_bytes());
        out[40..48].copy_from_slice(&self.request_id.to_be_bytes());
        out[48..80].copy_from_slice(&self.r8x);
        out[80..112].copy_from_slice(&self.r8y);
        out[112..].copy_from_slice(&self.s);
        out
    }

    /// Strictly decodes [`Self::encode`]'s form: exact length, token below 32, every word
    /// below the field modulus.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("ForcedWithdrawalRequest", bytes);
        let need = Self::SIZE;
        let account = AccountIndex::from_bytes(r.array(need)?);
        let [token] = r.array::<1>(need)?;
        let token = TokenId::new(token as u32)?;
        let request = Self {
            account,
            token,
            to_l1: L1Address(r.array(need)?),
            amount: u128::from_be_bytes(r.array(need)?),
            request_id: u64::from_be_bytes(r.array(need)?),
            r8x: r.array(need)?,
            r8y: r.array(need)?,
            s: r.array(need)?,
        };
        r.finish()?;
        for word in [&request.r8x, &request.r8y, &request.s] {
            if !is_field_element(word) {
                return Err(DecodeError::new(
                    "ForcedWithdrawalRequest",
                    DecodeReason::OutOfRange("signature word at or above the field modulus"),
                ));
            }
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ForcedWithdrawalRequest {
        ForcedWithdrawalRequest {
            account: AccountIndex::new(0x0a0b0c).unwrap(),
            token: TokenId::new(31).unwrap(),
            to_l1: L1Address([0x11; 20]),
            amount: u128::MAX,
            request_id: u64::MAX,
            r8x: [1; 32],
            r8y: [2; 32],
            s: [3; 32],
        }
    }

    #[test]
    fn request_round_trips() {
        let r = sample();
        assert_eq!(ForcedWithdrawalRequest::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn request_decoder_refuses_bad_input() {
        let bytes = sample().encode();
        assert!(matches!(ForcedWithdrawalRequest::decode(&bytes[..100]).unwrap_err().reason, DecodeReason::Truncated { .. }));
        let mut long = bytes.to_vec();
        long.push(0);
        assert_eq!(ForcedWithdrawalRequest::decode(&long).unwrap_err().reason, DecodeReason::TrailingBytes(1));
        let mut bad_token = bytes;
        bad_token[3] = 32;
        assert!(ForcedWithdrawalRequest::decode(&bad_token).is_err());
        let mut big_s = bytes;
        big_s[112..].copy_from_slice(&FIELD_MODULUS_BE);
        assert!(matches!(ForcedWithdrawalRequest::decode(&big_s).unwrap_err().reason, DecodeReason::OutOfRange(_)));
    }

    #[test]
    fn field_bound_is_exact() {
        let mut below = FIELD_MODULUS_BE;
        below[31] -= 1;
        assert!(is_field_element(&below));
        assert!(!is_field_element(&FIELD_MODULUS_BE));
    }
}
