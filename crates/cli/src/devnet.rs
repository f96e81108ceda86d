//! `tandem devnet`: anvil + contracts + `tandem node` child processes on this machine.
//!
//! `--sequencers 1` (the default) runs one sequencer node with the validity lane and a
//! prover; `--sequencers N` with N >= 2 runs a staked sequencer set of N member nodes
//! ([`set`]). Each run starts a fresh L1 (anvil keeps no state between runs), so the nodes'
//! data directories under the devnet directory are wiped at start; the fee collector's L2 key
//! in the devnet directory is kept.

pub(crate) mod set;

use crate::amount::format_units;
use crate::keyfile;
use crate::rpc::L2Client;

mod demo;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::json;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_circuit::prover::ProvingKeys;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::{anvil_command, wait_for_anvil};
use tandem_devnet::{wait_ready, NodeCommand, Supervised, ZkArgs};
use tandem_l1::{PrivateKeySigner, RollupClient, U256};
use tokio::process::Command;

/// anvil's default accounts (mnemonic "test test test test test test test test test test
/// test junk"): well-known devnet keys, never for real funds.
pub const ANVIL_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// Seed of the devnet's (public, hence insecure) trusted setup: the same as the committed
/// verifiers in contracts/src/verifiers, so a devnet of that shape deploys the same verifier.
pub const DEVNET_SETUP_SEED: u64 = 2024;

/// The anvil account the devnet's first prover submits proofs from (prover i uses account
/// `PROVER_ACCOUNT + i`).
pub const PROVER_ACCOUNT: usize = 6;

/// Most provers a devnet runs (anvil's accounts 6..=9).
pub const MAX_PROVERS: usize = 4;

/// The devnet dispute game's challenge bond: 0.1 ETH.
pub const CHALLENGE_BOND: u128 = 10u128.pow(17);

/// The single sequencer's bond in the devnet's dispute game: 10 ETH, posted from the
/// sequencer's account before the node starts.
pub const SEQUENCER_BOND: u128 = 10 * 10u128.pow(18);

/// Seconds after which the devnet's game may revert an unproven ZK-lane batch.
pub const ZK_PROOF_DEADLINE: u64 = 600;

/// Dev tokens minted to each funded dev account (18 decimals).
pub const DEV_TOKENS_PER_ACCOUNT: u128 = 10_000 * 10u128.pow(18);

/// Op slots of the single-sequencer devnet's validity lane when --zk-slots is not given.
pub const DEFAULT_ZK_SLOTS: usize = 2;

/// anvil accounts 2..6: the funded dev accounts printed for the wallet.
const DEV_ACCOUNTS: std::ops::Range<usize> = 2..6;

/// `tandem devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Devnet directory (node data, fee-collector key, logs, devnet.json).
    #[arg(long, default_value = ".tandem-devnet")]
    pub data_dir: PathBuf,
    /// L1 (anvil) JSON-RPC port.
    #[arg(long, default_value_t = 8545)]
    pub l1_port: u16,
    /// L2 node JSON-RPC port (with --sequencers N: member i's is rpc-port + i).
    #[arg(long, default_value_t = 8645)]
    pub rpc_port: u16,
    /// Node Prometheus metrics port (with --sequencers N: member i's is metrics-port + i).
    #[arg(long, default_value_t = 9645)]
    pub metrics_port: u16,
    /// Web dashboard port of the node (with --sequencers N: member i's is dashboard-port + i).
    #[arg(long, default_value_t = 8745)]
    pub dashboard_port: u16,
    /// Sequencers: 1 runs one sequencer node (with the ZK lane and a prover); N >= 2 runs a
    /// staked sequencer set of N member nodes that decide blocks by consensus and post batches
    /// signed by more than 2/3 of the stake (no ZK lane, no prover).
    #[arg(long, default_value_t = 1)]
    pub sequencers: usize,
    /// With --sequencers N: consensus P2P port of member 0 (member i's is p2p-port + i).
    #[arg(long, default_value_t = 27000)]
    pub p2p_port: u16,
    /// With --sequencers N: L1 staking epoch length in seconds (sets change at epoch starts).
    #[arg(long, default_value_t = 120)]
    pub epoch_length: u64,
    /// Target L2 block time in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub block_time_ms: u64,
    /// Challenge window of the optimistic lane, in seconds.
    #[arg(long, default_value_t = 60)]
    pub challenge_window: u64,
    /// Seconds a deposit may wait in the priority queue before anyone can start exodus
    /// (SPEC §16; at most 3600, the mainnet bound; minutes on a devnet).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub priority_deadline: u64,
    /// TEST ONLY: the sequencer never includes a forced withdrawal from the account of this
    /// packed L2 key, nor any priority op queued after it (a censoring sequencer, to
    /// exercise exodus).
    #[arg(long, hide = true)]
    pub test_censor_forced_from: Option<String>,
    /// anvil block time in seconds (0 = mine one block per transaction).
    #[arg(long, default_value_t = 1)]
    pub l1_block_time: u64,
    /// L2 chain id.
    #[arg(long, default_value_t = 31_337_001)]
    pub chain_id: u64,
    /// Account tree depth.
    #[arg(long, default_value_t = 24)]
    pub tree_depth: u8,
    /// L1 blocks a deposit waits before the node credits it.
    #[arg(long, default_value_t = 1)]
    pub l1_confirmations: u64,
    /// Most ops per L2 block.
    #[arg(long, default_value_t = tandem_node::config::DEFAULT_MAX_BLOCK_OPS)]
    pub max_block_ops: usize,
    /// Op slots of the validity circuit (ZK lane for fast withdrawals; default 2); 0 turns the
    /// ZK lane off. The devnet runs an INSECURE local trusted setup for this shape (cached in
    /// the data dir). With `--sequencers N` (default 0 there): S > 0 gives the staked rollup
    /// the verifier and the dispute game, with provers and a challenger.
    #[arg(long)]
    pub zk_slots: Option<usize>,
    /// Let the prover also prove optimistic batches that fit the circuit, so that a fast
    /// withdrawal never waits for an older batch's challenge window (one proof per batch).
    #[arg(long)]
    pub prove_optimistic: bool,
    /// Provers competing in the prover market (1 to 4; with the ZK lane). Prover i proves with
    /// half the threads of prover i-1 (all cores for prover 0), so their speeds differ.
    #[arg(long, default_value_t = 2)]
    pub provers: usize,
    /// Status port of prover 0 (`tandem prover status`; prover i's is this + i).
    #[arg(long, default_value_t = 8790)]
    pub prover_status_port: u16,
    /// Let the provers race without locking jobs (for measuring wasted work).
    #[arg(long)]
    pub provers_race: bool,
    /// What a second of proving costs every prover, in wei (their `--wei-per-second`).
    /// Default: measured at start so that the fastest prover breaks even at a quarter of a
    /// fast withdrawal's fee (the job's escrow), the slower ones later on the price ramp.
    #[arg(long)]
    pub prover_wei_per_second: Option<u128>,
    /// Market lock window in seconds (how long a locked job is exclusive).
    #[arg(long, default_value_t = 60)]
    pub market_lock_timeout: u64,
    /// Seconds a challenged chunk has for its proof: the dispute game's response window
    /// (with the ZK lane, the devnet deploys a game and runs a challenger).
    #[arg(long, default_value_t = 30)]
    pub response_window: u64,
    /// Status port of the challenger (`/status`, `/metrics`).
    #[arg(long, default_value_t = 8799)]
    pub challenger_status_port: u16,
    /// Demo of the fault proofs: once the devnet runs, a victim deposits and the sequencer's
    /// key commits a forged batch stealing it; the output shows the challenge, the revert and
    /// the chain resuming (needs the ZK lane, which brings the game and the challenger).
    #[arg(long)]
    pub demo_forged_batch: bool,
    /// Fee (wei) from which a withdrawal is fast (ZK lane).
    #[arg(long, default_value_t = 1_000_000_000_000_000)]
    pub fast_withdrawal_fee: u128,
    /// Repository root (where package.json and node_modules are); default: the checkout this binary was built from, else the current directory.
    #[arg(long)]
    pub repo_root: Option<PathBuf>,
    /// anvil binary; default: node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil under the repository root.
    #[arg(long, env = "TANDEM_ANVIL")]
    pub anvil: Option<PathBuf>,
}

/// The exit verifier and priority deadline of the devnet's rollup: the committed verifier for
/// the default chain id at depth 4 or 24, else one rendered from the public seed
/// (`tandem_circuit::exit::DEVNET_EXIT_SEED`, INSECURE) and compiled here.
pub(crate) fn exodus_params(args: &DevnetArgs) -> Result<tandem_devnet::ExodusParams> {
    if args.chain_id == tandem_devnet::COMMITTED_EXIT_VERIFIER_CHAIN_ID {
        if let Some(p) = tandem_devnet::ExodusParams::committed(args.tree_depth, args.priority_deadline) {
            return Ok(p.with_forced_inbox(tandem_devnet::ForcedInboxParams::devnet(args.chain_id, args.tree_depth)));
        }
    }
    use tandem_circuit::exit::{exit_verifier_file, ExitKeys, DEVNET_EXIT_SEED};
    let keys = ExitKeys::setup_insecure(args.tree_depth, args.chain_id, DEVNET_EXIT_SEED).map_err(|e| anyhow!("exit keys: {e}"))?;
    let source = exit_verifier_file(&keys, Some(DEVNET_EXIT_SEED));
    let code = tandem_devnet::solc::compile(&find_repo_root(args), &source, "Verifier")
        .map_err(|e| anyhow!("compiling the exit verifier: {e}"))?;
    Ok(tandem_devnet::ExodusParams {
        exit_verifier_code: code.into(),
        priority_deadline: args.priority_deadline,
        forced_inbox: Some(tandem_devnet::ForcedInboxParams::devnet(args.chain_id, args.tree_depth)),
    })
}

fn find_repo_root(args: &DevnetArgs) -> PathBuf {
    if let Some(r) = &args.repo_root {
        return r.clone();
    }
    let built = tandem_devnet::anvil::repo_root();
    if built.join("package.json").exists() {
        return built;
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn ensure_anvil(args: &DevnetArgs) -> Result<PathBuf> {
    if let Some(a) = &args.anvil {
        if !a.exists() {
            bail!("anvil binary {} does not exist", a.display());
        }
        return Ok(a.clone());
    }
    let root = find_repo_root(args);
    let anvil = tandem_devnet::anvil::anvil_binary(&root);
    if anvil.exists() {
        return Ok(anvil);
    }
    if !root.join("package-lock.json").exists() {
        bail!(
            "anvil not found at {} and {} has no package-lock.json: run from the Tandem repository, or pass --repo-root / --anvil",
            anvil.display(),
            root.display()
        );
    }
    eprintln!("==> anvil not found at {}: installing the pinned npm packages (npm ci) in {}", anvil.display(), root.display());
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&root)
        .status()
        .map_err(|e| anyhow!("could not run npm ({e}): install Node.js >= 20 and npm, then run `npm ci` in {}", root.display()))?;
    if !status.success() {
        bail!("`npm ci` failed in {} ({status}): fix the npm error above and rerun", root.display());
    }
    if !anvil.exists() {
        bail!("`npm ci` succeeded but {} is still missing (is this linux-amd64?)", anvil.display());
    }
    Ok(anvil)
}

fn check_port_free(port: u16, flag: &str) -> Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|e| anyhow!("port {port} is not free ({e}): stop what runs there or choose another with {flag}"))
}

fn log_file(path: &Path) -> Result<(Stdio, Stdio)> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let err = file.try_clone()?;
    Ok((Stdio::from(file), Stdio::from(err)))
}

/// How to call this binary in printed commands: `tandem` if that is it on the PATH, else its path.
fn tandem_command() -> String {
    let exe = std::env::current_exe().ok();
    let mut bin = "tandem".to_string();
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths).any(|p| {
                let candidate = p.join("tandem");
                match (candidate.canonicalize(), exe.as_ref().and_then(|e| e.canonicalize().ok())) {
                    (Ok(a), Some(b)) => a == b,
                    _ => false,
                }
            })
        })
        .unwrap_or(false);
    if !on_path {
        if let Some(exe) = &exe {
            let cwd = std::env::current_dir().ok();
            bin = match cwd.and_then(|c| exe.strip_prefix(&c).ok().map(Path::to_path_buf)) {
                Some(rel) => format!("./{}", rel.display()),
                None => exe.display().to_string(),
            };
        }
    }
    bin
}

/// `tandem wallet` with the devnet's (member 0's) RPC URLs where they are not the defaults.
/// The `tandem restore` command for this devnet: rebuilds the L2 state from L1 alone.
fn restore_example(args: &DevnetArgs, rollup: &tandem_l1::Address, deploy_block: u64, fee_pubkey: &tandem_types::PackedPubKey) -> String {
    let mut cmd = format!("{} restore", tandem_command());
    if args.l1_port != 8545 {
        cmd += &format!(" --l1-rpc http://127.0.0.1:{}", args.l1_port);
    }
    cmd + &format!(
        " --rollup {rollup} --deploy-block {deploy_block} --chain-id {} --tree-depth {} --genesis-fee-pubkey {} --account 1   # the L2 state from L1 alone, no L2 node",
        args.chain_id,
        args.tree_depth,
        keyfile::hex0x(&fee_pubkey.0)
    )
}

fn command_prefix(args: &DevnetArgs) -> String {
    let mut prefix = format!("{} wallet", tandem_command());
    if args.rpc_port != 8645 {
        prefix += &format!(" --rpc http://127.0.0.1:{}", args.rpc_port);
    }
    if args.l1_port != 8545 {
        prefix += &format!(" --l1-rpc http://127.0.0.1:{}", args.l1_port);
    }
    prefix
}

/// The devnet's children. Dropping it (a failed start) stops them all.
#[derive(Default)]
struct Procs {
    anvil: Option<Supervised>,
    node: Option<Supervised>,
    /// The market's provers, by index.
    provers: Vec<Supervised>,
    /// The challenger (with the ZK lane, which brings the dispute game).
    challenger: Option<Supervised>,
    /// Sequencer-set members (--sequencers N), by index.
    members: Vec<Supervised>,
}

impl Procs {
    /// Stops the children in dependency order: the prover and the nodes (members all at once)
    /// before anvil.
    async fn stop_all(&mut self) {
        for prover in self.provers.iter_mut().chain(self.challenger.as_mut()) {
            prover.terminate();
        }
        for prover in self.provers.iter_mut().chain(self.challenger.as_mut()) {
            prover.reap().await;
        }
        if let Some(node) = self.node.as_mut() {
            node.stop().await;
        }
        for member in &mut self.members {
            member.terminate();
        }
        for member in &mut self.members {
            member.reap().await;
        }
        if let Some(anvil) = self.anvil.as_mut() {
            anvil.stop().await;
        }
    }
}

/// Runs the devnet until Ctrl-C / SIGTERM (exit 0) or until a child dies (error).
pub async fn run(args: DevnetArgs) -> Result<()> {
    match args.sequencers {
        0 => bail!("--sequencers must be at least 1 (1: one sequencer; N >= 2: a staked sequencer set)"),
        1 => run_single(args).await,
        _ => set::run(args).await,
    }
}

async fn run_single(args: DevnetArgs) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Installed first, so that a signal at any point stops the children cleanly.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut procs = Procs::default();
    let started = tokio::select! {
        r = start(&args, &mut procs) => Some(r),
        _ = sigint.recv() => None,
        _ = sigterm.recv() => None,
    };
    match started {
        None => {
            eprintln!("==> signal during startup: stopping");
            procs.stop_all().await;
            return Ok(());
        }
        Some(Err(e)) => {
            procs.stop_all().await;
            return Err(e);
        }
        Some(Ok(())) => {}
    }
    let node = procs.node.as_mut().expect("started");
    let anvil = procs.anvil.as_mut().expect("started");
    // A prover that dies is reported, not fatal: the market reopens a job whose lock
    // expires, and the other provers take it (that is what the market is for). So is the
    // challenger's exit (anyone may run one).
    let provers = &mut procs.provers;
    let challenger = &mut procs.challenger;
    let prover_watch = async move {
        let mut reported = vec![false; provers.len()];
        let mut challenger_reported = false;
        loop {
            for (i, prover) in provers.iter_mut().enumerate() {
                if !reported[i] && !prover.is_running() {
                    reported[i] = true;
                    eprintln!("==> prover {i} exited; the others go on (see {})", prover.log().display());
                }
            }
            if let Some(c) = challenger.as_mut() {
                if !challenger_reported && !c.is_running() {
                    challenger_reported = true;
                    eprintln!("==> the challenger exited; the devnet goes on unwatched (see {})", c.log().display());
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    let outcome: Result<()> = tokio::select! {
        () = prover_watch => Ok(()),
        _ = sigint.recv() => { eprintln!("==> Ctrl-C: stopping the node and anvil"); Ok(()) }
        _ = sigterm.recv() => { eprintln!("==> SIGTERM: stopping the node and anvil"); Ok(()) }
        e = node.exited() => Err(e.into()),
        e = anvil.exited() => Err(e.into()),
    };
    procs.stop_all().await;
    if outcome.is_ok() {
        eprintln!("==> devnet stopped");
    }
    outcome
}

async fn start(args: &DevnetArgs, procs: &mut Procs) -> Result<()> {
    check_port_free(args.l1_port, "--l1-port")?;
    check_port_free(args.rpc_port, "--rpc-port")?;
    check_port_free(args.metrics_port, "--metrics-port")?;
    check_port_free(args.dashboard_port, "--dashboard-port")?;
    if args.zk_slots != Some(0) && !(1..=MAX_PROVERS).contains(&args.provers) {
        bail!("--provers must be 1 to {MAX_PROVERS} (anvil accounts {PROVER_ACCOUNT}..={})", PROVER_ACCOUNT + MAX_PROVERS - 1);
    }
    for i in 0..args.provers {
        let port = args.prover_status_port.checked_add(i as u16).ok_or_else(|| anyhow!("--prover-status-port + {i} is past 65535"))?;
        check_port_free(port, "--prover-status-port")?;
    }
    let anvil_bin = ensure_anvil(args)?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let node_dir = data_dir.join("node");
    if node_dir.exists() {
        eprintln!("==> fresh devnet: removing the previous node data in {} (anvil keeps no L1 state between runs)", node_dir.display());
        std::fs::remove_dir_all(&node_dir).with_context(|| format!("removing {}", node_dir.display()))?;
    }
    let _ = std::fs::remove_file(data_dir.join("devnet.json"));

    // L1: a block per transaction while the devnet deploys (a dozen transactions that would
    // each wait for the next block), then blocks at `--l1-block-time`.
    let L1 { url: l1_url, chain_id: l1_chain_id, signers } = start_anvil(args, &anvil_bin, &data_dir, procs).await?;

    // Fee collector key and genesis.
    let (fee_wallet, fee_pubkey) = fee_collector(&data_dir)?;
    let genesis_root = tandem_chain::genesis_root(args.chain_id, args.tree_depth, fee_pubkey).map_err(|e| anyhow!("genesis: {e}"))?;

    let zk_slots = args.zk_slots.unwrap_or(DEFAULT_ZK_SLOTS);
    let prover = tandem_types::L1Address(signers[PROVER_ACCOUNT].address().0 .0);
    let zk = validity_lane(args, &data_dir, &l1_url, &signers[0], zk_slots, fee_pubkey, prover).await?;

    // Contracts.
    eprintln!("==> deploying the rollup and the dev token (owner = anvil account 0, sequencer = anvil account 1)");
    let supply = U256::from(1_000_000u128 * 10u128.pow(18));
    let deployment = tandem_devnet::deploy_devnet_with_verifier(
        &l1_url,
        signers[0].clone(),
        signers[1].address(),
        genesis_root,
        args.challenge_window,
        zk.as_ref().map(|lane| (lane.verifier, zk_slots as u32)),
        zk.as_ref().map(|_| tandem_l1::MarketParams { lock_timeout: args.market_lock_timeout, ..tandem_devnet::devnet_market_params() }),
        zk.as_ref().map(|_| game_params(args, U256::from(SEQUENCER_BOND))),
        &exodus_params(args)?,
        supply,
    )
    .await
    .map_err(|e| anyhow!("deploying the contracts: {e}"))?;
    if let Some(game) = deployment.dispute_game {
        eprintln!("==> the sequencer posts its {} ETH bond in the dispute game", format_units(SEQUENCER_BOND, 18));
        tandem_l1::DisputeClient::new(&l1_url, game, Some(signers[1].clone()))?
            .post_sequencer_bond(U256::from(SEQUENCER_BOND))
            .await
            .map_err(|e| anyhow!("posting the sequencer bond: {e}"))?;
    }
    let owner = RollupClient::new(&l1_url, deployment.rollup, Some(signers[0].clone())).map_err(|e| anyhow!("{e}"))?;
    for signer in &signers[DEV_ACCOUNTS] {
        owner
            .mint_dev_token(deployment.dev_token, signer.address(), U256::from(DEV_TOKENS_PER_ACCOUNT))
            .await
            .map_err(|e| anyhow!("minting dev tokens: {e}"))?;
    }
    if args.l1_block_time > 0 {
        eprintln!("==> deployed: anvil now mines a block every {} s", args.l1_block_time);
        tandem_devnet::anvil::start_interval_mining(&l1_url, args.l1_block_time)
            .await
            .map_err(|e| anyhow!("setting anvil's block time: {e}"))?;
    }

    // Node.
    let rpc_addr: std::net::SocketAddr = ([127, 0, 0, 1], args.rpc_port).into();
    let metrics_addr: std::net::SocketAddr = ([127, 0, 0, 1], args.metrics_port).into();
    let l2_url = format!("http://{rpc_addr}");
    let metrics_url = format!("http://{metrics_addr}/metrics");
    let dashboard_addr: std::net::SocketAddr = ([127, 0, 0, 1], args.dashboard_port).into();
    let dashboard_url = format!("http://{dashboard_addr}/");
    let node_log = data_dir.join("node.log");
    let exe = std::env::current_exe().context("finding this executable to start `tandem node`")?;
    let mut node_cmd = NodeCommand::new(
        &node_dir,
        args.chain_id,
        args.tree_depth,
        fee_pubkey,
        &l1_url,
        deployment.rollup,
        deployment.deploy_block,
        signers[1].clone(),
        rpc_addr,
        metrics_addr,
    );
    node_cmd.dashboard_addr = Some(dashboard_addr);
    node_cmd.block_time_ms = Some(args.block_time_ms);
    node_cmd.l1_confirmations = Some(args.l1_confirmations);
    node_cmd.max_block_ops = Some(args.max_block_ops);
    node_cmd.l1_poll_ms = Some(500);
    node_cmd.zk = zk.as_ref().map(|_| ZkArgs { slots: zk_slots, fast_withdrawal_fee: args.fast_withdrawal_fee, escrow_proof_fees: true });
    node_cmd.forced_inbox = deployment.forced_inbox;
    node_cmd.test_censor_forced_from =
        args.test_censor_forced_from.as_deref().map(crate::wallet::parse_packed_key).transpose().context("--test-censor-forced-from")?;
    eprintln!("==> starting the node on {l2_url}, log {}", node_log.display());
    let _ = std::fs::remove_file(&node_log);
    let node = procs.node.insert(Supervised::spawn("the node", node_cmd.command(&exe), &node_log)?);
    let anvil = procs.anvil.as_mut().expect("started above");
    let l2 = L2Client::new(&l2_url)?;
    wait_ready(&format!("the node on {l2_url} (see {})", node_log.display()), Duration::from_secs(60), &mut [node, anvil], async || {
        l2.chain_params().await.ok()
    })
    .await?;

    // Provers: the market's miners, each with its own key, thread count and status port,
    // started one after the other so that each measures its proving speed alone.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut provers = Vec::new();
    if let Some(lane) = &zk {
        let wei_per_second = match args.prover_wei_per_second {
            Some(w) => w,
            None => {
                let elapsed = match lane.one_proof {
                    Some(elapsed) => {
                        eprintln!("==> pricing a prover-second by the proof that checked the keys");
                        elapsed
                    }
                    None => {
                        eprintln!("==> measuring one proof on {cores} threads to price a prover-second");
                        prove_empty_batch(lane.keys.clone(), fee_pubkey, prover).await.map_err(|e| anyhow!("measuring a proof: {e:#}"))?
                    }
                };
                let w = (args.fast_withdrawal_fee as f64 / 4.0 / elapsed.as_secs_f64().max(0.001)) as u128;
                eprintln!("    one proof took {:.2} s: a prover-second costs {w} wei", elapsed.as_secs_f64());
                w
            }
        };
        provers =
            start_provers(args, &data_dir, &exe, &l1_url, &l2_url, deployment.rollup, &lane.keys_dir, fee_pubkey, wei_per_second, procs)
                .await?;
    }
    // The challenger: its own funded key, the node's RPC for the signed transactions.
    let challenger = match deployment.dispute_game {
        Some(game) => Some(
            start_challenger(
                args,
                &data_dir,
                &exe,
                &l1_url,
                &l2_url,
                (deployment.rollup, deployment.deploy_block),
                game,
                &signers[0],
                fee_pubkey,
                procs,
            )
            .await?,
        ),
        None => None,
    };
    if let (true, Some(c)) = (args.demo_forged_batch, &challenger) {
        let demo = demo::ForgedBatchDemo {
            l1_url: l1_url.clone(),
            l2_url: l2_url.clone(),
            rollup: deployment.rollup,
            deploy_block: deployment.deploy_block,
            game: c.game,
            forger: demo::Forger::Sequencer(signers[1].clone()),
            payer: signers[DEV_ACCOUNTS.end - 1].clone(),
            chain_id: args.chain_id,
            tree_depth: args.tree_depth,
            genesis_fee_pubkey: fee_pubkey,
        };
        demo.spawn();
    }
    let node = procs.node.as_mut().expect("started above");
    let anvil = procs.anvil.as_mut().expect("started above");

    // Summary.
    let w = command_prefix(args);
    let dev: Vec<_> = DEV_ACCOUNTS.map(|i| (i, signers[i].address(), ANVIL_KEYS[i])).collect();
    let (_, addr2, key2) = dev[0];
    let mut examples = vec![
        format!("{w} new"),
        format!("{w} --l1-key {key2} deposit --amount 10 --wait"),
        format!("{w} --l1-key {key2} deposit --amount 100 --token dev --wait"),
        format!("{w} balance"),
        format!("{w} --wallet bob.json new"),
        format!("{w} transfer --to $({w} --wallet bob.json address --packed) --amount 1.5 --wait"),
        format!("{w} --wallet bob.json balance"),
        format!("{w} withdraw --to {addr2} --amount 0.5 --wait"),
        format!("{w} withdraw --to {addr2} --amount 0.5 --fast --wait   # ZK lane: final once proven"),
        format!("{w} status <tx hash printed by withdraw>"),
        format!("{w} --l1-key {key2} claim --batch <batch> --index <index>"),
        restore_example(args, &deployment.rollup, deployment.deploy_block, &fee_pubkey),
    ];
    if let Some(inbox) = deployment.forced_inbox {
        examples.push(format!(
            "{w} --rollup {} --l1-key {key2} force-withdraw --inbox {inbox} --chain-id {} --tree-depth {} --genesis-fee-pubkey {} --deploy-block {} --amount 1   # from L1: the sequencer must include it",
            deployment.rollup,
            args.chain_id,
            args.tree_depth,
            keyfile::hex0x(&fee_pubkey.0),
            deployment.deploy_block
        ));
    }
    if let Some(game) = deployment.dispute_game {
        let mut bond = format!("{} bond", tandem_command());
        if args.l1_port != 8545 {
            bond += &format!(" --l1-rpc http://127.0.0.1:{}", args.l1_port);
        }
        examples.push(format!("{bond} --game {game} status   # the sequencer's bond: what it holds, whether it may commit"));
    }
    let summary = json!({
        "l1Rpc": l1_url,
        "l2Rpc": l2_url,
        "metrics": metrics_url,
        "dashboard": dashboard_url,
        "l1ChainId": l1_chain_id,
        "chainId": args.chain_id,
        "treeDepth": args.tree_depth,
        "rollup": deployment.rollup.to_string(),
        "devToken": deployment.dev_token.to_string(),
        "devTokenId": deployment.dev_token_id,
        "deployBlock": deployment.deploy_block,
        "challengeWindow": args.challenge_window,
        "blockTimeMs": args.block_time_ms,
        "deployer": {"address": signers[0].address().to_string(), "privateKey": ANVIL_KEYS[0]},
        "sequencer": {"address": signers[1].address().to_string(), "privateKey": ANVIL_KEYS[1]},
        "feeCollector": {"publicKey": keyfile::hex0x(&fee_pubkey.0), "wallet": fee_wallet.display().to_string(), "account": 0},
        "devAccounts": dev.iter().map(|(i, a, k)| json!({
            "anvilIndex": i, "address": a.to_string(), "privateKey": k,
            "eth": "10000", "devTokens": format_units(DEV_TOKENS_PER_ACCOUNT, 18),
        })).collect::<Vec<_>>(),
        "dataDir": data_dir.display().to_string(),
        "logs": {"anvil": anvil.log().display().to_string(), "node": node.log().display().to_string()},
        "pids": {"anvil": anvil.pid(), "node": node.pid(), "provers": procs.provers.iter().map(|p| p.pid()).collect::<Vec<_>>(), "devnet": std::process::id()},
        "forcedInbox": deployment.forced_inbox.map(|a| a.to_string()),
        "disputeGame": challenger.as_ref().map(|c| json!({
            "address": c.game.to_string(), "challengeBond": CHALLENGE_BOND.to_string(),
            "sequencerBond": SEQUENCER_BOND.to_string(),
            "responseWindow": args.response_window, "challenger": c.address.to_string(),
            "status": c.status_url, "log": c.log.display().to_string(),
        })),
        "examples": examples,
        "zkLane": zk.as_ref().map(|lane| json!({
            "slots": zk_slots, "verifier": lane.verifier.to_string(), "keys": lane.keys_dir.display().to_string(),
            "fastWithdrawalFee": args.fast_withdrawal_fee.to_string(),
            "market": deployment.market.map(|m| m.to_string()),
            "provers": provers,
            "insecureSetup": true,
        })),
    });
    let json_path = data_dir.join("devnet.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&summary)? + "\n")?;

    let mut text = String::new();
    text += "\nTandem devnet is running\n";
    text += &format!("  L1 RPC       {l1_url}   (anvil, chain id {l1_chain_id})\n");
    text += &format!("  L2 RPC       {l2_url}   (chain id {})\n", args.chain_id);
    text += &format!("  metrics      {metrics_url}\n");
    text += &format!("  dashboard    {dashboard_url}   (open in a browser: blocks, batches, finality; read-only)\n");
    text += &format!("  rollup       {}\n", deployment.rollup);
    if let Some(inbox) = deployment.forced_inbox {
        text += &format!("  forced wd    {inbox}   (forced-withdrawal inbox, 0.001 ETH per request)\n");
    }
    text += &format!("  dev token    {} (L2 token id {}, 18 decimals)\n", deployment.dev_token, deployment.dev_token_id);
    text += &format!(
        "  deploy block {}, challenge window {} s, L2 block time {} ms\n",
        deployment.deploy_block, args.challenge_window, args.block_time_ms
    );
    text += &format!("  sequencer    {} (anvil account 1)\n", signers[1].address());
    if let Some(lane) = &zk {
        text += &format!("  ZK lane      verifier {}, {zk_slots} slots; keys from an INSECURE local setup\n", lane.verifier);
        if let Some(market) = deployment.market {
            text += &format!(
                "  market       {market} (proof jobs escrow each ZK batch's fast-lane fees; {})\n",
                if args.provers_race { "provers race without locks" } else { "provers lock before proving" }
            );
        }
        for p in &provers {
            text += &format!(
                "  prover {}     {} ({} thread{})  status: {} prover status --url {}\n",
                p["index"],
                p["address"].as_str().unwrap_or_default(),
                p["threads"],
                if p["threads"] == 1 { "" } else { "s" },
                exe.display(),
                p["status"].as_str().unwrap_or_default()
            );
        }
    }
    if let Some(c) = &challenger {
        text += &format!(
            "  dispute game {} (challenge bond {} ETH, sequencer bond {} ETH, response window {} s)\n  challenger   {}  status: {} (log {})\n",
            c.game,
            format_units(CHALLENGE_BOND, 18),
            format_units(SEQUENCER_BOND, 18),
            args.response_window,
            c.address,
            c.status_url,
            c.log.display()
        );
    }
    text += &format!("  fee account  #0, key {} ({})\n", keyfile::hex0x(&fee_pubkey.0), fee_wallet.display());
    text += "\nFunded dev accounts (L1; 10000 ETH and 10000 DEV each; well-known anvil keys, devnet only):\n";
    for (i, a, k) in &dev {
        text += &format!("  [{i}] {a}  key {k}\n");
    }
    text += "\nTry (copy-paste):\n";
    for e in &examples {
        text += &format!("  {e}\n");
    }
    text += &format!(
        "\nLogs: {} and {}\nSame as JSON: {}\nCtrl-C stops the node and anvil.\n",
        anvil.log().display(),
        node.log().display(),
        json_path.display()
    );
    println!("{text}");

    Ok(())
}

/// The devnet's challenger, once started.
struct ChallengerInfo {
    address: tandem_l1::Address,
    status_url: String,
    log: PathBuf,
    game: tandem_l1::Address,
}

/// Starts `tandem challenger` against `game` with a fresh key funded with 100 ETH by the
/// deployer, and waits for its status endpoint.
#[allow(clippy::too_many_arguments)]
async fn start_challenger(
    args: &DevnetArgs,
    data_dir: &Path,
    exe: &Path,
    l1_url: &str,
    l2_url: &str,
    (rollup, deploy_block): (tandem_l1::Address, u64),
    game: tandem_l1::Address,
    funder: &PrivateKeySigner,
    fee_pubkey: tandem_types::PackedPubKey,
    procs: &mut Procs,
) -> Result<ChallengerInfo> {
    use alloy::network::TransactionBuilder;
    use alloy::providers::Provider;
    check_port_free(args.challenger_status_port, "--challenger-status-port")?;
    let key = PrivateKeySigner::random();
    let (provider, _) = tandem_l1::connect(l1_url, Some(funder.clone()))?;
    let fund = alloy::rpc::types::TransactionRequest::default().with_to(key.address()).with_value(U256::from(100u128 * 10u128.pow(18)));
    tandem_l1::confirm(provider.send_transaction(fund).await.map_err(|e| anyhow!("funding the challenger: {e}"))?)
        .await
        .map_err(|e| anyhow!("funding the challenger: {e}"))?;
    let status_addr = format!("127.0.0.1:{}", args.challenger_status_port);
    let status_url = format!("http://{status_addr}");
    let log = data_dir.join("challenger.log");
    let _ = std::fs::remove_file(&log);
    // A fresh L1 each run: the previous run's replica belongs to another chain.
    let challenger_dir = data_dir.join("challenger");
    let _ = std::fs::remove_dir_all(&challenger_dir);
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("challenger")
        .args(["--l1-rpc", l1_url])
        .args(["--l2-rpc", l2_url])
        .args(["--rollup", &rollup.to_string()])
        .args(["--deploy-block", &deploy_block.to_string()])
        .args(["--chain-id", &args.chain_id.to_string()])
        .args(["--tree-depth", &args.tree_depth.to_string()])
        .args(["--genesis-fee-pubkey", &keyfile::hex0x(&fee_pubkey.0)])
        .args(["--data-timeout", "5"])
        .arg("--data-dir")
        .arg(&challenger_dir)
        .args(["--status-addr", &status_addr])
        .env("TANDEM_CHALLENGER_KEY", format!("0x{}", alloy::hex::encode(key.to_bytes())));
    eprintln!("==> starting the challenger ({}), log {}", key.address(), log.display());
    let challenger = procs.challenger.insert(Supervised::spawn("the challenger", cmd, &log)?.with_grace(Duration::from_secs(5)));
    let http = reqwest::Client::new();
    let status = format!("{status_url}/status");
    wait_ready(&format!("the challenger (see {})", log.display()), Duration::from_secs(60), &mut [challenger], async || {
        http.get(&status).send().await.ok().filter(|r| r.status().is_success())
    })
    .await?;
    Ok(ChallengerInfo { address: key.address(), status_url, log, game })
}

/// The devnet's dispute game: its challenge bond, `--response-window`, its ZK proof
/// deadline, and `sequencer_bond` (0 for the staked set, whose stake is its bond).
fn game_params(args: &DevnetArgs, sequencer_bond: U256) -> tandem_l1::GameParams {
    tandem_l1::GameParams {
        challenge_bond: U256::from(CHALLENGE_BOND),
        response_window: args.response_window,
        zk_proof_deadline: ZK_PROOF_DEADLINE,
        sequencer_bond,
    }
}

/// A devnet's validity lane: its keys and where they are, its verifier on L1, and one proof's
/// time when starting measured one (checking cached keys).
struct ValidityLane {
    keys_dir: PathBuf,
    keys: Arc<ProvingKeys>,
    verifier: tandem_l1::Address,
    one_proof: Option<Duration>,
}

/// Proves an empty batch on the genesis state of `keys`' chain, on a blocking thread, and
/// checks it against the keys' own verifying key (as every proof is): the time it took, or
/// why it failed (a panic included).
async fn prove_empty_batch(
    keys: Arc<ProvingKeys>,
    fee_pubkey: tandem_types::PackedPubKey,
    prover: tandem_types::L1Address,
) -> Result<Duration> {
    let genesis = tandem_chain::genesis_ledger(keys.ledger_config(), fee_pubkey).map_err(|e| anyhow!("genesis: {e}"))?;
    let proved = tokio::task::spawn_blocking(move || tandem_prover::measure_proving(&keys, &genesis, prover))
        .await
        .map_err(|e| anyhow!("proving panicked: {e}"))?;
    proved.map_err(|e| anyhow!("{e}"))
}

/// Cached `keys` fit this devnet when they were made for its slots, depth and chain, and a
/// proof made with them verifies (a circuit changed since the setup makes one that does not,
/// even at the same shape): that proof's time, or why not.
async fn check_cached_keys(
    keys: &Arc<ProvingKeys>,
    expected: (usize, u8, u64),
    fee_pubkey: tandem_types::PackedPubKey,
    prover: tandem_types::L1Address,
) -> Result<Duration> {
    let made_for = (keys.slots, keys.depth, keys.chain_id);
    if made_for != expected {
        bail!("made for S = {}, D = {}, chain {}", made_for.0, made_for.1, made_for.2);
    }
    prove_empty_batch(keys.clone(), fee_pubkey, prover).await.map_err(|e| anyhow!("a proof made with them fails: {e:#}"))
}

/// The validity lane of a devnet with `zk_slots` op slots (0: none): keys from an insecure
/// local setup (cached in the data directory, and checked by one proof before reuse), the
/// verifier rendered from them, compiled with the npm solc and deployed by `deployer`, before
/// the rollup, which fixes its verifier at construction (no owner can swap it later).
async fn validity_lane(
    args: &DevnetArgs,
    data_dir: &Path,
    l1_url: &str,
    deployer: &PrivateKeySigner,
    zk_slots: usize,
    fee_pubkey: tandem_types::PackedPubKey,
    prover: tandem_types::L1Address,
) -> Result<Option<ValidityLane>> {
    if zk_slots == 0 {
        return Ok(None);
    }
    let keys_dir = data_dir.join(format!("keys-s{zk_slots}-d{}-c{}", args.tree_depth, args.chain_id));
    let cached = match ProvingKeys::load(&keys_dir) {
        Ok(keys) => {
            eprintln!("==> validity lane: checking the keys in {} with one proof", keys_dir.display());
            let keys = Arc::new(keys);
            match check_cached_keys(&keys, (zk_slots, args.tree_depth, args.chain_id), fee_pubkey, prover).await {
                Ok(elapsed) => {
                    eprintln!("    they fit (one proof in {:.2} s): using them", elapsed.as_secs_f64());
                    Some((keys, elapsed))
                }
                Err(why) => {
                    eprintln!("    they do not fit this build's circuit ({why:#}): making new ones");
                    std::fs::remove_dir_all(&keys_dir).with_context(|| format!("removing {}", keys_dir.display()))?;
                    None
                }
            }
        }
        Err(_) => None,
    };
    let (keys, one_proof) = match cached {
        Some((keys, elapsed)) => (keys, Some(elapsed)),
        None => {
            eprintln!(
                "==> validity lane: INSECURE local trusted setup for S = {}, D = {} (devnet only), `tandem setup` log {}",
                zk_slots,
                args.tree_depth,
                data_dir.join("setup.log").display()
            );
            let started = Instant::now();
            let (out, err) = log_file(&data_dir.join("setup.log"))?;
            let exe = std::env::current_exe().context("finding this executable to run `tandem setup`")?;
            let status = Command::new(&exe)
                .arg("setup")
                .args(["--slots", &zk_slots.to_string()])
                .args(["--depth", &args.tree_depth.to_string()])
                .args(["--chain-id", &args.chain_id.to_string()])
                .args(["--seed", &DEVNET_SETUP_SEED.to_string()])
                .arg("--out")
                .arg(&keys_dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .status()
                .await
                .context("running `tandem setup`")?;
            if !status.success() {
                bail!("`tandem setup` failed ({status}); see {}", data_dir.join("setup.log").display());
            }
            let keys = ProvingKeys::load(&keys_dir).map_err(|e| anyhow!("loading the new keys: {e}"))?;
            eprintln!("    done in {:.1} s, keys in {}", started.elapsed().as_secs_f64(), keys_dir.display());
            (Arc::new(keys), None)
        }
    };
    let source = tandem_circuit::prover::solidity_verifier(keys.vk());
    std::fs::write(keys_dir.join("Verifier.sol"), &source)?;
    let code =
        tandem_devnet::solc::compile(&find_repo_root(args), &source, "Verifier").map_err(|e| anyhow!("compiling the verifier: {e}"))?;
    let verifier =
        tandem_devnet::deploy_bytecode(l1_url, deployer.clone(), code.into()).await.map_err(|e| anyhow!("deploying the verifier: {e}"))?;
    Ok(Some(ValidityLane { keys_dir, keys, verifier, one_proof }))
}

/// Starts `--provers` provers (anvil accounts from [`PROVER_ACCOUNT`]; prover i on half the
/// threads of prover i - 1) against `rollup`, reading blocks from `l2_url`, each pricing a
/// second of proving at `wei_per_second`; waits for each one's status endpoint (it measures
/// its speed alone first). Returns their descriptions for devnet.json.
#[allow(clippy::too_many_arguments)]
async fn start_provers(
    args: &DevnetArgs,
    data_dir: &Path,
    exe: &Path,
    l1_url: &str,
    l2_url: &str,
    rollup: tandem_l1::Address,
    keys_dir: &Path,
    fee_pubkey: tandem_types::PackedPubKey,
    wei_per_second: u128,
    procs: &mut Procs,
) -> Result<Vec<serde_json::Value>> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut provers = Vec::new();
    let http = reqwest::Client::new();
    for i in 0..args.provers {
        let account = PROVER_ACCOUNT + i;
        let threads = (cores >> i).max(1);
        let status_url = format!("http://127.0.0.1:{}", args.prover_status_port + i as u16);
        let prover_log = data_dir.join(format!("prover-{i}.log"));
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("prover")
            .arg("--keys")
            .arg(keys_dir)
            .args(["--l2-rpc", l2_url])
            .args(["--l1-rpc", l1_url])
            .args(["--rollup", &rollup.to_string()])
            .args(["--prover-key", ANVIL_KEYS[account]])
            .args(["--chain-id", &args.chain_id.to_string()])
            .args(["--tree-depth", &args.tree_depth.to_string()])
            .args(["--genesis-fee-pubkey", &keyfile::hex0x(&fee_pubkey.0)])
            .args(["--status-addr", &format!("127.0.0.1:{}", args.prover_status_port + i as u16)])
            .args(if args.prove_optimistic { vec!["--prove-optimistic"] } else { vec![] })
            .args(if args.provers_race { vec!["--no-lock"] } else { vec![] })
            .args(["--wei-per-second", &wei_per_second.to_string()])
            .env("RAYON_NUM_THREADS", threads.to_string());
        eprintln!(
            "==> starting prover {i} (anvil account {account}, {threads} thread{}), log {}",
            if threads == 1 { "" } else { "s" },
            prover_log.display()
        );
        let _ = std::fs::remove_file(&prover_log);
        procs.provers.push(Supervised::spawn(format!("prover {i}"), cmd, &prover_log)?.with_grace(Duration::from_secs(5)));
        let prover = procs.provers.last_mut().expect("pushed above");
        let status = format!("{status_url}/status");
        wait_ready(
            &format!("prover {i} measuring its speed (see {})", prover_log.display()),
            Duration::from_secs(300),
            &mut [prover],
            async || http.get(&status).send().await.ok().filter(|r| r.status().is_success()),
        )
        .await?;
        provers.push(json!({
            "index": i, "address": PrivateKeySigner::from_str(ANVIL_KEYS[account]).map(|k| k.address().to_string()).unwrap_or_default(), "privateKey": ANVIL_KEYS[account],
            "threads": threads, "status": status_url, "log": prover_log.display().to_string(),
        }));
    }
    Ok(provers)
}

/// The running L1.
struct L1 {
    url: String,
    chain_id: u64,
    /// anvil's default accounts, in [`ANVIL_KEYS`] order.
    signers: Vec<PrivateKeySigner>,
}

/// Starts anvil on `--l1-port`, mining one block per transaction, and waits until it answers
/// with the default dev accounts.
async fn start_anvil(args: &DevnetArgs, anvil_bin: &Path, data_dir: &Path, procs: &mut Procs) -> Result<L1> {
    let url = format!("http://127.0.0.1:{}", args.l1_port);
    let anvil_log = data_dir.join("anvil.log");
    let _ = std::fs::remove_file(&anvil_log);
    eprintln!("==> starting anvil on {url} (a block per transaction, prague), log {}", anvil_log.display());
    let cmd = anvil_command(anvil_bin, args.l1_port);
    let anvil = procs.anvil.insert(Supervised::spawn("anvil", cmd, &anvil_log)?.with_grace(Duration::from_secs(5)));
    let signers: Vec<PrivateKeySigner> = ANVIL_KEYS.iter().map(|k| PrivateKeySigner::from_str(k).expect("valid key")).collect();
    let (chain_id, accounts) = wait_for_anvil(&url, anvil, Duration::from_secs(30)).await?;
    if accounts.first() != Some(&signers[0].address()) {
        bail!("anvil's first account is not the default dev account: was it started with another mnemonic?");
    }
    Ok(L1 { url, chain_id, signers })
}

/// The fee collector's L2 wallet in the devnet directory (created on first use) and its
/// packed public key (owner of account 0 at genesis).
fn fee_collector(data_dir: &Path) -> Result<(PathBuf, tandem_types::PackedPubKey)> {
    let fee_wallet = data_dir.join("fee-collector.json");
    let fee_key = if fee_wallet.exists() {
        keyfile::load(&fee_wallet)?
    } else {
        let key = PrivateKey::generate(&mut rand::rngs::OsRng);
        keyfile::create(&fee_wallet, &key)?;
        key
    };
    Ok((fee_wallet, fee_key.public_key().pack()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cached keys are reused only when they fit: made for the devnet's slots, depth and
    /// chain, and making a proof that verifies. Keys of another circuit carrying the expected
    /// labels (what a changed circuit leaves in a data directory) are caught by that proof.
    #[tokio::test]
    async fn cached_keys_are_reused_only_when_a_proof_made_with_them_verifies() {
        let fee = PrivateKey::from_seed([3; 32]).public_key().pack();
        let prover = tandem_types::L1Address([9; 20]);
        let keys = Arc::new(ProvingKeys::setup_insecure(1, 2, 7, 1).expect("setup"));
        let elapsed = check_cached_keys(&keys, (1, 2, 7), fee, prover).await.expect("keys of this circuit fit");
        assert!(elapsed > Duration::ZERO);
        let other_chain = check_cached_keys(&keys, (1, 2, 8), fee, prover).await.expect_err("keys of chain 7 for chain 8");
        assert_eq!(other_chain.to_string(), "made for S = 1, D = 2, chain 7");
        let other_slots = check_cached_keys(&keys, (2, 2, 7), fee, prover).await.expect_err("keys of S = 1 for S = 2");
        assert_eq!(other_slots.to_string(), "made for S = 1, D = 2, chain 7");

        let mut stale = ProvingKeys::setup_insecure(1, 3, 7, 1).expect("setup");
        stale.depth = 2;
        let stale = check_cached_keys(&Arc::new(stale), (1, 2, 7), fee, prover).await.expect_err("keys of the depth-3 circuit");
        assert!(stale.to_string().starts_with("a proof made with them fails: "), "{stale}");
    }
}
