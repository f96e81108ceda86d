//! Bad input through JSON-RPC is refused with a message naming the problem, and the node
//! keeps serving: malformed hex, undecodable bytes, bad signature, replayed nonce,
//! overdraft, unknown account, oversized request. Plus the read methods and `/metrics`.

mod common;

use common::*;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::Value;
use tandem_l1::{RollupClient, U256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_reasons_and_the_node_keeps_serving() {
    let h = harness().await;
    let (rpc, addr) = tandem_node::rpc::serve_rpc(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let metrics = tandem_node::rpc::serve_metrics(h.node.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = HttpClientBuilder::default().max_request_size(8 * 1024 * 1024).build(format!("http://{addr}")).unwrap();

    // Fund alice through L1 and a block.
    let alice = l2_key(1);
    let bob = l2_key(2);
    let user = RollupClient::new(&h.url, h.deployment.rollup, Some(h.keys[2].clone())).unwrap();
    let (x, y) = xy(&alice);
    user.deposit_eth(x, y, U256::from(1_000_000u64)).await.unwrap();
    let mut scanned = None;
    h.node.sync_l1(&mut scanned).await.unwrap();
    h.node.produce_block().unwrap();

    let send = |tx: String| {
        let client = &client;
        async move { client.request::<Value, _>("tandem_sendTransaction", rpc_params![tx]).await }
    };
    let refused = |r: Result<Value, jsonrpsee::core::ClientError>| match r {
        Err(jsonrpsee::core::ClientError::Call(e)) => format!("{} {}", e.code(), e.message()),
        other => panic!("expected a refusal, got {other:?}"),
    };

    let e = refused(send("zz".into()).await);
    assert!(e.contains("-32602") && e.contains("0x-prefixed hex"), "{e}");
    let e = refused(send("0x12".into()).await);
    assert!(e.contains("-32602") && e.contains("invalid SignedTx"), "{e}");
    let e = refused(send(hex0x(&transfer(&bob, 1, &bob, 0, 10, 0, 0))).await);
    assert!(e.contains("-32000") && e.contains("signature does not verify"), "{e}");
    let e = refused(send(hex0x(&transfer(&alice, 1, &bob, 0, 2_000_000, 0, 0))).await);
    assert!(e.contains("insufficient balance"), "{e}");
    let e = refused(send(hex0x(&transfer(&alice, 5, &bob, 0, 1, 0, 0))).await);
    assert!(e.contains("account #5 does not exist"), "{e}");
    let oversized = format!("0x{}", "ab".repeat(100_000));
    assert!(send(oversized).await.is_err(), "a 200 kB request must be refused");

    // A good transfer goes through; its replay is refused.
    let good = hex0x(&transfer(&alice, 1, &bob, 0, 1_000, 0, 0));
    let accepted = send(good.clone()).await.unwrap();
    assert_eq!(accepted["status"], "pending");
    h.node.produce_block().unwrap();
    let e = refused(send(good).await);
    assert!(e.contains("already known"), "{e}");
    let e = refused(send(hex0x(&transfer(&alice, 1, &bob, 0, 5, 0, 0))).await);
    assert!(e.contains("already used"), "{e}");

    // Reads still work and say the right things.
    let number: u64 = client.request("tandem_blockNumber", rpc_params![]).await.unwrap();
    assert_eq!(number, 2);
    let tx: Value = client.request("tandem_getTransaction", rpc_params![accepted["hash"].as_str().unwrap()]).await.unwrap();
    assert_eq!(tx["status"], "included");
    assert_eq!(tx["block"], 2);
    let bob_account: Value = client.request("tandem_getAccount", rpc_params![hex0x(&bob.public_key().pack().0)]).await.unwrap();
    assert_eq!(bob_account["balances"]["0"], "1000");
    assert_eq!(bob_account["index"], 2);
    let by_index: Value = client.request("tandem_getAccount", rpc_params!["#1"]).await.unwrap();
    assert_eq!(by_index["nonce"], 1);
    let batch: Value = client.request("tandem_getBatch", rpc_params![2]).await.unwrap();
    assert_eq!(batch["status"], "soft");
    assert_eq!(batch["lane"], "optimistic");
    let params: Value = client.request("tandem_chainParams", rpc_params![]).await.unwrap();
    assert_eq!(params["chainId"], CHAIN_ID);
    let missing: Value = client.request("tandem_getBlock", rpc_params![99]).await.unwrap();
    assert!(missing.is_null());

    let mut stream = tokio::net::TcpStream::connect(metrics).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    assert!(body.contains("tandem_txs_refused_total 7"), "{body}");
    assert!(body.contains("tandem_latest_block 2"), "{body}");
    rpc.stop().unwrap();
}
