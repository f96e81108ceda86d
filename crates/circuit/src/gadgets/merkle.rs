//! Merkle paths of the Poseidon sparse trees (SPEC.md §3): node `= H(left, right)`, leaf
//! first, index bit `h` chooses whether the path node is the right child at height `h`.
//!
//! One level costs one selection (1 constraint) and one 2-input hash (240). An update
//! verifies the old leaf and computes the new root with the same siblings: `2·depth` hashes.

use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;

use super::poseidon::hash2;
use super::{Bool, FVar};

/// The root implied by `leaf` at the position given by `index_bits` (little-endian, one per
/// level) with `siblings` (leaf level first).
pub fn root_from_path(leaf: &FVar, index_bits: &[Bool], siblings: &[FVar]) -> Result<FVar, SynthesisError> {
    assert_eq!(index_bits.len(), siblings.len(), "one index bit per level");
    let mut node = leaf.clone();
    for (bit, sibling) in index_bits.iter().zip(siblings) {
        // bit = 1: the path node is the right child.
        let left = bit.select(sibling, &node)?;
        let right = &node + sibling - &left;
        node = hash2(&left, &right)?;
    }
    Ok(node)
}

/// Enforces that `leaf` is at `index_bits` under `root`.
pub fn verify_path(root: &FVar, leaf: &FVar, index_bits: &[Bool], siblings: &[FVar]) -> Result<(), SynthesisError> {
    root_from_path(leaf, index_bits, siblings)?.enforce_equal(root)
}

/// Enforces, when `enabled`, that `old_leaf` is at `index_bits` under `root`, and returns the
/// root after replacing it with `new_leaf` (or `root` itself when not `enabled`).
pub fn update_path(
    enabled: &Bool,
    root: &FVar,
    old_leaf: &FVar,
    new_leaf: &FVar,
    index_bits: &[Bool],
    siblings: &[FVar],
) -> Result<FVar, SynthesisError> {
    let old_root = root_from_path(old_leaf, index_bits, siblings)?;
    old_root.conditional_enforce_equal(root, enabled)?;
    let new_root = root_from_path(new_leaf, index_bits, siblings)?;
    enabled.select(&new_root, root)
}
