// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {RollupFixture} from "./utils/RollupFixture.sol";
import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {console} from "./utils/Vm.sol";

/// @notice No owner power takes effect faster than users can leave (SPEC §13), single mode:
///         the sequencer changes only `adminDelay` after an announcement, the delay has a
///         floor derived from the forced-withdrawal deadline, and a renounced owner stops nothing.
contract AdminDelayTest is RollupFixture {
    address internal constant ALICE = address(0xA1);
    address internal constant NEXT = address(0x5E1);

    function test_constructor_refusesAdminDelayBelowDeadlinePlusWindowPlusExitMargin() public {
        assertEq(rollup.FORCED_WITHDRAWAL_DEADLINE(), 1 hours, "deadline");
        assertEq(rollup.EXIT_MARGIN(), 1 days, "exit margin");
        assertEq(rollup.minAdminDelay(WINDOW), uint256(1 hours) + WINDOW + 1 days, "floor");
        assertEq(rollup.adminDelay(), ADMIN_DELAY, "delay");
        vm.expectRevert(
            abi.encodeWithSelector(TandemRollup.AdminDelayTooShort.selector, ADMIN_DELAY - 1, uint256(ADMIN_DELAY))
        );
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY - 1, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        // A shorter window lowers the floor, never below deadline + exit margin.
        TandemRollup fast = new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, 60, address(0), 0, 1 hours + 60 + 1 days, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        assertEq(fast.adminDelay(), 1 hours + 60 + 1 days, "devnet-sized window");
    }

    function test_sequencerChange_takesEffectOnlyAfterTheAdminDelay() public {
        uint64 readyAt = uint64(block.timestamp) + ADMIN_DELAY;
        vm.expectEmit(address(rollup));
        emit TandemRollup.SequencerChangeProposed(NEXT, readyAt);
        vm.prank(OWNER);
        rollup.proposeSequencer(NEXT);
        assertEq(rollup.pendingSequencer(), NEXT, "pending");
        assertEq(rollup.pendingSequencerAt(), readyAt, "executable at");

        vm.expectRevert(abi.encodeWithSelector(TandemRollup.SequencerChangeNotReady.selector, readyAt));
        rollup.executeSequencerChange();
        vm.warp(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.SequencerChangeNotReady.selector, readyAt));
        vm.prank(OWNER);
        rollup.executeSequencerChange();
        // During the delay the current sequencer still commits.
        commit(opNoop());

        vm.warp(readyAt);
        vm.expectEmit(address(rollup));
        emit TandemRollup.SequencerChanged(SEQUENCER, NEXT);
        vm.prank(ALICE); // anyone may execute an announced change
        rollup.executeSequencerChange();
        assertEq(rollup.sequencer(), NEXT, "changed");
        assertEq(rollup.pendingSequencer(), address(0), "nothing pending");
        assertEq(rollup.pendingSequencerAt(), 0, "no time pending");

        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotSequencer.selector, SEQUENCER));
        vm.prank(SEQUENCER);
        rollup.commitBatch(h, opNoop());
        vm.prank(NEXT);
        rollup.commitBatch(h, opNoop());
    }

    function test_proposeSequencer_refusedForNonOwnerAndZero() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, ALICE));
        vm.prank(ALICE);
        rollup.proposeSequencer(ALICE);
        vm.expectRevert(RollupState.ZeroAddress.selector);
        vm.prank(OWNER);
        rollup.proposeSequencer(address(0));
    }

    function test_cancelSequencerChange_dropsThePendingChange() public {
        vm.expectRevert(TandemRollup.NoPendingSequencerChange.selector);
        vm.prank(OWNER);
        rollup.cancelSequencerChange();
        vm.prank(OWNER);
        rollup.proposeSequencer(NEXT);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, ALICE));
        vm.prank(ALICE);
        rollup.cancelSequencerChange();
        vm.expectEmit(address(rollup));
        emit TandemRollup.SequencerChangeCancelled(NEXT);
        vm.prank(OWNER);
        rollup.cancelSequencerChange();
        vm.warp(block.timestamp + ADMIN_DELAY);
        vm.expectRevert(TandemRollup.NoPendingSequencerChange.selector);
        rollup.executeSequencerChange();
        assertEq(rollup.sequencer(), SEQUENCER, "unchanged");
    }

    function test_proposeSequencer_replacingRestartsTheClock() public {
        vm.prank(OWNER);
        rollup.proposeSequencer(NEXT);
        vm.warp(block.timestamp + ADMIN_DELAY - 10);
        uint64 readyAt = uint64(block.timestamp) + ADMIN_DELAY;
        vm.expectEmit(address(rollup));
        emit TandemRollup.SequencerChangeCancelled(NEXT);
        vm.expectEmit(address(rollup));
        emit TandemRollup.SequencerChangeProposed(ALICE, readyAt);
        vm.prank(OWNER);
        rollup.proposeSequencer(ALICE);
        vm.warp(block.timestamp + 10); // the first proposal's time
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.SequencerChangeNotReady.selector, readyAt));
        rollup.executeSequencerChange();
        vm.warp(readyAt);
        rollup.executeSequencerChange();
        assertEq(rollup.sequencer(), ALICE, "the replacing proposal");
    }

    function test_executeSequencerChange_withoutProposalReverts() public {
        vm.expectRevert(TandemRollup.NoPendingSequencerChange.selector);
        rollup.executeSequencerChange();
    }

    function test_renouncedOwnership_usersStillDepositCommitFinalizeAndWithdraw() public {
        vm.prank(OWNER);
        rollup.renounceOwnership();
        assertEq(rollup.owner(), address(0), "no owner");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, OWNER));
        vm.prank(OWNER);
        rollup.proposeSequencer(NEXT);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, OWNER));
        vm.prank(OWNER);
        rollup.addToken(address(0x1234));

        depositEth(ALICE, 3 ether);
        bytes memory data =
            bytes.concat(opDeposit(1, KEY_PACKED, 0, 3 ether), opWithdraw(1, 0, 2 ether, 0, address(0xB0B)));
        TandemRollup.StoredBatch memory sb = commit(data);
        finalizeAfterWindow(sb);
        claim(1, data, 0);
        assertEq(address(0xB0B).balance, 2 ether, "withdrawal paid without an owner");
    }

    function test_renouncedOwnership_announcedChangeStillExecutes() public {
        vm.startPrank(OWNER);
        rollup.proposeSequencer(NEXT);
        rollup.renounceOwnership();
        vm.stopPrank();
        vm.warp(block.timestamp + ADMIN_DELAY);
        rollup.executeSequencerChange();
        assertEq(rollup.sequencer(), NEXT, "announced change is not stranded");
    }

    /// @dev Gas of the three sequencer-change calls, each with the rollup's storage cold.
    ///      Printed with -vv; BENCHMARKS.md records the numbers.
    function test_gas_sequencerChangeCalls() public {
        vm.cool(address(rollup));
        vm.prank(OWNER);
        uint256 g = gasleft();
        rollup.proposeSequencer(NEXT);
        uint256 propose = g - gasleft();
        vm.cool(address(rollup));
        vm.prank(OWNER);
        g = gasleft();
        rollup.cancelSequencerChange();
        uint256 cancel = g - gasleft();
        vm.prank(OWNER);
        rollup.proposeSequencer(NEXT);
        vm.warp(block.timestamp + ADMIN_DELAY);
        vm.cool(address(rollup));
        g = gasleft();
        rollup.executeSequencerChange();
        uint256 execute = g - gasleft();
        console.log("proposeSequencer gas", propose);
        console.log("cancelSequencerChange gas", cancel);
        console.log("executeSequencerChange gas", execute);
        assertEq(rollup.sequencer(), NEXT, "executed");
        assertLt(propose + cancel + execute, 100_000, "admin calls stay cheap");
    }

    /// @dev The instant powers this issue removed are gone from the ABI: the old selectors
    ///      hit no function (and there is no fallback).
    function test_instantAdminFunctions_doNotExist() public {
        vm.startPrank(OWNER);
        (bool ok,) = address(rollup).call(abi.encodeWithSignature("setSequencer(address)", NEXT));
        assertFalse(ok, "setSequencer");
        (ok,) = address(rollup).call(abi.encodeWithSignature("setVerifier(address,uint32)", address(this), 2));
        assertFalse(ok, "setVerifier");
        vm.stopPrank();
        assertEq(rollup.sequencer(), SEQUENCER, "sequencer unchanged");
        assertEq(rollup.verifier(), address(0), "verifier unchanged");
    }

    function test_ownershipTransfer_takesTwoSteps() public {
        vm.prank(OWNER);
        rollup.transferOwnership(ALICE);
        assertEq(rollup.owner(), OWNER, "still the owner until accepted");
        assertEq(rollup.pendingOwner(), ALICE, "pending owner");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, NEXT));
        vm.prank(NEXT);
        rollup.acceptOwnership();
        vm.prank(ALICE);
        rollup.acceptOwnership();
        assertEq(rollup.owner(), ALICE, "accepted");
    }
}

/// @notice Staked mode: the owner has no power over the sequencer set; staking has no owner at
///         all and is bound to its rollup at deployment; a dust stake change cannot force a new
///         set; materializing the largest allowed set stays under 10 M gas.
contract StakedAdminTest is StakingFixture {
    function test_stakedMode_ownerCannotReplaceTheSequencerSet() public {
        vm.expectRevert(StakedRollup.SequencerFixedInStakedMode.selector);
        vm.prank(OWNER);
        staked.proposeSequencer(address(0x5E1));
        vm.expectRevert(TandemRollup.NoPendingSequencerChange.selector);
        staked.executeSequencerChange();
        assertEq(staked.sequencer(), address(staking), "sequencer slot is the staking contract");
    }

    function test_staking_isBoundToItsRollupAtDeployment() public {
        assertEq(staking.rollup(), address(staked), "bound at deployment");
        (bool ok,) = address(staking).call(abi.encodeWithSignature("setRollup(address)", address(0xBEEF)));
        assertFalse(ok, "no setRollup");
        (ok,) = address(staking).call(abi.encodeWithSignature("owner()"));
        assertFalse(ok, "no owner");
        SequencerStaking other = new SequencerStaking(address(0xaa), params(5, 8));
        vm.expectRevert(abi.encodeWithSelector(StakedRollup.StakingBoundElsewhere.selector, address(0xaa)));
        new StakedRollup(OWNER, other, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
    }

    function test_stakedMode_renouncedOwnershipStillCommitsAndPays() public {
        for (uint256 i = 1; i <= 4; i++) doStake(i, 1000 ether);
        nextEpoch();
        vm.prank(OWNER);
        staked.renounceOwnership();
        depositEth(address(0xA1), 3 ether);
        bytes memory data =
            bytes.concat(opDeposit(1, KEY_PACKED, 0, 3 ether), opWithdraw(1, 0, 2 ether, 0, address(0xB0B)));
        (TandemRollup.StoredBatch memory sb,) = commitSigned(data, range(1, 4));
        finalizeAfterWindow(sb);
        claim(1, data, 0);
        assertEq(address(0xB0B).balance, 2 ether, "withdrawal paid without an owner");
    }

    function test_stake_dustChangesRefused() public {
        doStake(1, 500 ether);
        stakeToken.mint(stakerAddr(1), 1);
        vm.prank(stakerAddr(1));
        stakeToken.approve(address(staking), 1);
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.StakeChangeTooSmall.selector, 1, MIN_STAKE));
        vm.prank(stakerAddr(1));
        staking.stake(1, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.StakeChangeTooSmall.selector, 1, MIN_STAKE));
        doUnstake(1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(SequencerStaking.StakeChangeTooSmall.selector, MIN_STAKE - 1, MIN_STAKE)
        );
        doUnstake(1, MIN_STAKE - 1);
        doUnstake(1, MIN_STAKE); // a full minStake is a real change
        doUnstake(1, 400 ether); // leaving entirely is always allowed
        (, uint256 active,,, bool registered,) = staking.stakerInfo(stakerAddr(1));
        assertEq(active, 0, "left");
        assertFalse(registered, "unregistered");
    }

    /// @dev The attack: a member tops up 1 wei every epoch to make the next epoch's first
    ///      caller (usually the batch committer) pay a full re-ranking. The top-up is refused,
    ///      so the next epoch reuses the stored snapshot (id 1).
    function test_dustTopUp_cannotForceANewSetNextEpoch() public {
        for (uint256 i = 1; i <= 4; i++) doStake(i, 1000 ether);
        nextEpoch();
        uint64 e = staking.syncEpoch();
        for (uint256 round = 0; round < 3; round++) {
            stakeToken.mint(stakerAddr(2), 1);
            vm.prank(stakerAddr(2));
            stakeToken.approve(address(staking), 1);
            vm.expectRevert(abi.encodeWithSelector(SequencerStaking.StakeChangeTooSmall.selector, 1, MIN_STAKE));
            vm.prank(stakerAddr(2));
            staking.stake(1, address(0), "");
            nextEpoch();
            e++;
            vm.expectEmit(address(staking));
            emit SequencerStaking.EpochSetMaterialized(e, 1, 4000 ether, 4); // epoch 0 stored the empty set as 0
            staking.syncEpoch();
        }
    }

    /// @dev With a full set (3 of 5), stakers outside it change their stake, leave or join
    ///      below the last member: the next epoch reuses the snapshot. One entering the set, or
    ///      a member changing its stake, makes a new one.
    function test_changesBelowAFullSet_doNotForceANewSet() public {
        deploy(3, 8);
        doStake(1, 1000 ether);
        doStake(2, 900 ether);
        doStake(3, 800 ether);
        doStake(4, 200 ether);
        doStake(5, 150 ether);
        nextEpoch();
        uint64 e = staking.syncEpoch(); // snapshot 1 = {1, 2, 3}
        doStake(4, 100 ether); // 300 < 800
        doUnstake(5, 150 ether); // leaves
        doStake(6, 100 ether); // newcomer below the set
        nextEpoch();
        vm.expectEmit(address(staking));
        emit SequencerStaking.EpochSetMaterialized(e + 1, 1, 2700 ether, 3);
        staking.syncEpoch();
        doStake(4, 600 ether); // 900 ether: enters behind staker 2 (same stake, lower address first)
        nextEpoch();
        vm.expectEmit(address(staking));
        emit SequencerStaking.EpochSetMaterialized(e + 2, 2, 2800 ether, 3);
        staking.syncEpoch();
        assertTrue(isActive(e + 2, stakerAddr(4)), "staker 4 entered");
        assertFalse(isActive(e + 2, stakerAddr(3)), "staker 3 dropped out");
        doStake(1, MIN_STAKE); // a member's stake changes its weight
        nextEpoch();
        vm.expectEmit(address(staking));
        emit SequencerStaking.EpochSetMaterialized(e + 3, 3, 2900 ether, 3);
        staking.syncEpoch();
    }

    /// @dev Epoch materialization at the largest set the constructor allows (MAX_SET_SIZE
    ///      members, MAX_STAKERS registered), in the ranking's worst order (every staker
    ///      outranks all registered before it), with the staking contract's storage cold.
    ///      Printed with -vv; BENCHMARKS.md records the number.
    function test_gas_materializeLargestAllowedSet() public {
        uint16 maxActive = uint16(staking.MAX_SET_SIZE());
        uint32 maxStakers = uint32(staking.MAX_STAKERS());
        deploy(maxActive, maxStakers);
        for (uint256 i = 1; i <= maxStakers; i++) doStake(i, MIN_STAKE + i * 1 ether);
        assertEq(staking.registeredCount(), maxStakers, "registry full");
        nextEpoch();
        vm.cool(address(staking));
        uint256 g = gasleft();
        staking.syncEpoch();
        uint256 used = g - gasleft();
        (address[] memory members,,,) = staking.activeSet(staking.currentEpoch());
        assertEq(members.length, maxActive, "largest set");
        assertEq(members[0], stakerAddr(maxStakers), "highest stake first");
        console.log("epoch materialization gas, set size", maxActive);
        console.log("  registered stakers", maxStakers);
        console.log("  gas", used);
        assertLt(used, 10_000_000, "materialization must stay under 10 M gas");
    }
}
