//! `tandem sequencer`: a staker's side of the sequencer set on L1 (the `SequencerStaking`
//! contract): stake (registering the node's signing key and network address), unstake,
//! withdraw once unbonded, claim epoch rewards, and the status of the epochs, their active
//! sets and a staker.

use crate::amount::{format_units, parse_raw, parse_units};
use crate::chain_args::{l1_error, parse_l1_key};
use alloy::providers::{DynProvider, Provider};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tandem_l1::bindings::{DevToken, SequencerStaking};
use tandem_l1::{ActiveSet, Address, PrivateKeySigner, RollupClient, StakerInfo, StakingClient, U256};
use tandem_node::member::PeerAddress;

/// `tandem sequencer`.
#[derive(Debug, Args)]
pub struct SequencerArgs {
    /// L1 JSON-RPC URL.
    #[arg(long, global = true, env = "TANDEM_L1_RPC", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc: String,
    /// The SequencerStaking contract (`tandem devnet --sequencers N` prints it).
    #[arg(long, global = true, env = "TANDEM_STAKING")]
    pub staking: Option<Address>,
    /// The staker's L1 private key (0x hex): owns the stake and pays for the transactions
    /// (not the node's batch signing key).
    #[arg(long, global = true, env = "TANDEM_L1_KEY", hide_env_values = true)]
    pub l1_key: Option<String>,
    /// Machine-readable JSON output (amounts in the token's smallest unit).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: SequencerCommand,
}

/// Staker subcommands.
#[derive(Debug, Subcommand)]
pub enum SequencerCommand {
    /// Stake tokens (approve + stake). The first stake registers the node's signing key
    /// (permanent) and its network address. Counts for the sets from the next epoch.
    Stake {
        /// Amount in whole tokens with decimals (e.g. 250 or 12.5), or the smallest unit with --wei.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Address of the secp256k1 key the node signs votes and batches with (its
        /// `tandem node --signing-key`); needed on the first stake, permanent.
        #[arg(long)]
        signing_key_address: Option<Address>,
        /// Where the other members reach the node: `p2p=<multiaddr>;rpc=<http URL>`, e.g.
        /// 'p2p=/ip4/10.0.0.5/tcp/27000;rpc=http://10.0.0.5:8645'. Needed on the first stake;
        /// replaces the registered one when given.
        #[arg(long)]
        network_address: Option<String>,
        /// The amount is an integer in the token's smallest unit.
        #[arg(long)]
        wei: bool,
    },
    /// Move stake to unbonding: it leaves the sets from the next epoch, stays slashable and
    /// is withdrawable once the unbonding delay is over.
    Unstake {
        /// Amount in whole tokens with decimals, or the smallest unit with --wei.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// The amount is an integer in the token's smallest unit.
        #[arg(long)]
        wei: bool,
    },
    /// Withdraw the whole unbonding balance once its unbonding delay is over.
    Withdraw,
    /// Claim the staker's share of an epoch's reward pool (once the epoch is over, once).
    ClaimReward {
        /// The epoch whose pool to claim from.
        #[arg(long)]
        epoch: u64,
    },
    /// The current epoch, its active set and the next epoch's provisional set, and a staker's
    /// stake, unbonding and registration (--staker, else the address of --l1-key).
    Status {
        /// The staker to show; defaults to the address of --l1-key.
        #[arg(long)]
        staker: Option<Address>,
    },
}

/// Runs a sequencer command.
pub async fn run(args: SequencerArgs) -> Result<()> {
    let out = match &args.command {
        SequencerCommand::Stake { amount, signing_key_address, network_address, wei } => {
            stake(&args, amount, *signing_key_address, network_address.as_deref(), *wei).await?
        }
        SequencerCommand::Unstake { amount, wei } => unstake(&args, amount, *wei).await?,
        SequencerCommand::Withdraw => withdraw(&args).await?,
        SequencerCommand::ClaimReward { epoch } => claim_reward(&args, *epoch).await?,
        SequencerCommand::Status { staker } => status(&args, *staker).await?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out.0)?);
    } else {
        println!("{}", out.1.trim_end());
    }
    Ok(())
}

type Output = (Value, String);

fn l1_signer(args: &SequencerArgs, what: &str) -> Result<PrivateKeySigner> {
    let key = args.l1_key.as_deref().ok_or_else(|| {
        anyhow!("{what} sends an L1 transaction from the staker: pass --l1-key 0x<private key> (or set TANDEM_L1_KEY); `tandem devnet --sequencers N` prints the members' keys")
    })?;
    parse_l1_key(key)
}

/// The staking contract, its token and the L1 clock.
struct Staking {
    url: String,
    client: StakingClient,
    provider: DynProvider,
    address: Address,
    token: Address,
    symbol: String,
    decimals: u8,
}

impl Staking {
    async fn connect(args: &SequencerArgs, signer: Option<PrivateKeySigner>) -> Result<Self> {
        let url = args.l1_rpc.clone();
        let address = args.staking.ok_or_else(|| {
            anyhow!("pass --staking 0x<SequencerStaking address> (or set TANDEM_STAKING); `tandem devnet --sequencers N` prints it")
        })?;
        let (provider, _) = tandem_l1::connect(&url, None).map_err(|e| l1_error(&url, e))?;
        let code = provider.get_code_at(address).await.map_err(|e| l1_error(&url, e))?;
        if code.is_empty() {
            bail!("no contract at staking address {address} on {url}: wrong --staking or --l1-rpc (is this the devnet's L1?)");
        }
        let client = StakingClient::new(&url, address, signer).map_err(|e| l1_error(&url, e))?;
        let token = client
            .staking_token()
            .await
            .map_err(|e| anyhow!("{address} does not answer stakingToken(): is it a SequencerStaking contract? ({})", l1_error(&url, e)))?;
        let erc20 = DevToken::new(token, provider.clone());
        let decimals = erc20.decimals().call().await.map_err(|e| anyhow!("reading the staking token's decimals: {}", l1_error(&url, e)))?;
        let symbol = erc20.symbol().call().await.unwrap_or_else(|_| "tokens".to_string());
        Ok(Self { url, client, provider, address, token, symbol, decimals })
    }

    fn contract(&self) -> SequencerStaking::SequencerStakingInstance<DynProvider> {
        SequencerStaking::new(self.address, self.provider.clone())
    }

    fn err(&self, e: impl std::fmt::Display) -> anyhow::Error {
        l1_error(&self.url, e)
    }

    /// `value` in whole tokens with the symbol, e.g. `12.5 TST`.
    fn show(&self, value: U256) -> String {
        let number = match u128::try_from(value) {
            Ok(v) if self.decimals <= 38 => format_units(v, self.decimals as u32),
            _ => value.to_string(),
        };
        format!("{number} {}", self.symbol)
    }

    fn parse(&self, text: &str, wei: bool) -> Result<U256> {
        let value = if wei { parse_raw(text)? } else { parse_units(text, self.decimals as u32)? };
        if value == 0 {
            bail!("the amount must be above zero");
        }
        Ok(U256::from(value))
    }

    async fn now(&self) -> Result<u64> {
        let clock = RollupClient::new(&self.url, Address::ZERO, None).map_err(|e| self.err(e))?;
        clock.latest_timestamp().await.map_err(|e| self.err(e))
    }

    /// " (in about N s)" until L1 time `at`, or " (now)" once reached.
    async fn until(&self, at: u64) -> String {
        match self.now().await {
            Ok(now) if now < at => format!(" (in about {} s)", at - now),
            Ok(_) => " (now)".to_string(),
            Err(_) => String::new(),
        }
    }

    async fn limits(&self) -> Result<(U256, U256)> {
        let c = self.contract();
        let min = c.minStake().call().await.map_err(|e| self.err(e))?;
        let max = c.maxStake().call().await.map_err(|e| self.err(e))?;
        Ok((U256::from(min), U256::from(max)))
    }

    async fn info(&self, staker: Address) -> Result<StakerInfo> {
        self.client.staker_info(staker).await.map_err(|e| self.err(e))
    }

    async fn current_epoch(&self) -> Result<u64> {
        self.client.current_epoch().await.map_err(|e| self.err(e))
    }

    async fn epoch_start(&self, epoch: u64) -> Result<u64> {
        self.client.epoch_start(epoch).await.map_err(|e| self.err(e))
    }
}

/// A registered network address as text (lossy for non-UTF-8 bytes).
fn address_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn stake(
    args: &SequencerArgs,
    amount: &str,
    signing_key: Option<Address>,
    network_address: Option<&str>,
    wei: bool,
) -> Result<Output> {
    let signer = l1_signer(args, "stake")?;
    let me = signer.address();
    let s = Staking::connect(args, Some(signer)).await?;
    let value = s.parse(amount, wei)?;
    let info = s.info(me).await?;
    let registered_key = info.signing_key;
    let key_arg = match (registered_key == Address::ZERO, signing_key) {
        (true, None) => bail!(
            "the first stake of {me} registers its node's signing key: pass --signing-key-address 0x<address of the node's --signing-key>"
        ),
        (true, Some(k)) if k == Address::ZERO => bail!("--signing-key-address must not be the zero address"),
        (true, Some(k)) => {
            let holder = s.contract().stakerOfKey(k).call().await.map_err(|e| s.err(e))?;
            if holder != Address::ZERO {
                bail!("signing key {k} is already registered by staker {holder}: each node needs its own signing key");
            }
            k
        }
        (false, Some(k)) if k != registered_key => bail!(
            "{me} registered signing key {registered_key}, and signing keys are permanent: omit --signing-key-address or pass that one"
        ),
        (false, _) => Address::ZERO,
    };
    let network = match network_address {
        Some(text) => {
            PeerAddress::decode(text.as_bytes())
                .map_err(|e| anyhow!("--network-address {text:?}: {e}; expected 'p2p=/ip4/<ip>/tcp/<port>;rpc=http://<host>:<port>'"))?;
            text.as_bytes().to_vec()
        }
        None if info.network_address.is_empty() => {
            bail!("pass --network-address 'p2p=/ip4/<ip>/tcp/<port>;rpc=http://<host>:<port>' so that the other members can reach the node")
        }
        None => vec![],
    };
    let (min, max) = s.limits().await?;
    let new_stake = info.active_stake + value;
    if new_stake < min {
        bail!(
            "the stake would be {}, below the minimum {}: stake at least {}",
            s.show(new_stake),
            s.show(min),
            s.show(min - info.active_stake)
        );
    }
    if new_stake > max {
        bail!(
            "the stake would be {}, above the maximum {}: stake at most {}",
            s.show(new_stake),
            s.show(max),
            s.show(max.saturating_sub(info.active_stake))
        );
    }
    let balance = s.client.token_balance(me).await.map_err(|e| s.err(e))?;
    if balance < value {
        bail!("L1 account {me} has {} but the stake needs {}: get more {} or stake less", s.show(balance), s.show(value), s.symbol);
    }
    let tx = s.client.stake(value, key_arg, &network).await.map_err(|e| anyhow!("staking {} failed: {}", s.show(value), s.err(e)))?;
    let after = s.info(me).await?;
    let epoch = s.current_epoch().await?;
    let from = epoch + 1;
    let start = s.epoch_start(from).await?;
    let mut human = format!(
        "staked {} from {me}: stake now {}\n  signing key {}\n  network address {}",
        s.show(value),
        s.show(after.active_stake),
        after.signing_key,
        address_text(&after.network_address)
    );
    human += &format!("\n  counts for the sets from epoch {from}, which starts at L1 time {start}{}", s.until(start).await);
    human += &format!("\n  L1 tx {tx}");
    Ok((
        json!({
            "staker": me.to_string(),
            "amount": value.to_string(),
            "stake": after.active_stake.to_string(),
            "signingKey": after.signing_key.to_string(),
            "networkAddress": address_text(&after.network_address),
            "fromEpoch": from,
            "l1Tx": tx.to_string(),
        }),
        human,
    ))
}

async fn unstake(args: &SequencerArgs, amount: &str, wei: bool) -> Result<Output> {
    let signer = l1_signer(args, "unstake")?;
    let me = signer.address();
    let s = Staking::connect(args, Some(signer)).await?;
    let value = s.parse(amount, wei)?;
    let info = s.info(me).await?;
    if value > info.active_stake {
        bail!("{me} has {} staked: it cannot unstake {}", s.show(info.active_stake), s.show(value));
    }
    let (min, _) = s.limits().await?;
    let remaining = info.active_stake - value;
    if remaining != U256::ZERO && remaining < min {
        bail!(
            "unstaking {} would leave {}, below the minimum stake {}: unstake everything ({}) or at most {}",
            s.show(value),
            s.show(remaining),
            s.show(min),
            s.show(info.active_stake),
            s.show(info.active_stake - min)
        );
    }
    let tx = s.client.unstake(value).await.map_err(|e| anyhow!("unstaking {} failed: {}", s.show(value), s.err(e)))?;
    let after = s.info(me).await?;
    let epoch = s.current_epoch().await?;
    let mut human = format!("unstaked {} from {me}: stake now {}", s.show(value), s.show(after.active_stake));
    if !after.registered {
        human += " (left the registry)";
    }
    human += &format!("\n  in the sets until the end of epoch {epoch}; out from epoch {}", epoch + 1);
    human += &format!(
        "\n  unbonding {} (slashable until withdrawn), withdrawable from L1 time {}{}: then `tandem sequencer withdraw`",
        s.show(after.unbonding),
        after.unbonding_end,
        s.until(after.unbonding_end).await
    );
    human += &format!("\n  L1 tx {tx}");
    Ok((
        json!({
            "staker": me.to_string(),
            "amount": value.to_string(),
            "stake": after.active_stake.to_string(),
            "unbonding": after.unbonding.to_string(),
            "unbondingEnd": after.unbonding_end,
            "registered": after.registered,
            "l1Tx": tx.to_string(),
        }),
        human,
    ))
}

async fn withdraw(args: &SequencerArgs) -> Result<Output> {
    let signer = l1_signer(args, "withdraw")?;
    let me = signer.address();
    let s = Staking::connect(args, Some(signer)).await?;
    let info = s.info(me).await?;
    if info.unbonding == U256::ZERO {
        bail!("{me} has nothing unbonding: `tandem sequencer unstake --amount …` first");
    }
    let now = s.now().await?;
    if now < info.unbonding_end {
        bail!(
            "{me}'s {} unbond until L1 time {} (in about {} s): withdraw then",
            s.show(info.unbonding),
            info.unbonding_end,
            info.unbonding_end - now
        );
    }
    let tx = s.client.withdraw().await.map_err(|e| anyhow!("withdrawing failed: {}", s.err(e)))?;
    let human = format!("withdrew {} to {me}\n  L1 tx {tx}", s.show(info.unbonding));
    Ok((json!({"staker": me.to_string(), "amount": info.unbonding.to_string(), "l1Tx": tx.to_string()}), human))
}

async fn claim_reward(args: &SequencerArgs, epoch: u64) -> Result<Output> {
    let signer = l1_signer(args, "claim-reward")?;
    let me = signer.address();
    let s = Staking::connect(args, Some(signer)).await?;
    let current = s.current_epoch().await?;
    if epoch >= current {
        let end = s.epoch_start(epoch + 1).await?;
        bail!(
            "epoch {epoch} is not over (the current epoch is {current}): its rewards are claimable from L1 time {end}{}",
            s.until(end).await
        );
    }
    let amount = s.client.claim_reward(epoch).await.map_err(|e| anyhow!("claiming the rewards of epoch {epoch} failed: {}", s.err(e)))?;
    let mut human = format!("claimed {} of epoch {epoch}'s rewards for {me}", s.show(amount));
    if amount == U256::ZERO {
        human += " (the epoch's pool was empty)";
    }
    Ok((json!({"staker": me.to_string(), "epoch": epoch, "amount": amount.to_string()}), human))
}

fn set_json(set: &ActiveSet, materialized: bool) -> Value {
    json!({
        "epoch": set.epoch,
        "materialized": materialized,
        "totalStake": set.total_stake.to_string(),
        "members": set.members.iter().enumerate().map(|(rank, m)| json!({
            "rank": rank,
            "staker": m.staker.to_string(),
            "signingKey": m.signing_key.to_string(),
            "stake": m.stake.to_string(),
        })).collect::<Vec<_>>(),
    })
}

fn set_text(s: &Staking, set: &ActiveSet, title: &str) -> String {
    let mut text = format!("{title}: {} member(s), total {}\n", set.members.len(), s.show(set.total_stake));
    if set.members.is_empty() {
        text += "  (nobody)\n";
    }
    for (rank, m) in set.members.iter().enumerate() {
        let share = if set.total_stake.is_zero() { U256::ZERO } else { m.stake * U256::from(1000) / set.total_stake };
        text += &format!(
            "  #{rank} staker {} signing key {} stake {} ({}.{}%)\n",
            m.staker,
            m.signing_key,
            s.show(m.stake),
            share / U256::from(10),
            share % U256::from(10)
        );
    }
    text
}

async fn status(args: &SequencerArgs, staker: Option<Address>) -> Result<Output> {
    let staker = match (staker, &args.l1_key) {
        (Some(a), _) => Some(a),
        (None, Some(_)) => Some(l1_signer(args, "status")?.address()),
        (None, None) => None,
    };
    let s = Staking::connect(args, None).await?;
    let c = s.contract();
    let now = s.now().await?;
    let epoch = s.current_epoch().await?;
    let length = s.client.epoch_length().await.map_err(|e| s.err(e))?;
    let start = s.epoch_start(epoch).await?;
    let next_start = start + length;
    let (min, max) = s.limits().await?;
    let unbonding_delay = c.unbondingDelay().call().await.map_err(|e| s.err(e))?;
    let max_active = c.maxActive().call().await.map_err(|e| s.err(e))?;
    let materialized = s.client.is_materialized(epoch).await.map_err(|e| s.err(e))?;
    let current = s.client.active_set(epoch).await.map_err(|e| s.err(e))?;
    let next = s.client.active_set(epoch + 1).await.map_err(|e| s.err(e))?;

    let mut human = format!(
        "staking {} on {}: L1 time {now}, epoch {epoch} (started at {start}; epoch {} starts at {next_start}, in about {} s; epochs of {length} s)\n",
        s.address,
        s.url,
        epoch + 1,
        next_start.saturating_sub(now)
    );
    human += &format!(
        "  token {} ({}, {} decimals); stakes of {} to {}; up to {max_active} members per set; unbonding delay {unbonding_delay} s\n",
        s.token,
        s.symbol,
        s.decimals,
        s.show(min),
        s.show(max)
    );
    let current_title = if materialized {
        format!("epoch {epoch} active set (materialized on L1, frozen)")
    } else {
        format!("epoch {epoch} active set (not materialized on L1 yet: what the stakes give; frozen at the first staking call or batch of the epoch)")
    };
    human += &set_text(&s, &current, &current_title);
    human += &set_text(&s, &next, &format!("epoch {} provisional set (changes with the stakes until it starts)", epoch + 1));
    let mut j = json!({
        "staking": s.address.to_string(),
        "token": s.token.to_string(),
        "symbol": s.symbol,
        "decimals": s.decimals,
        "l1Time": now,
        "epoch": epoch,
        "epochLength": length,
        "epochStart": start,
        "nextEpochStart": next_start,
        "minStake": min.to_string(),
        "maxStake": max.to_string(),
        "maxActive": max_active,
        "unbondingDelay": unbonding_delay,
        "currentSet": set_json(&current, materialized),
        "nextSet": set_json(&next, false),
        "staker": Value::Null,
    });
    if let Some(who) = staker {
        let info = s.info(who).await?;
        let balance = s.client.token_balance(who).await.map_err(|e| s.err(e))?;
        let rank = current.members.iter().position(|m| m.staker == who);
        let next_rank = next.members.iter().position(|m| m.staker == who);
        human += &format!("staker {who}\n");
        if info.signing_key == Address::ZERO {
            human += "  never staked (no signing key registered)\n";
        } else {
            human += &format!(
                "  signing key {}, {}\n",
                info.signing_key,
                if info.registered { "registered" } else { "not registered (no stake)" }
            );
            human += &format!("  network address {}\n", address_text(&info.network_address));
        }
        human += &format!("  stake {}\n", s.show(info.active_stake));
        if info.unbonding > U256::ZERO {
            let when = if now >= info.unbonding_end {
                "withdrawable now: `tandem sequencer withdraw`".to_string()
            } else {
                format!("withdrawable from L1 time {} (in about {} s)", info.unbonding_end, info.unbonding_end - now)
            };
            human += &format!("  unbonding {}, {when}\n", s.show(info.unbonding));
        } else {
            human += "  nothing unbonding\n";
        }
        human += &format!("  L1 balance {}\n", s.show(balance));
        human += &match rank {
            Some(r) => format!("  member #{r} of epoch {epoch}'s set"),
            None => format!("  not in epoch {epoch}'s set"),
        };
        human += &match next_rank {
            Some(r) => format!("; #{r} of epoch {}'s provisional set\n", epoch + 1),
            None => format!("; not in epoch {}'s provisional set\n", epoch + 1),
        };
        j["staker"] = json!({
            "address": who.to_string(),
            "signingKey": info.signing_key.to_string(),
            "registered": info.registered,
            "networkAddress": address_text(&info.network_address),
            "stake": info.active_stake.to_string(),
            "unbonding": info.unbonding.to_string(),
            "unbondingEnd": info.unbonding_end,
            "balance": balance.to_string(),
            "rank": rank,
            "nextRank": next_rank,
        });
    }
    Ok((j, human))
}

#[cfg(test)]
mod tests {
    use super::l1_error;
    use alloy::sol_types::SolError;
    use tandem_l1::bindings::SequencerStaking;
    use tandem_l1::{Address, ContractRevert, L1Error};

    #[test]
    fn reverts_print_the_custom_error_by_name_with_its_fields() {
        let staker = Address::repeat_byte(0xac);
        let data = SequencerStaking::NotMember { epoch: 0, staker }.abi_encode();
        let e = l1_error("http://127.0.0.1:8545", L1Error::Reverted(ContractRevert::decode_staking(&data)));
        assert_eq!(e.to_string(), format!("L1 contract reverted: NotMember {{ epoch: 0, staker: {staker} }}"));
        let data = SequencerStaking::ZeroAmount {}.abi_encode();
        let e = l1_error("http://127.0.0.1:8545", L1Error::Reverted(ContractRevert::decode_staking(&data)));
        assert_eq!(e.to_string(), "L1 contract reverted: ZeroAmount");
    }
}
