// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GoldenVectorFiles} from "./GoldenVectors.t.sol";
import {ForcedFixture} from "./ForcedWithdrawal.t.sol";

/// @notice `vectors/forced_withdrawals.json` (signed by the Rust reference) against the inbox
///         and the rollup: the message and request hash the inbox computes with its Poseidon
///         contracts, the queue entry it appends, and the vector's `ForcedWithdraw` op
///         consuming that entry at commit.
contract ForcedVectorsTest is GoldenVectorFiles, ForcedFixture {
    function setUp() public override {
        super.setUp();
    }

    struct Request {
        uint32 account;
        uint8 tok;
        address recipient;
        uint128 amount;
        uint64 requestId;
        uint256 r8x;
        uint256 r8y;
        uint256 s;
    }

    function readRequest(string memory json, string memory p) internal pure returns (Request memory r) {
        r.account = uint32(uintAt(json, p, "account"));
        r.tok = uint8(uintAt(json, p, "token"));
        r.recipient = addressAt(json, p, "recipient");
        r.amount = uint128(vm.parseUint(vm.parseJsonString(json, string.concat(p, "amount"))));
        r.requestId = uint64(uintAt(json, p, "requestId"));
        r.r8x = uint256(wordAt(json, p, "r8x"));
        r.r8y = uint256(wordAt(json, p, "r8y"));
        r.s = uint256(wordAt(json, p, "s"));
    }

    function checkOne(string memory json, string memory p) internal {
        Request memory r = readRequest(json, p);
        assertEq(
            bytes32(inbox.forcedMessage(r.account, r.tok, r.recipient, r.amount, r.requestId)),
            wordAt(json, p, "message"),
            "message"
        );
        assertEq(
            inbox.forcedRequestHash(r.account, r.tok, r.recipient, r.amount, r.requestId, r.r8x, r.r8y, r.s),
            wordAt(json, p, "requestHash"),
            "request hash"
        );
        vm.deal(USER, FEE);
        vm.prank(USER);
        uint64 queueIndex = inbox.requestForcedWithdrawal{value: FEE}(
            r.account, r.tok, r.recipient, r.amount, r.requestId, r.r8x, r.r8y, r.s
        );
        assertEq(rollup.priorityQueue(queueIndex), wordAt(json, p, "queueEntry"), "queue entry");
        uint128 withdrawn = uint128(vm.parseUint(vm.parseJsonString(json, string.concat(p, "withdrawn"))));
        commitForced(
            bytesAt(json, p, "op"), 1, 1, withdrawn == 0 ? noWithdrawals() : oneWithdrawal(r.tok, withdrawn, r.recipient)
        );
        assertEq(rollup.priorityHead(), queueIndex + 1, "the op consumed the entry");
    }

    function test_forcedWithdrawalVectors_matchTheInboxAndTheParser() public {
        string memory json = readVectors("forced_withdrawals.json");
        deployWithInbox(uint64(vm.parseJsonUint(json, ".chainId")), 24);
        uint256 n = countOf(json, ".requests");
        assertEq(n, 3, "vector count");
        for (uint256 i = 0; i < n; i++) {
            checkOne(json, item(".requests", i));
        }
    }
}
