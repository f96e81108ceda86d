//! Baby Jubjub points in circomlib's form, and their 32-byte packing.

use ark_bn254::Fr;
use ark_ec::twisted_edwards::TECurveConfig;
use ark_ff::{BigInteger, Field, PrimeField, Zero};
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsConfig};
use tandem_types::PackedPubKey;

use crate::field::fr_to_le_bytes;

/// Why 32 bytes are not a packed Baby Jubjub point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// The y coordinate is not below the field modulus.
    #[error("packed point: y coordinate is not below the field modulus")]
    YNotCanonical,
    /// No x satisfies the curve equation for this y.
    #[error("packed point: not on the Baby Jubjub curve")]
    NotOnCurve,
    /// The sign bit is set although x = 0, whose packing has no sign bit.
    #[error("packed point: sign bit set for x = 0 (non-canonical)")]
    NonCanonicalSign,
}

/// `(p - 1) / 2`: x coordinates above it pack with the sign bit set.
fn half_modulus() -> <Fr as PrimeField>::BigInt {
    let mut half = Fr::MODULUS;
    half.div2();
    half
}

/// Packs `point` as circomlib's `packPoint` does.
pub fn pack_point(point: &EdwardsAffine) -> [u8; 32] {
    let mut out = fr_to_le_bytes(&point.y);
    if point.x.into_bigint() > half_modulus() {
        out[31] |= 0x80;
    }
    out
}

/// Unpacks circomlib's packed form, strictly: `y < p`, the point is on the curve, and the
/// sign bit is clear when `x = 0`. The point is not required to be in the prime-order
/// subgroup; EdDSA verification multiplies by the cofactor, as circomlib does.
pub fn unpack_point(packed: &[u8; 32]) -> Result<EdwardsAffine, PointError> {
    let mut y_bytes = *packed;
    let sign = y_bytes[31] & 0x80 != 0;
    y_bytes[31] &= 0x7f;
    let y = crate::field::fr_from_le_bytes(&y_bytes).map_err(|_| PointError::YNotCanonical)?;
    let y2 = y.square();
    let numerator = Fr::ONE - y2;
    let denominator = EdwardsConfig::COEFF_A - EdwardsConfig::COEFF_D * y2;
    let x2 = numerator * denominator.inverse().ok_or(PointError::NotOnCurve)?;
    let mut x = x2.sqrt().ok_or(PointError::NotOnCurve)?;
    if x.is_zero() && sign {
        return Err(PointError::NonCanonicalSign);
    }
    let x_is_high = x.into_bigint() > half_modulus();
    if x_is_high != sign {
        x = -x;
    }
    let point = EdwardsAffine::new_unchecked(x, y);
    if !point.is_on_curve() {
        return Err(PointError::NotOnCurve);
    }
    Ok(point)
}

/// Convenience: unpack a [`PackedPubKey`].
pub fn unpack_pubkey(packed: &PackedPubKey) -> Result<EdwardsAffine, PointError> {
    unpack_point(&packed.0)
}
