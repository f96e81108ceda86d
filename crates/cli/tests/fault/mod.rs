//! Helpers shared by the fault-proof tests (challenger, dispute game, fast withdrawals, the
//! staked set): L1 key coordinates, state roots as L1 sees them, forged ops, anvil time, the
//! single sequencer's bond, and stepping the challenger.

#![allow(dead_code)]

use std::time::Duration;
use tandem_challenger::Challenger;
use tandem_crypto::field::fr_to_be_bytes;
use tandem_crypto::PrivateKey;
use tandem_l1::{Address, DisputeClient, PrivateKeySigner, B256, U256};
use tandem_state::Ledger;
use tandem_types::{AccountIndex, Op, PackedAmount, PackedFee, TokenId, TransferOp};

/// The L2 key's coordinates as a deposit names its owner on L1.
pub fn xy(key: &PrivateKey) -> (U256, U256) {
    let pk = key.public_key();
    (U256::from_be_bytes(fr_to_be_bytes(&pk.x())), U256::from_be_bytes(fr_to_be_bytes(&pk.y())))
}

/// The ledger's root as L1 stores it (big-endian).
pub fn root_of(ledger: &Ledger) -> B256 {
    B256::from(fr_to_be_bytes(&ledger.root()))
}

/// A public transfer of `amount` wei of ETH with no fee: what a forger puts in a batch (L1
/// never sees that no signature exists).
pub fn fee_free_transfer(from: AccountIndex, to: AccountIndex, amount: u128) -> Op {
    Op::Transfer(TransferOp { from, to, token: TokenId::ETH, amount: PackedAmount::new(amount).unwrap(), fee: PackedFee::new(0).unwrap() })
}

/// Moves anvil's clock at least `seconds` past its latest block.
pub async fn pass_time(l1_url: &str, seconds: u64) {
    tandem_devnet::advance_time_by(l1_url, seconds).await.unwrap();
}

/// The single sequencer's bond in the tests' dispute games: 1 ETH.
pub const SEQUENCER_BOND: u128 = 10u128.pow(18);

/// Posts `SEQUENCER_BOND` from `sequencer` in `game`: a single sequencer commits nothing
/// without it.
pub async fn bond_sequencer(l1_url: &str, game: Address, sequencer: &PrivateKeySigner) {
    DisputeClient::new(l1_url, game, Some(sequencer.clone())).unwrap().post_sequencer_bond(U256::from(SEQUENCER_BOND)).await.unwrap();
}

/// Steps the challenger until `done` holds (each step must move, or time must pass).
pub async fn step_until(challenger: &mut Challenger, mut done: impl FnMut(&Challenger) -> bool) {
    for _ in 0..200 {
        if done(challenger) {
            return;
        }
        if !challenger.step().await.unwrap() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("the challenger did not get there: {:?}", challenger.status());
}
