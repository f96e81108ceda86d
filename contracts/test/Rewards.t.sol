// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {Vm} from "./utils/Vm.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";
import {TandemRollup} from "../src/TandemRollup.sol";

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

/// @notice Per-batch emission: a reserve funded by anyone; every signed commit moves
///         min(emissionPerBatch, reserve) into the signing epoch's pool, which the epoch's
///         members (signers or not) claim pro rata to stake like any pool.
contract EmissionTest is StakingFixture {
    address internal constant FUNDER = address(0xF00D);
    uint256 internal constant PER_BATCH = 10 ether;

    function setUp() public override {
        emission = PER_BATCH;
        super.setUp();
        doStake(1, 100 ether);
        doStake(2, 300 ether);
        doStake(3, 600 ether);
        nextEpoch();
    }

    function claimAs(uint256 i, uint64 epoch) internal returns (uint256) {
        vm.prank(stakerAddr(i));
        return staking.claimReward(epoch);
    }

    function fundPool(uint256 amount) internal returns (uint64 epoch) {
        stakeToken.mint(FUNDER, amount);
        vm.prank(FUNDER);
        stakeToken.approve(address(staking), amount);
        vm.prank(FUNDER);
        epoch = staking.fundRewards(amount);
    }

    function assertConserved() internal view {
        assertEq(
            stakeToken.balanceOf(address(staking)),
            staking.totalStaked() + staking.totalUnbonding() + staking.rewardsOutstanding() + staking.emissionReserve(),
            "balance = stakes + unbonding + rewards outstanding + emission reserve"
        );
    }

    /// @dev Number of EmissionAccrued events among `logs`.
    function accrualEvents(Vm.Log[] memory logs) internal view returns (uint256 n) {
        for (uint256 k = 0; k < logs.length; k++) {
            if (logs[k].emitter == address(staking) && logs[k].topics[0] == SequencerStaking.EmissionAccrued.selector) {
                n++;
            }
        }
    }

    function test_emission_accruesPerCommittedBatchIntoTheSigningEpochsPool() public {
        fundEmission(FUNDER, 100 ether);
        assertEq(staking.emissionPerBatch(), PER_BATCH, "parameter");
        assertEq(staking.emissionReserve(), 100 ether, "reserve funded");
        assertEq(staking.rewardsOutstanding(), 0, "nothing in pools yet");
        assertConserved();

        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(range(1, 3), digestOf(h));
        vm.expectEmit(address(staking));
        emit SequencerStaking.EmissionAccrued(1, 1, PER_BATCH, 90 ether);
        staked.commitBatchSigned(h, opNoop(), sigs);
        // Members 2 and 3 (900 of 1000) sign batch 2: the pool is still the whole set's.
        commitSigned(opNoop(), ids(2, 3));
        commitSigned(opNoop(), ids(3, 2, 1));
        assertEq(staking.rewardPool(1), 30 ether, "three batches signed by epoch 1's set");
        assertEq(staking.emissionReserve(), 70 ether, "reserve down by three emissions");
        assertEq(staking.rewardsOutstanding(), 30 ether, "moved to the pool");
        assertConserved();
        // Emission and funded rewards share the epoch's pool.
        fundPool(20 ether);
        assertEq(staking.rewardPool(1), 50 ether, "emission + funded");

        // A staker joining during epoch 1 is in epoch 2's set only; batches of epoch 2 fill
        // epoch 2's pool, never epoch 1's.
        doStake(4, 1000 ether);
        nextEpoch();
        commitSigned(opNoop(), ids(4, 3, 2));
        assertEq(staking.rewardPool(2), PER_BATCH, "epoch 2's pool");
        assertEq(staking.rewardPool(1), 50 ether, "a past pool never grows");
        assertEq(staking.emissionReserve(), 60 ether, "reserve");

        // Epoch 1: 50 over stakes 100 : 300 : 600.
        assertEq(claimAs(1, 1), 5 ether, "10% (did not sign batch 2)");
        assertEq(claimAs(2, 1), 15 ether, "30%");
        assertEq(claimAs(3, 1), 30 ether, "60%");
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NotMember.selector, 1, stakerAddr(4)));
        claimAs(4, 1);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EpochNotOver.selector, 2));
        claimAs(4, 2);
        nextEpoch();
        // Epoch 2: 10 over stakes 100 : 300 : 600 : 1000.
        assertEq(claimAs(4, 2), 5 ether, "50%");
        assertEq(claimAs(3, 2), 3 ether, "30%");
        assertEq(claimAs(2, 2), 1.5 ether, "15%");
        assertEq(claimAs(1, 2), 0.5 ether, "5%");
        assertEq(staking.rewardsOutstanding(), 0, "every pool paid");
        assertEq(stakeToken.balanceOf(stakerAddr(3)), 33 ether, "paid");
        assertConserved();
    }

    function test_emission_cappedByTheReserve_thenCommitsAccrueNothing() public {
        fundEmission(FUNDER, 25 ether);
        commitSigned(opNoop(), range(1, 3));
        commitSigned(opNoop(), range(1, 3));
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(range(1, 3), digestOf(h));
        vm.expectEmit(address(staking));
        emit SequencerStaking.EmissionAccrued(1, 3, 5 ether, 0);
        staked.commitBatchSigned(h, opNoop(), sigs);
        assertEq(staking.rewardPool(1), 25 ether, "the whole reserve, no more");
        assertEq(staking.emissionReserve(), 0, "reserve empty");

        // Empty reserve: the commit goes through and accrues nothing (no event).
        vm.recordLogs();
        commitSigned(opNoop(), range(1, 3));
        assertEq(accrualEvents(vm.getRecordedLogs()), 0, "no EmissionAccrued");
        assertEq(rollup.lastCommittedBatch(), 4, "committed");
        assertEq(staking.rewardPool(1), 25 ether, "pool unchanged");
        assertEq(staking.rewardsOutstanding(), 25 ether, "outstanding unchanged");
        assertConserved();

        // A refill below one emission is paid out whole by the next batch.
        fundEmission(FUNDER, 3 ether);
        commitSigned(opNoop(), range(1, 3));
        assertEq(staking.rewardPool(1), 28 ether, "refill accrued");
        assertEq(staking.emissionReserve(), 0, "empty again");
        assertConserved();
    }

    function test_emission_neverFundedReserve_commitSucceedsWithNothingAccrued() public {
        vm.recordLogs();
        commitSigned(opNoop(), range(1, 3));
        assertEq(accrualEvents(vm.getRecordedLogs()), 0, "no EmissionAccrued");
        assertEq(rollup.lastCommittedBatch(), 1, "committed");
        assertEq(staking.rewardPool(1), 0, "nothing accrued");
        assertEq(staking.rewardsOutstanding(), 0, "nothing outstanding");
        nextEpoch();
        assertEq(claimAs(1, 1), 0, "a member claims 0");
    }

    function test_emission_onlyTheRollupAccrues() public {
        fundEmission(FUNDER, 100 ether);
        address[4] memory callers = [OWNER, FUNDER, stakerAddr(1), address(this)];
        for (uint256 k = 0; k < callers.length; k++) {
            vm.expectRevert(abi.encodeWithSelector(SequencerStaking.NotRollup.selector, callers[k]));
            vm.prank(callers[k]);
            staking.accrueBatchReward(1, 1);
        }
        assertEq(staking.emissionReserve(), 100 ether, "untouched");
        vm.prank(address(staked));
        assertEq(staking.accrueBatchReward(1, 1), PER_BATCH, "the rollup accrues");
        assertEq(staking.rewardPool(1), PER_BATCH, "into the named epoch");
        assertConserved();
    }

    function test_emission_fundingRefusals() public {
        vm.expectRevert(SequencerStaking.ZeroAmount.selector);
        vm.prank(FUNDER);
        staking.fundEmission(0);

        // rewardsOutstanding + emissionReserve stays below 2^128.
        uint256 cap = type(uint128).max;
        fundEmission(FUNDER, cap - 1 ether);
        stakeToken.mint(FUNDER, 2 ether);
        vm.prank(FUNDER);
        stakeToken.approve(address(staking), 2 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.RewardsTooLarge.selector, cap + 1 ether));
        vm.prank(FUNDER);
        staking.fundEmission(2 ether);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.RewardsTooLarge.selector, cap + 1 ether));
        vm.prank(FUNDER);
        staking.fundRewards(2 ether);
        vm.prank(FUNDER);
        staking.fundRewards(1 ether);
        // At the cap, accruing moves value between the two totals and cannot overflow.
        commitSigned(opNoop(), range(1, 3));
        assertEq(staking.rewardsOutstanding(), 1 ether + PER_BATCH, "funded + accrued");
        assertEq(staking.emissionReserve(), cap - 1 ether - PER_BATCH, "reserve");
        assertConserved();

        // Without an emission, a reserve could never be paid out: refused.
        emission = 0;
        deploy(5, 8);
        stakeToken.mint(FUNDER, 1 ether);
        vm.prank(FUNDER);
        stakeToken.approve(address(staking), 1 ether);
        vm.expectRevert(SequencerStaking.EmissionDisabled.selector);
        vm.prank(FUNDER);
        staking.fundEmission(1 ether);
    }

    /// @dev Random fundEmission / fundRewards / commit / next-epoch-and-claim sequences: the
    ///      reserve, every pool and rewardsOutstanding follow a model exactly, and the token
    ///      balance is always stakes + rewards outstanding + reserve.
    function testFuzz_emission_reserveAccountingExact(uint256 seed) public {
        uint256 reserve;
        uint256 outstanding;
        uint256 paid;
        uint256 funded;
        uint64 epoch = staking.syncEpoch();
        uint256 pool;
        for (uint256 step = 0; step < 20; step++) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 action = r % 4;
            if (action == 0) {
                uint256 amount = bound(r >> 8, 1, 35 ether);
                fundEmission(FUNDER, amount);
                reserve += amount;
                funded += amount;
            } else if (action == 1) {
                uint256 amount = bound(r >> 8, 1, 50 ether);
                fundPool(amount);
                pool += amount;
                outstanding += amount;
                funded += amount;
            } else if (action == 2) {
                commitSigned(opNoop(), (r >> 8) % 2 == 0 ? range(1, 3) : ids(2, 3));
                uint256 moved = reserve < PER_BATCH ? reserve : PER_BATCH;
                reserve -= moved;
                pool += moved;
                outstanding += moved;
            } else {
                nextEpoch();
                staking.syncEpoch();
                for (uint256 i = 1; i <= 3; i++) {
                    uint256 share = claimAs(i, epoch);
                    assertEq(share, pool * [uint256(100), 300, 600][i - 1] / 1000, "pro rata share");
                    paid += share;
                    outstanding -= share;
                }
                epoch++;
                pool = 0;
            }
            assertEq(staking.emissionReserve(), reserve, "reserve");
            assertEq(staking.rewardPool(epoch), pool, "current pool");
            assertEq(staking.rewardsOutstanding(), outstanding, "outstanding");
            assertConserved();
            assertEq(stakeToken.balanceOf(address(staking)), 1000 ether + funded - paid, "nothing created or lost");
        }
    }
}
