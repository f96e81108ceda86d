//! Driving a `tandem devnet` process from a test: start it on free ports, read its
//! `devnet.json`, run wallet commands against it, stop it when the test ends.

#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A port from the devnet's cross-process allocator (`tandem_ports`).
pub fn free_port() -> u16 {
    tandem_devnet::free_port().unwrap()
}

/// `tandem devnet` with `args` on free L1, RPC, metrics, dashboard and prover-status ports
/// (output discarded: the test reads `devnet.json` and the logs in `data`).
pub fn start_devnet(data: &Path, args: &[&str]) -> DevnetGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["devnet", "--data-dir"])
        .arg(data)
        .args(["--l1-port", &free_port().to_string()])
        .args(["--rpc-port", &free_port().to_string()])
        .args(["--metrics-port", &free_port().to_string()])
        .args(["--dashboard-port", &free_port().to_string()])
        .args(["--prover-status-port", &free_ports(4).to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    DevnetGuard(child)
}

/// Waits for the devnet's `devnet.json` (panics if the devnet exits first).
pub fn devnet_info(devnet: &mut DevnetGuard, data: &Path) -> Value {
    let json_path = data.join("devnet.json");
    eventually("devnet.json", Duration::from_secs(180), || {
        if let Ok(Some(status)) = devnet.0.try_wait() {
            panic!("devnet exited early ({status}); see {}", data.display());
        }
        std::fs::read_to_string(&json_path).ok().and_then(|t| serde_json::from_str(&t).ok())
    })
}

/// `tandem wallet --json --wallet FILE` against the devnet, run in `dir`.
pub fn wallet(dir: &Path, devnet: &Value, file: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(dir)
        .env_remove("TANDEM_L1_KEY")
        .env_remove("TANDEM_ROLLUP")
        .args(["wallet", "--json", "--wallet", file])
        .args(["--rpc", devnet["l2Rpc"].as_str().unwrap(), "--l1-rpc", devnet["l1Rpc"].as_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

/// `tandem wallet --json` with only L1 flags (`--l1-rpc`, `--rollup`, `--l1-key`): `--rpc`
/// names a port nothing listens on, so the command cannot lean on an L2 node.
pub fn wallet_l1_only(dir: &Path, info: &Value, file: &str, l1_key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(dir)
        .env_remove("TANDEM_L1_KEY")
        .env_remove("TANDEM_ROLLUP")
        .args(["wallet", "--json", "--wallet", file, "--rpc", "http://127.0.0.1:9"])
        .args(["--l1-rpc", info["l1Rpc"].as_str().unwrap(), "--rollup", info["rollup"].as_str().unwrap(), "--l1-key", l1_key])
        .args(args)
        .output()
        .unwrap()
}

/// `cast balance WHO` on `l1_rpc`, in wei: the balance as any user reads it.
pub fn cast_balance(l1_rpc: &str, who: &str) -> u128 {
    let cast = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/cast");
    let out = Command::new(cast)
        .args(["balance", who, "--rpc-url", l1_rpc])
        .output()
        .expect("cast (npm @foundry-rs/cast; ./scripts/test.sh installs it)");
    assert!(out.status.success(), "cast: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("cast prints wei")
}

/// The JSON a successful command printed (panics with its stderr otherwise).
pub fn ok(out: Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Polls `f` every 500 ms until it returns a value; panics after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Stops the devnet (and so its children) if the test fails before it does: SIGTERM, which
/// the devnet handles by stopping anvil, the node and the provers.
pub struct DevnetGuard(pub std::process::Child);

impl Drop for DevnetGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
}

/// The first of `n` consecutive ports from the devnet's allocator.
pub fn free_ports(n: u16) -> u16 {
    tandem_devnet::free_ports(n).unwrap()
}
