// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What the rollup asks of its forced-withdrawal inbox (`ForcedWithdrawals`) at
///         construction: the rollup address it was deployed bound to.
interface IForcedWithdrawalInbox {
    function rollup() external view returns (address);
}
