// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title BabyJubjub
/// @notice Baby Jubjub (circomlib form) point validation and circomlib `packPoint` encoding,
///         as used for Tandem's L2 owner keys (SPEC §2).
/// @dev Curve: 168700·x² + y² = 1 + 168696·x²·y² over the BN254 scalar field Fr.
///      Packed point: the 32 bytes are `y` little-endian; the top bit of the last byte
///      (byte 31) is set iff `x > (p-1)/2`. Since y < p < 2^254 that bit is free.
library BabyJubjub {
    /// @notice BN254 scalar field modulus p.
    uint256 internal constant P =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Curve coefficient a of circomlib's twisted Edwards form.
    uint256 internal constant A = 168700;
    /// @notice Curve coefficient d of circomlib's twisted Edwards form.
    uint256 internal constant D = 168696;
    /// @notice (p - 1) / 2: an x above it is "negative" and sets the sign bit when packed.
    uint256 internal constant HALF_P = (P - 1) / 2;

    /// @notice True iff 0 <= x, y < p and (x, y) satisfies the curve equation.
    /// @dev Does not check subgroup membership (neither does the L2 key unpacking in SPEC §2).
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 x2 = mulmod(x, x, P);
        uint256 y2 = mulmod(y, y, P);
        uint256 lhs = addmod(mulmod(A, x2, P), y2, P);
        uint256 rhs = addmod(1, mulmod(D, mulmod(x2, y2, P), P), P);
        return lhs == rhs;
    }

    /// @notice y of the four points of order 8 is Y8 or p - Y8 (their x is ±X8 with
    ///         X8 = 4342719913949491028786768530115087822524712248835451589697801404893164183326).
    uint256 internal constant Y8 = 4826523245007015323400664741523384119579596407052839571721035538011798951543;

    /// @notice True iff the curve point (x, y) has order dividing 8, i.e. lies in the torsion
    ///         subgroup: the identity (0, 1), (0, p-1) of order 2, (±x, 0) of order 4, and the
    ///         four points (±X8, ±Y8) of order 8. The caller must have checked `isOnCurve(x, y)`
    ///         (on the curve, y alone tells the order-8 points apart).
    /// @dev Such a key signs for anyone: EdDSA verification multiplies by the cofactor 8, which
    ///      sends these points to the identity.
    function isLowOrder(uint256 x, uint256 y) internal pure returns (bool) {
        return x == 0 || y == 0 || y == Y8 || y == P - Y8;
    }

    /// @notice circomlib `packPoint(x, y)`; the caller must have checked `isOnCurve(x, y)`.
    /// @return packed `y` as 32 little-endian bytes, top bit of byte 31 = (x > (p-1)/2).
    function pack(uint256 x, uint256 y) internal pure returns (bytes32 packed) {
        uint256 v = reverseBytes(y);
        if (x > HALF_P) v |= 0x80; // byte 31 of the bytes32 is the low byte of v
        packed = bytes32(v);
    }

    /// @notice Reverses the byte order of a 256-bit word (big-endian <-> little-endian).
    function reverseBytes(uint256 v) internal pure returns (uint256) {
        v = ((v >> 8) & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF)
            | ((v & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF) << 8);
        v = ((v >> 16) & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF)
            | ((v & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF) << 16);
        v = ((v >> 32) & 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF)
            | ((v & 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF) << 32);
        v = ((v >> 64) & 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF)
            | ((v & 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF) << 64);
        return (v >> 128) | (v << 128);
    }
}
