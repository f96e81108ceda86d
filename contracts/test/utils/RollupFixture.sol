// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./Test.sol";
import {TandemRollup} from "../../src/TandemRollup.sol";
import {DevToken} from "../../src/DevToken.sol";
import {Verifier as ExitVerifierD4} from "../../src/verifiers/ExitVerifier_D4.sol";

/// @notice Shared set-up for rollup tests: a deployed rollup with one registered DevToken,
///         encoders for every op of SPEC §4.2, a reference (slow, plain Solidity) reader of
///         public data, and an independent withdrawal Merkle tree.
abstract contract RollupFixture is Test {
    TandemRollup internal rollup;
    DevToken internal token;
    uint8 internal tokenId;

    address internal constant OWNER = address(0xA11CE);
    address internal constant SEQUENCER = address(0x5E0);
    bytes32 internal constant GENESIS_ROOT = keccak256("tandem.genesis");
    uint64 internal constant WINDOW = 1 days;
    /// @dev The shortest admin delay the rollup accepts with WINDOW.
    uint64 internal constant ADMIN_DELAY = 1 hours + WINDOW + 1 days;
    uint256 internal constant T0 = 1_700_000_000;
    /// @dev Priority deadline of every test rollup: the largest allowed (FORCED_WITHDRAWAL_DEADLINE).
    uint64 internal constant PRIORITY_DEADLINE = 1 hours;
    /// @dev The exit verifier every test rollup gets (deployed with the test contract, so
    ///      CREATE-address predictions in setUp are not disturbed).
    address internal exitVerifier = address(new ExitVerifierD4());

    // Baby Jubjub point from the brief; circomlib packs it to KEY_PACKED.
    uint256 internal constant KEY_X =
        17777552123799933955779906779655732241715742912184938656739573121738514868268;
    uint256 internal constant KEY_Y =
        2626589144620713026669568689430873010625803728049924121243784502389097019475;
    bytes32 internal constant KEY_PACKED = 0x53b81ed5bffe9545b54016234682e7b2f699bd42a5e9eae27ff4051bc698ce85;
    // Base8 of SPEC §2 (circomlibjs packPoint).
    uint256 internal constant B8_X =
        5299619240641551281634865583518297030282874472190772894086521144482721001553;
    uint256 internal constant B8_Y =
        16950150798460657717958625567821834550301663161624707787222815936182638968203;
    bytes32 internal constant B8_PACKED = 0x8b7d2d877a253c4b7733e1b91f05e0fcedf96bd11c2e572549b2a0f703727925;

    uint256 internal constant P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    struct Withdrawal {
        uint8 tokenId;
        uint128 amount;
        address recipient;
    }

    function setUp() public virtual {
        vm.warp(T0);
        deployRollup(GENESIS_ROOT, address(0), 0);
    }

    /// @dev A fresh rollup from `genesisRoot` with validity-lane `verifier` of `slots` op slots
    ///      (address(0), 0: none), and a fresh DevToken registered on it.
    function deployRollup(bytes32 genesisRoot, address verifier, uint32 slots) internal {
        rollup = new TandemRollup(OWNER, SEQUENCER, genesisRoot, WINDOW, verifier, slots, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        token = new DevToken("Tandem Dev", "TDEV", 18, address(this), 0);
        vm.prank(OWNER);
        tokenId = rollup.addToken(address(token));
    }

    // ------------------------------------------------------------------ op encoders (SPEC §4.2)

    function opNoop() internal pure returns (bytes memory) {
        return hex"00";
    }

    function opDeposit(uint24 to, bytes32 packedKey, uint8 tok, uint128 amount) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8((1 << 5) | tok), to, packedKey, amount);
    }

    function opTransfer(uint24 from, uint24 to, uint8 tok, uint32 packedAmount, uint8 packedFee)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint8((2 << 5) | tok), from, to, packedAmount, packedFee);
    }

    function opTransferToNew(uint24 from, uint24 to, bytes32 key, uint8 tok, uint32 packedAmount, uint8 packedFee)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint8((3 << 5) | tok), from, to, key, packedAmount, packedFee);
    }

    function opWithdraw(uint24 from, uint8 tok, uint128 amount, uint8 packedFee, address to)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint8((4 << 5) | tok), from, amount, packedFee, to);
    }

    // ------------------------------------------------------------------ reference reader

    function opSize(uint8 opType) internal pure returns (uint256) {
        if (opType == 0) return 1;
        if (opType == 1) return 52;
        if (opType == 2) return 12;
        if (opType == 3) return 44;
        if (opType == 4) return 41;
        revert("unknown op type");
    }

    /// @dev Counts ops and extracts withdrawals, byte by byte (independent of the contract's parser).
    function readPublicData(bytes memory data)
        internal
        pure
        returns (uint256 ops, uint256 deposits, Withdrawal[] memory ws)
    {
        uint256 n;
        uint256 i;
        while (i < data.length) {
            uint8 t = uint8(data[i]) >> 5;
            if (t == 4) n++;
            i += opSize(t);
        }
        require(i == data.length, "reference reader: truncated");
        ws = new Withdrawal[](n);
        n = 0;
        i = 0;
        while (i < data.length) {
            uint8 h = uint8(data[i]);
            uint8 t = h >> 5;
            ops++;
            if (t == 1) deposits++;
            if (t == 4) {
                uint128 amount;
                address to;
                for (uint256 k = 0; k < 16; k++) amount = (amount << 8) | uint128(uint8(data[i + 4 + k]));
                uint160 a;
                for (uint256 k = 0; k < 20; k++) a = (a << 8) | uint160(uint8(data[i + 21 + k]));
                to = address(a);
                ws[n++] = Withdrawal({tokenId: h & 0x1f, amount: amount, recipient: to});
            }
            i += opSize(t);
        }
    }

    // ------------------------------------------------------------------ withdrawal Merkle tree

    function leafOf(Withdrawal memory w) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(w.tokenId, w.amount, w.recipient));
    }

    function leavesOf(Withdrawal[] memory ws) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](ws.length);
        for (uint256 i = 0; i < ws.length; i++) leaves[i] = leafOf(ws[i]);
    }

    function nextLevel(bytes32[] memory level) internal pure returns (bytes32[] memory up) {
        up = new bytes32[]((level.length + 1) / 2);
        for (uint256 i = 0; i < up.length; i++) {
            bytes32 l = level[2 * i];
            bytes32 r = 2 * i + 1 < level.length ? level[2 * i + 1] : bytes32(0);
            up[i] = keccak256(abi.encodePacked(l, r));
        }
    }

    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        bytes32[] memory level = leaves;
        while (level.length > 1) level = nextLevel(level);
        return level[0];
    }

    function merkleProof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory proof) {
        uint256 depth;
        while ((uint256(1) << depth) < leaves.length) depth++;
        proof = new bytes32[](depth);
        bytes32[] memory level = leaves;
        for (uint256 d = 0; d < depth; d++) {
            uint256 sib = index ^ 1;
            proof[d] = sib < level.length ? level[sib] : bytes32(0);
            level = nextLevel(level);
            index >>= 1;
        }
    }

    // ------------------------------------------------------------------ batches

    /// @dev A test state root: `seed` with its top 3 bits cleared, so below the BN254 scalar
    ///      field modulus (commits refuse roots >= r; real roots are Poseidon outputs).
    function fieldRoot(bytes32 seed) internal pure returns (bytes32) {
        return seed & bytes32(type(uint256).max >> 3);
    }

    /// @dev A copy of `sb` (memory structs alias on assignment), to forge a record from.
    function commitRecordCopy(TandemRollup.StoredBatch memory sb)
        internal
        pure
        returns (TandemRollup.StoredBatch memory c)
    {
        c = TandemRollup.StoredBatch(
            sb.batchNumber,
            sb.lane,
            sb.committedAt,
            sb.priorityOpsEnd,
            sb.withdrawalCount,
            sb.headerHash,
            sb.newStateRoot,
            sb.withdrawalsRoot
        );
    }

    function nextHeader(bytes memory data) internal view returns (TandemRollup.BatchHeader memory h) {
        (uint256 ops, uint256 deposits,) = readPublicData(data);
        h.batchNumber = rollup.lastCommittedBatch() + 1;
        h.prevStateRoot = rollup.lastCommittedStateRoot();
        h.newStateRoot = fieldRoot(keccak256(abi.encode("root", h.batchNumber, data)));
        h.publicDataHash = sha256(data);
        h.intermediateRootsRoot = keccak256(abi.encode("intermediate", h.batchNumber));
        h.priorityOpsCount = uint32(deposits);
        h.lane = 0;
        h.opCount = uint32(ops);
        h.feeAccount = 1;
    }

    /// @dev Commits `data` as the next batch with a consistent header; returns the StoredBatch
    ///      the test expects (built independently) after checking it against the contract.
    function commit(bytes memory data) internal virtual returns (TandemRollup.StoredBatch memory sb) {
        return commitWith(nextHeader(data), data);
    }

    function commitWith(TandemRollup.BatchHeader memory h, bytes memory data)
        internal
        returns (TandemRollup.StoredBatch memory sb)
    {
        uint64 headBefore = rollup.priorityHead();
        vm.prank(SEQUENCER);
        rollup.commitBatch(h, data);
        (,, Withdrawal[] memory ws) = readPublicData(data);
        sb = TandemRollup.StoredBatch({
            batchNumber: h.batchNumber,
            lane: h.lane,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: headBefore + h.priorityOpsCount,
            withdrawalCount: uint32(ws.length),
            headerHash: keccak256(abi.encode(h)),
            newStateRoot: h.newStateRoot,
            withdrawalsRoot: merkleRoot(leavesOf(ws))
        });
        assertEq(rollup.batchRecordHash(h.batchNumber), keccak256(abi.encode(sb)), "stored batch record");
        assertEq(rollup.lastCommittedBatch(), h.batchNumber, "committed tip");
        assertEq(rollup.lastCommittedStateRoot(), h.newStateRoot, "committed root");
        assertEq(rollup.priorityHead(), sb.priorityOpsEnd, "priority head");
    }

    function expectCommitRevert(TandemRollup.BatchHeader memory h, bytes memory data, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(SEQUENCER);
        rollup.commitBatch(h, data);
    }

    function finalizeAfterWindow(TandemRollup.StoredBatch memory sb) internal {
        if (block.timestamp < sb.committedAt + WINDOW) vm.warp(sb.committedAt + WINDOW);
        rollup.finalizeBatch(sb);
        assertEq(rollup.lastFinalizedBatch(), sb.batchNumber, "finalized tip");
    }

    /// @dev Claims withdrawal `index` of the batch built from `data`, with a proof from the
    ///      test's own tree.
    function claim(uint64 batchNumber, bytes memory data, uint256 index) internal {
        (,, Withdrawal[] memory ws) = readPublicData(data);
        bytes32[] memory proof = merkleProof(leavesOf(ws), index);
        Withdrawal memory w = ws[index];
        rollup.claimWithdrawal(batchNumber, uint32(index), w.tokenId, w.amount, w.recipient, proof);
    }

    function depositEth(address from, uint256 amount) internal returns (uint64 idx) {
        vm.deal(from, from.balance + amount);
        vm.prank(from);
        idx = rollup.depositETH{value: amount}(KEY_X, KEY_Y);
    }

    function depositToken(address from, uint128 amount) internal returns (uint64 idx) {
        token.mint(from, amount);
        vm.prank(from);
        token.approve(address(rollup), amount);
        vm.prank(from);
        idx = rollup.depositERC20(address(token), amount, KEY_X, KEY_Y);
    }
}
