// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {ZkLane} from "../src/rollup/ZkLane.sol";
import {Verifier} from "../src/verifiers/BatchVerifier_S2_D4.sol";
import {console} from "./utils/Vm.sol";

/// @notice Validity lane with real proofs: the generated Groth16 verifier
///         (`src/verifiers/BatchVerifier_S2_D4.sol`, S = 2, D = 4) and the circuit's proof
///         fixtures (`crates/circuit/fixtures/proof_S2_D4.json` and `proof_S2_D4_prover2.json`:
///         one batch (a Deposit, a TransferToNew) from the fixture's prevRoot, proven for two
///         different prover addresses). No mock verifier anywhere.
abstract contract ZkProofFixture is RollupFixture {
    string internal constant FIXTURE = "../crates/circuit/fixtures/proof_S2_D4.json";
    string internal constant FIXTURE_PROVER2 = "../crates/circuit/fixtures/proof_S2_D4_prover2.json";

    struct Fixture {
        uint32 slots;
        bytes32 prevRoot;
        bytes32 newRoot;
        bytes32 dataHash;
        uint32 feeAccount;
        bytes publicData;
        uint32 opCount;
        uint32 priorityOpsCount;
        uint256 depositX;
        uint256 depositY;
        uint128 depositAmount;
        bytes32 depositKey;
        bytes32 intermediateRootsRoot;
        bytes32 publicDataHash;
        address prover;
        uint256[8] proof;
        address otherProver;
        uint256[8] otherProof;
    }

    Fixture internal fx;
    Verifier internal verifier;

    function setUp() public virtual override {
        string memory json = vm.readFile(FIXTURE);
        fx.slots = uint32(vm.parseJsonUint(json, ".slots"));
        fx.prevRoot = vm.parseJsonBytes32(json, ".prevRoot");
        fx.newRoot = vm.parseJsonBytes32(json, ".newRoot");
        fx.dataHash = vm.parseJsonBytes32(json, ".dataHash");
        fx.feeAccount = uint32(vm.parseJsonUint(json, ".feeAccount"));
        fx.publicData = vm.parseJsonBytes(json, ".publicData");
        fx.opCount = uint32(vm.parseJsonUint(json, ".opCount"));
        fx.priorityOpsCount = uint32(vm.parseJsonUint(json, ".priorityOpsCount"));
        fx.intermediateRootsRoot = vm.parseJsonBytes32(json, ".intermediateRootsRoot");
        fx.publicDataHash = vm.parseJsonBytes32(json, ".publicDataHash");
        fx.prover = vm.parseJsonAddress(json, ".prover");
        fx.proof = toProof(vm.parseJsonUintArray(json, ".proof"));
        // The fixture's one deposit (ETH) is made on L1 before the batch is committed.
        assertEq(fx.priorityOpsCount, 1, "one deposit");
        assertEq(vm.parseJsonUint(json, ".deposits[0].token"), 0, "ETH deposit");
        fx.depositX = vm.parseJsonUint(json, ".deposits[0].pubX");
        fx.depositY = vm.parseJsonUint(json, ".deposits[0].pubY");
        fx.depositAmount = uint128(vm.parseJsonUint(json, ".deposits[0].amount"));
        fx.depositKey = vm.parseJsonBytes32(json, ".deposits[0].packedKey");
        // The second file: the same batch proven for another prover address.
        string memory json2 = vm.readFile(FIXTURE_PROVER2);
        assertEq(vm.parseJsonBytes32(json2, ".dataHash"), fx.dataHash, "same batch");
        assertEq(vm.parseJsonBytes32(json2, ".newRoot"), fx.newRoot, "same batch");
        fx.otherProver = vm.parseJsonAddress(json2, ".prover");
        fx.otherProof = toProof(vm.parseJsonUintArray(json2, ".proof"));
        assertEq(fx.slots, 2, "fixture for S = 2");
        assertTrue(fx.prover != fx.otherProver, "two provers");

        vm.warp(T0);
        verifier = new Verifier();
        deployZkRollup(fx.prevRoot);
    }

    /// @dev A fresh rollup from `genesis` with the validity lane on (`verifier`, S = fx.slots).
    function deployZkRollup(bytes32 genesis) internal {
        deployRollup(genesis, address(verifier), fx.slots);
        depositFixture();
    }

    /// @dev A fresh rollup from `genesis`, validity lane off.
    function deployRollup(bytes32 genesis) internal {
        deployRollup(genesis, address(0), 0);
        depositFixture();
    }

    function depositFixture() internal {
        vm.deal(address(0xD1), fx.depositAmount);
        vm.prank(address(0xD1));
        rollup.depositETH{value: fx.depositAmount}(fx.depositX, fx.depositY);
    }

    function toProof(uint256[] memory words) internal pure returns (uint256[8] memory p) {
        require(words.length == 8, "proof: 8 words");
        for (uint256 i = 0; i < 8; i++) {
            p[i] = words[i];
        }
    }

    function fixtureHeader() internal view returns (TandemRollup.BatchHeader memory h) {
        h = TandemRollup.BatchHeader({
            batchNumber: rollup.lastCommittedBatch() + 1,
            prevStateRoot: fx.prevRoot,
            newStateRoot: fx.newRoot,
            publicDataHash: fx.publicDataHash,
            intermediateRootsRoot: fx.intermediateRootsRoot,
            priorityOpsCount: fx.priorityOpsCount,
            lane: 1,
            opCount: fx.opCount,
            feeAccount: fx.feeAccount
        });
    }

    /// @dev Commits the fixture's batch as the next (ZK) batch.
    function commitFixture() internal returns (TandemRollup.StoredBatch memory) {
        return commitWith(fixtureHeader(), fx.publicData);
    }

    /// @dev With a gas cap: a malformed point makes the pairing precompile fail, which burns
    ///      all the gas given to it (the verifier then reverts, proveBatch keeps 1/64 for
    ///      InvalidProof); uncapped, one such call would eat the whole test's gas.
    function prove(address who, uint64 batchNumber, uint256[8] memory proof) internal {
        vm.prank(who);
        rollup.proveBatch{gas: 2_000_000}(batchNumber, fx.prevRoot, fx.newRoot, fx.dataHash, proof);
    }

    function expectInvalid(address who, uint64 batchNumber, uint256[8] memory proof) internal {
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, batchNumber, who));
        prove(who, batchNumber, proof);
    }
}

contract ZkProofTest is ZkProofFixture {
    // ------------------------------------------------------------------ the fixture itself

    function test_fixture_matchesL1Encodings() public view {
        assertEq(sha256(fx.publicData), fx.publicDataHash, "publicDataHash = sha256(publicData)");
        assertEq(
            rollup.packPublicKey(fx.depositX, fx.depositY), fx.depositKey, "deposit key packs as in the op"
        );
        assertEq(
            rollup.zkDataHash(fx.feeAccount, fx.publicData, fx.slots),
            fx.dataHash,
            "circuit's dataHash = L1 zkDataHash"
        );
    }

    function test_verifier_acceptsFixtureProofsDirectly() public view {
        verifier.verifyProof(
            fx.proof,
            [uint256(fx.prevRoot), uint256(fx.newRoot), uint256(fx.dataHash), uint256(uint160(fx.prover))]
        );
        verifier.verifyProof(
            fx.otherProof,
            [
                uint256(fx.prevRoot),
                uint256(fx.newRoot),
                uint256(fx.dataHash),
                uint256(uint160(fx.otherProver))
            ]
        );
    }

    // ------------------------------------------------------------------ genuine proof

    function test_proveBatch_genuineProofFinalizesAtOnce_optimisticNeighbourWaits() public {
        TandemRollup.StoredBatch memory zk = commitFixture();
        TandemRollup.StoredBatch memory op = commit(opTransfer(1, 2, 0, 1, 0)); // batch 2, lane 0
        assertEq(rollup.lastCommittedStateRoot(), op.newStateRoot, "tip");

        vm.expectRevert(abi.encodeWithSelector(TandemRollup.NotProven.selector, 1));
        rollup.finalizeBatch(zk);

        vm.expectEmit(address(rollup));
        emit ZkLane.BatchProven(1, fx.prover);
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven");

        // Same block as the commit: the ZK batch is final at once...
        assertEq(block.timestamp, zk.committedAt, "no time passed");
        vm.expectEmit(address(rollup));
        emit TandemRollup.BatchFinalized(1, fx.newRoot, zk.withdrawalsRoot, zk.withdrawalCount);
        rollup.finalizeBatch(zk);
        assertEq(rollup.lastFinalizedBatch(), 1, "ZK batch final");
        assertEq(rollup.lastFinalizedStateRoot(), fx.newRoot, "final root");

        // ...while the optimistic batch after it waits for its own window.
        vm.expectRevert(
            abi.encodeWithSelector(
                TandemRollup.ChallengeWindowOpen.selector, 2, uint256(op.committedAt) + WINDOW
            )
        );
        rollup.finalizeBatch(op);
        vm.warp(op.committedAt + WINDOW);
        rollup.finalizeBatch(op);
        assertEq(rollup.lastFinalizedBatch(), 2, "optimistic batch final after its window");
    }

    function test_proveBatch_secondProverWithItsOwnProof() public {
        TandemRollup.StoredBatch memory zk = commitFixture();
        prove(fx.otherProver, 1, fx.otherProof);
        assertTrue(rollup.isProven(1), "proven");
        rollup.finalizeBatch(zk);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
    }

    function test_proveBatch_provenZkBatchWaitsForOptimisticPredecessor() public {
        // A rollup whose optimistic batch 1 ends at the fixture's prevRoot; batch 2 = fixture.
        deployZkRollup(keccak256("another genesis"));
        bytes memory data = opTransfer(1, 2, 0, 1, 0);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.newStateRoot = fx.prevRoot;
        TandemRollup.StoredBatch memory first = commitWith(h, data);
        TandemRollup.StoredBatch memory zk = commitFixture(); // batch 2
        prove(fx.prover, 2, fx.proof);
        vm.expectRevert(abi.encodeWithSelector(TandemRollup.PreviousBatchNotFinalized.selector, 2, 0));
        rollup.finalizeBatch(zk);
        vm.warp(first.committedAt + WINDOW);
        rollup.finalizeBatch(first);
        rollup.finalizeBatch(zk);
        assertEq(rollup.lastFinalizedBatch(), 2, "both final");
    }

    // ------------------------------------------------------------------ refused proofs

    function test_proveBatch_refusesTamperedProof() public {
        commitFixture();
        for (uint256 i = 0; i < 8; i++) {
            uint256[8] memory bad = fx.proof;
            bad[i] ^= 1;
            expectInvalid(fx.prover, 1, bad);
        }
        // A (valid curve points) swapped with C.
        uint256[8] memory swapped = fx.proof;
        (swapped[0], swapped[1], swapped[6], swapped[7]) =
        (fx.proof[6], fx.proof[7], fx.proof[0], fx.proof[1]);
        expectInvalid(fx.prover, 1, swapped);
        uint256[8] memory zero;
        expectInvalid(fx.prover, 1, zero);
        assertFalse(rollup.isProven(1), "not proven");
        prove(fx.prover, 1, fx.proof); // the genuine one still works
        assertTrue(rollup.isProven(1), "proven");
    }

    function test_proveBatch_refusesProofFromAnotherAddress() public {
        commitFixture();
        // The first proof binds fx.prover: copied by the other prover, or by anyone, it fails.
        expectInvalid(fx.otherProver, 1, fx.proof);
        expectInvalid(address(0xBAD), 1, fx.proof);
        // And the other prover's proof is refused when fx.prover submits it.
        expectInvalid(fx.prover, 1, fx.otherProof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    function test_proveBatch_refusesProofForAnotherBatch() public {
        // Batch 1: the fixture's batch (optimistic lane: not provable); batch 2: another ZK
        // batch from the fixture's newRoot. The fixture's proof is for neither.
        deployZkRollup(fx.prevRoot);
        TandemRollup.BatchHeader memory h = fixtureHeader();
        h.lane = 0;
        commitWith(h, fx.publicData);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.NotZkBatch.selector, 1));
        prove(fx.prover, 1, fx.proof);

        bytes memory data = opTransfer(3, 4, 0, 5, 0);
        TandemRollup.BatchHeader memory h2 = nextHeader(data);
        h2.lane = 1;
        h2.feeAccount = fx.feeAccount;
        commitWith(h2, data);
        bytes32 dh2 = rollup.zkDataHash(h2.feeAccount, data, fx.slots);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.InvalidProof.selector, 2, fx.prover));
        vm.prank(fx.prover);
        rollup.proveBatch(2, h2.prevStateRoot, h2.newStateRoot, dh2, fx.proof);
        // Nor can the fixture's inputs be passed for batch 2.
        vm.expectRevert(abi.encodeWithSelector(ZkLane.ZkPublicInputsMismatch.selector, 2));
        prove(fx.prover, 2, fx.proof);
    }

    function test_proveBatch_refusesSecondProofAndFinalBatches() public {
        TandemRollup.StoredBatch memory zk = commitFixture();
        prove(fx.prover, 1, fx.proof);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.BatchAlreadyProven.selector, 1));
        prove(fx.otherProver, 1, fx.otherProof);
        rollup.finalizeBatch(zk);
        vm.expectRevert(abi.encodeWithSelector(ZkLane.BatchAlreadyProven.selector, 1));
        prove(fx.prover, 1, fx.proof);
    }
}

/// @dev Stand-in for a verifier whose `verifyProof` answers `false`.
contract FalseVerifier {
    function verifyProof(uint256[8] calldata, uint256[4] calldata) external pure returns (bool) {
        return false;
    }
}

/// @dev Stand-in for a contract without `verifyProof`: its fallback accepts any call and returns nothing.
contract SilentFallback {
    fallback() external {}
}

/// @dev Stand-in for a verifier that answers `true` followed by another word (64 bytes).
contract TwoWordVerifier {
    function verifyProof(uint256[8] calldata, uint256[4] calldata) external pure returns (bool, bool) {
        return (true, true);
    }
}

/// @notice A proof counts only if the verifier call returns exactly the ABI word `true`: the
///         genuine fixture proof for the committed batch is refused once the code at the
///         verifier address is replaced (`vm.etch`) by no code, a silent fallback, a verifier
///         answering `false`, or one answering more than one word. The control test shows the
///         very same call passing with the generated verifier.
contract ZkVerifierResultTest is ZkProofFixture {
    function setUp() public override {
        super.setUp();
        commitFixture();
    }

    function expectRefusedWithVerifierCode(bytes memory code) internal {
        vm.etch(address(verifier), code);
        assertEq(address(verifier).code.length, code.length, "code replaced");
        expectInvalid(fx.prover, 1, fx.proof);
        assertFalse(rollup.isProven(1), "not proven");
    }

    function test_proveBatch_generatedVerifierReturnsTrue() public {
        uint256[4] memory input =
            [uint256(fx.prevRoot), uint256(fx.newRoot), uint256(fx.dataHash), uint256(uint160(fx.prover))];
        assertTrue(verifier.verifyProof(fx.proof, input), "generated verifier returns true");
        prove(fx.prover, 1, fx.proof);
        assertTrue(rollup.isProven(1), "proven");
    }

    function test_proveBatch_refusesVerifierWithoutCode() public {
        expectRefusedWithVerifierCode("");
    }

    function test_proveBatch_refusesEmptyReturnData() public {
        expectRefusedWithVerifierCode(address(new SilentFallback()).code);
    }

    function test_proveBatch_refusesFalse() public {
        expectRefusedWithVerifierCode(address(new FalseVerifier()).code);
    }

    function test_proveBatch_refusesMoreThanOneWord() public {
        expectRefusedWithVerifierCode(address(new TwoWordVerifier()).code);
    }
}

/// @notice proveBatch and finalizeBatch gas with the real verifier and proof
///         (`./test.sh -vv --match-contract ZkProveGas`), each call in its own test after a
///         setUp transaction, so storage is cold as on L1.
contract ZkProveGasTest is ZkProofFixture {
    function setUp() public override {
        super.setUp();
        commitFixture();
    }

    function test_gas_proveBatch() public {
        bytes memory cd =
            abi.encodeCall(ZkLane.proveBatch, (1, fx.prevRoot, fx.newRoot, fx.dataHash, fx.proof));
        vm.prank(fx.prover);
        uint256 g = gasleft();
        (bool ok,) = address(rollup).call(cd);
        uint256 used = g - gasleft();
        assertTrue(ok, "prove");
        uint256 cdGas;
        uint256 tokens;
        for (uint256 i = 0; i < cd.length; i++) {
            cdGas += cd[i] == 0 ? 4 : 16;
            tokens += cd[i] == 0 ? 1 : 4;
        }
        console.log("proveBatch exec gas", used);
        console.log("  calldata gas", cdGas);
        console.log("  tx gas (21000 + calldata + exec)", 21000 + cdGas + used);
        console.log("  EIP-7623 floor", 21000 + 10 * tokens);
        assertLe(used, 233_300, "proveBatch gas regressed"); // today 226,464
    }

    function test_gas_verifyProofAlone() public view {
        uint256[4] memory input =
            [uint256(fx.prevRoot), uint256(fx.newRoot), uint256(fx.dataHash), uint256(uint160(fx.prover))];
        uint256[8] memory proof = fx.proof; // read the test's storage before measuring
        Verifier v = verifier;
        uint256 g = gasleft();
        bool valid = v.verifyProof(proof, input);
        uint256 used = g - gasleft();
        assertTrue(valid, "valid");
        console.log("verifier.verifyProof alone (cold, from a contract)", used);
        assertLe(used, 218_500, "verifyProof gas regressed"); // today 212,077
    }
}

contract ZkFinalizeGasTest is ZkProofFixture {
    TandemRollup.StoredBatch internal zk;

    function setUp() public override {
        super.setUp();
        zk = commitFixture();
        prove(fx.prover, 1, fx.proof);
    }

    function test_gas_finalizeProvenZkBatch() public {
        TandemRollup.StoredBatch memory b = zk;
        uint256 g = gasleft();
        rollup.finalizeBatch(b);
        uint256 used = g - gasleft();
        console.log("finalizeBatch of a proven ZK batch, exec gas", used);
        assertEq(rollup.lastFinalizedBatch(), 1, "final");
        assertLe(used, 27_200, "finalizeBatch gas regressed"); // today 26,278
    }
}
