// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {console} from "./utils/Vm.sol";

/// @notice Extra commitBatch gas of a ZK-lane batch over the same batch in the optimistic lane
///         (`./test.sh -vv --match-contract ZkCommitGasTest`): the dataHash expansion + sha256
///         and the commitment slot. Each number is one call in its own transaction (cold
///         storage), steady state (batch 1 committed in setUp), n Transfers in a circuit of
///         S = n slots. proveBatch gas with the real verifier: `ZkProofTest`.
contract ZkCommitGasTest is RollupFixture {
    function setUp() public override {
        super.setUp();
        commit(opTransfer(1, 2, 0, 1, 0));
    }

    /// @dev n realistic Transfer ops (as in GasTest), written in place.
    function transfers(uint256 n) internal pure returns (bytes memory data) {
        data = new bytes(n * 12);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(777, i)));
            bytes memory op =
                opTransfer(uint24(r), uint24(r >> 24), uint8((r >> 48) % 4), uint32(r >> 64), uint8(r >> 96));
            for (uint256 k = 0; k < 12; k++) data[i * 12 + k] = op[k];
        }
    }

    function commitGas(TandemRollup.BatchHeader memory h, bytes memory data) internal returns (uint256 used) {
        bytes memory cd = abi.encodeCall(TandemRollup.commitBatch, (h, data));
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        (bool ok,) = address(rollup).call(cd);
        used = g - gasleft();
        assertTrue(ok, "commit failed");
    }

    /// @dev Commits the same n-transfer batch as batch 2 in lane 0 and (from the same state) in lane 1.
    function measure(uint256 n) internal returns (uint256 op, uint256 zk) {
        vm.prank(OWNER);
        rollup.setVerifier(address(token), uint32(n)); // any code: no proof is checked here
        bytes memory data = transfers(n);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        uint256 snap = vm.snapshotState();
        op = commitGas(h, data);
        vm.revertToState(snap);
        h.lane = 1;
        zk = commitGas(h, data);
        console.log("commitBatch, transfers = zkSlots =", n);
        console.log("  lane 0 exec gas", op);
        console.log("  lane 1 exec gas", zk);
        console.log("  ZK extra", zk - op);
    }

    function test_gas_zkCommit_S2() public {
        (uint256 op, uint256 zk) = measure(2);
        assertLe(zk - op, 30_000, "ZK extra at S=2");
    }

    function test_gas_zkCommit_S32() public {
        measure(32);
    }

    function test_gas_zkCommit_S128() public {
        measure(128);
    }

    function test_gas_zkCommit_S512() public {
        measure(512);
    }

    /// @dev Marginal cost of one more slot/op of the expansion (commit path, per op), from S=32..512.
    function test_gas_zkExpansionPerOp() public {
        (uint256 op32, uint256 zk32) = measure(32);
        (uint256 op512, uint256 zk512) = measure2(512);
        uint256 perOp = ((zk512 - op512) - (zk32 - op32)) / 480;
        console.log("  ZK extra per op (S = ops, 32..512)", perOp);
        assertLe(perOp, 200, "expansion per op");
    }

    function measure2(uint256 n) internal returns (uint256 op, uint256 zk) {
        // setVerifier is once: a fresh rollup for the second size.
        setUp();
        return measure(n);
    }
}
