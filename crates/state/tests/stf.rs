//! The state transition function: each rule, each error, and batch atomicity.

mod common;

use common::*;
use tandem_state::{LedgerOp, StfError};
use tandem_types::*;

#[test]
fn deposit_creates_the_account_then_credits_it() {
    let mut ledger = genesis(8);
    let (op, _) = ledger.apply(deposit(&key(1), 0, 500), idx(0)).unwrap();
    assert!(matches!(op, Op::Deposit(DepositOp { to, amount: 500, .. }) if to == idx(1)));
    ledger.apply(deposit(&key(1), 3, 9), idx(0)).unwrap();
    let account = ledger.account(idx(1)).unwrap();
    assert_eq!(account.balance(token(0)), 500);
    assert_eq!(account.balance(token(3)), 9);
    assert_eq!(ledger.index_of(&key(1).public_key().pack()), Some(idx(1)));
}

#[test]
fn transfer_to_new_key_creates_the_account_and_pays_the_fee() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 300, 5, 0);
    let (op, root) = ledger.apply(LedgerOp::Tx(tx), idx(0)).unwrap();
    assert!(matches!(op, Op::TransferToNew(TransferToNewOp { to, .. }) if to == idx(2)));
    assert_eq!(root, ledger.root());
    assert_eq!(ledger.account(idx(1)).unwrap().balance(TokenId::ETH), 695);
    assert_eq!(ledger.account(idx(1)).unwrap().nonce, 1);
    assert_eq!(ledger.account(idx(2)).unwrap().balance(TokenId::ETH), 300);
    assert_eq!(ledger.account(idx(0)).unwrap().balance(TokenId::ETH), 1_005);

    // A second transfer to the same key goes to the existing account, 12 bytes on L1.
    let tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 100, 0, 1);
    let (op, _) = ledger.apply(LedgerOp::Tx(tx), idx(0)).unwrap();
    assert!(matches!(op, Op::Transfer(_)));
    assert_eq!(op.encode().len(), 12);
}

#[test]
fn each_invalid_transaction_is_refused_with_its_reason() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let root = ledger.root();
    let apply = |ledger: &mut tandem_state::Ledger, tx| ledger.apply(LedgerOp::Tx(tx), idx(0)).unwrap_err();

    // overdraft (amount + fee above balance)
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1_000, 1, 0));
    assert!(matches!(e, StfError::InsufficientBalance { balance: 1_000, needed: 1_001, .. }), "{e}");
    // wrong nonce
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1, 0, 5));
    assert_eq!(e, StfError::NonceMismatch { from: idx(1), expected: 0, got: 5 });
    // signed by another key
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(9), idx(1), &key(2), 0, 1, 0, 0));
    assert!(matches!(e, StfError::BadSignature { .. }), "{e}");
    // signed for another chain
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID + 1, &key(1), idx(1), &key(2), 0, 1, 0, 0));
    assert!(matches!(e, StfError::BadSignature { chain_id: CHAIN_ID, .. }), "{e}");
    // unknown sender
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(1), idx(77), &key(2), 0, 1, 0, 0));
    assert_eq!(e, StfError::AccountNotFound(idx(77)));
    // sender outside the tree
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(1), idx(1 << 20), &key(2), 0, 1, 0, 0));
    assert!(matches!(e, StfError::IndexOutOfRange { .. }), "{e}");
    // to itself
    let e = apply(&mut ledger, transfer_tx(CHAIN_ID, &key(1), idx(1), &key(1), 0, 1, 0, 0));
    assert_eq!(e, StfError::SelfTransfer(idx(1)));
    // tampered amount after signing
    let mut tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1, 0, 0);
    if let Tx::Transfer(t) = &mut tx.tx {
        t.amount = PackedAmount::new(2).unwrap();
    }
    assert!(matches!(apply(&mut ledger, tx), StfError::BadSignature { .. }));
    // malformed signature bytes
    let mut tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1, 0, 0);
    tx.signature.0[32..].copy_from_slice(&[0xff; 32]);
    assert!(matches!(apply(&mut ledger, tx), StfError::MalformedSignature(_)));
    // recipient key not on the curve
    let mut tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1, 0, 0);
    if let Tx::Transfer(t) = &mut tx.tx {
        t.to = PackedPubKey([0xff; 32]);
    }
    assert!(matches!(apply(&mut ledger, tx), StfError::InvalidPubKey(_)));
    // fee account missing (only matters when a fee is charged)
    let tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 1, 1, 0);
    assert_eq!(ledger.apply(LedgerOp::Tx(tx), idx(50)).unwrap_err(), StfError::FeeAccountMissing(idx(50)));
    // withdrawal overdraft
    let e = apply(&mut ledger, withdraw_tx(CHAIN_ID, &key(1), idx(1), 0, 2_000, 0, 0));
    assert!(matches!(e, StfError::InsufficientBalance { .. }));
    // zero deposit
    assert_eq!(ledger.apply(deposit(&key(3), 0, 0), idx(0)).unwrap_err(), StfError::ZeroDeposit);

    assert_eq!(ledger.root(), root, "refused ops change nothing");
}

#[test]
fn replayed_transaction_is_refused() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let tx = transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 10, 0, 0);
    ledger.apply(LedgerOp::Tx(tx), idx(0)).unwrap();
    let e = ledger.apply(LedgerOp::Tx(tx), idx(0)).unwrap_err();
    assert_eq!(e, StfError::NonceMismatch { from: idx(1), expected: 1, got: 0 });
}

#[test]
fn balance_overflow_is_refused() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, u128::MAX), idx(0)).unwrap();
    let e = ledger.apply(deposit(&key(1), 0, 1), idx(0)).unwrap_err();
    assert!(matches!(e, StfError::BalanceOverflow { .. }), "{e}");
    ledger.apply(deposit(&key(2), 0, 10u128.pow(9)), idx(0)).unwrap();
    // 10^9 more would overflow account 1
    let e = ledger.apply(LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(2), idx(2), &key(1), 0, 10u128.pow(9), 0, 0)), idx(0)).unwrap_err();
    assert!(matches!(e, StfError::BalanceOverflow { .. }), "{e}");
}

#[test]
fn full_tree_refuses_new_accounts() {
    let mut ledger = genesis(2); // 4 slots, one used by the fee account
    for k in 1..4 {
        ledger.apply(deposit(&key(k), 0, 1), idx(0)).unwrap();
    }
    assert_eq!(ledger.apply(deposit(&key(9), 0, 1), idx(0)).unwrap_err(), StfError::TreeFull { capacity: 4 });
    let e = ledger.apply(LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(9), 0, 1, 0, 0)), idx(0)).unwrap_err();
    assert_eq!(e, StfError::TreeFull { capacity: 4 });
}

#[test]
fn batch_with_one_invalid_op_changes_nothing_and_names_it() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let before = ledger.clone();
    let ops = vec![
        deposit(&key(2), 0, 50),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 10, 1, 0)),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(3), 0, 10, 1, 1)),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(9), idx(1), &key(2), 0, 10, 1, 2)), // bad signature
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(2), idx(2), &key(1), 0, 1, 0, 0)),
    ];
    let e = ledger.apply_batch(&ops, idx(0)).unwrap_err();
    assert_eq!(e.index, 3);
    assert!(matches!(e.error, StfError::BadSignature { .. }));
    assert_eq!(ledger.root(), before.root());
    assert_eq!(ledger.account_count(), before.account_count());
    assert_eq!(ledger.batches_applied(), before.batches_applied());

    // Without the bad op the batch applies, with one root per op.
    let mut good = ops.clone();
    good.remove(3);
    let outcome = ledger.apply_batch(&good, idx(0)).unwrap();
    assert_eq!(outcome.intermediate_roots.len(), 4);
    assert_eq!(outcome.prev_root, before.root());
    assert_eq!(outcome.root, ledger.root());
    // Fees are settled with the last op, so the last intermediate root includes them.
    assert_eq!(*outcome.intermediate_roots.last().unwrap(), ledger.root());
    assert_eq!(outcome.fees[0], 2);
    // Applying the ops one by one (each settling its own fee) ends in the same state.
    let mut replay = before.clone();
    for op in &good {
        replay.apply(*op, idx(0)).unwrap();
    }
    assert_eq!(replay.root(), ledger.root());
}

#[test]
fn intermediate_roots_of_a_fee_free_batch_equal_single_steps() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let before = ledger.clone();
    let ops = vec![
        deposit(&key(2), 0, 50),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 10, 0, 0)),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(3), 0, 10, 0, 1)),
        LedgerOp::Tx(withdraw_tx(CHAIN_ID, &key(2), idx(2), 0, 5, 0, 0)),
    ];
    let outcome = ledger.apply_batch(&ops, idx(0)).unwrap();
    assert_eq!(*outcome.intermediate_roots.last().unwrap(), outcome.root);
    let mut replay = before;
    for (op, root) in ops.iter().zip(&outcome.intermediate_roots) {
        assert_eq!(replay.apply(*op, idx(0)).unwrap().1, *root);
    }
}

#[test]
fn fees_are_settled_to_the_fee_account_after_the_last_op() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    ledger.apply(deposit(&key(1), 2, 1_000), idx(0)).unwrap();
    let ops = vec![
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 10, 3, 0)),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 2, 10, 7, 1)),
        LedgerOp::Tx(withdraw_tx(CHAIN_ID, &key(1), idx(1), 0, 5, 2, 2)),
    ];
    let outcome = ledger.apply_batch(&ops, idx(0)).unwrap();
    assert_eq!(outcome.fees[0], 5);
    assert_eq!(outcome.fees[2], 7);
    let fee_account = ledger.account(idx(0)).unwrap();
    assert_eq!(fee_account.balance(token(0)), 1_005);
    assert_eq!(fee_account.balance(token(2)), 7);
}

/// SPEC §5.2: on a chain with chunks of S ops, fees settle with every S-th op, so the root
/// after a chunk's last op is the root of that chunk applied as a batch of its own (what
/// the circuit proves for a fault-proof chunk). The final state is the unchunked one.
#[test]
fn fees_settle_with_the_last_op_of_every_chunk() {
    let fund = |ledger: &mut tandem_state::Ledger| {
        ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
        ledger.apply(deposit(&key(1), 2, 1_000), idx(0)).unwrap();
    };
    let mut chunked = genesis_chunked(8, std::num::NonZeroUsize::new(2));
    fund(&mut chunked);
    let mut whole = genesis(8);
    fund(&mut whole);
    let before = chunked.clone();
    let ops: Vec<LedgerOp> =
        (0..5).map(|n| LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), (n % 2) * 2, 10, n as u128 + 1, n))).collect();
    let outcome = chunked.apply_batch(&ops, idx(0)).unwrap();
    let unchunked = whole.apply_batch(&ops, idx(0)).unwrap();

    // Chunk by chunk as batches of their own: the same boundary roots.
    let mut by_chunks = before;
    for (k, chunk) in ops.chunks(2).enumerate() {
        let part = by_chunks.apply_batch(chunk, idx(0)).unwrap();
        let last = (k * 2 + chunk.len()) - 1;
        assert_eq!(part.root, outcome.intermediate_roots[last], "chunk {k} ends at the root after op {last}");
        assert_eq!(&part.intermediate_roots[..], &outcome.intermediate_roots[k * 2..=last]);
    }
    assert_eq!(by_chunks.root(), chunked.root());
    // The fees of the whole batch, settled in three steps; the same final state.
    assert_eq!(outcome.fees, unchunked.fees);
    assert_eq!((outcome.fees[0], outcome.fees[2]), (1 + 3 + 5, 2 + 4));
    assert_eq!(outcome.root, unchunked.root);
    assert_eq!(chunked.root(), whole.root());
    // Inside a chunk the fee is not yet credited: the roots differ only where chunks close.
    assert_eq!(outcome.intermediate_roots[0], unchunked.intermediate_roots[0]);
    assert_ne!(outcome.intermediate_roots[1], unchunked.intermediate_roots[1]);
}

#[test]
fn account_created_in_a_batch_can_spend_later_in_it() {
    let mut ledger = genesis(8);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    let ops = vec![
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), idx(1), &key(2), 0, 100, 0, 0)),
        LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(2), idx(2), &key(3), 0, 40, 2, 0)),
    ];
    ledger.apply_batch(&ops, idx(0)).unwrap();
    assert_eq!(ledger.account(idx(3)).unwrap().balance(TokenId::ETH), 40);
    assert_eq!(ledger.account(idx(2)).unwrap().balance(TokenId::ETH), 58);
}

#[test]
fn leaves_have_inclusion_proofs_under_the_root() {
    let mut ledger = genesis(10);
    for k in 1..6 {
        ledger.apply(deposit(&key(k), k as u32 % 3, 100 + k as u128), idx(0)).unwrap();
    }
    for i in 0..8 {
        let proof = ledger.proof(idx(i));
        assert_eq!(proof.siblings.len(), 10);
        assert_eq!(proof.root_for(i, ledger.leaf(idx(i))), ledger.root());
    }
}
