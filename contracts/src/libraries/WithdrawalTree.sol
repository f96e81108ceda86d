// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title WithdrawalTree
/// @notice The per-batch withdrawal Merkle tree (see contracts/README.md "Withdrawals"):
///         leaf = keccak256(abi.encodePacked(uint8 tokenId, uint128 amount, address recipient)),
///         parent = keccak256(left ++ right), a level with an odd number (> 1) of nodes padded
///         with one zero node; the root of one leaf is the leaf.
library WithdrawalTree {
    /// @notice The leaf of one withdrawal.
    function leaf(uint8 tokenId, uint128 amount, address recipient) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(tokenId, amount, recipient));
    }

    /// @dev Root of the withdrawal tree over the `count` leaves at memory `leaves` (count >= 1,
    ///      one spare word after them): pairwise keccak256(left ++ right) level by level, an odd
    ///      level padded with a zero node. Overwrites the leaves.
    function root(uint256 leaves, uint256 count) internal pure returns (bytes32 root_) {
        assembly ("memory-safe") {
            let m := count
            for {} gt(m, 1) {} {
                if and(m, 1) {
                    mstore(add(leaves, shl(5, m)), 0)
                    m := add(m, 1)
                }
                let half := shr(1, m)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(leaves, shl(5, i)), keccak256(add(leaves, shl(6, i)), 0x40))
                }
                m := half
            }
            root_ := mload(leaves)
        }
    }

    /// @dev Positional Merkle proof check: `proof[i]` is the sibling at level i; bit i of
    ///      `index` says whether the running node is a right child.
    function verify(bytes32 root_, uint256 count, uint256 index, bytes32 leaf_, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        uint256 depth;
        while ((uint256(1) << depth) < count) depth++;
        if (proof.length != depth) return false;
        bytes32 node = leaf_;
        for (uint256 i; i < depth; ++i) {
            bytes32 sibling = proof[i];
            node = (index >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == root_;
    }
}
