//! Checking delegates in (issue 10): who may, by the session's
//! [`CheckInPolicy`], and the request a delegate makes under `Confirmed`.
//!
//! Under every policy the moderator and the delegate's venue operator check
//! a delegate in directly. A delegate checks themself in only under
//! `SelfService`; under `Confirmed` they ask (`RequestCheckIn`) and the
//! venue's operator confirms (an ordinary `CheckIn`, which settles the
//! request) or declines it. Check-in (and so a request) is open in the
//! check-in, questioning and evaluation phases (late arrivals).

use crate::command::{Outcome, Reply};
use crate::decide::text;
use crate::definition::CheckInPolicy;
use crate::error::{AlreadyDone, CommandError, Forbidden, InvalidState, NotFound};
use crate::event::{Change, Event};
use crate::ids::{DelegateId, Millis};
use crate::session::{Phase, Session};
use crate::text::Lines;
use crate::visibility::Viewer;

type R = Result<Outcome, CommandError>;

/// The phases in which a delegate may be checked in or ask to be.
pub(crate) const CHECK_IN_PHASES: &[Phase] = &[Phase::CheckIn, Phase::Questioning, Phase::Evaluation];

impl Session {
    pub(crate) fn check_in(&self, actor: &Viewer, delegate: &DelegateId, at: Millis) -> R {
        self.phase_in(CHECK_IN_PHASES)?;
        // A delegate is told "not you" before "no such delegate", so
        // the roster cannot be probed from a delegate's credential.
        if let Viewer::Delegate(me) = actor
            && me != delegate
        {
            return Err(Forbidden::OtherDelegate.into());
        }
        let d = self.delegates.get(delegate).ok_or_else(|| NotFound::Delegate(delegate.clone()))?;
        let by_operator = match actor {
            Viewer::Moderator => true,
            Viewer::VenueOperator(v) if *v == d.venue => true,
            Viewer::VenueOperator(_) => return Err(Forbidden::OtherVenue.into()),
            Viewer::Delegate(me) if me == delegate => false,
            _ => return Err(Forbidden::OtherDelegate.into()),
        };
        if !by_operator && self.def.check_in != CheckInPolicy::SelfService {
            return Err(Forbidden::CheckInPolicy(self.def.check_in).into());
        }
        if self.checked_in.contains_key(delegate) {
            return Err(AlreadyDone::CheckedIn(delegate.clone()).into());
        }
        Ok(Outcome::one(Event::CheckedIn { delegate: delegate.clone(), by_operator, at }))
    }

    pub(crate) fn undo_check_in(&self, actor: &Viewer, delegate: &DelegateId, reason: &str, at: Millis) -> R {
        // Before the evaluation: who is eligible to vote is who checked in.
        self.phase_in(&[Phase::CheckIn, Phase::Questioning])?;
        let d = self.delegates.get(delegate).ok_or_else(|| NotFound::Delegate(delegate.clone()))?;
        staff_of(actor, &d.venue)?;
        if !self.checked_in.contains_key(delegate) {
            return Err(InvalidState::NotCheckedIn(delegate.clone()).into());
        }
        let reason = text("reason", reason, Lines::Single, self.def.limits.reason_chars)?;
        Ok(Outcome::one(Event::CheckInUndone { delegate: delegate.clone(), reason, at }))
    }

    /// A delegate asks to be checked in (policy `Confirmed`). Asking again
    /// while the request is pending changes nothing and is acknowledged.
    pub(crate) fn request_check_in(&self, actor: &Viewer, at: Millis) -> R {
        let Viewer::Delegate(me) = actor else { return Err(Forbidden::Role.into()) };
        self.phase_in(CHECK_IN_PHASES)?;
        if self.def.check_in != CheckInPolicy::Confirmed {
            return Err(Forbidden::CheckInPolicy(self.def.check_in).into());
        }
        self.on_roster(me)?;
        if self.checked_in.contains_key(me) {
            return Err(AlreadyDone::CheckedIn(me.clone()).into());
        }
        if self.check_in_requests.contains_key(me) {
            return Ok(Outcome { events: vec![], reply: Reply::Done });
        }
        Ok(Outcome::one(Event::CheckInRequested { delegate: me.clone(), at }))
    }

    /// The moderator or the delegate's venue operator declines a pending
    /// request; a reason (one line) is optional, and blank means none.
    pub(crate) fn decline_check_in(&self, actor: &Viewer, delegate: &DelegateId, reason: Option<&str>, at: Millis) -> R {
        self.phase_in(CHECK_IN_PHASES)?;
        let d = self.delegates.get(delegate).ok_or_else(|| NotFound::Delegate(delegate.clone()))?;
        staff_of(actor, &d.venue)?;
        if !self.check_in_requests.contains_key(delegate) {
            return Err(InvalidState::NoCheckInRequest(delegate.clone()).into());
        }
        let reason = match reason.map(|r| text("reason", r, Lines::Single, self.def.limits.reason_chars)) {
            None | Some(Err(CommandError::Invalid(crate::error::Invalid::Empty { .. }))) => None,
            Some(r) => Some(r?),
        };
        Ok(Outcome::one(Event::CheckInDeclined { delegate: delegate.clone(), reason, at }))
    }

    // ---- apply ---------------------------------------------------------------

    pub(crate) fn check_in_requested(&mut self, delegate: &DelegateId, at: Millis) -> Result<Vec<Change>, &'static str> {
        let venue = self.delegates.get(delegate).ok_or("unknown delegate")?.venue.clone();
        if self.checked_in.contains_key(delegate) {
            return Err("the delegate has already checked in");
        }
        if self.check_in_requests.contains_key(delegate) {
            return Err("the delegate's check-in request is already pending");
        }
        // Checked: nothing below fails.
        self.check_in_requests.insert(delegate.clone(), at);
        Ok(vec![Change::CheckInRequested { delegate: delegate.clone(), venue, at }])
    }

    pub(crate) fn check_in_declined(&mut self, delegate: &DelegateId, reason: Option<&str>) -> Result<Vec<Change>, &'static str> {
        let venue = self.delegates.get(delegate).ok_or("unknown delegate")?.venue.clone();
        self.check_in_requests.remove(delegate).ok_or("the delegate had no pending check-in request")?;
        Ok(vec![Change::CheckInDeclined { delegate: delegate.clone(), venue, reason: reason.map(str::to_owned) }])
    }
}

/// The moderator, or the operator of `venue`.
fn staff_of(actor: &Viewer, venue: &crate::ids::VenueId) -> Result<(), CommandError> {
    match actor {
        Viewer::Moderator => Ok(()),
        Viewer::VenueOperator(v) if v == venue => Ok(()),
        Viewer::VenueOperator(_) => Err(Forbidden::OtherVenue.into()),
        _ => Err(Forbidden::Role.into()),
    }
}
