// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {PriorityQueue} from "../src/rollup/PriorityQueue.sol";
import {Withdrawals} from "../src/rollup/Withdrawals.sol";
import {ZkLane} from "../src/rollup/ZkLane.sol";
import {Exodus} from "../src/rollup/Exodus.sol";
import {console} from "./utils/Vm.sol";

/// @dev Shared helpers: the genesis record, deposits from named depositors, and exodus.
abstract contract ExodusBase is RollupFixture {
    address internal constant D1 = address(0xD1);
    address internal constant D2 = address(0xD2);
    address internal constant D3 = address(0xD3);

    /// @dev The genesis StoredBatch of a rollup deployed at T0 from `root`.
    function genesisOf(bytes32 root) internal pure returns (TandemRollup.StoredBatch memory) {
        return TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, root, 0);
    }

    /// @dev Moves past the deadline of the oldest entry no committed batch consumed and
    ///      activates exodus with `lastFinal`.
    function activateAfterDeadline(TandemRollup.StoredBatch memory lastFinal) internal {
        vm.warp(uint256(rollup.priorityOpDeadline(rollup.priorityHead())) + 1);
        rollup.activateExodus(lastFinal);
        assertTrue(rollup.exodusActive(), "exodus active");
    }

    function expectRefundRevert(uint64 idx, bytes32 key, uint8 tok, uint128 amount, bytes memory err) internal {
        vm.expectRevert(err);
        rollup.refundDeposit(idx, key, tok, amount);
    }
}

/// @notice Priority deadlines: the constructor's bounds, what every deposit records, and the
///         commit rule (a batch may not leave an expired entry pending).
contract PriorityDeadlineTest is ExodusBase {
    function test_constructor_exposesExitVerifierAndDeadline() public view {
        assertEq(rollup.exitVerifier(), exitVerifier, "exit verifier");
        assertEq(rollup.priorityDeadline(), PRIORITY_DEADLINE, "deadline");
        assertFalse(rollup.exodusActive(), "not active");
        assertEq(rollup.exodusStateRoot(), bytes32(0), "no exodus root");
    }

    function test_constructor_refusesExitVerifierWithoutCode() public {
        vm.expectRevert(abi.encodeWithSelector(Exodus.ExitVerifierHasNoCode.selector, address(0xE1)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), address(0xE1), 60, address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(Exodus.ExitVerifierHasNoCode.selector, address(0)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), address(0), 60, address(0), address(0));
    }

    function test_constructor_refusesDeadlineZeroOrAboveForcedWithdrawalDeadline() public {
        vm.expectRevert(abi.encodeWithSelector(Exodus.PriorityDeadlineOutOfRange.selector, uint64(0)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, 0, address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(Exodus.PriorityDeadlineOutOfRange.selector, uint64(1 hours + 1)));
        new TandemRollup(
            OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, 1 hours + 1, address(0)
        , address(0));
        TandemRollup r = new TandemRollup(
            OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, 1, address(0)
        , address(0));
        assertEq(r.priorityDeadline(), 1, "shortest");
    }

    function test_deposit_recordsDepositorAndDeadline() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + 100);
        depositToken(D2, 5);
        assertEq(rollup.depositorOf(0), D1, "depositor 0");
        assertEq(rollup.depositorOf(1), D2, "depositor 1");
        assertEq(rollup.depositorOf(2), address(0), "not queued");
        assertEq(rollup.priorityOpDeadline(0), T0 + PRIORITY_DEADLINE, "deadline 0");
        assertEq(rollup.priorityOpDeadline(1), T0 + 100 + PRIORITY_DEADLINE, "deadline 1");
        // The queue event is unchanged (the Rust side parses it).
        vm.expectEmit(address(rollup));
        emit PriorityQueue.DepositQueued(2, KEY_PACKED, 0, 7);
        depositEth(D3, 7);
    }

    function test_priorityOpDeadline_refusesIndexNotQueued() public {
        vm.expectRevert(abi.encodeWithSelector(Exodus.PriorityOpNotQueued.selector, uint64(0), uint64(0)));
        rollup.priorityOpDeadline(0);
        depositEth(D1, 1);
        vm.expectRevert(abi.encodeWithSelector(Exodus.PriorityOpNotQueued.selector, uint64(1), uint64(1)));
        rollup.priorityOpDeadline(1);
    }

    function test_commit_refusedWhenItSkipsAnExpiredOp() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        bytes memory data = opNoop();
        expectCommitRevert(
            nextHeader(data),
            data,
            abi.encodeWithSelector(Exodus.ExpiredPriorityOpNotConsumed.selector, uint64(0), uint64(T0 + PRIORITY_DEADLINE))
        );
    }

    function test_commit_acceptedAtExactlyTheDeadlineSecond() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + PRIORITY_DEADLINE);
        commit(opNoop());
        assertEq(rollup.pendingPriorityOps(), 1, "still pending");
    }

    function test_commit_consumingTheExpiredOpIsAccepted() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + 10 days);
        commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        assertEq(rollup.pendingPriorityOps(), 0, "consumed");
    }

    function test_commit_refusedWhenItConsumesOnlyPartAndTheNextIsExpired() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + 30);
        depositEth(D2, 2 ether);
        vm.warp(T0 + 30 + PRIORITY_DEADLINE + 1);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        expectCommitRevert(
            nextHeader(data),
            data,
            abi.encodeWithSelector(
                Exodus.ExpiredPriorityOpNotConsumed.selector, uint64(1), uint64(T0 + 30 + PRIORITY_DEADLINE)
            )
        );
        commit(bytes.concat(data, opDeposit(2, KEY_PACKED, 0, 2 ether)));
    }
}

/// @notice `activateExodus`: when it is allowed, what it freezes, and everything it stops.
contract ExodusActivationTest is ExodusBase {
    function test_activate_refusedWithAnEmptyQueue() public {
        vm.warp(T0 + 10 days);
        vm.expectRevert(abi.encodeWithSelector(Exodus.NoExpiredPriorityOp.selector, uint64(0), uint64(0)));
        rollup.activateExodus(genesisOf(GENESIS_ROOT));
    }

    function test_activate_refusedBeforeAnyExpiry() public {
        depositEth(D1, 1 ether);
        vm.warp(T0 + PRIORITY_DEADLINE);
        vm.expectRevert(
            abi.encodeWithSelector(Exodus.NoExpiredPriorityOp.selector, uint64(0), uint64(T0 + PRIORITY_DEADLINE))
        );
        rollup.activateExodus(genesisOf(GENESIS_ROOT));
    }

    function test_activate_refusedWhenTheOldOpIsConsumedByACommittedBatch() public {
        depositEth(D1, 1 ether);
        commit(opDeposit(1, KEY_PACKED, 0, 1 ether)); // not final: still counts as consumed
        vm.warp(T0 + 10 days);
        vm.expectRevert(abi.encodeWithSelector(Exodus.NoExpiredPriorityOp.selector, uint64(1), uint64(0)));
        rollup.activateExodus(genesisOf(GENESIS_ROOT));
    }

    function test_activate_refusedWithAnotherRecordThanTheLastFinal() public {
        depositEth(D1, 1 ether);
        TandemRollup.StoredBatch memory sb1 = commit(opNoop()); // committed, not final
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, uint64(1)));
        rollup.activateExodus(sb1);
        TandemRollup.StoredBatch memory g = genesisOf(GENESIS_ROOT);
        g.newStateRoot = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, uint64(0)));
        rollup.activateExodus(g);
    }

    function test_activate_freezesTheLastFinalStateAndEmits() public {
        depositEth(D1, 1 ether);
        depositEth(D2, 2 ether);
        TandemRollup.StoredBatch memory sb1 = commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        finalizeAfterWindow(sb1); // past D2's deadline too
        commit(opDeposit(2, KEY_PACKED, 0, 2 ether)); // consumes D2, dropped by exodus
        depositEth(D3, 3 ether);
        vm.warp(block.timestamp + PRIORITY_DEADLINE + 1);
        vm.expectEmit(address(rollup));
        emit Exodus.ExodusActivated(1, sb1.newStateRoot, 1);
        rollup.activateExodus(sb1);
        assertTrue(rollup.exodusActive(), "active");
        assertEq(rollup.exodusStateRoot(), sb1.newStateRoot, "root of the last final batch");
        assertEq(rollup.exodusPriorityEnd(), 1, "priority end of the last final batch");
    }

    function test_activate_refusedWhenAlreadyActive() public {
        depositEth(D1, 1 ether);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.activateExodus(genesisOf(GENESIS_ROOT));
    }

    function test_exodus_refusesCommitsDepositsFinalizationAndProofs() public {
        depositEth(D1, 1 ether);
        TandemRollup.StoredBatch memory sb1 = commit(opNoop());
        activateAfterDeadline(genesisOf(GENESIS_ROOT));

        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        expectCommitRevert(nextHeader(data), data, abi.encodeWithSelector(RollupState.ExodusActive.selector));

        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.finalizeBatch(sb1);

        vm.deal(D2, 1 ether);
        vm.prank(D2);
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.depositETH{value: 1 ether}(KEY_X, KEY_Y);

        token.mint(D2, 1 ether);
        vm.prank(D2);
        token.approve(address(rollup), 1 ether);
        vm.prank(D2);
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.depositERC20(address(token), 1 ether, KEY_X, KEY_Y);

        uint256[8] memory proof;
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.proveBatch(1, GENESIS_ROOT, sb1.newStateRoot, bytes32(0), proof);
        TandemRollup.BatchHeader memory h1 = nextHeader(opNoop());
        vm.expectRevert(RollupState.ExodusActive.selector);
        rollup.proveOptimisticBatch(sb1, h1, opNoop(), proof);
    }

    function test_exodus_finalBatchWithdrawalStillClaimable() public {
        depositEth(D1, 5 ether);
        bytes memory data = bytes.concat(opDeposit(1, KEY_PACKED, 0, 5 ether), opWithdraw(1, 0, 2 ether, 0, D2));
        TandemRollup.StoredBatch memory sb1 = commit(data);
        finalizeAfterWindow(sb1);
        depositEth(D3, 1 ether);
        activateAfterDeadline(sb1);
        claim(1, data, 0);
        assertEq(D2.balance, 2 ether, "claimed in exodus");
        assertEq(rollup.tokenLocked(0), 4 ether, "locked");
    }

    function test_exit_refusedWithoutExodus() public {
        uint256[8] memory proof;
        vm.expectRevert(Exodus.ExodusNotActive.selector);
        rollup.exit(1, 0, 1 ether, D1, proof);
    }

    function test_exit_refusesZeroAmountAndUnknownToken() public {
        depositEth(D1, 1 ether);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        uint256[8] memory proof;
        vm.expectRevert(PriorityQueue.ZeroAmount.selector);
        rollup.exit(1, 0, 0, D1, proof);
        uint8 unknown = rollup.tokenCount();
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.UnknownTokenId.selector, unknown));
        rollup.exit(1, unknown, 1, D1, proof);
    }

    function test_exit_refusesAProofTheVerifierRejects() public {
        depositEth(D1, 1 ether);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        uint256[8] memory proof; // all zero: not a proof
        vm.expectRevert(Exodus.InvalidExitProof.selector);
        rollup.exit{gas: 2_000_000}(1, 0, 1 ether, D1, proof);
        assertFalse(rollup.isExited(1, 0), "not exited");
    }
}

/// @notice `refundDeposit`: deposits no final batch credited go back to their depositors, once.
contract RefundTest is ExodusBase {
    function test_refund_refusedWithoutExodus() public {
        depositEth(D1, 1 ether);
        expectRefundRevert(0, KEY_PACKED, 0, 1 ether, abi.encodeWithSelector(Exodus.ExodusNotActive.selector));
    }

    function test_refund_queuedEthDepositToItsDepositorExactlyOnce() public {
        depositEth(D1, 1 ether);
        depositEth(D2, 2 ether);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        assertEq(rollup.exodusPriorityEnd(), 0, "nothing final credited");
        vm.expectEmit(address(rollup));
        emit Exodus.DepositRefunded(1, D2, 0, 2 ether);
        vm.prank(D3); // anyone may send it; the depositor is paid
        rollup.refundDeposit(1, KEY_PACKED, 0, 2 ether);
        assertEq(D2.balance, 2 ether, "refunded");
        assertEq(D3.balance, 0, "caller gets nothing");
        assertTrue(rollup.isDepositRefunded(1), "marked");
        assertFalse(rollup.isDepositRefunded(0), "other entry");
        assertEq(rollup.tokenLocked(0), 1 ether, "locked");
        expectRefundRevert(1, KEY_PACKED, 0, 2 ether, abi.encodeWithSelector(Exodus.AlreadyRefunded.selector, uint64(1)));
        rollup.refundDeposit(0, KEY_PACKED, 0, 1 ether);
        assertEq(D1.balance, 1 ether, "refunded");
        assertEq(address(rollup).balance, 0, "all paid back");
    }

    function test_refund_queuedErc20DepositToItsDepositorExactlyOnce() public {
        depositToken(D1, 700);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        vm.expectEmit(address(rollup));
        emit Exodus.DepositRefunded(0, D1, tokenId, 700);
        rollup.refundDeposit(0, KEY_PACKED, tokenId, 700);
        assertEq(token.balanceOf(D1), 700, "refunded");
        assertEq(token.balanceOf(address(rollup)), 0, "nothing left");
        assertEq(rollup.tokenLocked(tokenId), 0, "locked");
        expectRefundRevert(0, KEY_PACKED, tokenId, 700, abi.encodeWithSelector(Exodus.AlreadyRefunded.selector, uint64(0)));
    }

    function test_refund_depositConsumedOnlyByADroppedBatchIsRefunded_finalOneIsNot() public {
        depositEth(D1, 1 ether);
        depositEth(D2, 2 ether);
        TandemRollup.StoredBatch memory sb1 = commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        finalizeAfterWindow(sb1);
        commit(opDeposit(2, KEY_PACKED, 0, 2 ether)); // consumes D2's deposit, never final
        depositEth(D3, 3 ether);
        activateAfterDeadline(sb1);

        expectRefundRevert(0, KEY_PACKED, 0, 1 ether, abi.encodeWithSelector(Exodus.NotRefundable.selector, uint64(0)));
        rollup.refundDeposit(1, KEY_PACKED, 0, 2 ether);
        rollup.refundDeposit(2, KEY_PACKED, 0, 3 ether);
        assertEq(D2.balance, 2 ether, "dropped batch's deposit refunded");
        assertEq(D3.balance, 3 ether, "queued deposit refunded");
        assertEq(rollup.tokenLocked(0), 1 ether, "the final batch's deposit stays for its exit");
        assertEq(address(rollup).balance, 1 ether, "balance = locked");
    }

    function test_refund_refusesWrongArgumentsAndIndicesNotQueued() public {
        depositEth(D1, 1 ether);
        activateAfterDeadline(genesisOf(GENESIS_ROOT));
        bytes memory mismatch = abi.encodeWithSelector(Exodus.RefundMismatch.selector, uint64(0));
        expectRefundRevert(0, KEY_PACKED, 0, 1 ether - 1, mismatch);
        expectRefundRevert(0, B8_PACKED, 0, 1 ether, mismatch);
        expectRefundRevert(0, KEY_PACKED, tokenId, 1 ether, mismatch);
        expectRefundRevert(1, KEY_PACKED, 0, 1 ether, abi.encodeWithSelector(Exodus.NotRefundable.selector, uint64(1)));
        rollup.refundDeposit(0, KEY_PACKED, 0, 1 ether);
    }
}

/// @notice Staked mode: the same deadline rule and exodus refusal for `commitBatchSigned`.
contract StakedExodusTest is StakingFixture {
    function setUp() public override {
        super.setUp();
        doStake(1, 1000 ether);
        doStake(2, 1000 ether);
        doStake(3, 1000 ether);
        nextEpoch();
    }

    function test_constructor_refusesBadExitVerifierAndDeadline() public {
        vm.expectRevert(abi.encodeWithSelector(Exodus.ExitVerifierHasNoCode.selector, address(0xE1)));
        new StakedRollup(OWNER, staking, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), address(0xE1), 60, address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(Exodus.PriorityDeadlineOutOfRange.selector, uint64(0)));
        new StakedRollup(OWNER, staking, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, 0, address(0), address(0));
    }

    function test_commitSigned_refusedWhenItSkipsAnExpiredOp_andDuringExodus() public {
        depositEth(address(0xD1), 1 ether);
        uint256 queuedAt = block.timestamp;
        vm.warp(queuedAt + PRIORITY_DEADLINE + 1);
        bytes memory data = opNoop();
        TandemRollup.BatchHeader memory h = nextHeader(data);
        expectSignedRevert(
            h,
            data,
            signSorted(ids(1, 2, 3), digestOf(h)),
            abi.encodeWithSelector(
                Exodus.ExpiredPriorityOpNotConsumed.selector, uint64(0), uint64(queuedAt + PRIORITY_DEADLINE)
            )
        );
        rollup.activateExodus(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, GENESIS_ROOT, 0));
        data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        h = nextHeader(data);
        expectSignedRevert(
            h, data, signSorted(ids(1, 2, 3), digestOf(h)), abi.encodeWithSelector(RollupState.ExodusActive.selector)
        );
    }
}

/// @notice Gas (`./test.sh --match-contract ExodusGasTest -vv`): activateExodus and
///         refundDeposit, each a single call in its own transaction (cold storage).
contract ExodusGasTest is ExodusBase {
    function setUp() public override {
        super.setUp();
        depositEth(D1, 1 ether);
        depositEth(D2, 2 ether);
    }

    function test_gas_activateExodus() public {
        TandemRollup.StoredBatch memory g = genesisOf(GENESIS_ROOT);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        uint256 before = gasleft();
        rollup.activateExodus(g);
        uint256 exec = before - gasleft();
        console.log("activateExodus exec gas", exec);
        assertLe(exec, 45_700, "activateExodus gas regressed"); // today 44,336
    }

    function test_gas_refundDeposit() public {
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(genesisOf(GENESIS_ROOT));
        vm.cool(address(rollup));
        uint256 before = gasleft();
        rollup.refundDeposit(1, KEY_PACKED, 0, 2 ether);
        uint256 exec = before - gasleft();
        console.log("refundDeposit (ETH) exec gas", exec);
        assertLe(exec, 74_900, "refundDeposit gas regressed"); // today 72,688
    }
}
