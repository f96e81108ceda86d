// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProverMarket
/// @notice What the rollup sees of the prover market (`ProverMarket`, SPEC §15): the rollup it
///         is bound to, opening a job with the poster's escrow at commit, and the settlement
///         hook called in the same transaction as every accepted proof.
/// @dev The refusal of another prover's proof (`LockedByAnotherProver`) is declared here, in
///      what the rollup calls; `ProverMarket` implements this interface.
interface IProverMarket {
    /// @notice Batch `batchNumber`'s job is locked by `locker` until `lockDeadline` (exclusive):
    ///         only `locker`'s proof is accepted before then (`onProven` reverts with it, so
    ///         the rollup refuses another prover's proof).
    error LockedByAnotherProver(uint64 batchNumber, address locker, uint64 lockDeadline);

    /// @notice The rollup this market serves; only it may open jobs and report proofs.
    function rollup() external view returns (address);

    /// @notice Opens the job for committed batch `batchNumber` with `msg.value` as escrow
    ///         (the price cap), refundable to `funder`. Rollup only.
    function openJob(uint64 batchNumber, address funder) external payable;

    /// @notice Settles batch `batchNumber`'s job for `prover` (the address the verified proof is
    ///         bound to). Rollup only, right after a proof was verified. Returns without effect
    ///         when the batch has no open job; reverts `LockedByAnotherProver` while another prover's lock
    ///         is active.
    function onProven(uint64 batchNumber, address prover) external;
}
