//! `tandem bond`: a single sequencer's bond in the rollup's dispute game (SPEC §17). A single
//! sequencer commits nothing without it, and loses all of it when a batch it committed is
//! reverted for an unanswered challenge. Post it, ask for it back (commits stop at once),
//! withdraw it once released, and show its status.

use crate::amount::{format_units, parse_units};
use crate::chain_args::{l1_error, parse_l1_key};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use tandem_l1::{Address, DisputeClient, RollupClient, SequencerBond, U256};

/// `tandem bond`.
#[derive(Debug, Args)]
pub struct BondArgs {
    /// L1 JSON-RPC URL.
    #[arg(long, global = true, env = "TANDEM_L1_RPC", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc: String,
    /// The rollup's DisputeGame contract (`tandem devnet` prints it).
    #[arg(long, global = true, env = "TANDEM_DISPUTE_GAME")]
    pub game: Option<Address>,
    /// The sequencer's L1 private key (0x hex): the key its node commits with.
    #[arg(long, global = true, env = "TANDEM_L1_KEY", hide_env_values = true)]
    pub l1_key: Option<String>,
    /// Machine-readable JSON output (amounts in wei).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: BondCommand,
}

/// Bond subcommands.
#[derive(Debug, Subcommand)]
pub enum BondCommand {
    /// Add ETH to the sequencer's bond (it must hold at least the game's `sequencerBond`).
    Post {
        /// Amount in ETH with decimals (e.g. 10 or 2.5).
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
    },
    /// Ask for the bond back: the sequencer commits nothing from now on, and may withdraw
    /// once the challenge window of its last batch and two response windows have passed.
    Leave,
    /// Withdraw the whole bond once released.
    Withdraw,
    /// The required bond, and what a sequencer holds (--sequencer, else the address of
    /// --l1-key, else the rollup's sequencer).
    Status {
        /// The sequencer to show.
        #[arg(long)]
        sequencer: Option<Address>,
    },
}

/// Runs a bond command.
pub async fn run(args: BondArgs) -> Result<()> {
    let game_address =
        args.game.ok_or_else(|| anyhow!("pass --game 0x<DisputeGame address> (or set TANDEM_DISPUTE_GAME); `tandem devnet` prints it"))?;
    let signer = args.l1_key.as_deref().map(parse_l1_key).transpose()?;
    let err = |e: tandem_l1::L1Error| l1_error(&args.l1_rpc, e);
    let game = DisputeClient::new(&args.l1_rpc, game_address, signer.clone()).map_err(err)?;
    let required = game.params().await.map_err(err)?.sequencer_bond;
    if required == U256::ZERO {
        bail!("the game at {game_address} takes no sequencer bond: it serves a staked rollup, whose set's stake is the bond (`tandem sequencer`)");
    }
    let sender = || {
        signer
            .as_ref()
            .map(|s| s.address())
            .ok_or_else(|| anyhow!("this sends an L1 transaction from the sequencer: pass --l1-key 0x<private key> (or set TANDEM_L1_KEY)"))
    };
    let out = match &args.command {
        BondCommand::Post { amount } => {
            let me = sender()?;
            let value = U256::from(parse_units(amount, 18)?);
            if value == U256::ZERO {
                bail!("--amount must be more than 0 ETH");
            }
            let tx = game.post_sequencer_bond(value).await.map_err(err)?;
            let held = game.sequencer_bond_of(me).await.map_err(err)?.amount;
            let ok = if held >= required { "enough to commit" } else { "NOT enough to commit" };
            (
                json!({"sequencer": me.to_string(), "posted": value.to_string(), "held": held.to_string(), "required": required.to_string(), "tx": tx.to_string()}),
                format!("posted {} ETH: {me} holds {} ETH ({ok}: {} ETH required); L1 tx {tx}", eth(value), eth(held), eth(required)),
            )
        }
        BondCommand::Leave => {
            let me = sender()?;
            let unlock_at = game.request_sequencer_bond_withdrawal().await.map_err(err)?;
            (
                json!({"sequencer": me.to_string(), "unlockAt": unlock_at}),
                format!("{me} commits nothing from now on; its bond is withdrawable from L1 time {unlock_at} (`tandem bond withdraw`)"),
            )
        }
        BondCommand::Withdraw => {
            let me = sender()?;
            let bond = game.sequencer_bond_of(me).await.map_err(err)?;
            let tx = game.withdraw_sequencer_bond().await.map_err(err)?;
            (
                json!({"sequencer": me.to_string(), "withdrawn": bond.amount.to_string(), "tx": tx.to_string()}),
                format!("withdrew {} ETH to {me}; L1 tx {tx}", eth(bond.amount)),
            )
        }
        BondCommand::Status { sequencer } => {
            let rollup = RollupClient::new(&args.l1_rpc, game.rollup().await.map_err(err)?, None).map_err(err)?;
            let current = rollup.sequencer().await.map_err(err)?;
            let who = sequencer.or(signer.as_ref().map(|s| s.address())).unwrap_or(current);
            let bond = game.sequencer_bond_of(who).await.map_err(err)?;
            let now = rollup.latest_timestamp().await.map_err(err)?;
            (
                json!({
                    "game": game_address.to_string(), "required": required.to_string(), "sequencer": who.to_string(),
                    "isRollupSequencer": who == current, "held": bond.amount.to_string(), "unlockAt": bond.unlock_at, "l1Time": now,
                }),
                format!(
                    "game {game_address}: a sequencer needs {} ETH\n{who}{}: {}",
                    eth(required),
                    if who == current { " (the rollup's sequencer)" } else { "" },
                    describe(&bond, required, now)
                ),
            )
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out.0)?);
    } else {
        println!("{}", out.1);
    }
    Ok(())
}

fn eth(wei: U256) -> String {
    format_units(wei.saturating_to(), 18)
}

/// A bond's state in words at L1 time `now`.
fn describe(bond: &SequencerBond, required: U256, now: u64) -> String {
    let held = eth(bond.amount);
    match (bond.amount.is_zero(), bond.unlock_at) {
        (true, _) => "no bond: commits are refused".into(),
        (false, 0) if bond.amount < required => format!("holds {held} ETH, below the requirement: commits are refused"),
        (false, 0) => format!("holds {held} ETH: may commit"),
        (false, at) if now < at => {
            format!("holds {held} ETH, leaving: commits refused, withdrawable from L1 time {at} (in {} s)", at - now)
        }
        (false, at) => format!("holds {held} ETH, leaving: withdrawable now (since L1 time {at})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_each_state() {
        let need = U256::from(10u64);
        let b = |amount: u64, unlock_at| SequencerBond { amount: U256::from(amount), unlock_at };
        assert_eq!(describe(&b(0, 0), need, 5), "no bond: commits are refused");
        assert!(describe(&b(9, 0), need, 5).ends_with("below the requirement: commits are refused"));
        assert!(describe(&b(10, 0), need, 5).ends_with(": may commit"));
        assert!(describe(&b(10, 8), need, 5).ends_with("withdrawable from L1 time 8 (in 3 s)"));
        assert!(describe(&b(10, 8), need, 8).ends_with("withdrawable now (since L1 time 8)"));
    }
}
