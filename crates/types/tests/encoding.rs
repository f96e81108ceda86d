//! Round-trip, size and invalid-input tests of the op and transaction encodings, plus
//! never-panic fuzzing of every decoder over arbitrary bytes.

use proptest::prelude::*;
use tandem_types::*;

fn idx(i: u32) -> AccountIndex {
    AccountIndex::new(i).unwrap()
}

fn token(t: u32) -> TokenId {
    TokenId::new(t).unwrap()
}

fn arb_op() -> impl Strategy<Value = Op> {
    let index = (0..=AccountIndex::MAX).prop_map(idx);
    let tok = (0..MAX_TOKENS).prop_map(token);
    let amount = (0u64..(1 << 27), 0u32..=25).prop_map(|(m, e)| PackedAmount::new(m as u128 * 10u128.pow(e)).unwrap());
    let fee = (0u128..=7, 0u32..=25).prop_map(|(m, e)| PackedFee::new(m * 10u128.pow(e)).unwrap());
    prop_oneof![
        Just(Op::Noop),
        (index.clone(), any::<[u8; 32]>(), tok.clone(), any::<u128>())
            .prop_map(|(to, pk, token, amount)| { Op::Deposit(DepositOp { to, pubkey: PackedPubKey(pk), token, amount }) }),
        (index.clone(), index.clone(), tok.clone(), amount.clone(), fee.clone())
            .prop_map(|(from, to, token, amount, fee)| Op::Transfer(TransferOp { from, to, token, amount, fee })),
        (index.clone(), index.clone(), any::<[u8; 32]>(), tok.clone(), amount, fee.clone()).prop_map(
            |(from, to, pk, token, amount, fee)| Op::TransferToNew(TransferToNewOp {
                from,
                to,
                to_pubkey: PackedPubKey(pk),
                token,
                amount,
                fee
            })
        ),
        (index.clone(), tok.clone(), any::<u128>(), fee, any::<[u8; 20]>())
            .prop_map(|(from, token, amount, fee, a)| { Op::Withdraw(WithdrawOp { from, token, amount, fee, to_l1: L1Address(a) }) }),
        // Request hashes are field elements: the top byte stays below p's (0x30).
        (index, tok, any::<u128>(), 0u8..0x30, any::<[u8; 31]>()).prop_map(|(account, token, withdrawn, top, rest)| {
            let mut request_hash = [top; 32];
            request_hash[1..].copy_from_slice(&rest);
            Op::ForcedWithdraw(ForcedWithdrawOp { account, token, withdrawn, request_hash })
        }),
    ]
}

#[test]
fn transfer_between_existing_accounts_takes_twelve_bytes() {
    let op = Op::Transfer(TransferOp {
        from: idx(1),
        to: idx(2),
        token: TokenId::ETH,
        amount: PackedAmount::new(10u128.pow(18)).unwrap(),
        fee: PackedFee::new(10u128.pow(14)).unwrap(),
    });
    assert_eq!(op.encode().len(), 12);
    assert_eq!(OpType::Transfer.encoded_len(), 12);
}

#[test]
fn op_sizes_are_the_ones_in_spec() {
    assert_eq!(OpType::Noop.encoded_len(), 1);
    assert_eq!(OpType::Deposit.encoded_len(), 52);
    assert_eq!(OpType::Transfer.encoded_len(), 12);
    assert_eq!(OpType::TransferToNew.encoded_len(), 44);
    assert_eq!(OpType::Withdraw.encoded_len(), 41);
    assert_eq!(OpType::ForcedWithdraw.encoded_len(), 52);
    assert_eq!(ForcedWithdrawalRequest::SIZE, 144);
    assert_eq!(SignedTx::TRANSFER_LEN, 109);
    assert_eq!(SignedTx::WITHDRAW_LEN, 109);
}

#[test]
fn unknown_op_type_is_refused() {
    for code in 6u8..8 {
        let err = Op::decode(&[code << 5]).unwrap_err();
        assert_eq!(err.ty, "Op");
        assert_eq!(err.reason, DecodeReason::UnknownTag(code), "{err}");
    }
}

#[test]
fn forced_withdraw_with_request_hash_not_below_p_is_refused() {
    let mut bytes = Op::ForcedWithdraw(ForcedWithdrawOp { account: idx(3), token: token(1), withdrawn: 9, request_hash: [0; 32] }).encode();
    assert_eq!(bytes.len(), 52);
    assert_eq!(bytes[0], 0xa1);
    bytes[20..].copy_from_slice(&FIELD_MODULUS_BE);
    let err = Op::decode(&bytes).unwrap_err();
    assert!(matches!(err.reason, DecodeReason::OutOfRange(_)), "{err}");
}

#[test]
fn noop_with_token_bits_is_refused() {
    let err = Op::decode(&[0x01]).unwrap_err();
    assert!(matches!(err.reason, DecodeReason::ReservedBitsSet(_)), "{err}");
}

#[test]
fn truncated_and_trailing_ops_are_refused() {
    let op =
        Op::Withdraw(WithdrawOp { from: idx(7), token: token(3), amount: 5, fee: PackedFee::new(1).unwrap(), to_l1: L1Address([9; 20]) });
    let bytes = op.encode();
    for cut in 0..bytes.len() {
        let err = Op::decode(&bytes[..cut]).unwrap_err();
        assert!(matches!(err.reason, DecodeReason::Truncated { needed: 41, .. } | DecodeReason::Truncated { needed: 1, got: 0 }), "{err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Op::decode(&longer).unwrap_err().reason, DecodeReason::TrailingBytes(1));
}

#[test]
fn non_canonical_amount_inside_an_op_is_refused() {
    let mut bytes = Op::Transfer(TransferOp {
        from: idx(1),
        to: idx(2),
        token: TokenId::ETH,
        amount: PackedAmount::new(1).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    })
    .encode();
    // amount bytes 7..11: mantissa 10, exponent 0 (canonical form is mantissa 1, exponent 1)
    bytes[7..11].copy_from_slice(&10u32.to_be_bytes());
    let err = Op::decode(&bytes).unwrap_err();
    assert_eq!(err.ty, "PackedAmount");
    assert!(matches!(err.reason, DecodeReason::NonCanonical { .. }));
}

#[test]
fn signed_tx_with_unknown_type_or_wrong_length_is_refused() {
    assert!(matches!(SignedTx::decode(&[]).unwrap_err().reason, DecodeReason::Truncated { .. }));
    assert_eq!(SignedTx::decode(&[0x20]).unwrap_err().reason, DecodeReason::UnknownTag(1));
    let tx = SignedTx {
        tx: Tx::Transfer(TransferTx {
            from: idx(1),
            to: PackedPubKey([4; 32]),
            token: TokenId::ETH,
            amount: PackedAmount::new(5).unwrap(),
            fee: PackedFee::new(1).unwrap(),
            nonce: 3,
        }),
        signature: PackedSignature([7; 64]),
    };
    let bytes = tx.encode();
    assert_eq!(SignedTx::decode(&bytes).unwrap(), tx);
    assert!(matches!(SignedTx::decode(&bytes[..108]).unwrap_err().reason, DecodeReason::Truncated { needed: 109, .. }));
    let mut longer = bytes;
    longer.extend_from_slice(&[0, 0]);
    assert_eq!(SignedTx::decode(&longer).unwrap_err().reason, DecodeReason::TrailingBytes(2));
}

proptest! {
    #[test]
    fn ops_round_trip(op in arb_op()) {
        let bytes = op.encode();
        prop_assert_eq!(bytes.len(), op.op_type().encoded_len());
        prop_assert_eq!(Op::decode(&bytes).unwrap(), op);
    }

    #[test]
    fn public_data_round_trips(ops in prop::collection::vec(arb_op(), 0..20)) {
        let bytes = encode_public_data(&ops);
        prop_assert_eq!(decode_public_data(&bytes).unwrap(), ops);
    }

    #[test]
    fn signed_tx_round_trips(op in arb_op(), nonce in any::<u32>(), sig in prop::collection::vec(any::<u8>(), 64)) {
        let signature = PackedSignature(sig.try_into().unwrap());
        let tx = match op {
            Op::Transfer(t) => Tx::Transfer(TransferTx { from: t.from, to: PackedPubKey([1; 32]), token: t.token, amount: t.amount, fee: t.fee, nonce }),
            Op::Withdraw(w) => Tx::Withdraw(WithdrawTx { from: w.from, to_l1: w.to_l1, token: w.token, amount: w.amount, fee: w.fee, nonce }),
            _ => return Ok(()),
        };
        let signed = SignedTx { tx, signature };
        prop_assert_eq!(SignedTx::decode(&signed.encode()).unwrap(), signed);
    }

    /// Fuzz: no byte string makes a decoder panic, and whatever decodes re-encodes to the
    /// same bytes (one encoding per value).
    #[test]
    fn decoders_never_panic_and_accept_only_canonical_bytes(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
        if let Ok(op) = Op::decode(&bytes) {
            prop_assert_eq!(op.encode(), bytes.clone());
        }
        if let Ok(ops) = decode_public_data(&bytes) {
            prop_assert_eq!(encode_public_data(&ops), bytes.clone());
        }
        if let Ok(tx) = SignedTx::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes.clone());
        }
        if let Ok(request) = ForcedWithdrawalRequest::decode(&bytes) {
            prop_assert_eq!(request.encode().to_vec(), bytes.clone());
        }
    }

    /// Fuzz seeded from valid encodings with one byte flipped: still no panic, and still
    /// canonical when accepted.
    #[test]
    fn mutated_valid_encodings_never_panic(op in arb_op(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = op.encode();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(decoded) = Op::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }
}
