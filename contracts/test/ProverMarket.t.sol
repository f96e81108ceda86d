// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {ProverMarket} from "../src/ProverMarket.sol";
import {IProverMarket} from "../src/interfaces/IProverMarket.sol";

/// @dev Market parameters shared by the market tests (the Boundless SDK defaults for the times):
///      floor 10 % of the cap, 60 s ramp-up, 660 s lock, 1,320 s job, collateral 50 % of the
///      cap, half of slashed collateral burned.
abstract contract MarketParams is Test {
    uint16 internal constant FLOOR_BPS = 1000;
    uint64 internal constant RAMP_UP = 60;
    uint64 internal constant LOCK_TIMEOUT = 660;
    uint64 internal constant JOB_TIMEOUT = 1320;
    uint16 internal constant COLLATERAL_BPS = 5000;
    uint16 internal constant BURN_BPS = 5000;

    ProverMarket internal market;

    function newMarket(address rollup_) internal returns (ProverMarket) {
        return new ProverMarket(rollup_, FLOOR_BPS, RAMP_UP, LOCK_TIMEOUT, JOB_TIMEOUT, COLLATERAL_BPS, BURN_BPS);
    }

    /// @dev `p` locks batch `n`'s job with exactly the required collateral.
    function lockAs(address p, uint64 n) internal {
        uint256 c = market.requiredCollateral(n);
        vm.deal(p, p.balance + c);
        vm.prank(p);
        market.lock{value: c}(n);
    }

    /// @dev `who` withdraws what it is owed; returns what it received.
    function pullAs(address who) internal returns (uint256 got) {
        uint256 before = who.balance;
        vm.prank(who);
        market.withdraw();
        got = who.balance - before;
    }
}

/// @dev A prover or funder contract that re-enters the market when it is paid: `mode` 1
///      re-enters `withdraw`, 2 re-enters `lock`; `swallow` catches the re-entry's revert (and
///      records it), otherwise the re-entry's revert makes the payout fail.
contract Reenterer {
    ProverMarket internal immutable market;
    uint8 public mode;
    bool public swallow;
    uint64 public lockTarget;
    bytes public reentryError;
    uint256 public received;

    constructor(ProverMarket m) {
        market = m;
    }

    function configure(uint8 mode_, bool swallow_, uint64 lockTarget_) external {
        mode = mode_;
        swallow = swallow_;
        lockTarget = lockTarget_;
    }

    function lockJob(uint64 batchNumber) external payable {
        market.lock{value: msg.value}(batchNumber);
    }

    function pull() external {
        market.withdraw();
    }

    receive() external payable {
        received += msg.value;
        if (mode == 1) {
            if (swallow) {
                try market.withdraw() {} catch (bytes memory e) {
                    reentryError = e;
                }
            } else {
                market.withdraw();
            }
        } else if (mode == 2) {
            uint256 c = market.requiredCollateral(lockTarget);
            if (swallow) {
                try market.lock{value: c}(lockTarget) {} catch (bytes memory e) {
                    reentryError = e;
                }
            } else {
                market.lock{value: c}(lockTarget);
            }
        }
    }
}

/// @notice The market's own rules, with this test contract as the rollup (it calls `openJob`
///         and `onProven` directly): constructor checks, the price curve, lock, settlement,
///         reclaim, cancellation, pull payouts and their reentrancy safety, and the escrow
///         accounting fuzz. The rollup integration with real proofs is `ProverMarketRollupTest`.
contract ProverMarketTest is MarketParams {

    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant CAP = 1 ether;
    uint256 internal constant FLOOR = 0.1 ether; // CAP * FLOOR_BPS / 10000
    uint256 internal constant COLLATERAL = 0.5 ether; // CAP * COLLATERAL_BPS / 10000
    address internal constant FUNDER = address(0xF00D);
    address internal constant P1 = address(0x9001);
    address internal constant P2 = address(0x9002);
    address internal constant P3 = address(0x9003);

    function setUp() public {
        vm.warp(T0);
        market = newMarket(address(this));
        vm.deal(address(this), 1_000_000 ether);
    }

    function open(uint64 n, uint256 cap) internal {
        market.openJob{value: cap}(n, FUNDER);
    }


    // ------------------------------------------------------------------ construction

    function test_constructor_storesParameters() public view {
        assertEq(market.rollup(), address(this), "rollup");
        assertEq(market.floorBps(), FLOOR_BPS, "floorBps");
        assertEq(market.rampUp(), RAMP_UP, "rampUp");
        assertEq(market.lockTimeout(), LOCK_TIMEOUT, "lockTimeout");
        assertEq(market.jobTimeout(), JOB_TIMEOUT, "jobTimeout");
        assertEq(market.collateralBps(), COLLATERAL_BPS, "collateralBps");
        assertEq(market.burnBps(), BURN_BPS, "burnBps");
    }

    function test_constructor_refusesBadParameters() public {
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.ZeroRollup.selector));
        new ProverMarket(address(0), 0, 1, 1, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.InvalidFloorBps.selector, 10_001));
        new ProverMarket(address(1), 10_001, 1, 1, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.ZeroRampUp.selector));
        new ProverMarket(address(1), 0, 0, 1, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.InvalidLockTimeout.selector, 0, 1));
        new ProverMarket(address(1), 0, 1, 0, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.InvalidLockTimeout.selector, 2, 1));
        new ProverMarket(address(1), 0, 1, 2, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.ZeroCollateralBps.selector));
        new ProverMarket(address(1), 0, 1, 1, 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.InvalidBurnBps.selector, 10_001));
        new ProverMarket(address(1), 0, 1, 1, 1, 1, 10_001);
        // The edges are accepted: floor = cap, lock = job, everything burned.
        new ProverMarket(address(1), 10_000, 1, 5, 5, 1, 10_000);
    }

    /// @dev The interface the rollup calls is the market's (it inherits it; its ABI carries the
    ///      interface's error, so clients decode a refused proof).
    function test_interface_selectorsMatch() public view {
        assertEq(uint32(IProverMarket.rollup.selector), uint32(market.rollup.selector), "rollup");
        assertEq(uint32(IProverMarket.openJob.selector), uint32(market.openJob.selector), "openJob");
        assertEq(uint32(IProverMarket.onProven.selector), uint32(market.onProven.selector), "onProven");
    }

    // ------------------------------------------------------------------ rollup-only hooks

    function test_openJob_onlyRollup() public {
        vm.deal(P1, 1 ether);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NotRollup.selector, P1));
        market.openJob{value: 1 ether}(1, P1);
    }

    function test_openJob_refusesZeroEscrow() public {
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.ZeroEscrow.selector));
        market.openJob(1, FUNDER);
    }

    function test_onProven_onlyRollup() public {
        open(1, CAP);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NotRollup.selector, P1));
        market.onProven(1, P1);
    }

    function test_openJob_recordsTheJobAndEmits() public {
        vm.expectEmit(address(market));
        emit ProverMarket.JobOpened(7, 1, FUNDER, FLOOR, CAP, uint64(T0 + JOB_TIMEOUT));
        open(7, CAP);
        ProverMarket.Job memory j = market.job(7);
        assertEq(j.jobId, 1, "jobId");
        assertEq(j.funder, FUNDER, "funder");
        assertEq(j.openedAt, T0, "openedAt");
        assertEq(j.deadline, T0 + JOB_TIMEOUT, "deadline");
        assertEq(j.floor, FLOOR, "floor");
        assertEq(j.cap, CAP, "cap");
        assertEq(j.locker, address(0), "no locker");
        assertEq(uint256(j.status), uint256(ProverMarket.JobStatus.Open), "open");
        assertEq(address(market).balance, CAP, "escrow held");
        assertEq(market.requiredCollateral(7), COLLATERAL, "collateral");
        assertEq(uint256(market.job(8).status), uint256(ProverMarket.JobStatus.None), "no job for 8");
        open(8, CAP);
        assertEq(market.job(8).jobId, 2, "ids increment");
    }

    function test_onProven_noJob_returnsSilently() public {
        market.onProven(1, P1); // never opened
        open(1, CAP);
        market.onProven(1, P1);
        market.onProven(1, P2); // settled already: nothing more
        assertEq(market.owed(P2), 0, "second proof earns nothing");
        assertEq(market.earned(P1), FLOOR, "first proof at the floor (same second)");
    }

    // ------------------------------------------------------------------ price curve

    function test_priceAt_exactAtTheBoundaries() public {
        open(1, CAP);
        assertEq(market.priceAt(1, uint64(T0)), FLOOR, "floor at openedAt");
        assertEq(market.priceAt(1, uint64(T0 - 1)), FLOOR, "floor before openedAt");
        assertEq(market.priceAt(1, 0), FLOOR, "floor at 0");
        assertEq(market.priceAt(1, uint64(T0 + RAMP_UP)), CAP, "cap at openedAt + rampUp");
        assertEq(market.priceAt(1, uint64(T0 + RAMP_UP + 1)), CAP, "cap after");
        assertEq(market.priceAt(1, type(uint64).max), CAP, "cap much later");
        assertEq(market.priceAt(1, uint64(T0 + 1)), FLOOR + (CAP - FLOOR) / 60, "one second in");
        assertEq(market.priceAt(1, uint64(T0 + 30)), FLOOR + (CAP - FLOOR) / 2, "half-way");
        assertEq(market.priceAt(1, uint64(T0 + RAMP_UP - 1)), FLOOR + (CAP - FLOOR) * 59 / 60, "last second");
        // Rounding down, never above the cap: a 7-wei job.
        open(2, 7);
        assertEq(market.priceAt(2, uint64(T0)), 0, "7 * 10 % rounds to 0");
        assertEq(market.priceAt(2, uint64(T0 + 59)), 6, "7 * 59 / 60 rounds down");
        assertEq(market.priceAt(2, uint64(T0 + 60)), 7, "cap");
        assertEq(market.requiredCollateral(2), 3, "7 * 50 % = 3");
        open(3, 1);
        assertEq(market.requiredCollateral(3), 1, "at least 1 wei");
    }

    function test_priceAt_noJob_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 1));
        market.priceAt(1, uint64(T0));
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 1));
        market.requiredCollateral(1);
    }

    function testFuzz_priceAt_monotoneWithinFloorAndCap(uint256 cap, uint64 a, uint64 b, uint256 floorBps_, uint256 ramp)
        public
    {
        cap = bound(cap, 1, 100_000 ether);
        floorBps_ = bound(floorBps_, 0, 10_000);
        ramp = bound(ramp, 1, 1e9);
        ProverMarket m = new ProverMarket(address(this), uint16(floorBps_), uint64(ramp), 1, 2, 1, 0);
        m.openJob{value: cap}(1, FUNDER);
        if (a > b) (a, b) = (b, a);
        uint256 pa = m.priceAt(1, a);
        uint256 pb = m.priceAt(1, b);
        uint256 floor = cap * floorBps_ / 10_000;
        assertLe(pa, pb, "non-decreasing in time");
        assertGe(pa, floor, "at least the floor");
        assertLe(pb, cap, "at most the cap");
        assertEq(m.priceAt(1, uint64(T0)), floor, "floor at openedAt");
        assertEq(m.priceAt(1, uint64(T0 + ramp)), cap, "cap at openedAt + rampUp");
    }

    // ------------------------------------------------------------------ lock

    function test_lock_fixesThePriceAndEmits() public {
        open(1, CAP);
        vm.warp(T0 + 30);
        vm.expectEmit(address(market));
        emit ProverMarket.JobLocked(1, 1, P1, FLOOR + (CAP - FLOOR) / 2, COLLATERAL, uint64(T0 + 30 + LOCK_TIMEOUT));
        lockAs(P1, 1);
        ProverMarket.Job memory j = market.job(1);
        assertEq(j.locker, P1, "locker");
        assertEq(j.lockDeadline, T0 + 30 + LOCK_TIMEOUT, "lockDeadline");
        assertEq(j.lockedPrice, FLOOR + (CAP - FLOOR) / 2, "lockedPrice");
        assertEq(j.collateral, COLLATERAL, "collateral held");
        assertEq(address(market).balance, CAP + COLLATERAL, "escrow + collateral");
        // The locker proves later, at a higher market price: it is paid the locked price.
        vm.warp(T0 + 600);
        market.onProven(1, P1);
        assertEq(market.owed(P1), FLOOR + (CAP - FLOOR) / 2 + COLLATERAL, "locked price + own collateral");
        assertEq(market.earned(P1), FLOOR + (CAP - FLOOR) / 2, "earned = locked price");
        assertEq(market.owed(FUNDER), CAP - (FLOOR + (CAP - FLOOR) / 2), "refund");
        assertEq(market.job(1).collateral, 0, "collateral returned");
    }

    function test_lock_secondLockRefusedWhileActive() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.deal(P2, COLLATERAL);
        vm.prank(P2);
        vm.expectRevert(
            abi.encodeWithSelector(ProverMarket.JobAlreadyLocked.selector, 1, P1, uint64(T0 + LOCK_TIMEOUT))
        );
        market.lock{value: COLLATERAL}(1);
        // Not even the locker itself, up to the last second of its lock.
        vm.warp(T0 + LOCK_TIMEOUT - 1);
        vm.deal(P1, COLLATERAL);
        vm.prank(P1);
        vm.expectRevert(
            abi.encodeWithSelector(ProverMarket.JobAlreadyLocked.selector, 1, P1, uint64(T0 + LOCK_TIMEOUT))
        );
        market.lock{value: COLLATERAL}(1);
    }

    function test_lock_refusesWrongCollateral() public {
        open(1, CAP);
        vm.deal(P1, 10 ether);
        uint256[3] memory wrong = [uint256(0), COLLATERAL - 1, COLLATERAL + 1];
        for (uint256 i = 0; i < 3; i++) {
            vm.prank(P1);
            vm.expectRevert(abi.encodeWithSelector(ProverMarket.WrongCollateral.selector, wrong[i], COLLATERAL));
            market.lock{value: wrong[i]}(1);
        }
        // A 1-wei job still needs 1 wei: zero collateral is never enough.
        open(2, 1);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.WrongCollateral.selector, 0, 1));
        market.lock(2);
        assertEq(market.job(1).locker, address(0), "not locked");
    }

    function test_lock_refusedAtAndAfterTheDeadline() public {
        open(1, CAP);
        vm.deal(P1, 10 ether);
        vm.warp(T0 + JOB_TIMEOUT);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobExpired.selector, 1, uint64(T0 + JOB_TIMEOUT)));
        market.lock{value: COLLATERAL}(1);
        vm.warp(T0 + JOB_TIMEOUT + 1000);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobExpired.selector, 1, uint64(T0 + JOB_TIMEOUT)));
        market.lock{value: COLLATERAL}(1);
    }

    function test_lock_refusedWithoutJob() public {
        vm.deal(P1, 1 ether);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 1));
        market.lock{value: 1}(1);
        // Nor once the job is settled.
        open(1, CAP);
        market.onProven(1, P2);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 1));
        market.lock{value: COLLATERAL}(1);
    }

    function test_lock_endsAtTheJobDeadline() public {
        open(1, CAP);
        vm.warp(T0 + JOB_TIMEOUT - 10);
        lockAs(P1, 1);
        assertEq(market.job(1).lockDeadline, T0 + JOB_TIMEOUT, "lock cut at the job's deadline");
    }

    function test_onProven_otherProverRefusedDuringLock_acceptedFromLockDeadline() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.warp(T0 + LOCK_TIMEOUT - 1);
        vm.expectRevert(abi.encodeWithSelector(IProverMarket.LockedByAnotherProver.selector, 1, P1, uint64(T0 + LOCK_TIMEOUT)));
        market.onProven(1, P2);
        // From the lock deadline on, the lock has expired: P2's proof settles the job.
        vm.warp(T0 + LOCK_TIMEOUT);
        uint256 burned = COLLATERAL * BURN_BPS / 10_000;
        vm.expectEmit(address(market));
        emit ProverMarket.LockSlashed(1, 1, P1, COLLATERAL);
        vm.expectEmit(address(market));
        emit ProverMarket.JobFulfilled(1, 1, P2, CAP, COLLATERAL - burned, 0);
        market.onProven(1, P2);
        assertEq(market.owed(P2), CAP + COLLATERAL - burned, "price + unburned collateral");
        assertEq(market.earned(P2), CAP + COLLATERAL - burned, "earned");
        assertEq(market.owed(P1), 0, "locker lost its collateral");
        assertEq(market.totalBurned(), burned, "burned");
        assertEq(market.job(1).slashedPool, COLLATERAL, "pool recorded");
    }

    function test_lock_afterExpiredLock_slashesItIntoThePool() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.warp(T0 + LOCK_TIMEOUT);
        vm.expectEmit(address(market));
        emit ProverMarket.LockSlashed(1, 1, P1, COLLATERAL);
        lockAs(P2, 1);
        ProverMarket.Job memory j = market.job(1);
        assertEq(j.slashedPool, COLLATERAL, "P1's collateral in the pool");
        assertEq(j.locker, P2, "P2 locks");
        assertEq(j.lockDeadline, T0 + JOB_TIMEOUT, "cut at the deadline");
        assertEq(j.lockedPrice, CAP, "price at lock time");
        assertEq(address(market).balance, CAP + 2 * COLLATERAL, "escrow + both collaterals");
        market.onProven(1, P2);
        uint256 burned = COLLATERAL * BURN_BPS / 10_000;
        assertEq(market.owed(P2), CAP + COLLATERAL + (COLLATERAL - burned), "price + own collateral + reward");
        assertEq(market.earned(P2), CAP + COLLATERAL - burned, "earned");
        assertEq(market.totalBurned(), burned, "burned");
    }

    // ------------------------------------------------------------------ late proofs and reclaim

    function test_onProven_afterDeadline_paysNothingAndRefundsTheFunder() public {
        open(1, CAP);
        vm.warp(T0 + JOB_TIMEOUT); // the last second still pays
        assertEq(market.priceAt(1, uint64(block.timestamp)), CAP, "cap");
        vm.warp(T0 + JOB_TIMEOUT + 1);
        vm.expectEmit(address(market));
        emit ProverMarket.JobFulfilled(1, 1, P1, 0, 0, CAP);
        market.onProven(1, P1);
        assertEq(market.owed(FUNDER), CAP, "full refund");
        assertEq(market.owed(P1), 0, "nothing for the late prover");
        assertEq(uint256(market.job(1).status), uint256(ProverMarket.JobStatus.Fulfilled), "fulfilled");
    }

    function test_onProven_atTheDeadline_paysTheCap() public {
        open(1, CAP);
        vm.warp(T0 + JOB_TIMEOUT);
        market.onProven(1, P1);
        assertEq(market.owed(P1), CAP, "cap");
        assertEq(market.owed(FUNDER), 0, "nothing back");
    }

    function test_reclaim_refusedUntilAfterTheDeadline() public {
        open(1, CAP);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobNotExpired.selector, 1, uint64(T0 + JOB_TIMEOUT)));
        market.reclaim(1);
        vm.warp(T0 + JOB_TIMEOUT);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobNotExpired.selector, 1, uint64(T0 + JOB_TIMEOUT)));
        market.reclaim(1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 2));
        market.reclaim(2);
    }

    /// @dev An active lock ends by the job's deadline, so while one is active the job cannot be
    ///      reclaimed (its deadline has not passed).
    function test_reclaim_refusedWithAnActiveLock() public {
        open(1, CAP);
        vm.warp(T0 + JOB_TIMEOUT - 5);
        lockAs(P1, 1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobNotExpired.selector, 1, uint64(T0 + JOB_TIMEOUT)));
        market.reclaim(1);
        vm.warp(T0 + JOB_TIMEOUT - 1); // the locker may still prove
        market.onProven(1, P1);
        assertEq(market.owed(P1), CAP + COLLATERAL, "locker paid");
    }

    function test_reclaim_afterDeadline_refundsEscrowAndUnburnedPool() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.warp(T0 + JOB_TIMEOUT + 1);
        uint256 burned = COLLATERAL * BURN_BPS / 10_000;
        vm.expectEmit(address(market));
        emit ProverMarket.LockSlashed(1, 1, P1, COLLATERAL);
        vm.expectEmit(address(market));
        emit ProverMarket.JobReclaimed(1, 1, CAP + COLLATERAL - burned, burned);
        vm.prank(P3); // anyone
        market.reclaim(1);
        assertEq(market.owed(FUNDER), CAP + COLLATERAL - burned, "escrow + unburned pool");
        assertEq(market.totalBurned(), burned, "burned");
        assertEq(uint256(market.job(1).status), uint256(ProverMarket.JobStatus.Reclaimed), "reclaimed");
        // A proof after the reclaim still goes through on the rollup and earns nothing.
        market.onProven(1, P2);
        assertEq(market.owed(P2), 0, "nothing");
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NoJob.selector, 1));
        market.reclaim(1);
        assertEq(pullAs(FUNDER), CAP + COLLATERAL - burned, "withdrawn");
        assertEq(address(market).balance, burned, "only the burned part stays");
    }

    // ------------------------------------------------------------------ re-opened number

    function test_openJob_again_cancelsTheOpenJob_activeLockerGetsCollateralBack() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.warp(T0 + 10);
        vm.expectEmit(address(market));
        emit ProverMarket.JobCancelled(1, 1, CAP, COLLATERAL, 0);
        vm.expectEmit(address(market));
        emit ProverMarket.JobOpened(1, 2, FUNDER, 0.2 ether, 2 ether, uint64(T0 + 10 + JOB_TIMEOUT));
        open(1, 2 ether);
        assertEq(market.owed(FUNDER), CAP, "old escrow back");
        assertEq(market.owed(P1), COLLATERAL, "old locker's collateral back");
        assertEq(market.earned(P1), 0, "not earned");
        ProverMarket.Job memory j = market.job(1);
        assertEq(j.jobId, 2, "new job");
        assertEq(j.locker, address(0), "unlocked");
        assertEq(j.slashedPool, 0, "empty pool");
        assertEq(j.cap, 2 ether, "new cap");
        lockAs(P2, 1); // lockable at once
    }

    function test_openJob_again_slashesAnExpiredLock() public {
        open(1, CAP);
        lockAs(P1, 1);
        vm.warp(T0 + LOCK_TIMEOUT);
        uint256 burned = COLLATERAL * BURN_BPS / 10_000;
        vm.expectEmit(address(market));
        emit ProverMarket.LockSlashed(1, 1, P1, COLLATERAL);
        vm.expectEmit(address(market));
        emit ProverMarket.JobCancelled(1, 1, CAP + COLLATERAL - burned, 0, burned);
        open(1, CAP);
        assertEq(market.owed(P1), 0, "expired lock lost");
        assertEq(market.totalBurned(), burned, "burned");
    }

    // ------------------------------------------------------------------ pull payouts

    function test_withdraw_paysAllOwedOnce() public {
        open(1, CAP);
        vm.warp(T0 + 30);
        market.onProven(1, P1);
        uint256 price = FLOOR + (CAP - FLOOR) / 2;
        vm.expectEmit(address(market));
        emit ProverMarket.Withdrawn(P1, price);
        assertEq(pullAs(P1), price, "prover paid");
        assertEq(pullAs(FUNDER), CAP - price, "funder refunded");
        assertEq(market.owed(P1), 0, "nothing owed");
        assertEq(market.earned(P1), price, "earned stays");
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NothingOwed.selector));
        market.withdraw();
        assertEq(address(market).balance, 0, "empty");
    }

    function reenterer() internal returns (Reenterer r) {
        r = new Reenterer(market);
        open(1, CAP);
        open(2, CAP);
        vm.warp(T0 + RAMP_UP);
        market.onProven(1, address(r)); // owed CAP
    }

    function test_withdraw_reenteringWithdraw_getsNothingExtra() public {
        Reenterer r = reenterer();
        r.configure(1, true, 0);
        uint256 before = address(market).balance;
        r.pull();
        assertEq(r.received(), CAP, "paid once");
        assertEq(address(r).balance, CAP, "balance");
        assertEq(address(market).balance, before - CAP, "market paid exactly what was owed");
        assertEq(r.reentryError(), abi.encodeWithSelector(ProverMarket.Reentrancy.selector), "re-entry refused");
        assertEq(market.owed(address(r)), 0, "owes nothing more");
    }

    function test_withdraw_reenteringLock_refused() public {
        Reenterer r = reenterer();
        vm.deal(address(r), 10 ether); // could pay a collateral
        r.configure(2, true, 2);
        r.pull();
        assertEq(r.reentryError(), abi.encodeWithSelector(ProverMarket.Reentrancy.selector), "re-entry refused");
        assertEq(market.job(2).locker, address(0), "no lock taken");
        assertEq(address(r).balance, 10 ether + CAP, "paid once");
    }

    function test_withdraw_failingReceiver_keepsWhatItIsOwed() public {
        Reenterer r = reenterer();
        r.configure(1, false, 0); // re-enters and lets the revert fail the transfer
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.TransferFailed.selector, address(r), CAP));
        r.pull();
        assertEq(market.owed(address(r)), CAP, "still owed");
        r.configure(0, false, 0);
        r.pull();
        assertEq(address(r).balance, CAP, "paid once it accepts");
    }

    function test_withdraw_reenteringFunder_getsNothingExtra() public {
        Reenterer r = new Reenterer(market);
        market.openJob{value: CAP}(1, address(r));
        vm.warp(T0 + JOB_TIMEOUT + 1);
        market.reclaim(1);
        r.configure(1, true, 0);
        r.pull();
        assertEq(address(r).balance, CAP, "refund once");
        assertEq(address(market).balance, 0, "nothing left");
    }

    // ------------------------------------------------------------------ accounting fuzz

    uint64 internal constant NUMBERS = 3;
    address[5] internal actors = [P1, P2, P3, FUNDER, address(0xF11D)];
    uint256 internal totalIn;
    uint256 internal totalOut;

    /// @dev What the market must hold: Σ owed + Σ open jobs (cap + lock collateral + pool) + burned.
    function held() internal view returns (uint256 sum) {
        for (uint256 i = 0; i < actors.length; i++) {
            sum += market.owed(actors[i]);
        }
        for (uint64 n = 1; n <= NUMBERS; n++) {
            ProverMarket.Job memory j = market.job(n);
            if (j.status == ProverMarket.JobStatus.Open) sum += j.cap + j.collateral + j.slashedPool;
        }
        sum += market.totalBurned();
    }

    function step(uint256 r) internal {
        uint256 action = r % 6;
        uint64 n = uint64((r >> 8) % NUMBERS) + 1;
        address who = actors[(r >> 16) % actors.length];
        if (action == 0) {
            // Escrows from 1 wei (rounding) to 100 ether.
            uint256 amount = (r >> 24) % 2 == 0 ? bound(r >> 32, 1, 20) : bound(r >> 32, 1, 100 ether);
            address funder = actors[3 + (r >> 28) % 2];
            market.openJob{value: amount}(n, funder);
            totalIn += amount;
        } else if (action == 1) {
            ProverMarket.Job memory j = market.job(n);
            if (j.status != ProverMarket.JobStatus.Open) return;
            uint256 c = market.requiredCollateral(n);
            vm.deal(who, who.balance + c);
            vm.prank(who);
            try market.lock{value: c}(n) {
                totalIn += c;
            } catch {}
        } else if (action == 2) {
            vm.warp(block.timestamp + bound(r >> 32, 1, 900));
        } else if (action == 3) {
            try market.onProven(n, who) {} catch {}
        } else if (action == 4) {
            try market.reclaim(n) {} catch {}
        } else {
            uint256 before = who.balance;
            vm.prank(who);
            try market.withdraw() {
                totalOut += who.balance - before;
            } catch {}
        }
    }

    function testFuzz_accounting_balanceEqualsOwedPlusHeldPlusBurned(uint256 seed) public {
        for (uint256 i = 0; i < 40; i++) {
            step(uint256(keccak256(abi.encode(seed, i))));
            assertEq(address(market).balance, held(), "balance = owed + open jobs + burned");
            assertEq(totalIn, totalOut + address(market).balance, "in = out + held");
        }
        // Settle everything: past every deadline, reclaim what is open, everyone withdraws.
        vm.warp(block.timestamp + JOB_TIMEOUT + 1);
        for (uint64 n = 1; n <= NUMBERS; n++) {
            if (market.job(n).status == ProverMarket.JobStatus.Open) market.reclaim(n);
        }
        for (uint256 i = 0; i < actors.length; i++) {
            if (market.owed(actors[i]) == 0) continue;
            totalOut += pullAs(actors[i]);
        }
        assertEq(address(market).balance, market.totalBurned(), "only the burned part stays");
        assertEq(totalIn, totalOut + market.totalBurned(), "money in = money out + burned");
    }
}
