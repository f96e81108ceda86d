//! The digests the sequencer set signs (batches and consensus votes) and their signature
//! format, equal to what the L1 staking contract recomputes and checks.
//!
//! Signatures are 65 bytes `r ‖ s ‖ v` with `v ∈ {27, 28}` and `s ≤ secp256k1n / 2`, raw
//! ECDSA over the digest (no EIP-191 prefix), exactly what the contract's `_recover` accepts.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::SolValue;

/// Domain tag of the batch digest (`SequencerStaking.BATCH_DOMAIN_TAG`).
pub const BATCH_DOMAIN: &[u8] = b"tandem.batch.v1";
/// Domain tag of the consensus vote digest (`SequencerStaking.VOTE_DOMAIN_TAG`).
pub const VOTE_DOMAIN: &[u8] = b"tandem.vote.v1";

/// The digest the active set signs to authorize batch `batch_number` with header hash
/// `header_hash` on `rollup` (chain `l1_chain_id`) while the rollup's `revertCount()` is
/// `revert_count`: `keccak256(abi.encode(keccak256(BATCH_DOMAIN), uint256 chainid, rollup,
/// uint64 revertCount, uint64 batchNumber, headerHash))`, equal to the contract's
/// `batchDigest(revertCount, batchNumber, headerHash)`. Binding the revert count makes a
/// reverted batch's signatures worthless afterwards, and re-signing a replacement no double sign.
pub fn batch_digest(l1_chain_id: u64, rollup: Address, revert_count: u64, batch_number: u64, header_hash: B256) -> B256 {
    keccak256((keccak256(BATCH_DOMAIN), U256::from(l1_chain_id), rollup, revert_count, batch_number, header_hash).abi_encode_params())
}

/// A consensus vote's type, as the contract numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum VoteType {
    /// First voting step of a round (code 0).
    Prevote = 0,
    /// Second voting step; a value with >2/3 precommits is decided (code 1).
    Precommit = 1,
}

/// The digest a member signs for a consensus vote: `keccak256(abi.encode(keccak256(VOTE_DOMAIN),
/// uint256 chainid, rollup, uint64 height, uint32 round, uint8 voteType, bytes32 valueId))`,
/// equal to the contract's `voteDigest`. `value_id = B256::ZERO` is a nil vote.
pub fn vote_digest(l1_chain_id: u64, rollup: Address, height: u64, round: u32, vote_type: VoteType, value_id: B256) -> B256 {
    // abi.encode pads every static value to a 32-byte word: a uint8 is encoded as a uint256.
    keccak256(
        (keccak256(VOTE_DOMAIN), U256::from(l1_chain_id), rollup, height, round, U256::from(vote_type as u8), value_id).abi_encode_params(),
    )
}

/// Why a 65-byte signature is refused (the contract refuses the same ones).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The last byte is not 27 or 28.
    #[error("signature v is {0}, must be 27 or 28")]
    InvalidV(u8),
    /// `s` is above secp256k1n / 2 (the malleable twin of a valid signature).
    #[error("signature s is above secp256k1n/2")]
    HighS,
    /// No public key recovers (r or s zero or out of range, r not an x coordinate).
    #[error("signature does not recover: {0}")]
    Unrecoverable(String),
}

/// Signs `digest` with `signer` in the contract's format: `r ‖ s ‖ v`, `v ∈ {27, 28}`, low `s`
/// (RFC 6979 deterministic: the same bytes as `cast wallet sign --no-hash` and forge's `vm.sign`).
pub fn sign_digest(signer: &PrivateKeySigner, digest: B256) -> [u8; 65] {
    // A k256 key signing a 32-byte prehash cannot fail (RFC 6979 retries internally).
    signer.sign_hash_sync(&digest).expect("secp256k1 signing of a 32-byte digest").as_bytes()
}

/// The address whose key produced `signature` over `digest`; refuses exactly what the
/// contract refuses (v other than 27/28, high s, unrecoverable).
pub fn recover_signer(digest: B256, signature: &[u8; 65]) -> Result<Address, SignatureError> {
    let v = signature[64];
    if v != 27 && v != 28 {
        return Err(SignatureError::InvalidV(v));
    }
    // Parsed and recovered by libsecp256k1, which refuses what the contract's `ecrecover`
    // refuses: r or s zero or not below the group order, r not an x coordinate (test
    // `libsecp256k1_recovers_what_k256_recovers`).
    let id = secp256k1::ecdsa::RecoveryId::try_from(i32::from(v - 27)).map_err(|e| SignatureError::Unrecoverable(e.to_string()))?;
    let recoverable = secp256k1::ecdsa::RecoverableSignature::from_compact(&signature[..64], id)
        .map_err(|e| SignatureError::Unrecoverable(e.to_string()))?;
    let standard = recoverable.to_standard();
    let mut low_s = standard;
    low_s.normalize_s();
    if low_s != standard {
        return Err(SignatureError::HighS);
    }
    let key = secp256k1::SECP256K1
        .recover_ecdsa(secp256k1::Message::from_digest(digest.0), &recoverable)
        .map_err(|e| SignatureError::Unrecoverable(e.to_string()))?;
    Ok(Address::from_raw_public_key(&key.serialize_uncompressed()[1..]))
}

/// Why a list of signatures cannot authorize one digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureSetError {
    /// Signature `index` of the list is refused.
    #[error("signature {index}: {source}")]
    InvalidSignature {
        /// Position in the list.
        index: usize,
        /// Why it is refused.
        #[source]
        source: SignatureError,
    },
    /// Two signatures of the list recover to the same signer.
    #[error("two signatures from signer {0}")]
    DuplicateSigner(Address),
}

/// `signatures` over `digest` ordered by strictly ascending recovered signer, as
/// `commitBatchSigned` requires. Fails on a signature that does not recover (its index in
/// `signatures`) or on two signatures of the same signer.
pub fn sort_by_signer(digest: B256, signatures: Vec<[u8; 65]>) -> Result<Vec<[u8; 65]>, SignatureSetError> {
    let mut signed = Vec::with_capacity(signatures.len());
    for (index, signature) in signatures.into_iter().enumerate() {
        let signer = recover_signer(digest, &signature).map_err(|source| SignatureSetError::InvalidSignature { index, source })?;
        signed.push((signer, signature));
    }
    signed.sort_by_key(|(signer, _)| *signer);
    if let Some(pair) = signed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(SignatureSetError::DuplicateSigner(pair[0].0));
    }
    Ok(signed.into_iter().map(|(_, signature)| signature).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, hex, Signature};

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&keccak256([i])).expect("valid secp256k1 scalar")
    }

    const SECP256K1_N: U256 = alloy::primitives::uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

    fn key_one() -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::with_last_byte(1)).expect("1 is a valid scalar")
    }

    /// The vectors pinned by the forge tests (`test_batchDigest_matchesOffChainVector`,
    /// `test_voteDigest_matchesOffChainVector`, both computed with `cast`).
    #[test]
    fn digests_and_signatures_match_the_contract_vectors() {
        let rollup = address!("00000000000000000000000000000000000000aa");
        assert_eq!(
            batch_digest(31337, rollup, 0, 1, keccak256("tandem.header")),
            b256!("e1c1e61293f945a4bcc52c0fe4bb94bd4e6b0eded629800f13aae49e4ac0ef12")
        );
        let vote = vote_digest(31337, rollup, 7, 2, VoteType::Precommit, keccak256("tandem.value"));
        assert_eq!(vote, b256!("49149354867eb55afd4df45362d58c97055d42e4a0a63f674b6361c3874c3818"));
        assert_eq!(
            vote_digest(31337, rollup, 7, 2, VoteType::Prevote, B256::ZERO),
            b256!("92a362801588f9941bada588ba52224899dc61911890ec89942f45228d6629c4")
        );
        assert_eq!(
            sign_digest(&key_one(), vote),
            hex!("ad0a61fbe7550dbbce2074a91789a856861e503889d2d5a903f1abd34eb6d18464315518af8c28f95c4ab7edd9fe80f25382c1dafc86d0f1fc3ad19ad583edc11b")
        );
        let batch = batch_digest(31337, rollup, 0, 1, keccak256("tandem.header"));
        assert_eq!(
            sign_digest(&key_one(), batch),
            hex!("757500a870e65a7cd043bafe637aeef91523b048f29ddcfdfaf03b9782baae734d0918fd06b27fa1fbf08421c5eec6ef565a68317ab65669e4369aa93bdf6fd31b")
        );
    }

    #[test]
    fn signatures_are_low_s_and_recover_to_the_signer() {
        for i in 0..64u8 {
            let signer = key(i);
            let digest = keccak256([i, 0xd1]);
            let signature = sign_digest(&signer, digest);
            assert!(signature[64] == 27 || signature[64] == 28);
            assert_eq!(recover_signer(digest, &signature), Ok(signer.address()), "key {i}");
        }
    }

    #[test]
    fn recovery_refuses_the_malleable_twin_bad_v_and_garbage() {
        let digest = keccak256("digest");
        let signature = sign_digest(&key(1), digest);
        // The twin (n - s, parity flipped) is a valid ECDSA signature of the same key: refused.
        let sig = Signature::from_raw_array(&signature).expect("valid");
        let twin = Signature::new(sig.r(), SECP256K1_N - sig.s(), !sig.v()).as_bytes();
        assert_eq!(recover_signer(digest, &twin), Err(SignatureError::HighS));
        for v in [0u8, 1, 26, 29, 37] {
            let mut bad = signature;
            bad[64] = v;
            assert_eq!(recover_signer(digest, &bad), Err(SignatureError::InvalidV(v)));
        }
        let mut zero_r = signature;
        zero_r[..32].fill(0);
        assert!(matches!(recover_signer(digest, &zero_r), Err(SignatureError::Unrecoverable(_))));
        // s not below the group order is no scalar at all: refused before the low-s rule.
        let mut s_is_n = signature;
        s_is_n[32..64].copy_from_slice(&SECP256K1_N.to_be_bytes::<32>());
        assert!(matches!(recover_signer(digest, &s_is_n), Err(SignatureError::Unrecoverable(_))));
    }

    /// The reference recovery (alloy over k256), which `recover_signer` replaced for speed.
    fn k256_recovery(digest: B256, signature: &[u8; 65]) -> Option<Address> {
        Signature::from_raw_array(signature).ok()?.recover_address_from_prehash(&digest).ok()
    }

    proptest::proptest! {
        /// libsecp256k1 and k256 agree on every low-s signature with a valid v: the same
        /// address, or both refuse (r or s zero or out of range, r not an x coordinate).
        #[test]
        fn libsecp256k1_recovers_what_k256_recovers(
            digest in proptest::array::uniform32(proptest::num::u8::ANY),
            r in proptest::array::uniform32(proptest::num::u8::ANY),
            s in proptest::array::uniform32(proptest::num::u8::ANY),
            odd in proptest::bool::ANY,
            edge in 0u8..6,
            key_index in proptest::num::u8::ANY,
        ) {
            let digest = B256::from(digest);
            let mut signature = [0u8; 65];
            signature[..32].copy_from_slice(&r);
            signature[32..64].copy_from_slice(&s);
            signature[32] &= 0x3f; // s < 2^254 < n / 2: the low-s rule is not what is tested here
            signature[64] = 27 + u8::from(odd);
            match edge {
                0 => signature = sign_digest(&key(key_index), digest),
                1 => signature[..32].fill(0),
                2 => signature[32..64].fill(0),
                3 => signature[..32].copy_from_slice(&SECP256K1_N.to_be_bytes::<32>()),
                4 => signature[..32].fill(0xff),
                _ => {}
            }
            proptest::prop_assert_eq!(recover_signer(digest, &signature).ok(), k256_recovery(digest, &signature));
            if edge == 0 {
                proptest::prop_assert_eq!(recover_signer(digest, &signature), Ok(key(key_index).address()));
            }
        }
    }

    #[test]
    fn sort_by_signer_orders_ascending_and_refuses_duplicates_and_bad_signatures() {
        let digest = keccak256("batch");
        let keys: Vec<PrivateKeySigner> = (0..6).map(key).collect();
        let signatures: Vec<[u8; 65]> = keys.iter().map(|k| sign_digest(k, digest)).collect();
        let sorted = sort_by_signer(digest, signatures.clone()).expect("valid signatures");
        let signers: Vec<Address> = sorted.iter().map(|s| recover_signer(digest, s).expect("valid")).collect();
        let mut expected: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        expected.sort();
        assert_eq!(signers, expected);

        let mut twice = signatures.clone();
        twice.push(signatures[2]);
        assert!(matches!(sort_by_signer(digest, twice), Err(SignatureSetError::DuplicateSigner(a)) if a == keys[2].address()));

        let mut bad = signatures;
        bad[4][64] = 29;
        assert!(matches!(
            sort_by_signer(digest, bad),
            Err(SignatureSetError::InvalidSignature { index: 4, source: SignatureError::InvalidV(29) })
        ));
    }
}
