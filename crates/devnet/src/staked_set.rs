//! The staked-set bootstrap, written once for `tandem devnet --sequencers N`, the CLI tests
//! and the benchmarks: deploy the staked contracts, give each member its stake (and ETH),
//! stake it with the member's signing key and network address, then move L1 time to the next
//! epoch and materialize its set, which is exactly the members: the set's genesis epoch.

use crate::deploy::{deploy_staked_devnet, StakedDeployment, StakedParams};
use crate::error::DevnetError;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;
use tandem_l1::{connect, RollupClient, StakingClient};

/// One member to stake.
#[derive(Debug, Clone)]
pub struct StakedMember {
    /// Its L1 account: owns the stake and pays for its transactions.
    pub l1: PrivateKeySigner,
    /// Address of its consensus and batch signing key (registered once, permanently).
    pub signing_key: Address,
    /// Its stake in staking-token base units.
    pub stake: U256,
    /// What it registers for the other members (`p2p=<multiaddr>;rpc=<url>`).
    pub network_address: String,
}

impl StakedMember {
    /// A member on this machine: it registers `p2p=/ip4/127.0.0.1/tcp/<p2p_port>;rpc=http://127.0.0.1:<rpc_port>`
    /// ([`local_network_address`]).
    pub fn local(l1: PrivateKeySigner, signing_key: Address, stake: U256, p2p_port: u16, rpc_port: u16) -> Self {
        Self { l1, signing_key, stake, network_address: local_network_address(p2p_port, rpc_port) }
    }
}

/// The network address a member on this machine registers on L1: its P2P listener and its
/// JSON-RPC on 127.0.0.1 (the format `tandem node --staking` parses, SPEC §11).
pub fn local_network_address(p2p_port: u16, rpc_port: u16) -> String {
    format!("p2p=/ip4/127.0.0.1/tcp/{p2p_port};rpc=http://127.0.0.1:{rpc_port}")
}

/// What to bootstrap.
#[derive(Debug, Clone)]
pub struct StakedSetSpec<'a> {
    /// Deploys and owns the contracts, mints the stakes.
    pub deployer: PrivateKeySigner,
    /// The L2 genesis state root (from the protocol's genesis; the devnet does not compute it).
    pub genesis_root: B256,
    /// The staking parameters.
    pub params: &'a StakedParams,
    /// The exit verifier and priority deadline.
    pub exodus: &'a crate::deploy::ExodusParams,
    /// Staking tokens minted to the deployer.
    pub token_supply: U256,
    /// The members, in index order.
    pub members: &'a [StakedMember],
    /// The validity lane and dispute game (`None`: neither; faults are then unpunished).
    pub fault_proofs: Option<crate::deploy::FaultProofs>,
    /// ETH (wei) set as each member's L1 balance (`anvil_setBalance`), for accounts that are
    /// not funded anvil dev accounts; `None` leaves balances alone.
    pub member_eth: Option<U256>,
}

/// A bootstrapped set.
#[derive(Debug, Clone)]
pub struct StakedSet {
    /// Where the contracts are.
    pub deployment: StakedDeployment,
    /// The epoch whose set is the members (materialized on L1): their `--genesis-epoch`.
    pub genesis_epoch: u64,
}

/// The JSON-RPC provider of `l1_url`, without a signer.
fn provider(l1_url: &str) -> Result<DynProvider, DevnetError> {
    Ok(connect(l1_url, None)?.0)
}

/// Calls an anvil-specific JSON-RPC method (`evm_mine`, `anvil_setBalance`, …).
pub async fn anvil_rpc<P>(l1_url: &str, method: &'static str, params: P) -> Result<(), DevnetError>
where
    P: serde::Serialize + Clone + Send + Sync + std::fmt::Debug + Unpin + 'static,
{
    provider(l1_url)?
        .raw_request::<P, Value>(method.into(), params)
        .await
        .map(drop)
        .map_err(|e| DevnetError::AnvilRpc { method, message: e.to_string() })
}

/// Mines until the timestamp of anvil's latest block reaches `target` (L1 time only moves with
/// blocks on anvil).
pub async fn advance_time_to(l1_url: &str, target: u64) -> Result<(), DevnetError> {
    let probe = RollupClient::new(l1_url, Address::ZERO, None)?;
    loop {
        let now = probe.latest_timestamp().await?;
        if now >= target {
            return Ok(());
        }
        anvil_rpc(l1_url, "evm_increaseTime", (target - now,)).await?;
        anvil_rpc(l1_url, "evm_mine", ()).await?;
    }
}

/// Moves anvil's clock at least `seconds` past its latest block's timestamp, mining as
/// [`advance_time_to`] does: how tests pass a window or deadline that L1 measures from a block.
pub async fn advance_time_by(l1_url: &str, seconds: u64) -> Result<(), DevnetError> {
    let now = RollupClient::new(l1_url, Address::ZERO, None)?.latest_timestamp().await?;
    advance_time_to(l1_url, now + seconds).await
}

/// Moves L1 to the start of the next epoch and materializes its set (`syncEpoch`, sent by
/// `sender`); returns that epoch.
pub async fn next_epoch(l1_url: &str, staking: Address, sender: PrivateKeySigner) -> Result<u64, DevnetError> {
    let client = StakingClient::new(l1_url, staking, Some(sender))?;
    let next = client.current_epoch().await? + 1;
    advance_time_to(l1_url, client.epoch_start(next).await?).await?;
    let materialized = client.sync_epoch().await?;
    if materialized != next {
        return Err(DevnetError::EpochMoved { expected: next, materialized });
    }
    Ok(next)
}

/// Deploys, stakes every member and materializes the next epoch's set (see the module doc).
pub async fn bootstrap_staked_set(l1_url: &str, spec: &StakedSetSpec<'_>) -> Result<StakedSet, DevnetError> {
    let deployment = deploy_staked_devnet(
        l1_url,
        spec.deployer.clone(),
        spec.genesis_root,
        spec.params,
        spec.exodus,
        spec.token_supply,
        spec.fault_proofs,
    )
    .await?;
    let owner = RollupClient::new(l1_url, deployment.rollup, Some(spec.deployer.clone()))?;
    for member in spec.members {
        if let Some(eth) = spec.member_eth {
            anvil_rpc(l1_url, "anvil_setBalance", (member.l1.address(), eth)).await?;
        }
        owner.mint_dev_token(deployment.token, member.l1.address(), member.stake).await?;
        StakingClient::new(l1_url, deployment.staking, Some(member.l1.clone()))?
            .stake(member.stake, member.signing_key, member.network_address.as_bytes())
            .await?;
    }
    let genesis_epoch = next_epoch(l1_url, deployment.staking, spec.deployer.clone()).await?;
    Ok(StakedSet { deployment, genesis_epoch })
}
