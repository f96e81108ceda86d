// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {console} from "./utils/Vm.sol";
import {Verifier} from "../src/verifiers/BatchVerifier_S2_D4.sol";

/// @notice Extra commitBatch gas of a ZK-lane batch over the same batch in the optimistic lane
///         (`./test.sh -vv --match-contract ZkCommitGas`): the dataHash expansion + sha256 and
///         the commitment slot. n Transfers in a circuit of S = n slots. Each number is a
///         single commit in its own test (setUp, which enables the lane and commits batch 1, is
///         a separate transaction), so every slot is cold as on L1. proveBatch gas with the
///         real verifier: `ZkProveGasTest` in ZkProof.t.sol.
abstract contract ZkCommitGasBase is RollupFixture {
    function slots() internal pure virtual returns (uint256);

    /// @dev Execution-gas ceilings of the lane-0 and lane-1 commit: ~3% above the numbers in
    ///      contracts/README.md ("Gas (validity lane)").
    function ceilings() internal pure virtual returns (uint256 lane0, uint256 lane1);

    function setUp() public override {
        super.setUp();
        address v = address(new Verifier());
        deployRollup(GENESIS_ROOT, v, uint32(slots())); // no proof is checked here
        commit(opTransfer(1, 2, 0, 1, 0)); // steady state: batch 2 is measured
    }

    /// @dev n realistic Transfer ops (as in GasTest), written in place.
    function transfers(uint256 n) internal pure returns (bytes memory data) {
        data = new bytes(n * 12);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(777, i)));
            bytes memory op =
                opTransfer(uint24(r), uint24(r >> 24), uint8((r >> 48) % 4), uint32(r >> 64), uint8(r >> 96));
            for (uint256 k = 0; k < 12; k++) {
                data[i * 12 + k] = op[k];
            }
        }
    }

    function measure(uint8 lane) internal returns (uint256 used) {
        bytes memory data = transfers(slots());
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.lane = lane;
        bytes memory cd = abi.encodeCall(TandemRollup.commitBatch, (h, data));
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        (bool ok,) = address(rollup).call(cd);
        used = g - gasleft();
        assertTrue(ok, "commit failed");
        console.log("commitBatch, transfers = zkSlots =", slots());
        console.log("  lane", lane);
        console.log("  exec gas", used);
    }

    function test_gas_lane0() public {
        (uint256 ceiling,) = ceilings();
        assertLe(measure(0), ceiling, "lane-0 commit gas regressed");
    }

    function test_gas_lane1() public {
        (, uint256 ceiling) = ceilings();
        assertLe(measure(1), ceiling, "lane-1 commit gas regressed");
    }
}

contract ZkCommitGasS2Test is ZkCommitGasBase {
    function slots() internal pure override returns (uint256) {
        return 2;
    }

    function ceilings() internal pure override returns (uint256, uint256) {
        return (40_300, 64_700); // today 39,111 / 62,937
    }
}

contract ZkCommitGasS32Test is ZkCommitGasBase {
    function slots() internal pure override returns (uint256) {
        return 32;
    }

    function ceilings() internal pure override returns (uint256, uint256) {
        return (41_000, 69_900); // today 39,838 / 67,995
    }
}

contract ZkCommitGasS128Test is ZkCommitGasBase {
    function slots() internal pure override returns (uint256) {
        return 128;
    }

    function ceilings() internal pure override returns (uint256, uint256) {
        return (43_400, 86_500); // today 42,101 / 84,094
    }
}

contract ZkCommitGasS512Test is ZkCommitGasBase {
    function slots() internal pure override returns (uint256) {
        return 512;
    }

    function ceilings() internal pure override returns (uint256, uint256) {
        return (54_400, 155_400); // today 52,789 / 150,976
    }
}
