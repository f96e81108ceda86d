//! EdDSA-Poseidon over Baby Jubjub, compatible with circomlib / circomlibjs.

use ark_bn254::Fr;
use ark_ec::scalar_mul::wnaf::WnafContext;
use ark_ec::{AdditiveGroup, CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, PrimeField};
use blake_hash::{Blake512, Digest};
use std::sync::OnceLock;
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
use tandem_types::{PackedPubKey, PackedSignature};

use crate::babyjubjub::{pack_point, unpack_point, PointError};
use crate::field::fr_to_le_bytes;
use crate::poseidon::{poseidon, poseidon_many};

/// Why a packed signature is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The R8 half is not a valid packed point.
    #[error("signature R8: {0}")]
    R8(PointError),
    /// `S` is not below the subgroup order `l`.
    #[error("signature S is not below the Baby Jubjub subgroup order")]
    SNotCanonical,
}

/// A Baby Jubjub public key. Invariant: the point is on the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(EdwardsAffine);

impl PublicKey {
    /// Unpacks and validates a packed key.
    pub fn unpack(packed: &PackedPubKey) -> Result<Self, PointError> {
        unpack_point(&packed.0).map(Self)
    }

    /// circomlib's packed form.
    pub fn pack(&self) -> PackedPubKey {
        PackedPubKey(pack_point(&self.0))
    }

    /// The x coordinate (`A.x` in signing messages and account leaves).
    pub fn x(&self) -> Fr {
        self.0.x
    }

    /// The y coordinate.
    pub fn y(&self) -> Fr {
        self.0.y
    }

    /// The curve point.
    pub fn point(&self) -> &EdwardsAffine {
        &self.0
    }
}

/// An EdDSA-Poseidon signature. Invariants: `r8` is on the curve and `s < l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    r8: EdwardsAffine,
    s: Scalar,
}

impl Signature {
    /// Strictly unpacks circomlib's 64-byte packed form.
    pub fn unpack(packed: &PackedSignature) -> Result<Self, SignatureError> {
        let mut r8_bytes = [0u8; 32];
        r8_bytes.copy_from_slice(&packed.0[..32]);
        let r8 = unpack_point(&r8_bytes).map_err(SignatureError::R8)?;
        let s_bytes = &packed.0[32..];
        let s = Scalar::from_le_bytes_mod_order(s_bytes);
        if s.into_bigint().to_bytes_le() != s_bytes {
            return Err(SignatureError::SNotCanonical);
        }
        Ok(Self { r8, s })
    }

    /// A signature given as `R8`'s affine coordinates and `S` big-endian (the form L1 takes
    /// in a forced-withdrawal request, SPEC.md §4.5), strictly: coordinates below p, `R8` on
    /// the curve, `S < l`.
    pub fn from_coordinates(r8x: &[u8; 32], r8y: &[u8; 32], s: &[u8; 32]) -> Result<Self, SignatureError> {
        let x = crate::field::fr_from_be_bytes(r8x).map_err(|_| SignatureError::R8(PointError::NotOnCurve))?;
        let y = crate::field::fr_from_be_bytes(r8y).map_err(|_| SignatureError::R8(PointError::YNotCanonical))?;
        let r8 = EdwardsAffine::new_unchecked(x, y);
        if !r8.is_on_curve() {
            return Err(SignatureError::R8(PointError::NotOnCurve));
        }
        let mut le = *s;
        le.reverse();
        let scalar = Scalar::from_le_bytes_mod_order(&le);
        if scalar.into_bigint().to_bytes_le() != le {
            return Err(SignatureError::SNotCanonical);
        }
        Ok(Self { r8, s: scalar })
    }

    /// `R8`'s coordinates and `S`, each 32 bytes big-endian (inverse of
    /// [`Signature::from_coordinates`]).
    pub fn to_coordinates(&self) -> ([u8; 32], [u8; 32], [u8; 32]) {
        let mut s = self.s.into_bigint().to_bytes_le();
        s.reverse();
        let mut s_be = [0u8; 32];
        s_be.copy_from_slice(&s);
        (crate::field::fr_to_be_bytes(&self.r8.x), crate::field::fr_to_be_bytes(&self.r8.y), s_be)
    }

    /// circomlib's packed form: packed R8 then S little-endian.
    pub fn pack(&self) -> PackedSignature {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&pack_point(&self.r8));
        out[32..].copy_from_slice(&self.s.into_bigint().to_bytes_le());
        PackedSignature(out)
    }

    /// The commitment point R8.
    pub fn r8(&self) -> &EdwardsAffine {
        &self.r8
    }

    /// The response S.
    pub fn s(&self) -> Scalar {
        self.s
    }
}

/// A private key: the 32-byte seed of circomlib's `prv2pub`, with what it derives.
#[derive(Clone)]
pub struct PrivateKey {
    seed: [u8; 32],
    /// Pruned `BLAKE-512(seed)[0..32]` as an integer mod `l` (the signing scalar).
    scalar: Scalar,
    /// `BLAKE-512(seed)[32..64]`, the nonce-derivation prefix.
    prefix: [u8; 32],
    public: PublicKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("PrivateKey").field("public", &self.public.pack()).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Derives the key from a 32-byte seed exactly as circomlib's `prv2pub`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let h = Blake512::digest(&seed);
        let mut pruned = [0u8; 32];
        pruned.copy_from_slice(&h[..32]);
        pruned[0] &= 0xf8;
        pruned[31] &= 0x7f;
        pruned[31] |= 0x40;
        let s = num_bigint::BigUint::from_bytes_le(&pruned);
        let a_scalar = Scalar::from_le_bytes_mod_order(&(&s >> 3u32).to_bytes_le());
        let public = PublicKey((EdwardsProjective::generator() * a_scalar).into_affine());
        let mut prefix = [0u8; 32];
        prefix.copy_from_slice(&h[32..]);
        Self { seed, scalar: Scalar::from_le_bytes_mod_order(&pruned), prefix, public }
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate<R: rand::RngCore + rand::CryptoRng>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    /// The 32-byte seed (what wallets store).
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs `message` exactly as circomlib's `signPoseidon` (deterministic).
    pub fn sign(&self, message: Fr) -> Signature {
        let mut hasher = Blake512::new();
        hasher.update(self.prefix);
        hasher.update(fr_to_le_bytes(&message));
        let r = Scalar::from_le_bytes_mod_order(&hasher.finalize());
        let r8 = (EdwardsProjective::generator() * r).into_affine();
        let c = challenge(&r8, &self.public, message);
        Signature { r8, s: r + c * self.scalar }
    }
}

/// `H(R8.x, R8.y, A.x, A.y, M)` reduced mod `l`.
fn challenge(r8: &EdwardsAffine, public: &PublicKey, message: Fr) -> Scalar {
    let c = poseidon(&[r8.x, r8.y, public.x(), public.y(), message]);
    Scalar::from_le_bytes_mod_order(&fr_to_le_bytes(&c))
}

/// Window of the variable-base wNAF multiplications in verification.
const WNAF_WINDOW: usize = 4;

/// Bits per window of the fixed-base table: 42 windows × 64 multiples of `B8` (about
/// 170 KiB of affine points); 8-bit windows were measured only 1 % faster.
const BASE8_WINDOW: usize = 6;

/// `table[i][d] = d·2^(6i)·B8` for every 6-bit window `i` of a scalar below `l` and every
/// digit `d`, built once. Built sequentially on purpose: the first verification may run inside
/// a rayon task, and an initializer that itself waited on rayon work could steal a task that
/// waits on this same lock (a deadlock; ark-ec's parallel table builder did exactly that).
fn base8_table() -> &'static [Vec<EdwardsAffine>] {
    static TABLE: OnceLock<Vec<Vec<EdwardsAffine>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let windows = (Scalar::MODULUS_BIT_SIZE as usize).div_ceil(BASE8_WINDOW);
        let mut window_base = EdwardsProjective::generator();
        (0..windows)
            .map(|_| {
                let mut multiple = EdwardsProjective::ZERO;
                let multiples = (0..1 << BASE8_WINDOW)
                    .map(|_| {
                        let affine = multiple.into_affine();
                        multiple += window_base;
                        affine
                    })
                    .collect();
                for _ in 0..BASE8_WINDOW {
                    window_base.double_in_place();
                }
                multiples
            })
            .collect()
    })
}

/// `s·B8` from the table: one mixed addition per window and no doubling (a wNAF
/// multiplication needs ~250 doublings).
fn mul_base8(s: &Scalar) -> EdwardsProjective {
    let limbs = s.into_bigint().0;
    let mut sum = EdwardsProjective::ZERO;
    for (i, multiples) in base8_table().iter().enumerate() {
        sum += multiples[base8_digit(&limbs, i * BASE8_WINDOW)];
    }
    sum
}

/// The `BASE8_WINDOW` bits of the little-endian `limbs` from bit `start` on (bits past the
/// last limb read as 0).
fn base8_digit(limbs: &[u64], start: usize) -> usize {
    let (limb, shift) = (start / 64, start % 64);
    let mut bits = limbs[limb] >> shift;
    if shift + BASE8_WINDOW > 64 {
        bits |= limbs.get(limb + 1).map_or(0, |next| next << (64 - shift));
    }
    (bits & ((1 << BASE8_WINDOW) - 1)) as usize
}

/// Checks `S·B8 = R8 + c·(8·A)` (circomlib's `verifyPoseidon`, which multiplies `A` by the
/// integer `8·c`). `8·A` lies in the order-`l` subgroup, so reducing `c` mod `l` there is exact;
/// reducing `8·c` mod `l` and multiplying `A` would not be when `A` has a small-order
/// component (anyone can register such a key by depositing to it), and the circuit, which
/// follows circomlib, would then refuse what this function accepted.
///
/// Verification handles only public data, so it uses variable-time wNAF multiplication
/// (about three times faster than the constant-time ladder used for signing).
pub fn verify(public: &PublicKey, message: Fr, signature: &Signature) -> bool {
    verify_many(&[(public, message, signature)])[0]
}

/// [`verify`] of each `(public key, message, signature)`, in order. Why together: the
/// challenge hashes are independent, so they go through [`poseidon_many`] at once.
pub fn verify_many(items: &[(&PublicKey, Fr, &Signature)]) -> Vec<bool> {
    let inputs: Vec<[Fr; 5]> =
        items.iter().map(|(public, message, signature)| [signature.r8.x, signature.r8.y, public.x(), public.y(), *message]).collect();
    items
        .iter()
        .zip(poseidon_many(&inputs))
        .map(|((public, _, signature), c)| {
            let c = Scalar::from_le_bytes_mod_order(&fr_to_le_bytes(&c));
            let a8 = EdwardsProjective::from(public.0).double().double().double();
            verification_equation(&signature.r8, &signature.s, &c, a8)
        })
        .collect()
}

/// `S·B8 = R8 + c·A8`, the equation of [`verify`] with `A8 = 8·A`.
fn verification_equation(r8: &EdwardsAffine, s: &Scalar, c: &Scalar, a8: EdwardsProjective) -> bool {
    mul_base8(s) == WnafContext::new(WNAF_WINDOW).mul(a8, c) + r8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_circomlib_base8() {
        use ark_ec::AffineRepr;
        let g = EdwardsAffine::generator();
        assert_eq!(crate::field::fr_to_decimal(&g.x), "5299619240641551281634865583518297030282874472190772894086521144482721001553");
    }

    /// The table's multiplication equals arkworks' for scalars whose windows straddle limb
    /// boundaries and for the largest scalar (every window full).
    #[test]
    fn mul_base8_matches_plain_multiplication() {
        use ark_ff::Field;
        let scalars = [
            Scalar::from(0u64),
            Scalar::from(1u64),
            Scalar::from(u64::MAX),
            -Scalar::from(1u64),
            Scalar::from(0x3fu64 << 58) * Scalar::from(7u64),
        ];
        for s in scalars.iter().copied().chain((1..40u64).map(|k| Scalar::from(k).pow([k, k * 3, k + 11]))) {
            assert_eq!(mul_base8(&s), EdwardsProjective::generator() * s, "s = {s}");
        }
    }

    #[test]
    fn sign_then_verify_and_reject_other_message() {
        let key = PrivateKey::from_seed([7; 32]);
        let sig = key.sign(Fr::from(42u64));
        assert!(verify(&key.public_key(), Fr::from(42u64), &sig));
        assert!(!verify(&key.public_key(), Fr::from(43u64), &sig));
        let other = PrivateKey::from_seed([8; 32]).public_key();
        assert!(!verify(&other, Fr::from(42u64), &sig));
    }

    /// Verifying many at once gives each its own verdict, in order, across several groups of
    /// the vector hash's eight lanes: every third item has the wrong message, every fifth the
    /// wrong key.
    #[test]
    fn verify_many_gives_each_item_its_own_verdict() {
        let keys: Vec<PrivateKey> = (0..21u8).map(|k| PrivateKey::from_seed([k + 1; 32])).collect();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let signatures: Vec<Signature> = keys.iter().enumerate().map(|(k, key)| key.sign(Fr::from(k as u64))).collect();
        let items: Vec<(&PublicKey, Fr, &Signature)> = (0..keys.len())
            .map(|k| {
                let message = if k % 3 == 2 { Fr::from(k as u64 + 1) } else { Fr::from(k as u64) };
                let public = if k % 5 == 4 { &publics[(k + 1) % keys.len()] } else { &publics[k] };
                (public, message, &signatures[k])
            })
            .collect();
        let expected: Vec<bool> = (0..keys.len()).map(|k| k % 3 != 2 && k % 5 != 4).collect();
        assert_eq!(verify_many(&items), expected);
        assert!(verify_many(&[]).is_empty());
    }
}
