//! Starting anvil (Foundry's local Ethereum node, installed from npm) for devnets and tests.

use alloy::node_bindings::{Anvil, AnvilInstance};
use std::path::{Path, PathBuf};

/// The native anvil binary that `npm ci` installs under `node_modules`.
pub fn anvil_binary(repo_root: &Path) -> PathBuf {
    repo_root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

/// The repository root, found from this crate's location at build time.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// Spawns anvil on a free port with the prague hardfork (the EVM version the contracts are
/// compiled for). `block_time` = `None` mines one block per transaction. The instance is
/// killed when dropped.
pub fn spawn_anvil(binary: &Path, block_time: Option<u64>) -> Result<AnvilInstance, String> {
    if !binary.exists() {
        return Err(format!(
            "anvil not found at {}: run `npm ci` at the repository root",
            binary.display()
        ));
    }
    let mut anvil = Anvil::at(binary).args(["--hardfork", "prague"]);
    if let Some(seconds) = block_time {
        anvil = anvil.block_time(seconds);
    }
    anvil.try_spawn().map_err(|e| format!("starting anvil: {e}"))
}
