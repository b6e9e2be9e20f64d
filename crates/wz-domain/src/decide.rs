//! [`Session::decide`]: who may do what, when; one small function per command.
//!
//! `decide` is pure: it inspects the state and either refuses with a typed
//! [`CommandError`] or returns the events that would carry the command out.
//! The acting [`Viewer`] comes from the authenticated connection, never from
//! the command itself.

use crate::command::{Command, CommitmentDraft, MAX_BALLOT_ID, Outcome, Reply};
use crate::definition::{Delegate, SessionDef};
use crate::error::{AlreadyDone, CommandError, Forbidden, Invalid, InvalidState, NotFound};
use crate::event::Event;
use crate::ids::{BallotId, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId};
use crate::session::{Commitment, EvaluationStatus, Phase, Question, QuestionStatus, Session};
use crate::tally::Rating;
use crate::text::{self, Lines};
use crate::visibility::Viewer;
use std::collections::BTreeSet;

type R = Result<Outcome, CommandError>;

/// Normalises, strips and bounds free text ([`crate::text`]): what is
/// stored is the cleaned text, and the limit counts its characters.
pub(crate) fn text(field: &'static str, s: &str, lines: Lines, max: usize) -> Result<String, CommandError> {
    text::clean(s, lines, max).map_err(|e| Invalid::text(field, e).into())
}

impl Session {
    /// Decides what `cmd`, issued by `actor` at `now`, would do.
    pub fn decide(&self, actor: &Viewer, cmd: &Command, now: Millis) -> R {
        let outcome = self.decide_inner(actor, cmd, now)?;
        debug_assert!(
            outcome.events.is_empty() || outcome.reply == Reply::of_events(&outcome.events),
            "a reply must be derivable from its events"
        );
        Ok(outcome)
    }

    fn decide_inner(&self, actor: &Viewer, cmd: &Command, at: Millis) -> R {
        if matches!(actor, Viewer::Screen | Viewer::Auditor) {
            return Err(Forbidden::ReadOnly.into());
        }
        if self.phase == Phase::Archived {
            return Err(InvalidState::Phase(Phase::Archived).into());
        }
        match cmd {
            Command::AdvancePhase { to } => return self.advance_phase(actor, *to, at),
            Command::DraftAssignments => return self.draft_assignments(actor, at),
            Command::Assignment(c) => return self.assignment(actor, c, at),
            Command::Announcement(c) => {
                let venues = self.def.venues.iter().map(|v| v.id.clone()).collect();
                let events: Vec<Event> = self.announcements.decide(actor, c, &venues, at)?.into_iter().map(Event::Announcement).collect();
                return Ok(Outcome { reply: Reply::of_events(&events), events });
            }
            _ => {}
        }
        // The live session's commands are not the office's or a unit's.
        if matches!(actor, Viewer::Office | Viewer::Unit(_)) {
            return Err(Forbidden::Role.into());
        }
        match cmd {
            Command::ImportDelegates { delegates } => self.import_delegates(actor, delegates, at),
            Command::CheckIn { delegate } => self.check_in(actor, delegate, at),
            Command::UndoCheckIn { delegate, reason } => self.undo_check_in(actor, delegate, reason, at),
            Command::RequestCheckIn => self.request_check_in(actor, at),
            Command::DeclineCheckIn { delegate, reason } => self.decline_check_in(actor, delegate, reason.as_deref(), at),
            Command::SubmitQuestion { on_behalf_of, topic, unit, text } => {
                self.submit_question(actor, on_behalf_of.as_ref(), topic, unit, text, at)
            }
            Command::ApproveQuestion { question } => self.approve_question(actor, *question, at),
            Command::RejectQuestion { question, reason } => self.reject_question(actor, *question, reason, at),
            Command::MergeQuestion { question, into } => self.merge_question(actor, *question, *into, at),
            Command::EditQuestion { question, text } => self.edit_question(actor, *question, text, at),
            Command::QueueQuestion { question } => self.queue_question(actor, *question, at),
            Command::ReorderQueue { order } => self.reorder_queue(actor, order, at),
            Command::SecondQuestion { question } => self.second_question(actor, *question, at),
            Command::RequestFloor { question } => self.request_floor(actor, *question, at),
            Command::GrantFloor { venue, question, answer_seconds } => self.grant_floor(actor, venue, *question, *answer_seconds, at),
            Command::StartCountdown { seconds } => self.start_countdown(actor, *seconds, at),
            Command::PauseCountdown => self.pause_countdown(actor, at),
            Command::ResumeCountdown => self.resume_countdown(actor, at),
            Command::ExtendCountdown { seconds } => self.extend_countdown(actor, *seconds, at),
            Command::AddFollowUp { on_behalf_of, text } => self.add_follow_up(actor, on_behalf_of.as_ref(), text, at),
            Command::RecordAnswer { follow_up, unit, official, summary, commitments } => {
                self.record_answer(actor, *follow_up, unit, official, summary, commitments, at)
            }
            Command::EndFloor => self.end_floor(actor, at),
            Command::OpenEvaluation { units } => self.open_evaluation_cmd(actor, units, at),
            Command::CastBallot { ballot_id, evaluation, unit, rating } => {
                self.cast_ballot(actor, ballot_id, *evaluation, unit, *rating, at)
            }
            Command::CloseEvaluation { evaluation } => self.close_evaluation(actor, *evaluation, at),
            Command::AdvancePhase { .. } | Command::DraftAssignments | Command::Assignment(_) | Command::Announcement(_) => {
                unreachable!("decided above")
            }
        }
    }

    fn advance_phase(&self, actor: &Viewer, to: Phase, at: Millis) -> R {
        if to == Phase::Archived {
            return self.archive(actor, at);
        }
        moderator(actor)?;
        if to == self.phase {
            return Err(AlreadyDone::Phase.into());
        }
        if self.phase.next() != Some(to) {
            return Err(InvalidState::Transition { from: self.phase, to }.into());
        }
        if self.floor.is_some() {
            return Err(InvalidState::FloorOccupied.into());
        }
        if self.open_evaluation().is_some() {
            return Err(InvalidState::EvaluationOpen.into());
        }
        let mut events = vec![Event::PhaseChanged { to, at }];
        if to == Phase::Closed {
            // The close drafts the assignment list (the office edits it next).
            events.extend(self.drafts(at));
        }
        Ok(Outcome { events, reply: Reply::Done })
    }

    fn import_delegates(&self, actor: &Viewer, delegates: &[Delegate], at: Millis) -> R {
        moderator(actor)?;
        self.phase_in(&[Phase::Preparing])?;
        let existing: BTreeSet<DelegateId> = self.delegates.keys().cloned().collect();
        // The names are stored as cleaned (NFC, trimmed), like a definition's.
        let mut delegates = delegates.to_vec();
        SessionDef::normalize_delegates(&mut delegates).map_err(Invalid::from)?;
        SessionDef::validate_delegates(&self.def, &delegates, &existing).map_err(Invalid::from)?;
        Ok(Outcome::one(Event::DelegatesImported { delegates, at }))
    }

    fn submit_question(&self, actor: &Viewer, on_behalf_of: Option<&DelegateId>, topic: &TopicId, unit: &UnitId, t: &str, at: Millis) -> R {
        let lim = self.def.limits;
        self.phase_in(&[Phase::Preparing, Phase::CheckIn, Phase::Questioning])?;
        let (asker, by_operator) = self.speaker(actor, on_behalf_of)?;
        self.def.topic(topic).ok_or_else(|| NotFound::Topic(topic.clone()))?;
        self.def.unit(unit).ok_or_else(|| NotFound::Unit(unit.clone()))?;
        let t = text("text", t, Lines::Multi, lim.question_chars)?;
        let asked = self.questions.values().filter(|q| q.askers.first() == Some(&asker)).count();
        if asked >= lim.questions_per_delegate {
            return Err(Invalid::TooMany { what: "questions from one delegate", max: lim.questions_per_delegate }.into());
        }
        let question = QuestionId(self.questions.len() as u32 + 1);
        Ok(Outcome {
            events: vec![Event::QuestionSubmitted { question, asker, topic: topic.clone(), unit: unit.clone(), text: t, by_operator, at }],
            reply: Reply::Question(question),
        })
    }

    fn approve_question(&self, actor: &Viewer, question: QuestionId, at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        let q = self.get_question(question)?;
        if q.status != QuestionStatus::Pending {
            return Err(InvalidState::NotPending(question).into());
        }
        Ok(Outcome::one(Event::QuestionApproved { question, at }))
    }

    fn reject_question(&self, actor: &Viewer, question: QuestionId, reason: &str, at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        let q = self.get_question(question)?;
        if q.status != QuestionStatus::Pending {
            return Err(InvalidState::NotPending(question).into());
        }
        let reason = text("reason", reason, Lines::Multi, self.def.limits.reason_chars)?;
        Ok(Outcome::one(Event::QuestionRejected { question, reason, at }))
    }

    fn merge_question(&self, actor: &Viewer, question: QuestionId, into: QuestionId, at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        if question == into {
            return Err(Invalid::MergeIntoSelf.into());
        }
        let q = self.get_question(question)?;
        if !matches!(q.status, QuestionStatus::Pending | QuestionStatus::Approved | QuestionStatus::Queued) {
            return Err(InvalidState::Closed(question).into());
        }
        let target = self.get_question(into)?;
        if !open_for_changes(target) {
            return Err(InvalidState::Closed(into).into());
        }
        // A public question may only go into another public one, or
        // screens would show "merged into" a question they cannot see.
        if q.public && !target.public {
            return Err(InvalidState::NotApproved(into).into());
        }
        Ok(Outcome::one(Event::QuestionMerged { question, into, at }))
    }

    fn edit_question(&self, actor: &Viewer, question: QuestionId, t: &str, at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        let q = self.get_question(question)?;
        if !open_for_changes(q) {
            return Err(InvalidState::Closed(question).into());
        }
        let t = text("text", t, Lines::Multi, self.def.limits.question_chars)?;
        Ok(Outcome::one(Event::QuestionEdited { question, text: t, at }))
    }

    fn queue_question(&self, actor: &Viewer, question: QuestionId, at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        let q = self.get_question(question)?;
        if q.status != QuestionStatus::Approved {
            return Err(InvalidState::NotApproved(question).into());
        }
        Ok(Outcome::one(Event::QuestionQueued { question, at }))
    }

    fn reorder_queue(&self, actor: &Viewer, order: &[QuestionId], at: Millis) -> R {
        moderator(actor)?;
        self.phase_before_close()?;
        let mut a = order.to_vec();
        let mut b = self.queue.clone();
        a.sort();
        b.sort();
        if a != b {
            return Err(InvalidState::QueueMismatch.into());
        }
        Ok(Outcome::one(Event::QueueReordered { order: order.to_vec(), at }))
    }

    fn second_question(&self, actor: &Viewer, question: QuestionId, at: Millis) -> R {
        let Viewer::Delegate(me) = actor else { return Err(Forbidden::Role.into()) };
        self.on_roster(me)?;
        self.phase_before_close()?;
        let q = self.get_question(question)?;
        if !matches!(q.status, QuestionStatus::Approved | QuestionStatus::Queued) {
            return Err(InvalidState::NotApproved(question).into());
        }
        if q.askers.contains(me) {
            return Err(Invalid::OwnQuestion.into());
        }
        if q.seconders.contains(me) {
            return Err(AlreadyDone::Seconded(question).into());
        }
        Ok(Outcome::one(Event::QuestionSeconded { question, delegate: me.clone(), at }))
    }

    fn request_floor(&self, actor: &Viewer, question: QuestionId, at: Millis) -> R {
        let Viewer::VenueOperator(venue) = actor else { return Err(Forbidden::Role.into()) };
        self.phase_in(&[Phase::Questioning])?;
        let q = self.get_question(question)?;
        if !q.venues.contains(venue) {
            return Err(Forbidden::OtherVenue.into());
        }
        if !matches!(q.status, QuestionStatus::Approved | QuestionStatus::Queued) {
            return Err(InvalidState::NotApproved(question).into());
        }
        if self.floor_requests.iter().any(|r| r.question == question && &r.venue == venue) {
            return Err(AlreadyDone::FloorRequested(question).into());
        }
        Ok(Outcome::one(Event::FloorRequested { question, venue: venue.clone(), at }))
    }

    fn grant_floor(&self, actor: &Viewer, venue: &VenueId, question: QuestionId, answer_seconds: Option<u32>, at: Millis) -> R {
        let lim = self.def.limits;
        moderator(actor)?;
        self.phase_in(&[Phase::Questioning])?;
        if self.floor.is_some() {
            return Err(InvalidState::FloorOccupied.into());
        }
        self.def.venue(venue).ok_or_else(|| NotFound::Venue(venue.clone()))?;
        let q = self.get_question(question)?;
        if !matches!(q.status, QuestionStatus::Approved | QuestionStatus::Queued) {
            return Err(InvalidState::NotApproved(question).into());
        }
        if !q.venues.contains(venue) {
            return Err(InvalidState::VenueNotAsking { venue: venue.clone(), question }.into());
        }
        let secs = answer_seconds.unwrap_or(lim.answer_seconds);
        countdown(secs, lim.max_answer_seconds)?;
        Ok(Outcome::one(Event::FloorGranted { question, venue: venue.clone(), answer_seconds: secs, at }))
    }

    fn start_countdown(&self, actor: &Viewer, seconds: u32, at: Millis) -> R {
        moderator(actor)?;
        if self.floor.is_none() {
            return Err(InvalidState::FloorEmpty.into());
        }
        countdown(seconds, self.def.limits.max_answer_seconds)?;
        Ok(Outcome::one(Event::CountdownStarted { seconds, at }))
    }

    fn pause_countdown(&self, actor: &Viewer, at: Millis) -> R {
        moderator(actor)?;
        let f = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        if f.paused_remaining.is_some() {
            return Err(AlreadyDone::Paused.into());
        }
        // Whole seconds left, rounded up (0 once it has run out).
        let end = f.countdown_started_at.0 + u64::from(f.countdown_seconds) * 1000;
        let remaining = u32::try_from(end.saturating_sub(at.0).div_ceil(1000)).unwrap_or(u32::MAX);
        Ok(Outcome::one(Event::CountdownPaused { remaining, at }))
    }

    fn resume_countdown(&self, actor: &Viewer, at: Millis) -> R {
        moderator(actor)?;
        let f = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        if f.paused_remaining.is_none() {
            return Err(InvalidState::CountdownRunning.into());
        }
        Ok(Outcome::one(Event::CountdownResumed { at }))
    }

    fn extend_countdown(&self, actor: &Viewer, seconds: u32, at: Millis) -> R {
        moderator(actor)?;
        let f = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        countdown(seconds, self.def.limits.max_answer_seconds)?;
        // The whole countdown stays within twice the longest answer allowed.
        let total = f.paused_remaining.unwrap_or(f.countdown_seconds).saturating_add(seconds);
        if total > 2 * self.def.limits.max_answer_seconds {
            return Err(Invalid::Countdown { max: 2 * self.def.limits.max_answer_seconds }.into());
        }
        Ok(Outcome::one(Event::CountdownExtended { seconds, at }))
    }

    fn add_follow_up(&self, actor: &Viewer, on_behalf_of: Option<&DelegateId>, t: &str, at: Millis) -> R {
        let lim = self.def.limits;
        self.phase_in(&[Phase::Questioning])?;
        let (asker, by_operator) = self.speaker(actor, on_behalf_of)?;
        let floor = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        let t = text("text", t, Lines::Multi, lim.question_chars)?;
        let q = self.get_question(floor.question)?;
        if q.follow_ups.len() >= lim.follow_ups_per_item {
            return Err(Invalid::TooMany { what: "follow-ups", max: lim.follow_ups_per_item }.into());
        }
        let follow_up = FollowUpId(self.next_follow_up);
        Ok(Outcome { events: vec![Event::FollowUpAdded { follow_up, asker, text: t, by_operator, at }], reply: Reply::FollowUp(follow_up) })
    }

    #[allow(clippy::too_many_arguments)]
    fn record_answer(
        &self,
        actor: &Viewer,
        follow_up: Option<FollowUpId>,
        unit: &UnitId,
        official: &str,
        summary: &str,
        commitments: &[CommitmentDraft],
        at: Millis,
    ) -> R {
        let lim = self.def.limits;
        moderator(actor)?;
        let floor = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        let q = self.get_question(floor.question)?;
        match follow_up {
            None if q.answer.is_some() => return Err(AlreadyDone::Answered.into()),
            None => {}
            Some(f) => {
                let f = q.follow_ups.iter().find(|x| x.id == f).ok_or(NotFound::FollowUp(f))?;
                if f.answer.is_some() {
                    return Err(AlreadyDone::Answered.into());
                }
            }
        }
        self.def.unit(unit).ok_or_else(|| NotFound::Unit(unit.clone()))?;
        let official = text("official", official, Lines::Single, lim.short_chars)?;
        let summary = text("summary", summary, Lines::Multi, lim.answer_chars)?;
        if commitments.len() > lim.commitments_per_answer {
            return Err(Invalid::TooMany { what: "commitments", max: lim.commitments_per_answer }.into());
        }
        let commitments = commitments
            .iter()
            .map(|c| {
                self.def.unit(&c.unit).ok_or_else(|| NotFound::Unit(c.unit.clone()))?;
                let what = text("commitment", &c.what, Lines::Single, lim.short_chars)?;
                Ok(Commitment { what, unit: c.unit.clone(), due: c.due })
            })
            .collect::<Result<Vec<_>, CommandError>>()?;
        Ok(Outcome::one(Event::AnswerRecorded { follow_up, unit: unit.clone(), official, summary, commitments, at }))
    }

    fn end_floor(&self, actor: &Viewer, at: Millis) -> R {
        moderator(actor)?;
        let floor = self.floor.as_ref().ok_or(InvalidState::FloorEmpty)?;
        let q = self.get_question(floor.question)?;
        if q.answer.is_none() {
            return Err(InvalidState::Unanswered.into());
        }
        // 一问再问: every follow-up is answered before the floor moves on.
        if let Some(f) = q.follow_ups.iter().find(|f| f.answer.is_none()) {
            return Err(InvalidState::FollowUpUnanswered(f.id).into());
        }
        Ok(Outcome::one(Event::FloorEnded { at }))
    }

    fn open_evaluation_cmd(&self, actor: &Viewer, units: &[UnitId], at: Millis) -> R {
        moderator(actor)?;
        self.phase_in(&[Phase::Evaluation])?;
        if self.open_evaluation().is_some() {
            return Err(InvalidState::EvaluationOpen.into());
        }
        if units.is_empty() {
            return Err(Invalid::Empty { field: "units" }.into());
        }
        let mut seen = BTreeSet::new();
        for u in units {
            self.def.unit(u).ok_or_else(|| NotFound::Unit(u.clone()))?;
            if !seen.insert(u) {
                return Err(Invalid::DuplicateUnit.into());
            }
        }
        let evaluation = EvaluationId(self.evaluations.len() as u32 + 1);
        Ok(Outcome {
            events: vec![Event::EvaluationOpened { evaluation, units: units.to_vec(), at }],
            reply: Reply::Evaluation(evaluation),
        })
    }

    fn cast_ballot(&self, actor: &Viewer, ballot_id: &BallotId, evaluation: EvaluationId, unit: &UnitId, rating: Rating, at: Millis) -> R {
        let Viewer::Delegate(me) = actor else { return Err(Forbidden::DelegatesOnly.into()) };
        // Not trimmed: the receipt must echo exactly the id the client sent.
        let id = ballot_id.0.clone();
        text::check_verbatim(&id).map_err(|e| Invalid::text("ballot_id", e))?;
        if id.chars().count() > MAX_BALLOT_ID {
            return Err(Invalid::TooLong { field: "ballot_id", max: MAX_BALLOT_ID }.into());
        }
        let ev = self.evaluations.get(&evaluation).ok_or(NotFound::Evaluation(evaluation))?;
        let reply = Reply::Ballot { evaluation, unit: unit.clone(), delegate: me.clone() };
        // An idempotent retry is answered even after the close: the
        // ballot was accepted while the evaluation was open.
        if let Some(b) = ev.ballots.get(&(me.clone(), unit.clone())) {
            if b.ballot_id.0 == id && b.rating == rating {
                return Ok(Outcome { events: vec![], reply });
            }
            if b.ballot_id.0 == id {
                return Err(AlreadyDone::BallotIdReused(id).into());
            }
            return Err(AlreadyDone::Voted { evaluation, unit: unit.clone() }.into());
        }
        if ev.status != EvaluationStatus::Open {
            return Err(InvalidState::EvaluationClosed(evaluation).into());
        }
        if !ev.units.contains(unit) {
            return Err(InvalidState::UnitNotInEvaluation { evaluation, unit: unit.clone() }.into());
        }
        // Only this delegate's ballots (one per unit, adjacent in the map's
        // order): a scan of every ballot made a whole evaluation quadratic.
        let mut mine = ev.ballots.range((me.clone(), UnitId::new(String::new()))..).take_while(|((d, _), _)| d == me);
        if mine.any(|(_, b)| b.ballot_id.0 == id) {
            return Err(AlreadyDone::BallotIdReused(id).into());
        }
        if !self.checked_in.contains_key(me) {
            return Err(InvalidState::NotCheckedIn(me.clone()).into());
        }
        Ok(Outcome {
            events: vec![Event::BallotCast { evaluation, unit: unit.clone(), delegate: me.clone(), ballot_id: BallotId(id), rating, at }],
            reply,
        })
    }

    fn close_evaluation(&self, actor: &Viewer, evaluation: EvaluationId, at: Millis) -> R {
        moderator(actor)?;
        let ev = self.evaluations.get(&evaluation).ok_or(NotFound::Evaluation(evaluation))?;
        let reply = Reply::Closed(evaluation);
        if ev.status == EvaluationStatus::Closed {
            // Idempotent: every close is answered with the same final results.
            return Ok(Outcome { events: vec![], reply });
        }
        Ok(Outcome { events: vec![Event::EvaluationClosed { evaluation, at }], reply })
    }

    pub(crate) fn phase_in(&self, allowed: &[Phase]) -> Result<(), CommandError> {
        if allowed.contains(&self.phase) { Ok(()) } else { Err(InvalidState::Phase(self.phase).into()) }
    }

    fn phase_before_close(&self) -> Result<(), CommandError> {
        self.phase_in(&[Phase::Preparing, Phase::CheckIn, Phase::Questioning, Phase::Evaluation])
    }

    /// The acting delegate must be on the roster (an id not imported yet, or
    /// a stale token): `decide` must never emit an event `apply` refuses.
    pub(crate) fn on_roster(&self, me: &DelegateId) -> Result<(), CommandError> {
        if self.delegates.contains_key(me) { Ok(()) } else { Err(NotFound::Delegate(me.clone()).into()) }
    }

    fn get_question(&self, id: QuestionId) -> Result<&Question, CommandError> {
        self.questions.get(&id).ok_or_else(|| NotFound::Question(id).into())
    }

    /// Who is speaking: a delegate for themself, or an operator (or the
    /// moderator) for a delegate of their venue. Returns (asker, by_operator).
    fn speaker(&self, actor: &Viewer, on_behalf_of: Option<&DelegateId>) -> Result<(DelegateId, bool), CommandError> {
        if let Viewer::Delegate(me) = actor {
            self.on_roster(me)?;
        }
        match (actor, on_behalf_of) {
            (Viewer::Delegate(me), None) => Ok((me.clone(), false)),
            (Viewer::Delegate(me), Some(d)) if d == me => Ok((me.clone(), false)),
            (Viewer::Delegate(_), Some(_)) => Err(Forbidden::OtherDelegate.into()),
            (Viewer::VenueOperator(_) | Viewer::Moderator, None) => Err(Invalid::Empty { field: "on_behalf_of" }.into()),
            (Viewer::VenueOperator(v), Some(d)) => {
                let del = self.delegates.get(d).ok_or_else(|| NotFound::Delegate(d.clone()))?;
                if &del.venue != v {
                    return Err(Forbidden::OtherVenue.into());
                }
                Ok((d.clone(), true))
            }
            (Viewer::Moderator, Some(d)) => {
                self.delegates.get(d).ok_or_else(|| NotFound::Delegate(d.clone()))?;
                Ok((d.clone(), true))
            }
            (Viewer::Screen | Viewer::Auditor, _) => Err(Forbidden::ReadOnly.into()),
            (Viewer::Office | Viewer::Unit(_), _) => Err(Forbidden::Role.into()),
        }
    }
}

fn moderator(actor: &Viewer) -> Result<(), CommandError> {
    if matches!(actor, Viewer::Moderator) { Ok(()) } else { Err(Forbidden::ModeratorOnly.into()) }
}

fn open_for_changes(q: &Question) -> bool {
    matches!(q.status, QuestionStatus::Pending | QuestionStatus::Approved | QuestionStatus::Queued)
}

fn countdown(secs: u32, max: u32) -> Result<(), CommandError> {
    if secs == 0 || secs > max { Err(Invalid::Countdown { max }.into()) } else { Ok(()) }
}
