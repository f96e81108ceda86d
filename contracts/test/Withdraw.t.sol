// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {Withdrawals} from "../src/rollup/Withdrawals.sol";

contract RejectsEth {
    receive() external payable {
        revert("no thanks");
    }
}

/// @notice End-to-end flows (deposit -> commit -> finalize -> claim) and every claim revert.
contract WithdrawTest is RollupFixture {
    address internal constant ALICE = address(0xA1);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);

    function test_happyPath_eth_depositCommitFinalizeClaim() public {
        depositEth(ALICE, 10 ether);
        assertEq(address(rollup).balance, 10 ether, "bridge holds the deposit");
        assertEq(ALICE.balance, 0, "alice paid");

        bytes memory data = bytes.concat(
            opDeposit(1, KEY_PACKED, 0, 10 ether),
            opTransfer(1, 2, 0, 1234, 5),
            opWithdraw(1, 0, 3 ether, 0, BOB),
            opWithdraw(2, 0, 2 ether + 7, 0, CAROL)
        );
        TandemRollup.StoredBatch memory sb = commit(data);

        vm.expectRevert(abi.encodeWithSelector(Withdrawals.BatchNotFinalized.selector, 1));
        this.claimExternal(1, data, 0);

        finalizeAfterWindow(sb);
        (bytes32 root, uint32 count) = rollup.finalizedWithdrawals(1);
        assertEq(root, sb.withdrawalsRoot, "withdrawals root");
        assertEq(count, 2, "withdrawal count");

        vm.expectEmit(address(rollup));
        emit Withdrawals.WithdrawalClaimed(1, 0, BOB, 0, 3 ether);
        claim(1, data, 0);
        vm.prank(address(0xD00D)); // anyone may trigger; money goes to the named address
        claim(1, data, 1);

        assertEq(BOB.balance, 3 ether, "bob paid exactly");
        assertEq(CAROL.balance, 2 ether + 7, "carol paid exactly");
        assertEq(address(0xD00D).balance, 0, "caller not paid");
        assertEq(address(rollup).balance, 5 ether - 7, "rest stays locked");
        assertEq(rollup.tokenLocked(0), 5 ether - 7, "locked accounting");
        assertTrue(rollup.isWithdrawalClaimed(1, 0) && rollup.isWithdrawalClaimed(1, 1), "claimed flags");

        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 1, 0));
        claim(1, data, 0);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 1, 1));
        claim(1, data, 1);
    }

    function test_happyPath_erc20_depositCommitFinalizeClaim() public {
        depositToken(ALICE, 1000e18);
        assertEq(token.balanceOf(address(rollup)), 1000e18, "bridge holds tokens");
        assertEq(token.balanceOf(ALICE), 0, "alice paid");

        bytes memory data = bytes.concat(
            opDeposit(1, KEY_PACKED, tokenId, 1000e18),
            opWithdraw(1, tokenId, 400e18, 0, BOB),
            opTransfer(1, 3, tokenId, 99, 1)
        );
        TandemRollup.StoredBatch memory sb = commit(data);
        finalizeAfterWindow(sb);
        claim(1, data, 0);
        assertEq(token.balanceOf(BOB), 400e18, "bob paid exactly");
        assertEq(token.balanceOf(address(rollup)), 600e18, "rest locked");
        assertEq(rollup.tokenLocked(tokenId), 600e18, "locked accounting");
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 1, 0));
        claim(1, data, 0);
    }

    function claimExternal(uint64 batchNumber, bytes memory data, uint256 index) external {
        claim(batchNumber, data, index);
    }

    function test_claimWithdrawal_revertsBeforeFinal() public {
        depositEth(ALICE, 1 ether);
        bytes memory data = bytes.concat(opDeposit(1, KEY_PACKED, 0, 1 ether), opWithdraw(1, 0, 1 ether, 0, BOB));
        TandemRollup.StoredBatch memory sb = commit(data);
        vm.warp(sb.committedAt + WINDOW); // window passed but nobody finalized
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.BatchNotFinalized.selector, 1));
        claim(1, data, 0);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.BatchNotFinalized.selector, 2));
        rollup.claimWithdrawal(2, 0, 0, 1, BOB, new bytes32[](0));
    }

    function test_claimWithdrawal_manyWithdrawalsOddCount_allPaidOnce() public {
        depositEth(ALICE, 100 ether);
        bytes memory data = opDeposit(1, KEY_PACKED, 0, 100 ether);
        for (uint256 i = 0; i < 7; i++) {
            data = bytes.concat(data, opWithdraw(1, 0, uint128(i + 1) * 1 ether, 0, address(uint160(0x1000 + i))));
        }
        TandemRollup.StoredBatch memory sb = commit(data);
        finalizeAfterWindow(sb);
        for (uint256 i = 7; i > 0; i--) claim(1, data, i - 1); // any order
        for (uint256 i = 0; i < 7; i++) {
            assertEq(address(uint160(0x1000 + i)).balance, (i + 1) * 1 ether, "paid");
            vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 1, i));
            claim(1, data, i);
        }
        assertEq(address(rollup).balance, 100 ether - 28 ether, "remaining");
    }

    function test_claimWithdrawal_identicalWithdrawalsArePaidSeparately() public {
        depositEth(ALICE, 2 ether);
        bytes memory w = opWithdraw(1, 0, 1 ether, 0, BOB);
        bytes memory data = bytes.concat(opDeposit(1, KEY_PACKED, 0, 2 ether), w, w);
        finalizeAfterWindow(commit(data));
        claim(1, data, 0);
        claim(1, data, 1);
        assertEq(BOB.balance, 2 ether, "both paid");
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalAlreadyClaimed.selector, 1, 1));
        claim(1, data, 1);
    }

    function setupOneWithdrawalBatch() internal returns (bytes memory data) {
        depositEth(ALICE, 4 ether);
        data = bytes.concat(
            opDeposit(1, KEY_PACKED, 0, 4 ether),
            opWithdraw(1, 0, 1 ether, 0, BOB),
            opWithdraw(1, 0, 1 ether, 0, CAROL),
            opWithdraw(1, 0, 1 ether, 0, ALICE)
        );
        finalizeAfterWindow(commit(data));
    }

    function test_claimWithdrawal_revertsOnWrongAmountRecipientOrToken() public {
        bytes memory data = setupOneWithdrawalBatch();
        (,, Withdrawal[] memory ws) = readPublicData(data);
        bytes32[] memory proof = merkleProof(leavesOf(ws), 0);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, 0, 2 ether, BOB, proof);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, 0, 1 ether, CAROL, proof);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, tokenId, 1 ether, BOB, proof);
        // Carol's leaf at Bob's index.
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, 0, 1 ether, CAROL, merkleProof(leavesOf(ws), 1));
    }

    function test_claimWithdrawal_revertsOnWrongProofLength() public {
        bytes memory data = setupOneWithdrawalBatch();
        (,, Withdrawal[] memory ws) = readPublicData(data);
        bytes32[] memory proof = merkleProof(leavesOf(ws), 0);
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; i++) longer[i] = proof[i];
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, 0, 1 ether, BOB, longer);
        bytes32[] memory shorter = new bytes32[](1);
        shorter[0] = proof[0];
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.InvalidWithdrawalProof.selector, 1, 0));
        rollup.claimWithdrawal(1, 0, 0, 1 ether, BOB, shorter);
    }

    function test_claimWithdrawal_revertsOnIndexOutOfRange() public {
        setupOneWithdrawalBatch();
        // Index 3 is the zero padding node of the tree: must not be claimable.
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalIndexOutOfRange.selector, 1, 3, 3));
        rollup.claimWithdrawal(1, 3, 0, 0, address(0), new bytes32[](2));
    }

    function test_claimWithdrawal_revertsForBatchWithoutWithdrawals() public {
        finalizeAfterWindow(commit(opNoop()));
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalIndexOutOfRange.selector, 1, 0, 0));
        rollup.claimWithdrawal(1, 0, 0, 0, BOB, new bytes32[](0));
    }

    function test_claimWithdrawal_revertsWhenEthRecipientRejects() public {
        RejectsEth rejecter = new RejectsEth();
        depositEth(ALICE, 1 ether);
        bytes memory data =
            bytes.concat(opDeposit(1, KEY_PACKED, 0, 1 ether), opWithdraw(1, 0, 1 ether, 0, address(rejecter)));
        finalizeAfterWindow(commit(data));
        vm.expectRevert(
            abi.encodeWithSelector(Withdrawals.EthTransferFailed.selector, address(rejecter), 1 ether)
        );
        claim(1, data, 0);
        assertFalse(rollup.isWithdrawalClaimed(1, 0), "still claimable");
    }

    function test_claimWithdrawal_revertsWhenBatchWithdrawsMoreThanDeposited() public {
        // A fraudulent (unchallenged) batch cannot take more than was locked for the token.
        depositEth(ALICE, 1 ether);
        vm.deal(address(rollup), 50 ether); // ETH force-sent to the bridge is not "locked"
        bytes memory data = bytes.concat(opDeposit(1, KEY_PACKED, 0, 1 ether), opWithdraw(1, 0, 2 ether, 0, BOB));
        finalizeAfterWindow(commit(data));
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.WithdrawalExceedsLocked.selector, 0, 1 ether, 2 ether));
        claim(1, data, 0);
    }

    function test_claimWithdrawal_revertsForUnregisteredToken() public {
        bytes memory data = opWithdraw(1, 9, 0, 0, BOB); // token 9 never registered, amount 0
        finalizeAfterWindow(commit(data));
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.UnknownTokenId.selector, 9));
        claim(1, data, 0);
    }

    function test_claimWithdrawal_acrossBatches() public {
        depositEth(ALICE, 3 ether);
        bytes memory d1 = bytes.concat(opDeposit(1, KEY_PACKED, 0, 3 ether), opWithdraw(1, 0, 1 ether, 0, BOB));
        TandemRollup.StoredBatch memory sb1 = commit(d1);
        bytes memory d2 = opWithdraw(1, 0, 1 ether, 0, BOB);
        TandemRollup.StoredBatch memory sb2 = commit(d2);
        finalizeAfterWindow(sb1);
        claim(1, d1, 0);
        vm.expectRevert(abi.encodeWithSelector(Withdrawals.BatchNotFinalized.selector, 2));
        claim(2, d2, 0);
        finalizeAfterWindow(sb2);
        claim(2, d2, 0);
        assertEq(BOB.balance, 2 ether, "paid twice, once per batch");
    }
}
