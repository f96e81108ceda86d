//! The batch header L1 stores and the commitments L1 and L2 compute identically: the
//! header hash, the withdrawal tree of a batch, and the intermediate-roots commitment.

use alloy::primitives::{keccak256, B256, U256};
use alloy::sol_types::SolValue;
use sha2::Digest;
use tandem_types::{Op, WithdrawOp};

/// How a batch becomes final on L1 (the contract's lane code is the discriminant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Final when its challenge window passes without a successful fraud proof.
    Optimistic = 0,
    /// Final when a validity proof is verified.
    Zk = 1,
}

impl Lane {
    /// The lane with contract code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Lane::Optimistic),
            1 => Some(Lane::Zk),
            _ => None,
        }
    }
}

/// A batch header as `commitBatch` takes it (contract struct `BatchHeader`, same field order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Consecutive from 1 (0 is genesis).
    pub batch_number: u64,
    /// State root before the batch (big-endian field element).
    pub prev_state_root: B256,
    /// State root after the batch.
    pub new_state_root: B256,
    /// `sha256(public data)`.
    pub public_data_hash: B256,
    /// [`intermediate_roots_root`] of the roots after every op.
    pub intermediate_roots_root: B256,
    /// Number of `Deposit` ops (priority-queue entries consumed, in order).
    pub priority_ops_count: u32,
    /// Finality lane.
    pub lane: Lane,
    /// Number of ops in the public data.
    pub op_count: u32,
    /// Account credited with the batch's fees.
    pub fee_account: u32,
}

impl BatchHeader {
    /// `keccak256(abi.encode(header))`, the digest the contract stores; in staked mode the
    /// active set signs [`crate::batch_digest`] of it. The struct is static, so its ABI
    /// encoding is the tuple of its fields, each in one 32-byte word.
    pub fn hash(&self) -> B256 {
        keccak256(
            (
                self.batch_number,
                self.prev_state_root,
                self.new_state_root,
                self.public_data_hash,
                self.intermediate_roots_root,
                self.priority_ops_count,
                // abi.encode pads the uint8 lane to a word, as a uint256 of the same value.
                U256::from(self.lane as u8),
                self.op_count,
                self.fee_account,
            )
                .abi_encode(),
        )
    }
}

/// The contract's withdrawal leaf: `keccak256(abi.encodePacked(uint8 token, uint128 amount, address to))`.
pub fn withdrawal_leaf(withdrawal: &WithdrawOp) -> B256 {
    let mut packed = [0u8; 1 + 16 + 20];
    packed[0] = withdrawal.token.get();
    packed[1..17].copy_from_slice(&withdrawal.amount.to_be_bytes());
    packed[17..].copy_from_slice(&withdrawal.to_l1.0);
    keccak256(packed)
}

/// The withdrawals of a batch, in public-data order.
pub fn withdrawals(ops: &[Op]) -> Vec<WithdrawOp> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Withdraw(w) => Some(*w),
            _ => None,
        })
        .collect()
}

/// The L1 withdrawals of a block, in public-data order (the contract's leaf order): its
/// `Withdraw` ops and its executed forced withdrawals, whose recipient is the request's
/// (L1 stored it; public data does not repeat it). `inputs` are the block's applied inputs,
/// one per op; `None` if a forced op has no request beside it.
pub fn block_withdrawals(ops: &[Op], inputs: &[crate::BlockInput]) -> Option<Vec<WithdrawOp>> {
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Withdraw(w) => out.push(*w),
            Op::ForcedWithdraw(f) if f.withdrawn > 0 => {
                let Some(crate::BlockInput::ForcedWithdrawal { request, .. }) = inputs.get(i) else { return None };
                out.push(WithdrawOp {
                    from: f.account,
                    token: f.token,
                    amount: f.withdrawn,
                    fee: tandem_types::PackedFee::new(0).expect("zero is a packed fee"),
                    to_l1: request.to_l1,
                });
            }
            _ => {}
        }
    }
    Some(out)
}

/// Levels of the keccak tree over `leaves`: each level pads an odd count with a zero leaf,
/// exactly as the contract's `_withdrawalsRoot`.
fn keccak_levels(leaves: Vec<B256>) -> Vec<Vec<B256>> {
    let mut levels = vec![leaves];
    while levels.last().map_or(0, Vec::len) > 1 {
        let mut level = levels.last().expect("non-empty").clone();
        if level.len() % 2 == 1 {
            level.push(B256::ZERO);
        }
        let next = level.chunks(2).map(|pair| keccak256([pair[0].as_slice(), pair[1].as_slice()].concat())).collect();
        *levels.last_mut().expect("non-empty") = level;
        levels.push(next);
    }
    levels
}

/// Root of the batch's withdrawal tree (zero if it has none).
pub fn withdrawals_root(withdrawals: &[WithdrawOp]) -> B256 {
    if withdrawals.is_empty() {
        return B256::ZERO;
    }
    keccak_levels(withdrawals.iter().map(withdrawal_leaf).collect()).last().and_then(|l| l.first().copied()).unwrap_or_default()
}

/// Sibling path proving withdrawal `index` under [`withdrawals_root`], as `claimWithdrawal`
/// takes it. `None` if `index` is out of range.
pub fn withdrawal_proof(withdrawals: &[WithdrawOp], index: usize) -> Option<Vec<B256>> {
    if index >= withdrawals.len() {
        return None;
    }
    Some(keccak_path(withdrawals.iter().map(withdrawal_leaf).collect(), index))
}

/// Sibling path of leaf `index` (in range) of the keccak tree over `leaves`.
fn keccak_path(leaves: Vec<B256>, index: usize) -> Vec<B256> {
    let levels = keccak_levels(leaves);
    let mut proof = Vec::new();
    let mut i = index;
    for level in &levels[..levels.len() - 1] {
        proof.push(level[i ^ 1]);
        i >>= 1;
    }
    proof
}

impl BatchHeader {
    /// The header of batch `number` going from `prev_state_root` to `new_state_root` through
    /// `roots` (the root after every op), over `public_data` (`op_count` ops, the first
    /// `priority_ops_count` of them from L1's queue), paying fees to `fee_account`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        number: u64,
        prev_state_root: B256,
        new_state_root: B256,
        roots: &[B256],
        public_data: &[u8],
        op_count: u32,
        priority_ops_count: u32,
        lane: Lane,
        fee_account: u32,
    ) -> Self {
        Self {
            batch_number: number,
            prev_state_root,
            new_state_root,
            public_data_hash: B256::from(<[u8; 32]>::from(sha2::Sha256::digest(public_data))),
            intermediate_roots_root: intermediate_roots_root(roots),
            priority_ops_count,
            lane,
            op_count,
            fee_account,
        }
    }
}

/// Commitment to a batch's intermediate state roots: the root of the same keccak tree over
/// the 32-byte big-endian roots (a fraud proof opens two adjacent roots with two paths).
pub fn intermediate_roots_root(roots: &[B256]) -> B256 {
    if roots.is_empty() {
        return B256::ZERO;
    }
    keccak_levels(roots.to_vec()).last().and_then(|l| l.first().copied()).unwrap_or_default()
}

/// A fault-proof chunk's boundary roots as the dispute game takes them (SPEC §17): the
/// state root before and after the chunk, each with its path in the intermediate-roots tree,
/// empty where the root comes from the header (the first chunk's start, the last chunk's
/// end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkBoundary {
    /// Root before the chunk's first op.
    pub start_root: B256,
    /// Path of `start_root` (leaf `k·S − 1`), empty for chunk 0.
    pub start_path: Vec<B256>,
    /// Root after the chunk's last op, its fee settlement included.
    pub end_root: B256,
    /// Path of `end_root` (leaf `(k+1)·S − 1`), empty for the last chunk.
    pub end_path: Vec<B256>,
}

/// Number of fault-proof chunks of a batch of `op_count` ops with `slots` ops per chunk:
/// `max(1, ⌈op_count / slots⌉)` (the game's `chunkCount`). `slots` must be positive.
pub fn chunk_count(op_count: usize, slots: usize) -> usize {
    op_count.div_ceil(slots).max(1)
}

/// The boundary of chunk `chunk` of a batch from `prev_root` through `roots` (the root after
/// every op, the last one the batch's new root), `slots` ops per chunk. `None` if the chunk
/// is out of range, `slots` is zero or the batch has no ops.
pub fn chunk_boundary(prev_root: B256, roots: &[B256], chunk: usize, slots: usize) -> Option<ChunkBoundary> {
    if slots == 0 || roots.is_empty() || chunk >= chunk_count(roots.len(), slots) {
        return None;
    }
    let first = chunk * slots;
    let last = (first + slots).min(roots.len()) - 1;
    let (start_root, start_path) = match first {
        0 => (prev_root, Vec::new()),
        _ => (roots[first - 1], keccak_path(roots.to_vec(), first - 1)),
    };
    let end_path = if last + 1 == roots.len() { Vec::new() } else { keccak_path(roots.to_vec(), last) };
    Some(ChunkBoundary { start_root, start_path, end_root: roots[last], end_path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_types::{AccountIndex, L1Address, PackedFee, TokenId};

    fn withdrawal(i: u8) -> WithdrawOp {
        WithdrawOp {
            from: AccountIndex::new(i as u32).unwrap(),
            token: TokenId::new((i % 3) as u32).unwrap(),
            amount: 1000 + i as u128,
            fee: PackedFee::new(0).unwrap(),
            to_l1: L1Address([i; 20]),
        }
    }

    #[test]
    fn proofs_recompute_the_root_for_every_count() {
        for count in 1..=9u8 {
            let ws: Vec<WithdrawOp> = (0..count).map(withdrawal).collect();
            let root = withdrawals_root(&ws);
            for (index, w) in ws.iter().enumerate() {
                let mut node = withdrawal_leaf(w);
                for (level, sibling) in withdrawal_proof(&ws, index).unwrap().iter().enumerate() {
                    node = if (index >> level) & 1 == 0 {
                        keccak256([node.as_slice(), sibling.as_slice()].concat())
                    } else {
                        keccak256([sibling.as_slice(), node.as_slice()].concat())
                    };
                }
                assert_eq!(node, root, "count {count} index {index}");
            }
            assert!(withdrawal_proof(&ws, count as usize).is_none());
        }
    }

    #[test]
    fn header_hash_is_keccak_of_nine_words() {
        let header = BatchHeader {
            batch_number: 7,
            prev_state_root: B256::repeat_byte(1),
            new_state_root: B256::repeat_byte(2),
            public_data_hash: B256::repeat_byte(3),
            intermediate_roots_root: B256::repeat_byte(4),
            priority_ops_count: 5,
            lane: Lane::Zk,
            op_count: 6,
            fee_account: 8,
        };
        let word = |v: u64| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&v.to_be_bytes());
            w
        };
        let mut words = Vec::new();
        words.extend_from_slice(&word(7));
        for b in 1..=4u8 {
            words.extend_from_slice(&[b; 32]);
        }
        for v in [5, 1, 6, 8] {
            words.extend_from_slice(&word(v));
        }
        assert_eq!(header.hash(), keccak256(words));
    }

    /// Every chunk's boundary of batches of 1 to 9 ops with 2 or 3 slots: consecutive chunks
    /// share a root, the ends come from the header, and each path opens its root at the
    /// leaf the game names (`k·S − 1`, `(k+1)·S − 1`) under the intermediate-roots root.
    #[test]
    fn chunk_boundaries_chain_and_open_in_the_intermediate_roots_tree() {
        let opens = |root: B256, leaf: usize, path: &[B256], top: B256| {
            let mut node = root;
            for (level, sibling) in path.iter().enumerate() {
                node = if (leaf >> level) & 1 == 0 {
                    keccak256([node.as_slice(), sibling.as_slice()].concat())
                } else {
                    keccak256([sibling.as_slice(), node.as_slice()].concat())
                };
            }
            node == top
        };
        let prev = B256::repeat_byte(0xaa);
        for n in 1..=9u8 {
            let roots: Vec<B256> = (0..n).map(B256::repeat_byte).collect();
            let top = intermediate_roots_root(&roots);
            for slots in [2usize, 3] {
                let count = chunk_count(roots.len(), slots);
                assert_eq!(count, (n as usize).div_ceil(slots));
                let mut start = prev;
                for k in 0..count {
                    let b = chunk_boundary(prev, &roots, k, slots).unwrap();
                    assert_eq!(b.start_root, start, "n {n} S {slots} chunk {k}");
                    assert_eq!(b.start_path.is_empty(), k == 0);
                    if k > 0 {
                        assert!(opens(b.start_root, k * slots - 1, &b.start_path, top));
                    }
                    assert_eq!(b.end_path.is_empty(), k + 1 == count);
                    if k + 1 < count {
                        assert!(opens(b.end_root, (k + 1) * slots - 1, &b.end_path, top));
                    }
                    start = b.end_root;
                }
                assert_eq!(start, *roots.last().unwrap(), "the last chunk ends at the new root");
                assert_eq!(chunk_boundary(prev, &roots, count, slots), None);
            }
        }
        assert_eq!(chunk_boundary(prev, &[], 0, 2), None);
        assert_eq!(chunk_boundary(prev, &[prev], 0, 0), None);
    }
}
