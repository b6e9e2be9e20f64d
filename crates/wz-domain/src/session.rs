//! Session state and its read accessors.
//!
//! The state changes only through [`Session::apply`] (in `apply.rs`), one
//! event at a time; commands are judged by [`Session::decide`] (`decide.rs`).

use crate::assignment::{Assignments, Rules};
use crate::definition::{Delegate, DelegateLevel, SessionDef};
use crate::event::Event;
use crate::ids::{BallotId, CalendarDate, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId};
use crate::tally::{Rating, Results, Tally, Turnout};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// preparing → check_in → questioning → evaluation → closed → archived.
///
/// `Closed` ends the live session (its results are frozen) and starts the
/// follow-up: the assignment list is worked on, for months if need be.
/// `Archived` is the end of the follow-up, once the office has closed every
/// item: the session is read-only from then on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Preparing,
    CheckIn,
    Questioning,
    Evaluation,
    Closed,
    Archived,
}

impl Phase {
    /// The only phase that may follow this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Preparing => Some(Phase::CheckIn),
            Phase::CheckIn => Some(Phase::Questioning),
            Phase::Questioning => Some(Phase::Evaluation),
            Phase::Evaluation => Some(Phase::Closed),
            Phase::Closed => Some(Phase::Archived),
            Phase::Archived => None,
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
    /// Paused (issue 10): the whole seconds that were left; `None` while it runs.
    pub paused_remaining: Option<u32>,
    /// Who speaks (issue 10): the question's askers from the floor's venue,
    /// as announced when the floor is granted (name and level, no id).
    pub speakers: Vec<Speaker>,
}

/// A delegate as the hall hears them announced: name and level only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Speaker {
    pub name: String,
    pub level: DelegateLevel,
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
    /// Pending check-in requests (policy `Confirmed`): when each was made.
    pub(crate) check_in_requests: BTreeMap<DelegateId, Millis>,
    pub(crate) questions: BTreeMap<QuestionId, Question>,
    pub(crate) queue: Vec<QuestionId>,
    pub(crate) floor_requests: Vec<FloorRequest>,
    pub(crate) floor: Option<Floor>,
    pub(crate) next_follow_up: u32,
    /// Shared copy-on-write: a clone of the session (the hub takes one per
    /// group commit, to restore on a failed write) copies only the evaluation
    /// being changed, never the closed ones with all their ballots.
    pub(crate) evaluations: BTreeMap<EvaluationId, Arc<Evaluation>>,
    /// The assignment list (the follow-up), shared copy-on-write like the
    /// evaluations: a batch that does not touch it does not copy it.
    pub(crate) assignments: Arc<Assignments>,
    /// Announcements to the venues, shared copy-on-write like the list.
    pub(crate) announcements: Arc<crate::announce::Announcements>,
    /// The session's secret for unlinkable receipt codes; see [`Seal`].
    pub(crate) seal: Option<Seal>,
}

/// A session's secret (32 random bytes, chosen by the hub when it creates
/// the session and kept in the stored header, never in an event or a
/// message). Receipt codes are keyed with it, so the public record can list
/// every choice under its receipt code without anyone who lacks the seal
/// being able to recompute a code from who voted, on what, and when.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seal(pub [u8; 32]);

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never printed: a log line must not let anyone recompute codes.
        f.write_str("Seal(..)")
    }
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
        let rules = Rules { due_soon_days: def.limits.due_soon_days, ..Rules::default() };
        let assignments = Arc::new(Assignments::new(rules, def.units.iter().map(|u| u.id.clone())));
        Self {
            def: Arc::new(def),
            seq: 0,
            phase: Phase::Preparing,
            delegates,
            checked_in: BTreeMap::new(),
            check_in_requests: BTreeMap::new(),
            questions: BTreeMap::new(),
            queue: Vec::new(),
            floor_requests: Vec::new(),
            floor: None,
            next_follow_up: 1,
            evaluations: BTreeMap::new(),
            assignments,
            announcements: Arc::default(),
            seal: None,
        }
    }

    /// The same session keyed with its seal (the hub sets it on create and load).
    pub fn with_seal(mut self, seal: Seal) -> Self {
        self.seal = Some(seal);
        self
    }

    /// Every announcement, oldest first.
    pub fn announcements(&self) -> &crate::announce::Announcements {
        &self.announcements
    }

    /// The session's seal; `None` for a session stored before seals existed.
    pub fn seal(&self) -> Option<&Seal> {
        self.seal.as_ref()
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
    /// Pending check-in requests (policy `Confirmed`), by delegate.
    pub fn check_in_requests(&self) -> &BTreeMap<DelegateId, Millis> {
        &self.check_in_requests
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
    /// The assignment list.
    pub fn assignments(&self) -> &Assignments {
        &self.assignments
    }
    /// The session's date at `now`, in its time zone (deadlines are dates there).
    pub fn today(&self, now: Millis) -> CalendarDate {
        let local = now.0 as i64 + i64::from(self.def.time_zone.utc_offset_minutes) * 60_000;
        let days = local.div_euclid(86_400_000);
        // Clamped to the dates the domain knows (2000–2999): a test's clock
        // at 1970 is "the first day".
        CalendarDate::from_days(days).unwrap_or(if days < 10_957 {
            CalendarDate { year: 2000, month: 1, day: 1 }
        } else {
            CalendarDate { year: 2999, month: 12, day: 31 }
        })
    }
    /// (present, roster) of a venue.
    pub fn presence(&self, venue: &VenueId) -> (u32, u32) {
        let roster = self.delegates.values().filter(|d| &d.venue == venue).count() as u32;
        let present = self.checked_in.keys().filter(|id| self.delegates.get(*id).is_some_and(|d| &d.venue == venue)).count();
        (present as u32, roster)
    }
    /// `(present, roster)` of every venue with a delegate on its roster, in
    /// one pass over the roster (stats and turnout ask for all venues on
    /// every tick; one [`Session::presence`] per venue was a pass each).
    pub fn presence_by_venue(&self) -> BTreeMap<&VenueId, (u32, u32)> {
        let mut m: BTreeMap<&VenueId, (u32, u32)> = BTreeMap::new();
        for d in self.delegates.values() {
            let e = m.entry(&d.venue).or_default();
            e.1 += 1;
            if self.checked_in.contains_key(&d.id) {
                e.0 += 1;
            }
        }
        m
    }

    /// Live turnout of an evaluation; frozen once it is closed.
    pub fn turnout(&self, ev: &Evaluation) -> Turnout {
        if let Some(r) = &ev.results {
            return r.turnout.clone();
        }
        self.live_turnout(ev)
    }

    /// Checked-in delegates of `venue` without a ballot in `ev` yet: whom
    /// the venue's station prompts (names only; never a choice).
    pub fn not_voted(&self, ev: &Evaluation, venue: &VenueId) -> Vec<&Delegate> {
        // The tally keeps who of each venue has voted.
        let voted = ev.tally.voters.get(venue);
        self.delegates
            .values()
            .filter(|d| &d.venue == venue && self.checked_in.contains_key(&d.id) && !voted.is_some_and(|v| v.contains(&d.id)))
            .collect()
    }

    pub(crate) fn live_turnout(&self, ev: &Evaluation) -> Turnout {
        let mut t = Turnout::default();
        let presence = self.presence_by_venue();
        for v in &self.def.venues {
            let (present, _) = presence.get(&v.id).copied().unwrap_or_default();
            let voted = ev.tally.voted(&v.id);
            t.by_venue.insert(v.id.clone(), (voted, present));
            t.voted += voted;
            t.eligible += present;
        }
        t
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
