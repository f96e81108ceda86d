//! Crash-safe persistence of the ledger in redb.
//!
//! Every [`Ledger::persist`] is one redb write transaction holding the changed accounts,
//! the changed tree nodes and the metadata (root, next index, batch count). redb commits
//! are atomic and durable, so a process killed at any moment reopens to the state of its
//! last completed `persist`, never a mix of two.
//!
//! Layout: table `accounts` (index → packed key ‖ nonce u32 ‖ (token u8 ‖ balance u128)*),
//! table `nodes` ((height << 32 | index) → 32-byte little-endian field element; only nodes
//! that differ from the empty-subtree hash), table `meta` (name → bytes).

use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;
use tandem_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use tandem_crypto::PublicKey;
use tandem_types::{PackedPubKey, TokenId};

use crate::account::Account;
use crate::error::StoreError;
use crate::ledger::{Ledger, LedgerConfig};

const ACCOUNTS: TableDefinition<u32, &[u8]> = TableDefinition::new("accounts");
const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("nodes");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const META_CHAIN_ID: &str = "chain_id";
const META_DEPTH: &str = "tree_depth";
const META_NEXT_INDEX: &str = "next_index";
const META_BATCHES: &str = "batches_applied";
const META_ROOT: &str = "root";

/// A ledger bound to its database file.
pub struct PersistentLedger {
    ledger: Ledger,
    db: std::sync::Arc<Database>,
}

impl std::fmt::Debug for PersistentLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentLedger").field("ledger", &self.ledger).finish_non_exhaustive()
    }
}

impl std::ops::Deref for PersistentLedger {
    type Target = Ledger;
    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

impl std::ops::DerefMut for PersistentLedger {
    fn deref_mut(&mut self) -> &mut Ledger {
        &mut self.ledger
    }
}

fn node_key(height: u8, index: u32) -> u64 {
    ((height as u64) << 32) | index as u64
}

fn encode_account(account: &Account) -> Vec<u8> {
    let mut out = Vec::with_capacity(36 + 17 * 2);
    out.extend_from_slice(&account.pubkey.pack().0);
    out.extend_from_slice(&account.nonce.to_be_bytes());
    for (token, balance) in account.balances() {
        out.push(token.get());
        out.extend_from_slice(&balance.to_be_bytes());
    }
    out
}

fn decode_account(bytes: &[u8]) -> Result<Account, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("account record: {what}"));
    if bytes.len() < 36 || !(bytes.len() - 36).is_multiple_of(17) {
        return Err(corrupt("bad length"));
    }
    let packed = PackedPubKey(bytes[..32].try_into().expect("length checked"));
    let pubkey = PublicKey::unpack(&packed).map_err(|e| corrupt(&e.to_string()))?;
    let mut account = Account::new(pubkey);
    account.nonce = u32::from_be_bytes(bytes[32..36].try_into().expect("length checked"));
    for chunk in bytes[36..].chunks_exact(17) {
        let token = TokenId::new(chunk[0] as u32).map_err(|e| corrupt(&e.to_string()))?;
        account.set_balance(token, u128::from_be_bytes(chunk[1..].try_into().expect("17-byte chunk")));
    }
    Ok(account)
}

impl PersistentLedger {
    /// Opens (or creates) the ledger stored at `path`. A new store records `config`; an
    /// existing one must have been created with the same config.
    pub fn open(path: &Path, config: LedgerConfig) -> Result<Self, StoreError> {
        let db = Database::create(path)?;
        let mut ledger = Ledger::new(config)?;
        let read = db.begin_read()?;
        let meta = match read.open_table(META) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        match meta {
            None => {
                drop(read);
                let store = Self { ledger, db: std::sync::Arc::new(db) };
                store.write_meta_only()?;
                Ok(store)
            }
            Some(meta) => {
                let get = |name: &str| -> Result<Vec<u8>, StoreError> {
                    Ok(meta.get(name)?.ok_or_else(|| StoreError::Corrupt(format!("missing meta {name}")))?.value().to_vec())
                };
                let chain_id = u64::from_be_bytes(fixed(&get(META_CHAIN_ID)?)?);
                let depth = get(META_DEPTH)?.first().copied().unwrap_or(0);
                if chain_id != config.chain_id || depth != config.tree_depth {
                    return Err(StoreError::ConfigMismatch(format!(
                        "store has chain id {chain_id} depth {depth}, asked for chain id {} depth {}",
                        config.chain_id, config.tree_depth
                    )));
                }
                ledger.next_index = u32::from_be_bytes(fixed(&get(META_NEXT_INDEX)?)?);
                ledger.batches_applied = u64::from_be_bytes(fixed(&get(META_BATCHES)?)?);
                let root = fr_from_le_bytes(&fixed(&get(META_ROOT)?)?).map_err(|e| StoreError::Corrupt(format!("root: {e}")))?;
                for entry in read.open_table(NODES)?.iter()? {
                    let (key, value) = entry?;
                    let key = key.value();
                    let value = fr_from_le_bytes(&fixed(value.value())?).map_err(|e| StoreError::Corrupt(format!("node: {e}")))?;
                    ledger.tree.restore_node((key >> 32) as u8, key as u32, value);
                }
                for entry in read.open_table(ACCOUNTS)?.iter()? {
                    let (index, value) = entry?;
                    let account = decode_account(value.value())?;
                    let index = tandem_types::AccountIndex::new(index.value()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    ledger.by_pubkey.entry(account.pubkey.pack()).and_modify(|i| *i = (*i).min(index)).or_insert(index);
                    ledger.accounts.insert(index.get(), account);
                }
                if ledger.root() != root {
                    return Err(StoreError::Corrupt("stored nodes do not hash to the stored root".into()));
                }
                ledger.tree.take_dirty();
                drop(meta);
                drop(read);
                Ok(Self { ledger, db: std::sync::Arc::new(db) })
            }
        }
    }

    /// The database, for callers that keep their own tables beside the ledger's (reads, and
    /// writes through [`PersistentLedger::persist_with`]).
    pub fn database(&self) -> std::sync::Arc<Database> {
        self.db.clone()
    }

    /// Durably writes every change since the last `persist` in one atomic transaction.
    pub fn persist(&mut self) -> Result<(), StoreError> {
        self.persist_with(|_| Ok(()))
    }

    /// Like [`PersistentLedger::persist`], with `extra` writes of the caller's own tables in
    /// the same atomic transaction (so e.g. a block record and the state it produced are
    /// never out of step).
    pub fn persist_with(&mut self, extra: impl FnOnce(&redb::WriteTransaction) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        extra(&txn)?;
        {
            let mut accounts = txn.open_table(ACCOUNTS)?;
            for index in self.ledger.dirty_accounts.drain() {
                if let Some(account) = self.ledger.accounts.get(&index) {
                    accounts.insert(index, encode_account(account).as_slice())?;
                }
            }
            let mut nodes = txn.open_table(NODES)?;
            for (height, index) in self.ledger.tree.take_dirty() {
                let key = node_key(height, index);
                match self.ledger.tree.stored_node(height, index) {
                    Some(value) => {
                        nodes.insert(key, fr_to_le_bytes(&value).as_slice())?;
                    }
                    None => {
                        nodes.remove(key)?;
                    }
                }
            }
            write_meta(&mut txn.open_table(META)?, &self.ledger)?;
        }
        txn.commit()?;
        Ok(())
    }

    fn write_meta_only(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(ACCOUNTS)?;
            txn.open_table(NODES)?;
            write_meta(&mut txn.open_table(META)?, &self.ledger)?;
        }
        txn.commit()?;
        Ok(())
    }
}

fn write_meta(meta: &mut redb::Table<&str, &[u8]>, ledger: &Ledger) -> Result<(), StoreError> {
    meta.insert(META_CHAIN_ID, ledger.config.chain_id.to_be_bytes().as_slice())?;
    meta.insert(META_DEPTH, [ledger.config.tree_depth].as_slice())?;
    meta.insert(META_NEXT_INDEX, ledger.next_index.to_be_bytes().as_slice())?;
    meta.insert(META_BATCHES, ledger.batches_applied.to_be_bytes().as_slice())?;
    meta.insert(META_ROOT, fr_to_le_bytes(&ledger.root()).as_slice())?;
    Ok(())
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("expected {N} bytes, found {}", bytes.len())))
}
