// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title SequencerStaking
/// @notice L1 side of Tandem's decentralized sequencer set (DESIGN §5): permissionless
///         staking of an ERC-20 with a registered secp256k1 signing key and network address,
///         an unbonding delay, per-epoch active sets (top N by stake, frozen for the epoch),
///         the >2/3-of-stake signature check on batch headers, slashing for batch double signs
///         and consensus double votes with evidence from anyone, the fraud-proof slashing hook,
///         and a per-epoch reward pool (funded by anyone, plus an optional per-batch emission
///         from a reserve that the rollup moves into the signing epoch's pool on every commit).
/// @dev Epoch rule (exact): epoch `e` covers L1 timestamps
///      `[genesisTime + e*epochLength, genesisTime + (e+1)*epochLength)`. The active set of
///      epoch `e` is computed from the stakes as they stand after every transaction whose block
///      timestamp is < the start of `e`: every function that changes stakes, the registry or
///      reads the set first materializes the current epoch's set if it is not stored yet
///      (`_sync`), so nothing done during epoch `e` can change `e`'s set or total stake.
///      An epoch in which nobody touched the contract has no stored set (no batch was signed in
///      it and no reward was funded for it). The set is the `maxActive` registered stakers
///      ranked by stake (descending), ties broken by the lower staker address first.
///      Invariants:
///      - registered (in `_registry`) <=> stake >= minStake <=> stake > 0; stake <= maxStake;
///      - token balance >= totalStaked + totalUnbonding + rewardsOutstanding + emissionReserve
///        (equality for a standard token: nothing else moves tokens in or out);
///      - rewardsOutstanding + emissionReserve < 2^128 (checked when funding), so moving emission
///        from the reserve to a pool never overflows and never reverts a commit;
///      - a signing key belongs to at most one staker, forever;
///      - no owner: the rollup is fixed at deployment and every parameter is immutable;
///      - materializing a set is bounded (MAX_SET_SIZE members from at most MAX_STAKERS
///        registered stakers; measured in BENCHMARKS.md, under 10 M gas), and only a change
///        that may alter the ranked set forces a new one: a change of at least `minStake` (or
///        a full exit) by a member, or by a staker that enters the set; a dust top-up cannot,
///        and neither can a staker outside a full set that stays outside.
contract SequencerStaking is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice Constructor parameters.
    struct Params {
        /// Token staked, slashed and paid as rewards (DevToken on devnets).
        IERC20 stakingToken;
        /// Receives the slashed stake not paid to the reporter (use 0x…dEaD to burn).
        address treasury;
        /// Minimum stake of a registered staker (> 0).
        uint96 minStake;
        /// Maximum stake of one staker.
        uint96 maxStake;
        /// Epoch length in L1 seconds (> 0).
        uint64 epochLength;
        /// Seconds between `unstake` and `withdraw` (>= epochLength; set it >= epochLength +
        /// the rollup's challenge window so that signers stay slashable by a fraud proof).
        uint64 unbondingDelay;
        /// N: size of an epoch's active set (1..MAX_SET_SIZE).
        uint16 maxActive;
        /// Cap on registered stakers (maxActive..MAX_STAKERS): bounds the cost of materializing a set.
        uint32 maxStakers;
        /// Fraction of a staker's bonded stake (stake + unbonding) slashed per offence, in bps.
        uint16 slashBps;
        /// Fraction of the slashed amount paid to the reporter, in bps; the rest goes to treasury.
        uint16 reporterBps;
        /// Emission per committed batch: moved from the emission reserve into the signing
        /// epoch's reward pool by every `commitBatchSigned` (capped by the reserve; 0 = none).
        uint256 emissionPerBatch;
    }

    struct Staker {
        address signingKey; // registered once, never changes
        uint96 stake; // active stake (counts for future epochs)
        uint96 unbonding; // leaving stake, withdrawable at unbondingEnd
        uint64 unbondingEnd;
        uint32 registryPos; // index + 1 in _registry; 0 = not registered
        bytes networkAddress;
    }

    struct SetSnapshot {
        uint128 totalStake;
        uint16 size;
    }

    // ---------------------------------------------------------------------------------------
    // Constants and immutables
    // ---------------------------------------------------------------------------------------

    /// @notice Basis points denominator.
    uint256 public constant BPS = 10_000;
    /// @notice Largest active set. A batch's signers fit a 192-bit bitmap (the rollup packs it
    ///         with the 64-bit epoch into one slot); the bound is lower so that materializing
    ///         the largest set from the largest registry stays under 10 M gas (BENCHMARKS.md).
    uint256 public constant MAX_SET_SIZE = 128;
    /// @notice Largest registry (`maxStakers`): bounds the ranking pass of a materialization
    ///         and the eviction scan of a full registry.
    uint256 public constant MAX_STAKERS = 160;
    /// @notice Longest network address accepted, in bytes.
    uint256 public constant MAX_NETWORK_ADDRESS_LENGTH = 256;
    /// @notice Domain tag of the batch digest: keccak256("tandem.batch.v1").
    bytes32 public constant BATCH_DOMAIN_TAG = keccak256("tandem.batch.v1");
    /// @notice Domain tag of the consensus vote digest: keccak256("tandem.vote.v1"). Also
    ///         prefixes the ids of vote evidence, so they never collide with batch evidence.
    bytes32 public constant VOTE_DOMAIN_TAG = keccak256("tandem.vote.v1");
    /// @notice Consensus vote types (Malachite / Tendermint): prevote and precommit.
    uint8 public constant VOTE_PREVOTE = 0;
    uint8 public constant VOTE_PRECOMMIT = 1;
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant ADDRESS_MASK = (uint256(1) << 160) - 1;
    /// Flag bit of a `_snapKey` entry: the member was slashed out while that set is current.
    uint256 private constant _EJECTED = uint256(1) << 255;

    IERC20 public immutable stakingToken;
    address public immutable treasury;
    uint96 public immutable minStake;
    uint96 public immutable maxStake;
    uint64 public immutable epochLength;
    uint64 public immutable unbondingDelay;
    uint64 public immutable genesisTime;
    uint16 public immutable maxActive;
    uint32 public immutable maxStakers;
    uint16 public immutable slashBps;
    uint16 public immutable reporterBps;
    /// @notice Emission accrued to the signing epoch's pool per committed batch (0 = off).
    uint256 public immutable emissionPerBatch;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    /// @notice The rollup whose batches are signed (part of the digest; the only caller of
    ///         `slashSigners` and `accrueBatchReward`), fixed at deployment.
    address public immutable rollup;
    /// @notice Sum of all active stakes.
    uint256 public totalStaked;
    /// @notice Sum of all unbonding (not yet withdrawn) stakes.
    uint256 public totalUnbonding;
    /// @notice Rewards in pools and not claimed (includes rounding dust). Shares a slot with
    ///         `emissionReserve` (both are touched by every emitting commit).
    uint128 public rewardsOutstanding;
    /// @notice Emission funded (`fundEmission`) and not yet accrued to a pool.
    uint128 public emissionReserve;
    /// @notice Staker owning a signing key (0 if unregistered).
    mapping(address signingKey => address staker) public stakerOfKey;
    /// @notice Reward pool of an epoch.
    mapping(uint64 epoch => uint256 amount) public rewardPool;
    /// @notice Evidence already used. Batch double sign: keccak256(abi.encode(staker,
    ///         batchNumber)); consensus double vote: keccak256(abi.encode(VOTE_DOMAIN_TAG,
    ///         staker, height)) (a different preimage length: the two never collide).
    mapping(bytes32 evidenceId => bool used) public evidenceUsed;

    mapping(address staker => Staker) private _stakers;
    /// Registered stakers, packed (stake << 160 | address), unordered.
    uint256[] private _registry;
    SetSnapshot[] private _snapshots;
    /// Members of a snapshot, index i -> (stake << 160 | staker), ranked.
    mapping(uint256 snapshotId => mapping(uint256 index => uint256 member)) private _snapMember;
    /// Signing key -> (stake << 16 | (index + 1)) in a snapshot, with bit 255 (`_EJECTED`)
    /// set when its staker was slashed out of the registry while the snapshot was current.
    mapping(uint256 snapshotId => mapping(address signingKey => uint256 entry)) private _snapKey;
    /// Epoch -> snapshot id + 1 (0 = not materialized).
    mapping(uint64 epoch => uint256 snapshotIdPlusOne) private _epochSnap;
    mapping(uint64 epoch => uint256 bits) private _rewardClaimed;
    /// True when a change since the newest snapshot may have changed the ranked set (its
    /// members or their stakes). Invariant: !_dirty => the live top `maxActive` equals the
    /// newest snapshot.
    bool private _dirty = true;
    /// Rank key of the last member of the newest snapshot when it is full (`maxActive`
    /// members); 0 when it is not. A change whose old and new rank keys are both below it
    /// cannot change the set (`_noteChange`).
    uint256 private _cutoff;

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice This staking contract serves `rollup` (emitted at deployment).
    event RollupSet(address indexed rollup);
    event SigningKeyRegistered(address indexed staker, address indexed signingKey);
    event NetworkAddressSet(address indexed staker, bytes networkAddress);
    /// @notice `staker` added `amount`; its active stake is now `newStake`.
    event Staked(address indexed staker, uint256 amount, uint256 newStake);
    /// @notice `amount` left `staker`'s active stake; all its unbonding stake is withdrawable at `unbondingEnd`.
    event Unstaked(address indexed staker, uint256 amount, uint256 remainingStake, uint64 unbondingEnd);
    event Withdrawn(address indexed staker, uint256 amount);
    /// @notice `staker` left the registry (all stake unbonding): pushed out by a larger staker
    ///         when the registry was full, or slashed below the minimum.
    event Unregistered(address indexed staker, uint256 stakeMovedToUnbonding);
    /// @notice The active set of `epoch` is snapshot `snapshotId` (reused while nothing changed).
    event EpochSetMaterialized(uint64 indexed epoch, uint256 snapshotId, uint256 totalStake, uint256 size);
    /// @notice `staker` lost `amount`; `reporterReward` of it went to `reporter`, the rest to treasury.
    event Slashed(address indexed staker, uint256 amount, address indexed reporter, uint256 reporterReward);
    event DoubleSignSlashed(
        address indexed staker, uint64 indexed batchNumber, bytes32 headerHashA, bytes32 headerHashB, address reporter
    );
    /// @notice `staker`'s signing key cast two votes of `voteType` for different values
    ///         (`valueIdA`, `valueIdB`) at consensus (`height`, `round`).
    event DoubleVoteSlashed(
        address indexed staker,
        uint64 indexed height,
        uint32 round,
        uint8 voteType,
        bytes32 valueIdA,
        bytes32 valueIdB,
        address reporter
    );
    event SignersSlashed(uint64 indexed epoch, uint256 signerBitmap, address indexed challenger, uint256 totalSlashed);
    event RewardsFunded(uint64 indexed epoch, address indexed funder, uint256 amount);
    event RewardClaimed(uint64 indexed epoch, address indexed staker, uint256 amount);
    /// @notice `funder` added `amount` to the emission reserve, now `reserve`.
    event EmissionFunded(address indexed funder, uint256 amount, uint256 reserve);
    /// @notice Committing batch `batchNumber` moved `amount` from the emission reserve (now
    ///         `reserve`) into `epoch`'s pool. Not emitted when nothing moved (reserve empty).
    event EmissionAccrued(uint64 indexed epoch, uint64 indexed batchNumber, uint256 amount, uint256 reserve);

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    error InvalidParams();
    error ZeroAddress();
    error ZeroAmount();
    error NotRollup(address caller);
    error SigningKeyTaken(address signingKey, address owner);
    error SigningKeyMismatch(address registered, address given);
    error NetworkAddressTooLong(uint256 length);
    error NotRegistered(address staker);
    /// @notice The staker's active stake would be `stake`, below the minimum (and not zero).
    error BelowMinStake(uint256 stake, uint256 minStake);
    error AboveMaxStake(uint256 stake, uint256 maxStake);
    error InsufficientStake(uint256 stake, uint256 amount);
    /// @notice A stake change of `amount` is below `minStake` (and does not empty the stake):
    ///         dust changes would force a new set every epoch.
    error StakeChangeTooSmall(uint256 amount, uint256 minStake);
    /// @notice The registry is full and the newcomer does not outrank its lowest staker (`lowestStake`).
    error RegistryFull(uint256 lowestStake);
    error NothingToWithdraw();
    /// @notice One staker's unbonding balance would exceed 2^96 - 1 (withdraw first).
    error UnbondingOverflow(uint256 unbonding);
    error UnbondingNotOver(uint64 unbondingEnd);
    error EpochNotMaterialized(uint64 epoch);
    /// @notice Signature `index` is malformed (length != 65, high s, v not 27/28) or recovers to nothing.
    error InvalidSignature(uint256 index);
    /// @notice Signature `index` recovers to `signer`, not above the previous signer (sort ascending, no duplicates).
    error SignersNotAscending(uint256 index, address signer);
    /// @notice `signer` is not the key of an active member of `epoch`.
    error NotActiveMember(uint64 epoch, address signer);
    /// @notice The signers hold `signedStake` of `totalStake`; more than 2/3 is needed.
    error InsufficientSignedStake(uint256 signedStake, uint256 totalStake);
    error SameHeader();
    error SignerMismatch(address signerA, address signerB);
    error UnknownSigningKey(address signingKey);
    error EvidenceAlreadyUsed(address staker, uint64 batchNumber);
    /// @notice Both votes name the same value: no equivocation.
    error SameValue();
    /// @notice `voteType` is neither VOTE_PREVOTE nor VOTE_PRECOMMIT.
    error InvalidVoteType(uint8 voteType);
    /// @notice `staker` was already slashed for a double vote at consensus height `height`.
    error VoteEvidenceAlreadyUsed(address staker, uint64 height);
    error NothingToSlash(address staker);
    error EpochNotOver(uint64 epoch);
    error NoActiveSet(uint64 epoch);
    error NotMember(uint64 epoch, address staker);
    error RewardAlreadyClaimed(uint64 epoch, address staker);
    /// @notice Funding would bring rewardsOutstanding + emissionReserve to `total` (>= 2^128).
    error RewardsTooLarge(uint256 total);
    /// @notice `emissionPerBatch` is 0: a reserve could never be paid out.
    error EmissionDisabled();

    // ---------------------------------------------------------------------------------------
    // Construction and administration
    // ---------------------------------------------------------------------------------------

    /// @param rollup_ The rollup served, fixed: deploy this contract first with the address the
    ///        `StakedRollup` will get (it checks `rollup()` at construction).
    constructor(address rollup_, Params memory p) {
        if (rollup_ == address(0) || address(p.stakingToken) == address(0) || p.treasury == address(0)) {
            revert ZeroAddress();
        }
        if (
            p.minStake == 0 || p.maxStake < p.minStake || p.epochLength == 0 || p.unbondingDelay < p.epochLength
                || p.maxActive == 0 || p.maxActive > MAX_SET_SIZE || p.maxStakers < p.maxActive
                || p.maxStakers > MAX_STAKERS || p.slashBps > BPS || p.reporterBps > BPS
        ) revert InvalidParams();
        rollup = rollup_;
        stakingToken = p.stakingToken;
        treasury = p.treasury;
        minStake = p.minStake;
        maxStake = p.maxStake;
        epochLength = p.epochLength;
        unbondingDelay = p.unbondingDelay;
        maxActive = p.maxActive;
        maxStakers = p.maxStakers;
        slashBps = p.slashBps;
        reporterBps = p.reporterBps;
        emissionPerBatch = p.emissionPerBatch;
        genesisTime = uint64(block.timestamp);
        emit RollupSet(rollup_);
    }

    // ---------------------------------------------------------------------------------------
    // Staking
    // ---------------------------------------------------------------------------------------

    /// @notice Adds `amount` to the caller's active stake (approve first). The first call
    ///         registers `signingKey` (the address of the secp256k1 key that signs batches;
    ///         unique, permanent); later calls pass it again or address(0). A non-empty
    ///         `networkAddress` (e.g. "host:port") replaces the stored one.
    /// @dev The new stake counts from the next epoch on. Resulting stake must be in
    ///      [minStake, maxStake], and `amount` at least minStake (dust top-ups are refused: a
    ///      member's change makes the next epoch re-rank its set). When the registry is full,
    ///      a newcomer must outrank the lowest registered staker (more stake, or equal stake and
    ///      a lower address), who is pushed out (all its stake starts unbonding).
    function stake(uint256 amount, address signingKey, bytes calldata networkAddress) external nonReentrant {
        _sync();
        if (amount == 0) revert ZeroAmount();
        Staker storage st = _stakers[msg.sender];
        address key = st.signingKey;
        if (key == address(0)) {
            if (signingKey == address(0)) revert ZeroAddress();
            address holder = stakerOfKey[signingKey];
            if (holder != address(0)) revert SigningKeyTaken(signingKey, holder);
            st.signingKey = signingKey;
            stakerOfKey[signingKey] = msg.sender;
            emit SigningKeyRegistered(msg.sender, signingKey);
        } else if (signingKey != address(0) && signingKey != key) {
            revert SigningKeyMismatch(key, signingKey);
        }
        if (networkAddress.length != 0) _setNetworkAddress(st, networkAddress);
        uint256 newStake = uint256(st.stake) + amount;
        if (newStake < minStake) revert BelowMinStake(newStake, minStake);
        if (newStake > maxStake) revert AboveMaxStake(newStake, maxStake);
        if (amount < minStake) revert StakeChangeTooSmall(amount, minStake);

        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        // Safe: newStake <= maxStake, a uint96.
        // forge-lint: disable-next-line(unsafe-typecast)
        st.stake = uint96(newStake);
        totalStaked += amount;
        uint256 packed = _packMember(msg.sender, newStake);
        if (st.registryPos == 0) {
            _register(msg.sender, newStake);
            _noteChange(0, packed);
        } else {
            _noteChange(_registry[st.registryPos - 1], packed);
            _registry[st.registryPos - 1] = packed;
        }
        emit Staked(msg.sender, amount, newStake);
    }

    /// @notice Moves `amount` of the caller's active stake to unbonding. The remaining stake
    ///         must be 0 (the caller leaves the registry, whatever `amount`) or >= minStake,
    ///         and then `amount` must be at least minStake too (no dust changes).
    /// @dev Takes effect for the set from the next epoch on; the current epoch's set keeps the
    ///      caller's old stake. The caller's whole unbonding balance becomes withdrawable at
    ///      `now + unbondingDelay` (the timer restarts with every unstake). Unbonding stake stays
    ///      slashable until withdrawn.
    function unstake(uint256 amount) external nonReentrant {
        _sync();
        if (amount == 0) revert ZeroAmount();
        Staker storage st = _stakers[msg.sender];
        uint256 current = st.stake;
        if (amount > current) revert InsufficientStake(current, amount);
        uint256 remaining = current - amount;
        if (remaining != 0 && remaining < minStake) revert BelowMinStake(remaining, minStake);
        if (remaining != 0 && amount < minStake) revert StakeChangeTooSmall(amount, minStake);
        // Safe: remaining <= current, a uint96; amount <= current.
        // forge-lint: disable-next-line(unsafe-typecast)
        st.stake = uint96(remaining);
        totalStaked -= amount;
        uint256 before = _registry[st.registryPos - 1];
        if (remaining == 0) {
            _noteChange(before, 0);
            _unregister(st);
        } else {
            uint256 packed = _packMember(msg.sender, remaining);
            _noteChange(before, packed);
            _registry[st.registryPos - 1] = packed;
        }
        uint64 end = _startUnbonding(st, amount);
        emit Unstaked(msg.sender, amount, remaining, end);
    }

    /// @notice Pays the caller's whole unbonding balance once its delay is over.
    function withdraw() external nonReentrant {
        Staker storage st = _stakers[msg.sender];
        uint256 amount = st.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < st.unbondingEnd) revert UnbondingNotOver(st.unbondingEnd);
        st.unbonding = 0;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);
        stakingToken.safeTransfer(msg.sender, amount);
    }

    /// @notice Replaces the caller's network address (staker must have a signing key).
    function setNetworkAddress(bytes calldata networkAddress) external {
        Staker storage st = _stakers[msg.sender];
        if (st.signingKey == address(0)) revert NotRegistered(msg.sender);
        _setNetworkAddress(st, networkAddress);
    }

    /// @notice Materializes the current epoch's active set if needed (anyone; e.g. the
    ///         sequencers at an epoch boundary) and returns the current epoch.
    function syncEpoch() external returns (uint64 epoch) {
        (epoch,) = _sync();
    }

    // ---------------------------------------------------------------------------------------
    // Batch signatures
    // ---------------------------------------------------------------------------------------

    /// @notice The digest sequencers sign for batch `batchNumber` with header digest
    ///         `headerHash` (= keccak256(abi.encode(BatchHeader))) while the rollup's
    ///         `revertCount()` is `revertCount`: keccak256(abi.encode(BATCH_DOMAIN_TAG,
    ///         block.chainid, rollup, uint64 revertCount, uint64 batchNumber, headerHash)).
    ///         Signed raw (no EIP-191 prefix). Binding `revertCount` makes a reverted batch's
    ///         signatures worthless afterwards, and re-signing a replacement for the same
    ///         number (a new revert count) no double sign.
    function batchDigest(uint64 revertCount, uint64 batchNumber, bytes32 headerHash) public view returns (bytes32) {
        return keccak256(abi.encode(BATCH_DOMAIN_TAG, block.chainid, rollup, revertCount, batchNumber, headerHash));
    }

    /// @notice Checks `signatures` over `batchDigest(revertCount, batchNumber, headerHash)` against the
    ///         current epoch's active set (materializing it if needed). Reverts unless the
    ///         signatures are valid, from active members, sorted by strictly ascending signer
    ///         address, and the signers hold more than 2/3 of the epoch's total stake. A member
    ///         slashed out of the registry this epoch (a faulty batch's signer) is still in the
    ///         epoch's set but its signature counts for nothing (no stake, no bit): the 2/3 is of
    ///         the epoch's whole stake, so once more than 1/3 of it is slashed nothing commits
    ///         until the next epoch's set (safety over liveness; users keep forced exits).
    /// @param signatures 65 bytes each: r (32) | s (32) | v (1, 27 or 28), s <= secp256k1n/2.
    /// @return epoch The current epoch.
    /// @return signerBitmap Bit i set iff member i (rank in the epoch's set) signed.
    function verifyBatchSignatures(
        uint64 revertCount,
        uint64 batchNumber,
        bytes32 headerHash,
        bytes[] calldata signatures
    ) external returns (uint64 epoch, uint256 signerBitmap) {
        uint256 snap;
        (epoch, snap) = _sync();
        bytes32 digest = batchDigest(revertCount, batchNumber, headerHash);
        (signerBitmap,) = _checkSignatures(epoch, snap, digest, signatures, true);
    }

    /// @notice View form of the check for a materialized `epoch` and any `digest`: the
    ///         bitmap and stake of the valid member signers (reverts on malformed, unsorted or
    ///         non-member signatures; does not apply the 2/3 threshold).
    function signedStake(uint64 epoch, bytes32 digest, bytes[] calldata signatures)
        external
        view
        returns (uint256 signerBitmap, uint256 stake_)
    {
        uint256 s = _epochSnap[epoch];
        if (s == 0) revert EpochNotMaterialized(epoch);
        return _checkSignatures(epoch, s - 1, digest, signatures, false);
    }

    function _checkSignatures(
        uint64 epoch,
        uint256 snap,
        bytes32 digest,
        bytes[] calldata signatures,
        bool enforceThreshold
    ) private view returns (uint256 bitmap, uint256 signed) {
        mapping(address => uint256) storage keys = _snapKey[snap];
        address prev;
        uint256 n = signatures.length;
        for (uint256 i; i < n; ++i) {
            address signer = _recover(digest, signatures[i]);
            if (signer == address(0)) revert InvalidSignature(i);
            if (signer <= prev) revert SignersNotAscending(i, signer);
            prev = signer;
            uint256 entry = keys[signer];
            if (entry == 0) revert NotActiveMember(epoch, signer);
            if (entry & _EJECTED != 0) {
                // Slashed out while this set is current: its signature counts for no commit.
                if (enforceThreshold) continue;
                entry ^= _EJECTED;
            }
            bitmap |= uint256(1) << ((entry & 0xffff) - 1);
            signed += entry >> 16;
        }
        if (enforceThreshold) {
            uint256 total = _snapshots[snap].totalStake;
            if (total == 0 || signed * 3 <= total * 2) revert InsufficientSignedStake(signed, total);
        }
    }

    /// @notice The digest sequencers sign for a consensus vote (Malachite): keccak256(abi.encode(
    ///         VOTE_DOMAIN_TAG, block.chainid, rollup, uint64 height, uint32 round, uint8 voteType,
    ///         bytes32 valueId)); `voteType` 0 = prevote, 1 = precommit; `valueId` 0 = nil.
    ///         Signed raw (no EIP-191 prefix) with the registered signing key, like batches.
    function voteDigest(uint64 height, uint32 round, uint8 voteType, bytes32 valueId) public view returns (bytes32) {
        return keccak256(abi.encode(VOTE_DOMAIN_TAG, block.chainid, rollup, height, round, voteType, valueId));
    }

    /// @dev ecrecover of a 65-byte r|s|v signature; address(0) for any malformed input.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }

    // ---------------------------------------------------------------------------------------
    // Slashing
    // ---------------------------------------------------------------------------------------

    /// @notice Double-sign evidence, from anyone: the same signing key signed
    ///         `batchDigest(revertCount, batchNumber, headerHashA)` and `batchDigest(revertCount,
    ///         batchNumber, headerHashB)` with `headerHashA != headerHashB` (one revert count:
    ///         signing a replacement after a revert is honest). Slashes `slashBps` of the key owner's bonded
    ///         stake (active + unbonding); `reporterBps` of that goes to the caller, the rest to
    ///         the treasury. Each (staker, batchNumber) is slashed at most once.
    function reportDoubleSign(
        uint64 revertCount,
        uint64 batchNumber,
        bytes32 headerHashA,
        bytes calldata signatureA,
        bytes32 headerHashB,
        bytes calldata signatureB
    ) external nonReentrant returns (uint256 slashed) {
        if (headerHashA == headerHashB) revert SameHeader();
        address staker = _equivocator(
            batchDigest(revertCount, batchNumber, headerHashA),
            signatureA,
            batchDigest(revertCount, batchNumber, headerHashB),
            signatureB
        );
        bytes32 id = keccak256(abi.encode(staker, batchNumber));
        if (evidenceUsed[id]) revert EvidenceAlreadyUsed(staker, batchNumber);
        evidenceUsed[id] = true;
        uint256 toReporter;
        (slashed, toReporter) = _slashEquivocator(staker);
        emit DoubleSignSlashed(staker, batchNumber, headerHashA, headerHashB, msg.sender);
        _payout(msg.sender, toReporter, slashed - toReporter);
    }

    /// @notice Consensus double-vote evidence, from anyone: the same signing key signed
    ///         `voteDigest(height, round, voteType, valueIdA)` and `voteDigest(height, round,
    ///         voteType, valueIdB)` with `valueIdA != valueIdB` (a nil vote, value 0, counts as a
    ///         value). Slashed and paid exactly like `reportDoubleSign`. Each (staker, height) is
    ///         slashed at most once for votes, whatever the round, type or values shown; batch
    ///         double-sign evidence is counted apart.
    function reportDoubleVote(
        uint64 height,
        uint32 round,
        uint8 voteType,
        bytes32 valueIdA,
        bytes calldata signatureA,
        bytes32 valueIdB,
        bytes calldata signatureB
    ) external nonReentrant returns (uint256 slashed) {
        if (voteType > VOTE_PRECOMMIT) revert InvalidVoteType(voteType);
        if (valueIdA == valueIdB) revert SameValue();
        address staker = _equivocator(
            voteDigest(height, round, voteType, valueIdA),
            signatureA,
            voteDigest(height, round, voteType, valueIdB),
            signatureB
        );
        bytes32 id = keccak256(abi.encode(VOTE_DOMAIN_TAG, staker, height));
        if (evidenceUsed[id]) revert VoteEvidenceAlreadyUsed(staker, height);
        evidenceUsed[id] = true;
        uint256 toReporter;
        (slashed, toReporter) = _slashEquivocator(staker);
        emit DoubleVoteSlashed(staker, height, round, voteType, valueIdA, valueIdB, msg.sender);
        _payout(msg.sender, toReporter, slashed - toReporter);
    }

    /// @dev The staker owning the one registered key that produced `signatureA` over `digestA`
    ///      and `signatureB` over `digestB`; reverts InvalidSignature(0 or 1), SignerMismatch or
    ///      UnknownSigningKey otherwise.
    function _equivocator(bytes32 digestA, bytes calldata signatureA, bytes32 digestB, bytes calldata signatureB)
        private
        view
        returns (address staker)
    {
        address a = _recover(digestA, signatureA);
        if (a == address(0)) revert InvalidSignature(0);
        address b = _recover(digestB, signatureB);
        if (b == address(0)) revert InvalidSignature(1);
        if (a != b) revert SignerMismatch(a, b);
        staker = stakerOfKey[a];
        if (staker == address(0)) revert UnknownSigningKey(a);
    }

    /// @dev Slashes an equivocating `staker` (after materializing the current epoch, so the
    ///      slash only reaches later sets) on behalf of the caller; reverts NothingToSlash when
    ///      it has no bonded stake left. The caller pays out with `_payout`.
    function _slashEquivocator(address staker) private returns (uint256 slashed, uint256 toReporter) {
        _sync();
        (slashed, toReporter) = _slash(staker, msg.sender, slashBps);
        if (slashed == 0) revert NothingToSlash(staker);
    }

    /// @notice Dispute-game hook: slashes every member of `epoch`'s set whose bit is set in
    ///         `signerBitmap` (the signers of a faulty batch: a challenge went unanswered) by
    ///         their whole bonded stake (active and unbonding: signing an unprovable batch costs
    ///         far more than equivocating, `slashBps`), so each leaves the registry at once;
    ///         `reporterBps` of it goes to `challenger`. Only the rollup may call (its dispute
    ///         path, `StakedRollup._onFaultyBatch`, which also prevents a second use per batch).
    function slashSigners(uint64 epoch, uint256 signerBitmap, address challenger)
        external
        nonReentrant
        returns (uint256 totalSlashed)
    {
        if (msg.sender != rollup) revert NotRollup(msg.sender);
        uint256 s = _epochSnap[epoch];
        if (s == 0) revert EpochNotMaterialized(epoch);
        _sync();
        uint256 size = _snapshots[s - 1].size;
        uint256 toReporter;
        for (uint256 i; i < size; ++i) {
            if (signerBitmap & (uint256(1) << i) == 0) continue;
            address staker = address(uint160(_snapMember[s - 1][i]));
            (uint256 amount, uint256 reward) = _slash(staker, challenger, BPS);
            totalSlashed += amount;
            toReporter += reward;
        }
        emit SignersSlashed(epoch, signerBitmap, challenger, totalSlashed);
        _payout(challenger, toReporter, totalSlashed - toReporter);
    }

    /// @dev Takes `bps` of `staker`'s bonded stake, active stake first; a staker left below
    ///      minStake leaves the registry (its remaining stake unbonds).
    function _slash(address staker, address reporter, uint256 bps)
        private
        returns (uint256 amount, uint256 toReporter)
    {
        Staker storage st = _stakers[staker];
        uint256 active = st.stake;
        uint256 leaving = st.unbonding;
        amount = (active + leaving) * bps / BPS;
        if (amount == 0) return (0, 0);
        uint256 fromActive = amount < active ? amount : active;
        uint256 fromLeaving = amount - fromActive;
        active -= fromActive;
        // Safe: both decreased from uint96 values.
        // forge-lint: disable-next-line(unsafe-typecast)
        st.stake = uint96(active);
        // forge-lint: disable-next-line(unsafe-typecast)
        st.unbonding = uint96(leaving - fromLeaving);
        totalStaked -= fromActive;
        totalUnbonding -= fromLeaving;
        if (st.registryPos != 0) {
            uint256 before = _registry[st.registryPos - 1];
            if (active < minStake) {
                _noteChange(before, 0);
                st.stake = 0;
                totalStaked -= active;
                _unregister(st);
                _eject(st.signingKey);
                if (active != 0) _startUnbonding(st, active);
                emit Unregistered(staker, active);
            } else {
                uint256 packed = _packMember(staker, active);
                _noteChange(before, packed);
                _registry[st.registryPos - 1] = packed;
            }
        }
        toReporter = amount * reporterBps / BPS;
        emit Slashed(staker, amount, reporter, toReporter);
    }

    /// @dev Marks `signingKey` ejected in the current epoch's set (materialized by every
    ///      slashing path before `_slash`). The registry change makes the next epoch's set a
    ///      new snapshot without it, so only the current set carries the mark; an earlier epoch
    ///      sharing the snapshot is past committing.
    function _eject(address signingKey) private {
        uint256 s = _epochSnap[currentEpoch()];
        if (s == 0) return;
        uint256 entry = _snapKey[s - 1][signingKey];
        if (entry != 0) _snapKey[s - 1][signingKey] = entry | _EJECTED;
    }

    function _payout(address reporter, uint256 toReporter, uint256 toTreasury) private {
        if (toReporter != 0) stakingToken.safeTransfer(reporter, toReporter);
        if (toTreasury != 0) stakingToken.safeTransfer(treasury, toTreasury);
    }

    // ---------------------------------------------------------------------------------------
    // Rewards
    // ---------------------------------------------------------------------------------------

    /// @notice Adds `amount` of the staking token (approve first) to the current epoch's pool,
    ///         shared pro rata to stake by that epoch's active set once the epoch is over.
    function fundRewards(uint256 amount) external nonReentrant returns (uint64 epoch) {
        if (amount == 0) revert ZeroAmount();
        uint256 snap;
        (epoch, snap) = _sync();
        if (_snapshots[snap].size == 0) revert NoActiveSet(epoch);
        uint128 outstanding = _checkedRewardTotal(amount) - emissionReserve;
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        rewardPool[epoch] += amount;
        rewardsOutstanding = outstanding;
        emit RewardsFunded(epoch, msg.sender, amount);
    }

    /// @notice Adds `amount` of the staking token (approve first) to the emission reserve,
    ///         paid out `emissionPerBatch` per committed batch into the signing epoch's pool.
    ///         Refused when `emissionPerBatch` is 0. A reserve is never withdrawn.
    function fundEmission(uint256 amount) external nonReentrant returns (uint256 reserve) {
        if (amount == 0) revert ZeroAmount();
        if (emissionPerBatch == 0) revert EmissionDisabled();
        uint128 newReserve = _checkedRewardTotal(amount) - rewardsOutstanding;
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        emissionReserve = newReserve;
        reserve = newReserve;
        emit EmissionFunded(msg.sender, amount, reserve);
    }

    /// @notice Rollup only, once per committed batch (`StakedRollup.commitBatchSigned`, after
    ///         the commit): moves min(emissionPerBatch, emissionReserve) from the reserve into
    ///         the pool of `epoch`, the epoch whose set signed batch `batchNumber` (the current
    ///         one: its set is materialized by the signature check). Never reverts for the
    ///         rollup: an empty reserve accrues 0.
    function accrueBatchReward(uint64 epoch, uint64 batchNumber) external returns (uint256 amount) {
        if (msg.sender != rollup) revert NotRollup(msg.sender);
        uint128 reserve = emissionReserve;
        if (reserve == 0) return 0;
        // Safe: the cast value is below reserve < 2^128.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 moved = emissionPerBatch < reserve ? uint128(emissionPerBatch) : reserve;
        // Safe: moved <= reserve, and rewardsOutstanding + reserve < 2^128 (funding checks).
        unchecked {
            reserve -= moved;
            rewardsOutstanding += moved;
        }
        emissionReserve = reserve;
        rewardPool[epoch] += moved;
        amount = moved;
        emit EmissionAccrued(epoch, batchNumber, amount, reserve);
    }

    /// @dev rewardsOutstanding + emissionReserve + amount, reverting at 2^128 or above.
    function _checkedRewardTotal(uint256 amount) private view returns (uint128) {
        uint256 total = uint256(rewardsOutstanding) + emissionReserve + amount;
        if (total > type(uint128).max) revert RewardsTooLarge(total);
        // Safe: checked just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint128(total);
    }

    /// @notice Pays the caller its share of `epoch`'s pool: floor(pool * stake / totalStake)
    ///         with the caller's stake in that epoch's set. Only after the epoch; once.
    /// @dev Rounding: the shares sum to at least pool - (size - 1) units; the dust stays in the
    ///      contract (counted in rewardsOutstanding).
    function claimReward(uint64 epoch) external nonReentrant returns (uint256 amount) {
        if (epoch >= currentEpoch()) revert EpochNotOver(epoch);
        uint256 s = _epochSnap[epoch];
        if (s == 0) revert NotMember(epoch, msg.sender);
        (uint256 index, uint256 memberStake) = _findMember(s - 1, msg.sender);
        if (memberStake == 0) revert NotMember(epoch, msg.sender);
        uint256 bits = _rewardClaimed[epoch];
        if (bits & (uint256(1) << index) != 0) revert RewardAlreadyClaimed(epoch, msg.sender);
        _rewardClaimed[epoch] = bits | (uint256(1) << index);
        amount = rewardPool[epoch] * memberStake / _snapshots[s - 1].totalStake;
        // Safe: a share is at most its pool, and every pool is counted in rewardsOutstanding.
        // forge-lint: disable-next-line(unsafe-typecast)
        rewardsOutstanding -= uint128(amount);
        emit RewardClaimed(epoch, msg.sender, amount);
        if (amount != 0) stakingToken.safeTransfer(msg.sender, amount);
    }

    /// @notice Share of `epoch`'s pool due to `staker` (0 if not a member or already claimed).
    function pendingReward(uint64 epoch, address staker) external view returns (uint256) {
        uint256 s = _epochSnap[epoch];
        if (s == 0) return 0;
        (uint256 index, uint256 memberStake) = _findMember(s - 1, staker);
        if (memberStake == 0 || _rewardClaimed[epoch] & (uint256(1) << index) != 0) return 0;
        return rewardPool[epoch] * memberStake / _snapshots[s - 1].totalStake;
    }

    function _findMember(uint256 snap, address staker) private view returns (uint256 index, uint256 memberStake) {
        uint256 size = _snapshots[snap].size;
        for (uint256 i; i < size; ++i) {
            uint256 m = _snapMember[snap][i];
            // forge-lint: disable-next-line(unsafe-typecast)
            if (address(uint160(m)) == staker) return (i, m >> 160);
        }
        return (0, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice Current epoch: (block.timestamp - genesisTime) / epochLength.
    function currentEpoch() public view returns (uint64) {
        return uint64((block.timestamp - genesisTime) / epochLength);
    }

    /// @notice L1 timestamp at which `epoch` starts.
    function epochStart(uint64 epoch) external view returns (uint256) {
        return uint256(genesisTime) + uint256(epoch) * epochLength;
    }

    /// @notice Whether `epoch`'s set is stored.
    function isMaterialized(uint64 epoch) external view returns (bool) {
        return _epochSnap[epoch] != 0;
    }

    /// @notice Active set of `epoch`, ranked (index = bit in signer bitmaps). For a stored
    ///         epoch: its snapshot. For the current or a future epoch not stored yet: the set the
    ///         live stakes give (exact for the current epoch; provisional for future ones).
    ///         Reverts for a past epoch that was never materialized.
    function activeSet(uint64 epoch)
        external
        view
        returns (address[] memory stakers, address[] memory signingKeys, uint256[] memory stakes, uint256 totalStake)
    {
        uint256 s = _epochSnap[epoch];
        uint256[] memory ranked;
        if (s != 0) {
            SetSnapshot memory snap = _snapshots[s - 1];
            ranked = new uint256[](snap.size);
            for (uint256 i; i < snap.size; ++i) {
                ranked[i] = _snapMember[s - 1][i];
            }
        } else {
            if (epoch < currentEpoch()) revert EpochNotMaterialized(epoch);
            ranked = _topN();
        }
        uint256 n = ranked.length;
        stakers = new address[](n);
        signingKeys = new address[](n);
        stakes = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            address a = address(uint160(ranked[i]));
            stakers[i] = a;
            signingKeys[i] = _stakers[a].signingKey;
            stakes[i] = ranked[i] >> 160;
            totalStake += stakes[i];
        }
    }

    /// @notice Everything stored about `staker`.
    function stakerInfo(address staker)
        external
        view
        returns (
            address signingKey,
            uint256 activeStake,
            uint256 unbonding,
            uint64 unbondingEnd,
            bool registered,
            bytes memory networkAddress
        )
    {
        Staker storage st = _stakers[staker];
        return (st.signingKey, st.stake, st.unbonding, st.unbondingEnd, st.registryPos != 0, st.networkAddress);
    }

    /// @notice Number of registered stakers (candidates for the next set).
    function registeredCount() external view returns (uint256) {
        return _registry.length;
    }

    // ---------------------------------------------------------------------------------------
    // Internals: registry and epoch snapshots
    // ---------------------------------------------------------------------------------------

    /// @dev Materializes the current epoch's set if it is not stored: a new snapshot when
    ///      stakes changed since the last one, else the last one again.
    function _sync() private returns (uint64 epoch, uint256 snap) {
        epoch = currentEpoch();
        uint256 s = _epochSnap[epoch];
        if (s != 0) return (epoch, s - 1);
        if (_dirty) {
            snap = _snapshots.length;
            uint256[] memory ranked = _topN();
            uint256 total;
            for (uint256 i; i < ranked.length; ++i) {
                uint256 m = ranked[i];
                uint256 st = m >> 160;
                total += st;
                _snapMember[snap][i] = m;
                // forge-lint: disable-next-line(unsafe-typecast)
                _snapKey[snap][_stakers[address(uint160(m))].signingKey] = (st << 16) | (i + 1);
            }
            // Safe: at most MAX_SET_SIZE stakes below 2^96 each; ranked.length <= MAX_SET_SIZE.
            // forge-lint: disable-next-line(unsafe-typecast)
            _snapshots.push(SetSnapshot({totalStake: uint128(total), size: uint16(ranked.length)}));
            _dirty = false;
            _cutoff = ranked.length == maxActive ? _rankKey(ranked[ranked.length - 1]) : 0;
        } else {
            snap = _snapshots.length - 1;
        }
        _epochSnap[epoch] = snap + 1;
        SetSnapshot memory sn = _snapshots[snap];
        emit EpochSetMaterialized(epoch, snap, sn.totalStake, sn.size);
    }

    /// @dev The top `maxActive` registered stakers, best first, packed (stake << 160 | address).
    ///      Rank key: stake << 160 | ~address (larger = better: more stake, then lower address);
    ///      the key is an involution of the packed member (`_rankKey(_rankKey(m)) == m`), so the
    ///      selection keeps keys only. One pass over the registry with insertion into a sorted
    ///      array of at most `maxActive` keys; a staker that does not beat the current last key
    ///      of a full array costs one comparison. Worst case (every staker beats all before
    ///      it): registry length * maxActive moves, bounded by MAX_STAKERS * MAX_SET_SIZE.
    function _topN() private view returns (uint256[] memory top) {
        uint256 cap = maxActive;
        uint256 k = _registry.length;
        uint256 n = cap < k ? cap : k;
        top = new uint256[](n);
        uint256 len;
        // Safe: every index stays in [0, n); `len` <= n.
        unchecked {
            for (uint256 j; j < k; ++j) {
                uint256 key = _rankKey(_registry[j]);
                uint256 i = len;
                if (len == n) {
                    if (key <= top[n - 1]) continue;
                    i = n - 1; // the last key drops out
                } else {
                    ++len;
                }
                while (i != 0) {
                    uint256 above = top[i - 1];
                    if (above >= key) break;
                    top[i] = above;
                    --i;
                }
                top[i] = key;
            }
            for (uint256 i; i < n; ++i) {
                top[i] = _rankKey(top[i]);
            }
        }
    }

    /// @dev Registry entry `before` (0: was not registered) became `after_` (0: left). Marks the
    ///      set dirty unless both rank below the newest full snapshot's last member: then the
    ///      top `maxActive` is the same (every member still outranks both), so a staker outside
    ///      the set can never force a re-ranking without entering it.
    function _noteChange(uint256 before, uint256 after_) private {
        if (_dirty) return;
        uint256 cutoff = _cutoff;
        if ((before != 0 && _rankKey(before) >= cutoff) || (after_ != 0 && _rankKey(after_) >= cutoff)) _dirty = true;
    }

    function _rankKey(uint256 member) private pure returns (uint256) {
        return (member & ~ADDRESS_MASK) | (~member & ADDRESS_MASK);
    }

    function _packMember(address staker, uint256 stake_) private pure returns (uint256) {
        return (stake_ << 160) | uint160(staker);
    }

    function _register(address staker, uint256 stake_) private {
        uint256 packed = _packMember(staker, stake_);
        if (_registry.length >= maxStakers) {
            // Push out the lowest-ranked staker if the newcomer outranks it.
            uint256 lowPos;
            uint256 lowKey = type(uint256).max;
            for (uint256 j; j < _registry.length; ++j) {
                uint256 key = _rankKey(_registry[j]);
                if (key < lowKey) {
                    lowKey = key;
                    lowPos = j;
                }
            }
            uint256 low = _registry[lowPos];
            if (_rankKey(packed) <= lowKey) revert RegistryFull(low >> 160);
            // forge-lint: disable-next-line(unsafe-typecast)
            address evicted = address(uint160(low));
            _noteChange(low, 0);
            Staker storage ev = _stakers[evicted];
            uint256 amount = ev.stake;
            ev.stake = 0;
            totalStaked -= amount;
            _unregister(ev);
            _startUnbonding(ev, amount);
            emit Unregistered(evicted, amount);
        }
        _registry.push(packed);
        // Safe: registry length <= maxStakers, a uint32.
        // forge-lint: disable-next-line(unsafe-typecast)
        _stakers[staker].registryPos = uint32(_registry.length);
    }

    function _unregister(Staker storage st) private {
        uint256 pos = st.registryPos;
        uint256 last = _registry.length;
        if (pos != last) {
            uint256 moved = _registry[last - 1];
            _registry[pos - 1] = moved;
            // Safe: pos <= registry length <= maxStakers.
            // forge-lint: disable-next-line(unsafe-typecast)
            _stakers[address(uint160(moved))].registryPos = uint32(pos);
        }
        _registry.pop();
        st.registryPos = 0;
    }

    function _startUnbonding(Staker storage st, uint256 amount) private returns (uint64 end) {
        end = uint64(block.timestamp) + unbondingDelay;
        uint256 total = uint256(st.unbonding) + amount;
        if (total > type(uint96).max) revert UnbondingOverflow(total);
        // Safe: checked just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        st.unbonding = uint96(total);
        st.unbondingEnd = end;
        totalUnbonding += amount;
    }

    function _setNetworkAddress(Staker storage st, bytes calldata networkAddress) private {
        if (networkAddress.length > MAX_NETWORK_ADDRESS_LENGTH) {
            revert NetworkAddressTooLong(networkAddress.length);
        }
        st.networkAddress = networkAddress;
        emit NetworkAddressSet(msg.sender, networkAddress);
    }
}
