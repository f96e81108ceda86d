//! Packing of Baby Jubjub points: round trips and strict refusal of invalid encodings.

use proptest::prelude::*;
use tandem_crypto::babyjubjub::{pack_point, unpack_point, PointError};
use tandem_crypto::PrivateKey;

#[test]
fn y_not_below_modulus_is_refused() {
    let mut bytes = [0xff; 32];
    bytes[31] = 0x7f;
    assert_eq!(unpack_point(&bytes), Err(PointError::YNotCanonical));
}

#[test]
fn identity_with_sign_bit_is_refused() {
    // (0, 1) is the identity: packed y = 1, and its sign bit must be clear.
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    assert!(unpack_point(&bytes).is_ok());
    bytes[31] |= 0x80;
    assert_eq!(unpack_point(&bytes), Err(PointError::NonCanonicalSign));
}

proptest! {
    #[test]
    fn packed_public_keys_round_trip(seed in any::<[u8; 32]>()) {
        let public = PrivateKey::from_seed(seed).public_key();
        let point = unpack_point(&pack_point(public.point())).unwrap();
        prop_assert_eq!(&point, public.point());
    }

    #[test]
    fn unpacking_arbitrary_bytes_never_panics_and_is_canonical(bytes in any::<[u8; 32]>()) {
        if let Ok(point) = unpack_point(&bytes) {
            prop_assert!(point.is_on_curve());
            prop_assert_eq!(pack_point(&point), bytes);
        }
    }
}
