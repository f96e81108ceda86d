//! The batch circuit: `S` op slots (the batch's ops, padded with Noop), then fee settlement,
//! chaining the state root from `prev_root` to `new_root` exactly as the Rust STF
//! (SPEC.md §5) does.
//!
//! Every slot has the same shape, whatever its op: a one-hot op type selects which rules
//! are enforced. A slot updates a *first* account (deposit target or signer) and then a
//! *second* one (transfer recipient) under the root after the first update; unused updates
//! leave the root unchanged and their paths unchecked. The signature check is enforced for
//! signed ops only. After the slots, the fee account is credited each slot's fee in its
//! token (fees of deposits and padding are zero); with no fee at all the root is unchanged.
//!
//! Public inputs, in order: `prev_root`, `new_root`, `data_hash` (SPEC.md §10: SHA-256 of the
//! fee account and the slots' op records, top 3 bits cleared, enforced by
//! [`BatchCircuit::bind_public_data`]), the prover's L1 address as a field element (bound by a
//! constraint so that a proof is useless to anyone else).

use ark_ec::AdditiveGroup;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use taceo_ark_babyjubjub::{EdwardsAffine, Fr as Scalar};
use tandem_state::signing::{address_to_fr, forced_tag, transfer_tag, withdraw_tag};
use tandem_state::witness::{empty_balance_root, AccountWitness, BatchWitness, OpWitness};
use tandem_types::{ChainId, L1Address, Op, TOKEN_BITS};

use crate::gadgets::num::{checked_add, enforce_nonzero_if, range_check, BALANCE_BITS};
use crate::gadgets::{eddsa, merkle, poseidon::poseidon, Bool, FVar, PointVar, F};
use crate::public_data::{alloc_packed, amount_parts, enforce_data_hash, fee_parts, SlotRecordVars};

/// Bits of a nonce.
const NONCE_BITS: usize = 32;

/// Op type codes in the one-hot selector (SPEC.md §4.2 order).
const NOOP: usize = 0;
const DEPOSIT: usize = 1;
const TRANSFER: usize = 2;
const TRANSFER_TO_NEW: usize = 3;
const WITHDRAW: usize = 4;
const FORCED_WITHDRAW: usize = 5;
/// Number of op types (the one-hot selector's width).
const OP_KINDS: usize = 6;

/// Raw values of one account update.
#[derive(Debug, Clone)]
struct AccountValues {
    index: u32,
    exists: bool,
    x: F,
    y: F,
    nonce: F,
    balance_root: F,
    balance: F,
    balance_siblings: Vec<F>,
    siblings: Vec<F>,
}

impl AccountValues {
    fn from_witness(w: &AccountWitness) -> Self {
        let (x, y, nonce, balance_root) = w.leaf_fields();
        Self {
            index: w.index,
            exists: w.account.is_some(),
            x,
            y,
            nonce: F::from(nonce as u64),
            balance_root,
            balance: F::from(w.balance),
            balance_siblings: w.balance_proof.siblings.clone(),
            siblings: w.proof.siblings.clone(),
        }
    }

    fn blank(depth: u8) -> Self {
        Self {
            index: 0,
            exists: false,
            x: F::ZERO,
            y: F::ZERO,
            nonce: F::ZERO,
            balance_root: F::ZERO,
            balance: F::ZERO,
            balance_siblings: vec![F::ZERO; TOKEN_BITS as usize],
            siblings: vec![F::ZERO; depth as usize],
        }
    }
}

/// Raw values of one slot.
#[derive(Debug, Clone)]
struct SlotValues {
    kind: usize,
    token: u32,
    amount: F,
    fee: F,
    /// `(mantissa, exponent)` of the packed amount (Transfer, TransferToNew) and fee.
    amount_parts: (u32, u32),
    fee_parts: (u32, u32),
    first: AccountValues,
    second: AccountValues,
    new_key: (F, F),
    to_l1: F,
    /// A forced withdrawal's requested amount (0: all) and request id.
    requested: F,
    request_id: F,
    r8: EdwardsAffine,
    s: Scalar,
    fee_balance: F,
    fee_balance_siblings: Vec<F>,
}

impl SlotValues {
    fn from_witness(w: &OpWitness, credit: &tandem_state::witness::FeeCredit) -> Self {
        let (kind, token, amount, fee) = match w.op {
            Op::Noop => (NOOP, 0, 0, 0),
            Op::Deposit(d) => (DEPOSIT, d.token.get(), d.amount, 0),
            Op::Transfer(t) => (TRANSFER, t.token.get(), t.amount.value(), t.fee.value()),
            Op::TransferToNew(t) => (TRANSFER_TO_NEW, t.token.get(), t.amount.value(), t.fee.value()),
            Op::Withdraw(t) => (WITHDRAW, t.token.get(), t.amount, t.fee.value()),
            Op::ForcedWithdraw(f) => (FORCED_WITHDRAW, f.token.get(), f.withdrawn, 0),
        };
        let (amount_parts, fee_parts) = match w.op {
            Op::Noop | Op::Deposit(_) | Op::ForcedWithdraw(_) => ((0, 0), (0, 0)),
            Op::Transfer(t) => (amount_parts(t.amount), fee_parts(t.fee)),
            Op::TransferToNew(t) => (amount_parts(t.amount), fee_parts(t.fee)),
            Op::Withdraw(t) => ((0, 0), fee_parts(t.fee)),
        };
        Self {
            kind,
            token: token as u32,
            amount: F::from(amount),
            fee: F::from(fee),
            amount_parts,
            fee_parts,
            first: AccountValues::from_witness(&w.first),
            second: AccountValues::from_witness(&w.second),
            new_key: w.new_pubkey.map_or((F::ZERO, F::ZERO), |k| (k.x(), k.y())),
            to_l1: w.to_l1.as_ref().map_or(F::ZERO, address_to_fr),
            requested: w.forced.map_or(F::ZERO, |r| F::from(r.amount)),
            request_id: w.forced.map_or(F::ZERO, |r| F::from(r.request_id)),
            r8: w.signature.map_or(EdwardsAffine::zero(), |s| *s.r8()),
            s: w.signature.map_or(Scalar::ZERO, |s| s.s()),
            fee_balance: F::from(credit.balance),
            fee_balance_siblings: credit.balance_proof.siblings.clone(),
        }
    }

    fn blank(depth: u8) -> Self {
        Self {
            kind: NOOP,
            token: 0,
            amount: F::ZERO,
            fee: F::ZERO,
            amount_parts: (0, 0),
            fee_parts: (0, 0),
            first: AccountValues::blank(depth),
            second: AccountValues::blank(depth),
            new_key: (F::ZERO, F::ZERO),
            to_l1: F::ZERO,
            requested: F::ZERO,
            request_id: F::ZERO,
            r8: EdwardsAffine::zero(),
            s: Scalar::ZERO,
            fee_balance: F::ZERO,
            fee_balance_siblings: vec![F::ZERO; TOKEN_BITS as usize],
        }
    }
}

/// The op fields of one slot, as circuit variables: what the public-data commitment binds
/// (see [`BatchCircuit::bind_public_data`]).
#[derive(Clone)]
pub struct SlotPublicData {
    /// One-hot op type: Noop, Deposit, Transfer, TransferToNew, Withdraw, ForcedWithdraw.
    pub kind: Vec<Bool>,
    /// Token id, 5 bits little-endian.
    pub token_bits: Vec<Bool>,
    /// Index of the first account (deposit target or signer), little-endian bits.
    pub first_index_bits: Vec<Bool>,
    /// Index of the second account (transfer recipient), little-endian bits.
    pub second_index_bits: Vec<Bool>,
    /// Amount (range-checked to 128 bits); a forced withdrawal's withdrawn amount.
    pub amount: FVar,
    /// The amount's 128 bits, little-endian (from its range check).
    pub amount_bits: Vec<Bool>,
    /// `PackedAmount` bits, little-endian (`e << 27 | m`), with `m·10^e = amount` enforced for
    /// Transfer and TransferToNew.
    pub amount_packed: Vec<Bool>,
    /// Fee (range-checked to 128 bits; zero unless signed).
    pub fee: FVar,
    /// `PackedFee` bits, little-endian (`e << 3 | m`), with `m·10^e = fee` enforced.
    pub fee_packed: Vec<Bool>,
    /// Key of a deposit or of the account a `TransferToNew` creates, as coordinates.
    pub new_key: (FVar, FVar),
    /// A withdrawal's L1 recipient as a field element.
    pub to_l1: FVar,
    /// A forced withdrawal's request hash `H(M, R8.x, R8.y, S)`.
    pub request_hash: FVar,
}

/// The validity circuit of one batch of `slots` op slots over an account tree of `depth`.
#[derive(Debug, Clone)]
pub struct BatchCircuit {
    /// Number of op slots `S`.
    pub slots: usize,
    /// Account tree depth `D`.
    pub depth: u8,
    /// Chain id (a constant of the circuit, inside every signing message).
    pub chain_id: ChainId,
    /// The prover's L1 address (public input).
    pub prover: L1Address,
    prev_root: F,
    new_root: F,
    data_hash: F,
    fee_account: AccountValues,
    values: Vec<SlotValues>,
}

impl BatchCircuit {
    /// The circuit for a batch's witness (from `tandem_state::witness::batch_witness`).
    pub fn new(witness: &BatchWitness, prover: L1Address) -> Self {
        let values =
            witness.ops.iter().zip(&witness.fees.credits).map(|(op, credit)| SlotValues::from_witness(op, credit)).collect::<Vec<_>>();
        Self {
            slots: values.len(),
            depth: witness.depth,
            chain_id: witness.chain_id,
            prover,
            prev_root: witness.prev_root,
            new_root: witness.new_root,
            data_hash: crate::public_data::data_hash(
                witness.fee_account.get(),
                &witness.ops.iter().map(|o| o.op).collect::<Vec<_>>(),
                witness.ops.len(),
            )
            .expect("one op per slot"),
            fee_account: AccountValues::from_witness(&witness.fees.account),
            values,
        }
    }

    /// A circuit of the given shape with placeholder values, for key generation (its
    /// values do not satisfy it).
    pub fn blank(slots: usize, depth: u8, chain_id: ChainId) -> Self {
        Self {
            slots,
            depth,
            chain_id,
            prover: L1Address::default(),
            prev_root: F::ZERO,
            new_root: F::ZERO,
            data_hash: F::ZERO,
            fee_account: AccountValues::blank(depth),
            values: (0..slots).map(|_| SlotValues::blank(depth)).collect(),
        }
    }

    /// The public inputs, in order: `prev_root`, `new_root`, `data_hash`, prover address.
    pub fn public_inputs(&self) -> Vec<F> {
        vec![self.prev_root, self.new_root, self.data_hash, address_to_fr(&self.prover)]
    }

    /// The claimed data hash (SPEC §10), as computed natively from the witness's ops.
    pub fn data_hash(&self) -> F {
        self.data_hash
    }

    /// Replaces the claimed data hash (to test a wrong claim).
    pub fn with_data_hash(mut self, data_hash: F) -> Self {
        self.data_hash = data_hash;
        self
    }

    /// Replaces slot `slot`'s witnessed packings `(mantissa, exponent)` of the amount and fee
    /// (to test that another encoding of the same value does not match the commitment).
    #[doc(hidden)]
    pub fn with_packing(mut self, slot: usize, amount: (u32, u32), fee: (u32, u32)) -> Self {
        self.values[slot].amount_parts = amount;
        self.values[slot].fee_parts = fee;
        self
    }

    /// Replaces the claimed new root (to test a wrong claim, or to claim the root the
    /// circuit computes from a tampered witness).
    pub fn with_new_root(mut self, root: F) -> Self {
        self.new_root = root;
        self
    }

    /// The public-data commitment (SPEC.md §10): enforces that `data_hash` (a public input)
    /// is `sha256(fee account (4 bytes BE) ‖ rec_1 ‖ … ‖ rec_S)` with the top 3 bits cleared,
    /// each record the slot's op encoded as SPEC §4.2 says and zero-padded to 52 bytes (see
    /// [`crate::public_data`]). `fee_account_bits` are the index bits of the account that fee
    /// settlement credits, so the committed fee account is the one paid.
    pub fn bind_public_data(
        &self,
        cs: ConstraintSystemRef<F>,
        slots: &[SlotPublicData],
        fee_account_bits: &[Bool],
        data_hash: &FVar,
    ) -> Result<(), SynthesisError> {
        assert!(self.depth <= 24, "indices are encoded in 3 bytes");
        let records: Vec<SlotRecordVars> = slots
            .iter()
            .map(|s| SlotRecordVars {
                kind: &s.kind,
                token_bits: &s.token_bits,
                first_index_bits: &s.first_index_bits,
                second_index_bits: &s.second_index_bits,
                amount_bits: &s.amount_bits,
                amount_packed: &s.amount_packed,
                fee_packed: &s.fee_packed,
                new_key: (&s.new_key.0, &s.new_key.1),
                to_l1: &s.to_l1,
                request_hash: &s.request_hash,
            })
            .collect();
        enforce_data_hash(&cs, &records, fee_account_bits, data_hash)
    }
}

pub(crate) fn bits_of(cs: &ConstraintSystemRef<F>, value: u32, n: usize) -> Result<Vec<Bool>, SynthesisError> {
    (0..n).map(|i| Bool::new_witness(cs.clone(), || Ok((value >> i) & 1 == 1))).collect()
}

pub(crate) fn witness(cs: &ConstraintSystemRef<F>, value: F) -> Result<FVar, SynthesisError> {
    FVar::new_witness(cs.clone(), || Ok(value))
}

pub(crate) fn witnesses(cs: &ConstraintSystemRef<F>, values: &[F]) -> Result<Vec<FVar>, SynthesisError> {
    values.iter().map(|v| witness(cs, *v)).collect()
}

/// An account's variables and its leaf before the update.
struct AccountVars {
    index_bits: Vec<Bool>,
    index: FVar,
    exists: Bool,
    x: FVar,
    y: FVar,
    nonce: FVar,
    balance_root: FVar,
    balance: FVar,
    balance_siblings: Vec<FVar>,
    siblings: Vec<FVar>,
    old_leaf: FVar,
}

fn alloc_account(cs: &ConstraintSystemRef<F>, v: &AccountValues, depth: u8) -> Result<AccountVars, SynthesisError> {
    let index_bits = bits_of(cs, v.index, depth as usize)?;
    let index = Bool::le_bits_to_fp(&index_bits)?;
    let exists = Bool::new_witness(cs.clone(), || Ok(v.exists))?;
    let x = witness(cs, v.x)?;
    let y = witness(cs, v.y)?;
    let nonce = witness(cs, v.nonce)?;
    let balance_root = witness(cs, v.balance_root)?;
    let balance = witness(cs, v.balance)?;
    let balance_siblings = witnesses(cs, &v.balance_siblings)?;
    let siblings = witnesses(cs, &v.siblings)?;
    // An empty slot's leaf is 0; an account created there starts with nonce 0 and the
    // empty balance tree.
    let hashed = poseidon(&[x.clone(), y.clone(), nonce.clone(), balance_root.clone()])?;
    let old_leaf = exists.select(&hashed, &FVar::zero())?;
    nonce.conditional_enforce_equal(&FVar::zero(), &!&exists)?;
    balance_root.conditional_enforce_equal(&FVar::constant(empty_balance_root()), &!&exists)?;
    Ok(AccountVars { index_bits, index, exists, x, y, nonce, balance_root, balance, balance_siblings, siblings, old_leaf })
}

/// Applies one account update: the balance of `token` becomes `new_balance`, the nonce
/// `new_nonce`, the key `new_key`; with `stays_empty` the leaf stays 0 instead (an op that
/// proves an empty slot and changes nothing). Returns the root after (or `root` when not
/// `enabled`).
#[allow(clippy::too_many_arguments)]
fn update_account(
    enabled: &Bool,
    root: &FVar,
    a: &AccountVars,
    token_bits: &[Bool],
    new_balance: &FVar,
    new_nonce: &FVar,
    new_key: (&FVar, &FVar),
    stays_empty: &Bool,
) -> Result<FVar, SynthesisError> {
    let old_balance_root = merkle::root_from_path(&a.balance, token_bits, &a.balance_siblings)?;
    old_balance_root.conditional_enforce_equal(&a.balance_root, enabled)?;
    let new_balance_root = merkle::root_from_path(new_balance, token_bits, &a.balance_siblings)?;
    let hashed = poseidon(&[new_key.0.clone(), new_key.1.clone(), new_nonce.clone(), new_balance_root])?;
    let new_leaf = stays_empty.select(&FVar::zero(), &hashed)?;
    merkle::update_path(enabled, root, &a.old_leaf, &new_leaf, &a.index_bits, &a.siblings)
}

/// What a slot hands to the batch-level checks.
struct SlotOutput {
    root: FVar,
    public: SlotPublicData,
    /// 1 if this slot creates the fee account, else 0.
    creates_fee_account: FVar,
}

fn synthesize_slot(
    cs: &ConstraintSystemRef<F>,
    chain_id: ChainId,
    depth: u8,
    root: &FVar,
    v: &SlotValues,
    fee_index: &FVar,
) -> Result<SlotOutput, SynthesisError> {
    let kind: Vec<Bool> = (0..OP_KINDS).map(|k| Bool::new_witness(cs.clone(), || Ok(v.kind == k))).collect::<Result<_, _>>()?;
    kind.iter().fold(FVar::zero(), |acc, b| acc + FVar::from(b.clone())).enforce_equal(&FVar::one())?;
    let (is_noop, is_deposit, is_transfer, is_new, is_withdraw, is_forced) =
        (&kind[NOOP], &kind[DEPOSIT], &kind[TRANSFER], &kind[TRANSFER_TO_NEW], &kind[WITHDRAW], &kind[FORCED_WITHDRAW]);
    let signed = Bool::kary_or(&[is_transfer.clone(), is_new.clone(), is_withdraw.clone()])?;
    let uses_first = !is_noop;
    let uses_second = is_transfer | is_new;

    let token_bits = bits_of(cs, v.token, TOKEN_BITS as usize)?;
    let token = Bool::le_bits_to_fp(&token_bits)?;
    let amount = witness(cs, v.amount)?;
    let fee = witness(cs, v.fee)?;
    let amount_bits = range_check(&amount, BALANCE_BITS)?;
    range_check(&fee, BALANCE_BITS)?;
    fee.conditional_enforce_equal(&FVar::zero(), &!&signed)?;
    let amount_packed = alloc_packed(cs, v.amount_parts, 27, &amount, &uses_second)?.bits;
    let fee_packed = alloc_packed(cs, v.fee_parts, 3, &fee, &Bool::TRUE)?.bits;
    // amount + fee ≤ 2^128 - 1 (AmountOverflow).
    let needed = checked_add(&amount, &fee, BALANCE_BITS)?;
    let new_key = (witness(cs, v.new_key.0)?, witness(cs, v.new_key.1)?);
    let to_l1 = witness(cs, v.to_l1)?;
    let requested = witness(cs, v.requested)?;
    range_check(&requested, BALANCE_BITS)?;
    let request_id = witness(cs, v.request_id)?;

    // First account: deposit target or signer.
    let a = alloc_account(cs, &v.first, depth)?;
    a.exists.conditional_enforce_equal(&Bool::TRUE, &signed)?;
    enforce_nonzero_if(&amount, is_deposit)?;
    let deposit_to_existing = is_deposit & &a.exists;
    a.x.conditional_enforce_equal(&new_key.0, &deposit_to_existing)?;
    a.y.conditional_enforce_equal(&new_key.1, &deposit_to_existing)?;
    let creates_first = is_deposit & &!&a.exists;
    let creates_any = &creates_first | is_new;
    eddsa::enforce_on_curve_if(&new_key.0, &new_key.1, &creates_any)?;
    let credit = &amount * FVar::from(is_deposit.clone());
    // A forced withdrawal debits its withdrawn amount (0 for a no-op; checked below).
    let debit = &needed * FVar::from(signed.clone()) + &amount * FVar::from(is_forced.clone());
    // Balance fits 128 bits after the credit (no overflow) and the debit (no underdraft).
    let new_balance_a = &a.balance + credit - debit;
    range_check(&new_balance_a, BALANCE_BITS)?;
    // Nonce + 1 ≤ 2^32 - 1 for signed ops.
    let new_nonce_a = &a.nonce + FVar::from(signed.clone());
    range_check(&new_nonce_a, NONCE_BITS)?;
    let key_a = (a.exists.select(&a.x, &new_key.0)?, a.exists.select(&a.y, &new_key.1)?);
    // A forced withdrawal against an empty slot proves the slot empty and leaves it so.
    let forced_on_empty = is_forced & &!&a.exists;
    let root1 = update_account(&uses_first, root, &a, &token_bits, &new_balance_a, &new_nonce_a, (&key_a.0, &key_a.1), &forced_on_empty)?;

    // Second account: transfer recipient, under the root after the first update.
    let b = alloc_account(cs, &v.second, depth)?;
    b.exists.conditional_enforce_equal(&Bool::TRUE, is_transfer)?;
    b.exists.conditional_enforce_equal(&Bool::FALSE, is_new)?;
    let same = a.index.is_eq(&b.index)?;
    same.conditional_enforce_equal(&Bool::FALSE, is_transfer)?;
    let new_balance_b = &b.balance + &amount;
    range_check(&new_balance_b, BALANCE_BITS)?;
    let key_b = (b.exists.select(&b.x, &new_key.0)?, b.exists.select(&b.y, &new_key.1)?);
    let root2 = update_account(&uses_second, &root1, &b, &token_bits, &new_balance_b, &b.nonce, (&key_b.0, &key_b.1), &Bool::FALSE)?;

    // Signature over the SPEC §4.4 message with the signer's nonce before the op.
    let chain = FVar::constant(F::from(chain_id));
    let transfer_message = poseidon(&[
        FVar::constant(transfer_tag()),
        chain.clone(),
        a.index.clone(),
        key_b.0.clone(),
        key_b.1.clone(),
        token.clone(),
        amount.clone(),
        fee.clone(),
        a.nonce.clone(),
    ])?;
    let withdraw_message = poseidon(&[
        FVar::constant(withdraw_tag()),
        chain.clone(),
        a.index.clone(),
        to_l1.clone(),
        token.clone(),
        amount.clone(),
        fee.clone(),
        a.nonce.clone(),
    ])?;
    let forced_message =
        poseidon(&[FVar::constant(forced_tag()), chain, a.index.clone(), token.clone(), to_l1.clone(), requested.clone(), request_id])?;
    let message = is_forced.select(&forced_message, &is_withdraw.select(&withdraw_message, &transfer_message)?)?;
    // The signer's key; the identity for unsigned slots and for a forced withdrawal against an
    // empty slot, so that the arithmetic stays defined.
    let keyed = &signed | &(is_forced & &a.exists);
    let signer = keyed.select(&PointVar::new(a.x.clone(), a.y.clone()), &PointVar::zero())?;
    let r8 = eddsa::alloc_point(cs.clone(), Some(v.r8))?;
    let s = eddsa::alloc_scalar(cs.clone(), Some(v.s))?;
    let signature_ok = eddsa::is_valid(&signer, &r8, &s, &message)?;
    signature_ok.conditional_enforce_equal(&Bool::TRUE, &signed)?;

    // Forced withdrawal (SPEC.md §5.1): withdraws the requested amount (the whole balance for
    // 0) if the account exists, the signature verifies and the balance covers it; otherwise
    // it is a no-op (withdrawn 0). `balance - requested + 2^128` has bit 128 set iff
    // `balance ≥ requested` (both below 2^128).
    let shifted = &a.balance - &requested + FVar::constant(F::from(1u128 << 127) * F::from(2u64));
    let covered = range_check(&shifted, BALANCE_BITS + 1)?[BALANCE_BITS].clone();
    let wants_all = requested.is_zero()?;
    let target = wants_all.select(&a.balance, &requested)?;
    let executes = Bool::kary_and(&[is_forced.clone(), a.exists.clone(), signature_ok, covered])?;
    let withdrawn = executes.select(&target, &FVar::zero())?;
    amount.conditional_enforce_equal(&withdrawn, is_forced)?;
    let s_value = Bool::le_bits_to_fp(&s)?;
    let request_hash = poseidon(&[forced_message, r8.x.clone(), r8.y.clone(), s_value])?;

    let first_is_fee = a.index.is_eq(fee_index)?;
    let second_is_fee = b.index.is_eq(fee_index)?;
    let creates_fee_account = FVar::from(&creates_first & &first_is_fee) + FVar::from(is_new & &second_is_fee);

    Ok(SlotOutput {
        root: root2,
        public: SlotPublicData {
            kind,
            token_bits,
            first_index_bits: a.index_bits,
            second_index_bits: b.index_bits,
            amount,
            amount_bits,
            amount_packed,
            fee,
            fee_packed,
            new_key,
            to_l1,
            request_hash,
        },
        creates_fee_account,
    })
}

/// The roots the circuit computes, whether or not its constraints hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedRoots {
    /// The root after each slot.
    pub slots: Vec<F>,
    /// The root after fee settlement.
    pub settled: F,
}

impl BatchCircuit {
    /// Synthesizes into a fresh constraint system and returns the roots computed from the
    /// witness (for tests that isolate one broken rule by claiming the computed root).
    pub fn computed_roots(&self) -> Result<ComputedRoots, SynthesisError> {
        let cs = ark_relations::gr1cs::ConstraintSystem::<F>::new_ref();
        let (slots, settled) = self.synthesize(cs)?;
        Ok(ComputedRoots { slots: slots.iter().map(|r| r.value()).collect::<Result<_, _>>()?, settled: settled.value()? })
    }

    /// All constraints but the final `settled root == new_root`; returns the root after each
    /// slot and the settled root.
    fn synthesize(&self, cs: ConstraintSystemRef<F>) -> Result<(Vec<FVar>, FVar), SynthesisError> {
        assert_eq!(self.values.len(), self.slots, "one value set per slot");
        let prev_root = FVar::new_input(cs.clone(), || Ok(self.prev_root))?;
        let new_root = FVar::new_input(cs.clone(), || Ok(self.new_root))?;
        let data_hash = FVar::new_input(cs.clone(), || Ok(self.data_hash))?;
        let prover = FVar::new_input(cs.clone(), || Ok(address_to_fr(&self.prover)))?;
        // Bind the prover input to a constraint: an input in no constraint would not be
        // checked by the verifier at all.
        let _ = prover.square()?;

        let fee = alloc_account(&cs, &self.fee_account, self.depth)?;
        let mut root = prev_root;
        let mut outputs = Vec::with_capacity(self.slots);
        for v in &self.values {
            let out = synthesize_slot(&cs, self.chain_id, self.depth, &root, v, &fee.index)?;
            root = out.root.clone();
            outputs.push(out);
        }

        // The fee account must exist at every op with a nonzero fee (FeeAccountMissing).
        // Accounts are never deleted and are created at most once, so it existed before
        // the batch iff it exists at settlement and no slot created it.
        let mut exists = FVar::from(fee.exists.clone()) - outputs.iter().fold(FVar::zero(), |acc, o| acc + &o.creates_fee_account);
        (&exists * (&exists - FVar::one())).enforce_equal(&FVar::zero())?;
        for o in &outputs {
            exists += &o.creates_fee_account;
            (&o.public.fee * (FVar::one() - &exists)).enforce_equal(&FVar::zero())?;
        }

        // Fee settlement: credit each slot's fee to the fee account's balance of its token.
        merkle::verify_path(&root, &fee.old_leaf, &fee.index_bits, &fee.siblings)?;
        let mut balance_root = fee.balance_root.clone();
        for (o, v) in outputs.iter().zip(&self.values) {
            let balance = witness(&cs, v.fee_balance)?;
            let siblings = witnesses(&cs, &v.fee_balance_siblings)?;
            merkle::verify_path(&balance_root, &balance, &o.public.token_bits, &siblings)?;
            let credited = checked_add(&balance, &o.public.fee, BALANCE_BITS)?;
            balance_root = merkle::root_from_path(&credited, &o.public.token_bits, &siblings)?;
        }
        let settled = poseidon(&[fee.x.clone(), fee.y.clone(), fee.nonce.clone(), balance_root])?;
        let new_leaf = fee.exists.select(&settled, &FVar::zero())?;
        let settled_root = merkle::root_from_path(&new_leaf, &fee.index_bits, &fee.siblings)?;
        settled_root.enforce_equal(&new_root)?;

        let slot_roots = outputs.iter().map(|o| o.root.clone()).collect();
        let public: Vec<SlotPublicData> = outputs.into_iter().map(|o| o.public).collect();
        self.bind_public_data(cs, &public, &fee.index_bits, &data_hash)?;
        Ok((slot_roots, settled_root))
    }
}

impl BatchCircuit {
    /// Synthesizes the circuit and checks every constraint: `(satisfied, constraints)`.
    /// Slow at production sizes (it evaluates every constraint): for tests and debugging.
    pub fn check(self) -> Result<(bool, usize), SynthesisError> {
        let cs = ark_relations::gr1cs::ConstraintSystem::<F>::new_ref();
        self.generate_constraints(cs.clone())?;
        Ok((cs.is_satisfied()?, cs.num_constraints()))
    }

    /// The number of constraints of this shape (synthesized in setup mode, no witness).
    pub fn num_constraints(slots: usize, depth: u8, chain_id: ChainId) -> usize {
        let cs = ark_relations::gr1cs::ConstraintSystem::<F>::new_ref();
        cs.set_mode(ark_relations::gr1cs::SynthesisMode::Setup);
        Self::blank(slots, depth, chain_id).generate_constraints(cs.clone()).expect("synthesis of a blank circuit");
        cs.num_constraints()
    }
}

impl ConstraintSynthesizer<F> for BatchCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
        self.synthesize(cs).map(|_| ())
    }
}
