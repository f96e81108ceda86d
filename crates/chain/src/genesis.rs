//! The genesis state and the chain parameters fixed at genesis.

use alloy::primitives::B256;
use tandem_state::{Ledger, LedgerConfig, LedgerConfigError, StfError};
use tandem_types::PackedPubKey;

/// The fee account's index: account 0, created at genesis, credited with every batch's fees.
pub const FEE_ACCOUNT: u32 = 0;

/// Why the genesis state cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The ledger parameters (chain id, tree depth) are refused; the ledger says why.
    #[error("genesis ledger parameters: {0}")]
    Parameters(#[source] LedgerConfigError),
    /// The fee account cannot be created (e.g. the fee key does not unpack to a point).
    #[error("genesis fee account: {0}")]
    FeeAccount(#[source] StfError),
}

/// The genesis ledger of a chain with `config`: one empty account [`FEE_ACCOUNT`] owned by
/// `fee_pubkey`.
pub fn genesis_ledger(config: LedgerConfig, fee_pubkey: PackedPubKey) -> Result<Ledger, GenesisError> {
    let mut ledger = Ledger::new(config).map_err(GenesisError::Parameters)?;
    ledger.create_genesis_account(fee_pubkey).map_err(GenesisError::FeeAccount)?;
    Ok(ledger)
}

/// The genesis state root as the rollup contract's constructor takes it (big-endian).
pub fn genesis_root(chain_id: u64, tree_depth: u8, fee_pubkey: PackedPubKey) -> Result<B256, GenesisError> {
    // The chunk size shapes batches, not the genesis state.
    let ledger = genesis_ledger(LedgerConfig { chain_id, tree_depth, chunk_size: None }, fee_pubkey)?;
    Ok(B256::from(tandem_crypto::field::fr_to_be_bytes(&ledger.root())))
}
