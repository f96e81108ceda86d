//! Deploying Tandem's contracts for a devnet: the single-sequencer rollup with a dev token,
//! the staked mode (staking token, `SequencerStaking`, `StakedRollup`), and raw bytecode (the
//! generated verifier).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use serde::{Deserialize, Serialize};
use tandem_l1::bindings::staked::StakedRollup;
use tandem_l1::bindings::{DevToken, ProverMarket, SequencerStaking, TandemRollup};
use tandem_l1::{confirm, connect, L1Error, MarketParams};

fn rpc_error(e: impl std::fmt::Display) -> L1Error {
    L1Error::Rpc(e.to_string())
}

/// Addresses and parameters of a deployed single-sequencer Tandem instance on L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// The rollup/bridge contract.
    pub rollup: Address,
    /// The devnet ERC-20 (token id [`Deployment::dev_token_id`] on L2).
    pub dev_token: Address,
    /// L2 token id of `dev_token`.
    pub dev_token_id: u8,
    /// L1 block of the deployment (where event scans start).
    pub deploy_block: u64,
    /// Challenge window in seconds.
    pub challenge_window: u64,
    /// The rollup's prover market (SPEC §15), if it has one.
    #[serde(default)]
    pub market: Option<Address>,
}

/// Market parameters of a devnet: a 10% floor rising to the whole escrow in 30 s, a 60 s lock
/// window against a 300 s job deadline, 10% collateral of which half is burned when a lock
/// expires (Boundless's defaults scaled to a devnet's seconds-long proofs).
pub fn devnet_market_params() -> MarketParams {
    MarketParams { floor_bps: 1_000, ramp_up: 30, lock_timeout: 60, job_timeout: 300, collateral_bps: 1_000, burn_bps: 5_000 }
}

/// The exodus side of a deployment (SPEC §16): the exit circuit's verifier, deployed with the
/// rollup and fixed for its life, and how long a priority op may wait before anyone can start
/// exodus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExodusParams {
    /// Creation code of the exit verifier (the Groth16 verifier of
    /// `tandem_circuit::exit::ExitCircuit` at the chain's tree depth and chain id).
    pub exit_verifier_code: Bytes,
    /// Seconds a deposit may wait in the priority queue (1..=3600, `FORCED_WITHDRAWAL_DEADLINE`).
    pub priority_deadline: u64,
}

/// Chain id of the committed exit verifiers (`contracts/src/verifiers/ExitVerifier_D*.sol`).
pub const COMMITTED_EXIT_VERIFIER_CHAIN_ID: u64 = 31_337_001;

impl ExodusParams {
    /// The committed exit verifier for tree depth `depth` (4: tests, 24: the devnet default;
    /// rendered for chain id [`COMMITTED_EXIT_VERIFIER_CHAIN_ID`] from the public seed,
    /// INSECURE) with `priority_deadline`; `None` for other depths.
    pub fn committed(depth: u8, priority_deadline: u64) -> Option<Self> {
        let exit_verifier_code = match depth {
            4 => tandem_l1::bindings::exit_verifiers::ExitVerifierD4::BYTECODE.clone(),
            24 => tandem_l1::bindings::exit_verifiers::ExitVerifierD24::BYTECODE.clone(),
            _ => return None,
        };
        Some(Self { exit_verifier_code, priority_deadline })
    }

    /// For deployments whose exits are not exercised (tests of other parts): the depth-4
    /// verifier and the longest deadline (one hour).
    pub fn unexercised() -> Self {
        Self::committed(4, 3600).expect("depth 4 is committed")
    }
}

/// Deploys contract `bytecode` (creation code with constructor arguments appended) and
/// returns its address.
pub async fn deploy_bytecode(rpc_url: &str, deployer: PrivateKeySigner, bytecode: Bytes) -> Result<Address, L1Error> {
    let (provider, _) = connect(rpc_url, Some(deployer))?;
    let tx = alloy::rpc::types::TransactionRequest::default().with_deploy_code(bytecode);
    let receipt = confirm(provider.send_transaction(tx).await.map_err(rpc_error)?).await?;
    receipt.contract_address.ok_or_else(|| L1Error::Unexpected("deployment receipt without a contract address".into()))
}

/// The shortest admin delay (seconds from announcing a sequencer change to its effect) the
/// rollup accepts with `challenge_window`: its `minAdminDelay`, i.e. the forced-withdrawal
/// deadline bound (`FORCED_WITHDRAWAL_DEADLINE`, 1 h) + the challenge window + the exit margin
/// (`EXIT_MARGIN`, 1 day), mirrored here because it is needed before the contract exists
/// (the constructor refuses anything shorter). Devnets deploy with it.
pub fn min_admin_delay(challenge_window: u64) -> u64 {
    const FORCED_WITHDRAWAL_DEADLINE: u64 = 3600;
    const EXIT_MARGIN: u64 = 86_400;
    FORCED_WITHDRAWAL_DEADLINE.saturating_add(challenge_window).saturating_add(EXIT_MARGIN)
}

/// Deploys a devnet instance without a validity lane: [`deploy_devnet_with_verifier`] with
/// no verifier and [`ExodusParams::unexercised`] (exits are not for this instance).
pub async fn deploy_devnet(
    rpc_url: &str,
    deployer: PrivateKeySigner,
    sequencer: Address,
    genesis_root: B256,
    challenge_window: u64,
    dev_token_supply: U256,
) -> Result<Deployment, L1Error> {
    deploy_devnet_with_verifier(
        rpc_url,
        deployer,
        sequencer,
        genesis_root,
        challenge_window,
        None,
        None,
        &ExodusParams::unexercised(),
        dev_token_supply,
    )
    .await
}

/// Deploys a devnet instance: the rollup (owner = deployer) from `genesis_root`, with the
/// validity lane's `verifier` (its address and the circuit's op slots; fixed for the rollup's
/// life, `None`: no validity lane), its prover market with `market` parameters (`None`: no
/// market), the shortest admin delay ([`min_admin_delay`]), a DevToken (`dev_token_supply`
/// minted to the deployer), the exit verifier and the priority deadline of `exodus`, and
/// registers the token. The market and the rollup name each
/// other: the market is deployed first, bound to the rollup's predicted CREATE address (the
/// deployer's next nonce), which the rollup's constructor checks. Nothing else may send from
/// the deployer meanwhile. Returns where everything is.
#[allow(clippy::too_many_arguments)]
pub async fn deploy_devnet_with_verifier(
    rpc_url: &str,
    deployer: PrivateKeySigner,
    sequencer: Address,
    genesis_root: B256,
    challenge_window: u64,
    verifier: Option<(Address, u32)>,
    market: Option<MarketParams>,
    exodus: &ExodusParams,
    dev_token_supply: U256,
) -> Result<Deployment, L1Error> {
    let owner = deployer.address();
    let exit_verifier = deploy_bytecode(rpc_url, deployer.clone(), exodus.exit_verifier_code.clone()).await?;
    let (provider, _) = connect(rpc_url, Some(deployer))?;
    let (verifier, zk_slots) = verifier.unwrap_or((Address::ZERO, 0));
    let admin_delay = min_admin_delay(challenge_window);
    let market = match market {
        None => Address::ZERO,
        Some(p) => {
            let nonce = provider.get_transaction_count(owner).await.map_err(rpc_error)?;
            let predicted_rollup = owner.create(nonce + 1);
            *ProverMarket::deploy(
                provider.clone(),
                predicted_rollup,
                p.floor_bps,
                p.ramp_up,
                p.lock_timeout,
                p.job_timeout,
                p.collateral_bps,
                p.burn_bps,
            )
            .await?
            .address()
        }
    };
    let rollup = *TandemRollup::deploy(
        provider.clone(),
        owner,
        sequencer,
        genesis_root,
        challenge_window,
        verifier,
        zk_slots,
        admin_delay,
        market,
        exit_verifier,
        exodus.priority_deadline,
        Address::ZERO, // forced-withdrawal inbox: not deployed yet (see contracts/README.md)
    )
    .await?
    .address();
    let token =
        *DevToken::deploy(provider.clone(), "Tandem Dev Token".to_string(), "TDT".to_string(), 18, owner, dev_token_supply).await?.address();
    let rollup_contract = TandemRollup::new(rollup, provider.clone());
    confirm(rollup_contract.addToken(token).send().await?).await?;
    let dev_token_id = rollup_contract.tokenIdOf(token).call().await?;
    let l1_chain_id = provider.get_chain_id().await.map_err(rpc_error)?;
    let deploy_block = provider.get_block_number().await.map_err(rpc_error)?;
    let market = (market != Address::ZERO).then_some(market);
    Ok(Deployment { l1_chain_id, rollup, dev_token: token, dev_token_id, deploy_block, challenge_window, market })
}

/// Parameters of a staked devnet: the `SequencerStaking.Params` (staking token and the
/// deployment's owner aside) and the rollup's challenge window. The contracts refuse
/// inconsistent values (`InvalidParams`, `UnbondingDelayTooShort`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakedParams {
    /// Receives slashed stake not paid to reporters.
    pub treasury: Address,
    /// Minimum stake of a registered staker (> 0, < 2^96).
    pub min_stake: U256,
    /// Maximum stake of one staker (>= `min_stake`, < 2^96).
    pub max_stake: U256,
    /// Epoch length in L1 seconds (> 0).
    pub epoch_length: u64,
    /// Seconds from `unstake` to `withdraw`; at least `epoch_length + challenge_window`.
    pub unbonding_delay: u64,
    /// Size of an epoch's active set (1..=128, `MAX_SET_SIZE`).
    pub max_active: u16,
    /// Cap on registered stakers (`max_active..=160`, `MAX_STAKERS`).
    pub max_stakers: u32,
    /// Slashed fraction of the bonded stake per offence, in basis points (<= 10 000).
    pub slash_bps: u16,
    /// Fraction of a slash paid to the reporter, in basis points (<= 10 000).
    pub reporter_bps: u16,
    /// The rollup's challenge window in seconds.
    pub challenge_window: u64,
    /// Staking-token emission per committed batch (`emissionPerBatch`): every
    /// `commitBatchSigned` moves up to this much from the emission reserve
    /// ([`tandem_l1::StakingClient::fund_emission`]) into the signing epoch's reward pool.
    /// Zero: no emission (the reserve cannot be funded). Absent in older JSON: zero.
    #[serde(default)]
    pub emission_per_batch: U256,
}

/// Where a staked devnet lives on L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakedDeployment {
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// The `SequencerStaking` contract (bound to `rollup`).
    pub staking: Address,
    /// The `StakedRollup` (commits only with the active set's signatures).
    pub rollup: Address,
    /// The DevToken: the staking token, also registered on the rollup as L2 token `token_id`.
    pub token: Address,
    /// L2 token id of `token`.
    pub token_id: u8,
    /// L1 block of the deployment's last transaction (where event scans start).
    pub deploy_block: u64,
    /// Challenge window in seconds.
    pub challenge_window: u64,
}

fn uint96(name: &str, value: U256) -> Result<alloy::primitives::Uint<96, 2>, L1Error> {
    alloy::primitives::Uint::<96, 2>::checked_from_limbs_slice(value.as_limbs())
        .ok_or_else(|| L1Error::InvalidArgument(format!("{name} = {value} does not fit in 96 bits")))
}

/// Deploys a staked devnet: a DevToken (`token_supply` minted to the deployer) as the
/// staking token, `SequencerStaking` with `params` bound to the address the rollup gets next
/// (the deployer's next CREATE address; staking has no owner), the `StakedRollup` from
/// `genesis_root` (owner = deployer, no validity lane, the shortest admin delay), and
/// registers the token on the rollup; the exit verifier and priority deadline come from
/// `exodus`. Nothing else may send from the deployer meanwhile.
pub async fn deploy_staked_devnet(
    rpc_url: &str,
    deployer: PrivateKeySigner,
    genesis_root: B256,
    params: &StakedParams,
    exodus: &ExodusParams,
    token_supply: U256,
) -> Result<StakedDeployment, L1Error> {
    let owner = deployer.address();
    let exit_verifier = deploy_bytecode(rpc_url, deployer.clone(), exodus.exit_verifier_code.clone()).await?;
    // Range-checked before anything is deployed.
    let (min_stake, max_stake) = (uint96("min_stake", params.min_stake)?, uint96("max_stake", params.max_stake)?);
    let (provider, _) = connect(rpc_url, Some(deployer))?;
    let token =
        *DevToken::deploy(provider.clone(), "Tandem Stake Token".to_string(), "TST".to_string(), 18, owner, token_supply).await?.address();
    let sol_params = SequencerStaking::Params {
        stakingToken: token,
        treasury: params.treasury,
        minStake: min_stake,
        maxStake: max_stake,
        epochLength: params.epoch_length,
        unbondingDelay: params.unbonding_delay,
        maxActive: params.max_active,
        maxStakers: params.max_stakers,
        slashBps: params.slash_bps,
        reporterBps: params.reporter_bps,
        emissionPerBatch: params.emission_per_batch,
    };
    // Staking is deployed at the deployer's current nonce, the rollup right after it (its
    // constructor refuses a staking contract bound to another address).
    let nonce = provider.get_transaction_count(owner).await.map_err(rpc_error)?;
    let next_rollup = owner.create(nonce + 1);
    let staking = *SequencerStaking::deploy(provider.clone(), next_rollup, sol_params).await?.address();
    let admin_delay = min_admin_delay(params.challenge_window);
    let rollup = *StakedRollup::deploy(
        provider.clone(),
        owner,
        staking,
        genesis_root,
        params.challenge_window,
        Address::ZERO,
        0,
        admin_delay,
        Address::ZERO,
        exit_verifier,
        exodus.priority_deadline,
        Address::ZERO, // forced-withdrawal inbox: not deployed yet (see contracts/README.md)
    )
    .await?
    .address();
    let rollup_contract = TandemRollup::new(rollup, provider.clone());
    confirm(rollup_contract.addToken(token).send().await?).await?;
    let token_id = rollup_contract.tokenIdOf(token).call().await?;
    let l1_chain_id = provider.get_chain_id().await.map_err(rpc_error)?;
    let deploy_block = provider.get_block_number().await.map_err(rpc_error)?;
    Ok(StakedDeployment { l1_chain_id, staking, rollup, token, token_id, deploy_block, challenge_window: params.challenge_window })
}
