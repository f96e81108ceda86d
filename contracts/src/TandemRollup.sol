// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BabyJubjub} from "./libraries/BabyJubjub.sol";
import {IBatchVerifier} from "./interfaces/IBatchVerifier.sol";

/// @title TandemRollup
/// @notice L1 rollup and bridge of Tandem: token registry, deposit priority queue, batch
///         commitment with strict public-data parsing (SPEC §4.2), in-order finality (optimistic
///         lane: after a challenge window; validity lane: once a Groth16 proof is verified,
///         SPEC §10), and withdrawals paid exactly once.
/// @dev Invariants kept by every function:
///      - Batches are numbered 1, 2, ...; batch 0 is the genesis (final from construction).
///        `lastFinalizedBatch <= lastCommittedBatch`, and batch k is final only if k-1 is.
///      - `lastCommittedStateRoot` is the new state root of batch `lastCommittedBatch`.
///      - Priority-queue entries `[priorityHead, priorityTail)` are pending; every Deposit op in
///        a committed batch equals the next pending entry, in order.
///      - `batchRecordHash[k] == keccak256(abi.encode(StoredBatch of k))` for k <= lastCommittedBatch.
///      - A withdrawal (batch, index) is paid at most once, to the L1 address named in the op,
///        and only when its batch is final.
///      - Per token, `tokenLocked` = deposited - claimed < 2^128, so no L2 balance can overflow
///        and the sum of claims never exceeds the sum of deposits.
///      - A lane-1 (ZK) batch is final only once proven (`proveBatch`), never by the window;
///        a lane-0 batch after its window or once proven (`proveOptimisticBatch`). Both only
///        after their predecessor.
contract TandemRollup is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice Header of a batch, as signed by the sequencer(s) and passed to `commitBatch`.
    /// @dev Its digest is `keccak256(abi.encode(header))` (`hashHeader`).
    struct BatchHeader {
        /// Batch number; must be `lastCommittedBatch + 1`.
        uint64 batchNumber;
        /// State root before the batch; must equal the previous batch's `newStateRoot`.
        bytes32 prevStateRoot;
        /// State root after the batch (not checked on L1 in the optimistic lane).
        bytes32 newStateRoot;
        /// `sha256(publicData)`; checked.
        bytes32 publicDataHash;
        /// Commitment to the state roots after every op (used by fraud proofs); stored only.
        bytes32 intermediateRootsRoot;
        /// Number of priority-queue entries (Deposit ops) the batch consumes; checked.
        uint32 priorityOpsCount;
        /// 0 = optimistic lane; 1 = ZK lane (accepted once `setVerifier` was called; at most
        /// `zkSlots` ops; final only with a validity proof).
        uint8 lane;
        /// Number of ops in `publicData`; checked.
        uint32 opCount;
        /// L2 account index receiving the batch's fees (3-byte index; not checked on L1).
        uint32 feeAccount;
    }

    /// @notice What L1 remembers of a committed batch; only its hash is stored
    ///         (`batchRecordHash`), callers pass the full record back to `finalizeBatch`.
    /// @dev Every field is emitted in `BatchCommitted`.
    struct StoredBatch {
        uint64 batchNumber;
        uint8 lane;
        /// `block.timestamp` of the commit; the challenge window runs from here.
        uint64 committedAt;
        /// Priority-queue head after this batch (index of the next deposit to consume).
        uint64 priorityOpsEnd;
        /// Number of Withdraw ops in the batch.
        uint32 withdrawalCount;
        /// `keccak256(abi.encode(header))`.
        bytes32 headerHash;
        bytes32 newStateRoot;
        /// Root of the batch's withdrawal Merkle tree (0 when there are none); see README.
        bytes32 withdrawalsRoot;
    }

    /// @notice Withdrawal commitment of a final batch (set by finalization).
    struct WithdrawalSet {
        bytes32 root;
        uint32 count;
    }

    // ---------------------------------------------------------------------------------------
    // Constants and immutables
    // ---------------------------------------------------------------------------------------

    /// @notice Token id of ETH; ids 1..31 are ERC-20 tokens registered with `addToken`.
    uint8 public constant ETH_TOKEN_ID = 0;
    /// @notice Number of token ids (ETH included): the L2 token tree has depth 5.
    uint8 public constant MAX_TOKENS = 32;
    /// @notice Lane of optimistic batches (final after the challenge window).
    uint8 public constant LANE_OPTIMISTIC = 0;
    /// @notice Lane of ZK batches (final once a validity proof is verified by `proveBatch`).
    uint8 public constant LANE_ZK = 1;
    /// @notice Bytes per op record in the validity lane's data commitment (the largest op,
    ///         Deposit); see `zkDataHash`.
    uint256 public constant ZK_RECORD_BYTES = 52;

    /// @notice Seconds after `committedAt` before an optimistic batch may be finalized.
    uint64 public immutable challengeWindow;
    /// @notice State root of the genesis (batch 0).
    bytes32 public immutable genesisStateRoot;

    // Op types (high 3 bits of an op's header byte) and their encoded sizes, SPEC §4.2.
    uint256 private constant OP_NOOP = 0;
    uint256 private constant OP_DEPOSIT = 1;
    uint256 private constant OP_TRANSFER = 2;
    uint256 private constant OP_TRANSFER_TO_NEW = 3;
    uint256 private constant OP_WITHDRAW = 4;
    uint256 private constant SIZE_NOOP = 1;
    uint256 private constant SIZE_DEPOSIT = 52;
    uint256 private constant SIZE_TRANSFER = 12;
    uint256 private constant SIZE_TRANSFER_TO_NEW = 44;
    uint256 private constant SIZE_WITHDRAW = 41;
    // Byte t (from the low end) = encoded size of op type t (0 for types 5-7): 41, 44, 12, 52, 1.
    uint256 private constant OP_SIZE_TABLE = 0x292c0c3401;
    // `_zkBatch` value of a proven ZK batch (a keccak commitment is never 1).
    bytes32 private constant ZK_PROVEN = bytes32(uint256(1));

    // Parser failure codes.
    uint256 private constant ERR_UNKNOWN_TYPE = 1;
    uint256 private constant ERR_TRUNCATED = 2;
    uint256 private constant ERR_NOOP = 3;
    uint256 private constant ERR_DEPOSIT = 4;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    // Slot layout for cheap commits: `sequencer`, `_lastCommittedBatch` and `_priorityHead`
    // share one slot, so a commit without deposits touches three slots (that one,
    // `lastCommittedStateRoot`, the new record). The queue and batch counters are kept in 48
    // bits (2^48 batches or deposits can never happen: each is an L1 transaction) and read
    // through uint64 views; checked uint48 arithmetic on `_lastCommittedBatch + 1` and
    // `_priorityTail + 1` keeps every value below 2^48.

    /// @notice The one address allowed to call `commitBatch` (in `StakedRollup`: the staking contract, powerless).
    address public sequencer;
    /// @dev `lastCommittedBatch()`: number of the last committed batch (0 = only genesis).
    ///      Never decreases except through a fraud-proof revert (not implemented yet).
    uint48 internal _lastCommittedBatch;
    /// @dev `priorityHead()`: index of the next priority-queue entry a batch must consume.
    uint48 internal _priorityHead;

    /// @notice New state root of batch `lastCommittedBatch`; the next batch must start from it.
    bytes32 public lastCommittedStateRoot;

    /// @dev `priorityTail()`: number of entries ever queued; the next deposit gets this index.
    uint48 internal _priorityTail;
    /// @notice Number of the last final batch; batches `<=` it are final and never change.
    uint64 public lastFinalizedBatch;
    /// @notice Number of registered token ids, ETH included (ids `0..tokenCount-1` are valid).
    uint8 public tokenCount;

    /// @notice New state root of batch `lastFinalizedBatch`.
    bytes32 public lastFinalizedStateRoot;

    /// @notice ERC-20 address of token id `id` (address(0) for ETH and unregistered ids).
    mapping(uint8 id => address token) public tokenAddress;
    /// @notice Token id of a registered ERC-20 (0 for unregistered addresses; 0 is ETH).
    mapping(address token => uint8 id) public tokenIdOf;
    /// @notice Per token id: deposited minus claimed; always < 2^128.
    mapping(uint8 id => uint256 amount) public tokenLocked;
    /// @notice Priority queue: entry `i` = keccak256(abi.encodePacked(packedKey, uint8 tokenId, uint128 amount)).
    mapping(uint64 index => bytes32 entry) public priorityQueue;
    /// @notice keccak256(abi.encode(StoredBatch)) of every committed batch (and of genesis, 0).
    mapping(uint64 batchNumber => bytes32 recordHash) public batchRecordHash;

    mapping(uint64 batchNumber => WithdrawalSet) private _withdrawals;
    mapping(uint64 batchNumber => mapping(uint256 word => uint256 bits)) private _claimed;

    /// @notice Groth16 verifier of the validity lane (address(0) until `setVerifier`; set once).
    address public verifier;
    /// @notice Op slots `S` of the circuit behind `verifier`: a ZK batch has at most this many ops.
    uint32 public zkSlots;
    /// @dev Per committed ZK batch: keccak256(abi.encode(prevStateRoot, newStateRoot, dataHash))
    ///      (the proof's public inputs but the prover) until proven, then ZK_PROVEN; 0 for
    ///      optimistic batches until proven by `proveOptimisticBatch`, then ZK_PROVEN (cleared
    ///      when a revert drops the batch).
    mapping(uint64 batchNumber => bytes32 commitment) private _zkBatch;

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice The rollup was created from `genesisStateRoot` (batch 0, final); `genesisRecord`
    ///         is its StoredBatch (for a later revert to genesis).
    event Initialized(bytes32 genesisStateRoot, uint64 challengeWindow, StoredBatch genesisRecord);
    /// @notice The committing sequencer changed.
    event SequencerChanged(address indexed previousSequencer, address indexed newSequencer);
    /// @notice ERC-20 `token` got id `tokenId`; ids never change once given.
    event TokenAdded(uint8 indexed tokenId, address indexed token);
    /// @notice Priority-queue entry `queueIndex` was added; L2 must credit `amount` of `tokenId`
    ///         to the account of `packedKey` (SPEC §2 packed Baby Jubjub point).
    event DepositQueued(uint64 indexed queueIndex, bytes32 packedKey, uint8 tokenId, uint128 amount);
    /// @notice Batch `batchNumber` was committed; the fields are its StoredBatch (pass them to
    ///         `finalizeBatch`). Its header and public data are the calldata of this transaction.
    event BatchCommitted(
        uint64 indexed batchNumber,
        bytes32 headerHash,
        bytes32 newStateRoot,
        bytes32 withdrawalsRoot,
        uint32 withdrawalCount,
        uint64 priorityOpsEnd,
        uint64 committedAt,
        uint8 lane
    );
    /// @notice Batch `batchNumber` is final; its withdrawals became claimable.
    event BatchFinalized(
        uint64 indexed batchNumber, bytes32 newStateRoot, bytes32 withdrawalsRoot, uint32 withdrawalCount
    );
    /// @notice Batches `fromBatch..toBatch` were reverted (fraud proof); the chain continues from `fromBatch - 1`.
    event BatchesReverted(uint64 fromBatch, uint64 toBatch);
    /// @notice The validity lane was enabled: ZK batches of at most `zkSlots` ops, proven against `verifier`.
    event VerifierSet(address indexed verifier, uint32 zkSlots);
    /// @notice ZK batch `batchNumber` was proven by `prover` (it is final once its predecessor is
    ///         and someone calls `finalizeBatch`).
    event BatchProven(uint64 indexed batchNumber, address indexed prover);
    /// @notice Withdrawal `index` of batch `batchNumber` paid `amount` of `tokenId` to `recipient`.
    event WithdrawalClaimed(
        uint64 indexed batchNumber, uint32 indexed index, address indexed recipient, uint8 tokenId, uint128 amount
    );

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice `caller` is not allowed to commit batches.
    error NotSequencer(address caller);
    /// @notice `token` is already registered, with id `tokenId`.
    error TokenAlreadyRegistered(address token, uint8 tokenId);
    /// @notice All 32 token ids are taken.
    error TooManyTokens();
    /// @notice `token` is not a registered ERC-20.
    error UnknownToken(address token);
    /// @notice No token is registered under `tokenId`.
    error UnknownTokenId(uint8 tokenId);
    /// @notice Deposits of zero are refused.
    error ZeroAmount();
    /// @notice Deposit amounts must be below 2^128.
    error AmountTooLarge(uint256 amount);
    /// @notice The deposit would make the token's locked total reach 2^128.
    error LockedAmountOverflow(uint8 tokenId);
    /// @notice The token moved `received` into the bridge instead of `expected` (fee-on-transfer tokens are refused).
    error TokenTransferMismatch(uint256 expected, uint256 received);
    /// @notice (x, y) is not a Baby Jubjub point with coordinates below p.
    error InvalidPublicKey(uint256 x, uint256 y);

    /// @notice The header's batch number is not `lastCommittedBatch + 1`.
    error UnexpectedBatchNumber(uint64 expected, uint64 got);
    /// @notice The header's prevStateRoot is not the last committed state root.
    error PrevStateRootMismatch(bytes32 expected, bytes32 got);
    /// @notice Lane `lane` is not accepted: lanes above 1, or lane 1 before `setVerifier`.
    error UnsupportedLane(uint8 lane);
    /// @notice A ZK batch (or `zkDataHash` input) has `opCount` ops, more than the circuit's `zkSlots`.
    error ZkBatchTooLarge(uint256 opCount, uint256 zkSlots);
    /// @notice `sha256(publicData)` differs from the header's publicDataHash.
    error PublicDataHashMismatch(bytes32 declared, bytes32 computed);
    /// @notice The op at byte `offset` of the public data has an unknown type (5, 6 or 7).
    error UnknownOpType(uint256 offset, uint8 opType);
    /// @notice The op at byte `offset` runs past the end of the public data.
    error TruncatedOp(uint256 offset, uint8 opType);
    /// @notice The Noop at byte `offset` has a non-zero header byte (its token bits must be 0).
    error NonCanonicalNoop(uint256 offset, uint8 headerByte);
    /// @notice The Deposit op at byte `offset` differs from priority-queue entry `queueIndex`.
    error DepositMismatch(uint256 offset, uint64 queueIndex);
    /// @notice The header claims `declared` priority ops but only `pending` are queued.
    error PriorityOpsExceedQueue(uint32 declared, uint64 pending);
    /// @notice The header claims `declared` priority ops but the public data has `found` Deposit ops.
    error PriorityOpsCountMismatch(uint32 declared, uint256 found);
    /// @notice The header claims `declared` ops but the public data has `found`.
    error OpCountMismatch(uint32 declared, uint256 found);

    /// @notice Batch `batchNumber` is already final.
    error BatchAlreadyFinalized(uint64 batchNumber);
    /// @notice Batch `batchNumber` cannot be final before `lastFinalized + 1`.
    error PreviousBatchNotFinalized(uint64 batchNumber, uint64 lastFinalized);
    /// @notice Batch `batchNumber` is not committed.
    error BatchNotCommitted(uint64 batchNumber);
    /// @notice The StoredBatch passed for `batchNumber` is not the committed one.
    error StoredBatchMismatch(uint64 batchNumber);
    /// @notice ZK batch `batchNumber` is not proven: it never finalizes by the window.
    error NotProven(uint64 batchNumber);
    /// @notice Batch `batchNumber` can be finalized from timestamp `finalizableAt`.
    error ChallengeWindowOpen(uint64 batchNumber, uint256 finalizableAt);
    /// @notice A revert cannot reach back to final batch `batchNumber`.
    error CannotRevertFinalized(uint64 batchNumber);
    /// @notice There are no committed batches after `batchNumber` to revert.
    error NothingToRevert(uint64 batchNumber);

    /// @notice The verifier was already set (to `verifier`); it is set once.
    error VerifierAlreadySet(address verifier);
    /// @notice `verifier` has no code.
    error VerifierHasNoCode(address verifier);
    /// @notice `zkSlots` must be at least 1.
    error ZeroZkSlots();
    /// @notice No verifier is set: the validity lane is off.
    error VerifierNotSet();
    /// @notice Batch `batchNumber` is committed in the optimistic lane (or is genesis).
    error NotZkBatch(uint64 batchNumber);
    /// @notice ZK batch `batchNumber` is already proven.
    error BatchAlreadyProven(uint64 batchNumber);
    /// @notice (prevStateRoot, newStateRoot, dataHash) passed for `batchNumber` are not the committed ones.
    error ZkPublicInputsMismatch(uint64 batchNumber);
    /// @notice The verifier refused the proof for `batchNumber` with `prover` as the bound address.
    error InvalidProof(uint64 batchNumber, address prover);

    /// @notice Batch `batchNumber` is not final yet.
    error BatchNotFinalized(uint64 batchNumber);
    /// @notice Batch `batchNumber` has only `count` withdrawals.
    error WithdrawalIndexOutOfRange(uint64 batchNumber, uint256 index, uint256 count);
    /// @notice Withdrawal `index` of batch `batchNumber` was already paid.
    error WithdrawalAlreadyClaimed(uint64 batchNumber, uint256 index);
    /// @notice The Merkle proof does not show this withdrawal at `index` of batch `batchNumber`.
    error InvalidWithdrawalProof(uint64 batchNumber, uint256 index);
    /// @notice Paying `amount` would take more of `tokenId` out than is locked (`locked`).
    error WithdrawalExceedsLocked(uint8 tokenId, uint256 locked, uint128 amount);
    /// @notice The ETH payment to `recipient` failed.
    error EthTransferFailed(address recipient, uint256 amount);

    // ---------------------------------------------------------------------------------------
    // Construction and administration
    // ---------------------------------------------------------------------------------------

    /// @notice Creates the rollup at genesis: batch 0 with state root `genesisStateRoot_` is
    ///         committed and final; only ETH (id 0) is registered.
    /// @param owner_ May register tokens and change the sequencer.
    /// @param sequencer_ The address allowed to commit batches.
    /// @param genesisStateRoot_ State root of the empty (or pre-filled) genesis state.
    /// @param challengeWindow_ Seconds an optimistic batch waits before it can be finalized.
    constructor(address owner_, address sequencer_, bytes32 genesisStateRoot_, uint64 challengeWindow_)
        Ownable(owner_)
    {
        if (sequencer_ == address(0)) revert ZeroAddress();
        sequencer = sequencer_;
        challengeWindow = challengeWindow_;
        genesisStateRoot = genesisStateRoot_;
        lastCommittedStateRoot = genesisStateRoot_;
        lastFinalizedStateRoot = genesisStateRoot_;
        tokenCount = 1;
        StoredBatch memory genesis = StoredBatch({
            batchNumber: 0,
            lane: LANE_OPTIMISTIC,
            committedAt: uint64(block.timestamp),
            priorityOpsEnd: 0,
            withdrawalCount: 0,
            headerHash: bytes32(0),
            newStateRoot: genesisStateRoot_,
            withdrawalsRoot: bytes32(0)
        });
        batchRecordHash[0] = keccak256(abi.encode(genesis));
        emit SequencerChanged(address(0), sequencer_);
        emit Initialized(genesisStateRoot_, challengeWindow_, genesis);
    }

    /// @notice Registers ERC-20 `token` under the next free id (1..31). Owner only.
    /// @dev Ids are never reused or reassigned; an address is registered at most once.
    /// @return tokenId The id given to `token`.
    function addToken(address token) external onlyOwner returns (uint8 tokenId) {
        if (token == address(0)) revert ZeroAddress();
        uint8 existing = tokenIdOf[token];
        if (existing != 0) revert TokenAlreadyRegistered(token, existing);
        tokenId = tokenCount;
        if (tokenId >= MAX_TOKENS) revert TooManyTokens();
        tokenCount = tokenId + 1;
        tokenAddress[tokenId] = token;
        tokenIdOf[token] = tokenId;
        emit TokenAdded(tokenId, token);
    }

    /// @notice Replaces the committing sequencer. Owner only.
    /// @dev Single-sequencer mode only; in `StakedRollup` the sequencer has no power.
    function setSequencer(address newSequencer) external onlyOwner {
        if (newSequencer == address(0)) revert ZeroAddress();
        emit SequencerChanged(sequencer, newSequencer);
        sequencer = newSequencer;
    }

    /// @notice Enables the validity lane, once: ZK batches (lane 1) of at most `zkSlots_` ops,
    ///         proven by `verifier_`, a Groth16 verifier of the batch circuit with `S = zkSlots_`
    ///         (`IBatchVerifier`). Owner only; neither value can change afterwards.
    function setVerifier(address verifier_, uint32 zkSlots_) external onlyOwner {
        address current = verifier;
        if (current != address(0)) revert VerifierAlreadySet(current);
        if (verifier_ == address(0)) revert ZeroAddress();
        if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
        if (zkSlots_ == 0) revert ZeroZkSlots();
        verifier = verifier_;
        zkSlots = zkSlots_;
        emit VerifierSet(verifier_, zkSlots_);
    }

    // ---------------------------------------------------------------------------------------
    // Deposits (priority queue)
    // ---------------------------------------------------------------------------------------

    /// @notice Deposits `msg.value` wei of ETH to the L2 account of Baby Jubjub key (pubX, pubY).
    /// @dev Refuses a zero value, a value >= 2^128, an invalid key, and a locked total >= 2^128.
    ///      Appends one priority-queue entry and emits DepositQueued.
    /// @return queueIndex Index of the new priority-queue entry.
    function depositETH(uint256 pubX, uint256 pubY) external payable nonReentrant returns (uint64 queueIndex) {
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value > type(uint128).max) revert AmountTooLarge(msg.value);
        bytes32 key = _packKey(pubX, pubY);
        queueIndex = _enqueue(key, ETH_TOKEN_ID, uint128(msg.value));
    }

    /// @notice Deposits `amount` of registered ERC-20 `token` (pulled with transferFrom; approve
    ///         first) to the L2 account of Baby Jubjub key (pubX, pubY).
    /// @dev Refuses unregistered tokens, zero amounts, invalid keys, tokens that deliver a
    ///      different amount than requested, and a locked total >= 2^128.
    /// @return queueIndex Index of the new priority-queue entry.
    function depositERC20(address token, uint128 amount, uint256 pubX, uint256 pubY)
        external
        nonReentrant
        returns (uint64 queueIndex)
    {
        uint8 tokenId = tokenIdOf[token];
        if (tokenId == 0) revert UnknownToken(token);
        if (amount == 0) revert ZeroAmount();
        bytes32 key = _packKey(pubX, pubY);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert TokenTransferMismatch(amount, received);
        queueIndex = _enqueue(key, tokenId, amount);
    }

    function _packKey(uint256 x, uint256 y) private pure returns (bytes32) {
        if (!BabyJubjub.isOnCurve(x, y)) revert InvalidPublicKey(x, y);
        return BabyJubjub.pack(x, y);
    }

    function _enqueue(bytes32 key, uint8 tokenId, uint128 amount) private returns (uint64 queueIndex) {
        uint256 locked = tokenLocked[tokenId] + amount;
        if (locked > type(uint128).max) revert LockedAmountOverflow(tokenId);
        tokenLocked[tokenId] = locked;
        uint48 tail = _priorityTail;
        _priorityTail = tail + 1; // checked: stays below 2^48
        queueIndex = tail;
        priorityQueue[queueIndex] = keccak256(abi.encodePacked(key, tokenId, amount));
        emit DepositQueued(queueIndex, key, tokenId, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Batches
    // ---------------------------------------------------------------------------------------

    /// @notice Commits the next batch. Sequencer only.
    /// @dev Checks: caller authorized; `batchNumber == lastCommittedBatch + 1`; `prevStateRoot ==
    ///      lastCommittedStateRoot`; lane 0, or lane 1 once a verifier is set and with at most
    ///      `zkSlots` ops; `sha256(publicData) == publicDataHash`; the public
    ///      data parses strictly (SPEC §4.2); its Deposit ops equal the next `priorityOpsCount`
    ///      queue entries in order (the account index is not checked); `opCount` ops.
    ///      Effects: stores the StoredBatch hash, consumes the queue entries, moves the committed
    ///      tip, emits BatchCommitted. Withdraw ops are committed as a Merkle root (see README).
    ///      A ZK batch also stores keccak256(prevStateRoot, newStateRoot, zkDataHash(...)) for `proveBatch`.
    function commitBatch(BatchHeader calldata header, bytes calldata publicData) external {
        bytes32 headerHash = _hashHeader(header);
        _authorizeCommit(headerHash);
        _commitAuthorized(header, headerHash, publicData);
    }

    /// @dev `keccak256(abi.encode(header))`, hashing the header's nine static words straight
    ///      from calldata. Like `abi.encode`, it reverts (without data) if a narrow field has
    ///      dirty high bits, so no malformed header gets a digest.
    function _hashHeader(BatchHeader calldata header) internal pure returns (bytes32 headerHash) {
        assembly ("memory-safe") {
            // Words 0, 5, 6, 7, 8: uint64 batchNumber, uint32 priorityOpsCount, uint8 lane,
            // uint32 opCount, uint32 feeAccount.
            if or(
                or(shr(64, calldataload(header)), shr(32, calldataload(add(header, 0xa0)))),
                or(
                    shr(8, calldataload(add(header, 0xc0))),
                    or(shr(32, calldataload(add(header, 0xe0))), shr(32, calldataload(add(header, 0x100))))
                )
            ) { revert(0, 0) }
            let m := mload(0x40)
            calldatacopy(m, header, 0x120)
            headerHash := keccak256(m, 0x120)
        }
    }

    /// @dev The whole commit after authorization (shared by `commitBatch` and the staked
    ///      mode's `commitBatchSigned`): checks the header and the public data, consumes the
    ///      queue entries, stores the record. `headerHash` must be `keccak256(abi.encode(header))`.
    function _commitAuthorized(BatchHeader calldata header, bytes32 headerHash, bytes calldata publicData)
        internal
    {
        uint8 lane = _checkHeader(header, publicData);
        (uint64 priorityOpsEnd, uint256 withdrawalCount, bytes32 withdrawalsRoot) = _checkOps(header, publicData);
        // Safe: withdrawalCount <= publicData.length / 41, far below 2^32 for any calldata.
        // forge-lint: disable-next-line(unsafe-typecast)
        _storeBatch(header, headerHash, lane, priorityOpsEnd, uint32(withdrawalCount), withdrawalsRoot);
        if (lane != LANE_OPTIMISTIC) _storeZkCommitment(header, publicData);
    }

    /// @dev Lane `lane` != 0 is accepted only as lane 1 with a verifier set and at most
    ///      `zkSlots` declared ops (`_checkOps` then checks the declared count).
    function _checkZkLane(uint8 lane, uint32 opCount) private view {
        if (lane != LANE_ZK || verifier == address(0)) revert UnsupportedLane(lane);
        uint32 slots = zkSlots;
        if (opCount > slots) revert ZkBatchTooLarge(opCount, slots);
    }

    /// @dev ZK batch (public data already checked): stores the commitment to the proof's
    ///      public inputs prevStateRoot, newStateRoot, dataHash (the prover is bound at proving).
    function _storeZkCommitment(BatchHeader calldata header, bytes calldata publicData) private {
        bytes32 dataHash = _zkDataHash(header.feeAccount, publicData, zkSlots, false);
        _zkBatch[header.batchNumber] = keccak256(abi.encode(header.prevStateRoot, header.newStateRoot, dataHash));
    }

    /// @dev Batch number, previous root, lane and public-data hash; returns the lane (0 or 1).
    function _checkHeader(BatchHeader calldata header, bytes calldata publicData) private view returns (uint8 lane) {
        uint64 expected = _lastCommittedBatch + 1; // checked uint48: stays below 2^48
        if (header.batchNumber != expected) revert UnexpectedBatchNumber(expected, header.batchNumber);
        bytes32 prevRoot = lastCommittedStateRoot;
        if (header.prevStateRoot != prevRoot) revert PrevStateRootMismatch(prevRoot, header.prevStateRoot);
        assembly ("memory-safe") {
            let w := calldataload(add(header, 0xc0)) // word 6: uint8 lane
            if shr(8, w) { revert(0, 0) } // dirty high bits (as abi.encode; _hashHeader refuses them too)
            lane := w
        }
        if (lane != LANE_OPTIMISTIC) _checkZkLane(lane, header.opCount);
        bytes32 dataHash = sha256(publicData);
        if (dataHash != header.publicDataHash) revert PublicDataHashMismatch(header.publicDataHash, dataHash);
    }

    /// @dev Parses the ops, checks deposits and counts, consumes the priority-queue entries.
    function _checkOps(BatchHeader calldata header, bytes calldata publicData)
        private
        returns (uint64 priorityOpsEnd, uint256 withdrawalCount, bytes32 withdrawalsRoot)
    {
        uint32 priorityOps = header.priorityOpsCount;
        uint64 head = _priorityHead;
        if (priorityOps != 0) {
            uint64 pending = _priorityTail - head;
            if (priorityOps > pending) revert PriorityOpsExceedQueue(priorityOps, pending);
        }
        uint256 opCount;
        (opCount, withdrawalCount, withdrawalsRoot) = _processPublicData(publicData, head, priorityOps);
        if (opCount != header.opCount) revert OpCountMismatch(header.opCount, opCount);
        priorityOpsEnd = head;
        if (priorityOps != 0) {
            priorityOpsEnd = head + priorityOps;
            // Safe: priorityOpsEnd <= priorityTail < 2^48.
            // forge-lint: disable-next-line(unsafe-typecast)
            _priorityHead = uint48(priorityOpsEnd);
        }
    }

    /// @dev Records the batch and moves the committed tip.
    function _storeBatch(
        BatchHeader calldata header,
        bytes32 headerHash,
        uint8 lane,
        uint64 priorityOpsEnd,
        uint32 withdrawalCount,
        bytes32 withdrawalsRoot
    ) private {
        uint64 batchNumber = header.batchNumber;
        bytes32 newRoot = header.newStateRoot;
        // = keccak256(abi.encode(StoredBatch(...))): all fields are static, so encoding them
        // in order gives the same bytes without building the struct in memory first.
        batchRecordHash[batchNumber] = keccak256(
            abi.encode(
                batchNumber,
                lane,
                uint64(block.timestamp),
                priorityOpsEnd,
                withdrawalCount,
                headerHash,
                newRoot,
                withdrawalsRoot
            )
        );
        // Safe: batchNumber == lastCommittedBatch + 1, computed in checked uint48.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastCommittedBatch = uint48(batchNumber);
        lastCommittedStateRoot = newRoot;
        emit BatchCommitted(
            batchNumber,
            headerHash,
            newRoot,
            withdrawalsRoot,
            withdrawalCount,
            priorityOpsEnd,
            uint64(block.timestamp),
            lane
        );
    }

    /// @notice Finalizes batch `batch.batchNumber` (pass its StoredBatch, as emitted in
    ///         BatchCommitted). Anyone may call.
    /// @dev Requires: the batch is `lastFinalizedBatch + 1`, committed, `batch` hashes to its
    ///      record, and: lane 0: `block.timestamp >= committedAt + challengeWindow`, or proven
    ///      (`proveOptimisticBatch`), whichever comes first; lane 1:
    ///      proven (`proveBatch`), at any time (never by the window).
    ///      Effects: the batch is final; its withdrawals become claimable.
    function finalizeBatch(StoredBatch calldata batch) external {
        uint64 batchNumber = batch.batchNumber;
        uint64 lastFinal = lastFinalizedBatch;
        if (batchNumber <= lastFinal) revert BatchAlreadyFinalized(batchNumber);
        if (batchNumber != lastFinal + 1) revert PreviousBatchNotFinalized(batchNumber, lastFinal);
        if (batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        if (keccak256(abi.encode(batch)) != batchRecordHash[batchNumber]) revert StoredBatchMismatch(batchNumber);
        // A committed record has lane 0 or 1 (commitBatch refuses the others).
        if (batch.lane == LANE_ZK) {
            if (_zkBatch[batchNumber] != ZK_PROVEN) revert NotProven(batchNumber);
        } else {
            // Lane 0: after its window, or earlier once proven (`proveOptimisticBatch`).
            uint256 finalizableAt = uint256(batch.committedAt) + challengeWindow;
            if (block.timestamp < finalizableAt && _zkBatch[batchNumber] != ZK_PROVEN) {
                revert ChallengeWindowOpen(batchNumber, finalizableAt);
            }
        }
        _finalize(batch);
    }

    /// @notice Proves committed ZK batch `batchNumber` with Groth16 `proof` over the public
    ///         inputs (prevStateRoot, newStateRoot, dataHash, msg.sender): the proof binds the
    ///         address that submits it, so a copied proof fails. Anyone may call (with a proof
    ///         made for their own address).
    /// @dev `prevStateRoot`, `newStateRoot` are the batch header's; `dataHash` is
    ///      `zkDataHash(header.feeAccount, publicData, zkSlots)` (all three are checked against
    ///      the commitment stored at commit). Requires: a verifier is set; the batch is
    ///      committed, in lane 1, not proven yet; the verifier accepts the proof. Effects: the
    ///      batch is proven (`isProven`), so `finalizeBatch` accepts it once its predecessor is
    ///      final; emits BatchProven.
    function proveBatch(
        uint64 batchNumber,
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 dataHash,
        uint256[8] calldata proof
    ) external {
        address v = verifier;
        if (v == address(0)) revert VerifierNotSet();
        bytes32 commitment = _zkBatch[batchNumber];
        if (commitment == 0) {
            if (batchNumber == 0 || batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
            revert NotZkBatch(batchNumber);
        }
        if (commitment == ZK_PROVEN) revert BatchAlreadyProven(batchNumber);
        if (keccak256(abi.encode(prevStateRoot, newStateRoot, dataHash)) != commitment) {
            revert ZkPublicInputsMismatch(batchNumber);
        }
        _verifyProof(v, batchNumber, prevStateRoot, newStateRoot, dataHash, proof);
        _zkBatch[batchNumber] = ZK_PROVEN;
        emit BatchProven(batchNumber, msg.sender);
    }

    /// @notice Proves committed OPTIMISTIC (lane 0) batch `batch.batchNumber` with Groth16 `proof`,
    ///         so it can be finalized before its challenge window ends (a fast ZK-lane batch
    ///         behind it then never waits for that window). Anyone may call (the proof binds
    ///         `msg.sender`, as in `proveBatch`).
    /// @dev `batch` is the batch's StoredBatch (as for `finalizeBatch`), `header` and
    ///      `publicData` the arguments of its commit. Requires: a verifier is set; the batch is
    ///      not final (`BatchAlreadyFinalized`), committed (`BatchNotCommitted`), `batch` hashes
    ///      to its record (`StoredBatchMismatch`), lane 0 (`UnsupportedLane(lane)`), not proven
    ///      yet (`BatchAlreadyProven`); `hashHeader(header) == batch.headerHash`
    ///      (`StoredBatchMismatch`); `sha256(publicData) == header.publicDataHash`
    ///      (`PublicDataHashMismatch`); `header.opCount <= zkSlots` (`ZkBatchTooLarge`); the
    ///      verifier accepts `proof` for (header.prevStateRoot, header.newStateRoot,
    ///      zkDataHash(header.feeAccount, publicData, zkSlots), msg.sender) (`InvalidProof`).
    ///      Effects: the batch is proven (`isProven`), so `finalizeBatch` accepts it at once
    ///      when its predecessor is final; emits BatchProven.
    ///      The commit parsed this public data strictly (the record pins the header, the header
    ///      pins sha256(publicData), and opCount is the counted number of ops), so the data hash
    ///      is computed on the unchecked path.
    function proveOptimisticBatch(
        StoredBatch calldata batch,
        BatchHeader calldata header,
        bytes calldata publicData,
        uint256[8] calldata proof
    ) external {
        address v = verifier;
        if (v == address(0)) revert VerifierNotSet();
        uint64 batchNumber = batch.batchNumber;
        if (batchNumber <= lastFinalizedBatch) revert BatchAlreadyFinalized(batchNumber);
        // A dropped (reverted) number keeps its old record until recommitted: refuse it.
        if (batchNumber > _lastCommittedBatch) revert BatchNotCommitted(batchNumber);
        if (keccak256(abi.encode(batch)) != batchRecordHash[batchNumber]) revert StoredBatchMismatch(batchNumber);
        if (batch.lane != LANE_OPTIMISTIC) revert UnsupportedLane(batch.lane);
        if (_zkBatch[batchNumber] == ZK_PROVEN) revert BatchAlreadyProven(batchNumber);
        if (_hashHeader(header) != batch.headerHash) revert StoredBatchMismatch(batchNumber);
        bytes32 pdHash = sha256(publicData);
        if (pdHash != header.publicDataHash) revert PublicDataHashMismatch(header.publicDataHash, pdHash);
        uint32 slots = zkSlots;
        if (header.opCount > slots) revert ZkBatchTooLarge(header.opCount, slots);
        bytes32 dataHash = _zkDataHash(header.feeAccount, publicData, slots, false);
        _verifyProof(v, batchNumber, header.prevStateRoot, header.newStateRoot, dataHash, proof);
        _zkBatch[batchNumber] = ZK_PROVEN;
        emit BatchProven(batchNumber, msg.sender);
    }

    /// @dev Calls `v.verifyProof(proof, [prevStateRoot, newStateRoot, dataHash, msg.sender])`;
    ///      valid iff the call succeeds and returns nothing (generated verifiers) or `true`,
    ///      otherwise reverts `InvalidProof(batchNumber, msg.sender)`.
    function _verifyProof(
        address v,
        uint64 batchNumber,
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 dataHash,
        uint256[8] calldata proof
    ) private view {
        uint256[4] memory input =
            [uint256(prevStateRoot), uint256(newStateRoot), uint256(dataHash), uint256(uint160(msg.sender))];
        (bool ok, bytes memory ret) = v.staticcall(abi.encodeCall(IBatchVerifier.verifyProof, (proof, input)));
        if (!ok || (ret.length != 0 && (ret.length != 32 || uint256(bytes32(ret)) != 1))) {
            revert InvalidProof(batchNumber, msg.sender);
        }
    }

    /// @notice Pays withdrawal `index` of final batch `batchNumber`: `amount` of `tokenId` to
    ///         `recipient`, proven by `proof` against the batch's withdrawals root. Anyone may
    ///         call; the money always goes to `recipient`, the L1 address named in the op.
    /// @dev Pays each (batchNumber, index) at most once. `proof` holds the sibling hashes from
    ///      the leaf up; its length must be ceil(log2(withdrawalCount)).
    function claimWithdrawal(
        uint64 batchNumber,
        uint32 index,
        uint8 tokenId,
        uint128 amount,
        address recipient,
        bytes32[] calldata proof
    ) external nonReentrant {
        if (batchNumber > lastFinalizedBatch) revert BatchNotFinalized(batchNumber);
        WithdrawalSet storage set = _withdrawals[batchNumber];
        uint256 count = set.count;
        if (index >= count) revert WithdrawalIndexOutOfRange(batchNumber, index, count);
        uint256 word = index >> 8;
        uint256 bit = 1 << (index & 0xff);
        uint256 bits = _claimed[batchNumber][word];
        if (bits & bit != 0) revert WithdrawalAlreadyClaimed(batchNumber, index);
        if (!_verifyWithdrawal(set.root, count, index, withdrawalLeaf(tokenId, amount, recipient), proof)) {
            revert InvalidWithdrawalProof(batchNumber, index);
        }
        _claimed[batchNumber][word] = bits | bit;
        // Never true for an honest history; stops a fraudulent batch from paying out more than was deposited.
        uint256 locked = tokenLocked[tokenId];
        if (amount > locked) revert WithdrawalExceedsLocked(tokenId, locked, amount);
        tokenLocked[tokenId] = locked - amount;
        emit WithdrawalClaimed(batchNumber, index, recipient, tokenId, amount);

        if (tokenId == ETH_TOKEN_ID) {
            (bool ok,) = recipient.call{value: amount}("");
            if (!ok) revert EthTransferFailed(recipient, amount);
        } else {
            address token = tokenAddress[tokenId];
            if (token == address(0)) revert UnknownTokenId(tokenId);
            IERC20(token).safeTransfer(recipient, amount);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Views and pure helpers (also the reference for off-chain encoders)
    // ---------------------------------------------------------------------------------------

    /// @notice Whether withdrawal `index` of batch `batchNumber` has been paid.
    function isWithdrawalClaimed(uint64 batchNumber, uint256 index) external view returns (bool) {
        return _claimed[batchNumber][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /// @notice Withdrawals root and count of a final batch (zero for non-final batches).
    function finalizedWithdrawals(uint64 batchNumber) external view returns (bytes32 root, uint32 count) {
        WithdrawalSet storage set = _withdrawals[batchNumber];
        return (set.root, set.count);
    }

    /// @notice Whether batch `batchNumber` is proven: a ZK batch by `proveBatch`, an optimistic
    ///         one by `proveOptimisticBatch` (false for unproven batches and genesis).
    function isProven(uint64 batchNumber) external view returns (bool) {
        return _zkBatch[batchNumber] == ZK_PROVEN;
    }

    /// @notice The validity lane's data commitment (SPEC §10), the proof's public input
    ///         `dataHash`: sha256(feeAccount as 4 bytes big-endian ‖ rec_1 ‖ … ‖ rec_slots) with
    ///         the top 3 bits cleared, where rec_i is op i of `publicData` right-padded with
    ///         zeros to ZK_RECORD_BYTES (52) and missing ops are 52 zero bytes.
    /// @dev Reverts like commitBatch on malformed public data (UnknownOpType, TruncatedOp,
    ///      NonCanonicalNoop) and with ZkBatchTooLarge for more than `slots` ops.
    function zkDataHash(uint32 feeAccount, bytes calldata publicData, uint32 slots) external view returns (bytes32) {
        return _zkDataHash(feeAccount, publicData, slots, true);
    }

    /// @notice Number of the last committed batch (0 = only genesis). Never decreases except
    ///         through a fraud-proof revert (not implemented yet).
    function lastCommittedBatch() public view returns (uint64) {
        return _lastCommittedBatch;
    }

    /// @notice Index of the next priority-queue entry a batch must consume.
    function priorityHead() external view returns (uint64) {
        return _priorityHead;
    }

    /// @notice Number of entries ever queued; the next deposit gets this index.
    function priorityTail() external view returns (uint64) {
        return _priorityTail;
    }

    /// @notice Number of queued deposits not yet consumed by a committed batch.
    function pendingPriorityOps() external view returns (uint64) {
        return _priorityTail - _priorityHead;
    }

    /// @notice Header digest: keccak256(abi.encode(header)); stored (inside the StoredBatch)
    ///         and, later, what sequencers sign.
    function hashHeader(BatchHeader calldata header) external pure returns (bytes32) {
        return keccak256(abi.encode(header));
    }

    /// @notice keccak256(abi.encode(batch)), the value kept in `batchRecordHash`.
    function hashStoredBatch(StoredBatch calldata batch) external pure returns (bytes32) {
        return keccak256(abi.encode(batch));
    }

    /// @notice circomlib packing of Baby Jubjub point (x, y) as used in deposits; reverts with
    ///         InvalidPublicKey for coordinates >= p or points off the curve.
    function packPublicKey(uint256 x, uint256 y) external pure returns (bytes32) {
        return _packKey(x, y);
    }

    /// @notice Leaf of the withdrawal Merkle tree:
    ///         keccak256(abi.encodePacked(uint8 tokenId, uint128 amount, address recipient)).
    function withdrawalLeaf(uint8 tokenId, uint128 amount, address recipient) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(tokenId, amount, recipient));
    }

    // ---------------------------------------------------------------------------------------
    // Internal hooks (seams for the staked sequencer set and fraud proofs)
    // ---------------------------------------------------------------------------------------

    /// @dev Authorization of a plain `commitBatch`: `msg.sender == sequencer`. `StakedRollup`
    ///      overrides it to refuse (its commits go through `commitBatchSigned`).
    function _authorizeCommit(bytes32 headerDigest) internal view virtual {
        headerDigest; // used by signature-checking overrides
        if (msg.sender != sequencer) revert NotSequencer(msg.sender);
    }

    /// @dev Marks `batch` (already checked to be `lastFinalizedBatch + 1` and to match its
    ///      record and to satisfy its lane's rule) final.
    function _finalize(StoredBatch calldata batch) internal {
        uint64 batchNumber = batch.batchNumber;
        lastFinalizedBatch = batchNumber;
        lastFinalizedStateRoot = batch.newStateRoot;
        if (batch.withdrawalCount != 0) {
            _withdrawals[batchNumber] = WithdrawalSet({root: batch.withdrawalsRoot, count: batch.withdrawalCount});
        }
        emit BatchFinalized(batchNumber, batch.newStateRoot, batch.withdrawalsRoot, batch.withdrawalCount);
    }

    /// @dev For the fraud-proof verifier: drops every committed batch after `lastKept` (which
    ///      must match its record and not be before the last final batch). The committed tip,
    ///      state root and priority-queue head go back to `lastKept`'s, so the deposits of the
    ///      dropped batches are pending again. Dropped records are overwritten by new commits.
    function _revertBatchesAfter(StoredBatch memory lastKept) internal {
        uint64 keep = lastKept.batchNumber;
        if (keep < lastFinalizedBatch) revert CannotRevertFinalized(keep);
        uint64 tip = _lastCommittedBatch;
        if (keep >= tip) revert NothingToRevert(keep);
        if (keccak256(abi.encode(lastKept)) != batchRecordHash[keep]) revert StoredBatchMismatch(keep);
        // A dropped number may be reused by an optimistic batch: forget ZK commitments/proofs.
        for (uint64 n = keep + 1; n <= tip; ++n) {
            delete _zkBatch[n];
        }
        // Safe: keep < tip < 2^48, and a committed record's priorityOpsEnd <= priorityTail < 2^48.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastCommittedBatch = uint48(keep);
        lastCommittedStateRoot = lastKept.newStateRoot;
        // forge-lint: disable-next-line(unsafe-typecast)
        _priorityHead = uint48(lastKept.priorityOpsEnd);
        emit BatchesReverted(keep + 1, tip);
    }

    // ---------------------------------------------------------------------------------------
    // Public data parsing
    // ---------------------------------------------------------------------------------------

    /// @dev Walks the ops of `data` (SPEC §4.2) once. The i-th Deposit op (in order) must
    ///      equal queue entry `queueStart + i` while that is below `queueLimit`; the returned
    ///      `queueEnd` is `queueStart +` the number of Deposit ops. Withdraw ops become leaves
    ///      at `mload(0x40) + 0x80` (as found on entry), allocated on return. `err` is 0 or
    ///      (offset << 8 | code).
    ///      Hot path: runs of Transfers are checked twelve, then three at a time, three headers
    ///      (bytes 0, 12, 24) per calldataload, with no storage or memory writes.
    function _parseOps(bytes calldata data, uint256 queueStart, uint256 queueLimit)
        private
        view
        returns (uint256 counts, uint256 err)
    {
        // counts packs three counters to keep the stack small: bits 0-63 the number of ops,
        // 64-127 the queue cursor (next entry to compare), 128-191 the number of withdrawals.
        assembly ("memory-safe") {
            counts := shl(64, queueStart)
            let end := add(data.offset, data.length)
            let ptr := data.offset
            // Memory past the free memory pointer: 128 bytes of hashing scratch at
            // buf = mload(0x40), then the withdrawal leaves (allocated at the end).
            // The fast paths only run while all the bytes they look at lie inside `data`
            // (ptr + 144 <= end, resp. ptr + 36 <= end), so they never read ABI padding or
            // later calldata. M / P: type bits of the headers at bytes 0, 12, 24 of a word /
            // those bits for three Transfers (type 2).
            let fast12End := 0
            if gt(data.length, 143) { fast12End := sub(end, 143) }
            let fast3End := 0
            if gt(data.length, 35) { fast3End := sub(end, 35) }
            for {} lt(ptr, end) {} {
                {
                    let runStart := ptr
                    // Twelve Transfers in a row: four words, three headers each.
                    for {} and(
                        lt(ptr, fast12End),
                        iszero(
                            or(
                                or(
                                    xor(
                                        and(calldataload(ptr), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    ),
                                    xor(
                                        and(calldataload(add(ptr, 36)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    )
                                ),
                                or(
                                    xor(
                                        and(calldataload(add(ptr, 72)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    ),
                                    xor(
                                        and(calldataload(add(ptr, 108)), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                                        0x4000000000000000000000004000000000000000000000004000000000000000
                                    )
                                )
                            )
                        )
                    ) {} { ptr := add(ptr, 144) }
                    // Three Transfers in a row.
                    for {} and(
                        lt(ptr, fast3End),
                        eq(
                            and(calldataload(ptr), 0xe00000000000000000000000e00000000000000000000000e000000000000000),
                            0x4000000000000000000000004000000000000000000000004000000000000000
                        )
                    ) {} { ptr := add(ptr, 36) }
                    counts := add(counts, div(sub(ptr, runStart), 12))
                }
                if iszero(lt(ptr, end)) { break }

                let word := calldataload(ptr)
                switch shr(253, word)
                case 2 { ptr := add(ptr, 12) }
                case 1 {
                    // Deposit: hdr(1) | to(3) | packedKey(32) | amount(16)
                    if gt(add(ptr, 52), end) {
                        err := 2
                        break
                    }
                    let cursor := and(shr(64, counts), 0xffffffffffffffff)
                    if lt(cursor, queueLimit) {
                        mstore(0x00, cursor)
                        mstore(0x20, priorityQueue.slot)
                        let entry := sload(keccak256(0x00, 0x40))
                        let buf := mload(0x40)
                        mstore(buf, calldataload(add(ptr, 4)))
                        mstore8(add(buf, 32), and(shr(248, word), 0x1f))
                        mstore(add(buf, 33), calldataload(add(ptr, 36)))
                        if iszero(eq(keccak256(buf, 49), entry)) {
                            err := or(shl(8, sub(ptr, data.offset)), 4)
                            break
                        }
                    }
                    counts := add(counts, shl(64, 1))
                    ptr := add(ptr, 52)
                }
                case 4 {
                    // Withdraw: hdr(1) | from(3) | amount(16) | fee(1) | l1Address(20)
                    if gt(add(ptr, 41), end) {
                        err := 2
                        break
                    }
                    let buf := mload(0x40)
                    mstore8(buf, and(shr(248, word), 0x1f))
                    mstore(add(buf, 1), calldataload(add(ptr, 4)))
                    mstore(add(buf, 17), calldataload(add(ptr, 21)))
                    mstore(add(add(buf, 0x80), shl(5, shr(128, counts))), keccak256(buf, 37))
                    counts := add(counts, shl(128, 1))
                    ptr := add(ptr, 41)
                }
                case 3 { ptr := add(ptr, 44) }
                case 0 {
                    if and(shr(248, word), 0x1f) {
                        err := or(shl(8, sub(ptr, data.offset)), 3)
                        break
                    }
                    ptr := add(ptr, 1)
                }
                default {
                    err := or(shl(8, sub(ptr, data.offset)), 1)
                    break
                }
                counts := add(counts, 1)
            }
            if iszero(err) { if gt(ptr, end) { err := 2 } }
            // Keep the leaves (plus one word for padding an odd level): allocate them.
            let withdrawals := shr(128, counts)
            if withdrawals { mstore(0x40, add(mload(0x40), add(0xa0, shl(5, withdrawals)))) }
        }
    }

    /// @dev `zkDataHash`: expands the compact ops of `data` into 52-byte records in scratch
    ///      memory past the free memory pointer (4-byte fee account, then `slots` records,
    ///      zeroed first), one calldatacopy per op (sizes from OP_SIZE_TABLE), and hashes the
    ///      buffer in place with the sha256 precompile. `checked`: one test per op covers
    ///      unknown types, truncation, non-canonical Noops and running out of slots (the cold
    ///      path names it); unchecked (commit path) when `_parseOps` already accepted `data` and
    ///      its op count is at most `slots`.
    function _zkDataHash(uint256 feeAccount, bytes calldata data, uint256 slots, bool checked)
        private
        view
        returns (bytes32 dataHash)
    {
        uint256 bad; // 0, or 1 + the byte offset of the op that fails
        assembly ("memory-safe") {
            let len := add(4, mul(ZK_RECORD_BYTES, slots))
            let buf := mload(0x40)
            calldatacopy(buf, calldatasize(), len) // zeros: calldata past its end
            mstore(buf, shl(224, feeAccount))
            let out := add(buf, 4)
            let outEnd := add(out, mul(ZK_RECORD_BYTES, slots))
            let ptr := data.offset
            let end := add(ptr, data.length)
            for {} and(iszero(checked), lt(ptr, end)) {} {
                let size := byte(sub(31, shr(253, calldataload(ptr))), OP_SIZE_TABLE)
                calldatacopy(out, ptr, size)
                out := add(out, ZK_RECORD_BYTES)
                ptr := add(ptr, size)
            }
            for {} lt(ptr, end) {} {
                let h := byte(0, calldataload(ptr))
                let size := byte(sub(31, shr(5, h)), OP_SIZE_TABLE)
                if or(
                    or(iszero(size), gt(add(ptr, size), end)),
                    or(and(lt(h, 0x20), gt(h, 0)), iszero(lt(out, outEnd)))
                ) {
                    bad := add(sub(ptr, data.offset), 1)
                    break
                }
                calldatacopy(out, ptr, size)
                out := add(out, ZK_RECORD_BYTES)
                ptr := add(ptr, size)
            }
            if iszero(bad) {
                if iszero(staticcall(gas(), 0x02, buf, len, 0x00, 0x20)) { revert(0, 0) }
                dataHash := and(mload(0x00), shr(3, not(0)))
            }
        }
        if (bad != 0) _revertZkData(data, bad - 1, slots);
    }

    /// @dev Cold path of `_zkDataHash`: the error for the op at `offset` (the first one not
    ///      expanded); when it is well-formed, there are more than `slots` ops: counts them all
    ///      (or names a malformed later op).
    function _revertZkData(bytes calldata data, uint256 offset, uint256 slots) private pure {
        uint256 found = slots;
        uint256 i = offset;
        while (i < data.length) {
            uint8 h = uint8(data[i]);
            uint256 size = _opSize(h >> 5);
            if (size == type(uint256).max) revert UnknownOpType(i, h >> 5);
            if (i + size > data.length) revert TruncatedOp(i, h >> 5);
            if (h != 0 && h < 0x20) revert NonCanonicalNoop(i, h);
            found++;
            i += size;
        }
        revert ZkBatchTooLarge(found, slots);
    }

    /// @dev Root of the withdrawal tree over the `count` leaves at memory `leaves` (count >= 1,
    ///      one spare word after them): pairwise keccak256(left ++ right) level by level, an odd
    ///      level padded with a zero node. Overwrites the leaves.
    function _withdrawalsRoot(uint256 leaves, uint256 count) private pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let m := count
            for {} gt(m, 1) {} {
                if and(m, 1) {
                    mstore(add(leaves, shl(5, m)), 0)
                    m := add(m, 1)
                }
                let half := shr(1, m)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(leaves, shl(5, i)), keccak256(add(leaves, shl(6, i)), 0x40))
                }
                m := half
            }
            root := mload(leaves)
        }
    }

    /// @dev Parses `data` and turns any failure into its custom error; checks the number of
    ///      Deposit ops against `priorityOps`.
    function _processPublicData(bytes calldata data, uint256 head, uint256 priorityOps)
        private
        view
        returns (uint256 opCount, uint256 withdrawalCount, bytes32 withdrawalsRoot)
    {
        uint256 queueEnd;
        uint256 err;
        uint256 leaves; // where _parseOps puts the withdrawal leaves (see there)
        assembly ("memory-safe") {
            leaves := add(mload(0x40), 0x80)
        }
        uint256 counts;
        (counts, err) = _parseOps(data, head, head + priorityOps);
        opCount = uint64(counts);
        queueEnd = uint64(counts >> 64);
        withdrawalCount = counts >> 128;
        if (err != 0) _revertMalformed(data, err & 0xff, err >> 8, queueEnd);
        if (withdrawalCount != 0) withdrawalsRoot = _withdrawalsRoot(leaves, withdrawalCount);
        uint256 deposits = queueEnd - head;
        // Safe: priorityOps came from a uint32 header field.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (deposits != priorityOps) revert PriorityOpsCountMismatch(uint32(priorityOps), deposits);
    }

    /// @dev Cold path: turns a parser failure code into its custom error.
    function _revertMalformed(bytes calldata data, uint256 err, uint256 offset, uint256 queueIndex) private pure {
        if (err == ERR_UNKNOWN_TYPE) revert UnknownOpType(offset, uint8(data[offset]) >> 5);
        if (err == ERR_NOOP) revert NonCanonicalNoop(offset, uint8(data[offset]));
        // Safe: queueIndex < priorityTail, a uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (err == ERR_DEPOSIT) revert DepositMismatch(offset, uint64(queueIndex));
        // ERR_TRUNCATED: find the op that runs past the end (all earlier types are known).
        uint256 i;
        while (i < data.length) {
            uint8 opType = uint8(data[i]) >> 5;
            uint256 size = _opSize(opType);
            if (i + size > data.length) revert TruncatedOp(i, opType);
            i += size;
        }
        revert TruncatedOp(data.length, 0); // unreachable
    }

    function _opSize(uint256 opType) private pure returns (uint256) {
        if (opType == OP_TRANSFER) return SIZE_TRANSFER;
        if (opType == OP_DEPOSIT) return SIZE_DEPOSIT;
        if (opType == OP_WITHDRAW) return SIZE_WITHDRAW;
        if (opType == OP_TRANSFER_TO_NEW) return SIZE_TRANSFER_TO_NEW;
        if (opType == OP_NOOP) return SIZE_NOOP;
        return type(uint256).max;
    }

    /// @dev Positional Merkle proof check: `proof[i]` is the sibling at level i; bit i of
    ///      `index` says whether the running node is a right child.
    function _verifyWithdrawal(bytes32 root, uint256 count, uint256 index, bytes32 leaf, bytes32[] calldata proof)
        private
        pure
        returns (bool)
    {
        uint256 depth;
        while ((uint256(1) << depth) < count) depth++;
        if (proof.length != depth) return false;
        bytes32 node = leaf;
        for (uint256 i; i < depth; ++i) {
            bytes32 sibling = proof[i];
            node = (index >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == root;
    }
}
