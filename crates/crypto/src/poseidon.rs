//! Poseidon over BN254 with circomlib's parameters, evaluated in the optimized form of the
//! Poseidon paper's appendix B (circomlib's `poseidon_opt`).
//!
//! The round constants and MDS matrices are circomlib's (as published by light-poseidon);
//! this module derives, once per arity, an equivalent description of the same permutation
//! that is cheaper to evaluate:
//!
//! - In a partial round only `x[0]` goes through the S-box, so the constants added to
//!   `x[1..]` commute with it and are carried forward through the MDS matrix: every
//!   partial round then adds one constant, and the carried vector joins the constants of
//!   the first full round after the partial rounds.
//! - The MDS matrix `M = [[m00, wᵀ], [v, M̂]]` of a partial round is factored as
//!   `diag(1, M̂·P) · S` with `S = [[m00, wᵀ·P], [(M̂·P)⁻¹·v, I]]` sparse, where `diag(1, P)` is
//!   the product carried from the earlier partial rounds. `diag(1, ·)` neither reads nor
//!   writes `x[0]`, so it commutes with the partial S-box and is carried to the next round;
//!   the last partial round multiplies by the dense `M · diag(1, P)`, which leaves the
//!   state exactly where the unoptimized permutation has it.
//!
//! A sparse round costs `2t - 1` multiplications instead of `t²`. Every step is an exact
//! identity over the field, so the output is bit-for-bit circomlib's; the tests compare it
//! with light-poseidon's plain evaluation for every arity and with circomlibjs vectors.
//!
//! [`poseidon_many`] evaluates many independent hashes; on x86-64 with AVX-512 IFMA it runs
//! this same round structure on eight states at once (the `ifma` module).

use ark_bn254::Fr;
use ark_ff::{Field, Zero};
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
mod ifma;

/// Most inputs one Poseidon call takes (circomlib's widths up to 13).
pub const MAX_POSEIDON_INPUTS: usize = 12;

/// The sparse matrix `[[first_row], [first_column[i], identity]]` of one partial round.
struct SparseMatrix {
    /// Row 0, all `t` entries.
    first_row: Vec<Fr>,
    /// Column 0 below the diagonal, `t - 1` entries.
    first_column: Vec<Fr>,
}

/// The optimized description of the permutation for one width `t`.
///
/// Invariant: evaluating it (see [`OptimizedPoseidon::permute`]) equals circomlib's
/// permutation on every state of width `t`.
struct OptimizedPoseidon {
    width: usize,
    /// Round constants of the full rounds in order (first half, then second half), each
    /// `t` wide; the first vector of the second half includes the carried partial-round
    /// constants.
    full_constants: Vec<Vec<Fr>>,
    /// The MDS matrix, row-major, `t × t`.
    mds: Vec<Fr>,
    /// One constant per partial round, added to `x[0]` before its S-box.
    partial_constants: Vec<Fr>,
    /// Matrices of the partial rounds but the last.
    sparse: Vec<SparseMatrix>,
    /// Dense matrix of the last partial round, row-major, `t × t`.
    last_partial: Vec<Fr>,
}

/// `x⁵`, circomlib's S-box.
#[inline(always)]
fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    let x4 = x2.square();
    x4 * x
}

/// `state ← matrix · state` for a row-major `T × T` matrix, each row one sum of products
/// (one Montgomery reduction per three products instead of one per product).
#[inline(always)]
fn dense_mul<const T: usize>(matrix: &[Fr], state: &mut [Fr; T]) {
    let (rows, _) = matrix.as_chunks::<T>();
    let input = *state;
    for (x, row) in state.iter_mut().zip(rows) {
        *x = Fr::sum_of_products(row, &input);
    }
}

/// `matrix · vector` for a row-major `n × n` matrix (deriving the constants; not hot).
fn mat_vec_mul(matrix: &[Fr], vector: &[Fr]) -> Vec<Fr> {
    matrix.chunks_exact(vector.len()).map(|row| row.iter().zip(vector).map(|(m, x)| *m * x).sum()).collect()
}

/// `(a · b)` for row-major square matrices of size `n`.
fn mat_mul(a: &[Fr], b: &[Fr], n: usize) -> Vec<Fr> {
    let mut out = vec![Fr::zero(); n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
        }
    }
    out
}

/// Solves `a · x = b` for an invertible row-major `n × n` matrix `a` (Gauss-Jordan).
///
/// # Panics
/// If `a` is singular. Only called on powers of the lower-right block of a Cauchy MDS
/// matrix, whose square submatrices are all invertible.
fn solve(a: &[Fr], b: &[Fr], n: usize) -> Vec<Fr> {
    let mut m: Vec<Vec<Fr>> = (0..n)
        .map(|i| {
            let mut row = a[i * n..(i + 1) * n].to_vec();
            row.push(b[i]);
            row
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !m[r][col].is_zero()).expect("MDS sub-blocks are invertible");
        m.swap(col, pivot);
        let inv = m[col][col].inverse().expect("pivot is non-zero");
        for entry in m[col].iter_mut() {
            *entry *= inv;
        }
        for r in 0..n {
            if r != col && !m[r][col].is_zero() {
                let factor = m[r][col];
                let pivot_row = m[col].clone();
                for (entry, p) in m[r].iter_mut().zip(pivot_row) {
                    *entry -= factor * p;
                }
            }
        }
    }
    m.into_iter().map(|row| row[n]).collect()
}

impl OptimizedPoseidon {
    /// Derives the optimized form from circomlib's constants for width `t` (`2..=13`).
    fn new(t: usize) -> Self {
        let params = get_poseidon_parameters::<Fr>(t as u8).expect("widths 2..=13 are circomlib's");
        let half_full = params.full_rounds / 2;
        let partial_rounds = params.partial_rounds;
        let constants: Vec<&[Fr]> = params.ark.chunks_exact(t).collect();
        let mds: Vec<Fr> = params.mds.iter().flatten().copied().collect();

        // Carry the partial rounds' constants on x[1..] forward through the MDS matrix.
        let mut partial_constants = Vec::with_capacity(partial_rounds);
        let mut carry = vec![Fr::zero(); t];
        for round_constants in &constants[half_full..half_full + partial_rounds] {
            let mut effective: Vec<Fr> = round_constants.iter().zip(&carry).map(|(c, d)| *c + d).collect();
            partial_constants.push(effective[0]);
            effective[0] = Fr::zero();
            carry = mat_vec_mul(&mds, &effective);
        }
        let mut full_constants: Vec<Vec<Fr>> = constants[..half_full].iter().map(|c| c.to_vec()).collect();
        let second_half = half_full + partial_rounds;
        for (k, c) in constants[second_half..].iter().enumerate() {
            let mut c = c.to_vec();
            if k == 0 {
                for (ci, d) in c.iter_mut().zip(&carry) {
                    *ci += d;
                }
            }
            full_constants.push(c);
        }

        // Factor each partial round's matrix, carrying diag(1, P) forward.
        let n = t - 1;
        let m_hat: Vec<Fr> = (1..t).flat_map(|i| mds[i * t + 1..(i + 1) * t].to_vec()).collect();
        let w: Vec<Fr> = mds[1..t].to_vec();
        let v: Vec<Fr> = (1..t).map(|i| mds[i * t]).collect();
        let mut carried: Vec<Fr> = (0..n * n).map(|k| if k / n == k % n { Fr::ONE } else { Fr::zero() }).collect();
        let mut sparse = Vec::with_capacity(partial_rounds.saturating_sub(1));
        for _ in 0..partial_rounds - 1 {
            // wᵀ·P
            let w_p: Vec<Fr> = (0..n).map(|j| (0..n).map(|k| w[k] * carried[k * n + j]).sum()).collect();
            let next = mat_mul(&m_hat, &carried, n);
            let mut first_row = Vec::with_capacity(t);
            first_row.push(mds[0]);
            first_row.extend(w_p);
            sparse.push(SparseMatrix { first_row, first_column: solve(&next, &v, n) });
            carried = next;
        }
        // The last partial round: M · diag(1, P), dense.
        let mut last_partial = vec![Fr::zero(); t * t];
        for i in 0..t {
            last_partial[i * t] = mds[i * t];
            for j in 0..n {
                last_partial[i * t + 1 + j] = (0..n).map(|k| mds[i * t + 1 + k] * carried[k * n + j]).sum();
            }
        }
        Self { width: t, full_constants, mds, partial_constants, sparse, last_partial }
    }

    fn full_round<const T: usize>(&self, state: &mut [Fr; T], constants: &[Fr]) {
        for (x, c) in state.iter_mut().zip(constants) {
            *x = sbox(*x + c);
        }
        dense_mul(&self.mds, state);
    }

    /// The permutation on `state`. `T` must be this description's width; it is a constant so
    /// that every loop has a fixed length (unrolled, no bounds checks).
    fn permute<const T: usize>(&self, state: &mut [Fr; T]) {
        debug_assert_eq!(T, self.width);
        let half = self.full_constants.len() / 2;
        for constants in &self.full_constants[..half] {
            self.full_round(state, constants);
        }
        let last = self.partial_constants.len() - 1;
        for (round, k) in self.partial_constants.iter().enumerate() {
            state[0] = sbox(state[0] + k);
            if round < last {
                let matrix = &self.sparse[round];
                let x0 = state[0];
                let (first_row, _) = matrix.first_row.as_chunks::<T>();
                let acc = Fr::sum_of_products(&first_row[0], state);
                for (x, c) in state[1..].iter_mut().zip(&matrix.first_column) {
                    *x += *c * x0;
                }
                state[0] = acc;
            } else {
                dense_mul(&self.last_partial, state);
            }
        }
        for constants in &self.full_constants[half..] {
            self.full_round(state, constants);
        }
    }
}

/// The optimized parameters for `inputs` inputs, derived on first use.
fn optimized(inputs: usize) -> &'static OptimizedPoseidon {
    static TABLES: [OnceLock<OptimizedPoseidon>; MAX_POSEIDON_INPUTS + 1] = [const { OnceLock::new() }; MAX_POSEIDON_INPUTS + 1];
    TABLES[inputs].get_or_init(|| OptimizedPoseidon::new(inputs + 1))
}

/// Poseidon of `T - 1` inputs (`inputs.len()` must be `T - 1`), state width `T`.
#[inline]
fn hash_width<const T: usize>(inputs: &[Fr]) -> Fr {
    let mut state = [Fr::zero(); T];
    state[1..].copy_from_slice(inputs);
    optimized(T - 1).permute(&mut state);
    state[0]
}

/// `H(inputs)`: circomlib's `poseidon(inputs)`.
///
/// # Panics
/// If `inputs` is empty or longer than [`MAX_POSEIDON_INPUTS`]; every caller in Tandem passes
/// a fixed, small arity, so this is a programming error, never an input error.
pub fn poseidon(inputs: &[Fr]) -> Fr {
    match inputs.len() {
        1 => hash_width::<2>(inputs),
        2 => hash_width::<3>(inputs),
        3 => hash_width::<4>(inputs),
        4 => hash_width::<5>(inputs),
        5 => hash_width::<6>(inputs),
        6 => hash_width::<7>(inputs),
        7 => hash_width::<8>(inputs),
        8 => hash_width::<9>(inputs),
        9 => hash_width::<10>(inputs),
        10 => hash_width::<11>(inputs),
        11 => hash_width::<12>(inputs),
        12 => hash_width::<13>(inputs),
        n => panic!("poseidon arity {n} outside 1..={MAX_POSEIDON_INPUTS}"),
    }
}

/// `H(left, right)`: the Merkle node hash.
pub fn hash2(left: Fr, right: Fr) -> Fr {
    hash_width::<3>(&[left, right])
}

/// `H(inputs[k])` for every `k`, in order: the same values as calling [`poseidon`] on each,
/// faster when there are several. On a CPU with AVX-512 IFMA eight hashes run at once
/// (`TANDEM_POSEIDON_SCALAR=1` turns that off); elsewhere they run one by one.
///
/// # Panics
/// If `N` is 0 or above [`MAX_POSEIDON_INPUTS`] (a programming error, as for [`poseidon`]).
pub fn poseidon_many<const N: usize>(inputs: &[[Fr; N]]) -> Vec<Fr> {
    match N {
        1 => many_width::<N, 2>(inputs),
        2 => many_width::<N, 3>(inputs),
        3 => many_width::<N, 4>(inputs),
        4 => many_width::<N, 5>(inputs),
        5 => many_width::<N, 6>(inputs),
        6 => many_width::<N, 7>(inputs),
        7 => many_width::<N, 8>(inputs),
        8 => many_width::<N, 9>(inputs),
        9 => many_width::<N, 10>(inputs),
        10 => many_width::<N, 11>(inputs),
        11 => many_width::<N, 12>(inputs),
        12 => many_width::<N, 13>(inputs),
        n => panic!("poseidon arity {n} outside 1..={MAX_POSEIDON_INPUTS}"),
    }
}

/// Below this many hashes the vector path is not taken: a group of eight lanes costs about
/// 1.6–1.8 scalar hashes of two inputs and 1.3 of nine (BENCHMARKS.md, "Two hashes together"), so
/// one hash is faster alone and two are already faster together.
#[cfg(target_arch = "x86_64")]
const MIN_VECTOR_HASHES: usize = 2;

fn many_width<const N: usize, const T: usize>(inputs: &[[Fr; N]]) -> Vec<Fr> {
    #[cfg(target_arch = "x86_64")]
    if inputs.len() >= MIN_VECTOR_HASHES && ifma::available() {
        let tail = inputs.len() % ifma::LANES;
        let vector_len = if tail >= MIN_VECTOR_HASHES { inputs.len() } else { inputs.len() - tail };
        let mut out = ifma::hash_many::<N, T>(&inputs[..vector_len]);
        out.extend(inputs[vector_len..].iter().map(|i| hash_width::<T>(i)));
        return out;
    }
    inputs.iter().map(|i| hash_width::<T>(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use proptest::prelude::*;

    fn reference(inputs: &[Fr]) -> Fr {
        Poseidon::<Fr>::new_circom(inputs.len()).unwrap().hash(inputs).unwrap()
    }

    fn field_element() -> impl Strategy<Value = Fr> {
        prop_oneof![
            any::<[u8; 32]>().prop_map(|b| <Fr as ark_ff::PrimeField>::from_le_bytes_mod_order(&b)),
            any::<u64>().prop_map(Fr::from),
            Just(Fr::zero()),
            Just(-Fr::ONE),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The optimized evaluation equals the plain one (light-poseidon, circomlib's
        /// constants) for every arity.
        #[test]
        fn optimized_equals_plain_evaluation(inputs in prop::collection::vec(field_element(), 1..=MAX_POSEIDON_INPUTS)) {
            prop_assert_eq!(poseidon(&inputs), reference(&inputs));
        }
    }

    fn edge_element() -> impl Strategy<Value = Fr> {
        prop_oneof![field_element(), Just(Fr::ONE), Just(-Fr::from(2u64)), Just(Fr::from(u64::MAX))]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Hashing many at once gives each hash's own value, in order, for every count
        /// around the vector width (full groups, short tails, tails hashed one by one).
        #[test]
        fn many_equals_one_at_a_time(
            pairs in prop::collection::vec([edge_element(), edge_element()], 0..27),
            quads in prop::collection::vec([edge_element(), edge_element(), edge_element(), edge_element()], 0..19),
        ) {
            let expected: Vec<Fr> = pairs.iter().map(|p| hash2(p[0], p[1])).collect();
            prop_assert_eq!(poseidon_many(&pairs), expected);
            let expected: Vec<Fr> = quads.iter().map(|q| poseidon(q)).collect();
            prop_assert_eq!(poseidon_many(&quads), expected);
        }
    }

    /// Which evaluation of the eight-lane code a check runs.
    #[cfg(target_arch = "x86_64")]
    #[derive(Clone, Copy)]
    enum LanePath {
        /// The AVX-512 IFMA instructions.
        Vector,
        /// The portable model of those instructions.
        Model,
    }

    /// The eight-lane code on every arity against the plain reference evaluation, with the
    /// largest field elements in every position, over full and partial groups of lanes.
    #[cfg(target_arch = "x86_64")]
    fn lane_path_equals_reference_on_every_arity(path: LanePath) {
        fn check<const N: usize, const T: usize>(path: LanePath) {
            let inputs: Vec<[Fr; N]> = (0..11u64)
                .map(|k| {
                    std::array::from_fn(|i| {
                        if (k + i as u64).is_multiple_of(3) {
                            -Fr::ONE - Fr::from(k)
                        } else {
                            Fr::from(k * 1_000_003 + i as u64)
                        }
                    })
                })
                .collect();
            let got = match path {
                LanePath::Vector => ifma::hash_many::<N, T>(&inputs),
                LanePath::Model => ifma::model_hash_many::<N, T>(&inputs),
            };
            for (input, hash) in inputs.iter().zip(&got) {
                assert_eq!(*hash, reference(input), "arity {N}");
            }
            assert_eq!(got.len(), inputs.len());
        }
        check::<1, 2>(path);
        check::<2, 3>(path);
        check::<3, 4>(path);
        check::<4, 5>(path);
        check::<5, 6>(path);
        check::<6, 7>(path);
        check::<7, 8>(path);
        check::<8, 9>(path);
        check::<9, 10>(path);
        check::<10, 11>(path);
        check::<11, 12>(path);
        check::<12, 13>(path);
    }

    /// The vector path itself. Only where the CPU has it; the model below runs everywhere.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_path_equals_reference_on_every_arity() {
        if !ifma::available() {
            eprintln!("no AVX-512 IFMA here (or TANDEM_POSEIDON_SCALAR=1): vector path not tested");
            return;
        }
        lane_path_equals_reference_on_every_arity(LanePath::Vector);
    }

    /// The same eight-lane code on the portable model of its instructions, on every CPU.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn lane_model_equals_reference_on_every_arity() {
        lane_path_equals_reference_on_every_arity(LanePath::Model);
    }

    #[test]
    fn every_arity_agrees_on_fixed_inputs() {
        for n in 1..=MAX_POSEIDON_INPUTS {
            let inputs: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i * 7 + 3)).collect();
            assert_eq!(poseidon(&inputs), reference(&inputs), "arity {n}");
        }
    }

    #[test]
    #[should_panic(expected = "poseidon arity 0")]
    fn empty_input_is_a_programming_error() {
        poseidon(&[]);
    }
}
