// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISequencerAuthority
/// @notice The seam through which the rollup asks "may this batch be committed?".
/// @dev `TandemRollup` answers it itself with a single registered sequencer address
///      (`TandemRollup._authorizeCommit`). The staked mode did not use this view seam: its
///      check materializes the epoch's active set lazily (a state change), so `StakedRollup`
///      calls `SequencerStaking.verifyBatchSignatures` (non-view) from `commitBatchSigned`
///      and refuses `commitBatch`. Kept for alternative, view-only authorities.
interface ISequencerAuthority {
    /// @notice True iff `submitter` may commit the batch whose header digest is `headerDigest`,
    ///         given `signatures` (an implementation-defined encoding; empty for a single key).
    function isAuthorized(address submitter, bytes32 headerDigest, bytes calldata signatures)
        external
        view
        returns (bool);
}
