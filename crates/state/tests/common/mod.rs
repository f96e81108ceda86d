//! Shared helpers of the state tests: deterministic keys and signed transactions.

#![allow(dead_code, clippy::too_many_arguments)]

use tandem_crypto::PrivateKey;
use tandem_state::signing::sign_tx;
use tandem_state::{Ledger, LedgerConfig, LedgerOp};
use tandem_types::*;

pub const CHAIN_ID: ChainId = 7;

pub fn config(depth: u8) -> LedgerConfig {
    LedgerConfig { chain_id: CHAIN_ID, tree_depth: depth, chunk_size: None }
}

pub fn key(i: u8) -> PrivateKey {
    PrivateKey::from_seed([i.wrapping_add(1); 32])
}

/// No chunks (one fee settlement per batch) or chunks of 1 to 4 ops.
pub fn chunk_size() -> impl proptest::strategy::Strategy<Value = Option<std::num::NonZeroUsize>> {
    use proptest::prelude::*;
    prop_oneof![Just(None), (1usize..=4).prop_map(std::num::NonZeroUsize::new)]
}

pub fn idx(i: u32) -> AccountIndex {
    AccountIndex::new(i).unwrap()
}

pub fn token(t: u32) -> TokenId {
    TokenId::new(t).unwrap()
}

pub fn deposit(k: &PrivateKey, t: u32, amount: Balance) -> LedgerOp {
    LedgerOp::Deposit(L1Deposit { to: k.public_key().pack(), token: token(t), amount })
}

pub fn transfer_tx(
    chain_id: ChainId,
    from_key: &PrivateKey,
    from: AccountIndex,
    to: &PrivateKey,
    t: u32,
    amount: Balance,
    fee: Balance,
    nonce: Nonce,
) -> SignedTx {
    let tx = Tx::Transfer(TransferTx {
        from,
        to: to.public_key().pack(),
        token: token(t),
        amount: PackedAmount::new(amount).unwrap(),
        fee: PackedFee::new(fee).unwrap(),
        nonce,
    });
    sign_tx(from_key, chain_id, tx).unwrap()
}

pub fn withdraw_tx(
    chain_id: ChainId,
    from_key: &PrivateKey,
    from: AccountIndex,
    t: u32,
    amount: Balance,
    fee: Balance,
    nonce: Nonce,
) -> SignedTx {
    let tx =
        Tx::Withdraw(WithdrawTx { from, to_l1: L1Address([0xab; 20]), token: token(t), amount, fee: PackedFee::new(fee).unwrap(), nonce });
    sign_tx(from_key, chain_id, tx).unwrap()
}

/// A ledger where key 0 owns account 0 (the fee account) with some ETH.
pub fn genesis(depth: u8) -> Ledger {
    genesis_chunked(depth, None)
}

/// [`genesis`] on a chain that settles fees every `chunk_size` ops.
pub fn genesis_chunked(depth: u8, chunk_size: Option<std::num::NonZeroUsize>) -> Ledger {
    let mut ledger = Ledger::new(LedgerConfig { chunk_size, ..config(depth) }).unwrap();
    ledger.apply(deposit(&key(0), 0, 1_000), idx(0)).unwrap();
    ledger
}

/// A random user action, turned into a signed op against a state by [`to_op`].
#[derive(Debug, Clone)]
pub enum Action {
    Deposit { key: u8, token: u32, amount: u128 },
    Transfer { from: u8, to: u8, token: u32, amount: u64, fee: u8 },
    Withdraw { from: u8, token: u32, amount: u64, fee: u8 },
}

/// Turns an action into a signed op for the current state, or `None` if the signer has no
/// account yet (such an op cannot even be addressed).
pub fn to_op(ledger: &Ledger, action: &Action, chain_id: ChainId) -> Option<LedgerOp> {
    let index_of = |k: u8| ledger.index_of(&key(k).public_key().pack());
    Some(match *action {
        Action::Deposit { key: k, token: t, amount } => deposit(&key(k), t, amount),
        Action::Transfer { from, to, token: t, amount, fee } => {
            let index = index_of(from)?;
            let nonce = ledger.account(index)?.nonce;
            LedgerOp::Tx(transfer_tx(chain_id, &key(from), index, &key(to), t, amount as u128, fee as u128, nonce))
        }
        Action::Withdraw { from, token: t, amount, fee } => {
            let index = index_of(from)?;
            let nonce = ledger.account(index)?.nonce;
            LedgerOp::Tx(withdraw_tx(chain_id, &key(from), index, t, amount as u128, fee as u128, nonce))
        }
    })
}
