//! Crash safety: a writer process is SIGKILLed at random moments while it applies and
//! persists batches; every reopen must find exactly the state after some whole batch (the
//! one it last reported persisted, or the one after it), never a torn mix.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tandem_crypto::field::fr_to_decimal;
use tandem_state::{Ledger, LedgerOp, PersistentLedger};

const DEPTH: u8 = 10;
const CHILD_ENV: &str = "TANDEM_CRASH_WRITER_DIR";

/// Batch `k` for the current state: a deposit and a dozen transfers between 8 keys, some
/// creating accounts. A pure function of the ledger state and `k`.
fn batch(ledger: &Ledger, k: u64) -> Vec<LedgerOp> {
    let mut ops = vec![deposit(&key((k % 8) as u8), 0, 1_000_000)];
    let mut nonces: HashMap<u8, u32> = HashMap::new();
    for j in 0..12u64 {
        let a = ((k + j) % 8) as u8;
        let b = ((k * 3 + j + 1) % 8) as u8;
        if a == b {
            continue;
        }
        let Some(from) = ledger.index_of(&key(a).public_key().pack()) else { continue };
        let account = ledger.account(from).expect("indexed account exists");
        if account.balance(token(0)) < 1_000 {
            continue;
        }
        let nonce = nonces.entry(a).or_insert(account.nonce);
        ops.push(LedgerOp::Tx(transfer_tx(CHAIN_ID, &key(a), from, &key(b), 0, 1 + j as u128, 1, *nonce)));
        *nonce += 1;
    }
    ops
}

fn genesis_ops() -> Vec<LedgerOp> {
    vec![deposit(&key(0), 0, 1_000_000)]
}

/// The writer: runs only when spawned by the test below, and forever until killed.
#[test]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let mut ledger = PersistentLedger::open(&std::path::Path::new(&dir).join("state.redb"), config(DEPTH)).unwrap();
    loop {
        let k = ledger.batches_applied();
        let ops = if k == 0 { genesis_ops() } else { batch(&ledger, k) };
        ledger.apply_batch(&ops, idx(0)).unwrap();
        ledger.persist().unwrap();
        println!("persisted {} {}", ledger.batches_applied(), fr_to_decimal(&ledger.root()));
    }
}

#[test]
fn killed_writer_reopens_to_a_whole_batch() {
    let dir = std::env::temp_dir().join(format!("tandem-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Expected root after each number of batches, computed in memory.
    let mut reference = Ledger::new(config(DEPTH)).unwrap();
    let mut expected = vec![reference.root()];
    let mut extend_expected = |upto: u64, expected: &mut Vec<_>| {
        while (expected.len() as u64) <= upto {
            let k = reference.batches_applied();
            let ops = if k == 0 { genesis_ops() } else { batch(&reference, k) };
            reference.apply_batch(&ops, idx(0)).unwrap();
            expected.push(reference.root());
        }
    };

    let mut last_reported = 0u64;
    for round in 0..6u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_writer_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it persist a few batches, then kill it at a moment that varies per round.
        let mut seen = 0;
        while seen < 3 {
            let line = lines.next().expect("writer output").unwrap();
            if let Some(rest) = line.strip_prefix("persisted ") {
                last_reported = rest.split(' ').next().unwrap().parse().unwrap();
                seen += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(3 + round * 7));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("persisted ") {
                last_reported = rest.split(' ').next().unwrap().parse().unwrap();
            }
        }

        let reopened = PersistentLedger::open(&dir.join("state.redb"), config(DEPTH)).unwrap();
        let n = reopened.batches_applied();
        assert!(n == last_reported || n == last_reported + 1, "round {round}: reopened at {n}, last reported {last_reported}");
        extend_expected(n, &mut expected);
        assert_eq!(reopened.root(), expected[n as usize], "round {round}: root is not the root after batch {n}");
        assert_eq!(reopened.root_from_scratch(), reopened.root(), "round {round}: stored nodes disagree with accounts");
        last_reported = n;
    }
    assert!(last_reported > 6, "the writer made progress across restarts");
    std::fs::remove_dir_all(&dir).unwrap();
}
