//! `tandem devnet --demo-forged-batch`: a show of the fault proofs (SPEC §17) a user can
//! watch. A victim deposits on L1; once its deposit is committed, the forger commits a batch
//! that moves the victim's balance to a thief and withdraws it to L1, with no signature of
//! the victim's (L1 never sees one). The forger is the sequencer's key (single sequencer) or
//! the signing keys of set members holding more than 2/3 of the stake (a colluding set).
//! The devnet then reports, as they happen, the challenger's challenge, the revert of the
//! forged batch and everything after it, the slashing (the single sequencer's bond, or the
//! colluders' stake), the chain posting its own
//! batches again, and the victim's balance, with the time from the forged commit to its
//! revert.

use alloy::primitives::B256;
use anyhow::{anyhow, bail, Result};
use std::time::{Duration, Instant};
use tandem_api::AccountRef;
use tandem_chain::{BatchHeader, Lane};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_l1::{Address, DisputeClient, PrivateKeySigner, RollupClient, U256};
use tandem_restore::RestoreParams;
use tandem_types::{encode_public_data, AccountIndex, L1Address, Op, PackedAmount, PackedFee, TokenId, TransferToNewOp, WithdrawOp};

use crate::rpc::L2Client;

/// What the demo needs from the running devnet.
pub struct ForgedBatchDemo {
    /// L1 JSON-RPC.
    pub l1_url: String,
    /// L2 JSON-RPC of the node.
    pub l2_url: String,
    /// The rollup and its deployment block.
    pub rollup: Address,
    /// Where log searches start.
    pub deploy_block: u64,
    /// The rollup's dispute game.
    pub game: Address,
    /// Who commits the forged batch.
    pub forger: Forger,
    /// Pays the victim's deposit.
    pub payer: PrivateKeySigner,
    /// Chain parameters (for rebuilding the committed state from L1).
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Genesis fee key.
    pub genesis_fee_pubkey: tandem_types::PackedPubKey,
}

/// Who commits the forged batch.
pub enum Forger {
    /// The single sequencer's L1 key (`commitBatch`): what a malicious sequencer holds.
    Sequencer(PrivateKeySigner),
    /// A colluding set: these members' signing keys sign the batch (`commitBatchSigned`,
    /// sent from `submitter`); they must hold more than 2/3 of the epoch's stake.
    Colluders {
        /// The members' indices, for the report.
        members: Vec<usize>,
        /// Their batch signing keys.
        signing_keys: Vec<PrivateKeySigner>,
        /// Their staker (L1) addresses, to report the slashing.
        stakers: Vec<Address>,
        /// The staking contract.
        staking: Address,
        /// Pays for the commit.
        submitter: PrivateKeySigner,
        /// The staking token's symbol.
        symbol: String,
    },
}

impl Forger {
    fn l1_key(&self) -> &PrivateKeySigner {
        match self {
            Forger::Sequencer(key) => key,
            Forger::Colluders { submitter, .. } => submitter,
        }
    }

    /// Commits `header` and returns the L1 transaction.
    async fn commit(&self, l1: &RollupClient, header: &BatchHeader, public_data: &[u8]) -> Result<B256> {
        match self {
            Forger::Sequencer(_) => Ok(l1.commit_batch(header, public_data).await?),
            Forger::Colluders { signing_keys, .. } => {
                let revert_count = l1.revert_count().await?;
                let chain_id = alloy::providers::Provider::get_chain_id(l1.provider()).await?;
                let digest = tandem_chain::batch_digest(chain_id, l1.rollup(), revert_count, header.batch_number, header.hash());
                let signatures = signing_keys.iter().map(|k| tandem_chain::sign_digest(k, digest)).collect();
                Ok(l1.commit_batch_signed(header, public_data, revert_count, signatures).await?)
            }
        }
    }

    fn who(&self) -> String {
        match self {
            Forger::Sequencer(_) => "the sequencer key".into(),
            Forger::Colluders { members, .. } => {
                let names: Vec<String> = members.iter().map(|i| i.to_string()).collect();
                format!("members {} (more than 2/3 of the stake) signed and", names.join(" and "))
            }
        }
    }
}

const VICTIM_DEPOSIT: u128 = 5 * 10u128.pow(18);

fn say(line: String) {
    eprintln!("==> demo: {line}");
}

impl ForgedBatchDemo {
    /// Runs the show on its own thread and runtime (restore's progress callback is not
    /// `Send`); a failure is printed, the devnet keeps running.
    pub fn spawn(self) {
        std::thread::spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(self.run()));
            if let Err(e) = outcome {
                eprintln!("==> demo: stopped: {e:#}");
            }
        });
    }

    /// Runs the show; every step has a deadline, and a missed one ends the demo with an
    /// error (the devnet keeps running).
    pub async fn run(self) -> Result<()> {
        let victim = PrivateKey::from_seed([0xd0; 32]);
        let thief = PrivateKey::from_seed([0xd1; 32]);
        let payer = RollupClient::new(&self.l1_url, self.rollup, Some(self.payer.clone()))?;
        let pk = victim.public_key();
        let (x, y) = (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())));
        payer.deposit_eth(x, y, U256::from(VICTIM_DEPOSIT)).await?;
        say("a victim deposited 5 ETH; waiting for its batch on L1".into());

        // The state L1 committed, with the victim in it: what the forger builds on.
        let params = RestoreParams {
            chain_id: self.chain_id,
            tree_depth: self.tree_depth,
            genesis_fee_pubkey: self.genesis_fee_pubkey,
            deploy_block: self.deploy_block,
            log_range: tandem_restore::DEFAULT_LOG_RANGE,
            include_unfinal: true,
        };
        let sequencer = RollupClient::new(&self.l1_url, self.rollup, Some(self.forger.l1_key().clone()))?;
        let deadline = Instant::now() + Duration::from_secs(180);
        let (number, committed_at) = loop {
            if Instant::now() > deadline {
                bail!("the victim's deposit was not committed within 3 minutes");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            let restored = tandem_restore::restore(payer.provider(), self.rollup, params, &mut |_| {}).await?;
            let mut ledger = restored.ledger;
            let Some(from) = ledger.index_of(&pk.pack()) else { continue };
            let number = restored.batches.last().map_or(0, |b| b.number) + 1;
            let balance = ledger.account(from).map_or(0, |a| a.balance(TokenId::ETH));
            let loot = PackedAmount::new(PackedAmount::round_down(balance)).map_err(|e| anyhow!("{e}"))?;
            let to = AccountIndex::new(ledger.account_count() as u32).map_err(|e| anyhow!("{e}"))?;
            let loot_l1 = L1Address([0xd1; 20]);
            let ops = [
                Op::TransferToNew(TransferToNewOp {
                    from,
                    to,
                    to_pubkey: thief.public_key().pack(),
                    token: TokenId::ETH,
                    amount: loot,
                    fee: PackedFee::new(0).map_err(|e| anyhow!("{e}"))?,
                }),
                Op::Withdraw(WithdrawOp {
                    from: to,
                    token: TokenId::ETH,
                    amount: loot.value(),
                    fee: PackedFee::new(0).map_err(|e| anyhow!("{e}"))?,
                    to_l1: loot_l1,
                }),
            ];
            let prev_state_root = B256::from(fr_to_be_bytes(&ledger.root()));
            let outcome = ledger.apply_public_batch(&ops, AccountIndex::new(0).map_err(|e| anyhow!("{e}"))?)?;
            let roots: Vec<B256> = outcome.intermediate_roots.iter().map(|r| B256::from(fr_to_be_bytes(r))).collect();
            let public_data = encode_public_data(&ops);
            let new_root = B256::from(fr_to_be_bytes(&outcome.root));
            let header =
                BatchHeader::new(number, prev_state_root, new_root, &roots, &public_data, ops.len() as u32, 0, Lane::Optimistic, 0);
            // The chain may commit this number first: then try again on top of it.
            match self.forger.commit(&sequencer, &header, &public_data).await {
                Ok(tx) => {
                    say(format!(
                        "{} committed FORGED batch {number}: the victim's {} ETH to a thief and out to L1, no signature of the victim's (L1 tx {tx})",
                        self.forger.who(),
                        crate::amount::format_units(balance, 18)
                    ));
                    break (number, Instant::now());
                }
                Err(e) => say(format!("forging batch {number} lost a race with the chain ({e}); trying again")),
            }
        };

        let game = DisputeClient::new(&self.l1_url, self.game, None)?;
        let forged =
            sequencer.committed_batch(number, self.deploy_block).await?.ok_or_else(|| anyhow!("forged batch {number} not found"))?;
        let revert_count = sequencer.revert_count().await?;
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut challenged = false;
        loop {
            if Instant::now() > deadline {
                bail!("forged batch {number} was not reverted within 5 minutes");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !challenged {
                let c = game.challenge_of(&forged, 0).await?;
                if c.challenger != Address::ZERO {
                    challenged = true;
                    say(format!(
                        "the challenger {} challenged chunk 0 of batch {number} after {:.0} s (bond posted; answer due by L1 time {})",
                        c.challenger,
                        committed_at.elapsed().as_secs_f64(),
                        c.deadline
                    ));
                }
            }
            if sequencer.revert_count().await? > revert_count {
                say(format!(
                    "nobody could answer: batch {number} and every batch after it REVERTED, {:.0} s after the forged commit (rollup revertCount {}); the challenger got its bond back",
                    committed_at.elapsed().as_secs_f64(),
                    sequencer.revert_count().await?
                ));
                break;
            }
        }
        let mut resume_within = Duration::from_secs(120);
        if let Forger::Sequencer(key) = &self.forger {
            let bond = game.params().await?.sequencer_bond;
            let left = game.sequencer_bond_of(key.address()).await?.amount;
            // The devnet's first slash: what was not burned went to the challenger.
            let burned = game.burned_sequencer_bonds().await?;
            say(format!(
                "the sequencer's bond was SLASHED: {} of {} ETH left ({} ETH to the challenger, {} ETH burned); it commits nothing until it bonds again",
                crate::amount::format_units(left.saturating_to(), 18),
                crate::amount::format_units(bond.saturating_to(), 18),
                crate::amount::format_units(bond.saturating_sub(burned).saturating_to(), 18),
                crate::amount::format_units(burned.saturating_to(), 18)
            ));
            DisputeClient::new(&self.l1_url, self.game, Some(key.clone()))?.post_sequencer_bond(bond).await?;
            say(format!(
                "the sequencer posted a new {} ETH bond (the owner could instead replace it, after the admin delay)",
                crate::amount::format_units(bond.saturating_to(), 18)
            ));
        }
        if let Forger::Colluders { members, stakers, staking, symbol, .. } = &self.forger {
            let staking = tandem_l1::StakingClient::new(&self.l1_url, *staking, None)?;
            let mut left = Vec::new();
            for (i, staker) in members.iter().zip(stakers) {
                let info = staking.staker_info(*staker).await?;
                left.push(format!(
                    "member {i}: {} {symbol} staked, registered {}",
                    crate::amount::format_units(info.active_stake.saturating_to(), 18),
                    info.registered
                ));
            }
            say(format!("the signers of the forged batch were SLASHED of their whole stake and left the set ({})", left.join("; ")));
            let epoch = staking.current_epoch().await?;
            let next = staking.epoch_start(epoch + 1).await?;
            let now = sequencer.latest_timestamp().await?;
            say(format!(
                "the honest members hold under 2/3 of epoch {epoch}'s stake: L1 commits resume with epoch {}'s set, in {} s",
                epoch + 1,
                next.saturating_sub(now)
            ));
            resume_within += Duration::from_secs(next.saturating_sub(now));
        }
        // Something for the chain to post: a small deposit to the victim.
        payer.deposit_eth(x, y, U256::from(10u128.pow(17))).await?;
        let l2 = L2Client::new(&self.l2_url)?;
        let deadline = Instant::now() + resume_within;
        while sequencer.last_committed_batch().await? < number {
            if Instant::now() > deadline {
                bail!("the chain did not post batch {number} again within {} s", resume_within.as_secs());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let balance =
            l2.account(AccountRef::Key(B256::from(pk.pack().0))).await?.and_then(|a| a.balances.get(&0).map(|b| b.0)).unwrap_or(0);
        say(format!(
            "the chain resumed: batch {number} is the chain's own again; the victim's L2 balance is intact: {} ETH",
            crate::amount::format_units(balance, 18)
        ));
        Ok(())
    }
}
