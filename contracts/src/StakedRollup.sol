// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TandemRollup} from "./TandemRollup.sol";
import {SequencerStaking} from "./SequencerStaking.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";

/// @title StakedRollup
/// @notice TandemRollup in staked mode (DESIGN §5): batches are committed by anyone with
///         `commitBatchSigned`, carrying signatures of active members of the current epoch of
///         `staking` that hold more than 2/3 of the epoch's stake; plain `commitBatch` is
///         refused. Everything else (deposits, finality, withdrawals, events, StoredBatch) is
///         TandemRollup's, unchanged. When the staking contract has an emission
///         (`emissionPerBatch != 0`), every signed commit accrues it to the signing epoch's
///         reward pool (`staking.accrueBatchReward`).
/// @dev Deploy: `staking = new SequencerStaking(rollupAddress, params)` with the address the
///      rollup will get (the deployer's next CREATE address), then `rollup = new
///      StakedRollup(owner, staking, ...)` (it refuses a staking contract bound to another
///      address). Nobody can rebind either. The inherited `sequencer()` holds the staking
///      address and has no power here; the owner cannot replace it (`proposeSequencer` is
///      refused) nor the set: only staking changes the set.
///      Per committed batch the signers are kept as one slot: epoch << 192 | signer bitmap
///      (bit i = member i of the epoch's ranked set), read when the dispute game
///      reverts the batch as faulty (`_onFaultyBatch`).
contract StakedRollup is TandemRollup {
    /// @notice The sequencer set whose signatures authorize commits.
    SequencerStaking public immutable staking;
    /// @dev staking.emissionPerBatch() != 0 (immutable there): only then does a commit call
    ///      `accrueBatchReward`, so a deployment without emission pays nothing for it.
    bool private immutable _emits;

    mapping(uint64 batchNumber => uint256 record) private _batchSigners;

    /// @notice Batch `batchNumber` was signed by the members of `epoch` in `signerBitmap`.
    event BatchSigned(uint64 indexed batchNumber, uint64 epoch, uint256 signerBitmap);
    /// @notice The signers of batch `batchNumber` were slashed (faulty batch) for `totalSlashed`.
    event BatchSignersSlashed(uint64 indexed batchNumber, address indexed challenger, uint256 totalSlashed);

    /// @notice Plain `commitBatch` is refused in staked mode: use `commitBatchSigned`.
    error SignaturesRequired();
    /// @notice The staking contract's unbonding delay is below its epoch length plus the
    ///         challenge window, plus the game's response window with a game (`needed`).
    error UnbondingDelayTooShort(uint64 unbondingDelay, uint256 needed);
    /// @notice No (more) signers to slash for batch `batchNumber`.
    error NoSignersToSlash(uint64 batchNumber);
    /// @notice The staking contract is bound to `rollup`, not to this rollup.
    error StakingBoundElsewhere(address rollup);
    /// @notice In staked mode the sequencer set comes from staking: the owner cannot replace it.
    error SequencerFixedInStakedMode();

    /// @param owner_ May register tokens (no power over the set).
    /// @param staking_ The sequencer set, deployed bound to this rollup's address.
    /// @dev The other parameters are TandemRollup's.
    constructor(
        address owner_,
        SequencerStaking staking_,
        bytes32 genesisStateRoot_,
        uint64 challengeWindow_,
        address verifier_,
        uint32 zkSlots_,
        uint64 adminDelay_,
        address market_,
        address exitVerifier_,
        uint64 priorityDeadline_,
        address forcedInbox_,
        address disputeGame_
    )
        TandemRollup(
            owner_,
            address(staking_),
            genesisStateRoot_,
            challengeWindow_,
            verifier_,
            zkSlots_,
            adminDelay_,
            market_,
            exitVerifier_,
            priorityDeadline_,
            forcedInbox_,
            disputeGame_
        )
    {
        address bound = staking_.rollup();
        if (bound != address(this)) revert StakingBoundElsewhere(bound);
        // Signers must stay slashable until every batch they may sign is past its window: a
        // member leaving at the start of an epoch can sign until its end. With a dispute game
        // a challenge posted at the window's last second is settled (and its batch's signers
        // slashed) up to a response window later. (TandemRollup's constructor checked the game.)
        uint256 needed = uint256(staking_.epochLength()) + challengeWindow_;
        if (disputeGame_ != address(0)) needed += IDisputeGame(disputeGame_).responseWindow();
        if (staking_.unbondingDelay() < needed) revert UnbondingDelayTooShort(staking_.unbondingDelay(), needed);
        staking = staking_;
        _emits = staking_.emissionPerBatch() != 0;
    }

    /// @notice Commits the next batch with the sequencer set's signatures. Anyone may submit.
    /// @dev `signatures`: 65-byte r|s|v (v 27/28, low s) signatures over
    ///      `staking.batchDigest(revertCount, header.batchNumber, keccak256(abi.encode(header)))`, sorted by
    ///      strictly ascending signer address, each from an active member of the current epoch,
    ///      together holding more than 2/3 of its stake. Then every check of `commitBatch`.
    ///      Emits BatchSigned after BatchCommitted. With an emission, then moves
    ///      min(emissionPerBatch, reserve) into `epoch`'s reward pool (never reverts: an empty
    ///      reserve accrues 0; staking emits EmissionAccrued when something moved).
    ///      With value: opens the batch's prover-market job, refundable to msg.sender, as
    ///      `commitBatch` does. Refused during exodus (`ExodusActive`), after the signature check.
    function commitBatchSigned(BatchHeader calldata header, bytes calldata publicData, bytes[] calldata signatures)
        external
        payable
    {
        bytes32 headerHash = _hashHeader(header);
        (uint64 epoch, uint256 bitmap) = staking.verifyBatchSignatures(revertCount, header.batchNumber, headerHash, signatures);
        _commitAuthorized(header, headerHash, publicData);
        _batchSigners[header.batchNumber] = (uint256(epoch) << 192) | bitmap;
        emit BatchSigned(header.batchNumber, epoch, bitmap);
        if (_emits) staking.accrueBatchReward(epoch, header.batchNumber);
        if (msg.value != 0) _openJob(header.batchNumber);
    }

    /// @notice Epoch and signer bitmap of committed batch `batchNumber` (zero once slashed, or
    ///         for genesis; a reverted batch's record stays until its number is committed again).
    function batchSigners(uint64 batchNumber) external view returns (uint64 epoch, uint256 signerBitmap) {
        uint256 r = _batchSigners[batchNumber];
        // forge-lint: disable-next-line(unsafe-typecast)
        return (uint64(r >> 192), r & ((uint256(1) << 192) - 1));
    }

    /// @dev Staked mode: the dispute game takes no sequencer bond (the signers' stake is slashed).
    function _bondsItsSequencer() internal pure override returns (bool) {
        return false;
    }

    /// @dev Staked mode: the owner cannot replace the sequencer set.
    function _checkSequencerChangeAllowed() internal view override {
        // (Written as a condition that always holds, as in `_authorizeCommit`, so the compiler
        // keeps the shared path of `proposeSequencer`.)
        if (address(staking) != address(0)) revert SequencerFixedInStakedMode();
    }

    /// @dev Staked mode: `commitBatch` is refused.
    function _authorizeCommit(bytes32) internal view override {
        // (Written as a condition that always holds, so the compiler keeps the shared commit path.)
        if (address(staking) != address(0)) revert SignaturesRequired();
    }

    /// @dev Dispute game: a faulty batch's signers of record are slashed (their whole stake,
    ///      `SequencerStaking.slashSigners`) before it is reverted. A batch whose signers were
    ///      already slashed is reverted without a second slash.
    function _onFaultyBatch(uint64 batchNumber, address challenger) internal override {
        if (_batchSigners[batchNumber] != 0) _slashBatchSigners(batchNumber, challenger);
    }

    /// @dev Slashes the
    ///      signers of non-final committed batch `batchNumber` through `staking.slashSigners`,
    ///      paying the challenger its share; once per batch (the record is cleared). Call it
    ///      BEFORE `_revertBatchesAfter` drops the batch.
    function _slashBatchSigners(uint64 batchNumber, address challenger) internal returns (uint256 totalSlashed) {
        if (batchNumber <= lastFinalizedBatch) revert BatchAlreadyFinalized(batchNumber);
        if (batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        uint256 r = _batchSigners[batchNumber];
        if (r == 0) revert NoSignersToSlash(batchNumber);
        delete _batchSigners[batchNumber];
        // forge-lint: disable-next-line(unsafe-typecast)
        totalSlashed = staking.slashSigners(uint64(r >> 192), r & ((uint256(1) << 192) - 1), challenger);
        emit BatchSignersSlashed(batchNumber, challenger, totalSlashed);
    }
}
