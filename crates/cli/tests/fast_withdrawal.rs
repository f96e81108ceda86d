//! The validity lane end to end on anvil: a fast withdrawal goes into a ZK-lane batch, the
//! prover proves it with a real Groth16 proof verified by the generated Solidity verifier,
//! and it is final and claimable at once, while an optimistic batch posted right after it
//! still waits for its challenge window. A proof bound to another prover address is refused.

mod fault;

use alloy::providers::Provider;
use fault::xy;
use std::time::Duration;
use tandem_chain::genesis_root;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::deploy_devnet_with_verifier;
use tandem_l1::bindings::TandemRollup::TandemRollupErrors;
use tandem_l1::{Address, ContractRevert, L1Error, PrivateKeySigner, RollupClient, U256};
use tandem_node::records::BatchStatus;
use tandem_node::{Node, NodeConfig, ZkLaneConfig};
use tandem_prover::{prove_batch, Prover, ProverConfig};
use tandem_state::signing::sign_tx;
use tandem_types::*;

const CHAIN_ID: u64 = 7;
const SLOTS: usize = 2;
const DEPTH: u8 = 4;
const WINDOW: u64 = 3_600;
const FAST_FEE: u128 = 1_000_000_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_withdrawal_is_final_by_proof_while_the_optimistic_batch_waits() {
    run(false).await
}

/// With `prove_optimistic`, the prover also proves the optimistic deposit batch before the
/// fast withdrawal, so nothing waits for a challenge window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proving_optimistic_batches_makes_fast_withdrawals_independent_of_windows() {
    run(true).await
}

async fn run(prove_optimistic: bool) {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let (owner, sequencer, user, prover_key) = (keys[0].clone(), keys[1].clone(), keys[2].clone(), keys[3].clone());

    // Keys (insecure local setup), the verifier rendered from them, compiled and deployed.
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
        None,
        &tandem_devnet::ExodusParams::unexercised(),
        U256::from(1u64),
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig {
        zk_lane: Some(ZkLaneConfig { slots: SLOTS, fast_withdrawal_fee: FAST_FEE, escrow_proof_fees: false }),
        ..fault::single_sequencer_config(dir.path(), &url, &deployment, sequencer, &fee_key, CHAIN_ID, DEPTH)
    };
    let node = Node::open(config).await.unwrap();
    let (rpc, rpc_addr) = tandem_node::rpc::serve_rpc(node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();

    // Batch 1 (optimistic): alice's deposit; let it become final.
    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    let user_l1 = RollupClient::new(&url, deployment.rollup, Some(user)).unwrap();
    let (x, y) = xy(&alice);
    user_l1.deposit_eth(x, y, U256::from(10u128.pow(18))).await.unwrap();
    let mut scanned = None;
    node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(1));
    node.post_batches().await.unwrap();
    if !prove_optimistic {
        let provider = user_l1.provider();
        let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (WINDOW + 1,)).await.unwrap();
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
        node.finalize_batches().await.unwrap();
        assert_eq!(user_l1.last_finalized_batch().await.unwrap(), 1);
    }

    // Batch 2: a fast withdrawal (ZK lane). Batch 3: an ordinary transfer (optimistic).
    let recipient = Address::from([0x42; 20]);
    let withdraw = Tx::Withdraw(WithdrawTx {
        from: AccountIndex::new(1).unwrap(),
        to_l1: L1Address(recipient.0 .0),
        token: TokenId::ETH,
        amount: 10u128.pow(17),
        fee: PackedFee::new(FAST_FEE).unwrap(),
        nonce: 0,
    });
    node.submit(&sign_tx(&alice, CHAIN_ID, withdraw).unwrap().encode()).unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(2));
    let transfer = Tx::Transfer(TransferTx {
        from: AccountIndex::new(1).unwrap(),
        to: bob.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(10u128.pow(16)).unwrap(),
        fee: PackedFee::new(0).unwrap(),
        nonce: 1,
    });
    node.submit(&sign_tx(&alice, CHAIN_ID, transfer).unwrap().encode()).unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(3));
    assert_eq!(node.block(2).unwrap().unwrap().lane, tandem_chain::Lane::Zk);
    assert_eq!(node.block(3).unwrap().unwrap().lane, tandem_chain::Lane::Optimistic);
    node.post_batches().await.unwrap();

    // A proof bound to another address is refused when this prover submits it.
    let before_2 = tandem_chain::genesis_ledger(keys.ledger_config(), fee_key.public_key().pack()).unwrap();
    let mut replica = before_2;
    for n in 1..=1u64 {
        let block = node.block(n).unwrap().unwrap();
        let ops: Vec<_> = block.inputs.iter().map(|i| i.to_ledger_op()).collect();
        replica.apply_batch(&ops, AccountIndex::new(0).unwrap()).unwrap();
    }
    let block2 = node.block(2).unwrap().unwrap();
    let ops2: Vec<_> = block2.inputs.iter().map(|i| i.to_ledger_op()).collect();
    let foreign = prove_batch(&keys, &replica, &ops2, AccountIndex::new(0).unwrap(), L1Address([0x99; 20])).unwrap();
    let prover_l1 = RollupClient::new(&url, deployment.rollup, Some(prover_key.clone())).unwrap();
    let refused = prover_l1.prove_batch(2, foreign.prev_root, foreign.new_root, foreign.data_hash, foreign.words).await;
    assert!(matches!(&refused, Err(L1Error::Reverted(ContractRevert::Rollup(TandemRollupErrors::InvalidProof(_))))), "{refused:?}");

    // The prover follows the chain, proves batch 2 with its own address, submits it.
    let mut prover = Prover::new(
        ProverConfig {
            l2_rpc: format!("http://{rpc_addr}"),
            l1_rpc: url.clone(),
            rollup: deployment.rollup,
            prover_key,
            chain_id: CHAIN_ID,
            tree_depth: DEPTH,
            genesis_fee_pubkey: fee_key.public_key().pack(),
            prove_optimistic,
            poll_interval: Duration::from_millis(100),
            policy: tandem_prover::miner::MinerPolicy { wei_per_second: 0, lock: true },
            test_stall_after_lock: false,
        },
        keys,
    )
    .await
    .unwrap();
    while prover.height() < 3 || prover.pending_jobs() > 0 {
        assert!(prover.step().await.unwrap(), "prover stalled at {}", prover.height());
    }
    assert!(user_l1.is_proven(2).await.unwrap());

    // Batch 2 is final through its proof at once (and, when optimistic batches are proven
    // too, batch 1 before it, with no time travel); batch 3 waits for its window unless proven.
    node.finalize_batches().await.unwrap();
    if prove_optimistic {
        assert!(user_l1.is_proven(1).await.unwrap());
        assert!(user_l1.is_proven(3).await.unwrap());
        assert_eq!(user_l1.last_finalized_batch().await.unwrap(), 3);
        assert_eq!(node.batch(3).unwrap().unwrap().status, BatchStatus::Final);
    } else {
        assert_eq!(user_l1.last_finalized_batch().await.unwrap(), 2);
        assert_eq!(node.batch(3).unwrap().unwrap().status, BatchStatus::Posted);
    }
    assert_eq!(node.batch(2).unwrap().unwrap().status, BatchStatus::Final);

    let withdrawals = tandem_chain::withdrawals(&decode_public_data(&block2.public_data).unwrap());
    user_l1.claim_withdrawal(2, 0, &withdrawals[0], tandem_chain::withdrawal_proof(&withdrawals, 0).unwrap()).await.unwrap();
    assert_eq!(user_l1.balance_of(recipient, None).await.unwrap(), U256::from(10u128.pow(17)));
    rpc.stop().unwrap();
}
