// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BabyJubjub} from "./libraries/BabyJubjub.sol";
import {TandemRollup} from "./TandemRollup.sol";

/// @notice The one function of `SequencerStaking` the fee rule reads (staked mode).
interface IStakingTreasury {
    function treasury() external view returns (address);
}

/// @title ForcedWithdrawals
/// @notice The forced-withdrawal inbox (SPEC §16): a user whose L2 sequencer censors them asks
///         here, on L1, for a withdrawal signed with their L2 key. The request joins the
///         rollup's priority queue (with the deposits, in order, with the same deadline and
///         exodus rules). L1 does not check the EdDSA signature (it does not know L2 keys):
///         only that it is well formed; the L2 state transition and the circuit make a bad
///         signature, a missing account or a too small balance a recorded no-op (withdrawn 0).
///         A separate contract because the rollup has no code size left (EIP-170); the rollup
///         accepts queue entries only from the inbox bound to it at deployment.
/// @dev Deploy: `inbox = new ForcedWithdrawals(rollupAddress, ...)` with the address the rollup
///      will get, then the rollup with `forcedInbox_ = inbox` (it checks `inbox.rollup()`).
///      Signing message `M = Poseidon(TAG_FORCED, l2ChainId, account, token, recipient, amount,
///      requestId)`, request hash `Poseidon(M, r8x, r8y, s)` (circomlib Poseidon, BN254 Fr),
///      queue entry `keccak256(abi.encodePacked(uint24 account, uint8 token, requestHash))`.
///      Fee: exactly `requestFee` wei per request, held here per queue index; credited once,
///      pull-style (`withdrawFees`), either to the sequencer side once a final batch consumed the
///      entry (`payFee`: single mode the rollup's current `sequencer`, staked mode the staking
///      contract's `treasury`: its reward pools are in the staking token, not ETH) or back to
///      the requester when exodus dropped the entry (`refundFee`).
contract ForcedWithdrawals is ReentrancyGuardTransient {
    /// @notice "tandem.forced.v1" as a big-endian integer: the domain tag of the signing message.
    uint256 public constant TAG_FORCED = 0x74616e64656d2e666f726365642e7631;
    /// @notice Order l of Baby Jubjub's prime subgroup: a signature's S must be below it.
    uint256 public constant SUBGROUP_ORDER =
        2736030358979909402780800718157159386076813972158567259200215660948447373041;
    /// @notice Largest L2 tree depth (account indices are 3 bytes in the public data).
    uint8 public constant MAX_TREE_DEPTH = 24;
    /// @notice Number of token ids (the L2 token tree has depth 5).
    uint8 public constant MAX_TOKENS = 32;

    /// @notice The rollup this inbox feeds (bound both ways at deployment).
    TandemRollup public immutable rollup;
    /// @notice circomlib Poseidon with 4 inputs (`poseidon(uint256[4])`, artifacts/PoseidonT5.json).
    address public immutable poseidonT5;
    /// @notice circomlib Poseidon with 7 inputs (`poseidon(uint256[7])`, artifacts/PoseidonT8.json).
    address public immutable poseidonT8;
    /// @notice L2 chain id in the signing message (replay across chains).
    uint64 public immutable l2ChainId;
    /// @notice L2 account tree depth: account indices are below 2^treeDepth.
    uint8 public immutable treeDepth;
    /// @notice Wei each request must send (covers its inclusion; makes queue spam cost).
    uint256 public immutable requestFee;

    /// @notice Whether (account, requestId) was already requested (a valid signature is never queued twice).
    mapping(uint32 account => mapping(uint64 requestId => bool)) public isRequestUsed;
    /// @notice Who paid the fee of forced entry `queueIndex` (address(0): not a forced entry).
    mapping(uint64 queueIndex => address requester) public requesterOf;
    /// @notice Whether the fee of entry `queueIndex` was paid out or refunded.
    mapping(uint64 queueIndex => bool) public isFeeSettled;
    /// @notice Fees credited to an address and not withdrawn yet (`withdrawFees`).
    mapping(address account => uint256 amount) public feesOwed;

    /// @notice The full forced-withdrawal request queued at `queueIndex` (what the L2 node turns into a ForcedWithdraw op).
    event ForcedWithdrawalRequested(
        uint64 indexed queueIndex,
        uint32 indexed account,
        uint8 token,
        address recipient,
        uint128 amount,
        uint64 requestId,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    );
    /// @notice The fee of entry `queueIndex` (consumed by a final batch) was credited to `to`.
    event FeePaid(uint64 indexed queueIndex, address indexed to, uint256 amount);
    /// @notice The fee of entry `queueIndex` (dropped by exodus) was credited back to `requester`.
    event FeeRefunded(uint64 indexed queueIndex, address indexed requester, uint256 amount);
    /// @notice `to` withdrew `amount` of credited fees.
    event FeesWithdrawn(address indexed to, uint256 amount);

    /// @notice A constructor address was zero.
    error ZeroAddress();
    /// @notice A Poseidon contract has no code.
    error PoseidonHasNoCode(address poseidon);
    /// @notice treeDepth must be 1..24.
    error TreeDepthOutOfRange(uint8 treeDepth);
    /// @notice The rollup is in exodus mode: no request is taken.
    error ExodusActive();
    /// @notice The request sent `sent` wei; exactly `requestFee` is required.
    error WrongFee(uint256 sent, uint256 requestFee);
    /// @notice `account` is not below 2^treeDepth.
    error AccountOutOfRange(uint32 account);
    /// @notice `token` is not below 32.
    error TokenOutOfRange(uint8 token);
    /// @notice The recipient is address(0).
    error ZeroRecipient();
    /// @notice The signature's R8 is not a Baby Jubjub point with coordinates below p.
    error InvalidSignaturePoint(uint256 r8x, uint256 r8y);
    /// @notice The signature's S is not below the subgroup order.
    error SignatureScalarOutOfRange(uint256 s);
    /// @notice (account, requestId) was already requested.
    error RequestAlreadyUsed(uint32 account, uint64 requestId);
    /// @notice A Poseidon call failed or returned other than one word.
    error PoseidonFailed(address poseidon);
    /// @notice Entry `queueIndex` is not a forced withdrawal of this inbox.
    error NotAForcedEntry(uint64 queueIndex);
    /// @notice The fee of `queueIndex` was already paid out or refunded.
    error FeeAlreadySettled(uint64 queueIndex);
    /// @notice Batch `batchNumber` is not final.
    error BatchNotFinal(uint64 batchNumber);
    /// @notice The StoredBatch passed for `batchNumber` is not the rollup's record.
    error StoredBatchMismatch(uint64 batchNumber);
    /// @notice The final batch passed did not consume entry `queueIndex` (its priorityOpsEnd is not above it).
    error NotConsumed(uint64 queueIndex);
    /// @notice Entry `queueIndex` is not refundable: no exodus, or credited by a final batch.
    error NotRefundable(uint64 queueIndex);
    /// @notice Nothing is owed to the caller.
    error NothingOwed();
    /// @notice Sending the fees to the caller failed.
    error PayoutFailed();

    /// @param rollup_ The rollup's (predicted) address; the rollup checks `rollup()` at its construction.
    /// @param poseidonT5_ Poseidon, 4 inputs.
    /// @param poseidonT8_ Poseidon, 7 inputs.
    /// @param l2ChainId_ L2 chain id (in the signing message).
    /// @param treeDepth_ L2 account tree depth, 1..24.
    /// @param requestFee_ Wei per request.
    constructor(
        address rollup_,
        address poseidonT5_,
        address poseidonT8_,
        uint64 l2ChainId_,
        uint8 treeDepth_,
        uint256 requestFee_
    ) {
        if (rollup_ == address(0)) revert ZeroAddress();
        if (poseidonT5_.code.length == 0) revert PoseidonHasNoCode(poseidonT5_);
        if (poseidonT8_.code.length == 0) revert PoseidonHasNoCode(poseidonT8_);
        if (treeDepth_ == 0 || treeDepth_ > MAX_TREE_DEPTH) revert TreeDepthOutOfRange(treeDepth_);
        rollup = TandemRollup(rollup_);
        poseidonT5 = poseidonT5_;
        poseidonT8 = poseidonT8_;
        l2ChainId = l2ChainId_;
        treeDepth = treeDepth_;
        requestFee = requestFee_;
    }

    // ---------------------------------------------------------------------------------------
    // Requests
    // ---------------------------------------------------------------------------------------

    /// @notice Queues a forced withdrawal of `amount` (0: the whole balance) of `token` from L2
    ///         account `account` to L1 `recipient`, signed (EdDSA-Poseidon, circomlib) by the
    ///         account's key over `forcedMessage(account, token, recipient, amount, requestId)`.
    ///         Send exactly `requestFee` wei.
    /// @dev Refuses (in this order): exodus (`ExodusActive`), a wrong fee (`WrongFee`), account
    ///      >= 2^treeDepth (`AccountOutOfRange`), token >= 32 (`TokenOutOfRange`), recipient 0
    ///      (`ZeroRecipient`), R8 off the curve or a coordinate >= p (`InvalidSignaturePoint`),
    ///      s >= l (`SignatureScalarOutOfRange`), a used (account, requestId)
    ///      (`RequestAlreadyUsed`). The signature itself is checked on L2 only.
    /// @return queueIndex The request's priority-queue index.
    function requestForcedWithdrawal(
        uint32 account,
        uint8 token,
        address recipient,
        uint128 amount,
        uint64 requestId,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) external payable nonReentrant returns (uint64 queueIndex) {
        if (rollup.exodusActive()) revert ExodusActive();
        if (msg.value != requestFee) revert WrongFee(msg.value, requestFee);
        if (account >> treeDepth != 0) revert AccountOutOfRange(account);
        if (token >= MAX_TOKENS) revert TokenOutOfRange(token);
        if (recipient == address(0)) revert ZeroRecipient();
        if (!BabyJubjub.isOnCurve(r8x, r8y)) revert InvalidSignaturePoint(r8x, r8y);
        if (s >= SUBGROUP_ORDER) revert SignatureScalarOutOfRange(s);
        if (isRequestUsed[account][requestId]) revert RequestAlreadyUsed(account, requestId);
        isRequestUsed[account][requestId] = true;
        bytes32 requestHash = _requestHash(_message(account, token, recipient, amount, requestId), r8x, r8y, s);
        queueIndex = rollup.enqueueForcedWithdrawal(account, token, requestHash, recipient, msg.sender);
        requesterOf[queueIndex] = msg.sender;
        emit ForcedWithdrawalRequested(queueIndex, account, token, recipient, amount, requestId, r8x, r8y, s);
    }

    /// @notice The signing message M = Poseidon(TAG_FORCED, l2ChainId, account, token,
    ///         recipient, amount, requestId) (no range checks).
    function forcedMessage(uint32 account, uint8 token, address recipient, uint128 amount, uint64 requestId)
        external
        view
        returns (uint256)
    {
        return _message(account, token, recipient, amount, requestId);
    }

    /// @notice The request hash Poseidon(M, r8x, r8y, s) of a request (no range checks).
    function forcedRequestHash(
        uint32 account,
        uint8 token,
        address recipient,
        uint128 amount,
        uint64 requestId,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) external view returns (bytes32) {
        return _requestHash(_message(account, token, recipient, amount, requestId), r8x, r8y, s);
    }

    function _message(uint32 account, uint8 token, address recipient, uint128 amount, uint64 requestId)
        private
        view
        returns (uint256)
    {
        return _poseidon(
            poseidonT8,
            abi.encodeWithSignature(
                "poseidon(uint256[7])",
                [TAG_FORCED, l2ChainId, account, token, uint256(uint160(recipient)), amount, requestId]
            )
        );
    }

    function _requestHash(uint256 m, uint256 r8x, uint256 r8y, uint256 s) private view returns (bytes32) {
        return bytes32(_poseidon(poseidonT5, abi.encodeWithSignature("poseidon(uint256[4])", [m, r8x, r8y, s])));
    }

    function _poseidon(address p, bytes memory callData) private view returns (uint256 h) {
        (bool ok, bytes memory ret) = p.staticcall(callData);
        if (!ok || ret.length != 32) revert PoseidonFailed(p);
        h = abi.decode(ret, (uint256));
    }

    // ---------------------------------------------------------------------------------------
    // Fees
    // ---------------------------------------------------------------------------------------

    /// @notice Credits the fee of forced entry `queueIndex` to the sequencer side
    ///         (`feeRecipient()`) once final batch `finalBatch` (its StoredBatch) consumed it.
    ///         Anyone may call; once per entry (`FeeAlreadySettled`).
    /// @dev Requires: a forced entry (`NotAForcedEntry`); not settled; `finalBatch.batchNumber
    ///      <= rollup.lastFinalizedBatch()` (`BatchNotFinal`); it hashes to the rollup's record
    ///      (`StoredBatchMismatch`); `queueIndex < finalBatch.priorityOpsEnd` (`NotConsumed`).
    function payFee(uint64 queueIndex, TandemRollup.StoredBatch calldata finalBatch) external {
        _checkUnsettled(queueIndex);
        uint64 n = finalBatch.batchNumber;
        if (n > rollup.lastFinalizedBatch()) revert BatchNotFinal(n);
        if (keccak256(abi.encode(finalBatch)) != rollup.batchRecordHash(n)) revert StoredBatchMismatch(n);
        if (queueIndex >= finalBatch.priorityOpsEnd) revert NotConsumed(queueIndex);
        isFeeSettled[queueIndex] = true;
        address to = feeRecipient();
        feesOwed[to] += requestFee;
        emit FeePaid(queueIndex, to, requestFee);
    }

    /// @notice Credits the fee of forced entry `queueIndex` back to its requester when exodus
    ///         dropped the entry (`queueIndex >= rollup.exodusPriorityEnd()`). Anyone may call; once.
    function refundFee(uint64 queueIndex) external {
        address requester = _checkUnsettled(queueIndex);
        if (!rollup.exodusActive() || queueIndex < rollup.exodusPriorityEnd()) revert NotRefundable(queueIndex);
        isFeeSettled[queueIndex] = true;
        feesOwed[requester] += requestFee;
        emit FeeRefunded(queueIndex, requester, requestFee);
    }

    /// @notice Sends the caller all fees credited to it.
    function withdrawFees() external nonReentrant returns (uint256 amount) {
        amount = feesOwed[msg.sender];
        if (amount == 0) revert NothingOwed();
        feesOwed[msg.sender] = 0;
        emit FeesWithdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert PayoutFailed();
    }

    /// @notice Where `payFee` credits fees now: in staked mode (the rollup has `staking()`) the
    ///         staking contract's `treasury`, else the rollup's current `sequencer`.
    function feeRecipient() public view returns (address) {
        (bool ok, bytes memory ret) = address(rollup).staticcall(abi.encodeWithSignature("staking()"));
        if (ok && ret.length == 32) return IStakingTreasury(abi.decode(ret, (address))).treasury();
        return rollup.sequencer();
    }

    function _checkUnsettled(uint64 queueIndex) private view returns (address requester) {
        requester = requesterOf[queueIndex];
        if (requester == address(0)) revert NotAForcedEntry(queueIndex);
        if (isFeeSettled[queueIndex]) revert FeeAlreadySettled(queueIndex);
    }
}
