//! Forced withdrawals in the circuit against the Rust STF (SPEC.md §5.1): every outcome the
//! STF records, executed or no-op, satisfies the circuit with the STF's roots and the L1
//! reference's data hash; and a prover can neither turn a valid request into a no-op nor an
//! invalid one into a withdrawal.

mod common;

use ark_ff::PrimeField;
use common::*;
use tandem_circuit::{BatchCircuit, Fr};
use tandem_state::witness::{batch_witness, BatchWitness};
use tandem_state::LedgerOp;
use tandem_types::*;

/// The STF's `withdrawn` for each op, and whether the circuit accepts the batch with the
/// STF's roots and data hash.
fn run(ops: &[LedgerOp]) -> (Vec<Balance>, BatchWitness) {
    let ledger = genesis(4);
    let (w, outcome) = batch_witness(&ledger, ops, idx(0), ops.len() + 1).unwrap();
    let circuit = BatchCircuit::new(&w, PROVER);
    let roots = circuit.computed_roots().unwrap();
    let last = ops.len() - 1;
    assert_eq!(roots.slots[..last], outcome.intermediate_roots[..last], "per-op roots equal the STF's");
    assert_eq!(roots.settled, outcome.root);
    assert_eq!(outcome.intermediate_roots[last], outcome.root, "the last root includes the fee settlement");
    let reference = tandem_chain::zk_data_hash(0, &outcome.ops, ops.len() + 1).unwrap();
    assert_eq!(circuit.public_inputs()[2], Fr::from_be_bytes_mod_order(reference.as_slice()));
    let (ok, _) = circuit.check().unwrap();
    assert!(ok, "the circuit accepts what the STF did");
    let withdrawn = outcome.ops.iter().filter_map(|op| if let Op::ForcedWithdraw(f) = op { Some(f.withdrawn) } else { None }).collect();
    (withdrawn, w)
}

#[test]
fn executed_and_no_op_requests_satisfy_with_the_stf_roots() {
    // Account 1 (key 1) holds 50,000 ETH; account 2 (key 2) 30,000 ETH and 70,000 of token 1.
    let (withdrawn, _) = run(&[
        forced(1, 1, 0, 1_234),  // executed
        forced(2, 1, 0, 1_000),  // signed by another key: no-op
        forced(1, 1, 0, 60_000), // more than the balance: no-op
        forced(2, 2, 1, 0),      // the whole balance of token 1
        forced(3, 5, 0, 1),      // empty slot: no-op
        transfer(1, idx(1), 2, 0, 100, 1, 0),
    ]);
    assert_eq!(withdrawn, vec![1_234, 0, 0, 70_000, 0]);
}

#[test]
fn a_request_for_all_of_an_empty_balance_withdraws_nothing() {
    let (withdrawn, _) = run(&[forced(1, 1, 3, 0)]);
    assert_eq!(withdrawn, vec![0]);
}

/// Changes slot `slot`'s recorded withdrawn amount (the data hash follows the witness) and
/// claims the root the circuit computes, so that only the forced-withdrawal rule can fail.
fn with_withdrawn(mut w: BatchWitness, slot: usize, withdrawn: Balance) -> bool {
    let Op::ForcedWithdraw(mut f) = w.ops[slot].op else { panic!("slot {slot} is not a forced withdrawal") };
    f.withdrawn = withdrawn;
    w.ops[slot].op = Op::ForcedWithdraw(f);
    let circuit = BatchCircuit::new(&w, PROVER);
    let computed = circuit.computed_roots().unwrap().settled;
    circuit.with_new_root(computed).check().unwrap().0
}

#[test]
fn a_prover_cannot_turn_a_valid_request_into_a_no_op() {
    let (_, w) = run(&[forced(1, 1, 0, 1_234)]);
    assert!(with_withdrawn(w.clone(), 0, 1_234), "control: the honest amount is accepted");
    assert!(!with_withdrawn(w.clone(), 0, 0));
    assert!(!with_withdrawn(w, 0, 1_233));
}

#[test]
fn a_prover_cannot_execute_a_request_with_a_bad_signature() {
    let (_, w) = run(&[forced(2, 1, 0, 1_000)]);
    assert!(with_withdrawn(w.clone(), 0, 0), "control: the no-op is accepted");
    assert!(!with_withdrawn(w, 0, 1_000));
}

#[test]
fn a_prover_cannot_execute_a_request_above_the_balance() {
    let (_, w) = run(&[forced(1, 1, 0, 60_000)]);
    assert!(!with_withdrawn(w, 0, 50_000), "not even the whole balance instead");
}

#[test]
fn the_request_hash_binds_every_field_of_the_request() {
    let (_, w) = run(&[forced(1, 1, 0, 1_234)]);
    let tampered = |change: &dyn Fn(&mut ForcedWithdrawalRequest)| {
        let mut w = w.clone();
        let mut request = w.ops[0].forced.unwrap();
        change(&mut request);
        w.ops[0].forced = Some(request);
        w.ops[0].to_l1 = Some(request.to_l1);
        let circuit = BatchCircuit::new(&w, PROVER);
        let computed = circuit.computed_roots().unwrap().settled;
        circuit.with_new_root(computed).check().unwrap().0
    };
    assert!(tampered(&|_| {}), "control");
    assert!(!tampered(&|r| r.to_l1 = L1Address([1; 20])));
    assert!(!tampered(&|r| r.request_id += 1));
    assert!(!tampered(&|r| r.amount = 1_000));
}
