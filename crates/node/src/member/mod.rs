//! Sequencer-set mode: this node is one member of the staked set. Blocks are decided by
//! Malachite consensus among the members of the L1 staking contract's active set; every
//! member executes every decided block; batches are posted with the signatures of more than
//! 2/3 of the epoch's stake by the member due to post (the block's proposer, then the next
//! members in turn when it stalls); the engine's equivocation evidence is reported to L1.
//!
//! SPEC §11 describes the rules; this module is their implementation.

mod consensus_app;
mod evidence;
mod forwarding;
mod peers;
mod posting;
mod rpc;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::signers::local::PrivateKeySigner;
use jsonrpsee::http_client::HttpClient;
use tandem_chain::{BlockInput, ConsensusPayload, TxHash};
use tandem_consensus::{voting_power_of_stake, AppError, DoubleVote, EngineConfig, Multiaddr, TandemContext, Validator, ValidatorSet};
use tandem_l1::staking::{ActiveSet, StakingClient};
use tandem_l1::Address;
use tandem_state::StoreError;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::node::{Node, NodeError};
use crate::sequencing::Sequencing;
use rpc::member_module;

pub use consensus_app::PayloadCheckError;
pub use peers::{PeerAddress, PeerAddressError};
pub use tandem_consensus::{ByzantineConfig, LinearTimeouts, Trigger};

/// Sequencer-set parameters of this member.
#[derive(Debug, Clone)]
pub struct MemberConfig {
    /// The staking contract.
    pub staking: Address,
    /// The member's registered secp256k1 signing key (votes and batch signatures).
    pub signing_key: PrivateKeySigner,
    /// P2P listen address of the consensus engine.
    pub p2p_listen: Multiaddr,
    /// The L1 epoch whose active set decides height 1.
    pub genesis_epoch: u64,
    /// How long the member due to post a batch has before the next one in line posts it.
    pub post_timeout: Duration,
    /// Consensus timeouts.
    pub timeouts: LinearTimeouts,
    /// Misbehave on purpose (slashing demos and tests only).
    pub byzantine: Option<ByzantineConfig>,
    /// Whether this member posts batches when due (`false` only to show the fallback poster).
    pub posts_batches: bool,
}

/// What this member knows of L1's sequencer set.
#[derive(Debug, Default)]
struct L1View {
    /// Current L1 epoch.
    current_epoch: u64,
    /// Active sets of materialized epochs (immutable once materialized).
    sets: BTreeMap<u64, ActiveSet>,
    /// RPC URLs of the members, by signing key.
    peers: HashMap<Address, String>,
    /// The rollup's `revertCount()`, which batch signatures bind.
    revert_count: u64,
    /// When `peers` was last read from L1, for which epoch.
    peers_read: Option<(u64, Instant)>,
}

/// How often a member reads its peers' addresses from L1 within one epoch (a new epoch's set
/// is read at once): a staker changes its address rarely, and each read is a call per member.
const PEER_REFRESH: Duration = Duration::from_secs(30);

/// One member of the sequencer set.
pub struct Member {
    node: Arc<Node>,
    config: MemberConfig,
    staking: StakingClient,
    runtime: tokio::runtime::Handle,
    view: Mutex<L1View>,
    /// Transactions accepted here and not yet forwarded.
    forward_queue: Mutex<Vec<alloy::primitives::Bytes>>,
    /// One forwarding task per peer.
    forwarders: Mutex<forwarding::Forwarders>,
    evidence: Mutex<Vec<DoubleVote>>,
    /// Local time each batch's block was committed here (poster rotation timer).
    committed_at: Mutex<HashMap<u64, std::time::Instant>>,
    /// Local time this member first found each batch finalizable (finalizer rotation timer).
    finalizable_at: Mutex<HashMap<u64, std::time::Instant>>,
    http: Mutex<HashMap<String, HttpClient>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn app_err(e: impl std::fmt::Display) -> AppError {
    AppError::new(e.to_string())
}

impl Member {
    /// The member's signing-key address.
    pub fn address(&self) -> Address {
        self.config.signing_key.address()
    }

    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// Epoch and timestamp the payload of `height` carries (genesis epoch for height 0).
    fn epoch_and_time_of(&self, height: u64) -> Result<(u64, u64), StoreError> {
        if height == 0 {
            return Ok((self.config.genesis_epoch, 0));
        }
        match self.stored_height(height)? {
            Some(stored) => Ok((stored.payload.epoch, stored.payload.timestamp)),
            None => Err(StoreError::Corrupt(format!("consensus height {height} missing"))),
        }
    }

    /// The active set of a materialized `epoch`, from the cache or L1.
    fn active_set(&self, epoch: u64) -> Result<ActiveSet, AppError> {
        if let Some(set) = lock(&self.view).sets.get(&epoch) {
            return Ok(set.clone());
        }
        let set = self.runtime.block_on(async {
            if !self.staking.is_materialized(epoch).await.map_err(app_err)? {
                return Err(AppError::new(format!("epoch {epoch} is not materialized on L1")));
            }
            self.staking.active_set(epoch).await.map_err(app_err)
        })?;
        lock(&self.view).sets.insert(epoch, set.clone());
        Ok(set)
    }

    fn consensus_set(set: &ActiveSet) -> Result<ValidatorSet, AppError> {
        ValidatorSet::new(
            set.members
                .iter()
                .map(|m| Validator { address: tandem_consensus::Address(m.signing_key), voting_power: voting_power_of_stake(m.stake) })
                .collect(),
        )
        .map_err(|e| AppError::new(format!("epoch {}: {e}", set.epoch)))
    }

    /// The epoch a new proposal names: the newest materialized epoch L1 has reached, never
    /// going back from the previous height's.
    fn proposal_epoch(&self, prev_epoch: u64) -> u64 {
        let view = lock(&self.view);
        view.sets.range(prev_epoch..=view.current_epoch).next_back().map_or(prev_epoch, |(e, _)| *e)
    }

    // ---------------------------------------------------------------------------------
    // L1 side
    // ---------------------------------------------------------------------------------

    /// Refreshes the epoch, materializes it if nobody has, caches its set and the members'
    /// RPC URLs.
    async fn refresh_l1(&self) -> Result<(), NodeError> {
        let epoch = self.staking.current_epoch().await?;
        // A set held here is materialized, and stays so: nothing to ask L1 about it.
        let cached = lock(&self.view).sets.contains_key(&epoch);
        if !cached {
            if !self.staking.is_materialized(epoch).await? {
                info!(epoch, "materializing the epoch's sequencer set on L1");
                if let Err(e) = self.staking.sync_epoch().await {
                    warn!(epoch, error = %e, "syncEpoch failed (another member may have done it)");
                }
            }
            if self.staking.is_materialized(epoch).await? {
                let set = self.staking.active_set(epoch).await?;
                info!(epoch, members = set.members.len(), total_stake = %set.total_stake, "sequencer set of the epoch");
                lock(&self.view).sets.insert(epoch, set);
            }
        }
        let peers_due = lock(&self.view).peers_read.is_none_or(|(read_epoch, at)| read_epoch != epoch || at.elapsed() >= PEER_REFRESH);
        let peers = if peers_due { Some(self.staking.member_peers(epoch).await?) } else { None };
        let revert_count = self.node.l1.revert_count().await?;
        let mut view = lock(&self.view);
        view.current_epoch = epoch;
        view.revert_count = revert_count;
        if let Some(peers) = peers {
            for p in peers {
                if let Ok(addr) = PeerAddress::decode(&p.network_address) {
                    view.peers.insert(p.signing_key, addr.rpc);
                }
            }
            view.peers_read = Some((epoch, Instant::now()));
        }
        Ok(())
    }
}

/// Runs this node as a member of the sequencer set until `shutdown` resolves: storage, RPC
/// (with the member methods), metrics, deposit sync, the consensus engine (the member's
/// [`Sequencing`]), batch posting with the set's signatures (its [`Posting`]), finalization,
/// evidence reporting and transaction forwarding.
pub async fn run_member(
    config: crate::NodeConfig,
    member_config: MemberConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), NodeError> {
    let node = Node::open(config).await?;
    let staking = StakingClient::new(&node.config.l1_rpc, member_config.staking, Some(node.config.sequencer_key.clone()))?;
    let member = Arc::new(Member {
        node: node.clone(),
        config: member_config,
        staking,
        runtime: tokio::runtime::Handle::current(),
        view: Mutex::new(L1View::default()),
        forward_queue: Mutex::new(vec![]),
        forwarders: Mutex::new(forwarding::Forwarders::default()),
        evidence: Mutex::new(vec![]),
        committed_at: Mutex::new(HashMap::new()),
        finalizable_at: Mutex::new(HashMap::new()),
        http: Mutex::new(HashMap::new()),
    });
    member.refresh_l1().await?;
    // The member admits transactions through itself, so that it also forwards them.
    let admission = crate::rpc::admission_queue(&member, Member::admit)?;
    let mut module = jsonrpsee::RpcModule::new(());
    module.merge(tandem_api::TandemApiServer::into_rpc(crate::rpc::NodeRpc::with_admission(node.clone(), admission)))?;
    module.merge(member_module(member.clone()))?;
    crate::node::run_node(node, module, member.clone(), member, shutdown).await
}

impl Sequencing for Member {
    /// Runs the consensus engine (decided heights reach the node through the member's
    /// `ConsensusApp::commit`), restarted after any failure, and the transaction forwarder.
    async fn run(self: Arc<Self>, node: Arc<Node>, mut stop: watch::Receiver<bool>) -> Result<(), NodeError> {
        // Peers: every registered member's P2P address except ours.
        // (The epoch is read first: no lock may be held across an await.)
        let epoch = lock(&self.view).current_epoch;
        let peers: Vec<Multiaddr> = self
            .staking
            .member_peers(epoch)
            .await?
            .into_iter()
            .filter(|p| p.signing_key != self.address())
            .filter_map(|p| PeerAddress::decode(&p.network_address).ok().map(|a| a.p2p))
            .collect();
        info!(p2p = %self.config.p2p_listen, signing_key = %self.address(), peers = peers.len(), "sequencer-set member running");
        let engine_config = EngineConfig {
            moniker: format!("tandem-{}", self.address()),
            home: node.config.data_dir.join("consensus"),
            listen: self.config.p2p_listen.clone(),
            peers,
            ctx: TandemContext { l1_chain_id: node.l1_chain_id, rollup: node.config.rollup },
            signing_key: self.config.signing_key.clone(),
            timeouts: self.config.timeouts,
            block_time: node.config.block_time,
            byzantine: self.config.byzantine.clone(),
        };
        let forwarder = {
            let member = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(50));
                loop {
                    tick.tick().await;
                    member.forward();
                }
            })
        };
        // The engine restarts itself after a failure; it ends only when stopped, or when its
        // key or home directory is unusable.
        let stopped = async move {
            let _ = stop.changed().await;
        };
        let result = tandem_consensus::run_supervised(engine_config, self.clone(), stopped).await;
        forwarder.abort();
        // The peers' tasks end once they have sent what they hold.
        *lock(&self.forwarders) = forwarding::Forwarders::default();
        result.map_err(NodeError::from)
    }

    /// Refreshes the member's view of the set and reports the evidence the engine found.
    async fn on_l1_poll(&self) -> Result<(), NodeError> {
        self.report_evidence().await;
        self.refresh_l1().await
    }
}

/// Hashes of a payload's transactions (for logs and tests).
pub fn payload_tx_hashes(payload: &ConsensusPayload) -> HashSet<TxHash> {
    payload
        .inputs
        .iter()
        .filter_map(|i| match i {
            BlockInput::Tx { encoded } => Some(TxHash::of(encoded)),
            BlockInput::Deposit { .. } | BlockInput::ForcedWithdrawal { .. } => None,
        })
        .collect()
}
