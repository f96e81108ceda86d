//! Fault-proof chunks (SPEC §5.2, §17): on a chain that settles fees every `S` ops, a batch
//! longer than the circuit's `S` slots is split at every chunk boundary, and each chunk,
//! witnessed from the state at its start, satisfies the batch circuit with exactly the Rust
//! STF's boundary roots and the data hash L1 computes over the chunk's ops. This is the
//! statement the dispute game asks a prover to answer.

mod common;

use ark_ff::PrimeField;
use common::*;
use proptest::prelude::*;
use std::num::NonZeroUsize;
use tandem_circuit::{BatchCircuit, Fr};
use tandem_state::witness::{batch_witness, WitnessError};

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn every_chunk_of_a_random_batch_satisfies_with_the_stf_boundary_roots(
        slots in 2usize..=3,
        fee_account in 0u32..3,
        actions in proptest::collection::vec(action(), 8..16),
    ) {
        let ledger = genesis_chunked(4, NonZeroUsize::new(slots));
        let ops = valid_batch(&ledger, &actions, 3 * slots, idx(fee_account));
        prop_assume!(ops.len() > slots);
        let outcome = ledger.clone().apply_batch(&ops, idx(fee_account)).unwrap();
        let mut state = ledger.clone();
        for (k, chunk) in ops.chunks(slots).enumerate() {
            let (first, last) = (k * slots, k * slots + chunk.len() - 1);
            let start = if k == 0 { outcome.prev_root } else { outcome.intermediate_roots[first - 1] };
            let end = outcome.intermediate_roots[last];
            let (w, part) = batch_witness(&state, chunk, idx(fee_account), slots).unwrap();
            prop_assert_eq!(&part.ops[..], &outcome.ops[first..=last]);
            let circuit = BatchCircuit::new(&w, PROVER);
            prop_assert_eq!(circuit.public_inputs()[..2].to_vec(), vec![start, end], "chunk {}", k);
            let reference = tandem_chain::zk_data_hash(fee_account, &outcome.ops[first..=last], slots).unwrap();
            prop_assert_eq!(circuit.public_inputs()[2], Fr::from_be_bytes_mod_order(reference.as_slice()));
            prop_assert!(circuit.check().unwrap().0, "chunk {} is unsatisfiable", k);
            state.apply_batch(chunk, idx(fee_account)).unwrap();
        }
        prop_assert_eq!(state.root(), outcome.root);
    }
}

/// A batch crossing a chunk boundary has no single-circuit witness: the STF settles fees
/// inside it, the circuit only after its last slot.
#[test]
fn a_batch_spanning_two_chunks_has_no_witness() {
    let ledger = genesis_chunked(4, NonZeroUsize::new(2));
    let ops = [deposit(1, 0, 5), deposit(2, 0, 5), deposit(3, 0, 5)];
    let error = batch_witness(&ledger, &ops, idx(0), 4).unwrap_err();
    assert!(matches!(error, WitnessError::SpansChunks { ops: 3, chunk: 2 }), "{error}");
    assert!(batch_witness(&ledger, &ops[..2], idx(0), 4).is_ok());
}
