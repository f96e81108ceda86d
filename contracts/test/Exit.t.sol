// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {Withdrawals} from "../src/rollup/Withdrawals.sol";
import {Exodus} from "../src/rollup/Exodus.sol";
import {console} from "./utils/Vm.sol";

/// @notice `exit` with the generated exit verifier (`src/verifiers/ExitVerifier_D4.sol`) and the
///         circuit's real proof (`crates/circuit/fixtures/exit_D4.json`): the account holding
///         `amount` of `tokenId` lives in the state whose root is the fixture's `stateRoot`,
///         used as the rollup's genesis root, so genesis is the last final batch at exodus. No
///         mock verifier.
abstract contract ExitFixture is RollupFixture {
    string internal constant EXIT_FIXTURE = "../crates/circuit/fixtures/exit_D4.json";
    address internal constant DEPOSITOR = address(0xD1);

    struct ExitFx {
        bytes32 stateRoot;
        uint32 accountIndex;
        uint8 tokenId;
        uint128 amount;
        address recipient;
        uint256[8] proof;
    }

    ExitFx internal ex;

    function setUp() public virtual override {
        string memory json = vm.readFile(EXIT_FIXTURE);
        ex.stateRoot = vm.parseJsonBytes32(json, ".stateRoot");
        ex.accountIndex = uint32(vm.parseJsonUint(json, ".accountIndex"));
        ex.tokenId = uint8(vm.parseJsonUint(json, ".tokenId"));
        ex.amount = uint128(vm.parseJsonUint(json, ".amount"));
        ex.recipient = vm.parseJsonAddress(json, ".recipient");
        uint256[] memory words = vm.parseJsonUintArray(json, ".proof");
        require(words.length == 8, "proof: 8 words");
        for (uint256 i = 0; i < 8; i++) {
            ex.proof[i] = words[i];
        }
        assertTrue(ex.tokenId <= 1, "fixture token: ETH or the test token (id 1)");
        vm.warp(T0);
        deployRollup(ex.stateRoot, address(0), 0);
    }

    /// @dev Deposits `amount` of the fixture's token from DEPOSITOR.
    function depositFixtureToken(uint128 amount) internal returns (uint64) {
        return ex.tokenId == 0 ? depositEth(DEPOSITOR, amount) : depositToken(DEPOSITOR, amount);
    }

    function balanceOf(address who) internal view returns (uint256) {
        return ex.tokenId == 0 ? who.balance : token.balanceOf(who);
    }

    /// @dev A deposit backing the exit amount, left unconsumed until past its deadline, then
    ///      exodus from genesis (the fixture's state).
    function enterExodusFromGenesis() internal {
        depositFixtureToken(ex.amount);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, ex.stateRoot, 0));
        assertEq(rollup.exodusStateRoot(), ex.stateRoot, "exodus root");
    }

    /// @dev With a gas cap: a malformed point makes the pairing precompile burn what it is given.
    function doExit(uint32 accountIndex, uint8 tok, uint128 amount, address recipient, uint256[8] memory proof)
        internal
    {
        vm.prank(address(0xCA11E5));
        rollup.exit{gas: 2_000_000}(accountIndex, tok, amount, recipient, proof);
    }

    function expectExitRevert(
        uint32 accountIndex,
        uint8 tok,
        uint128 amount,
        address recipient,
        uint256[8] memory proof,
        bytes memory err
    ) internal {
        vm.expectRevert(err);
        doExit(accountIndex, tok, amount, recipient, proof);
    }

    function otherToken() internal view returns (uint8) {
        return ex.tokenId == 0 ? tokenId : 0;
    }
}

contract ExitTest is ExitFixture {
    bytes internal invalid = abi.encodeWithSelector(Exodus.InvalidExitProof.selector);

    function test_exit_realProofPaysTheRecipientOnce() public {
        enterExodusFromGenesis();
        uint256 before = balanceOf(ex.recipient);
        vm.expectEmit(address(rollup));
        emit Exodus.Exited(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient);
        doExit(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof);
        assertEq(balanceOf(ex.recipient) - before, ex.amount, "paid to the proof's recipient");
        assertTrue(rollup.isExited(ex.accountIndex, ex.tokenId), "marked");
        assertFalse(rollup.isExited(ex.accountIndex, otherToken()), "other token not marked");
        assertEq(rollup.tokenLocked(ex.tokenId), 0, "locked");
        expectExitRevert(
            ex.accountIndex,
            ex.tokenId,
            ex.amount,
            ex.recipient,
            ex.proof,
            abi.encodeWithSelector(Exodus.AlreadyExited.selector, ex.accountIndex, ex.tokenId)
        );
    }

    function test_exit_refusedWithoutExodus() public {
        depositFixtureToken(ex.amount);
        expectExitRevert(
            ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof,
            abi.encodeWithSelector(Exodus.ExodusNotActive.selector)
        );
    }

    function test_exit_refusesTamperedProof() public {
        enterExodusFromGenesis();
        uint256[8] memory p = ex.proof;
        p[7] = p[7] ^ 1;
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, p, invalid);
        p = ex.proof;
        p[0] = p[0] ^ 1; // off the curve
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, p, invalid);
    }

    function test_exit_refusesAnotherAccount() public {
        enterExodusFromGenesis();
        expectExitRevert(ex.accountIndex + 1, ex.tokenId, ex.amount, ex.recipient, ex.proof, invalid);
    }

    function test_exit_refusesAnotherToken() public {
        enterExodusFromGenesis();
        expectExitRevert(ex.accountIndex, otherToken(), ex.amount, ex.recipient, ex.proof, invalid);
    }

    function test_exit_refusesAnotherAmount() public {
        enterExodusFromGenesis();
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount - 1, ex.recipient, ex.proof, invalid);
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount + 1, ex.recipient, ex.proof, invalid);
    }

    function test_exit_refusesAnotherRecipient() public {
        enterExodusFromGenesis();
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount, address(0xBAD), ex.proof, invalid);
    }

    function test_exit_refusedAgainstAnotherExodusRoot() public {
        // The same proof on a rollup whose last final state is another one.
        deployRollup(GENESIS_ROOT, address(0), 0);
        depositFixtureToken(ex.amount);
        vm.warp(block.timestamp + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, GENESIS_ROOT, 0));
        expectExitRevert(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof, invalid);
    }

    /// @dev Batch 1 credits a deposit of exactly the exit amount (L1 does not check optimistic
    ///      roots: the batch keeps the fixture's root) and is final; later deposits stay queued,
    ///      one is consumed by a batch that exodus drops. After the exit and every refund the
    ///      contract holds exactly tokenLocked (0).
    function test_accounting_balanceCoversLockedAfterExitsAndRefunds() public {
        depositFixtureToken(ex.amount);
        depositFixtureToken(7);
        bytes memory data = opDeposit(uint24(ex.accountIndex), KEY_PACKED, ex.tokenId, ex.amount);
        TandemRollup.BatchHeader memory h = nextHeader(data);
        h.newStateRoot = ex.stateRoot;
        TandemRollup.StoredBatch memory sb1 = commitWith(h, data);
        finalizeAfterWindow(sb1);
        commit(opDeposit(2, KEY_PACKED, ex.tokenId, 7)); // dropped by exodus
        depositFixtureToken(11);
        vm.warp(block.timestamp + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(sb1);
        assertEq(rollup.exodusPriorityEnd(), 1, "batch 1 credited entry 0");

        doExit(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof);
        assertEq(balanceOf(address(rollup)), rollup.tokenLocked(ex.tokenId), "balance = locked after exit");
        vm.expectRevert(abi.encodeWithSelector(Exodus.NotRefundable.selector, uint64(0)));
        rollup.refundDeposit(0, KEY_PACKED, ex.tokenId, ex.amount);
        rollup.refundDeposit(1, KEY_PACKED, ex.tokenId, 7);
        rollup.refundDeposit(2, KEY_PACKED, ex.tokenId, 11);
        assertEq(rollup.tokenLocked(ex.tokenId), 0, "nothing locked");
        assertEq(balanceOf(address(rollup)), 0, "nothing held");
        assertEq(balanceOf(DEPOSITOR), 18, "refunds to the depositor");
    }

    /// @dev An exit the deposits do not back is refused (never for an honest history).
    function test_exit_neverTakesMoreThanLocked() public {
        depositFixtureToken(ex.amount - 1);
        vm.warp(T0 + PRIORITY_DEADLINE + 1);
        rollup.activateExodus(TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, ex.stateRoot, 0));
        expectExitRevert(
            ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof,
            abi.encodeWithSelector(Withdrawals.WithdrawalExceedsLocked.selector, ex.tokenId, ex.amount - 1, ex.amount)
        );
    }
}

/// @notice Gas of `exit` with the real verifier and proof (`./test.sh --match-contract ExitGasTest -vv`).
contract ExitGasTest is ExitFixture {
    function setUp() public override {
        super.setUp();
        enterExodusFromGenesis();
    }

    function test_gas_exit() public {
        vm.prank(address(0xCA11E5));
        uint256 before = gasleft();
        rollup.exit(ex.accountIndex, ex.tokenId, ex.amount, ex.recipient, ex.proof);
        uint256 exec = before - gasleft();
        console.log("exit exec gas", exec);
        assertLe(exec, 323_600, "exit gas regressed"); // today 314,199
    }
}
