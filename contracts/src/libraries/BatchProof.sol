// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier} from "../interfaces/IBatchVerifier.sol";

/// @title BatchProof
/// @notice The one way the rollup (`ZkLane`) and the dispute game ask the batch circuit's
///         Groth16 verifier about a proof over (prevRoot, newRoot, dataHash, prover).
library BatchProof {
    /// @dev True iff `verifier.verifyProof(proof, [prevRoot, newRoot, dataHash, prover])`
    ///      succeeds and returns exactly the ABI word `true` (32 bytes, 1). A revert, `false`,
    ///      and empty return data (an address without code, or a fallback that ignores the
    ///      selector) all count as a refusal.
    function accepts(
        address verifier,
        bytes32 prevRoot,
        bytes32 newRoot,
        bytes32 dataHash,
        address prover,
        uint256[8] calldata proof
    ) internal view returns (bool) {
        uint256[4] memory input = [uint256(prevRoot), uint256(newRoot), uint256(dataHash), uint256(uint160(prover))];
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodeCall(IBatchVerifier.verifyProof, (proof, input)));
        return ok && ret.length == 32 && uint256(bytes32(ret)) == 1;
    }
}
