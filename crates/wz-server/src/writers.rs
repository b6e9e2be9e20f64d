//! Where connections' writers run: one task each, or, for public screens, as
//! futures inside a few shard tasks (issue 11).
//!
//! Ten thousand screens woken by one event were ten thousand tasks in the
//! runtime's queue, and a moderator's command arriving meanwhile waited
//! behind all of them (its reader is a task like any other): 100–450 ms for
//! an ack while the screens were fed. In a shard, the screens' writers are
//! futures in one `FuturesUnordered`: waking one costs a push onto the
//! shard's own ready list, the runtime's queue holds the shard once, and a
//! shard yields after a turn of `TURN` writer polls, so a command's reader
//! waits behind at most a few shard turns, not a full pass over every
//! screen (at saturation, 10,000 screens: the ack's p99 46–56 ms instead of
//! 122–141, and ~196k frames/s delivered instead of ~87–125k).
//!
//! Everyone else (staff, stations, delegates: a few hundred) keeps a task of
//! their own; they are few, and they are woken before the screens.

use futures_util::StreamExt;
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::FuturesUnordered;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::AbortOnDropHandle;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How many writers may wait to join a shard: joining is quick, so this only
/// bounds a burst of connects (a reconnect storm) between two shard turns.
const JOIN_QUEUE: usize = 1024;

/// The shards for screens' writers, started on first use.
pub struct Writers {
    count: usize,
    shards: OnceLock<Vec<Shard>>,
    /// Round robin over the shards.
    next: AtomicUsize,
}

struct Shard {
    jobs: mpsc::Sender<Job>,
    /// The shard's task, aborted (with every writer in it) when the server's
    /// state is dropped.
    _task: AbortOnDropHandle<()>,
}

impl Writers {
    /// `count` shards for screens; 0 runs every writer as a task of its own.
    pub fn new(count: usize) -> Self {
        Self { count, shards: OnceLock::new(), next: AtomicUsize::new(0) }
    }

    /// Two shards per runtime worker: enough to spread screens over every
    /// core, few enough that a command's reader is never far back in the queue.
    /// Started at once when called inside a runtime: the shards are part of
    /// the server from its start (a fixed number of tasks), not something
    /// the first screen leaves behind.
    pub fn for_runtime() -> Self {
        let runtime = tokio::runtime::Handle::try_current();
        let workers = runtime.as_ref().map_or(1, |h| h.metrics().num_workers());
        let writers = Self::new(2 * workers.max(1));
        if runtime.is_ok() {
            writers.shards();
        }
        writers
    }

    fn shards(&self) -> &[Shard] {
        self.shards.get_or_init(|| (0..self.count).map(|_| Shard::start()).collect())
    }

    /// Runs `writer`, on a shard when `screen` is true (and there are
    /// shards), else as a task of its own. Dropping the handle stops it.
    pub async fn run<T: Send + 'static>(&self, screen: bool, writer: impl Future<Output = T> + Send + 'static) -> WriterHandle<T> {
        if !screen || self.count == 0 {
            return WriterHandle::Task(AbortOnDropHandle::new(tokio::spawn(writer)));
        }
        let shards = self.shards();
        let (abort, registration) = AbortHandle::new_pair();
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::pin(async move {
            if let Ok(end) = Abortable::new(writer, registration).await {
                let _ = tx.send(end);
            }
        });
        // Round robin: screens come and go alike, so the shards stay even.
        let shard = &shards[self.next.fetch_add(1, Ordering::Relaxed) % shards.len()];
        match shard.jobs.send(job).await {
            Ok(()) => WriterHandle::Shard { end: rx, abort },
            // The shard is gone only when the server is shutting down.
            Err(_) => WriterHandle::Gone,
        }
    }
}

impl Shard {
    fn start() -> Self {
        let (jobs, rx) = mpsc::channel(JOIN_QUEUE);
        Self { jobs, _task: AbortOnDropHandle::new(tokio::spawn(shard(rx))) }
    }
}

/// Writers polled in one turn of a shard before it yields to the runtime:
/// about half a millisecond of socket writes, so a command's reader (a task
/// in the same queue) waits behind a few such turns at most.
const TURN: u32 = 64;

/// Runs every writer it is given until the last sender is gone and every
/// writer has ended.
///
/// The writers run outside tokio's cooperative budget (`unconstrained`) and
/// under the shard's own, [`TURN`] polls per turn: under tokio's budget
/// (128 operations per task poll, shared by the whole shard) a writer that
/// ran out of it mid-way was woken again and polled for nothing, which cost
/// more CPU per frame than a task per writer (issue 11: 17–19 µs instead of
/// 11 at 10,000 screens and 5 events/s).
async fn shard(mut jobs: mpsc::Receiver<Job>) {
    let budget = Arc::new(AtomicU32::new(TURN));
    let mut running: FuturesUnordered<Turn> = FuturesUnordered::new();
    loop {
        let busy = !running.is_empty();
        let turn = std::future::poll_fn(|cx| {
            budget.store(TURN, Ordering::Relaxed);
            running.poll_next_unpin(cx)
        });
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => running.push(Turn { job: Box::pin(tokio::task::unconstrained(job)), budget: budget.clone() }),
                None => break,
            },
            Some(()) = turn, if busy => {}
        }
    }
    while running.next().await.is_some() {}
}

/// A writer in a shard: polled only while the shard's turn lasts.
struct Turn {
    job: Pin<Box<tokio::task::Unconstrained<Job>>>,
    budget: Arc<AtomicU32>,
}

impl Future for Turn {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1)).is_err() {
            // The turn is over: asking to be polled again makes the set
            // yield (it does after two such), and the shard's task goes to
            // the back of the runtime's queue.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.job.as_mut().poll(cx)
    }
}

/// A running writer: its result, and dropping it stops the writer.
pub enum WriterHandle<T> {
    Task(AbortOnDropHandle<T>),
    Shard {
        end: oneshot::Receiver<T>,
        abort: AbortHandle,
    },
    /// It could not be started.
    Gone,
}

impl<T> Drop for WriterHandle<T> {
    fn drop(&mut self) {
        if let WriterHandle::Shard { abort, .. } = self {
            abort.abort();
        }
    }
}

impl<T> Future for WriterHandle<T> {
    /// `None` when the writer was stopped or panicked.
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.get_mut() {
            WriterHandle::Task(h) => Pin::new(h).poll(cx).map(Result::ok),
            WriterHandle::Shard { end, .. } => Pin::new(end).poll(cx).map(Result::ok),
            WriterHandle::Gone => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_writer_on_a_shard_runs_to_its_end_and_reports_it() {
        let writers = Writers::new(2);
        let (go, wait) = oneshot::channel::<u32>();
        let h = writers.run(true, async move { wait.await.unwrap() + 1 }).await;
        go.send(41).unwrap();
        assert_eq!(h.await, Some(42));
    }

    #[tokio::test]
    async fn dropping_the_handle_stops_a_writer_on_a_shard() {
        let writers = Writers::new(1);
        let (dropped_tx, dropped) = oneshot::channel::<()>();
        // The writer holds `dropped_tx`: once it is stopped, the sender is
        // dropped and `dropped` resolves with an error.
        let h = writers
            .run(true, async move {
                std::future::pending::<()>().await;
                drop(dropped_tx)
            })
            .await;
        drop(h);
        assert!(dropped.await.is_err());
    }

    #[tokio::test]
    async fn other_writers_get_a_task_of_their_own() {
        let writers = Writers::new(2);
        let h = writers.run(false, async { 7 }).await;
        assert!(matches!(h, WriterHandle::Task(_)));
        assert_eq!(h.await, Some(7));
        assert!(writers.shards.get().is_none(), "no shard was started for it");
    }
}
