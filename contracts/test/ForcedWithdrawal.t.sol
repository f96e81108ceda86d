// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {console} from "./utils/Vm.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {DevToken} from "../src/DevToken.sol";
import {ForcedWithdrawals} from "../src/ForcedWithdrawals.sol";
import {PriorityQueue} from "../src/rollup/PriorityQueue.sol";
import {PublicDataParser} from "../src/rollup/PublicDataParser.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {Exodus} from "../src/rollup/Exodus.sol";
import {PoseidonDeployer} from "./Poseidon.t.sol";

/// @notice Shared set-up: Poseidon contracts, an inbox bound to a fresh rollup (tree depth 4).
abstract contract ForcedFixture is RollupFixture {
    ForcedWithdrawals internal inbox;
    address internal poseidonT5;
    address internal poseidonT8;

    uint64 internal constant CHAIN_ID = 31337001;
    uint8 internal constant DEPTH = 4;
    uint256 internal constant FEE = 0.001 ether;
    address internal constant USER = address(0xB0B);
    address internal constant RECIPIENT = address(0xCAFE);
    uint256 internal constant SUBGROUP_ORDER =
        2736030358979909402780800718157159386076813972158567259200215660948447373041;

    function setUp() public virtual override {
        vm.warp(T0);
        poseidonT5 = PoseidonDeployer.deploy("artifacts/PoseidonT5.json");
        poseidonT8 = PoseidonDeployer.deploy("artifacts/PoseidonT8.json");
        deployWithInbox(CHAIN_ID, DEPTH);
    }

    function deployWithInbox(uint64 chainId, uint8 depth) internal {
        address next = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        inbox = new ForcedWithdrawals(next, poseidonT5, poseidonT8, chainId, depth, FEE);
        rollup = new TandemRollup(
            OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier,
            PRIORITY_DEADLINE, address(inbox)
        , address(0));
        token = new DevToken("Tandem Dev", "TDEV", 18, address(this), 0);
        vm.prank(OWNER);
        tokenId = rollup.addToken(address(token));
    }

    /// @dev A well-formed request (R8 = Base8, S = 1: L1 does not check the signature).
    function request(uint32 account, uint8 tok, uint128 amount, uint64 requestId) internal returns (uint64 idx) {
        vm.deal(USER, USER.balance + FEE);
        vm.prank(USER);
        idx = inbox.requestForcedWithdrawal{value: FEE}(account, tok, RECIPIENT, amount, requestId, B8_X, B8_Y, 1);
    }

    function requestHashOf(uint32 account, uint8 tok, uint128 amount, uint64 requestId) internal view returns (bytes32) {
        return inbox.forcedRequestHash(account, tok, RECIPIENT, amount, requestId, B8_X, B8_Y, 1);
    }

    function opForced(uint24 account, uint8 tok, uint128 withdrawn, bytes32 requestHash) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8((5 << 5) | tok), account, withdrawn, requestHash);
    }

    /// @dev Header for `data` with `ops` ops, `priorityOps` queue entries.
    function headerFor(bytes memory data, uint32 ops, uint32 priorityOps) internal view returns (TandemRollup.BatchHeader memory h) {
        h.batchNumber = rollup.lastCommittedBatch() + 1;
        h.prevStateRoot = rollup.lastCommittedStateRoot();
        h.newStateRoot = fieldRoot(keccak256(abi.encode("root", h.batchNumber, data)));
        h.publicDataHash = sha256(data);
        h.intermediateRootsRoot = keccak256(abi.encode("intermediate", h.batchNumber));
        h.priorityOpsCount = priorityOps;
        h.opCount = ops;
        h.feeAccount = 1;
    }

    /// @dev Commits `data` (single mode) and returns its StoredBatch, with the withdrawal leaves `ws`.
    function commitForced(bytes memory data, uint32 ops, uint32 priorityOps, Withdrawal[] memory ws)
        internal
        returns (TandemRollup.StoredBatch memory sb)
    {
        TandemRollup.BatchHeader memory h = headerFor(data, ops, priorityOps);
        uint64 headBefore = rollup.priorityHead();
        vm.prank(SEQUENCER);
        rollup.commitBatch(h, data);
        sb = TandemRollup.StoredBatch({
            batchNumber: h.batchNumber,
            lane: 0,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: headBefore + priorityOps,
            withdrawalCount: uint32(ws.length),
            headerHash: keccak256(abi.encode(h)),
            newStateRoot: h.newStateRoot,
            withdrawalsRoot: merkleRoot(leavesOf(ws))
        });
        assertEq(rollup.batchRecordHash(h.batchNumber), keccak256(abi.encode(sb)), "stored batch record");
    }

    function noWithdrawals() internal pure returns (Withdrawal[] memory) {
        return new Withdrawal[](0);
    }

    function oneWithdrawal(uint8 tok, uint128 amount, address to) internal pure returns (Withdrawal[] memory ws) {
        ws = new Withdrawal[](1);
        ws[0] = Withdrawal({tokenId: tok, amount: amount, recipient: to});
    }
}

contract ForcedWithdrawalTest is ForcedFixture {
    // ------------------------------------------------------------------ construction

    function test_rollup_refusesInboxBoundElsewhere() public {
        ForcedWithdrawals other = new ForcedWithdrawals(address(0xdead), poseidonT5, poseidonT8, CHAIN_ID, DEPTH, FEE);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.ForcedInboxNotBound.selector, address(0xdead)));
        new TandemRollup(
            OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier,
            PRIORITY_DEADLINE, address(other)
        , address(0));
    }

    function test_rollup_refusesInboxWithoutCode() public {
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.ForcedInboxHasNoCode.selector, address(0x1234)));
        new TandemRollup(
            OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier,
            PRIORITY_DEADLINE, address(0x1234)
        , address(0));
    }

    function test_inbox_constructorRefusals() public {
        vm.expectRevert(ForcedWithdrawals.ZeroAddress.selector);
        new ForcedWithdrawals(address(0), poseidonT5, poseidonT8, CHAIN_ID, DEPTH, FEE);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.PoseidonHasNoCode.selector, address(0x55)));
        new ForcedWithdrawals(address(1), address(0x55), poseidonT8, CHAIN_ID, DEPTH, FEE);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.PoseidonHasNoCode.selector, address(0x55)));
        new ForcedWithdrawals(address(1), poseidonT5, address(0x55), CHAIN_ID, DEPTH, FEE);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.TreeDepthOutOfRange.selector, 0));
        new ForcedWithdrawals(address(1), poseidonT5, poseidonT8, CHAIN_ID, 0, FEE);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.TreeDepthOutOfRange.selector, 25));
        new ForcedWithdrawals(address(1), poseidonT5, poseidonT8, CHAIN_ID, 25, FEE);
    }

    function test_enqueue_onlyByBoundInbox() public {
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.NotForcedInbox.selector, address(this)));
        rollup.enqueueForcedWithdrawal(1, 0, bytes32(uint256(1)), RECIPIENT, USER);
    }

    // ------------------------------------------------------------------ request refusals

    function expectRequestRevert(
        uint256 value,
        uint32 account,
        uint8 tok,
        address to,
        uint64 requestId,
        uint256 r8x,
        uint256 r8y,
        uint256 s,
        bytes memory err
    ) internal {
        vm.deal(USER, value);
        vm.expectRevert(err);
        vm.prank(USER);
        inbox.requestForcedWithdrawal{value: value}(account, tok, to, 5, requestId, r8x, r8y, s);
    }

    function test_request_refusesWrongFee() public {
        bytes memory e0 = abi.encodeWithSelector(ForcedWithdrawals.WrongFee.selector, 0, FEE);
        expectRequestRevert(0, 1, 0, RECIPIENT, 1, B8_X, B8_Y, 1, e0);
        bytes memory e1 = abi.encodeWithSelector(ForcedWithdrawals.WrongFee.selector, FEE + 1, FEE);
        expectRequestRevert(FEE + 1, 1, 0, RECIPIENT, 1, B8_X, B8_Y, 1, e1);
    }

    function test_request_refusesAccountOutsideTree() public {
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.AccountOutOfRange.selector, 16);
        expectRequestRevert(FEE, 16, 0, RECIPIENT, 1, B8_X, B8_Y, 1, e);
        request(15, 0, 5, 1); // the last account of depth 4 is fine
    }

    function test_request_refusesTokenIdAbove31() public {
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.TokenOutOfRange.selector, 32);
        expectRequestRevert(FEE, 1, 32, RECIPIENT, 1, B8_X, B8_Y, 1, e);
    }

    function test_request_refusesZeroRecipient() public {
        expectRequestRevert(FEE, 1, 0, address(0), 1, B8_X, B8_Y, 1, abi.encodeWithSelector(ForcedWithdrawals.ZeroRecipient.selector));
    }

    function test_request_refusesR8OffCurveOrNotReduced() public {
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.InvalidSignaturePoint.selector, B8_X, B8_Y + 1);
        expectRequestRevert(FEE, 1, 0, RECIPIENT, 1, B8_X, B8_Y + 1, 1, e);
        // The identity (0, 1) is on the curve; (0, 1 + p) is the same point unreduced: refused.
        e = abi.encodeWithSelector(ForcedWithdrawals.InvalidSignaturePoint.selector, 0, 1 + P);
        expectRequestRevert(FEE, 1, 0, RECIPIENT, 1, 0, 1 + P, 1, e);
    }

    function test_request_refusesScalarAtOrAboveSubgroupOrder() public {
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.SignatureScalarOutOfRange.selector, SUBGROUP_ORDER);
        expectRequestRevert(FEE, 1, 0, RECIPIENT, 1, B8_X, B8_Y, SUBGROUP_ORDER, e);
        vm.deal(USER, FEE);
        vm.prank(USER);
        inbox.requestForcedWithdrawal{value: FEE}(1, 0, RECIPIENT, 5, 1, B8_X, B8_Y, SUBGROUP_ORDER - 1);
    }

    function test_request_refusesReplayOfAccountAndRequestId() public {
        request(1, 0, 5, 7);
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.RequestAlreadyUsed.selector, 1, 7);
        expectRequestRevert(FEE, 1, 0, RECIPIENT, 7, B8_X, B8_Y, 1, e);
        // Another request id, or another account with the same id, is fine.
        request(1, 0, 5, 8);
        request(2, 0, 5, 7);
        assertTrue(inbox.isRequestUsed(1, 7), "used");
        assertFalse(inbox.isRequestUsed(3, 7), "unused");
    }

    function test_request_refusedDuringExodus() public {
        uint64 idx = request(1, 0, 5, 1);
        idx;
        vm.warp(block.timestamp + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(genesisRecord());
        bytes memory e = abi.encodeWithSelector(ForcedWithdrawals.ExodusActive.selector);
        expectRequestRevert(FEE, 1, 0, RECIPIENT, 2, B8_X, B8_Y, 1, e);
    }

    // ------------------------------------------------------------------ queue entry

    function test_request_queuesEntryWithRequesterAndEvents() public {
        depositEth(USER, 1 ether); // index 0: a deposit first, the request joins in order
        vm.warp(T0 + 100);
        bytes32 rh = requestHashOf(3, 0, 5, 9);
        vm.deal(USER, FEE);
        vm.expectEmit(address(rollup));
        emit PriorityQueue.ForcedWithdrawalQueued(1, 3, 0, rh);
        vm.expectEmit(address(inbox));
        emit ForcedWithdrawals.ForcedWithdrawalRequested(1, 3, 0, RECIPIENT, 5, 9, B8_X, B8_Y, 1);
        vm.prank(USER);
        uint64 idx = inbox.requestForcedWithdrawal{value: FEE}(3, 0, RECIPIENT, 5, 9, B8_X, B8_Y, 1);
        assertEq(idx, 1, "queue index");
        assertEq(rollup.priorityTail(), 2, "tail");
        assertEq(rollup.priorityQueue(1), keccak256(abi.encodePacked(uint24(3), uint8(0), rh)), "entry");
        assertEq(rollup.depositorOf(1), USER, "requester");
        assertEq(rollup.priorityOpDeadline(1), T0 + 100 + PRIORITY_DEADLINE, "deadline");
        assertEq(inbox.requesterOf(1), USER, "inbox requester");
        assertEq(address(inbox).balance, FEE, "fee held");
    }

    function test_message_and_requestHash_bindEveryField() public view {
        uint256 m = inbox.forcedMessage(3, 0, RECIPIENT, 5, 9);
        assertTrue(m != inbox.forcedMessage(4, 0, RECIPIENT, 5, 9), "account");
        assertTrue(m != inbox.forcedMessage(3, 1, RECIPIENT, 5, 9), "token");
        assertTrue(m != inbox.forcedMessage(3, 0, USER, 5, 9), "recipient");
        assertTrue(m != inbox.forcedMessage(3, 0, RECIPIENT, 6, 9), "amount");
        assertTrue(m != inbox.forcedMessage(3, 0, RECIPIENT, 5, 10), "request id");
        assertTrue(m < P, "field element");
    }

    // ------------------------------------------------------------------ commits

    function test_commit_forcedOpConsumesEntry_withdrawnGivesClaimableWithdrawal() public {
        depositEth(USER, 1 ether);
        bytes memory d = opDeposit(3, KEY_PACKED, 0, 1 ether);
        finalizeAfterWindow(commitWith(nextHeader(d), d));
        uint64 idx = request(3, 0, 0.4 ether, 1);
        bytes memory data = opForced(3, 0, 0.4 ether, requestHashOf(3, 0, 0.4 ether, 1));
        Withdrawal[] memory ws = oneWithdrawal(0, 0.4 ether, RECIPIENT);
        TandemRollup.StoredBatch memory sb = commitForced(data, 1, 1, ws);
        assertEq(rollup.priorityHead(), idx + 1, "consumed");
        assertEq(sb.withdrawalCount, 1, "one leaf");
        finalizeAfterWindow(sb);
        bytes32[] memory proof = merkleProof(leavesOf(ws), 0);
        rollup.claimWithdrawal(sb.batchNumber, 0, 0, 0.4 ether, RECIPIENT, proof);
        assertEq(RECIPIENT.balance, 0.4 ether, "paid to the stored recipient");
    }

    function test_commit_forcedOpWithdrawnZeroAddsNoLeaf() public {
        request(3, 0, 5, 1);
        bytes memory data = bytes.concat(opForced(3, 0, 0, requestHashOf(3, 0, 5, 1)), transfer2());
        TandemRollup.StoredBatch memory sb = commitForced(data, 2, 1, noWithdrawals());
        assertEq(sb.withdrawalCount, 0, "no leaf");
        assertEq(sb.withdrawalsRoot, bytes32(0), "no root");
    }

    function transfer2() internal pure returns (bytes memory) {
        return opTransfer(1, 2, 0, 1234, 5);
    }

    function test_commit_mismatchingForcedOpRefused() public {
        request(3, 0, 5, 1);
        bytes32 rh = requestHashOf(3, 0, 5, 1);
        bytes memory err = abi.encodeWithSelector(PublicDataParser.ForcedWithdrawalMismatch.selector, 0, 0);
        // another account, token or request hash
        bytes[3] memory bad = [opForced(4, 0, 0, rh), opForced(3, 1, 0, rh), opForced(3, 0, 0, bytes32(uint256(rh) ^ 1))];
        for (uint256 i = 0; i < 3; i++) {
            expectCommitRevert(headerFor(bad[i], 1, 1), bad[i], err);
        }
    }

    function test_commit_depositOpDoesNotMatchForcedEntry_andViceVersa() public {
        request(3, 0, 5, 1);
        bytes memory dep = opDeposit(3, requestHashOf(3, 0, 5, 1), 0, 5);
        expectCommitRevert(
            headerFor(dep, 1, 1), dep, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
        // A deposit entry (index 1 after the forced one is consumed) against a ForcedWithdraw op.
        bytes memory f = opForced(3, 0, 0, requestHashOf(3, 0, 5, 1));
        commitForced(f, 1, 1, noWithdrawals());
        depositEth(USER, 1 ether);
        bytes memory f2 = opForced(3, 0, 0, KEY_PACKED);
        expectCommitRevert(
            headerFor(f2, 1, 1), f2, abi.encodeWithSelector(PublicDataParser.ForcedWithdrawalMismatch.selector, 0, 1)
        );
    }

    function test_commit_truncatedForcedOpRefused() public {
        request(3, 0, 5, 1);
        bytes memory full = opForced(3, 0, 0, requestHashOf(3, 0, 5, 1));
        bytes memory data = new bytes(51);
        for (uint256 i = 0; i < 51; i++) data[i] = full[i];
        expectCommitRevert(
            headerFor(data, 1, 1), data, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 0, 5)
        );
    }

    function test_zkDataHash_acceptsForcedOp() public view {
        bytes memory op = opForced(3, 0, 7, bytes32(uint256(42)));
        bytes32 h = rollup.zkDataHash(1, op, 1);
        assertEq(h, sha256(abi.encodePacked(uint32(1), op)) & bytes32(type(uint256).max >> 3), "52-byte record");
    }

    // ------------------------------------------------------------------ deadline and exodus

    function test_expiredForcedEntry_blocksCommitsAndAllowsExodus() public {
        uint64 idx = request(3, 0, 5, 1);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        bytes memory t = transfer2();
        expectCommitRevert(
            headerFor(t, 1, 0),
            t,
            abi.encodeWithSelector(Exodus.ExpiredPriorityOpNotConsumed.selector, idx, uint64(T0 + PRIORITY_DEADLINE))
        );
        rollup.activateExodus(genesisRecord());
        assertTrue(rollup.exodusActive(), "exodus");
    }

    function test_refundDeposit_refusesForcedEntry() public {
        uint64 idx = request(3, 0, 5, 1);
        bytes32 rh = requestHashOf(3, 0, 5, 1);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(genesisRecord());
        vm.expectRevert(abi.encodeWithSelector(Exodus.RefundMismatch.selector, idx));
        rollup.refundDeposit(idx, rh, 0, 5);
        vm.expectRevert(abi.encodeWithSelector(Exodus.RefundMismatch.selector, idx));
        rollup.refundDeposit(idx, bytes32(uint256(3)), 0, 0);
    }

    function genesisRecord() internal pure returns (TandemRollup.StoredBatch memory) {
        return TandemRollup.StoredBatch({
            batchNumber: 0,
            lane: 0,
            committedAt: uint64(T0),
            priorityOpsEnd: 0,
            withdrawalCount: 0,
            headerHash: bytes32(0),
            newStateRoot: GENESIS_ROOT,
            withdrawalsRoot: bytes32(0)
        });
    }

    // ------------------------------------------------------------------ fees

    function test_fee_paidOnceToSequencerAfterFinalBatch() public {
        uint64 idx = request(3, 0, 5, 1);
        TandemRollup.StoredBatch memory sb =
            commitForced(opForced(3, 0, 0, requestHashOf(3, 0, 5, 1)), 1, 1, noWithdrawals());
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.BatchNotFinal.selector, 1));
        inbox.payFee(idx, sb);
        finalizeAfterWindow(sb);
        TandemRollup.StoredBatch memory wrong = abi.decode(abi.encode(sb), (TandemRollup.StoredBatch));
        wrong.withdrawalCount = 1;
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.StoredBatchMismatch.selector, 1));
        inbox.payFee(idx, wrong);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.NotConsumed.selector, idx));
        inbox.payFee(idx, genesisRecord());
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.NotRefundable.selector, idx));
        inbox.refundFee(idx);
        assertEq(inbox.feeRecipient(), SEQUENCER, "single mode: the sequencer");
        inbox.payFee(idx, sb);
        assertEq(inbox.feesOwed(SEQUENCER), FEE, "credited");
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.FeeAlreadySettled.selector, idx));
        inbox.payFee(idx, sb);
        vm.prank(SEQUENCER);
        inbox.withdrawFees();
        assertEq(SEQUENCER.balance, FEE, "paid");
        vm.expectRevert(ForcedWithdrawals.NothingOwed.selector);
        vm.prank(SEQUENCER);
        inbox.withdrawFees();
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.NotAForcedEntry.selector, 5));
        inbox.payFee(5, sb);
    }

    function test_fee_refundedOnceWhenExodusDropsEntry() public {
        uint64 idx = request(3, 0, 5, 1);
        // Consumed by a committed batch that never becomes final: exodus drops it.
        commitForced(opForced(3, 0, 0, requestHashOf(3, 0, 5, 1)), 1, 1, noWithdrawals());
        uint64 idx2 = request(4, 0, 5, 1);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(genesisRecord());
        inbox.refundFee(idx);
        inbox.refundFee(idx2);
        assertEq(inbox.feesOwed(USER), 2 * FEE, "credited back");
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.FeeAlreadySettled.selector, idx));
        inbox.refundFee(idx);
        uint256 before = USER.balance;
        vm.prank(USER);
        inbox.withdrawFees();
        assertEq(USER.balance, before + 2 * FEE, "refunded");
        assertEq(address(inbox).balance, 0, "inbox empty");
    }

    function test_fee_notRefundableWhenCreditedByFinalBatch() public {
        uint64 idx = request(3, 0, 5, 1);
        TandemRollup.StoredBatch memory sb =
            commitForced(opForced(3, 0, 0, requestHashOf(3, 0, 5, 1)), 1, 1, noWithdrawals());
        finalizeAfterWindow(sb);
        request(4, 0, 5, 1);
        vm.warp(block.timestamp + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(sb);
        vm.expectRevert(abi.encodeWithSelector(ForcedWithdrawals.NotRefundable.selector, idx));
        inbox.refundFee(idx);
        inbox.payFee(idx, sb); // still payable to the sequencer side
        assertEq(inbox.feesOwed(SEQUENCER), FEE, "paid");
    }
}

/// @notice Gas of a forced-withdrawal request (`contracts/test.sh -vv --match-contract ForcedWithdrawalGasTest`).
contract ForcedWithdrawalGasTest is ForcedFixture {
    function test_gas_requestForcedWithdrawal() public {
        request(1, 0, 5, 1); // warm the tail slot's neighbours as in steady state
        vm.deal(USER, FEE);
        vm.prank(USER);
        uint256 g = gasleft();
        inbox.requestForcedWithdrawal{value: FEE}(2, 0, RECIPIENT, 5, 1, B8_X, B8_Y, 1);
        g -= gasleft();
        console.log("requestForcedWithdrawal gas (call, incl. 2 Poseidon calls)", g);
        uint256 h = gasleft();
        inbox.forcedMessage(2, 0, RECIPIENT, 5, 1);
        h -= gasleft();
        console.log("forcedMessage (Poseidon T8) gas", h);
        assertLe(g, 420_000, "request gas ceiling");
    }
}
