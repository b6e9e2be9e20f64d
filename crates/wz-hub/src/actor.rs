//! The session actor: single writer of one session's state.
//!
//! The loop drains its queue into a batch, runs every command of the batch
//! against the state (tentatively applied, so later commands see earlier
//! ones), writes all resulting events to the store in one append (group
//! commit), and then, only if the store confirmed, broadcasts the events and
//! answers the commands. If the write fails the state is restored and every
//! command of the batch is answered `unavailable`: nothing unconfirmed is
//! ever acknowledged or shown.

use crate::HubConfig;
use crate::credentials::PrincipalKey;
use crate::ring::{Entry, Ring};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, warn};
use wz_domain::{Command, Perspective, Session, VenueId, Viewer};
use wz_protocol::client::{ClientMessage, Parsed};
use wz_protocol::stored::RecordMeta;
use wz_protocol::server::{AckDto, ErrorDto, ServerMessage};
use wz_protocol::{CloseCode, ErrorCode, render};
use wz_store::{DynStore, StoreError};

pub(crate) type ConnId = u64;

/// Acknowledged commands: (principal, command id) → (seq, reply).
pub(crate) type Acked = HashMap<(String, String), (u64, wz_domain::Reply)>;

pub(crate) enum ActorMsg {
    Connect { key: PrincipalKey, since: Option<u64>, reply: oneshot::Sender<ConnParts> },
    Disconnect { conn: ConnId },
    Command { conn: ConnId, msg: ClientMessage },
    Direct { viewer: Viewer, cmd: Command, reply: oneshot::Sender<crate::CommandResult> },
    Snapshot { viewer: Viewer, reply: oneshot::Sender<String> },
    Revoke { keys: Vec<PrincipalKey> },
    Shutdown,
}

pub(crate) struct ConnParts {
    pub id: ConnId,
    pub frames: crate::conn::OutboxRx,
    pub frames_tx: crate::conn::OutboxTx,
    pub close: oneshot::Receiver<CloseCode>,
}

struct Conn {
    key: PrincipalKey,
    viewer: Viewer,
    /// The venue this connection counts for on the health board.
    venue: Option<VenueId>,
    tx: crate::conn::OutboxTx,
    close: Option<oneshot::Sender<CloseCode>>,
}

/// Where a command's answer goes.
enum ReplyTo {
    Conn(ConnId, String),
    Direct(oneshot::Sender<crate::CommandResult>),
}

pub(crate) struct SessionActor {
    state: Session,
    acked: Acked,
    /// Store health from the hub's probe; `None` in tests that do not probe.
    health: Option<tokio::sync::watch::Receiver<bool>>,
    store_available: bool,
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
    conns: HashMap<ConnId, Conn>,
    next_conn: ConnId,
    ring: Ring,
    stats_dirty: bool,
    shutting_down: bool,
}

/// Commands run against the state but not yet confirmed by the store.
#[derive(Default)]
struct Pending {
    /// The state before the batch's first change, to restore on failure.
    before: Option<Session>,
    /// Events to write, with who caused them and the changes they made.
    events: Vec<(wz_domain::Event, RecordMeta, Vec<wz_domain::Change>)>,
    replies: Vec<(ReplyTo, Answer)>,
    /// Command ids recorded as acknowledged by this batch, undone on failure.
    acked: Vec<(String, String)>,
}

/// A command's answer, held until its batch is confirmed.
enum Answer {
    Done(AckDto),
    Refused(ErrorDto),
    Ping(String),
}

impl SessionActor {
    pub fn new(state: Session, acked: Acked, store: DynStore, config: HubConfig, rx: mpsc::Receiver<ActorMsg>) -> Self {
        let ring = Ring::new(config.resume_window);
        Self {
            state,
            acked,
            health: None,
            store_available: true,
            review: crate::Review::new(),
            last_seen: BTreeMap::new(),
            suspect: false,
            store,
            config,
            rx,
            conns: HashMap::new(),
            next_conn: 1,
            ring,
            stats_dirty: false,
            shutting_down: false,
        }
    }

    pub fn with_health(mut self, health: tokio::sync::watch::Receiver<bool>) -> Self {
        self.store_available = *health.borrow();
        self.health = Some(health);
        self
    }

    pub fn with_review(mut self, review: crate::Review) -> Self {
        self.review = review;
        self
    }

    fn session_id(&self) -> &str {
        &self.state.def().id
    }

    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(self.config.stats_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(self.config.max_batch);
        loop {
            tokio::select! {
                n = self.rx.recv_many(&mut batch, self.config.max_batch) => {
                    if n == 0 {
                        break;
                    }
                    self.process(std::mem::take(&mut batch)).await;
                    if self.shutting_down {
                        break;
                    }
                }
                _ = tick.tick() => {
                    if self.stats_dirty {
                        self.broadcast_stats();
                    }
                }
                changed = health_changed(&mut self.health) => {
                    match changed {
                        Some(ok) => {
                            self.set_store_available(ok);
                            if ok && self.suspect {
                                // Back: show clients what actually landed.
                                self.suspect = !self.reload().await;
                            }
                        }
                        None => self.health = None,
                    }
                }
            }
        }
    }

    async fn process(&mut self, batch: Vec<ActorMsg>) {
        if self.suspect {
            // A write that timed out may have landed since: decide this batch
            // against what the store holds, not against our rolled-back copy.
            // The probe says whether trying is worth it (a failed write alone
            // does not mean the store is still gone).
            let probe_ok = self.health.as_ref().is_none_or(|h| *h.borrow());
            if probe_ok {
                self.suspect = !self.reload().await;
            }
            if self.suspect {
                // The store is unreachable and our copy may be behind it:
                // fail fast rather than decide against a guess.
                self.refuse(batch);
                return;
            }
        }
        let mut pending = Pending::default();
        for msg in batch {
            match msg {
                ActorMsg::Command { conn, msg } => {
                    let Some(c) = self.conns.get(&conn) else { continue };
                    let viewer = c.viewer.clone();
                    let by = c.key.to_string();
                    if let Some(v) = c.venue.clone() {
                        self.seen(v);
                    }
                    let reply = ReplyTo::Conn(conn, msg.id.clone());
                    match msg.command.into_domain() {
                        // Answered in order with the connection's other
                        // commands, with the seq confirmed by then.
                        Ok(Parsed::Ping) => pending.replies.push((reply, Answer::Ping(msg.id))),
                        Ok(Parsed::Command(cmd)) => {
                            // A command id seen before is answered, not run again:
                            // a client retrying after a lost ack gets the original answer.
                            let key = (by, msg.id.clone());
                            if let Some((seq, r)) = self.acked.get(&key) {
                                metrics::counter!("wz_duplicate_commands_total").increment(1);
                                let ack = AckDto { id: msg.id, seq: *seq, result: render::ack_result(&self.state, r) };
                                pending.replies.push((reply, Answer::Done(ack)));
                                continue;
                            }
                            self.run_command(&mut pending, viewer, &cmd, reply, Some(key));
                        }
                        Err((code, message)) => {
                            pending.replies.push((reply, Answer::Refused(ErrorDto::new(Some(msg.id), code, message))));
                        }
                    }
                }
                ActorMsg::Direct { viewer, cmd, reply } => {
                    self.run_command(&mut pending, viewer, &cmd, ReplyTo::Direct(reply), None);
                }
                other => {
                    // Anything that reads state must see only confirmed state.
                    self.commit(std::mem::take(&mut pending)).await;
                    self.handle_other(other);
                }
            }
        }
        self.commit(pending).await;
    }

    /// Answers every command of a batch with `unavailable` (pings with the
    /// confirmed seq) and handles everything else as usual.
    fn refuse(&mut self, batch: Vec<ActorMsg>) {
        let why = "the store is unavailable; retry with the same id";
        for msg in batch {
            match msg {
                ActorMsg::Command { conn, msg } => {
                    if !self.conns.contains_key(&conn) {
                        continue;
                    }
                    let r = match msg.command {
                        wz_protocol::client::CommandDto::Ping => Ok(AckDto { id: msg.id.clone(), seq: self.state.seq(), result: None }),
                        _ => Err(ErrorDto::new(Some(msg.id.clone()), ErrorCode::Unavailable, why)),
                    };
                    self.reply(ReplyTo::Conn(conn, msg.id), r);
                }
                ActorMsg::Direct { reply, .. } => {
                    let _ = reply.send(Err(ErrorDto::new(None, ErrorCode::Unavailable, why)));
                }
                other => self.handle_other(other),
            }
        }
    }

    /// `key` is (principal, command id) for commands from a connection.
    fn run_command(&mut self, pending: &mut Pending, viewer: Viewer, cmd: &Command, reply: ReplyTo, key: Option<(String, String)>) {
        let now = (self.config.clock)();
        let id = match &reply {
            ReplyTo::Conn(_, id) => Some(id.clone()),
            ReplyTo::Direct(_) => None,
        };
        metrics::counter!("wz_commands_total").increment(1);
        if let Some(refusal) = self.operational_refusal(cmd) {
            pending.replies.push((reply, Answer::Refused(ErrorDto::new(id, ErrorCode::InvalidState, refusal))));
            return;
        }
        match self.state.decide(&viewer, cmd, now) {
            Err(e) => {
                let code = ErrorCode::from(&e);
                pending.replies.push((reply, Answer::Refused(ErrorDto::new(id, code, e.to_string()))));
            }
            Ok(outcome) => {
                if !outcome.events.is_empty() && pending.before.is_none() {
                    // The first change of the batch: keep the state to restore
                    // if the store does not confirm. Batches of refusals and
                    // idempotent retries never pay for this copy.
                    pending.before = Some(self.state.clone());
                }
                let meta = RecordMeta {
                    by: Some(key.as_ref().map_or_else(|| PrincipalKey::from(&viewer).to_string(), |k| k.0.clone())),
                    cmd: key.as_ref().map(|k| k.1.clone()),
                };
                let produced = !outcome.events.is_empty();
                for event in outcome.events {
                    match self.state.apply(&event) {
                        Ok(changes) => pending.events.push((event, meta.clone(), changes)),
                        Err(e) => {
                            // decide produced an event apply refuses: a bug. Refuse
                            // the command rather than risk a wrong record.
                            error!(session = %self.state.def().id, error = %e, "domain bug: decided event does not apply");
                            let msg = "internal error: command refused";
                            pending.replies.push((reply, Answer::Refused(ErrorDto::new(id, ErrorCode::InvalidState, msg))));
                            return;
                        }
                    }
                }
                let result = render::ack_result(&self.state, &outcome.reply);
                let ack = AckDto { id: id.unwrap_or_default(), seq: self.state.seq(), result };
                if let (Some(k), true) = (key, produced) {
                    self.acked.insert(k.clone(), (self.state.seq(), outcome.reply));
                    pending.acked.push(k);
                }
                pending.replies.push((reply, Answer::Done(ack)));
            }
        }
    }

    /// Refusals that come from operations, not from the session's rules.
    fn operational_refusal(&self, cmd: &Command) -> Option<String> {
        match cmd {
            Command::OpenEvaluation { .. } => self.config.evaluation_guard.as_ref().map(|why| {
                format!("evaluations are disabled: {why}")
            }),
            Command::CastBallot { evaluation, .. } | Command::CloseEvaluation { evaluation } => {
                self.review.get(&evaluation.0).map(|problems| {
                    format!(
                        "evaluation {} is closed for changes until an operator repairs the store ({} problem(s); first: {})",
                        evaluation.0,
                        problems.len(),
                        problems.first().map_or("", String::as_str)
                    )
                })
            }
            _ => None,
        }
    }

    /// Records a venue's heartbeat; the board only needs it to within seconds,
    /// so stats go out for it at most every 5 s per venue.
    fn seen(&mut self, venue: VenueId) {
        let now = (self.config.clock)();
        let last = self.last_seen.insert(venue, now);
        if last.is_none_or(|t| now.0.saturating_sub(t.0) >= 5_000) {
            self.stats_dirty = true;
        }
    }

    fn set_store_available(&mut self, ok: bool) {
        if self.store_available != ok {
            self.store_available = ok;
            self.stats_dirty = true;
        }
    }

    fn health(&self) -> render::Health {
        let mut warnings = self.config.warnings.clone();
        for problems in self.review.values() {
            warnings.extend(problems.iter().cloned());
        }
        render::Health {
            store_available: self.store_available,
            warnings,
            connections: self.connection_counts(),
            last_seen: self.last_seen.clone(),
        }
    }

    /// Writes the batch's events, then broadcasts and answers; or restores.
    async fn commit(&mut self, p: Pending) {
        let mut confirmed = true;
        if let Some(before) = p.before {
            let first_seq = before.seq() + 1;
            let records: Vec<wz_store::Record> = p
                .events
                .iter()
                .map(|(e, m, _)| {
                    let (claim, count) = wz_protocol::stored::derived(e);
                    wz_store::Record { data: Bytes::from(wz_protocol::stored::encode_record(e, m)), claim, count }
                })
                .collect();
            let started = std::time::Instant::now();
            let written = self.store.append(self.session_id(), first_seq, records).await;
            metrics::histogram!("wz_store_append_seconds").record(started.elapsed().as_secs_f64());
            match written {
                Ok(()) => {
                    self.set_store_available(true);
                    for (seq, (event, _, changes)) in (first_seq..).zip(p.events) {
                        self.broadcast(Entry::new(seq, event.at(), event.kind(), changes));
                    }
                    self.stats_dirty = true;
                }
                Err(e) => {
                    warn!(session = %self.session_id(), error = %e, commands = p.replies.len(), "store write failed; nothing acknowledged");
                    metrics::counter!("wz_store_failures_total").increment(1);
                    confirmed = false;
                    self.state = before;
                    for k in &p.acked {
                        self.acked.remove(k);
                    }
                    match e {
                        // The log moved under us (a write reported as failed
                        // that landed, or another writer), or the store holds a
                        // ballot our state does not: the store is the record,
                        // so read it back rather than stay stuck.
                        StoreError::Conflict { .. } | StoreError::Claimed { .. } => {
                            self.suspect = !self.reload().await;
                        }
                        StoreError::Unavailable(_) => {
                            self.set_store_available(false);
                            self.suspect = true;
                        }
                        _ => {}
                    }
                }
            }
        }
        let seq = self.state.seq();
        for (reply, answer) in p.replies {
            let r = match answer {
                Answer::Ping(id) => Ok(AckDto { id, seq, result: None }),
                // Refusals and acks alike were decided against state that was
                // not confirmed: the client retries with the same id.
                Answer::Done(_) | Answer::Refused(_) if !confirmed => {
                    let id = match &reply {
                        ReplyTo::Conn(_, id) => Some(id.clone()),
                        ReplyTo::Direct(_) => None,
                    };
                    Err(ErrorDto::new(id, ErrorCode::Unavailable, "the record could not be written; retry with the same id"))
                }
                Answer::Done(ack) => Ok(ack),
                Answer::Refused(e) => Err(e),
            };
            self.reply(reply, r);
        }
    }

    /// Replaces the state with what the store holds; false if it could not be read.
    async fn reload(&mut self) -> bool {
        let id = self.session_id().to_owned();
        match crate::load_session(&self.store, &id).await {
            Ok(loaded) if loaded.session.seq() == self.state.seq() => {
                // Nothing landed that we do not know: the restored state is
                // what the store holds, and clients saw nothing unconfirmed.
                self.acked = loaded.acked;
                true
            }
            Ok(loaded) => {
                warn!(session = %id, seq = loaded.session.seq(), "session reloaded from the store");
                self.state = loaded.session;
                self.acked = loaded.acked;
                // Events that landed without being broadcast are not in the
                // resume window, and connected clients never saw them: every
                // client gets a fresh snapshot, resuming ones too.
                self.ring = Ring::new(self.config.resume_window);
                let now = (self.config.clock)();
                let health = self.health();
                let snaps: Vec<(ConnId, Bytes)> = self
                    .conns
                    .iter()
                    .map(|(id, c)| (*id, Bytes::from(render::snapshot(&self.state, &c.viewer, &health, now).encode())))
                    .collect();
                for (id, b) in snaps {
                    self.send(id, b);
                }
                self.stats_dirty = true;
                true
            }
            Err(e) => {
                error!(session = %id, error = %e, "could not reload the session from the store");
                false
            }
        }
    }

    fn reply(&mut self, to: ReplyTo, r: Result<AckDto, ErrorDto>) {
        match to {
            ReplyTo::Direct(tx) => {
                let _ = tx.send(r);
            }
            ReplyTo::Conn(conn, _) => {
                match &r {
                    Ok(_) => metrics::counter!("wz_acks_total").increment(1),
                    Err(e) => metrics::counter!("wz_errors_total", "code" => e.code.as_str()).increment(1),
                }
                let msg = match r {
                    Ok(a) => ServerMessage::Ack(a),
                    Err(e) => ServerMessage::Error(e),
                };
                self.send(conn, Bytes::from(msg.encode()));
            }
        }
    }

    /// Sends one event to every connection, encoded once per perspective.
    fn broadcast(&mut self, entry: Entry) {
        let session = self.state.def().id.clone();
        let def = self.state.def_shared();
        let entry = self.ring.push(entry);
        let mut dead = Vec::new();
        for (id, c) in &self.conns {
            let p = Perspective::of(&c.viewer, &entry.changes);
            if let Some(bytes) = entry.bytes(&session, &def, &p)
                && !deliver(c, bytes)
            {
                dead.push(*id);
            }
        }
        for id in dead {
            self.drop_slow(id);
        }
    }

    /// Sends to one connection; a full queue closes it as a slow consumer.
    fn send(&mut self, conn: ConnId, bytes: Bytes) {
        if let Some(c) = self.conns.get(&conn)
            && !deliver(c, bytes)
        {
            self.drop_slow(conn);
        }
    }

    fn drop_slow(&mut self, conn: ConnId) {
        if let Some(mut c) = self.conns.remove(&conn) {
            if !c.tx.is_closed() {
                warn!(session = %self.state.def().id, principal = %c.key, "closing slow consumer");
                metrics::counter!("wz_slow_consumers_total").increment(1);
            }
            if let Some(close) = c.close.take() {
                let _ = close.send(CloseCode::SlowConsumer);
            }
            self.stats_dirty = true;
        }
    }

    fn handle_other(&mut self, msg: ActorMsg) {
        match msg {
            ActorMsg::Connect { key, since, reply } => self.connect(key, since, reply),
            ActorMsg::Disconnect { conn } => {
                if self.conns.remove(&conn).is_some() {
                    self.stats_dirty = true;
                }
            }
            ActorMsg::Snapshot { viewer, reply } => {
                let snap = render::snapshot(&self.state, &viewer, &self.health(), (self.config.clock)());
                let _ = reply.send(snap.encode());
            }
            ActorMsg::Revoke { keys } => {
                let ids: Vec<ConnId> = self.conns.iter().filter(|(_, c)| keys.contains(&c.key)).map(|(id, _)| *id).collect();
                for id in ids {
                    if let Some(mut c) = self.conns.remove(&id)
                        && let Some(close) = c.close.take()
                    {
                        let _ = close.send(CloseCode::Revoked);
                    }
                }
                self.stats_dirty = true;
            }
            ActorMsg::Shutdown => {
                for (_, mut c) in self.conns.drain() {
                    if let Some(close) = c.close.take() {
                        let _ = close.send(CloseCode::GoingAway);
                    }
                }
                self.shutting_down = true;
            }
            ActorMsg::Command { .. } | ActorMsg::Direct { .. } => unreachable!("handled in process"),
        }
    }

    fn connect(&mut self, key: PrincipalKey, since: Option<u64>, reply: oneshot::Sender<ConnParts>) {
        let viewer = key.viewer();
        let (tx, frames) = crate::conn::outbox(self.config.outbound_queue, self.config.outbound_queue_bytes);
        let (close_tx, close) = oneshot::channel();
        let id = self.next_conn;
        self.next_conn += 1;
        let venue = match &viewer {
            Viewer::Moderator => Some(self.state.def().main_venue().id.clone()),
            Viewer::VenueOperator(v) => Some(v.clone()),
            Viewer::Delegate(d) => self.state.delegate(d).map(|x| x.venue.clone()),
            Viewer::Screen | Viewer::Auditor => None,
        };
        if let Some(v) = venue.clone() {
            self.seen(v);
        }
        let conn = Conn { key, viewer: viewer.clone(), venue, tx: tx.clone(), close: Some(close_tx) };
        // Catch-up: the missed events if the window holds them, else a snapshot.
        let last = self.state.seq();
        let session = self.state.def().id.clone();
        let def = self.state.def_shared();
        let mut catch_up: Vec<Bytes> = Vec::new();
        let resumed = match since.filter(|s| *s <= last).and_then(|s| self.ring.since(s, last)) {
            Some(entries) => {
                for e in entries {
                    let p = Perspective::of(&viewer, &e.changes);
                    catch_up.extend(e.bytes(&session, &def, &p));
                }
                true
            }
            None => false,
        };
        let now = (self.config.clock)();
        self.conns.insert(id, conn);
        if !resumed {
            catch_up = vec![Bytes::from(render::snapshot(&self.state, &viewer, &self.health(), now).encode())];
        } else {
            let p = Perspective::for_snapshot(&viewer);
            let stats = render::stats(&self.state, &stats_perspective(&p), &self.health(), now);
            catch_up.push(Bytes::from(ServerMessage::Stats(stats).encode()));
        }
        if catch_up.len() > self.config.outbound_queue || catch_up.iter().map(Bytes::len).sum::<usize>() > self.config.outbound_queue_bytes {
            // More missed events than the queue holds: a snapshot is smaller.
            catch_up = vec![Bytes::from(render::snapshot(&self.state, &viewer, &self.health(), now).encode())];
        }
        metrics::counter!("wz_connects_total", "resumed" => if resumed { "yes" } else { "no" }).increment(1);
        for b in catch_up {
            let _ = tx.try_send(b);
        }
        self.stats_dirty = true;
        let _ = reply.send(ConnParts { id, frames, frames_tx: tx, close });
    }

    fn connection_counts(&self) -> BTreeMap<VenueId, u32> {
        let mut m = BTreeMap::new();
        for c in self.conns.values() {
            if let Some(v) = &c.venue
                && !c.tx.is_closed()
            {
                *m.entry(v.clone()).or_insert(0) += 1;
            }
        }
        m
    }

    /// Conflated live numbers: one encoding per stats perspective.
    fn broadcast_stats(&mut self) {
        self.stats_dirty = false;
        self.conns.retain(|_, c| !c.tx.is_closed());
        let now = (self.config.clock)();
        let health = self.health();
        let mut cache: HashMap<Perspective, Bytes> = HashMap::new();
        let mut dead = Vec::new();
        for (id, c) in &self.conns {
            let p = stats_perspective(&Perspective::for_snapshot(&c.viewer));
            let bytes = cache
                .entry(p.clone())
                .or_insert_with(|| Bytes::from(ServerMessage::Stats(render::stats(&self.state, &p, &health, now)).encode()))
                .clone();
            if !deliver(c, bytes) {
                dead.push(*id);
            }
        }
        for id in dead {
            self.drop_slow(id);
        }
        metrics::gauge!("wz_connections", "session" => self.state.def().id.clone()).set(self.conns.len() as f64);
    }
}

/// Stats differ only between staff and everyone else.
fn stats_perspective(p: &Perspective) -> Perspective {
    match p {
        Perspective::Moderator | Perspective::Auditor => p.clone(),
        _ => Perspective::Public,
    }
}

/// The next store health value; pending forever without a probe, `None`
/// when the probe is gone.
async fn health_changed(h: &mut Option<tokio::sync::watch::Receiver<bool>>) -> Option<bool> {
    match h {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(*rx.borrow_and_update()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

/// False when the connection must go (queue full or receiver gone).
fn deliver(c: &Conn, bytes: Bytes) -> bool {
    c.tx.try_send(bytes)
}

