// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TandemRollup} from "../src/TandemRollup.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {ZkLane} from "../src/rollup/ZkLane.sol";
import {FalseVerifier, SilentFallback, ZkProofFixture} from "./ZkProof.t.sol";
import {console} from "./utils/Vm.sol";

/// @dev Exposes the fraud-proof revert hook (as in RevertHook.t.sol).
contract OptimisticRevertHarness is TandemRollup {
    constructor(address o, address s, bytes32 g, uint64 w, address v, uint32 slots, uint64 delay, address x)
        TandemRollup(o, s, g, w, v, slots, delay, address(0), x, 1 hours, address(0), address(0))
    {}

    function revertBatchesAfter(StoredBatch memory lastKept) external {
        _revertBatchesAfter(lastKept);
    }
}

/// @notice `proveOptimisticBatch`: validity proofs for optimistic-lane (lane 0) batches, with
///         the generated S2_D4 verifier and the circuit's real proof fixtures (no mock
///         verifier). The fixture's public data, roots and dataHash do not depend on the lane,
///         so its batch committed with `lane = 0` is proven by the very same proofs.
abstract contract ZkOptimisticFixture is ZkProofFixture {
    TandemRollup.BatchHeader internal hdr;

    /// @dev Commits the fixture's batch as the next batch in the optimistic lane.
    function commitFixtureOptimistic() internal returns (TandemRollup.StoredBatch memory sb) {
        TandemRollup.BatchHeader memory h = fixtureHeader();
        h.lane = 0;
        hdr = h;
        sb = commitWith(h, fx.publicData);
    }

    function proveOpt(
        address who,
        TandemRollup.StoredBatch memory sb,
        TandemRollup.BatchHeader memory h,
        bytes memory data,
        uint256[8] memory proof
    ) internal {
        vm.prank(who);
        rollup.proveOptimisticBatch{gas: 2_000_000}(sb, h, data, proof);
    }
}

contract ZkOptimisticTest is ZkOptimisticFixture {
    // ------------------------------------------------------------------ genuine proof

    function test_proveOptimistic_finalizesWithoutWaitingForWindow() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        assertEq(sb.lane, 0, "optimistic record");
        assertFalse(rollup.isProven(1), "not proven yet");
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 1, uint256(sb.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(sb);

        vm.expectEmit(address(rollup));
        emit ZkLane.BatchProven(1, fx.prover);
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
        assertTrue(rollup.isProven(1), "proven");

        // Same block as the commit: final at once.
        assertEq(block.timestamp, sb.committedAt, "no time passed");
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchFinalized(1, fx.newRoot, sb.withdrawalsRoot, sb.withdrawalCount);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
        assertEq(rollup.lastFinalizedStateRoot(), fx.newRoot, "final root");
        assertTrue(rollup.isProven(1), "still proven");
    }

    function test_proveOptimistic_secondProverWithItsOwnProof() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        vm.expectEmit(address(rollup));
        emit ZkLane.BatchProven(1, fx.otherProver);
        proveOpt(fx.otherProver, sb, hdr, fx.publicData, fx.otherProof);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
    }

    function test_proveOptimistic_unprovenStillFinalizesByWindow() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        vm.warp(sb.committedAt + WINDOW);
        rollup.finalizeBatch(sb);
        assertFalse(rollup.isProven(1), "final by the window, not proven");
    }

    function test_proveOptimistic_provenBatchStillWaitsForPredecessor() public {
        // Batch 1: optimistic, unproven, ends at the fixture's prevRoot; batch 2: the fixture (lane 0).
        deployZkRollup(keccak256("another genesis"));
        bytes memory data = opTransfer(1, 2, 0, 1, 0);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.newStateRoot = fx.prevRoot;
        TandemRollup.StoredBatch memory first = commitWith(h, data);
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic(); // batch 2
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
        assertTrue(rollup.isProven(2), "proven");
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.PreviousBatchNotFinalized.selector, 2, 0));
        rollup.finalizeBatch(sb);
        vm.warp(first.committedAt + WINDOW);
        rollup.finalizeBatch(first);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 2, "both final");
    }

    /// @dev The fast-withdrawal case: ZK batch 2 behind optimistic batch 1. Without a proof of
    ///      batch 1, batch 2 waits for batch 1's window even though it is proven; with
    ///      `proveOptimisticBatch` (real proof) both are final in the commit block.
    ///      Only one real transition exists in the fixtures (prevRoot -> newRoot), so batch 2
    ///      (from newRoot) cannot carry a real proof: its proven marker is written with
    ///      `vm.store` at the slot that the real proof of batch 1 wrote (found, not assumed).
    function test_proveOptimistic_zkBatchBehindProvenOptimisticFinalizesAtOnce() public {
        TandemRollup.StoredBatch memory op = commitFixtureOptimistic(); // batch 1, lane 0
        bytes memory data = opTransfer(1, 2, 0, 1, 0);
        TandemRollup.BatchHeader memory h2 = nextHeader(data);
        h2.lane = 1;
        TandemRollup.StoredBatch memory zk = commitWith(h2, data); // batch 2, lane 1
        assertEq(zk.committedAt, op.committedAt, "same block");

        // Batch 2 cannot finalize before batch 1, and batch 1 waits for its window...
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.PreviousBatchNotFinalized.selector, 2, 0));
        rollup.finalizeBatch(zk);
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 1, uint256(op.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(op);

        // ...unless it is proven.
        proveOpt(fx.prover, op, hdr, fx.publicData, fx.proof);
        bytes32 slot = provenSlot(1);
        rollup.finalizeBatch(op);
        assertEq(rollup.lastFinalizedBatch(), 1, "optimistic batch final at once");

        // Batch 2 is gated by its own proof only (never by batch 1's window).
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotProven.selector, 2));
        rollup.finalizeBatch(zk);
        vm.store(address(rollup), keccak256(abi.encode(rollup.batchRecordHash(2), uint256(slot))), bytes32(uint256(1)));
        assertTrue(rollup.isProven(2), "batch 2 proven");
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchFinalized(2, zk.newStateRoot, zk.withdrawalsRoot, zk.withdrawalCount);
        rollup.finalizeBatch(zk);
        assertEq(rollup.lastFinalizedBatch(), 2, "ZK batch final at once, in the commit block");
        assertEq(block.timestamp, op.committedAt, "no time passed");
    }

    /// @dev The storage slot `p` of the proven-marker mapping (keyed by record hash): the one
    ///      whose entry for `batchNumber`'s record (just proven) holds 1.
    function provenSlot(uint64 batchNumber) internal view returns (bytes32) {
        bytes32 record = rollup.batchRecordHash(batchNumber);
        for (uint256 p = 0; p < 64; p++) {
            if (vm.load(address(rollup), keccak256(abi.encode(record, p))) == bytes32(uint256(1))) {
                // Not the WithdrawalSet / claim / token maps: only the marker is written by proving.
                return bytes32(p);
            }
        }
        revert("marker slot not found");
    }

    // ------------------------------------------------------------------ refusals

    function test_proveOptimistic_refusesWrongRecord() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        TandemRollup.StoredBatch memory bad = sb;
        bad.committedAt -= 1; // e.g. to fake an old window
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        proveOpt(fx.prover, bad, hdr, fx.publicData, fx.proof);
        bad = sb;
        bad.newStateRoot = keccak256("other root");
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        proveOpt(fx.prover, bad, hdr, fx.publicData, fx.proof);
        // A number not committed (yet).
        bad = sb;
        bad.batchNumber = 2;
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 2));
        proveOpt(fx.prover, bad, hdr, fx.publicData, fx.proof);
        // Genesis is final.
        TandemRollup.StoredBatch memory genesis =
            TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, fx.prevRoot, 0);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 0));
        proveOpt(fx.prover, genesis, hdr, fx.publicData, fx.proof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    function test_proveOptimistic_refusesHeaderNotMatchingRecord() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        TandemRollup.BatchHeader memory h = hdr;
        h.intermediateRootsRoot = keccak256("other");
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        proveOpt(fx.prover, sb, h, fx.publicData, fx.proof);
        // A header claiming the ZK lane is not the committed one either.
        h = hdr;
        h.lane = 1;
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        proveOpt(fx.prover, sb, h, fx.publicData, fx.proof);
        // Another fee account would change dataHash: refused by the header check already.
        h = hdr;
        h.feeAccount += 1;
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        proveOpt(fx.prover, sb, h, fx.publicData, fx.proof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    function test_proveOptimistic_refusesPublicDataNotMatchingHeader() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        bytes memory data = fx.publicData;
        data[data.length - 1] ^= 0x01;
        vm.expectRevert(
            abi.encodeWithSelector(RollupState.PublicDataHashMismatch.selector, fx.publicDataHash, sha256(data))
        );
        proveOpt(fx.prover, sb, hdr, data, fx.proof);
        bytes memory empty;
        vm.expectRevert(
            abi.encodeWithSelector(RollupState.PublicDataHashMismatch.selector, fx.publicDataHash, sha256(empty))
        );
        proveOpt(fx.prover, sb, hdr, empty, fx.proof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    function test_proveOptimistic_refusesProofOfOtherProver() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        // The other prover's proof sent by fx.prover, and fx.prover's proof copied by others.
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, fx.prover));
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.otherProof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, fx.otherProver));
        proveOpt(fx.otherProver, sb, hdr, fx.publicData, fx.proof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, address(0xBAD)));
        proveOpt(address(0xBAD), sb, hdr, fx.publicData, fx.proof);
        uint256[8] memory tampered = fx.proof;
        tampered[7] ^= 1;
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, fx.prover));
        proveOpt(fx.prover, sb, hdr, fx.publicData, tampered);
        assertFalse(rollup.isProven(1), "not proven");
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 1, uint256(sb.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(sb);
    }

    function test_proveOptimistic_refusesAlreadyProvenAndFinal() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.BatchAlreadyProven.selector, 1));
        proveOpt(fx.otherProver, sb, hdr, fx.publicData, fx.otherProof);
        rollup.finalizeBatch(sb);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 1));
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
    }

    function test_proveOptimistic_refusesFinalUnprovenBatch() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        vm.warp(sb.committedAt + WINDOW);
        rollup.finalizeBatch(sb);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 1));
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
    }

    function test_proveOptimistic_refusesLaneOneRecord() public {
        TandemRollup.StoredBatch memory zk = commitFixture(); // lane 1
        TandemRollup.BatchHeader memory h = fixtureHeader();
        h.batchNumber = 1;
        vm.expectRevert(abi.encodeWithSelector(RollupState.UnsupportedLane.selector, 1));
        proveOpt(fx.prover, zk, h, fx.publicData, fx.proof);
        assertFalse(rollup.isProven(1), "not proven");
        // proveBatch still works for it.
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven by proveBatch");
    }

    /// @dev The optimistic lane's proofs go through the same check: nothing but the ABI word
    ///      `true` from the verifier counts (see `ZkVerifierResultTest`).
    function test_proveOptimistic_refusesVerifierWithoutCodeEmptyDataOrFalse() public {
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        bytes[3] memory codes = [bytes(""), address(new SilentFallback()).code, address(new FalseVerifier()).code];
        for (uint256 i = 0; i < codes.length; i++) {
            vm.etch(address(verifier), codes[i]);
            vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, fx.prover));
            proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
            assertFalse(rollup.isProven(1), "not proven");
        }
    }

    function test_proveOptimistic_refusesWithoutVerifier() public {
        deployRollup(fx.prevRoot); // fresh rollup, validity lane off
        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        vm.expectRevert(abi.encodeWithSelector(ZkLane.VerifierNotSet.selector));
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
    }

    function test_proveOptimistic_refusesBatchLargerThanZkSlots() public {
        // Three ops > S = 2 (the proof is never reached).
        bytes memory data = bytes.concat(opTransfer(1, 2, 0, 1, 0), opTransfer(2, 1, 0, 1, 0), opNoop());
        TandemRollup.StoredBatch memory sb = commit(data);
        TandemRollup.BatchHeader memory h = nextHeaderFor(data, 1);
        vm.expectRevert(abi.encodeWithSelector(RollupState.ZkBatchTooLarge.selector, 3, 2));
        proveOpt(fx.prover, sb, h, data, fx.proof);
    }

    /// @dev The header `nextHeader` built for batch `n` from `data` (genesis prevRoot).
    function nextHeaderFor(bytes memory data, uint64 n) internal view returns (TandemRollup.BatchHeader memory h) {
        (uint256 ops, uint256 deposits,) = readPublicData(data);
        h.batchNumber = n;
        h.prevStateRoot = fx.prevRoot;
        h.newStateRoot = fieldRoot(keccak256(abi.encode("root", n, data)));
        h.publicDataHash = sha256(data);
        h.intermediateRootsRoot = keccak256(abi.encode("intermediate", n));
        h.priorityOpsCount = uint32(deposits);
        h.lane = 0;
        h.opCount = uint32(ops);
        h.feeAccount = 1;
    }

    // ------------------------------------------------------------------ revert hook

    function test_proveOptimistic_revertHookClearsMarker() public {
        OptimisticRevertHarness harness = new OptimisticRevertHarness(
            OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, exitVerifier
        );
        rollup = harness;
        vm.deal(address(0xD1), fx.depositAmount);
        vm.prank(address(0xD1));
        rollup.depositETH{value: fx.depositAmount}(fx.depositX, fx.depositY);

        TandemRollup.StoredBatch memory sb = commitFixtureOptimistic();
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
        assertTrue(rollup.isProven(1), "proven");
        harness.revertBatchesAfter(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, fx.prevRoot, 0));
        assertFalse(rollup.isProven(1), "marker cleared");
        // The dropped record is not provable any more...
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 1));
        proveOpt(fx.prover, sb, hdr, fx.publicData, fx.proof);
        // ...and a batch recommitted at that number waits for its own window (or proof).
        vm.warp(T0 + 10);
        TandemRollup.StoredBatch memory again = commitFixtureOptimistic();
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 1, uint256(again.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(again);
        proveOpt(fx.prover, again, hdr, fx.publicData, fx.proof);
        rollup.finalizeBatch(again);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
    }
}

/// @notice proveOptimisticBatch gas at S = 2 with the real verifier and proof
///         (`./test.sh -vv --match-contract ZkOptimisticGas`); the commit is in setUp, so
///         storage is cold as on L1.
contract ZkOptimisticGasTest is ZkOptimisticFixture {
    TandemRollup.StoredBatch internal sb;

    function setUp() public override {
        super.setUp();
        sb = commitFixtureOptimistic();
    }

    function test_gas_proveOptimisticBatch() public {
        bytes memory cd =
            abi.encodeCall(TandemRollup.proveOptimisticBatch, (sb, hdr, fx.publicData, fx.proof));
        vm.prank(fx.prover);
        uint256 g = gasleft();
        (bool ok,) = address(rollup).call(cd);
        uint256 used = g - gasleft();
        assertTrue(ok, "prove");
        assertTrue(rollup.isProven(1), "proven");
        uint256 cdGas;
        uint256 tokens;
        for (uint256 i = 0; i < cd.length; i++) {
            cdGas += cd[i] == 0 ? 4 : 16;
            tokens += cd[i] == 0 ? 1 : 4;
        }
        console.log("proveOptimisticBatch exec gas (S = 2)", used);
        console.log("  calldata bytes", cd.length);
        console.log("  calldata gas", cdGas);
        console.log("  tx gas (21000 + calldata + exec)", 21000 + cdGas + used);
        console.log("  EIP-7623 floor", 21000 + 10 * tokens);
        assertLe(used, 261_100, "proveOptimisticBatch gas regressed"); // today 253,440
    }
}
