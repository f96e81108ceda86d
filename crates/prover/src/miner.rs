//! The miner's policy and books: what a job costs this prover, whether to lock it, and the
//! running tally that `tandem prover status` and `/metrics` show.
//!
//! Pricing (SPEC §15): a job pays `priceAt(t)`, rising from the floor to the cap. Proving it
//! costs this prover its proving time (`seconds_per_proof × wei_per_second`, the operator's
//! price of its hardware and power), the gas of its transactions at the current gas price,
//! and the collateral it risks when it locks. With locks a miner takes a job as soon as the
//! price covers that cost: a faster prover has a lower cost, so it locks first. Without locks
//! (a pure race) it starts when the price it would get at the end of its proof covers it.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tandem_l1::{Address, JobStatus, MarketJob, U256};

/// Gas of a `lock` transaction (measured: forge gas report of `ProverMarket.lock`, rounded up).
pub const LOCK_GAS: u64 = 120_000;
/// Gas of a `proveBatch` transaction with the market's settlement (rounded up).
pub const PROVE_GAS: u64 = 330_000;

/// How the miner decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinerPolicy {
    /// What one second of this prover's proving time costs its operator, in wei.
    pub wei_per_second: u128,
    /// Lock a job (with collateral) before proving it; `false`: race without locks.
    pub lock: bool,
}

/// A job's cost to this prover, in wei: proving time, gas, and (when locking) the expected
/// loss of collateral, which is zero while the proof fits well inside the lock window and the
/// whole collateral when it does not.
pub fn job_cost(policy: &MinerPolicy, seconds_per_proof: f64, gas_price: u128, collateral: U256, lock_window: Duration) -> U256 {
    let time = U256::from((seconds_per_proof.max(0.0) * policy.wei_per_second as f64) as u128);
    let gas = if policy.lock { LOCK_GAS + PROVE_GAS } else { PROVE_GAS };
    let gas_cost = U256::from(gas_price).saturating_mul(U256::from(gas));
    let risk = if policy.lock && !fits_lock(seconds_per_proof, lock_window) { collateral } else { U256::ZERO };
    time.saturating_add(gas_cost).saturating_add(risk)
}

/// Whether a proof of `seconds_per_proof` finishes safely inside a lock window: with room for
/// twice the measured time (a busy machine) plus the submitting transaction.
pub fn fits_lock(seconds_per_proof: f64, lock_window: Duration) -> bool {
    seconds_per_proof * 2.0 + 2.0 < lock_window.as_secs_f64()
}

/// Where a market job stands for one prover at one L1 time, before any pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStanding {
    /// Fulfilled: its batch is proven and paid. The proof may have landed after the prover
    /// last read the rollup, so this alone must stop it from proving (the work would be wasted).
    Settled,
    /// Reclaimed or cancelled: nobody pays, but the chain still needs the proof.
    Unpaid,
    /// Open and past its deadline: it pays no price (only a slashed pool, if any) and can no
    /// longer be locked; prove it for the chain's sake, without a lock.
    Expired,
    /// Inside the exclusive window of this prover's own lock.
    OurLock,
    /// Inside the exclusive window of another prover's lock.
    TheirLock,
    /// Open, unlocked (or its lock ran out) and before its deadline: priced, then locked or raced.
    Lockable,
}

/// The standing of `job` for prover `me` at L1 time `now` (which only an open job's depends on).
pub fn job_standing(job: &MarketJob, me: Address, now: u64) -> JobStanding {
    match job.status {
        JobStatus::Fulfilled => return JobStanding::Settled,
        JobStatus::Reclaimed | JobStatus::Cancelled => return JobStanding::Unpaid,
        JobStatus::Open => {}
    }
    if job.locked_at(now) {
        return if job.locker == me { JobStanding::OurLock } else { JobStanding::TheirLock };
    }
    if now >= job.deadline {
        JobStanding::Expired
    } else {
        JobStanding::Lockable
    }
}

/// The miner's running tally (what `tandem prover status` prints).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MinerStatus {
    /// The prover's L1 address.
    pub prover: String,
    /// Whether it locks before proving.
    pub locking: bool,
    /// Seconds one proof took when measured at start.
    pub seconds_per_proof: f64,
    /// Seconds since start.
    pub uptime_seconds: f64,
    /// Proofs computed (accepted or not).
    pub proofs_computed: u64,
    /// Proofs L1 accepted (wins).
    pub wins: u64,
    /// Proofs computed but refused (another prover was first, or held a lock): wasted work.
    pub wasted: u64,
    /// Locks this prover took.
    pub locks_taken: u64,
    /// Lock attempts refused because another prover locked first.
    pub locks_lost: u64,
    /// Own locks that expired before the proof landed (their collateral is slashed).
    pub locks_expired: u64,
    /// Wei credited by the market to this prover (prices and collateral shares), read from L1.
    pub earned_wei: String,
    /// Collateral of this prover's open locks, in wei.
    pub collateral_at_risk_wei: String,
    /// Wins per hour of uptime.
    pub proofs_per_hour: f64,
    /// Seconds spent proving.
    pub proving_seconds: f64,
}

/// Mutable books behind [`MinerStatus`].
#[derive(Debug)]
pub struct MinerBooks {
    started: Instant,
    /// The snapshot being maintained.
    pub status: MinerStatus,
}

impl MinerBooks {
    /// Fresh books for `prover`.
    pub fn new(prover: String, locking: bool) -> Self {
        Self { started: Instant::now(), status: MinerStatus { prover, locking, ..MinerStatus::default() } }
    }

    /// The current snapshot with uptime and rate filled in.
    pub fn snapshot(&self) -> MinerStatus {
        let mut s = self.status.clone();
        s.uptime_seconds = self.started.elapsed().as_secs_f64();
        s.proofs_per_hour = if s.uptime_seconds > 0.0 { s.wins as f64 * 3600.0 / s.uptime_seconds } else { 0.0 };
        s
    }
}

impl MinerStatus {
    /// Prometheus text exposition of the tally.
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, help: &str, value: String| {
            out.push_str(&format!("# HELP tandem_prover_{name} {help}\n# TYPE tandem_prover_{name} gauge\ntandem_prover_{name} {value}\n"));
        };
        metric("proofs_computed", "Proofs computed, accepted or not.", self.proofs_computed.to_string());
        metric("wins", "Proofs accepted on L1.", self.wins.to_string());
        metric("wasted", "Proofs computed but refused on L1.", self.wasted.to_string());
        metric("locks_taken", "Market locks taken.", self.locks_taken.to_string());
        metric("locks_lost", "Lock attempts lost to another prover.", self.locks_lost.to_string());
        metric("locks_expired", "Own locks that expired unproven.", self.locks_expired.to_string());
        metric("earned_wei", "Wei credited by the market.", self.earned_wei.clone());
        metric("collateral_at_risk_wei", "Collateral of open locks in wei.", self.collateral_at_risk_wei.clone());
        metric("proofs_per_hour", "Wins per hour of uptime.", format!("{:.3}", self.proofs_per_hour));
        metric("seconds_per_proof", "Measured seconds per proof.", format!("{:.3}", self.seconds_per_proof));
        metric("proving_seconds", "Seconds spent proving.", format!("{:.3}", self.proving_seconds));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn a_faster_prover_has_a_lower_cost() {
        let policy = MinerPolicy { wei_per_second: 1_000, lock: true };
        let fast = job_cost(&policy, 4.0, 1, U256::from(500u64), WINDOW);
        let slow = job_cost(&policy, 8.0, 1, U256::from(500u64), WINDOW);
        assert!(fast < slow, "{fast} vs {slow}");
        assert_eq!(fast, U256::from(4_000u64 + LOCK_GAS + PROVE_GAS));
    }

    #[test]
    fn a_proof_that_may_miss_the_lock_window_risks_the_whole_collateral() {
        let policy = MinerPolicy { wei_per_second: 0, lock: true };
        let collateral = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(job_cost(&policy, 40.0, 0, collateral, WINDOW), collateral);
        assert_eq!(job_cost(&policy, 10.0, 0, collateral, WINDOW), U256::ZERO);
    }

    #[test]
    fn racing_pays_no_lock_gas_and_risks_no_collateral() {
        let policy = MinerPolicy { wei_per_second: 0, lock: false };
        assert_eq!(job_cost(&policy, 100.0, 2, U256::MAX, WINDOW), U256::from(2 * PROVE_GAS));
    }

    fn open_job(locker: Address, lock_deadline: u64) -> MarketJob {
        MarketJob {
            job_id: 7,
            funder: Address::repeat_byte(0xf0),
            opened_at: 100,
            deadline: 400,
            floor: U256::from(10u64),
            cap: U256::from(100u64),
            locker,
            lock_deadline,
            locked_price: U256::ZERO,
            collateral: U256::ZERO,
            slashed_pool: U256::ZERO,
            status: JobStatus::Open,
        }
    }

    #[test]
    fn a_fulfilled_job_is_settled_whoever_held_its_lock() {
        let (me, other) = (Address::repeat_byte(1), Address::repeat_byte(2));
        for (locker, lock_deadline) in [(Address::ZERO, 0), (other, 160), (me, 160)] {
            let job = MarketJob { status: JobStatus::Fulfilled, ..open_job(locker, lock_deadline) };
            // Read during the other prover's lock, and after it and the deadline: never proven again.
            assert_eq!(job_standing(&job, me, 150), JobStanding::Settled);
            assert_eq!(job_standing(&job, me, 500), JobStanding::Settled);
        }
    }

    #[test]
    fn reclaimed_and_cancelled_jobs_are_proven_unpaid() {
        let me = Address::repeat_byte(1);
        for status in [JobStatus::Reclaimed, JobStatus::Cancelled] {
            let job = MarketJob { status, ..open_job(Address::ZERO, 0) };
            assert_eq!(job_standing(&job, me, 150), JobStanding::Unpaid);
        }
    }

    #[test]
    fn a_lock_is_exclusive_until_its_deadline_then_the_job_is_lockable_until_it_expires() {
        let (me, other) = (Address::repeat_byte(1), Address::repeat_byte(2));
        assert_eq!(job_standing(&open_job(other, 160), me, 159), JobStanding::TheirLock);
        assert_eq!(job_standing(&open_job(me, 160), me, 159), JobStanding::OurLock);
        assert_eq!(job_standing(&open_job(other, 160), me, 160), JobStanding::Lockable);
        assert_eq!(job_standing(&open_job(Address::ZERO, 0), me, 399), JobStanding::Lockable);
        assert_eq!(job_standing(&open_job(Address::ZERO, 0), me, 400), JobStanding::Expired);
        assert_eq!(job_standing(&open_job(me, 160), me, 400), JobStanding::Expired);
    }

    #[test]
    fn books_report_wins_per_hour_and_render_metrics() {
        let mut books = MinerBooks::new("0xabc".into(), true);
        books.status.wins = 3;
        books.status.earned_wei = "42".into();
        let s = books.snapshot();
        assert!(s.proofs_per_hour > 0.0);
        let text = s.render_metrics();
        assert!(text.contains("tandem_prover_wins 3\n"), "{text}");
        assert!(text.contains("tandem_prover_earned_wei 42\n"), "{text}");
    }
}
