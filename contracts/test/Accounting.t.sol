// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {Withdrawals} from "../src/rollup/Withdrawals.sol";

/// @notice Fuzzed accounting: with an L2 model that only withdraws what it holds, every
///         withdrawal is paid exactly once and in full, and the bridge's balance is always
///         deposits - claims. With a fraudulent batch, claims still never exceed deposits.
contract AccountingTest is RollupFixture {
    uint256 internal constant USERS = 4;

    function user(uint256 i) internal pure returns (address) {
        return address(uint160(0xC0FFEE00 + i));
    }

    function recipient(uint256 i) internal pure returns (address) {
        return address(uint160(0xDEAD0000 + i));
    }

    /// @dev Deposits amounts[i] of ETH (even i) or DevToken (odd i) for user i % USERS.
    function depositAll(uint96[8] memory amounts)
        internal
        returns (bytes memory data, uint256[2] memory totals)
    {
        for (uint256 i = 0; i < amounts.length; i++) {
            uint128 a = uint128(bound(amounts[i], 1, 1e27));
            amounts[i] = uint96(a);
            uint8 tok = i % 2 == 0 ? 0 : tokenId;
            if (tok == 0) depositEth(user(i % USERS), a);
            else depositToken(user(i % USERS), a);
            data = bytes.concat(data, opDeposit(uint24(i % USERS), KEY_PACKED, tok, a));
            totals[i % 2] += a;
        }
    }

    function testFuzz_withdrawalsPaidOnceAndClaimsNeverExceedDeposits(uint96[8] memory amounts, uint256 seed)
        public
    {
        (bytes memory d1, uint256[2] memory deposited) = depositAll(amounts);
        TandemRollup.StoredBatch memory sb1 = commit(d1);

        // L2 model: per (user, token) balances; withdraw a random part of each, in 1-2 pieces.
        uint256[2][USERS] memory bal;
        for (uint256 i = 0; i < amounts.length; i++) bal[i % USERS][i % 2] += amounts[i];
        bytes memory d2;
        uint256[2] memory withdrawn;
        uint256 count;
        uint256[8] memory expectedPaid; // per recipient index
        for (uint256 u = 0; u < USERS; u++) {
            for (uint256 k = 0; k < 2; k++) {
                seed = uint256(keccak256(abi.encode(seed, u, k)));
                uint256 w = bal[u][k] == 0 ? 0 : seed % (bal[u][k] + 1);
                uint256 first = w / 2;
                uint8 tok = k == 0 ? 0 : tokenId;
                uint256 r = (u * 2 + k) % 8;
                if (first > 0) {
                    d2 = bytes.concat(d2, opWithdraw(uint24(u), tok, uint128(first), 0, recipient(r)));
                    count++;
                }
                if (w - first > 0) {
                    d2 = bytes.concat(
                        d2, opTransfer(uint24(u), uint24(u + 1), tok, 1, 0), opWithdraw(uint24(u), tok, uint128(w - first), 0, recipient(r))
                    );
                    count++;
                }
                withdrawn[k] += w;
                expectedPaid[r] += w;
            }
        }
        TandemRollup.StoredBatch memory sb2 = commit(d2);
        assertEq(sb2.withdrawalCount, count, "withdrawal count");
        finalizeAfterWindow(sb1);
        finalizeAfterWindow(sb2);

        // Claim everything in a seed-dependent order, trying a double claim after each.
        uint256 start = seed % (count == 0 ? 1 : count);
        for (uint256 j = 0; j < count; j++) {
            uint256 idx = (start + j) % count;
            claim(2, d2, idx);
            vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 2, idx));
            claim(2, d2, idx);
        }
        for (uint256 r = 0; r < 8; r++) {
            uint256 got = r % 2 == 0 ? recipient(r).balance : token.balanceOf(recipient(r));
            assertEq(got, expectedPaid[r], "recipient paid exactly");
        }
        assertEq(address(rollup).balance, deposited[0] - withdrawn[0], "ETH left = deposits - claims");
        assertEq(token.balanceOf(address(rollup)), deposited[1] - withdrawn[1], "tokens left = deposits - claims");
        assertEq(rollup.tokenLocked(0), deposited[0] - withdrawn[0], "ETH locked");
        assertEq(rollup.tokenLocked(tokenId), deposited[1] - withdrawn[1], "token locked");
    }

    function testFuzz_fraudulentBatchCannotPayOutMoreThanDeposited(uint96[8] memory amounts, uint128[4] memory asks)
        public
    {
        (bytes memory d1, uint256[2] memory deposited) = depositAll(amounts);
        // An unchallenged batch asks for arbitrary amounts of ETH (the L1 cannot see L2 balances).
        bytes memory d2;
        for (uint256 i = 0; i < asks.length; i++) d2 = bytes.concat(d2, opWithdraw(0, 0, asks[i], 0, recipient(i)));
        commit(d1);
        TandemRollup.StoredBatch memory sb2 = commit(d2);
        vm.warp(sb2.committedAt + WINDOW);
        rollup.finalizeBatch(commitRecord(1));
        rollup.finalizeBatch(sb2);

        uint256 paid;
        for (uint256 i = 0; i < asks.length; i++) {
            (,, Withdrawal[] memory ws) = readPublicData(d2);
            bytes32[] memory proof = merkleProof(leavesOf(ws), i);
            try rollup.claimWithdrawal(2, uint32(i), 0, asks[i], recipient(i), proof) {
                paid += asks[i];
            } catch {}
            assertLe(paid, deposited[0], "claims never exceed deposits");
        }
        assertEq(address(rollup).balance, deposited[0] - paid, "balance consistent");
    }

    TandemRollup.StoredBatch[] internal records;

    /// @dev Rebuilds the StoredBatch of an already committed batch from the fixture's commits.
    function commitRecord(uint64 n) internal view returns (TandemRollup.StoredBatch memory) {
        return records[n - 1];
    }

    function commit(bytes memory data) internal override returns (TandemRollup.StoredBatch memory sb) {
        sb = super.commit(data);
        records.push(sb);
    }
}
