//! Accounts and their leaf commitment.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use tandem_crypto::{poseidon_many, Fr, PublicKey};
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
        self.balances.iter().map(|(t, b)| (TokenId::new(*t as u32).expect("stored token ids are valid"), *b))
    }

    /// Root of the balance tree (depth [`TOKEN_BITS`], leaf = balance).
    pub fn balance_root(&self) -> Fr {
        balance_roots(std::slice::from_ref(&self))[0]
    }

    /// The account's leaf in the state tree: `H(A.x, A.y, nonce, balance_root)`.
    pub fn leaf_hash(&self) -> Fr {
        leaf_hashes(std::slice::from_ref(&self))[0]
    }
}

/// [`Account::leaf_hash`] of each account, in order. Why together: the hashes of many
/// accounts are independent, so they go through [`poseidon_many`] a level at a time.
pub fn leaf_hashes(accounts: &[&Account]) -> Vec<Fr> {
    let roots = balance_roots(accounts);
    let inputs: Vec<[Fr; 4]> =
        accounts.iter().zip(roots).map(|(a, root)| [a.pubkey.x(), a.pubkey.y(), Fr::from(a.nonce as u64), root]).collect();
    poseidon_many(&inputs)
}

/// [`Account::balance_root`] of each account, in order: the sparse balance trees hashed
/// level by level across all accounts, each non-empty node once (an empty subtree is its
/// precomputed hash).
fn balance_roots(accounts: &[&Account]) -> Vec<Fr> {
    let zeros = balance_zeros();
    // Per account, the non-empty nodes of the current level, by position, ascending.
    let mut levels: Vec<Vec<(u32, Fr)>> =
        accounts.iter().map(|a| a.balances.iter().map(|(t, b)| (*t as u32, Fr::from(*b))).collect()).collect();
    for zero in &zeros[..TOKEN_BITS as usize] {
        let mut inputs: Vec<[Fr; 2]> = Vec::new();
        let mut parents: Vec<Vec<u32>> = Vec::with_capacity(levels.len());
        for nodes in &levels {
            let mut positions = Vec::with_capacity(nodes.len());
            let mut k = 0;
            while k < nodes.len() {
                let parent = nodes[k].0 >> 1;
                let mut children = [*zero, *zero];
                while k < nodes.len() && nodes[k].0 >> 1 == parent {
                    children[(nodes[k].0 & 1) as usize] = nodes[k].1;
                    k += 1;
                }
                inputs.push(children);
                positions.push(parent);
            }
            parents.push(positions);
        }
        let mut hashed = poseidon_many(&inputs).into_iter();
        for (nodes, positions) in levels.iter_mut().zip(parents) {
            *nodes = positions.into_iter().zip(hashed.by_ref()).collect();
        }
    }
    levels.into_iter().map(|root| root.first().map_or(zeros[TOKEN_BITS as usize], |(_, value)| *value)).collect()
}

fn balance_zeros() -> &'static [Fr] {
    static ZEROS: OnceLock<Vec<Fr>> = OnceLock::new();
    ZEROS.get_or_init(|| empty_subtree_hashes(TOKEN_BITS as u8))
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

    /// The leaf as SPEC §3 defines it, one scalar hash at a time over the full balance tree.
    fn leaf_by_definition(account: &Account) -> Fr {
        let mut level: Vec<Fr> = (0..1u32 << TOKEN_BITS).map(|t| Fr::from(account.balance(TokenId::new(t).unwrap()))).collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|c| tandem_crypto::hash2(c[0], c[1])).collect();
        }
        tandem_crypto::poseidon(&[account.pubkey.x(), account.pubkey.y(), Fr::from(account.nonce as u64), level[0]])
    }

    #[test]
    fn leaf_hashes_together_equal_each_by_definition() {
        let patterns: [&[(u32, u128)]; 7] = [
            &[],
            &[(0, 1)],
            &[(31, u128::MAX)],
            &[(0, 5), (1, 6)],
            &[(2, 7), (29, 8), (30, 9)],
            &[(0, 3), (16, 4)],
            &[(5, 1), (6, 2), (7, 3), (8, 4), (9, 5), (10, 6), (11, 7), (12, 8)],
        ];
        let accounts: Vec<Account> = (0..23u8)
            .map(|k| {
                let mut a = Account::new(PrivateKey::from_seed([k + 1; 32]).public_key());
                a.nonce = k as u32 * 1_000;
                for &(t, b) in patterns[k as usize % patterns.len()] {
                    a.set_balance(TokenId::new(t).unwrap(), b);
                }
                a
            })
            .collect();
        let refs: Vec<&Account> = accounts.iter().collect();
        let together = leaf_hashes(&refs);
        assert_eq!(together.len(), accounts.len());
        for (account, hash) in accounts.iter().zip(&together) {
            assert_eq!(*hash, leaf_by_definition(account));
            assert_eq!(*hash, account.leaf_hash());
        }
        assert!(leaf_hashes(&[]).is_empty());
    }
}
