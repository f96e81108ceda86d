// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {RollupFixture} from "./utils/RollupFixture.sol";
import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";

/// @notice Reading the golden vectors in `../vectors` (generated from the Rust reference by
///         `crates/chain/tests/golden_vectors.rs`; format in `vectors/README.md`).
abstract contract GoldenVectorFiles is Test {
    function readVectors(string memory file) internal view returns (string memory) {
        return vm.readFile(string.concat("../vectors/", file));
    }

    /// @dev `base[i].` as a JSON path prefix.
    function item(string memory base, uint256 i) internal pure returns (string memory) {
        return string.concat(base, "[", vm.toString(i), "].");
    }

    /// @dev Number of elements of the array at `base`.
    function countOf(string memory json, string memory base) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(base, "[", vm.toString(n), "]"))) n++;
    }

    function uintAt(string memory json, string memory prefix, string memory key)
        internal
        pure
        returns (uint256)
    {
        return vm.parseJsonUint(json, string.concat(prefix, key));
    }

    function wordAt(string memory json, string memory prefix, string memory key)
        internal
        pure
        returns (bytes32)
    {
        return vm.parseJsonBytes32(json, string.concat(prefix, key));
    }

    function bytesAt(string memory json, string memory prefix, string memory key)
        internal
        pure
        returns (bytes memory)
    {
        return vm.parseJsonBytes(json, string.concat(prefix, key));
    }

    function addressAt(string memory json, string memory prefix, string memory key)
        internal
        pure
        returns (address)
    {
        return vm.parseJsonAddress(json, string.concat(prefix, key));
    }

    /// @dev The 32-byte words of the array at `prefix` + `key` (empty arrays included).
    function wordsAt(string memory json, string memory prefix, string memory key)
        internal
        view
        returns (bytes32[] memory)
    {
        string memory path = string.concat(prefix, key);
        if (!vm.keyExistsJson(json, string.concat(path, "[0]"))) return new bytes32[](0);
        return vm.parseJsonBytes32Array(json, path);
    }

    function nameAt(string memory json, string memory prefix) internal pure returns (string memory) {
        return vm.parseJsonString(json, string.concat(prefix, "name"));
    }
}

/// @notice Op encodings (`ops.json`), packed public keys (`public_keys.json`) and ZK data
///         commitments (`zk_data_hash.json`) against the fixture's encoders and the rollup's
///         `zkDataHash`, `withdrawalLeaf` and `packPublicKey`.
contract GoldenEncodingsTest is RollupFixture, GoldenVectorFiles {
    function test_opEncodings_matchTheFixtureEncodersAndTheContract() public view {
        string memory json = readVectors("ops.json");
        uint32 feeAccount = uint32(uintAt(json, ".", "zkFeeAccount"));
        uint32 slots = uint32(uintAt(json, ".", "zkSlots"));
        uint256 n = countOf(json, ".ops");
        assertGe(n, 14, "all op vectors read");
        uint256 typesSeen;
        for (uint256 i; i < n; i++) {
            string memory k = item(".ops", i);
            string memory name = nameAt(json, k);
            uint256 opType = uintAt(json, k, "opType");
            bytes memory encoding = bytesAt(json, k, "encoding");
            typesSeen |= uint256(1) << opType;
            assertEq(
                encodeOp(json, k, opType), encoding, string.concat(name, ": fixture encoder = vector bytes")
            );
            assertEq(encoding.length, opSize(uint8(opType)), string.concat(name, ": encoded size"));
            assertEq(
                rollup.zkDataHash(feeAccount, encoding, slots),
                wordAt(json, k, "zkDataHash"),
                string.concat(name, ": contract parses one op (zkDataHash)")
            );
            if (opType == 4) {
                assertEq(
                    rollup.withdrawalLeaf(
                        uint8(uintAt(json, k, "token")),
                        uint128(uintAt(json, k, "amount")),
                        addressAt(json, k, "toL1")
                    ),
                    wordAt(json, k, "withdrawalLeaf"),
                    string.concat(name, ": withdrawalLeaf")
                );
            }
        }
        assertEq(typesSeen, 0x1f, "every op type has a vector");
    }

    function encodeOp(string memory json, string memory k, uint256 opType)
        internal
        pure
        returns (bytes memory)
    {
        if (opType == 0) return opNoop();
        uint8 tok = uint8(uintAt(json, k, "token"));
        if (opType == 1) {
            return opDeposit(
                uint24(uintAt(json, k, "to")),
                wordAt(json, k, "pubkey"),
                tok,
                uint128(uintAt(json, k, "amount"))
            );
        }
        uint8 packedFee = uint8(uintAt(json, k, "packedFee"));
        if (opType == 4) {
            return opWithdraw(
                uint24(uintAt(json, k, "from")),
                tok,
                uint128(uintAt(json, k, "amount")),
                packedFee,
                addressAt(json, k, "toL1")
            );
        }
        uint24 from = uint24(uintAt(json, k, "from"));
        uint24 to = uint24(uintAt(json, k, "to"));
        uint32 packedAmount = uint32(uintAt(json, k, "packedAmount"));
        if (opType == 2) return opTransfer(from, to, tok, packedAmount, packedFee);
        require(opType == 3, "vector with an unknown op type");
        return opTransferToNew(from, to, wordAt(json, k, "toPubkey"), tok, packedAmount, packedFee);
    }

    function test_packedPublicKeys_matchPackPublicKey() public view {
        string memory json = readVectors("public_keys.json");
        uint256 n = countOf(json, ".keys");
        assertGe(n, 8, "all key vectors read");
        uint256 signBits;
        for (uint256 i; i < n; i++) {
            string memory k = item(".keys", i);
            bytes32 packed = wordAt(json, k, "packed");
            assertEq(
                rollup.packPublicKey(uintAt(json, k, "x"), uintAt(json, k, "y")),
                packed,
                string.concat("key ", vm.toString(i), ": packPublicKey")
            );
            signBits |= (uint8(packed[31]) & 0x80) == 0 ? 1 : 2;
        }
        assertEq(signBits, 3, "both sign bits of the packing covered");
    }

    function test_zkDataHash_matchesTheVectorsForEverySlotCount() public view {
        string memory json = readVectors("zk_data_hash.json");
        uint256 n = countOf(json, "$");
        assertGe(n, 8, "all zk vectors read");
        for (uint256 i; i < n; i++) {
            string memory k = item("$", i);
            string memory what = string.concat("zk vector ", vm.toString(i));
            uint32 slots = uint32(uintAt(json, k, "slots"));
            bytes memory zkPublicData = bytesAt(json, k, "zkPublicData");
            bytes32 expected = wordAt(json, k, "zkDataHash");
            assertEq(zkPublicData.length, 4 + 52 * uint256(slots), string.concat(what, ": record size"));
            assertEq(
                sha256(zkPublicData) & bytes32(type(uint256).max >> 3),
                expected,
                string.concat(what, ": hash of the zkPublicData")
            );
            assertEq(
                rollup.zkDataHash(
                    uint32(uintAt(json, k, "feeAccount")), bytesAt(json, k, "publicData"), slots
                ),
                expected,
                string.concat(what, ": contract zkDataHash")
            );
        }
    }
}

/// @notice Whole batches (`batches.json`): the rollup queues the vector's deposits, accepts
///         its public data under its header, emits and stores its StoredBatch, finalizes with
///         it and pays every withdrawal with the vector's proof; refused public data reverts
///         with the vector's error.
contract GoldenBatchesTest is RollupFixture, GoldenVectorFiles {
    bytes32 internal constant BATCH_COMMITTED =
        keccak256("BatchCommitted(uint64,bytes32,bytes32,bytes32,uint32,uint64,uint64,uint8)");

    function readHeader(string memory json, string memory k)
        internal
        pure
        returns (TandemRollup.BatchHeader memory h)
    {
        h.batchNumber = uint64(uintAt(json, k, "batchNumber"));
        h.prevStateRoot = wordAt(json, k, "prevStateRoot");
        h.newStateRoot = wordAt(json, k, "newStateRoot");
        h.publicDataHash = wordAt(json, k, "publicDataHash");
        h.intermediateRootsRoot = wordAt(json, k, "intermediateRootsRoot");
        h.priorityOpsCount = uint32(uintAt(json, k, "priorityOpsCount"));
        h.lane = uint8(uintAt(json, k, "lane"));
        h.opCount = uint32(uintAt(json, k, "opCount"));
        h.feeAccount = uint32(uintAt(json, k, "feeAccount"));
    }

    function readStored(string memory json, string memory k)
        internal
        pure
        returns (TandemRollup.StoredBatch memory sb)
    {
        sb.batchNumber = uint64(uintAt(json, k, "batchNumber"));
        sb.lane = uint8(uintAt(json, k, "lane"));
        sb.committedAt = uint64(uintAt(json, k, "committedAt"));
        sb.priorityOpsEnd = uint64(uintAt(json, k, "priorityOpsEnd"));
        sb.withdrawalCount = uint32(uintAt(json, k, "withdrawalCount"));
        sb.headerHash = wordAt(json, k, "headerHash");
        sb.newStateRoot = wordAt(json, k, "newStateRoot");
        sb.withdrawalsRoot = wordAt(json, k, "withdrawalsRoot");
    }

    function test_batches_commitFinalizeAndPayAsTheVectorsSay() public {
        string memory json = readVectors("batches.json");
        vm.warp(uintAt(json, ".", "committedAt"));
        assertEq(rollup.lastCommittedStateRoot(), wordAt(json, ".", "genesisStateRoot"), "genesis root");
        uint256 n = countOf(json, ".batches");
        assertGe(n, 4, "all batch vectors read");
        for (uint256 i; i < n; i++) {
            commitVector(json, item(".batches", i));
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i; i < n; i++) {
            finalizeAndClaim(json, item(".batches", i));
        }
    }

    function queueDeposits(string memory json, string memory k, string memory name) internal {
        uint256 n = countOf(json, string.concat(k, "deposits"));
        for (uint256 i; i < n; i++) {
            string memory d = item(string.concat(k, "deposits"), i);
            uint8 depositToken = uint8(uintAt(json, d, "token"));
            uint128 amount = uint128(uintAt(json, d, "amount"));
            uint256 x = uintAt(json, d, "pubX");
            uint256 y = uintAt(json, d, "pubY");
            bytes32 packedKey = wordAt(json, d, "packedKey");
            assertEq(rollup.packPublicKey(x, y), packedKey, string.concat(name, ": deposit key packs"));
            uint64 queueIndex;
            if (depositToken == 0) {
                vm.deal(address(this), amount);
                queueIndex = rollup.depositETH{value: amount}(x, y);
            } else {
                assertEq(depositToken, tokenId, string.concat(name, ": deposits use the fixture's token"));
                token.mint(address(this), amount);
                token.approve(address(rollup), amount);
                queueIndex = rollup.depositERC20(address(token), amount, x, y);
            }
            assertEq(queueIndex, uintAt(json, d, "queueIndex"), string.concat(name, ": queue index"));
            assertEq(
                rollup.priorityQueue(queueIndex),
                keccak256(abi.encodePacked(packedKey, depositToken, amount)),
                string.concat(name, ": queue entry")
            );
        }
    }

    function commitVector(string memory json, string memory k) internal {
        string memory name = nameAt(json, k);
        queueDeposits(json, k, name);
        TandemRollup.BatchHeader memory h = readHeader(json, string.concat(k, "header."));
        bytes memory data = bytesAt(json, k, "publicData");
        assertEq(rollup.hashHeader(h), wordAt(json, k, "headerHash"), string.concat(name, ": hashHeader"));
        assertEq(sha256(data), h.publicDataHash, string.concat(name, ": sha256 of the public data"));
        assertEq(
            merkleRoot(wordsAt(json, k, "intermediateRoots")),
            h.intermediateRootsRoot,
            string.concat(name, ": intermediate roots root (fixture tree)")
        );

        vm.recordLogs();
        // The fixture commits as the sequencer and checks the record against its own reader.
        TandemRollup.StoredBatch memory committed = commitWith(h, data);
        TandemRollup.StoredBatch memory expected = readStored(json, string.concat(k, "storedBatch."));
        checkCommittedEvent(vm.getRecordedLogs(), expected, name);
        assertEq(
            keccak256(abi.encode(committed)),
            keccak256(abi.encode(expected)),
            string.concat(name, ": stored batch = vector")
        );
        bytes32 storedHash = wordAt(json, k, "storedBatchHash");
        assertEq(rollup.hashStoredBatch(expected), storedHash, string.concat(name, ": hashStoredBatch"));
        assertEq(rollup.batchRecordHash(h.batchNumber), storedHash, string.concat(name, ": stored record"));
        assertEq(expected.withdrawalsRoot, wordAt(json, k, "withdrawalsRoot"), string.concat(name, ": root"));
    }

    function checkCommittedEvent(Vm.Log[] memory logs, TandemRollup.StoredBatch memory sb, string memory name)
        internal
        view
    {
        uint256 found;
        for (uint256 i; i < logs.length; i++) {
            if (logs[i].emitter != address(rollup) || logs[i].topics[0] != BATCH_COMMITTED) continue;
            found++;
            assertEq(
                logs[i].topics[1], bytes32(uint256(sb.batchNumber)), string.concat(name, ": event batch")
            );
            assertEq(
                logs[i].data,
                abi.encode(
                    sb.headerHash,
                    sb.newStateRoot,
                    sb.withdrawalsRoot,
                    sb.withdrawalCount,
                    sb.priorityOpsEnd,
                    sb.committedAt,
                    sb.lane
                ),
                string.concat(name, ": BatchCommitted fields")
            );
        }
        assertEq(found, 1, string.concat(name, ": one BatchCommitted"));
    }

    function finalizeAndClaim(string memory json, string memory k) internal {
        string memory name = nameAt(json, k);
        TandemRollup.StoredBatch memory sb = readStored(json, string.concat(k, "storedBatch."));
        rollup.finalizeBatch(sb);
        (bytes32 root, uint32 count) = rollup.finalizedWithdrawals(sb.batchNumber);
        uint256 n = countOf(json, string.concat(k, "withdrawals"));
        assertEq(root, wordAt(json, k, "withdrawalsRoot"), string.concat(name, ": finalized root"));
        assertEq(count, n, string.concat(name, ": finalized count"));
        for (uint256 i; i < n; i++) {
            claimVector(json, item(string.concat(k, "withdrawals"), i), sb.batchNumber, name);
        }
    }

    struct VectorWithdrawal {
        uint32 index;
        uint8 tokenId;
        uint128 amount;
        address recipient;
        bytes32[] proof;
    }

    function readWithdrawal(string memory json, string memory w)
        internal
        view
        returns (VectorWithdrawal memory v)
    {
        v.index = uint32(uintAt(json, w, "index"));
        v.tokenId = uint8(uintAt(json, w, "tokenId"));
        v.amount = uint128(uintAt(json, w, "amount"));
        v.recipient = addressAt(json, w, "recipient");
        v.proof = wordsAt(json, w, "proof");
    }

    function balanceOf(address holder, uint8 tok) internal view returns (uint256) {
        return tok == 0 ? holder.balance : token.balanceOf(holder);
    }

    function claimVector(string memory json, string memory w, uint64 batchNumber, string memory name)
        internal
    {
        VectorWithdrawal memory v = readWithdrawal(json, w);
        assertEq(
            rollup.withdrawalLeaf(v.tokenId, v.amount, v.recipient),
            wordAt(json, w, "leaf"),
            string.concat(name, ": leaf")
        );
        uint256 before = balanceOf(v.recipient, v.tokenId);
        rollup.claimWithdrawal(batchNumber, v.index, v.tokenId, v.amount, v.recipient, v.proof);
        assertEq(
            balanceOf(v.recipient, v.tokenId) - before, v.amount, string.concat(name, ": withdrawal paid")
        );
        assertTrue(rollup.isWithdrawalClaimed(batchNumber, v.index), string.concat(name, ": claimed"));
    }

    function test_refusedPublicData_revertsWithTheVectorsError() public {
        string memory json = readVectors("batches.json");
        uint256 n = countOf(json, ".refused");
        assertGe(n, 5, "all refusal vectors read");
        for (uint256 i; i < n; i++) {
            string memory k = item(".refused", i);
            bytes4 selector = bytes4(keccak256(bytes(vm.parseJsonString(json, string.concat(k, "error")))));
            expectCommitRevert(
                readHeader(json, string.concat(k, "header.")),
                bytesAt(json, k, "publicData"),
                abi.encodeWithSelector(selector, uintAt(json, k, "offset"), uint8(uintAt(json, k, "code")))
            );
        }
        assertEq(rollup.lastCommittedBatch(), 0, "nothing committed");
    }
}

/// @notice Batch and vote digests (`digests.json`) against `SequencerStaking.batchDigest` /
///         `voteDigest` on the vector's chain id and rollup address, and the vector's
///         secp256k1 signatures against `vm.sign` with its test key and `ecrecover`.
contract GoldenDigestsTest is StakingFixture, GoldenVectorFiles {
    function test_digestsAndSignatures_matchTheVectors() public {
        string memory json = readVectors("digests.json");
        vm.chainId(uintAt(json, ".", "chainId"));
        SequencerStaking bound = new SequencerStaking(addressAt(json, ".", "rollup"), params(5, 8));
        uint256 key = uintAt(json, ".", "signerKey");
        address signer = addressAt(json, ".", "signer");
        assertEq(vm.addr(key), signer, "signer of the test key");
        activateVectorSigner(signer);

        uint256 n = countOf(json, ".batchDigests");
        assertGe(n, 5, "all batch digest vectors read");
        for (uint256 i; i < n; i++) {
            string memory k = item(".batchDigests", i);
            bytes32 digest =
                bound.batchDigest(
                    uint64(uintAt(json, k, "revertCount")), uint64(uintAt(json, k, "batchNumber")), wordAt(json, k, "headerHash")
                );
            assertEq(digest, wordAt(json, k, "digest"), string.concat("batch digest ", vm.toString(i)));
            checkSignature(json, k, key, digest, signer);
            checkMemberSignature(digest, bytesAt(json, k, "signature"), k);
        }
        n = countOf(json, ".voteDigests");
        assertGe(n, 5, "all vote digest vectors read");
        uint256 kinds;
        for (uint256 i; i < n; i++) {
            string memory k = item(".voteDigests", i);
            uint8 voteType = uint8(uintAt(json, k, "voteType"));
            bytes32 valueId = wordAt(json, k, "valueId");
            kinds |= uint256(1) << (uint256(voteType) * 2 + (valueId == bytes32(0) ? 0 : 1));
            bytes32 digest = bound.voteDigest(
                uint64(uintAt(json, k, "height")), uint32(uintAt(json, k, "round")), voteType, valueId
            );
            assertEq(digest, wordAt(json, k, "digest"), string.concat("vote digest ", vm.toString(i)));
            checkSignature(json, k, key, digest, signer);
            checkMemberSignature(digest, bytesAt(json, k, "signature"), k);
        }
        assertEq(kinds, 0xf, "prevote and precommit, nil and non-nil");
    }

    /// @dev Epoch in which the vector's signer is the only member of the fixture's `staking`.
    uint64 internal signerEpoch;

    /// @dev Stakes for the vector's signing key on the fixture's staking contract and moves to
    ///      the epoch where it is the only member, so that `signedStake` runs the contract's
    ///      own signature check (65 bytes, v 27/28, low s) on the vector's signatures.
    function activateVectorSigner(address signer) internal {
        address staker = stakerAddr(1);
        stakeToken.mint(staker, MIN_STAKE);
        vm.prank(staker);
        stakeToken.approve(address(staking), MIN_STAKE);
        vm.prank(staker);
        staking.stake(MIN_STAKE, signer, "");
        nextEpoch();
        signerEpoch = staking.syncEpoch();
    }

    function checkMemberSignature(bytes32 digest, bytes memory signature, string memory k) internal view {
        bytes[] memory one = new bytes[](1);
        one[0] = signature;
        (uint256 bitmap, uint256 stake_) = staking.signedStake(signerEpoch, digest, one);
        assertEq(bitmap, 1, string.concat(k, " SequencerStaking accepts the signature as member 0's"));
        assertEq(stake_, MIN_STAKE, string.concat(k, " signed stake"));
    }

    function checkSignature(string memory json, string memory k, uint256 key, bytes32 digest, address signer)
        internal
        pure
    {
        bytes memory signature = bytesAt(json, k, "signature");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        assertEq(abi.encodePacked(r, s, v), signature, string.concat(k, " signature = vm.sign"));
        assertEq(signature.length, 65, string.concat(k, " signature length"));
        bytes32 sr;
        bytes32 ss;
        uint8 sv;
        assembly ("memory-safe") {
            sr := mload(add(signature, 0x20))
            ss := mload(add(signature, 0x40))
            sv := byte(0, mload(add(signature, 0x60)))
        }
        address recovered = ecrecover(digest, sv, sr, ss);
        assertEq(recovered, addressAt(json, k, "recovered"), string.concat(k, " ecrecover"));
        assertEq(recovered, signer, string.concat(k, " recovers the signer"));
    }
}
