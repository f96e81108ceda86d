//! The data commitment (SPEC §10): the chain's bytes match the committed vectors and the
//! circuit's field element is their hash; the circuit binds every byte of it (wrong hash, another fee account, another
//! encoding of the same amount, a packing that is not the amount, a tampered amount are all
//! unsatisfiable).

mod common;

use ark_ff::PrimeField;
use common::*;
use tandem_chain::{zk_data_hash, zk_public_data as public_data};
use tandem_circuit::public_data::data_hash;
use tandem_circuit::{BatchCircuit, Fr};
use tandem_state::witness::{batch_witness, BatchWitness};
use tandem_types::*;

fn ops_of(w: &BatchWitness) -> Vec<Op> {
    w.ops.iter().map(|o| o.op).collect()
}

fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

#[test]
fn native_data_hash_matches_the_l1_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../vectors/zk_data_hash.json");
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(!vectors.is_empty());
    for v in vectors {
        let fee = v["feeAccount"].as_u64().unwrap() as u32;
        let slots = v["slots"].as_u64().unwrap() as usize;
        let compact = hex_bytes(v["publicData"].as_str().unwrap());
        let mut ops = Vec::new();
        let mut rest = &compact[..];
        while !rest.is_empty() {
            let (op, used) = Op::decode_prefix(rest).unwrap();
            ops.push(op);
            rest = &rest[used..];
        }
        assert_eq!(public_data(fee, &ops, slots).unwrap(), hex_bytes(v["zkPublicData"].as_str().unwrap()));
        assert_eq!(zk_data_hash(fee, &ops, slots).unwrap().to_vec(), hex_bytes(v["zkDataHash"].as_str().unwrap()));
        assert_eq!(data_hash(fee, &ops, slots).unwrap(), Fr::from_be_bytes_mod_order(&hex_bytes(v["zkDataHash"].as_str().unwrap())));
    }
}

/// Every op type (deposit creating an account, transfer, transfer to new, withdrawal) and a
/// Noop pad at S = 5, D = 4, fee account 0.
fn all_types() -> BatchWitness {
    let ledger = genesis(4);
    let ops = vec![
        deposit(3, 2, 9_999),
        transfer(1, idx(1), 2, 0, 1_200, 3, 0),
        transfer(2, idx(2), 4, 1, 5_000, 0, 0),
        withdraw(1, idx(1), 0, 777, 2, 1),
    ];
    batch_witness(&ledger, &ops, idx(0), 5).unwrap().0
}

#[test]
fn circuit_hash_equals_reference_and_each_field_is_bound() {
    let w = all_types();
    let ops = ops_of(&w);
    assert!(matches!(ops[2], Op::TransferToNew(_)));
    let circuit = BatchCircuit::new(&w, PROVER);
    let reference = tandem_chain::zk_data_hash(0, &ops[..4], 5).unwrap();
    assert_eq!(circuit.data_hash(), Fr::from_be_bytes_mod_order(reference.as_slice()));
    let (ok, n) = circuit.clone().check().unwrap();
    assert!(ok);
    println!("constraints: batch with data hash S=5 D=4 = {n}");

    // A wrong hash, or the hash of the same ops with another fee account.
    assert!(!circuit.clone().with_data_hash(circuit.data_hash() + Fr::from(1u64)).check().unwrap().0);
    let other_fee = data_hash(1, &ops, 5).unwrap();
    assert!(!circuit.clone().with_data_hash(other_fee).check().unwrap().0);
}

#[test]
fn another_encoding_or_a_wrong_packing_is_unsatisfiable() {
    let ledger = genesis(4);
    // Amount 1,200 = 12·10^2 (canonical) = 120·10^1 = 1200·10^0; fee 5 = 5·10^0.
    let (w, _) = batch_witness(&ledger, &[transfer(1, idx(1), 2, 0, 1_200, 5, 0)], idx(0), 2).unwrap();
    let circuit = BatchCircuit::new(&w, PROVER);
    assert!(circuit.clone().check().unwrap().0);
    assert!(circuit.clone().with_packing(0, (12, 2), (5, 0)).check().unwrap().0, "the canonical packing");

    // The same value packed otherwise: the circuit's record differs from the claimed one...
    assert!(!circuit.clone().with_packing(0, (120, 1), (5, 0)).check().unwrap().0);
    // ... and the claim that matches that record is refused by L1, not by the circuit.
    let Op::Transfer(t) = w.ops[0].op else { panic!() };
    let bytes = |m: u32, e: u32| (e << 27 | m).to_be_bytes();
    let mut data = public_data(0, &ops_of(&w), 2).unwrap();
    data[4 + 7..4 + 11].copy_from_slice(&bytes(120, 1));
    assert!(PackedAmount::from_bytes(bytes(120, 1)).is_err(), "non-canonical encodings do not decode");
    assert_eq!(t.amount.to_bytes(), bytes(12, 2));

    // A packing that is not the amount (11·10^2 = 1,100), with the hash claiming its bytes.
    let mut fake = t;
    fake.amount = PackedAmount::new(1_100).unwrap();
    let claimed = data_hash(0, &[Op::Transfer(fake)], 2).unwrap();
    let tampered = circuit.clone().with_packing(0, (11, 2), (5, 0)).with_data_hash(claimed);
    assert!(!tampered.check().unwrap().0);
    // A fee packing that is not the fee (4 instead of 5), likewise.
    let mut fake = t;
    fake.fee = PackedFee::new(4).unwrap();
    let claimed = data_hash(0, &[Op::Transfer(fake)], 2).unwrap();
    assert!(!circuit.clone().with_packing(0, (12, 2), (4, 0)).with_data_hash(claimed).check().unwrap().0);
}

#[test]
fn a_tampered_amount_does_not_match_the_committed_data() {
    // The prover executes (validly signed) 1,100 where the committed data says 1,200.
    let ledger = genesis(4);
    let (committed, _) = batch_witness(&ledger, &[transfer(1, idx(1), 2, 0, 1_200, 5, 0)], idx(0), 2).unwrap();
    let (executed, _) = batch_witness(&ledger, &[transfer(1, idx(1), 2, 0, 1_100, 5, 0)], idx(0), 2).unwrap();
    let honest = BatchCircuit::new(&executed, PROVER);
    assert!(honest.clone().check().unwrap().0);
    let claimed = BatchCircuit::new(&committed, PROVER).data_hash();
    assert!(!honest.with_data_hash(claimed).check().unwrap().0);
    // A withdrawal to another L1 address, likewise.
    let (a, _) = batch_witness(&ledger, &[withdraw(2, idx(2), 1, 10, 1, 0)], idx(0), 2).unwrap();
    let mut ops = ops_of(&a);
    let Op::Withdraw(mut wd) = ops[0] else { panic!() };
    wd.to_l1 = L1Address([0xac; 20]);
    ops[0] = Op::Withdraw(wd);
    let claimed = data_hash(0, &ops, 2).unwrap();
    assert!(!BatchCircuit::new(&a, PROVER).with_data_hash(claimed).check().unwrap().0);
}
