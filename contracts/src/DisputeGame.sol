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
///         In single-sequencer mode the sequencer must hold a bond of at least `sequencerBond`
///         here to commit; the committer of a batch reverted for an unanswered challenge loses
///         all of it (`SEQUENCER_BOND_REPORTER_BPS` to the challenger, the rest burned). In
///         staked mode `sequencerBond` is 0: the set's stake is the bond (`SequencerStaking`).
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
///      - The committer of a batch is the rollup's sequencer at its `committedAt`: the rollup
///        reports each sequencer change (`onSequencerChange`) and a new sequencer may commit
///        only from the second after it (`SequencerJustChanged`), so the current and the
///        previous sequencer's commit times are disjoint intervals. A batch committed before
///        the previous change has no committer of record (it would have had to sit reverted-
///        able but unreverted for a whole admin delay).
///      - A sequencer bond that asked to leave stops authorizing commits at once and stays
///        slashable until `unlockAt`: past the challenge window of its last batch plus two
///        response windows (one to answer a challenge, one to get the revert in).
///      - ETH held = sum of `owed` + sequencer bonds + bonds of challenges not yet paid out
///        + `burnedSequencerBonds` (no function moves the burned part).
contract DisputeGame {
    /// @notice Share of a slashed sequencer bond paid to the challenger whose challenge went
    ///         unanswered, in basis points; the rest is burned.
    uint256 public constant SEQUENCER_BOND_REPORTER_BPS = 3_000;

    /// @notice The rollup this game serves (a `TandemRollup`).
    TandemRollup public immutable rollup;
    /// @notice Wei a challenge locks; paid to the prover that answers it, else returned.
    uint256 public immutable challengeBond;
    /// @notice Seconds from a challenge to the end of its response window (inclusive).
    uint64 public immutable responseWindow;
    /// @notice Seconds from a ZK-lane batch's commit after which it may be reverted unproven.
    uint64 public immutable zkProofDeadline;
    /// @notice Wei a single sequencer must hold here to commit (0: staked mode, no such bond).
    uint256 public immutable sequencerBond;

    /// @notice A sequencer's bond.
    struct SequencerBondAccount {
        /// Wei held (below 2^192: more than all ETH).
        uint192 amount;
        /// 0 while active; else the first second it may be withdrawn (commits stopped).
        uint64 unlockAt;
    }

    /// @notice Second of the last sequencer change reported by the rollup (0: none yet): the
    ///         current sequencer committed every batch with a later `committedAt`.
    uint64 public sequencerSince;
    /// @notice Second of the change before that (0: none): the previous sequencer committed
    ///         the batches with `committedAt` in (previousSequencerSince, sequencerSince].
    uint64 public previousSequencerSince;
    /// @notice The sequencer before the last change (address(0): none yet).
    address public previousSequencer;
    /// @notice Wei of slashed sequencer bonds not paid to challengers; no function moves it.
    uint256 public burnedSequencerBonds;

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
    /// @notice Each sequencer's bond (single-sequencer mode).
    mapping(address sequencer => SequencerBondAccount) public sequencerBonds;

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
    /// @notice `sequencer` added `amount` wei to its bond, which now holds `total`.
    event SequencerBondPosted(address indexed sequencer, uint256 amount, uint256 total);
    /// @notice `sequencer` asked for its bond back: it commits no more and may withdraw from `unlockAt`.
    event SequencerBondWithdrawalRequested(address indexed sequencer, uint64 unlockAt);
    /// @notice `sequencer` withdrew its bond of `amount` wei.
    event SequencerBondWithdrawn(address indexed sequencer, uint256 amount);
    /// @notice `sequencer`, committer of reverted batch `batchNumber`, lost its bond:
    ///         `toChallenger` wei to `challenger`, `burned` wei burned.
    event SequencerBondSlashed(
        address indexed sequencer, uint64 indexed batchNumber, address challenger, uint256 toChallenger, uint256 burned
    );

    /// @notice The rollup address is zero.
    error ZeroRollup();
    /// @notice A response window or proof deadline of zero.
    error ZeroWindow();
    /// @notice A bond of zero: the challenge bond at deployment (challenges must cost
    ///         something), or a sequencer bond posted without value.
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
    /// @notice Only the rollup reports sequencer changes; `caller` is not it.
    error NotRollup(address caller);
    /// @notice This game takes no sequencer bonds (`sequencerBond` is 0: staked mode).
    error NoSequencerBonds();
    /// @notice `sequencer` holds `held` wei of bond; committing needs `required`.
    error SequencerBondTooLow(address sequencer, uint256 held, uint256 required);
    /// @notice `sequencer`'s bond is leaving (withdrawable from `unlockAt`): no commits, no top-ups.
    error SequencerBondLeaving(address sequencer, uint64 unlockAt);
    /// @notice `sequencer` has no bond here.
    error NoSequencerBond(address sequencer);
    /// @notice `sequencer` has not asked for its bond back (`requestSequencerBondWithdrawal`).
    error SequencerBondNotLeaving(address sequencer);
    /// @notice The bond stays slashable until `unlockAt`.
    error SequencerBondLocked(address sequencer, uint64 unlockAt);
    /// @notice The sequencer changed in this second (`changedAt`): the new one commits from the next.
    error SequencerJustChanged(uint64 changedAt);

    /// @param rollup_ The rollup's (predicted) address.
    /// @param challengeBond_ Wei per challenge (> 0).
    /// @param responseWindow_ Seconds a challenged chunk has to be proven (> 0).
    /// @param zkProofDeadline_ Seconds a ZK-lane batch has to be proven (> 0).
    /// @param sequencerBond_ Wei a single sequencer must hold to commit; 0 for a staked rollup
    ///        (`TandemRollup` refuses 0, `StakedRollup` anything else).
    constructor(
        address rollup_,
        uint256 challengeBond_,
        uint64 responseWindow_,
        uint64 zkProofDeadline_,
        uint256 sequencerBond_
    ) {
        if (rollup_ == address(0)) revert ZeroRollup();
        if (challengeBond_ == 0) revert ZeroBond();
        if (responseWindow_ == 0 || zkProofDeadline_ == 0) revert ZeroWindow();
        rollup = TandemRollup(rollup_);
        challengeBond = challengeBond_;
        responseWindow = responseWindow_;
        zkProofDeadline = zkProofDeadline_;
        sequencerBond = sequencerBond_;
    }

    // ---------------------------------------------------------------------------------------
    // Sequencer bond (single-sequencer mode)
    // ---------------------------------------------------------------------------------------

    /// @notice Adds msg.value to msg.sender's sequencer bond. Anyone may post; only the
    ///         rollup's sequencer's bond authorizes commits.
    /// @dev Refused: no sequencer bonds here (`NoSequencerBonds`), no value (`ZeroBond`), a
    ///      bond that is leaving (`SequencerBondLeaving`).
    function postSequencerBond() external payable {
        if (sequencerBond == 0) revert NoSequencerBonds();
        if (msg.value == 0) revert ZeroBond();
        SequencerBondAccount storage b = sequencerBonds[msg.sender];
        if (b.unlockAt != 0) revert SequencerBondLeaving(msg.sender, b.unlockAt);
        // Safe: msg.value and every bond are below 2^192 wei (more than all ETH).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint192 total = b.amount + uint192(msg.value);
        b.amount = total;
        emit SequencerBondPosted(msg.sender, msg.value, total);
    }

    /// @notice Reverts unless `committer` may commit now: it holds at least `sequencerBond`,
    ///         not leaving, and the sequencer did not change in this second. The rollup calls
    ///         it on every single-sequencer commit.
    function checkSequencerBond(address committer) external view {
        uint64 since = sequencerSince;
        if (block.timestamp <= since) revert SequencerJustChanged(since);
        SequencerBondAccount memory b = sequencerBonds[committer];
        if (b.unlockAt != 0) revert SequencerBondLeaving(committer, b.unlockAt);
        if (b.amount < sequencerBond) revert SequencerBondTooLow(committer, b.amount, sequencerBond);
    }

    /// @notice Stops msg.sender's bond from authorizing commits, and starts its release:
    ///         withdrawable from now + challengeWindow + 2 * responseWindow.
    /// @dev Refused: no bond (`NoSequencerBond`), already leaving (`SequencerBondLeaving`).
    function requestSequencerBondWithdrawal() external {
        SequencerBondAccount storage b = sequencerBonds[msg.sender];
        if (b.amount == 0) revert NoSequencerBond(msg.sender);
        if (b.unlockAt != 0) revert SequencerBondLeaving(msg.sender, b.unlockAt);
        uint64 unlockAt = uint64(block.timestamp) + rollup.challengeWindow() + 2 * responseWindow;
        b.unlockAt = unlockAt;
        emit SequencerBondWithdrawalRequested(msg.sender, unlockAt);
    }

    /// @notice Pays msg.sender its whole bond, once its release time has come.
    /// @dev Refused: no bond, not leaving (`SequencerBondNotLeaving`), before `unlockAt`
    ///      (`SequencerBondLocked`).
    function withdrawSequencerBond() external {
        SequencerBondAccount memory b = sequencerBonds[msg.sender];
        if (b.amount == 0) revert NoSequencerBond(msg.sender);
        if (b.unlockAt == 0) revert SequencerBondNotLeaving(msg.sender);
        if (block.timestamp < b.unlockAt) revert SequencerBondLocked(msg.sender, b.unlockAt);
        delete sequencerBonds[msg.sender];
        emit SequencerBondWithdrawn(msg.sender, b.amount);
        (bool ok,) = msg.sender.call{value: b.amount}("");
        if (!ok) revert TransferFailed(msg.sender);
    }

    /// @notice Records that the rollup's sequencer changes now from `previous`. Rollup only
    ///         (`executeSequencerChange`), before the change.
    function onSequencerChange(address previous) external {
        if (msg.sender != address(rollup)) revert NotRollup(msg.sender);
        previousSequencer = previous;
        previousSequencerSince = sequencerSince;
        sequencerSince = uint64(block.timestamp);
    }

    /// @notice The sequencer that committed a batch at `committedAt` (address(0): before the
    ///         previous sequencer change, no committer of record).
    function committerAt(uint64 committedAt) public view returns (address) {
        if (committedAt > sequencerSince) return rollup.sequencer();
        if (committedAt > previousSequencerSince) return previousSequencer;
        return address(0);
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
    ///         record (staked mode) or its committer's sequencer bond (single-sequencer mode)
    ///         are slashed, the challenger getting the reporter share, and the challenger's
    ///         bond is credited back to it.
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
        if (sequencerBond != 0) _slashSequencerBond(batch.committedAt, n, challenger);
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

    /// @dev Takes the whole bond of the committer of batch `n` (committed at `committedAt`):
    ///      the reporter share to `challenger`'s `owed`, the rest burned. Nothing without a
    ///      committer of record or a bond.
    function _slashSequencerBond(uint64 committedAt, uint64 n, address challenger) private {
        address committer = committerAt(committedAt);
        uint256 amount = sequencerBonds[committer].amount;
        if (amount == 0) return;
        delete sequencerBonds[committer];
        uint256 toChallenger = amount * SEQUENCER_BOND_REPORTER_BPS / 10_000;
        owed[challenger] += toChallenger;
        burnedSequencerBonds += amount - toChallenger;
        emit SequencerBondSlashed(committer, n, challenger, toChallenger, amount - toChallenger);
    }

    /// @dev Credits an unanswered challenge's bond back to its challenger (once).
    function _refund(Challenge storage c, uint64 n, uint32 chunk) private {
        c.refunded = true;
        owed[c.challenger] += challengeBond;
        emit BondReturned(n, chunk, c.challenger, challengeBond);
    }
}
