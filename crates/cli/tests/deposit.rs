//! `tandem wallet deposit` against a rollup deployed with `deploy_devnet` on anvil (no node:
//! the rollup is given with --rollup).

use std::process::Command;
use tandem_cli::keyfile;
use tandem_l1::{PrivateKeySigner, RollupClient, B256, U256};

#[tokio::test(flavor = "multi_thread")]
async fn deposit_eth_and_dev_token_through_the_cli() {
    let anvil = tandem_devnet::anvil::test_anvil().expect("anvil (run `npm ci` at the repository root)");
    let url = anvil.endpoint();
    let deployer = PrivateKeySigner::from(anvil.keys()[0].clone());
    let depositor_key = format!("0x{}", hex::encode(anvil.keys()[2].to_bytes()));
    let sequencer = PrivateKeySigner::from(anvil.keys()[1].clone()).address();
    let deployment = tandem_devnet::deploy_devnet(&url, deployer.clone(), sequencer, B256::repeat_byte(1), 60, U256::from(10u128.pow(24)))
        .await
        .unwrap();
    let depositor = PrivateKeySigner::from(anvil.keys()[2].clone());
    let owner = RollupClient::new(&url, deployment.rollup, Some(deployer)).unwrap();
    owner.mint_dev_token(deployment.dev_token, depositor.address(), U256::from(10u128.pow(21))).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("w.json");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .env_remove("TANDEM_L1_KEY")
            .args(["wallet", "--json", "--wallet"])
            .arg(&wallet)
            .args(["--l1-rpc", &url, "--rollup", &deployment.rollup.to_string()])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["new"]).status.success());
    let key = keyfile::load(&wallet).unwrap();
    let packed = key.public_key().pack();

    let out = run(&["--l1-key", &depositor_key, "deposit", "--amount", "1.5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["queueIndex"], 0);
    assert_eq!(v["amount"], "1500000000000000000");

    let out = run(&["--l1-key", &depositor_key, "deposit", "--amount", "250", "--token", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["queueIndex"], 1);
    assert_eq!(v["tokenId"], deployment.dev_token_id);

    let out = run(&["--l1-key", &depositor_key, "deposit", "--wei", "--amount", "7", "--token", &deployment.dev_token.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // what L1 queued is what the wallet said
    let reader = RollupClient::new(&url, deployment.rollup, None).unwrap();
    let head = reader.head().await.unwrap();
    let deposits = reader.deposits(deployment.deploy_block, head).await.unwrap();
    assert_eq!(deposits.len(), 3);
    assert_eq!(deposits[0].deposit.to, packed);
    assert_eq!(deposits[0].deposit.token.get(), 0);
    assert_eq!(deposits[0].deposit.amount, 1_500_000_000_000_000_000);
    assert_eq!(deposits[1].deposit.to, packed);
    assert_eq!(deposits[1].deposit.token.get(), deployment.dev_token_id);
    assert_eq!(deposits[1].deposit.amount, 250 * 10u128.pow(18));
    assert_eq!(deposits[2].deposit.amount, 7);

    // more than the L1 account holds: refused before sending, saying so
    let out = run(&["--l1-key", &depositor_key, "deposit", "--amount", "5000", "--token", "dev"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has 749.999999999999999993 DEV"), "{err}");

    // a wrong rollup address is named as such
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["wallet", "--wallet"])
        .arg(&wallet)
        .args(["--l1-rpc", &url, "--rollup", "0x000000000000000000000000000000000000dEaD", "--l1-key", &depositor_key])
        .args(["deposit", "--amount", "1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no contract at rollup address"));
}
