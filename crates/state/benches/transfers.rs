//! End-to-end transfer application at production tree depth (24): signature checks (in
//! parallel), nonce/balance rules, account leaves and the state root after every op.
//! Plus the pieces that bound it: one Poseidon hash, one signature verification, one
//! single-leaf root update at depth 24.
//!
//! Run: `cargo bench -p tandem-state --bench transfers`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::collections::HashMap;
use tandem_crypto::{hash2, poseidon_many, verify, Fr, PrivateKey, Signature};
use tandem_state::signing::{sign_tx, verify_txs, TxSignature};
use tandem_state::{Ledger, LedgerConfig, LedgerOp, SparseMerkleTree};
use tandem_types::*;

const CHAIN_ID: ChainId = 1;
const ACCOUNTS: u32 = 2_048;
const BLOCK: usize = 1_000;

fn key(i: u32) -> PrivateKey {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    PrivateKey::from_seed(seed)
}

fn setup() -> (Ledger, Vec<PrivateKey>) {
    let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: 24, chunk_size: None }).unwrap();
    let keys: Vec<PrivateKey> = (0..ACCOUNTS).map(key).collect();
    let deposits: Vec<LedgerOp> = keys
        .iter()
        .map(|k| LedgerOp::Deposit(L1Deposit { to: k.public_key().pack(), token: TokenId::ETH, amount: 10u128.pow(24) }))
        .collect();
    ledger.apply_batch(&deposits, AccountIndex::new(0).unwrap()).unwrap();
    (ledger, keys)
}

/// A block of `BLOCK` signed transfers between existing accounts (pseudo-random pairs).
fn block(ledger: &Ledger, keys: &[PrivateKey]) -> Vec<LedgerOp> {
    let mut nonces: HashMap<u32, u32> = HashMap::new();
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % (ACCOUNTS as u64 - 1)) as u32 + 1
    };
    (0..BLOCK)
        .map(|_| {
            let from = next();
            let mut to = next();
            if to == from {
                to = from % (ACCOUNTS - 1) + 1;
            }
            let nonce = nonces.entry(from).or_insert(ledger.account(AccountIndex::new(from).unwrap()).unwrap().nonce);
            let tx = Tx::Transfer(TransferTx {
                from: AccountIndex::new(from).unwrap(),
                to: keys[to as usize].public_key().pack(),
                token: TokenId::ETH,
                amount: PackedAmount::new(12_345_000_000).unwrap(),
                fee: PackedFee::new(10u128.pow(12)).unwrap(),
                nonce: *nonce,
            });
            *nonce += 1;
            LedgerOp::Tx(sign_tx(&keys[from as usize], CHAIN_ID, tx).unwrap())
        })
        .collect()
}

fn transfers(c: &mut Criterion) {
    let (ledger, keys) = setup();
    let ops = block(&ledger, &keys);
    let fee_account = AccountIndex::new(0).unwrap();

    let mut group = c.benchmark_group("apply_block");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.bench_function("1000_transfers_depth24_roots_per_op", |b| {
        b.iter_batched(|| ledger.clone(), |mut l| l.apply_batch(&ops, fee_account).unwrap(), BatchSize::LargeInput)
    });
    group.finish();

    let mut group = c.benchmark_group("parts");
    group.bench_function("poseidon_2_inputs", |b| b.iter(|| hash2(Fr::from(1u64), Fr::from(2u64))));
    // 64 independent pairs together (a Merkle level): time per 64 hashes.
    let pairs: Vec<[Fr; 2]> = (0..64u64).map(|i| [Fr::from(i), Fr::from(i + 1)]).collect();
    group.bench_function("poseidon_2_inputs_64_together", |b| b.iter(|| poseidon_many(&pairs)));
    // Two together, as in a client's admission group of two or the tail of a level: whether
    // the eight-lane vector path or two scalar hashes is cheaper (MIN_VECTOR_HASHES).
    group.bench_function("poseidon_2_inputs_2_together", |b| b.iter(|| poseidon_many(&pairs[..2])));
    let wide: Vec<[Fr; 9]> = (0..2u64).map(|i| [Fr::from(i + 3); 9]).collect();
    group.bench_function("poseidon_9_inputs_2_together", |b| b.iter(|| poseidon_many(&wide)));
    // Keys as a member's admission has them: the signer's and the recipient's from their accounts.
    type Keys = (SignedTx, tandem_crypto::PublicKey, Option<tandem_crypto::PublicKey>);
    let signers: Vec<Keys> = ops[..2]
        .iter()
        .map(|op| match op {
            LedgerOp::Tx(signed) => (*signed, ledger.account(signed.tx.from()).unwrap().pubkey, ledger.recipient_key(&signed.tx)),
            _ => unreachable!("the bench block holds transfers only"),
        })
        .collect();
    let pair: Vec<TxSignature<'_>> =
        signers.iter().map(|(signed, key, to)| TxSignature::new(signed, key).with_recipient(to.as_ref())).collect();
    group.bench_function("signature_checks_2_together", |b| b.iter(|| verify_txs(CHAIN_ID, &pair)));
    let k = key(1);
    let msg = Fr::from(99u64);
    let sig = k.sign(msg);
    let packed = sig.pack();
    group.bench_function("eddsa_verify_with_unpack", |b| b.iter(|| verify(&k.public_key(), msg, &Signature::unpack(&packed).unwrap())));
    let mut tree = SparseMerkleTree::new(24);
    let mut i = 0u32;
    group.bench_function("leaf_update_depth24", |b| {
        b.iter(|| {
            i = (i + 7919) % (1 << 24);
            tree.update(&[(i, Fr::from(i as u64 + 1))])
        })
    });
    let account = ledger.account(AccountIndex::new(5).unwrap()).unwrap().clone();
    group.bench_function("account_leaf_hash_one_token", |b| b.iter(|| account.leaf_hash()));
    group.finish();
}

criterion_group!(benches, transfers);
criterion_main!(benches);
