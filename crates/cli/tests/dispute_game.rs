//! The dispute game end to end on anvil (SPEC §17), with real Groth16 proofs verified by the
//! generated Solidity verifier, on a chain whose circuit has S = 2 slots:
//!
//! - a griefer challenges a chunk of an honest batch of five transfers (three chunks); the
//!   prover answers it within the response window and earns the griefer's bond, and the
//!   batch finalizes normally after its window;
//! - a prover that proves optimistic batches proves the next five-transfer batch chunk by
//!   chunk (the chain settles fees per chunk, so each middle boundary is a committed
//!   intermediate root), and the batch is final before its window.

mod fault;

use alloy::providers::Provider;
use fault::xy;
use std::time::Duration;
use tandem_chain::genesis_root;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::deploy_devnet_with_verifier;
use tandem_l1::{ContractRevert, DisputeClient, GameParams, L1Error, PrivateKeySigner, RollupClient, U256};
use tandem_node::Node;
use tandem_prover::{Prover, ProverConfig};
use tandem_state::signing::sign_tx;
use tandem_types::*;

const CHAIN_ID: u64 = 7;
const SLOTS: usize = 2;
const DEPTH: u8 = 4;
const WINDOW: u64 = 3_600;
const BOND: u128 = 10u128.pow(17);
const FEE: u128 = 10u128.pow(12);

/// Submits five fee-paying transfers from account 1 (nonces from `nonce`) and produces
/// them as block `number`.
fn five_transfers(node: &Node, alice: &PrivateKey, to: &PrivateKey, nonce: u32, number: u64) {
    for n in nonce..nonce + 5 {
        let transfer = Tx::Transfer(TransferTx {
            from: AccountIndex::new(1).unwrap(),
            to: to.public_key().pack(),
            token: TokenId::ETH,
            amount: PackedAmount::new(10u128.pow(16)).unwrap(),
            fee: PackedFee::new(FEE).unwrap(),
            nonce: n,
        });
        node.submit(&sign_tx(alice, CHAIN_ID, transfer).unwrap().encode()).unwrap();
    }
    assert_eq!(node.produce_block().unwrap(), Some(number));
    assert_eq!(node.block(number).unwrap().unwrap().op_count, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenged_honest_chunks_are_answered_and_long_batches_proven_chunk_by_chunk() {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let signers: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let (owner, sequencer, user, prover_key, griefer) =
        (signers[0].clone(), signers[1].clone(), signers[2].clone(), signers[3].clone(), signers[4].clone());

    let (keys, verifier) = fault::deploy_insecure_verifier(&url, &owner, SLOTS, DEPTH, CHAIN_ID).await;
    let fee_key = PrivateKey::from_seed([9; 32]);
    let genesis = genesis_root(CHAIN_ID, DEPTH, fee_key.public_key().pack()).unwrap();
    let params = GameParams {
        challenge_bond: U256::from(BOND),
        response_window: 600,
        zk_proof_deadline: 3_600,
        sequencer_bond: U256::from(fault::SEQUENCER_BOND),
    };
    let deployment = deploy_devnet_with_verifier(
        &url,
        owner.clone(),
        sequencer.address(),
        genesis,
        WINDOW,
        Some((verifier, SLOTS as u32)),
        None,
        Some(params),
        &tandem_devnet::ExodusParams::unexercised(),
        U256::from(1u64),
    )
    .await
    .unwrap();
    let game_address = deployment.dispute_game.expect("deployed with a game");
    fault::bond_sequencer(&url, game_address, &sequencer).await;

    let dir = tempfile::tempdir().unwrap();
    let node =
        Node::open(fault::single_sequencer_config(dir.path(), &url, &deployment, sequencer, &fee_key, CHAIN_ID, DEPTH)).await.unwrap();
    let (rpc, rpc_addr) = tandem_node::rpc::serve_rpc(node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let prover_config = |prove_optimistic: bool| ProverConfig {
        l2_rpc: format!("http://{rpc_addr}"),
        l1_rpc: url.clone(),
        rollup: deployment.rollup,
        prover_key: prover_key.clone(),
        chain_id: CHAIN_ID,
        tree_depth: DEPTH,
        genesis_fee_pubkey: fee_key.public_key().pack(),
        prove_optimistic,
        poll_interval: Duration::from_millis(100),
        policy: tandem_prover::miner::MinerPolicy { wei_per_second: 0, lock: false },
        test_stall_after_lock: false,
    };

    // Batch 1: alice's deposit. Batch 2: five transfers paying fees (three chunks).
    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    let user_l1 = RollupClient::new(&url, deployment.rollup, Some(user)).unwrap();
    let (x, y) = xy(&alice);
    user_l1.deposit_eth(x, y, U256::from(10u128.pow(18))).await.unwrap();
    let mut scanned = None;
    node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(1));
    five_transfers(&node, &alice, &bob, 0, 2);
    node.post_batches().await.unwrap();
    assert_eq!(user_l1.last_committed_batch().await.unwrap(), 2);

    // A griefer challenges chunk 1 (ops 2 and 3) of the honest batch 2.
    let griefer_game = DisputeClient::new(&url, game_address, Some(griefer.clone())).unwrap();
    let batch2 = user_l1.committed_batch(2, 0).await.unwrap().unwrap();
    let header2 = node.block(2).unwrap().unwrap().batch_header();
    assert_eq!(griefer_game.chunk_count(5).await.unwrap(), 3);
    let deadline = griefer_game.challenge(&batch2, &header2, 1, U256::from(BOND)).await.unwrap();
    assert!(griefer_game.challenge_of(&batch2, 1).await.unwrap().is_open());

    // The prover answers it (only it: it does not prove unchallenged optimistic chunks).
    let mut answerer = Prover::new(prover_config(false), keys.clone()).await.unwrap();
    while !griefer_game.challenge_of(&batch2, 1).await.unwrap().answered {
        assert!(answerer.step().await.unwrap(), "the prover stalled before answering");
    }
    assert!(user_l1.latest_timestamp().await.unwrap() <= deadline);
    assert!(griefer_game.chunk_proven(&batch2, 1).await.unwrap());
    assert!(!griefer_game.chunk_proven(&batch2, 0).await.unwrap(), "unchallenged chunks are left alone");
    assert!(!user_l1.is_proven(2).await.unwrap());
    assert_eq!(griefer_game.owed(prover_key.address()).await.unwrap(), U256::from(BOND), "the bond pays the prover");
    assert_eq!(griefer_game.owed(griefer.address()).await.unwrap(), U256::ZERO);
    assert_eq!(answerer.status().wins, 1);

    // Answered, the batch finalizes normally after its window.
    let provider = user_l1.provider();
    let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (WINDOW + 1,)).await.unwrap();
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    node.finalize_batches().await.unwrap();
    assert_eq!(user_l1.last_finalized_batch().await.unwrap(), 2);
    // A challenge after the window is refused.
    let late = griefer_game.challenge(&batch2, &header2, 0, U256::from(BOND)).await;
    assert!(matches!(&late, Err(L1Error::Reverted(ContractRevert::Game(_)))), "{late:?}");

    // Batch 3: five more transfers, proven chunk by chunk by a prover of optimistic
    // batches: proven on the rollup, and final with no time passing.
    five_transfers(&node, &alice, &bob, 5, 3);
    node.post_batches().await.unwrap();
    let mut prover = Prover::new(prover_config(true), keys).await.unwrap();
    while !user_l1.is_proven(3).await.unwrap() {
        assert!(prover.step().await.unwrap(), "the prover stalled at {}", prover.height());
    }
    let batch3 = user_l1.committed_batch(3, 0).await.unwrap().unwrap();
    for chunk in 0..3 {
        assert!(griefer_game.chunk_proven(&batch3, chunk).await.unwrap(), "chunk {chunk}");
    }
    assert_eq!(prover.status().wins, 3);
    node.finalize_batches().await.unwrap();
    assert_eq!(user_l1.last_finalized_batch().await.unwrap(), 3);
    rpc.stop().unwrap();
}
