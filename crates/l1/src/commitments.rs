//! The batch header as the contract bindings take it. The header, its hash and the other
//! commitments L1 and L2 compute identically are `tandem_chain`'s; this is only the
//! conversion into the generated binding structs.

use tandem_chain::BatchHeader;

use crate::bindings::{dispute, staked, TandemRollup};

/// The two bindings generate two structs for the one contract struct `BatchHeader`
/// (`StakedRollup`'s ABI repeats `TandemRollup`'s); both are filled field for field here.
macro_rules! binding_header {
    ($ty:path, $header:expr) => {{
        let header = $header;
        $ty {
            batchNumber: header.batch_number,
            prevStateRoot: header.prev_state_root,
            newStateRoot: header.new_state_root,
            publicDataHash: header.public_data_hash,
            intermediateRootsRoot: header.intermediate_roots_root,
            priorityOpsCount: header.priority_ops_count,
            lane: header.lane as u8,
            opCount: header.op_count,
            feeAccount: header.fee_account,
        }
    }};
}

/// Each binding that takes the rollup's `StoredBatch` generates its own struct for it; a
/// [`crate::CommittedBatch`] fills any of them field for field.
macro_rules! binding_stored {
    ($ty:path, $batch:expr) => {{
        let batch = $batch;
        $ty {
            batchNumber: batch.batch_number,
            lane: batch.lane,
            committedAt: batch.committed_at,
            priorityOpsEnd: batch.priority_ops_end,
            withdrawalCount: batch.withdrawal_count,
            headerHash: batch.header_hash,
            newStateRoot: batch.new_state_root,
            withdrawalsRoot: batch.withdrawals_root,
        }
    }};
}
pub(crate) use binding_stored;

/// The dispute game binding's `BatchHeader` struct (for `challenge` and `proveChunk`).
pub fn to_game_sol(header: &BatchHeader) -> dispute::TandemRollup::BatchHeader {
    binding_header!(dispute::TandemRollup::BatchHeader, header)
}

/// The `TandemRollup` binding's `BatchHeader` struct (for `commitBatch`, fraud and validity
/// proofs).
pub fn to_sol(header: &BatchHeader) -> TandemRollup::BatchHeader {
    binding_header!(TandemRollup::BatchHeader, header)
}

/// The same struct as the `StakedRollup` binding names it (for `commitBatchSigned`).
pub fn to_staked_sol(header: &BatchHeader) -> staked::TandemRollup::BatchHeader {
    binding_header!(staked::TandemRollup::BatchHeader, header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{keccak256, B256};
    use alloy::sol_types::SolValue;
    use tandem_chain::Lane;

    /// The chain's header hash is `keccak256(abi.encode(header))` of the contract's struct.
    #[test]
    fn chain_header_hash_equals_the_binding_encoding() {
        let header = BatchHeader {
            batch_number: 12,
            prev_state_root: B256::repeat_byte(0x11),
            new_state_root: B256::repeat_byte(0x22),
            public_data_hash: B256::repeat_byte(0x33),
            intermediate_roots_root: B256::repeat_byte(0x44),
            priority_ops_count: 3,
            lane: Lane::Zk,
            op_count: 9,
            fee_account: 70_000,
        };
        assert_eq!(header.hash(), keccak256(to_sol(&header).abi_encode()));
        assert_eq!(header.hash(), keccak256(to_staked_sol(&header).abi_encode()));
    }
}
