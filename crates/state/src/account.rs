//! Accounts and their leaf commitment.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use tandem_crypto::{hash2, poseidon, Fr, PublicKey};
use tandem_types::{Balance, Nonce, TokenId, TOKEN_BITS};

use crate::tree::empty_subtree_hashes;

/// An account: owner key, nonce, and per-token balances.
///
/// Invariant: `balances` holds no zero entries, so two accounts with the same contents
/// compare equal and commit to the same leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Owner key; never changes after creation.
    pub pubkey: PublicKey,
    /// Number of transactions the owner has signed and the chain has applied.
    pub nonce: Nonce,
    balances: BTreeMap<u8, Balance>,
}

impl Account {
    /// A new account with zero nonce and no balances.
    pub fn new(pubkey: PublicKey) -> Self {
        Self { pubkey, nonce: 0, balances: BTreeMap::new() }
    }

    /// Balance of `token` (zero if none).
    pub fn balance(&self, token: TokenId) -> Balance {
        self.balances.get(&token.get()).copied().unwrap_or(0)
    }

    /// Sets the balance of `token`, keeping the no-zero-entries invariant.
    pub fn set_balance(&mut self, token: TokenId, value: Balance) {
        if value == 0 {
            self.balances.remove(&token.get());
        } else {
            self.balances.insert(token.get(), value);
        }
    }

    /// Non-zero balances, by token id.
    pub fn balances(&self) -> impl Iterator<Item = (TokenId, Balance)> + '_ {
        self.balances
            .iter()
            .map(|(t, b)| (TokenId::new(*t as u32).expect("stored token ids are valid"), *b))
    }

    /// Root of the balance tree (depth [`TOKEN_BITS`], leaf = balance).
    pub fn balance_root(&self) -> Fr {
        let entries: Vec<(u32, Fr)> =
            self.balances.iter().map(|(t, b)| (*t as u32, Fr::from(*b))).collect();
        sparse_root(&entries, TOKEN_BITS as u8, 0)
    }

    /// The account's leaf in the state tree: `H(A.x, A.y, nonce, balance_root)`.
    pub fn leaf_hash(&self) -> Fr {
        poseidon(&[self.pubkey.x(), self.pubkey.y(), Fr::from(self.nonce as u64), self.balance_root()])
    }
}

fn balance_zeros() -> &'static [Fr] {
    static ZEROS: OnceLock<Vec<Fr>> = OnceLock::new();
    ZEROS.get_or_init(|| empty_subtree_hashes(TOKEN_BITS as u8))
}

/// Root of the subtree of height `height` whose leftmost leaf is `first`, holding the
/// sorted, non-zero `entries` (all inside the subtree). Hashes only non-empty nodes.
fn sparse_root(entries: &[(u32, Fr)], height: u8, first: u32) -> Fr {
    if entries.is_empty() {
        return balance_zeros()[height as usize];
    }
    if height == 0 {
        return entries[0].1;
    }
    let mid = first + (1 << (height - 1));
    let split = entries.partition_point(|(i, _)| *i < mid);
    hash2(
        sparse_root(&entries[..split], height - 1, first),
        sparse_root(&entries[split..], height - 1, mid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::SparseMerkleTree;
    use tandem_crypto::PrivateKey;

    #[test]
    fn sparse_balance_root_equals_a_full_tree() {
        let mut account = Account::new(PrivateKey::from_seed([1; 32]).public_key());
        let mut tree = SparseMerkleTree::new(TOKEN_BITS as u8);
        for (t, b) in [(0u32, 5u128), (3, 9), (31, 1 << 100)] {
            account.set_balance(TokenId::new(t).unwrap(), b);
            tree.update(&[(t, Fr::from(b))]);
        }
        assert_eq!(account.balance_root(), tree.root());
    }
}
