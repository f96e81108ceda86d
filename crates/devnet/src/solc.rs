//! Compiling Solidity generated at run time (the validity-lane verifier, which depends on
//! the verifying key) with the repository's npm solc, through `tools/solcjs-stdjson.cjs`.

use crate::error::DevnetError;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Compiles `source` (one file) for the prague EVM with the optimizer and returns contract
/// `name`'s creation code. Needs Node.js and `npm ci` at `repo_root`.
pub fn compile(repo_root: &Path, source: &str, name: &str) -> Result<Vec<u8>, DevnetError> {
    let input = serde_json::json!({
        "language": "Solidity",
        "sources": { "Generated.sol": { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": 200 },
            "evmVersion": "prague",
            "outputSelection": { "*": { "*": ["evm.bytecode.object"] } }
        }
    });
    let script = repo_root.join("tools/solcjs-stdjson.cjs");
    let mut child = Command::new("node")
        .arg(&script)
        .arg("--standard-json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(DevnetError::io(format!("running node {} (is Node.js installed?)", script.display())))?;
    child
        .stdin
        .take()
        .ok_or_else(|| DevnetError::Solc("no stdin to the solc process".into()))?
        .write_all(input.to_string().as_bytes())
        .map_err(DevnetError::io("writing to solc"))?;
    let out = child.wait_with_output().map_err(DevnetError::io("waiting for solc"))?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| DevnetError::Solc(format!("output is not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))))?;
    if let Some(errors) = json["errors"].as_array() {
        let fatal: Vec<&str> = errors.iter().filter(|e| e["severity"] == "error").filter_map(|e| e["formattedMessage"].as_str()).collect();
        if !fatal.is_empty() {
            return Err(DevnetError::Solc(fatal.join("\n")));
        }
    }
    let code = json["contracts"]["Generated.sol"][name]["evm"]["bytecode"]["object"]
        .as_str()
        .ok_or_else(|| DevnetError::Solc(format!("no contract {name} in the output")))?;
    alloy::hex::decode(code).map_err(|e| DevnetError::Solc(format!("bytecode of {name}: {e}")))
}
