//! `tandem setup`: INSECURE local Groth16 setup of the validity circuit for one shape; writes
//! the proving key, the verifying key and the rendered Solidity verifier.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;
use tandem_circuit::prover::{setup_insecure, solidity_verifier_file, ProvingKeys};
use tandem_circuit::BatchCircuit;

/// Generate circuit keys locally (INSECURE: devnets and tests only).
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Op slots per batch (S).
    #[arg(long)]
    pub slots: usize,
    /// Account tree depth (D, at most 24).
    #[arg(long)]
    pub depth: u8,
    /// L2 chain id (a constant of the circuit).
    #[arg(long)]
    pub chain_id: u64,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Deterministic setup from this seed (reproducible verifiers; the seed is the toxic
    /// waste). Without it, the OS's randomness (still insecure: one machine knows it).
    #[arg(long)]
    pub seed: Option<u64>,
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Runs the setup.
pub fn run(args: SetupArgs) -> Result<()> {
    if args.slots == 0 {
        bail!("--slots must be at least 1");
    }
    if !(1..=24).contains(&args.depth) {
        bail!("--depth must be 1..=24 (indices are 3 bytes)");
    }
    let (s, d, c) = (args.slots, args.depth, args.chain_id);
    eprintln!("WARNING: INSECURE setup. Whoever runs it (or knows --seed) can forge proofs for these keys.");
    eprintln!("         Devnets and tests only; production keys come from a multi-party phase-2 ceremony.");
    let start = Instant::now();
    eprintln!("[1/4] synthesizing the circuit S={s} D={d} chain {c} ...");
    let constraints = BatchCircuit::num_constraints(s, d, c);
    eprintln!("      {constraints} constraints (domain 2^{}), {:.1?}", constraints.next_power_of_two().trailing_zeros(), start.elapsed());

    let t = Instant::now();
    eprintln!("[2/4] generating the keys (Groth16 circuit-specific setup) ...");
    let keys = match args.seed {
        Some(seed) => ProvingKeys::setup_insecure(s, d, c, seed)?,
        None => {
            let (pk, _) = setup_insecure(s, d, c, &mut rand::rngs::OsRng)?;
            ProvingKeys { slots: s, depth: d, chain_id: c, pk }
        }
    };
    eprintln!("      done, {:.1?}", t.elapsed());

    let t = Instant::now();
    eprintln!("[3/4] writing the keys to {} ...", args.out.display());
    let saved = keys.save(&args.out)?;
    eprintln!("      {:.1?}", t.elapsed());

    eprintln!("[4/4] rendering the Solidity verifier ...");
    let verifier = args.out.join(format!("BatchVerifier_S{s}_D{d}.sol"));
    let source = solidity_verifier_file(&keys, args.seed);
    std::fs::write(&verifier, &source).with_context(|| format!("writing {}", verifier.display()))?;

    println!("proving key    {}  {}", saved.proving_key.0.display(), size(saved.proving_key.1));
    println!("verifying key  {}  {}", saved.verifying_key.0.display(), size(saved.verifying_key.1));
    println!("verifier       {}  {}", verifier.display(), size(source.len() as u64));
    println!("constraints    {constraints}; total {:.1?}", start.elapsed());
    println!(
        "INSECURE: local setup{}; do not use these keys outside devnets and tests.",
        match args.seed {
            Some(seed) => format!(" from the public seed {seed}"),
            None => String::new(),
        }
    );
    Ok(())
}
