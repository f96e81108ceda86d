//! Killing the node with SIGKILL, between blocks and with transactions pending (accepted, in
//! no block yet: checked just before each kill), then restarting it: no accepted transaction is
//! lost, the state root of every block is the same, and the batcher resumes without posting any
//! batch twice.

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tandem_api::{AccountRef, TandemApiClient, TxStatus};
use tandem_chain::TxHash;
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::{deploy_devnet, free_port, NodeCommand, Supervised};
use tandem_l1::bindings::TandemRollup;
use tandem_l1::{PrivateKeySigner, RollupClient, B256, U256};
use tandem_state::signing::sign_tx;
use tandem_types::*;

const CHAIN_ID: u64 = 777;

/// Block time of the node: long enough that a burst sent right after a block is still pending
/// when it is killed.
const BLOCK_TIME_MS: u64 = 2_000;

fn start_node(node: &NodeCommand, log: &Path) -> Supervised {
    Supervised::spawn("tandem node", node.command(Path::new(env!("CARGO_BIN_EXE_tandem"))), log).expect("spawn tandem node")
}

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn transfer(key: &PrivateKey, from: u32, to: &PrivateKey, amount: u128, nonce: u32) -> String {
    let tx = Tx::Transfer(TransferTx {
        from: AccountIndex::new(from).unwrap(),
        to: to.public_key().pack(),
        token: TokenId::ETH,
        amount: PackedAmount::new(amount).unwrap(),
        fee: PackedFee::new(1).unwrap(),
        nonce,
    });
    format!("0x{}", hex::encode(sign_tx(key, CHAIN_ID, tx).unwrap().encode()))
}

async fn block_roots(client: &HttpClient) -> BTreeMap<u64, B256> {
    let latest = client.block_number().await.unwrap();
    let mut roots = BTreeMap::new();
    for n in 1..=latest {
        let block = client.block(n).await.unwrap().expect("a block up to the latest");
        roots.insert(n, block.block.state_root);
    }
    roots
}

/// Status of a transaction the node must know.
async fn status(client: &HttpClient, hash: TxHash) -> Option<TxStatus> {
    Some(client.transaction(hash).await.ok()??.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_node_restarts_without_loss_or_double_posting() {
    let anvil = test_anvil().unwrap();
    let url = anvil.endpoint();
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let fee_key = PrivateKey::from_seed([50; 32]);
    let genesis = tandem_chain::genesis_root(CHAIN_ID, 12, fee_key.public_key().pack()).unwrap();
    let deployment = deploy_devnet(&url, keys[0].clone(), keys[1].address(), genesis, 3600, U256::from(1u64)).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let rpc_port = free_port().unwrap();
    let mut node_cmd = NodeCommand::new(
        dir.path(),
        CHAIN_ID,
        12,
        fee_key.public_key().pack(),
        &url,
        deployment.rollup,
        deployment.deploy_block,
        keys[1].clone(),
        ([127, 0, 0, 1], rpc_port).into(),
        ([127, 0, 0, 1], free_port().unwrap()).into(),
    );
    node_cmd.block_time_ms = Some(BLOCK_TIME_MS);
    node_cmd.l1_confirmations = Some(0);
    node_cmd.l1_poll_ms = Some(200);
    node_cmd.data_dir = dir.path().join("node");
    let log = dir.path().join("node.log");
    let client = HttpClientBuilder::default().build(format!("http://127.0.0.1:{rpc_port}")).unwrap();

    let mut node = start_node(&node_cmd, &log);
    wait_for("node RPC", async || client.block_number().await.ok()).await;

    let alice = PrivateKey::from_seed([1; 32]);
    let bob = PrivateKey::from_seed([2; 32]);
    let pk = alice.public_key();
    let user = RollupClient::new(&url, deployment.rollup, Some(keys[2].clone())).unwrap();
    user.deposit_eth(U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())), U256::from(10u64.pow(15)))
        .await
        .unwrap();
    let alice_ref = AccountRef::Key(B256::from(pk.pack().0));
    wait_for("deposit on L2", async || client.account(alice_ref).await.ok()?.map(|_| ())).await;

    let mut accepted = Vec::new();
    let mut nonce = 0u32;
    for round in 0..3 {
        // A transaction included in a block marks a block boundary: the burst that follows
        // has most of a block time before the next block.
        let marker = client.send_transaction(transfer(&alice, 1, &bob, 1_000, nonce)).await.unwrap().hash;
        accepted.push(marker);
        nonce += 1;
        wait_for("the marker's block", async || (status(&client, marker).await? == TxStatus::Included).then_some(())).await;
        let mut burst = Vec::new();
        for _ in 0..12 {
            burst.push(client.send_transaction(transfer(&alice, 1, &bob, 1_000, nonce)).await.unwrap().hash);
            nonce += 1;
        }
        accepted.extend(burst.iter().copied());
        // Just before the kill: which of the burst are accepted but in no block yet.
        let mut pending_at_kill = 0;
        for hash in burst.iter().rev() {
            match status(&client, *hash).await {
                Some(TxStatus::Pending) => pending_at_kill += 1,
                Some(TxStatus::Included) => {}
                other => panic!("round {round}: transaction {hash} is {other:?}, neither pending nor included"),
            }
        }
        let roots_before = block_roots(&client).await;
        assert!(pending_at_kill > 0, "round {round}: no transaction was pending at the kill (the test would not test a pending mempool)");
        eprintln!("round {round}: killing with {} blocks, {pending_at_kill} of {} transactions pending", roots_before.len(), burst.len());
        node.kill(); // SIGKILL
        node = start_node(&node_cmd, &log);
        wait_for("restarted node RPC", async || client.block_number().await.ok()).await;
        let roots_after = block_roots(&client).await;
        for (n, root) in &roots_before {
            assert_eq!(roots_after.get(n), Some(root), "round {round}: block {n} changed across the restart");
        }
    }

    // Every accepted transaction ends up included.
    for hash in &accepted {
        wait_for("inclusion", async || (status(&client, *hash).await? == TxStatus::Included).then_some(())).await;
    }
    let account = client.account(alice_ref).await.unwrap().expect("alice's account");
    assert_eq!(account.nonce as usize, accepted.len());

    // Every batch is on L1 exactly once.
    let latest = client.block_number().await.unwrap();
    let rollup = RollupClient::new(&url, deployment.rollup, None).unwrap();
    wait_for("batches on L1", async || (rollup.last_committed_batch().await.ok()? == latest).then_some(())).await;
    let events = TandemRollup::new(deployment.rollup, rollup.provider().clone())
        .BatchCommitted_filter()
        .from_block(deployment.deploy_block)
        .query()
        .await
        .unwrap();
    let numbers: Vec<u64> = events.iter().map(|(e, _)| e.batchNumber).collect();
    assert_eq!(numbers, (1..=latest).collect::<Vec<_>>(), "each batch committed once, in order");
    drop(node);
}
