// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ZkProofFixture} from "./ZkProof.t.sol";
import {StakingFixture} from "./utils/StakingFixture.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";
import {MarketParams} from "./ProverMarket.t.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {ZkLane} from "../src/rollup/ZkLane.sol";
import {ProverMarket} from "../src/ProverMarket.sol";
import {IProverMarket} from "../src/interfaces/IProverMarket.sol";
import {console} from "./utils/Vm.sol";

/// @dev Exposes the fraud-proof revert hook on a rollup with a market (as in RevertHook.t.sol).
contract MarketRollupHarness is TandemRollup {
    constructor(address o, address s, bytes32 g, uint64 w, address v, uint32 slots, address m, address x)
        TandemRollup(o, s, g, w, v, slots, 1 hours + w + 1 days, m, x, 1 hours, address(0), address(0))
    {}

    function revertBatchesAfter(StoredBatch memory lastKept) external {
        _revertBatchesAfter(lastKept);
    }
}

/// @notice The market on a real rollup with real proofs: the generated S2_D4 verifier and the
///         circuit's fixture proofs of one batch for two prover addresses (`fx.prover`,
///         `fx.otherProver`), as in ZkProof.t.sol. The sequencer commits the fixture batch in
///         lane 1 with an escrow (`commitBatch{value}`), provers lock and prove through
///         `proveBatch`, and the market pays the address each proof is bound to.
abstract contract MarketRollupFixture is ZkProofFixture, MarketParams {
    uint256 internal constant ESCROW = 1 ether;
    uint256 internal constant COLLATERAL = 0.5 ether;

    function setUp() public virtual override {
        super.setUp();
        deployMarketRollup(fx.prevRoot);
    }

    /// @dev Market first, bound to the rollup's predicted address (this contract's next CREATE
    ///      after the market), then the rollup with the market; then the fixture's deposit.
    function deployMarketRollup(bytes32 genesis) internal {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        market = newMarket(predicted);
        rollup = new TandemRollup(
            OWNER, SEQUENCER, genesis, WINDOW, address(verifier), fx.slots, ADMIN_DELAY, address(market), exitVerifier, PRIORITY_DEADLINE, address(0)
        , address(0));
        assertEq(address(rollup), predicted, "predicted address");
        depositFixture();
    }

    /// @dev Commits the fixture batch (lane 1) as the next batch with `value` escrowed.
    function commitFixtureWithEscrow(uint256 value) internal returns (TandemRollup.StoredBatch memory sb) {
        TandemRollup.BatchHeader memory h = fixtureHeader();
        vm.deal(SEQUENCER, SEQUENCER.balance + value);
        vm.prank(SEQUENCER);
        rollup.commitBatch{value: value}(h, fx.publicData);
        sb = TandemRollup.StoredBatch({
            batchNumber: h.batchNumber,
            lane: h.lane,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: rollup.priorityHead(),
            withdrawalCount: 0,
            headerHash: keccak256(abi.encode(h)),
            newStateRoot: h.newStateRoot,
            withdrawalsRoot: bytes32(0)
        });
        assertEq(rollup.batchRecordHash(h.batchNumber), keccak256(abi.encode(sb)), "stored batch record");
    }
}

contract ProverMarketRollupTest is MarketRollupFixture {
    function test_commitWithValue_opensTheJob_rollupKeepsNone() public {
        uint256 rollupBefore = address(rollup).balance;
        vm.expectEmit(address(market));
        emit ProverMarket.JobOpened(1, 1, SEQUENCER, ESCROW / 10, ESCROW, uint64(block.timestamp + JOB_TIMEOUT));
        commitFixtureWithEscrow(ESCROW);
        assertEq(address(rollup).balance, rollupBefore, "the rollup keeps none of the escrow");
        assertEq(address(market).balance, ESCROW, "escrow in the market");
        ProverMarket.Job memory j = market.job(1);
        assertEq(j.funder, SEQUENCER, "funder = committer");
        assertEq(j.cap, ESCROW, "cap");
        assertEq(rollup.market(), address(market), "market");
    }

    function test_commitWithoutValue_opensNoJob_proofStillWorks() public {
        TandemRollup.StoredBatch memory zk = commitFixture();
        assertEq(uint256(market.job(1).status), uint256(ProverMarket.JobStatus.None), "no job");
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven without a job");
        rollup.finalizeBatch(zk);
        assertEq(market.owed(fx.prover), 0, "nothing paid");
    }

    function test_commitWithValue_refusedWithoutMarket() public {
        deployZkRollup(fx.prevRoot); // no market
        assertEq(rollup.market(), address(0), "no market");
        TandemRollup.BatchHeader memory h = fixtureHeader();
        vm.deal(SEQUENCER, 1 ether);
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NoMarket.selector));
        rollup.commitBatch{value: 1 ether}(h, fx.publicData);
        // Without value the same commit goes in, and a proof works without any market.
        commitFixture();
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven");
    }

    function test_constructor_refusesMarketWithoutCodeOrBoundElsewhere() public {
        vm.expectRevert(abi.encodeWithSelector(ZkLane.MarketHasNoCode.selector, address(0xBEEF)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0xBEEF), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        // `market` is bound to the rollup deployed in setUp, not to a new one.
        vm.expectRevert(abi.encodeWithSelector(ZkLane.MarketNotBound.selector, address(rollup)));
        new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(market), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
    }

    function test_onlyTheRollupOpensAndSettles() public {
        vm.deal(SEQUENCER, 1 ether);
        vm.prank(SEQUENCER);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NotRollup.selector, SEQUENCER));
        market.openJob{value: 1 ether}(1, SEQUENCER);
        commitFixtureWithEscrow(ESCROW);
        vm.prank(fx.prover);
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.NotRollup.selector, fx.prover));
        market.onProven(1, fx.prover);
    }

    function test_lock_otherProversRealProofRefused_lockersProofPaidLockedPrice() public {
        commitFixtureWithEscrow(ESCROW);
        vm.warp(block.timestamp + 30);
        uint256 lockedPrice = market.priceAt(1, uint64(block.timestamp));
        assertEq(lockedPrice, 0.1 ether + 0.45 ether, "half-way up the ramp");
        lockAs(fx.prover, 1);
        uint64 lockDeadline = uint64(block.timestamp + LOCK_TIMEOUT);

        // The other prover's genuine proof (bound to its own address) is refused by the rollup.
        vm.expectRevert(abi.encodeWithSelector(IProverMarket.LockedByAnotherProver.selector, 1, fx.prover, lockDeadline));
        prove(fx.otherProver, 1, fx.otherProof);
        assertFalse(rollup.isProven(1), "not proven");

        // The locker proves later, when the market price is the cap: it is paid the locked price.
        vm.warp(block.timestamp + 300);
        vm.expectEmit(address(market));
        emit ProverMarket.JobFulfilled(1, 1, fx.prover, lockedPrice, 0, ESCROW - lockedPrice);
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven");
        assertEq(market.owed(fx.prover), lockedPrice + COLLATERAL, "locked price + collateral back");
        assertEq(market.earned(fx.prover), lockedPrice, "earned");
        assertEq(market.owed(SEQUENCER), ESCROW - lockedPrice, "rest back to the funder");
        assertEq(pullAs(fx.prover), lockedPrice + COLLATERAL, "withdrawn");
        assertEq(pullAs(SEQUENCER), ESCROW - lockedPrice, "refund withdrawn");
        assertEq(address(market).balance, 0, "market empty");
    }

    function test_lockExpires_nextProverPaidPriceAndUnburnedCollateral() public {
        commitFixtureWithEscrow(ESCROW);
        uint256 t0 = block.timestamp;
        lockAs(fx.prover, 1); // at the floor, then never proves
        vm.warp(t0 + LOCK_TIMEOUT);
        uint256 burned = COLLATERAL * BURN_BPS / 10_000;
        vm.expectEmit(address(market));
        emit ProverMarket.LockSlashed(1, 1, fx.prover, COLLATERAL);
        vm.expectEmit(address(market));
        emit ProverMarket.JobFulfilled(1, 1, fx.otherProver, ESCROW, COLLATERAL - burned, 0);
        prove(fx.otherProver, 1, fx.otherProof);
        assertEq(market.owed(fx.otherProver), ESCROW + COLLATERAL - burned, "cap + unburned collateral");
        assertEq(market.earned(fx.otherProver), ESCROW + COLLATERAL - burned, "earned");
        assertEq(market.owed(fx.prover), 0, "locker lost its collateral");
        assertEq(market.totalBurned(), burned, "burned exactly burnBps of the collateral");
        assertEq(pullAs(fx.otherProver), ESCROW + COLLATERAL - burned, "withdrawn");
        assertEq(address(market).balance, burned, "only the burned part stays");
    }

    function test_lateProofAfterDeadline_acceptedPaysNothing_funderRefunded() public {
        TandemRollup.StoredBatch memory zk = commitFixtureWithEscrow(ESCROW);
        vm.warp(block.timestamp + JOB_TIMEOUT + 1);
        vm.expectEmit(address(market));
        emit ProverMarket.JobFulfilled(1, 1, fx.otherProver, 0, 0, ESCROW);
        prove(fx.otherProver, 1, fx.otherProof);
        assertTrue(rollup.isProven(1), "the rollup accepts the late proof");
        rollup.finalizeBatch(zk);
        assertEq(market.owed(fx.otherProver), 0, "price 0");
        assertEq(market.owed(SEQUENCER), ESCROW, "full refund");
    }

    function test_reclaimThenProof_proofAcceptedPaysNothing() public {
        commitFixtureWithEscrow(ESCROW);
        uint256 t0 = block.timestamp;
        vm.expectRevert(abi.encodeWithSelector(ProverMarket.JobNotExpired.selector, 1, uint64(t0 + JOB_TIMEOUT)));
        market.reclaim(1);
        vm.warp(t0 + JOB_TIMEOUT + 1);
        market.reclaim(1);
        assertEq(market.owed(SEQUENCER), ESCROW, "escrow back");
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven");
        assertEq(market.owed(fx.prover), 0, "nothing to earn");
    }

    /// @dev proveOptimisticBatch settles the market job of an optimistic batch the same way.
    function test_proveOptimisticBatch_settlesTheJob() public {
        TandemRollup.BatchHeader memory h = fixtureHeader();
        h.lane = 0;
        vm.deal(SEQUENCER, ESCROW);
        vm.prank(SEQUENCER);
        rollup.commitBatch{value: ESCROW}(h, fx.publicData);
        TandemRollup.StoredBatch memory sb = TandemRollup.StoredBatch({
            batchNumber: 1,
            lane: 0,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: 1,
            withdrawalCount: 0,
            headerHash: keccak256(abi.encode(h)),
            newStateRoot: h.newStateRoot,
            withdrawalsRoot: bytes32(0)
        });
        lockAs(fx.otherProver, 1);
        vm.prank(fx.prover);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProverMarket.LockedByAnotherProver.selector, 1, fx.otherProver, uint64(block.timestamp + LOCK_TIMEOUT)
            )
        );
        rollup.proveOptimisticBatch{gas: 2_000_000}(sb, h, fx.publicData, fx.proof);
        vm.prank(fx.otherProver);
        rollup.proveOptimisticBatch{gas: 2_000_000}(sb, h, fx.publicData, fx.otherProof);
        assertEq(market.owed(fx.otherProver), ESCROW / 10 + COLLATERAL, "floor price + collateral");
        assertEq(uint256(market.job(1).status), uint256(ProverMarket.JobStatus.Fulfilled), "fulfilled");
    }
}

/// @notice A batch number committed again after a revert (`_revertBatchesAfter`) opens a new
///         job: the old one is cancelled, its funder refunded and its active locker's
///         collateral returned (the revert is not the locker's fault).
contract ProverMarketRevertTest is MarketRollupFixture {
    MarketRollupHarness internal harness;

    function setUp() public override {
        super.setUp();
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        market = newMarket(predicted);
        harness = new MarketRollupHarness(
            OWNER, SEQUENCER, fx.prevRoot, WINDOW, address(verifier), fx.slots, address(market), exitVerifier
        );
        rollup = harness;
        depositFixture();
    }

    function test_reopenedAfterRevert_oldFunderRefunded_oldLockerCollateralReturned() public {
        commitFixtureWithEscrow(ESCROW);
        lockAs(fx.otherProver, 1);
        TandemRollup.StoredBatch memory genesis =
            TandemRollup.StoredBatch(0, 0, uint64(block.timestamp), 0, 0, 0, fx.prevRoot, 0);
        harness.revertBatchesAfter(genesis);
        assertEq(rollup.lastCommittedBatch(), 0, "reverted");

        vm.warp(block.timestamp + 5);
        vm.expectEmit(address(market));
        emit ProverMarket.JobCancelled(1, 1, ESCROW, COLLATERAL, 0);
        commitFixtureWithEscrow(2 ether);
        assertEq(market.owed(SEQUENCER), ESCROW, "old escrow back");
        assertEq(market.owed(fx.otherProver), COLLATERAL, "old locker's collateral back");
        ProverMarket.Job memory j = market.job(1);
        assertEq(j.jobId, 2, "a new job");
        assertEq(j.locker, address(0), "no lock on the new job");
        // The old locker's lock is gone: the other prover's proof is accepted at once.
        prove(fx.prover, 1, fx.proof);
        assertEq(market.owed(fx.prover), 0.2 ether, "floor of the new job");
        assertEq(market.owed(SEQUENCER), ESCROW + 1.8 ether, "both refunds");
        assertEq(address(market).balance, ESCROW + 2 ether + COLLATERAL, "all still owed");
    }
}

/// @notice Gas of the market steps on a real rollup (`./test.sh -vv --match-contract
///         MarketGas`): execution gas of each measured call, storage cold (`vm.cool`) as in a
///         fresh L1 transaction. Steady state: an optimistic batch 1 (ending at the fixture's
///         prevRoot) was committed with an escrow first, so the job counter is not new; the
///         fixture batch is batch 2. The prover and the funder are paid for the first time
///         (their account slots are new: 22.1k each; a repeat prover's slot costs 5k).
contract MarketGasTest is MarketRollupFixture {
    function setUp() public override {
        super.setUp();
        deployMarketRollup(keccak256("another genesis"));
        bytes memory data = opTransfer(1, 2, 0, 1, 0);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.newStateRoot = fx.prevRoot;
        vm.deal(SEQUENCER, 20 ether);
        vm.prank(SEQUENCER);
        rollup.commitBatch{value: 1 ether}(h, data);
        vm.deal(fx.prover, 10 ether);
    }

    function cool() internal {
        vm.cool(address(rollup));
        vm.cool(address(market));
        vm.cool(address(verifier));
    }

    function measureCommit(uint256 value) internal returns (uint256 used) {
        TandemRollup.BatchHeader memory h = fixtureHeader();
        bytes memory data = fx.publicData;
        cool();
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        rollup.commitBatch{value: value}(h, data);
        used = g - gasleft();
    }

    function test_gas_commitBatch_withAndWithoutJob() public {
        uint256 snap = vm.snapshotState();
        uint256 plain = measureCommit(0);
        vm.revertToState(snap);
        uint256 withJob = measureCommit(ESCROW);
        assertEq(market.job(2).cap, ESCROW, "job opened");
        console.log("commitBatch (ZK fixture batch) exec gas, no job", plain);
        console.log("commitBatch with escrow (opens the job) exec gas", withJob);
        console.log("  openJob through the commit", withJob - plain);
        assertLe(withJob - plain, 72_100, "openJob gas regressed"); // today 69,989
    }

    function test_gas_lock() public {
        commitFixtureWithEscrow(ESCROW);
        vm.warp(block.timestamp + 10);
        cool();
        vm.prank(fx.prover);
        uint256 g = gasleft();
        market.lock{value: COLLATERAL}(2);
        uint256 used = g - gasleft();
        console.log("lock exec gas", used);
        assertEq(market.job(2).locker, fx.prover, "locked");
        assertLe(used, 40_400, "lock gas regressed"); // today 39,200
    }

    function proveMeasured() internal returns (uint256 used) {
        bytes32 prevRoot = fx.prevRoot;
        bytes32 newRoot = fx.newRoot;
        bytes32 dataHash = fx.dataHash;
        uint256[8] memory proof = fx.proof;
        cool();
        vm.prank(fx.prover);
        uint256 g = gasleft();
        rollup.proveBatch(2, prevRoot, newRoot, dataHash, proof);
        used = g - gasleft();
    }

    function test_gas_proveBatch_withJobSettlement() public {
        uint256 snap = vm.snapshotState();
        commitFixture();
        uint256 plain = proveMeasured();
        vm.revertToState(snap);
        commitFixtureWithEscrow(ESCROW);
        lockAs(fx.prover, 2);
        vm.warp(block.timestamp + 100);
        uint256 settled = proveMeasured();
        assertEq(market.earned(fx.prover), ESCROW / 10, "paid the locked price");
        console.log("proveBatch exec gas, no job", plain);
        console.log("proveBatch + onProven (locker, first payout) exec gas", settled);
        console.log("  onProven through the proof", settled - plain);
        assertLe(settled - plain, 57_300, "settlement gas regressed"); // today 55,581
    }

    function test_gas_withdraw() public {
        commitFixtureWithEscrow(ESCROW);
        prove(fx.prover, 2, fx.proof);
        cool();
        vm.prank(fx.prover);
        uint256 g = gasleft();
        market.withdraw();
        uint256 used = g - gasleft();
        console.log("withdraw exec gas", used);
        assertEq(market.owed(fx.prover), 0, "paid");
        assertLe(used, 15_400, "withdraw gas regressed"); // today 14,870
    }
}

/// @notice Staked mode: `commitBatchSigned` with value opens the job, refundable to whoever
///         submitted the signed commit; without a market the value is refused.
contract StakedMarketTest is StakingFixture, MarketParams {
    address internal constant SUBMITTER = address(0x5B);

    function setUp() public override {
        super.setUp(); // staked rollup without a market
        doStake(1, 100 ether);
        doStake(2, 100 ether);
        doStake(3, 100 ether);
        nextEpoch();
    }

    /// @dev Staking, market, rollup: both bound to the rollup's predicted address (nonce + 2).
    function deployWithMarket() internal {
        address next = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
        staking = new SequencerStaking(next, params(5, 8));
        market = newMarket(next);
        staked = new StakedRollup(OWNER, staking, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(market), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        rollup = staked;
        assertEq(address(staked), next, "predicted");
        doStake(1, 100 ether);
        doStake(2, 100 ether);
        doStake(3, 100 ether);
        nextEpoch();
    }

    function signedCommitWithValue(uint256 value, bytes memory err) internal {
        bytes memory data = opNoop();
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes[] memory sigs = signSorted(range(1, 3), digestOf(h));
        vm.deal(SUBMITTER, value);
        vm.prank(SUBMITTER);
        if (err.length != 0) vm.expectRevert(err);
        staked.commitBatchSigned{value: value}(h, data, sigs);
    }

    function test_commitBatchSigned_withValue_refusedWithoutMarket() public {
        signedCommitWithValue(1 ether, abi.encodeWithSelector(TandemRollup.NoMarket.selector));
        signedCommitWithValue(0, ""); // the same commit without value goes in
        assertEq(rollup.lastCommittedBatch(), 1, "committed");
    }

    function test_commitBatchSigned_withValue_opensTheJobForTheSubmitter() public {
        deployWithMarket();
        vm.expectEmit(address(market));
        emit ProverMarket.JobOpened(1, 1, SUBMITTER, 0.1 ether, 1 ether, uint64(block.timestamp + JOB_TIMEOUT));
        signedCommitWithValue(1 ether, "");
        assertEq(market.job(1).funder, SUBMITTER, "funder");
        assertEq(address(market).balance, 1 ether, "escrow");
    }

    function test_stakedRollup_refusesUnboundMarket_andStaysUnderTheSizeLimit() public {
        ProverMarket unbound = newMarket(address(0xDEAD));
        address next = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        SequencerStaking s = new SequencerStaking(next, params(5, 8));
        vm.expectRevert(abi.encodeWithSelector(ZkLane.MarketNotBound.selector, address(0xDEAD)));
        new StakedRollup(OWNER, s, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(unbound), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        assertLt(address(staked).code.length, 24_577, "EIP-170 limit");
    }
}
