//! Differential tests of the batch circuit against the Rust STF: random valid batches
//! satisfy it with exactly the STF's roots; broken rules make it unsatisfiable.

mod common;

use ark_ff::PrimeField;
use common::*;
use proptest::prelude::*;
use tandem_circuit::{BatchCircuit, Fr};
use tandem_state::signing::{transfer_message, withdraw_message};
use tandem_state::witness::{batch_witness, BatchWitness};
use tandem_state::Ledger;
use tandem_types::*;

/// (satisfied, constraints)
fn check(circuit: BatchCircuit) -> (bool, usize) {
    circuit.check().unwrap()
}

fn witness_for(ledger: &Ledger, ops: &[tandem_state::LedgerOp], slots: usize) -> BatchWitness {
    batch_witness(ledger, ops, idx(0), slots).unwrap().0
}

/// Claims the root the circuit computes from the (tampered) witness, so that the only
/// broken constraint is the rule under test.
fn claiming_computed_root(w: &BatchWitness) -> BatchCircuit {
    let circuit = BatchCircuit::new(w, PROVER);
    let computed = circuit.computed_roots().unwrap().settled;
    circuit.with_new_root(computed)
}

#[test]
fn every_op_type_satisfies_with_the_stf_roots() {
    let ledger = genesis(4);
    let ops = vec![
        deposit(3, 2, 9_999),                   // creates account 3
        transfer(1, idx(1), 2, 0, 1_200, 3, 0), // to an existing account
        transfer(2, idx(2), 4, 1, 5_000, 0, 0), // creates account 4
        withdraw(1, idx(1), 0, 777, 2, 1),
    ];
    let (w, outcome) = batch_witness(&ledger, &ops, idx(0), 5).unwrap();
    assert_eq!(w.prev_root, ledger.root());
    assert_eq!(w.new_root, outcome.root);
    let circuit = BatchCircuit::new(&w, PROVER);
    let roots = circuit.computed_roots().unwrap();
    assert_eq!(roots.slots[..3], outcome.intermediate_roots[..3]);
    assert_eq!(roots.slots[4], roots.slots[3], "padding keeps the root");
    assert_eq!(roots.settled, outcome.root);
    assert_eq!(outcome.intermediate_roots[3], outcome.root, "the last op's root includes the fee settlement");
    let (ok, n) = check(circuit);
    assert!(ok);
    println!("constraints: batch S=5 D=4 = {n}");
}

#[test]
fn batches_without_fees_or_with_a_missing_fee_account() {
    // No fee: the root after settlement is the last op's root.
    let ledger = genesis(5);
    let ops = vec![transfer(1, idx(1), 2, 0, 10, 0, 0)];
    let (w, outcome) = batch_witness(&ledger, &ops, idx(0), 2).unwrap();
    assert_eq!(outcome.root, outcome.intermediate_roots[0]);
    assert!(check(BatchCircuit::new(&w, PROVER)).0);

    // The fee account does not exist and no fee is paid: valid.
    let (w, _) = batch_witness(&ledger, &ops, idx(20), 2).unwrap();
    assert!(check(BatchCircuit::new(&w, PROVER)).0);

    // The fee account is created in the batch by a deposit before the fee is paid: valid.
    let ops = vec![deposit(9, 0, 5), transfer(1, idx(1), 2, 0, 10, 1, 0)];
    let (w, _) = batch_witness(&ledger, &ops, idx(3), 2).unwrap();
    assert!(check(BatchCircuit::new(&w, PROVER)).0);

    // ... but not after: the STF refuses (FeeAccountMissing).
    let ops = vec![transfer(1, idx(1), 2, 0, 10, 1, 0), deposit(9, 0, 5)];
    assert!(batch_witness(&ledger, &ops, idx(3), 2).is_err());
}

#[test]
fn fee_to_a_missing_fee_account_is_unsatisfiable() {
    // Valid with a zero fee to the empty index 3; then the same transfer, validly signed,
    // with a fee of 1: the STF refuses (FeeAccountMissing), and so does the circuit.
    let ledger = genesis(4);
    let (mut w, _) = batch_witness(&ledger, &[transfer(1, idx(1), 2, 0, 10, 0, 0)], idx(3), 2).unwrap();
    assert!(check(BatchCircuit::new(&w, PROVER)).0);
    resign_transfer(&mut w, 0, 10, 1, 0, 1);
    assert!(!check(claiming_computed_root(&w)).0);
}

fn tamper_and_check(tamper: impl FnOnce(&mut BatchWitness)) -> bool {
    let ledger = genesis(4);
    let ops = vec![transfer(1, idx(1), 2, 0, 50_000 - 7, 7, 0), withdraw(2, idx(2), 1, 100, 0, 0)];
    let mut w = witness_for(&ledger, &ops, 2);
    assert!(check(BatchCircuit::new(&w, PROVER)).0, "the untampered batch is valid");
    tamper(&mut w);
    check(claiming_computed_root(&w)).0
}

fn resign_transfer(w: &mut BatchWitness, slot: usize, amount: u128, fee: u128, nonce: Nonce, signer: u8) {
    let Op::Transfer(mut t) = w.ops[slot].op else { panic!("slot {slot} is a transfer") };
    t.amount = PackedAmount::new(amount).unwrap();
    t.fee = PackedFee::new(fee).unwrap();
    w.ops[slot].op = Op::Transfer(t);
    let to = key(2).public_key();
    let tx = TransferTx { from: t.from, to: to.pack(), token: t.token, amount: t.amount, fee: t.fee, nonce };
    w.ops[slot].signature = Some(key(signer).sign(transfer_message(CHAIN_ID, &tx, &to)));
    w.fees.credits[slot].fee = fee;
}

#[test]
fn bad_signature_is_unsatisfiable() {
    assert!(!tamper_and_check(|w| {
        let sig = w.ops[0].signature.unwrap();
        // Another valid signature by the same key, over another message.
        w.ops[0].signature = Some(key(1).sign(Fr::from(1u64)));
        assert_ne!(w.ops[0].signature, Some(sig));
    }));
    // Signed by the wrong key.
    assert!(!tamper_and_check(|w| resign_transfer(w, 0, 50_000 - 7, 7, 0, 3)));
    // A withdrawal signed for another chain.
    assert!(!tamper_and_check(|w| {
        let Op::Withdraw(op) = w.ops[1].op else { panic!() };
        let tx = WithdrawTx { from: op.from, to_l1: op.to_l1, token: op.token, amount: op.amount, fee: op.fee, nonce: 0 };
        w.ops[1].signature = Some(key(2).sign(withdraw_message(CHAIN_ID + 1, &tx)));
    }));
}

#[test]
fn honest_resigning_keeps_it_satisfiable() {
    // Control for the tampering tests: re-signing the same values is harmless.
    assert!(tamper_and_check(|w| resign_transfer(w, 0, 50_000 - 7, 7, 0, 1)));
}

#[test]
fn overdraft_is_unsatisfiable() {
    // Sender has 50,000: amount + fee = 50,001 is one too many, validly signed.
    assert!(!tamper_and_check(|w| resign_transfer(w, 0, 50_000 - 6, 7, 0, 1)));
    // A withdrawal of more token 1 than account 2 holds.
    assert!(!tamper_and_check(|w| {
        let Op::Withdraw(mut op) = w.ops[1].op else { panic!() };
        op.amount = 70_001;
        w.ops[1].op = Op::Withdraw(op);
        let tx = WithdrawTx { from: op.from, to_l1: op.to_l1, token: op.token, amount: op.amount, fee: op.fee, nonce: 0 };
        w.ops[1].signature = Some(key(2).sign(withdraw_message(CHAIN_ID, &tx)));
    }));
}

#[test]
fn wrong_nonce_is_unsatisfiable() {
    // Signed over nonce 1 while the account's nonce is 0 (a replay of a future tx).
    assert!(!tamper_and_check(|w| resign_transfer(w, 0, 50_000 - 7, 7, 1, 1)));
    // The witness claims a different current nonce than the leaf commits to.
    assert!(!tamper_and_check(|w| {
        let a = w.ops[0].first.account.as_mut().unwrap();
        a.nonce = 1;
    }));
}

#[test]
fn wrong_new_root_is_unsatisfiable() {
    let ledger = genesis(4);
    let w = witness_for(&ledger, &[transfer(1, idx(1), 2, 0, 100, 1, 0)], 2);
    assert!(check(BatchCircuit::new(&w, PROVER)).0);
    assert!(!check(BatchCircuit::new(&w, PROVER).with_new_root(w.new_root + Fr::from(1u64))).0);
    assert!(!check(BatchCircuit::new(&w, PROVER).with_new_root(w.prev_root)).0);
}

#[test]
fn tampered_merkle_path_is_unsatisfiable() {
    assert!(!tamper_and_check(|w| w.ops[0].first.proof.siblings[1] += Fr::from(1u64)));
    assert!(!tamper_and_check(|w| w.ops[0].second.proof.siblings[0] += Fr::from(1u64)));
    assert!(!tamper_and_check(|w| w.ops[1].first.balance_proof.siblings[2] += Fr::from(1u64)));
    assert!(!tamper_and_check(|w| w.fees.account.proof.siblings[3] += Fr::from(1u64)));
    assert!(!tamper_and_check(|w| w.fees.credits[0].balance_proof.siblings[0] += Fr::from(1u64)));
    // A balance that the tree does not hold.
    assert!(!tamper_and_check(|w| w.ops[0].first.balance += 1_000));
}

#[test]
fn self_transfer_and_wrong_fee_balance_are_unsatisfiable() {
    // from = to: the STF refuses SelfTransfer; point the recipient at the sender.
    assert!(!tamper_and_check(|w| {
        let Op::Transfer(mut t) = w.ops[0].op else { panic!() };
        t.to = t.from;
        w.ops[0].op = Op::Transfer(t);
        w.ops[0].second = w.ops[0].first.clone();
    }));
    // The fee account's balance before a credit is not what its balance tree holds.
    assert!(!tamper_and_check(|w| w.fees.credits[0].balance += 5));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Random valid batches (S = 2-4, D = 4-8) satisfy the circuit with exactly the Rust
    /// STF's intermediate and final roots and the L1 reference's data hash, forced
    /// withdrawals included (executed ones and no-ops alike).
    #[test]
    fn random_valid_batches_satisfy_with_stf_roots(
        slots in 2usize..=4,
        depth in 4u8..=8,
        fee_account in 0u32..4,
        actions in proptest::collection::vec(action(), 1..10),
    ) {
        let ledger = genesis(depth);
        let ops = valid_batch(&ledger, &actions, slots, idx(fee_account));
        let (w, outcome) = batch_witness(&ledger, &ops, idx(fee_account), slots).unwrap();
        let circuit = BatchCircuit::new(&w, PROVER);
        let roots = circuit.computed_roots().unwrap();
        // The last op's root includes the fee settlement (an empty batch has none).
        if let Some(last) = ops.len().checked_sub(1) {
            prop_assert_eq!(&roots.slots[..last], &outcome.intermediate_roots[..last]);
            prop_assert_eq!(outcome.intermediate_roots[last], outcome.root);
        }
        prop_assert_eq!(roots.settled, outcome.root);
        prop_assert_eq!(circuit.public_inputs()[..2].to_vec(), vec![ledger.root(), outcome.root]);
        // The data commitment equals the L1 reference over the same ops and fee account.
        let reference = tandem_chain::zk_data_hash(fee_account, &outcome.ops, slots).unwrap();
        prop_assert_eq!(circuit.public_inputs()[2], Fr::from_be_bytes_mod_order(reference.as_slice()));
        let (ok, _) = check(circuit);
        prop_assert!(ok);
    }
}

#[test]
fn public_inputs_are_prev_root_new_root_data_hash_prover() {
    let ledger = genesis(4);
    let w = witness_for(&ledger, &[deposit(1, 0, 5)], 2);
    let inputs = BatchCircuit::new(&w, PROVER).public_inputs();
    assert_eq!(inputs.len(), 4);
    assert_eq!(inputs[0], ledger.root());
    assert_eq!(inputs[1], w.new_root);
    let ops: Vec<Op> = w.ops.iter().map(|o| o.op).collect();
    let data_hash = tandem_chain::zk_data_hash(0, &ops[..1], 2).unwrap();
    assert_eq!(inputs[2], Fr::from_be_bytes_mod_order(data_hash.as_slice()));
    assert_eq!(inputs[3], Fr::from_be_bytes_mod_order(&PROVER.0));
}
