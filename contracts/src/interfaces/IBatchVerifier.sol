// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBatchVerifier
/// @notice The validity lane's proof check: a Groth16 verifier of Tandem's batch circuit
///         (rendered from its verifying key, see `src/verifiers/`), with the four public inputs
///         of SPEC §10 in order: prevRoot, newRoot, dataHash, prover (an L1 address as an integer).
/// @dev The generated verifiers revert on an invalid proof and return `true` otherwise
///      (`tandem_circuit::prover::solidity_verifier`). `TandemRollup` counts a proof only if the
///      call succeeds and returns exactly the ABI word 1: empty return data (an address without
///      code, a fallback that ignores the selector) or `false` is an invalid proof.
interface IBatchVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[4] calldata input) external view returns (bool);
}
