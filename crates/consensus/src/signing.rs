//! secp256k1 signing of consensus messages over keccak-256 digests that L1 can recompute.
//!
//! Every signature is a 65-byte r|s|v (v 27/28, low s) over a raw digest (no EIP-191 prefix),
//! exactly what `SequencerStaking._recover` accepts, and recovers to the signer's address:
//! a validator's "public key" is its address. The vote digest equals the staking contract's
//! `voteDigest`, so two conflicting votes from the engine's evidence are slashing evidence on
//! L1 as they are.

use alloy::primitives::{keccak256, Address as EthAddress, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::{
    NilOrVal, Round, SignedExtension, SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope, VoteType,
};
use malachitebft_signing::{Error as SigningError, Signer, VerificationResult, Verifier};

use crate::types::{Address, Proposal, TandemContext, Vote};

/// A 65-byte recoverable secp256k1 signature, r|s|v.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature(pub [u8; 65]);

impl BorshSerialize for Signature {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        writer.write_all(&self.0)
    }
}

impl BorshDeserialize for Signature {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let mut bytes = [0u8; 65];
        reader.read_exact(&mut bytes)?;
        Ok(Signature(bytes))
    }
}

/// Why bytes are not a signature or public key of [`Secp256k1`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// Wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length {
        /// Signature or public key.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Refused as L1 refuses it (v, high s, unrecoverable).
    #[error("signature: {0}")]
    Refused(#[from] tandem_chain::SignatureError),
}

/// The signing scheme: recoverable secp256k1; public key = Ethereum address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secp256k1;

impl SigningScheme for Secp256k1 {
    type DecodingError = SignatureError;
    type Signature = Signature;
    type PublicKey = Address;
    type PrivateKey = PrivateKeySigner;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, SignatureError> {
        let array: [u8; 65] = bytes.try_into().map_err(|_| SignatureError::Length { what: "signature", expected: 65, got: bytes.len() })?;
        Ok(Signature(array))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<Address, SignatureError> {
        let array: [u8; 20] =
            bytes.try_into().map_err(|_| SignatureError::Length { what: "public key", expected: 20, got: bytes.len() })?;
        Ok(Address(EthAddress::from(array)))
    }

    fn encode_public_key(public_key: &Address) -> Vec<u8> {
        public_key.0.to_vec()
    }
}

/// Signs `digest` raw: r|s|v with v 27/28 and low s (`tandem_chain::sign_digest`).
pub fn sign_digest(key: &PrivateKeySigner, digest: B256) -> Signature {
    Signature(tandem_chain::sign_digest(key, digest))
}

/// The address that signed `digest`, refusing anything `SequencerStaking._recover` refuses.
pub fn recover_signer(digest: B256, signature: &Signature) -> Result<EthAddress, SignatureError> {
    Ok(tandem_chain::recover_signer(digest, &signature.0)?)
}

fn word_u64(x: u64) -> [u8; 32] {
    U256::from(x).to_be_bytes()
}

fn word_i64(x: i64) -> [u8; 32] {
    // abi.encode of an int64: sign-extended two's complement.
    let fill = if x < 0 { 0xff } else { 0x00 };
    let mut w = [fill; 32];
    w[24..].copy_from_slice(&x.to_be_bytes());
    w
}

fn word_address(a: EthAddress) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn abi_hash(words: &[[u8; 32]]) -> B256 {
    keccak256(words.concat())
}

fn domain(ctx: &TandemContext, tag: &str) -> [[u8; 32]; 3] {
    [keccak256(tag.as_bytes()).0, word_u64(ctx.l1_chain_id), word_address(ctx.rollup)]
}

/// The L1 vote type code: 0 prevote, 1 precommit.
pub fn vote_type_code(vote_type: VoteType) -> u8 {
    match vote_type {
        VoteType::Prevote => 0,
        VoteType::Precommit => 1,
    }
}

/// `SequencerStaking.voteDigest(height, round, voteType, valueId)` for this deployment
/// (`tandem_chain::vote_digest`); `vote_type` 0 prevote, 1 precommit; nil = zero id.
pub fn vote_digest(ctx: &TandemContext, height: u64, round: u32, vote_type: u8, value_id: B256) -> B256 {
    let vote_type = if vote_type == 0 { tandem_chain::VoteType::Prevote } else { tandem_chain::VoteType::Precommit };
    tandem_chain::vote_digest(ctx.l1_chain_id, ctx.rollup, height, round, vote_type, value_id)
}

fn vote_message_digest(ctx: &TandemContext, vote: &Vote) -> Result<B256, SigningError> {
    let round = vote.round.as_u32().ok_or_else(|| SigningError::from_source("vote at nil round"))?;
    let value_id = match vote.value {
        NilOrVal::Nil => B256::ZERO,
        NilOrVal::Val(id) => id.0,
    };
    Ok(vote_digest(ctx, vote.height.0, round, vote_type_code(vote.vote_type), value_id))
}

/// Digest of a proposal: keccak256(abi.encode(keccak256("tandem.proposal.v1"), chainid,
/// rollup, uint64 height, int64 round, bytes32 blockId, int64 polRound)).
pub fn proposal_digest(ctx: &TandemContext, proposal: &Proposal) -> B256 {
    let [tag, chain, rollup] = domain(ctx, "tandem.proposal.v1");
    abi_hash(&[
        tag,
        chain,
        rollup,
        word_u64(proposal.height.0),
        word_i64(proposal.round.as_i64()),
        proposal.value.0 .0,
        word_i64(proposal.pol_round.as_i64()),
    ])
}

/// Digest a proposer signs over its proposal part: keccak256(abi.encode(
/// keccak256("tandem.part.v1"), chainid, rollup, uint64 height, int64 round, int64 polRound,
/// bytes32 blockId)).
pub fn part_digest(ctx: &TandemContext, height: u64, round: Round, pol_round: Round, block_id: B256) -> B256 {
    let [tag, chain, rollup] = domain(ctx, "tandem.part.v1");
    abi_hash(&[tag, chain, rollup, word_u64(height), word_i64(round.as_i64()), word_i64(pol_round.as_i64()), block_id.0])
}

fn extension_digest(ctx: &TandemContext, scope: &VoteExtensionScope<TandemContext>, extension: &[u8]) -> B256 {
    let [tag, chain, rollup] = domain(ctx, "tandem.extension.v1");
    abi_hash(&[
        tag,
        chain,
        rollup,
        word_u64(scope.height.0),
        word_i64(scope.round.as_i64()),
        scope.value_id.0 .0,
        word_address(scope.validator_address.0),
        keccak256(extension).0,
    ])
}

fn validator_proof_digest(ctx: &TandemContext, public_key: &[u8], peer_id: &[u8]) -> B256 {
    let mut bytes = keccak256("tandem.validator-proof.v1").to_vec();
    bytes.extend_from_slice(&word_u64(ctx.l1_chain_id));
    bytes.extend_from_slice(&word_address(ctx.rollup));
    bytes.extend_from_slice(&ValidatorProof::<TandemContext>::signing_bytes(public_key, peer_id));
    keccak256(bytes)
}

/// A validator's signer: its signing key, bound to one L1 deployment.
#[derive(Clone, Debug)]
pub struct ConsensusSigner {
    key: PrivateKeySigner,
    ctx: TandemContext,
}

impl ConsensusSigner {
    /// A signer for `key` in `ctx`.
    pub fn new(key: PrivateKeySigner, ctx: TandemContext) -> Self {
        Self { key, ctx }
    }

    /// The validator address (of the signing key).
    pub fn address(&self) -> Address {
        Address(self.key.address())
    }

    /// Signs a raw digest.
    pub fn sign(&self, digest: B256) -> Result<Signature, SigningError> {
        Ok(sign_digest(&self.key, digest))
    }
}

#[async_trait]
impl Signer<TandemContext> for ConsensusSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<TandemContext, Vote>, SigningError> {
        let signature = self.sign(vote_message_digest(&self.ctx, &vote)?)?;
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(&self, proposal: Proposal) -> Result<SignedMessage<TandemContext, Proposal>, SigningError> {
        let signature = self.sign(proposal_digest(&self.ctx, &proposal))?;
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<TandemContext>,
        extension: Vec<u8>,
    ) -> Result<SignedExtension<TandemContext>, SigningError> {
        let signature = self.sign(extension_digest(&self.ctx, &scope, &extension))?;
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(&self, public_key: Vec<u8>, peer_id: Vec<u8>) -> Result<ValidatorProof<TandemContext>, SigningError> {
        let signature = self.sign(validator_proof_digest(&self.ctx, &public_key, &peer_id))?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Verifies signatures by recovery: valid iff the signature is well-formed and recovers to
/// the claimed address.
#[derive(Clone, Copy, Debug)]
pub struct ConsensusVerifier {
    ctx: TandemContext,
}

impl ConsensusVerifier {
    /// A verifier for `ctx`.
    pub fn new(ctx: TandemContext) -> Self {
        Self { ctx }
    }
}

fn verdict(digest: B256, signature: &Signature, expected: &Address) -> VerificationResult {
    VerificationResult::from_bool(recover_signer(digest, signature).is_ok_and(|a| a == expected.0))
}

#[async_trait]
impl Verifier<TandemContext> for ConsensusVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &Address,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(digest) = vote_message_digest(&self.ctx, vote) else { return Ok(VerificationResult::Invalid) };
        Ok(verdict(digest, signature, public_key))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &Address,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(proposal_digest(&self.ctx, proposal), signature, public_key))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<TandemContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &Address,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(extension_digest(&self.ctx, scope, extension), signature, public_key))
    }

    async fn verify_validator_proof(&self, proof: &ValidatorProof<TandemContext>) -> Result<VerificationResult, SigningError> {
        let Ok(claimed) = Secp256k1::decode_public_key(&proof.public_key) else { return Ok(VerificationResult::Invalid) };
        Ok(verdict(validator_proof_digest(&self.ctx, &proof.public_key, &proof.peer_id), &proof.signature, &claimed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{BlockId, Height};

    fn ctx() -> TandemContext {
        TandemContext { l1_chain_id: 31337, rollup: EthAddress::repeat_byte(0x11) }
    }

    #[test]
    fn signatures_recover_to_the_signer() {
        let key = PrivateKeySigner::random();
        for i in 0..8u8 {
            let digest = keccak256([i]);
            assert_eq!(recover_signer(digest, &sign_digest(&key, digest)), Ok(key.address()));
        }
        let mut bad_v = sign_digest(&key, keccak256(b"x"));
        bad_v.0[64] = 1;
        assert!(recover_signer(keccak256(b"x"), &bad_v).is_err());
        assert!(Secp256k1::decode_signature(&[0u8; 64]).is_err());
        assert!(Secp256k1::decode_public_key(&[0u8; 21]).is_err());
    }

    #[test]
    fn vote_digest_matches_the_pinned_contract_vector() {
        // contracts/test/DoubleVote.t.sol pins the same vector.
        let ctx = TandemContext { l1_chain_id: 31337, rollup: EthAddress::with_last_byte(0xaa) };
        let digest = vote_digest(&ctx, 7, 2, 1, keccak256("tandem.value"));
        assert_eq!(format!("{digest}"), "0x49149354867eb55afd4df45362d58c97055d42e4a0a63f674b6361c3874c3818");
    }

    #[tokio::test]
    async fn votes_verify_only_for_their_signer_and_content() {
        let key = PrivateKeySigner::random();
        let signer = ConsensusSigner::new(key, ctx());
        let verifier = ConsensusVerifier::new(ctx());
        let vote = Vote {
            vote_type: VoteType::Precommit,
            height: Height(5),
            round: Round::new(1),
            value: NilOrVal::Val(BlockId::of(b"block")),
            validator: signer.address(),
            extension: None,
        };
        let signed = signer.sign_vote(vote.clone()).await.expect("signs");
        let ok = verifier.verify_signed_vote(&vote, &signed.signature, &signer.address()).await.expect("verifies");
        assert!(ok.is_valid());
        let other = Vote { value: NilOrVal::Nil, ..vote.clone() };
        assert!(verifier.verify_signed_vote(&other, &signed.signature, &signer.address()).await.expect("runs").is_invalid());
        let stranger = Address(EthAddress::repeat_byte(7));
        assert!(verifier.verify_signed_vote(&vote, &signed.signature, &stranger).await.expect("runs").is_invalid());
        // Another deployment does not accept it.
        let elsewhere = ConsensusVerifier::new(TandemContext { l1_chain_id: 1, ..ctx() });
        assert!(elsewhere.verify_signed_vote(&vote, &signed.signature, &signer.address()).await.expect("runs").is_invalid());
    }

    #[tokio::test]
    async fn validator_proofs_bind_key_and_peer() {
        let signer = ConsensusSigner::new(PrivateKeySigner::random(), ctx());
        let verifier = ConsensusVerifier::new(ctx());
        let proof = signer.sign_validator_proof(signer.address().0.to_vec(), b"peer".to_vec()).await.expect("signs");
        assert!(verifier.verify_validator_proof(&proof).await.expect("runs").is_valid());
        let swapped = ValidatorProof::new(proof.public_key.clone(), b"other".to_vec(), proof.signature);
        assert!(verifier.verify_validator_proof(&swapped).await.expect("runs").is_invalid());
    }
}
