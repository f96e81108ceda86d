// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";

/// @notice Consensus double-vote evidence (`reportDoubleVote`) and the vote digest.
contract DoubleVoteTest is StakingFixture {
    address internal constant REPORTER = address(0x4E9);
    uint8 internal constant PREVOTE = 0;
    uint8 internal constant PRECOMMIT = 1;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public override {
        super.setUp();
        doStake(1, 1000 ether);
        doStake(2, 1000 ether);
        doStake(3, 1000 ether);
        doStake(4, 150 ether);
        nextEpoch();
    }

    function vote(uint256 i, uint64 height, uint32 round, uint8 voteType, bytes32 valueId)
        internal
        view
        returns (bytes memory)
    {
        return signDigest(keyOf(i), staking.voteDigest(height, round, voteType, valueId));
    }

    function test_voteDigest_matchesOffChainVector() public {
        assertEq(block.chainid, 31337, "forge default chain id");
        SequencerStaking s = new SequencerStaking(address(0xaa), params(5, 8));
        assertEq(s.VOTE_DOMAIN_TAG(), keccak256("tandem.vote.v1"), "tag");
        assertEq(s.VOTE_DOMAIN_TAG(), 0xffbc25c58cf4bae3b7ce8b7aec2172a71a59fe9547c4d541f433da43725e4757, "tag value");
        bytes32 valueId = keccak256("tandem.value");
        bytes32 digest = s.voteDigest(7, 2, PRECOMMIT, valueId);
        // `cast keccak $(cast abi-encode "f(bytes32,uint256,address,uint64,uint32,uint8,bytes32)" <tag> 31337 0x…aa 7 2 1 <valueId>)`
        assertEq(digest, 0x49149354867eb55afd4df45362d58c97055d42e4a0a63f674b6361c3874c3818, "digest vector");
        assertEq(
            digest,
            keccak256(
                abi.encode(
                    keccak256("tandem.vote.v1"), uint256(31337), address(0xaa), uint64(7), uint32(2), uint8(1), valueId
                )
            ),
            "digest definition"
        );
        assertEq(
            s.voteDigest(7, 2, PREVOTE, bytes32(0)),
            0x92a362801588f9941bada588ba52224899dc61911890ec89942f45228d6629c4,
            "nil prevote vector"
        );
        // `cast wallet sign --no-hash --private-key 0x..01 <digest>`: r | s | v with v = 27/28.
        bytes memory castSig =
            hex"ad0a61fbe7550dbbce2074a91789a856861e503889d2d5a903f1abd34eb6d18464315518af8c28f95c4ab7edd9fe80f25382c1dafc86d0f1fc3ad19ad583edc11b";
        assertEq(signDigest(1, digest), castSig, "same RFC 6979 signature");
    }

    function test_doubleVote_slashesFractionAndPaysReporterItsShare() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(1, 12, 0, PRECOMMIT, a);
        bytes memory sb = vote(1, 12, 0, PRECOMMIT, b);
        vm.expectEmit(address(staking));
        emit SequencerStaking.Slashed(stakerAddr(1), 100 ether, REPORTER, 50 ether);
        vm.expectEmit(address(staking));
        emit SequencerStaking.DoubleVoteSlashed(stakerAddr(1), 12, 0, PRECOMMIT, a, b, REPORTER);
        vm.prank(REPORTER);
        uint256 slashed = staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, sb);
        assertEq(slashed, 100 ether, "slashBps of 1000");
        uint256 toReporter = slashed * REPORTER_BPS / 10_000;
        assertEq(stakeToken.balanceOf(REPORTER), toReporter, "reporter gets exactly reporterBps");
        assertEq(stakeToken.balanceOf(TREASURY), slashed - toReporter, "treasury gets the rest");
        (, uint256 active,,, bool registered,) = staking.stakerInfo(stakerAddr(1));
        assertEq(active, 900 ether, "stake after slash");
        assertTrue(registered, "still above minimum");
        assertEq(staking.totalStaked(), 3050 ether, "total staked");
        (,,, uint256 total1) = staking.activeSet(1);
        assertEq(total1, 3150 ether, "current epoch's set unchanged");
    }

    function test_doubleVote_nilAgainstAValueIsEquivocation() public {
        bytes32 a = keccak256("block A");
        bytes memory sNil = vote(2, 3, 1, PREVOTE, bytes32(0));
        bytes memory sa = vote(2, 3, 1, PREVOTE, a);
        uint256 slashed = staking.reportDoubleVote(3, 1, PREVOTE, bytes32(0), sNil, a, sa);
        assertEq(slashed, 100 ether, "nil vs value slashes");
    }

    function test_doubleVote_sameValueReverts() public {
        bytes32 a = keccak256("block A");
        bytes memory sa = vote(1, 12, 0, PRECOMMIT, a);
        vm.expectRevert(SequencerStaking.SameValue.selector);
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, a, sa);
    }

    function test_doubleVote_voteTypeAboveOneReverts() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(1, 12, 0, 2, a);
        bytes memory sb = vote(1, 12, 0, 2, b);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.InvalidVoteType.selector, 2));
        staking.reportDoubleVote(12, 0, 2, a, sa, b, sb);
    }

    function test_doubleVote_malformedSignaturesRevertWithTheirIndex() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(1, 12, 0, PRECOMMIT, a);
        bytes memory sb = vote(1, 12, 0, PRECOMMIT, b);
        // Wrong length.
        bytes memory short = new bytes(64);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.InvalidSignature.selector, 0));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, short, b, sb);
        // The malleated twin (s' = n - s, v flipped) recovers to the same key but has a high s.
        bytes memory high = malleate(sb);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.InvalidSignature.selector, 1));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, high);
        // v outside {27, 28}.
        bytes memory badV = bytes.concat(sb);
        badV[64] = bytes1(uint8(29));
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.InvalidSignature.selector, 1));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, badV);
    }

    function malleate(bytes memory sig) internal pure returns (bytes memory out) {
        bytes32 r;
        bytes32 s;
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
        }
        uint8 v = uint8(sig[64]) == 27 ? 28 : 27;
        out = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v);
    }

    function test_doubleVote_differentSignersRevert() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory s1 = vote(1, 12, 0, PRECOMMIT, a);
        bytes memory s2 = vote(2, 12, 0, PRECOMMIT, b);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.SignerMismatch.selector, signerAddr(1), signerAddr(2)));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, s1, b, s2);
    }

    function test_doubleVote_votesOfDifferentRoundsOrTypesAreNoEvidence() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory s1 = vote(1, 12, 0, PRECOMMIT, a);
        // Round 1 instead of 0: checked as round 0, it recovers to some other address.
        bytes memory s2 = vote(1, 12, 1, PRECOMMIT, b);
        expectSelector(12, 0, PRECOMMIT, a, s1, b, s2, SequencerStaking.SignerMismatch.selector);
        // A prevote against a precommit.
        s2 = vote(1, 12, 0, PREVOTE, b);
        expectSelector(12, 0, PRECOMMIT, a, s1, b, s2, SequencerStaking.SignerMismatch.selector);
        // Another height.
        s2 = vote(1, 13, 0, PRECOMMIT, b);
        expectSelector(12, 0, PRECOMMIT, a, s1, b, s2, SequencerStaking.SignerMismatch.selector);
    }

    function expectSelector(
        uint64 height,
        uint32 round,
        uint8 voteType,
        bytes32 a,
        bytes memory sa,
        bytes32 b,
        bytes memory sb,
        bytes4 selector
    ) internal {
        try staking.reportDoubleVote(height, round, voteType, a, sa, b, sb) {
            revert AssertionFailed("accepted");
        } catch (bytes memory err) {
            assertTrue(err.length >= 4 && bytes4(err) == selector, "unexpected revert reason");
        }
    }

    function test_doubleVote_unknownKeyReverts() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(9, 12, 0, PRECOMMIT, a);
        bytes memory sb = vote(9, 12, 0, PRECOMMIT, b);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.UnknownSigningKey.selector, signerAddr(9)));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, sb);
    }

    function test_doubleVote_evidenceCannotBeReplayedForTheSameHeight() public {
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(1, 12, 0, PRECOMMIT, a);
        bytes memory sb = vote(1, 12, 0, PRECOMMIT, b);
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, sb);
        bytes memory used =
            abi.encodeWithSelector(SequencerStaking.VoteEvidenceAlreadyUsed.selector, stakerAddr(1), uint64(12));
        vm.expectRevert(used);
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, sb);
        vm.expectRevert(used);
        staking.reportDoubleVote(12, 0, PRECOMMIT, b, sb, a, sa);
        // Nor another round or vote type at the same height.
        sa = vote(1, 12, 3, PRECOMMIT, a);
        sb = vote(1, 12, 3, PRECOMMIT, b);
        vm.expectRevert(used);
        staking.reportDoubleVote(12, 3, PRECOMMIT, a, sa, b, sb);
        sa = vote(1, 12, 0, PREVOTE, a);
        sb = vote(1, 12, 0, PREVOTE, b);
        vm.expectRevert(used);
        staking.reportDoubleVote(12, 0, PREVOTE, a, sa, b, sb);
        // Another height is another offence.
        sa = vote(1, 13, 0, PRECOMMIT, a);
        sb = vote(1, 13, 0, PRECOMMIT, b);
        assertEq(staking.reportDoubleVote(13, 0, PRECOMMIT, a, sa, b, sb), 90 ether, "10% of the remaining 900");
    }

    function test_doubleVote_evidenceIsCountedApartFromBatchDoubleSign() public {
        // Batch 12 double sign, then consensus height 12 double vote: two offences.
        bytes32 ha = keccak256("header A");
        bytes32 hb = keccak256("header B");
        staking.reportDoubleSign(0, 
            12,
            ha,
            signDigest(keyOf(1), staking.batchDigest(0, 12, ha)),
            hb,
            signDigest(keyOf(1), staking.batchDigest(0, 12, hb))
        );
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        uint256 slashed = staking.reportDoubleVote(
            12, 0, PRECOMMIT, a, vote(1, 12, 0, PRECOMMIT, a), b, vote(1, 12, 0, PRECOMMIT, b)
        );
        assertEq(slashed, 90 ether, "second offence slashes the remaining 900");
        assertTrue(staking.evidenceUsed(keccak256(abi.encode(stakerAddr(1), uint64(12)))), "batch evidence id");
        assertTrue(
            staking.evidenceUsed(keccak256(abi.encode(staking.VOTE_DOMAIN_TAG(), stakerAddr(1), uint64(12)))),
            "vote evidence id"
        );
    }

    function test_doubleVote_stakerWithNothingBondedReverts() public {
        doUnstake(4, 150 ether);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(stakerAddr(4));
        staking.withdraw();
        bytes32 a = keccak256("block A");
        bytes32 b = keccak256("block B");
        bytes memory sa = vote(4, 12, 0, PRECOMMIT, a);
        bytes memory sb = vote(4, 12, 0, PRECOMMIT, b);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NothingToSlash.selector, stakerAddr(4)));
        staking.reportDoubleVote(12, 0, PRECOMMIT, a, sa, b, sb);
    }
}
