// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {DisputeGame} from "../src/DisputeGame.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";

/// @notice commitBatchSigned: the >2/3-of-epoch-stake signature rule and its refusals.
contract CommitSignedTest is StakingFixture {
    /// Members 1, 2, 3 with 100 each and member 4 with 300 (total 600): 2/3 is 400.
    function setUp() public override {
        super.setUp();
        doStake(1, 100 ether);
        doStake(2, 100 ether);
        doStake(3, 100 ether);
        doStake(4, 300 ether);
        nextEpoch();
    }

    function test_commitBatchSigned_acceptedWithMoreThanTwoThirdsOfStake() public {
        bytes memory data = opNoop();
        // 4 + 1 + 2 = 500 of 600 > 2/3.
        (TandemRollup.StoredBatch memory sb, TandemRollup.BatchHeader memory h) = commitSigned(data, ids(4, 1, 2));
        assertEq(rollup.lastCommittedBatch(), 1, "committed");
        (uint64 epoch, uint256 bitmap) = staked.batchSigners(1);
        assertEq(epoch, 1, "signed in epoch 1");
        // Ranks: 4 (300) first, then 1, 2, 3 by address.
        assertEq(bitmap, 0x7, "members 0, 1, 2 signed");
        assertEq(h.batchNumber, 1, "batch 1");
        finalizeAfterWindow(sb);
        // Member 3 instead of 2: still 500.
        commitSigned(opNoop(), ids(3, 4, 1));
        (, bitmap) = staked.batchSigners(2);
        assertEq(bitmap, 0xb, "members 0, 1, 3 signed");
    }

    /// @dev The staked path runs the same commit checks: a root at the field modulus is refused
    ///      even with valid signatures over its header; one below it goes in.
    function test_commitBatchSigned_refusesNewStateRootAtFieldModulus() public {
        uint256 modulus = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        h.newStateRoot = bytes32(modulus);
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(h));
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(TandemRollup.StateRootNotInField.selector, bytes32(modulus))
        );
        h.newStateRoot = bytes32(modulus - 1);
        sigs = signSorted(range(1, 4), digestOf(h));
        staked.commitBatchSigned(h, opNoop(), sigs);
        assertEq(rollup.lastCommittedStateRoot(), bytes32(modulus - 1), "committed");
    }

    function test_commitBatchSigned_emitsBatchSigned() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(h));
        vm.expectEmit(address(staked));
        emit StakedRollup.BatchSigned(1, 1, 0xf);
        staked.commitBatchSigned(h, opNoop(), sigs);
    }

    function test_commitBatchSigned_rejectedWithExactlyTwoThirds() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        // 4 + 1 = 400 of 600: exactly 2/3 is not enough.
        bytes[] memory sigs = signSorted(ids(4, 1), digestOf(h));
        expectSignedRevert(
            h,
            opNoop(),
            sigs,
            abi.encodeWithSelector(SequencerStaking.InsufficientSignedStake.selector, 400 ether, 600 ether)
        );
    }

    function test_commitBatchSigned_rejectedWithLessThanTwoThirds() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(ids(1, 2, 3), digestOf(h));
        expectSignedRevert(
            h,
            opNoop(),
            sigs,
            abi.encodeWithSelector(SequencerStaking.InsufficientSignedStake.selector, 300 ether, 600 ether)
        );
        sigs = new bytes[](0);
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.InsufficientSignedStake.selector, 0, 600 ether)
        );
    }

    function test_commitBatchSigned_rejectsNonMemberSignature() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        // 9 never staked.
        bytes[] memory sigs = signSorted(ids(4, 1, 9), digestOf(h));
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.NotActiveMember.selector, 1, signerAddr(9))
        );
    }

    function test_commitBatchSigned_rejectsDuplicatedSigner() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes32 d = digestOf(h);
        bytes[] memory sigs = new bytes[](3);
        sigs[0] = signDigest(keyOf(4), d);
        sigs[1] = signDigest(keyOf(4), d);
        sigs[2] = signDigest(keyOf(1), d);
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.SignersNotAscending.selector, 1, signerAddr(4))
        );
    }

    function test_commitBatchSigned_rejectsUnsortedSigners() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sorted = signSorted(ids(4, 1, 2), digestOf(h));
        bytes[] memory sigs = new bytes[](3);
        (sigs[0], sigs[1], sigs[2]) = (sorted[1], sorted[0], sorted[2]);
        expectSignedRevertSelector(h, opNoop(), sigs, SequencerStaking.SignersNotAscending.selector);
    }

    function test_commitBatchSigned_rejectsSignaturesOverADifferentHeader() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        TandemRollup.BatchHeader memory other = nextHeader(opNoop());
        other.newStateRoot = keccak256("another root");
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(other));
        // They recover to unrelated addresses, which are not members.
        expectSignedRevertSelector(h, opNoop(), sigs, SequencerStaking.NotActiveMember.selector);
        // And the exact same header under another rollup's (or chain's) domain fails too.
        bytes32 foreign = keccak256(
            abi.encode(staking.BATCH_DOMAIN_TAG(), block.chainid, address(0xD1FF), h.batchNumber, keccak256(abi.encode(h)))
        );
        sigs = signSorted(range(1, 4), foreign);
        expectSignedRevertSelector(h, opNoop(), sigs, SequencerStaking.NotActiveMember.selector);
    }

    function test_commitBatchSigned_rejectsPreviousEpochMemberNoLongerActive() public {
        // Member 4 leaves during epoch 1; member 5 joins. In epoch 2 the set is 1, 2, 3, 5.
        doUnstake(4, 300 ether);
        doStake(5, 300 ether);
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        // Still epoch 1: 4's signature counts.
        commitSigned(opNoop(), ids(4, 1, 2));
        nextEpoch();
        h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(ids(4, 1, 2), digestOf(h));
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.NotActiveMember.selector, 2, signerAddr(4))
        );
        commitSigned(opNoop(), ids(5, 1, 2));
        assertEq(rollup.lastCommittedBatch(), 2, "epoch 2 batch with the new member");
    }

    function test_commitBatchSigned_rejectsMalformedSignatures() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes32 d = digestOf(h);
        bytes[] memory sigs = signSorted(range(1, 4), d);
        // High-s twin of a valid signature (malleability) is refused.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf(4), d);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes memory highS = abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        for (uint256 k = 0; k < 4; k++) {
            if (keccak256(sigs[k]) == keccak256(signDigest(keyOf(4), d))) {
                sigs[k] = highS;
                expectSignedRevert(
                    h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.InvalidSignature.selector, k)
                );
                sigs[k] = abi.encodePacked(r, s); // 64 bytes
                expectSignedRevert(
                    h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.InvalidSignature.selector, k)
                );
            }
        }
    }

    function test_commitBatchSigned_stillChecksEverythingCommitBatchChecks() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        h.prevStateRoot = keccak256("wrong");
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(h));
        expectSignedRevert(
            h,
            opNoop(),
            sigs,
            abi.encodeWithSelector(TandemRollup.PrevStateRootMismatch.selector, GENESIS_ROOT, h.prevStateRoot)
        );
    }

    function test_commitBatch_refusedInStakedMode() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        vm.expectRevert(StakedRollup.SignaturesRequired.selector);
        vm.prank(address(staking)); // even the nominal `sequencer()`
        staked.commitBatch(h, opNoop());
        vm.expectRevert(StakedRollup.SignaturesRequired.selector);
        vm.prank(SEQUENCER);
        staked.commitBatch(h, opNoop());
    }

    function test_stakedRollup_depositCommitFinalizeClaimEndToEnd() public {
        depositEth(address(0xA1), 3 ether);
        bytes memory data =
            bytes.concat(opDeposit(1, KEY_PACKED, 0, 3 ether), opWithdraw(1, 0, 2 ether, 0, address(0xB0B)));
        (TandemRollup.StoredBatch memory sb,) = commitSigned(data, range(1, 4));
        finalizeAfterWindow(sb);
        claim(1, data, 0);
        assertEq(address(0xB0B).balance, 2 ether, "withdrawal paid");
    }

    function test_constructor_requiresUnbondingDelayCoveringEpochAndWindow() public {
        SequencerStaking s = boundStaking();
        uint64 window = UNBONDING - EPOCH + 1;
        vm.expectRevert(
            abi.encodeWithSelector(StakedRollup.UnbondingDelayTooShort.selector, UNBONDING, uint256(UNBONDING) + 1)
        );
        new StakedRollup(OWNER, s, GENESIS_ROOT, window, address(0), 0, 1 hours + window + 1 days, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        s = boundStaking();
        window = UNBONDING - EPOCH;
        new StakedRollup(OWNER, s, GENESIS_ROOT, window, address(0), 0, 1 hours + window + 1 days, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
    }

    function test_constructor_withAGameTheUnbondingDelayAlsoCoversTheResponseWindow() public {
        uint64 window = UNBONDING - EPOCH; // enough without a game
        uint64 response = 30;
        // Staking, then the game, then the rollup: both bound to the rollup's address.
        SequencerStaking s =
            new SequencerStaking(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2), params(5, 8));
        DisputeGame game =
            new DisputeGame(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1), 1 ether, response, 1 hours, 0);
        vm.expectRevert(
            abi.encodeWithSelector(StakedRollup.UnbondingDelayTooShort.selector, UNBONDING, uint256(UNBONDING) + response)
        );
        deployWithGame(s, game, window);

        // A window shorter by the response window fits.
        window -= response;
        s = new SequencerStaking(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2), params(5, 8));
        game = new DisputeGame(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1), 1 ether, response, 1 hours, 0);
        deployWithGame(s, game, window);
    }

    function test_constructor_aGameWithASequencerBondIsRefused() public {
        uint64 window = UNBONDING - EPOCH - 30;
        SequencerStaking s =
            new SequencerStaking(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2), params(5, 8));
        DisputeGame game =
            new DisputeGame(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1), 1 ether, 30, 1 hours, 1 ether);
        vm.expectRevert(TandemRollup.SequencerBondMisconfigured.selector);
        deployWithGame(s, game, window);
    }

    /// @dev A StakedRollup with `game` (any contract with code stands for the verifier here).
    function deployWithGame(SequencerStaking s, DisputeGame game, uint64 window) internal returns (StakedRollup) {
        return new StakedRollup(OWNER, s, GENESIS_ROOT, window, exitVerifier, 2, 1 hours + window + 1 days, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(game));
    }

    /// @dev A fresh staking contract bound to this contract's next CREATE address.
    function boundStaking() internal returns (SequencerStaking) {
        return new SequencerStaking(vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1), params(5, 8));
    }

    function test_unchangedSet_signaturesStayValidAcrossEpochs() public {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = signSorted(range(1, 4), digestOf(h));
        nextEpoch(); // nothing changed: epoch 2 reuses epoch 1's snapshot
        staked.commitBatchSigned(h, opNoop(), sigs);
        (uint64 epoch,) = staked.batchSigners(1);
        assertEq(epoch, 2, "judged in the epoch of inclusion");
    }

    function test_signedStake_viewReportsSignersWithoutThreshold() public {
        staking.syncEpoch();
        bytes32 d = keccak256("any digest");
        (uint256 bitmap, uint256 st) = staking.signedStake(1, d, signSorted(ids(1, 2), d));
        assertEq(bitmap, 0x6, "members 1 and 2 (ranks 1, 2)");
        assertEq(st, 200 ether, "their stake");
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EpochNotMaterialized.selector, 7));
        staking.signedStake(7, d, signSorted(ids(1, 2), d));
    }

    function test_activeSet_pastEpochNeverMaterializedReverts() public {
        nextEpoch();
        nextEpoch(); // epoch 2 untouched
        staking.syncEpoch(); // epoch 3
        vm.expectRevert(abi.encodeWithSelector(SequencerStaking.EpochNotMaterialized.selector, 2));
        staking.activeSet(2);
    }

    function test_epochWithoutStake_cannotCommit() public {
        deploy(5, 8);
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        bytes[] memory sigs = new bytes[](0);
        expectSignedRevert(
            h, opNoop(), sigs, abi.encodeWithSelector(SequencerStaking.InsufficientSignedStake.selector, 0, 0)
        );
    }
}

/// @notice Pins the signed digest and the signature encoding to vectors computed off chain
///         with Foundry's `cast` (abi-encode, keccak, `wallet sign --no-hash`), for the Rust side.
contract DigestVectorTest is StakingFixture {
    function test_batchDigest_matchesOffChainVector() public {
        assertEq(block.chainid, 31337, "forge default chain id");
        SequencerStaking s = new SequencerStaking(address(0xaa), params(5, 8));
        assertEq(s.BATCH_DOMAIN_TAG(), keccak256("tandem.batch.v1"), "tag");
        assertEq(
            s.BATCH_DOMAIN_TAG(), 0xef1f54dd602f17e387a19cc45b9e2f7875084aacc800786bba840364b29e6f3a, "tag value"
        );
        bytes32 headerHash = keccak256("tandem.header");
        bytes32 digest = s.batchDigest(0, 1, headerHash);
        assertEq(digest, 0xe1c1e61293f945a4bcc52c0fe4bb94bd4e6b0eded629800f13aae49e4ac0ef12, "digest vector");
        assertEq(
            digest,
            keccak256(
                abi.encode(keccak256("tandem.batch.v1"), uint256(31337), address(0xaa), uint64(0), uint64(1), headerHash)
            ),
            "digest definition"
        );
        // `cast wallet sign --no-hash --private-key 0x..01 <digest>`: r | s | v with v = 27/28.
        bytes memory castSig =
            hex"757500a870e65a7cd043bafe637aeef91523b048f29ddcfdfaf03b9782baae734d0918fd06b27fa1fbf08421c5eec6ef565a68317ab65669e4369aa93bdf6fd31b";
        assertEq(signDigest(1, digest), castSig, "same RFC 6979 signature");
        bytes32 r;
        bytes32 sv;
        assembly {
            r := mload(add(castSig, 32))
            sv := mload(add(castSig, 64))
        }
        assertEq(ecrecover(digest, uint8(castSig[64]), r, sv), vm.addr(1), "recovers to the key's address");
    }
}
