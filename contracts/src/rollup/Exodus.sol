// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExitVerifier} from "../interfaces/IExitVerifier.sol";
import {PriorityQueue} from "./PriorityQueue.sol";
import {Withdrawals} from "./Withdrawals.sol";

/// @title Exodus
/// @notice Users can always leave (DESIGN §5). Every deposit must be consumed by a committed
///         batch within `priorityDeadline` seconds of being queued: a commit that leaves an
///         expired entry pending is refused. If the sequencer(s) stop including deposits
///         anyway, anyone may switch the rollup into exodus mode (`activateExodus`, in
///         `TandemRollup`, which checks the last final batch's record); it is permanent. Then
///         no batch is committed, proven or finalized any more (batches not yet final are
///         dropped) and no deposit is taken, and every user gets their money back on L1:
///         - `exit`: an L2 balance in the last final state (`exodusStateRoot`), once per
///           (account, token), with a Groth16 proof of the exit circuit (`exitVerifier`) that
///           binds the recipient;
///         - `refundDeposit`: a deposit no final batch credited (queue index >=
///           `exodusPriorityEnd`), once, to the address that made it;
///         - `claimWithdrawal` of final batches keeps working (`Withdrawals`).
/// @dev Invariants: `exitVerifier` and `priorityDeadline` (0 < it <= FORCED_WITHDRAWAL_DEADLINE)
///      never change; exodus, once active, stays active; each (accountIndex, tokenId) exits and
///      each queue entry is refunded at most once; every payout first takes its amount off
///      `tokenLocked` (never below 0), so exits + refunds + claims never pay more of a token
///      than was deposited. A final state credits exactly the entries below its batch's
///      priorityOpsEnd, so no deposit is both exited (as part of a balance) and refunded.
abstract contract Exodus is PriorityQueue, Withdrawals {
    /// @notice Groth16 verifier of the exit circuit (`IExitVerifier`), fixed at deployment.
    address public immutable exitVerifier;
    /// @notice Seconds a priority-queue entry may wait, from its deposit, for a committed batch
    ///         to consume it; fixed at deployment, 0 < priorityDeadline <= FORCED_WITHDRAWAL_DEADLINE.
    uint64 public immutable priorityDeadline;

    /// @notice State root of the last final batch when exodus was activated (0 before): the
    ///         state every `exit` proves a balance in.
    bytes32 public exodusStateRoot;
    /// @dev Exited (account, token) pairs: word `accountIndex >> 3`, bit `(accountIndex & 7) * 32 + tokenId`.
    mapping(uint256 word => uint256 bits) private _exited;
    /// @dev Refunded queue entries: word `queueIndex >> 8`, bit `queueIndex & 0xff`.
    mapping(uint256 word => uint256 bits) private _refunded;

    /// @notice Exodus mode began; `lastFinalBatch` (state root `stateRoot`) is the last final
    ///         batch for good, queue entries from `priorityEnd` on are refundable.
    event ExodusActivated(uint64 lastFinalBatch, bytes32 stateRoot, uint64 priorityEnd);
    /// @notice L2 account `accountIndex` left with its whole `amount` of `tokenId`, paid to `recipient`.
    event Exited(uint32 indexed accountIndex, uint8 indexed tokenId, uint128 amount, address recipient);
    /// @notice Queue entry `queueIndex` (`amount` of `tokenId`) was paid back to its `depositor`.
    event DepositRefunded(uint64 indexed queueIndex, address depositor, uint8 tokenId, uint128 amount);

    /// @notice `exitVerifier` has no code.
    error ExitVerifierHasNoCode(address exitVerifier);
    /// @notice `priorityDeadline` is 0 or above FORCED_WITHDRAWAL_DEADLINE.
    error PriorityDeadlineOutOfRange(uint64 priorityDeadline);
    /// @notice Queue entry `queueIndex` does not exist (`priorityTail` = `tail`).
    error PriorityOpNotQueued(uint64 queueIndex, uint64 tail);
    /// @notice The batch leaves queue entry `queueIndex` pending past its `deadline`: it must consume it.
    error ExpiredPriorityOpNotConsumed(uint64 queueIndex, uint64 deadline);
    /// @notice The oldest entry not consumed by a committed batch (`queueIndex`; = priorityTail
    ///         when there is none, `deadline` 0) is not past its deadline: no reason for exodus.
    error NoExpiredPriorityOp(uint64 queueIndex, uint64 deadline);
    /// @notice Exodus mode is not active.
    error ExodusNotActive();
    /// @notice Account `accountIndex` already exited with its `tokenId` balance.
    error AlreadyExited(uint32 accountIndex, uint8 tokenId);
    /// @notice The exit verifier did not accept the proof (reverted or did not return exactly `true`).
    error InvalidExitProof();
    /// @notice Queue entry `queueIndex` is not refundable: credited by a final batch, or not queued.
    error NotRefundable(uint64 queueIndex);
    /// @notice (packedKey, tokenId, amount) do not hash to queue entry `queueIndex`.
    error RefundMismatch(uint64 queueIndex);
    /// @notice Queue entry `queueIndex` was already refunded.
    error AlreadyRefunded(uint64 queueIndex);

    /// @param exitVerifier_ Groth16 verifier of the exit circuit (must have code).
    /// @param priorityDeadline_ Seconds a deposit may wait for a batch (1..FORCED_WITHDRAWAL_DEADLINE).
    constructor(address exitVerifier_, uint64 priorityDeadline_) {
        if (exitVerifier_.code.length == 0) revert ExitVerifierHasNoCode(exitVerifier_);
        if (priorityDeadline_ == 0 || priorityDeadline_ > FORCED_WITHDRAWAL_DEADLINE) {
            revert PriorityDeadlineOutOfRange(priorityDeadline_);
        }
        exitVerifier = exitVerifier_;
        priorityDeadline = priorityDeadline_;
    }

    // ---------------------------------------------------------------------------------------
    // Priority deadlines
    // ---------------------------------------------------------------------------------------

    /// @notice Latest timestamp at which a commit may still leave queue entry `queueIndex`
    ///         pending: its deposit time + `priorityDeadline`. Reverts `PriorityOpNotQueued`
    ///         for an index >= priorityTail.
    function priorityOpDeadline(uint64 queueIndex) external view returns (uint64) {
        uint64 tail = _priorityTail;
        if (queueIndex >= tail) revert PriorityOpNotQueued(queueIndex, tail);
        return _deadlineOf(queueIndex);
    }

    /// @dev Deadline of queued entry `queueIndex` (one SLOAD).
    function _deadlineOf(uint64 queueIndex) internal view returns (uint64) {
        // The queue time was block.timestamp (< 2^64) at the deposit.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_priorityOpInfo[queueIndex] >> 160) + priorityDeadline;
    }

    /// @dev The commit rule: after a batch that leaves the head at `next`, the entry there (if
    ///      any, `next < tail`) must not be past its deadline. One SLOAD, only when pending.
    function _checkPriorityDeadline(uint64 next, uint64 tail) internal view {
        if (next < tail) {
            uint64 deadline = _deadlineOf(next);
            if (deadline < block.timestamp) revert ExpiredPriorityOpNotConsumed(next, deadline);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Activation (the record check is in TandemRollup.activateExodus)
    // ---------------------------------------------------------------------------------------

    /// @dev Called with the (checked) record of the last final batch `lastFinal` and its
    ///      priorityOpsEnd. Requires the oldest entry not consumed by a committed batch to be
    ///      past its deadline. Freezes the last final state for exits.
    function _activateExodus(uint64 lastFinal, uint64 priorityEnd) internal {
        uint64 head = _priorityHead;
        uint64 tail = _priorityTail;
        uint64 deadline = head < tail ? _deadlineOf(head) : 0;
        if (head == tail || deadline >= block.timestamp) revert NoExpiredPriorityOp(head, deadline);
        bytes32 root = lastFinalizedStateRoot;
        exodusActive = true;
        // Safe: a record's priorityOpsEnd <= priorityTail < 2^48.
        // forge-lint: disable-next-line(unsafe-typecast)
        _exodusPriorityEnd = uint48(priorityEnd);
        exodusStateRoot = root;
        emit ExodusActivated(lastFinal, root, priorityEnd);
    }

    /// @notice First queue index not credited by the last final batch at exodus (0 before
    ///         exodus): entries `[exodusPriorityEnd, priorityTail)` are refundable.
    function exodusPriorityEnd() external view returns (uint64) {
        return _exodusPriorityEnd;
    }

    // ---------------------------------------------------------------------------------------
    // Exits
    // ---------------------------------------------------------------------------------------

    /// @notice Pays L2 account `accountIndex`'s whole balance `amount` of `tokenId` in the
    ///         exodus state to `recipient`, proven by Groth16 `proof` of the exit circuit over
    ///         [exodusStateRoot, accountIndex, tokenId, amount, recipient]. Anyone may send it:
    ///         the proof binds the recipient.
    /// @dev Requires: exodus active (`ExodusNotActive`); amount > 0 (`ZeroAmount`); a
    ///      registered token id (`UnknownTokenId`); not exited yet (`AlreadyExited`); the
    ///      verifier call succeeds and returns exactly `true` (`InvalidExitProof`).
    ///      Effects: marks (accountIndex, tokenId) exited, takes amount off `tokenLocked`,
    ///      emits Exited, pays (ETH or ERC-20).
    function exit(uint32 accountIndex, uint8 tokenId, uint128 amount, address recipient, uint256[8] calldata proof)
        external
        nonReentrant
    {
        if (!exodusActive) revert ExodusNotActive();
        if (amount == 0) revert ZeroAmount();
        if (tokenId >= tokenCount) revert UnknownTokenId(tokenId);
        uint256 word = accountIndex >> 3;
        uint256 bit = 1 << (((accountIndex & 7) << 5) | tokenId); // tokenId < MAX_TOKENS = 32
        uint256 bits = _exited[word];
        if (bits & bit != 0) revert AlreadyExited(accountIndex, tokenId);
        _verifyExitProof(accountIndex, tokenId, amount, recipient, proof);
        _exited[word] = bits | bit;
        _release(tokenId, amount);
        emit Exited(accountIndex, tokenId, amount, recipient);
        _pay(tokenId, recipient, amount);
    }

    /// @notice Whether account `accountIndex` exited with its `tokenId` balance.
    function isExited(uint32 accountIndex, uint8 tokenId) external view returns (bool) {
        if (tokenId >= MAX_TOKENS) return false;
        return _exited[accountIndex >> 3] & (1 << (((accountIndex & 7) << 5) | tokenId)) != 0;
    }

    /// @dev Valid iff `exitVerifier.verifyProof(proof, inputs)` succeeds and returns exactly the
    ///      ABI word `true` (as `ZkLane._verifyProof`); else `InvalidExitProof`. The call data is
    ///      what `abi.encodeCall` gives (selector, 8 proof words, 5 input words), written by
    ///      hand: the ABI encoder's copy would not fit `StakedRollup` under EIP-170.
    function _verifyExitProof(
        uint32 accountIndex,
        uint8 tokenId,
        uint128 amount,
        address recipient,
        uint256[8] calldata proof
    ) private view {
        address v = exitVerifier;
        bytes32 root = exodusStateRoot;
        bool valid;
        bytes4 selector = IExitVerifier.verifyProof.selector;
        assembly ("memory-safe") {
            // verifyProof(uint256[8] proof, uint256[5] input): selector, 8 + 5 static words.
            let m := mload(0x40)
            mstore(m, selector)
            calldatacopy(add(m, 0x04), proof, 0x100)
            mstore(add(m, 0x104), root)
            mstore(add(m, 0x124), accountIndex)
            mstore(add(m, 0x144), tokenId)
            mstore(add(m, 0x164), amount)
            mstore(add(m, 0x184), recipient)
            let ok := staticcall(gas(), v, m, 0x1a4, 0x00, 0x20)
            // Exactly one ABI word, equal to 1 (`true`).
            valid := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
        }
        if (!valid) revert InvalidExitProof();
    }

    // ---------------------------------------------------------------------------------------
    // Refunds
    // ---------------------------------------------------------------------------------------

    /// @notice Pays queue entry `queueIndex` (a deposit no final batch credited) back to the
    ///         address that made it. Anyone may call; the money goes to `depositorOf(queueIndex)`.
    /// @dev Requires: exodus active (`ExodusNotActive`); `exodusPriorityEnd <= queueIndex <
    ///      priorityTail` (`NotRefundable`; entries consumed only by dropped batches count);
    ///      keccak256(abi.encodePacked(packedKey, tokenId, amount)) is the entry
    ///      (`RefundMismatch`); not refunded yet (`AlreadyRefunded`). Effects: marks it
    ///      refunded, takes amount off `tokenLocked`, emits DepositRefunded, pays.
    function refundDeposit(uint64 queueIndex, bytes32 packedKey, uint8 tokenId, uint128 amount) external nonReentrant {
        if (!exodusActive) revert ExodusNotActive();
        if (queueIndex < _exodusPriorityEnd || queueIndex >= _priorityTail) revert NotRefundable(queueIndex);
        bytes32 entry; // by hand, for the EIP-170 limit (as `_verifyExitProof`)
        assembly ("memory-safe") {
            // keccak256(abi.encodePacked(packedKey, tokenId, amount)): 32 + 1 + 16 bytes.
            let m := mload(0x40)
            mstore(m, packedKey)
            mstore(add(m, 0x20), or(shl(248, tokenId), shl(120, amount)))
            entry := keccak256(m, 49)
        }
        if (entry != priorityQueue[queueIndex]) revert RefundMismatch(queueIndex);
        uint256 word = queueIndex >> 8;
        uint256 bit = 1 << (queueIndex & 0xff);
        uint256 bits = _refunded[word];
        if (bits & bit != 0) revert AlreadyRefunded(queueIndex);
        _refunded[word] = bits | bit;
        address depositor = address(uint160(_priorityOpInfo[queueIndex]));
        _release(tokenId, amount);
        emit DepositRefunded(queueIndex, depositor, tokenId, amount);
        _pay(tokenId, depositor, amount);
    }

    /// @notice Whether queue entry `queueIndex` was refunded.
    function isDepositRefunded(uint64 queueIndex) external view returns (bool) {
        return _refunded[queueIndex >> 8] & (1 << (queueIndex & 0xff)) != 0;
    }

    /// @dev Takes `amount` of `tokenId` off `tokenLocked` (`WithdrawalExceedsLocked` if it is
    ///      not there: never for an honest history).
    function _release(uint8 tokenId, uint128 amount) private {
        uint256 locked = tokenLocked[tokenId];
        if (amount > locked) revert WithdrawalExceedsLocked(tokenId, locked, amount);
        tokenLocked[tokenId] = locked - amount;
    }
}
