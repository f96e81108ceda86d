// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProverMarket} from "../interfaces/IProverMarket.sol";
import {BatchProof} from "../libraries/BatchProof.sol";
import {PublicDataParser} from "./PublicDataParser.sol";

// Byte t (from the low end) = encoded size of op type t (0 for types 6, 7): 52, 41, 44, 12,
// 52, 1 (SPEC §4.2, as `PublicDataParser`'s SIZE_* constants). File-level: the dispute game
// walks chunks with it too.
uint256 constant OP_SIZE_TABLE = 0x34292c0c3401;

/// @title ZkLane
/// @notice The validity lane (SPEC §10): the Groth16 verifier (fixed at deployment), the
///         per-batch commitment to a ZK batch's public inputs stored at commit, `proveBatch`,
///         and the data commitment `zkDataHash` both the commit and the proofs use. A proof
///         counts only if the verifier call succeeds and returns exactly `true` (one ABI word 1).
///         The prover market (SPEC §15), if set, is told of every accepted proof (`onProven`)
///         in the same transaction, so it pays the address the proof is bound to.
/// @dev `TandemRollup` calls `_checkZkLane` and `_storeZkCommitment` from its commit,
///      `_verifyProof` and `_markProven` from `proveOptimisticBatch` and the dispute game's
///      chunk proofs, and opens market jobs at commit; finality reads `_zkBatch` (ZK_PROVEN).
abstract contract ZkLane is PublicDataParser {
    /// @notice Bytes per op record in the validity lane's data commitment (the largest op,
    ///         Deposit); see `zkDataHash`.
    uint256 public constant ZK_RECORD_BYTES = 52;
    // `_zkBatch` value of a proven batch (a keccak commitment is never 1).
    bytes32 internal constant ZK_PROVEN = bytes32(uint256(1));

    /// @notice Groth16 verifier of the validity lane, fixed at deployment (address(0): the
    ///         validity lane is off for good). No owner can change it: a verifier that accepts
    ///         anything would finalize any state at once, faster than users can leave.
    address public immutable verifier;
    /// @notice Op slots `S` of the circuit behind `verifier`: a ZK batch has at most this many
    ///         ops (0 exactly when there is no verifier).
    uint32 public immutable zkSlots;
    /// @notice The prover market (`IProverMarket`), fixed at deployment, bound to this rollup
    ///         (address(0): none). Commits with value open its jobs; every accepted proof
    ///         settles the batch's job (`onProven`), which may refuse the proof only while
    ///         another prover's lock is active (`IProverMarket.LockedByAnotherProver`), at most until the
    ///         job's deadline.
    address public immutable market;
    /// @dev Per committed batch, keyed by its record hash (`batchRecordHash`): for a ZK batch
    ///      keccak256(abi.encode(prevStateRoot, newStateRoot, dataHash)) (the proof's public
    ///      inputs but the prover) until proven, then ZK_PROVEN; for an optimistic batch 0 until
    ///      proven (`proveOptimisticBatch`, or every chunk through the dispute game), then
    ///      ZK_PROVEN. Keyed by record, not number, so a revert leaves nothing to clear: a
    ///      dropped batch's entry belongs to a record no live number points to (O(1) revert).
    mapping(bytes32 record => bytes32 commitment) internal _zkBatch;

    /// @notice The validity lane is on (emitted at deployment): ZK batches of at most `zkSlots`
    ///         ops, proven against `verifier`.
    event VerifierSet(address indexed verifier, uint32 zkSlots);
    /// @notice ZK batch `batchNumber` was proven by `prover` (it is final once its predecessor is
    ///         and someone calls `finalizeBatch`).
    event BatchProven(uint64 indexed batchNumber, address indexed prover);

    /// @notice `verifier` has no code.
    error VerifierHasNoCode(address verifier);
    /// @notice A verifier needs `zkSlots` of at least 1.
    error ZeroZkSlots();
    /// @notice `zkSlots` (`zkSlots`) given without a verifier.
    error ZkSlotsWithoutVerifier(uint32 zkSlots);
    /// @notice No verifier is set: the validity lane is off.
    error VerifierNotSet();
    /// @notice Batch `batchNumber` is committed in the optimistic lane (or is genesis).
    error NotZkBatch(uint64 batchNumber);
    /// @notice ZK batch `batchNumber` is already proven.
    error BatchAlreadyProven(uint64 batchNumber);
    /// @notice (prevStateRoot, newStateRoot, dataHash) passed for `batchNumber` are not the committed ones.
    error ZkPublicInputsMismatch(uint64 batchNumber);
    /// @notice The verifier refused the proof for `batchNumber` with `prover` as the bound address.
    error InvalidProof(uint64 batchNumber, address prover);
    /// @notice The prover market `market` has no code.
    error MarketHasNoCode(address market);
    /// @notice The prover market serves `rollup`, not this rollup.
    error MarketNotBound(address rollup);


    /// @param verifier_ Groth16 verifier of the batch circuit with `S = zkSlots_`
    ///        (`IBatchVerifier`), or address(0) for no validity lane (then `zkSlots_` is 0).
    /// @param zkSlots_ Op slots of that circuit (>= 1 with a verifier).
    /// @param market_ Prover market deployed with this rollup's address (`rollup()` must be
    ///        this contract), or address(0) for none.
    constructor(address verifier_, uint32 zkSlots_, address market_) {
        if (verifier_ == address(0)) {
            if (zkSlots_ != 0) revert ZkSlotsWithoutVerifier(zkSlots_);
        } else {
            if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
            if (zkSlots_ == 0) revert ZeroZkSlots();
            emit VerifierSet(verifier_, zkSlots_);
        }
        if (market_ != address(0)) {
            if (market_.code.length == 0) revert MarketHasNoCode(market_);
            address bound = IProverMarket(market_).rollup();
            if (bound != address(this)) revert MarketNotBound(bound);
        }
        verifier = verifier_;
        zkSlots = zkSlots_;
        market = market_;
    }

    /// @notice Proves committed ZK batch `batchNumber` with Groth16 `proof` over the public
    ///         inputs (prevStateRoot, newStateRoot, dataHash, msg.sender): the proof binds the
    ///         address that submits it, so a copied proof fails. Anyone may call (with a proof
    ///         made for their own address).
    /// @dev `prevStateRoot`, `newStateRoot` are the batch header's; `dataHash` is
    ///      `zkDataHash(header.feeAccount, publicData, zkSlots)` (all three are checked against
    ///      the commitment stored at commit). Requires: exodus not active (`ExodusActive`); a verifier is set; the batch is
    ///      committed, in lane 1, not proven yet; the verifier accepts the proof. Effects: the
    ///      batch is proven (`isProven`), so `finalizeBatch` accepts it once its predecessor is
    ///      final; emits BatchProven.
    function proveBatch(
        uint64 batchNumber,
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 dataHash,
        uint256[8] calldata proof
    ) external {
        _requireNoExodus();
        address v = verifier;
        if (v == address(0)) revert VerifierNotSet();
        if (batchNumber == 0 || batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        bytes32 record = batchRecordHash[batchNumber];
        bytes32 commitment = _zkBatch[record];
        if (commitment == 0) revert NotZkBatch(batchNumber);
        if (commitment == ZK_PROVEN) revert BatchAlreadyProven(batchNumber);
        if (keccak256(abi.encode(prevStateRoot, newStateRoot, dataHash)) != commitment) {
            revert ZkPublicInputsMismatch(batchNumber);
        }
        _verifyProof(v, batchNumber, prevStateRoot, newStateRoot, dataHash, proof);
        _markProven(record, batchNumber, msg.sender);
    }

    /// @dev Records batch `batchNumber` (record hash `record`) as proven by `prover` (the
    ///      address its proof, or its chunks' proofs, are bound to), emits BatchProven, and
    ///      lets the market (if any) settle its job for `prover` (without an open job it does
    ///      nothing).
    function _markProven(bytes32 record, uint64 batchNumber, address prover) internal {
        _zkBatch[record] = ZK_PROVEN;
        emit BatchProven(batchNumber, prover);
        address m = market;
        if (m != address(0)) IProverMarket(m).onProven(batchNumber, prover);
    }

    /// @dev Calls `v.verifyProof(proof, [prevStateRoot, newStateRoot, dataHash, msg.sender])`;
    ///      valid iff the call succeeds and returns exactly the ABI word `true` (32 bytes, 1).
    ///      Anything else reverts `InvalidProof(batchNumber, msg.sender)`: a revert, `false`,
    ///      and also empty return data, which is what a call to an address without code or to
    ///      a contract whose fallback ignores the selector returns.
    function _verifyProof(
        address v,
        uint64 batchNumber,
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 dataHash,
        uint256[8] calldata proof
    ) internal view {
        if (!BatchProof.accepts(v, prevStateRoot, newStateRoot, dataHash, msg.sender, proof)) {
            revert InvalidProof(batchNumber, msg.sender);
        }
    }

    /// @notice Whether batch `batchNumber` is proven: a ZK batch by `proveBatch`, an optimistic
    ///         one by `proveOptimisticBatch` (false for unproven batches and genesis).
    function isProven(uint64 batchNumber) external view returns (bool) {
        if (batchNumber > _lastCommittedBatch) return false;
        return _zkBatch[batchRecordHash[batchNumber]] == ZK_PROVEN;
    }

    /// @notice The validity lane's data commitment (SPEC §10), the proof's public input
    ///         `dataHash`: sha256(feeAccount as 4 bytes big-endian ‖ rec_1 ‖ … ‖ rec_slots) with
    ///         the top 3 bits cleared, where rec_i is op i of `publicData` right-padded with
    ///         zeros to ZK_RECORD_BYTES (52) and missing ops are 52 zero bytes.
    /// @dev Reverts like commitBatch on malformed public data (UnknownOpType, TruncatedOp,
    ///      NonCanonicalNoop) and with ZkBatchTooLarge for more than `slots` ops.
    function zkDataHash(uint32 feeAccount, bytes calldata publicData, uint32 slots) external view returns (bytes32) {
        return _zkDataHash(feeAccount, publicData, slots, true);
    }

    /// @dev Lane `lane` != 0 is accepted only as lane 1 with a verifier set and at most
    ///      `zkSlots` declared ops (the commit then checks the declared count).
    function _checkZkLane(uint8 lane, uint32 opCount) internal view {
        if (lane != LANE_ZK || verifier == address(0)) revert UnsupportedLane(lane);
        uint32 slots = zkSlots;
        if (opCount > slots) revert ZkBatchTooLarge(opCount, slots);
    }

    /// @dev The ZK batch of record hash `record` (public data already checked): stores the commitment to the
    ///      proof's public inputs prevStateRoot, newStateRoot, dataHash (the prover is bound at
    ///      proving).
    function _storeZkCommitment(
        bytes32 record,
        uint32 feeAccount,
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes calldata publicData
    ) internal {
        bytes32 dataHash = _zkDataHash(feeAccount, publicData, zkSlots, false);
        _zkBatch[record] = keccak256(abi.encode(prevStateRoot, newStateRoot, dataHash));
    }

    /// @dev `zkDataHash`: expands the compact ops of `data` into 52-byte records in scratch
    ///      memory past the free memory pointer (4-byte fee account, then `slots` records,
    ///      zeroed first), one calldatacopy per op (sizes from OP_SIZE_TABLE), and hashes the
    ///      buffer in place with the sha256 precompile. `checked`: one test per op covers
    ///      unknown types, truncation, non-canonical Noops and running out of slots (the cold
    ///      path names it); unchecked (commit path) when `_parseOps` already accepted `data` and
    ///      its op count is at most `slots`.
    function _zkDataHash(uint256 feeAccount, bytes calldata data, uint256 slots, bool checked)
        internal
        view
        returns (bytes32 dataHash)
    {
        uint256 bad; // 0, or 1 + the byte offset of the op that fails
        assembly ("memory-safe") {
            let len := add(4, mul(ZK_RECORD_BYTES, slots))
            let buf := mload(0x40)
            calldatacopy(buf, calldatasize(), len) // zeros: calldata past its end
            mstore(buf, shl(224, feeAccount))
            let out := add(buf, 4)
            let outEnd := add(out, mul(ZK_RECORD_BYTES, slots))
            let ptr := data.offset
            let end := add(ptr, data.length)
            for {} and(iszero(checked), lt(ptr, end)) {} {
                let size := byte(sub(31, shr(253, calldataload(ptr))), OP_SIZE_TABLE)
                calldatacopy(out, ptr, size)
                out := add(out, ZK_RECORD_BYTES)
                ptr := add(ptr, size)
            }
            for {} lt(ptr, end) {} {
                let h := byte(0, calldataload(ptr))
                let size := byte(sub(31, shr(5, h)), OP_SIZE_TABLE)
                if or(
                    or(iszero(size), gt(add(ptr, size), end)),
                    or(and(lt(h, 0x20), gt(h, 0)), iszero(lt(out, outEnd)))
                ) {
                    bad := add(sub(ptr, data.offset), 1)
                    break
                }
                calldatacopy(out, ptr, size)
                out := add(out, ZK_RECORD_BYTES)
                ptr := add(ptr, size)
            }
            if iszero(bad) {
                if iszero(staticcall(gas(), 0x02, buf, len, 0x00, 0x20)) { revert(0, 0) }
                dataHash := and(mload(0x00), shr(3, not(0)))
            }
        }
        if (bad != 0) _revertZkData(data, bad - 1, slots);
    }

    /// @dev Cold path of `_zkDataHash`: the error for the op at `offset` (the first one not
    ///      expanded); when it is well-formed, there are more than `slots` ops: counts them all
    ///      (or names a malformed later op).
    function _revertZkData(bytes calldata data, uint256 offset, uint256 slots) private pure {
        uint256 found = slots;
        uint256 i = offset;
        while (i < data.length) {
            uint8 h = uint8(data[i]);
            uint256 size = _opSize(h >> 5);
            if (size == type(uint256).max) revert UnknownOpType(i, h >> 5);
            if (i + size > data.length) revert TruncatedOp(i, h >> 5);
            if (h != 0 && h < 0x20) revert NonCanonicalNoop(i, h);
            found++;
            i += size;
        }
        revert ZkBatchTooLarge(found, slots);
    }
}
