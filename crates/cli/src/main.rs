//! `tandem`: the node, the wallet, the staker's commands and the devnet.

use clap::{Parser, Subcommand};
use tandem_cli::{bench, bond_cmd, challenger_cmd, devnet, prover_cmd, restore_cmd, sequencer_cmd, wallet};

mod node_cmd;
mod setup_cmd;

#[derive(Debug, Parser)]
#[command(name = "tandem", version, about = "Tandem: a hybrid Ethereum L2 (node, wallet, sequencer staking, devnet)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a sequencer node.
    Node(node_cmd::NodeArgs),
    /// An L2 wallet: keys, deposits, transfers, withdrawals, claims.
    Wallet(wallet::WalletArgs),
    /// A staker's commands for the sequencer set on L1: stake, unstake, withdraw, claim-reward, status.
    Sequencer(sequencer_cmd::SequencerArgs),
    /// A single sequencer's bond in the dispute game: post, leave, withdraw, status.
    Bond(bond_cmd::BondArgs),
    /// A local devnet: anvil, the contracts and a node (or, with --sequencers N, a staked set of N nodes).
    Devnet(devnet::DevnetArgs),
    /// The prover market miner: price, lock, prove and submit batch proofs on L1 (`status`: its tally).
    Prover(prover_cmd::ProverCli),
    /// Watch a rollup with a dispute game: re-execute every batch, challenge faulty or withheld chunks, revert unanswered ones.
    Challenger(challenger_cmd::ChallengerArgs),
    /// Rebuild the L2 state from L1 alone (no L2 node), checking every batch against L1.
    Restore(restore_cmd::RestoreArgs),
    /// INSECURE local setup of the validity circuit: proving key, verifying key, Solidity verifier.
    Setup(setup_cmd::SetupArgs),
    /// Benchmarks: a table (or JSON) of what BENCHMARKS.md records.
    Bench(bench::BenchArgs),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Node(args) => node_cmd::run(args).await,
        Command::Wallet(args) => {
            init_tracing("warn");
            wallet::run(args).await
        }
        Command::Sequencer(args) => {
            init_tracing("warn");
            sequencer_cmd::run(args).await
        }
        Command::Bond(args) => {
            init_tracing("warn");
            bond_cmd::run(args).await
        }
        Command::Devnet(args) => {
            init_tracing("info");
            devnet::run(args).await
        }
        Command::Setup(args) => setup_cmd::run(args),
        Command::Restore(args) => {
            init_tracing("warn");
            restore_cmd::run(args).await
        }
        Command::Bench(args) => bench::run(args).await,
        Command::Prover(args) => {
            init_tracing("info");
            prover_cmd::run(args).await
        }
        Command::Challenger(args) => {
            init_tracing("info");
            challenger_cmd::run(args).await
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
        .add_directive(tandem_cli::GR1CS_SPANS_OFF.parse().expect("valid directive"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
