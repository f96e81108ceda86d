//! Property tests over random op sequences: supply conservation, monotonic nonces,
//! replay and cross-chain rejection, batch atomicity, and incremental root = rebuilt root.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::HashMap;
use tandem_state::{Ledger, LedgerOp, StfError};
use tandem_types::*;

const KEYS: u8 = 6;
const TOKENS: u32 = 3;

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0..KEYS, 0..TOKENS, 1u128..1_000_000).prop_map(|(key, token, amount)| Action::Deposit { key, token, amount }),
        (0..KEYS, 0..KEYS, 0..TOKENS, 0u64..300_000, 0u8..8).prop_map(|(from, to, token, amount, fee)| Action::Transfer {
            from,
            to,
            token,
            amount,
            fee
        }),
        (0..KEYS, 0..TOKENS, 0u64..300_000, 0u8..8).prop_map(|(from, token, amount, fee)| Action::Withdraw { from, token, amount, fee }),
    ]
}

fn supply(ledger: &Ledger) -> HashMap<u8, u128> {
    let mut total = HashMap::new();
    for (_, account) in ledger.accounts() {
        for (t, b) in account.balances() {
            *total.entry(t.get()).or_insert(0) += b;
        }
    }
    total
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn supply_nonces_replays_and_roots_hold_over_random_sequences(actions in prop::collection::vec(action(), 1..40)) {
        let mut ledger = genesis(6);
        // Keys 1-3 start funded; keys 4 and 5 get accounts only through transfers or deposits.
        for k in 1..4 {
            ledger.apply(deposit(&key(k), 0, 5_000_000), idx(0)).unwrap();
            ledger.apply(deposit(&key(k), 1, 5_000_000), idx(0)).unwrap();
        }
        let mut expected_supply: HashMap<u8, u128> = supply(&ledger);
        for action in &actions {
            let Some(op) = to_op(&ledger, action, CHAIN_ID) else { continue };
            let nonces_before: HashMap<AccountIndex, Nonce> =
                ledger.accounts().map(|(i, a)| (i, a.nonce)).collect();
            let root_before = ledger.root();
            match ledger.apply(op, idx(0)) {
                Ok((public, root)) => {
                    prop_assert_eq!(root, ledger.root());
                    match public {
                        Op::Deposit(d) => *expected_supply.entry(d.token.get()).or_insert(0) += d.amount,
                        Op::Withdraw(w) => *expected_supply.get_mut(&w.token.get()).unwrap() -= w.amount,
                        _ => {}
                    }
                    if let LedgerOp::Tx(signed) = op {
                        // Exactly the signer's nonce moved, by one.
                        let from = signed.tx.from();
                        prop_assert_eq!(ledger.account(from).unwrap().nonce, nonces_before[&from] + 1);
                        // Replaying the same signed op is refused.
                        let replay = ledger.apply(op, idx(0)).unwrap_err();
                        let is_nonce_mismatch = matches!(replay, StfError::NonceMismatch { .. });
                        prop_assert!(is_nonce_mismatch, "replay gave {}", replay);
                    }
                }
                Err(_) => prop_assert_eq!(ledger.root(), root_before),
            }
            // Nonces never decrease.
            for (i, n) in nonces_before {
                prop_assert!(ledger.account(i).unwrap().nonce >= n);
            }
            prop_assert_eq!(supply(&ledger), expected_supply.clone());

            // The same action signed for another chain is refused, and changes nothing.
            if let Some(other @ LedgerOp::Tx(_)) = to_op(&ledger, action, CHAIN_ID + 1) {
                let root = ledger.root();
                if let Err(e) = ledger.apply(other, idx(0)) {
                    let refused_for_signature = matches!(e, StfError::BadSignature { .. } | StfError::InsufficientBalance { .. } | StfError::SelfTransfer(_) | StfError::BalanceOverflow { .. });
                    prop_assert!(refused_for_signature, "{}", e);
                } else {
                    prop_assert!(false, "an op signed for another chain was accepted");
                }
                prop_assert_eq!(ledger.root(), root);
            }
        }
        prop_assert_eq!(ledger.root_from_scratch(), ledger.root());
    }

    #[test]
    fn batches_are_atomic_and_equal_to_single_steps(actions in prop::collection::vec(action(), 1..24), poison in any::<prop::sample::Index>()) {
        let mut ledger = genesis(6);
        for k in 1..KEYS {
            ledger.apply(deposit(&key(k), 0, 1_000_000), idx(0)).unwrap();
        }
        // Build a batch of ops valid in sequence, by applying them on a scratch copy.
        let mut scratch = ledger.clone();
        let mut ops = Vec::new();
        for action in &actions {
            if let Some(op) = to_op(&scratch, action, CHAIN_ID) {
                if scratch.apply(op, idx(0)).is_ok() {
                    ops.push(op);
                }
            }
        }
        prop_assume!(!ops.is_empty());
        // check_batch (what a validator runs on a proposal) agrees and changes nothing.
        let before = ledger.root();
        prop_assert!(ledger.check_batch(&ops, idx(0)).is_ok());
        prop_assert_eq!(ledger.root(), before);
        let outcome = ledger.clone().apply_batch(&ops, idx(0)).unwrap();
        prop_assert_eq!(outcome.root, scratch.root());

        // Poison one op with a signature for another chain: nothing applies.
        let i = poison.index(ops.len());
        let mut poisoned = ops.clone();
        if let LedgerOp::Tx(signed) = &mut poisoned[i] {
            signed.signature = key(200).sign(tandem_crypto::Fr::from(1u64)).pack();
            let before = ledger.root();
            let checked = ledger.check_batch(&poisoned, idx(0)).unwrap_err();
            prop_assert_eq!(checked.index, i);
            let e = ledger.apply_batch(&poisoned, idx(0)).unwrap_err();
            prop_assert_eq!(e.index, i);
            prop_assert_eq!(ledger.root(), before);
        }
    }
}
