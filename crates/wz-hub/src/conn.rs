//! One client connection's two halves, and the bounded queue between them.
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

use crate::actor::{ActorMsg, ConnId, ConnParts};
use crate::credentials::Principal;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};
use wz_protocol::CloseCode;
use wz_protocol::client::ClientMessage;
use wz_protocol::server::{ErrorDto, ServerMessage};

/// Something for the writer to do.
#[derive(Debug)]
pub enum Outbound {
    Frame(Bytes),
    Close(CloseCode),
}

/// The sending end of a connection's queue: the actor's broadcasts and the
/// connection's own error replies both go through it.
#[derive(Clone)]
pub(crate) struct OutboxTx {
    tx: mpsc::Sender<Bytes>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The receiving end; every frame taken out gives its bytes back.
pub(crate) struct OutboxRx {
    rx: mpsc::Receiver<Bytes>,
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
        let len = bytes.len();
        // Reserve the bytes first so two senders (actor and connection) can
        // never overshoot the bound together.
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before > 0 && before + len > self.max_bytes {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        if self.tx.try_send(bytes).is_err() {
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
    fn taken(&self, b: Bytes) -> Bytes {
        self.queued.fetch_sub(b.len(), Ordering::AcqRel);
        b
    }

    async fn recv(&mut self) -> Option<Bytes> {
        let b = self.rx.recv().await?;
        Some(self.taken(b))
    }

    fn try_recv(&mut self) -> Option<Bytes> {
        let b = self.rx.try_recv().ok()?;
        Some(self.taken(b))
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
    close: oneshot::Receiver<CloseCode>,
    closed: bool,
}

impl Connection {
    pub(crate) fn new(parts: ConnParts, principal: Principal, actor: mpsc::Sender<ActorMsg>) -> Self {
        Self {
            sender: ConnSender { id: parts.id, principal, actor, local: parts.frames_tx },
            receiver: ConnReceiver { frames: parts.frames, close: parts.close, closed: false },
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
        if self.closed {
            return None;
        }
        tokio::select! {
            biased;
            code = &mut self.close => {
                self.closed = true;
                // Dropped without a code: the session's actor died (it sends
                // a code whenever it closes a connection on purpose), and
                // its supervisor restarts it: reconnect and resume.
                Some(Outbound::Close(code.unwrap_or(CloseCode::Restarting)))
            }
            frame = self.frames.recv() => frame.map(Outbound::Frame),
        }
    }

    /// A frame already queued, without waiting: lets the writer flush
    /// everything queued since its last wakeup in one write.
    pub fn try_next(&mut self) -> Option<Bytes> {
        self.frames.try_recv()
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
        assert_eq!(rx.recv().await.unwrap().len(), 600);
        assert!(tx.try_send(frame(600)), "the 600 taken out made room");
        assert_eq!(rx.try_recv().unwrap().len(), 400);
        assert_eq!(rx.try_recv().unwrap().len(), 600);
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
}
