//! Shared helpers: deterministic keys, signed ops, and random valid batches.

#![allow(dead_code)]

use tandem_crypto::PrivateKey;
use tandem_state::signing::{sign_forced_withdrawal, sign_tx};
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::*;

pub const CHAIN_ID: ChainId = 7;
pub const PROVER: L1Address = L1Address([0x42; 20]);

pub fn key(i: u8) -> PrivateKey {
    PrivateKey::from_seed([i.wrapping_add(1); 32])
}

pub fn idx(i: u32) -> AccountIndex {
    AccountIndex::new(i).unwrap()
}

pub fn token(t: u32) -> TokenId {
    TokenId::new(t).unwrap()
}

pub fn deposit(k: u8, t: u32, amount: Balance) -> LedgerOp {
    LedgerOp::Deposit(L1Deposit { to: key(k).public_key().pack(), token: token(t), amount })
}

pub fn transfer(from_key: u8, from: AccountIndex, to_key: u8, t: u32, amount: Balance, fee: Balance, nonce: Nonce) -> LedgerOp {
    let tx = Tx::Transfer(TransferTx {
        from,
        to: key(to_key).public_key().pack(),
        token: token(t),
        amount: PackedAmount::new(amount).unwrap(),
        fee: PackedFee::new(fee).unwrap(),
        nonce,
    });
    LedgerOp::Tx(sign_tx(&key(from_key), CHAIN_ID, tx).unwrap())
}

pub fn withdraw(from_key: u8, from: AccountIndex, t: u32, amount: Balance, fee: Balance, nonce: Nonce) -> LedgerOp {
    let tx =
        Tx::Withdraw(WithdrawTx { from, to_l1: L1Address([0xab; 20]), token: token(t), amount, fee: PackedFee::new(fee).unwrap(), nonce });
    LedgerOp::Tx(sign_tx(&key(from_key), CHAIN_ID, tx).unwrap())
}

/// A forced-withdrawal request for `account` signed by key `signer` (0 = the whole balance).
pub fn forced(signer: u8, account: u32, t: u32, amount: Balance) -> LedgerOp {
    LedgerOp::ForcedWithdrawal(sign_forced_withdrawal(&key(signer), CHAIN_ID, idx(account), token(t), L1Address([0xcd; 20]), amount, 9))
}

/// Key 0 owns account 0 (the fee account); keys 1 and 2 own accounts 1 and 2, with ETH and
/// token 1.
pub fn genesis(depth: u8) -> Ledger {
    genesis_chunked(depth, None)
}

/// [`genesis`] on a chain that settles fees every `chunk_size` ops.
pub fn genesis_chunked(depth: u8, chunk_size: Option<std::num::NonZeroUsize>) -> Ledger {
    let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN_ID, tree_depth: depth, chunk_size }).unwrap();
    ledger.apply(deposit(0, 0, 1_000), idx(0)).unwrap();
    ledger.apply(deposit(1, 0, 50_000), idx(0)).unwrap();
    ledger.apply(deposit(2, 1, 70_000), idx(0)).unwrap();
    ledger.apply(deposit(2, 0, 30_000), idx(0)).unwrap();
    ledger
}

/// A valid op for `action` given the state after `ops` (applied to `ledger` as a batch), if
/// the signer has an account.
#[derive(Debug, Clone)]
pub enum Action {
    Deposit {
        key: u8,
        token: u32,
        amount: u128,
    },
    Transfer {
        from: u8,
        to: u8,
        token: u32,
        amount: u64,
        fee: u8,
    },
    Withdraw {
        from: u8,
        token: u32,
        amount: u64,
        fee: u8,
    },
    /// A forced withdrawal of `account` signed by key `signer`: executed when that key owns
    /// the account and the balance covers it, a no-op otherwise.
    Forced {
        signer: u8,
        account: u32,
        token: u32,
        amount: u64,
    },
}

/// Builds the batch greedily: each action becomes an op if the STF accepts the batch with
/// it (so every batch returned is valid), otherwise it is skipped.
pub fn valid_batch(ledger: &Ledger, actions: &[Action], max_ops: usize, fee_account: AccountIndex) -> Vec<LedgerOp> {
    let mut ops: Vec<LedgerOp> = Vec::new();
    for action in actions {
        if ops.len() == max_ops {
            break;
        }
        let mut state = ledger.clone();
        if !ops.is_empty() {
            state.apply_batch(&ops, fee_account).unwrap();
        }
        let index_of = |k: u8| state.index_of(&key(k).public_key().pack());
        let op = match *action {
            Action::Deposit { key: k, token: t, amount } => Some(deposit(k, t, amount)),
            Action::Transfer { from, to, token: t, amount, fee } => {
                index_of(from).map(|i| transfer(from, i, to, t, amount as u128, fee as u128, state.account(i).unwrap().nonce))
            }
            Action::Withdraw { from, token: t, amount, fee } => {
                index_of(from).map(|i| withdraw(from, i, t, amount as u128, fee as u128, state.account(i).unwrap().nonce))
            }
            Action::Forced { signer, account, token: t, amount } => {
                (account < (1 << state.config().tree_depth)).then(|| forced(signer, account, t, amount as u128))
            }
        };
        if let Some(op) = op {
            let mut candidate = ops.clone();
            candidate.push(op);
            if ledger.clone().apply_batch(&candidate, fee_account).is_ok() {
                ops = candidate;
            }
        }
    }
    ops
}

/// A random [`Action`] over keys 0-4, tokens 0-2 and small amounts and fees.
pub fn action() -> impl proptest::strategy::Strategy<Value = Action> {
    use proptest::prelude::*;
    prop_oneof![
        (0u8..5, 0u32..3, 1u128..100_000).prop_map(|(key, token, amount)| Action::Deposit { key, token, amount }),
        (0u8..5, 0u8..6, 0u32..3, 0u64..60_000, 0u8..8).prop_map(|(from, to, token, amount, fee)| Action::Transfer {
            from,
            to,
            token,
            amount,
            fee
        }),
        (0u8..5, 0u32..3, 0u64..60_000, 0u8..8).prop_map(|(from, token, amount, fee)| Action::Withdraw { from, token, amount, fee }),
        // Forced withdrawals, often signed by a key that does not own the account (no-ops).
        (0u8..5, 0u32..5, 0u32..3, prop_oneof![Just(0u64), 0u64..80_000]).prop_map(|(signer, account, token, amount)| Action::Forced {
            signer,
            account,
            token,
            amount
        }),
    ]
}
