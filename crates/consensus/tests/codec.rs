//! The consensus wire codec: every message type round-trips, trailing or truncated bytes are
//! refused with the type's name, and no input makes a decoder panic (fuzzed).

use alloy::primitives::{keccak256, Address as EthAddress};
use alloy::signers::local::PrivateKeySigner;
use bytes::Bytes;
use malachitebft_codec::Codec;
use malachitebft_core_consensus::{LivenessMsg, SignedConsensusMsg};
use malachitebft_core_types::{CommitSignature, ExtendedCommitCertificate, NilOrVal, Round, SignedMessage, ValidatorProof, VoteType};
use malachitebft_engine::util::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueRequest, ValueResponse};
use proptest::prelude::*;
use tandem_consensus::codec::{decode_certificate, encode_certificate, WireCodec};
use tandem_consensus::signing::sign_digest;
use tandem_consensus::types::{Proposal, ProposalPart, Vote};
use tandem_consensus::{Address, BlockId, Height};

fn vote() -> Vote {
    Vote {
        vote_type: VoteType::Precommit,
        height: Height(9),
        round: Round::new(2),
        value: NilOrVal::Val(BlockId::of(b"b")),
        validator: Address(EthAddress::repeat_byte(3)),
        extension: None,
    }
}

fn signature() -> tandem_consensus::Signature {
    sign_digest(&PrivateKeySigner::from_bytes(&keccak256("k")).expect("key"), keccak256("m"))
}

fn part() -> ProposalPart {
    ProposalPart {
        height: Height(4),
        round: Round::new(0),
        pol_round: Round::Nil,
        proposer: Address(EthAddress::repeat_byte(1)),
        payload: b"payload".to_vec(),
        signature: signature(),
    }
}

fn certificate() -> ExtendedCommitCertificate<tandem_consensus::TandemContext> {
    let cert = malachitebft_core_types::CommitCertificate {
        height: Height(4),
        round: Round::new(1),
        value_id: BlockId::of(b"v"),
        commit_signatures: vec![CommitSignature::new(Address(EthAddress::repeat_byte(2)), signature())],
    };
    ExtendedCommitCertificate::from_commit_certificate_and_extensions(cert, Default::default())
}

fn round_trip<T: Clone + PartialEq + std::fmt::Debug>(value: T)
where
    WireCodec: Codec<T>,
{
    let bytes = WireCodec.encode(&value).expect("encodes");
    assert_eq!(WireCodec.decode(bytes.clone()).expect("decodes"), value);
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(WireCodec.decode(Bytes::from(longer)).is_err(), "trailing byte accepted");
    if !bytes.is_empty() {
        let err = WireCodec.decode(bytes.slice(..bytes.len() - 1));
        assert!(err.is_err(), "truncated input accepted");
    }
}

#[test]
fn every_wire_type_round_trips_and_refuses_trailing_and_truncated_bytes() {
    round_trip(SignedConsensusMsg::Vote(SignedMessage::new(vote(), signature())));
    round_trip(SignedConsensusMsg::Proposal(SignedMessage::new(
        Proposal {
            height: Height(1),
            round: Round::new(0),
            value: BlockId::of(b"x"),
            pol_round: Round::Nil,
            proposer: Address(EthAddress::ZERO),
        },
        signature(),
    )));
    round_trip(LivenessMsg::Vote(SignedMessage::new(vote(), signature())));
    round_trip(part());
    round_trip(StreamMessage::new(StreamId::new(Bytes::from_static(b"id")), 0, StreamContent::Data(part())));
    round_trip(StreamMessage::<ProposalPart>::new(StreamId::new(Bytes::from_static(b"id")), 1, StreamContent::Fin));
    round_trip(Request::<tandem_consensus::TandemContext>::ValueRequest(ValueRequest::new(Height(3)..=Height(5))));
    round_trip(Response::<tandem_consensus::TandemContext>::ValueResponse(ValueResponse::new(
        Height(4),
        vec![RawDecidedValue::new(Bytes::from_static(b"payload"), certificate())],
    )));
    round_trip(ValidatorProof::<tandem_consensus::TandemContext>::new(vec![7u8; 20], vec![9u8; 38], signature()));
    let stored = encode_certificate(&certificate()).expect("encodes");
    assert_eq!(decode_certificate(&stored).expect("decodes"), certificate());
}

#[test]
fn errors_name_the_type() {
    let err = Codec::<ProposalPart>::decode(&WireCodec, Bytes::from_static(b"\x01")).expect_err("refused");
    assert!(err.to_string().starts_with("ProposalPart:"), "{err}");
    let err =
        Codec::<ValidatorProof<tandem_consensus::TandemContext>>::decode(&WireCodec, Bytes::from_static(b"short")).expect_err("refused");
    assert!(err.to_string().starts_with("ValidatorProof:"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let b = Bytes::from(bytes.clone());
        let _ = Codec::<SignedConsensusMsg<tandem_consensus::TandemContext>>::decode(&WireCodec, b.clone());
        let _ = Codec::<LivenessMsg<tandem_consensus::TandemContext>>::decode(&WireCodec, b.clone());
        let _ = Codec::<ProposalPart>::decode(&WireCodec, b.clone());
        let _ = Codec::<StreamMessage<ProposalPart>>::decode(&WireCodec, b.clone());
        let _ = Codec::<Status<tandem_consensus::TandemContext>>::decode(&WireCodec, b.clone());
        let _ = Codec::<Request<tandem_consensus::TandemContext>>::decode(&WireCodec, b.clone());
        let _ = Codec::<Response<tandem_consensus::TandemContext>>::decode(&WireCodec, b.clone());
        let _ = Codec::<ValidatorProof<tandem_consensus::TandemContext>>::decode(&WireCodec, b);
        let _ = decode_certificate(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_messages(index in 0usize..400, byte in any::<u8>()) {
        let message = WireCodec.encode(&Response::<tandem_consensus::TandemContext>::ValueResponse(ValueResponse::new(
            Height(4),
            vec![RawDecidedValue::new(Bytes::from_static(b"payload"), certificate())],
        ))).expect("encodes");
        let mut m = message.to_vec();
        let i = index % m.len();
        m[i] = byte;
        let _ = Codec::<Response<tandem_consensus::TandemContext>>::decode(&WireCodec, Bytes::from(m));
        let mut p = WireCodec.encode(&part()).expect("encodes").to_vec();
        let j = index % p.len();
        p[j] = byte;
        let _ = Codec::<ProposalPart>::decode(&WireCodec, Bytes::from(p));
    }
}
