//! Transaction forwarding: transactions accepted here go to the other members, each peer fed
//! by its own task, so that a slow or unreachable peer delays no other.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use alloy::primitives::Bytes;
use jsonrpsee::http_client::HttpClient;
use tandem_api::MemberApiClient;
use tandem_chain::TxHash;
use tokio::sync::mpsc::{self, error::TrySendError};
use tracing::{info, warn};

use super::{lock, Member};

/// Most transactions per forwarding call.
pub(super) const FORWARD_CHUNK: usize = 400;
/// Forwarding rounds a peer's task may have waiting. A peer this far behind (stalled, or
/// unreachable until each call times out) skips the rounds after that: forwarding is best
/// effort, and the transactions still reach the set in this member's own proposals.
const PEER_BACKLOG_ROUNDS: usize = 64;

/// A round of transactions to forward, shared by all peers' tasks (one copy of each).
type Round = Arc<[Bytes]>;

/// One forwarding task per peer RPC URL.
#[derive(Default)]
pub(super) struct Forwarders {
    peers: HashMap<String, PeerTask>,
}

/// A peer's forwarding task, and how many rounds in a row it was too far behind to take.
struct PeerTask {
    rounds: mpsc::Sender<Round>,
    skipped: u64,
}

impl Forwarders {
    /// Hands `round` to the task of every peer in `peers` (RPC URL and client), in order after
    /// the rounds before it (so a peer gets an account's nonces in order); starts a task for a
    /// peer not seen before and ends those of peers no longer listed. Never waits on a peer.
    /// Must run inside a tokio runtime.
    pub(super) fn dispatch(&mut self, peers: Vec<(String, HttpClient)>, round: Round) {
        let listed: HashSet<&str> = peers.iter().map(|(url, _)| url.as_str()).collect();
        // Dropping a sender ends its task once it has sent what it holds.
        self.peers.retain(|url, _| listed.contains(url.as_str()));
        for (url, client) in peers {
            let task = self
                .peers
                .entry(url.clone())
                .or_insert_with(|| PeerTask { rounds: spawn_peer_task(url.clone(), client.clone()), skipped: 0 });
            match task.rounds.try_send(round.clone()) {
                Ok(()) if task.skipped > 0 => {
                    info!(peer = %url, skipped_rounds = task.skipped, "peer takes forwarded transactions again");
                    task.skipped = 0;
                }
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    if task.skipped == 0 {
                        warn!(peer = %url, rounds = PEER_BACKLOG_ROUNDS, "peer is this many forwarding rounds behind; skipping it until it catches up");
                    }
                    task.skipped += 1;
                }
                // The task ended (it panicked): a new one takes this round.
                Err(TrySendError::Closed(_)) => {
                    task.rounds = spawn_peer_task(url.clone(), client);
                    let _ = task.rounds.try_send(round.clone());
                }
            }
        }
    }
}

/// The task that forwards rounds to the peer at `url`, one call after another: the rounds
/// waiting when a call ends go together in the next calls, in chunks of [`FORWARD_CHUNK`].
fn spawn_peer_task(url: String, client: HttpClient) -> mpsc::Sender<Round> {
    let (sender, mut rounds) = mpsc::channel::<Round>(PEER_BACKLOG_ROUNDS);
    tokio::spawn(async move {
        while let Some(first) = rounds.recv().await {
            // `Bytes` clones share the buffer: one copy of each transaction for all peers.
            let mut txs: Vec<Bytes> = first.to_vec();
            while let Ok(more) = rounds.try_recv() {
                txs.extend(more.iter().cloned());
            }
            for chunk in txs.chunks(FORWARD_CHUNK) {
                if let Err(e) = client.forward_transactions(chunk.to_vec()).await {
                    warn!(peer = %url, error = %e, "forwarding transactions failed");
                    break;
                }
            }
        }
    });
    sender
}

impl Member {
    /// Forwards the transactions accepted here since the last call to the other members
    /// (their tasks send them; this returns at once).
    pub(super) fn forward(&self) {
        let queued: Vec<Bytes> = std::mem::take(&mut *lock(&self.forward_queue));
        if queued.is_empty() {
            return;
        }
        let peers: Vec<(String, HttpClient)> =
            self.peer_urls().into_iter().filter_map(|(_, url)| self.client(&url).map(|client| (url, client))).collect();
        lock(&self.forwarders).dispatch(peers, queued.into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::http_client::HttpClientBuilder;
    use jsonrpsee::server::{RpcModule, Server, ServerHandle};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;
    use tandem_api::ForwardReceipt;
    use tokio::sync::{watch, Notify};

    /// A peer that records the transactions forwarded to it; with a gate, each call waits
    /// until the gate opens before it is recorded and answered.
    struct Peer {
        url: String,
        calls: Arc<AtomicUsize>,
        received: Arc<Mutex<Vec<Bytes>>>,
        arrived: Arc<Notify>,
        _handle: ServerHandle,
    }

    impl Peer {
        fn received(&self) -> Vec<Bytes> {
            self.received.lock().expect("lock").clone()
        }

        /// Waits (at most 30 s) until `count` transactions arrived.
        async fn wait_for(&self, count: usize) {
            let arrived = async {
                while self.received.lock().expect("lock").len() < count {
                    self.arrived.notified().await;
                }
            };
            tokio::time::timeout(Duration::from_secs(30), arrived).await.expect("the transactions arrive");
        }
    }

    async fn peer(gate: Option<watch::Receiver<bool>>) -> Peer {
        let (calls, received, arrived) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())), Arc::new(Notify::new()));
        let mut module = RpcModule::new(());
        let (c, r, a) = (calls.clone(), received.clone(), arrived.clone());
        module
            .register_async_method("tandem_forwardTransactions", move |params, _, _| {
                let (c, r, a, gate) = (c.clone(), r.clone(), a.clone(), gate.clone());
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    let (txs,): (Vec<Bytes>,) = params.parse().expect("a list of byte strings");
                    if let Some(mut gate) = gate {
                        gate.wait_for(|open| *open).await.expect("the test holds the gate");
                    }
                    let count = txs.len() as u32;
                    r.lock().expect("lock").extend(txs);
                    a.notify_one();
                    jsonrpsee::core::RpcResult::Ok(ForwardReceipt { received: count, accepted: count })
                }
            })
            .expect("method registers");
        let server = Server::builder().build("127.0.0.1:0").await.expect("server binds");
        let url = format!("http://{}", server.local_addr().expect("bound address"));
        Peer { url, calls, received, arrived, _handle: server.start(module) }
    }

    fn listed(peers: &[&Peer]) -> Vec<(String, HttpClient)> {
        peers
            .iter()
            .map(|p| (p.url.clone(), HttpClientBuilder::default().request_timeout(Duration::from_secs(60)).build(&p.url).expect("client")))
            .collect()
    }

    /// Round `n`: one transaction, `[n, n]`.
    fn round(n: u8) -> Round {
        vec![Bytes::from(vec![n; 2])].into()
    }

    fn rounds(ns: impl IntoIterator<Item = u8>) -> Vec<Bytes> {
        ns.into_iter().map(|n| round(n)[0].clone()).collect()
    }

    #[tokio::test]
    async fn a_stalled_peer_delays_no_other_and_every_peer_gets_the_rounds_in_order() {
        let (open, gate) = watch::channel(false);
        // The stalled peer is listed first: forwarding to one peer after another would never
        // reach the second while the first does not answer.
        let (stalled, healthy) = (peer(Some(gate)).await, peer(None).await);
        let mut forwarders = Forwarders::default();
        for n in 0..5 {
            forwarders.dispatch(listed(&[&stalled, &healthy]), round(n));
        }
        healthy.wait_for(5).await;
        assert_eq!(healthy.received(), rounds(0..5));
        open.send(true).expect("the peer holds the gate");
        stalled.wait_for(5).await;
        assert_eq!(stalled.received(), rounds(0..5), "the same transactions in the same order");
    }

    #[tokio::test]
    async fn a_peer_too_far_behind_skips_rounds_until_it_catches_up() {
        let (open, gate) = watch::channel(false);
        let slow = peer(Some(gate)).await;
        let mut forwarders = Forwarders::default();
        forwarders.dispatch(listed(&[&slow]), round(0));
        // Round 0 is in the peer's hands (its call waits at the gate): the task's queue is empty.
        tokio::time::timeout(Duration::from_secs(30), async {
            while slow.calls.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the first call reaches the peer");
        let last_queued = PEER_BACKLOG_ROUNDS as u8;
        for n in 1..=last_queued {
            forwarders.dispatch(listed(&[&slow]), round(n));
        }
        assert_eq!(forwarders.peers[&slow.url].skipped, 0, "the queue holds {PEER_BACKLOG_ROUNDS} rounds");
        forwarders.dispatch(listed(&[&slow]), round(last_queued + 1));
        forwarders.dispatch(listed(&[&slow]), round(last_queued + 2));
        assert_eq!(forwarders.peers[&slow.url].skipped, 2, "a full queue skips the round");
        open.send(true).expect("the peer holds the gate");
        slow.wait_for(1 + PEER_BACKLOG_ROUNDS).await;
        forwarders.dispatch(listed(&[&slow]), round(last_queued + 3));
        assert_eq!(forwarders.peers[&slow.url].skipped, 0, "caught up");
        slow.wait_for(2 + PEER_BACKLOG_ROUNDS).await;
        let expected: Vec<Bytes> = rounds((0..=last_queued).chain([last_queued + 3]));
        assert_eq!(slow.received(), expected, "everything but the two skipped rounds, in order");
    }

    #[tokio::test]
    async fn a_peer_no_longer_listed_gets_no_more_rounds() {
        let (kept, dropped) = (peer(None).await, peer(None).await);
        let mut forwarders = Forwarders::default();
        forwarders.dispatch(listed(&[&kept, &dropped]), round(0));
        dropped.wait_for(1).await;
        forwarders.dispatch(listed(&[&kept]), round(1));
        kept.wait_for(2).await;
        assert_eq!(forwarders.peers.len(), 1, "the dropped peer's task was let go");
        assert_eq!(dropped.received(), rounds([0]), "only the round from when it was listed");
    }
}
