//! Prints the circuit's constraint counts per component and per slot (for BENCHMARKS.md):
//! `cargo run --release -p tandem-circuit --example constraints`.

use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
use tandem_circuit::gadgets::{eddsa, merkle, num, poseidon, Bool, FVar, F};
use tandem_circuit::BatchCircuit;

fn setup_cs() -> ConstraintSystemRef<F> {
    let cs = ConstraintSystem::<F>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    cs
}

fn w(cs: &ConstraintSystemRef<F>) -> FVar {
    FVar::new_witness(cs.clone(), || Ok(F::from(0u64))).unwrap()
}

fn count(f: impl FnOnce(&ConstraintSystemRef<F>)) -> usize {
    let cs = setup_cs();
    f(&cs);
    cs.num_constraints()
}

fn path(depth: usize) -> usize {
    count(|cs| {
        let bits: Vec<Bool> = (0..depth).map(|_| Bool::new_witness(cs.clone(), || Ok(false)).unwrap()).collect();
        let sib: Vec<FVar> = (0..depth).map(|_| w(cs)).collect();
        let _ = merkle::update_path(&Bool::TRUE, &w(cs), &w(cs), &w(cs), &bits, &sib).unwrap();
    }) - depth // index bits' booleanity
}

fn main() {
    println!("component | constraints");
    println!("---|---");
    for n in [2usize, 4, 5, 8, 9] {
        let c = count(|cs| {
            let inputs: Vec<FVar> = (0..n).map(|_| w(cs)).collect();
            let _ = poseidon::poseidon(&inputs).unwrap();
        });
        println!("Poseidon({n}) | {c}");
    }
    println!("balance path verify+update (depth 5) | {}", path(5));
    for d in [4usize, 8, 16, 24] {
        println!("account path verify+update (depth {d}) | {}", path(d));
    }
    let c = count(|cs| {
        let p = eddsa::alloc_point(cs.clone(), Some(eddsa::identity())).unwrap();
        let r = eddsa::alloc_point(cs.clone(), Some(eddsa::identity())).unwrap();
        let s = eddsa::alloc_scalar(cs.clone(), Some(Default::default())).unwrap();
        eddsa::verify(&Bool::TRUE, &p, &r, &s, &w(cs)).unwrap();
    });
    println!("EdDSA-Poseidon verify (R8 alloc + S < l + Poseidon(5) + both products) | {c}");
    println!(
        "range check 128 bits | {}",
        count(|cs| {
            num::range_check(&w(cs), 128).unwrap();
        })
    );

    let sha = |bytes: usize| {
        count(|cs| {
            let data: Vec<_> = (0..bytes).map(|_| ark_r1cs_std::uint8::UInt8::new_witness(cs.clone(), || Ok(0u8)).unwrap()).collect();
            ark_crypto_primitives::crh::sha256::constraints::Sha256Gadget::digest(&data).unwrap();
        }) - 8 * bytes // the input bytes' booleanity
    };
    println!("SHA-256 of 55 bytes (1 block) | {}", sha(55));
    println!("SHA-256 of 119 bytes (2 blocks) | {}", sha(119));

    println!();
    println!("S | D | total | data commitment bytes | SHA-256 blocks");
    println!("---|---|---|---|---");
    for depth in [4u8, 8, 16, 24] {
        for slots in [1usize, 2, 4, 8] {
            let total = BatchCircuit::num_constraints(slots, depth, 1);
            let bytes = 4 + 52 * slots;
            println!("{slots} | {depth} | {total} | {bytes} | {}", (bytes + 9).div_ceil(64));
        }
    }
    println!();
    println!("Marginal cost of a slot: (total(S=8) - total(S=4)) / 4");
    for depth in [4u8, 8, 16, 24] {
        let per = (BatchCircuit::num_constraints(8, depth, 1) - BatchCircuit::num_constraints(4, depth, 1)) / 4;
        println!("D={depth}: {per}");
    }
    println!();
    println!("Every slot has the same shape (a one-hot op type selects the rules), so Deposit,");
    println!("Transfer, TransferToNew, Withdraw and Noop cost the same per slot. The data commitment");
    println!("hashes 4 + 52·S bytes: about 52/64 of a SHA-256 block per slot plus the record's");
    println!("assembly (packed key bits, address bits, one-hot selection).");
}
