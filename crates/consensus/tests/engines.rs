//! Four Malachite engines with unequal stakes over real TCP on loopback: they decide the same
//! blocks, proposers rotate by stake, a refused payload is never decided, and an equivocating
//! validator's double votes come back as L1-checkable evidence.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address as EthAddress, B256};
use alloy::signers::local::PrivateKeySigner;
use tandem_consensus::{
    recover_signer, run, vote_digest, AppError, ByzantineConfig, ConsensusApp, DoubleVote, EngineConfig, LinearTimeouts,
    Multiaddr, TandemContext, Trigger, Validator, ValidatorSet,
};

/// An in-memory app: payload = "h<height>:<proposer byte>"; refuses payloads containing "bad".
struct MemoryApp {
    me: EthAddress,
    set: ValidatorSet,
    committed: Mutex<BTreeMap<u64, (Vec<u8>, Vec<u8>, EthAddress)>>,
    evidence: Mutex<Vec<DoubleVote>>,
    poison_at: Option<u64>,
}

impl ConsensusApp for MemoryApp {
    fn last_committed_height(&self) -> u64 {
        self.committed.lock().expect("lock").keys().last().copied().unwrap_or(0)
    }
    fn validator_set(&self, _height: u64) -> Result<ValidatorSet, AppError> {
        Ok(self.set.clone())
    }
    fn build_payload(&self, height: u64, _budget: Duration) -> Result<Vec<u8>, AppError> {
        let tag = if self.poison_at == Some(height) { "bad" } else { "ok" };
        Ok(format!("h{height}:{}:{tag}", self.me).into_bytes())
    }
    fn check_payload(&self, height: u64, payload: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(payload).map_err(|e| e.to_string())?;
        if !text.starts_with(&format!("h{height}:")) {
            return Err(format!("payload for another height: {text}"));
        }
        if text.ends_with(":bad") {
            return Err("poisoned".into());
        }
        Ok(())
    }
    fn commit(&self, height: u64, _round: u32, proposer: EthAddress, payload: &[u8], certificate: &[u8]) -> Result<(), AppError> {
        self.committed.lock().expect("lock").insert(height, (payload.to_vec(), certificate.to_vec(), proposer));
        Ok(())
    }
    fn decided(&self, height: u64) -> Result<Option<(Vec<u8>, Vec<u8>)>, AppError> {
        Ok(self.committed.lock().expect("lock").get(&height).map(|(p, c, _)| (p.clone(), c.clone())))
    }
    fn on_evidence(&self, evidence: Vec<DoubleVote>) {
        self.evidence.lock().expect("lock").extend(evidence);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn ctx() -> TandemContext {
    TandemContext { l1_chain_id: 31337, rollup: EthAddress::repeat_byte(0x42) }
}

struct Cluster {
    apps: Vec<Arc<MemoryApp>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn start(stakes: &[u64], poison: Option<(usize, u64)>, byzantine: Option<usize>) -> Cluster {
    let keys: Vec<PrivateKeySigner> = stakes.iter().map(|_| PrivateKeySigner::random()).collect();
    let set = ValidatorSet::new(
        keys.iter().zip(stakes).map(|(k, s)| Validator { address: tandem_consensus::Address(k.address()), voting_power: *s }).collect(),
    )
    .expect("valid set");
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
            byzantine: (byzantine == Some(i))
                .then(|| ByzantineConfig { equivocate_votes: Trigger::Always, ..Default::default() }),
        };
        let a = app.clone();
        cluster.tasks.push(tokio::spawn(async move {
            let _ = run(config, a).await;
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
    // Validator 1 proposes a payload every node refuses at height 3.
    let cluster = start(&[4, 3, 2, 1], Some((1, 3)), None).await;
    wait_for_height(&cluster, 8, Duration::from_secs(120)).await;
    let first = cluster.apps[0].committed.lock().expect("lock").clone();
    for app in &cluster.apps[1..] {
        let other = app.committed.lock().expect("lock");
        for h in 1..=8 {
            assert_eq!(first[&h].0, other[&h].0, "height {h} differs");
        }
    }
    for (h, (payload, _, proposer)) in first.range(1..=8) {
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
    let cluster = start(&[4, 3, 2, 1], None, Some(3)).await;
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
    for e in &evidence {
        assert_eq!(e.signer, byzantine, "only the byzantine validator equivocates");
        assert_ne!(e.first.0, e.second.0);
        for (value, sig) in [e.first, e.second] {
            let digest = vote_digest(&ctx(), e.height, e.round, e.vote_type, value);
            assert_eq!(recover_signer(digest, &sig).expect("recovers"), byzantine);
        }
    }
    let _: B256 = evidence[0].first.0;
    for t in cluster.tasks {
        t.abort();
    }
}
