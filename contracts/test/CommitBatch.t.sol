// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {PublicDataParser} from "../src/rollup/PublicDataParser.sol";
import {RollupState} from "../src/rollup/RollupState.sol";

/// @notice commitBatch: every check of the header and of the public data (SPEC §4.2).
contract CommitBatchTest is RollupFixture {
    address internal constant ALICE = address(0xA1);

    function transfers(uint256 n) internal pure returns (bytes memory data) {
        for (uint256 i = 0; i < n; i++) {
            data = bytes.concat(data, opTransfer(uint24(i + 1), uint24(i + 2), 0, uint32(100 + i), 1));
        }
    }

    // ------------------------------------------------------------------ happy paths

    function test_commitBatch_acceptsEveryOpType() public {
        depositEth(ALICE, 5 ether);
        bytes memory data = bytes.concat(
            opDeposit(7, KEY_PACKED, 0, 5 ether),
            opTransfer(7, 8, 0, 123, 2),
            opTransferToNew(7, 9, B8_PACKED, 0, 456, 3),
            opNoop(),
            opWithdraw(7, 0, 1 ether, 1, ALICE)
        );
        TandemRollup.StoredBatch memory sb = commit(data);
        assertEq(sb.withdrawalCount, 1, "one withdrawal");
        assertEq(rollup.pendingPriorityOps(), 0, "deposit consumed");
    }

    function test_commitBatch_acceptsEmptyBatch() public {
        commit("");
        assertEq(rollup.lastCommittedBatch(), 1, "batch 1");
    }

    function test_commitBatch_chainsBatches() public {
        commit(transfers(3));
        commit(transfers(4));
        commit(transfers(5));
        assertEq(rollup.lastCommittedBatch(), 3, "three batches");
    }

    function test_commitBatch_consumesDepositsInOrderAcrossBatches() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        depositEth(ALICE, 3 ether);
        commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        commit(bytes.concat(opDeposit(1, KEY_PACKED, 0, 2 ether), opDeposit(2, KEY_PACKED, 0, 3 ether)));
        assertEq(rollup.priorityHead(), 3, "all consumed");
    }

    function test_commitBatch_mayLeaveDepositsPending() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        commit(opDeposit(1, KEY_PACKED, 0, 1 ether));
        assertEq(rollup.pendingPriorityOps(), 1, "one pending");
    }

    function test_commitBatch_ignoresDirtyAbiPadding() public {
        // 12 bytes of public data; the 20 bytes of ABI padding after them are forged transfer
        // headers. The parser must not read them.
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes memory cd = abi.encodeCall(TandemRollup.commitBatch, (h, data));
        uint256 padStart = cd.length - 20;
        for (uint256 i = padStart; i < cd.length; i++) cd[i] = 0x40;
        vm.prank(SEQUENCER);
        (bool ok,) = address(rollup).call(cd);
        assertTrue(ok, "dirty padding accepted");
        assertEq(rollup.lastCommittedBatch(), 1, "committed");
    }

    function test_commitBatch_emitsBatchCommitted() public {
        bytes memory data = bytes.concat(transfers(2), opWithdraw(1, 0, 5, 0, ALICE));
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes32 leaf = keccak256(abi.encodePacked(uint8(0), uint128(5), ALICE));
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchCommitted(
            1, keccak256(abi.encode(h)), h.newStateRoot, leaf, 1, 0, uint64(block.timestamp), 0
        );
        vm.prank(SEQUENCER);
        rollup.commitBatch(h, data);
    }

    // ------------------------------------------------------------------ header checks

    function test_commitBatch_revertsWhenCallerNotSequencer() public {
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotSequencer.selector, ALICE));
        vm.prank(ALICE);
        rollup.commitBatch(h, data);
    }

    function test_commitBatch_revertsWhenBatchNumberWrong() public {
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.batchNumber = 2;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.UnexpectedBatchNumber.selector, 1, 2));
        h.batchNumber = 0;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.UnexpectedBatchNumber.selector, 1, 0));
    }

    function test_commitBatch_revertsWhenBatchNumberRepeated() public {
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        commitWith(h, data);
        h.prevStateRoot = h.newStateRoot;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.UnexpectedBatchNumber.selector, 2, 1));
    }

    function test_commitBatch_revertsWhenPrevRootWrong() public {
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.prevStateRoot = keccak256("wrong");
        expectCommitRevert(
            h,
            data,
            abi.encodeWithSelector(TandemRollup.PrevStateRootMismatch.selector, GENESIS_ROOT, h.prevStateRoot)
        );
    }

    function test_commitBatch_revertsWhenPrevRootIsNotPreviousBatchRoot() public {
        commit(transfers(1));
        bytes memory data = transfers(2);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes32 expected = h.prevStateRoot;
        h.prevStateRoot = GENESIS_ROOT; // skips batch 1
        expectCommitRevert(
            h, data, abi.encodeWithSelector(TandemRollup.PrevStateRootMismatch.selector, expected, GENESIS_ROOT)
        );
    }

    function test_commitBatch_revertsOnZkLane() public {
        bytes memory data = transfers(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.lane = 1;
        expectCommitRevert(h, data, abi.encodeWithSelector(RollupState.UnsupportedLane.selector, 1));
    }

    function test_commitBatch_revertsWhenPublicDataHashWrong() public {
        bytes memory data = transfers(2);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes32 good = h.publicDataHash;
        h.publicDataHash = keccak256(data); // keccak instead of sha256
        expectCommitRevert(
            h, data, abi.encodeWithSelector(RollupState.PublicDataHashMismatch.selector, h.publicDataHash, good)
        );
    }

    function test_commitBatch_revertsWhenPublicDataTamperedAfterHashing() public {
        bytes memory data = transfers(2);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        data[5] = 0xff;
        expectCommitRevert(
            h, data, abi.encodeWithSelector(RollupState.PublicDataHashMismatch.selector, h.publicDataHash, sha256(data))
        );
    }

    function test_commitBatch_revertsWhenOpCountWrong() public {
        bytes memory data = transfers(7);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.opCount = 6;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.OpCountMismatch.selector, 6, 7));
        h.opCount = 8;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.OpCountMismatch.selector, 8, 7));
    }

    // ------------------------------------------------------------------ priority queue

    function test_commitBatch_revertsWhenDepositSkipped() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        // Includes queue entry 1 but not entry 0.
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 2 ether);
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    function test_commitBatch_revertsWhenDepositsReordered() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        bytes memory data = bytes.concat(
            transfers(1), opDeposit(1, KEY_PACKED, 0, 2 ether), opDeposit(1, KEY_PACKED, 0, 1 ether)
        );
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 12, 0)
        );
    }

    function test_commitBatch_revertsWhenDepositAmountDiffers() public {
        depositEth(ALICE, 1 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether + 1);
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    function test_commitBatch_revertsWhenDepositKeyDiffers() public {
        depositEth(ALICE, 1 ether);
        bytes memory data = opDeposit(1, B8_PACKED, 0, 1 ether);
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    function test_commitBatch_revertsWhenDepositTokenDiffers() public {
        depositToken(ALICE, 1 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether); // ETH instead of the token
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    /// @dev Pins a gap the L1 cannot close: a Deposit op is compared with its queue entry on
    ///      packed key, token and amount only, never on its 3-byte account index, because the
    ///      L1 cannot know which account a deposit lands in (L2 state decides: the key's
    ///      existing account, else a new one; SPEC §5.1). So any index is accepted and the
    ///      entry is consumed the same way. What checks the index is the state transition (and
    ///      the batch circuit, which proves it): a ZK-lane batch is final only with that proof;
    ///      for an optimistic batch the fault-proof lane (issue 10) is what makes a wrong index
    ///      challengeable. Until then an optimistic batch with a wrong index commits.
    function test_commitBatch_acceptsAnyDepositAccountIndex_l2StateChecksIt() public {
        depositEth(ALICE, 1 ether);
        uint256 beforeCommit = vm.snapshotState();
        uint24[3] memory indices = [uint24(0), 1, 0xffffff];
        for (uint256 i = 0; i < indices.length; i++) {
            vm.revertToState(beforeCommit);
            TandemRollup.StoredBatch memory sb = commit(opDeposit(indices[i], KEY_PACKED, 0, 1 ether));
            assertEq(sb.batchNumber, 1, "committed as batch 1");
            assertEq(sb.priorityOpsEnd, 1, "queue entry 0 consumed");
            assertEq(rollup.pendingPriorityOps(), 0, "nothing pending");
        }
        // The fields the L1 can check are checked: another amount is refused.
        vm.revertToState(beforeCommit);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 2 ether);
        expectCommitRevert(
            nextHeader(data), data, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    // ------------------------------------------------------------------ state roots in the field

    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    function test_commitBatch_acceptsNewStateRootJustBelowFieldModulus() public {
        bytes memory data = opNoop();
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.newStateRoot = bytes32(FIELD_MODULUS - 1);
        TandemRollup.StoredBatch memory sb = commitWith(h, data);
        assertEq(sb.newStateRoot, bytes32(FIELD_MODULUS - 1), "stored");
        assertEq(rollup.lastCommittedStateRoot(), bytes32(FIELD_MODULUS - 1), "committed root");
    }

    function test_commitBatch_refusesNewStateRootAtOrAboveFieldModulus() public {
        bytes memory data = opNoop();
        TandemRollup.BatchHeader memory h = nextHeader(data);
        uint256[3] memory roots = [FIELD_MODULUS, FIELD_MODULUS + 1, type(uint256).max];
        for (uint256 i = 0; i < roots.length; i++) {
            h.newStateRoot = bytes32(roots[i]);
            expectCommitRevert(
                h, data, abi.encodeWithSelector(TandemRollup.StateRootNotInField.selector, bytes32(roots[i]))
            );
        }
        assertEq(rollup.lastCommittedBatch(), 0, "nothing committed");
    }

    function test_commitBatch_revertsWhenPriorityCountAboveQueue() public {
        depositEth(ALICE, 1 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.priorityOpsCount = 2;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.PriorityOpsExceedQueue.selector, 2, 1));
    }

    function test_commitBatch_revertsWhenPriorityCountBelowDeposits() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        bytes memory data = bytes.concat(opDeposit(1, KEY_PACKED, 0, 1 ether), opDeposit(1, KEY_PACKED, 0, 2 ether));
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.priorityOpsCount = 1;
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.PriorityOpsCountMismatch.selector, 1, 2));
    }

    function test_commitBatch_revertsWhenPriorityCountAboveDeposits() public {
        depositEth(ALICE, 1 ether);
        depositEth(ALICE, 2 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.priorityOpsCount = 2;
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.PriorityOpsCountMismatch.selector, 2, 1));
    }

    function test_commitBatch_revertsWhenDepositWithEmptyQueue() public {
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.PriorityOpsExceedQueue.selector, 1, 0));
        h.priorityOpsCount = 0;
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.PriorityOpsCountMismatch.selector, 0, 1));
    }

    function test_commitBatch_revertsWhenDepositReplayedInLaterBatch() public {
        depositEth(ALICE, 1 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 1 ether);
        commit(data);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.PriorityOpsExceedQueue.selector, 1, 0));
    }

    // ------------------------------------------------------------------ malformed public data

    function test_commitBatch_revertsOnUnknownOpType() public {
        for (uint8 t = 6; t < 8; t++) {
            bytes memory data = bytes.concat(transfers(4), abi.encodePacked(uint8(t << 5)), new bytes(11));
            TandemRollup.BatchHeader memory h = nextHeader(transfers(4));
            h.publicDataHash = sha256(data);
            expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.UnknownOpType.selector, 48, t));
        }
    }

    function test_commitBatch_revertsOnTruncatedTransfer() public {
        bytes memory full = transfers(5);
        bytes memory data = new bytes(full.length - 1);
        for (uint256 i = 0; i < data.length; i++) data[i] = full[i];
        TandemRollup.BatchHeader memory h = nextHeader(full);
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 48, 2));
    }

    function test_commitBatch_revertsOnTruncatedTransferInsideFastRun() public {
        // 3 whole transfers then 11 bytes of a fourth: the triple fast path must not swallow it.
        bytes memory full = transfers(4);
        bytes memory data = new bytes(47);
        for (uint256 i = 0; i < data.length; i++) data[i] = full[i];
        TandemRollup.BatchHeader memory h = nextHeader(full);
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 36, 2));
    }

    function test_commitBatch_revertsOnTruncatedDeposit() public {
        depositEth(ALICE, 1 ether);
        bytes memory full = opDeposit(1, KEY_PACKED, 0, 1 ether);
        bytes memory data = new bytes(51);
        for (uint256 i = 0; i < data.length; i++) data[i] = full[i];
        TandemRollup.BatchHeader memory h = nextHeader(full);
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 0, 1));
    }

    function test_commitBatch_revertsOnTruncatedWithdraw() public {
        bytes memory full = bytes.concat(opNoop(), opWithdraw(1, 0, 1, 0, ALICE));
        bytes memory data = new bytes(full.length - 1);
        for (uint256 i = 0; i < data.length; i++) data[i] = full[i];
        TandemRollup.BatchHeader memory h = nextHeader(full);
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 1, 4));
    }

    function test_commitBatch_revertsOnTruncatedTransferToNew() public {
        bytes memory full = opTransferToNew(1, 2, B8_PACKED, 0, 10, 1);
        bytes memory data = new bytes(43);
        for (uint256 i = 0; i < data.length; i++) data[i] = full[i];
        TandemRollup.BatchHeader memory h = nextHeader(full);
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 0, 3));
    }

    function test_commitBatch_revertsOnNoopWithTokenBits() public {
        bytes memory data = bytes.concat(transfers(1), hex"01");
        TandemRollup.BatchHeader memory h = nextHeader(transfers(1));
        h.publicDataHash = sha256(data);
        expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.NonCanonicalNoop.selector, 12, 1));
    }
}
