//! `tandem wallet`: an L2 key in a file, deposits and claims on L1, transfers and
//! withdrawals on L2.

use crate::amount::{parse_amount, show};
use crate::chain_args::l1_error;
use crate::keyfile::{self, hex0x, UNENCRYPTED_WARNING};
use crate::rpc::L2Client;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tandem_api::{AccountRef, AccountView, BatchStatus, BatchView, ChainParams, TxStatus};
use tandem_chain::{Lane, TxHash};
use tandem_crypto::field::{fr_to_be_bytes, fr_to_decimal};
use tandem_crypto::{PrivateKey, PublicKey};
use tandem_l1::{Address, PrivateKeySigner, RollupClient, B256, U256};
use tandem_types::{AccountIndex, L1Address, PackError, PackedAmount, PackedFee, PackedPubKey, TokenId, TransferTx, Tx, WithdrawTx};

/// L2 token id of the devnet token (`tandem devnet` registers it first, after ETH).
pub const DEV_TOKEN_ID: u8 = 1;

/// `tandem wallet`.
#[derive(Debug, Args)]
pub struct WalletArgs {
    /// Wallet file (32-byte seed, stored unencrypted: devnet wallet).
    #[arg(long, global = true, env = "TANDEM_WALLET", default_value = "./tandem-wallet.json")]
    pub wallet: PathBuf,
    /// L2 node JSON-RPC URL.
    #[arg(long, global = true, env = "TANDEM_RPC", default_value = "http://127.0.0.1:8645")]
    pub rpc: String,
    /// L1 JSON-RPC URL.
    #[arg(long, global = true, env = "TANDEM_L1_RPC", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc: String,
    /// L1 private key (0x hex) paying for L1 transactions (deposit, claim).
    #[arg(long, global = true, env = "TANDEM_L1_KEY", hide_env_values = true)]
    pub l1_key: Option<String>,
    /// Rollup contract address; by default asked from the node (`tandem_chainParams`).
    #[arg(long, global = true, env = "TANDEM_ROLLUP")]
    pub rollup: Option<Address>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// Wallet subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a new wallet file with a fresh random key.
    New,
    /// Create a wallet file from an existing 32-byte seed (hex).
    Import {
        /// The seed, 64 hex digits (optional 0x).
        seed: String,
    },
    /// Show the L2 public key: packed (what others send to) and its x/y coordinates.
    Address {
        /// Print only the packed key (for `--to $(tandem wallet address --packed)`).
        #[arg(long)]
        packed: bool,
    },
    /// Deposit from L1 (needs --l1-key): ETH or an ERC-20 registered with the rollup.
    Deposit {
        /// Amount in decimal units (18 decimals, e.g. 1.5), or the smallest unit with --wei.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// eth, dev (the devnet token) or an ERC-20 address.
        #[arg(long, default_value = "eth")]
        token: String,
        /// Amounts are integers in the smallest unit.
        #[arg(long)]
        wei: bool,
        /// Deposit to this packed L2 key instead of the wallet's own.
        #[arg(long)]
        to: Option<String>,
        /// Wait until the node has credited the deposit on L2.
        #[arg(long)]
        wait: bool,
    },
    /// Transfer on L2 to a packed public key (or `#<account index>`).
    Transfer {
        /// Recipient packed public key (0x + 64 hex) or `#<account index>`.
        #[arg(long)]
        to: String,
        /// Amount in decimal units (e.g. 1.5) or with --wei the smallest unit; must be exactly representable (about 8 significant digits).
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// eth, dev or a token id.
        #[arg(long, default_value = "eth")]
        token: String,
        /// Fee, same units as the amount; rounded UP to the next representable fee (one significant digit 1-7).
        #[arg(long, default_value = "0", allow_hyphen_values = true)]
        fee: String,
        /// Amount and fee are integers in the smallest unit.
        #[arg(long)]
        wei: bool,
        /// Wait until the transaction is included or rejected.
        #[arg(long)]
        wait: bool,
    },
    /// Withdraw from L2 to an L1 address (claim it on L1 with `claim` once its batch is final).
    Withdraw {
        /// L1 recipient; defaults to the address of --l1-key.
        #[arg(long)]
        to: Option<Address>,
        /// Amount (exact, any value) in decimal units or with --wei the smallest unit.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// eth, dev or a token id.
        #[arg(long, default_value = "eth")]
        token: String,
        /// Fee, rounded UP to the next representable fee.
        #[arg(long, default_value = "0", allow_hyphen_values = true)]
        fee: String,
        /// Amount and fee are integers in the smallest unit.
        #[arg(long)]
        wei: bool,
        /// Wait until the transaction is included or rejected.
        #[arg(long)]
        wait: bool,
        /// Fast finality: pay at least the chain's fast-withdrawal fee so that the sequencer
        /// puts the withdrawal in a ZK-lane batch, final on L1 as soon as it is proven.
        #[arg(long)]
        fast: bool,
    },
    /// Claim a withdrawal of a final batch on L1 (needs --l1-key; pays the withdrawal's recipient).
    Claim {
        /// Batch number.
        #[arg(long)]
        batch: u64,
        /// Withdrawal index within the batch.
        #[arg(long)]
        index: u32,
    },
    /// Start exodus on L1 once a priority op is past its deadline (anyone may; needs
    /// --rollup and --l1-key, no L2 node): commits stop and every account can exit.
    Exodus {
        /// L1 block of the rollup deployment (where the genesis record is found).
        #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
        deploy_block: u64,
    },
    /// During exodus: take the wallet's whole balance of a token to L1 with an exit proof,
    /// rebuilt from L1 alone (needs --rollup, --l1-key and the chain parameters, no L2 node).
    Exit {
        /// The chain to rebuild.
        #[command(flatten)]
        chain: crate::exodus_cmd::ExitChainArgs,
        /// eth, dev or a token id.
        #[arg(long, default_value = "eth")]
        token: String,
        /// L1 recipient; defaults to the address of --l1-key.
        #[arg(long)]
        to: Option<Address>,
    },
    /// Ask L1 to force a withdrawal the sequencer will not serve (needs --rollup, --l1-key,
    /// the chain parameters and the inbox, no L2 node): it joins the priority queue and must
    /// be included before its deadline; claim it like any withdrawal once its batch is final.
    ForceWithdraw {
        /// The chain (the account is found from L1).
        #[command(flatten)]
        chain: crate::exodus_cmd::ExitChainArgs,
        /// The forced-withdrawal inbox (`tandem devnet` prints it).
        #[arg(long, env = "TANDEM_FORCED_INBOX")]
        inbox: Address,
        /// eth, dev or a token id.
        #[arg(long, default_value = "eth")]
        token: String,
        /// Amount (18 decimals, or base units with --wei); the whole balance when absent.
        #[arg(long)]
        amount: Option<String>,
        /// --amount is in base units.
        #[arg(long)]
        wei: bool,
        /// L1 recipient; defaults to the address of --l1-key.
        #[arg(long)]
        to: Option<Address>,
    },
    /// During exodus: refund every deposit no final batch consumed, each to its depositor
    /// (and, with --inbox, the fee of every dropped forced withdrawal to its requester).
    Refunds {
        /// L1 block of the rollup deployment (deposit events are read from here).
        #[arg(long, env = "TANDEM_DEPLOY_BLOCK", default_value_t = 0)]
        deploy_block: u64,
        /// The forced-withdrawal inbox: also credit the fee of every forced withdrawal exodus
        /// dropped back to its requester, then pay out what the inbox owes --l1-key.
        #[arg(long, env = "TANDEM_FORCED_INBOX")]
        inbox: Option<Address>,
    },
    /// L2 balances and nonce of the wallet's account.
    Balance,
    /// Status of a transaction (and its batch and withdrawal), or of the chain and wallet.
    Status {
        /// Transaction hash (0x…) printed by transfer/withdraw.
        hash: Option<String>,
    },
}

/// Runs a wallet command.
pub async fn run(args: WalletArgs) -> Result<()> {
    let out = match &args.command {
        WalletCommand::New => {
            let key = PrivateKey::generate(&mut rand::rngs::OsRng);
            keyfile::create(&args.wallet, &key)?;
            eprintln!("{UNENCRYPTED_WARNING}");
            let mut o = address_output(&key);
            o.1 = format!("created wallet {}\n{}", args.wallet.display(), o.1);
            o.0["wallet"] = json!(args.wallet.display().to_string());
            o
        }
        WalletCommand::Import { seed } => {
            let key = PrivateKey::from_seed(keyfile::parse_seed(seed)?);
            keyfile::create(&args.wallet, &key)?;
            eprintln!("{UNENCRYPTED_WARNING}");
            let mut o = address_output(&key);
            o.1 = format!("imported into wallet {}\n{}", args.wallet.display(), o.1);
            o.0["wallet"] = json!(args.wallet.display().to_string());
            o
        }
        WalletCommand::Address { packed } => {
            let key = keyfile::load(&args.wallet)?;
            let o = address_output(&key);
            if *packed && !args.json {
                println!("{}", hex0x(&key.public_key().pack().0));
                return Ok(());
            }
            o
        }
        WalletCommand::Deposit { amount, token, wei, to, wait } => deposit(&args, amount, token, *wei, to.as_deref(), *wait).await?,
        WalletCommand::Transfer { to, amount, token, fee, wei, wait } => transfer(&args, to, amount, token, fee, *wei, *wait).await?,
        WalletCommand::Withdraw { to, amount, token, fee, wei, wait, fast } => {
            withdraw(&args, *to, amount, token, fee, *wei, *wait, *fast).await?
        }
        WalletCommand::Claim { batch, index } => claim(&args, *batch, *index).await?,
        WalletCommand::Exodus { deploy_block } => crate::exodus_cmd::activate(&args, *deploy_block).await?,
        WalletCommand::Exit { chain, token, to } => crate::exodus_cmd::exit(&args, chain, token, *to).await?,
        WalletCommand::ForceWithdraw { chain, inbox, token, amount, wei, to } => {
            let amount = amount.as_deref().map(|a| parse_amount(a, *wei)).transpose()?;
            if amount == Some(0) {
                bail!("a forced withdrawal of 0 is refused: leave out --amount to withdraw the whole balance");
            }
            crate::exodus_cmd::force_withdraw(&args, chain, *inbox, token, amount, *to).await?
        }
        WalletCommand::Refunds { deploy_block, inbox } => crate::exodus_cmd::refunds(&args, *deploy_block, *inbox).await?,
        WalletCommand::Balance => balance(&args).await?,
        WalletCommand::Status { hash } => status(&args, hash.as_deref()).await?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out.0)?);
    } else {
        println!("{}", out.1.trim_end());
    }
    Ok(())
}

type Output = (Value, String);

fn address_output(key: &PrivateKey) -> Output {
    let public = key.public_key();
    let packed = hex0x(&public.pack().0);
    let x = fr_to_decimal(&public.x());
    let y = fr_to_decimal(&public.y());
    let human = format!("L2 public key (packed): {packed}\n  x: {x}\n  y: {y}");
    (json!({"publicKey": packed, "x": x, "y": y}), human)
}

/// Token name for display.
pub fn token_name(id: u8) -> String {
    match id {
        0 => "ETH".into(),
        DEV_TOKEN_ID => "DEV".into(),
        n => format!("token #{n}"),
    }
}

/// Parses an L2 token argument: `eth`, `dev` or an id.
pub fn parse_l2_token(text: &str) -> Result<TokenId> {
    let id = match text.trim().to_ascii_lowercase().as_str() {
        "eth" | "0" => 0,
        "dev" | "tdt" => DEV_TOKEN_ID as u32,
        other => other.parse::<u32>().map_err(|_| anyhow!("unknown token {text:?}: use eth, dev or a token id (0-31)"))?,
    };
    TokenId::new(id).map_err(|_| anyhow!("token id {id} is out of range: token ids are 0-31"))
}

/// Parses `0x` + 64 hex digits as a packed Baby Jubjub public key, refusing bytes that are
/// not a valid key, with a message that says which.
pub fn parse_packed_key(text: &str) -> Result<PackedPubKey> {
    let t = text.trim();
    let h = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(h)
        .map_err(|_| anyhow!("{t:?} is not a packed public key: expected 0x + 64 hex digits (see `tandem wallet address`)"))?;
    let arr: [u8; 32] =
        bytes.try_into().map_err(|_| anyhow!("{t:?} is not a packed public key: expected 32 bytes (0x + 64 hex digits)"))?;
    let packed = PackedPubKey(arr);
    PublicKey::unpack(&packed)
        .map_err(|e| anyhow!("{t} is not a valid Baby Jubjub public key ({e}): check the recipient's `tandem wallet address`"))?;
    Ok(packed)
}

pub(crate) fn l1_signer(args: &WalletArgs, what: &str) -> Result<PrivateKeySigner> {
    let key = args.l1_key.as_deref().ok_or_else(|| {
        anyhow!(
            "{what} sends an L1 transaction: pass --l1-key 0x<private key> (or set TANDEM_L1_KEY); `tandem devnet` prints funded dev keys"
        )
    })?;
    crate::chain_args::parse_l1_key(key)
}

async fn rollup_address(args: &WalletArgs) -> Result<(Address, Option<ChainParams>)> {
    if let Some(r) = args.rollup {
        return Ok((r, None));
    }
    let l2 = L2Client::new(&args.rpc)?;
    let params = l2.chain_params().await.context("finding the rollup contract (or pass --rollup 0x…)")?;
    Ok((params.rollup, Some(params)))
}

fn u256_of(fr: &tandem_crypto::Fr) -> U256 {
    U256::from_be_bytes(fr_to_be_bytes(fr))
}

async fn deposit(args: &WalletArgs, amount: &str, token: &str, wei: bool, to: Option<&str>, wait: bool) -> Result<Output> {
    let recipient = match to {
        Some(t) => PublicKey::unpack(&parse_packed_key(t)?).map_err(|e| anyhow!("{e}"))?,
        None => keyfile::load(&args.wallet)?.public_key(),
    };
    let value = parse_amount(amount, wei)?;
    if value == 0 {
        bail!("deposit amount must be above zero");
    }
    let signer = l1_signer(args, "deposit")?;
    let from = signer.address();
    let (rollup, params) = rollup_address(args).await?;
    let client = RollupClient::new(&args.l1_rpc, rollup, Some(signer)).map_err(|e| l1_error(&args.l1_rpc, e))?;
    use alloy::providers::Provider;
    let l1_chain = client.provider().get_chain_id().await.map_err(|e| l1_error(&args.l1_rpc, e))?;
    if let Some(p) = &params {
        if p.l1_chain_id != l1_chain {
            bail!("the node's L1 is chain {} but {} is chain {l1_chain}: pass the matching --l1-rpc", p.l1_chain_id, args.l1_rpc);
        }
    }
    let code = client.provider().get_code_at(rollup).await.map_err(|e| l1_error(&args.l1_rpc, e))?;
    if code.is_empty() {
        bail!("no contract at rollup address {rollup} on {}: wrong --rollup or --l1-rpc (is this the devnet's L1?)", args.l1_rpc);
    }
    let (token_id, token_address) = resolve_deposit_token(&client, token).await?;
    let have = client.balance_of(from, token_address).await.map_err(|e| l1_error(&args.l1_rpc, e))?;
    if have < U256::from(value) {
        bail!(
            "L1 account {from} has {} {} but the deposit needs {}: fund it or use another --l1-key",
            show(u128::try_from(have).unwrap_or(u128::MAX), wei),
            token_name(token_id),
            show(value, wei)
        );
    }
    let packed = hex0x(&recipient.pack().0);
    let who = key_ref(&recipient);
    let l2 = L2Client::new(&args.rpc)?;
    let before = if wait { l2.account(who).await?.map(|a| a.balance(token_id)).unwrap_or(0) } else { 0 };
    let x = u256_of(&recipient.x());
    let y = u256_of(&recipient.y());
    let queue_index = match token_address {
        None => client.deposit_eth(x, y, U256::from(value)).await,
        Some(t) => client.deposit_erc20(t, x, y, value).await,
    }
    .map_err(|e| l1_error(&args.l1_rpc, e))?;
    let mut human = format!(
        "deposited {} {} from L1 {from} to L2 key {packed}\n  rollup {rollup}, priority queue index {queue_index}",
        show(value, wei),
        token_name(token_id)
    );
    let mut credited = None;
    if wait {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(a) = l2.account(who).await? {
                if a.balance(token_id) >= before.saturating_add(value) {
                    human += &format!(
                        "\n  credited on L2: account #{} now has {} {}",
                        a.index,
                        show(a.balance(token_id), wei),
                        token_name(token_id)
                    );
                    credited = Some(a.index);
                    break;
                }
            }
            if Instant::now() > deadline {
                bail!("{human}\n  not credited on L2 after 120 s: is the node following this L1 (`tandem wallet status`)?");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    } else {
        human += "\n  the node credits it once the L1 block is confirmed: check with `tandem wallet balance` (or pass --wait)";
    }
    Ok((
        json!({
            "queueIndex": queue_index,
            "tokenId": token_id,
            "token": token_address.map(|a| a.to_string()),
            "amount": value.to_string(),
            "from": from.to_string(),
            "rollup": rollup.to_string(),
            "publicKey": packed,
            "creditedTo": credited,
        }),
        human,
    ))
}

async fn resolve_deposit_token(client: &RollupClient, token: &str) -> Result<(u8, Option<Address>)> {
    let t = token.trim().to_ascii_lowercase();
    let rollup = tandem_l1::bindings::TandemRollup::new(client.rollup(), client.provider().clone());
    match t.as_str() {
        "eth" | "0" => Ok((0, None)),
        _ if t.starts_with("0x") => {
            let address = Address::from_str(&t).map_err(|_| anyhow!("--token {token:?} is not an address"))?;
            let id =
                rollup.tokenIdOf(address).call().await.map_err(|e| anyhow!("token {address} is not registered with the rollup ({e})"))?;
            if id == 0 {
                bail!("token {address} is not registered with the rollup: only registered ERC-20s can be deposited");
            }
            Ok((id, Some(address)))
        }
        _ => {
            let id = parse_l2_token(&t)?.get();
            if id == 0 {
                return Ok((0, None));
            }
            let address = client.token_address(id).await.map_err(|e| anyhow!("{e}"))?;
            if address == Address::ZERO {
                bail!("token id {id} is not registered with the rollup");
            }
            Ok((id, Some(address)))
        }
    }
}

struct Sender {
    key: PrivateKey,
    l2: L2Client,
    params: ChainParams,
    account: AccountView,
}

async fn sender(args: &WalletArgs) -> Result<Sender> {
    let key = keyfile::load(&args.wallet)?;
    let l2 = L2Client::new(&args.rpc)?;
    let params = l2.chain_params().await?;
    let packed = hex0x(&key.public_key().pack().0);
    let account = l2.account(key_ref(&key.public_key())).await?.ok_or_else(|| {
        anyhow!("no account yet for {packed}: deposit first with `tandem wallet deposit --amount <ETH> --l1-key 0x…` (deposits show up after the L1 confirmations)")
    })?;
    Ok(Sender { key, l2, params, account })
}

/// How the node names the account of `key`.
fn key_ref(key: &PublicKey) -> AccountRef {
    AccountRef::Key(B256::from(key.pack().0))
}

/// The nonce the account's next transaction carries (after its pending ones).
fn next_nonce(account: &AccountView) -> u32 {
    account.pending_nonce.unwrap_or(account.nonce)
}

fn fee_value(fee: &str, wei: bool) -> Result<(u128, u128)> {
    let asked = parse_amount(fee, wei).context("--fee")?;
    let rounded = PackedFee::round_up(asked).ok_or_else(|| anyhow!("fee {fee} is too large"))?;
    Ok((asked, rounded))
}

fn check_funds(s: &Sender, token: TokenId, amount: u128, fee: u128, wei: bool) -> Result<()> {
    let have = s.account.balance(token.get());
    let need = amount.checked_add(fee).ok_or_else(|| anyhow!("amount + fee overflows"))?;
    if have < need {
        bail!(
            "insufficient L2 balance: account #{} has {} {} but amount + fee is {}: deposit more or send less",
            s.account.index,
            show(have, wei),
            token_name(token.get()),
            show(need, wei)
        );
    }
    Ok(())
}

async fn submit(s: &Sender, tx: Tx, wait: bool, what: String) -> Result<Output> {
    let signed = tandem_state::signing::sign_tx(&s.key, s.params.chain_id, tx).map_err(|e| anyhow!("signing: {e}"))?;
    let hash = s.l2.send_transaction(&signed.encode()).await?;
    let mut j = json!({"hash": hash, "status": TxStatus::Pending, "from": s.account.index, "nonce": tx.nonce()});
    let mut human = format!("{what}\n  tx {hash} (nonce {}), pending", tx.nonce());
    if wait {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Some(t) = s.l2.transaction(hash).await? {
                if t.status != TxStatus::Pending {
                    j["status"] = json!(t.status);
                    j["transaction"] = serde_json::to_value(&t)?;
                    human = format!("{what}\n  tx {hash} (nonce {}): {}", tx.nonce(), t.status);
                    if let Some(b) = t.block {
                        human += &format!(" in block {b}");
                    }
                    if let Some(r) = &t.reason {
                        human += &format!("\n  reason: {r}");
                    }
                    if t.status == TxStatus::Rejected {
                        bail!("{human}");
                    }
                    break;
                }
            }
            if Instant::now() > deadline {
                human += "\n  still pending after 120 s";
                break;
            }
        }
    }
    human += &format!("\n  follow it with `tandem wallet status {hash}`");
    Ok((j, human))
}

async fn transfer(args: &WalletArgs, to: &str, amount: &str, token: &str, fee: &str, wei: bool, wait: bool) -> Result<Output> {
    let token = parse_l2_token(token)?;
    let value = parse_amount(amount, wei)?;
    if value == 0 {
        bail!("transfer amount must be above zero");
    }
    let packed_amount = PackedAmount::new(value).map_err(|e| match e {
        PackError::NotRepresentable { nearest_lower, .. } => anyhow!(
            "amount {} is not exactly representable on L2 (transfer amounts carry about 8 significant digits): the nearest lower amount is {}: retry with --amount {}",
            show(value, wei),
            show(nearest_lower, wei),
            show(nearest_lower, wei)
        ),
    })?;
    let (asked_fee, fee_rounded) = fee_value(fee, wei)?;
    let s = sender(args).await?;
    let recipient = if let Some(index) = to.trim().strip_prefix('#') {
        let number: u32 = index.parse().map_err(|_| anyhow!("--to #{index} is not an account index: give #<number> or a packed key"))?;
        let account =
            s.l2.account(AccountRef::Index(number))
                .await?
                .ok_or_else(|| anyhow!("there is no account #{index}: give the recipient's packed key instead"))?;
        PackedPubKey(account.public_key.0)
    } else {
        parse_packed_key(to)?
    };
    if recipient == s.key.public_key().pack() {
        bail!("the recipient is this wallet's own key: a transfer to yourself is refused");
    }
    check_funds(&s, token, value, fee_rounded, wei)?;
    let tx = Tx::Transfer(TransferTx {
        from: AccountIndex::new(s.account.index)?,
        to: recipient,
        token,
        amount: packed_amount,
        fee: PackedFee::new(fee_rounded).map_err(|e| anyhow!("{e}"))?,
        nonce: next_nonce(&s.account),
    });
    let mut what = format!(
        "transfer of {} {} (fee {}) from account #{} to {}",
        show(value, wei),
        token_name(token.get()),
        show(fee_rounded, wei),
        s.account.index,
        hex0x(&recipient.0)
    );
    if fee_rounded != asked_fee {
        what += &format!(
            "\n  note: fee rounded up from {} to {} (fees have one significant digit 1-7)",
            show(asked_fee, wei),
            show(fee_rounded, wei)
        );
    }
    let mut out = submit(&s, tx, wait, what).await?;
    out.0["amount"] = json!(value.to_string());
    out.0["fee"] = json!(fee_rounded.to_string());
    out.0["tokenId"] = json!(token.get());
    out.0["to"] = json!(hex0x(&recipient.0));
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn withdraw(
    args: &WalletArgs,
    to: Option<Address>,
    amount: &str,
    token: &str,
    fee: &str,
    wei: bool,
    wait: bool,
    fast: bool,
) -> Result<Output> {
    let token = parse_l2_token(token)?;
    let value = parse_amount(amount, wei)?;
    if value == 0 {
        bail!("withdrawal amount must be above zero");
    }
    let to = match to {
        Some(a) => a,
        None => match &args.l1_key {
            Some(_) => l1_signer(args, "withdraw")?.address(),
            None => bail!("withdraw needs an L1 recipient: pass --to 0x<L1 address> (or --l1-key to withdraw to that key's address)"),
        },
    };
    let (asked_fee, mut fee_rounded) = fee_value(fee, wei)?;
    let s = sender(args).await?;
    if fast {
        let fast_fee = s
            .params
            .fast_withdrawal_fee
            .ok_or_else(|| anyhow!("this chain has no validity lane (its node runs without --zk-slots): withdraw without --fast"))?
            .0;
        let fast_fee = PackedFee::round_up(fast_fee).ok_or_else(|| anyhow!("fast-withdrawal fee {fast_fee} cannot be paid"))?;
        fee_rounded = fee_rounded.max(fast_fee);
    }
    check_funds(&s, token, value, fee_rounded, wei)?;
    let tx = Tx::Withdraw(WithdrawTx {
        from: AccountIndex::new(s.account.index)?,
        to_l1: L1Address(to.0 .0),
        token,
        amount: value,
        fee: PackedFee::new(fee_rounded).map_err(|e| anyhow!("{e}"))?,
        nonce: next_nonce(&s.account),
    });
    let mut what = format!(
        "withdrawal of {} {} (fee {}) from account #{} to L1 {to}",
        show(value, wei),
        token_name(token.get()),
        show(fee_rounded, wei),
        s.account.index
    );
    if fee_rounded != asked_fee {
        what += &format!(
            "\n  note: fee rounded up from {} to {} (fees have one significant digit 1-7)",
            show(asked_fee, wei),
            show(fee_rounded, wei)
        );
    }
    what += &format!(
        "\n  once its batch is final on L1 (challenge window {} s) claim it: `tandem wallet status <hash>` prints the claim command",
        s.params.challenge_window
    );
    let mut out = submit(&s, tx, wait, what).await?;
    out.0["amount"] = json!(value.to_string());
    out.0["fee"] = json!(fee_rounded.to_string());
    out.0["tokenId"] = json!(token.get());
    out.0["to"] = json!(to.to_string());
    Ok(out)
}

/// " (in about N s)" from the L1 clock, or "" if L1 cannot be asked.
async fn time_left(args: &WalletArgs, at: u64) -> String {
    let Ok(client) = RollupClient::new(&args.l1_rpc, Address::ZERO, None) else {
        return String::new();
    };
    match client.latest_timestamp().await {
        Ok(now) if now < at => format!(" (in about {} s)", at - now),
        Ok(_) => " (now: the node finalizes it shortly)".into(),
        Err(_) => String::new(),
    }
}

async fn claim(args: &WalletArgs, batch: u64, index: u32) -> Result<Output> {
    let l2 = L2Client::new(&args.rpc)?;
    let w = l2.withdrawal(batch, index).await?.ok_or_else(|| {
        anyhow!("batch {batch} has no withdrawal #{index}: check the numbers with `tandem wallet status <withdrawal tx hash>`")
    })?;
    if !w.claimable {
        let mut msg = format!("withdrawal #{index} of batch {batch} is not claimable yet (status {})", w.status);
        if let Some(b) = l2.batch(batch).await? {
            if !b.waiting_for.is_empty() {
                msg += &format!("; the batch is waiting for: {}", b.waiting_for);
            }
            if let Some(t) = b.finalizable_at {
                msg += &time_left(args, t).await;
            }
        }
        msg += ": try again once the batch is final";
        bail!("{msg}");
    }
    let token = u32::from(w.token_id);
    let amount = w.amount.0;
    let recipient = w.recipient;
    let proof = w.proof;
    let signer = l1_signer(args, "claim")?;
    let (rollup, _) = rollup_address(args).await?;
    let client = RollupClient::new(&args.l1_rpc, rollup, Some(signer)).map_err(|e| l1_error(&args.l1_rpc, e))?;
    if client.is_withdrawal_claimed(batch, index).await.map_err(|e| l1_error(&args.l1_rpc, e))? {
        bail!("withdrawal #{index} of batch {batch} was already claimed (paid to {recipient})");
    }
    let op = tandem_types::WithdrawOp {
        from: AccountIndex::new(0)?,
        token: TokenId::new(token)?,
        amount,
        fee: PackedFee::new(0).expect("zero packs"),
        to_l1: L1Address(recipient.0 .0),
    };
    let tx = client.claim_withdrawal(batch, index, &op, proof).await.map_err(|e| l1_error(&args.l1_rpc, e))?;
    let human = format!(
        "claimed withdrawal #{index} of batch {batch}: {} {} paid to {recipient} on L1\n  L1 tx {tx}",
        show(amount, false),
        token_name(token as u8)
    );
    Ok((
        json!({"batch": batch, "index": index, "tokenId": token, "amount": amount.to_string(), "recipient": recipient.to_string(), "l1Tx": tx.to_string()}),
        human,
    ))
}

async fn balance(args: &WalletArgs) -> Result<Output> {
    let key = keyfile::load(&args.wallet)?;
    let l2 = L2Client::new(&args.rpc)?;
    let packed = hex0x(&key.public_key().pack().0);
    let Some(account) = l2.account(key_ref(&key.public_key())).await? else {
        let human = format!(
            "no account yet for {packed}: deposit first with `tandem wallet deposit --amount <ETH> --l1-key 0x…` (a deposit shows up a few seconds after its L1 block is confirmed)"
        );
        return Ok((json!({"publicKey": packed, "account": null}), human));
    };
    let mut human = format!("account #{} ({packed})\n  nonce {} (pending {})", account.index, account.nonce, next_nonce(&account));
    if account.balances.values().all(|b| b.0 == 0) {
        human += "\n  no balances";
    }
    let mut balances = serde_json::Map::new();
    for (token, amount) in &account.balances {
        if amount.0 > 0 {
            human += &format!("\n  {} {}", show(amount.0, false), token_name(*token));
        }
        balances.insert(token.to_string(), json!(amount));
    }
    Ok((
        json!({"publicKey": packed, "index": account.index, "nonce": account.nonce, "pendingNonce": next_nonce(&account), "balances": balances}),
        human,
    ))
}

/// The escape hatch as L1 sees it (SPEC §16): whether exodus is active, and the oldest
/// deposit the sequencer has not consumed with its deadline. `None` if L1 cannot be read
/// (status then shows the L2 side only).
async fn exodus_status(args: &WalletArgs, rollup: Address) -> Option<(Value, String)> {
    let l1 = RollupClient::new(&args.l1_rpc, rollup, None).ok()?;
    let state = l1.exodus_state().await.ok()?;
    if state.active {
        let text = format!(
            "\n  EXODUS ACTIVE on L1: no more batches; leave with `tandem wallet exit` (root {}), deposits from queue index {} are refundable (`tandem wallet refunds`)",
            state.state_root, state.priority_end
        );
        return Some((json!({"active": true, "stateRoot": state.state_root, "refundableFrom": state.priority_end}), text));
    }
    let pending = l1.oldest_pending_priority_op().await.ok()?;
    let now = l1.latest_timestamp().await.ok()?;
    let text = match pending {
        None => "\n  exodus: not active; no deposit waiting on L1".to_string(),
        Some(op) if op.deadline >= now => format!(
            "\n  exodus: not active; oldest waiting deposit #{} must be included within {} s (L1 time {})",
            op.queue_index,
            op.deadline - now,
            op.deadline
        ),
        Some(op) => format!(
            "\n  exodus: deposit #{} is past its deadline (L1 time {}): anyone may start exodus with `tandem wallet exodus`",
            op.queue_index, op.deadline
        ),
    };
    let oldest = pending.map(|op| json!({"queueIndex": op.queue_index, "deadline": op.deadline}));
    Some((json!({"active": false, "oldestPending": oldest, "l1Time": now}), text))
}

async fn status(args: &WalletArgs, hash: Option<&str>) -> Result<Output> {
    let l2 = L2Client::new(&args.rpc)?;
    let Some(hash) = hash else {
        let params = l2.chain_params().await?;
        let head = l2.block_number().await?;
        let mut human = format!(
            "node {}: L2 chain {} (L1 chain {}), latest block {head}\n  rollup {}, challenge window {} s",
            args.rpc, params.chain_id, params.l1_chain_id, params.rollup, params.challenge_window
        );
        let mut j = json!({"chain": params, "blockNumber": head});
        if let Some((exodus, text)) = exodus_status(args, params.rollup).await {
            human += &text;
            j["exodus"] = exodus;
        }
        if args.wallet.exists() {
            let (bj, bh) = balance(args).await?;
            human += &format!("\nwallet {}: {bh}", args.wallet.display());
            j["wallet"] = bj;
        }
        return Ok((j, human));
    };
    let hash: TxHash =
        hash.trim().parse().map_err(|e| anyhow!("{hash:?} is not a transaction hash ({e}): give the 0x… hash that send printed"))?;
    let tx =
        l2.transaction(hash).await?.ok_or_else(|| anyhow!("the node does not know transaction {hash}: check the hash, or resend it"))?;
    let mut human = format!("tx {hash}: {}", tx.status);
    let mut j = json!({"transaction": tx});
    if let Some(r) = &tx.reason {
        human += &format!("\n  reason: {r}");
    }
    if let Some(b) = tx.block {
        human += &format!("\n  block {b}");
    }
    if let Some(n) = tx.batch.or(tx.block) {
        if let Some(b) = l2.batch(n).await? {
            human += &batch_lines(args, n, &b).await;
            j["batch"] = serde_json::to_value(&b)?;
        }
    }
    if let Some(w) = tx.withdrawal {
        let (wb, wi) = (w.batch, w.index);
        if let Some(wd) = l2.withdrawal(wb, wi).await? {
            let mut claimed = None;
            if let Ok((rollup, _)) = rollup_address(args).await {
                if let Ok(c) = RollupClient::new(&args.l1_rpc, rollup, None) {
                    claimed = c.is_withdrawal_claimed(wb, wi).await.ok();
                }
            }
            human += &format!(
                "\n  withdrawal #{wi} of batch {wb}: {} {} to {}",
                show(wd.amount.0, false),
                token_name(wd.token_id),
                wd.recipient
            );
            match (claimed, wd.claimable) {
                (Some(true), _) => human += "\n  already claimed on L1",
                (_, true) => human += &format!("\n  claimable now: tandem wallet --l1-key 0x<key> claim --batch {wb} --index {wi}"),
                (_, false) => human += &format!("\n  not claimable yet (waits for the batch to be final); then: tandem wallet --l1-key 0x<key> claim --batch {wb} --index {wi}"),
            }
            j["withdrawal"] = serde_json::to_value(&wd)?;
            j["claimed"] = json!(claimed);
        }
    }
    Ok((j, human))
}

/// The lines `status` prints about batch `n`.
async fn batch_lines(args: &WalletArgs, n: u64, b: &BatchView) -> String {
    let lane = match b.lane {
        Lane::Optimistic => "optimistic",
        Lane::Zk => "zk",
    };
    let mut human = format!("\n  batch {n}: {} ({lane} lane)", b.status);
    let final_ = b.status == BatchStatus::Final;
    if !b.waiting_for.is_empty() && !final_ {
        human += &format!(", waiting for {}", b.waiting_for);
    }
    if let Some(c) = b.l1_commit_tx {
        human += &format!("\n  committed on L1 in {c}");
    }
    if !final_ {
        if let Some(t) = b.finalizable_at {
            human += &format!("\n  finalizable at L1 time {t}{}", time_left(args, t).await);
        }
    }
    if let Some(f) = b.l1_finalize_tx {
        human += &format!("\n  finalized on L1 in {f}");
    }
    human
}
