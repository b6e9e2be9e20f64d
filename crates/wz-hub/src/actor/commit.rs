//! Batching and the group commit.
//!
//! A batch's commands run against the state one after another (each sees the
//! ones before it); their events are written in one append. The append is a
//! future owned by the actor loop ([`Inflight`]): while it runs, the actor's
//! `state` is the *confirmed* state (the copy taken before the batch) and the
//! batch's result waits in `Inflight::after`, so everything the loop answers
//! meanwhile (pings, connects, snapshots, stats) shows only what the store
//! confirmed. Commands that arrive meanwhile are held, in order, and run as
//! the next batch once the write is done. When the store confirms, `after`
//! becomes the state, the events are broadcast and the commands answered;
//! when it does not, the confirmed state simply stays and every command of
//! the batch gets `unavailable`.
//!
//! Pings keep their place behind their own connection's commands: a ping
//! from a connection with a command in the batch, in flight or held is
//! answered after that command, with the seq confirmed by then; any other
//! ping is answered at once with the confirmed seq.

use super::{ActorMsg, ConnId, ReplyTo, SessionActor};
use crate::credentials::PrincipalKey;
use crate::ring::Entry;
use bytes::Bytes;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tracing::{error, warn};
use wz_domain::{Change, Command, Event, Millis, Session, Viewer};
use wz_protocol::client::{CommandDto, Parsed};
use wz_protocol::server::{AckDto, ErrorDto};
use wz_protocol::stored::RecordMeta;
use wz_protocol::{ErrorCode, render};
use wz_store::StoreError;

/// Commands run against the state but not yet confirmed by the store.
#[derive(Default)]
pub(super) struct Pending {
    /// The state before the batch's first change, to restore on failure.
    pub(super) before: Option<Session>,
    /// Events to write, with who caused them and the changes they made.
    events: Vec<(Event, RecordMeta, Vec<Change>)>,
    pub(super) replies: Vec<(ReplyTo, Answer)>,
    /// Command ids recorded as acknowledged by this batch, undone on failure.
    acked: Vec<(String, String)>,
    /// Connections with a command in this batch.
    conns: HashSet<ConnId>,
    /// A shutdown came in this batch: done once the batch is.
    shutdown: bool,
    /// The persistence re-check before an evaluation opens failed: why.
    recheck_failed: Option<String>,
}

/// A command's answer, held until its batch is confirmed.
pub(super) enum Answer {
    Done(AckDto),
    Refused(ErrorDto),
    Ping(String),
}

type Write = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// A group commit being written.
pub(super) struct Inflight {
    write: Write,
    started: tokio::time::Instant,
    first_seq: u64,
    /// The state with the batch applied: becomes the state when confirmed.
    after: Session,
    events: Vec<(Event, RecordMeta, Vec<Change>)>,
    replies: Vec<(ReplyTo, Answer)>,
    acked: Vec<(String, String)>,
    shutdown: bool,
    /// The chain's head once the batch is written.
    head: wz_protocol::stored::ChainHead,
}

/// What became of the write in flight.
pub(super) enum Progress {
    Done(Result<(), StoreError>),
    /// Still not answered after the health timeout.
    Stalled,
}

/// Waits for the write in flight (pending forever when there is none); once,
/// after `stall_after`, reports that it is taking too long.
pub(super) async fn progress(w: &mut Option<Inflight>, stall_after: Duration, stalled: bool) -> Progress {
    let Some(w) = w else { return std::future::pending().await };
    if stalled {
        return Progress::Done(w.write.as_mut().await);
    }
    tokio::select! {
        r = w.write.as_mut() => Progress::Done(r),
        _ = tokio::time::sleep_until(w.started + stall_after) => Progress::Stalled,
    }
}

/// Applies one command's events to `state`. If any fails to apply (a domain
/// bug: `decide` produced it), `state` is put back exactly as it was before
/// the command: `batch_start` with the batch's `earlier` events re-applied,
/// whatever the failed event left half-done. Returns the changes per event.
pub(super) fn apply_command<'a>(
    state: &mut Session,
    batch_start: &Session,
    earlier: impl Iterator<Item = &'a Event>,
    events: &[Event],
) -> Result<Vec<Vec<Change>>, wz_domain::ApplyError> {
    let mut changes = Vec::with_capacity(events.len());
    for event in events {
        match state.apply(event) {
            Ok(c) => changes.push(c),
            Err(e) => {
                let mut restored = batch_start.clone();
                for ev in earlier {
                    if let Err(again) = restored.apply(ev) {
                        // Cannot happen (apply is deterministic and these
                        // applied before); the batch start is still sound.
                        error!(error = %again, "an event of the batch does not apply twice; restoring the batch start");
                        restored = batch_start.clone();
                        break;
                    }
                }
                *state = restored;
                return Err(e);
            }
        }
    }
    Ok(changes)
}

fn is_evaluation_change(cmd: &Command) -> bool {
    matches!(cmd, Command::OpenEvaluation { .. } | Command::CastBallot { .. } | Command::CloseEvaluation { .. })
}

fn opens_evaluation(msg: &ActorMsg) -> bool {
    match msg {
        ActorMsg::Command { msg, .. } => matches!(msg.command, CommandDto::OpenEvaluation { .. }),
        ActorMsg::Direct { cmd, .. } => matches!(cmd, Command::OpenEvaluation { .. }),
        _ => false,
    }
}

pub(super) fn reply_id(reply: &ReplyTo) -> Option<String> {
    match reply {
        ReplyTo::Conn(_, id, _) => Some(id.clone()),
        ReplyTo::Direct(_) => None,
        ReplyTo::Remote { id, .. } => id.clone(),
    }
}

impl SessionActor {
    /// Runs a batch (nothing is in flight) and starts its write.
    pub(super) async fn process(&mut self, batch: Vec<ActorMsg>) {
        if self.is_follower() {
            self.forward_batch(batch).await;
            self.after_batch().await;
            return;
        }
        if self.suspect {
            // A write that timed out may have landed since: decide this batch
            // against what the store holds, not against our rolled-back copy.
            // The probe says whether trying is worth it (a failed write alone
            // does not mean the store is still gone).
            let probe_ok = self.health.as_ref().is_none_or(|h| h.borrow().available);
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
        if batch.iter().any(opens_evaluation) {
            pending.recheck_failed = self.recheck_persistence().await.err();
        }
        for msg in batch {
            match msg {
                ActorMsg::Command { conn, msg } => {
                    let Some(c) = self.conns.get(conn) else { continue };
                    let viewer = c.viewer.clone();
                    let by = c.key.to_string();
                    if let Some(v) = c.venue.clone() {
                        self.seen(v);
                    }
                    // Counted by type and result when answered (`reply`).
                    let reply = ReplyTo::Conn(conn, msg.id.clone(), msg.command.type_name());
                    match msg.command.into_domain() {
                        // Answered in order with the connection's other
                        // commands, with the seq confirmed by then.
                        Ok(Parsed::Ping) if pending.conns.contains(&conn) => pending.replies.push((reply, Answer::Ping(msg.id))),
                        // Nothing of this connection's waits: the confirmed seq now.
                        Ok(Parsed::Ping) => {
                            let seq = pending.before.as_ref().unwrap_or(&self.state).seq();
                            self.reply(reply, Ok(AckDto { id: msg.id, seq, result: None }));
                        }
                        Ok(Parsed::Command(cmd)) => {
                            pending.conns.insert(conn);
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
                            pending.conns.insert(conn);
                            pending.replies.push((reply, Answer::Refused(ErrorDto::new(Some(msg.id), code, message))));
                        }
                    }
                }
                ActorMsg::Direct { viewer, cmd, reply } => {
                    self.run_command(&mut pending, viewer, &cmd, ReplyTo::Direct(reply), None);
                }
                ActorMsg::Forwarded { forward } => self.run_forwarded(&mut pending, forward),
                ActorMsg::Shutdown => pending.shutdown = true,
                // Only a follower applies what the owner wrote: this node wrote it.
                ActorMsg::Followed { .. } => {}
                ActorMsg::Replied { reply } => self.on_replied(reply),
                ActorMsg::Role { role } => self.next_role = Some(role),
                other => self.read_only(&mut pending, other),
            }
        }
        self.start_commit(pending);
        self.after_batch().await;
    }

    /// A role that waited for the batch, once nothing is in flight.
    pub(super) async fn after_batch(&mut self) {
        if self.inflight.is_none()
            && let Some(role) = self.next_role.take()
        {
            self.set_role(role).await;
        }
    }

    /// Handles a message that only reads (or drops connections) against the
    /// confirmed state, even in the middle of a batch: a connect gets the
    /// snapshot before the batch, then the batch's events once confirmed.
    fn read_only(&mut self, pending: &mut Pending, msg: ActorMsg) {
        match pending.before.as_mut() {
            Some(before) => {
                std::mem::swap(&mut self.state, before);
                self.handle_other(msg);
                std::mem::swap(&mut self.state, before);
            }
            None => self.handle_other(msg),
        }
    }

    /// A message that arrived while a write is in flight.
    pub(super) fn while_writing(&mut self, msg: ActorMsg) {
        match msg {
            ActorMsg::Command { conn, msg } if matches!(msg.command, CommandDto::Ping) && !self.busy.contains(&conn) => {
                let Some(c) = self.conns.get(conn) else { return };
                if let Some(v) = c.venue.clone() {
                    self.seen(v);
                }
                let ack = AckDto { id: msg.id.clone(), seq: self.state.seq(), result: None };
                self.reply(ReplyTo::Conn(conn, msg.id, "ping"), Ok(ack));
            }
            ActorMsg::Command { conn, msg } => {
                self.busy.insert(conn);
                self.held.push_back(ActorMsg::Command { conn, msg });
            }
            msg @ (ActorMsg::Direct { .. } | ActorMsg::Shutdown | ActorMsg::Forwarded { .. }) => self.held.push_back(msg),
            // A node with a write in flight owns the session: it wrote these.
            ActorMsg::Followed { .. } => {}
            ActorMsg::Replied { reply } => self.on_replied(reply),
            ActorMsg::Role { role } => self.next_role = Some(role),
            // `state` is the confirmed state while a write is in flight.
            other => self.handle_other(other),
        }
    }

    /// Answers every command of a batch with `unavailable` (pings with the
    /// confirmed seq) and handles everything else as usual.
    fn refuse(&mut self, batch: Vec<ActorMsg>) {
        let why = "the store is unavailable; retry with the same id";
        for msg in batch {
            match msg {
                ActorMsg::Command { conn, msg } => {
                    if !self.conns.contains(conn) {
                        continue;
                    }
                    let kind = msg.command.type_name();
                    let r = match msg.command {
                        CommandDto::Ping => Ok(AckDto { id: msg.id.clone(), seq: self.state.seq(), result: None }),
                        _ => Err(ErrorDto::new(Some(msg.id.clone()), ErrorCode::Unavailable, why)),
                    };
                    self.reply(ReplyTo::Conn(conn, msg.id, kind), r);
                }
                ActorMsg::Direct { reply, .. } => {
                    let _ = reply.send(Err(ErrorDto::new(None, ErrorCode::Unavailable, why)));
                }
                ActorMsg::Forwarded { forward } => {
                    let id = match &forward.command {
                        wz_protocol::forward::Forwarded::Client(m) => Some(m.id.clone()),
                        wz_protocol::forward::Forwarded::Direct { .. } => None,
                    };
                    self.reply_remote(forward.node, forward.req, Err(ErrorDto::new(id, ErrorCode::Unavailable, why)));
                }
                ActorMsg::Followed { .. } => {}
                ActorMsg::Replied { reply } => self.on_replied(reply),
                ActorMsg::Role { role } => self.next_role = Some(role),
                other => self.handle_other(other),
            }
        }
    }

    /// The time to decide with: the wall clock, but never before the last
    /// event, so the log's timestamps never go backwards.
    fn event_time(&self) -> Millis {
        (self.config.clock)().max(self.last_at)
    }

    /// `key` is (principal, command id) for commands from a connection.
    pub(super) fn run_command(
        &mut self,
        pending: &mut Pending,
        viewer: Viewer,
        cmd: &Command,
        reply: ReplyTo,
        key: Option<(String, String)>,
    ) {
        let now = self.event_time();
        let id = reply_id(&reply);
        metrics::counter!("wz_commands_total").increment(1);
        if let Some((code, refusal)) = self.operational_refusal(pending, cmd) {
            pending.replies.push((reply, Answer::Refused(ErrorDto::new(id, code, refusal))));
            return;
        }
        let outcome = match self.state.decide(&viewer, cmd, now) {
            Err(e) => {
                let code = ErrorCode::from(&e);
                pending.replies.push((reply, Answer::Refused(ErrorDto::new(id, code, e.to_string()))));
                return;
            }
            Ok(outcome) => outcome,
        };
        let produced = !outcome.events.is_empty();
        if produced && pending.before.is_none() {
            // The first change of the batch: keep the state to restore
            // if the store does not confirm. Batches of refusals and
            // idempotent retries never pay for this copy.
            pending.before = Some(self.state.clone());
        }
        if produced {
            let start = pending.before.as_ref().expect("set above");
            let earlier = pending.events.iter().map(|(e, _, _)| e);
            match apply_command(&mut self.state, start, earlier, &outcome.events) {
                Ok(changes) => {
                    let meta = RecordMeta {
                        by: Some(key.as_ref().map_or_else(|| PrincipalKey::from(&viewer).to_string(), |k| k.0.clone())),
                        cmd: key.as_ref().map(|k| k.1.clone()),
                        // Set when the batch is encoded, in order.
                        prev: None,
                    };
                    for (event, changes) in outcome.events.into_iter().zip(changes) {
                        self.last_at = self.last_at.max(event.at());
                        pending.events.push((event, meta.clone(), changes));
                    }
                }
                Err(e) => {
                    // decide produced an event apply refuses: a bug. The state
                    // is as before this command; refuse it rather than risk a
                    // wrong record.
                    error!(session = %self.state.def().id, error = %e, "domain bug: decided event does not apply");
                    if pending.events.is_empty() {
                        pending.before = None;
                    }
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

    /// Refusals that come from operations, not from the session's rules.
    fn operational_refusal(&self, pending: &Pending, cmd: &Command) -> Option<(ErrorCode, String)> {
        if is_evaluation_change(cmd) && !self.config.allow_unsafe_store {
            if let (Command::OpenEvaluation { .. }, Some(why)) = (cmd, &pending.recheck_failed) {
                return Some((ErrorCode::Unavailable, format!("evaluations are paused: {why}; retry with the same id")));
            }
            if !self.store_problems.is_empty() {
                return Some((
                    ErrorCode::Unavailable,
                    format!(
                        "evaluations are paused: the store cannot guarantee that an acknowledged ballot survives a crash ({}); retry with the same id once it is fixed",
                        self.store_problems.join("; ")
                    ),
                ));
            }
        }
        match cmd {
            Command::CastBallot { evaluation, .. } | Command::CloseEvaluation { evaluation } => {
                self.review.get(&evaluation.0).map(|problems| {
                    let why = format!(
                        "evaluation {} is closed for changes until an operator repairs the store ({} problem(s); first: {})",
                        evaluation.0,
                        problems.len(),
                        problems.first().map_or("", String::as_str)
                    );
                    (ErrorCode::InvalidState, why)
                })
            }
            _ => None,
        }
    }

    /// Starts writing the batch's events, or answers at once when there are
    /// none. While the write runs, `state` is the confirmed state.
    fn start_commit(&mut self, p: Pending) {
        let Some(before) = p.before else {
            // Nothing to write: every answer was decided against confirmed state.
            self.answer(p.replies, true);
            if p.shutdown {
                self.handle_other(ActorMsg::Shutdown);
            }
            return;
        };
        let first_seq = before.seq() + 1;
        // Each record links to the one before it (the hash chain).
        let mut head = self.head;
        let records: Vec<wz_store::Record> = p
            .events
            .iter()
            .map(|(e, m, _)| {
                let (claim, count) = crate::derived(e);
                let data = wz_protocol::stored::encode_chained(e, m, &head);
                head = head.next(&data);
                wz_store::Record { data: Bytes::from(data), claim, count }
            })
            .collect();
        metrics::histogram!("wz_group_commit_records").record(records.len() as f64);
        metrics::histogram!("wz_group_commit_commands").record(p.replies.len() as f64);
        let after = std::mem::replace(&mut self.state, before);
        let store = self.store.clone();
        let session = self.session_id().to_owned();
        let write: Write = match (self.role, &self.link) {
            // Fenced: once another node took the lease, this append cannot land.
            (super::Role::Owner { token }, Some(link)) => {
                let cluster = link.cluster.clone();
                Box::pin(async move { cluster.append_fenced(&session, token, first_seq, records).await })
            }
            _ => Box::pin(async move { store.append(&session, first_seq, records).await }),
        };
        self.busy = p
            .replies
            .iter()
            .filter_map(|(r, _)| match r {
                ReplyTo::Conn(c, _, _) => Some(*c),
                ReplyTo::Direct(_) | ReplyTo::Remote { .. } => None,
            })
            .chain(self.held.iter().filter_map(|m| match m {
                ActorMsg::Command { conn, .. } => Some(*conn),
                _ => None,
            }))
            .collect();
        self.inflight = Some(Inflight {
            write,
            started: tokio::time::Instant::now(),
            first_seq,
            after,
            events: p.events,
            replies: p.replies,
            acked: p.acked,
            shutdown: p.shutdown,
            head,
        });
    }

    pub(super) async fn on_progress(&mut self, progress: Progress) {
        match progress {
            Progress::Stalled => {
                // Tell clients now; the probe will agree within its interval.
                warn!(session = %self.session_id(), "store write is taking long; telling clients the store is unavailable");
                self.write_stalled = true;
                self.stats_dirty = true;
            }
            Progress::Done(written) => {
                let w = self.inflight.take().expect("a write was in flight");
                self.finish(w, written).await;
                self.after_batch().await;
            }
        }
    }

    /// The store answered: broadcasts and answers, or leaves the confirmed
    /// state and refuses the batch.
    async fn finish(&mut self, w: Inflight, written: Result<(), StoreError>) {
        metrics::histogram!("wz_store_append_seconds").record(w.started.elapsed().as_secs_f64());
        if std::mem::take(&mut self.write_stalled) {
            self.stats_dirty = true;
        }
        self.busy.clear();
        let confirmed = match written {
            Ok(()) => {
                self.state = w.after;
                self.head = w.head;
                self.set_store_available(true);
                let ballots = w.events.iter().filter(|(e, _, _)| matches!(e, Event::BallotCast { .. })).count();
                if ballots > 0 {
                    metrics::counter!("wz_ballots_total").increment(ballots as u64);
                }
                for (seq, (event, _, changes)) in (w.first_seq..).zip(w.events) {
                    self.broadcast(Entry::new(seq, event.at(), event.kind(), changes));
                }
                metrics::gauge!("wz_log_events", "session" => self.session_id().to_owned()).set(self.state.seq() as f64);
                self.stats_dirty = true;
                true
            }
            Err(e) => {
                warn!(session = %self.session_id(), error = %e, commands = w.replies.len(), "store write failed; nothing acknowledged");
                metrics::counter!("wz_store_failures_total").increment(1);
                for k in &w.acked {
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
                    // Another node took the lease: it is the writer now.
                    StoreError::Fenced { .. } => {
                        self.next_role = None;
                        self.step_down().await;
                    }
                    _ => {}
                }
                false
            }
        };
        self.answer(w.replies, confirmed);
        if w.shutdown {
            self.handle_other(ActorMsg::Shutdown);
        }
    }

    /// Sends each held answer; an unconfirmed batch gets `unavailable`.
    fn answer(&mut self, replies: Vec<(ReplyTo, Answer)>, confirmed: bool) {
        let seq = self.state.seq();
        for (reply, answer) in replies {
            let r = match answer {
                Answer::Ping(id) => Ok(AckDto { id, seq, result: None }),
                // Refusals and acks alike were decided against state that was
                // not confirmed: the client retries with the same id.
                Answer::Done(_) | Answer::Refused(_) if !confirmed => {
                    let id = reply_id(&reply);
                    Err(ErrorDto::new(id, ErrorCode::Unavailable, "the record could not be written; retry with the same id"))
                }
                Answer::Done(ack) => Ok(ack),
                Answer::Refused(e) => Err(e),
            };
            self.reply(reply, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wz_domain::{Delegate, DelegateId, DelegateLevel, Limits, Phase, SessionDef, Unit, UnitId, Venue, VenueId, VenueKind};

    fn session() -> Session {
        let venue = Venue { id: VenueId::new("main"), name: "主会场".into(), kind: VenueKind::Main };
        let delegate =
            |id: &str| Delegate { id: DelegateId::new(id), name: id.into(), level: DelegateLevel::ALL[0], venue: VenueId::new("main") };
        let def = SessionDef {
            id: "s".into(),
            title: "t".into(),
            theme: "t".into(),
            venues: vec![venue],
            delegates: vec![delegate("d1"), delegate("d2")],
            units: vec![Unit { id: UnitId::new("u1"), name: "u".into() }],
            topics: vec![],
            limits: Limits::default(),
            time_zone: Default::default(),
            check_in: Default::default(),
        };
        let mut s = Session::new(def);
        s.apply(&Event::PhaseChanged { to: Phase::CheckIn, at: Millis(1) }).unwrap();
        s.apply(&Event::CheckedIn { delegate: DelegateId::new("d1"), by_operator: false, at: Millis(2) }).unwrap();
        s
    }

    /// Whatever a failing event leaves half-done, the state after the failed
    /// command is exactly the batch start plus the batch's earlier events.
    #[test]
    fn a_failed_apply_restores_the_state_before_the_command() {
        let start = session();
        let earlier = Event::CheckedIn { delegate: DelegateId::new("d2"), by_operator: false, at: Millis(3) };
        let mut state = start.clone();
        apply_command(&mut state, &start, std::iter::empty(), std::slice::from_ref(&earlier)).unwrap();
        let expected = state.clone();
        // d1 checks in again with another time: an event that fails (and,
        // before domain apply was made atomic, overwrote d1's record first).
        let bad = [
            Event::PhaseChanged { to: Phase::CheckIn, at: Millis(4) },
            Event::CheckedIn { delegate: DelegateId::new("d1"), by_operator: true, at: Millis(5) },
        ];
        let r = apply_command(&mut state, &start, std::iter::once(&earlier), &bad);
        assert!(r.is_err(), "the second check-in of d1 does not apply");
        assert_eq!(state, expected, "the state is exactly as before the failed command");
    }
}
