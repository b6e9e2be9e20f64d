//! Commands, and what a decided command replies.
//!
//! [`Session::decide`](crate::Session::decide) (in `decide.rs`) judges a command; the types it takes
//! and gives are here.

use crate::assignment::{AssignmentCommand, AssignmentEvent, ItemId};
use crate::definition::Delegate;
use crate::event::Event;
use crate::ids::{BallotId, CalendarDate, DelegateId, EvaluationId, FollowUpId, QuestionId, TopicId, UnitId, VenueId};
use crate::session::Phase;
use crate::tally::Rating;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitmentDraft {
    pub what: String,
    pub unit: UnitId,
    pub due: CalendarDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Moves the session to the next phase (`to` must be exactly the next one).
    AdvancePhase {
        to: Phase,
    },
    /// Adds delegates while the session is preparing (CSV import).
    ImportDelegates {
        delegates: Vec<Delegate>,
    },
    CheckIn {
        delegate: DelegateId,
    },
    /// Takes back a check-in made by mistake (issue 10), before the
    /// evaluation: the moderator or the delegate's venue operator, with a reason.
    UndoCheckIn {
        delegate: DelegateId,
        reason: String,
    },
    /// A delegate asks to be checked in (check-in policy `Confirmed`); the
    /// venue's operator confirms with `CheckIn` or declines.
    RequestCheckIn,
    /// The moderator or the delegate's venue operator declines a pending
    /// check-in request, optionally saying why.
    DeclineCheckIn {
        delegate: DelegateId,
        reason: Option<String>,
    },
    /// `on_behalf_of` is required for a venue operator, optional (self) for a delegate.
    SubmitQuestion {
        on_behalf_of: Option<DelegateId>,
        topic: TopicId,
        unit: UnitId,
        text: String,
    },
    ApproveQuestion {
        question: QuestionId,
    },
    RejectQuestion {
        question: QuestionId,
        reason: String,
    },
    MergeQuestion {
        question: QuestionId,
        into: QuestionId,
    },
    EditQuestion {
        question: QuestionId,
        text: String,
    },
    QueueQuestion {
        question: QuestionId,
    },
    ReorderQueue {
        order: Vec<QuestionId>,
    },
    SecondQuestion {
        question: QuestionId,
    },
    RequestFloor {
        question: QuestionId,
    },
    GrantFloor {
        venue: VenueId,
        question: QuestionId,
        answer_seconds: Option<u32>,
    },
    StartCountdown {
        seconds: u32,
    },
    /// Stops the countdown where it is (issue 10).
    PauseCountdown,
    /// Runs it again from the seconds that were left.
    ResumeCountdown,
    /// Gives the speaker `seconds` more (running or paused).
    ExtendCountdown {
        seconds: u32,
    },
    AddFollowUp {
        on_behalf_of: Option<DelegateId>,
        text: String,
    },
    RecordAnswer {
        follow_up: Option<FollowUpId>,
        unit: UnitId,
        official: String,
        summary: String,
        commitments: Vec<CommitmentDraft>,
    },
    EndFloor,
    OpenEvaluation {
        units: Vec<UnitId>,
    },
    CastBallot {
        ballot_id: BallotId,
        evaluation: EvaluationId,
        unit: UnitId,
        rating: Rating,
    },
    CloseEvaluation {
        evaluation: EvaluationId,
    },
    /// The office drafts the assignment list from the session now (closing
    /// the session does it too); only what is new is drafted.
    DraftAssignments,
    /// A command of the assignment list (the follow-up).
    Assignment(AssignmentCommand),
    /// An announcement to the venues (会场通知).
    Announcement(crate::announce::AnnouncementCommand),
}

/// What the issuer is told on success, besides the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Done,
    Question(QuestionId),
    FollowUp(FollowUpId),
    Evaluation(EvaluationId),
    /// The evaluation is closed: the reply carries its final results. Closing
    /// again is answered the same way (a double click is harmless).
    Closed(EvaluationId),
    /// The accepted ballot of (delegate, unit): read it from the state after
    /// applying the events to build the receipt. Also the reply to an
    /// idempotent retry, which produces no events.
    Ballot {
        evaluation: EvaluationId,
        unit: UnitId,
        delegate: DelegateId,
    },
    /// The assignment item created or changed.
    Item(ItemId),
    /// The accepted follow-up rating of (item, delegate): the receipt.
    Rated {
        item: ItemId,
        delegate: DelegateId,
    },
    /// Drafts added: the first id and how many (consecutive ids).
    Drafted {
        first: ItemId,
        count: u32,
    },
    /// The announcement made, cleared or acknowledged.
    Announcement(crate::announce::AnnouncementId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub reply: Reply,
}

impl Reply {
    /// The reply to a command that produced `events`, derived from the events
    /// alone so that it can be rebuilt from the log (a retried command is
    /// answered with its original reply, even after a restart).
    pub fn of_events(events: &[Event]) -> Reply {
        if let Some(Event::PhaseChanged { .. }) = events.first() {
            return Reply::Done;
        }
        match events.last() {
            Some(Event::QuestionSubmitted { question, .. }) => Reply::Question(*question),
            Some(Event::FollowUpAdded { follow_up, .. }) => Reply::FollowUp(*follow_up),
            Some(Event::EvaluationOpened { evaluation, .. }) => Reply::Evaluation(*evaluation),
            Some(Event::EvaluationClosed { evaluation, .. }) => Reply::Closed(*evaluation),
            Some(Event::BallotCast { evaluation, unit, delegate, .. }) => {
                Reply::Ballot { evaluation: *evaluation, unit: unit.clone(), delegate: delegate.clone() }
            }
            Some(Event::Announcement(a)) => Reply::Announcement(a.announcement()),
            Some(Event::Assignment(a)) => match a {
                AssignmentEvent::Rated { item, delegate, .. } => Reply::Rated { item: *item, delegate: delegate.clone() },
                AssignmentEvent::Drafted { .. } => match events.first() {
                    Some(Event::Assignment(AssignmentEvent::Drafted { item, .. })) => {
                        Reply::Drafted { first: *item, count: events.len() as u32 }
                    }
                    _ => Reply::Item(a.item()),
                },
                other => Reply::Item(other.item()),
            },
            _ => Reply::Done,
        }
    }
}

impl Outcome {
    pub(crate) fn one(event: Event) -> Self {
        Self { events: vec![event], reply: Reply::Done }
    }
}

/// Longest accepted ballot id (client-chosen, unique per delegate and evaluation).
pub const MAX_BALLOT_ID: usize = 64;
