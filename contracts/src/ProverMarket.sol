// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IProverMarket} from "./interfaces/IProverMarket.sol";

/// @title ProverMarket
/// @notice The prover market ("proof mining", DESIGN §4, SPEC §15): a reverse Dutch auction for
///         proofs of committed batches. The poster of a batch escrows ETH with the commit
///         (`TandemRollup.commitBatch{value}` → `openJob`); the price a proof earns rises from
///         `floor` to `cap` (= the escrow) over `rampUp` seconds; a prover may `lock` the job
///         with collateral for an exclusive window at the price of the moment; a lock that
///         expires unproven loses its collateral (part burned, the rest to whoever proves the
///         job next, or to the funder); unspent escrow returns to the funder. The rollup calls
///         `onProven` in the same transaction as every accepted proof, so a proof is paid to
///         the address it is bound to. No owner, no parameter changes, no minting: the market
///         only moves ETH it was sent.
/// @dev One job per batch number at a time; `jobId` (incrementing) tells apart a number reused
///      after a revert (the rollup re-commits it and `openJob` cancels the old job first).
///      Payouts are pull-only (`owed`, `withdraw`).
///      Invariant (fuzzed in `test/ProverMarket.t.sol`): `address(this).balance` = Σ owed +
///      Σ over Open jobs (cap + collateral of its lock, if any + slashedPool) + totalBurned
///      (plus ETH force-sent without a call, e.g. by selfdestruct, which nobody can take out).
///      So money in (escrows + collaterals) = money out (withdrawals) + totalBurned + what is
///      still held. A lock's collateral is held exactly while the job is Open and has a locker
///      (returned, slashed into the pool, or replaced when the next lock slashes it).
///      Time: a lock is active while `block.timestamp < lockDeadline`; a job pays its price
///      while `block.timestamp <= deadline` and is reclaimable after it. `lockDeadline <=
///      deadline`, so an active lock never outlives the job: a lock delays another prover's
///      proof at most until the job's deadline, the only influence the market has on the
///      rollup. No loops.
///      Storage per job: 3 slots (funder|openedAt|jobId|status, cap|slashedPool,
///      locker|lockedAt); `deadline`, `floor`, the collateral, `lockDeadline` and `lockedPrice`
///      are derived from those and the immutables.
contract ProverMarket is IProverMarket {
    /// @notice Life of a job: None (never opened) → Open → Fulfilled (proven) | Reclaimed
    ///         (deadline passed, escrow back) | Cancelled (its batch number was committed again).
    enum JobStatus {
        None,
        Open,
        Fulfilled,
        Reclaimed,
        Cancelled
    }

    /// @notice A job as `job()` shows it.
    struct Job {
        /// Incrementing id (from 1), distinct for every job ever opened.
        uint64 jobId;
        /// Who escrowed `cap` (the committer) and gets the unspent part back.
        address funder;
        uint64 openedAt;
        /// openedAt + jobTimeout: the last second a proof earns its price.
        uint64 deadline;
        /// cap * floorBps / 10000: the price at openedAt.
        uint256 floor;
        /// The escrow: the price from openedAt + rampUp on.
        uint256 cap;
        /// The last prover that locked the job (address(0): never locked).
        address locker;
        /// min(lock time + lockTimeout, deadline): the lock is active while now < lockDeadline.
        uint64 lockDeadline;
        /// The price fixed by the lock (paid if the locker proves while the lock is active).
        uint256 lockedPrice;
        /// Collateral the market holds for the lock (0 when there is none or once returned or slashed).
        uint256 collateral;
        /// Slashed collateral of expired locks: held while Open, split at settlement.
        uint256 slashedPool;
        JobStatus status;
    }

    /// @dev Stored job: 3 slots.
    struct JobRecord {
        address funder;
        uint48 openedAt;
        uint40 jobId;
        JobStatus status;
        uint128 cap;
        uint128 slashedPool;
        address locker;
        uint48 lockedAt;
    }

    /// @dev Per address, one slot: what it may withdraw and what it earned as a prover.
    struct Account {
        uint128 owed;
        uint128 earned;
    }

    uint256 private constant BPS = 10_000;

    /// @notice The rollup this market serves (fixed; deployed with its predicted address).
    address public immutable rollup;
    /// @notice Price at the job's opening, in basis points of its cap (<= 10000).
    uint16 public immutable floorBps;
    /// @notice Seconds from opening until the price reaches the cap (> 0).
    uint64 public immutable rampUp;
    /// @notice Longest lock in seconds (0 < lockTimeout <= jobTimeout).
    uint64 public immutable lockTimeout;
    /// @notice Seconds from opening until the job's deadline.
    uint64 public immutable jobTimeout;
    /// @notice Lock collateral in basis points of the cap (> 0; at least 1 wei is required).
    uint16 public immutable collateralBps;
    /// @notice Share of slashed collateral burned (kept here forever), in basis points (<= 10000).
    uint16 public immutable burnBps;

    /// @notice Wei burned so far: slashed collateral kept in this contract for good.
    uint256 public totalBurned;
    uint40 private _lastJobId;
    bool private transient _entered;
    mapping(uint64 batchNumber => JobRecord) private _jobs;
    mapping(address account => Account) private _accounts;

    /// @notice Job `jobId` for batch `batchNumber` opened with escrow `cap`, refundable to `funder`.
    event JobOpened(
        uint64 indexed batchNumber, uint64 indexed jobId, address indexed funder, uint256 floor, uint256 cap, uint64 deadline
    );
    /// @notice `prover` locked the job at `price`, posting `collateral`, until `lockDeadline` (exclusive).
    event JobLocked(
        uint64 indexed batchNumber,
        uint64 indexed jobId,
        address indexed prover,
        uint256 price,
        uint256 collateral,
        uint64 lockDeadline
    );
    /// @notice `prover`'s lock expired unproven: its `collateral` went into the job's slashed pool.
    event LockSlashed(uint64 indexed batchNumber, uint64 indexed jobId, address indexed prover, uint256 collateral);
    /// @notice The job was proven by `prover`: it earned `price` + `collateralReward` (its share
    ///         of the slashed pool); `refund` went back to the funder.
    event JobFulfilled(
        uint64 indexed batchNumber,
        uint64 indexed jobId,
        address indexed prover,
        uint256 price,
        uint256 collateralReward,
        uint256 refund
    );
    /// @notice The job expired unproven: the funder got `refund` (escrow + unburned pool); `burned` was burned.
    event JobReclaimed(uint64 indexed batchNumber, uint64 indexed jobId, uint256 refund, uint256 burned);
    /// @notice The job's batch number was committed again (after a revert): the funder got
    ///         `refund` (escrow + unburned pool), an active locker `collateralReturned`; `burned` was burned.
    event JobCancelled(
        uint64 indexed batchNumber, uint64 indexed jobId, uint256 refund, uint256 collateralReturned, uint256 burned
    );
    /// @notice `to` withdrew `amount`.
    event Withdrawn(address indexed to, uint256 amount);

    /// @notice The rollup address is zero.
    error ZeroRollup();
    /// @notice floorBps above 10000.
    error InvalidFloorBps(uint16 floorBps);
    /// @notice rampUp is zero.
    error ZeroRampUp();
    /// @notice Needs 0 < lockTimeout <= jobTimeout.
    error InvalidLockTimeout(uint64 lockTimeout, uint64 jobTimeout);
    /// @notice collateralBps is zero.
    error ZeroCollateralBps();
    /// @notice burnBps above 10000.
    error InvalidBurnBps(uint16 burnBps);
    /// @notice Only the rollup may call this; `caller` did.
    error NotRollup(address caller);
    /// @notice A job needs a non-zero escrow.
    error ZeroEscrow();
    /// @notice An escrow of 2^128 wei or more (more than all ETH).
    error EscrowTooLarge(uint256 escrow);
    /// @notice Batch `batchNumber` has no open job.
    error NoJob(uint64 batchNumber);
    /// @notice The job's deadline `deadline` has come: it can no longer be locked.
    error JobExpired(uint64 batchNumber, uint64 deadline);
    /// @notice `locker` holds the job's lock until `lockDeadline` (exclusive).
    error JobAlreadyLocked(uint64 batchNumber, address locker, uint64 lockDeadline);
    /// @notice A lock needs exactly `required` wei of collateral; `sent` were sent.
    error WrongCollateral(uint256 sent, uint256 required);
    /// @notice The job can be reclaimed only after its deadline `deadline`.
    error JobNotExpired(uint64 batchNumber, uint64 deadline);
    /// @notice The caller is owed nothing.
    error NothingOwed();
    /// @notice Sending `amount` to `to` failed (its owed amount is kept).
    error TransferFailed(address to, uint256 amount);
    /// @notice A guarded function was re-entered (from a payout).
    error Reentrancy();

    /// @dev Anyone-callable functions that move money (lock, reclaim, withdraw) cannot be
    ///      re-entered from a payout. The rollup-only hooks are not guarded: they make no
    ///      external call, and a proof must never be refused by the guard.
    modifier nonReentrant() {
        if (_entered) revert Reentrancy();
        _entered = true;
        _;
        _entered = false;
    }

    modifier onlyRollup() {
        if (msg.sender != rollup) revert NotRollup(msg.sender);
        _;
    }

    /// @param rollup_ The rollup (its predicted address: the rollup is deployed after the market
    ///        and checks `rollup() == address(this)`).
    /// @param floorBps_ Price at opening in basis points of the cap (<= 10000).
    /// @param rampUp_ Seconds until the price reaches the cap (> 0).
    /// @param lockTimeout_ Longest lock (0 < lockTimeout_ <= jobTimeout_).
    /// @param jobTimeout_ Seconds from opening to the job's deadline.
    /// @param collateralBps_ Lock collateral in basis points of the cap (> 0).
    /// @param burnBps_ Share of slashed collateral burned (<= 10000).
    constructor(
        address rollup_,
        uint16 floorBps_,
        uint64 rampUp_,
        uint64 lockTimeout_,
        uint64 jobTimeout_,
        uint16 collateralBps_,
        uint16 burnBps_
    ) {
        if (rollup_ == address(0)) revert ZeroRollup();
        if (floorBps_ > BPS) revert InvalidFloorBps(floorBps_);
        if (rampUp_ == 0) revert ZeroRampUp();
        if (lockTimeout_ == 0 || lockTimeout_ > jobTimeout_) revert InvalidLockTimeout(lockTimeout_, jobTimeout_);
        if (collateralBps_ == 0) revert ZeroCollateralBps();
        if (burnBps_ > BPS) revert InvalidBurnBps(burnBps_);
        rollup = rollup_;
        floorBps = floorBps_;
        rampUp = rampUp_;
        lockTimeout = lockTimeout_;
        jobTimeout = jobTimeout_;
        collateralBps = collateralBps_;
        burnBps = burnBps_;
    }

    // ---------------------------------------------------------------------------------------
    // Rollup hooks
    // ---------------------------------------------------------------------------------------

    /// @notice Opens the job for batch `batchNumber`: escrow and cap `msg.value` (> 0),
    ///         refundable to `funder`, deadline now + jobTimeout. Rollup only (at commit).
    /// @dev An open job for the same number (the batch was reverted and the number committed
    ///      again) is cancelled first: its funder gets the escrow back plus the unburned part of
    ///      its slashed pool, an active locker its collateral (an expired lock is slashed);
    ///      JobCancelled. Emits JobOpened.
    function openJob(uint64 batchNumber, address funder) external payable onlyRollup {
        if (msg.value == 0) revert ZeroEscrow();
        if (msg.value > type(uint128).max) revert EscrowTooLarge(msg.value);
        JobRecord storage r = _jobs[batchNumber];
        JobStatus prev = r.status;
        if (prev == JobStatus.Open) {
            (uint256 refund, uint256 returned, uint256 burned) = _close(r, batchNumber);
            emit JobCancelled(batchNumber, r.jobId, refund, returned, burned);
        }
        uint40 jobId = ++_lastJobId;
        uint48 openedAt = uint48(block.timestamp);
        if (prev == JobStatus.None) {
            r.funder = funder;
            r.openedAt = openedAt;
            r.jobId = jobId;
            r.status = JobStatus.Open;
            r.cap = uint128(msg.value);
        } else {
            _jobs[batchNumber] = JobRecord({
                funder: funder,
                openedAt: openedAt,
                jobId: jobId,
                status: JobStatus.Open,
                cap: uint128(msg.value),
                slashedPool: 0,
                locker: address(0),
                lockedAt: 0
            });
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        emit JobOpened(batchNumber, jobId, funder, _floor(msg.value), msg.value, uint64(_deadline(openedAt)));
    }

    /// @notice Settles batch `batchNumber`'s job for `prover`, whose proof of it the rollup has
    ///         just verified. Rollup only. Without an open job: returns (never reverts then).
    /// @dev While another prover's lock is active: reverts `IProverMarket.LockedByAnotherProver` (the rollup
    ///      then refuses the proof). Price: the lock's price when `prover` holds the active
    ///      lock (its collateral comes back); otherwise an expired lock is slashed first and the
    ///      price is priceAt(now) up to the deadline, 0 after it. The slashed pool goes
    ///      burnBps to the burn, the rest to `prover`; cap − price back to the funder.
    ///      Emits JobFulfilled.
    function onProven(uint64 batchNumber, address prover) external onlyRollup {
        JobRecord storage r = _jobs[batchNumber];
        if (r.status != JobStatus.Open) return;
        uint40 jobId = r.jobId;
        uint256 openedAt = r.openedAt;
        uint256 cap = r.cap;
        uint256 pool = r.slashedPool;
        address locker = r.locker;
        uint256 price;
        bool ownLock;
        if (locker != address(0)) {
            uint256 lockDeadline = _lockDeadline(openedAt, r.lockedAt);
            if (block.timestamp < lockDeadline) {
                // forge-lint: disable-next-line(unsafe-typecast)
                if (locker != prover) revert IProverMarket.LockedByAnotherProver(batchNumber, locker, uint64(lockDeadline));
                price = _price(cap, openedAt, r.lockedAt);
                ownLock = true;
            } else {
                pool += _slash(batchNumber, jobId, locker, cap);
            }
        }
        if (!ownLock) price = block.timestamp <= _deadline(openedAt) ? _price(cap, openedAt, block.timestamp) : 0;
        uint256 reward = _splitPool(pool);
        r.status = JobStatus.Fulfilled;
        r.slashedPool = SafeCast.toUint128(pool);
        _creditProver(prover, price + reward, ownLock ? _collateral(cap) : 0);
        uint256 refund = cap - price;
        if (refund != 0) _accounts[r.funder].owed += SafeCast.toUint128(refund);
        emit JobFulfilled(batchNumber, jobId, prover, price, reward, refund);
    }

    // ---------------------------------------------------------------------------------------
    // Provers and funders
    // ---------------------------------------------------------------------------------------

    /// @notice Locks batch `batchNumber`'s open job for `msg.sender` at the current price, with
    ///         exactly `requiredCollateral` wei, until min(now + lockTimeout, deadline).
    /// @dev Refused: no open job (`NoJob`), at or after the deadline (`JobExpired`), while a
    ///      lock is active (`JobAlreadyLocked`), other than the exact collateral
    ///      (`WrongCollateral`). An expired previous lock is slashed into the pool first
    ///      (LockSlashed). Emits JobLocked.
    function lock(uint64 batchNumber) external payable nonReentrant {
        JobRecord storage r = _jobs[batchNumber];
        if (r.status != JobStatus.Open) revert NoJob(batchNumber);
        uint256 openedAt = r.openedAt;
        uint256 deadline = _deadline(openedAt);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (block.timestamp >= deadline) revert JobExpired(batchNumber, uint64(deadline));
        address previous = r.locker;
        uint256 cap = r.cap;
        uint256 required = _collateral(cap);
        if (previous != address(0)) {
            uint256 previousDeadline = _lockDeadline(openedAt, r.lockedAt);
            if (block.timestamp < previousDeadline) {
                // forge-lint: disable-next-line(unsafe-typecast)
                revert JobAlreadyLocked(batchNumber, previous, uint64(previousDeadline));
            }
        }
        if (msg.value != required) revert WrongCollateral(msg.value, required);
        uint40 jobId = r.jobId;
        if (previous != address(0)) r.slashedPool += SafeCast.toUint128(_slash(batchNumber, jobId, previous, cap));
        r.locker = msg.sender;
        r.lockedAt = uint48(block.timestamp);
        uint256 lockDeadline = _lockDeadline(openedAt, block.timestamp);
        // forge-lint: disable-next-line(unsafe-typecast)
        emit JobLocked(batchNumber, jobId, msg.sender, _price(cap, openedAt, block.timestamp), required, uint64(lockDeadline));
    }

    /// @notice After the deadline of batch `batchNumber`'s open job: gives the funder its whole
    ///         escrow back plus the unburned part of the slashed pool (an expired lock is
    ///         slashed first). Anyone may call. Later proofs of the batch earn nothing.
    /// @dev Refused: no open job (`NoJob`), at or before the deadline (`JobNotExpired`; an
    ///      active lock ends by the deadline, so none is active here). Emits JobReclaimed.
    function reclaim(uint64 batchNumber) external nonReentrant {
        JobRecord storage r = _jobs[batchNumber];
        if (r.status != JobStatus.Open) revert NoJob(batchNumber);
        uint256 deadline = _deadline(r.openedAt);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (block.timestamp <= deadline) revert JobNotExpired(batchNumber, uint64(deadline));
        (uint256 refund,, uint256 burned) = _close(r, batchNumber);
        r.status = JobStatus.Reclaimed;
        emit JobReclaimed(batchNumber, r.jobId, refund, burned);
    }

    /// @notice Pays `msg.sender` everything it is owed.
    /// @dev Checks-effects-interactions and the reentrancy guard: the balance is zeroed before
    ///      the transfer; a failed transfer reverts the whole call (`TransferFailed`).
    function withdraw() external nonReentrant {
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.owed;
        if (amount == 0) revert NothingOwed();
        a.owed = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice Price of batch `batchNumber`'s open job at `timestamp`:
    ///         floor + (cap − floor) · min(timestamp − openedAt, rampUp) / rampUp (floor before
    ///         openedAt). Reverts `NoJob` without an open job.
    function priceAt(uint64 batchNumber, uint64 timestamp) external view returns (uint256) {
        JobRecord storage r = _jobs[batchNumber];
        if (r.status != JobStatus.Open) revert NoJob(batchNumber);
        return _price(r.cap, r.openedAt, timestamp);
    }

    /// @notice Collateral a lock of batch `batchNumber`'s open job needs: max(1, cap · collateralBps / 10000).
    ///         Reverts `NoJob` without an open job.
    function requiredCollateral(uint64 batchNumber) external view returns (uint256) {
        JobRecord storage r = _jobs[batchNumber];
        if (r.status != JobStatus.Open) revert NoJob(batchNumber);
        return _collateral(r.cap);
    }

    /// @notice The current (or last) job of batch `batchNumber`; status None if there never was one.
    function job(uint64 batchNumber) external view returns (Job memory j) {
        JobRecord storage r = _jobs[batchNumber];
        j.jobId = r.jobId;
        j.funder = r.funder;
        j.status = r.status;
        if (j.status == JobStatus.None) return j;
        uint256 openedAt = r.openedAt;
        j.openedAt = uint64(openedAt);
        // forge-lint: disable-next-line(unsafe-typecast)
        j.deadline = uint64(_deadline(openedAt));
        j.cap = r.cap;
        j.floor = _floor(j.cap);
        j.slashedPool = r.slashedPool;
        j.locker = r.locker;
        if (j.locker != address(0)) {
            // forge-lint: disable-next-line(unsafe-typecast)
            j.lockDeadline = uint64(_lockDeadline(openedAt, r.lockedAt));
            j.lockedPrice = _price(j.cap, openedAt, r.lockedAt);
            if (j.status == JobStatus.Open) j.collateral = _collateral(j.cap);
        }
    }

    /// @notice Wei `account` may withdraw now.
    function owed(address account) external view returns (uint256) {
        return _accounts[account].owed;
    }

    /// @notice Wei `account` earned as a prover so far (prices + slashed-collateral rewards; not
    ///         its own collateral coming back). Never decreases.
    function earned(address account) external view returns (uint256) {
        return _accounts[account].earned;
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    /// @dev Closes open job `r` without a proof (reclaim or cancel): an active lock's collateral
    ///      goes back to its locker, an expired one is slashed; the pool splits into the burn and
    ///      the funder's refund (with the whole escrow). The caller sets the status.
    function _close(JobRecord storage r, uint64 batchNumber)
        private
        returns (uint256 refund, uint256 returned, uint256 burned)
    {
        uint256 cap = r.cap;
        uint256 pool = r.slashedPool;
        address locker = r.locker;
        if (locker != address(0)) {
            if (block.timestamp < _lockDeadline(r.openedAt, r.lockedAt)) {
                returned = _collateral(cap);
                _accounts[locker].owed += SafeCast.toUint128(returned);
            } else {
                pool += _slash(batchNumber, r.jobId, locker, cap);
            }
        }
        uint256 rest = _splitPool(pool);
        burned = pool - rest;
        refund = cap + rest;
        r.slashedPool = SafeCast.toUint128(pool);
        _accounts[r.funder].owed += SafeCast.toUint128(refund);
    }

    /// @dev Burns burnBps of a slashed `pool` (counted in totalBurned) and returns the rest.
    function _splitPool(uint256 pool) private returns (uint256 rest) {
        uint256 burned = pool * burnBps / BPS;
        if (burned != 0) totalBurned += burned;
        rest = pool - burned;
    }

    /// @dev Credits a settling prover: `payout` (price + pool share, earned) and its own
    ///      `collateral` back (not earned). Nothing to write when both are 0 (a late proof).
    function _creditProver(address prover, uint256 payout, uint256 collateral) private {
        uint256 credit = payout + collateral;
        if (credit == 0) return;
        Account storage a = _accounts[prover];
        a.owed += SafeCast.toUint128(credit);
        a.earned += SafeCast.toUint128(payout);
    }

    /// @dev Emits LockSlashed for `locker`'s expired lock and returns its collateral (for the pool).
    function _slash(uint64 batchNumber, uint40 jobId, address locker, uint256 cap) private returns (uint256 c) {
        c = _collateral(cap);
        emit LockSlashed(batchNumber, jobId, locker, c);
    }

    function _price(uint256 cap, uint256 openedAt, uint256 timestamp) private view returns (uint256) {
        uint256 floor = _floor(cap);
        if (timestamp <= openedAt) return floor;
        uint256 elapsed = timestamp - openedAt;
        if (elapsed >= rampUp) return cap;
        return floor + (cap - floor) * elapsed / rampUp;
    }

    function _floor(uint256 cap) private view returns (uint256) {
        return cap * floorBps / BPS;
    }

    function _collateral(uint256 cap) private view returns (uint256) {
        uint256 c = cap * collateralBps / BPS;
        return c == 0 ? 1 : c;
    }

    function _deadline(uint256 openedAt) private view returns (uint256) {
        return openedAt + jobTimeout;
    }

    function _lockDeadline(uint256 openedAt, uint256 lockedAt) private view returns (uint256) {
        uint256 byLock = lockedAt + lockTimeout;
        uint256 deadline = openedAt + jobTimeout;
        return byLock < deadline ? byLock : deadline;
    }
}
