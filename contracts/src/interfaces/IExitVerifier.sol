// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IExitVerifier
/// @notice Exodus mode's proof check: a Groth16 verifier of Tandem's exit circuit (rendered
///         from its verifying key, see `src/verifiers/`), with the five public inputs in order:
///         stateRoot (the rollup's `exodusStateRoot`), accountIndex, tokenId, amount (the
///         account's whole balance of that token in that state), recipient (an L1 address as
///         an integer; the proof binds it, so a copied proof pays the same address).
/// @dev The generated verifiers revert on an invalid proof and return `true` otherwise.
///      `TandemRollup` counts a proof only if the call succeeds and returns exactly the ABI
///      word 1: empty return data (an address without code, a fallback that ignores the
///      selector) or `false` is an invalid proof (`Exodus.InvalidExitProof`).
interface IExitVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[5] calldata input) external view returns (bool);
}
