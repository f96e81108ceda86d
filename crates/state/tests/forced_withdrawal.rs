//! Forced withdrawals in the STF (SPEC.md §5.1): a valid request withdraws, every invalid
//! one is a recorded no-op that changes nothing, and re-executing the public op gives the
//! same roots.

mod common;

use common::*;
use tandem_state::signing::{forced_request_hash, sign_forced_withdrawal};
use tandem_state::{Ledger, LedgerOp};
use tandem_types::*;

const TO: L1Address = L1Address([0x5a; 20]);

/// Key 1 owns account 1 with 1,000 of token 0 and 40 of token 2.
fn funded() -> Ledger {
    let mut ledger = genesis(6);
    ledger.apply(deposit(&key(1), 0, 1_000), idx(0)).unwrap();
    ledger.apply(deposit(&key(1), 2, 40), idx(0)).unwrap();
    ledger
}

fn request(signer: u8, account: u32, t: u32, amount: Balance) -> ForcedWithdrawalRequest {
    sign_forced_withdrawal(&key(signer), CHAIN_ID, idx(account), token(t), TO, amount, 77)
}

/// Applies `request` and returns the amount the op records, checking the op's other fields
/// and that the public op alone reproduces the root.
fn withdrawn(ledger: &mut Ledger, request: ForcedWithdrawalRequest) -> Balance {
    let before = ledger.clone();
    let (op, root) = ledger.apply(LedgerOp::ForcedWithdrawal(request), idx(0)).unwrap();
    let Op::ForcedWithdraw(f) = op else { panic!("a forced request becomes a ForcedWithdraw op, got {op:?}") };
    assert_eq!(f.account, request.account);
    assert_eq!(f.token, request.token);
    let hash = forced_request_hash(CHAIN_ID, &request).unwrap();
    assert_eq!(f.request_hash, tandem_crypto::field::fr_to_be_bytes(&hash));
    assert_eq!(Op::decode(&op.encode()).unwrap(), op);
    let mut replay = before.clone();
    let outcome = replay.apply_public_batch(&[op], idx(0)).unwrap();
    assert_eq!(outcome.root, root, "public re-execution reaches the same root");
    if f.withdrawn == 0 {
        assert_eq!(root, before.root(), "a no-op changes nothing");
    }
    f.withdrawn
}

#[test]
fn a_signed_request_withdraws_the_amount() {
    let mut ledger = funded();
    assert_eq!(withdrawn(&mut ledger, request(1, 1, 0, 300)), 300);
    let account = ledger.account(idx(1)).unwrap();
    assert_eq!(account.balance(token(0)), 700);
    assert_eq!(account.nonce, 0, "a forced withdrawal uses no nonce");
}

#[test]
fn amount_zero_withdraws_the_whole_balance() {
    let mut ledger = funded();
    assert_eq!(withdrawn(&mut ledger, request(1, 1, 2, 0)), 40);
    assert_eq!(ledger.account(idx(1)).unwrap().balance(token(2)), 0);
    assert_eq!(ledger.account(idx(1)).unwrap().balance(token(0)), 1_000);
    // Nothing left: "all" of an empty balance is 0.
    assert_eq!(withdrawn(&mut ledger, request(1, 1, 2, 0)), 0);
}

#[test]
fn a_request_signed_by_another_key_is_a_no_op() {
    let mut ledger = funded();
    assert_eq!(withdrawn(&mut ledger, request(2, 1, 0, 300)), 0);
    assert_eq!(ledger.account(idx(1)).unwrap().balance(token(0)), 1_000);
}

#[test]
fn a_tampered_request_is_a_no_op() {
    let mut ledger = funded();
    let mut tampered = request(1, 1, 0, 300);
    tampered.amount = 301;
    assert_eq!(withdrawn(&mut ledger, tampered), 0);
    let mut other_recipient = request(1, 1, 0, 300);
    other_recipient.to_l1 = L1Address([1; 20]);
    assert_eq!(withdrawn(&mut ledger, other_recipient), 0);
    let mut other_id = request(1, 1, 0, 300);
    other_id.request_id += 1;
    assert_eq!(withdrawn(&mut ledger, other_id), 0);
}

#[test]
fn a_request_for_another_chain_is_a_no_op() {
    let mut ledger = funded();
    let foreign = sign_forced_withdrawal(&key(1), CHAIN_ID + 1, idx(1), token(0), TO, 300, 77);
    assert_eq!(withdrawn(&mut ledger, foreign), 0);
}

#[test]
fn more_than_the_balance_is_a_no_op_not_a_partial_withdrawal() {
    let mut ledger = funded();
    assert_eq!(withdrawn(&mut ledger, request(1, 1, 0, 1_001)), 0);
    assert_eq!(withdrawn(&mut ledger, request(1, 1, 0, 1_000)), 1_000);
}

#[test]
fn a_request_for_an_empty_account_is_a_no_op() {
    let mut ledger = funded();
    assert_eq!(withdrawn(&mut ledger, request(1, 9, 0, 1)), 0);
    assert!(ledger.account(idx(9)).is_none(), "no account is created");
}

#[test]
fn a_signature_that_is_not_a_curve_point_is_a_no_op() {
    let mut ledger = funded();
    let mut bad = request(1, 1, 0, 300);
    bad.r8x[31] ^= 1;
    assert_eq!(withdrawn(&mut ledger, bad), 0);
}

#[test]
fn a_request_outside_the_tree_is_refused() {
    let mut ledger = funded();
    let e = ledger.apply(LedgerOp::ForcedWithdrawal(request(1, 64, 0, 1)), idx(0)).unwrap_err();
    assert!(matches!(e, tandem_state::StfError::IndexOutOfRange { .. }), "{e}");
}

#[test]
fn a_no_op_request_does_not_block_the_block() {
    // Deferred execution: the no-op is applied (recorded), nothing is skipped.
    let mut ledger = funded();
    let inputs =
        [LedgerOp::ForcedWithdrawal(request(2, 1, 0, 300)), LedgerOp::ForcedWithdrawal(request(1, 1, 0, 300)), deposit(&key(3), 0, 5)];
    let outcome = ledger.apply_block(&inputs, idx(0)).unwrap();
    assert_eq!(outcome.applied, vec![0, 1, 2]);
    assert!(outcome.skipped.is_empty());
    let withdrawn: Vec<Balance> =
        outcome.batch.ops.iter().filter_map(|op| if let Op::ForcedWithdraw(f) = op { Some(f.withdrawn) } else { None }).collect();
    assert_eq!(withdrawn, vec![0, 300]);
    assert_eq!(ledger.account(idx(1)).unwrap().balance(token(0)), 700);
}
