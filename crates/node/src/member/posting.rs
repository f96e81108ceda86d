//! Batch posting in sequencer-set mode: poster duty and rotation, signature collection,
//! and the signed commit.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tandem_api::MemberApiClient;
use tandem_chain::{batch_digest, recover_signer, sign_digest};
use tandem_l1::{Address, B256, U256};
use tracing::{info, warn};

use super::{lock, Member};
use crate::node::{Node, NodeError};
use crate::posting::Posting;
use crate::records::BatchRecord;

impl Member {
    /// This member's signature over batch `number`'s digest, if it has the block.
    pub fn batch_signature(&self, number: u64) -> Result<Option<[u8; 65]>, NodeError> {
        let Some(header_hash) = self.node.batch_summary(number)?.and_then(|b| b.header_hash) else { return Ok(None) };
        let revert_count = lock(&self.view).revert_count;
        let digest = batch_digest(self.node.l1_chain_id, self.node.config.rollup, revert_count, number, header_hash);
        Ok(Some(sign_digest(&self.config.signing_key, digest)))
    }

    /// The member due to post batch `number` now: its block's proposer first, then each next
    /// member of the epoch's set (canonical order) once per `post_timeout` since the block
    /// was committed here.
    pub(super) fn poster_due(&self, batch: &BatchRecord) -> Option<Address> {
        let since = *lock(&self.committed_at).entry(batch.number).or_insert_with(Instant::now);
        self.on_duty(batch, since)
    }

    /// The member on duty for `batch`, a duty that began at `since`: its block's proposer,
    /// then each next member of the block's epoch set (canonical order) once per
    /// `post_timeout`. `None` for a batch without consensus information or of an epoch whose
    /// set this member does not hold.
    fn on_duty(&self, batch: &BatchRecord, since: Instant) -> Option<Address> {
        let info = batch.consensus.as_ref()?;
        let set = lock(&self.view).sets.get(&info.epoch).cloned()?;
        let order = Self::consensus_set(&set).ok()?;
        let members: Vec<Address> = order.validators().iter().map(|v| v.address.0).collect();
        rotation(&members, info.proposer, since.elapsed(), self.config.post_timeout)
    }
}

/// Who holds a rotating duty `elapsed` after it fell to `first`: `first` (or `members[0]` if
/// `first` is not among them), then each next of `members` once per `timeout`, cyclically.
/// `None` only when `members` is empty.
fn rotation(members: &[Address], first: Address, elapsed: Duration, timeout: Duration) -> Option<Address> {
    if members.is_empty() {
        return None;
    }
    let start = members.iter().position(|m| *m == first).unwrap_or(0);
    let turns = (elapsed.as_millis() / timeout.as_millis().max(1)) as usize;
    members.get((start + turns) % members.len()).copied()
}

impl Posting for Member {
    /// Commits batch `number` when it is this member's turn: collects the members'
    /// signatures, keeps those of the current L1 epoch's set, and commits once they hold more
    /// than 2/3 of its stake.
    async fn commit(&self, node: &Node, batch: &BatchRecord) -> Result<Option<B256>, NodeError> {
        let number = batch.number;
        // Batches before `number` are on L1: their rotation timers are done.
        lock(&self.committed_at).retain(|n, _| *n >= number);
        if !self.config.posts_batches || self.poster_due(batch) != Some(self.address()) {
            return Ok(None);
        }
        let block = node.block(number)?.ok_or(NodeError::MissingBlock(number))?;
        let header = block.batch_header();
        let revert_count = node.l1.revert_count().await?;
        let digest = batch_digest(node.l1_chain_id, node.config.rollup, revert_count, number, header.hash());
        let epoch = self.staking.current_epoch().await?;
        let set = self.staking.active_set(epoch).await?;
        let stake_of: HashMap<Address, U256> = set.members.iter().map(|m| (m.signing_key, m.stake)).collect();
        let mut signatures: BTreeMap<Address, [u8; 65]> = BTreeMap::new();
        signatures.insert(self.address(), sign_digest(&self.config.signing_key, digest));
        for (key, url) in self.peer_urls() {
            if !stake_of.contains_key(&key) {
                continue;
            }
            let Some(client) = self.client(&url) else { continue };
            let Ok(Some(signature)) = client.batch_signature(number).await else { continue };
            let sig: [u8; 65] = signature.0;
            match recover_signer(digest, &sig) {
                Ok(signer) if signer == key => {
                    signatures.insert(key, sig);
                }
                _ => warn!(batch = number, peer = %key, "peer's batch signature does not verify; ignored"),
            }
        }
        let signed: U256 = signatures.keys().filter_map(|k| stake_of.get(k)).fold(U256::ZERO, |a, b| a + *b);
        if signed * U256::from(3) <= set.total_stake * U256::from(2) {
            warn!(batch = number, signed = %signed, total = %set.total_stake, "not enough signatures yet to post");
            return Ok(None);
        }
        let sigs: Vec<[u8; 65]> = signatures.into_iter().filter(|(k, _)| stake_of.contains_key(k)).map(|(_, s)| s).collect();
        let count = sigs.len();
        let tx = node.l1.commit_batch_signed(&header, &block.public_data, revert_count, sigs).await?;
        info!(batch = number, l1_tx = %tx, signers = count, epoch, poster = %self.address(), "batch committed on L1");
        Ok(Some(tx))
    }

    /// Finalizes batch `number` when it is this member's turn: the block's proposer as soon
    /// as L1 allows it, then each next member of the set once per `post_timeout` since this
    /// member first found it finalizable (so a member that is down delays it by that much).
    /// A block whose set this member does not hold is finalized at once, as before rotation.
    fn finalizes(&self, batch: &BatchRecord) -> bool {
        let since = {
            let mut finalizable = lock(&self.finalizable_at);
            // Batches before this one are final: their rotation timers are done.
            finalizable.retain(|n, _| *n >= batch.number);
            *finalizable.entry(batch.number).or_insert_with(Instant::now)
        };
        self.on_duty(batch, since).is_none_or(|due| due == self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duty_starts_with_the_first_member_and_passes_on_once_per_timeout() {
        let members: Vec<Address> = (1..=4u8).map(Address::repeat_byte).collect();
        let timeout = Duration::from_secs(5);
        let at = |first: Address, secs: u64| rotation(&members, first, Duration::from_secs(secs), timeout);
        assert_eq!(at(members[2], 0), Some(members[2]));
        assert_eq!(at(members[2], 4), Some(members[2]));
        assert_eq!(at(members[2], 5), Some(members[3]));
        assert_eq!(at(members[2], 10), Some(members[0]), "wraps around the set");
        assert_eq!(at(members[2], 20), Some(members[2]), "a whole round later it is back");
        assert_eq!(at(Address::repeat_byte(9), 0), Some(members[0]), "an unknown first member starts the order");
        assert_eq!(rotation(&[], members[0], Duration::ZERO, timeout), None);
    }
}
