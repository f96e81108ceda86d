//! The flags every role that follows a chain takes alike (`tandem node`, `tandem prover`,
//! `tandem restore`): which chain (id, tree depth, genesis fee key) and where its rollup is on
//! L1. One definition, so the flag names, environment variables, defaults and key checks
//! cannot drift apart. Also how every L1-facing command (`wallet`, `sequencer`, `bond`) reads
//! its `--l1-key` and words an L1 failure.

use alloy::signers::local::PrivateKeySigner;
use anyhow::anyhow;
use clap::Args;
use std::str::FromStr;
use tandem_l1::Address;
use tandem_types::PackedPubKey;

/// A chain and its rollup on L1 (`#[command(flatten)]` into a command's flags).
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// L2 chain id.
    #[arg(long, env = "TANDEM_CHAIN_ID")]
    pub chain_id: u64,
    /// Account tree depth (1-24).
    #[arg(long, env = "TANDEM_TREE_DEPTH", default_value_t = 24, value_parser = clap::value_parser!(u8).range(1..=24))]
    pub tree_depth: u8,
    /// Packed public key (0x hex) owning account 0 at genesis; receives the fees.
    #[arg(long, env = "TANDEM_GENESIS_FEE_PUBKEY", value_parser = parse_genesis_fee_key)]
    pub genesis_fee_pubkey: PackedPubKey,
    /// L1 JSON-RPC URL.
    #[arg(long, env = "TANDEM_L1_RPC", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc: String,
    /// Rollup contract address.
    #[arg(long, env = "TANDEM_ROLLUP")]
    pub rollup: Address,
}

/// A packed Baby Jubjub key on the curve, with a message naming the flag's meaning.
fn parse_genesis_fee_key(text: &str) -> Result<PackedPubKey, String> {
    crate::wallet::parse_packed_key(text).map_err(|e| format!("genesis fee public key: {e}"))
}

/// Parses an `--l1-key` value: an L1 private key, `0x` + 64 hex digits.
pub fn parse_l1_key(text: &str) -> anyhow::Result<PrivateKeySigner> {
    PrivateKeySigner::from_str(text.trim()).map_err(|_| anyhow!("--l1-key is not a private key: expected 0x + 64 hex digits"))
}

/// An L1 failure as the user should read it: unreachable endpoints say so, reverts name the
/// contract's custom error with its fields ([`tandem_l1::ContractRevert`]'s `Display`).
pub fn l1_error(url: &str, e: impl std::fmt::Display) -> anyhow::Error {
    let text = e.to_string();
    if text.contains("error sending request") || text.contains("onnection refused") || text.contains("tcp connect") {
        anyhow!("L1 unreachable at {url}: is `tandem devnet` (or anvil) running? ({text})")
    } else {
        anyhow!("{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        chain: ChainArgs,
    }

    fn parse(args: &[&str]) -> Result<ChainArgs, String> {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|c| c.chain).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_a_chain_and_refuses_bad_keys_and_depths() {
        let fee = tandem_crypto::PrivateKey::from_seed([3; 32]).public_key().pack();
        let key = format!("0x{}", hex::encode(fee.0));
        let rollup = "0x0101010101010101010101010101010101010101";
        let ok = parse(&["--chain-id", "5", "--genesis-fee-pubkey", &key, "--rollup", rollup]).expect("valid");
        assert_eq!((ok.chain_id, ok.tree_depth, ok.genesis_fee_pubkey), (5, 24, fee));
        let bad = parse(&["--chain-id", "5", "--genesis-fee-pubkey", "0x1234", "--rollup", rollup]).unwrap_err();
        assert!(bad.contains("genesis fee public key") && bad.contains("32 bytes"), "{bad}");
        let deep = parse(&["--chain-id", "5", "--tree-depth", "25", "--genesis-fee-pubkey", &key, "--rollup", rollup]).unwrap_err();
        assert!(deep.contains("25"), "{deep}");
    }
}
