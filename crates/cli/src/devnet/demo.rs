//! `tandem devnet --demo-forged-batch`: a show of the fault proofs (SPEC §17) a user can
//! watch. A victim deposits on L1; once its deposit is committed, the sequencer's key
//! commits a batch that moves the victim's balance to a thief and withdraws it to L1, with
//! no signature (L1 never sees one). The devnet then reports, as they happen, the
//! challenger's challenge, the revert of the forged batch and everything after it, the node
//! posting its own batches again, and the victim's balance, with the time from the forged
//! commit to its revert.

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
    /// The sequencer's L1 key (what a malicious sequencer holds).
    pub sequencer: PrivateKeySigner,
    /// Pays the victim's deposit.
    pub payer: PrivateKeySigner,
    /// Chain parameters (for rebuilding the committed state from L1).
    pub chain_id: u64,
    /// Account tree depth.
    pub tree_depth: u8,
    /// Genesis fee key.
    pub genesis_fee_pubkey: tandem_types::PackedPubKey,
}

const VICTIM_DEPOSIT: u128 = 5 * 10u128.pow(18);

fn say(line: String) {
    eprintln!("==> demo: {line}");
}

impl ForgedBatchDemo {
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
        let sequencer = RollupClient::new(&self.l1_url, self.rollup, Some(self.sequencer.clone()))?;
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
            let header = BatchHeader::new(number, prev_state_root, new_root, &roots, &public_data, ops.len() as u32, 0, Lane::Optimistic, 0);
            // The node may commit this number first: then try again on top of it.
            match sequencer.commit_batch(&header, &public_data).await {
                Ok(tx) => {
                    say(format!(
                        "the sequencer key committed FORGED batch {number}: the victim's {} ETH to a thief and out to L1, no signature (L1 tx {tx})",
                        crate::amount::format_units(balance, 18)
                    ));
                    break (number, Instant::now());
                }
                Err(e) => say(format!("forging batch {number} lost a race with the node ({e}); trying again")),
            }
        };

        let game = DisputeClient::new(&self.l1_url, self.game, None)?;
        let forged = sequencer.committed_batch(number, self.deploy_block).await?.ok_or_else(|| anyhow!("forged batch {number} not found"))?;
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
        // Something for the node to post: a small deposit to the victim.
        payer.deposit_eth(x, y, U256::from(10u128.pow(17))).await?;
        let l2 = L2Client::new(&self.l2_url)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while sequencer.last_committed_batch().await? < number {
            if Instant::now() > deadline {
                bail!("the node did not post batch {number} again within 2 minutes");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let balance = l2
            .account(AccountRef::Key(B256::from(pk.pack().0)))
            .await?
            .and_then(|a| a.balances.get(&0).map(|b| b.0))
            .unwrap_or(0);
        say(format!(
            "the chain resumed: batch {number} is the node's own again; the victim's L2 balance is intact: {} ETH",
            crate::amount::format_units(balance, 18)
        ));
        Ok(())
    }
}
