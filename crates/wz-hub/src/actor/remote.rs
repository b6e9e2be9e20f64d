//! The actor as one of several nodes on one store (issue 12).
//!
//! A session has one owner node at a time (`Role::Owner`, holding the
//! lease's fencing token); its actor decides and writes as on a single
//! node, with every append fenced by the token. On every other node the
//! actor is a follower (`Role::Follower`): it applies the records the
//! owner wrote as the session's listener reads them from the log, checks
//! each one's link in the hash chain, and fans them out to its own clients
//! exactly as the owner does (so `(epoch, seq)` positions resume anywhere);
//! it forwards its clients' commands to the owner through the store and
//! hands each answer back only once it has applied the events up to the
//! answer's seq, so a client sees its command's events before its ack, as
//! on one node. Pings keep their place behind their connection's forwarded
//! commands. A forwarded command not answered within
//! `HubConfig::forward_timeout` gets `unavailable` (retry with the same id:
//! the owner answers a retry of a command it already ran with its ack).
//!
//! A role changes by message: the lease keeper (`crate::cluster`) promotes
//! a follower that took the lease (it reads the log back first: nothing the
//! old owner wrote can land after the token moved on), and demotes an
//! owner whose lease could not be renewed; an owner whose append is refused
//! as fenced steps down by itself and tells the keeper.

use super::commit::{Answer, Pending};
use super::{ActorMsg, ConnId, ReplyTo, SessionActor};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tracing::{info, warn};
use wz_domain::{Millis, VenueId, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::client::{CommandDto, Parsed};
use wz_protocol::forward::{Forward, Forwarded, Reply};
use wz_protocol::render;
use wz_protocol::server::{AckDto, ErrorDto};
use wz_store::cluster::{Cluster, Message};

/// What this node is for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The only node (memory or embedded store, or Redis without `--node-id`).
    Single,
    /// Holds the lease: the single writer, with this fencing token.
    Owner { token: u64 },
    /// Another node (or none yet) owns the session.
    Follower,
}

/// A node's links to the others, shared by every actor of one session on it.
#[derive(Clone)]
pub(crate) struct Link {
    pub node: String,
    pub cluster: Arc<dyn Cluster>,
    /// Forwarded commands and replies, sent by the session's sender task.
    pub out: mpsc::Sender<Message>,
    /// Told when the owner's append was refused as fenced.
    pub fenced: Arc<Notify>,
    /// The fencing token this node holds, if any (released at shutdown).
    pub lease: Arc<std::sync::Mutex<Option<u64>>>,
}

/// A forwarded command waiting for its answer.
struct Waiting {
    to: ReplyTo,
    deadline: Instant,
    result: Option<Result<AckDto, ErrorDto>>,
}

/// What a connection waits for, in the order it sent it.
enum Queued {
    Forwarded(u64),
    Ping(String),
}

/// How often a node reports its venues' connections at most, and at least
/// (a heartbeat: a report older than [`PRESENCE_EXPIRES`] is a node gone).
const PRESENCE_MIN: std::time::Duration = std::time::Duration::from_secs(1);
const PRESENCE_MAX: std::time::Duration = std::time::Duration::from_secs(2);
const PRESENCE_EXPIRES: std::time::Duration = std::time::Duration::from_secs(6);

/// One node's report: when it came (or went out), its connections per
/// venue, the last message per venue.
type Report = (Instant, BTreeMap<VenueId, u32>, BTreeMap<VenueId, Millis>);

/// The other nodes' reports of their venues' connections, and what this
/// node last reported: the venue board sums them.
#[derive(Default)]
pub(super) struct Peers {
    /// node → its latest report
    reports: HashMap<String, Report>,
    /// What this node last reported, and when.
    sent: Option<Report>,
}

/// The follower's side of forwarding.
#[derive(Default)]
pub(super) struct Forwarding {
    next_req: u64,
    waiting: HashMap<u64, Waiting>,
    per_conn: HashMap<ConnId, VecDeque<Queued>>,
}

impl SessionActor {
    pub(super) fn is_follower(&self) -> bool {
        self.role == Role::Follower
    }

    /// A batch on a follower: commands go to the owner, the rest is local.
    pub(super) async fn forward_batch(&mut self, batch: Vec<ActorMsg>) {
        for msg in batch {
            if !self.is_follower() {
                // Promoted in the middle of the batch: the rest is the owner's.
                self.held.push_back(msg);
                continue;
            }
            match msg {
                ActorMsg::Followed { records } => self.on_followed(records).await,
                ActorMsg::Replied { reply } => self.on_replied(reply),
                ActorMsg::Role { role } => self.set_role(role).await,
                ActorMsg::Command { conn, msg } => self.forward_client(conn, msg),
                ActorMsg::Direct { viewer, cmd, reply } => {
                    let by = crate::credentials::PrincipalKey::from(&viewer).to_string();
                    // Unique across this node's restarts too: the owner records it.
                    let id = format!("fwd-{:032x}", rand::random::<u128>());
                    self.forward(ReplyTo::Direct(reply), by, Forwarded::Direct { id, command: cmd }, None);
                }
                // Forwarded to a node that is no longer the owner: its origin
                // times out and the client retries through the new owner.
                ActorMsg::Forwarded { .. } => {}
                other => self.handle_other(other),
            }
        }
    }

    fn forward_client(&mut self, conn: ConnId, msg: wz_protocol::client::ClientMessage) {
        let Some(c) = self.conns.get(conn) else { return };
        let by = c.key.to_string();
        if let Some(v) = c.venue.clone() {
            self.seen(v);
        }
        if matches!(msg.command, CommandDto::Ping) {
            match self.forwarding.per_conn.get_mut(&conn) {
                Some(q) if !q.is_empty() => q.push_back(Queued::Ping(msg.id)),
                _ => {
                    let ack = AckDto { id: msg.id.clone(), seq: self.state.seq(), result: None };
                    self.reply(ReplyTo::Conn(conn, msg.id, "ping"), Ok(ack));
                }
            }
            return;
        }
        let id = msg.id.clone();
        let kind = msg.command.type_name();
        self.forward(ReplyTo::Conn(conn, id, kind), by, Forwarded::Client(msg), Some(conn));
    }

    fn forward(&mut self, to: ReplyTo, by: String, command: Forwarded, conn: Option<ConnId>) {
        let Some(link) = self.link.clone() else { return };
        self.forwarding.next_req += 1;
        let req = self.forwarding.next_req;
        let id = super::commit::reply_id(&to);
        let Some(bytes) = wz_protocol::forward::encode_forward(&Forward { node: link.node.clone(), req, by, command }) else {
            self.reply(to, Err(ErrorDto::new(id, ErrorCode::Unavailable, "this command can only be run on the session's owner node")));
            return;
        };
        if link.out.try_send(Message::Forward(Bytes::from(bytes))).is_err() {
            self.reply(
                to,
                Err(ErrorDto::new(
                    id,
                    ErrorCode::Unavailable,
                    "too many commands on their way to the session's owner; retry with the same id",
                )),
            );
            return;
        }
        metrics::counter!("wz_forwarded_total").increment(1);
        let deadline = Instant::now() + self.config.forward_timeout;
        self.forwarding.waiting.insert(req, Waiting { to, deadline, result: None });
        if let Some(conn) = conn {
            self.forwarding.per_conn.entry(conn).or_default().push_back(Queued::Forwarded(req));
        }
    }

    /// The owner's answer to a command this node forwarded.
    pub(super) fn on_replied(&mut self, reply: Reply) {
        let Some(w) = self.forwarding.waiting.get_mut(&reply.req) else { return };
        w.result = Some(reply.result);
        self.flush_forwarded();
    }

    /// Hands out every answer whose events this node has applied, in each
    /// connection's order; expired ones get `unavailable`.
    pub(super) fn flush_forwarded(&mut self) {
        if self.forwarding.waiting.is_empty() && self.forwarding.per_conn.is_empty() {
            return;
        }
        let now = Instant::now();
        for w in self.forwarding.waiting.values_mut() {
            if w.result.is_none() && now >= w.deadline {
                let id = super::commit::reply_id(&w.to);
                w.result = Some(Err(ErrorDto::new(
                    id,
                    ErrorCode::Unavailable,
                    "the session's owner did not answer in time; retry with the same id",
                )));
            }
        }
        let seq = self.state.seq();
        let ready = |w: &Waiting| match &w.result {
            None => false,
            Some(Ok(ack)) => ack.seq <= seq || now >= w.deadline,
            Some(Err(_)) => true,
        };
        // Answers of REST commands: no order to keep.
        let direct: Vec<u64> =
            self.forwarding.waiting.iter().filter(|(_, w)| matches!(w.to, ReplyTo::Direct(_)) && ready(w)).map(|(r, _)| *r).collect();
        let mut out = Vec::new();
        for r in direct {
            if let Some(w) = self.forwarding.waiting.remove(&r) {
                out.push((w.to, w.result.expect("ready")));
            }
        }
        let mut pings = Vec::new();
        self.forwarding.per_conn.retain(|conn, q| {
            while let Some(front) = q.front() {
                match front {
                    Queued::Ping(id) => pings.push((*conn, id.clone())),
                    Queued::Forwarded(r) => match self.forwarding.waiting.get(r) {
                        Some(w) if ready(w) => {
                            let w = self.forwarding.waiting.remove(r).expect("present");
                            out.push((w.to, w.result.expect("ready")));
                        }
                        Some(_) => break,
                        None => {}
                    },
                }
                q.pop_front();
            }
            !q.is_empty()
        });
        for (to, r) in out {
            self.reply(to, r);
        }
        for (conn, id) in pings {
            self.reply(ReplyTo::Conn(conn, id.clone(), "ping"), Ok(AckDto { id, seq, result: None }));
        }
    }

    pub(super) fn forget_conn(&mut self, conn: ConnId) {
        if let Some(q) = self.forwarding.per_conn.remove(&conn) {
            for item in q {
                if let Queued::Forwarded(r) = item {
                    self.forwarding.waiting.remove(&r);
                }
            }
        }
    }

    /// Records another node wrote, as the listener read them: applied in
    /// order on a follower (an owner wrote them itself).
    pub(super) async fn on_followed(&mut self, records: Vec<(u64, Bytes)>) {
        if !self.is_follower() {
            return;
        }
        for (seq, raw) in records {
            if seq <= self.state.seq() {
                continue;
            }
            if seq != self.state.seq() + 1 || !self.apply_followed(seq, &raw) {
                // A gap or a record that does not follow: the store is the record.
                self.suspect = !self.reload().await;
                break;
            }
        }
        self.stats_dirty = true;
        self.flush_forwarded();
    }

    /// Applies one record; false when it does not link to the chain or
    /// does not replay (the caller reads the session back).
    fn apply_followed(&mut self, seq: u64, raw: &[u8]) -> bool {
        let Ok((event, meta)) = wz_protocol::stored::decode_record(raw) else {
            warn!(session = %self.session_id(), seq, "a followed record does not decode");
            return false;
        };
        if meta.prev.as_deref().is_some_and(|p| p != self.head.hex()) {
            warn!(session = %self.session_id(), seq, "a followed record does not link to the chain");
            return false;
        }
        let Ok(changes) = self.state.apply(&event) else {
            warn!(session = %self.session_id(), seq, "a followed record does not apply");
            return false;
        };
        self.head = self.head.next(raw);
        self.last_at = self.last_at.max(event.at());
        if let (Some(by), Some(cmd)) = (meta.by, meta.cmd) {
            self.acked.insert((by, cmd), (seq, wz_domain::Reply::of_events(std::slice::from_ref(&event))));
        }
        self.broadcast(crate::ring::Entry::new(seq, event.at(), event.kind(), changes));
        metrics::gauge!("wz_log_events", "session" => self.session_id().to_owned()).set(seq as f64);
        true
    }

    pub(super) async fn set_role(&mut self, role: Role) {
        if role == self.role {
            return;
        }
        info!(session = %self.session_id(), from = ?self.role, to = ?role, "session role changes");
        self.role = role;
        // Whatever the other owner wrote is in the store: read it back
        // (nothing of it can land after the token moved on).
        self.suspect = !self.reload().await;
        // Commands this node forwarded and still waits for stay waiting: as
        // the new owner it reads the inbox from one forward timeout back, so
        // it runs them itself (or answers them from the record, by their
        // ids, if the old owner did) and answers itself.
    }

    /// The owner's append was refused: another node holds the lease.
    pub(super) async fn step_down(&mut self) {
        if let Some(link) = &self.link {
            link.fenced.notify_one();
        }
        warn!(session = %self.session_id(), "another node owns the session now; stepping down");
        metrics::counter!("wz_step_downs_total").increment(1);
        self.set_role(Role::Follower).await;
    }

    /// Sends a forwarded command's answer back to the node it came from.
    pub(super) fn reply_remote(&mut self, node: String, req: u64, result: Result<AckDto, ErrorDto>) {
        let Some(link) = &self.link else { return };
        let bytes = wz_protocol::forward::encode_reply(&Reply { req, result });
        // A full queue loses the answer: the origin's deadline answers
        // `unavailable`, and the retry gets the original ack.
        let _ = link.out.try_send(Message::Reply { node, bytes: Bytes::from(bytes) });
    }

    /// Reports this node's venues' connections when they changed (at most
    /// every second) or, unchanged, every two seconds; forgets the reports
    /// of nodes that stopped reporting. Called on the stats tick.
    pub(super) fn publish_presence(&mut self) {
        let Some(link) = self.link.clone() else { return };
        let now = Instant::now();
        let before = self.peers.reports.len();
        self.peers.reports.retain(|_, (at, _, _)| now.duration_since(*at) < PRESENCE_EXPIRES);
        if self.peers.reports.len() != before {
            self.stats_dirty = true;
        }
        let age = self.peers.sent.as_ref().map(|(at, _, _)| now.duration_since(*at));
        if age.is_some_and(|a| a < PRESENCE_MIN) {
            // Reported within the last second: nothing to count yet.
            return;
        }
        let counts = self.local_connection_counts();
        let changed = self.peers.sent.as_ref().is_none_or(|(_, c, l)| *c != counts || *l != self.last_seen);
        if !changed && age.is_some_and(|a| a < PRESENCE_MAX) {
            return;
        }
        let seen = self.last_seen.clone();
        let report = wz_protocol::forward::Presence {
            node: link.node.clone(),
            connections: counts.iter().map(|(v, n)| (v.0.clone(), *n)).collect(),
            last_seen: seen.iter().map(|(v, t)| (v.0.clone(), t.0)).collect(),
        };
        if link.out.try_send(Message::Presence(Bytes::from(report.encode()))).is_ok() {
            self.peers.sent = Some((now, counts, seen));
        }
    }

    /// Another node's report of its venues' connections.
    pub(super) fn on_presence(&mut self, p: wz_protocol::forward::Presence) {
        if self.link.as_ref().is_none_or(|l| l.node == p.node) {
            return;
        }
        let counts: BTreeMap<VenueId, u32> = p.connections.into_iter().map(|(v, n)| (VenueId(v), n)).collect();
        let seen: BTreeMap<VenueId, Millis> = p.last_seen.into_iter().map(|(v, t)| (VenueId(v), Millis(t))).collect();
        let changed = self.peers.reports.get(&p.node).is_none_or(|(_, c, l)| *c != counts || *l != seen);
        self.peers.reports.insert(p.node, (Instant::now(), counts, seen));
        if changed {
            self.stats_dirty = true;
        }
    }

    /// The other nodes' connections per venue, added to `counts`.
    pub(super) fn add_peer_connections(&self, counts: &mut BTreeMap<VenueId, u32>) {
        for (_, c, _) in self.peers.reports.values() {
            for (v, n) in c {
                *counts.entry(v.clone()).or_insert(0) += n;
            }
        }
    }

    /// The last message from each venue on any node.
    pub(super) fn all_last_seen(&self) -> BTreeMap<VenueId, Millis> {
        let mut all = self.last_seen.clone();
        for (_, _, l) in self.peers.reports.values() {
            for (v, t) in l {
                let e = all.entry(v.clone()).or_insert(*t);
                *e = (*e).max(*t);
            }
        }
        all
    }

    /// A command another node forwarded: run as if its client were here.
    pub(super) fn run_forwarded(&mut self, pending: &mut Pending, f: wz_protocol::forward::Forward) {
        use wz_protocol::forward::Forwarded;
        let Some((viewer, venue)) = self.forwarded_viewer(&f.by) else {
            warn!(session = %self.session_id(), by = %f.by, "a forwarded command names no known principal; dropped");
            return;
        };
        if let Some(v) = venue {
            self.seen(v);
        }
        match f.command {
            Forwarded::Direct { id, command } => {
                let reply = ReplyTo::Remote { node: f.node, req: f.req, id: None };
                // Recorded with its id: handed out twice, it is answered, not run twice.
                let key = (f.by, id);
                if let Some((seq, r)) = self.acked.get(&key) {
                    metrics::counter!("wz_duplicate_commands_total").increment(1);
                    let ack = AckDto { id: String::new(), seq: *seq, result: render::ack_result(&self.state, r) };
                    pending.replies.push((reply, Answer::Done(ack)));
                    return;
                }
                self.run_command(pending, viewer, &command, reply, Some(key));
            }
            Forwarded::Client(msg) => {
                let reply = ReplyTo::Remote { node: f.node, req: f.req, id: Some(msg.id.clone()) };
                match msg.command.into_domain() {
                    Ok(Parsed::Ping) => {
                        let seq = pending.before.as_ref().unwrap_or(&self.state).seq();
                        pending.replies.push((reply, Answer::Done(AckDto { id: msg.id, seq, result: None })));
                    }
                    Ok(Parsed::Command(cmd)) => {
                        let key = (f.by, msg.id.clone());
                        if let Some((seq, r)) = self.acked.get(&key) {
                            metrics::counter!("wz_duplicate_commands_total").increment(1);
                            let ack = AckDto { id: msg.id, seq: *seq, result: render::ack_result(&self.state, r) };
                            pending.replies.push((reply, Answer::Done(ack)));
                            return;
                        }
                        self.run_command(pending, viewer, &cmd, reply, Some(key));
                    }
                    Err((code, message)) => pending.replies.push((reply, Answer::Refused(ErrorDto::new(Some(msg.id), code, message)))),
                }
            }
        }
    }

    /// The viewer and venue a forwarded command comes from, by its principal key.
    pub(super) fn forwarded_viewer(&self, by: &str) -> Option<(Viewer, Option<wz_domain::VenueId>)> {
        let viewer = crate::credentials::PrincipalKey::parse(by)?.viewer();
        let venue = self.venue_of(&viewer);
        Some((viewer, venue))
    }
}
