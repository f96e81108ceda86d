//! Groth16 over BN254 for [`BatchCircuit`]: key generation, proving, verification, and the
//! Solidity verifier rendered from the verifying key (taceo-groth16-sol, gnark's template).
//!
//! For provers: [`ProvingKeys`] (save/load, ark-serialize compressed) and [`prove_batch`],
//! which returns the proof as the Solidity verifier's `uint256[8]` with the public inputs
//! `[prevRoot, newRoot, dataHash, prover]`; the heavy FFT/MSM work goes through a
//! [`ProverBackend`] ([`CpuBackend`] by default; the slot for a CUDA implementation).
//!
//! [`setup_insecure`] generates the keys locally from an RNG: whoever ran it knows the
//! toxic waste and can forge proofs. It is for devnets and tests only; production keys
//! come from a multi-party phase-2 ceremony.

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use rand::{rngs::StdRng, CryptoRng, RngCore, SeedableRng};
use tandem_types::ChainId;

use crate::batch::BatchCircuit;
use crate::gadgets::F;

pub use ark_groth16::{Proof, ProvingKey, VerifyingKey};

/// Why proving failed.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// Synthesis or the proving algorithm failed (e.g. a witness that does not satisfy).
    #[error("groth16: {0}")]
    Groth16(#[from] ark_relations::gr1cs::SynthesisError),
    /// The witness is not of the keys' shape (slots, depth, chain id).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// The proof does not verify: the witness does not satisfy the circuit.
    #[error("the witness does not satisfy the circuit (proof does not verify)")]
    Unsatisfied,
}

/// INSECURE local key generation for `slots` op slots over a tree of `depth` (devnets and
/// tests only: the caller's RNG is the toxic waste).
pub fn setup_insecure<R: RngCore + CryptoRng>(
    slots: usize,
    depth: u8,
    chain_id: ChainId,
    rng: &mut R,
) -> Result<(ProvingKey<Bn254>, VerifyingKey<Bn254>), ProverError> {
    setup_with(slots, depth, chain_id, &mut StdRng::from_rng(rng).expect("rng"))
}

// The heavy generic code is instantiated here, in this crate (built with opt-level 3 in the
// dev profile too), not in callers: the public functions only seed a StdRng.
fn setup_with(
    slots: usize,
    depth: u8,
    chain_id: ChainId,
    rng: &mut StdRng,
) -> Result<(ProvingKey<Bn254>, VerifyingKey<Bn254>), ProverError> {
    Ok(Groth16::<Bn254>::circuit_specific_setup(BatchCircuit::blank(slots, depth, chain_id), rng)?)
}

/// Proves `circuit` (whose witness must satisfy it).
pub fn prove<R: RngCore + CryptoRng>(pk: &ProvingKey<Bn254>, circuit: BatchCircuit, rng: &mut R) -> Result<Proof<Bn254>, ProverError> {
    prove_with(pk, circuit, &mut StdRng::from_rng(rng).expect("rng"))
}

fn prove_with(pk: &ProvingKey<Bn254>, circuit: BatchCircuit, rng: &mut StdRng) -> Result<Proof<Bn254>, ProverError> {
    Ok(Groth16::<Bn254>::prove(pk, circuit, rng)?)
}

/// Verifies `proof` against the public inputs `[prev_root, new_root, data_hash, prover]`.
pub fn verify(vk: &VerifyingKey<Bn254>, public_inputs: &[F], proof: &Proof<Bn254>) -> bool {
    Groth16::<Bn254>::verify(vk, public_inputs, proof).unwrap_or(false)
}

/// The Solidity verifier contract for `vk`: `verifyProof(uint256[8] proof, uint256[N] input)
/// returns (bool)` with `N` = number of public inputs; proofs are passed as [`solidity_proof`]
/// prepares them. It reverts on an invalid proof and returns `true` otherwise: the rollup counts
/// a proof only on an ABI-encoded `true`, so a call that returns nothing (an address without
/// code, a fallback) never passes for a verified proof.
pub fn solidity_verifier(vk: &VerifyingKey<Bn254>) -> String {
    use taceo_groth16_sol::askama::Template;
    let context = taceo_groth16_sol::SolidityVerifierContext {
        vk: vk.clone(),
        config: taceo_groth16_sol::SolidityVerifierConfig { pragma_version: "^0.8.24".to_string() },
    };
    let rendered = context.render().expect("the template renders any verifying key");
    let mut out = return_true_from_verify_proof(&rendered);
    out.push('\n');
    out
}

/// The template's `verifyProof` returns nothing (it reverts on an invalid proof); this makes it
/// `returns (bool)` and `return true` at its end. `verifyProof` is the template's last function,
/// so its body ends where the contract does.
fn return_true_from_verify_proof(rendered: &str) -> String {
    const SIGNATURE_END: &str = ") public view {";
    const CONTRACT_END: &str = "\n    }\n}";
    let start = rendered.find("function verifyProof(").expect("the template has verifyProof");
    let signature_end = start + rendered[start..].find(SIGNATURE_END).expect("verifyProof is public view");
    let body_end = rendered.trim_end().rfind(CONTRACT_END).expect("verifyProof is the last function");
    assert!(body_end > signature_end, "verifyProof is the last function of the template");
    format!(
        "{}) public view returns (bool) {{{}\n        return true;{}",
        &rendered[..signature_end],
        &rendered[signature_end + SIGNATURE_END.len()..body_end],
        &rendered.trim_end()[body_end..]
    )
}

/// The Solidity verifier of `keys`, with a header naming the shape, the chain id, the public
/// inputs and, for a seeded setup, the seed and an INSECURE warning. `tandem setup` and the
/// `fixtures` example write exactly this.
pub fn solidity_verifier_file(keys: &ProvingKeys, seed: Option<u64>) -> String {
    let (s, d, c) = (keys.slots, keys.depth, keys.chain_id);
    let origin = match seed {
        Some(seed) => format!(
            "// INSECURE: keys from a local setup with the public seed {seed} (StdRng): anyone can\n\
             // forge proofs. For devnets and tests only; production keys come from a multi-party\n\
             // phase-2 ceremony.\n\
             // Regenerate: tandem setup --slots {s} --depth {d} --chain-id {c} --seed {seed} --out <dir>\n"
        ),
        None => "// INSECURE: keys from a local setup (toxic waste known to whoever ran it): for devnets\n\
                 // and tests only; production keys come from a multi-party phase-2 ceremony.\n"
            .to_string(),
    };
    format!(
        "// Groth16 verifier of Tandem's BatchCircuit (S = {s} slots, D = {d} tree depth, chain id {c}),\n\
         // rendered by taceo-groth16-sol from the verifying key.\n\
         {origin}\
         // Public inputs, in order: prevRoot, newRoot, dataHash (SPEC §10), prover (L1 address).\n{}",
        solidity_verifier(keys.vk())
    )
}

/// The proof as the Solidity verifier's `uint256[8]`, as big-endian 32-byte words (A, B with
/// Ethereum's G2 limb order, C).
pub fn solidity_proof(proof: &Proof<Bn254>) -> [[u8; 32]; 8] {
    taceo_groth16_sol::prepare_uncompressed_proof(proof).map(|w| w.to_be_bytes::<32>())
}

// ---------------------------------------------------------------------------------------
// Library API for provers: keys on disk, one call per batch, a pluggable MSM/FFT backend.
// ---------------------------------------------------------------------------------------

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode};
use ark_relations::utils::matrix::Matrix;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tandem_state::witness::BatchWitness;
use tandem_types::L1Address;

/// The big integer of a scalar (what MSMs take).
pub type ScalarBigInt = <Fr as PrimeField>::BigInt;

/// The heavy parts of Groth16 proving, separable so that an accelerator can take them:
/// the QAP witness map (about 7 FFTs of the evaluation-domain size, i.e. the constraint
/// count rounded up to a power of two) and the multi-scalar multiplications (four in G1 of
/// up to the number of variables or the domain size, one in G2; 85-90% of CPU proving time).
/// Everything else (synthesis, assembling `A`, `B`, `C` from the MSM results) stays in
/// [`prove_batch_with`].
///
/// [`CpuBackend`] is arkworks' implementation. A CUDA backend slots in here without any other
/// change: implement `msm_g1`/`msm_g2` with a GPU MSM over the same affine bases (e.g.
/// sppark's or ICICLE's BN254 MSM, uploading the proving key's query vectors once and
/// keeping them resident across proofs) and `witness_map` with GPU NTTs (coset iNTT/NTT
/// over the BN254 scalar field, same domain as `GeneralEvaluationDomain`). No GPU code is
/// built into this crate.
pub trait ProverBackend: Sync {
    /// Short name for logs.
    fn name(&self) -> &'static str;
    /// Called once with the keys before the first proof: a device backend uploads the proving
    /// key's bases (`a_query`, `b_g1_query`, `b_g2_query`, `h_query`, `l_query`) here and
    /// keeps them resident, so each proof moves only its scalars. The CPU needs nothing.
    fn prepare(&self, keys: &ProvingKeys) -> Result<(), ProverError> {
        let _ = keys;
        Ok(())
    }
    /// The coefficients of `h(X) = (A(X)·B(X) - C(X)) / Z(X)` (libsnark's reduction) from the
    /// R1CS matrices and the full assignment `[1, inputs.., witnesses..]`.
    fn witness_map(
        &self,
        matrices: &[Matrix<Fr>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[Fr],
    ) -> Result<Vec<Fr>, ProverError>;
    /// `Σ scalars_i · bases_i` in G1.
    fn msm_g1(&self, bases: &[G1Affine], scalars: &[ScalarBigInt]) -> G1Projective;
    /// `Σ scalars_i · bases_i` in G2.
    fn msm_g2(&self, bases: &[G2Affine], scalars: &[ScalarBigInt]) -> G2Projective;
}

/// arkworks on the CPU (Pippenger MSM, radix-2 FFTs).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl ProverBackend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu (arkworks)"
    }

    fn witness_map(
        &self,
        matrices: &[Matrix<Fr>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[Fr],
    ) -> Result<Vec<Fr>, ProverError> {
        Ok(LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
            matrices,
            num_inputs,
            num_constraints,
            full_assignment,
        )?)
    }

    fn msm_g1(&self, bases: &[G1Affine], scalars: &[ScalarBigInt]) -> G1Projective {
        G1Projective::msm_bigint(bases, scalars)
    }

    fn msm_g2(&self, bases: &[G2Affine], scalars: &[ScalarBigInt]) -> G2Projective {
        G2Projective::msm_bigint(bases, scalars)
    }
}

/// A stage of one proof that has just finished (see [`ObservedBackend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvingStage {
    /// The QAP witness map (the FFTs).
    Ffts,
    /// The `done`-th of the proof's [`MSMS_PER_PROOF`] multi-scalar multiplications.
    Msm {
        /// How many MSMs are finished, this one included.
        done: usize,
    },
}

/// Multi-scalar multiplications in one proof: four in G1 (`h`, `l`, `a`, `b`) and one in G2.
pub const MSMS_PER_PROOF: usize = 5;

/// A backend that reports each finished stage to `on_stage` (with the time since the
/// previous report) and delegates the work to `inner`: what a live progress line per proof
/// is built from. The MSM counter counts calls, so one instance serves one proof.
pub struct ObservedBackend<'a> {
    inner: &'a dyn ProverBackend,
    on_stage: &'a (dyn Fn(ProvingStage, std::time::Duration) + Sync),
    msms: std::sync::atomic::AtomicUsize,
    last: std::sync::Mutex<std::time::Instant>,
}

impl<'a> ObservedBackend<'a> {
    /// Wraps `inner` for one proof.
    pub fn new(inner: &'a dyn ProverBackend, on_stage: &'a (dyn Fn(ProvingStage, std::time::Duration) + Sync)) -> Self {
        Self { inner, on_stage, msms: 0.into(), last: std::sync::Mutex::new(std::time::Instant::now()) }
    }

    fn report(&self, stage: ProvingStage) {
        let now = std::time::Instant::now();
        let elapsed = match self.last.lock() {
            Ok(mut last) => now.duration_since(std::mem::replace(&mut *last, now)),
            Err(_) => std::time::Duration::ZERO,
        };
        (self.on_stage)(stage, elapsed);
    }

    fn msm_done(&self) {
        let done = self.msms.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.report(ProvingStage::Msm { done });
    }
}

impl ProverBackend for ObservedBackend<'_> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn prepare(&self, keys: &ProvingKeys) -> Result<(), ProverError> {
        self.inner.prepare(keys)
    }

    fn witness_map(
        &self,
        matrices: &[Matrix<Fr>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[Fr],
    ) -> Result<Vec<Fr>, ProverError> {
        let h = self.inner.witness_map(matrices, num_inputs, num_constraints, full_assignment)?;
        self.report(ProvingStage::Ffts);
        Ok(h)
    }

    fn msm_g1(&self, bases: &[G1Affine], scalars: &[ScalarBigInt]) -> G1Projective {
        let r = self.inner.msm_g1(bases, scalars);
        self.msm_done();
        r
    }

    fn msm_g2(&self, bases: &[G2Affine], scalars: &[ScalarBigInt]) -> G2Projective {
        let r = self.inner.msm_g2(bases, scalars);
        self.msm_done();
        r
    }
}

/// A circuit shape's Groth16 keys, with the shape they were made for.
#[derive(Clone)]
pub struct ProvingKeys {
    /// Op slots `S`.
    pub slots: usize,
    /// Account tree depth `D`.
    pub depth: u8,
    /// Chain id (a constant of the circuit).
    pub chain_id: ChainId,
    /// The proving key (its verifying key inside, `pk.vk`).
    pub pk: ProvingKey<Bn254>,
}

/// File names that [`ProvingKeys::save`] writes into its directory.
pub const PROVING_KEY_FILE: &str = "proving_key.bin";
/// See [`PROVING_KEY_FILE`].
pub const VERIFYING_KEY_FILE: &str = "verifying_key.bin";

/// Proving key files: the points uncompressed, read without checks. Twice the size of a
/// compressed key, but a prover starts at once: decompressing costs a square root per point
/// (6.5 s for the devnet's 28 MiB compressed key on two cores; the key, and that time, grow
/// with the circuit's size).
const PK_MAGIC: &[u8; 8] = b"TNDMPK02";
/// Proving key files of the first format: the same key, points compressed. Still read, so
/// that keys already made (devnet data directories, provers' key directories) keep working.
const PK_MAGIC_COMPRESSED: &[u8; 8] = b"TNDMPK01";
const VK_MAGIC: &[u8; 8] = b"TNDMVK01";

/// Why keys could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a key file of this format, or a corrupt one.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The paths and sizes of saved keys.
#[derive(Debug, Clone)]
pub struct SavedKeys {
    /// Proving key file and its size in bytes.
    pub proving_key: (PathBuf, u64),
    /// Verifying key file and its size in bytes.
    pub verifying_key: (PathBuf, u64),
}

fn shape_header(magic: &[u8; 8], slots: usize, depth: u8, chain_id: ChainId) -> Vec<u8> {
    let mut h = magic.to_vec();
    h.extend_from_slice(&(slots as u32).to_be_bytes());
    h.push(depth);
    h.extend_from_slice(&chain_id.to_be_bytes());
    h
}

const HEADER_LEN: usize = 8 + 4 + 1 + 8;

/// Reads a key file's header, which must open with one of `magics`; returns the index of
/// the magic found and the shape.
fn read_header(path: &Path, magics: &[&[u8; 8]], r: &mut impl Read) -> Result<(usize, usize, u8, ChainId), KeyError> {
    let mut h = [0u8; HEADER_LEN];
    r.read_exact(&mut h).map_err(|source| KeyError::Io { path: path.into(), source })?;
    let Some(kind) = magics.iter().position(|m| h[..8] == m[..]) else {
        return Err(KeyError::Format { path: path.into(), reason: "not a tandem key file of this kind".into() });
    };
    let slots = u32::from_be_bytes(h[8..12].try_into().expect("4 bytes")) as usize;
    let chain_id = u64::from_be_bytes(h[13..21].try_into().expect("8 bytes"));
    Ok((kind, slots, h[12], chain_id))
}

impl ProvingKeys {
    /// The ledger parameters of a chain these keys prove: its chain id and depth, and `S`
    /// as its fee-settlement chunk (SPEC §5.2), so a chunk of the chain is a batch of the
    /// circuit.
    pub fn ledger_config(&self) -> tandem_state::LedgerConfig {
        tandem_state::LedgerConfig { chain_id: self.chain_id, tree_depth: self.depth, chunk_size: std::num::NonZeroUsize::new(self.slots) }
    }

    /// INSECURE local setup from a seed (devnets and tests only: the seed is the toxic waste).
    pub fn setup_insecure(slots: usize, depth: u8, chain_id: ChainId, seed: u64) -> Result<Self, ProverError> {
        let (pk, _) = setup_with(slots, depth, chain_id, &mut StdRng::seed_from_u64(seed))?;
        Ok(Self { slots, depth, chain_id, pk })
    }

    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<Bn254> {
        &self.pk.vk
    }

    /// Writes [`PROVING_KEY_FILE`] and [`VERIFYING_KEY_FILE`] into `dir` (created if missing):
    /// a shape header (magic, slots, depth, chain id) then the key, ark-serialize: the
    /// proving key uncompressed (see `PK_MAGIC`), the verifying key compressed.
    pub fn save(&self, dir: &Path) -> Result<SavedKeys, KeyError> {
        std::fs::create_dir_all(dir).map_err(|source| KeyError::Io { path: dir.into(), source })?;
        let write = |name: &str, magic: &[u8; 8], key: &dyn Fn(&mut Vec<u8>) -> Result<(), ark_serialize::SerializationError>| {
            let path = dir.join(name);
            let mut bytes = shape_header(magic, self.slots, self.depth, self.chain_id);
            key(&mut bytes).map_err(|e| KeyError::Format { path: path.clone(), reason: e.to_string() })?;
            let mut f = std::fs::File::create(&path).map_err(|source| KeyError::Io { path: path.clone(), source })?;
            f.write_all(&bytes).map_err(|source| KeyError::Io { path: path.clone(), source })?;
            Ok::<_, KeyError>((path, bytes.len() as u64))
        };
        let proving_key = write(PROVING_KEY_FILE, PK_MAGIC, &|b| self.pk.serialize_uncompressed(b))?;
        let verifying_key = write(VERIFYING_KEY_FILE, VK_MAGIC, &|b| self.pk.vk.serialize_compressed(b))?;
        Ok(SavedKeys { proving_key, verifying_key })
    }

    /// Reads the proving key saved by [`ProvingKeys::save`] (or compressed, by the first
    /// format) from `dir`. Points are not checked to lie in their subgroups: a local file the
    /// operator generated, and a corrupt key only yields proofs that fail verification.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(PROVING_KEY_FILE);
        let file = std::fs::File::open(&path).map_err(|source| KeyError::Io { path: path.clone(), source })?;
        let mut r = std::io::BufReader::new(file);
        let (kind, slots, depth, chain_id) = read_header(&path, &[PK_MAGIC, PK_MAGIC_COMPRESSED], &mut r)?;
        let compress = if kind == 0 { Compress::No } else { Compress::Yes };
        let pk = ProvingKey::<Bn254>::deserialize_with_mode(&mut r, compress, Validate::No)
            .map_err(|e| KeyError::Format { path: path.clone(), reason: e.to_string() })?;
        Ok(Self { slots, depth, chain_id, pk })
    }

    /// Reads only the verifying key (fully validated) and its shape from `dir`.
    pub fn load_verifying_key(dir: &Path) -> Result<(usize, u8, ChainId, VerifyingKey<Bn254>), KeyError> {
        let path = dir.join(VERIFYING_KEY_FILE);
        let file = std::fs::File::open(&path).map_err(|source| KeyError::Io { path: path.clone(), source })?;
        let mut r = std::io::BufReader::new(file);
        let (_, slots, depth, chain_id) = read_header(&path, &[VK_MAGIC], &mut r)?;
        let vk = VerifyingKey::<Bn254>::deserialize_compressed(&mut r)
            .map_err(|e| KeyError::Format { path: path.clone(), reason: e.to_string() })?;
        Ok((slots, depth, chain_id, vk))
    }
}

/// A proof of one batch, with its public inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchProof {
    /// The arkworks proof.
    pub proof: Proof<Bn254>,
    /// The proof as the Solidity verifier's `uint256[8]` (big-endian words).
    pub words: [[u8; 32]; 8],
    /// Public inputs in order: `prevRoot`, `newRoot`, `dataHash`, `prover`.
    pub public_inputs: [F; 4],
}

impl BatchProof {
    /// [`BatchProof::words`] as decimal strings (a JSON-friendly `uint256[8]`).
    pub fn words_decimal(&self) -> [String; 8] {
        self.words.map(|w| num_bigint::BigUint::from_bytes_be(&w).to_string())
    }

    /// The public inputs as big-endian 32-byte words (`uint256[4]`).
    pub fn inputs_be(&self) -> [[u8; 32]; 4] {
        self.public_inputs.map(|x| {
            let mut out = [0u8; 32];
            let be = x.into_bigint().to_bytes_be();
            out[32 - be.len()..].copy_from_slice(&be);
            out
        })
    }
}

/// Proves a batch on the CPU: see [`prove_batch_with`].
pub fn prove_batch(keys: &ProvingKeys, witness: &BatchWitness, prover: L1Address) -> Result<BatchProof, ProverError> {
    prove_batch_with(&CpuBackend, keys, witness, prover, None)
}

/// Proves the batch of `witness` for the L1 address `prover` (the only address that can
/// submit the proof) with `backend` doing the FFTs and MSMs. The witness must have the keys'
/// shape and satisfy the circuit. The proof's blinding comes from the OS, or from `seed` when
/// given (reproducible fixtures only: whoever knows the seed can strip the zero knowledge).
pub fn prove_batch_with(
    backend: &dyn ProverBackend,
    keys: &ProvingKeys,
    witness: &BatchWitness,
    prover: L1Address,
    seed: Option<u64>,
) -> Result<BatchProof, ProverError> {
    if witness.ops.len() != keys.slots || witness.depth != keys.depth || witness.chain_id != keys.chain_id {
        return Err(ProverError::Shape(format!(
            "witness is S={} D={} chain {}, keys are S={} D={} chain {}",
            witness.ops.len(),
            witness.depth,
            witness.chain_id,
            keys.slots,
            keys.depth,
            keys.chain_id
        )));
    }
    let circuit = BatchCircuit::new(witness, prover);
    let inputs = circuit.public_inputs();
    let public_inputs: [F; 4] = inputs.clone().try_into().expect("four public inputs");
    let mut rng = match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_rng(rand::rngs::OsRng).expect("os rng"),
    };
    let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let proof = prove_with_backend(backend, &keys.pk, circuit, r, s)?;
    if !verify(&keys.pk.vk, &inputs, &proof) {
        return Err(ProverError::Unsatisfied);
    }
    Ok(BatchProof { words: solidity_proof(&proof), proof, public_inputs })
}

/// Groth16's prover (as `ark_groth16::Groth16::create_proof_with_reduction`), with the QAP
/// witness map and the MSMs delegated to `backend`.
fn prove_with_backend(
    backend: &dyn ProverBackend,
    pk: &ProvingKey<Bn254>,
    circuit: BatchCircuit,
    r: Fr,
    s: Fr,
) -> Result<Proof<Bn254>, ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove { construct_matrices: true, generate_lc_assignments: false });
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    let matrices = cs.to_matrices()?;
    let matrices = &matrices[ark_relations::gr1cs::R1CS_PREDICATE_LABEL];
    let num_inputs = cs.num_instance_variables();
    let num_constraints = cs.num_constraints();
    let (input_assignment, aux_assignment) = {
        let inner = cs.borrow().ok_or(ark_relations::gr1cs::SynthesisError::MissingCS)?;
        (inner.instance_assignment()?[1..].to_vec(), inner.witness_assignment()?.to_vec())
    };
    let full_assignment = [&[Fr::from(1u64)][..], &input_assignment, &aux_assignment].concat();
    let h = backend.witness_map(matrices, num_inputs, num_constraints, &full_assignment)?;
    drop(full_assignment);

    let to_big = |v: &[Fr]| v.iter().map(|x| x.into_bigint()).collect::<Vec<_>>();
    let h_acc = backend.msm_g1(&pk.h_query, &to_big(&h));
    let aux = to_big(&aux_assignment);
    let l_aux_acc = backend.msm_g1(&pk.l_query, &aux);
    let assignment = [to_big(&input_assignment), aux].concat();

    // A = α + Σ a_i·A_i + r·δ
    let g_a = G1Projective::from(pk.a_query[0]) + backend.msm_g1(&pk.a_query[1..], &assignment) + pk.vk.alpha_g1 + pk.delta_g1 * r;
    // B in G1 (for C) and in G2: β + Σ a_i·B_i + s·δ
    let g1_b = if r.is_zero() {
        G1Projective::zero()
    } else {
        G1Projective::from(pk.b_g1_query[0]) + backend.msm_g1(&pk.b_g1_query[1..], &assignment) + pk.beta_g1 + pk.delta_g1 * s
    };
    let g2_b = G2Projective::from(pk.b_g2_query[0]) + backend.msm_g2(&pk.b_g2_query[1..], &assignment) + pk.vk.beta_g2 + pk.vk.delta_g2 * s;
    // C = s·A + r·B1 - r·s·δ + Σ w_i·L_i + Σ h_i·H_i
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_aux_acc + h_acc;
    Ok(Proof { a: g_a.into_affine(), b: g2_b.into_affine(), c: g_c.into_affine() })
}
