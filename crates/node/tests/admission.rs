//! Batch admission (`Node::submit_batch`: groups of client submissions, and transactions
//! forwarded by other members) gives every input the verdict it would get if the inputs were
//! submitted one by one, in order; what it accepts applies, and survives a restart once synced.

mod common;

use common::*;
use tandem_api::{INVALID_PARAMS, REFUSED};
use tandem_node::mempool::MempoolError;
use tandem_node::node::{Admission, SubmitError};
use tandem_node::recent_txs::Inclusion;
use tandem_state::StfError;
use tandem_types::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_gets_the_verdicts_of_one_by_one_submission_and_survives_a_restart() {
    let h = harness().await;
    let (alice, bob, carol) = (l2_key(1), l2_key(2), l2_key(3));
    fund(&h, &[&alice, &bob], 10u128.pow(18)).await;
    let node = h.node.clone();

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
    let results = node.submit_batch(&refs, Admission::Durable);
    assert_eq!(results.len(), inputs.len(), "one result per input");
    assert!(results[0].is_ok() && results[1].is_ok() && results[7].is_ok(), "{results:?}");
    assert!(matches!(results[2], Err(SubmitError::Refused(MempoolError::AlreadyKnown(_)))), "{:?}", results[2]);
    assert!(matches!(results[3], Err(SubmitError::Refused(MempoolError::Rule(StfError::BadSignature { .. })))), "{:?}", results[3]);
    assert!(matches!(&results[4], Err(SubmitError::Malformed(d)) if d.ty == "SignedTx"), "{:?}", results[4]);
    assert!(matches!(results[5], Err(SubmitError::Refused(MempoolError::NonceGap { got: 3, expected: 2, .. }))), "{:?}", results[5]);
    assert!(matches!(results[6], Err(SubmitError::Refused(MempoolError::InsufficientBalance { .. }))), "{:?}", results[6]);
    // Already pending now: the whole batch again is refused input by input.
    let again = node.submit_batch(&refs[..2], Admission::Durable);
    assert!(again.iter().all(|r| matches!(r, Err(SubmitError::Refused(MempoolError::AlreadyKnown(_))))), "{again:?}");
    // One by one, the same verdicts the batch gave (a fresh transaction to show acceptance).
    let e = node.submit(&transfer(&alice, 1, &bob, 0, 1, 0, 3)).unwrap_err();
    assert!(matches!(e, SubmitError::Refused(MempoolError::NonceGap { got: 3, expected: 2, .. })), "{e:?}");
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3));
    let first_hash = *results[0].as_ref().unwrap();
    let status = |node: &tandem_node::node::Node| node.transaction(&first_hash).unwrap().map(|r| (r.status, r.block));
    assert_eq!(status(&node), Some(("pending".into(), None)));

    // Durable: a restarted node holds the three accepted transactions and applies them. What
    // it knows of them comes from its rebuilt mempool (admission writes no transaction record):
    // still pending, and a copy is still a duplicate.
    drop(node);
    drop(h.node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3, "the accepted batch survives a restart"));
    assert_eq!(status(&node), Some(("pending".into(), None)), "pending after a restart");
    let again = node.submit_batch(&refs[..1], Admission::Durable);
    assert!(matches!(again[0], Err(SubmitError::Refused(MempoolError::AlreadyKnown(h))) if h == first_hash), "{again:?}");
    assert_eq!(node.produce_block().unwrap(), Some(2));
    assert_eq!(status(&node), Some(("included".into(), Some(2))));
    let again = node.submit_batch(&refs[..1], Admission::Durable);
    assert!(matches!(again[0], Err(SubmitError::Refused(MempoolError::AlreadyKnown(h))) if h == first_hash), "{again:?}");
    node.with_ledger(|ledger, mempool| {
        assert!(mempool.is_empty());
        let alice_account = ledger.account(AccountIndex::new(1).unwrap()).unwrap();
        assert_eq!(alice_account.nonce, 2);
        assert_eq!(alice_account.balance(TokenId::ETH), 10u128.pow(18) - 3_000 + 500);
        assert_eq!(ledger.account(AccountIndex::new(2).unwrap()).unwrap().nonce, 1);
    });

    // The pool log still holds the included transactions (removals are not logged): a
    // restart drops them by their `included` records, so nothing is pending twice.
    drop(node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert!(mempool.is_empty(), "included transactions left the pool for good"));
    assert_eq!(status(&node), Some(("included".into(), Some(2))));
    // New transactions are numbered after the logged ones, so the log still reads back.
    let next = node.submit(&transfer(&alice, 1, &bob, 0, 1, 0, 2)).unwrap();
    drop(node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 1));
    assert_eq!(node.transaction(&next).unwrap().map(|r| r.status), Some("pending".into()));
}

/// Concurrent client submissions through `tandem_sendTransaction` are grouped into shared
/// admission batches (the RPC's admission queue); each caller must still get the verdict of
/// its own transaction, and only the accepted ones are persisted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_each_get_their_own_verdict_and_are_durable() {
    let h = harness().await;
    let keys: Vec<_> = (1..=8).map(l2_key).collect();
    fund(&h, &keys.iter().collect::<Vec<_>>(), 10u128.pow(18)).await;
    let node = h.node.clone();
    let (rpc, addr) = tandem_node::rpc::serve_rpc(node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = std::sync::Arc::new(jsonrpsee::http_client::HttpClientBuilder::default().build(format!("http://{addr}")).unwrap());

    // Account i + 1 belongs to keys[i] (deposits take the next index after the fee account).
    // Accounts 1-4 send valid transfers; accounts 5-8 only forged ones (signed by someone
    // else), so no verdict depends on which call comes first.
    let valid: Vec<Vec<u8>> = (0..4).map(|i| transfer(&keys[i], i as u32 + 1, &keys[(i + 1) % 4], 0, 1_000 + i as u128, 0, 0)).collect();
    let forged: Vec<Vec<u8>> = (0..4).map(|i| transfer(&keys[i], i as u32 + 5, &keys[i], 0, 7, 0, 0)).collect();
    // Every valid transaction twice (exactly one copy is accepted), every forged one, and
    // malformed bytes, all at once as separate calls.
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for round in 0..2 {
        inputs.extend(valid.iter().cloned());
        if round == 0 {
            inputs.extend(forged.iter().cloned());
            inputs.extend((0..4u8).map(|i| vec![0xff, i]));
        }
    }
    let calls: Vec<_> = inputs
        .iter()
        .map(|bytes| {
            let (client, hex) = (client.clone(), format!("0x{}", hex::encode(bytes)));
            tokio::spawn(async move { tandem_api::TandemApiClient::send_transaction(&*client, hex).await })
        })
        .collect();
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        results.push(call.await.expect("calling task").map(|submitted| submitted.hash).map_err(|e| match e {
            jsonrpsee::core::ClientError::Call(e) => (e.code(), e.message().to_string()),
            other => panic!("expected the server's verdict, got {other:?}"),
        }));
    }
    for tx in &valid {
        let hash = tandem_chain::TxHash::of(&SignedTx::decode(tx).unwrap());
        let verdicts: Vec<_> = inputs.iter().zip(&results).filter(|(input, _)| *input == tx).map(|(_, r)| r).collect();
        assert_eq!(verdicts.iter().filter(|r| matches!(r, Ok(h) if *h == hash)).count(), 1, "{verdicts:?}");
        let known = format!("transaction {hash} is already known");
        assert_eq!(verdicts.iter().filter(|r| matches!(r, Err((REFUSED, m)) if *m == known)).count(), 1, "{verdicts:?}");
    }
    for (input, result) in inputs.iter().zip(&results) {
        if forged.contains(input) {
            assert!(matches!(result, Err((REFUSED, m)) if m.contains("signature does not verify")), "{result:?}");
        } else if !valid.contains(input) {
            assert!(matches!(result, Err((INVALID_PARAMS, m)) if m.contains("invalid SignedTx")), "{result:?}");
        }
    }
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 4));
    // The server's connection tasks let go of the node (and its database) shortly after it
    // stops; only then can the node be opened again.
    drop(client);
    rpc.stop().unwrap();
    rpc.stopped().await;
    let released = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::sync::Arc::strong_count(&node) > 2 {
        assert!(std::time::Instant::now() < released, "the stopped RPC server still holds the node");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    drop(node);
    drop(h.node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 4, "the accepted transactions survive a restart"));
    assert_eq!(node.produce_block().unwrap(), Some(2));
    node.with_ledger(|ledger, mempool| {
        assert!(mempool.is_empty());
        for i in 1..=8 {
            let expected = if i <= 4 { 1 } else { 0 };
            assert_eq!(ledger.account(AccountIndex::new(i).unwrap()).unwrap().nonce, expected);
        }
    });
}

/// Forwarded transactions (`Admission::Forwarded`) get the same verdicts and enter the mempool
/// without a disk sync of their own; the node's next synced commit (here a client's
/// submission) makes them durable with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_admissions_become_durable_with_the_next_synced_commit() {
    let h = harness().await;
    let (alice, bob) = (l2_key(1), l2_key(2));
    fund(&h, &[&alice, &bob], 10u128.pow(18)).await;
    let node = h.node.clone();

    let forwarded: Vec<Vec<u8>> = vec![
        transfer(&alice, 1, &bob, 0, 1_000, 0, 0),
        transfer(&alice, 1, &bob, 0, 2_000, 0, 1),
        // Forged: bob's key for alice's account.
        transfer(&bob, 1, &bob, 0, 1, 0, 2),
    ];
    let refs: Vec<&[u8]> = forwarded.iter().map(Vec::as_slice).collect();
    let results = node.submit_batch(&refs, Admission::Forwarded);
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert!(matches!(results[2], Err(SubmitError::Refused(MempoolError::Rule(StfError::BadSignature { .. })))), "{:?}", results[2]);
    // A client's transaction: a synced commit, after which the forwarded ones are durable too.
    node.submit(&transfer(&bob, 2, &alice, 0, 500, 0, 0)).unwrap();

    drop(node);
    drop(h.node);
    let node = open(&h.config).await;
    node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3, "forwarded and client transactions survive a restart"));
    assert_eq!(node.produce_block().unwrap(), Some(2));
    node.with_ledger(|ledger, mempool| {
        assert!(mempool.is_empty());
        assert_eq!(ledger.account(AccountIndex::new(1).unwrap()).unwrap().nonce, 2);
        assert_eq!(ledger.account(AccountIndex::new(2).unwrap()).unwrap().nonce, 1);
    });
}

/// Included transactions' records wait in memory until enough have gathered, then go to the
/// records table together (SPEC §9). Whichever side of a merge a record is on, and after a
/// restart (which rebuilds the waiting ones from their blocks), it reads the same: status,
/// block, and a withdrawal's place in its batch's list; an included transaction sent again is
/// already known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn included_records_read_the_same_waiting_merged_and_after_a_restart() {
    let h = harness_with(|c| c.tx_records_merge = 4).await;
    let (alice, bob) = (l2_key(1), l2_key(2));
    fund(&h, &[&alice, &bob], 10u128.pow(18)).await;
    let mut node = h.node.clone();
    let to = tandem_l1::Address::repeat_byte(0x77);
    // Every transaction sent, with where it went.
    let mut sent: Vec<(Vec<u8>, Inclusion)> = Vec::new();
    // Sends `txs` (each with its index among the block's withdrawals, if it is one) and
    // produces the next block from them.
    let send_block = |node: &tandem_node::node::Node, sent: &mut Vec<(Vec<u8>, Inclusion)>, txs: Vec<(Vec<u8>, Option<u32>)>| {
        let block = node.latest_block().unwrap() + 1;
        for (bytes, _) in &txs {
            node.submit(bytes).unwrap();
        }
        assert_eq!(node.produce_block().unwrap(), Some(block));
        sent.extend(txs.into_iter().map(|(bytes, w)| (bytes, Inclusion { block, withdrawal: w.map(|i| (block, i)) })));
    };
    let check = |node: &tandem_node::node::Node, sent: &[(Vec<u8>, Inclusion)], when: &str| {
        for (bytes, inclusion) in sent {
            let hash = tandem_chain::TxHash::of(&SignedTx::decode(bytes).unwrap());
            let record = node.transaction(&hash).unwrap().unwrap_or_else(|| panic!("{when}: no record of {hash}"));
            assert_eq!(
                (record.status.as_str(), record.block, record.withdrawal),
                ("included", Some(inclusion.block), inclusion.withdrawal),
                "{when}: {hash}"
            );
            let again = node.submit(bytes).unwrap_err();
            assert!(matches!(again, SubmitError::Refused(MempoolError::AlreadyKnown(h)) if h == hash), "{when}: {again:?}");
        }
    };
    // The threshold is four. Block 2: three records wait in memory.
    send_block(
        &node,
        &mut sent,
        vec![
            (transfer(&alice, 1, &bob, 0, 1_000, 0, 0), None),
            (withdraw(&alice, 1, to, 0, 2_000, 0, 1), Some(0)),
            (transfer(&bob, 2, &alice, 0, 500, 0, 0), None),
        ],
    );
    check(&node, &sent, "block 2 waiting");
    // Block 3's one record merges them; block 4's two (the second withdrawal of its batch
    // at index 1) wait, and a restart rebuilds them.
    send_block(&node, &mut sent, vec![(transfer(&alice, 1, &bob, 0, 3, 0, 2), None)]);
    check(&node, &sent, "blocks 2 and 3 merged");
    send_block(&node, &mut sent, vec![(withdraw(&bob, 2, to, 0, 4, 0, 1), Some(0)), (withdraw(&alice, 1, to, 0, 5, 0, 3), Some(1))]);
    check(&node, &sent, "block 4 waiting");
    drop(node);
    drop(h.node);
    node = open(&h.config).await;
    check(&node, &sent, "block 4 rebuilt after a restart");
    // Block 5 merges the rebuilt records with its own.
    send_block(&node, &mut sent, vec![(transfer(&bob, 2, &alice, 0, 6, 0, 2), None), (withdraw(&alice, 1, to, 0, 7, 0, 4), Some(0))]);
    check(&node, &sent, "blocks 4 and 5 merged");
    drop(node);
    node = open(&h.config).await;
    check(&node, &sent, "merged, after a restart");
}

/// A data directory an earlier version wrote (its blocks stored as JSON) opens with this one:
/// its blocks read the same, the records waiting for a merge are rebuilt from them, and the
/// next block is stored in binary beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_an_earlier_version_stored_as_json_read_the_same_after_an_upgrade() {
    use tandem_node::records::{to_json, BLOCKS};
    use tandem_state::redb;
    let h = harness_with(|c| c.tx_records_merge = 4).await;
    let (alice, bob) = (l2_key(1), l2_key(2));
    fund(&h, &[&alice, &bob], 10u128.pow(18)).await;
    let node = h.node.clone();
    let txs = [transfer(&alice, 1, &bob, 0, 1_000, 0, 0), withdraw(&alice, 1, tandem_l1::Address::repeat_byte(0x77), 0, 2_000, 0, 1)];
    for bytes in &txs {
        node.submit(bytes).unwrap();
    }
    let block = node.produce_block().unwrap().unwrap();
    let stored: Vec<tandem_chain::BlockRecord> = (1..=block).map(|n| node.block(n).unwrap().unwrap()).collect();
    drop(node);
    drop(h.node);
    let path = h.config.data_dir.join("tandem.redb");
    let first_bytes = |numbers: &[u64]| -> Vec<u8> {
        let db = redb::Database::open(&path).unwrap();
        let read = db.begin_read().unwrap();
        let table = read.open_table(BLOCKS).unwrap();
        numbers.iter().map(|&n| table.get(n).unwrap().unwrap().value()[0]).collect()
    };
    assert_eq!(first_bytes(&[1, block]), vec![tandem_chain::BLOCK_RECORD_VERSION; 2], "this version stores binary");
    {
        let db = redb::Database::open(&path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let mut table = write.open_table(BLOCKS).unwrap();
            for record in &stored {
                table.insert(record.number, to_json(record).as_slice()).unwrap();
            }
        }
        write.commit().unwrap();
    }
    let node = open(&h.config).await;
    for record in &stored {
        assert_eq!(node.block(record.number).unwrap().as_ref(), Some(record), "block {} read from JSON", record.number);
    }
    // Both records were waiting for a merge (threshold 4): rebuilt from the JSON block.
    let hash = |bytes: &[u8]| tandem_chain::TxHash::of(&SignedTx::decode(bytes).unwrap());
    let transfer_record = node.transaction(&hash(&txs[0])).unwrap().unwrap();
    assert_eq!((transfer_record.status.as_str(), transfer_record.block), ("included", Some(block)));
    let withdrawal = node.transaction(&hash(&txs[1])).unwrap().unwrap();
    assert_eq!((withdrawal.status.as_str(), withdrawal.withdrawal), ("included", Some((block, 0))));
    node.submit(&transfer(&bob, 2, &alice, 0, 5, 0, 0)).unwrap();
    let next = node.produce_block().unwrap().unwrap();
    assert_eq!(node.block(next).unwrap().unwrap().number, next);
    drop(node);
    assert_eq!(first_bytes(&[block, next]), vec![b'{', tandem_chain::BLOCK_RECORD_VERSION]);
}
