// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDisputeGame
/// @notice What the rollup sees of its dispute game (`DisputeGame`, SPEC §17): the rollup it is
///         bound to, whether a batch record has a challenge that is not answered, and the
///         single sequencer's bond.
interface IDisputeGame {
    /// @notice The rollup this game serves; only it is reverted or marked proven by the game.
    function rollup() external view returns (address);

    /// @notice Seconds a challenged chunk has for its proof: a batch's signers stay slashable
    ///         this long past its challenge window.
    function responseWindow() external view returns (uint64);

    /// @notice Whether the batch with record hash `record` has a challenge not answered by a
    ///         proof (open, or lost and waiting for its revert). Such a batch never finalizes.
    function hasOpenChallenge(bytes32 record) external view returns (bool);

    /// @notice Wei a single sequencer must hold in the game to commit (0: staked mode).
    function sequencerBond() external view returns (uint256);

    /// @notice Reverts unless `committer` holds an active sequencer bond and may commit now.
    function checkSequencerBond(address committer) external view;

    /// @notice The rollup's sequencer changes now from `previous` (rollup only).
    function onSequencerChange(address previous) external;
}
