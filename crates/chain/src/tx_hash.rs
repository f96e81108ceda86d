//! The transaction hash: how users, the RPC and the node's storage name a transaction.

use sha2::{Digest, Sha256};
use tandem_types::SignedTx;

/// `sha256` of a signed transaction's SPEC §4.3 encoding. Its text form is `0x` and 64 hex
/// digits; parsing accepts exactly that (either case), nothing shorter, longer or unprefixed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TxHash(pub [u8; 32]);

impl TxHash {
    /// The hash of `tx`.
    pub fn of(tx: &SignedTx) -> Self {
        Self(Sha256::digest(tx.encode()).into())
    }

    /// The 32 bytes (the node's storage key).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Why a text is not a [`TxHash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxHashParseError {
    /// No `0x` prefix.
    #[error("transaction hash must be 0x-prefixed hex")]
    MissingPrefix,
    /// Not 64 hex digits after the prefix.
    #[error("transaction hash must be 64 hex digits, got {0}")]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("transaction hash is not valid hex: {0}")]
    NotHex(String),
}

impl std::fmt::Display for TxHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::fmt::Debug for TxHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TxHash({self})")
    }
}

impl std::str::FromStr for TxHash {
    type Err = TxHashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix("0x").ok_or(TxHashParseError::MissingPrefix)?;
        if digits.len() != 64 {
            return Err(TxHashParseError::Length(digits.len()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).map_err(|e| TxHashParseError::NotHex(e.to_string()))?;
        Ok(Self(out))
    }
}

impl serde::Serialize for TxHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TxHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_parsing_is_strict() {
        let hash = TxHash([0xab; 32]);
        let text = hash.to_string();
        assert_eq!(text, format!("0x{}", "ab".repeat(32)));
        assert_eq!(text.parse::<TxHash>(), Ok(hash));
        assert_eq!(text.to_uppercase().replacen("0X", "0x", 1).parse::<TxHash>(), Ok(hash));
        assert_eq!("ab".repeat(32).parse::<TxHash>(), Err(TxHashParseError::MissingPrefix));
        assert_eq!(format!("0x{}", "ab".repeat(31)).parse::<TxHash>(), Err(TxHashParseError::Length(62)));
        assert_eq!(format!("0x{}00", "ab".repeat(32)).parse::<TxHash>(), Err(TxHashParseError::Length(66)));
        assert!(matches!(format!("0x{}zz", "ab".repeat(31)).parse::<TxHash>(), Err(TxHashParseError::NotHex(_))));
        assert_eq!(serde_json::to_string(&hash).unwrap(), format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<TxHash>(&format!("\"{text}\"")).unwrap(), hash);
        assert!(serde_json::from_str::<TxHash>("\"0x00\"").is_err());
    }
}
