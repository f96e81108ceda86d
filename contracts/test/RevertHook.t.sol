// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {RollupState} from "../src/rollup/RollupState.sol";

/// @dev Exposes the internal fraud-proof hook so its effect can be pinned before the
///      fraud-proof verifier exists.
contract RollupHarness is TandemRollup {
    constructor(address o, address s, bytes32 g, uint64 w, address x)
        TandemRollup(o, s, g, w, address(0), 0, 1 hours + w + 1 days, address(0), x, 1 hours, address(0), address(0))
    {}

    function revertBatchesAfter(StoredBatch memory lastKept) external {
        _revertBatchesAfter(lastKept);
    }
}

contract RevertHookTest is RollupFixture {
    RollupHarness internal harness;
    TandemRollup.StoredBatch internal genesis;

    function setUp() public override {
        vm.warp(T0);
        harness = new RollupHarness(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, exitVerifier);
        rollup = harness;
        genesis = TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, GENESIS_ROOT, 0);
    }

    function test_revertHook_rewindsTipRootAndQueue() public {
        depositEth(address(0xA1), 1 ether);
        depositEth(address(0xA1), 2 ether);
        TandemRollup.StoredBatch memory sb1 = commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        commit(opDeposit(1, KEY_PACKED, 0, 2 ether));
        commit(opNoop());

        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchesReverted(2, 3, 1);
        harness.revertBatchesAfter(sb1);
        assertEq(rollup.lastCommittedBatch(), 1, "tip back to 1");
        assertEq(rollup.lastCommittedStateRoot(), sb1.newStateRoot, "root back");
        assertEq(rollup.priorityHead(), 1, "deposit 1 pending again");

        // The chain continues from batch 1 with a different batch 2.
        commit(bytes.concat(opTransfer(1, 2, 0, 1, 0), opDeposit(1, KEY_PACKED, 0, 2 ether)));
        assertEq(rollup.lastCommittedBatch(), 2, "new batch 2");
    }

    function test_revertHook_canRevertToGenesis() public {
        commit(opNoop());
        harness.revertBatchesAfter(genesis);
        assertEq(rollup.lastCommittedBatch(), 0, "back to genesis");
        assertEq(rollup.lastCommittedStateRoot(), GENESIS_ROOT, "genesis root");
    }

    function test_revertHook_cannotTouchFinalBatches() public {
        TandemRollup.StoredBatch memory sb1 = commit(opNoop());
        commit(opNoop());
        finalizeAfterWindow(sb1);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.CannotRevertFinalized.selector, 0));
        harness.revertBatchesAfter(genesis);
        harness.revertBatchesAfter(sb1); // batch 2 may still go
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NothingToRevert.selector, 1));
        harness.revertBatchesAfter(sb1);
    }

    function test_revertHook_revertsOnForgedRecord() public {
        TandemRollup.StoredBatch memory sb1 = commit(opNoop());
        commit(opNoop());
        sb1.newStateRoot = keccak256("forged");
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        harness.revertBatchesAfter(sb1);
    }
}
