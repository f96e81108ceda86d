// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {console} from "./utils/Vm.sol";

/// @notice Gas of commitBatch for 32, 128 and 512 Transfer ops (run `./gas.sh` or
///         `./test.sh --match-contract GasTest -vv` to print). Each test also fails if the
///         execution gas rises more than ~3% above the BENCHMARKS.md number (the ceiling). Each test measures a single
///         commit of a steady-state batch (batch 2; batch 1 is committed in setUp) in its own
///         transaction, so storage slots are cold as on L1.
///         Printed: `exec` = gas used by the call (the execution part of a transaction),
///         `calldata` = 16/4 gas per non-zero/zero byte of the transaction input,
///         `tx` = 21000 + calldata + exec, `floor` = EIP-7623 (Prague) minimum
///         21000 + 10 * (zero bytes + 4 * non-zero bytes); a transaction pays max(tx, floor).
contract GasTest is RollupFixture {
    function setUp() public override {
        super.setUp();
        commit(transfers(8, 999)); // steady state: batch 2 is measured
    }

    /// @dev n realistic Transfer ops: 3-byte indices in a 2^24 tree, varied amounts and fees.
    function transfers(uint256 n, uint256 seed) internal pure returns (bytes memory data) {
        data = new bytes(n * 12);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            bytes memory op =
                opTransfer(uint24(r), uint24(r >> 24), uint8((r >> 48) % 4), uint32(r >> 64), uint8(r >> 96));
            for (uint256 k = 0; k < 12; k++) data[i * 12 + k] = op[k];
        }
    }

    function calldataGas(bytes memory cd) internal pure returns (uint256 gas, uint256 tokens) {
        for (uint256 i = 0; i < cd.length; i++) {
            if (cd[i] == 0) {
                gas += 4;
                tokens += 1;
            } else {
                gas += 16;
                tokens += 4;
            }
        }
    }

    /// @dev Commits `data`, prints the numbers, and fails if the execution gas exceeds `ceiling`.
    function measure(bytes memory data, string memory label, uint256 ops, uint256 ceiling)
        internal
        returns (uint256 exec)
    {
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes memory cd = abi.encodeCall(TandemRollup.commitBatch, (h, data));
        (uint256 cdGas, uint256 tokens) = calldataGas(cd);
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        (bool ok,) = address(rollup).call(cd);
        exec = g - gasleft();
        assertTrue(ok, "commit failed");
        uint256 txGas = 21000 + cdGas + exec;
        uint256 floorGas = 21000 + 10 * tokens;
        console.log(label);
        console.log("  ops", ops);
        console.log("  exec gas (call)", exec);
        console.log("  exec gas per op", exec / ops);
        console.log("  calldata gas", cdGas);
        console.log("  tx gas (21000 + calldata + exec)", txGas);
        console.log("  tx gas per op, excluding the 21000 base", (txGas - 21000) / ops);
        console.log("  EIP-7623 floor", floorGas);
        console.log("  charged per op (max(tx, floor) - 21000)", ((txGas > floorGas ? txGas : floorGas) - 21000) / ops);
        assertLe(exec, ceiling, "commitBatch execution gas regressed");
    }

    function test_gas_commitBatch_32Transfers() public {
        measure(transfers(32, 1), "commitBatch, 32 transfers", 32, 41_100); // today 39,885 (37,435 before the exodus flag / priority-deadline read)
    }

    function test_gas_commitBatch_128Transfers() public {
        measure(transfers(128, 2), "commitBatch, 128 transfers", 128, 43_400); // today 42,149
    }

    function test_gas_commitBatch_512Transfers() public {
        measure(transfers(512, 3), "commitBatch, 512 transfers", 512, 54_400); // today 52,837
    }

    function test_gas_commitBatch_16Deposits() public {
        bytes memory data;
        for (uint256 i = 0; i < 16; i++) {
            depositEth(address(0xD0), 1 ether + i);
            data = bytes.concat(data, opDeposit(uint24(i + 100), KEY_PACKED, 0, uint128(1 ether + i)));
        }
        measure(data, "commitBatch, 16 deposits", 16, 51_300); // today 50,010
    }

    function test_gas_commitBatch_16Withdrawals() public {
        bytes memory data;
        for (uint256 i = 0; i < 16; i++) {
            data = bytes.concat(data, opWithdraw(uint24(i + 100), 0, uint128(1 ether + i), 3, address(uint160(0xABCDEF + i))));
        }
        measure(data, "commitBatch, 16 withdrawals", 16, 52_700); // today 51,184
    }
}

/// @notice Gas of a deposit (`./test.sh --match-contract DepositGasTest -vv`): the second
///         deposit of its kind (queue tail, tokenLocked and, for ERC-20, the balances already
///         non-zero), a single call in its own transaction (cold storage, as on L1).
contract DepositGasTest is RollupFixture {
    address internal constant DEPOSITOR = address(0xD0);

    function setUp() public override {
        super.setUp();
        depositEth(DEPOSITOR, 1 ether);
        depositToken(DEPOSITOR, 1 ether);
        token.mint(DEPOSITOR, 1 ether);
        vm.prank(DEPOSITOR);
        token.approve(address(rollup), 1 ether);
        vm.deal(DEPOSITOR, 1 ether);
    }

    function test_gas_depositETH() public {
        vm.prank(DEPOSITOR);
        uint256 g = gasleft();
        rollup.depositETH{value: 1 ether}(KEY_X, KEY_Y);
        uint256 exec = g - gasleft();
        console.log("depositETH exec gas", exec);
        assertLe(exec, 73_000, "depositETH gas regressed"); // today 70,891 (48,579 before the depositor slot)
    }

    function test_gas_depositERC20() public {
        vm.prank(DEPOSITOR);
        uint256 g = gasleft();
        rollup.depositERC20(address(token), 1 ether, KEY_X, KEY_Y);
        uint256 exec = g - gasleft();
        console.log("depositERC20 exec gas", exec);
        assertLe(exec, 94_800, "depositERC20 gas regressed"); // today 92,053 (69,697 before the depositor slot)
    }
}
