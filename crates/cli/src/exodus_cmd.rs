//! The wallet's way out when the sequencer is gone or censors (SPEC §16), working from L1
//! alone: `tandem wallet exodus` starts exodus once a priority op is past its deadline,
//! `tandem wallet exit` proves the wallet's balance under the frozen root and takes it to L1,
//! `tandem wallet refunds` pays back every deposit no final batch consumed. None of them asks
//! an L2 node.

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rand::RngCore;
use serde_json::{json, Value};
use std::io::Write;
use std::time::Instant;
use tandem_circuit::exit::{exit_solidity_proof, ExitCircuit, ExitKeys, DEVNET_EXIT_SEED};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_l1::{Address, RollupClient, B256};
use tandem_restore::{restore, RestoreParams, RestoreProgress, DEFAULT_LOG_RANGE};
use tandem_state::signing::exit_message;
use tandem_state::witness::account_witness;
use tandem_types::{L1Address, PackedPubKey};

use crate::keyfile;
use crate::wallet::{parse_l2_token, WalletArgs};

/// The chain an exit rebuilds from L1 (the node's environment variables work here too).
#[derive(Debug, Clone, Args)]
pub struct ExitChainArgs {
    /// L2 chain id.
    #[arg(long, env = "TANDEM_CHAIN_ID")]
    pub chain_id: u64,
    /// Account tree depth (1-24).
    #[arg(long, env = "TANDEM_TREE_DEPTH", default_value_t = 24, value_parser = clap::value_parser!(u8).range(1..=24))]
    pub tree_depth: u8,
    /// Packed public key (0x hex) owning account 0 at genesis.
    #[arg(long, env = "TANDEM_GENESIS_FEE_PUBKEY", value_parser = parse_fee_key)]
    pub genesis_fee_pubkey: PackedPubKey,
    /// L1 block of the rollup deployment (logs are read from here).
    #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
    pub deploy_block: u64,
}

impl ExitChainArgs {
    /// What restore needs to rebuild this chain from L1: the final state, or with
    /// `include_unfinal` also the batches committed and not final yet.
    fn restore_params(&self, include_unfinal: bool) -> RestoreParams {
        RestoreParams {
            chain_id: self.chain_id,
            tree_depth: self.tree_depth,
            genesis_fee_pubkey: self.genesis_fee_pubkey,
            deploy_block: self.deploy_block,
            log_range: DEFAULT_LOG_RANGE,
            include_unfinal,
        }
    }
}

fn parse_fee_key(text: &str) -> Result<PackedPubKey, String> {
    crate::wallet::parse_packed_key(text).map_err(|e| format!("genesis fee public key: {e}"))
}

type Output = (serde_json::Value, String);

fn rollup_address(args: &WalletArgs) -> Result<Address> {
    args.rollup.ok_or_else(|| anyhow!("pass --rollup <address> (or TANDEM_ROLLUP): exodus commands ask no L2 node"))
}

fn client(args: &WalletArgs, what: &str) -> Result<RollupClient> {
    let signer = crate::wallet::l1_signer(args, what)?;
    RollupClient::new(&args.l1_rpc, rollup_address(args)?, Some(signer)).map_err(|e| anyhow!("{e}"))
}

/// `tandem wallet exodus`: activates exodus (refused by L1 until a priority op is past its
/// deadline).
pub async fn activate(args: &WalletArgs, deploy_block: u64) -> Result<Output> {
    let client = client(args, "exodus")?;
    let state = client.exodus_state().await.map_err(|e| anyhow!("{e}"))?;
    if state.active {
        bail!("exodus is already active (frozen root {}); exit with `tandem wallet exit`", state.state_root);
    }
    let now = client.latest_timestamp().await.map_err(|e| anyhow!("{e}"))?;
    match client.oldest_pending_priority_op().await.map_err(|e| anyhow!("{e}"))? {
        None => bail!("no priority op is pending: the sequencer is serving the queue, exodus cannot start"),
        Some(op) if op.deadline >= now => bail!(
            "priority op {} is pending but not expired: exodus can start after L1 time {} ({} s from now)",
            op.queue_index,
            op.deadline,
            op.deadline + 1 - now
        ),
        Some(_) => {}
    }
    let tx = client.activate_exodus(deploy_block).await.map_err(|e| anyhow!("activating exodus: {e}"))?;
    let state = client.exodus_state().await.map_err(|e| anyhow!("{e}"))?;
    let out = json!({
        "l1Tx": tx.to_string(),
        "stateRoot": state.state_root.to_string(),
        "refundableFrom": state.priority_end,
    });
    let text = format!(
        "exodus active (L1 tx {tx}): commits stopped; accounts exit against root {}; deposits from queue index {} on are refundable",
        state.state_root, state.priority_end
    );
    Ok((out, text))
}

/// `to`, or else the address of the client's --l1-key.
fn recipient_or_signer(client: &RollupClient, to: Option<Address>) -> Result<Address> {
    match to {
        Some(a) => Ok(a),
        None => client.signer().ok_or_else(|| anyhow!("no L1 signer")),
    }
}

/// `tandem wallet exit`: rebuilds the final state from L1, proves the wallet's whole balance of
/// `token` and sends the exit to `to` (default: the --l1-key address).
pub async fn exit(args: &WalletArgs, chain: &ExitChainArgs, token: &str, to: Option<Address>) -> Result<Output> {
    let client = client(args, "exit")?;
    let recipient = recipient_or_signer(&client, to)?;
    let token = parse_l2_token(token)?;
    let state = client.exodus_state().await.map_err(|e| anyhow!("{e}"))?;
    if !state.active {
        bail!("exodus is not active: exits open only after `tandem wallet exodus` (once a priority op is past its deadline)");
    }
    let key = keyfile::load(&args.wallet)?;
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "rebuilding the final state from L1 (no L2 node)…");
    let params = chain.restore_params(false);
    let mut report = |p: RestoreProgress| {
        if let RestoreProgress::Batch { number, last } = p {
            if number == last || number % 50 == 0 {
                let _ = writeln!(std::io::stderr(), "  batch {number}/{last} applied, roots match");
            }
        }
    };
    let restored = restore(client.provider(), client.rollup(), params, &mut report).await?;
    if restored.root() != state.state_root {
        bail!("the state rebuilt from L1 has root {} but exodus froze root {}: wrong chain parameters?", restored.root(), state.state_root);
    }
    let pubkey = key.public_key().pack();
    let account =
        restored.ledger.index_of(&pubkey).ok_or_else(|| anyhow!("the wallet's key owns no account in the final state: nothing to exit"))?;
    if client.is_exited(account.get(), token.get()).await.map_err(|e| anyhow!("{e}"))? {
        bail!("account {} already exited token {}", account.get(), token.get());
    }
    let witness = account_witness(&restored.ledger, account, token);
    let to_l1 = L1Address(recipient.0 .0);
    let signature = key.sign(exit_message(chain.chain_id, account, token, &to_l1));
    let circuit = ExitCircuit::new(chain.chain_id, restored.ledger.root(), &witness, to_l1, &signature)?;
    let amount = circuit.statement().amount;
    let _ = writeln!(
        stderr,
        "proving the exit of {amount} (token {}) from account {} (INSECURE devnet exit keys from the public seed {DEVNET_EXIT_SEED})…",
        token.get(),
        account.get()
    );
    let started = Instant::now();
    let keys = ExitKeys::setup_insecure(chain.tree_depth, chain.chain_id, DEVNET_EXIT_SEED)?;
    let proof = keys.prove(circuit, rand::rngs::OsRng.next_u64())?;
    let prove_seconds = started.elapsed().as_secs_f64();
    let tx = client
        .exit(account.get(), token.get(), amount, recipient, exit_solidity_proof(&proof))
        .await
        .map_err(|e| anyhow!("exit refused: {e}"))?;
    let out = json!({
        "account": account.get(),
        "token": token.get(),
        "amount": amount.to_string(),
        "recipient": recipient.to_string(),
        "stateRoot": B256::from(fr_to_be_bytes(&restored.ledger.root())).to_string(),
        "l1Tx": tx.to_string(),
        "proveSeconds": prove_seconds,
    });
    let text = format!(
        "exited {amount} of token {} from account {} to {recipient} (L1 tx {tx}; proof in {prove_seconds:.1} s)",
        token.get(),
        account.get()
    );
    Ok((out, text))
}

/// `tandem wallet force-withdraw`: finds the wallet's account from L1 alone (the latest
/// committed state), signs a forced-withdrawal request for `amount` (`None`: the whole
/// balance) of `token` to `to` and queues it in the inbox with its fee. The sequencer must
/// include it before the priority deadline, or anyone may start exodus.
pub async fn force_withdraw(
    args: &WalletArgs,
    chain: &ExitChainArgs,
    inbox: Address,
    token: &str,
    amount: Option<u128>,
    to: Option<Address>,
) -> Result<Output> {
    let client = client(args, "force-withdraw")?;
    let recipient = recipient_or_signer(&client, to)?;
    let token = parse_l2_token(token)?;
    let key = keyfile::load(&args.wallet)?;
    let _ = writeln!(std::io::stderr(), "finding the wallet's account from L1 (no L2 node)…");
    let params = chain.restore_params(true);
    let restored = restore(client.provider(), client.rollup(), params, &mut |_| {}).await?;
    let account = restored
        .ledger
        .index_of(&key.public_key().pack())
        .ok_or_else(|| anyhow!("the wallet's key owns no account on L2 yet: nothing to withdraw"))?;
    let request_id = rand::rngs::OsRng.next_u64();
    let request = tandem_state::signing::sign_forced_withdrawal(
        &key,
        chain.chain_id,
        account,
        token,
        L1Address(recipient.0 .0),
        amount.unwrap_or(0),
        request_id,
    );
    let signer = crate::wallet::l1_signer(args, "force-withdraw")?;
    let forced = tandem_l1::ForcedClient::new(&args.l1_rpc, inbox, Some(signer)).map_err(|e| anyhow!("{e}"))?;
    let queue_index = forced.request(&request).await.map_err(|e| anyhow!("forced withdrawal refused: {e}"))?;
    let deadline = client.priority_op_deadline(queue_index).await.map_err(|e| anyhow!("{e}"))?;
    let what = amount.map_or("the whole balance".to_string(), |a| a.to_string());
    let out = json!({
        "queueIndex": queue_index,
        "account": account.get(),
        "token": token.get(),
        "amount": amount.unwrap_or(0).to_string(),
        "recipient": recipient.to_string(),
        "requestId": request_id,
        "deadline": deadline,
    });
    let text = format!(
        "forced withdrawal of {what} (token {}) from account {} to {recipient} queued at index {queue_index}; the sequencer must include it by L1 time {deadline}, or anyone may start exodus",
        token.get(),
        account.get()
    );
    Ok((out, text))
}

/// `tandem wallet refunds`: refunds every deposit that no final batch consumed and that is
/// not refunded yet, each to its own depositor.
pub async fn refunds(args: &WalletArgs, deploy_block: u64, inbox: Option<Address>) -> Result<Output> {
    let client = client(args, "refunds")?;
    let state = client.exodus_state().await.map_err(|e| anyhow!("{e}"))?;
    if !state.active {
        bail!("exodus is not active: deposits are refunded only during exodus");
    }
    let head = client.head().await.map_err(|e| anyhow!("{e}"))?;
    let deposits = client.deposits(deploy_block, head).await.map_err(|e| anyhow!("{e}"))?;
    let mut refunded = Vec::new();
    for d in deposits.iter().filter(|d| d.queue_index >= state.priority_end) {
        if client.is_deposit_refunded(d.queue_index).await.map_err(|e| anyhow!("{e}"))? {
            continue;
        }
        let depositor = client.depositor_of(d.queue_index).await.map_err(|e| anyhow!("{e}"))?;
        let tx = client.refund_deposit(d).await.map_err(|e| anyhow!("refunding deposit {}: {e}", d.queue_index))?;
        refunded.push(json!({
            "queueIndex": d.queue_index,
            "depositor": depositor.to_string(),
            "token": d.deposit.token.get(),
            "amount": d.deposit.amount.to_string(),
            "l1Tx": tx.to_string(),
        }));
    }
    let text = if refunded.is_empty() {
        "no deposit left to refund".to_string()
    } else {
        refunded
            .iter()
            .map(|r| {
                format!(
                    "refunded deposit {} ({} of token {}) to {}",
                    r["queueIndex"],
                    r["amount"].as_str().unwrap_or("?"),
                    r["token"],
                    r["depositor"].as_str().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let Some(inbox) = inbox else {
        return Ok((json!({ "refunded": refunded }), text));
    };
    let (fees, fees_text) = refund_forced_fees(args, inbox, deploy_block, head, state.priority_end).await?;
    Ok((json!({ "refunded": refunded, "forcedFees": fees }), format!("{text}\n{fees_text}")))
}

/// The forced-withdrawal half of `tandem wallet refunds`: credits the fee of every request
/// at or after `priority_end` (exodus dropped it) and not settled yet back to its requester,
/// then pays out what the inbox owes the signer.
async fn refund_forced_fees(args: &WalletArgs, inbox: Address, deploy_block: u64, head: u64, priority_end: u64) -> Result<(Value, String)> {
    let signer = crate::wallet::l1_signer(args, "refunds")?;
    let me = signer.address();
    let forced = tandem_l1::ForcedClient::new(&args.l1_rpc, inbox, Some(signer)).map_err(|e| anyhow!("{e}"))?;
    let mut credited = Vec::new();
    for request in forced.requests(deploy_block, head).await.map_err(|e| anyhow!("{e}"))? {
        let q = request.queue_index;
        if q < priority_end || forced.is_fee_settled(q).await.map_err(|e| anyhow!("{e}"))? {
            continue;
        }
        let tx = forced.refund_fee(q).await.map_err(|e| anyhow!("refunding the fee of forced withdrawal {q}: {e}"))?;
        credited.push(json!({ "queueIndex": q, "l1Tx": tx.to_string() }));
    }
    let owed = forced.fees_owed(me).await.map_err(|e| anyhow!("{e}"))?;
    let paid = if owed.is_zero() { None } else { Some(forced.withdraw_fees().await.map_err(|e| anyhow!("withdrawing fees: {e}"))?) };
    let text = format!("credited {} forced-withdrawal fee(s) back to their requesters; paid {owed} wei owed to {me}", credited.len());
    Ok((json!({ "credited": credited, "paidTo": me.to_string(), "paid": owed.to_string(), "l1Tx": paid.map(|t| t.to_string()) }), text))
}
