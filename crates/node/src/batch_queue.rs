//! Batch queue: concurrent callers that each need one durable write share one, on a worker
//! thread of its own.
//!
//! Every client submission must be on disk before the node answers "pending", and one redb
//! commit (a disk sync) per transaction was ~7 % of a set member's CPU at 500 tx/s. So a
//! caller queues its input and awaits its answer; one worker thread takes everything queued
//! when it is free (at most `max_batch`) and processes it as one batch. A lone caller pays
//! what it would alone, N concurrent callers pay one batch.
//!
//! Why a thread rather than whichever caller finds no batch running (the group commit this
//! replaced): a caller then held a blocking-pool thread for its whole wait, and each
//! submission cost a hand-off to that pool, a condition-variable sleep and two wake-ups. Here
//! an RPC call awaits a future on its async worker, and the queue's thread wakes once per
//! batch: a 4-member set at saturation went from 14,100 to 6,800 context switches per second
//! (BENCHMARKS.md, issue 13). Like the blocking pool's queue before it, this one holds every
//! call not yet admitted, including those whose client hung up; the RPC server's connection
//! and request-size limits bound how fast calls arrive.
//!
//! Invariants: each input is processed exactly once, in exactly one batch, and its caller
//! gets exactly the result the batch function returned for it. Batches run one at a time and
//! take inputs in arrival order. A caller that stops waiting loses only its answer: its input
//! is still processed. A batch that panics or returns too few results answers the rest with
//! `missing`, and the queue goes on with the next batch. The thread ends once the queue is
//! dropped and the inputs queued before have been processed.

use std::sync::mpsc;

use tokio::sync::oneshot;
use tracing::error;

/// Most inputs one batch takes; the rest wait for the next batch.
pub const DEFAULT_MAX_BATCH: usize = 400;

type Job<I, R> = (I, oneshot::Sender<R>);

/// A queue of inputs processed in batches, in arrival order, by one worker thread.
#[derive(Debug)]
pub struct BatchQueue<I, R> {
    jobs: mpsc::Sender<Job<I, R>>,
}

impl<I: Send + 'static, R: Send + 'static> BatchQueue<I, R> {
    /// Starts the worker thread `name`: `process` gets each batch's inputs (at most
    /// `max_batch`, at least 1) in arrival order and must return one result per input, in the
    /// same order; an input it leaves without a result (it panicked, or returned fewer) gets
    /// `missing()`.
    pub fn start(
        name: &str,
        max_batch: usize,
        mut process: impl FnMut(Vec<I>) -> Vec<R> + Send + 'static,
        missing: impl Fn() -> R + Send + 'static,
    ) -> std::io::Result<Self> {
        let (jobs, queued) = mpsc::channel::<Job<I, R>>();
        let max_batch = max_batch.max(1);
        std::thread::Builder::new().name(name.to_string()).spawn(move || {
            // Ends when every sender is gone and the queue is empty.
            while let Ok(first) = queued.recv() {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match queued.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (inputs, answers): (Vec<I>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(inputs)));
                let mut results = outcome.unwrap_or_else(|_| {
                    error!("a batch panicked; its callers are answered with an error");
                    Vec::new()
                });
                results.truncate(answers.len());
                let mut results = results.into_iter();
                for answer in answers {
                    // A caller that stopped waiting drops its receiver: nothing to tell it.
                    let _ = answer.send(results.next().unwrap_or_else(&missing));
                }
            }
        })?;
        Ok(Self { jobs })
    }

    /// Queues `input` and waits for its batch's result; `None` if the worker thread is gone
    /// (it never is while the queue lives, unless the thread itself was killed).
    pub async fn submit(&self, input: I) -> Option<R> {
        let (answer, result) = oneshot::channel();
        self.jobs.send((input, answer)).ok()?;
        result.await.ok()
    }

    /// Queues `inputs` one after another, then waits for each one's result: one answer per
    /// input, in order (`None` as for [`BatchQueue::submit`]). All are queued before the first
    /// answer is awaited, so they keep their order and share batches; inputs of other callers
    /// may fall between them.
    pub async fn submit_all(&self, inputs: Vec<I>) -> Vec<Option<R>> {
        let pending: Vec<Option<oneshot::Receiver<R>>> = inputs
            .into_iter()
            .map(|input| {
                let (answer, result) = oneshot::channel();
                self.jobs.send((input, answer)).ok().map(|()| result)
            })
            .collect();
        let mut results = Vec::with_capacity(pending.len());
        for result in pending {
            results.push(match result {
                Some(result) => result.await.ok(),
                None => None,
            });
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_lone_caller_gets_its_own_result_in_a_batch_of_one() {
        let queue = BatchQueue::start(
            "test-batch",
            16,
            |batch: Vec<u32>| {
                assert_eq!(batch, vec![7]);
                batch.iter().map(|x| x * 10).collect()
            },
            || u32::MAX,
        )
        .unwrap();
        assert_eq!(queue.submit(7).await, Some(70));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_batches_and_each_gets_its_own_result() {
        let batches = Arc::new(AtomicUsize::new(0));
        let largest = Arc::new(AtomicUsize::new(0));
        let (b, l) = (batches.clone(), largest.clone());
        let queue = Arc::new(
            BatchQueue::start(
                "test-batch",
                16,
                move |batch: Vec<u64>| {
                    b.fetch_add(1, Ordering::SeqCst);
                    l.fetch_max(batch.len(), Ordering::SeqCst);
                    // Slow enough that callers pile up behind the running batch.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    batch.iter().map(|x| x * x + 1).collect()
                },
                || u64::MAX,
            )
            .unwrap(),
        );
        let callers = 64u64;
        let tasks: Vec<_> = (0..callers)
            .map(|i| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.submit(i).await })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let i = i as u64;
            assert_eq!(task.await.unwrap(), Some(i * i + 1), "caller {i} got someone else's result");
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(batches < callers as usize, "{batches} batches for {callers} callers: nothing was grouped");
        assert!(largest.load(Ordering::SeqCst) <= 16, "a batch exceeded max_batch");
    }

    #[tokio::test]
    async fn submit_all_answers_each_input_in_order_and_shares_batches() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = batches.clone();
        let queue = BatchQueue::start(
            "test-batch",
            4,
            move |batch: Vec<u32>| {
                seen.lock().unwrap().push(batch.clone());
                batch.iter().map(|x| x + 100).collect()
            },
            || 0,
        )
        .unwrap();
        assert_eq!(queue.submit_all((0..10).collect()).await, (100..110).map(Some).collect::<Vec<_>>());
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.concat(), (0..10).collect::<Vec<_>>(), "processed once each, in order");
        assert!(batches.iter().all(|b| b.len() <= 4), "{batches:?}");
        assert!(batches.len() < 10, "nothing was grouped: {batches:?}");
        assert_eq!(queue.submit_all(vec![]).await, vec![]);
    }

    #[tokio::test]
    async fn a_panicking_batch_answers_its_callers_and_the_queue_goes_on() {
        let queue = BatchQueue::start(
            "test-batch",
            16,
            |batch: Vec<u32>| {
                assert_ne!(batch, vec![1], "batch failed");
                batch.into_iter().map(Ok).collect()
            },
            || Err("no result"),
        )
        .unwrap();
        assert_eq!(queue.submit(1).await, Some(Err("no result")));
        assert_eq!(queue.submit(2).await, Some(Ok(2)), "the next batch runs");
    }

    #[tokio::test]
    async fn a_batch_returning_too_few_or_too_many_results_answers_each_caller_once() {
        let short = BatchQueue::start("test-batch", 16, |_: Vec<u32>| Vec::<Result<u32, &str>>::new(), || Err("no result")).unwrap();
        assert_eq!(short.submit(1).await, Some(Err("no result")));
        let long = BatchQueue::start("test-batch", 16, |b: Vec<u32>| vec![Ok(b[0]); 3], || Err("no result")).unwrap();
        assert_eq!(long.submit(4).await, Some(Ok(4)));
        assert_eq!(long.submit(5).await, Some(Ok(5)));
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_still_has_its_input_processed() {
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let queue = BatchQueue::start(
            "test-batch",
            16,
            move |batch: Vec<u32>| {
                s.fetch_add(batch.len(), Ordering::SeqCst);
                batch
            },
            || 0,
        )
        .unwrap();
        // Dropped before its first poll: queued nothing.
        drop(queue.submit(1));
        // Polled once (queued), then abandoned.
        let abandoned = tokio::time::timeout(std::time::Duration::ZERO, queue.submit(2)).await;
        assert!(abandoned.is_err() || abandoned == Ok(Some(2)));
        assert_eq!(queue.submit(3).await, Some(3));
        assert_eq!(seen.load(Ordering::SeqCst), 2, "inputs 2 and 3 were processed, 1 never queued");
    }
}
