// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";

interface IPoseidon4 {
    function poseidon(uint256[4] calldata inputs) external view returns (uint256);
}

interface IPoseidon7 {
    function poseidon(uint256[7] calldata inputs) external view returns (uint256);
}

interface IPoseidon2 {
    function poseidon(uint256[2] calldata inputs) external view returns (uint256);
}

/// @notice Deploys a committed artifact's creation code (`vm.getCode`; foundry.toml grants
///         read access to artifacts/).
library PoseidonDeployer {
    Vm internal constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    function deploy(string memory artifact) internal returns (address a) {
        bytes memory code = VM.getCode(artifact);
        assembly ("memory-safe") {
            a := create(0, add(code, 0x20), mload(code))
        }
        require(a != address(0), "deploy failed");
    }
}

/// @notice The generated Poseidon contracts (contracts/poseidon/gen.cjs) against circomlibjs's
///         `buildPoseidon` (values computed with circomlibjs 0.1.7).
contract PoseidonTest is Test {
    function test_poseidonT5_matchesCircomlibjs() public {
        address p = PoseidonDeployer.deploy("artifacts/PoseidonT5.json");
        assertEq(
            IPoseidon4(p).poseidon([uint256(1), 2, 3, 4]),
            18821383157269793795438455681495246036402687001665670618754263018637548127333,
            "poseidon([1,2,3,4])"
        );
    }

    function test_poseidonT8_matchesCircomlibjs() public {
        address p = PoseidonDeployer.deploy("artifacts/PoseidonT8.json");
        assertEq(
            IPoseidon7(p).poseidon([uint256(1), 2, 3, 4, 5, 6, 7]),
            12748163991115452309045839028154629052133952896122405799815156419278439301912,
            "poseidon([1..7])"
        );
    }

    /// @dev `deployedBytecode.object` of both artifacts is what their creation code deploys.
    function test_deployedBytecodeIsTheRuntime() public {
        address p5 = PoseidonDeployer.deploy("artifacts/PoseidonT5.json");
        address p8 = PoseidonDeployer.deploy("artifacts/PoseidonT8.json");
        assertEq(keccak256(p5.code), keccak256(vm.getDeployedCode("artifacts/PoseidonT5.json")), "T5 runtime");
        assertEq(keccak256(p8.code), keccak256(vm.getDeployedCode("artifacts/PoseidonT8.json")), "T8 runtime");
    }
}
