//! Small value types shared by every Tandem crate.

use crate::{DecodeError, DecodeReason};

/// Bits of an account index in every encoding; the tree depth of a chain is at most this.
pub const ACCOUNT_INDEX_BITS: u32 = 24;
/// Bits of a token id in every encoding; a chain has at most `2^TOKEN_BITS` tokens.
pub const TOKEN_BITS: u32 = 5;
/// Number of token ids the encoding can name (token 0 is ETH).
pub const MAX_TOKENS: u32 = 1 << TOKEN_BITS;

/// Position of an account in the state tree.
///
/// Invariant: fits in [`ACCOUNT_INDEX_BITS`] bits (checked by [`AccountIndex::new`]);
/// whether it fits the chain's tree depth is a state-transition check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountIndex(u32);

impl AccountIndex {
    /// Largest index any encoding can carry.
    pub const MAX: u32 = (1 << ACCOUNT_INDEX_BITS) - 1;

    /// Wraps `index`, refusing values that do not fit 24 bits.
    pub fn new(index: u32) -> Result<Self, DecodeError> {
        if index > Self::MAX {
            return Err(DecodeError::new("AccountIndex", DecodeReason::OutOfRange("account index exceeds 24 bits")));
        }
        Ok(Self(index))
    }

    /// The index as an integer.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Big-endian 3-byte encoding.
    pub fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }

    /// Decodes the 3-byte big-endian encoding (every 3-byte value is valid).
    pub fn from_bytes(bytes: [u8; 3]) -> Self {
        Self(u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]))
    }
}

impl std::fmt::Display for AccountIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Identifier of a token; 0 is ETH.
///
/// Invariant: below [`MAX_TOKENS`]; whether the chain has registered it is a
/// state-transition check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId(u8);

impl TokenId {
    /// The native token, ETH.
    pub const ETH: TokenId = TokenId(0);

    /// Wraps `id`, refusing ids the encoding cannot carry.
    pub fn new(id: u32) -> Result<Self, DecodeError> {
        if id >= MAX_TOKENS {
            return Err(DecodeError::new("TokenId", DecodeReason::OutOfRange("token id must be below 32")));
        }
        Ok(Self(id as u8))
    }

    /// The id as an integer.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// Per-account transaction counter: a signed transaction carries the account's current
/// nonce and applying it increments the nonce by one.
pub type Nonce = u32;

/// Token amounts and balances, in the token's smallest unit.
pub type Balance = u128;

/// Identifier of a Tandem chain; part of every signed message so that signatures cannot
/// be replayed on another chain.
pub type ChainId = u64;

/// A 20-byte Ethereum (L1) address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct L1Address(pub [u8; 20]);

impl std::fmt::Debug for L1Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex_lower(&self.0))
    }
}

impl std::fmt::Display for L1Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A Baby Jubjub public key in circomlib's packed form: the y coordinate little-endian,
/// with the sign of x in the top bit of the last byte.
///
/// Invariant: none at this layer; a packed key is checked to be on the curve and in the
/// prime-order subgroup when it is unpacked (tandem-crypto).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackedPubKey(pub [u8; 32]);

impl std::fmt::Debug for PackedPubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedPubKey({})", hex_lower(&self.0))
    }
}

/// An EdDSA-Poseidon signature in circomlib's packed form: packed R8 (32 bytes) then S
/// (32 bytes, little-endian).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackedSignature(pub [u8; 64]);

impl std::fmt::Debug for PackedSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedSignature({})", hex_lower(&self.0))
    }
}

/// Lower-case hex of `bytes`, without prefix.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}
