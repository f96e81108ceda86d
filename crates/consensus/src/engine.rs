//! Starts Malachite for one validator and drives it: the [`ConsensusApp`] seam is what the
//! node implements (build, check and commit block payloads; validator sets; evidence).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{keccak256, Address as EthAddress, B256};
use alloy::signers::local::PrivateKeySigner;
use bytes::Bytes;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, GossipSubConfig, NodeConfig, P2pConfig, PubSubProtocol, ValuePayload, ValueSyncConfig,
};
use malachitebft_app_channel::app::engine::host::{Next, SyncedValueOutcome};
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, HeightParams, LinearTimeouts, Round, SignedVote, Validity, VoteExtensions,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{Keypair, LocallyProposedValue, MisbehaviorEvidence, ProposedValue};
use malachitebft_app_channel::{
    AppMsg, ByzantineContext, Channels, ConsensusContext, EngineBuilder, EngineHandle, NetworkContext, NetworkIdentity, NetworkMsg,
    RequestContext, Signer as _, SyncContext, WalContext,
};
use malachitebft_codec::Codec as _;
use malachitebft_core_types::{NilOrVal, Value as _};
pub use malachitebft_engine_byzantine::{ByzantineConfig, Trigger};
use tracing::{debug, error, info, warn};

use crate::codec::{decode_certificate, encode_certificate, WireCodec};
use crate::signing::{part_digest, recover_signer, vote_type_code, ConsensusSigner, ConsensusVerifier, Signature};
use crate::types::{Address, BlockId, Height, ProposalPart, TandemContext, ValidatorSet};

/// Why the app could not do what the engine asked (the engine logs it and retries where it
/// can). The app's own error is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AppError(Box<dyn std::error::Error + Send + Sync>);

impl AppError {
    /// Wraps the app's error (any error type, or a message).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Why the app refused a proposed payload (this node then votes nil). The app's reason is
/// kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("payload refused: {0}")]
pub struct PayloadRefused(Box<dyn std::error::Error + Send + Sync>);

impl PayloadRefused {
    /// Wraps the app's reason (any error type, or a message).
    pub fn new(reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(reason.into())
    }
}

/// Why the engine stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The P2P identity key could not be derived.
    #[error("network key: {0}")]
    NetworkKey(String),
    /// The validator proof (binding the P2P identity to the signing key) failed.
    #[error("validator proof: {0}")]
    ValidatorProof(String),
    /// The consensus home directory could not be created.
    #[error("consensus dir: {0}")]
    Home(#[source] std::io::Error),
    /// Malachite did not start.
    #[error("engine start: {0}")]
    Start(String),
    /// Signing a proposal part failed.
    #[error("signing part: {0}")]
    Signing(String),
    /// The network actor is gone.
    #[error("network: {0}")]
    Network(String),
    /// A blocking app call panicked or was cancelled.
    #[error("app task: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Malachite closed its channel.
    #[error("consensus engine stopped")]
    Stopped,
    /// The engine's own runtime could not be built.
    #[error("engine runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A run of the engine panicked.
    #[error("engine panicked: {0}")]
    Panicked(String),
}

impl EngineError {
    /// Whether restarting the engine cannot mend it: the node's key or home directory is
    /// unusable, and will be again on the next start.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NetworkKey(_) | Self::ValidatorProof(_) | Self::Home(_) | Self::Runtime(_))
    }
}

/// Wait before the first restart of a failed engine; it doubles with each failure in a row.
const RESTART_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between restarts.
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A run this long counts as healthy: the next failure waits [`RESTART_FIRST`] again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// How long a failed run's tasks get to wind down before the next run starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Worker threads of each run's runtime.
const ENGINE_THREADS: usize = 2;

/// Two signed votes of one validator for different values at one (height, round, type):
/// equivocation. Both signatures are over [`crate::signing::vote_digest`], so the pair is
/// verifiable by `SequencerStaking.reportDoubleVote` as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoubleVote {
    /// The equivocating signing key.
    pub signer: EthAddress,
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// 0 prevote, 1 precommit.
    pub vote_type: u8,
    /// First value id (zero for nil) and its signature.
    pub first: (B256, Signature),
    /// Conflicting value id and its signature.
    pub second: (B256, Signature),
}

/// A decided height as the app stores it: the payload bytes and the encoded commit certificate.
pub type DecidedBytes = (Vec<u8>, Vec<u8>);

/// What the node provides to consensus. Calls may block (they run off the async runtime).
///
/// Invariants the implementation keeps: `commit` is called once per height in increasing
/// order and is durable when it returns; `validator_set(h)` is a pure function of the
/// blocks committed below `h` (every honest node computes the same set).
pub trait ConsensusApp: Send + Sync + 'static {
    /// Highest committed height (0 before the first).
    fn last_committed_height(&self) -> u64;
    /// The validator set of `height` (called once `height - 1` is committed).
    fn validator_set(&self, height: u64) -> Result<ValidatorSet, AppError>;
    /// The payload to propose at `height`; must return within `budget`.
    fn build_payload(&self, height: u64, budget: Duration) -> Result<Vec<u8>, AppError>;
    /// Whether `payload` may be decided at `height` (`Err(reason)`: this node votes nil).
    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), PayloadRefused>;
    /// Commits the decided `payload` of `height` with its encoded commit certificate.
    fn commit(&self, height: u64, round: u32, proposer: EthAddress, payload: &[u8], certificate: &[u8]) -> Result<(), AppError>;
    /// A committed height's payload and encoded certificate, for peers catching up.
    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, AppError>;
    /// Equivocation the engine observed (slashing evidence).
    fn on_evidence(&self, evidence: Vec<DoubleVote>);
    /// A round started with `proposer` due to propose.
    fn on_round(&self, _height: u64, _round: u32, _proposer: EthAddress) {}
}

/// The timeouts of a set whose round-0 propose timeout is `propose` (raised to 100 ms): the
/// prevote and precommit steps a third of it (at least 100 ms), every step growing by half
/// of its round-0 value per round, a rebroadcast after one whole round, and none above 30 s.
pub fn timeouts_for(propose: Duration) -> LinearTimeouts {
    let propose = propose.max(Duration::from_millis(100));
    let step = (propose / 3).max(Duration::from_millis(100));
    LinearTimeouts {
        propose,
        propose_delta: propose / 2,
        prevote: step,
        prevote_delta: step / 2,
        precommit: step,
        precommit_delta: step / 2,
        rebroadcast: propose + step * 2,
        max_timeout: Duration::from_secs(30),
    }
}

/// How to run one validator's engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Name in logs.
    pub moniker: String,
    /// Directory of the consensus WAL.
    pub home: PathBuf,
    /// Our P2P listen address, e.g. `/ip4/127.0.0.1/tcp/27000`.
    pub listen: Multiaddr,
    /// Peers to keep connected to.
    pub peers: Vec<Multiaddr>,
    /// Deployment the signatures are bound to.
    pub ctx: TandemContext,
    /// Registered signing key.
    pub signing_key: PrivateKeySigner,
    /// Consensus timeouts.
    pub timeouts: LinearTimeouts,
    /// Target time per height (the engine waits out the rest after deciding).
    pub block_time: Duration,
    /// Misbehave on purpose (tests and demos of slashing only).
    pub byzantine: Option<ByzantineConfig>,
}

#[derive(Clone, Debug)]
struct MalachiteConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for MalachiteConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// The P2P identity key: derived from the signing key, so a restarted validator keeps its
/// peer id, and separate from it, so the network layer never holds the signing secret.
fn network_keypair(signing_key: &PrivateKeySigner) -> Result<Keypair, EngineError> {
    let mut seed = signing_key.to_bytes().to_vec();
    seed.extend_from_slice(b"tandem.p2p-identity.v1");
    Keypair::ed25519_from_bytes(keccak256(seed).0).map_err(|e| EngineError::NetworkKey(e.to_string()))
}

/// Undecided and decided-but-uncommitted payloads, by (height, block id).
#[derive(Default)]
struct Proposals {
    payloads: HashMap<(u64, BlockId), Vec<u8>>,
    /// What we built at (height, round), so a second GetValue proposes the same.
    built: HashMap<(u64, i64), BlockId>,
    /// Values seen per (height, round), to hand back at round start.
    seen: HashMap<(u64, i64), Vec<ProposedValue<TandemContext>>>,
    /// Parts for heights we have not reached yet.
    future_parts: Vec<ProposalPart>,
}

impl Proposals {
    fn prune_below(&mut self, height: u64) {
        self.payloads.retain(|(h, _), _| *h >= height);
        self.built.retain(|(h, _), _| *h >= height);
        self.seen.retain(|(h, _), _| *h >= height);
        self.future_parts.retain(|p| p.height.0 >= height);
    }
}

struct Driver<A: ConsensusApp> {
    app: Arc<A>,
    ctx: TandemContext,
    signer: ConsensusSigner,
    config: EngineConfig,
    proposals: Proposals,
    /// Height in progress and its validator set.
    current: Option<(u64, ValidatorSet)>,
    commit_failed: bool,
}

/// Starts the engine and drives it until the engine's channel closes. Returns the engine
/// handle's join error or the app's fatal error.
pub async fn run<A: ConsensusApp>(config: EngineConfig, app: Arc<A>) -> Result<(), EngineError> {
    let ctx = config.ctx;
    let signer = ConsensusSigner::new(config.signing_key.clone(), ctx);
    let address = signer.address();
    let keypair = network_keypair(&config.signing_key)?;
    let peer_id = keypair.public().to_peer_id().to_bytes();
    let proof = signer.sign_validator_proof(address.0.to_vec(), peer_id).await.map_err(|e| EngineError::ValidatorProof(e.to_string()))?;
    let proof_bytes = WireCodec.encode(&proof).map_err(|e| EngineError::ValidatorProof(e.to_string()))?;
    let identity = NetworkIdentity::new_validator(config.moniker.clone(), keypair, address.to_string(), proof_bytes);

    let p2p = P2pConfig {
        listen_addr: config.listen.clone(),
        persistent_peers: config.peers.clone(),
        persistent_peers_only: false,
        discovery: DiscoveryConfig { enabled: false, ..Default::default() },
        // Flood publishing sends each message from its author to every peer; the mesh only
        // relays where a link is missing. Every relayed copy costs the receiver an ed25519 check
        // (gossipsub verifies before it drops duplicates), so a mesh of 3 (2 to 4) instead of
        // Malachite's 6 (4 to 12): BENCHMARKS "Consensus messages at half the cost".
        protocol: PubSubProtocol::GossipSub(GossipSubConfig::new(3, 4, 2, 1, false, false, true)),
        ..Default::default()
    };
    let malachite = MalachiteConfig {
        moniker: config.moniker.clone(),
        consensus: ConsensusConfig { p2p, value_payload: ValuePayload::ProposalAndParts, ..Default::default() },
        value_sync: ValueSyncConfig { enabled: true, ..Default::default() },
    };
    std::fs::create_dir_all(&config.home).map_err(EngineError::Home)?;
    let wal = WalContext::new(config.home.join("consensus.wal"), WireCodec);
    let consensus_ctx = ConsensusContext::new_validator(
        address,
        Box::new(ConsensusVerifier::new(ctx)),
        Box::new(ConsensusSigner::new(config.signing_key.clone(), ctx)),
    );
    let builder = EngineBuilder::new(ctx, malachite).with_default_wal(wal);
    let built = match config.byzantine.clone() {
        Some(byzantine) => {
            warn!(?byzantine, "BYZANTINE MODE: this validator misbehaves on purpose");
            builder
                .with_byzantine_network(ByzantineContext {
                    identity,
                    codec: WireCodec,
                    config: byzantine,
                    signer: Box::new(ConsensusSigner::new(config.signing_key.clone(), ctx)),
                    address,
                    conflicting_value_fn: Some(Box::new(|v: &BlockId| BlockId(keccak256(v.0)))),
                    conflicting_vote_value_fn: Some(Box::new(|id: Option<&BlockId>| match id {
                        Some(id) => BlockId(keccak256(id.0)),
                        None => BlockId(keccak256(b"tandem.equivocation")),
                    })),
                })
                .await
                .map_err(|e| EngineError::Start(format!("byzantine network: {e}")))?
                .with_default_consensus(consensus_ctx)
                .with_default_sync(SyncContext::new(WireCodec))
                .with_default_request(RequestContext::new(100))
                .build()
                .await
        }
        None => {
            builder
                .with_default_network(NetworkContext::new(identity, WireCodec))
                .with_default_consensus(consensus_ctx)
                .with_default_sync(SyncContext::new(WireCodec))
                .with_default_request(RequestContext::new(100))
                .build()
                .await
        }
    };
    let (mut channels, handle): (Channels<TandemContext>, EngineHandle) = built.map_err(|e| EngineError::Start(e.to_string()))?;
    info!(validator = %address, listen = %config.listen, "consensus engine started");
    let mut driver = Driver { app, ctx, signer, config, proposals: Proposals::default(), current: None, commit_failed: false };
    let result = driver.drive(&mut channels).await;
    handle.handle.abort();
    result
}

/// One run's runtime; if the supervisor is dropped mid-run, it is shut down without blocking
/// (dropping a runtime inside another one's task would panic).
struct RunRuntime(Option<tokio::runtime::Runtime>);

impl Drop for RunRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs the engine until `stop` resolves, restarting it after every failure a restart can mend.
///
/// Malachite stops its node when any of its actors fails and leaves the restart to whatever
/// runs it (an orchestrator restarting the process); this is that restart, in process, so the
/// node's RPC and L1 duties go on meanwhile. Each run gets its own tokio runtime, shut down
/// before the next run starts, so nothing of a failed run outlives it: its libp2p swarm (which
/// holds the listen port and would keep dialing), its WAL writer, its timers. The next run
/// replays the WAL and resumes from the app's last committed height, as a restarted process
/// does; the waits between runs double from [`RESTART_FIRST`] to [`RESTART_MAX`].
///
/// Returns `Ok` once stopped, or the first error a restart cannot mend
/// ([`EngineError::is_permanent`]).
pub async fn run_supervised<A: ConsensusApp>(
    config: EngineConfig,
    app: Arc<A>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), EngineError> {
    tokio::pin!(stop);
    let mut wait = RESTART_FIRST;
    let mut restarts = 0u64;
    loop {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(ENGINE_THREADS)
            .thread_name("consensus")
            .enable_all()
            .build()
            .map_err(EngineError::Runtime)?;
        let started = std::time::Instant::now();
        let engine = runtime.spawn(run(config.clone(), app.clone()));
        let mut runtime = RunRuntime(Some(runtime));
        let ended = tokio::select! {
            _ = &mut stop => None,
            r = engine => Some(r),
        };
        // Every task of the run is dropped here (sockets and files closed) before going on.
        if let Some(runtime) = runtime.0.take() {
            let _ = tokio::task::spawn_blocking(move || runtime.shutdown_timeout(SHUTDOWN_GRACE)).await;
        }
        let error = match ended {
            None => return Ok(()),
            Some(Ok(Ok(()))) => EngineError::Stopped,
            Some(Ok(Err(e))) => e,
            Some(Err(join)) => EngineError::Panicked(join.to_string()),
        };
        if error.is_permanent() {
            return Err(error);
        }
        if started.elapsed() >= HEALTHY_RUN {
            wait = RESTART_FIRST;
        }
        restarts += 1;
        error!(error = %error, restarts, restart_in = ?wait, "consensus engine failed; restarting it");
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(RESTART_MAX);
    }
}

impl<A: ConsensusApp> Driver<A> {
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&A) -> T + Send + 'static) -> Result<T, EngineError> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app)).await.map_err(EngineError::Task)
    }

    /// The validator set of `height`, retrying while the app cannot tell yet (e.g. L1 down).
    async fn validator_set(&self, height: u64) -> ValidatorSet {
        loop {
            match self.blocking(move |app| app.validator_set(height)).await {
                Ok(Ok(set)) => return set,
                Ok(Err(e)) => {
                    warn!(height, error = %e, "validator set not available yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    warn!(height, error = %e, "validator set task failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn params(&mut self, height: u64) -> HeightParams<TandemContext> {
        let set = self.validator_set(height).await;
        self.current = Some((height, set.clone()));
        HeightParams::new(set, self.config.timeouts, Some(self.config.block_time))
    }

    async fn drive(&mut self, channels: &mut Channels<TandemContext>) -> Result<(), EngineError> {
        while let Some(msg) = channels.consensus.recv().await {
            match msg {
                AppMsg::ConsensusReady { reply } => {
                    let start = self.blocking(|app| app.last_committed_height()).await? + 1;
                    let params = self.params(start).await;
                    info!(height = start, validators = params.validator_set.validators().len(), "consensus ready");
                    if reply.send((Height(start), params)).is_err() {
                        error!("consensus dropped the ConsensusReady reply");
                    }
                }
                AppMsg::StartedRound { height, round, proposer, role, reply_value } => {
                    debug!(%height, %round, %proposer, ?role, "round started");
                    if let Some(r) = round.as_u32() {
                        let app = self.app.clone();
                        let p = proposer.0;
                        let _ = tokio::task::spawn_blocking(move || app.on_round(height.0, r, p)).await;
                    }
                    let pending: Vec<ProposalPart> = {
                        let (now, later): (Vec<_>, Vec<_>) =
                            std::mem::take(&mut self.proposals.future_parts).into_iter().partition(|p| p.height == height);
                        self.proposals.future_parts = later;
                        now
                    };
                    for part in pending {
                        // The values come back through `seen`.
                        let _ = self.receive_part(part).await;
                    }
                    let values = self.proposals.seen.get(&(height.0, round.as_i64())).cloned().unwrap_or_default();
                    if reply_value.send(values).is_err() {
                        error!("consensus dropped the StartedRound reply");
                    }
                }
                AppMsg::GetValue { height, round, timeout, reply } => {
                    let id = match self.proposals.built.get(&(height.0, round.as_i64())) {
                        Some(id) => *id,
                        None => {
                            let budget = timeout / 2;
                            let payload = match self.blocking(move |app| app.build_payload(height.0, budget)).await? {
                                Ok(p) => p,
                                Err(e) => {
                                    // No reply: the round times out and another proposer goes.
                                    error!(%height, %round, error = %e, "could not build a block");
                                    continue;
                                }
                            };
                            let id = BlockId::of(&payload);
                            self.proposals.payloads.insert((height.0, id), payload);
                            self.proposals.built.insert((height.0, round.as_i64()), id);
                            id
                        }
                    };
                    if reply.send(LocallyProposedValue::new(height, round, id)).is_err() {
                        error!("consensus dropped the GetValue reply");
                    }
                    self.publish(channels, height, round, Round::Nil, id).await?;
                }
                AppMsg::RestreamProposal { height, round, valid_round, address, value_id } => {
                    if address == self.signer.address() && self.proposals.payloads.contains_key(&(height.0, value_id)) {
                        self.publish(channels, height, round, valid_round, value_id).await?;
                    }
                }
                AppMsg::ReceivedProposalPart { part, reply, .. } => {
                    let value = match part.content {
                        StreamContent::Data(part) => self.receive_part(part).await,
                        StreamContent::Fin => None,
                    };
                    if reply.send(value).is_err() {
                        error!("consensus dropped the ReceivedProposalPart reply");
                    }
                }
                AppMsg::Decided { certificate, extensions, reply } => {
                    self.commit_failed = !self.commit(certificate, extensions).await;
                    if reply.send(()).is_err() {
                        error!("consensus dropped the Decided reply");
                    }
                }
                AppMsg::Finalized { certificate, evidence, reply, .. } => {
                    let evidence = double_votes(&evidence);
                    if !evidence.is_empty() {
                        warn!(count = evidence.len(), "equivocation observed");
                        let app = self.app.clone();
                        tokio::task::spawn_blocking(move || app.on_evidence(evidence));
                    }
                    let height = certificate.height.0;
                    let next = if self.commit_failed {
                        error!(height, "commit failed; restarting the height");
                        Next::Restart(Height(height), self.params(height).await)
                    } else {
                        self.proposals.prune_below(height + 1);
                        Next::Start(Height(height + 1), self.params(height + 1).await)
                    };
                    if reply.send(next).is_err() {
                        error!("consensus dropped the Finalized reply");
                    }
                }
                AppMsg::GetHistoryMinHeight { reply } => {
                    let _ = reply.send(Height(1));
                }
                AppMsg::GetDecidedValues { range, reply } => {
                    let (from, to) = (range.start().0, range.end().0);
                    let values = self
                        .blocking(move |app| {
                            let mut out = Vec::new();
                            for h in from..=to {
                                match app.decided(h) {
                                    Ok(Some((payload, cert))) => match decode_certificate(&cert) {
                                        Ok(c) => out.push(RawDecidedValue::new(Bytes::from(payload), c)),
                                        Err(e) => {
                                            error!(height = h, error = %e, "stored certificate does not decode");
                                            break;
                                        }
                                    },
                                    _ => break,
                                }
                            }
                            out
                        })
                        .await?;
                    let _ = reply.send(values);
                }
                AppMsg::ProcessSyncedValue { height, round, proposer, value_bytes, reply } => {
                    let payload = value_bytes.to_vec();
                    let id = BlockId::of(&payload);
                    let check = payload.clone();
                    let verdict = self.blocking(move |app| app.check_payload(height.0, &check)).await;
                    let outcome = match verdict {
                        Ok(result) => {
                            if let Err(reason) = &result {
                                warn!(%height, %reason, "synced block refused");
                            }
                            self.proposals.payloads.insert((height.0, id), payload);
                            SyncedValueOutcome::Verdict(ProposedValue {
                                height,
                                round,
                                valid_round: Round::Nil,
                                proposer,
                                value: id,
                                validity: Validity::from_bool(result.is_ok()),
                            })
                        }
                        Err(_) => SyncedValueOutcome::LocalTransientError,
                    };
                    let _ = reply.send(outcome);
                }
                AppMsg::ExtendVote { reply, .. } => {
                    let _ = reply.send(None);
                }
                AppMsg::VerifyVoteExtensions { extensions, reply, .. } => {
                    // Extensions are disabled: any that arrives is refused.
                    let verdicts = extensions
                        .into_iter()
                        .map(|(a, _)| (a, Err(malachitebft_app_channel::app::consensus::VoteExtensionError::InvalidVoteExtension)))
                        .collect();
                    let _ = reply.send(verdicts);
                }
            }
        }
        Err(EngineError::Stopped)
    }

    /// Signs and gossips the one part of our proposal for `id`.
    async fn publish(
        &self,
        channels: &mut Channels<TandemContext>,
        height: Height,
        round: Round,
        pol_round: Round,
        id: BlockId,
    ) -> Result<(), EngineError> {
        let Some(payload) = self.proposals.payloads.get(&(height.0, id)) else { return Ok(()) };
        let signature =
            self.signer.sign(part_digest(&self.ctx, height.0, round, pol_round, id.0)).map_err(|e| EngineError::Signing(e.to_string()))?;
        let part = ProposalPart { height, round, pol_round, proposer: self.signer.address(), payload: payload.clone(), signature };
        let mut stream = height.0.to_be_bytes().to_vec();
        stream.extend_from_slice(&round.as_i64().to_be_bytes());
        let stream_id = StreamId::new(Bytes::from(stream));
        for (seq, content) in [(0u64, StreamContent::Data(part)), (1, StreamContent::Fin)] {
            channels
                .network
                .send(NetworkMsg::PublishProposalPart(StreamMessage::new(stream_id.clone(), seq, content)))
                .await
                .map_err(|e| EngineError::Network(e.to_string()))?;
        }
        Ok(())
    }

    /// Checks a received part: signed by the due proposer of its (height, round), payload
    /// acceptable to the app. Parts of future heights wait for their height.
    async fn receive_part(&mut self, part: ProposalPart) -> Option<ProposedValue<TandemContext>> {
        let Some((current, set)) = &self.current else {
            self.proposals.future_parts.push(part);
            return None;
        };
        if part.height.0 > *current {
            if self.proposals.future_parts.len() < 1_000 {
                self.proposals.future_parts.push(part);
            }
            return None;
        }
        if part.height.0 < *current {
            return None;
        }
        let expected = set.proposer(part.height, part.round).address;
        if part.proposer != expected {
            warn!(height = %part.height, round = %part.round, from = %part.proposer, %expected, "part from a validator not due to propose");
            return None;
        }
        let id = BlockId::of(&part.payload);
        let digest = part_digest(&self.ctx, part.height.0, part.round, part.pol_round, id.0);
        if recover_signer(digest, &part.signature).ok() != Some(part.proposer.0) {
            warn!(height = %part.height, from = %part.proposer, "part signature invalid");
            return None;
        }
        let height = part.height.0;
        let payload = part.payload.clone();
        let verdict = match self.blocking(move |app| app.check_payload(height, &payload)).await {
            Ok(v) => v,
            // The check did not run: not acceptable.
            Err(e) => Err(PayloadRefused::new(e)),
        };
        if let Err(reason) = &verdict {
            warn!(height, round = %part.round, proposer = %part.proposer, %reason, "proposal refused");
        }
        self.proposals.payloads.insert((height, id), part.payload);
        let value = ProposedValue {
            height: part.height,
            round: part.round,
            valid_round: part.pol_round,
            proposer: part.proposer,
            value: id,
            validity: Validity::from_bool(verdict.is_ok()),
        };
        self.proposals.seen.entry((height, part.round.as_i64())).or_default().push(value.clone());
        Some(value)
    }

    /// Commits a decision through the app; `false` if it could not.
    async fn commit(&mut self, certificate: CommitCertificate<TandemContext>, extensions: VoteExtensions<TandemContext>) -> bool {
        let height = certificate.height.0;
        let id = certificate.value_id;
        let Some(payload) = self.proposals.payloads.get(&(height, id)).cloned() else {
            error!(height, block = %id, "decided a block whose payload we do not have");
            return false;
        };
        let round = certificate.round.as_u32().unwrap_or(0);
        let proposer = self
            .current
            .as_ref()
            .filter(|(h, _)| *h == height)
            .map(|(_, set)| set.proposer(certificate.height, certificate.round).address.0)
            .unwrap_or_default();
        let extended = ExtendedCommitCertificate::from_commit_certificate_and_extensions(certificate, extensions);
        let cert = match encode_certificate(&extended) {
            Ok(c) => c,
            Err(e) => {
                error!(height, error = %e, "certificate does not encode");
                return false;
            }
        };
        match self.blocking(move |app| app.commit(height, round, proposer, &payload, &cert)).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                error!(height, error = %e, "commit failed");
                false
            }
            Err(e) => {
                error!(height, error = %e, "commit task failed");
                false
            }
        }
    }
}

fn vote_value(vote: &SignedVote<TandemContext>) -> B256 {
    match vote.message.value {
        NilOrVal::Nil => B256::ZERO,
        NilOrVal::Val(id) => id.id().0,
    }
}

/// The engine's vote equivocation records as L1-checkable pairs.
fn double_votes(evidence: &MisbehaviorEvidence<TandemContext>) -> Vec<DoubleVote> {
    let mut out = Vec::new();
    for (address, pairs) in evidence.votes.iter() {
        for (a, b) in pairs {
            let Some(round) = a.message.round.as_u32() else { continue };
            out.push(DoubleVote {
                signer: address.0,
                height: a.message.height.0,
                round,
                vote_type: vote_type_code(a.message.vote_type),
                first: (vote_value(a), a.signature),
                second: (vote_value(b), b.signature),
            });
        }
    }
    out
}

/// The proposer due at (`height`, `round`) of `set` (what [`TandemContext`] selects).
pub fn proposer_of(set: &ValidatorSet, height: u64, round: u32) -> Address {
    set.proposer(Height(height), Round::new(round)).address
}
