//! Four Malachite engines with unequal stakes over real TCP on loopback: they decide the same
//! blocks, proposers rotate by stake, a refused payload (proposed by the validator the draw
//! picks) is seen and never decided, and an equivocating validator's double votes come back
//! as L1-checkable evidence bound to the value that was proposed and its conflicting twin,
//! and an engine that fails is restarted by its supervisor and catches up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{keccak256, Address as EthAddress, B256};
use alloy::signers::local::PrivateKeySigner;
use tandem_consensus::{
    proposer_of, recover_signer, run_supervised, vote_digest, AppError, ByzantineConfig, ConsensusApp, DecidedBytes, DoubleVote,
    EngineConfig, LinearTimeouts, Multiaddr, PayloadRefused, TandemContext, Trigger, Validator, ValidatorSet,
};

/// A committed height: payload, certificate, proposer, round.
type Committed = (Vec<u8>, Vec<u8>, EthAddress, u32);

/// An in-memory app: payload = "h<height>:<proposer byte>"; refuses payloads containing "bad".
struct MemoryApp {
    me: EthAddress,
    set: ValidatorSet,
    committed: Mutex<BTreeMap<u64, Committed>>,
    evidence: Mutex<Vec<DoubleVote>>,
    poison_at: Option<u64>,
    /// Every payload this app built, with its height.
    built: Mutex<Vec<(u64, Vec<u8>)>>,
    /// Poisoned payloads this app was asked to check (and refused).
    refused: Mutex<Vec<Vec<u8>>>,
    /// A height at which building the proposal panics, once (which fails the engine's run).
    panic_at: Option<u64>,
    panicked: AtomicBool,
}

impl ConsensusApp for MemoryApp {
    fn last_committed_height(&self) -> u64 {
        self.committed.lock().expect("lock").keys().last().copied().unwrap_or(0)
    }
    fn validator_set(&self, _height: u64) -> Result<ValidatorSet, AppError> {
        Ok(self.set.clone())
    }
    fn build_payload(&self, height: u64, _budget: Duration) -> Result<Vec<u8>, AppError> {
        if self.panic_at == Some(height) && !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("the app fails while building height {height}");
        }
        let tag = if self.poison_at == Some(height) { "bad" } else { "ok" };
        let payload = format!("h{height}:{}:{tag}", self.me).into_bytes();
        self.built.lock().expect("lock").push((height, payload.clone()));
        Ok(payload)
    }
    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), PayloadRefused> {
        let text = std::str::from_utf8(payload).map_err(PayloadRefused::new)?;
        if !text.starts_with(&format!("h{height}:")) {
            return Err(PayloadRefused::new(format!("payload for another height: {text}")));
        }
        if text.ends_with(":bad") {
            self.refused.lock().expect("lock").push(payload.to_vec());
            return Err(PayloadRefused::new("poisoned"));
        }
        Ok(())
    }
    fn commit(&self, height: u64, round: u32, proposer: EthAddress, payload: &[u8], certificate: &[u8]) -> Result<(), AppError> {
        self.committed.lock().expect("lock").insert(height, (payload.to_vec(), certificate.to_vec(), proposer, round));
        Ok(())
    }
    fn decided(&self, height: u64) -> Result<Option<DecidedBytes>, AppError> {
        Ok(self.committed.lock().expect("lock").get(&height).map(|(p, c, _, _)| (p.clone(), c.clone())))
    }
    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        self.evidence.lock().expect("lock").extend(evidence);
    }
}

fn free_port() -> u16 {
    // Never a port another parallel test process is handed (bind-0-then-close races).
    tandem_ports::free_port().expect("a free port")
}

fn ctx() -> TandemContext {
    TandemContext { l1_chain_id: 31337, rollup: EthAddress::repeat_byte(0x42) }
}

struct Cluster {
    apps: Vec<Arc<MemoryApp>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dirs: Vec<tempfile::TempDir>,
}

/// What goes wrong in a cluster: at a height, the validator the stake-weighted draw picks to
/// propose its round 0 builds a payload every node refuses (`poison_height`) or panics once
/// while building it (`panic_height`); one validator equivocates (`byzantine`).
#[derive(Default, Clone, Copy)]
struct Faults {
    poison_height: Option<u64>,
    panic_height: Option<u64>,
    byzantine: Option<usize>,
}

/// Starts one supervised engine per stake, with `faults`.
async fn start(stakes: &[u64], faults: Faults) -> Cluster {
    let keys: Vec<PrivateKeySigner> = stakes.iter().map(|_| PrivateKeySigner::random()).collect();
    let set = ValidatorSet::new(
        keys.iter().zip(stakes).map(|(k, s)| Validator { address: tandem_consensus::Address(k.address()), voting_power: *s }).collect(),
    )
    .expect("valid set");
    let proposer_at = |h: u64| {
        let proposer = proposer_of(&set, h, 0).0;
        (keys.iter().position(|k| k.address() == proposer).expect("the proposer is a member"), h)
    };
    let poison = faults.poison_height.map(proposer_at);
    let panic = faults.panic_height.map(proposer_at);
    let ports: Vec<u16> = stakes.iter().map(|_| free_port()).collect();
    let addr = |p: u16| -> Multiaddr { format!("/ip4/127.0.0.1/tcp/{p}").parse().expect("multiaddr") };
    let mut cluster = Cluster { apps: vec![], tasks: vec![], _dirs: vec![] };
    for (i, key) in keys.iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = Arc::new(MemoryApp {
            me: key.address(),
            set: set.clone(),
            committed: Mutex::new(BTreeMap::new()),
            evidence: Mutex::new(vec![]),
            poison_at: poison.filter(|(who, _)| *who == i).map(|(_, h)| h),
            built: Mutex::new(vec![]),
            refused: Mutex::new(vec![]),
            panic_at: panic.filter(|(who, _)| *who == i).map(|(_, h)| h),
            panicked: AtomicBool::new(false),
        });
        let config = EngineConfig {
            moniker: format!("v{i}"),
            home: dir.path().to_path_buf(),
            listen: addr(ports[i]),
            peers: ports.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| addr(*p)).collect(),
            ctx: ctx(),
            signing_key: key.clone(),
            timeouts: LinearTimeouts {
                propose: Duration::from_millis(1500),
                prevote: Duration::from_millis(500),
                precommit: Duration::from_millis(500),
                ..Default::default()
            },
            block_time: Duration::from_millis(300),
            byzantine: (faults.byzantine == Some(i)).then(|| ByzantineConfig { equivocate_votes: Trigger::Always, ..Default::default() }),
        };
        let a = app.clone();
        cluster.tasks.push(tokio::spawn(async move {
            let _ = run_supervised(config, a, std::future::pending()).await;
        }));
        cluster.apps.push(app);
        cluster._dirs.push(dir);
    }
    cluster
}

async fn wait_for_height(cluster: &Cluster, height: u64, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let heights: Vec<u64> = cluster.apps.iter().map(|a| a.last_committed_height()).collect();
        if heights.iter().all(|h| *h >= height) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "heights stuck at {heights:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_with_unequal_stakes_decide_the_same_blocks() {
    // The proposer of height 3, round 0 proposes a payload every node refuses.
    let cluster = start(&[4, 3, 2, 1], Faults { poison_height: Some(3), ..Faults::default() }).await;
    wait_for_height(&cluster, 8, Duration::from_secs(120)).await;
    // The poisoned payload was proposed and the other nodes saw and refused it...
    let poisoner = cluster.apps.iter().find(|a| a.poison_at == Some(3)).expect("a poisoner");
    let bad: Vec<Vec<u8>> = poisoner.built.lock().expect("lock").iter().filter(|(h, _)| *h == 3).map(|(_, p)| p.clone()).collect();
    assert!(!bad.is_empty() && bad.iter().all(|p| p.ends_with(b":bad")), "the poisoner never built its payload");
    let refusals: usize = cluster.apps.iter().filter(|a| a.me != poisoner.me).map(|a| a.refused.lock().expect("lock").len()).sum();
    assert!(refusals >= 1, "no node was asked to check the poisoned payload");
    for app in cluster.apps.iter().filter(|a| a.me != poisoner.me) {
        assert!(app.refused.lock().expect("lock").iter().all(|p| bad.contains(p)), "refused a payload that was not poisoned");
    }
    // ... so height 3 was decided in a later round, by another proposer.
    let (payload, _, proposer, round) = cluster.apps[0].committed.lock().expect("lock")[&3].clone();
    assert!(round >= 1, "height 3 decided in round 0 despite the refused proposal");
    assert_ne!(proposer, poisoner.me);
    assert!(!payload.ends_with(b":bad"));
    let first = cluster.apps[0].committed.lock().expect("lock").clone();
    for app in &cluster.apps[1..] {
        let other = app.committed.lock().expect("lock");
        for h in 1..=8 {
            assert_eq!(first[&h].0, other[&h].0, "height {h} differs");
        }
    }
    for (h, (payload, _, proposer, _)) in first.range(1..=8) {
        let text = String::from_utf8(payload.clone()).expect("utf8");
        assert!(!text.ends_with(":bad"), "height {h} decided a refused payload: {text}");
        assert!(text.contains(&proposer.to_string()), "height {h}: payload {text} not from recorded proposer {proposer}");
    }
    for t in cluster.tasks {
        t.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equivocating_validator_is_reported_with_l1_checkable_evidence() {
    let cluster = start(&[4, 3, 2, 1], Faults { byzantine: Some(3), ..Faults::default() }).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let evidence = loop {
        let found: Vec<DoubleVote> = cluster.apps[..3].iter().flat_map(|a| a.evidence.lock().expect("lock").clone()).collect();
        if !found.is_empty() {
            break found;
        }
        assert!(tokio::time::Instant::now() < deadline, "no evidence reported");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let byzantine = cluster.apps[3].me;
    // What the byzantine engine signs against its honest vote (the engine's
    // `conflicting_vote_value_fn`): keccak of the value id, or a fixed id against nil.
    let twin = |value: B256| if value == B256::ZERO { keccak256(b"tandem.equivocation") } else { keccak256(value) };
    for e in &evidence {
        assert_eq!(e.signer, byzantine, "only the byzantine validator equivocates");
        assert_ne!(e.first.0, e.second.0);
        for (value, sig) in [e.first, e.second] {
            let digest = vote_digest(&ctx(), e.height, e.round, e.vote_type, value);
            assert_eq!(recover_signer(digest, &sig).expect("recovers"), byzantine);
        }
        // One of the two values is the honest vote: nil, or the id of a payload some
        // validator proposed at that height; the other is its conflicting twin.
        let proposed: Vec<B256> = cluster
            .apps
            .iter()
            .flat_map(|a| {
                a.built.lock().expect("lock").iter().filter(|(h, _)| *h == e.height).map(|(_, p)| keccak256(p)).collect::<Vec<_>>()
            })
            .collect();
        let honest = [e.first.0, e.second.0]
            .into_iter()
            .find(|v| *v == B256::ZERO || proposed.contains(v))
            .unwrap_or_else(|| panic!("evidence at height {} binds no proposed value: {e:?}", e.height));
        let other = if honest == e.first.0 { e.second.0 } else { e.first.0 };
        assert_eq!(other, twin(honest), "the conflicting vote is not the twin of the honest one");
    }
    for t in cluster.tasks {
        t.abort();
    }
}

/// The proposer of height 3 (the draw's pick among stakes 4, 3, 2, 1) panics while building
/// its block: the panic ends its engine's run, the supervisor starts a new run, and that
/// validator catches up and decides the same blocks as the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_engine_is_restarted_and_catches_up() {
    let cluster = start(&[4, 3, 2, 1], Faults { panic_height: Some(3), ..Faults::default() }).await;
    wait_for_height(&cluster, 8, Duration::from_secs(120)).await;
    let failed = cluster.apps.iter().find(|a| a.panic_at == Some(3)).expect("a validator due to fail");
    assert!(failed.panicked.load(Ordering::SeqCst), "the validator due to fail never built height 3");
    let first = cluster.apps[0].committed.lock().expect("lock").clone();
    let restarted = failed.committed.lock().expect("lock").clone();
    for h in 1..=8 {
        assert_eq!(first[&h].0, restarted[&h].0, "height {h} differs at the restarted validator");
    }
    for t in cluster.tasks {
        t.abort();
    }
}
