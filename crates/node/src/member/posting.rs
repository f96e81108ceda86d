//! Batch posting in sequencer-set mode: poster duty and rotation, signature collection,
//! and the signed commit.

use std::collections::{BTreeMap, HashMap};

use tandem_api::MemberApiClient;
use tandem_chain::{batch_digest, recover_signer, sign_digest, BlockRecord};
use tandem_l1::{Address, B256, U256};
use tracing::{info, warn};

use super::{lock, Member};
use crate::node::{Node, NodeError};
use crate::posting::Posting;

impl Member {
    /// This member's signature over batch `number`'s digest, if it has the block.
    pub fn batch_signature(&self, number: u64) -> Result<Option<[u8; 65]>, NodeError> {
        let Some((header, _)) = self.node.batch_header(number)? else { return Ok(None) };
        let revert_count = lock(&self.view).revert_count;
        let digest = batch_digest(self.node.l1_chain_id, self.node.config.rollup, revert_count, number, header.hash());
        Ok(Some(sign_digest(&self.config.signing_key, digest)))
    }

    /// The member due to post batch `number` now: its block's proposer first, then each next
    /// member of the epoch's set (canonical order) once per `post_timeout` since the block
    /// was committed here.
    pub(super) fn poster_due(&self, number: u64, block: &BlockRecord) -> Option<Address> {
        let info = block.consensus.as_ref()?;
        let set = lock(&self.view).sets.get(&info.epoch).cloned()?;
        let order = Self::consensus_set(&set).ok()?;
        let members: Vec<Address> = order.validators().iter().map(|v| v.address.0).collect();
        let start = members.iter().position(|m| *m == info.proposer).unwrap_or(0);
        let since = *lock(&self.committed_at).entry(number).or_insert_with(std::time::Instant::now);
        let turns = (since.elapsed().as_millis() / self.config.post_timeout.as_millis().max(1)) as usize;
        members.get((start + turns) % members.len()).copied()
    }
}

impl Posting for Member {
    /// Commits batch `number` when it is this member's turn: collects the members'
    /// signatures, keeps those of the current L1 epoch's set, and commits once they hold more
    /// than 2/3 of its stake.
    async fn commit(&self, node: &Node, number: u64, block: &BlockRecord) -> Result<Option<B256>, NodeError> {
        // Batches before `number` are on L1: their rotation timers are done.
        lock(&self.committed_at).retain(|n, _| *n >= number);
        if !self.config.posts_batches || self.poster_due(number, block) != Some(self.address()) {
            return Ok(None);
        }
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
}
