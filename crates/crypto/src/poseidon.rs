//! Poseidon over BN254 with circomlib's parameters (via light-poseidon).

use ark_bn254::Fr;
use light_poseidon::{Poseidon, PoseidonHasher};
use std::cell::RefCell;

/// Most inputs one Poseidon call takes (circomlib's widths up to 13).
pub const MAX_POSEIDON_INPUTS: usize = 12;

thread_local! {
    // Building the round constants costs more than a hash, so each thread keeps one hasher
    // per arity.
    static HASHERS: RefCell<Vec<Option<Poseidon<Fr>>>> = RefCell::new((0..=MAX_POSEIDON_INPUTS).map(|_| None).collect());
}

/// `H(inputs)`: circomlib's `poseidon(inputs)`.
///
/// # Panics
/// If `inputs` is empty or longer than [`MAX_POSEIDON_INPUTS`]; every caller in Tandem passes
/// a fixed, small arity, so this is a programming error, never an input error.
pub fn poseidon(inputs: &[Fr]) -> Fr {
    let n = inputs.len();
    assert!(
        (1..=MAX_POSEIDON_INPUTS).contains(&n),
        "poseidon arity {n} outside 1..={MAX_POSEIDON_INPUTS}"
    );
    HASHERS.with(|cell| {
        let mut hashers = cell.borrow_mut();
        let hasher = hashers[n].get_or_insert_with(|| {
            Poseidon::<Fr>::new_circom(n).expect("arity checked above is supported")
        });
        hasher.hash(inputs).expect("arity matches the hasher")
    })
}

/// `H(left, right)`: the Merkle node hash.
pub fn hash2(left: Fr, right: Fr) -> Fr {
    poseidon(&[left, right])
}
