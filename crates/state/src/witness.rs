//! Witnesses for the validity circuit (`tandem-circuit`): for a batch applied from a given
//! ledger state, what each op slot needs (the op, the touched accounts' contents and Merkle
//! proofs just before each account update, the signature and its signer) and the fee
//! settlement step.
//!
//! The batch is first applied with [`Ledger::apply_batch`] to a copy of the ledger (so the
//! reference STF decides validity and yields the public ops and roots); the witness is then
//! built by replaying the public ops on a copy of the tree, and every replayed root is
//! checked against the STF's intermediate roots and final root.
//!
//! Within an op the circuit updates the first account (sender, or deposit target), then the
//! second (recipient) under the root that already includes the first update; the proofs
//! here follow that order. Fee settlement credits, in slot order, each slot's fee (zero for
//! deposits and padding) to the fee account's balance of that slot's token.

use std::collections::HashMap;
use tandem_crypto::{Fr, PublicKey, Signature};
use tandem_types::{AccountIndex, Balance, ChainId, ForcedWithdrawalRequest, L1Address, Nonce, Op, TokenId, TOKEN_BITS};

use crate::account::Account;
use crate::error::BatchError;
use crate::ledger::{BatchOutcome, Ledger, LedgerOp};
use crate::tree::{MerkleProof, SparseMerkleTree};

/// One account as the circuit sees it just before it is updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountWitness {
    /// Position in the account tree.
    pub index: u32,
    /// The account, `None` for an empty slot (leaf 0).
    pub account: Option<Account>,
    /// The token whose balance the update changes.
    pub token: TokenId,
    /// Balance of `token` before the update (0 for an empty slot).
    pub balance: Balance,
    /// Path of `token` in the account's balance tree (depth 5; the empty tree for an empty slot).
    pub balance_proof: MerkleProof,
    /// Path of `index` in the account tree, under the root just before this update.
    pub proof: MerkleProof,
}

impl AccountWitness {
    fn read(tree: &SparseMerkleTree, account: Option<&Account>, index: u32, token: TokenId) -> Self {
        let (balance, balance_proof) = match account {
            Some(a) => (a.balance(token), balance_proof(a, token)),
            None => (0, empty_balance_proof()),
        };
        Self { index, account: account.cloned(), token, balance, balance_proof, proof: tree.proof(index) }
    }

    /// A placeholder for a slot that does not touch a second account (or any): index 0,
    /// empty, all-zero paths. The circuit does not check it.
    fn unused(depth: u8) -> Self {
        Self {
            index: 0,
            account: None,
            token: TokenId::ETH,
            balance: 0,
            balance_proof: MerkleProof { siblings: vec![Fr::from(0u64); TOKEN_BITS as usize] },
            proof: MerkleProof { siblings: vec![Fr::from(0u64); depth as usize] },
        }
    }

    /// `A.x`, `A.y`, nonce and balance root (zeros for an empty slot, with the empty
    /// balance tree's root).
    pub fn leaf_fields(&self) -> (Fr, Fr, Nonce, Fr) {
        match &self.account {
            Some(a) => (a.pubkey.x(), a.pubkey.y(), a.nonce, a.balance_root()),
            None => (Fr::from(0u64), Fr::from(0u64), 0, empty_balance_root()),
        }
    }
}

/// Everything the circuit needs for one op slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpWitness {
    /// The op in public-data form (`Op::Noop` for padding).
    pub op: Op,
    /// First account: the deposit target or the signer (placeholder for Noop).
    pub first: AccountWitness,
    /// Second account: the transfer recipient (placeholder otherwise), under the root after
    /// the first account's update.
    pub second: AccountWitness,
    /// The key of a deposit, or of the account a `TransferToNew` creates.
    pub new_pubkey: Option<PublicKey>,
    /// Signature of a signed op (transfer or withdrawal).
    pub signature: Option<Signature>,
    /// The signer's nonce the signature covers (the first account's nonce before the op).
    pub nonce: Nonce,
    /// The withdrawal's L1 recipient (withdrawals and forced withdrawals).
    pub to_l1: Option<L1Address>,
    /// A forced withdrawal's request (its signature is also in `signature`).
    pub forced: Option<ForcedWithdrawalRequest>,
    /// State root before the op.
    pub root_before: Fr,
    /// State root after the op (the STF's intermediate root; unchanged for padding).
    pub root_after: Fr,
}

/// One slot's credit to the fee account during settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeCredit {
    /// Token of the slot's op (ETH for padding).
    pub token: TokenId,
    /// Fee of the slot's op (0 for deposits and padding).
    pub fee: Balance,
    /// The fee account's balance of `token` before this credit.
    pub balance: Balance,
    /// Path of `token` in the fee account's balance tree before this credit.
    pub balance_proof: MerkleProof,
}

/// The fee settlement step after the last slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSettlementWitness {
    /// The fee account before settlement (its proof is under the last intermediate root);
    /// `token`, `balance` and `balance_proof` are unused (see `credits`).
    pub account: AccountWitness,
    /// One credit per slot, in slot order.
    pub credits: Vec<FeeCredit>,
}

/// The witness of a whole batch of `slots` op slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchWitness {
    /// Chain id (inside every signing message).
    pub chain_id: ChainId,
    /// Account tree depth.
    pub depth: u8,
    /// The batch's fee account.
    pub fee_account: AccountIndex,
    /// State root before the batch.
    pub prev_root: Fr,
    /// One per slot: the batch's ops, then Noop padding.
    pub ops: Vec<OpWitness>,
    /// Fee settlement.
    pub fees: FeeSettlementWitness,
    /// State root after the batch (fees settled).
    pub new_root: Fr,
}

/// Why a witness cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The batch is invalid under the STF (nothing to prove).
    #[error(transparent)]
    Invalid(#[from] BatchError),
    /// A forced-withdrawal request whose signature is not a curve point and a scalar below
    /// `l` (L1 never queues one, and the circuit cannot represent it).
    #[error("forced-withdrawal request of op {0} has a malformed signature")]
    MalformedForcedRequest(usize),
    /// The batch has more ops than the circuit has slots.
    #[error("batch of {ops} ops does not fit {slots} slots")]
    TooManyOps {
        /// Ops in the batch.
        ops: usize,
        /// Slots of the circuit.
        slots: usize,
    },
    /// The batch is longer than the ledger's fee-settlement chunk: the STF settles fees
    /// inside it, the circuit only after its last slot (prove it chunk by chunk).
    #[error("batch of {ops} ops spans more than one fee chunk of {chunk} ops")]
    SpansChunks {
        /// Ops in the batch.
        ops: usize,
        /// The ledger's chunk size.
        chunk: usize,
    },
}

fn balance_tree(account: &Account) -> SparseMerkleTree {
    let mut tree = SparseMerkleTree::new(TOKEN_BITS as u8);
    let leaves: Vec<(u32, Fr)> = account.balances().map(|(t, b)| (t.get() as u32, Fr::from(b))).collect();
    tree.update(&leaves);
    tree
}

/// Account `index`'s leaf contents, its balance of `token` and both paths under `ledger`'s
/// current root (what an exit proof needs, SPEC.md §16). An empty slot reads as balance 0.
pub fn account_witness(ledger: &Ledger, index: AccountIndex, token: TokenId) -> AccountWitness {
    let account = ledger.account(index);
    let (balance, balance_proof) = match account {
        Some(a) => (a.balance(token), balance_proof(a, token)),
        None => (0, empty_balance_proof()),
    };
    AccountWitness { index: index.get(), account: account.cloned(), token, balance, balance_proof, proof: ledger.proof(index) }
}

/// Path of `token` in `account`'s balance tree.
pub fn balance_proof(account: &Account, token: TokenId) -> MerkleProof {
    balance_tree(account).proof(token.get() as u32)
}

fn empty_balance_proof() -> MerkleProof {
    SparseMerkleTree::new(TOKEN_BITS as u8).proof(0)
}

/// Root of the empty balance tree, `Z_5`.
pub fn empty_balance_root() -> Fr {
    SparseMerkleTree::new(TOKEN_BITS as u8).root()
}

/// Applies `ops` to a copy of `ledger` with the reference STF and returns the witness of
/// the batch padded to `slots` slots, with the STF's outcome. `ledger` is not changed.
/// The ops must fit one fee chunk of the ledger (a batch of the chain, or one chunk of one).
///
/// # Panics
/// If the replay disagrees with the STF's roots (a bug in one of them, never an input error).
pub fn batch_witness(
    ledger: &Ledger,
    ops: &[LedgerOp],
    fee_account: AccountIndex,
    slots: usize,
) -> Result<(BatchWitness, BatchOutcome), WitnessError> {
    if ops.len() > slots {
        return Err(WitnessError::TooManyOps { ops: ops.len(), slots });
    }
    if let Some(chunk) = ledger.config.chunk_size.filter(|c| ops.len() > c.get()) {
        return Err(WitnessError::SpansChunks { ops: ops.len(), chunk: chunk.get() });
    }
    let outcome = ledger.clone().apply_batch(ops, fee_account)?;
    let depth = ledger.config.tree_depth;
    let mut tree = ledger.tree.clone();
    let mut changed: HashMap<u32, Account> = HashMap::new();
    let current = |changed: &HashMap<u32, Account>, i: u32| -> Option<Account> {
        changed.get(&i).cloned().or_else(|| ledger.accounts.get(&i).cloned())
    };
    let mut witnesses = Vec::with_capacity(slots);
    for (i, op) in outcome.ops.iter().enumerate() {
        let root_before = tree.root();
        let (signature, forced) = match &ops[i] {
            LedgerOp::Tx(signed) => (Some(Signature::unpack(&signed.signature).expect("the STF accepted this signature")), None),
            LedgerOp::ForcedWithdrawal(r) => {
                (Some(Signature::from_coordinates(&r.r8x, &r.r8y, &r.s).map_err(|_| WitnessError::MalformedForcedRequest(i))?), Some(*r))
            }
            LedgerOp::Deposit(_) => (None, None),
        };
        let write = |tree: &mut SparseMerkleTree, changed: &mut HashMap<u32, Account>, i: u32, a: Account| {
            tree.update(&[(i, a.leaf_hash())]);
            changed.insert(i, a);
        };
        let mut second = AccountWitness::unused(depth);
        let (first, new_pubkey, nonce, to_l1) = match *op {
            Op::Noop => (AccountWitness::unused(depth), None, 0, None),
            Op::Deposit(d) => {
                let before = current(&changed, d.to.get());
                let first = AccountWitness::read(&tree, before.as_ref(), d.to.get(), d.token);
                let key = PublicKey::unpack(&d.pubkey).expect("the STF accepted this key");
                let mut after = before.unwrap_or_else(|| Account::new(key));
                after.set_balance(d.token, after.balance(d.token) + d.amount);
                write(&mut tree, &mut changed, d.to.get(), after);
                (first, Some(key), 0, None)
            }
            Op::Transfer(_) | Op::TransferToNew(_) | Op::Withdraw(_) => {
                let (from, token, amount, fee, to) = match *op {
                    Op::Transfer(t) => (t.from, t.token, t.amount.value(), t.fee.value(), Some((t.to, None))),
                    Op::TransferToNew(t) => (
                        t.from,
                        t.token,
                        t.amount.value(),
                        t.fee.value(),
                        Some((t.to, Some(PublicKey::unpack(&t.to_pubkey).expect("the STF accepted this key")))),
                    ),
                    Op::Withdraw(w) => (w.from, w.token, w.amount, w.fee.value(), None),
                    _ => unreachable!(),
                };
                let sender = current(&changed, from.get()).expect("the STF checked the sender exists");
                let first = AccountWitness::read(&tree, Some(&sender), from.get(), token);
                let nonce = sender.nonce;
                let mut after = sender;
                after.set_balance(token, after.balance(token) - amount - fee);
                after.nonce += 1;
                write(&mut tree, &mut changed, from.get(), after);
                let mut new_pubkey = None;
                if let Some((to, created)) = to {
                    let before = current(&changed, to.get());
                    second = AccountWitness::read(&tree, before.as_ref(), to.get(), token);
                    new_pubkey = created;
                    let mut after = before.or(created.map(Account::new)).expect("recipient exists or is created");
                    after.set_balance(token, after.balance(token) + amount);
                    write(&mut tree, &mut changed, to.get(), after);
                }
                let to_l1 = if let Op::Withdraw(w) = op { Some(w.to_l1) } else { None };
                (first, new_pubkey, nonce, to_l1)
            }
            Op::ForcedWithdraw(f) => {
                // The path is read even for a no-op or a missing account: the circuit proves
                // the state that made the request a no-op.
                let before = current(&changed, f.account.get());
                let first = AccountWitness::read(&tree, before.as_ref(), f.account.get(), f.token);
                if f.withdrawn != 0 {
                    let mut after = before.expect("the STF debited an existing account");
                    after.set_balance(f.token, after.balance(f.token) - f.withdrawn);
                    write(&mut tree, &mut changed, f.account.get(), after);
                }
                (first, None, 0, forced.map(|r| r.to_l1))
            }
        };
        // The last op's root includes the fee settlement, checked below.
        if i + 1 < outcome.ops.len() {
            assert_eq!(tree.root(), outcome.intermediate_roots[i], "witness replay diverged from the STF at op {i}");
        }
        witnesses.push(OpWitness {
            op: *op,
            first,
            second,
            new_pubkey,
            signature,
            nonce,
            to_l1,
            forced,
            root_before,
            root_after: tree.root(),
        });
    }
    while witnesses.len() < slots {
        let root = tree.root();
        witnesses.push(OpWitness {
            op: Op::Noop,
            first: AccountWitness::unused(depth),
            second: AccountWitness::unused(depth),
            new_pubkey: None,
            signature: None,
            nonce: 0,
            to_l1: None,
            forced: None,
            root_before: root,
            root_after: root,
        });
    }

    // Fee settlement: credit each slot's fee in order.
    let fee_before = current(&changed, fee_account.get());
    let account = AccountWitness::read(&tree, fee_before.as_ref(), fee_account.get(), TokenId::ETH);
    let mut balances: HashMap<TokenId, Balance> = HashMap::new();
    let mut balance_tree = fee_before.as_ref().map(self::balance_tree).unwrap_or_else(|| SparseMerkleTree::new(TOKEN_BITS as u8));
    let mut credits = Vec::with_capacity(slots);
    for w in &witnesses {
        let (token, fee) = match w.op {
            Op::Transfer(t) => (t.token, t.fee.value()),
            Op::TransferToNew(t) => (t.token, t.fee.value()),
            Op::Withdraw(t) => (t.token, t.fee.value()),
            Op::Deposit(d) => (d.token, 0),
            Op::ForcedWithdraw(f) => (f.token, 0),
            Op::Noop => (TokenId::ETH, 0),
        };
        let balance = *balances.entry(token).or_insert_with(|| fee_before.as_ref().map_or(0, |a| a.balance(token)));
        credits.push(FeeCredit { token, fee, balance, balance_proof: balance_tree.proof(token.get() as u32) });
        if fee != 0 {
            let settled = balance.checked_add(fee).expect("the STF checked the fee credit");
            balances.insert(token, settled);
            balance_tree.update(&[(token.get() as u32, Fr::from(settled))]);
        }
    }
    if let Some(mut settled) = fee_before {
        if credits.iter().any(|c| c.fee != 0) {
            for (t, b) in &balances {
                settled.set_balance(*t, *b);
            }
            tree.update(&[(fee_account.get(), settled.leaf_hash())]);
        }
    }
    assert_eq!(tree.root(), outcome.root, "witness replay diverged from the STF at fee settlement");
    let witness = BatchWitness {
        chain_id: ledger.config.chain_id,
        depth,
        fee_account,
        prev_root: outcome.prev_root,
        ops: witnesses,
        fees: FeeSettlementWitness { account, credits },
        new_root: outcome.root,
    };
    Ok((witness, outcome))
}
