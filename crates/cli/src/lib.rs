//! The `tandem` command's library side: wallet file, amount parsing, node RPC client,
//! `tandem wallet` and `tandem devnet`.

pub mod amount;
pub mod devnet;
pub mod keyfile;
pub mod prover_cmd;
pub mod rpc;
pub mod wallet;
