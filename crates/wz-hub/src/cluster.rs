//! Several hub nodes on one store (issue 12): the tasks that tie this
//! node's session actors to the others through the store.
//!
//! Per session, three tasks owned by the hub's task set:
//! * the **lease keeper** takes the session's lease when nobody holds it,
//!   renews it every third of `HubConfig::lease_ttl`, and tells the actor
//!   its role (`Role::Owner` with the fencing token, or `Role::Follower`);
//!   an owner that cannot renew in time, or whose append was fenced, is a
//!   follower again. A node shutting down releases its leases, so another
//!   node takes over at once (a rolling restart waits for no expiry).
//! * the **listener** reads, on a connection of its own, the session's log
//!   (followers apply it), this node's replies, and on the owner the inbox
//!   of forwarded commands, and hands each to the current actor.
//! * the **sender** writes what the actor forwards or answers, batched.
//!
//! Per node, one task reads the **notices**: credentials issued on another
//! node (a new session, a delegates import, a reissue) are read back from
//! the store, and connections on an old credential are closed.
//!
//! Architecture Invariant: a session's log is written only by the holder of
//! its newest fencing token; the store checks the token inside the append.

/// Requests with an unknown credential waiting at once for this node to
/// catch up with the notices ([`Hub::catch_up`]).
pub const MAX_CATCH_UPS: usize = 64;
use crate::actor::{ActorMsg, Link, Role};
use crate::credentials::{self, Principal, PrincipalKey};
use crate::{Hub, HubError, Inner};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};
use wz_protocol::forward::Notice;
use wz_store::cluster::{Cluster, Cursor, Lease, Message};

/// Forwarded commands and replies waiting to be written, per session.
const OUTBOX: usize = 4096;
/// Entries read from one stream at a time.
const READ_MAX: usize = 512;
/// How long one blocked read waits: a promotion starts reading the inbox
/// within it.
const BLOCK: Duration = Duration::from_millis(250);
/// Pause after a failed read before the next attempt.
const RETRY: Duration = Duration::from_millis(500);

/// This node in a cluster.
pub(crate) struct Node {
    pub id: String,
    pub cluster: Arc<dyn Cluster>,
    /// Places for requests waiting in [`Hub::catch_up`] ([`MAX_CATCH_UPS`]).
    pub catch_ups: tokio::sync::Semaphore,
}

impl Node {
    /// A node when the config names one and the store can be shared.
    pub fn of(store: &wz_store::DynStore, config: &crate::HubConfig) -> Option<Node> {
        let id = config.node.clone()?;
        let cluster = store.cluster()?;
        Some(Node { id, cluster, catch_ups: tokio::sync::Semaphore::new(MAX_CATCH_UPS) })
    }

    /// A new session's link, and the queue its sender task reads.
    pub fn link(&self) -> (Link, mpsc::Receiver<Message>) {
        let (out, rx) = mpsc::channel(OUTBOX);
        let link = Link {
            node: self.id.clone(),
            cluster: self.cluster.clone(),
            out,
            fenced: Arc::new(Notify::new()),
            lease: Arc::new(std::sync::Mutex::new(None)),
        };
        (link, rx)
    }
}

type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The lease keeper, the listener and the sender of one session.
pub(crate) fn session_tasks(inner: Weak<Inner>, session: String, seq: u64, link: Link, outbox: mpsc::Receiver<Message>) -> Vec<Task> {
    let (inbox_tx, inbox_rx) = watch::channel(None);
    vec![
        Box::pin(keeper(inner.clone(), session.clone(), link.clone(), inbox_tx)),
        Box::pin(listener(inner, session.clone(), seq, link.clone(), inbox_rx)),
        Box::pin(sender(link.cluster, session, outbox)),
    ]
}

/// The session's current actor queue.
fn actor(inner: &Weak<Inner>, session: &str) -> Option<mpsc::Sender<ActorMsg>> {
    inner.upgrade()?.sessions.get(session).map(|h| h.tx.clone())
}

async fn tell(inner: &Weak<Inner>, session: &str, msg: ActorMsg) {
    if let Some(tx) = actor(inner, session) {
        let _ = tx.send(msg).await;
    }
}

fn set_lease(inner: &Weak<Inner>, link: &Link, token: Option<u64>) {
    *link.lease.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = token;
    if let Some(i) = inner.upgrade() {
        i.ownership.send_modify(|n| *n += 1);
    }
}

/// Takes, renews and gives up the session's lease; tells the actor its role.
async fn keeper(inner: Weak<Inner>, session: String, link: Link, inbox: watch::Sender<Option<String>>) {
    let ttl = match inner.upgrade() {
        Some(i) => i.config.lease_ttl,
        None => return,
    };
    let every = (ttl / 3).max(Duration::from_millis(10));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // (token, when it was last renewed)
    let mut held: Option<(u64, Instant)> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = link.fenced.notified() => {
                // The actor stepped down by itself: its append was fenced.
                held = None;
                set_lease(&inner, &link, None);
                let _ = inbox.send(None);
                continue;
            }
        }
        if inner.upgrade().is_none_or(|i| i.stopping.load(std::sync::atomic::Ordering::SeqCst)) {
            return;
        }
        held = match held {
            Some((token, renewed)) => match tokio::time::timeout(every, link.cluster.renew(&session, &link.node, token, ttl)).await {
                Ok(Ok(true)) => Some((token, Instant::now())),
                Ok(Ok(false)) => {
                    warn!(session = %session, token, "lost the session's lease; following its new owner");
                    lose(&inner, &session, &link, &inbox).await;
                    None
                }
                // Unknown: while the lease may still be ours, keep it; once
                // it has surely expired, another node may be the owner.
                _ if renewed.elapsed() < ttl => Some((token, renewed)),
                _ => {
                    warn!(session = %session, token, "could not renew the session's lease in time; stepping down");
                    lose(&inner, &session, &link, &inbox).await;
                    None
                }
            },
            None => acquire(&inner, &session, &link, ttl, &inbox).await,
        };
    }
}

async fn lose(inner: &Weak<Inner>, session: &str, link: &Link, inbox: &watch::Sender<Option<String>>) {
    metrics::counter!("wz_leases_lost_total").increment(1);
    set_lease(inner, link, None);
    let _ = inbox.send(None);
    tell(inner, session, ActorMsg::Role { role: Role::Follower }).await;
}

async fn acquire(
    inner: &Weak<Inner>,
    session: &str,
    link: &Link,
    ttl: Duration,
    inbox: &watch::Sender<Option<String>>,
) -> Option<(u64, Instant)> {
    let started = Instant::now();
    match link.cluster.acquire(session, &link.node, ttl).await {
        Ok(Lease::Acquired(token)) => {
            // Commands forwarded while nobody owned the session (a failover,
            // a session just created) are still waiting for their answers:
            // read the inbox from one forward timeout ago. A command the old
            // owner already ran is answered from its record (its id).
            let lookback = inner.upgrade().map_or(Duration::ZERO, |i| i.config.forward_timeout);
            let end = match link.cluster.ends(session, &link.node, lookback).await {
                Ok(ends) => ends.inbox_recent,
                Err(e) => {
                    warn!(session = %session, error = %e, "took the lease but cannot read the inbox; giving it back");
                    let _ = link.cluster.release(session, &link.node, token).await;
                    return None;
                }
            };
            info!(session = %session, token, "this node owns the session now");
            metrics::counter!("wz_leases_taken_total").increment(1);
            // The role first: the actor reads the log back before the inbox's commands reach it.
            tell(inner, session, ActorMsg::Role { role: Role::Owner { token } }).await;
            set_lease(inner, link, Some(token));
            let _ = inbox.send(Some(end));
            Some((token, started))
        }
        Ok(Lease::Held { node, .. }) => {
            debug!(session = %session, owner = %node, "the session has an owner");
            None
        }
        Err(e) => {
            debug!(session = %session, error = %e, "cannot take the session's lease");
            None
        }
    }
}

/// Reads the log, the replies to this node and (on the owner) the inbox.
async fn listener(inner: Weak<Inner>, session: String, mut log_after: u64, link: Link, mut inbox: watch::Receiver<Option<String>>) {
    let mut conn = None;
    let mut after: Option<(String, String)> = None; // (replies, presence)
    let mut inbox_after: Option<String> = None;
    loop {
        if inner.upgrade().is_none() {
            return;
        }
        if inbox.has_changed().unwrap_or(false) {
            inbox_after = inbox.borrow_and_update().clone();
        }
        if after.is_none() {
            match link.cluster.ends(&session, &link.node, Duration::ZERO).await {
                Ok(ends) => after = Some((ends.replies, ends.presence)),
                Err(e) => {
                    debug!(session = %session, error = %e, "cannot read where this node's replies end");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        if conn.is_none() {
            match link.cluster.listener(&link.node).await {
                Ok(l) => conn = Some(l),
                Err(e) => {
                    debug!(session = %session, error = %e, "cannot open the listener's connection");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        let (replies_after, presence_after) = after.clone().expect("read above");
        let cursor = Cursor { log_after, inbox_after: inbox_after.clone(), replies_after, presence_after };
        let heard = match conn.as_mut().expect("opened above").listen(&session, &cursor, BLOCK, READ_MAX).await {
            Ok(h) => h,
            Err(e) => {
                debug!(session = %session, error = %e, "the listener's read failed");
                conn = None;
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Some((last, _)) = heard.log.last() {
            log_after = *last;
            tell(&inner, &session, ActorMsg::Followed { records: heard.log }).await;
        }
        for (id, bytes) in heard.replies {
            if let Some(a) = after.as_mut() {
                a.0 = id;
            }
            match wz_protocol::forward::decode_reply(&bytes) {
                Ok(reply) => tell(&inner, &session, ActorMsg::Replied { reply }).await,
                Err(e) => warn!(session = %session, error = %e, "an unreadable reply; ignored"),
            }
        }
        for (id, bytes) in heard.presence {
            if let Some(a) = after.as_mut() {
                a.1 = id;
            }
            match wz_protocol::forward::Presence::decode(&bytes) {
                Ok(presence) if presence.node != link.node => tell(&inner, &session, ActorMsg::Presence { presence }).await,
                Ok(_) => {}
                Err(e) => warn!(session = %session, error = %e, "an unreadable presence report; ignored"),
            }
        }
        for (id, bytes) in heard.inbox {
            inbox_after = Some(id);
            match wz_protocol::forward::decode_forward(&bytes) {
                Ok(forward) => tell(&inner, &session, ActorMsg::Forwarded { forward }).await,
                Err(e) => warn!(session = %session, error = %e, "an unreadable forwarded command; ignored"),
            }
        }
    }
}

/// Writes what the session's actors forward and answer.
async fn sender(cluster: Arc<dyn Cluster>, session: String, mut rx: mpsc::Receiver<Message>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 256).await > 0 {
        let n = batch.len();
        if let Err(e) = cluster.send(&session, std::mem::take(&mut batch)).await {
            // Lost: each forwarded command times out at its node and is retried.
            warn!(session = %session, error = %e, messages = n, "cannot send to the other nodes");
        }
    }
}

/// Reads the notices and acts on the other nodes' ones.
pub(crate) async fn notices(inner: Weak<Inner>) {
    let (cluster, me) = match inner.upgrade().and_then(|i| i.cluster.as_ref().map(|n| (n.cluster.clone(), n.id.clone()))) {
        Some(x) => x,
        None => return,
    };
    let mut after = None;
    let mut conn = None;
    loop {
        if inner.upgrade().is_none() {
            return;
        }
        if after.is_none() {
            match cluster.notices_end().await {
                Ok(end) => {
                    if let Some(i) = inner.upgrade() {
                        i.notices_seen.send_replace(end.clone());
                    }
                    after = Some(end)
                }
                Err(_) => {
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        if conn.is_none() {
            match cluster.listener(&me).await {
                Ok(l) => conn = Some(l),
                Err(_) => {
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        let got = match conn.as_mut().expect("opened above").notices(after.as_deref().unwrap_or("$"), Duration::from_secs(1), 100).await {
            Ok(got) => got,
            Err(_) => {
                conn = None;
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        for (id, bytes) in got {
            after = Some(id.clone());
            let Some(strong) = inner.upgrade() else { return };
            match Notice::decode(&bytes) {
                Ok(notice) if notice.node() != me => {
                    let hub = Hub { inner: strong.clone() };
                    if let Err(e) = hub.on_notice(notice).await {
                        warn!(error = %e, "cannot act on another node's notice");
                    }
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "an unreadable notice; ignored"),
            }
            // Acted on: a request waiting in `Hub::catch_up` may go on.
            strong.notices_seen.send_replace(id);
        }
    }
}

/// What the hub offers about several nodes.
impl Hub {
    /// Whether this node holds `session`'s lease (several nodes on one
    /// store, issue 12); false on a single node, which needs none.
    pub fn owns(&self, session: &str) -> bool {
        self.inner
            .sessions
            .get(session)
            .and_then(|h| h.link.as_ref().map(|l| l.lease.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()))
            .unwrap_or(false)
    }

    /// This node's id, when several nodes share the store.
    pub fn node(&self) -> Option<&str> {
        self.inner.cluster.as_ref().map(|n| n.id.as_str())
    }

    /// Counts the leases this node took or lost since it started: lets a
    /// caller await a change of ownership instead of polling.
    pub fn ownership(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.ownership.subscribe()
    }

    /// With several nodes: waits (at most a second) until this node has
    /// acted on every notice written so far, so that a credential another
    /// node issued a moment ago is known here. The server calls it when a
    /// presented credential is unknown, before refusing it; on a single node
    /// it returns at once.
    pub async fn catch_up(&self) {
        const WAIT: Duration = Duration::from_secs(1);
        let Some(node) = &self.inner.cluster else { return };
        // Each waiting request costs a Redis read: a flood of made-up tokens
        // gets the refusal at once once enough are waiting.
        let Ok(_place) = node.catch_ups.try_acquire() else {
            metrics::counter!("wz_catch_ups_skipped_total").increment(1);
            return;
        };
        let Ok(Ok(end)) = tokio::time::timeout(WAIT, node.cluster.notices_end()).await else { return };
        let mut seen = self.inner.notices_seen.subscribe();
        // Empty until the notices reader has started.
        let _ = tokio::time::timeout(WAIT, seen.wait_for(|s| !s.is_empty() && wz_store::cluster::at_or_after(s, &end))).await;
    }

    /// Another node's notice (issue 12): credentials issued there.
    pub(crate) async fn on_notice(&self, notice: wz_protocol::forward::Notice) -> Result<(), HubError> {
        let wz_protocol::forward::Notice::Credentials { session, keys, .. } = notice;
        if !self.inner.sessions.contains_key(&session) && !self.inner.refused.contains_key(&session) {
            tracing::info!(session = %session, "a session created on another node; loading it");
            return self.load(&session).await;
        }
        let keys: Vec<PrincipalKey> = keys.iter().filter_map(|k| PrincipalKey::parse(k)).collect();
        let mut fresh = Vec::new();
        for (key, stored) in self.inner.store.credentials(&session).await? {
            if let Some(k) = PrincipalKey::parse(&key).filter(|k| keys.contains(k)) {
                fresh.push((k, credentials::StoredHashes::decode(&stored)));
            }
        }
        // The old credentials stop working and their connections close
        // before the new ones are accepted here.
        self.inner.credentials.retain(|_, p| !(p.session == session && keys.contains(&p.key)));
        if let Ok(tx) = self.sender(&session) {
            let _ = tx.send(ActorMsg::Revoke { keys: keys.clone() }).await;
        }
        for (key, hashes) in fresh {
            let principal = Principal { session: session.clone(), key };
            if let Some(code) = hashes.code {
                self.inner.credentials.insert(code, principal.clone());
            }
            self.inner.credentials.insert(hashes.token, principal);
        }
        Ok(())
    }
}
