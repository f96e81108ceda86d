// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupState} from "./RollupState.sol";
import {WithdrawalTree} from "../libraries/WithdrawalTree.sol";

/// @title PublicDataParser
/// @notice The strict reader of a batch's public data (SPEC §4.2) used at commit: every op
///         known, complete and canonical, the i-th Deposit op equal to the next pending
///         priority-queue entry, and the Withdraw ops hashed into the batch's withdrawal tree.
///         Failures name the byte offset of the op (custom errors below).
/// @dev Hot path in assembly (see `_parseOps`); the error paths re-walk the data in plain
///      Solidity, so only a failing commit pays for them.
abstract contract PublicDataParser is RollupState {
    // Op types (high 3 bits of an op's header byte) and their encoded sizes, SPEC §4.2.
    uint256 internal constant OP_NOOP = 0;
    uint256 internal constant OP_DEPOSIT = 1;
    uint256 internal constant OP_TRANSFER = 2;
    uint256 internal constant OP_TRANSFER_TO_NEW = 3;
    uint256 internal constant OP_WITHDRAW = 4;
    uint256 internal constant OP_FORCED_WITHDRAW = 5;
    uint256 internal constant SIZE_NOOP = 1;
    uint256 internal constant SIZE_DEPOSIT = 52;
    uint256 internal constant SIZE_TRANSFER = 12;
    uint256 internal constant SIZE_TRANSFER_TO_NEW = 44;
    uint256 internal constant SIZE_WITHDRAW = 41;
    uint256 internal constant SIZE_FORCED_WITHDRAW = 52;

    // Parser failure codes.
    uint256 private constant ERR_UNKNOWN_TYPE = 1;
    uint256 private constant ERR_TRUNCATED = 2;
    uint256 private constant ERR_NOOP = 3;
    uint256 private constant ERR_DEPOSIT = 4;
    uint256 private constant ERR_FORCED = 5;

    /// @notice The op at byte `offset` of the public data has an unknown type (6 or 7).
    error UnknownOpType(uint256 offset, uint8 opType);
    /// @notice The op at byte `offset` runs past the end of the public data.
    error TruncatedOp(uint256 offset, uint8 opType);
    /// @notice The Noop at byte `offset` has a non-zero header byte (its token bits must be 0).
    error NonCanonicalNoop(uint256 offset, uint8 headerByte);
    /// @notice The Deposit op at byte `offset` differs from priority-queue entry `queueIndex`.
    error DepositMismatch(uint256 offset, uint64 queueIndex);
    /// @notice The ForcedWithdraw op at byte `offset` differs from priority-queue entry `queueIndex`.
    error ForcedWithdrawalMismatch(uint256 offset, uint64 queueIndex);
    /// @notice The header claims `declared` priority ops but the public data has `found` Deposit
    ///         and ForcedWithdraw ops.
    error PriorityOpsCountMismatch(uint32 declared, uint256 found);

    /// @dev Walks the ops of `data` (SPEC §4.2) once. The i-th Deposit op (in order) must
    ///      equal queue entry `queueStart + i` while that is below `queueLimit`; the returned
    ///      `queueEnd` is `queueStart +` the number of Deposit ops. Withdraw ops become leaves
    ///      at `mload(0x40) + 0x80` (as found on entry), allocated on return. `err` is 0 or
    ///      (offset << 8 | code).
    ///      Hot path: runs of Transfers are checked twelve, then three at a time, three headers
    ///      (bytes 0, 12, 24) per calldataload, with no storage or memory writes.
    function _parseOps(bytes calldata data, uint256 queueStart, uint256 queueLimit)
        private
        view
        returns (uint256 counts, uint256 err)
    {
        // counts packs three counters to keep the stack small: bits 0-63 the number of ops,
        // 64-127 the queue cursor (next entry to compare), 128-191 the number of withdrawals.
        assembly ("memory-safe") {
            counts := shl(64, queueStart)
            let end := add(data.offset, data.length)
            let ptr := data.offset
            // Memory past the free memory pointer: 128 bytes of hashing scratch at
            // buf = mload(0x40), then the withdrawal leaves (allocated at the end).
            // The fast paths only run while all the bytes they look at lie inside `data`
            // (ptr + 144 <= end, resp. ptr + 36 <= end), so they never read ABI padding or
            // later calldata. M / P: type bits of the headers at bytes 0, 12, 24 of a word /
            // those bits for three Transfers (type 2).
            let fast12End := 0
            if gt(data.length, 143) { fast12End := sub(end, 143) }
            let fast3End := 0
            if gt(data.length, 35) { fast3End := sub(end, 35) }
            for {} lt(ptr, end) {} {
                {
                    let runStart := ptr
                    // Twelve Transfers in a row: four words, three headers each.
                    for {} and(
                        lt(ptr, fast12End),
                        iszero(
                            or(
                                or(
                                    xor(
                                        and(calldataload(ptr), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    ),
                                    xor(
                                        and(calldataload(add(ptr, 36)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    )
                                ),
                                or(
                                    xor(
                                        and(calldataload(add(ptr, 72)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    ),
                                    xor(
                                        and(calldataload(add(ptr, 108)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    )
                                )
                            )
                        )
                    ) {} { ptr := add(ptr, 144) }
                    // Three Transfers in a row.
                    for {} and(
                        lt(ptr, fast3End),
                        eq(
                            and(calldataload(ptr), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                            0x4000000000000000000000004000000000000000000000004000000000000000
                        )
                    ) {} { ptr := add(ptr, 36) }
                    counts := add(counts, div(sub(ptr, runStart), 12))
                }
                if iszero(lt(ptr, end)) { break }

                let word := calldataload(ptr)
                switch shr(253, word)
                case 2 { ptr := add(ptr, 12) }
                case 1 {
                    // Deposit: hdr(1) | to(3) | packedKey(32) | amount(16)
                    if gt(add(ptr, 52), end) {
                        err := 2
                        break
                    }
                    let cursor := and(shr(64, counts), 0xffffffffffffffff)
                    if lt(cursor, queueLimit) {
                        mstore(0x00, cursor)
                        mstore(0x20, priorityQueue.slot)
                        let entry := sload(keccak256(0x00, 0x40))
                        let buf := mload(0x40)
                        mstore(buf, calldataload(add(ptr, 4)))
                        mstore8(add(buf, 32), and(shr(248, word), 0x1f))
                        mstore(add(buf, 33), calldataload(add(ptr, 36)))
                        if iszero(eq(keccak256(buf, 49), entry)) {
                            err := or(shl(8, sub(ptr, data.offset)), 4)
                            break
                        }
                    }
                    counts := add(counts, shl(64, 1))
                    ptr := add(ptr, 52)
                }
                case 4 {
                    // Withdraw: hdr(1) | from(3) | amount(16) | fee(1) | l1Address(20)
                    if gt(add(ptr, 41), end) {
                        err := 2
                        break
                    }
                    let buf := mload(0x40)
                    mstore8(buf, and(shr(248, word), 0x1f))
                    mstore(add(buf, 1), calldataload(add(ptr, 4)))
                    mstore(add(buf, 17), calldataload(add(ptr, 21)))
                    mstore(add(add(buf, 0x80), shl(5, shr(128, counts))), keccak256(buf, 37))
                    counts := add(counts, shl(128, 1))
                    ptr := add(ptr, 41)
                }
                case 5 {
                    // ForcedWithdraw: hdr(1) | account(3) | withdrawn(16) | requestHash(32); a
                    // priority op like a Deposit; a withdrawal leaf when withdrawn > 0.
                    if gt(add(ptr, 52), end) {
                        err := 2
                        break
                    }
                    let cursor := and(shr(64, counts), 0xffffffffffffffff)
                    mstore(0x00, cursor)
                    let buf := mload(0x40)
                    if lt(cursor, queueLimit) {
                        mstore(0x20, priorityQueue.slot)
                        let entry := sload(keccak256(0x00, 0x40))
                        // account(3) | token(1) | requestHash(32)
                        mstore(buf, calldataload(add(ptr, 1)))
                        mstore8(add(buf, 3), and(shr(248, word), 0x1f))
                        mstore(add(buf, 4), calldataload(add(ptr, 20)))
                        if iszero(eq(keccak256(buf, 36), entry)) {
                            err := or(shl(8, sub(ptr, data.offset)), 5)
                            break
                        }
                    }
                    if shr(128, calldataload(add(ptr, 4))) {
                        // leaf = keccak256(token(1) | withdrawn(16) | recipient(20))
                        mstore(0x20, _forcedRecipient.slot)
                        let recipient := sload(keccak256(0x00, 0x40))
                        mstore8(buf, and(shr(248, word), 0x1f))
                        mstore(add(buf, 1), calldataload(add(ptr, 4)))
                        mstore(add(buf, 17), shl(96, recipient))
                        mstore(add(add(buf, 0x80), shl(5, shr(128, counts))), keccak256(buf, 37))
                        counts := add(counts, shl(128, 1))
                    }
                    counts := add(counts, shl(64, 1))
                    ptr := add(ptr, 52)
                }
                case 3 { ptr := add(ptr, 44) }
                case 0 {
                    if and(shr(248, word), 0x1f) {
                        err := or(shl(8, sub(ptr, data.offset)), 3)
                        break
                    }
                    ptr := add(ptr, 1)
                }
                default {
                    err := or(shl(8, sub(ptr, data.offset)), 1)
                    break
                }
                counts := add(counts, 1)
            }
            if iszero(err) { if gt(ptr, end) { err := 2 } }
            // Keep the leaves (plus one word for padding an odd level): allocate them.
            let withdrawals := shr(128, counts)
            if withdrawals { mstore(0x40, add(mload(0x40), add(0xa0, shl(5, withdrawals)))) }
        }
    }
    /// @dev Parses `data` and turns any failure into its custom error; checks the number of
    ///      Deposit ops against `priorityOps`.
    function _processPublicData(bytes calldata data, uint256 head, uint256 priorityOps)
        internal
        view
        returns (uint256 opCount, uint256 withdrawalCount, bytes32 withdrawalsRoot)
    {
        uint256 queueEnd;
        uint256 err;
        uint256 leaves; // where _parseOps puts the withdrawal leaves (see there)
        assembly ("memory-safe") {
            leaves := add(mload(0x40), 0x80)
        }
        uint256 counts;
        (counts, err) = _parseOps(data, head, head + priorityOps);
        opCount = uint64(counts);
        queueEnd = uint64(counts >> 64);
        withdrawalCount = counts >> 128;
        if (err != 0) _revertMalformed(data, err & 0xff, err >> 8, queueEnd);
        if (withdrawalCount != 0) withdrawalsRoot = WithdrawalTree.root(leaves, withdrawalCount);
        uint256 deposits = queueEnd - head;
        // Safe: priorityOps came from a uint32 header field.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (deposits != priorityOps) revert PriorityOpsCountMismatch(uint32(priorityOps), deposits);
    }

    /// @dev Cold path: turns a parser failure code into its custom error.
    function _revertMalformed(bytes calldata data, uint256 err, uint256 offset, uint256 queueIndex) private pure {
        if (err == ERR_UNKNOWN_TYPE) revert UnknownOpType(offset, uint8(data[offset]) >> 5);
        if (err == ERR_NOOP) revert NonCanonicalNoop(offset, uint8(data[offset]));
        // Safe: queueIndex < priorityTail, a uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (err == ERR_DEPOSIT) revert DepositMismatch(offset, uint64(queueIndex));
        // forge-lint: disable-next-line(unsafe-typecast)
        if (err == ERR_FORCED) revert ForcedWithdrawalMismatch(offset, uint64(queueIndex));
        // ERR_TRUNCATED: find the op that runs past the end (all earlier types are known).
        uint256 i;
        while (i < data.length) {
            uint8 opType = uint8(data[i]) >> 5;
            uint256 size = _opSize(opType);
            if (i + size > data.length) revert TruncatedOp(i, opType);
            i += size;
        }
        revert TruncatedOp(data.length, 0); // unreachable
    }

    function _opSize(uint256 opType) internal pure returns (uint256) {
        if (opType == OP_TRANSFER) return SIZE_TRANSFER;
        if (opType == OP_DEPOSIT) return SIZE_DEPOSIT;
        if (opType == OP_WITHDRAW) return SIZE_WITHDRAW;
        if (opType == OP_TRANSFER_TO_NEW) return SIZE_TRANSFER_TO_NEW;
        if (opType == OP_NOOP) return SIZE_NOOP;
        if (opType == OP_FORCED_WITHDRAW) return SIZE_FORCED_WITHDRAW;
        return type(uint256).max;
    }
}
