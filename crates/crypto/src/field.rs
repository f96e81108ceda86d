//! Conversions between BN254 scalar-field elements and integers or bytes.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

/// Why bytes or text do not name a field element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The integer is not below the field modulus (a non-canonical encoding).
    #[error("field element is not below the BN254 scalar-field modulus")]
    NotCanonical,
    /// The text is not a decimal integer.
    #[error("not a decimal integer: {0:?}")]
    NotDecimal(String),
}

/// The element `value`.
pub fn fr_from_u128(value: u128) -> Fr {
    Fr::from(value)
}

/// Strictly decodes 32 little-endian bytes; values `≥ p` are refused.
pub fn fr_from_le_bytes(bytes: &[u8; 32]) -> Result<Fr, FieldError> {
    let fr = Fr::from_le_bytes_mod_order(bytes);
    if fr_to_le_bytes(&fr) != *bytes {
        return Err(FieldError::NotCanonical);
    }
    Ok(fr)
}

/// Strictly decodes 32 big-endian bytes; values `≥ p` are refused.
pub fn fr_from_be_bytes(bytes: &[u8; 32]) -> Result<Fr, FieldError> {
    let fr = Fr::from_be_bytes_mod_order(bytes);
    if fr_to_be_bytes(&fr) != *bytes {
        return Err(FieldError::NotCanonical);
    }
    Ok(fr)
}

/// The canonical 32-byte little-endian encoding.
pub fn fr_to_le_bytes(fr: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&fr.into_bigint().to_bytes_le());
    out
}

/// The canonical 32-byte big-endian encoding (how L1 contracts see a root).
pub fn fr_to_be_bytes(fr: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&fr.into_bigint().to_bytes_be());
    out
}

/// Parses a decimal integer below `p` (the notation of circomlibjs vectors and JSON-RPC).
pub fn fr_from_decimal(text: &str) -> Result<Fr, FieldError> {
    let n = num_bigint::BigUint::parse_bytes(text.as_bytes(), 10).ok_or_else(|| FieldError::NotDecimal(text.to_owned()))?;
    let bytes = n.to_bytes_le();
    if bytes.len() > 32 {
        return Err(FieldError::NotCanonical);
    }
    let mut le = [0u8; 32];
    le[..bytes.len()].copy_from_slice(&bytes);
    fr_from_le_bytes(&le)
}

/// The element as a decimal integer.
pub fn fr_to_decimal(fr: &Fr) -> String {
    num_bigint::BigUint::from_bytes_le(&fr_to_le_bytes(fr)).to_str_radix(10)
}
