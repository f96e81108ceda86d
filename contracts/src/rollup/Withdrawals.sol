// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {RollupState} from "./RollupState.sol";
import {WithdrawalTree} from "../libraries/WithdrawalTree.sol";

/// @title Withdrawals
/// @notice The rollup's way out: a final batch's withdrawal tree (root and count, recorded by
///         finalization) and claims against it, each (batch, index) paid exactly once, only
///         after the batch is final, always to the L1 address named in the Withdraw op (anyone
///         may submit the claim). The tree itself is `WithdrawalTree`; the commit builds the
///         root from the public data (`PublicDataParser`).
/// @dev Invariant: per token, a claim never takes more than `tokenLocked` (deposited - claimed).
abstract contract Withdrawals is ReentrancyGuardTransient, RollupState {
    using SafeERC20 for IERC20;

    /// @notice Withdrawal commitment of a final batch (set by finalization).
    struct WithdrawalSet {
        bytes32 root;
        uint32 count;
    }

    mapping(uint64 batchNumber => WithdrawalSet) private _withdrawals;
    mapping(uint64 batchNumber => mapping(uint256 word => uint256 bits)) private _claimed;

    /// @notice Withdrawal `index` of batch `batchNumber` paid `amount` of `tokenId` to `recipient`.
    event WithdrawalClaimed(
        uint64 indexed batchNumber, uint32 indexed index, address indexed recipient, uint8 tokenId, uint128 amount
    );

    /// @notice No token is registered under `tokenId`.
    error UnknownTokenId(uint8 tokenId);
    /// @notice Batch `batchNumber` is not final yet.
    error BatchNotFinalized(uint64 batchNumber);
    /// @notice Batch `batchNumber` has only `count` withdrawals.
    error WithdrawalIndexOutOfRange(uint64 batchNumber, uint256 index, uint256 count);
    /// @notice Withdrawal `index` of batch `batchNumber` was already paid.
    error WithdrawalAlreadyClaimed(uint64 batchNumber, uint256 index);
    /// @notice The Merkle proof does not show this withdrawal at `index` of batch `batchNumber`.
    error InvalidWithdrawalProof(uint64 batchNumber, uint256 index);
    /// @notice Paying `amount` would take more of `tokenId` out than is locked (`locked`).
    error WithdrawalExceedsLocked(uint8 tokenId, uint256 locked, uint128 amount);
    /// @notice The ETH payment to `recipient` failed.
    error EthTransferFailed(address recipient, uint256 amount);

    /// @notice Pays withdrawal `index` of final batch `batchNumber`: `amount` of `tokenId` to
    ///         `recipient`, proven by `proof` against the batch's withdrawals root. Anyone may
    ///         call; the money always goes to `recipient`, the L1 address named in the op.
    /// @dev Pays each (batchNumber, index) at most once. `proof` holds the sibling hashes from
    ///      the leaf up; its length must be ceil(log2(withdrawalCount)).
    function claimWithdrawal(
        uint64 batchNumber,
        uint32 index,
        uint8 tokenId,
        uint128 amount,
        address recipient,
        bytes32[] calldata proof
    ) external nonReentrant {
        if (batchNumber > lastFinalizedBatch) revert BatchNotFinalized(batchNumber);
        WithdrawalSet storage set = _withdrawals[batchNumber];
        uint256 count = set.count;
        if (index >= count) revert WithdrawalIndexOutOfRange(batchNumber, index, count);
        uint256 word = index >> 8;
        uint256 bit = 1 << (index & 0xff);
        uint256 bits = _claimed[batchNumber][word];
        if (bits & bit != 0) revert WithdrawalAlreadyClaimed(batchNumber, index);
        if (!WithdrawalTree.verify(set.root, count, index, withdrawalLeaf(tokenId, amount, recipient), proof)) {
            revert InvalidWithdrawalProof(batchNumber, index);
        }
        _claimed[batchNumber][word] = bits | bit;
        // Never true for an honest history; stops a fraudulent batch from paying out more than was deposited.
        uint256 locked = tokenLocked[tokenId];
        if (amount > locked) revert WithdrawalExceedsLocked(tokenId, locked, amount);
        tokenLocked[tokenId] = locked - amount;
        emit WithdrawalClaimed(batchNumber, index, recipient, tokenId, amount);
        _pay(tokenId, recipient, amount);
    }

    /// @dev Pays `amount` of `tokenId` to `recipient` (ETH by call, an ERC-20 by transfer);
    ///      `UnknownTokenId` for an ERC-20 id without a token. Callers update `tokenLocked`
    ///      first and hold the reentrancy guard (claims, exits, refunds).
    function _pay(uint8 tokenId, address recipient, uint128 amount) internal {
        if (tokenId == ETH_TOKEN_ID) {
            (bool ok,) = recipient.call{value: amount}("");
            if (!ok) revert EthTransferFailed(recipient, amount);
        } else {
            address token = tokenAddress[tokenId];
            if (token == address(0)) revert UnknownTokenId(tokenId);
            IERC20(token).safeTransfer(recipient, amount);
        }
    }

    /// @notice Whether withdrawal `index` of batch `batchNumber` has been paid.
    function isWithdrawalClaimed(uint64 batchNumber, uint256 index) external view returns (bool) {
        return _claimed[batchNumber][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /// @notice Withdrawals root and count of a final batch (zero for non-final batches).
    function finalizedWithdrawals(uint64 batchNumber) external view returns (bytes32 root, uint32 count) {
        WithdrawalSet storage set = _withdrawals[batchNumber];
        return (set.root, set.count);
    }

    /// @notice Leaf of the withdrawal Merkle tree:
    ///         keccak256(abi.encodePacked(uint8 tokenId, uint128 amount, address recipient)).
    function withdrawalLeaf(uint8 tokenId, uint128 amount, address recipient) public pure returns (bytes32) {
        return WithdrawalTree.leaf(tokenId, amount, recipient);
    }

    /// @dev Finalization of batch `batchNumber` makes its `count` withdrawals under `root` claimable.
    function _recordWithdrawals(uint64 batchNumber, bytes32 root, uint32 count) internal {
        if (count != 0) _withdrawals[batchNumber] = WithdrawalSet({root: root, count: count});
    }
}
