//! The follow-up's decisions at the session level (issue 8): archiving,
//! drafting the list from the session, and handing the list's own commands
//! to [`Assignments::decide`](crate::assignment::Assignments::decide) with
//! the actor and the session's date. The rules of the list itself are in
//! `assignment/`.

use crate::assignment::{Actor, AssignmentCommand, ItemStatus};
use crate::command::{Outcome, Reply};
use crate::error::{CommandError, Forbidden, InvalidState};
use crate::event::Event;
use crate::ids::Millis;
use crate::session::{Phase, Session};
use crate::visibility::Viewer;

type R = Result<Outcome, CommandError>;

impl Session {
    /// The office ends the follow-up once every issued item is closed; the
    /// session is read-only from then on.
    pub(crate) fn archive(&self, actor: &Viewer, at: Millis) -> R {
        if !matches!(actor, Viewer::Office) {
            return Err(Forbidden::OfficeOnly.into());
        }
        if self.phase != Phase::Closed {
            return Err(InvalidState::Transition { from: self.phase, to: Phase::Archived }.into());
        }
        let open =
            self.assignments.items().find(|i| i.merged_into.is_none() && i.status != ItemStatus::Draft && i.status != ItemStatus::Closed);
        if let Some(i) = open {
            return Err(InvalidState::ItemStatus { item: i.id, status: i.status }.into());
        }
        Ok(Outcome::one(Event::PhaseChanged { to: Phase::Archived, at }))
    }

    pub(crate) fn draft_assignments(&self, actor: &Viewer, at: Millis) -> R {
        if !matches!(actor, Viewer::Office) {
            return Err(Forbidden::OfficeOnly.into());
        }
        let events = self.drafts(at);
        let reply = Reply::of_events(&events);
        Ok(Outcome { events, reply })
    }

    /// Drafts for what the session calls for and the list lacks, with
    /// consecutive ids; stops quietly at the list's size limit (the office
    /// sees the drafts it got, and the limit is documented).
    pub(crate) fn drafts(&self, at: Millis) -> Vec<Event> {
        let mut list = (*self.assignments).clone();
        let today = self.today(at);
        let mut events = Vec::new();
        for spec in self.assignments.drafts_from(self) {
            let Ok(es) = list.decide(&Actor::Office, &AssignmentCommand::Draft(spec), at, today) else { continue };
            for e in es {
                if list.apply(&e).is_err() {
                    return events;
                }
                events.push(Event::Assignment(e));
            }
        }
        events
    }

    pub(crate) fn assignment(&self, actor: &Viewer, cmd: &AssignmentCommand, at: Millis) -> R {
        // The moderator runs the live session; the follow-up is the office's.
        if matches!(actor, Viewer::Moderator) {
            return Err(Forbidden::Role.into());
        }
        let events: Vec<Event> =
            self.assignments.decide(&actor.actor(), cmd, at, self.today(at))?.into_iter().map(Event::Assignment).collect();
        let reply = Reply::of_events(&events);
        Ok(Outcome { events, reply })
    }
}
