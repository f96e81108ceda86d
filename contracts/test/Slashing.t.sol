// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";

/// @dev Exposes the fraud-proof hook so it can be pinned before the fraud-proof verifier exists.
contract StakedRollupHarness is StakedRollup {
    constructor(address o, SequencerStaking s, bytes32 g, uint64 w, address x)
        StakedRollup(o, s, g, w, address(0), 0, 1 hours + w + 1 days, address(0), x, 1 hours, address(0), address(0))
    {}

    function slashBatchSigners(uint64 batchNumber, address challenger) external returns (uint256) {
        return _slashBatchSigners(batchNumber, challenger);
    }
}

/// @notice Double-sign slashing (evidence from anyone) and the fraud-proof slashing hook.
contract SlashingTest is StakingFixture {
    address internal constant REPORTER = address(0x4E9);

    function setUp() public override {
        super.setUp();
        doStake(1, 1000 ether);
        doStake(2, 1000 ether);
        doStake(3, 1000 ether);
        doStake(4, 150 ether);
        nextEpoch();
    }

    function doubleSign(uint256 i, uint64 batchNumber)
        internal
        view
        returns (bytes32 a, bytes memory sigA, bytes32 b, bytes memory sigB)
    {
        a = keccak256(abi.encode("header A", batchNumber));
        b = keccak256(abi.encode("header B", batchNumber));
        sigA = signDigest(keyOf(i), staking.batchDigest(0, batchNumber, a));
        sigB = signDigest(keyOf(i), staking.batchDigest(0, batchNumber, b));
    }

    function test_doubleSign_slashesFractionAndPaysReporter() public {
        (bytes32 a, bytes memory sa, bytes32 b, bytes memory sb) = doubleSign(1, 7);
        vm.expectEmit(address(staking));
        emit SequencerStaking.Slashed(stakerAddr(1), 100 ether, REPORTER, 50 ether);
        vm.prank(REPORTER);
        uint256 slashed = staking.reportDoubleSign(0, 7, a, sa, b, sb);
        assertEq(slashed, 100 ether, "10% of 1000");
        assertEq(stakeToken.balanceOf(REPORTER), 50 ether, "reporter half");
        assertEq(stakeToken.balanceOf(TREASURY), 50 ether, "treasury half");
        (, uint256 active,,, bool registered,) = staking.stakerInfo(stakerAddr(1));
        assertEq(active, 900 ether, "stake after slash");
        assertTrue(registered, "still above minimum");
        assertEq(staking.totalStaked(), 3050 ether, "total staked");
        // The current epoch's set is frozen; the next one sees the lower stake.
        (,,, uint256 total1) = staking.activeSet(1);
        assertEq(total1, 3150 ether, "epoch 1 unchanged");
        nextEpoch();
        (,, uint256[] memory stakes, uint256 total2) = staking.activeSet(2);
        assertEq(total2, 3050 ether, "epoch 2 total");
        assertEq(stakes[2], 900 ether, "slashed member ranks last of the three");
    }

    function test_doubleSign_evidenceCannotBeReplayed() public {
        (bytes32 a, bytes memory sa, bytes32 b, bytes memory sb) = doubleSign(1, 7);
        vm.prank(REPORTER);
        staking.reportDoubleSign(0, 7, a, sa, b, sb);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EvidenceAlreadyUsed.selector, stakerAddr(1), 7));
        vm.prank(REPORTER);
        staking.reportDoubleSign(0, 7, a, sa, b, sb);
        // Nor with the pair swapped, nor with a third header for the same batch.
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EvidenceAlreadyUsed.selector, stakerAddr(1), 7));
        staking.reportDoubleSign(0, 7, b, sb, a, sa);
        bytes32 c = keccak256("header C");
        bytes memory sc = signDigest(keyOf(1), staking.batchDigest(0, 7, c));
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EvidenceAlreadyUsed.selector, stakerAddr(1), 7));
        staking.reportDoubleSign(0, 7, a, sa, c, sc);
        // Another batch number is another offence.
        (a, sa, b, sb) = doubleSign(1, 8);
        staking.reportDoubleSign(0, 8, a, sa, b, sb);
    }

    function test_doubleSign_twoSignaturesOfTheSameDigestRevert() public {
        bytes32 a = keccak256("header A");
        bytes memory s1 = signDigest(keyOf(1), staking.batchDigest(0, 7, a));
        vm.expectRevert(SequencerStaking.SameHeader.selector);
        staking.reportDoubleSign(0, 7, a, s1, a, s1);
    }

    function test_doubleSign_differentSignersRevert() public {
        bytes32 a = keccak256("header A");
        bytes32 b = keccak256("header B");
        bytes memory s1 = signDigest(keyOf(1), staking.batchDigest(0, 7, a));
        bytes memory s2 = signDigest(keyOf(2), staking.batchDigest(0, 7, b));
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.SignerMismatch.selector, signerAddr(1), signerAddr(2)));
        staking.reportDoubleSign(0, 7, a, s1, b, s2);
    }

    function test_doubleSign_signaturesOverDifferentBatchNumbersAreNoEvidence() public {
        bytes32 a = keccak256("header A");
        bytes32 b = keccak256("header B");
        bytes memory s1 = signDigest(keyOf(1), staking.batchDigest(0, 7, a));
        bytes memory s2 = signDigest(keyOf(1), staking.batchDigest(0, 8, b));
        // Checked as batch 7, s2 recovers to some other address.
        try staking.reportDoubleSign(0, 7, a, s1, b, s2) {
            revert AssertionFailed("accepted");
        } catch (bytes memory err) {
            assertTrue(bytes4(err) == SequencerStaking.SignerMismatch.selector, "signer mismatch");
        }
    }

    /// @dev After a revert, an honest member signs the replacement batch under the new
    ///      revert count: its two signatures for one number are no double sign, under either
    ///      count; and the old signature does not verify under the new count (no replay).
    function test_doubleSign_reSigningAfterARevertIsNoEvidence() public {
        bytes32 reverted = keccak256("reverted header");
        bytes32 replacement = keccak256("replacement header");
        bytes memory before = signDigest(keyOf(1), staking.batchDigest(0, 7, reverted));
        bytes memory afterRevert = signDigest(keyOf(1), staking.batchDigest(1, 7, replacement));
        for (uint64 count; count < 2; ++count) {
            try staking.reportDoubleSign(count, 7, reverted, before, replacement, afterRevert) {
                revert AssertionFailed("accepted");
            } catch (bytes memory err) {
                assertTrue(bytes4(err) == SequencerStaking.SignerMismatch.selector, "signer mismatch");
            }
        }
        assertTrue(staking.batchDigest(0, 7, reverted) != staking.batchDigest(1, 7, reverted), "count bound");
    }

    function test_doubleSign_unknownKeyReverts() public {
        (bytes32 a, bytes memory sa, bytes32 b, bytes memory sb) = doubleSign(9, 7);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.UnknownSigningKey.selector, signerAddr(9)));
        staking.reportDoubleSign(0, 7, a, sa, b, sb);
    }

    function test_doubleSign_belowMinimumRemovesMemberFromFutureEpochs() public {
        // Member 4 has 150: four offences at 10% each take it below the minimum of 100.
        (bytes32 a, bytes memory sa, bytes32 b, bytes memory sb) = doubleSign(4, 3);
        staking.reportDoubleSign(0, 3, a, sa, b, sb);
        (, uint256 active,,, bool registered,) = staking.stakerInfo(stakerAddr(4));
        assertEq(active, 135 ether, "135 left, above 100");
        assertTrue(registered, "still registered");
        (a, sa, b, sb) = doubleSign(4, 4);
        staking.reportDoubleSign(0, 4, a, sa, b, sb);
        (a, sa, b, sb) = doubleSign(4, 5);
        staking.reportDoubleSign(0, 5, a, sa, b, sb);
        (a, sa, b, sb) = doubleSign(4, 6);
        staking.reportDoubleSign(0, 6, a, sa, b, sb); // 150 * 0.9^4 = 98.415 < 100
        uint256 unbonding;
        (, active, unbonding,, registered,) = staking.stakerInfo(stakerAddr(4));
        assertEq(active, 0, "no active stake");
        assertEq(unbonding, 98.415 ether, "remainder unbonds");
        assertFalse(registered, "removed");
        assertTrue(isActive(1, stakerAddr(4)), "epoch 1 frozen");
        nextEpoch();
        assertFalse(isActive(2, stakerAddr(4)), "gone from epoch 2");
        // Unbonding stake stays slashable until withdrawn.
        (a, sa, b, sb) = doubleSign(4, 9);
        uint256 slashed = staking.reportDoubleSign(0, 9, a, sa, b, sb);
        assertEq(slashed, 9.8415 ether, "10% of the unbonding balance");
    }

    /// @dev Fresh staking + harness rollup with members 1, 2, 3 (1000 each), in epoch 1.
    function deployHarness() internal returns (StakedRollupHarness harness) {
        vm.warp(T0);
        staking = new SequencerStaking(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1), params(5, 8));
        harness = new StakedRollupHarness(OWNER, staking, GENESIS_ROOT, WINDOW, exitVerifier);
        staked = harness;
        rollup = harness;
        doStake(1, 1000 ether);
        doStake(2, 1000 ether);
        doStake(3, 1000 ether);
        nextEpoch();
    }

    function test_fraudHook_slashesBatchSignersOnceAndPaysChallenger() public {
        StakedRollupHarness harness = deployHarness();
        commitSigned(opNoop(), ids(1, 2, 3));
        commitSigned(opNoop(), ids(1, 2, 3));

        address challenger = address(0xC4A1);
        uint256 slashed = harness.slashBatchSigners(2, challenger);
        assertEq(slashed, 3000 ether, "the whole stake of each of three signers");
        assertEq(stakeToken.balanceOf(challenger), 1500 ether, "challenger share");
        assertEq(stakeToken.balanceOf(TREASURY), 1500 ether, "treasury share");
        assertEq(staking.registeredCount(), 0, "every signer left the registry at once");
        (, uint256 bitmap) = harness.batchSigners(2);
        assertEq(bitmap, 0, "record cleared");
        vm.expectRevert(abi.encodeWithSelector(StakedRollup.NoSignersToSlash.selector, 2));
        harness.slashBatchSigners(2, challenger);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 3));
        harness.slashBatchSigners(3, challenger);
    }

    function test_fraudHook_slashedSignersCountForNothingForTheRestOfTheEpoch() public {
        StakedRollupHarness harness = deployHarness();
        doStake(4, 1000 ether);
        nextEpoch();
        commitSigned(opNoop(), ids(1, 2, 3));
        harness.slashBatchSigners(1, address(0xC4A1));

        // Still in this epoch's set, but their signatures add nothing: 1000 of 4000 signed.
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(h));
        expectSignedRevert(
            h,
            opNoop(),
            sigs,
            abi.encodeWithSelector(SequencerStaking.InsufficientSignedStake.selector, 1000 ether, 4000 ether)
        );

        // The next epoch's set is member 4 alone, which commits.
        nextEpoch();
        commitSigned(opNoop(), ids(4));
        assertEq(rollup.lastCommittedBatch(), 2, "member 4 alone commits");
    }

    function test_fraudHook_cannotSlashFinalBatches() public {
        StakedRollupHarness harness = deployHarness();
        (TandemRollup.StoredBatch memory sb,) = commitSigned(opNoop(), ids(1, 2, 3));
        finalizeAfterWindow(sb);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 1));
        harness.slashBatchSigners(1, address(this));
    }

    function test_slashSigners_onlyCallableByTheRollup() public {
        commitSigned(opNoop(), ids(1, 2, 3));
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NotRollup.selector, address(this)));
        staking.slashSigners(1, 7, address(this));
    }
}
