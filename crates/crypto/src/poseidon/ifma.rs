//! Eight Poseidon permutations at once, on AVX-512 IFMA.
//!
//! Why: a Merkle level, or the account leaves of a block, are many independent hashes, and
//! the CPU's 52-bit vector multiply-add (`vpmadd52luq`/`vpmadd52huq`) computes eight field
//! products in the time the scalar Montgomery multiplication takes for about three
//! (measured: 5.9 ns against 19–20 ns per product on the same core).
//!
//! Representation: a field element of each lane is five 52-bit limbs in Montgomery form with
//! `R = 2^260`; limb `i` of the eight lanes shares one register. Every value stays below
//! `3p` (so below `2^256`) with each limb below `2^52` at every multiplication's input:
//!
//! - a Montgomery reduction of `V` returns `V / R + p' < V / R + p`; since `R / p > 84`, a
//!   product `V < 84·p²` (e.g. `3p · 3p`, or a sum of up to 40 products of `p · 2p`)
//!   reduces to below `2p`;
//! - constants are fully reduced (`< p`), so `x + c < 3p` for a state element `x < 2p`;
//! - the partial rounds' running columns `x[i] + c·x[0]` are taken as one sum of products
//!   `x[i]·1 + c·x[0]` (with `1 = R mod p`) so that they stay below `2p` instead of growing
//!   by `p` each round.
//!
//! The arithmetic follows the same optimized round structure as the scalar code, so both
//! evaluate the same permutation; tests compare them on random and edge inputs. The code is
//! written once (`lane_arithmetic!`) over the eight register operations it uses, and also
//! instantiated in the tests over a lane-by-lane model of those instructions, so that machines
//! without IFMA (CI's among them) test the same reduction and rounds.
//!
//! The crate denies `unsafe` everywhere else. Here it is needed for the calls into functions
//! compiled for instructions the CPU is checked to have ([`available`]), and for moving
//! eight-lane arrays in and out of registers.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_loadu_si512, _mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_set1_epi64,
    _mm512_setzero_si512, _mm512_srli_epi64, _mm512_storeu_si512,
};
use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{BigInt, BigInteger, PrimeField};
use num_bigint::BigUint;

use super::{optimized, OptimizedPoseidon, MAX_POSEIDON_INPUTS};

/// Limbs per element.
const LIMBS: usize = 5;
/// Lanes per register.
pub(super) const LANES: usize = 8;
/// The low 52 bits.
const MASK: u64 = (1 << 52) - 1;

/// Whether this CPU has the instructions (checked once; `TANDEM_POSEIDON_SCALAR=1` turns the
/// vector path off, to compare the two or to rule it out).
pub(super) fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::env::var_os("TANDEM_POSEIDON_SCALAR").is_none_or(|v| v != "1")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
    })
}

/// One value in radix `2^52`, limbs below `2^52`, fully reduced (`< p`): a constant
/// broadcast to every lane when used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Constant([u64; LIMBS]);

/// The field's constants in this representation.
struct FieldConstants {
    modulus: Constant,
    /// `-p⁻¹ mod 2^52`.
    neg_inverse: u64,
    /// `2^264 mod p`: multiplying arkworks' Montgomery form (`a·2^256`) by it gives ours.
    from_arkworks: Constant,
    /// `2^256 mod p`: multiplying ours by it gives arkworks' Montgomery form.
    to_arkworks: Constant,
    /// `1` in our Montgomery form, `2^260 mod p`.
    one: Constant,
    /// `p` as arkworks limbs, for the last conditional subtraction.
    modulus_u64: [u64; 4],
}

fn modulus() -> BigUint {
    BigUint::from_bytes_le(&Fr::MODULUS.to_bytes_le())
}

/// `value mod p` in radix `2^52`.
fn split(value: &BigUint) -> Constant {
    let reduced = value % modulus();
    let mut digits = reduced.to_u64_digits();
    digits.resize(4, 0);
    Constant(split_u64(&[digits[0], digits[1], digits[2], digits[3]]))
}

/// Four 64-bit limbs (little-endian) as five 52-bit ones.
#[inline(always)]
fn split_u64(x: &[u64; 4]) -> [u64; LIMBS] {
    [
        x[0] & MASK,
        ((x[0] >> 52) | (x[1] << 12)) & MASK,
        ((x[1] >> 40) | (x[2] << 24)) & MASK,
        ((x[2] >> 28) | (x[3] << 36)) & MASK,
        x[3] >> 16,
    ]
}

/// Five 52-bit limbs (a value below `2^256`) as four 64-bit ones.
#[inline(always)]
fn join_u64(l: &[u64; LIMBS]) -> [u64; 4] {
    [l[0] | (l[1] << 52), (l[1] >> 12) | (l[2] << 40), (l[2] >> 24) | (l[3] << 28), (l[3] >> 36) | (l[4] << 16)]
}

fn field_constants() -> &'static FieldConstants {
    static CONSTANTS: OnceLock<FieldConstants> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let p = modulus();
        let p_low = p.to_u64_digits()[0] & MASK;
        // Newton's iteration for p⁻¹ mod 2^52 (each step doubles the correct low bits).
        let mut inverse: u64 = 1;
        for _ in 0..6 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(p_low.wrapping_mul(inverse))) & MASK;
        }
        debug_assert_eq!(p_low.wrapping_mul(inverse) & MASK, 1);
        let power = |e: u32| split(&(BigUint::from(1u8) << e));
        let mut modulus_u64 = p.to_u64_digits();
        modulus_u64.resize(4, 0);
        FieldConstants {
            modulus: Constant(split_u64(&[modulus_u64[0], modulus_u64[1], modulus_u64[2], modulus_u64[3]])),
            neg_inverse: inverse.wrapping_neg() & MASK,
            from_arkworks: power(264),
            to_arkworks: power(256),
            one: power(260),
            modulus_u64: [modulus_u64[0], modulus_u64[1], modulus_u64[2], modulus_u64[3]],
        }
    })
}

/// `x` in our Montgomery form (`x·2^260 mod p`).
fn constant(x: &Fr) -> Constant {
    split(&(BigUint::from_bytes_le(&x.into_bigint().to_bytes_le()) << 260))
}

/// The permutation of one width in this representation: the scalar code's
/// [`OptimizedPoseidon`], every constant converted.
struct Tables {
    full_constants: Vec<Vec<Constant>>,
    mds: Vec<Constant>,
    partial_constants: Vec<Constant>,
    sparse_rows: Vec<Vec<Constant>>,
    sparse_columns: Vec<Vec<Constant>>,
    last_partial: Vec<Constant>,
}

impl Tables {
    fn new(scalar: &OptimizedPoseidon) -> Self {
        let convert = |v: &[Fr]| v.iter().map(constant).collect::<Vec<_>>();
        Self {
            full_constants: scalar.full_constants.iter().map(|c| convert(c)).collect(),
            mds: convert(&scalar.mds),
            partial_constants: convert(&scalar.partial_constants),
            sparse_rows: scalar.sparse.iter().map(|m| convert(&m.first_row)).collect(),
            sparse_columns: scalar.sparse.iter().map(|m| convert(&m.first_column)).collect(),
            last_partial: convert(&scalar.last_partial),
        }
    }
}

fn tables(inputs: usize) -> &'static Tables {
    static TABLES: [OnceLock<Tables>; MAX_POSEIDON_INPUTS + 1] = [const { OnceLock::new() }; MAX_POSEIDON_INPUTS + 1];
    TABLES[inputs].get_or_init(|| Tables::new(optimized(inputs)))
}

/// The eight-lane arithmetic and the permutation on it, written once over the register
/// operations it uses: `lane_arithmetic!` makes the AVX-512 IFMA version ([`Vector`], every
/// function compiled for those instructions) and, for the tests, a portable model of the same
/// instructions (`Model`, test builds only) that runs on any CPU. So the reduction bounds and
/// the round structure are exercised on every machine, and on one with IFMA both are compared
/// with the scalar permutation. The macro leaves the IFMA version's machine code as it was when
/// written out by hand (checked by disassembly: the same instructions, in the same order).
macro_rules! lane_arithmetic {
    (
        $(#[$feature:meta])*
        $vector:ident, $lanes:ident, $reg:ty,
        setzero: $setzero:path, set1: $set1:path, add: $add:path, and: $and:path, srli: $srli:path,
        madd52lo: $madd52lo:path, madd52hi: $madd52hi:path, load: $load:path, store: $store:path $(,)?
    ) => {
        /// Eight elements, limb `i` of every lane in `0[i]`.
        #[derive(Clone, Copy)]
        struct $lanes([$reg; LIMBS]);

        /// The arithmetic: registers of the field's constants. In the IFMA instance every function
        /// needs AVX-512F and IFMA ([`available`] checks).
        struct $vector {
            zero: $reg,
            mask: $reg,
            modulus: [$reg; LIMBS],
            neg_inverse: $reg,
        }

        impl $vector {
            $(#[$feature])*
            fn new(field: &FieldConstants) -> Self {
                Self {
                    zero: $setzero(),
                    mask: $set1(MASK as i64),
                    modulus: field.modulus.0.map(|l| $set1(l as i64)),
                    neg_inverse: $set1(field.neg_inverse as i64),
                }
            }

            $(#[$feature])*
            #[inline]
            fn broadcast(&self, c: &Constant) -> $lanes {
                $lanes(c.0.map(|l| $set1(l as i64)))
            }

            /// Adds `a · b` into the ten columns of `acc` (columns may exceed 52 bits).
            $(#[$feature])*
            #[inline]
            fn accumulate(&self, acc: &mut [$reg; 2 * LIMBS], a: &$lanes, b: &$lanes) {
                for i in 0..LIMBS {
                    for j in 0..LIMBS {
                        acc[i + j] = $madd52lo(acc[i + j], a.0[j], b.0[i]);
                        acc[i + j + 1] = $madd52hi(acc[i + j + 1], a.0[j], b.0[i]);
                    }
                }
            }

            /// Montgomery reduction: `acc / 2^260 mod p`, below `acc / 2^260 + p`, limbs normalized.
            $(#[$feature])*
            #[inline]
            fn reduce(&self, mut acc: [$reg; 2 * LIMBS]) -> $lanes {
                for i in 0..LIMBS {
                    let m = $madd52lo(self.zero, acc[i], self.neg_inverse);
                    for j in 0..LIMBS {
                        acc[i + j] = $madd52lo(acc[i + j], m, self.modulus[j]);
                        acc[i + j + 1] = $madd52hi(acc[i + j + 1], m, self.modulus[j]);
                    }
                    acc[i + 1] = $add(acc[i + 1], $srli(acc[i], 52));
                }
                self.carry([acc[5], acc[6], acc[7], acc[8], acc[9]])
            }

            /// Moves each limb's bits above 52 into the next limb (the value is unchanged; it must
            /// be below `2^260`).
            $(#[$feature])*
            #[inline]
            fn carry(&self, mut limbs: [$reg; LIMBS]) -> $lanes {
                for j in 0..LIMBS - 1 {
                    limbs[j + 1] = $add(limbs[j + 1], $srli(limbs[j], 52));
                    limbs[j] = $and(limbs[j], self.mask);
                }
                $lanes(limbs)
            }

            $(#[$feature])*
            #[inline]
            fn mul(&self, a: &$lanes, b: &$lanes) -> $lanes {
                let mut acc = [self.zero; 2 * LIMBS];
                self.accumulate(&mut acc, a, b);
                self.reduce(acc)
            }

            /// `Σ row[j] · x[j]`, one reduction for the whole row.
            $(#[$feature])*
            #[inline]
            fn row<const T: usize>(&self, row: &[Constant], x: &[$lanes; T]) -> $lanes {
                let mut acc = [self.zero; 2 * LIMBS];
                for (c, xj) in row.iter().zip(x) {
                    self.accumulate(&mut acc, &self.broadcast(c), xj);
                }
                self.reduce(acc)
            }

            /// `a + c`, limbs normalized (the value bound is the caller's: see the module doc).
            $(#[$feature])*
            #[inline]
            fn add_constant(&self, a: &$lanes, c: &Constant) -> $lanes {
                let mut out = a.0;
                for (o, l) in out.iter_mut().zip(c.0) {
                    *o = $add(*o, $set1(l as i64));
                }
                self.carry(out)
            }

            $(#[$feature])*
            #[inline]
            fn sbox(&self, x: &$lanes) -> $lanes {
                let x2 = self.mul(x, x);
                let x4 = self.mul(&x2, &x2);
                self.mul(&x4, x)
            }

            $(#[$feature])*
            #[inline]
            fn dense<const T: usize>(&self, matrix: &[Constant], state: &mut [$lanes; T]) {
                let input = *state;
                for (x, row) in state.iter_mut().zip(matrix.chunks_exact(T)) {
                    *x = self.row(row, &input);
                }
            }

            /// The permutation on eight states at once; the same rounds as
            /// [`OptimizedPoseidon::permute`].
            $(#[$feature])*
            fn permute<const T: usize>(&self, tables: &Tables, one: &Constant, state: &mut [$lanes; T]) {
                let half = tables.full_constants.len() / 2;
                for constants in &tables.full_constants[..half] {
                    self.full_round(&tables.mds, constants, state);
                }
                let last = tables.partial_constants.len() - 1;
                let one = self.broadcast(one);
                for (round, k) in tables.partial_constants.iter().enumerate() {
                    state[0] = self.sbox(&self.add_constant(&state[0], k));
                    if round < last {
                        let x0 = state[0];
                        let acc = self.row(&tables.sparse_rows[round], state);
                        for (x, c) in state[1..].iter_mut().zip(&tables.sparse_columns[round]) {
                            let mut sum = [self.zero; 2 * LIMBS];
                            self.accumulate(&mut sum, x, &one);
                            self.accumulate(&mut sum, &x0, &self.broadcast(c));
                            *x = self.reduce(sum);
                        }
                        state[0] = acc;
                    } else {
                        self.dense(&tables.last_partial, state);
                    }
                }
                for constants in &tables.full_constants[half..] {
                    self.full_round(&tables.mds, constants, state);
                }
            }

            $(#[$feature])*
            #[inline]
            fn full_round<const T: usize>(&self, mds: &[Constant], constants: &[Constant], state: &mut [$lanes; T]) {
                for (x, c) in state.iter_mut().zip(constants) {
                    *x = self.sbox(&self.add_constant(x, c));
                }
                self.dense(mds, state);
            }

            /// Up to eight hashes of `N = T - 1` inputs each.
            $(#[$feature])*
            fn hash_chunk<const N: usize, const T: usize>(
                &self,
                field: &FieldConstants,
                tables: &Tables,
                chunk: &[[Fr; N]],
                out: &mut Vec<Fr>,
            ) {
                let from_arkworks = self.broadcast(&field.from_arkworks);
                let mut state = [$lanes([self.zero; LIMBS]); T];
                for (k, x) in state[1..].iter_mut().enumerate() {
                    let mut limbs = [[0u64; LANES]; LIMBS];
                    for (lane, input) in chunk.iter().enumerate() {
                        // arkworks keeps `a·2^256 mod p` (fully reduced) in `.0`.
                        for (i, l) in split_u64(&input[k].0 .0).into_iter().enumerate() {
                            limbs[i][lane] = l;
                        }
                    }
                    let raw = $lanes(limbs.map(|l| $load(&l)));
                    *x = self.mul(&raw, &from_arkworks);
                }
                self.permute(tables, &field.one, &mut state);
                let result = self.mul(&state[0], &self.broadcast(&field.to_arkworks));
                let mut limbs = [[0u64; LANES]; LIMBS];
                for (l, v) in limbs.iter_mut().zip(result.0) {
                    $store(l, v);
                }
                for lane in 0..chunk.len() {
                    let mut value = join_u64(&limbs.map(|l| l[lane]));
                    // Below 2p: one conditional subtraction makes it arkworks' canonical form.
                    let mut big = BigInt(value);
                    if big >= BigInt(field.modulus_u64) {
                        big.sub_with_borrow(&BigInt(field.modulus_u64));
                        value = big.0;
                    }
                    out.push(Fr::new_unchecked(BigInt(value)));
                }
            }
        }
    };
}

lane_arithmetic!(
    #[target_feature(enable = "avx512f,avx512ifma")]
    Vector, Lanes, __m512i,
    setzero: _mm512_setzero_si512, set1: _mm512_set1_epi64, add: _mm512_add_epi64, and: _mm512_and_si512,
    srli: _mm512_srli_epi64, madd52lo: _mm512_madd52lo_epu64, madd52hi: _mm512_madd52hi_epu64,
    load: load_lanes, store: store_lanes,
);

/// One register from eight lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn load_lanes(l: &[u64; LANES]) -> __m512i {
    // SAFETY: `l` is eight u64, the 64 bytes one unaligned load reads.
    unsafe { _mm512_loadu_si512(l.as_ptr().cast()) }
}

/// One register into eight lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn store_lanes(l: &mut [u64; LANES], v: __m512i) {
    // SAFETY: `l` is eight u64, the 64 bytes one unaligned store writes.
    unsafe { _mm512_storeu_si512(l.as_mut_ptr().cast(), v) }
}

#[cfg(test)]
lane_arithmetic!(
    Model, ModelLanes, portable::Register,
    setzero: portable::setzero, set1: portable::set1, add: portable::add, and: portable::and,
    srli: portable::srli, madd52lo: portable::madd52lo, madd52hi: portable::madd52hi,
    load: portable::load, store: portable::store,
);

/// The instructions [`Vector`] uses, modelled lane by lane after their definitions in Intel's
/// manual, so that the tests run the same arithmetic on CPUs without them.
#[cfg(test)]
mod portable {
    use super::{LANES, MASK};

    pub(super) type Register = [u64; LANES];

    pub(super) fn setzero() -> Register {
        [0; LANES]
    }

    pub(super) fn set1(x: i64) -> Register {
        [x as u64; LANES]
    }

    pub(super) fn add(a: Register, b: Register) -> Register {
        std::array::from_fn(|i| a[i].wrapping_add(b[i]))
    }

    pub(super) fn and(a: Register, b: Register) -> Register {
        std::array::from_fn(|i| a[i] & b[i])
    }

    pub(super) fn srli(a: Register, shift: u32) -> Register {
        a.map(|x| x >> shift)
    }

    /// The 104-bit product of the low 52 bits of `b` and `c`.
    fn product(b: u64, c: u64) -> u128 {
        u128::from(b & MASK) * u128::from(c & MASK)
    }

    /// `vpmadd52luq`: `acc` plus the product's low 52 bits, wrapping at `2^64`.
    pub(super) fn madd52lo(acc: Register, b: Register, c: Register) -> Register {
        std::array::from_fn(|i| acc[i].wrapping_add(product(b[i], c[i]) as u64 & MASK))
    }

    /// `vpmadd52huq`: `acc` plus the product's bits 52 to 103, wrapping at `2^64`.
    pub(super) fn madd52hi(acc: Register, b: Register, c: Register) -> Register {
        std::array::from_fn(|i| acc[i].wrapping_add((product(b[i], c[i]) >> 52) as u64))
    }

    pub(super) fn load(l: &[u64; LANES]) -> Register {
        *l
    }

    pub(super) fn store(l: &mut [u64; LANES], v: Register) {
        *l = v;
    }
}

/// [`hash_many`] evaluated by the `Model` of the instructions, on any CPU (the same loop; the
/// IFMA instance keeps its own, inside `unsafe`, so that its compiled code stays as measured).
#[cfg(test)]
pub(super) fn model_hash_many<const N: usize, const T: usize>(inputs: &[[Fr; N]]) -> Vec<Fr> {
    let field = field_constants();
    let tables = tables(N);
    let model = Model::new(field);
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(LANES) {
        model.hash_chunk::<N, T>(field, tables, chunk, &mut out);
    }
    out
}

/// `H(inputs[k])` for every `k`, eight at a time. Call only when [`available`].
pub(super) fn hash_many<const N: usize, const T: usize>(inputs: &[[Fr; N]]) -> Vec<Fr> {
    assert_eq!(T, N + 1, "state width is inputs + 1");
    assert!(available(), "AVX-512 IFMA Poseidon called on a CPU without it");
    let field = field_constants();
    let tables = tables(N);
    let mut out = Vec::with_capacity(inputs.len());
    // SAFETY: `available()` checked that the CPU has AVX-512F and AVX-512 IFMA.
    unsafe {
        let vector = Vector::new(field);
        for chunk in inputs.chunks(LANES) {
            vector.hash_chunk::<N, T>(field, tables, chunk, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// The model of the eight-lane code gives each hash its scalar value on random field
        /// elements, for every count around the lane width.
        #[test]
        fn model_equals_scalar_on_random_elements(words in proptest::collection::vec(proptest::prelude::any::<[u8; 32]>(), 0..40)) {
            let elements: Vec<Fr> = words.iter().map(|w| Fr::from_le_bytes_mod_order(w)).collect();
            let pairs: Vec<[Fr; 2]> = elements.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
            let expected: Vec<Fr> = pairs.iter().map(|p| super::super::hash2(p[0], p[1])).collect();
            proptest::prop_assert_eq!(model_hash_many::<2, 3>(&pairs), expected);
            let quads: Vec<[Fr; 4]> = elements.chunks_exact(4).map(|q| [q[0], q[1], q[2], q[3]]).collect();
            let expected: Vec<Fr> = quads.iter().map(|q| super::super::poseidon(q)).collect();
            proptest::prop_assert_eq!(model_hash_many::<4, 5>(&quads), expected);
        }
    }

    #[test]
    fn limbs_round_trip() {
        let x = [u64::MAX, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0x0fff_ffff_ffff_ffff];
        let l = split_u64(&x);
        assert!(l.iter().all(|&v| v <= MASK));
        assert_eq!(join_u64(&l), x);
    }

    #[test]
    fn field_constants_are_what_they_say() {
        let field = field_constants();
        let p_low = field.modulus.0[0];
        assert_eq!(p_low.wrapping_mul(field.neg_inverse) & MASK, MASK, "p · (-p⁻¹) = -1 mod 2^52");
        assert_eq!(join_u64(&field.modulus.0), field.modulus_u64);
        assert_eq!(BigInt(field.modulus_u64), Fr::MODULUS);
    }
}
