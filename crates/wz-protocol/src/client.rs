//! Messages from clients.
//!
//! Every client message is a JSON object with a `type`, a client-chosen `id`
//! (1–64 characters, unique per credential; a retry reuses it) and the
//! command's fields. The server answers each with exactly one `ack` or `error`
//! carrying the same id. Identity is never part of a message: it comes from
//! the credential the connection was opened with.

use crate::codes::ErrorCode;
use crate::dto::{CommitmentDto, Phase, Rating};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use wz_domain as d;
use wz_domain::announce::{AnnouncementCommand, AnnouncementId};
use wz_domain::assignment as a;

/// Longest accepted command id.
pub const MAX_ID_LEN: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClientMessage {
    pub id: String,
    #[serde(flatten)]
    pub command: CommandDto,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommandDto {
    /// Application-level heartbeat (browsers cannot send WebSocket pings); acked at once.
    Ping,
    AdvancePhase {
        to: Phase,
    },
    CheckIn {
        delegate: String,
    },
    /// Moderator or the delegate's venue operator, before the evaluation: take a check-in back.
    UndoCheckIn {
        delegate: String,
        reason: String,
    },
    /// A delegate, under the check-in policy `confirmed`: ask the venue's
    /// operator to check me in (again while pending: acknowledged, no change).
    RequestCheckIn,
    /// Moderator or the delegate's venue operator: decline a pending request.
    DeclineCheckIn {
        delegate: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
    },
    SubmitQuestion {
        /// Required for a venue operator; a delegate may omit it or name themself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        on_behalf_of: Option<String>,
        topic: String,
        unit: String,
        text: String,
    },
    ApproveQuestion {
        question: u32,
    },
    RejectQuestion {
        question: u32,
        reason: String,
    },
    MergeQuestion {
        question: u32,
        into: u32,
    },
    EditQuestion {
        question: u32,
        text: String,
    },
    QueueQuestion {
        question: u32,
    },
    ReorderQueue {
        order: Vec<u32>,
    },
    SecondQuestion {
        question: u32,
    },
    RequestFloor {
        question: u32,
    },
    GrantFloor {
        venue: String,
        question: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        answer_seconds: Option<u32>,
    },
    StartCountdown {
        seconds: u32,
    },
    /// Moderator: stop the countdown where it is.
    PauseCountdown,
    /// Moderator: run it again from the seconds that were left.
    ResumeCountdown,
    /// Moderator: `seconds` more for the speaker.
    ExtendCountdown {
        seconds: u32,
    },
    AddFollowUp {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        on_behalf_of: Option<String>,
        text: String,
    },
    RecordAnswer {
        /// Absent: the answer to the question on the floor; present: to that follow-up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        follow_up: Option<u32>,
        unit: String,
        official: String,
        summary: String,
        #[serde(default)]
        commitments: Vec<CommitmentDto>,
    },
    EndFloor,
    OpenEvaluation {
        units: Vec<String>,
    },
    CastBallot {
        ballot_id: String,
        evaluation: u32,
        unit: String,
        rating: Rating,
    },
    CloseEvaluation {
        evaluation: u32,
    },
    // ---- the assignment list (after the session) -------------------------
    /// Office: draft the list from the session now (closing does it too).
    DraftAssignments,
    /// Office: a draft of its own, not from the floor (no askers).
    DraftItem {
        lead: String,
        requirement: String,
        /// `YYYY-MM-DD`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        deadline: Option<String>,
    },
    /// Office: set a draft's units, requirement, deadline and priority.
    EditDraft {
        item: u32,
        lead: String,
        #[serde(default)]
        co_units: Vec<String>,
        requirement: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        deadline: Option<String>,
        #[serde(default)]
        priority: crate::assignment::Priority,
    },
    /// Office: fold draft `from` into draft `into`.
    MergeDrafts {
        into: u32,
        from: u32,
    },
    /// Office: 交办 (numbered, visible to its units).
    IssueItem {
        item: u32,
    },
    /// Lead unit: 办理中.
    StartHandling {
        item: u32,
    },
    /// Lead unit: the written reply (已答复).
    ReplyItem {
        item: u32,
        text: String,
    },
    /// Lead unit: what was rectified (已整改).
    RectifyItem {
        item: u32,
        text: String,
    },
    /// Lead or co-handling unit: a dated progress note.
    AddNote {
        item: u32,
        text: String,
    },
    /// Office: 退回 to handling, with the reason.
    ReturnItem {
        item: u32,
        reason: String,
    },
    /// Office: show (or hide) a file on the public progress page.
    PublishEvidence {
        item: u32,
        file: String,
        public: bool,
    },
    /// Lead unit: 申请延期 to a later date.
    RequestExtension {
        item: u32,
        until: String,
        reason: String,
    },
    /// Office: grant or refuse the waiting extension (refusing needs an answer).
    DecideExtension {
        item: u32,
        grant: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        answer: Option<String>,
    },
    /// Office: 办结.
    CloseItem {
        item: u32,
    },
    /// An asker (or their venue operator, naming them): 跟踪测评, once.
    RateItem {
        item: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        on_behalf_of: Option<String>,
        rating: Rating,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        comment: Option<String>,
        /// With `dissatisfied` only: ask the office, openly, to have it handled again.
        #[serde(default)]
        rehandle: bool,
    },
    // ---- announcements (会场通知) -------------------------------------------
    /// Moderator: an announcement to every venue and screen (`venues` left
    /// out or empty) or to the venues listed.
    Announce {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[ts(as = "Option<Vec<String>>", optional)]
        venues: Vec<String>,
    },
    /// Moderator: takes an announcement off every screen.
    ClearAnnouncement {
        announcement: u32,
    },
    /// An addressed venue's operator page: the announcement is on screen.
    AnnouncementSeen {
        announcement: u32,
    },
}

/// Why a client message was refused before reaching the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The message's id when it could be read.
    pub id: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientMessage, ProtocolError> {
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) if m.id.is_empty() || m.id.chars().count() > MAX_ID_LEN => {
            Err(ProtocolError { id: None, code: ErrorCode::BadMessage, message: format!("id must be 1-{MAX_ID_LEN} characters") })
        }
        Ok(m) => Ok(m),
        Err(e) => {
            // Recover the id if we can, so the client can match the error to its command.
            #[derive(Deserialize)]
            struct Envelope {
                id: Option<String>,
            }
            let id = serde_json::from_str::<Envelope>(text)
                .ok()
                .and_then(|e| e.id)
                .filter(|id| !id.is_empty() && id.chars().count() <= MAX_ID_LEN);
            Err(ProtocolError { id, code: ErrorCode::BadMessage, message: e.to_string() })
        }
    }
}

/// What a parsed command means.
pub enum Parsed {
    Ping,
    Command(d::Command),
}

impl CommandDto {
    /// The command's `type` as on the wire (`cast_ballot`), for metrics:
    /// named, not serialised (it is counted for every command; every
    /// documented example checks it against serde's tag, tests/protocol_doc.rs).
    pub fn type_name(&self) -> &'static str {
        use CommandDto as C;
        match self {
            C::Ping => "ping",
            C::AdvancePhase { .. } => "advance_phase",
            C::CheckIn { .. } => "check_in",
            C::UndoCheckIn { .. } => "undo_check_in",
            C::RequestCheckIn => "request_check_in",
            C::DeclineCheckIn { .. } => "decline_check_in",
            C::SubmitQuestion { .. } => "submit_question",
            C::ApproveQuestion { .. } => "approve_question",
            C::RejectQuestion { .. } => "reject_question",
            C::MergeQuestion { .. } => "merge_question",
            C::EditQuestion { .. } => "edit_question",
            C::QueueQuestion { .. } => "queue_question",
            C::ReorderQueue { .. } => "reorder_queue",
            C::SecondQuestion { .. } => "second_question",
            C::RequestFloor { .. } => "request_floor",
            C::GrantFloor { .. } => "grant_floor",
            C::StartCountdown { .. } => "start_countdown",
            C::PauseCountdown => "pause_countdown",
            C::ResumeCountdown => "resume_countdown",
            C::ExtendCountdown { .. } => "extend_countdown",
            C::AddFollowUp { .. } => "add_follow_up",
            C::RecordAnswer { .. } => "record_answer",
            C::EndFloor => "end_floor",
            C::OpenEvaluation { .. } => "open_evaluation",
            C::CastBallot { .. } => "cast_ballot",
            C::CloseEvaluation { .. } => "close_evaluation",
            C::DraftAssignments => "draft_assignments",
            C::DraftItem { .. } => "draft_item",
            C::EditDraft { .. } => "edit_draft",
            C::MergeDrafts { .. } => "merge_drafts",
            C::IssueItem { .. } => "issue_item",
            C::StartHandling { .. } => "start_handling",
            C::ReplyItem { .. } => "reply_item",
            C::RectifyItem { .. } => "rectify_item",
            C::AddNote { .. } => "add_note",
            C::ReturnItem { .. } => "return_item",
            C::PublishEvidence { .. } => "publish_evidence",
            C::RequestExtension { .. } => "request_extension",
            C::DecideExtension { .. } => "decide_extension",
            C::CloseItem { .. } => "close_item",
            C::RateItem { .. } => "rate_item",
            C::Announce { .. } => "announce",
            C::ClearAnnouncement { .. } => "clear_announcement",
            C::AnnouncementSeen { .. } => "announcement_seen",
        }
    }

    /// Converts to a domain command. Fails with `invalid` for content the wire
    /// shape allows but the domain cannot represent (e.g. an impossible date).
    pub fn into_domain(self) -> Result<Parsed, (ErrorCode, String)> {
        use d::Command as C;
        let q = d::QuestionId;
        Ok(Parsed::Command(match self {
            CommandDto::Ping => return Ok(Parsed::Ping),
            CommandDto::AdvancePhase { to } => C::AdvancePhase { to: to.into() },
            CommandDto::CheckIn { delegate } => C::CheckIn { delegate: d::DelegateId(delegate) },
            CommandDto::UndoCheckIn { delegate, reason } => C::UndoCheckIn { delegate: d::DelegateId(delegate), reason },
            CommandDto::RequestCheckIn => C::RequestCheckIn,
            CommandDto::DeclineCheckIn { delegate, reason } => C::DeclineCheckIn { delegate: d::DelegateId(delegate), reason },
            CommandDto::SubmitQuestion { on_behalf_of, topic, unit, text } => {
                C::SubmitQuestion { on_behalf_of: on_behalf_of.map(d::DelegateId), topic: d::TopicId(topic), unit: d::UnitId(unit), text }
            }
            CommandDto::ApproveQuestion { question } => C::ApproveQuestion { question: q(question) },
            CommandDto::RejectQuestion { question, reason } => C::RejectQuestion { question: q(question), reason },
            CommandDto::MergeQuestion { question, into } => C::MergeQuestion { question: q(question), into: q(into) },
            CommandDto::EditQuestion { question, text } => C::EditQuestion { question: q(question), text },
            CommandDto::QueueQuestion { question } => C::QueueQuestion { question: q(question) },
            CommandDto::ReorderQueue { order } => C::ReorderQueue { order: order.into_iter().map(q).collect() },
            CommandDto::SecondQuestion { question } => C::SecondQuestion { question: q(question) },
            CommandDto::RequestFloor { question } => C::RequestFloor { question: q(question) },
            CommandDto::GrantFloor { venue, question, answer_seconds } => {
                C::GrantFloor { venue: d::VenueId(venue), question: q(question), answer_seconds }
            }
            CommandDto::StartCountdown { seconds } => C::StartCountdown { seconds },
            CommandDto::PauseCountdown => C::PauseCountdown,
            CommandDto::ResumeCountdown => C::ResumeCountdown,
            CommandDto::ExtendCountdown { seconds } => C::ExtendCountdown { seconds },
            CommandDto::AddFollowUp { on_behalf_of, text } => C::AddFollowUp { on_behalf_of: on_behalf_of.map(d::DelegateId), text },
            CommandDto::RecordAnswer { follow_up, unit, official, summary, commitments } => C::RecordAnswer {
                follow_up: follow_up.map(d::FollowUpId),
                unit: d::UnitId(unit),
                official,
                summary,
                commitments: commitments
                    .into_iter()
                    .map(|c| {
                        let due = d::CalendarDate::parse(&c.due)
                            .ok_or_else(|| (ErrorCode::Invalid, format!("due {:?} is not a date YYYY-MM-DD", c.due)))?;
                        Ok(d::CommitmentDraft { what: c.what, unit: d::UnitId(c.unit), due })
                    })
                    .collect::<Result<_, (ErrorCode, String)>>()?,
            },
            CommandDto::EndFloor => C::EndFloor,
            CommandDto::OpenEvaluation { units } => C::OpenEvaluation { units: units.into_iter().map(d::UnitId).collect() },
            CommandDto::CastBallot { ballot_id, evaluation, unit, rating } => C::CastBallot {
                ballot_id: d::BallotId(ballot_id),
                evaluation: d::EvaluationId(evaluation),
                unit: d::UnitId(unit),
                rating: rating.into(),
            },
            CommandDto::CloseEvaluation { evaluation } => C::CloseEvaluation { evaluation: d::EvaluationId(evaluation) },
            CommandDto::DraftAssignments => C::DraftAssignments,
            CommandDto::Announce { text, venues } => {
                C::Announcement(AnnouncementCommand::Make { text, venues: venues.into_iter().map(d::VenueId).collect() })
            }
            CommandDto::ClearAnnouncement { announcement } => {
                C::Announcement(AnnouncementCommand::Clear { announcement: AnnouncementId(announcement) })
            }
            CommandDto::AnnouncementSeen { announcement } => {
                C::Announcement(AnnouncementCommand::Seen { announcement: AnnouncementId(announcement) })
            }
            other => C::Assignment(other.into_assignment()?),
        }))
    }

    fn into_assignment(self) -> Result<a::AssignmentCommand, (ErrorCode, String)> {
        use a::AssignmentCommand as A;
        let i = a::ItemId;
        Ok(match self {
            CommandDto::DraftItem { lead, requirement, deadline } => A::Draft(a::DraftSpec {
                sources: Vec::new(),
                askers: Vec::new(),
                lead: d::UnitId(lead),
                requirement,
                deadline: deadline.as_deref().map(|x| date("deadline", x)).transpose()?,
            }),
            CommandDto::EditDraft { item, lead, co_units, requirement, deadline, priority } => A::EditDraft {
                item: i(item),
                edit: a::DraftEdit {
                    lead: d::UnitId(lead),
                    co_units: co_units.into_iter().map(d::UnitId).collect(),
                    requirement,
                    deadline: deadline.as_deref().map(|x| date("deadline", x)).transpose()?,
                    priority: priority.into(),
                },
            },
            CommandDto::MergeDrafts { into, from } => A::MergeDrafts { into: i(into), from: i(from) },
            CommandDto::IssueItem { item } => A::Issue { item: i(item) },
            CommandDto::StartHandling { item } => A::StartHandling { item: i(item) },
            CommandDto::ReplyItem { item, text } => A::Reply { item: i(item), text },
            CommandDto::RectifyItem { item, text } => A::Rectify { item: i(item), text },
            CommandDto::AddNote { item, text } => A::AddNote { item: i(item), text },
            CommandDto::ReturnItem { item, reason } => A::Return { item: i(item), reason },
            CommandDto::PublishEvidence { item, file, public } => A::PublishEvidence { item: i(item), id: file, public },
            CommandDto::RequestExtension { item, until, reason } => {
                A::RequestExtension { item: i(item), until: date("until", &until)?, reason }
            }
            CommandDto::DecideExtension { item, grant, answer } => A::DecideExtension { item: i(item), grant, answer },
            CommandDto::CloseItem { item } => A::Close { item: i(item) },
            CommandDto::RateItem { item, on_behalf_of, rating, comment, rehandle } => {
                A::Rate { item: i(item), on_behalf_of: on_behalf_of.map(d::DelegateId), rating: rating.into(), comment, rehandle }
            }
            _ => unreachable!("live commands are converted by into_domain"),
        })
    }
}

fn date(field: &str, s: &str) -> Result<d::CalendarDate, (ErrorCode, String)> {
    d::CalendarDate::parse(s).ok_or_else(|| (ErrorCode::Invalid, format!("{field} {s:?} is not a date YYYY-MM-DD")))
}
