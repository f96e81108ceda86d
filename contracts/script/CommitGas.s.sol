// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "../test/utils/Vm.sol";
import {Verifier as ExitVerifier} from "../src/verifiers/ExitVerifier_D4.sol";
import {TandemRollup} from "../src/TandemRollup.sol";

/// @notice Deploys a rollup on a real node (anvil, see gas.sh) and commits batches of 32, 128
///         and 512 transfers, so their receipts show the full L1 transaction gas (intrinsic,
///         calldata incl. the EIP-7623 floor, execution).
contract CommitGas {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    function transfers(uint256 n, uint256 seed) internal pure returns (bytes memory data) {
        data = new bytes(n * 12);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            bytes memory op = abi.encodePacked(
                uint8((2 << 5) | uint8((r >> 48) % 4)), uint24(r), uint24(r >> 24), uint32(r >> 64), uint8(r >> 96)
            );
            for (uint256 k = 0; k < 12; k++) data[i * 12 + k] = op[k];
        }
    }

    function run() external {
        vm.startBroadcast();
        TandemRollup rollup = new TandemRollup(
            msg.sender,
            msg.sender,
            keccak256("genesis"),
            3600,
            address(0),
            0,
            1 hours + 3600 + 1 days,
            address(0),
            address(new ExitVerifier()),
            1 hours, address(0)
        , address(0));
        uint256[4] memory sizes = [uint256(8), 32, 128, 512];
        bytes32 root = keccak256("genesis");
        for (uint256 i = 0; i < sizes.length; i++) {
            bytes memory data = transfers(sizes[i], i);
            TandemRollup.BatchHeader memory h = TandemRollup.BatchHeader({
                batchNumber: uint64(i + 1),
                prevStateRoot: root,
                // Top 3 bits cleared: a state root must be below the BN254 scalar field modulus.
                newStateRoot: keccak256(abi.encode(root, i)) & bytes32(type(uint256).max >> 3),
                publicDataHash: sha256(data),
                intermediateRootsRoot: keccak256(abi.encode("irr", i)),
                priorityOpsCount: 0,
                lane: 0,
                opCount: uint32(sizes[i]),
                feeAccount: 1
            });
            rollup.commitBatch(h, data);
            root = h.newStateRoot;
        }
        vm.stopBroadcast();
    }
}
