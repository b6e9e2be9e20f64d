//! One client connection's two halves, and the bounded queues between them.
//!
//! The [`ConnSender`] half carries the client's commands to the session actor;
//! the [`ConnReceiver`] half yields what to write to the client: frames from a
//! bounded queue, or a close when the actor gave up on the client (too slow,
//! revoked, shutdown). Dropping the sender tells the actor the client left.
//!
//! The queue ([`outbox`]) is bounded twice: by messages (the mpsc capacity)
//! and by bytes (an atomic counter shared by both ends). A count alone lets a
//! client that stops reading pin a thousand snapshots; a byte bound alone lets
//! it pin a million tiny frames. Either bound reached means "too slow" (4008).
//!
//! Public screens also read the session's [`Feed`] (issue 11): the frames
//! every screen receives alike (public events and public stats) are published
//! once into one bounded ring that each screen's writer reads at its own
//! pace, instead of being pushed into ten thousand queues by the session's
//! task. A screen that falls more than the ring's length behind is closed as
//! too slow (4008) and resumes like any other. What only one screen receives
//! (its snapshot, answers to its own messages) still goes through its own
//! queue, stamped with the feed's position when it was queued, so the writer
//! sends both in exactly the order the session produced them.

use crate::actor::{ActorMsg, ConnId, ConnParts};
use crate::credentials::Principal;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot};
use wz_protocol::CloseCode;
use wz_protocol::client::ClientMessage;
use wz_protocol::server::{ErrorDto, ServerMessage};

/// Something for the writer to do.
#[derive(Debug)]
pub enum Outbound {
    Frame(Bytes),
    Close(CloseCode),
}

/// A frame in a connection's own queue, with the number of feed frames
/// published before it was queued (0 for connections without the feed).
type Stamped = (u64, Bytes);

/// The sending end of a connection's queue: the actor's broadcasts and the
/// connection's own error replies both go through it.
#[derive(Clone)]
pub(crate) struct OutboxTx {
    tx: mpsc::Sender<Stamped>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The receiving end; every frame taken out gives its bytes back.
pub(crate) struct OutboxRx {
    rx: mpsc::Receiver<Stamped>,
    queued: Arc<AtomicUsize>,
}

/// A queue of at most `messages` frames and `max_bytes` bytes. One frame is
/// always accepted into an empty queue, so a snapshot larger than the byte
/// bound still reaches the client that asked for it.
pub(crate) fn outbox(messages: usize, max_bytes: usize) -> (OutboxTx, OutboxRx) {
    let (tx, rx) = mpsc::channel(messages.max(1));
    let queued = Arc::new(AtomicUsize::new(0));
    (OutboxTx { tx, queued: queued.clone(), max_bytes }, OutboxRx { rx, queued })
}

impl OutboxTx {
    /// Queues a frame; false when either bound is reached or the receiver is
    /// gone (the connection must then be closed as a slow consumer).
    pub fn try_send(&self, bytes: Bytes) -> bool {
        self.try_send_after(0, bytes)
    }

    /// Queues a frame that must follow the first `feed` frames of the feed.
    pub fn try_send_after(&self, feed: u64, bytes: Bytes) -> bool {
        let len = bytes.len();
        // Reserve the bytes first so two senders (actor and connection) can
        // never overshoot the bound together.
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before > 0 && before + len > self.max_bytes {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        if self.tx.try_send((feed, bytes)).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl OutboxRx {
    fn taken(&self, b: Stamped) -> Stamped {
        self.queued.fetch_sub(b.1.len(), Ordering::AcqRel);
        b
    }

    async fn recv(&mut self) -> Option<Stamped> {
        let b = self.rx.recv().await?;
        Some(self.taken(b))
    }

    fn try_recv(&mut self) -> Option<Stamped> {
        let b = self.rx.try_recv().ok()?;
        Some(self.taken(b))
    }
}

/// The session's side of the public feed: frames published once for every
/// public screen (issue 11).
pub(crate) struct Feed {
    tx: broadcast::Sender<Bytes>,
    /// Frames published so far; a connection's own frames are stamped with it.
    published: u64,
}

impl Feed {
    /// A feed that holds the last `frames` frames for screens that lag.
    pub fn new(frames: usize) -> Self {
        let (tx, _) = broadcast::channel(frames.max(1));
        Self { tx, published: 0 }
    }

    pub fn publish(&mut self, bytes: Bytes) {
        self.published += 1;
        // An error only means no screen is connected: nobody to miss it.
        let _ = self.tx.send(bytes);
    }

    /// How many frames were published: a connection's own frame queued now
    /// follows exactly these.
    pub fn position(&self) -> u64 {
        self.published
    }

    /// A reader that starts with the next frame published.
    pub fn subscribe(&self) -> FeedRx {
        FeedRx { rx: self.tx.subscribe(), read: self.published }
    }
}

/// A screen's reader of the feed.
pub(crate) struct FeedRx {
    rx: broadcast::Receiver<Bytes>,
    /// The feed's position of the next frame this reader takes, minus one:
    /// own frames stamped up to it go before that frame.
    read: u64,
}

/// Why a feed frame could not be taken.
enum FeedGap {
    /// Nothing new yet.
    Empty,
    /// The reader fell more than the ring's length behind.
    Lagged,
    /// The session is gone.
    Closed,
}

impl FeedRx {
    fn try_recv(&mut self) -> Result<Bytes, FeedGap> {
        self.rx.try_recv().map_err(|e| match e {
            broadcast::error::TryRecvError::Empty => FeedGap::Empty,
            broadcast::error::TryRecvError::Lagged(_) => FeedGap::Lagged,
            broadcast::error::TryRecvError::Closed => FeedGap::Closed,
        })
    }

    async fn recv(&mut self) -> Result<Bytes, FeedGap> {
        self.rx.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(_) => FeedGap::Lagged,
            broadcast::error::RecvError::Closed => FeedGap::Closed,
        })
    }
}

pub struct Connection {
    pub sender: ConnSender,
    pub receiver: ConnReceiver,
}

pub struct ConnSender {
    id: ConnId,
    principal: Principal,
    actor: mpsc::Sender<ActorMsg>,
    /// For errors the connection answers itself (unparseable input).
    local: OutboxTx,
}

pub struct ConnReceiver {
    frames: OutboxRx,
    /// Public screens: the session's feed.
    feed: Option<FeedRx>,
    /// Taken out of the own queue, not yet written (it follows a feed frame).
    own: Option<Stamped>,
    /// Taken out of the feed, not yet written (an own frame goes first).
    fed: Option<Bytes>,
    /// The feed left this reader behind: the next thing is a 4008 close.
    lagged: bool,
    close: oneshot::Receiver<CloseCode>,
    closed: bool,
}

impl Connection {
    pub(crate) fn new(parts: ConnParts, principal: Principal, actor: mpsc::Sender<ActorMsg>) -> Self {
        Self {
            sender: ConnSender { id: parts.id, principal, actor, local: parts.frames_tx },
            receiver: ConnReceiver {
                frames: parts.frames,
                feed: parts.feed,
                own: None,
                fed: None,
                lagged: false,
                close: parts.close,
                closed: false,
            },
        }
    }
}

impl ConnSender {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Hands a parsed command to the session. Waits while the session's
    /// queue is full (back-pressure), fails only when the session is gone.
    pub async fn command(&self, msg: ClientMessage) -> Result<(), crate::HubError> {
        self.actor.send(ActorMsg::Command { conn: self.id, msg }).await.map_err(|_| crate::HubError::Closed)
    }

    /// Queues an error answered without involving the session. Returns false
    /// when the client's queue is full: the caller closes it as too slow.
    pub fn error(&self, e: ErrorDto) -> bool {
        self.local.try_send(Bytes::from(ServerMessage::Error(e).encode()))
    }
}

impl Drop for ConnSender {
    fn drop(&mut self) {
        // Best effort: if the actor's queue is full, it notices the closed
        // queue at its next broadcast instead.
        let _ = self.actor.try_send(ActorMsg::Disconnect { conn: self.id });
    }
}

impl ConnReceiver {
    /// The next thing to write, or `None` when the session ended.
    pub async fn next(&mut self) -> Option<Outbound> {
        loop {
            if self.closed {
                return None;
            }
            // A close from the session wins over what is still queued (as
            // it does in the `select!` below).
            match self.close.try_recv() {
                Ok(code) => return Some(self.closing(Some(code))),
                Err(oneshot::error::TryRecvError::Closed) => return Some(self.closing(None)),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            if let Some(b) = self.try_next() {
                return Some(Outbound::Frame(b));
            }
            if self.lagged {
                self.closed = true;
                metrics::counter!("wz_slow_consumers_total", "reason" => "feed").increment(1);
                return Some(Outbound::Close(CloseCode::SlowConsumer));
            }
            tokio::select! {
                biased;
                code = &mut self.close => return Some(self.closing(code.ok())),
                own = self.frames.recv(), if self.own.is_none() => match own {
                    Some(f) => self.own = Some(f),
                    None => return None,
                },
                fed = recv_feed(&mut self.feed), if self.fed.is_none() => self.took(fed),
            }
        }
    }

    /// A frame already queued, without waiting: lets the writer flush
    /// everything queued since its last wakeup in one write.
    pub fn try_next(&mut self) -> Option<Bytes> {
        if self.own.is_none() {
            self.own = self.frames.try_recv();
        }
        if self.fed.is_none()
            && !self.lagged
            && let Some(feed) = self.feed.as_mut()
        {
            let r = feed.try_recv();
            self.took(r);
        }
        let read = self.feed.as_ref().map_or(0, |f| f.read);
        match (&self.own, &self.fed) {
            // Queued before the next feed frame was published: it goes first.
            (Some((after, _)), _) if *after <= read => self.own.take().map(|(_, b)| b),
            (_, Some(_)) => {
                if let Some(f) = self.feed.as_mut() {
                    f.read += 1;
                }
                self.fed.take()
            }
            // Queued after feed frames this reader can no longer get (it
            // lagged, or the session is gone): what is left of the own queue.
            (Some(_), None) if self.lagged || self.feed.is_none() => self.own.take().map(|(_, b)| b),
            _ => None,
        }
    }

    fn closing(&mut self, code: Option<CloseCode>) -> Outbound {
        self.closed = true;
        // Dropped without a code: the session's actor died (it sends a code
        // whenever it closes a connection on purpose), and its supervisor
        // restarts it: reconnect and resume.
        Outbound::Close(code.unwrap_or(CloseCode::Restarting))
    }

    fn took(&mut self, r: Result<Bytes, FeedGap>) {
        match r {
            Ok(b) => self.fed = Some(b),
            Err(FeedGap::Empty) => {}
            Err(FeedGap::Lagged) => self.lagged = true,
            // The session's task ended; its close (or the dropped close
            // sender) tells the writer what to do.
            Err(FeedGap::Closed) => self.feed = None,
        }
    }
}

/// The next feed frame; pending for ever without a feed.
async fn recv_feed(feed: &mut Option<FeedRx>) -> Result<Bytes, FeedGap> {
    match feed {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[tokio::test]
    async fn the_byte_bound_refuses_what_would_overflow_and_gives_bytes_back() {
        let (tx, mut rx) = outbox(100, 1000);
        assert!(tx.try_send(frame(600)));
        assert!(!tx.try_send(frame(600)), "1,200 bytes would exceed 1,000");
        assert!(tx.try_send(frame(400)), "exactly 1,000 fits");
        assert_eq!(rx.recv().await.unwrap().1.len(), 600);
        assert!(tx.try_send(frame(600)), "the 600 taken out made room");
        assert_eq!(rx.try_recv().unwrap().1.len(), 400);
        assert_eq!(rx.try_recv().unwrap().1.len(), 600);
        assert_eq!(rx.queued.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn one_frame_larger_than_the_bound_fits_an_empty_queue() {
        let (tx, mut rx) = outbox(100, 1000);
        assert!(tx.try_send(frame(5000)), "a big snapshot still reaches its client");
        assert!(!tx.try_send(frame(1)), "but nothing joins it");
        rx.recv().await.unwrap();
        assert!(tx.try_send(frame(1)));
    }

    #[tokio::test]
    async fn the_message_bound_still_holds() {
        let (tx, _rx) = outbox(2, 1_000_000);
        assert!(tx.try_send(frame(1)));
        assert!(tx.try_send(frame(1)));
        assert!(!tx.try_send(frame(1)));
    }

    fn screen(feed: &Feed) -> (OutboxTx, ConnReceiver, oneshot::Sender<CloseCode>) {
        let (tx, frames) = outbox(100, 100_000);
        let (close_tx, close) = oneshot::channel();
        let rx = ConnReceiver { frames, feed: Some(feed.subscribe()), own: None, fed: None, lagged: false, close, closed: false };
        (tx, rx, close_tx)
    }

    fn text(o: Option<Outbound>) -> String {
        match o {
            Some(Outbound::Frame(b)) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// A screen's own frames and the feed's come out in the order the
    /// session produced them, whichever way the writer reads them.
    #[tokio::test]
    async fn own_frames_and_the_feed_keep_the_sessions_order() {
        let mut feed = Feed::new(16);
        feed.publish(Bytes::from_static(b"before"));
        let (tx, mut rx, _close) = screen(&feed);
        assert!(tx.try_send_after(feed.position(), Bytes::from_static(b"snapshot")));
        feed.publish(Bytes::from_static(b"e1"));
        feed.publish(Bytes::from_static(b"e2"));
        assert!(tx.try_send_after(feed.position(), Bytes::from_static(b"reply")));
        feed.publish(Bytes::from_static(b"e3"));
        assert!(tx.try_send(Bytes::from_static(b"local error")));
        let mut got = vec![text(rx.next().await)];
        while let Some(b) = rx.try_next() {
            got.push(String::from_utf8(b.to_vec()).unwrap());
        }
        // The local error is not ordered with events (stamp 0): it goes as
        // soon as the writer sees it, here once the reply is out of the way.
        assert_eq!(got, ["snapshot", "e1", "e2", "reply", "local error", "e3"]);
    }

    #[tokio::test]
    async fn a_frame_published_while_the_writer_waits_wakes_it() {
        let mut feed = Feed::new(16);
        let (_tx, mut rx, _close) = screen(&feed);
        let next = tokio::spawn(async move { text(rx.next().await) });
        tokio::task::yield_now().await;
        feed.publish(Bytes::from_static(b"e1"));
        assert_eq!(next.await.unwrap(), "e1");
    }

    /// A screen that falls behind by more than the feed holds gets what its
    /// own queue still had, then 4008, and nothing after.
    #[tokio::test]
    async fn a_screen_left_behind_by_the_feed_is_closed_as_too_slow() {
        let mut feed = Feed::new(4);
        let (tx, mut rx, _close) = screen(&feed);
        assert!(tx.try_send_after(feed.position(), Bytes::from_static(b"snapshot")));
        for i in 0..10 {
            feed.publish(Bytes::from(format!("e{i}")));
        }
        assert_eq!(text(rx.next().await), "snapshot");
        assert!(matches!(rx.next().await, Some(Outbound::Close(CloseCode::SlowConsumer))));
        assert!(rx.next().await.is_none());
    }
}
