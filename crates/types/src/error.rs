//! The one error type of every decoder in this crate.

use thiserror::Error;

/// Why a byte string was refused by a strict decoder.
///
/// Invariant: `ty` names the wire type being decoded, `reason` says what was wrong with
/// the bytes, so that the message alone tells a user what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {ty}: {reason}")]
pub struct DecodeError {
    /// The wire type that failed to decode, e.g. `"Op"` or `"PackedAmount"`.
    pub ty: &'static str,
    /// What was wrong with the input.
    pub reason: DecodeReason,
}

/// The reason a decoder refused its input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeReason {
    /// Fewer bytes than the encoding needs.
    #[error("truncated: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes the encoding needs.
        needed: usize,
        /// Bytes that were there.
        got: usize,
    },
    /// Bytes left over after a complete value.
    #[error("{0} trailing bytes after a complete value")]
    TrailingBytes(usize),
    /// A type tag this version does not define.
    #[error("unknown type tag {0:#04x}")]
    UnknownTag(u8),
    /// A packed number that has a shorter (canonical) encoding of the same value.
    #[error("non-canonical packed number: mantissa {mantissa} is a multiple of 10 with exponent {exponent} below the maximum")]
    NonCanonical {
        /// The decoded mantissa.
        mantissa: u64,
        /// The decoded exponent.
        exponent: u8,
    },
    /// A number larger than the type allows.
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
    /// A field that must be zero in this encoding was not.
    #[error("reserved bits set: {0}")]
    ReservedBitsSet(&'static str),
}

impl DecodeError {
    /// Builds an error for wire type `ty`.
    pub const fn new(ty: &'static str, reason: DecodeReason) -> Self {
        Self { ty, reason }
    }
}
