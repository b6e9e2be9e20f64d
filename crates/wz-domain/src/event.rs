//! Events: the durable record of everything that happened in a session.
//!
//! An [`Event`] is what the store keeps; a [`Change`] is what applying it
//! touched, handed to the protocol layer so it can tell each viewer about the
//! new state of exactly the entities that changed.

use crate::assignment::{AssignmentEvent, Dashboard, Item};
use crate::definition::Delegate;
use crate::ids::CalendarDate;
use crate::ids::{BallotId, DelegateId, EvaluationId, FollowUpId, Millis, QuestionId, TopicId, UnitId, VenueId};
use crate::session::{Ballot, Commitment, Evaluation, Floor, FloorRequest, Phase, Question};
use crate::tally::Rating;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    PhaseChanged {
        to: Phase,
        at: Millis,
    },
    DelegatesImported {
        delegates: Vec<Delegate>,
        at: Millis,
    },
    CheckedIn {
        delegate: DelegateId,
        by_operator: bool,
        at: Millis,
    },
    CheckInUndone {
        delegate: DelegateId,
        reason: String,
        at: Millis,
    },
    CheckInRequested {
        delegate: DelegateId,
        at: Millis,
    },
    CheckInDeclined {
        delegate: DelegateId,
        reason: Option<String>,
        at: Millis,
    },
    QuestionSubmitted {
        question: QuestionId,
        asker: DelegateId,
        topic: TopicId,
        unit: UnitId,
        text: String,
        by_operator: bool,
        at: Millis,
    },
    QuestionApproved {
        question: QuestionId,
        at: Millis,
    },
    QuestionRejected {
        question: QuestionId,
        reason: String,
        at: Millis,
    },
    QuestionMerged {
        question: QuestionId,
        into: QuestionId,
        at: Millis,
    },
    QuestionEdited {
        question: QuestionId,
        text: String,
        at: Millis,
    },
    QuestionQueued {
        question: QuestionId,
        at: Millis,
    },
    QueueReordered {
        order: Vec<QuestionId>,
        at: Millis,
    },
    QuestionSeconded {
        question: QuestionId,
        delegate: DelegateId,
        at: Millis,
    },
    FloorRequested {
        question: QuestionId,
        venue: VenueId,
        at: Millis,
    },
    FloorGranted {
        question: QuestionId,
        venue: VenueId,
        answer_seconds: u32,
        at: Millis,
    },
    CountdownStarted {
        seconds: u32,
        at: Millis,
    },
    /// The countdown stopped with `remaining` whole seconds left.
    CountdownPaused {
        remaining: u32,
        at: Millis,
    },
    /// It runs again from the seconds that were left.
    CountdownResumed {
        at: Millis,
    },
    /// `seconds` more (running or paused).
    CountdownExtended {
        seconds: u32,
        at: Millis,
    },
    FollowUpAdded {
        follow_up: FollowUpId,
        asker: DelegateId,
        text: String,
        by_operator: bool,
        at: Millis,
    },
    AnswerRecorded {
        follow_up: Option<FollowUpId>,
        unit: UnitId,
        official: String,
        summary: String,
        commitments: Vec<Commitment>,
        at: Millis,
    },
    FloorEnded {
        at: Millis,
    },
    EvaluationOpened {
        evaluation: EvaluationId,
        units: Vec<UnitId>,
        at: Millis,
    },
    BallotCast {
        evaluation: EvaluationId,
        unit: UnitId,
        delegate: DelegateId,
        ballot_id: BallotId,
        rating: Rating,
        at: Millis,
    },
    EvaluationClosed {
        evaluation: EvaluationId,
        at: Millis,
    },
    /// A change to the assignment list (the follow-up).
    Assignment(AssignmentEvent),
    /// An announcement made, cleared or seen by a venue.
    Announcement(crate::announce::AnnouncementEvent),
}

/// The kind of an event, without its data: names the event in messages and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    PhaseChanged,
    DelegatesImported,
    CheckedIn,
    CheckInUndone,
    CheckInRequested,
    CheckInDeclined,
    QuestionSubmitted,
    QuestionApproved,
    QuestionRejected,
    QuestionMerged,
    QuestionEdited,
    QuestionQueued,
    QueueReordered,
    QuestionSeconded,
    FloorRequested,
    FloorGranted,
    CountdownStarted,
    CountdownPaused,
    CountdownResumed,
    CountdownExtended,
    FollowUpAdded,
    AnswerRecorded,
    FloorEnded,
    EvaluationOpened,
    BallotCast,
    EvaluationClosed,
    ItemDrafted,
    ItemDraftEdited,
    ItemDraftsMerged,
    ItemMoved,
    ItemNoteAdded,
    ItemEvidenceAdded,
    ItemEvidencePublished,
    ItemExtensionRequested,
    ItemExtensionDecided,
    ItemRated,
    AnnouncementMade,
    AnnouncementCleared,
    AnnouncementSeen,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::PhaseChanged { .. } => EventKind::PhaseChanged,
            Event::DelegatesImported { .. } => EventKind::DelegatesImported,
            Event::CheckedIn { .. } => EventKind::CheckedIn,
            Event::CheckInUndone { .. } => EventKind::CheckInUndone,
            Event::CheckInRequested { .. } => EventKind::CheckInRequested,
            Event::CheckInDeclined { .. } => EventKind::CheckInDeclined,
            Event::QuestionSubmitted { .. } => EventKind::QuestionSubmitted,
            Event::QuestionApproved { .. } => EventKind::QuestionApproved,
            Event::QuestionRejected { .. } => EventKind::QuestionRejected,
            Event::QuestionMerged { .. } => EventKind::QuestionMerged,
            Event::QuestionEdited { .. } => EventKind::QuestionEdited,
            Event::QuestionQueued { .. } => EventKind::QuestionQueued,
            Event::QueueReordered { .. } => EventKind::QueueReordered,
            Event::QuestionSeconded { .. } => EventKind::QuestionSeconded,
            Event::FloorRequested { .. } => EventKind::FloorRequested,
            Event::FloorGranted { .. } => EventKind::FloorGranted,
            Event::CountdownStarted { .. } => EventKind::CountdownStarted,
            Event::CountdownPaused { .. } => EventKind::CountdownPaused,
            Event::CountdownResumed { .. } => EventKind::CountdownResumed,
            Event::CountdownExtended { .. } => EventKind::CountdownExtended,
            Event::FollowUpAdded { .. } => EventKind::FollowUpAdded,
            Event::AnswerRecorded { .. } => EventKind::AnswerRecorded,
            Event::FloorEnded { .. } => EventKind::FloorEnded,
            Event::EvaluationOpened { .. } => EventKind::EvaluationOpened,
            Event::BallotCast { .. } => EventKind::BallotCast,
            Event::EvaluationClosed { .. } => EventKind::EvaluationClosed,
            Event::Assignment(a) => match a {
                AssignmentEvent::Drafted { .. } => EventKind::ItemDrafted,
                AssignmentEvent::DraftEdited { .. } => EventKind::ItemDraftEdited,
                AssignmentEvent::DraftsMerged { .. } => EventKind::ItemDraftsMerged,
                AssignmentEvent::Moved { .. } => EventKind::ItemMoved,
                AssignmentEvent::NoteAdded { .. } => EventKind::ItemNoteAdded,
                AssignmentEvent::EvidenceAdded { .. } => EventKind::ItemEvidenceAdded,
                AssignmentEvent::EvidencePublished { .. } => EventKind::ItemEvidencePublished,
                AssignmentEvent::ExtensionRequested { .. } => EventKind::ItemExtensionRequested,
                AssignmentEvent::ExtensionDecided { .. } => EventKind::ItemExtensionDecided,
                AssignmentEvent::Rated { .. } => EventKind::ItemRated,
            },
            Event::Announcement(a) => match a {
                crate::announce::AnnouncementEvent::Made { .. } => EventKind::AnnouncementMade,
                crate::announce::AnnouncementEvent::Cleared { .. } => EventKind::AnnouncementCleared,
                crate::announce::AnnouncementEvent::Seen { .. } => EventKind::AnnouncementSeen,
            },
        }
    }

    pub fn at(&self) -> Millis {
        match self {
            Event::PhaseChanged { at, .. }
            | Event::DelegatesImported { at, .. }
            | Event::CheckedIn { at, .. }
            | Event::CheckInUndone { at, .. }
            | Event::CheckInRequested { at, .. }
            | Event::CheckInDeclined { at, .. }
            | Event::QuestionSubmitted { at, .. }
            | Event::QuestionApproved { at, .. }
            | Event::QuestionRejected { at, .. }
            | Event::QuestionMerged { at, .. }
            | Event::QuestionEdited { at, .. }
            | Event::QuestionQueued { at, .. }
            | Event::QueueReordered { at, .. }
            | Event::QuestionSeconded { at, .. }
            | Event::FloorRequested { at, .. }
            | Event::FloorGranted { at, .. }
            | Event::CountdownStarted { at, .. }
            | Event::CountdownPaused { at, .. }
            | Event::CountdownResumed { at }
            | Event::CountdownExtended { at, .. }
            | Event::FollowUpAdded { at, .. }
            | Event::AnswerRecorded { at, .. }
            | Event::FloorEnded { at }
            | Event::EvaluationOpened { at, .. }
            | Event::BallotCast { at, .. }
            | Event::EvaluationClosed { at, .. } => *at,
            Event::Assignment(a) => a.at(),
            Event::Announcement(a) => a.at(),
        }
    }
}

/// The new state of one entity after an event, for rendering to viewers.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Phase(Phase),
    /// Delegates added to the roster.
    Roster(Vec<Delegate>),
    CheckIn {
        delegate: DelegateId,
        venue: VenueId,
        at: Millis,
    },
    /// A check-in taken back, with the reason.
    CheckInUndone {
        delegate: DelegateId,
        venue: VenueId,
        reason: String,
    },
    /// A delegate's pending check-in request (policy `Confirmed`). A
    /// `CheckIn` of the same delegate settles it.
    CheckInRequested {
        delegate: DelegateId,
        venue: VenueId,
        at: Millis,
    },
    /// A check-in request declined, with the reason if one was given.
    CheckInDeclined {
        delegate: DelegateId,
        venue: VenueId,
        reason: Option<String>,
    },
    /// Public presence count of a venue.
    Presence {
        venue: VenueId,
        present: u32,
        roster: u32,
    },
    Question(Box<Question>),
    Queue(Vec<QuestionId>),
    FloorRequests(Vec<FloorRequest>),
    Floor(Option<Floor>),
    /// The evaluation's header; its results are attached once closed.
    Evaluation(Box<Evaluation>),
    /// One accepted ballot (secret: only its caster and the auditor see it).
    Ballot(Ballot),
    /// The new state of an assignment item (its ratings are secret: the
    /// protocol renders counts, and each rater's own choice to that rater).
    Item(Box<Item>),
    /// The assignment board's figures after the change, as of the event's
    /// date in the session's time zone (derived, never stored).
    Board {
        board: Box<Dashboard>,
        today: CalendarDate,
    },
    /// An announcement's new state.
    Announcement(Box<crate::announce::Announcement>),
}
