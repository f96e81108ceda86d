//! anvil (Foundry's local Ethereum node, installed from npm) as the devnets' L1, always with
//! the prague hardfork (the EVM version the contracts are compiled for).

use crate::error::DevnetError;
use crate::process::{wait_ready, Supervised};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::providers::{Provider, ProviderBuilder};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The native anvil binary that `npm ci` installs under `node_modules`.
pub fn anvil_binary(repo_root: &Path) -> PathBuf {
    repo_root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

/// The repository root, found from this crate's location at build time.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// How a test or benchmark anvil runs.
#[derive(Debug, Clone, Default)]
pub struct AnvilOptions {
    /// Seconds between blocks; `None` mines one block per transaction.
    pub block_time: Option<u64>,
    /// Dev accounts to create (anvil's default, 10, when `None`).
    pub accounts: Option<u32>,
}

/// Spawns anvil from `binary` on a port the OS chooses (anvil binds port 0 and reports the
/// address it bound, so no other process can race for it). The instance is killed when
/// dropped.
pub fn spawn_anvil(binary: &Path, options: &AnvilOptions) -> Result<AnvilInstance, DevnetError> {
    if !binary.exists() {
        return Err(DevnetError::AnvilMissing(binary.to_path_buf()));
    }
    let mut anvil = Anvil::at(binary).args(["--hardfork", "prague"]);
    if let Some(accounts) = options.accounts {
        anvil = anvil.args(["--accounts".to_string(), accounts.to_string()]);
    }
    if let Some(seconds) = options.block_time {
        anvil = anvil.block_time(seconds);
    }
    anvil.try_spawn().map_err(|e| DevnetError::AnvilStart(e.to_string()))
}

/// [`spawn_anvil`] with the repository's npm anvil and one block per transaction: the L1 of
/// the tests.
pub fn test_anvil() -> Result<AnvilInstance, DevnetError> {
    spawn_anvil(&anvil_binary(&repo_root()), &AnvilOptions::default())
}

/// The command that runs anvil on `127.0.0.1:port` (a fixed, user-chosen port: `tandem
/// devnet`), one block per transaction (a devnet that wants blocks at intervals switches to
/// them with `evm_setIntervalMining` once deployed).
pub fn anvil_command(binary: &Path, port: u16) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--hardfork", "prague"]);
    cmd
}

/// Switches the anvil at `l1_url` from a block per transaction to a block every `seconds`
/// (a devnet's step once its deployment is on L1); 0 keeps a block per transaction.
pub async fn start_interval_mining(l1_url: &str, seconds: u64) -> Result<(), DevnetError> {
    if seconds == 0 {
        return Ok(());
    }
    crate::anvil_rpc(l1_url, "evm_setIntervalMining", (seconds,)).await
}

/// Waits until the anvil of `process` answers on `url`; returns its chain id and dev accounts.
pub async fn wait_for_anvil(
    url: &str,
    process: &mut Supervised,
    timeout: Duration,
) -> Result<(u64, Vec<alloy::primitives::Address>), DevnetError> {
    let parsed = url.parse().map_err(|e| DevnetError::AnvilStart(format!("bad URL {url}: {e}")))?;
    let provider = ProviderBuilder::new().connect_http(parsed);
    wait_ready(&format!("anvil on {url}"), timeout, &mut [process], async || {
        let id = provider.get_chain_id().await.ok()?;
        let accounts = provider.get_accounts().await.ok()?;
        Some((id, accounts))
    })
    .await
}
