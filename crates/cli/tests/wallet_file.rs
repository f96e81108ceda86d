//! The wallet file: create, import and read back, permissions, refusals; through the library
//! and through the `tandem` binary.

use std::process::Command;
use tandem_cli::keyfile;
use tandem_crypto::PrivateKey;

fn tandem() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tandem"));
    c.env_remove("TANDEM_WALLET").env_remove("TANDEM_L1_KEY").env_remove("TANDEM_RPC");
    c
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_and_load_round_trip_with_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/w.json");
    let key = PrivateKey::from_seed([7u8; 32]);
    keyfile::create(&path, &key).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let again = keyfile::load(&path).unwrap();
    assert_eq!(again.seed(), key.seed());
    assert_eq!(again.public_key().pack(), key.public_key().pack());
    // never overwritten
    let err = keyfile::create(&path, &PrivateKey::from_seed([8u8; 32])).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(keyfile::load(&path).unwrap().seed(), &[7u8; 32]);
}

#[test]
fn load_refuses_missing_bad_and_inconsistent_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    let err = keyfile::load(&missing).unwrap_err().to_string();
    assert!(err.contains("tandem wallet new"), "{err}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"version\":1,\"seed\":\"0x1234\"}").unwrap();
    let err = format!("{:#}", keyfile::load(&bad).unwrap_err());
    assert!(err.contains("32 bytes"), "{err}");

    let other = PrivateKey::from_seed([2u8; 32]).public_key().pack();
    let inconsistent = dir.path().join("inc.json");
    std::fs::write(
        &inconsistent,
        format!("{{\"version\":1,\"seed\":\"0x{}\",\"publicKey\":\"0x{}\"}}", hex::encode([1u8; 32]), hex::encode(other.0)),
    )
    .unwrap();
    let err = keyfile::load(&inconsistent).unwrap_err().to_string();
    assert!(err.contains("inconsistent"), "{err}");
}

#[test]
fn seed_parsing() {
    assert_eq!(keyfile::parse_seed(&format!("0x{}", "ab".repeat(32))).unwrap(), [0xab; 32]);
    assert_eq!(keyfile::parse_seed(&"AB".repeat(32)).unwrap(), [0xab; 32]);
    assert!(keyfile::parse_seed("0x1234").is_err());
    assert!(keyfile::parse_seed(&"zz".repeat(32)).is_err());
}

#[test]
fn cli_new_import_address_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let out = tandem().args(["wallet", "--json", "--wallet"]).arg(&a).arg("new").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNENCRYPTED"));
    #[cfg(unix)]
    assert_eq!(mode(&a), 0o600);
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packed = created["publicKey"].as_str().unwrap().to_string();

    // the seed in the file, imported elsewhere, gives the same key
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    let seed = file["seed"].as_str().unwrap();
    let b = dir.path().join("b.json");
    let out = tandem().args(["wallet", "--wallet"]).arg(&b).args(["import", seed]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    #[cfg(unix)]
    assert_eq!(mode(&b), 0o600);
    let out = tandem().args(["wallet", "address", "--packed", "--wallet"]).arg(&b).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), packed);

    // x/y in JSON match the library's key
    let out = tandem().args(["wallet", "--json", "--wallet"]).arg(&b).arg("address").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = keyfile::load(&b).unwrap().public_key();
    assert_eq!(v["x"], tandem_crypto::field::fr_to_decimal(&key.x()));
    assert_eq!(v["y"], tandem_crypto::field::fr_to_decimal(&key.y()));
    assert_eq!(v["publicKey"], packed);

    // `new` never overwrites
    let out = tandem().args(["wallet", "--wallet"]).arg(&a).arg("new").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn cli_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.json");
    let out = tandem().args(["wallet", "--wallet"]).arg(&w).arg("balance").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tandem wallet new"));

    tandem().args(["wallet", "--wallet"]).arg(&w).arg("new").output().unwrap();
    // nothing listens on port 9 (discard): the node is unreachable
    let out = tandem().args(["wallet", "--rpc", "http://127.0.0.1:9", "--wallet"]).arg(&w).arg("balance").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node unreachable at http://127.0.0.1:9") && err.contains("tandem devnet"), "{err}");

    // amounts are checked before anything is sent
    let out = tandem()
        .args(["wallet", "--rpc", "http://127.0.0.1:9", "--wallet"])
        .arg(&w)
        .args(["transfer", "--to", "0x00", "--amount", "1.23456789123"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not exactly representable") && err.contains("--amount 1.2345678"), "{err}");
    let out = tandem().args(["wallet", "--wallet"]).arg(&w).args(["deposit", "--amount", "-1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("negative"));
    let out = tandem().args(["wallet", "--wallet"]).arg(&w).args(["deposit", "--amount", "1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--l1-key"));
}
