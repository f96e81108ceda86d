// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingFixture} from "./utils/StakingFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {StakedRollup} from "../src/StakedRollup.sol";
import {SequencerStaking} from "../src/SequencerStaking.sol";
import {DevToken} from "../src/DevToken.sol";
import {console} from "./utils/Vm.sol";

/// @notice Gas of commitBatchSigned with 4, 10 and 20 signers (`./test.sh --match-contract
///         SignedGasTest -vv`). setUp builds one system per set size n (n members of equal
///         stake, maxActive = n), moves to epoch 1 and commits batch 1 there (so the epoch's set
///         is materialized); each test then commits batch 2 (32 transfers) signed by all n
///         members in its own transaction, slots cold as on L1, and compares with plain
///         commitBatch of the same batch on a single-sequencer TandemRollup.
///         "per signer" = (exec(n) - exec(plain)) / n, the whole staked-mode overhead (external
///         call, epoch lookup, recording the signers) spread over the signers; "marginal" in
///         test_gas_commitBatchSigned_marginalPerSigner = (exec(20) - exec(4)) / 16.
///         Those systems have no emission (emissionPerBatch = 0: the rollup skips the accrual
///         call). Two more 4-member systems have emissionPerBatch = 1 token, one with a funded
///         reserve and one with an empty reserve, also with batch 1 committed in epoch 1 (so
///         the funded one's epoch pool is already non-zero); test_gas_commitBatchSigned_emission
///         compares their batch-2 commit with the 4-member system's.
contract SignedGasTest is StakingFixture {
    struct System {
        SequencerStaking staking;
        StakedRollup rollup;
        DevToken stakeToken;
    }

    /// Systems by key: n (set size, no emission), EMITTING or EMPTY_RESERVE (4 members each).
    mapping(uint256 key => System) internal systems;
    TandemRollup internal plain;

    uint256 internal constant EMITTING = 1004;
    uint256 internal constant EMPTY_RESERVE = 2004;

    function setUp() public override {
        uint16[3] memory sizes = [uint16(4), 10, 20];
        for (uint256 k = 0; k < 3; k++) {
            uint16 n = sizes[k];
            deploy(n, n);
            for (uint256 i = 1; i <= n; i++) doStake(i, 1000 ether);
            nextEpoch();
            commitSigned(transfers(8, 999), range(1, n));
            systems[n] = System(staking, staked, stakeToken);
            // Make the next epoch's set a new snapshot (for the materialization measurement).
            doStake(1, MIN_STAKE);
        }
        emission = 1 ether;
        uint256[2] memory keys = [EMITTING, EMPTY_RESERVE];
        for (uint256 k = 0; k < 2; k++) {
            deploy(4, 4);
            for (uint256 i = 1; i <= 4; i++) doStake(i, 1000 ether);
            if (keys[k] == EMITTING) fundEmission(address(0xF00D), 1000 ether);
            nextEpoch();
            commitSigned(transfers(8, 999), range(1, 4));
            systems[keys[k]] = System(staking, staked, stakeToken);
        }
        emission = 0;
        vm.warp(T0 + EPOCH);
        plain = new TandemRollup(OWNER, SEQUENCER, GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
        TandemRollup.BatchHeader memory h1 = nextHeaderOn(plain, transfers(8, 999));
        vm.prank(SEQUENCER);
        plain.commitBatch(h1, transfers(8, 999));
    }

    function transfers(uint256 n, uint256 seed) internal pure returns (bytes memory data) {
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            data = bytes.concat(
                data, opTransfer(uint24(r), uint24(r >> 24), uint8((r >> 48) % 4), uint32(r >> 64), uint8(r >> 96))
            );
        }
    }

    function nextHeaderOn(TandemRollup r, bytes memory data) internal returns (TandemRollup.BatchHeader memory h) {
        TandemRollup saved = rollup;
        rollup = r;
        h = nextHeader(data);
        rollup = saved;
    }

    function calldataGas(bytes memory cd) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < cd.length; i++) {
            gas += cd[i] == 0 ? 4 : 16;
        }
    }

    function use(uint256 n) internal {
        System memory s = systems[n];
        staking = s.staking;
        staked = s.rollup;
        rollup = s.rollup;
        stakeToken = s.stakeToken;
    }

    function measurePlain(bytes memory data) internal returns (uint256 exec) {
        TandemRollup.BatchHeader memory h = nextHeaderOn(plain, data);
        vm.prank(SEQUENCER);
        uint256 g = gasleft();
        plain.commitBatch(h, data);
        exec = g - gasleft();
    }

    function measureSigned(uint256 n, bytes memory data) internal returns (uint256 exec, uint256 cdGas) {
        return measureSignedOn(n, n, data);
    }

    /// @dev Batch `data` committed on system `key` signed by its members 1..n.
    function measureSignedOn(uint256 key, uint256 n, bytes memory data) internal returns (uint256 exec, uint256 cdGas) {
        use(key);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        bytes[] memory sigs = signSorted(range(1, n), digestOf(h));
        bytes memory cd = abi.encodeCall(StakedRollup.commitBatchSigned, (h, data, sigs));
        cdGas = calldataGas(cd);
        uint256 g = gasleft();
        (bool ok,) = address(staked).call(cd);
        exec = g - gasleft();
        assertTrue(ok, "commitBatchSigned failed");
    }

    function report(uint256 n) internal returns (uint256 exec) {
        bytes memory data = transfers(32, 1);
        uint256 cdGas;
        (exec, cdGas) = measureSigned(n, data);
        uint256 base = measurePlain(data);
        uint256 plainCd = calldataGas(abi.encodeCall(TandemRollup.commitBatch, (nextHeaderOn(plain, data), data)));
        console.log("commitBatchSigned, 32 transfers, signers", n);
        console.log("  exec gas (call)", exec);
        console.log("  exec gas of plain commitBatch, same batch", base);
        console.log("  exec overhead per signer", (exec - base) / n);
        console.log("  calldata gas", cdGas);
        console.log("  calldata overhead per signer", (cdGas - plainCd) / n);
        console.log("  total (exec + calldata) overhead per signer", (exec + cdGas - base - plainCd) / n);
    }

    // Ceilings: ~3% above the numbers in contracts/README.md ("Gas", staked mode).

    function test_gas_commitBatchSigned_4Signers() public {
        assertLe(report(4), 104_000, "commitBatchSigned execution gas regressed"); // today 102,527 (StakedRollup at 200 runs, for EIP-170)
    }

    function test_gas_commitBatchSigned_10Signers() public {
        assertLe(report(10), 146_000, "commitBatchSigned execution gas regressed"); // today 143,216
    }

    function test_gas_commitBatchSigned_20Signers() public {
        assertLe(report(20), 212_500, "commitBatchSigned execution gas regressed"); // today 211,364
    }

    function test_gas_commitBatchSigned_emission() public {
        bytes memory data = transfers(32, 1);
        (uint256 base,) = measureSigned(4, data);
        (uint256 emitting,) = measureSignedOn(EMITTING, 4, data);
        (uint256 empty,) = measureSignedOn(EMPTY_RESERVE, 4, data);
        assertEq(staking.emissionReserve(), 0, "empty reserve system");
        use(EMITTING);
        assertEq(staking.rewardPool(1), 2 ether, "two batches accrued");
        console.log("commitBatchSigned, 32 transfers, 4 signers, emission accrual");
        console.log("  exec gas without emission", base);
        console.log("  exec gas with emission (pool already non-zero)", emitting);
        console.log("  extra exec gas of the accrual", emitting - base);
        console.log("  extra exec gas with an empty reserve", empty - base);
        console.log("  extra exec gas of the accrual over an empty reserve", emitting - empty);
        // Regression guard: one cold slot pair (reserve + outstanding), the pool slot, a call, an event.
        assertLe(emitting - base, 14_000, "emission accrual gas regressed");
        assertLe(empty - base, 3_500, "empty-reserve accrual gas regressed");
    }

    /// @dev The first emitting batch of an epoch creates that epoch's pool slot. Compared with
    ///      the empty-reserve system (same shape, same warm slots after syncEpoch) rather than
    ///      the no-emission one, whose new epoch is a new snapshot.
    function test_gas_commitBatchSigned_emissionFirstBatchOfEpoch() public {
        use(EMITTING);
        nextEpoch();
        staking.syncEpoch();
        use(EMPTY_RESERVE);
        staking.syncEpoch();
        bytes memory data = transfers(32, 1);
        (uint256 empty,) = measureSignedOn(EMPTY_RESERVE, 4, data);
        (uint256 emitting,) = measureSignedOn(EMITTING, 4, data);
        use(EMITTING);
        assertEq(staking.rewardPool(2), 1 ether, "new pool");
        console.log("commitBatchSigned, 32 transfers, 4 signers, first batch of an epoch (new pool slot)");
        console.log("  extra exec gas of the accrual over an empty reserve", emitting - empty);
        assertLe(emitting - empty, 28_400, "first-batch-of-epoch accrual gas regressed"); // today 27,488
    }

    function test_gas_commitBatchSigned_marginalPerSigner() public {
        bytes memory data = transfers(32, 1);
        (uint256 e4, uint256 c4) = measureSigned(4, data);
        (uint256 e20, uint256 c20) = measureSigned(20, data);
        console.log("commitBatchSigned marginal gas per extra signer (20 vs 4)");
        console.log("  exec", (e20 - e4) / 16);
        console.log("  calldata", (c20 - c4) / 16);
        assertLe((e20 - e4) / 16, 7_000, "marginal exec gas per signer regressed"); // today 6,772
        assertLe((c20 - c4) / 16, 1_500, "marginal calldata gas per signer regressed"); // today 1,450
    }

    function test_gas_epochMaterialization() public {
        uint16[3] memory sizes = [uint16(4), 10, 20];
        // Today 261,401 / 565,269 / 1,067,551; ceilings ~3% above.
        uint32[3] memory ceilings = [uint32(269_300), 582_300, 1_099_600];
        for (uint256 k = 0; k < 3; k++) {
            use(sizes[k]);
            if (k == 0) nextEpoch();
            uint256 g = gasleft();
            staking.syncEpoch();
            uint256 used = g - gasleft();
            console.log("syncEpoch materializing a changed set of size", sizes[k]);
            console.log("  exec gas", used);
            assertLe(used, ceilings[k], "syncEpoch materialization gas regressed");
        }
    }
}
