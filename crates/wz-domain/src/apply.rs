//! [`Session::apply`]: one small function per event.
//!
//! State is changed only here, one event at a time. `apply` trusts that the
//! event came from [`Session::decide`] (or from the store, which only ever
//! holds such events); it still refuses events that do not fit, so a corrupt
//! log is reported instead of silently producing wrong results.
//!
//! Every function checks first and changes afterwards: everything that can
//! refuse the event comes before the line `// Checked: nothing below fails.`,
//! so a refused event leaves the state exactly as it was (property-tested in
//! `tests/apply_atomic.rs`). The hub relies on that when it refuses one
//! command of a batch and keeps the others.

use crate::assignment::AssignmentEvent;
use crate::definition::Delegate;
use crate::event::{Change, Event};
use crate::ids::{BallotId, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId};
use crate::session::{
    Answer, ApplyError, Ballot, CheckIn, Evaluation, EvaluationStatus, Floor, FloorRequest, FollowUp, Phase, Question, QuestionStatus,
    Session, Speaker,
};
use crate::tally::{Rating, Results, Tally};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What one event changed, or why it does not fit the state.
type Applied = Result<Vec<Change>, &'static str>;

impl Session {
    /// Applies one event and returns what it changed.
    pub fn apply(&mut self, event: &Event) -> Result<Vec<Change>, ApplyError> {
        let seq = self.seq + 1;
        let changes = match event {
            Event::PhaseChanged { to, .. } => self.phase_changed(*to),
            Event::DelegatesImported { delegates, .. } => self.delegates_imported(delegates),
            Event::CheckedIn { delegate, by_operator, at } => self.checked_in_event(delegate, *by_operator, *at),
            Event::CheckInUndone { delegate, reason, .. } => self.check_in_undone(delegate, reason),
            Event::CheckInRequested { delegate, at } => self.check_in_requested(delegate, *at),
            Event::CheckInDeclined { delegate, reason, .. } => self.check_in_declined(delegate, reason.as_deref()),
            Event::QuestionSubmitted { question, asker, topic, unit, text, by_operator, at } => {
                self.question_submitted(*question, asker, topic, unit, text, *by_operator, *at)
            }
            Event::QuestionApproved { question, .. } => self.question_approved(*question),
            Event::QuestionRejected { question, reason, .. } => self.question_rejected(*question, reason),
            Event::QuestionMerged { question, into, .. } => self.question_merged(*question, *into),
            Event::QuestionEdited { question, text, .. } => self.question_edited(*question, text),
            Event::QuestionQueued { question, .. } => self.question_queued(*question),
            Event::QueueReordered { order, .. } => self.queue_reordered(order),
            Event::QuestionSeconded { question, delegate, .. } => self.question_seconded(*question, delegate),
            Event::FloorRequested { question, venue, at } => self.floor_requested(*question, venue, *at),
            Event::FloorGranted { question, venue, answer_seconds, at } => self.floor_granted(*question, venue, *answer_seconds, *at),
            Event::CountdownStarted { seconds, at } => self.countdown_started(*seconds, *at),
            Event::CountdownPaused { remaining, .. } => self.countdown_paused(*remaining),
            Event::CountdownResumed { at } => self.countdown_resumed(*at),
            Event::CountdownExtended { seconds, .. } => self.countdown_extended(*seconds),
            Event::FollowUpAdded { follow_up, asker, text, by_operator, at } => {
                self.follow_up_added(*follow_up, asker, text, *by_operator, *at)
            }
            Event::AnswerRecorded { follow_up, unit, official, summary, commitments, at } => {
                let answer = Answer {
                    unit: unit.clone(),
                    official: official.clone(),
                    summary: summary.clone(),
                    commitments: commitments.clone(),
                    at: *at,
                };
                self.answer_recorded(*follow_up, answer)
            }
            Event::FloorEnded { .. } => self.floor_ended(),
            Event::EvaluationOpened { evaluation, units, at } => self.evaluation_opened(*evaluation, units, *at),
            Event::BallotCast { evaluation, unit, delegate, ballot_id, rating, at } => {
                self.ballot_cast(seq, *evaluation, unit, delegate, ballot_id, *rating, *at)
            }
            Event::EvaluationClosed { evaluation, at } => self.evaluation_closed(*evaluation, *at),
            Event::Announcement(a) => {
                Arc::make_mut(&mut self.announcements).apply(a).map(|x| vec![Change::Announcement(Box::new(x.clone()))])
            }
            Event::Assignment(a) => self.assignment_event(a).map(|mut changes| {
                let today = self.today(a.at());
                changes.push(Change::Board { board: Box::new(self.assignments.dashboard(today)), today });
                changes
            }),
        }
        .map_err(|reason| ApplyError { seq, reason: reason.to_owned() })?;
        self.seq = seq;
        Ok(changes)
    }

    fn assignment_event(&mut self, e: &AssignmentEvent) -> Applied {
        // `Assignments::apply` checks before it changes anything.
        Arc::make_mut(&mut self.assignments).apply(e).map_err(|e| e.0)?;
        let mut ids = vec![e.item()];
        if let AssignmentEvent::DraftsMerged { from, .. } = e {
            ids.push(*from);
        }
        Ok(ids.into_iter().filter_map(|id| self.assignments.item(id)).map(|i| Change::Item(Box::new(i.clone()))).collect())
    }

    fn phase_changed(&mut self, to: Phase) -> Applied {
        self.phase = to;
        if to == Phase::Closed {
            // Check-in is over: requests nobody answered lapse.
            self.check_in_requests.clear();
        }
        Ok(vec![Change::Phase(to)])
    }

    fn delegates_imported(&mut self, delegates: &[Delegate]) -> Applied {
        let mut ids = BTreeSet::new();
        if delegates.iter().any(|d| self.delegates.contains_key(&d.id) || !ids.insert(&d.id)) {
            return Err("duplicate delegate");
        }
        // Checked: nothing below fails.
        let roster = Arc::make_mut(&mut self.delegates);
        for d in delegates {
            roster.insert(d.id.clone(), d.clone());
        }
        let mut changes = vec![Change::Roster(delegates.to_vec())];
        let venues: BTreeSet<&VenueId> = delegates.iter().map(|d| &d.venue).collect();
        for v in venues {
            let (present, roster) = self.presence(v);
            changes.push(Change::Presence { venue: v.clone(), present, roster });
        }
        Ok(changes)
    }

    fn checked_in_event(&mut self, delegate: &DelegateId, by_operator: bool, at: Millis) -> Applied {
        let venue = self.delegates.get(delegate).ok_or("unknown delegate")?.venue.clone();
        if self.checked_in.contains_key(delegate) {
            return Err("delegate checked in twice");
        }
        // Checked: nothing below fails. (This used to insert first and then
        // refuse, overwriting the first check-in's time.)
        self.checked_in.insert(delegate.clone(), CheckIn { at, by_operator });
        // The check-in settles a pending request (policy `Confirmed`): the
        // `CheckIn` change says so to everyone who saw the request.
        self.check_in_requests.remove(delegate);
        let (present, roster) = self.presence(&venue);
        Ok(vec![Change::CheckIn { delegate: delegate.clone(), venue: venue.clone(), at }, Change::Presence { venue, present, roster }])
    }

    fn check_in_undone(&mut self, delegate: &DelegateId, reason: &str) -> Applied {
        let venue = self.delegates.get(delegate).ok_or("unknown delegate")?.venue.clone();
        self.checked_in.remove(delegate).ok_or("the delegate had not checked in")?;
        let (present, roster) = self.presence(&venue);
        Ok(vec![
            Change::CheckInUndone { delegate: delegate.clone(), venue: venue.clone(), reason: reason.to_owned() },
            Change::Presence { venue, present, roster },
        ])
    }

    #[allow(clippy::too_many_arguments)]
    fn question_submitted(
        &mut self,
        question: QuestionId,
        asker: &DelegateId,
        topic: &TopicId,
        unit: &UnitId,
        text: &str,
        by_operator: bool,
        at: Millis,
    ) -> Applied {
        if question.0 as usize != self.questions.len() + 1 {
            return Err("question ids out of order");
        }
        let venue = self.delegates.get(asker).ok_or("unknown asker")?.venue.clone();
        // Checked: nothing below fails.
        let q = Question {
            id: question,
            askers: vec![asker.clone()],
            venues: vec![venue],
            topic: topic.clone(),
            unit: unit.clone(),
            text: text.to_owned(),
            original_text: None,
            status: QuestionStatus::Pending,
            public: false,
            by_operator,
            submitted_at: at,
            seconders: BTreeSet::new(),
            reject_reason: None,
            merged_into: None,
            merged_from: Vec::new(),
            answer: None,
            follow_ups: Vec::new(),
        };
        let changes = vec![Change::Question(Box::new(q.clone()))];
        self.questions.insert(question, q);
        Ok(changes)
    }

    fn question_approved(&mut self, question: QuestionId) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        q.status = QuestionStatus::Approved;
        q.public = true;
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn question_rejected(&mut self, question: QuestionId, reason: &str) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        q.status = QuestionStatus::Rejected;
        q.reject_reason = Some(reason.to_owned());
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn question_merged(&mut self, question: QuestionId, into: QuestionId) -> Applied {
        // Check both ends before changing anything: a refused event leaves no trace.
        if question == into || !self.questions.contains_key(&into) {
            return Err("unknown merge target");
        }
        let from = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        from.status = QuestionStatus::Merged;
        from.merged_into = Some(into);
        let (askers, venues, seconders) = (from.askers.clone(), from.venues.clone(), from.seconders.clone());
        let from = Change::Question(Box::new(from.clone()));
        let to = self.question_mut(into).expect("checked above");
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
        to.merged_from.push(question);
        let mut changes = vec![from, Change::Question(Box::new(to.clone()))];
        self.unqueue(question, &mut changes);
        Ok(changes)
    }

    /// Takes `question` out of the queue and the floor requests (it was
    /// merged away or is on the floor now), recording what changed.
    fn unqueue(&mut self, question: QuestionId, changes: &mut Vec<Change>) {
        let before = self.queue.len();
        self.queue.retain(|q| *q != question);
        if before != self.queue.len() {
            changes.push(Change::Queue(self.queue.clone()));
        }
        let before = self.floor_requests.len();
        self.floor_requests.retain(|r| r.question != question);
        if before != self.floor_requests.len() {
            changes.push(Change::FloorRequests(self.floor_requests.clone()));
        }
    }

    fn question_edited(&mut self, question: QuestionId, text: &str) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        if q.original_text.is_none() {
            q.original_text = Some(std::mem::replace(&mut q.text, text.to_owned()));
        } else {
            q.text = text.to_owned();
        }
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn question_queued(&mut self, question: QuestionId) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        q.status = QuestionStatus::Queued;
        let mut changes = vec![Change::Question(Box::new(q.clone()))];
        self.queue.push(question);
        changes.push(Change::Queue(self.queue.clone()));
        Ok(changes)
    }

    fn queue_reordered(&mut self, order: &[QuestionId]) -> Applied {
        self.queue = order.to_vec();
        Ok(vec![Change::Queue(self.queue.clone())])
    }

    fn question_seconded(&mut self, question: QuestionId, delegate: &DelegateId) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        q.seconders.insert(delegate.clone());
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn floor_requested(&mut self, question: QuestionId, venue: &VenueId, at: Millis) -> Applied {
        self.floor_requests.push(FloorRequest { question, venue: venue.clone(), at });
        Ok(vec![Change::FloorRequests(self.floor_requests.clone())])
    }

    fn floor_granted(&mut self, question: QuestionId, venue: &VenueId, answer_seconds: u32, at: Millis) -> Applied {
        let q = self.question_mut(question).ok_or("unknown question")?;
        // Checked: nothing below fails.
        q.status = QuestionStatus::OnFloor;
        let askers = q.askers.clone();
        let mut changes = vec![Change::Question(Box::new(q.clone()))];
        let speakers = askers
            .iter()
            .filter_map(|id| self.delegates.get(id))
            .filter(|d| &d.venue == venue)
            .map(|d| Speaker { name: d.name.clone(), level: d.level })
            .collect();
        let floor = Floor {
            question,
            venue: venue.clone(),
            granted_at: at,
            countdown_started_at: at,
            countdown_seconds: answer_seconds,
            paused_remaining: None,
            speakers,
        };
        self.floor = Some(floor.clone());
        changes.push(Change::Floor(Some(floor)));
        self.unqueue(question, &mut changes);
        Ok(changes)
    }

    fn countdown_started(&mut self, seconds: u32, at: Millis) -> Applied {
        let f = self.floor.as_mut().ok_or("nothing on the floor")?;
        // Checked: nothing below fails.
        f.countdown_started_at = at;
        f.countdown_seconds = seconds;
        f.paused_remaining = None;
        Ok(vec![Change::Floor(Some(f.clone()))])
    }

    fn countdown_paused(&mut self, remaining: u32) -> Applied {
        let f = self.floor.as_mut().ok_or("nothing on the floor")?;
        if f.paused_remaining.is_some() {
            return Err("the countdown is already paused");
        }
        f.paused_remaining = Some(remaining);
        Ok(vec![Change::Floor(Some(f.clone()))])
    }

    fn countdown_resumed(&mut self, at: Millis) -> Applied {
        let f = self.floor.as_mut().ok_or("nothing on the floor")?;
        let left = f.paused_remaining.take().ok_or("the countdown is not paused")?;
        f.countdown_started_at = at;
        f.countdown_seconds = left;
        Ok(vec![Change::Floor(Some(f.clone()))])
    }

    fn countdown_extended(&mut self, seconds: u32) -> Applied {
        let f = self.floor.as_mut().ok_or("nothing on the floor")?;
        match &mut f.paused_remaining {
            Some(left) => *left = left.saturating_add(seconds),
            None => f.countdown_seconds = f.countdown_seconds.saturating_add(seconds),
        }
        Ok(vec![Change::Floor(Some(f.clone()))])
    }

    fn follow_up_added(&mut self, follow_up: FollowUpId, asker: &DelegateId, text: &str, by_operator: bool, at: Millis) -> Applied {
        if follow_up.0 != self.next_follow_up {
            return Err("follow-up ids out of order");
        }
        let venue = self.delegates.get(asker).ok_or("unknown asker")?.venue.clone();
        let on_floor = self.floor.as_ref().ok_or("nothing on the floor")?.question;
        let q = self.questions.get_mut(&on_floor).ok_or("unknown question")?;
        // Checked: nothing below fails.
        self.next_follow_up += 1;
        q.follow_ups.push(FollowUp { id: follow_up, asker: asker.clone(), venue, text: text.to_owned(), by_operator, at, answer: None });
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn answer_recorded(&mut self, follow_up: Option<FollowUpId>, answer: Answer) -> Applied {
        let on_floor = self.floor.as_ref().ok_or("nothing on the floor")?.question;
        let q = self.question_mut(on_floor).ok_or("unknown question")?;
        let slot = match follow_up {
            None => &mut q.answer,
            Some(f) => &mut q.follow_ups.iter_mut().find(|x| x.id == f).ok_or("unknown follow-up")?.answer,
        };
        // Checked: nothing below fails.
        *slot = Some(answer);
        Ok(vec![Change::Question(Box::new(q.clone()))])
    }

    fn floor_ended(&mut self) -> Applied {
        let on_floor = self.floor.as_ref().ok_or("nothing on the floor")?.question;
        let q = self.questions.get_mut(&on_floor).ok_or("unknown question")?;
        // Checked: nothing below fails. (This used to clear the floor first
        // and then refuse an unknown question, leaving the floor empty.)
        q.status = QuestionStatus::Answered;
        let q = q.clone();
        self.floor = None;
        Ok(vec![Change::Question(Box::new(q)), Change::Floor(None)])
    }

    fn evaluation_opened(&mut self, evaluation: EvaluationId, units: &[UnitId], at: Millis) -> Applied {
        if evaluation.0 as usize != self.evaluations.len() + 1 {
            return Err("evaluation ids out of order");
        }
        // Checked: nothing below fails.
        let ev = Evaluation {
            id: evaluation,
            units: units.to_vec(),
            status: EvaluationStatus::Open,
            opened_at: at,
            closed_at: None,
            tally: Tally::new(units),
            ballots: BTreeMap::new(),
            results: None,
        };
        let changes = vec![Change::Evaluation(Box::new(ev.clone()))];
        self.evaluations.insert(evaluation, Arc::new(ev));
        Ok(changes)
    }

    #[allow(clippy::too_many_arguments)]
    fn ballot_cast(
        &mut self,
        seq: u64,
        evaluation: EvaluationId,
        unit: &UnitId,
        delegate: &DelegateId,
        ballot_id: &BallotId,
        rating: Rating,
        at: Millis,
    ) -> Applied {
        let d = self.delegates.get(delegate).ok_or("unknown delegate")?;
        let (venue, level) = (d.venue.clone(), d.level);
        let ev = self.evaluations.get(&evaluation).ok_or("unknown evaluation")?;
        if ev.status != EvaluationStatus::Open {
            return Err("ballot in a closed evaluation");
        }
        let key = (delegate.clone(), unit.clone());
        if ev.ballots.contains_key(&key) {
            return Err("second ballot for the same delegate and unit");
        }
        if !ev.units.contains(unit) {
            return Err("ballot for a unit not in the evaluation");
        }
        // Checked: nothing below fails. Only now is the shared evaluation
        // copied for writing, so a refused ballot does not even do that.
        let ev = Arc::make_mut(self.evaluations.get_mut(&evaluation).expect("looked up above"));
        let ballot = Ballot {
            evaluation,
            unit: unit.clone(),
            delegate: delegate.clone(),
            venue: venue.clone(),
            ballot_id: ballot_id.clone(),
            rating,
            at,
            seq,
        };
        ev.ballots.insert(key, ballot.clone());
        ev.tally.count(unit, &venue, level, delegate, rating);
        Ok(vec![Change::Ballot(ballot)])
    }

    fn evaluation_closed(&mut self, evaluation: EvaluationId, at: Millis) -> Applied {
        let ev = self.evaluations.get(&evaluation).ok_or("unknown evaluation")?;
        if ev.status == EvaluationStatus::Closed {
            return Err("evaluation closed twice");
        }
        // Checked: nothing below fails.
        let turnout = self.live_turnout(ev);
        let mut eligible_by_level = [0u32; 5];
        for id in self.checked_in.keys() {
            if let Some(d) = self.delegates.get(id) {
                eligible_by_level[d.level.index()] += 1;
            }
        }
        let ev = Arc::make_mut(self.evaluations.get_mut(&evaluation).expect("looked up above"));
        ev.status = EvaluationStatus::Closed;
        ev.closed_at = Some(at);
        ev.results = Some(Results { tally: ev.tally.clone(), turnout, eligible_by_level });
        Ok(vec![Change::Evaluation(Box::new(ev.clone()))])
    }
}

#[cfg(test)]
mod tests {
    //! The two cases issue 7 found by reading the code: each used to change
    //! the state before refusing the event.
    use super::*;
    use crate::definition::{DelegateLevel, Limits, SessionDef, Topic, Unit, Venue, VenueKind};

    fn session() -> Session {
        let venue = VenueId::new("main");
        Session::new(SessionDef {
            id: "s".into(),
            title: "问政".into(),
            theme: String::new(),
            venues: vec![Venue { id: venue.clone(), name: "主会场".into(), kind: VenueKind::Main }],
            delegates: vec![Delegate {
                id: DelegateId::new("d1"),
                name: "张三".into(),
                level: DelegateLevel::County,
                venue: venue.clone(),
            }],
            units: vec![Unit { id: UnitId::new("u1"), name: "县民政局".into() }],
            topics: vec![Topic { id: TopicId::new("t1"), name: "养老".into() }],
            limits: Limits::default(),
            time_zone: Default::default(),
            check_in: Default::default(),
        })
    }

    fn apply_all(s: &mut Session, events: &[Event]) {
        for e in events {
            s.apply(e).unwrap();
        }
    }

    #[test]
    fn a_second_check_in_is_refused_and_keeps_the_first_record() {
        let mut s = session();
        let d1 = DelegateId::new("d1");
        apply_all(
            &mut s,
            &[
                Event::PhaseChanged { to: Phase::CheckIn, at: Millis(1) },
                Event::CheckedIn { delegate: d1.clone(), by_operator: false, at: Millis(2) },
            ],
        );
        let before = s.clone();
        let again = Event::CheckedIn { delegate: d1.clone(), by_operator: true, at: Millis(99) };
        assert!(s.apply(&again).is_err());
        assert_eq!(s.checked_in()[&d1], CheckIn { at: Millis(2), by_operator: false });
        assert_eq!(s, before);
    }

    #[test]
    fn ending_the_floor_of_an_unknown_question_is_refused_and_keeps_the_floor() {
        let mut s = session();
        let (d1, main) = (DelegateId::new("d1"), VenueId::new("main"));
        apply_all(
            &mut s,
            &[
                Event::PhaseChanged { to: Phase::CheckIn, at: Millis(1) },
                Event::PhaseChanged { to: Phase::Questioning, at: Millis(2) },
                Event::QuestionSubmitted {
                    question: QuestionId(1),
                    asker: d1,
                    topic: TopicId::new("t1"),
                    unit: UnitId::new("u1"),
                    text: "村道何时修？".into(),
                    by_operator: false,
                    at: Millis(3),
                },
                Event::QuestionApproved { question: QuestionId(1), at: Millis(4) },
                Event::FloorGranted { question: QuestionId(1), venue: main, answer_seconds: 300, at: Millis(5) },
            ],
        );
        // No event can produce a floor whose question is gone: a corrupt state
        // is made by hand, as a corrupt log would make it.
        s.questions.remove(&QuestionId(1));
        let before = s.clone();
        assert!(s.apply(&Event::FloorEnded { at: Millis(6) }).is_err());
        assert!(s.floor().is_some(), "the floor is kept");
        assert_eq!(s, before);
    }
}
