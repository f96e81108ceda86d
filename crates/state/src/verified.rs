//! A bounded memory of signatures that have already verified, so that a node checks each
//! transaction's signature once: when its mempool admits it, or, if it never passed through
//! this node's mempool, when its decided block is applied.
//!
//! Soundness: an entry is the exact input of a verification (the signed transaction, which
//! fixes the message and the signature, and the signer's packed key) for one chain id, so a
//! hit answers the same question a fresh verification would. Keys are immutable once an
//! account exists, so the signer of a transaction never changes under an entry.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use tandem_crypto::PublicKey;
use tandem_types::{ChainId, PackedPubKey, SignedTx};

use crate::error::StfError;
use crate::signing::{verify_txs, TxSignature};

/// Signatures known to verify for one chain id, at most `capacity` of them (the oldest are
/// forgotten first; forgetting only costs a repeated verification).
pub struct VerifiedSignatures {
    chain_id: ChainId,
    capacity: usize,
    inner: Mutex<Entries>,
}

impl std::fmt::Debug for VerifiedSignatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSignatures")
            .field("chain_id", &self.chain_id)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[derive(Default)]
struct Entries {
    known: HashSet<(SignedTx, PackedPubKey)>,
    order: VecDeque<(SignedTx, PackedPubKey)>,
}

impl VerifiedSignatures {
    /// Entries a node keeps by default: a few full blocks' worth.
    pub const DEFAULT_CAPACITY: usize = 1 << 17;

    /// An empty memory for `chain_id` holding at most `capacity` entries.
    pub fn new(chain_id: ChainId, capacity: usize) -> Self {
        Self { chain_id, capacity, inner: Mutex::new(Entries::default()) }
    }

    /// The chain id every entry was verified for.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// Checks `signed`'s signature against `signer`: from memory when this exact pair
    /// verified before, else by verifying it (and remembering it when it verifies). A
    /// refusal is never remembered, so it is always the fresh verification's error.
    pub fn verify(&self, signed: &SignedTx, signer: &PublicKey) -> Result<(), StfError> {
        self.verify_many(&[TxSignature::new(signed, signer)]).into_iter().next().expect("one verdict per item")
    }

    /// [`VerifiedSignatures::verify`] of each item, in order; the items not remembered are
    /// verified together ([`verify_txs`]).
    pub fn verify_many(&self, items: &[TxSignature<'_>]) -> Vec<Result<(), StfError>> {
        let keys: Vec<(SignedTx, PackedPubKey)> = items.iter().map(|item| (*item.signed, item.signer.pack())).collect();
        let known: Vec<bool> = {
            let entries = self.lock();
            keys.iter().map(|key| entries.known.contains(key)).collect()
        };
        let fresh: Vec<TxSignature<'_>> = items.iter().zip(&known).filter(|(_, known)| !**known).map(|(item, _)| *item).collect();
        let mut verdicts = verify_txs(self.chain_id, &fresh).into_iter();
        keys.into_iter()
            .zip(known)
            .map(|(key, known)| {
                if known {
                    return Ok(());
                }
                let verdict = verdicts.next().expect("one verdict per fresh item");
                if verdict.is_ok() {
                    self.remember(key);
                }
                verdict
            })
            .collect()
    }

    /// Whether `signed` is remembered as verified against `signer`.
    pub fn contains(&self, signed: &SignedTx, signer: &PublicKey) -> bool {
        self.lock().known.contains(&(*signed, signer.pack()))
    }

    /// Number of remembered entries (at most the capacity).
    pub fn len(&self) -> usize {
        self.lock().known.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn remember(&self, key: (SignedTx, PackedPubKey)) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.known.insert(key) {
            entries.order.push_back(key);
            while entries.order.len() > self.capacity {
                if let Some(old) = entries.order.pop_front() {
                    entries.known.remove(&old);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the set half-updated in a way that
        // makes an entry unsound (insert before push), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::sign_tx;
    use tandem_crypto::PrivateKey;
    use tandem_types::{AccountIndex, PackedAmount, PackedFee, TokenId, TransferTx, Tx};

    fn signed_transfer(key: &PrivateKey, chain_id: ChainId, nonce: u32) -> SignedTx {
        let to = PrivateKey::from_seed([2; 32]).public_key().pack();
        let tx = Tx::Transfer(TransferTx {
            from: AccountIndex::new(1).unwrap(),
            to,
            token: TokenId::new(0).unwrap(),
            amount: PackedAmount::new(5).unwrap(),
            fee: PackedFee::new(1).unwrap(),
            nonce,
        });
        sign_tx(key, chain_id, tx).unwrap()
    }

    #[test]
    fn remembers_a_good_signature_and_never_a_bad_one() {
        let key = PrivateKey::from_seed([1; 32]);
        let cache = VerifiedSignatures::new(7, 8);
        let good = signed_transfer(&key, 7, 0);
        assert!(!cache.contains(&good, &key.public_key()));
        cache.verify(&good, &key.public_key()).unwrap();
        assert!(cache.contains(&good, &key.public_key()));
        // Another chain's signature is refused, and the refusal is not remembered.
        let other_chain = signed_transfer(&key, 8, 0);
        assert!(matches!(cache.verify(&other_chain, &key.public_key()), Err(StfError::BadSignature { .. })));
        assert!(!cache.contains(&other_chain, &key.public_key()));
        // The same transaction against another signer is a different question.
        let stranger = PrivateKey::from_seed([3; 32]).public_key();
        assert!(cache.verify(&good, &stranger).is_err());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let key = PrivateKey::from_seed([1; 32]);
        let cache = VerifiedSignatures::new(7, 2);
        let txs: Vec<SignedTx> = (0..3).map(|n| signed_transfer(&key, 7, n)).collect();
        for tx in &txs {
            cache.verify(tx, &key.public_key()).unwrap();
        }
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&txs[0], &key.public_key()));
        assert!(cache.contains(&txs[2], &key.public_key()));
    }
}
