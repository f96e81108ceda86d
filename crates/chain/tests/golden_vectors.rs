//! Golden vectors: the byte-level examples in `vectors/` at the repository root (format in
//! `vectors/README.md`), rebuilt here from the Rust reference and compared with the committed
//! files byte for byte. `contracts/test/GoldenVectors.t.sol` checks the same files against the
//! contracts, so a byte changed on either side fails the other side's tests.
//!
//! This file is also the generator: `TANDEM_BLESS_VECTORS=1 cargo test -p tandem-chain --test
//! golden_vectors` rewrites the files from the reference (every changed byte in the diff is a
//! protocol change; the forge suite must then agree again).
//!
//! Everything that builds a vector lives in this one file, beside the reference functions it
//! calls.

use std::path::{Path, PathBuf};

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tandem_chain::{
    batch_digest, intermediate_roots_root, recover_signer, sign_digest, vote_digest, withdrawal_leaf, withdrawal_proof, withdrawals_root,
    zk_data_hash, zk_public_data, BatchHeader, Lane, VoteType,
};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_types::{
    decode_public_data, encode_public_data, AccountIndex, DecodeReason, DepositOp, ForcedWithdrawOp, L1Address, Op, PackedAmount,
    PackedFee, PackedPubKey, TokenId, TransferOp, TransferToNewOp, WithdrawOp,
};

/// Environment variable that turns the comparison into a rewrite of the files.
const BLESS_VAR: &str = "TANDEM_BLESS_VECTORS";

/// `block.timestamp` at which the forge test commits the batch vectors (the fixture's `T0`).
const COMMITTED_AT: u64 = 1_700_000_000;

/// Chain id and rollup address the digest vectors are bound to (anvil's chain id and the
/// address of the first contract its first dev account deploys).
const DIGEST_CHAIN_ID: u64 = 31337;
const DIGEST_ROLLUP: Address = alloy::primitives::address!("5fbdb2315678afecb367f032d93f642f64180aa3");

// ------------------------------------------------------------------ small builders

fn idx(i: u32) -> AccountIndex {
    AccountIndex::new(i).expect("vector account indices are below 2^24")
}

fn tok(t: u32) -> TokenId {
    TokenId::new(t).expect("vector token ids are below 32")
}

fn amount(value: u128) -> PackedAmount {
    PackedAmount::new(value).expect("vector transfer amounts are packable")
}

fn fee(value: u128) -> PackedFee {
    PackedFee::new(value).expect("vector fees are packable")
}

/// Seeds of the Baby Jubjub keys used by the vectors (public keys and deposits).
fn key_seeds() -> std::ops::RangeInclusive<u8> {
    1..=8
}

fn baby_key(seed: u8) -> PrivateKey {
    PrivateKey::from_seed([seed; 32])
}

fn packed_key(seed: u8) -> PackedPubKey {
    baby_key(seed).public_key().pack()
}

/// A root that is a BN254 field element (top 3 bits clear), derived from `tag`.
fn field_root(tag: &str) -> B256 {
    let mut root = keccak256(tag);
    root[0] &= 0x1f;
    root
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn word(value: B256) -> Value {
    Value::String(hex0x(value.as_slice()))
}

fn decimal(value: u128) -> Value {
    Value::String(value.to_string())
}

fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

// ------------------------------------------------------------------ ops.json

fn deposit(to: u32, seed: u8, token: u32, value: u128) -> Op {
    Op::Deposit(DepositOp { to: idx(to), pubkey: packed_key(seed), token: tok(token), amount: value })
}

fn transfer(from: u32, to: u32, token: u32, value: u128, fee_value: u128) -> Op {
    Op::Transfer(TransferOp { from: idx(from), to: idx(to), token: tok(token), amount: amount(value), fee: fee(fee_value) })
}

fn transfer_to_new(from: u32, to: u32, seed: u8, token: u32, value: u128, fee_value: u128) -> Op {
    Op::TransferToNew(TransferToNewOp {
        from: idx(from),
        to: idx(to),
        to_pubkey: packed_key(seed),
        token: tok(token),
        amount: amount(value),
        fee: fee(fee_value),
    })
}

fn withdraw(from: u32, token: u32, value: u128, fee_value: u128, to_l1: [u8; 20]) -> Op {
    Op::Withdraw(WithdrawOp { from: idx(from), token: tok(token), amount: value, fee: fee(fee_value), to_l1: L1Address(to_l1) })
}

/// The named single ops of `ops.json`: every op type, with boundary indices, token ids,
/// amounts and fees.
fn named_ops() -> Vec<(&'static str, Op)> {
    let max = AccountIndex::MAX;
    let max_amount = PackedAmount::round_down(u128::MAX);
    let max_fee = PackedFee::round_down(u128::MAX);
    vec![
        ("noop", Op::Noop),
        ("deposit-min", deposit(0, 1, 0, 1)),
        ("deposit-erc20", deposit(5, 3, 1, 123_456_789)),
        ("deposit-max", deposit(max, 2, 31, u128::MAX)),
        ("transfer-zero", transfer(0, 1, 0, 0, 0)),
        ("transfer-typical", transfer(1, 2, 0, 15 * 10u128.pow(17), 3 * 10u128.pow(12))),
        ("transfer-eight-digits", transfer(7, 65_536, 2, 12_345_678 * 10u128.pow(10), 7)),
        ("transfer-max", transfer(max, max - 1, 31, max_amount, max_fee)),
        ("transfer-to-new-min", transfer_to_new(0, 1, 4, 0, 1, 1)),
        ("transfer-to-new-typical", transfer_to_new(2, 9, 6, 1, 77, 0)),
        ("transfer-to-new-max", transfer_to_new(max - 1, max, 5, 31, max_amount, max_fee)),
        ("withdraw-min", withdraw(0, 0, 1, 0, [0; 20])),
        ("withdraw-typical", withdraw(1, 0, 5 * 10u128.pow(17), 10u128.pow(15), [0x3c; 20])),
        ("withdraw-max", withdraw(max, 31, u128::MAX, max_fee, [0xff; 20])),
    ]
}

fn op_fields(op: &Op) -> Value {
    match op {
        Op::Noop => json!({}),
        Op::Deposit(d) => json!({
            "to": d.to.get(),
            "token": d.token.get(),
            "pubkey": hex0x(&d.pubkey.0),
            "amount": decimal(d.amount),
        }),
        Op::Transfer(t) => json!({
            "from": t.from.get(),
            "to": t.to.get(),
            "token": t.token.get(),
            "amount": decimal(t.amount.value()),
            "packedAmount": u32::from_be_bytes(t.amount.to_bytes()),
            "fee": decimal(t.fee.value()),
            "packedFee": t.fee.to_bytes()[0],
        }),
        Op::TransferToNew(t) => json!({
            "from": t.from.get(),
            "to": t.to.get(),
            "toPubkey": hex0x(&t.to_pubkey.0),
            "token": t.token.get(),
            "amount": decimal(t.amount.value()),
            "packedAmount": u32::from_be_bytes(t.amount.to_bytes()),
            "fee": decimal(t.fee.value()),
            "packedFee": t.fee.to_bytes()[0],
        }),
        Op::Withdraw(w) => json!({
            "from": w.from.get(),
            "token": w.token.get(),
            "amount": decimal(w.amount),
            "fee": decimal(w.fee.value()),
            "packedFee": w.fee.to_bytes()[0],
            "toL1": hex0x(&w.to_l1.0),
            "withdrawalLeaf": word(withdrawal_leaf(w)),
        }),
        Op::ForcedWithdraw(f) => json!({
            "account": f.account.get(),
            "token": f.token.get(),
            "withdrawn": decimal(f.withdrawn),
            "requestHash": hex0x(&f.request_hash),
        }),
    }
}

// ------------------------------------------------------ forced_withdrawals.json

/// Chain id of the forced-withdrawal vectors: the devnet's L2 chain id.
const FORCED_CHAIN_ID: u64 = 31_337_001;

/// Signed forced-withdrawal requests (SPEC.md §4.5) with their message, request hash, L1
/// queue entry and the `ForcedWithdraw` op that executes them in full.
fn forced_withdrawal_vectors() -> Value {
    let cases = [
        ("eth-typical", 1u32, 1u8, 0u32, [0x3c; 20], 5 * 10u128.pow(17), 1u64),
        ("all-of-a-token", 7, 2, 3, [0x01; 20], 0, 42),
        ("boundaries", AccountIndex::MAX, 3, 31, [0xff; 20], u128::MAX, u64::MAX),
    ];
    let requests: Vec<Value> = cases
        .into_iter()
        .map(|(name, account, seed, token, to_l1, value, request_id)| {
            let request = tandem_state::signing::sign_forced_withdrawal(
                &baby_key(seed),
                FORCED_CHAIN_ID,
                idx(account),
                tok(token),
                L1Address(to_l1),
                value,
                request_id,
            );
            let message = tandem_state::signing::forced_message(FORCED_CHAIN_ID, &request);
            let hash = tandem_state::signing::forced_request_hash(FORCED_CHAIN_ID, &request).expect("signed words are field elements");
            let request_hash = fr_to_be_bytes(&hash);
            let mut entry = Vec::with_capacity(36);
            entry.extend_from_slice(&request.account.to_bytes());
            entry.push(request.token.get());
            entry.extend_from_slice(&request_hash);
            let op =
                Op::ForcedWithdraw(ForcedWithdrawOp { account: request.account, token: request.token, withdrawn: value, request_hash });
            json!({
                "name": name,
                "account": account,
                "token": token,
                "recipient": hex0x(&to_l1),
                "amount": decimal(value),
                "requestId": request_id,
                "r8x": hex0x(&request.r8x),
                "r8y": hex0x(&request.r8y),
                "s": hex0x(&request.s),
                "message": hex0x(&fr_to_be_bytes(&message)),
                "requestHash": hex0x(&request_hash),
                "queueEntry": word(keccak256(&entry)),
                "op": hex0x(&op.encode()),
                "withdrawn": decimal(value),
            })
        })
        .collect();
    json!({ "chainId": FORCED_CHAIN_ID, "requests": requests })
}

fn ops_vectors() -> Value {
    let ops: Vec<Value> = named_ops()
        .into_iter()
        .map(|(name, op)| {
            let encoding = op.encode();
            assert_eq!(Op::decode(&encoding), Ok(op), "{name}: the encoding decodes back to the op");
            assert_eq!(encoding.len(), op.op_type().encoded_len(), "{name}: encoded size");
            let mut entry = op_fields(&op);
            let fields = entry.as_object_mut().expect("op fields are an object");
            fields.insert("name".into(), json!(name));
            fields.insert("opType".into(), json!(op.op_type() as u8));
            fields.insert("encoding".into(), json!(hex0x(&encoding)));
            let zk = zk_data_hash(0, &[op], 1).expect("one op fits one slot");
            fields.insert("zkDataHash".into(), word(zk));
            entry
        })
        .collect();
    json!({ "zkFeeAccount": 0, "zkSlots": 1, "ops": ops })
}

// ------------------------------------------------------------------ public_keys.json

fn public_key_vectors() -> Value {
    let keys: Vec<Value> = key_seeds()
        .map(|seed| {
            let public = baby_key(seed).public_key();
            json!({
                "seed": hex0x(&[seed; 32]),
                "x": hex0x(&fr_to_be_bytes(&public.x())),
                "y": hex0x(&fr_to_be_bytes(&public.y())),
                "packed": hex0x(&public.pack().0),
            })
        })
        .collect();
    let signs: Vec<bool> = key_seeds().map(|seed| packed_key(seed).0[31] & 0x80 != 0).collect();
    assert!(signs.contains(&true) && signs.contains(&false), "the keys cover both sign bits of the packing");
    json!({ "keys": keys })
}

// ------------------------------------------------------------------ batches.json

/// The x and y coordinates (big-endian) of the vector key that packs to `pubkey`.
fn coordinates_of(pubkey: &PackedPubKey) -> (String, String) {
    let seed = key_seeds().find(|seed| packed_key(*seed) == *pubkey).expect("deposit keys are vector keys");
    let public = baby_key(seed).public_key();
    (hex0x(&fr_to_be_bytes(&public.x())), hex0x(&fr_to_be_bytes(&public.y())))
}

/// The batches the forge test commits, finalizes and claims from, in order. Deposits use
/// ETH (token 0) and the fixture's first registered ERC-20 (token 1); the withdrawals never
/// exceed what the deposits locked.
fn batch_specs() -> Vec<(&'static str, u32, Vec<Op>)> {
    let eth = 10u128.pow(18);
    vec![
        (
            "every-op-type",
            0,
            vec![
                deposit(1, 1, 0, 10 * eth),
                deposit(2, 2, 1, 5 * eth),
                transfer(1, 2, 0, 15 * eth / 10, 3 * 10u128.pow(12)),
                transfer_to_new(2, 3, 3, 1, eth, 0),
                withdraw(1, 0, eth, 10u128.pow(15), [0x3c; 20]),
                Op::Noop,
                withdraw(2, 1, 2 * eth, 0, [0x4d; 20]),
                withdraw(3, 0, 3, 0, [0x5e; 20]),
            ],
        ),
        (
            "five-withdrawals",
            AccountIndex::MAX,
            vec![
                transfer(3, 1, 1, 12_345, 1),
                withdraw(1, 0, 1, 0, [0x61; 20]),
                deposit(AccountIndex::MAX, 4, 0, 1),
                withdraw(2, 1, 7 * 10u128.pow(17), 2, [0x62; 20]),
                withdraw(3, 0, 2 * eth, 0, [0x63; 20]),
                transfer_to_new(1, 4, 5, 0, 99_999_999, 7),
                withdraw(4, 0, 123_456_789, 0, [0x64; 20]),
                withdraw(AccountIndex::MAX, 1, 1, 0, [0x65; 20]),
            ],
        ),
        ("empty", 7, vec![]),
        ("one-withdrawal", 1, vec![withdraw(2, 1, eth, 1, [0xee; 20])]),
    ]
}

fn header_json(h: &BatchHeader) -> Value {
    json!({
        "batchNumber": h.batch_number,
        "prevStateRoot": word(h.prev_state_root),
        "newStateRoot": word(h.new_state_root),
        "publicDataHash": word(h.public_data_hash),
        "intermediateRootsRoot": word(h.intermediate_roots_root),
        "priorityOpsCount": h.priority_ops_count,
        "lane": h.lane as u8,
        "opCount": h.op_count,
        "feeAccount": h.fee_account,
    })
}

/// `keccak256(abi.encode(StoredBatch))` with the contract's field order.
#[allow(clippy::too_many_arguments)]
fn stored_batch_hash(
    batch_number: u64,
    lane: u8,
    committed_at: u64,
    priority_ops_end: u64,
    withdrawal_count: u32,
    header_hash: B256,
    new_state_root: B256,
    withdrawals_root: B256,
) -> B256 {
    // abi.encode pads every static value to a 32-byte word: the uint8 lane is encoded as a uint256.
    let lane = U256::from(lane);
    keccak256(
        (batch_number, lane, committed_at, priority_ops_end, withdrawal_count, header_hash, new_state_root, withdrawals_root)
            .abi_encode_params(),
    )
}

/// The header and its hash of every batch of [`batch_specs`], and the `batches.json` value.
fn batch_vectors() -> (Vec<(u64, B256)>, Value) {
    let genesis = keccak256("tandem.genesis");
    let mut prev_root = genesis;
    let mut queue_head = 0u64;
    let mut header_hashes = Vec::new();
    let mut batches = Vec::new();
    for (number, (name, fee_account, ops)) in (1u64..).zip(batch_specs()) {
        let public_data = encode_public_data(&ops);
        let roots: Vec<B256> = (0..ops.len()).map(|i| field_root(&format!("tandem.vectors.root.{number}.{i}"))).collect();
        let new_root = roots.last().copied().unwrap_or(prev_root);
        let deposits: Vec<Value> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Deposit(d) => Some(d),
                _ => None,
            })
            .enumerate()
            .map(|(i, d)| {
                let (x, y) = coordinates_of(&d.pubkey);
                json!({
                    "queueIndex": queue_head + i as u64,
                    "token": d.token.get(),
                    "amount": decimal(d.amount),
                    "pubX": x,
                    "pubY": y,
                    "packedKey": hex0x(&d.pubkey.0),
                })
            })
            .collect();
        let withdrawals: Vec<WithdrawOp> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Withdraw(w) => Some(*w),
                _ => None,
            })
            .collect();
        let header = BatchHeader {
            batch_number: number,
            prev_state_root: prev_root,
            new_state_root: new_root,
            public_data_hash: sha256(&public_data),
            intermediate_roots_root: intermediate_roots_root(&roots),
            priority_ops_count: deposits.len() as u32,
            lane: Lane::Optimistic,
            op_count: ops.len() as u32,
            fee_account,
        };
        let header_hash = header.hash();
        queue_head += deposits.len() as u64;
        let root = withdrawals_root(&withdrawals);
        let count = withdrawals.len() as u32;
        let withdrawal_entries: Vec<Value> = withdrawals
            .iter()
            .enumerate()
            .map(|(index, w)| {
                let proof = withdrawal_proof(&withdrawals, index).expect("index in range");
                json!({
                    "index": index,
                    "tokenId": w.token.get(),
                    "amount": decimal(w.amount),
                    "recipient": hex0x(&w.to_l1.0),
                    "leaf": word(withdrawal_leaf(w)),
                    "proof": proof.into_iter().map(word).collect::<Vec<_>>(),
                })
            })
            .collect();
        header_hashes.push((number, header_hash));
        batches.push(json!({
            "name": name,
            "publicData": hex0x(&public_data),
            "deposits": deposits,
            "intermediateRoots": roots.iter().copied().map(word).collect::<Vec<_>>(),
            "header": header_json(&header),
            "headerHash": word(header_hash),
            "withdrawals": withdrawal_entries,
            "withdrawalsRoot": word(root),
            "storedBatch": {
                "batchNumber": number,
                "lane": Lane::Optimistic as u8,
                "committedAt": COMMITTED_AT,
                "priorityOpsEnd": queue_head,
                "withdrawalCount": count,
                "headerHash": word(header_hash),
                "newStateRoot": word(new_root),
                "withdrawalsRoot": word(root),
            },
            "storedBatchHash": word(stored_batch_hash(
                number,
                Lane::Optimistic as u8,
                COMMITTED_AT,
                queue_head,
                count,
                header_hash,
                new_root,
                root
            )),
        }));
        prev_root = new_root;
    }
    let value = json!({
        "genesisStateRoot": word(genesis),
        "committedAt": COMMITTED_AT,
        "batches": batches,
        "refused": refused_vectors(genesis),
    });
    (header_hashes, value)
}

/// Public data every strict parser refuses, with the contract's error for it (signature
/// and its two arguments: the offset of the bad op and its type or header byte).
fn refused_vectors(genesis: B256) -> Vec<Value> {
    let transfer_bytes = transfer(1, 2, 0, 5, 0).encode();
    let withdraw_bytes = withdraw(1, 0, 5, 0, [0x3c; 20]).encode();
    let to_new_bytes = transfer_to_new(1, 2, 3, 0, 5, 0).encode();
    let cases: Vec<(&str, Vec<u8>, &str, usize, u8)> = vec![
        ("unknown-type-6-after-a-transfer", [transfer_bytes.as_slice(), &[0xc0u8][..]].concat(), "UnknownOpType(uint256,uint8)", 12, 6),
        ("unknown-type-7", vec![0xff], "UnknownOpType(uint256,uint8)", 0, 7),
        ("truncated-withdraw", withdraw_bytes[..40].to_vec(), "TruncatedOp(uint256,uint8)", 0, 4),
        ("truncated-transfer-to-new-after-a-noop", [&[0x00u8][..], &to_new_bytes[..43]].concat(), "TruncatedOp(uint256,uint8)", 1, 3),
        ("noop-with-token-bits", [transfer_bytes.as_slice(), &[0x05u8][..]].concat(), "NonCanonicalNoop(uint256,uint8)", 12, 5),
    ];
    cases
        .into_iter()
        .map(|(name, data, error, offset, code)| {
            let refusal = decode_public_data(&data).expect_err(name);
            let expected_kind = match &refusal.reason {
                DecodeReason::UnknownTag(tag) => *tag == code && error.starts_with("UnknownOpType("),
                DecodeReason::Truncated { .. } => error.starts_with("TruncatedOp("),
                DecodeReason::ReservedBitsSet(_) => error.starts_with("NonCanonicalNoop("),
                _ => false,
            };
            assert!(expected_kind, "{name}: Rust refuses with {refusal}, the vector says {error}");
            let header = BatchHeader {
                batch_number: 1,
                prev_state_root: genesis,
                new_state_root: field_root(&format!("tandem.vectors.refused.{name}")),
                public_data_hash: sha256(&data),
                intermediate_roots_root: B256::ZERO,
                priority_ops_count: 0,
                lane: Lane::Optimistic,
                op_count: 1,
                fee_account: 0,
            };
            json!({
                "name": name,
                "publicData": hex0x(&data),
                "header": header_json(&header),
                "error": error,
                "offset": offset,
                "code": code,
            })
        })
        .collect()
}

// ------------------------------------------------------------------ digests.json

fn signed(signer: &PrivateKeySigner, digest: B256) -> Value {
    let signature = sign_digest(signer, digest);
    let recovered = recover_signer(digest, &signature).expect("a fresh signature recovers");
    assert_eq!(recovered, signer.address());
    json!({ "digest": word(digest), "signature": hex0x(&signature), "recovered": hex0x(recovered.as_slice()) })
}

fn merge(mut base: Value, extra: Value) -> Value {
    let fields = base.as_object_mut().expect("object");
    for (k, v) in extra.as_object().expect("object") {
        fields.insert(k.clone(), v.clone());
    }
    base
}

fn digest_vectors(header_hashes: &[(u64, B256)]) -> Value {
    let key = keccak256("tandem.vectors.signer");
    let signer = PrivateKeySigner::from_bytes(&key).expect("keccak of the tag is a valid secp256k1 scalar");
    // (revert count, batch number, header hash): the batches at revert count 0, then the
    // extremes and a replacement signed after reverts.
    let mut batch_cases: Vec<(u64, u64, B256)> = header_hashes.iter().map(|(n, h)| (0, *n, *h)).collect();
    batch_cases.push((0, u64::MAX, keccak256("tandem.header")));
    batch_cases.push((7, 1, keccak256("tandem.header")));
    batch_cases.push((u64::MAX, 1, keccak256("tandem.header")));
    let batch: Vec<Value> = batch_cases
        .into_iter()
        .map(|(revert_count, number, header_hash)| {
            let digest = batch_digest(DIGEST_CHAIN_ID, DIGEST_ROLLUP, revert_count, number, header_hash);
            let case = json!({ "revertCount": revert_count, "batchNumber": number, "headerHash": word(header_hash) });
            merge(case, signed(&signer, digest))
        })
        .collect();
    let value = keccak256("tandem.value");
    let vote_cases = [
        (1u64, 0u32, VoteType::Prevote, B256::ZERO),
        (1, 0, VoteType::Prevote, value),
        (7, 2, VoteType::Precommit, B256::ZERO),
        (7, 2, VoteType::Precommit, value),
        (u64::MAX, u32::MAX, VoteType::Precommit, value),
    ];
    let votes: Vec<Value> = vote_cases
        .into_iter()
        .map(|(height, round, vote_type, value_id)| {
            let digest = vote_digest(DIGEST_CHAIN_ID, DIGEST_ROLLUP, height, round, vote_type, value_id);
            merge(
                json!({ "height": height, "round": round, "voteType": vote_type as u8, "valueId": word(value_id) }),
                signed(&signer, digest),
            )
        })
        .collect();
    json!({
        "chainId": DIGEST_CHAIN_ID,
        "rollup": hex0x(DIGEST_ROLLUP.as_slice()),
        "signerKey": word(key),
        "signer": hex0x(signer.address().as_slice()),
        "batchDigests": batch,
        "voteDigests": votes,
    })
}

// ------------------------------------------------------------------ zk_data_hash.json

/// Several slot counts; the first four cases are the ones the circuit's fixtures started from.
fn zk_vectors() -> Value {
    let ops: Vec<Op> = named_ops().into_iter().map(|(_, op)| op).collect();
    let by_name = |name: &str| named_ops().into_iter().find(|(n, _)| *n == name).map(|(_, op)| op).expect("named op");
    let deposit = Op::Deposit(DepositOp { to: idx(5), pubkey: PackedPubKey([0xab; 32]), token: tok(1), amount: 123_456_789 });
    let transfer = by_name("transfer-typical");
    let to_new = Op::TransferToNew(TransferToNewOp {
        from: idx(2),
        to: idx(9),
        to_pubkey: PackedPubKey([0x11; 32]),
        token: tok(1),
        amount: amount(77),
        fee: fee(0),
    });
    let withdraw = by_name("withdraw-typical");
    let cases: Vec<(u32, Vec<Op>, usize)> = vec![
        (0, vec![], 2),
        (0, vec![transfer], 1),
        (3, vec![deposit, transfer, to_new, withdraw], 4),
        (70_000, vec![withdraw, transfer], 8),
        (1, vec![Op::Noop], 1),
        (AccountIndex::MAX, ops.clone(), ops.len()),
        (5, ops[..5].to_vec(), 16),
        (0, vec![], 32),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|(fee_account, ops, slots)| {
                json!({
                    "feeAccount": fee_account,
                    "slots": slots,
                    "publicData": hex0x(&encode_public_data(&ops)),
                    "zkPublicData": hex0x(&zk_public_data(fee_account, &ops, slots).expect("ops fit the slots")),
                    "zkDataHash": word(zk_data_hash(fee_account, &ops, slots).expect("ops fit the slots")),
                })
            })
            .collect(),
    )
}

// ------------------------------------------------------------------ file format and check

/// Canonical text of a vector file: two-space indentation, object keys sorted, arrays one
/// element a line, a final newline. Independent of serde_json's map ordering features.
fn canonical(value: &Value) -> String {
    fn write(value: &Value, depth: usize, out: &mut String) {
        let pad = |n: usize| "  ".repeat(n);
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    write(item, depth + 1, out);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push(']');
            }
            Value::Object(fields) if !fields.is_empty() => {
                let mut keys: Vec<&String> = fields.keys().collect();
                keys.sort();
                out.push_str("{\n");
                for (i, key) in keys.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    out.push_str(&Value::String((*key).clone()).to_string());
                    out.push_str(": ");
                    write(&fields[*key], depth + 1, out);
                    out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, 0, &mut out);
    out.push('\n');
    out
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}

/// Every vector file, by name, as the Rust reference builds it now.
fn all_vector_files() -> Vec<(&'static str, String)> {
    let (header_hashes, batches) = batch_vectors();
    vec![
        ("ops.json", canonical(&ops_vectors())),
        ("public_keys.json", canonical(&public_key_vectors())),
        ("batches.json", canonical(&batches)),
        ("digests.json", canonical(&digest_vectors(&header_hashes))),
        ("zk_data_hash.json", canonical(&zk_vectors())),
        ("forced_withdrawals.json", canonical(&forced_withdrawal_vectors())),
    ]
}

/// The first line where `committed` and `rebuilt` differ, for the failure message.
fn first_difference(committed: &str, rebuilt: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut rebuilt_lines = rebuilt.lines();
    for line in 1.. {
        match (committed_lines.next(), rebuilt_lines.next()) {
            (None, None) => break,
            (a, b) if a == b => continue,
            (a, b) => return format!("line {line}:\n  committed: {}\n  reference: {}", a.unwrap_or("<end>"), b.unwrap_or("<end>")),
        }
    }
    "only line endings differ".into()
}

#[test]
fn committed_vectors_equal_the_rust_reference() {
    let dir = vectors_dir();
    let bless = std::env::var_os(BLESS_VAR).is_some();
    let mut stale = Vec::new();
    for (name, rebuilt) in all_vector_files() {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, &rebuilt).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == rebuilt => {}
            Ok(committed) => {
                stale.push(format!("vectors/{name} differs from the Rust reference at {}", first_difference(&committed, &rebuilt)))
            }
            Err(e) => stale.push(format!("vectors/{name} cannot be read: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(if the protocol changed on purpose: {BLESS_VAR}=1 cargo test -p tandem-l1 --test golden_vectors)",
        stale.join("\n")
    );
}

#[test]
fn canonical_text_sorts_keys_and_ends_with_a_newline() {
    let text = canonical(&json!({"b": [1, {"d": "x", "c": []}], "a": {}}));
    assert_eq!(text, "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": [],\n      \"d\": \"x\"\n    }\n  ]\n}\n");
}
