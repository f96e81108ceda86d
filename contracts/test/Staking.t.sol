// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";
import {DevToken} from "../src/DevToken.sol";

/// @notice Staking, unbonding and the per-epoch active set of SequencerStaking.
contract StakingTest is StakingFixture {
    function test_stake_registersKeyNetworkAddressAndStake() public {
        doStake(1, 500 ether);
        (address key, uint256 active, uint256 unbonding,, bool registered, bytes memory net) =
            staking.stakerInfo(stakerAddr(1));
        assertEq(key, signerAddr(1), "signing key");
        assertEq(active, 500 ether, "active stake");
        assertEq(unbonding, 0, "nothing unbonding");
        assertTrue(registered, "registered");
        assertEq(net, bytes("10.0.0.1:26656"), "network address");
        assertEq(staking.stakerOfKey(signerAddr(1)), stakerAddr(1), "key owner");
        assertEq(staking.totalStaked(), 500 ether, "total staked");
        assertEq(stakeToken.balanceOf(address(staking)), 500 ether, "tokens held");
    }

    function test_stake_belowMinimumReverts() public {
        stakeToken.mint(stakerAddr(1), 1000 ether);
        vm.prank(stakerAddr(1));
        stakeToken.approve(address(staking), 1000 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.BelowMinStake.selector, 99 ether, MIN_STAKE));
        vm.prank(stakerAddr(1));
        staking.stake(99 ether, signerAddr(1), "");
    }

    function test_stake_aboveMaximumReverts() public {
        doStake(1, MAX_STAKE - 1);
        stakeToken.mint(stakerAddr(1), 2);
        vm.prank(stakerAddr(1));
        stakeToken.approve(address(staking), 2);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.AboveMaxStake.selector, uint256(MAX_STAKE) + 1, MAX_STAKE));
        vm.prank(stakerAddr(1));
        staking.stake(2, address(0), "");
    }

    function test_stake_topUpKeepsKeyAndRejectsAnotherKey() public {
        doStake(1, 200 ether);
        stakeToken.mint(stakerAddr(1), 300 ether);
        vm.prank(stakerAddr(1));
        stakeToken.approve(address(staking), 300 ether);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerStaking.SigningKeyMismatch.selector, signerAddr(1), signerAddr(9))
        );
        vm.prank(stakerAddr(1));
        staking.stake(100 ether, signerAddr(9), "");
        vm.prank(stakerAddr(1));
        staking.stake(300 ether, address(0), "");
        (, uint256 active,,,,) = staking.stakerInfo(stakerAddr(1));
        assertEq(active, 500 ether, "topped up");
    }

    function test_stake_signingKeyOfAnotherStakerReverts() public {
        doStake(1, 200 ether);
        stakeToken.mint(stakerAddr(2), 200 ether);
        vm.prank(stakerAddr(2));
        stakeToken.approve(address(staking), 200 ether);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerStaking.SigningKeyTaken.selector, signerAddr(1), stakerAddr(1))
        );
        vm.prank(stakerAddr(2));
        staking.stake(200 ether, signerAddr(1), "");
    }

    function test_unstake_leavingLessThanMinimumReverts() public {
        doStake(1, 150 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.BelowMinStake.selector, 50 ether, MIN_STAKE));
        doUnstake(1, 100 ether);
        doUnstake(1, 150 ether); // all of it is fine
        (,,,, bool registered,) = staking.stakerInfo(stakerAddr(1));
        assertFalse(registered, "left the registry");
    }

    function test_withdraw_beforeUnbondingDelayReverts_afterSucceeds() public {
        doStake(1, 500 ether);
        vm.warp(T0 + 100);
        doUnstake(1, 200 ether);
        (, uint256 active, uint256 unbonding, uint64 end,,) = staking.stakerInfo(stakerAddr(1));
        assertEq(active, 300 ether, "active after unstake");
        assertEq(unbonding, 200 ether, "unbonding");
        assertEq(end, T0 + 100 + UNBONDING, "unbonding end");

        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.UnbondingNotOver.selector, end));
        vm.prank(stakerAddr(1));
        staking.withdraw();

        vm.warp(end);
        vm.prank(stakerAddr(1));
        staking.withdraw();
        assertEq(stakeToken.balanceOf(stakerAddr(1)), 200 ether, "paid");
        assertEq(staking.totalUnbonding(), 0, "no unbonding left");
        vm.expectRevert(SequencerStaking.NothingToWithdraw.selector);
        vm.prank(stakerAddr(1));
        staking.withdraw();
    }

    function test_newStaker_becomesActiveOnlyAtNextEpoch() public {
        doStake(1, 500 ether);
        // The stake itself materialized epoch 0 (empty) before counting.
        assertFalse(isActive(0, stakerAddr(1)), "not active in the epoch it staked in");
        (,,, uint256 total0) = staking.activeSet(0);
        assertEq(total0, 0, "epoch 0 empty");
        nextEpoch();
        assertTrue(isActive(1, stakerAddr(1)), "active from the next epoch");
        // Mid-epoch stake does not change the materialized epoch.
        staking.syncEpoch();
        doStake(2, 900 ether);
        assertFalse(isActive(1, stakerAddr(2)), "epoch 1 frozen");
        (,,, uint256 total1) = staking.activeSet(1);
        assertEq(total1, 500 ether, "epoch 1 total frozen");
        nextEpoch();
        assertTrue(isActive(2, stakerAddr(2)), "staker 2 active in epoch 2");
    }

    function test_unstakingMember_leavesAtEpochBoundary() public {
        doStake(1, 500 ether);
        doStake(2, 500 ether);
        nextEpoch();
        doUnstake(1, 500 ether); // syncs epoch 1 first, then leaves
        assertTrue(isActive(1, stakerAddr(1)), "still a member for the rest of epoch 1");
        (,,, uint256 total1) = staking.activeSet(1);
        assertEq(total1, 1000 ether, "epoch 1 keeps its stake");
        nextEpoch();
        assertFalse(isActive(2, stakerAddr(1)), "gone in epoch 2");
        (,,, uint256 total2) = staking.activeSet(2);
        assertEq(total2, 500 ether, "epoch 2 total");
    }

    function test_activeSet_isTopNByStakeTiesByLowerAddress() public {
        // maxActive = 5; seven stakers, two tied at 300.
        doStake(1, 100 ether);
        doStake(2, 700 ether);
        doStake(3, 300 ether);
        doStake(4, 200 ether);
        doStake(5, 900 ether);
        doStake(7, 300 ether);
        doStake(6, 150 ether);
        nextEpoch();
        (address[] memory s, address[] memory keys, uint256[] memory st, uint256 total) = staking.activeSet(1);
        assertEq(s.length, 5, "five members");
        assertEq(s[0], stakerAddr(5), "rank 0");
        assertEq(s[1], stakerAddr(2), "rank 1");
        assertEq(s[2], stakerAddr(3), "rank 2: tie, lower address first");
        assertEq(s[3], stakerAddr(7), "rank 3: tie");
        assertEq(s[4], stakerAddr(4), "rank 4");
        assertEq(keys[0], signerAddr(5), "key of rank 0");
        assertEq(st[4], 200 ether, "stake of rank 4");
        assertEq(total, 2400 ether, "total of the top five");
        assertFalse(isActive(1, stakerAddr(6)), "sixth is out");
        // Materialized snapshot equals the view computed before.
        staking.syncEpoch();
        (address[] memory s2,,, uint256 total2) = staking.activeSet(1);
        assertEq(s2[3], stakerAddr(7), "snapshot rank 3");
        assertEq(total2, total, "snapshot total");
    }

    function test_registryFull_newcomerMustOutrankLowestWhoIsPushedOut() public {
        // maxStakers = 8
        for (uint256 i = 1; i <= 8; i++) doStake(i, (100 + i) * 1 ether);
        stakeToken.mint(stakerAddr(9), 1000 ether);
        vm.prank(stakerAddr(9));
        stakeToken.approve(address(staking), 1000 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.RegistryFull.selector, 101 ether));
        vm.prank(stakerAddr(9));
        staking.stake(101 ether, signerAddr(9), "");
        vm.prank(stakerAddr(9));
        staking.stake(102 ether, signerAddr(9), "");
        (,, uint256 unbonding,, bool registered,) = staking.stakerInfo(stakerAddr(1));
        assertFalse(registered, "lowest pushed out");
        assertEq(unbonding, 101 ether, "its stake unbonds");
        assertEq(staking.registeredCount(), 8, "still eight");
    }

    function test_constructor_rejectsBadParameters() public {
        SequencerStaking.Params memory p = params(5, 8);
        p.unbondingDelay = EPOCH - 1;
        vm.expectRevert(SequencerStaking.InvalidParams.selector);
        new SequencerStaking(address(staked), p);
        p = params(uint16(staking.MAX_SET_SIZE()) + 1, 200);
        vm.expectRevert(SequencerStaking.InvalidParams.selector);
        new SequencerStaking(address(staked), p);
        p = params(5, 4);
        vm.expectRevert(SequencerStaking.InvalidParams.selector);
        new SequencerStaking(address(staked), p);
        p = params(5, uint32(staking.MAX_STAKERS()) + 1);
        vm.expectRevert(SequencerStaking.InvalidParams.selector);
        new SequencerStaking(address(staked), p);
        vm.expectRevert(SequencerStaking.ZeroAddress.selector);
        new SequencerStaking(address(0), params(5, 8));
    }

    /// @dev Random stake/unstake/withdraw/fund/claim/double-sign-slash sequences over 4 stakers: the token
    ///      balance always equals totalStaked + totalUnbonding + rewardsOutstanding (+ the
    ///      emission reserve, 0 here), the totals equal the per-staker sums, and nothing is
    ///      created or lost overall.
    function testFuzz_stakeAccountingConservation(uint256 seed) public {
        uint256 minted;
        for (uint256 step = 0; step < 24; step++) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 i = 1 + (r % 4);
            uint256 action = (r >> 8) % 7;
            (, uint256 active, uint256 unbonding,,,) = staking.stakerInfo(stakerAddr(i));
            if (action == 0 || action == 1) {
                uint256 room = MAX_STAKE - active;
                // Every stake change is at least MIN_STAKE (dust changes are refused).
                uint256 amount = bound(r >> 16, MIN_STAKE, room < MIN_STAKE ? MIN_STAKE : room);
                if (room >= amount) {
                    doStake(i, amount);
                    minted += amount;
                }
            } else if (action == 2 && active != 0) {
                uint256 amount = bound(r >> 16, MIN_STAKE, active);
                if (active - amount != 0 && active - amount < MIN_STAKE) amount = active;
                doUnstake(i, amount);
            } else if (action == 3 && unbonding != 0) {
                (,,, uint64 end,,) = staking.stakerInfo(stakerAddr(i));
                if (block.timestamp < end) vm.warp(end);
                vm.prank(stakerAddr(i));
                staking.withdraw();
            } else if (action == 4) {
                uint64 e = staking.syncEpoch();
                (,,, uint256 total) = staking.activeSet(e);
                if (total != 0) {
                    uint256 amount = bound(r >> 16, 1, 1000 ether);
                    stakeToken.mint(address(this), amount);
                    stakeToken.approve(address(staking), amount);
                    staking.fundRewards(amount);
                    minted += amount;
                }
            } else if (action == 5) {
                uint64 e = staking.currentEpoch();
                nextEpoch();
                if (staking.isMaterialized(e)) {
                    address[] memory s = activeStakers(e);
                    for (uint256 k = 0; k < s.length; k++) {
                        if (staking.pendingReward(e, s[k]) != 0) {
                            vm.prank(s[k]);
                            staking.claimReward(e);
                        }
                    }
                }
            } else if (action == 6 && active + unbonding != 0) {
                // Double-sign evidence for batch `step` (a fresh offence each time).
                bytes32 a = keccak256(abi.encode("A", step));
                bytes32 b = keccak256(abi.encode("B", step));
                bytes memory sa = signDigest(keyOf(i), staking.batchDigest(0, uint64(step), a));
                bytes memory sb = signDigest(keyOf(i), staking.batchDigest(0, uint64(step), b));
                if ((active + unbonding) * SLASH_BPS / 10_000 != 0) {
                    vm.prank(address(0x4E9));
                    staking.reportDoubleSign(0, uint64(step), a, sa, b, sb);
                }
            }
            uint256 sumActive;
            uint256 sumUnbonding;
            uint256 held;
            for (uint256 k = 1; k <= 4; k++) {
                (, uint256 a, uint256 u,,,) = staking.stakerInfo(stakerAddr(k));
                sumActive += a;
                sumUnbonding += u;
                held += stakeToken.balanceOf(stakerAddr(k));
            }
            assertEq(staking.totalStaked(), sumActive, "total staked = sum");
            assertEq(staking.totalUnbonding(), sumUnbonding, "total unbonding = sum");
            uint256 bal = stakeToken.balanceOf(address(staking));
            assertEq(
                bal,
                sumActive + sumUnbonding + staking.rewardsOutstanding() + staking.emissionReserve(),
                "balance conservation"
            );
            held += stakeToken.balanceOf(address(0x4E9)) + stakeToken.balanceOf(TREASURY);
            assertEq(bal + held + stakeToken.balanceOf(address(this)), minted, "no tokens created or lost");
        }
    }
}
