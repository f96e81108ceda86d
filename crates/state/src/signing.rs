//! Domain-separated signing messages of user transactions (SPEC.md §4.4).

use tandem_crypto::{poseidon, poseidon_many, Fr, PublicKey};
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
    poseidon(&transfer_message_inputs(chain_id, tx, to))
}

/// The inputs of [`transfer_message`]'s hash, in order.
fn transfer_message_inputs(chain_id: ChainId, tx: &TransferTx, to: &PublicKey) -> [Fr; 9] {
    [
        transfer_tag(),
        Fr::from(chain_id),
        Fr::from(tx.from.get() as u64),
        to.x(),
        to.y(),
        Fr::from(tx.token.get() as u64),
        Fr::from(tx.amount.value()),
        Fr::from(tx.fee.value()),
        Fr::from(tx.nonce as u64),
    ]
}

/// `H(TAG_WITHDRAW, chain_id, from, to_l1, token, amount, fee, nonce)`.
pub fn withdraw_message(chain_id: ChainId, tx: &WithdrawTx) -> Fr {
    poseidon(&withdraw_message_inputs(chain_id, tx))
}

/// The inputs of [`withdraw_message`]'s hash, in order.
fn withdraw_message_inputs(chain_id: ChainId, tx: &WithdrawTx) -> [Fr; 8] {
    [
        withdraw_tag(),
        Fr::from(chain_id),
        Fr::from(tx.from.get() as u64),
        address_to_fr(&tx.to_l1),
        Fr::from(tx.token.get() as u64),
        Fr::from(tx.amount),
        Fr::from(tx.fee.value()),
        Fr::from(tx.nonce as u64),
    ]
}

/// What a user transaction signs, before hashing (a transfer's recipient key unpacked).
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignedMessage {
    Transfer(TransferTx, PublicKey),
    Withdraw(WithdrawTx),
}

impl SignedMessage {
    /// The message `tx` signs; fails if a transfer's recipient key is not a valid point.
    /// `recipient` is the recipient's key already unpacked, when the caller has it (an
    /// account's key): it saves the unpacking's square root, and is used only if it packs to
    /// the transfer's `to`, so a wrong hint costs the unpacking and nothing else.
    pub(crate) fn of(tx: &tandem_types::Tx, recipient: Option<&PublicKey>) -> Result<Self, crate::StfError> {
        Ok(match tx {
            tandem_types::Tx::Transfer(t) => SignedMessage::Transfer(
                *t,
                match recipient {
                    Some(key) if key.pack() == t.to => *key,
                    _ => PublicKey::unpack(&t.to).map_err(crate::StfError::InvalidPubKey)?,
                },
            ),
            tandem_types::Tx::Withdraw(w) => SignedMessage::Withdraw(*w),
        })
    }

    /// The §4.4 signing message of each, in order: transfers and withdrawals each hashed
    /// together through [`poseidon_many`].
    pub(crate) fn hash_many(chain_id: ChainId, messages: &[&SignedMessage]) -> Vec<Fr> {
        let transfers: Vec<[Fr; 9]> = messages
            .iter()
            .filter_map(|m| match m {
                SignedMessage::Transfer(tx, to) => Some(transfer_message_inputs(chain_id, tx, to)),
                SignedMessage::Withdraw(_) => None,
            })
            .collect();
        let withdrawals: Vec<[Fr; 8]> = messages
            .iter()
            .filter_map(|m| match m {
                SignedMessage::Withdraw(tx) => Some(withdraw_message_inputs(chain_id, tx)),
                SignedMessage::Transfer(..) => None,
            })
            .collect();
        let mut transfers = poseidon_many(&transfers).into_iter();
        let mut withdrawals = poseidon_many(&withdrawals).into_iter();
        messages
            .iter()
            .filter_map(|m| match m {
                SignedMessage::Transfer(..) => transfers.next(),
                SignedMessage::Withdraw(_) => withdrawals.next(),
            })
            .collect()
    }
}

/// `H(TAG_EXIT, chain_id, account, token, recipient)`: the account owner's consent that its
/// whole balance of `token` leave, during exodus, to L1 address `recipient` (SPEC.md §16).
/// No nonce: each (account, token) exits at most once, which L1 enforces.
pub fn exit_message(chain_id: ChainId, account: AccountIndex, token: TokenId, recipient: &L1Address) -> Fr {
    poseidon(&[exit_tag(), Fr::from(chain_id), Fr::from(account.get() as u64), Fr::from(token.get() as u64), address_to_fr(recipient)])
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
    let word =
        |w: &[u8; 32]| tandem_crypto::field::fr_from_be_bytes(w).map_err(|_| crate::StfError::MalformedForcedRequest(request.account));
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
    let mut request = ForcedWithdrawalRequest { account, token, to_l1, amount, request_id, r8x: [0; 32], r8y: [0; 32], s: [0; 32] };
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

/// A transaction whose signature is to be checked, with its signer's key and, when the
/// caller has it, the recipient's key already unpacked (see [`TxSignature::with_recipient`]).
#[derive(Debug, Clone, Copy)]
pub struct TxSignature<'a> {
    /// The signed transaction.
    pub signed: &'a tandem_types::SignedTx,
    /// The key of the transaction's sender account.
    pub signer: &'a PublicKey,
    /// A transfer's recipient key unpacked (e.g. from the recipient's account): a hint that
    /// saves a square root; ignored unless it packs to the transfer's `to`.
    pub recipient: Option<&'a PublicKey>,
}

impl<'a> TxSignature<'a> {
    /// `signed` checked against `signer`, the recipient's key unpacked from the transaction.
    pub fn new(signed: &'a tandem_types::SignedTx, signer: &'a PublicKey) -> Self {
        Self { signed, signer, recipient: None }
    }

    /// The same, with the recipient's key when the caller already holds it unpacked.
    pub fn with_recipient(self, recipient: Option<&'a PublicKey>) -> Self {
        Self { recipient, ..self }
    }
}

/// Checks `signed`'s signature against `signer` for `chain_id` (what a mempool does before
/// accepting a transaction).
pub fn verify_tx(chain_id: ChainId, signed: &tandem_types::SignedTx, signer: &PublicKey) -> Result<(), crate::StfError> {
    one(verify_txs(chain_id, &[TxSignature::new(signed, signer)]))
}

/// [`verify_tx`] of each item, in order, the hashes of all of them computed together.
pub fn verify_txs(chain_id: ChainId, items: &[TxSignature<'_>]) -> Vec<Result<(), crate::StfError>> {
    let messages: Vec<Result<SignedMessage, crate::StfError>> =
        items.iter().map(|item| SignedMessage::of(&item.signed.tx, item.recipient)).collect();
    let well_formed: Vec<&SignedMessage> = messages.iter().filter_map(|m| m.as_ref().ok()).collect();
    let hashes = SignedMessage::hash_many(chain_id, &well_formed);
    let checks: Vec<_> = items
        .iter()
        .zip(&messages)
        .filter(|(_, message)| message.is_ok())
        .zip(hashes)
        .map(|((item, _), hash)| (item.signed.tx.from(), item.signer, hash, &item.signed.signature))
        .collect();
    let mut verdicts = verify_packed_many(chain_id, &checks).into_iter();
    messages.into_iter().map(|message| message.and_then(|_| verdicts.next().expect("one verdict per well-formed message"))).collect()
}

/// Checks a packed signature of `from`'s key `signer` on `message` (a §4.4 signing message
/// for `chain_id`), for each item in order: the one place a rule's signature verdict and its
/// error are decided. The challenge hashes are computed together
/// ([`tandem_crypto::verify_many`]).
pub(crate) fn verify_packed_many(
    chain_id: ChainId,
    items: &[(tandem_types::AccountIndex, &PublicKey, Fr, &tandem_types::PackedSignature)],
) -> Vec<Result<(), crate::StfError>> {
    let unpacked: Vec<Result<tandem_crypto::Signature, crate::StfError>> = items
        .iter()
        .map(|(_, _, _, packed)| tandem_crypto::Signature::unpack(packed).map_err(crate::StfError::MalformedSignature))
        .collect();
    let equations: Vec<(&PublicKey, Fr, &tandem_crypto::Signature)> = items
        .iter()
        .zip(&unpacked)
        .filter_map(|((_, signer, message, _), signature)| Some((*signer, *message, signature.as_ref().ok()?)))
        .collect();
    let mut holds = tandem_crypto::verify_many(&equations).into_iter();
    items
        .iter()
        .zip(unpacked)
        .map(|((from, ..), signature)| {
            signature?;
            match holds.next() {
                Some(true) => Ok(()),
                _ => Err(crate::StfError::BadSignature { from: *from, chain_id }),
            }
        })
        .collect()
}

/// Items per parallel task when verifying many signatures: an even share of the threads,
/// between 8 (the vector hash's lanes) and 64, rounded up to a multiple of 8.
pub fn verification_chunk(items: usize) -> usize {
    items.div_ceil(rayon::current_num_threads().max(1)).clamp(8, 64).next_multiple_of(8)
}

/// The verdict of a one-item call to one of the `_many` functions above.
fn one(verdicts: Vec<Result<(), crate::StfError>>) -> Result<(), crate::StfError> {
    verdicts.into_iter().next().expect("one verdict per item")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_crypto::PrivateKey;
    use tandem_types::{PackedAmount, PackedFee, SignedTx, Tx};

    const CHAIN: ChainId = 7;

    fn key(k: u8) -> PrivateKey {
        PrivateKey::from_seed([k; 32])
    }

    fn transfer(from: u8, nonce: u32) -> SignedTx {
        let tx = Tx::Transfer(TransferTx {
            from: AccountIndex::new(from as u32).unwrap(),
            to: key(from + 100).public_key().pack(),
            token: TokenId::new(0).unwrap(),
            amount: PackedAmount::new(5).unwrap(),
            fee: PackedFee::new(1).unwrap(),
            nonce,
        });
        sign_tx(&key(from), CHAIN, tx).unwrap()
    }

    fn withdraw(from: u8, nonce: u32) -> SignedTx {
        let tx = Tx::Withdraw(WithdrawTx {
            from: AccountIndex::new(from as u32).unwrap(),
            to_l1: L1Address([from; 20]),
            token: TokenId::new(0).unwrap(),
            amount: 9,
            fee: PackedFee::new(1).unwrap(),
            nonce,
        });
        sign_tx(&key(from), CHAIN, tx).unwrap()
    }

    /// Many transactions checked together each get the verdict, and the error, of checking
    /// it alone: good transfers and withdrawals interleaved, a wrong signer, a signature
    /// whose point is not on the curve, a transfer to a key that is not a point.
    #[test]
    fn verify_txs_gives_each_its_own_verdict() {
        let mut txs: Vec<(SignedTx, PublicKey)> = Vec::new();
        for k in 1..=12u8 {
            let signed = if k % 2 == 0 { transfer(k, k as u32) } else { withdraw(k, k as u32) };
            txs.push((signed, key(k).public_key()));
        }
        txs[3].1 = key(99).public_key();
        txs[5].0.signature.0[..32].copy_from_slice(&[0xff; 32]);
        if let Tx::Transfer(t) = &mut txs[7].0.tx {
            t.to = tandem_types::PackedPubKey([0xff; 32]);
        }
        let items: Vec<TxSignature<'_>> = txs.iter().map(|(s, k)| TxSignature::new(s, k)).collect();
        let together = verify_txs(CHAIN, &items);
        for (k, ((signed, signer), verdict)) in txs.iter().zip(&together).enumerate() {
            match k {
                3 => assert!(matches!(verdict, Err(crate::StfError::BadSignature { .. })), "{k}: {verdict:?}"),
                5 => assert!(matches!(verdict, Err(crate::StfError::MalformedSignature(_))), "{k}: {verdict:?}"),
                7 => assert!(matches!(verdict, Err(crate::StfError::InvalidPubKey(_))), "{k}: {verdict:?}"),
                _ => assert_eq!(*verdict, Ok(()), "{k}"),
            }
            assert_eq!(*verdict, verify_tx(CHAIN, signed, signer), "{k}: alone and together differ");
        }
        assert!(verify_txs(CHAIN, &[]).is_empty());
    }

    /// The recipient hint only saves work: the right key gives the verdict the unpacked `to`
    /// gives, a key that does not pack to `to` is ignored (the good signature still verifies,
    /// it cannot make a transfer verify for another recipient), and a `to` that is not a
    /// point is refused whatever the hint.
    #[test]
    fn a_recipient_hint_never_changes_a_verdict() {
        let signed = transfer(3, 0);
        let signer = key(3).public_key();
        let right = key(103).public_key();
        let wrong = key(104).public_key();
        for hint in [None, Some(&right), Some(&wrong)] {
            let item = TxSignature::new(&signed, &signer).with_recipient(hint);
            assert_eq!(verify_txs(CHAIN, &[item]), vec![Ok(())], "{hint:?}");
        }
        let mut forged = signed;
        if let Tx::Transfer(t) = &mut forged.tx {
            t.to = wrong.pack();
        }
        let item = TxSignature::new(&forged, &signer).with_recipient(Some(&wrong));
        assert!(matches!(verify_txs(CHAIN, &[item])[0], Err(crate::StfError::BadSignature { .. })));
        let mut broken = signed;
        if let Tx::Transfer(t) = &mut broken.tx {
            t.to = tandem_types::PackedPubKey([0xff; 32]);
        }
        let item = TxSignature::new(&broken, &signer).with_recipient(Some(&right));
        assert!(matches!(verify_txs(CHAIN, &[item])[0], Err(crate::StfError::InvalidPubKey(_))));
    }
}
