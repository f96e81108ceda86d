// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {PriorityQueue} from "./rollup/PriorityQueue.sol";
import {Withdrawals} from "./rollup/Withdrawals.sol";
import {ZkLane} from "./rollup/ZkLane.sol";
import {Exodus} from "./rollup/Exodus.sol";
import {IProverMarket} from "./interfaces/IProverMarket.sol";
import {IForcedWithdrawalInbox} from "./interfaces/IForcedWithdrawalInbox.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";

/// @title TandemRollup
/// @notice L1 rollup and bridge of Tandem: token registry, deposit priority queue, batch
///         commitment with strict public-data parsing (SPEC §4.2), in-order finality (optimistic
///         lane: after a challenge window; validity lane: once a Groth16 proof is verified,
///         SPEC §10), and withdrawals paid exactly once.
/// @dev The parts live in `rollup/`: `RollupState` (shared storage), `PriorityQueue` (tokens,
///      deposits), `PublicDataParser`, `ZkLane` (verifier, proofs, data commitment),
///      `Withdrawals` (claims) and `Exodus` (priority deadlines, exodus mode, exits, refunds). This file holds what takes the batch types: the batch inbox
///      (`commitBatch`) and finality (`finalizeBatch`, `proveOptimisticBatch`, the revert hook).
///      The types are declared here because the ABI names them `TandemRollup.BatchHeader` /
///      `TandemRollup.StoredBatch` (the Rust bindings depend on it), and a base contract cannot
///      use a type its derived contract declares.
///      - Batches are numbered 1, 2, ...; batch 0 is the genesis (final from construction).
///        `lastFinalizedBatch <= lastCommittedBatch`, and batch k is final only if k-1 is.
///      - `lastCommittedStateRoot` is the new state root of batch `lastCommittedBatch`.
///      - Priority-queue entries `[priorityHead, priorityTail)` are pending; every Deposit op in
///        a committed batch equals the next pending entry, in order.
///      - `batchRecordHash[k] == keccak256(abi.encode(StoredBatch of k))` for k <= lastCommittedBatch.
///      - A withdrawal (batch, index) is paid at most once, to the L1 address named in the op,
///        and only when its batch is final.
///      - Per token, `tokenLocked` = deposited - claimed < 2^128, so no L2 balance can overflow
///        and the sum of claims never exceeds the sum of deposits.
///      - A lane-1 (ZK) batch is final only once proven (`proveBatch`), never by the window;
///        a lane-0 batch after its window or once proven (`proveOptimisticBatch`). Both only
///        after their predecessor.
///      - No owner power takes effect faster than users can leave (SPEC §13): the verifier is
///        fixed at deployment; the sequencer changes only `adminDelay` after it was announced
///        (`proposeSequencer` → `executeSequencerChange`), and `adminDelay` is at least
///        `FORCED_WITHDRAWAL_DEADLINE + challengeWindow + EXIT_MARGIN`; `addToken` only adds a
///        token id and changes nothing for existing ones. Renouncing or losing ownership stops
///        no user function.
///      - Every deposit is consumed by a committed batch within `priorityDeadline` (a commit
///        leaving an expired entry pending is refused); otherwise anyone may start exodus
///        (`activateExodus`, permanent): nothing is committed, proven, finalized or deposited
///        any more, and users leave with `exit`, `refundDeposit` and `claimWithdrawal`.
contract TandemRollup is PriorityQueue, Withdrawals, ZkLane, Exodus {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice Header of a batch, as signed by the sequencer(s) and passed to `commitBatch`.
    /// @dev Its digest is `keccak256(abi.encode(header))` (`hashHeader`).
    struct BatchHeader {
        /// Batch number; must be `lastCommittedBatch + 1`.
        uint64 batchNumber;
        /// State root before the batch; must equal the previous batch's `newStateRoot`.
        bytes32 prevStateRoot;
        /// State root after the batch (not checked on L1 in the optimistic lane).
        bytes32 newStateRoot;
        /// `sha256(publicData)`; checked.
        bytes32 publicDataHash;
        /// Commitment to the state roots after every op (used by fraud proofs); stored only.
        bytes32 intermediateRootsRoot;
        /// Number of priority-queue entries (Deposit ops) the batch consumes; checked.
        uint32 priorityOpsCount;
        /// 0 = optimistic lane; 1 = ZK lane (accepted when deployed with a verifier; at most
        /// `zkSlots` ops; final only with a validity proof).
        uint8 lane;
        /// Number of ops in `publicData`; checked.
        uint32 opCount;
        /// L2 account index receiving the batch's fees (3-byte index; not checked on L1).
        uint32 feeAccount;
    }

    /// @notice What L1 remembers of a committed batch; only its hash is stored
    ///         (`batchRecordHash`), callers pass the full record back to `finalizeBatch`.
    /// @dev Every field is emitted in `BatchCommitted`.
    struct StoredBatch {
        uint64 batchNumber;
        uint8 lane;
        /// `block.timestamp` of the commit; the challenge window runs from here.
        uint64 committedAt;
        /// Priority-queue head after this batch (index of the next deposit to consume).
        uint64 priorityOpsEnd;
        /// Number of Withdraw ops in the batch.
        uint32 withdrawalCount;
        /// `keccak256(abi.encode(header))`.
        bytes32 headerHash;
        bytes32 newStateRoot;
        /// Root of the batch's withdrawal Merkle tree (0 when there are none); see README.
        bytes32 withdrawalsRoot;
    }

    // ---------------------------------------------------------------------------------------
    // Immutables and constants
    // ---------------------------------------------------------------------------------------

    /// @notice Seconds after `committedAt` before an optimistic batch may be finalized.
    uint64 public immutable challengeWindow;
    /// @notice State root of the genesis (batch 0).
    bytes32 public immutable genesisStateRoot;
    /// @notice Time a user needs on top of that deadline and the challenge window to leave:
    ///         to notice an announced change, get its forced request onto L1 and then its claim
    ///         or exit included, even under L1 congestion and offline for a night.
    uint64 public constant EXIT_MARGIN = 1 days;
    /// @notice Seconds between announcing a sequencer change and the earliest moment it can
    ///         take effect; at least `minAdminDelay(challengeWindow)`, fixed at deployment.
    uint64 public immutable adminDelay;
    /// @dev The forced-withdrawal inbox (`ForcedWithdrawals`) bound to this rollup, fixed at
    ///      deployment (address(0): none).
    address private immutable _forcedInboxAddress;
    /// @notice The dispute game (`DisputeGame`, SPEC §17) bound to this rollup, fixed at
    ///         deployment (address(0): disputes off, the optimistic lane trusts its signers).
    ///         Only it may revert batches or mark an optimistic batch proven chunk by chunk.
    address public immutable disputeGame;
    /// @notice Announced next sequencer (address(0): none pending).
    address public pendingSequencer;
    /// @notice Earliest timestamp at which `pendingSequencer` can take effect (0: none pending).
    uint64 public pendingSequencerAt;
    // The BN254 scalar field modulus r: the circuit's field, so a state root must be below it.
    uint256 private constant BN254_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice The rollup was created from `genesisStateRoot` (batch 0, final); `genesisRecord`
    ///         is its StoredBatch (for a later revert to genesis).
    event Initialized(bytes32 genesisStateRoot, uint64 challengeWindow, StoredBatch genesisRecord);
    /// @notice The committing sequencer changed.
    event SequencerChanged(address indexed previousSequencer, address indexed newSequencer);
    /// @notice The owner announced `newSequencer`; it can take effect from `executableAt`.
    event SequencerChangeProposed(address indexed newSequencer, uint64 executableAt);
    /// @notice The announced change to `newSequencer` was withdrawn (cancelled or replaced).
    event SequencerChangeCancelled(address indexed newSequencer);
    /// @notice Batch `batchNumber` was committed; the fields are its StoredBatch (pass them to
    ///         `finalizeBatch`). Its header and public data are the calldata of this transaction.
    event BatchCommitted(
        uint64 indexed batchNumber,
        bytes32 headerHash,
        bytes32 newStateRoot,
        bytes32 withdrawalsRoot,
        uint32 withdrawalCount,
        uint64 priorityOpsEnd,
        uint64 committedAt,
        uint8 lane
    );
    /// @notice Batch `batchNumber` is final; its withdrawals became claimable.
    event BatchFinalized(
        uint64 indexed batchNumber, bytes32 newStateRoot, bytes32 withdrawalsRoot, uint32 withdrawalCount
    );
    /// @notice Batches `fromBatch..toBatch` were reverted (dispute game); the chain continues
    ///         from `fromBatch - 1`. `revertCount` is the new value of `revertCount()`.
    event BatchesReverted(uint64 fromBatch, uint64 toBatch, uint64 revertCount);

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice `caller` is not allowed to commit batches.
    error NotSequencer(address caller);
    /// @notice The header's batch number is not `lastCommittedBatch + 1`.
    error UnexpectedBatchNumber(uint64 expected, uint64 got);
    /// @notice The header's prevStateRoot is not the last committed state root.
    error PrevStateRootMismatch(bytes32 expected, bytes32 got);
    /// @notice The header's newStateRoot is not below the BN254 scalar field modulus: no proof
    ///         could ever carry it.
    error StateRootNotInField(bytes32 root);
    /// @notice The header claims `declared` priority ops but only `pending` are queued.
    error PriorityOpsExceedQueue(uint32 declared, uint64 pending);
    /// @notice The header claims `declared` ops but the public data has `found`.
    error OpCountMismatch(uint32 declared, uint256 found);
    /// @notice Batch `batchNumber` cannot be final before `lastFinalized + 1`.
    error PreviousBatchNotFinalized(uint64 batchNumber, uint64 lastFinalized);
    /// @notice ZK batch `batchNumber` is not proven: it never finalizes by the window.
    error NotProven(uint64 batchNumber);
    /// @notice Batch `batchNumber` can be finalized from timestamp `finalizableAt`.
    error ChallengeWindowOpen(uint64 batchNumber, uint256 finalizableAt);
    /// @notice A revert cannot reach back to final batch `batchNumber`.
    error CannotRevertFinalized(uint64 batchNumber);
    /// @notice There are no committed batches after `batchNumber` to revert.
    error NothingToRevert(uint64 batchNumber);
    /// @notice `adminDelay` is below `minimum` = FORCED_WITHDRAWAL_DEADLINE + challengeWindow + EXIT_MARGIN.
    error AdminDelayTooShort(uint64 adminDelay, uint256 minimum);
    /// @notice No sequencer change is pending.
    error NoPendingSequencerChange();
    /// @notice The pending sequencer change can take effect only from `executableAt`.
    error SequencerChangeNotReady(uint64 executableAt);
    /// @notice A commit sent value (a market job's escrow) but the rollup has no prover market.
    error NoMarket();
    /// @notice The dispute game `game` has no code.
    error DisputeGameHasNoCode(address game);
    /// @notice The dispute game serves `rollup`, not this rollup.
    error DisputeGameNotBound(address rollup);
    /// @notice A dispute game needs a verifier: challenges are answered with validity proofs.
    error DisputesNeedVerifier();
    /// @notice The dispute game's `sequencerBond` is 0 for a single-sequencer rollup (its
    ///         sequencer would risk nothing) or not 0 for a staked one (the stake is the bond).
    error SequencerBondMisconfigured();
    /// @notice Only the dispute game may call this; `caller` is not it.
    error NotDisputeGame(address caller);
    /// @notice Batch `batchNumber` has a challenge not answered by a proof: it cannot be final.
    error ChallengeOpen(uint64 batchNumber);
    /// @notice With a dispute game, optimistic batches are proven chunk by chunk through it
    ///         (`DisputeGame.proveChunk`), so that a proof also answers the chunk's challenge.
    error ProveThroughDisputeGame();

    // ---------------------------------------------------------------------------------------
    // Construction and administration
    // ---------------------------------------------------------------------------------------

    /// @notice Creates the rollup at genesis: batch 0 with state root `genesisStateRoot_` is
    ///         committed and final; only ETH (id 0) is registered.
    /// @param owner_ May register tokens and announce a sequencer change (two-step transfer).
    /// @param sequencer_ The address allowed to commit batches.
    /// @param genesisStateRoot_ State root of the empty (or pre-filled) genesis state.
    /// @param challengeWindow_ Seconds an optimistic batch waits before it can be finalized.
    /// @param verifier_ Groth16 verifier of the validity lane, or address(0) for none (fixed).
    /// @param zkSlots_ Op slots of the verifier's circuit (0 without a verifier).
    /// @param adminDelay_ Seconds from announcing a sequencer change to its earliest effect
    ///        (>= `minAdminDelay(challengeWindow_)`).
    /// @param market_ Prover market bound to this rollup's address, or address(0) for none (fixed).
    /// @param exitVerifier_ Groth16 verifier of the exit circuit (`IExitVerifier`; must have code; fixed).
    /// @param priorityDeadline_ Seconds a deposit may wait for a batch (1..FORCED_WITHDRAWAL_DEADLINE; fixed).
    /// @param forcedInbox_ Forced-withdrawal inbox (`ForcedWithdrawals`) bound to this rollup's
    ///        address, or address(0) for none (fixed).
    /// @param disputeGame_ Dispute game (`DisputeGame`) bound to this rollup's address, or
    ///        address(0) for none (fixed); needs a verifier.
    constructor(
        address owner_,
        address sequencer_,
        bytes32 genesisStateRoot_,
        uint64 challengeWindow_,
        address verifier_,
        uint32 zkSlots_,
        uint64 adminDelay_,
        address market_,
        address exitVerifier_,
        uint64 priorityDeadline_,
        address forcedInbox_,
        address disputeGame_
    )
        // The owner is set in the body: read here, `owner_` (the deepest of twelve parameters)
        // is beyond the legacy code generator's stack reach.
        Ownable(msg.sender)
        ZkLane(verifier_, zkSlots_, market_)
        Exodus(exitVerifier_, priorityDeadline_)
    {
        if (owner_ == address(0)) revert OwnableInvalidOwner(address(0));
        _transferOwnership(owner_);
        if (sequencer_ == address(0)) revert ZeroAddress();
        sequencer = sequencer_;
        emit SequencerChanged(address(0), sequencer_);
        genesisStateRoot = genesisStateRoot_;
        challengeWindow = challengeWindow_;
        _initGenesis(genesisStateRoot_, challengeWindow_);
        _checkAdminDelay(adminDelay_, challengeWindow_);
        adminDelay = adminDelay_;
        _checkBound(forcedInbox_, disputeGame_, verifier_);
        _forcedInboxAddress = forcedInbox_;
        disputeGame = disputeGame_;
    }

    /// @dev See `PriorityQueue._forcedInbox`.
    function _forcedInbox() internal view override returns (address) {
        return _forcedInboxAddress;
    }

    /// @dev Constructor part (its own frame: the constructor's stack is full).
    function _checkAdminDelay(uint64 adminDelay_, uint64 challengeWindow_) private pure {
        uint256 minDelay = minAdminDelay(challengeWindow_);
        if (adminDelay_ < minDelay) revert AdminDelayTooShort(adminDelay_, minDelay);
    }

    /// @dev Constructor part: a forced-withdrawal inbox and a dispute game (each optional) must
    ///      have code and be bound to this rollup's address; a dispute game also needs a
    ///      verifier (it answers challenges with validity proofs), and a sequencer bond exactly
    ///      when this rollup has a single sequencer (`_bondsItsSequencer`).
    function _checkBound(address inbox, address game, address verifier_) private view {
        if (inbox != address(0)) {
            if (inbox.code.length == 0) revert ForcedInboxHasNoCode(inbox);
            address bound = IForcedWithdrawalInbox(inbox).rollup();
            if (bound != address(this)) revert ForcedInboxNotBound(bound);
        }
        if (game != address(0)) {
            if (verifier_ == address(0)) revert DisputesNeedVerifier();
            if (game.code.length == 0) revert DisputeGameHasNoCode(game);
            address bound = IDisputeGame(game).rollup();
            if (bound != address(this)) revert DisputeGameNotBound(bound);
            if ((IDisputeGame(game).sequencerBond() == 0) == _bondsItsSequencer()) revert SequencerBondMisconfigured();
        }
    }

    /// @dev Constructor part (its own frame: the constructor's stack is full): genesis roots,
    ///      the ETH token id, the genesis record.
    function _initGenesis(bytes32 genesisStateRoot_, uint64 challengeWindow_) private {
        lastCommittedStateRoot = genesisStateRoot_;
        lastFinalizedStateRoot = genesisStateRoot_;
        tokenCount = 1;
        StoredBatch memory genesis = StoredBatch({
            batchNumber: 0,
            lane: LANE_OPTIMISTIC,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: 0,
            withdrawalCount: 0,
            headerHash: bytes32(0),
            newStateRoot: genesisStateRoot_,
            withdrawalsRoot: bytes32(0)
        });
        batchRecordHash[0] = keccak256(abi.encode(genesis));
        emit Initialized(genesisStateRoot_, challengeWindow_, genesis);
    }

    /// @notice The shortest admin delay a rollup with challenge window `challengeWindow_`
    ///         accepts: FORCED_WITHDRAWAL_DEADLINE + challengeWindow_ + EXIT_MARGIN, the time a
    ///         user needs to leave (forced request included by the deadline, its batch final
    ///         after the window, the claim or exit on L1).
    function minAdminDelay(uint64 challengeWindow_) public pure returns (uint256) {
        return uint256(FORCED_WITHDRAWAL_DEADLINE) + challengeWindow_ + EXIT_MARGIN;
    }

    /// @notice Announces `newSequencer`; it can take effect `adminDelay` seconds from now
    ///         (`executeSequencerChange`). Owner only. A pending announcement is replaced (and
    ///         its clock restarts). Refused in staked mode (`StakedRollup`).
    function proposeSequencer(address newSequencer) external onlyOwner {
        _checkSequencerChangeAllowed();
        if (newSequencer == address(0)) revert ZeroAddress();
        address pending = pendingSequencer;
        if (pending != address(0)) emit SequencerChangeCancelled(pending);
        uint64 executableAt = uint64(block.timestamp) + adminDelay;
        pendingSequencer = newSequencer;
        pendingSequencerAt = executableAt;
        emit SequencerChangeProposed(newSequencer, executableAt);
    }

    /// @notice Withdraws the pending sequencer change. Owner only.
    function cancelSequencerChange() external onlyOwner {
        address pending = pendingSequencer;
        if (pending == address(0)) revert NoPendingSequencerChange();
        delete pendingSequencer;
        delete pendingSequencerAt;
        emit SequencerChangeCancelled(pending);
    }

    /// @notice Makes the pending sequencer change take effect, from `pendingSequencerAt` on.
    ///         Anyone may call: the change was announced `adminDelay` ago, so it does not
    ///         depend on the owner still holding its key (and renouncing ownership does not
    ///         cancel it: cancel first). With a dispute game, the game learns of the change
    ///         (it attributes batches to committers by time) and the new sequencer commits
    ///         from the next second, with its own bond.
    function executeSequencerChange() external {
        address pending = pendingSequencer;
        if (pending == address(0)) revert NoPendingSequencerChange();
        uint64 executableAt = pendingSequencerAt;
        if (block.timestamp < executableAt) revert SequencerChangeNotReady(executableAt);
        delete pendingSequencer;
        delete pendingSequencerAt;
        address game = disputeGame;
        if (game != address(0)) IDisputeGame(game).onSequencerChange(sequencer);
        emit SequencerChanged(sequencer, pending);
        sequencer = pending;
    }

    // ---------------------------------------------------------------------------------------
    // Batch inbox: commit
    // ---------------------------------------------------------------------------------------

    /// @notice Commits the next batch. Sequencer only.
    /// @dev Checks: caller authorized; exodus not active (`ExodusActive`); `batchNumber == lastCommittedBatch + 1`; `prevStateRoot ==
    ///      lastCommittedStateRoot`; lane 0, or lane 1 once a verifier is set and with at most
    ///      `zkSlots` ops; `sha256(publicData) == publicDataHash`; the public
    ///      data parses strictly (SPEC §4.2); its Deposit ops equal the next `priorityOpsCount`
    ///      queue entries in order (the account index is not checked); `opCount` ops;
    ///      `newStateRoot` below the BN254 scalar field modulus; the queue entry left at the
    ///      head after the batch, if any, not past its deadline (`ExpiredPriorityOpNotConsumed`;
    ///      accepted at exactly the deadline second).
    ///      Effects: stores the StoredBatch hash, consumes the queue entries, moves the committed
    ///      tip, emits BatchCommitted. Withdraw ops are committed as a Merkle root (see README).
    ///      A ZK batch also stores keccak256(prevStateRoot, newStateRoot, zkDataHash(...)) for `proveBatch`.
    ///      With value: opens the batch's prover-market job with msg.value as escrow, refundable
    ///      to msg.sender (`market.openJob`; `NoMarket` without a market). Without value:
    ///      nothing more.
    function commitBatch(BatchHeader calldata header, bytes calldata publicData) external payable {
        bytes32 headerHash = _hashHeader(header);
        _authorizeCommit(headerHash);
        _commitAuthorized(header, headerHash, publicData);
        if (msg.value != 0) _openJob(header.batchNumber);
    }

    /// @dev Opens the market job of just-committed batch `batchNumber` with all of msg.value,
    ///      refundable to msg.sender (the poster). The rollup keeps none of it.
    function _openJob(uint64 batchNumber) internal {
        address m = market;
        if (m == address(0)) revert NoMarket();
        IProverMarket(m).openJob{value: msg.value}(batchNumber, msg.sender);
    }

    /// @dev `keccak256(abi.encode(batch))`, hashing the record's eight static words straight
    ///      from calldata. Like `abi.encode`, it reverts (without data) if a narrow field has
    ///      dirty high bits.
    function _recordHash(StoredBatch calldata batch) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            // Words 0-4: uint64 batchNumber, uint8 lane, uint64 committedAt, uint64 priorityOpsEnd,
            // uint32 withdrawalCount.
            if or(
                or(shr(64, calldataload(batch)), shr(8, calldataload(add(batch, 0x20)))),
                or(
                    or(shr(64, calldataload(add(batch, 0x40))), shr(64, calldataload(add(batch, 0x60)))),
                    shr(32, calldataload(add(batch, 0x80)))
                )
            ) { revert(0, 0) }
            let m := mload(0x40)
            calldatacopy(m, batch, 0x100)
            h := keccak256(m, 0x100)
        }
    }

    /// @dev `keccak256(abi.encode(header))`, hashing the header's nine static words straight
    ///      from calldata. Like `abi.encode`, it reverts (without data) if a narrow field has
    ///      dirty high bits, so no malformed header gets a digest.
    function _hashHeader(BatchHeader calldata header) internal pure returns (bytes32 headerHash) {
        assembly ("memory-safe") {
            // Words 0, 5, 6, 7, 8: uint64 batchNumber, uint32 priorityOpsCount, uint8 lane,
            // uint32 opCount, uint32 feeAccount.
            if or(
                or(shr(64, calldataload(header)), shr(32, calldataload(add(header, 0xa0)))),
                or(
                    shr(8, calldataload(add(header, 0xc0))),
                    or(shr(32, calldataload(add(header, 0xe0))), shr(32, calldataload(add(header, 0x100))))
                )
            ) { revert(0, 0) }
            let m := mload(0x40)
            calldatacopy(m, header, 0x120)
            headerHash := keccak256(m, 0x120)
        }
    }

    /// @dev The whole commit after authorization (shared by `commitBatch` and the staked
    ///      mode's `commitBatchSigned`): checks the header and the public data, consumes the
    ///      queue entries, stores the record. `headerHash` must be `keccak256(abi.encode(header))`.
    function _commitAuthorized(BatchHeader calldata header, bytes32 headerHash, bytes calldata publicData)
        internal
    {
        _requireNoExodus();
        uint8 lane = _checkHeader(header, publicData);
        (uint64 priorityOpsEnd, uint256 withdrawalCount, bytes32 withdrawalsRoot) = _checkOps(header, publicData);
        // Safe: withdrawalCount <= publicData.length / 41, far below 2^32 for any calldata.
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes32 record =
            _storeBatch(header, headerHash, lane, priorityOpsEnd, uint32(withdrawalCount), withdrawalsRoot);
        if (lane != LANE_OPTIMISTIC) {
            _storeZkCommitment(record, header.feeAccount, header.prevStateRoot, header.newStateRoot, publicData);
        }
    }

    /// @dev Batch number, previous and new root, lane and public-data hash; returns the lane (0 or 1).
    function _checkHeader(BatchHeader calldata header, bytes calldata publicData) private view returns (uint8 lane) {
        uint64 expected = _lastCommittedBatch + 1; // checked uint48: stays below 2^48
        if (header.batchNumber != expected) revert UnexpectedBatchNumber(expected, header.batchNumber);
        bytes32 prevRoot = lastCommittedStateRoot;
        if (header.prevStateRoot != prevRoot) revert PrevStateRootMismatch(prevRoot, header.prevStateRoot);
        // A root the circuit cannot carry (>= r) could never be proven: refuse it here.
        if (uint256(header.newStateRoot) >= BN254_SCALAR_FIELD) {
            revert StateRootNotInField(header.newStateRoot);
        }
        assembly ("memory-safe") {
            let w := calldataload(add(header, 0xc0)) // word 6: uint8 lane
            if shr(8, w) { revert(0, 0) } // dirty high bits (as abi.encode; _hashHeader refuses them too)
            lane := w
        }
        if (lane != LANE_OPTIMISTIC) _checkZkLane(lane, header.opCount);
        bytes32 dataHash = sha256(publicData);
        if (dataHash != header.publicDataHash) revert PublicDataHashMismatch(header.publicDataHash, dataHash);
    }

    /// @dev Parses the ops, checks deposits and counts, consumes the priority-queue entries.
    function _checkOps(BatchHeader calldata header, bytes calldata publicData)
        private
        returns (uint64 priorityOpsEnd, uint256 withdrawalCount, bytes32 withdrawalsRoot)
    {
        uint32 priorityOps = header.priorityOpsCount;
        uint64 head = _priorityHead;
        uint64 tail = _priorityTail; // same slot as exodusActive: warm
        if (priorityOps != 0) {
            uint64 pending = tail - head;
            if (priorityOps > pending) revert PriorityOpsExceedQueue(priorityOps, pending);
        }
        priorityOpsEnd = head + priorityOps;
        // The entry left at the head (if any) must not be past its deadline.
        _checkPriorityDeadline(priorityOpsEnd, tail);
        uint256 opCount;
        (opCount, withdrawalCount, withdrawalsRoot) = _processPublicData(publicData, head, priorityOps);
        if (opCount != header.opCount) revert OpCountMismatch(header.opCount, opCount);
        if (priorityOps != 0) {
            // Safe: priorityOpsEnd <= priorityTail < 2^48.
            // forge-lint: disable-next-line(unsafe-typecast)
            _priorityHead = uint48(priorityOpsEnd);
        }
    }

    /// @dev Records the batch and moves the committed tip.
    function _storeBatch(
        BatchHeader calldata header,
        bytes32 headerHash,
        uint8 lane,
        uint64 priorityOpsEnd,
        uint32 withdrawalCount,
        bytes32 withdrawalsRoot
    ) private returns (bytes32 record) {
        uint64 batchNumber = header.batchNumber;
        bytes32 newRoot = header.newStateRoot;
        // = keccak256(abi.encode(StoredBatch(...))): all fields are static, so encoding them
        // in order gives the same bytes without building the struct in memory first.
        record = keccak256(
            abi.encode(
                batchNumber,
                lane,
                uint64(block.timestamp),
                priorityOpsEnd,
                withdrawalCount,
                headerHash,
                newRoot,
                withdrawalsRoot
            )
        );
        batchRecordHash[batchNumber] = record;
        // Safe: batchNumber == lastCommittedBatch + 1, computed in checked uint48.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastCommittedBatch = uint48(batchNumber);
        lastCommittedStateRoot = newRoot;
        emit BatchCommitted(
            batchNumber,
            headerHash,
            newRoot,
            withdrawalsRoot,
            withdrawalCount,
            priorityOpsEnd,
            uint64(block.timestamp),
            lane
        );
    }

    // ---------------------------------------------------------------------------------------
    // Finality: in order, by the challenge window or a proof
    // ---------------------------------------------------------------------------------------

    /// @notice Finalizes batch `batch.batchNumber` (pass its StoredBatch, as emitted in
    ///         BatchCommitted). Anyone may call.
    /// @dev Requires: exodus not active (`ExodusActive`); the batch is `lastFinalizedBatch + 1`, committed, `batch` hashes to its
    ///      record, and: lane 0: `block.timestamp >= committedAt + challengeWindow`, or proven
    ///      (`proveOptimisticBatch`), whichever comes first; lane 1:
    ///      proven (`proveBatch`), at any time (never by the window). With a dispute game, a
    ///      lane-0 batch that is not proven also needs no challenge left unanswered
    ///      (`ChallengeOpen`): an open one waits for its proof, a lost one for its revert.
    ///      Effects: the batch is final; its withdrawals become claimable.
    function finalizeBatch(StoredBatch calldata batch) external {
        _requireNoExodus();
        uint64 batchNumber = batch.batchNumber;
        uint64 lastFinal = lastFinalizedBatch;
        if (batchNumber <= lastFinal) revert BatchAlreadyFinalized(batchNumber);
        if (batchNumber != lastFinal + 1) revert PreviousBatchNotFinalized(batchNumber, lastFinal);
        if (batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        bytes32 record = batchRecordHash[batchNumber];
        if (_recordHash(batch) != record) revert StoredBatchMismatch(batchNumber);
        bool proven = _zkBatch[record] == ZK_PROVEN;
        // A committed record has lane 0 or 1 (commitBatch refuses the others).
        if (batch.lane == LANE_ZK) {
            if (!proven) revert NotProven(batchNumber);
        } else if (!proven) {
            // Lane 0: after its window with no challenge left unanswered, or earlier once
            // proven (`proveOptimisticBatch`, or every chunk through the dispute game).
            uint256 finalizableAt = uint256(batch.committedAt) + challengeWindow;
            if (block.timestamp < finalizableAt) revert ChallengeWindowOpen(batchNumber, finalizableAt);
            address game = disputeGame;
            if (game != address(0) && IDisputeGame(game).hasOpenChallenge(record)) revert ChallengeOpen(batchNumber);
        }
        _finalize(batch);
    }

    /// @notice Proves committed OPTIMISTIC (lane 0) batch `batch.batchNumber` with Groth16 `proof`,
    ///         so it can be finalized before its challenge window ends (a fast ZK-lane batch
    ///         behind it then never waits for that window). Anyone may call (the proof binds
    ///         `msg.sender`, as in `proveBatch`).
    /// @dev `batch` is the batch's StoredBatch (as for `finalizeBatch`), `header` and
    ///      `publicData` the arguments of its commit. Requires: exodus not active
    ///      (`ExodusActive`); a verifier is set; the batch is
    ///      not final (`BatchAlreadyFinalized`), committed (`BatchNotCommitted`), `batch` hashes
    ///      to its record (`StoredBatchMismatch`), lane 0 (`UnsupportedLane(lane)`), not proven
    ///      yet (`BatchAlreadyProven`); `hashHeader(header) == batch.headerHash`
    ///      (`StoredBatchMismatch`); `sha256(publicData) == header.publicDataHash`
    ///      (`PublicDataHashMismatch`); `header.opCount <= zkSlots` (`ZkBatchTooLarge`); the
    ///      verifier accepts `proof` for (header.prevStateRoot, header.newStateRoot,
    ///      zkDataHash(header.feeAccount, publicData, zkSlots), msg.sender) (`InvalidProof`).
    ///      Effects: the batch is proven (`isProven`), so `finalizeBatch` accepts it at once
    ///      when its predecessor is final; emits BatchProven; settles the batch's market job
    ///      for msg.sender as `proveBatch` does.
    ///      The commit parsed this public data strictly (the record pins the header, the header
    ///      pins sha256(publicData), and opCount is the counted number of ops), so the data hash
    ///      is computed on the unchecked path.
    function proveOptimisticBatch(
        StoredBatch calldata batch,
        BatchHeader calldata header,
        bytes calldata publicData,
        uint256[8] calldata proof
    ) external {
        _requireNoExodus();
        address v = verifier;
        if (v == address(0)) revert VerifierNotSet();
        if (disputeGame != address(0)) revert ProveThroughDisputeGame();
        uint64 batchNumber = batch.batchNumber;
        if (batchNumber <= lastFinalizedBatch) revert BatchAlreadyFinalized(batchNumber);
        // A dropped (reverted) number keeps its old record until recommitted: refuse it.
        if (batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        bytes32 record = batchRecordHash[batchNumber];
        if (_recordHash(batch) != record) revert StoredBatchMismatch(batchNumber);
        if (batch.lane != LANE_OPTIMISTIC) revert UnsupportedLane(batch.lane);
        if (_zkBatch[record] == ZK_PROVEN) revert BatchAlreadyProven(batchNumber);
        if (_hashHeader(header) != batch.headerHash) revert StoredBatchMismatch(batchNumber);
        bytes32 pdHash = sha256(publicData);
        if (pdHash != header.publicDataHash) revert PublicDataHashMismatch(header.publicDataHash, pdHash);
        uint32 slots = zkSlots;
        if (header.opCount > slots) revert ZkBatchTooLarge(header.opCount, slots);
        bytes32 dataHash = _zkDataHash(header.feeAccount, publicData, slots, false);
        _verifyProof(v, batchNumber, header.prevStateRoot, header.newStateRoot, dataHash, proof);
        _markProven(record, batchNumber, msg.sender);
    }

    // ---------------------------------------------------------------------------------------
    // Dispute game hooks (SPEC §17; `DisputeGame` checks everything else)
    // ---------------------------------------------------------------------------------------

    /// @notice Marks committed optimistic batch `batchNumber` proven: every chunk of it was
    ///         proven through the dispute game, the last one by `prover`. Dispute game only.
    /// @dev The game checked that the batch is committed, not final, lane 0 and matches its
    ///      record. Settles the batch's market job for `prover`, as `proveBatch` does.
    function markProvenByDisputeGame(uint64 batchNumber, address prover) external {
        if (msg.sender != disputeGame) revert NotDisputeGame(msg.sender);
        _markProven(batchRecordHash[batchNumber], batchNumber, prover);
    }

    /// @notice Reverts batch `lastKept.batchNumber + 1` (faulty: a challenge went unanswered,
    ///         or a ZK batch passed its proof deadline) and every batch after it; with `slash`,
    ///         first slashes the faulty batch's signers of record, paying `challenger` its
    ///         share (`_onFaultyBatch`). Dispute game only.
    /// @dev O(1) in the number of later batches (`_revertBatchesAfter`). Increments
    ///      `revertCount`, which batch signatures bind.
    function revertFaultyBatch(StoredBatch calldata lastKept, address challenger, bool slash) external {
        if (msg.sender != disputeGame) revert NotDisputeGame(msg.sender);
        if (slash) _onFaultyBatch(lastKept.batchNumber + 1, challenger);
        _revertBatchesAfter(lastKept);
    }

    // ---------------------------------------------------------------------------------------
    // Exodus (the rest is in `rollup/Exodus.sol`)
    // ---------------------------------------------------------------------------------------

    /// @notice Starts exodus mode for good. Anyone may call, once the oldest queue entry not
    ///         consumed by a committed batch is past its deadline (`priorityOpDeadline(priorityHead)
    ///         < block.timestamp`): the sequencer(s) stopped including deposits.
    /// @dev `lastFinal` is the StoredBatch of `lastFinalizedBatch` (`StoredBatchMismatch`).
    ///      Refused when active (`ExodusActive`) and without an expired entry
    ///      (`Exodus.NoExpiredPriorityOp`). Effects: `exodusActive`; `exodusStateRoot` =
    ///      lastFinalizedStateRoot (what exits prove against); `exodusPriorityEnd` =
    ///      lastFinal.priorityOpsEnd (entries from there on are refundable); emits
    ///      ExodusActivated. Committed batches that are not final are dropped for good.
    function activateExodus(StoredBatch calldata lastFinal) external {
        _requireNoExodus();
        uint64 n = lastFinal.batchNumber;
        if (n != lastFinalizedBatch || _recordHash(lastFinal) != batchRecordHash[n]) {
            revert StoredBatchMismatch(n);
        }
        _activateExodus(n, lastFinal.priorityOpsEnd);
    }

    // ---------------------------------------------------------------------------------------
    // Pure helpers (the reference for off-chain encoders)
    // ---------------------------------------------------------------------------------------

    /// @notice Header digest: keccak256(abi.encode(header)); stored (inside the StoredBatch)
    ///         and, later, what sequencers sign.
    function hashHeader(BatchHeader calldata header) external pure returns (bytes32) {
        return _hashHeader(header);
    }

    /// @notice keccak256(abi.encode(batch)), the value kept in `batchRecordHash`.
    function hashStoredBatch(StoredBatch calldata batch) external pure returns (bytes32) {
        return _recordHash(batch);
    }

    // ---------------------------------------------------------------------------------------
    // Internal hooks (seams for the staked sequencer set and fraud proofs)
    // ---------------------------------------------------------------------------------------

    /// @dev Whether the sequencer may be changed at all: yes here (single-sequencer mode);
    ///      `StakedRollup` overrides it to refuse (the staked set is not the owner's to replace).
    function _checkSequencerChangeAllowed() internal view virtual {}

    /// @dev Committed, non-final batch `batchNumber` is about to be reverted as faulty: here
    ///      (single-sequencer mode) nothing more happens; `StakedRollup` slashes its signers.
    function _onFaultyBatch(uint64 batchNumber, address challenger) internal virtual {
        batchNumber; // used by the staked override
        challenger;
    }

    /// @dev Authorization of a plain `commitBatch`: `msg.sender == sequencer`, and with a
    ///      dispute game its bond there (`IDisputeGame.checkSequencerBond`). `StakedRollup`
    ///      overrides it to refuse (its commits go through `commitBatchSigned`).
    function _authorizeCommit(bytes32 headerDigest) internal view virtual {
        headerDigest; // used by signature-checking overrides
        if (msg.sender != sequencer) revert NotSequencer(msg.sender);
        address game = disputeGame;
        if (game != address(0)) IDisputeGame(game).checkSequencerBond(msg.sender);
    }

    /// @dev Whether the dispute game must bond this rollup's sequencer: yes here (one
    ///      sequencer, its bond is what a faulty batch costs it); `StakedRollup` says no (the
    ///      set's stake is slashed instead).
    function _bondsItsSequencer() internal pure virtual returns (bool) {
        return true;
    }

    /// @dev Marks `batch` (already checked to be `lastFinalizedBatch + 1` and to match its
    ///      record and to satisfy its lane's rule) final.
    function _finalize(StoredBatch calldata batch) internal {
        uint64 batchNumber = batch.batchNumber;
        lastFinalizedBatch = batchNumber;
        lastFinalizedStateRoot = batch.newStateRoot;
        _recordWithdrawals(batchNumber, batch.withdrawalsRoot, batch.withdrawalCount);
        emit BatchFinalized(batchNumber, batch.newStateRoot, batch.withdrawalsRoot, batch.withdrawalCount);
    }

    /// @dev For the dispute game: drops every committed batch after `lastKept` (which must
    ///      match its record and not be before the last final batch). The committed tip,
    ///      state root and priority-queue head go back to `lastKept`'s, so the deposits of the
    ///      dropped batches are pending again; `revertCount` grows by one. O(1) in the number
    ///      of dropped batches: everything per batch is keyed by record hash (`_zkBatch`, the
    ///      game's challenges) or overwritten when the number is committed again (records,
    ///      signers), and every reader checks the number against `lastCommittedBatch` first.
    function _revertBatchesAfter(StoredBatch memory lastKept) internal {
        uint64 keep = lastKept.batchNumber;
        if (keep < lastFinalizedBatch) revert CannotRevertFinalized(keep);
        uint64 tip = _lastCommittedBatch;
        if (keep >= tip) revert NothingToRevert(keep);
        if (keccak256(abi.encode(lastKept)) != batchRecordHash[keep]) revert StoredBatchMismatch(keep);
        uint64 reverts = revertCount + 1;
        revertCount = reverts;
        // Safe: keep < tip < 2^48, and a committed record's priorityOpsEnd <= priorityTail < 2^48.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastCommittedBatch = uint48(keep);
        lastCommittedStateRoot = lastKept.newStateRoot;
        // forge-lint: disable-next-line(unsafe-typecast)
        _priorityHead = uint48(lastKept.priorityOpsEnd);
        emit BatchesReverted(keep + 1, tip, reverts);
    }
}
