//! What the sequencer set's consensus decides at a height, and its one canonical encoding.
//!
//! Encoding (version 2; all integers big-endian, fixed width):
//!
//! ```text
//! u8  version = 2
//! u64 epoch | u64 timestamp | u8 lane (0 optimistic, 1 zk)
//! u32 input count (at most MAX_PAYLOAD_INPUTS), then each input:
//!   u8 tag 0 = deposit: u64 queue index | 32-byte packed owner key | u8 token (< 32) | u128 amount
//!   u8 tag 1 = tx:      u16 length | the signed transaction's SPEC §4.3 encoding (strict)
//!   u8 tag 2 = forced withdrawal: u64 queue index | the request's SPEC §4.5 wire form (144 bytes, strict)
//! ```
//!
//! Every value has exactly one encoding, and the decoder accepts only it: it refuses empty,
//! oversized ([`MAX_PAYLOAD_BYTES`]) or truncated input, an unknown version, lane or input
//! tag, more than [`MAX_PAYLOAD_INPUTS`] inputs, a transaction that does not decode strictly
//! (non-canonical packed amounts included) or does not fill its length, and trailing bytes.

use tandem_types::{DecodeError, ForcedWithdrawalRequest, L1Deposit, PackedPubKey, SignedTx, TokenId};

use crate::batch::Lane;
use crate::block::BlockInput;

/// Version byte of the encoding (version 1 was JSON and is refused).
pub const PAYLOAD_VERSION: u8 = 2;
/// Largest encoded payload a member accepts.
pub const MAX_PAYLOAD_BYTES: usize = 3 * 1024 * 1024;
/// Most inputs in one payload.
pub const MAX_PAYLOAD_INPUTS: u32 = 65_536;

const TAG_DEPOSIT: u8 = 0;
const TAG_TX: u8 = 1;
const TAG_FORCED: u8 = 2;
/// Encoded size of a deposit input after its tag.
const DEPOSIT_BYTES: usize = 8 + 32 + 1 + 16;
/// Smallest encoded input (a tag and an empty length prefix), to bound allocations.
const MIN_INPUT_BYTES: usize = 3;

/// What consensus decides at a height: the L1 epoch the proposer saw, a timestamp, the lane
/// and the block's inputs. No inputs = a height with no L2 block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusPayload {
    /// L1 staking epoch (its set signs this block's batch and decides the next height).
    pub epoch: u64,
    /// Unix seconds from the proposer's clock.
    pub timestamp: u64,
    /// Finality lane of the block's batch.
    pub lane: Lane,
    /// Deposits in queue order, then transactions.
    pub inputs: Vec<BlockInput>,
}

/// Why bytes are not a [`ConsensusPayload`] or a stored [`crate::BlockRecord`]
/// ([`crate::block_encoding`]): `ty` names the part being decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {ty}: {reason}")]
pub struct PayloadError {
    /// The part that failed: `ConsensusPayload`, `BlockRecord`, `ConsensusInfo`, `Lane` or
    /// `BlockInput`.
    pub ty: &'static str,
    /// What was wrong.
    pub reason: PayloadReason,
}

/// The reason a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadReason {
    /// Fewer bytes than the encoding needs.
    #[error("truncated: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes needed up to the end of the field being read.
        needed: usize,
        /// Bytes there were.
        got: usize,
    },
    /// Bytes left after a complete payload.
    #[error("{0} trailing bytes after a complete value")]
    TrailingBytes(usize),
    /// A version this node does not know.
    #[error("unknown version {0}")]
    UnknownVersion(u8),
    /// A lane or input tag the version does not define.
    #[error("unknown tag {0:#04x}")]
    UnknownTag(u8),
    /// More bytes than [`MAX_PAYLOAD_BYTES`].
    #[error("{len} bytes exceed the {MAX_PAYLOAD_BYTES}-byte limit")]
    TooLarge {
        /// The input's length.
        len: usize,
    },
    /// More inputs than [`MAX_PAYLOAD_INPUTS`].
    #[error("{count} inputs exceed the {MAX_PAYLOAD_INPUTS}-input limit")]
    TooManyInputs {
        /// The declared count.
        count: u32,
    },
    /// A field does not decode as its type (a token id out of range, a signed transaction
    /// that is malformed or non-canonical, or that does not fill its declared length).
    #[error("{0}")]
    Field(#[source] DecodeError),
}

impl ConsensusPayload {
    /// The canonical encoding (module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 8 + 8 + 1 + 4 + self.inputs.len() * (1 + DEPOSIT_BYTES.max(2 + SignedTx::TRANSFER_LEN)));
        out.push(PAYLOAD_VERSION);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.push(self.lane as u8);
        encode_inputs(&self.inputs, &mut out);
        out
    }

    /// Strict decoding: accepts exactly the bytes [`ConsensusPayload::encode`] produces.
    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        const TY: &str = "ConsensusPayload";
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError { ty: TY, reason: PayloadReason::TooLarge { len: bytes.len() } });
        }
        let mut r = Reader::new(bytes);
        r.version(TY, PAYLOAD_VERSION)?;
        let epoch = u64::from_be_bytes(r.array(TY)?);
        let timestamp = u64::from_be_bytes(r.array(TY)?);
        let lane = r.lane()?;
        let inputs = r.inputs(TY)?;
        r.finish(TY)?;
        Ok(Self { epoch, timestamp, lane, inputs })
    }
}

/// Appends `inputs` as the payload encodes them: a `u32` count, then each input.
pub(crate) fn encode_inputs(inputs: &[BlockInput], out: &mut Vec<u8>) {
    out.extend_from_slice(&(inputs.len() as u32).to_be_bytes());
    for input in inputs {
        match input {
            BlockInput::Deposit { queue_index, to, token, amount } => {
                out.push(TAG_DEPOSIT);
                out.extend_from_slice(&queue_index.to_be_bytes());
                out.extend_from_slice(&to.0);
                out.push(token.get());
                out.extend_from_slice(&amount.to_be_bytes());
            }
            BlockInput::ForcedWithdrawal { queue_index, request } => {
                out.push(TAG_FORCED);
                out.extend_from_slice(&queue_index.to_be_bytes());
                out.extend_from_slice(&request.encode());
            }
            BlockInput::Tx { encoded } => {
                let bytes = encoded.encode();
                out.push(TAG_TX);
                // A signed transaction is at most ~120 bytes: its length fits a u16.
                out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
                out.extend_from_slice(&bytes);
            }
        }
    }
}

/// A cursor over bytes being decoded strictly: every read names the type it decodes, and a
/// read past the end is [`PayloadReason::Truncated`].
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Reads the version byte; anything but `expected` is [`PayloadReason::UnknownVersion`].
    pub(crate) fn version(&mut self, ty: &'static str, expected: u8) -> Result<(), PayloadError> {
        match self.u8(ty)? {
            version if version == expected => Ok(()),
            version => Err(PayloadError { ty, reason: PayloadReason::UnknownVersion(version) }),
        }
    }

    /// Reads a lane code (0 optimistic, 1 zk); another is [`PayloadReason::UnknownTag`].
    pub(crate) fn lane(&mut self) -> Result<Lane, PayloadError> {
        let code = self.u8("Lane")?;
        Lane::from_code(code).ok_or(PayloadError { ty: "Lane", reason: PayloadReason::UnknownTag(code) })
    }

    /// Refuses bytes left after a complete value.
    pub(crate) fn finish(&self, ty: &'static str) -> Result<(), PayloadError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(PayloadError { ty, reason: PayloadReason::TrailingBytes(n) }),
        }
    }

    /// A `u32` count of items of at least `min_bytes` each, refused as truncation when the bytes
    /// left cannot hold them (so a forged count allocates nothing).
    pub(crate) fn count(&mut self, ty: &'static str, min_bytes: usize) -> Result<usize, PayloadError> {
        let count = u32::from_be_bytes(self.array(ty)?) as usize;
        let needed = count.saturating_mul(min_bytes);
        if needed > self.remaining() {
            return Err(PayloadError {
                ty,
                reason: PayloadReason::Truncated { needed: self.pos.saturating_add(needed), got: self.bytes.len() },
            });
        }
        Ok(count)
    }

    /// Inputs as [`encode_inputs`] writes them (at most [`MAX_PAYLOAD_INPUTS`]).
    pub(crate) fn inputs(&mut self, ty: &'static str) -> Result<Vec<BlockInput>, PayloadError> {
        let count = u32::from_be_bytes(self.array(ty)?);
        if count > MAX_PAYLOAD_INPUTS {
            return Err(PayloadError { ty, reason: PayloadReason::TooManyInputs { count } });
        }
        let mut inputs = Vec::with_capacity((count as usize).min(self.remaining() / MIN_INPUT_BYTES));
        for _ in 0..count {
            inputs.push(self.input()?);
        }
        Ok(inputs)
    }

    pub(crate) fn take(&mut self, ty: &'static str, n: usize) -> Result<&'a [u8], PayloadError> {
        let end = self.pos + n;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(PayloadError { ty, reason: PayloadReason::Truncated { needed: end, got: self.bytes.len() } })?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(&mut self, ty: &'static str) -> Result<[u8; N], PayloadError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(ty, N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, ty: &'static str) -> Result<u8, PayloadError> {
        Ok(self.array::<1>(ty)?[0])
    }

    fn input(&mut self) -> Result<BlockInput, PayloadError> {
        const TY: &str = "BlockInput";
        let field = |e: DecodeError| PayloadError { ty: TY, reason: PayloadReason::Field(e) };
        match self.u8(TY)? {
            TAG_DEPOSIT => {
                let queue_index = u64::from_be_bytes(self.array(TY)?);
                let to = PackedPubKey(self.array(TY)?);
                let token = TokenId::new(self.u8(TY)? as u32).map_err(field)?;
                let amount = u128::from_be_bytes(self.array(TY)?);
                Ok(BlockInput::deposit(queue_index, &L1Deposit { to, token, amount }))
            }
            TAG_TX => {
                let len = u16::from_be_bytes(self.array(TY)?) as usize;
                let encoded = SignedTx::decode(self.take(TY, len)?).map_err(field)?;
                Ok(BlockInput::Tx { encoded })
            }
            TAG_FORCED => {
                let queue_index = u64::from_be_bytes(self.array(TY)?);
                let request = ForcedWithdrawalRequest::decode(self.take(TY, ForcedWithdrawalRequest::SIZE)?).map_err(field)?;
                Ok(BlockInput::ForcedWithdrawal { queue_index, request })
            }
            tag => Err(PayloadError { ty: TY, reason: PayloadReason::UnknownTag(tag) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tandem_types::{AccountIndex, DecodeReason, L1Address, PackedAmount, PackedFee, PackedSignature, TransferTx, Tx, WithdrawTx};

    fn transfer(amount: u128, nonce: u32) -> SignedTx {
        SignedTx {
            tx: Tx::Transfer(TransferTx {
                from: AccountIndex::new(3).unwrap(),
                to: PackedPubKey([4; 32]),
                token: TokenId::new(2).unwrap(),
                amount: PackedAmount::new(amount).unwrap(),
                fee: PackedFee::new(5).unwrap(),
                nonce,
            }),
            signature: PackedSignature([6; 64]),
        }
    }

    fn sample() -> ConsensusPayload {
        ConsensusPayload {
            epoch: 3,
            timestamp: 1_700_000_000,
            lane: Lane::Optimistic,
            inputs: vec![
                BlockInput::Deposit { queue_index: 0, to: PackedPubKey([7; 32]), token: TokenId::new(0).unwrap(), amount: 5 },
                BlockInput::Tx { encoded: transfer(1_200, 1) },
            ],
        }
    }

    fn err(ty: &'static str, reason: PayloadReason) -> Result<ConsensusPayload, PayloadError> {
        Err(PayloadError { ty, reason })
    }

    #[test]
    fn layout_is_the_documented_one() {
        let bytes = sample().encode();
        assert_eq!(bytes[0], PAYLOAD_VERSION);
        assert_eq!(&bytes[1..9], &3u64.to_be_bytes());
        assert_eq!(&bytes[9..17], &1_700_000_000u64.to_be_bytes());
        assert_eq!(bytes[17], 0);
        assert_eq!(&bytes[18..22], &2u32.to_be_bytes());
        assert_eq!(bytes[22], TAG_DEPOSIT);
        let tx_at = 23 + DEPOSIT_BYTES;
        assert_eq!(&bytes[tx_at..tx_at + 3], &[TAG_TX, 0, SignedTx::TRANSFER_LEN as u8]);
        assert_eq!(&bytes[tx_at + 3..], transfer(1_200, 1).encode().as_slice());
        assert_eq!(ConsensusPayload::decode(&bytes), Ok(sample()));
    }

    #[test]
    fn every_invalid_class_is_refused_with_its_reason() {
        let good = sample().encode();
        const P: &str = "ConsensusPayload";
        assert_eq!(ConsensusPayload::decode(&[]), err(P, PayloadReason::Truncated { needed: 1, got: 0 }));
        for cut in 1..good.len() {
            let refused = ConsensusPayload::decode(&good[..cut]).unwrap_err();
            assert!(matches!(refused.reason, PayloadReason::Truncated { got, .. } if got == cut), "cut {cut}: {refused}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(ConsensusPayload::decode(&trailing), err(P, PayloadReason::TrailingBytes(1)));
        let mut old = good.clone();
        old[0] = 1;
        assert_eq!(ConsensusPayload::decode(&old), err(P, PayloadReason::UnknownVersion(1)));
        let mut lane = good.clone();
        lane[17] = 2;
        assert_eq!(ConsensusPayload::decode(&lane), err("Lane", PayloadReason::UnknownTag(2)));
        let mut tag = good.clone();
        tag[22] = 7;
        assert_eq!(ConsensusPayload::decode(&tag), err("BlockInput", PayloadReason::UnknownTag(7)));
        let huge = vec![PAYLOAD_VERSION; MAX_PAYLOAD_BYTES + 1];
        assert_eq!(ConsensusPayload::decode(&huge), err(P, PayloadReason::TooLarge { len: MAX_PAYLOAD_BYTES + 1 }));
        let mut many = good[..18].to_vec();
        many.extend_from_slice(&(MAX_PAYLOAD_INPUTS + 1).to_be_bytes());
        assert_eq!(ConsensusPayload::decode(&many), err(P, PayloadReason::TooManyInputs { count: MAX_PAYLOAD_INPUTS + 1 }));
        // A declared count the bytes do not hold is truncation, without allocating for it.
        let mut short = good[..18].to_vec();
        short.extend_from_slice(&MAX_PAYLOAD_INPUTS.to_be_bytes());
        assert!(matches!(ConsensusPayload::decode(&short).unwrap_err().reason, PayloadReason::Truncated { .. }));
        // A token id out of range.
        let mut token = good.clone();
        token[23 + 8 + 32] = 32;
        assert!(matches!(ConsensusPayload::decode(&token).unwrap_err().reason, PayloadReason::Field(e) if e.ty == "TokenId"));
        // A non-canonical packed amount inside a transaction (12·10^2 written as 120·10^1).
        let tx_at = 23 + DEPOSIT_BYTES + 3;
        let mut non_canonical = good.clone();
        non_canonical[tx_at + 1 + 3 + 32..tx_at + 1 + 3 + 32 + 4].copy_from_slice(&(1u32 << 27 | 120).to_be_bytes());
        assert!(matches!(
            ConsensusPayload::decode(&non_canonical).unwrap_err().reason,
            PayloadReason::Field(DecodeError { reason: DecodeReason::NonCanonical { .. }, .. })
        ));
        // A transaction length that does not match its encoding (shorter: truncated tx;
        // longer: the tx's own trailing bytes).
        let mut short_tx = good.clone();
        short_tx[tx_at - 1] -= 1;
        short_tx.pop();
        assert!(matches!(
            ConsensusPayload::decode(&short_tx).unwrap_err().reason,
            PayloadReason::Field(DecodeError { ty: "SignedTx", .. })
        ));
        let mut long_tx = good;
        long_tx[tx_at - 1] += 1;
        long_tx.push(0);
        assert!(matches!(
            ConsensusPayload::decode(&long_tx).unwrap_err().reason,
            PayloadReason::Field(DecodeError { reason: DecodeReason::TrailingBytes(1), .. })
        ));
    }

    /// A forced-withdrawal input: its layout after the tag, every cut of it refused as
    /// truncation, a token id ≥ 32 and a signature word ≥ p refused as field errors.
    #[test]
    fn forced_withdrawal_input_layout_and_refusals() {
        let request = ForcedWithdrawalRequest {
            account: AccountIndex::new(0x0a0b0c).unwrap(),
            token: TokenId::new(3).unwrap(),
            to_l1: L1Address([0x11; 20]),
            amount: 5,
            request_id: 9,
            r8x: [1; 32],
            r8y: [2; 32],
            s: [3; 32],
        };
        let payload = ConsensusPayload {
            epoch: 1,
            timestamp: 2,
            lane: Lane::Optimistic,
            inputs: vec![BlockInput::ForcedWithdrawal { queue_index: 7, request }],
        };
        let bytes = payload.encode();
        assert_eq!(bytes[22], TAG_FORCED);
        assert_eq!(&bytes[23..31], &7u64.to_be_bytes());
        assert_eq!(&bytes[31..], request.encode().as_slice());
        assert_eq!(bytes.len(), 31 + ForcedWithdrawalRequest::SIZE);
        assert_eq!(ConsensusPayload::decode(&bytes), Ok(payload));
        for cut in 23..bytes.len() {
            let refused = ConsensusPayload::decode(&bytes[..cut]).unwrap_err();
            assert!(matches!(refused.reason, PayloadReason::Truncated { .. }), "cut {cut}: {refused}");
        }
        let mut token = bytes.clone();
        token[31 + 3] = 32;
        assert!(matches!(ConsensusPayload::decode(&token).unwrap_err().reason, PayloadReason::Field(e) if e.ty == "TokenId"));
        let mut word = bytes.clone();
        let s_at = bytes.len() - 32;
        word[s_at..].copy_from_slice(&[0xff; 32]);
        assert!(matches!(
            ConsensusPayload::decode(&word).unwrap_err().reason,
            PayloadReason::Field(DecodeError { ty: "ForcedWithdrawalRequest", reason: DecodeReason::OutOfRange(_) })
        ));
    }

    fn arb_input() -> impl Strategy<Value = BlockInput> {
        prop_oneof![
            (any::<u64>(), any::<[u8; 32]>(), 0u32..32, any::<u128>()).prop_map(|(q, to, token, amount)| BlockInput::Deposit {
                queue_index: q,
                to: PackedPubKey(to),
                token: TokenId::new(token).unwrap(),
                amount
            }),
            (0u128..100_000_000, 0u32..20, any::<u32>()).prop_map(|(m, e, n)| BlockInput::Tx { encoded: transfer(m * 10u128.pow(e), n) }),
            (any::<u64>(), 0u32..(1 << 24), any::<u128>(), any::<u64>(), 0u8..0x30).prop_map(|(q, account, amount, id, top)| {
                BlockInput::ForcedWithdrawal {
                    queue_index: q,
                    request: ForcedWithdrawalRequest {
                        account: AccountIndex::new(account).unwrap(),
                        token: TokenId::new(account % 32).unwrap(),
                        to_l1: L1Address([top; 20]),
                        amount,
                        request_id: id,
                        r8x: [top; 32],
                        r8y: [top / 2; 32],
                        s: [top / 3; 32],
                    },
                }
            }),
            (any::<u128>(), any::<[u8; 20]>(), any::<u32>()).prop_map(|(amount, to, nonce)| BlockInput::Tx {
                encoded: SignedTx {
                    tx: Tx::Withdraw(WithdrawTx {
                        from: AccountIndex::new(1).unwrap(),
                        to_l1: L1Address(to),
                        token: TokenId::new(1).unwrap(),
                        amount,
                        fee: PackedFee::new(0).unwrap(),
                        nonce,
                    }),
                    signature: PackedSignature([1; 64]),
                }
            }),
        ]
    }

    fn arb_payload() -> impl Strategy<Value = ConsensusPayload> {
        (any::<u64>(), any::<u64>(), any::<bool>(), proptest::collection::vec(arb_input(), 0..12)).prop_map(
            |(epoch, timestamp, zk, inputs)| ConsensusPayload {
                epoch,
                timestamp,
                lane: if zk { Lane::Zk } else { Lane::Optimistic },
                inputs,
            },
        )
    }

    proptest! {
        #[test]
        fn round_trips(payload in arb_payload()) {
            let bytes = payload.encode();
            prop_assert_eq!(ConsensusPayload::decode(&bytes), Ok(payload));
        }

        /// Arbitrary bytes never panic, and whatever decodes re-encodes to the same bytes
        /// (one encoding per value).
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(p) = ConsensusPayload::decode(&bytes) {
                prop_assert_eq!(p.encode(), bytes);
            }
        }

        /// Mutations of valid encodings (a byte changed, bytes cut or appended) never panic and
        /// never decode to a value with another encoding.
        #[test]
        fn mutated_bytes_never_panic(payload in arb_payload(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
            let good = payload.encode();
            let mut flipped = good.clone();
            let i = at % flipped.len();
            flipped[i] = byte;
            let mut extended = good.clone();
            extended.push(byte);
            for bytes in [flipped, good[..cut % (good.len() + 1)].to_vec(), extended] {
                if let Ok(p) = ConsensusPayload::decode(&bytes) {
                    prop_assert_eq!(p.encode(), bytes);
                }
            }
        }
    }
}
