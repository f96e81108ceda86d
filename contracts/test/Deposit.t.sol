// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RollupFixture} from "./utils/RollupFixture.sol";
import {TandemRollup} from "../src/TandemRollup.sol";
import {PriorityQueue} from "../src/rollup/PriorityQueue.sol";
import {RollupState} from "../src/rollup/RollupState.sol";
import {DevToken} from "../src/DevToken.sol";
import {BabyJubjub} from "../src/libraries/BabyJubjub.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @dev Delivers 1% less than asked (fee on transfer).
contract FeeToken is DevToken {
    constructor() DevToken("Fee", "FEE", 18, msg.sender, 0) {}

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            super._update(from, address(0xFEE), value / 100);
            value -= value / 100;
        }
        super._update(from, to, value);
    }
}

/// @notice Deposits, key validation and packing, token registry, administration.
contract DepositTest is RollupFixture {
    address internal constant ALICE = address(0xA1);

    // ------------------------------------------------------------------ Baby Jubjub keys

    function test_packPublicKey_matchesCircomlibVector() public view {
        assertEq(rollup.packPublicKey(KEY_X, KEY_Y), KEY_PACKED, "brief vector (x > (p-1)/2)");
        assertEq(rollup.packPublicKey(B8_X, B8_Y), B8_PACKED, "Base8 (x <= (p-1)/2)");
        assertEq(
            rollup.packPublicKey(
                15944627324083773346390189001500210680939402028015651549526524193195473201952,
                17251889856797524237981285661279357764562574766148660962999867467495459148286
            ),
            0xfe5186d108fc53940c35d1c2f4af4ebb2d2045acd8143b4bc0719bad3f3924a6,
            "prv2pub(0x01..01)"
        );
        assertEq(
            rollup.packPublicKey(
                4044393282578688582896187440332443375392492214705434598936990660961068722040,
                4862644268749425810567793658630502670008545397818408317392674122665460786971
            ),
            0x1b67143f803d81ffee71e8341fda5fab90043c81b9a97a0ca1d7704dbc28c00a,
            "prv2pub(0x02..02)"
        );
        assertEq(
            rollup.packPublicKey(
                10008904215758672712301921390103276914560970639198330003191798091575396537586,
                4248994950335582469565918396064301842621917648780630931308885212607957636924
            ),
            0x3c173362dc7b341f331d78294148267b35c10ebb63d5456646854d0a8ed86409,
            "prv2pub(0x03..03)"
        );
    }

    function test_packPublicKey_negatedXFlipsOnlyTheSignBit() public view {
        bytes32 neg = rollup.packPublicKey(P - KEY_X, KEY_Y);
        assertEq(neg, KEY_PACKED ^ bytes32(uint256(0x80)), "sign bit of byte 31");
    }

    function test_pack_identityPointEncoding() public pure {
        // (0, 1) is on the curve; y = 1 little-endian, no sign bit (circomlib packPoint). The
        // rollup refuses it as a key (below), so the library's packing is checked directly.
        assertEq(BabyJubjub.pack(0, 1), bytes32(uint256(1) << 248), "identity");
    }

    // ------------------------------------------------------------------ low-order keys

    // The 8 points of order dividing 8 on circomlib's Baby Jubjub (168700·x² + y² = 1 +
    // 168696·x²·y² over BN254 Fr), found off-chain as [l]Q for curve points Q (l = the prime
    // subgroup order) and checked below with this file's own curve arithmetic.
    uint256 internal constant X4 = 2957874849018779266517920829765869116077630550401372566248359756137677864698;
    uint256 internal constant X8 = 4342719913949491028786768530115087822524712248835451589697801404893164183326;
    uint256 internal constant Y8 = 4826523245007015323400664741523384119579596407052839571721035538011798951543;

    function lowOrderPoints() internal pure returns (uint256[2][8] memory pts) {
        pts[0] = [uint256(0), 1]; // the identity
        pts[1] = [uint256(0), P - 1]; // order 2
        pts[2] = [X4, uint256(0)]; // order 4
        pts[3] = [P - X4, uint256(0)];
        pts[4] = [X8, Y8]; // order 8
        pts[5] = [P - X8, Y8];
        pts[6] = [X8, P - Y8];
        pts[7] = [P - X8, P - Y8];
    }

    function inverse(uint256 v) internal pure returns (uint256 r) {
        // v^(P-2) mod P, square and multiply.
        r = 1;
        uint256 e = P - 2;
        uint256 b = v;
        while (e != 0) {
            if (e & 1 == 1) r = mulmod(r, b, P);
            b = mulmod(b, b, P);
            e >>= 1;
        }
    }

    /// @dev Twisted Edwards doubling (the complete addition law with both inputs equal).
    function double(uint256 x, uint256 y) internal pure returns (uint256, uint256) {
        uint256 t = mulmod(168696, mulmod(mulmod(x, x, P), mulmod(y, y, P), P), P);
        uint256 x3 = mulmod(mulmod(2, mulmod(x, y, P), P), inverse(addmod(1, t, P)), P);
        uint256 y3 = mulmod(
            addmod(mulmod(y, y, P), P - mulmod(168700, mulmod(x, x, P), P), P), inverse(addmod(1, P - t, P)), P
        );
        return (x3, y3);
    }

    function test_lowOrderPoints_areTheEightPointsOfOrderDividingEight() public pure {
        uint256[2][8] memory pts = lowOrderPoints();
        for (uint256 i = 0; i < 8; i++) {
            (uint256 x, uint256 y) = (pts[i][0], pts[i][1]);
            assertTrue(BabyJubjub.isOnCurve(x, y), "on the curve");
            for (uint256 j = 0; j < i; j++) {
                assertTrue(pts[j][0] != x || pts[j][1] != y, "distinct");
            }
            (uint256 x2, uint256 y2) = double(x, y);
            (uint256 x4, uint256 y4) = double(x2, y2);
            (uint256 x8, uint256 y8) = double(x4, y4);
            assertTrue(x8 == 0 && y8 == 1, "[8]P is the identity");
            // Points 4..7 have order exactly 8, 2..3 exactly 4.
            if (i >= 4) assertTrue(x4 != 0 || y4 != 1, "order 8");
            if (i >= 2 && i < 4) assertTrue((x2 != 0 || y2 != 1) && x4 == 0 && y4 == 1, "order 4");
        }
        // A point of the prime subgroup is not among them: Base8 doubled thrice is not the identity.
        (uint256 bx, uint256 by) = double(B8_X, B8_Y);
        (bx, by) = double(bx, by);
        (bx, by) = double(bx, by);
        assertTrue(bx != 0 || by != 1, "Base8 has large order");
    }

    function test_packPublicKey_refusesEachLowOrderPoint() public {
        uint256[2][8] memory pts = lowOrderPoints();
        for (uint256 i = 0; i < 8; i++) {
            vm.expectRevert(abi.encodeWithSelector(PriorityQueue.LowOrderPublicKey.selector, pts[i][0], pts[i][1]));
            rollup.packPublicKey(pts[i][0], pts[i][1]);
        }
    }

    function test_depositETH_refusesEachLowOrderPoint() public {
        uint256[2][8] memory pts = lowOrderPoints();
        vm.deal(ALICE, 8 ether);
        for (uint256 i = 0; i < 8; i++) {
            vm.expectRevert(abi.encodeWithSelector(PriorityQueue.LowOrderPublicKey.selector, pts[i][0], pts[i][1]));
            vm.prank(ALICE);
            rollup.depositETH{value: 1 ether}(pts[i][0], pts[i][1]);
        }
        assertEq(rollup.priorityTail(), 0, "nothing queued");
        assertEq(ALICE.balance, 8 ether, "nothing taken");
        // A key of the prime subgroup still goes in.
        vm.prank(ALICE);
        rollup.depositETH{value: 1 ether}(B8_X, B8_Y);
        assertEq(rollup.priorityTail(), 1, "Base8 queued");
    }

    function test_depositERC20_refusesEachLowOrderPoint() public {
        uint256[2][8] memory pts = lowOrderPoints();
        token.mint(address(this), 8);
        token.approve(address(rollup), 8);
        for (uint256 i = 0; i < 8; i++) {
            vm.expectRevert(abi.encodeWithSelector(PriorityQueue.LowOrderPublicKey.selector, pts[i][0], pts[i][1]));
            rollup.depositERC20(address(token), 1, pts[i][0], pts[i][1]);
        }
        assertEq(rollup.priorityTail(), 0, "nothing queued");
        assertEq(token.balanceOf(address(this)), 8, "nothing taken");
    }

    function test_depositETH_revertsOnPointOffCurve() public {
        vm.deal(ALICE, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.InvalidPublicKey.selector, KEY_X, KEY_Y + 1));
        vm.prank(ALICE);
        rollup.depositETH{value: 1 ether}(KEY_X, KEY_Y + 1);
    }

    function test_depositETH_revertsOnCoordinateNotBelowP() public {
        vm.deal(ALICE, 1 ether);
        // (p, 1) is (0, 1) mod p: on the curve after reduction, but not canonical.
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.InvalidPublicKey.selector, P, 1));
        vm.prank(ALICE);
        rollup.depositETH{value: 1 ether}(P, 1);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.InvalidPublicKey.selector, KEY_X, KEY_Y + P));
        vm.prank(ALICE);
        rollup.depositETH{value: 1 ether}(KEY_X, KEY_Y + P);
    }

    // ------------------------------------------------------------------ ETH deposits

    function test_depositETH_queuesEntryAndEmits() public {
        vm.deal(ALICE, 3 ether);
        vm.expectEmit(address(rollup));
        emit PriorityQueue.DepositQueued(0, KEY_PACKED, 0, 3 ether);
        vm.prank(ALICE);
        uint64 idx = rollup.depositETH{value: 3 ether}(KEY_X, KEY_Y);
        assertEq(idx, 0, "first index");
        assertEq(
            rollup.priorityQueue(0),
            keccak256(abi.encodePacked(KEY_PACKED, uint8(0), uint128(3 ether))),
            "queue entry"
        );
        assertEq(rollup.priorityTail(), 1, "tail");
        assertEq(rollup.pendingPriorityOps(), 1, "pending");
        assertEq(rollup.tokenLocked(0), 3 ether, "locked");
        assertEq(depositEth(ALICE, 1), 1, "second index");
    }

    function test_depositETH_revertsOnZero() public {
        vm.expectRevert(PriorityQueue.ZeroAmount.selector);
        rollup.depositETH{value: 0}(KEY_X, KEY_Y);
    }

    function test_depositETH_revertsAt2Pow128() public {
        uint256 v = uint256(type(uint128).max) + 1;
        vm.deal(ALICE, v);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.AmountTooLarge.selector, v));
        vm.prank(ALICE);
        rollup.depositETH{value: v}(KEY_X, KEY_Y);
    }

    function test_depositETH_acceptsMaxUint128ThenRefusesOverflowOfLocked() public {
        uint256 v = type(uint128).max;
        vm.deal(ALICE, v + 1);
        vm.prank(ALICE);
        rollup.depositETH{value: v}(KEY_X, KEY_Y);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.LockedAmountOverflow.selector, 0));
        vm.prank(ALICE);
        rollup.depositETH{value: 1}(KEY_X, KEY_Y);
    }

    // ------------------------------------------------------------------ ERC-20 deposits

    function test_depositERC20_pullsTokensAndQueues() public {
        token.mint(ALICE, 500);
        vm.prank(ALICE);
        token.approve(address(rollup), 500);
        vm.expectEmit(address(rollup));
        emit PriorityQueue.DepositQueued(0, KEY_PACKED, tokenId, 500);
        vm.prank(ALICE);
        rollup.depositERC20(address(token), 500, KEY_X, KEY_Y);
        assertEq(token.balanceOf(address(rollup)), 500, "bridge balance");
        assertEq(token.balanceOf(ALICE), 0, "alice balance");
        assertEq(rollup.priorityQueue(0), keccak256(abi.encodePacked(KEY_PACKED, tokenId, uint128(500))), "entry");
        assertEq(rollup.tokenLocked(tokenId), 500, "locked");
    }

    function test_depositERC20_revertsOnZero() public {
        vm.expectRevert(PriorityQueue.ZeroAmount.selector);
        rollup.depositERC20(address(token), 0, KEY_X, KEY_Y);
    }

    function test_depositERC20_revertsOnUnregisteredToken() public {
        DevToken other = new DevToken("Other", "OTH", 18, address(this), 100);
        other.approve(address(rollup), 100);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.UnknownToken.selector, address(other)));
        rollup.depositERC20(address(other), 100, KEY_X, KEY_Y);
        // address(0) is ETH's slot, never an ERC-20
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.UnknownToken.selector, address(0)));
        rollup.depositERC20(address(0), 100, KEY_X, KEY_Y);
    }

    function test_depositERC20_revertsOnInvalidKey() public {
        token.mint(address(this), 1);
        token.approve(address(rollup), 1);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.InvalidPublicKey.selector, 1, 1));
        rollup.depositERC20(address(token), 1, 1, 1);
    }

    function test_depositERC20_revertsWithoutAllowance() public {
        token.mint(ALICE, 10);
        vm.expectRevert();
        vm.prank(ALICE);
        rollup.depositERC20(address(token), 10, KEY_X, KEY_Y);
    }

    function test_depositERC20_revertsOnFeeOnTransferToken() public {
        FeeToken fee = new FeeToken();
        vm.prank(OWNER);
        rollup.addToken(address(fee));
        fee.mint(address(this), 1000);
        fee.approve(address(rollup), 1000);
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.TokenTransferMismatch.selector, 1000, 990));
        rollup.depositERC20(address(fee), 1000, KEY_X, KEY_Y);
    }

    // ------------------------------------------------------------------ token registry

    function test_addToken_assignsSequentialIdsUpTo31() public {
        assertEq(tokenId, 1, "first ERC-20 gets id 1");
        assertEq(rollup.tokenAddress(1), address(token), "id -> address");
        assertEq(rollup.tokenIdOf(address(token)), 1, "address -> id");
        for (uint160 i = 2; i < 32; i++) {
            vm.expectEmit(address(rollup));
            emit PriorityQueue.TokenAdded(uint8(i), address(0x1000 + i));
            vm.prank(OWNER);
            assertEq(rollup.addToken(address(0x1000 + i)), i, "sequential id");
        }
        assertEq(rollup.tokenCount(), 32, "full");
        vm.expectRevert(PriorityQueue.TooManyTokens.selector);
        vm.prank(OWNER);
        rollup.addToken(address(0x9999));
    }

    function test_addToken_revertsOnDuplicate() public {
        vm.expectRevert(abi.encodeWithSelector(PriorityQueue.TokenAlreadyRegistered.selector, address(token), 1));
        vm.prank(OWNER);
        rollup.addToken(address(token));
    }

    function test_addToken_revertsOnZeroAddress() public {
        vm.expectRevert(RollupState.ZeroAddress.selector);
        vm.prank(OWNER);
        rollup.addToken(address(0));
    }

    function test_addToken_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, ALICE));
        vm.prank(ALICE);
        rollup.addToken(address(0x1234));
    }

    function test_constructor_setsGenesis() public {
        assertEq(rollup.lastCommittedBatch(), 0, "no batches");
        assertEq(rollup.lastFinalizedBatch(), 0, "genesis final");
        assertEq(rollup.lastCommittedStateRoot(), GENESIS_ROOT, "committed root");
        assertEq(rollup.lastFinalizedStateRoot(), GENESIS_ROOT, "final root");
        assertEq(rollup.genesisStateRoot(), GENESIS_ROOT, "genesis root");
        assertEq(rollup.challengeWindow(), WINDOW, "window");
        assertEq(rollup.tokenCount(), 2, "ETH + DevToken");
        TandemRollup.StoredBatch memory g = TandemRollup.StoredBatch(0, 0, uint64(T0), 0, 0, 0, GENESIS_ROOT, 0);
        assertEq(rollup.batchRecordHash(0), keccak256(abi.encode(g)), "genesis record");
        vm.expectRevert(RollupState.ZeroAddress.selector);
        new TandemRollup(OWNER, address(0), GENESIS_ROOT, WINDOW, address(0), 0, ADMIN_DELAY, address(0), exitVerifier, PRIORITY_DEADLINE, address(0), address(0));
    }

    function test_hashHelpers_matchAbiEncoding() public view {
        TandemRollup.BatchHeader memory h = nextHeader(opNoop());
        assertEq(rollup.hashHeader(h), keccak256(abi.encode(h)), "header digest");
        assertEq(
            rollup.withdrawalLeaf(3, 77, ALICE),
            keccak256(abi.encodePacked(uint8(3), uint128(77), ALICE)),
            "withdrawal leaf"
        );
    }
}
