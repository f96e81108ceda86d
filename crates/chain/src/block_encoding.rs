//! The binary form in which a node stores a [`BlockRecord`] (SPEC §9).
//!
//! A block's JSON form (the RPC's) writes every root, hash and input as hex: ~410 bytes per
//! transfer, written on every member at every commit, beside the consensus payload that
//! already holds the same inputs in binary. This form takes ~190 (under half) and costs no
//! per-field allocation to write.
//!
//! Encoding (version 1; all integers big-endian, fixed width):
//!
//! ```text
//! u8  version = 1                      (never `{`, the first byte of the JSON form)
//! u64 number | u64 timestamp | 32-byte prev_state_root | 32-byte state_root | u8 lane (0, 1)
//! u32 op_count | u32 priority_ops
//! u32 n, then n intermediate roots of 32 bytes
//! u32 n, then n bytes of public data
//! u32 n, then n transaction hashes of 32 bytes
//! the inputs exactly as the consensus payload encodes them (u32 count, then each input)
//! u8 0 = no consensus info | u8 1, then u64 height | u32 round | 20-byte proposer | u64 epoch
//! ```
//!
//! The decoder accepts exactly what [`BlockRecord::encode`] writes: an unknown version, lane
//! or flag, a count the bytes cannot hold (refused before allocating), an input the payload
//! decoder refuses, or trailing bytes are each a [`PayloadError`] naming the part and reason.

use alloy::primitives::{Address, B256};

use crate::block::{BlockRecord, ConsensusInfo};
use crate::payload::{encode_inputs, PayloadError, PayloadReason, Reader};
use crate::tx_hash::TxHash;

/// Version byte of the stored block encoding.
pub const BLOCK_RECORD_VERSION: u8 = 1;

const NO_CONSENSUS: u8 = 0;
const WITH_CONSENSUS: u8 = 1;

impl BlockRecord {
    /// The stored encoding (module docs).
    pub fn encode(&self) -> Vec<u8> {
        let roots = self.intermediate_roots.len() * 32;
        let hashes = self.tx_hashes.len() * 32;
        let mut out = Vec::with_capacity(128 + roots + self.public_data.len() + hashes + self.inputs.len() * 128);
        out.push(BLOCK_RECORD_VERSION);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(self.prev_state_root.as_slice());
        out.extend_from_slice(self.state_root.as_slice());
        out.push(self.lane as u8);
        out.extend_from_slice(&self.op_count.to_be_bytes());
        out.extend_from_slice(&self.priority_ops.to_be_bytes());
        out.extend_from_slice(&(self.intermediate_roots.len() as u32).to_be_bytes());
        for root in &self.intermediate_roots {
            out.extend_from_slice(root.as_slice());
        }
        out.extend_from_slice(&(self.public_data.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.public_data);
        out.extend_from_slice(&(self.tx_hashes.len() as u32).to_be_bytes());
        for hash in &self.tx_hashes {
            out.extend_from_slice(hash.as_bytes());
        }
        encode_inputs(&self.inputs, &mut out);
        match &self.consensus {
            None => out.push(NO_CONSENSUS),
            Some(info) => {
                out.push(WITH_CONSENSUS);
                out.extend_from_slice(&info.height.to_be_bytes());
                out.extend_from_slice(&info.round.to_be_bytes());
                out.extend_from_slice(info.proposer.as_slice());
                out.extend_from_slice(&info.epoch.to_be_bytes());
            }
        }
        out
    }

    /// Strict decoding: accepts exactly the bytes [`BlockRecord::encode`] produces.
    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        const TY: &str = "BlockRecord";
        let mut r = Reader::new(bytes);
        r.version(TY, BLOCK_RECORD_VERSION)?;
        let number = u64::from_be_bytes(r.array(TY)?);
        let timestamp = u64::from_be_bytes(r.array(TY)?);
        let prev_state_root = B256::new(r.array(TY)?);
        let state_root = B256::new(r.array(TY)?);
        let lane = r.lane()?;
        let op_count = u32::from_be_bytes(r.array(TY)?);
        let priority_ops = u32::from_be_bytes(r.array(TY)?);
        let roots = r.count(TY, 32)?;
        let intermediate_roots = (0..roots).map(|_| r.array(TY).map(B256::new)).collect::<Result<_, _>>()?;
        let data_len = r.count(TY, 1)?;
        let public_data = r.take(TY, data_len)?.to_vec();
        let hashes = r.count(TY, 32)?;
        let tx_hashes = (0..hashes).map(|_| r.array(TY).map(TxHash)).collect::<Result<_, _>>()?;
        let inputs = r.inputs(TY)?;
        let consensus = match r.u8("ConsensusInfo")? {
            NO_CONSENSUS => None,
            WITH_CONSENSUS => Some(ConsensusInfo {
                height: u64::from_be_bytes(r.array("ConsensusInfo")?),
                round: u32::from_be_bytes(r.array("ConsensusInfo")?),
                proposer: Address::new(r.array("ConsensusInfo")?),
                epoch: u64::from_be_bytes(r.array("ConsensusInfo")?),
            }),
            flag => return Err(PayloadError { ty: "ConsensusInfo", reason: PayloadReason::UnknownTag(flag) }),
        };
        r.finish(TY)?;
        Ok(Self {
            number,
            timestamp,
            prev_state_root,
            state_root,
            intermediate_roots,
            public_data,
            op_count,
            priority_ops,
            tx_hashes,
            lane,
            inputs,
            consensus,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Lane;
    use crate::block::BlockInput;
    use proptest::prelude::*;
    use tandem_types::{
        AccountIndex, DecodeError, ForcedWithdrawalRequest, PackedAmount, PackedFee, PackedPubKey, PackedSignature, SignedTx, TokenId,
        TransferTx, Tx,
    };

    fn transfer(nonce: u32) -> SignedTx {
        SignedTx {
            tx: Tx::Transfer(TransferTx {
                from: AccountIndex::new(3).unwrap(),
                to: PackedPubKey([4; 32]),
                token: TokenId::new(2).unwrap(),
                amount: PackedAmount::new(1_200).unwrap(),
                fee: PackedFee::new(5).unwrap(),
                nonce,
            }),
            signature: PackedSignature([6; 64]),
        }
    }

    fn forced() -> ForcedWithdrawalRequest {
        ForcedWithdrawalRequest::decode(&[0u8; ForcedWithdrawalRequest::SIZE]).unwrap()
    }

    fn sample(consensus: Option<ConsensusInfo>) -> BlockRecord {
        let tx = transfer(1);
        BlockRecord {
            number: 9,
            timestamp: 1_700_000_000,
            prev_state_root: B256::repeat_byte(1),
            state_root: B256::repeat_byte(2),
            intermediate_roots: vec![B256::repeat_byte(3), B256::repeat_byte(4), B256::repeat_byte(5)],
            public_data: vec![7; 45],
            op_count: 3,
            priority_ops: 2,
            tx_hashes: vec![TxHash::of(&tx)],
            lane: Lane::Zk,
            inputs: vec![
                BlockInput::Deposit { queue_index: 4, to: PackedPubKey([8; 32]), token: TokenId::new(1).unwrap(), amount: 77 },
                BlockInput::ForcedWithdrawal { queue_index: 5, request: forced() },
                BlockInput::Tx { encoded: tx },
            ],
            consensus,
        }
    }

    fn info() -> ConsensusInfo {
        ConsensusInfo { height: 12, round: 1, proposer: Address::repeat_byte(0xaa), epoch: 3 }
    }

    fn refused(bytes: &[u8]) -> PayloadError {
        BlockRecord::decode(bytes).unwrap_err()
    }

    #[test]
    fn round_trips_with_and_without_consensus_info() {
        for block in [sample(None), sample(Some(info()))] {
            assert_eq!(BlockRecord::decode(&block.encode()), Ok(block));
        }
        let empty = BlockRecord { intermediate_roots: vec![], public_data: vec![], tx_hashes: vec![], inputs: vec![], ..sample(None) };
        assert_eq!(BlockRecord::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn layout_is_the_documented_one() {
        let block = sample(Some(info()));
        let bytes = block.encode();
        assert_eq!(bytes[0], BLOCK_RECORD_VERSION);
        assert_eq!(&bytes[1..9], &9u64.to_be_bytes());
        assert_eq!(&bytes[9..17], &1_700_000_000u64.to_be_bytes());
        assert_eq!(&bytes[17..49], B256::repeat_byte(1).as_slice());
        assert_eq!(&bytes[49..81], B256::repeat_byte(2).as_slice());
        assert_eq!(bytes[81], 1, "zk lane");
        assert_eq!(&bytes[82..86], &3u32.to_be_bytes());
        assert_eq!(&bytes[86..90], &2u32.to_be_bytes());
        assert_eq!(&bytes[90..94], &3u32.to_be_bytes());
        let data_at = 94 + 3 * 32;
        assert_eq!(&bytes[data_at..data_at + 4], &45u32.to_be_bytes());
        let hashes_at = data_at + 4 + 45;
        assert_eq!(&bytes[hashes_at..hashes_at + 4], &1u32.to_be_bytes());
        let inputs_at = hashes_at + 4 + 32;
        // The inputs are the consensus payload's bytes for them.
        let payload = crate::ConsensusPayload { epoch: 0, timestamp: 0, lane: Lane::Zk, inputs: block.inputs.clone() }.encode();
        let inputs = &payload[18..];
        assert_eq!(&bytes[inputs_at..inputs_at + inputs.len()], inputs);
        let info_at = inputs_at + inputs.len();
        assert_eq!(bytes[info_at], WITH_CONSENSUS);
        assert_eq!(&bytes[info_at + 1..info_at + 9], &12u64.to_be_bytes());
        assert_eq!(&bytes[info_at + 9..info_at + 13], &1u32.to_be_bytes());
        assert_eq!(&bytes[info_at + 13..info_at + 33], Address::repeat_byte(0xaa).as_slice());
        assert_eq!(&bytes[info_at + 33..], &3u64.to_be_bytes());
        // Under half the JSON form for a block of transfers.
        let transfers = BlockRecord {
            intermediate_roots: vec![B256::repeat_byte(3); 100],
            public_data: vec![7; 100 * 15],
            tx_hashes: vec![TxHash::of(&transfer(1)); 100],
            inputs: (0..100).map(|n| BlockInput::Tx { encoded: transfer(n) }).collect(),
            ..sample(None)
        };
        let (binary, json) = (transfers.encode().len(), serde_json::to_vec(&transfers).unwrap().len());
        assert!(binary * 2 < json, "binary {binary} bytes, JSON {json}");
    }

    #[test]
    fn every_invalid_class_is_refused_with_its_reason() {
        let good = sample(Some(info())).encode();
        const B: &str = "BlockRecord";
        assert_eq!(refused(&[]), PayloadError { ty: B, reason: PayloadReason::Truncated { needed: 1, got: 0 } });
        for cut in 1..good.len() {
            assert!(matches!(refused(&good[..cut]).reason, PayloadReason::Truncated { got, .. } if got == cut), "cut {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(refused(&trailing), PayloadError { ty: B, reason: PayloadReason::TrailingBytes(1) });
        assert_eq!(refused(b"{\"number\":1}"), PayloadError { ty: B, reason: PayloadReason::UnknownVersion(b'{') });
        let mut lane = good.clone();
        lane[81] = 2;
        assert_eq!(refused(&lane), PayloadError { ty: "Lane", reason: PayloadReason::UnknownTag(2) });
        let info_at = good.len() - (1 + 8 + 4 + 20 + 8);
        let mut flag = good.clone();
        flag[info_at] = 2;
        assert_eq!(refused(&flag), PayloadError { ty: "ConsensusInfo", reason: PayloadReason::UnknownTag(2) });
        // A forged root count: refused as truncation before anything is allocated for it.
        let mut roots = good.clone();
        roots[90..94].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(refused(&roots), PayloadError { ty: B, reason: PayloadReason::Truncated { .. } }));
        // An input the payload decoder refuses (a token id out of range) is refused here too.
        let inputs_at = 94 + 3 * 32 + 4 + 45 + 4 + 32;
        let mut token = good.clone();
        token[inputs_at + 4 + 1 + 8 + 32] = 32;
        assert!(matches!(
            refused(&token),
            PayloadError { ty: "BlockInput", reason: PayloadReason::Field(DecodeError { ty: "TokenId", .. }) }
        ));
        let mut many = good[..inputs_at].to_vec();
        many.extend_from_slice(&(crate::MAX_PAYLOAD_INPUTS + 1).to_be_bytes());
        assert_eq!(refused(&many), PayloadError { ty: B, reason: PayloadReason::TooManyInputs { count: crate::MAX_PAYLOAD_INPUTS + 1 } });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes never panic the decoder; whatever it accepts re-encodes to the same bytes.
        #[test]
        fn arbitrary_bytes_decode_strictly(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(block) = BlockRecord::decode(&bytes) {
                prop_assert_eq!(block.encode(), bytes);
            }
        }

        /// Every mutation of one byte of a valid record is refused or decodes to a record that
        /// re-encodes to the mutated bytes (no two encodings of one record).
        #[test]
        fn one_byte_changed_is_refused_or_canonical(at in 0usize..400, byte in any::<u8>(), with_info in any::<bool>()) {
            let mut bytes = sample(with_info.then(info)).encode();
            let at = at % bytes.len();
            bytes[at] = byte;
            if let Ok(block) = BlockRecord::decode(&bytes) {
                prop_assert_eq!(block.encode(), bytes);
            }
        }

        /// Random records round-trip.
        #[test]
        fn random_records_round_trip(
            number in any::<u64>(),
            roots in proptest::collection::vec(any::<[u8; 32]>(), 0..8),
            data in proptest::collection::vec(any::<u8>(), 0..100),
            nonces in proptest::collection::vec(any::<u32>(), 0..6),
        ) {
            let block = BlockRecord {
                number,
                intermediate_roots: roots.into_iter().map(B256::new).collect(),
                public_data: data,
                tx_hashes: nonces.iter().map(|&n| TxHash::of(&transfer(n))).collect(),
                inputs: nonces.iter().map(|&n| BlockInput::Tx { encoded: transfer(n) }).collect(),
                ..sample(Some(info()))
            };
            prop_assert_eq!(BlockRecord::decode(&block.encode()), Ok(block));
        }
    }
}
