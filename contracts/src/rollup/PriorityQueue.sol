// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BabyJubjub} from "../libraries/BabyJubjub.sol";
import {RollupState} from "./RollupState.sol";

/// @title PriorityQueue
/// @notice The rollup's way in: the token registry and the deposit priority queue. A deposit
///         locks ETH or a registered ERC-20 on L1 and appends one queue entry naming the L2
///         owner key (circomlib-packed Baby Jubjub point, SPEC §2), the token and the amount;
///         committed batches consume the entries in order (`PublicDataParser`).
/// @dev Invariants: entries `[priorityHead, priorityTail)` are pending; every entry `i <
///      priorityTail` has its depositor and queue time in `_priorityOpInfo[i]` (one slot,
///      never changed); per token,
///      `tokenLocked` (deposited - claimed) stays below 2^128; a deposit key is on the curve,
///      has coordinates below p and is not one of the 8 points of order dividing 8 (SPEC §2).
abstract contract PriorityQueue is ReentrancyGuardTransient, RollupState {
    using SafeERC20 for IERC20;

    /// @notice Number of token ids (ETH included): the L2 token tree has depth 5.
    uint8 public constant MAX_TOKENS = 32;

    /// @dev Per queue entry: `uint64 queuedAt << 160 | address depositor` (one slot; the
    ///      depositor is never zero, so a zero slot means "not queued"). Read by the priority
    ///      deadline (`Exodus`) and by deposit refunds.
    mapping(uint64 index => uint256 info) internal _priorityOpInfo;

    /// @notice ERC-20 `token` got id `tokenId`; ids never change once given.
    event TokenAdded(uint8 indexed tokenId, address indexed token);
    /// @notice Priority-queue entry `queueIndex` was added; L2 must credit `amount` of `tokenId`
    ///         to the account of `packedKey` (SPEC §2 packed Baby Jubjub point).
    event DepositQueued(uint64 indexed queueIndex, bytes32 packedKey, uint8 tokenId, uint128 amount);
    /// @notice Priority-queue entry `queueIndex` is a forced withdrawal of L2 account `account`
    ///         and token `tokenId` (request `requestHash`, SPEC §16; the full request is in the
    ///         inbox's `ForcedWithdrawalRequested`).
    event ForcedWithdrawalQueued(uint64 indexed queueIndex, uint32 account, uint8 tokenId, bytes32 requestHash);

    /// @notice `token` is already registered, with id `tokenId`.
    error TokenAlreadyRegistered(address token, uint8 tokenId);
    /// @notice `caller` is not the forced-withdrawal inbox bound to this rollup.
    error NotForcedInbox(address caller);
    /// @notice The forced-withdrawal inbox has no code.
    error ForcedInboxHasNoCode(address inbox);
    /// @notice The forced-withdrawal inbox is bound to `rollup`, not to this rollup.
    error ForcedInboxNotBound(address rollup);
    /// @notice All 32 token ids are taken.
    error TooManyTokens();
    /// @notice `token` is not a registered ERC-20.
    error UnknownToken(address token);
    /// @notice Deposits of zero are refused.
    error ZeroAmount();
    /// @notice Deposit amounts must be below 2^128.
    error AmountTooLarge(uint256 amount);
    /// @notice The deposit would make the token's locked total reach 2^128.
    error LockedAmountOverflow(uint8 tokenId);
    /// @notice The token moved `received` into the bridge instead of `expected` (fee-on-transfer tokens are refused).
    error TokenTransferMismatch(uint256 expected, uint256 received);
    /// @notice (x, y) is not a Baby Jubjub point with coordinates below p.
    error InvalidPublicKey(uint256 x, uint256 y);
    /// @notice (x, y) is a point of order dividing 8 (the identity among them): anyone can sign
    ///         for it, since signature verification multiplies by the cofactor 8.
    error LowOrderPublicKey(uint256 x, uint256 y);

    /// @dev The forced-withdrawal inbox bound at deployment (`TandemRollup`; address(0): none,
    ///      then `enqueueForcedWithdrawal` is refused to everyone).
    function _forcedInbox() internal view virtual returns (address);

    /// @notice Appends a forced withdrawal to the priority queue. Only the bound inbox, which
    ///         checked the request (SPEC §16) and holds its fee.
    /// @dev Entry = keccak256(abi.encodePacked(uint24 account, uint8 tokenId, bytes32
    ///      requestHash)); per-entry info as a deposit's (queue time | `requester`); stores
    ///      `recipient` for the ForcedWithdraw op. The inbox checks account < 2^treeDepth <= 2^24
    ///      and tokenId < 32. Refused during exodus (`ExodusActive`). Emits ForcedWithdrawalQueued.
    function enqueueForcedWithdrawal(
        uint32 account,
        uint8 tokenId,
        bytes32 requestHash,
        address recipient,
        address requester
    ) external returns (uint64 queueIndex) {
        if (msg.sender != _forcedInbox()) revert NotForcedInbox(msg.sender);
        _requireNoExodus();
        bytes32 entry;
        assembly ("memory-safe") {
            // keccak256(abi.encodePacked(uint24 account, uint8 tokenId, bytes32 requestHash)): 36 bytes.
            mstore(0x00, or(shl(232, account), shl(224, tokenId)))
            mstore(0x04, requestHash)
            entry := keccak256(0x00, 36)
        }
        queueIndex = _append(entry, requester);
        _forcedRecipient[queueIndex] = recipient;
        emit ForcedWithdrawalQueued(queueIndex, account, tokenId, requestHash);
    }

    /// @notice Registers ERC-20 `token` under the next free id (1..31). Owner only.
    /// @dev Ids are never reused or reassigned; an address is registered at most once.
    /// @return tokenId The id given to `token`.
    function addToken(address token) external onlyOwner returns (uint8 tokenId) {
        if (token == address(0)) revert ZeroAddress();
        uint8 existing = tokenIdOf[token];
        if (existing != 0) revert TokenAlreadyRegistered(token, existing);
        tokenId = tokenCount;
        if (tokenId >= MAX_TOKENS) revert TooManyTokens();
        tokenCount = tokenId + 1;
        tokenAddress[tokenId] = token;
        tokenIdOf[token] = tokenId;
        emit TokenAdded(tokenId, token);
    }


    /// @notice Deposits `msg.value` wei of ETH to the L2 account of Baby Jubjub key (pubX, pubY).
    /// @dev Refuses during exodus (`ExodusActive`), a zero value, a value >= 2^128, an invalid
    ///      key, and a locked total >= 2^128. Appends one priority-queue entry (msg.sender is
    ///      its depositor, refunded if exodus comes before a final batch credits it) and emits
    ///      DepositQueued.
    /// @return queueIndex Index of the new priority-queue entry.
    function depositETH(uint256 pubX, uint256 pubY) external payable nonReentrant returns (uint64 queueIndex) {
        _requireNoExodus();
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value > type(uint128).max) revert AmountTooLarge(msg.value);
        bytes32 key = _packKey(pubX, pubY);
        queueIndex = _enqueue(key, ETH_TOKEN_ID, uint128(msg.value));
    }

    /// @notice Deposits `amount` of registered ERC-20 `token` (pulled with transferFrom; approve
    ///         first) to the L2 account of Baby Jubjub key (pubX, pubY).
    /// @dev Refuses during exodus (`ExodusActive`), unregistered tokens, zero amounts, invalid
    ///      keys, tokens that deliver a different amount than requested, and a locked total >=
    ///      2^128. msg.sender is the entry's depositor (see `depositETH`).
    /// @return queueIndex Index of the new priority-queue entry.
    function depositERC20(address token, uint128 amount, uint256 pubX, uint256 pubY)
        external
        nonReentrant
        returns (uint64 queueIndex)
    {
        _requireNoExodus();
        uint8 tokenId = tokenIdOf[token];
        if (tokenId == 0) revert UnknownToken(token);
        if (amount == 0) revert ZeroAmount();
        bytes32 key = _packKey(pubX, pubY);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert TokenTransferMismatch(amount, received);
        queueIndex = _enqueue(key, tokenId, amount);
    }

    /// @notice Index of the next priority-queue entry a batch must consume.
    function priorityHead() external view returns (uint64) {
        return _priorityHead;
    }

    /// @notice Number of entries ever queued; the next deposit gets this index.
    function priorityTail() external view returns (uint64) {
        return _priorityTail;
    }

    /// @notice The address that made deposit `queueIndex` (the one a refund pays);
    ///         address(0) for an index not queued yet.
    function depositorOf(uint64 queueIndex) external view returns (address) {
        return address(uint160(_priorityOpInfo[queueIndex]));
    }

    /// @notice Number of queued deposits not yet consumed by a committed batch.
    function pendingPriorityOps() external view returns (uint64) {
        return _priorityTail - _priorityHead;
    }

    /// @notice circomlib packing of Baby Jubjub point (x, y) as used in deposits; reverts with
    ///         InvalidPublicKey for coordinates >= p or points off the curve, and with
    ///         LowOrderPublicKey for the 8 points of order dividing 8.
    function packPublicKey(uint256 x, uint256 y) external pure returns (bytes32) {
        return _packKey(x, y);
    }

    /// @dev The deposit key rule (SPEC §2): on the curve with coordinates below p, not of low
    ///      order; returns its circomlib packing.
    function _packKey(uint256 x, uint256 y) private pure returns (bytes32) {
        if (!BabyJubjub.isOnCurve(x, y)) revert InvalidPublicKey(x, y);
        if (BabyJubjub.isLowOrder(x, y)) revert LowOrderPublicKey(x, y);
        return BabyJubjub.pack(x, y);
    }

    function _enqueue(bytes32 key, uint8 tokenId, uint128 amount) private returns (uint64 queueIndex) {
        uint256 locked = tokenLocked[tokenId] + amount;
        if (locked > type(uint128).max) revert LockedAmountOverflow(tokenId);
        tokenLocked[tokenId] = locked;
        queueIndex = _append(keccak256(abi.encodePacked(key, tokenId, amount)), msg.sender);
        emit DepositQueued(queueIndex, key, tokenId, amount);
    }

    /// @dev Appends `entry` at the queue tail with its info slot (queue time | `payer`, the
    ///      address a refund pays); the one way into the queue for deposits and forced
    ///      withdrawals alike.
    function _append(bytes32 entry, address payer) private returns (uint64 queueIndex) {
        uint48 tail = _priorityTail;
        _priorityTail = tail + 1; // checked: stays below 2^48
        queueIndex = tail;
        priorityQueue[queueIndex] = entry;
        _priorityOpInfo[queueIndex] = (uint256(block.timestamp) << 160) | uint256(uint160(payer));
    }
}
