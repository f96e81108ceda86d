//! Deferred execution: a decided block runs once with `apply_block`, skipping the
//! transactions that break a rule. These tests pin it to the path it replaces (check the
//! block, drop the first invalid transaction, check again, then apply atomically): the same
//! skipped transactions with the same reasons, the same public data, intermediate roots,
//! fees and final root, on random blocks full of invalid transactions.

mod common;

use common::*;
use proptest::prelude::*;
use tandem_state::{BatchError, BatchOutcome, BlockOutcome, Ledger, LedgerOp, StfError};

const KEYS: u8 = 6;

#[derive(Debug, Clone)]
enum Action {
    Deposit { key: u8, token: u32, amount: u128 },
    Transfer { from: u8, to: u8, token: u32, amount: u64, fee: u8, fault: Fault },
    Withdraw { from: u8, token: u32, amount: u64, fee: u8, fault: Fault },
}

/// How a generated transaction is spoiled, if at all.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// Signed by a stranger's key.
    Forged,
    /// A nonce one too high (one too low would be a replay of an applied op).
    NonceAhead,
    /// Signed for another chain.
    OtherChain,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![6 => Just(Fault::None), 1 => Just(Fault::Forged), 1 => Just(Fault::NonceAhead), 1 => Just(Fault::OtherChain)]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => (1..KEYS, 0..2u32, 1u128..500_000).prop_map(|(key, token, amount)| Action::Deposit { key, token, amount }),
        4 => (1..KEYS, 0..KEYS + 2, 0..2u32, 0u64..600_000, 0u8..8, fault())
            .prop_map(|(from, to, token, amount, fee, fault)| Action::Transfer { from, to, token, amount, fee, fault }),
        2 => (1..KEYS, 0..2u32, 0u64..600_000, 0u8..8, fault())
            .prop_map(|(from, token, amount, fee, fault)| Action::Withdraw { from, token, amount, fee, fault }),
    ]
}

/// Signs `action` against `view` (what a wallet would sign, right or wrong), or `None` when
/// the sender has no account there.
fn to_op(view: &Ledger, action: &Action) -> Option<LedgerOp> {
    let index_of = |k: u8| view.index_of(&key(k).public_key().pack());
    let signed = |from: u8, fault: Fault, build: &dyn Fn(&tandem_crypto::PrivateKey, u64, u32) -> LedgerOp| {
        let index = index_of(from)?;
        let nonce = view.account(index)?.nonce;
        Some(match fault {
            Fault::None => build(&key(from), CHAIN_ID, nonce),
            Fault::Forged => build(&key(250), CHAIN_ID, nonce),
            Fault::NonceAhead => build(&key(from), CHAIN_ID, nonce + 1),
            Fault::OtherChain => build(&key(from), CHAIN_ID + 1, nonce),
        })
    };
    match *action {
        Action::Deposit { key: k, token, amount } => Some(deposit(&key(k), token, amount)),
        Action::Transfer { from, to, token, amount, fee, fault } => signed(from, fault, &|signer, chain, nonce| {
            let index = index_of(from).expect("checked above");
            LedgerOp::Tx(transfer_tx(chain, signer, index, &key(to), token, amount as u128, fee as u128, nonce))
        }),
        Action::Withdraw { from, token, amount, fee, fault } => signed(from, fault, &|signer, chain, nonce| {
            let index = index_of(from).expect("checked above");
            LedgerOp::Tx(withdraw_tx(chain, signer, index, token, amount as u128, fee as u128, nonce))
        }),
    }
}

/// The path deferred execution replaces: check the whole block, drop the first refused
/// transaction, repeat; then apply what is left atomically.
fn check_drop_apply(ledger: &mut Ledger, ops: &[LedgerOp]) -> Result<BlockOutcome, BatchError> {
    let mut left: Vec<usize> = (0..ops.len()).collect();
    let mut skipped = Vec::new();
    loop {
        let block: Vec<LedgerOp> = left.iter().map(|i| ops[*i]).collect();
        match ledger.check_batch(&block, idx(0)) {
            Ok(()) => break,
            Err(e) => match ops[left[e.index]] {
                LedgerOp::Tx(_) => skipped.push((left.remove(e.index), e.error)),
                LedgerOp::Deposit(_) | LedgerOp::ForcedWithdrawal(_) => return Err(BatchError { index: left[e.index], error: e.error }),
            },
        }
    }
    skipped.sort_by_key(|(i, _)| *i);
    let block: Vec<LedgerOp> = left.iter().map(|i| ops[*i]).collect();
    let batch = if block.is_empty() {
        let root = ledger.root();
        BatchOutcome { ops: vec![], intermediate_roots: vec![], fees: Default::default(), prev_root: root, root }
    } else {
        ledger.apply_batch(&block, idx(0))?
    };
    Ok(BlockOutcome { batch, applied: left, skipped })
}

fn funded_chunked(chunk_size: Option<std::num::NonZeroUsize>) -> Ledger {
    let mut ledger = genesis_chunked(6, chunk_size);
    for k in 1..4 {
        ledger.apply(deposit(&key(k), 0, 1_000_000), idx(0)).unwrap();
        ledger.apply(deposit(&key(k), 1, 1_000_000), idx(0)).unwrap();
    }
    ledger
}

fn funded() -> Ledger {
    funded_chunked(None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn apply_block_equals_check_drop_apply_on_blocks_with_invalid_transactions(
        blocks in prop::collection::vec(prop::collection::vec(action(), 0..16), 1..4),
        chunk in chunk_size(),
    ) {
        let mut deferred = funded_chunked(chunk);
        let mut reference = funded_chunked(chunk);
        for actions in &blocks {
            // Sign against the state as each op would see it if every earlier one applied,
            // so that most are valid and the invalid ones are invalid for many reasons.
            let mut view = deferred.clone();
            let mut ops = Vec::new();
            for action in actions {
                if let Some(op) = to_op(&view, action) {
                    let _ = view.apply(op, idx(0));
                    ops.push(op);
                }
            }
            let expected = check_drop_apply(&mut reference, &ops);
            let got = deferred.apply_block(&ops, idx(0));
            match (expected, got) {
                (Ok(expected), Ok(block)) => {
                    prop_assert_eq!(&block.applied, &expected.applied);
                    prop_assert_eq!(&block.skipped, &expected.skipped);
                    prop_assert_eq!(&block.batch, &expected.batch);
                }
                (Err(expected), Err(got)) => prop_assert_eq!(got, expected),
                (expected, got) => prop_assert!(false, "reference {:?}, deferred {:?}", expected.map(|b| b.applied), got.map(|b| b.applied)),
            }
            prop_assert_eq!(deferred.root(), reference.root());
            prop_assert_eq!(deferred.batches_applied(), reference.batches_applied());
        }
        prop_assert_eq!(deferred.root_from_scratch(), deferred.root());
    }
}

#[test]
fn a_skipped_transfer_to_a_new_account_leaves_no_trace() {
    let mut ledger = funded();
    let sender = ledger.index_of(&key(1).public_key().pack()).unwrap();
    let newcomer = key(9);
    // Overspends, so it is skipped after it allocated the newcomer's index; the next transfer
    // to the same key must create the account at that same index, as if the first never ran.
    let overspend = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), sender, &newcomer, 0, 5_000_000, 0, 0));
    let good = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), sender, &newcomer, 0, 10, 1, 0));
    let mut reference = ledger.clone();
    let block = ledger.apply_block(&[overspend, good], idx(0)).unwrap();
    assert_eq!(block.applied, vec![1]);
    assert!(matches!(block.skipped[..], [(0, StfError::InsufficientBalance { .. })]), "{:?}", block.skipped);
    let alone = reference.apply_batch(&[good], idx(0)).unwrap();
    assert_eq!(block.batch, alone);
    assert_eq!(ledger.root_from_scratch(), ledger.root());
}

#[test]
fn a_block_with_nothing_valid_changes_nothing() {
    let mut ledger = funded();
    let sender = ledger.index_of(&key(1).public_key().pack()).unwrap();
    let forged = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(200), sender, &key(2), 0, 10, 1, 0));
    let replayed_nonce = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), sender, &key(2), 0, 10, 1, 3));
    let (root, batches) = (ledger.root(), ledger.batches_applied());
    let block = ledger.apply_block(&[forged, replayed_nonce], idx(0)).unwrap();
    assert!(block.applied.is_empty() && block.batch.ops.is_empty());
    assert!(matches!(block.skipped[0], (0, StfError::BadSignature { .. })), "{:?}", block.skipped);
    assert!(matches!(block.skipped[1], (1, StfError::NonceMismatch { expected: 0, got: 3, .. })), "{:?}", block.skipped);
    assert_eq!((block.batch.prev_root, block.batch.root), (root, root));
    assert_eq!((ledger.root(), ledger.batches_applied()), (root, batches));
}

#[test]
fn a_refused_deposit_refuses_the_block_and_changes_nothing() {
    let mut ledger = funded();
    let sender = ledger.index_of(&key(1).public_key().pack()).unwrap();
    let good = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), sender, &key(2), 0, 10, 1, 0));
    let empty_deposit = deposit(&key(3), 0, 0);
    let root = ledger.root();
    let refused = ledger.apply_block(&[good, empty_deposit], idx(0)).unwrap_err();
    assert_eq!(refused, BatchError { index: 1, error: StfError::ZeroDeposit });
    assert_eq!(ledger.root(), root);
}

#[test]
fn signatures_are_verified_once_and_remembered() {
    let mut ledger = funded();
    let sender = ledger.index_of(&key(1).public_key().pack()).unwrap();
    let LedgerOp::Tx(signed) = transfer_tx_op(sender) else { unreachable!() };
    // What a mempool does on admission; applying the block then finds it remembered.
    ledger.verified_signatures().verify(&signed, &key(1).public_key()).unwrap();
    assert!(ledger.verified_signatures().contains(&signed, &key(1).public_key()));
    let block = ledger.apply_block(&[LedgerOp::Tx(signed)], idx(0)).unwrap();
    assert_eq!(block.applied, vec![0]);
    // A transaction signed by a stranger is not remembered, so it is verified, and refused.
    let forged = LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(200), sender, &key(2), 0, 10, 1, 1));
    let block = ledger.apply_block(&[forged], idx(0)).unwrap();
    assert!(matches!(block.skipped[..], [(0, StfError::BadSignature { .. })]), "{:?}", block.skipped);
    let LedgerOp::Tx(forged) = forged else { unreachable!() };
    assert!(!ledger.verified_signatures().contains(&forged, &key(1).public_key()));
}

fn transfer_tx_op(sender: tandem_types::AccountIndex) -> LedgerOp {
    LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(1), sender, &key(2), 0, 10, 1, 0))
}
