// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {PublicDataParser} from "../src/rollup/PublicDataParser.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {ZkLane} from "../src/rollup/ZkLane.sol";
import {Verifier} from "../src/verifiers/BatchVerifier_S2_D4.sol";

/// @dev Exposes the fraud-proof hook, to pin that a revert forgets ZK commitments and proofs.
contract ZkRollupHarness is TandemRollup {
    constructor(address o, address s, bytes32 g, uint64 w, address v, uint32 slots, address x)
        TandemRollup(o, s, g, w, v, slots, 1 hours + w + 1 days, address(0), x, 1 hours, address(0), address(0))
    {}

    function revertBatchesAfter(StoredBatch memory lastKept) external {
        _revertBatchesAfter(lastKept);
    }
}

/// @notice Validity lane without proofs: the data commitment `zkDataHash` (against the Rust
///         side's reference vectors and an independent byte-by-byte reference), the verifier fixed at deployment,
///         the lane rules of commitBatch / finalizeBatch, and every way `proveBatch` refuses
///         before it reaches the verifier. Real proofs: `ZkProof.t.sol`.
/// @dev The lane runs on the real generated verifier (S = 2, D = 4); no proof here is valid,
///      so where a call gets past the contract's own checks the verifier refuses it. Some
///      dataHash tests set zkSlots above 2: only the commitment is checked there.
contract ZkLaneTest is RollupFixture {
    uint32 internal constant SLOTS = 2;
    string internal constant VECTORS = "../vectors/zk_data_hash.json";

    address internal VERIFIER;

    function setUp() public virtual override {
        super.setUp();
        VERIFIER = address(new Verifier());
    }

    /// @dev Replaces the rollup by a fresh one with validity-lane verifier `v` of `slots` op slots.
    function enableLane(address v, uint32 slots) internal {
        deployRollup(GENESIS_ROOT, v, slots);
    }

    function zkHeader(bytes memory data) internal view returns (TandemRollup.BatchHeader memory h) {
        h = nextHeader(data);
        h.lane = 1;
    }

    function commitZk(bytes memory data) internal returns (TandemRollup.StoredBatch memory sb) {
        return commitWith(zkHeader(data), data);
    }

    function transfer(uint256 salt) internal pure returns (bytes memory) {
        return opTransfer(uint24(salt), uint24(salt + 1), 0, 1, 0);
    }

    // ------------------------------------------------------------------ reference dataHash

    /// @dev SPEC §10, written out byte by byte (independent of the contract's assembly).
    function refZkPublicData(uint32 feeAccount, bytes memory data, uint256 slots)
        internal
        pure
        returns (bytes memory out)
    {
        out = new bytes(4 + 52 * slots);
        out[0] = bytes1(uint8(feeAccount >> 24));
        out[1] = bytes1(uint8(feeAccount >> 16));
        out[2] = bytes1(uint8(feeAccount >> 8));
        out[3] = bytes1(uint8(feeAccount));
        uint256 i;
        uint256 slot;
        while (i < data.length) {
            uint256 size = opSize(uint8(data[i]) >> 5);
            require(slot < slots, "reference: too many ops");
            for (uint256 k = 0; k < size; k++) {
                out[4 + 52 * slot + k] = data[i + k];
            }
            i += size;
            slot++;
        }
        require(i == data.length, "reference: truncated");
    }

    function refZkDataHash(uint32 feeAccount, bytes memory data, uint256 slots)
        internal
        pure
        returns (bytes32)
    {
        return sha256(refZkPublicData(feeAccount, data, slots)) & bytes32(type(uint256).max >> 3);
    }

    // ------------------------------------------------------------------ zkDataHash

    function test_zkDataHash_matchesRustReferenceVectors() public view {
        string memory json = vm.readFile(VECTORS);
        uint256 n;
        for (; vm.keyExistsJson(json, string.concat("$[", vm.toString(n), "]")); n++) {
            string memory k = string.concat("$[", vm.toString(n), "].");
            uint32 fee = uint32(vm.parseJsonUint(json, string.concat(k, "feeAccount")));
            uint32 slots = uint32(vm.parseJsonUint(json, string.concat(k, "slots")));
            bytes memory pd = vm.parseJsonBytes(json, string.concat(k, "publicData"));
            bytes memory zpd = vm.parseJsonBytes(json, string.concat(k, "zkPublicData"));
            bytes32 expected = vm.parseJsonBytes32(json, string.concat(k, "zkDataHash"));
            assertEq(refZkPublicData(fee, pd, slots), zpd, "reference expansion = vector's zkPublicData");
            assertEq(sha256(zpd) & bytes32(type(uint256).max >> 3), expected, "vector is self-consistent");
            assertEq(rollup.zkDataHash(fee, pd, slots), expected, "contract = Rust zk_data_hash");
        }
        assertGe(n, 4, "all vectors read");
    }

    /// @dev Random op sequences of every type (and random extra empty slots) against the reference.
    function testFuzz_zkDataHash_matchesReference(uint256 seed, uint32 feeAccount, uint8 nOps, uint8 extra)
        public
        view
    {
        uint256 n = bound(nOps, 0, 12);
        bytes memory data;
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 t = r % 5;
            bytes32 key = keccak256(abi.encode(r));
            if (t == 0) {
                data = bytes.concat(data, opNoop());
            } else if (t == 1) {
                data =
                    bytes.concat(data, opDeposit(uint24(r >> 8), key, uint8(r >> 40) & 31, uint128(r >> 48)));
            } else if (t == 2) {
                data = bytes.concat(
                    data,
                    opTransfer(
                        uint24(r >> 8), uint24(r >> 32), uint8(r >> 56) & 31, uint32(r >> 64), uint8(r >> 96)
                    )
                );
            } else if (t == 3) {
                data = bytes.concat(
                    data,
                    opTransferToNew(
                        uint24(r >> 8),
                        uint24(r >> 32),
                        key,
                        uint8(r >> 56) & 31,
                        uint32(r >> 64),
                        uint8(r >> 96)
                    )
                );
            } else {
                data = bytes.concat(
                    data,
                    opWithdraw(
                        uint24(r >> 8),
                        uint8(r >> 32) & 31,
                        uint128(r >> 40),
                        uint8(r >> 168),
                        address(uint160(r >> 96))
                    )
                );
            }
        }
        uint32 slots = uint32(n + bound(extra, 0, 3));
        if (slots == 0) slots = 1;
        assertEq(
            rollup.zkDataHash(feeAccount, data, slots), refZkDataHash(feeAccount, data, slots), "dataHash"
        );
    }

    function test_zkDataHash_topThreeBitsCleared() public view {
        for (uint256 i = 0; i < 16; i++) {
            bytes memory data = transfer(i);
            assertEq(uint256(rollup.zkDataHash(uint32(i), data, 1)) >> 253, 0, "field element");
        }
    }

    function test_zkDataHash_refusesMalformedData() public {
        bytes memory two = bytes.concat(transfer(1), transfer(2));
        vm.expectRevert(abi.encodeWithSelector(RollupState.ZkBatchTooLarge.selector, 2, 1));
        rollup.zkDataHash(0, two, 1);
        vm.expectRevert(abi.encodeWithSelector(PublicDataParser.UnknownOpType.selector, 12, 6));
        rollup.zkDataHash(0, bytes.concat(transfer(1), hex"c0"), 4);
        vm.expectRevert(abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 12, 1));
        rollup.zkDataHash(0, bytes.concat(transfer(1), hex"20000000"), 4);
        vm.expectRevert(abi.encodeWithSelector(PublicDataParser.NonCanonicalNoop.selector, 1, 0x03));
        rollup.zkDataHash(0, hex"0003", 4);
        bytes memory three = bytes.concat(two, opNoop());
        vm.expectRevert(abi.encodeWithSelector(RollupState.ZkBatchTooLarge.selector, 3, 1));
        rollup.zkDataHash(0, three, 1);
        vm.expectRevert(abi.encodeWithSelector(RollupState.ZkBatchTooLarge.selector, 1, 0));
        rollup.zkDataHash(0, opNoop(), 0);
        // Past the slots, a malformed op is still named.
        vm.expectRevert(abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, 24, 2));
        rollup.zkDataHash(0, bytes.concat(two, hex"40"), 1);
        assertEq(
            rollup.zkDataHash(0, "", 0), sha256(hex"00000000") & bytes32(type(uint256).max >> 3), "S = 0"
        );
    }

    // ------------------------------------------------------------------ verifier: fixed at deployment

    function test_constructor_verifierNeedsCodeAndSlots() public {
        vm.expectRevert(abi.encodeWithSelector(ZkLane.VerifierHasNoCode.selector, address(0xC0DE)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0xC0DE), SLOTS, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZeroZkSlots.selector));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, VERIFIER, 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkSlotsWithoutVerifier.selector, SLOTS));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), SLOTS, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        vm.expectEmit();
        emit ZkLane.VerifierSet(VERIFIER, SLOTS);
        TandemRollup r = new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, VERIFIER, SLOTS, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        assertEq(r.verifier(), VERIFIER, "verifier");
        assertEq(r.zkSlots(), SLOTS, "slots");
    }

    // ------------------------------------------------------------------ commit lane rules

    function test_commit_zkLaneRefusedWithoutVerifier() public {
        bytes memory data = transfer(1);
        expectCommitRevert(
            zkHeader(data), data, abi.encodeWithSelector(RollupState.UnsupportedLane.selector, 1)
        );
    }

    function test_commit_laneAboveOneRefused() public {
        enableLane(VERIFIER, SLOTS);
        bytes memory data = transfer(1);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.lane = 2;
        expectCommitRevert(h, data, abi.encodeWithSelector(RollupState.UnsupportedLane.selector, 2));
        h.lane = 255;
        expectCommitRevert(h, data, abi.encodeWithSelector(RollupState.UnsupportedLane.selector, 255));
    }

    function test_commit_zkBatchAboveSlotsRefused() public {
        enableLane(VERIFIER, SLOTS);
        bytes memory data = bytes.concat(transfer(1), transfer(2), transfer(3));
        expectCommitRevert(
            zkHeader(data), data, abi.encodeWithSelector(RollupState.ZkBatchTooLarge.selector, 3, SLOTS)
        );
        // The same batch is fine in the optimistic lane.
        commit(data);
    }

    function test_commit_zkBatchStillCheckedLikeAnyBatch() public {
        enableLane(VERIFIER, SLOTS);
        bytes memory data = bytes.concat(transfer(1), transfer(2));
        TandemRollup.BatchHeader memory h = zkHeader(data);
        h.opCount = 1; // declares fewer ops than it has
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.OpCountMismatch.selector, 1, 2));
        depositEth(address(0xD1), 1 ether);
        bytes memory dep = opDeposit(7, KEY_PACKED, 0, 2 ether); // not the queued amount
        expectCommitRevert(
            zkHeader(dep), dep, abi.encodeWithSelector(PublicDataParser.DepositMismatch.selector, 0, 0)
        );
    }

    function test_commit_zkBatchRecordsLaneOne() public {
        enableLane(VERIFIER, SLOTS);
        depositEth(address(0xD1), 1 ether);
        bytes memory data = bytes.concat(opDeposit(7, KEY_PACKED, 0, 1 ether), transfer(1));
        TandemRollup.BatchHeader memory h = zkHeader(data);
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchCommitted(
            1, keccak256(abi.encode(h)), h.newStateRoot, bytes32(0), 0, 1, uint64(block.timestamp), 1
        );
        TandemRollup.StoredBatch memory sb = commitWith(h, data); // checks the record, lane 1
        assertEq(sb.lane, 1, "lane");
        assertFalse(rollup.isProven(1), "not proven");
    }

    // ------------------------------------------------------------------ finality rules

    function test_finalize_zkBatchNeverByWindow() public {
        enableLane(VERIFIER, SLOTS);
        TandemRollup.StoredBatch memory sb = commitZk(transfer(1));
        vm.warp(sb.committedAt + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotProven.selector, 1));
        rollup.finalizeBatch(sb);
        vm.warp(sb.committedAt + 100 * WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotProven.selector, 1));
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), 0, "nothing final");
    }

    function test_finalize_zkRecordCannotBePassedOffAsOptimistic() public {
        enableLane(VERIFIER, SLOTS);
        TandemRollup.StoredBatch memory sb = commitZk(transfer(1));
        vm.warp(sb.committedAt + WINDOW);
        sb.lane = 0;
        vm.expectRevert(abi.encodeWithSelector(RollupState.StoredBatchMismatch.selector, 1));
        rollup.finalizeBatch(sb);
    }

    function test_finalize_unprovenZkBatchBlocksLaterOptimisticBatches() public {
        enableLane(VERIFIER, SLOTS);
        commitZk(transfer(1));
        TandemRollup.StoredBatch memory sb2 = commit(transfer(2));
        vm.warp(sb2.committedAt + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.PreviousBatchNotFinalized.selector, 2, 0));
        rollup.finalizeBatch(sb2);
    }

    function test_finalize_optimisticBatchesUnchangedWithLaneEnabled() public {
        enableLane(VERIFIER, SLOTS);
        TandemRollup.StoredBatch memory sb = commit(transfer(1));
        vm.warp(sb.committedAt + WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                TandemRollup.ChallengeWindowOpen.selector, 1, uint256(sb.committedAt) + WINDOW
            )
        );
        rollup.finalizeBatch(sb);
        vm.warp(sb.committedAt + WINDOW);
        rollup.finalizeBatch(sb);
        assertFalse(rollup.isProven(1), "optimistic batches are never proven");
    }

    // ------------------------------------------------------------------ proveBatch refusals

    function test_proveBatch_revertsWithoutVerifier() public {
        commit(transfer(1));
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(ZkLane.VerifierNotSet.selector));
        rollup.proveBatch(1, bytes32(0), bytes32(0), bytes32(0), proof);
    }

    function test_proveBatch_revertsForUnknownBatchGenesisAndOptimisticLane() public {
        enableLane(VERIFIER, SLOTS);
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 1));
        rollup.proveBatch(1, bytes32(0), bytes32(0), bytes32(0), proof);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 0));
        rollup.proveBatch(0, GENESIS_ROOT, bytes32(0), bytes32(0), proof);
        commit(transfer(1));
        vm.expectRevert(abi.encodeWithSelector(ZkLane.NotZkBatch.selector, 1));
        rollup.proveBatch(1, bytes32(0), bytes32(0), bytes32(0), proof);
        vm.expectRevert(abi.encodeWithSelector(RollupState.BatchNotCommitted.selector, 2));
        rollup.proveBatch(2, bytes32(0), bytes32(0), bytes32(0), proof);
    }

    function test_proveBatch_revertsOnPublicInputsOtherThanCommitted() public {
        enableLane(VERIFIER, SLOTS);
        bytes memory data = transfer(1);
        TandemRollup.BatchHeader memory h = zkHeader(data);
        commitWith(h, data);
        bytes32 dh = rollup.zkDataHash(h.feeAccount, data, SLOTS);
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkPublicInputsMismatch.selector, 1));
        rollup.proveBatch(1, h.prevStateRoot, h.newStateRoot, bytes32(uint256(dh) ^ 1), proof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkPublicInputsMismatch.selector, 1));
        rollup.proveBatch(1, h.prevStateRoot, keccak256("other root"), dh, proof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkPublicInputsMismatch.selector, 1));
        rollup.proveBatch(1, h.newStateRoot, h.prevStateRoot, dh, proof);
        // The committed inputs reach the verifier, which refuses the (all-zero) proof.
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, address(this)));
        rollup.proveBatch(1, h.prevStateRoot, h.newStateRoot, dh, proof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    /// @dev The commitment stored by a commit with deposits and withdrawals (memory used by the
    ///      parser and the withdrawal tree before the expansion) is the one of zkDataHash.
    function test_commit_storesCommitmentOfZkDataHashWithDepositsAndWithdrawals() public {
        enableLane(VERIFIER, 3);
        depositEth(address(0xD1), 1 ether);
        bytes memory data = bytes.concat(
            opWithdraw(5, 0, 1 ether, 0, address(0xBEEF)),
            opDeposit(7, KEY_PACKED, 0, 1 ether),
            opWithdraw(6, 0, 2, 0, address(0xCAFE))
        );
        TandemRollup.BatchHeader memory h = zkHeader(data);
        h.feeAccount = 70000;
        commitWith(h, data);
        bytes32 dh = refZkDataHash(h.feeAccount, data, 3);
        uint256[8] memory proof;
        // Past the commitment check: only the verifier refuses.
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, address(this)));
        rollup.proveBatch(1, h.prevStateRoot, h.newStateRoot, dh, proof);
    }

    /// @dev Fuzz of the commit path's (unchecked) expansion: random batches of every op type
    ///      reach the verifier only when the reference dataHash is passed.
    function testFuzz_commit_storesReferenceDataHash(uint256 seed, uint32 feeAccount, uint8 nOps) public {
        enableLane(VERIFIER, 8);
        uint256 n = bound(nOps, 0, 8);
        bytes memory data;
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 t = r % 5;
            if (t == 0) {
                data = bytes.concat(data, opNoop());
            } else if (t == 1) {
                uint128 amount = uint128(r >> 48) % 1e18 + 1;
                depositEth(address(0xD1), amount);
                data = bytes.concat(data, opDeposit(uint24(r >> 8), KEY_PACKED, 0, amount));
            } else if (t == 2) {
                data = bytes.concat(
                    data,
                    opTransfer(
                        uint24(r >> 8), uint24(r >> 32), uint8(r >> 56) & 31, uint32(r >> 64), uint8(r >> 96)
                    )
                );
            } else if (t == 3) {
                data = bytes.concat(
                    data,
                    opTransferToNew(
                        uint24(r >> 8),
                        uint24(r >> 32),
                        keccak256(abi.encode(r)),
                        uint8(r >> 56) & 31,
                        uint32(r >> 64),
                        uint8(r >> 96)
                    )
                );
            } else {
                data = bytes.concat(
                    data,
                    opWithdraw(
                        uint24(r >> 8), 0, uint128(r >> 40), uint8(r >> 168), address(uint160(r >> 96))
                    )
                );
            }
        }
        TandemRollup.BatchHeader memory h = zkHeader(data);
        h.feeAccount = feeAccount;
        commitWith(h, data);
        bytes32 dh = refZkDataHash(feeAccount, data, 8);
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkPublicInputsMismatch.selector, 1));
        rollup.proveBatch(
            1, h.prevStateRoot, h.newStateRoot, bytes32(uint256(dh) ^ (1 << (seed % 253))), proof
        );
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 1, address(this)));
        rollup.proveBatch(1, h.prevStateRoot, h.newStateRoot, dh, proof);
    }

    // ------------------------------------------------------------------ revert hook

    function test_revertHook_forgetsZkCommitment() public {
        ZkRollupHarness harness = new ZkRollupHarness(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, VERIFIER, SLOTS, exitVerifier);
        rollup = harness;
        bytes memory data = transfer(1);
        TandemRollup.BatchHeader memory h = zkHeader(data);
        commitWith(h, data);
        harness.revertBatchesAfter(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, GENESIS_ROOT, 0));
        commit(transfer(9)); // batch 1 again, optimistic
        uint256[8] memory proof;
        bytes32 dh = rollup.zkDataHash(h.feeAccount, data, SLOTS);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.NotZkBatch.selector, 1));
        rollup.proveBatch(1, h.prevStateRoot, h.newStateRoot, dh, proof);
    }
}
