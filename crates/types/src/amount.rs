//! Packed decimal floating-point numbers for amounts and fees in public data.
//!
//! A packed number is `mantissa * 10^exponent`, stored as `exponent` in the high bits and
//! `mantissa` in the low bits. Packing never rounds: a value that is not exactly
//! representable is refused, so what a user signs is what moves. Every value has exactly
//! one encoding: the mantissa must not be a multiple of 10 unless the exponent is at its
//! maximum, and zero is all-zero bits.

use crate::{Balance, DecodeError, DecodeReason};

/// Why a value cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The value needs more significant digits than the mantissa holds.
    #[error("{value} is not exactly representable as {ty} (at most {digits_hint}); nearest lower representable value is {nearest_lower}")]
    NotRepresentable {
        /// The packed type.
        ty: &'static str,
        /// The value that was asked for.
        value: Balance,
        /// The closest value below it that packs.
        nearest_lower: Balance,
        /// Human description of the precision.
        digits_hint: &'static str,
    },
}

/// A layout of packed decimal floats: `EXP_BITS` of exponent above `MANT_BITS` of mantissa.
trait FloatLayout {
    const TY: &'static str;
    const MANT_BITS: u32;
    const EXP_BITS: u32;
    const DIGITS_HINT: &'static str;
    const MAX_EXP: u8 = ((1u32 << Self::EXP_BITS) - 1) as u8;
    const MAX_MANT: u64 = (1u64 << Self::MANT_BITS) - 1;

    fn pack(value: Balance) -> Result<u64, PackError> {
        if value == 0 {
            return Ok(0);
        }
        let mut mantissa = value;
        let mut exponent = 0u8;
        while mantissa.is_multiple_of(10) && exponent < Self::MAX_EXP {
            mantissa /= 10;
            exponent += 1;
        }
        if mantissa > Self::MAX_MANT as u128 {
            return Err(PackError::NotRepresentable {
                ty: Self::TY,
                value,
                nearest_lower: Self::nearest_lower(value),
                digits_hint: Self::DIGITS_HINT,
            });
        }
        Ok(((exponent as u64) << Self::MANT_BITS) | mantissa as u64)
    }

    /// Largest representable value not above `value`.
    fn nearest_lower(value: Balance) -> Balance {
        let mut mantissa = value;
        let mut exponent = 0u32;
        while mantissa > Self::MAX_MANT as u128 && exponent < Self::MAX_EXP as u32 {
            mantissa /= 10;
            exponent += 1;
        }
        let mantissa = mantissa.min(Self::MAX_MANT as u128);
        mantissa.saturating_mul(10u128.saturating_pow(exponent))
    }

    fn unpack(bits: u64) -> Result<Balance, DecodeError> {
        let mantissa = bits & Self::MAX_MANT;
        let exponent = (bits >> Self::MANT_BITS) as u8;
        if mantissa == 0 && exponent != 0 {
            return Err(DecodeError::new(Self::TY, DecodeReason::NonCanonical { mantissa, exponent }));
        }
        if mantissa != 0 && mantissa.is_multiple_of(10) && exponent < Self::MAX_EXP {
            return Err(DecodeError::new(Self::TY, DecodeReason::NonCanonical { mantissa, exponent }));
        }
        10u128
            .checked_pow(exponent as u32)
            .and_then(|scale| scale.checked_mul(mantissa as u128))
            .ok_or(DecodeError::new(Self::TY, DecodeReason::OutOfRange("packed value exceeds 2^128 - 1")))
    }
}

macro_rules! packed_float {
    ($(#[$doc:meta])* $name:ident, $repr:ty, $bytes:expr, $mant:expr, $exp:expr, $hint:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            bits: $repr,
            value: Balance,
        }

        impl FloatLayout for $name {
            const TY: &'static str = stringify!($name);
            const MANT_BITS: u32 = $mant;
            const EXP_BITS: u32 = $exp;
            const DIGITS_HINT: &'static str = $hint;
        }

        impl $name {
            /// Encoded size in bytes.
            pub const SIZE: usize = $bytes;

            /// Packs `value` exactly, or says why it cannot be packed.
            pub fn new(value: Balance) -> Result<Self, PackError> {
                let bits = <Self as FloatLayout>::pack(value)? as $repr;
                Ok(Self { bits, value })
            }

            /// The largest representable value not above `value` (for wallets rounding down).
            pub fn round_down(value: Balance) -> Balance {
                <Self as FloatLayout>::nearest_lower(value)
            }

            /// The value this packed number stands for.
            pub const fn value(self) -> Balance {
                self.value
            }

            /// Big-endian encoding.
            pub fn to_bytes(self) -> [u8; $bytes] {
                self.bits.to_be_bytes()
            }

            /// Strictly decodes the big-endian encoding: non-canonical forms and values
            /// above `2^128 - 1` are refused.
            pub fn from_bytes(bytes: [u8; $bytes]) -> Result<Self, DecodeError> {
                let bits = <$repr>::from_be_bytes(bytes);
                let value = <Self as FloatLayout>::unpack(bits as u64)?;
                Ok(Self { bits, value })
            }
        }
    };
}

packed_float!(
    /// A transfer amount: 5-bit exponent, 27-bit mantissa (4 bytes), i.e. about 8 significant
    /// decimal digits at any scale.
    PackedAmount, u32, 4, 27, 5, "8 significant digits (mantissa < 2^27)"
);

packed_float!(
    /// A fee: 5-bit exponent, 3-bit mantissa (1 byte): one significant digit 1-7 at any scale.
    /// Wallets round fees up to the next representable value.
    PackedFee, u8, 1, 3, 5, "one significant digit from 1 to 7"
);

impl PackedFee {
    /// The smallest representable fee not below `value` (what a wallet should offer).
    pub fn round_up(value: Balance) -> Option<Balance> {
        if value == 0 {
            return Some(0);
        }
        (0..=<Self as FloatLayout>::MAX_EXP as u32)
            .filter_map(|e| 10u128.checked_pow(e))
            .flat_map(|scale| (1..=<Self as FloatLayout>::MAX_MANT as u128).map(move |m| m.checked_mul(scale)))
            .flatten()
            .find(|v| *v >= value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_packs_to_all_zero_bits() {
        assert_eq!(PackedAmount::new(0).unwrap().to_bytes(), [0; 4]);
        assert_eq!(PackedFee::new(0).unwrap().to_bytes(), [0]);
    }

    #[test]
    fn one_ether_packs_exactly() {
        let p = PackedAmount::new(10u128.pow(18)).unwrap();
        assert_eq!(PackedAmount::from_bytes(p.to_bytes()).unwrap().value(), 10u128.pow(18));
    }

    #[test]
    fn unrepresentable_amount_is_refused_not_rounded() {
        let value = 123_456_789_123u128; // 12 significant digits
        let err = PackedAmount::new(value).unwrap_err();
        let PackError::NotRepresentable { nearest_lower, .. } = err;
        assert_eq!(nearest_lower, 123_456_789_000);
        assert!(PackedAmount::new(nearest_lower).is_ok());
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // mantissa 10, exponent 0 is 10 = mantissa 1, exponent 1
        let bits: u32 = 10;
        let err = PackedAmount::from_bytes(bits.to_be_bytes()).unwrap_err();
        assert!(matches!(err.reason, DecodeReason::NonCanonical { .. }), "{err}");
        // zero mantissa with a non-zero exponent
        let bits: u32 = 1 << 27;
        assert!(PackedAmount::from_bytes(bits.to_be_bytes()).is_err());
        // fee: mantissa 0, exponent 3
        assert!(PackedFee::from_bytes([3 << 3]).is_err());
    }

    #[test]
    fn overflowing_encoding_is_refused() {
        // mantissa 2^27-1, exponent 31 is far above u128::MAX
        let bits: u32 = u32::MAX;
        let err = PackedAmount::from_bytes(bits.to_be_bytes()).unwrap_err();
        assert!(matches!(err.reason, DecodeReason::OutOfRange(_)), "{err}");
    }

    #[test]
    fn fee_round_up_is_the_next_representable() {
        assert_eq!(PackedFee::round_up(0), Some(0));
        assert_eq!(PackedFee::round_up(7), Some(7));
        assert_eq!(PackedFee::round_up(8), Some(10));
        assert_eq!(PackedFee::round_up(15), Some(20));
        assert_eq!(PackedFee::round_up(71), Some(100));
    }

    proptest! {
        #[test]
        fn every_amount_encoding_decodes_to_at_most_one_value(bits in any::<u32>()) {
            if let Ok(p) = PackedAmount::from_bytes(bits.to_be_bytes()) {
                let again = PackedAmount::new(p.value()).unwrap();
                prop_assert_eq!(again.to_bytes(), bits.to_be_bytes());
            }
        }

        #[test]
        fn every_fee_encoding_round_trips(bits in any::<u8>()) {
            if let Ok(p) = PackedFee::from_bytes([bits]) {
                prop_assert_eq!(PackedFee::new(p.value()).unwrap().to_bytes(), [bits]);
            }
        }

        #[test]
        fn representable_amounts_round_trip(m in 0u64..(1 << 27), e in 0u32..=20) {
            let value = m as u128 * 10u128.pow(e);
            let p = PackedAmount::new(value).unwrap();
            prop_assert_eq!(PackedAmount::from_bytes(p.to_bytes()).unwrap().value(), value);
        }

        #[test]
        fn round_down_is_representable_and_not_above(value in any::<u128>()) {
            let lower = PackedAmount::round_down(value);
            prop_assert!(lower <= value);
            prop_assert!(PackedAmount::new(lower).is_ok());
        }
    }
}
