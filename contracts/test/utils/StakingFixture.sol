// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./RollupFixture.sol";
import {TandemRollup} from "../../src/TandemRollup.sol";
import {StakedRollup} from "../../src/StakedRollup.sol";
import {SequencerStaking} from "../../src/SequencerStaking.sol";
import {DevToken} from "../../src/DevToken.sol";

/// @notice Staked-mode set-up: a DevToken staking token, SequencerStaking bound to a
///         StakedRollup, and helpers to stake, move between epochs and sign batch digests.
///         Sequencer i (1-based) stakes from `stakerAddr(i)` and signs with private key
///         `keyOf(i)` (address `signerAddr(i)`).
abstract contract StakingFixture is RollupFixture {
    SequencerStaking internal staking;
    StakedRollup internal staked;
    DevToken internal stakeToken;

    address internal constant TREASURY = address(0x7EA5);
    uint96 internal constant MIN_STAKE = 100 ether;
    uint96 internal constant MAX_STAKE = 10_000 ether;
    uint64 internal constant EPOCH = 1 hours;
    uint64 internal constant UNBONDING = 2 days;
    uint16 internal constant SLASH_BPS = 1000; // 10 %
    uint16 internal constant REPORTER_BPS = 5000; // half of it to the reporter
    /// @dev `emissionPerBatch` of the next `deploy` (0: no emission, the rollup never accrues).
    uint256 internal emission;

    function setUp() public virtual override {
        deploy(5, 8);
    }

    function params(uint16 maxActive, uint32 maxStakers) internal view returns (SequencerStaking.Params memory) {
        return SequencerStaking.Params({
            stakingToken: stakeToken,
            treasury: TREASURY,
            minStake: MIN_STAKE,
            maxStake: MAX_STAKE,
            epochLength: EPOCH,
            unbondingDelay: UNBONDING,
            maxActive: maxActive,
            maxStakers: maxStakers,
            slashBps: SLASH_BPS,
            reporterBps: REPORTER_BPS,
            emissionPerBatch: emission
        });
    }

    function deploy(uint16 maxActive, uint32 maxStakers) internal {
        vm.warp(T0);
        stakeToken = new DevToken("Tandem Stake", "TSTK", 18, address(this), 0);
        // Staking is bound to the rollup's address: this contract's next CREATE.
        address next = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        staking = new SequencerStaking(next, params(maxActive, maxStakers));
        staked = new StakedRollup(OWNER, staking, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        rollup = staked;
        token = new DevToken("Tandem Dev", "TDEV", 18, address(this), 0);
        vm.prank(OWNER);
        tokenId = rollup.addToken(address(token));
    }

    // ------------------------------------------------------------------ identities

    function keyOf(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("tandem.test.sequencer.key", i))) % (2 ** 255);
    }

    function signerAddr(uint256 i) internal pure returns (address) {
        return vm.addr(keyOf(i));
    }

    function stakerAddr(uint256 i) internal pure returns (address) {
        return address(uint160(0x5000 + i));
    }

    function doStake(uint256 i, uint256 amount) internal {
        address s = stakerAddr(i);
        stakeToken.mint(s, amount);
        vm.prank(s);
        stakeToken.approve(address(staking), amount);
        vm.prank(s);
        staking.stake(amount, signerAddr(i), bytes(string.concat("10.0.0.", vm.toString(i), ":26656")));
    }

    /// @dev `funder` receives `amount` and adds it to the emission reserve.
    function fundEmission(address funder, uint256 amount) internal {
        stakeToken.mint(funder, amount);
        vm.prank(funder);
        stakeToken.approve(address(staking), amount);
        vm.prank(funder);
        staking.fundEmission(amount);
    }

    function doUnstake(uint256 i, uint256 amount) internal {
        vm.prank(stakerAddr(i));
        staking.unstake(amount);
    }

    function nextEpoch() internal {
        uint64 e = staking.currentEpoch();
        vm.warp(staking.epochStart(e + 1));
    }

    function activeStakers(uint64 epoch) internal view returns (address[] memory stakers) {
        (stakers,,,) = staking.activeSet(epoch);
    }

    function isActive(uint64 epoch, address staker) internal view returns (bool) {
        address[] memory s = activeStakers(epoch);
        for (uint256 k = 0; k < s.length; k++) {
            if (s[k] == staker) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ signatures

    function signDigest(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function digestOf(TandemRollup.BatchHeader memory h) internal view returns (bytes32) {
        return staking.batchDigest(0, h.batchNumber, keccak256(abi.encode(h)));
    }

    /// @dev Signatures of sequencers `who` over `digest`, sorted by signer address.
    function signSorted(uint256[] memory who, bytes32 digest) internal pure returns (bytes[] memory sigs) {
        uint256 n = who.length;
        uint256[] memory order = new uint256[](n);
        for (uint256 k = 0; k < n; k++) order[k] = who[k];
        for (uint256 a = 1; a < n; a++) {
            uint256 x = order[a];
            uint256 b = a;
            while (b > 0 && signerAddr(order[b - 1]) > signerAddr(x)) {
                order[b] = order[b - 1];
                b--;
            }
            order[b] = x;
        }
        sigs = new bytes[](n);
        for (uint256 k = 0; k < n; k++) sigs[k] = signDigest(keyOf(order[k]), digest);
    }

    function ids(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function ids(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function ids(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function range(uint256 from, uint256 to) internal pure returns (uint256[] memory r) {
        r = new uint256[](to - from + 1);
        for (uint256 k = 0; k < r.length; k++) r[k] = from + k;
    }

    /// @dev Commits `data` as the next batch with the signatures of `signers`; returns the StoredBatch.
    function commitSigned(bytes memory data, uint256[] memory signers)
        internal
        returns (TandemRollup.StoredBatch memory sb, TandemRollup.BatchHeader memory h)
    {
        h = nextHeader(data);
        bytes[] memory sigs = signSorted(signers, digestOf(h));
        uint64 headBefore = rollup.priorityHead();
        staked.commitBatchSigned(h, data, sigs);
        (,, Withdrawal[] memory ws) = readPublicData(data);
        sb = TandemRollup.StoredBatch({
            batchNumber: h.batchNumber,
            lane: h.lane,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: headBefore + h.priorityOpsCount,
            withdrawalCount: uint32(ws.length),
            headerHash: keccak256(abi.encode(h)),
            newStateRoot: h.newStateRoot,
            withdrawalsRoot: merkleRoot(leavesOf(ws))
        });
        assertEq(rollup.batchRecordHash(h.batchNumber), keccak256(abi.encode(sb)), "stored batch record");
    }

    function expectSignedRevert(TandemRollup.BatchHeader memory h, bytes memory data, bytes[] memory sigs, bytes memory err)
        internal
    {
        vm.expectRevert(err);
        staked.commitBatchSigned(h, data, sigs);
    }

    /// @dev Expects commitBatchSigned to revert with custom error `selector` (any arguments).
    function expectSignedRevertSelector(
        TandemRollup.BatchHeader memory h,
        bytes memory data,
        bytes[] memory sigs,
        bytes4 selector
    ) internal {
        try staked.commitBatchSigned(h, data, sigs) {
            revert AssertionFailed("commitBatchSigned did not revert");
        } catch (bytes memory err) {
            assertTrue(err.length >= 4 && bytes4(err) == selector, "unexpected revert reason");
        }
    }
}
