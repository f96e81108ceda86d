//! The optimistic lane end to end on a real L1 (anvil): deposits of ETH and an ERC-20 reach
//! L2, transfers between three accounts (one created by the transfer), withdrawals, batches
//! posted, the challenge window passed by time travel, finalization, claims paid exactly
//! once; bad transactions refused with their reason; a restarted node loses nothing and
//! does not post twice.

mod common;

use alloy::providers::Provider;
use common::*;
use tandem_chain::withdrawal_proof;
use tandem_l1::bindings::TandemRollup::TandemRollupErrors;
use tandem_l1::{Address, ContractRevert, L1Error, RollupClient, U256};
use tandem_node::mempool::MempoolError;
use tandem_node::node::SubmitError;
use tandem_node::records::BatchStatus;
use tandem_state::StfError;
use tandem_types::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_transfers_withdrawals_finalize_and_claim_once() {
    let h = harness().await;
    let (url, deployment, config) = (h.url.clone(), h.deployment.clone(), h.config.clone());
    let (deployer, user, claimer) = (h.keys[0].clone(), h.keys[2].clone(), h.keys[3].clone());
    let recipient: Address = Address::from([0x77; 20]);
    let (alice, bob, carol) = (l2_key(1), l2_key(2), l2_key(3));
    let node = h.node.clone();

    // L1: the owner mints dev tokens to the user; the user deposits ETH for alice and
    // tokens for bob.
    let owner_l1 = RollupClient::new(&url, deployment.rollup, Some(deployer)).unwrap();
    owner_l1.mint_dev_token(deployment.dev_token, user.address(), U256::from(5_000u64)).await.unwrap();
    let user_l1 = RollupClient::new(&url, deployment.rollup, Some(user.clone())).unwrap();
    let (ax, ay) = xy(&alice);
    let (bx, by) = xy(&bob);
    user_l1.deposit_eth(ax, ay, U256::from(10u128.pow(18))).await.unwrap();
    user_l1.deposit_erc20(deployment.dev_token, bx, by, 3_000).await.unwrap();
    let token = deployment.dev_token_id as u32;

    let mut scanned = None;
    node.sync_l1(&mut scanned).await.unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(1));
    node.with_ledger(|ledger, _| {
        assert_eq!(ledger.account(AccountIndex::new(1).unwrap()).unwrap().balance(TokenId::ETH), 10u128.pow(18));
        assert_eq!(ledger.account(AccountIndex::new(2).unwrap()).unwrap().balance(TokenId::new(token).unwrap()), 3_000);
    });

    // L2: alice → bob (existing), bob → carol (new account), then withdrawals.
    node.submit(&transfer(&alice, 1, &bob, 0, 10u128.pow(17), 10u128.pow(12), 0)).unwrap();
    node.submit(&transfer(&bob, 2, &carol, token, 1_000, 5, 0)).unwrap();
    node.submit(&withdraw(&alice, 1, recipient, 0, 5 * 10u128.pow(17), 10u128.pow(12), 1)).unwrap();
    node.submit(&withdraw(&bob, 2, recipient, token, 1_500, 5, 1)).unwrap();

    // Bad input is refused with its reason, and nothing changes.
    let replay = transfer(&alice, 1, &bob, 0, 10u128.pow(17), 10u128.pow(12), 0);
    let e = node.submit(&replay).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::AlreadyKnown(_))), "{e:?}");
    let e = node.submit(&transfer(&alice, 1, &bob, 0, 1, 0, 0)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::NonceTaken { got: 0, expected: 2, .. })), "{e:?}");
    let e = node.submit(&transfer(&alice, 1, &bob, 0, 10u128.pow(20), 0, 2)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::InsufficientBalance { .. })), "{e:?}");
    let e = node.submit(&transfer(&carol, 1, &bob, 0, 1, 0, 2)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::Rule(StfError::BadSignature { .. }))), "{e:?}");
    let e = node.submit(&transfer(&alice, 9, &bob, 0, 1, 0, 0)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::Rule(StfError::AccountNotFound(_)))), "{e:?}");
    let e = node.submit(&[0xff, 1, 2]).unwrap_err();
    assert!(matches!(&e, SubmitError::Malformed(d) if d.ty == "SignedTx"), "{e:?}");

    assert_eq!(node.produce_block().unwrap(), Some(2));
    assert_eq!(node.produce_block().unwrap(), None, "empty blocks are not produced");
    let e = node.submit(&transfer(&alice, 1, &bob, 0, 7, 0, 0)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::NonceUsed { got: 0, current: 2, .. })), "{e:?}");
    node.with_ledger(|ledger, mempool| {
        assert!(mempool.is_empty());
        let carol_index = ledger.index_of(&carol.public_key().pack()).unwrap();
        assert_eq!(carol_index.get(), 3);
        assert_eq!(ledger.account(carol_index).unwrap().balance(TokenId::new(token).unwrap()), 1_000);
        assert_eq!(
            ledger.account(AccountIndex::new(2).unwrap()).unwrap().balance(TokenId::new(token).unwrap()),
            3_000 - 1_000 - 5 - 1_500 - 5
        );
        assert_eq!(ledger.account(AccountIndex::new(0).unwrap()).unwrap().balance(TokenId::new(token).unwrap()), 10);
    });

    // Batcher posts both; finalization waits for the window.
    node.post_batches().await.unwrap();
    let rollup = RollupClient::new(&url, deployment.rollup, Some(claimer.clone())).unwrap();
    assert_eq!(rollup.last_committed_batch().await.unwrap(), 2);
    node.finalize_batches().await.unwrap();
    assert_eq!(rollup.last_finalized_batch().await.unwrap(), 0, "window still open");
    let posted = node.batch(2).unwrap().unwrap();
    assert_eq!(posted.status, BatchStatus::Posted);
    // Who committed it, from L1: the sequencer's key, in the transaction the batcher sent; a
    // single sequencer's batch carries no set signatures.
    let origin = posted.origin.expect("commit origin recorded when marked posted");
    assert_eq!(origin.poster, config.sequencer_key.address());
    assert_eq!(Some(origin.l1_tx.to_string()), posted.l1_commit_tx);
    assert!(origin.signed.is_none());
    assert!(posted.finalized_at.is_none());

    let provider = rollup.provider();
    let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (WINDOW + 1,)).await.unwrap();
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    node.finalize_batches().await.unwrap();
    assert_eq!(rollup.last_finalized_batch().await.unwrap(), 2);
    let finalized = node.batch(2).unwrap().unwrap();
    assert_eq!(finalized.status, BatchStatus::Final);
    let block_time = node.block(2).unwrap().unwrap().timestamp;
    assert!(finalized.finalized_at.is_some_and(|t| t >= block_time), "finalized_at {:?}, block at {block_time}", finalized.finalized_at);

    // Claims, made by a third party, pay the named recipient exactly.
    let block = node.block(2).unwrap().unwrap();
    let ops = decode_public_data(&block.public_data).unwrap();
    let withdrawals = tandem_chain::withdrawals(&ops);
    assert_eq!(withdrawals.len(), 2);
    let eth_before = rollup.balance_of(recipient, None).await.unwrap();
    for (i, w) in withdrawals.iter().enumerate() {
        rollup.claim_withdrawal(2, i as u32, w, withdrawal_proof(&withdrawals, i).unwrap()).await.unwrap();
    }
    assert_eq!(rollup.balance_of(recipient, None).await.unwrap() - eth_before, U256::from(5 * 10u128.pow(17)));
    assert_eq!(rollup.balance_of(recipient, Some(deployment.dev_token)).await.unwrap(), U256::from(1_500u64));
    let again = rollup.claim_withdrawal(2, 0, &withdrawals[0], withdrawal_proof(&withdrawals, 0).unwrap()).await;
    assert!(matches!(&again, Err(L1Error::Reverted(ContractRevert::Rollup(TandemRollupErrors::WithdrawalAlreadyClaimed(_))))), "{again:?}");

    // Restart: same root, nothing re-posted.
    let root = node.with_ledger(|l, _| l.root());
    drop(node);
    drop(h.node);
    let node = open(&config).await;
    assert_eq!(node.with_ledger(|l, _| l.root()), root);
    node.post_batches().await.unwrap();
    assert_eq!(rollup.last_committed_batch().await.unwrap(), 2);
    assert_eq!(node.batch(1).unwrap().unwrap().status, BatchStatus::Final);
}
