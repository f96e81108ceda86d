//! Sequencer-set mode: this node is one member of the staked set. Blocks are decided by
//! Malachite consensus among the members of the L1 staking contract's active set; every
//! member executes every decided block; batches are posted with the signatures of more than
//! 2/3 of the epoch's stake by the member due to post (the block's proposer, then the next
//! members in turn when it stalls); the engine's equivocation evidence is reported to L1.
//!
//! SPEC §11 describes the rules; this module is their implementation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::signers::local::PrivateKeySigner;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use tandem_chain::{
    batch_digest, recover_signer, sign_digest, BlockInput, BlockRecord, ConsensusInfo, ConsensusPayload, Lane, TxHash, VoteType,
    FEE_ACCOUNT,
};
use tandem_consensus::{
    voting_power_of_stake, AppError, ConsensusApp, DoubleVote, EngineConfig, Multiaddr, PayloadRefused, TandemContext,
    Validator, ValidatorSet,
};
use tandem_l1::staking::{ActiveSet, StakingClient};
use tandem_l1::{Address, U256};
use tandem_state::{LedgerOp, StoreError};
use tracing::{error, info, warn};

use crate::metrics::Metrics;
use crate::node::{hex0x, BlockPlan, DecidedHeight, Node, NodeError};
use crate::records::*;

pub use tandem_consensus::{ByzantineConfig, LinearTimeouts, Trigger};

/// Most transactions per forwarding call.
const FORWARD_CHUNK: usize = 400;

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

/// Stored form of a decided height: `u32 BE payload length | payload | certificate`.
fn encode_decided(payload: &[u8], certificate: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len() + certificate.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(certificate);
    out
}

fn decode_decided(stored: &[u8]) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let corrupt = || StoreError::Corrupt("decided height record truncated".into());
    let len_bytes: [u8; 4] = stored.get(..4).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let payload = stored.get(4..4 + len).ok_or_else(corrupt)?.to_vec();
    Ok((payload, stored[4 + len..].to_vec()))
}

/// A peer member as registered on L1: `p2p=<multiaddr>;rpc=<url>` (UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddress {
    /// Consensus P2P address.
    pub p2p: Multiaddr,
    /// JSON-RPC URL.
    pub rpc: String,
}

impl PeerAddress {
    /// The registered form.
    pub fn encode(&self) -> Vec<u8> {
        format!("p2p={};rpc={}", self.p2p, self.rpc).into_bytes()
    }

    /// Parses the registered form.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "network address is not UTF-8".to_string())?;
        let mut p2p = None;
        let mut rpc = None;
        for field in text.split(';') {
            match field.split_once('=') {
                Some(("p2p", v)) => p2p = Some(v.parse::<Multiaddr>().map_err(|e| format!("p2p address {v:?}: {e}"))?),
                Some(("rpc", v)) if v.starts_with("http://") || v.starts_with("https://") => rpc = Some(v.to_string()),
                _ => return Err(format!("network address field {field:?} is not p2p=… or rpc=http(s)://…")),
            }
        }
        match (p2p, rpc) {
            (Some(p2p), Some(rpc)) => Ok(Self { p2p, rpc }),
            _ => Err("network address needs both p2p= and rpc=".into()),
        }
    }
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
}

/// One member of the sequencer set.
pub struct Member {
    node: Arc<Node>,
    config: MemberConfig,
    staking: StakingClient,
    runtime: tokio::runtime::Handle,
    view: Mutex<L1View>,
    /// Transactions accepted here and not yet forwarded.
    forward_queue: Mutex<Vec<String>>,
    evidence: Mutex<Vec<DoubleVote>>,
    /// Local time each batch's block was committed here (poster rotation timer).
    committed_at: Mutex<HashMap<u64, std::time::Instant>>,
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

    fn stored_height(&self, height: u64) -> Result<Option<(ConsensusPayload, Vec<u8>, Vec<u8>)>, StoreError> {
        let read = self.node.db.begin_read().map_err(db_err)?;
        let Ok(table) = read.open_table(CONSENSUS) else { return Ok(None) };
        let Some(entry) = table.get(height).map_err(db_err)? else { return Ok(None) };
        let (payload, cert) = decode_decided(entry.value())?;
        let decoded = ConsensusPayload::decode(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((decoded, payload, cert)))
    }

    /// Epoch and timestamp the payload of `height` carries (genesis epoch for height 0).
    fn epoch_and_time_of(&self, height: u64) -> Result<(u64, u64), StoreError> {
        if height == 0 {
            return Ok((self.config.genesis_epoch, 0));
        }
        match self.stored_height(height)? {
            Some((p, _, _)) => Ok((p.epoch, p.timestamp)),
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

    /// Turns payload inputs into ledger ops, checking deposits against the confirmed L1 queue.
    fn check_inputs(&self, payload: &ConsensusPayload) -> Result<Vec<LedgerOp>, String> {
        let next_deposit = read_meta(&self.node.db, META_NEXT_DEPOSIT).map_err(|e| e.to_string())?.unwrap_or(0);
        let deposits = lock(&self.node.deposits);
        let mut ops = Vec::with_capacity(payload.inputs.len());
        let mut seen_tx = false;
        for (i, input) in payload.inputs.iter().enumerate() {
            let op = input.to_ledger_op();
            match input {
                BlockInput::Deposit { queue_index, .. } => {
                    if seen_tx {
                        return Err(format!("input {i}: deposit after a transaction"));
                    }
                    let expected = next_deposit + i as u64;
                    if *queue_index != expected {
                        return Err(format!("input {i}: deposit {queue_index} out of order (expected {expected})"));
                    }
                    let known = deposits.iter().find(|d| d.queue_index == expected);
                    match (known, &op) {
                        (Some(d), LedgerOp::Deposit(dep)) if d.deposit == *dep => {}
                        (Some(_), _) => return Err(format!("input {i}: deposit {expected} differs from L1")),
                        (None, _) => return Err(format!("input {i}: deposit {expected} not confirmed on L1 here yet")),
                    }
                }
                BlockInput::Tx { .. } => seen_tx = true,
            }
            ops.push(op);
        }
        Ok(ops)
    }

    fn check(&self, height: u64, bytes: &[u8]) -> Result<ConsensusPayload, String> {
        let payload = ConsensusPayload::decode(bytes).map_err(|e| e.to_string())?;
        let last = read_meta(&self.node.db, META_CONSENSUS_HEIGHT).map_err(|e| e.to_string())?.unwrap_or(0);
        if height != last + 1 {
            return Err(format!("height {height} is not next (last committed {last})"));
        }
        let (prev_epoch, prev_time) = self.epoch_and_time_of(last).map_err(|e| e.to_string())?;
        if payload.epoch < prev_epoch {
            return Err(format!("epoch {} goes back from {prev_epoch}", payload.epoch));
        }
        if payload.epoch != prev_epoch {
            self.active_set(payload.epoch).map_err(|e| e.to_string())?;
        }
        if payload.timestamp < prev_time || payload.timestamp > unix_now() + 10 {
            return Err(format!("timestamp {} outside [{prev_time}, now + 10 s]", payload.timestamp));
        }
        let max = match (payload.lane, self.node.config.zk_lane) {
            (Lane::Zk, Some(zk)) => zk.slots.min(self.node.config.max_block_ops),
            (Lane::Zk, None) => return Err("ZK lane on a chain without one".into()),
            _ => self.node.config.max_block_ops,
        };
        if payload.inputs.len() > max {
            return Err(format!("{} inputs exceed the {max} the lane allows", payload.inputs.len()));
        }
        let ops = self.check_inputs(&payload)?;
        if !ops.is_empty() {
            let ledger = lock(&self.node.ledger);
            ledger
                .check_batch(&ops, tandem_types::AccountIndex::new(FEE_ACCOUNT).expect("0 is an index"))
                .map_err(|e| format!("op {}: {}", e.index, e.error))?;
        }
        Ok(payload)
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
        if !self.staking.is_materialized(epoch).await? {
            info!(epoch, "materializing the epoch's sequencer set on L1");
            if let Err(e) = self.staking.sync_epoch().await {
                warn!(epoch, error = %e, "syncEpoch failed (another member may have done it)");
            }
        }
        let cached = lock(&self.view).sets.contains_key(&epoch);
        if !cached && self.staking.is_materialized(epoch).await? {
            let set = self.staking.active_set(epoch).await?;
            info!(epoch, members = set.members.len(), total_stake = %set.total_stake, "sequencer set of the epoch");
            lock(&self.view).sets.insert(epoch, set);
        }
        let peers = self.staking.member_peers(epoch).await?;
        let mut view = lock(&self.view);
        view.current_epoch = epoch;
        for p in peers {
            if let Ok(addr) = PeerAddress::decode(&p.network_address) {
                view.peers.insert(p.signing_key, addr.rpc);
            }
        }
        Ok(())
    }

    fn client(&self, url: &str) -> Option<HttpClient> {
        let mut clients = lock(&self.http);
        if let Some(c) = clients.get(url) {
            return Some(c.clone());
        }
        let client = HttpClientBuilder::default().request_timeout(Duration::from_secs(5)).build(url).ok()?;
        clients.insert(url.to_string(), client.clone());
        Some(client)
    }

    fn peer_urls(&self) -> Vec<(Address, String)> {
        let me = self.address();
        lock(&self.view).peers.iter().filter(|(k, _)| **k != me).map(|(k, u)| (*k, u.clone())).collect()
    }

    /// This member's signature over batch `number`'s digest, if it has the block.
    pub fn batch_signature(&self, number: u64) -> Result<Option<[u8; 65]>, NodeError> {
        let Some((header, _)) = self.node.batch_header(number)? else { return Ok(None) };
        let digest = batch_digest(self.node.l1_chain_id, self.node.config.rollup, number, header.hash());
        Ok(Some(sign_digest(&self.config.signing_key, digest)))
    }

    /// The member due to post batch `number` now: its block's proposer first, then each next
    /// member of the epoch's set (canonical order) once per `post_timeout` since the block
    /// was committed here.
    fn poster_due(&self, number: u64, block: &BlockRecord) -> Option<Address> {
        let info = block.consensus.as_ref()?;
        let set = lock(&self.view).sets.get(&info.epoch).cloned()?;
        let order = Self::consensus_set(&set).ok()?;
        let members: Vec<Address> = order.validators().iter().map(|v| v.address.0).collect();
        let start = members.iter().position(|m| *m == info.proposer).unwrap_or(0);
        let since = *lock(&self.committed_at).entry(number).or_insert_with(std::time::Instant::now);
        let turns = (since.elapsed().as_millis() / self.config.post_timeout.as_millis().max(1)) as usize;
        members.get((start + turns) % members.len()).copied()
    }

    /// Posts the next batch L1 does not have, when it is this member's turn: collects the
    /// members' signatures, keeps those of the current L1 epoch's set, and commits once they
    /// hold more than 2/3 of its stake. Marks batches other members posted.
    async fn post_next_batch(&self) -> Result<(), NodeError> {
        let on_l1 = self.node.l1.last_committed_batch().await?;
        let latest = self.node.latest_block()?;
        self.mark_posted(on_l1.min(latest)).await?;
        let number = on_l1 + 1;
        if number > latest {
            return Ok(());
        }
        let Some(block) = self.node.block(number)? else { return Ok(()) };
        if !self.config.posts_batches || self.poster_due(number, &block) != Some(self.address()) {
            return Ok(());
        }
        let header = block.batch_header();
        let public_data = block.public_data;
        let digest = batch_digest(self.node.l1_chain_id, self.node.config.rollup, number, header.hash());
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
            let answer: Result<Option<String>, _> = client.request("tandem_batchSignature", jsonrpsee::rpc_params![number]).await;
            let Ok(Some(text)) = answer else { continue };
            let Ok(bytes) = hex::decode(text.trim_start_matches("0x")) else { continue };
            let Ok(sig) = <[u8; 65]>::try_from(bytes.as_slice()) else { continue };
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
            return Ok(());
        }
        let sigs: Vec<[u8; 65]> = signatures.into_iter().filter(|(k, _)| stake_of.contains_key(k)).map(|(_, s)| s).collect();
        let count = sigs.len();
        let tx = self.node.l1.commit_batch_signed(&header, &public_data, sigs).await?;
        Metrics::inc(&self.node.metrics.batches_posted);
        info!(batch = number, l1_tx = %tx, signers = count, epoch, poster = %self.address(), "batch committed on L1");
        if let Some(mut record) = self.node.batch(number)? {
            record.l1_commit_tx = Some(tx.to_string());
            self.node.write_batch(&record)?;
        }
        self.mark_posted(number).await
    }

    /// Records batches up to `through` as posted, with their L1 commit record.
    async fn mark_posted(&self, through: u64) -> Result<(), NodeError> {
        for number in 1..=through {
            let Some(mut record) = self.node.batch(number)? else { continue };
            if record.status != BatchStatus::Soft {
                continue;
            }
            record.committed = self.node.l1.committed_batch(number, self.node.config.deploy_block).await?;
            if record.committed.is_none() {
                return Ok(());
            }
            record.status = BatchStatus::Posted;
            self.node.write_batch(&record)?;
            lock(&self.committed_at).remove(&number);
        }
        Ok(())
    }

    /// Sends the engine's evidence to L1 (this member is the reporter and gets the reward).
    async fn report_evidence(&self) {
        let pending: Vec<DoubleVote> = std::mem::take(&mut *lock(&self.evidence));
        for e in pending {
            let vote_type = if e.vote_type == 0 { VoteType::Prevote } else { VoteType::Precommit };
            match self
                .staking
                .report_double_vote(e.height, e.round, vote_type, e.first.0, &e.first.1 .0, e.second.0, &e.second.1 .0)
                .await
            {
                Ok(report) => {
                    Metrics::inc(&self.node.metrics.slashings_reported);
                    info!(offender = %e.signer, staker = %report.staker, slashed = %report.slashed, reward = %report.reporter_reward, l1_tx = %report.tx, "double vote slashed on L1");
                }
                Err(err) => warn!(offender = %e.signer, height = e.height, error = %err, "double-vote report refused (already slashed?)"),
            }
        }
    }

    /// Forwards transactions accepted here to the other members, in chunks.
    async fn forward(&self) {
        let queued: Vec<String> = std::mem::take(&mut *lock(&self.forward_queue));
        if queued.is_empty() {
            return;
        }
        for (_, url) in self.peer_urls() {
            let Some(client) = self.client(&url) else { continue };
            for chunk in queued.chunks(FORWARD_CHUNK) {
                let result: Result<Value, _> =
                    client.request("tandem_forwardTransactions", jsonrpsee::rpc_params![chunk.to_vec()]).await;
                if let Err(e) = result {
                    warn!(peer = %url, error = %e, "forwarding transactions failed");
                    break;
                }
            }
        }
    }

    /// Accepts a transaction from a client and queues it for the other members.
    pub fn submit(&self, bytes: &[u8]) -> Result<TxHash, crate::node::SubmitError> {
        let hash = self.node.submit(bytes)?;
        lock(&self.forward_queue).push(hex0x(bytes));
        Ok(hash)
    }
}

impl ConsensusApp for Member {
    fn last_committed_height(&self) -> u64 {
        read_meta(&self.node.db, META_CONSENSUS_HEIGHT).ok().flatten().unwrap_or(0)
    }

    fn validator_set(&self, height: u64) -> Result<ValidatorSet, AppError> {
        let (epoch, _) = self.epoch_and_time_of(height.saturating_sub(1)).map_err(app_err)?;
        Self::consensus_set(&self.active_set(epoch)?)
    }

    fn build_payload(&self, height: u64, _budget: Duration) -> Result<Vec<u8>, AppError> {
        let last = self.last_committed_height();
        let (prev_epoch, prev_time) = self.epoch_and_time_of(last).map_err(app_err)?;
        let epoch = self.proposal_epoch(prev_epoch);
        let plan = {
            let ledger = lock(&self.node.ledger);
            let mempool = lock(&self.node.mempool);
            let mut deposits = lock(&self.node.deposits);
            let number = self.node.latest_block().map_err(app_err)? + 1;
            self.node.plan_block(&ledger, &mempool, &mut deposits, number).map_err(app_err)?
        };
        if !plan.rejected.is_empty() {
            let mut mempool = lock(&self.node.mempool);
            self.node.drop_rejected(&mut mempool, &plan.rejected).map_err(app_err)?;
        }
        let payload = ConsensusPayload { epoch, timestamp: unix_now().max(prev_time), lane: plan.lane, inputs: plan.inputs };
        info!(height, epoch, inputs = payload.inputs.len(), "proposing");
        Ok(payload.encode())
    }

    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), PayloadRefused> {
        self.check(height, payload).map(|_| ()).map_err(PayloadRefused::new)
    }

    fn commit(&self, height: u64, round: u32, proposer: Address, bytes: &[u8], certificate: &[u8]) -> Result<(), AppError> {
        let payload = ConsensusPayload::decode(bytes).map_err(app_err)?;
        let decided = DecidedHeight {
            info: ConsensusInfo { height, round, proposer, epoch: payload.epoch },
            stored: encode_decided(bytes, certificate),
        };
        if payload.inputs.is_empty() {
            let write = self.node.db.begin_write().map_err(app_err)?;
            decided.write(&write).map_err(app_err)?;
            write.commit().map_err(app_err)?;
        } else {
            let mut ledger = lock(&self.node.ledger);
            let mut mempool = lock(&self.node.mempool);
            let mut deposits = lock(&self.node.deposits);
            let number = self.node.latest_block().map_err(app_err)? + 1;
            let plan = BlockPlan { lane: payload.lane, inputs: payload.inputs, rejected: vec![] };
            self.node
                .commit_block(&mut ledger, &mut mempool, &mut deposits, plan, number, payload.timestamp, Some(decided))
                .map_err(app_err)?;
            lock(&self.committed_at).insert(number, std::time::Instant::now());
        }
        self.node.metrics.consensus_height.store(height, Ordering::Relaxed);
        if proposer == self.address() {
            Metrics::inc(&self.node.metrics.blocks_proposed);
        }
        Ok(())
    }

    fn decided(&self, height: u64) -> Result<Option<(Vec<u8>, Vec<u8>)>, AppError> {
        Ok(self.stored_height(height).map_err(app_err)?.map(|(_, p, c)| (p, c)))
    }

    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        lock(&self.evidence).extend(evidence);
    }

    fn on_round(&self, height: u64, round: u32, proposer: Address) {
        if round > 0 {
            info!(height, round, proposer = %proposer, "new round (the previous proposer stalled or was refused)");
        }
    }
}

/// The member's extra RPC methods: `tandem_batchSignature`, `tandem_forwardTransactions`,
/// `tandem_sequencerSet`, and `tandem_sendTransaction` (which also forwards).
fn member_module(member: Arc<Member>) -> RpcModule<Arc<Member>> {
    let mut m = RpcModule::new(member);
    m.register_method("tandem_batchSignature", |params, member, _| {
        let number: u64 = params.one()?;
        let sig = member.batch_signature(number).map_err(crate::rpc::internal)?;
        Ok::<Option<String>, jsonrpsee::types::ErrorObjectOwned>(sig.map(|s| hex0x(&s)))
    })
    .expect("unique method name");
    m.register_method("tandem_forwardTransactions", |params, member, _| {
        let txs: Vec<String> = params.one()?;
        if txs.len() > FORWARD_CHUNK {
            return Err(crate::rpc::invalid_params(format!("at most {FORWARD_CHUNK} transactions per call")));
        }
        let mut accepted = 0u32;
        for text in &txs {
            let Ok(bytes) = crate::rpc::decode_hex(text, "transaction") else { continue };
            if member.node.submit(&bytes).is_ok() {
                accepted += 1;
            }
        }
        Ok(json!({ "received": txs.len(), "accepted": accepted }))
    })
    .expect("unique method name");
    m.register_method("tandem_sequencerSet", |_, member, _| {
        let view = lock(&member.view);
        let height = read_meta(&member.node.db, META_CONSENSUS_HEIGHT).ok().flatten().unwrap_or(0);
        let sets: Vec<Value> = view
            .sets
            .iter()
            .rev()
            .take(2)
            .map(|(e, s)| {
                json!({
                    "epoch": e,
                    "totalStake": s.total_stake.to_string(),
                    "members": s.members.iter().map(|m| json!({
                        "staker": m.staker.to_string(),
                        "signingKey": m.signing_key.to_string(),
                        "stake": m.stake.to_string(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok::<Value, jsonrpsee::types::ErrorObjectOwned>(json!({
            "me": member.address().to_string(),
            "consensusHeight": height,
            "heightsProposed": member.node.metrics.blocks_proposed.load(Ordering::Relaxed),
            "slashingsReported": member.node.metrics.slashings_reported.load(Ordering::Relaxed),
            "l1Epoch": view.current_epoch,
            "sets": sets,
        }))
    })
    .expect("unique method name");
    m
}

/// Runs this node as a member of the sequencer set until `shutdown` resolves: storage, RPC
/// (with the member methods), metrics, deposit sync, the consensus engine, batch posting,
/// finalization, evidence reporting and transaction forwarding.
pub async fn run_member(
    config: crate::NodeConfig,
    member_config: MemberConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), NodeError> {
    let node = Node::open(config, Box::new(crate::producer::SoloSequencer)).await?;
    let staking = StakingClient::new(&node.config.l1_rpc, member_config.staking, Some(node.config.sequencer_key.clone()))?;
    let ctx = TandemContext { l1_chain_id: node.l1_chain_id, rollup: node.config.rollup };
    let member = Arc::new(Member {
        node: node.clone(),
        config: member_config,
        staking,
        runtime: tokio::runtime::Handle::current(),
        view: Mutex::new(L1View::default()),
        forward_queue: Mutex::new(vec![]),
        evidence: Mutex::new(vec![]),
        committed_at: Mutex::new(HashMap::new()),
        http: Mutex::new(HashMap::new()),
    });
    member.refresh_l1().await?;
    let mut module = crate::rpc::module(node.clone());
    module.remove_method("tandem_sendTransaction");
    let mut extra = member_module(member.clone());
    extra
        .register_method("tandem_sendTransaction", |params, member, _| crate::rpc::send_transaction(params, member.node(), |b| member.submit(b)))
        .expect("unique method name");
    module.merge(extra).map_err(|e| NodeError::Server(e.to_string()))?;
    let (rpc, rpc_addr) = crate::rpc::serve_module(module, node.config.rpc_addr).await?;
    let metrics_addr = crate::rpc::serve_metrics(node.clone(), node.config.metrics_addr).await?;

    // Peers: every registered member's P2P address except ours.
    // (The epoch is read first: no lock may be held across an await.)
    let epoch = lock(&member.view).current_epoch;
    let peers: Vec<Multiaddr> = member
        .staking
        .member_peers(epoch)
        .await?
        .into_iter()
        .filter(|p| p.signing_key != member.address())
        .filter_map(|p| PeerAddress::decode(&p.network_address).ok().map(|a| a.p2p))
        .collect();
    info!(
        rpc = %format!("http://{rpc_addr}"),
        metrics = %format!("http://{metrics_addr}/metrics"),
        p2p = %member.config.p2p_listen,
        signing_key = %member.address(),
        peers = peers.len(),
        "sequencer-set member running"
    );
    let engine_config = EngineConfig {
        moniker: format!("tandem-{}", member.address()),
        home: node.config.data_dir.join("consensus"),
        listen: member.config.p2p_listen.clone(),
        peers,
        ctx,
        signing_key: member.config.signing_key.clone(),
        timeouts: member.config.timeouts,
        block_time: node.config.block_time,
        byzantine: member.config.byzantine.clone(),
    };
    let engine = tokio::spawn(tandem_consensus::run(engine_config, member.clone()));

    let l1_loop = {
        let member = member.clone();
        tokio::spawn(async move {
            let mut scanned = None;
            let mut tick = tokio::time::interval(member.node.config.l1_poll_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for (what, result) in [
                    ("L1 set refresh", member.refresh_l1().await),
                    ("deposit sync", member.node.sync_l1(&mut scanned).await),
                    ("batch posting", member.post_next_batch().await),
                    ("finalization", member.node.finalize_batches().await),
                ] {
                    if let Err(e) = result {
                        Metrics::inc(&member.node.metrics.l1_errors);
                        match e {
                            NodeError::L1(_) => warn!(error = %e, "{what} failed; retrying"),
                            other => return Err::<(), NodeError>(other),
                        }
                    }
                }
                member.report_evidence().await;
            }
        })
    };
    let forwarder = {
        let member = member.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                member.forward().await;
            }
        })
    };
    tokio::pin!(shutdown);
    let result = tokio::select! {
        _ = &mut shutdown => Ok(()),
        r = engine => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(NodeError::Server(format!("consensus: {e}"))),
            Err(e) => Err(NodeError::Server(format!("consensus task: {e}"))),
        },
        r = l1_loop => r.map_err(|e| NodeError::Server(e.to_string())).and_then(|r| r),
    };
    forwarder.abort();
    let _ = rpc.stop();
    if let Err(e) = &result {
        error!(error = %e, "member stopped");
    }
    result
}

/// Hashes of a payload's transactions (for logs and tests).
pub fn payload_tx_hashes(payload: &ConsensusPayload) -> HashSet<TxHash> {
    payload
        .inputs
        .iter()
        .filter_map(|i| match i {
            BlockInput::Tx { encoded } => Some(TxHash::of(encoded)),
            BlockInput::Deposit { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses_round_trip_and_refuse_junk() {
        let a = PeerAddress { p2p: "/ip4/127.0.0.1/tcp/27000".parse().expect("multiaddr"), rpc: "http://127.0.0.1:9000".into() };
        assert_eq!(PeerAddress::decode(&a.encode()), Ok(a));
        assert!(PeerAddress::decode(b"p2p=/ip4/1.2.3.4/tcp/1").is_err());
        assert!(PeerAddress::decode(b"p2p=nonsense;rpc=http://x").is_err());
        assert!(PeerAddress::decode(b"rpc=ftp://x;p2p=/ip4/1.2.3.4/tcp/1").is_err());
        assert!(PeerAddress::decode(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn decided_record_round_trips() {
        let stored = encode_decided(b"payload", b"cert");
        assert_eq!(decode_decided(&stored).expect("decodes"), (b"payload".to_vec(), b"cert".to_vec()));
        assert!(decode_decided(&[0, 0, 0, 9, 1]).is_err());
    }
}
