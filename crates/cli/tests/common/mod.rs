//! A staked sequencer set on anvil: deployment, staking, and `tandem node` member processes.

#![allow(dead_code)]

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tandem_api::{AccountRef, AccountView, MemberApiClient, SequencerSetView, TandemApiClient};
use tandem_chain::BlockRecord;
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::{
    bootstrap_staked_set, MemberArgs, NodeCommand, StakedDeployment, StakedMember, StakedParams, StakedSetSpec, Supervised,
};
use tandem_l1::{PrivateKeySigner, RollupClient, StakingClient, U256};
use tandem_state::signing::sign_tx;
use tandem_types::*;

pub const CHAIN_ID: u64 = 778;
pub const TOKEN: u128 = 1_000_000_000_000_000_000;
pub const DEPTH: u8 = 12;

pub fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

/// A port from the devnet's cross-process allocator (see `tandem_devnet::ports`).
pub fn free_port() -> u16 {
    tandem_devnet::free_port().expect("a free port")
}

pub async fn wait_for<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    wait_until(timeout, async || f().await.ok_or_else(|| what.to_string())).await
}

/// Polls `f` every 200 ms until it returns `Ok`; on timeout, panics with its last `Err`, which
/// says what it waits for and what it saw.
pub async fn wait_until<T>(timeout: Duration, mut f: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f().await {
            Ok(v) => return v,
            Err(waiting) if Instant::now() >= deadline => panic!("timed out waiting for {waiting}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Member `i`'s batch and vote signing key (not its L1 account).
pub fn signing_key(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy::primitives::keccak256(format!("tandem.cli-test.member.{i}"))).expect("scalar")
}

pub struct Member {
    pub index: usize,
    pub node: NodeCommand,
    pub rpc: HttpClient,
    pub rpc_url: String,
    pub p2p: String,
    /// The running `tandem node` (stopped when dropped).
    pub child: Option<Supervised>,
    pub log: PathBuf,
}

impl Member {
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "member {} already running", self.index);
        let cmd = self.node.command(Path::new(env!("CARGO_BIN_EXE_tandem")));
        self.child = Some(Supervised::spawn(format!("member {}", self.index), cmd, &self.log).expect("spawn tandem node"));
    }

    /// SIGKILL: the member crashes.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill();
        }
    }

    pub async fn set(&self) -> Option<SequencerSetView> {
        self.rpc.sequencer_set().await.ok()
    }

    pub async fn consensus_height(&self) -> Option<u64> {
        Some(self.set().await?.consensus_height)
    }

    pub async fn block_number(&self) -> Option<u64> {
        self.rpc.block_number().await.ok()
    }

    /// Block `n`, if the member answers and has it.
    pub async fn block(&self, n: u64) -> Option<BlockRecord> {
        Some(self.rpc.block(n).await.ok()??.block)
    }

    /// Proposer of block `n` (every block of a set has one).
    pub async fn proposer(&self, n: u64) -> Option<tandem_l1::Address> {
        Some(self.block(n).await?.consensus?.proposer)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The staking treasury of every test set.
pub const TREASURY: alloy::primitives::Address = alloy::primitives::Address::repeat_byte(0x7e);

/// What a member's process is doing, as a failure report tells it.
enum ProcessState {
    /// Never started, or stopped by the test.
    NotRunning,
    Running,
    /// Ended without the test asking it to.
    Exited(std::process::ExitStatus),
}

impl std::fmt::Display for ProcessState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessState::NotRunning => write!(f, "not running (never started or stopped by the test)"),
            ProcessState::Running => write!(f, "running"),
            ProcessState::Exited(status) => write!(f, "EXITED on its own: {status}"),
        }
    }
}

pub struct SetDevnet {
    pub anvil: alloy::node_bindings::AnvilInstance,
    pub url: String,
    pub keys: Vec<PrivateKeySigner>,
    pub deployment: StakedDeployment,
    pub fee_key: PrivateKey,
    pub members: Vec<Member>,
    pub dir: tempfile::TempDir,
    pub genesis_epoch: u64,
}

pub struct SetOptions {
    pub stakes: Vec<u64>,
    pub epoch_length: u64,
    pub challenge_window: u64,
    pub byzantine: Option<usize>,
    /// A member that never posts batches (the next in rotation must).
    pub withhold: Option<usize>,
}

impl SetDevnet {
    pub fn rollup(&self, account: Option<usize>) -> RollupClient {
        RollupClient::new(&self.url, self.deployment.rollup, account.map(|a| self.keys[a].clone())).expect("client")
    }

    pub fn staking(&self, account: usize) -> StakingClient {
        StakingClient::new(&self.url, self.deployment.staking, Some(self.keys[account].clone())).expect("client")
    }

    /// Member `i` (L1 account `i + 1`) gets `amount` tokens and stakes them, registering its
    /// signing key and its P2P and RPC addresses.
    pub async fn stake(&self, i: usize, amount: U256, p2p: &str, rpc: &str) {
        self.rollup(Some(0)).mint_dev_token(self.deployment.token, self.keys[i + 1].address(), amount).await.expect("mint");
        let address = format!("p2p={p2p};rpc={rpc}");
        self.staking(i + 1).stake(amount, signing_key(i).address(), address.as_bytes()).await.expect("stake");
    }

    /// Mines until the L1 clock reaches `target`.
    pub async fn advance_to(&self, target: u64) {
        tandem_devnet::advance_time_to(&self.url, target).await.expect("advance L1 time");
    }

    /// Mines one L1 block a second later (L1 time only moves with blocks on anvil).
    pub async fn tick_l1(&self) {
        let now = self.rollup(None).latest_timestamp().await.expect("timestamp");
        self.advance_to(now + 1).await;
    }

    /// Waits until L1 has finalized batch `n`, moving L1 time on.
    pub async fn wait_final(&self, n: u64, timeout: Duration) {
        let rollup = self.rollup(None);
        wait_for(&format!("batch {n} final on L1"), timeout, async || {
            self.tick_l1().await;
            (rollup.last_finalized_batch().await.ok()? >= n).then_some(())
        })
        .await
    }

    /// Moves L1 to the start of the next epoch and materializes its set.
    pub async fn next_epoch(&self) -> u64 {
        tandem_devnet::next_epoch(&self.url, self.deployment.staking, self.keys[0].clone()).await.expect("next epoch")
    }

    /// Adds a member process (not started) for member `i`.
    pub fn add_member(&mut self, i: usize, p2p_port: u16, rpc_port: u16, byzantine: bool) {
        self.add_member_with(i, p2p_port, rpc_port, byzantine, false)
    }

    /// [`Self::add_member`], optionally withholding batches.
    pub fn add_member_with(&mut self, i: usize, p2p_port: u16, rpc_port: u16, byzantine: bool, withhold: bool) {
        let data = self.dir.path().join(format!("member{i}"));
        let mut node = NodeCommand::new(
            &data,
            CHAIN_ID,
            DEPTH,
            self.fee_key.public_key().pack(),
            &self.url,
            self.deployment.rollup,
            self.deployment.deploy_block,
            self.keys[i + 1].clone(),
            ([127, 0, 0, 1], rpc_port).into(),
            ([127, 0, 0, 1], free_port()).into(),
        );
        node.block_time_ms = Some(500);
        node.forced_inbox = self.deployment.forced_inbox;
        node.l1_confirmations = Some(0);
        node.l1_poll_ms = Some(300);
        node.member = Some(MemberArgs {
            staking: self.deployment.staking,
            signing_key: signing_key(i),
            p2p_port,
            genesis_epoch: self.genesis_epoch,
            post_timeout_ms: Some(3000),
            propose_timeout_ms: Some(2000),
            byzantine_equivocate: byzantine,
            withhold_batches: withhold,
        });
        let rpc_url = format!("http://127.0.0.1:{rpc_port}");
        self.members.push(Member {
            index: i,
            node,
            rpc: HttpClientBuilder::default().request_timeout(Duration::from_secs(10)).build(&rpc_url).expect("client"),
            rpc_url,
            p2p: format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            child: None,
            log: self.dir.path().join(format!("member{i}.log")),
        });
    }

    /// Deploys, stakes `stakes` (in tokens) for members 0.., moves to the next epoch (whose
    /// set is those stakers) and starts every member.
    pub async fn start(options: SetOptions) -> Self {
        let anvil = test_anvil().expect("anvil (run `npm ci`)");
        let url = anvil.endpoint();
        let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
        let fee_key = PrivateKey::from_seed([60; 32]);
        let genesis = tandem_chain::genesis_root(CHAIN_ID, DEPTH, fee_key.public_key().pack()).expect("genesis");
        let params = StakedParams {
            treasury: TREASURY,
            min_stake: tokens(10),
            max_stake: tokens(10_000),
            epoch_length: options.epoch_length,
            unbonding_delay: 2 * options.epoch_length + options.challenge_window,
            max_active: 8,
            max_stakers: 16,
            slash_bps: 1_000,
            reporter_bps: 3_000,
            challenge_window: options.challenge_window,
            emission_per_batch: U256::ZERO,
        };
        // Member i: L1 account i + 1 (a funded anvil account), its own signing key.
        let ports: Vec<(u16, u16)> = options.stakes.iter().map(|_| (free_port(), free_port())).collect();
        let stakers: Vec<StakedMember> = options
            .stakes
            .iter()
            .zip(&ports)
            .enumerate()
            .map(|(i, (stake, (p2p, rpc)))| StakedMember::local(keys[i + 1].clone(), signing_key(i).address(), tokens(*stake), *p2p, *rpc))
            .collect();
        let exodus =
            tandem_devnet::ExodusParams::unexercised().with_forced_inbox(tandem_devnet::ForcedInboxParams::devnet(CHAIN_ID, DEPTH));
        let spec = StakedSetSpec {
            deployer: keys[0].clone(),
            genesis_root: genesis,
            params: &params,
            exodus: &exodus,
            token_supply: tokens(1_000_000),
            members: &stakers,
            member_eth: None,
            fault_proofs: None,
        };
        let set = bootstrap_staked_set(&url, &spec).await.expect("staked set");
        let mut net = SetDevnet {
            anvil,
            url,
            keys,
            deployment: set.deployment,
            fee_key,
            members: vec![],
            dir: tempfile::tempdir().expect("tempdir"),
            genesis_epoch: set.genesis_epoch,
        };
        for (i, (p2p, rpc)) in ports.into_iter().enumerate() {
            net.add_member_with(i, p2p, rpc, options.byzantine == Some(i), options.withhold == Some(i));
        }
        for m in &mut net.members {
            m.start();
        }
        net
    }

    /// Deposits `amount` wei for `user` on L1.
    pub async fn deposit(&self, user: &PrivateKey, amount: u128) {
        let pk = user.public_key();
        self.rollup(Some(9))
            .deposit_eth(U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())), U256::from(amount))
            .await
            .expect("deposit");
    }

    /// Consensus heights of the running members.
    pub async fn heights(&self) -> Vec<Option<u64>> {
        let mut out = vec![];
        for m in &self.members {
            out.push(if m.child.is_some() { m.consensus_height().await } else { None });
        }
        out
    }

    /// Waits until every running member has committed consensus height `h`; on timeout the
    /// panic names each member's height (or that it did not answer).
    pub async fn wait_height(&self, h: u64, timeout: Duration) {
        wait_until(timeout, async || {
            let hs = self.heights().await;
            let running = self.members.iter().zip(&hs).filter(|(m, _)| m.child.is_some());
            if running.clone().all(|(_, x)| x.is_some_and(|x| x >= h)) {
                return Ok(());
            }
            let report: Vec<String> = running
                .map(|(m, x)| format!("member {}: {}", m.index, x.map_or("no answer".to_string(), |x| format!("height {x}"))))
                .collect();
            Err(format!("consensus height {h} ({})", report.join(", ")))
        })
        .await
    }

    /// Prints the members' logs' tails and whether each process still runs (on failure).
    /// Members whose process exited come last, so that a tail-truncated report keeps them.
    pub fn dump_logs(&mut self) {
        let mut order: Vec<(usize, ProcessState)> = self
            .members
            .iter_mut()
            .enumerate()
            .map(|(k, m)| {
                let state = match m.child.as_mut() {
                    None => ProcessState::NotRunning,
                    Some(c) => c.try_exit().map_or(ProcessState::Running, ProcessState::Exited),
                };
                (k, state)
            })
            .collect();
        order.sort_by_key(|(_, state)| matches!(state, ProcessState::Exited(_)));
        for (k, state) in &order {
            let m = &self.members[*k];
            let text = std::fs::read_to_string(&m.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().filter(|l| !l.contains("round started")).collect();
            eprintln!("----- member {} ({state}; last 60 lines) -----", m.index);
            for l in &lines[lines.len().saturating_sub(60)..] {
                eprintln!("{l}");
            }
        }
        for (k, state) in &order {
            eprintln!("member {}: {state}", self.members[*k].index);
        }
    }
}

pub fn transfer(key: &PrivateKey, from: u32, to: &PrivateKey, amount: u128, nonce: u32) -> String {
    let tx = Tx::Transfer(TransferTx {
        from: AccountIndex::new(from).expect("index"),
        to: to.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(amount).expect("amount"),
        fee: PackedFee::new(1).expect("fee"),
        nonce,
    });
    format!("0x{}", hex::encode(sign_tx(key, CHAIN_ID, tx).expect("sign").encode()))
}

pub async fn account(member: &Member, key: &PrivateKey) -> Option<AccountView> {
    let who = AccountRef::Key(tandem_l1::B256::from(key.public_key().pack().0));
    member.rpc.account(who).await.ok()?
}

impl Drop for SetDevnet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        if let Some(dir) = std::env::var_os("TANDEM_TEST_KEEP_LOGS") {
            let dir = std::path::PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            for m in &self.members {
                let _ = std::fs::copy(&m.log, dir.join(format!("member{}.log", m.index)));
            }
        }
    }
}
