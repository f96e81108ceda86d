//! The wallet file: one L2 key's 32-byte seed, stored unencrypted (devnet wallet).
//!
//! Format (JSON): `{"version": 1, "seed": "0x<64 hex>", "publicKey": "0x<packed key>",
//! "warning": "..."}`. Created with mode 0600; `publicKey` is checked against the seed on load.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use tandem_crypto::PrivateKey;

/// Printed whenever a key is written.
pub const UNENCRYPTED_WARNING: &str =
    "warning: the key is stored UNENCRYPTED in the wallet file (devnet wallet): do not use it for real funds";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WalletFileJson {
    version: u32,
    seed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

/// `0x`-prefixed lower-case hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Parses a 32-byte hex seed (with or without `0x`).
pub fn parse_seed(text: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let bytes = hex::decode(t).with_context(|| "the seed must be 32 bytes of hex (64 hex digits, optional 0x)")?;
    let seed: [u8; 32] =
        bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("the seed must be 32 bytes (64 hex digits), got {} bytes", b.len()))?;
    Ok(seed)
}

/// Writes a new wallet file holding `key`, refusing to overwrite an existing file.
pub fn create(path: &Path, key: &PrivateKey) -> Result<()> {
    if path.exists() {
        bail!("wallet file {} already exists: use it, remove it, or choose another file with --wallet <file>", path.display());
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        }
    }
    let json = WalletFileJson {
        version: 1,
        seed: hex0x(key.seed()),
        public_key: Some(hex0x(&key.public_key().pack().0)),
        warning: Some("unencrypted devnet key".into()),
    };
    let text = serde_json::to_string_pretty(&json)? + "\n";
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating wallet file {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Reads the key in the wallet file.
pub fn load(path: &Path) -> Result<PrivateKey> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "no wallet file at {}: create one with `tandem wallet new` (or `tandem wallet import <seed-hex>`), or point to it with --wallet <file>",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading wallet file {}", path.display())),
    };
    let json: WalletFileJson = serde_json::from_str(&text)
        .with_context(|| format!("wallet file {} is not a Tandem wallet (JSON with a \"seed\")", path.display()))?;
    if json.version != 1 {
        bail!("wallet file {} has version {}, this tandem reads version 1", path.display(), json.version);
    }
    let key = PrivateKey::from_seed(parse_seed(&json.seed).with_context(|| format!("wallet file {}", path.display()))?);
    if let Some(public) = json.public_key {
        let actual = hex0x(&key.public_key().pack().0);
        if !public.eq_ignore_ascii_case(&actual) {
            bail!("wallet file {} is inconsistent: its publicKey {public} is not the seed's key {actual}", path.display());
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!("wallet file {} is readable by other users: chmod 600 {}", path.display(), path.display());
            }
        }
    }
    Ok(key)
}
