//! A client of the `ProverMarket` (SPEC §15): what a prover (miner) reads and sends, and what
//! the devnet and the tests read back (jobs, prices, locks, earnings, the market's events).

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;

use crate::bindings::ProverMarket;
use crate::client::{confirm, connect, L1Error};
use crate::revert::ContractRevert;

/// A failed call to the market: a revert decoded with the market's ABI first.
fn contract_error(e: alloy::contract::Error) -> L1Error {
    match e.as_revert_data() {
        Some(data) => L1Error::Reverted(ContractRevert::decode_market(&data)),
        None => L1Error::Rpc(e.to_string()),
    }
}

/// Where a job is in its life (the contract's `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Escrowed, waiting for a proof (possibly locked).
    Open,
    /// Proven and settled.
    Fulfilled,
    /// Expired unproven; the escrow went back to the funder.
    Reclaimed,
    /// Closed because its batch number was reverted and committed again.
    Cancelled,
}

/// The market's current job for a batch number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketJob {
    /// The market's job id (unique even when a batch number is reused after a revert).
    pub job_id: u64,
    /// Who escrowed the reward (the batch's poster).
    pub funder: Address,
    /// L1 time the job opened.
    pub opened_at: u64,
    /// After this L1 time the job pays no price and can be reclaimed.
    pub deadline: u64,
    /// Price at `opened_at`.
    pub floor: U256,
    /// Price from `opened_at + rampUp` on: the whole escrow.
    pub cap: U256,
    /// The locking prover (zero when never locked).
    pub locker: Address,
    /// End of the lock's exclusive window.
    pub lock_deadline: u64,
    /// Price fixed by the lock.
    pub locked_price: U256,
    /// The lock's collateral.
    pub collateral: U256,
    /// Collateral of expired locks waiting to be split (burned part, prover part).
    pub slashed_pool: U256,
    /// Life-cycle state.
    pub status: JobStatus,
}

impl MarketJob {
    /// Whether `now` is inside a lock's exclusive window.
    pub fn locked_at(&self, now: u64) -> bool {
        self.locker != Address::ZERO && now < self.lock_deadline
    }
}

/// The market's immutable parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketParams {
    /// Floor price as a fraction of the escrow, in basis points.
    pub floor_bps: u16,
    /// Seconds for the price to rise from the floor to the cap.
    pub ramp_up: u64,
    /// Length of a lock's exclusive window.
    pub lock_timeout: u64,
    /// Seconds from opening to the job's deadline.
    pub job_timeout: u64,
    /// Collateral of a lock as a fraction of the escrow, in basis points (at least 1 wei).
    pub collateral_bps: u16,
    /// Burned fraction of a slashed collateral, in basis points.
    pub burn_bps: u16,
}

/// A settled job, from `JobFulfilled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfillment {
    /// Batch number.
    pub batch: u64,
    /// Job id.
    pub job_id: u64,
    /// The prover paid (the address the proof is bound to).
    pub prover: Address,
    /// Price paid.
    pub price: U256,
    /// Share of slashed collateral paid to the prover.
    pub collateral_reward: U256,
    /// Escrow returned to the funder.
    pub refund: U256,
    /// L1 block of the event.
    pub l1_block: u64,
}

/// A lock, from `JobLocked`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEvent {
    /// Batch number.
    pub batch: u64,
    /// Job id.
    pub job_id: u64,
    /// The locking prover.
    pub prover: Address,
    /// Price fixed by the lock.
    pub price: U256,
    /// Collateral posted.
    pub collateral: U256,
    /// End of the exclusive window.
    pub lock_deadline: u64,
}

/// A slashed lock, from `LockSlashed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashEvent {
    /// Batch number.
    pub batch: u64,
    /// Job id.
    pub job_id: u64,
    /// The prover whose lock expired.
    pub prover: Address,
    /// Its collateral, now in the job's slashed pool.
    pub collateral: U256,
}

/// A client of one deployed `ProverMarket`.
#[derive(Clone)]
pub struct MarketClient {
    provider: DynProvider,
    market: Address,
    signer: Option<Address>,
}

impl std::fmt::Debug for MarketClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketClient").field("market", &self.market).field("signer", &self.signer).finish()
    }
}

impl MarketClient {
    /// Connects to `market` through `rpc_url`; `signer` is needed for transactions.
    pub fn new(rpc_url: &str, market: Address, signer: Option<PrivateKeySigner>) -> Result<Self, L1Error> {
        let (provider, signer) = connect(rpc_url, signer)?;
        Ok(Self { provider, market, signer })
    }

    fn contract(&self) -> ProverMarket::ProverMarketInstance<DynProvider> {
        ProverMarket::new(self.market, self.provider.clone())
    }

    /// The market's address.
    pub fn address(&self) -> Address {
        self.market
    }

    /// The rollup the market serves.
    pub async fn rollup(&self) -> Result<Address, L1Error> {
        self.contract().rollup().call().await.map_err(contract_error)
    }

    /// The market's parameters.
    pub async fn params(&self) -> Result<MarketParams, L1Error> {
        let c = self.contract();
        Ok(MarketParams {
            floor_bps: c.floorBps().call().await.map_err(contract_error)?,
            ramp_up: c.rampUp().call().await.map_err(contract_error)?,
            lock_timeout: c.lockTimeout().call().await.map_err(contract_error)?,
            job_timeout: c.jobTimeout().call().await.map_err(contract_error)?,
            collateral_bps: c.collateralBps().call().await.map_err(contract_error)?,
            burn_bps: c.burnBps().call().await.map_err(contract_error)?,
        })
    }

    /// The current job of batch `batch`, `None` when it has none.
    pub async fn job(&self, batch: u64) -> Result<Option<MarketJob>, L1Error> {
        let j = self.contract().job(batch).call().await.map_err(contract_error)?;
        let status = match j.status {
            0 => return Ok(None),
            1 => JobStatus::Open,
            2 => JobStatus::Fulfilled,
            3 => JobStatus::Reclaimed,
            4 => JobStatus::Cancelled,
            other => return Err(L1Error::Unexpected(format!("job status {other} of batch {batch}"))),
        };
        Ok(Some(MarketJob {
            job_id: j.jobId,
            funder: j.funder,
            opened_at: j.openedAt,
            deadline: j.deadline,
            floor: U256::from(j.floor),
            cap: U256::from(j.cap),
            locker: j.locker,
            lock_deadline: j.lockDeadline,
            locked_price: U256::from(j.lockedPrice),
            collateral: U256::from(j.collateral),
            slashed_pool: U256::from(j.slashedPool),
            status,
        }))
    }

    /// Price of batch `batch`'s job at L1 time `timestamp`.
    pub async fn price_at(&self, batch: u64, timestamp: u64) -> Result<U256, L1Error> {
        self.contract().priceAt(batch, timestamp).call().await.map_err(contract_error)
    }

    /// Collateral a lock on batch `batch`'s job must post.
    pub async fn required_collateral(&self, batch: u64) -> Result<U256, L1Error> {
        self.contract().requiredCollateral(batch).call().await.map_err(contract_error)
    }

    /// Locks batch `batch`'s job with exactly `collateral` wei; returns the L1 transaction.
    pub async fn lock(&self, batch: u64, collateral: U256) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self.contract().lock(batch).value(collateral).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Reclaims an expired job's escrow for its funder (anyone may call).
    pub async fn reclaim(&self, batch: u64) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self.contract().reclaim(batch).send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// Pays this client's signer everything it is owed.
    pub async fn withdraw(&self) -> Result<B256, L1Error> {
        self.signer.ok_or(L1Error::NoSigner)?;
        let pending = self.contract().withdraw().send().await.map_err(contract_error)?;
        Ok(confirm(pending).await?.transaction_hash)
    }

    /// What `who` can withdraw now.
    pub async fn owed(&self, who: Address) -> Result<U256, L1Error> {
        self.contract().owed(who).call().await.map_err(contract_error)
    }

    /// Everything ever credited to `who` as a prover (prices and collateral shares).
    pub async fn earned(&self, who: Address) -> Result<U256, L1Error> {
        self.contract().earned(who).call().await.map_err(contract_error)
    }

    /// Slashed collateral burned so far (kept in the contract for good).
    pub async fn total_burned(&self) -> Result<U256, L1Error> {
        self.contract().totalBurned().call().await.map_err(contract_error)
    }

    /// `JobFulfilled` events from L1 block `from` on.
    pub async fn fulfillments(&self, from: u64) -> Result<Vec<Fulfillment>, L1Error> {
        let logs = self.contract().JobFulfilled_filter().from_block(from).query().await.map_err(contract_error)?;
        logs.into_iter()
            .map(|(e, log)| {
                Ok(Fulfillment {
                    batch: e.batchNumber,
                    job_id: e.jobId,
                    prover: e.prover,
                    price: e.price,
                    collateral_reward: e.collateralReward,
                    refund: e.refund,
                    l1_block: log.block_number.ok_or_else(|| L1Error::Unexpected("log without block".into()))?,
                })
            })
            .collect()
    }

    /// `JobLocked` events from L1 block `from` on.
    pub async fn locks(&self, from: u64) -> Result<Vec<LockEvent>, L1Error> {
        let logs = self.contract().JobLocked_filter().from_block(from).query().await.map_err(contract_error)?;
        Ok(logs
            .into_iter()
            .map(|(e, _)| LockEvent {
                batch: e.batchNumber,
                job_id: e.jobId,
                prover: e.prover,
                price: e.price,
                collateral: e.collateral,
                lock_deadline: e.lockDeadline,
            })
            .collect())
    }

    /// `LockSlashed` events from L1 block `from` on.
    pub async fn slashes(&self, from: u64) -> Result<Vec<SlashEvent>, L1Error> {
        let logs = self.contract().LockSlashed_filter().from_block(from).query().await.map_err(contract_error)?;
        Ok(logs
            .into_iter()
            .map(|(e, _)| SlashEvent { batch: e.batchNumber, job_id: e.jobId, prover: e.prover, collateral: e.collateral })
            .collect())
    }

    /// Current L1 gas price (wei), for pricing a job's transactions.
    pub async fn gas_price(&self) -> Result<u128, L1Error> {
        self.provider.get_gas_price().await.map_err(crate::client::rpc_error)
    }
}
