//! Pending user transactions, ordered by arrival with per-account consecutive nonces.
//!
//! A transaction is accepted only if it could apply after the sender's already-pending
//! ones: its nonce is the next one, its signature verifies, and the balance covers it
//! together with the pending debits. So the block producer can take transactions in
//! arrival order and each account's are in nonce order.

use std::collections::{BTreeMap, HashMap};
use tandem_chain::TxHash;
use tandem_crypto::PublicKey;
use tandem_state::{Ledger, StfError};
use tandem_types::{AccountIndex, Balance, SignedTx, Tx};

/// Why a transaction was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The same transaction is already pending or was already included.
    #[error("transaction {0} is already known")]
    AlreadyKnown(TxHash),
    /// The nonce was used by an applied transaction.
    #[error("nonce {got} of account {from} was already used (account nonce is {current}): a replay")]
    NonceUsed {
        /// Sender.
        from: AccountIndex,
        /// Nonce in the transaction.
        got: u32,
        /// Applied nonce.
        current: u32,
    },
    /// A pending transaction of the account already has this nonce.
    #[error("nonce {got} of account {from} is taken by a pending transaction; the next nonce is {expected}")]
    NonceTaken {
        /// Sender.
        from: AccountIndex,
        /// Nonce in the transaction.
        got: u32,
        /// The next nonce, counting pending transactions.
        expected: u32,
    },
    /// The nonce skips ahead of the pending ones.
    #[error("nonce {got} of account {from} is not the next one: expected {expected}")]
    NonceGap {
        /// Sender.
        from: AccountIndex,
        /// Nonce in the transaction.
        got: u32,
        /// The next nonce, counting pending transactions.
        expected: u32,
    },
    /// Balance minus pending debits does not cover amount plus fee.
    #[error("insufficient balance in account {from} for token {token}: available {available} after pending transactions, needs {needed}")]
    InsufficientBalance {
        /// Sender.
        from: AccountIndex,
        /// Token.
        token: u8,
        /// Balance minus pending debits.
        available: Balance,
        /// Amount plus fee.
        needed: Balance,
    },
    /// Refused by a state-transition rule (unknown account, bad signature, ...).
    #[error("{0}")]
    Rule(#[from] StfError),
    /// Too many pending transactions.
    #[error("mempool is full ({0} transactions); retry later")]
    Full(usize),
}

/// The pending transactions.
#[derive(Debug, Default)]
pub struct Mempool {
    /// By arrival sequence number.
    by_seq: BTreeMap<u64, (TxHash, SignedTx)>,
    /// Sequence number of each pending transaction's hash (the same entries as `by_seq`).
    by_hash: HashMap<TxHash, u64>,
    /// Per sender: pending count and pending debits per token.
    pending: HashMap<AccountIndex, PendingSender>,
    next_seq: u64,
    capacity: usize,
}

#[derive(Debug, Default, Clone)]
struct PendingSender {
    count: u32,
    debits: HashMap<u8, Balance>,
}

fn debit_of(tx: &Tx) -> Balance {
    match tx {
        Tx::Transfer(t) => t.amount.value().saturating_add(t.fee.value()),
        Tx::Withdraw(w) => w.amount.saturating_add(w.fee.value()),
    }
}

impl Mempool {
    /// An empty mempool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, ..Self::default() }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    /// Next nonce of `account` counting pending transactions.
    pub fn pending_nonce(&self, ledger: &Ledger, account: AccountIndex) -> Option<u32> {
        let base = ledger.account(account)?.nonce;
        Some(base + self.pending.get(&account).map_or(0, |p| p.count))
    }

    /// Checks `tx` against the ledger and the pending transactions; on success returns the
    /// sequence number it would be stored under (call [`Mempool::insert`] once persisted).
    /// Duplicates are refused before this by the caller: of a pending transaction with
    /// [`Mempool::contains`], of an included one by its durable record.
    ///
    /// `verify_signature` checks the signature against the sender's key, after the nonce
    /// rules (a replay is refused before any cryptography); it should go through
    /// [`Ledger::verified_signatures`], so that applying the block does not verify it again.
    pub fn check(
        &self,
        ledger: &Ledger,
        tx: &SignedTx,
        verify_signature: impl FnOnce(&PublicKey) -> Result<(), StfError>,
    ) -> Result<u64, MempoolError> {
        if self.by_seq.len() >= self.capacity {
            return Err(MempoolError::Full(self.capacity));
        }
        let from = tx.tx.from();
        let depth = ledger.config().tree_depth;
        if from.get() as u64 >= 1u64 << depth {
            return Err(StfError::IndexOutOfRange { index: from, depth, capacity: 1 << depth }.into());
        }
        let account = ledger.account(from).ok_or(StfError::AccountNotFound(from))?;
        let pending = self.pending.get(&from).cloned().unwrap_or_default();
        let expected = account.nonce + pending.count;
        let got = tx.tx.nonce();
        if got < account.nonce {
            return Err(MempoolError::NonceUsed { from, got, current: account.nonce });
        }
        if got < expected {
            return Err(MempoolError::NonceTaken { from, got, expected });
        }
        if got > expected {
            return Err(MempoolError::NonceGap { from, got, expected });
        }
        verify_signature(&account.pubkey)?;
        let token = tx.tx.token();
        let needed = match &tx.tx {
            Tx::Transfer(t) => t.amount.value().checked_add(t.fee.value()),
            Tx::Withdraw(w) => w.amount.checked_add(w.fee.value()),
        }
        .ok_or(StfError::AmountOverflow)?;
        let available = account.balance(token).saturating_sub(pending.debits.get(&token.get()).copied().unwrap_or(0));
        if available < needed {
            return Err(MempoolError::InsufficientBalance { from, token: token.get(), available, needed });
        }
        if let Tx::Transfer(t) = &tx.tx {
            if ledger.index_of(&t.to) == Some(from) {
                return Err(StfError::SelfTransfer(from).into());
            }
        }
        Ok(self.next_seq)
    }

    /// Adds a checked (and persisted) transaction under sequence number `seq`.
    pub fn insert(&mut self, seq: u64, hash: TxHash, tx: SignedTx) {
        let sender = self.pending.entry(tx.tx.from()).or_default();
        sender.count += 1;
        *sender.debits.entry(tx.tx.token().get()).or_insert(0) += debit_of(&tx.tx);
        self.by_seq.insert(seq, (hash, tx));
        self.by_hash.insert(hash, seq);
        self.next_seq = self.next_seq.max(seq + 1);
    }

    /// Makes every arrival number below `next` taken, so that new transactions are numbered
    /// after those a restart found logged, including the ones that since left the pool.
    pub fn number_from(&mut self, next: u64) {
        self.next_seq = self.next_seq.max(next);
    }

    /// Up to `limit` transactions in arrival order, with their sequence numbers and hashes.
    pub fn take_candidates(&self, limit: usize) -> Vec<(u64, TxHash, SignedTx)> {
        self.by_seq.iter().take(limit).map(|(s, (h, t))| (*s, *h, *t)).collect()
    }

    /// Removes the transaction with sequence number `seq`.
    pub fn remove(&mut self, seq: u64) {
        if let Some((hash, tx)) = self.by_seq.remove(&seq) {
            self.by_hash.remove(&hash);
            let from = tx.tx.from();
            if let Some(sender) = self.pending.get_mut(&from) {
                sender.count -= 1;
                if let Some(d) = sender.debits.get_mut(&tx.tx.token().get()) {
                    *d = d.saturating_sub(debit_of(&tx.tx));
                }
                if sender.count == 0 {
                    self.pending.remove(&from);
                }
            }
        }
    }

    /// Sequence numbers of the pending transactions whose hashes are in `hashes` (a block
    /// another member proposed may carry transactions we also hold).
    pub fn seqs_of_hashes(&self, hashes: &std::collections::HashSet<TxHash>) -> Vec<u64> {
        hashes.iter().filter_map(|h| self.by_hash.get(h).copied()).collect()
    }

    /// Whether a transaction with this hash is pending.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Sequence numbers of pending transactions of `from`, in order.
    pub fn seqs_of(&self, from: AccountIndex) -> Vec<u64> {
        self.by_seq.iter().filter(|(_, (_, t))| t.tx.from() == from).map(|(s, _)| *s).collect()
    }
}
