//! Domain-separated signing messages of user transactions (SPEC.md §4.4).

use tandem_crypto::{poseidon, Fr, PublicKey};
use tandem_types::{AccountIndex, ChainId, ForcedWithdrawalRequest, L1Address, TokenId, TransferTx, WithdrawTx};

/// "tandem.transfer.v1" as a big-endian integer: separates transfer messages from every
/// other message a key may sign.
pub fn transfer_tag() -> Fr {
    tag(b"tandem.transfer.v1")
}

/// "tandem.withdraw.v1" as a big-endian integer.
pub fn withdraw_tag() -> Fr {
    tag(b"tandem.withdraw.v1")
}

/// "tandem.exit.v1" as a big-endian integer: an exit authorization (SPEC.md §16) can never
/// be replayed as a transfer or a withdrawal, nor the reverse.
pub fn exit_tag() -> Fr {
    tag(b"tandem.exit.v1")
}

/// "tandem.forced.v1" as a big-endian integer: a forced-withdrawal request (SPEC.md §4.5).
pub fn forced_tag() -> Fr {
    tag(b"tandem.forced.v1")
}

fn tag(ascii: &[u8]) -> Fr {
    let mut be = [0u8; 32];
    be[32 - ascii.len()..].copy_from_slice(ascii);
    tandem_crypto::field::fr_from_be_bytes(&be).expect("short ASCII tags are below p")
}

/// The 160-bit L1 address as a field element.
pub fn address_to_fr(address: &L1Address) -> Fr {
    let mut be = [0u8; 32];
    be[12..].copy_from_slice(&address.0);
    tandem_crypto::field::fr_from_be_bytes(&be).expect("160-bit values are below p")
}

/// `H(TAG_TRANSFER, chain_id, from, to.x, to.y, token, amount, fee, nonce)`.
pub fn transfer_message(chain_id: ChainId, tx: &TransferTx, to: &PublicKey) -> Fr {
    poseidon(&[
        transfer_tag(),
        Fr::from(chain_id),
        Fr::from(tx.from.get() as u64),
        to.x(),
        to.y(),
        Fr::from(tx.token.get() as u64),
        Fr::from(tx.amount.value()),
        Fr::from(tx.fee.value()),
        Fr::from(tx.nonce as u64),
    ])
}

/// `H(TAG_WITHDRAW, chain_id, from, to_l1, token, amount, fee, nonce)`.
pub fn withdraw_message(chain_id: ChainId, tx: &WithdrawTx) -> Fr {
    poseidon(&[
        withdraw_tag(),
        Fr::from(chain_id),
        Fr::from(tx.from.get() as u64),
        address_to_fr(&tx.to_l1),
        Fr::from(tx.token.get() as u64),
        Fr::from(tx.amount),
        Fr::from(tx.fee.value()),
        Fr::from(tx.nonce as u64),
    ])
}

/// `H(TAG_EXIT, chain_id, account, token, recipient)`: the account owner's consent that its
/// whole balance of `token` leave, during exodus, to L1 address `recipient` (SPEC.md §16).
/// No nonce: each (account, token) exits at most once, which L1 enforces.
pub fn exit_message(chain_id: ChainId, account: AccountIndex, token: TokenId, recipient: &L1Address) -> Fr {
    poseidon(&[
        exit_tag(),
        Fr::from(chain_id),
        Fr::from(account.get() as u64),
        Fr::from(token.get() as u64),
        address_to_fr(recipient),
    ])
}

/// `H(TAG_FORCED, chain_id, account, token, to_l1, amount, request_id)`: what the account key
/// signs to request a forced withdrawal on L1 (SPEC.md §4.4). No nonce: L1 queues each
/// (account, request id) once.
pub fn forced_message(chain_id: ChainId, request: &ForcedWithdrawalRequest) -> Fr {
    poseidon(&[
        forced_tag(),
        Fr::from(chain_id),
        Fr::from(request.account.get() as u64),
        Fr::from(request.token.get() as u64),
        address_to_fr(&request.to_l1),
        Fr::from(request.amount),
        Fr::from(request.request_id),
    ])
}

/// `H(M, R8.x, R8.y, S)` with `M` = [`forced_message`]: the value the L1 queue entry and the
/// `ForcedWithdraw` op carry, binding the op to the exact signed request. Fails for a word
/// at or above the field modulus (L1 never queues one).
pub fn forced_request_hash(chain_id: ChainId, request: &ForcedWithdrawalRequest) -> Result<Fr, crate::StfError> {
    let word = |w: &[u8; 32]| {
        tandem_crypto::field::fr_from_be_bytes(w).map_err(|_| crate::StfError::MalformedForcedRequest(request.account))
    };
    Ok(poseidon(&[forced_message(chain_id, request), word(&request.r8x)?, word(&request.r8y)?, word(&request.s)?]))
}

/// A forced-withdrawal request signed with `key` (what `tandem wallet force-withdraw` sends
/// to L1); `amount` 0 asks for the whole balance.
pub fn sign_forced_withdrawal(
    key: &tandem_crypto::PrivateKey,
    chain_id: ChainId,
    account: AccountIndex,
    token: TokenId,
    to_l1: L1Address,
    amount: tandem_types::Balance,
    request_id: u64,
) -> ForcedWithdrawalRequest {
    let mut request =
        ForcedWithdrawalRequest { account, token, to_l1, amount, request_id, r8x: [0; 32], r8y: [0; 32], s: [0; 32] };
    let (r8x, r8y, s) = key.sign(forced_message(chain_id, &request)).to_coordinates();
    request.r8x = r8x;
    request.r8y = r8y;
    request.s = s;
    request
}

/// Signs `tx` for `chain_id` with `key` (what a wallet does). Fails only if a transfer's
/// recipient key is not a valid point.
pub fn sign_tx(
    key: &tandem_crypto::PrivateKey,
    chain_id: ChainId,
    tx: tandem_types::Tx,
) -> Result<tandem_types::SignedTx, tandem_crypto::PointError> {
    let message = match &tx {
        tandem_types::Tx::Transfer(t) => transfer_message(chain_id, t, &PublicKey::unpack(&t.to)?),
        tandem_types::Tx::Withdraw(w) => withdraw_message(chain_id, w),
    };
    Ok(tandem_types::SignedTx { tx, signature: key.sign(message).pack() })
}

/// Checks `signed`'s signature against `signer` for `chain_id` (what a mempool does before
/// accepting a transaction).
pub fn verify_tx(
    chain_id: ChainId,
    signed: &tandem_types::SignedTx,
    signer: &PublicKey,
) -> Result<(), crate::StfError> {
    let message = match &signed.tx {
        tandem_types::Tx::Transfer(t) => {
            let to = PublicKey::unpack(&t.to).map_err(crate::StfError::InvalidPubKey)?;
            transfer_message(chain_id, t, &to)
        }
        tandem_types::Tx::Withdraw(w) => withdraw_message(chain_id, w),
    };
    verify_packed(chain_id, signed.tx.from(), signer, message, &signed.signature)
}

/// Checks a packed signature of `from`'s key `signer` on `message` (a §4.4 signing message
/// for `chain_id`): the one place a rule's signature verdict and its error are decided.
pub(crate) fn verify_packed(
    chain_id: ChainId,
    from: tandem_types::AccountIndex,
    signer: &PublicKey,
    message: tandem_crypto::Fr,
    signature: &tandem_types::PackedSignature,
) -> Result<(), crate::StfError> {
    let signature = tandem_crypto::Signature::unpack(signature).map_err(crate::StfError::MalformedSignature)?;
    if !tandem_crypto::verify(signer, message, &signature) {
        return Err(crate::StfError::BadSignature { from, chain_id });
    }
    Ok(())
}
