//! A cost model of the set's consensus, for sizes this machine cannot run as processes
//! (`tandem bench consensus --simulate`): a deterministic discrete-event simulation of
//! Tendermint's three message steps (proposal, prevote, precommit; round 0 only) among `n`
//! validators that share `cores` CPUs, with two costs calibrated from real runs:
//!
//! - `fixed_s`: CPU a validator spends per height whatever the set size (timers, the app,
//!   the write-ahead log);
//! - `per_message_s`: CPU a validator spends per consensus message it receives (decode,
//!   signature verification, gossip and runtime overhead together).
//!
//! A validator at height `h` first runs its fixed work; the proposer then broadcasts the
//! proposal. A validator with the proposal prevotes; one that holds prevotes of more than 2/3
//! of the stake precommits; one that holds precommits of more than 2/3 commits, and starts
//! `h + 1` once the block time since its start of `h` has passed. Every broadcast reaches each
//! other validator `delay_s` later as a task of `per_message_s` on the first free core (tasks
//! run in the order they become ready, without preemption). Time is kept in nanoseconds, so
//! the same parameters always give the same result.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimParams {
    /// Stake of each validator (the set size is its length; every stake > 0).
    pub stakes: Vec<u64>,
    /// CPUs shared by all validators (≥ 1).
    pub cores: usize,
    /// CPU seconds per validator per height, independent of the set size.
    pub fixed_s: f64,
    /// CPU seconds per received message.
    pub per_message_s: f64,
    /// One-way network delay, seconds.
    pub delay_s: f64,
    /// Target time per height (a validator starts the next height no earlier than this after
    /// it started the last one), seconds.
    pub block_time_s: f64,
    /// Heights to simulate (the first is height 1).
    pub heights: u64,
}

/// What the simulation saw.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    /// Time of the first commit of each height 1..=heights, seconds from the start.
    pub first_commit_s: Vec<f64>,
    /// Share of the cores' time spent on tasks until the last one ends (0..=1).
    pub busy_fraction: f64,
}

impl SimResult {
    /// Time per height: the gaps between consecutive heights' first commits after the first
    /// `warmup` heights, seconds.
    pub fn per_height_s(&self, warmup: u64) -> Vec<f64> {
        let skip = (warmup as usize).max(1);
        self.first_commit_s.windows(2).skip(skip - 1).map(|w| w[1] - w[0]).collect()
    }
}

/// Messages a validator receives per height in the model: the proposal (for all but the
/// proposer) and the other validators' prevotes and precommits.
pub fn messages_per_height(n: usize) -> f64 {
    (2 * n) as f64 - 1.0
}

/// The proposer of `height`: a stake-weighted deterministic draw (each validator proposes in
/// proportion to its stake over many heights).
fn proposer(stakes: &[u64], height: u64) -> usize {
    let total: u64 = stakes.iter().sum();
    let mut x = height.wrapping_mul(0x9E37_79B9_7F4A_7C15) % total.max(1);
    for (i, s) in stakes.iter().enumerate() {
        if x < *s {
            return i;
        }
        x -= s;
    }
    0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// The validator's fixed work for a height is done.
    Started,
    Proposal,
    Prevote(usize),
    Precommit(usize),
}

/// (time in ns, sequence number for a stable order, validator, height, step).
type Event = (u64, u64, usize, u64, Step);

#[derive(Debug, Default, Clone)]
struct HeightState {
    started_at: Option<u64>,
    running: bool,
    has_proposal: bool,
    prevoted: bool,
    precommitted: bool,
    committed: bool,
    prevote_stake: u64,
    precommit_stake: u64,
}

/// Nanoseconds of `seconds` (never negative).
fn ns(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1e9).round() as u64
}

/// Runs the simulation. `None` if the parameters are out of range (no validator, a zero
/// stake, no core, no height) or if it did not finish within its event bound.
pub fn simulate(p: &SimParams) -> Option<SimResult> {
    let n = p.stakes.len();
    if n == 0 || p.stakes.contains(&0) || p.cores == 0 || p.heights == 0 {
        return None;
    }
    let total: u64 = p.stakes.iter().sum();
    let quorum = |stake: u64| 3 * u128::from(stake) > 2 * u128::from(total);
    let (fixed, per_message, delay, block_time) = (ns(p.fixed_s), ns(p.per_message_s), ns(p.delay_s), ns(p.block_time_s));
    // Tasks by the time they become ready, and their completions by the time they end.
    let mut ready: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
    let mut done: BinaryHeap<Reverse<Event>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut cores = vec![0u64; p.cores];
    let mut busy = 0u64;
    let mut states: Vec<BTreeMap<u64, HeightState>> = vec![BTreeMap::new(); n];
    let mut first_commit: BTreeMap<u64, u64> = BTreeMap::new();
    for v in 0..n {
        ready.push(Reverse((0, seq, v, 1, Step::Started)));
        seq += 1;
    }
    // Every validator receives O(n) messages per height; bound the loop accordingly.
    let bound = (p.heights + 2) * (n as u64) * (2 * n as u64 + 4) * 4;
    let mut events = 0u64;
    loop {
        events += 1;
        if events > bound {
            return None;
        }
        // The earlier of the next ready task and the next completion; completions first at a
        // tie, so that what a completion sends is ordered after it.
        let next_ready = ready.peek().map(|Reverse(e)| e.0);
        let next_done = done.peek().map(|Reverse(e)| e.0);
        let take_done = match (next_ready, next_done) {
            (None, None) => return None,
            (Some(r), Some(d)) => d <= r,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        if !take_done {
            let Reverse((at, _, v, h, step)) = ready.pop()?;
            let cost = if step == Step::Started { fixed } else { per_message };
            let core = cores.iter_mut().min().expect("cores ≥ 1");
            let start = at.max(*core);
            *core = start + cost;
            busy += cost;
            done.push(Reverse((start + cost, seq, v, h, step)));
            seq += 1;
            continue;
        }
        let Reverse((now, _, v, h, step)) = done.pop()?;
        let mut broadcasts: Vec<Step> = Vec::new();
        {
            let state = states[v].entry(h).or_default();
            match step {
                Step::Started => {
                    state.running = true;
                    state.started_at = Some(now.saturating_sub(fixed));
                    if proposer(&p.stakes, h) == v {
                        state.has_proposal = true;
                        broadcasts.push(Step::Proposal);
                    }
                }
                Step::Proposal => state.has_proposal = true,
                Step::Prevote(from) => state.prevote_stake += p.stakes[from],
                Step::Precommit(from) => state.precommit_stake += p.stakes[from],
            }
            // Messages of a height the validator has not started yet wait in its state.
            if state.running && state.has_proposal && !state.prevoted {
                state.prevoted = true;
                state.prevote_stake += p.stakes[v];
                broadcasts.push(Step::Prevote(v));
            }
            if state.running && state.prevoted && !state.precommitted && quorum(state.prevote_stake) {
                state.precommitted = true;
                state.precommit_stake += p.stakes[v];
                broadcasts.push(Step::Precommit(v));
            }
        }
        for b in broadcasts {
            for to in (0..n).filter(|to| *to != v) {
                ready.push(Reverse((now + delay, seq, to, h, b)));
                seq += 1;
            }
        }
        let state = states[v].entry(h).or_default();
        if state.running && state.precommitted && !state.committed && quorum(state.precommit_stake) {
            state.committed = true;
            let started = state.started_at.unwrap_or(0);
            first_commit.entry(h).or_insert(now);
            if h == p.heights {
                if first_commit.len() as u64 == p.heights && states.iter().all(|s| s.get(&h).is_some_and(|x| x.committed)) {
                    // Every scheduled task ends by the latest core's free time.
                    let end = cores.iter().copied().max().unwrap_or(1).max(1);
                    return Some(SimResult {
                        first_commit_s: first_commit.values().map(|t| *t as f64 / 1e9).collect(),
                        busy_fraction: busy as f64 / (end as f64 * p.cores as f64),
                    });
                }
                continue;
            }
            // The old height's state is no longer needed.
            states[v].remove(&h);
            let next_start = now.max(started + block_time);
            ready.push(Reverse((next_start, seq, v, h + 1, Step::Started)));
            seq += 1;
        }
    }
}

/// A least-squares fit of CPU per validator per height against messages per height:
/// `cpu = fixed + per_message × messages_per_height(n)`, both coefficients kept ≥ 0.
/// `points` are (set size, CPU seconds per validator per height); `None` for fewer than two
/// distinct sizes.
pub fn fit_costs(points: &[(usize, f64)]) -> Option<(f64, f64)> {
    let xs: Vec<f64> = points.iter().map(|(n, _)| messages_per_height(*n)).collect();
    let ys: Vec<f64> = points.iter().map(|(_, c)| *c).collect();
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    if xs.len() < 2 || sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    Some(if slope < 0.0 {
        (my.max(0.0), 0.0)
    } else if intercept < 0.0 {
        // Through the origin.
        (0.0, xs.iter().zip(&ys).map(|(x, y)| x * y).sum::<f64>() / xs.iter().map(|x| x * x).sum::<f64>())
    } else {
        (intercept, slope)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(n: usize, cores: usize) -> SimParams {
        SimParams {
            stakes: (1..=n as u64).rev().collect(),
            cores,
            fixed_s: 0.002,
            per_message_s: 0.001,
            delay_s: 0.0001,
            block_time_s: 0.0,
            heights: 12,
        }
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    #[test]
    fn every_height_commits_in_order_and_the_run_is_deterministic() {
        let a = simulate(&params(7, 2)).expect("finishes");
        assert_eq!(a.first_commit_s.len(), 12);
        assert!(a.first_commit_s.windows(2).all(|w| w[1] > w[0]), "{:?}", a.first_commit_s);
        assert!(a.busy_fraction > 0.0 && a.busy_fraction <= 1.0, "{}", a.busy_fraction);
        assert_eq!(simulate(&params(7, 2)), Some(a));
    }

    #[test]
    fn with_idle_cores_a_height_is_the_critical_path() {
        // One core per validator: fixed work, then proposal, prevote and precommit steps,
        // each a delay plus one message, plus waiting for the quorum's messages.
        let p = SimParams { cores: 4, ..params(4, 4) };
        let per = median(simulate(&p).expect("finishes").per_height_s(2));
        let floor = p.fixed_s + 3.0 * (p.delay_s + p.per_message_s);
        assert!(per >= floor - 1e-9, "{per} < {floor}");
        assert!(per < floor + 3.0 * 4.0 * p.per_message_s, "{per}");
    }

    #[test]
    fn on_saturated_cores_time_per_height_follows_total_work() {
        // Two cores and 40 validators: the work per height (n × (fixed + messages × cost))
        // over two cores bounds the time per height from below, and it is nearly reached.
        let p = params(40, 2);
        let per = median(simulate(&p).expect("finishes").per_height_s(2));
        let work = 40.0 * (p.fixed_s + messages_per_height(40) * p.per_message_s) / 2.0;
        assert!(per >= 0.95 * work && per <= 1.2 * work, "{per} vs {work}");
    }

    #[test]
    fn the_block_time_paces_an_idle_set() {
        let p = SimParams { block_time_s: 0.5, ..params(4, 4) };
        let per = median(simulate(&p).expect("finishes").per_height_s(2));
        assert!((per - 0.5).abs() < 0.01, "{per}");
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        assert_eq!(simulate(&SimParams { stakes: vec![], ..params(4, 2) }), None);
        assert_eq!(simulate(&SimParams { stakes: vec![1, 0], ..params(4, 2) }), None);
        assert_eq!(simulate(&SimParams { cores: 0, ..params(4, 2) }), None);
        assert_eq!(simulate(&SimParams { heights: 0, ..params(4, 2) }), None);
    }

    #[test]
    fn the_fit_recovers_a_linear_cost() {
        let cost = |n: usize| 0.004 + 0.0015 * messages_per_height(n);
        let (fixed, per_message) = fit_costs(&[(4, cost(4)), (10, cost(10)), (20, cost(20))]).expect("fit");
        assert!((fixed - 0.004).abs() < 1e-9 && (per_message - 0.0015).abs() < 1e-9, "{fixed} {per_message}");
        assert_eq!(fit_costs(&[(4, 0.01)]), None);
        assert_eq!(fit_costs(&[(4, 0.01), (4, 0.02)]), None);
        // A negative intercept is pinned at zero.
        let (fixed, per_message) = fit_costs(&[(4, 0.001), (20, 0.1)]).expect("fit");
        assert_eq!(fixed, 0.0);
        assert!(per_message > 0.0);
    }
}
