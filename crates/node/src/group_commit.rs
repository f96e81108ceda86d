//! Group commit: concurrent callers that each need one durable write share one.
//!
//! Every client submission must be on disk before the node answers "pending", and one redb
//! commit (a disk sync) per transaction was ~7 % of a set member's CPU at 500 tx/s. With a
//! group commit, a caller queues its input; if nobody is writing, it becomes the writer and
//! runs everything queued so far as one batch, else it waits for the writer. So a lone
//! caller pays what it paid before, and N concurrent callers pay one batch.
//!
//! Invariants: each queued input is processed exactly once, in one batch, and its caller gets
//! exactly the result the batch function returned for it. Batches run one at a time and
//! take inputs in arrival order. A writer runs exactly one batch, the one holding its own
//! input, so nobody serves others forever. At most `max_batch` inputs (see
//! [`GroupCommit::new`]) go in a batch.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Most inputs one batch takes; the rest wait for the next writer.
pub const DEFAULT_MAX_BATCH: usize = 400;

/// A queue of inputs processed in batches by whichever caller finds no batch running.
#[derive(Debug)]
pub struct GroupCommit<I, R> {
    state: Mutex<State<I, R>>,
    finished: Condvar,
    max_batch: usize,
}

#[derive(Debug)]
struct State<I, R> {
    next_ticket: u64,
    queued: Vec<(u64, I)>,
    results: HashMap<u64, R>,
    writing: bool,
}

impl<I, R> Default for GroupCommit<I, R> {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BATCH)
    }
}

impl<I, R> GroupCommit<I, R> {
    /// A group commit whose batches hold at most `max_batch` inputs (at least 1).
    pub fn new(max_batch: usize) -> Self {
        Self {
            state: Mutex::new(State {
                next_ticket: 0,
                queued: Vec::new(),
                results: HashMap::new(),
                writing: false,
            }),
            finished: Condvar::new(),
            max_batch: max_batch.max(1),
        }
    }

    /// Queues `input` and returns its result once a batch has processed it. `process` gets the
    /// batch's inputs in arrival order and must return exactly one result per input, in the
    /// same order (a batch whose function returns fewer leaves those callers an error from
    /// `missing`, never a hang).
    pub fn submit(
        &self,
        input: I,
        process: impl FnOnce(Vec<I>) -> Vec<R>,
        missing: impl Fn() -> R,
    ) -> R {
        // Taken by the one batch this caller writes, if it writes one.
        let mut process = Some(process);
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queued.push((ticket, input));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            // Our input is still queued (a finished batch would have left our result). If
            // nobody is writing and it is among the oldest `max_batch`, we write the next
            // batch, which holds it; otherwise we wait for the running batch to finish.
            if let Some(process) = process.take_if(|_| {
                !state.writing && state.queued.iter().take(self.max_batch).any(|(t, _)| *t == ticket)
            }) {
                state.writing = true;
                let take = state.queued.len().min(self.max_batch);
                let batch: Vec<(u64, I)> = state.queued.drain(..take).collect();
                drop(state);
                let (tickets, inputs): (Vec<u64>, Vec<I>) = batch.into_iter().unzip();
                // A panicking batch must not leave `writing` set (everyone would wait forever):
                // its callers get `missing`, and the panic goes on in this caller.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(inputs)));
                let (mut results, panic) = match outcome {
                    Ok(results) => (results.into_iter(), None),
                    Err(payload) => (Vec::new().into_iter(), Some(payload)),
                };
                state = self.lock();
                for t in tickets {
                    let r = results.next().unwrap_or_else(&missing);
                    state.results.insert(t, r);
                }
                state.writing = false;
                self.finished.notify_all();
                if let Some(payload) = panic {
                    // Nobody will collect this caller's own `missing`.
                    state.results.remove(&ticket);
                    drop(state);
                    std::panic::resume_unwind(payload);
                }
                continue;
            }
            state = self
                .finished
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<I, R>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_lone_caller_gets_its_own_result_in_a_batch_of_one() {
        let group: GroupCommit<u32, u32> = GroupCommit::default();
        let r = group.submit(7, |batch| {
            assert_eq!(batch, vec![7]);
            batch.iter().map(|x| x * 10).collect()
        }, || u32::MAX);
        assert_eq!(r, 70);
    }

    #[test]
    fn concurrent_callers_share_batches_and_each_gets_its_own_result() {
        let group: Arc<GroupCommit<u64, u64>> = Arc::new(GroupCommit::new(16));
        let batches = Arc::new(AtomicUsize::new(0));
        let largest = Arc::new(AtomicUsize::new(0));
        let callers = 64;
        let start = Arc::new(Barrier::new(callers));
        let handles: Vec<_> = (0..callers as u64)
            .map(|i| {
                let (group, batches, largest, start) =
                    (group.clone(), batches.clone(), largest.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    group.submit(i, |batch| {
                        batches.fetch_add(1, Ordering::SeqCst);
                        largest.fetch_max(batch.len(), Ordering::SeqCst);
                        // Slow enough that callers pile up behind the writer.
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        batch.iter().map(|x| x * x + 1).collect()
                    }, || u64::MAX)
                })
            })
            .collect();
        let results: Vec<u64> = handles.into_iter().map(|h| h.join().expect("caller")).collect();
        for (i, r) in results.iter().enumerate() {
            assert_eq!(*r, (i * i + 1) as u64, "caller {i} got someone else's result");
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(batches < callers, "{batches} batches for {callers} callers: nothing was grouped");
        assert!(largest.load(Ordering::SeqCst) <= 16, "a batch exceeded max_batch");
    }

    #[test]
    fn a_panicking_batch_answers_the_waiters_and_frees_the_writer_slot() {
        let group: GroupCommit<u32, Result<u32, &'static str>> = GroupCommit::default();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.submit(1, |_| panic!("batch failed"), || Err("no result"))
        }));
        assert!(caught.is_err(), "the writer's caller sees the panic");
        assert!(group.lock().results.is_empty(), "no result is left behind");
        let r = group.submit(2, |batch| batch.into_iter().map(Ok).collect(), || Err("no result"));
        assert_eq!(r, Ok(2), "the next caller can write");
    }

    #[test]
    fn a_batch_returning_too_few_results_answers_the_rest_with_missing() {
        let group: GroupCommit<u32, Result<u32, &'static str>> = GroupCommit::default();
        let r = group.submit(1, |_| Vec::new(), || Err("no result"));
        assert_eq!(r, Err("no result"));
    }
}
