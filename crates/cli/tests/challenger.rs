//! The challenger end to end on anvil (SPEC §17), on a single-sequencer rollup with a
//! dispute game, against a sequencer key that commits batches its node never produced:
//!
//! 1. A forged transfer out of alice's account (no signature exists; L1 never sees one),
//!    with a withdrawal of the loot, followed by three more forged batches: the challenger
//!    finds the signed transactions withheld, challenges, nobody can answer, and it reverts
//!    the batch with the three after it; the sequencer loses its whole bond, 30% of it to
//!    the challenger. The loot's withdrawal can never be claimed; once bonded again the
//!    honest node, which produced its own block 2 meanwhile and never took L1's forged one
//!    for it, posts it on top of the last kept batch, alice's balance intact, and the
//!    challenger checks it valid.
//! 2. An honest batch whose griefing challenge nobody answers is reverted too: the node
//!    notices the revert, posts the same block again, and the challenger rolls back and
//!    checks the new commit.
//! 3. A batch with an honest op but a wrong root: challenged at once (public data shows
//!    it), reverted the same way.

mod fault;

use alloy::providers::Provider;
use fault::{bond_sequencer, fee_free_transfer, pass_time, root_of, step_until, xy, SEQUENCER_BOND};
use std::time::Duration;
use tandem_chain::{genesis_root, BatchHeader, Lane};
use tandem_challenger::{Challenger, ChallengerConfig};
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::deploy_devnet_with_verifier;
use tandem_l1::{DisputeClient, GameParams, L1Error, PrivateKeySigner, RollupClient, B256, U256};
use tandem_node::records::BatchStatus;
use tandem_node::Node;
use tandem_state::signing::sign_tx;
use tandem_state::Ledger;
use tandem_types::*;

const CHAIN_ID: u64 = 7;
const SLOTS: usize = 2;
const DEPTH: u8 = 4;
const WINDOW: u64 = 3_600;
const RESPONSE: u64 = 600;
const BOND: u128 = 10u128.pow(17);
const ETH: u128 = 10u128.pow(18);

/// Commits batch `number` of public `ops` on top of `replica` with the sequencer's key,
/// bypassing its node: what a malicious sequencer can post, since L1 never sees signatures.
/// The roots are re-executed honestly unless `claimed_root` replaces the final one.
async fn commit_forged(l1: &RollupClient, replica: &mut Ledger, number: u64, ops: &[Op], claimed_root: Option<B256>) {
    let prev_state_root = root_of(replica);
    let outcome = replica.apply_public_batch(ops, AccountIndex::new(0).unwrap()).unwrap();
    let mut roots: Vec<B256> = outcome.intermediate_roots.iter().map(|r| B256::from(fr_to_be_bytes(r))).collect();
    if let Some(root) = claimed_root {
        *roots.last_mut().unwrap() = root;
    }
    let public_data = encode_public_data(ops);
    let new_root = *roots.last().unwrap();
    let header = BatchHeader::new(number, prev_state_root, new_root, &roots, &public_data, ops.len() as u32, 0, Lane::Optimistic, 0);
    l1.commit_batch(&header, &public_data).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_wrong_root_batches_are_challenged_reverted_and_the_chain_resumes() {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let signers: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let (owner, sequencer, user, watcher) = (signers[0].clone(), signers[1].clone(), signers[2].clone(), signers[3].clone());

    let (keys, verifier) = fault::deploy_insecure_verifier(&url, &owner, SLOTS, DEPTH, CHAIN_ID).await;
    let fee_key = PrivateKey::from_seed([9; 32]);
    let genesis = genesis_root(CHAIN_ID, DEPTH, fee_key.public_key().pack()).unwrap();
    let deployment = deploy_devnet_with_verifier(
        &url,
        owner.clone(),
        sequencer.address(),
        genesis,
        WINDOW,
        Some((verifier, SLOTS as u32)),
        None,
        Some(GameParams {
            challenge_bond: U256::from(BOND),
            response_window: RESPONSE,
            zk_proof_deadline: 3_600,
            sequencer_bond: U256::from(SEQUENCER_BOND),
        }),
        &tandem_devnet::ExodusParams::unexercised(),
        U256::from(1u64),
    )
    .await
    .unwrap();
    let game_address = deployment.dispute_game.unwrap();
    bond_sequencer(&url, game_address, &sequencer).await;

    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(fault::single_sequencer_config(dir.path(), &url, &deployment, sequencer.clone(), &fee_key, CHAIN_ID, DEPTH))
        .await
        .unwrap();
    let (rpc, rpc_addr) = tandem_node::rpc::serve_rpc(node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();

    // Batch 1 (honest): alice deposits 1 ETH.
    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    let mallory = PrivateKey::from_seed([3; 32]);
    let user_l1 = RollupClient::new(&url, deployment.rollup, Some(user)).unwrap();
    let (x, y) = xy(&alice);
    user_l1.deposit_eth(x, y, U256::from(ETH)).await.unwrap();
    let mut scanned = None;
    node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(1));
    node.post_batches().await.unwrap();

    let mut challenger = Challenger::new(ChallengerConfig {
        l1_rpc: url.clone(),
        rollup: deployment.rollup,
        deploy_block: deployment.deploy_block,
        l2_rpc: Some(format!("http://{rpc_addr}")),
        key: watcher.clone(),
        chain_id: CHAIN_ID,
        tree_depth: DEPTH,
        genesis_fee_pubkey: fee_key.public_key().pack(),
        data_timeout: Duration::from_secs(1),
        poll_interval: Duration::from_millis(100),
        data_dir: None,
    })
    .await
    .unwrap();
    step_until(&mut challenger, |c| c.status().checked == 1).await;

    // The sequencer key forges batch 2: 0.9 ETH out of alice's account to a new account of
    // mallory's, which withdraws it to L1; then three more forged batches on top.
    let mut replica = tandem_chain::genesis_ledger(keys.ledger_config(), fee_key.public_key().pack()).unwrap();
    let block1 = node.block(1).unwrap().unwrap();
    replica.apply_public_batch(&decode_public_data(&block1.public_data).unwrap(), AccountIndex::new(0).unwrap()).unwrap();
    let honest = replica.clone();
    let sequencer_l1 = RollupClient::new(&url, deployment.rollup, Some(sequencer.clone())).unwrap();
    let (alice_index, mallory_index) = (AccountIndex::new(1).unwrap(), AccountIndex::new(2).unwrap());
    let loot = 9 * ETH / 10;
    let loot_l1 = L1Address([0x66; 20]);
    let theft = Op::TransferToNew(TransferToNewOp {
        from: alice_index,
        to: mallory_index,
        to_pubkey: mallory.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(loot).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    });
    let cash_out = WithdrawOp { from: mallory_index, token: TokenId::ETH, amount: loot, fee: PackedFee::new(0).unwrap(), to_l1: loot_l1 };
    commit_forged(&sequencer_l1, &mut replica, 2, &[theft, Op::Withdraw(cash_out)], None).await;
    for number in 3..=5 {
        let more = fee_free_transfer(alice_index, mallory_index, ETH / 100);
        commit_forged(&sequencer_l1, &mut replica, number, &[more], None).await;
    }
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 5);

    // Meanwhile the honest node produces its own block 2 (alice pays bob, signed). L1's
    // batch 2 is not its block, so it neither marks it posted nor can post on top.
    let pay = Tx::Transfer(TransferTx {
        from: alice_index,
        to: bob.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(ETH / 10).unwrap(),
        fee: PackedFee::new(0).unwrap(),
        nonce: 0,
    });
    node.submit(&sign_tx(&alice, CHAIN_ID, pay).unwrap().encode()).unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(2));
    node.post_batches().await.unwrap();
    assert_eq!(node.batch(2).unwrap().unwrap().status, BatchStatus::Soft);

    // The node serves no block 2: once the data timeout passes, chunk 0 is challenged.
    let game = DisputeClient::new(&url, game_address, None).unwrap();
    step_until(&mut challenger, |c| c.status().challenges == 1).await;
    let batch2 = user_l1.committed_batch(2, 0).await.unwrap().unwrap();
    let challenge = game.challenge_of(&batch2, 0).await.unwrap();
    assert_eq!(challenge.challenger, watcher.address());
    assert!(challenge.is_open());
    assert_eq!(challenger.status().checked, 1, "the replica stays before the fault");

    // Nobody can answer (no signature exists). Past the response window, the challenger
    // reverts batch 2 and the three after it, and takes its bond back with 30% of the
    // sequencer's bond; the other 70% is burned.
    let before = user_l1.provider().get_balance(watcher.address()).await.unwrap();
    pass_time(&url, RESPONSE + 1).await;
    step_until(&mut challenger, |c| c.status().reverts == 1).await;
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 1);
    assert_eq!(user_l1.revert_count().await.unwrap(), 1);
    assert_eq!(game.owed(watcher.address()).await.unwrap(), U256::ZERO, "the bond was withdrawn");
    let after = user_l1.provider().get_balance(watcher.address()).await.unwrap();
    let share = SEQUENCER_BOND * 3 / 10;
    assert!(
        after > before + U256::from(BOND + share) - U256::from(10u128.pow(16)),
        "bond back plus the reporter share, less gas: {before} -> {after}"
    );
    assert_eq!(game.sequencer_bond_of(sequencer.address()).await.unwrap().amount, U256::ZERO, "the sequencer's bond is gone");
    assert_eq!(game.burned_sequencer_bonds().await.unwrap(), U256::from(SEQUENCER_BOND - share));
    assert!(!node.check_sequencer_bond().await.unwrap(), "the node sees it has no bond");
    let unbonded = node.post_batches().await.unwrap_err().to_string();
    assert!(unbonded.contains("SequencerBondTooLow"), "an unbonded sequencer commits nothing: {unbonded}");
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 1);

    // The loot's withdrawal can never be claimed: its batch is gone.
    let claim = user_l1.claim_withdrawal(2, 0, &cash_out, vec![]).await;
    assert!(matches!(claim, Err(L1Error::Reverted(_))), "{claim:?}");
    pass_time(&url, WINDOW + 1).await;
    let claim = user_l1.claim_withdrawal(2, 0, &cash_out, vec![]).await;
    assert!(matches!(claim, Err(L1Error::Reverted(_))), "{claim:?}");

    // The chain resumes once the sequencer bonds again: the honest node posts its batch 2
    // on top of batch 1, alice's balance intact, and the challenger checks it valid.
    bond_sequencer(&url, game_address, &sequencer).await;
    assert!(node.check_sequencer_bond().await.unwrap(), "bonded again");
    node.post_batches().await.unwrap();
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 2);
    assert_eq!(node.batch(2).unwrap().unwrap().status, BatchStatus::Posted);
    step_until(&mut challenger, |c| c.status().checked == 2).await;
    let alice_after = challenger.ledger().account(alice_index).unwrap().balance(TokenId::ETH);
    assert_eq!(alice_after, ETH - ETH / 10, "alice lost only what she signed");
    assert_eq!(challenger.ledger().root(), node.with_ledger(|l, _| l.root()));

    // An honest batch whose griefing challenge nobody answers (no prover runs here) is
    // reverted like a faulty one, its committer's bond slashed (answering is the honest
    // side's job): bonded again, the node posts it again, and the challenger, which had
    // checked it, rolls back and checks the new commit.
    let pay_again = Tx::Transfer(TransferTx {
        from: alice_index,
        to: bob.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(ETH / 100).unwrap(),
        fee: PackedFee::new(0).unwrap(),
        nonce: 1,
    });
    node.submit(&sign_tx(&alice, CHAIN_ID, pay_again).unwrap().encode()).unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(3));
    node.post_batches().await.unwrap();
    step_until(&mut challenger, |c| c.status().checked == 3).await;
    let griefer = DisputeClient::new(&url, game_address, Some(signers[4].clone())).unwrap();
    let batch3 = user_l1.committed_batch(3, 0).await.unwrap().unwrap();
    let header3 = node.block(3).unwrap().unwrap().batch_header();
    griefer.challenge(&batch3, &header3, 0, U256::from(BOND)).await.unwrap();
    pass_time(&url, RESPONSE + 1).await;
    let batch2 = user_l1.committed_batch(2, 0).await.unwrap().unwrap();
    griefer.revert_unanswered(&batch3, &batch2, 0).await.unwrap();
    assert_eq!((user_l1.last_committed_batch().await.unwrap(), user_l1.revert_count().await.unwrap()), (2, 2));
    bond_sequencer(&url, game_address, &sequencer).await;
    node.post_batches().await.unwrap();
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 3);
    let recommitted = node.batch(3).unwrap().unwrap();
    assert_eq!(recommitted.status, BatchStatus::Posted);
    assert_ne!(recommitted.committed, Some(batch3), "a new commit of the same block");
    step_until(&mut challenger, |c| c.status().checked == 3 && c.ledger().root() == node.with_ledger(|l, _| l.root())).await;

    // A batch with an honest op but a wrong root: public data alone shows it.
    let mut replica = honest;
    for number in 2..=3 {
        let block = node.block(number).unwrap().unwrap();
        replica.apply_public_batch(&decode_public_data(&block.public_data).unwrap(), AccountIndex::new(0).unwrap()).unwrap();
    }
    let small = fee_free_transfer(alice_index, AccountIndex::new(2).unwrap(), ETH / 100);
    commit_forged(&sequencer_l1, &mut replica, 4, &[small], Some(B256::repeat_byte(7))).await;
    step_until(&mut challenger, |c| c.status().challenges == 2).await;
    pass_time(&url, RESPONSE + 1).await;
    step_until(&mut challenger, |c| c.status().reverts == 2).await;
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 3);
    assert_eq!(user_l1.revert_count().await.unwrap(), 3);
    assert_eq!(challenger.status().checked, 3);
    rpc.stop().unwrap();
}
