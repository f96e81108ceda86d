//! Bad input through JSON-RPC is refused with a message naming the problem, and the node
//! keeps serving: malformed hex, undecodable bytes, bad signature, replayed nonce,
//! overdraft, unknown account, oversized request. Plus the read methods and `/metrics`.

mod common;

use common::*;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::HttpClientBuilder;
use tandem_api::{AccountRef, BatchStatus, SendOutcome, SubmittedTx, TandemApiClient, TxStatus, INVALID_PARAMS, REFUSED};
use tandem_chain::{Lane, TxHash};
use tandem_l1::B256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The server's error code and message of a refused call; panics on any other outcome.
fn refused(r: Result<SubmittedTx, ClientError>) -> (i32, String) {
    match r {
        Err(ClientError::Call(e)) => (e.code(), e.message().to_string()),
        other => panic!("expected a refusal by the server, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_reasons_and_the_node_keeps_serving() {
    let h = harness().await;
    let (rpc, addr) = tandem_node::rpc::serve_rpc(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let metrics = tandem_node::rpc::serve_metrics(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();

    // Fund alice through L1 and a block.
    let alice = l2_key(1);
    let bob = l2_key(2);
    fund(&h, &[&alice], 1_000_000).await;

    let send = |tx: String| {
        let client = &client;
        async move { client.send_transaction(tx).await }
    };

    let (code, message) = refused(send("zz".into()).await);
    assert_eq!((code, message.as_str()), (INVALID_PARAMS, "transaction must be 0x-prefixed hex"));
    let (code, message) = refused(send("0x12".into()).await);
    assert_eq!(code, INVALID_PARAMS);
    assert!(message.contains("invalid SignedTx"), "{message}");
    let (code, message) = refused(send(hex0x(&transfer(&bob, 1, &bob, 0, 10, 0, 0))).await);
    assert_eq!(code, REFUSED);
    assert!(message.contains("signature does not verify"), "{message}");
    let (code, message) = refused(send(hex0x(&transfer(&alice, 1, &bob, 0, 2_000_000, 0, 0))).await);
    assert_eq!(code, REFUSED);
    assert!(message.contains("insufficient balance"), "{message}");
    let (code, message) = refused(send(hex0x(&transfer(&alice, 5, &bob, 0, 1, 0, 0))).await);
    assert_eq!(code, REFUSED);
    assert!(message.contains("account #5 does not exist"), "{message}");

    // 200 kB of hex: over the server's 128 KiB limit, under the client's. The server answers
    // HTTP 413 (jsonrpsee's "request too big"), which the client reports as a rejection.
    let oversized = format!("0x{}", "ab".repeat(100_000));
    assert!(oversized.len() > tandem_node::rpc::MAX_REQUEST_BYTES as usize);
    // Sent from its own client, which allows far larger requests than the server, so that the
    // request reaches the server and it is the server that refuses it. The server closes that
    // connection after refusing (it does not read the rest of the body): a client reusing it
    // would see a broken pipe, so the other requests keep their own connection.
    let big_client = HttpClientBuilder::default().max_request_size(8 * 1024 * 1024).build(format!("http://{addr}")).unwrap();
    match big_client.send_transaction(oversized).await {
        Err(ClientError::Transport(e)) => match e.downcast_ref::<jsonrpsee::http_client::transport::Error>() {
            Some(jsonrpsee::http_client::transport::Error::Rejected { status_code }) => assert_eq!(*status_code, 413),
            _ => panic!("expected the server's HTTP 413, got transport error {e}"),
        },
        other => panic!("expected the server's HTTP 413, got {other:?}"),
    }
    assert_eq!(client.block_number().await.unwrap(), 1, "the node keeps serving after an oversized request");

    // A good transfer goes through; its replay is refused.
    let good = hex0x(&transfer(&alice, 1, &bob, 0, 1_000, 0, 0));
    let accepted = send(good.clone()).await.unwrap();
    assert_eq!(accepted.status, TxStatus::Pending);
    h.node.produce_block().unwrap();
    let (code, message) = refused(send(good).await);
    assert_eq!((code, message), (REFUSED, format!("transaction {} is already known", accepted.hash)));
    let (code, message) = refused(send(hex0x(&transfer(&alice, 1, &bob, 0, 5, 0, 0))).await);
    assert_eq!(code, REFUSED);
    assert!(message.contains("already used"), "{message}");

    // Reads still work and say the right things.
    assert_eq!(client.block_number().await.unwrap(), 2);
    let tx = client.transaction(accepted.hash).await.unwrap().expect("known");
    assert_eq!((tx.status, tx.block, tx.batch), (TxStatus::Included, Some(2), Some(2)));
    assert_eq!(client.transaction(TxHash([7; 32])).await.unwrap(), None);
    let bob_key = AccountRef::Key(B256::from(bob.public_key().pack().0));
    let bob_account = client.account(bob_key).await.unwrap().expect("bob has an account");
    assert_eq!((bob_account.index, bob_account.balance(0)), (2, 1000));
    let by_index = client.account(AccountRef::Index(1)).await.unwrap().expect("alice has an account");
    assert_eq!(by_index.nonce, 1);
    assert_eq!(client.account(AccountRef::Index(99)).await.unwrap(), None);
    let batch = client.batch(2).await.unwrap().expect("batch 2");
    assert_eq!((batch.status, batch.lane, batch.blocks), (BatchStatus::Soft, Lane::Optimistic, vec![2]));
    let params = client.chain_params().await.unwrap();
    assert_eq!((params.chain_id, params.rollup), (CHAIN_ID, h.deployment.rollup));
    let block = client.block(2).await.unwrap().expect("block 2");
    assert_eq!(block.block, h.node.block(2).unwrap().unwrap());
    assert_eq!(block.ops.len() as u32, block.block.op_count);
    assert_eq!(client.block(99).await.unwrap(), None);

    let mut stream = tokio::net::TcpStream::connect(metrics).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    assert!(body.contains("tandem_txs_refused_total 7"), "{body}");
    assert!(body.contains("tandem_latest_block 2"), "{body}");
    rpc.stop().unwrap();
}

/// `tandem_sendTransactions` admits its transactions in order, each with the verdict it would
/// get sent alone right after the ones before it (so consecutive nonces of one account share a
/// call), answers a malformed or refused one in its place with `tandem_sendTransaction`'s
/// error, and refuses a call over the bound as a whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_transactions_answers_each_in_order_with_its_own_verdict() {
    let h = harness().await;
    let (rpc, addr) = tandem_node::rpc::serve_rpc(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();
    let alice = l2_key(1);
    let bob = l2_key(2);
    fund(&h, &[&alice], 1_000_000).await;

    let first = transfer(&alice, 1, &bob, 0, 1_000, 0, 0);
    let txs = vec![
        hex0x(&first),
        "zz".to_string(),
        hex0x(&transfer(&alice, 1, &bob, 0, 2_000, 0, 1)),
        hex0x(&transfer(&bob, 1, &bob, 0, 10, 0, 2)),
        hex0x(&first),
        hex0x(&transfer(&alice, 1, &bob, 0, 5, 0, 9)),
        "0x12".to_string(),
        hex0x(&transfer(&alice, 1, &bob, 0, 3_000, 0, 2)),
    ];
    let outcomes = client.send_transactions(txs).await.unwrap();
    assert_eq!(outcomes.len(), 8, "{outcomes:?}");
    let refusal = |i: usize| match &outcomes[i] {
        SendOutcome::Refused { error } => (error.code, error.message.clone()),
        accepted => panic!("transaction {i}: expected a refusal, got {accepted:?}"),
    };
    let mut accepted = vec![];
    for i in [0, 2, 7] {
        match &outcomes[i] {
            SendOutcome::Accepted(SubmittedTx { hash, status: TxStatus::Pending }) => accepted.push(*hash),
            other => panic!("transaction {i}: expected it accepted, got {other:?}"),
        }
    }
    assert_eq!(accepted[0], TxHash::of(&tandem_types::SignedTx::decode(&first).unwrap()));
    assert_eq!(refusal(1), (INVALID_PARAMS, "transaction 1 must be 0x-prefixed hex".to_string()));
    let (code, message) = refusal(3);
    assert!(code == REFUSED && message.contains("signature does not verify"), "{message}");
    assert_eq!(refusal(4), (REFUSED, format!("transaction {} is already known", accepted[0])));
    let (code, message) = refusal(5);
    assert!(code == REFUSED && message == "nonce 9 of account #1 is not the next one: expected 2", "{message}");
    let (code, message) = refusal(6);
    assert!(code == INVALID_PARAMS && message.contains("invalid SignedTx"), "{message}");
    h.node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3));
    assert_eq!(client.send_transactions(vec![]).await.unwrap(), vec![]);

    let over = vec![hex0x(&first); tandem_api::MAX_SEND_BATCH + 1];
    match client.send_transactions(over).await {
        Err(ClientError::Call(e)) => {
            assert_eq!((e.code(), e.message()), (INVALID_PARAMS, "at most 256 transactions per call, got 257"))
        }
        other => panic!("expected the bound's refusal, got {other:?}"),
    }
    h.node.with_ledger(|_, mempool| assert_eq!(mempool.len(), 3, "a refused call admits nothing"));

    assert_eq!(h.node.produce_block().unwrap(), Some(2));
    for hash in accepted {
        let tx = client.transaction(hash).await.unwrap().expect("known");
        assert_eq!((tx.status, tx.block), (TxStatus::Included, Some(2)));
    }
    rpc.stop().unwrap();
}

/// `tandem_waitForBlock` answers as soon as a block past `after` commits, answers the latest
/// block (still `<= after`) when its timeout passes first, and refuses a timeout above the
/// most with `-32602`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_block_answers_on_the_next_block_or_at_its_timeout() {
    let h = harness().await;
    let (_rpc, addr) = tandem_node::rpc::serve_rpc(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();

    match client.wait_for_block(0, tandem_api::MAX_BLOCK_WAIT_MS + 1).await {
        Err(ClientError::Call(e)) => {
            assert_eq!(e.code(), INVALID_PARAMS);
            assert!(e.message().contains("timeoutMs 30001 is above the most, 30000"), "{}", e.message());
        }
        other => panic!("expected -32602, got {other:?}"),
    }
    // Nothing comes: the timeout's answer is the latest block, genesis.
    let started = std::time::Instant::now();
    assert_eq!(client.wait_for_block(0, 300).await.unwrap(), 0);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "answered before its timeout without a block");

    // A block commits while a call waits: the call answers with it, long before its timeout.
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            (client.wait_for_block(0, 20_000).await, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    fund(&h, &[&l2_key(1)], 1_000_000).await;
    let (answer, waited) = waiting.await.unwrap();
    assert_eq!(answer.unwrap(), 1);
    assert!(waited < std::time::Duration::from_secs(10), "waited {waited:?} for a block that had committed");
    // Already past `after`: answered at once.
    assert_eq!(client.wait_for_block(0, 20_000).await.unwrap(), 1);
}
