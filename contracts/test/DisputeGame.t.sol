// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TandemRollup} from "../src/TandemRollup.sol";
import {DisputeGame} from "../src/DisputeGame.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {ZkProofFixture} from "./ZkProof.t.sol";
import {console} from "./utils/Vm.sol";

/// @notice The dispute game (SPEC §16) on a rollup with the generated S2_D4 verifier and the
///         circuit's real proof fixtures (no mock verifier). The fixture's batch (one deposit
///         plus ops, at most S = 2, so one chunk) committed in the optimistic lane is the
///         batch under dispute: its real proofs answer a challenge of chunk 0.
contract DisputeGameTest is ZkProofFixture {
    uint256 internal constant BOND = 0.1 ether;
    uint64 internal constant RESPONSE = 1 hours;
    uint64 internal constant ZK_DEADLINE = 2 hours;
    uint256 internal constant SEQ_BOND = 5 ether;
    address internal constant GRIEFER = address(0x6E1F);

    DisputeGame internal game;
    TandemRollup.StoredBatch internal genesis;
    TandemRollup.BatchHeader internal hdr;

    function setUp() public override {
        super.setUp();
        uint64 nonce = vm.getNonce(address(this));
        address predicted = vm.computeCreateAddress(address(this), nonce + 1);
        game = new DisputeGame(predicted, BOND, RESPONSE, ZK_DEADLINE, SEQ_BOND);
        rollup = new TandemRollup(
            OWNER,
            SEQUENCER,
            fx.prevRoot,
            WINDOW,
            address(verifier),
            fx.slots,
            ADMIN_DELAY,
            address(0),
            exitVerifier,
            PRIORITY_DEADLINE,
            address(0),
            address(game)
        );
        assertEq(address(rollup), predicted, "predicted address");
        genesis = TandemRollup.StoredBatch(0, 0, uint64(block.timestamp), 0, 0, 0, fx.prevRoot, 0);
        depositFixture();
        vm.deal(GRIEFER, 10 ether);
        postBond(SEQUENCER, SEQ_BOND);
    }

    function postBond(address who, uint256 amount) internal {
        vm.deal(who, who.balance + amount);
        vm.prank(who);
        game.postSequencerBond{value: amount}();
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Commits the fixture's batch as the next batch, in `lane`.
    function commitFixtureIn(uint8 lane) internal returns (TandemRollup.StoredBatch memory sb) {
        TandemRollup.BatchHeader memory h = fixtureHeader();
        h.lane = lane;
        hdr = h;
        sb = commitWith(h, fx.publicData);
    }

    function challengeAs(address who, TandemRollup.StoredBatch memory sb, uint32 chunk) internal {
        vm.prank(who);
        game.challenge{value: BOND}(sb, hdr, chunk);
    }

    function boundary() internal view returns (DisputeGame.ChunkBoundary memory b) {
        b.startRoot = fx.prevRoot;
        b.endRoot = fx.newRoot;
    }

    function proveAs(address who, TandemRollup.StoredBatch memory sb, uint256[8] memory proof) internal {
        vm.prank(who);
        game.proveChunk{gas: 3_000_000}(sb, hdr, fx.publicData, 0, boundary(), proof);
    }

    /// @dev `count` noop batches after the fixture's.
    function commitNoops(uint256 count) internal returns (TandemRollup.StoredBatch memory last) {
        for (uint256 i; i < count; ++i) {
            last = commit(opNoop());
        }
    }

    // ------------------------------------------------------------------ deployment

    function test_deploy_gameMustBeBoundAndNeedsAVerifier() public {
        DisputeGame elsewhere = new DisputeGame(address(0xBEEF), BOND, RESPONSE, ZK_DEADLINE, SEQ_BOND);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.DisputeGameNotBound.selector, address(0xBEEF)));
        new TandemRollup(OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(elsewhere));
        vm.expectRevert(TandemRollup.DisputesNeedVerifier.selector);
        new TandemRollup(OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(elsewhere));
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.DisputeGameHasNoCode.selector, address(0xC0DE)));
        new TandemRollup(OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0xC0DE));
        vm.expectRevert(DisputeGame.ZeroBond.selector);
        new DisputeGame(address(rollup), 0, RESPONSE, ZK_DEADLINE, SEQ_BOND);
        vm.expectRevert(DisputeGame.ZeroWindow.selector);
        new DisputeGame(address(rollup), BOND, 0, ZK_DEADLINE, SEQ_BOND);
    }

    function test_deploy_aSingleSequencerMustBeBonded() public {
        uint64 nonce = vm.getNonce(address(this));
        DisputeGame unbonded =
            new DisputeGame(vm.computeCreateAddress(address(this), nonce + 1), BOND, RESPONSE, ZK_DEADLINE, 0);
        vm.expectRevert(TandemRollup.SequencerBondMisconfigured.selector);
        new TandemRollup(OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(unbonded));
        vm.expectRevert(DisputeGame.NoSequencerBonds.selector);
        unbonded.postSequencerBond{value: 1 ether}();
    }

    // ------------------------------------------------------------------ answered challenge

    function test_challenge_answeredInTime_paysTheProverAndTheBatchIsFinalAtOnce() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        assertTrue(game.hasOpenChallenge(rollup.batchRecordHash(1)), "open");
        assertEq(address(game).balance, SEQ_BOND + BOND, "the challenge bond locked next to the sequencer's");

        vm.warp(block.timestamp + RESPONSE); // the last second of the response window
        vm.expectEmit(address(game));
        emit DisputeGame.ChunkProven(1, 0, fx.prover, true);
        proveAs(fx.prover, sb, fx.proof);
        assertFalse(game.hasOpenChallenge(rollup.batchRecordHash(1)), "answered");
        assertEq(game.owed(fx.prover), BOND, "the griefer's bond goes to the prover");
        assertEq(game.owed(GRIEFER), 0, "the griefer gets nothing back");
        assertTrue(rollup.isProven(1), "every chunk proven: batch proven");

        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final before its window");
        assertLt(block.timestamp, uint256(sb.committedAt) + WINDOW, "window still open");

        uint256 before = fx.prover.balance;
        vm.prank(fx.prover);
        game.withdraw();
        assertEq(fx.prover.balance - before, BOND, "paid");
        vm.prank(fx.prover);
        vm.expectRevert(DisputeGame.NothingOwed.selector);
        game.withdraw();
    }

    function test_proveChunk_unchallenged_makesTheBatchFinalAtOnce() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        proveAs(fx.otherProver, sb, fx.otherProof);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final in the commit block");
        assertEq(game.owed(fx.otherProver), 0, "no challenge, no bond");
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BatchAlreadyFinalized.selector, 1));
        challengeAs(GRIEFER, sb, 0);
    }

    // ------------------------------------------------------------------ unanswered challenge

    function test_unanswered_revertsTheBatchAndEveryLaterOne_refundsTheChallenger() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        TandemRollup.StoredBatch memory later = commitNoops(3);
        assertEq(rollup.lastCommittedBatch(), 4, "four batches");
        assertEq(rollup.priorityHead(), 1, "deposit consumed");
        address challenger = address(0xC4A1);
        vm.deal(challenger, 1 ether);
        challengeAs(challenger, sb, 0);

        // No batch with an open challenge finalizes, even after its window.
        vm.warp(uint256(sb.committedAt) + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.ChallengeOpen.selector, 1));
        rollup.finalizeBatch(sb);

        vm.warp(block.timestamp + RESPONSE + 1);
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchesReverted(1, 4, 1);
        vm.prank(GRIEFER); // anyone may settle it
        game.revertUnanswered(sb, genesis, 0);
        assertEq(rollup.lastCommittedBatch(), 0, "back to genesis");
        assertEq(rollup.lastCommittedStateRoot(), fx.prevRoot, "genesis root");
        assertEq(rollup.priorityHead(), 0, "the deposit is pending again");
        assertEq(rollup.revertCount(), 1, "revert counted");
        uint256 reward = SEQ_BOND * game.SEQUENCER_BOND_REPORTER_BPS() / 10_000;
        assertEq(game.owed(challenger), BOND + reward, "bond back plus 30% of the sequencer's bond");
        assertEq(game.burnedSequencerBonds(), SEQ_BOND - reward, "the rest burned");
        (uint192 held,) = game.sequencerBonds(SEQUENCER);
        assertEq(held, 0, "the committer lost its whole bond");
        assertEq(address(game).balance, BOND + SEQ_BOND, "all ETH accounted for: owed plus burned");
        assertFalse(rollup.isProven(1), "nothing proven");

        // The reverted records are dead: nothing can be done with them any more.
        assertFalse(rollup.isProven(4), "dead record");
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BatchNotCommitted.selector, 4));
        challengeAs(GRIEFER, later, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BatchNotCommitted.selector, 1));
        game.revertUnanswered(sb, genesis, 0);

        // An unbonded sequencer commits nothing; bonded again, the chain resumes from genesis
        // with the same deposit.
        TandemRollup.BatchHeader memory h = fixtureHeader();
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondTooLow.selector, SEQUENCER, 0, SEQ_BOND));
        rollup.commitBatch(h, fx.publicData);
        postBond(SEQUENCER, SEQ_BOND);
        TandemRollup.StoredBatch memory again = commitFixtureIn(0);
        assertEq(again.batchNumber, 1, "number reused");
        assertFalse(game.hasOpenChallenge(rollup.batchRecordHash(1)), "a new record starts clean");
    }

    function test_reclaimBond_onlyOnceTheBatchIsReverted() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        TandemRollup.BatchHeader memory h2 = nextHeader(opNoop());
        TandemRollup.StoredBatch memory second = commitWith(h2, opNoop());
        vm.deal(address(0xA), 1 ether);
        challengeAs(address(0xA), sb, 0);
        vm.deal(address(0xB), 1 ether);
        vm.prank(address(0xB));
        game.challenge{value: BOND}(second, h2, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BatchStillLive.selector, 2));
        game.reclaimBond(second, 0);

        vm.warp(block.timestamp + RESPONSE + 1);
        game.revertUnanswered(sb, genesis, 0);
        game.reclaimBond(second, 0);
        assertEq(game.owed(address(0xB)), BOND, "later batch's challenger refunded");
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoUnansweredChallenge.selector, 2, 0));
        game.reclaimBond(second, 0);
    }

    // ------------------------------------------------------------------ sequencer bond

    function test_sequencerBond_leavingStopsCommitsAtOnceButStaysSlashable() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        vm.prank(SEQUENCER);
        game.requestSequencerBondWithdrawal();
        uint64 unlockAt = uint64(block.timestamp) + WINDOW + 2 * RESPONSE;
        (, uint64 recorded) = game.sequencerBonds(SEQUENCER);
        assertEq(recorded, unlockAt, "unlock after the window and two response windows");

        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondLeaving.selector, SEQUENCER, unlockAt));
        rollup.commitBatch(h, opNoop());
        vm.deal(SEQUENCER, 1 ether);
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondLeaving.selector, SEQUENCER, unlockAt));
        game.postSequencerBond{value: 1 ether}();

        // Challenged at the last second of its window, unanswered, reverted at the first
        // second it can be: the bond is still there to slash.
        vm.warp(uint256(sb.committedAt) + WINDOW - 1);
        challengeAs(GRIEFER, sb, 0);
        vm.warp(block.timestamp + RESPONSE + 1);
        assertLt(block.timestamp, unlockAt, "still locked at the revert");
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondLocked.selector, SEQUENCER, unlockAt));
        game.withdrawSequencerBond();
        vm.expectEmit(address(game));
        emit DisputeGame.SequencerBondSlashed(SEQUENCER, 1, GRIEFER, 1.5 ether, 3.5 ether);
        game.revertUnanswered(sb, genesis, 0);
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoSequencerBond.selector, SEQUENCER));
        game.withdrawSequencerBond();
    }

    function test_sequencerBond_withdrawnOnlyAfterItsUnlockAndOnce() public {
        commitFixtureIn(0);
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondNotLeaving.selector, SEQUENCER));
        game.withdrawSequencerBond();
        vm.prank(SEQUENCER);
        game.requestSequencerBondWithdrawal();
        vm.prank(SEQUENCER);
        vm.expectRevert(
            abi.encodeWithSelector(DisputeGame.SequencerBondLeaving.selector, SEQUENCER, block.timestamp + WINDOW + 2 * RESPONSE)
        );
        game.requestSequencerBondWithdrawal();

        vm.warp(block.timestamp + WINDOW + 2 * RESPONSE);
        uint256 before = SEQUENCER.balance;
        vm.prank(SEQUENCER);
        game.withdrawSequencerBond();
        assertEq(SEQUENCER.balance - before, SEQ_BOND, "whole bond back");
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoSequencerBond.selector, SEQUENCER));
        game.withdrawSequencerBond();
        vm.prank(GRIEFER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoSequencerBond.selector, GRIEFER));
        game.requestSequencerBondWithdrawal();
    }

    function test_sequencerBond_refusals() public {
        vm.expectRevert(DisputeGame.ZeroBond.selector);
        game.postSequencerBond();
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NotRollup.selector, address(this)));
        game.onSequencerChange(address(this));
        // Short of the bond: refused, whoever the shortfall.
        vm.prank(SEQUENCER);
        game.requestSequencerBondWithdrawal();
        vm.warp(block.timestamp + WINDOW + 2 * RESPONSE);
        vm.prank(SEQUENCER);
        game.withdrawSequencerBond();
        postBond(SEQUENCER, SEQ_BOND - 1);
        TandemRollup.BatchHeader memory h = fixtureHeader();
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerBondTooLow.selector, SEQUENCER, SEQ_BOND - 1, SEQ_BOND));
        rollup.commitBatch(h, fx.publicData);
        postBond(SEQUENCER, 1);
        commitFixtureIn(0);
        // A bond posted by someone else does not make it the sequencer.
        postBond(GRIEFER, SEQ_BOND);
        h = nextHeader(opNoop());
        vm.prank(GRIEFER);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotSequencer.selector, GRIEFER));
        rollup.commitBatch(h, opNoop());
    }

    /// @dev After a sequencer change a faulty batch costs the bond of the sequencer that
    ///      committed it, not the new one's.
    function test_sequencerChange_slashesTheCommitterOfRecord() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        address next = address(0x5E1);
        vm.prank(OWNER);
        rollup.proposeSequencer(next);
        vm.warp(block.timestamp + ADMIN_DELAY);
        rollup.executeSequencerChange();
        assertEq(game.previousSequencer(), SEQUENCER, "previous recorded");
        assertEq(game.sequencerSince(), block.timestamp, "change time recorded");
        postBond(next, SEQ_BOND);

        // The new sequencer commits from the next second on.
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        vm.prank(next);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.SequencerJustChanged.selector, block.timestamp));
        rollup.commitBatch(h, opNoop());
        vm.warp(block.timestamp + 1);
        vm.prank(next);
        rollup.commitBatch(h, opNoop());
        assertEq(game.committerAt(sb.committedAt), SEQUENCER, "batch 1: the old sequencer");
        assertEq(game.committerAt(uint64(block.timestamp)), next, "batch 2: the new one");

        game.revertUnanswered(sb, genesis, 0);
        (uint192 oldBond,) = game.sequencerBonds(SEQUENCER);
        (uint192 newBond,) = game.sequencerBonds(next);
        assertEq(oldBond, 0, "the committer of record is slashed");
        assertEq(newBond, SEQ_BOND, "the new sequencer keeps its bond");
    }

    // ------------------------------------------------------------------ refusals

    function test_challenge_refusedAtTheEndOfTheWindow() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        vm.warp(uint256(sb.committedAt) + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(DisputeGame.ChallengeWindowClosed.selector, 1, uint256(sb.committedAt) + WINDOW)
        );
        challengeAs(GRIEFER, sb, 0);
        rollup.finalizeBatch(sb); // and the batch finalizes normally
    }

    function test_challenge_secondOnTheSameChunkRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ChunkAlreadyChallenged.selector, 1, 0));
        challengeAs(GRIEFER, sb, 0);
    }

    function test_challenge_chunkOutOfRangeRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        assertEq(game.chunkCount(fx.opCount), 1, "one chunk");
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ChunkOutOfRange.selector, 1, 1));
        challengeAs(GRIEFER, sb, 1);
    }

    function test_challenge_wrongBondRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        vm.prank(GRIEFER);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.WrongBond.selector, BOND - 1, BOND));
        game.challenge{value: BOND - 1}(sb, hdr, 0);
    }

    function test_challenge_zkLaneBatchRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.WrongLane.selector, 1, 1));
        challengeAs(GRIEFER, sb, 0);
    }

    function test_challenge_forgedRecordOrHeaderRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        TandemRollup.StoredBatch memory forged = commitRecordCopy(sb);
        forged.newStateRoot = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.StoredBatchMismatch.selector, 1));
        challengeAs(GRIEFER, forged, 0);
        hdr.opCount = 5; // more chunks than the committed header has
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.StoredBatchMismatch.selector, 1));
        challengeAs(GRIEFER, sb, 0);
    }

    function test_proveChunk_badProofRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        uint256[8] memory bad = fx.proof;
        bad[7] = bad[7] ^ 1;
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.InvalidProof.selector, 1, 0, fx.prover));
        proveAs(fx.prover, sb, bad);
    }

    function test_proveChunk_proofBoundToAnotherAddressRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        // fx.proof is bound to fx.prover: copied by another address, it fails.
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.InvalidProof.selector, 1, 0, fx.otherProver));
        proveAs(fx.otherProver, sb, fx.proof);
    }

    function test_proveChunk_wrongBoundaryOrDataRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        DisputeGame.ChunkBoundary memory b = boundary();
        b.endRoot = bytes32(uint256(7));
        vm.prank(fx.prover);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BadBoundaryPath.selector, 1, 0));
        game.proveChunk(sb, hdr, fx.publicData, 0, b, fx.proof);
        bytes memory data = bytes.concat(fx.publicData, hex"00");
        vm.prank(fx.prover);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.PublicDataMismatch.selector, 1));
        game.proveChunk(sb, hdr, data, 0, boundary(), fx.proof);
    }

    function test_proveChunk_afterTheResponseDeadlineRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        challengeAs(GRIEFER, sb, 0);
        uint64 deadline = uint64(block.timestamp) + RESPONSE;
        vm.warp(uint256(deadline) + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ResponseTooLate.selector, 1, 0, deadline));
        proveAs(fx.prover, sb, fx.proof);
    }

    function test_proveChunk_twiceRefused() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        proveAs(fx.prover, sb, fx.proof);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ChunkAlreadyProven.selector, 1, 0));
        proveAs(fx.otherProver, sb, fx.otherProof);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ChunkAlreadyProven.selector, 1, 0));
        challengeAs(GRIEFER, sb, 0);
    }

    function test_revertUnanswered_refusedWhileTheWindowIsOpenOrOnceAnswered() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoUnansweredChallenge.selector, 1, 0));
        game.revertUnanswered(sb, genesis, 0);
        challengeAs(GRIEFER, sb, 0);
        uint64 deadline = uint64(block.timestamp) + RESPONSE;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ResponseWindowOpen.selector, 1, 0, deadline));
        game.revertUnanswered(sb, genesis, 0);
        proveAs(fx.prover, sb, fx.proof);
        vm.warp(uint256(deadline) + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NoUnansweredChallenge.selector, 1, 0));
        game.revertUnanswered(sb, genesis, 0);
    }

    function test_revertUnanswered_needsThePredecessor() public {
        TandemRollup.StoredBatch memory first = commitFixtureIn(0);
        TandemRollup.BatchHeader memory h2 = nextHeader(opNoop());
        TandemRollup.StoredBatch memory second = commitWith(h2, opNoop());
        vm.prank(GRIEFER);
        game.challenge{value: BOND}(second, h2, 0);
        vm.warp(block.timestamp + RESPONSE + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.NotPredecessor.selector, 0, 2));
        game.revertUnanswered(second, genesis, 0);
        TandemRollup.StoredBatch memory forged = commitRecordCopy(first);
        forged.newStateRoot = bytes32(uint256(3));
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        game.revertUnanswered(second, forged, 0);
        game.revertUnanswered(second, first, 0);
        assertEq(rollup.lastCommittedBatch(), 1, "only the faulty batch and later ones go");
    }

    function test_rollupHooks_onlyTheGame() public {
        commitFixtureIn(0);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotDisputeGame.selector, address(this)));
        rollup.revertFaultyBatch(genesis, address(this), true);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotDisputeGame.selector, address(this)));
        rollup.markProvenByDisputeGame(1, address(this));
    }

    function test_proveOptimisticBatch_goesThroughTheGame() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        vm.prank(fx.prover);
        vm.expectRevert(TandemRollup.ProveThroughDisputeGame.selector);
        rollup.proveOptimisticBatch(sb, hdr, fx.publicData, fx.proof);
    }

    // ------------------------------------------------------------------ ZK-lane deadline

    function test_zkBatch_unprovenPastItsDeadline_isRevertedWithoutSlashing() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(1);
        commitNoops(2);
        uint256 at = uint256(sb.committedAt) + ZK_DEADLINE;
        vm.warp(at - 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.ProofDeadlineNotReached.selector, 1, at));
        game.revertUnprovenZkBatch(sb, genesis);
        vm.warp(at);
        vm.expectEmit(address(game));
        emit DisputeGame.FaultyBatchReverted(1, 0, address(this), true);
        game.revertUnprovenZkBatch(sb, genesis);
        assertEq(rollup.lastCommittedBatch(), 0, "reverted with the later batches");
        assertEq(rollup.revertCount(), 1, "counted");
    }

    function test_zkBatch_provenIsNeverReverted() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(1);
        prove(fx.prover, 1, fx.proof);
        vm.warp(uint256(sb.committedAt) + ZK_DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BatchProven.selector, 1));
        game.revertUnprovenZkBatch(sb, genesis);
        TandemRollup.StoredBatch memory opt = commit(opNoop());
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.WrongLane.selector, 2, 0));
        game.revertUnprovenZkBatch(opt, sb);
    }

    // ------------------------------------------------------------------ gas at the worst size

    /// @dev The revert does not touch later batches: with 1,000 of them it costs what it costs
    ///      with none, far below a block.
    function test_gas_revertWith1000LaterBatches() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        commitNoops(1000);
        challengeAs(GRIEFER, sb, 0);
        vm.warp(block.timestamp + RESPONSE + 1);
        uint256 g = gasleft();
        game.revertUnanswered(sb, genesis, 0);
        uint256 used = g - gasleft();
        console.log("revertUnanswered with 1,000 later batches, gas", used);
        assertEq(rollup.lastCommittedBatch(), 0, "all 1,001 reverted");
        assertLt(used, 150_000, "O(1) revert");
    }

    /// @dev What the bond check adds to a single sequencer's commit: the same no-op batch
    ///      committed, with every account and slot cold, on this rollup (with the game) and on
    ///      an identical one without a game (same genesis, same queued deposit).
    function test_gas_commitWithTheSequencerBondCheck() public {
        TandemRollup plain = new TandemRollup(OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        vm.deal(address(0xD1), fx.depositAmount);
        vm.prank(address(0xD1));
        plain.depositETH{value: fx.depositAmount}(fx.depositX, fx.depositY);
        bytes memory data = opNoop();
        TandemRollup.BatchHeader memory h = nextHeader(data);
        vm.cool(address(plain));
        vm.cool(address(rollup));
        vm.cool(address(game));
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        plain.commitBatch(h, data);
        uint256 without = g - gasleft();
        vm.prank(SEQUENCER);
        g = gasleft();
        rollup.commitBatch(h, data);
        uint256 withGame = g - gasleft();
        console.log("commitBatch (no-op batch) gas without a dispute game", without);
        console.log("commitBatch (no-op batch) gas with one (the bond check)", withGame);
        assertLt(withGame - without, 10_000, "the bond check is one call and two cold reads");
    }

    function test_gas_challengeAndAnswer() public {
        TandemRollup.StoredBatch memory sb = commitFixtureIn(0);
        uint256 g = gasleft();
        challengeAs(GRIEFER, sb, 0);
        console.log("challenge gas", g - gasleft());
        g = gasleft();
        proveAs(fx.prover, sb, fx.proof);
        console.log("proveChunk (answer, last chunk) gas", g - gasleft());
    }
}
