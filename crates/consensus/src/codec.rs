//! The wire and WAL codec: borsh for every consensus, sync and WAL message (strict: the
//! whole input must be consumed), and a fixed layout for validator proofs.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedExtension, SigningScheme,
    ValidatorProof,
};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueResponse};

use crate::signing::{Secp256k1, Signature};
use crate::types::{Address, BlockId, Height, ProposalPart, TandemContext};

/// Why bytes did not decode as a message.
#[derive(Debug, thiserror::Error)]
#[error("{type_name}: {reason}")]
pub struct CodecError {
    /// The type being decoded or encoded.
    pub type_name: &'static str,
    /// What was wrong.
    pub reason: String,
}

/// Tandem's consensus codec (stateless).
#[derive(Clone, Copy, Debug, Default)]
pub struct WireCodec;

/// Decodes `T` from exactly `bytes` (trailing bytes are an error).
pub fn decode_exact<T: borsh::BorshDeserialize>(type_name: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    borsh::from_slice(bytes).map_err(|e| CodecError { type_name, reason: e.to_string() })
}

/// Encodes `T`.
pub fn encode<T: borsh::BorshSerialize>(type_name: &'static str, value: &T) -> Result<Vec<u8>, CodecError> {
    borsh::to_vec(value).map_err(|e| CodecError { type_name, reason: e.to_string() })
}

macro_rules! borsh_codec {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl Codec<$ty> for WireCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$ty, CodecError> {
                decode_exact($name, &bytes)
            }

            fn encode(&self, msg: &$ty) -> Result<Bytes, CodecError> {
                encode($name, msg).map(Bytes::from)
            }
        }
    )*};
}

borsh_codec! {
    ProposalPart => "ProposalPart",
    SignedConsensusMsg<TandemContext> => "SignedConsensusMsg",
    LivenessMsg<TandemContext> => "LivenessMsg",
    StreamMessage<ProposalPart> => "StreamMessage",
    ProposedValue<TandemContext> => "ProposedValue",
    PolkaCertificate<TandemContext> => "PolkaCertificate",
    CommitCertificate<TandemContext> => "CommitCertificate",
    Status<TandemContext> => "sync::Status",
    Request<TandemContext> => "sync::Request",
}

/// Borsh mirror of one commit signature of an [`ExtendedCommitCertificate`] (the engine's
/// type has no borsh encoding of its own).
#[derive(BorshSerialize, BorshDeserialize)]
struct WireCommitSignature {
    address: Address,
    signature: Signature,
    extension: Option<SignedExtension<TandemContext>>,
}

/// Borsh mirror of an [`ExtendedCommitCertificate`].
#[derive(BorshSerialize, BorshDeserialize)]
struct WireCertificate {
    height: Height,
    round: Round,
    value_id: BlockId,
    signatures: Vec<WireCommitSignature>,
}

impl From<&ExtendedCommitCertificate<TandemContext>> for WireCertificate {
    fn from(c: &ExtendedCommitCertificate<TandemContext>) -> Self {
        Self {
            height: c.height,
            round: c.round,
            value_id: c.value_id,
            signatures: c
                .commit_signatures
                .iter()
                .map(|s| WireCommitSignature { address: s.address, signature: s.signature, extension: s.extension.clone() })
                .collect(),
        }
    }
}

impl From<WireCertificate> for ExtendedCommitCertificate<TandemContext> {
    fn from(c: WireCertificate) -> Self {
        Self {
            height: c.height,
            round: c.round,
            value_id: c.value_id,
            commit_signatures: c
                .signatures
                .into_iter()
                .map(|s| ExtendedCommitSignature::new(s.address, s.signature, s.extension))
                .collect(),
        }
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireDecidedValue {
    value_bytes: Vec<u8>,
    certificate: WireCertificate,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireValueResponse {
    start_height: Height,
    values: Vec<WireDecidedValue>,
}

/// Encodes a commit certificate (what a node stores beside each decided block).
pub fn encode_certificate(certificate: &ExtendedCommitCertificate<TandemContext>) -> Result<Vec<u8>, CodecError> {
    encode("CommitCertificate", &WireCertificate::from(certificate))
}

/// Decodes a commit certificate stored by [`encode_certificate`].
pub fn decode_certificate(bytes: &[u8]) -> Result<ExtendedCommitCertificate<TandemContext>, CodecError> {
    decode_exact::<WireCertificate>("CommitCertificate", bytes).map(Into::into)
}

fn wire_response(msg: &Response<TandemContext>) -> WireValueResponse {
    let Response::ValueResponse(r) = msg;
    WireValueResponse {
        start_height: r.start_height,
        values: r
            .values
            .iter()
            .map(|v| WireDecidedValue { value_bytes: v.value_bytes.to_vec(), certificate: (&v.certificate).into() })
            .collect(),
    }
}

impl Codec<Response<TandemContext>> for WireCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Response<TandemContext>, CodecError> {
        let r: WireValueResponse = decode_exact("sync::Response", &bytes)?;
        Ok(Response::ValueResponse(ValueResponse::new(
            r.start_height,
            r.values.into_iter().map(|v| RawDecidedValue::new(v.value_bytes.into(), v.certificate.into())).collect(),
        )))
    }

    fn encode(&self, msg: &Response<TandemContext>) -> Result<Bytes, CodecError> {
        encode("sync::Response", &wire_response(msg)).map(Bytes::from)
    }
}

impl HasEncodedLen<Response<TandemContext>> for WireCodec {
    fn encoded_len(&self, msg: &Response<TandemContext>) -> Result<usize, CodecError> {
        borsh::object_length(&wire_response(msg)).map_err(|e| CodecError { type_name: "sync::Response", reason: e.to_string() })
    }
}

/// Validator proof layout: public key (20) | signature (65) | peer id length (1, 1..=64) |
/// peer id. Exactly that many bytes.
impl Codec<ValidatorProof<TandemContext>> for WireCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<TandemContext>, CodecError> {
        let err = |reason: String| CodecError { type_name: "ValidatorProof", reason };
        let Some(&len) = bytes.get(85) else { return Err(err(format!("{} bytes is shorter than the 86-byte header", bytes.len()))) };
        let len = usize::from(len);
        if len == 0 || len > 64 {
            return Err(err(format!("peer id length {len} outside 1..=64")));
        }
        if bytes.len() != 86 + len {
            return Err(err(format!("{} bytes, expected {}", bytes.len(), 86 + len)));
        }
        let public_key = Secp256k1::decode_public_key(&bytes[..20]).map_err(|e| err(e.to_string()))?;
        let signature = Secp256k1::decode_signature(&bytes[20..85]).map_err(|e| err(e.to_string()))?;
        Ok(ValidatorProof::new(public_key.0.to_vec(), bytes[86..].to_vec(), signature))
    }

    fn encode(&self, proof: &ValidatorProof<TandemContext>) -> Result<Bytes, CodecError> {
        let err = |reason: String| CodecError { type_name: "ValidatorProof", reason };
        if proof.public_key.len() != 20 {
            return Err(err(format!("public key of {} bytes", proof.public_key.len())));
        }
        if proof.peer_id.is_empty() || proof.peer_id.len() > 64 {
            return Err(err(format!("peer id of {} bytes", proof.peer_id.len())));
        }
        let mut out = Vec::with_capacity(86 + proof.peer_id.len());
        out.extend_from_slice(&proof.public_key);
        out.extend_from_slice(&proof.signature.0);
        out.push(proof.peer_id.len() as u8);
        out.extend_from_slice(&proof.peer_id);
        Ok(out.into())
    }
}
