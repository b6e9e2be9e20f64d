//! Why a command was refused.
//!
//! The outer [`CommandError`] maps one-to-one onto the protocol's stable error
//! codes; the inner enums say precisely what was wrong, for people.

use crate::assignment::{ItemId, ItemStatus};
use crate::definition::CheckInPolicy;
use crate::ids::{DelegateId, EvaluationId, FollowUpId, QuestionId, TopicId, UnitId, VenueId};
use crate::session::Phase;
use crate::text::{TextError, TextProblem};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("forbidden: {0}")]
    Forbidden(#[from] Forbidden),
    #[error("not found: {0}")]
    NotFound(#[from] NotFound),
    #[error("invalid state: {0}")]
    InvalidState(#[from] InvalidState),
    #[error("already done: {0}")]
    AlreadyDone(#[from] AlreadyDone),
    #[error("invalid: {0}")]
    Invalid(#[from] Invalid),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("only the moderator may do this")]
    ModeratorOnly,
    #[error("this role is read-only")]
    ReadOnly,
    #[error("a delegate may act only for themself")]
    OtherDelegate,
    #[error("a venue operator may act only for their own venue")]
    OtherVenue,
    #[error("only delegates cast ballots")]
    DelegatesOnly,
    #[error("this role may not do this")]
    Role,
    #[error("only the congress office may do this")]
    OfficeOnly,
    #[error("only the lead unit may do this")]
    NotLeadUnit,
    #[error("this item is not one of this unit's")]
    OtherUnit,
    #[error("only the delegates who asked may rate an item")]
    AskersOnly,
    /// The session's check-in policy does not allow this (issue 10).
    #[error("{}", check_in_policy_says(.0))]
    CheckInPolicy(CheckInPolicy),
}

fn check_in_policy_says(p: &CheckInPolicy) -> &'static str {
    match p {
        CheckInPolicy::Operator => "delegates are checked in by their venue's operator at the check-in desk (check-in policy: operator)",
        CheckInPolicy::Confirmed => {
            "a delegate asks to be checked in (request_check_in) and the venue's operator confirms it (check-in policy: confirmed)"
        }
        CheckInPolicy::SelfService => "delegates check themselves in (check-in policy: self); there is nothing to request",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotFound {
    #[error("no delegate {0}")]
    Delegate(DelegateId),
    #[error("no venue {0}")]
    Venue(VenueId),
    #[error("no unit {0}")]
    Unit(UnitId),
    #[error("no topic {0}")]
    Topic(TopicId),
    #[error("no question {0}")]
    Question(QuestionId),
    #[error("no follow-up {0} on the floor")]
    FollowUp(FollowUpId),
    #[error("no evaluation {0}")]
    Evaluation(EvaluationId),
    #[error("no assignment item {0}")]
    Item(ItemId),
    #[error("no announcement {0}")]
    Announcement(crate::announce::AnnouncementId),
    #[error("no file {0} on this item")]
    Evidence(String),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidState {
    #[error("not allowed while the session is {0:?}")]
    Phase(Phase),
    #[error("cannot move from {from:?} to {to:?}")]
    Transition { from: Phase, to: Phase },
    #[error("question {0} is not pending")]
    NotPending(QuestionId),
    #[error("question {0} is not approved")]
    NotApproved(QuestionId),
    #[error("question {0} cannot be edited or merged into any more")]
    Closed(QuestionId),
    #[error("something is already on the floor")]
    FloorOccupied,
    #[error("nothing is on the floor")]
    FloorEmpty,
    #[error("the question on the floor has not been answered yet")]
    Unanswered,
    #[error("follow-up {0} has not been answered yet")]
    FollowUpUnanswered(FollowUpId),
    #[error("venue {venue} is not among the venues of question {question}")]
    VenueNotAsking { venue: VenueId, question: QuestionId },
    #[error("an evaluation is already open")]
    EvaluationOpen,
    #[error("evaluation {0} is closed")]
    EvaluationClosed(EvaluationId),
    #[error("unit {unit} is not evaluated in evaluation {evaluation}")]
    UnitNotInEvaluation { evaluation: EvaluationId, unit: UnitId },
    #[error("delegate {0} has not checked in")]
    NotCheckedIn(DelegateId),
    #[error("delegate {0} has no pending check-in request")]
    NoCheckInRequest(DelegateId),
    #[error("the queue order must list exactly the queued questions")]
    QueueMismatch,
    #[error("assignment item {item} is {status:?}")]
    ItemStatus { item: ItemId, status: ItemStatus },
    #[error("assignment item {0} has no extension request to decide")]
    NoExtensionRequest(ItemId),
    #[error("the countdown is running, not paused")]
    CountdownRunning,
    #[error("announcement {0} has been cleared")]
    AnnouncementCleared(crate::announce::AnnouncementId),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlreadyDone {
    #[error("delegate {0} has already checked in")]
    CheckedIn(DelegateId),
    #[error("the countdown is already paused")]
    Paused,
    #[error("announcement {0} is already cleared")]
    Cleared(crate::announce::AnnouncementId),
    #[error("this venue has already seen announcement {0}")]
    Seen(crate::announce::AnnouncementId),
    #[error("already seconded question {0}")]
    Seconded(QuestionId),
    #[error("the floor was already requested for question {0}")]
    FloorRequested(QuestionId),
    #[error("already answered")]
    Answered,
    #[error("a ballot for unit {unit} in evaluation {evaluation} was already accepted; an acknowledged ballot is final")]
    Voted { evaluation: EvaluationId, unit: UnitId },
    #[error("ballot id {0} was already used for a different ballot")]
    BallotIdReused(String),
    #[error("the session is already in that phase")]
    Phase,
    #[error("an extension of assignment item {0} is already waiting for the office")]
    ExtensionRequested(ItemId),
    #[error("assignment item {0} was already rated by this delegate; a rating is final")]
    Rated(ItemId),
    #[error("this file is already attached to assignment item {0}")]
    Evidence(ItemId),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    /// A character free text must not contain (see [`crate::text`]).
    #[error("{field} {problem}")]
    Text { field: &'static str, problem: TextProblem },
    #[error("too many {what} (at most {max})")]
    TooMany { what: &'static str, max: usize },
    #[error("{what} larger than {max_bytes} bytes")]
    TooLarge { what: &'static str, max_bytes: u64 },
    #[error("a question cannot be merged into itself")]
    MergeIntoSelf,
    #[error("a delegate cannot second their own question")]
    OwnQuestion,
    #[error("units must be listed at most once")]
    DuplicateUnit,
    #[error("venues must be listed at most once")]
    DuplicateVenue,
    #[error("countdown must be between 1 and {max} seconds")]
    Countdown { max: u32 },
    #[error("the deadline is in the past")]
    PastDeadline,
    #[error("an item cannot be merged into itself")]
    MergeItemIntoSelf,
    #[error("only a 不满意 (dissatisfied) rating can ask for the item to be handled again")]
    RehandleNeedsDissatisfied,
    #[error("an extension must be later than the current deadline and not in the past")]
    ExtensionNotLater,
    #[error("{0}")]
    Definition(#[from] crate::definition::DefinitionError),
}

impl Invalid {
    /// Names the field a [`TextError`] is about.
    pub(crate) fn text(field: &'static str, e: TextError) -> Self {
        match e {
            TextError::Empty => Invalid::Empty { field },
            TextError::TooLong { max } => Invalid::TooLong { field, max },
            TextError::Bad(problem) => Invalid::Text { field, problem },
        }
    }
}
