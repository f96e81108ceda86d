//! `tandem devnet --sequencers N` (N >= 2): a staked sequencer set on anvil. The devnet
//! deploys `SequencerStaking` + `StakedRollup`, stakes N members with different stakes
//! (member i: (N - i) × 100 tokens), each with its own L1 account, signing key, data
//! directory and ports, moves L1 to the next epoch so that its set is materialized, and runs
//! the members as `tandem node --staking …` children. While it runs it prints who proposed
//! each L2 block (the blocks' consensus info, from the members' RPC) and who posted and signed
//! each batch on L1 (`BatchSigned` events and their transactions' senders).
//!
//! With `--zk-slots S` (S > 0) the rollup also gets the validity lane's verifier and the
//! dispute game (SPEC §17): the devnet runs provers, which answer challenges of the set's
//! batches, and a challenger, which re-executes every batch with the signed transactions
//! from member 0 and challenges what is wrong. A faulty batch's signers then lose their
//! whole stake. Without it (the default) nothing can challenge a batch: the set is trusted.

use super::{
    check_port_free, command_prefix, ensure_anvil, fee_collector, start_anvil, tandem_command, DevnetArgs, Procs, ANVIL_KEYS, DEV_ACCOUNTS,
    DEV_TOKENS_PER_ACCOUNT, L1,
};
use crate::amount::format_units;
use crate::keyfile;
use crate::rpc::L2Client;
use alloy::providers::{DynProvider, Provider};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tandem_chain::BlockRecord;
use tandem_devnet::{
    bootstrap_staked_set, wait_ready, FaultProofs, MemberArgs, NodeCommand, StakedDeployment, StakedMember, StakedParams, StakedSetSpec,
    Supervised,
};
use tandem_l1::bindings::staked::StakedRollup;
use tandem_l1::bindings::DevToken;
use tandem_l1::{ActiveSet, Address, PrivateKeySigner, RollupClient, StakingClient, U256};

/// Most members one devnet runs.
pub const MAX_SEQUENCERS: usize = 16;
/// Member i stakes (N - i) × this many tokens (N = 4: 400, 300, 200, 100).
pub const STAKE_STEP_TOKENS: u64 = 100;
/// Smallest stake the devnet's staking contract accepts, in tokens.
pub const MIN_STAKE_TOKENS: u64 = 10;
/// Largest stake of one staker, in tokens.
pub const MAX_STAKE_TOKENS: u64 = 10_000;
/// Room in the active set beyond the devnet's own members (for stakers who join).
pub const EXTRA_SEATS: usize = 4;
/// Share of a staker's bonded stake slashed per offence (10%).
pub const SLASH_BPS: u16 = 1_000;
/// Share of a slash paid to the reporter (30%).
pub const REPORTER_BPS: u16 = 3_000;
/// Reward pool the devnet funds for the genesis epoch, in tokens.
pub const REWARD_POOL_TOKENS: u64 = 1_000;
/// Staking tokens minted to the deployer.
const TOKEN_SUPPLY_TOKENS: u64 = 1_000_000;
/// ETH (wei) each member's L1 account gets for its transactions.
const MEMBER_ETH_WEI: u128 = 10_000 * 10u128.pow(18);
/// The staking token's decimals (`deploy_staked_devnet` deploys an 18-decimal DevToken).
const DECIMALS: u32 = 18;
/// How long the members have to answer and decide their first consensus height.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u128.pow(DECIMALS))
}

fn derived_key(label: &str) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&alloy::primitives::keccak256(label)).expect("keccak256 of the devnet labels is a valid secp256k1 scalar")
}

/// Member `i`'s L1 account (its staker; pays for its batch commits): an INSECURE devnet key
/// derived from the public label `tandem.devnet.member.<i>.l1`.
pub fn member_l1_key(i: usize) -> PrivateKeySigner {
    derived_key(&format!("tandem.devnet.member.{i}.l1"))
}

/// Member `i`'s consensus and batch signing key: an INSECURE devnet key derived from the public
/// label `tandem.devnet.member.<i>.signing`.
pub fn member_signing_key(i: usize) -> PrivateKeySigner {
    derived_key(&format!("tandem.devnet.member.{i}.signing"))
}

fn key_hex(signer: &PrivateKeySigner) -> String {
    keyfile::hex0x(signer.to_bytes().as_slice())
}

/// `value` (18 decimals) in whole tokens.
fn show_tokens(value: U256, symbol: &str) -> String {
    match u128::try_from(value) {
        Ok(v) => format!("{} {symbol}", format_units(v, DECIMALS)),
        Err(_) => format!("{value} base units of {symbol}"),
    }
}

fn plural(n: u128, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// One member of the devnet's set.
struct Member {
    index: usize,
    stake: U256,
    l1: PrivateKeySigner,
    signing: PrivateKeySigner,
    rpc_port: u16,
    metrics_port: u16,
    dashboard_port: u16,
    p2p_port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl Member {
    fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }

    fn dashboard_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.dashboard_port)
    }

    fn p2p(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)
    }

    /// What it registers on L1 for the other members.
    fn network_address(&self) -> String {
        format!("p2p={};rpc={}", self.p2p(), self.rpc_url())
    }
}

/// Port `base + i`, or an error naming the flag.
fn port(base: u16, i: usize, flag: &str) -> Result<u16> {
    u16::try_from(i)
        .ok()
        .and_then(|i| base.checked_add(i))
        .ok_or_else(|| anyhow!("{flag} {base} + {i} is beyond port 65535: choose a lower {flag}"))
}

/// The members' plan: stakes, keys, ports and paths; checks that every port is distinct and free.
fn plan(args: &DevnetArgs, data_dir: &Path) -> Result<Vec<Member>> {
    let n = args.sequencers;
    let mut members = Vec::with_capacity(n);
    let mut used = HashMap::from([(args.l1_port, "--l1-port".to_string())]);
    for i in 0..n {
        let m = Member {
            index: i,
            stake: tokens(STAKE_STEP_TOKENS * (n - i) as u64),
            l1: member_l1_key(i),
            signing: member_signing_key(i),
            rpc_port: port(args.rpc_port, i, "--rpc-port")?,
            metrics_port: port(args.metrics_port, i, "--metrics-port")?,
            dashboard_port: port(args.dashboard_port, i, "--dashboard-port")?,
            p2p_port: port(args.p2p_port, i, "--p2p-port")?,
            dir: data_dir.join(format!("member{i}")),
            log: data_dir.join(format!("member{i}.log")),
        };
        for (p, flag) in [
            (m.rpc_port, "--rpc-port"),
            (m.metrics_port, "--metrics-port"),
            (m.dashboard_port, "--dashboard-port"),
            (m.p2p_port, "--p2p-port"),
        ] {
            let what = format!("{flag} + {i} (member {i})");
            if let Some(other) = used.insert(p, what.clone()) {
                bail!("port {p} would serve both {other} and {what}: the port ranges overlap, move one of the flags");
            }
            check_port_free(p, flag)?;
        }
        members.push(m);
    }
    Ok(members)
}

/// Runs the staked devnet until Ctrl-C / SIGTERM (exit 0) or until a child dies (error).
pub async fn run(args: DevnetArgs) -> Result<()> {
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
    let mut follower = match started {
        None => {
            eprintln!("==> signal during startup: stopping");
            procs.stop_all().await;
            return Ok(());
        }
        Some(Err(e)) => {
            procs.stop_all().await;
            return Err(e);
        }
        Some(Ok(follower)) => follower,
    };
    let outcome = tokio::select! {
        r = follower.follow(&mut procs) => r,
        _ = sigint.recv() => { eprintln!("==> Ctrl-C: stopping the members and anvil"); Ok(()) }
        _ = sigterm.recv() => { eprintln!("==> SIGTERM: stopping the members and anvil"); Ok(()) }
    };
    procs.stop_all().await;
    if outcome.is_ok() {
        eprintln!("==> devnet stopped");
    }
    outcome
}

fn check_args(args: &DevnetArgs) -> Result<()> {
    let n = args.sequencers;
    if n > MAX_SEQUENCERS {
        bail!("--sequencers {n}: a devnet runs at most {MAX_SEQUENCERS} members");
    }
    if args.prove_optimistic {
        bail!("the staked devnet (--sequencers {n}) has no ZK lane to prove into: drop --prove-optimistic");
    }
    if args.demo_forged_batch && args.zk_slots.unwrap_or(0) == 0 {
        bail!("--demo-forged-batch with --sequencers {n} needs the dispute game: add --zk-slots 2");
    }
    if args.l1_block_time == 0 {
        bail!("--sequencers {n} needs L1 time to pass for epochs and challenge windows: --l1-block-time must be at least 1");
    }
    if args.epoch_length < 10 {
        bail!("--epoch-length {} is too short: epochs of at least 10 s leave the members time to materialize each set", args.epoch_length);
    }
    Ok(())
}

/// Where the members find the chain.
struct Chain {
    l1_url: String,
    deployment: StakedDeployment,
    fee_pubkey: tandem_types::PackedPubKey,
    genesis_epoch: u64,
}

fn spawn_member(args: &DevnetArgs, exe: &Path, chain: &Chain, m: &Member) -> Result<Supervised> {
    let mut node = NodeCommand::new(
        &m.dir,
        args.chain_id,
        args.tree_depth,
        chain.fee_pubkey,
        &chain.l1_url,
        chain.deployment.rollup,
        chain.deployment.deploy_block,
        m.l1.clone(),
        ([127, 0, 0, 1], m.rpc_port).into(),
        ([127, 0, 0, 1], m.metrics_port).into(),
    );
    node.dashboard_addr = Some(([127, 0, 0, 1], m.dashboard_port).into());
    node.block_time_ms = Some(args.block_time_ms);
    node.forced_inbox = chain.deployment.forced_inbox;
    node.l1_confirmations = Some(args.l1_confirmations);
    node.max_block_ops = Some(args.max_block_ops);
    node.l1_poll_ms = Some(500);
    node.member = Some(MemberArgs {
        staking: chain.deployment.staking,
        signing_key: m.signing.clone(),
        p2p_port: m.p2p_port,
        genesis_epoch: chain.genesis_epoch,
        post_timeout_ms: None,
        propose_timeout_ms: None,
        byzantine_equivocate: false,
        withhold_batches: false,
    });
    let _ = std::fs::remove_file(&m.log);
    Ok(Supervised::spawn(format!("member {}", m.index), node.command(exe), &m.log)?)
}

async fn start(args: &DevnetArgs, procs: &mut Procs) -> Result<Follower> {
    check_args(args)?;
    let n = args.sequencers;
    check_port_free(args.l1_port, "--l1-port")?;
    let anvil_bin = ensure_anvil(args)?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let members = plan(args, &data_dir)?;
    for m in &members {
        if m.dir.exists() {
            eprintln!(
                "==> fresh devnet: removing the previous data of member {} in {} (anvil keeps no L1 state between runs)",
                m.index,
                m.dir.display()
            );
            std::fs::remove_dir_all(&m.dir).with_context(|| format!("removing {}", m.dir.display()))?;
        }
    }
    let _ = std::fs::remove_file(data_dir.join("devnet.json"));

    // L1: one block per transaction while setting up, then a block every --l1-block-time.
    let L1 { url: l1_url, chain_id: l1_chain_id, signers } = start_anvil(args, &anvil_bin, &data_dir, procs).await?;
    let l1_err = |e: tandem_l1::L1Error| anyhow!("{e}");
    let (anvil, _) = tandem_l1::connect(&l1_url, None).map_err(l1_err)?;
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: tandem_devnet::DevnetError| anyhow!("{what}: {e}")
    };

    let (fee_wallet, fee_pubkey) = fee_collector(&data_dir)?;
    let genesis_root = tandem_chain::genesis_root(args.chain_id, args.tree_depth, fee_pubkey).map_err(|e| anyhow!("genesis: {e}"))?;

    // Contracts.
    let deployer = signers[0].clone();
    let zk_slots = args.zk_slots.unwrap_or(0);
    let prover = tandem_types::L1Address(signers[super::PROVER_ACCOUNT].address().0 .0);
    let zk = super::validity_lane(args, &data_dir, &l1_url, &deployer, zk_slots, fee_pubkey, prover).await?;
    let fault_proofs = zk.as_ref().map(|lane| FaultProofs {
        verifier: lane.verifier,
        zk_slots: zk_slots as u32,
        // The staked set's bond is its stake.
        game: super::game_params(args, U256::ZERO),
    });
    let max_active = n + EXTRA_SEATS;
    let params = StakedParams {
        treasury: deployer.address(),
        min_stake: tokens(MIN_STAKE_TOKENS),
        max_stake: tokens(MAX_STAKE_TOKENS),
        epoch_length: args.epoch_length,
        // Signers stay slashable until a challenge of their last batch is settled.
        unbonding_delay: args.epoch_length + args.challenge_window + if zk.is_some() { args.response_window } else { 0 },
        max_active: max_active as u16,
        max_stakers: (max_active + EXTRA_SEATS) as u32,
        slash_bps: SLASH_BPS,
        reporter_bps: REPORTER_BPS,
        challenge_window: args.challenge_window,
        // No per-batch emission: the devnet funds the genesis epoch's pool once.
        emission_per_batch: U256::ZERO,
    };
    eprintln!(
        "==> deploying SequencerStaking, StakedRollup and the staking token (owner and treasury = anvil account 0), staking {n} members, moving L1 to the next epoch and materializing its set"
    );
    let stakers: Vec<StakedMember> = members
        .iter()
        .map(|m| StakedMember { l1: m.l1.clone(), signing_key: m.signing.address(), stake: m.stake, network_address: m.network_address() })
        .collect();
    let exodus = super::exodus_params(args)?;
    let spec = StakedSetSpec {
        deployer: deployer.clone(),
        genesis_root,
        params: &params,
        exodus: &exodus,
        token_supply: tokens(TOKEN_SUPPLY_TOKENS),
        members: &stakers,
        member_eth: Some(U256::from(MEMBER_ETH_WEI)),
        fault_proofs,
    };
    let bootstrapped = bootstrap_staked_set(&l1_url, &spec).await.map_err(fail("bootstrapping the staked set"))?;
    let (deployment, genesis_epoch) = (bootstrapped.deployment, bootstrapped.genesis_epoch);
    let symbol = DevToken::new(deployment.token, anvil.clone())
        .symbol()
        .call()
        .await
        .map_err(|e| anyhow!("reading the staking token's symbol: {e}"))?;
    for m in &members {
        eprintln!(
            "    member {}: staked {} from {} (signing key {})",
            m.index,
            show_tokens(m.stake, &symbol),
            m.l1.address(),
            m.signing.address()
        );
    }
    eprintln!("    epoch {genesis_epoch}'s set is the members");
    // The genesis epoch's rewards first, while L1 time is at its start.
    let staking = StakingClient::new(&l1_url, deployment.staking, Some(deployer.clone())).map_err(l1_err)?;
    let reward_epoch = staking.fund_rewards(tokens(REWARD_POOL_TOKENS)).await.map_err(|e| anyhow!("funding the epoch's rewards: {e}"))?;
    let owner = RollupClient::new(&l1_url, deployment.rollup, Some(deployer.clone())).map_err(l1_err)?;
    for signer in &signers[DEV_ACCOUNTS] {
        owner
            .mint_dev_token(deployment.token, signer.address(), U256::from(DEV_TOKENS_PER_ACCOUNT))
            .await
            .map_err(|e| anyhow!("minting {symbol} for the dev accounts: {e}"))?;
    }
    let set = staking.active_set(genesis_epoch).await.map_err(l1_err)?;
    if set.members.len() != n {
        bail!("epoch {genesis_epoch}'s set has {} members, not {n}", set.members.len());
    }
    tandem_devnet::anvil::start_interval_mining(&l1_url, args.l1_block_time).await.map_err(fail("starting L1 interval mining"))?;

    // Member nodes.
    let chain = Chain { l1_url: l1_url.clone(), deployment: deployment.clone(), fee_pubkey, genesis_epoch };
    let exe = std::env::current_exe().context("finding this executable to start `tandem node`")?;
    for m in &members {
        eprintln!("==> starting member {} on {} (P2P {}), log {}", m.index, m.rpc_url(), m.p2p(), m.log.display());
        procs.members.push(spawn_member(args, &exe, &chain, m)?);
    }
    let clients: Vec<L2Client> = members.iter().map(|m| L2Client::new(&m.rpc_url())).collect::<Result<_>>()?;
    wait_ready_members(procs, &clients, &members).await?;
    // Fault proofs: provers to answer challenges and a challenger, both reading member 0.
    if let (Some(lane), Some(game)) = (&zk, deployment.dispute_game) {
        let l2_url = members[0].rpc_url();
        super::start_provers(args, &data_dir, &exe, &l1_url, &l2_url, deployment.rollup, &lane.keys_dir, fee_pubkey, 0, procs).await?;
        let c = super::start_challenger(
            args,
            &data_dir,
            &exe,
            &l1_url,
            &l2_url,
            (deployment.rollup, deployment.deploy_block),
            game,
            &deployer,
            fee_pubkey,
            procs,
        )
        .await?;
        eprintln!(
            "==> fault proofs: dispute game {game} (bond {} ETH, response window {} s); challenger {} (status {}/status, log {})",
            format_units(super::CHALLENGE_BOND, 18),
            args.response_window,
            c.address,
            c.status_url,
            c.log.display()
        );
        if args.demo_forged_batch {
            colluding_set_demo(args, &l1_url, &deployment, game, &members, &deployer, &signers, fee_pubkey, &symbol).spawn();
        }
    }

    let follower = Follower {
        clients,
        by_signing_key: members.iter().map(|m| (m.signing.address(), m.index)).collect(),
        by_l1: members.iter().map(|m| (m.l1.address(), m.index)).collect(),
        staking: StakingClient::new(&l1_url, deployment.staking, None).map_err(l1_err)?,
        provider: anvil,
        rollup: deployment.rollup,
        symbol: symbol.clone(),
        sets: HashMap::from([(genesis_epoch, set)]),
        next_block: 1,
        l1_scanned: deployment.deploy_block,
    };
    let info = Summary {
        args,
        l1_url: &l1_url,
        l1_chain_id,
        signers: &signers,
        chain: &chain,
        members: &members,
        procs,
        symbol: &symbol,
        params: &params,
        reward_epoch,
        fee_wallet: &fee_wallet,
        data_dir: &data_dir,
    };
    info.print()?;
    Ok(follower)
}

/// The forged-batch demo with a colluding set: the members with the largest stakes, as few
/// as hold more than 2/3 of it, sign the forgery; the victim's balance is read from the last
/// member (honest, it stays in the set).
#[allow(clippy::too_many_arguments)]
fn colluding_set_demo(
    args: &DevnetArgs,
    l1_url: &str,
    deployment: &StakedDeployment,
    game: Address,
    members: &[Member],
    deployer: &PrivateKeySigner,
    signers: &[PrivateKeySigner],
    fee_pubkey: tandem_types::PackedPubKey,
    symbol: &str,
) -> super::demo::ForgedBatchDemo {
    let total: U256 = members.iter().map(|m| m.stake).fold(U256::ZERO, |a, b| a + b);
    let mut colluders: Vec<&Member> = Vec::new();
    let mut signed = U256::ZERO;
    for m in members {
        if signed * U256::from(3) > total * U256::from(2) {
            break;
        }
        signed += m.stake;
        colluders.push(m);
    }
    super::demo::ForgedBatchDemo {
        l1_url: l1_url.to_string(),
        l2_url: members.last().map(|m| m.rpc_url()).unwrap_or_default(),
        rollup: deployment.rollup,
        deploy_block: deployment.deploy_block,
        game,
        forger: super::demo::Forger::Colluders {
            members: colluders.iter().map(|m| m.index).collect(),
            signing_keys: colluders.iter().map(|m| m.signing.clone()).collect(),
            stakers: colluders.iter().map(|m| m.l1.address()).collect(),
            staking: deployment.staking,
            submitter: deployer.clone(),
            symbol: symbol.to_string(),
        },
        payer: signers[DEV_ACCOUNTS.end - 1].clone(),
        chain_id: args.chain_id,
        tree_depth: args.tree_depth,
        genesis_fee_pubkey: fee_pubkey,
    }
}

/// Waits until every member answers and has decided consensus height 1 (so P2P works).
async fn wait_ready_members(procs: &mut Procs, clients: &[L2Client], members: &[Member]) -> Result<()> {
    let logs: Vec<String> = members.iter().map(|m| m.log.display().to_string()).collect();
    let what = format!("{} members deciding a first consensus height (see their logs: {})", clients.len(), logs.join(", "));
    let mut watched: Vec<&mut Supervised> = procs.members.iter_mut().chain(procs.anvil.as_mut()).collect();
    wait_ready(&what, READY_TIMEOUT, &mut watched, async || {
        for c in clients {
            let set = c.sequencer_set().await.ok()?;
            if set.consensus_height < 1 {
                return None;
            }
        }
        Some(())
    })
    .await?;
    Ok(())
}

/// What the devnet prints and writes to `devnet.json` once it runs.
struct Summary<'a> {
    args: &'a DevnetArgs,
    l1_url: &'a str,
    l1_chain_id: u64,
    signers: &'a [PrivateKeySigner],
    chain: &'a Chain,
    members: &'a [Member],
    procs: &'a Procs,
    symbol: &'a str,
    params: &'a StakedParams,
    reward_epoch: u64,
    fee_wallet: &'a Path,
    data_dir: &'a Path,
}

impl Summary<'_> {
    fn print(&self) -> Result<()> {
        let Self { args, l1_url, l1_chain_id, signers, chain, members, procs, symbol, params, reward_epoch, fee_wallet, data_dir } = self;
        let d = &chain.deployment;
        let n = members.len();
        let member0 = &members[0];
        let show = |v: U256| show_tokens(v, symbol);
        let total = members.iter().fold(U256::ZERO, |a, m| a + m.stake);

        let w = command_prefix(args);
        let dev: Vec<_> = DEV_ACCOUNTS.map(|i| (i, signers[i].address(), ANVIL_KEYS[i])).collect();
        let (_, addr2, key2) = dev[0];
        let examples = vec![
            format!("{w} new"),
            format!("{w} --l1-key {key2} deposit --amount 10 --wait"),
            format!("{w} --l1-key {key2} deposit --amount 100 --token dev --wait"),
            format!("{w} balance"),
            format!("{w} --wallet bob.json new"),
            format!("{w} transfer --to $({w} --wallet bob.json address --packed) --amount 1.5 --wait"),
            format!("{w} --wallet bob.json balance"),
            format!("{w} withdraw --to {addr2} --amount 0.5 --wait"),
            format!("{w} status <tx hash printed by withdraw>"),
            format!("{w} --l1-key {key2} claim --batch <batch> --index <index>"),
            super::restore_example(args, &d.rollup, d.deploy_block, &chain.fee_pubkey),
        ];
        let mut s = format!("{} sequencer --staking {}", tandem_command(), d.staking);
        if args.l1_port != 8545 {
            s += &format!(" --l1-rpc {l1_url}");
        }
        let smallest = &members[n - 1];
        let joiner = member_signing_key(n);
        let joiner_address = tandem_devnet::staked_set::local_network_address(
            args.p2p_port.saturating_add(n as u16),
            args.rpc_port.saturating_add(n as u16),
        );
        let sequencer_examples = vec![
            format!("{s} status --staker {}", member0.l1.address()),
            format!(
                "{s} --l1-key {key2} stake --amount 50 --signing-key-address {} --network-address '{joiner_address}'   # joins the set from the next epoch (its node: --signing-key {})",
                joiner.address(),
                key_hex(&joiner)
            ),
            format!("{s} --l1-key {} unstake --amount {}   # member {} leaves the set from the next epoch", key_hex(&smallest.l1), STAKE_STEP_TOKENS, n - 1),
            format!("{s} --l1-key {} withdraw   # once unbonded ({} s after unstake)", key_hex(&smallest.l1), params.unbonding_delay),
            format!("{s} --l1-key {} claim-reward --epoch {reward_epoch}   # once epoch {reward_epoch} is over", key_hex(&member0.l1)),
        ];
        let pid = |p: &Supervised| p.pid();
        let member_json: Vec<Value> = members
            .iter()
            .zip(&procs.members)
            .map(|(m, p)| {
                json!({
                    "index": m.index,
                    "rpc": m.rpc_url(),
                    "metrics": m.metrics_url(),
                    "dashboard": m.dashboard_url(),
                    "p2p": m.p2p(),
                    "networkAddress": m.network_address(),
                    "stake": m.stake.to_string(),
                    "staker": {"address": m.l1.address().to_string(), "privateKey": key_hex(&m.l1)},
                    "signingKey": {"address": m.signing.address().to_string(), "privateKey": key_hex(&m.signing)},
                    "dataDir": m.dir.display().to_string(),
                    "log": m.log.display().to_string(),
                    "pid": pid(p),
                })
            })
            .collect();
        let anvil = procs.anvil.as_ref().ok_or_else(|| anyhow!("anvil is not running"))?;
        let summary = json!({
            "mode": "sequencerSet",
            "l1Rpc": l1_url,
            "l2Rpc": member0.rpc_url(),
            "metrics": member0.metrics_url(),
            "dashboard": member0.dashboard_url(),
            "l1ChainId": l1_chain_id,
            "chainId": args.chain_id,
            "treeDepth": args.tree_depth,
            "rollup": d.rollup.to_string(),
            "forcedInbox": d.forced_inbox.map(|a| a.to_string()),
            "staking": d.staking.to_string(),
            "devToken": d.token.to_string(),
            "devTokenId": d.token_id,
            "stakingToken": {"address": d.token.to_string(), "symbol": symbol, "decimals": DECIMALS, "l2TokenId": d.token_id},
            "deployBlock": d.deploy_block,
            "challengeWindow": args.challenge_window,
            "blockTimeMs": args.block_time_ms,
            "epochLength": params.epoch_length,
            "genesisEpoch": chain.genesis_epoch,
            "unbondingDelay": params.unbonding_delay,
            "minStake": params.min_stake.to_string(),
            "maxStake": params.max_stake.to_string(),
            "maxActive": params.max_active,
            "slashBps": params.slash_bps,
            "reporterBps": params.reporter_bps,
            "rewardPool": {"epoch": reward_epoch, "amount": tokens(REWARD_POOL_TOKENS).to_string()},
            "deployer": {"address": signers[0].address().to_string(), "privateKey": ANVIL_KEYS[0]},
            "feeCollector": {"publicKey": keyfile::hex0x(&chain.fee_pubkey.0), "wallet": fee_wallet.display().to_string(), "account": 0},
            "devAccounts": dev.iter().map(|(i, a, k)| json!({
                "anvilIndex": i, "address": a.to_string(), "privateKey": k,
                "eth": "10000", "devTokens": format_units(DEV_TOKENS_PER_ACCOUNT, DECIMALS),
            })).collect::<Vec<_>>(),
            "members": member_json,
            "dataDir": data_dir.display().to_string(),
            "logs": {"anvil": anvil.log().display().to_string(), "members": members.iter().map(|m| m.log.display().to_string()).collect::<Vec<_>>()},
            "pids": {"anvil": pid(anvil), "members": procs.members.iter().map(pid).collect::<Vec<_>>(), "devnet": std::process::id()},
            "examples": examples,
            "sequencerExamples": sequencer_examples,
            "zkLane": Value::Null,
        });
        let json_path = data_dir.join("devnet.json");
        std::fs::write(&json_path, serde_json::to_string_pretty(&summary)? + "\n")?;

        let mut text = format!("\nTandem devnet is running: a staked sequencer set of {n} members\n");
        text += &format!("  L1 RPC        {l1_url}   (anvil, chain id {l1_chain_id}, a block every {} s)\n", args.l1_block_time);
        text += &format!("  L2 RPC        {}   (member 0; every member serves the chain, chain id {})\n", member0.rpc_url(), args.chain_id);
        text += &format!(
            "  dashboard     {}   (member 0; open in a browser: blocks, batches, finality, the set; read-only)\n",
            member0.dashboard_url()
        );
        text += &format!("  rollup        {} (StakedRollup: a batch commits with signatures of > 2/3 of the epoch's stake)\n", d.rollup);
        if let Some(inbox) = d.forced_inbox {
            text += &format!("  forced wd     {inbox}   (forced-withdrawal inbox, 0.001 ETH per request; its fees go to the treasury)\n");
        }
        text += &format!(
            "  staking       {} (SequencerStaking: epochs of {} s, genesis epoch {}, unbonding {} s, slash {}%, reporter {}% of it)\n",
            d.staking,
            params.epoch_length,
            chain.genesis_epoch,
            params.unbonding_delay,
            params.slash_bps / 100,
            params.reporter_bps / 100
        );
        text += &format!(
            "  stake token   {} ({symbol}, 18 decimals; L2 token id {}, `--token dev` in the wallet); stakes {} to {}, up to {} members per set\n",
            d.token,
            d.token_id,
            show(params.min_stake),
            show(params.max_stake),
            params.max_active
        );
        text += &format!(
            "  rewards       {} funded for epoch {reward_epoch}, shared by stake once it is over\n",
            show(tokens(REWARD_POOL_TOKENS))
        );
        text += &format!(
            "  deploy block {}, challenge window {} s, L2 block time {} ms\n",
            d.deploy_block, args.challenge_window, args.block_time_ms
        );
        text += &match d.dispute_game {
            Some(game) => format!(
                "  fault proofs  dispute game {game}: anyone may challenge a chunk of a batch (bond {} ETH); unanswered within {} s, it is reverted and its signers lose their whole stake; provers answer, a challenger watches\n",
                format_units(super::CHALLENGE_BOND, 18),
                args.response_window
            ),
            None => "  fault proofs  off (--zk-slots 2 turns them on): nothing can challenge a batch, the set's signatures are trusted; no ZK lane here (fast withdrawals: the single-sequencer devnet)\n".to_string(),
        };
        text += &format!("  fee account   #0, key {} ({})\n", keyfile::hex0x(&chain.fee_pubkey.0), fee_wallet.display());
        text += &format!("\nMembers (total stake {}; INSECURE keys derived from public labels, devnet only):\n", show(total));
        for m in members.iter() {
            text += &format!(
                "  [{}] stake {}   RPC {}   metrics {}   dashboard {}   P2P {}\n",
                m.index,
                show(m.stake),
                m.rpc_url(),
                m.metrics_url(),
                m.dashboard_url(),
                m.p2p()
            );
            text += &format!("      staker (L1)  {}  key {}\n", m.l1.address(), key_hex(&m.l1));
            text += &format!("      signing key  {}  key {}\n", m.signing.address(), key_hex(&m.signing));
            text += &format!("      data {}, log {}\n", m.dir.display(), m.log.display());
        }
        text += &format!("\nFunded dev accounts (L1; 10000 ETH and 10000 {symbol} each; well-known anvil keys, devnet only):\n");
        for (i, a, k) in &dev {
            text += &format!("  [{i}] {a}  key {k}\n");
        }
        text += "\nTry the wallet against member 0 (copy-paste):\n";
        for e in &examples {
            text += &format!("  {e}\n");
        }
        text += "\nStaking (`tandem sequencer --help`):\n";
        for e in &sequencer_examples {
            text += &format!("  {e}\n");
        }
        text += &format!(
            "\nLogs: {} and {}/member<i>.log\nSame as JSON: {}\nBelow: who proposed each L2 block and who posted and signed each batch on L1. Ctrl-C stops the members and anvil.\n",
            anvil.log().display(),
            data_dir.display(),
            json_path.display()
        );
        println!("{text}");
        Ok(())
    }
}

/// Follows the running set: prints each new L2 block's proposer and each batch's poster and
/// signers on L1, and notices a child that died.
struct Follower {
    clients: Vec<L2Client>,
    by_signing_key: HashMap<Address, usize>,
    by_l1: HashMap<Address, usize>,
    staking: StakingClient,
    provider: DynProvider,
    rollup: Address,
    symbol: String,
    sets: HashMap<u64, ActiveSet>,
    next_block: u64,
    l1_scanned: u64,
}

impl Follower {
    /// Runs until a child process exits (an error).
    async fn follow(&mut self, procs: &mut Procs) -> Result<()> {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(anvil) = procs.anvil.as_mut() {
                anvil.check_alive()?;
            }
            for p in &mut procs.members {
                p.check_alive()?;
            }
            self.report_blocks().await;
            self.report_l1().await;
        }
    }

    /// `member i (address)` for a devnet member's address, else the address.
    fn name(map: &HashMap<Address, usize>, address: Address) -> String {
        match map.get(&address) {
            Some(i) => format!("member {i} ({address})"),
            None => format!("{address} (not one of the devnet's members)"),
        }
    }

    /// Prints the blocks the first member that answers has and this has not printed yet.
    async fn report_blocks(&mut self) {
        let mut source = None;
        for (i, c) in self.clients.iter().enumerate() {
            if let Ok(head) = c.block_number().await {
                source = Some((i, head));
                break;
            }
        }
        let Some((i, head)) = source else { return };
        while self.next_block <= head {
            let Ok(Some(block)) = self.clients[i].block(self.next_block).await else { return };
            println!("{}", self.block_line(&block.block));
            self.next_block += 1;
        }
    }

    fn block_line(&self, block: &BlockRecord) -> String {
        let who = match &block.consensus {
            Some(c) => Self::name(&self.by_signing_key, c.proposer),
            None => "an unknown proposer".to_string(),
        };
        let mut line = format!(
            "[L2] block {}: {}, {}; proposed by {who}",
            block.number,
            plural(block.tx_hashes.len() as u128, "transaction"),
            plural(u128::from(block.priority_ops), "deposit")
        );
        if let Some(c) = &block.consensus {
            line += &format!(" at consensus height {} round {}, epoch {}", c.height, c.round, c.epoch);
        }
        line
    }

    /// Prints the batches committed (with poster and signers) and finalized on L1 since the
    /// last scan; on an L1 error it retries the whole range at the next tick.
    async fn report_l1(&mut self) {
        let Ok(head) = self.provider.get_block_number().await else { return };
        if head <= self.l1_scanned {
            return;
        }
        let from = self.l1_scanned + 1;
        let rollup = StakedRollup::new(self.rollup, self.provider.clone());
        let Ok(signed) = rollup.BatchSigned_filter().from_block(from).to_block(head).query().await else { return };
        let Ok(finalized) = rollup.BatchFinalized_filter().from_block(from).to_block(head).query().await else { return };
        let position = |log: &alloy::rpc::types::Log| (log.block_number.unwrap_or(0), log.log_index.unwrap_or(0));
        let mut lines = Vec::with_capacity(signed.len() + finalized.len());
        for (event, log) in &signed {
            let Some(line) = self.commit_line(event, log).await else { return };
            lines.push((position(log), line));
        }
        for (event, log) in &finalized {
            lines.push((position(log), format!("[L1] batch {} final", event.batchNumber)));
        }
        lines.sort();
        for (_, line) in lines {
            println!("{line}");
        }
        self.l1_scanned = head;
    }

    async fn commit_line(&mut self, event: &StakedRollup::BatchSigned, log: &alloy::rpc::types::Log) -> Option<String> {
        let tx = log.transaction_hash?;
        let receipt = self.provider.get_transaction_receipt(tx).await.ok()??;
        let set = match self.sets.get(&event.epoch) {
            Some(set) => set.clone(),
            None => {
                let set = self.staking.active_set(event.epoch).await.ok()?;
                self.sets.insert(event.epoch, set.clone());
                set
            }
        };
        let mut signers = BTreeSet::new();
        let mut outside = vec![];
        let mut signed = U256::ZERO;
        for (bit, m) in set.members.iter().enumerate() {
            if event.signerBitmap.bit(bit) {
                signed += m.stake;
                match self.by_signing_key.get(&m.signing_key) {
                    Some(i) => {
                        signers.insert(*i);
                    }
                    None => outside.push(m.signing_key.to_string()),
                }
            }
        }
        let mut names: Vec<String> = signers.iter().map(usize::to_string).collect();
        names.extend(outside);
        Some(format!(
            "[L1] batch {} committed by {}; signed by members {} ({} of the {} staked in epoch {}); L1 tx {tx}",
            event.batchNumber,
            Self::name(&self.by_l1, receipt.from),
            names.join(", "),
            show_tokens(signed, &self.symbol),
            show_tokens(set.total_stake, &self.symbol),
            event.epoch
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_keys_are_distinct_and_stable() {
        let keys: BTreeSet<Address> =
            (0..=MAX_SEQUENCERS).flat_map(|i| [member_l1_key(i).address(), member_signing_key(i).address()]).collect();
        assert_eq!(keys.len(), 2 * (MAX_SEQUENCERS + 1));
        // Stable: the keys are the documented derivation from the public labels, which the
        // printed commands and other tools rely on.
        for i in [0, 3, MAX_SEQUENCERS] {
            let from_label =
                |label: String| PrivateKeySigner::from_bytes(&alloy::primitives::keccak256(label.as_bytes())).expect("scalar").address();
            assert_eq!(member_l1_key(i).address(), from_label(format!("tandem.devnet.member.{i}.l1")));
            assert_eq!(member_signing_key(i).address(), from_label(format!("tandem.devnet.member.{i}.signing")));
        }
    }

    #[test]
    fn token_amounts_and_plurals_read_well() {
        assert_eq!(show_tokens(tokens(STAKE_STEP_TOKENS * 4), "TST"), "400 TST");
        assert_eq!(plural(1, "deposit"), "1 deposit");
        assert_eq!(plural(0, "transaction"), "0 transactions");
    }
}
