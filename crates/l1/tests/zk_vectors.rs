//! Reference vectors of the validity lane's data commitment (`zk_data_hash`), for the L1
//! contract's tests: the committed file must equal what the Rust reference computes now.

use tandem_chain::{zk_data_hash, zk_public_data};
use tandem_types::*;

fn vectors() -> String {
    let idx = |i| AccountIndex::new(i).unwrap();
    let tok = |t| TokenId::new(t).unwrap();
    let deposit = Op::Deposit(DepositOp { to: idx(5), pubkey: PackedPubKey([0xab; 32]), token: tok(1), amount: 123_456_789 });
    let transfer = Op::Transfer(TransferOp {
        from: idx(1),
        to: idx(2),
        token: tok(0),
        amount: PackedAmount::new(15 * 10u128.pow(17)).unwrap(),
        fee: PackedFee::new(3 * 10u128.pow(12)).unwrap(),
    });
    let to_new = Op::TransferToNew(TransferToNewOp {
        from: idx(2),
        to: idx(9),
        to_pubkey: PackedPubKey([0x11; 32]),
        token: tok(1),
        amount: PackedAmount::new(77).unwrap(),
        fee: PackedFee::new(0).unwrap(),
    });
    let withdraw = Op::Withdraw(WithdrawOp {
        from: idx(1),
        token: tok(0),
        amount: 5 * 10u128.pow(17),
        fee: PackedFee::new(10u128.pow(15)).unwrap(),
        to_l1: L1Address([0x3c; 20]),
    });
    let cases: Vec<(u32, Vec<Op>, usize)> = vec![
        (0, vec![], 2),
        (0, vec![transfer], 1),
        (3, vec![deposit, transfer, to_new, withdraw], 4),
        (70_000, vec![withdraw, transfer], 8),
    ];
    let items: Vec<String> = cases
        .iter()
        .map(|(fee, ops, slots)| {
            format!(
                "  {{\"feeAccount\": {fee}, \"slots\": {slots}, \"publicData\": \"0x{}\", \"zkPublicData\": \"0x{}\", \"zkDataHash\": \"{}\"}}",
                hex::encode(encode_public_data(ops)),
                hex::encode(zk_public_data(*fee, ops, *slots).unwrap()),
                zk_data_hash(*fee, ops, *slots).unwrap()
            )
        })
        .collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

#[test]
fn committed_zk_vectors_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/zk_data_hash.json");
    let now = vectors();
    if std::env::var("TANDEM_WRITE_VECTORS").is_ok() {
        std::fs::write(&path, &now).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), now, "regenerate with TANDEM_WRITE_VECTORS=1 cargo test -p tandem-l1 --test zk_vectors");
}
