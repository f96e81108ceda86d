//! `Ledger::apply_public_batch` (restore from L1's public data, no signatures) against the
//! signed path: on random valid batches both give the same ops, roots, fees and accounts;
//! public ops that break a rule are refused atomically, naming the op.

mod common;

use common::*;
use proptest::prelude::*;
use tandem_state::{Ledger, StfError};
use tandem_types::*;

const KEYS: u8 = 7;
const TOKENS: u32 = 3;

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => (0..KEYS, 0..TOKENS, 1u128..1_000_000).prop_map(|(key, token, amount)| Action::Deposit { key, token, amount }),
        3 => (0..KEYS, 0..KEYS, 0..TOKENS, 0u64..300_000, 0u8..8)
            .prop_map(|(from, to, token, amount, fee)| Action::Transfer { from, to, token, amount, fee }),
        1 => (0..KEYS, 0..TOKENS, 0u64..300_000, 0u8..8).prop_map(|(from, token, amount, fee)| Action::Withdraw { from, token, amount, fee }),
    ]
}

/// Every account as (index, leaf hash, nonce), sorted: equal states have equal lists.
fn accounts(ledger: &Ledger) -> Vec<(u32, tandem_crypto::Fr, Nonce)> {
    let mut all: Vec<_> = ledger.accounts().map(|(i, a)| (i.get(), a.leaf_hash(), a.nonce)).collect();
    all.sort_by_key(|(i, _, _)| *i);
    all
}

fn funded_chunked(chunk_size: Option<std::num::NonZeroUsize>) -> Ledger {
    let mut ledger = genesis_chunked(6, chunk_size);
    for k in 1..4 {
        ledger.apply(deposit(&key(k), 0, 2_000_000), idx(0)).unwrap();
        ledger.apply(deposit(&key(k), 1, 2_000_000), idx(0)).unwrap();
    }
    ledger
}

fn funded() -> Ledger {
    funded_chunked(None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Several consecutive batches (keys 4-6 start without accounts, so transfers to them
    /// are `TransferToNew`): replaying each batch's public ops gives apply_batch's outcome.
    #[test]
    fn public_batches_give_the_signed_path_outcome(
        batches in prop::collection::vec(prop::collection::vec(action(), 1..10), 1..5),
        chunk in chunk_size(),
    ) {
        let mut signed = funded_chunked(chunk);
        let mut public = signed.clone();
        for actions in &batches {
            // Only ops valid in sequence: build them on a scratch copy.
            let mut scratch = signed.clone();
            let mut ops = Vec::new();
            for action in actions {
                if let Some(op) = to_op(&scratch, action, CHAIN_ID) {
                    if scratch.apply(op, idx(0)).is_ok() {
                        ops.push(op);
                    }
                }
            }
            let expected = signed.apply_batch(&ops, idx(0)).unwrap();
            let got = public.apply_public_batch(&expected.ops, idx(0)).unwrap();
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(public.root(), signed.root());
            prop_assert_eq!(public.batches_applied(), signed.batches_applied());
            prop_assert_eq!(accounts(&public), accounts(&signed));
            // Later batches resolve keys the same way in both ledgers.
            for k in 0..KEYS {
                let packed = key(k).public_key().pack();
                prop_assert_eq!(public.index_of(&packed), signed.index_of(&packed));
            }
        }
        prop_assert_eq!(public.root_from_scratch(), public.root());
    }
}

#[test]
fn an_overdraft_in_public_data_is_refused_naming_the_op_and_changes_nothing() {
    let mut ledger = funded();
    let before = ledger.root();
    let ok = Op::Transfer(TransferOp {
        from: idx(1),
        to: idx(2),
        token: token(0),
        amount: PackedAmount::new(1_000).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    });
    let overdraft = Op::Withdraw(WithdrawOp {
        from: idx(3),
        token: token(0),
        amount: 2_000_001,
        fee: PackedFee::new(0).unwrap(),
        to_l1: L1Address([1; 20]),
    });
    let e = ledger.apply_public_batch(&[ok, overdraft], idx(0)).unwrap_err();
    assert_eq!(e.index, 1);
    assert!(matches!(e.error, StfError::InsufficientBalance { .. }), "{}", e.error);
    assert_eq!(ledger.root(), before);
}

#[test]
fn a_deposit_to_an_account_of_another_key_is_refused() {
    let mut ledger = funded();
    let op = Op::Deposit(DepositOp { to: idx(1), pubkey: key(5).public_key().pack(), token: token(0), amount: 5 });
    let e = ledger.apply_public_batch(&[op], idx(0)).unwrap_err();
    assert_eq!((e.index, e.error), (0, StfError::PubKeyMismatch { index: idx(1) }));
}

#[test]
fn a_transfer_to_new_over_an_existing_account_is_refused() {
    let mut ledger = funded();
    let op = Op::TransferToNew(TransferToNewOp {
        from: idx(1),
        to: idx(2),
        to_pubkey: key(5).public_key().pack(),
        token: token(0),
        amount: PackedAmount::new(1).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    });
    let e = ledger.apply_public_batch(&[op], idx(0)).unwrap_err();
    assert_eq!((e.index, e.error), (0, StfError::AccountExists(idx(2))));
}

#[test]
fn a_noop_keeps_the_root_and_fees_settle_after_the_last_op() {
    let mut ledger = funded();
    let before = ledger.root();
    let fee_before = ledger.account(idx(0)).unwrap().balance(token(1));
    let transfer = Op::Transfer(TransferOp {
        from: idx(1),
        to: idx(2),
        token: token(1),
        amount: PackedAmount::new(10).unwrap(),
        fee: PackedFee::new(3).unwrap(),
    });
    let outcome = ledger.apply_public_batch(&[Op::Noop, transfer, Op::Noop], idx(0)).unwrap();
    assert_eq!(outcome.intermediate_roots[0], before);
    assert_eq!(outcome.intermediate_roots[2], outcome.root, "the last root includes the fee settlement");
    assert_ne!(outcome.intermediate_roots[1], outcome.root, "the fee settlement changes the fee account");
    assert_eq!(ledger.account(idx(0)).unwrap().balance(token(1)), fee_before + 3);
    assert_eq!(ledger.account(idx(1)).unwrap().nonce, 1);
}
