//! Poseidon with circomlib's parameters (`x^5`, 8 full rounds, circomlib's partial rounds,
//! round constants and MDS, taken from light-poseidon), as a gadget.
//!
//! The state is `[0, inputs...]`; the output is `state[0]` after the permutation, as in
//! circomlib (a sponge's squeeze would return `state[1]`). Linear layers are free; each
//! S-box costs 3 constraints (full rounds: every element, partial rounds: `state[0]`), so a
//! 2-input hash costs 240 constraints (the first round's constant capacity element is free).

use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;
use light_poseidon::PoseidonParameters;
use std::sync::OnceLock;

use super::{FVar, F};

/// Largest arity supported (circomlib's widths up to 13).
pub const MAX_INPUTS: usize = 12;

fn params(inputs: usize) -> &'static PoseidonParameters<F> {
    static PARAMS: [OnceLock<PoseidonParameters<F>>; MAX_INPUTS + 1] = [const { OnceLock::new() }; MAX_INPUTS + 1];
    assert!((1..=MAX_INPUTS).contains(&inputs), "poseidon arity {inputs} outside 1..={MAX_INPUTS}");
    PARAMS[inputs].get_or_init(|| {
        light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<F>((inputs + 1) as u8)
            .expect("circom parameters exist for widths 2..=13")
    })
}

fn sbox(x: &FVar) -> Result<FVar, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// `H(inputs)` in the circuit: circomlib's `Poseidon(n)`.
///
/// # Panics
/// If `inputs` is empty or longer than [`MAX_INPUTS`] (arities are fixed by the caller's code).
pub fn poseidon(inputs: &[FVar]) -> Result<FVar, SynthesisError> {
    let p = params(inputs.len());
    let t = p.width;
    let mut state: Vec<FVar> = std::iter::once(FVar::zero()).chain(inputs.iter().cloned()).collect();
    let half = p.full_rounds / 2;
    for round in 0..p.full_rounds + p.partial_rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += p.ark[round * t + i];
        }
        if round < half || round >= half + p.partial_rounds {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        state = (0..t).map(|i| state.iter().zip(&p.mds[i]).fold(FVar::zero(), |acc, (s, m)| acc + s * *m)).collect();
    }
    Ok(state.swap_remove(0))
}

/// `H(left, right)`: the Merkle node hash.
pub fn hash2(left: &FVar, right: &FVar) -> Result<FVar, SynthesisError> {
    poseidon(&[left.clone(), right.clone()])
}
