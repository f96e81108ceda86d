// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title RollupState
/// @notice The state every part of `TandemRollup` shares: the committed and final tips, the
///         token registry, the priority queue and the batch records, plus the constants and
///         errors more than one part uses. The parts (`PriorityQueue`, `PublicDataParser`,
///         `ZkLane`, `Withdrawals`, and `TandemRollup` itself for the batch inbox and
///         finality) inherit it; each keeps its own extra storage.
/// @dev One declaration order for the shared slots, so the hot slot below stays packed.
abstract contract RollupState is Ownable2Step {
    /// @notice Token id of ETH; ids 1..31 are ERC-20 tokens registered with `addToken`.
    uint8 public constant ETH_TOKEN_ID = 0;
    /// @notice Lane of optimistic batches (final after the challenge window).
    uint8 public constant LANE_OPTIMISTIC = 0;
    /// @notice Lane of ZK batches (final once a validity proof is verified by `proveBatch`).
    uint8 public constant LANE_ZK = 1;

    // Slot layout for cheap commits: `sequencer`, `_lastCommittedBatch` and `_priorityHead`
    // share one slot, so a commit without deposits touches three slots (that one,
    // `lastCommittedStateRoot`, the new record). The queue and batch counters are kept in 48
    // bits (2^48 batches or deposits can never happen: each is an L1 transaction) and read
    // through uint64 views; checked uint48 arithmetic on `_lastCommittedBatch + 1` and
    // `_priorityTail + 1` keeps every value below 2^48.

    /// @notice The one address allowed to call `commitBatch` (in `StakedRollup`: the staking contract, powerless).
    address public sequencer;
    /// @dev `lastCommittedBatch()`: number of the last committed batch (0 = only genesis).
    ///      Never decreases except through a revert of the dispute game (`revertCount`).
    uint48 internal _lastCommittedBatch;
    /// @dev `priorityHead()`: index of the next priority-queue entry a batch must consume.
    uint48 internal _priorityHead;

    /// @notice New state root of batch `lastCommittedBatch`; the next batch must start from it.
    bytes32 public lastCommittedStateRoot;

    /// @dev `priorityTail()`: number of entries ever queued; the next deposit gets this index.
    uint48 internal _priorityTail;
    /// @notice Number of the last final batch; batches `<=` it are final and never change.
    uint64 public lastFinalizedBatch;
    /// @notice Number of registered token ids, ETH included (ids `0..tokenCount-1` are valid).
    uint8 public tokenCount;
    /// @notice Exodus mode (`Exodus`): set once by `activateExodus`, never cleared. While set,
    ///         no batch is committed, proven or finalized and no deposit is taken; users leave
    ///         with `exit` (balances at the last final batch) and `refundDeposit`.
    /// @dev In the slot of `_priorityTail`, which deposits write and commits read anyway.
    bool public exodusActive;
    /// @dev `exodusPriorityEnd()`: the last final batch's priorityOpsEnd at activation; queue
    ///      entries from it on were never credited by a final batch and are refundable.
    uint48 internal _exodusPriorityEnd;
    /// @notice How many times committed batches were reverted (dispute game: an unanswered
    ///         challenge or a ZK batch past its proof deadline). Batch signatures bind it
    ///         (`SequencerStaking.batchDigest`), so a reverted batch's signatures never count
    ///         again and re-signing a replacement for the same number is not a double sign.
    /// @dev In the slot of `_priorityTail` (176 bits used before it).
    uint64 public revertCount;

    /// @notice New state root of batch `lastFinalizedBatch`.
    bytes32 public lastFinalizedStateRoot;

    /// @notice ERC-20 address of token id `id` (address(0) for ETH and unregistered ids).
    mapping(uint8 id => address token) public tokenAddress;
    /// @notice Token id of a registered ERC-20 (0 for unregistered addresses; 0 is ETH).
    mapping(address token => uint8 id) public tokenIdOf;
    /// @notice Per token id: deposited minus claimed; always < 2^128.
    mapping(uint8 id => uint256 amount) public tokenLocked;
    /// @notice Priority queue: entry `i` = keccak256(abi.encodePacked(packedKey, uint8 tokenId, uint128 amount))
    ///         for a deposit (49 bytes), keccak256(abi.encodePacked(uint24 account, uint8 tokenId,
    ///         bytes32 requestHash)) for a forced withdrawal (36 bytes).
    mapping(uint64 index => bytes32 entry) public priorityQueue;
    /// @notice keccak256(abi.encode(StoredBatch)) of every committed batch (and of genesis, 0).
    mapping(uint64 batchNumber => bytes32 recordHash) public batchRecordHash;
    /// @dev L1 recipient of forced-withdrawal queue entry `index` (set at the request; the
    ///      parser's ForcedWithdraw op pays its withdrawn amount there).
    mapping(uint64 index => address recipient) internal _forcedRecipient;

    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice Lane `lane` is not accepted: lanes above 1, or lane 1 without a verifier.
    error UnsupportedLane(uint8 lane);
    /// @notice A ZK batch (or `zkDataHash` input) has `opCount` ops, more than the circuit's `zkSlots`.
    error ZkBatchTooLarge(uint256 opCount, uint256 zkSlots);
    /// @notice `sha256(publicData)` differs from the header's publicDataHash.
    error PublicDataHashMismatch(bytes32 declared, bytes32 computed);
    /// @notice Batch `batchNumber` is already final.
    error BatchAlreadyFinalized(uint64 batchNumber);
    /// @notice Batch `batchNumber` is not committed.
    error BatchNotCommitted(uint64 batchNumber);
    /// @notice The StoredBatch passed for `batchNumber` is not the committed one.
    error StoredBatchMismatch(uint64 batchNumber);
    /// @notice Exodus mode is active: batches, proofs and deposits are refused for good.
    error ExodusActive();

    /// @notice Longest time a priority request (deposit, forced withdrawal) may wait for
    ///         inclusion before users may leave without the sequencer (DESIGN §5: one hour by
    ///         default; devnets may use minutes, never more). The admin delay is derived from
    ///         it, so it is the upper bound any deployment's `priorityDeadline` must respect.
    uint64 public constant FORCED_WITHDRAWAL_DEADLINE = 1 hours;

    /// @notice Number of the last committed batch (0 = only genesis). Never decreases except
    ///         through a revert of the dispute game (`revertCount`).
    function lastCommittedBatch() public view returns (uint64) {
        return _lastCommittedBatch;
    }

    /// @dev Refuses when exodus mode is active (every batch-, proof- and deposit-taking entry).
    function _requireNoExodus() internal view {
        if (exodusActive) revert ExodusActive();
    }
}
