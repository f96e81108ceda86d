//! A sparse binary Merkle tree over Poseidon with a configurable depth.
//!
//! Only nodes that differ from the empty-subtree hash of their level are stored, so a tree
//! of depth 24 holding a few accounts costs a few hundred nodes. Updates hash each dirty
//! node once per call, level by level: the hashes of a level go through
//! [`poseidon_many`] together, and in parallel when there are enough of them to pay for it.

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use tandem_crypto::{hash2, poseidon_many, Fr};

/// Below this many hashes on a level, hashing stays on the calling thread.
const PARALLEL_LEVEL_THRESHOLD: usize = 64;

/// Hashes of a level per parallel task (a multiple of the vector hash's eight lanes).
const PARALLEL_CHUNK: usize = 32;

/// Empty-subtree hashes: `Z_0 = 0`, `Z_{h+1} = H(Z_h, Z_h)`, for heights `0..=depth`.
pub fn empty_subtree_hashes(depth: u8) -> Vec<Fr> {
    let mut zeros = Vec::with_capacity(depth as usize + 1);
    zeros.push(Fr::from(0u64));
    for h in 0..depth as usize {
        zeros.push(hash2(zeros[h], zeros[h]));
    }
    zeros
}

/// The sibling hashes from a leaf up to (not including) the root, leaf level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    /// `siblings[h]` is the sibling of the path node at height `h`.
    pub siblings: Vec<Fr>,
}

impl MerkleProof {
    /// The root implied by `leaf` at `index` with these siblings.
    pub fn root_for(&self, index: u32, leaf: Fr) -> Fr {
        let mut node = leaf;
        for (h, sibling) in self.siblings.iter().enumerate() {
            node = if (index >> h) & 1 == 0 { hash2(node, *sibling) } else { hash2(*sibling, node) };
        }
        node
    }
}

/// A sparse Merkle tree of depth `depth` (leaves are at height 0, the root at `depth`).
///
/// Invariant: `levels[h]` holds exactly the nodes at height `h` whose value differs from
/// `zeros[h]`, and every stored internal node equals the hash of its children.
#[derive(Debug, Clone)]
pub struct SparseMerkleTree {
    depth: u8,
    zeros: Vec<Fr>,
    levels: Vec<HashMap<u32, Fr>>,
    /// Nodes written since the last [`SparseMerkleTree::take_dirty`] (for persistence).
    dirty: HashSet<(u8, u32)>,
}

impl SparseMerkleTree {
    /// An empty tree. `depth` must be in `1..=32`.
    pub fn new(depth: u8) -> Self {
        assert!((1..=32).contains(&depth), "tree depth {depth} outside 1..=32");
        Self { depth, zeros: empty_subtree_hashes(depth), levels: (0..=depth).map(|_| HashMap::new()).collect(), dirty: HashSet::new() }
    }

    /// The tree's depth.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Number of leaf positions, `2^depth`.
    pub fn capacity(&self) -> u64 {
        1u64 << self.depth
    }

    /// The value of the node at `height` and position `index` on that level.
    pub fn node(&self, height: u8, index: u32) -> Fr {
        self.levels[height as usize].get(&index).copied().unwrap_or(self.zeros[height as usize])
    }

    /// The root.
    pub fn root(&self) -> Fr {
        self.node(self.depth, 0)
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u32) -> Fr {
        self.node(0, index)
    }

    /// Inclusion proof of the leaf at `index`.
    pub fn proof(&self, index: u32) -> MerkleProof {
        let siblings = (0..self.depth).map(|h| self.node(h, (index >> h) ^ 1)).collect();
        MerkleProof { siblings }
    }

    /// Sets the given leaves (later entries win for repeated indices) and rehashes every
    /// affected node once; returns the new root. Indices must be below the capacity.
    pub fn update(&mut self, leaves: &[(u32, Fr)]) -> Fr {
        self.update_sequence(&[leaves.to_vec()]);
        self.root()
    }

    /// Applies `groups` of leaf writes in order (one group per op) and returns the root
    /// after each group, as if [`SparseMerkleTree::update`] were called once per group.
    ///
    /// Why not call `update` per group: the roots are computed level by level across all
    /// groups at once. A node's value after group `i` depends only on its children's values
    /// after group `i` (the latest version at or before `i`), so every hash of a level is
    /// independent of the others and the level is hashed in parallel, while the work stays
    /// one hash per (group, dirty node), the same as the sequential computation.
    pub fn update_sequence(&mut self, groups: &[Vec<(u32, Fr)>]) -> Vec<Fr> {
        // (group, node) pairs written at the current level, sorted, and each node's versions.
        let mut dirty: Vec<(usize, u32)> = Vec::new();
        let mut versions: HashMap<u32, Vec<(usize, Fr)>> = HashMap::new();
        for (g, leaves) in groups.iter().enumerate() {
            let mut sorted: Vec<(u32, Fr)> = Vec::with_capacity(leaves.len());
            for &(index, value) in leaves {
                debug_assert!((index as u64) < self.capacity());
                match sorted.iter_mut().find(|(i, _)| *i == index) {
                    Some(slot) => slot.1 = value,
                    None => sorted.push((index, value)),
                }
            }
            sorted.sort_unstable_by_key(|(i, _)| *i);
            for (index, value) in sorted {
                dirty.push((g, index));
                versions.entry(index).or_default().push((g, value));
            }
        }
        for h in 0..self.depth {
            let mut parents: Vec<(usize, u32)> = dirty.iter().map(|&(g, n)| (g, n >> 1)).collect();
            parents.dedup();
            let value_at = |node: u32, group: usize| -> Fr {
                versions
                    .get(&node)
                    .and_then(|vs| vs[..vs.partition_point(|(g, _)| *g <= group)].last())
                    .map(|(_, v)| *v)
                    .unwrap_or_else(|| self.node(h, node))
            };
            let children = |&(g, p): &(usize, u32)| [value_at(p << 1, g), value_at((p << 1) | 1, g)];
            let hash_parents = |chunk: &[(usize, u32)]| poseidon_many(&chunk.iter().map(children).collect::<Vec<_>>());
            let hashed: Vec<Fr> = if parents.len() >= PARALLEL_LEVEL_THRESHOLD {
                parents.par_chunks(PARALLEL_CHUNK).flat_map_iter(hash_parents).collect()
            } else {
                hash_parents(&parents)
            };
            let mut next: HashMap<u32, Vec<(usize, Fr)>> = HashMap::with_capacity(parents.len());
            for (&(g, p), value) in parents.iter().zip(hashed) {
                next.entry(p).or_default().push((g, value));
            }
            for (node, vs) in std::mem::replace(&mut versions, next) {
                let last = vs.last().expect("every versioned node has a version").1;
                self.set_node(h, node, last);
            }
            dirty = parents;
        }
        let before = self.root();
        let root_versions = versions.remove(&0).unwrap_or_default();
        let mut roots = Vec::with_capacity(groups.len());
        let mut current = before;
        let mut next_version = root_versions.iter().peekable();
        for g in 0..groups.len() {
            while let Some((_, v)) = next_version.next_if(|(vg, _)| *vg <= g) {
                current = *v;
            }
            roots.push(current);
        }
        if let Some((_, last)) = root_versions.last() {
            self.set_node(self.depth, 0, *last);
        }
        roots
    }

    fn set_node(&mut self, height: u8, index: u32, value: Fr) {
        self.dirty.insert((height, index));
        let level = &mut self.levels[height as usize];
        if value == self.zeros[height as usize] {
            level.remove(&index);
        } else {
            level.insert(index, value);
        }
    }

    /// Every stored (non-empty) node as `(height, index, value)`, for persistence.
    pub fn stored_nodes(&self) -> impl Iterator<Item = (u8, u32, Fr)> + '_ {
        self.levels.iter().enumerate().flat_map(|(h, level)| level.iter().map(move |(i, v)| (h as u8, *i, *v)))
    }

    /// Restores a node read back from storage (no rehashing; the caller vouches for it).
    pub(crate) fn restore_node(&mut self, height: u8, index: u32, value: Fr) {
        self.levels[height as usize].insert(index, value);
    }

    /// The stored value of a node, `None` if it equals the empty-subtree hash.
    pub(crate) fn stored_node(&self, height: u8, index: u32) -> Option<Fr> {
        self.levels[height as usize].get(&index).copied()
    }

    /// Nodes written since the previous call, and forgets them.
    pub(crate) fn take_dirty(&mut self) -> HashSet<(u8, u32)> {
        std::mem::take(&mut self.dirty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_the_empty_subtree_hash() {
        let tree = SparseMerkleTree::new(4);
        assert_eq!(tree.root(), empty_subtree_hashes(4)[4]);
    }

    #[test]
    fn proofs_verify_against_the_root() {
        let mut tree = SparseMerkleTree::new(6);
        tree.update(&[(3, Fr::from(7u64)), (40, Fr::from(9u64))]);
        for i in [0u32, 3, 40, 63] {
            assert_eq!(tree.proof(i).root_for(i, tree.leaf(i)), tree.root());
        }
        assert_ne!(tree.proof(3).root_for(3, Fr::from(8u64)), tree.root());
    }

    #[test]
    fn one_update_equals_many_single_updates() {
        let leaves: Vec<(u32, Fr)> = (0..50u32).map(|i| ((i * 37) % 256, Fr::from(i as u64 + 1))).collect();
        let mut batched = SparseMerkleTree::new(8);
        batched.update(&leaves);
        let mut single = SparseMerkleTree::new(8);
        for leaf in &leaves {
            single.update(&[*leaf]);
        }
        assert_eq!(batched.root(), single.root());
    }

    #[test]
    fn sequence_roots_equal_one_update_per_group() {
        let groups: Vec<Vec<(u32, Fr)>> = (0..40u32)
            .map(|g| vec![((g * 13) % 64, Fr::from(g as u64 + 1)), (0, Fr::from(1000 + g as u64)), ((g * 7) % 64, Fr::from(g as u64))])
            .chain(std::iter::once(Vec::new()))
            .collect();
        let mut stepwise = SparseMerkleTree::new(6);
        stepwise.update(&[(5, Fr::from(5u64))]);
        let mut sequenced = stepwise.clone();
        let expected: Vec<Fr> = groups.iter().map(|g| stepwise.update(g)).collect();
        assert_eq!(sequenced.update_sequence(&groups), expected);
        assert_eq!(sequenced.root(), stepwise.root());
        for i in 0..64 {
            assert_eq!(sequenced.leaf(i), stepwise.leaf(i));
            assert_eq!(sequenced.proof(i), stepwise.proof(i));
        }
    }

    #[test]
    fn clearing_every_leaf_returns_to_the_empty_tree() {
        let mut tree = SparseMerkleTree::new(5);
        tree.update(&[(1, Fr::from(1u64)), (2, Fr::from(2u64))]);
        tree.update(&[(1, Fr::from(0u64)), (2, Fr::from(0u64))]);
        assert_eq!(tree.root(), SparseMerkleTree::new(5).root());
        assert_eq!(tree.stored_nodes().count(), 0);
    }
}
