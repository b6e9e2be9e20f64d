//! Pure rules of a Wenzheng questioning session (代表问政).
//!
//! This crate knows nothing about I/O, clocks or JSON: time is a parameter
//! ([`Millis`]) and every state change is an [`Event`]. The hub asks
//! [`Session::decide`] what a command would do, persists the resulting events,
//! and only then makes them real with [`Session::apply`]. Replaying the stored
//! events through `apply` rebuilds exactly the same state: that is what makes
//! restarts and audits trustworthy.
//!
//! Architecture Invariant: `decide` never mutates; `apply` never fails for an
//! event that `decide` produced against the same state, and changes nothing
//! when it does fail (property-tested with arbitrary events).

pub mod announce;
mod apply;
pub mod assignment;
mod command;
mod decide;
mod decide_check_in;
mod decide_followup;
mod definition;
mod error;
mod event;
mod ids;
mod session;
mod tally;
pub mod text;
mod visibility;

pub use command::{Command, CommitmentDraft, Outcome, Reply};
pub use definition::{
    CheckInPolicy, DefinitionError, Delegate, DelegateLevel, Limits, SessionDef, TimeZone, Topic, Unit, Venue, VenueKind,
};
pub use error::{AlreadyDone, CommandError, Forbidden, Invalid, InvalidState, NotFound};
pub use event::{Change, Event, EventKind};
pub use ids::{BallotId, CalendarDate, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId};
pub use session::{
    Answer, ApplyError, Ballot, CheckIn, Commitment, Evaluation, EvaluationStatus, Floor, FloorRequest, FollowUp, Phase, Question,
    QuestionStatus, Seal, Session, Speaker,
};
pub use tally::{Rating, RatingCounts, Results, Tally, Turnout, UnitResults};
pub use text::TextProblem;
pub use visibility::{Perspective, Viewer, for_each_delegate_concerned};
