//! The validity proof's data commitment (SPEC §10), byte level: what a ZK-lane batch's
//! proof commits to. The circuit builds the same bytes in-circuit and takes the hash as a
//! field element; L1 receives the hash as a public input.

use alloy::primitives::B256;
use sha2::{Digest, Sha256};
use tandem_types::Op;

/// Bytes of one op slot in the data record: the largest op encoding (`Deposit`, SPEC §4.2).
/// Each op's compact encoding is right-padded with zeros to this size; an empty slot is all
/// zeros (which is also a padded `Noop`).
pub const ZK_RECORD_BYTES: usize = 52;

/// The bytes the validity proof of a batch commits to: the fee account index (4 bytes,
/// big-endian) then `slots` records of [`ZK_RECORD_BYTES`]. `None` if the batch has more
/// ops than slots.
pub fn zk_public_data(fee_account: u32, ops: &[Op], slots: usize) -> Option<Vec<u8>> {
    if ops.len() > slots {
        return None;
    }
    let mut out = Vec::with_capacity(4 + slots * ZK_RECORD_BYTES);
    out.extend_from_slice(&fee_account.to_be_bytes());
    for op in ops {
        let start = out.len();
        op.encode_into(&mut out);
        out.resize(start + ZK_RECORD_BYTES, 0);
    }
    out.resize(4 + slots * ZK_RECORD_BYTES, 0);
    Some(out)
}

/// The data public input: `sha256(zk_public_data)` with the top 3 bits cleared, so that it
/// is a BN254 field element (big-endian). `None` if the batch has more ops than slots.
pub fn zk_data_hash(fee_account: u32, ops: &[Op], slots: usize) -> Option<B256> {
    let mut digest: [u8; 32] = Sha256::digest(zk_public_data(fee_account, ops, slots)?).into();
    digest[0] &= 0x1f;
    Some(B256::from(digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_types::{AccountIndex, L1Address, PackedFee, TokenId, WithdrawOp};

    #[test]
    fn records_pad_each_op_and_empty_slots() {
        let withdrawal = Op::Withdraw(WithdrawOp {
            from: AccountIndex::new(1).unwrap(),
            token: TokenId::new(1).unwrap(),
            amount: 1001,
            fee: PackedFee::new(0).unwrap(),
            to_l1: L1Address([1; 20]),
        });
        let ops = vec![withdrawal, Op::Noop];
        let data = zk_public_data(7, &ops, 3).unwrap();
        assert_eq!(data.len(), 4 + 3 * ZK_RECORD_BYTES);
        assert_eq!(&data[..4], &[0, 0, 0, 7]);
        assert_eq!(&data[4..4 + 41], withdrawal.encode().as_slice());
        assert!(data[4 + 41..].iter().all(|b| *b == 0));
        assert!(zk_public_data(7, &ops, 1).is_none());
        assert_eq!(zk_data_hash(7, &ops, 3).unwrap()[0] & 0xe0, 0);
    }
}
