// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBatchVerifier
/// @notice The validity lane's proof check: a Groth16 verifier of Tandem's batch circuit
///         (rendered from its verifying key, see `src/verifiers/`), with the four public inputs
///         of SPEC §10 in order: prevRoot, newRoot, dataHash, prover (an L1 address as an integer).
/// @dev The generated verifiers return nothing and revert on an invalid proof. `TandemRollup`
///      also accepts a verifier that returns a bool: a proof is valid iff the call succeeds and
///      returns either nothing or exactly the word 1.
interface IBatchVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[4] calldata input) external view;
}
