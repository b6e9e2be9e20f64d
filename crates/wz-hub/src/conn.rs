//! One client connection's two halves.
//!
//! The [`ConnSender`] half carries the client's commands to the session actor;
//! the [`ConnReceiver`] half yields what to write to the client: frames from a
//! bounded queue, or a close when the actor gave up on the client (too slow,
//! revoked, shutdown). Dropping the sender tells the actor the client left.

use crate::actor::{ActorMsg, ConnId, ConnParts};
use crate::credentials::Principal;
use bytes::Bytes;
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

pub struct Connection {
    pub sender: ConnSender,
    pub receiver: ConnReceiver,
}

pub struct ConnSender {
    id: ConnId,
    principal: Principal,
    actor: mpsc::Sender<ActorMsg>,
    /// For errors the connection answers itself (unparseable input).
    local: mpsc::Sender<Bytes>,
}

pub struct ConnReceiver {
    frames: mpsc::Receiver<Bytes>,
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
    /// when the client's queue is full (it is then being closed anyway).
    pub fn error(&self, e: ErrorDto) -> bool {
        self.local.try_send(Bytes::from(ServerMessage::Error(e).encode())).is_ok()
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
        self.frames.try_recv().ok()
    }
}
