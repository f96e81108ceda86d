// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {RollupState} from "../src/rollup/RollupState.sol";

/// @notice finalizeBatch: in order, once, only after the challenge window, only the committed record.
contract FinalizeTest is RollupFixture {
    function batch(uint256 salt) internal pure returns (bytes memory) {
        return opTransfer(uint24(salt), uint24(salt + 1), 0, 1, 0);
    }

    function test_finalizeBatch_succeedsExactlyAtWindowEnd() public {
        TandemRollup.StoredBatch memory sb = commit(batch(1));
        vm.warp(sb.committedAt + WINDOW);
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchFinalized(1, sb.newStateRoot, bytes32(0), 0);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
        assertEq(rollup.lastFinalizedStateRoot(), sb.newStateRoot, "final root");
    }

    function test_finalizeBatch_revertsBeforeWindowEnds() public {
        TandemRollup.StoredBatch memory sb = commit(batch(1));
        vm.warp(sb.committedAt + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 1, uint256(sb.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(sb);
    }

    function test_finalizeBatch_revertsWhenAlreadyFinal() public {
        TandemRollup.StoredBatch memory sb = commit(batch(1));
        finalizeAfterWindow(sb);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 1));
        rollup.finalizeBatch(sb);
    }

    function test_finalizeBatch_revertsForGenesis() public {
        TandemRollup.StoredBatch memory g;
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchAlreadyFinalized.selector, 0));
        rollup.finalizeBatch(g);
    }

    function test_finalizeBatch_revertsOutOfOrder() public {
        commit(batch(1));
        TandemRollup.StoredBatch memory sb2 = commit(batch(2));
        vm.warp(sb2.committedAt + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.PreviousBatchNotFinalized.selector, 2, 0));
        rollup.finalizeBatch(sb2);
    }

    function test_finalizeBatch_finalizesInOrder() public {
        TandemRollup.StoredBatch memory sb1 = commit(batch(1));
        vm.warp(block.timestamp + 100);
        TandemRollup.StoredBatch memory sb2 = commit(batch(2));
        vm.warp(sb2.committedAt + WINDOW);
        rollup.finalizeBatch(sb1);
        rollup.finalizeBatch(sb2);
        assertEq(rollup.lastFinalizedBatch(), 2, "both final");
    }

    function test_finalizeBatch_laterBatchWaitsForItsOwnWindow() public {
        TandemRollup.StoredBatch memory sb1 = commit(batch(1));
        vm.warp(block.timestamp + 1000);
        TandemRollup.StoredBatch memory sb2 = commit(batch(2));
        vm.warp(sb1.committedAt + WINDOW);
        rollup.finalizeBatch(sb1);
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.ChallengeWindowOpen.selector, 2, uint256(sb2.committedAt) + WINDOW)
        );
        rollup.finalizeBatch(sb2);
    }

    function test_finalizeBatch_revertsWhenNotCommitted() public {
        TandemRollup.StoredBatch memory sb;
        sb.batchNumber = 1;
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 1));
        rollup.finalizeBatch(sb);
    }

    function test_finalizeBatch_revertsWhenRecordForged() public {
        TandemRollup.StoredBatch memory sb = commit(batch(1));
        vm.warp(sb.committedAt + WINDOW);
        TandemRollup.StoredBatch memory forged = sb;
        forged.committedAt = sb.committedAt - 1 days; // would shorten the window
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        rollup.finalizeBatch(forged);
        forged = commitRecordCopy(sb);
        forged.withdrawalsRoot = keccak256("steal");
        forged.withdrawalCount = 1;
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        rollup.finalizeBatch(forged);
    }

    function test_finalizeBatch_anyoneMayCall() public {
        TandemRollup.StoredBatch memory sb = commit(batch(1));
        vm.warp(sb.committedAt + WINDOW);
        vm.prank(address(0xBEEF));
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
    }
}
