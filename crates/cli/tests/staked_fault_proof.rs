//! The dispute game against a staked sequencer set on anvil (SPEC §17), with the real
//! challenger and real signatures (the members' signing keys sign batch digests directly;
//! the consensus engine is not what is under test):
//!
//! 1. Members holding 90% of the stake sign a forged transfer out of alice's account (with
//!    the loot's withdrawal) and three more batches on top. Nobody can serve the signed
//!    transactions, so the challenger challenges; nobody can answer, so it reverts the batch
//!    with the three after it. Every signer of record loses its whole stake (the challenger
//!    gets the reporter share, the treasury the rest), its signatures count for nothing for
//!    the rest of the epoch, and a replay of the forged batch's signatures is refused. The
//!    loot can never be claimed. In the next epoch the honest member alone is the set: it
//!    commits a new batch 2, and alice's balance is intact.
//! 2. A ZK-lane batch nobody proves is reverted once its proof deadline passes, and the
//!    chain goes on.
//! 3. A restarted challenger resumes from the final state kept in its data directory.
//! 4. A batch with a wrong root (its op alone would be fine) is challenged at once, reverted,
//!    and its signer slashed the same way.

mod fault;

use alloy::primitives::Address;
use fault::{fee_free_transfer, pass_time, root_of, step_until, xy};
use std::time::Duration;
use tandem_chain::{batch_digest, genesis_root, sign_digest, BatchHeader, Lane};
use tandem_challenger::{Challenger, ChallengerConfig};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::{bootstrap_staked_set, next_epoch, FaultProofs, StakedMember, StakedParams, StakedSetSpec};
use tandem_l1::{DisputeClient, GameParams, L1Error, PrivateKeySigner, RollupClient, StakingClient, B256, U256};
use tandem_state::Ledger;
use tandem_types::*;

const CHAIN_ID: u64 = 11;
const SLOTS: usize = 2;
const DEPTH: u8 = 4;
const WINDOW: u64 = 3_600;
const EPOCH: u64 = 3_600;
const RESPONSE: u64 = 600;
const ZK_DEADLINE: u64 = 1_200;
const BOND: u128 = 10u128.pow(17);
const ETH: u128 = 10u128.pow(18);
const TREASURY: Address = Address::repeat_byte(0x7e);

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(ETH)
}

/// A batch as the members sign it.
struct SignedBatch {
    header: BatchHeader,
    public_data: Vec<u8>,
    revert_count: u64,
    signatures: Vec<[u8; 65]>,
}

/// Builds batch `number` of `ops` (the first `priority` of them from L1's queue) on top of
/// `replica` (re-executed honestly: L1 never sees signatures, so a forged op re-executes like
/// any other) and has `signers` sign it for the rollup's current revert count.
async fn sign_batch(
    l1: &RollupClient,
    signers: &[&PrivateKeySigner],
    replica: &mut Ledger,
    number: u64,
    ops: &[Op],
    priority: u32,
    lane: Lane,
) -> SignedBatch {
    let prev_state_root = root_of(replica);
    let outcome = replica.apply_public_batch(ops, AccountIndex::new(0).unwrap()).unwrap();
    let roots: Vec<B256> = outcome.intermediate_roots.iter().map(|r| B256::from(fr_to_be_bytes(r))).collect();
    let public_data = encode_public_data(ops);
    let header = BatchHeader::new(number, prev_state_root, root_of(replica), &roots, &public_data, ops.len() as u32, priority, lane, 0);
    let revert_count = l1.revert_count().await.unwrap();
    let l1_chain_id = alloy::providers::Provider::get_chain_id(l1.provider()).await.unwrap();
    let digest = batch_digest(l1_chain_id, l1.rollup(), revert_count, number, header.hash());
    let signatures = signers.iter().map(|s| sign_digest(s, digest)).collect();
    SignedBatch { header, public_data, revert_count, signatures }
}

async fn commit(l1: &RollupClient, batch: &SignedBatch) -> Result<B256, L1Error> {
    l1.commit_batch_signed(&batch.header, &batch.public_data, batch.revert_count, batch.signatures.clone()).await
}

fn deposit(to: u32, owner: &PrivateKey, amount: u128) -> Op {
    Op::Deposit(DepositOp { to: AccountIndex::new(to).unwrap(), pubkey: owner.public_key().pack(), token: TokenId::ETH, amount })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_of_a_forged_batch_lose_their_stake_and_an_unproven_zk_batch_is_reverted() {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let accounts: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let (deployer, watcher, submitter, user) = (accounts[0].clone(), accounts[5].clone(), accounts[6].clone(), accounts[7].clone());

    let (keys, verifier) = fault::deploy_insecure_verifier(&url, &deployer, SLOTS, DEPTH, CHAIN_ID).await;
    let fee_key = PrivateKey::from_seed([9; 32]);
    let genesis = genesis_root(CHAIN_ID, DEPTH, fee_key.public_key().pack()).unwrap();

    // Four members (L1 accounts 1..=4) with 400, 300, 200 and 100 tokens.
    let signing: Vec<PrivateKeySigner> =
        (0..4u8).map(|i| PrivateKeySigner::from_bytes(&alloy::primitives::keccak256([b'm', i])).unwrap()).collect();
    let stakes = [400u64, 300, 200, 100];
    let members: Vec<StakedMember> =
        (0..4).map(|i| StakedMember::local(accounts[i + 1].clone(), signing[i].address(), tokens(stakes[i]), 1, 1)).collect();
    let params = StakedParams {
        treasury: TREASURY,
        min_stake: tokens(10),
        max_stake: tokens(10_000),
        epoch_length: EPOCH,
        unbonding_delay: EPOCH + WINDOW + RESPONSE,
        max_active: 8,
        max_stakers: 16,
        slash_bps: 1_000,
        reporter_bps: 3_000,
        challenge_window: WINDOW,
        emission_per_batch: U256::ZERO,
    };
    let game = GameParams {
        challenge_bond: U256::from(BOND),
        response_window: RESPONSE,
        zk_proof_deadline: ZK_DEADLINE,
        sequencer_bond: U256::ZERO,
    };
    let set = bootstrap_staked_set(
        &url,
        &StakedSetSpec {
            deployer: deployer.clone(),
            genesis_root: genesis,
            params: &params,
            exodus: &tandem_devnet::ExodusParams::unexercised(),
            token_supply: tokens(1_000_000),
            members: &members,
            member_eth: None,
            fault_proofs: Some(FaultProofs { verifier, zk_slots: SLOTS as u32, game }),
        },
    )
    .await
    .unwrap();
    let deployment = set.deployment;
    let l1 = RollupClient::new(&url, deployment.rollup, Some(submitter)).unwrap();
    let staking = StakingClient::new(&url, deployment.staking, None).unwrap();
    let dispute = DisputeClient::new(&url, deployment.dispute_game.expect("a game"), None).unwrap();
    assert_eq!(l1.dispute_game().await.unwrap(), deployment.dispute_game);

    // Batch 1 (signed by all): alice deposits 1 ETH.
    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    let mallory = PrivateKey::from_seed([3; 32]);
    let user_l1 = RollupClient::new(&url, deployment.rollup, Some(user)).unwrap();
    let (x, y) = xy(&alice);
    user_l1.deposit_eth(x, y, U256::from(ETH)).await.unwrap();
    let mut replica = tandem_chain::genesis_ledger(keys.ledger_config(), fee_key.public_key().pack()).unwrap();
    let all: Vec<&PrivateKeySigner> = signing.iter().collect();
    let batch1 = sign_batch(&l1, &all, &mut replica, 1, &[deposit(1, &alice, ETH)], 1, Lane::Optimistic).await;
    commit(&l1, &batch1).await.unwrap();

    let challenger_dir = tempfile::tempdir().unwrap();
    let challenger_config = ChallengerConfig {
        l1_rpc: url.clone(),
        rollup: deployment.rollup,
        deploy_block: deployment.deploy_block,
        l2_rpc: None,
        key: watcher.clone(),
        chain_id: CHAIN_ID,
        tree_depth: DEPTH,
        genesis_fee_pubkey: fee_key.public_key().pack(),
        data_timeout: Duration::from_secs(1),
        poll_interval: Duration::from_millis(100),
        data_dir: Some(challenger_dir.path().to_path_buf()),
    };
    let mut challenger = Challenger::new(challenger_config.clone()).await.unwrap();
    step_until(&mut challenger, |c| c.status().checked == 1).await;
    let honest = replica.clone();

    // Members 0, 1 and 2 (900 of 1000) sign batch 2: 0.9 ETH out of alice's account with no
    // signature of hers, withdrawn to L1 by mallory; then three more batches on top.
    let colluders: Vec<&PrivateKeySigner> = signing[..3].iter().collect();
    let (alice_index, mallory_index) = (AccountIndex::new(1).unwrap(), AccountIndex::new(2).unwrap());
    let loot = 9 * ETH / 10;
    let theft = Op::TransferToNew(TransferToNewOp {
        from: alice_index,
        to: mallory_index,
        to_pubkey: mallory.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(loot).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    });
    let cash_out = WithdrawOp {
        from: mallory_index,
        token: TokenId::ETH,
        amount: loot,
        fee: PackedFee::new(0).unwrap(),
        to_l1: L1Address([0x66; 20]),
    };
    let forged = sign_batch(&l1, &colluders, &mut replica, 2, &[theft, Op::Withdraw(cash_out)], 0, Lane::Optimistic).await;
    commit(&l1, &forged).await.unwrap();
    for number in 3..=5 {
        let more = fee_free_transfer(alice_index, mallory_index, ETH / 100);
        commit(&l1, &sign_batch(&l1, &colluders, &mut replica, number, &[more], 0, Lane::Optimistic).await).await.unwrap();
    }
    assert_eq!(l1.last_committed_batch().await.unwrap(), 5);

    // Nobody serves the signed transactions: the challenger challenges chunk 0 of batch 2.
    step_until(&mut challenger, |c| c.status().challenges == 1).await;
    let stored2 = l1.committed_batch(2, deployment.deploy_block).await.unwrap().unwrap();
    let challenge = dispute.challenge_of(&stored2, 0).await.unwrap();
    assert_eq!(challenge.challenger, watcher.address());
    assert!(challenge.is_open());

    // Nobody can answer: past the response window the challenger reverts batches 2..=5,
    // and batch 2's signers lose everything.
    pass_time(&url, RESPONSE + 1).await;
    step_until(&mut challenger, |c| c.status().reverts == 1).await;
    assert_eq!(l1.last_committed_batch().await.unwrap(), 1);
    assert_eq!(l1.revert_count().await.unwrap(), 1);
    for i in 0..3 {
        let info = staking.staker_info(accounts[i + 1].address()).await.unwrap();
        assert_eq!((info.active_stake, info.unbonding, info.registered), (U256::ZERO, U256::ZERO, false), "signer {i} slashed out");
    }
    let untouched = staking.staker_info(accounts[4].address()).await.unwrap();
    assert_eq!((untouched.active_stake, untouched.registered), (tokens(100), true), "the honest member keeps its stake");
    assert_eq!(staking.token_balance(watcher.address()).await.unwrap(), tokens(270), "reporter share: 30% of 900");
    assert_eq!(staking.token_balance(TREASURY).await.unwrap(), tokens(630));
    assert_eq!(dispute.owed(watcher.address()).await.unwrap(), U256::ZERO, "bond returned and withdrawn");

    // The forged batch's signatures are worthless now: a replay is refused (they were over
    // the old revert count), and so is the same forgery signed afresh: slashed members
    // count for nothing for the rest of the epoch, and the honest 10% alone is not enough.
    let replay = commit(&l1, &forged).await;
    assert!(matches!(replay, Err(L1Error::Reverted(_))), "{replay:?}");
    let mut again_replica = honest.clone();
    let everyone_again = sign_batch(&l1, &all, &mut again_replica, 2, &[theft, Op::Withdraw(cash_out)], 0, Lane::Optimistic).await;
    let refused = commit(&l1, &everyone_again).await;
    assert!(format!("{refused:?}").contains("InsufficientSignedStake"), "{refused:?}");

    // The loot can never be claimed: its batch is gone.
    let claim = user_l1.claim_withdrawal(2, 0, &cash_out, vec![]).await;
    assert!(matches!(claim, Err(L1Error::Reverted(_))), "{claim:?}");

    // Next epoch: the set is the honest member alone. It commits batch 2 (bob deposits);
    // the challenger checks it, alice's balance intact.
    next_epoch(&url, deployment.staking, deployer.clone()).await.unwrap();
    let (x, y) = xy(&bob);
    user_l1.deposit_eth(x, y, U256::from(ETH)).await.unwrap();
    let mut replica = honest;
    let last = [&signing[3]];
    commit(&l1, &sign_batch(&l1, &last, &mut replica, 2, &[deposit(2, &bob, ETH)], 1, Lane::Optimistic).await).await.unwrap();
    step_until(&mut challenger, |c| c.status().checked == 2).await;
    assert_eq!(challenger.ledger().account(alice_index).unwrap().balance(TokenId::ETH), ETH, "alice's balance intact");
    assert_eq!(challenger.ledger().root(), replica.root());

    // A ZK-lane batch (alice deposits 0.5 ETH more) that nobody proves:
    // past its proof deadline the challenger reverts it, and the set commits on.
    user_l1.deposit_eth(xy(&alice).0, xy(&alice).1, U256::from(ETH / 2)).await.unwrap();
    let before_zk = replica.clone();
    commit(&l1, &sign_batch(&l1, &last, &mut replica, 3, &[deposit(1, &alice, ETH / 2)], 1, Lane::Zk).await).await.unwrap();
    step_until(&mut challenger, |c| c.status().checked == 3).await;
    pass_time(&url, ZK_DEADLINE).await;
    step_until(&mut challenger, |c| c.status().reverts == 2 && c.status().checked == 2).await;
    assert_eq!((l1.last_committed_batch().await.unwrap(), l1.revert_count().await.unwrap()), (2, 2));
    let mut replica = before_zk;
    commit(&l1, &sign_batch(&l1, &last, &mut replica, 3, &[deposit(1, &alice, ETH / 2)], 1, Lane::Optimistic).await).await.unwrap();
    step_until(&mut challenger, |c| c.status().checked == 3).await;
    assert_eq!(challenger.ledger().account(alice_index).unwrap().balance(TokenId::ETH), ETH + ETH / 2);
    let member = staking.staker_info(accounts[4].address()).await.unwrap();
    assert_eq!(member.active_stake, tokens(100), "a deadline revert slashes nobody");

    // Once batches are final the challenger keeps their state in its data directory: a
    // restart resumes from there instead of judging the chain from genesis again.
    pass_time(&url, WINDOW + 1).await;
    for number in 1..=3 {
        let batch = l1.committed_batch(number, deployment.deploy_block).await.unwrap().unwrap();
        l1.finalize_batch(&batch).await.unwrap();
    }
    challenger.step().await.unwrap();
    drop(challenger);
    let mut restarted = Challenger::new(challenger_config).await.unwrap();
    assert_eq!(restarted.status().checked, 3, "resumed at the last final batch");
    assert_eq!(restarted.ledger().root(), replica.root());

    // A batch with an honest op but a wrong root, signed by the last member: public data
    // alone shows it, so it is challenged at once, reverted, and its signer slashed too.
    let treasury_before = staking.token_balance(TREASURY).await.unwrap();
    let small = fee_free_transfer(alice_index, AccountIndex::new(2).unwrap(), ETH / 100);
    let mut wrong = sign_batch(&l1, &last, &mut replica, 4, &[small], 0, Lane::Optimistic).await;
    wrong.header.new_state_root = B256::repeat_byte(7);
    let l1_chain_id = alloy::providers::Provider::get_chain_id(l1.provider()).await.unwrap();
    let digest = batch_digest(l1_chain_id, l1.rollup(), wrong.revert_count, 4, wrong.header.hash());
    wrong.signatures = vec![sign_digest(&signing[3], digest)];
    commit(&l1, &wrong).await.unwrap();
    step_until(&mut restarted, |c| c.status().challenges == 1).await;
    pass_time(&url, RESPONSE + 1).await;
    step_until(&mut restarted, |c| c.status().reverts == 1).await;
    assert_eq!((l1.last_committed_batch().await.unwrap(), l1.revert_count().await.unwrap()), (3, 3));
    let slashed = staking.staker_info(accounts[4].address()).await.unwrap();
    assert_eq!((slashed.active_stake, slashed.registered), (U256::ZERO, false), "the wrong root's signer slashed");
    assert_eq!(staking.token_balance(TREASURY).await.unwrap() - treasury_before, tokens(70), "70% of its 100");
}
