//! Batch admission (`Node::submit_batch`, what a member does with forwarded transactions)
//! gives every input the verdict it would get if the inputs were submitted one by one, in
//! order; what it accepts is durable (a restarted node still holds it) and applies.

mod common;

use common::*;
use tandem_node::mempool::MempoolError;
use tandem_node::node::SubmitError;
use tandem_state::StfError;
use tandem_types::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_gets_the_verdicts_of_one_by_one_submission_and_survives_a_restart() {
    let h = harness().await;
    let (alice, bob, carol) = (l2_key(1), l2_key(2), l2_key(3));
    let user_l1 = tandem_l1::RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    for key in [&alice, &bob] {
        let (x, y) = xy(key);
        user_l1.deposit_eth(x, y, tandem_l1::U256::from(10u128.pow(18))).await.unwrap();
    }
    let node = h.node.clone();
    node.sync_l1(&mut None).await.unwrap();
    assert_eq!(node.produce_block().unwrap(), Some(1));

    let first = transfer(&alice, 1, &bob, 0, 1_000, 0, 0);
    let inputs: Vec<Vec<u8>> = vec![
        first.clone(),
        // The next nonce: sees the first one pending.
        transfer(&alice, 1, &bob, 0, 2_000, 0, 1),
        // The same bytes again, inside the batch.
        first.clone(),
        // Signed by carol for alice's account.
        transfer(&carol, 1, &bob, 0, 1, 0, 2),
        vec![0xff, 1, 2],
        // Skips nonce 2.
        transfer(&alice, 1, &bob, 0, 1, 0, 3),
        // Debits more than alice holds after the two pending transfers.
        transfer(&alice, 1, &bob, 0, 10u128.pow(18), 0, 2),
        // bob's first transaction, interleaved.
        transfer(&bob, 2, &alice, 0, 500, 0, 0),
    ];
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let results = node.submit_batch(&refs);
    assert_eq!(results.len(), inputs.len(), "one result per input");
    assert!(results[0].is_ok() && results[1].is_ok() && results[7].is_ok(), "{results:?}");
    assert!(matches!(results[2], Err(SubmitError::Refused(MempoolError::AlreadyKnown(_)))), "{:?}", results[2]);
    assert!(
        matches!(results[3], Err(SubmitError::Refused(MempoolError::Rule(StfError::BadSignature { .. })))),
        "{:?}",
        results[3]
    );
    assert!(matches!(&results[4], Err(SubmitError::Malformed(d)) if d.ty == "SignedTx"), "{:?}", results[4]);
    assert!(
        matches!(results[5], Err(SubmitError::Refused(MempoolError::NonceGap { got: 3, expected: 2, .. }))),
        "{:?}",
        results[5]
    );
    assert!(
        matches!(results[6], Err(SubmitError::Refused(MempoolError::InsufficientBalance { .. }))),
        "{:?}",
        results[6]
    );
    // Already pending now: the whole batch again is refused input by input.
    let again = node.submit_batch(&refs[..2]);
    assert!(again.iter().all(|r| matches!(r, Err(SubmitError::Refused(MempoolError::AlreadyKnown(_))))), "{again:?}");
    // One by one, the same verdicts the batch gave (a fresh transaction to show acceptance).
    let e = node.submit(&transfer(&alice, 1, &bob, 0, 1, 0, 3)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::NonceGap { got: 3, expected: 2, .. })), "{e:?}");
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3));

    // Durable: a restarted node holds the three accepted transactions and applies them.
    drop(node);
    drop(h.node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3, "the accepted batch survives a restart"));
    assert_eq!(node.produce_block().unwrap(), Some(2));
    node.with_ledger(|ledger, mempool| {
        assert!(mempool.is_empty());
        let alice_account = ledger.account(AccountIndex::new(1).unwrap()).unwrap();
        assert_eq!(alice_account.nonce, 2);
        assert_eq!(alice_account.balance(TokenId::ETH), 10u128.pow(18) - 3_000 + 500);
        assert_eq!(ledger.account(AccountIndex::new(2).unwrap()).unwrap().nonce, 1);
    });
}
