//! The `tandem` command's library side: wallet file, amount parsing, node RPC client,
//! `tandem wallet`, `tandem sequencer`, `tandem bond`, `tandem devnet`, `tandem restore` and `tandem bench`.

pub mod amount;
pub mod bench;
pub mod bond_cmd;
pub mod chain_args;
pub mod challenger_cmd;
pub mod devnet;
pub mod exodus_cmd;
pub mod keyfile;
pub mod prover_cmd;
pub mod restore_cmd;
pub mod rpc;
pub mod sequencer_cmd;
pub mod wallet;

/// Tracing directive every `tandem` subscriber carries: arkworks' constraint-system namespaces
/// (`ns!`) open a span at target `gr1cs` for every gadget and deliberately never close it, so a
/// subscriber that records them keeps millions of spans alive while proving (gigabytes).
pub const GR1CS_SPANS_OFF: &str = "gr1cs=off";

/// Resolves at Ctrl-C or SIGTERM: how every long-running `tandem` role stops cleanly.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
