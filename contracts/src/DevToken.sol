// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DevToken
/// @notice A plain mintable ERC-20 for devnets and tests (deposit tokens, staking token).
///         NOT for production: its owner can mint without limit.
/// @dev Standard OpenZeppelin ERC-20 (no fee on transfer, no rebasing), so the bridge
///      receives exactly the amount transferred.
contract DevToken is ERC20, Ownable {
    uint8 private immutable _decimals;

    /// @notice Creates the token; `initialSupply` units are minted to `owner_`, who may mint more.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_, uint256 initialSupply)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _decimals = decimals_;
        if (initialSupply != 0) _mint(owner_, initialSupply);
    }

    /// @notice Number of decimals, fixed at construction.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Mints `amount` units to `to`. Owner only; total supply grows by exactly `amount`.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
