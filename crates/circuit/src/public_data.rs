//! The data commitment of SPEC.md §10: `dataHash = sha256(feeAccount (4 bytes BE) ‖ rec_1 ‖ …
//! ‖ rec_S)` with the top 3 bits cleared, where `rec_i` is slot `i`'s op encoded as SPEC §4.2
//! says, right-padded with zeros to [`ZK_RECORD_BYTES`] (a Noop or empty slot is all zeros).
//!
//! The bytes and their hash are `tandem_chain::zk_public_data` / `zk_data_hash`; [`data_hash`]
//! takes the hash as a field element, and [`enforce_data_hash`] builds the same bytes in the
//! circuit from the slot's op variables and hashes them with arkworks' SHA-256 gadget.
//!
//! In-circuit encoding of each field:
//! - header byte `type << 5 | token`, the type bits linear in the one-hot op type;
//! - indices: the low `D` bits of the index variables, 3 bytes big-endian (`D ≤ 24`);
//! - `PackedAmount` (Transfer, TransferToNew): witnessed mantissa `m` (27 bits) and exponent
//!   `e` (5 bits) with `amount = m·10^e` enforced for those op types; the 4 bytes are
//!   `e << 27 | m`. Canonicity is not enforced: the bytes are what the hash binds, and L1
//!   refuses non-canonical public data;
//! - `PackedFee`: mantissa (3 bits), exponent (5 bits), `fee = m·10^e` enforced in every slot
//!   (zero fees are `m = e = 0`); the byte is `e << 3 | m`;
//! - Deposit and Withdraw amounts: the 128 bits of the amount's range check, 16 bytes BE;
//! - packed keys (circomlib `packPoint`): the canonical bits of `y`, little-endian bytes, with
//!   bit 255 set iff `x > (p-1)/2`, computed as the low bit of the canonical decomposition of
//!   `2x mod p` (`2x < p` iff `x ≤ (p-1)/2`, otherwise `2x - p` is odd);
//! - the L1 address: the 160 bits of a range check of the address variable, 20 bytes BE;
//! - a forced withdrawal's request hash: the canonical 254 bits of the hash variable, 32
//!   bytes BE.
//!
//! Each record bit is the sum over op types of `[type] ∧ bit` (the type is one-hot, so the sum
//! is a boolean): Noop slots are all zeros whatever their free witnesses hold.

use ark_ff::PrimeField;
use ark_r1cs_std::boolean::AllocatedBool;
use ark_r1cs_std::prelude::*;
use ark_r1cs_std::uint8::UInt8;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use tandem_chain::ZK_RECORD_BYTES;
use tandem_types::{Op, PackedAmount, PackedFee};

use crate::gadgets::num::range_check;
use crate::gadgets::{Bool, FVar, F};

/// The data hash (`tandem_chain::zk_data_hash`) as the field element the circuit takes as its
/// third public input.
pub fn data_hash(fee_account: u32, ops: &[Op], slots: usize) -> Option<F> {
    tandem_chain::zk_data_hash(fee_account, ops, slots).map(|d| F::from_be_bytes_mod_order(d.as_slice()))
}

/// `(mantissa, exponent)` of a `PackedAmount`.
pub fn amount_parts(a: PackedAmount) -> (u32, u32) {
    let bits = u32::from_be_bytes(a.to_bytes());
    (bits & ((1 << 27) - 1), bits >> 27)
}

/// `(mantissa, exponent)` of a `PackedFee`.
pub fn fee_parts(f: PackedFee) -> (u32, u32) {
    let bits = f.to_bytes()[0] as u32;
    (bits & 7, bits >> 3)
}

fn bits_le(cs: &ConstraintSystemRef<F>, value: u32, n: usize) -> Result<Vec<Bool>, SynthesisError> {
    (0..n).map(|i| Bool::new_witness(cs.clone(), || Ok((value >> i) & 1 == 1))).collect()
}

/// `10^e` for the exponent's little-endian bits: a product of `1 + e_i·(10^(2^i) - 1)`.
fn pow10(e_bits: &[Bool]) -> Result<FVar, SynthesisError> {
    let mut acc = FVar::one();
    let mut base = F::from(10u64);
    for bit in e_bits {
        let factor = FVar::one() + FVar::from(bit.clone()) * FVar::constant(base - F::from(1u64));
        acc = if acc.is_constant() { factor } else { acc * factor };
        base = base * base;
    }
    Ok(acc)
}

/// A packed number's witnessed bits: little-endian, mantissa bits then exponent bits (the
/// encoding's integer, `e << mantissa_bits | m`).
pub(crate) struct PackedVar {
    pub bits: Vec<Bool>,
}

/// Allocates `(m, e)` with `m_bits`/`5` bits and enforces `m·10^e = value` when `enabled`.
pub(crate) fn alloc_packed(
    cs: &ConstraintSystemRef<F>,
    (m, e): (u32, u32),
    m_bits: usize,
    value: &FVar,
    enabled: &Bool,
) -> Result<PackedVar, SynthesisError> {
    let mant = bits_le(cs, m, m_bits)?;
    let exp = bits_le(cs, e, 5)?;
    let product = Bool::le_bits_to_fp(&mant)? * pow10(&exp)?;
    product.conditional_enforce_equal(value, enabled)?;
    Ok(PackedVar { bits: mant.into_iter().chain(exp).collect() })
}

/// Big-endian byte stream (MSB first) of an integer given by little-endian bits, `bytes` long.
fn be_stream(bits_le: &[Bool], bytes: usize) -> Vec<Bool> {
    assert!(bits_le.len() <= bytes * 8, "{} bits do not fit {bytes} bytes", bits_le.len());
    let mut bits = bits_le.to_vec();
    bits.resize(bytes * 8, Bool::FALSE);
    bits.reverse();
    bits
}

/// circomlib `packPoint` of `(x, y)` as a stream of 256 bits, byte by byte, MSB first.
fn packed_point_stream(x: &FVar, y: &FVar) -> Result<Vec<Bool>, SynthesisError> {
    let mut y_bits = y.to_bits_le()?;
    let sign = x.double()?.to_bits_le()?[0].clone();
    y_bits.resize(255, Bool::FALSE);
    y_bits.push(sign);
    // Little-endian bytes: byte b holds bits 8b..8b+8; each byte MSB first.
    Ok(y_bits.chunks(8).flat_map(|byte| byte.iter().rev().cloned().collect::<Vec<_>>()).collect())
}

/// `Σ_k selector_k ∧ bit_k` over mutually exclusive selectors: one constraint per non-
/// constant term plus one for the sum (no booleanity check: the sum of exclusive booleans
/// is boolean).
fn select_exclusive(cs: &ConstraintSystemRef<F>, terms: &[(&Bool, &Bool)]) -> Result<Bool, SynthesisError> {
    let mut products = Vec::new();
    for (sel, bit) in terms {
        match bit {
            Boolean::Constant(false) => {}
            Boolean::Constant(true) => products.push((*sel).clone()),
            _ => products.push(*sel & *bit),
        }
    }
    match products.len() {
        0 => Ok(Bool::FALSE),
        1 => Ok(products.pop().expect("one")),
        _ => {
            let value = || -> Result<bool, SynthesisError> {
                let mut any = false;
                for p in &products {
                    any |= p.value()?;
                }
                Ok(any)
            };
            let out = Boolean::Var(AllocatedBool::new_witness_without_booleanity_check(cs.clone(), value)?);
            let sum = products.iter().fold(FVar::zero(), |acc, p| acc + FVar::from(p.clone()));
            FVar::from(out.clone()).enforce_equal(&sum)?;
            Ok(out)
        }
    }
}

/// One slot's op variables, as the record needs them.
pub(crate) struct SlotRecordVars<'a> {
    /// One-hot op type: Noop, Deposit, Transfer, TransferToNew, Withdraw.
    pub kind: &'a [Bool],
    pub token_bits: &'a [Bool],
    pub first_index_bits: &'a [Bool],
    pub second_index_bits: &'a [Bool],
    /// The amount's 128 bits, little-endian.
    pub amount_bits: &'a [Bool],
    pub amount_packed: &'a [Bool],
    pub fee_packed: &'a [Bool],
    pub new_key: (&'a FVar, &'a FVar),
    pub to_l1: &'a FVar,
    /// A forced withdrawal's request hash (SPEC.md §4.5).
    pub request_hash: &'a FVar,
}

/// The record of one slot: `ZK_RECORD_BYTES` bytes as a bit stream (each byte MSB first).
fn record_stream(cs: &ConstraintSystemRef<F>, v: &SlotRecordVars) -> Result<Vec<Bool>, SynthesisError> {
    let [noop, dep, tr, new, wd, forced] = [&v.kind[0], &v.kind[1], &v.kind[2], &v.kind[3], &v.kind[4], &v.kind[5]];
    let used = !noop;
    let mut out = Vec::with_capacity(ZK_RECORD_BYTES * 8);
    // Header: type bits (code 1 = Deposit, 2 = Transfer, 3 = TransferToNew, 4 = Withdraw,
    // 5 = ForcedWithdraw); the types are exclusive, so the XORs are sums.
    out.push(wd ^ forced);
    out.push(tr ^ new);
    out.push(&(dep ^ new) ^ forced);
    for t in v.token_bits.iter().rev() {
        out.push(&used & t);
    }
    // Bytes 1..4: the first account (deposit target or signer) of every op.
    for b in be_stream(v.first_index_bits, 3) {
        out.push(&used & &b);
    }
    // Bytes 4..52 per op type.
    let key = packed_point_stream(v.new_key.0, v.new_key.1)?;
    let amount = be_stream(v.amount_bits, 16);
    let to = be_stream(v.second_index_bits, 3);
    let packed_amount = be_stream(v.amount_packed, 4);
    let fee = be_stream(v.fee_packed, 1);
    let l1 = be_stream(&range_check(v.to_l1, 160)?, 20);
    let tail = (ZK_RECORD_BYTES - 4) * 8;
    let pad = |mut s: Vec<Bool>| {
        assert!(s.len() <= tail);
        s.resize(tail, Bool::FALSE);
        s
    };
    let deposit = pad([key.clone(), amount.clone()].concat());
    let transfer = pad([to.clone(), packed_amount.clone(), fee.clone()].concat());
    let transfer_new = pad([to, key, packed_amount, fee.clone()].concat());
    let withdraw = pad([amount.clone(), fee, l1].concat());
    let request_hash = be_stream(&v.request_hash.to_bits_le()?, 32);
    let forced_withdraw = pad([amount, request_hash].concat());
    for j in 0..tail {
        out.push(select_exclusive(
            cs,
            &[(dep, &deposit[j]), (tr, &transfer[j]), (new, &transfer_new[j]), (wd, &withdraw[j]), (forced, &forced_withdraw[j])],
        )?);
    }
    debug_assert_eq!(out.len(), ZK_RECORD_BYTES * 8);
    Ok(out)
}

fn stream_to_bytes(stream: &[Bool]) -> Vec<UInt8<F>> {
    stream.chunks(8).map(|byte| UInt8::from_bits_le(&byte.iter().rev().cloned().collect::<Vec<_>>())).collect()
}

/// Enforces `data_hash = sha256(fee account ‖ records)` with the top 3 bits cleared.
pub(crate) fn enforce_data_hash(
    cs: &ConstraintSystemRef<F>,
    slots: &[SlotRecordVars],
    fee_account_bits: &[Bool],
    data_hash: &FVar,
) -> Result<(), SynthesisError> {
    let mut stream = be_stream(fee_account_bits, 4);
    for slot in slots {
        stream.extend(record_stream(cs, slot)?);
    }
    let bytes = stream_to_bytes(&stream);
    let digest = ark_crypto_primitives::crh::sha256::constraints::Sha256Gadget::digest(&bytes)?;
    // Digest bytes are big-endian: little-endian bits run from the last byte.
    let mut bits = Vec::with_capacity(256);
    for byte in digest.0.iter().rev() {
        bits.extend(byte.to_bits_le()?);
    }
    bits.truncate(253);
    Bool::le_bits_to_fp(&bits)?.enforce_equal(data_hash)
}
