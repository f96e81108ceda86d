//! Transaction forwarding: transactions accepted here go to the other members.

use alloy::primitives::Bytes;
use tandem_api::MemberApiClient;
use tandem_chain::TxHash;
use tracing::warn;

use super::{lock, Member};

/// Most transactions per forwarding call.
pub(super) const FORWARD_CHUNK: usize = 400;

impl Member {
    /// Forwards transactions accepted here to the other members, in chunks.
    pub(super) async fn forward(&self) {
        let queued: Vec<Bytes> = std::mem::take(&mut *lock(&self.forward_queue));
        if queued.is_empty() {
            return;
        }
        for (_, url) in self.peer_urls() {
            let Some(client) = self.client(&url) else { continue };
            for chunk in queued.chunks(FORWARD_CHUNK) {
                // `Bytes` clones share the buffer: one copy of each transaction for all peers.
                let result = client.forward_transactions(chunk.to_vec()).await;
                if let Err(e) = result {
                    warn!(peer = %url, error = %e, "forwarding transactions failed");
                    break;
                }
            }
        }
    }

    /// Admits a batch of clients' transactions ([`crate::node::Node::submit_batch`]) and
    /// queues those accepted for the other members, in admission order (so a peer gets an
    /// account's nonces in order).
    pub(super) fn admit(&self, inputs: &[&[u8]]) -> Vec<Result<TxHash, crate::node::SubmitError>> {
        let results = self.node.submit_batch(inputs, crate::node::Admission::Durable);
        let mut queue = lock(&self.forward_queue);
        queue.extend(inputs.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(bytes, _)| Bytes::copy_from_slice(bytes)));
        results
    }
}
