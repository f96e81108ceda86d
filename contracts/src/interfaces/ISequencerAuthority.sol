// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISequencerAuthority
/// @notice The seam through which the rollup asks "may this batch be committed?".
/// @dev Today `TandemRollup` answers it itself with a single registered sequencer address
///      (`TandemRollup._authorizeCommit`). The staked sequencer set (DESIGN §5) will implement
///      this interface: it checks signatures of more than 2/3 of the epoch's stake over the
///      header digest (`TandemRollup.hashHeader(header)`), and the rollup's `_authorizeCommit`
///      is overridden to call it. Implementations must be view (no state change on a check).
interface ISequencerAuthority {
    /// @notice True iff `submitter` may commit the batch whose header digest is `headerDigest`,
    ///         given `signatures` (an implementation-defined encoding; empty for a single key).
    function isAuthorized(address submitter, bytes32 headerDigest, bytes calldata signatures)
        external
        view
        returns (bool);
}
