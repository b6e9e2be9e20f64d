//! Session state and [`Session::apply`].
//!
//! State is changed only here, one event at a time. `apply` trusts that the
//! event came from [`Session::decide`] (or from the store, which only ever
//! holds such events); it still refuses events that do not fit, so a corrupt
//! log is reported instead of silently producing wrong results.

use crate::definition::{Delegate, SessionDef};
use crate::event::{Change, Event};
use crate::ids::{
    BallotId, CalendarDate, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId,
};
use crate::tally::{Rating, Results, Tally, Turnout};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// preparing → check_in → questioning → evaluation → closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Preparing,
    CheckIn,
    Questioning,
    Evaluation,
    Closed,
}

impl Phase {
    /// The only phase that may follow this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Preparing => Some(Phase::CheckIn),
            Phase::CheckIn => Some(Phase::Questioning),
            Phase::Questioning => Some(Phase::Evaluation),
            Phase::Evaluation => Some(Phase::Closed),
            Phase::Closed => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuestionStatus {
    Pending,
    Approved,
    Rejected,
    Merged,
    Queued,
    OnFloor,
    Answered,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub what: String,
    pub unit: UnitId,
    pub due: CalendarDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub unit: UnitId,
    pub official: String,
    pub summary: String,
    pub commitments: Vec<Commitment>,
    pub at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub asker: DelegateId,
    pub venue: VenueId,
    pub text: String,
    pub by_operator: bool,
    pub at: Millis,
    pub answer: Option<Answer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    /// Everyone who asked it; merging keeps the askers of both questions.
    pub askers: Vec<DelegateId>,
    /// Venues of the askers, in order of first appearance.
    pub venues: Vec<VenueId>,
    pub topic: TopicId,
    pub unit: UnitId,
    pub text: String,
    /// The wording as submitted, kept when the moderator edits it.
    pub original_text: Option<String>,
    pub status: QuestionStatus,
    /// Once approved a question is public for good (even if later merged).
    pub public: bool,
    pub by_operator: bool,
    pub submitted_at: Millis,
    pub seconders: BTreeSet<DelegateId>,
    pub reject_reason: Option<String>,
    pub merged_into: Option<QuestionId>,
    pub merged_from: Vec<QuestionId>,
    pub answer: Option<Answer>,
    pub follow_ups: Vec<FollowUp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloorRequest {
    pub question: QuestionId,
    pub venue: VenueId,
    pub at: Millis,
}

/// What is on the floor. The countdown is server-authoritative: clients render
/// `countdown_started_at + countdown_seconds` against their own clock offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Floor {
    pub question: QuestionId,
    pub venue: VenueId,
    pub granted_at: Millis,
    pub countdown_started_at: Millis,
    pub countdown_seconds: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvaluationStatus {
    Open,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub evaluation: EvaluationId,
    pub unit: UnitId,
    pub delegate: DelegateId,
    pub venue: VenueId,
    pub ballot_id: BallotId,
    pub rating: Rating,
    pub at: Millis,
    /// Sequence number of the accepted event: the receipt refers to it.
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub id: EvaluationId,
    pub units: Vec<UnitId>,
    pub status: EvaluationStatus,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub tally: Tally,
    /// Accepted ballots keyed by (delegate, unit): one each, final.
    pub ballots: BTreeMap<(DelegateId, UnitId), Ballot>,
    /// Frozen at close.
    pub results: Option<Results>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckIn {
    pub at: Millis,
    pub by_operator: bool,
}

/// The whole live state of one session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub(crate) def: Arc<SessionDef>,
    pub(crate) seq: u64,
    pub(crate) phase: Phase,
    /// Shared copy-on-write: changes only when delegates are imported.
    pub(crate) delegates: Arc<BTreeMap<DelegateId, Delegate>>,
    pub(crate) checked_in: BTreeMap<DelegateId, CheckIn>,
    pub(crate) questions: BTreeMap<QuestionId, Question>,
    pub(crate) queue: Vec<QuestionId>,
    pub(crate) floor_requests: Vec<FloorRequest>,
    pub(crate) floor: Option<Floor>,
    pub(crate) next_follow_up: u32,
    /// Shared copy-on-write: a clone of the session (the hub takes one per
    /// group commit, to restore on a failed write) copies only the evaluation
    /// being changed, never the closed ones with all their ballots.
    pub(crate) evaluations: BTreeMap<EvaluationId, Arc<Evaluation>>,
}

/// A stored event that does not fit the state it is applied to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} does not apply: {reason}")]
pub struct ApplyError {
    pub seq: u64,
    pub reason: String,
}

impl Session {
    /// A new session in the preparing phase. The definition must be valid.
    pub fn new(def: SessionDef) -> Self {
        let delegates = Arc::new(def.delegates.iter().map(|d| (d.id.clone(), d.clone())).collect());
        Self {
            def: Arc::new(def),
            seq: 0,
            phase: Phase::Preparing,
            delegates,
            checked_in: BTreeMap::new(),
            questions: BTreeMap::new(),
            queue: Vec::new(),
            floor_requests: Vec::new(),
            floor: None,
            next_follow_up: 1,
            evaluations: BTreeMap::new(),
        }
    }

    // ---- reads -------------------------------------------------------------

    pub fn def(&self) -> &SessionDef {
        &self.def
    }
    /// The definition as a shared handle: cloning it costs a reference count,
    /// not a copy of every delegate.
    pub fn def_shared(&self) -> Arc<SessionDef> {
        Arc::clone(&self.def)
    }
    /// Number of events applied so far (the last sequence number).
    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn phase(&self) -> Phase {
        self.phase
    }
    pub fn delegates(&self) -> impl Iterator<Item = &Delegate> {
        self.delegates.values()
    }
    pub fn delegate(&self, id: &DelegateId) -> Option<&Delegate> {
        self.delegates.get(id)
    }
    pub fn checked_in(&self) -> &BTreeMap<DelegateId, CheckIn> {
        &self.checked_in
    }
    pub fn is_checked_in(&self, id: &DelegateId) -> bool {
        self.checked_in.contains_key(id)
    }
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.questions.values()
    }
    pub fn question(&self, id: QuestionId) -> Option<&Question> {
        self.questions.get(&id)
    }
    pub fn queue(&self) -> &[QuestionId] {
        &self.queue
    }
    pub fn floor_requests(&self) -> &[FloorRequest] {
        &self.floor_requests
    }
    pub fn floor(&self) -> Option<&Floor> {
        self.floor.as_ref()
    }
    pub fn evaluations(&self) -> impl Iterator<Item = &Evaluation> {
        self.evaluations.values().map(|e| &**e)
    }
    pub fn evaluation(&self, id: EvaluationId) -> Option<&Evaluation> {
        self.evaluations.get(&id).map(|e| &**e)
    }
    pub fn open_evaluation(&self) -> Option<&Evaluation> {
        self.evaluations.values().map(|e| &**e).find(|e| e.status == EvaluationStatus::Open)
    }
    /// (present, roster) of a venue.
    pub fn presence(&self, venue: &VenueId) -> (u32, u32) {
        let roster = self.delegates.values().filter(|d| &d.venue == venue).count() as u32;
        let present =
            self.checked_in.keys().filter(|id| self.delegates.get(*id).is_some_and(|d| &d.venue == venue)).count();
        (present as u32, roster)
    }
    /// Live turnout of an evaluation; frozen once it is closed.
    pub fn turnout(&self, ev: &Evaluation) -> Turnout {
        if let Some(r) = &ev.results {
            return r.turnout.clone();
        }
        self.live_turnout(ev)
    }

    fn live_turnout(&self, ev: &Evaluation) -> Turnout {
        let mut t = Turnout::default();
        for v in &self.def.venues {
            let (present, _) = self.presence(&v.id);
            let voted = ev.tally.voted(&v.id);
            t.by_venue.insert(v.id.clone(), (voted, present));
            t.voted += voted;
            t.eligible += present;
        }
        t
    }

    // ---- apply -------------------------------------------------------------

    /// Applies one event and returns what it changed.
    pub fn apply(&mut self, event: &Event) -> Result<Vec<Change>, ApplyError> {
        let seq = self.seq + 1;
        let bad = |reason: &str| ApplyError { seq, reason: reason.to_owned() };
        let mut changes = Vec::with_capacity(2);
        match event {
            Event::PhaseChanged { to, .. } => {
                self.phase = *to;
                changes.push(Change::Phase(*to));
            }
            Event::DelegatesImported { delegates, .. } => {
                if delegates.iter().any(|d| self.delegates.contains_key(&d.id)) {
                    return Err(bad("duplicate delegate"));
                }
                let roster = Arc::make_mut(&mut self.delegates);
                for d in delegates {
                    roster.insert(d.id.clone(), d.clone());
                }
                changes.push(Change::Roster(delegates.clone()));
                let venues: BTreeSet<&VenueId> = delegates.iter().map(|d| &d.venue).collect();
                for v in venues {
                    let (present, roster) = self.presence(v);
                    changes.push(Change::Presence { venue: v.clone(), present, roster });
                }
            }
            Event::CheckedIn { delegate, by_operator, at } => {
                let venue = self.delegates.get(delegate).ok_or_else(|| bad("unknown delegate"))?.venue.clone();
                if self.checked_in.insert(delegate.clone(), CheckIn { at: *at, by_operator: *by_operator }).is_some() {
                    return Err(bad("delegate checked in twice"));
                }
                let (present, roster) = self.presence(&venue);
                changes.push(Change::CheckIn { delegate: delegate.clone(), venue: venue.clone(), at: *at });
                changes.push(Change::Presence { venue, present, roster });
            }
            Event::QuestionSubmitted { question, asker, topic, unit, text, by_operator, at } => {
                if question.0 as usize != self.questions.len() + 1 {
                    return Err(bad("question ids out of order"));
                }
                let venue = self.delegates.get(asker).ok_or_else(|| bad("unknown asker"))?.venue.clone();
                let q = Question {
                    id: *question,
                    askers: vec![asker.clone()],
                    venues: vec![venue],
                    topic: topic.clone(),
                    unit: unit.clone(),
                    text: text.clone(),
                    original_text: None,
                    status: QuestionStatus::Pending,
                    public: false,
                    by_operator: *by_operator,
                    submitted_at: *at,
                    seconders: BTreeSet::new(),
                    reject_reason: None,
                    merged_into: None,
                    merged_from: Vec::new(),
                    answer: None,
                    follow_ups: Vec::new(),
                };
                changes.push(Change::Question(Box::new(q.clone())));
                self.questions.insert(*question, q);
            }
            Event::QuestionApproved { question, .. } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                q.status = QuestionStatus::Approved;
                q.public = true;
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::QuestionRejected { question, reason, .. } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                q.status = QuestionStatus::Rejected;
                q.reject_reason = Some(reason.clone());
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::QuestionMerged { question, into, .. } => {
                // Check both ends before changing anything: a refused event leaves no trace.
                if question == into || !self.questions.contains_key(into) {
                    return Err(bad("unknown merge target"));
                }
                let from = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                from.status = QuestionStatus::Merged;
                from.merged_into = Some(*into);
                let (askers, venues, seconders) = (from.askers.clone(), from.venues.clone(), from.seconders.clone());
                let from = Change::Question(Box::new(from.clone()));
                let to = self.question_mut(*into).expect("checked above");
                for a in askers {
                    if !to.askers.contains(&a) {
                        to.askers.push(a);
                    }
                }
                for v in venues {
                    if !to.venues.contains(&v) {
                        to.venues.push(v);
                    }
                }
                // Support carries over; an asker does not second their own question.
                for s in seconders {
                    if !to.askers.contains(&s) {
                        to.seconders.insert(s);
                    }
                }
                let asking: Vec<DelegateId> = to.askers.clone();
                to.seconders.retain(|s| !asking.contains(s));
                to.merged_from.push(*question);
                changes.push(from);
                changes.push(Change::Question(Box::new(to.clone())));
                let before = self.queue.len();
                self.queue.retain(|q| q != question);
                if before != self.queue.len() {
                    changes.push(Change::Queue(self.queue.clone()));
                }
                let before = self.floor_requests.len();
                self.floor_requests.retain(|r| r.question != *question);
                if before != self.floor_requests.len() {
                    changes.push(Change::FloorRequests(self.floor_requests.clone()));
                }
            }
            Event::QuestionEdited { question, text, .. } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                if q.original_text.is_none() {
                    q.original_text = Some(std::mem::replace(&mut q.text, text.clone()));
                } else {
                    q.text = text.clone();
                }
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::QuestionQueued { question, .. } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                q.status = QuestionStatus::Queued;
                changes.push(Change::Question(Box::new(q.clone())));
                self.queue.push(*question);
                changes.push(Change::Queue(self.queue.clone()));
            }
            Event::QueueReordered { order, .. } => {
                self.queue = order.clone();
                changes.push(Change::Queue(self.queue.clone()));
            }
            Event::QuestionSeconded { question, delegate, .. } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                q.seconders.insert(delegate.clone());
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::FloorRequested { question, venue, at } => {
                self.floor_requests.push(FloorRequest { question: *question, venue: venue.clone(), at: *at });
                changes.push(Change::FloorRequests(self.floor_requests.clone()));
            }
            Event::FloorGranted { question, venue, answer_seconds, at } => {
                let q = self.question_mut(*question).ok_or_else(|| bad("unknown question"))?;
                q.status = QuestionStatus::OnFloor;
                changes.push(Change::Question(Box::new(q.clone())));
                let floor = Floor {
                    question: *question,
                    venue: venue.clone(),
                    granted_at: *at,
                    countdown_started_at: *at,
                    countdown_seconds: *answer_seconds,
                };
                self.floor = Some(floor.clone());
                changes.push(Change::Floor(Some(floor)));
                if self.queue.contains(question) {
                    self.queue.retain(|q| q != question);
                    changes.push(Change::Queue(self.queue.clone()));
                }
                let before = self.floor_requests.len();
                self.floor_requests.retain(|r| r.question != *question);
                if before != self.floor_requests.len() {
                    changes.push(Change::FloorRequests(self.floor_requests.clone()));
                }
            }
            Event::CountdownStarted { seconds, at } => {
                let f = self.floor.as_mut().ok_or_else(|| bad("nothing on the floor"))?;
                f.countdown_started_at = *at;
                f.countdown_seconds = *seconds;
                changes.push(Change::Floor(Some(f.clone())));
            }
            Event::FollowUpAdded { follow_up, asker, text, by_operator, at } => {
                if follow_up.0 != self.next_follow_up {
                    return Err(bad("follow-up ids out of order"));
                }
                let venue = self.delegates.get(asker).ok_or_else(|| bad("unknown asker"))?.venue.clone();
                let on_floor = self.floor.as_ref().ok_or_else(|| bad("nothing on the floor"))?.question;
                let q = self.questions.get_mut(&on_floor).ok_or_else(|| bad("unknown question"))?;
                self.next_follow_up += 1;
                q.follow_ups.push(FollowUp {
                    id: *follow_up,
                    asker: asker.clone(),
                    venue,
                    text: text.clone(),
                    by_operator: *by_operator,
                    at: *at,
                    answer: None,
                });
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::AnswerRecorded { follow_up, unit, official, summary, commitments, at } => {
                let on_floor = self.floor.as_ref().ok_or_else(|| bad("nothing on the floor"))?.question;
                let q = self.question_mut(on_floor).ok_or_else(|| bad("unknown question"))?;
                let answer = Answer {
                    unit: unit.clone(),
                    official: official.clone(),
                    summary: summary.clone(),
                    commitments: commitments.clone(),
                    at: *at,
                };
                match follow_up {
                    None => q.answer = Some(answer),
                    Some(f) => {
                        let f = q.follow_ups.iter_mut().find(|x| x.id == *f).ok_or_else(|| bad("unknown follow-up"))?;
                        f.answer = Some(answer);
                    }
                }
                changes.push(Change::Question(Box::new(q.clone())));
            }
            Event::FloorEnded { .. } => {
                let f = self.floor.take().ok_or_else(|| bad("nothing on the floor"))?;
                let q = self.question_mut(f.question).ok_or_else(|| bad("unknown question"))?;
                q.status = QuestionStatus::Answered;
                changes.push(Change::Question(Box::new(q.clone())));
                changes.push(Change::Floor(None));
            }
            Event::EvaluationOpened { evaluation, units, at } => {
                if evaluation.0 as usize != self.evaluations.len() + 1 {
                    return Err(bad("evaluation ids out of order"));
                }
                let ev = Evaluation {
                    id: *evaluation,
                    units: units.clone(),
                    status: EvaluationStatus::Open,
                    opened_at: *at,
                    closed_at: None,
                    tally: Tally::new(units),
                    ballots: BTreeMap::new(),
                    results: None,
                };
                changes.push(Change::Evaluation(Box::new(ev.clone())));
                self.evaluations.insert(*evaluation, Arc::new(ev));
            }
            Event::BallotCast { evaluation, unit, delegate, ballot_id, rating, at } => {
                let d = self.delegates.get(delegate).ok_or_else(|| bad("unknown delegate"))?;
                let (venue, level) = (d.venue.clone(), d.level);
                let ev = Arc::make_mut(self.evaluations.get_mut(evaluation).ok_or_else(|| bad("unknown evaluation"))?);
                if ev.status != EvaluationStatus::Open {
                    return Err(bad("ballot in a closed evaluation"));
                }
                let ballot = Ballot {
                    evaluation: *evaluation,
                    unit: unit.clone(),
                    delegate: delegate.clone(),
                    venue: venue.clone(),
                    ballot_id: ballot_id.clone(),
                    rating: *rating,
                    at: *at,
                    seq,
                };
                let key = (delegate.clone(), unit.clone());
                if ev.ballots.contains_key(&key) {
                    return Err(bad("second ballot for the same delegate and unit"));
                }
                if !ev.units.contains(unit) {
                    return Err(bad("ballot for a unit not in the evaluation"));
                }
                ev.ballots.insert(key, ballot.clone());
                ev.tally.count(unit, &venue, level, delegate, *rating);
                changes.push(Change::Ballot(ballot));
            }
            Event::EvaluationClosed { evaluation, at } => {
                let ev = self.evaluations.get(evaluation).ok_or_else(|| bad("unknown evaluation"))?;
                if ev.status == EvaluationStatus::Closed {
                    return Err(bad("evaluation closed twice"));
                }
                let turnout = self.live_turnout(ev);
                let mut eligible_by_level = [0u32; 5];
                for id in self.checked_in.keys() {
                    if let Some(d) = self.delegates.get(id) {
                        eligible_by_level[d.level.index()] += 1;
                    }
                }
                let ev = Arc::make_mut(self.evaluations.get_mut(evaluation).expect("looked up above"));
                ev.status = EvaluationStatus::Closed;
                ev.closed_at = Some(*at);
                ev.results = Some(Results { tally: ev.tally.clone(), turnout, eligible_by_level });
                changes.push(Change::Evaluation(Box::new(ev.clone())));
            }
        }
        self.seq = seq;
        Ok(changes)
    }

    /// Rebuilds a session from its definition and its whole event log.
    pub fn replay<'a>(def: SessionDef, events: impl IntoIterator<Item = &'a Event>) -> Result<Self, ApplyError> {
        let mut s = Self::new(def);
        for e in events {
            s.apply(e)?;
        }
        Ok(s)
    }

    pub(crate) fn question_mut(&mut self, id: QuestionId) -> Option<&mut Question> {
        self.questions.get_mut(&id)
    }
}

