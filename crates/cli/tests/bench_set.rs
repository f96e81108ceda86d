//! `tandem bench set` end to end on a small staked set: every offered transfer is sent,
//! included and read back on the member it went to, submitted one per `tandem_sendTransaction`
//! call and in `tandem_sendTransactions` batches alike.

use serde_json::Value;
use std::process::Command;

/// Runs a two-member set for one short rate, `extra` appended; returns the JSON report's row.
fn one_rate(extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["bench", "set", "--members", "2", "--rates", "40", "--duration-s", "3", "--warm-s", "1", "--drain-s", "60"])
        .args(["--accounts", "8", "--tree-depth", "8", "--ceiling-transfers", "100", "--json"])
        .args(extra)
        .output()
        .expect("run tandem");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{report}");
    rows[0].clone()
}

fn assert_all_included(row: &Value) {
    assert_eq!((row["offered_txs"].as_u64(), row["sent"].as_u64(), row["refused"].as_u64()), (Some(120), Some(120), Some(0)), "{row}");
    assert_eq!(row["missing_after_drain"].as_u64(), Some(0), "{row}");
    assert!(row["checked"].as_u64().unwrap() > 0, "{row}");
    assert_eq!(row["checked"], row["checked_ok"], "each sampled transaction is included where the tracker saw it: {row}");
}

#[test]
fn every_transfer_is_included_whether_sent_alone_or_in_batches() {
    assert_all_included(&one_rate(&[]));
    assert_all_included(&one_rate(&["--submit-batch", "16"]));
}
