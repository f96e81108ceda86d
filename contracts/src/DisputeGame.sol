// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TandemRollup} from "./TandemRollup.sol";
import {OP_SIZE_TABLE} from "./rollup/ZkLane.sol";
import {BatchProof} from "./libraries/BatchProof.sol";
import {WithdrawalTree} from "./libraries/WithdrawalTree.sol";

/// @title DisputeGame
/// @notice Fault proofs for the optimistic lane (SPEC §17). L1 never sees signatures, so it
///         cannot re-execute a batch; instead anyone may demand, within the challenge window,
///         a validity proof of one chunk of a batch (at most `zkSlots` ops), posting
///         `challengeBond`. A proof within `responseWindow` answers it and earns the bond;
///         without one, anyone reverts the batch and every later batch (the signers of record
///         are slashed, the challenger gets its bond back and the reporter share). A batch
///         with a challenge not answered never finalizes. Every chunk proven makes an
///         optimistic batch final at once. A ZK-lane batch unproven `zkProofDeadline` after
///         its commit is reverted (not slashed: the provers, not the signers, failed).
/// @dev Deploy with the rollup's predicted address (the rollup checks `rollup()`), then the
///      rollup with this address. Invariants:
///      - Challenges and proven chunks are keyed by the batch's record hash, so a revert
///        orphans them in O(1) and a re-committed number starts clean.
///      - A record's `openChallenges` counts its challenges not answered (open or lost).
///      - Each challenge's bond is paid out exactly once: to the prover that answered it, or
///        back to the challenger once the batch is reverted (`reclaimBond`, or at the revert).
///      - Chunk k of a batch with n ops and S = zkSlots covers ops [kS, min((k+1)S, n));
///        there are max(1, ceil(n/S)) chunks. Its start root is the header's prevStateRoot
///        for k = 0, else r_{kS}; its end root is the header's newStateRoot for the last
///        chunk, else r_{(k+1)S}; r_i (the state root after op i) is opened with a path in
///        the header's intermediateRootsRoot (the keccak tree of SPEC §8).
///      - A chunk proof is the batch circuit's proof for (start root, end root,
///        zkDataHash(feeAccount, chunk's ops, S), msg.sender): a chunk is proven exactly like a
///        ZK batch of its ops, and the proof is bound to its submitter.
contract DisputeGame {
    /// @notice The rollup this game serves (a `TandemRollup`).
    TandemRollup public immutable rollup;
    /// @notice Wei a challenge locks; paid to the prover that answers it, else returned.
    uint256 public immutable challengeBond;
    /// @notice Seconds from a challenge to the end of its response window (inclusive).
    uint64 public immutable responseWindow;
    /// @notice Seconds from a ZK-lane batch's commit after which it may be reverted unproven.
    uint64 public immutable zkProofDeadline;

    /// @notice A challenge of one chunk.
    struct Challenge {
        /// Who posted the bond (address(0): no challenge).
        address challenger;
        /// Last second a proof answers it.
        uint64 deadline;
        /// Answered by a proof (its bond went to the prover).
        bool answered;
        /// Bond returned to the challenger (the batch was reverted).
        bool refunded;
    }

    /// @notice The boundary roots of a chunk and their paths in the intermediate-roots tree
    ///         (a path is empty for a root taken from the header: the first chunk's start and
    ///         the last chunk's end).
    struct ChunkBoundary {
        bytes32 startRoot;
        bytes32[] startPath;
        bytes32 endRoot;
        bytes32[] endPath;
    }

    /// @notice Challenge of chunk `chunk` of the batch with record hash `record`.
    mapping(bytes32 record => mapping(uint256 chunk => Challenge)) public challenges;
    /// @notice Number of challenges of a record not answered by a proof.
    mapping(bytes32 record => uint256 count) public openChallenges;
    /// @notice Whether chunk `chunk` of a record is proven.
    mapping(bytes32 record => mapping(uint256 chunk => bool)) public chunkProven;
    /// @notice Number of proven chunks of a record.
    mapping(bytes32 record => uint256 count) public provenChunks;
    /// @notice Wei each address may withdraw (bonds earned or returned).
    mapping(address account => uint256 amount) public owed;

    /// @notice Chunk `chunk` of batch `batchNumber` was challenged by `challenger`; a proof
    ///         answers it until `deadline`.
    event ChunkChallenged(uint64 indexed batchNumber, uint32 chunk, address indexed challenger, uint64 deadline);
    /// @notice Chunk `chunk` of batch `batchNumber` was proven by `prover`; `answered` if that
    ///         answered a challenge (whose bond `prover` earned).
    event ChunkProven(uint64 indexed batchNumber, uint32 chunk, address indexed prover, bool answered);
    /// @notice Batch `batchNumber` was reverted as faulty, with every batch after it:
    ///         `challenger`'s challenge of `chunk` went unanswered (`zkDeadline` false), or the
    ///         ZK batch passed its proof deadline (`zkDeadline` true, chunk 0).
    event FaultyBatchReverted(uint64 indexed batchNumber, uint32 chunk, address indexed challenger, bool zkDeadline);
    /// @notice A challenge's bond went back to `challenger` (its batch was reverted).
    event BondReturned(uint64 indexed batchNumber, uint32 chunk, address indexed challenger, uint256 amount);
    /// @notice `account` withdrew `amount` wei.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice The rollup address is zero.
    error ZeroRollup();
    /// @notice A response window or proof deadline of zero.
    error ZeroWindow();
    /// @notice The challenge bond is zero (challenges must cost something).
    error ZeroBond();
    /// @notice Exodus is active: nothing is challenged, proven or reverted any more.
    error ExodusActive();
    /// @notice Batch `batchNumber` is final.
    error BatchAlreadyFinalized(uint64 batchNumber);
    /// @notice Batch `batchNumber` is not committed (or was reverted).
    error BatchNotCommitted(uint64 batchNumber);
    /// @notice The StoredBatch or header passed for `batchNumber` is not the committed one.
    error StoredBatchMismatch(uint64 batchNumber);
    /// @notice Batch `batchNumber` is in lane `lane`; this needs the other lane.
    error WrongLane(uint64 batchNumber, uint8 lane);
    /// @notice The challenge window of batch `batchNumber` closed at `closedAt`.
    error ChallengeWindowClosed(uint64 batchNumber, uint256 closedAt);
    /// @notice `sent` wei sent; a challenge locks exactly `required`.
    error WrongBond(uint256 sent, uint256 required);
    /// @notice Chunk `chunk` is out of range: the batch has `chunkCount` chunks.
    error ChunkOutOfRange(uint32 chunk, uint256 chunkCount);
    /// @notice Chunk `chunk` of batch `batchNumber` is already challenged.
    error ChunkAlreadyChallenged(uint64 batchNumber, uint32 chunk);
    /// @notice Chunk `chunk` of batch `batchNumber` is already proven.
    error ChunkAlreadyProven(uint64 batchNumber, uint32 chunk);
    /// @notice The response window of the challenge ended at `deadline`.
    error ResponseTooLate(uint64 batchNumber, uint32 chunk, uint64 deadline);
    /// @notice The challenge can still be answered until `deadline`.
    error ResponseWindowOpen(uint64 batchNumber, uint32 chunk, uint64 deadline);
    /// @notice Chunk `chunk` of batch `batchNumber` has no challenge to settle, or it was answered.
    error NoUnansweredChallenge(uint64 batchNumber, uint32 chunk);
    /// @notice The public data does not hash to the header's publicDataHash.
    error PublicDataMismatch(uint64 batchNumber);
    /// @notice A boundary root's path does not open the header's intermediateRootsRoot.
    error BadBoundaryPath(uint64 batchNumber, uint32 chunk);
    /// @notice The verifier refused the chunk proof bound to `prover`.
    error InvalidProof(uint64 batchNumber, uint32 chunk, address prover);
    /// @notice `lastKept` is not the batch just before the one reverted.
    error NotPredecessor(uint64 lastKept, uint64 batchNumber);
    /// @notice ZK batch `batchNumber` may be reverted unproven only from `revertableAt`.
    error ProofDeadlineNotReached(uint64 batchNumber, uint256 revertableAt);
    /// @notice ZK batch `batchNumber` is proven.
    error BatchProven(uint64 batchNumber);
    /// @notice The batch of this challenge is still live (not reverted): its bond is not free.
    error BatchStillLive(uint64 batchNumber);
    /// @notice Nothing to withdraw.
    error NothingOwed();
    /// @notice The ETH transfer to `to` failed.
    error TransferFailed(address to);

    /// @param rollup_ The rollup's (predicted) address.
    /// @param challengeBond_ Wei per challenge (> 0).
    /// @param responseWindow_ Seconds a challenged chunk has to be proven (> 0).
    /// @param zkProofDeadline_ Seconds a ZK-lane batch has to be proven (> 0).
    constructor(address rollup_, uint256 challengeBond_, uint64 responseWindow_, uint64 zkProofDeadline_) {
        if (rollup_ == address(0)) revert ZeroRollup();
        if (challengeBond_ == 0) revert ZeroBond();
        if (responseWindow_ == 0 || zkProofDeadline_ == 0) revert ZeroWindow();
        rollup = TandemRollup(rollup_);
        challengeBond = challengeBond_;
        responseWindow = responseWindow_;
        zkProofDeadline = zkProofDeadline_;
    }

    // ---------------------------------------------------------------------------------------
    // Challenge and answer
    // ---------------------------------------------------------------------------------------

    /// @notice Challenges chunk `chunk` of committed optimistic batch `batch` (its StoredBatch,
    ///         as emitted at commit; `header` its commit's header), locking exactly
    ///         `challengeBond`. Anyone may call, before the batch's challenge window closes.
    /// @dev Refused: exodus; the batch final, not committed, or not matching its record or
    ///      header; a ZK-lane batch (`WrongLane`: it has a proof deadline instead); the window
    ///      closed (`ChallengeWindowClosed`, from committedAt + challengeWindow on, the second
    ///      finalization opens); a wrong bond; chunk out of range; the chunk already
    ///      challenged or proven.
    function challenge(TandemRollup.StoredBatch calldata batch, TandemRollup.BatchHeader calldata header, uint32 chunk)
        external
        payable
    {
        (bytes32 record,,) = _checkOpenChunk(batch, header, chunk);
        uint64 n = batch.batchNumber;
        uint256 closedAt = uint256(batch.committedAt) + rollup.challengeWindow();
        if (block.timestamp >= closedAt) revert ChallengeWindowClosed(n, closedAt);
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        Challenge storage c = challenges[record][chunk];
        if (c.challenger != address(0)) revert ChunkAlreadyChallenged(n, chunk);
        uint64 deadline = uint64(block.timestamp) + responseWindow;
        c.challenger = msg.sender;
        c.deadline = deadline;
        openChallenges[record] += 1;
        emit ChunkChallenged(n, chunk, msg.sender, deadline);
    }

    /// @notice Proves chunk `chunk` of committed optimistic batch `batch` with the batch
    ///         circuit's Groth16 `proof`, bound to msg.sender. Anyone may call, challenged or
    ///         not; a proof within a challenge's response window answers it and credits its
    ///         bond to msg.sender. Once every chunk is proven, the batch is proven on the
    ///         rollup (final as soon as its predecessor is; its market job paid to msg.sender).
    /// @dev `publicData` is the commit's (checked against the header's hash); `boundary` the
    ///      chunk's start and end roots with their paths (see the contract's invariants).
    ///      Refused: exodus; the batch final, not committed, mismatched, or a ZK batch; chunk
    ///      out of range or already proven; a challenge past its response window
    ///      (`ResponseTooLate`); bad public data or paths; the verifier refusing the proof.
    function proveChunk(
        TandemRollup.StoredBatch calldata batch,
        TandemRollup.BatchHeader calldata header,
        bytes calldata publicData,
        uint32 chunk,
        ChunkBoundary calldata boundary,
        uint256[8] calldata proof
    ) external {
        uint64 n = batch.batchNumber;
        (bytes32 record, uint256 count, uint32 slots) = _checkOpenChunk(batch, header, chunk);
        Challenge storage c = challenges[record][chunk];
        bool answers = c.challenger != address(0);
        if (answers && block.timestamp > c.deadline) revert ResponseTooLate(n, chunk, c.deadline);
        if (sha256(publicData) != header.publicDataHash) revert PublicDataMismatch(n);
        _checkBoundary(header, chunk, count, slots, boundary);
        bytes32 dataHash = rollup.zkDataHash(header.feeAccount, _chunkOps(publicData, chunk, slots), slots);
        if (!BatchProof.accepts(rollup.verifier(), boundary.startRoot, boundary.endRoot, dataHash, msg.sender, proof)) {
            revert InvalidProof(n, chunk, msg.sender);
        }

        chunkProven[record][chunk] = true;
        uint256 proven = provenChunks[record] + 1;
        provenChunks[record] = proven;
        if (answers) {
            c.answered = true;
            openChallenges[record] -= 1;
            owed[msg.sender] += challengeBond;
        }
        emit ChunkProven(n, chunk, msg.sender, answers);
        if (proven == count) rollup.markProvenByDisputeGame(n, msg.sender);
    }

    // ---------------------------------------------------------------------------------------
    // Reverts
    // ---------------------------------------------------------------------------------------

    /// @notice Reverts optimistic batch `batch` and every batch after it: its challenge of
    ///         `chunk` was not answered within the response window. Anyone may call.
    ///         `lastKept` is the StoredBatch of the batch before it. The batch's signers of
    ///         record are slashed (staked mode; the challenger gets the reporter share) and
    ///         the challenger's bond is credited back to it.
    /// @dev Refused: exodus; the batch final, not committed or mismatched; no unanswered
    ///      challenge of that chunk; the response window still open (`ResponseWindowOpen`);
    ///      `lastKept` not its predecessor (`NotPredecessor`) or not matching its record.
    function revertUnanswered(
        TandemRollup.StoredBatch calldata batch,
        TandemRollup.StoredBatch calldata lastKept,
        uint32 chunk
    ) external {
        bytes32 record = _checkLive(batch);
        uint64 n = batch.batchNumber;
        Challenge storage c = challenges[record][chunk];
        if (c.challenger == address(0) || c.answered) revert NoUnansweredChallenge(n, chunk);
        if (block.timestamp <= c.deadline) revert ResponseWindowOpen(n, chunk, c.deadline);
        if (lastKept.batchNumber + 1 != n) revert NotPredecessor(lastKept.batchNumber, n);
        address challenger = c.challenger;
        _refund(c, n, chunk);
        emit FaultyBatchReverted(n, chunk, challenger, false);
        rollup.revertFaultyBatch(lastKept, challenger, true);
    }

    /// @notice Reverts ZK-lane batch `batch` and every batch after it: it is still unproven
    ///         `zkProofDeadline` seconds after its commit. Anyone may call. Nobody is slashed
    ///         (a missing proof is the provers' failure as much as the signers').
    /// @dev Refused: exodus; the batch final, not committed, mismatched or optimistic; proven;
    ///      before committedAt + zkProofDeadline (`ProofDeadlineNotReached`); `lastKept` not
    ///      its predecessor or not matching its record.
    function revertUnprovenZkBatch(TandemRollup.StoredBatch calldata batch, TandemRollup.StoredBatch calldata lastKept)
        external
    {
        _checkLive(batch);
        uint64 n = batch.batchNumber;
        if (batch.lane != 1) revert WrongLane(n, batch.lane);
        if (rollup.isProven(n)) revert BatchProven(n);
        uint256 revertableAt = uint256(batch.committedAt) + zkProofDeadline;
        if (block.timestamp < revertableAt) revert ProofDeadlineNotReached(n, revertableAt);
        if (lastKept.batchNumber + 1 != n) revert NotPredecessor(lastKept.batchNumber, n);
        emit FaultyBatchReverted(n, 0, msg.sender, true);
        rollup.revertFaultyBatch(lastKept, msg.sender, false);
    }

    /// @notice Credits the bond of an unanswered challenge of `chunk` of `batch` back to its
    ///         challenger once the batch is no longer live (reverted by this or an earlier
    ///         batch's fault). Anyone may call.
    /// @dev Refused while `batch` is the committed record of its number (`BatchStillLive`),
    ///      and for no challenge, an answered one or one already refunded.
    function reclaimBond(TandemRollup.StoredBatch calldata batch, uint32 chunk) external {
        uint64 n = batch.batchNumber;
        bytes32 record = keccak256(abi.encode(batch));
        if (n <= rollup.lastCommittedBatch() && rollup.batchRecordHash(n) == record) revert BatchStillLive(n);
        Challenge storage c = challenges[record][chunk];
        if (c.challenger == address(0) || c.answered || c.refunded) revert NoUnansweredChallenge(n, chunk);
        _refund(c, n, chunk);
    }

    /// @notice Pays msg.sender everything it is owed (bonds earned or returned).
    function withdraw() external {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed();
        owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice See `IDisputeGame.hasOpenChallenge`.
    function hasOpenChallenge(bytes32 record) external view returns (bool) {
        return openChallenges[record] != 0;
    }

    /// @notice Number of chunks of a batch of `opCount` ops: max(1, ceil(opCount / zkSlots)).
    function chunkCount(uint32 opCount) external view returns (uint256) {
        return _chunkCount(opCount, rollup.zkSlots());
    }

    // ---------------------------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------------------------

    /// @dev Exodus off; `batch` committed, not final, equal to its record; returns the record.
    function _checkLive(TandemRollup.StoredBatch calldata batch) private view returns (bytes32 record) {
        if (rollup.exodusActive()) revert ExodusActive();
        uint64 n = batch.batchNumber;
        if (n <= rollup.lastFinalizedBatch()) revert BatchAlreadyFinalized(n);
        if (n > rollup.lastCommittedBatch()) revert BatchNotCommitted(n);
        record = keccak256(abi.encode(batch));
        if (rollup.batchRecordHash(n) != record) revert StoredBatchMismatch(n);
    }

    /// @dev What `challenge` and `proveChunk` both need: `batch` live (`_checkLive`) and
    ///      optimistic, `header` the one it committed, `chunk` in range and not proven yet.
    ///      Returns the record, the batch's chunk count and S.
    function _checkOpenChunk(
        TandemRollup.StoredBatch calldata batch,
        TandemRollup.BatchHeader calldata header,
        uint32 chunk
    ) private view returns (bytes32 record, uint256 count, uint32 slots) {
        record = _checkLive(batch);
        uint64 n = batch.batchNumber;
        if (batch.lane != 0) revert WrongLane(n, batch.lane);
        if (keccak256(abi.encode(header)) != batch.headerHash) revert StoredBatchMismatch(n);
        slots = rollup.zkSlots();
        count = _chunkCount(header.opCount, slots);
        if (chunk >= count) revert ChunkOutOfRange(chunk, count);
        if (chunkProven[record][chunk]) revert ChunkAlreadyProven(n, chunk);
    }

    function _chunkCount(uint32 opCount, uint32 slots) private pure returns (uint256) {
        if (opCount == 0) return 1;
        return (uint256(opCount) + slots - 1) / slots;
    }

    /// @dev The chunk's start and end roots: from the header at the batch's ends, else opened
    ///      in the intermediate-roots tree (leaf i - 1 is r_i, `opCount` leaves).
    function _checkBoundary(
        TandemRollup.BatchHeader calldata header,
        uint32 chunk,
        uint256 count,
        uint32 slots,
        ChunkBoundary calldata b
    ) private pure {
        uint256 before = uint256(chunk) * slots;
        if (
            !_opensRoot(header, b.startRoot, b.startPath, chunk == 0, header.prevStateRoot, before)
                || !_opensRoot(header, b.endRoot, b.endPath, chunk + 1 == count, header.newStateRoot, before + slots)
        ) revert BadBoundaryPath(header.batchNumber, chunk);
    }

    /// @dev Whether `root` is the state root after the batch's first `opsDone` ops: at the
    ///      batch's end (`atEnd`) the header's `headerRoot` with an empty path, else r_opsDone
    ///      opened by `path` at leaf `opsDone - 1` of the intermediate-roots tree.
    function _opensRoot(
        TandemRollup.BatchHeader calldata header,
        bytes32 root,
        bytes32[] calldata path,
        bool atEnd,
        bytes32 headerRoot,
        uint256 opsDone
    ) private pure returns (bool) {
        if (atEnd) return root == headerRoot && path.length == 0;
        return WithdrawalTree.verify(header.intermediateRootsRoot, header.opCount, opsDone - 1, root, path);
    }

    /// @dev The bytes of ops [chunk·slots, (chunk+1)·slots) of `data` (already known to parse:
    ///      the commit checked it and the header pins its hash), found by walking op sizes.
    function _chunkOps(bytes calldata data, uint32 chunk, uint32 slots) private pure returns (bytes calldata) {
        uint256 first = uint256(chunk) * slots;
        uint256 end = first + slots;
        uint256 offset;
        uint256 start;
        uint256 index;
        while (offset < data.length && index < end) {
            if (index == first) start = offset;
            offset += (OP_SIZE_TABLE >> ((uint8(data[offset]) >> 5) * 8)) & 0xff;
            index += 1;
        }
        if (index <= first) start = offset;
        return data[start:offset];
    }

    /// @dev Credits an unanswered challenge's bond back to its challenger (once).
    function _refund(Challenge storage c, uint64 n, uint32 chunk) private {
        c.refunded = true;
        owed[c.challenger] += challengeBond;
        emit BondReturned(n, chunk, c.challenger, challengeBond);
    }
}
