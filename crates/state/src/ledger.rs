//! The ledger: accounts, the state tree, and the state transition function.
//!
//! Applying a batch runs in two phases. *Execution* checks every rule of every op against
//! an overlay of the state (nonces, balances, overflow, existence, capacity) and collects
//! the signature checks; the signatures are then verified in parallel. Only if every op is
//! valid does *merkleization* write the overlay into the state and record the state root
//! after every op. So a batch is atomic: an invalid op anywhere leaves the state untouched.
//!
//! A block the sequencer set decided runs once through [`Ledger::apply_block`] instead: it
//! skips (and reports) each transaction that breaks a rule rather than refusing the block,
//! so its batch is the atomic batch of the inputs that applied.
//!
//! Fees are collected per token during the batch and credited to the batch's fee account
//! in one *fee settlement* step per chunk (as zkSync Lite did per block): every op then
//! touches only its own accounts, which saves one leaf and one Merkle path per op in the
//! state root computation, the circuit and the fraud proof. A chunk is
//! [`LedgerConfig::chunk_size`] consecutive ops (the whole batch without one), the unit a
//! fault proof proves with the batch circuit: so the root after a chunk's last op includes
//! its settlement, exactly what the circuit outputs (SPEC §5.2).

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::Arc;
use tandem_crypto::{Fr, PublicKey, Signature};
use tandem_types::{
    AccountIndex, Balance, ChainId, DepositOp, ForcedWithdrawOp, ForcedWithdrawalRequest, L1Deposit, Op, PackedPubKey, PackedSignature,
    SignedTx, TokenId, TransferOp, TransferToNewOp, Tx, WithdrawOp, ACCOUNT_INDEX_BITS, MAX_TOKENS,
};

use crate::account::{leaf_hashes, Account};
use crate::error::{BatchError, LedgerConfigError, StfError};
use crate::signing::{forced_message, forced_request_hash, verification_chunk, verify_packed_many, SignedMessage, TxSignature};
use crate::tree::{MerkleProof, SparseMerkleTree};
use crate::verified::VerifiedSignatures;

/// Account leaves hashed together per parallel task (a multiple of the vector hash's eight
/// lanes, large enough that the split costs little).
const LEAF_CHUNK: usize = 64;

/// Chain parameters the state transition depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerConfig {
    /// Part of every signed message.
    pub chain_id: ChainId,
    /// Depth of the account tree, `1..=24`.
    pub tree_depth: u8,
    /// Ops per fee-settlement chunk: the chain's `zkSlots` (the batch circuit's op slots),
    /// `None` on a chain without a validity lane (one settlement per batch). Every replica
    /// of a chain must use the rollup's value, or roots differ.
    pub chunk_size: Option<NonZeroUsize>,
}

impl LedgerConfig {
    /// Production depth.
    pub const DEFAULT_TREE_DEPTH: u8 = 24;

    /// Checks the parameters are usable.
    pub fn validate(&self) -> Result<(), LedgerConfigError> {
        if !(1..=ACCOUNT_INDEX_BITS as u8).contains(&self.tree_depth) {
            return Err(LedgerConfigError::TreeDepth(self.tree_depth));
        }
        Ok(())
    }
}

/// An input to the state transition: an L1 deposit or a signed user transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerOp {
    /// From the L1 priority queue.
    Deposit(L1Deposit),
    /// From a user.
    Tx(SignedTx),
    /// From the L1 priority queue: executed, or a recorded no-op (SPEC.md §5.1).
    ForcedWithdrawal(ForcedWithdrawalRequest),
}

/// What applying a batch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The ops in public-data form, one per input.
    pub ops: Vec<Op>,
    /// The state root after each op (`roots[i]` is the root after `ops[i]`), including the
    /// fee settlement of the chunk that `ops[i]` closes, if it closes one: the last root is
    /// always `root`.
    pub intermediate_roots: Vec<Fr>,
    /// Fees collected per token id (index = token id) over the whole batch, credited to the
    /// fee account by the settlement steps.
    pub fees: [Balance; MAX_TOKENS as usize],
    /// The state root before the batch.
    pub prev_root: Fr,
    /// The state root after the batch, fees settled.
    pub root: Fr,
}

/// What applying a decided block produced (see [`Ledger::apply_block`]).
///
/// Invariant: `applied` and `skipped` partition the block's input positions, each in
/// increasing order, and `applied.len() == batch.ops.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// The batch of the ops that applied. When none did, `ops` is empty, both roots are
    /// the unchanged state root and nothing was applied.
    pub batch: BatchOutcome,
    /// For each op of `batch.ops`, its position among the block's inputs.
    pub applied: Vec<usize>,
    /// The transactions that did not apply, by input position, with the rule each broke.
    pub skipped: Vec<(usize, StfError)>,
}

/// A signature to verify once execution has succeeded.
struct SignatureCheck {
    op_index: usize,
    from: AccountIndex,
    signer: PublicKey,
    message: SignedMessage,
    signature: PackedSignature,
}

/// The ledger state.
///
/// Invariants: `tree.leaf(i) == accounts[i].leaf_hash()` for every account and `0` for every
/// empty slot; `by_pubkey` maps each key to the lowest index it owns; `next_index` is above
/// every used index.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(crate) config: LedgerConfig,
    pub(crate) tree: SparseMerkleTree,
    pub(crate) accounts: HashMap<u32, Account>,
    pub(crate) by_pubkey: HashMap<PackedPubKey, AccountIndex>,
    pub(crate) next_index: u32,
    pub(crate) batches_applied: u64,
    /// Accounts changed since the last persist (see `store`).
    pub(crate) dirty_accounts: HashSet<u32>,
    /// Signatures already verified for this chain (shared by clones: entries are facts).
    pub(crate) verified: Arc<VerifiedSignatures>,
}

impl Ledger {
    /// An empty in-memory ledger.
    pub fn new(config: LedgerConfig) -> Result<Self, LedgerConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            tree: SparseMerkleTree::new(config.tree_depth),
            accounts: HashMap::new(),
            by_pubkey: HashMap::new(),
            next_index: 0,
            batches_applied: 0,
            dirty_accounts: HashSet::new(),
            verified: Arc::new(VerifiedSignatures::new(config.chain_id, VerifiedSignatures::DEFAULT_CAPACITY)),
        })
    }

    /// The signatures this ledger (and its clones) already verified, shared: a mempool
    /// checks admissions through it (outside any lock on the ledger, if it likes) so that
    /// applying the block does not verify them again.
    pub fn verified_signatures(&self) -> Arc<VerifiedSignatures> {
        Arc::clone(&self.verified)
    }

    /// Chain parameters.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The state root.
    pub fn root(&self) -> Fr {
        self.tree.root()
    }

    /// Number of batches applied since genesis.
    pub fn batches_applied(&self) -> u64 {
        self.batches_applied
    }

    /// The account at `index`, if any.
    pub fn account(&self, index: AccountIndex) -> Option<&Account> {
        self.accounts.get(&index.get())
    }

    /// The lowest index owned by `pubkey`, if any.
    pub fn index_of(&self, pubkey: &PackedPubKey) -> Option<AccountIndex> {
        self.by_pubkey.get(pubkey).copied()
    }

    /// The key of a transfer's recipient, unpacked, when it already owns an account (`None`
    /// for a withdrawal or a new recipient): what a signature check of `tx` can take instead
    /// of unpacking `to` ([`TxSignature::with_recipient`]).
    pub fn recipient_key(&self, tx: &Tx) -> Option<PublicKey> {
        match tx {
            Tx::Transfer(t) => self.index_of(&t.to).and_then(|i| self.account(i)).map(|a| a.pubkey),
            Tx::Withdraw(_) => None,
        }
    }

    /// Every account, in no particular order.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountIndex, &Account)> {
        self.accounts.iter().map(|(i, a)| (AccountIndex::from_bytes(to3(*i)), a))
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Inclusion proof of the leaf at `index` under the current root.
    pub fn proof(&self, index: AccountIndex) -> MerkleProof {
        self.tree.proof(index.get())
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: AccountIndex) -> Fr {
        self.tree.leaf(index.get())
    }

    /// The root of a tree rebuilt from the accounts alone (for integrity checks).
    pub fn root_from_scratch(&self) -> Fr {
        let accounts: Vec<(u32, &Account)> = self.accounts.iter().map(|(i, a)| (*i, a)).collect();
        let leaves: Vec<(u32, Fr)> = accounts
            .par_chunks(LEAF_CHUNK)
            .flat_map_iter(|chunk| {
                let hashes = leaf_hashes(&chunk.iter().map(|(_, a)| *a).collect::<Vec<_>>());
                chunk.iter().map(|(i, _)| *i).zip(hashes).collect::<Vec<_>>()
            })
            .collect();
        let mut tree = SparseMerkleTree::new(self.config.tree_depth);
        tree.update(&leaves);
        tree.root()
    }

    /// Creates an empty account for `pubkey` at the next free index, outside any batch: only
    /// for building a genesis state (e.g. the fee account).
    pub fn create_genesis_account(&mut self, pubkey: PackedPubKey) -> Result<AccountIndex, StfError> {
        let key = PublicKey::unpack(&pubkey).map_err(StfError::InvalidPubKey)?;
        let overlay = Overlay::new(self);
        let index = overlay.allocate()?;
        let account = Account::new(key);
        self.tree.update(&[(index.get(), account.leaf_hash())]);
        self.accounts.insert(index.get(), account);
        self.dirty_accounts.insert(index.get());
        self.by_pubkey.entry(pubkey).or_insert(index);
        self.next_index = index.get() + 1;
        Ok(index)
    }

    /// Applies one op (a batch of one). On error nothing changes.
    pub fn apply(&mut self, op: LedgerOp, fee_account: AccountIndex) -> Result<(Op, Fr), StfError> {
        self.apply_batch(&[op], fee_account).map(|outcome| (outcome.ops[0], outcome.root)).map_err(|e| e.error)
    }

    /// Checks that `ops` would apply as a batch (every op valid, every signature correct, fee
    /// settlement possible) without changing anything: what a validator runs on a proposed
    /// block. `Ok` here means `apply_batch` of the same ops on the same state succeeds.
    pub fn check_batch(&self, ops: &[LedgerOp], fee_account: AccountIndex) -> Result<(), BatchError> {
        self.execute(ops, fee_account).map(|_| ())
    }

    /// Applies `ops` atomically, paying fees to `fee_account`. Either every op is valid and
    /// all are applied, or the first invalid op is reported and nothing changes.
    pub fn apply_batch(&mut self, ops: &[LedgerOp], fee_account: AccountIndex) -> Result<BatchOutcome, BatchError> {
        let (executed, public_ops, snapshots) = self.execute(ops, fee_account)?;
        Ok(self.write_executed(executed, public_ops, &snapshots))
    }

    /// Applies a block the sequencer set decided: every deposit must apply (they come from
    /// L1's queue, which the set already checked), while a transaction that breaks a rule
    /// (signature, nonce, balance, ...) against the state left by the ops before it is
    /// skipped and reported, deterministically, so every member derives the same batch.
    ///
    /// The ops that apply and their public data, roots and fees are exactly what
    /// [`Ledger::apply_batch`] gives for the block with the skipped transactions removed.
    /// The block runs once: signatures of senders that exist before the block are checked
    /// in parallel first (free when already verified, e.g. at mempool admission through
    /// [`Ledger::verified_signatures`]), the rest as their op executes. A refused deposit or
    /// the fee settlement refuses the whole block and changes nothing.
    pub fn apply_block(&mut self, ops: &[LedgerOp], fee_account: AccountIndex) -> Result<BlockOutcome, BatchError> {
        let verified = Arc::clone(&self.verified);
        // Keys never change once an account exists, so these signers are final.
        let early: Vec<Option<(PublicKey, Result<(), StfError>)>> = ops
            .par_chunks(verification_chunk(ops.len()))
            .flat_map_iter(|chunk| {
                let signers: Vec<Option<(&SignedTx, PublicKey, Option<PublicKey>)>> = chunk
                    .iter()
                    .map(|op| match op {
                        LedgerOp::Tx(signed) => {
                            self.accounts.get(&signed.tx.from().get()).map(|a| (signed, a.pubkey, self.recipient_key(&signed.tx)))
                        }
                        LedgerOp::Deposit(_) | LedgerOp::ForcedWithdrawal(_) => None,
                    })
                    .collect();
                let items: Vec<TxSignature<'_>> = signers
                    .iter()
                    .flatten()
                    .map(|(signed, key, recipient)| TxSignature::new(signed, key).with_recipient(recipient.as_ref()))
                    .collect();
                let mut verdicts = verified.verify_many(&items).into_iter();
                signers.iter().map(|s| s.map(|(_, key, _)| (key, verdicts.next().expect("one verdict per signer")))).collect::<Vec<_>>()
            })
            .collect();
        let mut overlay = Overlay::new(self);
        let mut public_ops = Vec::with_capacity(ops.len());
        let mut snapshots: Vec<Vec<(u32, Account)>> = Vec::with_capacity(ops.len() + 1);
        let mut applied = Vec::with_capacity(ops.len());
        let mut skipped = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let mark = overlay.begin_op();
            let mut checks = Vec::with_capacity(1);
            let result = overlay.execute_ledger_op(i, op, fee_account, &mut checks).and_then(|done| {
                if let (LedgerOp::Tx(signed), Some(check)) = (op, checks.first()) {
                    match &early[i] {
                        Some((signer, verdict)) if *signer == check.signer => verdict.clone()?,
                        _ => verified.verify(signed, &check.signer)?,
                    }
                }
                Ok(done)
            });
            match (result, op) {
                (Ok((public, touched)), _) => {
                    public_ops.push(public);
                    let snapshot =
                        overlay.close_op(public_ops.len(), touched, fee_account).map_err(|error| BatchError { index: i, error })?;
                    snapshots.push(snapshot);
                    applied.push(i);
                }
                (Err(error), LedgerOp::Tx(_)) => {
                    overlay.undo(mark);
                    skipped.push((i, error));
                }
                (Err(error), LedgerOp::Deposit(_) | LedgerOp::ForcedWithdrawal(_)) => return Err(BatchError { index: i, error }),
            }
        }
        overlay.end_ops();
        if public_ops.is_empty() {
            let root = self.tree.root();
            let batch = BatchOutcome { ops: vec![], intermediate_roots: vec![], fees: [0; MAX_TOKENS as usize], prev_root: root, root };
            return Ok(BlockOutcome { batch, applied, skipped });
        }
        match overlay.settle_fees(fee_account) {
            Ok(touched) => snapshots.push(touched.iter().map(|t| (*t, overlay.accounts[t].clone())).collect()),
            Err(error) => return Err(BatchError { index: ops.len() - 1, error }),
        }
        let Overlay { accounts, new_pubkeys, next_index, fees, .. } = overlay;
        let executed = Executed { accounts, new_pubkeys, next_index, fees };
        let batch = self.write_executed(executed, public_ops, &snapshots);
        Ok(BlockOutcome { batch, applied, skipped })
    }

    /// Applies a batch given as public-data ops (what L1 stores of a committed batch, e.g. when
    /// restoring the state from L1 alone), paying fees to `fee_account`. Every rule of
    /// SPEC §5.1 is checked except the signatures, which public data does not carry: a batch
    /// L1 accepted was authorized by its sequencer (or set) and, once final, by the challenge
    /// window or a validity proof. `Op::Noop` changes nothing (its root is the previous one).
    ///
    /// Atomic like [`Ledger::apply_batch`], with the same fee settlement: for the public ops
    /// that `apply_batch` produced from signed inputs, the outcome (ops, every root, fees) is
    /// exactly `apply_batch`'s. An empty batch changes no account (it still counts as a batch).
    pub fn apply_public_batch(&mut self, ops: &[Op], fee_account: AccountIndex) -> Result<BatchOutcome, BatchError> {
        let mut overlay = Overlay::new(self);
        overlay.attested = true;
        let mut snapshots: Vec<Vec<(u32, Account)>> = Vec::with_capacity(ops.len() + 1);
        // Stays empty: an attested overlay queues no signature checks.
        let mut checks = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            let snapshot = overlay
                .execute_op(index, op, None, fee_account, &mut checks)
                .and_then(|touched| overlay.close_op(index + 1, touched, fee_account))
                .map_err(|error| BatchError { index, error })?;
            snapshots.push(snapshot);
        }
        if !ops.is_empty() {
            let touched = overlay.settle_fees(fee_account).map_err(|error| BatchError { index: ops.len() - 1, error })?;
            snapshots.push(touched.iter().map(|t| (*t, overlay.accounts[t].clone())).collect());
        }
        let Overlay { accounts, new_pubkeys, next_index, fees, .. } = overlay;
        let executed = Executed { accounts, new_pubkeys, next_index, fees };
        Ok(self.write_executed(executed, ops.to_vec(), &snapshots))
    }

    /// Writes an executed batch into the state and the tree: the root after each op (the
    /// last snapshot group is the final fee settlement, whose root is the batch's root and
    /// so the last op's: it closes the last chunk).
    fn write_executed(&mut self, executed: Executed, ops: Vec<Op>, snapshots: &[Vec<(u32, Account)>]) -> BatchOutcome {
        let Executed { accounts, new_pubkeys, next_index, fees } = executed;
        let prev_root = self.tree.root();
        let mut intermediate_roots = self.merkleize(snapshots);
        intermediate_roots.truncate(ops.len());
        if let Some(last) = intermediate_roots.last_mut() {
            *last = self.tree.root();
        }
        for (i, account) in accounts {
            self.dirty_accounts.insert(i);
            self.accounts.insert(i, account);
        }
        for (pk, i) in new_pubkeys {
            self.by_pubkey.entry(pk).or_insert(i);
        }
        self.next_index = next_index;
        self.batches_applied += 1;
        BatchOutcome { ops, root: self.tree.root(), prev_root, intermediate_roots, fees }
    }

    /// Runs `ops` on a copy-on-write overlay: the changed accounts, the public ops and the
    /// per-op account snapshots (last group: fee settlement), or the first invalid op.
    #[allow(clippy::type_complexity)]
    fn execute(&self, ops: &[LedgerOp], fee_account: AccountIndex) -> Result<(Executed, Vec<Op>, Vec<Vec<(u32, Account)>>), BatchError> {
        let mut overlay = Overlay::new(self);
        let mut public_ops = Vec::with_capacity(ops.len());
        let mut snapshots: Vec<Vec<(u32, Account)>> = Vec::with_capacity(ops.len());
        let mut checks = Vec::new();
        let mut failure: Option<BatchError> = None;
        for (i, op) in ops.iter().enumerate() {
            let executed = overlay
                .execute_ledger_op(i, op, fee_account, &mut checks)
                .and_then(|(public, touched)| Ok((public, overlay.close_op(i + 1, touched, fee_account)?)));
            match executed {
                Ok((public, snapshot)) => {
                    public_ops.push(public);
                    snapshots.push(snapshot);
                }
                Err(error) => {
                    failure = Some(BatchError { index: i, error });
                    break;
                }
            }
        }
        // Signatures of ops before a failure may fail earlier; report the first bad op.
        if let Some((index, error)) = first_bad_signature(self.config.chain_id, &checks) {
            if failure.as_ref().is_none_or(|f| index < f.index) {
                failure = Some(BatchError { index, error });
            }
        }
        if failure.is_none() && !ops.is_empty() {
            match overlay.settle_fees(fee_account) {
                Ok(touched) => snapshots.push(touched.iter().map(|t| (*t, overlay.accounts[t].clone())).collect()),
                Err(error) => failure = Some(BatchError { index: ops.len() - 1, error }),
            }
        }
        if let Some(f) = failure {
            return Err(f);
        }
        let Overlay { accounts, new_pubkeys, next_index, fees, .. } = overlay;
        Ok((Executed { accounts, new_pubkeys, next_index, fees }, public_ops, snapshots))
    }

    /// Writes the post-op account snapshots into the tree, returning the root after each op.
    fn merkleize(&mut self, snapshots: &[Vec<(u32, Account)>]) -> Vec<Fr> {
        // Leaf hashes are independent of each other: compute them all together, in parallel.
        let touched: Vec<&Account> = snapshots.iter().flatten().map(|(_, a)| a).collect();
        let hashes: Vec<Fr> = touched.par_chunks(LEAF_CHUNK).flat_map_iter(leaf_hashes).collect();
        let mut hashes = hashes.into_iter();
        let leaves: Vec<Vec<(u32, Fr)>> =
            snapshots.iter().map(|group| group.iter().map(|(i, _)| *i).zip(hashes.by_ref()).collect()).collect();
        self.tree.update_sequence(&leaves)
    }
}

fn to3(i: u32) -> [u8; 3] {
    let b = i.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// The lowest op index whose queued signature fails, with its error, or `None` if all
/// verify: each on its own (`tandem_crypto::verify`), in parallel.
///
/// Why not a batch verification by a random linear combination: with the fixed-base table
/// for `S·B8` one signature verifies in ~120 µs, while a signature's share of a batch costs
/// ~150 µs, because the batch must first check that every `R8` lies in the prime-order
/// subgroup (single verification refuses any other), a full scalar multiplication each
/// (BENCHMARKS.md, issue 13).
fn first_bad_signature(chain_id: ChainId, checks: &[SignatureCheck]) -> Option<(usize, StfError)> {
    checks
        .par_chunks(verification_chunk(checks.len()))
        .flat_map_iter(|chunk| {
            let messages: Vec<&SignedMessage> = chunk.iter().map(|c| &c.message).collect();
            let hashes = SignedMessage::hash_many(chain_id, &messages);
            let items: Vec<_> = chunk.iter().zip(hashes).map(|(c, hash)| (c.from, &c.signer, hash, &c.signature)).collect();
            let verdicts = verify_packed_many(chain_id, &items);
            chunk.iter().zip(verdicts).filter_map(|(c, v)| v.err().map(|e| (c.op_index, e))).collect::<Vec<_>>()
        })
        .min_by_key(|(i, _)| *i)
}

/// The account changes of an executed batch, not yet written to the ledger.
struct Executed {
    accounts: HashMap<u32, Account>,
    new_pubkeys: HashMap<PackedPubKey, AccountIndex>,
    next_index: u32,
    fees: [Balance; MAX_TOKENS as usize],
}

/// Copy-on-write view of the ledger used during execution.
struct Overlay<'a> {
    base: &'a Ledger,
    accounts: HashMap<u32, Account>,
    new_pubkeys: HashMap<PackedPubKey, AccountIndex>,
    next_index: u32,
    /// Fees collected so far in the batch, per token id.
    fees: [Balance; MAX_TOKENS as usize],
    /// The part of `fees` already credited to the fee account by chunk settlements.
    settled: [Balance; MAX_TOKENS as usize],
    /// While an op runs under [`Overlay::begin_op`]: each account it changed, with the
    /// overlay's entry before its first change (`None`: there was none).
    undo_accounts: Option<Vec<(u32, Option<Account>)>>,
    /// Keys the running op registered in `new_pubkeys`.
    undo_pubkeys: Vec<PackedPubKey>,
    /// The ops are public data L1 attests to ([`Ledger::apply_public_batch`]): they carry no
    /// signatures, so signed ops are authorized by that attestation instead of a signature.
    attested: bool,
}

/// The overlay's scalar state before an op, to restore if the op is skipped.
struct OpMark {
    next_index: u32,
    fees: [Balance; MAX_TOKENS as usize],
}

impl<'a> Overlay<'a> {
    fn new(base: &'a Ledger) -> Self {
        Self {
            base,
            accounts: HashMap::new(),
            new_pubkeys: HashMap::new(),
            next_index: base.next_index,
            fees: [0; MAX_TOKENS as usize],
            settled: [0; MAX_TOKENS as usize],
            undo_accounts: None,
            undo_pubkeys: Vec::new(),
            attested: false,
        }
    }

    /// Starts journaling one op so that [`Overlay::undo`] can take it back.
    fn begin_op(&mut self) -> OpMark {
        self.undo_accounts = Some(Vec::with_capacity(3));
        self.undo_pubkeys.clear();
        OpMark { next_index: self.next_index, fees: self.fees }
    }

    /// Takes back every change since [`Overlay::begin_op`] returned `mark`.
    fn undo(&mut self, mark: OpMark) {
        for (index, before) in self.undo_accounts.take().unwrap_or_default().into_iter().rev() {
            match before {
                Some(account) => self.accounts.insert(index, account),
                None => self.accounts.remove(&index),
            };
        }
        for key in self.undo_pubkeys.drain(..) {
            self.new_pubkeys.remove(&key);
        }
        self.next_index = mark.next_index;
        self.fees = mark.fees;
    }

    /// Stops journaling (the fee settlement after the last op is never taken back).
    fn end_ops(&mut self) {
        self.undo_accounts = None;
        self.undo_pubkeys.clear();
    }

    /// Records `key`'s overlay entry before the running op's first change to it.
    fn journal(&mut self, key: u32) {
        if let Some(log) = &mut self.undo_accounts {
            if !log.iter().any(|(k, _)| *k == key) {
                log.push((key, self.accounts.get(&key).cloned()));
            }
        }
    }

    fn capacity(&self) -> u64 {
        1u64 << self.base.config.tree_depth
    }

    fn check_range(&self, index: AccountIndex) -> Result<(), StfError> {
        if index.get() as u64 >= self.capacity() {
            return Err(StfError::IndexOutOfRange { index, depth: self.base.config.tree_depth, capacity: self.capacity() });
        }
        Ok(())
    }

    fn get(&self, index: AccountIndex) -> Option<&Account> {
        self.accounts.get(&index.get()).or_else(|| self.base.accounts.get(&index.get()))
    }

    fn exists(&self, index: AccountIndex) -> bool {
        self.get(index).is_some()
    }

    fn get_mut(&mut self, index: AccountIndex) -> Result<&mut Account, StfError> {
        let key = index.get();
        self.journal(key);
        if !self.accounts.contains_key(&key) {
            let account = self.base.accounts.get(&key).ok_or(StfError::AccountNotFound(index))?;
            self.accounts.insert(key, account.clone());
        }
        Ok(self.accounts.get_mut(&key).expect("inserted above"))
    }

    fn index_of(&self, pubkey: &PackedPubKey) -> Option<AccountIndex> {
        self.base.index_of(pubkey).or_else(|| self.new_pubkeys.get(pubkey).copied())
    }

    fn allocate(&self) -> Result<AccountIndex, StfError> {
        if self.next_index as u64 >= self.capacity() {
            return Err(StfError::TreeFull { capacity: self.capacity() });
        }
        AccountIndex::new(self.next_index).map_err(|_| StfError::TreeFull { capacity: self.capacity() })
    }

    fn create(&mut self, index: AccountIndex, packed: PackedPubKey, pubkey: PublicKey) {
        self.journal(index.get());
        self.accounts.insert(index.get(), Account::new(pubkey));
        if self.index_of(&packed).is_none() {
            self.new_pubkeys.insert(packed, index);
            if self.undo_accounts.is_some() {
                self.undo_pubkeys.push(packed);
            }
        }
        self.next_index = self.next_index.max(index.get() + 1);
    }

    fn credit(&mut self, index: AccountIndex, token: TokenId, amount: Balance) -> Result<(), StfError> {
        let account = self.get_mut(index)?;
        let new = account.balance(token).checked_add(amount).ok_or(StfError::BalanceOverflow { index, token: token.get() })?;
        account.set_balance(token, new);
        Ok(())
    }

    /// Credits the fees collected since the last settlement to `fee_account`; returns the
    /// touched accounts (none if no fee was collected since).
    fn settle_fees(&mut self, fee_account: AccountIndex) -> Result<Vec<u32>, StfError> {
        if self.fees == self.settled {
            return Ok(Vec::new());
        }
        for (token, (fee, settled)) in self.fees.into_iter().zip(self.settled).enumerate() {
            if fee != settled {
                let token = TokenId::new(token as u32).expect("index of the fee array");
                self.credit(fee_account, token, fee - settled)?;
            }
        }
        self.settled = self.fees;
        Ok(vec![fee_account.get()])
    }

    /// Ends the batch's `applied`-th op (counting from 1), which changed `touched`: if it
    /// closes a chunk of [`LedgerConfig::chunk_size`] ops, the chunk's fees are settled
    /// with it. Returns the snapshot of every account the op (and settlement) changed.
    fn close_op(&mut self, applied: usize, mut touched: Vec<u32>, fee_account: AccountIndex) -> Result<Vec<(u32, Account)>, StfError> {
        if self.base.config.chunk_size.is_some_and(|size| applied.is_multiple_of(size.get())) {
            for account in self.settle_fees(fee_account)? {
                if !touched.contains(&account) {
                    touched.push(account);
                }
            }
        }
        Ok(touched.iter().map(|t| (*t, self.accounts[t].clone())).collect())
    }

    /// Resolves a user-level input to its public-data op and executes it.
    fn execute_ledger_op(
        &mut self,
        op_index: usize,
        op: &LedgerOp,
        fee_account: AccountIndex,
        checks: &mut Vec<SignatureCheck>,
    ) -> Result<(Op, Vec<u32>), StfError> {
        let (public, signature) = match op {
            LedgerOp::Deposit(d) => {
                let to = match self.index_of(&d.to) {
                    Some(i) => i,
                    None => self.allocate()?,
                };
                (Op::Deposit(DepositOp { to, pubkey: d.to, token: d.token, amount: d.amount }), None)
            }
            LedgerOp::Tx(signed) => {
                let from = signed.tx.from();
                self.check_range(from)?;
                let sender = self.get(from).ok_or(StfError::AccountNotFound(from))?;
                if signed.tx.nonce() != sender.nonce {
                    return Err(StfError::NonceMismatch { from, expected: sender.nonce, got: signed.tx.nonce() });
                }
                let public = match &signed.tx {
                    Tx::Transfer(t) => match self.index_of(&t.to) {
                        Some(to) => Op::Transfer(TransferOp { from, to, token: t.token, amount: t.amount, fee: t.fee }),
                        None => Op::TransferToNew(TransferToNewOp {
                            from,
                            to: self.allocate()?,
                            to_pubkey: t.to,
                            token: t.token,
                            amount: t.amount,
                            fee: t.fee,
                        }),
                    },
                    Tx::Withdraw(w) => Op::Withdraw(WithdrawOp { from, token: w.token, amount: w.amount, fee: w.fee, to_l1: w.to_l1 }),
                };
                (public, Some(&signed.signature))
            }
            LedgerOp::ForcedWithdrawal(request) => {
                self.check_range(request.account)?;
                let chain_id = self.base.config.chain_id;
                let request_hash = forced_request_hash(chain_id, request)?;
                let public = Op::ForcedWithdraw(ForcedWithdrawOp {
                    account: request.account,
                    token: request.token,
                    withdrawn: self.forced_withdrawal_amount(request),
                    request_hash: tandem_crypto::field::fr_to_be_bytes(&request_hash),
                });
                (public, None)
            }
        };
        let touched = self.execute_op(op_index, &public, signature, fee_account, checks)?;
        Ok((public, touched))
    }

    /// Executes one public-data op: every rule but the signature itself, which is queued in
    /// `checks`. Returns the touched account indices.
    fn execute_op(
        &mut self,
        op_index: usize,
        op: &Op,
        signature: Option<&PackedSignature>,
        fee_account: AccountIndex,
        checks: &mut Vec<SignatureCheck>,
    ) -> Result<Vec<u32>, StfError> {
        match *op {
            Op::Noop => Ok(Vec::new()),
            Op::Deposit(d) => {
                if d.amount == 0 {
                    return Err(StfError::ZeroDeposit);
                }
                self.check_range(d.to)?;
                match self.get(d.to) {
                    Some(existing) => {
                        if existing.pubkey.pack() != d.pubkey {
                            return Err(StfError::PubKeyMismatch { index: d.to });
                        }
                    }
                    None => {
                        let pubkey = PublicKey::unpack(&d.pubkey).map_err(StfError::InvalidPubKey)?;
                        self.create(d.to, d.pubkey, pubkey);
                    }
                }
                self.credit(d.to, d.token, d.amount)?;
                Ok(vec![d.to.get()])
            }
            Op::Transfer(TransferOp { from, to, token, amount, fee }) => {
                if from == to {
                    return Err(StfError::SelfTransfer(from));
                }
                self.check_range(to)?;
                let recipient = self.get(to).ok_or(StfError::AccountNotFound(to))?.pubkey;
                self.transfer(op_index, from, to, recipient, token, amount.value(), fee.value(), signature, fee_account, checks)
            }
            Op::TransferToNew(TransferToNewOp { from, to, to_pubkey, token, amount, fee }) => {
                self.check_range(to)?;
                if self.exists(to) {
                    return Err(StfError::AccountExists(to));
                }
                let recipient = PublicKey::unpack(&to_pubkey).map_err(StfError::InvalidPubKey)?;
                self.check_range(from)?;
                if !self.exists(from) {
                    return Err(StfError::AccountNotFound(from));
                }
                self.create(to, to_pubkey, recipient);
                self.transfer(op_index, from, to, recipient, token, amount.value(), fee.value(), signature, fee_account, checks)
            }
            Op::Withdraw(w) => {
                self.check_range(w.from)?;
                let sender = self.get(w.from).ok_or(StfError::AccountNotFound(w.from))?;
                let message = SignedMessage::Withdraw(tandem_types::WithdrawTx {
                    from: w.from,
                    to_l1: w.to_l1,
                    token: w.token,
                    amount: w.amount,
                    fee: w.fee,
                    nonce: sender.nonce,
                });
                self.debit_signed(op_index, w.from, w.token, w.amount, w.fee.value(), message, signature, fee_account, checks)?;
                Ok(vec![w.from.get()])
            }
            Op::ForcedWithdraw(f) => {
                self.check_range(f.account)?;
                if f.withdrawn == 0 {
                    // A no-op touches nothing, so the root after it is the root before.
                    return Ok(Vec::new());
                }
                let account = self.get_mut(f.account)?;
                let balance = account.balance(f.token);
                if balance < f.withdrawn {
                    return Err(StfError::insufficient(f.account, f.token, balance, f.withdrawn));
                }
                account.set_balance(f.token, balance - f.withdrawn);
                Ok(vec![f.account.get()])
            }
        }
    }

    /// What a forced-withdrawal request withdraws against the current state (SPEC.md §5.1):
    /// the requested amount (the whole balance for 0) if the account exists, the request's
    /// signature verifies under the account key and the balance covers it; otherwise 0 (a
    /// no-op). No nonce is involved: L1 queues each (account, request id) once.
    fn forced_withdrawal_amount(&self, request: &ForcedWithdrawalRequest) -> Balance {
        let Some(account) = self.get(request.account) else { return 0 };
        let Ok(signature) = Signature::from_coordinates(&request.r8x, &request.r8y, &request.s) else { return 0 };
        if !tandem_crypto::verify(&account.pubkey, forced_message(self.base.config.chain_id, request), &signature) {
            return 0;
        }
        let balance = account.balance(request.token);
        match request.amount {
            0 => balance,
            wanted if wanted <= balance => wanted,
            _ => 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &mut self,
        op_index: usize,
        from: AccountIndex,
        to: AccountIndex,
        recipient: PublicKey,
        token: TokenId,
        amount: Balance,
        fee: Balance,
        signature: Option<&PackedSignature>,
        fee_account: AccountIndex,
        checks: &mut Vec<SignatureCheck>,
    ) -> Result<Vec<u32>, StfError> {
        self.check_range(from)?;
        let sender = self.get(from).ok_or(StfError::AccountNotFound(from))?;
        let tx = tandem_types::TransferTx {
            from,
            to: recipient.pack(),
            token,
            amount: tandem_types::PackedAmount::new(amount).expect("amount came from a packed value"),
            fee: tandem_types::PackedFee::new(fee).expect("fee came from a packed value"),
            nonce: sender.nonce,
        };
        let message = SignedMessage::Transfer(tx, recipient);
        self.debit_signed(op_index, from, token, amount, fee, message, signature, fee_account, checks)?;
        self.credit(to, token, amount)?;
        Ok(vec![from.get(), to.get()])
    }

    /// Checks and applies the sender side of a signed op: nonce, balance for amount plus fee,
    /// fee credit; queues the signature check.
    #[allow(clippy::too_many_arguments)]
    fn debit_signed(
        &mut self,
        op_index: usize,
        from: AccountIndex,
        token: TokenId,
        amount: Balance,
        fee: Balance,
        message: SignedMessage,
        signature: Option<&PackedSignature>,
        fee_account: AccountIndex,
        checks: &mut Vec<SignatureCheck>,
    ) -> Result<(), StfError> {
        let signature = if self.attested { None } else { Some(*signature.ok_or(StfError::MissingSignature(from))?) };
        if fee != 0 {
            self.check_range(fee_account)?;
            if !self.exists(fee_account) {
                return Err(StfError::FeeAccountMissing(fee_account));
            }
        }
        let needed = amount.checked_add(fee).ok_or(StfError::AmountOverflow)?;
        let sender = self.get_mut(from)?;
        let balance = sender.balance(token);
        if balance < needed {
            return Err(StfError::insufficient(from, token, balance, needed));
        }
        let next_nonce = sender.nonce.checked_add(1).ok_or(StfError::NonceExhausted(from))?;
        let signer = sender.pubkey;
        sender.set_balance(token, balance - needed);
        sender.nonce = next_nonce;
        let collected = &mut self.fees[token.get() as usize];
        *collected = collected.checked_add(fee).ok_or(StfError::BalanceOverflow { index: fee_account, token: token.get() })?;
        if let Some(signature) = signature {
            checks.push(SignatureCheck { op_index, from, signer, message, signature });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Atomic batches on random blocks, including blocks with invalid transactions (bad
    //! signatures among them): a refused batch is reported at its first failing op and
    //! changes nothing, and `check_batch` always agrees with `apply_batch`. (The optimized
    //! Poseidon is compared with the plain evaluation in `tandem_crypto::poseidon`'s tests.)

    use super::*;
    use crate::signing::sign_tx;
    use proptest::prelude::*;
    use tandem_crypto::babyjubjub::{pack_point, unpack_point};
    use tandem_crypto::PrivateKey;
    use tandem_types::{PackedAmount, PackedFee, TransferTx, WithdrawTx};

    const CHAIN_ID: ChainId = 5;
    const KEYS: u8 = 5;

    fn key(i: u8) -> PrivateKey {
        PrivateKey::from_seed([i.wrapping_add(1); 32])
    }

    fn genesis() -> Ledger {
        let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: 10, chunk_size: None }).unwrap();
        let deposits: Vec<LedgerOp> = (0..KEYS)
            .map(|k| LedgerOp::Deposit(L1Deposit { to: key(k).public_key().pack(), token: TokenId::ETH, amount: 1_000_000 }))
            .collect();
        ledger.apply_batch(&deposits, AccountIndex::new(0).unwrap()).unwrap();
        ledger
    }

    /// One input of a random block: `kind` picks a valid op (most often) or a fault.
    fn op(ledger: &Ledger, nonces: &mut [u32], kind: u8, from: u8, to: u8) -> LedgerOp {
        let index = ledger.index_of(&key(from).public_key().pack()).unwrap();
        let nonce = nonces[from as usize];
        let transfer = |to: PackedPubKey, amount: u128, nonce: u32| {
            Tx::Transfer(TransferTx {
                from: index,
                to,
                token: TokenId::ETH,
                amount: PackedAmount::new(amount).unwrap(),
                fee: PackedFee::new(3).unwrap(),
                nonce,
            })
        };
        let to_key = key(to).public_key().pack();
        let (tx, signer) = match kind {
            // valid: transfer, withdrawal, transfer to a new key, deposit
            0..=3 => (transfer(to_key, 10, nonce), key(from)),
            4 | 5 => (
                Tx::Withdraw(WithdrawTx {
                    from: index,
                    to_l1: tandem_types::L1Address([from; 20]),
                    token: TokenId::ETH,
                    amount: 7,
                    fee: PackedFee::new(1).unwrap(),
                    nonce,
                }),
                key(from),
            ),
            6 => (transfer(key(100 + to).public_key().pack(), 5, nonce), key(from)),
            7 => {
                return LedgerOp::Deposit(L1Deposit { to: to_key, token: TokenId::ETH, amount: 99 });
            }
            // faults: wrong signer, wrong nonce, overdraft (signatures are checked after these)
            8 => (transfer(to_key, 10, nonce), key(from + 1)),
            9 => (transfer(to_key, 10, nonce + 1), key(from)),
            10 => (transfer(to_key, 10u128.pow(15), nonce), key(from)),
            // faults in the signature's encoding: S not below l; R8 moved by the order-2 point
            11 | 12 => {
                let mut signed = sign_tx(&key(from), CHAIN_ID, transfer(to_key, 10, nonce)).unwrap();
                if kind == 11 {
                    signed.signature.0[32..].copy_from_slice(&[0xff; 32]);
                } else {
                    let mut r8_bytes = [0u8; 32];
                    r8_bytes.copy_from_slice(&signed.signature.0[..32]);
                    let mut r8 = unpack_point(&r8_bytes).unwrap();
                    r8.x = -r8.x;
                    r8.y = -r8.y;
                    signed.signature.0[..32].copy_from_slice(&pack_point(&r8));
                }
                nonces[from as usize] += 1;
                return LedgerOp::Tx(signed);
            }
            _ => unreachable!("kinds are drawn from 0..13"),
        };
        if kind < 8 {
            nonces[from as usize] += 1;
        }
        LedgerOp::Tx(sign_tx(&signer, CHAIN_ID, tx).unwrap())
    }

    fn block(ledger: &Ledger, draws: &[(u8, u8, u8)]) -> Vec<LedgerOp> {
        let mut nonces: Vec<u32> =
            (0..KEYS).map(|k| ledger.account(ledger.index_of(&key(k).public_key().pack()).unwrap()).unwrap().nonce).collect();
        draws.iter().map(|&(kind, from, to)| op(ledger, &mut nonces, kind, from, (from + 1 + to % (KEYS - 1)) % KEYS)).collect()
    }

    /// Applies `ops` to a copy of `ledger`; asserts that `check_batch` says the same, and
    /// that a refused batch changed nothing.
    fn apply_and_check(ledger: &Ledger, ops: &[LedgerOp]) -> Result<BatchOutcome, BatchError> {
        let fee_account = AccountIndex::new(0).unwrap();
        let mut copy = ledger.clone();
        let outcome = copy.apply_batch(ops, fee_account);
        assert_eq!(ledger.check_batch(ops, fee_account), outcome.as_ref().map(|_| ()).map_err(Clone::clone));
        if outcome.is_err() {
            assert_eq!(copy.root(), ledger.root());
        }
        outcome
    }

    #[test]
    fn a_fault_in_the_middle_is_reported_at_its_index() {
        let ledger = genesis();
        let draws: Vec<(u8, u8, u8)> = (0..8).map(|i| (i % 8, i % KEYS, i)).collect();
        let outcome = apply_and_check(&ledger, &block(&ledger, &draws)).unwrap();
        assert_eq!(outcome.ops.len(), 8);
        for fault in 8..13 {
            let mut faulty = draws.clone();
            faulty[5] = (fault, 2, 1);
            let error = apply_and_check(&ledger, &block(&ledger, &faulty)).unwrap_err();
            assert_eq!(error.index, 5, "fault {fault}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn check_batch_agrees_with_apply_batch(
            draws in prop::collection::vec((prop_oneof![6 => 0u8..8, 1 => 8u8..13], 0..KEYS, 0..KEYS), 1..12),
        ) {
            let ledger = genesis();
            let ops = block(&ledger, &draws);
            let _ = apply_and_check(&ledger, &ops);
        }
    }
}
