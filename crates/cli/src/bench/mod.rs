//! `tandem bench`: measurements whose results go into BENCHMARKS.md, printed as a table or
//! as JSON.
//!
//! - `tandem bench ledger` ([`ledger`]): transfer application by one ledger, per thread count.
//! - `tandem bench set` ([`set`]): a staked sequencer set of `tandem node` processes on anvil
//!   under offered load: latency per transaction, included throughput, CPU per process, and
//!   (`--plot`) an SVG of latency against offered load ([`plot`]).
//! - `tandem bench consensus` ([`consensus`]): commit latency of the consensus alone as the
//!   set grows, measured with processes and extended to larger sets by a calibrated model
//!   ([`consensus_model`]).

pub mod consensus;
pub mod consensus_model;
pub mod ledger;
pub mod plot;
pub mod set;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

pub use consensus::{consensus_table, run_consensus, ConsensusBenchArgs, ConsensusBenchReport};
pub use ledger::{ledger_table, run_ledger, LedgerBenchArgs, LedgerBenchRow};
pub use set::{run_set, set_table, SetBenchArgs, SetBenchReport, SetBenchRow};

/// `tandem bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// What to measure.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Transfer application by one ledger: throughput per thread count.
    Ledger(LedgerBenchArgs),
    /// A staked sequencer set under offered load: latency, throughput and CPU per rate.
    Set(SetBenchArgs),
    /// The consensus alone as the set grows: measured sizes, and a calibrated model beyond.
    Consensus(ConsensusBenchArgs),
}

/// Runs `tandem bench`.
pub async fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        BenchCommand::Ledger(args) => {
            let rows = run_ledger(&args)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", ledger_table(&rows));
            }
            Ok(())
        }
        BenchCommand::Set(args) => {
            let report = run_set(&args).await?;
            if let Some(path) = &args.plot {
                let svg = plot::latency_plot_svg(&report)?;
                std::fs::write(path, svg).with_context(|| format!("writing the plot to {}", path.display()))?;
                eprintln!("plot written to {}", path.display());
            }
            if args.json {
                // The table still shows on the terminal; stdout is the JSON alone.
                eprint!("{}", set_table(&report));
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", set_table(&report));
            }
            Ok(())
        }
        BenchCommand::Consensus(args) => {
            let Some(report) = run_consensus(&args).await? else { return Ok(()) };
            if let Some(path) = &args.plot {
                let svg = plot::consensus_plot_svg(&report)?;
                std::fs::write(path, svg).with_context(|| format!("writing the plot to {}", path.display()))?;
                eprintln!("plot written to {}", path.display());
            }
            if args.json {
                eprint!("{}", consensus_table(&report));
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", consensus_table(&report));
            }
            Ok(())
        }
    }
}
