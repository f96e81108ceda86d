// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";

/// @notice Per-epoch reward pool: funded by anyone, claimed pro rata to stake after the epoch.
contract RewardsTest is StakingFixture {
    address internal constant FUNDER = address(0xF00D);

    function setUp() public override {
        super.setUp();
        doStake(1, 100 ether);
        doStake(2, 300 ether);
        doStake(3, 600 ether);
        nextEpoch();
    }

    function fund(uint256 amount) internal returns (uint64 epoch) {
        stakeToken.mint(FUNDER, amount);
        vm.prank(FUNDER);
        stakeToken.approve(address(staking), amount);
        vm.prank(FUNDER);
        epoch = staking.fundRewards(amount);
    }

    function claimAs(uint256 i, uint64 epoch) internal returns (uint256) {
        vm.prank(stakerAddr(i));
        return staking.claimReward(epoch);
    }

    function test_rewards_claimedProRataToStakeAfterTheEpoch() public {
        uint64 e = fund(1000 ether);
        fund(1000 ether);
        assertEq(e, 1, "funded epoch 1");
        assertEq(staking.rewardPool(1), 2000 ether, "pool");
        // A stake change during the epoch does not change the shares.
        doStake(4, 5000 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EpochNotOver.selector, 1));
        claimAs(1, 1);
        nextEpoch();
        assertEq(claimAs(1, 1), 200 ether, "10%");
        assertEq(claimAs(2, 1), 600 ether, "30%");
        assertEq(claimAs(3, 1), 1200 ether, "60%");
        assertEq(stakeToken.balanceOf(stakerAddr(3)), 1200 ether, "paid");
        assertEq(staking.rewardsOutstanding(), 0, "pool fully paid");
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.RewardAlreadyClaimed.selector, 1, stakerAddr(1)));
        claimAs(1, 1);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NotMember.selector, 1, stakerAddr(4)));
        claimAs(4, 1);
    }

    function test_rewards_roundingDustBelowSetSize() public {
        fund(1000); // 1000 units over stakes 1:3:6 -> 100, 300, 600 exactly
        fund(1); // 1001 -> 100, 300, 600 (floors), 1 unit of dust
        nextEpoch();
        uint256 paid = claimAs(1, 1) + claimAs(2, 1) + claimAs(3, 1);
        assertEq(paid, 1000, "floors");
        assertEq(staking.rewardsOutstanding(), 1, "dust stays");
        assertEq(stakeToken.balanceOf(address(staking)), 1000 ether + 1, "balance = stakes + dust");
    }

    function test_rewards_fundingAnEpochWithoutMembersReverts() public {
        deploy(5, 8);
        stakeToken.mint(FUNDER, 1 ether);
        vm.prank(FUNDER);
        stakeToken.approve(address(staking), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NoActiveSet.selector, 0));
        vm.prank(FUNDER);
        staking.fundRewards(1 ether);
    }

    function testFuzz_rewards_sharesSumToPoolMinusDust(uint96 pool, uint96 s4) public {
        uint256 amount = bound(pool, 1, 1e30);
        doStake(4, bound(s4, MIN_STAKE, MAX_STAKE));
        nextEpoch();
        fund(amount);
        nextEpoch();
        uint256 paid;
        for (uint256 i = 1; i <= 4; i++) {
            paid += claimAs(i, 2);
        }
        assertLe(paid, amount, "never more than the pool");
        assertLe(amount - paid, 3, "dust below the set size");
    }
}
