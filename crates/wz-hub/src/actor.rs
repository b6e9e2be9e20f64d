//! The session actor: single writer of one session's state.
//!
//! The loop drains its queue into a batch, runs every command of the batch
//! against the state (tentatively applied, so later commands see earlier
//! ones), writes all resulting events to the store in one append (group
//! commit), and then, only if the store confirmed, broadcasts the events and
//! answers the commands. If the write fails the state is restored and every
//! command of the batch is answered `unavailable`: nothing unconfirmed is
//! ever acknowledged or shown.
//!
//! The write runs as a future owned by this loop, which keeps serving its
//! queue meanwhile (`commit.rs`): read-only work (pings, connects and their
//! snapshots, REST snapshots, disconnects, stats) is answered from the
//! confirmed state, commands wait in a bounded hold until the write is done.
//! This file holds the loop and the connections and fan-out; `commit.rs` the
//! batching and group commit, `health.rs` store health and the board,
//! `recovery.rs` reading the session back from the store.

mod commit;
mod conns;
mod followup;
pub use followup::FileInfo;
mod health;
mod recovery;
mod remote;
pub(crate) use remote::{Link, Role};

use crate::HubConfig;
use crate::credentials::PrincipalKey;
use crate::ring::{Entry, Ring};
use bytes::Bytes;
use conns::{Conn, Conns};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};
use wz_domain::{Command, Millis, Perspective, Session, VenueId, Viewer};
use wz_protocol::client::ClientMessage;
use wz_protocol::server::{AckDto, ErrorDto, ServerMessage, StatsDto};
use wz_protocol::{CloseCode, render};
use wz_store::DynStore;

pub(crate) type ConnId = u64;

/// Connection ids are unique in the process, not only in one session's
/// actor (a restarted actor would start again at 1): a log line's `conn`
/// names one connection. They grow with every connection.
static NEXT_CONN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How long a screen snapshot is handed to screens that connect after it
/// was built, while nothing changed.
const SCREEN_SNAPSHOT_REUSE: Millis = Millis(250);

/// Acknowledged commands: (principal, command id) → (seq, reply).
pub(crate) type Acked = HashMap<(String, String), (u64, wz_domain::Reply)>;

pub(crate) enum ActorMsg {
    Connect {
        key: PrincipalKey,
        from: Option<wz_protocol::Position>,
        reply: oneshot::Sender<ConnParts>,
        /// The server's span of the connection: the hub's log lines about
        /// it carry its fields, and it gets the connection's id and venue.
        span: tracing::Span,
    },
    Disconnect {
        conn: ConnId,
    },
    Command {
        conn: ConnId,
        msg: ClientMessage,
    },
    Direct {
        viewer: Viewer,
        cmd: Command,
        reply: oneshot::Sender<crate::CommandResult>,
    },
    Snapshot {
        viewer: Viewer,
        reply: oneshot::Sender<Box<wz_protocol::server::SnapshotDto>>,
    },
    Revoke {
        keys: Vec<PrincipalKey>,
    },
    /// Would this command be accepted now? (Before storing a file for it.)
    Check {
        viewer: Viewer,
        cmd: Command,
        reply: oneshot::Sender<Result<(), ErrorDto>>,
    },
    /// The public progress page (cached per seq and date).
    Progress {
        reply: oneshot::Sender<Arc<str>>,
    },
    /// May this viewer (`None`: the public) fetch evidence file `id`?
    File {
        viewer: Option<Viewer>,
        id: String,
        reply: oneshot::Sender<Option<FileInfo>>,
    },
    /// A read-only copy of the confirmed state and the record's chain head
    /// (documents and exports render from it).
    State {
        reply: oneshot::Sender<crate::SessionState>,
    },
    Shutdown,
    /// Records the session's owner wrote, as this node's listener read them
    /// (issue 12; `remote.rs`).
    Followed {
        records: Vec<(u64, Bytes)>,
    },
    /// A command another node forwarded to this one, the owner.
    Forwarded {
        forward: wz_protocol::forward::Forward,
    },
    /// The owner's answer to a command this node forwarded.
    Replied {
        reply: wz_protocol::forward::Reply,
    },
    /// The lease keeper: this node owns the session now, or no longer.
    Role {
        role: Role,
    },
    /// Another node's connections per venue.
    Presence {
        presence: wz_protocol::forward::Presence,
    },
}

/// Why an actor's loop ended (a panic ends it too, seen by the supervisor).
#[derive(Debug)]
pub(crate) enum Exit {
    /// Asked to shut down.
    Stopped,
    /// Every sender is gone: the hub and all connections.
    InboxClosed,
}

pub(crate) struct ConnParts {
    pub id: ConnId,
    pub frames: crate::conn::OutboxRx,
    pub frames_tx: crate::conn::OutboxTx,
    /// Public screens read the session's feed.
    pub feed: Option<crate::conn::FeedRx>,
    pub close: oneshot::Receiver<CloseCode>,
}

/// Where a command's answer goes.
enum ReplyTo {
    /// A client's connection, with the command's id and its wire type (for
    /// `wz_commands_by_type_total`).
    Conn(ConnId, String, &'static str),
    Direct(oneshot::Sender<crate::CommandResult>),
    /// Back to the node that forwarded it (issue 12), with the client's id.
    Remote {
        node: String,
        req: u64,
        id: Option<String>,
    },
}

pub(crate) struct SessionActor {
    state: Session,
    /// This session's incarnation (from its stored header): a resume must name it.
    epoch: wz_protocol::Epoch,
    acked: Acked,
    /// Store health from the hub's probe; `None` in tests that do not probe.
    health: Option<tokio::sync::watch::Receiver<crate::StoreHealth>>,
    store_available: bool,
    /// Persistence settings that put acknowledged writes at risk: while there
    /// are any, evaluations are refused (unless the config allows it).
    store_problems: Vec<String>,
    /// The group commit being written, if any.
    inflight: Option<commit::Inflight>,
    /// Commands (and a shutdown) that arrived while a write was in flight,
    /// oldest first; at most `actor_queue` of them, then the queue waits.
    held: VecDeque<ActorMsg>,
    /// Connections with a command in flight or held: their pings keep
    /// their place behind it.
    busy: HashSet<ConnId>,
    /// The write in flight has taken longer than `health_timeout`: clients
    /// are told the store is unavailable without waiting for the probe.
    write_stalled: bool,
    /// Time of the latest event: events are never stamped before it, even
    /// if the wall clock steps backwards.
    last_at: Millis,
    /// Evaluations closed for changes until an operator repairs the store.
    review: crate::Review,
    /// Last message from a client of each venue (the health board's heartbeat).
    last_seen: BTreeMap<VenueId, wz_domain::Millis>,
    /// A write failed without a definite answer (e.g. a timeout): it may
    /// still land. Before the next batch the state is read back from the store.
    suspect: bool,
    store: DynStore,
    config: HubConfig,
    rx: mpsc::Receiver<ActorMsg>,
    conns: Conns,
    /// Above the id of this session's newest connection.
    next_conn: ConnId,
    ring: Ring,
    /// What every public screen receives, published once (issue 11).
    feed: crate::conn::Feed,
    stats_dirty: bool,
    /// What each stats audience was last sent, without `seq` and
    /// `server_time` (issue 11): an audience whose numbers did not change is
    /// not sent the same numbers again.
    stats_sent: HashMap<Perspective, StatsDto>,
    /// Connections from this id on opened after the last stats broadcast:
    /// their first stats may be newer than what the others were sent, so
    /// they get the next one whatever it holds.
    stats_fresh_from: ConnId,
    /// The last screen snapshot: (sequence number, store available), when it
    /// was built, its bytes ([`SessionActor::screen_snapshot`]).
    screen_snapshot: Option<((u64, bool), Millis, Bytes)>,
    shutting_down: bool,
    progress: followup::ProgressCache,
    /// The head of the record's hash chain, as confirmed by the store.
    head: wz_protocol::stored::ChainHead,
    /// Owner, follower or the only node (issue 12).
    role: Role,
    /// A role that arrived while a write was in flight: taken after it.
    next_role: Option<Role>,
    /// The other nodes, when there are any.
    link: Option<Link>,
    /// Commands forwarded to the owner, waiting for their answers.
    forwarding: remote::Forwarding,
    /// The other nodes' venue connections (the board sums every node's).
    peers: remote::Peers,
}

/// The first frames of a new connection.
struct CatchUp {
    frames: Vec<Bytes>,
    /// Events since the client's position, not a snapshot.
    resumed: bool,
}

impl SessionActor {
    pub fn new(state: Session, acked: Acked, store: DynStore, config: HubConfig, rx: mpsc::Receiver<ActorMsg>) -> Self {
        let ring = Ring::new(config.resume_window);
        let feed = crate::conn::Feed::new(config.outbound_queue);
        Self {
            state,
            // Replaced by `with_epoch` for every session the hub runs.
            epoch: wz_protocol::Epoch::new(0),
            acked,
            health: None,
            store_available: true,
            store_problems: config.store_problems.clone(),
            inflight: None,
            held: VecDeque::new(),
            busy: HashSet::new(),
            write_stalled: false,
            last_at: Millis(0),
            review: crate::Review::new(),
            last_seen: BTreeMap::new(),
            suspect: false,
            store,
            config,
            rx,
            conns: Conns::default(),
            next_conn: 1,
            ring,
            feed,
            stats_dirty: false,
            stats_sent: HashMap::new(),
            stats_fresh_from: 0,
            screen_snapshot: None,
            shutting_down: false,
            progress: Default::default(),
            // Replaced by `with_head` for every session the hub runs.
            head: wz_protocol::stored::ChainHead::genesis(b""),
            role: Role::Single,
            next_role: None,
            link: None,
            forwarding: Default::default(),
            peers: Default::default(),
        }
    }

    /// One of several nodes: the owner when this node holds the session's
    /// lease (an actor restarted by its supervisor), a follower until the
    /// lease keeper says otherwise when not.
    pub fn with_link(mut self, link: Option<Link>) -> Self {
        if let Some(l) = &link {
            let token = *l.lease.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.role = token.map_or(Role::Follower, |token| Role::Owner { token });
        }
        self.link = link;
        self
    }

    pub fn with_health(mut self, mut health: tokio::sync::watch::Receiver<crate::StoreHealth>) -> Self {
        let now = health.borrow_and_update().clone();
        self.store_available = now.available;
        self.store_problems = now.problems;
        self.health = Some(health);
        self
    }

    pub fn with_last_at(mut self, at: Millis) -> Self {
        self.last_at = at;
        self
    }

    pub fn with_epoch(mut self, epoch: wz_protocol::Epoch) -> Self {
        self.epoch = epoch;
        self
    }

    /// The head of the stored record's hash chain, which the next record links to.
    pub fn with_head(mut self, head: wz_protocol::stored::ChainHead) -> Self {
        self.head = head;
        self
    }

    pub fn with_review(mut self, review: crate::Review) -> Self {
        self.review = review;
        self
    }

    fn session_id(&self) -> &str {
        &self.state.def().id
    }

    pub async fn run(mut self) -> Exit {
        // The first tick one interval from now, not at once: a connection made
        // right after the start already got its stats with its catch-up.
        let every = self.config.stats_interval;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(self.config.max_batch);
        let mut inbox_open = true;
        loop {
            if self.shutting_down {
                return Exit::Stopped;
            }
            if self.inflight.is_none() && !self.held.is_empty() {
                // What waited for the last write goes first, in order.
                let n = self.held.len().min(self.config.max_batch);
                let mut next: Vec<ActorMsg> = self.held.drain(..n).collect();
                // What is already waiting in the inbox arrived after the held
                // messages: it joins the same group commit, in order, rather
                // than waiting for a write of its own.
                while next.len() < self.config.max_batch && self.held.is_empty() {
                    match self.rx.try_recv() {
                        Ok(msg) => next.push(msg),
                        Err(_) => break,
                    }
                }
                self.process(next).await;
                continue;
            }
            if !inbox_open && self.inflight.is_none() {
                return Exit::InboxClosed;
            }
            let reading = inbox_open && self.held.len() < self.config.actor_queue;
            tokio::select! {
                progress = commit::progress(&mut self.inflight, self.config.health_timeout, self.write_stalled) => {
                    self.on_progress(progress).await;
                }
                n = self.rx.recv_many(&mut batch, self.config.max_batch), if reading => {
                    if n == 0 {
                        inbox_open = false;
                        continue;
                    }
                    if self.inflight.is_some() {
                        for msg in batch.drain(..) {
                            self.while_writing(msg);
                        }
                    } else {
                        self.process(std::mem::take(&mut batch)).await;
                    }
                }
                _ = tick.tick() => {
                    if self.stats_dirty {
                        self.broadcast_stats();
                    }
                    // Forwarded commands past their deadline.
                    self.flush_forwarded();
                    self.publish_presence();
                }
                changed = health::changed(&mut self.health) => self.on_health(changed).await,
            }
        }
    }

    fn reply(&mut self, to: ReplyTo, r: Result<AckDto, ErrorDto>) {
        match to {
            ReplyTo::Direct(tx) => {
                let _ = tx.send(r);
            }
            ReplyTo::Remote { node, req, .. } => self.reply_remote(node, req, r),
            ReplyTo::Conn(conn, _, kind) => {
                // Counted where the client is connected (a follower counts
                // what it forwarded, the owner does not count it again).
                let result = match &r {
                    Ok(_) => {
                        metrics::counter!("wz_acks_total").increment(1);
                        "ok"
                    }
                    Err(e) => {
                        metrics::counter!("wz_errors_total", "code" => e.code.as_str()).increment(1);
                        if let Some(c) = self.conns.get(conn) {
                            debug!(parent: &c.span, command = kind, code = e.code.as_str(), "command refused");
                        }
                        e.code.as_str()
                    }
                };
                metrics::counter!("wz_commands_by_type_total", "type" => kind, "result" => result).increment(1);
                let msg = match r {
                    Ok(a) => ServerMessage::Ack(a),
                    Err(e) => ServerMessage::Error(e),
                };
                self.send(conn, Bytes::from(msg.encode()));
            }
        }
    }

    /// Sends one event to every connection, encoded once per perspective:
    /// first to each connection of its own (staff, stations, delegates: a
    /// few hundred, whose writers then run first, so the moderator's ack is
    /// not behind ten thousand screens), then once into the screens' feed.
    fn broadcast(&mut self, entry: Entry) {
        let session = self.state.def().id.clone();
        let def = self.state.def_shared();
        let seal = self.state.seal().copied();
        let entry = self.ring.push(entry);
        let mut dead = Vec::new();
        let public = entry.bytes(&session, &def, seal.as_ref(), &Perspective::Public);
        // A delegate the event does not concern sees it as the public does.
        // When that is nothing (a ballot: secret), only the connections that
        // are not a delegate's and those of the delegates it concerns are
        // visited, not every delegate (issue 11: deciding it for each of
        // 1,000 connected delegates was a quarter of a ballot's CPU). A set:
        // one delegate may be concerned twice (asker and follow-up asker).
        let mut concerned = std::collections::BTreeSet::new();
        if public.is_none() {
            for c in &entry.changes {
                wz_domain::for_each_delegate_concerned(c, |d| {
                    concerned.insert(PrincipalKey::Delegate(d.clone()));
                });
            }
        }
        let mut push = |id: ConnId, c: &Conn| {
            let p = Perspective::of(&c.viewer, &entry.changes);
            if let Some(bytes) = entry.bytes(&session, &def, seal.as_ref(), &p)
                && !deliver(c, 0, bytes)
            {
                dead.push(id);
            }
        };
        if public.is_some() {
            self.conns.direct().for_each(|(id, c)| push(id, c));
        } else {
            self.conns.others().for_each(|(id, c)| push(id, c));
            for id in concerned.iter().flat_map(|k| self.conns.of_key(k)) {
                if let Some(c) = self.conns.get(id) {
                    push(id, c);
                }
            }
        }
        if self.conns.fed() > 0
            && let Some(bytes) = public
        {
            self.feed.publish(bytes);
        }
        for id in dead {
            self.drop_slow(id);
        }
    }

    /// Sends to one connection; a full queue closes it as a slow consumer.
    fn send(&mut self, conn: ConnId, bytes: Bytes) {
        if let Some(c) = self.conns.get(conn)
            && !deliver(c, self.feed.position(), bytes)
        {
            self.drop_slow(conn);
        }
    }

    fn drop_slow(&mut self, conn: ConnId) {
        if let Some(mut c) = self.conns.remove(conn) {
            if !c.tx.is_closed() {
                // The connection's span names the session, principal and connection.
                warn!(parent: &c.span, "closing slow consumer: its queue is full");
                metrics::counter!("wz_slow_consumers_total", "reason" => "queue").increment(1);
            }
            c.close(CloseCode::SlowConsumer);
            self.stats_dirty = true;
        }
    }

    fn handle_other(&mut self, msg: ActorMsg) {
        match msg {
            ActorMsg::Connect { key, from, reply, span } => self.connect(key, from, reply, span),
            ActorMsg::Disconnect { conn } => {
                self.forget_conn(conn);
                if self.conns.remove(conn).is_some() {
                    self.stats_dirty = true;
                }
            }
            ActorMsg::Snapshot { viewer, reply } => {
                let snap = render::snapshot(&self.state, self.epoch, &viewer, &self.health(), (self.config.clock)());
                if let wz_protocol::server::ServerMessage::Snapshot(dto) = snap {
                    let _ = reply.send(dto);
                }
            }
            ActorMsg::Revoke { keys } => {
                let ids: Vec<ConnId> = keys.iter().flat_map(|k| self.conns.of_key(k)).collect();
                for id in ids {
                    if let Some(mut c) = self.conns.remove(id) {
                        debug!(parent: &c.span, "closing: the credential was reissued");
                        c.close(CloseCode::Revoked);
                    }
                }
                self.stats_dirty = true;
            }
            ActorMsg::Check { viewer, cmd, reply } => {
                let _ = reply.send(self.check(&viewer, &cmd));
            }
            ActorMsg::Progress { reply } => {
                let _ = reply.send(self.progress());
            }
            ActorMsg::File { viewer, id, reply } => {
                let _ = reply.send(self.file(viewer.as_ref(), &id));
            }
            ActorMsg::State { reply } => {
                let _ = reply.send(crate::SessionState { session: self.state.clone(), head: self.head, now: (self.config.clock)() });
            }
            ActorMsg::Shutdown => {
                for mut c in self.conns.drain() {
                    c.close(CloseCode::GoingAway);
                }
                self.shutting_down = true;
            }
            ActorMsg::Command { .. } | ActorMsg::Direct { .. } | ActorMsg::Forwarded { .. } => unreachable!("handled in process"),
            ActorMsg::Presence { presence } => self.on_presence(presence),
            ActorMsg::Followed { .. } | ActorMsg::Replied { .. } | ActorMsg::Role { .. } => unreachable!("handled in the loop"),
        }
    }

    fn connect(&mut self, key: PrincipalKey, from: Option<wz_protocol::Position>, reply: oneshot::Sender<ConnParts>, span: tracing::Span) {
        self.make_room_for(&key);
        let viewer = key.viewer();
        let (tx, frames) = crate::conn::outbox(self.config.outbound_queue, self.config.outbound_queue_bytes);
        let (close_tx, close) = oneshot::channel();
        let id = NEXT_CONN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.next_conn = id + 1;
        let venue = self.venue_of(&viewer);
        if let Some(v) = venue.clone() {
            self.seen(v);
        }
        // Every line the connection logs from here on names it and its venue.
        span.record("conn", id);
        if let Some(v) = &venue {
            span.record("venue", v.as_str());
        }
        // Every public screen receives the same frames: from the feed.
        let feed = matches!(viewer, Viewer::Screen).then(|| self.feed.subscribe());
        let conn = Conn { key, viewer: viewer.clone(), venue, tx: tx.clone(), fed: feed.is_some(), close: Some(close_tx), span };
        // Inserted first: the snapshot's presence counts include this connection.
        self.conns.insert(id, conn);
        let catch_up = self.catch_up(&viewer, from);
        metrics::counter!("wz_connects_total", "resumed" => if catch_up.resumed { "yes" } else { "no" }).increment(1);
        for b in catch_up.frames {
            let _ = tx.try_send_after(self.feed.position(), b);
        }
        self.stats_dirty = true;
        let _ = reply.send(ConnParts { id, frames, frames_tx: tx, feed, close });
    }

    /// The venue a viewer's connections and commands count for: a station's
    /// and its delegates'. The moderator's own console is not the main
    /// venue's station (issue 10: it made the main venue look connected when
    /// its operator was not).
    fn venue_of(&self, viewer: &Viewer) -> Option<VenueId> {
        match viewer {
            Viewer::VenueOperator(v) => Some(v.clone()),
            Viewer::Delegate(d) => self.state.delegate(d).map(|x| x.venue.clone()),
            Viewer::Moderator | Viewer::Screen | Viewer::Auditor | Viewer::Office | Viewer::Unit(_) => None,
        }
    }

    /// Closes the oldest open connections of `key` (with `replaced`) until a
    /// new one fits under its cap: the newest always gets in, so a phone
    /// whose old socket is half-dead is never locked out by it.
    fn make_room_for(&mut self, key: &PrincipalKey) {
        let cap = self.config.connection_cap(key);
        // The common case without a scan: fewer connections than the cap,
        // closed ones included. (A scan per connect made a reconnect storm
        // of 10,000 screens on one credential quadratic, issue 11.)
        if self.conns.count_of(key) < cap {
            return;
        }
        // Oldest first (ids grow with every connection).
        let open: Vec<ConnId> =
            self.conns.of_key(key).into_iter().filter(|id| self.conns.get(*id).is_some_and(|c| !c.tx.is_closed())).collect();
        if open.len() < cap {
            return;
        }
        for id in &open[..=open.len() - cap] {
            if let Some(mut c) = self.conns.remove(*id) {
                debug!(parent: &c.span, cap, "closing: a newer connection of the same credential replaces it");
                c.close(CloseCode::Replaced);
            }
            metrics::counter!("wz_connections_replaced_total").increment(1);
        }
        self.stats_dirty = true;
    }

    /// What a new connection gets first: the missed events and a `stats`,
    /// when `from` is a position in this epoch whose events the window still
    /// holds (and they fit the outbound queue); otherwise one snapshot.
    fn catch_up(&mut self, viewer: &Viewer, from: Option<wz_protocol::Position>) -> CatchUp {
        let last = self.state.seq();
        let now = (self.config.clock)();
        // Another epoch is another history: its seq numbers say nothing here.
        let since = from.filter(|p| p.epoch == self.epoch && p.seq <= last).map(|p| p.seq);
        let session = self.state.def().id.clone();
        let def = self.state.def_shared();
        let seal = self.state.seal().copied();
        let missed: Option<Vec<Bytes>> = since.and_then(|s| self.ring.since(s, last)).map(|entries| {
            entries
                .flat_map(|e| {
                    let p = Perspective::of(viewer, &e.changes);
                    e.bytes(&session, &def, seal.as_ref(), &p)
                })
                .collect()
        });
        let p = Perspective::for_snapshot(viewer);
        if let Some(mut frames) = missed {
            // More missed events than the queue holds: a snapshot is smaller.
            if frames.len() < self.config.outbound_queue && frames.iter().map(Bytes::len).sum::<usize>() < self.config.outbound_queue_bytes
            {
                let stats =
                    render::stats(&self.state, &stats_perspective(&p, self.state.open_evaluation().is_some()), &self.health_for(&p), now);
                frames.push(Bytes::from(ServerMessage::Stats(stats).encode()));
                return CatchUp { frames, resumed: true };
            }
        }
        let snapshot = match viewer {
            Viewer::Screen => self.screen_snapshot(now),
            _ => Bytes::from(render::snapshot(&self.state, self.epoch, viewer, &self.health_for(&p), now).encode()),
        };
        CatchUp { frames: vec![snapshot], resumed: false }
    }

    /// The public screen's snapshot (settled questions abridged, see
    /// [`render::screen_snapshot`]), the same for every screen: built once
    /// per state (sequence number and store health) and shared by every
    /// screen that connects within [`SCREEN_SNAPSHOT_REUSE`] of it (issue 11:
    /// a reconnect storm of 10,000 screens built 10,000 identical
    /// snapshots). Only its `server_time` can be that much older, which the
    /// pages' clock offset tolerates.
    fn screen_snapshot(&mut self, now: Millis) -> Bytes {
        let key = (self.state.seq(), self.store_ok());
        if let Some((k, at, bytes)) = &self.screen_snapshot
            && *k == key
            && now.0.saturating_sub(at.0) <= SCREEN_SNAPSHOT_REUSE.0
        {
            return bytes.clone();
        }
        let bytes = Bytes::from(render::screen_snapshot(&self.state, self.epoch, &self.public_health(), now).encode());
        self.screen_snapshot = Some((key, now, bytes.clone()));
        bytes
    }

    /// Open connections per venue on every node.
    fn connection_counts(&self) -> BTreeMap<VenueId, u32> {
        let mut m = self.local_connection_counts();
        self.add_peer_connections(&mut m);
        m
    }

    /// Open connections per venue on this node.
    fn local_connection_counts(&self) -> BTreeMap<VenueId, u32> {
        let mut m = BTreeMap::new();
        // Screens count for no venue: only the direct connections (a few
        // hundred), not every screen's.
        for (_, c) in self.conns.direct() {
            if let Some(v) = &c.venue
                && !c.tx.is_closed()
            {
                *m.entry(v.clone()).or_insert(0) += 1;
            }
        }
        m
    }

    /// Conflated live numbers: one encoding per stats perspective, sent to
    /// an audience only when its numbers changed since it was last sent them
    /// (and to connections opened since then, whose first numbers may be
    /// newer). A command that changes nothing a screen counts sends the
    /// screens nothing.
    fn broadcast_stats(&mut self) {
        self.stats_dirty = false;
        self.conns.remove_closed();
        // Before the stats go out: whoever reads these stats and then
        // scrapes /metrics sees gauges at least as new.
        self.connection_gauges();
        let now = (self.config.clock)();
        let health = self.health();
        let voting = self.state.open_evaluation().is_some();
        let fresh_from = std::mem::replace(&mut self.stats_fresh_from, self.next_conn);
        // Per audience: the frame, and whether everyone must get it.
        let mut cache: HashMap<Perspective, (Bytes, bool)> = HashMap::new();
        let mut frame = |p: Perspective| -> (Bytes, bool) {
            cache
                .entry(p.clone())
                .or_insert_with(|| {
                    let stats = render::stats(&self.state, &p, &health, now);
                    let content = StatsDto { seq: 0, server_time: 0, ..stats.clone() };
                    let changed = self.stats_sent.get(&p) != Some(&content);
                    if changed {
                        self.stats_sent.insert(p, content);
                    }
                    (Bytes::from(ServerMessage::Stats(stats).encode()), changed)
                })
                .clone()
        };
        let mut dead = Vec::new();
        for (id, c) in self.conns.direct() {
            let (bytes, changed) = frame(stats_perspective(&Perspective::for_snapshot(&c.viewer), voting));
            if (changed || id >= fresh_from) && !deliver(c, 0, bytes) {
                dead.push(id);
            }
        }
        if self.conns.fed() > 0 {
            let (bytes, changed) = frame(Perspective::Public);
            if changed {
                self.feed.publish(bytes);
            } else {
                // Screens opened since the last stats may hold newer numbers
                // than the feed last carried: they get these on their own.
                let at = self.feed.position();
                for (id, c) in self.conns.fed_since(fresh_from) {
                    if !deliver(c, at, bytes.clone()) {
                        dead.push(id);
                    }
                }
            }
        }
        if !dead.is_empty() {
            for id in dead {
                self.drop_slow(id);
            }
            self.connection_gauges();
        }
    }

    /// This node's connections of the session, in all, by role and by venue
    /// (every venue of the definition, 0 when none is connected: a venue
    /// that drops out shows as 0, not as a series that stops).
    fn connection_gauges(&self) {
        let session = self.session_id();
        metrics::gauge!("wz_connections", "session" => session.to_owned()).set(self.conns.len() as f64);
        // Screens read the feed: counted, not visited.
        let mut by_role: BTreeMap<&'static str, usize> = BTreeMap::from([("screen", self.conns.fed())]);
        for (_, c) in self.conns.direct() {
            *by_role.entry(wz_protocol::dto::Role::from(&c.viewer).name()).or_insert(0) += 1;
        }
        for role in ["moderator", "venue_operator", "delegate", "screen", "auditor", "office", "unit"] {
            let n = by_role.get(role).copied().unwrap_or(0);
            metrics::gauge!("wz_connections_by_role", "session" => session.to_owned(), "role" => role).set(n as f64);
        }
        let by_venue = self.local_connection_counts();
        for v in &self.state.def().venues {
            let n = by_venue.get(&v.id).copied().unwrap_or(0);
            metrics::gauge!("wz_connections_by_venue", "session" => session.to_owned(), "venue" => v.id.as_str().to_owned())
                .set(f64::from(n));
        }
    }
}

/// Whose stats differ: staff's, and while an evaluation is open each venue
/// operator's (who at the venue has not voted yet); everyone else shares one.
fn stats_perspective(p: &Perspective, voting: bool) -> Perspective {
    match p {
        Perspective::Moderator | Perspective::Auditor => p.clone(),
        Perspective::Venue(_) if voting => p.clone(),
        _ => Perspective::Public,
    }
}

/// False when the connection must go (queue full or receiver gone). `feed`
/// is the feed's position: for a screen, the frame follows what the feed
/// carried so far.
fn deliver(c: &Conn, feed: u64, bytes: Bytes) -> bool {
    c.tx.try_send_after(feed, bytes)
}
