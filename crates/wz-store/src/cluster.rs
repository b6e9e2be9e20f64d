//! What several hub nodes on one store share (issue 12): the lease that
//! makes one node a session's owner, with its fencing token; the appends
//! that carry that token; the session's inbox of commands forwarded to the
//! owner and the replies back to each node; and the notices every node
//! hears (a session created, credentials reissued).
//!
//! Only [`crate::RedisStore`] implements it: the memory and embedded stores
//! live inside one process, which is then the only node. The hub asks
//! [`crate::Store::cluster`] and runs single-node when it gets `None`.
//!
//! The bytes of forwarded commands, replies and notices are opaque here
//! (`wz-protocol` encodes them), as records are.

use std::time::Duration;

use bytes::Bytes;

use crate::{Record, StoreError};

/// The answer to [`Cluster::acquire`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lease {
    /// This node holds the lease now, with this fencing token: every append
    /// it makes must carry it, and none with an older token is accepted.
    Acquired(u64),
    /// Another node holds it, for about `ttl` more unless it renews.
    Held { node: String, ttl: Duration },
}

/// Where a [`Listener`] reads from: each stream after the given position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The log, after this sequence number.
    pub log_after: u64,
    /// The inbox of forwarded commands, after this entry id: only the owner
    /// reads it (`None` on every other node).
    pub inbox_after: Option<String>,
    /// This node's replies, after this entry id.
    pub replies_after: String,
    /// The nodes' presence reports, after this entry id.
    pub presence_after: String,
}

/// Where a session's streams end now ([`Cluster::ends`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ends {
    pub inbox: String,
    /// Where the inbox stood `lookback` ago (by the store's clock): a new
    /// owner reads from here, so commands forwarded while no node owned the
    /// session (a failover, a session just created) are not lost.
    pub inbox_recent: String,
    pub replies: String,
    pub presence: String,
}

/// What a [`Listener`] read, each stream in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heard {
    /// Log records `(seq, bytes)`, consecutive from `log_after + 1`.
    pub log: Vec<(u64, Bytes)>,
    /// Forwarded commands `(entry id, bytes)`.
    pub inbox: Vec<(String, Bytes)>,
    /// Replies to this node `(entry id, bytes)`.
    pub replies: Vec<(String, Bytes)>,
    /// Presence reports of every node (this one's included) `(entry id, bytes)`.
    pub presence: Vec<(String, Bytes)>,
}

/// Something a node sends through the store without waiting for an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A command forwarded to the session's owner.
    Forward(Bytes),
    /// The answer to a forwarded command, to the node it came from.
    Reply { node: String, bytes: Bytes },
    /// A node's presence report, to every node.
    Presence(Bytes),
}

/// A connection of its own for blocking reads (a blocked read holds its
/// connection; the store's shared one must keep serving writes).
#[async_trait::async_trait]
pub trait Listener: Send {
    /// Waits up to `block` for anything after `cursor` in a session's log,
    /// inbox (when `cursor` names it), this node's replies and the presence
    /// reports; empty when nothing came. At most `max` entries per stream.
    async fn listen(&mut self, session: &str, cursor: &Cursor, block: Duration, max: usize) -> Result<Heard, StoreError>;

    /// Waits up to `block` for notices after entry id `after`.
    async fn notices(&mut self, after: &str, block: Duration, max: usize) -> Result<Vec<(String, Bytes)>, StoreError>;
}

/// Whether stream entry id `a` comes at or after `b` (ids such as the
/// notices' grow with every entry; an id that does not parse comes first).
pub fn at_or_after(a: &str, b: &str) -> bool {
    let parse = |id: &str| -> Option<(u64, u64)> {
        let (ms, seq) = id.split_once('-')?;
        Some((ms.parse().ok()?, seq.parse().ok()?))
    };
    parse(a).unwrap_or((0, 0)) >= parse(b).unwrap_or((0, 0))
}

/// The shared coordination of a store several nodes use at once.
#[async_trait::async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// Takes the session's lease for `node` unless another node holds it; a
    /// lease this node held before (a restart under the same node id) is
    /// taken again with a new token. `NotFound` if the session does not exist.
    async fn acquire(&self, session: &str, node: &str, ttl: Duration) -> Result<Lease, StoreError>;

    /// Extends the lease `node` holds with `token` by `ttl`; false when it
    /// is no longer held (expired, or another node took it).
    async fn renew(&self, session: &str, node: &str, token: u64, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lease up (a node shutting down), so another node takes
    /// over at once instead of after its expiry. Nothing when not held.
    async fn release(&self, session: &str, node: &str, token: u64) -> Result<(), StoreError>;

    /// [`crate::Store::append`] by the owner holding fencing token `token`:
    /// refused with [`StoreError::Fenced`] (nothing written) when another
    /// node has taken the lease since, checked in the same atomic step as
    /// `first_seq` and the claims.
    async fn append_fenced(&self, session: &str, token: u64, first_seq: u64, records: Vec<Record>) -> Result<(), StoreError>;

    /// Sends forwarded commands and replies, in order, in one round trip.
    async fn send(&self, session: &str, messages: Vec<Message>) -> Result<(), StoreError>;

    /// The current ends of the session's inbox, of `node`'s replies and of
    /// the presence reports: where a reader starts to see only what comes
    /// next; and where the inbox stood `lookback` ago.
    async fn ends(&self, session: &str, node: &str, lookback: Duration) -> Result<Ends, StoreError>;

    /// Tells every node something (opaque bytes).
    async fn notify(&self, notice: Bytes) -> Result<(), StoreError>;

    /// The current end of the notices.
    async fn notices_end(&self) -> Result<String, StoreError>;

    /// A connection of its own for blocking reads.
    async fn listener(&self, node: &str) -> Result<Box<dyn Listener>, StoreError>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_ids_order_by_time_then_sequence() {
        assert!(super::at_or_after("5-0", "5-0"));
        assert!(super::at_or_after("10-0", "9-3"));
        assert!(super::at_or_after("9-10", "9-9"));
        assert!(!super::at_or_after("9-9", "9-10"));
        assert!(!super::at_or_after("0-0", "1-0") && super::at_or_after("1-0", "0-0"));
        assert!(super::at_or_after("1-0", "garbage"));
    }
}
