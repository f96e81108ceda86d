// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {PublicDataParser} from "../src/rollup/PublicDataParser.sol";

/// @notice The assembly parser agrees with the plain reference reader on random op mixes
///         (runs of transfers of every length around the three-at-a-time fast path).
contract ParserTest is RollupFixture {
    function randomOps(uint256 seed, uint256 n) internal returns (bytes memory data, uint256 deposits) {
        for (uint256 i = 0; i < n; i++) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint256 kind = seed % 16;
            uint8 tok = uint8((seed >> 8) % 32);
            if (kind < 9) {
                data = bytes.concat(data, opTransfer(uint24(seed >> 16), uint24(seed >> 40), tok, uint32(seed >> 64), uint8(seed >> 96)));
            } else if (kind < 11) {
                data = bytes.concat(data, opNoop());
            } else if (kind < 13) {
                data = bytes.concat(data, opTransferToNew(uint24(seed >> 16), uint24(seed >> 40), bytes32(seed), tok, uint32(seed >> 64), 0));
            } else if (kind < 15) {
                data = bytes.concat(data, opWithdraw(uint24(seed >> 16), tok, uint128(seed >> 100), 0, address(uint160(seed))));
            } else {
                uint128 amount = uint128(bound(seed >> 100, 1, 1e24));
                depositEth(address(0xD0), amount);
                data = bytes.concat(data, opDeposit(uint24(seed >> 16), KEY_PACKED, 0, amount));
                deposits++;
            }
        }
    }

    function testFuzz_commitBatch_countsOpsOfAnyMix(uint256 seed, uint8 n) public {
        (bytes memory data,) = randomOps(seed, n);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        uint32 ops = h.opCount;
        assertEq(ops, n, "reference reader count");
        h.opCount = ops + 1;
        expectCommitRevert(h, data, abi.encodeWithSelector(TandemRollup.OpCountMismatch.selector, ops + 1, ops));
        h.opCount = ops;
        commitWith(h, data); // also checks the withdrawals root against the reference tree
    }

    function testFuzz_commitBatch_rejectsAnyTruncation(uint256 seed, uint8 n, uint256 cut) public {
        vm.assume(n > 0);
        (bytes memory data,) = randomOps(seed, n);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        uint256 len = bound(cut, 0, data.length - 1);
        // Only cut inside the last op so that the remaining prefix is otherwise well formed.
        (uint256 lastStart, uint8 lastType) = lastOp(data);
        vm.assume(len > lastStart);
        bytes memory cutData = new bytes(len);
        for (uint256 i = 0; i < len; i++) cutData[i] = data[i];
        h.publicDataHash = sha256(cutData);
        expectCommitRevert(h, cutData, abi.encodeWithSelector(PublicDataParser.TruncatedOp.selector, lastStart, lastType));
    }

    function lastOp(bytes memory data) internal pure returns (uint256 start, uint8 t) {
        uint256 i;
        while (i < data.length) {
            start = i;
            t = uint8(data[i]) >> 5;
            i += opSize(t);
        }
    }

    function test_commitBatch_runsOfEveryLength() public {
        // A run of `run` transfers, then a non-transfer, then another run: exercises the
        // 12-at-a-time and 3-at-a-time paths stopping at every position.
        for (uint256 run = 0; run < 30; run++) {
            bytes memory data;
            for (uint256 k = 0; k < run; k++) data = bytes.concat(data, opTransfer(1, 2, 0, 3, 4));
            data = bytes.concat(data, run % 2 == 0 ? opNoop() : opWithdraw(1, 0, uint128(run), 0, address(0xAB)));
            for (uint256 k = 0; k < run; k++) data = bytes.concat(data, opTransfer(1, 2, 0, 3, 4));
            TandemRollup.BatchHeader memory h = nextHeader(data);
            assertEq(h.opCount, 2 * run + 1, "count");
            commitWith(h, data);
        }
    }

    function test_commitBatch_unknownTypeAfterLongRunIsFound() public {
        for (uint256 run = 0; run < 30; run++) {
            bytes memory data;
            for (uint256 k = 0; k < run; k++) data = bytes.concat(data, opTransfer(1, 2, 0, 3, 4));
            // type 7 followed by enough bytes that every fast path could have swallowed it
            bytes memory tail = new bytes(200);
            tail[0] = 0xe0;
            data = bytes.concat(data, tail);
            TandemRollup.BatchHeader memory h = nextHeader(opNoop());
            h.publicDataHash = sha256(data);
            expectCommitRevert(h, data, abi.encodeWithSelector(PublicDataParser.UnknownOpType.selector, run * 12, 7));
        }
    }
}
