//! The exit circuit (SPEC.md §16): during exodus, an account owner proves that its account
//! holds exactly `amount` of `token` under the last final state root, and that the account's
//! key signed the exit to L1 address `recipient`. L1 pays `amount` once per (account, token).
//!
//! Public inputs, in order: `root`, `account` (index), `token`, `amount`, `recipient` (an L1
//! address as an integer). Everything else (the leaf's key, nonce and balance root, both
//! Merkle paths, the EdDSA signature) is private. The chain id is a circuit constant, so a
//! proof for one deployment's chain is useless on another.
//!
//! Small on purpose (one account path, one balance path, one signature): a user proves it on
//! its own machine in about a second (BENCHMARKS.md), with keys from
//! [`ExitKeys::setup_insecure`] on devnets.

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError};
use ark_snark::SNARK;
use rand::{rngs::StdRng, SeedableRng};
use taceo_ark_babyjubjub::{EdwardsAffine, Fr as Scalar};
use tandem_crypto::Signature;
use tandem_state::signing::{address_to_fr, exit_tag};
use tandem_state::witness::AccountWitness;
use tandem_types::{AccountIndex, Balance, ChainId, L1Address, TokenId, TOKEN_BITS};

use crate::batch::{bits_of, witness, witnesses};
use crate::gadgets::{eddsa, merkle, poseidon::poseidon, Bool, FVar, PointVar, F};
use crate::prover::{solidity_proof, solidity_verifier, Proof, ProverError, ProvingKey, VerifyingKey};

/// Why an exit cannot be proven from the given account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitError {
    /// The account slot is empty: there is nothing to exit.
    #[error("account {0} does not exist under the exit root")]
    NoAccount(u32),
    /// The account holds none of the token: L1 refuses exits of zero.
    #[error("account {account} holds no token {token} under the exit root")]
    NothingToExit {
        /// The account.
        account: u32,
        /// The token.
        token: u8,
    },
    /// The witness's paths are not of the keys' tree depth.
    #[error("witness has an account path of {got} levels, the keys are for depth {expected}")]
    DepthMismatch {
        /// The keys' depth.
        expected: u8,
        /// The witness's path length.
        got: usize,
    },
}

/// What the exit proves, as L1 receives it (`exit(account, token, amount, recipient, proof)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatement {
    /// The state root exodus froze (the last final batch's).
    pub root: F,
    /// The exiting account.
    pub account: AccountIndex,
    /// The token leaving.
    pub token: TokenId,
    /// The account's whole balance of `token` under `root`.
    pub amount: Balance,
    /// Who L1 pays.
    pub recipient: L1Address,
}

impl ExitStatement {
    /// The public inputs, in the verifier's order.
    pub fn public_inputs(&self) -> Vec<F> {
        vec![
            self.root,
            F::from(self.account.get() as u64),
            F::from(self.token.get() as u64),
            F::from(self.amount),
            address_to_fr(&self.recipient),
        ]
    }
}

/// The exit circuit with its witness (or a blank one, for key generation).
#[derive(Debug, Clone)]
pub struct ExitCircuit {
    chain_id: ChainId,
    depth: u8,
    statement: ExitStatement,
    x: F,
    y: F,
    nonce: F,
    balance_root: F,
    balance_siblings: Vec<F>,
    siblings: Vec<F>,
    r8: EdwardsAffine,
    s: Scalar,
}

impl ExitCircuit {
    /// The exit of `witness`'s account (read under `root` with
    /// `tandem_state::witness::account_witness`) to `recipient`, authorized by `signature`
    /// over `tandem_state::signing::exit_message`. A wrong signature or root yields a circuit
    /// that is not satisfied (no proof), never a wrong proof.
    pub fn new(
        chain_id: ChainId,
        root: F,
        witness: &AccountWitness,
        recipient: L1Address,
        signature: &Signature,
    ) -> Result<Self, ExitError> {
        let account = witness.account.as_ref().ok_or(ExitError::NoAccount(witness.index))?;
        if witness.balance == 0 {
            return Err(ExitError::NothingToExit { account: witness.index, token: witness.token.get() });
        }
        let index = AccountIndex::new(witness.index).map_err(|_| ExitError::NoAccount(witness.index))?;
        Ok(Self {
            chain_id,
            depth: witness.proof.siblings.len() as u8,
            statement: ExitStatement { root, account: index, token: witness.token, amount: witness.balance, recipient },
            x: account.pubkey.x(),
            y: account.pubkey.y(),
            nonce: F::from(account.nonce as u64),
            balance_root: account.balance_root(),
            balance_siblings: witness.balance_proof.siblings.clone(),
            siblings: witness.proof.siblings.clone(),
            r8: *signature.r8(),
            s: signature.s(),
        })
    }

    /// A circuit of the right shape with placeholder values (key generation only).
    pub fn blank(depth: u8, chain_id: ChainId) -> Self {
        Self {
            chain_id,
            depth,
            statement: ExitStatement {
                root: F::from(0u64),
                account: AccountIndex::new(0).expect("0 is an index"),
                token: TokenId::ETH,
                amount: 0,
                recipient: L1Address([0; 20]),
            },
            x: F::from(0u64),
            y: F::from(1u64),
            nonce: F::from(0u64),
            balance_root: F::from(0u64),
            balance_siblings: vec![F::from(0u64); TOKEN_BITS as usize],
            siblings: vec![F::from(0u64); depth as usize],
            r8: eddsa::identity(),
            s: Scalar::from(0u64),
        }
    }

    /// What this circuit proves.
    pub fn statement(&self) -> &ExitStatement {
        &self.statement
    }

    /// Whether the witness satisfies every constraint (tests and pre-flight checks).
    pub fn is_satisfied(&self) -> Result<bool, SynthesisError> {
        let cs = ConstraintSystem::<F>::new_ref();
        self.clone().generate_constraints(cs.clone())?;
        cs.is_satisfied()
    }

    /// Number of constraints of the shape (depth, chain id).
    pub fn num_constraints(depth: u8, chain_id: ChainId) -> usize {
        let cs = ConstraintSystem::<F>::new_ref();
        Self::blank(depth, chain_id).generate_constraints(cs.clone()).expect("the blank circuit synthesizes");
        cs.num_constraints()
    }
}

impl ConstraintSynthesizer<F> for ExitCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
        let inputs = self.statement.public_inputs();
        let [root, account, token, amount, recipient] = [0, 1, 2, 3, 4].map(|i| FVar::new_input(cs.clone(), || Ok(inputs[i])));
        let (root, account, token, amount, recipient) = (root?, account?, token?, amount?, recipient?);

        // The index and the token as bits: their paths' directions.
        let index_bits = bits_of(&cs, self.statement.account.get(), self.depth as usize)?;
        Bool::le_bits_to_fp(&index_bits)?.enforce_equal(&account)?;
        let token_bits = bits_of(&cs, self.statement.token.get() as u32, TOKEN_BITS as usize)?;
        Bool::le_bits_to_fp(&token_bits)?.enforce_equal(&token)?;

        // `amount` is the leaf's balance of `token`; the leaf is under `root`.
        let x = witness(&cs, self.x)?;
        let y = witness(&cs, self.y)?;
        let nonce = witness(&cs, self.nonce)?;
        let balance_root = witness(&cs, self.balance_root)?;
        let balance_siblings = witnesses(&cs, &self.balance_siblings)?;
        let siblings = witnesses(&cs, &self.siblings)?;
        merkle::verify_path(&balance_root, &amount, &token_bits, &balance_siblings)?;
        let leaf = poseidon(&[x.clone(), y.clone(), nonce, balance_root])?;
        merkle::verify_path(&root, &leaf, &index_bits, &siblings)?;

        // The account's key signed the exit to `recipient`.
        let message = poseidon(&[FVar::constant(exit_tag()), FVar::constant(F::from(self.chain_id)), account, token, recipient])?;
        let r8 = eddsa::alloc_point(cs.clone(), Some(self.r8))?;
        let s = eddsa::alloc_scalar(cs.clone(), Some(self.s))?;
        eddsa::verify(&Bool::TRUE, &PointVar::new(x, y), &r8, &s, &message)
    }
}

/// The exit circuit's Groth16 keys, with the shape they were made for.
#[derive(Clone)]
pub struct ExitKeys {
    /// Account tree depth `D`.
    pub depth: u8,
    /// Chain id (a constant of the circuit).
    pub chain_id: ChainId,
    /// The proving key (its verifying key inside, `pk.vk`).
    pub pk: ProvingKey<Bn254>,
}

/// The public seed of the devnet's exit keys: `tandem wallet exit` derives the proving key
/// from it and the devnet deploys the verifier rendered from it. INSECURE: anyone can forge
/// exits against a verifier made from a known seed; production keys come from a ceremony.
pub const DEVNET_EXIT_SEED: u64 = 2025;

impl ExitKeys {
    /// INSECURE local setup from a seed (devnets and tests only: the seed is the toxic waste).
    pub fn setup_insecure(depth: u8, chain_id: ChainId, seed: u64) -> Result<Self, ProverError> {
        let (pk, _) = Groth16::<Bn254>::circuit_specific_setup(ExitCircuit::blank(depth, chain_id), &mut StdRng::seed_from_u64(seed))?;
        Ok(Self { depth, chain_id, pk })
    }

    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<Bn254> {
        &self.pk.vk
    }

    /// Proves `circuit` and checks the proof before returning it (a witness that does not
    /// satisfy the circuit gives [`ProverError::Unsatisfied`], never a proof L1 would refuse).
    pub fn prove(&self, circuit: ExitCircuit, rng_seed: u64) -> Result<Proof<Bn254>, ProverError> {
        if circuit.depth != self.depth || circuit.chain_id != self.chain_id {
            return Err(ProverError::Shape(format!(
                "exit of depth {} chain {}, keys for depth {} chain {}",
                circuit.depth, circuit.chain_id, self.depth, self.chain_id
            )));
        }
        // Checked first: arkworks asserts satisfaction (debug builds) instead of failing.
        if !circuit.is_satisfied()? {
            return Err(ProverError::Unsatisfied);
        }
        let inputs = circuit.statement.public_inputs();
        let proof = Groth16::<Bn254>::prove(&self.pk, circuit, &mut StdRng::seed_from_u64(rng_seed))?;
        if !verify_exit(self.vk(), &inputs, &proof) {
            return Err(ProverError::Unsatisfied);
        }
        Ok(proof)
    }
}

/// Verifies an exit proof against its public inputs ([`ExitStatement::public_inputs`]): the
/// batch circuit's Groth16 check, which takes any circuit's verifying key.
pub fn verify_exit(vk: &VerifyingKey<Bn254>, public_inputs: &[F], proof: &Proof<Bn254>) -> bool {
    crate::prover::verify(vk, public_inputs, proof)
}

/// The proof as the exit verifier's `uint256[8]` (same layout as batch proofs).
pub fn exit_solidity_proof(proof: &Proof<Bn254>) -> [[u8; 32]; 8] {
    solidity_proof(proof)
}

/// The Solidity exit verifier of `keys` (`verifyProof(uint256[8], uint256[5]) returns (bool)`),
/// with a header naming the shape and, for a seeded setup, the seed and an INSECURE warning.
pub fn exit_verifier_file(keys: &ExitKeys, seed: Option<u64>) -> String {
    let (d, c) = (keys.depth, keys.chain_id);
    let origin = match seed {
        Some(seed) => format!(
            "// INSECURE: keys from a local setup with the public seed {seed} (StdRng): anyone can\n\
             // forge exits. For devnets and tests only; production keys come from a multi-party\n\
             // phase-2 ceremony.\n"
        ),
        None => "// INSECURE: keys from a local setup: for devnets and tests only.\n".to_string(),
    };
    format!(
        "// Groth16 verifier of Tandem's ExitCircuit (D = {d} tree depth, chain id {c}),\n\
         // rendered by taceo-groth16-sol from the verifying key.\n\
         {origin}\
         // Public inputs, in order: root, account, token, amount, recipient (SPEC §16).\n{}",
        solidity_verifier(keys.vk())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_crypto::PrivateKey;
    use tandem_state::signing::exit_message;
    use tandem_state::witness::account_witness;
    use tandem_state::{Ledger, LedgerConfig, LedgerOp};
    use tandem_types::L1Deposit;

    const CHAIN: ChainId = 31_337_001;
    const DEPTH: u8 = 4;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from_seed([seed; 32])
    }

    /// Genesis fee account 0, then account 1 (key 2) with 3 ETH and account 2 (key 3) with 5 ETH.
    fn ledger() -> Ledger {
        let mut ledger = Ledger::new(LedgerConfig { chain_id: CHAIN, tree_depth: DEPTH, chunk_size: None }).unwrap();
        ledger.create_genesis_account(key(1).public_key().pack()).unwrap();
        let fee = AccountIndex::new(0).unwrap();
        for (seed, amount) in [(2u8, 3u128), (3, 5)] {
            let deposit = L1Deposit { to: key(seed).public_key().pack(), token: TokenId::ETH, amount };
            ledger.apply_batch(&[LedgerOp::Deposit(deposit)], fee).unwrap();
        }
        ledger
    }

    fn exit_of(ledger: &Ledger, index: u32, signer: u8, recipient: L1Address) -> ExitCircuit {
        let account = AccountIndex::new(index).unwrap();
        let w = account_witness(ledger, account, TokenId::ETH);
        let signature = key(signer).sign(exit_message(CHAIN, account, TokenId::ETH, &recipient));
        ExitCircuit::new(CHAIN, ledger.root(), &w, recipient, &signature).unwrap()
    }

    #[test]
    fn the_owner_exits_its_whole_balance_and_nothing_else_verifies() {
        let ledger = ledger();
        let recipient = L1Address([7; 20]);
        let circuit = exit_of(&ledger, 1, 2, recipient);
        assert_eq!(circuit.statement().amount, 3);
        assert!(circuit.is_satisfied().unwrap());
        let keys = ExitKeys::setup_insecure(DEPTH, CHAIN, 1).unwrap();
        let statement = *circuit.statement();
        let proof = keys.prove(circuit, 9).unwrap();
        assert!(verify_exit(keys.vk(), &statement.public_inputs(), &proof));
        // The same proof for another recipient, amount, account, token or root is refused.
        let others = [
            ExitStatement { recipient: L1Address([8; 20]), ..statement },
            ExitStatement { amount: 4, ..statement },
            ExitStatement { account: AccountIndex::new(2).unwrap(), ..statement },
            ExitStatement { token: TokenId::new(1).unwrap(), ..statement },
            ExitStatement { root: statement.root + F::from(1u64), ..statement },
        ];
        for other in others {
            assert!(!verify_exit(keys.vk(), &other.public_inputs(), &proof), "{other:?}");
        }
    }

    #[test]
    fn a_signature_by_another_key_or_for_another_recipient_is_unsatisfiable() {
        let ledger = ledger();
        let recipient = L1Address([7; 20]);
        // Key 3 owns account 2, not account 1.
        assert!(!exit_of(&ledger, 1, 3, recipient).is_satisfied().unwrap());
        // Signed for recipient 7, claimed for recipient 8.
        let account = AccountIndex::new(1).unwrap();
        let w = account_witness(&ledger, account, TokenId::ETH);
        let signature = key(2).sign(exit_message(CHAIN, account, TokenId::ETH, &recipient));
        let stolen = ExitCircuit::new(CHAIN, ledger.root(), &w, L1Address([8; 20]), &signature).unwrap();
        assert!(!stolen.is_satisfied().unwrap());
        let keys = ExitKeys::setup_insecure(DEPTH, CHAIN, 1).unwrap();
        assert!(matches!(keys.prove(stolen, 1), Err(ProverError::Unsatisfied)));
    }

    #[test]
    fn a_stale_root_or_an_inflated_balance_is_unsatisfiable() {
        let ledger = ledger();
        let recipient = L1Address([7; 20]);
        let mut circuit = exit_of(&ledger, 1, 2, recipient);
        circuit.statement.root += F::from(1u64);
        assert!(!circuit.is_satisfied().unwrap());
        let mut circuit = exit_of(&ledger, 1, 2, recipient);
        circuit.statement.amount = 5;
        assert!(!circuit.is_satisfied().unwrap());
    }

    #[test]
    fn empty_accounts_and_zero_balances_have_nothing_to_exit() {
        let ledger = ledger();
        let signature = key(2).sign(F::from(0u64));
        let empty = account_witness(&ledger, AccountIndex::new(5).unwrap(), TokenId::ETH);
        assert_eq!(ExitCircuit::new(CHAIN, ledger.root(), &empty, L1Address([7; 20]), &signature).unwrap_err(), ExitError::NoAccount(5));
        let fee = account_witness(&ledger, AccountIndex::new(0).unwrap(), TokenId::ETH);
        assert_eq!(
            ExitCircuit::new(CHAIN, ledger.root(), &fee, L1Address([7; 20]), &signature).unwrap_err(),
            ExitError::NothingToExit { account: 0, token: 0 }
        );
    }

    #[test]
    fn keys_of_another_depth_refuse_to_prove() {
        let ledger = ledger();
        let keys = ExitKeys::setup_insecure(5, CHAIN, 1).unwrap();
        assert!(matches!(keys.prove(exit_of(&ledger, 1, 2, L1Address([7; 20])), 1), Err(ProverError::Shape(_))));
    }
}
